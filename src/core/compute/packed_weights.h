/*
 * packed_weights.h - a model's linear-layer weights in oneDNN's packed
 * layout, made once and shared.
 *
 * With a cache directory they are written once into a safetensors file
 * there (named from the model file's identity and the layout's hash) and
 * mapped read-only and shared, so every process running the model uses one
 * physical copy, as with the weights themselves; without one they are
 * packed into private memory.
 */
#ifndef BQ_PACKED_WEIGHTS_H
#define BQ_PACKED_WEIGHTS_H

#include "bq_error.h"
#include "compute.h"
#include "model.h"

/* One linear layer: packed [k][n] weight and its bias. */
typedef struct BqPackedLinear
{
	const void *weights;		/* oneDNN's layout, see onednn.h */
	const float *bias;			/* [n] */
	const float *scales;		/* [n]: int8 channel scales; NULL otherwise */
	int			k;				/* inputs */
	int			n;				/* outputs */
} BqPackedLinear;

typedef struct BqPackedLayer
{
	BqPackedLinear qkv;			/* k = H, n = 3H: query, key and value side by side */
	BqPackedLinear attn_out;	/* k = H, n = H */
	BqPackedLinear ffn_in;		/* k = H, n = I */
	BqPackedLinear ffn_out;		/* k = I, n = H */
} BqPackedLayer;

typedef struct BqPackedWeights
{
	BqPackedLayer *layers;		/* [num_layers] */
	int			num_layers;
	char	   *path;			/* the shared file, or NULL when private */
	size_t		bytes;			/* packed weights and fused biases */
	struct BqSafetensors *file; /* the mapped file, or NULL */
	void	   *private_data;	/* the private block, or NULL */
} BqPackedWeights;

/*
 * Pack 'model's weights in 'precision' (into 'cache_dir' when not NULL; see
 * above); NULL on failure with 'err' filled.
 */
BqPackedWeights *bq_packed_weights_open(const BqModel *model, const char *cache_dir,
										BqPrecision precision, BqError *err);
void		bq_packed_weights_free(BqPackedWeights *packed);

#endif							/* BQ_PACKED_WEIGHTS_H */
