/*
 * model_tokenizer.c - which tokenizer a model directory has, and checking
 * it against the model's embedding table.  tokenizer.json, where present,
 * decides; otherwise the family's own files do.
 */
#include "model_tokenizer.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "byte_bpe.h"
#include "file_util.h"
#include "model_config.h"
#include "sentencepiece_unigram.h"
#include "tokenizer_json.h"
#include "wordpiece.h"

/* Every file a tokenizer may be read from. */
static const char *const tokenizer_files[] = {
	"tokenizer.json", "vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model", NULL
};

/*
 * The tokenizer's ids must index the embedding table, every row of it.
 */
static int
check_size(const char *source, int32_t size, const BqConfig *config, BqError *err)
{
	if (config->vocab_size != 0 && size != config->vocab_size)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "vocabulary \"%s\" has %d tokens, but config.json's vocab_size is %d",
					   source, (int) size, (int) config->vocab_size);
	return BQ_OK;
}

/*
 * WordPiece over vocab.txt.
 */
static int
load_wordpiece(const char *dir, const BqConfig *config, BqTokenizer **tokenizer,
			   BqVocab **vocab, char **source, BqError *err)
{
	if ((*source = bq_model_path(dir, "vocab.txt")) == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", dir);
	if ((*vocab = bq_vocab_load(*source, err)) == NULL)
		return err->status;
	if (check_size(*source, bq_vocab_size(*vocab), config, err) != BQ_OK)
		return BQ_ERR_FORMAT;
	*tokenizer = bq_wordpiece_new(*vocab, config->lowercase, err);
	return *tokenizer != NULL ? BQ_OK : err->status;
}

/*
 * RoBERTa's byte-level BPE over vocab.json and merges.txt.
 */
static int
load_byte_bpe(const char *dir, const BqConfig *config, BqTokenizer **tokenizer, char **source,
			  BqError *err)
{
	char	   *merges = bq_model_path(dir, "merges.txt");

	if ((*source = bq_model_path(dir, "vocab.json")) == NULL || merges == NULL)
	{
		free(merges);
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", dir);
	}
	*tokenizer = bq_byte_bpe_load(*source, merges, err);
	free(merges);
	if (*tokenizer == NULL)
		return err->status;
	return check_size(*source, bq_tokenizer_vocab_size(*tokenizer), config, err);
}

/*
 * XLM-RoBERTa's SentencePiece model.
 */
static int
load_sentencepiece(const char *dir, const BqConfig *config, BqTokenizer **tokenizer,
				   char **source, BqError *err)
{
	if ((*source = bq_model_path(dir, "sentencepiece.bpe.model")) == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", dir);
	if ((*tokenizer = bq_sentencepiece_load(*source, err)) == NULL)
		return err->status;
	return check_size(*source, bq_tokenizer_vocab_size(*tokenizer), config, err);
}

/*
 * tokenizer.json, with sentencepiece.bpe.model beside it for a Unigram
 * model.
 */
static int
load_tokenizer_json(const char *dir, const BqConfig *config, BqTokenizer **tokenizer,
					BqVocab **vocab, char **source, BqError *err)
{
	char	   *sentencepiece = bq_model_path(dir, "sentencepiece.bpe.model");
	int			rc;

	if ((*source = bq_model_path(dir, "tokenizer.json")) == NULL || sentencepiece == NULL)
	{
		free(sentencepiece);
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", dir);
	}
	rc = bq_tokenizer_json_load(*source, sentencepiece, tokenizer, vocab, err);
	free(sentencepiece);
	if (rc != BQ_OK)
		return rc;
	return check_size(*source, bq_tokenizer_vocab_size(*tokenizer), config, err);
}

/* Does 'dir' hold 'file'? */
static bool
has_file(const char *dir, const char *file)
{
	char	   *path = bq_model_path(dir, file);
	struct stat sb;
	bool		found = path != NULL && stat(path, &sb) == 0;

	free(path);
	return found;
}

int
bq_model_tokenizer_load(const char *dir, const BqConfig *config, BqTokenizer **tokenizer,
						BqVocab **vocab, BqError *err)
{
	char	   *source = NULL;
	int			rc;

	*tokenizer = NULL;
	*vocab = NULL;
	if (has_file(dir, "tokenizer.json"))
		rc = load_tokenizer_json(dir, config, tokenizer, vocab, &source, err);
	else if (config->family == BQ_FAMILY_ROBERTA)
		rc = load_byte_bpe(dir, config, tokenizer, &source, err);
	else if (config->family == BQ_FAMILY_XLM_ROBERTA)
		rc = load_sentencepiece(dir, config, tokenizer, &source, err);
	else
		rc = load_wordpiece(dir, config, tokenizer, vocab, &source, err);
	if (rc != BQ_OK)
	{
		bq_tokenizer_free(*tokenizer);
		bq_vocab_free(*vocab);
		*tokenizer = NULL;
		*vocab = NULL;
	}
	free(source);
	return rc;
}

int
bq_model_tokenizer_copy(const char *from_dir, const char *to_dir, BqError *err)
{
	int			rc = BQ_OK;

	for (int i = 0; rc == BQ_OK && tokenizer_files[i] != NULL; i++)
	{
		char	   *from = bq_model_path(from_dir, tokenizer_files[i]);
		char	   *to = bq_model_path(to_dir, tokenizer_files[i]);
		struct stat sb;

		if (from == NULL || to == NULL)
			rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", to_dir);
		else if (stat(from, &sb) == 0)
			rc = bq_copy_file(from, to, err);
		free(from);
		free(to);
	}
	return rc;
}
