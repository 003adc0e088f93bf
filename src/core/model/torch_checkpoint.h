/*
 * torch_checkpoint.h - the tensors of a PyTorch checkpoint in torch.save's
 * zip format (pytorch_model.bin, NeMo's model_weights.ckpt).
 *
 * The archive holds <prefix>/data.pkl, a pickled state dict whose tensors
 * are rebuilt by torch._utils._rebuild_tensor_v2 from storages named by
 * persistent ids, and one stored entry <prefix>/data/<key> per storage.
 * The result is presented as a BqSafetensors table (released with
 * bq_safetensors_close) whose tensors point into the archive's bytes, so
 * the model loader binds them exactly like safetensors weights.  Only
 * contiguous tensors are accepted.
 */
#ifndef BQ_TORCH_CHECKPOINT_H
#define BQ_TORCH_CHECKPOINT_H

#include <stddef.h>

#include "bq_error.h"
#include "safetensors.h"

/* Map 'path' read-only (shared) and read its tensors. */
BqSafetensors *bq_torch_checkpoint_open(const char *path, BqError *err);

/*
 * Read a checkpoint image already in memory (borrowed: it must outlive the
 * result); 'name' labels messages.  The parser the file loader uses,
 * exposed for tests and fuzzing.
 */
BqSafetensors *bq_torch_checkpoint_parse(const void *bytes, size_t size, const char *name,
										 BqError *err);

#endif							/* BQ_TORCH_CHECKPOINT_H */
