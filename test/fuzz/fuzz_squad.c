/*
 * fuzz_squad.c - SQuAD dataset reading and official scoring on arbitrary
 * bytes.
 *
 * The input is split at NUL bytes into a dataset, predictions and
 * no-answer probabilities (the last two optional).  An accepted dataset is
 * scored with the given predictions, or with its first gold answers when
 * there are none; scores must be percentages, exact match never above F1.
 */
#include "fuzz.h"

#include <string.h>

#include <json-c/json.h>

#include "squad_dataset.h"
#include "squad_eval.h"

/* Split the input at its first NUL: *rest gets what follows it, or NULL. */
static size_t
first_part(const char *text, size_t len, const char **rest, size_t *rest_len)
{
	const char *nul = memchr(text, '\0', len);

	if (nul == NULL)
	{
		*rest = NULL;
		*rest_len = 0;
		return len;
	}
	*rest = nul + 1;
	*rest_len = len - (size_t) (nul - text) - 1;
	return (size_t) (nul - text);
}

/*
 * Predictions that repeat the first gold answer of each answerable
 * question, and "" for the others.
 */
static char *
perfect_predictions(const BqSquadDataset *data)
{
	json_object *preds = json_object_new_object();
	char	   *text;

	for (size_t i = 0; i < data->count; i++)
	{
		const BqSquadExample *ex = &data->examples[i];

		json_object_object_add(preds, ex->id,
							   json_object_new_string(ex->n_answers > 0 && !ex->is_impossible ?
													  ex->answers[0] : ""));
	}
	text = strdup(json_object_to_json_string_ext(preds, JSON_C_TO_STRING_PLAIN));
	json_object_put(preds);
	return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dataset = (const char *) data;
	const char *preds;
	const char *probs;
	size_t		dataset_len,
				preds_len,
				probs_len,
				rest_len;
	BqSquadDataset parsed = {0};
	BqSquadEvalResult result;
	char	   *perfect = NULL;
	BqError		err;

	dataset_len = first_part(dataset, size, &preds, &rest_len);
	preds_len = preds != NULL ? first_part(preds, rest_len, &probs, &probs_len) : 0;
	if (preds == NULL)
		probs = NULL;

	if (bq_squad_dataset_parse(dataset, dataset_len, &parsed, &err) != BQ_OK)
	{
		FUZZ_ASSERT_ERROR(err);
		return 0;
	}
	for (size_t i = 0; i < parsed.count; i++)
		FUZZ_ASSERT(parsed.examples[i].id != NULL && parsed.examples[i].context != NULL &&
					parsed.examples[i].question != NULL);
	if (preds == NULL)
	{
		perfect = perfect_predictions(&parsed);
		preds = perfect;
		preds_len = strlen(perfect);
	}
	memset(&result, 0, sizeof(result));
	if (bq_squad_evaluate_texts(dataset, dataset_len, preds, preds_len,
								probs, probs != NULL ? probs_len : 0, 1.0, NULL,
								&result, &err) == BQ_OK)
	{
		char	   *json = bq_squad_eval_to_json(&result, false);

		FUZZ_ASSERT(json != NULL);
		free(json);
		FUZZ_ASSERT(result.all.exact >= 0 && result.all.exact <= result.all.f1 + 1e-9 &&
					result.all.f1 <= 100 + 1e-9);
		bq_squad_eval_result_free(&result);
	}
	else
		FUZZ_ASSERT_ERROR(err);
	free(perfect);
	bq_squad_dataset_free(&parsed);
	return 0;
}
