/*
 * fuzz_tokenizer.c - the WordPiece tokenizer on arbitrary bytes.
 *
 * The first byte picks cased or uncased behaviour; the rest is the text.
 * Invalid UTF-8 must be refused with an error, and every token of accepted
 * text must have a vocabulary id and a non-empty span of code points inside
 * the text, the spans in order.  The vocabulary is the bundled model's (run from the repository
 * root, or set BQ_FUZZ_VOCAB).
 */
#include "fuzz.h"

#include "wordpiece.h"
#include "vocab.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);

static BqVocab *vocab;
static BqTokenizer *tokenizers[2];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("BQ_FUZZ_VOCAB");
	BqError		err;

	vocab = bq_vocab_load(path != NULL ? path : "test/fixtures/tiny-model/vocab.txt", &err);
	if (vocab == NULL)
	{
		fprintf(stderr, "fuzz_tokenizer: %s\n", err.message);
		exit(1);
	}
	tokenizers[0] = bq_wordpiece_new(vocab, false, &err);
	tokenizers[1] = bq_wordpiece_new(vocab, true, &err);
	if (tokenizers[0] == NULL || tokenizers[1] == NULL)
	{
		fprintf(stderr, "fuzz_tokenizer: %s\n", err.message);
		exit(1);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BqTokenList list = {0};
	BqError		err;
	const char *text;
	size_t		len;
	int32_t		code_points = 0;
	int32_t		prev_start = 0;

	if (size == 0)
		return 0;
	text = (const char *) data + 1;
	len = size - 1;
	if (bq_tokenize(tokenizers[data[0] & 1], text, len, &list, &err) != BQ_OK)
	{
		FUZZ_ASSERT_ERROR(err);
		bq_token_list_free(&list);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		code_points += ((unsigned char) text[i] & 0xC0) != 0x80;
	for (size_t i = 0; i < list.count; i++)
	{
		const BqToken *t = &list.tokens[i];

		FUZZ_ASSERT(t->id >= 0 && t->id < bq_vocab_size(vocab));
		FUZZ_ASSERT(t->start >= prev_start && t->start < t->end && t->end <= code_points);
		prev_start = t->start;
	}
	bq_token_list_free(&list);
	return 0;
}
