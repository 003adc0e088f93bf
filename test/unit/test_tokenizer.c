/*
 * test_tokenizer.c - tricky inputs for the WordPiece tokenizer with explicit
 * expected ids and offsets.
 *
 * Expectations marked "fixture line N" are Hugging Face tokenizers' output
 * copied from test/fixtures/tokenizer/hf-tokenizers.public.jsonl; the others
 * follow from the rules (and the vocabulary's ids) as explained next to
 * them.
 */
#include "unit.h"

#include <stdlib.h>

#include "wordpiece.h"
#include "vocab.h"

#define VOCAB "test/fixtures/tiny-model/vocab.txt"

/* Ids in bert-base-uncased's vocabulary used below. */
#define ID_PAD 0
#define ID_UNK 100
#define ID_CLS 101
#define ID_SEP 102

static BqVocab *uncased_vocab;
static BqTokenizer *uncased;

/*
 * Tokenize and compare with the expected tokens, printing both on mismatch.
 */
static void
check_tokens(const BqTokenizer *tok, const char *text, size_t len,
			 const BqToken *want, size_t n_want, int line)
{
	BqTokenList got = {0};
	BqError		err;
	bool		same;

	if (bq_tokenize(tok, text, len, &got, &err) != BQ_OK)
	{
		fprintf(stderr, "%s:%d: tokenize failed: %s\n", __FILE__, line, err.message);
		unit_current_failed = 1;
		return;
	}
	same = got.count == n_want;
	for (size_t i = 0; same && i < n_want; i++)
		same = got.tokens[i].id == want[i].id && got.tokens[i].start == want[i].start &&
			got.tokens[i].end == want[i].end;
	if (!same)
	{
		fprintf(stderr, "%s:%d: tokens differ\n  expected (%zu):", __FILE__, line, n_want);
		for (size_t i = 0; i < n_want; i++)
			fprintf(stderr, " %d[%d,%d)", want[i].id, want[i].start, want[i].end);
		fprintf(stderr, "\n  got      (%zu):", got.count);
		for (size_t i = 0; i < got.count; i++)
			fprintf(stderr, " %d[%d,%d)", got.tokens[i].id, got.tokens[i].start,
					got.tokens[i].end);
		fputc('\n', stderr);
		unit_current_failed = 1;
	}
	bq_token_list_free(&got);
}

/* 'text' must be a string literal: its length includes embedded NULs. */
#define CHECK_TOKENS(tok, text, ...) \
	do { \
		static const BqToken want_[] = {__VA_ARGS__}; \
		check_tokens((tok), (text), sizeof(text) - 1, want_, \
					 sizeof(want_) / sizeof(want_[0]), __LINE__); \
	} while (0)

#define CHECK_NO_TOKENS(tok, text) \
	check_tokens((tok), (text), sizeof(text) - 1, NULL, 0, __LINE__)

/*
 * Tokenize a generated text; the caller inspects the list.
 */
static BqTokenList
tokenize_or_fail(const BqTokenizer *tok, const char *text, size_t len)
{
	BqTokenList list = {0};
	BqError		err;

	if (bq_tokenize(tok, text, len, &list, &err) != BQ_OK)
	{
		fprintf(stderr, "tokenize failed: %s\n", err.message);
		unit_current_failed = 1;
	}
	return list;
}

/*
 * Repeat 'unit' n times into a fresh string.
 */
static char *
repeat(const char *unit, size_t n, size_t *len)
{
	size_t		unit_len = strlen(unit);
	char	   *s = malloc(unit_len * n + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(s + i * unit_len, unit, unit_len);
	s[unit_len * n] = '\0';
	*len = unit_len * n;
	return s;
}

static void
test_accents_and_marks(void)
{
	/* fixture line 5: precomposed accents are stripped */
	CHECK_TOKENS(uncased, "Caf\xc3\xa9 r\xc3\xa9sum\xc3\xa9 na\xc3\xafve co\xc3\xb6perate fa\xc3\xa7" "ade jalape\xc3\xb1o",
				 {7668, 0, 4}, {13746, 5, 11}, {15743, 12, 17}, {17654, 18, 27}, {8508, 28, 34},
				 {14855, 35, 37}, {2721, 37, 39}, {11837, 39, 42}, {2080, 42, 43});
	/* fixture line 15: combining marks vanish, offsets keep the base letter */
	CHECK_TOKENS(uncased, "e\xcc\x81 e\xcc\x80 a\xcc\x88 n\xcc\x83 o\xcc\x82\xcc\xa3",
				 {1041, 0, 1}, {1041, 3, 4}, {1037, 6, 7}, {1050, 9, 10}, {1051, 12, 13});
	/* U+1FEF GREEK VARIA (a symbol) decomposes to '`', which is punctuation */
	CHECK_TOKENS(uncased, "a\xe1\xbf\xaf" "b", {1037, 0, 1}, {1036, 1, 2}, {1038, 2, 3});
	/* U+037E GREEK QUESTION MARK decomposes to ';' */
	CHECK_TOKENS(uncased, "a\xcd\xbe" "b", {1037, 0, 1}, {1025, 1, 2}, {1038, 2, 3});
}

static void
test_ligatures_and_case(void)
{
	/* fixture line 12: ligatures have no canonical decomposition */
	CHECK_TOKENS(uncased, "\xef\xac\x81nance \xef\xac\x82oor \xef\xac\x80 \xef\xac\x83 \xef\xac\x84 \xef\xac\x85 \xef\xac\x86",
				 {1984, 0, 1}, {7229, 1, 4}, {3401, 4, 6}, {1985, 7, 8}, {16506, 8, 11},
				 {ID_UNK, 12, 13}, {ID_UNK, 14, 15}, {ID_UNK, 16, 17}, {ID_UNK, 18, 19}, {ID_UNK, 20, 21});
	/* fixture line 7: German sharp s, lowercase and capital (U+1E9E) */
	CHECK_TOKENS(uncased, "Stra\xc3\x9f" "e STRASSE \xc3\x9f \xe1\xba\x9e",
				 {2358, 0, 2}, {27807, 2, 6}, {2358, 7, 9}, {8180, 9, 12}, {3366, 12, 14},
				 {1096, 15, 16}, {1096, 17, 18});
	/* fixture line 8: Turkish dotted capital I and dotless i */
	CHECK_TOKENS(uncased, "\xc4\xb0stanbul ISTANBUL \xc4\xb1i I\xc4\xb0",
				 {9960, 0, 8}, {9960, 9, 17}, {1104, 18, 19}, {2072, 19, 20}, {2462, 21, 23});
	/* fixture line 9: Greek sigma lowercases to σ everywhere, final ς stays */
	CHECK_TOKENS(uncased, "\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3 \xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x82 \xcf\x82",
				 {1173, 0, 1}, {18199, 1, 2}, {29733, 2, 3}, {29735, 3, 4}, {29736, 4, 5},
				 {29730, 5, 6}, {29733, 6, 7}, {1173, 8, 9}, {18199, 9, 10}, {29733, 10, 11},
				 {29735, 11, 12}, {29736, 12, 13}, {15297, 13, 15}, {1172, 16, 17});
}

static void
test_cjk_and_hangul(void)
{
	/* fixture line 22: every ideograph is a word; 。 is punctuation */
	CHECK_TOKENS(uncased, "\xe5\x8c\x97\xe4\xba\xac\xe6\x98\xaf\xe4\xb8\xad\xe5\x9b\xbd\xe7\x9a\x84\xe9\xa6\x96\xe9\x83\xbd\xe3\x80\x82",
				 {1781, 0, 1}, {1755, 1, 2}, {ID_UNK, 2, 3}, {1746, 3, 4}, {1799, 4, 5},
				 {1916, 5, 6}, {ID_UNK, 6, 7}, {1961, 7, 8}, {1636, 8, 9});
	/* fixture line 24: a Hangul syllable decomposes to jamo, all pointing at it */
	CHECK_TOKENS(uncased, "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xeb\xac\xb8\xec\x9e\xa5\xec\x9e\x85\xeb\x8b\x88\xeb\x8b\xa4",
				 {1469, 0, 1}, {30006, 0, 1}, {30021, 0, 1}, {29991, 1, 2}, {30014, 1, 2},
				 {30020, 1, 2}, {29999, 2, 3}, {30008, 2, 3}, {1459, 4, 5}, {30014, 4, 5},
				 {30021, 4, 5}, {30000, 5, 6}, {30006, 5, 6}, {30025, 5, 6}, {29999, 6, 7},
				 {30019, 6, 7}, {30024, 6, 7}, {29992, 7, 8}, {30019, 7, 8}, {29993, 8, 9},
				 {30006, 8, 9});

	/*
	 * Hugging Face's ideograph ranges skip U+2B820..U+2B91F (Google BERT's
	 * include them): U+2B820 stays inside its word, U+2B920 is split off.
	 */
	CHECK_TOKENS(uncased, "a\xf0\xab\xa0\xa0" "b", {ID_UNK, 0, 3});
	CHECK_TOKENS(uncased, "a\xf0\xab\xa4\xa0" "b", {1037, 0, 1}, {ID_UNK, 1, 2}, {1038, 2, 3});
}

static void
test_emoji_controls_and_zero_width(void)
{
	/* fixture line 31: a ZWJ sequence is one word; VS16 is a stripped mark */
	CHECK_TOKENS(uncased, "emoji \xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6\xf0\x9f\x87\xab\xf0\x9f\x87\xb7 \xe2\x9d\xa4\xef\xb8\x8f \xe2\x98\x95",
				 {7861, 0, 2}, {29147, 2, 4}, {2072, 4, 5}, {ID_UNK, 6, 18}, {ID_UNK, 19, 20},
				 {ID_UNK, 22, 23});
	/* fixture line 16: zero-width characters (Cf) are deleted, joining words */
	CHECK_TOKENS(uncased, "zero\xe2\x80\x8bwidth\xe2\x80\x8cjoin\xe2\x80\x8dnon\xef\xbb\xbf" "bom",
				 {5717, 0, 4}, {9148, 5, 7}, {11927, 7, 9}, {2232, 9, 10}, {5558, 11, 13},
				 {23111, 13, 17}, {2239, 17, 19}, {5092, 20, 22}, {2213, 22, 23});
	/* fixture line 19: NUL and other controls are deleted */
	CHECK_TOKENS(uncased, "ctrl\x00nul\x01soh\x07" "bel\x1b" "esc\x7f" "del",
				 {14931, 0, 2}, {12190, 2, 4}, {11231, 5, 7}, {4877, 7, 10}, {11631, 10, 12},
				 {8671, 13, 16}, {2229, 17, 19}, {19797, 19, 22}, {2884, 22, 24});
	/* fixture line 21: U+0085 is a control (deleted), not a separator */
	CHECK_TOKENS(uncased, "\xc2\x85next line", {2279, 1, 5}, {2240, 6, 10});
	/* U+FFFD is deleted too: "a\uFFFDb" reads as "ab" */
	CHECK_TOKENS(uncased, "a\xef\xbf\xbd" "b", {11113, 0, 3});
}

static void
test_reference_unicode_version(void)
{
	/* U+061D (Po since Unicode 14) is not punctuation to the reference */
	CHECK_TOKENS(uncased, "a\xd8\x9d" "b", {ID_UNK, 0, 3});
	/* U+0600 (Cf since 4.0) is deleted; U+0890 (Cf since 14.0) is kept */
	CHECK_TOKENS(uncased, "a\xd8\x80" "b", {11113, 0, 3});
	CHECK_TOKENS(uncased, "a\xe0\xa2\x90" "b", {ID_UNK, 0, 3});
	/* fixture line 49: private use deleted, unassigned U+D7FF kept */
	CHECK_TOKENS(uncased, "\xed\x9f\xbf\xee\x80\x80\xef\xa3\xbf private use",
				 {ID_UNK, 0, 1}, {2797, 4, 11}, {2224, 12, 15});
}

static void
test_empty_and_whitespace(void)
{
	CHECK_NO_TOKENS(uncased, "");
	CHECK_NO_TOKENS(uncased, " ");
	CHECK_NO_TOKENS(uncased, "\t\n\r \xe3\x80\x80\xc2\xa0\xe2\x80\xa8");
	CHECK_NO_TOKENS(uncased, "\x01\x02\xe2\x80\x8b\xef\xbb\xbf\xef\xbf\xbd");
	/* fixture line 3 */
	CHECK_TOKENS(uncased, "  leading and trailing  ", {2877, 2, 9}, {1998, 10, 13}, {12542, 14, 22});
}

static void
test_word_length_limit(void)
{
	size_t		len;
	char	   *text;
	BqTokenList list;

	/* 100 characters: "cc" then 49 × "##cc" */
	text = repeat("c", 100, &len);
	list = tokenize_or_fail(uncased, text, len);
	CHECK_INT_EQ(list.count, 50);
	for (size_t i = 0; i < list.count; i++)
	{
		CHECK_INT_EQ(list.tokens[i].id, i == 0 ? 10507 : 9468);
		CHECK_INT_EQ(list.tokens[i].start, 2 * i);
		CHECK_INT_EQ(list.tokens[i].end, 2 * i + 2);
	}
	bq_token_list_free(&list);
	free(text);

	/* 101 characters: one [UNK] over the word (fixture has 101 × "c") */
	text = repeat("c", 101, &len);
	list = tokenize_or_fail(uncased, text, len);
	CHECK_INT_EQ(list.count, 1);
	if (list.count == 1)
	{
		CHECK_INT_EQ(list.tokens[0].id, ID_UNK);
		CHECK_INT_EQ(list.tokens[0].start, 0);
		CHECK_INT_EQ(list.tokens[0].end, 101);
	}
	bq_token_list_free(&list);
	free(text);

	/*
	 * The limit counts normalized characters: 100 × "e" + U+0301 is 200
	 * source code points but 100 after accent stripping, so it is split
	 * ("ee" + 49 × "##ee"); each piece spans e, mark, e (the last mark is
	 * not covered by any piece).
	 */
	text = repeat("e\xcc\x81", 100, &len);
	list = tokenize_or_fail(uncased, text, len);
	CHECK_INT_EQ(list.count, 50);
	for (size_t i = 0; i < list.count; i++)
	{
		CHECK_INT_EQ(list.tokens[i].id, i == 0 ? 25212 : 4402);
		CHECK_INT_EQ(list.tokens[i].start, 4 * i);
		CHECK_INT_EQ(list.tokens[i].end, 4 * i + 3);
	}
	bq_token_list_free(&list);
	free(text);

	/* 33 Hangul syllables are 99 jamo: split; 34 are 102 jamo: [UNK] */
	text = repeat("\xed\x95\x9c", 33, &len);
	list = tokenize_or_fail(uncased, text, len);
	CHECK_INT_EQ(list.count, 99);
	for (size_t i = 0; i < list.count; i++)
	{
		static const int32_t jamo[3] = {30005, 30006, 30021};

		CHECK_INT_EQ(list.tokens[i].id, i == 0 ? 1469 : jamo[i % 3]);
		CHECK_INT_EQ(list.tokens[i].start, i / 3);
		CHECK_INT_EQ(list.tokens[i].end, i / 3 + 1);
	}
	bq_token_list_free(&list);
	free(text);

	text = repeat("\xed\x95\x9c", 34, &len);
	list = tokenize_or_fail(uncased, text, len);
	CHECK_INT_EQ(list.count, 1);
	if (list.count == 1)
	{
		CHECK_INT_EQ(list.tokens[0].id, ID_UNK);
		CHECK_INT_EQ(list.tokens[0].end, 34);
	}
	bq_token_list_free(&list);
	free(text);
}

static void
test_special_token_literals(void)
{
	/* Ordinary text: "[", "cl" "##s", "]", "sep", "mask", "un" "##k", "pad" */
	CHECK_TOKENS(uncased, "[CLS] [SEP] [MASK] [UNK] [PAD]",
				 {1031, 0, 1}, {18856, 1, 3}, {2015, 3, 4}, {1033, 4, 5},
				 {1031, 6, 7}, {19802, 7, 10}, {1033, 10, 11},
				 {1031, 12, 13}, {7308, 13, 17}, {1033, 17, 18},
				 {1031, 19, 20}, {4895, 20, 22}, {2243, 22, 23}, {1033, 23, 24},
				 {1031, 25, 26}, {11687, 26, 29}, {1033, 29, 30});
	/* fixture line 62: "#" is punctuation, so "##" never starts a piece */
	CHECK_TOKENS(uncased, "##ing ##s", {1001, 0, 1}, {1001, 1, 2}, {13749, 2, 5},
				 {1001, 6, 7}, {1001, 7, 8}, {1055, 8, 9});
}

static void
test_invalid_utf8(void)
{
	static const struct
	{
		const char *text;
		size_t		len;
		const char *where;
	}			cases[] = {
		{"\xff", 1, "byte 0"},
		{"ab\xc3", 3, "byte 2"},			/* truncated sequence */
		{"ok \xc0\xaf", 5, "byte 3"},		/* overlong '/' */
		{"\xed\xa0\x80", 3, "byte 0"},		/* surrogate U+D800 */
		{"x\xf4\x90\x80\x80", 5, "byte 1"}, /* beyond U+10FFFF */
		{"caf\xc3\xa9 \x80", 7, "byte 6"},	/* stray continuation byte */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		BqTokenList list = {0};
		BqError		err;

		/* a list with content must come back exactly as it was */
		CHECK(bq_tokenize(uncased, "hello", 5, &list, &err) == BQ_OK);
		CHECK_INT_EQ(bq_tokenize(uncased, cases[i].text, cases[i].len, &list, &err),
					 BQ_ERR_INPUT);
		CHECK_INT_EQ(err.status, BQ_ERR_INPUT);
		CHECK(strstr(err.message, "UTF-8") != NULL);
		CHECK(strstr(err.message, cases[i].where) != NULL);
		CHECK_INT_EQ(list.count, 1);
		if (list.count == 1)
		{
			CHECK_INT_EQ(list.tokens[0].id, 7592);
			CHECK_INT_EQ(list.tokens[0].start, 0);
			CHECK_INT_EQ(list.tokens[0].end, 5);
		}
		bq_token_list_free(&list);
	}
}

static void
test_cased_mode(void)
{
	static const char vocab_text[] =
		"[PAD]\n[UNK]\n[CLS]\n[SEP]\nHello\n##llo\nhe\nCaf\xc3\xa9\ncafe\n,\n"
		"\xc4\xb0\ni\nStra\xc3\x9f" "e\n\xe4\xb8\xad\n";
	BqError		err;
	BqVocab    *vocab = bq_vocab_from_buffer(vocab_text, sizeof(vocab_text) - 1, "test vocab", &err);
	BqTokenizer *cased = vocab ? bq_wordpiece_new(vocab, false, &err) : NULL;
	BqTokenizer *lower = vocab ? bq_wordpiece_new(vocab, true, &err) : NULL;

	CHECK(cased != NULL && lower != NULL);
	if (cased == NULL || lower == NULL)
		goto done;
	/* case and accents are kept */
	CHECK_TOKENS(cased, "Hello, Caf\xc3\xa9!", {4, 0, 5}, {9, 5, 6}, {7, 7, 11}, {1, 11, 12});
	CHECK_TOKENS(lower, "Hello, Caf\xc3\xa9!", {6, 0, 2}, {5, 2, 5}, {9, 5, 6}, {8, 7, 11}, {1, 11, 12});
	CHECK_TOKENS(cased, "CAF\xc3\x89 Stra\xc3\x9f" "e", {1, 0, 4}, {12, 5, 11});
	/*
	 * A decomposed accent stays in the cased word, which is not "Café";
	 * uncased, the stripped mark is covered by no token.
	 */
	CHECK_TOKENS(cased, "Cafe\xcc\x81", {1, 0, 5});
	CHECK_TOKENS(lower, "Cafe\xcc\x81", {8, 0, 4});
	/* no lowercasing: İ is its own token; uncased it becomes "i" */
	CHECK_TOKENS(cased, "\xc4\xb0", {10, 0, 1});
	CHECK_TOKENS(lower, "\xc4\xb0", {11, 0, 1});
	/* cleaning and ideograph splitting still apply */
	CHECK_TOKENS(cased, "\xe4\xb8\xad\xe4\xb8\xad\x01He\xe2\x80\x8bllo", {13, 0, 1}, {13, 1, 2}, {4, 3, 9});

done:
	bq_tokenizer_free(cased);
	bq_tokenizer_free(lower);
	bq_vocab_free(vocab);
}

static void
test_long_mark_runs(void)
{
	size_t		len;
	char	   *marks = repeat("\xcc\x81\xcc\xa3", 10000, &len);	/* ccc 230, 220 */
	char	   *text = malloc(len + 2);
	BqTokenList list;
	BqError		err;
	BqVocab    *vocab = bq_vocab_load(VOCAB, &err);
	BqTokenizer *cased = vocab ? bq_wordpiece_new(vocab, false, &err) : NULL;

	text[0] = 'a';
	memcpy(text + 1, marks, len + 1);

	/* uncased: 20,000 marks reordered then stripped, leaving "a" */
	list = tokenize_or_fail(uncased, text, len + 1);
	CHECK_INT_EQ(list.count, 1);
	if (list.count == 1)
	{
		CHECK_INT_EQ(list.tokens[0].id, 1037);
		CHECK_INT_EQ(list.tokens[0].start, 0);
		CHECK_INT_EQ(list.tokens[0].end, 1);
	}
	bq_token_list_free(&list);

	/* cased: the marks stay, making a 20,001-character word */
	CHECK(cased != NULL);
	if (cased != NULL)
	{
		list = tokenize_or_fail(cased, text, len + 1);
		CHECK_INT_EQ(list.count, 1);
		if (list.count == 1)
		{
			CHECK_INT_EQ(list.tokens[0].id, ID_UNK);
			CHECK_INT_EQ(list.tokens[0].end, 20001);
		}
		bq_token_list_free(&list);
	}
	bq_tokenizer_free(cased);
	bq_vocab_free(vocab);
	free(marks);
	free(text);
}

static void
test_list_and_special_ids(void)
{
	BqTokenList list = {0};
	BqError		err;
	BqVocab    *no_unk;

	CHECK_INT_EQ(bq_tokenizer_cls_id(uncased), ID_CLS);
	CHECK_INT_EQ(bq_tokenizer_sep_id(uncased), ID_SEP);
	CHECK_INT_EQ(bq_tokenizer_unk_id(uncased), ID_UNK);
	CHECK_INT_EQ(bq_tokenizer_pad_id(uncased), ID_PAD);

	/* tokenize appends; offsets are relative to each text */
	CHECK(bq_tokenize(uncased, "hello", 5, &list, &err) == BQ_OK);
	CHECK(bq_tokenize(uncased, "  hello", 7, &list, &err) == BQ_OK);
	CHECK_INT_EQ(list.count, 2);
	if (list.count == 2)
	{
		CHECK_INT_EQ(list.tokens[1].id, 7592);
		CHECK_INT_EQ(list.tokens[1].start, 2);
		CHECK_INT_EQ(list.tokens[1].end, 7);
	}
	bq_token_list_free(&list);
	CHECK(list.tokens == NULL && list.count == 0);

	/* a vocabulary without [UNK] cannot tokenize */
	no_unk = bq_vocab_from_buffer("a\nb\n", 4, "no-unk", &err);
	CHECK(no_unk != NULL);
	if (no_unk != NULL)
	{
		CHECK(bq_wordpiece_new(no_unk, true, &err) == NULL);
		CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
		CHECK(strstr(err.message, "[UNK]") != NULL);
		bq_vocab_free(no_unk);
	}
}

int
main(int argc, char **argv)
{
	BqError		err;

	unit_select(argc, argv);
	uncased_vocab = bq_vocab_load(VOCAB, &err);
	uncased = uncased_vocab ? bq_wordpiece_new(uncased_vocab, true, &err) : NULL;
	if (uncased == NULL)
	{
		fprintf(stderr, "cannot load %s: %s\n", VOCAB, err.message);
		return 1;
	}
	RUN_TEST(test_accents_and_marks);
	RUN_TEST(test_ligatures_and_case);
	RUN_TEST(test_cjk_and_hangul);
	RUN_TEST(test_emoji_controls_and_zero_width);
	RUN_TEST(test_reference_unicode_version);
	RUN_TEST(test_empty_and_whitespace);
	RUN_TEST(test_word_length_limit);
	RUN_TEST(test_special_token_literals);
	RUN_TEST(test_invalid_utf8);
	RUN_TEST(test_cased_mode);
	RUN_TEST(test_long_mark_runs);
	RUN_TEST(test_list_and_special_ids);
	bq_tokenizer_free(uncased);
	bq_vocab_free(uncased_vocab);
	UNIT_DONE();
}
