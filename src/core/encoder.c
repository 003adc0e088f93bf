/*
 * encoder.c - BERT forward pass with the extractive-QA head, fp32.
 *
 * All sequences of a call are packed one after another into a single
 * [tokens][H] activation matrix: the position-wise parts (projections,
 * feed-forward, LayerNorm) run as one matrix product over every token of
 * the batch, and attention runs per sequence and head over exactly that
 * sequence's keys.  So no token is ever padding, a batch costs what its
 * sequences cost, and each sequence sees the same keys as when run alone.
 *
 * Weights keep PyTorch's [out][in] layout, so every projection is
 * X · Wᵀ (sgemm with B transposed).  The passes between products (bias,
 * GELU, softmax, residual + LayerNorm, each fused into one pass over rows
 * still in cache) are in kernels.c; their reductions accumulate in double
 * to stay close to the exact result.
 */
#include "encoder.h"

#include <math.h>
#include <stdlib.h>

#include "blas.h"
#include "kernels.h"

struct BqEncoder
{
	const BqModel *model;
	int			token_capacity;	/* rows the activation buffers hold */
	int			seq_capacity;	/* longest sequence 'scores' holds */
	float	   *hidden;			/* [tokens][H]: the layer input and output */
	float	   *qkv;			/* [tokens][3H]: query | key | value */
	float	   *context;		/* [tokens][H]: attention output, heads side by side */
	float	   *sum;			/* [tokens][H]: sublayer output + residual */
	float	   *ffn;			/* [tokens][I]: feed-forward activations */
	float	   *scores;			/* [seq][seq]: one head's attention weights */
	float	   *logits;			/* [tokens][2]: start, end */
	float	   *inv_sum;		/* [seq]: 1 / softmax denominator per query */
};

BqEncoder *
bq_encoder_new(const BqModel *model, BqError *err)
{
	BqEncoder  *enc;

	if (bq_blas_init(err) != BQ_OK)
		return NULL;
	enc = calloc(1, sizeof(BqEncoder));
	if (enc == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory creating an encoder");
		return NULL;
	}
	enc->model = model;
	return enc;
}

/*
 * Drop the activation buffers.
 */
static void
free_workspace(BqEncoder *enc)
{
	free(enc->hidden);
	free(enc->qkv);
	free(enc->context);
	free(enc->sum);
	free(enc->ffn);
	free(enc->scores);
	free(enc->logits);
	free(enc->inv_sum);
	enc->hidden = enc->qkv = enc->context = enc->sum = enc->ffn = enc->scores = enc->logits = NULL;
	enc->inv_sum = NULL;
	enc->token_capacity = 0;
	enc->seq_capacity = 0;
}

void
bq_encoder_free(BqEncoder *enc)
{
	if (enc == NULL)
		return;
	free_workspace(enc);
	free(enc);
}

/*
 * Make room for 'tokens' packed tokens and sequences up to 'seq_len'.
 * Buffers only grow, so steady-state calls allocate nothing.
 */
static int
reserve(BqEncoder *enc, int tokens, int seq_len, BqError *err)
{
	const BqConfig *c = &enc->model->config;
	size_t		h = (size_t) c->hidden_size;
	size_t		n;

	if (tokens <= enc->token_capacity && seq_len <= enc->seq_capacity)
		return BQ_OK;
	if (tokens < enc->token_capacity)
		tokens = enc->token_capacity;
	if (seq_len < enc->seq_capacity)
		seq_len = enc->seq_capacity;
	free_workspace(enc);
	n = (size_t) tokens;
	enc->hidden = malloc(n * h * sizeof(float));
	enc->qkv = malloc(n * 3 * h * sizeof(float));
	enc->context = malloc(n * h * sizeof(float));
	enc->sum = malloc(n * h * sizeof(float));
	enc->ffn = malloc(n * (size_t) c->intermediate_size * sizeof(float));
	enc->scores = malloc((size_t) seq_len * (size_t) seq_len * sizeof(float));
	enc->logits = malloc(n * 2 * sizeof(float));
	enc->inv_sum = malloc((size_t) seq_len * sizeof(float));
	if (enc->hidden == NULL || enc->qkv == NULL || enc->context == NULL || enc->sum == NULL ||
		enc->ffn == NULL || enc->scores == NULL || enc->logits == NULL || enc->inv_sum == NULL)
	{
		free_workspace(enc);
		return bq_fail(err, BQ_ERR_NOMEM,
					   "out of memory for the activations of %d tokens", tokens);
	}
	enc->token_capacity = tokens;
	enc->seq_capacity = seq_len;
	return BQ_OK;
}

/* ---- the forward pass ----------------------------------------------------- */

/*
 * hidden = LayerNorm(word + position + token type embeddings), positions
 * counted from 0 in each sequence.
 */
static void
embed(BqEncoder *enc, int batch, const int32_t *const *input_ids,
	  const int32_t *const *token_type_ids, const int32_t *lengths)
{
	const BqConfig *c = &enc->model->config;
	const BqWeights *w = &enc->model->weights;
	size_t		h = (size_t) c->hidden_size;
	float	   *row = enc->hidden;
	int			tokens = 0;

	for (int b = 0; b < batch; b++)
	{
		for (int p = 0; p < lengths[b]; p++, row += h)
		{
			const float *word = w->word_embeddings + (size_t) input_ids[b][p] * h;
			const float *pos = w->position_embeddings + (size_t) p * h;
			const float *type = w->token_type_embeddings +
				(size_t) (token_type_ids != NULL && token_type_ids[b] != NULL ?
						  token_type_ids[b][p] : 0) * h;

			for (size_t j = 0; j < h; j++)
				row[j] = word[j] + pos[j] + type[j];
		}
		tokens += lengths[b];
	}
	bq_add_layer_norm(enc->hidden, enc->hidden, NULL, NULL, tokens, c->hidden_size,
					  w->embed_ln_gamma, w->embed_ln_beta, c->layer_norm_eps);
}

/*
 * Scaled dot-product attention of one sequence (rows [first, first+len) of
 * qkv), head by head, into the same rows of 'context'.
 */
static void
attend(BqEncoder *enc, int first, int len)
{
	const BqConfig *c = &enc->model->config;
	int			h = c->hidden_size;
	int			d = h / c->num_heads;
	float		scale = (float) (1.0 / sqrt((double) d));
	const float *q0 = enc->qkv + (size_t) first * 3 * h;

	for (int head = 0; head < c->num_heads; head++)
	{
		const float *q = q0 + head * d;
		const float *k = q + h;
		const float *v = q + 2 * h;

		float	   *out = enc->context + (size_t) first * h + head * d;

		/* scores[i][j] = q_i · k_j / √d, softmax over the keys j */
		bq_sgemm(false, true, len, len, d, scale, q, 3 * h, k, 3 * h, 0.0f, enc->scores, len);
		bq_softmax_rows(enc->scores, len, len, enc->inv_sum);
		/* context_i = Σ_j softmax(scores)[i][j] v_j */
		bq_sgemm(false, false, len, d, len, 1.0f, enc->scores, len, v, 3 * h, 0.0f, out, h);
		bq_scale_rows(out, len, d, h, enc->inv_sum);
	}
}

/*
 * One transformer layer over all 'tokens' packed rows of enc->hidden.
 */
static void
run_layer(BqEncoder *enc, const BqLayerWeights *l, int batch, const int32_t *lengths,
		  int tokens)
{
	const BqConfig *c = &enc->model->config;
	int			h = c->hidden_size;
	int			inter = c->intermediate_size;
	int			first = 0;

	/* Q, K and V side by side in one [tokens][3H] matrix */
	bq_sgemm(false, true, tokens, h, h, 1.0f, enc->hidden, h, l->query_w, h, 0.0f, enc->qkv, 3 * h);
	bq_sgemm(false, true, tokens, h, h, 1.0f, enc->hidden, h, l->key_w, h, 0.0f, enc->qkv + h, 3 * h);
	bq_sgemm(false, true, tokens, h, h, 1.0f, enc->hidden, h, l->value_w, h, 0.0f, enc->qkv + 2 * h, 3 * h);
	bq_add_bias(enc->qkv, tokens, h, 3 * h, l->query_b);
	bq_add_bias(enc->qkv + h, tokens, h, 3 * h, l->key_b);
	bq_add_bias(enc->qkv + 2 * h, tokens, h, 3 * h, l->value_b);

	for (int b = 0; b < batch; b++)
	{
		attend(enc, first, lengths[b]);
		first += lengths[b];
	}

	/* hidden = LayerNorm(hidden + context · Woᵀ + bo) */
	bq_sgemm(false, true, tokens, h, h, 1.0f, enc->context, h, l->attn_out_w, h, 0.0f, enc->sum, h);
	bq_add_layer_norm(enc->hidden, enc->sum, l->attn_out_b, enc->hidden, tokens, h,
					  l->attn_ln_gamma, l->attn_ln_beta, c->layer_norm_eps);

	/* hidden = LayerNorm(hidden + GELU(hidden · Wiᵀ + bi) · Wo2ᵀ + bo2) */
	bq_sgemm(false, true, tokens, inter, h, 1.0f, enc->hidden, h, l->ffn_in_w, h, 0.0f, enc->ffn, inter);
	bq_bias_gelu(enc->ffn, tokens, inter, l->ffn_in_b);
	bq_sgemm(false, true, tokens, h, inter, 1.0f, enc->ffn, inter, l->ffn_out_w, inter, 0.0f, enc->sum, h);
	bq_add_layer_norm(enc->hidden, enc->sum, l->ffn_out_b, enc->hidden, tokens, h,
					  l->ffn_ln_gamma, l->ffn_ln_beta, c->layer_norm_eps);
}

/*
 * Check every id and length before any of them indexes a table; sets
 * *tokens and *longest.
 */
static int
check_inputs(const BqConfig *c, int batch, const int32_t *const *input_ids,
			 const int32_t *const *token_type_ids, const int32_t *lengths,
			 float *const *start_logits, float *const *end_logits,
			 int *tokens, int *longest, BqError *err)
{
	int64_t		total = 0;

	if (batch < 1 || input_ids == NULL || lengths == NULL ||
		start_logits == NULL || end_logits == NULL)
		return bq_fail(err, BQ_ERR_INPUT, "the encoder needs at least one sequence");
	*longest = 0;
	for (int b = 0; b < batch; b++)
	{
		const int32_t *types = token_type_ids != NULL ? token_type_ids[b] : NULL;

		if (lengths[b] < 1 || lengths[b] > c->max_position_embeddings)
			return bq_fail(err, BQ_ERR_INPUT,
						   "sequence %d has %d tokens; the model takes 1 to %d",
						   b, (int) lengths[b], (int) c->max_position_embeddings);
		if (input_ids[b] == NULL || start_logits[b] == NULL || end_logits[b] == NULL)
			return bq_fail(err, BQ_ERR_INPUT, "sequence %d has no ids or logit buffers", b);
		for (int p = 0; p < lengths[b]; p++)
		{
			if (input_ids[b][p] < 0 || input_ids[b][p] >= c->vocab_size)
				return bq_fail(err, BQ_ERR_INPUT,
							   "token id %d at position %d of sequence %d is outside the vocabulary (0 to %d)",
							   (int) input_ids[b][p], p, b, (int) c->vocab_size - 1);
			if (types != NULL && (types[p] < 0 || types[p] >= c->type_vocab_size))
				return bq_fail(err, BQ_ERR_INPUT,
							   "token type %d at position %d of sequence %d is outside 0 to %d",
							   (int) types[p], p, b, (int) c->type_vocab_size - 1);
		}
		total += lengths[b];
		if (total > INT32_MAX)
			return bq_fail(err, BQ_ERR_INPUT, "a batch of %d sequences is too large", batch);
		if (lengths[b] > *longest)
			*longest = lengths[b];
	}
	*tokens = (int) total;
	return BQ_OK;
}

int
bq_encoder_run(BqEncoder *enc, int batch,
			   const int32_t *const *input_ids,
			   const int32_t *const *token_type_ids,
			   const int32_t *lengths,
			   float *const *start_logits, float *const *end_logits,
			   const BqInterrupt *intr, BqError *err)
{
	const BqConfig *c = &enc->model->config;
	const BqWeights *w = &enc->model->weights;
	int			tokens = 0;
	int			longest = 0;
	int			rc;
	const float *row;

	if ((rc = check_inputs(c, batch, input_ids, token_type_ids, lengths, start_logits,
						   end_logits, &tokens, &longest, err)) != BQ_OK ||
		(rc = reserve(enc, tokens, longest, err)) != BQ_OK)
		return rc;

	embed(enc, batch, input_ids, token_type_ids, lengths);
	for (int i = 0; i < c->num_layers; i++)
	{
		if (bq_interrupted(intr))
			return bq_fail(err, BQ_ERR_CANCELLED, "the encoder was interrupted");
		run_layer(enc, &w->layers[i], batch, lengths, tokens);
	}

	/* QA head: [start, end] = hidden · Wqaᵀ + bqa */
	bq_sgemm(false, true, tokens, 2, c->hidden_size, 1.0f, enc->hidden, c->hidden_size,
			 w->qa_w, c->hidden_size, 0.0f, enc->logits, 2);
	row = enc->logits;
	for (int b = 0; b < batch; b++)
	{
		for (int p = 0; p < lengths[b]; p++, row += 2)
		{
			start_logits[b][p] = row[0] + w->qa_b[0];
			end_logits[b][p] = row[1] + w->qa_b[1];
		}
	}
	return BQ_OK;
}

/*
 * 2 FLOPs per multiply-add, over every matrix product of the pass:
 * per layer Q/K/V (3SH²), scores and context (2S²H over all heads), the
 * output projection (SH²) and the feed-forward pair (2SHI); then the QA
 * head (2SH).
 */
double
bq_encoder_flops(const BqConfig *config, int seq_len)
{
	double		s = seq_len;
	double		h = config->hidden_size;
	double		inter = config->intermediate_size;
	double		per_layer = 3 * s * h * h + 2 * s * s * h + s * h * h + 2 * s * h * inter;

	return 2.0 * (config->num_layers * per_layer + 2 * s * h);
}
