/*
 * model_export.h - writing a loaded model out in Hugging Face layout.
 *
 * Whatever format a model was read from (safetensors, pytorch_model.bin,
 * .nemo), its directory can be written as config.json, vocab.txt and an
 * F32 model.safetensors under the canonical tensor names, which any
 * bertqa (or transformers) loads directly.
 */
#ifndef BQ_MODEL_EXPORT_H
#define BQ_MODEL_EXPORT_H

#include "bq_error.h"
#include "model.h"

/* Write 'model' into 'out_dir' (created if missing; existing files replaced). */
int			bq_model_export(const BqModel *model, const char *out_dir, BqError *err);

#endif							/* BQ_MODEL_EXPORT_H */
