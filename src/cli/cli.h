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
#include "compute.h"
#include "encoder.h"

typedef struct CliCommand
{
	const char *name;
	int			(*run) (int argc, char **argv);
	const char *summary;
} CliCommand;

int			cmd_tokenize(int argc, char **argv);
int			cmd_bench_tokenize(int argc, char **argv);
int			cmd_logits(int argc, char **argv);
int			cmd_init_model(int argc, char **argv);
int			cmd_bench(int argc, char **argv);
int			cmd_info(int argc, char **argv);
int			cmd_eval(int argc, char **argv);
int			cmd_convert(int argc, char **argv);

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

/*
 * Feed every line of standard input to 'handle_line' (which returns 0 on
 * success, 2 for a bad line it has reported, 1 for a failure that stops the
 * run), then check that input was read and output written completely.
 * Returns the exit status: 1 on a stop or an I/O error, 2 if any line was
 * bad, else 0.
 */
int			cli_for_each_input_line(const char *command,
									int (*handle_line) (const char *line, size_t len,
														long line_no, void *arg),
									void *arg);

/*
 * The CPU as /proc/cpuinfo names it, with its family and model, e.g.
 * "AMD EPYC (family 25, model 17)", for benchmark output.
 */
const char *cli_cpu_name(void);

/* Milliseconds on the monotonic clock, for timing. */
double		cli_now_ms(void);

/*
 * The median of n run times, sorting them in place; the median of an even
 * count is the mean of the two middle ones.
 */
double		cli_median(double *times, int n);

/* Parse a whole number option value, with range; false on error (message printed). */
bool		cli_parse_int(const char *command, const char *option, const char *value,
						  long min, long max, int *out);
bool		cli_parse_double(const char *command, const char *option, const char *value,
							 double *out);

/* Parse a --precision value (fp32, bf16, int8); false on error (message printed). */
bool		cli_parse_precision(const char *command, const char *value, BqPrecision *out);

/*
 * An encoder for 'model' in 'precision', saying on stderr when this machine
 * runs another one instead; NULL on failure (reported).
 */
BqEncoder  *cli_encoder(const char *command, const BqModel *model, BqPrecision precision);

/* ---- question answering (cmd_answer.c, cmd_squad.c; helpers in cli_qa.c) ---- */
#include <json-c/json.h>

#include "qa.h"

int			cmd_answer(int argc, char **argv);
int			cmd_squad(int argc, char **argv);

/* The options "answer" and "squad" share. */
typedef struct CliQaOptions
{
	const char *model_dir;		/* default: the bundled model */
	int			threads;		/* 0: the default, 1 */
	BqPrecision precision;
	BqQaSettings settings;
	unsigned	chosen;			/* BQ_QA_SET_* bits of the options given */
} CliQaOptions;

void		cli_qa_options_init(CliQaOptions *options);
void		cli_qa_options_help(FILE *out);

/*
 * If argv[*i] is a shared option, take it and its value (advancing *i):
 * 1 taken, 0 not a shared option, -1 bad value (message printed).
 */
int			cli_qa_option(const char *command, int argc, char **argv, int *i,
						  CliQaOptions *options);

/*
 * Load the model and an encoder, complete the settings with the model's own
 * defaults for the options not given, and check them: 0, or the exit status.
 */
int			cli_qa_open(const char *command, CliQaOptions *options,
						BqModel **model, BqEncoder **enc);

/* A JSON number printed as Python prints the double. */
json_object *cli_json_double(double value);

/*
 * An n-best entry {text, [start, end,] probability, start_logit, end_logit}:
 * the span's text, its code points (null for the null entry) and scores.
 */
json_object *cli_span_json(const char *text, size_t text_len, bool is_null, int32_t start,
						   int32_t end, double probability, double start_logit,
						   double end_logit, bool with_offsets);

/* The same for an entry of a single context's n-best list. */
json_object *cli_qa_entry_json(const char *context, size_t context_len,
							   const BqQaCandidate *entry, bool with_offsets);

#endif							/* BQ_CLI_H */
