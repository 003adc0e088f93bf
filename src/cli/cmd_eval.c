/*
 * cmd_eval.c - "bertqa eval": the official SQuAD v2.0 evaluation of a
 * predictions file, with evaluate-v2.0.py's options and output.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "squad_dataset.h"
#include "squad_eval.h"

static void
eval_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa eval --data SQUAD.json --predictions PRED.json\n"
			"                   [--na-prob-file NA.json] [--na-prob-thresh T] [--out-file F]\n\n"
			"Scores predictions like the official SQuAD v2.0 evaluate-v2.0.py and prints\n"
			"its JSON report (exact, f1, total, HasAns_*, NoAns_*, best_* with --na-prob-file).\n"
			"Questions without a prediction are named on stderr and left out.\n\n"
			"  --data FILE            SQuAD v1.1/v2.0 JSON file with the gold answers\n"
			"  --predictions FILE     {question id: answer text}, \"\" = no answer\n"
			"  --na-prob-file FILE    {question id: no-answer probability}\n"
			"  --na-prob-thresh T     answer \"\" when the probability exceeds T (default 1.0)\n"
			"  --out-file FILE        also write the report there (one line, as the script does)\n");
}

/*
 * Write 'text' to 'path', reporting failures.
 */
static bool
write_report(const char *path, const char *text)
{
	BqError		err;

	if (bq_write_file(path, text, strlen(text), false, &err) != BQ_OK)
	{
		fprintf(stderr, "bertqa eval: %s\n", err.message);
		return false;
	}
	return true;
}

int
cmd_eval(int argc, char **argv)
{
	const char *data_path = NULL;
	const char *pred_path = NULL;
	const char *na_prob_path = NULL;
	const char *out_path = NULL;
	double		na_prob_thresh = 1.0;
	BqError		err;
	BqSquadDataset dataset = {0};
	BqSquadEvalResult result = {0};
	json_object *predictions = NULL;
	json_object *na_probs = NULL;
	char	   *pretty = NULL;
	char	   *compact = NULL;
	int			exit_code = 1;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			eval_usage(stdout);
			return 0;
		}
		else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data_path = argv[++i];
		else if (strcmp(argv[i], "--predictions") == 0 && i + 1 < argc)
			pred_path = argv[++i];
		else if (strcmp(argv[i], "--na-prob-file") == 0 && i + 1 < argc)
			na_prob_path = argv[++i];
		else if (strcmp(argv[i], "--out-file") == 0 && i + 1 < argc)
			out_path = argv[++i];
		else if (strcmp(argv[i], "--na-prob-thresh") == 0 && i + 1 < argc)
		{
			if (!cli_parse_double("eval", "--na-prob-thresh", argv[++i], &na_prob_thresh))
				return 2;
		}
		else
			return cli_usage_error("eval", "unexpected argument \"%s\" (see --help)", argv[i]);
	}
	if (data_path == NULL || pred_path == NULL)
		return cli_usage_error("eval", "--data FILE and --predictions FILE are required (see --help)");

	bq_error_clear(&err);
	if (bq_squad_dataset_load(data_path, &dataset, &err) != BQ_OK ||
		(predictions = bq_json_load_file(pred_path, &err)) == NULL ||
		(na_prob_path != NULL && (na_probs = bq_json_load_file(na_prob_path, &err)) == NULL) ||
		bq_squad_evaluate(&dataset, predictions, na_probs, na_prob_thresh, NULL,
						  &result, &err) != BQ_OK)
	{
		cli_report(&err);
		exit_code = err.status == BQ_ERR_INPUT ? 2 : 1;
		goto done;
	}

	for (size_t i = 0; i < result.n_missing; i++)
		fprintf(stderr, "Missing prediction for %s\n", result.missing_ids[i]);
	pretty = bq_squad_eval_to_json(&result, true);
	compact = bq_squad_eval_to_json(&result, false);
	if (pretty == NULL || compact == NULL)
	{
		fprintf(stderr, "bertqa eval: out of memory\n");
		goto done;
	}
	printf("%s\n", pretty);
	if (fflush(stdout) == 0 && (out_path == NULL || write_report(out_path, compact)))
		exit_code = 0;

done:
	free(pretty);
	free(compact);
	bq_squad_eval_result_free(&result);
	json_object_put(na_probs);
	json_object_put(predictions);
	bq_squad_dataset_free(&dataset);
	return exit_code;
}
