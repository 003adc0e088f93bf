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
#include "tokenizer.h"
#include "vocab.h"

/* Longest word WordPiece will split; longer words become [UNK]. */
#define BQ_MAX_WORD_CHARS 100

/*
 * A WordPiece tokenizer over 'vocab' (borrowed: it must outlive the
 * tokenizer).  'lowercase' selects uncased behaviour (lowercasing and
 * accent stripping).  Its pair template is BERT's.  Fails if the
 * vocabulary lacks [UNK].
 */
BqTokenizer *bq_wordpiece_new(const BqVocab *vocab, bool lowercase, BqError *err);

#endif							/* BQ_WORDPIECE_H */
