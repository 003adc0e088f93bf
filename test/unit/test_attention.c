/*
 * test_attention.c - one head's attention against double precision, on
 * both engines' paths (with oneDNN, heads of 64 run in the AVX-512 kernel
 * where the CPU has it), for BERT's head size and a smaller one, over
 * sequence lengths that leave partial tiles and blocks; and the kernel's
 * bfloat16 products (where the CPU has AVX512-BF16), to bfloat16's error.
 */
#include "attention.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "blas.h"
#include "unit.h"

/* Heads side by side in one row, as in the encoder's qkv matrix. */
#define HEADS 3

/* Written into out around the head, and checked to stay. */
#define UNTOUCHED 7.0f

/*
 * The exact attention of one head of q, k, v (rows 'ld' apart), row i into
 * want[i][:head_size]; returns the largest scale · Σ_c |q_ic k_jc|, what
 * the float rounding of a score grows with.
 */
static double
attend_exact(const float *q, const float *k, const float *v, int ld, int len, int head_size,
			 double scale, double *want)
{
	double	   *weights = malloc(sizeof(double) * len);
	double		magnitude = 0.0;

	for (int i = 0; i < len; i++)
	{
		double		max = -INFINITY,
					sum = 0.0;

		for (int j = 0; j < len; j++)
		{
			double		dot = 0.0,
						abs_dot = 0.0;

			for (int c = 0; c < head_size; c++)
			{
				dot += (double) q[(size_t) i * ld + c] * k[(size_t) j * ld + c];
				abs_dot += fabs((double) q[(size_t) i * ld + c] * k[(size_t) j * ld + c]);
			}
			weights[j] = dot * scale;
			magnitude = fmax(magnitude, abs_dot * scale);
			max = fmax(max, weights[j]);
		}
		for (int j = 0; j < len; j++)
			sum += weights[j] = exp(weights[j] - max);
		for (int c = 0; c < head_size; c++)
		{
			double		acc = 0.0;

			for (int j = 0; j < len; j++)
				acc += weights[j] * v[(size_t) j * ld + c];
			want[(size_t) i * head_size + c] = acc / sum;
		}
	}
	free(weights);
	return magnitude;
}

/* bfloat16's relative rounding error: 8 significant bits, to nearest. */
#define BF16_EPSILON (1.0 / 256.0)

/*
 * The middle head of a [len][3 x HEADS x head_size] qkv matrix of values
 * spread over ±spread: each output within 2e-5 of the exact value, plus
 * what four float roundings of the largest score move the weights by,
 * times the largest |v|; the other heads' columns of out untouched.  With
 * 'bf16' products: within 2⁻⁸ (a weight's and a value's rounding) plus a
 * quarter of what rounding Q and K to bfloat16 could move the largest
 * score by at worst (a score's 64 rounding errors mostly cancel; the
 * errors measured stay 3 to 6 times below this), and above fp32's error,
 * so that the bfloat16 products are known to have run.
 */
static void
check_head(BqEngine engine, int len, int head_size, float spread, bool bf16)
{
	int			h = HEADS * head_size;
	int			ld = 3 * h;
	int			head = 1;
	float	   *qkv = malloc(sizeof(float) * len * ld);
	float	   *out = malloc(sizeof(float) * len * h);
	double	   *want = malloc(sizeof(double) * len * head_size);
	float	   *scratch = malloc(sizeof(float) * bq_attention_scratch_floats(len, head_size));
	const float *q = qkv + head * head_size;
	double		scale = 1.0 / sqrt((double) head_size);
	double		worst = 0.0;
	double		magnitude;
	double		tolerance;
	int			touched = 0;

	for (int i = 0; i < len * ld; i++)
		qkv[i] = (float) (sin(i * 0.61 + len) * spread);
	for (int i = 0; i < len * h; i++)
		out[i] = UNTOUCHED;
	magnitude = attend_exact(q, q + h, q + 2 * h, ld, len, head_size, scale, want);
	tolerance = bf16 ? spread * BF16_EPSILON * (1.0 + magnitude / 4.0) :
		spread * (2e-5 + 4 * FLT_EPSILON * magnitude);
	bq_attend_head(engine, q, q + h, q + 2 * h, ld, len, head_size, (float) scale, bf16,
				   out + head * head_size, h, scratch);
	for (int i = 0; i < len; i++)
		for (int c = 0; c < h; c++)
		{
			float		got = out[(size_t) i * h + c];
			int			in_head = c >= head * head_size && c < (head + 1) * head_size;

			if (in_head)
				worst = fmax(worst, fabs(got - want[(size_t) i * head_size + c - head * head_size]));
			else
				touched += got != UNTOUCHED;
		}
	if (!(worst <= tolerance) || touched != 0)
		fprintf(stderr, "engine %d, len %d, head size %d, spread %g, bf16 %d: error %g (tolerance %g), %d floats outside the head written\n",
				(int) engine, len, head_size, spread, (int) bf16, worst, tolerance, touched);
	CHECK(worst <= tolerance);
	if (bf16 && len > 1)
		CHECK(worst > spread * (2e-5 + 4 * FLT_EPSILON * magnitude));
	CHECK_INT_EQ(touched, 0);
	free(qkv);
	free(out);
	free(want);
	free(scratch);
}

/* Lengths around the kernel's tiles (6 queries, 64 keys) and blocks (24 queries). */
static const int LENGTHS[] = {1, 5, 6, 7, 23, 24, 25, 63, 64, 65, 130, 384};

static void
check_lengths(BqEngine engine)
{
	for (size_t i = 0; i < sizeof(LENGTHS) / sizeof(LENGTHS[0]); i++)
	{
		check_head(engine, LENGTHS[i], 64, 1.0f, false);
		check_head(engine, LENGTHS[i], 16, 1.0f, false);
	}
}

/*
 * The kernel's bfloat16 products over the same lengths (odd ones leave a
 * key without its pair), and over scores of thousands.
 */
static void
test_bf16_products(void)
{
	if (!bq_attention_runs_bf16(BQ_ENGINE_ONEDNN, 64))
	{
		CHECK(!__builtin_cpu_supports("avx512bf16") || !__builtin_cpu_supports("avx512f"));
		unit_skip("this CPU has no AVX512-BF16: attention's products stay fp32");
		return;
	}
	for (size_t i = 0; i < sizeof(LENGTHS) / sizeof(LENGTHS[0]); i++)
		check_head(BQ_ENGINE_ONEDNN, LENGTHS[i], 64, 1.0f, true);
	check_head(BQ_ENGINE_ONEDNN, 100, 64, 50.0f, true);
	/* heads other than 64 and the OpenBLAS engine keep fp32 */
	CHECK(!bq_attention_runs_bf16(BQ_ENGINE_OPENBLAS, 64));
	CHECK(!bq_attention_runs_bf16(BQ_ENGINE_ONEDNN, 32));
}

static void
test_onednn_engine(void)
{
	check_lengths(BQ_ENGINE_ONEDNN);
}

static void
test_openblas_engine(void)
{
	check_lengths(BQ_ENGINE_OPENBLAS);
}

/*
 * Scores far beyond exp's range (thousands): the softmax must subtract
 * each row's maximum first.
 */
static void
test_large_scores(void)
{
	check_head(BQ_ENGINE_ONEDNN, 100, 64, 50.0f, false);
	check_head(BQ_ENGINE_OPENBLAS, 100, 64, 50.0f, false);
	check_head(BQ_ENGINE_OPENBLAS, 100, 16, 50.0f, false);
}

int
main(int argc, char **argv)
{
	BqError		err;

	unit_select(argc, argv);
	if (bq_blas_init(&err) != BQ_OK)
	{
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	RUN_TEST(test_onednn_engine);
	RUN_TEST(test_openblas_engine);
	RUN_TEST(test_large_scores);
	RUN_TEST(test_bf16_products);
	UNIT_DONE();
}
