/*
 * model_config.c - reading and writing config.json, for every family.
 *
 * Every field is checked for type and range before use: the encoder sizes
 * its buffers from these numbers, so an absurd value must be an error here
 * rather than an overflow later.
 */
#include "model_config.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_util.h"

/* Largest post-processing size a checkpoint may suggest. */
#define BQ_MAX_QA_SETTING (1 << 20)

/* The integer post-processing settings, by their NeMo names. */
static const struct
{
	const char *key;
	size_t		offset;
}			qa_int_settings[] = {
	{"max_seq_length", offsetof(BqQaDefaults, max_seq_len)},
	{"doc_stride", offsetof(BqQaDefaults, doc_stride)},
	{"max_query_length", offsetof(BqQaDefaults, max_query_len)},
	{"max_answer_length", offsetof(BqQaDefaults, max_answer_len)},
	{"n_best_size", offsetof(BqQaDefaults, n_best)},
};

#define N_QA_INT_SETTINGS (sizeof(qa_int_settings) / sizeof(qa_int_settings[0]))
#define NULL_THRESHOLD_KEY "null_score_diff_threshold"
#define NO_ANSWER_KEY "version_2_with_negative"
#define QA_DEFAULTS_KEY "bertqa_qa_defaults"

/*
 * A required integer field in [min, max].
 */
static int
int_field(json_object *obj, const char *name, const char *key, int32_t min, int32_t max,
		  int32_t *out, BqError *err)
{
	json_object *value;
	int64_t		v;

	if (!json_object_object_get_ex(obj, key, &value))
		return bq_fail(err, BQ_ERR_FORMAT, "%s lacks the field \"%s\"", name, key);
	/* Only a number is echoed: a string or object could be file contents. */
	if (!json_object_is_type(value, json_type_int))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "%s: \"%s\" must be an integer from %d to %d, not a JSON %s",
					   name, key, (int) min, (int) max,
					   json_type_to_name(json_object_get_type(value)));
	if ((v = json_object_get_int64(value)) < min || v > max)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "%s: \"%s\" must be an integer from %d to %d, not %lld",
					   name, key, (int) min, (int) max, (long long) v);
	*out = (int32_t) v;
	return BQ_OK;
}

/*
 * An optional string field that must equal 'expected' when present;
 * anything else names a model bertqa cannot run.
 */
static int
expect_string(json_object *obj, const char *name, const char *key, const char *expected,
			  const char *why, BqError *err)
{
	json_object *value;

	if (!json_object_object_get_ex(obj, key, &value) || value == NULL)
		return BQ_OK;
	if (!json_object_is_type(value, json_type_string))
		return bq_fail(err, BQ_ERR_FORMAT, "%s: \"%s\" must be a string", name, key);
	if (strcmp(json_object_get_string(value), expected) != 0)
		return bq_fail(err, BQ_ERR_UNSUPPORTED, "%s: %s \"%.64s\" is not supported; %s",
					   name, key, json_object_get_string(value), why);
	return BQ_OK;
}

/*
 * do_lower_case from 'obj' if it has it; true when found.
 */
static bool
lowercase_field(json_object *obj, const char *name, bool *out, int *rc, BqError *err)
{
	json_object *value;

	if (obj == NULL || !json_object_object_get_ex(obj, "do_lower_case", &value) || value == NULL)
		return false;
	if (!json_object_is_type(value, json_type_boolean))
	{
		*rc = bq_fail(err, BQ_ERR_FORMAT, "%s: \"do_lower_case\" must be true or false", name);
		return true;
	}
	*out = json_object_get_boolean(value);
	return true;
}

/*
 * config.json's names for the sizes, per family: DistilBERT names its own.
 * Architectures are what Hugging Face writes for the QA model.
 */
static const struct FamilyKeys
{
	const char *model_type;
	const char *architecture;
	const char *hidden;
	const char *layers;
	const char *heads;
	const char *intermediate;
	const char *activation;
}			family_keys[BQ_FAMILIES] = {
	[BQ_FAMILY_BERT] = {"bert", "BertForQuestionAnswering", "hidden_size", "num_hidden_layers",
	"num_attention_heads", "intermediate_size", "hidden_act"},
	[BQ_FAMILY_DISTILBERT] = {"distilbert", "DistilBertForQuestionAnswering", "dim", "n_layers",
	"n_heads", "hidden_dim", "activation"},
	[BQ_FAMILY_ELECTRA] = {"electra", "ElectraForQuestionAnswering", "hidden_size",
	"num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act"},
	[BQ_FAMILY_ROBERTA] = {"roberta", "RobertaForQuestionAnswering", "hidden_size",
	"num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act"},
	[BQ_FAMILY_XLM_ROBERTA] = {"xlm-roberta", "XLMRobertaForQuestionAnswering", "hidden_size",
	"num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act"},
};

#define SUPPORTED_FAMILIES "bert, distilbert, electra, roberta and xlm-roberta"

const char *
bq_family_name(BqFamily family)
{
	return family_keys[family].model_type;
}

/*
 * The family config.json's "model_type" names (BERT when it has none, as
 * Google's original configs); an unknown one is BQ_ERR_UNSUPPORTED.
 */
static int
family_field(json_object *obj, const char *name, BqFamily *family, BqError *err)
{
	json_object *value;

	*family = BQ_FAMILY_BERT;
	if (!json_object_object_get_ex(obj, "model_type", &value) || value == NULL)
		return BQ_OK;
	if (!json_object_is_type(value, json_type_string))
		return bq_fail(err, BQ_ERR_FORMAT, "%s: \"model_type\" must be a string", name);
	for (int f = 0; f < BQ_FAMILIES; f++)
	{
		if (strcmp(json_object_get_string(value), family_keys[f].model_type) == 0)
		{
			*family = (BqFamily) f;
			return BQ_OK;
		}
	}
	return bq_fail(err, BQ_ERR_UNSUPPORTED,
				   "%s: model_type \"%.64s\" is not supported; bertqa runs " SUPPORTED_FAMILIES,
				   name, json_object_get_string(value));
}

/*
 * An optional boolean field that must be false when present: an option
 * bertqa does not implement.
 */
static int
expect_false(json_object *obj, const char *name, const char *key, const char *why, BqError *err)
{
	json_object *value;

	if (!json_object_object_get_ex(obj, key, &value) || value == NULL)
		return BQ_OK;
	if (!json_object_is_type(value, json_type_boolean))
		return bq_fail(err, BQ_ERR_FORMAT, "%s: \"%s\" must be true or false", name, key);
	if (json_object_get_boolean(value))
		return bq_fail(err, BQ_ERR_UNSUPPORTED, "%s: %s true is not supported; %s", name, key, why);
	return BQ_OK;
}

/*
 * The family's embedding width and token types: ELECTRA's embedding_size
 * (H when absent), DistilBERT's lack of token types, BERT's own.
 */
static int
embedding_fields(json_object *obj, const char *name, BqConfig *config, BqError *err)
{
	json_object *value;

	config->embedding_size = config->hidden_size;
	if (config->family == BQ_FAMILY_DISTILBERT)
		return expect_false(obj, name, "sinusoidal_pos_embds",
							"bertqa implements learned position embeddings", err);
	if (config->family == BQ_FAMILY_ELECTRA &&
		json_object_object_get_ex(obj, "embedding_size", &value) && value != NULL)
	{
		int			rc = int_field(obj, name, "embedding_size", 1, BQ_MAX_HIDDEN_SIZE,
								   &config->embedding_size, err);

		if (rc != BQ_OK)
			return rc;
	}
	return int_field(obj, name, "type_vocab_size", 1, BQ_MAX_TYPE_VOCAB_SIZE,
					 &config->type_vocab_size, err);
}

/*
 * RoBERTa's positions start after pad_token_id (1 unless given), as its
 * embeddings count them from the padding row on.
 */
static int
position_offset_field(json_object *obj, const char *name, BqConfig *config, BqError *err)
{
	json_object *value;
	int32_t		pad_token_id = 1;
	int			rc;

	config->position_offset = 0;
	if (config->family != BQ_FAMILY_ROBERTA && config->family != BQ_FAMILY_XLM_ROBERTA)
		return BQ_OK;
	if (json_object_object_get_ex(obj, "pad_token_id", &value) && value != NULL &&
		(rc = int_field(obj, name, "pad_token_id", 0, config->max_position_embeddings - 2,
						&pad_token_id, err)) != BQ_OK)
		return rc;
	if (pad_token_id + 1 >= config->max_position_embeddings)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "%s: \"max_position_embeddings\" %d leaves no position for a token after pad_token_id %d",
					   name, (int) config->max_position_embeddings, (int) pad_token_id);
	config->position_offset = pad_token_id + 1;
	return BQ_OK;
}

/*
 * layer_norm_eps if given (DistilBERT has none: its LayerNorms use 1e-12,
 * BertConfig's default).
 */
static int
layer_norm_eps_field(json_object *obj, const char *name, float *eps, BqError *err)
{
	json_object *value;
	double		v;

	*eps = 1e-12f;
	if (!json_object_object_get_ex(obj, "layer_norm_eps", &value) || value == NULL)
		return BQ_OK;
	v = json_object_get_double(value);
	if ((!json_object_is_type(value, json_type_double) && !json_object_is_type(value, json_type_int)) ||
		!isfinite(v) || v < FLT_MIN || v >= 1.0)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "%s: \"layer_norm_eps\" must be a number from 1.2e-38 (the smallest normal float) to below 1",
					   name);
	*eps = (float) v;
	return BQ_OK;
}

int
bq_config_from_json(json_object *config_json, const char *config_name,
					json_object *tokenizer_json, const char *tokenizer_name,
					BqConfig *config, BqError *err)
{
	const struct FamilyKeys *keys;
	json_object *defaults;
	int			rc;

	memset(config, 0, sizeof(BqConfig));
	if (!json_object_is_type(config_json, json_type_object))
		return bq_fail(err, BQ_ERR_FORMAT, "%s is not a JSON object", config_name);
	if (tokenizer_json != NULL && !json_object_is_type(tokenizer_json, json_type_object))
		return bq_fail(err, BQ_ERR_FORMAT, "%s is not a JSON object", tokenizer_name);

	if ((rc = family_field(config_json, config_name, &config->family, err)) != BQ_OK)
		return rc;
	keys = &family_keys[config->family];
	if ((rc = expect_string(config_json, config_name, "position_embedding_type", "absolute",
							"bertqa implements absolute position embeddings", err)) != BQ_OK ||
		(rc = expect_string(config_json, config_name, keys->activation, "gelu",
							"bertqa implements the exact (erf) \"gelu\" activation only", err)) != BQ_OK)
		return rc;

	if ((rc = int_field(config_json, config_name, "vocab_size", 1, BQ_MAX_VOCAB_SIZE,
						&config->vocab_size, err)) != BQ_OK ||
		(rc = int_field(config_json, config_name, keys->hidden, 1, BQ_MAX_HIDDEN_SIZE,
						&config->hidden_size, err)) != BQ_OK ||
		(rc = int_field(config_json, config_name, keys->layers, 1, BQ_MAX_LAYERS,
						&config->num_layers, err)) != BQ_OK ||
		(rc = int_field(config_json, config_name, keys->heads, 1, BQ_MAX_HEADS,
						&config->num_heads, err)) != BQ_OK ||
		(rc = int_field(config_json, config_name, keys->intermediate, 1, BQ_MAX_INTERMEDIATE_SIZE,
						&config->intermediate_size, err)) != BQ_OK ||
		(rc = int_field(config_json, config_name, "max_position_embeddings", 1, BQ_MAX_POSITIONS,
						&config->max_position_embeddings, err)) != BQ_OK ||
		(rc = embedding_fields(config_json, config_name, config, err)) != BQ_OK ||
		(rc = position_offset_field(config_json, config_name, config, err)) != BQ_OK ||
		(rc = layer_norm_eps_field(config_json, config_name, &config->layer_norm_eps, err)) != BQ_OK)
		return rc;
	if (config->hidden_size % config->num_heads != 0)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "%s: %s %d is not a multiple of %s %d", config_name, keys->hidden,
					   (int) config->hidden_size, keys->heads, (int) config->num_heads);

	/* tokenizer_config.json decides; config.json may carry the flag too. */
	config->lowercase = true;
	rc = BQ_OK;
	if (!lowercase_field(tokenizer_json, tokenizer_name, &config->lowercase, &rc, err))
		lowercase_field(config_json, config_name, &config->lowercase, &rc, err);
	if (rc == BQ_OK && json_object_object_get_ex(config_json, QA_DEFAULTS_KEY, &defaults))
		rc = bq_qa_defaults_from_json(defaults, config_name, &config->qa_defaults, err);
	return rc;
}

int
bq_qa_defaults_from_json(json_object *obj, const char *name, BqQaDefaults *defaults,
						 BqError *err)
{
	json_object *value;
	int			rc = BQ_OK;

	memset(defaults, 0, sizeof(BqQaDefaults));
	if (!json_object_is_type(obj, json_type_object))
		return bq_fail(err, BQ_ERR_FORMAT, "%s: the post-processing settings are not an object", name);
	for (size_t i = 0; rc == BQ_OK && i < N_QA_INT_SETTINGS; i++)
	{
		if (json_object_object_get_ex(obj, qa_int_settings[i].key, &value) && value != NULL)
			rc = int_field(obj, name, qa_int_settings[i].key, 1, BQ_MAX_QA_SETTING,
						   (int32_t *) ((char *) defaults + qa_int_settings[i].offset), err);
	}
	if (rc == BQ_OK && json_object_object_get_ex(obj, NULL_THRESHOLD_KEY, &value) && value != NULL)
	{
		if ((!json_object_is_type(value, json_type_double) &&
			 !json_object_is_type(value, json_type_int)) ||
			!isfinite(json_object_get_double(value)))
			return bq_fail(err, BQ_ERR_FORMAT, "%s: \"%s\" must be a finite number", name,
						   NULL_THRESHOLD_KEY);
		defaults->has_null_threshold = true;
		defaults->null_threshold = json_object_get_double(value);
	}
	if (rc == BQ_OK && json_object_object_get_ex(obj, NO_ANSWER_KEY, &value) && value != NULL)
	{
		if (!json_object_is_type(value, json_type_boolean))
			return bq_fail(err, BQ_ERR_FORMAT, "%s: \"%s\" must be true or false", name, NO_ANSWER_KEY);
		defaults->has_allow_no_answer = true;
		defaults->allow_no_answer = json_object_get_boolean(value);
	}
	return rc;
}

/*
 * The post-processing settings a checkpoint gave, or NULL when none.
 */
static json_object *
qa_defaults_to_json(const BqQaDefaults *defaults)
{
	json_object *obj = NULL;

	for (size_t i = 0; i < N_QA_INT_SETTINGS; i++)
	{
		int32_t		v = *(const int32_t *) ((const char *) defaults + qa_int_settings[i].offset);

		if (v == 0)
			continue;
		if (obj == NULL)
			obj = json_object_new_object();
		json_object_object_add(obj, qa_int_settings[i].key, json_object_new_int(v));
	}
	if (defaults->has_null_threshold)
	{
		if (obj == NULL)
			obj = json_object_new_object();
		json_object_object_add(obj, NULL_THRESHOLD_KEY, json_object_new_double(defaults->null_threshold));
	}
	if (defaults->has_allow_no_answer)
	{
		if (obj == NULL)
			obj = json_object_new_object();
		json_object_object_add(obj, NO_ANSWER_KEY, json_object_new_boolean(defaults->allow_no_answer));
	}
	return obj;
}

char *
bq_model_path(const char *dir, const char *file)
{
	size_t		len = strlen(dir) + strlen(file) + 2;
	char	   *path = malloc(len);

	if (path != NULL)
		snprintf(path, len, "%s/%s", dir, file);
	return path;
}

int
bq_config_load(const char *dir, BqConfig *config, BqError *err)
{
	char	   *config_path = bq_model_path(dir, "config.json");
	char	   *tokenizer_path = bq_model_path(dir, "tokenizer_config.json");
	char		config_name[1100];
	char		tokenizer_name[1100];
	json_object *config_json = NULL;
	json_object *tokenizer_json = NULL;
	int			rc = BQ_OK;

	if (config_path == NULL || tokenizer_path == NULL)
		rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", dir);
	else if ((config_json = bq_json_load_file(config_path, err)) == NULL)
		rc = err->status;
	else
	{
		BqError		tok_err;

		tokenizer_json = bq_json_load_file(tokenizer_path, &tok_err);
		if (tokenizer_json == NULL && tok_err.status != BQ_ERR_NOT_FOUND)
		{
			*err = tok_err;
			rc = err->status;
		}
	}
	if (rc == BQ_OK)
	{
		snprintf(config_name, sizeof(config_name), "\"%s\"", config_path);
		snprintf(tokenizer_name, sizeof(tokenizer_name), "\"%s\"", tokenizer_path);
		rc = bq_config_from_json(config_json, config_name, tokenizer_json, tokenizer_name,
								 config, err);
	}
	json_object_put(config_json);
	json_object_put(tokenizer_json);
	free(config_path);
	free(tokenizer_path);
	return rc;
}

json_object *
bq_config_to_json(const BqConfig *config)
{
	const struct FamilyKeys *keys = &family_keys[config->family];
	json_object *obj = json_object_new_object();
	json_object *arch = json_object_new_array();
	json_object *defaults;
	char		eps[32];

	if (obj == NULL || arch == NULL)
	{
		json_object_put(obj);
		json_object_put(arch);
		return NULL;
	}
	/* the shortest decimal that reads back as the same float: 1e-12, not 9.99999996e-13 */
	for (int digits = 1; digits <= 9; digits++)
	{
		snprintf(eps, sizeof(eps), "%.*g", digits, (double) config->layer_norm_eps);
		if (strtof(eps, NULL) == config->layer_norm_eps)
			break;
	}
	json_object_array_add(arch, json_object_new_string(keys->architecture));
	json_object_object_add(obj, "architectures", arch);
	json_object_object_add(obj, "model_type", json_object_new_string(keys->model_type));
	json_object_object_add(obj, "vocab_size", json_object_new_int(config->vocab_size));
	if (config->family == BQ_FAMILY_ELECTRA)
		json_object_object_add(obj, "embedding_size", json_object_new_int(config->embedding_size));
	json_object_object_add(obj, keys->hidden, json_object_new_int(config->hidden_size));
	json_object_object_add(obj, keys->layers, json_object_new_int(config->num_layers));
	json_object_object_add(obj, keys->heads, json_object_new_int(config->num_heads));
	json_object_object_add(obj, keys->intermediate, json_object_new_int(config->intermediate_size));
	json_object_object_add(obj, "max_position_embeddings",
						   json_object_new_int(config->max_position_embeddings));
	if (config->type_vocab_size > 0)
		json_object_object_add(obj, "type_vocab_size", json_object_new_int(config->type_vocab_size));
	if (config->position_offset > 0)
		json_object_object_add(obj, "pad_token_id", json_object_new_int(config->position_offset - 1));
	json_object_object_add(obj, keys->activation, json_object_new_string("gelu"));
	if (config->family == BQ_FAMILY_DISTILBERT)
		json_object_object_add(obj, "sinusoidal_pos_embds", json_object_new_boolean(false));
	else
	{
		json_object_object_add(obj, "layer_norm_eps",
							   json_object_new_double_s((double) config->layer_norm_eps, eps));
		json_object_object_add(obj, "position_embedding_type", json_object_new_string("absolute"));
	}
	json_object_object_add(obj, "do_lower_case", json_object_new_boolean(config->lowercase));
	if ((defaults = qa_defaults_to_json(&config->qa_defaults)) != NULL)
		json_object_object_add(obj, QA_DEFAULTS_KEY, defaults);
	return obj;
}

int
bq_config_write(const BqConfig *config, const char *path, BqError *err)
{
	json_object *json = bq_config_to_json(config);
	int			rc;

	if (json == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", path);
	rc = bq_json_write_file(path, json, err);
	json_object_put(json);
	return rc;
}

