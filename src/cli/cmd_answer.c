/*
 * cmd_answer.c - "bertqa answer": answer one question over one context and
 * print the decision and the top of the n-best list as JSON.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void
answer_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa answer --question Q --context C [--top-k K] [OPTIONS]\n\n"
			"Answers Q from C (SQuAD v2.0 style: the answer is a span of C, or none)\n"
			"and prints {\"answer\": text or null, \"start\", \"end\" (code points of C),\n"
			"\"score\" (probability of the decision), \"null_score_diff\", \"nbest\": [...]}.\n\n"
			"  --question Q           the question\n"
			"  --context C            the text to answer from\n"
			"  --top-k K              n-best entries to print (default 5)\n");
	cli_qa_options_help(out);
	fprintf(out,
			"  --help                 show this help\n\n"
			"Exit status: 0 success, 1 failure, 2 bad usage or input.\n");
}

/*
 * The result as one JSON document; the decided entry's text is null when
 * the decision is "no answer".
 */
static json_object *
answer_json(const char *context, size_t context_len, const BqQaResult *r,
			int top_k)
{
	json_object *obj = json_object_new_object();
	json_object *nbest = json_object_new_array();
	const BqQaCandidate *best = &r->nbest[r->answer];
	size_t		from,
				to;

	from = best->start_byte;
	to = best->end_byte;
	json_object_object_add(obj, "answer", best->is_null ? NULL :
						   json_object_new_string_len(context + from, (int) (to - from)));
	json_object_object_add(obj, "start", best->is_null ? NULL : json_object_new_int(best->start_char));
	json_object_object_add(obj, "end", best->is_null ? NULL : json_object_new_int(best->end_char));
	json_object_object_add(obj, "score", cli_json_double(best->probability));
	json_object_object_add(obj, "null_score_diff", cli_json_double(r->null_score_diff));
	for (size_t i = 0; i < r->count && i < (size_t) top_k; i++)
		json_object_array_add(nbest, cli_qa_entry_json(context, context_len,
													   &r->nbest[i], true));
	json_object_object_add(obj, "nbest", nbest);
	return obj;
}

int
cmd_answer(int argc, char **argv)
{
	CliQaOptions options;
	const char *question = NULL;
	const char *context = NULL;
	int			top_k = 5;
	BqModel    *model;
	BqEncoder  *enc;
	BqQaResult	result;
	BqError		err;
	int			status;

	cli_qa_options_init(&options);
	for (int i = 1; i < argc; i++)
	{
		int			taken;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			answer_usage(stdout);
			return 0;
		}
		taken = cli_qa_option("answer", argc, argv, &i, &options);
		if (taken < 0)
			return 2;
		if (taken > 0)
			continue;
		if (strcmp(argv[i], "--question") == 0 && i + 1 < argc)
			question = argv[++i];
		else if (strcmp(argv[i], "--context") == 0 && i + 1 < argc)
			context = argv[++i];
		else if (strcmp(argv[i], "--top-k") == 0 && i + 1 < argc)
		{
			if (!cli_parse_int("answer", "--top-k", argv[++i], 0, 1000000, &top_k))
				return 2;
		}
		else
			return cli_usage_error("answer", "unexpected argument \"%s\" (see --help)", argv[i]);
	}
	if (question == NULL || context == NULL)
		return cli_usage_error("answer", "--question and --context are required (see --help)");

	status = cli_qa_open("answer", &options, &model, &enc);
	if (status != 0)
		return status;
	status = bq_qa_answer(model, enc, &options.settings, question, strlen(question),
						  context, strlen(context), &result, NULL, &err);
	if (status == BQ_OK)
	{
		json_object *obj = answer_json(context, strlen(context), &result, top_k);

		puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
											JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(obj);
		bq_qa_result_free(&result);
	}
	else
		cli_report(&err);
	bq_encoder_free(enc);
	bq_model_free(model);
	if (status != BQ_OK)
		return status == BQ_ERR_INPUT ? 2 : 1;
	if (fflush(stdout) != 0 || ferror(stdout))
	{
		fprintf(stderr, "bertqa answer: could not write standard output\n");
		return 1;
	}
	return 0;
}
