/*
 * byte_bpe.h - GPT-2's byte-level BPE, as RoBERTa's fast tokenizer runs it
 * (Hugging Face tokenizers: the ByteLevel pre-tokenizer without a prefix
 * space, the BPE model, RobertaProcessing's trim_offsets).
 *
 * Text is split with GPT-2's pattern, each piece's UTF-8 bytes become one
 * character each (GPT-2's byte-to-unicode table, so a space is "Ġ"), and
 * the vocabulary's merges join them, lowest rank first.  A token's offsets
 * cover the characters its bytes come from, less the spaces it begins
 * with.  Special tokens ("<s>", ...) in the text are ordinary text,
 * as in the WordPiece tokenizer.
 */
#ifndef BQ_BYTE_BPE_H
#define BQ_BYTE_BPE_H

#include <stdint.h>

#include "bq_error.h"
#include "tokenizer.h"
#include "vocab.h"

/* A merge rule: the two tokens it joins.  Its rank is its place in the list. */
typedef struct BqBpeMerge
{
	const char *left;
	const char *right;
} BqBpeMerge;

/*
 * A tokenizer over 'vocab' (taken: freed with the tokenizer, or at once on
 * failure) and 'n_merges' rules in rank order (read, not kept).  Every
 * byte's character must be in the vocabulary, and so must both sides of
 * each merge and their join.  Its special tokens and pair template are
 * RoBERTa's: <s>, </s>, <unk>, <pad>.
 */
BqTokenizer *bq_byte_bpe_new(BqVocab *vocab, const BqBpeMerge *merges, int32_t n_merges,
							 BqError *err);

/* The same from vocab.json and merges.txt (its "#version" line skipped). */
BqTokenizer *bq_byte_bpe_load(const char *vocab_path, const char *merges_path, BqError *err);

#endif							/* BQ_BYTE_BPE_H */
