/*
 * squad_dataset.c - reading SQuAD-format JSON files into a flat list of
 * questions.
 *
 * The parsed json-c tree is kept alive as the owner of every string, so the
 * examples point straight into it and nothing is copied.  The document is
 * walked twice with the same function: the first walk validates the shape
 * and counts questions and answers, the second fills arrays of exactly that
 * size.  Shape errors name the place in the document, e.g.
 * data[3].paragraphs[2].qas[0]: "question" is not a string.
 */
#include "squad_dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"

/* What bq_squad_dataset_free releases besides the examples array. */
typedef struct SquadStorage
{
	json_object *root;			/* owns every string the examples point to */
	const char **answer_texts;	/* every example's answers, back to back */
} SquadStorage;

/*
 * State of one walk over the document.  In the counting walk 'examples' and
 * 'answer_texts' are NULL and only the counters advance.
 */
typedef struct SquadWalk
{
	const char *name;			/* file name or label for messages */
	BqSquadExample *examples;	/* [n_examples] or NULL */
	const char **answer_texts;	/* [n_answers] or NULL */
	size_t		n_examples;
	size_t		n_answers;
} SquadWalk;

/* Position in the document, for error messages; -1 = not that deep. */
typedef struct SquadPlace
{
	long long	article;
	long long	paragraph;
	long long	question;
	long long	answer;
} SquadPlace;

/*
 * Report a shape error prefixed by the document path of 'place'.
 */
static int
fail_at(const SquadWalk *walk, const SquadPlace *place, const char *what, BqError *err)
{
	char		path[160] = "top level";

	if (place->article >= 0)
	{
		int			n = snprintf(path, sizeof(path), "data[%lld]", place->article);

		if (place->paragraph >= 0)
			n += snprintf(path + n, sizeof(path) - (size_t) n, ".paragraphs[%lld]",
						  place->paragraph);
		if (place->question >= 0)
			n += snprintf(path + n, sizeof(path) - (size_t) n, ".qas[%lld]",
						  place->question);
		if (place->answer >= 0)
			snprintf(path + n, sizeof(path) - (size_t) n, ".answers[%lld]",
					 place->answer);
	}
	return bq_fail(err, BQ_ERR_FORMAT, "%s: %s: %s", walk->name, path, what);
}

/*
 * Fetch member 'key' of 'obj' as an array; absent is an error only when
 * 'required', otherwise *out is NULL.
 */
static int
get_array(const SquadWalk *walk, const SquadPlace *place, json_object *obj,
		  const char *key, bool required, json_object **out, BqError *err)
{
	char		what[96];

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, out) || *out == NULL)
	{
		*out = NULL;
		if (!required)
			return BQ_OK;
		snprintf(what, sizeof(what), "\"%s\" is missing", key);
		return fail_at(walk, place, what, err);
	}
	if (!json_object_is_type(*out, json_type_array))
	{
		snprintf(what, sizeof(what), "\"%s\" is not an array", key);
		return fail_at(walk, place, what, err);
	}
	return BQ_OK;
}

/*
 * Fetch member 'key' of 'obj' as a string without NUL characters (the
 * examples hand out C strings).  An absent optional member yields 'absent'.
 */
static int
get_string(const SquadWalk *walk, const SquadPlace *place, json_object *obj,
		   const char *key, const char *absent, const char **out, BqError *err)
{
	json_object *value;
	char		what[96];

	if (!json_object_object_get_ex(obj, key, &value) || value == NULL)
	{
		*out = absent;
		if (absent != NULL)
			return BQ_OK;
		snprintf(what, sizeof(what), "\"%s\" is missing", key);
		return fail_at(walk, place, what, err);
	}
	if (!json_object_is_type(value, json_type_string))
	{
		snprintf(what, sizeof(what), "\"%s\" is not a string", key);
		return fail_at(walk, place, what, err);
	}
	*out = json_object_get_string(value);
	if (strlen(*out) != (size_t) json_object_get_string_len(value))
	{
		snprintf(what, sizeof(what), "\"%s\" contains a NUL character", key);
		return fail_at(walk, place, what, err);
	}
	return BQ_OK;
}

/*
 * Check that element 'i' of 'array' is a JSON object and return it.
 */
static int
get_object_element(const SquadWalk *walk, const SquadPlace *place, json_object *array,
				   size_t i, json_object **out, BqError *err)
{
	*out = json_object_array_get_idx(array, i);
	if (!json_object_is_type(*out, json_type_object))
		return fail_at(walk, place, "not a JSON object", err);
	return BQ_OK;
}

/*
 * Walk one question: its strings, its answers' texts, is_impossible.
 */
static int
walk_question(SquadWalk *walk, SquadPlace *place, json_object *qa, const char *title,
			  const char *context, BqError *err)
{
	json_object *answers;
	json_object *impossible;
	const char *id;
	const char *question;
	size_t		n_answers;
	size_t		first_answer = walk->n_answers;
	bool		is_impossible = false;
	int			rc;

	if ((rc = get_string(walk, place, qa, "id", NULL, &id, err)) != BQ_OK ||
		(rc = get_string(walk, place, qa, "question", NULL, &question, err)) != BQ_OK ||
		(rc = get_array(walk, place, qa, "answers", false, &answers, err)) != BQ_OK)
		return rc;
	if (json_object_object_get_ex(qa, "is_impossible", &impossible) && impossible != NULL)
	{
		if (!json_object_is_type(impossible, json_type_boolean))
			return fail_at(walk, place, "\"is_impossible\" is not a boolean", err);
		is_impossible = json_object_get_boolean(impossible);
	}

	n_answers = answers != NULL ? json_object_array_length(answers) : 0;
	for (size_t i = 0; i < n_answers; i++)
	{
		json_object *answer;
		const char *text;

		place->answer = (long long) i;
		if ((rc = get_object_element(walk, place, answers, i, &answer, err)) != BQ_OK ||
			(rc = get_string(walk, place, answer, "text", NULL, &text, err)) != BQ_OK)
			return rc;
		if (walk->answer_texts != NULL)
			walk->answer_texts[walk->n_answers] = text;
		walk->n_answers++;
	}
	place->answer = -1;

	if (walk->examples != NULL)
	{
		BqSquadExample *ex = &walk->examples[walk->n_examples];

		ex->id = id;
		ex->title = title;
		ex->context = context;
		ex->question = question;
		ex->answers = walk->answer_texts + first_answer;
		ex->n_answers = n_answers;
		ex->is_impossible = is_impossible;
	}
	walk->n_examples++;
	return BQ_OK;
}

/*
 * Walk one article: its title and every paragraph's questions.
 */
static int
walk_article(SquadWalk *walk, SquadPlace *place, json_object *article, BqError *err)
{
	json_object *paragraphs;
	const char *title;
	int			rc;

	if ((rc = get_string(walk, place, article, "title", "", &title, err)) != BQ_OK ||
		(rc = get_array(walk, place, article, "paragraphs", true, &paragraphs, err)) != BQ_OK)
		return rc;
	for (size_t p = 0; p < json_object_array_length(paragraphs); p++)
	{
		json_object *paragraph;
		json_object *qas;
		const char *context;

		place->paragraph = (long long) p;
		if ((rc = get_object_element(walk, place, paragraphs, p, &paragraph, err)) != BQ_OK ||
			(rc = get_string(walk, place, paragraph, "context", NULL, &context, err)) != BQ_OK ||
			(rc = get_array(walk, place, paragraph, "qas", true, &qas, err)) != BQ_OK)
			return rc;
		for (size_t q = 0; q < json_object_array_length(qas); q++)
		{
			json_object *qa;

			place->question = (long long) q;
			if ((rc = get_object_element(walk, place, qas, q, &qa, err)) != BQ_OK ||
				(rc = walk_question(walk, place, qa, title, context, err)) != BQ_OK)
				return rc;
		}
		place->question = -1;
	}
	place->paragraph = -1;
	return BQ_OK;
}

/*
 * Walk the whole document: {"data": [article, ...]}.
 */
static int
walk_document(SquadWalk *walk, json_object *root, BqError *err)
{
	SquadPlace	place = {-1, -1, -1, -1};
	json_object *data;
	int			rc;

	if (!json_object_is_type(root, json_type_object))
		return fail_at(walk, &place, "not a JSON object", err);
	if ((rc = get_array(walk, &place, root, "data", true, &data, err)) != BQ_OK)
		return rc;
	for (size_t a = 0; a < json_object_array_length(data); a++)
	{
		json_object *article;

		place.article = (long long) a;
		if ((rc = get_object_element(walk, &place, data, a, &article, err)) != BQ_OK ||
			(rc = walk_article(walk, &place, article, err)) != BQ_OK)
			return rc;
	}
	return BQ_OK;
}

/*
 * Validate and flatten a parsed document; takes ownership of 'root'.
 */
static int
dataset_from_json(json_object *root, const char *name, BqSquadDataset *out, BqError *err)
{
	SquadWalk	walk = {name, NULL, NULL, 0, 0};
	SquadStorage *storage;
	int			rc;

	if ((rc = walk_document(&walk, root, err)) != BQ_OK)
	{
		json_object_put(root);
		return rc;
	}
	storage = calloc(1, sizeof(SquadStorage));
	walk.examples = calloc(walk.n_examples > 0 ? walk.n_examples : 1, sizeof(BqSquadExample));
	walk.answer_texts = calloc(walk.n_answers > 0 ? walk.n_answers : 1, sizeof(const char *));
	if (storage == NULL || walk.examples == NULL || walk.answer_texts == NULL)
	{
		free(storage);
		free(walk.examples);
		free(walk.answer_texts);
		json_object_put(root);
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading %s", name);
	}
	walk.n_examples = 0;
	walk.n_answers = 0;
	/* Cannot fail: the same walk already succeeded on this document. */
	walk_document(&walk, root, err);

	storage->root = root;
	storage->answer_texts = walk.answer_texts;
	out->examples = walk.examples;
	out->count = walk.n_examples;
	out->storage = storage;
	return BQ_OK;
}

/*
 * Parse an in-memory SQuAD document (from the database or a test).
 */
int
bq_squad_dataset_parse(const char *json, size_t len, BqSquadDataset *out, BqError *err)
{
	const char *name = "SQuAD JSON";
	json_object *root;

	memset(out, 0, sizeof(*out));
	root = bq_json_parse(json, len, name, err);
	if (root == NULL)
		return err->status;
	return dataset_from_json(root, name, out, err);
}

/*
 * Read and parse a SQuAD file; messages name the file.
 */
int
bq_squad_dataset_load(const char *path, BqSquadDataset *out, BqError *err)
{
	json_object *root;

	memset(out, 0, sizeof(*out));
	root = bq_json_load_file(path, err);
	if (root == NULL)
		return err->status;
	return dataset_from_json(root, path, out, err);
}

/*
 * Release the examples and every string they point to.
 */
void
bq_squad_dataset_free(BqSquadDataset *dataset)
{
	SquadStorage *storage = dataset->storage;

	if (storage != NULL)
	{
		json_object_put(storage->root);
		free(storage->answer_texts);
		free(storage);
	}
	free(dataset->examples);
	memset(dataset, 0, sizeof(*dataset));
}
