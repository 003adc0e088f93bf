/*
 * nemo_archive.h - NVIDIA NeMo model archives (.nemo).
 *
 * A .nemo file is a tar archive, usually gzip-compressed, holding
 * model_config.yaml, model_weights.ckpt (a torch.save checkpoint with NeMo's
 * tensor names) and the tokenizer's vocabulary, which the config names as
 * "nemo:<file>".  Compressed weights cannot be mapped, so an archive is
 * unpacked once into a model directory in Hugging Face layout (config.json,
 * vocab.txt, pytorch_model.bin holding the checkpoint unchanged) that the
 * directory loader then maps like any other.
 */
#ifndef BQ_NEMO_ARCHIVE_H
#define BQ_NEMO_ARCHIVE_H

#include <stdbool.h>

#include "bq_error.h"
#include "model.h"

/*
 * Unpack 'nemo_path' into the new directory 'out_dir', which must not
 * exist: the files are written into a temporary sibling that is renamed
 * into place at the end, so no reader ever sees a partial directory.
 * Encoder sizes come from the config's language_model.config, else from
 * the tensor shapes (heads = hidden / 64); do_lower_case from the dataset
 * section, with its post-processing settings (BqConfig.qa_defaults).
 */
int			bq_nemo_unpack(const char *nemo_path, const char *out_dir, BqError *err);

/*
 * The unpacked directory for 'nemo_path', malloc'd in *dir: with a cache
 * directory, the entry derived from the archive's path and identity
 * (unpacked first if missing; *temporary false); without, a fresh private
 * temporary directory (*temporary true) the caller removes with
 * bq_nemo_remove_unpacked once loaded.
 */
int			bq_nemo_prepare(const char *nemo_path, const char *cache_dir, char **dir,
							bool *temporary, BqError *err);

/* Remove a directory bq_nemo_unpack wrote, and its files. */
void		bq_nemo_remove_unpacked(const char *dir);

/*
 * Parse YAML text into json-c values (mappings, sequences, and scalars
 * typed as YAML 1.1 plain scalars are: null, booleans, integers, floats,
 * else strings); 'name' labels messages.  Exposed for tests and fuzzing.
 */
struct json_object *bq_yaml_parse(const char *text, size_t len, const char *name, BqError *err);

#endif							/* BQ_NEMO_ARCHIVE_H */
