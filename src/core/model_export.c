/*
 * model_export.c - a loaded model as a Hugging Face model directory.
 *
 * The weights are written from the bound fp32 pointers, so conversion from
 * any source format reduces to loading it; the safetensors writer renames
 * its file into place, and config.json and vocab.txt are small enough to
 * be rewritten whole.
 */
#include "model_export.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model_config.h"
#include "safetensors.h"

/*
 * vocab.txt: one token per line, in id order.
 */
static int
write_vocab(const BqModel *model, const char *path, BqError *err)
{
	FILE	   *f = fopen(path, "w");
	bool		ok = f != NULL;

	for (int32_t id = 0; ok && id < bq_vocab_size(model->vocab); id++)
		ok = fprintf(f, "%s\n", bq_vocab_token(model->vocab, id)) >= 0;
	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (!ok)
		return bq_fail(err, BQ_ERR_IO, "could not write \"%s\": %s", path, strerror(errno));
	return BQ_OK;
}

static int
write_config(const BqModel *model, const char *path, BqError *err)
{
	json_object *config = bq_config_to_json(&model->config);
	int			rc = BQ_OK;

	if (config == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", path);
	if (json_object_to_file_ext(path, config, JSON_C_TO_STRING_PRETTY) != 0)
		rc = bq_fail(err, BQ_ERR_IO, "could not write \"%s\": %s", path, strerror(errno));
	json_object_put(config);
	return rc;
}

/*
 * Each weight as the model has bound it (fp32 already).
 */
static const void *
bound_weight(int index, const BqWeightSpec *spec, size_t elements, float *scratch,
			 void *arg, BqError *err)
{
	return bq_model_weight((const BqModel *) arg, index);
}

/*
 * model.safetensors: every weight the encoder reads, F32, canonical names.
 */
static int
write_weights(const BqModel *model, const char *path, BqError *err)
{
	const char *metadata[] = {"format", "pt", "bertqa_source", model->path,
	"bertqa_source_format", model->format, NULL};

	return bq_model_write_weights(path, &model->config, metadata, bound_weight,
								  (void *) model, err);
}

int
bq_model_export(const BqModel *model, const char *out_dir, BqError *err)
{
	static const char *const files[] = {"config.json", "vocab.txt", "model.safetensors"};
	int			rc = BQ_OK;

	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
		return bq_fail(err, BQ_ERR_IO, "could not create directory \"%s\": %s", out_dir,
					   strerror(errno));
	for (int i = 0; rc == BQ_OK && i < 3; i++)
	{
		char	   *path = bq_model_path(out_dir, files[i]);

		if (path == NULL)
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", out_dir);
		if (i == 0)
			rc = write_config(model, path, err);
		else if (i == 1)
			rc = write_vocab(model, path, err);
		else
			rc = write_weights(model, path, err);
		free(path);
	}
	return rc;
}
