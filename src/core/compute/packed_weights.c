/*
 * packed_weights.c - packing a model's linear layers for oneDNN, once.
 *
 * Per layer there are four packed matrices: Q/K/V fused into one [3H][H]
 * weight (so one product computes all three), attention output, FFN in
 * and FFN out, each stored as a flat tensor "layer.<i>.<name>" of the
 * packed size; then every layer's fused Q/K/V bias "layer.<i>.qkv_bias"
 * [3H]; then, for int8, every layer's channel scales
 * "layer.<i>.<name>_scale" [n].  The other biases are the model's own.
 */
#include "packed_weights.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aligned_memory.h"
#include "model_config.h"
#include "weight_cache.h"
#include "onednn.h"
#include "safetensors.h"

/* The packed matrices of a layer, in file order. */
enum
{
	QKV,
	ATTN_OUT,
	FFN_IN,
	FFN_OUT,
	LINEARS_PER_LAYER
};

static const char *const linear_names[LINEARS_PER_LAYER] = {"qkv", "attn_out", "ffn_in", "ffn_out"};

/* Tensors are placed on 64-byte boundaries in private memory, as in the file. */
#define ALIGNMENT 64

/* What every layer's packed tensors look like. */
typedef struct PackPlan
{
	BqPrecision precision;
	int			k[LINEARS_PER_LAYER];
	int			n[LINEARS_PER_LAYER];
	size_t		bytes[LINEARS_PER_LAYER];
	uint64_t	layout_hash;	/* of all four layouts */
	int			num_layers;
	int			hidden;			/* H */
	int			scales_per_layer;	/* int8: the four linears' n summed; else 0 */
} PackPlan;

static int
make_plan(const BqConfig *c, BqPrecision precision, PackPlan *plan, BqError *err)
{
	int			h = c->hidden_size;
	int			inter = c->intermediate_size;
	const int	k[LINEARS_PER_LAYER] = {h, h, h, inter};
	const int	n[LINEARS_PER_LAYER] = {3 * h, h, inter, h};

	plan->precision = precision;
	plan->layout_hash = 0;
	plan->num_layers = c->num_layers;
	plan->hidden = h;
	plan->scales_per_layer = 0;
	for (int j = 0; j < LINEARS_PER_LAYER; j++)
	{
		uint64_t	hash;
		int			rc;

		plan->k[j] = k[j];
		plan->n[j] = n[j];
		if ((rc = bq_onednn_packed_size(k[j], n[j], precision, &plan->bytes[j], &hash,
										err)) != BQ_OK)
			return rc;
		if (plan->bytes[j] % sizeof(float) != 0)
			return bq_fail(err, BQ_ERR_UNSUPPORTED,
						   "oneDNN's packed layout of a %d x %d weight has an odd size", k[j], n[j]);
		plan->layout_hash = plan->layout_hash * 31 + hash;
		if (precision == BQ_PRECISION_INT8)
			plan->scales_per_layer += n[j];
	}
	return BQ_OK;
}

/* Offset of linear j's scales within a layer's scales. */
static int
scales_offset(const PackPlan *plan, int j)
{
	int			offset = 0;

	for (int i = 0; i < j; i++)
		offset += plan->n[i];
	return offset;
}

/*
 * Pack linear 'j' of layer 'l' into 'out' (its int8 scales into 'scales');
 * 'scratch' holds the fused Q/K/V source ([3H][H] floats).
 */
static int
pack_linear(const BqModel *model, const PackPlan *plan, int l, int j, float *scratch,
			void *out, float *scales, BqError *err)
{
	const BqLayerWeights *w = &model->weights.layers[l];
	size_t		square = (size_t) plan->hidden * (size_t) plan->hidden;
	const float *source;

	switch (j)
	{
		case QKV:
			memcpy(scratch, w->query_w, square * sizeof(float));
			memcpy(scratch + square, w->key_w, square * sizeof(float));
			memcpy(scratch + 2 * square, w->value_w, square * sizeof(float));
			source = scratch;
			break;
		case ATTN_OUT:
			source = w->attn_out_w;
			break;
		case FFN_IN:
			source = w->ffn_in_w;
			break;
		default:
			source = w->ffn_out_w;
			break;
	}
	return bq_onednn_pack(source, plan->k[j], plan->n[j], plan->precision, out, scales, err);
}

/* The fused bias [bq; bk; bv] of layer 'l' into 'out'. */
static void
fuse_qkv_bias(const BqModel *model, int l, float *out)
{
	const BqLayerWeights *w = &model->weights.layers[l];
	size_t		h = (size_t) model->config.hidden_size;

	memcpy(out, w->query_b, h * sizeof(float));
	memcpy(out + h, w->key_b, h * sizeof(float));
	memcpy(out + 2 * h, w->value_b, h * sizeof(float));
}

static size_t
aligned(size_t bytes)
{
	return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
}

/*
 * Point layer 'l' at its packed matrices, fused bias and (int8) scales; the
 * other biases are the model's.
 */
static void
bind_layer(BqPackedWeights *packed, const BqModel *model, const PackPlan *plan, int l,
		   const void *const *matrices, const float *qkv_bias, const float *scales)
{
	const BqLayerWeights *w = &model->weights.layers[l];
	BqPackedLinear *linears[LINEARS_PER_LAYER] = {
		&packed->layers[l].qkv, &packed->layers[l].attn_out,
		&packed->layers[l].ffn_in, &packed->layers[l].ffn_out,
	};
	const float *biases[LINEARS_PER_LAYER] = {qkv_bias, w->attn_out_b, w->ffn_in_b, w->ffn_out_b};

	for (int j = 0; j < LINEARS_PER_LAYER; j++)
	{
		linears[j]->weights = matrices[j];
		linears[j]->bias = biases[j];
		linears[j]->scales = scales != NULL ? scales + scales_offset(plan, j) : NULL;
		linears[j]->k = plan->k[j];
		linears[j]->n = plan->n[j];
	}
}

/*
 * Pack everything into one private, aligned block: per layer, the four
 * matrices, the fused bias and the scales.
 */
static int
pack_private(BqPackedWeights *packed, const BqModel *model, const PackPlan *plan,
			 float *scratch, BqError *err)
{
	size_t		bias_bytes = aligned((size_t) 3 * plan->hidden * sizeof(float));
	size_t		scales_bytes = aligned((size_t) plan->scales_per_layer * sizeof(float));
	size_t		per_layer = bias_bytes + scales_bytes;
	unsigned char *block;

	for (int j = 0; j < LINEARS_PER_LAYER; j++)
		per_layer += aligned(plan->bytes[j]);
	packed->bytes = per_layer * (size_t) plan->num_layers;
	block = bq_alloc_aligned(packed->bytes);
	if (block == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory packing the weights of \"%s\"",
					   model->path);
	packed->private_data = block;
	for (int l = 0; l < plan->num_layers; l++)
	{
		const void *matrices[LINEARS_PER_LAYER];
		float	   *qkv_bias = (float *) block;
		float	   *scales = plan->scales_per_layer > 0 ? (float *) (block + bias_bytes) : NULL;
		int			rc;

		fuse_qkv_bias(model, l, qkv_bias);
		block += bias_bytes + scales_bytes;
		for (int j = 0; j < LINEARS_PER_LAYER; j++)
		{
			if ((rc = pack_linear(model, plan, l, j, scratch, block,
								  scales != NULL ? scales + scales_offset(plan, j) : NULL,
								  err)) != BQ_OK)
				return rc;
			matrices[j] = block;
			block += aligned(plan->bytes[j]);
		}
		bind_layer(packed, model, plan, l, matrices, qkv_bias, scales);
	}
	return BQ_OK;
}

/* Tensors in the file: matrices, fused biases, then (int8) scales. */
static int
file_tensor_count(const PackPlan *plan)
{
	return plan->num_layers * (LINEARS_PER_LAYER + 1 +
							   (plan->scales_per_layer > 0 ? LINEARS_PER_LAYER : 0));
}

/*
 * The file's tensors in order; names go to 'names' (one 40-char slot each).
 */
static void
file_specs(const PackPlan *plan, BqTensorSpec *specs, char (*names)[40])
{
	int			t = 0;

	for (int l = 0; l < plan->num_layers; l++)
	{
		for (int j = 0; j < LINEARS_PER_LAYER; j++, t++)
		{
			snprintf(names[t], sizeof(names[t]), "layer.%d.%s", l, linear_names[j]);
			specs[t] = (BqTensorSpec) {names[t], "F32", 1, {(int64_t) (plan->bytes[j] / sizeof(float))}};
		}
	}
	for (int l = 0; l < plan->num_layers; l++, t++)
	{
		snprintf(names[t], sizeof(names[t]), "layer.%d.qkv_bias", l);
		specs[t] = (BqTensorSpec) {names[t], "F32", 1, {(int64_t) 3 * plan->hidden}};
	}
	for (int l = 0; plan->scales_per_layer > 0 && l < plan->num_layers; l++)
	{
		for (int j = 0; j < LINEARS_PER_LAYER; j++, t++)
		{
			snprintf(names[t], sizeof(names[t]), "layer.%d.%s_scale", l, linear_names[j]);
			specs[t] = (BqTensorSpec) {names[t], "F32", 1, {plan->n[j]}};
		}
	}
}

/* What write_file packs: the model, the plan and the file's tensors. */
typedef struct PackJob
{
	const BqModel *model;
	const PackPlan *plan;
	const BqTensorSpec *specs;
	int			count;
	float	   *scratch;		/* [3H][H] */
} PackJob;

/*
 * Write the packed file 'path' (atomically, see bq_safetensors_create); a
 * BqCacheWriter whose 'arg' is a PackJob.
 */
static int
write_file(const char *path, void *arg, BqError *err)
{
	const PackJob *job = arg;
	const BqModel *model = job->model;
	const PackPlan *plan = job->plan;
	float	   *scratch = job->scratch;
	const char *const metadata[] = {"format", "bertqa packed weights",
		"precision", bq_precision_name(plan->precision),
	"onednn", bq_onednn_version(), "isa", bq_onednn_isa(), NULL};
	size_t		largest = (size_t) 3 * plan->hidden * sizeof(float);
	size_t		all_scales = (size_t) plan->scales_per_layer * plan->num_layers;
	float	   *scales = all_scales > 0 ? malloc(all_scales * sizeof(float)) : NULL;
	void	   *buffer;
	BqSafetensorsWriter *w = NULL;
	int			rc = BQ_OK;

	for (int j = 0; j < LINEARS_PER_LAYER; j++)
		if (plan->bytes[j] > largest)
			largest = plan->bytes[j];
	buffer = bq_alloc_aligned(largest);
	if (buffer == NULL || (all_scales > 0 && scales == NULL))
		rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", path);
	else if ((w = bq_safetensors_create(path, job->specs, job->count, metadata, err)) == NULL)
		rc = err->status;
	for (int l = 0; rc == BQ_OK && l < plan->num_layers; l++)
	{
		for (int j = 0; rc == BQ_OK && j < LINEARS_PER_LAYER; j++)
		{
			float	   *layer_scales = scales != NULL ?
				scales + (size_t) l * plan->scales_per_layer + scales_offset(plan, j) : NULL;

			if ((rc = pack_linear(model, plan, l, j, scratch, buffer, layer_scales, err)) == BQ_OK)
				rc = bq_safetensors_append(w, buffer, plan->bytes[j], err);
		}
	}
	for (int l = 0; rc == BQ_OK && l < plan->num_layers; l++)
	{
		fuse_qkv_bias(model, l, buffer);
		rc = bq_safetensors_append(w, buffer, (size_t) 3 * plan->hidden * sizeof(float), err);
	}
	if (rc == BQ_OK && scales != NULL)
		rc = bq_safetensors_append(w, scales, all_scales * sizeof(float), err);
	free(buffer);
	free(scales);
	if (rc != BQ_OK)
	{
		bq_safetensors_abort(w);
		return rc;
	}
	return bq_safetensors_finish(w, err);
}

/*
 * A packed file is read only by the oneDNN that wrote it: the name already
 * holds the version, and the file's own record of it must agree (a file
 * copied from another server, or renamed, is refused).
 */
static int
check_packed_here(const BqSafetensors *file, BqError *err)
{
	char	   *writer = bq_safetensors_metadata(file, "onednn");
	int			rc = BQ_OK;

	if (writer == NULL || strcmp(writer, bq_onednn_version()) != 0)
		rc = bq_fail(err, BQ_ERR_FORMAT,
					 "packed weight file \"%s\" was written by oneDNN %s, not by the oneDNN %s "
					 "running here; delete it", file->name, writer != NULL ? writer : "(unknown)",
					 bq_onednn_version());
	free(writer);
	return rc;
}

/*
 * Map the packed file (writing it first if it does not exist), check that
 * this oneDNN wrote it and that it is the one 'specs' describes, and bind
 * the layers to it.
 */
static int
pack_shared(BqPackedWeights *packed, const BqModel *model, const PackPlan *plan,
			const char *cache_dir, float *scratch, BqError *err)
{
	int			count = file_tensor_count(plan);
	int			matrices_end = plan->num_layers * LINEARS_PER_LAYER;
	BqTensorSpec *specs = calloc((size_t) count, sizeof(BqTensorSpec));
	char		(*names)[40] = calloc((size_t) count, sizeof(*names));
	char		suffix[128];
	PackJob		job = {model, plan, specs, count, scratch};
	BqSafetensors *file = NULL;
	int			rc;

	if (specs == NULL || names == NULL)
		rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory packing the weights of \"%s\"", model->path);
	else if ((rc = bq_cache_dir_make(cache_dir, err)) == BQ_OK &&
			 (rc = bq_cache_record_source(cache_dir, model->file->name, &model->file->identity,
										  err)) == BQ_OK)
	{
		file_specs(plan, specs, names);
		snprintf(suffix, sizeof(suffix), ".packed-%s-onednn%s-%016" PRIx64 ".safetensors",
				 bq_precision_name(plan->precision), bq_onednn_version(), plan->layout_hash);
		packed->path = bq_cache_path(cache_dir, model->file->name, &model->file->identity, suffix);
		if (packed->path == NULL)
			rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory packing the weights of \"%s\"",
						 model->path);
	}
	if (rc == BQ_OK &&
		(file = bq_cache_open(packed->path, write_file, &job, err)) == NULL)
		rc = err->status;
	if (rc == BQ_OK)
		rc = check_packed_here(file, err);
	for (int t = 0; rc == BQ_OK && t < count; t++)
	{
		if (t >= file->count || strcmp(file->tensors[t].name, specs[t].name) != 0 ||
			file->tensors[t].dtype != BQ_DTYPE_F32 || file->tensors[t].elements != specs[t].shape[0])
			rc = bq_fail(err, BQ_ERR_FORMAT,
						 "packed weight file \"%s\" does not match the model; delete it",
						 packed->path);
	}
	if (rc == BQ_OK)
	{
		packed->file = file;
		packed->bytes = file->size;
		for (int l = 0; l < plan->num_layers; l++)
		{
			const void *matrices[LINEARS_PER_LAYER];
			int			first_scale = matrices_end + plan->num_layers + l * LINEARS_PER_LAYER;

			for (int j = 0; j < LINEARS_PER_LAYER; j++)
				matrices[j] = file->tensors[l * LINEARS_PER_LAYER + j].data;
			/* a layer's four scale tensors follow one another: bind from the first */
			bind_layer(packed, model, plan, l, matrices,
					   (const float *) file->tensors[matrices_end + l].data,
					   plan->scales_per_layer > 0 ?
					   (const float *) file->tensors[first_scale].data : NULL);
		}
	}
	else
		bq_safetensors_close(file);
	free(specs);
	free(names);
	return rc;
}

BqPackedWeights *
bq_packed_weights_open(const BqModel *model, const char *cache_dir, BqPrecision precision,
					   BqError *err)
{
	PackPlan	plan;
	BqPackedWeights *packed = calloc(1, sizeof(BqPackedWeights));
	float	   *scratch = NULL;
	int			rc;

	if (packed == NULL ||
		(packed->layers = calloc((size_t) model->config.num_layers, sizeof(BqPackedLayer))) == NULL ||
		(scratch = malloc((size_t) 3 * model->config.hidden_size *
						  model->config.hidden_size * sizeof(float))) == NULL)
		rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory packing the weights of \"%s\"", model->path);
	else if ((rc = make_plan(&model->config, precision, &plan, err)) == BQ_OK)
	{
		packed->num_layers = plan.num_layers;
		rc = cache_dir != NULL ? pack_shared(packed, model, &plan, cache_dir, scratch, err) :
			pack_private(packed, model, &plan, scratch, err);
	}
	free(scratch);
	if (rc != BQ_OK)
	{
		bq_packed_weights_free(packed);
		return NULL;
	}
	return packed;
}

void
bq_packed_weights_free(BqPackedWeights *packed)
{
	if (packed == NULL)
		return;
	bq_safetensors_close(packed->file);
	free(packed->private_data);
	free(packed->path);
	free(packed->layers);
	free(packed);
}
