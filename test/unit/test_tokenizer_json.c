/*
 * test_tokenizer_json.c - tokenizer.json: each model kind gives the same
 * tokens as the tokenizer built from the family's own files, the
 * post-processor's template becomes the pair template, a model directory's
 * tokenizer.json decides over its other files, and every component or
 * option bertqa does not reproduce is refused by name.  Corpus-wide parity
 * through tokenizer.json is test_tokenizer_parity's.
 */
#include "unit.h"

#include <json.h>
#include <unistd.h>

#include "byte_bpe.h"
#include "file_util.h"
#include "model_tokenizer.h"
#include "sentencepiece_unigram.h"
#include "tokenizer_json.h"
#include "wordpiece.h"

#define WORDPIECE_JSON "test/fixtures/tokenizer/tokenizer.json"
#define BPE_DIR "test/fixtures/bpe/tiny/"
#define UNIGRAM_DIR "test/fixtures/unigram/"
#define SENTENCEPIECE UNIGRAM_DIR "sentencepiece.bpe.model"

static const char *const texts[] = {
	"Who ruled Normandy in the 10th century?",
	"Héllo, WORLD! naïve café 東京 don't   stop\tnow",
	"The Normans (Norman: Nourmands; French: Normands) gave their name to Normandy.",
	"",
};

/* Parse a tokenizer.json (into the caller's to free with json_object_put). */
static json_object *
load_json(const char *path)
{
	BqError		err;
	json_object *root = bq_json_load_file(path, &err);

	CHECK(root != NULL);
	return root;
}

/* The same ids and spans from both tokenizers on every test text. */
static void
check_same_tokens(const BqTokenizer *a, const BqTokenizer *b)
{
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		return;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
	{
		BqTokenList la = {0};
		BqTokenList lb = {0};
		BqError		err;

		CHECK_INT_EQ(bq_tokenize(a, texts[t], strlen(texts[t]), &la, &err), BQ_OK);
		CHECK_INT_EQ(bq_tokenize(b, texts[t], strlen(texts[t]), &lb, &err), BQ_OK);
		CHECK_INT_EQ(la.count, lb.count);
		CHECK(la.count == lb.count &&
			  memcmp(la.tokens, lb.tokens, la.count * sizeof(BqToken)) == 0);
		bq_token_list_free(&la);
		bq_token_list_free(&lb);
	}
}

static void
check_template(const BqTokenizer *tok, int32_t cls, int32_t sep, int32_t separators,
			   int32_t context_type)
{
	const BqPairTemplate *pair;

	CHECK(tok != NULL);
	if (tok == NULL)
		return;
	pair = bq_tokenizer_pair_template(tok);
	CHECK_INT_EQ(pair->cls_id, cls);
	CHECK_INT_EQ(pair->sep_id, sep);
	CHECK_INT_EQ(pair->separators, separators);
	CHECK_INT_EQ(pair->context_type, context_type);
}

/* Set the member at dotted 'path' of 'root' ("model.vocab", "post_processor.pair.3") to 'value'. */
static void
set_path(json_object *root, const char *path, const char *value)
{
	char		buf[256];
	char	   *key = buf;
	char	   *dot;
	json_object *obj = root;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(key, '.')) != NULL)
	{
		*dot = '\0';
		obj = json_object_is_type(obj, json_type_array) ?
			json_object_array_get_idx(obj, (size_t) atoi(key)) :
			json_object_object_get(obj, key);
		key = dot + 1;
	}
	if (json_object_is_type(obj, json_type_array))
		json_object_array_put_idx(obj, (size_t) atoi(key), json_tokener_parse(value));
	else
		json_object_object_add(obj, key, json_tokener_parse(value));
}

/* tokenizer.json for bert-base-uncased is the WordPiece of its vocab.txt. */
static void
test_wordpiece(void)
{
	BqError		err;
	BqVocab    *txt_vocab = bq_vocab_load("test/fixtures/tiny-model/vocab.txt", &err);
	BqTokenizer *from_txt = bq_wordpiece_new(txt_vocab, true, &err);
	BqTokenizer *tok;
	BqVocab    *vocab;

	CHECK_INT_EQ(bq_tokenizer_json_load(WORDPIECE_JSON, SENTENCEPIECE, &tok, &vocab, &err), BQ_OK);
	check_same_tokens(tok, from_txt);
	check_template(tok, 101, 102, 1, 1);
	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
	bq_tokenizer_free(from_txt);
	bq_vocab_free(txt_vocab);
}

/* BertNormalizer's lowercase false is the cased WordPiece. */
static void
test_cased_normalizer(void)
{
	BqError		err;
	json_object *root = load_json(WORDPIECE_JSON);
	BqVocab    *txt_vocab = bq_vocab_load("test/fixtures/tiny-model/vocab.txt", &err);
	BqTokenizer *cased = bq_wordpiece_new(txt_vocab, false, &err);
	BqTokenizer *tok;
	BqVocab    *vocab;

	set_path(root, "normalizer.lowercase", "false");
	CHECK_INT_EQ(bq_tokenizer_json_parse(root, "cased", SENTENCEPIECE, &tok, &vocab, &err), BQ_OK);
	check_same_tokens(tok, cased);
	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
	bq_tokenizer_free(cased);
	bq_vocab_free(txt_vocab);
	json_object_put(root);
}

/*
 * RoBERTa's tokenizer.json is its vocab.json and merges.txt, with merges
 * as "a b" strings or as ["a", "b"] pairs.
 */
static void
test_byte_bpe(void)
{
	BqError		err;
	BqTokenizer *from_files = bq_byte_bpe_load(BPE_DIR "vocab.json", BPE_DIR "merges.txt", &err);
	json_object *root = load_json(BPE_DIR "tokenizer.json");
	json_object *merges = json_object_object_get(json_object_object_get(root, "model"), "merges");
	BqTokenizer *tok;
	BqVocab    *vocab;

	CHECK_INT_EQ(bq_tokenizer_json_parse(root, "strings", SENTENCEPIECE, &tok, &vocab, &err), BQ_OK);
	CHECK(vocab == NULL);
	check_same_tokens(tok, from_files);
	check_template(tok, 0, 2, 2, 0);
	bq_tokenizer_free(tok);
	for (size_t i = 0; i < json_object_array_length(merges); i++)
	{
		const char *rule = json_object_get_string(json_object_array_get_idx(merges, i));
		const char *space = strchr(rule, ' ');
		json_object *pair = json_object_new_array();

		json_object_array_add(pair, json_object_new_string_len(rule, (int) (space - rule)));
		json_object_array_add(pair, json_object_new_string(space + 1));
		json_object_array_put_idx(merges, i, pair);
	}
	CHECK_INT_EQ(bq_tokenizer_json_parse(root, "pairs", SENTENCEPIECE, &tok, &vocab, &err), BQ_OK);
	check_same_tokens(tok, from_files);
	bq_tokenizer_free(tok);
	bq_tokenizer_free(from_files);
	json_object_put(root);
}

/* XLM-R's tokenizer.json runs the SentencePiece model beside it. */
static void
test_unigram(void)
{
	BqError		err;
	BqTokenizer *from_model = bq_sentencepiece_load(SENTENCEPIECE, &err);
	BqTokenizer *tok;
	BqVocab    *vocab;

	CHECK_INT_EQ(bq_tokenizer_json_load(UNIGRAM_DIR "tokenizer.json", SENTENCEPIECE, &tok, &vocab,
										&err), BQ_OK);
	check_same_tokens(tok, from_model);
	check_template(tok, 0, 2, 2, 0);
	bq_tokenizer_free(tok);
	bq_tokenizer_free(from_model);
}

/* BertProcessing and RobertaProcessing decide the template too. */
static void
test_post_processors(void)
{
	BqError		err;
	json_object *root = load_json(WORDPIECE_JSON);
	BqTokenizer *tok;
	BqVocab    *vocab;

	set_path(root, "post_processor",
			 "{\"type\": \"BertProcessing\", \"sep\": [\"[SEP]\", 102], \"cls\": [\"[CLS]\", 101]}");
	CHECK_INT_EQ(bq_tokenizer_json_parse(root, "bert", SENTENCEPIECE, &tok, &vocab, &err), BQ_OK);
	check_template(tok, 101, 102, 1, 1);
	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
	set_path(root, "post_processor",
			 "{\"type\": \"RobertaProcessing\", \"sep\": [\"[SEP]\", 102], \"cls\": [\"[CLS]\", 101]}");
	CHECK_INT_EQ(bq_tokenizer_json_parse(root, "roberta", SENTENCEPIECE, &tok, &vocab, &err), BQ_OK);
	check_template(tok, 101, 102, 2, 0);
	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
	json_object_put(root);
}

/* A change to one of the fixtures, and the words its refusal must hold. */
typedef struct Refusal
{
	const char *file;
	const char *path;
	const char *value;
	const char *message;
} Refusal;

static const Refusal refusals[] = {
	{WORDPIECE_JSON, "model.type", "\"WordLevel\"", "model \"WordLevel\" is not supported"},
	{WORDPIECE_JSON, "normalizer", "{\"type\": \"Lowercase\"}", "normalizer \"Lowercase\""},
	{WORDPIECE_JSON, "normalizer.strip_accents", "false", "\"strip_accents\": false"},
	{WORDPIECE_JSON, "normalizer.clean_text", "false", "\"clean_text\": false"},
	{WORDPIECE_JSON, "pre_tokenizer", "{\"type\": \"Whitespace\"}", "pre_tokenizer \"Whitespace\""},
	{WORDPIECE_JSON, "model.continuing_subword_prefix", "\"@@\"", "\"@@\" is not supported"},
	{WORDPIECE_JSON, "model.max_input_chars_per_word", "200", "max_input_chars_per_word"},
	{WORDPIECE_JSON, "post_processor", "null", "post_processor \"null\""},
	{WORDPIECE_JSON, "post_processor.pair.4.SpecialToken.type_id", "0", "pair template"},
	{WORDPIECE_JSON, "post_processor.pair.0", "{\"Sequence\": {\"id\": \"A\"}}", "pair template"},
	{WORDPIECE_JSON, "post_processor.special_tokens.[CLS].ids", "[5]", "special tokens \"[CLS]\""},
	{WORDPIECE_JSON, "added_tokens.0.special", "false", "\"[PAD]\" is not special"},
	{WORDPIECE_JSON, "added_tokens.0.id", "7", "\"[PAD]\" is not id 7"},
	{BPE_DIR "tokenizer.json", "normalizer", "{\"type\": \"NFC\"}", "normalizer \"NFC\""},
	{BPE_DIR "tokenizer.json", "pre_tokenizer.add_prefix_space", "true", "add_prefix_space"},
	{BPE_DIR "tokenizer.json", "model.dropout", "0.1", "dropout"},
	{BPE_DIR "tokenizer.json", "model.byte_fallback", "true", "byte_fallback"},
	{BPE_DIR "tokenizer.json", "model.merges.3", "\"Ġt\"", "merge 3"},
	{BPE_DIR "tokenizer.json", "post_processor.trim_offsets", "false", "trim_offsets"},
	{BPE_DIR "tokenizer.json", "post_processor.sep", "[\"</s>\", 5]", "is not id 5"},
	{BPE_DIR "tokenizer.json", "post_processor.type", "\"TemplateProcessing\"",
	"post_processor \"TemplateProcessing\""},
	{UNIGRAM_DIR "tokenizer.json", "model.vocab.9.0", "\"elsewhere\"", "Unigram piece 9"},
	{UNIGRAM_DIR "tokenizer.json", "pre_tokenizer", "{\"type\": \"Whitespace\"}",
	"pre_tokenizer \"Whitespace\""},
};

/* Each change is refused with a message naming what bertqa does not read. */
static void
test_refusals(void)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
	{
		const Refusal *r = &refusals[i];
		json_object *root = load_json(r->file);
		BqTokenizer *tok;
		BqVocab    *vocab;
		BqError		err;

		set_path(root, r->path, r->value);
		CHECK_INT_EQ(bq_tokenizer_json_parse(root, "t", SENTENCEPIECE, &tok, &vocab, &err),
					 BQ_ERR_FORMAT);
		CHECK(tok == NULL && vocab == NULL);
		if (strstr(err.message, r->message) == NULL)
		{
			fprintf(stderr, "%s = %s: \"%s\" lacks \"%s\"\n", r->path, r->value, err.message,
					r->message);
			unit_current_failed = 1;
		}
		json_object_put(root);
	}
}

/*
 * In a model directory tokenizer.json decides: here a cased tokenizer.json
 * beside an uncased configuration, and no vocab.txt at all; its size is
 * checked against config.json's like any vocabulary's.
 */
static void
test_model_directory(void)
{
	char		dir[] = "/tmp/bq_tokenizer_json_XXXXXX";
	char		path[64];
	json_object *root = load_json(WORDPIECE_JSON);
	BqConfig	config = {.family = BQ_FAMILY_BERT, .vocab_size = 30522, .lowercase = true};
	BqTokenizer *tok;
	BqVocab    *vocab;
	BqTokenList list = {0};
	BqError		err;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/tokenizer.json", dir);
	set_path(root, "normalizer.lowercase", "false");
	CHECK(json_object_to_file(path, root) == 0);
	CHECK_INT_EQ(bq_model_tokenizer_load(dir, &config, &tok, &vocab, &err), BQ_OK);
	CHECK(tok != NULL && vocab != NULL);
	if (tok != NULL)
		CHECK_INT_EQ(bq_tokenize(tok, "Paris", 5, &list, &err), BQ_OK);
	/* uncased: "paris" (3000); cased: bert-base-uncased has no "P", so [UNK] */
	CHECK(list.count == 1 && list.tokens[0].id == 100);
	bq_token_list_free(&list);
	bq_tokenizer_free(tok);
	bq_vocab_free(vocab);
	config.vocab_size = 30000;
	CHECK_INT_EQ(bq_model_tokenizer_load(dir, &config, &tok, &vocab, &err), BQ_ERR_FORMAT);
	CHECK(strstr(err.message, "tokenizer.json\" has 30522 tokens") != NULL);
	unlink(path);
	rmdir(dir);
	json_object_put(root);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_wordpiece);
	RUN_TEST(test_cased_normalizer);
	RUN_TEST(test_byte_bpe);
	RUN_TEST(test_unigram);
	RUN_TEST(test_post_processors);
	RUN_TEST(test_refusals);
	RUN_TEST(test_model_directory);
	UNIT_DONE();
}
