/*
 * unit.h - a minimal harness for the core's C unit tests.
 *
 * Each test program defines test functions, calls unit_select(argc, argv)
 * first, runs them with RUN_TEST and ends with UNIT_DONE(), which prints
 * "N passed, N failed, N skipped" and exits 0 when every test passed, 1 when
 * one failed, and UNIT_EXIT_SKIPPED when none failed but one was skipped
 * (test/run counts the program as skipped, never as passed).
 *
 * A test that cannot run here (a precision this CPU has no kernels for)
 * calls unit_skip() with the reason and returns.  Naming tests on the
 * command line runs only those (test/run does so for the tests it runs
 * under valgrind); a name that matches no test is a failure.
 */
#ifndef BQ_UNIT_H
#define BQ_UNIT_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The exit status of a program that skipped a test (automake's convention). */
#define UNIT_EXIT_SKIPPED 77

static int	unit_passed;
static int	unit_failed;
static int	unit_skipped;
static int	unit_current_failed;
static int	unit_current_skipped;
static const char *unit_current_name;

/* The tests named on the command line (none: all), and which of them ran. */
static char **unit_selected;
static int	unit_selected_count;
static bool unit_selected_ran[64];

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
 * (see src/core/compute/onednn.c), so its numbers are measured on any CPU.  Call it
 * just before the first bf16 encoder, after the signal tests: the emulated
 * kernels must never see a signal.
 */
static inline void
unit_emulate_bf16(void)
{
	setenv("BERTQA_ONEDNN_ANY_KERNELS", "1", 1);
}

/*
 * Mark the current test skipped, saying why on stdout.  A check that failed
 * before still fails it.
 */
static inline void unit_skip(const char *format,...)
			__attribute__((format(printf, 1, 2)));

static inline void
unit_skip(const char *format,...)
{
	va_list		args;

	printf("SKIPPED %s: ", unit_current_name);
	va_start(args, format);
	vprintf(format, args);
	va_end(args);
	putchar('\n');
	unit_current_skipped = 1;
}

/* Run only the tests named in argv[1..] (all when there are none). */
static inline void
unit_select(int argc, char **argv)
{
	if (argc - 1 > (int) (sizeof(unit_selected_ran) / sizeof(unit_selected_ran[0])))
	{
		fprintf(stderr, "too many test names\n");
		exit(2);
	}
	unit_selected = argv + 1;
	unit_selected_count = argc - 1;
}

/* Whether the test 'name' is to run; notes that a selected one did. */
static inline bool
unit_wanted(const char *name)
{
	if (unit_selected_count == 0)
		return true;
	for (int i = 0; i < unit_selected_count; i++)
	{
		if (strcmp(unit_selected[i], name) == 0)
		{
			unit_selected_ran[i] = true;
			return true;
		}
	}
	return false;
}

#define RUN_TEST(fn) \
	do { \
		if (!unit_wanted(#fn)) \
			break; \
		unit_current_name = #fn; \
		unit_current_failed = 0; \
		unit_current_skipped = 0; \
		fn(); \
		if (unit_current_failed) \
		{ \
			unit_failed++; \
			fprintf(stderr, "FAIL %s\n", #fn); \
		} \
		else if (unit_current_skipped) \
			unit_skipped++; \
		else \
			unit_passed++; \
	} while (0)

/* A test named on the command line that is not in this program fails it. */
static inline void
unit_check_selection(void)
{
	for (int i = 0; i < unit_selected_count; i++)
	{
		if (!unit_selected_ran[i])
		{
			fprintf(stderr, "no test named %s\n", unit_selected[i]);
			unit_failed++;
		}
	}
}

#define UNIT_DONE() \
	do { \
		unit_check_selection(); \
		printf("%s: %d passed, %d failed, %d skipped\n", __FILE__, unit_passed, \
			   unit_failed, unit_skipped); \
		return unit_failed > 0 ? 1 : unit_skipped > 0 ? UNIT_EXIT_SKIPPED : 0; \
	} while (0)

#endif							/* BQ_UNIT_H */
