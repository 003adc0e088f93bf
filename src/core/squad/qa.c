/*
 * qa.c - one question over one context: tokenize both, cut the windows, run
 * them through the encoder a few at a time, and hand each window's logits
 * to the SQuAD v2.0 post-processing.
 */
#include "qa.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "squad_features.h"
#include "squad_postprocess.h"

/*
 * Windows per encoder call: enough to give the matrix products some rows,
 * few enough that padding (to the longest window of a batch; only the last
 * window of a context is shorter) and scratch stay small.
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

/*
 * Run windows [first, first + count) through the encoder and feed their
 * logits to the collector in window order.
 */
static int
run_window_batch(BqEncoder *enc, const BqSquadFeatures *f, int32_t first,
				 int count, int32_t max_seq_len, WindowBatch *wb,
				 BqQaCollector *collector, const BqInterrupt *intr, BqError *err)
{
	const int32_t *ids[QA_WINDOW_BATCH] = {0};
	const int32_t *types[QA_WINDOW_BATCH] = {0};
	float	   *starts[QA_WINDOW_BATCH] = {0};
	float	   *ends[QA_WINDOW_BATCH] = {0};
	int32_t		lengths[QA_WINDOW_BATCH] = {0};
	int			status;

	for (int b = 0; b < count; b++)
	{
		size_t		row = (size_t) b * (size_t) max_seq_len;

		bq_squad_window_fill(f, first + b, wb->ids + row, wb->types + row);
		ids[b] = wb->ids + row;
		types[b] = wb->types + row;
		starts[b] = wb->start_logits + row;
		ends[b] = wb->end_logits + row;
		lengths[b] = bq_squad_window_length(f, first + b);
	}
	status = bq_encoder_run(enc, count, ids, types, lengths, starts, ends, intr, err);
	if (status != BQ_OK)
		return status;
	for (int b = 0; b < count; b++)
	{
		for (int32_t i = 0; i < lengths[b]; i++)
		{
			wb->start_double[i] = starts[b][i];
			wb->end_double[i] = ends[b][i];
		}
		status = bq_qa_collect_window(collector, first + b, wb->start_double,
									  wb->end_double, err);
		if (status != BQ_OK)
			return status;
	}
	return BQ_OK;
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

/* One question over one context: its tokens, windows and candidates. */
typedef struct QaRun
{
	BqTokenList q_tokens;
	BqTokenList c_tokens;
	BqSquadFeatures features;
	BqQaCollector collector;
	WindowBatch wb;
} QaRun;

static void
qa_run_free(QaRun *run)
{
	window_batch_free(&run->wb);
	bq_qa_collector_free(&run->collector);
	bq_squad_features_free(&run->features);
	bq_token_list_free(&run->q_tokens);
	bq_token_list_free(&run->c_tokens);
}

/*
 * Tokenize, cut the windows, run the encoder over them and collect their
 * candidates into run->collector.
 */
static int
qa_run(const BqModel *model, BqEncoder *enc, const BqQaSettings *settings,
	   const char *question, size_t question_len, const char *context, size_t context_len,
	   QaRun *run, const BqInterrupt *intr, BqError *err)
{
	int			status;

	memset(run, 0, sizeof(*run));
	status = bq_qa_check_settings(settings, err);
	if (status == BQ_OK)
		status = check_model(model, settings, err);
	if (status == BQ_OK)
		status = tokenize_input(model, "question", question, question_len,
								&run->q_tokens, err);
	if (status == BQ_OK)
		status = tokenize_input(model, "context", context, context_len,
								&run->c_tokens, err);
	if (status == BQ_OK)
		status = bq_squad_features_build(&run->features, run->q_tokens.tokens,
										 run->q_tokens.count, run->c_tokens.tokens,
										 run->c_tokens.count,
										 bq_tokenizer_pair_template(model->tokenizer),
										 settings, err);
	if (status == BQ_OK)
		status = bq_qa_collector_init(&run->collector, &run->features, settings, err);
	if (status == BQ_OK && run->features.n_windows > 0)
		status = window_batch_alloc(&run->wb, settings->max_seq_len, err);

	for (int32_t w = 0; status == BQ_OK && w < run->features.n_windows; w += QA_WINDOW_BATCH)
	{
		int32_t		left = run->features.n_windows - w;

		if (bq_interrupted(intr))
			status = bq_fail(err, BQ_ERR_CANCELLED, "question answering cancelled");
		else
			status = run_window_batch(enc, &run->features, w,
									  left < QA_WINDOW_BATCH ? (int) left : QA_WINDOW_BATCH,
									  settings->max_seq_len, &run->wb, &run->collector,
									  intr, err);
	}
	return status;
}

int
bq_qa_answer(const BqModel *model, BqEncoder *enc, const BqQaSettings *settings,
			 const char *question, size_t question_len,
			 const char *context, size_t context_len,
			 BqQaResult *result, const BqInterrupt *intr, BqError *err)
{
	QaRun		run;
	int			status;

	memset(result, 0, sizeof(*result));
	status = qa_run(model, enc, settings, question, question_len, context, context_len,
					&run, intr, err);
	if (status == BQ_OK)
		status = bq_qa_collector_finish(&run.collector, context, context_len, result, err);
	qa_run_free(&run);
	return status;
}

int
bq_qa_answer_into_pool(const BqModel *model, BqEncoder *enc, const BqQaSettings *settings,
					   const char *question, size_t question_len,
					   const char *context, size_t context_len, int64_t key,
					   BqAnswerPool *pool, const BqInterrupt *intr, BqError *err)
{
	QaRun		run;
	int			status;

	status = qa_run(model, enc, settings, question, question_len, context, context_len,
					&run, intr, err);
	if (status == BQ_OK)
		status = bq_qa_collector_pool(&run.collector, context, context_len, key, pool, err);
	qa_run_free(&run);
	return status;
}
