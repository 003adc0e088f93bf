/*
 * test_tokenizer_parity.c - bertqa's tokenizer against Hugging Face
 * tokenizers' output for 8,540 texts (Unicode traps, many scripts, SQuAD
 * paragraphs and questions), comparing ids and offsets.
 *
 * Differences are classified: texts with literal special-token spellings
 * ("[CLS]" ...), which Hugging Face turns into special tokens and bertqa
 * deliberately does not; texts with characters assigned after Unicode 8.0,
 * where the Unicode versions of the reference's parts (category tables,
 * Rust's case mapping, its normalization tables) and of ICU may disagree;
 * anything else is unexplained.  The test fails above 0.2% differing lines
 * or on any unexplained one.
 */
#include "unit.h"

#include <stdlib.h>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "file_util.h"
#include "tokenizer.h"
#include "vocab.h"

#define FIXTURE "test/fixtures/tokenizer/hf-tokenizers.public.jsonl"
#define VOCAB "test/fixtures/tiny-model/vocab.txt"

/* Unicode version of the category tables Hugging Face uses. */
static const UVersionInfo reference_unicode = {8, 0, 0, 0};

typedef enum DiffClass
{
	DIFF_SPECIAL_LITERAL,
	DIFF_UNICODE_VERSION,
	DIFF_UNEXPLAINED,
	N_DIFF_CLASSES
} DiffClass;

static const char *const diff_class_names[N_DIFF_CLASSES] = {
	"literal special-token text ([CLS] etc.)",
	"characters assigned after Unicode 8.0",
	"unexplained",
};

static int	lines_total;
static int	lines_matched;
static int	diff_counts[N_DIFF_CLASSES];

/*
 * Does the text contain a code point assigned after the reference's Unicode
 * version?
 */
static bool
has_newer_characters(const char *text, size_t len)
{
	int32_t		i = 0;

	while (i < (int32_t) len)
	{
		UChar32		c;
		UVersionInfo age;

		U8_NEXT(text, i, (int32_t) len, c);
		if (c < 0)
			return false;
		u_charAge(c, age);
		if (memcmp(age, reference_unicode, sizeof(UVersionInfo)) > 0)
			return true;
	}
	return false;
}

static DiffClass
classify(const char *text, size_t len)
{
	static const char *const specials[] = {"[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]"};

	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
	{
		if (strstr(text, specials[i]) != NULL)
			return DIFF_SPECIAL_LITERAL;
	}
	if (has_newer_characters(text, len))
		return DIFF_UNICODE_VERSION;
	return DIFF_UNEXPLAINED;
}

/*
 * Print at most 'limit' tokens as "id[start,end)".
 */
static void
print_tokens(const char *label, const BqToken *tokens, size_t count)
{
	const size_t limit = 40;

	fprintf(stderr, "  %s (%zu):", label, count);
	for (size_t i = 0; i < count && i < limit; i++)
		fprintf(stderr, " %d[%d,%d)", tokens[i].id, tokens[i].start, tokens[i].end);
	if (count > limit)
		fprintf(stderr, " ...");
	fputc('\n', stderr);
}

/*
 * Read the expected tokens of one fixture line; false if malformed.
 */
static bool
expected_tokens(json_object *line, BqToken **tokens, size_t *count)
{
	json_object *ids;
	json_object *offsets;
	size_t		n;

	if (!json_object_object_get_ex(line, "ids", &ids) ||
		!json_object_object_get_ex(line, "offsets", &offsets) ||
		!json_object_is_type(ids, json_type_array) ||
		!json_object_is_type(offsets, json_type_array) ||
		json_object_array_length(ids) != json_object_array_length(offsets))
		return false;
	n = json_object_array_length(ids);
	*tokens = calloc(n + 1, sizeof(BqToken));
	if (*tokens == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		json_object *pair = json_object_array_get_idx(offsets, i);

		if (!json_object_is_type(pair, json_type_array) ||
			json_object_array_length(pair) != 2)
		{
			free(*tokens);
			return false;
		}
		(*tokens)[i].id = json_object_get_int(json_object_array_get_idx(ids, i));
		(*tokens)[i].start = json_object_get_int(json_object_array_get_idx(pair, 0));
		(*tokens)[i].end = json_object_get_int(json_object_array_get_idx(pair, 1));
	}
	*count = n;
	return true;
}

/*
 * Compare one fixture line; report it if it differs.
 */
static void
check_line(const BqTokenizer *tok, const char *json, size_t json_len, int line_no)
{
	BqError		err;
	json_object *line = bq_json_parse(json, json_len, "fixture line", &err);
	json_object *text_obj;
	BqToken    *want = NULL;
	size_t		want_count = 0;
	BqTokenList got = {0};
	const char *text;
	size_t		text_len;
	DiffClass	cls;

	if (line == NULL || !json_object_object_get_ex(line, "text", &text_obj) ||
		!expected_tokens(line, &want, &want_count))
	{
		fprintf(stderr, "%s:%d: malformed fixture line\n", FIXTURE, line_no);
		unit_current_failed = 1;
		json_object_put(line);
		return;
	}
	text = json_object_get_string(text_obj);
	text_len = (size_t) json_object_get_string_len(text_obj);
	lines_total++;
	if (bq_tokenize(tok, text, text_len, &got, &err) == BQ_OK &&
		got.count == want_count &&
		(want_count == 0 || memcmp(got.tokens, want, want_count * sizeof(BqToken)) == 0))
		lines_matched++;
	else
	{
		cls = classify(text, text_len);
		diff_counts[cls]++;
		fprintf(stderr, "line %d differs [%s]: text \"%.*s\"%s\n", line_no,
				diff_class_names[cls], text_len > 160 ? 160 : (int) text_len, text,
				text_len > 160 ? "..." : "");
		print_tokens("expected", want, want_count);
		print_tokens("got     ", got.tokens, got.count);
	}
	bq_token_list_free(&got);
	free(want);
	json_object_put(line);
}

static void
test_parity(void)
{
	BqError		err;
	BqVocab    *vocab = bq_vocab_load(VOCAB, &err);
	BqTokenizer *tok = vocab ? bq_tokenizer_new(vocab, true, &err) : NULL;
	size_t		len;
	char	   *data = bq_read_file(FIXTURE, &len, &err);
	size_t		pos = 0;
	int			line_no = 0;
	int			differing;

	CHECK(tok != NULL);
	CHECK(data != NULL);
	if (tok == NULL || data == NULL)
	{
		bq_tokenizer_free(tok);
		bq_vocab_free(vocab);
		free(data);
		return;
	}
	while (pos < len)
	{
		char	   *nl = memchr(data + pos, '\n', len - pos);
		size_t		end = nl ? (size_t) (nl - data) : len;

		line_no++;
		if (end > pos)
			check_line(tok, data + pos, end - pos, line_no);
		pos = end + 1;
	}
	differing = lines_total - lines_matched;
	printf("tokenizer parity: %d of %d lines match (%.3f%%), %d differ\n",
		   lines_matched, lines_total,
		   lines_total ? 100.0 * lines_matched / lines_total : 0.0, differing);
	for (int c = 0; c < N_DIFF_CLASSES; c++)
		printf("  differences, %s: %d\n", diff_class_names[c], diff_counts[c]);

	CHECK_INT_EQ(lines_total, 8540);
	CHECK(differing * 1000 <= lines_total * 2);
	CHECK_INT_EQ(diff_counts[DIFF_UNEXPLAINED], 0);

	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
	free(data);
}

int
main(void)
{
	RUN_TEST(test_parity);
	UNIT_DONE();
}
