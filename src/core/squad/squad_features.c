/*
 * squad_features.c - windows over a long context, as Google BERT's
 * run_squad.py builds them, so that the same logits lead to the same
 * answers.
 */
#include "squad_features.h"

#include <stdlib.h>
#include <string.h>

/*
 * The reference's walk over the context: a span as long as allowed, stop
 * once one reaches the end, else step by the stride (or by the span's
 * length, if shorter).  Writes the spans when 'out' is given; returns how
 * many there are.  Every step advances, so the count fits in int32.
 */
static int32_t
walk_spans(int32_t n_context, int32_t max_tokens_for_doc, int32_t doc_stride,
		   BqDocSpan *out)
{
	int32_t		count = 0;
	int32_t		start = 0;

	while (start < n_context)
	{
		int32_t		length = n_context - start;

		if (length > max_tokens_for_doc)
			length = max_tokens_for_doc;
		if (out != NULL)
		{
			out[count].start = start;
			out[count].length = length;
		}
		count++;
		if (length == n_context - start)
			break;
		start += length < doc_stride ? length : doc_stride;
	}
	return count;
}

/*
 * Count the spans first so that one exact allocation holds them.
 */
int
bq_squad_doc_spans(int32_t n_context, int32_t max_tokens_for_doc,
				   int32_t doc_stride, BqDocSpan **spans, int32_t *n_spans,
				   BqError *err)
{
	int32_t		count;
	BqDocSpan  *out;

	*spans = NULL;
	*n_spans = 0;
	if (max_tokens_for_doc < 1 || doc_stride < 1 || n_context < 0)
		return bq_fail(err, BQ_ERR_INPUT,
					   "invalid chunking: %d context tokens, %d tokens per chunk, stride %d",
					   n_context, max_tokens_for_doc, doc_stride);
	count = walk_spans(n_context, max_tokens_for_doc, doc_stride, NULL);
	if (count == 0)
		return BQ_OK;
	out = malloc(sizeof(BqDocSpan) * (size_t) count);
	if (out == NULL)
		return bq_fail(err, BQ_ERR_NOMEM,
					   "out of memory for %d context windows", count);
	walk_spans(n_context, max_tokens_for_doc, doc_stride, out);
	*spans = out;
	*n_spans = count;
	return BQ_OK;
}

/*
 * Spans come in order of their starts, so visiting them in order and
 * replacing an owner only on a strictly better score keeps the first span
 * among equals, as the reference's scan does.  The scores are computed in
 * double exactly as the reference computes them, so ties break alike.
 */
int
bq_squad_max_context_owners(const BqDocSpan *spans, int32_t n_spans,
							int32_t n_context, int32_t *owner, BqError *err)
{
	double	   *best;

	if (n_context == 0)
		return BQ_OK;
	best = malloc(sizeof(double) * (size_t) n_context);
	if (best == NULL)
		return bq_fail(err, BQ_ERR_NOMEM,
					   "out of memory for %d context tokens", n_context);
	for (int32_t i = 0; i < n_context; i++)
		owner[i] = -1;

	for (int32_t s = 0; s < n_spans; s++)
	{
		int32_t		first = spans[s].start;
		int32_t		last = spans[s].start + spans[s].length - 1;

		for (int32_t pos = first; pos <= last; pos++)
		{
			int32_t		left = pos - first;
			int32_t		right = last - pos;
			double		score = (left < right ? left : right) + 0.01 * spans[s].length;

			if (owner[pos] < 0 || score > best[pos])
			{
				owner[pos] = s;
				best[pos] = score;
			}
		}
	}
	free(best);

	for (int32_t i = 0; i < n_context; i++)
	{
		if (owner[i] < 0)
			return bq_fail(err, BQ_ERR_INPUT,
						   "context token %d is in no window", i);
	}
	return BQ_OK;
}

/*
 * The question is cut before the chunk size is derived from it, as in the
 * reference; a setting that leaves no room for even one context token is
 * the caller's to fix, so the error names the settings involved.
 */
int
bq_squad_features_build(BqSquadFeatures *features,
						const BqToken *question, size_t n_question,
						const BqToken *context, size_t n_context,
						const BqPairTemplate *pair,
						const BqQaSettings *settings, BqError *err)
{
	int32_t		kept;
	int32_t		specials = 2 + pair->separators;
	int32_t		max_tokens_for_doc;
	int			status;

	memset(features, 0, sizeof(*features));
	if (n_context > INT32_MAX)
		return bq_fail(err, BQ_ERR_INPUT,
					   "context has too many tokens (%zu)", n_context);
	kept = n_question > (size_t) settings->max_query_len ?
		settings->max_query_len : (int32_t) n_question;
	max_tokens_for_doc = settings->max_seq_len - kept - specials;
	if (max_tokens_for_doc < 1)
	{
		bq_fail(err, BQ_ERR_INPUT,
				"max_seq_len %d leaves no room for the context after a question of %d tokens",
				settings->max_seq_len, kept);
		bq_fail_detail(err, "A window holds %s: raise max_seq_len to at least %d or lower max_query_len.",
					   pair->separators == 1 ?
					   "[CLS], the question, [SEP], at least one context token and [SEP]" :
					   "<s>, the question, </s></s>, at least one context token and </s>",
					   kept + specials + 1);
		return BQ_ERR_INPUT;
	}

	features->question = question;
	features->n_question = kept;
	features->context = context;
	features->n_context = (int32_t) n_context;
	features->pair = *pair;

	status = bq_squad_doc_spans(features->n_context, max_tokens_for_doc,
								settings->doc_stride, &features->spans,
								&features->n_windows, err);
	if (status != BQ_OK)
		return status;
	if (n_context > 0)
	{
		features->owner = malloc(sizeof(int32_t) * n_context);
		if (features->owner == NULL)
		{
			bq_squad_features_free(features);
			return bq_fail(err, BQ_ERR_NOMEM,
						   "out of memory for %zu context tokens", n_context);
		}
		status = bq_squad_max_context_owners(features->spans, features->n_windows,
											 features->n_context, features->owner,
											 err);
		if (status != BQ_OK)
		{
			bq_squad_features_free(features);
			return status;
		}
	}
	return BQ_OK;
}

void
bq_squad_features_free(BqSquadFeatures *features)
{
	free(features->spans);
	free(features->owner);
	features->spans = NULL;
	features->owner = NULL;
	features->n_windows = 0;
}

int32_t
bq_squad_window_length(const BqSquadFeatures *features, int32_t w)
{
	return features->n_question + 2 + features->pair.separators + features->spans[w].length;
}

int32_t
bq_squad_chunk_offset(const BqSquadFeatures *features)
{
	return features->n_question + 1 + features->pair.separators;
}

/*
 * Segment A is [CLS], the question and its [SEP]s; segment B the chunk and
 * the final [SEP], of the template's context type.
 */
void
bq_squad_window_fill(const BqSquadFeatures *features, int32_t w,
					 int32_t *input_ids, int32_t *token_type_ids)
{
	const BqDocSpan *span = &features->spans[w];
	const BqPairTemplate *pair = &features->pair;
	int32_t		pos = 0;

	input_ids[pos] = pair->cls_id;
	token_type_ids[pos++] = 0;
	for (int32_t i = 0; i < features->n_question; i++)
	{
		input_ids[pos] = features->question[i].id;
		token_type_ids[pos++] = 0;
	}
	for (int32_t i = 0; i < pair->separators; i++)
	{
		input_ids[pos] = pair->sep_id;
		token_type_ids[pos++] = 0;
	}
	for (int32_t i = 0; i < span->length; i++)
	{
		input_ids[pos] = features->context[span->start + i].id;
		token_type_ids[pos++] = pair->context_type;
	}
	input_ids[pos] = pair->sep_id;
	token_type_ids[pos] = pair->context_type;
}
