/*
 * tokenizer_json.h - a tokenizer from Hugging Face's tokenizer.json, the
 * file that, where a model has one, decides how its text is tokenized.
 *
 * bertqa reads the components its families use:
 *   - model WordPiece, with normalizer BertNormalizer and pre_tokenizer
 *     BertPreTokenizer (BERT, DistilBERT, ELECTRA);
 *   - model BPE, with no normalizer and pre_tokenizer ByteLevel (RoBERTa),
 *     merges as "a b" strings or ["a", "b"] pairs;
 *   - model Unigram (XLM-RoBERTa), run from the SentencePiece model beside
 *     it, whose pieces tokenizer.json's vocabulary must list in order;
 *   - post_processor BertProcessing, RobertaProcessing or
 *     TemplateProcessing, whose pair template becomes the tokenizer's.
 * Any other component, or an option of these that bertqa does not
 * reproduce, is an error that names it.  The decoder is not read: answers
 * are slices of the text, never decoded ids.  Added tokens must be special
 * tokens of the vocabulary; as elsewhere in bertqa, their spellings in the
 * text are ordinary text.
 */
#ifndef BQ_TOKENIZER_JSON_H
#define BQ_TOKENIZER_JSON_H

#include "bq_error.h"
#include "tokenizer.h"
#include "vocab.h"

/* json-c's object; not included here, the server's headers declare a json_object() */
struct json_object;

/*
 * The tokenizer described by 'root', a parsed tokenizer.json labelled
 * 'name' in messages.  A Unigram model is run from 'sentencepiece_path'.
 * *vocab gets the vocabulary a WordPiece tokenizer borrows (free it after
 * the tokenizer), NULL for other kinds.
 */
int			bq_tokenizer_json_parse(struct json_object *root, const char *name,
									const char *sentencepiece_path, BqTokenizer **tokenizer,
									BqVocab **vocab, BqError *err);

/* The same from the file 'path'. */
int			bq_tokenizer_json_load(const char *path, const char *sentencepiece_path,
								   BqTokenizer **tokenizer, BqVocab **vocab, BqError *err);

#endif							/* BQ_TOKENIZER_JSON_H */
