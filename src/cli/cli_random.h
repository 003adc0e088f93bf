/*
 * cli_random.h - a small seeded random number generator for the commands
 * that make up data (init-model's weights, bench's inputs): splitmix64 for
 * the bits, Box-Muller for normal deviates.  Reproducible from the seed on
 * every platform; not for anything that needs to be unpredictable.
 */
#ifndef BQ_CLI_RANDOM_H
#define BQ_CLI_RANDOM_H

#include <math.h>
#include <stdint.h>

typedef struct CliRandom
{
	uint64_t	state;
} CliRandom;

static inline uint64_t
cli_random_next(CliRandom *r)
{
	uint64_t	z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1]: never 0, so its logarithm is finite. */
static inline double
cli_random_unit(CliRandom *r)
{
	return ((double) (cli_random_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), n > 0. */
static inline int32_t
cli_random_below(CliRandom *r, int32_t n)
{
	return (int32_t) (cli_random_next(r) % (uint64_t) n);
}

/* Normal deviate with the given standard deviation (Box-Muller). */
static inline double
cli_random_normal(CliRandom *r, double stddev)
{
	double		radius = sqrt(-2.0 * log(cli_random_unit(r)));
	double		angle = 6.283185307179586 * cli_random_unit(r);

	return stddev * radius * cos(angle);
}

#endif							/* BQ_CLI_RANDOM_H */
