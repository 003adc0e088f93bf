/*
 * test_squad_eval.c - the official SQuAD v2.0 evaluation: the published
 * figures of a real system on the dev set, hand-computed figures on a tiny
 * dataset (thresholds, ties, missing predictions), and normalize_answer's
 * Unicode edge cases.
 */
#include "squad_eval.h"

#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "unit.h"

#define DEV_DIR "test/fixtures/squad-v2.0/"

/*
 * Six questions: q1 and q2 answerable and predicted (q1 exact, q2 "Paris,
 * France" against "Paris": F1 2/3), q3 and q4 unanswerable (q3 rightly "",
 * q4 wrongly "London"), q5 answerable without a prediction, q6 "cat cat
 * cat" against "cat cat dog" (two common tokens: F1 2/3, exact 0).
 */
static const char tiny_dataset[] =
"{\"version\": \"v2.0\", \"data\": [{\"title\": \"T\", \"paragraphs\": [{\"context\": \"c\", \"qas\": ["
"{\"id\": \"q1\", \"question\": \"?\", \"answers\": [{\"text\": \"The Eiffel Tower\"},"
" {\"text\": \"Eiffel Tower in Paris\"}], \"is_impossible\": false},"
"{\"id\": \"q2\", \"question\": \"?\", \"answers\": [{\"text\": \"Paris\"}]},"
"{\"id\": \"q3\", \"question\": \"?\", \"answers\": [], \"is_impossible\": true},"
"{\"id\": \"q4\", \"question\": \"?\", \"answers\": [], \"is_impossible\": true},"
"{\"id\": \"q5\", \"question\": \"?\", \"answers\": [{\"text\": \"1066\"}]},"
"{\"id\": \"q6\", \"question\": \"?\", \"answers\": [{\"text\": \"cat cat dog\"}]}]}]}]}";

static const char tiny_predictions[] =
"{\"q1\": \"eiffel tower\", \"q2\": \"Paris, France\", \"q3\": \"\", \"q4\": \"London\","
" \"q6\": \"cat cat cat\"}";

static json_object *
parse(const char *text)
{
	BqError		err;
	json_object *obj = bq_json_parse(text, strlen(text), "test JSON", &err);

	if (obj == NULL)
		fprintf(stderr, "test JSON: %s\n", err.message);
	return obj;
}

/*
 * Evaluate the tiny dataset with the given probabilities (NULL: none).
 */
static int
evaluate_tiny(const char *predictions, const char *na_probs, double thresh,
			  BqSquadEvalResult *result, BqError *err)
{
	BqSquadDataset data;
	json_object *pred = parse(predictions);
	json_object *na = na_probs != NULL ? parse(na_probs) : NULL;
	int			rc;

	bq_error_clear(err);
	if (bq_squad_dataset_parse(tiny_dataset, strlen(tiny_dataset), &data, err) != BQ_OK)
		return err->status;
	rc = bq_squad_evaluate(&data, pred, na, thresh, NULL, result, err);
	json_object_put(pred);
	json_object_put(na);
	bq_squad_dataset_free(&data);
	return rc;
}

/*
 * The README's figures for Google's BERT predictions, key by key and as
 * the text the official script prints.
 */
static void
test_dev_set(void)
{
	BqSquadDataset data;
	BqSquadEvalResult result;
	BqError		err;
	json_object *pred;
	char	   *pretty;
	char	   *compact;

	bq_error_clear(&err);
	CHECK_INT_EQ(bq_squad_dataset_load(DEV_DIR "squad-v2.0-dev.reconstructed.json", &data, &err),
				 BQ_OK);
	pred = bq_json_load_file(DEV_DIR "squad-v2.0-dev.predictions.google-bert-single.json", &err);
	CHECK(pred != NULL);
	CHECK_INT_EQ(bq_squad_evaluate(&data, pred, NULL, 1.0, NULL, &result, &err), BQ_OK);

	CHECK_NEAR(result.all.exact, 78.74168280973637, 1e-9);
	CHECK_NEAR(result.all.f1, 81.77528052374723, 1e-9);
	CHECK_INT_EQ(result.all.total, 11873);
	CHECK_NEAR(result.has_ans.exact, 74.10593792172739, 1e-9);
	CHECK_NEAR(result.has_ans.f1, 80.18183293833508, 1e-9);
	CHECK_INT_EQ(result.has_ans.total, 5928);
	CHECK_NEAR(result.no_ans.exact, 83.36417157275021, 1e-9);
	CHECK_NEAR(result.no_ans.f1, 83.36417157275021, 1e-9);
	CHECK_INT_EQ(result.no_ans.total, 5945);
	CHECK(!result.has_best);
	CHECK_INT_EQ(result.n_missing, 0);

	pretty = bq_squad_eval_to_json(&result, true);
	compact = bq_squad_eval_to_json(&result, false);
	CHECK_STR_EQ(pretty,
				 "{\n"
				 "  \"exact\": 78.74168280973637,\n"
				 "  \"f1\": 81.77528052374723,\n"
				 "  \"total\": 11873,\n"
				 "  \"HasAns_exact\": 74.10593792172739,\n"
				 "  \"HasAns_f1\": 80.18183293833508,\n"
				 "  \"HasAns_total\": 5928,\n"
				 "  \"NoAns_exact\": 83.36417157275021,\n"
				 "  \"NoAns_f1\": 83.36417157275021,\n"
				 "  \"NoAns_total\": 5945\n"
				 "}");
	CHECK_STR_EQ(compact,
				 "{\"exact\": 78.74168280973637, \"f1\": 81.77528052374723, \"total\": 11873, "
				 "\"HasAns_exact\": 74.10593792172739, \"HasAns_f1\": 80.18183293833508, "
				 "\"HasAns_total\": 5928, \"NoAns_exact\": 83.36417157275021, "
				 "\"NoAns_f1\": 83.36417157275021, \"NoAns_total\": 5945}");
	free(pretty);
	free(compact);
	bq_squad_eval_result_free(&result);
	json_object_put(pred);
	bq_squad_dataset_free(&data);
}

/*
 * Without probabilities: raw scores; q5 is reported and left out.
 */
static void
test_tiny_raw_scores(void)
{
	BqSquadEvalResult result;
	BqError		err;

	CHECK_INT_EQ(evaluate_tiny(tiny_predictions, NULL, 1.0, &result, &err), BQ_OK);
	/* exact: q1, q3 right of 5 scored; F1: 1 + 2/3 + 1 + 0 + 2/3 */
	CHECK_INT_EQ(result.all.total, 5);
	CHECK_NEAR(result.all.exact, 40.0, 1e-12);
	CHECK_NEAR(result.all.f1, 100.0 * (10.0 / 3.0) / 5.0, 1e-9);
	CHECK_INT_EQ(result.has_ans.total, 3);
	CHECK_NEAR(result.has_ans.exact, 100.0 / 3.0, 1e-9);
	CHECK_NEAR(result.has_ans.f1, 100.0 * (7.0 / 3.0) / 3.0, 1e-9);
	CHECK_INT_EQ(result.no_ans.total, 2);
	CHECK_NEAR(result.no_ans.exact, 50.0, 1e-12);
	CHECK_NEAR(result.no_ans.f1, 50.0, 1e-12);
	CHECK(!result.has_best);
	CHECK_INT_EQ(result.n_missing, 1);
	if (result.n_missing == 1)
		CHECK_STR_EQ(result.missing_ids[0], "q5");
	bq_squad_eval_result_free(&result);
	CHECK(result.missing_ids == NULL && result.n_missing == 0);
}

/*
 * With probabilities.  Sorted: zzz 0.1 (no such question), q1 0.2, q4 0.3,
 * q2 0.9, q3 0.95, q6 2.  The search starts at the 2 unanswerable questions
 * right, then adds q1 +1 (3: best, 0.2), q4 -1 ("London"), q2 +0 or +2/3,
 * q3 +0 (""), q6 +0 or +2/3: exact peaks at 3 (60%), F1 at 10/3 at q6's
 * integer 2, which must print as an integer.  With the default threshold
 * 1.0, q6 (2 > 1) counts as answered "": wrong, as it has an answer.
 */
static void
test_tiny_best_thresholds(void)
{
	BqSquadEvalResult result;
	BqError		err;
	char	   *text;

	CHECK_INT_EQ(evaluate_tiny(tiny_predictions,
							   "{\"zzz\": 0.1, \"q1\": 0.2, \"q2\": 0.9, \"q3\": 0.95, \"q4\": 0.3,"
							   " \"q6\": 2}", 1.0, &result, &err), BQ_OK);
	CHECK_NEAR(result.all.exact, 40.0, 1e-12);
	CHECK_NEAR(result.all.f1, 100.0 * (8.0 / 3.0) / 5.0, 1e-9);
	CHECK_NEAR(result.has_ans.f1, 100.0 * (5.0 / 3.0) / 3.0, 1e-9);
	CHECK(result.has_best);
	CHECK_NEAR(result.best_exact, 60.0, 1e-12);
	CHECK_NEAR(result.best_exact_thresh, 0.2, 0);
	CHECK(!result.best_exact_thresh_is_int);
	CHECK_NEAR(result.best_f1, 100.0 * (10.0 / 3.0) / 5.0, 1e-9);
	CHECK_NEAR(result.best_f1_thresh, 2.0, 0);
	CHECK(result.best_f1_thresh_is_int);
	text = bq_squad_eval_to_json(&result, false);
	CHECK_STR_EQ(text,
				 "{\"exact\": 40.0, \"f1\": 53.33333333333333, \"total\": 5, "
				 "\"HasAns_exact\": 33.333333333333336, \"HasAns_f1\": 55.55555555555555, "
				 "\"HasAns_total\": 3, \"NoAns_exact\": 50.0, \"NoAns_f1\": 50.0, "
				 "\"NoAns_total\": 2, \"best_exact\": 60.0, \"best_exact_thresh\": 0.2, "
				 "\"best_f1\": 66.66666666666666, \"best_f1_thresh\": 2}");
	free(text);
	bq_squad_eval_result_free(&result);

	/* threshold 0.5: q2 (0.9) now counts as "" too */
	CHECK_INT_EQ(evaluate_tiny(tiny_predictions,
							   "{\"zzz\": 0.1, \"q1\": 0.2, \"q2\": 0.9, \"q3\": 0.95, \"q4\": 0.3,"
							   " \"q6\": 2}", 0.5, &result, &err), BQ_OK);
	CHECK_NEAR(result.all.f1, 100.0 * 2.0 / 5.0, 1e-12);
	CHECK_NEAR(result.best_f1, 100.0 * (10.0 / 3.0) / 5.0, 1e-9);
	bq_squad_eval_result_free(&result);
}

/*
 * Equal probabilities keep the file's key order (Python's stable sort):
 * q4 before q1 goes 2 -> 1 -> 2 (no gain), q1 before q4 goes 2 -> 3.
 */
static void
test_tiny_tie_order(void)
{
	BqSquadEvalResult result;
	BqError		err;

	CHECK_INT_EQ(evaluate_tiny(tiny_predictions,
							   "{\"q4\": 0.5, \"q1\": 0.5, \"q2\": 0.7, \"q3\": 0.7, \"q6\": 0.7}",
							   1.0, &result, &err), BQ_OK);
	CHECK_NEAR(result.best_exact, 40.0, 1e-12);
	CHECK_NEAR(result.best_exact_thresh, 0.0, 0);
	CHECK_NEAR(result.best_f1_thresh, 0.7, 0);
	bq_squad_eval_result_free(&result);

	CHECK_INT_EQ(evaluate_tiny(tiny_predictions,
							   "{\"q1\": 0.5, \"q4\": 0.5, \"q2\": 0.7, \"q3\": 0.7, \"q6\": 0.7}",
							   1.0, &result, &err), BQ_OK);
	CHECK_NEAR(result.best_exact, 60.0, 1e-12);
	CHECK_NEAR(result.best_exact_thresh, 0.5, 0);
	bq_squad_eval_result_free(&result);
}

/*
 * A subset with no scored question leaves its keys out.
 */
static void
test_empty_subset(void)
{
	BqSquadEvalResult result;
	BqError		err;
	char	   *text;

	CHECK_INT_EQ(evaluate_tiny("{\"q3\": \"\", \"q4\": \"x\"}", NULL, 1.0, &result, &err), BQ_OK);
	CHECK_INT_EQ(result.has_ans.total, 0);
	CHECK_INT_EQ(result.n_missing, 4);
	text = bq_squad_eval_to_json(&result, false);
	CHECK_STR_EQ(text, "{\"exact\": 50.0, \"f1\": 50.0, \"total\": 2, \"NoAns_exact\": 50.0, "
				 "\"NoAns_f1\": 50.0, \"NoAns_total\": 2}");
	free(text);
	bq_squad_eval_result_free(&result);
}

static void
test_input_errors(void)
{
	BqSquadEvalResult result;
	BqError		err;

	CHECK_INT_EQ(evaluate_tiny("[\"q1\"]", NULL, 1.0, &result, &err), BQ_ERR_INPUT);
	CHECK(strstr(err.message, "predictions must be a JSON object") != NULL);
	CHECK_INT_EQ(evaluate_tiny("{\"q1\": \"a\", \"q2\": 7}", NULL, 1.0, &result, &err),
				 BQ_ERR_INPUT);
	CHECK_STR_EQ(err.message, "predictions: the value for \"q2\" is not a string");
	CHECK_INT_EQ(evaluate_tiny("{\"q1\": \"a\"}", "{\"q1\": \"0.5\"}", 1.0, &result, &err),
				 BQ_ERR_INPUT);
	CHECK_STR_EQ(err.message, "no-answer probabilities: the value for \"q1\" is not a number");
	CHECK_INT_EQ(evaluate_tiny("{\"q1\": \"a\", \"q2\": \"b\"}", "{\"q1\": 0.5}", 1.0,
							   &result, &err), BQ_ERR_INPUT);
	CHECK_STR_EQ(err.message, "the no-answer probabilities have no value for question \"q2\"");
	CHECK_INT_EQ(evaluate_tiny("{\"other\": \"a\"}", NULL, 1.0, &result, &err), BQ_ERR_INPUT);
	CHECK_STR_EQ(err.message, "nothing to evaluate: none of the 6 questions has a prediction");
	CHECK(result.missing_ids == NULL && result.n_missing == 0);

	/* a long id is cut on a character boundary: 150 two-byte characters */
	{
		char		pred[512] = "{\"";
		const char *cut;

		for (int i = 0; i < 150; i++)
			strcat(pred, "\xc3\xa9");
		strcat(pred, "\": 1}");
		CHECK_INT_EQ(evaluate_tiny(pred, NULL, 1.0, &result, &err), BQ_ERR_INPUT);
		cut = strstr(err.message, "...\" is not a string");
		CHECK(cut != NULL);
		if (cut != NULL)
			CHECK_INT_EQ((cut - strchr(err.message, '"') - 1) % 2, 0);
	}
}

static int
always_interrupt(void *arg)
{
	(void) arg;
	return 1;
}

static void
test_cancel(void)
{
	BqSquadDataset data;
	BqSquadEvalResult result;
	BqError		err;
	BqInterrupt intr = {always_interrupt, NULL};
	json_object *pred = parse(tiny_predictions);

	CHECK_INT_EQ(bq_squad_dataset_parse(tiny_dataset, strlen(tiny_dataset), &data, &err), BQ_OK);
	CHECK_INT_EQ(bq_squad_evaluate(&data, pred, NULL, 1.0, &intr, &result, &err),
				 BQ_ERR_CANCELLED);
	json_object_put(pred);
	bq_squad_dataset_free(&data);
}

/*
 * normalize_answer on one string.
 */
static void
check_normalized(const char *text, const char *want)
{
	BqError		err;
	size_t		len;
	char	   *got = bq_squad_normalize_answer(text, strlen(text), &len, &err);

	CHECK_STR_EQ(got, want);
	CHECK(got == NULL || len == strlen(want));
	free(got);
}

static void
test_normalize_articles_and_punctuation(void)
{
	check_normalized("The Eiffel Tower!", "eiffel tower");
	check_normalized("theater another anthem", "theater another anthem");
	check_normalized("The  a  an", "");
	check_normalized("the", "");
	check_normalized("a_the the_a", "athe thea");	/* '_' is punctuation, removed first */
	check_normalized("the2 2the", "the2 2the");
	check_normalized("the-end", "theend");	/* punctuation goes first */
	check_normalized("(the) end", "end");
	check_normalized("l'homme, c'est ça.", "lhomme cest ça");
	check_normalized("«word» — “quoted”", "«word» — “quoted”");	/* not ASCII */
	check_normalized("ⅻ the ²the", "ⅻ ²the");	/* numeric characters are word chars */
	check_normalized("éthe thé", "éthe thé");
	check_normalized("", "");
}

static void
test_normalize_unicode(void)
{
	/* NBSP, EM SPACE, IDEOGRAPHIC SPACE, NEL, LINE SEPARATOR, FS, VT */
	check_normalized("x\xc2\xa0y\xe2\x80\x83z\xe3\x80\x80w\xc2\x85v\xe2\x80\xa8u\x1cq\x0bp",
					 "x y z w v u q p");
	/* ZERO WIDTH SPACE is not whitespace for Python */
	check_normalized("x\xe2\x80\x8by", "x\xe2\x80\x8by");
	check_normalized("ÀÉÎ ÖSTERREICH", "àéî österreich");
	check_normalized("ΟΔΟΣ Σ ΣΑ", "οδος σ σα");	/* final sigma as Python's lower() */
	check_normalized("İstanbul", "i\xcc\x87stanbul");	/* İ -> i + combining dot */
	check_normalized("ẞ", "ß");
	check_normalized("𐐀", "𐐨");	/* outside the BMP */
	check_normalized("THE ΑΝ an", "αν");	/* Greek ΑΝ is not "an" */
}

static void
test_normalize_invalid_utf8(void)
{
	BqError		err;
	size_t		len;

	CHECK(bq_squad_normalize_answer("a\xff", 2, &len, &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_INPUT);
}

/*
 * compute_exact / compute_f1 on one pair.
 */
static void
check_compare(const char *gold, const char *pred, int want_exact, double want_f1)
{
	BqError		err;
	int			exact = -1;
	double		f1 = -1.0;

	CHECK_INT_EQ(bq_squad_compare_answers(gold, strlen(gold), pred, strlen(pred), &exact, &f1,
										  &err), BQ_OK);
	CHECK_INT_EQ(exact, want_exact);
	CHECK_NEAR(f1, want_f1, 1e-15);
}

static void
test_compare_answers(void)
{
	check_compare("", "", 1, 1.0);
	check_compare("the", "", 1, 1.0);	/* both normalize to nothing */
	check_compare("Paris", "", 0, 0.0);
	check_compare("", "Paris", 0, 0.0);
	check_compare("Paris", "London", 0, 0.0);
	check_compare("Paris, France", "paris france", 1, 1.0);
	/* Counter semantics: common tokens counted with multiplicity */
	check_compare("cat cat dog", "cat cat cat", 0, 2.0 / 3.0);
	check_compare("cat cat", "cat", 0, 2.0 * 1.0 * 0.5 / 1.5);
	check_compare("dog cat", "cat dog", 0, 1.0);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_dev_set);
	RUN_TEST(test_tiny_raw_scores);
	RUN_TEST(test_tiny_best_thresholds);
	RUN_TEST(test_tiny_tie_order);
	RUN_TEST(test_empty_subset);
	RUN_TEST(test_input_errors);
	RUN_TEST(test_cancel);
	RUN_TEST(test_normalize_articles_and_punctuation);
	RUN_TEST(test_normalize_unicode);
	RUN_TEST(test_normalize_invalid_utf8);
	RUN_TEST(test_compare_answers);
	UNIT_DONE();
}
