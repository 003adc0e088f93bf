/*
 * vocab.c - a WordPiece vocabulary held as one text block plus an
 * open-addressing hash table from token bytes to id.
 *
 * The tokenizer looks up several candidate pieces per word, so lookups must
 * be cheap: each slot keeps the token's hash next to its id, and a probe
 * only compares bytes when the hashes agree.  Loading is a single pass over
 * the file with no per-token allocation, which keeps a 30,522-line vocab.txt
 * well under a millisecond.
 */
#include "vocab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <unicode/utf8.h>

#include "file_util.h"

/*
 * Sanity limits: bert-base's vocab.txt has 30,522 lines in 232 kB; the
 * largest WordPiece vocabularies in use have a few hundred thousand.
 */
#define BQ_MAX_VOCAB_BYTES ((size_t) 16 << 20)
#define BQ_MAX_VOCAB_ENTRIES ((size_t) 1 << 22)

typedef struct VocabSlot
{
	uint32_t	hash;			/* hash of the token's bytes */
	int32_t		id;				/* -1 when the slot is empty */
} VocabSlot;

struct BqVocab
{
	char	   *text;			/* the file's bytes, line ends replaced by NULs */
	uint32_t   *starts;			/* [size] byte offset of each token in text */
	uint32_t   *lengths;		/* [size] byte length of each token */
	int32_t		size;			/* number of tokens (lines) */
	VocabSlot  *slots;			/* [mask + 1] hash table, a power of two */
	uint32_t	mask;
};

/*
 * FNV-1a over the bytes with a final avalanche, so that the low bits used to
 * pick a slot depend on every input byte.
 */
static uint32_t
token_hash(const char *text, size_t len)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) text[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/*
 * The slot holding 'text', or the empty slot where it would go.
 */
static VocabSlot *
find_slot(const BqVocab *vocab, const char *text, size_t len, uint32_t hash)
{
	uint32_t	i = hash & vocab->mask;

	for (;;)
	{
		VocabSlot  *slot = &vocab->slots[i];

		if (slot->id < 0)
			return slot;
		if (slot->hash == hash && vocab->lengths[slot->id] == len &&
			memcmp(vocab->text + vocab->starts[slot->id], text, len) == 0)
			return slot;
		i = (i + 1) & vocab->mask;
	}
}

/*
 * Split the owned text into lines, check each one and index it.  Takes
 * ownership of 'text' (which has a NUL at text[len]) in every case.
 */
static BqVocab *
vocab_build(char *text, size_t len, const char *name, BqError *err)
{
	BqVocab    *vocab;
	size_t		lines = 0;
	size_t		capacity;
	size_t		pos;

	if (len > BQ_MAX_VOCAB_BYTES)
	{
		bq_fail(err, BQ_ERR_FORMAT, "vocabulary %s is too large (%zu bytes, limit %zu)",
				name, len, BQ_MAX_VOCAB_BYTES);
		free(text);
		return NULL;
	}
	for (pos = 0; pos < len; pos++)
		lines += text[pos] == '\n';
	if (len > 0 && text[len - 1] != '\n')
		lines++;				/* a last line without its newline */
	if (lines == 0)
	{
		bq_fail(err, BQ_ERR_FORMAT, "vocabulary %s is empty", name);
		free(text);
		return NULL;
	}
	if (lines > BQ_MAX_VOCAB_ENTRIES)
	{
		bq_fail(err, BQ_ERR_FORMAT, "vocabulary %s has too many lines (%zu, limit %zu)",
				name, lines, BQ_MAX_VOCAB_ENTRIES);
		free(text);
		return NULL;
	}

	vocab = calloc(1, sizeof(BqVocab));
	for (capacity = 16; capacity < 2 * lines; capacity *= 2)
		;
	if (vocab != NULL)
	{
		vocab->text = text;
		vocab->starts = malloc(lines * sizeof(uint32_t));
		vocab->lengths = malloc(lines * sizeof(uint32_t));
		vocab->slots = malloc(capacity * sizeof(VocabSlot));
	}
	if (vocab == NULL || vocab->starts == NULL || vocab->lengths == NULL ||
		vocab->slots == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory loading vocabulary %s", name);
		if (vocab == NULL)
			free(text);
		bq_vocab_free(vocab);
		return NULL;
	}
	vocab->mask = (uint32_t) (capacity - 1);
	for (size_t i = 0; i < capacity; i++)
		vocab->slots[i].id = -1;

	pos = 0;
	for (size_t line = 0; line < lines; line++)
	{
		char	   *nl = memchr(text + pos, '\n', len - pos);
		size_t		end = nl != NULL ? (size_t) (nl - text) : len;
		size_t		tok_len = end - pos;
		int32_t		i = 0;
		VocabSlot  *slot;
		uint32_t	hash;

		if (tok_len > 0 && text[end - 1] == '\r')
			tok_len--;
		/* Tokens are handed out as C strings and must be UTF-8. */
		while (i < (int32_t) tok_len)
		{
			int32_t		start = i;
			UChar32		c;

			U8_NEXT(text + pos, i, (int32_t) tok_len, c);
			if (c <= 0)
			{
				bq_fail(err, BQ_ERR_FORMAT,
						"vocabulary %s, line %zu: %s at byte %d of the line", name,
						line + 1, c == 0 ? "NUL character" : "invalid UTF-8", start);
				bq_vocab_free(vocab);
				return NULL;
			}
		}
		text[pos + tok_len] = '\0';
		if (end < len)
			text[end] = '\0';
		vocab->starts[line] = (uint32_t) pos;
		vocab->lengths[line] = (uint32_t) tok_len;

		/*
		 * A repeated token keeps the id of its last line: Hugging Face and
		 * Google BERT both fill their maps line by line, overwriting.
		 */
		hash = token_hash(text + pos, tok_len);
		slot = find_slot(vocab, text + pos, tok_len, hash);
		slot->hash = hash;
		slot->id = (int32_t) line;
		pos = end + 1;
	}
	vocab->size = (int32_t) lines;
	return vocab;
}

/*
 * Load vocab.txt from disk, refusing oversized files before reading them.
 */
BqVocab *
bq_vocab_load(const char *path, BqError *err)
{
	struct stat st;
	size_t		len;
	char	   *text;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		(size_t) st.st_size > BQ_MAX_VOCAB_BYTES)
	{
		bq_fail(err, BQ_ERR_FORMAT, "vocabulary \"%s\" is too large (%lld bytes, limit %zu)",
				path, (long long) st.st_size, BQ_MAX_VOCAB_BYTES);
		return NULL;
	}
	text = bq_read_file(path, &len, err);
	if (text == NULL)
		return NULL;
	return vocab_build(text, len, path, err);
}

/*
 * Build from bytes the caller keeps; the vocabulary works on its own copy.
 */
BqVocab *
bq_vocab_from_buffer(const char *data, size_t len, const char *name, BqError *err)
{
	char	   *text;

	if (len > BQ_MAX_VOCAB_BYTES)
	{
		bq_fail(err, BQ_ERR_FORMAT, "vocabulary %s is too large (%zu bytes, limit %zu)",
				name, len, BQ_MAX_VOCAB_BYTES);
		return NULL;
	}
	text = malloc(len + 1);
	if (text == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory loading vocabulary %s", name);
		return NULL;
	}
	if (len > 0)
		memcpy(text, data, len);
	text[len] = '\0';
	return vocab_build(text, len, name, err);
}

void
bq_vocab_free(BqVocab *vocab)
{
	if (vocab == NULL)
		return;
	free(vocab->text);
	free(vocab->starts);
	free(vocab->lengths);
	free(vocab->slots);
	free(vocab);
}

int32_t
bq_vocab_size(const BqVocab *vocab)
{
	return vocab->size;
}

int32_t
bq_vocab_lookup(const BqVocab *vocab, const char *text, size_t len)
{
	return find_slot(vocab, text, len, token_hash(text, len))->id;
}

const char *
bq_vocab_token(const BqVocab *vocab, int32_t id)
{
	if (id < 0 || id >= vocab->size)
		return NULL;
	return vocab->text + vocab->starts[id];
}
