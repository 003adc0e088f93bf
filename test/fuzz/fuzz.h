/*
 * fuzz.h - what the libFuzzer targets share: the entry point's prototype
 * and a check that stops the run (so libFuzzer saves the input) when a
 * parser accepted something that breaks its own promises.
 */
#ifndef BQ_FUZZ_H
#define BQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* Every failure must leave a message behind. */
#define FUZZ_ASSERT_ERROR(err) FUZZ_ASSERT((err).status != BQ_OK && (err).message[0] != '\0')

#endif							/* BQ_FUZZ_H */
