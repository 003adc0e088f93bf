/*
 * fuzz_pickle.c - the restricted pickle reader on arbitrary bytes, with the
 * globals PyTorch checkpoints use allowed; an accepted pickle's value tree
 * is walked to its leaves.
 */
#include "fuzz.h"

#include <string.h>

#include "pickle_reader.h"

static const char *const allowed[] = {
	"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.FloatStorage",
	"torch.HalfStorage", "torch.BFloat16Storage", NULL
};

/* Visit every value under 'v'; the depth bound is the reader's promise. */
static size_t
walk(const BqPickleValue *v, int depth)
{
	size_t		n = 1;

	FUZZ_ASSERT(v != NULL && depth < 100000);
	if (v->kind == BQ_PICKLE_STRING)
		FUZZ_ASSERT(strlen(v->string) == v->length);
	for (size_t i = 0; i < v->count; i++)
		n += walk(v->items[i], depth + 1);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BqError		err;
	BqPickle   *pickle = bq_pickle_parse(data, size, allowed, "fuzz.pkl", &err);

	if (pickle == NULL)
	{
		FUZZ_ASSERT_ERROR(err);
		return 0;
	}
	walk(bq_pickle_root(pickle), 0);
	bq_pickle_free(pickle);
	return 0;
}
