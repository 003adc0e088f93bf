/*
 * model_export.c - a loaded model as a Hugging Face model directory.
 *
 * The weights are written from the bound fp32 pointers, so conversion from
 * any source format reduces to loading it; the safetensors writer renames
 * its file into place, and config.json and the tokenizer's files are small
 * enough to be rewritten whole.
 */
#include "model_export.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_util.h"
#include "model_config.h"
#include "model_tokenizer.h"
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

/*
 * The tokenizer: WordPiece's vocab.txt rewritten (the source may be an
 * archive), any other kind's files copied from the model directory.
 */
static int
write_tokenizer(const BqModel *model, const char *out_dir, BqError *err)
{
	if (model->vocab != NULL)
	{
		char	   *path = bq_model_path(out_dir, "vocab.txt");
		int			rc = path != NULL ? write_vocab(model, path, err) :
			bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", out_dir);
		free(path);
		return rc;
	}
	return bq_model_tokenizer_copy(model->path, out_dir, err);
}

/*
 * config.json, from the model's configuration.
 */
static int
write_config(const BqModel *model, const char *path, BqError *err)
{
	return bq_config_write(&model->config, path, err);
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
	static const struct
	{
		const char *file;
		int			(*write) (const BqModel *model, const char *path, BqError *err);
	}			parts[] = {
		{"config.json", write_config},
		{"model.safetensors", write_weights},
	};
	int			rc = BQ_OK;

	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
		return bq_fail(err, BQ_ERR_IO, "could not create directory \"%s\": %s", out_dir,
					   strerror(errno));
	for (size_t i = 0; rc == BQ_OK && i < sizeof(parts) / sizeof(parts[0]); i++)
	{
		char	   *path = bq_model_path(out_dir, parts[i].file);

		if (path == NULL)
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", out_dir);
		rc = parts[i].write(model, path, err);
		free(path);
	}
	if (rc == BQ_OK)
		rc = write_tokenizer(model, out_dir, err);
	return rc;
}
