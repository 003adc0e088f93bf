/*
 * fuzz_vocab.c - vocab.txt loading on arbitrary bytes, then a tokenizer
 * over the accepted vocabulary.
 *
 * Every id of an accepted vocabulary must map to a token that looks up to
 * an id with the same text, and tokenizing a fixed text with it must give
 * ids inside the vocabulary.
 */
#include "fuzz.h"

#include <string.h>

#include "wordpiece.h"
#include "vocab.h"

static const char sample[] = "Hello, unaffable world! Ça va? 東京 [SEP] ##ing";

/*
 * Tokenize the sample with 'vocab', both cased and uncased.
 */
static void
tokenize_sample(const BqVocab *vocab)
{
	for (int lowercase = 0; lowercase < 2; lowercase++)
	{
		BqError		err;
		BqTokenList list = {0};
		BqTokenizer *tok = bq_wordpiece_new(vocab, lowercase, &err);

		if (tok == NULL)
		{
			FUZZ_ASSERT_ERROR(err);
			continue;
		}
		if (bq_tokenize(tok, sample, strlen(sample), &list, &err) == BQ_OK)
		{
			for (size_t i = 0; i < list.count; i++)
				FUZZ_ASSERT(list.tokens[i].id >= 0 && list.tokens[i].id < bq_vocab_size(vocab));
		}
		else
			FUZZ_ASSERT_ERROR(err);
		bq_token_list_free(&list);
		bq_tokenizer_free(tok);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BqError		err;
	BqVocab    *vocab = bq_vocab_from_buffer((const char *) data, size, "fuzz vocab.txt", &err);

	if (vocab == NULL)
	{
		FUZZ_ASSERT_ERROR(err);
		return 0;
	}
	for (int32_t id = 0; id < bq_vocab_size(vocab); id++)
	{
		const char *token = bq_vocab_token(vocab, id);
		int32_t		found;

		FUZZ_ASSERT(token != NULL);
		found = bq_vocab_lookup(vocab, token, strlen(token));
		FUZZ_ASSERT(found >= 0 && strcmp(bq_vocab_token(vocab, found), token) == 0);
	}
	tokenize_sample(vocab);
	bq_vocab_free(vocab);
	return 0;
}
