/*
 * tokenizer.h - a model's tokenizer, whatever its kind: UTF-8 text to
 * vocabulary ids, each with the span of source characters it covers, plus
 * the special tokens and the template that joins a question and a context.
 *
 * The kinds live in files of their own (wordpiece.c, byte_bpe.c,
 * sentencepiece_unigram.cc); each builds its state and hands it to
 * bq_tokenizer_wrap with the functions that serve it.
 */
#ifndef BQ_TOKENIZER_H
#define BQ_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"

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

typedef enum BqTokenizerKind
{
	BQ_TOKENIZER_WORDPIECE,		/* BERT's WordPiece (vocab.txt) */
	BQ_TOKENIZER_BYTE_BPE,		/* GPT-2's byte-level BPE (RoBERTa: vocab.json, merges.txt) */
	BQ_TOKENIZER_UNIGRAM		/* SentencePiece unigram (XLM-RoBERTa) */
} BqTokenizerKind;

/* "wordpiece", "bpe" or "unigram". */
const char *bq_tokenizer_kind_name(BqTokenizerKind kind);

/*
 * How a question and a context become one sequence:
 *
 *     cls question sep [sep] context sep
 *
 * BERT: [CLS] q [SEP] c [SEP], the context and its [SEP] of token type 1.
 * RoBERTa: <s> q </s></s> c </s>, every token of type 0.
 */
typedef struct BqPairTemplate
{
	int32_t		cls_id;			/* the first token */
	int32_t		sep_id;			/* ends each sequence */
	int32_t		separators;		/* sep tokens between question and context: 1 or 2 */
	int32_t		context_type;	/* token type of the context and its final sep */
} BqPairTemplate;

/* Special tokens besides the template's, -1 where the vocabulary lacks one. */
typedef struct BqSpecialTokens
{
	int32_t		unk_id;
	int32_t		pad_id;
} BqSpecialTokens;

typedef struct BqTokenizer BqTokenizer;

/*
 * Tokenize 'len' bytes of UTF-8, appending to 'out' (which is not cleared).
 * Offsets count code points from the start of 'text'.  Invalid UTF-8 fails
 * with BQ_ERR_INPUT and leaves 'out' as it was; so does any failure.
 */
int			bq_tokenize(const BqTokenizer *tok, const char *text, size_t len,
						BqTokenList *out, BqError *err);

void		bq_tokenizer_free(BqTokenizer *tok);

BqTokenizerKind bq_tokenizer_kind(const BqTokenizer *tok);

/* Number of ids the tokenizer can produce (its vocabulary). */
int32_t		bq_tokenizer_vocab_size(const BqTokenizer *tok);

/* The vocabulary's spelling of token 'id' ("##s", "Ġthe", "▁the"), or NULL out of range. */
const char *bq_tokenizer_token(const BqTokenizer *tok, int32_t id);

const BqPairTemplate *bq_tokenizer_pair_template(const BqTokenizer *tok);

/* Replace the template (tokenizer.json's post-processor decides). */
void		bq_tokenizer_set_pair_template(BqTokenizer *tok, const BqPairTemplate *pair);

/* Ids of the special tokens, or -1 where the vocabulary lacks one. */
int32_t		bq_tokenizer_cls_id(const BqTokenizer *tok);
int32_t		bq_tokenizer_sep_id(const BqTokenizer *tok);
int32_t		bq_tokenizer_unk_id(const BqTokenizer *tok);
int32_t		bq_tokenizer_pad_id(const BqTokenizer *tok);

void		bq_token_list_free(BqTokenList *list);

/*
 * For the kinds.  'tokenize' gets text already checked to be valid UTF-8
 * of at most INT32_MAX bytes; on failure the caller drops what it appended.
 */
typedef struct BqTokenizerOps
{
	BqTokenizerKind kind;
	int			(*tokenize) (const void *state, const char *text, int32_t len,
							 BqTokenList *out, BqError *err);
	int32_t		(*vocab_size) (const void *state);
	const char *(*token) (const void *state, int32_t id);
	void		(*free) (void *state);
} BqTokenizerOps;

/*
 * A tokenizer serving 'state' through 'ops' (which must be static).  Takes
 * ownership of 'state': it is freed with ops->free on failure too.
 */
BqTokenizer *bq_tokenizer_wrap(const BqTokenizerOps *ops, void *state,
							   const BqSpecialTokens *special, const BqPairTemplate *pair,
							   BqError *err);

/* Append a token, growing the list; false when out of memory. */
bool		bq_token_list_push(BqTokenList *list, int32_t id, int32_t start, int32_t end);

#endif							/* BQ_TOKENIZER_H */
