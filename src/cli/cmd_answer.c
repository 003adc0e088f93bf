/*
 * cmd_answer.c - "bertqa answer": answer one question over one context, or
 * over several as one long document (answer_pool.h), and print the
 * decision and the top of the n-best list as JSON.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "answer_pool.h"

/* The contexts of the command line and of --contexts files, in order. */
typedef struct Contexts
{
	char	  **texts;			/* [count] (malloc'd) */
	size_t		count;
	size_t		capacity;
} Contexts;

static void
answer_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa answer --question Q --context C [--context C...] [--contexts FILE]\n"
			"                     [--top-k K] [OPTIONS]\n\n"
			"Answers Q from C (SQuAD v2.0 style: the answer is a span of C, or none)\n"
			"and prints {\"answer\": text or null, \"start\", \"end\" (code points of C),\n"
			"\"score\" (probability of the decision), \"null_score_diff\", \"nbest\": [...]}.\n"
			"Over several contexts, they are one long document whose windows never\n"
			"cross a context (as SQL's qa_best_answer): spans of all of them ranked\n"
			"together, the smallest null score, one n-best list; the answer and every\n"
			"entry then also say \"context\", the 0-based index of their context.\n\n"
			"  --question Q           the question\n"
			"  --context C            a text to answer from (repeatable)\n"
			"  --contexts FILE        more texts, JSON lines {\"text\": ...}, after those\n"
			"                         of --context\n"
			"  --top-k K              n-best entries to print (default 5)\n");
	cli_qa_options_help(out);
	fprintf(out,
			"  --help                 show this help\n\n"
			"Exit status: 0 success, 1 failure, 2 bad usage or input.\n");
}

/*
 * The decision as a JSON document, without its n-best list: the answer's
 * text is null when the decision is "no answer".
 */
static json_object *
decision_json(const char *text, size_t text_len, bool is_null, int32_t start, int32_t end,
			  double score, double null_score_diff)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "answer", is_null ? NULL :
						   json_object_new_string_len(text, (int) text_len));
	json_object_object_add(obj, "start", is_null ? NULL : json_object_new_int(start));
	json_object_object_add(obj, "end", is_null ? NULL : json_object_new_int(end));
	json_object_object_add(obj, "score", cli_json_double(score));
	json_object_object_add(obj, "null_score_diff", cli_json_double(null_score_diff));
	return obj;
}

/* The result over one context as one JSON document. */
static json_object *
answer_json(const char *context, size_t context_len, const BqQaResult *r,
			int top_k)
{
	const BqQaCandidate *best = &r->nbest[r->answer];
	json_object *obj = decision_json(context + best->start_byte,
									 best->end_byte - best->start_byte, best->is_null,
									 best->start_char, best->end_char, best->probability,
									 r->null_score_diff);
	json_object *nbest = json_object_new_array();

	for (size_t i = 0; i < r->count && i < (size_t) top_k; i++)
		json_object_array_add(nbest, cli_qa_entry_json(context, context_len,
													   &r->nbest[i], true));
	json_object_object_add(obj, "nbest", nbest);
	return obj;
}

/* Append a copy of 'text'; false when out of memory. */
static bool
contexts_add(Contexts *c, const char *text, size_t len)
{
	char	   *copy;

	if (c->count == c->capacity)
	{
		size_t		capacity = c->capacity ? 2 * c->capacity : 8;
		char	  **grown = realloc(c->texts, capacity * sizeof(char *));

		if (grown == NULL)
			return false;
		c->texts = grown;
		c->capacity = capacity;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return false;
	memcpy(copy, text, len);
	copy[len] = '\0';
	c->texts[c->count++] = copy;
	return true;
}

static void
contexts_free(Contexts *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->texts[i]);
	free(c->texts);
}

/*
 * Read the JSON lines {"text": ...} of 'path' into 'c'; 0, or 1 when the
 * file cannot be read, 2 for a bad line (named on stderr).
 */
static int
read_contexts(const char *path, Contexts *c)
{
	FILE	   *in = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	long		len;
	long		line_no = 0;
	int			result = 0;

	if (in == NULL)
	{
		fprintf(stderr, "bertqa answer: could not open \"%s\": %s\n", path, strerror(errno));
		return 1;
	}
	while (result == 0 && (len = cli_read_line(in, &line, &cap)) >= 0)
	{
		json_object *obj;
		json_object *text;

		line_no++;
		if (len == 0)
			continue;
		obj = json_tokener_parse(line);
		if (obj == NULL || !json_object_object_get_ex(obj, "text", &text) ||
			!json_object_is_type(text, json_type_string))
		{
			fprintf(stderr, "bertqa answer: %s line %ld: not a JSON object with a string \"text\"\n",
					path, line_no);
			result = 2;
		}
		else if (!contexts_add(c, json_object_get_string(text),
							   (size_t) json_object_get_string_len(text)))
		{
			fprintf(stderr, "bertqa answer: out of memory reading \"%s\"\n", path);
			result = 1;
		}
		json_object_put(obj);
	}
	if (result == 0 && ferror(in))
	{
		fprintf(stderr, "bertqa answer: could not read \"%s\"\n", path);
		result = 1;
	}
	free(line);
	fclose(in);
	return result;
}

/* One entry of the merged list as JSON: a span entry and its context's index. */
static json_object *
pool_entry_json(const BqPoolAnswer *a)
{
	json_object *obj = cli_span_json(a->is_null ? "" : a->text, a->text_len, a->is_null,
									 a->start_char, a->end_char, a->probability,
									 a->start_logit, a->end_logit, true);

	json_object_object_add(obj, "context", a->is_null ? NULL : json_object_new_int64(a->key));
	return obj;
}

/*
 * The question over every context as one document: the decision and the
 * merged list as JSON, or NULL with 'err' filled.
 */
static json_object *
answer_many(const BqModel *model, BqEncoder *enc, const BqQaSettings *settings,
			const char *question, const Contexts *contexts, int top_k, BqError *err)
{
	BqAnswerPool pool;
	BqPoolResult r = {0};
	BqQaBatch  *batch;
	json_object *obj = NULL;
	int			status;

	bq_answer_pool_init(&pool, settings->n_best);
	batch = bq_qa_batch_new(model, settings, question, strlen(question), &pool, err);
	status = batch != NULL ? BQ_OK : err->status;
	for (size_t i = 0; status == BQ_OK && i < contexts->count; i++)
		status = bq_qa_batch_add(batch, model, enc, contexts->texts[i],
								 strlen(contexts->texts[i]), (int64_t) i, NULL, err);
	if (status == BQ_OK)
		status = bq_qa_batch_flush(batch, enc, NULL, err);
	bq_qa_batch_free(batch);
	if (status == BQ_OK)
		status = bq_answer_pool_finish(&pool, settings, &r, err);
	if (status == BQ_OK)
	{
		const BqPoolAnswer *best = &r.nbest[r.answer];
		json_object *nbest = json_object_new_array();

		obj = decision_json(best->text, best->text_len, best->is_null, best->start_char,
							best->end_char, best->probability, r.null_score_diff);
		json_object_object_add(obj, "context", best->is_null ? NULL : json_object_new_int64(best->key));
		for (size_t i = 0; i < r.count && i < (size_t) top_k; i++)
			json_object_array_add(nbest, pool_entry_json(&r.nbest[i]));
		json_object_object_add(obj, "nbest", nbest);
	}
	bq_pool_result_free(&r);
	bq_answer_pool_free(&pool);
	return obj;
}

int
cmd_answer(int argc, char **argv)
{
	CliQaOptions options;
	const char *question = NULL;
	const char *contexts_file = NULL;
	Contexts	contexts = {0};
	int			top_k = 5;
	BqModel    *model;
	BqEncoder  *enc;
	BqQaResult	result;
	json_object *obj = NULL;
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
		{
			i++;
			if (!contexts_add(&contexts, argv[i], strlen(argv[i])))
			{
				contexts_free(&contexts);
				fprintf(stderr, "bertqa answer: out of memory\n");
				return 1;
			}
		}
		else if (strcmp(argv[i], "--contexts") == 0 && i + 1 < argc)
			contexts_file = argv[++i];
		else if (strcmp(argv[i], "--top-k") == 0 && i + 1 < argc)
		{
			if (!cli_parse_int("answer", "--top-k", argv[++i], 0, 1000000, &top_k))
			{
				contexts_free(&contexts);
				return 2;
			}
		}
		else
		{
			contexts_free(&contexts);
			return cli_usage_error("answer", "unexpected argument \"%s\" (see --help)", argv[i]);
		}
	}
	if (contexts_file != NULL && (status = read_contexts(contexts_file, &contexts)) != 0)
	{
		contexts_free(&contexts);
		return status;
	}
	if (question == NULL || contexts.count == 0)
	{
		contexts_free(&contexts);
		return cli_usage_error("answer", "--question and a --context (or a --contexts file with one) "
							   "are required (see --help)");
	}

	status = cli_qa_open("answer", &options, &model, &enc);
	if (status != 0)
	{
		contexts_free(&contexts);
		return status;
	}
	if (contexts.count > 1 || contexts_file != NULL)
	{
		obj = answer_many(model, enc, &options.settings, question, &contexts, top_k, &err);
		status = obj != NULL ? BQ_OK : err.status;
	}
	else
	{
		const char *context = contexts.texts[0];

		status = bq_qa_answer(model, enc, &options.settings, question, strlen(question),
							  context, strlen(context), &result, NULL, &err);
		if (status == BQ_OK)
		{
			obj = answer_json(context, strlen(context), &result, top_k);
			bq_qa_result_free(&result);
		}
	}
	if (obj != NULL)
	{
		puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
											JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(obj);
	}
	else
		cli_report(&err);
	contexts_free(&contexts);
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
