/*
 * pg_answer.c - qa_answer() and qa_answers(): answering a question over a
 * context with the current model and settings.
 */
#include "pg_bertqa.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(bertqa_qa_answer);
PG_FUNCTION_INFO_V1(bertqa_qa_answers);

/* One n-best entry, copied out of the core's malloc'd result. */
typedef struct AnswerRow
{
	BqQaCandidate candidate;
	text	   *answer;			/* NULL for the "no answer" entry */
} AnswerRow;

/*
 * Run the core on (question, context) and copy the n-best list into palloc'd
 * rows, best first.  *decided gets the index of the decided answer.
 */
static AnswerRow *
answer_question(text *question, text *context, int *count, int *decided)
{
	BertqaSession *session = bertqa_session();
	BqQaSettings settings;
	size_t		question_len;
	size_t		context_len;
	char	   *question_utf8 = bertqa_text_to_utf8(question, &question_len);
	char	   *context_utf8 = bertqa_text_to_utf8(context, &context_len);
	BqQaResult	result = {0};
	BqError		err;
	BqQaCandidate *candidates;
	AnswerRow  *rows;
	int			n;

	bertqa_qa_settings(&settings, session->model);
	bq_error_clear(&err);
	if (bq_qa_answer(session->model, session->encoder, &settings,
					 question_utf8, question_len, context_utf8, context_len,
					 &result, &bertqa_interrupt, &err) != BQ_OK)
	{
		bq_qa_result_free(&result);
		bertqa_report_error(&err, NULL);
	}

	/* Copy out of malloc'd memory before anything below can throw. */
	n = (int) result.count;
	*decided = result.answer;
	candidates = palloc(sizeof(BqQaCandidate) * Max(n, 1));
	if (n > 0)
		memcpy(candidates, result.nbest, sizeof(BqQaCandidate) * n);
	bq_qa_result_free(&result);

	rows = palloc(sizeof(AnswerRow) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		rows[i].candidate = candidates[i];
		rows[i].answer = candidates[i].is_null ? NULL :
			bertqa_utf8_substring(context_utf8, context_len,
								  candidates[i].start_char, candidates[i].end_char);
	}
	*count = n;
	return rows;
}

/*
 * qa_answer(question, context) -> qa_result: the decided answer; when the
 * model finds none, answer and positions are NULL and score is the
 * probability of "no answer".
 */
Datum
bertqa_qa_answer(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int			count;
	int			decided;
	AnswerRow  *rows;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("qa_answer must be called in a context that accepts a composite result")));
	tupdesc = BlessTupleDesc(tupdesc);

	rows = answer_question(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), &count, &decided);
	if (decided < 0 || decided >= count || rows[decided].answer == NULL)
	{
		double		null_probability = 1.0;

		for (int i = 0; i < count; i++)
			if (rows[i].candidate.is_null)
				null_probability = rows[i].candidate.probability;
		nulls[0] = nulls[1] = nulls[2] = true;
		values[3] = Float8GetDatum(null_probability);
	}
	else
	{
		AnswerRow  *row = &rows[decided];

		values[0] = PointerGetDatum(row->answer);
		values[1] = Int32GetDatum(row->candidate.start_char + 1);
		values[2] = Int32GetDatum(row->candidate.end_char + 1);
		values[3] = Float8GetDatum(row->candidate.probability);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * qa_answers(question, context, k) -> the first k entries of the n-best
 * list, the "no answer" entry included with a NULL answer.
 */
Datum
bertqa_qa_answers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		k = PG_GETARG_INT32(2);
	int			count;
	int			decided;
	AnswerRow  *rows;

	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be at least 1, not %d", k)));
	InitMaterializedSRF(fcinfo, 0);
	rows = answer_question(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), &count, &decided);
	for (int i = 0; i < count && i < k; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		AnswerRow  *row = &rows[i];

		values[0] = Int32GetDatum(i + 1);
		if (row->answer == NULL)
			nulls[1] = nulls[2] = nulls[3] = true;
		else
		{
			values[1] = PointerGetDatum(row->answer);
			values[2] = Int32GetDatum(row->candidate.start_char + 1);
			values[3] = Int32GetDatum(row->candidate.end_char + 1);
		}
		values[4] = Float8GetDatum(row->candidate.probability);
		values[5] = Float4GetDatum(row->candidate.start_logit);
		values[6] = Float4GetDatum(row->candidate.end_logit);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
