/*
 * torch_checkpoint.c - a torch.save zip archive as a table of tensors.
 *
 * The pickle is read with an allow-list of exactly the globals a state dict
 * needs (OrderedDict, _rebuild_tensor_v2 and the storage classes), then
 * each tensor's storage reference, offset, shape and strides are checked
 * against the archive: the storage entry must exist and have the size its
 * element count implies, the tensor must lie inside it and be contiguous.
 */
#include "torch_checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pickle_reader.h"
#include "zip_reader.h"

/* The storage classes torch.save names, with the dtype they hold. */
typedef struct StorageType
{
	const char *global;			/* as allowed in the pickle */
	const char *dtype_name;		/* safetensors spelling */
	BqDtype		dtype;
	size_t		element_size;
} StorageType;

static const StorageType storage_types[] = {
	{"torch.FloatStorage", "F32", BQ_DTYPE_F32, 4},
	{"torch.HalfStorage", "F16", BQ_DTYPE_F16, 2},
	{"torch.BFloat16Storage", "BF16", BQ_DTYPE_BF16, 2},
	{"torch.DoubleStorage", "F64", BQ_DTYPE_OTHER, 8},
	{"torch.LongStorage", "I64", BQ_DTYPE_OTHER, 8},
	{"torch.IntStorage", "I32", BQ_DTYPE_OTHER, 4},
	{"torch.ShortStorage", "I16", BQ_DTYPE_OTHER, 2},
	{"torch.CharStorage", "I8", BQ_DTYPE_OTHER, 1},
	{"torch.ByteStorage", "U8", BQ_DTYPE_OTHER, 1},
	{"torch.BoolStorage", "BOOL", BQ_DTYPE_OTHER, 1},
};

#define N_STORAGE_TYPES (sizeof(storage_types) / sizeof(storage_types[0]))

/* Every global a state dict may name; the storage classes follow these. */
static const char *const allowed_globals[] = {
	"collections.OrderedDict",
	"torch._utils._rebuild_tensor_v2",
	"torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage",
	"torch.DoubleStorage", "torch.LongStorage", "torch.IntStorage",
	"torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
	"torch.BoolStorage",
	NULL
};

#define REBUILD_TENSOR "torch._utils._rebuild_tensor_v2"

/* What a pickled state dict is read against. */
typedef struct Checkpoint
{
	BqSafetensors *st;			/* the result being filled */
	const BqZip *zip;
	char		prefix[256];	/* "<archive>/" before data.pkl */
} Checkpoint;

static bool
is_kind(const BqPickleValue *v, BqPickleKind kind)
{
	return v != NULL && v->kind == kind;
}

static int
bad_tensor(const Checkpoint *c, const char *tensor, const char *problem, BqError *err)
{
	return bq_fail(err, BQ_ERR_FORMAT, "checkpoint \"%s\": tensor \"%s\": %s", c->st->name,
				   tensor, problem);
}

/*
 * The storage a persistent id names: ('storage', class, key, location, numel).
 */
static int
resolve_storage(const Checkpoint *c, const char *tensor, const BqPickleValue *persid,
				const StorageType **type, const BqZipEntry **entry, BqError *err)
{
	const BqPickleValue *pid = persid->items[0];
	const BqPickleValue *key;
	char		entry_name[320];
	uint64_t	numel;

	if (!is_kind(pid, BQ_PICKLE_TUPLE) || pid->count != 5 ||
		!is_kind(pid->items[0], BQ_PICKLE_STRING) || strcmp(pid->items[0]->string, "storage") != 0 ||
		!is_kind(pid->items[1], BQ_PICKLE_GLOBAL) || !is_kind(pid->items[2], BQ_PICKLE_STRING) ||
		!is_kind(pid->items[4], BQ_PICKLE_INT) || pid->items[4]->integer < 0)
		return bad_tensor(c, tensor, "malformed storage reference", err);
	*type = NULL;
	for (size_t i = 0; i < N_STORAGE_TYPES; i++)
	{
		if (strcmp(storage_types[i].global, pid->items[1]->string) == 0)
			*type = &storage_types[i];
	}
	if (*type == NULL)
		return bad_tensor(c, tensor, "storage class is not a storage", err);
	key = pid->items[2];
	if (key->length == 0 || strspn(key->string, "0123456789abcdefghijklmnopqrstuvwxyz"
								   "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != key->length ||
		key->length > 64)
		return bad_tensor(c, tensor, "storage key is not a plain name", err);
	snprintf(entry_name, sizeof(entry_name), "%sdata/%s", c->prefix, key->string);
	if ((*entry = bq_zip_find(c->zip, entry_name)) == NULL)
	{
		bq_fail(err, BQ_ERR_FORMAT, "checkpoint \"%s\": tensor \"%s\": storage \"%s\" does not exist",
				c->st->name, tensor, entry_name);
		return BQ_ERR_FORMAT;
	}
	numel = (uint64_t) pid->items[4]->integer;
	if (numel > SIZE_MAX / (*type)->element_size ||
		numel * (*type)->element_size != (*entry)->size)
		return bad_tensor(c, tensor, "storage entry size differs from its element count", err);
	return BQ_OK;
}

/*
 * Shape, strides and offset of one _rebuild_tensor_v2 call, checked
 * against its storage; fills 't' (name excepted).
 */
static int
read_tensor(const Checkpoint *c, const char *name, const BqPickleValue *call, BqTensor *t,
			BqError *err)
{
	const BqPickleValue *args = call->items[1];
	const BqPickleValue *size;
	const BqPickleValue *stride;
	const StorageType *type = NULL;
	const BqZipEntry *entry = NULL;
	int64_t		offset;
	int64_t		expected_stride = 1;
	uint64_t	storage_elements;
	int			rc;

	if (strcmp(call->items[0]->string, REBUILD_TENSOR) != 0)
		return bad_tensor(c, name, "value is not a tensor", err);
	if (args->count < 4 || !is_kind(args->items[0], BQ_PICKLE_PERSID) ||
		!is_kind(args->items[1], BQ_PICKLE_INT) || !is_kind(args->items[2], BQ_PICKLE_TUPLE) ||
		!is_kind(args->items[3], BQ_PICKLE_TUPLE))
		return bad_tensor(c, name, "malformed _rebuild_tensor_v2 arguments", err);
	if ((rc = resolve_storage(c, name, args->items[0], &type, &entry, err)) != BQ_OK)
		return rc;
	size = args->items[2];
	stride = args->items[3];
	offset = args->items[1]->integer;
	if (size->count != stride->count || size->count > BQ_ST_MAX_DIMS)
		return bad_tensor(c, name, "shape and strides disagree or have too many dimensions", err);

	t->ndim = (int) size->count;
	t->elements = 1;
	for (int d = 0; d < t->ndim; d++)
	{
		if (!is_kind(size->items[d], BQ_PICKLE_INT) || size->items[d]->integer < 0 ||
			!is_kind(stride->items[d], BQ_PICKLE_INT))
			return bad_tensor(c, name, "shape or stride is not a natural number", err);
		t->shape[d] = size->items[d]->integer;
		if (t->shape[d] != 0 && t->elements > INT64_MAX / t->shape[d])
			return bad_tensor(c, name, "shape overflows", err);
		t->elements *= t->shape[d];
	}
	for (int d = t->ndim - 1; d >= 0; d--)
	{
		if (t->shape[d] > 1 && stride->items[d]->integer != expected_stride)
			return bq_fail(err, BQ_ERR_UNSUPPORTED,
						   "checkpoint \"%s\": tensor \"%s\" is not contiguous; bertqa reads only contiguous tensors",
						   c->st->name, name);
		expected_stride *= t->shape[d] > 0 ? t->shape[d] : 1;
	}
	storage_elements = entry->size / type->element_size;
	if (offset < 0 || (uint64_t) offset > storage_elements ||
		(uint64_t) t->elements > storage_elements - (uint64_t) offset)
		return bad_tensor(c, name, "data lies past the end of its storage", err);
	t->dtype_name = type->dtype_name;
	t->dtype = type->dtype;
	t->data = entry->data + (size_t) offset * type->element_size;
	t->nbytes = (size_t) t->elements * type->element_size;
	return BQ_OK;
}

/*
 * The state dict: the root, or its "state_dict" entry (Lightning and NeMo
 * training checkpoints nest it there).
 */
static const BqPickleValue *
state_dict(const BqPickleValue *root)
{
	const BqPickleValue *nested = bq_pickle_dict_get(root, "state_dict");

	return is_kind(nested, BQ_PICKLE_DICT) ? nested : root;
}

/*
 * One BqTensor per tensor of the state dict; other values are skipped.
 */
static int
read_state_dict(Checkpoint *c, const BqPickleValue *root, BqError *err)
{
	const BqPickleValue *dict = state_dict(root);
	BqSafetensors *st = c->st;

	if (!is_kind(dict, BQ_PICKLE_DICT))
		return bq_fail(err, BQ_ERR_FORMAT, "checkpoint \"%s\" does not hold a state dict", st->name);
	st->tensors = calloc(dict->count / 2 + 1, sizeof(BqTensor));
	if (st->tensors == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", st->name);
	for (size_t i = 0; i + 1 < dict->count; i += 2)
	{
		const BqPickleValue *key = dict->items[i];
		const BqPickleValue *value = dict->items[i + 1];
		BqTensor   *t = &st->tensors[st->count];
		int			rc;

		if (!is_kind(value, BQ_PICKLE_CALL))
			continue;
		if (!is_kind(key, BQ_PICKLE_STRING))
			return bq_fail(err, BQ_ERR_FORMAT, "checkpoint \"%s\": a tensor's name is not a string",
						   st->name);
		if (!bq_archive_name_ok(key->string))
			continue;			/* never a weight bertqa binds; not worth a message */
		if ((t->name = strdup(key->string)) == NULL)
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", st->name);
		st->count++;
		if ((rc = read_tensor(c, key->string, value, t, err)) != BQ_OK)
			return rc;
	}
	return BQ_OK;
}

/*
 * Find the one "<prefix>data.pkl" entry and parse it.
 */
static int
read_archive(BqSafetensors *st, const BqZip *zip, BqError *err)
{
	Checkpoint	c = {.st = st, .zip = zip};
	const BqZipEntry *pkl = NULL;
	char		label[1024];
	BqPickle   *pickle;
	int			rc;

	for (int i = 0; i < zip->count; i++)
	{
		const char *name = zip->entries[i].name;
		const char *slash = strchr(name, '/');

		if (slash != NULL && strcmp(slash + 1, "data.pkl") == 0)
		{
			if (pkl != NULL)
				return bq_fail(err, BQ_ERR_FORMAT, "checkpoint \"%s\" holds more than one data.pkl",
							   st->name);
			pkl = &zip->entries[i];
		}
	}
	if (pkl == NULL)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "\"%s\" is not a PyTorch checkpoint (no <name>/data.pkl entry)", st->name);
	if (strlen(pkl->name) - strlen("data.pkl") >= sizeof(c.prefix))
		return bq_fail(err, BQ_ERR_FORMAT, "checkpoint \"%s\": archive name too long", st->name);
	snprintf(c.prefix, sizeof(c.prefix), "%.*s", (int) (strlen(pkl->name) - strlen("data.pkl")),
			 pkl->name);
	snprintf(label, sizeof(label), "%s: %s", st->name, pkl->name);
	pickle = bq_pickle_parse(pkl->data, pkl->size, allowed_globals, label, err);
	if (pickle == NULL)
		return err->status;
	rc = read_state_dict(&c, bq_pickle_root(pickle), err);
	bq_pickle_free(pickle);
	return rc;
}

/*
 * Fill 'st' (whose name, bytes and size are set) from its archive.
 */
static int
read_checkpoint(BqSafetensors *st, BqError *err)
{
	BqZip	   *zip = bq_zip_parse(st->bytes, st->size, st->name, err);
	int			rc;

	if (zip == NULL)
		return err->status;
	rc = read_archive(st, zip, err);
	bq_zip_free(zip);
	return rc;
}

BqSafetensors *
bq_torch_checkpoint_parse(const void *bytes, size_t size, const char *name, BqError *err)
{
	return bq_tensor_file_from_bytes(bytes, size, name, read_checkpoint, err);
}

BqSafetensors *
bq_torch_checkpoint_open(const char *path, BqError *err)
{
	return bq_tensor_file_open(path, "checkpoint", read_checkpoint, err);
}
