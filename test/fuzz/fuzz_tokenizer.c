/*
 * fuzz_tokenizer.c - the tokenizers on arbitrary bytes.
 *
 * The first byte picks cased WordPiece, uncased WordPiece, byte-level BPE
 * or SentencePiece unigram; the rest is the text.  Invalid UTF-8 must be refused with an error,
 * and every token of accepted text must have a vocabulary id and a span of
 * code points inside the text, the spans in order: non-empty for
 * WordPiece, possibly empty for BPE (a lone space token trims to nothing)
 * and SentencePiece (a piece of white space alone).  The vocabularies are
 * the bundled model's, the tiny BPE one and the trained unigram model (run
 * from the repository root).
 */
#include "fuzz.h"

#include "byte_bpe.h"
#include "sentencepiece_unigram.h"
#include "wordpiece.h"
#include "vocab.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);

static BqVocab *vocab;
static BqTokenizer *tokenizers[4];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	BqError		err;

	vocab = bq_vocab_load("test/fixtures/tiny-model/vocab.txt", &err);
	if (vocab == NULL)
	{
		fprintf(stderr, "fuzz_tokenizer: %s\n", err.message);
		exit(1);
	}
	tokenizers[0] = bq_wordpiece_new(vocab, false, &err);
	tokenizers[1] = bq_wordpiece_new(vocab, true, &err);
	tokenizers[2] = bq_byte_bpe_load("test/fixtures/bpe/tiny/vocab.json",
									 "test/fixtures/bpe/tiny/merges.txt", &err);
	if (tokenizers[2] != NULL)
		tokenizers[3] = bq_sentencepiece_load("test/fixtures/unigram/sentencepiece.bpe.model",
											  &err);
	if (tokenizers[0] == NULL || tokenizers[1] == NULL || tokenizers[2] == NULL ||
		tokenizers[3] == NULL)
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
	const BqTokenizer *tok;
	const char *text;
	size_t		len;
	int32_t		code_points = 0;
	int32_t		prev_start = 0;
	bool		empty_spans;

	if (size == 0)
		return 0;
	tok = tokenizers[data[0] % 4];
	empty_spans = bq_tokenizer_kind(tok) != BQ_TOKENIZER_WORDPIECE;
	text = (const char *) data + 1;
	len = size - 1;
	if (bq_tokenize(tok, text, len, &list, &err) != BQ_OK)
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

		FUZZ_ASSERT(t->id >= 0 && t->id < bq_tokenizer_vocab_size(tok));
		FUZZ_ASSERT(t->start >= prev_start && t->end <= code_points);
		FUZZ_ASSERT(empty_spans ? t->start <= t->end : t->start < t->end);
		prev_start = t->start;
	}
	bq_token_list_free(&list);
	return 0;
}
