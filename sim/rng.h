/* rng.h - the PRNG and its named streams.
 *
 * One seed per run, split into independent streams by name ("net", "faults", "workload",
 * "node/r3", ...): a stream's state is four splitmix64 outputs started from
 * splitmix64(run seed) XOR the FNV-1a-64 hash of the name, so adding a stream or drawing
 * more from one never shifts another ("common random numbers" for fair variant
 * comparisons). Draws use xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom
 * number generators", 2018), written out in rng.c because GLib's GRand is not a stable
 * contract: its seeding changed in GLib 2.2 and the G_RANDOM_VERSION environment variable
 * switches it back, while runs must replay byte for byte everywhere.
 *
 * Draw counts: next, double and chance draw exactly one number; below, range and shuffle
 * draw at least one per value and, rarely, more (rejection sampling). Code that must keep a
 * fixed number of draws per sample (sim/dist.c) uses double.
 */
#ifndef DSIM_RNG_H
#define DSIM_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} DsimRng;

/* Seeds @rng for the stream @name of the run seeded with @seed. */
void     dsim_rng_init(DsimRng *rng, uint64_t seed, const char *name);
uint64_t dsim_rng_next(DsimRng *rng);
/* Uniform in [0, n) by rejection (no modulo bias); n must be > 0. Draws one number, and
 * another for each rejected one (fewer than one in 2^32 for n below 2^32). */
uint64_t dsim_rng_below(DsimRng *rng, uint64_t n);
/* Uniform in [lo, hi], inclusive; lo <= hi. Any span works, up to INT64_MIN..INT64_MAX. */
int64_t  dsim_rng_range(DsimRng *rng, int64_t lo, int64_t hi);
/* Uniform in [0, 1) with 53 bits: (x >> 11) * 0x1.0p-53. */
double   dsim_rng_double(DsimRng *rng);
/* True with probability p; always draws exactly one number, whatever p is. */
bool     dsim_rng_chance(DsimRng *rng, double p);
/* Fisher-Yates shuffle of @n uint32 values in place (n-1 calls of dsim_rng_below). */
void     dsim_rng_shuffle_u32(DsimRng *rng, uint32_t *v, size_t n);
/* splitmix64 step, exposed for hashing helpers. */
uint64_t dsim_splitmix64(uint64_t *state);

#endif /* DSIM_RNG_H */
