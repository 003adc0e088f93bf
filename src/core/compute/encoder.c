/*
 * encoder.c - the forward pass of BERT (and of DistilBERT and ELECTRA,
 * which differ only in their embeddings) with the extractive-QA head.
 *
 * All sequences of a call are packed one after another into a single
 * [tokens][H] activation matrix: the position-wise parts (projections,
 * feed-forward, LayerNorm) run as one matrix product over every token of
 * the batch, and attention runs per sequence and head over exactly that
 * sequence's keys.  So no token is ever padding, a batch costs what its
 * sequences cost, and each sequence sees the same keys as when run alone.
 *
 * On oneDNN (see compute.h) the projections run on weights packed once,
 * Q/K/V as one product, the bias added as results are stored (GELU and
 * its bias by a pass of kernels.c right after), each product spread over
 * OpenMP's threads by oneDNN; the encoder spreads the (sequence, head)
 * pairs of attention (attention.c) and the rows of LayerNorm over the
 * same threads.  On OpenBLAS the weights keep PyTorch's [out][in] layout,
 * so every projection is X · Wᵀ (sgemm with B transposed), and the passes
 * between products are in kernels.c.  Reductions (softmax,
 * LayerNorm) accumulate in double on both to stay close to the exact
 * result.
 */
#include "encoder.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "aligned_memory.h"
#include "attention.h"
#include "blas.h"
#include "compute.h"
#include "kernels.h"
#include "onednn.h"
#include "packed_weights.h"

struct BqEncoder
{
	const BqModel *model;
	BqPackedWeights *packed;	/* oneDNN's weights; NULL on OpenBLAS */
	BqLinearKernels *kernels;	/* oneDNN's compiled products; NULL on OpenBLAS */
	BqPrecision precision;		/* of the projections; fp32 on OpenBLAS */
	int			token_capacity;	/* rows the activation buffers hold */
	int			seq_capacity;	/* longest sequence 'attention' has room for */
	int			thread_capacity;	/* threads 'attention' has room for */
	float	   *embedded;		/* [tokens][E]: embeddings before their projection; NULL if E = H */
	float	   *hidden;			/* [tokens][H]: the layer input and output */
	float	   *qkv;			/* [tokens][3H]: query | key | value */
	float	   *context;		/* [tokens][H]: attention output, heads side by side */
	float	   *sum;			/* [tokens][H]: sublayer output before LayerNorm */
	float	   *ffn;			/* [tokens][I]: feed-forward activations */
	float	   *attention;		/* [threads][attention_floats]: bq_attend_head's scratch */
	size_t		attention_floats;	/* per thread */
	float	   *logits;			/* [tokens][2]: start, end */
};

/* The sequences of one call, packed one after another. */
typedef struct Batch
{
	int			count;
	const int32_t *lengths;		/* [count] */
	int			tokens;			/* Σ lengths */
} Batch;

BqEncoder *
bq_encoder_new(const BqModel *model, BqPrecision precision, BqError *err)
{
	BqEncoder  *enc;

	if (bq_compute_init(err) != BQ_OK)
		return NULL;
	enc = calloc(1, sizeof(BqEncoder));
	if (enc == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory creating an encoder");
		return NULL;
	}
	enc->model = model;
	enc->precision = bq_compute_runs(precision) ? precision : BQ_PRECISION_FP32;
	if (bq_compute_engine() == BQ_ENGINE_ONEDNN &&
		((enc->kernels = bq_linear_kernels_new(err)) == NULL ||
		 (enc->packed = bq_packed_weights_open(model, model->cache_dir, enc->precision,
											   err)) == NULL))
	{
		bq_encoder_free(enc);
		return NULL;
	}
	return enc;
}

/*
 * Drop the activation buffers.
 */
static void
free_workspace(BqEncoder *enc)
{
	free(enc->embedded);
	free(enc->hidden);
	free(enc->qkv);
	free(enc->context);
	free(enc->sum);
	free(enc->ffn);
	free(enc->attention);
	free(enc->logits);
	enc->embedded = enc->hidden = enc->qkv = enc->context = enc->sum = enc->ffn = NULL;
	enc->attention = enc->logits = NULL;
	enc->token_capacity = 0;
	enc->seq_capacity = 0;
	enc->thread_capacity = 0;
}

void
bq_encoder_free(BqEncoder *enc)
{
	if (enc == NULL)
		return;
	free_workspace(enc);
	bq_packed_weights_free(enc->packed);
	bq_linear_kernels_free(enc->kernels);
	free(enc);
}

/*
 * 'count' zeroed floats on a cache line (see aligned_memory.h), so that
 * every row of the activations starts one.  Rows past the tokens start
 * zeroed so that they never hold garbage that could trap.
 */
static float *
alloc_floats(size_t count)
{
	float	   *floats = bq_alloc_aligned(count * sizeof(float));

	if (floats != NULL)
		memset(floats, 0, count * sizeof(float));
	return floats;
}

/*
 * Make room for 'tokens' packed tokens (rounded up as oneDNN's products
 * want), sequences up to 'seq_len' and one attention scratch per OpenMP
 * thread.  Buffers only grow, so steady-state calls allocate nothing.
 */
static int
reserve(BqEncoder *enc, int tokens, int seq_len, BqError *err)
{
	const BqConfig *c = &enc->model->config;
	size_t		h = (size_t) c->hidden_size;
	int			threads = omp_get_max_threads();
	size_t		n,
				attention_floats;

	if (enc->packed != NULL)
		tokens = bq_onednn_padded_rows(tokens);
	if (tokens <= enc->token_capacity && seq_len <= enc->seq_capacity &&
		threads <= enc->thread_capacity)
		return BQ_OK;
	if (tokens < enc->token_capacity)
		tokens = enc->token_capacity;
	if (seq_len < enc->seq_capacity)
		seq_len = enc->seq_capacity;
	if (threads < enc->thread_capacity)
		threads = enc->thread_capacity;
	free_workspace(enc);
	n = (size_t) tokens;
	attention_floats = bq_attention_scratch_floats(seq_len, c->hidden_size / c->num_heads);
	if (c->embedding_size != c->hidden_size &&
		(enc->embedded = alloc_floats(n * (size_t) c->embedding_size)) == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory for the embeddings of %d tokens", tokens);
	enc->hidden = alloc_floats(n * h);
	enc->qkv = alloc_floats(n * 3 * h);
	enc->context = alloc_floats(n * h);
	enc->sum = alloc_floats(n * h);
	enc->ffn = alloc_floats(n * (size_t) c->intermediate_size);
	enc->attention = alloc_floats((size_t) threads * attention_floats);
	enc->logits = alloc_floats(n * 2);
	if (enc->hidden == NULL || enc->qkv == NULL || enc->context == NULL || enc->sum == NULL ||
		enc->ffn == NULL || enc->attention == NULL || enc->logits == NULL)
	{
		free_workspace(enc);
		return bq_fail(err, BQ_ERR_NOMEM,
					   "out of memory for the activations of %d tokens", tokens);
	}
	enc->token_capacity = tokens;
	enc->attention_floats = attention_floats;
	enc->seq_capacity = seq_len;
	enc->thread_capacity = threads;
	return BQ_OK;
}

/* ---- the forward pass ----------------------------------------------------- */

/*
 * out = LayerNorm(x + residual) * gamma + beta over 'rows' rows of 'width'
 * (see bq_add_layer_norm), the rows split among the threads.
 */
static void
layer_norm(BqEncoder *enc, float *out, float *x, const float *residual, int rows, int width,
		   const float *gamma, const float *beta)
{
	const BqConfig *c = &enc->model->config;
	size_t		h = (size_t) width;

#pragma omp parallel
	{
		int			first,
					end;

		bq_thread_share(rows, &first, &end);
		if (end > first)
			bq_add_layer_norm(out + first * h, x + first * h, NULL,
							  residual != NULL ? residual + first * h : NULL,
							  end - first, width, gamma, beta, c->layer_norm_eps);
	}
}

/*
 * out = in · Wᵀ (W [n][k], out's rows 'ld_out' apart) on OpenBLAS, over
 * each sequence's rows on their own.  OpenBLAS picks its kernels by row
 * count, so one product over the whole batch would give a sequence results
 * that depend on the sequences beside it; this way a sequence's logits are
 * the same, to the bit, in any batch (oneDNN's products already are: their
 * rows never depend on each other).
 */
static void
product_per_sequence(const Batch *batch, const float *in, int k, const float *w, int n,
					 float *out, int ld_out)
{
	for (int b = 0; b < batch->count; b++)
	{
		int			rows = batch->lengths[b];

		bq_sgemm(false, true, rows, n, k, 1.0f, in, k, w, k, 0.0f, out, ld_out);
		in += (size_t) rows * k;
		out += (size_t) rows * ld_out;
	}
}

/*
 * hidden = LayerNorm(word + position + token type embeddings), positions
 * counted from 0 in each sequence (from pad_token_id + 1 in RoBERTa: the
 * rows Hugging Face's create_position_ids_from_input_ids gives a sequence
 * without padding), token types where the model has them;
 * where the embeddings are narrower or wider than H (ELECTRA), then
 * projected: hidden = embedded · Wpᵀ + bp.
 */
static void
embed(BqEncoder *enc, const Batch *batch, const int32_t *const *input_ids,
	  const int32_t *const *token_type_ids)
{
	const BqConfig *c = &enc->model->config;
	const BqWeights *w = &enc->model->weights;
	size_t		e = (size_t) c->embedding_size;
	float	   *out = enc->embedded != NULL ? enc->embedded : enc->hidden;
	float	   *row = out;

	for (int b = 0; b < batch->count; b++)
	{
		const int32_t *types = token_type_ids != NULL ? token_type_ids[b] : NULL;

		for (int p = 0; p < batch->lengths[b]; p++, row += e)
		{
			const float *word = w->word_embeddings + (size_t) input_ids[b][p] * e;
			const float *pos = w->position_embeddings + (size_t) (p + c->position_offset) * e;

			for (size_t j = 0; j < e; j++)
				row[j] = word[j] + pos[j];
			if (w->token_type_embeddings != NULL)
			{
				const float *type = w->token_type_embeddings + (size_t) (types != NULL ? types[p] : 0) * e;

				for (size_t j = 0; j < e; j++)
					row[j] += type[j];
			}
		}
	}
	layer_norm(enc, out, out, NULL, batch->tokens, (int) e, w->embed_ln_gamma, w->embed_ln_beta);
	if (enc->embedded != NULL)
	{
		product_per_sequence(batch, enc->embedded, (int) e, w->embed_project_w, c->hidden_size,
							 enc->hidden, c->hidden_size);
		bq_add_bias(enc->hidden, batch->tokens, c->hidden_size, c->hidden_size,
					w->embed_project_b);
	}
}

/*
 * Attention of one head over one sequence, rows [first, first+len) of qkv
 * into the same rows of 'context', in the calling thread's scratch.
 */
static void
attend(BqEncoder *enc, int first, int len, int head)
{
	const BqConfig *c = &enc->model->config;
	int			h = c->hidden_size;
	int			d = h / c->num_heads;
	const float *q = enc->qkv + (size_t) first * 3 * h + head * d;

	bq_attend_head(bq_compute_engine(), q, q + h, q + 2 * h, 3 * h, len, d,
				   (float) (1.0 / sqrt((double) d)), enc->precision != BQ_PRECISION_FP32,
				   enc->context + (size_t) first * h + head * d, h,
				   enc->attention + omp_get_thread_num() * enc->attention_floats);
}

/*
 * Attention of every head of every sequence, the (sequence, head) pairs
 * shared among the threads.
 */
static void
attend_all(BqEncoder *enc, const Batch *batch)
{
	const int32_t *lengths = batch->lengths;
	int			heads = enc->model->config.num_heads;
	int			pairs = batch->count * heads;

#pragma omp parallel for schedule(dynamic)
	for (int pair = 0; pair < pairs; pair++)
	{
		int			b = pair / heads;
		int			first = 0;

		for (int i = 0; i < b; i++)
			first += lengths[i];
		attend(enc, first, lengths[b], pair % heads);
	}
}

/*
 * out[tokens][n] = epilogue(in · Wᵀ + bias) over the batch's rows: on
 * oneDNN from the packed weight 'packed' (writing rows of exactly n), on
 * OpenBLAS from the model's 'w' ([n][k]) and 'bias' (writing rows 'ld_out'
 * apart).
 */
static int
project(BqEncoder *enc, const BqPackedLinear *packed, const float *w, const float *bias,
		int k, int n, const float *in, const Batch *batch, BqEpilogue epilogue,
		float *out, int ld_out, BqError *err)
{
	if (enc->packed != NULL)
		return bq_linear(enc->kernels, batch->tokens, k, n, enc->precision, in,
						 packed->weights, packed->bias, packed->scales, epilogue, out, err);
	product_per_sequence(batch, in, k, w, n, out, ld_out);
	if (epilogue == BQ_EPILOGUE_BIAS_GELU)
		bq_bias_gelu(out, batch->tokens, n, bias);
	else
		bq_add_bias(out, batch->tokens, n, ld_out, bias);
	return BQ_OK;
}

/*
 * qkv = hidden · [Wq; Wk; Wv]ᵀ + [bq; bk; bv]: one product on the packed,
 * fused weight, or three into the column blocks of qkv.
 */
static int
project_qkv(BqEncoder *enc, int layer, const Batch *batch, BqError *err)
{
	const BqLayerWeights *l = &enc->model->weights.layers[layer];
	int			h = enc->model->config.hidden_size;
	const float *w[3] = {l->query_w, l->key_w, l->value_w};
	const float *bias[3] = {l->query_b, l->key_b, l->value_b};
	int			rc = BQ_OK;

	if (enc->packed != NULL)
		return project(enc, &enc->packed->layers[layer].qkv, NULL, NULL, h, 3 * h,
					   enc->hidden, batch, BQ_EPILOGUE_BIAS, enc->qkv, 3 * h, err);
	for (int i = 0; i < 3 && rc == BQ_OK; i++)
		rc = project(enc, NULL, w[i], bias[i], h, h, enc->hidden, batch, BQ_EPILOGUE_BIAS,
					 enc->qkv + i * h, 3 * h, err);
	return rc;
}

/*
 * One transformer layer over all the batch's packed rows of enc->hidden.
 */
static int
run_layer(BqEncoder *enc, int layer, const Batch *batch, BqError *err)
{
	const BqConfig *c = &enc->model->config;
	const BqLayerWeights *l = &enc->model->weights.layers[layer];
	const BqPackedLayer *p = enc->packed != NULL ? &enc->packed->layers[layer] : NULL;
	int			h = c->hidden_size;
	int			inter = c->intermediate_size;
	int			rc;

	if ((rc = project_qkv(enc, layer, batch, err)) != BQ_OK)
		return rc;
	attend_all(enc, batch);

	/* hidden = LayerNorm(hidden + context · Woᵀ + bo) */
	if ((rc = project(enc, p != NULL ? &p->attn_out : NULL, l->attn_out_w, l->attn_out_b,
					  h, h, enc->context, batch, BQ_EPILOGUE_BIAS, enc->sum, h, err)) != BQ_OK)
		return rc;
	layer_norm(enc, enc->hidden, enc->sum, enc->hidden, batch->tokens, h, l->attn_ln_gamma,
			   l->attn_ln_beta);

	/* hidden = LayerNorm(hidden + GELU(hidden · Wiᵀ + bi) · Wo2ᵀ + bo2) */
	if ((rc = project(enc, p != NULL ? &p->ffn_in : NULL, l->ffn_in_w, l->ffn_in_b,
					  h, inter, enc->hidden, batch, BQ_EPILOGUE_BIAS_GELU, enc->ffn, inter,
					  err)) != BQ_OK ||
		(rc = project(enc, p != NULL ? &p->ffn_out : NULL, l->ffn_out_w, l->ffn_out_b,
					  inter, h, enc->ffn, batch, BQ_EPILOGUE_BIAS, enc->sum, h, err)) != BQ_OK)
		return rc;
	layer_norm(enc, enc->hidden, enc->sum, enc->hidden, batch->tokens, h, l->ffn_ln_gamma,
			   l->ffn_ln_beta);
	return BQ_OK;
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

		if (lengths[b] < 1 || lengths[b] > bq_config_max_tokens(c))
			return bq_fail(err, BQ_ERR_INPUT,
						   "sequence %d has %d tokens; the model takes 1 to %d",
						   b, (int) lengths[b], (int) bq_config_max_tokens(c));
		if (input_ids[b] == NULL || start_logits[b] == NULL || end_logits[b] == NULL)
			return bq_fail(err, BQ_ERR_INPUT, "sequence %d has no ids or logit buffers", b);
		for (int p = 0; p < lengths[b]; p++)
		{
			if (input_ids[b][p] < 0 || input_ids[b][p] >= c->vocab_size)
				return bq_fail(err, BQ_ERR_INPUT,
							   "token id %d at position %d of sequence %d is outside the vocabulary (0 to %d)",
							   (int) input_ids[b][p], p, b, (int) c->vocab_size - 1);
			if (types != NULL && c->type_vocab_size > 0 &&
				(types[p] < 0 || types[p] >= c->type_vocab_size))
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
bq_encoder_run(BqEncoder *enc, int count,
			   const int32_t *const *input_ids,
			   const int32_t *const *token_type_ids,
			   const int32_t *lengths,
			   float *const *start_logits, float *const *end_logits,
			   const BqInterrupt *intr, BqError *err)
{
	const BqConfig *c = &enc->model->config;
	const BqWeights *w = &enc->model->weights;
	Batch		batch = {.count = count, .lengths = lengths};
	int			longest = 0;
	int			rc;
	const float *row;

	if ((rc = check_inputs(c, count, input_ids, token_type_ids, lengths, start_logits,
						   end_logits, &batch.tokens, &longest, err)) != BQ_OK ||
		(rc = reserve(enc, batch.tokens, longest, err)) != BQ_OK)
		return rc;

	embed(enc, &batch, input_ids, token_type_ids);
	for (int i = 0; i < c->num_layers; i++)
	{
		if (bq_interrupted(intr))
			return bq_fail(err, BQ_ERR_CANCELLED, "the encoder was interrupted");
		if ((rc = run_layer(enc, i, &batch, err)) != BQ_OK)
			return rc;
	}

	/* QA head: [start, end] = hidden · Wqaᵀ + bqa */
	product_per_sequence(&batch, enc->hidden, c->hidden_size, w->qa_w, 2, enc->logits, 2);
	row = enc->logits;
	for (int b = 0; b < count; b++)
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
 * 2 FLOPs per multiply-add, over every matrix product of the pass: the
 * embeddings' projection where E != H (SEH); per layer Q/K/V (3SH²),
 * scores and context (2S²H over all heads), the output projection (SH²)
 * and the feed-forward pair (2SHI); then the QA head (2SH).
 */
double
bq_encoder_flops(const BqConfig *config, int seq_len)
{
	double		s = seq_len;
	double		h = config->hidden_size;
	double		e = config->embedding_size;
	double		inter = config->intermediate_size;
	double		per_layer = 3 * s * h * h + 2 * s * s * h + s * h * h + 2 * s * h * inter;
	double		projection = e != h ? s * e * h : 0.0;

	return 2.0 * (projection + config->num_layers * per_layer + 2 * s * h);
}

BqPrecision
bq_encoder_precision(const BqEncoder *enc)
{
	return enc->precision;
}
