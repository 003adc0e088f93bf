/*
 * squad_eval.c - the official SQuAD v2.0 evaluation, reproduced exactly.
 *
 * evaluate-v2.0.py defines the figures every SQuAD result is compared with,
 * so each step follows its Python semantics rather than a cleaner variant:
 *
 * - normalize_answer: str.lower() (full Unicode lowercasing with the Greek
 *   final sigma rule, which ICU's root-locale lowercasing shares), removal of
 *   the 32 ASCII punctuation characters only, the regex \b(a|an|the)\b with
 *   Python's Unicode word characters (letters, numeric characters),
 *   then str.split() on Python's whitespace (bidi class WS, B, S or Zs).
 * - Scores are stored per question id in first-seen order with the last
 *   value winning, as Python dicts do, and summed left to right in plain
 *   double arithmetic, as Python's sum() does up to 3.11.
 * - The best-threshold search walks the no-answer probabilities in a stable
 *   sort by value, ties in the probability file's key order.
 */
#include "squad_eval.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object_iterator.h>
#include <json-c/linkhash.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "file_util.h"
#include "grow_array.h"
#include "json_number.h"

/* Room for a question id quoted in an error message. */
#define MESSAGE_ID_SIZE 104

/* Python's string.punctuation. */
static const char ascii_punctuation[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/* One normalized token: a span of code points. */
typedef struct Token
{
	const UChar32 *chars;
	size_t		len;
} Token;

/*
 * An answer after normalize_answer, held as its token list.  The buffers
 * are reused from one answer to the next, growing as needed.
 */
typedef struct NormalizedText
{
	UChar	   *utf16;			/* [utf16_cap] the text decoded from UTF-8 */
	int32_t		utf16_cap;
	UChar	   *lower;			/* [lower_cap] the text lowercased */
	int32_t		lower_cap;
	UChar32    *chars;			/* [chars_cap] lowercase code points, ASCII
								 * punctuation removed; tokens point here */
	size_t		chars_cap;
	Token	   *tokens;			/* [n_tokens] in text order */
	size_t		tokens_cap;
	Token	   *sorted;			/* [n_tokens] the same, sorted, to count
								 * common tokens */
	size_t		sorted_cap;
	size_t		n_tokens;
} NormalizedText;

/*
 * One question id with what the script keeps in its dicts about it.
 */
typedef struct QuestionSlot
{
	const char *id;
	bool		has_ans;		/* gold answers listed (qid_to_has_ans) */
	bool		scored;			/* a prediction exists */
	bool		pred_nonempty;	/* the prediction is not "" */
	double		exact_raw;
	double		f1_raw;
	double		na_prob;
} QuestionSlot;

/* One entry of the no-answer probability object, for the stable sort. */
typedef struct NaProbEntry
{
	double		value;
	bool		is_int;
	size_t		order;			/* position in the object */
	QuestionSlot *slot;			/* NULL: no such question scored */
} NaProbEntry;

/* Which scored questions a figure covers (HasAns_, NoAns_ or all). */
typedef enum QuestionSubset
{
	ALL_QUESTIONS,
	WITH_ANSWERS,
	WITHOUT_ANSWERS
} QuestionSubset;

/* Everything one evaluation allocates. */
typedef struct Evaluation
{
	NormalizedText pred;
	NormalizedText gold;
	QuestionSlot *slots;		/* [n_slots] distinct ids, first-seen order */
	size_t		n_slots;
	struct lh_table *slot_by_id;
	NaProbEntry *na_entries;	/* [n_na_entries] */
	size_t		n_na_entries;
	size_t		missing_cap;
} Evaluation;

/*
 * Python's \w in a Unicode pattern: str.isalnum() (letters and anything
 * with a numeric value) or '_', which remove_punc has already taken out.
 */
static bool
is_word_char(UChar32 c)
{
	return (U_GET_GC_MASK(c) & U_GC_L_MASK) != 0 ||
		u_getIntPropertyValue(c, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
}

/*
 * Python's str.isspace(): bidirectional class WS, B or S, or category Zs
 * (so also U+001C..U+001F, U+0085, U+2028, U+00A0, ...).
 */
static bool
is_python_space(UChar32 c)
{
	UCharDirection dir = u_charDirection(c);

	return dir == U_WHITE_SPACE_NEUTRAL || dir == U_BLOCK_SEPARATOR ||
		dir == U_SEGMENT_SEPARATOR || u_charType(c) == U_SPACE_SEPARATOR;
}

/*
 * Length of a match of \b(a|an|the)\b starting at chars[i], 0 if none.
 * The articles consist of word characters, so the boundaries mean a
 * non-word character (or the text's edge) on both sides.
 */
static size_t
article_at(const UChar32 *chars, size_t n, size_t i)
{
	static const char *const articles[] = {"a", "an", "the"};

	if ((chars[i] != 'a' && chars[i] != 't') || (i > 0 && is_word_char(chars[i - 1])))
		return 0;
	for (size_t k = 0; k < sizeof(articles) / sizeof(articles[0]); k++)
	{
		size_t		len = strlen(articles[k]);
		size_t		j = 0;

		while (j < len && i + j < n && chars[i + j] == (UChar32) articles[k][j])
			j++;
		if (j == len && (i + len == n || !is_word_char(chars[i + len])))
			return len;
	}
	return 0;
}

/*
 * Order tokens by length, then code points: any total order will do for
 * counting common tokens.
 */
static int
compare_tokens(const void *a, const void *b)
{
	const Token *x = a;
	const Token *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	for (size_t i = 0; i < x->len; i++)
	{
		if (x->chars[i] != y->chars[i])
			return x->chars[i] < y->chars[i] ? -1 : 1;
	}
	return 0;
}

/*
 * bq_grow_array for ICU's int32_t-sized UChar buffers.
 */
static bool
ensure_uchar_capacity(UChar **buf, int32_t *cap, int32_t need)
{
	size_t		cap_size = (size_t) *cap;
	bool		ok = bq_grow_array((void **) buf, &cap_size, (size_t) need, sizeof(UChar));

	/* the buffer may hold more than ICU can be told of; it is told what fits */
	*cap = cap_size > INT32_MAX ? INT32_MAX : (int32_t) cap_size;
	return ok;
}

/*
 * Decode and lowercase 'text' into nt->lower; *n_lower gets its length in
 * UTF-16 units.
 */
static int
decode_and_lower(NormalizedText *nt, const char *text, size_t len, int32_t *n_lower,
				 BqError *err)
{
	UErrorCode	status = U_ZERO_ERROR;
	int32_t		n16;

	/* Lowercasing can triple the length; keep every size within int32_t. */
	if (len > (size_t) (INT32_MAX / 3 - 1))
		return bq_fail(err, BQ_ERR_INPUT, "answer text is too long (%zu bytes)", len);
	if (!ensure_uchar_capacity(&nt->utf16, &nt->utf16_cap, (int32_t) len + 1))
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory normalizing an answer");
	u_strFromUTF8(nt->utf16, nt->utf16_cap, &n16, text, (int32_t) len, &status);
	if (U_FAILURE(status))
		return bq_fail(err, BQ_ERR_INPUT, "answer text is not valid UTF-8");

	/* The root locale ("") gives Python's language-independent mapping. */
	for (;;)
	{
		status = U_ZERO_ERROR;
		*n_lower = u_strToLower(nt->lower, nt->lower_cap, nt->utf16, n16, "", &status);
		if (status != U_BUFFER_OVERFLOW_ERROR)
			break;
		if (!ensure_uchar_capacity(&nt->lower, &nt->lower_cap, *n_lower + 1))
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory normalizing an answer");
	}
	if (U_FAILURE(status))
		return bq_fail(err, BQ_ERR_INPUT, "could not lowercase an answer: %s",
					   u_errorName(status));
	return BQ_OK;
}

/*
 * normalize_answer(text).split() into nt->tokens (and nt->sorted).
 */
static int
normalize_text(NormalizedText *nt, const char *text, size_t len, BqError *err)
{
	int32_t		n_lower = 0;
	size_t		n_chars = 0;
	size_t		start = 0;
	size_t		i = 0;
	int			rc;

	if ((rc = decode_and_lower(nt, text, len, &n_lower, err)) != BQ_OK)
		return rc;
	if (!bq_grow_array((void **) &nt->chars, &nt->chars_cap, (size_t) n_lower + 1,
						 sizeof(UChar32)))
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory normalizing an answer");

	/* remove_punc */
	for (int32_t k = 0; k < n_lower;)
	{
		UChar32		c;

		U16_NEXT(nt->lower, k, n_lower, c);
		if (c < 0x80 && c != 0 && strchr(ascii_punctuation, (int) c) != NULL)
			continue;
		nt->chars[n_chars++] = c;
	}

	/* remove_articles, then split: both articles and spaces end a token */
	nt->n_tokens = 0;
	while (i <= n_chars)
	{
		size_t		article = i < n_chars ? article_at(nt->chars, n_chars, i) : 0;

		if (i == n_chars || article > 0 || is_python_space(nt->chars[i]))
		{
			if (i > start)
			{
				if (!bq_grow_array((void **) &nt->tokens, &nt->tokens_cap, nt->n_tokens + 1,
									 sizeof(Token)))
					return bq_fail(err, BQ_ERR_NOMEM, "out of memory normalizing an answer");
				nt->tokens[nt->n_tokens].chars = nt->chars + start;
				nt->tokens[nt->n_tokens].len = i - start;
				nt->n_tokens++;
			}
			i += article > 0 ? article : 1;
			start = i;
		}
		else
			i++;
	}
	if (!bq_grow_array((void **) &nt->sorted, &nt->sorted_cap, nt->n_tokens + 1, sizeof(Token)))
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory normalizing an answer");
	if (nt->n_tokens > 0)
	{
		memcpy(nt->sorted, nt->tokens, nt->n_tokens * sizeof(Token));
		qsort(nt->sorted, nt->n_tokens, sizeof(Token), compare_tokens);
	}
	return BQ_OK;
}

static void
normalized_text_free(NormalizedText *nt)
{
	free(nt->utf16);
	free(nt->lower);
	free(nt->chars);
	free(nt->tokens);
	free(nt->sorted);
	memset(nt, 0, sizeof(*nt));
}

/*
 * compute_exact: the normalized strings are equal exactly when the token
 * lists are.
 */
static bool
tokens_equal(const NormalizedText *a, const NormalizedText *b)
{
	if (a->n_tokens != b->n_tokens)
		return false;
	for (size_t i = 0; i < a->n_tokens; i++)
	{
		if (compare_tokens(&a->tokens[i], &b->tokens[i]) != 0)
			return false;
	}
	return true;
}

/*
 * compute_f1: overlap of the token multisets (Counter & Counter).
 */
static double
token_f1(const NormalizedText *gold, const NormalizedText *pred)
{
	size_t		i = 0;
	size_t		j = 0;
	size_t		common = 0;
	double		precision;
	double		recall;

	if (gold->n_tokens == 0 || pred->n_tokens == 0)
		return gold->n_tokens == pred->n_tokens ? 1.0 : 0.0;
	while (i < gold->n_tokens && j < pred->n_tokens)
	{
		int			c = compare_tokens(&gold->sorted[i], &pred->sorted[j]);

		if (c == 0)
			common++;
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	if (common == 0)
		return 0.0;
	precision = (double) common / (double) pred->n_tokens;
	recall = (double) common / (double) gold->n_tokens;
	return (2.0 * precision * recall) / (precision + recall);
}

/*
 * get_raw_scores for one question: the best exact and F1 over the gold
 * answers that normalize to something, or against "" when none does.
 */
static int
score_question(Evaluation *ev, const BqSquadExample *ex, const char *pred, size_t pred_len,
			   double *exact, double *f1, BqError *err)
{
	bool		any_gold = false;
	int			rc;

	if ((rc = normalize_text(&ev->pred, pred, pred_len, err)) != BQ_OK)
		return rc;
	*exact = 0.0;
	*f1 = 0.0;
	for (size_t a = 0; a < ex->n_answers; a++)
	{
		double		answer_f1;

		if ((rc = normalize_text(&ev->gold, ex->answers[a], strlen(ex->answers[a]), err)) != BQ_OK)
			return rc;
		if (ev->gold.n_tokens == 0)
			continue;
		any_gold = true;
		if (tokens_equal(&ev->gold, &ev->pred))
			*exact = 1.0;
		answer_f1 = token_f1(&ev->gold, &ev->pred);
		if (answer_f1 > *f1)
			*f1 = answer_f1;
	}
	if (!any_gold)
	{
		*exact = ev->pred.n_tokens == 0 ? 1.0 : 0.0;
		*f1 = *exact;
	}
	return BQ_OK;
}

/*
 * A question id for a message: ids come from the user, so long ones are cut
 * to about 100 bytes, on a UTF-8 character boundary.
 */
static const char *
id_for_message(const char *id, char buf[MESSAGE_ID_SIZE])
{
	size_t		len = strlen(id);

	if (len < MESSAGE_ID_SIZE - 4)
		return id;
	len = MESSAGE_ID_SIZE - 4;
	while (len > 0 && (id[len] & 0xC0) == 0x80)
		len--;
	snprintf(buf, MESSAGE_ID_SIZE, "%.*s...", (int) len, id);
	return buf;
}

/*
 * Check that every value of a {id: value} object has the expected type, so
 * that later lookups cannot meet anything else.
 */
static int
check_object_values(json_object *obj, const char *what, bool numbers, BqError *err)
{
	struct json_object_iterator it;
	struct json_object_iterator end;

	if (!json_object_is_type(obj, json_type_object))
		return bq_fail(err, BQ_ERR_INPUT, "%s must be a JSON object {question id: %s}",
					   what, numbers ? "number" : "answer text");
	end = json_object_iter_end(obj);
	for (it = json_object_iter_begin(obj); !json_object_iter_equal(&it, &end);
		 json_object_iter_next(&it))
	{
		json_object *value = json_object_iter_peek_value(&it);
		char		id_buf[MESSAGE_ID_SIZE];
		bool		ok;

		if (numbers)
			ok = (json_object_is_type(value, json_type_int) ||
				  json_object_is_type(value, json_type_double)) &&
				!isnan(json_object_get_double(value));
		else
			ok = json_object_is_type(value, json_type_string);
		if (!ok)
			return bq_fail(err, BQ_ERR_INPUT, "%s: the value for \"%s\" is not a %s", what,
						   id_for_message(json_object_iter_peek_name(&it), id_buf),
						   numbers ? "number" : "string");
	}
	return BQ_OK;
}

/*
 * Record a question without a prediction (a copy of its id).
 */
static int
add_missing(Evaluation *ev, BqSquadEvalResult *out, const char *id, BqError *err)
{
	char	   *copy;

	if ((out->n_missing == ev->missing_cap &&
		 !bq_grow_array((void **) &out->missing_ids, &ev->missing_cap,
						  2 * ev->missing_cap + 16, sizeof(char *))) ||
		(copy = strdup(id)) == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory listing missing predictions");
	out->missing_ids[out->n_missing++] = copy;
	return BQ_OK;
}

/*
 * Find or create the slot of 'id' (first-seen order, like a dict key).
 */
static QuestionSlot *
slot_for_id(Evaluation *ev, const char *id, BqError *err)
{
	void	   *found;
	QuestionSlot *slot;

	if (lh_table_lookup_ex(ev->slot_by_id, id, &found))
		return found;
	slot = &ev->slots[ev->n_slots];
	memset(slot, 0, sizeof(*slot));
	slot->id = id;
	if (lh_table_insert(ev->slot_by_id, id, slot) != 0)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory indexing question ids");
		return NULL;
	}
	ev->n_slots++;
	return slot;
}

/*
 * get_raw_scores over the whole dataset.
 */
static int
score_all(Evaluation *ev, const BqSquadDataset *data, json_object *predictions,
		  const BqInterrupt *intr, BqSquadEvalResult *out, BqError *err)
{
	for (size_t q = 0; q < data->count; q++)
	{
		const BqSquadExample *ex = &data->examples[q];
		QuestionSlot *slot;
		json_object *pred;
		char		id_buf[MESSAGE_ID_SIZE];
		int			rc;

		if (bq_interrupted(intr))
			return bq_fail(err, BQ_ERR_CANCELLED, "SQuAD evaluation cancelled");
		if ((slot = slot_for_id(ev, ex->id, err)) == NULL)
			return err->status;
		slot->has_ans = ex->n_answers > 0;
		if (!json_object_object_get_ex(predictions, ex->id, &pred))
		{
			if ((rc = add_missing(ev, out, ex->id, err)) != BQ_OK)
				return rc;
			continue;
		}
		rc = score_question(ev, ex, json_object_get_string(pred),
							(size_t) json_object_get_string_len(pred),
							&slot->exact_raw, &slot->f1_raw, err);
		if (rc != BQ_OK)
		{
			bq_fail_detail(err, "in the prediction or gold answers of question \"%s\"",
						   id_for_message(ex->id, id_buf));
			return rc;
		}
		slot->scored = true;
		slot->pred_nonempty = json_object_get_string_len(pred) > 0;
	}
	return BQ_OK;
}

/*
 * Attach each scored question's no-answer probability (0 without a file).
 */
static int
attach_na_probs(Evaluation *ev, json_object *na_probs, BqError *err)
{
	for (size_t s = 0; s < ev->n_slots; s++)
	{
		QuestionSlot *slot = &ev->slots[s];
		json_object *value;
		char		id_buf[MESSAGE_ID_SIZE];

		if (!slot->scored || na_probs == NULL)
			continue;
		if (!json_object_object_get_ex(na_probs, slot->id, &value))
			return bq_fail(err, BQ_ERR_INPUT,
						   "the no-answer probabilities have no value for question \"%s\"",
						   id_for_message(slot->id, id_buf));
		slot->na_prob = json_object_get_double(value);
	}
	return BQ_OK;
}

/*
 * make_eval_dict over a subset of the scored questions, after
 * apply_no_ans_threshold.
 */
static BqSquadScores
thresholded_scores(const Evaluation *ev, QuestionSubset subset, double na_prob_thresh)
{
	BqSquadScores scores = {0.0, 0.0, 0};
	double		exact_sum = 0.0;
	double		f1_sum = 0.0;

	for (size_t s = 0; s < ev->n_slots; s++)
	{
		const QuestionSlot *slot = &ev->slots[s];

		if (!slot->scored ||
			(subset == WITH_ANSWERS && !slot->has_ans) ||
			(subset == WITHOUT_ANSWERS && slot->has_ans))
			continue;
		if (slot->na_prob > na_prob_thresh)
		{
			exact_sum += slot->has_ans ? 0.0 : 1.0;
			f1_sum += slot->has_ans ? 0.0 : 1.0;
		}
		else
		{
			exact_sum += slot->exact_raw;
			f1_sum += slot->f1_raw;
		}
		scores.total++;
	}
	if (scores.total > 0)
	{
		scores.exact = 100.0 * exact_sum / (double) scores.total;
		scores.f1 = 100.0 * f1_sum / (double) scores.total;
	}
	return scores;
}

/*
 * Stable order of the probabilities: by value, then by key order.
 */
static int
compare_na_entries(const void *a, const void *b)
{
	const NaProbEntry *x = a;
	const NaProbEntry *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Sort the entries of the probability object for find_best_thresh.
 */
static int
sort_na_entries(Evaluation *ev, json_object *na_probs, BqError *err)
{
	struct json_object_iterator it;
	struct json_object_iterator end = json_object_iter_end(na_probs);
	size_t		n = (size_t) json_object_object_length(na_probs);

	ev->na_entries = calloc(n > 0 ? n : 1, sizeof(NaProbEntry));
	if (ev->na_entries == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory sorting no-answer probabilities");
	for (it = json_object_iter_begin(na_probs); !json_object_iter_equal(&it, &end);
		 json_object_iter_next(&it))
	{
		NaProbEntry *e = &ev->na_entries[ev->n_na_entries];
		json_object *value = json_object_iter_peek_value(&it);
		void	   *slot;

		e->value = json_object_get_double(value);
		e->is_int = json_object_is_type(value, json_type_int);
		e->order = ev->n_na_entries++;
		if (lh_table_lookup_ex(ev->slot_by_id, json_object_iter_peek_name(&it), &slot) &&
			((QuestionSlot *) slot)->scored)
			e->slot = slot;
	}
	qsort(ev->na_entries, ev->n_na_entries, sizeof(NaProbEntry), compare_na_entries);
	return BQ_OK;
}

/*
 * find_best_thresh: start from "answer nothing" (every no-answer question
 * right) and lower the threshold past one question at a time; keep the
 * first best.  'use_f1' picks the raw score summed for answerable ones.
 */
static void
best_threshold(const Evaluation *ev, bool use_f1, double *best, double *thresh,
			   bool *thresh_is_int)
{
	double		score = 0.0;
	double		best_score;
	size_t		n_scored = 0;

	for (size_t s = 0; s < ev->n_slots; s++)
	{
		score += ev->slots[s].has_ans ? 0.0 : 1.0;
		n_scored += ev->slots[s].scored;
	}
	best_score = score;
	*thresh = 0.0;
	*thresh_is_int = false;
	for (size_t i = 0; i < ev->n_na_entries; i++)
	{
		const NaProbEntry *e = &ev->na_entries[i];

		if (e->slot == NULL)
			continue;
		if (e->slot->has_ans)
			score += use_f1 ? e->slot->f1_raw : e->slot->exact_raw;
		else
			score += e->slot->pred_nonempty ? -1.0 : 0.0;
		if (score > best_score)
		{
			best_score = score;
			*thresh = e->value;
			*thresh_is_int = e->is_int;
		}
	}
	*best = 100.0 * best_score / (double) n_scored;
}

static void
evaluation_free(Evaluation *ev)
{
	normalized_text_free(&ev->pred);
	normalized_text_free(&ev->gold);
	free(ev->slots);
	if (ev->slot_by_id != NULL)
		lh_table_free(ev->slot_by_id);
	free(ev->na_entries);
}

/*
 * The whole evaluation; see squad_eval.h.
 */
int
bq_squad_evaluate(const BqSquadDataset *data, json_object *predictions,
				  json_object *na_probs, double na_prob_thresh,
				  const BqInterrupt *intr, BqSquadEvalResult *out, BqError *err)
{
	Evaluation	ev;
	int			rc;

	memset(out, 0, sizeof(*out));
	memset(&ev, 0, sizeof(ev));
	if ((rc = check_object_values(predictions, "predictions", false, err)) != BQ_OK ||
		(na_probs != NULL &&
		 (rc = check_object_values(na_probs, "no-answer probabilities", true, err)) != BQ_OK))
		return rc;

	ev.slots = calloc(data->count > 0 ? data->count : 1, sizeof(QuestionSlot));
	ev.slot_by_id = lh_kchar_table_new(data->count < (1 << 20) ? (int) data->count + 16 : 1 << 20,
									   NULL);
	if (ev.slots == NULL || ev.slot_by_id == NULL)
		rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory evaluating predictions");
	if (rc == BQ_OK)
		rc = score_all(&ev, data, predictions, intr, out, err);
	if (rc == BQ_OK)
		rc = attach_na_probs(&ev, na_probs, err);
	if (rc == BQ_OK)
	{
		out->all = thresholded_scores(&ev, ALL_QUESTIONS, na_prob_thresh);
		out->has_ans = thresholded_scores(&ev, WITH_ANSWERS, na_prob_thresh);
		out->no_ans = thresholded_scores(&ev, WITHOUT_ANSWERS, na_prob_thresh);
		if (out->all.total == 0)
			rc = bq_fail(err, BQ_ERR_INPUT,
						 "nothing to evaluate: none of the %zu questions has a prediction",
						 data->count);
	}
	if (rc == BQ_OK && na_probs != NULL)
	{
		rc = sort_na_entries(&ev, na_probs, err);
		if (rc == BQ_OK)
		{
			out->has_best = true;
			best_threshold(&ev, false, &out->best_exact, &out->best_exact_thresh,
						   &out->best_exact_thresh_is_int);
			best_threshold(&ev, true, &out->best_f1, &out->best_f1_thresh,
						   &out->best_f1_thresh_is_int);
		}
	}
	evaluation_free(&ev);
	if (rc != BQ_OK)
		bq_squad_eval_result_free(out);
	return rc;
}

/*
 * Parse the three documents, then evaluate.
 */
int
bq_squad_evaluate_texts(const char *dataset_json, size_t dataset_len,
						const char *predictions_json, size_t predictions_len,
						const char *na_probs_json, size_t na_probs_len,
						double na_prob_thresh, const BqInterrupt *intr,
						BqSquadEvalResult *out, BqError *err)
{
	BqSquadDataset dataset = {0};
	json_object *predictions = NULL;
	json_object *na_probs = NULL;
	int			rc;

	if ((rc = bq_squad_dataset_parse(dataset_json, dataset_len, &dataset, err)) == BQ_OK)
	{
		predictions = bq_json_parse(predictions_json, predictions_len, "predictions", err);
		if (predictions == NULL)
			rc = err->status;
		else if (na_probs_json != NULL &&
				 (na_probs = bq_json_parse(na_probs_json, na_probs_len, "na_probs", err)) == NULL)
			rc = err->status;
		else
			rc = bq_squad_evaluate(&dataset, predictions, na_probs, na_prob_thresh,
								   intr, out, err);
	}
	json_object_put(na_probs);
	json_object_put(predictions);
	bq_squad_dataset_free(&dataset);
	return rc;
}

/*
 * Append '"key": value' to the report being built in 'buf'.
 */
static void
append_member(char *buf, size_t size, bool pretty, const char *key, const char *value)
{
	size_t		used = strlen(buf);
	const char *separator = used <= 1 ? "" : pretty ? "," : ", ";

	snprintf(buf + used, size - used, "%s%s\"%s\": %s", separator, pretty ? "\n  " : "",
			 key, value);
}

/*
 * Append the three members of a score set under 'prefix' (may be "").
 */
static void
append_scores(char *buf, size_t size, bool pretty, const char *prefix,
			  const BqSquadScores *scores)
{
	char		key[32];
	char		value[BQ_DOUBLE_TEXT_SIZE];

	bq_format_double(scores->exact, value);
	snprintf(key, sizeof(key), "%sexact", prefix);
	append_member(buf, size, pretty, key, value);
	bq_format_double(scores->f1, value);
	snprintf(key, sizeof(key), "%sf1", prefix);
	append_member(buf, size, pretty, key, value);
	snprintf(value, sizeof(value), "%zu", scores->total);
	snprintf(key, sizeof(key), "%stotal", prefix);
	append_member(buf, size, pretty, key, value);
}

/*
 * Append a threshold: a JSON integer stays an integer, as Python keeps it.
 */
static void
append_threshold(char *buf, size_t size, bool pretty, const char *key, double thresh,
				 bool is_int)
{
	char		value[BQ_DOUBLE_TEXT_SIZE];

	if (is_int)
		snprintf(value, sizeof(value), "%.0f", thresh);
	else
		bq_format_double(thresh, value);
	append_member(buf, size, pretty, key, value);
}

/*
 * Render the result like json.dumps(out_eval[, indent=2]).
 */
char *
bq_squad_eval_to_json(const BqSquadEvalResult *result, bool pretty)
{
	/* 13 members of at most ~70 bytes each */
	char		buf[1536] = "{";
	char		value[BQ_DOUBLE_TEXT_SIZE];

	append_scores(buf, sizeof(buf), pretty, "", &result->all);
	if (result->has_ans.total > 0)
		append_scores(buf, sizeof(buf), pretty, "HasAns_", &result->has_ans);
	if (result->no_ans.total > 0)
		append_scores(buf, sizeof(buf), pretty, "NoAns_", &result->no_ans);
	if (result->has_best)
	{
		bq_format_double(result->best_exact, value);
		append_member(buf, sizeof(buf), pretty, "best_exact", value);
		append_threshold(buf, sizeof(buf), pretty, "best_exact_thresh",
						 result->best_exact_thresh, result->best_exact_thresh_is_int);
		bq_format_double(result->best_f1, value);
		append_member(buf, sizeof(buf), pretty, "best_f1", value);
		append_threshold(buf, sizeof(buf), pretty, "best_f1_thresh",
						 result->best_f1_thresh, result->best_f1_thresh_is_int);
	}
	strncat(buf, pretty ? "\n}" : "}", sizeof(buf) - strlen(buf) - 1);
	return strdup(buf);
}

void
bq_squad_eval_result_free(BqSquadEvalResult *result)
{
	for (size_t i = 0; i < result->n_missing; i++)
		free(result->missing_ids[i]);
	free(result->missing_ids);
	memset(result, 0, sizeof(*result));
}

/*
 * normalize_answer for callers outside the evaluation (tests, the SQL
 * function): the tokens joined by single spaces, as UTF-8.
 */
char *
bq_squad_normalize_answer(const char *text, size_t len, size_t *out_len, BqError *err)
{
	NormalizedText nt;
	char	   *result = NULL;
	size_t		size = 1;

	memset(&nt, 0, sizeof(nt));
	if (normalize_text(&nt, text, len, err) != BQ_OK)
	{
		normalized_text_free(&nt);
		return NULL;
	}
	for (size_t t = 0; t < nt.n_tokens; t++)
		size += nt.tokens[t].len * U8_MAX_LENGTH + 1;
	result = malloc(size);
	if (result == NULL)
		bq_fail(err, BQ_ERR_NOMEM, "out of memory normalizing an answer");
	else
	{
		size_t		used = 0;

		for (size_t t = 0; t < nt.n_tokens; t++)
		{
			if (t > 0)
				result[used++] = ' ';
			for (size_t i = 0; i < nt.tokens[t].len; i++)
				U8_APPEND_UNSAFE(result, used, nt.tokens[t].chars[i]);
		}
		result[used] = '\0';
		*out_len = used;
	}
	normalized_text_free(&nt);
	return result;
}

/*
 * compute_exact and compute_f1 on one pair.
 */
int
bq_squad_compare_answers(const char *gold, size_t gold_len, const char *pred, size_t pred_len,
						 int *exact, double *f1, BqError *err)
{
	NormalizedText g;
	NormalizedText p;
	int			rc;

	memset(&g, 0, sizeof(g));
	memset(&p, 0, sizeof(p));
	if ((rc = normalize_text(&g, gold, gold_len, err)) == BQ_OK &&
		(rc = normalize_text(&p, pred, pred_len, err)) == BQ_OK)
	{
		*exact = tokens_equal(&g, &p);
		*f1 = token_f1(&g, &p);
	}
	normalized_text_free(&g);
	normalized_text_free(&p);
	return rc;
}
