/*
 * cli.h - the subcommands of the bertqa command-line tool and the helpers
 * they share.  Each subcommand lives in its own cmd_*.c file and returns the
 * process exit status: 0 success, 1 failure, 2 bad input or usage.
 */
#ifndef BQ_CLI_H
#define BQ_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bq_error.h"

typedef struct CliCommand
{
	const char *name;
	int			(*run) (int argc, char **argv);
	const char *summary;
} CliCommand;

int			cmd_tokenize(int argc, char **argv);
int			cmd_bench_tokenize(int argc, char **argv);

/* Print "bertqa: <message>" and the detail, if any, to stderr. */
void		cli_report(const BqError *err);

/* Print "bertqa <command>: <printf message>" to stderr; returns 2. */
int			cli_usage_error(const char *command, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/*
 * Read one line of any length from 'in' into *buf (grown with realloc);
 * returns its length without the newline, or -1 at end of input.
 */
long		cli_read_line(FILE *in, char **buf, size_t *cap);

/* Parse a whole number option value, with range; false on error (message printed). */
bool		cli_parse_int(const char *command, const char *option, const char *value,
						  long min, long max, int *out);
bool		cli_parse_double(const char *command, const char *option, const char *value,
							 double *out);

#endif							/* BQ_CLI_H */
