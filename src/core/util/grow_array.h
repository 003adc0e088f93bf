/*
 * grow_array.h - arrays that grow as elements are appended.
 */
#ifndef BQ_GROW_ARRAY_H
#define BQ_GROW_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Make *array (of *capacity elements of 'element_size' bytes) hold at least
 * 'need' elements, keeping its contents.  It at least doubles, so appending
 * one element at a time costs amortized O(1).  Returns false, leaving the
 * array as it was, when the memory is not there or the size overflows.
 */
bool		bq_grow_array(void **array, size_t *capacity, size_t need, size_t element_size);

#endif							/* BQ_GROW_ARRAY_H */
