/*
 * byte_bpe.c - byte-level BPE with offsets into the original text,
 * reproducing Hugging Face tokenizers' ByteLevel pre-tokenizer, BPE model
 * (merge_all: a queue of candidate merges by rank, then position) and the
 * ByteLevel offset trimming RobertaProcessing applies.
 *
 * The merges work on token ids, never on strings: each byte starts as the
 * id of its character, and a table maps a pair of ids to the merge's rank
 * and the id of the joined token.
 */
#include "byte_bpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "file_util.h"
#include "grow_array.h"

/* GPT-2's pre-tokenization classes. */
typedef enum CharClass
{
	CLASS_LETTER,				/* \p{L} */
	CLASS_NUMBER,				/* \p{N} */
	CLASS_SPACE,				/* \s */
	CLASS_OTHER					/* [^\s\p{L}\p{N}] */
} CharClass;

/* A merge by the ids it joins. */
typedef struct MergeSlot
{
	uint64_t	key;			/* left id << 32 | right id; UINT64_MAX when empty */
	int32_t		rank;
	int32_t		new_id;
} MergeSlot;

typedef struct ByteBpe
{
	BqVocab    *vocab;			/* owned */
	int32_t		byte_id[256];	/* id of each byte's character */
	MergeSlot  *merges;			/* [merge_mask + 1] open addressing */
	uint64_t	merge_mask;
	uint8_t		ascii_class[128];	/* CharClass of each ASCII code */
} ByteBpe;

/* One symbol of a piece being merged: a token over bytes [start, start + len). */
typedef struct Symbol
{
	int32_t		id;
	int32_t		start;
	int32_t		len;			/* 0 once merged into its left neighbour */
	int32_t		prev;			/* index of the neighbours, -1 at the ends */
	int32_t		next;
} Symbol;

/* A merge that may apply: symbol 'pos' with its right neighbour. */
typedef struct Candidate
{
	int32_t		rank;
	int32_t		pos;
	int32_t		new_id;
} Candidate;

/* Scratch of one tokenize call, grown as pieces need. */
typedef struct BpeRun
{
	const ByteBpe *bpe;
	BqTokenList *out;
	Symbol	   *symbols;
	size_t		symbols_cap;
	Candidate  *heap;
	size_t		heap_len;
	size_t		heap_cap;
	int32_t    *char_of_byte;	/* [piece bytes] code point index of each byte */
	size_t		char_of_byte_cap;
} BpeRun;

/*
 * GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for
 * themselves, the others (controls, space, soft hyphen...) for U+0100
 * onwards in byte order.
 */
static UChar32
byte_char(int b)
{
	int			shifted = 0;

	if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
		return b;
	for (int i = 0; i < b; i++)
		shifted += !((i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF));
	return 0x100 + shifted;
}

/*
 * The class of a code point for GPT-2's pattern.  \s is Unicode's
 * White_Space, as in the Oniguruma regex Hugging Face runs.
 */
static CharClass
char_class(UChar32 c)
{
	if (u_isUWhiteSpace(c))
		return CLASS_SPACE;
	switch (u_charType(c))
	{
		case U_UPPERCASE_LETTER:
		case U_LOWERCASE_LETTER:
		case U_TITLECASE_LETTER:
		case U_MODIFIER_LETTER:
		case U_OTHER_LETTER:
			return CLASS_LETTER;
		case U_DECIMAL_DIGIT_NUMBER:
		case U_LETTER_NUMBER:
		case U_OTHER_NUMBER:
			return CLASS_NUMBER;
		default:
			return CLASS_OTHER;
	}
}

static uint64_t
merge_hash(uint64_t key)
{
	key ^= key >> 33;
	key *= UINT64_C(0xff51afd7ed558ccd);
	key ^= key >> 33;
	return key;
}

/*
 * The merge slot of the pair, or the empty slot where it would go.
 */
static MergeSlot *
merge_slot(const ByteBpe *bpe, int32_t left, int32_t right)
{
	uint64_t	key = (uint64_t) (uint32_t) left << 32 | (uint32_t) right;
	uint64_t	i = merge_hash(key) & bpe->merge_mask;

	for (;;)
	{
		MergeSlot  *slot = &bpe->merges[i];

		if (slot->key == key || slot->key == UINT64_MAX)
			return slot;
		i = (i + 1) & bpe->merge_mask;
	}
}

/*
 * Class of the code point at byte 'i' of 'text', and where the next one
 * starts.
 */
static CharClass
class_at(const ByteBpe *bpe, const uint8_t *s, int32_t i, int32_t *next)
{
	UChar32		c;

	if (s[i] < 0x80)
	{
		*next = i + 1;
		return (CharClass) bpe->ascii_class[s[i]];
	}
	U8_NEXT_UNSAFE(s, i, c);
	*next = i;
	return char_class(c);
}

/*
 * End of the run of 'cls' code points starting at byte 'i'.
 */
static int32_t
run_end(const ByteBpe *bpe, const uint8_t *s, int32_t len, int32_t i, CharClass cls)
{
	while (i < len)
	{
		int32_t		next;

		if (class_at(bpe, s, i, &next) != cls)
			break;
		i = next;
	}
	return i;
}

/*
 * The end of the piece GPT-2's pattern matches at byte 'i':
 *
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *
 * The alternatives are tried in order.  The three classes may follow one
 * optional space; a run of white space leaves its last character to the
 * piece after it unless it ends the text or is one character long.
 */
static int32_t
piece_end(const ByteBpe *bpe, const uint8_t *s, int32_t len, int32_t i)
{
	int32_t		after_first;
	CharClass	first = class_at(bpe, s, i, &after_first);
	int32_t		start = i;
	CharClass	cls = first;
	int32_t		end;

	if (s[i] == '\'' && i + 1 < len)
	{
		uint8_t		a = s[i + 1];
		uint8_t		b = i + 2 < len ? s[i + 2] : 0;

		if (a == 's' || a == 't' || a == 'm' || a == 'd')
			return i + 2;
		if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
			return i + 3;
	}
	if (s[i] == ' ' && after_first < len)
	{
		int32_t		unused;
		CharClass	second = class_at(bpe, s, after_first, &unused);

		if (second != CLASS_SPACE)
		{
			start = after_first;
			cls = second;
		}
	}
	if (cls != CLASS_SPACE)
		return run_end(bpe, s, len, start, cls);

	/* white space: all of it at the end, else all but its last character */
	end = run_end(bpe, s, len, i, CLASS_SPACE);
	if (end < len)
	{
		int32_t		last = end - 1;

		while (last > i && (s[last] & 0xC0) == 0x80)
			last--;
		if (last > i)
			end = last;
	}
	return end;
}

/* Heap order: lower rank first, then the leftmost. */
static inline bool
candidate_before(const Candidate *a, const Candidate *b)
{
	return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static bool
heap_push(BpeRun *run, int32_t rank, int32_t pos, int32_t new_id)
{
	size_t		i = run->heap_len;

	if (!bq_grow_array((void **) &run->heap, &run->heap_cap, i + 1, sizeof(Candidate)))
		return false;
	run->heap[i].rank = rank;
	run->heap[i].pos = pos;
	run->heap[i].new_id = new_id;
	run->heap_len++;
	while (i > 0 && candidate_before(&run->heap[i], &run->heap[(i - 1) / 2]))
	{
		Candidate	t = run->heap[i];

		run->heap[i] = run->heap[(i - 1) / 2];
		run->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return true;
}

static Candidate
heap_pop(BpeRun *run)
{
	Candidate	top = run->heap[0];
	size_t		n = --run->heap_len;
	size_t		i = 0;

	run->heap[0] = run->heap[n];
	for (;;)
	{
		size_t		l = 2 * i + 1;
		size_t		best = i;
		Candidate	t;

		if (l < n && candidate_before(&run->heap[l], &run->heap[best]))
			best = l;
		if (l + 1 < n && candidate_before(&run->heap[l + 1], &run->heap[best]))
			best = l + 1;
		if (best == i)
			break;
		t = run->heap[i];
		run->heap[i] = run->heap[best];
		run->heap[best] = t;
		i = best;
	}
	return top;
}

/*
 * Queue the merge of symbol 'pos' with its right neighbour, if there is one.
 */
static bool
queue_pair(BpeRun *run, int32_t pos)
{
	const Symbol *left = &run->symbols[pos];
	const MergeSlot *slot;

	if (left->next < 0)
		return true;
	slot = merge_slot(run->bpe, left->id, run->symbols[left->next].id);
	if (slot->key == UINT64_MAX)
		return true;
	return heap_push(run, slot->rank, pos, slot->new_id);
}

/*
 * Apply the merges to the 'n' byte symbols of a piece.  A queued merge
 * still applies if its symbol is alive, has a right neighbour, and the two
 * still join into the same token.
 */
static bool
merge_symbols(BpeRun *run, int32_t n)
{
	Symbol	   *sym = run->symbols;

	run->heap_len = 0;
	for (int32_t i = 0; i + 1 < n; i++)
		if (!queue_pair(run, i))
			return false;
	while (run->heap_len > 0)
	{
		Candidate	top = heap_pop(run);
		Symbol	   *left = &sym[top.pos];
		Symbol	   *right;
		const MergeSlot *slot;

		if (left->len == 0 || left->next < 0)
			continue;
		right = &sym[left->next];
		slot = merge_slot(run->bpe, left->id, right->id);
		if (slot->key == UINT64_MAX || slot->new_id != top.new_id)
			continue;
		left->id = top.new_id;
		left->len += right->len;
		right->len = 0;
		left->next = right->next;
		if (left->next >= 0)
			sym[left->next].prev = top.pos;
		if ((left->prev >= 0 && !queue_pair(run, left->prev)) || !queue_pair(run, top.pos))
			return false;
	}
	return true;
}

/*
 * Tokenize the piece at bytes [start, end) of 's', whose first code point
 * is number 'first_char' of the text.  Offsets drop the spaces ("Ġ") a
 * token starts with.  (Hugging Face trims those it ends with too, but
 * GPT-2's pattern only puts spaces at the start of a piece, or makes a
 * piece of nothing but spaces, which the leading trim empties already.)
 */
static bool
tokenize_piece(BpeRun *run, const uint8_t *s, int32_t start, int32_t end, int32_t first_char)
{
	int32_t		n = end - start;
	int32_t		c = first_char - 1;

	if (!bq_grow_array((void **) &run->symbols, &run->symbols_cap, (size_t) n, sizeof(Symbol)) ||
		!bq_grow_array((void **) &run->char_of_byte, &run->char_of_byte_cap, (size_t) n,
					   sizeof(int32_t)))
		return false;
	for (int32_t i = 0; i < n; i++)
	{
		Symbol	   *sym = &run->symbols[i];

		sym->id = run->bpe->byte_id[s[start + i]];
		sym->start = i;
		sym->len = 1;
		sym->prev = i - 1;
		sym->next = i + 1 < n ? i + 1 : -1;
		c += (s[start + i] & 0xC0) != 0x80;
		run->char_of_byte[i] = c;
	}
	if (n > 1 && !merge_symbols(run, n))
		return false;
	for (int32_t i = 0; i >= 0; i = run->symbols[i].next)
	{
		const Symbol *sym = &run->symbols[i];
		const uint8_t *bytes = s + start + sym->start;
		int32_t		tok_start = run->char_of_byte[sym->start];
		int32_t		tok_end = run->char_of_byte[sym->start + sym->len - 1] + 1;
		int32_t		leading = 0;

		while (leading < sym->len && bytes[leading] == ' ')
			leading++;
		tok_start = tok_start + leading < tok_end ? tok_start + leading : tok_end;
		if (!bq_token_list_push(run->out, sym->id, tok_start, tok_end))
			return false;
	}
	return true;
}

static int
byte_bpe_tokenize(const void *state, const char *text, int32_t len, BqTokenList *out,
				  BqError *err)
{
	BpeRun		run = {0};
	const uint8_t *s = (const uint8_t *) text;
	int32_t		chars = 0;
	bool		ok = true;

	run.bpe = state;
	run.out = out;
	for (int32_t i = 0; ok && i < len;)
	{
		int32_t		end = piece_end(run.bpe, s, len, i);

		ok = tokenize_piece(&run, s, i, end, chars);
		for (; i < end; i++)
			chars += (s[i] & 0xC0) != 0x80;
	}
	free(run.symbols);
	free(run.heap);
	free(run.char_of_byte);
	if (!ok)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory tokenizing %d bytes of text", (int) len);
	return BQ_OK;
}

static int32_t
byte_bpe_vocab_size(const void *state)
{
	return bq_vocab_size(((const ByteBpe *) state)->vocab);
}

static const char *
byte_bpe_token(const void *state, int32_t id)
{
	return bq_vocab_token(((const ByteBpe *) state)->vocab, id);
}

static void
byte_bpe_free(void *state)
{
	ByteBpe    *bpe = state;

	if (bpe == NULL)
		return;
	bq_vocab_free(bpe->vocab);
	free(bpe->merges);
	free(bpe);
}

static const BqTokenizerOps byte_bpe_ops = {
	BQ_TOKENIZER_BYTE_BPE, byte_bpe_tokenize, byte_bpe_vocab_size, byte_bpe_token,
	byte_bpe_free
};

/*
 * Id of a token named by a C string, or -1.
 */
static int32_t
lookup(const BqVocab *vocab, const char *token)
{
	return bq_vocab_lookup(vocab, token, strlen(token));
}

/*
 * Fill the pair table.  A later duplicate of a merge wins, as when Hugging
 * Face collects the list into its map.
 */
static int
index_merges(ByteBpe *bpe, const BqBpeMerge *merges, int32_t n_merges, BqError *err)
{
	uint64_t	capacity = 16;
	char	   *joined = NULL;
	size_t		joined_cap = 0;

	while (capacity < 2 * (uint64_t) n_merges)
		capacity *= 2;
	bpe->merges = malloc(capacity * sizeof(MergeSlot));
	if (bpe->merges == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory for %d merges", (int) n_merges);
	bpe->merge_mask = capacity - 1;
	for (uint64_t i = 0; i < capacity; i++)
		bpe->merges[i].key = UINT64_MAX;
	for (int32_t rank = 0; rank < n_merges; rank++)
	{
		const BqBpeMerge *m = &merges[rank];
		size_t		left_len = strlen(m->left);
		size_t		right_len = strlen(m->right);
		int32_t		left = lookup(bpe->vocab, m->left);
		int32_t		right = lookup(bpe->vocab, m->right);
		int32_t		joined_id;
		MergeSlot  *slot;

		if (!bq_grow_array((void **) &joined, &joined_cap, left_len + right_len + 1, 1))
		{
			free(joined);
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory for %d merges", (int) n_merges);
		}
		memcpy(joined, m->left, left_len);
		memcpy(joined + left_len, m->right, right_len + 1);
		joined_id = lookup(bpe->vocab, joined);
		if (left < 0 || right < 0 || joined_id < 0)
		{
			bq_fail(err, BQ_ERR_FORMAT, "merge %d (\"%.64s %.64s\") uses \"%.64s\", which is not in the vocabulary",
					(int) rank + 1, m->left, m->right,
					left < 0 ? m->left : right < 0 ? m->right : joined);
			free(joined);
			return BQ_ERR_FORMAT;
		}
		slot = merge_slot(bpe, left, right);
		slot->key = (uint64_t) (uint32_t) left << 32 | (uint32_t) right;
		slot->rank = rank;
		slot->new_id = joined_id;
	}
	free(joined);
	return BQ_OK;
}

BqTokenizer *
bq_byte_bpe_new(BqVocab *vocab, const BqBpeMerge *merges, int32_t n_merges, BqError *err)
{
	ByteBpe    *bpe = calloc(1, sizeof(ByteBpe));
	BqSpecialTokens special;
	BqPairTemplate pair;

	if (bpe == NULL)
	{
		bq_vocab_free(vocab);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory creating the tokenizer");
		return NULL;
	}
	bpe->vocab = vocab;
	for (int b = 0; b < 256; b++)
	{
		char		utf8[4];
		int32_t		n = 0;

		U8_APPEND_UNSAFE(utf8, n, byte_char(b));
		bpe->byte_id[b] = bq_vocab_lookup(vocab, utf8, (size_t) n);
		if (bpe->byte_id[b] < 0)
		{
			bq_fail(err, BQ_ERR_FORMAT,
					"the vocabulary lacks \"%.*s\", the character of byte 0x%02X: it is not a byte-level BPE vocabulary",
					(int) n, utf8, b);
			byte_bpe_free(bpe);
			return NULL;
		}
	}
	if (index_merges(bpe, merges, n_merges, err) != BQ_OK)
	{
		byte_bpe_free(bpe);
		return NULL;
	}
	for (UChar32 c = 0; c < 128; c++)
		bpe->ascii_class[c] = (uint8_t) char_class(c);
	special.unk_id = lookup(vocab, "<unk>");
	special.pad_id = lookup(vocab, "<pad>");
	pair.cls_id = lookup(vocab, "<s>");
	pair.sep_id = lookup(vocab, "</s>");
	pair.separators = 2;
	pair.context_type = 0;
	return bq_tokenizer_wrap(&byte_bpe_ops, bpe, &special, &pair, err);
}

/*
 * merges.txt: after an optional "#version" line, one merge a line, its two
 * tokens separated by one space.  The lines are split in place.
 */
static int
parse_merges(char *text, size_t len, const char *path, BqBpeMerge **merges, int32_t *count,
			 BqError *err)
{
	size_t		cap = 0;
	size_t		n = 0;
	size_t		line_no = 0;
	char	   *line = text;

	*merges = NULL;
	*count = 0;
	while (line < text + len)
	{
		char	   *nl = memchr(line, '\n', (size_t) (text + len - line));
		char	   *end = nl != NULL ? nl : text + len;
		char	   *space;

		line_no++;
		*end = '\0';
		if (end > line && end[-1] == '\r')
			end[-1] = '\0';
		if (strncmp(line, "#version", 8) != 0)
		{
			space = strchr(line, ' ');
			if (space == NULL || strchr(space + 1, ' ') != NULL)
			{
				free(*merges);
				*merges = NULL;
				return bq_fail(err, BQ_ERR_FORMAT,
							   "\"%s\", line %zu: a merge is two tokens separated by one space",
							   path, line_no);
			}
			if (n >= INT32_MAX ||
				!bq_grow_array((void **) merges, &cap, n + 1, sizeof(BqBpeMerge)))
			{
				free(*merges);
				*merges = NULL;
				return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", path);
			}
			*space = '\0';
			(*merges)[n].left = line;
			(*merges)[n].right = space + 1;
			n++;
		}
		line = end + 1;
	}
	*count = (int32_t) n;
	return BQ_OK;
}

BqTokenizer *
bq_byte_bpe_load(const char *vocab_path, const char *merges_path, BqError *err)
{
	json_object *vocab_json = bq_json_load_file(vocab_path, err);
	BqVocab    *vocab;
	char	   *merges_text;
	size_t		merges_len;
	BqBpeMerge *merges;
	int32_t		n_merges;
	BqTokenizer *tok;
	char		name[1100];

	if (vocab_json == NULL)
		return NULL;
	snprintf(name, sizeof(name), "\"%s\"", vocab_path);
	vocab = bq_vocab_from_json(vocab_json, name, err);
	json_object_put(vocab_json);
	if (vocab == NULL)
		return NULL;
	if ((merges_text = bq_read_file(merges_path, &merges_len, err)) == NULL)
	{
		bq_vocab_free(vocab);
		return NULL;
	}
	if (parse_merges(merges_text, merges_len, merges_path, &merges, &n_merges, err) != BQ_OK)
	{
		free(merges_text);
		bq_vocab_free(vocab);
		return NULL;
	}
	tok = bq_byte_bpe_new(vocab, merges, n_merges, err);
	free(merges);
	free(merges_text);
	return tok;
}
