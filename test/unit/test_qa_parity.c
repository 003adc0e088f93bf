/*
 * test_qa_parity.c - bertqa against Google BERT's run_squad.py on the cases
 * of test/fixtures/squad/google-ref.public.seq{384,64}.jsonl:
 *
 *  (1) our windows' input_ids / token_type_ids equal the reference's;
 *  (2) post-processing the reference's own logits reproduces its prediction,
 *      n-best texts, probabilities and logits, and null_score_diff;
 *  (3) the whole pipeline on the tiny model reproduces its prediction;
 *  (4) with null_threshold at the median null_score_diff, exactly the cases
 *      above the median turn into "no answer";
 *  (5) with no answer not allowed, the answer is the reference's best span.
 *
 * Cases where the reference crashed ("google_error") must get a sensible
 * result instead: no answer.  Texts are compared whitespace-collapsed, as the
 * reference rebuilds answers from whitespace-split words.
 */
#include "unit.h"

#include <stdlib.h>

#include "encoder.h"
#include "file_util.h"
#include "heads64_model.h"
#include "model.h"
#include "precision_expected.h"
#include "qa.h"
#include "squad_features.h"
#include "squad_postprocess.h"

#define MODEL_DIR "test/fixtures/tiny-model"

static BqModel *model;
static BqEncoder *encoder;

/* Per-file counts of cases that pass each check. */
typedef struct Tally
{
	int			cases;
	int			google_errors;
	int			errors_sensible;
	int			windows_equal;
	int			prediction_equal;	/* (2) from the reference's logits */
	int			nbest_equal;
	int			null_diff_equal;
	int			pipeline_equal;
	int			squad_cases;	/* the cases taken from SQuAD, not hand-made */
	int			squad_pipeline_equal;
	int			threshold_flips_right;
	int			always_answers;
} Tally;

/* One parsed case. */
typedef struct Case
{
	json_object *obj;
	const char *id;
	const char *question;
	const char *context;
	size_t		context_len;
	BqQaSettings settings;
	json_object *features;		/* NULL for google_error cases */
	const char *prediction;
	json_object *nbest;
	double		null_score_diff;
} Case;

static json_object *
field(json_object *obj, const char *name)
{
	json_object *v = NULL;

	json_object_object_get_ex(obj, name, &v);
	return v;
}

static bool
parse_case(json_object *obj, Case *c)
{
	json_object *s = field(obj, "settings");
	json_object *context = field(obj, "context");

	memset(c, 0, sizeof(*c));
	c->obj = obj;
	if (s == NULL || context == NULL || field(obj, "id") == NULL ||
		field(obj, "question") == NULL)
		return false;
	c->id = json_object_get_string(field(obj, "id"));
	c->question = json_object_get_string(field(obj, "question"));
	c->context = json_object_get_string(context);
	c->context_len = (size_t) json_object_get_string_len(context);
	bq_qa_default_settings(&c->settings);
	c->settings.max_seq_len = json_object_get_int(field(s, "max_seq_length"));
	c->settings.doc_stride = json_object_get_int(field(s, "doc_stride"));
	c->settings.max_query_len = json_object_get_int(field(s, "max_query_length"));
	c->settings.n_best = json_object_get_int(field(s, "n_best_size"));
	c->settings.max_answer_len = json_object_get_int(field(s, "max_answer_length"));
	if (field(obj, "google_error") != NULL)
		return true;
	c->features = field(obj, "features");
	c->prediction = json_object_get_string(field(obj, "prediction"));
	c->nbest = field(obj, "nbest");
	c->null_score_diff = json_object_get_double(field(obj, "null_score_diff"));
	return c->features != NULL && c->prediction != NULL && c->nbest != NULL;
}

/* Whitespace-collapsed copy of a text, for comparisons. */
static char *
collapsed(const char *text, size_t len)
{
	size_t		key_len;

	return bq_answer_key(text, len, &key_len);
}

/* Collapsed text of a result entry. */
static char *
entry_text(const Case *c, const BqQaCandidate *entry)
{
	size_t		from,
				to;

	from = entry->start_byte;
	to = entry->end_byte;
	return collapsed(c->context + from, to - from);
}

/* Does the collapsed text of 'entry' equal the reference's 'want'? */
static bool
text_matches(const Case *c, const BqQaCandidate *entry, const char *want,
			 char **ours)
{
	char	   *mine = entry_text(c, entry);
	char	   *theirs = collapsed(want, strlen(want));
	bool		same = strcmp(mine, theirs) == 0;

	free(theirs);
	*ours = mine;
	return same;
}

static void
tokenize_case(const Case *c, BqTokenList *q, BqTokenList *ctx)
{
	BqError		err;

	memset(q, 0, sizeof(*q));
	memset(ctx, 0, sizeof(*ctx));
	CHECK_INT_EQ(bq_tokenize(model->tokenizer, c->question, strlen(c->question), q, &err), BQ_OK);
	CHECK_INT_EQ(bq_tokenize(model->tokenizer, c->context, c->context_len, ctx, &err), BQ_OK);
}

/* (1): do our windows equal the reference's features? */
static bool
windows_equal(const Case *c, const BqSquadFeatures *f)
{
	int32_t		ids[1024],
				types[1024];

	if ((size_t) f->n_windows != json_object_array_length(c->features))
	{
		fprintf(stderr, "  %s: %d windows, reference %zu\n", c->id, f->n_windows,
				json_object_array_length(c->features));
		return false;
	}
	for (int32_t w = 0; w < f->n_windows; w++)
	{
		json_object *feat = json_object_array_get_idx(c->features, (size_t) w);
		json_object *want_ids = field(feat, "input_ids");
		json_object *want_types = field(feat, "token_type_ids");
		int32_t		len = bq_squad_window_length(f, w);

		if (len > 1024 || (size_t) len != json_object_array_length(want_ids))
		{
			fprintf(stderr, "  %s: window %d has %d tokens, reference %zu\n",
					c->id, w, len, json_object_array_length(want_ids));
			return false;
		}
		bq_squad_window_fill(f, w, ids, types);
		for (int32_t i = 0; i < len; i++)
		{
			if (ids[i] != json_object_get_int(json_object_array_get_idx(want_ids, (size_t) i)) ||
				types[i] != json_object_get_int(json_object_array_get_idx(want_types, (size_t) i)))
			{
				fprintf(stderr, "  %s: window %d differs at position %d (id %d)\n",
						c->id, w, i, ids[i]);
				return false;
			}
		}
	}
	return true;
}

/* Post-process the reference's logits with our code. */
static int
postprocess_reference_logits(const Case *c, const BqSquadFeatures *f,
							 const BqQaSettings *settings, BqQaResult *result)
{
	BqQaCollector collector;
	BqError		err;
	double		start[1024],
				end[1024];
	int			status;

	status = bq_qa_collector_init(&collector, f, settings, &err);
	for (int32_t w = 0; status == BQ_OK && w < f->n_windows; w++)
	{
		json_object *feat = json_object_array_get_idx(c->features, (size_t) w);
		json_object *s = field(feat, "start_logits");
		json_object *e = field(feat, "end_logits");

		for (size_t i = 0; i < json_object_array_length(s) && i < 1024; i++)
		{
			start[i] = json_object_get_double(json_object_array_get_idx(s, i));
			end[i] = json_object_get_double(json_object_array_get_idx(e, i));
		}
		status = bq_qa_collect_window(&collector, w, start, end, &err);
	}
	if (status == BQ_OK)
		status = bq_qa_collector_finish(&collector, c->context, c->context_len,
										result, &err);
	bq_qa_collector_free(&collector);
	return status;
}

/*
 * (2): prediction, n-best list and null_score_diff from the reference's
 * logits, each tallied on its own.
 */
static void
check_postprocess(const Case *c, const BqSquadFeatures *f, Tally *t)
{
	BqQaResult	r;
	bool		nbest_ok;
	char	   *text;

	if (postprocess_reference_logits(c, f, &c->settings, &r) != BQ_OK)
		return;
	if (text_matches(c, &r.nbest[r.answer], c->prediction, &text))
		t->prediction_equal++;
	else
		fprintf(stderr, "  %s: prediction \"%s\", reference \"%s\"\n", c->id, text, c->prediction);
	free(text);
	if (fabs(r.null_score_diff - c->null_score_diff) <= 1e-3)
		t->null_diff_equal++;
	else
		fprintf(stderr, "  %s: null_score_diff %.6f, reference %.6f\n", c->id,
				r.null_score_diff, c->null_score_diff);
	nbest_ok = r.count == json_object_array_length(c->nbest);
	if (!nbest_ok)
		fprintf(stderr, "  %s: %zu n-best entries, reference %zu\n", c->id, r.count,
				json_object_array_length(c->nbest));
	for (size_t i = 0; nbest_ok && i < r.count; i++)
	{
		json_object *want = json_object_array_get_idx(c->nbest, i);

		if (!text_matches(c, &r.nbest[i], json_object_get_string(field(want, "text")), &text) ||
			fabs(r.nbest[i].probability - json_object_get_double(field(want, "probability"))) > 1e-4 ||
			fabs(r.nbest[i].start_logit - json_object_get_double(field(want, "start_logit"))) > 1e-4 ||
			fabs(r.nbest[i].end_logit - json_object_get_double(field(want, "end_logit"))) > 1e-4)
		{
			fprintf(stderr, "  %s: n-best %zu is \"%s\" p=%.6f, reference \"%s\" p=%.6f\n",
					c->id, i, text, r.nbest[i].probability,
					json_object_get_string(field(want, "text")),
					json_object_get_double(field(want, "probability")));
			nbest_ok = false;
		}
		free(text);
	}
	t->nbest_equal += nbest_ok;
	bq_qa_result_free(&r);
}

/*
 * (4): with the threshold at 'threshold', the answer is "" exactly when the
 * reference's null_score_diff exceeds it, else the best non-null text.
 */
static bool
threshold_flips_right(const Case *c, const BqSquadFeatures *f, double threshold)
{
	BqQaSettings s = c->settings;
	BqQaResult	r;
	bool		want_null = c->null_score_diff > threshold;
	bool		ok;

	s.null_threshold = threshold;
	if (postprocess_reference_logits(c, f, &s, &r) != BQ_OK)
		return false;
	ok = r.nbest[r.answer].is_null == want_null;
	if (ok && !want_null)
	{
		/* the reference's best non-null entry is its first non-empty text */
		for (size_t i = 0; i < json_object_array_length(c->nbest); i++)
		{
			const char *t = json_object_get_string(field(json_object_array_get_idx(c->nbest, i), "text"));
			char	   *text;

			if (t[0] == '\0')
				continue;
			ok = text_matches(c, &r.nbest[r.answer], t, &text);
			free(text);
			break;
		}
	}
	if (!ok)
		fprintf(stderr, "  %s: threshold %.4f: wrong decision (null_score_diff %.4f)\n",
				c->id, threshold, c->null_score_diff);
	bq_qa_result_free(&r);
	return ok;
}

/*
 * A model that never says "no answer" (allow_no_answer false, as run_squad.py
 * without version_2_with_negative): even a threshold that would pick the
 * null entry gives the reference's best span, and the n-best list has no
 * null entry, its probabilities summing to 1.
 */
static bool
always_answers(const Case *c, const BqSquadFeatures *f)
{
	BqQaSettings s = c->settings;
	BqQaResult	r;
	bool		ok;
	double		total = 0.0;
	const char *want = NULL;
	char	   *text;

	s.null_threshold = -1e9;
	s.allow_no_answer = false;
	if (postprocess_reference_logits(c, f, &s, &r) != BQ_OK)
		return false;
	for (size_t i = 0; i < json_object_array_length(c->nbest) && want == NULL; i++)
	{
		const char *t = json_object_get_string(field(json_object_array_get_idx(c->nbest, i), "text"));

		if (t[0] != '\0')
			want = t;
	}
	for (size_t i = 0; i < r.count; i++)
	{
		CHECK(!r.nbest[i].is_null);
		total += r.nbest[i].probability;
	}
	CHECK(fabs(total - 1.0) < 1e-9);
	ok = want != NULL && !r.nbest[r.answer].is_null &&
		text_matches(c, &r.nbest[r.answer], want, &text);
	if (want != NULL && !r.nbest[r.answer].is_null)
		free(text);
	if (!ok)
		fprintf(stderr, "  %s: with no answer not allowed, not the reference's best span\n", c->id);
	bq_qa_result_free(&r);
	return ok;
}

/* (3): the whole pipeline on the tiny model. */
static bool
pipeline_equal(const Case *c)
{
	BqQaResult	r;
	BqError		err;
	char	   *text;
	bool		ok;

	if (bq_qa_answer(model, encoder, &c->settings, c->question, strlen(c->question),
					 c->context, c->context_len, &r, NULL, &err) != BQ_OK)
	{
		fprintf(stderr, "  %s: pipeline failed: %s\n", c->id, err.message);
		return false;
	}
	ok = text_matches(c, &r.nbest[r.answer], c->prediction, &text);
	if (!ok)
		fprintf(stderr, "  %s: pipeline answer \"%s\" (null_score_diff %.5f), reference \"%s\" (%.5f)\n",
				c->id, text, r.null_score_diff, c->prediction, c->null_score_diff);
	free(text);
	bq_qa_result_free(&r);
	return ok;
}

/*
 * Where the reference crashed, we must answer "no answer" with the null
 * entry present, and say what we returned.
 */
static bool
google_error_sensible(const Case *c)
{
	BqQaResult	r;
	BqError		err;
	bool		ok;
	size_t		non_null = 0;

	if (bq_qa_answer(model, encoder, &c->settings, c->question, strlen(c->question),
					 c->context, c->context_len, &r, NULL, &err) != BQ_OK)
	{
		fprintf(stderr, "  %s: failed: %s\n", c->id, err.message);
		return false;
	}
	for (size_t i = 0; i < r.count; i++)
		non_null += !r.nbest[i].is_null;
	ok = r.count >= 1 && r.nbest[r.answer].is_null && non_null == 0 &&
		r.null_score_diff == 0.0;
	fprintf(stderr, "  %s (seq %d, reference crashed): %zu entries, no answer with p=%.3f, null_score_diff %g%s\n",
			c->id, c->settings.max_seq_len, r.count, r.nbest[r.answer].probability,
			r.null_score_diff, ok ? "" : "  <-- NOT SENSIBLE");
	bq_qa_result_free(&r);
	return ok;
}

static int
compare_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * The median of the reference's null_score_diff over the cases it answered,
 * taken as the midpoint between the two middle values so that no case sits
 * exactly on the threshold (where rounding in the fixture would decide).
 */
static double
median_null_score_diff(const Case *cases, int n)
{
	double	   *v = malloc(sizeof(double) * (size_t) n);
	int			m = 0;
	double		median;

	for (int i = 0; i < n; i++)
		if (cases[i].features != NULL)
			v[m++] = cases[i].null_score_diff;
	qsort(v, (size_t) m, sizeof(double), compare_doubles);
	median = (v[(m - 1) / 2] + v[(m - 1) / 2 + 1]) / 2;
	free(v);
	return median;
}

static void
run_case(const Case *c, double median, Tally *t)
{
	BqTokenList q,
				ctx;
	BqSquadFeatures f;
	BqError		err;
	bool		same;

	t->cases++;
	if (c->features == NULL)
	{
		t->google_errors++;
		t->errors_sensible += google_error_sensible(c);
		return;
	}
	tokenize_case(c, &q, &ctx);
	CHECK_INT_EQ(bq_squad_features_build(&f, q.tokens, q.count, ctx.tokens, ctx.count,
										 bq_tokenizer_pair_template(model->tokenizer),
										 &c->settings, &err), BQ_OK);
	if (windows_equal(c, &f))
	{
		t->windows_equal++;
		check_postprocess(c, &f, t);
		t->threshold_flips_right += threshold_flips_right(c, &f, median);
		t->always_answers += always_answers(c, &f);
	}
	same = pipeline_equal(c);
	t->pipeline_equal += same;
	if (strncmp(c->id, "edge-", 5) != 0)
	{
		t->squad_cases++;
		t->squad_pipeline_equal += same;
	}
	bq_squad_features_free(&f);
	bq_token_list_free(&q);
	bq_token_list_free(&ctx);
}

static double
percent(int part, int whole)
{
	return whole == 0 ? 0.0 : 100.0 * part / whole;
}

/*
 * Every case of one fixture file; *n gets their number.
 */
static Case *
load_cases(const char *path, int *n)
{
	BqError		err;
	size_t		len;
	char	   *data = bq_read_file(path, &len, &err);
	Case	   *cases = NULL;

	*n = 0;
	CHECK(data != NULL);
	if (data == NULL)
		return NULL;
	for (char *line = data, *next; *line != '\0'; line = next)
	{
		json_object *obj;

		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (next - line <= 1)
			continue;
		obj = bq_json_parse(line, (size_t) (next - line), path, &err);
		CHECK(obj != NULL);
		if (obj == NULL)
			continue;
		cases = realloc(cases, sizeof(Case) * (size_t) (*n + 1));
		CHECK(parse_case(obj, &cases[*n]));
		(*n)++;
	}
	free(data);
	if (*n == 0)
		fprintf(stderr, "%s has no cases\n", path);
	CHECK(*n > 0);
	return cases;
}

static void
free_cases(Case *cases, int n)
{
	for (int i = 0; i < n; i++)
		json_object_put(cases[i].obj);
	free(cases);
}

/*
 * Run every case of one fixture file and check the rates.
 */
static void
run_file(const char *path)
{
	int			n;
	Case	   *cases = load_cases(path, &n);
	Tally		t = {0};
	int			answered;
	double		median;

	if (cases == NULL)
		return;
	fprintf(stderr, "%s:\n", path);
	median = median_null_score_diff(cases, n);
	for (int i = 0; i < n; i++)
		run_case(&cases[i], median, &t);

	answered = t.cases - t.google_errors;
	printf("%s: %d cases, %d where the reference crashed (%d of them answered sensibly)\n",
		   path, t.cases, t.google_errors, t.errors_sensible);
	printf("  (1) windows equal:               %3d/%d = %6.2f%%\n", t.windows_equal,
		   answered, percent(t.windows_equal, answered));
	printf("  (2) from the reference's logits, of the cases with equal windows:\n");
	printf("      prediction equal:            %3d/%d = %6.2f%%\n", t.prediction_equal,
		   t.windows_equal, percent(t.prediction_equal, t.windows_equal));
	printf("      n-best texts/probs equal:    %3d/%d = %6.2f%%\n", t.nbest_equal,
		   t.windows_equal, percent(t.nbest_equal, t.windows_equal));
	printf("      null_score_diff equal:       %3d/%d = %6.2f%%\n", t.null_diff_equal,
		   t.windows_equal, percent(t.null_diff_equal, t.windows_equal));
	printf("  (3) pipeline prediction equal:   %3d/%d = %6.2f%% (SQuAD cases %d/%d = %.2f%%)\n",
		   t.pipeline_equal, answered, percent(t.pipeline_equal, answered),
		   t.squad_pipeline_equal, t.squad_cases,
		   percent(t.squad_pipeline_equal, t.squad_cases));
	printf("  (4) threshold %.4f: decisions right %d/%d\n", median,
		   t.threshold_flips_right, t.windows_equal);
	printf("  (5) no answer not allowed: the best span %d/%d\n", t.always_answers, t.windows_equal);

	/*
	 * The hand-made "edge-" cases hold the known differences: words the
	 * reference's tokenizer splits differently, and answers the reference
	 * widens to whole words where its get_final_text cannot align (which
	 * also changes which n-best entries it merges).
	 */
	CHECK(t.google_errors > 0);
	CHECK_INT_EQ(t.errors_sensible, t.google_errors);
	CHECK(percent(t.windows_equal, answered) >= 98.0);
	CHECK(percent(t.prediction_equal, t.windows_equal) >= 98.0);
	CHECK(percent(t.nbest_equal, t.windows_equal) >= 95.0);
	CHECK_INT_EQ(t.null_diff_equal, t.windows_equal);
	CHECK(percent(t.pipeline_equal, answered) >= 96.0);
	CHECK(percent(t.squad_pipeline_equal, t.squad_cases) >= 99.0);
	CHECK_INT_EQ(t.threshold_flips_right, t.windows_equal);
	CHECK(percent(t.always_answers, t.windows_equal) >= 98.0);
	free_cases(cases, n);
}

static void
test_seq384(void)
{
	run_file("test/fixtures/squad/google-ref.public.seq384.jsonl");
}

static void
test_seq64(void)
{
	run_file("test/fixtures/squad/google-ref.public.seq64.jsonl");
}

/* The same decided answer: no answer in both, or the same span. */
static bool
same_answer(const BqQaResult *a, const BqQaResult *b)
{
	const BqQaCandidate *x = &a->nbest[a->answer];
	const BqQaCandidate *y = &b->nbest[b->answer];

	return x->is_null == y->is_null &&
		(x->is_null || (x->start_byte == y->start_byte && x->end_byte == y->end_byte));
}

/*
 * Whether fp32's decision is clear: the answer's n-best probability leads
 * the runner-up's by at least 0.1, and null_score_diff is at least 1 away
 * from the threshold.
 */
static bool
clear_margin(const BqQaResult *r, const BqQaSettings *settings)
{
	double		best = r->nbest[r->answer].probability;
	double		second = 0.0;

	for (size_t i = 0; i < r->count; i++)
		if ((int) i != r->answer && r->nbest[i].probability > second)
			second = r->nbest[i].probability;
	return best - second >= 0.1 && fabs(r->null_score_diff - settings->null_threshold) >= 1.0;
}

/*
 * Every case of both fixture files on model 'm' ('fp32' its fp32 encoder)
 * with the projections in 'precision', against fp32: the share of final
 * answers that are the same (at least 'min_percent'), and all of them where
 * fp32's decision is clear (at least 'min_clear_share' of the cases); and
 * the precision moved the scores (null_score_diff) of most cases, so it did
 * not run fp32.  Where this machine runs 'precision' as fp32 the test is
 * skipped, unless the CPU has the instructions for it.
 */
static void
check_precision(const BqModel *m, BqEncoder *fp32_encoder, BqPrecision precision,
				bool emulated, double min_percent, double min_clear_share)
{
	const char *const paths[] = {"test/fixtures/squad/google-ref.public.seq384.jsonl",
	"test/fixtures/squad/google-ref.public.seq64.jsonl"};
	BqError		err;
	BqEncoder  *other = bq_encoder_new(m, precision, &err);
	int			total = 0,
				same = 0,
				moved = 0,
				clear = 0,
				clear_same = 0;

	CHECK(other != NULL);
	if (other == NULL)
	{
		fprintf(stderr, "%s encoder: %s\n", bq_precision_name(precision), err.message);
		return;
	}
	if (bq_encoder_precision(other) != precision)
	{
		CHECK(!precision_expected(precision, emulated));
		unit_skip("%s does not run on this machine (fp32 runs instead)",
				  bq_precision_name(precision));
		bq_encoder_free(other);
		return;
	}
	for (int p = 0; p < 2; p++)
	{
		int			n;
		Case	   *cases = load_cases(paths[p], &n);

		for (int i = 0; i < n; i++)
		{
			const Case *c = &cases[i];
			BqQaResult	fp32,
						r;

			if (c->features == NULL)
				continue;
			CHECK_INT_EQ(bq_qa_answer(m, fp32_encoder, &c->settings, c->question, strlen(c->question),
									  c->context, c->context_len, &fp32, NULL, &err), BQ_OK);
			CHECK_INT_EQ(bq_qa_answer(m, other, &c->settings, c->question, strlen(c->question),
									  c->context, c->context_len, &r, NULL, &err), BQ_OK);
			total++;
			same += same_answer(&fp32, &r);
			moved += r.null_score_diff != fp32.null_score_diff;
			if (clear_margin(&fp32, &c->settings))
			{
				clear++;
				clear_same += same_answer(&fp32, &r);
				if (!same_answer(&fp32, &r))
					fprintf(stderr, "  %s: %s changed a clear answer\n", c->id,
							bq_precision_name(precision));
			}
			bq_qa_result_free(&fp32);
			bq_qa_result_free(&r);
		}
		free_cases(cases, n);
	}
	printf("%s on %s: final answer equal to fp32 in %d/%d cases = %.2f%%; "
		   "clear-margin cases %d/%d; null_score_diff moved in %d\n",
		   bq_precision_name(precision), m->path, same, total, percent(same, total), clear_same,
		   clear, moved);
	CHECK(total > 0);
	CHECK(moved > total / 2);
	CHECK(percent(same, total) >= min_percent);
	CHECK(clear >= total * min_clear_share);
	CHECK_INT_EQ(clear_same, clear);
	bq_encoder_free(other);
}

static void
test_int8(void)
{
	check_precision(model, encoder, BQ_PRECISION_INT8, false, 95.0, 0.25);
}

static void
test_bf16(void)
{
	unit_emulate_bf16();
	check_precision(model, encoder, BQ_PRECISION_BF16, true, 97.0, 0.25);
}

/*
 * The same bounds on a model with heads of 64, whose attention runs in the
 * AVX-512 kernel (on bfloat16 products in int8 and bf16 where the CPU has
 * AVX512-BF16; the tiny model's heads of 16 take OpenBLAS).  Its weights
 * are random, its n-best lists flat: no decision of it is clear, so only
 * the share of equal answers holds here.  test/run makes it ('bertqa
 * init-model', see BQ_HEADS64_MODEL there); skipped without it.
 */
static void
test_heads64(void)
{
	BqModel    *m = heads64_model_load();
	BqEncoder  *fp32;
	BqError		err;

	if (m == NULL)
		return;
	fp32 = bq_encoder_new(m, BQ_PRECISION_FP32, &err);
	CHECK(fp32 != NULL);
	if (fp32 != NULL)
	{
		check_precision(m, fp32, BQ_PRECISION_INT8, false, 95.0, 0.0);
		unit_emulate_bf16();
		check_precision(m, fp32, BQ_PRECISION_BF16, true, 97.0, 0.0);
	}
	bq_encoder_free(fp32);
	bq_model_free(m);
}

/*
 * Settings that leave no room for the context, or exceed the model, are
 * input errors that name the setting.
 */
static void
test_settings_errors(void)
{
	BqQaSettings s;
	BqQaResult	r;
	BqError		err;
	const char *q = "why why why why why why why why why why why";
	const char *ctx = "Because.";

	bq_qa_default_settings(&s);
	s.max_seq_len = 12;
	s.max_query_len = 10;
	CHECK_INT_EQ(bq_qa_answer(model, encoder, &s, q, strlen(q), ctx, strlen(ctx),
							  &r, NULL, &err), BQ_ERR_INPUT);
	CHECK(strstr(err.message, "max_seq_len") != NULL);
	CHECK(r.nbest == NULL);

	bq_qa_default_settings(&s);
	s.max_seq_len = model->config.max_position_embeddings + 1;
	CHECK_INT_EQ(bq_qa_answer(model, encoder, &s, q, strlen(q), ctx, strlen(ctx),
							  &r, NULL, &err), BQ_ERR_INPUT);
	CHECK(strstr(err.message, "max_position_embeddings") != NULL);

	/* invalid UTF-8 names the input */
	bq_qa_default_settings(&s);
	CHECK_INT_EQ(bq_qa_answer(model, encoder, &s, q, strlen(q), "\xff", 1,
							  &r, NULL, &err), BQ_ERR_INPUT);
	CHECK(strncmp(err.message, "context", 7) == 0);
}

static int
always_pending(void *arg)
{
	return 1;
}

static void
test_cancel(void)
{
	BqQaSettings s;
	BqQaResult	r;
	BqError		err;
	BqInterrupt intr = {always_pending, NULL};

	bq_qa_default_settings(&s);
	CHECK_INT_EQ(bq_qa_answer(model, encoder, &s, "Who?", 4, "Alice met Bob.", 14,
							  &r, &intr, &err), BQ_ERR_CANCELLED);
	CHECK(r.nbest == NULL);
}

int
main(int argc, char **argv)
{
	BqError		err;

	unit_select(argc, argv);
	model = bq_model_load(MODEL_DIR, &err);
	if (model == NULL)
	{
		fprintf(stderr, "cannot load %s: %s\n", MODEL_DIR, err.message);
		return 1;
	}
	encoder = bq_encoder_new(model, BQ_PRECISION_FP32, &err);
	if (encoder == NULL)
	{
		fprintf(stderr, "cannot make an encoder: %s\n", err.message);
		return 1;
	}
	RUN_TEST(test_seq384);
	RUN_TEST(test_seq64);
	RUN_TEST(test_settings_errors);
	RUN_TEST(test_cancel);
	RUN_TEST(test_int8);
	RUN_TEST(test_bf16);
	RUN_TEST(test_heads64);
	bq_encoder_free(encoder);
	bq_model_free(model);
	UNIT_DONE();
}
