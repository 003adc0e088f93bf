/*
 * test_tokenizer_parity.c - bertqa's tokenizers against external ones on
 * the same 8,540 texts (Unicode traps, many scripts, SQuAD paragraphs and
 * questions), comparing ids and offsets:
 *
 *   WordPiece  Hugging Face tokenizers (test/fixtures/tokenizer)
 *   byte BPE   Hugging Face tokenizers.js and gpt-3-encoder, which agree
 *              on every text (test/fixtures/bpe)
 *   unigram    Debian's python3-sentencepiece over a model trained on
 *              SQuAD text, ids in fairseq's layout (test/fixtures/unigram)
 *
 * A difference is explained only where it sits: tokens that overlap a
 * literal special-token spelling ("[CLS]" ...), which Hugging Face turns
 * into special tokens and bertqa deliberately does not, or a word (a run of
 * non-space characters) holding a character assigned after the Unicode
 * version of the reference's character tables (for WordPiece 8.0: its
 * category tables, Rust's case mapping, its normalization tables), where
 * the reference and ICU may disagree.  Without those tokens, the two lists
 * must be equal; anything else is unexplained.  The test fails above 0.2%
 * (WordPiece) or 0.1% (the others) differing lines, or on any unexplained
 * one.
 */
#include "unit.h"

#include <stdlib.h>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "byte_bpe.h"
#include "file_util.h"
#include "sentencepiece_unigram.h"
#include "tokenizer_json.h"
#include "wordpiece.h"
#include "vocab.h"

/* The texts, with Hugging Face's WordPiece output for bert-base-uncased. */
#define CORPUS "test/fixtures/tokenizer/hf-tokenizers.public.jsonl"
#define VOCAB "test/fixtures/tiny-model/vocab.txt"
#define WORDPIECE_JSON "test/fixtures/tokenizer/tokenizer.json"
#define BPE_DIR "test/fixtures/bpe/"
#define UNIGRAM_DIR "test/fixtures/unigram/"

typedef enum DiffClass
{
	DIFF_SPECIAL_LITERAL,
	DIFF_UNICODE_VERSION,
	DIFF_UNEXPLAINED,
	N_DIFF_CLASSES
} DiffClass;

static const char *const diff_class_names[N_DIFF_CLASSES] = {
	"literal special-token text",
	"characters newer than the reference's Unicode tables",
	"unexplained",
};

/* An external tokenizer's output, one line per corpus line. */
typedef struct Reference
{
	const char *name;
	const char *path;			/* {"ids", "offsets"} lines (CORPUS holds WordPiece's) */
	const char *const *specials;	/* spellings it reads as special tokens, NULL-terminated */
	UVersionInfo unicode;		/* Unicode version of its character tables */
	int			max_differing_per_mille;
} Reference;

static const char *const bert_specials[] = {"[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", NULL};
static const char *const no_specials[] = {NULL};

static const Reference wordpiece_reference = {
	"WordPiece: Hugging Face tokenizers", CORPUS, bert_specials, {8, 0, 0, 0}, 2
};

/* Node 20's ICU (tokenizers.js, gpt-3-encoder's regular expression) */
static const Reference bpe_reference = {
	"byte-level BPE: tokenizers.js and gpt-3-encoder", BPE_DIR "reference.jsonl", no_specials,
	{15, 0, 0, 0}, 1
};

/* The same SentencePiece library on both sides: no Unicode version to excuse. */
static const Reference unigram_reference = {
	"unigram: python3-sentencepiece", UNIGRAM_DIR "reference.jsonl", no_specials,
	{255, 0, 0, 0}, 1
};

typedef struct ParityCounts
{
	int			lines_total;
	int			lines_matched;
	int			diff_counts[N_DIFF_CLASSES];
} ParityCounts;

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
find_excuses(const Reference *ref, const char *text, size_t len, Excuse *excuses)
{
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

		for (const char *const *special = ref->specials; *special != NULL; special++)
		{
			if (count < MAX_EXCUSES && literal_at(chars, n, i, *special))
				excuses[count++] = (Excuse) {i, i + (int32_t) strlen(*special), DIFF_SPECIAL_LITERAL};
		}
		u_charAge(chars[i], age);
		if (count < MAX_EXCUSES && memcmp(age, ref->unicode, sizeof(UVersionInfo)) > 0)
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
explain_difference(const Reference *ref, const char *text, size_t len, const BqToken *want,
				   size_t want_count, const BqToken *got, size_t got_count)
{
	Excuse		excuses[MAX_EXCUSES];
	int			n_excuses = find_excuses(ref, text, len, excuses);
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
 * Compare the tokens of one corpus line with its reference line; report
 * the line if they differ.
 */
static void
check_line(const Reference *ref, const BqTokenizer *tok, const char *corpus_line,
		   size_t corpus_len, const char *ref_line, size_t ref_len, int line_no,
		   ParityCounts *counts)
{
	BqError		err;
	json_object *corpus = bq_json_parse(corpus_line, corpus_len, "corpus line", &err);
	json_object *expected = bq_json_parse(ref_line, ref_len, "reference line", &err);
	json_object *text_obj;
	BqToken    *want = NULL;
	size_t		want_count = 0;
	BqTokenList got = {0};
	const char *text;
	size_t		text_len;
	DiffClass	cls;

	if (corpus == NULL || expected == NULL ||
		!json_object_object_get_ex(corpus, "text", &text_obj) ||
		!expected_tokens(expected, &want, &want_count))
	{
		fprintf(stderr, "%s:%d: malformed fixture line\n", ref->path, line_no);
		unit_current_failed = 1;
		json_object_put(corpus);
		json_object_put(expected);
		return;
	}
	text = json_object_get_string(text_obj);
	text_len = (size_t) json_object_get_string_len(text_obj);
	counts->lines_total++;
	if (bq_tokenize(tok, text, text_len, &got, &err) == BQ_OK &&
		got.count == want_count &&
		(want_count == 0 || memcmp(got.tokens, want, want_count * sizeof(BqToken)) == 0))
		counts->lines_matched++;
	else
	{
		cls = explain_difference(ref, text, text_len, want, want_count, got.tokens, got.count);
		counts->diff_counts[cls]++;
		fprintf(stderr, "line %d differs [%s]: text \"%.*s\"%s\n", line_no,
				diff_class_names[cls], text_len > 160 ? 160 : (int) text_len, text,
				text_len > 160 ? "..." : "");
		print_tokens("expected", want, want_count);
		print_tokens("got     ", got.tokens, got.count);
	}
	bq_token_list_free(&got);
	free(want);
	json_object_put(corpus);
	json_object_put(expected);
}

/*
 * The next line of a buffer, advancing *pos; false at the end.
 */
static bool
next_line(const char *data, size_t len, size_t *pos, const char **line, size_t *line_len)
{
	const char *nl;

	if (*pos >= len)
		return false;
	nl = memchr(data + *pos, '\n', len - *pos);
	*line = data + *pos;
	*line_len = nl != NULL ? (size_t) (nl - *line) : len - *pos;
	*pos += *line_len + 1;
	return true;
}

/*
 * Tokenize every corpus text with 'tok' and compare with the reference,
 * line for line; print the tally and check the bounds.
 */
static void
check_parity(const Reference *ref, const BqTokenizer *tok)
{
	BqError		err;
	size_t		corpus_len = 0;
	size_t		ref_len = 0;
	char	   *corpus = bq_read_file(CORPUS, &corpus_len, &err);
	char	   *reference = corpus != NULL ? bq_read_file(ref->path, &ref_len, &err) : NULL;
	size_t		corpus_pos = 0;
	size_t		ref_pos = 0;
	const char *corpus_line;
	const char *ref_line;
	size_t		corpus_line_len;
	size_t		ref_line_len;
	int			line_no = 0;
	int			differing;
	ParityCounts counts = {0};

	CHECK(tok != NULL);
	CHECK(reference != NULL);
	if (tok == NULL || reference == NULL)
	{
		free(corpus);
		return;
	}
	while (next_line(corpus, corpus_len, &corpus_pos, &corpus_line, &corpus_line_len))
	{
		line_no++;
		if (!next_line(reference, ref_len, &ref_pos, &ref_line, &ref_line_len))
		{
			fprintf(stderr, "%s ends before line %d of %s\n", ref->path, line_no, CORPUS);
			unit_current_failed = 1;
			break;
		}
		if (corpus_line_len > 0)
			check_line(ref, tok, corpus_line, corpus_line_len, ref_line, ref_line_len, line_no,
					   &counts);
	}
	differing = counts.lines_total - counts.lines_matched;
	printf("%s: %d of %d lines match (%.3f%%), %d differ\n", ref->name,
		   counts.lines_matched, counts.lines_total,
		   counts.lines_total ? 100.0 * counts.lines_matched / counts.lines_total : 0.0,
		   differing);
	for (int c = 0; c < N_DIFF_CLASSES; c++)
		printf("  differences, %s: %d\n", diff_class_names[c], counts.diff_counts[c]);

	CHECK_INT_EQ(counts.lines_total, 8540);
	CHECK(differing * 1000 <= counts.lines_total * ref->max_differing_per_mille);
	CHECK_INT_EQ(counts.diff_counts[DIFF_UNEXPLAINED], 0);
	free(corpus);
	free(reference);
}

static void
test_wordpiece_parity(void)
{
	BqError		err;
	BqVocab    *vocab = bq_vocab_load(VOCAB, &err);
	BqTokenizer *tok = vocab ? bq_wordpiece_new(vocab, true, &err) : NULL;

	check_parity(&wordpiece_reference, tok);
	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
}

/* RoBERTa's tokenizer: GPT-2's real vocabulary and merges */
static void
test_byte_bpe_parity(void)
{
	BqError		err;
	BqTokenizer *tok = bq_byte_bpe_load(BPE_DIR "vocab.json", BPE_DIR "merges.txt", &err);

	if (tok == NULL)
		fprintf(stderr, "%s\n", err.message);
	check_parity(&bpe_reference, tok);
	bq_tokenizer_free(tok);
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

	CHECK_INT_EQ(explain_difference(&wordpiece_reference, literal, strlen(literal), special, 2, spelled, 5),
				 DIFF_SPECIAL_LITERAL);
	CHECK_INT_EQ(explain_difference(&wordpiece_reference, literal, strlen(literal), special, 2, spelled_wrong_word, 5),
				 DIFF_UNEXPLAINED);
	CHECK_INT_EQ(explain_difference(&wordpiece_reference, literal, strlen(literal), special, 2, spelled, 4),
				 DIFF_UNEXPLAINED);
	CHECK_INT_EQ(explain_difference(&wordpiece_reference, newer, strlen(newer), unknown_word, 3, split_word, 4),
				 DIFF_UNICODE_VERSION);
	CHECK_INT_EQ(explain_difference(&wordpiece_reference, newer, strlen(newer), unknown_word, 3, split_word_and_other, 4),
				 DIFF_UNEXPLAINED);
	CHECK_INT_EQ(explain_difference(&wordpiece_reference, "abc", 3, unknown_word, 1, split_word, 1), DIFF_UNEXPLAINED);
}

/* XLM-RoBERTa's tokenizer: SentencePiece's unigram model */
static void
test_unigram_parity(void)
{
	BqError		err;
	BqTokenizer *tok = bq_sentencepiece_load(UNIGRAM_DIR "sentencepiece.bpe.model", &err);

	if (tok == NULL)
		fprintf(stderr, "%s\n", err.message);
	check_parity(&unigram_reference, tok);
	bq_tokenizer_free(tok);
}

/*
 * The same references for the tokenizers tokenizer.json files describe:
 * bert-base-uncased's, the GPT-2 one tokenizers.js read, and the unigram
 * model's in XLM-R's layout.
 */
static void
check_tokenizer_json_parity(const Reference *ref, const char *path)
{
	BqError		err;
	BqTokenizer *tok;
	BqVocab    *vocab;

	if (bq_tokenizer_json_load(path, UNIGRAM_DIR "sentencepiece.bpe.model", &tok, &vocab,
							   &err) != BQ_OK)
		fprintf(stderr, "%s\n", err.message);
	check_parity(ref, tok);
	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
}

static void
test_wordpiece_tokenizer_json_parity(void)
{
	check_tokenizer_json_parity(&wordpiece_reference, WORDPIECE_JSON);
}

static void
test_byte_bpe_tokenizer_json_parity(void)
{
	check_tokenizer_json_parity(&bpe_reference, BPE_DIR "tokenizer.json");
}

static void
test_unigram_tokenizer_json_parity(void)
{
	check_tokenizer_json_parity(&unigram_reference, UNIGRAM_DIR "tokenizer.json");
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_explanations);
	RUN_TEST(test_wordpiece_parity);
	RUN_TEST(test_byte_bpe_parity);
	RUN_TEST(test_unigram_parity);
	RUN_TEST(test_wordpiece_tokenizer_json_parity);
	RUN_TEST(test_byte_bpe_tokenizer_json_parity);
	RUN_TEST(test_unigram_tokenizer_json_parity);
	UNIT_DONE();
}
