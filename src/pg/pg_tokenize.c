/*
 * pg_tokenize.c - bertqa_tokenize(text): the WordPiece tokens of a text
 * under the current model's vocabulary.
 */
#include "pg_bertqa.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(bertqa_tokenize);

/*
 * Rows (id, token, start_pos, end_pos), positions 1-based with an
 * exclusive end, so substr(input, start_pos, end_pos - start_pos) is the
 * token's source text.
 */
Datum
bertqa_tokenize(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BertqaSession *session;
	size_t		len;
	char	   *utf8 = bertqa_text_to_utf8(PG_GETARG_TEXT_PP(0), &len);
	BqTokenList tokens = {0};
	BqError		err;
	BqToken    *copy;
	size_t		count;

	InitMaterializedSRF(fcinfo, 0);
	session = bertqa_session();
	bq_error_clear(&err);
	if (bq_tokenize(session->model->tokenizer, utf8, len, &tokens, &err) != BQ_OK)
	{
		bq_token_list_free(&tokens);
		bertqa_report_error(&err, NULL);
	}
	count = tokens.count;
	copy = palloc(sizeof(BqToken) * Max(count, 1));
	if (count > 0)
		memcpy(copy, tokens.tokens, sizeof(BqToken) * count);
	bq_token_list_free(&tokens);

	for (size_t i = 0; i < count; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		const char *piece = bq_tokenizer_token(session->model->tokenizer, copy[i].id);

		values[0] = Int32GetDatum(copy[i].id);
		values[1] = CStringGetTextDatum(pg_any_to_server(piece, strlen(piece), PG_UTF8));
		values[2] = Int32GetDatum(copy[i].start + 1);
		values[3] = Int32GetDatum(copy[i].end + 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
