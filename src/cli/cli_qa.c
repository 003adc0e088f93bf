/*
 * cli_qa.c - what "bertqa answer" and "bertqa squad" share: the model and
 * answer-selection options, opening the model, and n-best entries as JSON.
 */
#include "cli.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"
#include "json_number.h"

void
cli_qa_options_init(CliQaOptions *options)
{
	options->model_dir = BQ_BUNDLED_MODEL_DIR;
	options->threads = 0;
	options->precision = BQ_PRECISION_FP32;
	options->chosen = 0;
	bq_qa_default_settings(&options->settings);
}

void
cli_qa_options_help(FILE *out)
{
	fprintf(out,
			"  --model DIR            model directory (default: the bundled model,\n"
			"                         " BQ_BUNDLED_MODEL_DIR ")\n"
			"  --threads N            threads per forward pass (default 1)\n"
			"  --precision P          fp32, bf16 or int8 projections (fp32)\n"
			"  --max-seq-len N        tokens per window, [CLS]/[SEP] included (384)\n"
			"  --doc-stride N         step between window starts in the context (128)\n"
			"  --max-query-len N      question tokens kept (64)\n"
			"  --max-answer-len N     longest answer, in tokens (30)\n"
			"  --n-best N             candidates per side and n-best list length (20)\n"
			"  --null-threshold X     no answer when null score - best score > X (0.0)\n"
			"  --allow-no-answer B    true, or false for a model that always answers\n"
			"                         (SQuAD v1.1); default the model's, else true\n");
}

/* An option taking a whole number: where its value goes, what it marks chosen. */
typedef struct IntOption
{
	const char *name;
	size_t		offset;			/* of the int within CliQaOptions */
	unsigned	chosen_bit;		/* BQ_QA_SET_* bit, 0 for --threads */
} IntOption;

static const IntOption int_options[] = {
	{"--threads", offsetof(CliQaOptions, threads), 0},
	{"--max-seq-len", offsetof(CliQaOptions, settings.max_seq_len), BQ_QA_SET_MAX_SEQ_LEN},
	{"--doc-stride", offsetof(CliQaOptions, settings.doc_stride), BQ_QA_SET_DOC_STRIDE},
	{"--max-query-len", offsetof(CliQaOptions, settings.max_query_len), BQ_QA_SET_MAX_QUERY_LEN},
	{"--max-answer-len", offsetof(CliQaOptions, settings.max_answer_len), BQ_QA_SET_MAX_ANSWER_LEN},
	{"--n-best", offsetof(CliQaOptions, settings.n_best), BQ_QA_SET_N_BEST},
};

/*
 * The whole-number option called 'name', or NULL.
 */
static const IntOption *
find_int_option(const char *name)
{
	for (size_t i = 0; i < sizeof(int_options) / sizeof(int_options[0]); i++)
		if (strcmp(name, int_options[i].name) == 0)
			return &int_options[i];
	return NULL;
}

int
cli_qa_option(const char *command, int argc, char **argv, int *i,
			  CliQaOptions *options)
{
	const char *name = argv[*i];
	const IntOption *int_option = find_int_option(name);

	if (int_option == NULL && strcmp(name, "--model") != 0 &&
		strcmp(name, "--null-threshold") != 0 && strcmp(name, "--precision") != 0 &&
		strcmp(name, "--allow-no-answer") != 0)
		return 0;
	if (*i + 1 >= argc)
	{
		cli_usage_error(command, "%s needs a value", name);
		return -1;
	}
	(*i)++;
	if (strcmp(name, "--model") == 0)
		options->model_dir = argv[*i];
	else if (strcmp(name, "--precision") == 0)
	{
		if (!cli_parse_precision(command, argv[*i], &options->precision))
			return -1;
	}
	else if (strcmp(name, "--null-threshold") == 0)
	{
		if (!cli_parse_double(command, name, argv[*i], &options->settings.null_threshold))
			return -1;
		options->chosen |= BQ_QA_SET_NULL_THRESHOLD;
	}
	else if (strcmp(name, "--allow-no-answer") == 0)
	{
		if (strcmp(argv[*i], "true") != 0 && strcmp(argv[*i], "false") != 0)
		{
			cli_usage_error(command, "--allow-no-answer must be true or false, not \"%s\"", argv[*i]);
			return -1;
		}
		options->settings.allow_no_answer = strcmp(argv[*i], "true") == 0;
		options->chosen |= BQ_QA_SET_ALLOW_NO_ANSWER;
	}
	else
	{
		int		   *target = (int *) ((char *) options + int_option->offset);

		if (!cli_parse_int(command, name, argv[*i], 1, 1000000, target))
			return -1;
		options->chosen |= int_option->chosen_bit;
	}
	return 1;
}

int
cli_qa_open(const char *command, CliQaOptions *options, BqModel **model,
			BqEncoder **enc)
{
	BqError		err;

	*model = NULL;
	*enc = NULL;
	if (bq_qa_check_settings(&options->settings, &err) != BQ_OK)
		return cli_usage_error(command, "%s", err.message);
	if (options->threads > 0)
		bq_compute_set_threads(options->threads);
	*model = bq_model_load(options->model_dir, &err);
	if (*model == NULL)
	{
		cli_report(&err);
		return 1;
	}
	bq_qa_apply_model_defaults(&options->settings, &(*model)->config.qa_defaults,
							   options->chosen);
	if (bq_qa_check_settings(&options->settings, &err) != BQ_OK)
	{
		bq_model_free(*model);
		*model = NULL;
		return cli_usage_error(command, "%s", err.message);
	}
	if (bq_qa_check_window_fits(&(*model)->config, options->settings.max_seq_len, &err) != BQ_OK)
	{
		bq_model_free(*model);
		*model = NULL;
		return cli_usage_error(command, "%s", err.message);
	}
	*enc = cli_encoder(command, *model, options->precision);
	if (*enc == NULL)
	{
		bq_model_free(*model);
		*model = NULL;
		return 1;
	}
	return 0;
}

/*
 * A JSON number written as Python writes floats, so output files read the
 * same as run_squad.py's.
 */
json_object *
cli_json_double(double value)
{
	char		text[BQ_DOUBLE_TEXT_SIZE];

	bq_format_double(value, text);
	return json_object_new_double_s(value, text);
}

json_object *
cli_span_json(const char *text, size_t text_len, bool is_null, int32_t start, int32_t end,
			  double probability, double start_logit, double end_logit, bool with_offsets)
{
	json_object *obj = json_object_new_object();

	if (obj == NULL)
		return NULL;
	json_object_object_add(obj, "text", json_object_new_string_len(text, (int) text_len));
	if (with_offsets)
	{
		json_object_object_add(obj, "start", is_null ? NULL : json_object_new_int(start));
		json_object_object_add(obj, "end", is_null ? NULL : json_object_new_int(end));
	}
	json_object_object_add(obj, "probability", cli_json_double(probability));
	json_object_object_add(obj, "start_logit", cli_json_double(start_logit));
	json_object_object_add(obj, "end_logit", cli_json_double(end_logit));
	return obj;
}

json_object *
cli_qa_entry_json(const char *context, size_t context_len,
				  const BqQaCandidate *entry, bool with_offsets)
{
	return cli_span_json(context + entry->start_byte, entry->end_byte - entry->start_byte,
						 entry->is_null, entry->start_char, entry->end_char, entry->probability,
						 entry->start_logit, entry->end_logit, with_offsets);
}
