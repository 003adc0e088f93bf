/*
 * cmd_convert.c - "bertqa convert": write any model bertqa reads
 * (safetensors or pytorch_model.bin directory, .nemo archive) as a Hugging
 * Face directory with F32 model.safetensors.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "model_export.h"

static void
convert_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa convert --in MODEL --out DIR\n\n"
			"Loads MODEL (a directory holding config.json, the tokenizer's files and\n"
			"model.safetensors or pytorch_model.bin, or a NeMo .nemo archive) and writes\n"
			"DIR in Hugging Face layout: config.json, the tokenizer's files and\n"
			"model.safetensors (F32).\n\n"
			"  --in MODEL   model to read\n"
			"  --out DIR    directory to write (created if missing)\n"
			"  --help       show this help\n");
}

int
cmd_convert(int argc, char **argv)
{
	const char *in = NULL;
	const char *out = NULL;
	BqError		err;
	BqModel    *model;
	int			status = 0;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			convert_usage(stdout);
			return 0;
		}
		else if (strcmp(argv[i], "--in") == 0 && i + 1 < argc)
			in = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else
			return cli_usage_error("convert", "unexpected argument \"%s\" (see --help)", argv[i]);
	}
	if (in == NULL || out == NULL)
		return cli_usage_error("convert", "--in MODEL and --out DIR are required (see --help)");

	bq_error_clear(&err);
	if ((model = bq_model_load(in, &err)) == NULL ||
		bq_model_export(model, out, &err) != BQ_OK)
	{
		cli_report(&err);
		status = 1;
	}
	bq_model_free(model);
	return status;
}
