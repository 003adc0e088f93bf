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
 * With BERTQA_SGEMM=onednn, matrix products on one thread go to oneDNN's
 * sgemm instead (Debian libdnnl2): its JIT kernels run the encoder's shapes
 * 8-15% faster than OpenBLAS 0.3.21 on AVX-512 CPUs.  It runs on OpenMP, so
 * it is only ever asked for one thread, which starts no OpenMP threads at
 * all; two or more threads stay with OpenBLAS alone, so the two libraries'
 * thread pools never compete.  It is not the default because its results
 * differ from OpenBLAS's in the last float bits and its JIT kernels read
 * past their buffers, which valgrind reports.
 */
#include "blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OPENBLAS_SONAME "libopenblas.so.0"
#define ONEDNN_SONAME "libdnnl.so.2"

/* CBLAS's standard enumeration values (cblas.h is not included on purpose). */
#define CBLAS_ROW_MAJOR 101
#define CBLAS_NO_TRANS 111
#define CBLAS_TRANS 112

typedef void (*SgemmFn) (int order, int trans_a, int trans_b, int m, int n, int k,
						 float alpha, const float *a, int lda,
						 const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*SetThreadsFn) (int threads);
typedef int (*GetThreadsFn) (void);
typedef char *(*CorenameFn) (void);
typedef int (*DnnlSgemmFn) (char trans_a, char trans_b, int64_t m, int64_t n, int64_t k,
							float alpha, const float *a, int64_t lda,
							const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
typedef void (*OmpSetThreadsFn) (int threads);

/* The loaded library; all NULL until bq_blas_init succeeds. */
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static void *blas_handle;
static SgemmFn blas_sgemm;
static SetThreadsFn blas_set_threads;
static GetThreadsFn blas_get_threads;
static CorenameFn blas_corename;

/* oneDNN, when installed; NULL otherwise. */
static void *onednn_handle;
static DnnlSgemmFn onednn_sgemm;
static OmpSetThreadsFn omp_set_threads;

/* Thread count asked for before the library was loaded; 0 = its default. */
static int	requested_threads;

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
 * OpenBLAS starts its worker threads when it loads and when the thread count
 * grows.  Threads inherit the signal mask of their creator, so creating them
 * with every signal blocked keeps the host's signals (a PostgreSQL backend's
 * cancel and timeout signals among them) on the thread that handles them.
 */
static void
block_signals(sigset_t *saved)
{
	sigset_t	all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, saved);
}

static void
restore_signals(const sigset_t *saved)
{
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/*
 * Pass a thread count to OpenBLAS, whose new threads must start with every
 * signal blocked (see block_signals).  Called with blas_lock held.
 */
static void
apply_threads(int threads)
{
	sigset_t	saved;

	block_signals(&saved);
	blas_set_threads(threads);
	restore_signals(&saved);
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
	sigset_t	saved;

	if (getenv("OPENBLAS_CORETYPE") == NULL && (coretype = coretype_for_cpu()) != NULL)
		setenv("OPENBLAS_CORETYPE", coretype, 0);

	block_signals(&saved);
	blas_handle = dlopen(OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
	restore_signals(&saved);
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
		(blas_get_threads = (GetThreadsFn) resolve("openblas_get_num_threads", err)) == NULL ||
		(blas_corename = (CorenameFn) resolve("openblas_get_corename", err)) == NULL ||
		(blas_sgemm = (SgemmFn) resolve("cblas_sgemm", err)) == NULL)
	{
		dlclose(blas_handle);
		blas_handle = NULL;
		blas_set_threads = NULL;
		blas_get_threads = NULL;
		blas_corename = NULL;
		return BQ_ERR_UNSUPPORTED;
	}
	if (requested_threads > 0)
		apply_threads(requested_threads);
	return BQ_OK;
}

/*
 * Open oneDNN if it is wanted; its absence is not an error.
 */
static void
load_onednn(void)
{
	const char *choice = getenv("BERTQA_SGEMM");
	sigset_t	saved;

	if (choice == NULL || strcmp(choice, "onednn") != 0)
		return;
	block_signals(&saved);
	onednn_handle = dlopen(ONEDNN_SONAME, RTLD_NOW | RTLD_LOCAL);
	restore_signals(&saved);
	if (onednn_handle == NULL)
		return;
	onednn_sgemm = (DnnlSgemmFn) dlsym(onednn_handle, "dnnl_sgemm");
	omp_set_threads = (OmpSetThreadsFn) dlsym(onednn_handle, "omp_set_num_threads");
	if (onednn_sgemm == NULL || omp_set_threads == NULL)
	{
		dlclose(onednn_handle);
		onednn_handle = NULL;
		onednn_sgemm = NULL;
		omp_set_threads = NULL;
	}
}

/*
 * Load OpenBLAS (and oneDNN, if present) once per process.
 */
int
bq_blas_init(BqError *err)
{
	int			rc = BQ_OK;

	pthread_mutex_lock(&blas_lock);
	if (blas_sgemm == NULL && (rc = load_openblas(err)) == BQ_OK)
		load_onednn();
	pthread_mutex_unlock(&blas_lock);
	return rc;
}

/*
 * Remember the thread count, and pass it on if the library is loaded.
 */
void
bq_blas_set_threads(int threads)
{
	if (threads < 1)
		threads = 1;
	pthread_mutex_lock(&blas_lock);
	requested_threads = threads;
	if (blas_set_threads != NULL)
		apply_threads(threads);
	pthread_mutex_unlock(&blas_lock);
}

/*
 * Threads a BLAS call uses now; before loading, what was asked for (or 1).
 */
int
bq_blas_get_threads(void)
{
	int			threads;

	pthread_mutex_lock(&blas_lock);
	if (blas_get_threads != NULL)
		threads = blas_get_threads();
	else
		threads = requested_threads > 0 ? requested_threads : 1;
	pthread_mutex_unlock(&blas_lock);
	return threads;
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
 * Whether products run on oneDNN now: only on one thread (see the top).
 */
static bool
use_onednn(void)
{
	bool		yes;

	pthread_mutex_lock(&blas_lock);
	yes = onednn_sgemm != NULL && requested_threads == 1;
	pthread_mutex_unlock(&blas_lock);
	return yes;
}

const char *
bq_blas_sgemm_library(void)
{
	return use_onednn() ? "oneDNN" : "OpenBLAS";
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
	if (use_onednn())
	{
		/*
		 * OpenMP's thread count belongs to the calling thread: set it here.
		 * oneDNN fails only when out of memory; OpenBLAS then does the work.
		 */
		omp_set_threads(1);
		if (onednn_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k,
						 alpha, a, lda, b, ldb, beta, c, ldc) == 0)
			return;
	}
	blas_sgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS,
			   trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k,
			   alpha, a, lda, b, ldb, beta, c, ldc);
}
