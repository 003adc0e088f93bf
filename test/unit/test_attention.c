/*
 * test_attention.c - one head's attention against double precision, on
 * both engines' paths (with oneDNN, heads of 64 run in the AVX-512 kernel
 * where the CPU has it), for BERT's head size and a smaller one, over
 * sequence lengths that leave partial tiles and blocks.
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

/*
 * The middle head of a [len][3 x HEADS x head_size] qkv matrix of values
 * spread over ±spread: each output within 2e-5 of the exact value, plus
 * what four float roundings of the largest score move the weights by,
 * times the largest |v|; the other heads' columns of out untouched.
 */
static void
check_head(BqEngine engine, int len, int head_size, float spread)
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
	double		tolerance;
	int			touched = 0;

	for (int i = 0; i < len * ld; i++)
		qkv[i] = (float) (sin(i * 0.61 + len) * spread);
	for (int i = 0; i < len * h; i++)
		out[i] = UNTOUCHED;
	tolerance = spread * (2e-5 + 4 * FLT_EPSILON *
						  attend_exact(q, q + h, q + 2 * h, ld, len, head_size, scale, want));
	bq_attend_head(engine, q, q + h, q + 2 * h, ld, len, head_size, (float) scale,
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
		fprintf(stderr, "engine %d, len %d, head size %d, spread %g: error %g (tolerance %g), %d floats outside the head written\n",
				(int) engine, len, head_size, spread, worst, tolerance, touched);
	CHECK(worst <= tolerance);
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
		check_head(engine, LENGTHS[i], 64, 1.0f);
		check_head(engine, LENGTHS[i], 16, 1.0f);
	}
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
	check_head(BQ_ENGINE_ONEDNN, 100, 64, 50.0f);
	check_head(BQ_ENGINE_OPENBLAS, 100, 64, 50.0f);
	check_head(BQ_ENGINE_OPENBLAS, 100, 16, 50.0f);
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
	UNIT_DONE();
}
