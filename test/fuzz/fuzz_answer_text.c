/*
 * fuzz_answer_text.c - SQuAD answer normalization and comparison on
 * arbitrary bytes: the input, split at its first NUL byte, is a gold and a
 * predicted answer.  Scores must be 0/1 and within [0, 1], an answer must
 * match itself, and normalizing twice must change nothing.
 */
#include "fuzz.h"

#include <string.h>

#include "squad_eval.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *gold = (const char *) data;
	const char *nul = memchr(gold, '\0', size);
	size_t		gold_len = nul != NULL ? (size_t) (nul - gold) : size;
	const char *pred = nul != NULL ? nul + 1 : gold;
	size_t		pred_len = nul != NULL ? size - gold_len - 1 : size;
	int			exact;
	double		f1;
	size_t		norm_len,
				again_len;
	char	   *norm;
	char	   *again;
	BqError		err;

	if (bq_squad_compare_answers(gold, gold_len, pred, pred_len, &exact, &f1, &err) == BQ_OK)
		FUZZ_ASSERT((exact == 0 || exact == 1) && f1 >= 0 && f1 <= 1 + 1e-9 &&
					(exact == 0 || f1 > 1 - 1e-9));
	else
		FUZZ_ASSERT_ERROR(err);

	norm = bq_squad_normalize_answer(gold, gold_len, &norm_len, &err);
	if (norm == NULL)
	{
		FUZZ_ASSERT_ERROR(err);
		return 0;
	}
	FUZZ_ASSERT(bq_squad_compare_answers(gold, gold_len, gold, gold_len, &exact, &f1, &err) == BQ_OK &&
				exact == 1);
	again = bq_squad_normalize_answer(norm, norm_len, &again_len, &err);
	FUZZ_ASSERT(again != NULL && again_len == norm_len && memcmp(again, norm, norm_len) == 0);
	free(again);
	free(norm);
	return 0;
}
