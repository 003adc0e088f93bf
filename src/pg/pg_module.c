/*
 * pg_module.c - module entry point and the bertqa.* settings.
 */
#include "pg_bertqa.h"

#include <math.h>
#include <sched.h>
#include <unistd.h>

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

PG_MODULE_MAGIC;

char	   *bertqa_model_path = NULL;
int			bertqa_threads = 1;
int			bertqa_max_threads = 1;
char	   *bertqa_cache_dir = NULL;
int			bertqa_precision = BQ_PRECISION_FP32;
int			bertqa_max_seq_len = 384;
int			bertqa_doc_stride = 128;
int			bertqa_max_query_len = 64;
int			bertqa_max_answer_len = 30;
int			bertqa_n_best = 20;
double		bertqa_null_threshold = 0.0;
bool		bertqa_allow_no_answer = true;

/* bertqa.precision's values, named as the core names them; filled by _PG_init */
static struct config_enum_entry precision_options[BQ_PRECISIONS + 1];

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
 * bertqa.cache_dir is empty (the default place) or an absolute path: a
 * relative one would depend on each process's working directory.
 */
static bool
check_cache_dir(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && (*newval)[0] != '\0' && !is_absolute_path(*newval))
	{
		GUC_check_errdetail("bertqa.cache_dir must be an absolute path or empty (the default, "
							"pgsql_tmp_bertqa in the data directory).");
		return false;
	}
	return true;
}

/* The CPUs this server process may run on (its affinity), at least 1. */
static int
usable_cpus(void)
{
	cpu_set_t	set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return Max(1, (int) sysconf(_SC_NPROCESSORS_ONLN));
}

/*
 * The post-processing settings a checkpoint may recommend values for, and
 * their GUC records, found once in _PG_init: whether the user gave one a
 * value (postgresql.conf, ALTER ... SET, SET, a client option) is then a
 * look at its source, not a search through every setting on each call.
 */
static struct
{
	const char *name;
	unsigned	chosen_bit;
	struct config_generic *record;
}			model_default_settings[] = {
	{"bertqa.max_seq_len", BQ_QA_SET_MAX_SEQ_LEN, NULL},
	{"bertqa.doc_stride", BQ_QA_SET_DOC_STRIDE, NULL},
	{"bertqa.max_query_len", BQ_QA_SET_MAX_QUERY_LEN, NULL},
	{"bertqa.max_answer_len", BQ_QA_SET_MAX_ANSWER_LEN, NULL},
	{"bertqa.n_best", BQ_QA_SET_N_BEST, NULL},
	{"bertqa.null_threshold", BQ_QA_SET_NULL_THRESHOLD, NULL},
	{"bertqa.allow_no_answer", BQ_QA_SET_ALLOW_NO_ANSWER, NULL},
};

/*
 * Find the GUC records of model_default_settings; the records themselves
 * never move once defined.
 */
static void
find_model_default_settings(void)
{
#if PG_VERSION_NUM >= 160000
	int			count;
	struct config_generic **records = get_guc_variables(&count);
#else
	struct config_generic **records = get_guc_variables();
	int			count = GetNumConfigOptions();
#endif

	for (int i = 0; i < count; i++)
		for (int j = 0; j < (int) lengthof(model_default_settings); j++)
			if (strcmp(records[i]->name, model_default_settings[j].name) == 0)
				model_default_settings[j].record = records[i];
#if PG_VERSION_NUM >= 160000
	pfree(records);				/* from 16 on, a palloc'd array of the records */
#endif
}

/*
 * Define the settings.  Nothing else happens at load time: the model and
 * the matrix-product libraries start on first use, so that a postmaster
 * that preloads this library never starts their threads before it forks.
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
							"Threads one forward pass of the model may use.",
							NULL,
							&bertqa_threads,
							1, 1, 64,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("bertqa.max_threads",
							"Most threads one forward pass may use, whatever bertqa.threads asks.",
							"A larger bertqa.threads is lowered to it, with a notice. "
							"The default is the number of CPUs the server may use.",
							&bertqa_max_threads,
							Min(usable_cpus(), 64), 1, 64,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("bertqa.cache_dir",
							   "Directory of converted and packed model weights shared by all backends.",
							   "Empty (the default) is pgsql_tmp_bertqa in the data directory, which "
							   "base backups skip. Another directory must exist and be writable by the "
							   "server; where it cannot be used, backends answer without the cache.",
							   &bertqa_cache_dir,
							   "",
							   PGC_SIGHUP,
							   0,
							   check_cache_dir, NULL, NULL);

	for (int p = 0; p < BQ_PRECISIONS; p++)
		precision_options[p] = (struct config_enum_entry) {bq_precision_name((BqPrecision) p), p, false};
	DefineCustomEnumVariable("bertqa.precision",
							 "Number format of the model's projections: fp32, bf16 or int8.",
							 "bf16 and int8 run where oneDNN has fast kernels for them "
							 "(qa_model_info() shows the precision in use); fp32 elsewhere.",
							 &bertqa_precision,
							 BQ_PRECISION_FP32,
							 precision_options,
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

	DefineCustomBoolVariable("bertqa.allow_no_answer",
							 "Whether an answer may be \"no answer\".",
							 "Off for models trained on SQuAD v1.1, which always answer with a span. "
							 "Defaults to the model's own setting (a NeMo archive's "
							 "version_2_with_negative), else on.",
							 &bertqa_allow_no_answer,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("bertqa");
	find_model_default_settings();
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
	settings->allow_no_answer = bertqa_allow_no_answer;

	for (int i = 0; i < (int) lengthof(model_default_settings); i++)
	{
		if (model_default_settings[i].record->source != PGC_S_DEFAULT)
			chosen |= model_default_settings[i].chosen_bit;
	}
	bq_qa_apply_model_defaults(settings, &model->config.qa_defaults, chosen);
}
