/*
 * aligned_memory.h - memory on cache-line boundaries for vector code.
 *
 * For large blocks malloc returns addresses 16 bytes past a 64-byte line,
 * so a buffer of rows whose width is a multiple of 16 floats would have
 * every 64-byte vector load and store straddle two lines; bertqa's kernels
 * and oneDNN's products both run measurably slower on such buffers.
 */
#ifndef BQ_ALIGNED_MEMORY_H
#define BQ_ALIGNED_MEMORY_H

#include <stddef.h>

/* Bytes of a cache line, and the boundary bq_alloc_aligned returns. */
#define BQ_CACHE_LINE 64

/*
 * At least 'bytes' from a BQ_CACHE_LINE boundary (the size rounded up to
 * whole lines, as aligned_alloc requires), or NULL; release with free().
 */
void	   *bq_alloc_aligned(size_t bytes);

#endif							/* BQ_ALIGNED_MEMORY_H */
