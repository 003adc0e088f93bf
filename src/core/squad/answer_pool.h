/*
 * answer_pool.h - the best answer over many contexts, as if they were one
 * long document whose windows never cross a context's boundary: candidate
 * spans from every window of every context ranked by start + end logit,
 * the null score the smallest over all windows, then run_squad.py's
 * n-best walk, softmax and threshold over the merged list.  With one
 * context this is exactly bq_qa_answer's result.
 *
 * A pool keeps, per answer text, only its best span, and only the
 * n_best best texts: no other candidate can reach the final list, so
 * memory stays bounded however many contexts are added, and two pools
 * (answering different contexts) merge into the pool of all of them.
 * Candidates of equal score rank by their context's key, then by their
 * rank within the context, so the result does not depend on the order in
 * which contexts or pools arrive.
 */
#ifndef BQ_ANSWER_POOL_H
#define BQ_ANSWER_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"
#include "qa.h"

/* A span candidate of one context. */
typedef struct BqPoolSpan
{
	double		start_logit;
	double		end_logit;
	int64_t		key;			/* the context's key */
	int32_t		rank;			/* its place in the context's own list */
	int32_t		start_char;		/* code points into that context, [start, end) */
	int32_t		end_char;
	size_t		start_byte;		/* the same span in bytes of its UTF-8 */
	size_t		end_byte;
	char	   *text;			/* the answer (malloc'd, NUL-terminated) */
	size_t		text_len;
	char	   *dedup;			/* the text's bq_answer_key (malloc'd) */
	size_t		dedup_len;
} BqPoolSpan;

typedef struct BqAnswerPool
{
	int32_t		n_best;			/* the settings' n_best: texts kept */
	int64_t		contexts;		/* contexts added */
	BqPoolSpan *spans;			/* [count], best first, one per text */
	size_t		count;
	bool		has_null;		/* some context had a window */
	double		null_start_logit;	/* of the smallest null score so far */
	double		null_end_logit;
	int64_t		null_key;		/* the context it came from */
} BqAnswerPool;

/* One entry of the final list. */
typedef struct BqPoolAnswer
{
	bool		is_null;		/* the "no answer" entry */
	int64_t		key;			/* the context of the span (of the null score for it) */
	int32_t		start_char;
	int32_t		end_char;
	size_t		start_byte;
	size_t		end_byte;
	const char *text;			/* borrowed from the pool; NULL for the null entry */
	size_t		text_len;
	double		probability;	/* softmax over the list */
	double		start_logit;
	double		end_logit;
} BqPoolAnswer;

typedef struct BqPoolResult
{
	BqPoolAnswer *nbest;		/* [count], best first (malloc'd) */
	size_t		count;
	int			answer;			/* index of the decided answer; -1 with no contexts */
	double		null_score_diff;	/* null score - best span's; 0 without a span */
} BqPoolResult;

/* An empty pool keeping 'n_best' texts (1 or more). */
void		bq_answer_pool_init(BqAnswerPool *pool, int32_t n_best);
void		bq_answer_pool_free(BqAnswerPool *pool);

/*
 * Offer a context's span; takes 'span->text' and 'span->dedup' either way
 * (kept or freed).  Spans of one context must come best first with ranks
 * 0, 1, ... as its own n-best walk lists them.
 */
int			bq_answer_pool_add_span(BqAnswerPool *pool, BqPoolSpan *span, BqError *err);

/* Offer a context's null score: the logits of its window with the smallest. */
void		bq_answer_pool_add_null(BqAnswerPool *pool, int64_t key, double start_logit,
									double end_logit);

/* Move everything of 'from' into 'into' (same n_best); 'from' is left empty. */
int			bq_answer_pool_merge(BqAnswerPool *into, BqAnswerPool *from, BqError *err);

/*
 * The merged list and decision under 'settings' (allow_no_answer,
 * null_threshold; n_best is the pool's).  The texts are borrowed from the
 * pool, which must outlive the result.  With nothing added, count 0 and
 * answer -1.
 */
int			bq_answer_pool_finish(const BqAnswerPool *pool, const BqQaSettings *settings,
								  BqPoolResult *result, BqError *err);
void		bq_pool_result_free(BqPoolResult *result);

/*
 * The pool as bytes (for a parallel aggregate's partial states), and back;
 * a malformed buffer is BQ_ERR_FORMAT.  *out is malloc'd.
 */
int			bq_answer_pool_serialize(const BqAnswerPool *pool, char **out, size_t *len,
									 BqError *err);
int			bq_answer_pool_deserialize(BqAnswerPool *pool, const char *data, size_t len,
									   BqError *err);

#endif							/* BQ_ANSWER_POOL_H */
