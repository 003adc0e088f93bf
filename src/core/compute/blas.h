/*
 * blas.h - the BLAS library bertqa runs its matrix products on (OpenBLAS).
 *
 * OpenBLAS picks its kernels once, when it is loaded, and Debian's 0.3.21
 * falls back to slow generic kernels on CPUs it does not know.  So it is
 * loaded at run time, on first use, after OPENBLAS_CORETYPE has been chosen
 * from the CPU's features (unless the user set it).  Loading late also keeps
 * BLAS threads out of any process that forks afterwards (the postmaster).
 * It runs the encoder when oneDNN does not (see compute.h).
 */
#ifndef BQ_BLAS_H
#define BQ_BLAS_H

#include <stdbool.h>

#include "bq_error.h"

/* Load OpenBLAS if not yet loaded; safe to call repeatedly. */
int			bq_blas_init(BqError *err);

/*
 * Threads each BLAS call may use; OpenBLAS starts missing ones at once, so
 * callers block signals around this (see compute.c).
 */
void		bq_blas_set_threads(int threads);

/* OpenBLAS's name for the kernels it selected, e.g. "SkylakeX". */
const char *bq_blas_corename(void);

/*
 * C = alpha * op(A) * op(B) + beta * C, row-major, as cblas_sgemm.  With
 * one OpenBLAS thread, several threads may call it at once.
 */
void		bq_sgemm(bool trans_a, bool trans_b, int m, int n, int k,
					 float alpha, const float *a, int lda,
					 const float *b, int ldb, float beta, float *c, int ldc);

#endif							/* BQ_BLAS_H */
