/*
 * kernels.h - the encoder's element-wise passes between matrix products.
 *
 * Each runs over rows of fp32 activations that are still in cache from the
 * product before it.  On CPUs with AVX-512 they run 16 floats at a time
 * (chosen once, at run time, from the CPU's features); elsewhere on
 * portable code.  Reductions accumulate in double on both paths, so the
 * two agree to float rounding.
 */
#ifndef BQ_KERNELS_H
#define BQ_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Builds whose compiler can target AVX-512 within functions (GCC on x86-64). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BQ_X86_KERNELS 1
#endif

/*
 * Whether the AVX-512 kernels run here: built in and the CPU has them.
 * __builtin_cpu_supports reads flags computed once per process, so asking
 * on every call costs nothing.
 */
bool		bq_kernels_avx512(void);

/* x[r][:cols] += bias for 'rows' rows of stride 'ld'. */
void		bq_add_bias(float *x, int rows, int cols, int ld, const float *bias);

/* x = GELU(x + bias), the exact (erf) GELU, on rows of width 'cols'. */
void		bq_bias_gelu(float *x, int rows, int cols, const float *bias);

/*
 * x = exp(x - max(row)) on 'rows' rows of width 'cols', stride 'ld';
 * inv_sum[r] = 1 / Σ row, for the caller to apply to a narrower product.
 */
void		bq_softmax_rows(float *x, int rows, int cols, int ld, float *inv_sum);

/* x[r][:cols] *= scale[r] for 'rows' rows of stride 'ld'. */
void		bq_scale_rows(float *x, int rows, int cols, int ld, const float *scale);

/*
 * out = LayerNorm(x + bias + residual) * gamma + beta, row by row, over
 * width 'cols'; 'bias' and 'residual' may be NULL; 'out' may be 'residual'.
 * 'x' is overwritten with the sum.
 */
void		bq_add_layer_norm(float *out, float *x, const float *bias, const float *residual,
							  int rows, int cols, const float *gamma, const float *beta,
							  float eps);

/*
 * Symmetric int8 quantization of each row of x ([rows][cols]):
 * scales[r] = max |x[r][:]| / 127 (1 for an all-zero row) and
 * q[r][j] = round(x[r][j] / scales[r]), to nearest.
 */
void		bq_quantize_rows(const float *x, int rows, int cols, int8_t *q, float *scales);

/*
 * out[r][j] = acc[r][j] * row_scales[r] * col_scales[j] + bias[j], then the
 * exact GELU when 'gelu': an int8 product back to floats.
 */
void		bq_dequantize_rows(const int32_t *acc, int rows, int cols, const float *row_scales,
							   const float *col_scales, const float *bias, int gelu, float *out);

/* bfloat16 of n floats, rounded to nearest even (NaN stays NaN). */
void		bq_to_bf16(const float *x, size_t n, uint16_t *out);

#endif							/* BQ_KERNELS_H */
