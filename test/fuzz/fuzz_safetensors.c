/*
 * fuzz_safetensors.c - the safetensors header parser on arbitrary bytes.
 *
 * An accepted file's tensors must lie inside the buffer, hold exactly the
 * bytes their dtype and shape need, and be found by name; reading every
 * byte of every tensor lets AddressSanitizer check the first promise.
 */
#include "fuzz.h"

#include <string.h>

#include "safetensors.h"

/* Where the tensor bytes are summed, so that the reads are not optimised out. */
static volatile unsigned sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BqError		err;
	BqSafetensors *st = bq_safetensors_parse(data, size, "fuzz.safetensors", &err);
	unsigned	sum = 0;

	if (st == NULL)
	{
		FUZZ_ASSERT_ERROR(err);
		return 0;
	}
	for (int i = 0; i < st->count; i++)
	{
		const BqTensor *t = &st->tensors[i];

		FUZZ_ASSERT(t->data >= data && t->nbytes <= size &&
					(size_t) (t->data - data) <= size - t->nbytes);
		if (t->dtype != BQ_DTYPE_OTHER)
			FUZZ_ASSERT(t->nbytes == (size_t) t->elements * bq_dtype_size(t->dtype_name));
		FUZZ_ASSERT(bq_safetensors_find(st, t->name) != NULL);
		for (size_t j = 0; j < t->nbytes; j++)
			sum += t->data[j];
	}
	sink = sum;
	bq_safetensors_close(st);
	return 0;
}
