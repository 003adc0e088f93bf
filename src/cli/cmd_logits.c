/*
 * cmd_logits.c - "bertqa logits": run the encoder on JSON lines
 * {"input_ids": [...], "token_type_ids": [...]} from stdin and write
 * {"start_logits": [...], "end_logits": [...]} per line.
 *
 * Logits are printed with 9 significant digits, enough to read back the
 * same float32, so the output can be compared bit for bit with other
 * implementations.  A bad line is reported with its number and skipped.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "compute.h"
#include "encoder.h"
#include "file_util.h"
#include "model.h"

/* The encoder, and buffers for one sequence grown as needed. */
typedef struct LogitsBuffers
{
	BqEncoder  *enc;
	int32_t    *ids;
	int32_t    *types;
	float	   *start;
	float	   *end;
	size_t		capacity;
} LogitsBuffers;

static void
logits_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa logits --model DIR [--threads N] [--precision P]\n\n"
			"Reads JSON lines {\"input_ids\": [...], \"token_type_ids\": [...]} on stdin\n"
			"(token_type_ids optional, default all 0; ids include [CLS] and [SEP]) and\n"
			"writes one line {\"start_logits\": [...], \"end_logits\": [...]} per input line.\n\n"
			"  --model DIR   model directory (config.json, vocab.txt, model.safetensors)\n"
			"  --threads N   threads per forward pass (default 1)\n"
			"  --precision P fp32, bf16 or int8 projections (default fp32)\n"
			"  --help        show this help\n\n"
			"Exit status: 0 success, 1 failure, 2 bad usage or some input lines skipped.\n");
}

/*
 * Copy a JSON array of integers into 'out'; false if it is anything else.
 */
static bool
read_id_array(json_object *arr, size_t len, int32_t *out)
{
	for (size_t i = 0; i < len; i++)
	{
		json_object *v = json_object_array_get_idx(arr, i);
		int64_t		x;

		if (!json_object_is_type(v, json_type_int))
			return false;
		x = json_object_get_int64(v);
		if (x < INT32_MIN || x > INT32_MAX)
			return false;
		out[i] = (int32_t) x;
	}
	return true;
}

static void
write_floats(FILE *out, const float *v, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		fprintf(out, i ? ", %.9g" : "%.9g", (double) v[i]);
}

/*
 * Make room for 'len' tokens.
 */
static bool
grow(LogitsBuffers *buf, size_t len)
{
	if (len <= buf->capacity)
		return true;
	free(buf->ids);
	free(buf->types);
	free(buf->start);
	free(buf->end);
	buf->ids = malloc(len * sizeof(int32_t));
	buf->types = malloc(len * sizeof(int32_t));
	buf->start = malloc(len * sizeof(float));
	buf->end = malloc(len * sizeof(float));
	buf->capacity = buf->ids && buf->types && buf->start && buf->end ? len : 0;
	return buf->capacity != 0;
}

/*
 * Run one input line: 0 done, 2 bad line (reported), 1 fatal failure.
 */
static int
logits_line(const char *line, size_t len, long line_no, void *arg)
{
	LogitsBuffers *buf = arg;
	BqEncoder  *enc = buf->enc;
	char		name[64];
	BqError		err;
	json_object *obj;
	json_object *ids;
	json_object *types = NULL;
	size_t		n;
	int32_t		n32;
	const int32_t *idp;
	const int32_t *typep;
	int			status;

	snprintf(name, sizeof(name), "line %ld", line_no);
	obj = bq_json_parse(line, len, name, &err);
	if (obj == NULL)
	{
		fprintf(stderr, "bertqa logits: %s\n", err.message);
		return err.status == BQ_ERR_NOMEM ? 1 : 2;
	}
	if (!json_object_is_type(obj, json_type_object) ||
		!json_object_object_get_ex(obj, "input_ids", &ids) ||
		!json_object_is_type(ids, json_type_array) ||
		(json_object_object_get_ex(obj, "token_type_ids", &types) &&
		 !json_object_is_type(types, json_type_array)))
	{
		fprintf(stderr, "bertqa logits: line %ld: expected an object with an \"input_ids\" array "
				"and optionally a \"token_type_ids\" array\n", line_no);
		json_object_put(obj);
		return 2;
	}
	n = json_object_array_length(ids);
	if (types != NULL && json_object_array_length(types) != n)
	{
		fprintf(stderr, "bertqa logits: line %ld: token_type_ids has %zu entries, input_ids %zu\n",
				line_no, json_object_array_length(types), n);
		json_object_put(obj);
		return 2;
	}
	if (n == 0 || n > INT32_MAX)
	{
		fprintf(stderr, "bertqa logits: line %ld: input_ids must not be empty\n", line_no);
		json_object_put(obj);
		return 2;
	}
	if (!grow(buf, n))
	{
		fprintf(stderr, "bertqa logits: out of memory\n");
		json_object_put(obj);
		return 1;
	}
	if (!read_id_array(ids, n, buf->ids) ||
		(types != NULL && !read_id_array(types, n, buf->types)))
	{
		fprintf(stderr, "bertqa logits: line %ld: ids must be integers\n", line_no);
		json_object_put(obj);
		return 2;
	}
	json_object_put(obj);
	if (types == NULL)
		memset(buf->types, 0, n * sizeof(int32_t));

	n32 = (int32_t) n;
	idp = buf->ids;
	typep = buf->types;
	status = bq_encoder_run(enc, 1, &idp, &typep, &n32, &buf->start, &buf->end, NULL, &err);
	if (status == BQ_ERR_INPUT)
	{
		fprintf(stderr, "bertqa logits: line %ld: %s\n", line_no, err.message);
		return 2;
	}
	if (status != BQ_OK)
	{
		cli_report(&err);
		return 1;
	}
	fputs("{\"start_logits\": [", stdout);
	write_floats(stdout, buf->start, n32);
	fputs("], \"end_logits\": [", stdout);
	write_floats(stdout, buf->end, n32);
	fputs("]}\n", stdout);
	return 0;
}

int
cmd_logits(int argc, char **argv)
{
	const char *model_dir = NULL;
	int			threads = 0;
	BqPrecision precision = BQ_PRECISION_FP32;
	BqError		err;
	BqModel    *model;
	BqEncoder  *enc;
	LogitsBuffers buf = {0};
	int			result;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			logits_usage(stdout);
			return 0;
		}
		else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
			model_dir = argv[++i];
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
		{
			if (!cli_parse_int("logits", "--threads", argv[++i], 1, 1024, &threads))
				return 2;
		}
		else if (strcmp(argv[i], "--precision") == 0 && i + 1 < argc)
		{
			if (!cli_parse_precision("logits", argv[++i], &precision))
				return 2;
		}
		else
			return cli_usage_error("logits", "unexpected argument \"%s\" (see --help)", argv[i]);
	}
	if (model_dir == NULL)
		return cli_usage_error("logits", "--model DIR is required (see --help)");

	if (threads > 0)
		bq_compute_set_threads(threads);
	model = bq_model_load(model_dir, &err);
	if (model == NULL)
	{
		cli_report(&err);
		return 1;
	}
	enc = cli_encoder("logits", model, precision);
	if (enc == NULL)
	{
		bq_model_free(model);
		return 1;
	}

	buf.enc = enc;
	result = cli_for_each_input_line("logits", logits_line, &buf);

	free(buf.ids);
	free(buf.types);
	free(buf.start);
	free(buf.end);
	bq_encoder_free(enc);
	bq_model_free(model);
	return result;
}
