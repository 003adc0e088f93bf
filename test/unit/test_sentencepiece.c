/*
 * test_sentencepiece.c - XLM-RoBERTa's tokenizer over the SentencePiece
 * library: fairseq's id layout, spans, the vocabulary's spellings, and
 * refusals of models it cannot serve.  Expected pieces come from Debian's
 * python3-sentencepiece (test/fixtures/unigram/make_files.py writes the
 * whole corpus's; test_tokenizer_parity compares it).
 */
#include "unit.h"

#include "check_tokens.h"
#include "file_util.h"
#include "sentencepiece_unigram.h"

#define UNIGRAM_DIR "test/fixtures/unigram/"

static BqTokenizer *tok;

/*
 * Pieces that start a word span the space before them; SentencePiece's
 * <unk> (an emoji outside the model) is fairseq's 3; spaces collapse.
 */
static void
test_pieces(void)
{
	const BqToken question[] = {{77, 0, 3}, {542, 3, 8}, {19, 8, 9}, {1578, 9, 18}, {6, 18, 19}};
	const BqToken emoji[] = {{8, 0, 0}, {215, 0, 2}, {29, 2, 3}, {205, 3, 4}, {31, 4, 5},
	{8, 5, 6}, {3, 6, 7}};
	const BqToken spaces[] = {{226, 2, 5}, {728, 5, 12}, {4, 12, 13}};

	check_tokens(tok, "Who ruled Normandy?", question, 5);
	check_tokens(tok, "emoji \xf0\x9f\x98\x80", emoji, 7);
	check_tokens(tok, "  two  spaces ", spaces, 3);
	check_tokens(tok, "   ", NULL, 0);
}

/*
 * fairseq's layout: four specials, the pieces from SentencePiece's id 3
 * shifted by one, <mask> last; RoBERTa's pair template.
 */
static void
test_layout(void)
{
	const BqPairTemplate *pair = bq_tokenizer_pair_template(tok);

	CHECK_INT_EQ(bq_tokenizer_kind(tok), BQ_TOKENIZER_UNIGRAM);
	CHECK_INT_EQ(bq_tokenizer_vocab_size(tok), 2002);
	CHECK_STR_EQ(bq_tokenizer_token(tok, 0), "<s>");
	CHECK_STR_EQ(bq_tokenizer_token(tok, 1), "<pad>");
	CHECK_STR_EQ(bq_tokenizer_token(tok, 2), "</s>");
	CHECK_STR_EQ(bq_tokenizer_token(tok, 3), "<unk>");
	CHECK_STR_EQ(bq_tokenizer_token(tok, 4), "s");
	CHECK_STR_EQ(bq_tokenizer_token(tok, 1578), "\xe2\x96\x81Normandy");
	CHECK_STR_EQ(bq_tokenizer_token(tok, 2001), "<mask>");
	CHECK(bq_tokenizer_token(tok, 2002) == NULL);
	CHECK_INT_EQ(pair->cls_id, 0);
	CHECK_INT_EQ(pair->sep_id, 2);
	CHECK_INT_EQ(pair->separators, 2);
	CHECK_INT_EQ(pair->context_type, 0);
	CHECK_INT_EQ(bq_tokenizer_unk_id(tok), 3);
	CHECK_INT_EQ(bq_tokenizer_pad_id(tok), 1);
}

/*
 * A missing file, a file that is no model, and a model whose special
 * pieces sit where fairseq's layout cannot take them.
 */
static void
test_refusals(void)
{
	const char *garbage = "test/unit/tmp_not_a_model";
	BqError		err;

	CHECK(bq_sentencepiece_load(UNIGRAM_DIR "no-such.model", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_NOT_FOUND);
	CHECK(strstr(err.message, "no-such.model") != NULL);

	CHECK_INT_EQ(bq_write_file(garbage, "not a protobuf\xff\xff", 16, false, &err), BQ_OK);
	CHECK(bq_sentencepiece_load(garbage, &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
	remove(garbage);

	CHECK(bq_sentencepiece_load(UNIGRAM_DIR "shifted.model", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
	CHECK(strstr(err.message, "<unk> at 1, <s> at 2 and </s> at 3") != NULL);
}

int
main(int argc, char **argv)
{
	BqError		err;

	unit_select(argc, argv);
	tok = bq_sentencepiece_load(UNIGRAM_DIR "sentencepiece.bpe.model", &err);
	if (tok == NULL)
	{
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	RUN_TEST(test_pieces);
	RUN_TEST(test_layout);
	RUN_TEST(test_refusals);
	bq_tokenizer_free(tok);
	UNIT_DONE();
}
