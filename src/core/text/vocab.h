/*
 * vocab.h - a vocabulary: token texts by id with a hash lookup from token
 * text to id.  From WordPiece's vocab.txt (one token per line, id = line
 * number counted from 0) or a JSON object of tokens and ids (vocab.json,
 * tokenizer.json's model.vocab).
 */
#ifndef BQ_VOCAB_H
#define BQ_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"

typedef struct BqVocab BqVocab;

/* json-c's object; not included here, the server's headers declare a json_object() */
struct json_object;

/* Load vocab.txt; NULL on failure (missing file, empty vocabulary, ...). */
BqVocab    *bq_vocab_load(const char *path, BqError *err);

/* Build from an in-memory copy of a vocab.txt file (for archives, fuzzing). */
BqVocab    *bq_vocab_from_buffer(const char *data, size_t len, const char *name,
								 BqError *err);

/*
 * Build from a JSON object mapping each token to its id; the ids must be
 * 0 .. n-1, each once.  'name' labels messages.
 */
BqVocab    *bq_vocab_from_json(struct json_object *obj, const char *name, BqError *err);

void		bq_vocab_free(BqVocab *vocab);

/* Number of entries (lines). */
int32_t		bq_vocab_size(const BqVocab *vocab);

/* Id of the token spelled by bytes [text, text+len), or -1. */
int32_t		bq_vocab_lookup(const BqVocab *vocab, const char *text, size_t len);

/* NUL-terminated text of token 'id' (0 <= id < size). */
const char *bq_vocab_token(const BqVocab *vocab, int32_t id);

#endif							/* BQ_VOCAB_H */
