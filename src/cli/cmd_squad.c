/*
 * cmd_squad.c - "bertqa squad": answer every question of a SQuAD-format file
 * and write the files Google BERT's run_squad.py writes (predictions, n-best,
 * null odds), plus no-answer probabilities for "bertqa eval --na-prob-file".
 *
 * A question the settings cannot take (too long for --max-seq-len) is
 * reported and left out of the outputs; the exit status then is 2.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "squad_dataset.h"

/*
 * One output file, written as answers come so that memory stays flat:
 * {"id": value, ...} with one question per line.
 */
typedef struct JsonStream
{
	const char *path;			/* NULL: not asked for */
	FILE	   *file;
	size_t		count;			/* members written */
} JsonStream;

/* The output files, keyed by question id. */
typedef struct SquadOutputs
{
	JsonStream	predictions;	/* {id: text}, "" = no answer */
	JsonStream	nbest;			/* {id: [{text, probability, start_logit, end_logit}]} */
	JsonStream	null_odds;		/* {id: null_score_diff} */
	JsonStream	na_probs;		/* {id: probability of the null entry} */
} SquadOutputs;

/* Progress on stderr: a bar redrawn in place on a terminal. */
typedef struct Progress
{
	bool		tty;
	size_t		total;
	double		started;		/* seconds, monotonic clock */
	double		drawn;			/* when the bar was last drawn */
} Progress;

static void
squad_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa squad --input FILE.json --output PREDICTIONS.json [OPTIONS]\n\n"
			"Answers every question of a SQuAD v1.1/v2.0 file and writes run_squad.py's\n"
			"output files.\n\n"
			"  --input FILE           SQuAD-format questions\n"
			"  --output FILE          predictions {id: answer text}, \"\" for no answer\n"
			"  --nbest FILE           n-best lists {id: [{text, probability, start_logit,\n"
			"                         end_logit}, ...]}\n"
			"  --null-odds FILE       {id: null score - best span score}\n"
			"  --na-probs FILE        {id: probability of no answer}, for\n"
			"                         'bertqa eval --na-prob-file'\n");
	cli_qa_options_help(out);
	fprintf(out,
			"  --help                 show this help\n\n"
			"Exit status: 0 success, 1 failure, 2 bad usage or some questions skipped.\n");
}

/*
 * Redraw the bar at most ten times a second (and always at the end).
 */
static void
progress_update(Progress *p, size_t done)
{
	const int	width = 30;
	double		now = cli_now_ms() / 1e3;
	double		elapsed = now - p->started;
	double		rate = elapsed > 0 ? done / elapsed : 0.0;
	double		eta = rate > 0 ? (p->total - done) / rate : 0.0;
	int			filled = p->total ? (int) (width * done / p->total) : width;

	if (!p->tty || (done < p->total && now - p->drawn < 0.1))
		return;
	p->drawn = now;
	fprintf(stderr, "\r[%.*s%*s] %zu/%zu  %.1f questions/s  ETA %d:%02d ",
			filled, "##############################", width - filled, "",
			done, p->total, rate, (int) (eta / 60), (int) eta % 60);
	if (done == p->total)
		fputc('\n', stderr);
	fflush(stderr);
}

static bool
stream_open(JsonStream *stream)
{
	if (stream->path == NULL)
		return true;
	stream->file = fopen(stream->path, "w");
	if (stream->file == NULL)
	{
		fprintf(stderr, "bertqa squad: could not create \"%s\": %s\n", stream->path,
				strerror(errno));
		return false;
	}
	fputc('{', stream->file);
	return true;
}

/*
 * Write "id": value and release 'value'.
 */
static void
stream_put(JsonStream *stream, const char *id, json_object *value)
{
	json_object *key = json_object_new_string(id);

	fputs(stream->count++ ? ",\n  " : "\n  ", stream->file);
	fputs(json_object_to_json_string_ext(key, JSON_C_TO_STRING_NOSLASHESCAPE), stream->file);
	fputs(": ", stream->file);
	fputs(json_object_to_json_string_ext(value, JSON_C_TO_STRING_SPACED |
										 JSON_C_TO_STRING_NOSLASHESCAPE), stream->file);
	json_object_put(key);
	json_object_put(value);
}

/*
 * Finish the document; on failure (or when 'keep' is false) remove the
 * file, so that no truncated output is left behind.
 */
static bool
stream_close(JsonStream *stream, bool keep)
{
	bool		ok;

	if (stream->file == NULL)
		return true;
	fputs(stream->count ? "\n}\n" : "}\n", stream->file);
	ok = !ferror(stream->file);
	if (fclose(stream->file) != 0)
		ok = false;
	stream->file = NULL;
	if (keep && !ok)
		fprintf(stderr, "bertqa squad: could not write \"%s\": %s\n", stream->path,
				strerror(errno));
	if (!keep || !ok)
		unlink(stream->path);
	return ok;
}

/*
 * Write one answered question to every requested output.
 */
static void
record_answer(SquadOutputs *out, const BqSquadExample *ex, const BqQaResult *r)
{
	const char *context = ex->context;
	size_t		context_len = strlen(context);
	const BqQaCandidate *best = &r->nbest[r->answer];
	size_t		from,
				to;

	from = best->start_byte;
	to = best->end_byte;
	stream_put(&out->predictions, ex->id,
			   json_object_new_string_len(context + from, (int) (to - from)));
	if (out->nbest.file != NULL)
	{
		json_object *list = json_object_new_array();

		for (size_t i = 0; i < r->count; i++)
			json_object_array_add(list, cli_qa_entry_json(context, context_len,
														  &r->nbest[i], false));
		stream_put(&out->nbest, ex->id, list);
	}
	if (out->null_odds.file != NULL)
		stream_put(&out->null_odds, ex->id, cli_json_double(r->null_score_diff));
	if (out->na_probs.file != NULL)
	{
		double		p_null = 0.0;

		for (size_t i = 0; i < r->count; i++)
			if (r->nbest[i].is_null)
				p_null = r->nbest[i].probability;
		stream_put(&out->na_probs, ex->id, cli_json_double(p_null));
	}
}

/*
 * Answer every question in file order.  Returns 0, 1 (stop: failure) or 2
 * (some questions skipped).
 */
static int
answer_all(const BqModel *model, BqEncoder *enc, const BqQaSettings *settings,
		   const BqSquadDataset *dataset, SquadOutputs *out)
{
	Progress	progress = {isatty(STDERR_FILENO) == 1, dataset->count, cli_now_ms() / 1e3, 0.0};
	size_t		skipped = 0;
	double		seconds;

	for (size_t i = 0; i < dataset->count; i++)
	{
		const BqSquadExample *ex = &dataset->examples[i];
		BqQaResult	r;
		BqError		err;
		int			status;

		status = bq_qa_answer(model, enc, settings, ex->question, strlen(ex->question),
							  ex->context, strlen(ex->context), &r, NULL, &err);
		if (status == BQ_ERR_INPUT)
		{
			if (progress.tty)
				fputc('\n', stderr);
			fprintf(stderr, "bertqa squad: question \"%s\" skipped: %s\n", ex->id, err.message);
			skipped++;
		}
		else if (status != BQ_OK)
		{
			if (progress.tty)
				fputc('\n', stderr);
			cli_report(&err);
			return 1;
		}
		else
		{
			record_answer(out, ex, &r);
			bq_qa_result_free(&r);
		}
		progress_update(&progress, i + 1);
	}
	seconds = cli_now_ms() / 1e3 - progress.started;
	fprintf(stderr, "bertqa squad: %zu questions in %.1f s (%.1f questions/s)",
			dataset->count, seconds, seconds > 0 ? dataset->count / seconds : 0.0);
	if (skipped > 0)
		fprintf(stderr, ", %zu skipped", skipped);
	fputc('\n', stderr);
	return skipped > 0 ? 2 : 0;
}

int
cmd_squad(int argc, char **argv)
{
	CliQaOptions options;
	const char *input = NULL;
	SquadOutputs out = {{NULL, NULL, 0}, {NULL, NULL, 0}, {NULL, NULL, 0}, {NULL, NULL, 0}};
	JsonStream *streams[4] = {&out.predictions, &out.nbest, &out.null_odds, &out.na_probs};
	static const char *const stream_options[4] = {"--output", "--nbest", "--null-odds", "--na-probs"};
	BqSquadDataset dataset;
	BqModel    *model;
	BqEncoder  *enc;
	BqError		err;
	int			result;

	cli_qa_options_init(&options);
	for (int i = 1; i < argc; i++)
	{
		int			taken;
		int			k;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			squad_usage(stdout);
			return 0;
		}
		taken = cli_qa_option("squad", argc, argv, &i, &options);
		if (taken < 0)
			return 2;
		if (taken > 0)
			continue;
		for (k = 0; k < 4 && strcmp(argv[i], stream_options[k]) != 0; k++)
			;
		if (k < 4 && i + 1 < argc)
			streams[k]->path = argv[++i];
		else if (strcmp(argv[i], "--input") == 0 && i + 1 < argc)
			input = argv[++i];
		else
			return cli_usage_error("squad", "unexpected argument \"%s\" (see --help)", argv[i]);
	}
	if (input == NULL || out.predictions.path == NULL)
		return cli_usage_error("squad", "--input and --output are required (see --help)");

	if (bq_squad_dataset_load(input, &dataset, &err) != BQ_OK)
	{
		cli_report(&err);
		return err.status == BQ_ERR_NOMEM || err.status == BQ_ERR_IO ? 1 : 2;
	}
	result = cli_qa_open("squad", &options, &model, &enc);
	for (int k = 0; k < 4 && result == 0; k++)
		if (!stream_open(streams[k]))
			result = 1;

	if (result == 0)
		result = answer_all(model, enc, &options.settings, &dataset, &out);
	for (int k = 0; k < 4; k++)
		if (!stream_close(streams[k], result != 1) && result != 1)
			result = 1;

	bq_encoder_free(enc);
	bq_model_free(model);
	bq_squad_dataset_free(&dataset);
	return result;
}
