/*
 * test_vocab.c - loading vocab.txt files and looking tokens up.
 */
#include "unit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "vocab.h"

#define VOCAB "test/fixtures/tiny-model/vocab.txt"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
test_bert_vocab(void)
{
	BqError		err;
	BqVocab    *vocab = bq_vocab_load(VOCAB, &err);

	CHECK(vocab != NULL);
	if (vocab == NULL)
		return;
	CHECK_INT_EQ(bq_vocab_size(vocab), 30522);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "[PAD]", 5), 0);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "[UNK]", 5), 100);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "[CLS]", 5), 101);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "[SEP]", 5), 102);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "[MASK]", 6), 103);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "hello", 5), 7592);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "##s", 3), 2015);
	/* the length bounds the key: no NUL terminator needed */
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "hello world", 5), 7592);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "hello world", 11), -1);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "Hello", 5), -1);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "", 0), -1);
	/* multi-byte tokens: "ß" and the jamo "##ᅡ" */
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "\xc3\x9f", 2), 1096);
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "##\xe1\x85\xa1", 5), 30006);
	CHECK_STR_EQ(bq_vocab_token(vocab, 7592), "hello");
	CHECK_STR_EQ(bq_vocab_token(vocab, 0), "[PAD]");
	CHECK_STR_EQ(bq_vocab_token(vocab, 30521), "##\xef\xbd\x9e");
	CHECK(bq_vocab_token(vocab, -1) == NULL);
	CHECK(bq_vocab_token(vocab, 30522) == NULL);
	/* every token finds its own id (the file has no duplicates) */
	for (int32_t id = 0; id < bq_vocab_size(vocab); id++)
	{
		const char *token = bq_vocab_token(vocab, id);

		if (bq_vocab_lookup(vocab, token, strlen(token)) != id)
		{
			CHECK_INT_EQ(bq_vocab_lookup(vocab, token, strlen(token)), id);
			break;
		}
	}
	bq_vocab_free(vocab);
}

static void
test_line_endings(void)
{
	static const char crlf[] = "[UNK]\r\nb\r\n##c\r\n";
	static const char no_final_newline[] = "a\nb\nlast";
	static const char blank_lines[] = "a\n\nb\n";
	BqError		err;
	BqVocab    *vocab;

	vocab = bq_vocab_from_buffer(crlf, sizeof(crlf) - 1, "crlf", &err);
	CHECK(vocab != NULL);
	if (vocab != NULL)
	{
		CHECK_INT_EQ(bq_vocab_size(vocab), 3);
		CHECK_INT_EQ(bq_vocab_lookup(vocab, "b", 1), 1);
		CHECK_INT_EQ(bq_vocab_lookup(vocab, "##c", 3), 2);
		CHECK_INT_EQ(bq_vocab_lookup(vocab, "b\r", 2), -1);
		CHECK_STR_EQ(bq_vocab_token(vocab, 2), "##c");
		bq_vocab_free(vocab);
	}

	vocab = bq_vocab_from_buffer(no_final_newline, sizeof(no_final_newline) - 1, "nonl", &err);
	CHECK(vocab != NULL);
	if (vocab != NULL)
	{
		CHECK_INT_EQ(bq_vocab_size(vocab), 3);
		CHECK_INT_EQ(bq_vocab_lookup(vocab, "last", 4), 2);
		bq_vocab_free(vocab);
	}

	/* a blank line still takes an id, keeping later ids aligned */
	vocab = bq_vocab_from_buffer(blank_lines, sizeof(blank_lines) - 1, "blank", &err);
	CHECK(vocab != NULL);
	if (vocab != NULL)
	{
		CHECK_INT_EQ(bq_vocab_size(vocab), 3);
		CHECK_INT_EQ(bq_vocab_lookup(vocab, "b", 1), 2);
		CHECK_STR_EQ(bq_vocab_token(vocab, 1), "");
		bq_vocab_free(vocab);
	}
}

static void
test_duplicates(void)
{
	static const char text[] = "x\ny\nx\n";
	BqError		err;
	BqVocab    *vocab = bq_vocab_from_buffer(text, sizeof(text) - 1, "dup", &err);

	CHECK(vocab != NULL);
	if (vocab == NULL)
		return;
	/* as in Hugging Face and Google BERT, the last line of a token wins */
	CHECK_INT_EQ(bq_vocab_lookup(vocab, "x", 1), 2);
	CHECK_INT_EQ(bq_vocab_size(vocab), 3);
	CHECK_STR_EQ(bq_vocab_token(vocab, 0), "x");
	bq_vocab_free(vocab);
}

static void
test_bad_vocabularies(void)
{
	static const char bad_utf8[] = "ok\nbad\xff\n";
	static const char nul_byte[] = "ok\nn\0ul\n";
	char		path[] = "/tmp/bertqa-test-vocab-XXXXXX";
	int			fd;
	BqError		err;
	char	   *huge;

	CHECK(bq_vocab_from_buffer("", 0, "empty", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
	CHECK(strstr(err.message, "empty") != NULL);

	CHECK(bq_vocab_from_buffer(bad_utf8, sizeof(bad_utf8) - 1, "bad", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
	CHECK(strstr(err.message, "line 2") != NULL);
	CHECK(strstr(err.message, "UTF-8") != NULL);

	CHECK(bq_vocab_from_buffer(nul_byte, sizeof(nul_byte) - 1, "nul", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
	CHECK(strstr(err.message, "line 2") != NULL);

	/* oversized input is refused before any work */
	huge = malloc(((size_t) 16 << 20) + 1);
	CHECK(huge != NULL);
	if (huge != NULL)
	{
		memset(huge, 'a', ((size_t) 16 << 20) + 1);
		CHECK(bq_vocab_from_buffer(huge, ((size_t) 16 << 20) + 1, "huge", &err) == NULL);
		CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
		CHECK(strstr(err.message, "too large") != NULL);
		free(huge);
	}

	CHECK(bq_vocab_load("test/fixtures/no-such-vocab.txt", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_NOT_FOUND);
	CHECK(strstr(err.message, "no-such-vocab.txt") != NULL);

	CHECK(bq_vocab_load("test/fixtures", &err) == NULL);
	CHECK_INT_EQ(err.status, BQ_ERR_IO);

	/* an empty file */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0)
	{
		close(fd);
		CHECK(bq_vocab_load(path, &err) == NULL);
		CHECK_INT_EQ(err.status, BQ_ERR_FORMAT);
		CHECK(strstr(err.message, path) != NULL);
		unlink(path);
	}
}

/*
 * Valgrind runs code tens of times slower, so a time limit means nothing
 * there; it announces itself by preloading its vgpreload libraries.
 */
static bool
under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

static void
test_load_time(void)
{
	double		best = 1e9;

	for (int i = 0; i < 10; i++)
	{
		BqError		err;
		double		start = now_ms();
		BqVocab    *vocab = bq_vocab_load(VOCAB, &err);
		double		elapsed = now_ms() - start;

		CHECK(vocab != NULL);
		bq_vocab_free(vocab);
		if (elapsed < best)
			best = elapsed;
	}
	printf("vocab load: %.3f ms for 30,522 entries (best of 10)\n", best);
	if (!under_valgrind())
		CHECK(best < 10.0);
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_bert_vocab);
	RUN_TEST(test_line_endings);
	RUN_TEST(test_duplicates);
	RUN_TEST(test_bad_vocabularies);
	RUN_TEST(test_load_time);
	UNIT_DONE();
}
