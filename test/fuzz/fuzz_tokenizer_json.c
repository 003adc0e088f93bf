/*
 * fuzz_tokenizer_json.c - tokenizer.json reading on arbitrary bytes.
 *
 * Bytes that parse as JSON go to the tokenizer.json reader (a Unigram model
 * is run from the trained unigram fixture; run from the repository root).
 * It must refuse with an error or build a tokenizer whose pair template's
 * ids and whose tokens of a fixed text are inside its vocabulary.
 */
#include "fuzz.h"

#include <json.h>
#include <string.h>

#include "tokenizer_json.h"

static const char sample[] = "Hello, unaffable world! Ça va? 東京 [SEP] ##ing </s>";

/*
 * The accepted tokenizer's ids stay inside its vocabulary.
 */
static void
check_tokenizer(const BqTokenizer *tok)
{
	const BqPairTemplate *pair = bq_tokenizer_pair_template(tok);
	int32_t		size = bq_tokenizer_vocab_size(tok);
	BqTokenList list = {0};
	BqError		err;

	FUZZ_ASSERT(pair->cls_id >= 0 && pair->cls_id < size);
	FUZZ_ASSERT(pair->sep_id >= 0 && pair->sep_id < size);
	FUZZ_ASSERT(pair->separators == 1 || pair->separators == 2);
	if (bq_tokenize(tok, sample, strlen(sample), &list, &err) == BQ_OK)
	{
		for (size_t i = 0; i < list.count; i++)
			FUZZ_ASSERT(list.tokens[i].id >= 0 && list.tokens[i].id < size);
	}
	else
		FUZZ_ASSERT_ERROR(err);
	bq_token_list_free(&list);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_tokener *tokener = json_tokener_new();
	json_object *root;
	BqTokenizer *tok;
	BqVocab    *vocab;
	BqError		err;

	if (tokener == NULL)
		return 0;
	root = json_tokener_parse_ex(tokener, (const char *) data, (int) size);
	json_tokener_free(tokener);
	if (root == NULL)
		return 0;
	if (bq_tokenizer_json_parse(root, "fuzz tokenizer.json",
								"test/fixtures/unigram/sentencepiece.bpe.model", &tok, &vocab,
								&err) == BQ_OK)
	{
		check_tokenizer(tok);
		bq_tokenizer_free(tok);
		bq_vocab_free(vocab);
	}
	else
		FUZZ_ASSERT_ERROR(err);
	json_object_put(root);
	return 0;
}
