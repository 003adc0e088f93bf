/*
 * qa.c - one question over one context, or over many: tokenize, cut the
 * windows, run them through the encoder a few at a time (across contexts
 * when there are many), and hand each window's logits to its context's
 * SQuAD v2.0 post-processing.
 */
#include "qa.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "squad_features.h"
#include "squad_postprocess.h"

/*
 * Windows per encoder call: enough to give the matrix products some rows
 * (short contexts' windows go together), few enough that the activations
 * and the contexts waiting stay small.
 */
#define QA_WINDOW_BATCH 8

/* The smallest window worth running: [CLS] q [SEP] c [SEP] and some room. */
#define QA_MIN_SEQ_LEN 8

void
bq_qa_default_settings(BqQaSettings *settings)
{
	settings->max_seq_len = 384;
	settings->doc_stride = 128;
	settings->max_query_len = 64;
	settings->max_answer_len = 30;
	settings->n_best = 20;
	settings->null_threshold = 0.0;
	settings->allow_no_answer = true;
}

void
bq_qa_apply_model_defaults(BqQaSettings *settings, const BqQaDefaults *defaults,
						   unsigned chosen)
{
	if (!(chosen & BQ_QA_SET_MAX_SEQ_LEN) && defaults->max_seq_len > 0)
		settings->max_seq_len = defaults->max_seq_len;
	if (!(chosen & BQ_QA_SET_DOC_STRIDE) && defaults->doc_stride > 0)
		settings->doc_stride = defaults->doc_stride;
	if (!(chosen & BQ_QA_SET_MAX_QUERY_LEN) && defaults->max_query_len > 0)
		settings->max_query_len = defaults->max_query_len;
	if (!(chosen & BQ_QA_SET_MAX_ANSWER_LEN) && defaults->max_answer_len > 0)
		settings->max_answer_len = defaults->max_answer_len;
	if (!(chosen & BQ_QA_SET_N_BEST) && defaults->n_best > 0)
		settings->n_best = defaults->n_best;
	if (!(chosen & BQ_QA_SET_NULL_THRESHOLD) && defaults->has_null_threshold)
		settings->null_threshold = defaults->null_threshold;
	if (!(chosen & BQ_QA_SET_ALLOW_NO_ANSWER) && defaults->has_allow_no_answer)
		settings->allow_no_answer = defaults->allow_no_answer;
}

int
bq_qa_check_settings(const BqQaSettings *settings, BqError *err)
{
	if (settings->max_seq_len < QA_MIN_SEQ_LEN)
		return bq_fail(err, BQ_ERR_INPUT, "max_seq_len must be at least %d, not %d",
					   QA_MIN_SEQ_LEN, settings->max_seq_len);
	if (settings->doc_stride < 1)
		return bq_fail(err, BQ_ERR_INPUT, "doc_stride must be at least 1, not %d",
					   settings->doc_stride);
	if (settings->max_query_len < 1)
		return bq_fail(err, BQ_ERR_INPUT, "max_query_len must be at least 1, not %d",
					   settings->max_query_len);
	if (settings->max_answer_len < 1)
		return bq_fail(err, BQ_ERR_INPUT, "max_answer_len must be at least 1, not %d",
					   settings->max_answer_len);
	if (settings->n_best < 1)
		return bq_fail(err, BQ_ERR_INPUT, "n_best must be at least 1, not %d",
					   settings->n_best);
	if (!isfinite(settings->null_threshold))
		return bq_fail(err, BQ_ERR_INPUT, "null_threshold must be a finite number");
	return BQ_OK;
}

void
bq_qa_result_free(BqQaResult *result)
{
	free(result->nbest);
	memset(result, 0, sizeof(*result));
}

/* Buffers for one encoder call over up to QA_WINDOW_BATCH windows. */
typedef struct WindowBatch
{
	int32_t    *ids;			/* [QA_WINDOW_BATCH][max_seq_len] */
	int32_t    *types;			/* [QA_WINDOW_BATCH][max_seq_len] */
	float	   *start_logits;	/* [QA_WINDOW_BATCH][max_seq_len] */
	float	   *end_logits;		/* [QA_WINDOW_BATCH][max_seq_len] */
	double	   *start_double;	/* [max_seq_len] one window's logits, widened */
	double	   *end_double;		/* [max_seq_len] */
} WindowBatch;

static void
window_batch_free(WindowBatch *wb)
{
	free(wb->ids);
	free(wb->types);
	free(wb->start_logits);
	free(wb->end_logits);
	free(wb->start_double);
	free(wb->end_double);
}

static int
window_batch_alloc(WindowBatch *wb, int32_t max_seq_len, BqError *err)
{
	size_t		n = (size_t) QA_WINDOW_BATCH * (size_t) max_seq_len;

	wb->ids = malloc(n * sizeof(int32_t));
	wb->types = malloc(n * sizeof(int32_t));
	wb->start_logits = malloc(n * sizeof(float));
	wb->end_logits = malloc(n * sizeof(float));
	wb->start_double = malloc((size_t) max_seq_len * sizeof(double));
	wb->end_double = malloc((size_t) max_seq_len * sizeof(double));
	if (wb->ids == NULL || wb->types == NULL || wb->start_logits == NULL ||
		wb->end_logits == NULL || wb->start_double == NULL || wb->end_double == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory for the model windows");
	return BQ_OK;
}

/* One context of the question: its tokens, windows and candidates. */
typedef struct QaContext
{
	BqTokenList tokens;
	BqSquadFeatures features;
	BqQaCollector collector;
	int32_t		windows_run;	/* windows whose logits the collector has */
	char	   *text;			/* a copy, for the answers (many contexts only) */
	size_t		text_len;
	int64_t		key;			/* the pool's key for it (many contexts only) */
} QaContext;

/* A window of some context, for one encoder call. */
typedef struct WindowRef
{
	QaContext  *context;
	int32_t		window;
} WindowRef;

/*
 * Run 'count' windows (of one or several contexts) through the encoder as
 * one batch and feed each one's logits to its context's collector.  The
 * encoder's logits of a window do not depend on the windows beside it, so
 * any grouping gives every context the candidates it gets alone.
 */
static int
run_windows(BqEncoder *enc, const WindowRef *refs, int count, int32_t max_seq_len,
			WindowBatch *wb, const BqInterrupt *intr, BqError *err)
{
	const int32_t *ids[QA_WINDOW_BATCH] = {0};
	const int32_t *types[QA_WINDOW_BATCH] = {0};
	float	   *starts[QA_WINDOW_BATCH] = {0};
	float	   *ends[QA_WINDOW_BATCH] = {0};
	int32_t		lengths[QA_WINDOW_BATCH] = {0};
	int			status;

	for (int b = 0; b < count; b++)
	{
		const BqSquadFeatures *f = &refs[b].context->features;
		size_t		row = (size_t) b * (size_t) max_seq_len;

		bq_squad_window_fill(f, refs[b].window, wb->ids + row, wb->types + row);
		ids[b] = wb->ids + row;
		types[b] = wb->types + row;
		starts[b] = wb->start_logits + row;
		ends[b] = wb->end_logits + row;
		lengths[b] = bq_squad_window_length(f, refs[b].window);
	}
	status = bq_encoder_run(enc, count, ids, types, lengths, starts, ends, intr, err);
	for (int b = 0; status == BQ_OK && b < count; b++)
	{
		for (int32_t i = 0; i < lengths[b]; i++)
		{
			wb->start_double[i] = starts[b][i];
			wb->end_double[i] = ends[b][i];
		}
		status = bq_qa_collect_window(&refs[b].context->collector, refs[b].window,
									  wb->start_double, wb->end_double, err);
		refs[b].context->windows_run++;
	}
	return status;
}

/*
 * Run the next windows of 'contexts' (up to QA_WINDOW_BATCH, the first
 * contexts' first) as one batch, unless the caller is interrupted.
 */
static int
run_next_windows(BqEncoder *enc, QaContext *const *contexts, int n_contexts,
				 int32_t max_seq_len, WindowBatch *wb, const BqInterrupt *intr, BqError *err)
{
	WindowRef	refs[QA_WINDOW_BATCH];
	int			count = 0;

	for (int i = 0; i < n_contexts && count < QA_WINDOW_BATCH; i++)
	{
		QaContext  *ctx = contexts[i];

		for (int32_t w = ctx->windows_run; w < ctx->features.n_windows && count < QA_WINDOW_BATCH; w++)
			refs[count++] = (WindowRef) {ctx, w};
	}
	if (bq_interrupted(intr))
		return bq_fail(err, BQ_ERR_CANCELLED, "question answering cancelled");
	return run_windows(enc, refs, count, max_seq_len, wb, intr, err);
}

/*
 * Tokenize one input, saying which one was bad if it is.
 */
static int
tokenize_input(const BqModel *model, const char *what, const char *text,
			   size_t len, BqTokenList *out, BqError *err)
{
	int			status = bq_tokenize(model->tokenizer, text, len, out, err);

	if (status != BQ_OK && status != BQ_ERR_NOMEM)
	{
		char		message[sizeof(err->message)];

		memcpy(message, err->message, sizeof(message));
		bq_fail(err, status, "%s: %s", what, message);
	}
	return status;
}

/*
 * RoBERTa's first rows are not positions of tokens (pad_token_id + 1 of
 * them), so its 514 rows hold 512 tokens.
 */
int
bq_qa_check_window_fits(const BqConfig *config, int32_t max_seq_len, BqError *err)
{
	if (max_seq_len <= bq_config_max_tokens(config))
		return BQ_OK;
	if (config->position_offset == 0)
		return bq_fail(err, BQ_ERR_INPUT,
					   "max_seq_len %d exceeds the model's max_position_embeddings %d",
					   max_seq_len, config->max_position_embeddings);
	return bq_fail(err, BQ_ERR_INPUT,
				   "max_seq_len %d exceeds the model's %d positions (max_position_embeddings %d, "
				   "of which the first %d are never a token's)",
				   max_seq_len, bq_config_max_tokens(config), config->max_position_embeddings,
				   config->position_offset);
}

/*
 * The settings must also suit the model: windows no longer than its
 * position table, and the special tokens present in its vocabulary.
 */
static int
check_model(const BqModel *model, const BqQaSettings *settings, BqError *err)
{
	if (bq_qa_check_window_fits(&model->config, settings->max_seq_len, err) != BQ_OK)
		return BQ_ERR_INPUT;
	if (bq_tokenizer_cls_id(model->tokenizer) < 0 ||
		bq_tokenizer_sep_id(model->tokenizer) < 0)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "the vocabulary of model \"%s\" lacks [CLS] or [SEP]",
					   model->path);
	return BQ_OK;
}

/*
 * Tokenize a context, cut its windows after the question's tokens and
 * ready its collector.  'ctx' must not move afterwards (the collector
 * points into it); free it with context_free.
 */
static int
context_prepare(const BqModel *model, const BqQaSettings *settings,
				const BqTokenList *question, const char *text, size_t text_len,
				QaContext *ctx, BqError *err)
{
	int			status = tokenize_input(model, "context", text, text_len, &ctx->tokens, err);

	if (status == BQ_OK)
		status = bq_squad_features_build(&ctx->features, question->tokens, question->count,
										 ctx->tokens.tokens, ctx->tokens.count,
										 bq_tokenizer_pair_template(model->tokenizer),
										 settings, err);
	if (status == BQ_OK)
		status = bq_qa_collector_init(&ctx->collector, &ctx->features, settings, err);
	return status;
}

static void
context_free(QaContext *ctx)
{
	bq_qa_collector_free(&ctx->collector);
	bq_squad_features_free(&ctx->features);
	bq_token_list_free(&ctx->tokens);
	free(ctx->text);
}

/*
 * Check the settings against the model and tokenize the question: what
 * every context of a question shares.
 */
static int
question_prepare(const BqModel *model, const BqQaSettings *settings, const char *question,
				 size_t question_len, BqTokenList *tokens, BqError *err)
{
	int			status = bq_qa_check_settings(settings, err);

	if (status == BQ_OK)
		status = check_model(model, settings, err);
	if (status == BQ_OK)
		status = tokenize_input(model, "question", question, question_len, tokens, err);
	return status;
}

int
bq_qa_answer(const BqModel *model, BqEncoder *enc, const BqQaSettings *settings,
			 const char *question, size_t question_len,
			 const char *context, size_t context_len,
			 BqQaResult *result, const BqInterrupt *intr, BqError *err)
{
	BqTokenList q_tokens = {0};
	QaContext	ctx = {0};
	QaContext  *only = &ctx;
	WindowBatch wb = {0};
	int			status;

	memset(result, 0, sizeof(*result));
	status = question_prepare(model, settings, question, question_len, &q_tokens, err);
	if (status == BQ_OK)
		status = context_prepare(model, settings, &q_tokens, context, context_len, &ctx, err);
	if (status == BQ_OK && ctx.features.n_windows > 0)
		status = window_batch_alloc(&wb, settings->max_seq_len, err);
	while (status == BQ_OK && ctx.windows_run < ctx.features.n_windows)
		status = run_next_windows(enc, &only, 1, settings->max_seq_len, &wb, intr, err);
	if (status == BQ_OK)
		status = bq_qa_collector_finish(&ctx.collector, context, context_len, result, err);
	window_batch_free(&wb);
	context_free(&ctx);
	bq_token_list_free(&q_tokens);
	return status;
}

/*
 * The question, and the contexts whose windows have not all run yet: fewer
 * than QA_WINDOW_BATCH windows wait between calls, so at most that many
 * contexts do.  The encoder's buffers are made for each run, not kept:
 * an aggregate may hold one batch per group.
 */
struct BqQaBatch
{
	const BqModel *model;
	BqQaSettings settings;
	BqTokenList question;
	BqAnswerPool *pool;			/* borrowed */
	QaContext  *waiting[QA_WINDOW_BATCH];
	int			waiting_count;
};

BqQaBatch *
bq_qa_batch_new(const BqModel *model, const BqQaSettings *settings, const char *question,
				size_t question_len, BqAnswerPool *pool, BqError *err)
{
	BqQaBatch  *batch = calloc(1, sizeof(BqQaBatch));

	if (batch == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory answering over many contexts");
		return NULL;
	}
	batch->model = model;
	batch->settings = *settings;
	batch->pool = pool;
	if (question_prepare(model, settings, question, question_len, &batch->question,
						 err) != BQ_OK)
	{
		bq_qa_batch_free(batch);
		return NULL;
	}
	return batch;
}

void
bq_qa_batch_free(BqQaBatch *batch)
{
	if (batch == NULL)
		return;
	for (int i = 0; i < batch->waiting_count; i++)
	{
		context_free(batch->waiting[i]);
		free(batch->waiting[i]);
	}
	bq_token_list_free(&batch->question);
	free(batch);
}

/* Windows of the waiting contexts that have not run yet. */
static int32_t
waiting_windows(const BqQaBatch *batch)
{
	int32_t		left = 0;

	for (int i = 0; i < batch->waiting_count; i++)
		left += batch->waiting[i]->features.n_windows - batch->waiting[i]->windows_run;
	return left;
}

/*
 * Run the next QA_WINDOW_BATCH waiting windows (or all, if fewer), the
 * earliest contexts' first, then hand every context whose windows have all
 * run to the pool.
 */
static int
run_waiting(BqQaBatch *batch, BqEncoder *enc, const BqInterrupt *intr, BqError *err)
{
	WindowBatch wb = {0};
	int			kept = 0;
	int			status = window_batch_alloc(&wb, batch->settings.max_seq_len, err);

	if (status == BQ_OK)
		status = run_next_windows(enc, batch->waiting, batch->waiting_count,
								  batch->settings.max_seq_len, &wb, intr, err);
	window_batch_free(&wb);
	if (status != BQ_OK)
		return status;
	for (int i = 0; i < batch->waiting_count; i++)
	{
		QaContext  *ctx = batch->waiting[i];

		if (ctx->windows_run < ctx->features.n_windows)
			batch->waiting[kept++] = ctx;
		else
		{
			if (status == BQ_OK)
				status = bq_qa_collector_pool(&ctx->collector, ctx->text, ctx->text_len,
											  ctx->key, batch->pool, err);
			context_free(ctx);
			free(ctx);
		}
	}
	batch->waiting_count = kept;
	return status;
}

int
bq_qa_batch_add(BqQaBatch *batch, const BqModel *model, BqEncoder *enc, const char *context,
				size_t context_len, int64_t key, const BqInterrupt *intr, BqError *err)
{
	QaContext  *ctx;
	int			status;

	if (model != batch->model)
		return bq_fail(err, BQ_ERR_INPUT,
					   "the model changed while answering one question over many contexts");
	if ((ctx = calloc(1, sizeof(QaContext))) == NULL ||
		(ctx->text = malloc(context_len + 1)) == NULL)
	{
		free(ctx);
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory for a context");
	}
	memcpy(ctx->text, context, context_len);
	ctx->text[context_len] = '\0';
	ctx->text_len = context_len;
	ctx->key = key;
	status = context_prepare(model, &batch->settings, &batch->question, context, context_len,
							 ctx, err);
	if (status == BQ_OK && ctx->features.n_windows == 0)
		status = bq_qa_collector_pool(&ctx->collector, ctx->text, ctx->text_len, key,
									  batch->pool, err);
	if (status != BQ_OK || ctx->features.n_windows == 0)
	{
		context_free(ctx);
		free(ctx);
		return status;
	}
	batch->waiting[batch->waiting_count++] = ctx;
	while (status == BQ_OK && waiting_windows(batch) >= QA_WINDOW_BATCH)
		status = run_waiting(batch, enc, intr, err);
	return status;
}

int
bq_qa_batch_flush(BqQaBatch *batch, BqEncoder *enc, const BqInterrupt *intr, BqError *err)
{
	int			status = BQ_OK;

	while (status == BQ_OK && batch->waiting_count > 0)
		status = run_waiting(batch, enc, intr, err);
	return status;
}
