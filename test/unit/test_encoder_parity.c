/*
 * test_encoder_parity.c - the encoder's logits against the reference ones
 * (PyTorch BertForQuestionAnswering on the tiny model) for every window of
 * the Google run_squad.py fixtures, alone and in mixed-length batches, on
 * one thread and on two under a storm of signals; batched logits equal to
 * the bit to those of each window alone, in every precision; a model with
 * heads of 64 (attention in the AVX-512 kernel) in int8 and bf16 under
 * signals as without; plus input validation,
 * cancellation and the FLOP count.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "unit.h"

#include "compute.h"
#include "encoder.h"
#include "file_util.h"
#include "heads64_model.h"
#include "model.h"
#include "onednn.h"
#include "precision_expected.h"

#define MODEL_DIR "test/fixtures/tiny-model"
#define SEQ384 "test/fixtures/squad/google-ref.public.seq384.jsonl"
#define SEQ64 "test/fixtures/squad/google-ref.public.seq64.jsonl"

/* One window of a fixture with its reference logits. */
typedef struct Window
{
	int32_t		len;
	int32_t    *ids;
	int32_t    *types;
	float	   *start;
	float	   *end;
} Window;

typedef struct WindowSet
{
	Window	   *w;
	int			count;
	int			capacity;
} WindowSet;

static BqModel *model;

/*
 * Copy a JSON array of numbers; false if it is not one of length 'len'.
 */
static bool
read_ints(json_object *arr, int32_t len, int32_t *out)
{
	if (arr == NULL || !json_object_is_type(arr, json_type_array) ||
		(int32_t) json_object_array_length(arr) != len)
		return false;
	for (int32_t i = 0; i < len; i++)
		out[i] = json_object_get_int(json_object_array_get_idx(arr, i));
	return true;
}

static bool
read_floats(json_object *arr, int32_t len, float *out)
{
	if (arr == NULL || !json_object_is_type(arr, json_type_array) ||
		(int32_t) json_object_array_length(arr) != len)
		return false;
	for (int32_t i = 0; i < len; i++)
		out[i] = (float) json_object_get_double(json_object_array_get_idx(arr, i));
	return true;
}

/*
 * Every feature of every line of a fixture file.
 */
static void
load_windows(const char *path, WindowSet *set)
{
	BqError		err;
	size_t		len;
	char	   *text = bq_read_file(path, &len, &err);
	char	   *line = text;

	CHECK(text != NULL);
	if (text == NULL)
		return;
	while (line < text + len)
	{
		char	   *nl = strchr(line, '\n');
		size_t		line_len = nl != NULL ? (size_t) (nl - line) : strlen(line);
		json_object *obj;
		json_object *features;

		if (line_len == 0)
		{
			line += 1;
			continue;
		}
		obj = bq_json_parse(line, line_len, path, &err);
		CHECK(obj != NULL);
		if (obj != NULL && json_object_object_get_ex(obj, "features", &features))
		{
			for (size_t f = 0; f < json_object_array_length(features); f++)
			{
				json_object *feat = json_object_array_get_idx(features, f);
				json_object *ids = json_object_object_get(feat, "input_ids");
				Window	   *w;

				if (set->count == set->capacity)
				{
					set->capacity = set->capacity ? set->capacity * 2 : 256;
					set->w = realloc(set->w, sizeof(Window) * (size_t) set->capacity);
				}
				w = &set->w[set->count++];
				w->len = (int32_t) json_object_array_length(ids);
				w->ids = malloc(sizeof(int32_t) * (size_t) w->len);
				w->types = malloc(sizeof(int32_t) * (size_t) w->len);
				w->start = malloc(sizeof(float) * (size_t) w->len);
				w->end = malloc(sizeof(float) * (size_t) w->len);
				CHECK(read_ints(ids, w->len, w->ids));
				CHECK(read_ints(json_object_object_get(feat, "token_type_ids"), w->len, w->types));
				CHECK(read_floats(json_object_object_get(feat, "start_logits"), w->len, w->start));
				CHECK(read_floats(json_object_object_get(feat, "end_logits"), w->len, w->end));
			}
		}
		json_object_put(obj);
		line += line_len + 1;
	}
	free(text);
}

static void
free_windows(WindowSet *set)
{
	for (int i = 0; i < set->count; i++)
	{
		free(set->w[i].ids);
		free(set->w[i].types);
		free(set->w[i].start);
		free(set->w[i].end);
	}
	free(set->w);
}

/* The most windows run_batch runs at once. */
#define MAX_BATCH 8

/*
 * Logits of windows [first, first + n) of 'set' run as one batch, into
 * start[i] and end[i] (malloc'd); false if the encoder failed.
 */
static bool
run_batch(BqEncoder *enc, const WindowSet *set, int first, int n, float **start, float **end)
{
	const int32_t *ids[MAX_BATCH];
	const int32_t *types[MAX_BATCH];
	int32_t		lens[MAX_BATCH];
	BqError		err;
	int			rc;

	CHECK(n <= MAX_BATCH);
	if (n > MAX_BATCH)
		return false;
	for (int b = 0; b < n; b++)
	{
		const Window *w = &set->w[first + b];

		ids[b] = w->ids;
		types[b] = w->types;
		lens[b] = w->len;
		start[b] = malloc(sizeof(float) * (size_t) w->len);
		end[b] = malloc(sizeof(float) * (size_t) w->len);
	}
	rc = bq_encoder_run(enc, n, ids, types, lens, start, end, NULL, &err);
	CHECK_INT_EQ(rc, BQ_OK);
	return rc == BQ_OK;
}

/*
 * Each window alone, then in batches of 'batch' consecutive windows (of
 * differing lengths): batched must equal single, both must match the
 * reference.
 */
static void
check_file(const char *path, int batch)
{
	WindowSet	set = {0};
	BqError		err;
	BqEncoder  *enc = bq_encoder_new(model, BQ_PRECISION_FP32, &err);
	double		worst = 0.0;
	double		worst_batched = 0.0;
	double		worst_vs_single = 0.0;
	float	  **single_start;
	float	  **single_end;
	int			batches = 0;
	int			mixed = 0;

	CHECK(enc != NULL);
	if (enc == NULL)
		return;
	load_windows(path, &set);
	CHECK(set.count > 0);
	if (set.count <= 0)
	{
		bq_encoder_free(enc);
		return;
	}
	single_start = calloc((size_t) set.count, sizeof(float *));
	single_end = calloc((size_t) set.count, sizeof(float *));

	for (int i = 0; i < set.count; i++)
	{
		Window	   *w = &set.w[i];

		if (!run_batch(enc, &set, i, 1, &single_start[i], &single_end[i]))
			continue;
		worst = fmax(worst, unit_max_abs_diff(single_start[i], w->start, w->len));
		worst = fmax(worst, unit_max_abs_diff(single_end[i], w->end, w->len));
	}

	for (int first = 0; first < set.count; first += batch)
	{
		int			n = set.count - first < batch ? set.count - first : batch;
		float	   *start[MAX_BATCH] = {0};
		float	   *end[MAX_BATCH] = {0};
		bool		ran = run_batch(enc, &set, first, n, start, end);

		for (int b = 0; b < n; b++)
			if (set.w[first + b].len != set.w[first].len)
				mixed = 1;
		for (int b = 0; b < n && ran; b++)
		{
			Window	   *w = &set.w[first + b];

			worst_batched = fmax(worst_batched, unit_max_abs_diff(start[b], w->start, w->len));
			worst_batched = fmax(worst_batched, unit_max_abs_diff(end[b], w->end, w->len));
			worst_vs_single = fmax(worst_vs_single, unit_max_abs_diff(start[b], single_start[first + b], w->len));
			worst_vs_single = fmax(worst_vs_single, unit_max_abs_diff(end[b], single_end[first + b], w->len));
		}
		for (int b = 0; b < n; b++)
		{
			free(start[b]);
			free(end[b]);
		}
		batches++;
	}

	printf("%s: %d windows, max |logit diff| %.3g single, %.3g batched (%d batches of up to %d); "
		   "batched vs single %.3g\n",
		   path, set.count, worst, worst_batched, batches, batch, worst_vs_single);
	CHECK(worst <= 1e-4);
	CHECK(worst_batched <= 1e-4);
	CHECK(worst_vs_single == 0.0);
	CHECK(mixed);

	for (int i = 0; i < set.count; i++)
	{
		free(single_start[i]);
		free(single_end[i]);
	}
	free(single_start);
	free(single_end);
	free_windows(&set);
	bq_encoder_free(enc);
}

static void
test_parity_seq384(void)
{
	check_file(SEQ384, 5);
}

/*
 * The logits of every seq384 window with the projections in 'precision',
 * against fp32: largest and root-mean-square differences, reported.  The
 * largest must be above zero (the precision changed the numbers: it did not
 * run fp32) and below 'bound'.  Where this machine runs 'precision' as fp32
 * the test is skipped, unless the CPU has the instructions for it.
 */
static void
check_precision_drift(BqPrecision precision, bool emulated, double bound)
{
	WindowSet	set = {0};
	BqError		err;
	BqEncoder  *fp32 = bq_encoder_new(model, BQ_PRECISION_FP32, &err);
	BqEncoder  *other = bq_encoder_new(model, precision, &err);
	double		worst = 0.0,
				sum_sq = 0.0;
	long		count = 0;

	CHECK(fp32 != NULL && other != NULL);
	if (fp32 == NULL || other == NULL || bq_encoder_precision(other) != precision)
	{
		CHECK(!precision_expected(precision, emulated));
		unit_skip("%s does not run on this machine (fp32 runs instead)",
				  bq_precision_name(precision));
		bq_encoder_free(fp32);
		bq_encoder_free(other);
		return;
	}
	load_windows(SEQ384, &set);
	for (int i = 0; i < set.count; i++)
	{
		Window	   *w = &set.w[i];
		const int32_t *ids = w->ids;
		const int32_t *types = w->types;
		float	   *out[4];

		for (int j = 0; j < 4; j++)
			out[j] = malloc(sizeof(float) * (size_t) w->len);
		CHECK_INT_EQ(bq_encoder_run(fp32, 1, &ids, &types, &w->len, &out[0], &out[1], NULL, &err), BQ_OK);
		CHECK_INT_EQ(bq_encoder_run(other, 1, &ids, &types, &w->len, &out[2], &out[3], NULL, &err), BQ_OK);
		for (int p = 0; p < w->len; p++)
		{
			for (int j = 0; j < 2; j++)
			{
				double		d = out[2 + j][p] - out[j][p];

				worst = fmax(worst, fabs(d));
				sum_sq += d * d;
				count++;
			}
		}
		for (int j = 0; j < 4; j++)
			free(out[j]);
	}
	printf("%s: %d windows, logits against fp32: max |diff| %.4f, rms %.4f\n",
		   bq_precision_name(precision), set.count, worst, sqrt(sum_sq / (double) count));
	CHECK(count > 0);
	CHECK(worst > 0.0);
	CHECK(worst < bound);
	free_windows(&set);
	bq_encoder_free(fp32);
	bq_encoder_free(other);
}

static void
test_int8_drift(void)
{
	check_precision_drift(BQ_PRECISION_INT8, false, 1.0);
}

static void
test_bf16_drift(void)
{
	unit_emulate_bf16();
	check_precision_drift(BQ_PRECISION_BF16, true, 0.5);
}


/*
 * A window's logits do not depend on the windows batched with it, to the
 * bit, in 'precision' on 'threads' threads: every seq384 window alone,
 * then in batches of 2 to 8 consecutive windows (so at every offset among
 * others of other lengths).  Answers over many contexts batch their
 * windows together and must equal the answers of each context alone.
 */
static void
check_batches_exact(BqPrecision precision, int threads)
{
	WindowSet	set = {0};
	BqError		err;
	BqEncoder  *enc;
	float	  **alone_start;
	float	  **alone_end;
	long		differing = 0,
				compared = 0;

	bq_compute_set_threads(threads);
	enc = bq_encoder_new(model, precision, &err);
	CHECK(enc != NULL);
	if (enc == NULL || bq_encoder_precision(enc) != precision)
	{
		CHECK(enc == NULL || !precision_expected(precision, false));
		unit_skip("%s does not run on this machine (fp32 runs instead)",
				  bq_precision_name(precision));
		bq_encoder_free(enc);
		bq_compute_set_threads(1);
		return;
	}
	load_windows(SEQ384, &set);
	alone_start = calloc((size_t) set.count, sizeof(float *));
	alone_end = calloc((size_t) set.count, sizeof(float *));
	for (int i = 0; i < set.count; i++)
		run_batch(enc, &set, i, 1, &alone_start[i], &alone_end[i]);

	for (int batch = 2; batch <= MAX_BATCH; batch++)
	{
		for (int first = 0; first + batch <= set.count; first += batch)
		{
			float	   *start[MAX_BATCH] = {0};
			float	   *end[MAX_BATCH] = {0};

			if (run_batch(enc, &set, first, batch, start, end))
			{
				for (int b = 0; b < batch; b++)
				{
					size_t		bytes = sizeof(float) * (size_t) set.w[first + b].len;

					differing += memcmp(start[b], alone_start[first + b], bytes) != 0;
					differing += memcmp(end[b], alone_end[first + b], bytes) != 0;
					compared += 2;
				}
			}
			for (int b = 0; b < batch; b++)
			{
				free(start[b]);
				free(end[b]);
			}
		}
	}
	printf("%s, %d thread(s): %ld of %ld batched logit rows differ from the window alone\n",
		   bq_precision_name(precision), threads, differing, compared);
	CHECK(compared > 0);
	CHECK(differing == 0);
	for (int i = 0; i < set.count; i++)
	{
		free(alone_start[i]);
		free(alone_end[i]);
	}
	free(alone_start);
	free(alone_end);
	free_windows(&set);
	bq_encoder_free(enc);
	bq_compute_set_threads(1);
}

static void
test_batches_exact(void)
{
	for (int threads = 1; threads <= 2; threads++)
	{
		check_batches_exact(BQ_PRECISION_FP32, threads);
		check_batches_exact(BQ_PRECISION_INT8, threads);
		check_batches_exact(BQ_PRECISION_BF16, threads);
	}
}

/*
 * The row counts products are compiled for: a multiple of 8 never more
 * than a step above the rows (8 rows up to 64, 16 up to 128, 32 above), so
 * a 10-token input runs 16 rows, not 32, and the sizes up to 512 rows make
 * 24 kernels per shape.
 */
static void
test_padded_rows(void)
{
	int			sizes = 0;
	int			last = 0;

	for (int rows = 1; rows <= 1024; rows++)
	{
		int			padded = bq_onednn_padded_rows(rows);
		int			step = rows <= 64 ? 8 : rows <= 128 ? 16 : 32;

		CHECK(padded >= rows && padded < rows + step && padded % step == 0);
		if (rows <= 512 && padded != last)
			sizes++;
		last = padded;
	}
	CHECK_INT_EQ(bq_onednn_padded_rows(10), 16);
	CHECK_INT_EQ(sizes, 24);
}

static volatile sig_atomic_t alarms;

static void
count_alarm(int signo)
{
	(void) signo;
	alarms++;
}

/*
 * The same parity on two threads while SIGALRM arrives every 200 µs, as a
 * PostgreSQL backend's signals may arrive at any point of a forward pass:
 * no kernel may be disturbed by them (oneDNN's sgemm was: see onednn.c).
 */
static void
test_parity_two_threads_under_signals(void)
{
	struct sigaction sa = {0};
	struct itimerval every = {{0, 200}, {0, 200}};
	struct itimerval off = {{0, 0}, {0, 0}};

	sa.sa_handler = count_alarm;
	sigaction(SIGALRM, &sa, NULL);
	bq_compute_set_threads(2);
	setitimer(ITIMER_REAL, &every, NULL);
	check_file(SEQ384, 8);
	setitimer(ITIMER_REAL, &off, NULL);
	bq_compute_set_threads(1);
	printf("%d signals arrived during the forward passes\n", (int) alarms);
	CHECK(alarms > 100);
}

static void
test_parity_seq64(void)
{
	check_file(SEQ64, 7);
}

/*
 * Run one sequence of 'len' tokens, all ids 'id' and types 'type'.
 */
static int
run_one(BqEncoder *enc, int32_t len, int32_t id, int32_t type, BqError *err)
{
	int32_t    *ids = malloc(sizeof(int32_t) * (size_t) (len > 0 ? len : 1));
	int32_t    *types = malloc(sizeof(int32_t) * (size_t) (len > 0 ? len : 1));
	float	   *start = malloc(sizeof(float) * (size_t) (len > 0 ? len : 1));
	float	   *end = malloc(sizeof(float) * (size_t) (len > 0 ? len : 1));
	const int32_t *idp = ids;
	const int32_t *typep = types;
	int			rc;

	for (int32_t i = 0; i < len; i++)
	{
		ids[i] = i == len / 2 ? id : 101;
		types[i] = i == len / 2 ? type : 0;
	}
	rc = bq_encoder_run(enc, 1, &idp, &typep, &len, &start, &end, NULL, err);
	free(ids);
	free(types);
	free(start);
	free(end);
	return rc;
}

static void
test_bad_inputs(void)
{
	BqError		err;
	BqEncoder  *enc = bq_encoder_new(model, BQ_PRECISION_FP32, &err);

	CHECK(enc != NULL);
	CHECK_INT_EQ(run_one(enc, 10, 2000, 1, &err), BQ_OK);
	CHECK_INT_EQ(run_one(enc, 10, -1, 0, &err), BQ_ERR_INPUT);
	CHECK(strstr(err.message, "outside the vocabulary") != NULL);
	CHECK_INT_EQ(run_one(enc, 10, 30522, 0, &err), BQ_ERR_INPUT);
	CHECK_INT_EQ(run_one(enc, 10, 30521, 0, &err), BQ_OK);
	CHECK_INT_EQ(run_one(enc, 10, 5, 2, &err), BQ_ERR_INPUT);
	CHECK(strstr(err.message, "token type 2") != NULL);
	CHECK_INT_EQ(run_one(enc, 10, 5, -1, &err), BQ_ERR_INPUT);
	CHECK_INT_EQ(run_one(enc, 0, 5, 0, &err), BQ_ERR_INPUT);
	CHECK_INT_EQ(run_one(enc, 513, 5, 0, &err), BQ_ERR_INPUT);
	CHECK(strstr(err.message, "1 to 512") != NULL);
	CHECK_INT_EQ(run_one(enc, 512, 5, 0, &err), BQ_OK);
	bq_encoder_free(enc);
}

/* Interrupt callback: stop after 'arg' layer checks. */
static int
stop_after(void *arg)
{
	int		   *left = arg;

	return (*left)-- <= 0;
}

static void
test_interrupt(void)
{
	BqError		err;
	BqEncoder  *enc = bq_encoder_new(model, BQ_PRECISION_FP32, &err);
	int32_t		ids[8] = {101, 2054, 2003, 1996, 3437, 1029, 102, 102};
	const int32_t *idp = ids;
	int32_t		len = 8;
	float		start[8],
				end[8];
	float	   *sp = start,
			   *ep = end;
	int			left = 1;
	BqInterrupt intr = {stop_after, &left};

	CHECK_INT_EQ(bq_encoder_run(enc, 1, &idp, NULL, &len, &sp, &ep, &intr, &err), BQ_ERR_CANCELLED);
	CHECK_INT_EQ(left, -1);		/* one layer ran, the second check stopped it */
	left = 5;
	CHECK_INT_EQ(bq_encoder_run(enc, 1, &idp, NULL, &len, &sp, &ep, &intr, &err), BQ_OK);
	bq_encoder_free(enc);
}

/* Floating-point operations of an (m x k) by (k x n) product. */
static double
product_flops(double m, double k, double n)
{
	return 2.0 * m * k * n;
}

/*
 * The products of a forward pass over 'seq' tokens, one by one: ELECTRA's
 * projection of narrower embeddings; per layer the Q, K and V projections,
 * each head's scores and weighted sum, the attention output and the
 * feed-forward's two products; then the QA head.
 */
static double
forward_flops(const BqConfig *c, double seq)
{
	double		h = c->hidden_size;
	double		head = h / c->num_heads;
	double		layer = 0.0;
	double		embeddings = c->embedding_size != c->hidden_size ?
		product_flops(seq, c->embedding_size, h) : 0.0;

	for (int projection = 0; projection < 3; projection++)
		layer += product_flops(seq, h, h);
	for (int i = 0; i < c->num_heads; i++)
		layer += product_flops(seq, head, seq) + product_flops(seq, seq, head);
	layer += product_flops(seq, h, h);
	layer += product_flops(seq, h, c->intermediate_size) +
		product_flops(seq, c->intermediate_size, h);
	return embeddings + c->num_layers * layer + product_flops(seq, h, 2);
}

/*
 * Logits of every seq384 window on 'enc', one window a call, into
 * start[i] and end[i] (malloc'd).
 */
static void
run_windows_alone(BqEncoder *enc, const WindowSet *set, float **start, float **end)
{
	for (int i = 0; i < set->count; i++)
		run_batch(enc, set, i, 1, &start[i], &end[i]);
}

/*
 * The model with heads of 64 that test/run makes (BQ_HEADS64_MODEL), whose
 * attention runs in the AVX-512 kernel, in int8 and bf16 (its bfloat16
 * products where the CPU has AVX512-BF16) on two threads: the same logits,
 * to the bit, with a storm of signals arriving as without.
 */
static void
test_heads64_under_signals(void)
{
	const BqPrecision precisions[] = {BQ_PRECISION_INT8, BQ_PRECISION_BF16};
	struct sigaction sa = {0};
	struct itimerval every = {{0, 200}, {0, 200}};
	struct itimerval off = {{0, 0}, {0, 0}};
	WindowSet	set = {0};
	BqModel    *m;
	BqError		err;
	int			ran = 0;

	if ((m = heads64_model_load()) == NULL)
		return;
	load_windows(SEQ384, &set);
	sa.sa_handler = count_alarm;
	sigaction(SIGALRM, &sa, NULL);
	bq_compute_set_threads(2);
	alarms = 0;
	for (size_t p = 0; p < sizeof(precisions) / sizeof(precisions[0]); p++)
	{
		BqEncoder  *enc = bq_encoder_new(m, precisions[p], &err);
		float	  **quiet = calloc((size_t) set.count * 4, sizeof(float *));
		float	  **stormy = quiet + 2 * set.count;
		int			differing = 0;

		CHECK(enc != NULL);
		if (enc == NULL || bq_encoder_precision(enc) != precisions[p])
		{
			bq_encoder_free(enc);
			free(quiet);
			continue;
		}
		run_windows_alone(enc, &set, quiet, quiet + set.count);
		setitimer(ITIMER_REAL, &every, NULL);
		run_windows_alone(enc, &set, stormy, stormy + set.count);
		setitimer(ITIMER_REAL, &off, NULL);
		for (int i = 0; i < 2 * set.count; i++)
		{
			differing += memcmp(quiet[i], stormy[i],
								sizeof(float) * (size_t) set.w[i % set.count].len) != 0;
			free(quiet[i]);
			free(stormy[i]);
		}
		printf("heads of 64, %s on 2 threads: %d of %d windows' logits differ under signals\n",
			   bq_precision_name(precisions[p]), differing, 2 * set.count);
		CHECK_INT_EQ(differing, 0);
		free(quiet);
		bq_encoder_free(enc);
		ran++;
	}
	bq_compute_set_threads(1);
	printf("%d signals arrived\n", (int) alarms);
	CHECK(alarms > 100);
	if (ran == 0)
		unit_skip("neither int8 nor bf16 runs on this machine");
	free_windows(&set);
	bq_model_free(m);
}

static void
test_flops(void)
{
	BqConfig	base = {.vocab_size = 30522, .embedding_size = 768, .hidden_size = 768,
		.num_layers = 12, .num_heads = 12, .intermediate_size = 3072,
	.max_position_embeddings = 512, .type_vocab_size = 2, .layer_norm_eps = 1e-12f};

	CHECK_NEAR(bq_encoder_flops(&base, 384), 70666813440.0, 0.5);
	CHECK_NEAR(bq_encoder_flops(&base, 384), forward_flops(&base, 384), 0.5);
	CHECK_NEAR(bq_encoder_flops(&model->config, 10), forward_flops(&model->config, 10), 0.5);
	CHECK_NEAR(bq_encoder_flops(&model->config, 1), forward_flops(&model->config, 1), 0.5);
	base.embedding_size = 128;	/* an ELECTRA: embeddings projected to H */
	CHECK_NEAR(bq_encoder_flops(&base, 384), forward_flops(&base, 384), 0.5);
	CHECK(bq_encoder_flops(&base, 384) > 70666813440.0);
}

int
main(int argc, char **argv)
{
	BqError		err;

	unit_select(argc, argv);
	bq_compute_set_threads(1);
	model = bq_model_load(MODEL_DIR, &err);
	if (model == NULL)
	{
		fprintf(stderr, "cannot load %s: %s\n", MODEL_DIR, err.message);
		return 1;
	}
	RUN_TEST(test_parity_seq384);
	RUN_TEST(test_parity_seq64);
	RUN_TEST(test_parity_two_threads_under_signals);
	RUN_TEST(test_int8_drift);
	RUN_TEST(test_bf16_drift);
	RUN_TEST(test_batches_exact);
	RUN_TEST(test_padded_rows);
	RUN_TEST(test_heads64_under_signals);
	RUN_TEST(test_bad_inputs);
	RUN_TEST(test_interrupt);
	RUN_TEST(test_flops);
	bq_model_free(model);
	UNIT_DONE();
}
