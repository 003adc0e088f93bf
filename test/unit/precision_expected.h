/*
 * precision_expected.h - which reduced precisions must run on this CPU,
 * decided from the CPU's own flags (/proc/cpuinfo), not from bertqa's
 * answer, so that a precision silently falling back to fp32 on a CPU that
 * has its instructions fails the tests instead of skipping them.
 *
 * oneDNN's brgemm kernels, the only ones bertqa runs in a server, need
 * AVX-512 (avx512f, avx512bw, avx512vl, avx512dq); int8 needs VNNI or AMX's
 * int8 tiles on top, bf16 AVX512-BF16 or AMX's bf16 tiles.  With
 * BERTQA_ONEDNN_ANY_KERNELS set (unit_emulate_bf16), bf16 runs on any of
 * those AVX-512 CPUs.  Elsewhere a precision may or may not run; where it
 * does not, the test is skipped.
 */
#ifndef BQ_PRECISION_EXPECTED_H
#define BQ_PRECISION_EXPECTED_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"

/* Whether the first "flags" line of /proc/cpuinfo lists 'flag'. */
static bool
cpu_has_flag(const char *flag)
{
	FILE	   *f = fopen("/proc/cpuinfo", "r");
	char		line[8192];
	bool		found = false;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		if (strncmp(line, "flags", 5) != 0)
			continue;
		for (char *word = strtok(strchr(line, ':') + 1, " \n"); word != NULL;
			 word = strtok(NULL, " \n"))
			found |= strcmp(word, flag) == 0;
		break;
	}
	fclose(f);
	return found;
}

/*
 * Whether 'precision' must run as such here; 'emulated' when the test has
 * allowed oneDNN's emulated bf16 kernels.
 */
static bool
precision_expected(BqPrecision precision, bool emulated)
{
	const char *engine = getenv("BERTQA_SGEMM");
	bool		avx512 = cpu_has_flag("avx512f") && cpu_has_flag("avx512bw") &&
		cpu_has_flag("avx512vl") && cpu_has_flag("avx512dq");

	if (!avx512 || (engine != NULL && strcmp(engine, "openblas") == 0))
		return precision == BQ_PRECISION_FP32;
	switch (precision)
	{
		case BQ_PRECISION_FP32:
			return true;
		case BQ_PRECISION_INT8:
			return cpu_has_flag("avx512_vnni") || cpu_has_flag("amx_int8");
		case BQ_PRECISION_BF16:
			return emulated || cpu_has_flag("avx512_bf16") || cpu_has_flag("amx_bf16");
	}
	return false;
}

#endif							/* BQ_PRECISION_EXPECTED_H */
