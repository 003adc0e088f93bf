/*
 * test_safetensors.c - the safetensors parser on valid and hostile images
 * (each defect with its own message), every truncation and many byte flips
 * of the real fixture, 16-bit float widening, and the writer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "file_util.h"
#include "safetensors.h"

#define FIXTURE "test/fixtures/tiny-model/model.safetensors"

/*
 * A safetensors image: length prefix, 'header' as given, then 'data_len'
 * bytes counting up from 0.
 */
static unsigned char *
make_image(const char *header, size_t data_len, size_t *size)
{
	size_t		hlen = strlen(header);
	unsigned char *buf = malloc(8 + hlen + data_len);

	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char) (((uint64_t) hlen >> (8 * i)) & 0xff);
	memcpy(buf + 8, header, hlen);
	for (size_t i = 0; i < data_len; i++)
		buf[8 + hlen + i] = (unsigned char) i;
	*size = 8 + hlen + data_len;
	return buf;
}

/*
 * Parse an image built from 'header'; it must fail with 'status' and a
 * message containing 'expect'.
 */
static void
expect_failure(const char *header, size_t data_len, BqStatus status, const char *expect)
{
	size_t		size;
	unsigned char *img = make_image(header, data_len, &size);
	BqError		err;
	BqSafetensors *st = bq_safetensors_parse(img, size, "test.safetensors", &err);

	CHECK(st == NULL);
	if (st != NULL)
		bq_safetensors_close(st);
	else
	{
		CHECK_INT_EQ(err.status, status);
		if (strstr(err.message, expect) == NULL || strstr(err.message, "test.safetensors") == NULL)
		{
			fprintf(stderr, "message \"%s\" lacks \"%s\" or the file name\n", err.message, expect);
			CHECK(0);
		}
	}
	free(img);
}

static void
test_valid(void)
{
	const char *header =
		"{\"__metadata__\": {\"format\": \"pt\"},"
		" \"a\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 24]},"
		" \"b\": {\"dtype\": \"BF16\", \"shape\": [4], \"data_offsets\": [24, 32]},"
		" \"s\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [32, 40]},"
		" \"z\": {\"dtype\": \"F16\", \"shape\": [0, 5], \"data_offsets\": [40, 40]}}";
	size_t		size;
	unsigned char *img = make_image(header, 40, &size);
	BqError		err;
	BqSafetensors *st = bq_safetensors_parse(img, size, "valid", &err);
	const BqTensor *t;

	CHECK(st != NULL);
	if (st == NULL)
	{
		fprintf(stderr, "%s\n", err.message);
		free(img);
		return;
	}
	CHECK_INT_EQ(st->count, 4);
	t = bq_safetensors_find(st, "a");
	CHECK(t != NULL && t->dtype == BQ_DTYPE_F32 && t->ndim == 2 && t->shape[0] == 2 &&
		  t->shape[1] == 3 && t->elements == 6 && t->nbytes == 24);
	CHECK(t != NULL && t->data == img + 8 + strlen(header));
	t = bq_safetensors_find(st, "b");
	CHECK(t != NULL && t->dtype == BQ_DTYPE_BF16 && t->data[0] == 24 && t->nbytes == 8);
	CHECK_STR_EQ(t ? t->dtype_name : NULL, "BF16");
	t = bq_safetensors_find(st, "s");
	CHECK(t != NULL && t->dtype == BQ_DTYPE_OTHER && t->ndim == 0 && t->elements == 1);
	t = bq_safetensors_find(st, "z");
	CHECK(t != NULL && t->elements == 0 && t->nbytes == 0);
	CHECK(bq_safetensors_find(st, "__metadata__") == NULL);
	CHECK(bq_safetensors_find(st, "missing") == NULL);
	bq_safetensors_close(st);
	free(img);
}

static void
test_length_prefix(void)
{
	unsigned char tiny[5] = {1, 0, 0, 0, 0};
	unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
	BqError		err;

	CHECK(bq_safetensors_parse(tiny, sizeof(tiny), "t", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
	CHECK(strstr(err.message, "too short") != NULL);
	CHECK(bq_safetensors_parse(huge, sizeof(huge), "t", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
	CHECK(strstr(err.message, "runs past the end of the file") != NULL);
	CHECK(bq_safetensors_parse(huge, 8, "t", &err) == NULL);
	CHECK(strstr(err.message, "runs past the end of the file") != NULL);
}

static void
test_bad_headers(void)
{
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]", 4,
				   BQ_ERR_FORMAT, "not valid JSON");
	expect_failure("not json at all", 0, BQ_ERR_FORMAT, "not valid JSON");
	expect_failure("{\"a\": \"\xff\xfe\"}", 0, BQ_ERR_FORMAT, "not valid JSON");
	expect_failure("[1, 2]", 0, BQ_ERR_FORMAT, "is not a JSON object");
	expect_failure("{\"__metadata__\": {\"k\": 1}}", 0, BQ_ERR_FORMAT, "\"__metadata__\" entry \"k\"");
	expect_failure("{\"__metadata__\": [1]}", 0, BQ_ERR_FORMAT, "\"__metadata__\" in");
	expect_failure("{\"a\": 7}", 0, BQ_ERR_FORMAT, "header entry is not a JSON object");
	expect_failure("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
				   BQ_ERR_FORMAT, "has no \"dtype\" string");
	expect_failure("{\"a\": {\"dtype\": \"F31\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
				   BQ_ERR_FORMAT, "unknown dtype \"F31\"");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4,
				   BQ_ERR_FORMAT, "no \"shape\" array");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4,
				   BQ_ERR_FORMAT, "shape must be an array of non-negative integers");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4,
				   BQ_ERR_FORMAT, "shape must be an array of non-negative integers");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 4]}}", 4,
				   BQ_ERR_FORMAT, "9 dimensions");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4611686018427387904], "
				   "\"data_offsets\": [0, 4]}}", 4, BQ_ERR_FORMAT, "too many elements");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904], "
				   "\"data_offsets\": [0, 4]}}", 4, BQ_ERR_FORMAT, "need 18446744073709551615");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4,
				   BQ_ERR_FORMAT, "\"data_offsets\" must be [begin, end]");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, \"4\"]}}", 4,
				   BQ_ERR_FORMAT, "\"data_offsets\" must be [begin, end]");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", 4,
				   BQ_ERR_FORMAT, "end before they begin");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4,
				   BQ_ERR_FORMAT, "run past the end of the data section");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 18446744073709551615]}}", 4,
				   BQ_ERR_FORMAT, "run past the end of the data section");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 8,
				   BQ_ERR_FORMAT, "holds 4 bytes, but dtype F32 and shape [2] need 8");
	expect_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
				   " \"b\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [4, 8]}}", 8,
				   BQ_ERR_FORMAT, "overlap");
}

/*
 * Every prefix of the real file must be refused (or, for the whole file,
 * accepted) without reading outside it.
 */
static void
test_truncations(void)
{
	BqError		err;
	size_t		len;
	char	   *file = bq_read_file(FIXTURE, &len, &err);
	int			accepted = 0;

	CHECK(file != NULL);
	if (file == NULL)
		return;
	for (size_t cut = 0; cut < len; cut += (cut < 5000 ? 1 : 4093))
	{
		/*
		 * Cuts through the header get a private copy of exactly 'cut'
		 * bytes, so an overread would leave the allocation (test/run runs
		 * this file under valgrind).
		 */
		unsigned char *copy = cut < 5000 ? malloc(cut > 0 ? cut : 1) : NULL;
		BqSafetensors *st;

		if (copy != NULL)
			memcpy(copy, file, cut);
		st = bq_safetensors_parse(copy != NULL ? copy : (unsigned char *) file, cut, "cut", &err);
		if (st != NULL)
			accepted++;
		else
			CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
		bq_safetensors_close(st);
		free(copy);
	}
	CHECK_INT_EQ(accepted, 0);
	{
		BqSafetensors *st = bq_safetensors_parse(file, len, "whole", &err);

		CHECK(st != NULL);
		bq_safetensors_close(st);
	}
	free(file);
}

/*
 * Random byte changes in the header: parse must never crash, and what it
 * accepts must still be self-consistent.
 */
static void
test_header_mutations(void)
{
	BqError		err;
	size_t		len;
	char	   *file = bq_read_file(FIXTURE, &len, &err);
	size_t		header_end;
	uint64_t	rng = 88172645463325252ULL;
	unsigned char *copy;
	int			accepted = 0;

	CHECK(file != NULL);
	if (file == NULL)
		return;
	header_end = 8 + ((size_t) (unsigned char) file[0] | (size_t) (unsigned char) file[1] << 8);
	copy = malloc(len);
	memcpy(copy, file, len);
	for (int round = 0; round < 3000; round++)
	{
		BqSafetensors *st;

		for (int k = 0; k < 1 + round % 4; k++)
		{
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			copy[rng % header_end] = (unsigned char) (rng >> 32);
		}
		st = bq_safetensors_parse(copy, len, "mutant", &err);
		if (st != NULL)
		{
			accepted++;
			for (int i = 0; i < st->count; i++)
				CHECK(st->tensors[i].data + st->tensors[i].nbytes <= copy + len &&
					  st->tensors[i].data >= copy + 8);
			bq_safetensors_close(st);
		}
		else
			CHECK(err.message[0] != '\0');
		memcpy(copy, file, header_end);
	}
	free(copy);
	printf("header mutations: %d of 3000 still valid\n", accepted);
	free(file);
}

static void
test_open_errors(void)
{
	BqError		err;

	CHECK(bq_safetensors_open("test/fixtures/no-such.safetensors", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_NOT_FOUND);
	CHECK(strstr(err.message, "no-such.safetensors") != NULL);
	CHECK(bq_safetensors_open("test/fixtures", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_IO);
	CHECK(strstr(err.message, "not a regular file") != NULL);
}

static void
test_open_fixture(void)
{
	BqError		err;
	BqSafetensors *st = bq_safetensors_open(FIXTURE, &err);
	const BqTensor *t;
	struct stat sb;

	CHECK(st != NULL);
	if (st == NULL)
		return;
	CHECK(st->mapped);
	CHECK(stat(FIXTURE, &sb) == 0 && st->identity.inode == (uint64_t) sb.st_ino &&
		  st->identity.size == (uint64_t) sb.st_size);
	CHECK_INT_EQ(st->count, 39);
	t = bq_safetensors_find(st, "bert.embeddings.word_embeddings.weight");
	CHECK(t != NULL && t->shape[0] == 30522 && t->shape[1] == 64 && t->dtype == BQ_DTYPE_F32);
	bq_safetensors_close(st);
}

static void
test_widening(void)
{
	const unsigned char f16[] = {
		0x00, 0x3c,				/* 1 */
		0x00, 0xc0,				/* -2 */
		0xff, 0x7b,				/* 65504, the largest half */
		0x01, 0x00,				/* 2^-24, the smallest subnormal */
		0xff, 0x03,				/* 1023 * 2^-24, the largest subnormal */
		0x00, 0x80,				/* -0 */
		0x00, 0x7c,				/* +inf */
		0x55, 0x35,				/* 0.333251953125 */
	};
	const unsigned char bf16[] = {0x80, 0x3f, 0x40, 0xc0, 0x80, 0xff, 0x49, 0x40};
	float		out[8];

	bq_f16_to_f32(f16, out, 8);
	CHECK(out[0] == 1.0f && out[1] == -2.0f && out[2] == 65504.0f);
	CHECK(out[3] == ldexpf(1.0f, -24) && out[4] == ldexpf(1023.0f, -24));
	CHECK(out[5] == 0.0f && signbit(out[5]));
	CHECK(isinf(out[6]) && out[6] > 0);
	CHECK(out[7] == 0.333251953125f);
	bq_bf16_to_f32(bf16, out, 4);
	CHECK(out[0] == 1.0f && out[1] == -3.0f && isinf(out[2]) && out[2] < 0);
	CHECK(out[3] == 3.140625f);
}

static void
test_writer(void)
{
	char		dir[] = "/tmp/bq_st_XXXXXX";
	char		path[64];
	const char *meta[] = {"format", "pt", NULL};
	BqTensorSpec specs[2] = {
		{"w", "F32", 2, {2, 2}},
		{"h", "F16", 1, {3}},
	};
	const float w[4] = {1, 2, 3, 4};
	const unsigned char h[6] = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x00};
	BqError		err;
	BqSafetensorsWriter *wr;
	BqSafetensors *st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/out.safetensors", dir);

	/* incomplete data: nothing may be left behind */
	wr = bq_safetensors_create(path, specs, 2, meta, &err);
	CHECK(wr != NULL);
	CHECK_INT_EQ(bq_safetensors_append(wr, w, sizeof(w), &err), BQ_OK);
	CHECK_INT_EQ(bq_safetensors_append(wr, w, sizeof(w), &err), BQ_ERR_INPUT);
	CHECK_INT_EQ(bq_safetensors_finish(wr, &err), BQ_ERR_INPUT);
	CHECK(strstr(err.message, "incomplete") != NULL);
	CHECK(access(path, F_OK) != 0);
	CHECK(rmdir(dir) == 0);		/* no temporary file left either */
	CHECK(mkdir(dir, 0700) == 0);

	wr = bq_safetensors_create(path, specs, 2, meta, &err);
	CHECK(wr != NULL);
	CHECK_INT_EQ(bq_safetensors_append(wr, w, sizeof(w), &err), BQ_OK);
	CHECK_INT_EQ(bq_safetensors_append(wr, h, sizeof(h), &err), BQ_OK);
	CHECK_INT_EQ(bq_safetensors_finish(wr, &err), BQ_OK);

	st = bq_safetensors_open(path, &err);
	CHECK(st != NULL);
	if (st != NULL)
	{
		const BqTensor *tw = bq_safetensors_find(st, "w");
		const BqTensor *th = bq_safetensors_find(st, "h");
		float		hv[3];

		CHECK(tw != NULL && tw->nbytes == 16 && memcmp(tw->data, w, 16) == 0);
		CHECK((uintptr_t) tw->data % 8 == 0);	/* header padded to 8 */
		CHECK(th != NULL && th->dtype == BQ_DTYPE_F16 && th->elements == 3);
		if (th != NULL)
		{
			bq_f16_to_f32(th->data, hv, 3);
			CHECK(hv[0] == 1.0f && hv[1] == -2.0f && hv[2] == 0.0f);
		}
		bq_safetensors_close(st);
	}

	/* a bad spec is refused up front; abort removes the temporary file */
	specs[1].dtype_name = "F12";
	CHECK(bq_safetensors_create(path, specs, 2, NULL, &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_INPUT);
	specs[1].dtype_name = "F16";
	wr = bq_safetensors_create(path, specs, 2, NULL, &err);
	bq_safetensors_abort(wr);
	CHECK(unlink(path) == 0);
	CHECK(rmdir(dir) == 0);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_valid);
	RUN_TEST(test_length_prefix);
	RUN_TEST(test_bad_headers);
	RUN_TEST(test_truncations);
	RUN_TEST(test_header_mutations);
	RUN_TEST(test_open_errors);
	RUN_TEST(test_open_fixture);
	RUN_TEST(test_widening);
	RUN_TEST(test_writer);
	UNIT_DONE();
}
