/*
 * pickle_reader.c - evaluating a pickle into plain values, safely.
 *
 * The pickle machine is a stack, a stack of marks and a memo.  This reader
 * runs it over the opcodes protocols 2-4 use for state dicts, with every
 * length and index checked against the input and the current stack, and
 * builds values instead of calling anything.  Each value is allocated in a
 * list the pickle owns, so any failure frees everything in one place and
 * shared or even cyclic references (through the memo) are harmless.
 */
#include "pickle_reader.h"

#include <stdlib.h>
#include <string.h>

#include "grow_array.h"

/* Longest "module.name" of a global accepted. */
#define MAX_GLOBAL_NAME 200

struct BqPickle
{
	char	   *name;			/* for messages */
	const unsigned char *bytes;
	size_t		size;
	size_t		pos;			/* next byte to read */
	size_t		op_pos;			/* offset of the opcode being run */
	const char *const *allowed;
	BqPickleValue **values;		/* every value allocated, to free */
	size_t		nvalues;
	size_t		values_cap;
	BqPickleValue **stack;
	size_t		depth;
	size_t		stack_cap;
	size_t	   *marks;			/* stack depths at each MARK */
	size_t		nmarks;
	size_t		marks_cap;
	BqPickleValue **memo;		/* [memo_cap], NULL where unset */
	size_t		memo_cap;
	size_t		memo_count;		/* keys set: MEMOIZE's next key */
	BqPickleValue *root;
};

static int
fail_at(BqPickle *p, const char *what, BqError *err)
{
	return bq_fail(err, BQ_ERR_FORMAT, "pickle \"%s\": %s at offset %zu", p->name, what,
				   p->op_pos);
}

static int
out_of_memory(BqPickle *p, BqError *err)
{
	return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading pickle \"%s\"", p->name);
}

static BqPickleValue *
new_value(BqPickle *p, BqPickleKind kind)
{
	BqPickleValue *v;

	if (!bq_grow_array((void **) &p->values, &p->values_cap, p->nvalues + 1, sizeof(BqPickleValue *)))
		return NULL;
	v = calloc(1, sizeof(BqPickleValue));
	if (v == NULL)
		return NULL;
	v->kind = kind;
	v->tree_size = 1;
	p->values[p->nvalues++] = v;
	return v;
}

/*
 * Make 'item' an item of 'container', which must not yet be an item of
 * anything itself: this keeps the values acyclic and their tree sizes
 * exact (a container's size is final once it is contained).
 */
static int
add_item(BqPickle *p, BqPickleValue *container, BqPickleValue *item, BqError *err)
{
	if (container->contained || item == container)
		return fail_at(p, "container filled after being placed in another (self-referential pickle)",
					   err);
	if (item->tree_size > BQ_PICKLE_MAX_TREE - container->tree_size)
		return fail_at(p, "structure too large (shared values expand past the limit)", err);
	if (!bq_grow_array((void **) &container->items, &container->capacity, container->count + 1,
				 sizeof(BqPickleValue *)))
		return out_of_memory(p, err);
	container->items[container->count++] = item;
	container->tree_size += item->tree_size;
	item->contained = true;
	return BQ_OK;
}

static int
push(BqPickle *p, BqPickleValue *v, BqError *err)
{
	if (v == NULL ||
		!bq_grow_array((void **) &p->stack, &p->stack_cap, p->depth + 1, sizeof(BqPickleValue *)))
		return out_of_memory(p, err);
	p->stack[p->depth++] = v;
	return BQ_OK;
}

/* Stack depth below which the current mark protects values. */
static size_t
mark_floor(const BqPickle *p)
{
	return p->nmarks > 0 ? p->marks[p->nmarks - 1] : 0;
}

static BqPickleValue *
pop(BqPickle *p)
{
	if (p->depth <= mark_floor(p))
		return NULL;
	return p->stack[--p->depth];
}

/* The top of the stack, not crossing a mark, or NULL. */
static BqPickleValue *
top(BqPickle *p)
{
	return p->depth > mark_floor(p) ? p->stack[p->depth - 1] : NULL;
}

/*
 * Take the 'n' bytes after the opcode, or NULL when the input ends first.
 */
static const unsigned char *
take(BqPickle *p, size_t n)
{
	const unsigned char *at;

	if (p->size - p->pos < n)
		return NULL;
	at = p->bytes + p->pos;
	p->pos += n;
	return at;
}

static uint64_t
read_le(const unsigned char *b, size_t n)
{
	uint64_t	v = 0;

	for (size_t i = n; i-- > 0;)
		v = (v << 8) | b[i];
	return v;
}

/*
 * Push an integer of 'n' little-endian bytes, signed or not.
 */
static int
op_int(BqPickle *p, size_t n, bool is_signed, BqError *err)
{
	const unsigned char *b = take(p, n);
	BqPickleValue *v;
	uint64_t	raw;

	if (b == NULL)
		return fail_at(p, "truncated integer", err);
	raw = read_le(b, n);
	if (is_signed && n < 8 && (raw >> (8 * n - 1)) & 1)
		raw |= ~(uint64_t) 0 << (8 * n);
	if ((v = new_value(p, BQ_PICKLE_INT)) == NULL)
		return out_of_memory(p, err);
	v->integer = (int64_t) raw;
	return push(p, v, err);
}

/* LONG1: a length byte, then that many bytes of two's complement. */
static int
op_long1(BqPickle *p, BqError *err)
{
	const unsigned char *len = take(p, 1);

	if (len == NULL)
		return fail_at(p, "truncated LONG1", err);
	if (*len > 8)
		return fail_at(p, "integer wider than 64 bits", err);
	if (*len == 0)
		return push(p, new_value(p, BQ_PICKLE_INT), err);	/* zero */
	return op_int(p, *len, true, err);
}

static int
op_float(BqPickle *p, BqError *err)
{
	const unsigned char *b = take(p, 8);
	BqPickleValue *v;
	uint64_t	bits = 0;

	if (b == NULL)
		return fail_at(p, "truncated BINFLOAT", err);
	for (int i = 0; i < 8; i++)
		bits = (bits << 8) | b[i];	/* big-endian */
	if ((v = new_value(p, BQ_PICKLE_FLOAT)) == NULL)
		return out_of_memory(p, err);
	memcpy(&v->real, &bits, sizeof(double));
	return push(p, v, err);
}

/*
 * A string value holding a copy of 'len' bytes; NUL bytes are refused so
 * the copy can be used as a C string.
 */
static BqPickleValue *
make_string(BqPickle *p, const unsigned char *text, size_t len, BqError *err)
{
	BqPickleValue *v;
	char	   *copy;

	if (memchr(text, '\0', len) != NULL)
	{
		fail_at(p, "string holds a NUL byte", err);
		return NULL;
	}
	if ((v = new_value(p, BQ_PICKLE_STRING)) == NULL || (copy = malloc(len + 1)) == NULL)
	{
		out_of_memory(p, err);
		return NULL;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	v->string = copy;
	v->length = len;
	return v;
}

/* BINUNICODE and friends: a length of 'width' bytes, then UTF-8. */
static int
op_string(BqPickle *p, size_t width, BqError *err)
{
	const unsigned char *len_bytes = take(p, width);
	const unsigned char *text;
	uint64_t	len;
	BqPickleValue *v;

	if (len_bytes == NULL)
		return fail_at(p, "truncated string length", err);
	len = read_le(len_bytes, width);
	if (len > p->size - p->pos || (text = take(p, (size_t) len)) == NULL)
		return fail_at(p, "string runs past the end", err);
	if ((v = make_string(p, text, (size_t) len, err)) == NULL)
		return err->status;
	return push(p, v, err);
}

/*
 * Push the global "module.name" if the allow-list holds it.
 */
static int
push_global(BqPickle *p, const char *module, size_t module_len, const char *name,
			size_t name_len, BqError *err)
{
	char		full[MAX_GLOBAL_NAME + 2];
	BqPickleValue *v;

	if (module_len + name_len > MAX_GLOBAL_NAME)
		return fail_at(p, "global name too long", err);
	for (size_t i = 0; i < module_len + name_len; i++)
	{
		unsigned char c = (unsigned char) (i < module_len ? module[i] : name[i - module_len]);

		if (c <= ' ' || c >= 0x7f)
			return fail_at(p, "global name with unprintable bytes", err);
	}
	memcpy(full, module, module_len);
	full[module_len] = '.';
	memcpy(full + module_len + 1, name, name_len);
	full[module_len + 1 + name_len] = '\0';
	for (int i = 0; p->allowed[i] != NULL; i++)
	{
		if (strcmp(p->allowed[i], full) == 0)
		{
			if ((v = new_value(p, BQ_PICKLE_GLOBAL)) == NULL)
				return out_of_memory(p, err);
			v->integer = i;
			v->string = p->allowed[i];
			return push(p, v, err);
		}
	}
	return bq_fail(err, BQ_ERR_FORMAT,
				   "pickle \"%s\": global \"%s\" at offset %zu is not allowed; bertqa only rebuilds tensors and dicts",
				   p->name, full, p->op_pos);
}

/* GLOBAL: "module\nname\n". */
static int
op_global(BqPickle *p, BqError *err)
{
	const char *start = (const char *) p->bytes + p->pos;
	size_t		left = p->size - p->pos;
	const char *nl1 = memchr(start, '\n', left);
	const char *nl2;

	if (nl1 == NULL ||
		(nl2 = memchr(nl1 + 1, '\n', left - (size_t) (nl1 + 1 - start))) == NULL)
		return fail_at(p, "truncated GLOBAL", err);
	p->pos += (size_t) (nl2 + 1 - start);
	return push_global(p, start, (size_t) (nl1 - start), nl1 + 1, (size_t) (nl2 - nl1 - 1), err);
}

/* STACK_GLOBAL: module and name strings from the stack. */
static int
op_stack_global(BqPickle *p, BqError *err)
{
	BqPickleValue *name = pop(p);
	BqPickleValue *module = pop(p);

	if (name == NULL || module == NULL || name->kind != BQ_PICKLE_STRING ||
		module->kind != BQ_PICKLE_STRING)
		return fail_at(p, "STACK_GLOBAL needs two strings", err);
	return push_global(p, module->string, module->length, name->string, name->length, err);
}

/*
 * A memo key of 'width' bytes; keys past the input's length cannot come
 * from a sane writer (each needs an opcode) and are refused.
 */
static bool
memo_key(BqPickle *p, size_t width, size_t *key)
{
	const unsigned char *b = take(p, width);
	uint64_t	k;

	if (b == NULL)
		return false;
	k = read_le(b, width);
	if (k > p->size)
		return false;
	*key = (size_t) k;
	return true;
}

static int
memo_put(BqPickle *p, size_t key, BqError *err)
{
	BqPickleValue *v = top(p);
	size_t		old_cap = p->memo_cap;

	if (v == NULL)
		return fail_at(p, "memo store with an empty stack", err);
	if (!bq_grow_array((void **) &p->memo, &p->memo_cap, key + 1, sizeof(BqPickleValue *)))
		return out_of_memory(p, err);
	if (p->memo_cap > old_cap)
		memset(p->memo + old_cap, 0, (p->memo_cap - old_cap) * sizeof(BqPickleValue *));
	if (p->memo[key] == NULL)
		p->memo_count++;
	p->memo[key] = v;
	return BQ_OK;
}

static int
op_put(BqPickle *p, size_t width, BqError *err)
{
	size_t		key;

	if (!memo_key(p, width, &key))
		return fail_at(p, "bad memo key", err);
	return memo_put(p, key, err);
}

static int
op_get(BqPickle *p, size_t width, BqError *err)
{
	size_t		key;

	if (!memo_key(p, width, &key) || key >= p->memo_cap || p->memo[key] == NULL)
		return fail_at(p, "memo key never stored", err);
	return push(p, p->memo[key], err);
}

/*
 * Pop everything above the last mark (and the mark) into a new container.
 */
static int
collect_from_mark(BqPickle *p, BqPickleKind kind, BqPickleValue **out, BqError *err)
{
	size_t		from;
	BqPickleValue *v;
	int			rc;

	if (p->nmarks == 0)
		return fail_at(p, "no MARK to collect from", err);
	from = p->marks[--p->nmarks];
	if ((v = new_value(p, kind)) == NULL)
		return out_of_memory(p, err);
	for (size_t i = from; i < p->depth; i++)
	{
		if ((rc = add_item(p, v, p->stack[i], err)) != BQ_OK)
			return rc;
	}
	p->depth = from;
	*out = v;
	return BQ_OK;
}

/* TUPLE1/2/3: the top 'n' values. */
static int
op_small_tuple(BqPickle *p, size_t n, BqError *err)
{
	BqPickleValue *v;
	int			rc;

	if (p->depth - mark_floor(p) < n)
		return fail_at(p, "tuple of more values than the stack holds", err);
	if ((v = new_value(p, BQ_PICKLE_TUPLE)) == NULL)
		return out_of_memory(p, err);
	for (size_t i = p->depth - n; i < p->depth; i++)
	{
		if ((rc = add_item(p, v, p->stack[i], err)) != BQ_OK)
			return rc;
	}
	p->depth -= n;
	return push(p, v, err);
}

/*
 * SETITEM(S) and APPEND(S): add 'items' (pairs for a dict) to the
 * container now on top of the stack.
 */
static int
extend_top(BqPickle *p, BqPickleKind kind, BqPickleValue **items, size_t n, BqError *err)
{
	BqPickleValue *target = top(p);
	int			rc;

	if (target == NULL || target->kind != kind)
		return fail_at(p, kind == BQ_PICKLE_DICT ? "SETITEMS on something not a dict" :
					   "APPENDS on something not a list", err);
	for (size_t i = 0; i < n; i++)
	{
		if ((rc = add_item(p, target, items[i], err)) != BQ_OK)
			return rc;
	}
	return BQ_OK;
}

static int
op_extend_from_mark(BqPickle *p, BqPickleKind kind, BqError *err)
{
	BqPickleValue *items;
	int			rc;

	if ((rc = collect_from_mark(p, BQ_PICKLE_LIST, &items, err)) != BQ_OK)
		return rc;
	if (kind == BQ_PICKLE_DICT && items->count % 2 != 0)
		return fail_at(p, "SETITEMS with a key lacking its value", err);
	return extend_top(p, kind, items->items, items->count, err);
}

static int
op_setitem(BqPickle *p, BqError *err)
{
	BqPickleValue *pair[2];

	pair[1] = pop(p);
	pair[0] = pop(p);
	if (pair[0] == NULL || pair[1] == NULL)
		return fail_at(p, "SETITEM with an empty stack", err);
	return extend_top(p, BQ_PICKLE_DICT, pair, 2, err);
}

static int
op_append(BqPickle *p, BqError *err)
{
	BqPickleValue *item = pop(p);

	if (item == NULL)
		return fail_at(p, "APPEND with an empty stack", err);
	return extend_top(p, BQ_PICKLE_LIST, &item, 1, err);
}

/*
 * REDUCE: calling an allowed global.  OrderedDict() is the one call whose
 * result is a container later opcodes fill, so it becomes a dict here.
 */
static int
op_reduce(BqPickle *p, BqError *err)
{
	BqPickleValue *args = pop(p);
	BqPickleValue *func = pop(p);
	BqPickleValue *v;
	int			rc;

	if (args == NULL || func == NULL || args->kind != BQ_PICKLE_TUPLE ||
		func->kind != BQ_PICKLE_GLOBAL)
		return fail_at(p, "REDUCE needs a global and an argument tuple", err);
	if (strcmp(func->string, "collections.OrderedDict") == 0)
	{
		if (args->count != 0)
			return fail_at(p, "OrderedDict called with arguments", err);
		return push(p, new_value(p, BQ_PICKLE_DICT), err);
	}
	if ((v = new_value(p, BQ_PICKLE_CALL)) == NULL)
		return out_of_memory(p, err);
	if ((rc = add_item(p, v, func, err)) != BQ_OK || (rc = add_item(p, v, args, err)) != BQ_OK)
		return rc;
	return push(p, v, err);
}

/* BUILD: only a dict's attributes (torch's _metadata), which are dropped. */
static int
op_build(BqPickle *p, BqError *err)
{
	BqPickleValue *state = pop(p);
	BqPickleValue *target = top(p);

	if (state == NULL || target == NULL || target->kind != BQ_PICKLE_DICT)
		return fail_at(p, "BUILD on something not a dict", err);
	return BQ_OK;
}

static int
op_persid(BqPickle *p, BqError *err)
{
	BqPickleValue *pid = pop(p);
	BqPickleValue *v;
	int			rc;

	if (pid == NULL)
		return fail_at(p, "BINPERSID with an empty stack", err);
	if ((v = new_value(p, BQ_PICKLE_PERSID)) == NULL)
		return out_of_memory(p, err);
	if ((rc = add_item(p, v, pid, err)) != BQ_OK)
		return rc;
	return push(p, v, err);
}

static int
op_mark(BqPickle *p, BqError *err)
{
	if (!bq_grow_array((void **) &p->marks, &p->marks_cap, p->nmarks + 1, sizeof(size_t)))
		return out_of_memory(p, err);
	p->marks[p->nmarks++] = p->depth;
	return BQ_OK;
}

static int
op_stop(BqPickle *p, BqError *err)
{
	if (p->nmarks != 0 || p->depth != 1)
		return fail_at(p, "STOP with other than one value on the stack", err);
	if (p->pos != p->size)
		return fail_at(p, "data after STOP", err);
	p->root = p->stack[0];
	return BQ_OK;
}

/*
 * Run one opcode.
 */
static int
run_opcode(BqPickle *p, unsigned char op, BqError *err)
{
	BqPickleValue *v = NULL;
	int			rc;

	switch (op)
	{
		case 0x80:				/* PROTO */
			{
				const unsigned char *version = take(p, 1);

				if (version == NULL || *version > 5)
					return fail_at(p, "unknown protocol", err);
				return BQ_OK;
			}
		case 0x95:				/* FRAME: a length hint only */
			return take(p, 8) != NULL ? BQ_OK : fail_at(p, "truncated FRAME", err);
		case '}':				/* EMPTY_DICT */
			return push(p, new_value(p, BQ_PICKLE_DICT), err);
		case ']':				/* EMPTY_LIST */
			return push(p, new_value(p, BQ_PICKLE_LIST), err);
		case ')':				/* EMPTY_TUPLE */
			return push(p, new_value(p, BQ_PICKLE_TUPLE), err);
		case 'N':				/* NONE */
			return push(p, new_value(p, BQ_PICKLE_NONE), err);
		case 0x88:				/* NEWTRUE */
		case 0x89:				/* NEWFALSE */
			if ((v = new_value(p, BQ_PICKLE_BOOL)) == NULL)
				return out_of_memory(p, err);
			v->integer = op == 0x88;
			return push(p, v, err);
		case '(':
			return op_mark(p, err);
		case 'K':				/* BININT1 */
			return op_int(p, 1, false, err);
		case 'M':				/* BININT2 */
			return op_int(p, 2, false, err);
		case 'J':				/* BININT */
			return op_int(p, 4, true, err);
		case 0x8a:				/* LONG1 */
			return op_long1(p, err);
		case 'G':				/* BINFLOAT */
			return op_float(p, err);
		case 'X':				/* BINUNICODE */
			return op_string(p, 4, err);
		case 0x8c:				/* SHORT_BINUNICODE */
			return op_string(p, 1, err);
		case 'c':
			return op_global(p, err);
		case 0x93:
			return op_stack_global(p, err);
		case 'q':				/* BINPUT */
			return op_put(p, 1, err);
		case 'r':				/* LONG_BINPUT */
			return op_put(p, 4, err);
		case 0x94:				/* MEMOIZE */
			return memo_put(p, p->memo_count, err);
		case 'h':				/* BINGET */
			return op_get(p, 1, err);
		case 'j':				/* LONG_BINGET */
			return op_get(p, 4, err);
		case 't':				/* TUPLE */
			if ((rc = collect_from_mark(p, BQ_PICKLE_TUPLE, &v, err)) != BQ_OK)
				return rc;
			return push(p, v, err);
		case 0x85:
			return op_small_tuple(p, 1, err);
		case 0x86:
			return op_small_tuple(p, 2, err);
		case 0x87:
			return op_small_tuple(p, 3, err);
		case 's':
			return op_setitem(p, err);
		case 'u':
			return op_extend_from_mark(p, BQ_PICKLE_DICT, err);
		case 'a':
			return op_append(p, err);
		case 'e':
			return op_extend_from_mark(p, BQ_PICKLE_LIST, err);
		case 'R':
			return op_reduce(p, err);
		case 'b':
			return op_build(p, err);
		case 'Q':
			return op_persid(p, err);
		case '.':
			return op_stop(p, err);
	}
	return bq_fail(err, BQ_ERR_FORMAT,
				   "pickle \"%s\": opcode 0x%02x at offset %zu is not supported (bertqa reads only the opcodes of tensor state dicts)",
				   p->name, op, p->op_pos);
}

BqPickle *
bq_pickle_parse(const void *bytes, size_t size, const char *const *allowed,
				const char *name, BqError *err)
{
	BqPickle   *p = calloc(1, sizeof(BqPickle));
	int			rc = BQ_OK;

	if (p == NULL || (p->name = strdup(name)) == NULL)
	{
		free(p);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory reading pickle \"%s\"", name);
		return NULL;
	}
	p->bytes = bytes;
	p->size = size;
	p->allowed = allowed;
	while (rc == BQ_OK && p->root == NULL)
	{
		p->op_pos = p->pos;
		if (p->pos >= p->size)
			rc = fail_at(p, "pickle ends without STOP", err);
		else
			rc = run_opcode(p, p->bytes[p->pos++], err);
	}
	if (rc != BQ_OK)
	{
		bq_pickle_free(p);
		return NULL;
	}
	return p;
}

const BqPickleValue *
bq_pickle_root(const BqPickle *pickle)
{
	return pickle->root;
}

void
bq_pickle_free(BqPickle *pickle)
{
	if (pickle == NULL)
		return;
	for (size_t i = 0; i < pickle->nvalues; i++)
	{
		BqPickleValue *v = pickle->values[i];

		if (v->kind == BQ_PICKLE_STRING)
			free((char *) v->string);
		free(v->items);
		free(v);
	}
	free(pickle->values);
	free(pickle->stack);
	free(pickle->marks);
	free(pickle->memo);
	free(pickle->name);
	free(pickle);
}

const BqPickleValue *
bq_pickle_dict_get(const BqPickleValue *dict, const char *key)
{
	if (dict == NULL || dict->kind != BQ_PICKLE_DICT)
		return NULL;
	for (size_t i = 0; i + 1 < dict->count; i += 2)
	{
		const BqPickleValue *k = dict->items[i];

		if (k->kind == BQ_PICKLE_STRING && strcmp(k->string, key) == 0)
			return dict->items[i + 1];
	}
	return NULL;
}
