/*
 * test_byte_bpe.c - the byte-level BPE tokenizer: cases whose expected
 * tokens come from tokenizers.js (test/fixtures/bpe/reference.jsonl), the
 * pre-tokenization pattern's corners, and refusals of broken vocabularies
 * and merge lists.  test_tokenizer_parity runs the whole corpus.
 */
#include "unit.h"

#include <json-c/json.h>

#include "byte_bpe.h"
#include "check_tokens.h"
#include "file_util.h"

#define BPE_DIR "test/fixtures/bpe/"

static BqTokenizer *gpt2;

/* Cases from the reference, each a corner of the pattern or the offsets. */
static void
test_reference_cases(void)
{
	/* punctuation on its own, a space joined to the word after it */
	const BqToken hello[] = {{15500, 0, 5}, {15, 5, 6}, {2163, 7, 12}, {4, 12, 13}};

	/*
	 * A run of spaces leaves its last to the next word; a lone space token
	 * trims to an empty span.
	 */
	const BqToken spaces[] = {{224, 1, 1}, {3760, 2, 9}, {294, 10, 13}, {25466, 14, 22},
	{224, 23, 23}, {224, 24, 24}};

	/* contractions split off: " 1100" + "'s" */
	const BqToken contraction[] = {{294, 1, 4}, {36570, 5, 9}, {342, 9, 11}};

	/*
	 * "emoji 😀": the emoji's four bytes become two tokens with the emoji's
	 * span each, the first also holding the space (trimmed off).
	 */
	const BqToken emoji[] = {{372, 0, 2}, {31374, 2, 5}, {30329, 6, 7}, {226, 6, 7}};

	check_tokens(gpt2, "Hello, World!", hello, 4);
	check_tokens(gpt2, "  leading and trailing  ", spaces, 6);
	check_tokens(gpt2, " and 1100's", contraction, 3);
	check_tokens(gpt2, "emoji \xf0\x9f\x98\x80", emoji, 4);
}

/*
 * Special tokens' spellings are text: "<s>" is three tokens, not id 0.
 */
static void
test_specials_are_text(void)
{
	BqTokenList got = {0};
	BqError		err;
	const BqPairTemplate *pair = bq_tokenizer_pair_template(gpt2);

	CHECK_INT_EQ(bq_tokenize(gpt2, "<s>", 3, &got, &err), BQ_OK);
	CHECK(got.count > 1);
	for (size_t i = 0; i < got.count; i++)
		CHECK(got.tokens[i].id != pair->cls_id);
	bq_token_list_free(&got);

	CHECK_INT_EQ(pair->cls_id, 0);
	CHECK_INT_EQ(pair->sep_id, 2);
	CHECK_INT_EQ(pair->separators, 2);
	CHECK_INT_EQ(pair->context_type, 0);
	CHECK_INT_EQ(bq_tokenizer_pad_id(gpt2), 1);
	CHECK_INT_EQ(bq_tokenizer_unk_id(gpt2), 3);
	CHECK_INT_EQ(bq_tokenizer_kind(gpt2), BQ_TOKENIZER_BYTE_BPE);
	CHECK_INT_EQ(bq_tokenizer_vocab_size(gpt2), 50262);
	CHECK_STR_EQ(bq_tokenizer_token(gpt2, 3760), "\xc4\xa0leading");
	CHECK(bq_tokenizer_token(gpt2, 50262) == NULL);
}

/*
 * A very long word merges in O(n log n): a megabyte of one letter, and the
 * spans of its tokens tile it.
 */
static void
test_long_word(void)
{
	size_t		n = 1 << 20;
	char	   *text = malloc(n + 1);
	BqTokenList got = {0};
	BqError		err;
	int32_t		at = 0;

	memset(text, 'a', n);
	text[n] = '\0';
	CHECK_INT_EQ(bq_tokenize(gpt2, text, n, &got, &err), BQ_OK);
	CHECK(got.count > 0 && got.count < n);
	for (size_t i = 0; i < got.count; i++)
	{
		if (got.tokens[i].start != at || got.tokens[i].end <= at)
		{
			CHECK_INT_EQ(got.tokens[i].start, at);
			break;
		}
		at = got.tokens[i].end;
	}
	CHECK_INT_EQ(at, (int32_t) n);
	bq_token_list_free(&got);
	free(text);
}

/*
 * Make a tokenizer from a vocab.json text and merges; NULL with 'err' set
 * on failure.
 */
static BqTokenizer *
from_json(const char *vocab_text, const BqBpeMerge *merges, int32_t n_merges, BqError *err)
{
	json_object *obj = bq_json_parse(vocab_text, strlen(vocab_text), "vocab", err);
	BqVocab    *vocab = obj != NULL ? bq_vocab_from_json(obj, "test vocab", err) : NULL;

	json_object_put(obj);
	return vocab != NULL ? bq_byte_bpe_new(vocab, merges, n_merges, err) : NULL;
}

/*
 * The GPT-2 vocabulary's 256 byte characters as a vocab.json text, plus
 * 'extra' (", \"tok\": id" entries or "").
 */
static char *
byte_vocab(const char *extra)
{
	const BqTokenizer *tok = gpt2;
	size_t		cap = 8192 + strlen(extra);
	char	   *text = malloc(cap);
	size_t		len = 0;
	json_object *s;

	len += (size_t) snprintf(text, cap, "{");
	/* ids 4..259 of vocab.json are GPT-2's byte characters, in its order */
	for (int32_t id = 4; id < 260; id++)
	{
		s = json_object_new_string(bq_tokenizer_token(tok, id));
		len += (size_t) snprintf(text + len, cap - len, "%s%s: %d", id > 4 ? ", " : "",
								 json_object_to_json_string(s), (int) id - 4);
		json_object_put(s);
	}
	snprintf(text + len, cap - len, "%s}", extra);
	return text;
}

static void
test_refusals(void)
{
	BqError		err;
	char	   *bytes_only = byte_vocab("");
	char	   *with_ab = byte_vocab(", \"ab\": 256");
	char	   *gap = byte_vocab(", \"ab\": 257");
	char	   *shared = byte_vocab(", \"ab\": 255");
	const BqBpeMerge ab = {"a", "b"};
	const BqBpeMerge ax = {"a", "x\xc4\xa0"};
	BqTokenizer *tok;
	BqTokenList got = {0};

	/* the bytes alone are a tokenizer: every byte its own token */
	tok = from_json(bytes_only, NULL, 0, &err);
	CHECK(tok != NULL);
	if (tok != NULL)
	{
		CHECK_INT_EQ(bq_tokenize(tok, "ab", 2, &got, &err), BQ_OK);
		CHECK_INT_EQ(got.count, 2);
		/* no specials: the template has none to offer */
		CHECK_INT_EQ(bq_tokenizer_pair_template(tok)->cls_id, -1);
		bq_tokenizer_free(tok);
	}
	got.count = 0;
	tok = from_json(with_ab, &ab, 1, &err);
	CHECK(tok != NULL);
	if (tok != NULL)
	{
		CHECK_INT_EQ(bq_tokenize(tok, "ab", 2, &got, &err), BQ_OK);
		CHECK_INT_EQ(got.count, 1);
		CHECK_INT_EQ(got.tokens[0].id, 256);
		bq_tokenizer_free(tok);
	}
	bq_token_list_free(&got);

	/* a merge whose join is not in the vocabulary */
	CHECK(from_json(bytes_only, &ab, 1, &err) == NULL);
	CHECK(strstr(err.message, "\"ab\"") != NULL && strstr(err.message, "merge 1") != NULL);
	/* a merge of a token that is not there */
	CHECK(from_json(with_ab, &ax, 1, &err) == NULL);
	CHECK(strstr(err.message, "x\xc4\xa0") != NULL);
	/* ids with a gap, ids shared */
	CHECK(from_json(gap, NULL, 0, &err) == NULL);
	CHECK(strstr(err.message, "\"ab\" must be an integer from 0 to 256") != NULL);
	CHECK(from_json(shared, NULL, 0, &err) == NULL);
	CHECK(strstr(err.message, "share id 255") != NULL);
	/* not a byte-level vocabulary */
	CHECK(from_json("{\"a\": 0, \"b\": 1}", NULL, 0, &err) == NULL);
	CHECK(strstr(err.message, "byte 0x00") != NULL);
	CHECK(from_json("{\"a\": \"0\"}", NULL, 0, &err) == NULL);
	CHECK(strstr(err.message, "must be an integer") != NULL);
	CHECK(from_json("[1, 2]", NULL, 0, &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);

	free(bytes_only);
	free(with_ab);
	free(gap);
	free(shared);
}

/*
 * merges.txt: a line that is not two tokens is an error naming the line;
 * a missing file is BQ_ERR_NOT_FOUND.
 */
static void
test_merges_file(void)
{
	const char *path = "test/unit/tmp_bad_merges.txt";
	BqError		err;

	CHECK_INT_EQ(bq_write_file(path, "#version: 0.2\nĠ t\nbad\n", strlen("#version: 0.2\nĠ t\nbad\n"), false, &err), BQ_OK);
	CHECK(bq_byte_bpe_load(BPE_DIR "vocab.json", path, &err) == NULL);
	CHECK(strstr(err.message, "line 3") != NULL);
	CHECK_INT_EQ(bq_write_file(path, "a b c\n", 6, false, &err), BQ_OK);
	CHECK(bq_byte_bpe_load(BPE_DIR "vocab.json", path, &err) == NULL);
	CHECK(strstr(err.message, "line 1") != NULL);
	remove(path);
	CHECK(bq_byte_bpe_load(BPE_DIR "vocab.json", "test/unit/no-such-merges.txt", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_NOT_FOUND);
}

int
main(int argc, char **argv)
{
	BqError		err;

	unit_select(argc, argv);
	gpt2 = bq_byte_bpe_load(BPE_DIR "vocab.json", BPE_DIR "merges.txt", &err);
	if (gpt2 == NULL)
	{
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	RUN_TEST(test_reference_cases);
	RUN_TEST(test_specials_are_text);
	RUN_TEST(test_long_word);
	RUN_TEST(test_refusals);
	RUN_TEST(test_merges_file);
	bq_tokenizer_free(gpt2);
	UNIT_DONE();
}
