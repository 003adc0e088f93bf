/*
 * sentencepiece_unigram.h - XLM-RoBERTa's tokenizer: a SentencePiece model
 * (sentencepiece.bpe.model, a unigram model despite its name) run by the
 * SentencePiece library, its ids laid out as fairseq's dictionary has them.
 *
 * fairseq puts <s>, <pad>, </s>, <unk> at ids 0-3, then every SentencePiece
 * piece but the first three (<unk>, <s>, </s>) at its SentencePiece id + 1,
 * then <mask>; SentencePiece's <unk> becomes id 3.  Offsets are the
 * library's piece spans in code points: a piece that starts a word ("▁the")
 * spans the white space before it.
 */
#ifndef BQ_SENTENCEPIECE_UNIGRAM_H
#define BQ_SENTENCEPIECE_UNIGRAM_H

#ifdef __cplusplus
extern "C"
{
#endif

#include "bq_error.h"
#include "tokenizer.h"

/*
 * The tokenizer of the SentencePiece model file 'path'.  Its pieces 0-2
 * must be <unk>, <s> and </s> (SentencePiece's defaults, as in XLM-R),
 * since fairseq's layout assumes them.
 */
BqTokenizer *bq_sentencepiece_load(const char *path, BqError *err);

#ifdef __cplusplus
}
#endif

#endif							/* BQ_SENTENCEPIECE_UNIGRAM_H */
