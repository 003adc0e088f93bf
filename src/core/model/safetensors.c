/*
 * safetensors.c - parsing, validating, mapping and writing safetensors files.
 *
 * The header is untrusted input: every length, dtype, shape and offset is
 * checked (with overflow-safe arithmetic) before a tensor's bytes are
 * exposed, and each kind of defect has its own message naming the file and
 * the tensor.
 */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_util.h"

/* The format's dtypes and their element sizes. */
static const struct
{
	const char *name;
	size_t		size;
	BqDtype		dtype;
}			dtype_table[] = {
	{"F32", 4, BQ_DTYPE_F32},
	{"F16", 2, BQ_DTYPE_F16},
	{"BF16", 2, BQ_DTYPE_BF16},
	{"F64", 8, BQ_DTYPE_OTHER},
	{"I64", 8, BQ_DTYPE_OTHER},
	{"U64", 8, BQ_DTYPE_OTHER},
	{"I32", 4, BQ_DTYPE_OTHER},
	{"U32", 4, BQ_DTYPE_OTHER},
	{"I16", 2, BQ_DTYPE_OTHER},
	{"U16", 2, BQ_DTYPE_OTHER},
	{"I8", 1, BQ_DTYPE_OTHER},
	{"U8", 1, BQ_DTYPE_OTHER},
	{"BOOL", 1, BQ_DTYPE_OTHER},
	{"F8_E5M2", 1, BQ_DTYPE_OTHER},
	{"F8_E4M3", 1, BQ_DTYPE_OTHER},
	{"F8_E8M0", 1, BQ_DTYPE_OTHER},
};

#define DTYPE_COUNT (sizeof(dtype_table) / sizeof(dtype_table[0]))

/*
 * Index into dtype_table, or -1 for a name the format does not define.
 */
static int
dtype_index(const char *name)
{
	for (size_t i = 0; i < DTYPE_COUNT; i++)
	{
		if (strcmp(dtype_table[i].name, name) == 0)
			return (int) i;
	}
	return -1;
}

size_t
bq_dtype_size(const char *dtype_name)
{
	int			i = dtype_index(dtype_name);

	return i < 0 ? 0 : dtype_table[i].size;
}

void
bq_shape_format(const int64_t *shape, int ndim, char *buf, size_t buflen)
{
	size_t		used = 0;

	if (buflen == 0)
		return;
	buf[0] = '\0';
	used += (size_t) snprintf(buf, buflen, "[");
	for (int i = 0; i < ndim && used < buflen; i++)
		used += (size_t) snprintf(buf + used, buflen - used, "%s%lld",
								  i > 0 ? ", " : "", (long long) shape[i]);
	if (used < buflen)
		snprintf(buf + used, buflen - used, "]");
}

/*
 * IEEE half precision to single: exact, including subnormals, infinities
 * and NaNs.  Reads bytes so the source needs no alignment.
 */
void
bq_f16_to_f32(const unsigned char *src, float *dst, size_t count)
{
	for (size_t i = 0; i < count; i++)
	{
		uint32_t	h = (uint32_t) src[2 * i] | ((uint32_t) src[2 * i + 1] << 8);
		uint32_t	sign = (h & 0x8000u) << 16;
		uint32_t	exponent = (h >> 10) & 0x1fu;
		uint32_t	mantissa = h & 0x3ffu;
		uint32_t	bits;
		float		f;

		if (exponent == 0)
		{
			/* zero or subnormal: mantissa * 2^-24, exact in float */
			f = (float) mantissa * 5.9604644775390625e-8f;
			dst[i] = sign ? -f : f;
			continue;
		}
		if (exponent == 31)
			bits = sign | 0x7f800000u | (mantissa << 13);
		else
			bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
		memcpy(&f, &bits, sizeof(f));
		dst[i] = f;
	}
}

/*
 * bfloat16 is the upper half of a float.
 */
void
bq_bf16_to_f32(const unsigned char *src, float *dst, size_t count)
{
	for (size_t i = 0; i < count; i++)
	{
		uint32_t	bits = ((uint32_t) src[2 * i] << 16) | ((uint32_t) src[2 * i + 1] << 24);

		memcpy(&dst[i], &bits, sizeof(float));
	}
}

/* ---- reading ------------------------------------------------------------ */

/*
 * A JSON integer that is not negative; false for anything else.
 */
static bool
json_nonneg_int(json_object *value, int64_t *out)
{
	int64_t		v;

	if (!json_object_is_type(value, json_type_int))
		return false;
	v = json_object_get_int64(value);
	if (v < 0)
		return false;
	*out = v;
	return true;
}

/*
 * "__metadata__" must map names to strings.
 */
static int
check_metadata(const BqSafetensors *st, json_object *meta, BqError *err)
{
	if (!json_object_is_type(meta, json_type_object))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "\"__metadata__\" in \"%s\" is not a JSON object", st->name);
	json_object_object_foreach(meta, key, value)
	{
		if (!json_object_is_type(value, json_type_string))
			return bq_fail(err, BQ_ERR_FORMAT,
						   "\"__metadata__\" entry \"%s\" in \"%s\" is not a string",
						   key, st->name);
	}
	return BQ_OK;
}

/*
 * Read "shape" into 't', with an overflow-safe element count.
 */
static int
parse_shape(const BqSafetensors *st, BqTensor *t, json_object *shape, BqError *err)
{
	size_t		ndim;

	if (shape == NULL || !json_object_is_type(shape, json_type_array))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\" has no \"shape\" array", t->name, st->name);
	ndim = json_object_array_length(shape);
	if (ndim > BQ_ST_MAX_DIMS)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\" has %zu dimensions; at most %d are supported",
					   t->name, st->name, ndim, BQ_ST_MAX_DIMS);
	t->ndim = (int) ndim;
	t->elements = 1;
	for (size_t i = 0; i < ndim; i++)
	{
		int64_t		dim;

		if (!json_nonneg_int(json_object_array_get_idx(shape, i), &dim))
			return bq_fail(err, BQ_ERR_FORMAT,
						   "tensor \"%s\" in \"%s\": shape must be an array of non-negative integers",
						   t->name, st->name);
		t->shape[i] = dim;
		if (dim != 0 && t->elements > INT64_MAX / dim)
			return bq_fail(err, BQ_ERR_FORMAT,
						   "tensor \"%s\" in \"%s\": shape has too many elements",
						   t->name, st->name);
		t->elements *= dim;
	}
	return BQ_OK;
}

/*
 * Check one tensor's header entry and point it into the data section of
 * 'data_len' bytes at 'data'.
 */
static int
parse_tensor(const BqSafetensors *st, BqTensor *t, json_object *entry,
			 const unsigned char *data, size_t data_len, BqError *err)
{
	json_object *dtype;
	json_object *offsets;
	int64_t		begin,
				end;
	int			di;
	uint64_t	need;
	int			rc;

	if (!json_object_is_type(entry, json_type_object))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\": header entry is not a JSON object",
					   t->name, st->name);
	if (!json_object_object_get_ex(entry, "dtype", &dtype) ||
		!json_object_is_type(dtype, json_type_string))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\" has no \"dtype\" string", t->name, st->name);
	di = dtype_index(json_object_get_string(dtype));
	if (di < 0)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\" has unknown dtype \"%.32s\"",
					   t->name, st->name, json_object_get_string(dtype));
	t->dtype_name = dtype_table[di].name;
	t->dtype = dtype_table[di].dtype;

	if ((rc = parse_shape(st, t, json_object_object_get(entry, "shape"), err)) != BQ_OK)
		return rc;

	if (!json_object_object_get_ex(entry, "data_offsets", &offsets) ||
		!json_object_is_type(offsets, json_type_array) ||
		json_object_array_length(offsets) != 2 ||
		!json_nonneg_int(json_object_array_get_idx(offsets, 0), &begin) ||
		!json_nonneg_int(json_object_array_get_idx(offsets, 1), &end))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\": \"data_offsets\" must be [begin, end] with non-negative integers",
					   t->name, st->name);
	if (begin > end)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\": data_offsets [%lld, %lld] end before they begin",
					   t->name, st->name, (long long) begin, (long long) end);
	if ((uint64_t) end > data_len)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\": data_offsets [%lld, %lld] run past the end of the data section (%zu bytes; is the file truncated?)",
					   t->name, st->name, (long long) begin, (long long) end, data_len);
	if ((uint64_t) t->elements > UINT64_MAX / dtype_table[di].size)
		need = UINT64_MAX;
	else
		need = (uint64_t) t->elements * dtype_table[di].size;
	if ((uint64_t) (end - begin) != need)
	{
		char		shape[160];

		bq_shape_format(t->shape, t->ndim, shape, sizeof(shape));
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tensor \"%s\" in \"%s\" holds %lld bytes, but dtype %s and shape %s need %llu",
					   t->name, st->name, (long long) (end - begin), t->dtype_name, shape,
					   (unsigned long long) need);
	}
	t->data = data + begin;
	t->nbytes = (size_t) need;
	return BQ_OK;
}

/*
 * qsort order: tensors by where their bytes begin.
 */
static int
compare_by_offset(const void *a, const void *b)
{
	const BqTensor *ta = *(const BqTensor *const *) a;
	const BqTensor *tb = *(const BqTensor *const *) b;

	return (ta->data > tb->data) - (ta->data < tb->data);
}

/*
 * No two tensors may share bytes: a hostile file could otherwise alias a
 * weight matrix with, say, a bias vector.
 */
static int
check_overlaps(const BqSafetensors *st, BqError *err)
{
	const BqTensor **order;
	const BqTensor *prev = NULL;
	int			rc = BQ_OK;

	if (st->count < 2)
		return BQ_OK;
	order = malloc(sizeof(*order) * (size_t) st->count);
	if (order == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory checking \"%s\"", st->name);
	for (int i = 0; i < st->count; i++)
		order[i] = &st->tensors[i];
	qsort(order, (size_t) st->count, sizeof(*order), compare_by_offset);
	for (int i = 0; i < st->count && rc == BQ_OK; i++)
	{
		if (order[i]->nbytes == 0)
			continue;
		if (prev != NULL && order[i]->data < prev->data + prev->nbytes)
			rc = bq_fail(err, BQ_ERR_FORMAT,
						 "tensors \"%s\" and \"%s\" in \"%s\" overlap in the data section",
						 prev->name, order[i]->name, st->name);
		prev = order[i];
	}
	free(order);
	return rc;
}

/*
 * Validate the length prefix and the JSON header, filling st->tensors.
 */
static int
parse_header(BqSafetensors *st, BqError *err)
{
	uint64_t	header_len = 0;
	const unsigned char *data;
	size_t		data_len;
	char		label[1100];
	json_object *root;
	int			rc = BQ_OK;

	if (st->size < 8)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "\"%s\" is too short to be a safetensors file (%zu bytes)",
					   st->name, st->size);
	for (int i = 7; i >= 0; i--)
		header_len = (header_len << 8) | st->bytes[i];
	if (header_len > st->size - 8)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "\"%s\": header length %llu runs past the end of the file (%zu bytes; is it truncated or not safetensors?)",
					   st->name, (unsigned long long) header_len, st->size);
	if (header_len > BQ_ST_MAX_HEADER)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "\"%s\": header of %llu bytes is larger than the format allows",
					   st->name, (unsigned long long) header_len);
	data = st->bytes + 8 + header_len;
	data_len = st->size - 8 - (size_t) header_len;

	snprintf(label, sizeof(label), "the header of \"%s\"", st->name);
	root = bq_json_parse((const char *) st->bytes + 8, (size_t) header_len, label, err);
	if (root == NULL)
		return err != NULL ? (int) err->status : BQ_ERR_FORMAT;
	if (!json_object_is_type(root, json_type_object))
	{
		json_object_put(root);
		return bq_fail(err, BQ_ERR_FORMAT, "the header of \"%s\" is not a JSON object", st->name);
	}

	st->tensors = calloc((size_t) json_object_object_length(root) + 1, sizeof(BqTensor));
	if (st->tensors == NULL)
	{
		json_object_put(root);
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", st->name);
	}
	json_object_object_foreach(root, key, value)
	{
		BqTensor   *t = &st->tensors[st->count];

		if (strcmp(key, "__metadata__") == 0)
		{
			if ((rc = check_metadata(st, value, err)) != BQ_OK)
				break;
			continue;
		}
		if ((t->name = strdup(key)) == NULL)
		{
			rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", st->name);
			break;
		}
		st->count++;
		if ((rc = parse_tensor(st, t, value, data, data_len, err)) != BQ_OK)
			break;
	}
	json_object_put(root);
	if (rc == BQ_OK)
		rc = check_overlaps(st, err);
	return rc;
}

/*
 * Index a buffer the caller keeps alive.
 */
BqSafetensors *
bq_tensor_file_from_bytes(const void *bytes, size_t size, const char *name,
						  BqTensorIndexer index, BqError *err)
{
	BqSafetensors *st = calloc(1, sizeof(BqSafetensors));

	if (st != NULL)
		st->hold_fd = -1;
	if (st == NULL || (st->name = strdup(name)) == NULL)
	{
		free(st);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", name);
		return NULL;
	}
	st->bytes = bytes;
	st->size = size;
	if (index(st, err) != BQ_OK)
	{
		bq_safetensors_close(st);
		return NULL;
	}
	return st;
}

/*
 * Map the file read-only and shared: the page cache then holds the only
 * copy of the weights, whatever the number of processes using them.
 */
BqSafetensors *
bq_tensor_file_open(const char *path, const char *what, BqTensorIndexer index, BqError *err)
{
	struct stat sb;
	void	   *map;
	BqSafetensors *st;
	int			fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
	{
		bq_fail(err, errno == ENOENT ? BQ_ERR_NOT_FOUND : BQ_ERR_IO,
				"could not open %s \"%s\": %s", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
	{
		bq_fail(err, BQ_ERR_IO, "%s \"%s\" is not a regular file", what, path);
		close(fd);
		return NULL;
	}
	if (sb.st_size == 0 || (uint64_t) sb.st_size > SIZE_MAX / 2)
	{
		bq_fail(err, BQ_ERR_FORMAT, "%s \"%s\" is %s", what, path,
				sb.st_size == 0 ? "empty" : "too large to map");
		close(fd);
		return NULL;
	}
	map = mmap(NULL, (size_t) sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
	{
		bq_fail(err, BQ_ERR_IO, "could not map %s \"%s\": %s", what, path, strerror(errno));
		return NULL;
	}
	st = calloc(1, sizeof(BqSafetensors));
	if (st != NULL)
		st->hold_fd = -1;
	if (st == NULL || (st->name = strdup(path)) == NULL)
	{
		free(st);
		munmap(map, (size_t) sb.st_size);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory opening \"%s\"", path);
		return NULL;
	}
	st->bytes = map;
	st->size = (size_t) sb.st_size;
	st->mapped = true;
	st->identity = bq_file_identity(&sb);
	if (index(st, err) != BQ_OK)
	{
		bq_safetensors_close(st);
		return NULL;
	}
	return st;
}

BqSafetensors *
bq_safetensors_parse(const void *bytes, size_t size, const char *name, BqError *err)
{
	return bq_tensor_file_from_bytes(bytes, size, name, parse_header, err);
}

BqSafetensors *
bq_safetensors_open(const char *path, BqError *err)
{
	return bq_tensor_file_open(path, "model file", parse_header, err);
}

BqFileIdentity
bq_file_identity(const struct stat *sb)
{
	BqFileIdentity id = {
		.device = (uint64_t) sb->st_dev,
		.inode = (uint64_t) sb->st_ino,
		.size = (uint64_t) sb->st_size,
		.mtime_sec = (int64_t) sb->st_mtim.tv_sec,
		.mtime_nsec = (int64_t) sb->st_mtim.tv_nsec,
	};

	return id;
}

void
bq_safetensors_close(BqSafetensors *st)
{
	if (st == NULL)
		return;
	if (st->mapped)
		munmap((void *) st->bytes, st->size);
	if (st->hold_fd >= 0)
		close(st->hold_fd);		/* releases its lock */
	for (int i = 0; i < st->count; i++)
		free(st->tensors[i].name);
	free(st->tensors);
	free(st->name);
	free(st);
}

const BqTensor *
bq_safetensors_find(const BqSafetensors *st, const char *name)
{
	for (int i = 0; i < st->count; i++)
	{
		if (strcmp(st->tensors[i].name, name) == 0)
			return &st->tensors[i];
	}
	return NULL;
}

char *
bq_safetensors_metadata(const BqSafetensors *st, const char *key)
{
	uint64_t	header_len = 0;
	BqError		err;
	json_object *root;
	json_object *meta;
	json_object *value;
	char	   *copy = NULL;

	for (int i = 7; i >= 0; i--)
		header_len = (header_len << 8) | st->bytes[i];
	root = bq_json_parse((const char *) st->bytes + 8, (size_t) header_len, st->name, &err);
	if (root != NULL && json_object_object_get_ex(root, "__metadata__", &meta) &&
		json_object_object_get_ex(meta, key, &value))
		copy = strdup(json_object_get_string(value));
	json_object_put(root);
	return copy;
}

/* ---- writing ------------------------------------------------------------ */

struct BqSafetensorsWriter
{
	char	   *path;			/* final name */
	char	   *tmp_path;		/* where the bytes go until finished */
	int			fd;
	uint64_t	data_expected;	/* bytes the specs announce */
	uint64_t	data_written;
};

/*
 * write() all of it, retrying short writes.
 */
static int
write_all(BqSafetensorsWriter *w, const void *buf, size_t len, BqError *err)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bq_fail(err, BQ_ERR_IO, "could not write \"%s\": %s", w->tmp_path,
						   n < 0 ? strerror(errno) : "no progress");
		p += n;
		len -= (size_t) n;
	}
	return BQ_OK;
}

/*
 * Bytes of one tensor to be written; false for a dtype the format lacks or
 * a shape that is negative or absurdly large.
 */
static bool
spec_nbytes(const BqTensorSpec *s, uint64_t *nbytes)
{
	uint64_t	n = bq_dtype_size(s->dtype_name);

	if (n == 0 || s->ndim < 0 || s->ndim > BQ_ST_MAX_DIMS)
		return false;
	for (int d = 0; d < s->ndim; d++)
	{
		if (s->shape[d] < 0 || (s->shape[d] > 0 && n > (uint64_t) INT64_MAX / (uint64_t) s->shape[d]))
			return false;
		n *= (uint64_t) s->shape[d];
	}
	*nbytes = n;
	return true;
}

/*
 * The JSON header for 'specs', with data offsets laid out in spec order;
 * *data_len gets the data section's size.  NULL on error.
 */
static json_object *
build_header(const char *path, const BqTensorSpec *specs, int count,
			 const char *const *metadata, uint64_t *data_len, BqError *err)
{
	json_object *root = json_object_new_object();
	uint64_t	offset = 0;

	if (root == NULL)
		goto nomem;
	if (metadata != NULL && metadata[0] != NULL)
	{
		json_object *meta = json_object_new_object();

		if (meta == NULL || json_object_object_add(root, "__metadata__", meta) != 0)
			goto nomem;
		for (int i = 0; metadata[i] != NULL && metadata[i + 1] != NULL; i += 2)
			json_object_object_add(meta, metadata[i], json_object_new_string(metadata[i + 1]));
	}
	for (int i = 0; i < count; i++)
	{
		const BqTensorSpec *s = &specs[i];
		uint64_t	nbytes;
		json_object *entry;
		json_object *shape;
		json_object *offsets;

		if (!spec_nbytes(s, &nbytes) || nbytes > (uint64_t) INT64_MAX - offset)
		{
			json_object_put(root);
			bq_fail(err, BQ_ERR_INPUT, "cannot write tensor \"%s\" to \"%s\": bad dtype or shape",
					s->name, path);
			return NULL;
		}
		entry = json_object_new_object();
		if (entry == NULL || json_object_object_add(root, s->name, entry) != 0)
			goto nomem;
		shape = json_object_new_array();
		offsets = json_object_new_array();
		json_object_object_add(entry, "dtype", json_object_new_string(s->dtype_name));
		json_object_object_add(entry, "shape", shape);
		json_object_object_add(entry, "data_offsets", offsets);
		if (shape == NULL || offsets == NULL)
			goto nomem;
		for (int d = 0; d < s->ndim; d++)
			json_object_array_add(shape, json_object_new_int64(s->shape[d]));
		json_object_array_add(offsets, json_object_new_int64((int64_t) offset));
		json_object_array_add(offsets, json_object_new_int64((int64_t) (offset + nbytes)));
		offset += nbytes;
	}
	*data_len = offset;
	return root;

nomem:
	json_object_put(root);
	bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", path);
	return NULL;
}

BqSafetensorsWriter *
bq_safetensors_create(const char *path, const BqTensorSpec *specs, int count,
					  const char *const *metadata, BqError *err)
{
	BqSafetensorsWriter *w;
	json_object *root;
	const char *json;
	size_t		json_len,
				padded;
	unsigned char prefix[8];
	char	   *header;
	int			rc;

	w = calloc(1, sizeof(BqSafetensorsWriter));
	if (w == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", path);
		return NULL;
	}
	w->fd = -1;
	root = build_header(path, specs, count, metadata, &w->data_expected, err);
	if (root == NULL)
	{
		free(w);
		return NULL;
	}
	w->path = strdup(path);
	w->tmp_path = malloc(strlen(path) + 8);
	if (w->path == NULL || w->tmp_path == NULL)
	{
		json_object_put(root);
		bq_safetensors_abort(w);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", path);
		return NULL;
	}
	sprintf(w->tmp_path, "%s.XXXXXX", path);
	w->fd = mkstemp(w->tmp_path);
	if (w->fd < 0)
	{
		bq_fail(err, BQ_ERR_IO, "could not create \"%s\": %s", w->tmp_path, strerror(errno));
		json_object_put(root);
		w->tmp_path[0] = '\0';
		bq_safetensors_abort(w);
		return NULL;
	}
	fchmod(w->fd, 0644);

	/*
	 * Pad the header with spaces so the data section (after the 8-byte
	 * length) starts on a 64-byte cache line, where vector loads want it.
	 */
	json = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	json_len = strlen(json);
	padded = ((json_len + 8 + 63) & ~(size_t) 63) - 8;
	header = malloc(padded);
	if (header == NULL)
	{
		json_object_put(root);
		bq_safetensors_abort(w);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", path);
		return NULL;
	}
	memcpy(header, json, json_len);
	memset(header + json_len, ' ', padded - json_len);
	json_object_put(root);
	for (int i = 0; i < 8; i++)
		prefix[i] = (unsigned char) (((uint64_t) padded >> (8 * i)) & 0xff);
	rc = write_all(w, prefix, sizeof(prefix), err);
	if (rc == BQ_OK)
		rc = write_all(w, header, padded, err);
	free(header);
	if (rc != BQ_OK)
	{
		bq_safetensors_abort(w);
		return NULL;
	}
	return w;
}

int
bq_safetensors_append(BqSafetensorsWriter *w, const void *data, size_t nbytes, BqError *err)
{
	if (nbytes > w->data_expected - w->data_written)
		return bq_fail(err, BQ_ERR_INPUT, "more tensor data than announced for \"%s\"", w->path);
	w->data_written += nbytes;
	return write_all(w, data, nbytes, err);
}

int
bq_safetensors_finish(BqSafetensorsWriter *w, BqError *err)
{
	int			rc = BQ_OK;

	if (w->data_written != w->data_expected)
		rc = bq_fail(err, BQ_ERR_INPUT, "tensor data for \"%s\" is incomplete (%llu of %llu bytes)",
					 w->path, (unsigned long long) w->data_written,
					 (unsigned long long) w->data_expected);
	else if (fsync(w->fd) != 0)
		rc = bq_fail(err, BQ_ERR_IO, "could not flush \"%s\": %s", w->tmp_path, strerror(errno));
	else if (close(w->fd) != 0)
		rc = bq_fail(err, BQ_ERR_IO, "could not close \"%s\": %s", w->tmp_path, strerror(errno));
	else
	{
		w->fd = -1;
		if (rename(w->tmp_path, w->path) != 0)
			rc = bq_fail(err, BQ_ERR_IO, "could not rename \"%s\" to \"%s\": %s",
						 w->tmp_path, w->path, strerror(errno));
		else
			w->tmp_path[0] = '\0';
	}
	bq_safetensors_abort(w);
	return rc;
}

void
bq_safetensors_abort(BqSafetensorsWriter *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_path != NULL && w->tmp_path[0] != '\0')
		unlink(w->tmp_path);
	free(w->tmp_path);
	free(w->path);
	free(w);
}
