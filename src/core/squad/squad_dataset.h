/*
 * squad_dataset.h - reading SQuAD-format JSON files (v1.1 and v2.0 layout):
 * {"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
 * "answers": [{"text", "answer_start"}], "is_impossible"}]}]}]}
 *
 * The dataset is flattened into one example per question, in file order.
 */
#ifndef BQ_SQUAD_DATASET_H
#define BQ_SQUAD_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "bq_error.h"

typedef struct BqSquadExample
{
	const char *id;
	const char *title;			/* the article's title, "" when absent */
	const char *context;		/* shared by the questions of one paragraph */
	const char *question;
	const char *const *answers;	/* [n_answers] gold answer texts, file order */
	size_t		n_answers;
	bool		is_impossible;
} BqSquadExample;

typedef struct BqSquadDataset
{
	BqSquadExample *examples;	/* [count] */
	size_t		count;
	void	   *storage;		/* owns every string above */
} BqSquadDataset;

/* Parse a SQuAD file; on failure 'out' is left empty and 'err' says why. */
int			bq_squad_dataset_load(const char *path, BqSquadDataset *out, BqError *err);
int			bq_squad_dataset_parse(const char *json, size_t len, BqSquadDataset *out,
								   BqError *err);
void		bq_squad_dataset_free(BqSquadDataset *dataset);

#endif							/* BQ_SQUAD_DATASET_H */
