/*
 * model.h - a BERT question-answering checkpoint loaded from a directory in
 * Hugging Face layout: config.json, vocab.txt, model.safetensors and
 * optionally tokenizer_config.json.
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

typedef struct BqConfig
{
	int32_t		vocab_size;
	int32_t		hidden_size;		/* H */
	int32_t		num_layers;
	int32_t		num_heads;
	int32_t		intermediate_size;	/* I */
	int32_t		max_position_embeddings;
	int32_t		type_vocab_size;
	float		layer_norm_eps;
	bool		lowercase;			/* do_lower_case: uncased tokenizer */
} BqConfig;

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
	const float *word_embeddings;		/* [vocab_size][H] */
	const float *position_embeddings;	/* [max_position_embeddings][H] */
	const float *token_type_embeddings;	/* [type_vocab_size][H] */
	const float *embed_ln_gamma;		/* [H] */
	const float *embed_ln_beta;			/* [H] */
	BqLayerWeights *layers;				/* [num_layers] */
	const float *qa_w;					/* [2][H]: row 0 start, row 1 end */
	const float *qa_b;					/* [2] */
} BqWeights;

typedef struct BqModel
{
	char	   *path;			/* the directory it was loaded from */
	const char *format;			/* "safetensors" */
	const char *dtype;			/* dtype of the stored weights: "F32", "F16", "BF16" */
	BqConfig	config;
	BqWeights	weights;
	BqVocab    *vocab;
	BqTokenizer *tokenizer;
	int64_t		parameter_count;	/* elements of the tensors the encoder uses */
	size_t		bytes_mapped;		/* size of the shared mapping */
	void	   *mapping;			/* the mmap of model.safetensors */
	float	   *converted;			/* fp32 copy of F16/BF16 weights, else NULL */
} BqModel;

/* Load the model directory 'dir'; NULL on failure with 'err' filled. */
BqModel    *bq_model_load(const char *dir, BqError *err);
void		bq_model_free(BqModel *model);

#endif							/* BQ_MODEL_H */
