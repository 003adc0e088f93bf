/*
 * file_util.c - reading and writing whole files, and reading JSON documents.
 */
#include "file_util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

int
bq_copy_file(const char *from, const char *to, BqError *err)
{
	size_t		len;
	char	   *data = bq_read_file(from, &len, err);
	int			rc;

	if (data == NULL)
		return err->status;
	rc = bq_write_file(to, data, len, false, err);
	free(data);
	return rc;
}

/*
 * Parse one complete JSON document of 'len' bytes with json-c's 'flags'.
 * On failure, NULL with the error in 'err' ('name' says what was parsed).
 */
static json_object *
parse_with_flags(const char *text, size_t len, int flags, const char *name, BqError *err)
{
	json_tokener *tokener = json_tokener_new();
	json_object *obj;
	enum json_tokener_error jerr;
	size_t		used;

	if (tokener == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory parsing %s", name);
		return NULL;
	}
	json_tokener_set_flags(tokener, flags);
	obj = json_tokener_parse_ex(tokener, text, (int) len);
	jerr = json_tokener_get_error(tokener);
	used = json_tokener_get_parse_end(tokener);
	json_tokener_free(tokener);
	if (obj == NULL && jerr == json_tokener_continue)
		bq_fail(err, BQ_ERR_FORMAT, "%s is not valid JSON: unexpected end of input", name);
	else if (obj == NULL || jerr != json_tokener_success)
		bq_fail(err, BQ_ERR_FORMAT, "%s is not valid JSON: %s at byte %zu", name,
				json_tokener_error_desc(jerr), used);
	else
	{
		while (used < len && strchr(" \t\r\n", text[used]) != NULL)
			used++;
		if (used == len)
			return obj;
		bq_fail(err, BQ_ERR_FORMAT, "%s is not valid JSON: extra data at byte %zu", name, used);
	}
	json_object_put(obj);
	return NULL;
}

static pthread_once_t strict_probe = PTHREAD_ONCE_INIT;
static bool strict_rejects_utf8;

/*
 * Whether this json-c's strict mode rejects bytes above 0x7f in strings:
 * json-c 0.18 (Debian 13's) compares them, as signed chars, with the
 * control characters (json-c issue #875, fixed in 0.19).
 */
static void
probe_strict_utf8(void)
{
	BqError		err;
	json_object *obj = parse_with_flags("\"\xc3\xa4\"", 4, JSON_TOKENER_STRICT, "a probe", &err);

	strict_rejects_utf8 = obj == NULL;
	json_object_put(obj);
}

/*
 * Parse one complete JSON document strictly (RFC 8259: no comments, single
 * quotes, trailing commas or control characters in strings), validating
 * UTF-8.  Where json-c's strict mode rejects all non-ASCII text, the
 * grammar is checked strictly on a copy with each byte above 0x7f replaced
 * by 'a' (such bytes can stand only inside strings, where 'a' is as valid),
 * and the document is then read from the original without strictness.
 */
json_object *
bq_json_parse(const char *text, size_t len, const char *name, BqError *err)
{
	char	   *masked;
	json_object *grammar;

	if (len > (size_t) INT32_MAX)
	{
		bq_fail(err, BQ_ERR_FORMAT, "%s is too large to parse as JSON", name);
		return NULL;
	}
	pthread_once(&strict_probe, probe_strict_utf8);
	if (!strict_rejects_utf8)
		return parse_with_flags(text, len, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8,
								name, err);
	if ((masked = malloc(len > 0 ? len : 1)) == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory parsing %s", name);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		masked[i] = (unsigned char) text[i] > 0x7f ? 'a' : text[i];
	grammar = parse_with_flags(masked, len, JSON_TOKENER_STRICT, name, err);
	free(masked);
	if (grammar == NULL)
		return NULL;
	json_object_put(grammar);
	return parse_with_flags(text, len, JSON_TOKENER_VALIDATE_UTF8, name, err);
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
