/*
 * pg_module.c - module entry point and the bertqa.* settings.
 */
#include "pg_bertqa.h"

#include <math.h>

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

PG_MODULE_MAGIC;

char	   *bertqa_model_path = NULL;
int			bertqa_threads = 1;
int			bertqa_max_seq_len = 384;
int			bertqa_doc_stride = 128;
int			bertqa_max_query_len = 64;
int			bertqa_max_answer_len = 30;
int			bertqa_n_best = 20;
double		bertqa_null_threshold = 0.0;

void		_PG_init(void);

/*
 * Reject a null threshold that is not a finite number.
 */
static bool
check_null_threshold(double *newval, void **extra, GucSource source)
{
	if (isnan(*newval) || isinf(*newval))
	{
		GUC_check_errdetail("bertqa.null_threshold must be a finite number.");
		return false;
	}
	return true;
}

/*
 * Define the settings.  Nothing else happens at load time: the model and
 * the BLAS library are loaded on first use, so that a postmaster that
 * preloads this library never starts BLAS threads before it forks.
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("bertqa.model",
							   "Directory of the BERT question-answering model to use.",
							   "A Hugging Face layout directory (config.json, vocab.txt, "
							   "model.safetensors). Empty selects the bundled test model.",
							   &bertqa_model_path,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("bertqa.threads",
							"Threads each matrix product may use.",
							NULL,
							&bertqa_threads,
							1, 1, 64,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("bertqa.max_seq_len",
							"Tokens per model window, [CLS] and [SEP] included.",
							"Cannot exceed the model's max_position_embeddings.",
							&bertqa_max_seq_len,
							384, 8, 8192,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("bertqa.doc_stride",
							"Tokens between the starts of consecutive context windows.",
							NULL,
							&bertqa_doc_stride,
							128, 1, 8192,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("bertqa.max_query_len",
							"Question tokens kept; longer questions are cut.",
							NULL,
							&bertqa_max_query_len,
							64, 1, 8192,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("bertqa.max_answer_len",
							"Longest answer span, in tokens.",
							NULL,
							&bertqa_max_answer_len,
							30, 1, 8192,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("bertqa.n_best",
							"Candidate start and end positions per window, and n-best list length.",
							NULL,
							&bertqa_n_best,
							20, 1, 1000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomRealVariable("bertqa.null_threshold",
							 "Answer \"no answer\" when its score exceeds the best span's by more than this.",
							 NULL,
							 &bertqa_null_threshold,
							 0.0, -1e6, 1e6,
							 PGC_USERSET,
							 0,
							 check_null_threshold, NULL, NULL);

	MarkGUCPrefixReserved("bertqa");
}

/*
 * Whether the setting 'name' has been given a value anywhere (postgresql.conf,
 * ALTER ... SET, SET, a client option) rather than holding its built-in
 * default.
 */
static bool
setting_chosen(const char *name)
{
	struct config_generic **settings = get_guc_variables();
	int			count = GetNumConfigOptions();

	for (int i = 0; i < count; i++)
	{
		if (strcmp(settings[i]->name, name) == 0)
			return settings[i]->source != PGC_S_DEFAULT;
	}
	return false;
}

/*
 * The post-processing settings now in force: what the user set, else what
 * the model recommends (a NeMo archive's dataset section), else the
 * built-in defaults.
 */
void
bertqa_qa_settings(BqQaSettings *settings, const BqModel *model)
{
	unsigned	chosen = 0;

	settings->max_seq_len = bertqa_max_seq_len;
	settings->doc_stride = bertqa_doc_stride;
	settings->max_query_len = bertqa_max_query_len;
	settings->max_answer_len = bertqa_max_answer_len;
	settings->n_best = bertqa_n_best;
	settings->null_threshold = bertqa_null_threshold;

	if (setting_chosen("bertqa.max_seq_len"))
		chosen |= BQ_QA_SET_MAX_SEQ_LEN;
	if (setting_chosen("bertqa.doc_stride"))
		chosen |= BQ_QA_SET_DOC_STRIDE;
	if (setting_chosen("bertqa.max_query_len"))
		chosen |= BQ_QA_SET_MAX_QUERY_LEN;
	if (setting_chosen("bertqa.max_answer_len"))
		chosen |= BQ_QA_SET_MAX_ANSWER_LEN;
	if (setting_chosen("bertqa.n_best"))
		chosen |= BQ_QA_SET_N_BEST;
	if (setting_chosen("bertqa.null_threshold"))
		chosen |= BQ_QA_SET_NULL_THRESHOLD;
	bq_qa_apply_model_defaults(settings, &model->config.qa_defaults, chosen);
}
