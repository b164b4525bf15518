/* rng.c - the run's PRNG: splitmix64 to derive stream seeds, xoshiro256** to draw.
 *
 * Both generators are Sebastiano Vigna's public-domain reference algorithms
 * (https://prng.di.unimi.it/), written out so that every platform and every GLib version
 * produce the same numbers. A stream's 256-bit state is four consecutive splitmix64 outputs
 * started from splitmix64(run seed) XOR FNV-1a-64(stream name): the hash separates the names,
 * the splitmix64 steps spread whatever bits differ over the whole state, and since
 * splitmix64's output is a bijection of its counter, four consecutive outputs are never all
 * zero (the one state xoshiro cannot leave). Streams share nothing after seeding, so drawing
 * from one never moves another.
 */
#include "sim/rng.h"

#include <glib.h>

/* splitmix64.c: "a fixed-increment version of Java 8's SplittableRandom generator", the
 * generator Vigna recommends for seeding xoshiro. */
uint64_t dsim_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* FNV-1a, 64-bit (Fowler, Noll, Vo): offset basis 14695981039346656037, prime 2^40 + 435. */
static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void dsim_rng_init(DsimRng *rng, uint64_t seed, const char *name)
{
    g_assert(name != NULL);
    uint64_t sm = seed;
    uint64_t k = dsim_splitmix64(&sm) ^ fnv1a64(name);
    for (int i = 0; i < 4; i++)
        rng->s[i] = dsim_splitmix64(&k);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256starstar.c, next(), unchanged. */
uint64_t dsim_rng_next(DsimRng *rng)
{
    uint64_t *s = rng->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t dsim_rng_below(DsimRng *rng, uint64_t n)
{
    g_assert(n > 0);
    /* Classic rejection (as OpenBSD's arc4random_uniform): 2^64 mod n = (-n) mod n raw
     * values at the bottom are the incomplete last copy of [0, n); reject them and every
     * residue is equally likely. At most half the draws are rejected (n just above 2^63),
     * and for the small n of a simulation almost none. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = dsim_rng_next(rng);
        if (x >= threshold)
            return x % n;
    }
}

/* The int64 whose two's-complement bits are @u, without implementation-defined casts. */
static int64_t to_signed(uint64_t u)
{
    return u <= (uint64_t) INT64_MAX ? (int64_t) u : -(int64_t) (UINT64_MAX - u) - 1;
}

int64_t dsim_rng_range(DsimRng *rng, int64_t lo, int64_t hi)
{
    g_assert(lo <= hi);
    /* The span is computed in uint64 (mod 2^64), which is exact for every lo <= hi; the
     * full int64 span has 2^64 values, one per raw draw. */
    uint64_t span = (uint64_t) hi - (uint64_t) lo;
    uint64_t offset = span == UINT64_MAX ? dsim_rng_next(rng) : dsim_rng_below(rng, span + 1);
    return to_signed((uint64_t) lo + offset);
}

double dsim_rng_double(DsimRng *rng)
{
    return (double) (dsim_rng_next(rng) >> 11) * 0x1.0p-53;
}

bool dsim_rng_chance(DsimRng *rng, double p)
{
    /* Draw first, whatever p is, so that a chance of 0 or 1 keeps the stream aligned with
     * the same run at another p. p <= 0 (or NaN) is never true, p >= 1 always. */
    double u = dsim_rng_double(rng);
    return u < p;
}

void dsim_rng_shuffle_u32(DsimRng *rng, uint32_t *v, size_t n)
{
    /* Fisher-Yates, Durstenfeld's in-place form (Knuth, TAOCP vol. 2, Algorithm P): for i
     * from n-1 down to 1, swap v[i] with v[j], j uniform in [0, i]. */
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t) dsim_rng_below(rng, (uint64_t) i);
        uint32_t tmp = v[i - 1];
        v[i - 1] = v[j];
        v[j] = tmp;
    }
}
