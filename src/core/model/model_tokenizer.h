/*
 * model_tokenizer.h - the tokenizer a model directory holds, chosen by its
 * tokenizer.json where present (tokenizer_json.h), else by the family:
 * vocab.txt (WordPiece: BERT, DistilBERT, ELECTRA), vocab.json and
 * merges.txt (byte-level BPE: RoBERTa) or sentencepiece.bpe.model
 * (SentencePiece unigram: XLM-RoBERTa).
 */
#ifndef BQ_MODEL_TOKENIZER_H
#define BQ_MODEL_TOKENIZER_H

#include "bq_error.h"
#include "model.h"
#include "tokenizer.h"
#include "vocab.h"

/* Copy every tokenizer file 'from_dir' has to 'to_dir'. */
int			bq_model_tokenizer_copy(const char *from_dir, const char *to_dir, BqError *err);

/*
 * Load the tokenizer of the model in 'dir' with 'config'.  *vocab gets the
 * WordPiece vocabulary the tokenizer borrows (free it after the
 * tokenizer), NULL for other kinds.  The tokenizer's vocabulary must have
 * exactly config.json's vocab_size tokens: fewer would leave embedding rows
 * without tokens, more would produce ids past the embedding table.  A
 * config with vocab_size 0 (a model being made) skips that check.
 */
int			bq_model_tokenizer_load(const char *dir, const BqConfig *config,
									BqTokenizer **tokenizer, BqVocab **vocab, BqError *err);

#endif							/* BQ_MODEL_TOKENIZER_H */
