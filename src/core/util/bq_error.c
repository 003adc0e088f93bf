/*
 * bq_error.c - filling BqError records.
 */
#include "bq_error.h"

#include <stdarg.h>
#include <stdio.h>

/*
 * Record a failure with a printf-style message.
 */
int
bq_fail(BqError *err, BqStatus status, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return status;
	err->status = status;
	err->detail[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return status;
}

/*
 * Add a detail line to the failure already recorded.
 */
void
bq_fail_detail(BqError *err, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

/*
 * Forget any earlier failure.
 */
void
bq_error_clear(BqError *err)
{
	err->status = BQ_OK;
	err->message[0] = '\0';
	err->detail[0] = '\0';
}

/*
 * Name a status for messages that are not shown through PostgreSQL.
 */
const char *
bq_status_name(BqStatus status)
{
	switch (status)
	{
		case BQ_OK:
			return "ok";
		case BQ_ERR_NOT_FOUND:
			return "not found";
		case BQ_ERR_IO:
			return "I/O error";
		case BQ_ERR_FORMAT:
			return "bad format";
		case BQ_ERR_UNSUPPORTED:
			return "unsupported";
		case BQ_ERR_INPUT:
			return "invalid input";
		case BQ_ERR_NOMEM:
			return "out of memory";
		case BQ_ERR_CANCELLED:
			return "cancelled";
	}
	return "unknown error";
}
