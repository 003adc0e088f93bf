/*
 * cmd_tokenize.c - "bertqa tokenize": tokenize JSON lines {"text": "..."}
 * from stdin with a model's tokenizer (any kind) or a WordPiece vocabulary,
 * one {"ids": [...], "offsets": [...]} line out per line in.
 *
 * A bad input line (not JSON, no "text" string, invalid UTF-8) is reported
 * with its number and skipped so one broken record does not lose the rest;
 * the exit status (2) still says that something was skipped.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "model_config.h"
#include "model_tokenizer.h"
#include "wordpiece.h"
#include "vocab.h"

static void
tokenize_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa tokenize --model DIR | --vocab FILE [--cased]\n\n"
			"Reads JSON lines {\"text\": \"...\"} on stdin and writes one line\n"
			"{\"ids\": [...], \"offsets\": [[start, end], ...]} per input line, without\n"
			"special tokens; offsets count code points of the text.\n\n"
			"  --model DIR   the tokenizer of the model in DIR, whatever its family\n"
			"  --vocab FILE  WordPiece vocabulary (vocab.txt)\n"
			"  --cased       with --vocab: keep case and accents (default: uncased, as\n"
			"                bert-base-uncased)\n"
			"  --help        show this help\n\n"
			"Exit status: 0 success, 1 failure, 2 bad usage or some input lines skipped.\n");
}

/*
 * Write one result line.
 */
static void
write_tokens(FILE *out, const BqTokenList *list)
{
	fputs("{\"ids\": [", out);
	for (size_t i = 0; i < list->count; i++)
		fprintf(out, i ? ", %d" : "%d", list->tokens[i].id);
	fputs("], \"offsets\": [", out);
	for (size_t i = 0; i < list->count; i++)
		fprintf(out, i ? ", [%d, %d]" : "[%d, %d]", list->tokens[i].start,
				list->tokens[i].end);
	fputs("]}\n", out);
}

/* What every input line needs: the tokenizer and a reusable token list. */
typedef struct TokenizeRun
{
	const BqTokenizer *tok;
	BqTokenList list;
} TokenizeRun;

/*
 * Tokenize one input line.  Returns 0 on success, 2 if the line was bad
 * (message printed), 1 on a failure that should stop the command.
 */
static int
tokenize_line(const char *line, size_t len, long line_no, void *arg)
{
	TokenizeRun *run = arg;
	const BqTokenizer *tok = run->tok;
	BqTokenList *list = &run->list;
	char		name[64];
	BqError		err;
	json_object *obj;
	json_object *text;
	int			status;

	snprintf(name, sizeof(name), "line %ld", line_no);
	obj = bq_json_parse(line, len, name, &err);
	if (obj == NULL)
	{
		if (err.status == BQ_ERR_NOMEM)
		{
			cli_report(&err);
			return 1;
		}
		fprintf(stderr, "bertqa tokenize: %s\n", err.message);
		return 2;
	}
	if (!json_object_is_type(obj, json_type_object) ||
		!json_object_object_get_ex(obj, "text", &text) ||
		!json_object_is_type(text, json_type_string))
	{
		fprintf(stderr, "bertqa tokenize: line %ld: expected an object with a \"text\" string\n",
				line_no);
		json_object_put(obj);
		return 2;
	}
	list->count = 0;
	status = bq_tokenize(tok, json_object_get_string(text),
						 (size_t) json_object_get_string_len(text), list, &err);
	json_object_put(obj);
	if (status == BQ_ERR_INPUT)
	{
		fprintf(stderr, "bertqa tokenize: line %ld: %s\n", line_no, err.message);
		return 2;
	}
	if (status != BQ_OK)
	{
		cli_report(&err);
		return 1;
	}
	write_tokens(stdout, list);
	return 0;
}

/*
 * The tokenizer of the model in 'dir', as loading the model makes it.
 */
static int
model_tokenizer(const char *dir, BqTokenizer **tok, BqVocab **vocab, BqError *err)
{
	BqConfig	config;

	if (bq_config_load(dir, &config, err) != BQ_OK)
		return err->status;
	return bq_model_tokenizer_load(dir, &config, tok, vocab, err);
}

int
cmd_tokenize(int argc, char **argv)
{
	const char *vocab_path = NULL;
	const char *model_dir = NULL;
	bool		cased = false;
	BqError		err;
	BqVocab    *vocab = NULL;
	BqTokenizer *tok = NULL;
	TokenizeRun run = {0};
	int			result;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			tokenize_usage(stdout);
			return 0;
		}
		else if (strcmp(argv[i], "--vocab") == 0 && i + 1 < argc)
			vocab_path = argv[++i];
		else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
			model_dir = argv[++i];
		else if (strcmp(argv[i], "--cased") == 0)
			cased = true;
		else
			return cli_usage_error("tokenize", "unexpected argument \"%s\" (see --help)", argv[i]);
	}
	if ((vocab_path == NULL) == (model_dir == NULL))
		return cli_usage_error("tokenize", "give --model DIR or --vocab FILE (see --help)");
	if (model_dir != NULL && cased)
		return cli_usage_error("tokenize", "--cased goes with --vocab; a model's tokenizer says its case");

	if (model_dir != NULL)
		model_tokenizer(model_dir, &tok, &vocab, &err);
	else if ((vocab = bq_vocab_load(vocab_path, &err)) != NULL)
		tok = bq_wordpiece_new(vocab, !cased, &err);
	if (tok == NULL)
	{
		cli_report(&err);
		bq_vocab_free(vocab);
		return 1;
	}

	run.tok = tok;
	result = cli_for_each_input_line("tokenize", tokenize_line, &run);

	bq_token_list_free(&run.list);
	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
	return result;
}
