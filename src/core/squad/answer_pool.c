/*
 * answer_pool.c - merging the candidates of many contexts into one n-best
 * list and decision (see answer_pool.h for the rule).
 */
#include "answer_pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAGIC "BQP1"

void
bq_answer_pool_init(BqAnswerPool *pool, int32_t n_best)
{
	memset(pool, 0, sizeof(*pool));
	pool->n_best = n_best > 0 ? n_best : 1;
}

static void
span_free(BqPoolSpan *span)
{
	free(span->text);
	free(span->dedup);
	span->text = NULL;
	span->dedup = NULL;
}

void
bq_answer_pool_free(BqAnswerPool *pool)
{
	for (size_t i = 0; i < pool->count; i++)
		span_free(&pool->spans[i]);
	free(pool->spans);
	pool->spans = NULL;
	pool->count = 0;
}

/* Does 'a' rank before 'b'?  Score, then the context's key, then its rank there. */
static bool
span_before(const BqPoolSpan *a, const BqPoolSpan *b)
{
	double		sa = a->start_logit + a->end_logit;
	double		sb = b->start_logit + b->end_logit;

	if (sa != sb)
		return sa > sb;
	if (a->key != b->key)
		return a->key < b->key;
	return a->rank < b->rank;
}

/* Drop spans[i], keeping the order. */
static void
remove_span(BqAnswerPool *pool, size_t i)
{
	span_free(&pool->spans[i]);
	memmove(&pool->spans[i], &pool->spans[i + 1], (pool->count - i - 1) * sizeof(BqPoolSpan));
	pool->count--;
}

int
bq_answer_pool_add_span(BqAnswerPool *pool, BqPoolSpan *span, BqError *err)
{
	size_t		at;

	if (pool->spans == NULL &&
		(pool->spans = calloc((size_t) pool->n_best + 1, sizeof(BqPoolSpan))) == NULL)
	{
		span_free(span);
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory for the answer pool");
	}
	/* one span per text: the better of two */
	for (size_t i = 0; i < pool->count; i++)
	{
		if (pool->spans[i].dedup_len == span->dedup_len &&
			memcmp(pool->spans[i].dedup, span->dedup, span->dedup_len) == 0)
		{
			if (!span_before(span, &pool->spans[i]))
			{
				span_free(span);
				return BQ_OK;
			}
			remove_span(pool, i);
			break;
		}
	}
	for (at = 0; at < pool->count && span_before(&pool->spans[at], span); at++)
		;
	if (at >= (size_t) pool->n_best)
	{
		span_free(span);
		return BQ_OK;
	}
	if (pool->count == (size_t) pool->n_best)
		span_free(&pool->spans[--pool->count]);
	memmove(&pool->spans[at + 1], &pool->spans[at], (pool->count - at) * sizeof(BqPoolSpan));
	pool->spans[at] = *span;
	pool->count++;
	span->text = NULL;
	span->dedup = NULL;
	return BQ_OK;
}

void
bq_answer_pool_add_null(BqAnswerPool *pool, int64_t key, double start_logit, double end_logit)
{
	double		score = start_logit + end_logit;
	double		current = pool->null_start_logit + pool->null_end_logit;

	if (!pool->has_null || score < current || (score == current && key < pool->null_key))
	{
		pool->has_null = true;
		pool->null_start_logit = start_logit;
		pool->null_end_logit = end_logit;
		pool->null_key = key;
	}
}

int
bq_answer_pool_merge(BqAnswerPool *into, BqAnswerPool *from, BqError *err)
{
	int			status = BQ_OK;

	into->contexts += from->contexts;
	if (from->has_null)
		bq_answer_pool_add_null(into, from->null_key, from->null_start_logit,
								from->null_end_logit);
	for (size_t i = 0; i < from->count; i++)
		if (status == BQ_OK)
			status = bq_answer_pool_add_span(into, &from->spans[i], err);
	bq_answer_pool_free(from);
	from->contexts = 0;
	from->has_null = false;
	return status;
}

static void
add_answer(BqPoolResult *r, const BqPoolSpan *span, bool is_null, int64_t key,
		   double start_logit, double end_logit)
{
	BqPoolAnswer *a = &r->nbest[r->count++];

	memset(a, 0, sizeof(*a));
	a->is_null = is_null;
	a->key = key;
	a->start_logit = start_logit;
	a->end_logit = end_logit;
	if (span != NULL)
	{
		a->start_char = span->start_char;
		a->end_char = span->end_char;
		a->start_byte = span->start_byte;
		a->end_byte = span->end_byte;
		a->text = span->text;
		a->text_len = span->text_len;
	}
}

/* run_squad.py's _compute_softmax over the list: max-subtracted, in double. */
static void
softmax(BqPoolResult *r)
{
	double		max_score = 0.0;
	double		total = 0.0;

	for (size_t i = 0; i < r->count; i++)
	{
		double		score = r->nbest[i].start_logit + r->nbest[i].end_logit;

		if (i == 0 || score > max_score)
			max_score = score;
	}
	for (size_t i = 0; i < r->count; i++)
	{
		r->nbest[i].probability = exp(r->nbest[i].start_logit + r->nbest[i].end_logit - max_score);
		total += r->nbest[i].probability;
	}
	for (size_t i = 0; i < r->count; i++)
		r->nbest[i].probability /= total;
}

int
bq_answer_pool_finish(const BqAnswerPool *pool, const BqQaSettings *settings,
					  BqPoolResult *result, BqError *err)
{
	double		null_score = pool->null_start_logit + pool->null_end_logit;
	bool		null_pending = settings->allow_no_answer && pool->has_null;
	int			null_index = -1;
	int			best_index = -1;

	memset(result, 0, sizeof(*result));
	result->answer = -1;
	if (pool->contexts == 0)
		return BQ_OK;
	if ((result->nbest = calloc((size_t) pool->n_best + 1, sizeof(BqPoolAnswer))) == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory for the n-best list");

	/* the null entry ranks after the spans of its score: it arrives last */
	for (size_t i = 0; i < pool->count && result->count < (size_t) pool->n_best; i++)
	{
		const BqPoolSpan *s = &pool->spans[i];

		if (null_pending && s->start_logit + s->end_logit < null_score)
		{
			add_answer(result, NULL, true, pool->null_key, pool->null_start_logit,
					   pool->null_end_logit);
			null_pending = false;
			if (result->count >= (size_t) pool->n_best)
				break;
		}
		add_answer(result, s, false, s->key, s->start_logit, s->end_logit);
	}
	if (null_pending)
		add_answer(result, NULL, true, pool->null_key, pool->null_start_logit,
				   pool->null_end_logit);
	/* nothing to list (no window anywhere, or no span and no null entry) */
	if (result->count == 0)
		add_answer(result, NULL, true, pool->null_key, 0.0, 0.0);
	softmax(result);

	for (size_t i = 0; i < result->count; i++)
	{
		if (result->nbest[i].is_null && null_index < 0)
			null_index = (int) i;
		else if (!result->nbest[i].is_null && best_index < 0)
			best_index = (int) i;
	}
	if (best_index < 0)
	{
		/* no span anywhere: the null entry, whatever the threshold */
		result->answer = null_index;
		result->null_score_diff = 0.0;
		return BQ_OK;
	}
	result->null_score_diff = pool->has_null ?
		null_score - result->nbest[best_index].start_logit - result->nbest[best_index].end_logit : 0.0;
	result->answer = settings->allow_no_answer && null_index >= 0 &&
		result->null_score_diff > settings->null_threshold ? null_index : best_index;
	return BQ_OK;
}

void
bq_pool_result_free(BqPoolResult *result)
{
	free(result->nbest);
	result->nbest = NULL;
	result->count = 0;
}

/* ---- serialization ---------------------------------------------------------- */

typedef struct Writer
{
	char	   *data;
	size_t		len;
	size_t		capacity;
	bool		failed;
} Writer;

static void
put(Writer *w, const void *bytes, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n > w->capacity)
	{
		size_t		capacity = (w->len + n) * 2 + 64;
		char	   *grown = realloc(w->data, capacity);

		if (grown == NULL)
		{
			w->failed = true;
			return;
		}
		w->data = grown;
		w->capacity = capacity;
	}
	memcpy(w->data + w->len, bytes, n);
	w->len += n;
}

static void
put_text(Writer *w, const char *text, size_t len)
{
	uint32_t	n = (uint32_t) len;

	put(w, &n, sizeof(n));
	put(w, text, len);
}

int
bq_answer_pool_serialize(const BqAnswerPool *pool, char **out, size_t *len, BqError *err)
{
	Writer		w = {0};
	uint8_t		has_null = pool->has_null;
	uint32_t	count = (uint32_t) pool->count;

	put(&w, POOL_MAGIC, 4);
	put(&w, &pool->n_best, sizeof(pool->n_best));
	put(&w, &pool->contexts, sizeof(pool->contexts));
	put(&w, &has_null, sizeof(has_null));
	put(&w, &pool->null_start_logit, sizeof(double));
	put(&w, &pool->null_end_logit, sizeof(double));
	put(&w, &pool->null_key, sizeof(int64_t));
	put(&w, &count, sizeof(count));
	for (size_t i = 0; i < pool->count; i++)
	{
		const BqPoolSpan *s = &pool->spans[i];

		put(&w, &s->start_logit, sizeof(double));
		put(&w, &s->end_logit, sizeof(double));
		put(&w, &s->key, sizeof(int64_t));
		put(&w, &s->rank, sizeof(int32_t));
		put(&w, &s->start_char, sizeof(int32_t));
		put(&w, &s->end_char, sizeof(int32_t));
		put(&w, &s->start_byte, sizeof(size_t));
		put(&w, &s->end_byte, sizeof(size_t));
		put_text(&w, s->text, s->text_len);
		put_text(&w, s->dedup, s->dedup_len);
	}
	if (w.failed)
	{
		free(w.data);
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory serializing an answer pool");
	}
	*out = w.data;
	*len = w.len;
	return BQ_OK;
}

typedef struct Reader
{
	const char *data;
	size_t		len;
	size_t		pos;
	bool		failed;
} Reader;

static void
get(Reader *r, void *bytes, size_t n)
{
	if (r->failed || n > r->len - r->pos)
	{
		r->failed = true;
		memset(bytes, 0, n);
		return;
	}
	memcpy(bytes, r->data + r->pos, n);
	r->pos += n;
}

/* A length-prefixed text as a malloc'd NUL-terminated copy, or NULL. */
static char *
get_text(Reader *r, size_t *len)
{
	uint32_t	n = 0;
	char	   *text;

	get(r, &n, sizeof(n));
	if (r->failed || n > r->len - r->pos || (text = malloc((size_t) n + 1)) == NULL)
	{
		r->failed = true;
		return NULL;
	}
	memcpy(text, r->data + r->pos, n);
	text[n] = '\0';
	r->pos += n;
	*len = n;
	return text;
}

int
bq_answer_pool_deserialize(BqAnswerPool *pool, const char *data, size_t len, BqError *err)
{
	Reader		r = {data, len, 0, false};
	char		magic[4];
	int32_t		n_best = 0;
	uint8_t		has_null = 0;
	uint32_t	count = 0;
	int			status = BQ_OK;

	get(&r, magic, 4);
	get(&r, &n_best, sizeof(n_best));
	if (r.failed || memcmp(magic, POOL_MAGIC, 4) != 0 || n_best < 1)
		return bq_fail(err, BQ_ERR_FORMAT, "not a serialized answer pool");
	bq_answer_pool_init(pool, n_best);
	get(&r, &pool->contexts, sizeof(pool->contexts));
	get(&r, &has_null, sizeof(has_null));
	get(&r, &pool->null_start_logit, sizeof(double));
	get(&r, &pool->null_end_logit, sizeof(double));
	get(&r, &pool->null_key, sizeof(int64_t));
	get(&r, &count, sizeof(count));
	pool->has_null = has_null != 0;
	if (count > (uint32_t) n_best)
		r.failed = true;
	for (uint32_t i = 0; !r.failed && status == BQ_OK && i < count; i++)
	{
		BqPoolSpan	s = {0};

		get(&r, &s.start_logit, sizeof(double));
		get(&r, &s.end_logit, sizeof(double));
		get(&r, &s.key, sizeof(int64_t));
		get(&r, &s.rank, sizeof(int32_t));
		get(&r, &s.start_char, sizeof(int32_t));
		get(&r, &s.end_char, sizeof(int32_t));
		get(&r, &s.start_byte, sizeof(size_t));
		get(&r, &s.end_byte, sizeof(size_t));
		s.text = get_text(&r, &s.text_len);
		s.dedup = get_text(&r, &s.dedup_len);
		if (r.failed)
			span_free(&s);
		else
			status = bq_answer_pool_add_span(pool, &s, err);
	}
	if (status == BQ_OK && (r.failed || r.pos != len))
		status = bq_fail(err, BQ_ERR_FORMAT, "a serialized answer pool is truncated or malformed");
	if (status != BQ_OK)
		bq_answer_pool_free(pool);
	return status;
}
