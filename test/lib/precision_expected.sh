# precision_expected.sh - which reduced precisions must run on this CPU,
# decided from its own flags as test/unit/precision_expected.h does (see
# there): oneDNN's brgemm kernels need AVX-512, int8 VNNI or AMX int8 on top,
# bf16 AVX512-BF16 or AMX bf16; BERTQA_SGEMM=openblas and ONEDNN_MAX_CPU_ISA
# in the environment (which a server started by test/run shares) lower that.
# Source it; 'precision_expected P' succeeds when P must run.

cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "

# Whether the CPU lists flag $1.
cpu_has() {
	case $cpu_flags in *" $1 "*) return 0 ;; esac
	return 1
}

# Whether ONEDNN_MAX_CPU_ISA, if set, allows an ISA starting with one of $@.
isa_allowed() {
	local max=${ONEDNN_MAX_CPU_ISA:-ALL} isa
	case $max in ALL | DEFAULT | AVX10*) return 0 ;; esac
	for isa in "$@"; do
		case $max in "$isa"*) return 0 ;; esac
	done
	return 1
}

precision_expected() {
	[ "${BERTQA_SGEMM:-}" != openblas ] && cpu_has avx512f && cpu_has avx512bw &&
		cpu_has avx512vl && cpu_has avx512dq && isa_allowed AVX512 || return 1
	case $1 in
		fp32) return 0 ;;
		int8)
			{ cpu_has avx512_vnni || cpu_has amx_int8; } &&
				isa_allowed AVX512_CORE_VNNI AVX512_CORE_BF16 AVX512_CORE_FP16 AVX512_CORE_AMX
			;;
		bf16)
			{ cpu_has avx512_bf16 || cpu_has amx_bf16; } &&
				isa_allowed AVX512_CORE_BF16 AVX512_CORE_FP16 AVX512_CORE_AMX
			;;
		*) return 1 ;;
	esac
}
