/*
 * file_util.h - reading and writing whole files, and reading JSON
 * documents, with errors that name the file.
 */
#ifndef BQ_FILE_UTIL_H
#define BQ_FILE_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "bq_error.h"

/* Files larger than this are refused by bq_read_file (1 GiB). */
#define BQ_MAX_READ_FILE ((size_t) 1 << 30)

/*
 * Read all of 'path' into a malloc'd buffer with a NUL appended; *len gets
 * the byte count.  A missing file is BQ_ERR_NOT_FOUND, a directory or an
 * unreadable file BQ_ERR_IO.
 */
char	   *bq_read_file(const char *path, size_t *len, BqError *err);

/*
 * Write 'len' bytes of 'data' as the whole of 'path': replacing any file
 * there, or, when 'exclusive', failing if one exists.  Failures are
 * BQ_ERR_IO and may leave a partly written file.
 */
int			bq_write_file(const char *path, const void *data, size_t len, bool exclusive,
						  BqError *err);

/* Copy the file 'from' to 'to' byte for byte (bq_read_file, bq_write_file). */
int			bq_copy_file(const char *from, const char *to, BqError *err);

/*
 * Parse 'len' bytes of strict JSON (RFC 8259, valid UTF-8) into a json-c
 * object; 'name' labels error messages.  Trailing garbage is an error.
 */
json_object *bq_json_parse(const char *text, size_t len, const char *name, BqError *err);

/* bq_read_file followed by bq_json_parse. */
json_object *bq_json_load_file(const char *path, BqError *err);

/*
 * Write 'obj' as the whole of 'path' (bq_write_file, replacing any file
 * there): pretty-printed JSON ("key": value, two-space indents) ending in
 * a newline.
 */
int			bq_json_write_file(const char *path, json_object *obj, BqError *err);

#endif							/* BQ_FILE_UTIL_H */
