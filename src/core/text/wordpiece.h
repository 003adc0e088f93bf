/*
 * wordpiece.h - BERT WordPiece tokenization with exact character offsets.
 *
 * Semantics follow Hugging Face tokenizers' BertWordPiece as configured for
 * bert-base-uncased: clean text, split CJK ideographs, optionally lowercase
 * and strip accents, split on whitespace and punctuation, then greedy
 * longest-match WordPiece with "##" continuations.  Literal "[CLS]" and the
 * like in the input are ordinary text, never special tokens.
 */
#ifndef BQ_WORDPIECE_H
#define BQ_WORDPIECE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"
#include "vocab.h"

/* Longest word WordPiece will split; longer words become [UNK]. */
#define BQ_MAX_WORD_CHARS 100

typedef struct BqToken
{
	int32_t		id;				/* vocabulary id */
	int32_t		start;			/* first code point of the source text, 0-based */
	int32_t		end;			/* one past the last code point */
} BqToken;

/* A growable token array; zero-initialize, then bq_token_list_free. */
typedef struct BqTokenList
{
	BqToken    *tokens;			/* [count] */
	size_t		count;
	size_t		capacity;
} BqTokenList;

typedef struct BqTokenizer BqTokenizer;

/*
 * Make a tokenizer over 'vocab' (borrowed: it must outlive the tokenizer).
 * 'lowercase' selects uncased behaviour (lowercasing and accent stripping).
 * Fails if the vocabulary lacks [UNK].
 */
BqTokenizer *bq_tokenizer_new(const BqVocab *vocab, bool lowercase, BqError *err);
void		bq_tokenizer_free(BqTokenizer *tok);

/*
 * Tokenize 'len' bytes of UTF-8, appending to 'out' (which is not cleared).
 * Offsets count code points from the start of 'text'.  Invalid UTF-8 fails
 * with BQ_ERR_INPUT and leaves 'out' as it was.
 */
int			bq_tokenize(const BqTokenizer *tok, const char *text, size_t len,
						BqTokenList *out, BqError *err);

void		bq_token_list_free(BqTokenList *list);

/* Ids of the special tokens, or -1 where the vocabulary lacks one. */
int32_t		bq_tokenizer_cls_id(const BqTokenizer *tok);
int32_t		bq_tokenizer_sep_id(const BqTokenizer *tok);
int32_t		bq_tokenizer_unk_id(const BqTokenizer *tok);
int32_t		bq_tokenizer_pad_id(const BqTokenizer *tok);

#endif							/* BQ_WORDPIECE_H */
