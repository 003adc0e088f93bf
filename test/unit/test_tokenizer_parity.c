/*
 * test_tokenizer_parity.c - bertqa's tokenizer against Hugging Face
 * tokenizers' output for 8,540 texts (Unicode traps, many scripts, SQuAD
 * paragraphs and questions), comparing ids and offsets.
 *
 * A difference is explained only where it sits: tokens that overlap a
 * literal special-token spelling ("[CLS]" ...), which Hugging Face turns
 * into special tokens and bertqa deliberately does not, or a word (a run of
 * non-space characters) holding a character assigned after Unicode 8.0,
 * where the Unicode versions of the reference's parts (category tables,
 * Rust's case mapping, its normalization tables) and of ICU may disagree.
 * Without those tokens, the two lists must be equal; anything else is
 * unexplained.  The test fails above 0.2% differing lines or on any
 * unexplained one.
 */
#include "unit.h"

#include <stdlib.h>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "file_util.h"
#include "wordpiece.h"
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

/* A range of code points [start, end) where a difference is explained. */
typedef struct Excuse
{
	int32_t		start;
	int32_t		end;
	DiffClass	cls;
} Excuse;

#define MAX_EXCUSES 256

/* Is the code point at 'i' of 'chars' the start of 'literal' (ASCII)? */
static bool
literal_at(const UChar32 *chars, int32_t n, int32_t i, const char *literal)
{
	int32_t		len = (int32_t) strlen(literal);

	if (i + len > n)
		return false;
	for (int32_t k = 0; k < len; k++)
		if (chars[i + k] != (UChar32) (unsigned char) literal[k])
			return false;
	return true;
}

/*
 * The ranges of 'text' where the reference may differ: each literal
 * special-token spelling, and each word holding a character newer than the
 * reference's Unicode version.  Returns how many (at most MAX_EXCUSES).
 */
static int
find_excuses(const char *text, size_t len, Excuse *excuses)
{
	static const char *const specials[] = {"[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]"};
	UChar32    *chars = malloc(sizeof(UChar32) * (len + 1));
	int32_t		n = 0;
	int			count = 0;

	for (int32_t i = 0; i < (int32_t) len;)
	{
		UChar32		c;

		U8_NEXT(text, i, (int32_t) len, c);
		chars[n++] = c;
	}
	for (int32_t i = 0; i < n && count < MAX_EXCUSES; i++)
	{
		UVersionInfo age;

		for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++)
		{
			if (count < MAX_EXCUSES && literal_at(chars, n, i, specials[k]))
				excuses[count++] = (Excuse) {i, i + (int32_t) strlen(specials[k]), DIFF_SPECIAL_LITERAL};
		}
		u_charAge(chars[i], age);
		if (count < MAX_EXCUSES && memcmp(age, reference_unicode, sizeof(UVersionInfo)) > 0)
		{
			int32_t		start = i,
						end = i + 1;

			while (start > 0 && !u_isUWhiteSpace(chars[start - 1]))
				start--;
			while (end < n && !u_isUWhiteSpace(chars[end]))
				end++;
			excuses[count++] = (Excuse) {start, end, DIFF_UNICODE_VERSION};
		}
	}
	free(chars);
	return count;
}

/* The first excuse that token 't' overlaps, or NULL. */
static const Excuse *
excuse_of(const BqToken *t, const Excuse *excuses, int n_excuses)
{
	for (int i = 0; i < n_excuses; i++)
		if (t->start < excuses[i].end && excuses[i].start < t->end)
			return &excuses[i];
	return NULL;
}

/*
 * Why 'got' differs from 'want' for 'text': when the two lists are the same
 * once the tokens overlapping an excuse are left out of both, the class of
 * those excuses (a literal special token before a newer character);
 * unexplained otherwise.
 */
static DiffClass
explain_difference(const char *text, size_t len, const BqToken *want, size_t want_count,
				   const BqToken *got, size_t got_count)
{
	Excuse		excuses[MAX_EXCUSES];
	int			n_excuses = find_excuses(text, len, excuses);
	DiffClass	cls = DIFF_UNEXPLAINED;
	size_t		w = 0,
				g = 0;
	const Excuse *e;

	while (w < want_count || g < got_count)
	{
		if (w < want_count && (e = excuse_of(&want[w], excuses, n_excuses)) != NULL)
			w++;
		else if (g < got_count && (e = excuse_of(&got[g], excuses, n_excuses)) != NULL)
			g++;
		else if (w < want_count && g < got_count &&
				 memcmp(&want[w], &got[g], sizeof(BqToken)) == 0)
		{
			w++;
			g++;
			continue;
		}
		else
			return DIFF_UNEXPLAINED;
		if (e->cls < cls)
			cls = e->cls;
	}
	return cls;
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
		cls = explain_difference(text, text_len, want, want_count, got.tokens, got.count);
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
	BqTokenizer *tok = vocab ? bq_wordpiece_new(vocab, true, &err) : NULL;
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

/*
 * Differences are excused only at the literal or the word that explains
 * them: the same difference elsewhere in the line is unexplained.
 */
static void
test_explanations(void)
{
	const char *literal = "[CLS] hello";
	const BqToken special[] = {{101, 0, 5}, {7592, 6, 11}};
	const BqToken spelled[] = {{1031, 0, 1}, {18856, 1, 3}, {2015, 3, 4}, {1033, 4, 5}, {7592, 6, 11}};
	const BqToken spelled_wrong_word[] = {{1031, 0, 1}, {18856, 1, 3}, {2015, 3, 4}, {1033, 4, 5}, {7593, 6, 11}};
	/* U+1F9D0, assigned in Unicode 10 */
	const char *newer = "a \xf0\x9f\xa7\x90" "b c";
	const BqToken unknown_word[] = {{1037, 0, 1}, {100, 2, 4}, {1039, 5, 6}};
	const BqToken split_word[] = {{1037, 0, 1}, {100, 2, 3}, {1038, 3, 4}, {1039, 5, 6}};
	const BqToken split_word_and_other[] = {{1037, 0, 1}, {100, 2, 3}, {1038, 3, 4}, {1040, 5, 6}};

	CHECK_INT_EQ(explain_difference(literal, strlen(literal), special, 2, spelled, 5),
				 DIFF_SPECIAL_LITERAL);
	CHECK_INT_EQ(explain_difference(literal, strlen(literal), special, 2, spelled_wrong_word, 5),
				 DIFF_UNEXPLAINED);
	CHECK_INT_EQ(explain_difference(literal, strlen(literal), special, 2, spelled, 4),
				 DIFF_UNEXPLAINED);
	CHECK_INT_EQ(explain_difference(newer, strlen(newer), unknown_word, 3, split_word, 4),
				 DIFF_UNICODE_VERSION);
	CHECK_INT_EQ(explain_difference(newer, strlen(newer), unknown_word, 3, split_word_and_other, 4),
				 DIFF_UNEXPLAINED);
	CHECK_INT_EQ(explain_difference("abc", 3, unknown_word, 1, split_word, 1), DIFF_UNEXPLAINED);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_explanations);
	RUN_TEST(test_parity);
	UNIT_DONE();
}
