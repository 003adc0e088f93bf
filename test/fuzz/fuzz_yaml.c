/*
 * fuzz_yaml.c - the YAML reader for .nemo model configs on arbitrary
 * bytes; an accepted document must serialize as JSON.  A document that is
 * null comes back as NULL (json-c's null) without an error.
 */
#include "fuzz.h"

#include <json-c/json.h>

#include "nemo_archive.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BqError		err;
	json_object *doc;

	bq_error_clear(&err);
	doc = bq_yaml_parse((const char *) data, size, "fuzz.yaml", &err);
	if (doc == NULL)
	{
		if (err.status != BQ_OK)
			FUZZ_ASSERT_ERROR(err);
		return 0;
	}
	FUZZ_ASSERT(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN) != NULL);
	json_object_put(doc);
	return 0;
}
