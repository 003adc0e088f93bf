/*
 * model.h - a question-answering checkpoint (BERT, DistilBERT, ELECTRA,
 * RoBERTa or XLM-RoBERTa) loaded from a directory in Hugging Face layout: config.json,
 * the tokenizer's files (model_tokenizer.h), model.safetensors (or
 * pytorch_model.bin) and optionally tokenizer_config.json; or from a NeMo
 * archive (.nemo, BERT), unpacked once into such a directory.
 *
 * F32 weights point straight into the read-only shared mapping of
 * model.safetensors, so every process that loads the same file shares one
 * physical copy through the page cache.
 */
#ifndef BQ_MODEL_H
#define BQ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"
#include "tokenizer.h"
#include "vocab.h"

/*
 * Post-processing settings a checkpoint ships (a NeMo config's dataset
 * section, kept in config.json as "bertqa_qa_defaults"); a field is 0, or
 * its has_ flag false, when the checkpoint does not give it.
 */
typedef struct BqQaDefaults
{
	int32_t		max_seq_len;
	int32_t		doc_stride;
	int32_t		max_query_len;
	int32_t		max_answer_len;
	int32_t		n_best;
	bool		has_null_threshold;
	double		null_threshold;
	bool		has_allow_no_answer;
	bool		allow_no_answer;	/* NeMo's version_2_with_negative */
} BqQaDefaults;

/*
 * The architectures bertqa runs, by config.json's "model_type": BERT; DistilBERT
 * (no token types, weights named its own way); ELECTRA's discriminator
 * (BERT's layers after embeddings of their own width E, projected to H);
 * RoBERTa and XLM-RoBERTa (BERT's layers under "roberta.", positions
 * counted from pad_token_id + 1; byte-level BPE or SentencePiece text).
 */
typedef enum BqFamily
{
	BQ_FAMILY_BERT,
	BQ_FAMILY_DISTILBERT,
	BQ_FAMILY_ELECTRA,
	BQ_FAMILY_ROBERTA,
	BQ_FAMILY_XLM_ROBERTA
} BqFamily;

#define BQ_FAMILIES 5

/* config.json's "model_type" of a family: "bert", "distilbert", ... (model_config.c). */
const char *bq_family_name(BqFamily family);

typedef struct BqConfig
{
	BqFamily	family;
	int32_t		vocab_size;
	int32_t		embedding_size;		/* E: width of the embeddings, H but in ELECTRA */
	int32_t		hidden_size;		/* H */
	int32_t		num_layers;
	int32_t		num_heads;
	int32_t		intermediate_size;	/* I */
	int32_t		max_position_embeddings;
	int32_t		position_offset;	/* row of the first token's position: pad_token_id + 1 in
									 * RoBERTa, else 0 */
	int32_t		type_vocab_size;	/* 0: the model has no token types (DistilBERT) */
	float		layer_norm_eps;
	bool		lowercase;			/* do_lower_case: uncased tokenizer */
	BqQaDefaults qa_defaults;
} BqConfig;

/* The longest sequence the position table holds. */
static inline int32_t
bq_config_max_tokens(const BqConfig *config)
{
	return config->max_position_embeddings - config->position_offset;
}

/*
 * One transformer layer.  Linear weights keep PyTorch's [out][in] layout;
 * shapes use H = hidden_size, I = intermediate_size.
 */
typedef struct BqLayerWeights
{
	const float *query_w;		/* [H][H] */
	const float *query_b;		/* [H] */
	const float *key_w;			/* [H][H] */
	const float *key_b;			/* [H] */
	const float *value_w;		/* [H][H] */
	const float *value_b;		/* [H] */
	const float *attn_out_w;	/* [H][H] */
	const float *attn_out_b;	/* [H] */
	const float *attn_ln_gamma;	/* [H] */
	const float *attn_ln_beta;	/* [H] */
	const float *ffn_in_w;		/* [I][H] */
	const float *ffn_in_b;		/* [I] */
	const float *ffn_out_w;		/* [H][I] */
	const float *ffn_out_b;		/* [H] */
	const float *ffn_ln_gamma;	/* [H] */
	const float *ffn_ln_beta;	/* [H] */
} BqLayerWeights;

typedef struct BqWeights
{
	const float *word_embeddings;		/* [vocab_size][E] */
	const float *position_embeddings;	/* [max_position_embeddings][E] */
	const float *token_type_embeddings;	/* [type_vocab_size][E], NULL without token types */
	const float *embed_ln_gamma;		/* [E] */
	const float *embed_ln_beta;			/* [E] */
	const float *embed_project_w;		/* [H][E] where E != H (ELECTRA), else NULL */
	const float *embed_project_b;		/* [H] */
	BqLayerWeights *layers;				/* [num_layers] */
	const float *qa_w;					/* [2][H]: row 0 start, row 1 end */
	const float *qa_b;					/* [2] */
} BqWeights;

typedef struct BqModel
{
	char	   *path;			/* the directory (or .nemo file) it was loaded from */
	const char *format;			/* "safetensors", "pytorch" or "nemo" */
	const char *dtype;			/* dtype of the stored weights: "F32", "F16", "BF16" or "mixed" */
	BqConfig	config;
	BqWeights	weights;
	BqVocab    *vocab;			/* the WordPiece vocabulary the tokenizer borrows, else NULL */
	BqTokenizer *tokenizer;
	int64_t		parameter_count;	/* elements of the tensors the encoder uses */
	size_t		bytes_mapped;		/* size of the shared mapping */
	void	   *mapping;			/* the mmap of model.safetensors (or of its fp32 cache copy) */
	float	   *converted;			/* private fp32 copy of F16/BF16 weights, else NULL */
	char	   *cache_path;			/* the fp32 cache copy 'mapping' maps, else NULL */
	size_t		bytes_converted;	/* fp32 bytes made from weights not usable in place */
	char	   *cache_dir;			/* BqModelLoadOptions.cache_dir (copied), else NULL */
	struct BqSafetensors *file;	/* owns 'mapping' */
} BqModel;

/* A tensor the encoder reads: its canonical Hugging Face name and shape. */
typedef struct BqWeightSpec
{
	char		name[96];		/* e.g. "bert.encoder.layer.0.attention.self.query.weight" */
	int			ndim;			/* 1 or 2 */
	int64_t		shape[2];		/* [ndim] */
} BqWeightSpec;

typedef struct BqModelLoadOptions
{
	/*
	 * Where F16/BF16 weights (and F32 ones not 4-byte aligned in the file)
	 * are converted to an fp32 safetensors file once, then mapped shared by
	 * every process like an F32 model.  The file's name derives from the
	 * source's path, size, mtime and inode, so a changed model is never
	 * served stale.  NULL converts into private memory instead.  Encoders
	 * keep the weights they pack for their kernels here too.
	 */
	const char *cache_dir;
} BqModelLoadOptions;

/*
 * Load the model directory or .nemo file 'dir'; NULL on failure with 'err'
 * filled.
 * The tokenizer's vocabulary must have exactly config.json's vocab_size
 * tokens (model_tokenizer.h).
 */
BqModel    *bq_model_load(const char *dir, BqError *err);
BqModel    *bq_model_load_with(const char *dir, const BqModelLoadOptions *options,
							   BqError *err);
void		bq_model_free(BqModel *model);

/*
 * The tensors a model with 'config' needs, in the order they are bound
 * (embeddings, layers, QA head); *count gets their number.  malloc'd; NULL
 * when out of memory.
 */
BqWeightSpec *bq_model_weight_specs(const BqConfig *config, int *count);

/* The fp32 data of weight number 'index' of that list, as bound in 'model'. */
const float *bq_model_weight(const BqModel *model, int index);

/*
 * Where a weight's floats come from when a weight set is written: the bytes
 * of its 'elements' floats (not necessarily aligned), either existing data
 * or 'scratch' (room for the largest weight) after filling it; NULL fails
 * the write with 'err' set.
 */
typedef const void *(*BqWeightSource) (int index, const BqWeightSpec *spec, size_t elements,
										float *scratch, void *arg, BqError *err);

/*
 * Write the weights a model with 'config' needs, F32 under their canonical
 * names and in binding order, to the safetensors file 'path' (atomically:
 * a temporary file renamed into place), asking 'source' for each.
 * 'metadata' is NULL or a NULL-terminated key, value, ... list.
 */
int			bq_model_write_weights(const char *path, const BqConfig *config,
								   const char *const *metadata,
								   BqWeightSource source, void *arg, BqError *err);

#endif							/* BQ_MODEL_H */
