/*
 * test_json_parse.c - bq_json_parse: strict JSON with non-ASCII text, on
 * every json-c (0.18's strict mode rejects all non-ASCII text by itself,
 * which file_util.c works around), and clear errors for everything else.
 */
#include "file_util.h"

#include <string.h>

#include "unit.h"

/* Parse 'json'; NULL on failure, with the message in *message. */
static json_object *
parse(const char *json, const char **message)
{
	static BqError err;
	json_object *obj;

	bq_error_clear(&err);
	obj = bq_json_parse(json, strlen(json), "the test document", &err);
	*message = err.message;
	return obj;
}

/* Whether 'json' is rejected with a message holding 'expected'. */
static bool
rejected(const char *json, const char *expected)
{
	const char *message;
	json_object *obj = parse(json, &message);

	json_object_put(obj);
	if (obj == NULL && strstr(message, expected) != NULL)
		return true;
	fprintf(stderr, "  %s: %s\n", json, obj != NULL ? "accepted" : message);
	return false;
}

static void
test_non_ascii_text(void)
{
	const char *message;
	json_object *obj = parse("{\"name\": \"Nor\xc3\xb0ma\xc3\xb0r \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x90\x9f\", "
							 "\"n\\u00e9\": [1, 2.5e3, true, null]}", &message);
	json_object *name = NULL;

	CHECK(obj != NULL);
	CHECK(json_object_object_get_ex(obj, "name", &name));
	CHECK_STR_EQ(json_object_get_string(name), "Nor\xc3\xb0ma\xc3\xb0r \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x90\x9f");
	CHECK(json_object_object_get_ex(obj, "n\xc3\xa9", NULL));
	json_object_put(obj);
}

static void
test_strict_grammar(void)
{
	CHECK(rejected("{\"a\": 1,}", "not valid JSON"));
	CHECK(rejected("[1, 2,]", "not valid JSON"));
	CHECK(rejected("{\"a\": 'x'}", "not valid JSON"));
	CHECK(rejected("{\"a\": 1 /* note */}", "not valid JSON"));
	CHECK(rejected("{\"\xc3\xa9\": 'caf\xc3\xa9'}", "not valid JSON"));
	CHECK(rejected("[01]", "not valid JSON"));
	CHECK(rejected("[\xc3\xa9]", "not valid JSON"));
	CHECK(rejected("[\"\\u00\xc3\xa9\"]", "not valid JSON"));
}

static void
test_bad_documents(void)
{
	CHECK(rejected("{\"a\": \"\xff\"}", "invalid utf-8"));
	CHECK(rejected("{\"a\": \"\xc3\"}", "invalid utf-8"));
	CHECK(rejected("{\"a\": 1} x", "at byte 9"));
	CHECK(rejected("{\"a\": [1, 2", "unexpected end of input"));
	CHECK(rejected("", "unexpected end of input"));
	CHECK(rejected("{\"a\": 1} x", "the test document"));
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_non_ascii_text);
	RUN_TEST(test_strict_grammar);
	RUN_TEST(test_bad_documents);
	UNIT_DONE();
}
