/*
 * nemo_archive.c - unpacking a .nemo archive into a model directory.
 *
 * libarchive reads the tar (plain or gzip; no external filter programs),
 * libyaml the config.  Only plain top-level regular files are taken from
 * the archive: entries with absolute or ".." paths, links and devices are
 * refused, whatever their name, so a hostile archive can neither write
 * outside the directory nor point the loader at another file.  The
 * checkpoint is copied unchanged (its 64-byte aligned storages stay mappable
 * in place); only the small files are rewritten: config.json from the YAML
 * and vocab.txt from the vocabulary entry the config names.
 */
#include "nemo_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "file_util.h"
#include "model_config.h"
#include "weight_cache.h"
#include "torch_checkpoint.h"
#include "zip_reader.h"

#define CONFIG_ENTRY "model_config.yaml"
#define WEIGHTS_ENTRY "model_weights.ckpt"

/* Limits on what is read into memory, and on YAML structure. */
#define MAX_CONFIG_BYTES ((size_t) 1 << 20)
#define MAX_TEXT_BYTES ((size_t) 64 << 20)	/* all text files together */
#define MAX_WEIGHTS_BYTES ((int64_t) 64 << 30)
#define MAX_TEXT_FILES 16
#define MAX_YAML_DEPTH 64
#define MAX_YAML_NODES 100000

/* Standard BERT sizes all use 64-dimensional attention heads. */
#define HEAD_SIZE 64

/* A small file of the archive held in memory. */
typedef struct TextFile
{
	char	   *name;
	char	   *data;
	size_t		len;
} TextFile;

/* What the archive's walk collects. */
typedef struct Unpacked
{
	const char *archive;		/* the .nemo path, for messages */
	char	   *config_yaml;
	size_t		config_len;
	bool		have_weights;
	TextFile	texts[MAX_TEXT_FILES];
	int			ntexts;
	size_t		text_bytes;		/* held in texts */
} Unpacked;

/* ---- YAML ------------------------------------------------------------- */

/* Budget shared by one conversion, against alias fan-out. */
typedef struct YamlWalk
{
	yaml_document_t *doc;
	const char *name;
	long		nodes_left;
} YamlWalk;

static bool
matches_any(const char *s, const char *const *words)
{
	for (int i = 0; words[i] != NULL; i++)
	{
		if (strcmp(s, words[i]) == 0)
			return true;
	}
	return false;
}

/*
 * A plain scalar as the YAML 1.1 core schema types it.
 */
static json_object *
plain_scalar(const char *s, size_t len)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL};
	const char *digits = s + (s[0] == '-' || s[0] == '+');
	char	   *end;

	if (matches_any(s, nulls))
		return NULL;
	if (matches_any(s, trues))
		return json_object_new_boolean(1);
	if (matches_any(s, falses))
		return json_object_new_boolean(0);
	if (digits[0] != '\0' && strspn(digits, "0123456789") == strlen(digits))
	{
		long long	v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_object_new_int64(v);
	}
	if (len > 0 && strspn(s, "+-0123456789.eE") == len && strpbrk(s, "0123456789") != NULL)
	{
		double		v = strtod(s, &end);

		if (*end == '\0')
			return json_object_new_double(v);
	}
	return json_object_new_string_len(s, (int) len);
}

static int yaml_node_to_json(YamlWalk *w, yaml_node_t *node, int depth, json_object **out,
							 BqError *err);

static int
yaml_mapping_to_json(YamlWalk *w, yaml_node_t *node, int depth, json_object **out,
					 BqError *err)
{
	json_object *obj = json_object_new_object();

	*out = obj;
	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
		 pair < node->data.mapping.pairs.top; pair++)
	{
		yaml_node_t *key = yaml_document_get_node(w->doc, pair->key);
		yaml_node_t *value = yaml_document_get_node(w->doc, pair->value);
		json_object *v = NULL;
		int			rc;

		if (key == NULL || value == NULL || key->type != YAML_SCALAR_NODE)
			return bq_fail(err, BQ_ERR_FORMAT, "%s: mapping keys must be scalars", w->name);
		if ((rc = yaml_node_to_json(w, value, depth + 1, &v, err)) != BQ_OK)
		{
			json_object_put(v);
			return rc;
		}
		json_object_object_add(obj, (const char *) key->data.scalar.value, v);
	}
	return BQ_OK;
}

/*
 * Convert one node; aliases share nodes, so the node budget bounds the
 * output even for "billion laughs" documents.
 */
static int
yaml_node_to_json(YamlWalk *w, yaml_node_t *node, int depth, json_object **out, BqError *err)
{
	*out = NULL;
	if (depth > MAX_YAML_DEPTH || --w->nodes_left < 0)
		return bq_fail(err, BQ_ERR_FORMAT, "%s: YAML nested too deeply or too large", w->name);
	switch (node->type)
	{
		case YAML_SCALAR_NODE:
			if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				*out = plain_scalar((const char *) node->data.scalar.value, node->data.scalar.length);
			else
				*out = json_object_new_string_len((const char *) node->data.scalar.value,
												  (int) node->data.scalar.length);
			return BQ_OK;
		case YAML_SEQUENCE_NODE:
			*out = json_object_new_array();
			for (yaml_node_item_t *item = node->data.sequence.items.start;
				 item < node->data.sequence.items.top; item++)
			{
				yaml_node_t *child = yaml_document_get_node(w->doc, *item);
				json_object *v = NULL;
				int			rc;

				if (child == NULL)
					return bq_fail(err, BQ_ERR_FORMAT, "%s: malformed YAML sequence", w->name);
				if ((rc = yaml_node_to_json(w, child, depth + 1, &v, err)) != BQ_OK)
				{
					json_object_put(v);
					return rc;
				}
				json_object_array_add(*out, v);
			}
			return BQ_OK;
		case YAML_MAPPING_NODE:
			return yaml_mapping_to_json(w, node, depth, out, err);
		case YAML_NO_NODE:
			break;
	}
	return bq_fail(err, BQ_ERR_FORMAT, "%s: empty YAML node", w->name);
}

json_object *
bq_yaml_parse(const char *text, size_t len, const char *name, BqError *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	json_object *out = NULL;
	YamlWalk	walk = {.doc = &doc, .name = name, .nodes_left = MAX_YAML_NODES};

	if (!yaml_parser_initialize(&parser))
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory parsing \"%s\"", name);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
	if (!yaml_parser_load(&parser, &doc))
	{
		bq_fail(err, BQ_ERR_FORMAT, "\"%s\" is not valid YAML: %s (line %zu)", name,
				parser.problem != NULL ? parser.problem : "parse error",
				parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		bq_fail(err, BQ_ERR_FORMAT, "\"%s\" is an empty YAML document", name);
	else if (yaml_node_to_json(&walk, root, 0, &out, err) != BQ_OK)
	{
		json_object_put(out);
		out = NULL;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return out;
}

/* ---- the tar archive ---------------------------------------------------- */

/*
 * The entry's name without leading "./", or NULL when the path is absolute,
 * climbs out through "..", or is not printable ASCII (NeMo's names are).
 */
static const char *
safe_entry_name(const char *path)
{
	const char *p = path;

	if (path[0] == '/')
		return NULL;
	if (!bq_archive_name_ok(path))
		return NULL;
	for (const char *seg = path; *seg != '\0';)
	{
		size_t		len = strcspn(seg, "/");

		if (len == 2 && seg[0] == '.' && seg[1] == '.')
			return NULL;
		seg += len;
		while (*seg == '/')
			seg++;
	}
	while (p[0] == '.' && p[1] == '/')
	{
		p += 2;
		while (*p == '/')
			p++;
	}
	return p;
}

static int
archive_failure(const Unpacked *u, struct archive *a, BqError *err)
{
	const char *why = archive_error_string(a);

	return bq_fail(err, BQ_ERR_FORMAT, "could not read NeMo archive \"%s\": %s", u->archive,
				   why != NULL ? why : "unknown error");
}

/*
 * The current entry's data, whole, into a new buffer of at most 'limit'.
 */
static int
read_entry_to_memory(Unpacked *u, struct archive *a, struct archive_entry *e, size_t limit,
					 char **data, size_t *len, BqError *err)
{
	la_int64_t	size = archive_entry_size(e);
	la_ssize_t	got;

	if (size < 0 || (uint64_t) size > limit)
		return bq_fail(err, BQ_ERR_FORMAT, "NeMo archive \"%s\": entry \"%s\" is larger than %zu bytes",
					   u->archive, archive_entry_pathname(e), limit);
	if ((*data = malloc((size_t) size + 1)) == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", u->archive);
	got = archive_read_data(a, *data, (size_t) size);
	if (got != size)
		return got < 0 ? archive_failure(u, a, err) :
			bq_fail(err, BQ_ERR_FORMAT, "NeMo archive \"%s\": entry \"%s\" is truncated",
					u->archive, archive_entry_pathname(e));
	(*data)[size] = '\0';
	*len = (size_t) size;
	return BQ_OK;
}

/*
 * Copy the current entry's data into the new file 'path'.
 */
static int
read_entry_to_file(Unpacked *u, struct archive *a, const char *path, BqError *err)
{
	char		buf[1 << 16];
	la_ssize_t	got;
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int			rc = BQ_OK;

	if (fd < 0)
		return bq_fail(err, BQ_ERR_IO, "could not create \"%s\": %s", path, strerror(errno));
	while (rc == BQ_OK && (got = archive_read_data(a, buf, sizeof(buf))) != 0)
	{
		if (got < 0)
			rc = archive_failure(u, a, err);
		for (la_ssize_t done = 0; rc == BQ_OK && done < got;)
		{
			ssize_t		n = write(fd, buf + done, (size_t) (got - done));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				rc = bq_fail(err, BQ_ERR_IO, "could not write \"%s\": %s", path, strerror(errno));
			else
				done += n;
		}
	}
	if (rc == BQ_OK && fsync(fd) != 0)
		rc = bq_fail(err, BQ_ERR_IO, "could not write \"%s\": %s", path, strerror(errno));
	close(fd);
	return rc;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t		n = strlen(s);
	size_t		m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Take one entry: check its kind and path, then keep what the model needs.
 */
static int
take_entry(Unpacked *u, struct archive *a, struct archive_entry *e, const char *weights_path,
		   BqError *err)
{
	const char *path = archive_entry_pathname(e);
	const char *name = path != NULL ? safe_entry_name(path) : NULL;
	mode_t		type = archive_entry_filetype(e);

	if (name == NULL)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "NeMo archive \"%s\": entry \"%s\" has an absolute, \"..\" or non-ASCII path",
					   u->archive, path != NULL && bq_archive_name_ok(path) ? path : "?");
	if (archive_entry_hardlink(e) != NULL || (type != AE_IFREG && type != AE_IFDIR))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "NeMo archive \"%s\": entry \"%s\" is a link or special file; bertqa reads regular files only",
					   u->archive, path);
	if (type == AE_IFDIR || strchr(name, '/') != NULL)
		return BQ_OK;			/* directories and nested files are not used */
	if (strcmp(name, CONFIG_ENTRY) == 0)
	{
		if (u->config_yaml != NULL)
			return bq_fail(err, BQ_ERR_FORMAT, "NeMo archive \"%s\" holds %s twice", u->archive, name);
		return read_entry_to_memory(u, a, e, MAX_CONFIG_BYTES, &u->config_yaml, &u->config_len, err);
	}
	if (strcmp(name, WEIGHTS_ENTRY) == 0)
	{
		if (u->have_weights)
			return bq_fail(err, BQ_ERR_FORMAT, "NeMo archive \"%s\" holds %s twice", u->archive, name);
		u->have_weights = true;
		if (archive_entry_size(e) > MAX_WEIGHTS_BYTES)
			return bq_fail(err, BQ_ERR_FORMAT, "NeMo archive \"%s\": %s is larger than %lld bytes",
						   u->archive, name, (long long) MAX_WEIGHTS_BYTES);
		return read_entry_to_file(u, a, weights_path, err);
	}
	if (has_suffix(name, ".txt") && u->ntexts < MAX_TEXT_FILES)
	{
		TextFile   *t = &u->texts[u->ntexts];

		int			rc;

		if ((t->name = strdup(name)) == NULL)
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", u->archive);
		u->ntexts++;
		rc = read_entry_to_memory(u, a, e, MAX_TEXT_BYTES - u->text_bytes, &t->data, &t->len, err);
		u->text_bytes += t->len;
		return rc;
	}
	return BQ_OK;
}

/*
 * Walk the archive: the config and text files into 'u', the checkpoint
 * into 'weights_path'.
 */
static int
read_archive(Unpacked *u, const char *weights_path, BqError *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int			r;
	int			rc = BQ_OK;

	if (a == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", u->archive);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, u->archive, 1 << 16) != ARCHIVE_OK)
	{
		rc = archive_errno(a) == ENOENT ?
			bq_fail(err, BQ_ERR_NOT_FOUND, "could not open NeMo archive \"%s\": %s", u->archive,
					strerror(ENOENT)) :
			archive_failure(u, a, err);
		archive_read_free(a);
		return rc;
	}
	while (rc == BQ_OK && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF)
	{
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			rc = archive_failure(u, a, err);
		else
			rc = take_entry(u, a, e, weights_path, err);
	}
	archive_read_free(a);
	if (rc == BQ_OK && (u->config_yaml == NULL || !u->have_weights))
		rc = bq_fail(err, BQ_ERR_FORMAT, "NeMo archive \"%s\" lacks %s", u->archive,
					 u->config_yaml == NULL ? CONFIG_ENTRY : WEIGHTS_ENTRY);
	return rc;
}

/* ---- the model directory -------------------------------------------------- */

static json_object *
get_path(json_object *obj, const char *a, const char *b)
{
	json_object *v = NULL;

	if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, a, &v))
		return NULL;
	if (b != NULL && (!json_object_is_type(v, json_type_object) ||
					  !json_object_object_get_ex(v, b, &v)))
		return NULL;
	return v;
}

/*
 * The vocabulary the config's tokenizer.vocab_file names ("nemo:<file>"),
 * or the archive's only *vocab.txt.
 */
static int
find_vocab(const Unpacked *u, json_object *yaml, const TextFile **vocab, BqError *err)
{
	json_object *ref = get_path(yaml, "tokenizer", "vocab_file");
	const char *want = json_object_is_type(ref, json_type_string) ? json_object_get_string(ref) : NULL;
	int			found = 0;

	if (want != NULL && strncmp(want, "nemo:", 5) == 0)
		want += 5;
	if (want != NULL && strrchr(want, '/') != NULL)
		want = strrchr(want, '/') + 1;
	*vocab = NULL;
	for (int i = 0; i < u->ntexts; i++)
	{
		if (want != NULL ? strcmp(u->texts[i].name, want) == 0 :
			has_suffix(u->texts[i].name, "vocab.txt"))
		{
			*vocab = &u->texts[i];
			found++;
		}
	}
	if (found == 1)
		return BQ_OK;
	if (want != NULL)
		return bq_fail(err, BQ_ERR_FORMAT, "NeMo archive \"%s\" lacks the vocabulary \"%s\" its config names",
					   u->archive, want);
	return bq_fail(err, BQ_ERR_FORMAT,
				   "NeMo archive \"%s\": its config names no tokenizer.vocab_file and it holds %s *vocab.txt file",
				   u->archive, found == 0 ? "no" : "more than one");
}

/*
 * The shape of the tensor called 'suffix' under NeMo's, Hugging Face's or
 * no prefix; false when absent or not a matrix.
 */
static bool
matrix_shape(const BqSafetensors *st, const char *suffix, int32_t *rows, int32_t *cols)
{
	static const char *const prefixes[] = {"bert_model.", "bert.", ""};
	char		name[160];

	for (int i = 0; i < 3; i++)
	{
		const BqTensor *t;

		snprintf(name, sizeof(name), "%s%s", prefixes[i], suffix);
		t = bq_safetensors_find(st, name);
		if (t != NULL && t->ndim == 2 && t->shape[0] <= INT32_MAX && t->shape[1] <= INT32_MAX)
		{
			*rows = (int32_t) t->shape[0];
			if (cols != NULL)
				*cols = (int32_t) t->shape[1];
			return true;
		}
	}
	return false;
}

/*
 * Sizes from the checkpoint's tensor shapes, for configs without
 * language_model.config.
 */
static int
config_from_shapes(const Unpacked *u, const char *weights_path, BqConfig *c, BqError *err)
{
	BqSafetensors *st = bq_torch_checkpoint_open(weights_path, err);
	char		name[96];
	int32_t		unused;
	bool		found;

	if (st == NULL)
	{
		char		reason[sizeof(err->message)];
		int			rc;

		/* bq_fail clears the detail, so the reason is attached afterwards. */
		snprintf(reason, sizeof(reason), "%s", err->message);
		rc = bq_fail(err, err->status, "NeMo archive \"%s\": %s is not a usable checkpoint",
					 u->archive, WEIGHTS_ENTRY);
		bq_fail_detail(err, "%s", reason);
		return rc;
	}
	memset(c, 0, sizeof(BqConfig));
	c->layer_norm_eps = 1e-12f;
	c->lowercase = true;
	found = matrix_shape(st, "embeddings.word_embeddings.weight", &c->vocab_size, &c->hidden_size) &&
		matrix_shape(st, "embeddings.position_embeddings.weight", &c->max_position_embeddings, NULL) &&
		matrix_shape(st, "embeddings.token_type_embeddings.weight", &c->type_vocab_size, NULL) &&
		matrix_shape(st, "encoder.layer.0.intermediate.dense.weight", &c->intermediate_size, NULL);
	for (;;)
	{
		snprintf(name, sizeof(name), "encoder.layer.%d.attention.self.query.weight", c->num_layers);
		if (c->num_layers >= BQ_MAX_LAYERS || !matrix_shape(st, name, &unused, NULL))
			break;
		c->num_layers++;
	}
	bq_safetensors_close(st);
	c->num_heads = c->hidden_size / HEAD_SIZE;
	if (!found || c->hidden_size % HEAD_SIZE != 0 || c->num_heads == 0 || c->num_layers == 0)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "NeMo archive \"%s\": the encoder's sizes cannot be read from its tensors (and the config has no language_model.config)",
					   u->archive);
	return BQ_OK;
}

/*
 * The BERT configuration: language_model.config, else the tensor shapes;
 * do_lower_case and the post-processing settings from the dataset section.
 */
static int
build_config(const Unpacked *u, json_object *yaml, const char *weights_path, BqConfig *c,
			 BqError *err)
{
	json_object *lm = get_path(yaml, "language_model", "config");
	json_object *lower = get_path(yaml, "dataset", "do_lower_case");
	json_object *dataset = get_path(yaml, "dataset", NULL);
	char		label[600];
	int			rc;

	if (lm != NULL)
	{
		snprintf(label, sizeof(label), "%s: language_model.config", u->archive);
		rc = bq_config_from_json(lm, label, NULL, NULL, c, err);
	}
	else
		rc = config_from_shapes(u, weights_path, c, err);
	if (rc == BQ_OK && lower != NULL)
	{
		if (!json_object_is_type(lower, json_type_boolean))
			return bq_fail(err, BQ_ERR_FORMAT, "%s: dataset.do_lower_case must be true or false",
						   u->archive);
		c->lowercase = json_object_get_boolean(lower);
	}
	if (rc == BQ_OK && dataset != NULL)
	{
		snprintf(label, sizeof(label), "%s: dataset", u->archive);
		rc = bq_qa_defaults_from_json(dataset, label, &c->qa_defaults, err);
	}
	return rc;
}

/*
 * Fill the staging directory 'dir' from the archive.
 */
static int
unpack_into(Unpacked *u, const char *dir, BqError *err)
{
	char	   *weights = bq_model_path(dir, "pytorch_model.bin");
	char	   *config = bq_model_path(dir, "config.json");
	char	   *vocab_path = bq_model_path(dir, "vocab.txt");
	json_object *yaml = NULL;
	const TextFile *vocab;
	BqConfig	c;
	char		label[600];
	int			rc = BQ_OK;

	if (weights == NULL || config == NULL || vocab_path == NULL)
		rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory unpacking \"%s\"", u->archive);
	if (rc == BQ_OK)
		rc = read_archive(u, weights, err);
	snprintf(label, sizeof(label), "%s: %s", u->archive, CONFIG_ENTRY);
	if (rc == BQ_OK && (yaml = bq_yaml_parse(u->config_yaml, u->config_len, label, err)) == NULL)
		rc = err->status;
	if (rc == BQ_OK && !json_object_is_type(yaml, json_type_object))
		rc = bq_fail(err, BQ_ERR_FORMAT, "%s is not a YAML mapping", label);
	if (rc == BQ_OK)
		rc = find_vocab(u, yaml, &vocab, err);
	if (rc == BQ_OK)
		rc = build_config(u, yaml, weights, &c, err);
	if (rc == BQ_OK)
		rc = bq_config_write(&c, config, err);
	if (rc == BQ_OK)
		rc = bq_write_file(vocab_path, vocab->data, vocab->len, true, err);
	json_object_put(yaml);
	free(weights);
	free(config);
	free(vocab_path);
	return rc;
}

void
bq_nemo_remove_unpacked(const char *dir)
{
	static const char *const files[] = {"pytorch_model.bin", "config.json", "vocab.txt", NULL};

	for (int i = 0; files[i] != NULL; i++)
	{
		char	   *path = bq_model_path(dir, files[i]);

		if (path != NULL)
			unlink(path);
		free(path);
	}
	rmdir(dir);
}

/*
 * "<out_dir>.tmp-XXXXXX", created.
 */
static char *
make_staging_dir(const char *out_dir, BqError *err)
{
	size_t		len = strlen(out_dir) + sizeof(".tmp-XXXXXX");
	char	   *staging = malloc(len);

	if (staging == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory unpacking into \"%s\"", out_dir);
		return NULL;
	}
	snprintf(staging, len, "%s.tmp-XXXXXX", out_dir);
	if (mkdtemp(staging) == NULL)
	{
		bq_fail(err, BQ_ERR_IO, "could not create a directory next to \"%s\": %s", out_dir,
				strerror(errno));
		free(staging);
		return NULL;
	}
	return staging;
}

int
bq_nemo_unpack(const char *nemo_path, const char *out_dir, BqError *err)
{
	Unpacked	u = {.archive = nemo_path};
	char	   *staging = make_staging_dir(out_dir, err);
	int			rc;

	if (staging == NULL)
		return err->status;
	rc = unpack_into(&u, staging, err);
	if (rc == BQ_OK && rename(staging, out_dir) != 0)
		rc = bq_fail(err, BQ_ERR_IO, "could not move the unpacked model to \"%s\": %s", out_dir, strerror(errno));
	if (rc != BQ_OK)
		bq_nemo_remove_unpacked(staging);
	free(staging);
	free(u.config_yaml);
	for (int i = 0; i < u.ntexts; i++)
	{
		free(u.texts[i].name);
		free(u.texts[i].data);
	}
	return rc;
}

int
bq_nemo_prepare(const char *nemo_path, const char *cache_dir, char **dir, bool *temporary,
				BqError *err)
{
	struct stat sb;
	BqFileIdentity id;
	int			rc;

	*dir = NULL;
	*temporary = cache_dir == NULL;
	if (stat(nemo_path, &sb) != 0)
		return bq_fail(err, errno == ENOENT ? BQ_ERR_NOT_FOUND : BQ_ERR_IO,
					   "could not open NeMo archive \"%s\": %s", nemo_path, strerror(errno));
	if (cache_dir == NULL)
	{
		const char *tmp = getenv("TMPDIR");
		char		base[4096];

		snprintf(base, sizeof(base), "%s/bertqa-nemo", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
		if ((*dir = make_staging_dir(base, err)) == NULL)
			return err->status;
		rmdir(*dir);			/* bq_nemo_unpack creates it by renaming */
	}
	else
	{
		if ((rc = bq_cache_dir_make(cache_dir, err)) != BQ_OK)
			return rc;
		id = bq_file_identity(&sb);
		if ((*dir = bq_cache_path(cache_dir, nemo_path, &id, ".nemo.d")) == NULL)
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory loading \"%s\"", nemo_path);
		if ((rc = bq_cache_record_source(cache_dir, nemo_path, &id, err)) != BQ_OK)
		{
			free(*dir);
			*dir = NULL;
			return rc;
		}
		if (stat(*dir, &sb) == 0 && S_ISDIR(sb.st_mode))
			return BQ_OK;		/* unpacked before; renamed into place whole */
	}
	rc = bq_nemo_unpack(nemo_path, *dir, err);
	if (rc != BQ_OK && !*temporary && stat(*dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		rc = BQ_OK;				/* another process unpacked it first */
	if (rc != BQ_OK)
	{
		free(*dir);
		*dir = NULL;
	}
	return rc;
}
