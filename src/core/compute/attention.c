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
 */
#include "attention.h"

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

size_t
bq_attention_scratch_floats(int seq_len, int head_size)
{
	size_t		blas = (size_t) seq_len * seq_len + seq_len;
	size_t		keys = padded_keys(seq_len);
	size_t		kernel = 2 * keys * head_size + QUERY_BLOCK * keys + QUERY_BLOCK;

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
#pragma GCC target("avx512f")

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
 * 1/√d) and context = P · V (b is V, scaled by the softmax's 1 / Σ).
 */
static inline __attribute__((always_inline)) void
tile_product(const float *a, size_t lda, const float *b, size_t ldb, int depth,
			 const float *scales, float *c, size_t ldc, const int rows)
{
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
			row[t] = _mm512_loadu_ps(b + i * ldb + 16 * t);
#pragma GCC unroll 6
		for (int r = 0; r < rows; r++)
		{
			__m512		element = _mm512_set1_ps(a[r * lda + i]);

#pragma GCC unroll 4
			for (int t = 0; t < TILE_VECTORS; t++)
				acc[r][t] = _mm512_fmadd_ps(element, row[t], acc[r][t]);
		}
	}
#pragma GCC unroll 6
	for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
		for (int t = 0; t < TILE_VECTORS; t++)
			_mm512_storeu_ps(c + r * ldc + 16 * t,
							 _mm512_mul_ps(acc[r][t], _mm512_set1_ps(scales[r])));
}

/* tile_product with the row count a constant, so that acc stays in registers. */
static void
tile_product_rows(const float *a, size_t lda, const float *b, size_t ldb, int depth,
				  const float *scales, float *c, size_t ldc, int rows)
{
	switch (rows)
	{
		case 6:
			tile_product(a, lda, b, ldb, depth, scales, c, ldc, 6);
			break;
		case 5:
			tile_product(a, lda, b, ldb, depth, scales, c, ldc, 5);
			break;
		case 4:
			tile_product(a, lda, b, ldb, depth, scales, c, ldc, 4);
			break;
		case 3:
			tile_product(a, lda, b, ldb, depth, scales, c, ldc, 3);
			break;
		case 2:
			tile_product(a, lda, b, ldb, depth, scales, c, ldc, 2);
			break;
		default:
			tile_product(a, lda, b, ldb, depth, scales, c, ldc, 1);
	}
}

/*
 * The AVX-512 kernel, in scratch: key_t [64][keys], values [len][64],
 * scores [QUERY_BLOCK][keys], inv_sum [QUERY_BLOCK].  Within a block the
 * score tiles run key tile by key tile, so that each 16 KB tile of Kᵀ
 * serves all the block's queries from L1; the scores' tiles are 6 queries
 * by 64 keys, the context's 6 queries by the head's 64 columns.
 */
static void
attend_kernel(const float *q, const float *k, const float *v, int ld, int len,
			  float scale, float *out, int ld_out, float *scratch)
{
	size_t		keys = padded_keys(len);
	float	   *key_t = scratch;
	float	   *values = key_t + KERNEL_HEAD_SIZE * keys;
	float	   *scores = values + KERNEL_HEAD_SIZE * keys;
	float	   *inv_sum = scores + QUERY_BLOCK * keys;
	float		scale_rows[TILE_ROWS];

	for (int r = 0; r < TILE_ROWS; r++)
		scale_rows[r] = scale;
	pack_keys_values(k, v, ld, len, keys, key_t, values);
	for (int first = 0; first < len; first += QUERY_BLOCK)
	{
		int			queries = len - first < QUERY_BLOCK ? len - first : QUERY_BLOCK;

		for (size_t j = 0; j < keys; j += TILE_KEYS)
			for (int i = 0; i < queries; i += TILE_ROWS)
				tile_product_rows(q + (size_t) (first + i) * ld, ld, key_t + j, keys,
								  KERNEL_HEAD_SIZE, scale_rows, scores + i * keys + j, keys,
								  queries - i < TILE_ROWS ? queries - i : TILE_ROWS);
		bq_softmax_rows(scores, queries, len, (int) keys, inv_sum);
		for (int i = 0; i < queries; i += TILE_ROWS)
			tile_product_rows(scores + i * keys, keys, values, KERNEL_HEAD_SIZE, len,
							  inv_sum + i, out + (size_t) (first + i) * ld_out, ld_out,
							  queries - i < TILE_ROWS ? queries - i : TILE_ROWS);
	}
}

#pragma GCC pop_options
#endif							/* BQ_X86_KERNELS */

void
bq_attend_head(BqEngine engine, const float *q, const float *k, const float *v, int ld, int len,
			   int head_size, float scale, float *out, int ld_out, float *scratch)
{
#ifdef BQ_X86_KERNELS
	if (engine == BQ_ENGINE_ONEDNN && head_size == KERNEL_HEAD_SIZE && bq_kernels_avx512())
	{
		attend_kernel(q, k, v, ld, len, scale, out, ld_out, scratch);
		return;
	}
#endif
	attend_blas(q, k, v, ld, len, head_size, scale, out, ld_out, scratch);
}
