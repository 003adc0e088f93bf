/*
 * blas.c - OpenBLAS, loaded at run time.
 *
 * bertqa does not link OpenBLAS.  It opens libopenblas.so.0 on first use so
 * that (1) OPENBLAS_CORETYPE can still be chosen from the CPU's features
 * before OpenBLAS picks its kernels (Debian's 0.3.21 does not know some
 * recent CPUs and would silently run generic kernels several times slower),
 * and (2) a process that forks later (the PostgreSQL postmaster) never
 * starts BLAS threads: only the backends that run the model do.
 *
 * It is the fallback engine (see compute.h): products go to it when oneDNN
 * is not used.  Its callers start its threads with signals blocked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE				/* RTLD_DEEPBIND */
#endif
#include "blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

#define OPENBLAS_SONAME "libopenblas.so.0"

/* CBLAS's standard enumeration values (cblas.h is not included on purpose). */
#define CBLAS_ROW_MAJOR 101
#define CBLAS_NO_TRANS 111
#define CBLAS_TRANS 112

typedef void (*SgemmFn) (int order, int trans_a, int trans_b, int m, int n, int k,
						 float alpha, const float *a, int lda,
						 const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*SetThreadsFn) (int threads);
typedef char *(*CorenameFn) (void);

/* The loaded library; all NULL until bq_blas_init succeeds. */
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static void *blas_handle;
static SgemmFn blas_sgemm;
static SetThreadsFn blas_set_threads;
static CorenameFn blas_corename;

/*
 * Name the OpenBLAS kernel family for this CPU when OpenBLAS might not
 * recognise the CPU itself; NULL leaves the choice to OpenBLAS.
 */
static const char *
coretype_for_cpu(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		return "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
	return NULL;
}

/*
 * Look up one symbol, recording a clear failure when it is missing.
 */
static void *
resolve(const char *name, BqError *err)
{
	void	   *sym = dlsym(blas_handle, name);

	if (sym == NULL)
		bq_fail(err, BQ_ERR_UNSUPPORTED,
				"the OpenBLAS library \"%s\" lacks the function %s", OPENBLAS_SONAME, name);
	return sym;
}

/*
 * Open the library and resolve what bertqa calls; on failure nothing stays
 * loaded, so a later call tries again.
 */
static int
load_openblas(BqError *err)
{
	const char *coretype;

	if (getenv("OPENBLAS_CORETYPE") == NULL && (coretype = coretype_for_cpu()) != NULL)
		setenv("OPENBLAS_CORETYPE", coretype, 0);

	/*
	 * RTLD_DEEPBIND: OpenBLAS's kernel tables hold about 14,000 relocations
	 * against its own symbols; looked up in its own scope first, they bind
	 * in 3 ms instead of 10 ms inside a PostgreSQL backend, whose global
	 * scope is large.
	 */
	blas_handle = dlopen(OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
	if (blas_handle == NULL)
	{
		const char *why = dlerror();
		int			rc;

		rc = bq_fail(err, BQ_ERR_IO, "could not load OpenBLAS (%s): %s", OPENBLAS_SONAME,
					 why != NULL ? why : "unknown error");
		bq_fail_detail(err, "bertqa needs the OpenBLAS shared library (Debian package libopenblas0)");
		return rc;
	}
	if ((blas_set_threads = (SetThreadsFn) resolve("openblas_set_num_threads", err)) == NULL ||
		(blas_corename = (CorenameFn) resolve("openblas_get_corename", err)) == NULL ||
		(blas_sgemm = (SgemmFn) resolve("cblas_sgemm", err)) == NULL)
	{
		dlclose(blas_handle);
		blas_handle = NULL;
		blas_set_threads = NULL;
		blas_corename = NULL;
		return BQ_ERR_UNSUPPORTED;
	}
	return BQ_OK;
}

/*
 * Load OpenBLAS once per process.
 */
int
bq_blas_init(BqError *err)
{
	int			rc = BQ_OK;

	pthread_mutex_lock(&blas_lock);
	if (blas_sgemm == NULL)
		rc = load_openblas(err);
	pthread_mutex_unlock(&blas_lock);
	return rc;
}

/*
 * Pass a thread count to the loaded library.
 */
void
bq_blas_set_threads(int threads)
{
	pthread_mutex_lock(&blas_lock);
	blas_set_threads(threads);
	pthread_mutex_unlock(&blas_lock);
}

/*
 * The kernel family OpenBLAS actually selected, which tells whether the CPU
 * was recognised.
 */
const char *
bq_blas_corename(void)
{
	const char *name = NULL;

	pthread_mutex_lock(&blas_lock);
	if (blas_corename != NULL)
		name = blas_corename();
	pthread_mutex_unlock(&blas_lock);
	return name != NULL ? name : "not loaded";
}

/*
 * Row-major single-precision matrix product.  Callers reach this only
 * through an encoder, whose creation loaded the library.
 */
void
bq_sgemm(bool trans_a, bool trans_b, int m, int n, int k,
		 float alpha, const float *a, int lda,
		 const float *b, int ldb, float beta, float *c, int ldc)
{
	blas_sgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS,
			   trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k,
			   alpha, a, lda, b, ldb, beta, c, ldc);
}
