/*
 * attention.c - scaled dot-product attention of one head over one sequence.
 *
 * On OpenBLAS the two products are sgemm calls on the whole [len][len]
 * score matrix, which at 384 tokens lives in L2, and its kernels run at
 * about half the speed oneDNN reaches on the projections: sgemm packs both
 * operands on every call, and clears and rereads C.  The AVX-512 kernel
 * packs K transposed and V once per head, then takes the queries a block
 * at a time: the block's scores (Q·Kᵀ in tiles of 6 queries by 64 keys,
 * the accumulators in registers), their softmax and the block's P·V all
 * run while the scores are still in L1 and L2.  The softmax's 1 / Σ is
 * applied as the output tile is stored.
 *
 * Encoders in bf16 and int8 ask for attention's products on bfloat16
 * operands: on CPUs with AVX512-BF16 the same kernel then multiplies pairs
 * of bfloat16 (Q, K, the softmax's weights P and V rounded to nearest
 * even) with vdpbf16ps, twice the multiply-adds per instruction of fp32,
 * accumulating in fp32.  The operands are packed so that each 32-bit lane
 * holds a pair along the sum: Q's rows and Kᵀ's columns pair adjacent head
 * dimensions, P's rows and V's columns adjacent keys.
 */
#include "attention.h"

#include <stdint.h>

#include "blas.h"
#include "kernels.h"

/* Queries per block of the AVX-512 kernel: its scores stay in L1 and L2. */
#define QUERY_BLOCK 24

/* Queries and keys of one tile: 6 x 4 accumulators of 16 floats. */
#define TILE_ROWS 6
#define TILE_VECTORS 4
#define TILE_KEYS (16 * TILE_VECTORS)

/* The head size the AVX-512 kernel takes: a tile's width. */
#define KERNEL_HEAD_SIZE TILE_KEYS

/* Keys rounded up to whole tiles: the kernel's Kᵀ row length. */
static size_t
padded_keys(int len)
{
	return ((size_t) len + TILE_KEYS - 1) / TILE_KEYS * TILE_KEYS;
}

/*
 * The kernel's scratch, in floats: key_t and values (in fp32, or in pairs
 * of bfloat16 padded to the same size), the block's scores and 1 / Σ, and
 * with bfloat16 the block's weights P and the head's queries in pairs.
 */
static size_t
kernel_scratch_floats(size_t keys, int head_size, bool bf16)
{
	size_t		floats = 2 * keys * head_size + QUERY_BLOCK * keys + QUERY_BLOCK;

	return bf16 ? floats + QUERY_BLOCK * keys / 2 + keys * head_size / 2 : floats;
}

size_t
bq_attention_scratch_floats(int seq_len, int head_size)
{
	size_t		blas = (size_t) seq_len * seq_len + seq_len;
	size_t		kernel = kernel_scratch_floats(padded_keys(seq_len), head_size, true);

	return ((blas > kernel ? blas : kernel) + 15) / 16 * 16;
}

/*
 * Two sgemm calls with the softmax between, in scratch:
 * scores [len][len], then inv_sum [len].
 */
static void
attend_blas(const float *q, const float *k, const float *v, int ld, int len, int head_size,
			float scale, float *out, int ld_out, float *scratch)
{
	float	   *scores = scratch;
	float	   *inv_sum = scratch + (size_t) len * len;

	bq_sgemm(false, true, len, len, head_size, scale, q, ld, k, ld, 0.0f, scores, len);
	bq_softmax_rows(scores, len, len, len, inv_sum);
	bq_sgemm(false, false, len, head_size, len, 1.0f, scores, len, v, ld, 0.0f, out, ld_out);
	bq_scale_rows(out, len, head_size, ld_out, inv_sum);
}

#ifdef BQ_X86_KERNELS
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512bf16")

/*
 * The 16 x 16 transpose of rows[0..16) into cols: pairs of rows
 * interleaved, then quadruples, then 128-bit lanes gathered across the
 * quadruples.
 */
static inline __attribute__((always_inline)) void
transpose16(__m512 *rows, __m512 *cols)
{
	__m512		pairs[16];

#pragma GCC unroll 8
	for (int i = 0; i < 8; i++)
	{
		pairs[2 * i] = _mm512_unpacklo_ps(rows[2 * i], rows[2 * i + 1]);
		pairs[2 * i + 1] = _mm512_unpackhi_ps(rows[2 * i], rows[2 * i + 1]);
	}
	/* rows[4i + c] then holds, in each lane l, column 4l + c of rows 4i .. 4i+3 */
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++)
	{
		rows[4 * i] = _mm512_shuffle_ps(pairs[4 * i], pairs[4 * i + 2], 0x44);
		rows[4 * i + 1] = _mm512_shuffle_ps(pairs[4 * i], pairs[4 * i + 2], 0xee);
		rows[4 * i + 2] = _mm512_shuffle_ps(pairs[4 * i + 1], pairs[4 * i + 3], 0x44);
		rows[4 * i + 3] = _mm512_shuffle_ps(pairs[4 * i + 1], pairs[4 * i + 3], 0xee);
	}
#pragma GCC unroll 4
	for (int c = 0; c < 4; c++)
	{
		__m512		even_low = _mm512_shuffle_f32x4(rows[c], rows[4 + c], 0x88);
		__m512		odd_low = _mm512_shuffle_f32x4(rows[c], rows[4 + c], 0xdd);
		__m512		even_high = _mm512_shuffle_f32x4(rows[8 + c], rows[12 + c], 0x88);
		__m512		odd_high = _mm512_shuffle_f32x4(rows[8 + c], rows[12 + c], 0xdd);

		cols[c] = _mm512_shuffle_f32x4(even_low, even_high, 0x88);
		cols[4 + c] = _mm512_shuffle_f32x4(odd_low, odd_high, 0x88);
		cols[8 + c] = _mm512_shuffle_f32x4(even_low, even_high, 0xdd);
		cols[12 + c] = _mm512_shuffle_f32x4(odd_low, odd_high, 0xdd);
	}
}

/*
 * key_t[c][j] = k[j][c], zero for len <= j < keys, and values[j] = v[j]
 * (rows of 64, dense) for j < len: one pass over the head's rows of qkv.
 */
static void
pack_keys_values(const float *k, const float *v, int ld, int len, size_t keys,
				 float *key_t, float *values)
{
	for (size_t j0 = 0; j0 < keys; j0 += 16)
	{
		for (int c0 = 0; c0 < KERNEL_HEAD_SIZE; c0 += 16)
		{
			__m512		rows[16],
						cols[16];

#pragma GCC unroll 16
			for (int i = 0; i < 16; i++)
				rows[i] = j0 + i < (size_t) len ?
					_mm512_loadu_ps(k + (j0 + i) * ld + c0) : _mm512_setzero_ps();
			transpose16(rows, cols);
#pragma GCC unroll 16
			for (int i = 0; i < 16; i++)
				_mm512_storeu_ps(key_t + (c0 + i) * keys + j0, cols[i]);
		}
		for (size_t j = j0; j < j0 + 16 && j < (size_t) len; j++)
#pragma GCC unroll 4
			for (int c0 = 0; c0 < KERNEL_HEAD_SIZE; c0 += 16)
				_mm512_storeu_ps(values + j * KERNEL_HEAD_SIZE + c0,
								 _mm512_loadu_ps(v + j * ld + c0));
	}
}

/*
 * c[r][0..64) = scales[r] Σ_{i < depth} a[r][i] b[i][0..64) for 'rows' (at
 * most TILE_ROWS) rows, each operand's rows their own distance apart: the
 * 64 columns of b in four vectors, each element of a broadcast.  Both of
 * attention's products are this tile: scores = Q · Kᵀ (b is Kᵀ, scaled by
 * 1/√d) and context = P · V (b is V, scaled by the softmax's 1 / Σ).  With
 * 'bf16' each 32-bit element of a and b is a pair of bfloat16 along the
 * sum, and 'depth' counts pairs.
 */
static inline __attribute__((always_inline)) void
tile_product(const void *a, size_t lda, const void *b, size_t ldb, int depth,
			 const float *scales, float *c, size_t ldc, const int rows, const bool bf16)
{
	const float *fa = a,
			   *fb = b;
	const int32_t *pa = a,
			   *pb = b;
	__m512		acc[TILE_ROWS][TILE_VECTORS];

#pragma GCC unroll 6
	for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
		for (int t = 0; t < TILE_VECTORS; t++)
			acc[r][t] = _mm512_setzero_ps();
	for (int i = 0; i < depth; i++)
	{
		__m512		row[TILE_VECTORS];

#pragma GCC unroll 4
		for (int t = 0; t < TILE_VECTORS; t++)
			row[t] = bf16 ? _mm512_castsi512_ps(_mm512_loadu_si512(pb + i * ldb + 16 * t)) :
				_mm512_loadu_ps(fb + i * ldb + 16 * t);
#pragma GCC unroll 6
		for (int r = 0; r < rows; r++)
		{
			if (bf16)
			{
				__m512bh	pair = (__m512bh) _mm512_set1_epi32(pa[r * lda + i]);

#pragma GCC unroll 4
				for (int t = 0; t < TILE_VECTORS; t++)
					acc[r][t] = _mm512_dpbf16_ps(acc[r][t], pair, (__m512bh) row[t]);
			}
			else
			{
				__m512		element = _mm512_set1_ps(fa[r * lda + i]);

#pragma GCC unroll 4
				for (int t = 0; t < TILE_VECTORS; t++)
					acc[r][t] = _mm512_fmadd_ps(element, row[t], acc[r][t]);
			}
		}
	}
#pragma GCC unroll 6
	for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
		for (int t = 0; t < TILE_VECTORS; t++)
			_mm512_storeu_ps(c + r * ldc + 16 * t,
							 _mm512_mul_ps(acc[r][t], _mm512_set1_ps(scales[r])));
}

/*
 * tile_product with the row count and the operands' type constants, so
 * that acc stays in registers.
 */
#define TILE_CASE(n) \
	case n: \
		if (bf16) \
			tile_product(a, lda, b, ldb, depth, scales, c, ldc, n, true); \
		else \
			tile_product(a, lda, b, ldb, depth, scales, c, ldc, n, false); \
		break

static void
tile_product_rows(const void *a, size_t lda, const void *b, size_t ldb, int depth,
				  const float *scales, float *c, size_t ldc, int rows, bool bf16)
{
	switch (rows)
	{
			TILE_CASE(6);
			TILE_CASE(5);
			TILE_CASE(4);
			TILE_CASE(3);
			TILE_CASE(2);
			TILE_CASE(1);
	}
}

/* 16 floats as bfloat16 (nearest even) in the low halves of 32-bit lanes; 0 past 'count'. */
static inline __attribute__((always_inline)) __m512i
bf16_low_halves(const float *x, int count)
{
	__mmask16	present = count >= 16 ? 0xffff : (__mmask16) ((1u << (count > 0 ? count : 0)) - 1);

	return _mm512_cvtepu16_epi32((__m256i) _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(present, x)));
}

/*
 * 32 floats of x (0 past 'count') as 16 pairs of bfloat16, each pair
 * (x[2p], x[2p+1]) in one 32-bit lane, the first in the low half.
 */
static inline __attribute__((always_inline)) __m512i
bf16_pairs(const float *x, int count)
{
	__mmask16	low = count >= 16 ? 0xffff : (__mmask16) ((1u << (count > 0 ? count : 0)) - 1);
	__mmask16	high = count >= 32 ? 0xffff :
		(__mmask16) ((1u << (count > 16 ? count - 16 : 0)) - 1);

	return (__m512i) _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high, x + 16),
										 _mm512_maskz_loadu_ps(low, x));
}

/*
 * The operands in pairs of bfloat16, in scratch: queries[i] the 32 pairs
 * of q's row i; key_t[p][j] pair p of k's row j (0 for len <= j < keys);
 * values[m][c] the pair (v[2m][c], v[2m+1][c]), 0 past len.
 */
static void
pack_pairs(const float *q, const float *k, const float *v, int ld, int len, size_t keys,
		   int32_t *queries, int32_t *key_t, int32_t *values)
{
	for (int i = 0; i < len; i++)
		for (int c0 = 0; c0 < KERNEL_HEAD_SIZE; c0 += 32)
			_mm512_storeu_si512(queries + (size_t) i * (KERNEL_HEAD_SIZE / 2) + c0 / 2,
								bf16_pairs(q + (size_t) i * ld + c0, 32));
	for (size_t j0 = 0; j0 < keys; j0 += 16)
	{
		for (int c0 = 0; c0 < KERNEL_HEAD_SIZE; c0 += 32)
		{
			__m512		rows[16],
						cols[16];

#pragma GCC unroll 16
			for (int i = 0; i < 16; i++)
				rows[i] = j0 + i < (size_t) len ?
					_mm512_castsi512_ps(bf16_pairs(k + (j0 + i) * ld + c0, 32)) :
					_mm512_setzero_ps();
			transpose16(rows, cols);
#pragma GCC unroll 16
			for (int i = 0; i < 16; i++)
				_mm512_storeu_si512(key_t + (c0 / 2 + i) * keys + j0, _mm512_castps_si512(cols[i]));
		}
	}
	for (int m = 0; 2 * m < len; m++)
	{
		const float *first = v + (size_t) (2 * m) * ld;
		const float *second = first + ld;

#pragma GCC unroll 4
		for (int c0 = 0; c0 < KERNEL_HEAD_SIZE; c0 += 16)
			_mm512_storeu_si512(values + (size_t) m * KERNEL_HEAD_SIZE + c0,
								_mm512_or_si512(bf16_low_halves(first + c0, 16),
												_mm512_slli_epi32(bf16_low_halves(second + c0,
																				  2 * m + 1 < len ? 16 : 0),
																  16)));
	}
}

/*
 * The AVX-512 kernel, in scratch (in floats, or pairs of bfloat16 with
 * 'bf16'): key_t [64][keys] (pairs: [32][keys]), values [len][64] (pairs:
 * [keys/2][64]), scores [QUERY_BLOCK][keys]; with bf16 then the block's
 * weights in pairs [QUERY_BLOCK][keys/2] and the queries in pairs
 * [len][32]; last inv_sum [QUERY_BLOCK].  Within a block the score tiles
 * run key tile by key tile, so that each tile of Kᵀ serves all the block's
 * queries from L1; the scores' tiles are 6 queries by 64 keys, the
 * context's 6 queries by the head's 64 columns.
 */
static void
attend_kernel(const float *q, const float *k, const float *v, int ld, int len,
			  float scale, float *out, int ld_out, float *scratch, bool bf16)
{
	size_t		keys = padded_keys(len);
	float	   *key_t = scratch;
	float	   *values = key_t + KERNEL_HEAD_SIZE * keys;
	float	   *scores = values + KERNEL_HEAD_SIZE * keys;
	float	   *weights = scores + QUERY_BLOCK * keys;
	float	   *queries = weights + QUERY_BLOCK * keys / 2;
	float	   *inv_sum = bf16 ? queries + keys * KERNEL_HEAD_SIZE / 2 : weights;
	/* the products' operands and depths, in 4-byte elements */
	const float *a = bf16 ? queries : q;
	size_t		lda = bf16 ? KERNEL_HEAD_SIZE / 2 : (size_t) ld;
	int			head_depth = bf16 ? KERNEL_HEAD_SIZE / 2 : KERNEL_HEAD_SIZE;
	const float *p = bf16 ? weights : scores;
	size_t		ldp = bf16 ? keys / 2 : keys;
	int			key_depth = bf16 ? (len + 1) / 2 : len;
	float		scale_rows[TILE_ROWS];

	for (int r = 0; r < TILE_ROWS; r++)
		scale_rows[r] = scale;
	if (bf16)
		pack_pairs(q, k, v, ld, len, keys, (int32_t *) queries, (int32_t *) key_t,
				   (int32_t *) values);
	else
		pack_keys_values(k, v, ld, len, keys, key_t, values);
	for (int first = 0; first < len; first += QUERY_BLOCK)
	{
		int			block = len - first < QUERY_BLOCK ? len - first : QUERY_BLOCK;

		for (size_t j = 0; j < keys; j += TILE_KEYS)
			for (int i = 0; i < block; i += TILE_ROWS)
				tile_product_rows(a + (size_t) (first + i) * lda, lda, key_t + j, keys,
								  head_depth, scale_rows, scores + i * keys + j, keys,
								  block - i < TILE_ROWS ? block - i : TILE_ROWS, bf16);
		bq_softmax_rows(scores, block, len, (int) keys, inv_sum);
		if (bf16)
			for (int i = 0; i < block; i++)
				for (int c0 = 0; c0 < len; c0 += 32)
					_mm512_storeu_si512((int32_t *) weights + i * ldp + c0 / 2,
										bf16_pairs(scores + i * keys + c0, len - c0));
		for (int i = 0; i < block; i += TILE_ROWS)
			tile_product_rows(p + i * ldp, ldp, values, KERNEL_HEAD_SIZE, key_depth,
							  inv_sum + i, out + (size_t) (first + i) * ld_out, ld_out,
							  block - i < TILE_ROWS ? block - i : TILE_ROWS, bf16);
	}
}

#pragma GCC pop_options
#endif							/* BQ_X86_KERNELS */

/* Whether the AVX-512 kernel runs heads of 'head_size' on 'engine'. */
static bool
kernel_runs(BqEngine engine, int head_size)
{
#ifdef BQ_X86_KERNELS
	/* compiled for AVX512BW too (the bfloat16 conversions' masks) */
	return engine == BQ_ENGINE_ONEDNN && head_size == KERNEL_HEAD_SIZE && bq_kernels_avx512() &&
		__builtin_cpu_supports("avx512bw");
#else
	return false;
#endif
}

bool
bq_attention_runs_bf16(BqEngine engine, int head_size)
{
#ifdef BQ_X86_KERNELS
	return kernel_runs(engine, head_size) && __builtin_cpu_supports("avx512bf16");
#else
	return false;
#endif
}

void
bq_attend_head(BqEngine engine, const float *q, const float *k, const float *v, int ld, int len,
			   int head_size, float scale, bool bf16, float *out, int ld_out, float *scratch)
{
#ifdef BQ_X86_KERNELS
	if (kernel_runs(engine, head_size))
	{
		attend_kernel(q, k, v, ld, len, scale, out, ld_out, scratch,
					  bf16 && bq_attention_runs_bf16(engine, head_size));
		return;
	}
#endif
	attend_blas(q, k, v, ld, len, head_size, scale, out, ld_out, scratch);
}
