/*
 * squad_features.h - cutting a question and a context into model windows
 * the way Google BERT's run_squad.py does (convert_examples_to_features):
 *
 *     [CLS] question [SEP] chunk [SEP]
 *
 * or in the model's own pair template (RoBERTa: <s> q </s></s> chunk </s>).
 * Consecutive chunks overlap; each context token is "owned" by the one
 * window in which it has the most context on both sides, and only that
 * window may start an answer on it.
 */
#ifndef BQ_SQUAD_FEATURES_H
#define BQ_SQUAD_FEATURES_H

#include <stdint.h>

#include "bq_error.h"
#include "qa.h"
#include "tokenizer.h"

/* A chunk of the context: context tokens [start, start + length). */
typedef struct BqDocSpan
{
	int32_t		start;
	int32_t		length;
} BqDocSpan;

/*
 * The windows of one question over one context.  Window w holds the kept
 * question tokens, then context tokens spans[w].start .. + spans[w].length.
 */
typedef struct BqSquadFeatures
{
	const BqToken *question;	/* [n_question] kept question tokens (borrowed) */
	int32_t		n_question;
	const BqToken *context;		/* [n_context] context tokens (borrowed) */
	int32_t		n_context;
	BqPairTemplate pair;		/* the special tokens around them */
	BqDocSpan  *spans;			/* [n_windows] the chunk of each window */
	int32_t		n_windows;
	int32_t    *owner;			/* [n_context] window giving each token most context */
} BqSquadFeatures;

/*
 * Chunk 'n_context' tokens into spans of at most 'max_tokens_for_doc' whose
 * starts advance by 'doc_stride' (less when a span is shorter); the last
 * span reaches the end.  No tokens, no spans.  *spans is malloc'd.
 */
int			bq_squad_doc_spans(int32_t n_context, int32_t max_tokens_for_doc,
							   int32_t doc_stride, BqDocSpan **spans,
							   int32_t *n_spans, BqError *err);

/*
 * For each of 'n_context' tokens, the index of the span in which the token
 * scores highest on min(left context, right context) + 0.01 * span length
 * (the first such span on ties).  Every token must be in some span.
 */
int			bq_squad_max_context_owners(const BqDocSpan *spans, int32_t n_spans,
										int32_t n_context, int32_t *owner,
										BqError *err);

/*
 * Build the windows for 'question' and 'context' tokens under 'settings'
 * (already checked).  The question is cut to max_query_len tokens; fails
 * with BQ_ERR_INPUT when max_seq_len leaves no room for the context.  The
 * token arrays are borrowed and must outlive 'features'.
 */
int			bq_squad_features_build(BqSquadFeatures *features,
									const BqToken *question, size_t n_question,
									const BqToken *context, size_t n_context,
									const BqPairTemplate *pair,
									const BqQaSettings *settings, BqError *err);

void		bq_squad_features_free(BqSquadFeatures *features);

/* Tokens in window 'w', the template's special tokens included. */
int32_t		bq_squad_window_length(const BqSquadFeatures *features, int32_t w);

/* Position of the chunk's first token inside every window. */
int32_t		bq_squad_chunk_offset(const BqSquadFeatures *features);

/*
 * Write window w's token ids and token type ids (bq_squad_window_length
 * entries each).
 */
void		bq_squad_window_fill(const BqSquadFeatures *features, int32_t w,
								 int32_t *input_ids, int32_t *token_type_ids);

#endif							/* BQ_SQUAD_FEATURES_H */
