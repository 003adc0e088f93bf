/*
 * attention.h - scaled dot-product attention of one head over one sequence.
 *
 * With oneDNN as the engine, on CPUs with AVX-512 and heads of 64 (BERT's
 * size, from mini to large), it runs in a kernel of bertqa's own that
 * keeps each block of queries' scores in cache between the two products;
 * otherwise on OpenBLAS's sgemm with the softmax of kernels.h between (on
 * the OpenBLAS engine, whose threads then share each product).  The two
 * agree to float rounding (test/unit/test_attention.c holds both to
 * double precision).
 */
#ifndef BQ_ATTENTION_H
#define BQ_ATTENTION_H

#include <stdbool.h>
#include <stddef.h>

#include "compute.h"

/*
 * Floats of scratch bq_attend_head needs for up to 'seq_len' tokens: a
 * multiple of 16, so that scratches side by side from a 64-byte boundary
 * all start on one (the kernel's vectors then never straddle cache lines,
 * which would cost it about a fifth of its speed).
 */
size_t		bq_attention_scratch_floats(int seq_len, int head_size);

/*
 * Whether bq_attend_head's products run on bfloat16 when asked to here:
 * in the AVX-512 kernel, on CPUs with AVX512-BF16.
 */
bool		bq_attention_runs_bf16(BqEngine engine, int head_size);

/*
 * out[i] = Σ_j softmax_j(scale · q_i·k_j) v_j for the 'len' tokens i of one
 * head: rows of q, k and v 'head_size' floats wide and 'ld' apart, rows of
 * out 'ld_out' apart; 'scratch', private to the caller's thread, best
 * at a 64-byte boundary.  With 'bf16', Q·Kᵀ and P·V multiply bfloat16
 * operands where bq_attention_runs_bf16 (an error of about 2⁻⁸ relative,
 * like the projections' in bf16), fp32 ones elsewhere.
 */
void		bq_attend_head(BqEngine engine, const float *q, const float *k, const float *v,
						   int ld, int len, int head_size, float scale, bool bf16, float *out,
						   int ld_out, float *scratch);

#endif							/* BQ_ATTENTION_H */
