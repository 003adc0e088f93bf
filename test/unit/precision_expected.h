/*
 * precision_expected.h - which reduced precisions must run on this CPU,
 * decided from what the CPU itself reports (CPUID), not from bertqa's
 * answer, so that a precision silently falling back to fp32 on a CPU that
 * has its instructions fails the tests instead of skipping them.  The
 * shell tests' twin is test/lib/precision_expected.sh.
 *
 * oneDNN's brgemm kernels, the only ones bertqa runs in a server, need
 * AVX-512 (avx512f, avx512bw, avx512vl, avx512dq); int8 needs VNNI or AMX's
 * int8 tiles on top, bf16 AVX512-BF16 or AMX's bf16 tiles.  With
 * BERTQA_ONEDNN_ANY_KERNELS set (unit_emulate_bf16), bf16 runs on any of
 * those AVX-512 CPUs.  The environment can lower what is expected:
 * BERTQA_SGEMM=openblas (nothing runs on oneDNN), ONEDNN_MAX_CPU_ISA (oneDNN
 * keeps below that ISA; e.g. AVX2 makes an AVX-512 machine test as an AVX2
 * one).  Elsewhere a precision may or may not run; where it does not, the
 * test is skipped.
 */
#ifndef BQ_PRECISION_EXPECTED_H
#define BQ_PRECISION_EXPECTED_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"

/* Whether ONEDNN_MAX_CPU_ISA, if set, allows an ISA with 'needed' in its name. */
static bool
isa_allowed(const char *const *needed)
{
	const char *max = getenv("ONEDNN_MAX_CPU_ISA");

	if (max == NULL || *max == '\0' || strcmp(max, "ALL") == 0 || strcmp(max, "DEFAULT") == 0 ||
		strncmp(max, "AVX10", 5) == 0)
		return true;
	for (int i = 0; needed[i] != NULL; i++)
		if (strncmp(max, needed[i], strlen(needed[i])) == 0)
			return true;
	return false;
}

/*
 * Whether 'precision' must run as such here; 'emulated' when the test has
 * allowed oneDNN's emulated bf16 kernels.
 */
static bool
precision_expected(BqPrecision precision, bool emulated)
{
	static const char *const avx512[] = {"AVX512", NULL};
	static const char *const vnni[] = {"AVX512_CORE_VNNI", "AVX512_CORE_BF16", "AVX512_CORE_FP16",
	"AVX512_CORE_AMX", NULL};
	static const char *const bf16[] = {"AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", NULL};
	const char *engine = getenv("BERTQA_SGEMM");

	__builtin_cpu_init();
	if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) ||
		!isa_allowed(avx512) || (engine != NULL && strcmp(engine, "openblas") == 0))
		return precision == BQ_PRECISION_FP32;
	switch (precision)
	{
		case BQ_PRECISION_FP32:
			return true;
		case BQ_PRECISION_INT8:
			return (__builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("amx-int8")) &&
				isa_allowed(vnni);
		case BQ_PRECISION_BF16:
			return emulated ||
				((__builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16")) &&
				 isa_allowed(bf16));
	}
	return false;
}

#endif							/* BQ_PRECISION_EXPECTED_H */
