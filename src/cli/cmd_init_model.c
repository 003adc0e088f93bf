/*
 * cmd_init_model.c - "bertqa init-model": write a randomly initialised
 * question-answering model of any family and size (config.json, the
 * tokenizer's files, model.safetensors, under Hugging Face's names), for
 * benchmarks and tests that need a real-sized model but no real weights.
 *
 * Weights follow BERT's initialisation: N(0, 0.02) matrices and
 * embeddings, LayerNorm gamma 1 and beta 0, zero biases, drawn from a
 * seeded generator so the same options give the same file.  --init random
 * draws gammas (1 + N(0, 0.1)), betas and biases (N(0, 0.1)) too, so that a
 * test comparing logits sees every tensor at work.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_random.h"
#include "file_util.h"
#include "model.h"
#include "model_config.h"
#include "model_tokenizer.h"
#include "safetensors.h"
#include "vocab.h"

#define INIT_STDDEV 0.02
#define RANDOM_INIT_STDDEV 0.1

static void
init_model_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa init-model --out DIR [--family F] [--layers N] [--hidden N] [--heads N]\n"
			"                         [--intermediate N] [--embedding-size N] [--init I]\n"
			"                         [--seed N] [--vocab FILE | --tokenizer DIR]\n\n"
			"Writes a randomly initialised question-answering model to DIR:\n"
			"config.json, the tokenizer's files and model.safetensors (F32), as\n"
			"Hugging Face names them for the family.\n\n"
			"  --out DIR           output directory (created if missing)\n"
			"  --family F          bert, distilbert, electra, roberta or xlm-roberta\n"
			"                      (default bert)\n"
			"  --layers N          transformer layers (default 12)\n"
			"  --hidden N          hidden size (default 768)\n"
			"  --heads N           attention heads (default 12)\n"
			"  --intermediate N    feed-forward size (default 3072)\n"
			"  --embedding-size N  ELECTRA's embedding width (default: the hidden size)\n"
			"  --init I            bert (BERT's initialisation, default) or random\n"
			"                      (gains, betas and biases drawn too)\n"
			"  --seed N            random seed (default 1)\n"
			"  --vocab FILE        WordPiece vocabulary to copy (default: the bundled\n"
			"                      model's, %s/vocab.txt)\n"
			"  --tokenizer DIR     copy the tokenizer files the family reads from DIR\n"
			"                      instead (required for RoBERTa: vocab.json and\n"
			"                      merges.txt; XLM-RoBERTa: sentencepiece.bpe.model)\n"
			"  --help              show this help\n", BQ_BUNDLED_MODEL_DIR);
}

/* Whether 'name' ends with 'suffix'. */
static bool
ends_with(const char *name, const char *suffix)
{
	size_t		len = strlen(name),
				n = strlen(suffix);

	return len >= n && strcmp(name + len - n, suffix) == 0;
}

/*
 * The value BERT initialises weight 'name' with, or NAN for "random".
 */
static double
constant_init(const char *name)
{
	if (ends_with(name, "LayerNorm.weight") || ends_with(name, "layer_norm.weight"))
		return 1.0;
	if (ends_with(name, ".bias"))
		return 0.0;
	return NAN;
}

/* The generator's state while the weights are written. */
typedef struct RandomWeights
{
	CliRandom	rng;
	bool		all_random;		/* --init random */
	int64_t		parameters;		/* floats written so far */
} RandomWeights;

/*
 * Weight 'index': its constant initial value (LayerNorm gains, biases),
 * with --init random plus N(0, RANDOM_INIT_STDDEV) draws, or N(0,
 * INIT_STDDEV) draws, in 'scratch'.
 */
static const void *
random_weight(int index, const BqWeightSpec *spec, size_t elements, float *scratch,
			  void *arg, BqError *err)
{
	RandomWeights *state = arg;
	double		value = constant_init(spec->name);

	for (size_t j = 0; j < elements; j++)
	{
		if (isnan(value))
			scratch[j] = (float) cli_random_normal(&state->rng, INIT_STDDEV);
		else if (state->all_random)
			scratch[j] = (float) (value + cli_random_normal(&state->rng, RANDOM_INIT_STDDEV));
		else
			scratch[j] = (float) value;
	}
	state->parameters += (int64_t) elements;
	return scratch;
}

/*
 * Stream every weight into 'path', generated tensor by tensor.
 */
static int
write_weights(const char *path, const BqConfig *config, uint64_t seed, bool all_random,
			  int64_t *parameters, BqError *err)
{
	char		seed_text[32];
	const char *metadata[] = {"format", "pt", "bertqa_init_seed", seed_text, NULL};
	RandomWeights state = {{seed}, all_random, 0};
	int			rc;

	snprintf(seed_text, sizeof(seed_text), "%llu", (unsigned long long) seed);
	rc = bq_model_write_weights(path, config, metadata, random_weight, &state, err);
	*parameters = state.parameters;
	return rc;
}

/*
 * Write config.json, validated by reading it back as the loader would.
 */
static int
write_config(const char *path, const BqConfig *config, BqError *err)
{
	json_object *obj = bq_config_to_json(config);
	BqConfig	check;
	int			rc;

	if (obj == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory");
	rc = bq_config_from_json(obj, "the requested configuration", NULL, NULL, &check, err);
	if (rc == BQ_OK)
		rc = bq_json_write_file(path, obj, err);
	json_object_put(obj);
	return rc;
}

/*
 * What a family's configs have unlike BERT's: DistilBERT no token types;
 * RoBERTa and XLM-RoBERTa one token type, LayerNorm epsilon 1e-5,
 * positions from pad_token_id (1) + 1 in a table of 514, and case kept.
 */
static void
family_defaults(BqConfig *config)
{
	if (config->family == BQ_FAMILY_DISTILBERT)
		config->type_vocab_size = 0;
	if (config->family == BQ_FAMILY_ROBERTA || config->family == BQ_FAMILY_XLM_ROBERTA)
	{
		config->type_vocab_size = 1;
		config->layer_norm_eps = 1e-5f;
		config->position_offset = 2;
		config->max_position_embeddings = 512 + config->position_offset;
		config->lowercase = false;
	}
}

/*
 * config->vocab_size from the tokenizer to be copied: the family's files
 * in 'tokenizer_dir', else the WordPiece vocabulary 'vocab_path'.  Reports
 * a failure and returns nonzero.
 */
static int
tokenizer_vocab_size(const char *tokenizer_dir, const char *vocab_path, bool vocab_given,
					 BqConfig *config)
{
	BqError		err;
	BqTokenizer *tok = NULL;
	BqVocab    *vocab = NULL;

	config->vocab_size = 0;
	if (tokenizer_dir != NULL)
	{
		if (bq_model_tokenizer_load(tokenizer_dir, config, &tok, &vocab, &err) != BQ_OK)
		{
			cli_report(&err);
			return 1;
		}
		config->vocab_size = bq_tokenizer_vocab_size(tok);
		bq_tokenizer_free(tok);
		bq_vocab_free(vocab);
		return 0;
	}
	if ((vocab = bq_vocab_load(vocab_path, &err)) == NULL)
	{
		cli_report(&err);
		if (!vocab_given)
			fprintf(stderr, "HINT: the bundled vocabulary is missing; pass --vocab FILE\n");
		return 1;
	}
	config->vocab_size = bq_vocab_size(vocab);
	bq_vocab_free(vocab);
	return 0;
}

int
cmd_init_model(int argc, char **argv)
{
	const char *out_dir = NULL;
	const char *vocab_path = BQ_BUNDLED_MODEL_DIR "/vocab.txt";
	bool		vocab_given = false;
	const char *tokenizer_dir = NULL;
	int			seed = 1;
	BqConfig	config = {.family = BQ_FAMILY_BERT, .hidden_size = 768, .num_layers = 12,
		.num_heads = 12, .intermediate_size = 3072, .max_position_embeddings = 512,
	.type_vocab_size = 2, .layer_norm_eps = 1e-12f, .lowercase = true};
	int32_t		embedding_size = 0;
	bool		all_random = false;
	BqError		err;
	char	   *path;
	int64_t		parameters = 0;
	int			rc;

	for (int i = 1; i < argc; i++)
	{
		const char *opt = argv[i];
		bool		ok = true;

		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)
		{
			init_model_usage(stdout);
			return 0;
		}
		if (i + 1 >= argc)
			return cli_usage_error("init-model", "unexpected argument \"%s\" (see --help)", opt);
		if (strcmp(opt, "--out") == 0)
			out_dir = argv[++i];
		else if (strcmp(opt, "--vocab") == 0)
		{
			vocab_path = argv[++i];
			vocab_given = true;
		}
		else if (strcmp(opt, "--tokenizer") == 0)
			tokenizer_dir = argv[++i];
		else if (strcmp(opt, "--layers") == 0)
			ok = cli_parse_int("init-model", opt, argv[++i], 1, BQ_MAX_LAYERS, &config.num_layers);
		else if (strcmp(opt, "--hidden") == 0)
			ok = cli_parse_int("init-model", opt, argv[++i], 1, BQ_MAX_HIDDEN_SIZE, &config.hidden_size);
		else if (strcmp(opt, "--heads") == 0)
			ok = cli_parse_int("init-model", opt, argv[++i], 1, BQ_MAX_HEADS, &config.num_heads);
		else if (strcmp(opt, "--intermediate") == 0)
			ok = cli_parse_int("init-model", opt, argv[++i], 1, BQ_MAX_INTERMEDIATE_SIZE,
							   &config.intermediate_size);
		else if (strcmp(opt, "--embedding-size") == 0)
			ok = cli_parse_int("init-model", opt, argv[++i], 1, BQ_MAX_HIDDEN_SIZE, &embedding_size);
		else if (strcmp(opt, "--family") == 0)
		{
			const char *name = argv[++i];

			ok = false;
			for (int f = 0; f < BQ_FAMILIES && !ok; f++)
				if ((ok = strcmp(name, bq_family_name((BqFamily) f)) == 0))
					config.family = (BqFamily) f;
			if (!ok)
				return cli_usage_error("init-model",
									   "--family must be bert, distilbert, electra, roberta or xlm-roberta, not \"%s\"",
									   name);
		}
		else if (strcmp(opt, "--init") == 0)
		{
			const char *init = argv[++i];

			if (strcmp(init, "bert") != 0 && strcmp(init, "random") != 0)
				return cli_usage_error("init-model", "--init must be bert or random, not \"%s\"", init);
			all_random = strcmp(init, "random") == 0;
		}
		else if (strcmp(opt, "--seed") == 0)
			ok = cli_parse_int("init-model", opt, argv[++i], 0, INT32_MAX, &seed);
		else
			return cli_usage_error("init-model", "unexpected argument \"%s\" (see --help)", opt);
		if (!ok)
			return 2;
	}
	if (out_dir == NULL)
		return cli_usage_error("init-model", "--out DIR is required (see --help)");
	if (config.hidden_size % config.num_heads != 0)
		return cli_usage_error("init-model", "--hidden %d is not a multiple of --heads %d",
							   config.hidden_size, config.num_heads);
	if (embedding_size != 0 && config.family != BQ_FAMILY_ELECTRA)
		return cli_usage_error("init-model", "--embedding-size is an ELECTRA option");
	if (vocab_given && tokenizer_dir != NULL)
		return cli_usage_error("init-model", "give --vocab FILE or --tokenizer DIR, not both");
	if ((config.family == BQ_FAMILY_ROBERTA || config.family == BQ_FAMILY_XLM_ROBERTA) &&
		tokenizer_dir == NULL)
		return cli_usage_error("init-model", "--family %s needs --tokenizer DIR (see --help)",
							   bq_family_name(config.family));
	config.embedding_size = embedding_size != 0 ? embedding_size : config.hidden_size;
	family_defaults(&config);
	if (tokenizer_vocab_size(tokenizer_dir, vocab_path, vocab_given, &config) != 0)
		return 1;

	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
	{
		fprintf(stderr, "bertqa init-model: could not create \"%s\": %s\n", out_dir, strerror(errno));
		return 1;
	}

	path = bq_model_path(out_dir, "config.json");
	rc = path != NULL ? write_config(path, &config, &err) : bq_fail(&err, BQ_ERR_NOMEM, "out of memory");
	free(path);
	if (rc == BQ_OK && tokenizer_dir != NULL)
		rc = bq_model_tokenizer_copy(tokenizer_dir, out_dir, &err);
	else if (rc == BQ_OK)
	{
		path = bq_model_path(out_dir, "vocab.txt");
		rc = path != NULL ? bq_copy_file(vocab_path, path, &err) : bq_fail(&err, BQ_ERR_NOMEM, "out of memory");
		free(path);
	}
	if (rc == BQ_OK)
	{
		path = bq_model_path(out_dir, "model.safetensors");
		rc = path != NULL ? write_weights(path, &config, (uint64_t) seed, all_random, &parameters, &err) :
			bq_fail(&err, BQ_ERR_NOMEM, "out of memory");
		free(path);
	}
	if (rc != BQ_OK)
	{
		cli_report(&err);
		return 1;
	}
	printf("wrote %s: %s, %d layers, hidden %d, %d heads, intermediate %d, vocabulary %d, "
		   "%lld parameters\n", out_dir, bq_family_name(config.family), config.num_layers,
		   config.hidden_size, config.num_heads, config.intermediate_size, config.vocab_size,
		   (long long) parameters);
	return 0;
}
