/*
 * heads64_model.h - the model with heads of 64 that test/run makes for the
 * C unit tests (BQ_HEADS64_MODEL: 'bertqa init-model', random weights),
 * whose attention runs in bertqa's AVX-512 kernel; the tiny fixture's
 * heads of 16 never do.
 */
#ifndef BQ_HEADS64_MODEL_H
#define BQ_HEADS64_MODEL_H

#include <stdlib.h>

#include "model.h"
#include "unit.h"

/*
 * Load it; NULL, the test skipped, where BQ_HEADS64_MODEL names none, or
 * failed where it does not load or its heads are not 64 wide.
 */
static BqModel *
heads64_model_load(void)
{
	const char *dir = getenv("BQ_HEADS64_MODEL");
	BqModel    *m;
	BqError		err;

	if (dir == NULL)
	{
		unit_skip("BQ_HEADS64_MODEL names no model (test/run makes one)");
		return NULL;
	}
	m = bq_model_load(dir, &err);
	CHECK(m != NULL);
	if (m != NULL && m->config.hidden_size / m->config.num_heads != 64)
	{
		CHECK_INT_EQ(m->config.hidden_size / m->config.num_heads, 64);
		bq_model_free(m);
		m = NULL;
	}
	return m;
}

#endif							/* BQ_HEADS64_MODEL_H */
