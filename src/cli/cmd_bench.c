/*
 * cmd_bench.c - "bertqa bench": time the encoder's forward pass on random
 * input, or (--gemm) the engine's matrix product alone on BERT-base's
 * shapes, to see how close the encoder runs to the machine's peak.
 *
 * Reports medians (robust on a shared machine) and the minimum; GFLOP/s
 * counts 2 FLOPs per multiply-add of every matrix product.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "cli_random.h"
#include "compute.h"
#include "encoder.h"
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

static void
bench_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa bench --model DIR --seq-len N [--batch B] [--threads T]\n"
			"                    [--precision P] [--runs R] [--warmup W]\n"
			"       bertqa bench --gemm [--threads T] [--precision P] [--runs R] [--warmup W]\n\n"
			"Times the forward pass on random token ids and prints one JSON line\n"
			"{\"times_ms\", \"median_ms\", \"min_ms\", \"gflops\", \"seq_len\", \"batch\", \"threads\",\n"
			"\"precision\", \"kernels\"}: every run, their median and minimum, and what runs\n"
			"the products (GFLOP/s counts the fp32 FLOPs whatever the precision)\n"
			"(oneDNN, or OpenBLAS with BERTQA_SGEMM=openblas).\n"
			"With --gemm, times one projection (X · Wᵀ) on BERT-base shapes (M=384)\n"
			"instead: on oneDNN from packed weights, as the encoder runs it.\n\n"
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
		 (packed = malloc(bytes)) == NULL ||
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
	printf("{\"threads\": %d, \"precision\": \"%s\", \"kernels\": \"%s\", \"gemm\": [",
		   bq_compute_threads(), bq_precision_name(precision), bq_compute_kernels(precision));
	for (size_t s = 0; result == 0 && s < sizeof(gemm_shapes) / sizeof(gemm_shapes[0]); s++)
	{
		const GemmShape *g = &gemm_shapes[s];
		float	   *a = malloc(sizeof(float) * (size_t) g->m * g->k);
		float	   *w = malloc(sizeof(float) * (size_t) g->n * g->k);
		float	   *c = malloc(sizeof(float) * (size_t) g->m * g->n);
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
 * The forward pass over 'batch' random sequences of 'seq_len' tokens.
 */
static int
bench_encoder(const char *model_dir, BqPrecision precision, int seq_len, int batch, int runs,
			  int warmup)
{
	BqError		err;
	BqModel    *model = bq_model_load(model_dir, &err);
	BqEncoder  *enc = NULL;
	CliRandom	rng = {BENCH_SEED};
	int32_t    *ids = NULL;
	int32_t    *types = NULL;
	float	   *logits = NULL;
	const int32_t **id_rows = NULL;
	const int32_t **type_rows = NULL;
	float	  **start_rows = NULL;
	float	  **end_rows = NULL;
	int32_t    *lengths = NULL;
	double	   *times = NULL;
	size_t		total = (size_t) seq_len * batch;
	int			result = 1;

	if (model == NULL)
	{
		cli_report(&err);
		goto done;
	}
	if ((enc = cli_encoder("bench", model, precision)) == NULL)
		goto done;
	if (seq_len > model->config.max_position_embeddings)
	{
		fprintf(stderr, "bertqa bench: --seq-len %d exceeds the model's %d positions\n",
				seq_len, (int) model->config.max_position_embeddings);
		result = 2;
		goto done;
	}
	ids = malloc(sizeof(int32_t) * total);
	types = malloc(sizeof(int32_t) * total);
	logits = malloc(sizeof(float) * total * 2);
	id_rows = malloc(sizeof(int32_t *) * (size_t) batch);
	type_rows = malloc(sizeof(int32_t *) * (size_t) batch);
	start_rows = malloc(sizeof(float *) * (size_t) batch);
	end_rows = malloc(sizeof(float *) * (size_t) batch);
	lengths = malloc(sizeof(int32_t) * (size_t) batch);
	times = malloc(sizeof(double) * (size_t) runs);
	if (!ids || !types || !logits || !id_rows || !type_rows || !start_rows || !end_rows ||
		!lengths || !times)
	{
		fprintf(stderr, "bertqa bench: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < total; i++)
	{
		ids[i] = cli_random_below(&rng, model->config.vocab_size);
		types[i] = cli_random_below(&rng, model->config.type_vocab_size);
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

		if (bq_encoder_run(enc, batch, id_rows, type_rows, lengths, start_rows, end_rows,
						   NULL, &err) != BQ_OK)
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
		double		med = cli_median(times, runs);

		printf("], \"median_ms\": %.3f, \"min_ms\": %.3f, \"gflops\": %.1f, \"seq_len\": %d, "
			   "\"batch\": %d, \"threads\": %d, \"precision\": \"%s\", \"kernels\": \"%s\"}\n",
			   med, times[0], bq_encoder_flops(&model->config, seq_len) * batch / (med * 1e6),
			   seq_len, batch, bq_compute_threads(), bq_precision_name(bq_encoder_precision(enc)),
			   bq_compute_kernels(bq_encoder_precision(enc)));
	}
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
	bq_encoder_free(enc);
	bq_model_free(model);
	return result;
}

int
cmd_bench(int argc, char **argv)
{
	const char *model_dir = NULL;
	bool		gemm = false;
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
	if (!gemm && (model_dir == NULL || seq_len == 0))
		return cli_usage_error("bench", "--model DIR and --seq-len N are required, or --gemm (see --help)");
	if (gemm && model_dir != NULL)
		return cli_usage_error("bench", "--gemm measures matrix products alone; it takes no --model");

	if (threads > 0)
		bq_compute_set_threads(threads);
	if (bq_compute_init(&err) != BQ_OK)
	{
		cli_report(&err);
		return 1;
	}
	if (gemm && precision != BQ_PRECISION_FP32 &&
		(bq_compute_engine() != BQ_ENGINE_ONEDNN || bq_onednn_kernels(precision) == NULL))
	{
		fprintf(stderr, "bertqa bench: %s products are not available on this machine\n",
				bq_precision_name(precision));
		return 1;
	}
	return gemm ? bench_gemm(precision, runs, warmup) :
		bench_encoder(model_dir, precision, seq_len, batch, runs, warmup);
}
