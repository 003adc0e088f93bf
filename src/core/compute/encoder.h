/*
 * encoder.h - the BERT encoder forward pass and QA head.
 *
 * An encoder owns the workspace for one caller (sized by the longest
 * sequence seen, reused across calls); it borrows the model's weights.
 */
#ifndef BQ_ENCODER_H
#define BQ_ENCODER_H

#include <stdint.h>

#include "bq_error.h"
#include "compute.h"
#include "model.h"

typedef struct BqEncoder BqEncoder;

/*
 * An encoder running its projections in 'precision' where the engine can
 * (see compute.h), in fp32 otherwise; bq_encoder_precision tells which.
 */
BqEncoder  *bq_encoder_new(const BqModel *model, BqPrecision precision, BqError *err);
void		bq_encoder_free(BqEncoder *enc);

/* The precision the encoder's projections run in. */
BqPrecision bq_encoder_precision(const BqEncoder *enc);

/*
 * Compute start and end logits for 'count' sequences at once.  Sequence b
 * has lengths[b] tokens, ids input_ids[b][...] and token_type_ids[b][...];
 * its logits go to start_logits[b][0..lengths[b]) and end_logits[b][...].
 * Sequences are packed without padding, and a sequence's logits are the
 * same, to the bit, whatever sequences share its call.  Checks 'intr'
 * between layers.
 */
int			bq_encoder_run(BqEncoder *enc, int count,
						   const int32_t *const *input_ids,
						   const int32_t *const *token_type_ids,
						   const int32_t *lengths,
						   float *const *start_logits, float *const *end_logits,
						   const BqInterrupt *intr, BqError *err);

/* Matrix-multiply FLOPs of one forward pass over a sequence of 'seq_len'. */
double		bq_encoder_flops(const BqConfig *config, int seq_len);

#endif							/* BQ_ENCODER_H */
