/*
 * grow_array.c - arrays that grow as elements are appended.
 */
#include "grow_array.h"

#include <stdint.h>
#include <stdlib.h>

/* The smallest array allocated, so short arrays do not regrow at every element. */
#define MIN_CAPACITY 16

bool
bq_grow_array(void **array, size_t *capacity, size_t need, size_t element_size)
{
	size_t		new_capacity = *capacity > 0 ? *capacity : MIN_CAPACITY;
	void	   *grown;

	if (need <= *capacity)
		return true;
	while (new_capacity < need)
	{
		if (new_capacity > SIZE_MAX / 2)
			return false;
		new_capacity *= 2;
	}
	if (new_capacity > SIZE_MAX / element_size)
		return false;
	grown = realloc(*array, new_capacity * element_size);
	if (grown == NULL)
		return false;
	*array = grown;
	*capacity = new_capacity;
	return true;
}
