/*
 * pg_answer.c - qa_answer() and qa_answers(): answering a question over a
 * context with the current model and settings, or those the call passes
 * as named arguments (pg_call_settings.c).
 */
#include "pg_bertqa.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(bertqa_qa_answer);
PG_FUNCTION_INFO_V1(bertqa_qa_answers);

/* The n-best list of one question, copied out of the core's malloc'd result. */
typedef struct AnsweredQuestion
{
	BqQaCandidate *nbest;		/* [count], best first */
	int			count;
	int			decided;		/* index of the decided answer */
	double		null_score_diff;	/* null score - best span's */
	const char *context;		/* UTF-8, what the positions count in */
	size_t		context_len;
} AnsweredQuestion;

/*
 * Run the core on (question, context) and copy its n-best list to palloc'd
 * memory.  The call's settings start at argument 'first_setting'.
 */
static void
answer_question(FunctionCallInfo fcinfo, int first_setting, const char *function,
				AnsweredQuestion *out)
{
	int			nest_level = bertqa_apply_call_settings(fcinfo, first_setting, function);
	BertqaSession *session = bertqa_session();
	BqQaSettings settings;
	size_t		question_len;
	char	   *question_utf8 = bertqa_text_to_utf8(PG_GETARG_TEXT_PP(0), &question_len);
	BqQaResult	result = {0};
	BqError		err;

	out->context = bertqa_text_to_utf8(PG_GETARG_TEXT_PP(1), &out->context_len);
	bertqa_qa_settings(&settings, session->model);
	bertqa_restore_call_settings(nest_level);
	bq_error_clear(&err);
	if (bq_qa_answer(session->model, session->encoder, &settings,
					 question_utf8, question_len, out->context, out->context_len,
					 &result, &bertqa_interrupt, &err) != BQ_OK)
	{
		bq_qa_result_free(&result);
		bertqa_report_error(&err, NULL);
	}

	/* Copy out of malloc'd memory before anything below can throw. */
	out->count = (int) result.count;
	out->decided = result.answer;
	out->null_score_diff = result.null_score_diff;
	out->nbest = palloc(sizeof(BqQaCandidate) * Max(out->count, 1));
	if (out->count > 0)
		memcpy(out->nbest, result.nbest, sizeof(BqQaCandidate) * out->count);
	bq_qa_result_free(&result);
}

/*
 * The answer text of n-best entry 'i' (not the "no answer" entry), made
 * only for the entries a query returns.
 */
static text *
answer_text(const AnsweredQuestion *a, int i)
{
	return bertqa_utf8_to_text(a->context + a->nbest[i].start_byte,
							   a->nbest[i].end_byte - a->nbest[i].start_byte);
}

/*
 * qa_answer(question, context) -> qa_result: the decided answer; when the
 * model finds none, answer and positions are NULL and score is the
 * probability of "no answer".  best_span_score and null_score_diff say
 * why, in terms that compare across contexts: the best span's logit sum
 * and the null score less it (NULL without a span).
 */
Datum
bertqa_qa_answer(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, true, true};
	AnsweredQuestion a;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("qa_answer must be called in a context that accepts a composite result")));
	tupdesc = BlessTupleDesc(tupdesc);

	answer_question(fcinfo, 2, "qa_answer", &a);
	if (a.decided < 0 || a.decided >= a.count || a.nbest[a.decided].is_null)
	{
		double		null_probability = 1.0;

		for (int i = 0; i < a.count; i++)
			if (a.nbest[i].is_null)
				null_probability = a.nbest[i].probability;
		nulls[0] = nulls[1] = nulls[2] = true;
		values[3] = Float8GetDatum(null_probability);
	}
	else
	{
		const BqQaCandidate *best = &a.nbest[a.decided];

		values[0] = PointerGetDatum(answer_text(&a, a.decided));
		values[1] = Int32GetDatum(best->start_char + 1);
		values[2] = Int32GetDatum(best->end_char + 1);
		values[3] = Float8GetDatum(best->probability);
	}
	for (int i = 0; i < a.count; i++)
	{
		if (!a.nbest[i].is_null)
		{
			values[4] = Float8GetDatum((double) a.nbest[i].start_logit + (double) a.nbest[i].end_logit);
			values[5] = Float8GetDatum(a.null_score_diff);
			nulls[4] = nulls[5] = false;
			break;
		}
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * The length of an n-best list a caller asks for: 1 or more.
 */
int32
bertqa_list_length(int32 k)
{
	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be at least 1, not %d", k)));
	return k;
}

/*
 * qa_answers(question, context, k) -> the first k entries of the n-best
 * list, the "no answer" entry included with a NULL answer.
 */
Datum
bertqa_qa_answers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		k;
	AnsweredQuestion a;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return (Datum) 0;
	k = bertqa_list_length(PG_GETARG_INT32(2));
	answer_question(fcinfo, 3, "qa_answers", &a);
	for (int i = 0; i < a.count && i < k; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		const BqQaCandidate *entry = &a.nbest[i];

		values[0] = Int32GetDatum(i + 1);
		if (entry->is_null)
			nulls[1] = nulls[2] = nulls[3] = true;
		else
		{
			values[1] = PointerGetDatum(answer_text(&a, i));
			values[2] = Int32GetDatum(entry->start_char + 1);
			values[3] = Int32GetDatum(entry->end_char + 1);
		}
		values[4] = Float8GetDatum(entry->probability);
		values[5] = Float4GetDatum(entry->start_logit);
		values[6] = Float4GetDatum(entry->end_logit);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
