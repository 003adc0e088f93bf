/*
 * pg_model_info.c - qa_model_info(): what bertqa.model has loaded.
 */
#include "pg_bertqa.h"

#include "compute.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(bertqa_qa_model_info);

/*
 * One row describing the current model, loading it if needed.
 */
Datum
bertqa_qa_model_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BertqaSession *session;
	const BqModel *model;
	Datum		values[18];
	bool		nulls[18] = {0};

	InitMaterializedSRF(fcinfo, 0);
	session = bertqa_session();
	model = session->model;

	values[0] = CStringGetTextDatum(model->path);
	values[1] = CStringGetTextDatum(model->format);
	values[2] = CStringGetTextDatum(bq_family_name(model->config.family));
	values[3] = CStringGetTextDatum(bq_tokenizer_kind_name(bq_tokenizer_kind(model->tokenizer)));
	values[4] = Int32GetDatum(model->config.num_layers);
	values[5] = Int32GetDatum(model->config.hidden_size);
	values[6] = Int32GetDatum(model->config.num_heads);
	values[7] = Int32GetDatum(model->config.intermediate_size);
	values[8] = Int32GetDatum(model->config.vocab_size);
	values[9] = Int32GetDatum(model->config.max_position_embeddings);
	values[10] = BoolGetDatum(model->config.lowercase);
	values[11] = Int64GetDatum(model->parameter_count);
	values[12] = Int64GetDatum((int64) model->bytes_mapped);
	values[13] = CStringGetTextDatum(model->dtype);
	values[14] = BoolGetDatum(session->bundled);
	values[15] = CStringGetTextDatum(bq_compute_kernels(bq_encoder_precision(session->encoder)));
	values[16] = Int32GetDatum(bq_compute_threads());
	values[17] = CStringGetTextDatum(bq_precision_name(bq_encoder_precision(session->encoder)));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
