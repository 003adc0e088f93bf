/*
 * test_squad_dataset.c - reading SQuAD files: the real dev set, the v1.1
 * layout, and malformed documents whose errors must name the bad place.
 */
#include "squad_dataset.h"

#include <string.h>

#include "unit.h"

#define DEV_FILE "test/fixtures/squad-v2.0/squad-v2.0-dev.reconstructed.json"

/*
 * Parse 'json' expecting failure; return the message (static buffer).
 */
static const char *
parse_error(const char *json)
{
	static BqError err;
	BqSquadDataset ds;

	bq_error_clear(&err);
	if (bq_squad_dataset_parse(json, strlen(json), &ds, &err) == BQ_OK)
	{
		bq_squad_dataset_free(&ds);
		return "(parsed)";
	}
	CHECK(ds.examples == NULL && ds.count == 0 && ds.storage == NULL);
	return err.message;
}

static void
test_dev_file(void)
{
	BqSquadDataset ds;
	BqError		err;
	size_t		impossible = 0;
	size_t		answers = 0;

	bq_error_clear(&err);
	CHECK_INT_EQ(bq_squad_dataset_load(DEV_FILE, &ds, &err), BQ_OK);
	CHECK_INT_EQ(ds.count, 11873);
	for (size_t i = 0; i < ds.count; i++)
	{
		impossible += ds.examples[i].is_impossible;
		answers += ds.examples[i].n_answers;
		CHECK(ds.examples[i].is_impossible == (ds.examples[i].n_answers == 0));
	}
	CHECK_INT_EQ(impossible, 5945);
	CHECK_INT_EQ(answers, 20302);	/* gold answers, duplicates kept */

	CHECK_STR_EQ(ds.examples[0].id, "56ddde6b9a695914005b9628");
	CHECK_STR_EQ(ds.examples[0].title, "Normans");
	CHECK_STR_EQ(ds.examples[0].question, "In what country is Normandy located?");
	CHECK_INT_EQ(ds.examples[0].n_answers, 4);
	CHECK_STR_EQ(ds.examples[0].answers[0], "France");
	CHECK(strncmp(ds.examples[0].context, "The Normans", 11) == 0);
	CHECK(ds.examples[1].context == ds.examples[0].context);
	CHECK_STR_EQ(ds.examples[1].answers[1], "in the 10th and 11th centuries");
	bq_squad_dataset_free(&ds);
	CHECK(ds.examples == NULL && ds.storage == NULL && ds.count == 0);
}

static void
test_v1_layout_and_defaults(void)
{
	const char *json =
		"{\"version\": \"1.1\", \"data\": ["
		"{\"paragraphs\": [{\"context\": \"Paris is in France.\", \"qas\": ["
		"{\"id\": \"q1\", \"question\": \"Where is Paris?\","
		" \"answers\": [{\"text\": \"France\", \"answer_start\": 12},"
		" {\"text\": \"in France\", \"answer_start\": 9}]},"
		"{\"id\": \"q2\", \"question\": \"No answers key?\"}]}]},"
		"{\"title\": \"Empty\", \"paragraphs\": []},"
		"{\"title\": \"Second\", \"paragraphs\": [{\"context\": \"x\", \"qas\": ["
		"{\"id\": \"q3\", \"question\": \"?\", \"answers\": [], \"is_impossible\": true,"
		" \"plausible_answers\": [{\"text\": \"x\", \"answer_start\": 0}]}]}]}]}";
	BqSquadDataset ds;
	BqError		err;

	bq_error_clear(&err);
	CHECK_INT_EQ(bq_squad_dataset_parse(json, strlen(json), &ds, &err), BQ_OK);
	CHECK_INT_EQ(ds.count, 3);
	if (ds.count == 3)
	{
		CHECK_STR_EQ(ds.examples[0].title, "");
		CHECK(!ds.examples[0].is_impossible);
		CHECK_INT_EQ(ds.examples[0].n_answers, 2);
		CHECK_STR_EQ(ds.examples[0].answers[1], "in France");
		CHECK_STR_EQ(ds.examples[1].id, "q2");
		CHECK_INT_EQ(ds.examples[1].n_answers, 0);
		CHECK_STR_EQ(ds.examples[2].title, "Second");
		CHECK(ds.examples[2].is_impossible);
		CHECK_INT_EQ(ds.examples[2].n_answers, 0);
	}
	bq_squad_dataset_free(&ds);
}

static void
test_empty_data(void)
{
	BqSquadDataset ds;
	BqError		err;
	const char *json = "{\"data\": []}";

	CHECK_INT_EQ(bq_squad_dataset_parse(json, strlen(json), &ds, &err), BQ_OK);
	CHECK_INT_EQ(ds.count, 0);
	bq_squad_dataset_free(&ds);
}

static void
test_shape_errors(void)
{
	CHECK_STR_EQ(parse_error("[1]"), "SQuAD JSON: top level: not a JSON object");
	CHECK_STR_EQ(parse_error("{\"version\": 2}"), "SQuAD JSON: top level: \"data\" is missing");
	CHECK_STR_EQ(parse_error("{\"data\": {}}"), "SQuAD JSON: top level: \"data\" is not an array");
	CHECK_STR_EQ(parse_error("{\"data\": [3]}"), "SQuAD JSON: data[0]: not a JSON object");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"title\": 5, \"paragraphs\": []}]}"),
				 "SQuAD JSON: data[0]: \"title\" is not a string");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"title\": \"t\"}]}"),
				 "SQuAD JSON: data[0]: \"paragraphs\" is missing");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"paragraphs\": [{\"qas\": []}]}]}"),
				 "SQuAD JSON: data[0].paragraphs[0]: \"context\" is missing");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"paragraphs\": [{\"context\": \"c\"}]}]}"),
				 "SQuAD JSON: data[0].paragraphs[0]: \"qas\" is missing");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"paragraphs\": [], \"title\": \"a\"},"
							 " {\"paragraphs\": [{\"context\": \"c\", \"qas\": []},"
							 " {\"context\": \"c\", \"qas\": [{\"id\": \"x\", \"question\": 1}]}]}]}"),
				 "SQuAD JSON: data[1].paragraphs[1].qas[0]: \"question\" is not a string");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": ["
							 "{\"question\": \"q\"}]}]}]}"),
				 "SQuAD JSON: data[0].paragraphs[0].qas[0]: \"id\" is missing");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": ["
							 "{\"id\": \"i\", \"question\": \"q\", \"answers\": [{\"text\": \"a\"}, {}]}]}]}]}"),
				 "SQuAD JSON: data[0].paragraphs[0].qas[0].answers[1]: \"text\" is missing");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": ["
							 "{\"id\": \"i\", \"question\": \"q\", \"answers\": [\"a\"]}]}]}]}"),
				 "SQuAD JSON: data[0].paragraphs[0].qas[0].answers[0]: not a JSON object");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": ["
							 "{\"id\": \"i\", \"question\": \"q\", \"is_impossible\": 1}]}]}]}"),
				 "SQuAD JSON: data[0].paragraphs[0].qas[0]: \"is_impossible\" is not a boolean");
	CHECK_STR_EQ(parse_error("{\"data\": [{\"paragraphs\": [{\"context\": \"a\\u0000b\", \"qas\": []}]}]}"),
				 "SQuAD JSON: data[0].paragraphs[0]: \"context\" contains a NUL character");
	CHECK(strstr(parse_error("{\"data\": ["), "not valid JSON") != NULL);
}

static void
test_missing_file(void)
{
	BqSquadDataset ds;
	BqError		err;

	CHECK_INT_EQ(bq_squad_dataset_load("test/fixtures/no-such-file.json", &ds, &err),
				 BQ_ERR_NOT_FOUND);
	CHECK(strstr(err.message, "no-such-file.json") != NULL);
	CHECK(ds.examples == NULL && ds.count == 0);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_dev_file);
	RUN_TEST(test_v1_layout_and_defaults);
	RUN_TEST(test_empty_data);
	RUN_TEST(test_shape_errors);
	RUN_TEST(test_missing_file);
	UNIT_DONE();
}
