/*
 * tokenizer.c - what every kind of tokenizer shares: checking the input,
 * the token list, special tokens and the pair template.
 */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/utf8.h>

struct BqTokenizer
{
	const BqTokenizerOps *ops;
	void	   *state;			/* the kind's own, freed with ops->free */
	BqSpecialTokens special;
	BqPairTemplate pair;
};

const char *
bq_tokenizer_kind_name(BqTokenizerKind kind)
{
	switch (kind)
	{
		case BQ_TOKENIZER_WORDPIECE:
			return "wordpiece";
		case BQ_TOKENIZER_BYTE_BPE:
			return "bpe";
		case BQ_TOKENIZER_UNIGRAM:
			return "unigram";
	}
	return "unknown";
}

BqTokenizer *
bq_tokenizer_wrap(const BqTokenizerOps *ops, void *state, const BqSpecialTokens *special,
				  const BqPairTemplate *pair, BqError *err)
{
	BqTokenizer *tok = calloc(1, sizeof(BqTokenizer));

	if (tok == NULL)
	{
		ops->free(state);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory creating the tokenizer");
		return NULL;
	}
	tok->ops = ops;
	tok->state = state;
	tok->special = *special;
	tok->pair = *pair;
	return tok;
}

void
bq_tokenizer_free(BqTokenizer *tok)
{
	if (tok == NULL)
		return;
	tok->ops->free(tok->state);
	free(tok);
}

/*
 * ICU's U8_NEXT rejects overlong forms, surrogates and code points past
 * U+10FFFF.  Runs of ASCII are skipped eight bytes at a time.
 */
static bool
utf8_is_valid(const char *text, int32_t len, int32_t *bad_offset)
{
	const uint8_t *s = (const uint8_t *) text;
	int32_t		i = 0;

	while (i < len)
	{
		uint64_t	chunk;
		int32_t		start = i;
		UChar32		c;

		if (len - i >= 8)
		{
			memcpy(&chunk, s + i, 8);
			if ((chunk & UINT64_C(0x8080808080808080)) == 0)
			{
				i += 8;
				continue;
			}
		}
		U8_NEXT(s, i, len, c);
		if (c < 0)
		{
			*bad_offset = start;
			return false;
		}
	}
	return true;
}

/*
 * Check the whole input before producing anything, so that a failure
 * leaves the caller's list alone.
 */
int
bq_tokenize(const BqTokenizer *tok, const char *text, size_t len,
			BqTokenList *out, BqError *err)
{
	size_t		first_token = out->count;
	int32_t		bad_offset;
	int			status;

	if (len > (size_t) INT32_MAX)
		return bq_fail(err, BQ_ERR_INPUT, "text to tokenize is too long (%zu bytes)", len);
	if (!utf8_is_valid(text, (int32_t) len, &bad_offset))
		return bq_fail(err, BQ_ERR_INPUT, "invalid UTF-8 at byte %d of the text", bad_offset);
	status = tok->ops->tokenize(tok->state, text, (int32_t) len, out, err);
	if (status != BQ_OK)
		out->count = first_token;
	return status;
}

BqTokenizerKind
bq_tokenizer_kind(const BqTokenizer *tok)
{
	return tok->ops->kind;
}

int32_t
bq_tokenizer_vocab_size(const BqTokenizer *tok)
{
	return tok->ops->vocab_size(tok->state);
}

const char *
bq_tokenizer_token(const BqTokenizer *tok, int32_t id)
{
	if (id < 0 || id >= bq_tokenizer_vocab_size(tok))
		return NULL;
	return tok->ops->token(tok->state, id);
}

const BqPairTemplate *
bq_tokenizer_pair_template(const BqTokenizer *tok)
{
	return &tok->pair;
}

void
bq_tokenizer_set_pair_template(BqTokenizer *tok, const BqPairTemplate *pair)
{
	tok->pair = *pair;
}

int32_t
bq_tokenizer_cls_id(const BqTokenizer *tok)
{
	return tok->pair.cls_id;
}

int32_t
bq_tokenizer_sep_id(const BqTokenizer *tok)
{
	return tok->pair.sep_id;
}

int32_t
bq_tokenizer_unk_id(const BqTokenizer *tok)
{
	return tok->special.unk_id;
}

int32_t
bq_tokenizer_pad_id(const BqTokenizer *tok)
{
	return tok->special.pad_id;
}

bool
bq_token_list_push(BqTokenList *list, int32_t id, int32_t start, int32_t end)
{
	if (list->count == list->capacity)
	{
		size_t		capacity = list->capacity < 64 ? 64 : list->capacity * 2;
		BqToken    *tokens;

		if (capacity > SIZE_MAX / sizeof(BqToken) ||
			(tokens = realloc(list->tokens, capacity * sizeof(BqToken))) == NULL)
			return false;
		list->tokens = tokens;
		list->capacity = capacity;
	}
	list->tokens[list->count].id = id;
	list->tokens[list->count].start = start;
	list->tokens[list->count].end = end;
	list->count++;
	return true;
}

void
bq_token_list_free(BqTokenList *list)
{
	if (list == NULL)
		return;
	free(list->tokens);
	list->tokens = NULL;
	list->count = 0;
	list->capacity = 0;
}
