/*
 * check_tokens.h - the tokenizer tests' comparison of a text's tokens with
 * the expected ids and spans, each difference printed.
 */
#ifndef BQ_CHECK_TOKENS_H
#define BQ_CHECK_TOKENS_H

#include "unit.h"

#include "tokenizer.h"

/* Tokenize 'text' with 'tok' and check it gives the 'n' tokens of 'want'. */
static inline void
check_tokens(const BqTokenizer *tok, const char *text, const BqToken *want, size_t n)
{
	BqTokenList got = {0};
	BqError		err;

	CHECK_INT_EQ(bq_tokenize(tok, text, strlen(text), &got, &err), BQ_OK);
	CHECK_INT_EQ(got.count, n);
	for (size_t i = 0; i < n && i < got.count; i++)
	{
		if (got.tokens[i].id != want[i].id || got.tokens[i].start != want[i].start ||
			got.tokens[i].end != want[i].end)
		{
			fprintf(stderr, "\"%s\" token %zu: got %d[%d,%d), expected %d[%d,%d)\n", text, i,
					got.tokens[i].id, got.tokens[i].start, got.tokens[i].end,
					want[i].id, want[i].start, want[i].end);
			unit_current_failed = 1;
		}
	}
	bq_token_list_free(&got);
}

#endif							/* BQ_CHECK_TOKENS_H */
