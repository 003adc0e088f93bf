/*
 * squad_postprocess.c - Google BERT run_squad.py's SQuAD v2.0 answer
 * selection over the logits of a question's windows: the candidate spans
 * of each window, ranked and de-duplicated into the context's own n-best
 * spans; answer_pool.c places the null entry, takes the softmax and
 * decides, for one context as for many.
 *
 * Scores are sums of logits in double, as in the reference (which turns the
 * model's float32 logits into Python floats), so rankings and ties come out
 * the same.  The one deliberate difference: an answer's text is the exact
 * slice of the context its tokens cover, not the reference's re-projection
 * onto whitespace-joined words; de-duplication uses a whitespace-collapsed
 * key so that it still merges what the reference merges.  As the
 * reference's words never do, the slice neither starts nor ends with white
 * space, which a SentencePiece piece ("▁the") covers.
 */
#include "squad_postprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

int
bq_qa_collector_init(BqQaCollector *collector, const BqSquadFeatures *features,
					 const BqQaSettings *settings, BqError *err)
{
	int32_t		k = settings->n_best < settings->max_seq_len ?
		settings->n_best : settings->max_seq_len;

	memset(collector, 0, sizeof(*collector));
	collector->features = features;
	collector->settings = settings;
	collector->ranked = malloc(sizeof(BqRankedLogit) * (size_t) settings->max_seq_len);
	collector->best_starts = malloc(sizeof(int32_t) * (size_t) k);
	collector->best_ends = malloc(sizeof(int32_t) * (size_t) k);
	if (collector->ranked == NULL || collector->best_starts == NULL ||
		collector->best_ends == NULL)
	{
		bq_qa_collector_free(collector);
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory for answer candidates");
	}
	return BQ_OK;
}

void
bq_qa_collector_free(BqQaCollector *collector)
{
	free(collector->prelim);
	free(collector->ranked);
	free(collector->best_starts);
	free(collector->best_ends);
	memset(collector, 0, sizeof(*collector));
}

/*
 * Higher value first, NaN after every number, then lower index first: a
 * total order, so qsort gives the result of a stable sort.
 */
static int
compare_ranked(const void *a, const void *b)
{
	const BqRankedLogit *x = a;
	const BqRankedLogit *y = b;
	bool		x_nan = isnan(x->value);
	bool		y_nan = isnan(y->value);

	if (x_nan != y_nan)
		return x_nan ? 1 : -1;
	if (!x_nan && x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

void
bq_best_indexes(const double *logits, int32_t n, int32_t k,
				BqRankedLogit *ranked, int32_t *best)
{
	for (int32_t i = 0; i < n; i++)
	{
		ranked[i].value = logits[i];
		ranked[i].index = i;
	}
	qsort(ranked, (size_t) n, sizeof(BqRankedLogit), compare_ranked);
	for (int32_t i = 0; i < k && i < n; i++)
		best[i] = ranked[i].index;
}

/*
 * Append one candidate, growing the array geometrically.
 */
static int
add_prelim(BqQaCollector *collector, double start_logit, double end_logit,
		   int32_t first_token, int32_t last_token, BqError *err)
{
	BqQaPrelim *p;

	if (collector->count == collector->capacity)
	{
		size_t		capacity = collector->capacity == 0 ? 64 : collector->capacity * 2;
		BqQaPrelim *grown;

		if (capacity > SIZE_MAX / sizeof(BqQaPrelim))
			return bq_fail(err, BQ_ERR_NOMEM, "too many answer candidates");
		grown = realloc(collector->prelim, capacity * sizeof(BqQaPrelim));
		if (grown == NULL)
			return bq_fail(err, BQ_ERR_NOMEM,
						   "out of memory for %zu answer candidates", capacity);
		collector->prelim = grown;
		collector->capacity = capacity;
	}
	p = &collector->prelim[collector->count];
	p->start_logit = start_logit;
	p->end_logit = end_logit;
	p->first_token = first_token;
	p->last_token = last_token;
	p->order = collector->count;
	collector->count++;
	return BQ_OK;
}

/*
 * Cross the window's best starts with its best ends and keep the spans the
 * reference keeps: both ends inside the chunk, the start owned by this
 * window, end not before start, not longer than max_answer_len.  The null
 * score is tracked as in the reference, which starts it at 1e6 with zero
 * logits and replaces it only on a strictly smaller window score.
 */
int
bq_qa_collect_window(BqQaCollector *collector, int32_t w,
					 const double *start_logits, const double *end_logits,
					 BqError *err)
{
	const BqSquadFeatures *f = collector->features;
	const BqDocSpan *span = &f->spans[w];
	int32_t		length = bq_squad_window_length(f, w);
	int32_t		chunk = bq_squad_chunk_offset(f);
	int32_t		k = collector->settings->n_best < length ?
		collector->settings->n_best : length;
	double		window_null;

	if (collector->windows_seen == 0)
	{
		collector->null_score = 1000000.0;
		collector->null_start_logit = 0.0;
		collector->null_end_logit = 0.0;
	}
	collector->windows_seen++;
	window_null = start_logits[0] + end_logits[0];
	if (window_null < collector->null_score)
	{
		collector->null_score = window_null;
		collector->null_start_logit = start_logits[0];
		collector->null_end_logit = end_logits[0];
	}

	bq_best_indexes(start_logits, length, k, collector->ranked, collector->best_starts);
	bq_best_indexes(end_logits, length, k, collector->ranked, collector->best_ends);
	for (int32_t i = 0; i < k; i++)
	{
		int32_t		s = collector->best_starts[i];
		int32_t		first = span->start + s - chunk;

		if (s < chunk || s >= chunk + span->length || f->owner[first] != w)
			continue;
		for (int32_t j = 0; j < k; j++)
		{
			int32_t		e = collector->best_ends[j];
			int			status;

			if (e < chunk || e >= chunk + span->length || e < s ||
				e - s + 1 > collector->settings->max_answer_len)
				continue;
			status = add_prelim(collector, start_logits[s], end_logits[e],
								first, span->start + e - chunk, err);
			if (status != BQ_OK)
				return status;
		}
	}
	return BQ_OK;
}

/*
 * Best score first (NaN last), ties in arrival order, as Python's stable
 * sorted(..., reverse=True) leaves them.
 */
static int
compare_prelim(const void *a, const void *b)
{
	const BqQaPrelim *x = a;
	const BqQaPrelim *y = b;
	double		xs = x->start_logit + x->end_logit;
	double		ys = y->start_logit + y->end_logit;
	bool		x_nan = isnan(xs);
	bool		y_nan = isnan(ys);

	if (x_nan != y_nan)
		return x_nan ? 1 : -1;
	if (!x_nan && xs != ys)
		return xs > ys ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

size_t
bq_utf8_advance(const char *text, size_t len, size_t byte, int64_t cp,
				int64_t target_cp)
{
	while (cp < target_cp && byte < len)
	{
		byte++;
		while (byte < len && ((unsigned char) text[byte] & 0xC0) == 0x80)
			byte++;
		cp++;
	}
	return byte;
}

/*
 * Byte ranges of every context token, in one forward pass (token offsets
 * grow along the text; a step back just rescans from the start).
 */
static void
token_byte_ranges(const char *text, size_t len, const BqToken *tokens,
				  int32_t n, size_t *byte_start, size_t *byte_end)
{
	size_t		sb = 0,
				eb = 0;
	int64_t		scp = 0,
				ecp = 0;

	for (int32_t i = 0; i < n; i++)
	{
		if (tokens[i].start < scp)
		{
			sb = 0;
			scp = 0;
		}
		sb = bq_utf8_advance(text, len, sb, scp, tokens[i].start);
		scp = tokens[i].start;
		if (tokens[i].end < ecp)
		{
			eb = 0;
			ecp = 0;
		}
		eb = bq_utf8_advance(text, len, eb, ecp, tokens[i].end);
		ecp = tokens[i].end;
		byte_start[i] = sb;
		byte_end[i] = eb;
	}
}

/*
 * Narrow the answer at bytes [*from, *to) of 'text', code points
 * [*start_char, *end_char), past the white space at either end.
 */
static void
trim_space(const char *text, size_t *from, size_t *to, int32_t *start_char, int32_t *end_char)
{
	const uint8_t *s = (const uint8_t *) text;

	while (*from < *to)
	{
		int32_t		i = (int32_t) *from;
		UChar32		c;

		U8_NEXT_UNSAFE(s, i, c);
		if (!u_isUWhiteSpace(c))
			break;
		*from = (size_t) i;
		(*start_char)++;
	}
	while (*to > *from)
	{
		int32_t		i = (int32_t) *to;
		UChar32		c;

		U8_PREV_UNSAFE(s, i, c);
		if (!u_isUWhiteSpace(c))
			break;
		*to = (size_t) i;
		(*end_char)--;
	}
}

/*
 * Length of the reference's whitespace character at text[i], or 0.
 */
static size_t
reference_space_at(const char *text, size_t len, size_t i)
{
	unsigned char c = (unsigned char) text[i];

	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		return 1;
	if (c == 0xE2 && i + 2 < len && (unsigned char) text[i + 1] == 0x80 &&
		(unsigned char) text[i + 2] == 0xAF)
		return 3;				/* U+202F NARROW NO-BREAK SPACE */
	return 0;
}

char *
bq_answer_key(const char *text, size_t len, size_t *key_len)
{
	char	   *key = malloc(len + 1);
	size_t		n = 0;
	size_t		i = 0;

	if (key == NULL)
		return NULL;
	while (i < len)
	{
		size_t		space = reference_space_at(text, len, i);

		if (space == 0)
		{
			key[n++] = text[i++];
			continue;
		}
		if (n == 0 || key[n - 1] != ' ')
			key[n++] = ' ';
		i += space;
	}
	key[n] = '\0';
	*key_len = n;
	return key;
}

/* The n-best list under construction. */
typedef struct NbestBuilder
{
	BqQaCandidate *entries;		/* [count] */
	double	   *start_logits;	/* [count] the exact logits, for the decision */
	double	   *end_logits;
	size_t		count;
	char	  **keys;			/* [n_keys] texts already listed */
	size_t	   *key_lens;
	size_t		n_keys;
} NbestBuilder;

static void
nbest_builder_free(NbestBuilder *b)
{
	for (size_t i = 0; i < b->n_keys; i++)
		free(b->keys[i]);
	free(b->keys);
	free(b->key_lens);
	free(b->entries);
	free(b->start_logits);
	free(b->end_logits);
}

static void
nbest_add(NbestBuilder *b, bool is_null, int32_t start_char, int32_t end_char,
		  size_t start_byte, size_t end_byte, double start_logit, double end_logit)
{
	BqQaCandidate *c = &b->entries[b->count];

	c->is_null = is_null;
	c->start_char = start_char;
	c->end_char = end_char;
	c->start_byte = start_byte;
	c->end_byte = end_byte;
	c->probability = 0.0;
	c->start_logit = (float) start_logit;
	c->end_logit = (float) end_logit;
	b->start_logits[b->count] = start_logit;
	b->end_logits[b->count] = end_logit;
	b->count++;
}

/*
 * Has this text been listed already?  Takes 'key' either way: frees it if
 * so, else keeps it (the key arrays have room for the whole list).
 */
static bool
nbest_seen(NbestBuilder *b, char *key, size_t key_len)
{
	for (size_t i = 0; i < b->n_keys; i++)
	{
		if (b->key_lens[i] == key_len && memcmp(b->keys[i], key, key_len) == 0)
		{
			free(key);
			return true;
		}
	}
	b->keys[b->n_keys] = key;
	b->key_lens[b->n_keys] = key_len;
	b->n_keys++;
	return false;
}

/*
 * Walk the ranked spans into at most n_best entries, skipping texts
 * already listed.  A span whose text would be empty (a token without
 * characters) cannot be shown, so it is skipped, which keeps the null
 * entry (answer_pool.c places it) the only "".
 */
static int
build_nbest(const BqQaCollector *collector, const char *context,
			const size_t *byte_start, const size_t *byte_end, NbestBuilder *b, BqError *err)
{
	const BqToken *tokens = collector->features->context;
	size_t		n_best = (size_t) collector->settings->n_best;
	size_t		room = (n_best < collector->count ? n_best : collector->count) + 1;

	b->entries = calloc(room, sizeof(BqQaCandidate));
	b->start_logits = calloc(room, sizeof(double));
	b->end_logits = calloc(room, sizeof(double));
	b->keys = calloc(room, sizeof(char *));
	b->key_lens = calloc(room, sizeof(size_t));
	if (b->entries == NULL || b->start_logits == NULL || b->end_logits == NULL ||
		b->keys == NULL || b->key_lens == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory for the n-best list");

	for (size_t i = 0; i < collector->count && b->count < n_best; i++)
	{
		const BqQaPrelim *p = &collector->prelim[i];
		size_t		from,
					to,
					key_len;
		int32_t		start_char,
					end_char;
		char	   *key;

		from = byte_start[p->first_token];
		to = byte_end[p->last_token];
		start_char = tokens[p->first_token].start;
		end_char = tokens[p->last_token].end;
		trim_space(context, &from, &to, &start_char, &end_char);
		if (to <= from)
			continue;
		key = bq_answer_key(context + from, to - from, &key_len);
		if (key == NULL)
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory for an answer text");
		if (nbest_seen(b, key, key_len))
			continue;
		nbest_add(b, false, start_char, end_char, from, to, p->start_logit, p->end_logit);
	}
	return BQ_OK;
}

/*
 * Rank the spans and walk them into 'b'.
 */
static int
rank_candidates(BqQaCollector *collector, const char *context, size_t context_len,
				NbestBuilder *b, BqError *err)
{
	const BqSquadFeatures *f = collector->features;
	size_t	   *byte_start;
	size_t	   *byte_end;
	int			status;

	qsort(collector->prelim, collector->count, sizeof(BqQaPrelim), compare_prelim);

	byte_start = malloc(sizeof(size_t) * (size_t) f->n_context);
	byte_end = malloc(sizeof(size_t) * (size_t) f->n_context);
	if (byte_start == NULL || byte_end == NULL)
	{
		free(byte_start);
		free(byte_end);
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory for token offsets");
	}
	token_byte_ranges(context, context_len, f->context, f->n_context,
					  byte_start, byte_end);
	memset(b, 0, sizeof(*b));
	status = build_nbest(collector, context, byte_start, byte_end, b, err);
	free(byte_start);
	free(byte_end);
	return status;
}

/*
 * One context's answer is the pool's rule over that context alone: the
 * pool's list as the result, with its byte offsets into 'context'.
 */
int
bq_qa_collector_finish(BqQaCollector *collector, const char *context,
					   size_t context_len, BqQaResult *result, BqError *err)
{
	BqAnswerPool pool;
	BqPoolResult r = {0};
	int			status;

	memset(result, 0, sizeof(*result));
	bq_answer_pool_init(&pool, collector->settings->n_best);
	status = bq_qa_collector_pool(collector, context, context_len, 0, &pool, err);
	if (status == BQ_OK)
		status = bq_answer_pool_finish(&pool, collector->settings, &r, err);
	if (status == BQ_OK && (result->nbest = calloc(r.count, sizeof(BqQaCandidate))) == NULL)
		status = bq_fail(err, BQ_ERR_NOMEM, "out of memory for the n-best list");
	for (size_t i = 0; status == BQ_OK && i < r.count; i++)
	{
		const BqPoolAnswer *a = &r.nbest[i];

		result->nbest[i] = (BqQaCandidate) {
			.is_null = a->is_null,
			.start_char = a->start_char,
			.end_char = a->end_char,
			.start_byte = a->start_byte,
			.end_byte = a->end_byte,
			.probability = a->probability,
			.start_logit = (float) a->start_logit,
			.end_logit = (float) a->end_logit,
		};
	}
	if (status == BQ_OK)
	{
		result->count = r.count;
		result->answer = r.answer;
		result->null_score_diff = r.null_score_diff;
	}
	bq_pool_result_free(&r);
	bq_answer_pool_free(&pool);
	return status;
}

int
bq_qa_collector_pool(BqQaCollector *collector, const char *context, size_t context_len,
					 int64_t key, BqAnswerPool *pool, BqError *err)
{
	NbestBuilder b = {0};
	int			status;

	pool->contexts++;
	if (collector->windows_seen == 0)
		return BQ_OK;
	bq_answer_pool_add_null(pool, key, collector->null_start_logit, collector->null_end_logit);
	/* every span the walk lists: the pool places the null entry itself */
	status = rank_candidates(collector, context, context_len, &b, err);
	for (size_t i = 0; status == BQ_OK && i < b.count; i++)
	{
		const BqQaCandidate *c = &b.entries[i];
		BqPoolSpan	span = {
			.start_logit = b.start_logits[i],
			.end_logit = b.end_logits[i],
			.key = key,
			.rank = (int32_t) i,
			.start_char = c->start_char,
			.end_char = c->end_char,
			.start_byte = c->start_byte,
			.end_byte = c->end_byte,
			.text = malloc(c->end_byte - c->start_byte + 1),
			.text_len = c->end_byte - c->start_byte,
			.dedup = b.keys[i],
			.dedup_len = b.key_lens[i],
		};

		b.keys[i] = NULL;
		if (span.text == NULL)
		{
			free(span.dedup);
			status = bq_fail(err, BQ_ERR_NOMEM, "out of memory for an answer text");
			break;
		}
		memcpy(span.text, context + c->start_byte, span.text_len);
		span.text[span.text_len] = '\0';
		status = bq_answer_pool_add_span(pool, &span, err);
	}
	nbest_builder_free(&b);
	return status;
}
