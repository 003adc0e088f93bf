/*
 * unit.h - a minimal harness for the core's C unit tests.
 *
 * Each test program defines test functions, runs them with RUN_TEST and ends
 * with UNIT_DONE(), which prints "N passed, N failed" and sets the exit code.
 */
#ifndef BQ_UNIT_H
#define BQ_UNIT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	unit_passed;
static int	unit_failed;
static int	unit_current_failed;

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			unit_current_failed = 1; \
		} \
	} while (0)

#define CHECK_INT_EQ(got, want) \
	do { \
		long long g_ = (long long) (got), w_ = (long long) (want); \
		if (g_ != w_) \
		{ \
			fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, #got, g_, w_); \
			unit_current_failed = 1; \
		} \
	} while (0)

#define CHECK_STR_EQ(got, want) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		if (g_ == NULL || strcmp(g_, w_) != 0) \
		{ \
			fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_); \
			unit_current_failed = 1; \
		} \
	} while (0)

#define CHECK_NEAR(got, want, tol) \
	do { \
		double g_ = (got), w_ = (want); \
		if (!(fabs(g_ - w_) <= (tol))) \
		{ \
			fprintf(stderr, "%s:%d: %s is %.17g, expected %.17g (tolerance %g)\n", __FILE__, __LINE__, #got, g_, w_, (double) (tol)); \
			unit_current_failed = 1; \
		} \
	} while (0)

/* Largest |a[i] - b[i]| over n floats; NaN anywhere counts as infinite. */
static inline double
unit_max_abs_diff(const float *a, const float *b, int n)
{
	double		worst = 0.0;

	for (int i = 0; i < n; i++)
	{
		double		d = fabs((double) a[i] - (double) b[i]);

		if (!(d <= worst))
			worst = d;
	}
	return worst;
}

/*
 * Let bf16 run on oneDNN's emulation where the CPU has no bf16 kernels
 * (see src/core/onednn.c), so its numbers are measured on any CPU.  Call it
 * just before the first bf16 encoder, after the signal tests: the emulated
 * kernels must never see a signal.
 */
static inline void
unit_emulate_bf16(void)
{
	setenv("BERTQA_ONEDNN_ANY_KERNELS", "1", 1);
}

#define RUN_TEST(fn) \
	do { \
		unit_current_failed = 0; \
		fn(); \
		if (unit_current_failed) \
		{ \
			unit_failed++; \
			fprintf(stderr, "FAIL %s\n", #fn); \
		} \
		else \
			unit_passed++; \
	} while (0)

#define UNIT_DONE() \
	do { \
		printf("%s: %d passed, %d failed\n", __FILE__, unit_passed, unit_failed); \
		return unit_failed == 0 ? 0 : 1; \
	} while (0)

#endif							/* BQ_UNIT_H */
