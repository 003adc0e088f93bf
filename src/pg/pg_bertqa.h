/*
 * pg_bertqa.h - shared declarations of the PostgreSQL glue: settings, the
 * per-backend model cache, error reporting and text conversion.
 */
#ifndef PG_BERTQA_H
#define PG_BERTQA_H

#include "postgres.h"

#include "fmgr.h"

#include "bq_error.h"
#include "encoder.h"
#include "model.h"
#include "qa.h"

/* GUC variables (pg_module.c) */
extern char *bertqa_model_path;
extern int	bertqa_threads;
extern int	bertqa_max_threads;
extern char *bertqa_cache_dir;
extern int	bertqa_precision;		/* a BqPrecision */
extern int	bertqa_max_seq_len;
extern int	bertqa_doc_stride;
extern int	bertqa_max_query_len;
extern int	bertqa_max_answer_len;
extern int	bertqa_n_best;
extern double bertqa_null_threshold;
extern bool bertqa_allow_no_answer;

/* The model bertqa.model selects, with this backend's encoder workspace. */
typedef struct BertqaSession
{
	BqModel    *model;
	BqEncoder  *encoder;		/* NULL until made for the current precision */
	BqPrecision requested;		/* the bertqa.precision 'encoder' was made for */
	int			threads;		/* and the bertqa.threads */
	bool		bundled;		/* the test model installed with the extension */
	uint64		loads;			/* models loaded by this backend: which one 'model' is */
} BertqaSession;

/* Load (or reuse) the current model; ERROR if it cannot be loaded. */
BertqaSession *bertqa_session(void);

/* The weight cache's directory (pg_model.c), or NULL after a warning when unusable. */
char	   *bertqa_cache_dir_path(void);

/* Post-processing settings from the GUCs and the model's own defaults. */
void		bertqa_qa_settings(BqQaSettings *settings, const BqModel *model);

/*
 * Apply the settings given as qa_answer()'s or qa_answers()' named
 * arguments, from argument 'first' on, for the call (pg_call_settings.c);
 * returns the GUC nesting level to restore.
 */
int			bertqa_apply_call_settings(FunctionCallInfo fcinfo, int first, const char *function);
void		bertqa_restore_call_settings(int nest_level);

/* qa_answers' and qa_best_answers' k, checked to be at least 1 (pg_answer.c). */
int32		bertqa_list_length(int32 k);

/* The interrupt hook the core polls; see pg_errors.c. */
extern const BqInterrupt bertqa_interrupt;

/* The SQLSTATE for a core failure status. */
int			bertqa_sqlstate(BqStatus status);

/* ereport(ERROR) a core failure with the SQLSTATE its status calls for. */
#if PG_VERSION_NUM >= 180000
pg_noreturn void bertqa_report_error(const BqError *err, const char *context);
#else
void		bertqa_report_error(const BqError *err, const char *context) pg_attribute_noreturn();
#endif

/* Text in the server encoding <-> UTF-8 for the core. */
char	   *bertqa_text_to_utf8(text *t, size_t *len);
text	   *bertqa_utf8_to_text(const char *utf8, size_t len);

#endif							/* PG_BERTQA_H */
