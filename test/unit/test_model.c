/*
 * test_model.c - loading model directories: the tiny fixture, weights
 * shared through the page cache rather than copied, one clear error per
 * kind of broken directory, name variants, misaligned F32, and F16/BF16
 * conversion (private and through the shared cache directory), and the
 * cache's listing and cleaning.
 *
 * Broken and converted models are generated from the good fixture into
 * mkdtemp directories.
 */
#define _DEFAULT_SOURCE			/* realpath */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#include "blas.h"
#include "compute.h"
#include "onednn.h"
#include "encoder.h"
#include "file_util.h"
#include "model.h"
#include "model_config.h"
#include "packed_weights.h"
#include "safetensors.h"
#include "weight_cache.h"

#define FIXTURE "test/fixtures/tiny-model"
#define FIXTURE_WEIGHTS FIXTURE "/model.safetensors"

/* Lengths of the sequences logits are compared on. */
static const int32_t probe_lengths[] = {20, 57, 128};

#define PROBE_SEQS 3
#define PROBE_TOKENS (20 + 57 + 128)

/* ---- helpers ---------------------------------------------------------- */

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE	   *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(fwrite(data, 1, len, f) == len);
	CHECK(fclose(f) == 0);
}

static void
copy_file(const char *from, const char *to)
{
	BqError		err;
	size_t		len;
	char	   *data = bq_read_file(from, &len, &err);

	CHECK(data != NULL);
	if (data != NULL)
		write_file(to, data, len);
	free(data);
}

static char *
path_in(const char *dir, const char *file)
{
	static char buf[4][512];
	static int	next;
	char	   *p = buf[next++ % 4];

	snprintf(p, 512, "%s/%s", dir, file);
	return p;
}

/*
 * A fresh temporary directory; with_files copies the fixture's three files.
 */
static char *
temp_model(bool with_files)
{
	char	   *dir = strdup("/tmp/bq_model_XXXXXX");

	CHECK(mkdtemp(dir) != NULL);
	if (with_files)
	{
		copy_file(FIXTURE "/config.json", path_in(dir, "config.json"));
		copy_file(FIXTURE "/vocab.txt", path_in(dir, "vocab.txt"));
		copy_file(FIXTURE_WEIGHTS, path_in(dir, "model.safetensors"));
	}
	return dir;
}

/*
 * Remove a directory made by temp_model with whatever files it holds.
 */
static void
remove_dir(char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;

	if (d != NULL)
	{
		while ((e = readdir(d)) != NULL)
		{
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			{
				char	   *p = path_in(dir, e->d_name);
				struct stat sb;

				if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
				{
					char	   *sub = strdup(p);

					remove_dir(sub);
					continue;
				}
				unlink(p);
			}
		}
		closedir(d);
	}
	CHECK(rmdir(dir) == 0);
	free(dir);
}

/* The fixture's weights file split into its JSON header and data section. */
typedef struct RawFile
{
	char	   *bytes;
	size_t		len;
	json_object *header;
	const char *data;
	size_t		data_len;
} RawFile;

static void
read_raw(RawFile *raw)
{
	BqError		err;
	uint64_t	hlen = 0;

	raw->bytes = bq_read_file(FIXTURE_WEIGHTS, &raw->len, &err);
	for (int i = 7; i >= 0; i--)
		hlen = (hlen << 8) | (unsigned char) raw->bytes[i];
	raw->header = bq_json_parse(raw->bytes + 8, hlen, "fixture header", &err);
	raw->data = raw->bytes + 8 + hlen;
	raw->data_len = raw->len - 8 - hlen;
}

static void
free_raw(RawFile *raw)
{
	json_object_put(raw->header);
	free(raw->bytes);
}

/*
 * Write a weights file with 'header' (plus 'pad' spaces) and the data
 * section, extended by 'extra' zero bytes.
 */
static void
write_weights(const char *path, json_object *header, int pad, const char *data, size_t data_len,
			  size_t extra)
{
	const char *json = json_object_to_json_string_ext(header, JSON_C_TO_STRING_PLAIN);
	size_t		hlen = strlen(json) + (size_t) pad;
	size_t		total = 8 + hlen + data_len + extra;
	char	   *buf = calloc(1, total);

	for (int i = 0; i < 8; i++)
		buf[i] = (char) ((hlen >> (8 * i)) & 0xff);
	memcpy(buf + 8, json, strlen(json));
	memset(buf + 8 + strlen(json), ' ', (size_t) pad);
	memcpy(buf + 8 + hlen, data, data_len);
	write_file(path, buf, total);
	free(buf);
}

/*
 * Replace one top-level field of a directory's config.json.
 */
static void
set_config(const char *dir, const char *key, json_object *value)
{
	BqError		err;
	json_object *cfg = bq_json_load_file(path_in(dir, "config.json"), &err);

	CHECK(cfg != NULL);
	json_object_object_add(cfg, key, value);
	CHECK(json_object_to_file(path_in(dir, "config.json"), cfg) == 0);
	json_object_put(cfg);
}

/*
 * Loading 'dir' must fail with 'status' and a message containing 'expect'.
 */
static void
expect_load_failure(const char *dir, BqStatus status, const char *expect)
{
	BqError		err;
	BqModel    *model = bq_model_load(dir, &err);

	CHECK(model == NULL);
	bq_model_free(model);
	if (model != NULL)
		return;
	if (err.status != status || strstr(err.message, expect) == NULL)
	{
		fprintf(stderr, "got [%s] \"%s\"; expected [%s] \"...%s...\"\n",
				bq_status_name(err.status), err.message, bq_status_name(status), expect);
		CHECK(0);
	}
}

/*
 * Start and end logits of the probe sequences (deterministic ids) from 'enc'.
 */
static void
probe_with(BqEncoder *enc, const BqModel *model, float *out)
{
	BqError		err;
	int32_t		ids[PROBE_TOKENS];
	int32_t		types[PROBE_TOKENS];
	const int32_t *id_rows[PROBE_SEQS];
	const int32_t *type_rows[PROBE_SEQS];
	float	   *start[PROBE_SEQS];
	float	   *end[PROBE_SEQS];
	int			at = 0;

	for (int i = 0; i < PROBE_TOKENS; i++)
	{
		ids[i] = (int32_t) ((i * 7919L + 101) % model->config.vocab_size);
		types[i] = i % 3 == 0;
	}
	for (int b = 0; b < PROBE_SEQS; b++)
	{
		id_rows[b] = ids + at;
		type_rows[b] = types + at;
		start[b] = out + at;
		end[b] = out + PROBE_TOKENS + at;
		at += probe_lengths[b];
	}
	CHECK_INT_EQ(bq_encoder_run(enc, PROBE_SEQS, id_rows, type_rows, probe_lengths, start, end,
								NULL, &err), BQ_OK);
}

/*
 * The probe's logits from a fresh encoder of 'model'.
 */
static void
probe_logits(const BqModel *model, float *out)
{
	BqError		err;
	BqEncoder  *enc = bq_encoder_new(model, BQ_PRECISION_FP32, &err);

	CHECK(enc != NULL);
	if (enc == NULL)
		return;
	probe_with(enc, model, out);
	bq_encoder_free(enc);
}

/*
 * Every weight pointer of 'model', for checks over all of them.
 */
static int
weight_pointers(const BqModel *model, const float **out, int64_t *elements)
{
	int			count;
	BqWeightSpec *specs = bq_model_weight_specs(&model->config, &count);
	const BqWeights *w = &model->weights;
	int			n = 0;

	out[n++] = w->word_embeddings;
	out[n++] = w->position_embeddings;
	out[n++] = w->token_type_embeddings;
	out[n++] = w->embed_ln_gamma;
	out[n++] = w->embed_ln_beta;
	for (int l = 0; l < model->config.num_layers; l++)
	{
		const BqLayerWeights *lw = &w->layers[l];
		const float *p[16] = {lw->query_w, lw->query_b, lw->key_w, lw->key_b, lw->value_w,
			lw->value_b, lw->attn_out_w, lw->attn_out_b, lw->attn_ln_gamma, lw->attn_ln_beta,
		lw->ffn_in_w, lw->ffn_in_b, lw->ffn_out_w, lw->ffn_out_b, lw->ffn_ln_gamma, lw->ffn_ln_beta};

		for (int i = 0; i < 16; i++)
			out[n++] = p[i];
	}
	out[n++] = w->qa_w;
	out[n++] = w->qa_b;
	CHECK_INT_EQ(n, count);
	for (int i = 0; i < count; i++)
		elements[i] = specs[i].shape[0] * (specs[i].ndim == 2 ? specs[i].shape[1] : 1);
	free(specs);
	return n;
}

/*
 * True if every weight lies inside the model's mapping.
 */
static bool
weights_in_mapping(const BqModel *model)
{
	const float *ptrs[64];
	int64_t		elements[64];
	int			n = weight_pointers(model, ptrs, elements);
	const char *lo = model->mapping;
	const char *hi = lo + model->bytes_mapped;

	for (int i = 0; i < n; i++)
	{
		const char *p = (const char *) ptrs[i];

		if (p < lo || p + elements[i] * sizeof(float) > hi)
			return false;
	}
	return true;
}

/*
 * Read every weight, so all their pages are faulted in; returns a sum so
 * the reads cannot be optimised away.
 */
static double
touch_weights(const BqModel *model)
{
	const float *ptrs[64];
	int64_t		elements[64];
	int			n = weight_pointers(model, ptrs, elements);
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
		for (int64_t j = 0; j < elements[i]; j++)
			sum += ptrs[i][j];
	return sum;
}

/* ---- memory accounting from /proc ----------------------------------------- */

typedef struct MappingStats
{
	bool		found;
	long		rss_kb;
	long		shared_kb;		/* Shared_Clean + Shared_Dirty */
	long		anonymous_kb;	/* pages copied on write (private to us) */
} MappingStats;

/*
 * Statistics of the mapping containing 'addr', or (when 'addr' is NULL) of
 * the mappings of files whose path contains 'name', from /proc/self/smaps.
 */
static MappingStats
mapping_stats_of(const void *addr, const char *name)
{
	MappingStats st = {0};
	FILE	   *f = fopen("/proc/self/smaps", "r");
	char		line[512];
	bool		inside = false;

	if (f == NULL)
		return st;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		unsigned long lo,
					hi;
		long		kb;
		char		perms[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3)
		{
			inside = addr != NULL ? (uintptr_t) addr >= lo && (uintptr_t) addr < hi :
				strstr(line, name) != NULL;
			st.found = st.found || inside;
			continue;
		}
		if (!inside)
			continue;
		if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			st.rss_kb += kb;
		else if (sscanf(line, "Shared_Clean: %ld kB", &kb) == 1 ||
				 sscanf(line, "Shared_Dirty: %ld kB", &kb) == 1)
			st.shared_kb += kb;
		else if (sscanf(line, "Anonymous: %ld kB", &kb) == 1)
			st.anonymous_kb += kb;
	}
	fclose(f);
	return st;
}

static MappingStats
mapping_stats(const void *addr)
{
	return mapping_stats_of(addr, NULL);
}

/*
 * Anonymous memory of the whole process (heap, private copies), in kB.
 */
static long
anonymous_kb(void)
{
	FILE	   *f = fopen("/proc/self/smaps_rollup", "r");
	char		line[256];
	long		kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		if (sscanf(line, "Anonymous: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_load_fixture(void)
{
	BqError		err;
	BqModel    *model = bq_model_load(FIXTURE, &err);
	struct stat sb;

	CHECK(model != NULL);
	if (model == NULL)
	{
		fprintf(stderr, "%s\n", err.message);
		return;
	}
	CHECK_STR_EQ(model->path, FIXTURE);
	CHECK_STR_EQ(model->format, "safetensors");
	CHECK_STR_EQ(model->dtype, "F32");
	CHECK_INT_EQ(model->config.vocab_size, 30522);
	CHECK_INT_EQ(model->config.hidden_size, 64);
	CHECK_INT_EQ(model->config.num_layers, 2);
	CHECK_INT_EQ(model->config.num_heads, 4);
	CHECK_INT_EQ(model->config.intermediate_size, 256);
	CHECK_INT_EQ(model->config.max_position_embeddings, 512);
	CHECK_INT_EQ(model->config.type_vocab_size, 2);
	CHECK(model->config.layer_norm_eps == 1e-12f);
	CHECK(model->config.lowercase);
	CHECK_INT_EQ(model->parameter_count, 2086530);
	CHECK(stat(FIXTURE_WEIGHTS, &sb) == 0);
	CHECK_INT_EQ(model->bytes_mapped, sb.st_size);
	CHECK(model->converted == NULL && model->cache_path == NULL);
	CHECK_INT_EQ(model->bytes_converted, 0);
	CHECK(weights_in_mapping(model));
	CHECK(model->vocab != NULL && bq_vocab_size(model->vocab) == 30522);
	CHECK(model->tokenizer != NULL);
	/* the first bias in the file is the embeddings' LayerNorm beta, at data offset 0 */
	CHECK((const char *) model->weights.embed_ln_beta == (const char *) model->mapping + 8 + 4288);
	bq_model_free(model);
}

/*
 * Run products of the encoder's shapes on the engine, so that what the
 * engine keeps after its first use (OpenBLAS's buffers; oneDNN's compiled
 * kernels, which it caches per process) exists before memory is measured.
 * (Not with a throwaway load: a copying loader's freed copy would be
 * reused by the second load and hide it.)
 */
static void
warm_up_products(void)
{
	BqError		err;
	BqConfig	c;
	int			h,
				inter,
				d;

	if (bq_config_load(FIXTURE, &c, &err) != BQ_OK)
	{
		CHECK(0);
		return;
	}
	h = c.hidden_size;
	inter = c.intermediate_size;
	d = h / c.num_heads;
	{
		const int	k[4] = {h, h, h, inter};
		const int	n[4] = {3 * h, h, inter, h};
		int			rows = bq_onednn_padded_rows(PROBE_TOKENS);
		float	   *a = calloc((size_t) rows * 4 * inter, sizeof(float));
		float	   *w = calloc((size_t) 4 * inter * h, sizeof(float));
		float	   *out = calloc((size_t) rows * 4 * inter, sizeof(float));
		BqLinearKernels *kernels = bq_linear_kernels_new(&err);

		for (int i = 0; i < PROBE_SEQS; i++)
		{
			int			len = probe_lengths[i];

			bq_sgemm(false, true, len, len, d, 1.0f, a, 3 * h, w, 3 * h, 0.0f, out, len);
			bq_sgemm(false, false, len, d, len, 1.0f, a, len, w, 3 * h, 0.0f, out, h);
		}
		for (int j = 0; j < 4; j++)
		{
			size_t		bytes = 0;
			uint64_t	hash;
			void	   *packed;

			if (bq_compute_engine() != BQ_ENGINE_ONEDNN)
			{
				bq_sgemm(false, true, PROBE_TOKENS, n[j], k[j], 1.0f, a, k[j], w, k[j], 0.0f,
						 out, n[j]);
				continue;
			}
			CHECK_INT_EQ(bq_onednn_packed_size(k[j], n[j], BQ_PRECISION_FP32, &bytes, &hash, &err),
						 BQ_OK);
			packed = malloc(bytes);
			CHECK_INT_EQ(bq_onednn_pack(w, k[j], n[j], BQ_PRECISION_FP32, packed, NULL, &err), BQ_OK);
			CHECK_INT_EQ(bq_linear(kernels, PROBE_TOKENS, k[j], n[j], BQ_PRECISION_FP32, a, packed,
								   w, NULL, j == 2 ? BQ_EPILOGUE_BIAS_GELU : BQ_EPILOGUE_BIAS,
								   out, &err), BQ_OK);
			free(packed);
		}
		bq_linear_kernels_free(kernels);
		free(a);
		free(w);
		free(out);
	}
}

/*
 * Loading must map the weights, not copy them: after reading every weight
 * and running the encoder, the pages sit in the file mapping (no copied
 * pages), weight pointers point into it, and the process's anonymous memory
 * grew by far less than the weights' size.  The weights the encoder packs
 * for oneDNN are likewise a shared mapping of a file in the cache
 * directory.
 */
static void
test_weights_not_copied(void)
{
	BqError		err;
	BqModel    *model;
	BqEncoder  *enc;
	char	   *cache = temp_model(false);
	BqModelLoadOptions options = {cache};
	float		logits[2 * PROBE_TOKENS];
	long		before,
				after;
	double		weight_kb;
	MappingStats ms,
				packed;
	bool		onednn = bq_compute_engine() == BQ_ENGINE_ONEDNN;

	warm_up_products();
	before = anonymous_kb();
	model = bq_model_load_with(FIXTURE, &options, &err);
	CHECK(model != NULL);
	if (model == NULL)
		return;
	CHECK(touch_weights(model) != 0.0);
	enc = bq_encoder_new(model, BQ_PRECISION_FP32, &err);
	CHECK(enc != NULL);
	if (enc == NULL)
		return;
	probe_with(enc, model, logits);
	after = anonymous_kb();
	ms = mapping_stats(model->weights.word_embeddings);
	packed = mapping_stats_of(NULL, ".packed-");
	weight_kb = model->parameter_count * 4 / 1024.0;

	printf("weights %.0f kB; anonymous memory grew %ld kB; weight mapping rss %ld kB, "
		   "anonymous %ld kB; packed mapping rss %ld kB, anonymous %ld kB\n",
		   weight_kb, after - before, ms.rss_kb, ms.anonymous_kb, packed.rss_kb,
		   packed.anonymous_kb);
	CHECK(before > 0 && after > 0);
	/*
	 * A copy would add over 100%; what does grow is the vocabulary, its
	 * tokenizer and the workspace (about 14%, 30% under valgrind).
	 */
	CHECK(after - before < 0.5 * weight_kb);
	CHECK(ms.found);
	CHECK(ms.rss_kb >= 0.95 * model->bytes_mapped / 1024);
	CHECK_INT_EQ(ms.anonymous_kb, 0);
	CHECK(weights_in_mapping(model));
	CHECK(packed.found == onednn);
	CHECK_INT_EQ(packed.anonymous_kb, 0);

	/*
	 * A second process loading the same file maps the same physical pages:
	 * in the child, the fresh mappings' pages are shared (also mapped by
	 * this process), not private copies.
	 */
	fflush(stdout);
	{
		pid_t		pid = fork();
		int			status = 0;

		if (pid == 0)
		{
			BqModel    *again = bq_model_load_with(FIXTURE, &options, &err);
			BqEncoder  *enc_again = again != NULL ? bq_encoder_new(again, BQ_PRECISION_FP32, &err) : NULL;
			MappingStats cs,
						cp;
			bool		shared;

			if (enc_again == NULL || touch_weights(again) == 0.0)
				_exit(3);
			probe_with(enc_again, again, logits);
			cs = mapping_stats(again->weights.word_embeddings);
			cp = mapping_stats_of(NULL, ".packed-");
			printf("child: weight mapping rss %ld kB, shared %ld kB; packed rss %ld kB, shared %ld kB\n",
				   cs.rss_kb, cs.shared_kb, cp.rss_kb, cp.shared_kb);
			fflush(stdout);
			shared = cs.found && cs.rss_kb > 0 && cs.shared_kb >= 0.95 * cs.rss_kb &&
				cs.anonymous_kb == 0 && again->mapping != model->mapping &&
				(!onednn || (cp.rss_kb > 0 && cp.shared_kb >= 0.95 * cp.rss_kb &&
							 cp.anonymous_kb == 0));
			bq_encoder_free(enc_again);
			bq_model_free(again);
			_exit(shared ? 0 : 4);
		}
		CHECK(pid > 0);
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	bq_encoder_free(enc);
	bq_model_free(model);
	remove_dir(cache);
}

static void
test_broken_weights_files(void)
{
	char	   *dir;
	RawFile		raw;
	json_object *h;
	json_object *entry;
	json_object *offs;

	read_raw(&raw);
	CHECK(raw.header != NULL);
	if (raw.header == NULL)
		return;

	/* truncated: the data section ends early */
	dir = temp_model(true);
	write_file(path_in(dir, "model.safetensors"), raw.bytes, raw.len / 2);
	expect_load_failure(dir, BQ_ERR_FORMAT, "run past the end of the data section");
	expect_load_failure(dir, BQ_ERR_FORMAT, "model.safetensors");

	/* cut inside the header: the length prefix points past the end */
	write_file(path_in(dir, "model.safetensors"), raw.bytes, 1000);
	expect_load_failure(dir, BQ_ERR_FORMAT, "header length 4288 runs past the end of the file");

	/* only part of the length prefix */
	write_file(path_in(dir, "model.safetensors"), raw.bytes, 5);
	expect_load_failure(dir, BQ_ERR_FORMAT, "too short to be a safetensors file");

	/* not JSON */
	{
		char	   *copy = malloc(raw.len);

		memcpy(copy, raw.bytes, raw.len);
		copy[8] = 'x';
		write_file(path_in(dir, "model.safetensors"), copy, raw.len);
		free(copy);
	}
	expect_load_failure(dir, BQ_ERR_FORMAT, "is not valid JSON");

	/* offsets past the end of the file */
	h = json_tokener_parse(json_object_to_json_string(raw.header));
	entry = json_object_object_get(h, "qa_outputs.weight");
	offs = json_object_object_get(entry, "data_offsets");
	json_object_array_put_idx(offs, 0, json_object_new_int64(9000000));
	json_object_array_put_idx(offs, 1, json_object_new_int64(9000512));
	write_weights(path_in(dir, "model.safetensors"), h, 0, raw.data, raw.data_len, 0);
	json_object_put(h);
	expect_load_failure(dir, BQ_ERR_FORMAT,
						"tensor \"qa_outputs.weight\" in \"");
	expect_load_failure(dir, BQ_ERR_FORMAT, "data_offsets [9000000, 9000512] run past the end");

	/* a dtype bertqa cannot compute with, and one the format does not know */
	h = json_tokener_parse(json_object_to_json_string(raw.header));
	entry = json_object_object_get(h, "bert.embeddings.word_embeddings.weight");
	json_object_object_add(entry, "dtype", json_object_new_string("I32"));
	write_weights(path_in(dir, "model.safetensors"), h, 0, raw.data, raw.data_len, 0);
	expect_load_failure(dir, BQ_ERR_UNSUPPORTED,
						"tensor \"bert.embeddings.word_embeddings.weight\" in \"");
	expect_load_failure(dir, BQ_ERR_UNSUPPORTED, "has dtype I32; bertqa reads F32, F16 and BF16");
	json_object_object_add(entry, "dtype", json_object_new_string("float32"));
	write_weights(path_in(dir, "model.safetensors"), h, 0, raw.data, raw.data_len, 0);
	json_object_put(h);
	expect_load_failure(dir, BQ_ERR_FORMAT, "unknown dtype \"float32\"");

	/* a shape that does not fit the config (same byte count) */
	h = json_tokener_parse(json_object_to_json_string(raw.header));
	entry = json_object_object_get(h, "qa_outputs.weight");
	json_object_object_add(entry, "shape", json_tokener_parse("[4, 32]"));
	write_weights(path_in(dir, "model.safetensors"), h, 0, raw.data, raw.data_len, 0);
	json_object_put(h);
	expect_load_failure(dir, BQ_ERR_FORMAT,
						"tensor \"qa_outputs.weight\" in \"");
	expect_load_failure(dir, BQ_ERR_FORMAT, "has shape [4, 32], but config.json implies [2, 64]");

	/* a missing tensor */
	h = json_tokener_parse(json_object_to_json_string(raw.header));
	json_object_object_del(h, "bert.encoder.layer.1.output.dense.bias");
	write_weights(path_in(dir, "model.safetensors"), h, 0, raw.data, raw.data_len, 0);
	json_object_put(h);
	expect_load_failure(dir, BQ_ERR_FORMAT, "lacks the tensor \"bert.encoder.layer.1.output.dense.bias\"");

	/* two tensors sharing bytes */
	h = json_tokener_parse(json_object_to_json_string(raw.header));
	entry = json_object_object_get(h, "bert.encoder.layer.0.attention.self.key.bias");
	json_object_object_add(entry, "data_offsets",
						   json_object_get(json_object_object_get(json_object_object_get(h,
																						 "bert.encoder.layer.0.attention.self.query.bias"), "data_offsets")));
	write_weights(path_in(dir, "model.safetensors"), h, 0, raw.data, raw.data_len, 0);
	json_object_put(h);
	expect_load_failure(dir, BQ_ERR_FORMAT, "overlap in the data section");

	/* the max_position_embeddings of config.json no longer matches the table */
	copy_file(FIXTURE_WEIGHTS, path_in(dir, "model.safetensors"));
	set_config(dir, "max_position_embeddings", json_object_new_int(256));
	expect_load_failure(dir, BQ_ERR_FORMAT,
						"\"bert.embeddings.position_embeddings.weight\" in \"");
	expect_load_failure(dir, BQ_ERR_FORMAT, "has shape [512, 64], but config.json implies [256, 64]");

	remove_dir(dir);
	free_raw(&raw);
}

static void
test_broken_directories(void)
{
	char	   *dir = temp_model(true);
	char		lines[64];

	expect_load_failure("test/fixtures/no-such-model", BQ_ERR_NOT_FOUND, "no-such-model");
	expect_load_failure(FIXTURE "/config.json", BQ_ERR_IO, "is not a directory");

	set_config(dir, "hidden_act", json_object_new_string("relu"));
	expect_load_failure(dir, BQ_ERR_UNSUPPORTED, "hidden_act \"relu\" is not supported");
	set_config(dir, "hidden_act", json_object_new_string("gelu_new"));
	expect_load_failure(dir, BQ_ERR_UNSUPPORTED, "hidden_act \"gelu_new\"");
	set_config(dir, "hidden_act", json_object_new_string("gelu"));
	set_config(dir, "model_type", json_object_new_string("xlnet"));
	expect_load_failure(dir, BQ_ERR_UNSUPPORTED,
						"model_type \"xlnet\" is not supported; bertqa runs bert, distilbert, electra, roberta and xlm-roberta");
	set_config(dir, "model_type", json_object_new_string("bert"));
	set_config(dir, "position_embedding_type", json_object_new_string("relative_key"));
	expect_load_failure(dir, BQ_ERR_UNSUPPORTED, "position_embedding_type \"relative_key\" is not supported");
	set_config(dir, "position_embedding_type", json_object_new_string("absolute"));

	/*
	 * Another family's configuration over BERT's weights: its own keys are
	 * required, its options checked, and a missing tensor is named.
	 */
	set_config(dir, "model_type", json_object_new_string("distilbert"));
	expect_load_failure(dir, BQ_ERR_FORMAT, "lacks the field \"dim\"");
	set_config(dir, "dim", json_object_new_int(64));
	set_config(dir, "n_layers", json_object_new_int(2));
	set_config(dir, "n_heads", json_object_new_int(4));
	set_config(dir, "hidden_dim", json_object_new_int(256));
	set_config(dir, "activation", json_object_new_string("relu"));
	expect_load_failure(dir, BQ_ERR_UNSUPPORTED, "activation \"relu\" is not supported");
	set_config(dir, "activation", json_object_new_string("gelu"));
	set_config(dir, "sinusoidal_pos_embds", json_object_new_boolean(true));
	expect_load_failure(dir, BQ_ERR_UNSUPPORTED, "sinusoidal_pos_embds true is not supported");
	set_config(dir, "sinusoidal_pos_embds", json_object_new_boolean(false));
	expect_load_failure(dir, BQ_ERR_FORMAT, "lacks the tensor \"distilbert.embeddings.word_embeddings.weight\"");
	set_config(dir, "model_type", json_object_new_string("electra"));
	set_config(dir, "embedding_size", json_object_new_int(32));
	expect_load_failure(dir, BQ_ERR_FORMAT, "lacks the tensor \"electra.embeddings.word_embeddings.weight\"");

	/* RoBERTa reads vocab.json and merges.txt, sized as the embedding table */
	copy_file(FIXTURE "/config.json", path_in(dir, "config.json"));
	set_config(dir, "model_type", json_object_new_string("roberta"));
	expect_load_failure(dir, BQ_ERR_NOT_FOUND, "vocab.json");
	copy_file("test/fixtures/bpe/tiny/vocab.json", path_in(dir, "vocab.json"));
	expect_load_failure(dir, BQ_ERR_NOT_FOUND, "merges.txt");
	copy_file("test/fixtures/bpe/tiny/merges.txt", path_in(dir, "merges.txt"));
	expect_load_failure(dir, BQ_ERR_FORMAT, "has 1261 tokens, but config.json's vocab_size is 30522");
	set_config(dir, "vocab_size", json_object_new_int(1261));
	expect_load_failure(dir, BQ_ERR_FORMAT, "lacks the tensor \"roberta.embeddings.word_embeddings.weight\"");
	set_config(dir, "pad_token_id", json_object_new_int(511));
	expect_load_failure(dir, BQ_ERR_FORMAT, "\"pad_token_id\" must be an integer from 0 to 510");
	unlink(path_in(dir, "vocab.json"));
	unlink(path_in(dir, "merges.txt"));
	copy_file(FIXTURE "/config.json", path_in(dir, "config.json"));
	set_config(dir, "num_attention_heads", json_object_new_int(5));
	expect_load_failure(dir, BQ_ERR_FORMAT, "hidden_size 64 is not a multiple of num_attention_heads 5");
	set_config(dir, "num_attention_heads", json_object_new_string("4"));
	expect_load_failure(dir, BQ_ERR_FORMAT, "\"num_attention_heads\" must be an integer from 1 to");
	set_config(dir, "num_attention_heads", json_object_new_int(4));
	set_config(dir, "vocab_size", json_object_new_int(0));
	expect_load_failure(dir, BQ_ERR_FORMAT, "\"vocab_size\" must be an integer from 1 to");
	set_config(dir, "vocab_size", json_object_new_int64(1LL << 40));
	expect_load_failure(dir, BQ_ERR_FORMAT, "\"vocab_size\" must be an integer");
	set_config(dir, "vocab_size", json_object_new_int(30522));
	set_config(dir, "layer_norm_eps", json_object_new_double(-1.0));
	expect_load_failure(dir, BQ_ERR_FORMAT, "layer_norm_eps");
	set_config(dir, "layer_norm_eps", json_object_new_double(1e-12));
	set_config(dir, "num_hidden_layers", NULL);
	expect_load_failure(dir, BQ_ERR_FORMAT, "\"num_hidden_layers\" must be an integer");
	set_config(dir, "num_hidden_layers", json_object_new_int(2));
	{
		BqError		err;
		json_object *cfg = bq_json_load_file(path_in(dir, "config.json"), &err);

		json_object_object_del(cfg, "intermediate_size");
		CHECK(json_object_to_file(path_in(dir, "config.json"), cfg) == 0);
		json_object_put(cfg);
	}
	expect_load_failure(dir, BQ_ERR_FORMAT, "lacks the field \"intermediate_size\"");
	copy_file(FIXTURE "/config.json", path_in(dir, "config.json"));

	write_file(path_in(dir, "config.json"), "{\"vocab_size\": 30522,", 21);
	expect_load_failure(dir, BQ_ERR_FORMAT, "config.json is not valid JSON");
	unlink(path_in(dir, "config.json"));
	expect_load_failure(dir, BQ_ERR_NOT_FOUND, "config.json");
	copy_file(FIXTURE "/config.json", path_in(dir, "config.json"));

	/* tokenizer_config.json decides the casing, and is checked */
	write_file(path_in(dir, "tokenizer_config.json"), "{\"do_lower_case\": \"no\"}", 23);
	expect_load_failure(dir, BQ_ERR_FORMAT, "\"do_lower_case\" must be true or false");
	write_file(path_in(dir, "tokenizer_config.json"), "{\"do_lower_case\": false}", 24);
	{
		BqError		err;
		BqModel    *model = bq_model_load(dir, &err);

		CHECK(model != NULL && !model->config.lowercase);
		bq_model_free(model);
	}
	unlink(path_in(dir, "tokenizer_config.json"));

	/* vocabulary shorter than vocab_size, then missing */
	{
		BqError		err;
		size_t		len;
		char	   *vocab = bq_read_file(FIXTURE "/vocab.txt", &len, &err);
		size_t		cut = 0;

		for (int n = 0; n < 30000; n++)
			cut = (size_t) (strchr(vocab + cut, '\n') - vocab) + 1;
		write_file(path_in(dir, "vocab.txt"), vocab, cut);
		free(vocab);
	}
	snprintf(lines, sizeof(lines), "has %d tokens, but config.json's vocab_size is 30522", 30000);
	expect_load_failure(dir, BQ_ERR_FORMAT, lines);
	unlink(path_in(dir, "vocab.txt"));
	expect_load_failure(dir, BQ_ERR_NOT_FOUND, "vocab.txt");
	copy_file(FIXTURE "/vocab.txt", path_in(dir, "vocab.txt"));

	unlink(path_in(dir, "model.safetensors"));
	expect_load_failure(dir, BQ_ERR_NOT_FOUND, "model.safetensors");
	remove_dir(dir);
}

/*
 * Checkpoints without the "bert." prefix, with LayerNorm gamma/beta, and
 * with extra tensors (pooler, position_ids of another dtype) load the same
 * weights.
 */
static void
test_name_variants(void)
{
	char	   *dir = temp_model(true);
	RawFile		raw;
	json_object *renamed = json_object_new_object();
	BqError		err;
	BqModel    *model;
	BqModel    *reference = bq_model_load(FIXTURE, &err);
	float		want[2 * PROBE_TOKENS];
	float		got[2 * PROBE_TOKENS];
	char		name[160];

	read_raw(&raw);
	json_object_object_foreach(raw.header, key, value)
	{
		const char *k = strncmp(key, "bert.", 5) == 0 ? key + 5 : key;
		size_t		len = strlen(k);

		snprintf(name, sizeof(name), "%s", k);
		if (strstr(k, "LayerNorm.weight") != NULL)
			snprintf(name + len - 6, sizeof(name) - (len - 6), "gamma");
		else if (strstr(k, "LayerNorm.bias") != NULL)
			snprintf(name + len - 4, sizeof(name) - (len - 4), "beta");
		json_object_object_add(renamed, name, json_object_get(value));
	}
	json_object_object_add(renamed, "bert.embeddings.position_ids",
						   json_tokener_parse("{\"dtype\": \"I64\", \"shape\": [1, 512], \"data_offsets\": [8346120, 8350216]}"));
	CHECK(raw.data_len == 8346120);
	write_weights(path_in(dir, "model.safetensors"), renamed, 0, raw.data, raw.data_len, 4096);

	model = bq_model_load(dir, &err);
	CHECK(model != NULL);
	if (model != NULL && reference != NULL)
	{
		CHECK(bq_safetensors_find(model->file, "embeddings.LayerNorm.gamma") != NULL);
		CHECK(model->parameter_count == reference->parameter_count);
		probe_logits(reference, want);
		probe_logits(model, got);
		CHECK(memcmp(want, got, sizeof(want)) == 0);
	}
	else
		fprintf(stderr, "%s\n", err.message);
	bq_model_free(model);
	bq_model_free(reference);
	json_object_put(renamed);
	free_raw(&raw);
	remove_dir(dir);
}

/*
 * A header whose length leaves the data section off 4-byte alignment: the
 * F32 weights are copied (and counted as converted), giving identical
 * results.
 */
static void
test_misaligned_f32(void)
{
	char	   *dir = temp_model(true);
	RawFile		raw;
	BqError		err;
	BqModel    *model;
	BqModel    *reference = bq_model_load(FIXTURE, &err);
	float		want[2 * PROBE_TOKENS];
	float		got[2 * PROBE_TOKENS];

	read_raw(&raw);
	write_weights(path_in(dir, "model.safetensors"), raw.header,
				  (int) (4 - strlen(json_object_to_json_string_ext(raw.header, JSON_C_TO_STRING_PLAIN)) % 4) + 1,
				  raw.data, raw.data_len, 0);
	model = bq_model_load(dir, &err);
	CHECK(model != NULL && reference != NULL);
	if (model != NULL && reference != NULL)
	{
		CHECK(model->converted != NULL);
		CHECK_INT_EQ(model->bytes_converted, reference->parameter_count * 4);
		CHECK(((uintptr_t) model->weights.qa_w) % 4 == 0);
		probe_logits(reference, want);
		probe_logits(model, got);
		CHECK(memcmp(want, got, sizeof(want)) == 0);
	}
	bq_model_free(model);
	bq_model_free(reference);
	free_raw(&raw);
	remove_dir(dir);
}

/* ---- 16-bit weights ---------------------------------------------------------- */

/*
 * float to IEEE half, rounding to nearest even (subnormals included).
 */
static uint16_t
to_f16(float f)
{
	uint32_t	x;
	uint32_t	sign;
	uint32_t	biased;
	int32_t		exponent;
	uint32_t	bits;
	uint32_t	half;
	uint32_t	rest;
	uint32_t	midpoint;
	int			shift;

	memcpy(&x, &f, sizeof(x));
	sign = (x >> 16) & 0x8000u;
	biased = (x >> 23) & 0xff;
	exponent = (int32_t) biased - 127 + 15;
	if (biased == 0xff)
		return (uint16_t) (sign | 0x7c00u | ((x & 0x7fffffu) ? 0x200u : 0));
	if (exponent >= 31)
		return (uint16_t) (sign | 0x7c00u);
	if (exponent <= 0)
	{
		if (exponent < -10)
			return (uint16_t) sign;
		/* subnormal half: the 24-bit significand scaled to units of 2^-24 */
		bits = (x & 0x7fffffu) | 0x800000u;
		shift = 14 - exponent;
	}
	else
	{
		/* the exponent rides above the mantissa, so a rounding carry bumps it */
		bits = ((uint32_t) exponent << 23) | (x & 0x7fffffu);
		shift = 13;
	}
	half = bits >> shift;
	rest = bits & ((1u << shift) - 1);
	midpoint = 1u << (shift - 1);
	if (rest > midpoint || (rest == midpoint && (half & 1)))
		half++;
	return (uint16_t) (sign | half);
}

/*
 * IEEE half (finite) to float by arithmetic, independent of the loader's
 * bit manipulation.
 */
static float
from_f16(uint16_t h)
{
	int			e = (h >> 10) & 31;
	int			m = h & 1023;
	float		v = e == 0 ? ldexpf((float) m, -24) : ldexpf((float) (1024 + m), e - 25);

	return (h & 0x8000) ? -v : v;
}

/*
 * float to bfloat16, rounding to nearest even.
 */
static uint16_t
to_bf16(float f)
{
	uint32_t	x;

	memcpy(&x, &f, sizeof(x));
	return (uint16_t) ((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

/*
 * Write the fixture's weights as 'dtype' ("F16"/"BF16") into dir/, and into
 * ref_dir/ the same rounded values widened back to F32.
 */
static void
write_16bit_models(const char *dtype, const char *dir, const char *ref_dir)
{
	BqError		err;
	BqSafetensors *src = bq_safetensors_open(FIXTURE_WEIGHTS, &err);
	BqTensorSpec *specs16 = calloc((size_t) src->count, sizeof(BqTensorSpec));
	BqTensorSpec *specs32 = calloc((size_t) src->count, sizeof(BqTensorSpec));
	BqSafetensorsWriter *w16;
	BqSafetensorsWriter *w32;
	bool		f16 = strcmp(dtype, "F16") == 0;

	for (int i = 0; i < src->count; i++)
	{
		const BqTensor *t = &src->tensors[i];

		specs16[i].name = specs32[i].name = t->name;
		specs16[i].dtype_name = dtype;
		specs32[i].dtype_name = "F32";
		specs16[i].ndim = specs32[i].ndim = t->ndim;
		memcpy(specs16[i].shape, t->shape, sizeof(t->shape));
		memcpy(specs32[i].shape, t->shape, sizeof(t->shape));
	}
	w16 = bq_safetensors_create(path_in(dir, "model.safetensors"), specs16, src->count, NULL, &err);
	w32 = bq_safetensors_create(path_in(ref_dir, "model.safetensors"), specs32, src->count, NULL, &err);
	CHECK(w16 != NULL && w32 != NULL);
	for (int i = 0; i < src->count; i++)
	{
		const BqTensor *t = &src->tensors[i];
		uint16_t   *half = malloc((size_t) t->elements * 2);
		float	   *back = malloc((size_t) t->elements * 4);

		for (int64_t j = 0; j < t->elements; j++)
		{
			float		v;

			memcpy(&v, t->data + 4 * j, 4);
			half[j] = f16 ? to_f16(v) : to_bf16(v);
		}
		for (int64_t j = 0; j < t->elements; j++)
		{
			uint32_t	bits = (uint32_t) half[j] << 16;

			if (f16)
				back[j] = from_f16(half[j]);
			else
				memcpy(&back[j], &bits, sizeof(float));
		}
		CHECK_INT_EQ(bq_safetensors_append(w16, half, (size_t) t->elements * 2, &err), BQ_OK);
		CHECK_INT_EQ(bq_safetensors_append(w32, back, (size_t) t->elements * 4, &err), BQ_OK);
		free(half);
		free(back);
	}
	CHECK_INT_EQ(bq_safetensors_finish(w16, &err), BQ_OK);
	CHECK_INT_EQ(bq_safetensors_finish(w32, &err), BQ_OK);
	free(specs16);
	free(specs32);
	bq_safetensors_close(src);
}

static void
test_f16_conversion_values(void)
{
	/* the test's own rounding, checked on known values */
	CHECK_INT_EQ(to_f16(1.0f), 0x3c00);
	CHECK_INT_EQ(to_f16(-2.0f), 0xc000);
	CHECK_INT_EQ(to_f16(65504.0f), 0x7bff);
	CHECK_INT_EQ(to_f16(65520.0f), 0x7c00);
	CHECK_INT_EQ(to_f16(ldexpf(1.0f, -24)), 0x0001);
	CHECK_INT_EQ(to_f16(ldexpf(1.0f, -25)), 0x0000);	/* tie to even */
	CHECK_INT_EQ(to_f16(ldexpf(3.0f, -25)), 0x0002);	/* tie to even, upwards */
	CHECK_INT_EQ(to_f16(1.0f + ldexpf(1.0f, -11)), 0x3c00);
	CHECK_INT_EQ(to_f16(1.0f + ldexpf(3.0f, -11)), 0x3c02);
	CHECK_INT_EQ(to_f16(ldexpf(2047.0f, -25)), 0x0400);	/* rounds up to the smallest normal */
	CHECK(from_f16(0x3555) == 0.333251953125f && from_f16(0x0001) == ldexpf(1.0f, -24) &&
		  from_f16(0xfbff) == -65504.0f);
	CHECK_INT_EQ(to_bf16(1.0f), 0x3f80);
	CHECK_INT_EQ(to_bf16(3.140625f), 0x4049);
}

/*
 * One 16-bit dtype: private conversion equals the F32 model of the same
 * rounded values exactly, and the original within a few units of the
 * dtype's roundoff (relative to the largest logit); the cache directory is
 * written once, reused, and renamed when the source changes.
 */
static void
check_16bit(const char *dtype, double unit_roundoff)
{
	char	   *dir = temp_model(false);
	char	   *ref_dir = temp_model(false);
	char	   *cache_dir = temp_model(false);
	BqModelLoadOptions opts = {cache_dir};
	BqError		err;
	BqModel    *original = bq_model_load(FIXTURE, &err);
	BqModel    *converted;
	BqModel    *rounded;
	BqModel    *cached;
	float		want[2 * PROBE_TOKENS];
	float		ref[2 * PROBE_TOKENS];
	float		got[2 * PROBE_TOKENS];
	float		from_cache[2 * PROBE_TOKENS];
	struct stat first,
				second;
	char	   *cache_path = NULL;

	for (int i = 0; i < 2; i++)
	{
		const char *d = i == 0 ? dir : ref_dir;

		copy_file(FIXTURE "/config.json", path_in(d, "config.json"));
		copy_file(FIXTURE "/vocab.txt", path_in(d, "vocab.txt"));
	}
	write_16bit_models(dtype, dir, ref_dir);

	converted = bq_model_load(dir, &err);
	rounded = bq_model_load(ref_dir, &err);
	CHECK(original != NULL && converted != NULL && rounded != NULL);
	if (original == NULL || converted == NULL || rounded == NULL)
		return;
	CHECK_STR_EQ(converted->dtype, dtype);
	CHECK(converted->converted != NULL && converted->cache_path == NULL);
	CHECK_INT_EQ(converted->bytes_converted, original->parameter_count * 4);
	CHECK_INT_EQ(converted->parameter_count, original->parameter_count);
	probe_logits(original, want);
	probe_logits(rounded, ref);
	probe_logits(converted, got);
	{
		float		zero[2 * PROBE_TOKENS] = {0};
		double		largest = unit_max_abs_diff(want, zero, 2 * PROBE_TOKENS);
		double		off = unit_max_abs_diff(got, want, 2 * PROBE_TOKENS);

		printf("%s: max |logit diff| %.3g against the F32 of the same values, %.3g against the "
			   "original (max |logit| %.3g)\n",
			   dtype, unit_max_abs_diff(got, ref, 2 * PROBE_TOKENS), off, largest);
		CHECK(memcmp(got, ref, sizeof(got)) == 0);
		/* rounding the weights moves the logits by a few units of roundoff, never zero */
		CHECK(off > 0.0 && off <= 4 * unit_roundoff * largest);
	}

	/* through the cache: written once as an F32 file, mapped like one */
	cached = bq_model_load_with(dir, &opts, &err);
	CHECK(cached != NULL);
	if (cached != NULL)
	{
		CHECK_STR_EQ(cached->dtype, dtype);
		CHECK(cached->converted == NULL && cached->cache_path != NULL);
		CHECK(cached->cache_path != NULL &&
			  strncmp(cached->cache_path, cache_dir, strlen(cache_dir)) == 0);
		CHECK_INT_EQ(cached->bytes_converted, original->parameter_count * 4);
		CHECK(weights_in_mapping(cached));
		probe_logits(cached, from_cache);
		CHECK(memcmp(from_cache, got, sizeof(got)) == 0);
		CHECK(stat(cached->cache_path, &first) == 0);
		cache_path = strdup(cached->cache_path);
		bq_model_free(cached);
	}

	/* reused, not rewritten */
	cached = bq_model_load_with(dir, &opts, &err);
	CHECK(cached != NULL && cache_path != NULL);
	if (cached != NULL && cache_path != NULL)
	{
		CHECK_STR_EQ(cached->cache_path, cache_path);
		CHECK(stat(cached->cache_path, &second) == 0);
		CHECK(first.st_ino == second.st_ino && first.st_mtim.tv_sec == second.st_mtim.tv_sec &&
			  first.st_mtim.tv_nsec == second.st_mtim.tv_nsec);
		bq_model_free(cached);
	}

	/* a changed source gets a new cache file */
	write_16bit_models(dtype, dir, ref_dir);
	cached = bq_model_load_with(dir, &opts, &err);
	CHECK(cached != NULL && cache_path != NULL);
	if (cached != NULL && cache_path != NULL)
	{
		CHECK(strcmp(cached->cache_path, cache_path) != 0);
		CHECK(access(cache_path, F_OK) == 0);
		bq_model_free(cached);
	}

	free(cache_path);
	bq_model_free(original);
	bq_model_free(converted);
	bq_model_free(rounded);
	remove_dir(dir);
	remove_dir(ref_dir);
	remove_dir(cache_dir);
}

static void
test_f16(void)
{
	check_16bit("F16", ldexp(1.0, -11));
}

static void
test_bf16(void)
{
	check_16bit("BF16", ldexp(1.0, -8));
}

/*
 * The cache directory is created when missing; a file in its place is an
 * error naming it.
 */
static void
test_cache_dir_errors(void)
{
	char	   *dir = temp_model(true);
	char	   *parent = temp_model(false);
	char		cache[600];
	BqModelLoadOptions opts = {cache};
	RawFile		raw;
	BqError		err;
	BqModel    *model;

	read_raw(&raw);
	write_weights(path_in(dir, "model.safetensors"), raw.header, 3, raw.data, raw.data_len, 0);
	free_raw(&raw);

	snprintf(cache, sizeof(cache), "%s/cache", parent);
	model = bq_model_load_with(dir, &opts, &err);
	CHECK(model != NULL && model->cache_path != NULL && model->converted == NULL);
	bq_model_free(model);

	snprintf(cache, sizeof(cache), "%s/config.json", dir);
	model = bq_model_load_with(dir, &opts, &err);
	CHECK(model == NULL);
	CHECK(model == NULL && err.status == BQ_ERR_IO && strstr(err.message, "config.json") != NULL);
	bq_model_free(model);

	/* an aligned F32 model never touches the cache */
	snprintf(cache, sizeof(cache), "%s/unused", parent);
	model = bq_model_load_with(FIXTURE, &opts, &err);
	CHECK(model != NULL && model->cache_path == NULL);
	CHECK(access(cache, F_OK) != 0);
	bq_model_free(model);

	remove_dir(dir);
	remove_dir(parent);
}

/* The entry of 'entries' whose name ends with 'suffix', or NULL. */
static const BqCacheEntry *
entry_ending(const BqCacheEntry *entries, size_t n, const char *suffix)
{
	for (size_t i = 0; i < n; i++)
	{
		size_t		len = strlen(entries[i].name);

		if (len >= strlen(suffix) && strcmp(entries[i].name + len - strlen(suffix), suffix) == 0)
			return &entries[i];
	}
	return NULL;
}

/*
 * The cache's listing and cleaning: an F16 model's fp32 copy and its
 * checked-finite marker (made from the copy) are listed with their
 * sources, fresh; when the model's file changes, the copy is stale but in
 * use while a loaded model maps it, and stays, with its marker; once
 * unmapped, it goes with its lock file and its source's record, then its
 * marker, and the new version's entries stay; when the file is gone, they
 * go too.
 */
static void
test_cache_list_and_clean(void)
{
	char	   *dir = temp_model(false);
	char	   *ref_dir = temp_model(false);
	char	   *cache_dir = temp_model(false);
	char	   *weights = strdup(path_in(dir, "model.safetensors"));
	char	   *real;
	BqModelLoadOptions opts = {cache_dir};
	BqCacheEntry *entries;
	BqCacheEntry *removed;
	size_t		n,
				n_removed;
	const BqCacheEntry *copy;
	const BqCacheEntry *marker;
	BqModel    *old;
	BqModel    *current;
	BqError		err;

	copy_file(FIXTURE "/config.json", path_in(dir, "config.json"));
	copy_file(FIXTURE "/vocab.txt", path_in(dir, "vocab.txt"));
	write_16bit_models("F16", dir, ref_dir);
	real = realpath(weights, NULL);
	old = bq_model_load_with(dir, &opts, &err);
	CHECK(old != NULL && real != NULL);
	if (old == NULL || real == NULL)
		return;

	CHECK_INT_EQ(bq_cache_list(cache_dir, &entries, &n, &err), BQ_OK);
	CHECK_INT_EQ(n, 2);
	copy = entry_ending(entries, n, ".f32.safetensors");
	marker = entry_ending(entries, n, ".finite");
	CHECK(copy != NULL && marker != NULL);
	if (copy != NULL && marker != NULL)
	{
		CHECK(copy->source != NULL && strcmp(copy->source, real) == 0);
		CHECK(copy->source_exists && !copy->stale && copy->in_use);
		CHECK(copy->bytes >= old->bytes_converted && copy->last_used > 0);
		CHECK(marker->source_exists && !marker->stale && !marker->in_use);
	}
	bq_cache_entries_free(entries, n);
	CHECK_INT_EQ(bq_cache_remove_stale(cache_dir, &removed, &n_removed, &err), BQ_OK);
	CHECK_INT_EQ(n_removed, 0);
	bq_cache_entries_free(removed, n_removed);

	/* a new version of the source: the old entries are stale, the mapped copy in use */
	sleep(1);
	write_16bit_models("F16", dir, ref_dir);
	current = bq_model_load_with(dir, &opts, &err);
	CHECK(current != NULL);
	CHECK_INT_EQ(bq_cache_list(cache_dir, &entries, &n, &err), BQ_OK);
	CHECK_INT_EQ(n, 4);
	bq_cache_entries_free(entries, n);
	CHECK_INT_EQ(bq_cache_list(cache_dir, &entries, &n, &err), BQ_OK);
	{
		int			stale_in_use = 0,
					fresh = 0;

		for (size_t i = 0; i < n; i++)
		{
			stale_in_use += entries[i].stale && entries[i].in_use;
			fresh += !entries[i].stale;
		}
		CHECK_INT_EQ(stale_in_use, 1);	/* the old copy */
		CHECK_INT_EQ(fresh, 3);	/* its marker, the new copy and marker */
	}
	bq_cache_entries_free(entries, n);
	CHECK_INT_EQ(bq_cache_remove_stale(cache_dir, &removed, &n_removed, &err), BQ_OK);
	CHECK_INT_EQ(n_removed, 0);
	bq_cache_entries_free(removed, n_removed);

	/* unmapped, the old copy goes, with its lock file and its source's record, then its marker */
	bq_model_free(old);
	CHECK_INT_EQ(bq_cache_remove_stale(cache_dir, &removed, &n_removed, &err), BQ_OK);
	CHECK_INT_EQ(n_removed, 2);
	if (n_removed == 2)
		CHECK(entry_ending(removed, 1, ".f32.safetensors") != NULL &&
			  entry_ending(removed + 1, 1, ".finite") != NULL);
	bq_cache_entries_free(removed, n_removed);
	CHECK_INT_EQ(bq_cache_list(cache_dir, &entries, &n, &err), BQ_OK);
	CHECK_INT_EQ(n, 2);
	for (size_t i = 0; i < n; i++)
		CHECK(!entries[i].stale && entries[i].source_exists);
	bq_cache_entries_free(entries, n);
	{
		DIR		   *d = opendir(cache_dir);
		struct dirent *e;
		int			records = 0,
					locks = 0;

		while (d != NULL && (e = readdir(d)) != NULL)
		{
			records += strstr(e->d_name, ".source") != NULL;
			locks += strstr(e->d_name, ".lock") != NULL;
		}
		if (d != NULL)
			closedir(d);
		CHECK_INT_EQ(records, 2);	/* the model's file, and the copy the marker is made from */
		CHECK_INT_EQ(locks, 1);
	}

	/* a source that is gone: its entries are stale, and go once unmapped */
	bq_model_free(current);
	unlink(weights);
	CHECK_INT_EQ(bq_cache_remove_stale(cache_dir, &removed, &n_removed, &err), BQ_OK);
	CHECK_INT_EQ(n_removed, 2);
	for (size_t i = 0; i < n_removed; i++)
		CHECK(!removed[i].source_exists);
	bq_cache_entries_free(removed, n_removed);

	free(real);
	free(weights);
	remove_dir(dir);
	remove_dir(ref_dir);
	remove_dir(cache_dir);
}

/* The first occurrence of 'text' in 'len' bytes of 'data', or NULL. */
static char *
find_bytes(char *data, size_t len, const char *text)
{
	size_t		n = strlen(text);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(data + i, text, n) == 0)
			return data + i;
	return NULL;
}

/*
 * Packed weights are named by the oneDNN version that packed them, and a
 * file at that name whose own record names another version (one copied from
 * a server with another oneDNN, simulated by changing the recorded version)
 * is refused, not mapped; deleted, it is packed again.
 */
static void
test_packed_cache_versions(void)
{
	char	   *cache = temp_model(false);
	BqError		err;
	BqModel    *model = bq_model_load(FIXTURE, &err);
	BqPackedWeights *packed;
	char		version_in_name[64];
	char		other_version[32];
	char	   *file;
	char	   *recorded;
	size_t		len;

	CHECK(model != NULL);
	if (model == NULL || bq_compute_engine() != BQ_ENGINE_ONEDNN)
	{
		if (model != NULL)
			unit_skip("oneDNN does not run the products here, so nothing is packed");
		bq_model_free(model);
		remove_dir(cache);
		return;
	}
	packed = bq_packed_weights_open(model, cache, BQ_PRECISION_FP32, &err);
	CHECK(packed != NULL && packed->path != NULL);
	if (packed == NULL || packed->path == NULL)
		return;
	snprintf(version_in_name, sizeof(version_in_name), "-onednn%s-", bq_onednn_version());
	CHECK(strstr(packed->path, version_in_name) != NULL);

	/* the same name, recording another version: every digit moved on by one */
	file = bq_read_file(packed->path, &len, &err);
	snprintf(other_version, sizeof(other_version), "%s", bq_onednn_version());
	for (char *c = other_version; *c != '\0'; c++)
		if (*c >= '0' && *c <= '9')
			*c = (char) ('0' + (*c - '0' + 1) % 10);
	recorded = file != NULL ? find_bytes(file, len, bq_onednn_version()) : NULL;
	CHECK(recorded != NULL);
	if (recorded != NULL)
	{
		memcpy(recorded, other_version, strlen(other_version));
		CHECK_INT_EQ(bq_write_file(packed->path, file, len, false, &err), BQ_OK);
	}
	free(file);
	bq_packed_weights_free(packed);

	packed = bq_packed_weights_open(model, cache, BQ_PRECISION_FP32, &err);
	CHECK(packed == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
	CHECK(strstr(err.message, other_version) != NULL && strstr(err.message, "delete it") != NULL);
	bq_packed_weights_free(packed);

	remove_dir(cache);
	cache = temp_model(false);
	packed = bq_packed_weights_open(model, cache, BQ_PRECISION_FP32, &err);
	CHECK(packed != NULL);
	bq_packed_weights_free(packed);
	bq_model_free(model);
	remove_dir(cache);
}

/*
 * What bq_config_to_json writes (init-model's config.json) reads back the
 * same.
 */
static void
test_config_round_trip(void)
{
	BqConfig	config = {.vocab_size = 30522, .embedding_size = 768, .hidden_size = 768,
		.num_layers = 12, .num_heads = 12, .intermediate_size = 3072,
	.max_position_embeddings = 512, .type_vocab_size = 2, .layer_norm_eps = 1e-5f};
	BqConfig	back;
	BqError		err;
	json_object *obj = bq_config_to_json(&config);
	json_object *eps;

	CHECK(obj != NULL);
	CHECK_INT_EQ(bq_config_from_json(obj, "round trip", NULL, NULL, &back, &err), BQ_OK);
	CHECK(back.vocab_size == config.vocab_size && back.hidden_size == config.hidden_size &&
		  back.num_layers == config.num_layers && back.num_heads == config.num_heads &&
		  back.intermediate_size == config.intermediate_size &&
		  back.max_position_embeddings == config.max_position_embeddings &&
		  back.type_vocab_size == config.type_vocab_size &&
		  back.layer_norm_eps == config.layer_norm_eps && back.lowercase == config.lowercase);
	CHECK(json_object_object_get_ex(obj, "layer_norm_eps", &eps));
	CHECK_STR_EQ(json_object_to_json_string(eps), "1e-05");
	json_object_put(obj);
}

int
main(int argc, char **argv)
{
	BqError		err;

	unit_select(argc, argv);
	if (bq_compute_init(&err) != BQ_OK)
	{
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	bq_compute_set_threads(1);
	RUN_TEST(test_load_fixture);
	RUN_TEST(test_config_round_trip);
	RUN_TEST(test_weights_not_copied);
	RUN_TEST(test_broken_weights_files);
	RUN_TEST(test_broken_directories);
	RUN_TEST(test_name_variants);
	RUN_TEST(test_misaligned_f32);
	RUN_TEST(test_f16_conversion_values);
	RUN_TEST(test_f16);
	RUN_TEST(test_bf16);
	RUN_TEST(test_cache_dir_errors);
	RUN_TEST(test_cache_list_and_clean);
	RUN_TEST(test_packed_cache_versions);
	UNIT_DONE();
}
