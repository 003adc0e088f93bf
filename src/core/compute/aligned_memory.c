/*
 * aligned_memory.c - memory on cache-line boundaries for vector code.
 */
#include "aligned_memory.h"

#include <stdlib.h>

void *
bq_alloc_aligned(size_t bytes)
{
	size_t		lines = (bytes + BQ_CACHE_LINE - 1) / BQ_CACHE_LINE;

	return aligned_alloc(BQ_CACHE_LINE, lines * BQ_CACHE_LINE);
}
