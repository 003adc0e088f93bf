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

#include <json-c/json.h>

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
 * A vocabulary of 'count' tokens over 'text' (owned from here on, even on
 * failure), with an empty hash table; entries are added with vocab_add.
 */
static BqVocab *
vocab_alloc(char *text, size_t count, const char *name, BqError *err)
{
	BqVocab    *vocab = calloc(1, sizeof(BqVocab));
	size_t		capacity;

	for (capacity = 16; capacity < 2 * count; capacity *= 2)
		;
	if (vocab != NULL)
	{
		vocab->text = text;
		vocab->starts = malloc(count * sizeof(uint32_t));
		vocab->lengths = malloc(count * sizeof(uint32_t));
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
	return vocab;
}

/*
 * Make token 'id' the 'len' bytes at text[pos] (NUL-terminated by the
 * caller), which must be UTF-8 without NULs: tokens are handed out as C
 * strings.  'what' and 'which' name the entry in messages ("line", 3).
 */
static int
vocab_add(BqVocab *vocab, int32_t id, size_t pos, size_t len, const char *name,
		  const char *what, size_t which, BqError *err)
{
	const char *token = vocab->text + pos;
	int32_t		i = 0;
	uint32_t	hash;
	VocabSlot  *slot;

	while (i < (int32_t) len)
	{
		int32_t		start = i;
		UChar32		c;

		U8_NEXT(token, i, (int32_t) len, c);
		if (c <= 0)
			return bq_fail(err, BQ_ERR_FORMAT, "vocabulary %s, %s %zu: %s at byte %d of the %s",
						   name, what, which, c == 0 ? "NUL character" : "invalid UTF-8",
						   start, what);
	}
	vocab->starts[id] = (uint32_t) pos;
	vocab->lengths[id] = (uint32_t) len;

	/*
	 * A repeated token keeps the id of its last line: Hugging Face and Google
	 * BERT both fill their maps line by line, overwriting.
	 */
	hash = token_hash(token, len);
	slot = find_slot(vocab, token, len, hash);
	slot->hash = hash;
	slot->id = id;
	return BQ_OK;
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
	if ((vocab = vocab_alloc(text, lines, name, err)) == NULL)
		return NULL;
	pos = 0;
	for (size_t line = 0; line < lines; line++)
	{
		char	   *nl = memchr(text + pos, '\n', len - pos);
		size_t		end = nl != NULL ? (size_t) (nl - text) : len;
		size_t		tok_len = end - pos;

		if (tok_len > 0 && text[end - 1] == '\r')
			tok_len--;
		text[pos + tok_len] = '\0';
		if (end < len)
			text[end] = '\0';
		if (vocab_add(vocab, (int32_t) line, pos, tok_len, name, "line", line + 1, err) != BQ_OK)
		{
			bq_vocab_free(vocab);
			return NULL;
		}
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

/*
 * Each id must appear once and the ids must run from 0 without a gap, so
 * that the ids index the embedding table like vocab.txt's lines do: n
 * distinct ids below n leave none out.
 */
BqVocab *
bq_vocab_from_json(json_object *obj, const char *name, BqError *err)
{
	size_t		count;
	const char **tokens;
	size_t	   *lengths;
	size_t		bytes = 0;
	char	   *text = NULL;
	BqVocab    *vocab = NULL;
	bool		bad = false;

	if (!json_object_is_type(obj, json_type_object))
	{
		bq_fail(err, BQ_ERR_FORMAT, "vocabulary %s is not a JSON object of tokens and ids", name);
		return NULL;
	}
	count = (size_t) json_object_object_length(obj);
	if (count == 0 || count > BQ_MAX_VOCAB_ENTRIES)
	{
		bq_fail(err, BQ_ERR_FORMAT, "vocabulary %s has %zu tokens (1 to %zu allowed)", name,
				count, BQ_MAX_VOCAB_ENTRIES);
		return NULL;
	}
	tokens = calloc(count, sizeof(char *));
	lengths = calloc(count, sizeof(size_t));
	if (tokens == NULL || lengths == NULL)
	{
		free(tokens);
		free(lengths);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory loading vocabulary %s", name);
		return NULL;
	}
	json_object_object_foreach(obj, key, value)
	{
		int64_t		id = json_object_get_int64(value);

		if (!json_object_is_type(value, json_type_int) || id < 0 || (size_t) id >= count)
		{
			bq_fail(err, BQ_ERR_FORMAT,
					"vocabulary %s: the id of \"%.64s\" must be an integer from 0 to %zu",
					name, key, count - 1);
			bad = true;
			break;
		}
		if (tokens[id] != NULL)
		{
			bq_fail(err, BQ_ERR_FORMAT, "vocabulary %s: \"%.64s\" and \"%.64s\" share id %lld",
					name, tokens[id], key, (long long) id);
			bad = true;
			break;
		}
		tokens[id] = key;
		lengths[id] = strlen(key);
		bytes += lengths[id] + 1;
	}
	if (!bad && bytes > BQ_MAX_VOCAB_BYTES)
	{
		bq_fail(err, BQ_ERR_FORMAT, "vocabulary %s is too large (%zu bytes, limit %zu)",
				name, bytes, BQ_MAX_VOCAB_BYTES);
		bad = true;
	}
	if (!bad && (text = malloc(bytes)) == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory loading vocabulary %s", name);
		bad = true;
	}
	if (!bad && (vocab = vocab_alloc(text, count, name, err)) != NULL)
	{
		size_t		pos = 0;

		for (size_t id = 0; id < count; id++)
		{
			memcpy(text + pos, tokens[id], lengths[id] + 1);
			if (vocab_add(vocab, (int32_t) id, pos, lengths[id], name, "entry", id, err) != BQ_OK)
			{
				bq_vocab_free(vocab);
				vocab = NULL;
				break;
			}
			pos += lengths[id] + 1;
		}
		if (vocab != NULL)
			vocab->size = (int32_t) count;
	}
	free(tokens);
	free(lengths);
	return vocab;
}
