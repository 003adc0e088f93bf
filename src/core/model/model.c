/*
 * model.c - loading a question-answering model directory (weights in
 * model.safetensors or pytorch_model.bin) or NeMo archive (unpacked once
 * into such a directory by nemo_archive.c).
 *
 * The weights are bound by name, each family's own, to the BqWeights
 * pointers.  F32 tensors are used in place, inside the shared read-only
 * mapping of model.safetensors, so processes loading the same file share
 * one copy in the page cache.  F16/BF16 tensors (and F32 ones that are not
 * 4-byte aligned) are widened to fp32 once: into a cache file that is then
 * mapped the same way, or, without a cache directory, into private memory.
 */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aligned_memory.h"
#include "model_config.h"
#include "weight_cache.h"
#include "model_tokenizer.h"
#include "nemo_archive.h"
#include "safetensors.h"
#include "torch_checkpoint.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "F32 weights are used in place, which needs a little-endian CPU"
#endif

/* Converted tensors start on 64-byte boundaries in the private copy. */
#define CONVERTED_ALIGN_FLOATS 16

/* Tensors per transformer layer; the most outside the layers; the QA head's. */
#define LAYER_TENSORS 16
#define MAX_EMBEDDING_TENSORS 7
#define QA_TENSORS 2

/* A dimension of a weight, in terms of the config. */
typedef enum WeightDim
{
	DIM_NONE,					/* absent: the tensor is a vector */
	DIM_EMBEDDING,
	DIM_HIDDEN,
	DIM_INTERMEDIATE,
	DIM_VOCAB,
	DIM_POSITIONS,
	DIM_TOKEN_TYPES,
	DIM_TWO						/* start and end */
} WeightDim;

/* Where a tensor goes (offset of its pointer in its struct) and its shape. */
typedef struct WeightEntry
{
	const char *name;
	size_t		offset;
	WeightDim	rows;
	WeightDim	cols;
} WeightEntry;

/*
 * Outside the layers, named after the family's prefix ("bert.", ...): the
 * token type table where the model has token types, the projection where
 * the embeddings' width is not H (ELECTRA).
 */
static const WeightEntry embedding_entries[MAX_EMBEDDING_TENSORS] = {
	{"embeddings.word_embeddings.weight", offsetof(BqWeights, word_embeddings), DIM_VOCAB, DIM_EMBEDDING},
	{"embeddings.position_embeddings.weight", offsetof(BqWeights, position_embeddings), DIM_POSITIONS, DIM_EMBEDDING},
	{"embeddings.token_type_embeddings.weight", offsetof(BqWeights, token_type_embeddings), DIM_TOKEN_TYPES, DIM_EMBEDDING},
	{"embeddings.LayerNorm.weight", offsetof(BqWeights, embed_ln_gamma), DIM_EMBEDDING, DIM_NONE},
	{"embeddings.LayerNorm.bias", offsetof(BqWeights, embed_ln_beta), DIM_EMBEDDING, DIM_NONE},
	{"embeddings_project.weight", offsetof(BqWeights, embed_project_w), DIM_HIDDEN, DIM_EMBEDDING},
	{"embeddings_project.bias", offsetof(BqWeights, embed_project_b), DIM_HIDDEN, DIM_NONE},
};

#define TOKEN_TYPE_ENTRY 2
#define PROJECTION_ENTRY 5

/* BERT's and ELECTRA's layer tensors, under "<prefix>encoder.layer.N." */
static const WeightEntry bert_layer_entries[LAYER_TENSORS] = {
	{"attention.self.query.weight", offsetof(BqLayerWeights, query_w), DIM_HIDDEN, DIM_HIDDEN},
	{"attention.self.query.bias", offsetof(BqLayerWeights, query_b), DIM_HIDDEN, DIM_NONE},
	{"attention.self.key.weight", offsetof(BqLayerWeights, key_w), DIM_HIDDEN, DIM_HIDDEN},
	{"attention.self.key.bias", offsetof(BqLayerWeights, key_b), DIM_HIDDEN, DIM_NONE},
	{"attention.self.value.weight", offsetof(BqLayerWeights, value_w), DIM_HIDDEN, DIM_HIDDEN},
	{"attention.self.value.bias", offsetof(BqLayerWeights, value_b), DIM_HIDDEN, DIM_NONE},
	{"attention.output.dense.weight", offsetof(BqLayerWeights, attn_out_w), DIM_HIDDEN, DIM_HIDDEN},
	{"attention.output.dense.bias", offsetof(BqLayerWeights, attn_out_b), DIM_HIDDEN, DIM_NONE},
	{"attention.output.LayerNorm.weight", offsetof(BqLayerWeights, attn_ln_gamma), DIM_HIDDEN, DIM_NONE},
	{"attention.output.LayerNorm.bias", offsetof(BqLayerWeights, attn_ln_beta), DIM_HIDDEN, DIM_NONE},
	{"intermediate.dense.weight", offsetof(BqLayerWeights, ffn_in_w), DIM_INTERMEDIATE, DIM_HIDDEN},
	{"intermediate.dense.bias", offsetof(BqLayerWeights, ffn_in_b), DIM_INTERMEDIATE, DIM_NONE},
	{"output.dense.weight", offsetof(BqLayerWeights, ffn_out_w), DIM_HIDDEN, DIM_INTERMEDIATE},
	{"output.dense.bias", offsetof(BqLayerWeights, ffn_out_b), DIM_HIDDEN, DIM_NONE},
	{"output.LayerNorm.weight", offsetof(BqLayerWeights, ffn_ln_gamma), DIM_HIDDEN, DIM_NONE},
	{"output.LayerNorm.bias", offsetof(BqLayerWeights, ffn_ln_beta), DIM_HIDDEN, DIM_NONE},
};

/* DistilBERT's, under "distilbert.transformer.layer.N." */
static const WeightEntry distilbert_layer_entries[LAYER_TENSORS] = {
	{"attention.q_lin.weight", offsetof(BqLayerWeights, query_w), DIM_HIDDEN, DIM_HIDDEN},
	{"attention.q_lin.bias", offsetof(BqLayerWeights, query_b), DIM_HIDDEN, DIM_NONE},
	{"attention.k_lin.weight", offsetof(BqLayerWeights, key_w), DIM_HIDDEN, DIM_HIDDEN},
	{"attention.k_lin.bias", offsetof(BqLayerWeights, key_b), DIM_HIDDEN, DIM_NONE},
	{"attention.v_lin.weight", offsetof(BqLayerWeights, value_w), DIM_HIDDEN, DIM_HIDDEN},
	{"attention.v_lin.bias", offsetof(BqLayerWeights, value_b), DIM_HIDDEN, DIM_NONE},
	{"attention.out_lin.weight", offsetof(BqLayerWeights, attn_out_w), DIM_HIDDEN, DIM_HIDDEN},
	{"attention.out_lin.bias", offsetof(BqLayerWeights, attn_out_b), DIM_HIDDEN, DIM_NONE},
	{"sa_layer_norm.weight", offsetof(BqLayerWeights, attn_ln_gamma), DIM_HIDDEN, DIM_NONE},
	{"sa_layer_norm.bias", offsetof(BqLayerWeights, attn_ln_beta), DIM_HIDDEN, DIM_NONE},
	{"ffn.lin1.weight", offsetof(BqLayerWeights, ffn_in_w), DIM_INTERMEDIATE, DIM_HIDDEN},
	{"ffn.lin1.bias", offsetof(BqLayerWeights, ffn_in_b), DIM_INTERMEDIATE, DIM_NONE},
	{"ffn.lin2.weight", offsetof(BqLayerWeights, ffn_out_w), DIM_HIDDEN, DIM_INTERMEDIATE},
	{"ffn.lin2.bias", offsetof(BqLayerWeights, ffn_out_b), DIM_HIDDEN, DIM_NONE},
	{"output_layer_norm.weight", offsetof(BqLayerWeights, ffn_ln_gamma), DIM_HIDDEN, DIM_NONE},
	{"output_layer_norm.bias", offsetof(BqLayerWeights, ffn_ln_beta), DIM_HIDDEN, DIM_NONE},
};

static const WeightEntry qa_entries[QA_TENSORS] = {
	{"qa_outputs.weight", offsetof(BqWeights, qa_w), DIM_TWO, DIM_HIDDEN},
	{"qa_outputs.bias", offsetof(BqWeights, qa_b), DIM_TWO, DIM_NONE},
};

/* Per family: the prefix of every weight name but the QA head's, and the layers' path. */
static const struct
{
	const char *prefix;
	const char *layers;
	const WeightEntry *layer_entries;
}			family_weights[BQ_FAMILIES] = {
	[BQ_FAMILY_BERT] = {"bert.", "encoder.layer.", bert_layer_entries},
	[BQ_FAMILY_DISTILBERT] = {"distilbert.", "transformer.layer.", distilbert_layer_entries},
	[BQ_FAMILY_ELECTRA] = {"electra.", "encoder.layer.", bert_layer_entries},
	[BQ_FAMILY_ROBERTA] = {"roberta.", "encoder.layer.", bert_layer_entries},
	[BQ_FAMILY_XLM_ROBERTA] = {"roberta.", "encoder.layer.", bert_layer_entries},
};

/* One weight being bound: what it should be, where it goes, where it is. */
typedef struct WeightSlot
{
	BqWeightSpec spec;
	const float **dest;
	const BqTensor *tensor;		/* in the file, once resolved */
} WeightSlot;

typedef struct SlotList
{
	WeightSlot *slots;
	int			count;
} SlotList;

/*
 * The size of a dimension under 'config'.
 */
static int64_t
dim_size(const BqConfig *config, WeightDim dim)
{
	switch (dim)
	{
		case DIM_NONE:
			return 0;
		case DIM_EMBEDDING:
			return config->embedding_size;
		case DIM_HIDDEN:
			return config->hidden_size;
		case DIM_INTERMEDIATE:
			return config->intermediate_size;
		case DIM_VOCAB:
			return config->vocab_size;
		case DIM_POSITIONS:
			return config->max_position_embeddings;
		case DIM_TOKEN_TYPES:
			return config->type_vocab_size;
		case DIM_TWO:
			return 2;
	}
	return 0;
}

/* Whether embedding entry 'i' is a tensor of models with 'config'. */
static bool
has_embedding_entry(const BqConfig *config, int i)
{
	if (i == TOKEN_TYPE_ENTRY)
		return config->type_vocab_size > 0;
	if (i >= PROJECTION_ENTRY)
		return config->embedding_size != config->hidden_size;
	return true;
}

/* How many tensors a model with 'config' has outside its layers and QA head. */
static int
embedding_count(const BqConfig *config)
{
	int			count = 0;

	for (int i = 0; i < MAX_EMBEDDING_TENSORS; i++)
		count += has_embedding_entry(config, i);
	return count;
}

/*
 * Weight number 'index' in binding order: its table entry, and the layer it
 * belongs to (-1 outside the layers).
 */
static const WeightEntry *
weight_entry(const BqConfig *config, int index, int *layer)
{
	int			embeddings = embedding_count(config);
	int			layer_end = embeddings + LAYER_TENSORS * config->num_layers;

	*layer = -1;
	if (index < embeddings)
	{
		for (int i = 0;; i++)
			if (has_embedding_entry(config, i) && index-- == 0)
				return &embedding_entries[i];
	}
	if (index < layer_end)
	{
		*layer = (index - embeddings) / LAYER_TENSORS;
		return &family_weights[config->family].layer_entries[(index - embeddings) % LAYER_TENSORS];
	}
	return &qa_entries[index - layer_end];
}

static int
weight_count(const BqConfig *config)
{
	return embedding_count(config) + LAYER_TENSORS * config->num_layers + QA_TENSORS;
}

/*
 * Name and shape of weight number 'index'.
 */
static void
weight_spec(const BqConfig *config, int index, BqWeightSpec *spec)
{
	int			layer;
	const WeightEntry *e = weight_entry(config, index, &layer);
	const char *prefix = family_weights[config->family].prefix;

	if (layer >= 0)
		snprintf(spec->name, sizeof(spec->name), "%s%s%d.%s", prefix,
				 family_weights[config->family].layers, layer, e->name);
	else if (index < embedding_count(config))
		snprintf(spec->name, sizeof(spec->name), "%s%s", prefix, e->name);
	else
		snprintf(spec->name, sizeof(spec->name), "%s", e->name);
	spec->ndim = e->cols == DIM_NONE ? 1 : 2;
	spec->shape[0] = dim_size(config, e->rows);
	spec->shape[1] = dim_size(config, e->cols);
}

/*
 * Number of floats in a weight of shape 'spec'.
 */
static int64_t
weight_elements(const BqWeightSpec *spec)
{
	return spec->shape[0] * (spec->ndim == 2 ? spec->shape[1] : 1);
}

BqWeightSpec *
bq_model_weight_specs(const BqConfig *config, int *count)
{
	BqWeightSpec *specs;

	*count = weight_count(config);
	specs = calloc((size_t) *count, sizeof(BqWeightSpec));
	if (specs == NULL)
		return NULL;
	for (int i = 0; i < *count; i++)
		weight_spec(config, i, &specs[i]);
	return specs;
}

/*
 * The BqWeights pointer that weight number 'index' is bound to.
 */
static const float **
weight_slot(const BqConfig *config, BqWeights *weights, int index)
{
	int			layer;
	const WeightEntry *e = weight_entry(config, index, &layer);
	char	   *base = layer >= 0 ? (char *) &weights->layers[layer] : (char *) weights;

	return (const float **) (base + e->offset);
}

const float *
bq_model_weight(const BqModel *model, int index)
{
	return *weight_slot(&model->config, (BqWeights *) &model->weights, index);
}

int
bq_model_write_weights(const char *path, const BqConfig *config, const char *const *metadata,
					   BqWeightSource source, void *arg, BqError *err)
{
	int			count;
	BqWeightSpec *weights = bq_model_weight_specs(config, &count);
	BqTensorSpec *specs = calloc((size_t) count, sizeof(BqTensorSpec));
	BqSafetensorsWriter *w = NULL;
	float	   *scratch = NULL;
	int64_t		largest = 0;
	int			rc = BQ_OK;

	for (int i = 0; weights != NULL && specs != NULL && i < count; i++)
	{
		specs[i].name = weights[i].name;
		specs[i].dtype_name = "F32";
		specs[i].ndim = weights[i].ndim;
		specs[i].shape[0] = weights[i].shape[0];
		specs[i].shape[1] = weights[i].shape[1];
		if (weight_elements(&weights[i]) > largest)
			largest = weight_elements(&weights[i]);
	}
	if (weights == NULL || specs == NULL ||
		(scratch = malloc((size_t) largest * sizeof(float))) == NULL)
		rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory writing \"%s\"", path);
	if (rc == BQ_OK && (w = bq_safetensors_create(path, specs, count, metadata, err)) == NULL)
		rc = err->status;
	for (int i = 0; rc == BQ_OK && i < count; i++)
	{
		size_t		elements = (size_t) weight_elements(&weights[i]);
		const void *data = source(i, &weights[i], elements, scratch, arg, err);

		rc = data == NULL ? err->status :
			bq_safetensors_append(w, data, elements * sizeof(float), err);
	}
	if (rc == BQ_OK)
		rc = bq_safetensors_finish(w, err);
	else
		bq_safetensors_abort(w);
	free(scratch);
	free(weights);
	free(specs);
	return rc;
}

/*
 * Every tensor the encoder reads, with the shape config.json implies and
 * the BqWeights pointer it sets.
 */
static int
list_weights(BqModel *model, SlotList *list, BqError *err)
{
	const BqConfig *c = &model->config;
	BqWeights  *w = &model->weights;

	list->count = weight_count(c);
	list->slots = calloc((size_t) list->count, sizeof(WeightSlot));
	w->layers = calloc((size_t) c->num_layers, sizeof(BqLayerWeights));
	if (w->layers == NULL || list->slots == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", model->path);
	for (int i = 0; i < list->count; i++)
	{
		weight_spec(c, i, &list->slots[i].spec);
		list->slots[i].dest = weight_slot(c, w, i);
	}
	return BQ_OK;
}

/*
 * Prefixes checkpoints use instead of the canonical ones: none (a base
 * model's names), and NeMo's.
 */
static const char *const prefix_aliases[][2] = {
	{"bert.", ""},
	{"distilbert.", ""},
	{"electra.", ""},
	{"bert.", "bert_model."},
	{"qa_outputs.", "classifier.mlp.layer0."},
};

#define N_PREFIX_ALIASES (sizeof(prefix_aliases) / sizeof(prefix_aliases[0]))

/*
 * 'name', or the name with an aliased prefix, in 'st'.
 */
static const BqTensor *
find_aliased(const BqSafetensors *st, const char *name)
{
	const BqTensor *t = bq_safetensors_find(st, name);
	char		alt[128];

	for (size_t i = 0; t == NULL && i < N_PREFIX_ALIASES; i++)
	{
		size_t		len = strlen(prefix_aliases[i][0]);

		if (strncmp(name, prefix_aliases[i][0], len) != 0)
			continue;
		snprintf(alt, sizeof(alt), "%s%s", prefix_aliases[i][1], name + len);
		t = bq_safetensors_find(st, alt);
	}
	return t;
}

/*
 * Find a weight under its canonical name or the variants checkpoints use:
 * another prefix (none, or NeMo's "bert_model." and QA head name), and
 * LayerNorm "gamma"/"beta" for "weight"/"bias".
 */
static const BqTensor *
find_weight(const BqSafetensors *st, const char *canonical)
{
	char		alt[96];
	size_t		len = strlen(canonical);
	const BqTensor *t = find_aliased(st, canonical);

	if (t == NULL && strstr(canonical, "LayerNorm.") != NULL && len < sizeof(alt))
	{
		bool		is_weight = len > 7 && strcmp(canonical + len - 7, ".weight") == 0;
		size_t		stem = len - (is_weight ? 7 : 5);

		snprintf(alt, sizeof(alt), "%.*s.%s", (int) stem, canonical, is_weight ? "gamma" : "beta");
		t = find_aliased(st, alt);
	}
	return t;
}

/*
 * Resolve every slot in 'st', checking dtype and shape against the config.
 */
static int
resolve_weights(const BqSafetensors *st, SlotList *list, BqError *err)
{
	for (int i = 0; i < list->count; i++)
	{
		const BqWeightSpec *s = &list->slots[i].spec;
		const BqTensor *t = find_weight(st, s->name);
		bool		shape_ok;

		if (t == NULL)
			return bq_fail(err, BQ_ERR_FORMAT, "model file \"%s\" lacks the tensor \"%s\"",
						   st->name, s->name);
		if (t->dtype == BQ_DTYPE_OTHER)
			return bq_fail(err, BQ_ERR_UNSUPPORTED,
						   "tensor \"%s\" in \"%s\" has dtype %s; bertqa reads F32, F16 and BF16 weights",
						   t->name, st->name, t->dtype_name);
		shape_ok = t->ndim == s->ndim && t->shape[0] == s->shape[0] &&
			(s->ndim == 1 || t->shape[1] == s->shape[1]);
		if (!shape_ok)
		{
			char		got[160];
			char		want[64];

			bq_shape_format(t->shape, t->ndim, got, sizeof(got));
			bq_shape_format(s->shape, s->ndim, want, sizeof(want));
			return bq_fail(err, BQ_ERR_FORMAT,
						   "tensor \"%s\" in \"%s\" has shape %s, but config.json implies %s",
						   t->name, st->name, got, want);
		}
		list->slots[i].tensor = t;
	}
	return BQ_OK;
}

/*
 * F32 data aligned for float access is used where it lies.
 */
static bool
usable_in_place(const BqTensor *t)
{
	return t->dtype == BQ_DTYPE_F32 && ((uintptr_t) t->data % sizeof(float)) == 0;
}

/*
 * Widen (or, for misaligned F32, copy) one tensor into 'dst'.
 */
static void
convert_tensor(const BqTensor *t, float *dst)
{
	switch (t->dtype)
	{
		case BQ_DTYPE_F32:
			memcpy(dst, t->data, t->nbytes);
			break;
		case BQ_DTYPE_F16:
			bq_f16_to_f32(t->data, dst, (size_t) t->elements);
			break;
		case BQ_DTYPE_BF16:
			bq_bf16_to_f32(t->data, dst, (size_t) t->elements);
			break;
		case BQ_DTYPE_OTHER:
			break;				/* refused by resolve_weights */
	}
}

/*
 * The stored dtype shared by all weights, or "mixed".
 */
static const char *
weights_dtype(const SlotList *list)
{
	const char *dtype = list->slots[0].tensor->dtype_name;

	for (int i = 1; i < list->count; i++)
	{
		if (strcmp(list->slots[i].tensor->dtype_name, dtype) != 0)
			return "mixed";
	}
	return dtype;
}

/*
 * Convert what cannot be used in place into one private buffer and point
 * every slot at its data.
 */
static int
bind_private(BqModel *model, SlotList *list, BqError *err)
{
	size_t		floats = 0;
	size_t		at = 0;

	for (int i = 0; i < list->count; i++)
	{
		if (!usable_in_place(list->slots[i].tensor))
			floats += ((size_t) list->slots[i].tensor->elements + CONVERTED_ALIGN_FLOATS - 1) /
				CONVERTED_ALIGN_FLOATS * CONVERTED_ALIGN_FLOATS;
	}
	if (floats > 0)
	{
		if (floats > SIZE_MAX / sizeof(float) ||
			(model->converted = bq_alloc_aligned(floats * sizeof(float))) == NULL)
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory converting the weights of \"%s\" to fp32",
						   model->path);
	}
	for (int i = 0; i < list->count; i++)
	{
		const BqTensor *t = list->slots[i].tensor;

		if (usable_in_place(t))
		{
			*list->slots[i].dest = (const float *) t->data;
			continue;
		}
		convert_tensor(t, model->converted + at);
		*list->slots[i].dest = model->converted + at;
		model->bytes_converted += (size_t) t->elements * sizeof(float);
		at += ((size_t) t->elements + CONVERTED_ALIGN_FLOATS - 1) /
			CONVERTED_ALIGN_FLOATS * CONVERTED_ALIGN_FLOATS;
	}
	return BQ_OK;
}

/*
 * Name of the fp32 copy of 'src' in 'cache_dir'.
 */
static char *
cache_file_name(const char *cache_dir, const BqSafetensors *src)
{
	return bq_cache_path(cache_dir, src->name, &src->identity, ".f32.safetensors");
}

/*
 * The cache file's source for weight 'index': the file's own F32 data, or a
 * conversion into 'scratch'.
 */
static const void *
converted_weight(int index, const BqWeightSpec *spec, size_t elements, float *scratch,
				 void *arg, BqError *err)
{
	const BqTensor *t = ((const SlotList *) arg)->slots[index].tensor;

	if (t->dtype == BQ_DTYPE_F32)
		return t->data;
	convert_tensor(t, scratch);
	return scratch;
}

/* What write_cache_file converts: the model and its weight slots. */
typedef struct CacheSource
{
	const BqModel *model;
	const SlotList *list;
} CacheSource;

/*
 * Write every weight as F32, under its canonical name, to 'path' (a
 * BqCacheWriter; 'arg' is a CacheSource).
 */
static int
write_cache_file(const char *path, void *arg, BqError *err)
{
	const CacheSource *source = arg;
	const char *metadata[] = {"format", "pt", "bertqa_source", source->model->file->name,
	"bertqa_source_dtype", source->model->dtype, NULL};

	return bq_model_write_weights(path, &source->model->config, metadata, converted_weight,
								  (void *) source->list, err);
}

/*
 * Use (writing it first if needed) the fp32 cache copy of model->file and
 * bind the slots to it; model->file becomes the cache file's mapping.
 */
static int
bind_cached(BqModel *model, SlotList *list, const char *cache_dir, BqError *err)
{
	BqSafetensors *cached;
	CacheSource source = {model, list};
	int			rc;

	if ((rc = bq_cache_dir_make(cache_dir, err)) != BQ_OK ||
		(rc = bq_cache_record_source(cache_dir, model->file->name, &model->file->identity,
									 err)) != BQ_OK)
		return rc;
	model->cache_path = cache_file_name(cache_dir, model->file);
	if (model->cache_path == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", model->path);

	cached = bq_cache_open(model->cache_path, write_cache_file, &source, err);
	if (cached == NULL)
		return err->status;

	for (int i = 0; i < list->count; i++)
	{
		if (!usable_in_place(list->slots[i].tensor))
			model->bytes_converted += (size_t) list->slots[i].tensor->elements * sizeof(float);
	}
	bq_safetensors_close(model->file);
	model->file = cached;
	if ((rc = resolve_weights(cached, list, err)) != BQ_OK)
		return rc;
	for (int i = 0; i < list->count; i++)
	{
		if (!usable_in_place(list->slots[i].tensor))
			return bq_fail(err, BQ_ERR_FORMAT,
						   "weight cache file \"%s\" is not an aligned fp32 copy; delete it",
						   cached->name);
		*list->slots[i].dest = (const float *) list->slots[i].tensor->data;
	}
	return BQ_OK;
}

/*
 * Refuse weights holding NaN or infinity.  A single one poisons every
 * logit it reaches, so a model with one would return garbage answers with
 * no sign of trouble; checking once at load costs one pass over the weights
 * (about 0.1 s for BERT-base) and names the bad tensor.  The test looks at
 * the exponent bits so that the loop has no early exit per element.
 */
static int
check_finite(const BqModel *model, const SlotList *list, BqError *err)
{
	for (int i = 0; i < list->count; i++)
	{
		const float *w = *list->slots[i].dest;
		size_t		n = (size_t) list->slots[i].tensor->elements;
		uint32_t	all_ones = 0;

		for (size_t j = 0; j < n; j++)
		{
			uint32_t	bits;

			memcpy(&bits, &w[j], sizeof(bits));
			all_ones |= (uint32_t) ((bits & 0x7f800000u) == 0x7f800000u);
		}
		if (all_ones)
			return bq_fail(err, BQ_ERR_FORMAT,
						   "tensor \"%s\" of model \"%s\" holds NaN or infinite values",
						   list->slots[i].spec.name, model->path);
	}
	return BQ_OK;
}

/*
 * check_finite, once per model file and cache directory rather than once per
 * process: a marker named after the file's identity records that the scan
 * passed, so every later load (each new PostgreSQL backend) skips a pass over
 * all the weights.  Without a cache directory, scan every time.
 */
static int
check_finite_once(const BqModel *model, const SlotList *list,
				  const BqModelLoadOptions *options, BqError *err)
{
	char	   *marker = NULL;
	int			rc;

	if (options != NULL && options->cache_dir != NULL)
	{
		marker = bq_cache_path(options->cache_dir, model->file->name,
							   &model->file->identity, ".finite");
		if (marker != NULL && access(marker, F_OK) == 0)
		{
			free(marker);
			return BQ_OK;
		}
	}
	rc = check_finite(model, list, err);
	if (rc == BQ_OK && marker != NULL)
	{
		int			fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		BqError		ignored;

		/* the marker only saves work: a cache that cannot hold it costs a scan */
		if (fd >= 0)
		{
			close(fd);
			bq_cache_record_source(options->cache_dir, model->file->name,
								   &model->file->identity, &ignored);
		}
	}
	free(marker);
	return rc;
}

/*
 * Map model.safetensors (or else pytorch_model.bin) and point every weight
 * at fp32 data.
 */
static int
load_weights(BqModel *model, const BqModelLoadOptions *options, BqError *err)
{
	SlotList	list = {0};
	char	   *path = bq_model_path(model->path, "model.safetensors");
	bool		in_place = true;
	int			rc;

	if (path == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", model->path);
	model->file = bq_safetensors_open(path, err);
	free(path);
	if (model->file == NULL && err->status == BQ_ERR_NOT_FOUND)
	{
		if ((path = bq_model_path(model->path, "pytorch_model.bin")) == NULL)
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", model->path);
		model->file = bq_torch_checkpoint_open(path, err);
		model->format = "pytorch";
		if (model->file == NULL && err->status == BQ_ERR_NOT_FOUND)
		{
			bq_fail(err, BQ_ERR_NOT_FOUND, "model directory \"%s\" holds neither model.safetensors nor pytorch_model.bin",
					model->path);
		}
		free(path);
	}
	if (model->file == NULL)
		return err->status;
	if ((rc = list_weights(model, &list, err)) != BQ_OK ||
		(rc = resolve_weights(model->file, &list, err)) != BQ_OK)
	{
		free(list.slots);
		return rc;
	}
	model->dtype = weights_dtype(&list);
	for (int i = 0; i < list.count; i++)
	{
		model->parameter_count += list.slots[i].tensor->elements;
		in_place = in_place && usable_in_place(list.slots[i].tensor);
	}
	if (!in_place && options != NULL && options->cache_dir != NULL)
		rc = bind_cached(model, &list, options->cache_dir, err);
	else
		rc = bind_private(model, &list, err);
	if (rc == BQ_OK)
		rc = check_finite_once(model, &list, options, err);
	free(list.slots);
	if (rc == BQ_OK)
	{
		model->mapping = (void *) model->file->bytes;
		model->bytes_mapped = model->file->size;
	}
	return rc;
}

/*
 * Load a model directory (HF layout, safetensors or PyTorch weights).
 */
static BqModel *
load_directory(const char *dir, const BqModelLoadOptions *options, BqError *err)
{
	BqModel    *model = calloc(1, sizeof(BqModel));

	if (model == NULL || (model->path = strdup(dir)) == NULL)
	{
		free(model);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", dir);
		return NULL;
	}
	model->format = "safetensors";
	if (options != NULL && options->cache_dir != NULL &&
		(model->cache_dir = strdup(options->cache_dir)) == NULL)
	{
		bq_model_free(model);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", dir);
		return NULL;
	}
	if (bq_config_load(dir, &model->config, err) != BQ_OK ||
		bq_model_tokenizer_load(dir, &model->config, &model->tokenizer, &model->vocab,
								err) != BQ_OK ||
		load_weights(model, options, err) != BQ_OK)
	{
		bq_model_free(model);
		return NULL;
	}
	return model;
}

/*
 * Load a .nemo archive through its unpacked directory: the shared cache's
 * copy, or a private one removed once mapped (the mapping outlives the
 * file's name).
 */
static BqModel *
load_nemo(const char *path, const BqModelLoadOptions *options, BqError *err)
{
	char	   *dir;
	bool		temporary;
	BqModel    *model;
	char	   *own_path;

	if (bq_nemo_prepare(path, options != NULL ? options->cache_dir : NULL, &dir, &temporary,
						err) != BQ_OK)
		return NULL;
	model = load_directory(dir, options, err);
	if (temporary)
		bq_nemo_remove_unpacked(dir);
	free(dir);
	if (model == NULL)
		return NULL;
	if ((own_path = strdup(path)) == NULL)
	{
		bq_model_free(model);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory loading model \"%s\"", path);
		return NULL;
	}
	free(model->path);
	model->path = own_path;
	model->format = "nemo";
	return model;
}

BqModel *
bq_model_load_with(const char *path, const BqModelLoadOptions *options, BqError *err)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
	{
		bq_fail(err, errno == ENOENT ? BQ_ERR_NOT_FOUND : BQ_ERR_IO,
				"could not open model \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(sb.st_mode))
		return load_directory(path, options, err);
	if (S_ISREG(sb.st_mode) && strlen(path) > 5 && strcmp(path + strlen(path) - 5, ".nemo") == 0)
		return load_nemo(path, options, err);
	bq_fail(err, BQ_ERR_IO, "model path \"%s\" is not a directory or a .nemo file", path);
	bq_fail_detail(err, "Give a directory holding config.json, vocab.txt and model.safetensors "
				   "or pytorch_model.bin, or a NeMo archive named *.nemo.");
	return NULL;
}

BqModel *
bq_model_load(const char *dir, BqError *err)
{
	return bq_model_load_with(dir, NULL, err);
}

void
bq_model_free(BqModel *model)
{
	if (model == NULL)
		return;
	if (model->tokenizer != NULL)
		bq_tokenizer_free(model->tokenizer);
	if (model->vocab != NULL)
		bq_vocab_free(model->vocab);
	bq_safetensors_close(model->file);
	free(model->converted);
	free(model->weights.layers);
	free(model->cache_path);
	free(model->cache_dir);
	free(model->path);
	free(model);
}
