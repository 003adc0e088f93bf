/*
 * onednn.h - the projections' matrix products on oneDNN (Debian libdnnl).
 *
 * A linear layer's weights are reordered once into the blocked layout
 * oneDNN's kernels read directly ("packed"), so no product repacks them,
 * unlike a BLAS sgemm call.  Products then run as oneDNN matmul
 * primitives, compiled once per shape and kept in a BqLinearKernels, with
 * the bias added as the result is written; where the exact (erf) GELU is
 * asked for, bias and GELU are a pass of kernels.c right after the product.
 * Threads come from OpenMP, oneDNN's own thread pool.
 */
#ifndef BQ_ONEDNN_H
#define BQ_ONEDNN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"
#include "compute.h"

/*
 * Create oneDNN's CPU engine and stream, once per process; fails when
 * oneDNN's fp32 kernels for this CPU are not the ones bertqa uses (see
 * onednn.c).
 */
int			bq_onednn_init(BqError *err);

/*
 * The kernels oneDNN's products in 'precision' use here, e.g.
 * "brg:avx512_core"; NULL when bertqa cannot use them (the CPU lacks the
 * instructions for brgemm in that precision).
 */
const char *bq_onednn_kernels(BqPrecision precision);

/* The instruction set oneDNN's kernels use here, e.g. "avx512_core". */
const char *bq_onednn_isa(void);

/* oneDNN's version, e.g. "2.6.3". */
const char *bq_onednn_version(void);

/*
 * The packed layout of a weight with 'k' inputs and 'n' outputs in
 * 'precision': its size in bytes, and a hash that changes whenever the
 * layout does (another oneDNN version or instruction set), for naming
 * files that hold packed weights.
 */
int			bq_onednn_packed_size(int k, int n, BqPrecision precision, size_t *bytes,
								  uint64_t *layout_hash, BqError *err);

/*
 * Reorder w ([n][k], PyTorch's layout) into 'packed' (bq_onednn_packed_size
 * bytes) in 'precision'.  For int8, each output channel is quantized
 * symmetrically with its own scale, written to scales[n]; 'scales' is
 * unused otherwise.
 */
int			bq_onednn_pack(const float *w, int k, int n, BqPrecision precision, void *packed,
						   float *scales, BqError *err);

/* What a linear layer applies to its product before storing it. */
typedef enum BqEpilogue
{
	BQ_EPILOGUE_BIAS,			/* out = x·Wᵀ + b */
	BQ_EPILOGUE_BIAS_GELU		/* out = GELU(x·Wᵀ + b), exact erf GELU */
} BqEpilogue;

/*
 * Rows a linear layer computes for 'rows' input rows: products are compiled
 * for row counts rounded up (so a stream of different sequence lengths
 * compiles a few dozen kernels, not hundreds), and 'in' and 'out' must have
 * room for that many rows.  The extra rows' results are meaningless.
 */
int			bq_onednn_padded_rows(int rows);

/* Compiled products, one per shape seen; one per caller, not thread-safe. */
typedef struct BqLinearKernels BqLinearKernels;

BqLinearKernels *bq_linear_kernels_new(BqError *err);
void		bq_linear_kernels_free(BqLinearKernels *kernels);

/*
 * out[rows][n] = epilogue(in[rows][k] · Wᵀ + bias), W packed by
 * bq_onednn_pack in 'precision' ('scales' its int8 channel scales, else
 * unused).  bf16 converts 'in' to bfloat16; int8 quantizes each row of it
 * symmetrically with its own scale (per token: one outlier token does not
 * coarsen the others, and the rescaling pass bertqa needs anyway, since
 * oneDNN 2.6's brgemm int8 kernels take no per-call scales, costs the same
 * per row as per tensor).  Runs on the calling thread's OpenMP threads.
 */
int			bq_linear(BqLinearKernels *kernels, int rows, int k, int n, BqPrecision precision,
					  const float *in, const void *packed, const float *bias, const float *scales,
					  BqEpilogue epilogue, float *out, BqError *err);

#endif							/* BQ_ONEDNN_H */
