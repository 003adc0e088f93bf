/*
 * cmd_bench.c - "bertqa bench": time the encoder's forward pass on random
 * input, or (--gemm) the engine's matrix product alone on BERT-base's
 * shapes, to see how close the encoder runs to the machine's peak, or
 * (--attention) one layer's attention for each head size.
 *
 * Reports medians (robust on a shared machine) and the minimum; GFLOP/s
 * counts 2 FLOPs per multiply-add of every matrix product.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aligned_memory.h"
#include "attention.h"
#include "blas.h"
#include "cli_random.h"
#include "compute.h"
#include "encoder.h"
#include "file_util.h"
#include "model.h"
#include "onednn.h"

#define BENCH_SEED 12345

/* One sgemm shape: C[m][n] = A[m][k] · W[n][k]ᵀ, as the encoder's projections. */
typedef struct GemmShape
{
	int			m;
	int			n;
	int			k;
} GemmShape;

/* BERT-base at 384 tokens: Q/K/V/output projections, FFN in, FFN out. */
static const GemmShape gemm_shapes[] = {
	{384, 768, 768},
	{384, 3072, 768},
	{384, 768, 3072},
};

/* --attention: a layer 768 wide cut into heads of each size (MiniLM's 32, BERT's 64, 128). */
#define ATTENTION_WIDTH 768
static const int attention_head_sizes[] = {32, 64, 128};

static void
bench_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa bench --model DIR --seq-len N [--batch B] [--threads T]\n"
			"                    [--precision P] [--runs R] [--warmup W]\n"
			"       bertqa bench --model DIR --serve [--batch B] [--threads T] [--precision P]\n"
			"                    [--runs R] [--warmup W]\n"
			"       bertqa bench --gemm [--threads T] [--precision P] [--runs R] [--warmup W]\n"
			"       bertqa bench --attention [--seq-len N] [--precision P] [--runs R] [--warmup W]\n\n"
			"Times the forward pass on random token ids and prints one JSON line\n"
			"{\"times_ms\", \"median_ms\", \"min_ms\", \"gflops\", \"seq_len\", \"batch\", \"threads\",\n"
			"\"precision\", \"kernels\", \"cpu\"}: every run, their median and minimum, what runs\n"
			"the products and on which CPU (GFLOP/s counts the fp32 FLOPs whatever the precision)\n"
			"(oneDNN, or OpenBLAS with BERTQA_SGEMM=openblas).\n"
			"With --gemm, times one projection (X · Wᵀ) on BERT-base shapes (M=384)\n"
			"instead: on oneDNN from packed weights, as the encoder runs it.\n"
			"With --attention, times one layer's attention (softmax(Q·Kᵀ/√d)·V, 768\n"
			"wide, one thread, --seq-len tokens, default 384) cut into heads of 32,\n"
			"64 and 128, each on the path an encoder in --precision takes for it\n"
			"(bf16 and int8 encoders multiply bfloat16 in attention where the CPU can).\n"
			"With --serve, loads the model once, prints {\"ready\": true, ...} and then\n"
			"answers each request line {\"seq_len\": N, \"runs\": R, \"warmup\": W} on\n"
			"standard input (runs and warmup default to the options) with the line\n"
			"above, so that a driver can interleave short timings of several engines.\n\n"
			"  --model DIR     model directory\n"
			"  --seq-len N     tokens per sequence\n"
			"  --batch B       sequences per forward pass (default 1)\n"
			"  --threads T     threads (default 1)\n"
			"  --precision P   fp32, bf16 or int8 projections (default fp32)\n"
			"  --runs R        timed runs (default 5)\n"
			"  --warmup W      untimed runs first (default 1)\n"
			"  --help          show this help\n");
}

/*
 * Time 'runs' products c = a · wᵀ of shape 'g' as the encoder computes
 * them: from packed weights on oneDNN, by sgemm on OpenBLAS.
 */
static int
time_product(const GemmShape *g, BqPrecision precision, const float *a, const float *w, float *c,
			 int runs, int warmup, double *times)
{
	BqError		err;
	size_t		bytes = 0;
	uint64_t	hash;
	void	   *packed = NULL;
	float	   *bias = calloc((size_t) g->n, sizeof(float));
	float	   *scales = calloc((size_t) g->n, sizeof(float));
	BqLinearKernels *kernels = NULL;
	bool		onednn = bq_compute_engine() == BQ_ENGINE_ONEDNN;
	int			rc = BQ_OK;

	if (bias == NULL || scales == NULL)
		rc = bq_fail(&err, BQ_ERR_NOMEM, "out of memory");
	if (rc == BQ_OK && onednn &&
		((rc = bq_onednn_packed_size(g->k, g->n, precision, &bytes, &hash, &err)) != BQ_OK ||
		 (packed = bq_alloc_aligned(bytes)) == NULL ||
		 (rc = bq_onednn_pack(w, g->k, g->n, precision, packed, scales, &err)) != BQ_OK ||
		 (kernels = bq_linear_kernels_new(&err)) == NULL))
		rc = rc != BQ_OK ? rc : bq_fail(&err, BQ_ERR_NOMEM, "out of memory");
	for (int r = -warmup; rc == BQ_OK && r < runs; r++)
	{
		double		t0 = cli_now_ms();

		if (onednn)
			rc = bq_linear(kernels, g->m, g->k, g->n, precision, a, packed, bias, scales,
						   BQ_EPILOGUE_BIAS, c, &err);
		else
			bq_sgemm(false, true, g->m, g->n, g->k, 1.0f, a, g->k, w, g->k, 0.0f, c, g->n);
		if (r >= 0)
			times[r] = cli_now_ms() - t0;
	}
	if (rc != BQ_OK)
		cli_report(&err);
	bq_linear_kernels_free(kernels);
	free(packed);
	free(bias);
	free(scales);
	return rc;
}

/*
 * --gemm: GFLOP/s of one projection on each BERT shape.
 */
static int
bench_gemm(BqPrecision precision, int runs, int warmup)
{
	CliRandom	rng = {BENCH_SEED};
	double	   *times = malloc(sizeof(double) * (size_t) runs);
	int			result = 0;

	if (times == NULL)
	{
		fprintf(stderr, "bertqa bench: out of memory\n");
		return 1;
	}
	printf("{\"cpu\": \"%s\", \"threads\": %d, \"precision\": \"%s\", \"kernels\": \"%s\", "
		   "\"gemm\": [", cli_cpu_name(), bq_compute_threads(), bq_precision_name(precision),
		   bq_compute_kernels(precision));
	for (size_t s = 0; result == 0 && s < sizeof(gemm_shapes) / sizeof(gemm_shapes[0]); s++)
	{
		const GemmShape *g = &gemm_shapes[s];
		float	   *a = bq_alloc_aligned(sizeof(float) * (size_t) g->m * g->k);
		float	   *w = bq_alloc_aligned(sizeof(float) * (size_t) g->n * g->k);
		float	   *c = bq_alloc_aligned(sizeof(float) * (size_t) g->m * g->n);
		double		med;

		if (a == NULL || w == NULL || c == NULL)
		{
			fprintf(stderr, "bertqa bench: out of memory\n");
			result = 1;
		}
		else
		{
			for (size_t i = 0; i < (size_t) g->m * g->k; i++)
				a[i] = (float) cli_random_normal(&rng, 1.0);
			for (size_t i = 0; i < (size_t) g->n * g->k; i++)
				w[i] = (float) cli_random_normal(&rng, 0.02);
			if (time_product(g, precision, a, w, c, runs, warmup, times) != BQ_OK)
				result = 1;
			else
			{
				med = cli_median(times, runs);
				printf("%s{\"m\": %d, \"n\": %d, \"k\": %d, \"median_ms\": %.3f, \"gflops\": %.1f}",
					   s ? ", " : "", g->m, g->n, g->k, med, 2.0 * g->m * g->n * g->k / (med * 1e6));
			}
		}
		free(a);
		free(w);
		free(c);
	}
	printf("]}\n");
	free(times);
	return result;
}

/*
 * Time 'runs' passes of every head of a layer ATTENTION_WIDTH wide, heads of
 * 'head_size', over 'seq_len' tokens.
 */
static void
time_attention(int seq_len, int head_size, bool bf16, const float *q, const float *k,
			   const float *v, float *out, float *scratch, int runs, int warmup, double *times)
{
	BqEngine	engine = bq_compute_engine();
	float		scale = 1.0f / sqrtf((float) head_size);

	for (int r = -warmup; r < runs; r++)
	{
		double		t0 = cli_now_ms();

		for (int h = 0; h < ATTENTION_WIDTH / head_size; h++)
			bq_attend_head(engine, q + h * head_size, k + h * head_size, v + h * head_size,
						   ATTENTION_WIDTH, seq_len, head_size, scale, bf16, out + h * head_size,
						   ATTENTION_WIDTH, scratch);
		if (r >= 0)
			times[r] = cli_now_ms() - t0;
	}
}

/*
 * --attention: GFLOP/s of one layer's attention (4·S²·width FLOPs: Q·Kᵀ and
 * P·V) for each head size, as encoders in 'precision' run it (bf16 and int8
 * ones on bfloat16 products where the CPU has them).
 */
static int
bench_attention(int seq_len, BqPrecision precision, int runs, int warmup)
{
	bool		bf16 = precision != BQ_PRECISION_FP32;
	CliRandom	rng = {BENCH_SEED};
	size_t		n = (size_t) seq_len * ATTENTION_WIDTH;
	float	   *qkv = bq_alloc_aligned(sizeof(float) * 3 * n);
	float	   *out = bq_alloc_aligned(sizeof(float) * n);
	float	   *scratch = bq_alloc_aligned(sizeof(float) *
										   bq_attention_scratch_floats(seq_len, 128));
	double	   *times = malloc(sizeof(double) * (size_t) runs);

	if (qkv == NULL || out == NULL || scratch == NULL || times == NULL)
	{
		fprintf(stderr, "bertqa bench: out of memory\n");
		free(qkv);
		free(out);
		free(scratch);
		free(times);
		return 1;
	}
	for (size_t i = 0; i < 3 * n; i++)
		qkv[i] = (float) cli_random_normal(&rng, 1.0);
	printf("{\"cpu\": \"%s\", \"threads\": 1, \"seq_len\": %d, \"width\": %d, "
		   "\"precision\": \"%s\", \"attention\": [", cli_cpu_name(), seq_len, ATTENTION_WIDTH,
		   bq_precision_name(precision));
	for (size_t i = 0; i < sizeof(attention_head_sizes) / sizeof(attention_head_sizes[0]); i++)
	{
		int			d = attention_head_sizes[i];
		double		med;

		time_attention(seq_len, d, bf16, qkv, qkv + n, qkv + 2 * n, out, scratch, runs, warmup,
					   times);
		med = cli_median(times, runs);
		printf("%s{\"head_size\": %d, \"heads\": %d, \"products\": \"%s\", "
			   "\"median_ms\": %.3f, \"gflops\": %.1f}",
			   i ? ", " : "", d, ATTENTION_WIDTH / d,
			   bf16 && bq_attention_runs_bf16(bq_compute_engine(), d) ? "bf16" : "fp32", med,
			   4.0 * seq_len * seq_len * ATTENTION_WIDTH / (med * 1e6));
	}
	printf("]}\n");
	free(qkv);
	free(out);
	free(scratch);
	free(times);
	return 0;
}

/* What the timed forward passes run on. */
typedef struct BenchSession
{
	BqModel    *model;
	BqEncoder  *enc;
	int			batch;			/* sequences per forward pass */
} BenchSession;

/*
 * Time 'runs' forward passes (after 'warmup' untimed ones) over 'batch'
 * random sequences of 'seq_len' tokens and print one JSON line; returns
 * an exit status (2 for a length the model cannot take).
 */
static int
bench_forward(const BenchSession *session, int seq_len, int runs, int warmup)
{
	const BqConfig *config = &session->model->config;
	int			batch = session->batch;
	BqError		err;
	CliRandom	rng = {BENCH_SEED};
	size_t		total = (size_t) seq_len * batch;
	int32_t    *ids = malloc(sizeof(int32_t) * total);
	int32_t    *types = malloc(sizeof(int32_t) * total);
	float	   *logits = malloc(sizeof(float) * total * 2);
	const int32_t **id_rows = malloc(sizeof(int32_t *) * (size_t) batch);
	const int32_t **type_rows = malloc(sizeof(int32_t *) * (size_t) batch);
	float	  **start_rows = malloc(sizeof(float *) * (size_t) batch);
	float	  **end_rows = malloc(sizeof(float *) * (size_t) batch);
	int32_t    *lengths = malloc(sizeof(int32_t) * (size_t) batch);
	double	   *times = malloc(sizeof(double) * (size_t) runs);
	int			result = 1;

	if (seq_len > bq_config_max_tokens(config))
	{
		fprintf(stderr, "bertqa bench: --seq-len %d exceeds the model's %d positions\n",
				seq_len, (int) bq_config_max_tokens(config));
		result = 2;
		goto done;
	}
	if (!ids || !types || !logits || !id_rows || !type_rows || !start_rows || !end_rows ||
		!lengths || !times)
	{
		fprintf(stderr, "bertqa bench: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < total; i++)
	{
		ids[i] = cli_random_below(&rng, config->vocab_size);
		/* DistilBERT has no token types */
		types[i] = config->type_vocab_size > 0 ?
			cli_random_below(&rng, config->type_vocab_size) : 0;
	}
	for (int b = 0; b < batch; b++)
	{
		id_rows[b] = ids + (size_t) b * seq_len;
		type_rows[b] = types + (size_t) b * seq_len;
		start_rows[b] = logits + (size_t) b * seq_len;
		end_rows[b] = logits + total + (size_t) b * seq_len;
		lengths[b] = seq_len;
	}
	for (int r = -warmup; r < runs; r++)
	{
		double		t0 = cli_now_ms();

		if (bq_encoder_run(session->enc, batch, id_rows, type_rows, lengths, start_rows,
						   end_rows, NULL, &err) != BQ_OK)
		{
			cli_report(&err);
			goto done;
		}
		if (r >= 0)
			times[r] = cli_now_ms() - t0;
	}
	/* every run in order, for tools that pool runs of several invocations */
	printf("{\"times_ms\": [");
	for (int r = 0; r < runs; r++)
		printf("%s%.3f", r ? ", " : "", times[r]);
	{
		BqPrecision precision = bq_encoder_precision(session->enc);
		double		med = cli_median(times, runs);

		printf("], \"median_ms\": %.3f, \"min_ms\": %.3f, \"gflops\": %.1f, \"seq_len\": %d, "
			   "\"batch\": %d, \"threads\": %d, \"precision\": \"%s\", \"kernels\": \"%s\", "
			   "\"cpu\": \"%s\"}\n",
			   med, times[0], bq_encoder_flops(config, seq_len) * batch / (med * 1e6),
			   seq_len, batch, bq_compute_threads(), bq_precision_name(precision),
			   bq_compute_kernels(precision), cli_cpu_name());
	}
	fflush(stdout);
	result = 0;

done:
	free(ids);
	free(types);
	free(logits);
	free(id_rows);
	free(type_rows);
	free(start_rows);
	free(end_rows);
	free(lengths);
	free(times);
	return result;
}

/* Defaults for --serve requests that leave runs or warm-up out. */
typedef struct ServeRequestDefaults
{
	const BenchSession *session;
	int			runs;
	int			warmup;
} ServeRequestDefaults;

/*
 * Read an integer member of a request in [min, max], or keep *out if absent.
 */
static bool
request_int(json_object *request, const char *key, int min, int max, int *out)
{
	json_object *value;
	int64_t		v;

	if (!json_object_object_get_ex(request, key, &value))
		return true;
	if (!json_object_is_type(value, json_type_int))
		return false;
	v = json_object_get_int64(value);
	if (v < min || v > max)
		return false;
	*out = (int) v;
	return true;
}

/*
 * One --serve request: {"seq_len": N, "runs": R, "warmup": W}.
 */
static int
serve_request(const char *line, size_t len, long line_no, void *arg)
{
	const ServeRequestDefaults *defaults = arg;
	BqError		err;
	json_object *request = bq_json_parse(line, len, "a bench request", &err);
	int			seq_len = 0;
	int			runs = defaults->runs;
	int			warmup = defaults->warmup;
	bool		ok;

	if (request == NULL)
	{
		cli_report(&err);
		return 1;
	}
	ok = json_object_is_type(request, json_type_object) &&
		request_int(request, "seq_len", 1, 1 << 16, &seq_len) && seq_len > 0 &&
		request_int(request, "runs", 1, 100000, &runs) &&
		request_int(request, "warmup", 0, 100000, &warmup);
	json_object_put(request);
	if (!ok)
	{
		fprintf(stderr, "bertqa bench: request %ld is not {\"seq_len\": N, \"runs\": R, "
				"\"warmup\": W} with N >= 1, R >= 1, W >= 0\n", line_no);
		return 1;
	}
	/* a driver waits for one reply per request: stop at the first that has none */
	return bench_forward(defaults->session, seq_len, runs, warmup) == 0 ? 0 : 1;
}

/*
 * The encoder benchmark: one timing of --seq-len, or with --serve one per
 * request line, all on one loaded model and encoder so that a driver can
 * interleave short timings with other engines' (bench/run).
 */
static int
bench_encoder(const char *model_dir, BqPrecision precision, int seq_len, int batch, int runs,
			  int warmup, bool serve)
{
	BqError		err;
	BenchSession session = {.batch = batch};
	int			result = 1;

	if ((session.model = bq_model_load(model_dir, &err)) == NULL)
		cli_report(&err);
	else if ((session.enc = cli_encoder("bench", session.model, precision)) != NULL)
	{
		if (serve)
		{
			ServeRequestDefaults defaults = {&session, runs, warmup};
			BqPrecision used = bq_encoder_precision(session.enc);

			printf("{\"ready\": true, \"threads\": %d, \"precision\": \"%s\", "
				   "\"kernels\": \"%s\", \"cpu\": \"%s\"}\n",
				   bq_compute_threads(), bq_precision_name(used), bq_compute_kernels(used),
				   cli_cpu_name());
			fflush(stdout);
			result = cli_for_each_input_line("bench", serve_request, &defaults);
		}
		else
			result = bench_forward(&session, seq_len, runs, warmup);
	}
	bq_encoder_free(session.enc);
	bq_model_free(session.model);
	return result;
}

int
cmd_bench(int argc, char **argv)
{
	const char *model_dir = NULL;
	bool		gemm = false;
	bool		attention = false;
	bool		serve = false;
	int			seq_len = 0;
	int			batch = 1;
	int			threads = 0;
	int			runs = 5;
	int			warmup = 1;
	BqPrecision precision = BQ_PRECISION_FP32;
	BqError		err;

	for (int i = 1; i < argc; i++)
	{
		const char *opt = argv[i];
		bool		ok = true;

		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)
		{
			bench_usage(stdout);
			return 0;
		}
		if (strcmp(opt, "--gemm") == 0)
		{
			gemm = true;
			continue;
		}
		if (strcmp(opt, "--attention") == 0)
		{
			attention = true;
			continue;
		}
		if (strcmp(opt, "--serve") == 0)
		{
			serve = true;
			continue;
		}
		if (i + 1 >= argc)
			return cli_usage_error("bench", "unexpected argument \"%s\" (see --help)", opt);
		if (strcmp(opt, "--model") == 0)
			model_dir = argv[++i];
		else if (strcmp(opt, "--seq-len") == 0)
			ok = cli_parse_int("bench", opt, argv[++i], 1, 1 << 16, &seq_len);
		else if (strcmp(opt, "--batch") == 0)
			ok = cli_parse_int("bench", opt, argv[++i], 1, 4096, &batch);
		else if (strcmp(opt, "--threads") == 0)
			ok = cli_parse_int("bench", opt, argv[++i], 1, 1024, &threads);
		else if (strcmp(opt, "--precision") == 0)
			ok = cli_parse_precision("bench", argv[++i], &precision);
		else if (strcmp(opt, "--runs") == 0)
			ok = cli_parse_int("bench", opt, argv[++i], 1, 100000, &runs);
		else if (strcmp(opt, "--warmup") == 0)
			ok = cli_parse_int("bench", opt, argv[++i], 0, 100000, &warmup);
		else
			return cli_usage_error("bench", "unexpected argument \"%s\" (see --help)", opt);
		if (!ok)
			return 2;
	}
	if (attention && (gemm || serve || model_dir != NULL || batch != 1 || threads > 1))
		return cli_usage_error("bench", "--attention measures attention alone, on one "
							   "thread; it takes only --seq-len, --precision, --runs and --warmup");
	if (!gemm && !attention && (model_dir == NULL || (seq_len == 0 && !serve)))
		return cli_usage_error("bench", "--model DIR and --seq-len N (or --serve) are required, or --gemm (see --help)");
	if (serve && (gemm || seq_len != 0))
		return cli_usage_error("bench", "--serve takes the sequence length from each request; "
							   "it takes no --seq-len or --gemm");
	if (gemm && model_dir != NULL)
		return cli_usage_error("bench", "--gemm measures matrix products alone; it takes no --model");

	if (attention)
		threads = 1;
	if (threads > 0)
		bq_compute_set_threads(threads);
	if (bq_compute_init(&err) != BQ_OK)
	{
		cli_report(&err);
		return 1;
	}
	if (gemm && !bq_compute_runs(precision))
	{
		fprintf(stderr, "bertqa bench: %s products are not available on this machine\n",
				bq_precision_name(precision));
		return 1;
	}
	if (attention)
		return bench_attention(seq_len > 0 ? seq_len : 384, precision, runs, warmup);
	return gemm ? bench_gemm(precision, runs, warmup) :
		bench_encoder(model_dir, precision, seq_len, batch, runs, warmup, serve);
}
