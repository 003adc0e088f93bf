/*
 * fuzz_torch_checkpoint.c - PyTorch checkpoint (ZIP + pickle) reading on
 * arbitrary bytes.  An accepted checkpoint's tensors must lie inside the
 * buffer and hold the bytes their dtype and shape need; all of them are
 * read, so that AddressSanitizer checks it.
 */
#include "fuzz.h"

#include "safetensors.h"
#include "torch_checkpoint.h"

/* Where the tensor bytes are summed, so that the reads are not optimised out. */
static volatile unsigned sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BqError		err;
	BqSafetensors *st = bq_torch_checkpoint_parse(data, size, "fuzz.bin", &err);
	unsigned	sum = 0;

	if (st == NULL)
	{
		FUZZ_ASSERT_ERROR(err);
		return 0;
	}
	for (int i = 0; i < st->count; i++)
	{
		const BqTensor *t = &st->tensors[i];

		if (t->nbytes > 0)
			FUZZ_ASSERT(t->data >= data && t->nbytes <= size &&
						(size_t) (t->data - data) <= size - t->nbytes);
		for (size_t j = 0; j < t->nbytes; j++)
			sum += t->data[j];
	}
	sink = sum;
	bq_safetensors_close(st);
	return 0;
}
