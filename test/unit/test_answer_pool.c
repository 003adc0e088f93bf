/*
 * test_answer_pool.c - the best answer over many contexts (answer_pool.h)
 * on the bundled model and SQuAD dev questions: with one context it is
 * bq_qa_answer's result exactly; with several (their windows batched
 * across contexts) it equals a brute-force merge of every context's own
 * candidates (written here from bq_qa_answer's lists, without the pool's
 * pruning); split into pools, serialized and merged back, or fed in
 * another order, it is the same; a damaged serialized pool is refused.
 */
#include "unit.h"

#include <stdlib.h>

#include "answer_pool.h"
#include "encoder.h"
#include "model.h"
#include "qa.h"
#include "squad_dataset.h"
#include "squad_postprocess.h"

#define MODEL_DIR "test/fixtures/tiny-model"
#define SQUAD "test/fixtures/squad-v2.0/squad-v2.0-dev.reconstructed.json"
#define MULTI_CASES 200
#define MAX_CONTEXTS 5

static BqModel *model;
static BqEncoder *encoder;
static BqSquadDataset squad;
static const char **contexts;	/* the distinct paragraphs, file order */
static size_t n_contexts;

/* The settings of case i: the defaults, or a threshold that splits the decisions. */
static BqQaSettings
case_settings(size_t i)
{
	BqQaSettings s;

	bq_qa_default_settings(&s);
	if (i % 3 == 1)
		s.null_threshold = -28.5;
	if (i % 5 == 2)
		s.allow_no_answer = false;
	if (i % 7 == 3)
		s.n_best = 3;
	return s;
}

/*
 * 'question' over the n contexts into 'pool', their windows batched across
 * contexts (bq_qa_batch_add).
 */
static void
pool_question(const BqQaSettings *s, const char *question, const char *const *texts,
			  const int64_t *keys, size_t n, BqAnswerPool *pool)
{
	BqError		err;
	BqQaBatch  *batch;

	bq_answer_pool_init(pool, s->n_best);
	batch = bq_qa_batch_new(model, s, question, strlen(question), pool, &err);
	CHECK(batch != NULL);
	if (batch == NULL)
		return;
	for (size_t c = 0; c < n; c++)
		CHECK_INT_EQ(bq_qa_batch_add(batch, model, encoder, texts[c], strlen(texts[c]), keys[c],
									 NULL, &err), BQ_OK);
	CHECK_INT_EQ(bq_qa_batch_flush(batch, encoder, NULL, &err), BQ_OK);
	bq_qa_batch_free(batch);
}

/* The same list and decision, to the bit. */
static bool
same_result(const BqPoolResult *a, const BqPoolResult *b)
{
	if (a->count != b->count || a->answer != b->answer ||
		a->null_score_diff != b->null_score_diff)
		return false;
	for (size_t i = 0; i < a->count; i++)
	{
		const BqPoolAnswer *x = &a->nbest[i];
		const BqPoolAnswer *y = &b->nbest[i];

		if (x->is_null != y->is_null || x->key != y->key || x->probability != y->probability ||
			x->start_logit != y->start_logit || x->end_logit != y->end_logit)
			return false;
		if (!x->is_null && (x->start_char != y->start_char || x->end_char != y->end_char ||
							x->text_len != y->text_len ||
							memcmp(x->text, y->text, x->text_len) != 0))
			return false;
	}
	return true;
}

/* With one context, the pool is bq_qa_answer. */
static void
test_one_context(void)
{
	int			mismatches = 0;

	for (size_t i = 0; i < 150 && i < squad.count; i++)
	{
		const BqSquadExample *ex = &squad.examples[i * 3 % squad.count];
		BqQaSettings s = case_settings(i);
		BqQaResult want;
		BqAnswerPool pool;
		BqPoolResult got;
		BqError		err;
		int64_t		key = 7;
		bool		same;

		CHECK_INT_EQ(bq_qa_answer(model, encoder, &s, ex->question, strlen(ex->question),
								  ex->context, strlen(ex->context), &want, NULL, &err), BQ_OK);
		pool_question(&s, ex->question, &ex->context, &key, 1, &pool);
		CHECK_INT_EQ(bq_answer_pool_finish(&pool, &s, &got, &err), BQ_OK);
		same = got.count == want.count && got.answer == want.answer &&
			got.null_score_diff == want.null_score_diff;
		for (size_t k = 0; same && k < got.count; k++)
		{
			const BqQaCandidate *w = &want.nbest[k];
			const BqPoolAnswer *g = &got.nbest[k];

			same = g->is_null == w->is_null && g->probability == w->probability &&
				(float) g->start_logit == w->start_logit && (float) g->end_logit == w->end_logit &&
				(w->is_null || (g->start_char == w->start_char && g->end_char == w->end_char &&
								g->text_len == w->end_byte - w->start_byte &&
								memcmp(g->text, ex->context + w->start_byte, g->text_len) == 0));
		}
		mismatches += !same;
		bq_pool_result_free(&got);
		bq_answer_pool_free(&pool);
		bq_qa_result_free(&want);
	}
	printf("one context: %d of 150 differ from bq_qa_answer\n", mismatches);
	CHECK_INT_EQ(mismatches, 0);
}

/* A candidate of the brute-force merge. */
typedef struct Candidate
{
	double		start_logit;
	double		end_logit;
	int64_t		key;
	int			rank;
	int32_t		start_char;
	int32_t		end_char;
	const char *text;
	size_t		text_len;
	char	   *dedup;
	size_t		dedup_len;
} Candidate;

static int
compare_candidates(const void *pa, const void *pb)
{
	const Candidate *a = pa;
	const Candidate *b = pb;
	double		sa = a->start_logit + a->end_logit;
	double		sb = b->start_logit + b->end_logit;

	if (sa != sb)
		return sa > sb ? -1 : 1;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->rank - b->rank;
}

static void
expect_entry(BqPoolResult *r, const Candidate *c, bool is_null, int64_t key, double s, double e)
{
	BqPoolAnswer *a = &r->nbest[r->count++];

	memset(a, 0, sizeof(*a));
	a->is_null = is_null;
	a->key = key;
	a->start_logit = s;
	a->end_logit = e;
	if (c != NULL)
	{
		a->start_char = c->start_char;
		a->end_char = c->end_char;
		a->text = c->text;
		a->text_len = c->text_len;
	}
}

/*
 * Every context's own spans (its n-best walk with no null entry) in one
 * list, sorted; texts met again skipped; the smallest null score placed
 * after the spans of its score; the first n_best entries, the null entry
 * appended if missed; softmax; threshold.
 */
static void
brute_force(const BqQaSettings *s, const char *question, const char *const *texts,
			const int64_t *keys, size_t n, BqPoolResult *out, BqQaResult *lists)
{
	Candidate	all[MAX_CONTEXTS * 64];
	size_t		n_all = 0;
	bool		has_null = false;
	double		null_s = 0,
				null_e = 0;
	int64_t		null_key = 0;
	BqQaSettings spans_only = *s;
	char	   *seen[MAX_CONTEXTS * 64];
	size_t		seen_len[MAX_CONTEXTS * 64];
	size_t		n_seen = 0;
	bool		null_pending;
	int			null_index = -1,
				best_index = -1;
	double		max_score = 0,
				total = 0;

	spans_only.allow_no_answer = false;
	for (size_t c = 0; c < n; c++)
	{
		BqQaSettings with_null = *s;
		BqQaResult nr;
		BqError		err;

		CHECK_INT_EQ(bq_qa_answer(model, encoder, &spans_only, question, strlen(question),
								  texts[c], strlen(texts[c]), &lists[c], NULL, &err), BQ_OK);
		for (size_t k = 0; k < lists[c].count; k++)
		{
			const BqQaCandidate *q = &lists[c].nbest[k];
			Candidate  *x = &all[n_all++];

			if (q->is_null)
			{
				n_all--;		/* a context without spans lists the null entry alone */
				continue;
			}
			x->start_logit = q->start_logit;
			x->end_logit = q->end_logit;
			x->key = keys[c];
			x->rank = (int) k;
			x->start_char = q->start_char;
			x->end_char = q->end_char;
			x->text = texts[c] + q->start_byte;
			x->text_len = q->end_byte - q->start_byte;
			x->dedup = bq_answer_key(x->text, x->text_len, &x->dedup_len);
		}
		with_null.allow_no_answer = true;
		with_null.n_best = 1000;
		CHECK_INT_EQ(bq_qa_answer(model, encoder, &with_null, question, strlen(question),
								  texts[c], strlen(texts[c]), &nr, NULL, &err), BQ_OK);
		for (size_t k = 0; k < nr.count; k++)
		{
			const BqQaCandidate *q = &nr.nbest[k];
			double		score = (double) q->start_logit + (double) q->end_logit;

			if (q->is_null && (q->start_logit != 0 || q->end_logit != 0 || nr.count > 1) &&
				(!has_null || score < null_s + null_e || (score == null_s + null_e && keys[c] < null_key)))
			{
				has_null = true;
				null_s = q->start_logit;
				null_e = q->end_logit;
				null_key = keys[c];
			}
		}
		bq_qa_result_free(&nr);
	}
	qsort(all, n_all, sizeof(Candidate), compare_candidates);

	memset(out, 0, sizeof(*out));
	out->nbest = calloc((size_t) s->n_best + 1, sizeof(BqPoolAnswer));
	null_pending = s->allow_no_answer && has_null;
	for (size_t i = 0; i < n_all && out->count < (size_t) s->n_best; i++)
	{
		bool		dup = false;

		for (size_t k = 0; k < n_seen && !dup; k++)
			dup = seen_len[k] == all[i].dedup_len && memcmp(seen[k], all[i].dedup, seen_len[k]) == 0;
		if (dup)
			continue;
		seen[n_seen] = all[i].dedup;
		seen_len[n_seen++] = all[i].dedup_len;
		if (null_pending && all[i].start_logit + all[i].end_logit < null_s + null_e)
		{
			expect_entry(out, NULL, true, null_key, null_s, null_e);
			null_pending = false;
			if (out->count >= (size_t) s->n_best)
				break;
		}
		expect_entry(out, &all[i], false, all[i].key, all[i].start_logit, all[i].end_logit);
	}
	if (null_pending)
		expect_entry(out, NULL, true, null_key, null_s, null_e);
	if (out->count == 0)
		expect_entry(out, NULL, true, null_key, 0, 0);
	for (size_t i = 0; i < out->count; i++)
	{
		double		score = out->nbest[i].start_logit + out->nbest[i].end_logit;

		if (i == 0 || score > max_score)
			max_score = score;
	}
	for (size_t i = 0; i < out->count; i++)
		total += (out->nbest[i].probability =
				  exp(out->nbest[i].start_logit + out->nbest[i].end_logit - max_score));
	for (size_t i = 0; i < out->count; i++)
	{
		out->nbest[i].probability /= total;
		if (out->nbest[i].is_null && null_index < 0)
			null_index = (int) i;
		else if (!out->nbest[i].is_null && best_index < 0)
			best_index = (int) i;
	}
	if (best_index < 0)
		out->answer = null_index;
	else
	{
		out->null_score_diff = has_null ? null_s + null_e - out->nbest[best_index].start_logit -
			out->nbest[best_index].end_logit : 0;
		out->answer = s->allow_no_answer && null_index >= 0 &&
			out->null_score_diff > s->null_threshold ? null_index : best_index;
	}
	for (size_t i = 0; i < n_all; i++)
		free(all[i].dedup);
}

/* Case i: a question over its own paragraph and 1-4 others, keys not in arrival order. */
static size_t
multi_case(size_t i, const char **question, const char **texts, int64_t *keys)
{
	const BqSquadExample *ex = &squad.examples[(i * 37) % squad.count];
	size_t		n = 2 + i % (MAX_CONTEXTS - 1);
	size_t		own = 0;

	while (contexts[own] != ex->context)
		own++;
	*question = ex->question;
	for (size_t c = 0; c < n; c++)
	{
		texts[c] = contexts[(own + c * (1 + i % 5)) % n_contexts];
		keys[c] = (int64_t) ((c * 7 + i) % n) * 10 - 20;
	}
	return n;
}

/* Several contexts: the brute-force merge, exactly. */
static void
test_many_contexts(void)
{
	int			mismatches = 0;
	int			unanswered = 0;
	int			from_other = 0;

	for (size_t i = 0; i < MULTI_CASES; i++)
	{
		const char *question;
		const char *texts[MAX_CONTEXTS];
		int64_t		keys[MAX_CONTEXTS];
		size_t		n = multi_case(i, &question, texts, keys);
		BqQaSettings s = case_settings(i);
		BqQaResult	lists[MAX_CONTEXTS];
		BqAnswerPool pool;
		BqPoolResult got,
					want;
		BqError		err;

		pool_question(&s, question, texts, keys, n, &pool);
		CHECK_INT_EQ(bq_answer_pool_finish(&pool, &s, &got, &err), BQ_OK);
		brute_force(&s, question, texts, keys, n, &want, lists);
		if (!same_result(&got, &want))
		{
			mismatches++;
			fprintf(stderr, "case %zu (%zu contexts) differs from the brute-force merge\n", i, n);
		}
		unanswered += got.nbest[got.answer].is_null;
		from_other += !got.nbest[got.answer].is_null && got.nbest[got.answer].key != keys[0];
		for (size_t c = 0; c < n; c++)
			bq_qa_result_free(&lists[c]);
		bq_pool_result_free(&got);
		bq_pool_result_free(&want);
		bq_answer_pool_free(&pool);
	}
	printf("%d contexts cases: %d differ from the brute-force merge; %d unanswered, "
		   "%d answered from a context other than the question's own\n", MULTI_CASES,
		   mismatches, unanswered, from_other);
	CHECK_INT_EQ(mismatches, 0);
	CHECK(unanswered > 0 && from_other > 0);
}

/*
 * Contexts fed in reverse, or split into two pools whose second is
 * serialized, read back and merged in: the same result.
 */
static void
test_order_and_merge(void)
{
	int			mismatches = 0;

	for (size_t i = 0; i < 40; i++)
	{
		const char *question;
		const char *texts[MAX_CONTEXTS],
				   *reversed[MAX_CONTEXTS];
		int64_t		keys[MAX_CONTEXTS],
					reversed_keys[MAX_CONTEXTS];
		size_t		n = multi_case(i, &question, texts, keys);
		size_t		half = n / 2;
		BqQaSettings s = case_settings(i);
		BqAnswerPool whole,
					back,
					first,
					second,
					read;
		BqPoolResult a,
					b,
					c;
		BqError		err;
		char	   *bytes;
		size_t		len;

		for (size_t k = 0; k < n; k++)
		{
			reversed[k] = texts[n - 1 - k];
			reversed_keys[k] = keys[n - 1 - k];
		}
		pool_question(&s, question, texts, keys, n, &whole);
		pool_question(&s, question, reversed, reversed_keys, n, &back);
		pool_question(&s, question, texts, keys, half, &first);
		pool_question(&s, question, texts + half, keys + half, n - half, &second);
		CHECK_INT_EQ(bq_answer_pool_serialize(&second, &bytes, &len, &err), BQ_OK);
		CHECK_INT_EQ(bq_answer_pool_deserialize(&read, bytes, len, &err), BQ_OK);
		CHECK_INT_EQ(bq_answer_pool_merge(&first, &read, &err), BQ_OK);
		CHECK_INT_EQ(bq_answer_pool_finish(&whole, &s, &a, &err), BQ_OK);
		CHECK_INT_EQ(bq_answer_pool_finish(&back, &s, &b, &err), BQ_OK);
		CHECK_INT_EQ(bq_answer_pool_finish(&first, &s, &c, &err), BQ_OK);
		mismatches += !same_result(&a, &b) || !same_result(&a, &c);
		free(bytes);
		bq_pool_result_free(&a);
		bq_pool_result_free(&b);
		bq_pool_result_free(&c);
		bq_answer_pool_free(&whole);
		bq_answer_pool_free(&back);
		bq_answer_pool_free(&first);
		bq_answer_pool_free(&second);
		bq_answer_pool_free(&read);
	}
	CHECK_INT_EQ(mismatches, 0);
}

/* Offer a hand-made span of 'score' (as start + end logits) to 'pool'. */
static void
offer(BqAnswerPool *pool, const char *text, double score, int64_t key, int32_t rank)
{
	BqError		err;
	BqPoolSpan	span = {.start_logit = score / 2, .end_logit = score / 2, .key = key,
	.rank = rank, .text = strdup(text), .text_len = strlen(text)};

	span.dedup = bq_answer_key(text, strlen(text), &span.dedup_len);
	CHECK_INT_EQ(bq_answer_pool_add_span(pool, &span, &err), BQ_OK);
}

/* The keys of a result's entries, the null entry as -1. */
static void
check_order(const BqPoolResult *r, const int64_t *keys, size_t n)
{
	CHECK_INT_EQ(r->count, n);
	for (size_t i = 0; i < n && i < r->count; i++)
		CHECK_INT_EQ(r->nbest[i].is_null ? -1 : r->nbest[i].key, keys[i]);
}

/*
 * Ties rank by key, then by rank, whatever the arrival; a text met again
 * keeps its better span; the null entry ranks after the spans of its
 * score, counts towards n_best, and is appended when the list is full.
 */
static void
test_ranking(void)
{
	BqQaSettings s;
	BqAnswerPool pool;
	BqPoolResult r;
	BqError		err;
	const int64_t three[] = {10, 20, 30, -1};
	const int64_t with_low[] = {10, 20, 30, -1, 40};

	bq_qa_default_settings(&s);
	bq_answer_pool_init(&pool, 5);
	pool.contexts = 4;
	offer(&pool, "one", 1.0, 40, 0);
	offer(&pool, "three b", 3.0, 30, 0);
	offer(&pool, "three a", 3.0, 20, 1);
	offer(&pool, "five", 5.0, 10, 0);
	offer(&pool, "three  a", 2.0, 50, 0);	/* the same text as key 20's, worse */
	bq_answer_pool_add_null(&pool, 60, 2.0, 1.0);
	bq_answer_pool_add_null(&pool, 50, 1.0, 2.0);	/* same null score, smaller key */
	CHECK_INT_EQ(bq_answer_pool_finish(&pool, &s, &r, &err), BQ_OK);
	check_order(&r, with_low, 5);
	CHECK_INT_EQ(r.nbest[3].key, 50);
	CHECK(r.answer == 0 && r.null_score_diff == 3.0 - 5.0);
	bq_pool_result_free(&r);
	pool.n_best = 3;
	CHECK_INT_EQ(bq_answer_pool_finish(&pool, &s, &r, &err), BQ_OK);
	check_order(&r, three, 4);
	bq_pool_result_free(&r);
	pool.n_best = 5;
	s.null_threshold = -2.5;
	CHECK_INT_EQ(bq_answer_pool_finish(&pool, &s, &r, &err), BQ_OK);
	check_order(&r, with_low, 5);
	CHECK_INT_EQ(r.answer, 3);
	bq_pool_result_free(&r);
	bq_answer_pool_free(&pool);
}

/* No context: no answer at all; contexts without text: the null entry alone. */
static void
test_empty(void)
{
	BqQaSettings s;
	BqAnswerPool pool;
	BqPoolResult r;
	BqError		err;
	const char *blank[] = {"", "   "};
	int64_t		keys[] = {1, 2};

	bq_qa_default_settings(&s);
	bq_answer_pool_init(&pool, s.n_best);
	CHECK_INT_EQ(bq_answer_pool_finish(&pool, &s, &r, &err), BQ_OK);
	CHECK(r.count == 0 && r.answer == -1);
	bq_pool_result_free(&r);
	pool_question(&s, "Who?", blank, keys, 2, &pool);
	CHECK_INT_EQ(bq_answer_pool_finish(&pool, &s, &r, &err), BQ_OK);
	CHECK(r.count == 1 && r.answer == 0 && r.nbest[0].is_null && r.nbest[0].probability == 1.0);
	bq_pool_result_free(&r);
	bq_answer_pool_free(&pool);
}

/*
 * A serialized pool reads back as itself; every truncation of it, and a
 * wrong magic, are refused.
 */
static void
test_damaged(void)
{
	BqQaSettings s;
	BqAnswerPool pool,
				read;
	BqPoolResult a,
				b;
	BqError		err;
	char	   *bytes;
	size_t		len;
	int			refused = 0;

	bq_qa_default_settings(&s);
	bq_answer_pool_init(&pool, 5);
	pool.contexts = 2;
	offer(&pool, "Norman", 4.0, 1, 0);
	offer(&pool, "the Normans", 2.5, 2, 0);
	bq_answer_pool_add_null(&pool, 2, -1.0, 0.5);
	CHECK_INT_EQ(bq_answer_pool_serialize(&pool, &bytes, &len, &err), BQ_OK);
	CHECK_INT_EQ(bq_answer_pool_deserialize(&read, bytes, len, &err), BQ_OK);
	CHECK_INT_EQ(bq_answer_pool_finish(&pool, &s, &a, &err), BQ_OK);
	CHECK_INT_EQ(bq_answer_pool_finish(&read, &s, &b, &err), BQ_OK);
	CHECK(same_result(&a, &b) && a.count == 3);
	bq_pool_result_free(&a);
	bq_pool_result_free(&b);
	bq_answer_pool_free(&read);
	for (size_t cut = 0; cut < len; cut++)
		refused += bq_answer_pool_deserialize(&read, bytes, cut, &err) == BQ_ERR_FORMAT;
	CHECK_INT_EQ(refused, (int) len);
	bytes[0] = 'X';
	CHECK_INT_EQ(bq_answer_pool_deserialize(&read, bytes, len, &err), BQ_ERR_FORMAT);
	free(bytes);
	bq_answer_pool_free(&pool);
}

int
main(int argc, char **argv)
{
	BqError		err;

	unit_select(argc, argv);
	model = bq_model_load(MODEL_DIR, &err);
	encoder = model ? bq_encoder_new(model, BQ_PRECISION_FP32, &err) : NULL;
	if (encoder == NULL || bq_squad_dataset_load(SQUAD, &squad, &err) != BQ_OK)
	{
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	contexts = calloc(squad.count, sizeof(char *));
	for (size_t i = 0; i < squad.count; i++)
		if (n_contexts == 0 || contexts[n_contexts - 1] != squad.examples[i].context)
			contexts[n_contexts++] = squad.examples[i].context;
	RUN_TEST(test_one_context);
	RUN_TEST(test_many_contexts);
	RUN_TEST(test_order_and_merge);
	RUN_TEST(test_ranking);
	RUN_TEST(test_empty);
	RUN_TEST(test_damaged);
	free(contexts);
	bq_squad_dataset_free(&squad);
	bq_encoder_free(encoder);
	bq_model_free(model);
	UNIT_DONE();
}
