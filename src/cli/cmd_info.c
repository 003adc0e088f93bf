/*
 * cmd_info.c - "bertqa info": describe a model directory as loaded (its
 * configuration, size, weight storage) and the BLAS kernels it would run
 * on, as one JSON document.
 */
#include "cli.h"

#include <string.h>

#include "compute.h"
#include "model.h"
#include "model_config.h"

static void
info_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa info --model DIR [--cache-dir DIR]\n\n"
			"Loads the model and prints JSON: its path, format, configuration, parameter\n"
			"count, bytes mapped, stored dtype, where weights converted to fp32 live, and\n"
			"the BLAS kernel family and thread count.\n\n"
			"  --model DIR       model directory\n"
			"  --cache-dir DIR   where to keep the fp32 copy of F16/BF16 weights\n"
			"                    (default: private memory)\n"
			"  --help            show this help\n");
}

/*
 * Where the fp32 weights that are not the file's own bytes live.
 */
static json_object *
converted_json(const BqModel *model)
{
	json_object *obj;

	if (model->bytes_converted == 0)
		return NULL;
	obj = json_object_new_object();
	json_object_object_add(obj, "location",
						   json_object_new_string(model->cache_path != NULL ? "cache file" : "private memory"));
	if (model->cache_path != NULL)
		json_object_object_add(obj, "path", json_object_new_string(model->cache_path));
	json_object_object_add(obj, "bytes", json_object_new_int64((int64_t) model->bytes_converted));
	json_object_object_add(obj, "reason",
						   json_object_new_string(strcmp(model->dtype, "F32") == 0 ?
												  "F32 data not 4-byte aligned in the file" :
												  "weights stored in 16-bit floats"));
	return obj;
}

int
cmd_info(int argc, char **argv)
{
	const char *model_dir = NULL;
	BqModelLoadOptions options = {NULL};
	BqError		err;
	BqModel    *model;
	json_object *obj;
	json_object *compute;
	json_object *precisions;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			info_usage(stdout);
			return 0;
		}
		else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
			model_dir = argv[++i];
		else if (strcmp(argv[i], "--cache-dir") == 0 && i + 1 < argc)
			options.cache_dir = argv[++i];
		else
			return cli_usage_error("info", "unexpected argument \"%s\" (see --help)", argv[i]);
	}
	if (model_dir == NULL)
		return cli_usage_error("info", "--model DIR is required (see --help)");

	model = bq_model_load_with(model_dir, &options, &err);
	if (model == NULL)
	{
		cli_report(&err);
		return 1;
	}
	if (bq_compute_init(&err) != BQ_OK)
	{
		cli_report(&err);
		bq_model_free(model);
		return 1;
	}

	obj = json_object_new_object();
	json_object_object_add(obj, "path", json_object_new_string(model->path));
	json_object_object_add(obj, "format", json_object_new_string(model->format));
	json_object_object_add(obj, "dtype", json_object_new_string(model->dtype));
	json_object_object_add(obj, "tokenizer",
						   json_object_new_string(bq_tokenizer_kind_name(bq_tokenizer_kind(model->tokenizer))));
	json_object_object_add(obj, "config", bq_config_to_json(&model->config));
	json_object_object_add(obj, "parameter_count", json_object_new_int64(model->parameter_count));
	json_object_object_add(obj, "bytes_mapped", json_object_new_int64((int64_t) model->bytes_mapped));
	json_object_object_add(obj, "converted_weights", converted_json(model));
	compute = json_object_new_object();
	json_object_object_add(compute, "kernels", json_object_new_string(bq_compute_kernels(BQ_PRECISION_FP32)));
	precisions = json_object_new_object();
	for (int p = 0; p < BQ_PRECISIONS; p++)
		json_object_object_add(precisions, bq_precision_name((BqPrecision) p),
							   bq_compute_runs((BqPrecision) p) ?
							   json_object_new_string(bq_compute_kernels((BqPrecision) p)) : NULL);
	json_object_object_add(compute, "precisions", precisions);
	json_object_object_add(compute, "threads", json_object_new_int(bq_compute_threads()));
	json_object_object_add(obj, "compute", compute);

	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
									 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	bq_model_free(model);
	return 0;
}
