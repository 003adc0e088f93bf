/*
 * model_config.h - a model's hyperparameters: config.json (Hugging Face's
 * BertConfig, DistilBertConfig, ElectraConfig, RobertaConfig or
 * XLMRobertaConfig) and the do_lower_case flag of tokenizer_config.json.
 */
#ifndef BQ_MODEL_CONFIG_H
#define BQ_MODEL_CONFIG_H

#include <json-c/json.h>

#include "bq_error.h"
#include "model.h"
#include "safetensors.h"

/*
 * Upper bounds that keep every size the encoder derives (tensor elements,
 * activations, attention scores) far from integer overflow.
 */
#define BQ_MAX_VOCAB_SIZE (1 << 22)
#define BQ_MAX_HIDDEN_SIZE 16384
#define BQ_MAX_LAYERS 256
#define BQ_MAX_HEADS 256
#define BQ_MAX_INTERMEDIATE_SIZE 65536
#define BQ_MAX_POSITIONS 8192
#define BQ_MAX_TYPE_VOCAB_SIZE 1024

/*
 * Fill 'config' from the directory's config.json and, when present,
 * tokenizer_config.json.  layer_norm_eps and hidden_act default as in
 * BertConfig (1e-12, "gelu"); do_lower_case defaults to true (uncased).
 * Another model_type, an activation other than exact "gelu", relative
 * position embeddings or DistilBERT's sinusoidal ones are
 * BQ_ERR_UNSUPPORTED, naming what is.
 */
int			bq_config_load(const char *dir, BqConfig *config, BqError *err);

/* The same from parsed JSON ('tokenizer_json' may be NULL); names label messages. */
int			bq_config_from_json(json_object *config_json, const char *config_name,
								json_object *tokenizer_json, const char *tokenizer_name,
								BqConfig *config, BqError *err);

/*
 * Post-processing settings from 'obj' (NeMo's dataset-section names:
 * max_seq_length, doc_stride, max_query_length, max_answer_length,
 * n_best_size, null_score_diff_threshold; other keys are ignored); 'name'
 * labels messages.
 */
int			bq_qa_defaults_from_json(json_object *obj, const char *name, BqQaDefaults *defaults,
									 BqError *err);

/* "dir/file", malloc'd; NULL when out of memory. */
char	   *bq_model_path(const char *dir, const char *file);

/* config.json contents for 'config' (caller puts the object), or NULL when out of memory. */
json_object *bq_config_to_json(const BqConfig *config);

/* bq_config_to_json written to the file 'path' (bq_json_write_file). */
int			bq_config_write(const BqConfig *config, const char *path, BqError *err);

#endif							/* BQ_MODEL_CONFIG_H */
