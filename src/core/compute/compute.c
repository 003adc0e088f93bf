/*
 * compute.c - engine choice and thread control.
 *
 * On oneDNN, a forward pass runs on OpenMP's threads (oneDNN's products
 * and the encoder's own parallel loops share one pool) and OpenBLAS keeps
 * one thread, the caller's.  On OpenBLAS, its threads run the products and
 * OpenMP stays at one thread.  So two pools never compete for the cores.
 */
#include "compute.h"

#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "onednn.h"

static pthread_mutex_t compute_lock = PTHREAD_MUTEX_INITIALIZER;
static bool started;
static BqEngine engine = BQ_ENGINE_ONEDNN;
static int	thread_count = 1;
static char kernels_names[BQ_PRECISIONS][128];

/*
 * Run 'start' with every signal blocked in this thread, so the threads it
 * creates inherit a mask that leaves the host's signals alone.
 */
static int
with_signals_blocked(int (*start) (void *arg), void *arg)
{
	sigset_t	all,
				saved;
	int			rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	rc = start(arg);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return rc;
}

/*
 * Give each pool its thread count and start the threads now, while signals
 * are blocked: libgomp creates its threads at the first parallel region
 * that needs them.
 */
static int
start_threads(void *arg)
{
	int			threads = *(const int *) arg;

	if (engine == BQ_ENGINE_OPENBLAS)
	{
		bq_blas_set_threads(threads);
		omp_set_num_threads(1);
	}
	else
	{
		bq_blas_set_threads(1);
		omp_set_num_threads(threads);
#pragma omp parallel
		{
			/* nothing: starting the pool is the point */
		}
	}
	return BQ_OK;
}

static int
load_openblas(void *arg)
{
	return bq_blas_init((BqError *) arg);
}

/*
 * The engine the environment asks for, oneDNN unless it says openblas.
 */
static BqEngine
requested_engine(void)
{
	const char *choice = getenv("BERTQA_SGEMM");

	return choice != NULL && strcmp(choice, "openblas") == 0 ?
		BQ_ENGINE_OPENBLAS : BQ_ENGINE_ONEDNN;
}

int
bq_compute_init(BqError *err)
{
	int			rc = BQ_OK;

	pthread_mutex_lock(&compute_lock);
	if (!started)
	{
		BqError		onednn_err;

		engine = requested_engine();
		if (engine == BQ_ENGINE_ONEDNN && bq_onednn_init(&onednn_err) != BQ_OK)
			engine = BQ_ENGINE_OPENBLAS;
		rc = with_signals_blocked(load_openblas, err);
		if (rc == BQ_OK)
		{
			started = true;
			with_signals_blocked(start_threads, &thread_count);
		}
	}
	pthread_mutex_unlock(&compute_lock);
	return rc;
}

BqEngine
bq_compute_engine(void)
{
	return engine;
}

const char *
bq_compute_kernels(BqPrecision precision)
{
	char	   *name = kernels_names[precision];
	const char *onednn;

	if (!started)
		return "not started";
	pthread_mutex_lock(&compute_lock);
	if (engine == BQ_ENGINE_ONEDNN && (onednn = bq_onednn_kernels(precision)) != NULL)
		snprintf(name, sizeof(kernels_names[precision]), "oneDNN %s %s (%s) + OpenBLAS %s",
				 bq_onednn_version(), onednn, bq_onednn_isa(), bq_blas_corename());
	else
		snprintf(name, sizeof(kernels_names[precision]), "OpenBLAS %s", bq_blas_corename());
	pthread_mutex_unlock(&compute_lock);
	return name;
}

bool
bq_compute_runs(BqPrecision precision)
{
	return precision == BQ_PRECISION_FP32 ||
		(engine == BQ_ENGINE_ONEDNN && bq_onednn_kernels(precision) != NULL);
}

void
bq_compute_set_threads(int threads)
{
	if (threads < 1)
		threads = 1;
	pthread_mutex_lock(&compute_lock);
	if (threads != thread_count)
	{
		thread_count = threads;
		if (started)
			with_signals_blocked(start_threads, &thread_count);
	}
	pthread_mutex_unlock(&compute_lock);
}

int
bq_compute_threads(void)
{
	return thread_count;
}

static const char *const precision_names[BQ_PRECISIONS] = {"fp32", "bf16", "int8"};

const char *
bq_precision_name(BqPrecision precision)
{
	return precision_names[precision];
}

bool
bq_precision_parse(const char *name, BqPrecision *precision)
{
	for (int p = 0; p < BQ_PRECISIONS; p++)
	{
		if (strcmp(name, precision_names[p]) == 0)
		{
			*precision = (BqPrecision) p;
			return true;
		}
	}
	return false;
}

void
bq_thread_share(int count, int *first, int *end)
{
	int			threads = omp_get_num_threads();
	int			t = omp_get_thread_num();

	*first = (int) ((int64_t) count * t / threads);
	*end = (int) ((int64_t) count * (t + 1) / threads);
}
