/*
 * pickle_reader.h - a safe reader for the subset of Python's pickle format
 * that torch.save uses for a state dict.
 *
 * Nothing is ever executed: the reader builds a tree of plain values.  A
 * fixed set of opcodes is understood (anything else is an error), and a
 * global may only be named if the caller's allow-list holds it.  Calling an
 * allowed global (REDUCE) yields a CALL node for the caller to interpret,
 * except collections.OrderedDict(), which yields an empty dict.  Persistent
 * ids (BINPERSID) become PERSID nodes, likewise left to the caller.
 *
 * The result is acyclic and its tree size (a walk visiting shared values
 * once per reference) is bounded by BQ_PICKLE_MAX_TREE: a container can
 * only be filled before it is itself placed in another, as every pickler
 * writes them, so self-referential or exponentially shared structures are
 * refused rather than handed to the caller.
 */
#ifndef BQ_PICKLE_READER_H
#define BQ_PICKLE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"

/* Most values a walk of the result may visit. */
#define BQ_PICKLE_MAX_TREE ((size_t) 1 << 20)

typedef enum BqPickleKind
{
	BQ_PICKLE_NONE,
	BQ_PICKLE_BOOL,
	BQ_PICKLE_INT,
	BQ_PICKLE_FLOAT,
	BQ_PICKLE_STRING,
	BQ_PICKLE_TUPLE,
	BQ_PICKLE_LIST,
	BQ_PICKLE_DICT,				/* items: key, value, key, value, ... */
	BQ_PICKLE_GLOBAL,			/* an allowed global, by its index in the allow-list */
	BQ_PICKLE_CALL,				/* items[0] the GLOBAL called, items[1] its argument tuple */
	BQ_PICKLE_PERSID			/* items[0] the persistent id */
} BqPickleKind;

typedef struct BqPickleValue
{
	BqPickleKind kind;
	int64_t		integer;		/* BOOL, INT; GLOBAL: allow-list index */
	double		real;			/* FLOAT */
	const char *string;			/* STRING: NUL-terminated (no NUL inside) */
	size_t		length;			/* STRING: bytes */
	struct BqPickleValue **items;	/* TUPLE, LIST, DICT, CALL, PERSID */
	size_t		count;
	size_t		capacity;
	size_t		tree_size;		/* values under this one, shared ones counted each time */
	bool		contained;		/* already an item of another value */
} BqPickleValue;

typedef struct BqPickle BqPickle;

/*
 * Read the pickle in 'bytes'.  'allowed' lists the globals that may appear
 * as "module.name" strings, NULL-terminated.  'name' labels messages.
 */
BqPickle   *bq_pickle_parse(const void *bytes, size_t size, const char *const *allowed,
							const char *name, BqError *err);

/* The value the pickle evaluates to; owned by 'pickle'. */
const BqPickleValue *bq_pickle_root(const BqPickle *pickle);

void		bq_pickle_free(BqPickle *pickle);

/* The value of 'key' (a string) in a DICT, or NULL. */
const BqPickleValue *bq_pickle_dict_get(const BqPickleValue *dict, const char *key);

#endif							/* BQ_PICKLE_READER_H */
