/*
 * squad_eval.h - the official SQuAD v2.0 evaluation (evaluate-v2.0.py):
 * exact match and token F1 after answer normalization, the no-answer
 * threshold, HasAns/NoAns breakdown and the best-threshold search.
 *
 * Results equal the official script's run by Python 3.11 or earlier bit for
 * bit (Python 3.12 sums floats with compensation, which moves the last digit).
 * Unlike the script, questions without a prediction are left out of every
 * figure and reported instead of crashing the HasAns/NoAns breakdown.
 */
#ifndef BQ_SQUAD_EVAL_H
#define BQ_SQUAD_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "bq_error.h"
#include "squad_dataset.h"

/* json-c's object type, named by its tag so that this header does not pull
 * in json-c (whose typedef clashes with PostgreSQL's json_object()). */
struct json_object;

/* Exact match and F1 in percent over 'total' questions. */
typedef struct BqSquadScores
{
	double		exact;
	double		f1;
	size_t		total;			/* 0: no such question was scored */
} BqSquadScores;

typedef struct BqSquadEvalResult
{
	BqSquadScores all;			/* exact, f1, total */
	BqSquadScores has_ans;		/* HasAns_*: questions with gold answers */
	BqSquadScores no_ans;		/* NoAns_*: questions without */

	/* best_*: set only when no-answer probabilities were given */
	bool		has_best;
	double		best_exact;
	double		best_exact_thresh;
	double		best_f1;
	double		best_f1_thresh;
	/* a threshold read from a JSON integer prints as one, as in Python */
	bool		best_exact_thresh_is_int;
	bool		best_f1_thresh_is_int;

	char	  **missing_ids;	/* [n_missing] questions without a prediction,
								 * dataset order */
	size_t		n_missing;
} BqSquadEvalResult;

/*
 * Score 'predictions' ({question id: answer text}, "" = no answer) against
 * 'data'.  'na_probs' ({question id: number}, NULL when absent) are the
 * model's no-answer probabilities: a question whose value exceeds
 * 'na_prob_thresh' counts as answered "", and the best thresholds are
 * searched.  Without them every probability is 0.  The official default
 * threshold is 1.0.  Fails (BQ_ERR_INPUT) on a non-string prediction, a
 * non-numeric probability, a scored question missing from 'na_probs', or
 * when no question has a prediction.
 */
int			bq_squad_evaluate(const BqSquadDataset *data, struct json_object *predictions,
							  struct json_object *na_probs, double na_prob_thresh,
							  const BqInterrupt *intr, BqSquadEvalResult *out,
							  BqError *err);

/*
 * bq_squad_evaluate on documents held as JSON text (a SQuAD dataset, the
 * predictions object, and the no-answer probabilities or NULL), for callers
 * that do not use json-c themselves.
 */
int			bq_squad_evaluate_texts(const char *dataset_json, size_t dataset_len,
									const char *predictions_json, size_t predictions_len,
									const char *na_probs_json, size_t na_probs_len,
									double na_prob_thresh, const BqInterrupt *intr,
									BqSquadEvalResult *out, BqError *err);

/*
 * The result as the official script prints it: a JSON object with keys
 * exact, f1, total, HasAns_*, NoAns_* (when those sets are not empty), then
 * best_* (when probabilities were given), numbers as Python writes them.
 * 'pretty' gives json.dumps(indent=2) layout (what the script prints),
 * otherwise json.dump's one line (what it writes to --out-file).  Returns a
 * malloc'd string, NULL when out of memory.
 */
char	   *bq_squad_eval_to_json(const BqSquadEvalResult *result, bool pretty);

void		bq_squad_eval_result_free(BqSquadEvalResult *result);

/*
 * The script's normalize_answer on UTF-8 text: lowercase, drop ASCII
 * punctuation, drop the words a/an/the, collapse whitespace.  Returns a
 * malloc'd NUL-terminated UTF-8 string of *out_len bytes (NUL characters of
 * the input survive normalization), or NULL with 'err' set (invalid UTF-8,
 * no memory).
 */
char	   *bq_squad_normalize_answer(const char *text, size_t len, size_t *out_len,
									  BqError *err);

/* The script's compute_exact and compute_f1 for one gold/predicted pair. */
int			bq_squad_compare_answers(const char *gold, size_t gold_len,
									 const char *pred, size_t pred_len,
									 int *exact, double *f1, BqError *err);

#endif							/* BQ_SQUAD_EVAL_H */
