/*
 * wordpiece.c - BERT WordPiece tokenization with offsets into the original
 * text, reproducing Hugging Face tokenizers' BertNormalizer,
 * BertPreTokenizer and WordPiece model.
 *
 * Hugging Face rewrites the whole string once per normalization step and
 * keeps, for every normalized character, the span of original text it came
 * from.  We get the same result in one streaming pass: each source code point
 * goes through the same steps in the same order (clean, isolate CJK,
 * NFD with canonical reordering, drop nonspacing marks, lowercase), and each
 * resulting character carries the index of the source code point Hugging
 * Face's alignment rules attribute it to.  Characters then gather into words
 * (split on whitespace, punctuation isolated) and each finished word is cut
 * into WordPiece tokens at once, so memory stays bounded by the longest
 * combining-mark run, not by the text.
 *
 * Every Unicode property comes from ICU.  ASCII, by far the most common
 * input, takes a table built with the same ICU-based rules when the
 * tokenizer is created.
 */
#include "wordpiece.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

/* How an ASCII character behaves in the pipeline. */
typedef enum AsciiClass
{
	ASCII_DROP,					/* removed by text cleaning (controls, NUL) */
	ASCII_SPACE,				/* separates words */
	ASCII_PUNCT,				/* a word of its own */
	ASCII_WORD					/* part of a word */
} AsciiClass;

typedef struct WordPiece
{
	const BqVocab *vocab;		/* borrowed */
	bool		lowercase;		/* uncased: strip accents and lowercase */
	const UNormalizer2 *nfd;	/* ICU's NFD instance (owned by ICU) */
	size_t		max_token_bytes;	/* longest vocabulary entry */
	int32_t		unk_id;
	uint8_t		ascii_class[128];	/* AsciiClass of each ASCII code */
	char		ascii_lower[128];	/* lowercase form, or the char itself if cased */
} WordPiece;

/* One character of a canonical decomposition awaiting reordering. */
typedef struct PendingChar
{
	UChar32		cp;
	uint8_t		ccc;			/* canonical combining class */
	bool		first;			/* first character of its source's decomposition */
	uint64_t	seq;			/* arrival order, makes qsort stable */
} PendingChar;

/* Bytes reserved before a word so "##" can be written in front of a piece. */
#define PREFIX_ROOM 2

/*
 * State of one tokenize call.  The word buffers are fixed: a word longer
 * than BQ_MAX_WORD_CHARS becomes one [UNK] whose span only needs its first
 * and last characters.
 */
typedef struct TokenizeRun
{
	const WordPiece *tok;
	BqTokenList *out;
	bool		nomem;			/* an allocation failed; stop producing */

	/* NFD: the current starter and its following non-starters */
	PendingChar *pending;		/* [n_pending], capacity pending_cap */
	size_t		n_pending;
	size_t		pending_cap;
	uint64_t	pending_seq;

	/*
	 * Source positions of the characters fed to NFD whose first decomposed
	 * character has not been emitted yet, oldest first.  Hugging Face assigns
	 * alignments positionally: the k-th "replacing" output character takes
	 * the k-th input character's span, an "added" one the previous span.
	 */
	int32_t    *sources;		/* FIFO [source_head, source_tail) */
	size_t		source_head;
	size_t		source_tail;
	size_t		source_cap;
	int32_t		last_source;	/* span of the last replacing character; -1: none */

	/* the word being collected */
	char		bytes[PREFIX_ROOM + 4 * BQ_MAX_WORD_CHARS];
	int32_t		char_offset[BQ_MAX_WORD_CHARS + 1];	/* [n+1] start of each char in bytes, then the end */
	int32_t		char_source[BQ_MAX_WORD_CHARS]; /* source position of each char, -1: none */
	int32_t		n_chars;		/* may exceed BQ_MAX_WORD_CHARS */
	int32_t		last_char_source;
} TokenizeRun;

/*
 * Hugging Face takes "control", "punctuation" and "nonspacing mark" from
 * the unicode_categories crate, whose tables date from Unicode 8.0 and list
 * no unassigned code points: to it, a character assigned later belongs to
 * none of these categories.  Asking ICU for the category and the age of the
 * character reproduces that (six characters whose category changed since
 * 8.0 still differ).
 */
static const UVersionInfo reference_unicode_version = {8, 0, 0, 0};

static bool
known_to_reference(UChar32 c)
{
	UVersionInfo age;

	u_charAge(c, age);
	return memcmp(age, reference_unicode_version, sizeof(UVersionInfo)) <= 0;
}

/*
 * Hugging Face's "control" test for text cleaning: control, format or
 * private use characters, except the three whitespace controls.
 * Unassigned code points are kept.
 */
static bool
is_control(UChar32 c)
{
	if (c == '\t' || c == '\n' || c == '\r')
		return false;
	switch (u_charType(c))
	{
		case U_CONTROL_CHAR:
		case U_FORMAT_CHAR:
		case U_PRIVATE_USE_CHAR:
			return known_to_reference(c);
		default:
			return false;
	}
}

/*
 * Whitespace per the Unicode White_Space property (which includes \t \n \r).
 */
static bool
is_whitespace(UChar32 c)
{
	return u_isUWhiteSpace(c);
}

/*
 * BERT's punctuation: every ASCII non-alphanumeric printable character
 * (so also $ + < = > ^ ` | ~, which Unicode calls symbols) and every
 * Unicode P* character the reference knows.
 */
static bool
is_punctuation(UChar32 c)
{
	if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
		(c >= 91 && c <= 96) || (c >= 123 && c <= 126))
		return true;
	return u_ispunct(c) && known_to_reference(c);
}

/*
 * The code point blocks Hugging Face's BertNormalizer surrounds with spaces
 * (CJK unified ideographs and extensions, compatibility ideographs).  Its
 * extension E/F range starts at U+2B920, not U+2B820 as in Google's BERT.
 */
static bool
is_cjk_ideograph(UChar32 c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) ||
		(c >= 0x3400 && c <= 0x4DBF) ||
		(c >= 0x20000 && c <= 0x2A6DF) ||
		(c >= 0x2A700 && c <= 0x2B73F) ||
		(c >= 0x2B740 && c <= 0x2B81F) ||
		(c >= 0x2B920 && c <= 0x2CEAF) ||
		(c >= 0xF900 && c <= 0xFAFF) ||
		(c >= 0x2F800 && c <= 0x2FA1F);
}

/*
 * Append a token; once memory runs out, nothing more is produced.
 */
static void
emit(TokenizeRun *run, int32_t id, int32_t start, int32_t end)
{
	if (!run->nomem && !bq_token_list_push(run->out, id, start, end))
		run->nomem = true;
}

/*
 * Span starts and ends of a normalized character's source.  A character
 * Hugging Face could attribute to nothing gets the empty span [0, 0).
 */
static inline int32_t
source_start(int32_t source)
{
	return source < 0 ? 0 : source;
}

static inline int32_t
source_end(int32_t source)
{
	return source < 0 ? 0 : source + 1;
}

/*
 * Cut the collected word into the longest vocabulary pieces from the left,
 * continuation pieces prefixed with "##".  A word with a piece that matches
 * nothing, or longer than BQ_MAX_WORD_CHARS, is a single [UNK].
 */
static void
finish_word(TokenizeRun *run)
{
	const WordPiece *tok = run->tok;
	int32_t		n = run->n_chars;
	size_t		first_token = run->out->count;
	int32_t		start = 0;

	if (n == 0)
		return;
	run->n_chars = 0;
	if (n > BQ_MAX_WORD_CHARS)
	{
		emit(run, tok->unk_id, source_start(run->char_source[0]),
			 source_end(run->last_char_source));
		return;
	}
	while (start < n)
	{
		char	   *piece = run->bytes + run->char_offset[start];
		char		saved[2] = {0, 0};
		int32_t		end;
		int32_t		id = -1;

		if (start > 0)
		{
			/* borrow the two bytes before the piece for the "##" prefix */
			piece -= 2;
			memcpy(saved, piece, 2);
			memcpy(piece, "##", 2);
		}
		for (end = n; end > start; end--)
		{
			size_t		piece_len = (size_t) (run->bytes + run->char_offset[end] - piece);

			if (piece_len > tok->max_token_bytes)
				continue;
			id = bq_vocab_lookup(tok->vocab, piece, piece_len);
			if (id >= 0)
				break;
		}
		if (start > 0)
			memcpy(piece, saved, 2);
		if (id < 0)
		{
			run->out->count = first_token;
			emit(run, tok->unk_id, source_start(run->char_source[0]),
				 source_end(run->char_source[n - 1]));
			return;
		}
		emit(run, id, source_start(run->char_source[start]),
			 source_end(run->char_source[end - 1]));
		start = end;
	}
}

/*
 * Add a normalized, non-separator character to the current word.
 */
static void
add_to_word(TokenizeRun *run, UChar32 c, int32_t source)
{
	int32_t		n = run->n_chars;

	if (n < BQ_MAX_WORD_CHARS)
	{
		int32_t		at = run->char_offset[n];

		U8_APPEND_UNSAFE(run->bytes, at, c);
		run->char_source[n] = source;
		run->char_offset[n + 1] = at;
	}
	if (n < INT32_MAX)
		run->n_chars = n + 1;
	run->last_char_source = source;
}

/*
 * Pre-tokenization of a fully normalized character: whitespace ends the
 * word, punctuation is a word of its own, anything else extends the word.
 */
static void
split_char(TokenizeRun *run, UChar32 c, int32_t source)
{
	if (is_whitespace(c))
		finish_word(run);
	else if (is_punctuation(c))
	{
		finish_word(run);
		add_to_word(run, c, source);
		finish_word(run);
	}
	else
		add_to_word(run, c, source);
}

/*
 * Lowercase one character with ICU's full, context-free (root locale)
 * mapping, as Rust's char::to_lowercase does: 'İ' becomes "i̇", Σ always σ.
 * Extra characters of an expansion share the source of the character.
 */
static void
lowercase_char(TokenizeRun *run, UChar32 c, int32_t source)
{
	UChar		src[2];
	UChar		lower[8];
	int32_t		src_len = 0;
	int32_t		lower_len;
	UErrorCode	status = U_ZERO_ERROR;

	if (!u_hasBinaryProperty(c, UCHAR_CHANGES_WHEN_LOWERCASED))
	{
		split_char(run, c, source);
		return;
	}
	U16_APPEND_UNSAFE(src, src_len, c);
	lower_len = u_strToLower(lower, 8, src, src_len, "", &status);
	if (U_FAILURE(status))
	{
		/* no single character lowercases to more than 3; keep it as is */
		split_char(run, c, source);
		return;
	}
	for (int32_t i = 0; i < lower_len;)
	{
		UChar32		lc;

		U16_NEXT_UNSAFE(lower, i, lc);
		split_char(run, lc, source);
	}
}

/*
 * qsort order for canonical reordering: by combining class, then arrival.
 */
static int
pending_cmp(const void *a, const void *b)
{
	const PendingChar *x = a;
	const PendingChar *y = b;

	if (x->ccc != y->ccc)
		return x->ccc < y->ccc ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/*
 * Put the pending characters in canonical order (a stable sort by combining
 * class; the leading starter has class 0 and stays first), give each its
 * source position the way Hugging Face does, drop nonspacing marks
 * (accent stripping) and pass the rest on to lowercasing.
 */
static void
flush_pending(TokenizeRun *run)
{
	size_t		n = run->n_pending;

	if (n == 0)
		return;
	if (n > 2)
	{
		if (n <= 32)
		{
			for (size_t i = 1; i < n; i++)
			{
				PendingChar p = run->pending[i];
				size_t		j = i;

				for (; j > 0 && run->pending[j - 1].ccc > p.ccc; j--)
					run->pending[j] = run->pending[j - 1];
				run->pending[j] = p;
			}
		}
		else
			qsort(run->pending, n, sizeof(PendingChar), pending_cmp);
	}
	else if (n == 2 && run->pending[0].ccc > run->pending[1].ccc)
	{
		PendingChar p = run->pending[0];

		run->pending[0] = run->pending[1];
		run->pending[1] = p;
	}

	for (size_t i = 0; i < n; i++)
	{
		const PendingChar *p = &run->pending[i];

		if (p->first && run->source_head < run->source_tail)
			run->last_source = run->sources[run->source_head++];
		if (u_charType(p->cp) == U_NON_SPACING_MARK && known_to_reference(p->cp))
			continue;
		lowercase_char(run, p->cp, run->last_source);
	}
	run->n_pending = 0;
	run->pending_seq = 0;
	if (run->source_head == run->source_tail)
		run->source_head = run->source_tail = 0;
}

/*
 * Grow one of the run's scratch arrays to hold at least 'need' items.
 */
static bool
grow_array(void **array, size_t *cap, size_t need, size_t item_size)
{
	size_t		new_cap = *cap < 16 ? 16 : *cap;
	void	   *grown;

	while (new_cap < need)
	{
		if (new_cap > SIZE_MAX / 2 / item_size)
			return false;
		new_cap *= 2;
	}
	if (new_cap == *cap)
		return true;
	grown = realloc(*array, new_cap * item_size);
	if (grown == NULL)
		return false;
	*array = grown;
	*cap = new_cap;
	return true;
}

/*
 * Feed one cleaned character to canonical decomposition (uncased mode).
 * A starter in the decomposition completes the previous segment.
 */
static void
decompose_char(TokenizeRun *run, UChar32 c, int32_t source)
{
	UChar		decomposition[32];
	UChar		single[2];
	const UChar *chars = decomposition;
	int32_t		len;
	UErrorCode	status = U_ZERO_ERROR;

	len = unorm2_getDecomposition(run->tok->nfd, c, decomposition, 32, &status);
	if (U_FAILURE(status) || len < 0)
	{
		len = 0;
		U16_APPEND_UNSAFE(single, len, c);
		chars = single;
	}
	if (!grow_array((void **) &run->sources, &run->source_cap,
					run->source_tail + 1, sizeof(int32_t)))
	{
		run->nomem = true;
		return;
	}
	run->sources[run->source_tail++] = source;

	for (int32_t i = 0; i < len;)
	{
		bool		first = i == 0;
		UChar32		d;
		uint8_t		ccc;

		U16_NEXT_UNSAFE(chars, i, d);
		ccc = u_getCombiningClass(d);
		if (ccc == 0)
			flush_pending(run);
		if (!grow_array((void **) &run->pending, &run->pending_cap,
						run->n_pending + 1, sizeof(PendingChar)))
		{
			run->nomem = true;
			return;
		}
		run->pending[run->n_pending].cp = d;
		run->pending[run->n_pending].ccc = ccc;
		run->pending[run->n_pending].first = first;
		run->pending[run->n_pending].seq = run->pending_seq++;
		run->n_pending++;
	}
}

/*
 * A character that stands between words (whitespace, or the spaces put
 * around a CJK ideograph): nothing can reorder across it.
 */
static void
word_break(TokenizeRun *run)
{
	flush_pending(run);
	finish_word(run);
}

/*
 * The normalization pipeline for one non-ASCII source character.
 */
static void
source_char(TokenizeRun *run, UChar32 c, int32_t source)
{
	const WordPiece *tok = run->tok;

	if (c == 0xFFFD || is_control(c))
		return;
	if (is_whitespace(c))
	{
		word_break(run);
		return;
	}
	if (is_cjk_ideograph(c))
		word_break(run);
	if (tok->lowercase)
		decompose_char(run, c, source);
	else
		split_char(run, c, source);
	if (is_cjk_ideograph(c))
		word_break(run);
}

/*
 * Tokenize UTF-8 text.  ASCII characters, which have no decomposition and
 * are starters, take a shortcut that first completes any pending
 * decomposition, exactly as the general path would.
 */
static int
wordpiece_tokenize(const void *state, const char *text, int32_t len,
				   BqTokenList *out, BqError *err)
{
	const WordPiece *tok = state;
	TokenizeRun run;
	const uint8_t *s = (const uint8_t *) text;
	int32_t		i = 0;
	int32_t		source = 0;

	memset(&run, 0, sizeof(run));
	run.tok = tok;
	run.out = out;
	run.last_source = -1;
	run.char_offset[0] = PREFIX_ROOM;
	while (i < len && !run.nomem)
	{
		uint8_t		b = s[i];

		if (b < 0x80)
		{
			i++;
			switch ((AsciiClass) tok->ascii_class[b])
			{
				case ASCII_DROP:
					break;
				case ASCII_SPACE:
					word_break(&run);
					break;
				case ASCII_PUNCT:
					word_break(&run);
					add_to_word(&run, b, source);
					finish_word(&run);
					break;
				case ASCII_WORD:
					if (run.n_pending > 0)
						flush_pending(&run);
					add_to_word(&run, (unsigned char) tok->ascii_lower[b], source);
					break;
			}
		}
		else
		{
			UChar32		c;

			U8_NEXT_UNSAFE(s, i, c);
			source_char(&run, c, source);
		}
		source++;
	}
	word_break(&run);
	free(run.pending);
	free(run.sources);
	if (run.nomem)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory tokenizing %d bytes of text", (int) len);
	return BQ_OK;
}

static int32_t
wordpiece_vocab_size(const void *state)
{
	return bq_vocab_size(((const WordPiece *) state)->vocab);
}

static const char *
wordpiece_token(const void *state, int32_t id)
{
	return bq_vocab_token(((const WordPiece *) state)->vocab, id);
}

static void
wordpiece_free(void *state)
{
	free(state);
}

static const BqTokenizerOps wordpiece_ops = {
	BQ_TOKENIZER_WORDPIECE, wordpiece_tokenize, wordpiece_vocab_size, wordpiece_token,
	wordpiece_free
};

/*
 * Build the tokenizer and classify ASCII once with the general rules.
 */
BqTokenizer *
bq_wordpiece_new(const BqVocab *vocab, bool lowercase, BqError *err)
{
	WordPiece  *tok;
	UErrorCode	status = U_ZERO_ERROR;
	const UNormalizer2 *nfd = unorm2_getNFDInstance(&status);
	int32_t		unk_id = bq_vocab_lookup(vocab, "[UNK]", 5);
	BqSpecialTokens special;
	BqPairTemplate pair;

	if (U_FAILURE(status))
	{
		bq_fail(err, BQ_ERR_IO, "could not load ICU normalization data: %s",
				u_errorName(status));
		return NULL;
	}
	if (unk_id < 0)
	{
		bq_fail(err, BQ_ERR_FORMAT, "the vocabulary has no [UNK] token");
		return NULL;
	}
	tok = calloc(1, sizeof(WordPiece));
	if (tok == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory creating the tokenizer");
		return NULL;
	}
	tok->vocab = vocab;
	tok->lowercase = lowercase;
	tok->nfd = nfd;
	tok->unk_id = unk_id;
	for (int32_t id = 0; id < bq_vocab_size(vocab); id++)
	{
		size_t		len = strlen(bq_vocab_token(vocab, id));

		if (len > tok->max_token_bytes)
			tok->max_token_bytes = len;
	}
	for (UChar32 c = 0; c < 128; c++)
	{
		if (c == 0 || is_control(c))
			tok->ascii_class[c] = ASCII_DROP;
		else if (is_whitespace(c))
			tok->ascii_class[c] = ASCII_SPACE;
		else if (is_punctuation(c))
			tok->ascii_class[c] = ASCII_PUNCT;
		else
			tok->ascii_class[c] = ASCII_WORD;
		tok->ascii_lower[c] = (char) (lowercase ? u_tolower(c) : c);
	}
	special.unk_id = unk_id;
	special.pad_id = bq_vocab_lookup(vocab, "[PAD]", 5);
	pair.cls_id = bq_vocab_lookup(vocab, "[CLS]", 5);
	pair.sep_id = bq_vocab_lookup(vocab, "[SEP]", 5);
	pair.separators = 1;
	pair.context_type = 1;
	return bq_tokenizer_wrap(&wordpiece_ops, tok, &special, &pair, err);
}
