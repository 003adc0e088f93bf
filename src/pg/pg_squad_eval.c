/*
 * pg_squad_eval.c - qa_squad_eval(): the official SQuAD v2.0 scores of a
 * set of predictions, computed by the same core code as 'bertqa eval'.
 */
#include "pg_bertqa.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "squad_eval.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(bertqa_qa_squad_eval);

/* How many missing question ids the NOTICE names before it summarizes. */
#define MAX_MISSING_NAMED 20

/*
 * A jsonb argument as JSON text; *len gets its length.
 */
static char *
jsonb_text(Jsonb *value, size_t *len)
{
	char	   *text = JsonbToCString(NULL, &value->root, VARSIZE(value));

	*len = strlen(text);
	return text;
}

/*
 * Name the questions that have no prediction, as the official script does.
 */
static void
notice_missing(char **ids, size_t n)
{
	StringInfoData names;

	initStringInfo(&names);
	for (size_t i = 0; i < n && i < MAX_MISSING_NAMED; i++)
		appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", ids[i]);
	if (n > MAX_MISSING_NAMED)
		appendStringInfo(&names, " and %zu more", n - MAX_MISSING_NAMED);
	ereport(NOTICE,
			(errmsg("%zu questions have no prediction and are left out of the scores", n),
			 errdetail("Missing: %s.", names.data)));
}

/*
 * qa_squad_eval(dataset, predictions, na_probs, na_prob_thresh) -> jsonb
 * with the keys of evaluate-v2.0.py's output.
 */
Datum
bertqa_qa_squad_eval(PG_FUNCTION_ARGS)
{
	BqSquadEvalResult result = {0};
	double		na_prob_thresh = PG_ARGISNULL(3) ? 1.0 : PG_GETARG_FLOAT8(3);
	size_t		dataset_len;
	size_t		predictions_len;
	size_t		na_probs_len = 0;
	char	   *dataset;
	char	   *predictions;
	char	   *na_probs = NULL;
	char	   *json;
	char	   *json_copy;
	char	  **missing;
	size_t		n_missing;
	BqError		err;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	dataset = jsonb_text(PG_GETARG_JSONB_P(0), &dataset_len);
	predictions = jsonb_text(PG_GETARG_JSONB_P(1), &predictions_len);
	if (!PG_ARGISNULL(2))
		na_probs = jsonb_text(PG_GETARG_JSONB_P(2), &na_probs_len);

	bq_error_clear(&err);
	if (bq_squad_evaluate_texts(dataset, dataset_len, predictions, predictions_len,
								na_probs, na_probs_len, na_prob_thresh,
								&bertqa_interrupt, &result, &err) != BQ_OK)
	{
		bq_squad_eval_result_free(&result);
		bertqa_report_error(&err, "could not evaluate the predictions");
	}

	/* Copy out of malloc'd memory before anything can throw. */
	json = bq_squad_eval_to_json(&result, false);
	json_copy = json != NULL ? pstrdup(json) : NULL;
	free(json);
	n_missing = result.n_missing;
	missing = palloc(sizeof(char *) * Max(n_missing, 1));
	for (size_t i = 0; i < n_missing; i++)
		missing[i] = pstrdup(result.missing_ids[i]);
	bq_squad_eval_result_free(&result);

	if (json_copy == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (n_missing > 0)
		notice_missing(missing, n_missing);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json_copy)));
}
