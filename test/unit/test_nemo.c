/*
 * test_nemo.c - NeMo archives and the pytorch_model.bin fixture: both
 * compute the safetensors fixture's logits bit for bit on every window of
 * the SQuAD fixtures (so their answers are those test_qa_parity checks
 * against run_squad.py); the .nemo is unpacked once per file version into
 * the cache directory and converts to a Hugging Face directory with the
 * same logits; hostile archives (".." and absolute paths, links, missing
 * members, bad YAML) fail with clear errors.  Archives are written here
 * with libarchive.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "encoder.h"
#include "file_util.h"
#include "model.h"
#include "model_export.h"
#include "nemo_archive.h"
#include "qa.h"

#define TINY "test/fixtures/tiny-model"
#define NEMO "test/fixtures/tiny-model-formats/tiny-qa.nemo"
#define SEQ384 "test/fixtures/squad/google-ref.public.seq384.jsonl"
#define SEQ64 "test/fixtures/squad/google-ref.public.seq64.jsonl"

/* ---- helpers ---------------------------------------------------------- */

/* Entries of 'dir' (not . and ..) whose names end in 'suffix' ("" for all). */
static int
count_entries_ending(const char *dir, const char *suffix)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	int			n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
	{
		size_t		len = strlen(e->d_name);
		size_t		suffix_len = strlen(suffix);

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n += len >= suffix_len && strcmp(e->d_name + len - suffix_len, suffix) == 0;
	}
	closedir(d);
	return n;
}

/* Files in 'dir' (not . and ..). */
static int
count_entries(const char *dir)
{
	return count_entries_ending(dir, "");
}

/* Remove 'dir' and the files (and one level of directories) inside. */
static void
remove_tree(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	char		path[1024];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
	{
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			remove_tree(path);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * Logits of every window of a SQuAD fixture file, appended to *out.
 */
static void
fixture_logits(const BqModel *model, const char *path, float **out, size_t *n)
{
	BqError		err;
	size_t		len;
	char	   *text = bq_read_file(path, &len, &err);
	BqEncoder  *enc = bq_encoder_new(model, BQ_PRECISION_FP32, &err);

	CHECK(text != NULL && enc != NULL);
	for (char *line = text; text != NULL && enc != NULL && line < text + len;)
	{
		char	   *nl = memchr(line, '\n', (size_t) (text + len - line));
		size_t		line_len = nl != NULL ? (size_t) (nl - line) : (size_t) (text + len - line);
		json_object *obj = bq_json_parse(line, line_len, path, &err);
		json_object *features = NULL;

		line += line_len + 1;
		if (obj == NULL || !json_object_object_get_ex(obj, "features", &features))
		{
			json_object_put(obj);
			continue;
		}
		for (size_t f = 0; f < json_object_array_length(features); f++)
		{
			json_object *feat = json_object_array_get_idx(features, f);
			json_object *ids = json_object_object_get(feat, "input_ids");
			json_object *types = json_object_object_get(feat, "token_type_ids");
			int32_t		seq = (int32_t) json_object_array_length(ids);
			int32_t    *id = malloc(sizeof(int32_t) * (size_t) seq);
			int32_t    *type = malloc(sizeof(int32_t) * (size_t) seq);
			float	   *start;
			float	   *end;

			*out = realloc(*out, sizeof(float) * (*n + 2 * (size_t) seq));
			start = *out + *n;
			end = start + seq;
			for (int32_t i = 0; i < seq; i++)
			{
				id[i] = json_object_get_int(json_object_array_get_idx(ids, i));
				type[i] = json_object_get_int(json_object_array_get_idx(types, i));
			}
			CHECK_INT_EQ(bq_encoder_run(enc, 1, (const int32_t *const *) &id,
										(const int32_t *const *) &type, &seq, &start, &end,
										NULL, &err), BQ_OK);
			*n += 2 * (size_t) seq;
			free(id);
			free(type);
		}
		json_object_put(obj);
	}
	bq_encoder_free(enc);
	free(text);
}

/*
 * Whether two models give the same logits, bit for bit, on every window of
 * the seq64 fixture and, if 'all', of the seq384 one too.
 */
static bool
same_logits(const BqModel *a, const BqModel *b, bool all)
{
	float	   *la = NULL;
	float	   *lb = NULL;
	size_t		na = 0;
	size_t		nb = 0;
	bool		same;

	if (all)
	{
		fixture_logits(a, SEQ384, &la, &na);
		fixture_logits(b, SEQ384, &lb, &nb);
	}
	fixture_logits(a, SEQ64, &la, &na);
	fixture_logits(b, SEQ64, &lb, &nb);
	same = na > 10000 && na == nb && memcmp(la, lb, na * sizeof(float)) == 0;
	free(la);
	free(lb);
	return same;
}

/* One member of an archive being written. */
typedef struct TarMember
{
	const char *name;
	const char *data;			/* regular file contents, or NULL */
	size_t		len;
	const char *symlink;		/* link target, or NULL */
	const char *hardlink;		/* hard link target, or NULL */
} TarMember;

static void
write_tar(const char *path, const TarMember *m, int n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	CHECK(archive_write_open_filename(a, path) == ARCHIVE_OK);
	for (int i = 0; i < n; i++)
	{
		archive_entry_clear(e);
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_perm(e, 0644);
		if (m[i].symlink != NULL)
		{
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, m[i].symlink);
		}
		else
		{
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, m[i].hardlink != NULL ? 0 : (la_int64_t) m[i].len);
			if (m[i].hardlink != NULL)
				archive_entry_set_hardlink(e, m[i].hardlink);
		}
		CHECK(archive_write_header(a, e) >= ARCHIVE_WARN);	/* WARN: a name not in the locale */
		if (m[i].data != NULL && m[i].hardlink == NULL)
			CHECK(archive_write_data(a, m[i].data, m[i].len) == (la_ssize_t) m[i].len);
	}
	archive_entry_free(e);
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
}

/* The fixture's checkpoint and vocabulary, for building archives. */
static char *fixture_ckpt;
static size_t fixture_ckpt_len;
static char *fixture_vocab;
static size_t fixture_vocab_len;

static const char config_yaml[] =
	"dataset:\n  do_lower_case: true\n  doc_stride: 100\n  version_2_with_negative: false\n"
	"tokenizer:\n  vocab_file: nemo:v_vocab.txt\n";

static void
load_fixture_parts(void)
{
	BqError		err;

	fixture_ckpt = bq_read_file("test/fixtures/tiny-model-formats/pytorch_model.bin", &fixture_ckpt_len, &err);
	fixture_vocab = bq_read_file(TINY "/vocab.txt", &fixture_vocab_len, &err);
	CHECK(fixture_ckpt != NULL && fixture_vocab != NULL);
}

/*
 * Unpack an archive of 'members' into a fresh directory: the status, with
 * the message checked to contain 'needle' on failure.
 */
static int
unpack_members(const char *tmp, const TarMember *members, int n, const char *needle)
{
	char		archive[600];
	char		out[600];
	BqError		err;
	int			rc;

	snprintf(archive, sizeof(archive), "%s/t.nemo", tmp);
	snprintf(out, sizeof(out), "%s/out", tmp);
	write_tar(archive, members, n);
	bq_error_clear(&err);
	rc = bq_nemo_unpack(archive, out, &err);
	if (needle != NULL)
	{
		CHECK(rc != BQ_OK);
		if (strstr(err.message, needle) == NULL)
			fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err.message, needle);
		CHECK(strstr(err.message, needle) != NULL);
		CHECK(strstr(err.message, "t.nemo") != NULL);
		CHECK_INT_EQ(count_entries(tmp), 1);	/* only the archive: no staging left */
	}
	unlink(archive);
	return rc;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_yaml(void)
{
	static const char doc[] =
		"a: 1\nb: 1.0e-12\nc: true\nd: null\ne: '7'\nf: [1, -2]\ng: {h: no}\ni: nemo:x.txt\n";
	static const char bomb[] =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
	BqError		err;
	json_object *j = bq_yaml_parse(doc, sizeof(doc) - 1, "doc.yaml", &err);
	json_object *v;

	CHECK(j != NULL);
	if (j != NULL)
	{
		CHECK(json_object_object_get_ex(j, "a", &v) && json_object_is_type(v, json_type_int));
		CHECK(json_object_object_get_ex(j, "b", &v) && json_object_is_type(v, json_type_double) &&
			  json_object_get_double(v) == 1.0e-12);
		CHECK(json_object_object_get_ex(j, "c", &v) && json_object_get_boolean(v));
		CHECK(json_object_object_get_ex(j, "d", &v) && v == NULL);
		CHECK(json_object_object_get_ex(j, "e", &v) && json_object_is_type(v, json_type_string));
		CHECK(json_object_object_get_ex(j, "f", &v) && json_object_array_length(v) == 2 &&
			  json_object_get_int(json_object_array_get_idx(v, 1)) == -2);
		CHECK(json_object_object_get_ex(j, "g", &v) &&
			  json_object_is_type(json_object_object_get(v, "h"), json_type_boolean));
		CHECK(json_object_object_get_ex(j, "i", &v) &&
			  strcmp(json_object_get_string(v), "nemo:x.txt") == 0);
	}
	json_object_put(j);

	j = bq_yaml_parse(bomb, sizeof(bomb) - 1, "bomb.yaml", &err);
	CHECK(j == NULL && strstr(err.message, "too large") != NULL);
	j = bq_yaml_parse("a: [1, 2\n", 9, "bad.yaml", &err);
	CHECK(j == NULL && err.status == BQ_ERR_FORMAT && strstr(err.message, "bad.yaml") != NULL);
}

/*
 * A Hugging Face directory of links to the tiny model's config and vocab
 * and the pytorch_model.bin fixture, in 'dir'.
 */
static void
make_pytorch_dir(const char *dir)
{
	static const char *const links[][2] = {
		{TINY "/config.json", "config.json"},
		{TINY "/vocab.txt", "vocab.txt"},
		{"test/fixtures/tiny-model-formats/pytorch_model.bin", "pytorch_model.bin"},
	};
	char		cwd[512];
	char		from[1024];
	char		to[1024];

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	for (int i = 0; i < 3; i++)
	{
		snprintf(from, sizeof(from), "%s/%s", cwd, links[i][0]);
		snprintf(to, sizeof(to), "%s/%s", dir, links[i][1]);
		CHECK(symlink(from, to) == 0);
	}
}

/*
 * The .nemo fixture (without a cache) and the pytorch_model.bin fixture:
 * the safetensors fixture's logits, bit for bit, on every window of both
 * SQuAD fixtures (so the same answers); nothing left in the temporary dir.
 */
static void
test_formats_logits(void)
{
	char		tmp[] = "/tmp/bq-nemo-XXXXXX";
	char		pt_dir[] = "/tmp/bq-pt-XXXXXX";
	BqError		err;
	BqModel    *ref;
	BqModel    *nemo;
	BqModel    *pt;

	CHECK(mkdtemp(tmp) != NULL && mkdtemp(pt_dir) != NULL);
	make_pytorch_dir(pt_dir);
	setenv("TMPDIR", tmp, 1);
	ref = bq_model_load(TINY, &err);
	nemo = bq_model_load(NEMO, &err);
	pt = bq_model_load(pt_dir, &err);
	unsetenv("TMPDIR");
	CHECK(ref != NULL && nemo != NULL && pt != NULL);
	if (ref != NULL && nemo != NULL && pt != NULL)
	{
		CHECK_STR_EQ(nemo->format, "nemo");
		CHECK_STR_EQ(nemo->path, NEMO);
		CHECK_STR_EQ(pt->format, "pytorch");
		CHECK_INT_EQ(nemo->config.num_heads, 4);
		CHECK_INT_EQ(nemo->bytes_converted, 0);
		/* the dataset section's post-processing settings */
		CHECK_INT_EQ(nemo->config.qa_defaults.max_seq_len, 384);
		CHECK_INT_EQ(nemo->config.qa_defaults.doc_stride, 128);
		CHECK_INT_EQ(nemo->config.qa_defaults.max_query_len, 64);
		CHECK_INT_EQ(nemo->config.qa_defaults.max_answer_len, 30);
		CHECK_INT_EQ(nemo->config.qa_defaults.n_best, 20);
		CHECK(nemo->config.qa_defaults.has_null_threshold &&
			  nemo->config.qa_defaults.null_threshold == 0.0);
		CHECK(nemo->config.qa_defaults.has_allow_no_answer &&
			  nemo->config.qa_defaults.allow_no_answer);
		CHECK_INT_EQ(ref->config.qa_defaults.doc_stride, 0);
		CHECK(same_logits(ref, nemo, true));
		CHECK(same_logits(ref, pt, true));
	}
	CHECK_INT_EQ(count_entries(tmp), 0);
	bq_model_free(ref);
	bq_model_free(nemo);
	bq_model_free(pt);
	rmdir(tmp);
	remove_tree(pt_dir);
}

/*
 * With a cache directory the archive is unpacked once per version of the
 * file; a changed file gets a fresh entry.
 */
static void
test_nemo_cache(void)
{
	char		tmp[] = "/tmp/bq-nemo-XXXXXX";
	char		cache[600];
	char		copy[600];
	BqModelLoadOptions options;
	BqError		err;
	BqModel    *m;
	size_t		len;
	char	   *bytes = bq_read_file(NEMO, &len, &err);
	FILE	   *f;
	struct timespec times[2] = {{0, UTIME_OMIT}, {1000000, 0}};

	CHECK(mkdtemp(tmp) != NULL && bytes != NULL);
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	snprintf(copy, sizeof(copy), "%s/model.nemo", tmp);
	f = fopen(copy, "wb");
	CHECK(f != NULL && fwrite(bytes, 1, len, f) == len && fclose(f) == 0);
	free(bytes);
	options.cache_dir = cache;

	m = bq_model_load_with(copy, &options, &err);
	CHECK(m != NULL && strcmp(m->format, "nemo") == 0);
	bq_model_free(m);
	CHECK_INT_EQ(count_entries_ending(cache, ".nemo.d"), 1);
	m = bq_model_load_with(copy, &options, &err);
	CHECK(m != NULL);
	bq_model_free(m);
	CHECK_INT_EQ(count_entries_ending(cache, ".nemo.d"), 1);	/* reused */

	CHECK(utimensat(AT_FDCWD, copy, times, 0) == 0);
	m = bq_model_load_with(copy, &options, &err);
	CHECK(m != NULL);
	bq_model_free(m);
	CHECK_INT_EQ(count_entries_ending(cache, ".nemo.d"), 2);	/* the changed file is unpacked anew */
	remove_tree(cache);
	unlink(copy);
	rmdir(tmp);
}

/* bertqa convert's core: a .nemo written as a HF directory. */
static void
test_export(void)
{
	char		tmp[] = "/tmp/bq-nemo-XXXXXX";
	BqError		err;
	BqModel    *nemo = bq_model_load(NEMO, &err);
	BqModel    *back = NULL;

	CHECK(mkdtemp(tmp) != NULL && nemo != NULL);
	if (nemo != NULL)
	{
		CHECK_INT_EQ(bq_model_export(nemo, tmp, &err), BQ_OK);
		back = bq_model_load(tmp, &err);
		CHECK(back != NULL);
		if (back != NULL)
		{
			CHECK_STR_EQ(back->format, "safetensors");
			CHECK_INT_EQ(back->config.num_heads, 4);
			CHECK(same_logits(nemo, back, false));
		}
	}
	bq_model_free(nemo);
	bq_model_free(back);
	remove_tree(tmp);
}

/*
 * An archive without language_model.config: sizes from the tensors, with
 * 64-wide heads; the dataset's settings kept in config.json.
 */
static void
test_config_from_shapes(void)
{
	char		tmp[] = "/tmp/bq-nemo-XXXXXX";
	char		out[600];
	TarMember	m[3] = {
		{"./model_config.yaml", config_yaml, sizeof(config_yaml) - 1},
		{"./model_weights.ckpt", fixture_ckpt, fixture_ckpt_len},
		{"./v_vocab.txt", fixture_vocab, fixture_vocab_len},
	};
	BqError		err;
	BqModel    *model;
	json_object *config;
	json_object *defaults;

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(out, sizeof(out), "%s/out", tmp);
	CHECK_INT_EQ(unpack_members(tmp, m, 3, NULL), BQ_OK);
	model = bq_model_load(out, &err);
	CHECK(model != NULL);
	if (model != NULL)
	{
		CHECK_INT_EQ(model->config.hidden_size, 64);
		CHECK_INT_EQ(model->config.num_heads, 1);
		CHECK_INT_EQ(model->config.num_layers, 2);
		CHECK_INT_EQ(model->config.intermediate_size, 256);
		CHECK_INT_EQ(model->config.vocab_size, 30522);
		CHECK_STR_EQ(model->format, "pytorch");
		CHECK_INT_EQ(model->config.qa_defaults.doc_stride, 100);
		CHECK_INT_EQ(model->config.qa_defaults.n_best, 0);
		CHECK(!model->config.qa_defaults.has_null_threshold);
		/* a SQuAD v1.1 model: never "no answer" unless a caller says otherwise */
		CHECK(model->config.qa_defaults.has_allow_no_answer &&
			  !model->config.qa_defaults.allow_no_answer);
		{
			BqQaSettings settings;

			bq_qa_default_settings(&settings);
			bq_qa_apply_model_defaults(&settings, &model->config.qa_defaults, 0);
			CHECK(!settings.allow_no_answer && settings.doc_stride == 100);
			settings.allow_no_answer = true;
			bq_qa_apply_model_defaults(&settings, &model->config.qa_defaults,
									   BQ_QA_SET_ALLOW_NO_ANSWER);
			CHECK(settings.allow_no_answer);
		}
	}
	bq_model_free(model);
	snprintf(out, sizeof(out), "%s/out/config.json", tmp);
	config = bq_json_load_file(out, &err);
	CHECK(config != NULL && json_object_object_get_ex(config, "bertqa_qa_defaults", &defaults) &&
		  json_object_get_int(json_object_object_get(defaults, "doc_stride")) == 100 &&
		  !json_object_get_boolean(json_object_object_get(defaults, "version_2_with_negative")));
	json_object_put(config);
	snprintf(out, sizeof(out), "%s/out", tmp);
	remove_tree(out);
	rmdir(tmp);
}

static void
test_hostile_archives(void)
{
	char		tmp[] = "/tmp/bq-nemo-XXXXXX";
	const char *ck = fixture_ckpt;
	size_t		ckl = fixture_ckpt_len;
	const char *vo = fixture_vocab;
	size_t		vol = fixture_vocab_len;
	const char *cy = config_yaml;
	size_t		cyl = sizeof(config_yaml) - 1;
	char		path[600];
	BqError		err;

	CHECK(mkdtemp(tmp) != NULL);
	unpack_members(tmp, (TarMember[]) {{"../model_config.yaml", cy, cyl}, {"model_weights.ckpt", ck, ckl}},
				   2, "\"..\" or non-ASCII path");
	unpack_members(tmp, (TarMember[]) {{"./a/../../x.txt", vo, vol}}, 1, "\"..\" or non-ASCII");
	unpack_members(tmp, (TarMember[]) {{"caf\xc3\xa9.txt", vo, vol}}, 1, "entry \"?\"");
	unpack_members(tmp, (TarMember[]) {{"/etc/model_config.yaml", cy, cyl}}, 1, "absolute");
	unpack_members(tmp, (TarMember[]) {{"model_config.yaml", cy, cyl}, {"model_weights.ckpt", NULL, 0, "/etc/passwd"}},
				   2, "link");
	unpack_members(tmp, (TarMember[]) {{"v_vocab.txt", vo, vol}, {"model_weights.ckpt", NULL, 0, NULL, "v_vocab.txt"}},
				   2, "link");
	unpack_members(tmp, (TarMember[]) {{"model_config.yaml", cy, cyl}, {"v_vocab.txt", vo, vol}},
				   2, "lacks model_weights.ckpt");
	unpack_members(tmp, (TarMember[]) {{"model_config.yaml", cy, cyl}, {"model_weights.ckpt", ck, ckl}},
				   2, "lacks the vocabulary \"v_vocab.txt\"");
	unpack_members(tmp, (TarMember[]) {{"model_config.yaml", "a: [1\n", 6}, {"model_weights.ckpt", ck, ckl}},
				   2, "not valid YAML");
	unpack_members(tmp, (TarMember[]) {{"model_config.yaml", cy, cyl}, {"model_weights.ckpt", vo, 4096},
	{"v_vocab.txt", vo, vol}}, 3, "not a usable checkpoint");

	/* not an archive at all, and a missing file */
	snprintf(path, sizeof(path), "%s/t.nemo", tmp);
	{
		FILE	   *f = fopen(path, "wb");

		CHECK(f != NULL && fwrite(fixture_vocab, 1, 1000, f) == 1000 && fclose(f) == 0);
	}
	CHECK(bq_model_load(path, &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
	CHECK(strstr(err.message, "t.nemo") != NULL);
	unlink(path);
	CHECK(bq_model_load(path, &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_NOT_FOUND);
	rmdir(tmp);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	load_fixture_parts();
	RUN_TEST(test_yaml);
	RUN_TEST(test_formats_logits);
	RUN_TEST(test_nemo_cache);
	RUN_TEST(test_export);
	RUN_TEST(test_config_from_shapes);
	RUN_TEST(test_hostile_archives);
	free(fixture_ckpt);
	free(fixture_vocab);
	UNIT_DONE();
}
