/*
 * test_squad_features.c - windows, max-context ownership and answer
 * selection on small hand-made inputs whose results are worked out by hand
 * from the rules of Google BERT's run_squad.py.
 */
#include "unit.h"

#include <stdlib.h>

#include "qa.h"
#include "squad_features.h"
#include "squad_postprocess.h"

/* Check spans against a flat list of (start, length) pairs. */
static void
check_spans(int32_t n_context, int32_t max_tokens, int32_t stride,
			const int32_t *want, int32_t n_want)
{
	BqDocSpan  *spans;
	int32_t		n;
	BqError		err;

	CHECK_INT_EQ(bq_squad_doc_spans(n_context, max_tokens, stride, &spans, &n, &err), BQ_OK);
	CHECK_INT_EQ(n, n_want);
	for (int32_t i = 0; i < n && i < n_want; i++)
	{
		CHECK_INT_EQ(spans[i].start, want[2 * i]);
		CHECK_INT_EQ(spans[i].length, want[2 * i + 1]);
	}
	free(spans);
}

static void
test_doc_spans_stride(void)
{
	/* stride smaller than the chunk: overlapping spans, the last reaches the end */
	check_spans(10, 4, 2, (const int32_t[]) {0, 4, 2, 4, 4, 4, 6, 4}, 4);
	/* stride larger than the chunk: the step is the chunk's length */
	check_spans(10, 4, 5, (const int32_t[]) {0, 4, 4, 4, 8, 2}, 3);
	/* stride 1 */
	check_spans(5, 3, 1, (const int32_t[]) {0, 3, 1, 3, 2, 3}, 3);
	/* a context that fits in one chunk */
	check_spans(3, 4, 2, (const int32_t[]) {0, 3}, 1);
	/* exactly one chunk long */
	check_spans(4, 4, 1, (const int32_t[]) {0, 4}, 1);
}

static void
test_doc_spans_empty_and_invalid(void)
{
	BqDocSpan  *spans;
	int32_t		n;
	BqError		err;

	CHECK_INT_EQ(bq_squad_doc_spans(0, 4, 2, &spans, &n, &err), BQ_OK);
	CHECK_INT_EQ(n, 0);
	CHECK(spans == NULL);
	CHECK_INT_EQ(bq_squad_doc_spans(5, 0, 2, &spans, &n, &err), BQ_ERR_INPUT);
	CHECK_INT_EQ(bq_squad_doc_spans(5, 3, 0, &spans, &n, &err), BQ_ERR_INPUT);
}

static void
check_owners(const BqDocSpan *spans, int32_t n_spans, int32_t n_context,
			 const int32_t *want)
{
	int32_t		owner[16];
	BqError		err;

	CHECK_INT_EQ(bq_squad_max_context_owners(spans, n_spans, n_context, owner, &err), BQ_OK);
	for (int32_t i = 0; i < n_context; i++)
	{
		if (owner[i] != want[i])
			fprintf(stderr, "token %d: owner %d, expected %d\n", i, owner[i], want[i]);
		CHECK_INT_EQ(owner[i], want[i]);
	}
}

static void
test_max_context(void)
{
	/* the most central window wins */
	check_owners((const BqDocSpan[]) {{0, 4}, {2, 4}, {4, 4}, {6, 4}}, 4, 10,
				 (const int32_t[]) {0, 0, 0, 1, 1, 2, 2, 3, 3, 3});
	/* token 2 has one token of context on its short side in both: first wins */
	check_owners((const BqDocSpan[]) {{0, 4}, {1, 4}}, 2, 5,
				 (const int32_t[]) {0, 0, 0, 1, 1});
	/* token 3 is at an edge of both: the longer span's 0.01 * length wins */
	check_owners((const BqDocSpan[]) {{0, 4}, {3, 3}}, 2, 6,
				 (const int32_t[]) {0, 0, 0, 0, 1, 1});
}

/* Tokens with ids base, base+1, ... at made-up offsets. */
static void
make_tokens(BqToken *tokens, int32_t n, int32_t base)
{
	for (int32_t i = 0; i < n; i++)
	{
		tokens[i].id = base + i;
		tokens[i].start = 2 * i;
		tokens[i].end = 2 * i + 1;
	}
}

/* BERT's template with [CLS] = 1 and [SEP] = 2 */
static const BqPairTemplate bert_pair = {1, 2, 1, 1};

static void
test_window_layout(void)
{
	BqToken		question[2];
	BqToken		context[10];
	BqSquadFeatures f;
	BqQaSettings s;
	BqError		err;
	int32_t		ids[16],
				types[16];
	const int32_t want_ids[] = {1, 7, 8, 2, 22, 23, 24, 25, 2};
	const int32_t want_types[] = {0, 0, 0, 0, 1, 1, 1, 1, 1};

	make_tokens(question, 2, 7);
	make_tokens(context, 10, 20);
	bq_qa_default_settings(&s);
	s.max_seq_len = 9;			/* 9 - 2 - 3 = 4 context tokens per window */
	s.doc_stride = 2;
	CHECK_INT_EQ(bq_squad_features_build(&f, question, 2, context, 10, &bert_pair, &s, &err), BQ_OK);
	CHECK_INT_EQ(f.n_windows, 4);
	CHECK_INT_EQ(bq_squad_chunk_offset(&f), 4);
	CHECK_INT_EQ(bq_squad_window_length(&f, 1), 9);
	bq_squad_window_fill(&f, 1, ids, types);
	for (int i = 0; i < 9; i++)
	{
		CHECK_INT_EQ(ids[i], want_ids[i]);
		CHECK_INT_EQ(types[i], want_types[i]);
	}
	CHECK_INT_EQ(f.owner[3], 1);
	bq_squad_features_free(&f);

	/* the question is cut to max_query_len, leaving room for 5 tokens */
	s.max_query_len = 1;
	CHECK_INT_EQ(bq_squad_features_build(&f, question, 2, context, 10, &bert_pair, &s, &err), BQ_OK);
	CHECK_INT_EQ(f.n_question, 1);
	CHECK_INT_EQ(f.spans[0].length, 5);
	CHECK_INT_EQ(f.n_windows, 4);	/* (0,5) (2,5) (4,5) (6,4) */
	bq_squad_features_free(&f);

	/* no room for a context token: an error naming the setting */
	s.max_query_len = 64;
	s.max_seq_len = 5;
	CHECK_INT_EQ(bq_squad_features_build(&f, question, 2, context, 10, &bert_pair, &s, &err), BQ_ERR_INPUT);
	CHECK(strstr(err.message, "max_seq_len") != NULL);
}

/*
 * RoBERTa's template: <s> q </s></s> chunk </s>, all of token type 0, so a
 * window has room for one context token less.
 */
static void
test_window_layout_roberta(void)
{
	static const BqPairTemplate roberta_pair = {0, 2, 2, 0};
	BqToken		question[2];
	BqToken		context[10];
	BqSquadFeatures f;
	BqQaSettings s;
	BqError		err;
	int32_t		ids[16],
				types[16];
	const int32_t want_ids[] = {0, 7, 8, 2, 2, 20, 21, 22, 2};

	make_tokens(question, 2, 7);
	make_tokens(context, 10, 20);
	bq_qa_default_settings(&s);
	s.max_seq_len = 9;			/* 9 - 2 - 4 = 3 context tokens per window */
	s.doc_stride = 2;
	CHECK_INT_EQ(bq_squad_features_build(&f, question, 2, context, 10, &roberta_pair, &s, &err),
				 BQ_OK);
	CHECK_INT_EQ(f.spans[0].length, 3);
	CHECK_INT_EQ(f.n_windows, 5);	/* (0,3) (2,3) (4,3) (6,3) (8,2) */
	CHECK_INT_EQ(bq_squad_chunk_offset(&f), 5);
	CHECK_INT_EQ(bq_squad_window_length(&f, 0), 9);
	CHECK_INT_EQ(bq_squad_window_length(&f, 4), 8);
	bq_squad_window_fill(&f, 0, ids, types);
	for (int i = 0; i < 9; i++)
	{
		CHECK_INT_EQ(ids[i], want_ids[i]);
		CHECK_INT_EQ(types[i], 0);
	}
	bq_squad_features_free(&f);

	/* the smallest window says which tokens it needs */
	s.max_seq_len = 6;
	CHECK_INT_EQ(bq_squad_features_build(&f, question, 2, context, 10, &roberta_pair, &s, &err),
				 BQ_ERR_INPUT);
	CHECK(strstr(err.detail, "</s></s>") != NULL && strstr(err.detail, "at least 7") != NULL);
}

static void
test_best_indexes(void)
{
	const double logits[] = {1, 3, 3, 2, NAN, 3};
	BqRankedLogit ranked[6];
	int32_t		best[6];

	bq_best_indexes(logits, 6, 4, ranked, best);
	CHECK_INT_EQ(best[0], 1);
	CHECK_INT_EQ(best[1], 2);
	CHECK_INT_EQ(best[2], 5);
	CHECK_INT_EQ(best[3], 3);
	bq_best_indexes(logits, 6, 6, ranked, best);
	CHECK_INT_EQ(best[5], 4);
}

static void
test_answer_key(void)
{
	const char *text = "a \t b\xE2\x80\xAF\xE2\x80\xAF" "c\r\nd\xC2\xA0" "e";
	size_t		len;
	char	   *key = bq_answer_key(text, strlen(text), &len);

	/* the reference's whitespace collapses; a no-break space is a character */
	CHECK_STR_EQ(key, "a b c d\xC2\xA0" "e");
	CHECK_INT_EQ(len, strlen("a b c d\xC2\xA0" "e"));
	free(key);
}

/*
 * Context "bb x bb  y", one question token.  Window positions: 0 [CLS],
 * 1 question, 2 [SEP], 3 bb, 4 x, 5 bb, 6 y, 7 [SEP].
 */
static const char *const pp_context = "bb x bb  y";
static const BqToken pp_context_tokens[] = {{10, 0, 2}, {11, 3, 4}, {10, 5, 7}, {12, 9, 10}};
static const BqToken pp_question[] = {{13, 0, 1}};

/* BERT's template with bert-base-uncased's [CLS] and [SEP] */
static const BqPairTemplate bert_pair_ids = {101, 102, 1, 1};

/*
 * Post-process one window's logits over 'context' and its 'n' tokens.
 */
static int
run_postprocess_on(const char *context, const BqToken *tokens, size_t n,
				   const BqQaSettings *s, const double *start, const double *end,
				   BqQaResult *result)
{
	BqSquadFeatures f;
	BqQaCollector c;
	BqError		err;
	int			status;

	CHECK_INT_EQ(bq_squad_features_build(&f, pp_question, 1, tokens, n,
										 &bert_pair_ids, s, &err), BQ_OK);
	CHECK_INT_EQ(bq_qa_collector_init(&c, &f, s, &err), BQ_OK);
	status = bq_qa_collect_window(&c, 0, start, end, &err);
	if (status == BQ_OK)
		status = bq_qa_collector_finish(&c, context, strlen(context), result, &err);
	bq_qa_collector_free(&c);
	bq_squad_features_free(&f);
	return status;
}

static int
run_postprocess(const BqQaSettings *s, const double *start, const double *end,
				BqQaResult *result)
{
	return run_postprocess_on(pp_context, pp_context_tokens, 4, s, start, end, result);
}

static void
test_postprocess_dedup_and_threshold(void)
{
	const double start[] = {1.0, 5.0, 0.0, 4.0, 0.0, 3.5, -1.0, 0.0};
	const double end[] = {1.0, 5.0, 0.0, 4.0, 0.0, 3.5, 2.0, 0.0};
	BqQaSettings s;
	BqQaResult	r;
	double		e8 = exp(8.0),
				e2 = exp(2.0);

	bq_qa_default_settings(&s);
	s.max_seq_len = 16;
	s.max_answer_len = 2;
	s.n_best = 3;
	CHECK_INT_EQ(run_postprocess(&s, start, end, &r), BQ_OK);
	/*
	 * Starts {1, 3, 5} x ends {1, 3, 5}: (3,3) scores 8, (5,5) 7 but has the
	 * same text "bb" and is dropped; (3,5) is too long; null is 1 + 1.
	 */
	CHECK_INT_EQ(r.count, 2);
	CHECK(!r.nbest[0].is_null);
	CHECK_INT_EQ(r.nbest[0].start_char, 0);
	CHECK_INT_EQ(r.nbest[0].end_char, 2);
	CHECK(r.nbest[1].is_null);
	CHECK_NEAR(r.nbest[0].probability, e8 / (e8 + e2), 1e-12);
	CHECK_NEAR(r.nbest[1].probability, e2 / (e8 + e2), 1e-12);
	CHECK_NEAR(r.null_score_diff, -6.0, 1e-12);
	CHECK_INT_EQ(r.answer, 0);
	bq_qa_result_free(&r);

	/* -6 > -7: no answer */
	s.null_threshold = -7.0;
	CHECK_INT_EQ(run_postprocess(&s, start, end, &r), BQ_OK);
	CHECK_INT_EQ(r.answer, 1);
	CHECK_NEAR(r.null_score_diff, -6.0, 1e-12);
	bq_qa_result_free(&r);

	/* a longer answer limit admits "bb x bb" (score 7.5), ranked second */
	s.null_threshold = 0.0;
	s.max_answer_len = 3;
	CHECK_INT_EQ(run_postprocess(&s, start, end, &r), BQ_OK);
	CHECK_INT_EQ(r.count, 3);
	CHECK_INT_EQ(r.nbest[1].start_char, 0);
	CHECK_INT_EQ(r.nbest[1].end_char, 7);
	CHECK(r.nbest[2].is_null);
	bq_qa_result_free(&r);
}

/*
 * SentencePiece's pieces span the white space before them ("▁ruled"): an
 * answer is the text without it, and a piece of nothing but white space
 * is no answer at all.
 */
static void
test_postprocess_piece_spaces(void)
{
	/* "Who  ruled<U+3000>Normandy ": Who, "  ruled", "<U+3000>Normandy", " " */
	const char *context = "Who  ruled\xe3\x80\x80Normandy ";
	const BqToken pieces[] = {{5, 0, 3}, {6, 3, 10}, {7, 10, 19}, {8, 19, 20}};
	/* [CLS] q [SEP] Who ruled Normandy " " [SEP] */
	const double start[] = {0.0, 0.0, 0.0, 0.0, 5.0, 3.0, 4.5, 0.0};
	const double end[] = {0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 4.5, 0.0};
	BqQaSettings s;
	BqQaResult	r;

	bq_qa_default_settings(&s);
	s.max_seq_len = 16;
	s.n_best = 4;
	CHECK_INT_EQ(run_postprocess_on(context, pieces, 4, &s, start, end, &r), BQ_OK);
	/*
	 * (4,5) 10: "ruled<U+3000>Normandy"; (4,6) 9.5, the same once trimmed;
	 * (6,6) 9, white space only; (5,5) 8: "Normandy"; (5,6) 7.5, the same.
	 */
	CHECK_INT_EQ(r.count, 3);
	CHECK_INT_EQ(r.answer, 0);
	CHECK_INT_EQ(r.nbest[0].start_char, 5);
	CHECK_INT_EQ(r.nbest[0].end_char, 19);
	CHECK_INT_EQ(r.nbest[1].start_char, 11);
	CHECK_INT_EQ(r.nbest[1].end_char, 19);
	CHECK(r.nbest[2].is_null);
	for (size_t i = 0; i < r.count; i++)
		CHECK(r.nbest[i].is_null || r.nbest[i].end_char > r.nbest[i].start_char);
	bq_qa_result_free(&r);
}

static void
test_postprocess_no_valid_span(void)
{
	const double start[] = {1.0, 5.0, 0.0, 4.0, 0.0, 3.5, -1.0, 0.0};
	const double end[] = {1.5, 5.0, 0.0, 4.0, 0.0, 3.5, 2.0, 0.0};
	BqQaSettings s;
	BqQaResult	r;

	bq_qa_default_settings(&s);
	s.max_seq_len = 16;
	s.n_best = 1;				/* only the question position is considered */
	CHECK_INT_EQ(run_postprocess(&s, start, end, &r), BQ_OK);
	CHECK_INT_EQ(r.count, 1);
	CHECK(r.nbest[0].is_null);
	CHECK_NEAR(r.nbest[0].probability, 1.0, 1e-12);
	CHECK_NEAR(r.nbest[0].start_logit, 1.0, 1e-6);
	CHECK_NEAR(r.nbest[0].end_logit, 1.5, 1e-6);
	CHECK_INT_EQ(r.answer, 0);
	CHECK_NEAR(r.null_score_diff, 0.0, 0.0);
	bq_qa_result_free(&r);
}

static void
test_postprocess_empty_context(void)
{
	BqSquadFeatures f;
	BqQaCollector c;
	BqQaSettings s;
	BqQaResult	r;
	BqError		err;

	bq_qa_default_settings(&s);
	CHECK_INT_EQ(bq_squad_features_build(&f, pp_question, 1, NULL, 0, &bert_pair_ids, &s, &err), BQ_OK);
	CHECK_INT_EQ(f.n_windows, 0);
	CHECK_INT_EQ(bq_qa_collector_init(&c, &f, &s, &err), BQ_OK);
	CHECK_INT_EQ(bq_qa_collector_finish(&c, "", 0, &r, &err), BQ_OK);
	CHECK_INT_EQ(r.count, 1);
	CHECK(r.nbest[0].is_null);
	CHECK_NEAR(r.nbest[0].probability, 1.0, 0.0);
	CHECK_INT_EQ(r.answer, 0);
	CHECK_NEAR(r.null_score_diff, 0.0, 0.0);
	bq_qa_result_free(&r);
	bq_qa_collector_free(&c);
	bq_squad_features_free(&f);
}

static void
test_check_settings(void)
{
	BqQaSettings s;
	BqError		err;

	bq_qa_default_settings(&s);
	CHECK_INT_EQ(bq_qa_check_settings(&s, &err), BQ_OK);
	s.doc_stride = 0;
	CHECK_INT_EQ(bq_qa_check_settings(&s, &err), BQ_ERR_INPUT);
	CHECK(strstr(err.message, "doc_stride") != NULL);
	bq_qa_default_settings(&s);
	s.max_seq_len = 7;
	CHECK_INT_EQ(bq_qa_check_settings(&s, &err), BQ_ERR_INPUT);
	bq_qa_default_settings(&s);
	s.null_threshold = INFINITY;
	CHECK_INT_EQ(bq_qa_check_settings(&s, &err), BQ_ERR_INPUT);
	bq_qa_default_settings(&s);
	s.n_best = 0;
	CHECK_INT_EQ(bq_qa_check_settings(&s, &err), BQ_ERR_INPUT);
}

/*
 * A checkpoint's recommended settings replace the generic defaults, but
 * never a setting the caller chose.
 */
static void
test_model_defaults(void)
{
	BqQaSettings settings;
	BqQaDefaults none = {0};
	BqQaDefaults nemo = {256, 64, 32, 15, 10, true, -1.5};

	bq_qa_default_settings(&settings);
	bq_qa_apply_model_defaults(&settings, &none, 0);
	CHECK_INT_EQ(settings.max_seq_len, 384);
	CHECK_INT_EQ(settings.doc_stride, 128);
	CHECK_NEAR(settings.null_threshold, 0.0, 0.0);

	bq_qa_apply_model_defaults(&settings, &nemo, 0);
	CHECK_INT_EQ(settings.max_seq_len, 256);
	CHECK_INT_EQ(settings.doc_stride, 64);
	CHECK_INT_EQ(settings.max_query_len, 32);
	CHECK_INT_EQ(settings.max_answer_len, 15);
	CHECK_INT_EQ(settings.n_best, 10);
	CHECK_NEAR(settings.null_threshold, -1.5, 0.0);

	bq_qa_default_settings(&settings);
	settings.doc_stride = 100;
	settings.null_threshold = 2.0;
	bq_qa_apply_model_defaults(&settings, &nemo,
							   BQ_QA_SET_DOC_STRIDE | BQ_QA_SET_NULL_THRESHOLD);
	CHECK_INT_EQ(settings.doc_stride, 100);
	CHECK_NEAR(settings.null_threshold, 2.0, 0.0);
	CHECK_INT_EQ(settings.max_seq_len, 256);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_doc_spans_stride);
	RUN_TEST(test_doc_spans_empty_and_invalid);
	RUN_TEST(test_max_context);
	RUN_TEST(test_window_layout);
	RUN_TEST(test_window_layout_roberta);
	RUN_TEST(test_best_indexes);
	RUN_TEST(test_answer_key);
	RUN_TEST(test_postprocess_dedup_and_threshold);
	RUN_TEST(test_postprocess_piece_spaces);
	RUN_TEST(test_postprocess_no_valid_span);
	RUN_TEST(test_postprocess_empty_context);
	RUN_TEST(test_check_settings);
	RUN_TEST(test_model_defaults);
	UNIT_DONE();
}
