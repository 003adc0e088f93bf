/*
 * bq_error.h - how the core reports failures to its callers.
 *
 * The core never prints or exits.  A failing function fills a BqError and
 * returns a failure value; the caller (CLI or PostgreSQL glue) decides how to
 * present it.  The status lets the glue pick the right SQLSTATE.
 */
#ifndef BQ_ERROR_H
#define BQ_ERROR_H

#include <stddef.h>

typedef enum BqStatus
{
	BQ_OK = 0,
	BQ_ERR_NOT_FOUND,			/* a file or directory does not exist */
	BQ_ERR_IO,					/* a file exists but cannot be read or mapped */
	BQ_ERR_FORMAT,				/* a file's content is malformed or inconsistent */
	BQ_ERR_UNSUPPORTED,			/* well-formed, but a feature bertqa does not implement */
	BQ_ERR_INPUT,				/* bad user input: invalid UTF-8, bad argument value */
	BQ_ERR_NOMEM,				/* an allocation failed */
	BQ_ERR_CANCELLED			/* the caller's interrupt check asked to stop */
} BqStatus;

typedef struct BqError
{
	BqStatus	status;
	char		message[512];	/* one line, no trailing period */
	char		detail[512];	/* optional extra line, "" when absent */
} BqError;

/* Record a failure; returns 'status' so callers can write "return bq_fail(...)". */
int			bq_fail(BqError *err, BqStatus status, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Attach a detail line to an error already recorded. */
void		bq_fail_detail(BqError *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Reset to BQ_OK with empty texts. */
void		bq_error_clear(BqError *err);

/* Short English name of a status, for the CLI. */
const char *bq_status_name(BqStatus status);

/*
 * Cooperative cancellation: long-running core functions call this between
 * units of work (windows, layers).  Returning nonzero makes them stop, free
 * what they allocated and fail with BQ_ERR_CANCELLED.
 */
typedef struct BqInterrupt
{
	int			(*pending) (void *arg);
	void	   *arg;
} BqInterrupt;

static inline int
bq_interrupted(const BqInterrupt *intr)
{
	return intr != NULL && intr->pending != NULL && intr->pending(intr->arg);
}

#endif							/* BQ_ERROR_H */
