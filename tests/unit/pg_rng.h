/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Seeded, deterministic random numbers for the unit tests: xorshift64*
 * seeded through splitmix64, Box-Muller normals, lognormal latencies.
 * The state lives in the caller's struct; nothing is global.
 */
#ifndef PG_TEST_RNG_H
#define PG_TEST_RNG_H

#include <math.h>
#include <stdint.h>

struct pg_rng {
	uint64_t s;
	double spare;		/* second Box-Muller normal */
	int has_spare;
};

static inline void pg_rng_seed(struct pg_rng *r, uint64_t seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	r->s = z ? z : 0x2545f4914f6cdd1dULL;
	r->has_spare = 0;
}

static inline uint64_t pg_rng_u64(struct pg_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in (0, 1): never 0, so log() is safe. */
static inline double pg_rng_unit(struct pg_rng *r)
{
	return ((double)(pg_rng_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static inline double pg_rng_normal(struct pg_rng *r)
{
	double u, v;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	u = pg_rng_unit(r);
	v = pg_rng_unit(r);
	r->spare = sqrt(-2.0 * log(u)) * sin(2.0 * M_PI * v);
	r->has_spare = 1;
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Lognormal with median @median_ns and shape @sigma (of the log). */
static inline double pg_rng_lognormal(struct pg_rng *r, double median_ns, double sigma)
{
	return median_ns * exp(sigma * pg_rng_normal(r));
}

#endif
