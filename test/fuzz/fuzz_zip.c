/*
 * fuzz_zip.c - the ZIP reader (PyTorch checkpoints and .nemo archives) on
 * arbitrary bytes.  Every entry of an accepted archive must lie inside the
 * buffer and be found by its name; its bytes are all read, so that
 * AddressSanitizer checks the first promise.
 */
#include "fuzz.h"

#include "zip_reader.h"

/* Where the entry bytes are summed, so that the reads are not optimised out. */
static volatile unsigned sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BqError		err;
	BqZip	   *zip = bq_zip_parse(data, size, "fuzz.zip", &err);
	unsigned	sum = 0;

	if (zip == NULL)
	{
		FUZZ_ASSERT_ERROR(err);
		return 0;
	}
	for (int i = 0; i < zip->count; i++)
	{
		const BqZipEntry *e = &zip->entries[i];

		FUZZ_ASSERT(e->size == 0 ||
					(e->data >= data && e->size <= size && (size_t) (e->data - data) <= size - e->size));
		FUZZ_ASSERT(bq_zip_find(zip, e->name) != NULL);
		for (size_t j = 0; j < e->size; j++)
			sum += e->data[j];
	}
	sink = sum;
	bq_zip_free(zip);
	return 0;
}
