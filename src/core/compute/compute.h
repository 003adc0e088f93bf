/*
 * compute.h - the libraries that run the encoder's matrix products, and the
 * threads they run on.
 *
 * oneDNN is the engine for the projections: weights packed once, products
 * compiled per shape, threads from OpenMP.  Attention (whose operands
 * change with every input) runs in bertqa's own AVX-512 kernel where it
 * can (see attention.h), on OpenBLAS otherwise; the QA head on OpenBLAS.
 * OpenBLAS runs every product when oneDNN cannot start, when its kernels for
 * this CPU are not the brgemm ones bertqa has checked (see onednn.c), or
 * when the environment variable BERTQA_SGEMM=openblas asks for it (to
 * compare the two).
 *
 * Every helper thread either library starts is created with all signals
 * blocked, so the host's signals (a PostgreSQL backend's cancel and timeout
 * signals among them) stay on the thread that handles them.
 */
#ifndef BQ_COMPUTE_H
#define BQ_COMPUTE_H

#include <stdbool.h>

#include "bq_error.h"

/*
 * The number format of the projections' weights and inputs.  Accumulation,
 * softmax, LayerNorm and attention's products stay fp32 in every one.
 */
typedef enum BqPrecision
{
	BQ_PRECISION_FP32,
	BQ_PRECISION_BF16,			/* bfloat16 weights and inputs */
	BQ_PRECISION_INT8			/* int8: weights per output channel, inputs per token */
} BqPrecision;

#define BQ_PRECISIONS 3

/* "fp32", "bf16", "int8". */
const char *bq_precision_name(BqPrecision precision);

/* The precision named 'name'; false when there is none. */
bool		bq_precision_parse(const char *name, BqPrecision *precision);

typedef enum BqEngine
{
	BQ_ENGINE_ONEDNN,
	BQ_ENGINE_OPENBLAS
} BqEngine;

/* Choose and start the engine, once per process; safe to call repeatedly. */
int			bq_compute_init(BqError *err);

/* The engine chosen by bq_compute_init. */
BqEngine	bq_compute_engine(void);

/*
 * What runs the products in 'precision' (fp32 on OpenBLAS), e.g.
 * "oneDNN 2.6.3 brg:avx512_core (avx512_core_vnni) + OpenBLAS SkylakeX" or
 * "OpenBLAS SkylakeX".
 */
const char *bq_compute_kernels(BqPrecision precision);

/*
 * Whether products in 'precision' run as such here: fp32 always; bf16 and
 * int8 only on oneDNN kernels bertqa accepts for them (see onednn.c).
 */
bool		bq_compute_runs(BqPrecision precision);

/* Threads one forward pass may use (clamped to at least 1). */
void		bq_compute_set_threads(int threads);
int			bq_compute_threads(void);

/*
 * The share [*first, *end) of 'count' items that the calling thread of the
 * current OpenMP team handles.
 */
void		bq_thread_share(int count, int *first, int *end);

#endif							/* BQ_COMPUTE_H */
