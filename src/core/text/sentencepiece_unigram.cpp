/*
 * sentencepiece_unigram.cpp - the SentencePiece library behind bertqa's
 * tokenizer interface.  The only C++ in bertqa: SentencePiece has no C
 * API.  Every entry point catches what the library may throw (memory), so
 * no exception reaches C code.
 */
#include "sentencepiece_unigram.h"

#include <new>
#include <string>

#include <sentencepiece_processor.h>

namespace
{

/* fairseq's first ids, then SentencePiece's pieces from its id 3 on. */
const char *const fairseq_specials[] = {"<s>", "<pad>", "</s>", "<unk>"};
const int32_t fairseq_unk = 3;

/* SentencePiece's own first pieces, which fairseq's layout replaces. */
const int32_t spm_unk = 0;
const int32_t spm_bos = 1;
const int32_t spm_eos = 2;

struct Unigram
{
	sentencepiece::SentencePieceProcessor processor;
	int32_t		pieces;			/* SentencePiece's vocabulary */
};

/* The fairseq id of SentencePiece piece 'id'. */
inline int32_t
fairseq_id(int32_t id)
{
	return id == spm_unk ? fairseq_unk : id + 1;
}

int
unigram_tokenize(const void *state, const char *text, int32_t len, BqTokenList *out,
				 BqError *err)
{
	const Unigram *u = static_cast<const Unigram *>(state);

	try
	{
		sentencepiece::ImmutableSentencePieceText encoded;
		sentencepiece::util::Status status =
			u->processor.Encode(absl::string_view(text, (size_t) len), encoded.mutable_proto());

		if (!status.ok())
			return bq_fail(err, BQ_ERR_INPUT, "SentencePiece could not encode the text: %s",
						   status.ToString().c_str());
		encoded.ConvertToUnicodeSpans();
		for (size_t i = 0; i < encoded.pieces_size(); i++)
		{
			auto		piece = encoded.pieces((int) i);

			if (!bq_token_list_push(out, fairseq_id((int32_t) piece.id()), (int32_t) piece.begin(),
									(int32_t) piece.end()))
				return bq_fail(err, BQ_ERR_NOMEM, "out of memory tokenizing %d bytes of text",
							   (int) len);
		}
	}
	catch (const std::bad_alloc &)
	{
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory tokenizing %d bytes of text", (int) len);
	}
	return BQ_OK;
}

int32_t
unigram_vocab_size(const void *state)
{
	/* the four specials, pieces 3 on, <mask> */
	return static_cast<const Unigram *>(state)->pieces + 2;
}

const char *
unigram_token(const void *state, int32_t id)
{
	const Unigram *u = static_cast<const Unigram *>(state);

	if (id < 4)
		return fairseq_specials[id];
	if (id == u->pieces + 1)
		return "<mask>";
	return u->processor.IdToPiece(id - 1).c_str();
}

void
unigram_free(void *state)
{
	delete static_cast<Unigram *>(state);
}

const BqTokenizerOps unigram_ops = {
	BQ_TOKENIZER_UNIGRAM, unigram_tokenize, unigram_vocab_size, unigram_token, unigram_free
};

/*
 * fairseq's layout replaces pieces 0-2; any other model would shift.
 */
int
check_layout(const Unigram *u, const char *path, BqError *err)
{
	const sentencepiece::SentencePieceProcessor &p = u->processor;

	if (u->pieces < 4 || p.unk_id() != spm_unk || p.bos_id() != spm_bos ||
		p.eos_id() != spm_eos)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "SentencePiece model \"%s\" has <unk> at %d, <s> at %d and </s> at %d "
					   "of %d pieces; XLM-RoBERTa's ids need them at 0, 1 and 2",
					   path, p.unk_id(), p.bos_id(), p.eos_id(), (int) u->pieces);
	return BQ_OK;
}

}								/* namespace */

BqTokenizer *
bq_sentencepiece_load(const char *path, BqError *err)
{
	Unigram    *u = nullptr;

	try
	{
		sentencepiece::util::Status status;

		u = new Unigram();
		status = u->processor.Load(path);
		if (!status.ok())
		{
			bq_fail(err, status.code() == sentencepiece::util::StatusCode::kNotFound ?
					BQ_ERR_NOT_FOUND : BQ_ERR_FORMAT,
					"could not load SentencePiece model \"%s\": %s", path,
					status.ToString().c_str());
			delete u;
			return nullptr;
		}
		u->pieces = (int32_t) u->processor.GetPieceSize();
	}
	catch (const std::bad_alloc &)
	{
		delete u;
		bq_fail(err, BQ_ERR_NOMEM, "out of memory loading SentencePiece model \"%s\"", path);
		return nullptr;
	}
	if (check_layout(u, path, err) != BQ_OK)
	{
		delete u;
		return nullptr;
	}

	BqSpecialTokens special = {fairseq_unk, 1};
	BqPairTemplate pair = {0, 2, 2, 0};

	return bq_tokenizer_wrap(&unigram_ops, u, &special, &pair, err);
}
