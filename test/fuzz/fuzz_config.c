/*
 * fuzz_config.c - config.json (and tokenizer_config.json) reading on
 * arbitrary bytes.
 *
 * The input is split at the first NUL byte: before it the config, after it
 * the tokenizer config, when present.  Both go through the JSON reader the
 * loader uses; an accepted config must hold sizes the encoder can run.
 */
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include <json-c/json.h>

#include "file_util.h"
#include "model_config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *) data;
	const char *nul = memchr(text, '\0', size);
	size_t		config_len = nul != NULL ? (size_t) (nul - text) : size;
	json_object *config_json;
	json_object *tokenizer_json = NULL;
	BqConfig	config;
	BqError		err;

	config_json = bq_json_parse(text, config_len, "config.json", &err);
	if (config_json == NULL)
	{
		FUZZ_ASSERT_ERROR(err);
		return 0;
	}
	if (nul != NULL)
	{
		tokenizer_json = bq_json_parse(nul + 1, size - config_len - 1,
									   "tokenizer_config.json", &err);
		if (tokenizer_json == NULL)
		{
			FUZZ_ASSERT_ERROR(err);
			json_object_put(config_json);
			return 0;
		}
	}
	if (bq_config_from_json(config_json, "config.json", tokenizer_json,
							"tokenizer_config.json", &config, &err) != BQ_OK)
		FUZZ_ASSERT_ERROR(err);
	else
	{
		FUZZ_ASSERT(config.hidden_size > 0 && config.num_heads > 0 &&
					config.hidden_size % config.num_heads == 0);
		FUZZ_ASSERT(config.num_layers > 0 && config.vocab_size > 0 &&
					config.intermediate_size > 0 && config.max_position_embeddings > 0 &&
					config.type_vocab_size > 0);
		FUZZ_ASSERT(isfinite(config.layer_norm_eps) && config.layer_norm_eps > 0);
	}
	json_object_put(tokenizer_json);
	json_object_put(config_json);
	return 0;
}
