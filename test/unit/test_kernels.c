/*
 * test_kernels.c - the element-wise passes against double precision, on
 * whichever kernels this CPU runs (AVX-512 where it has it).
 */
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"

/* A row width with a tail past the kernels' blocks of 128 and 16 floats. */
#define COLS 1003

/* A row width of whole 16-float vectors, one block of 128 and two more. */
#define WHOLE_VECTORS_COLS 160

/* Softmax rows tested, and their stride: past COLS lie floats it must not touch. */
#define SOFTMAX_ROWS 3
#define SOFTMAX_LD (COLS + 13)
#define UNTOUCHED 7.0f

static double
gelu_exact(double x)
{
	return 0.5 * x * erfc(-x / sqrt(2.0));
}

/*
 * GELU over [-20, 20] in steps of 1e-4, plus a bias: within 5e-7 of the
 * exact value (scaled by |x| past 1), and within 2e-6 relative on the
 * negative side while the result is at least 1e-3 in size.
 */
static void
test_bias_gelu(void)
{
	int			rows = 400000 / COLS + 1;
	float	   *x = malloc(sizeof(float) * rows * COLS);
	float	   *sum = malloc(sizeof(float) * rows * COLS);
	float		bias[COLS];
	double		worst = 0.0;

	for (int j = 0; j < COLS; j++)
		bias[j] = (float) ((j % 7) - 3) * 0.01f;
	for (int i = 0; i < rows * COLS; i++)
	{
		x[i] = -20.0f + 1e-4f * (float) i;
		sum[i] = x[i] + bias[i % COLS];
	}
	bq_bias_gelu(x, rows, COLS, bias);
	for (int i = 0; i < rows * COLS; i++)
	{
		double		want = gelu_exact(sum[i]);
		double		error = fabs(x[i] - want);

		worst = fmax(worst, error / fmax(1.0, fabs(sum[i])) / 5e-7);
		if (sum[i] < 0.0f && fabs(want) >= 1e-3)
			worst = fmax(worst, error / fabs(want) / 2e-6);
	}
	CHECK(worst <= 1.0);
	free(x);
	free(sum);
}

/*
 * GELU's limits, and NaN passed through, in a row of whole vectors.
 */
static void
test_gelu_special_values(void)
{
	float		special[4] = {INFINITY, -INFINITY, NAN, 0.0f};
	float		x[WHOLE_VECTORS_COLS];
	float		zero[WHOLE_VECTORS_COLS] = {0};
	int			failures = 0;

	for (int j = 0; j < WHOLE_VECTORS_COLS; j++)
		x[j] = special[j % 4];
	bq_bias_gelu(x, 1, WHOLE_VECTORS_COLS, zero);
	for (int j = 0; j < WHOLE_VECTORS_COLS; j++)
		failures += !(j % 4 == 0 ? isinf(x[j]) && x[j] > 0.0f :
					  j % 4 == 1 ? fabsf(x[j]) <= 1e-20f :
					  j % 4 == 2 ? isnan(x[j]) : x[j] == 0.0f);
	CHECK_INT_EQ(failures, 0);
}

/*
 * int8 sums scaled back with GELU: the same GELU as bq_bias_gelu.
 */
static void
test_dequantize_gelu(void)
{
	int32_t		acc[COLS];
	float		col_scales[COLS];
	float		bias[COLS];
	float		row_scale = 0.02f;
	float		out[COLS];
	double		worst = 0.0;

	for (int j = 0; j < COLS; j++)
	{
		acc[j] = (j * 37) % 501 - 250;
		col_scales[j] = 0.5f + (float) (j % 5) * 0.25f;
		bias[j] = (float) ((j % 3) - 1) * 0.5f;
	}
	bq_dequantize_rows(acc, 1, COLS, &row_scale, col_scales, bias, 1, out);
	for (int j = 0; j < COLS; j++)
	{
		float		x = (float) acc[j] * row_scale * col_scales[j] + bias[j];

		worst = fmax(worst, fabs(out[j] - gelu_exact(x)) / fmax(1.0, fabs(x)));
	}
	CHECK(worst <= 5e-7);
}

/*
 * Softmax rows spanning 100 in value (and one -inf, a masked score),
 * further apart than their width: every probability within 1e-6 relative
 * of the exact value of the same float differences x - max, or below 1e-30
 * where that value is, and nothing between the rows written.
 */
static void
test_softmax_rows(void)
{
	float		x[SOFTMAX_ROWS][SOFTMAX_LD];
	double		exact[SOFTMAX_ROWS][COLS];
	float		inv_sum[SOFTMAX_ROWS];
	double		worst = 0.0;
	int			touched = 0;

	for (int r = 0; r < SOFTMAX_ROWS; r++)
	{
		float		max = -INFINITY;
		double		sum = 0.0;

		for (int j = 0; j < COLS; j++)
		{
			x[r][j] = (float) (sin(j * 0.7 + r) * 50.0 - r * 10.0);
			max = fmaxf(max, x[r][j]);
		}
		x[r][5] = -INFINITY;
		for (int j = COLS; j < SOFTMAX_LD; j++)
			x[r][j] = UNTOUCHED;
		for (int j = 0; j < COLS; j++)
			sum += exact[r][j] = exp((double) (x[r][j] - max));
		for (int j = 0; j < COLS; j++)
			exact[r][j] /= sum;
	}
	bq_softmax_rows(&x[0][0], SOFTMAX_ROWS, COLS, SOFTMAX_LD, inv_sum);
	for (int r = 0; r < SOFTMAX_ROWS; r++)
	{
		for (int j = COLS; j < SOFTMAX_LD; j++)
			touched += x[r][j] != UNTOUCHED;
		for (int j = 0; j < COLS; j++)
		{
			double		p = (double) x[r][j] * inv_sum[r];

			if (exact[r][j] >= 1e-30)
				worst = fmax(worst, fabs(p - exact[r][j]) / exact[r][j]);
			else
				worst = fmax(worst, p);
		}
	}
	CHECK(worst <= 1e-6);
	CHECK_INT_EQ(touched, 0);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_bias_gelu);
	RUN_TEST(test_gelu_special_values);
	RUN_TEST(test_dequantize_gelu);
	RUN_TEST(test_softmax_rows);
	UNIT_DONE();
}
