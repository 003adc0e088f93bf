/*
 * cmd_bench_tokenize.c - "bertqa bench-tokenize": tokenizer throughput on
 * the distinct contexts of a SQuAD file, on one thread.
 *
 * Each run tokenizes every distinct context once; the median run is
 * reported, which shrugs off the odd run disturbed by other processes.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "squad_dataset.h"
#include "wordpiece.h"
#include "vocab.h"

static void
bench_usage(FILE *out)
{
	fprintf(out,
			"usage: bertqa bench-tokenize --vocab FILE --data SQUAD.json [--runs N]\n\n"
			"Tokenizes (uncased) every distinct paragraph context of a SQuAD file N\n"
			"times and prints one JSON line:\n"
			"{\"mb_per_s\": ..., \"bytes\": ..., \"tokens\": ..., \"runs\": ..., \"median_ms\": ...}\n"
			"(MB = 10^6 bytes of UTF-8 text, median over the runs).\n\n"
			"  --vocab FILE  WordPiece vocabulary (vocab.txt)\n"
			"  --data FILE   SQuAD v1.1/v2.0 JSON file\n"
			"  --runs N      number of timed runs, 1 to 1000 (default 5)\n");
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * The distinct context texts of the dataset, sorted; NULL when out of memory.
 */
static const char **
distinct_contexts(const BqSquadDataset *dataset, size_t *count)
{
	const char **contexts = malloc((dataset->count + 1) * sizeof(char *));
	size_t		n = 0;

	if (contexts == NULL)
		return NULL;
	for (size_t i = 0; i < dataset->count; i++)
		contexts[i] = dataset->examples[i].context;
	qsort(contexts, dataset->count, sizeof(char *), compare_strings);
	for (size_t i = 0; i < dataset->count; i++)
	{
		if (n == 0 || strcmp(contexts[n - 1], contexts[i]) != 0)
			contexts[n++] = contexts[i];
	}
	*count = n;
	return contexts;
}

/*
 * Time 'runs' passes over the contexts; fills times[] and the token count.
 */
static bool
run_bench(const BqTokenizer *tok, const char **contexts, size_t n_contexts,
		  int runs, double *times, size_t *tokens)
{
	BqTokenList list = {0};
	BqError		err;

	for (int r = 0; r < runs; r++)
	{
		double		start = cli_now_ms();

		*tokens = 0;
		for (size_t i = 0; i < n_contexts; i++)
		{
			list.count = 0;
			if (bq_tokenize(tok, contexts[i], strlen(contexts[i]), &list, &err) != BQ_OK)
			{
				cli_report(&err);
				bq_token_list_free(&list);
				return false;
			}
			*tokens += list.count;
		}
		times[r] = cli_now_ms() - start;
	}
	bq_token_list_free(&list);
	return true;
}

int
cmd_bench_tokenize(int argc, char **argv)
{
	const char *vocab_path = NULL;
	const char *data_path = NULL;
	int			runs = 5;
	BqError		err;
	BqVocab    *vocab = NULL;
	BqTokenizer *tok = NULL;
	BqSquadDataset dataset = {0};
	const char **contexts = NULL;
	size_t		n_contexts = 0;
	size_t		bytes = 0;
	size_t		tokens = 0;
	double	   *times = NULL;
	int			result = 1;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			bench_usage(stdout);
			return 0;
		}
		else if (strcmp(argv[i], "--vocab") == 0 && i + 1 < argc)
			vocab_path = argv[++i];
		else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data_path = argv[++i];
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
		{
			if (!cli_parse_int("bench-tokenize", "--runs", argv[++i], 1, 1000, &runs))
				return 2;
		}
		else
			return cli_usage_error("bench-tokenize", "unexpected argument \"%s\" (see --help)",
								   argv[i]);
	}
	if (vocab_path == NULL || data_path == NULL)
		return cli_usage_error("bench-tokenize", "--vocab FILE and --data FILE are required (see --help)");

	if ((vocab = bq_vocab_load(vocab_path, &err)) == NULL ||
		(tok = bq_wordpiece_new(vocab, true, &err)) == NULL ||
		bq_squad_dataset_load(data_path, &dataset, &err) != BQ_OK)
	{
		cli_report(&err);
		goto done;
	}
	contexts = distinct_contexts(&dataset, &n_contexts);
	times = malloc(runs * sizeof(double));
	if (contexts == NULL || times == NULL)
	{
		fprintf(stderr, "bertqa bench-tokenize: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < n_contexts; i++)
		bytes += strlen(contexts[i]);

	if (run_bench(tok, contexts, n_contexts, runs, times, &tokens))
	{
		double		median;

		median = cli_median(times, runs);
		printf("{\"mb_per_s\": %.2f, \"bytes\": %zu, \"tokens\": %zu, \"runs\": %d, "
			   "\"median_ms\": %.3f}\n",
			   median > 0 ? bytes / 1e6 / (median / 1e3) : 0.0, bytes, tokens, runs, median);
		result = fflush(stdout) == 0 ? 0 : 1;
	}

done:
	free(times);
	free(contexts);
	bq_squad_dataset_free(&dataset);
	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
	return result;
}
