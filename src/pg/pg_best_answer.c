/*
 * pg_best_answer.c - the aggregate qa_best_answer(question, context, key):
 * the best answer to one question over the contexts of many rows, by the
 * rule of answer_pool.h, and the key of the row it came from; and
 * qa_best_answers(question, contexts[], k), the merged n-best list over an
 * array of contexts.
 *
 * The state is the core's answer pool and its batch of contexts whose
 * windows wait for the encoder (both malloc'd, freed with the aggregate's
 * memory context), plus the question.  Rows' windows go through the
 * encoder together (qa.h), so the waiting ones run before the state is
 * read: in the final, combine and serialize functions.  Partial states of
 * parallel workers travel serialized and merge in the leader.
 */
#include "pg_bertqa.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "answer_pool.h"

PG_FUNCTION_INFO_V1(bertqa_best_answer_step);
PG_FUNCTION_INFO_V1(bertqa_best_answer_combine);
PG_FUNCTION_INFO_V1(bertqa_best_answer_serialize);
PG_FUNCTION_INFO_V1(bertqa_best_answer_deserialize);
PG_FUNCTION_INFO_V1(bertqa_best_answer_final);
PG_FUNCTION_INFO_V1(bertqa_best_answers);

typedef struct BestAnswerState
{
	BqAnswerPool pool;
	BqQaBatch  *batch;			/* rows answered into the pool; NULL in a
								 * deserialized state, which takes no rows */
	uint64		model_load;		/* the session's model load the batch's
								 * windows were cut for */
	char	   *question;		/* UTF-8, the first row's */
	size_t		question_len;
	MemoryContextCallback free_core;
} BestAnswerState;

static void
free_core(void *arg)
{
	BestAnswerState *state = arg;

	bq_qa_batch_free(state->batch);
	bq_answer_pool_free(&state->pool);
}

/* The aggregate's memory context; ERROR outside an aggregate. */
static MemoryContext
aggregate_context(FunctionCallInfo fcinfo)
{
	MemoryContext context;

	if (!AggCheckCallContext(fcinfo, &context))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("qa_best_answer's support functions run only inside the aggregate")));
	return context;
}

/*
 * A new state for 'question' (UTF-8, copied) in the aggregate's context,
 * its pool freed with it.
 */
static BestAnswerState *
new_state(MemoryContext context, int32 n_best, const char *question, size_t question_len)
{
	BestAnswerState *state = MemoryContextAllocZero(context, sizeof(BestAnswerState));

	bq_answer_pool_init(&state->pool, n_best);
	state->free_core.func = free_core;
	state->free_core.arg = state;
	MemoryContextRegisterResetCallback(context, &state->free_core);
	state->question = MemoryContextAlloc(context, question_len + 1);
	memcpy(state->question, question, question_len);
	state->question[question_len] = '\0';
	state->question_len = question_len;
	return state;
}

/* Every row of one aggregate must ask the state's question. */
static void
check_same_question(const BestAnswerState *state, const char *question, size_t question_len)
{
	if (question_len != state->question_len ||
		memcmp(question, state->question, question_len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qa_best_answer asks one question over many rows; rows differ in it")));
}

/*
 * The session for more of the state's rows: the model whose tokenizer and
 * settings cut the windows waiting in its batch.  A backend reloads its
 * model when the model's files change, even between two rows of one
 * query; the rows read so far cannot then be finished.
 */
static BertqaSession *
session_for(const BestAnswerState *state)
{
	BertqaSession *session = bertqa_session();

	if (session->loads != state->model_load)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the bertqa model was reloaded while qa_best_answer read its rows"),
				 errdetail("Its files changed on disk during the query.")));
	return session;
}

/*
 * The rows' windows still waiting, through the encoder into the pool.
 */
static void
flush_rows(BestAnswerState *state)
{
	BertqaSession *session;
	BqError		err;

	if (state == NULL || state->batch == NULL)
		return;
	session = session_for(state);
	bq_error_clear(&err);
	if (bq_qa_batch_flush(state->batch, session->encoder, &bertqa_interrupt, &err) != BQ_OK)
		bertqa_report_error(&err, NULL);
}

/*
 * qa_best_answer's transition: answer one row's context into the pool
 * (its windows perhaps waiting for a batch).  Rows with a NULL question or
 * context are skipped; every other row must ask the same question.  The
 * settings in force at the first row apply to every row.
 */
Datum
bertqa_best_answer_step(PG_FUNCTION_ARGS)
{
	MemoryContext context = aggregate_context(fcinfo);
	BestAnswerState *state = PG_ARGISNULL(0) ? NULL : (BestAnswerState *) PG_GETARG_POINTER(0);
	BertqaSession *session;
	BqQaSettings settings;
	char	   *question;
	size_t		question_len;
	char	   *context_utf8;
	size_t		context_len;
	BqError		err;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(state);
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("qa_best_answer's key must not be NULL where the context is not")));
	question = bertqa_text_to_utf8(PG_GETARG_TEXT_PP(1), &question_len);
	bq_error_clear(&err);
	if (state == NULL)
	{
		session = bertqa_session();
		bertqa_qa_settings(&settings, session->model);
		state = new_state(context, settings.n_best, question, question_len);
		state->model_load = session->loads;
		state->batch = bq_qa_batch_new(session->model, &settings, question, question_len,
									   &state->pool, &err);
		if (state->batch == NULL)
			bertqa_report_error(&err, NULL);
	}
	else
	{
		check_same_question(state, question, question_len);
		session = session_for(state);
	}
	context_utf8 = bertqa_text_to_utf8(PG_GETARG_TEXT_PP(2), &context_len);
	if (bq_qa_batch_add(state->batch, session->model, session->encoder, context_utf8,
						context_len, PG_GETARG_INT64(3), &bertqa_interrupt, &err) != BQ_OK)
		bertqa_report_error(&err, NULL);
	PG_RETURN_POINTER(state);
}

/* Two partial states (parallel workers' rows) into one. */
Datum
bertqa_best_answer_combine(PG_FUNCTION_ARGS)
{
	MemoryContext context = aggregate_context(fcinfo);
	BestAnswerState *into = PG_ARGISNULL(0) ? NULL : (BestAnswerState *) PG_GETARG_POINTER(0);
	BestAnswerState *from = PG_ARGISNULL(1) ? NULL : (BestAnswerState *) PG_GETARG_POINTER(1);
	BqError		err;

	flush_rows(into);
	flush_rows(from);
	if (from == NULL)
		PG_RETURN_POINTER(into);
	if (into == NULL)
		into = new_state(context, from->pool.n_best, from->question, from->question_len);
	else
		check_same_question(into, from->question, from->question_len);
	if (bq_answer_pool_merge(&into->pool, &from->pool, &err) != BQ_OK)
		bertqa_report_error(&err, NULL);
	PG_RETURN_POINTER(into);
}

/* A partial state as bytea: the question, then the pool. */
Datum
bertqa_best_answer_serialize(PG_FUNCTION_ARGS)
{
	BestAnswerState *state = (BestAnswerState *) PG_GETARG_POINTER(0);
	uint32		question_len = (uint32) state->question_len;
	char	   *pool;
	size_t		pool_len;
	bytea	   *out;
	BqError		err;

	(void) aggregate_context(fcinfo);
	flush_rows(state);
	if (bq_answer_pool_serialize(&state->pool, &pool, &pool_len, &err) != BQ_OK)
		bertqa_report_error(&err, NULL);
	out = palloc(VARHDRSZ + sizeof(question_len) + question_len + pool_len);
	SET_VARSIZE(out, VARHDRSZ + sizeof(question_len) + question_len + pool_len);
	memcpy(VARDATA(out), &question_len, sizeof(question_len));
	memcpy(VARDATA(out) + sizeof(question_len), state->question, question_len);
	memcpy(VARDATA(out) + sizeof(question_len) + question_len, pool, pool_len);
	free(pool);
	PG_RETURN_BYTEA_P(out);
}

Datum
bertqa_best_answer_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext context = aggregate_context(fcinfo);
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	const char *data = VARDATA_ANY(in);
	size_t		len = VARSIZE_ANY_EXHDR(in);
	uint32		question_len;
	BestAnswerState *state;
	BqError		err;

	if (len < sizeof(question_len))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a qa_best_answer partial state is truncated")));
	memcpy(&question_len, data, sizeof(question_len));
	if (question_len > len - sizeof(question_len))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a qa_best_answer partial state is truncated")));
	/* the pool's own n_best comes with it */
	state = new_state(context, 1, data + sizeof(question_len), question_len);
	if (bq_answer_pool_deserialize(&state->pool, data + sizeof(question_len) + question_len,
								   len - sizeof(question_len) - question_len, &err) != BQ_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a qa_best_answer partial state is malformed: %s", err.message)));
	PG_RETURN_POINTER(state);
}

/*
 * qa_best_answer's result: the decided answer over all rows, its 1-based
 * positions in its row's context, its score (the probability over the
 * merged n-best list) and its row's key; when the decision is "no
 * answer", NULL answer, positions and key, and the null entry's score.
 * Then the best span's logit sum and the null score less it, as
 * qa_answer's.  NULL over no rows.
 */
Datum
bertqa_best_answer_final(PG_FUNCTION_ARGS)
{
	BestAnswerState *state = PG_ARGISNULL(0) ? NULL : (BestAnswerState *) PG_GETARG_POINTER(0);
	BertqaSession *session;
	BqQaSettings settings;
	BqPoolResult result;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {true, true, true, false, true, true, true};
	const BqPoolAnswer *a;
	BqError		err;

	if (state == NULL)
		PG_RETURN_NULL();
	flush_rows(state);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("qa_best_answer must be called in a context that accepts a composite result")));
	tupdesc = BlessTupleDesc(tupdesc);
	session = bertqa_session();
	bertqa_qa_settings(&settings, session->model);
	if (bq_answer_pool_finish(&state->pool, &settings, &result, &err) != BQ_OK)
		bertqa_report_error(&err, NULL);
	if (result.answer < 0)
	{
		bq_pool_result_free(&result);
		PG_RETURN_NULL();
	}
	a = &result.nbest[result.answer];
	values[3] = Float8GetDatum(a->probability);
	if (!a->is_null)
	{
		values[0] = PointerGetDatum(bertqa_utf8_to_text(a->text, a->text_len));
		values[1] = Int32GetDatum(a->start_char + 1);
		values[2] = Int32GetDatum(a->end_char + 1);
		values[4] = Int64GetDatum(a->key);
		nulls[0] = nulls[1] = nulls[2] = nulls[4] = false;
	}
	for (size_t i = 0; i < result.count; i++)
	{
		if (!result.nbest[i].is_null)
		{
			values[5] = Float8GetDatum(result.nbest[i].start_logit + result.nbest[i].end_logit);
			values[6] = Float8GetDatum(result.null_score_diff);
			nulls[5] = nulls[6] = false;
			break;
		}
	}
	bq_pool_result_free(&result);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * qa_best_answers(question, contexts, k, settings...): the first k entries
 * of the n-best list merged over the array's contexts, each with the
 * 1-based index of its context (the null entry's: where the smallest null
 * score came from).  NULL elements are skipped; NULL question, contexts or
 * k give no rows.
 */
Datum
bertqa_best_answers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *contexts;
	Datum	   *elements;
	bool	   *null_elements;
	int			n_elements;
	int32		k;
	int			nest_level;
	BertqaSession *session;
	BqQaSettings settings;
	char	   *question;
	size_t		question_len;
	BqAnswerPool pool;
	BqQaBatch  *volatile batch = NULL;
	BqPoolResult result = {0};
	BqError		err;
	int			status = BQ_OK;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return (Datum) 0;
	k = bertqa_list_length(PG_GETARG_INT32(2));
	contexts = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(contexts) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("qa_best_answers takes a one-dimensional array of contexts")));
	deconstruct_array(contexts, TEXTOID, -1, false, TYPALIGN_INT, &elements, &null_elements,
					  &n_elements);

	nest_level = bertqa_apply_call_settings(fcinfo, 3, "qa_best_answers");
	session = bertqa_session();
	bertqa_qa_settings(&settings, session->model);
	bertqa_restore_call_settings(nest_level);
	question = bertqa_text_to_utf8(PG_GETARG_TEXT_PP(0), &question_len);

	bq_answer_pool_init(&pool, settings.n_best);
	bq_error_clear(&err);
	PG_TRY();
	{
		batch = bq_qa_batch_new(session->model, &settings, question, question_len, &pool, &err);
		if (batch == NULL)
			status = err.status;
		for (int i = 0; status == BQ_OK && i < n_elements; i++)
		{
			char	   *context;
			size_t		context_len;

			if (null_elements[i])
				continue;
			context = bertqa_text_to_utf8(DatumGetTextPP(elements[i]), &context_len);
			status = bq_qa_batch_add(batch, session->model, session->encoder, context,
									 context_len, ARR_LBOUND(contexts)[0] + i,
									 &bertqa_interrupt, &err);
		}
		if (status == BQ_OK)
			status = bq_qa_batch_flush(batch, session->encoder, &bertqa_interrupt, &err);
		if (status == BQ_OK)
			status = bq_answer_pool_finish(&pool, &settings, &result, &err);
		if (status != BQ_OK)
			bertqa_report_error(&err, NULL);
		for (size_t i = 0; i < result.count && i < (size_t) k; i++)
		{
			const BqPoolAnswer *a = &result.nbest[i];
			Datum		values[8];
			bool		nulls[8] = {false, false, false, false, false, false, false, false};

			values[0] = Int32GetDatum((int32) i + 1);
			values[1] = Int32GetDatum((int32) a->key);
			if (a->is_null)
				nulls[2] = nulls[3] = nulls[4] = true;
			else
			{
				values[2] = PointerGetDatum(bertqa_utf8_to_text(a->text, a->text_len));
				values[3] = Int32GetDatum(a->start_char + 1);
				values[4] = Int32GetDatum(a->end_char + 1);
			}
			values[5] = Float8GetDatum(a->probability);
			values[6] = Float4GetDatum((float4) a->start_logit);
			values[7] = Float4GetDatum((float4) a->end_logit);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	PG_FINALLY();
	{
		bq_qa_batch_free(batch);
		bq_pool_result_free(&result);
		bq_answer_pool_free(&pool);
	}
	PG_END_TRY();
	return (Datum) 0;
}
