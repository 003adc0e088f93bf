/*
 * qa.h - extractive question answering, one question over one context or
 * over many: windows, encoder, and SQuAD v2.0 post-processing (the algorithm of Google
 * BERT's run_squad.py, which NVIDIA NeMo's QA models use).
 */
#ifndef BQ_QA_H
#define BQ_QA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"
#include "encoder.h"
#include "model.h"

typedef struct BqQaSettings
{
	int			max_seq_len;	/* tokens per window, [CLS] and [SEP]s included */
	int			doc_stride;		/* step between the starts of consecutive chunks */
	int			max_query_len;	/* question tokens kept */
	int			max_answer_len; /* longest span, in tokens */
	int			n_best;			/* candidates per side and n-best list length */
	double		null_threshold; /* no answer when null - best span > this */
	bool		allow_no_answer;	/* false: always a span, as a SQuAD v1.1 model
									 * (run_squad.py without version_2_with_negative) */
} BqQaSettings;

/*
 * max_seq_len 384, doc_stride 128, max_query_len 64, max_answer_len 30,
 * n_best 20, null_threshold 0.0, allow_no_answer true
 */
void		bq_qa_default_settings(BqQaSettings *settings);

/* Settings a caller chose explicitly, for bq_qa_apply_model_defaults. */
#define BQ_QA_SET_MAX_SEQ_LEN		(1u << 0)
#define BQ_QA_SET_DOC_STRIDE		(1u << 1)
#define BQ_QA_SET_MAX_QUERY_LEN		(1u << 2)
#define BQ_QA_SET_MAX_ANSWER_LEN	(1u << 3)
#define BQ_QA_SET_N_BEST			(1u << 4)
#define BQ_QA_SET_NULL_THRESHOLD	(1u << 5)
#define BQ_QA_SET_ALLOW_NO_ANSWER	(1u << 6)

/*
 * Replace each setting not named in 'chosen' (BQ_QA_SET_* bits) by the
 * value the checkpoint recommends, where it gives one (a NeMo archive's
 * dataset section): the model's own defaults beat the generic ones, an
 * explicit choice beats both.
 */
void		bq_qa_apply_model_defaults(BqQaSettings *settings, const BqQaDefaults *defaults,
									   unsigned chosen);

/* Check a settings record; BQ_ERR_INPUT naming the bad field. */
int			bq_qa_check_settings(const BqQaSettings *settings, BqError *err);

/* BQ_ERR_INPUT unless windows of 'max_seq_len' tokens fit the model's position table. */
int			bq_qa_check_window_fits(const BqConfig *config, int32_t max_seq_len, BqError *err);

/* One entry of the n-best list. */
typedef struct BqQaCandidate
{
	bool		is_null;		/* the "no answer" entry */
	int32_t		start_char;		/* code points into the context, [start, end) */
	int32_t		end_char;
	size_t		start_byte;		/* the same span in bytes of the UTF-8 context */
	size_t		end_byte;
	double		probability;	/* softmax over the n-best list's scores */
	float		start_logit;
	float		end_logit;
} BqQaCandidate;

typedef struct BqQaResult
{
	BqQaCandidate *nbest;		/* [count], best first; includes the null entry */
	size_t		count;
	int			answer;			/* index into nbest of the decided answer */
	double		null_score_diff; /* null score - best non-null span score; 0 when
								 * there is no non-null span (the answer is then
								 * the null entry whatever the threshold) */
} BqQaResult;

/*
 * Answer 'question' over 'context' (both UTF-8).  Fills 'result', which the
 * caller releases with bq_qa_result_free.
 */
int			bq_qa_answer(const BqModel *model, BqEncoder *enc,
						 const BqQaSettings *settings,
						 const char *question, size_t question_len,
						 const char *context, size_t context_len,
						 BqQaResult *result,
						 const BqInterrupt *intr, BqError *err);

/* answer_pool.h */
typedef struct BqAnswerPool BqAnswerPool;

/*
 * One question over many contexts, each context's candidates offered to
 * 'pool' under its key once all its windows have run.  Windows of
 * consecutive contexts go through the encoder together, eight at a time,
 * so that short contexts give the matrix products more rows; since a
 * window's logits do not depend on its batch, and the pool not on the
 * order contexts arrive in, the pool ends as if each context had been
 * answered alone.  Fewer than eight windows (and so contexts, each a copy)
 * wait between calls: memory stays bounded.
 */
typedef struct BqQaBatch BqQaBatch;

/* Check 'settings' (copied) against 'model' and tokenize 'question'. */
BqQaBatch  *bq_qa_batch_new(const BqModel *model, const BqQaSettings *settings,
							const char *question, size_t question_len,
							BqAnswerPool *pool, BqError *err);

/*
 * Add a context (copied), running every full batch of waiting windows.
 * 'model' must be the batch's; 'enc' may differ between calls.
 */
int			bq_qa_batch_add(BqQaBatch *batch, const BqModel *model, BqEncoder *enc,
							const char *context, size_t context_len, int64_t key,
							const BqInterrupt *intr, BqError *err);

/*
 * Run the windows still waiting: the pool then holds every context added.
 * After either call fails, the batch can only be freed.
 */
int			bq_qa_batch_flush(BqQaBatch *batch, BqEncoder *enc, const BqInterrupt *intr,
							  BqError *err);

void		bq_qa_batch_free(BqQaBatch *batch);

void		bq_qa_result_free(BqQaResult *result);

#endif							/* BQ_QA_H */
