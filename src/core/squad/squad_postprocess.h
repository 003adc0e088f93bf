/*
 * squad_postprocess.h - from the start/end logits of a question's windows to
 * an n-best list and a decision, as Google BERT's run_squad.py does in
 * SQuAD v2.0 mode (write_predictions): candidate spans per window, one null
 * ("no answer") entry, de-duplication by answer text, softmax, threshold.
 *
 * Windows are fed one at a time, so only candidates are kept, never the
 * logits of a whole long context.
 */
#ifndef BQ_SQUAD_POSTPROCESS_H
#define BQ_SQUAD_POSTPROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer_pool.h"
#include "bq_error.h"
#include "qa.h"
#include "squad_features.h"

/* A candidate span of context tokens before ranking. */
typedef struct BqQaPrelim
{
	double		start_logit;
	double		end_logit;
	int32_t		first_token;	/* context token index */
	int32_t		last_token;		/* inclusive */
	size_t		order;			/* arrival order: ties keep it */
} BqQaPrelim;

/* A logit and its position, for ranking one window's logits. */
typedef struct BqRankedLogit
{
	double		value;
	int32_t		index;
} BqRankedLogit;

typedef struct BqQaCollector
{
	const BqSquadFeatures *features;	/* borrowed */
	const BqQaSettings *settings;	/* borrowed */
	BqQaPrelim *prelim;			/* [count] candidates so far */
	size_t		count;
	size_t		capacity;
	int32_t		windows_seen;
	double		null_score;		/* smallest start[0] + end[0] over windows */
	double		null_start_logit;	/* that window's logits */
	double		null_end_logit;
	BqRankedLogit *ranked;		/* [max_seq_len] scratch */
	int32_t    *best_starts;	/* [n_best] scratch */
	int32_t    *best_ends;		/* [n_best] scratch */
} BqQaCollector;

int			bq_qa_collector_init(BqQaCollector *collector,
								 const BqSquadFeatures *features,
								 const BqQaSettings *settings, BqError *err);
void		bq_qa_collector_free(BqQaCollector *collector);

/*
 * Add window w's candidates; its logits have bq_squad_window_length
 * entries.  Windows must come in order 0, 1, ...
 */
int			bq_qa_collect_window(BqQaCollector *collector, int32_t w,
								 const double *start_logits,
								 const double *end_logits, BqError *err);

/*
 * Rank the candidates and decide: the answer pool's rule (answer_pool.h)
 * over this one context.  'context' is the text the features' context
 * tokens were cut from (its spans are the answers).  With no windows at
 * all (a context without tokens) the result is the null entry alone, with
 * probability 1, logits 0 and null_score_diff 0.
 */
int			bq_qa_collector_finish(BqQaCollector *collector,
								   const char *context, size_t context_len,
								   BqQaResult *result, BqError *err);

/*
 * Offer this context's candidates to 'pool' under 'key': its null score
 * and the spans its own n-best walk would list with no null entry among
 * them (the pool ranks the null entry over all contexts).
 */
int			bq_qa_collector_pool(BqQaCollector *collector, const char *context,
								 size_t context_len, int64_t key, BqAnswerPool *pool,
								 BqError *err);

/*
 * Sort 'n' logits by value, highest first, ties in index order (NaN last)
 * and keep the first 'k' indexes: run_squad.py's _get_best_indexes.
 * 'ranked' is scratch of n entries.
 */
void		bq_best_indexes(const double *logits, int32_t n, int32_t k,
							BqRankedLogit *ranked, int32_t *best);

/*
 * The key under which two answers count as the same: the text with runs of
 * the reference's whitespace (space, tab, CR, LF, U+202F) made one space,
 * since the reference rebuilds answers from whitespace-split words.
 * Returns a malloc'd NUL-terminated string (NULL when out of memory).
 */
char	   *bq_answer_key(const char *text, size_t len, size_t *key_len);

/*
 * Byte offset of code point 'target_cp' in UTF-8 'text', scanning forward
 * from byte 'byte', which is code point 'cp' (target_cp >= cp).  Stops at
 * 'len'.
 */
size_t		bq_utf8_advance(const char *text, size_t len, size_t byte,
							int64_t cp, int64_t target_cp);

#endif							/* BQ_SQUAD_POSTPROCESS_H */
