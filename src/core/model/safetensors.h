/*
 * safetensors.h - reading and writing the safetensors format.
 *
 * A file is an 8-byte little-endian header length N, N bytes of JSON
 * mapping tensor names to {"dtype", "shape", "data_offsets": [begin, end]}
 * (plus an optional "__metadata__" object of strings), then the data
 * section; offsets count from the start of the data section.
 *
 * Files are mapped read-only and shared, and every header field is checked
 * before anything is read through it, so a truncated or hostile file gives
 * an error naming the file and the tensor, never a crash.
 */
#ifndef BQ_SAFETENSORS_H
#define BQ_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"

/* Most dimensions a tensor may have. */
#define BQ_ST_MAX_DIMS 8

/* Largest header accepted (the format's own limit is 100 MB). */
#define BQ_ST_MAX_HEADER ((uint64_t) 100 * 1000 * 1000)

/* The element types bertqa computes with; every other known dtype is OTHER. */
typedef enum BqDtype
{
	BQ_DTYPE_F32,
	BQ_DTYPE_F16,
	BQ_DTYPE_BF16,
	BQ_DTYPE_OTHER
} BqDtype;

typedef struct BqTensor
{
	char	   *name;
	const char *dtype_name;		/* as spelled in the header, e.g. "F32" */
	BqDtype		dtype;
	int			ndim;
	int64_t		shape[BQ_ST_MAX_DIMS];	/* [ndim] */
	int64_t		elements;		/* product of the shape (1 for a scalar) */
	const unsigned char *data;	/* first byte, inside the file's bytes */
	size_t		nbytes;
} BqTensor;

/* What identifies one version of a file on disk. */
typedef struct BqFileIdentity
{
	uint64_t	device;
	uint64_t	inode;
	uint64_t	size;
	int64_t		mtime_sec;
	int64_t		mtime_nsec;
} BqFileIdentity;

struct stat;

/* The identity of the file 'sb' describes (from stat or fstat). */
BqFileIdentity bq_file_identity(const struct stat *sb);

typedef struct BqSafetensors
{
	char	   *name;			/* the path, for messages */
	const unsigned char *bytes; /* the whole file */
	size_t		size;
	bool		mapped;			/* 'bytes' is our own mapping */
	BqFileIdentity identity;	/* of the mapped file; zero for buffers */
	BqTensor   *tensors;		/* [count], in header order */
	int			count;
	int			hold_fd;		/* a shared lock on the file while a cache entry
								 * is mapped (weight_cache.h), or -1 */
} BqSafetensors;

/* Map 'path' read-only (shared) and validate its header. */
BqSafetensors *bq_safetensors_open(const char *path, BqError *err);

/*
 * Validate a safetensors image already in memory (borrowed: it must outlive
 * the result); 'name' labels messages.  This is the parser the file loader
 * uses, exposed for tests and fuzzing.
 */
BqSafetensors *bq_safetensors_parse(const void *bytes, size_t size, const char *name,
									BqError *err);

void		bq_safetensors_close(BqSafetensors *st);

/*
 * The two steps every weight-file format shares, with the format's own
 * index builder (which fills st->tensors from st->bytes): wrapping a buffer,
 * and mapping a file read-only and shared.  'what' names the kind of file
 * in messages ("model file", "checkpoint").
 */
typedef int (*BqTensorIndexer) (BqSafetensors *st, BqError *err);

BqSafetensors *bq_tensor_file_from_bytes(const void *bytes, size_t size, const char *name,
										 BqTensorIndexer index, BqError *err);
BqSafetensors *bq_tensor_file_open(const char *path, const char *what,
								   BqTensorIndexer index, BqError *err);

/* The tensor called 'name', or NULL. */
const BqTensor *bq_safetensors_find(const BqSafetensors *st, const char *name);

/*
 * The "__metadata__" entry 'key' of a file that bq_safetensors_open or
 * bq_safetensors_parse validated, malloc'd; NULL when it has none.
 */
char	   *bq_safetensors_metadata(const BqSafetensors *st, const char *key);

/* Bytes per element of a dtype name from the format, or 0 if unknown. */
size_t		bq_dtype_size(const char *dtype_name);

/* Shape as text, e.g. "[30522, 64]", for messages. */
void		bq_shape_format(const int64_t *shape, int ndim, char *buf, size_t buflen);

/* Widen 'count' elements of a 16-bit float type to float. */
void		bq_f16_to_f32(const unsigned char *src, float *dst, size_t count);
void		bq_bf16_to_f32(const unsigned char *src, float *dst, size_t count);

/* ---- writing ---------------------------------------------------------- */

/* One tensor of a file being written: its data follows in spec order. */
typedef struct BqTensorSpec
{
	const char *name;
	const char *dtype_name;		/* e.g. "F32" */
	int			ndim;
	int64_t		shape[BQ_ST_MAX_DIMS];
} BqTensorSpec;

typedef struct BqSafetensorsWriter BqSafetensorsWriter;

/*
 * Start writing 'path': a temporary file next to it receives the header now
 * and the tensors' bytes through bq_safetensors_append, in spec order;
 * bq_safetensors_finish renames it into place, so readers never see a
 * partial file.  'metadata' is NULL or a NULL-terminated key, value, ...
 * list of strings for "__metadata__".
 */
BqSafetensorsWriter *bq_safetensors_create(const char *path, const BqTensorSpec *specs,
										   int count, const char *const *metadata,
										   BqError *err);
int			bq_safetensors_append(BqSafetensorsWriter *w, const void *data, size_t nbytes,
								  BqError *err);

/* Check every byte arrived, flush to disk and rename into place; frees 'w'. */
int			bq_safetensors_finish(BqSafetensorsWriter *w, BqError *err);

/* Give up: remove the temporary file; frees 'w'. */
void		bq_safetensors_abort(BqSafetensorsWriter *w);

#endif							/* BQ_SAFETENSORS_H */
