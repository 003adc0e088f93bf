/*
 * onednn.h - fp32 matrix products on oneDNN (Debian libdnnl).
 *
 * A linear layer's weights are reordered once into the blocked layout
 * oneDNN's kernels read directly ("packed"), so no product repacks them,
 * unlike a BLAS sgemm call.  Products then run as oneDNN matmul
 * primitives, compiled once per shape and kept in a BqLinearKernels, with
 * the bias and, where asked, the exact (erf) GELU applied as the result is
 * written.  Threads come from OpenMP, oneDNN's own thread pool.
 */
#ifndef BQ_ONEDNN_H
#define BQ_ONEDNN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"

/*
 * Create oneDNN's CPU engine and stream, once per process; fails when
 * oneDNN's kernels for this CPU are not the ones bertqa uses (see onednn.c).
 */
int			bq_onednn_init(BqError *err);

/* The kernels oneDNN's products use, e.g. "brg:avx512_core". */
const char *bq_onednn_kernels(void);

/* The instruction set oneDNN's kernels use here, e.g. "avx512_core". */
const char *bq_onednn_isa(void);

/* oneDNN's version, e.g. "2.6.3". */
const char *bq_onednn_version(void);

/*
 * The packed layout of a weight with 'k' inputs and 'n' outputs: its size in
 * bytes, and a hash that changes whenever the layout does (another oneDNN
 * version or instruction set), for naming files that hold packed weights.
 */
int			bq_onednn_packed_size(int k, int n, size_t *bytes, uint64_t *layout_hash,
								  BqError *err);

/* Reorder w ([n][k], PyTorch's layout) into 'packed' (bq_onednn_packed_size bytes). */
int			bq_onednn_pack(const float *w, int k, int n, void *packed, BqError *err);

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
 * bq_onednn_pack; runs on the calling thread's OpenMP thread count.
 */
int			bq_linear(BqLinearKernels *kernels, int rows, int k, int n,
					  const float *in, const void *packed, const float *bias,
					  BqEpilogue epilogue, float *out, BqError *err);

#endif							/* BQ_ONEDNN_H */
