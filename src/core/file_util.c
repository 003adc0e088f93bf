/*
 * file_util.c - reading and writing whole files, and reading JSON documents.
 */
#include "file_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Read a whole regular file into memory, NUL-terminated.
 */
char *
bq_read_file(const char *path, size_t *len, BqError *err)
{
	struct stat st;
	char	   *buf;
	size_t		done = 0;
	int			fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
	{
		bq_fail(err, errno == ENOENT ? BQ_ERR_NOT_FOUND : BQ_ERR_IO,
				"could not open file \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		bq_fail(err, BQ_ERR_IO, "\"%s\" is not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((size_t) st.st_size > BQ_MAX_READ_FILE)
	{
		bq_fail(err, BQ_ERR_FORMAT, "file \"%s\" is too large (%lld bytes)",
				path, (long long) st.st_size);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t) st.st_size + 1);
	if (buf == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", path);
		close(fd);
		return NULL;
	}
	while (done < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, buf + done, (size_t) st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			bq_fail(err, BQ_ERR_IO, "could not read file \"%s\": %s", path,
					n < 0 ? strerror(errno) : "file shrank while reading");
			free(buf);
			close(fd);
			return NULL;
		}
		done += (size_t) n;
	}
	close(fd);
	buf[done] = '\0';
	*len = done;
	return buf;
}

/*
 * Write a buffer as a whole file.  A failing fclose counts as a failed
 * write: stdio may hold the last of the data until then, so a full disk
 * can show only there.
 */
int
bq_write_file(const char *path, const void *data, size_t len, bool exclusive, BqError *err)
{
	FILE	   *f = fopen(path, exclusive ? "wbx" : "wb");
	bool		ok = f != NULL && fwrite(data, 1, len, f) == len;

	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (!ok)
		return bq_fail(err, BQ_ERR_IO, "could not write \"%s\": %s", path, strerror(errno));
	return BQ_OK;
}

/*
 * Parse one complete JSON document, validating UTF-8.
 */
json_object *
bq_json_parse(const char *text, size_t len, const char *name, BqError *err)
{
	json_tokener *tokener;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t		used;

	if (len > (size_t) INT32_MAX)
	{
		bq_fail(err, BQ_ERR_FORMAT, "%s is too large to parse as JSON", name);
		return NULL;
	}
	tokener = json_tokener_new();
	if (tokener == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory parsing %s", name);
		return NULL;
	}
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tokener, text, (int) len);
	jerr = json_tokener_get_error(tokener);
	used = json_tokener_get_parse_end(tokener);
	if (obj == NULL && jerr == json_tokener_continue)
	{
		bq_fail(err, BQ_ERR_FORMAT, "%s is not valid JSON: unexpected end of input", name);
		json_tokener_free(tokener);
		return NULL;
	}
	if (obj == NULL || jerr != json_tokener_success)
	{
		bq_fail(err, BQ_ERR_FORMAT, "%s is not valid JSON: %s at byte %zu", name,
				json_tokener_error_desc(jerr), used);
		json_object_put(obj);
		json_tokener_free(tokener);
		return NULL;
	}
	json_tokener_free(tokener);
	while (used < len && strchr(" \t\r\n", text[used]) != NULL)
		used++;
	if (used != len)
	{
		bq_fail(err, BQ_ERR_FORMAT, "%s is not valid JSON: extra data at byte %zu", name, used);
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/*
 * Load and parse a JSON file.
 */
json_object *
bq_json_load_file(const char *path, BqError *err)
{
	size_t		len;
	char	   *text = bq_read_file(path, &len, err);
	json_object *obj;

	if (text == NULL)
		return NULL;
	obj = bq_json_parse(text, len, path, err);
	free(text);
	return obj;
}

/*
 * Serialize, add the final newline json-c leaves off, write.
 */
int
bq_json_write_file(const char *path, json_object *obj, BqError *err)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
													  JSON_C_TO_STRING_SPACED |
													  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t		len;
	char	   *line;
	int			rc;

	if (text == NULL || (line = malloc((len = strlen(text)) + 1)) == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", path);
	memcpy(line, text, len);
	line[len] = '\n';
	rc = bq_write_file(path, line, len + 1, false, err);
	free(line);
	return rc;
}
