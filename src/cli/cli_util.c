/*
 * cli_util.c - helpers shared by the subcommands: error printing, line
 * reading, option value parsing, the CPU's name.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Show a core failure to the user.
 */
void
cli_report(const BqError *err)
{
	fprintf(stderr, "bertqa: %s\n", err->message);
	if (err->detail[0] != '\0')
		fprintf(stderr, "DETAIL: %s\n", err->detail);
}

/*
 * Complain about the command line; the caller returns the result (2).
 */
int
cli_usage_error(const char *command, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "bertqa %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/*
 * getline() with the newline (and a preceding CR) removed.
 */
long
cli_read_line(FILE *in, char **buf, size_t *cap)
{
	ssize_t		n = getline(buf, cap, in);

	if (n < 0)
		return -1;
	if (n > 0 && (*buf)[n - 1] == '\n')
		(*buf)[--n] = '\0';
	if (n > 0 && (*buf)[n - 1] == '\r')
		(*buf)[--n] = '\0';
	return (long) n;
}

/*
 * The read-process-write loop of the JSON-lines commands.
 */
int
cli_for_each_input_line(const char *command,
						int (*handle_line) (const char *line, size_t len,
											long line_no, void *arg),
						void *arg)
{
	char	   *line = NULL;
	size_t		line_cap = 0;
	long		line_no = 0;
	long		len;
	int			result = 0;

	while ((len = cli_read_line(stdin, &line, &line_cap)) >= 0)
	{
		int			status = handle_line(line, (size_t) len, ++line_no, arg);

		if (status == 1)
		{
			result = 1;
			break;
		}
		if (status == 2)
			result = 2;
	}
	if (result != 1 && ferror(stdin))
	{
		fprintf(stderr, "bertqa %s: could not read standard input\n", command);
		result = 1;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
	{
		fprintf(stderr, "bertqa %s: could not write standard output\n", command);
		result = 1;
	}
	free(line);
	return result;
}

/*
 * Parse a decimal integer option in [min, max].
 */
bool
cli_parse_int(const char *command, const char *option, const char *value,
			  long min, long max, int *out)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
	{
		cli_usage_error(command, "%s must be a whole number from %ld to %ld, not \"%s\"",
						option, min, max, value);
		return false;
	}
	*out = (int) v;
	return true;
}

/*
 * Parse a finite floating-point option.
 */
bool
cli_parse_double(const char *command, const char *option, const char *value,
				 double *out)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(value, &end);
	if (errno != 0 || end == value || *end != '\0' || v != v)
	{
		cli_usage_error(command, "%s must be a number, not \"%s\"", option, value);
		return false;
	}
	*out = v;
	return true;
}

bool
cli_parse_precision(const char *command, const char *value, BqPrecision *out)
{
	if (bq_precision_parse(value, out))
		return true;
	cli_usage_error(command, "--precision must be fp32, bf16 or int8, not \"%s\"", value);
	return false;
}

BqEncoder *
cli_encoder(const char *command, const BqModel *model, BqPrecision precision)
{
	BqError		err;
	BqEncoder  *enc = bq_encoder_new(model, precision, &err);

	if (enc == NULL)
		cli_report(&err);
	else if (bq_encoder_precision(enc) != precision)
		fprintf(stderr, "bertqa %s: %s is not available on this machine; running %s\n",
				command, bq_precision_name(precision),
				bq_precision_name(bq_encoder_precision(enc)));
	return enc;
}

/*
 * Monotonic time in milliseconds.
 */
double
cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
compare_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * If 'line' is "<key><tabs>: value", the value (without its newline and
 * anything that would need escaping in JSON) into 'out'.
 */
static void
cpuinfo_value(const char *line, const char *key, char *out, size_t size)
{
	size_t		len = strlen(key);
	size_t		n = 0;
	const char *v;

	if (out[0] != '\0' || strncmp(line, key, len) != 0 || (line[len] != '\t' && line[len] != ':') ||
		(v = strchr(line, ':')) == NULL)
		return;
	for (v++; *v == ' '; v++)
		;
	for (; *v != '\n' && *v != '\0' && n + 1 < size; v++)
		if (*v != '"' && *v != '\\')
			out[n++] = *v;
	out[n] = '\0';
}

const char *
cli_cpu_name(void)
{
	static char name[256];
	char		model_name[160] = "",
				family[16] = "",
				model[16] = "",
				line[512];
	FILE	   *f;

	if (name[0] != '\0')
		return name;
	if ((f = fopen("/proc/cpuinfo", "r")) == NULL)
		return "unknown CPU";
	while (fgets(line, sizeof(line), f) != NULL && line[0] != '\n')
	{
		cpuinfo_value(line, "model name", model_name, sizeof(model_name));
		cpuinfo_value(line, "cpu family", family, sizeof(family));
		cpuinfo_value(line, "model", model, sizeof(model));
	}
	fclose(f);
	snprintf(name, sizeof(name), "%s (family %s, model %s)", model_name, family, model);
	return name;
}

/*
 * Sort the run times and take the middle.
 */
double
cli_median(double *times, int n)
{
	qsort(times, (size_t) n, sizeof(double), compare_doubles);
	return n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
}
