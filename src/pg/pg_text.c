/*
 * pg_text.c - moving text between the server encoding and the UTF-8 the
 * core works in.
 *
 * The core counts positions in code points.  In every server encoding other
 * than SQL_ASCII a character is one code point, so those counts are also
 * the character positions that substr() and friends use.
 */
#include "pg_bertqa.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"				/* VARDATA_ANY moved here in 16 */
#endif

/*
 * The text as UTF-8 (palloc'd or pointing into the datum) and its length.
 */
char *
bertqa_text_to_utf8(text *t, size_t *len)
{
	char	   *data = VARDATA_ANY(t);
	int			nbytes = VARSIZE_ANY_EXHDR(t);
	char	   *utf8;

	if (GetDatabaseEncoding() == PG_SQL_ASCII)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("bertqa cannot read text in a SQL_ASCII database"),
				 errdetail("SQL_ASCII does not say which characters the bytes stand for."),
				 errhint("Use a database with a real encoding, such as UTF8.")));
	utf8 = pg_server_to_any(data, nbytes, PG_UTF8);
	*len = (utf8 == data) ? (size_t) nbytes : strlen(utf8);
	return utf8;
}

/*
 * 'len' bytes of UTF-8 as text in the server encoding.
 */
text *
bertqa_utf8_to_text(const char *utf8, size_t len)
{
	char	   *server = pg_any_to_server(utf8, (int) len, PG_UTF8);

	return cstring_to_text_with_len(server, server == utf8 ? (int) len : (int) strlen(server));
}
