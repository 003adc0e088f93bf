/*
 * kernels.c - the encoder's element-wise passes, portable and AVX-512.
 *
 * bertqa is built for the baseline x86-64 ISA (the packaged extension must
 * load on any x86-64 CPU), which leaves these loops 4 floats wide.  The
 * AVX-512 versions are compiled for that ISA alone and picked at run time
 * when the CPU has it.  The portable loops call glibc's 4-wide vector
 * expf and erfcf (libmvec, which -lm brings in on x86-64); the AVX-512 ones
 * compute exp and GELU inline (see bias_gelu_span for why).  Both paths
 * accumulate sums in double; tails of fewer than 16 floats go to scalar
 * code, except AVX-512 GELU's and softmax's, which take them as one masked
 * vector.
 */
#include "kernels.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* 1/sqrt(2), for the exact GELU. */
#define INV_SQRT2 0.70710678118654752440f

#ifdef BQ_X86_KERNELS
#include <immintrin.h>

/* libmvec's 4-wide expf and erfcf, under the x86-64 vector function ABI names. */
extern __m128 _ZGVbN4v_expf(__m128 x);
extern __m128 _ZGVbN4v_erfcf(__m128 x);
#endif

/*
 * Past this |x|, GELU(x) is max(x, 0) to within 1e-21: the GELU kernels
 * compute the erfc term at this |x| instead, so that infinite x give GELU's
 * limits rather than inf * 0.
 */
#define GELU_TAIL 10.0f

/* ---- portable kernels ----------------------------------------------------- */

/*
 * x[i] = exp(x[i]) for n floats.
 */
static void
exp_inplace(float *x, int n)
{
	int			i = 0;

#ifdef BQ_X86_KERNELS
	for (; i + 4 <= n; i += 4)
		_mm_storeu_ps(x + i, _ZGVbN4v_expf(_mm_loadu_ps(x + i)));
#endif
	for (; i < n; i++)
		x[i] = expf(x[i]);
}

/*
 * x[i] = GELU(x[i]) = x/2 (1 + erf(x/√2)) for n floats, computed as
 * max(x, 0) - |x|/2 erfc(|x|/√2), which keeps its precision for negative
 * x, where 1 + erf(x/√2) cancels.  NaN stays NaN.
 */
static void
gelu_inplace(float *x, int n)
{
	int			i = 0;

#ifdef BQ_X86_KERNELS
	const __m128 half = _mm_set1_ps(0.5f);
	const __m128 inv_sqrt2 = _mm_set1_ps(INV_SQRT2);
	const __m128 tail = _mm_set1_ps(GELU_TAIL);

	for (; i + 4 <= n; i += 4)
	{
		__m128		v = _mm_loadu_ps(x + i);
		/* operands in this order (and max's below) pass a NaN through */
		__m128		a = _mm_min_ps(tail, _mm_andnot_ps(_mm_set1_ps(-0.0f), v));
		__m128		e = _ZGVbN4v_erfcf(_mm_mul_ps(a, inv_sqrt2));

		_mm_storeu_ps(x + i, _mm_sub_ps(_mm_max_ps(_mm_setzero_ps(), v),
										_mm_mul_ps(_mm_mul_ps(half, a), e)));
	}
#endif
	for (; i < n; i++)
	{
		float		a = fabsf(x[i]) > GELU_TAIL ? GELU_TAIL : fabsf(x[i]);

		x[i] = (x[i] > 0.0f ? x[i] : 0.0f) - 0.5f * a * erfcf(a * INV_SQRT2);
	}
}

static void
add_bias_portable(float *x, int rows, int cols, int ld, const float *bias)
{
	for (int r = 0; r < rows; r++)
	{
		float	   *row = x + (size_t) r * ld;

		for (int j = 0; j < cols; j++)
			row[j] += bias[j];
	}
}

static void
bias_gelu_portable(float *x, int rows, int cols, const float *bias)
{
	for (int r = 0; r < rows; r++)
	{
		float	   *row = x + (size_t) r * cols;

		for (int j = 0; j < cols; j++)
			row[j] += bias[j];
		gelu_inplace(row, cols);
	}
}

/*
 * Four running maxima and sums keep the loops free of one long dependency
 * chain.
 */
static void
softmax_rows_portable(float *x, int rows, int cols, int ld, float *inv_sum)
{
	for (int r = 0; r < rows; r++)
	{
		float	   *row = x + (size_t) r * ld;
		float		m0 = row[0],
					m1 = row[0],
					m2 = row[0],
					m3 = row[0];
		double		t0 = 0.0,
					t1 = 0.0,
					t2 = 0.0,
					t3 = 0.0;
		float		max;
		int			j;

		for (j = 0; j + 4 <= cols; j += 4)
		{
			m0 = row[j] > m0 ? row[j] : m0;
			m1 = row[j + 1] > m1 ? row[j + 1] : m1;
			m2 = row[j + 2] > m2 ? row[j + 2] : m2;
			m3 = row[j + 3] > m3 ? row[j + 3] : m3;
		}
		for (; j < cols; j++)
			m0 = row[j] > m0 ? row[j] : m0;
		max = fmaxf(fmaxf(m0, m1), fmaxf(m2, m3));

		for (j = 0; j < cols; j++)
			row[j] -= max;
		exp_inplace(row, cols);

		for (j = 0; j + 4 <= cols; j += 4)
		{
			t0 += row[j];
			t1 += row[j + 1];
			t2 += row[j + 2];
			t3 += row[j + 3];
		}
		for (; j < cols; j++)
			t0 += row[j];
		inv_sum[r] = (float) (1.0 / ((t0 + t1) + (t2 + t3)));
	}
}

static void
scale_rows_portable(float *x, int rows, int cols, int ld, const float *scale)
{
	for (int r = 0; r < rows; r++)
	{
		float	   *row = x + (size_t) r * ld;

		for (int j = 0; j < cols; j++)
			row[j] *= scale[r];
	}
}

static void
add_layer_norm_portable(float *out, float *x, const float *bias, const float *residual,
						int rows, int cols, const float *gamma, const float *beta, float eps)
{
	for (int r = 0; r < rows; r++)
	{
		float	   *s = x + (size_t) r * cols;
		const float *res = residual != NULL ? residual + (size_t) r * cols : NULL;
		float	   *o = out + (size_t) r * cols;
		double		mean = 0.0;
		double		var = 0.0;
		float		inv_std;

		for (int j = 0; j < cols; j++)
		{
			if (bias != NULL)
				s[j] += bias[j];
			if (res != NULL)
				s[j] += res[j];
			mean += s[j];
		}
		mean /= cols;
		for (int j = 0; j < cols; j++)
		{
			double		d = s[j] - mean;

			var += d * d;
		}
		var /= cols;
		inv_std = (float) (1.0 / sqrt(var + (double) eps));
		for (int j = 0; j < cols; j++)
			o[j] = ((float) (s[j] - mean)) * inv_std * gamma[j] + beta[j];
	}
}

/*
 * The symmetric int8 scale of a row whose largest |x| is max_abs: sets
 * *scale (what a quantized value is multiplied by to read it back) and
 * returns its inverse.  An all-zero row gets scale 1.
 */
static float
quantization_scale(float max_abs, float *scale)
{
	*scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
	return max_abs > 0.0f ? 127.0f / max_abs : 1.0f;
}

/*
 * The largest |x| of n floats.
 */
static float
abs_max_portable(const float *x, int n)
{
	float		m = 0.0f;

	for (int j = 0; j < n; j++)
		m = fabsf(x[j]) > m ? fabsf(x[j]) : m;
	return m;
}

static void
quantize_rows_portable(const float *x, int rows, int cols, int8_t *q, float *scales)
{
	for (int r = 0; r < rows; r++)
	{
		const float *row = x + (size_t) r * cols;
		int8_t	   *out = q + (size_t) r * cols;
		float		inv = quantization_scale(abs_max_portable(row, cols), &scales[r]);

		for (int j = 0; j < cols; j++)
			out[j] = (int8_t) lrintf(row[j] * inv);
	}
}

static void
dequantize_rows_portable(const int32_t *acc, int rows, int cols, const float *row_scales,
						 const float *col_scales, const float *bias, int gelu, float *out)
{
	for (int r = 0; r < rows; r++)
	{
		const int32_t *a = acc + (size_t) r * cols;
		float	   *o = out + (size_t) r * cols;

		for (int j = 0; j < cols; j++)
			o[j] = (float) a[j] * row_scales[r] * col_scales[j] + bias[j];
		if (gelu)
			gelu_inplace(o, cols);
	}
}

/* ---- AVX-512 kernels ------------------------------------------------------ */

#ifdef BQ_X86_KERNELS
#pragma GCC push_options
#pragma GCC target("avx512f")

/*
 * The most vectors of 16 floats scaled_exp_vectors and bias_gelu_span work
 * on at once (see bias_gelu_span for why they take several).
 */
#define VECTOR_BLOCK 8

/* Numerical Recipes' fit of erfc: P(t) = sum of ERFC_FIT[i] t^i (see bias_gelu_span). */
static const float ERFC_FIT[10] = {
	-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
	0.27886807f, -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f,
};

/* e^r = 1 + r + r^2 Q(r) on |r| <= ln(2)/2: Q's coefficients, highest first (Cephes' expf). */
static const float EXP_FIT[6] = {
	1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
	4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f,
};

/*
 * y[i] = f[i] e^y[i] for 'count' vectors (at most VECTOR_BLOCK), each
 * y >= -87, where e^y is still a normal float; NaN stays NaN.
 * e^y = 2^n e^r with n = round(y / ln 2) and |r| <= ln(2)/2 (ln 2 split in
 * two so that r is exact), relative error about 1e-7.  f takes the 2^n at
 * once, so n need not stay in a register while the polynomial runs.
 */
static inline __attribute__((always_inline)) void
scaled_exp_vectors(__m512 *y, __m512 *f, int count)
{
	__m512		r[VECTOR_BLOCK],
				p[VECTOR_BLOCK];

#pragma GCC unroll 8
	for (int i = 0; i < count; i++)
	{
		__m512		n = _mm512_roundscale_ps(_mm512_mul_ps(y[i], _mm512_set1_ps(1.44269504088896341f)),
											 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);

		r[i] = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), y[i]);
		r[i] = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r[i]);
		f[i] = _mm512_scalef_ps(f[i], n);
		p[i] = _mm512_set1_ps(EXP_FIT[0]);
	}
	for (int k = 1; k < 6; k++)
#pragma GCC unroll 8
		for (int i = 0; i < count; i++)
			p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(EXP_FIT[k]));
#pragma GCC unroll 8
	for (int i = 0; i < count; i++)
	{
		p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(1.0f));
		p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(1.0f));
		y[i] = _mm512_mul_ps(f[i], p[i]);
	}
}

/*
 * x + bias for the i-th vector of a span, 'bias' NULL for none; lanes
 * outside 'lanes' read as zero.
 */
static inline __attribute__((always_inline)) __m512
load_biased(const float *row, const float *bias, int i, __mmask16 lanes)
{
	__m512		x = _mm512_maskz_loadu_ps(lanes, row + 16 * i);

	return bias != NULL ? _mm512_add_ps(x, _mm512_maskz_loadu_ps(lanes, bias + 16 * i)) : x;
}

/*
 * row[0 .. 16 count) = GELU(row + bias), 'bias' NULL for none, count at
 * most VECTOR_BLOCK, only the 'lanes' of a single vector (count 1) when it
 * is a row's tail.  Written as GELU(x) = max(x, 0) - |x|/2 erfc(|x|/√2),
 * which keeps its precision for negative x, where 1 + erf(x/√2) cancels;
 * NaN stays NaN.  erfc(z) = t e^(-z² + P(t)), t = 1/(1 + z/2), P of
 * degree 9 (Numerical Recipes' Chebyshev fit: relative error under 1.2e-7
 * for every z >= 0); t is the 14-bit reciprocal refined by one Newton
 * step.  GELU's error against double precision is at most about 2.4e-7.
 *
 * Each step runs over all the vectors before the next: one vector's chain
 * of some 35 dependent operations leaves the FMA units mostly idle, and
 * eight in turn run more than twice as fast, faster than libmvec's erff.
 * x is loaded again at the end rather than kept, so that eight vectors'
 * state fits in the 32 registers.  On 128 rows of the FFN's 3072 columns
 * the pass takes about 4% of the time of the product before it, where
 * oneDNN's GELU post-op adds 6%, which is why the products leave GELU to
 * this pass.
 */
static inline __attribute__((always_inline)) void
bias_gelu_span(float *row, const float *bias, int count, __mmask16 lanes)
{
	__m512		ax[VECTOR_BLOCK],
				t[VECTOR_BLOCK],
				e[VECTOR_BLOCK];

#pragma GCC unroll 8
	for (int i = 0; i < count; i++)
	{
		__m512		d;

		/* operands in this order (and max's below) pass a NaN through */
		ax[i] = _mm512_min_ps(_mm512_set1_ps(GELU_TAIL),
							  _mm512_abs_ps(load_biased(row, bias, i, lanes)));
		d = _mm512_fmadd_ps(ax[i], _mm512_set1_ps(0.5f * INV_SQRT2), _mm512_set1_ps(1.0f));
		t[i] = _mm512_rcp14_ps(d);
		t[i] = _mm512_mul_ps(t[i], _mm512_fnmadd_ps(d, t[i], _mm512_set1_ps(2.0f)));
		e[i] = _mm512_set1_ps(ERFC_FIT[9]);
	}
	for (int k = 8; k >= 0; k--)
#pragma GCC unroll 8
		for (int i = 0; i < count; i++)
			e[i] = _mm512_fmadd_ps(e[i], t[i], _mm512_set1_ps(ERFC_FIT[k]));
#pragma GCC unroll 8
	for (int i = 0; i < count; i++)
	{
		__m512		half_ax = _mm512_mul_ps(ax[i], _mm512_set1_ps(0.5f));

		/* e = -z² + P(t), z² = |x|²/2; t becomes |x|/2 t */
		e[i] = _mm512_fnmadd_ps(half_ax, ax[i], e[i]);
		t[i] = _mm512_mul_ps(half_ax, t[i]);
	}
	scaled_exp_vectors(e, t, count);
#pragma GCC unroll 8
	for (int i = 0; i < count; i++)
		_mm512_mask_storeu_ps(row + 16 * i, lanes,
							  _mm512_sub_ps(_mm512_max_ps(_mm512_setzero_ps(),
														  load_biased(row, bias, i, lanes)),
											e[i]));
}

/*
 * row = GELU(row + bias) over 'cols' floats, 'bias' NULL for none.
 */
static void
bias_gelu_row(float *row, int cols, const float *bias)
{
	int			j = 0;

	for (; j + 16 * VECTOR_BLOCK <= cols; j += 16 * VECTOR_BLOCK)
		bias_gelu_span(row + j, bias != NULL ? bias + j : NULL, VECTOR_BLOCK, 0xffff);
	for (; j + 16 <= cols; j += 16)
		bias_gelu_span(row + j, bias != NULL ? bias + j : NULL, 1, 0xffff);
	if (j < cols)
		bias_gelu_span(row + j, bias != NULL ? bias + j : NULL, 1,
					   (__mmask16) ((1u << (cols - j)) - 1));
}

/*
 * acc += the 16 floats of v, widened to double.
 */
static inline __m512d
accumulate_pd(__m512d acc, __m512 v)
{
	__m256		hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));

	acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
	return _mm512_add_pd(acc, _mm512_cvtps_pd(hi));
}

static void
add_bias_avx512(float *x, int rows, int cols, int ld, const float *bias)
{
	for (int r = 0; r < rows; r++)
	{
		float	   *row = x + (size_t) r * ld;
		int			j = 0;

		for (; j + 16 <= cols; j += 16)
			_mm512_storeu_ps(row + j, _mm512_add_ps(_mm512_loadu_ps(row + j),
													_mm512_loadu_ps(bias + j)));
		for (; j < cols; j++)
			row[j] += bias[j];
	}
}

static void
bias_gelu_avx512(float *x, int rows, int cols, const float *bias)
{
	for (int r = 0; r < rows; r++)
		bias_gelu_row(x + (size_t) r * cols, cols, bias);
}

/*
 * row[0 .. 16 count) = e^(row - max), count at most VECTOR_BLOCK, only the
 * 'lanes' of a single vector (count 1) when it is a row's tail (below
 * e^-87 counts as e^-87, which no sum of ones notices); returns acc plus
 * their sum, added pairwise in float and then in double.
 */
static inline __attribute__((always_inline)) __m512d
exp_span(float *row, __m512 max, int count, __mmask16 lanes, __m512d acc)
{
	__m512		e[VECTOR_BLOCK],
				one[VECTOR_BLOCK];

#pragma GCC unroll 8
	for (int i = 0; i < count; i++)
	{
		/* operands in this order pass a NaN through */
		e[i] = _mm512_max_ps(_mm512_set1_ps(-87.0f),
							 _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, row + 16 * i), max));
		one[i] = _mm512_set1_ps(1.0f);
	}
	scaled_exp_vectors(e, one, count);
#pragma GCC unroll 8
	for (int i = 0; i < count; i++)
		_mm512_mask_storeu_ps(row + 16 * i, lanes, e[i]);
#pragma GCC unroll 3
	for (int step = 1; step < count; step *= 2)
#pragma GCC unroll 8
		for (int i = 0; i + step < count; i += 2 * step)
			e[i] = _mm512_add_ps(e[i], e[i + step]);
	return accumulate_pd(acc, _mm512_maskz_mov_ps(lanes, e[0]));
}

/*
 * Four running maxima and blocks of exponentials keep the loops free of
 * one long dependency chain; a row's last partial vector is masked.
 */
static void
softmax_rows_avx512(float *x, int rows, int cols, int ld, float *inv_sum)
{
	__mmask16	tail = (__mmask16) ((1u << (cols % 16)) - 1);

	for (int r = 0; r < rows; r++)
	{
		float	   *row = x + (size_t) r * ld;
		__m512		m[4];
		__m512		max;
		__m512d		acc = _mm512_setzero_pd();
		int			j;

#pragma GCC unroll 4
		for (int i = 0; i < 4; i++)
			m[i] = _mm512_set1_ps(row[0]);
		for (j = 0; j + 64 <= cols; j += 64)
#pragma GCC unroll 4
			for (int i = 0; i < 4; i++)
				m[i] = _mm512_max_ps(m[i], _mm512_loadu_ps(row + j + 16 * i));
		for (; j + 16 <= cols; j += 16)
			m[0] = _mm512_max_ps(m[0], _mm512_loadu_ps(row + j));
		/* masked-off lanes keep row[0], which is no larger than the max */
		m[1] = _mm512_mask_max_ps(m[1], tail, m[1], _mm512_maskz_loadu_ps(tail, row + j));
		max = _mm512_set1_ps(_mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m[0], m[1]),
																  _mm512_max_ps(m[2], m[3]))));

		for (j = 0; j + 16 * VECTOR_BLOCK <= cols; j += 16 * VECTOR_BLOCK)
			acc = exp_span(row + j, max, VECTOR_BLOCK, 0xffff, acc);
		for (; j + 16 <= cols; j += 16)
			acc = exp_span(row + j, max, 1, 0xffff, acc);
		if (j < cols)
			acc = exp_span(row + j, max, 1, tail, acc);
		inv_sum[r] = (float) (1.0 / _mm512_reduce_add_pd(acc));
	}
}

static void
scale_rows_avx512(float *x, int rows, int cols, int ld, const float *scale)
{
	for (int r = 0; r < rows; r++)
	{
		float	   *row = x + (size_t) r * ld;
		__m512		s = _mm512_set1_ps(scale[r]);
		int			j = 0;

		for (; j + 16 <= cols; j += 16)
			_mm512_storeu_ps(row + j, _mm512_mul_ps(_mm512_loadu_ps(row + j), s));
		for (; j < cols; j++)
			row[j] *= scale[r];
	}
}

static void
add_layer_norm_avx512(float *out, float *x, const float *bias, const float *residual,
					  int rows, int cols, const float *gamma, const float *beta, float eps)
{
	for (int r = 0; r < rows; r++)
	{
		float	   *s = x + (size_t) r * cols;
		const float *res = residual != NULL ? residual + (size_t) r * cols : NULL;
		float	   *o = out + (size_t) r * cols;
		__m512d		acc = _mm512_setzero_pd();
		double		mean;
		double		var;
		float		inv_std;
		__m512		vmean;
		__m512		vinv;
		int			j;

		/* s = x + bias + residual, and its mean */
		for (j = 0; j + 16 <= cols; j += 16)
		{
			__m512		v = _mm512_loadu_ps(s + j);

			if (bias != NULL)
				v = _mm512_add_ps(v, _mm512_loadu_ps(bias + j));
			if (res != NULL)
				v = _mm512_add_ps(v, _mm512_loadu_ps(res + j));
			_mm512_storeu_ps(s + j, v);
			acc = accumulate_pd(acc, v);
		}
		mean = _mm512_reduce_add_pd(acc);
		for (; j < cols; j++)
		{
			if (bias != NULL)
				s[j] += bias[j];
			if (res != NULL)
				s[j] += res[j];
			mean += s[j];
		}
		mean /= cols;

		/* the variance, from the deviations in double */
		{
			__m512d		m = _mm512_set1_pd(mean);
			__m512d		sq = _mm512_setzero_pd();

			for (j = 0; j + 8 <= cols; j += 8)
			{
				__m512d		d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(s + j)), m);

				sq = _mm512_fmadd_pd(d, d, sq);
			}
			var = _mm512_reduce_add_pd(sq);
			for (; j < cols; j++)
				var += (s[j] - mean) * (s[j] - mean);
		}
		var /= cols;
		inv_std = (float) (1.0 / sqrt(var + (double) eps));

		vmean = _mm512_set1_ps((float) mean);
		vinv = _mm512_set1_ps(inv_std);
		for (j = 0; j + 16 <= cols; j += 16)
		{
			__m512		n = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(s + j), vmean), vinv);

			_mm512_storeu_ps(o + j, _mm512_fmadd_ps(n, _mm512_loadu_ps(gamma + j),
													_mm512_loadu_ps(beta + j)));
		}
		for (; j < cols; j++)
			o[j] = ((float) (s[j] - mean)) * inv_std * gamma[j] + beta[j];
	}
}

/*
 * The largest |x| of n floats.
 */
static float
abs_max_avx512(const float *x, int n)
{
	__m512		m = _mm512_setzero_ps();
	float		best;
	int			j = 0;

	for (; j + 16 <= n; j += 16)
		m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
	best = _mm512_reduce_max_ps(m);
	for (; j < n; j++)
		best = fabsf(x[j]) > best ? fabsf(x[j]) : best;
	return best;
}

static void
quantize_rows_avx512(const float *x, int rows, int cols, int8_t *q, float *scales)
{
	for (int r = 0; r < rows; r++)
	{
		const float *row = x + (size_t) r * cols;
		int8_t	   *out = q + (size_t) r * cols;
		float		inv = quantization_scale(abs_max_avx512(row, cols), &scales[r]);
		__m512		vinv = _mm512_set1_ps(inv);
		int			j = 0;

		for (; j + 16 <= cols; j += 16)
		{
			/* round to nearest (the default mode), then narrow with saturation */
			__m512i		v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(row + j), vinv));

			_mm_storeu_si128((__m128i *) (out + j), _mm512_cvtsepi32_epi8(v));
		}
		for (; j < cols; j++)
			out[j] = (int8_t) lrintf(row[j] * inv);
	}
}

static void
dequantize_rows_avx512(const int32_t *acc, int rows, int cols, const float *row_scales,
					   const float *col_scales, const float *bias, int gelu, float *out)
{
	for (int r = 0; r < rows; r++)
	{
		const int32_t *a = acc + (size_t) r * cols;
		float	   *o = out + (size_t) r * cols;
		__m512		rs = _mm512_set1_ps(row_scales[r]);
		int			j = 0;

		for (; j + 16 <= cols; j += 16)
		{
			__m512		v = _mm512_cvtepi32_ps(_mm512_loadu_si512(a + j));

			v = _mm512_fmadd_ps(_mm512_mul_ps(v, rs), _mm512_loadu_ps(col_scales + j),
								_mm512_loadu_ps(bias + j));
			_mm512_storeu_ps(o + j, v);
		}
		for (; j < cols; j++)
			o[j] = (float) a[j] * row_scales[r] * col_scales[j] + bias[j];
		if (gelu)
			bias_gelu_row(o, cols, NULL);
	}
}

#pragma GCC pop_options
#endif							/* BQ_X86_KERNELS */

/* ---- dispatch ------------------------------------------------------------- */

/* One implementation of every pass. */
typedef struct KernelSet
{
	void		(*add_bias) (float *x, int rows, int cols, int ld, const float *bias);
	void		(*bias_gelu) (float *x, int rows, int cols, const float *bias);
	void		(*softmax_rows) (float *x, int rows, int cols, int ld, float *inv_sum);
	void		(*scale_rows) (float *x, int rows, int cols, int ld, const float *scale);
	void		(*add_layer_norm) (float *out, float *x, const float *bias, const float *residual,
								   int rows, int cols, const float *gamma, const float *beta,
								   float eps);
	void		(*quantize_rows) (const float *x, int rows, int cols, int8_t *q, float *scales);
	void		(*dequantize_rows) (const int32_t *acc, int rows, int cols,
									const float *row_scales, const float *col_scales,
									const float *bias, int gelu, float *out);
} KernelSet;

static const KernelSet portable_kernels = {
	add_bias_portable, bias_gelu_portable, softmax_rows_portable, scale_rows_portable,
	add_layer_norm_portable, quantize_rows_portable, dequantize_rows_portable,
};

#ifdef BQ_X86_KERNELS
static const KernelSet avx512_kernels = {
	add_bias_avx512, bias_gelu_avx512, softmax_rows_avx512, scale_rows_avx512,
	add_layer_norm_avx512, quantize_rows_avx512, dequantize_rows_avx512,
};
#endif

bool
bq_kernels_avx512(void)
{
#ifdef BQ_X86_KERNELS
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f");
#else
	return false;
#endif
}

/* The AVX-512 kernels where they can run, the portable ones elsewhere. */
static const KernelSet *
kernels(void)
{
#ifdef BQ_X86_KERNELS
	if (bq_kernels_avx512())
		return &avx512_kernels;
#endif
	return &portable_kernels;
}

void
bq_add_bias(float *x, int rows, int cols, int ld, const float *bias)
{
	kernels()->add_bias(x, rows, cols, ld, bias);
}

void
bq_bias_gelu(float *x, int rows, int cols, const float *bias)
{
	kernels()->bias_gelu(x, rows, cols, bias);
}

void
bq_softmax_rows(float *x, int rows, int cols, int ld, float *inv_sum)
{
	kernels()->softmax_rows(x, rows, cols, ld, inv_sum);
}

void
bq_scale_rows(float *x, int rows, int cols, int ld, const float *scale)
{
	kernels()->scale_rows(x, rows, cols, ld, scale);
}

void
bq_add_layer_norm(float *out, float *x, const float *bias, const float *residual,
				  int rows, int cols, const float *gamma, const float *beta, float eps)
{
	kernels()->add_layer_norm(out, x, bias, residual, rows, cols, gamma, beta, eps);
}

void
bq_quantize_rows(const float *x, int rows, int cols, int8_t *q, float *scales)
{
	kernels()->quantize_rows(x, rows, cols, q, scales);
}

void
bq_dequantize_rows(const int32_t *acc, int rows, int cols, const float *row_scales,
				   const float *col_scales, const float *bias, int gelu, float *out)
{
	kernels()->dequantize_rows(acc, rows, cols, row_scales, col_scales, bias, gelu, out);
}

/*
 * Rounding to nearest even on the bit pattern: add 0x7fff plus the lowest
 * kept bit, then drop the low half.  NaNs keep a set mantissa bit.
 */
void
bq_to_bf16(const float *x, size_t n, uint16_t *out)
{
	for (size_t i = 0; i < n; i++)
	{
		uint32_t	bits;

		memcpy(&bits, &x[i], sizeof(bits));
		if ((bits & 0x7fffffffu) > 0x7f800000u)
			out[i] = (uint16_t) ((bits >> 16) | 0x40);
		else
			out[i] = (uint16_t) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
	}
}
