/*
 * test_torch_checkpoint.c - PyTorch checkpoints (torch.save zip format):
 * the fixture's tensors are the safetensors fixture's bytes, mapped in
 * place and 64-byte aligned; a directory with pytorch_model.bin gives the
 * same logits bit for bit; and hostile archives and pickles (bad opcodes,
 * foreign globals, missing storages, offsets past the end, strides,
 * compressed or overlapping entries, random corruption) each fail with a
 * clear error, never a crash.
 *
 * Small archives are built here: a stored zip writer of a few lines and
 * pickles spelled out opcode by opcode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "encoder.h"
#include "file_util.h"
#include "model.h"
#include "pickle_reader.h"
#include "safetensors.h"
#include "torch_checkpoint.h"
#include "zip_reader.h"

#define TINY "test/fixtures/tiny-model"
#define FORMATS "test/fixtures/tiny-model-formats"

/* ---- a stored zip writer ---------------------------------------------- */

typedef struct Buf
{
	unsigned char data[8192];
	size_t		len;
} Buf;

static void
put(Buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
put16(Buf *b, uint32_t v)
{
	unsigned char x[2] = {v & 0xff, (v >> 8) & 0xff};

	put(b, x, 2);
}

static void
put32(Buf *b, uint32_t v)
{
	unsigned char x[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};

	put(b, x, 4);
}

typedef struct ZipMember
{
	const char *name;
	const void *data;
	size_t		len;
} ZipMember;

/*
 * A zip of stored members; 'method' is written for every member and
 * 'size_bump' is added to the first member's recorded size.
 */
static void
build_zip(Buf *z, const ZipMember *m, int n, uint32_t method, uint32_t size_bump)
{
	uint32_t	offsets[8];
	size_t		cd;
	uint32_t	cd_size;

	z->len = 0;
	for (int i = 0; i < n; i++)
	{
		uint32_t	size = (uint32_t) m[i].len + (i == 0 ? size_bump : 0);

		offsets[i] = (uint32_t) z->len;
		put32(z, 0x04034b50);
		put16(z, 20);
		put16(z, 0);
		put16(z, method);
		put32(z, 0);
		put32(z, 0);
		put32(z, size);
		put32(z, size);
		put16(z, (uint32_t) strlen(m[i].name));
		put16(z, 0);
		put(z, m[i].name, strlen(m[i].name));
		put(z, m[i].data, m[i].len);
	}
	cd = z->len;
	for (int i = 0; i < n; i++)
	{
		uint32_t	size = (uint32_t) m[i].len + (i == 0 ? size_bump : 0);

		put32(z, 0x02014b50);
		put16(z, 20);
		put16(z, 20);
		put16(z, 0);
		put16(z, method);
		put32(z, 0);
		put32(z, 0);
		put32(z, size);
		put32(z, size);
		put16(z, (uint32_t) strlen(m[i].name));
		put16(z, 0);
		put16(z, 0);
		put16(z, 0);
		put16(z, 0);
		put32(z, 0);
		put32(z, offsets[i]);
		put(z, m[i].name, strlen(m[i].name));
	}
	cd_size = (uint32_t) (z->len - cd);
	put32(z, 0x06054b50);
	put16(z, 0);
	put16(z, 0);
	put16(z, (uint32_t) n);
	put16(z, (uint32_t) n);
	put32(z, cd_size);
	put32(z, (uint32_t) cd);
	put16(z, 0);
}

/* ---- pickles ---------------------------------------------------------- */

/* Pieces of a one-tensor state dict {"w": tensor}; see pickle_with. */
#define P_HEAD "\x80\x02}q\x00(X\x01\x00\x00\x00wq\x01" \
	"ctorch._utils\n_rebuild_tensor_v2\nq\x02((X\x07\x00\x00\x00storage"
#define P_FLOAT "ctorch\nFloatStorage\n"
#define P_TAIL_ARGS "X\x03\x00\x00\x00" "cpuK\x04tQ"
#define P_END "\x89" "ccollections\nOrderedDict\n)RtRu."

/*
 * The pickle of {"w": tensor} with storage class 'storage_global', key
 * 'key', then 'layout' (offset, shape tuple and stride tuple opcodes).
 */
static size_t
pickle_with(unsigned char *out, const char *storage_global, const char *key, const char *layout,
			size_t layout_len)
{
	size_t		n = 0;
	unsigned char key_len[4] = {(unsigned char) strlen(key), 0, 0, 0};

	memcpy(out + n, P_HEAD, sizeof(P_HEAD) - 1);
	n += sizeof(P_HEAD) - 1;
	memcpy(out + n, storage_global, strlen(storage_global));
	n += strlen(storage_global);
	out[n++] = 'X';
	memcpy(out + n, key_len, 4);
	n += 4;
	memcpy(out + n, key, strlen(key));
	n += strlen(key);
	memcpy(out + n, P_TAIL_ARGS, sizeof(P_TAIL_ARGS) - 1);
	n += sizeof(P_TAIL_ARGS) - 1;
	memcpy(out + n, layout, layout_len);
	n += layout_len;
	memcpy(out + n, P_END, sizeof(P_END) - 1);
	n += sizeof(P_END) - 1;
	return n;
}

/* offset 0, shape (2, 2), strides (2, 1): contiguous */
#define LAYOUT_OK "K\x00K\x02K\x02\x86K\x02K\x01\x86"
/* offset 0, shape (2, 2), strides (1, 2): transposed */
#define LAYOUT_TRANSPOSED "K\x00K\x02K\x02\x86K\x01K\x02\x86"
/* offset 1, shape (2, 2): one element past the storage */
#define LAYOUT_PAST_END "K\x01K\x02K\x02\x86K\x02K\x01\x86"

static const float storage_data[4] = {1.0f, 2.0f, 3.0f, 4.0f};

/*
 * Parse a checkpoint archive holding 'pickle' and the storage "0".
 */
static BqSafetensors *
parse_archive(const unsigned char *pickle, size_t pickle_len, uint32_t method,
			  uint32_t size_bump, BqError *err)
{
	static Buf	z;
	ZipMember	m[2] = {
		{"archive/data.pkl", pickle, pickle_len},
		{"archive/data/0", storage_data, sizeof(storage_data)},
	};

	build_zip(&z, m, 2, method, size_bump);
	return bq_torch_checkpoint_parse(z.data, z.len, "hostile.bin", err);
}

/*
 * Expect parsing to fail with 'status' and a message containing 'needle'.
 */
static void
expect_failure(BqSafetensors *st, const BqError *err, BqStatus status, const char *needle)
{
	CHECK(st == NULL);
	bq_safetensors_close(st);
	CHECK_INT_EQ(err->status, status);
	if (strstr(err->message, needle) == NULL)
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err->message, needle);
	CHECK(strstr(err->message, needle) != NULL);
	CHECK(strstr(err->message, "hostile.bin") != NULL);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_small_archive(void)
{
	unsigned char p[512];
	size_t		n = pickle_with(p, P_FLOAT, "0", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	BqError		err;
	BqSafetensors *st = parse_archive(p, n, 0, 0, &err);
	const BqTensor *t;

	CHECK(st != NULL);
	if (st == NULL)
		return;
	CHECK_INT_EQ(st->count, 1);
	t = bq_safetensors_find(st, "w");
	CHECK(t != NULL);
	if (t != NULL)
	{
		CHECK_STR_EQ(t->dtype_name, "F32");
		CHECK_INT_EQ(t->ndim, 2);
		CHECK_INT_EQ(t->shape[0], 2);
		CHECK_INT_EQ(t->elements, 4);
		CHECK(memcmp(t->data, storage_data, sizeof(storage_data)) == 0);
	}
	bq_safetensors_close(st);
}

static void
test_hostile_pickles(void)
{
	unsigned char p[512];
	size_t		n;
	BqError		err;

	n = pickle_with(p, "cos\nsystem\n", "0", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	expect_failure(parse_archive(p, n, 0, 0, &err), &err, BQ_ERR_FORMAT, "not allowed");
	CHECK(strstr(err.message, "os.system") != NULL);

	n = pickle_with(p, P_FLOAT, "7", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	expect_failure(parse_archive(p, n, 0, 0, &err), &err, BQ_ERR_FORMAT, "does not exist");

	n = pickle_with(p, P_FLOAT, "../0", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	expect_failure(parse_archive(p, n, 0, 0, &err), &err, BQ_ERR_FORMAT, "not a plain name");

	n = pickle_with(p, P_FLOAT, "0", LAYOUT_PAST_END, sizeof(LAYOUT_PAST_END) - 1);
	expect_failure(parse_archive(p, n, 0, 0, &err), &err, BQ_ERR_FORMAT, "past the end");

	n = pickle_with(p, P_FLOAT, "0", LAYOUT_TRANSPOSED, sizeof(LAYOUT_TRANSPOSED) - 1);
	expect_failure(parse_archive(p, n, 0, 0, &err), &err, BQ_ERR_UNSUPPORTED, "not contiguous");

	/* a storage entry of the wrong size for its class */
	n = pickle_with(p, "ctorch\nHalfStorage\n", "0", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	expect_failure(parse_archive(p, n, 0, 0, &err), &err, BQ_ERR_FORMAT, "size");

	/* INST (an opcode that calls by name) in place of the first MARK */
	n = pickle_with(p, P_FLOAT, "0", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	p[5] = 'i';
	expect_failure(parse_archive(p, n, 0, 0, &err), &err, BQ_ERR_FORMAT, "opcode 0x69");

	/* a memo key never stored, and a pickle cut before STOP */
	n = pickle_with(p, P_FLOAT, "0", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	memcpy(p + n - 1, "h\x09.", 3);
	expect_failure(parse_archive(p, n + 2, 0, 0, &err), &err, BQ_ERR_FORMAT, "memo");
	n = pickle_with(p, P_FLOAT, "0", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	expect_failure(parse_archive(p, n - 1, 0, 0, &err), &err, BQ_ERR_FORMAT, "without STOP");
}

static void
test_hostile_zips(void)
{
	unsigned char p[512];
	size_t		n = pickle_with(p, P_FLOAT, "0", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	BqError		err;
	Buf			z;
	ZipMember	m[1] = {{"archive/version", "3\n", 2}};

	expect_failure(parse_archive(p, n, 8, 0, &err), &err, BQ_ERR_UNSUPPORTED, "compressed");
	/* data.pkl claiming 8 more bytes runs into the storage's header */
	expect_failure(parse_archive(p, n, 0, 8, &err), &err, BQ_ERR_FORMAT, "overlap");
	/* ... or, claiming more, past the central directory */
	expect_failure(parse_archive(p, n, 0, 4000, &err), &err, BQ_ERR_FORMAT, "central directory");

	build_zip(&z, m, 1, 0, 0);
	expect_failure(bq_torch_checkpoint_parse(z.data, z.len, "hostile.bin", &err), &err,
				   BQ_ERR_FORMAT, "data.pkl");
	expect_failure(bq_torch_checkpoint_parse("PK\x05\x06", 4, "hostile.bin", &err), &err,
				   BQ_ERR_FORMAT, "not a zip archive");
}

/*
 * Every prefix of a small archive, and random byte changes anywhere in it:
 * an error or a result, never a crash or a read outside the input (test/run
 * runs this file under valgrind).
 */
static void
test_corruption(void)
{
	unsigned char p[512];
	size_t		n = pickle_with(p, P_FLOAT, "0", LAYOUT_OK, sizeof(LAYOUT_OK) - 1);
	Buf			z;
	ZipMember	m[2] = {
		{"archive/data.pkl", p, n},
		{"archive/data/0", storage_data, sizeof(storage_data)},
	};
	unsigned int seed = 12345;
	int			failures = 0;

	build_zip(&z, m, 2, 0, 0);
	for (size_t len = 0; len < z.len; len++)
	{
		BqError		err;
		unsigned char *copy = malloc(len > 0 ? len : 1);	/* exactly: valgrind sees overreads */
		BqSafetensors *st;

		memcpy(copy, z.data, len);
		st = bq_torch_checkpoint_parse(copy, len, "cut.bin", &err);
		failures += st == NULL;
		bq_safetensors_close(st);
		free(copy);
	}
	CHECK_INT_EQ(failures, (long long) z.len);
	for (int round = 0; round < 3000; round++)
	{
		Buf			c = z;
		BqError		err;
		BqSafetensors *st;

		for (int k = 0; k < 3; k++)
		{
			seed = seed * 1103515245u + 12345u;
			c.data[(seed >> 8) % c.len] = (unsigned char) (seed >> 24);
		}
		st = bq_torch_checkpoint_parse(c.data, c.len, "flipped.bin", &err);
		if (st == NULL)
			CHECK(err.status == BQ_ERR_FORMAT || err.status == BQ_ERR_UNSUPPORTED);
		bq_safetensors_close(st);
	}
}

/*
 * The fixture holds the safetensors fixture's tensors, byte for byte, at
 * 64-byte aligned offsets of the file.
 */
static void
test_fixture_tensors(void)
{
	BqError		err;
	BqSafetensors *pt = bq_torch_checkpoint_open(FORMATS "/pytorch_model.bin", &err);
	BqSafetensors *ref = bq_safetensors_open(TINY "/model.safetensors", &err);
	int			matched = 0;

	CHECK(pt != NULL && ref != NULL);
	if (pt == NULL || ref == NULL)
	{
		bq_safetensors_close(pt);
		bq_safetensors_close(ref);
		return;
	}
	CHECK(pt->mapped);
	for (int i = 0; i < ref->count; i++)
	{
		const BqTensor *r = &ref->tensors[i];
		const BqTensor *t = bq_safetensors_find(pt, r->name);

		if (t == NULL)
			continue;
		matched++;
		CHECK_STR_EQ(t->dtype_name, r->dtype_name);
		CHECK_INT_EQ(t->nbytes, r->nbytes);
		CHECK(t->nbytes == r->nbytes && memcmp(t->data, r->data, r->nbytes) == 0);
		CHECK_INT_EQ((t->data - pt->bytes) % 64, 0);
	}
	CHECK_INT_EQ(matched, ref->count);
	bq_safetensors_close(pt);
	bq_safetensors_close(ref);
}

/* Logits of a few deterministic sequences. */
static void
logits(const BqModel *model, float *out, int len)
{
	BqError		err;
	BqEncoder  *enc = bq_encoder_new(model, BQ_PRECISION_FP32, &err);
	int32_t		ids[300];
	int32_t		types[300];
	const int32_t *id_rows[1] = {ids};
	const int32_t *type_rows[1] = {types};
	float	   *start[1] = {out};
	float	   *end[1] = {out + len};

	CHECK(enc != NULL);
	if (enc == NULL)
		return;
	for (int i = 0; i < len; i++)
	{
		ids[i] = (int32_t) ((i * 7919L + 101) % model->config.vocab_size);
		types[i] = i > len / 3;
	}
	CHECK_INT_EQ(bq_encoder_run(enc, 1, id_rows, type_rows, &len, start, end, NULL, &err), BQ_OK);
	bq_encoder_free(enc);
}

static void
link_into(const char *dir, const char *from, const char *name)
{
	char		to[512];
	char		abs[1024];

	CHECK(getcwd(abs, 512) != NULL);
	snprintf(abs + strlen(abs), sizeof(abs) - strlen(abs), "/%s", from);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	CHECK(symlink(abs, to) == 0);
}

/*
 * A Hugging Face directory with pytorch_model.bin and no safetensors
 * loads in place and computes the same logits, bit for bit.
 */
static void
test_directory_logits(void)
{
	char		dir[] = "/tmp/bq-pt-XXXXXX";
	BqError		err;
	BqModel    *ref;
	BqModel    *pt;
	float		want[2 * 300];
	float		got[2 * 300];
	char		path[512];

	CHECK(mkdtemp(dir) != NULL);
	link_into(dir, TINY "/config.json", "config.json");
	link_into(dir, TINY "/vocab.txt", "vocab.txt");
	link_into(dir, FORMATS "/pytorch_model.bin", "pytorch_model.bin");
	ref = bq_model_load(TINY, &err);
	pt = bq_model_load(dir, &err);
	CHECK(ref != NULL && pt != NULL);
	if (ref != NULL && pt != NULL)
	{
		CHECK_STR_EQ(pt->format, "pytorch");
		CHECK_STR_EQ(pt->dtype, "F32");
		CHECK(pt->converted == NULL);
		CHECK_INT_EQ(pt->bytes_converted, 0);
		CHECK((const unsigned char *) pt->weights.qa_w >= (const unsigned char *) pt->mapping &&
			  (const unsigned char *) pt->weights.qa_w < (const unsigned char *) pt->mapping + pt->bytes_mapped);
		CHECK_INT_EQ(pt->parameter_count, ref->parameter_count);
		for (int len = 5; len <= 300; len += 295)
		{
			logits(ref, want, len);
			logits(pt, got, len);
			CHECK(memcmp(want, got, 2 * (size_t) len * sizeof(float)) == 0);
		}
	}
	bq_model_free(ref);
	bq_model_free(pt);
	for (int i = 0; i < 3; i++)
	{
		static const char *const names[] = {"config.json", "vocab.txt", "pytorch_model.bin"};

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* The pickle reader alone: protocol 4 opcodes and the allow-list. */
static void
test_pickle_reader(void)
{
	static const char *const allowed[] = {"collections.OrderedDict", NULL};
	/* PROTO 4, FRAME, {"a": [1, -2, 2**40], "b": OrderedDict()} via MEMOIZE/STACK_GLOBAL */
	static const unsigned char pk[] =
		"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01" "a\x94]\x94(K\x01J\xfe\xff\xff\xff"
		"\x8a\x06\x00\x00\x00\x00\x00\x01" "e\x8c\x01" "b\x8c\x0b" "collections\x8c\x0b" "OrderedDict\x93)Ru.";
	BqError		err;
	BqPickle   *p = bq_pickle_parse(pk, sizeof(pk) - 1, allowed, "p4", &err);
	const BqPickleValue *a;

	CHECK(p != NULL);
	if (p == NULL)
	{
		fprintf(stderr, "%s\n", err.message);
		return;
	}
	a = bq_pickle_dict_get(bq_pickle_root(p), "a");
	CHECK(a != NULL && a->kind == BQ_PICKLE_LIST && a->count == 3);
	if (a != NULL && a->count == 3)
	{
		CHECK_INT_EQ(a->items[0]->integer, 1);
		CHECK_INT_EQ(a->items[1]->integer, -2);
		CHECK_INT_EQ(a->items[2]->integer, 1LL << 40);
	}
	CHECK(bq_pickle_dict_get(bq_pickle_root(p), "b") != NULL &&
		  bq_pickle_dict_get(bq_pickle_root(p), "b")->kind == BQ_PICKLE_DICT);
	bq_pickle_free(p);

	/* a list appended to itself, and 2^25-fold sharing */
	p = bq_pickle_parse("\x80\x02]q\x00h\x00" "a.", 9, allowed, "cycle", &err);
	CHECK(p == NULL && strstr(err.message, "self-referential") != NULL);
	bq_pickle_free(p);
	{
		unsigned char doubling[200];
		size_t		n = 0;

		doubling[n++] = 'N';
		for (int i = 0; i < 25; i++)
		{
			memcpy(doubling + n, "q\x00h\x00\x86", 5);
			n += 5;
		}
		doubling[n++] = '.';
		p = bq_pickle_parse(doubling, n, allowed, "doubling", &err);
		CHECK(p == NULL && strstr(err.message, "too large") != NULL);
		bq_pickle_free(p);
	}

	/* the same without OrderedDict allowed */
	p = bq_pickle_parse(pk, sizeof(pk) - 1, (const char *const[]) {NULL}, "p4", &err);
	CHECK(p == NULL && strstr(err.message, "collections.OrderedDict") != NULL);
	bq_pickle_free(p);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_small_archive);
	RUN_TEST(test_pickle_reader);
	RUN_TEST(test_hostile_pickles);
	RUN_TEST(test_hostile_zips);
	RUN_TEST(test_corruption);
	RUN_TEST(test_fixture_tensors);
	RUN_TEST(test_directory_logits);
	UNIT_DONE();
}
