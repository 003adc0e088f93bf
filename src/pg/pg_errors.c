/*
 * pg_errors.c - turning core failures into PostgreSQL errors, and letting
 * the core notice query cancellation.
 *
 * The core allocates with malloc and must free what it holds before control
 * leaves it, so it is never longjmp'd out of: it polls the hook below and
 * returns BQ_ERR_CANCELLED, and only then does the glue raise the error.
 */
#include "pg_bertqa.h"

#include "miscadmin.h"

/*
 * True when CHECK_FOR_INTERRUPTS would throw: a cancel or a termination.
 */
static int
cancel_pending(void *arg)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

const BqInterrupt bertqa_interrupt = {cancel_pending, NULL};

/*
 * The SQLSTATE for a core status.
 */
int
bertqa_sqlstate(BqStatus status)
{
	switch (status)
	{
		case BQ_ERR_NOT_FOUND:
			return ERRCODE_UNDEFINED_FILE;
		case BQ_ERR_IO:
			return ERRCODE_IO_ERROR;
		case BQ_ERR_FORMAT:
			return ERRCODE_DATA_CORRUPTED;
		case BQ_ERR_UNSUPPORTED:
			return ERRCODE_FEATURE_NOT_SUPPORTED;
		case BQ_ERR_INPUT:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case BQ_ERR_NOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case BQ_ERR_CANCELLED:
			return ERRCODE_QUERY_CANCELED;
		case BQ_OK:
			break;
	}
	return ERRCODE_INTERNAL_ERROR;
}

/*
 * Raise a core failure.  A cancellation is raised by PostgreSQL's own
 * interrupt processing so that it carries the usual message and SQLSTATE.
 * 'context' (may be NULL) says what bertqa was doing, as the main message.
 */
void
bertqa_report_error(const BqError *err, const char *context)
{
	if (err->status == BQ_ERR_CANCELLED)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling statement due to user request")));
	}
	if (context != NULL)
		ereport(ERROR,
				(errcode(bertqa_sqlstate(err->status)),
				 errmsg("%s", context),
				 errdetail("%s%s%s", err->message,
						   err->detail[0] != '\0' ? ": " : "", err->detail)));
	ereport(ERROR,
			(errcode(bertqa_sqlstate(err->status)),
			 errmsg("%s", err->message),
			 err->detail[0] != '\0' ? errdetail("%s", err->detail) : 0));
	pg_unreachable();
}
