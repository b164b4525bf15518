/* test_rng.c - the PRNG: reference vectors, named streams, and the shape of each draw.
 *
 * The known-answer tests pin the algorithms: the splitmix64 and xoshiro256** vectors come
 * from Vigna's reference C code, and the stream vectors from an independent Python
 * transcription of rng.c's seeding. If one of those changes, every recorded trace hash
 * changes with it, so it must never change by accident. The statistical tests use fixed
 * seeds and bounds far out in the tails (stated with each), so they are deterministic and
 * fail only when the distribution is really wrong.
 */
#include "tests/unit/tests.h"
#include "sim/rng.h"

#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ---- reference vectors ---------------------------------------------------------- */

static void test_splitmix64_matches_the_reference_output(void)
{
    uint64_t state = 0;
    CU_ASSERT_EQUAL(dsim_splitmix64(&state), 0xe220a8397b1dcdafULL);
    CU_ASSERT_EQUAL(dsim_splitmix64(&state), 0x6e789e6aa1b965f4ULL);
    CU_ASSERT_EQUAL(dsim_splitmix64(&state), 0x06c45d188009454fULL);
}

static void test_xoshiro256starstar_matches_the_reference_output(void)
{
    DsimRng rng = { .s = { 1, 2, 3, 4 } };
    CU_ASSERT_EQUAL(dsim_rng_next(&rng), 11520u);
    CU_ASSERT_EQUAL(dsim_rng_next(&rng), 0u);
    CU_ASSERT_EQUAL(dsim_rng_next(&rng), 1509978240u);
    CU_ASSERT_EQUAL(dsim_rng_next(&rng), 1215971899390074240ULL);
}

static void test_stream_seeding_is_pinned(void)
{
    static const struct {
        uint64_t    seed;
        const char *name;
        uint64_t    first[3];
    } cases[] = {
        { 42, "net", { 0x834e2219806fd084ULL, 0x5456d935e6e01ee0ULL, 0x1bdb4ffd4ecd471dULL } },
        { 0, "", { 0x1e28178eedbf0f30ULL, 0x32dadb1a9e4a4d08ULL, 0x4ef49088479a6d5cULL } },
        { 1, "node/r3", { 0xc10f7bd788ebbf22ULL, 0x09fc685400212b66ULL, 0x2aa1b2d6fa9eb022ULL } },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        DsimRng rng;
        dsim_rng_init(&rng, cases[i].seed, cases[i].name);
        for (int k = 0; k < 3; k++) {
            uint64_t got = dsim_rng_next(&rng);
            if (got != cases[i].first[k])
                g_printerr("\n  seed %" PRIu64 " \"%s\" draw %d: got %#018" PRIx64,
                           cases[i].seed, cases[i].name, k, got);
            CU_ASSERT_EQUAL(got, cases[i].first[k]);
        }
    }
}

/* ---- streams ----------------------------------------------------------------------- */

static void test_same_seed_and_name_give_the_same_sequence(void)
{
    DsimRng a, b;
    dsim_rng_init(&a, 1234, "workload");
    dsim_rng_init(&b, 1234, "workload");
    for (int i = 0; i < 10000; i++)
        CU_ASSERT_EQUAL_FATAL(dsim_rng_next(&a), dsim_rng_next(&b));
}

static int popcount64(uint64_t x)
{
    int n = 0;
    for (; x != 0; x &= x - 1)
        n++;
    return n;
}

/* How many of @n paired draws are equal, and the mean number of differing bits. */
static void compare_streams(DsimRng *a, DsimRng *b, int n, int *equal, double *mean_bits)
{
    long bits = 0;
    *equal = 0;
    for (int i = 0; i < n; i++) {
        uint64_t x = dsim_rng_next(a), y = dsim_rng_next(b);
        *equal += x == y;
        bits += popcount64(x ^ y);
    }
    *mean_bits = (double) bits / n;
}

static void test_different_names_and_seeds_give_unrelated_sequences(void)
{
    /* Pairs that differ as little as possible: one character, one bit of seed. Unrelated
     * 64-bit draws differ in 32 bits on average (sd 4 per draw, so 0.04 over 10000 draws);
     * 31..33 is 25 standard errors wide. */
    static const struct {
        uint64_t    seed_a, seed_b;
        const char *name_a, *name_b;
    } pairs[] = {
        { 1, 1, "net", "faults" },
        { 1, 1, "node/r1", "node/r2" },
        { 1, 1, "a", "b" },
        { 1, 1, "", "x" },
        { 1, 2, "net", "net" },
        { 0, 1, "node/r1", "node/r1" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++) {
        DsimRng a, b;
        int equal;
        double bits;
        dsim_rng_init(&a, pairs[i].seed_a, pairs[i].name_a);
        dsim_rng_init(&b, pairs[i].seed_b, pairs[i].name_b);
        compare_streams(&a, &b, 10000, &equal, &bits);
        if (equal != 0 || bits < 31 || bits > 33)
            g_printerr("\n  (%" PRIu64 ", \"%s\") vs (%" PRIu64 ", \"%s\"): %d equal, %.3f bits",
                       pairs[i].seed_a, pairs[i].name_a, pairs[i].seed_b, pairs[i].name_b,
                       equal, bits);
        CU_ASSERT_EQUAL(equal, 0);
        CU_ASSERT_TRUE(bits > 31 && bits < 33);
    }
}

static void test_drawing_from_one_stream_does_not_change_another(void)
{
    DsimRng alone, b, a;
    uint64_t expected[1000];

    dsim_rng_init(&alone, 99, "net");
    for (int i = 0; i < 1000; i++)
        expected[i] = dsim_rng_next(&alone);

    /* The same stream again, now interleaved with a varying number of draws of every kind
     * from another stream of the same run, and with a third stream created midway. */
    dsim_rng_init(&a, 99, "faults");
    dsim_rng_init(&b, 99, "net");
    for (int i = 0; i < 1000; i++) {
        for (int k = 0; k < i % 7; k++) {
            dsim_rng_next(&a);
            dsim_rng_below(&a, 3);
            dsim_rng_double(&a);
        }
        if (i == 500) {
            DsimRng c;
            dsim_rng_init(&c, 99, "workload");
            dsim_rng_next(&c);
        }
        CU_ASSERT_EQUAL_FATAL(dsim_rng_next(&b), expected[i]);
    }
}

/* ---- below and range ------------------------------------------------------------------ */

static void test_below_stays_in_range_and_is_roughly_uniform(void)
{
    /* Pearson's chi-square over n = 10 cells, 100000 draws, 9 degrees of freedom: the
     * 99.9% quantile is 27.88, so a correct generator fails this bound once in a thousand
     * seeds, and this seed is fixed. */
    enum { N = 10, DRAWS = 100000 };
    unsigned count[N] = { 0 };
    DsimRng rng;

    dsim_rng_init(&rng, 2024, "test/below");
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = dsim_rng_below(&rng, N);
        CU_ASSERT_FATAL(x < N);
        count[x]++;
    }
    double expected = (double) DRAWS / N, chi2 = 0;
    for (int k = 0; k < N; k++)
        chi2 += (count[k] - expected) * (count[k] - expected) / expected;
    if (chi2 >= 27.88)
        g_printerr("\n  chi-square %.2f", chi2);
    CU_ASSERT_TRUE(chi2 < 27.88);

    for (int i = 0; i < 1000; i++)
        CU_ASSERT_EQUAL(dsim_rng_below(&rng, 1), 0u);
    for (int i = 0; i < 1000; i++)
        CU_ASSERT(dsim_rng_below(&rng, 3) < 3);
    for (int i = 0; i < 1000; i++)
        CU_ASSERT(dsim_rng_below(&rng, UINT64_MAX) < UINT64_MAX);
}

static void test_below_has_no_modulo_bias_for_large_n(void)
{
    /* With n = 2/3 of 2^64, "x % n" would land in the lower half of [0, n) two times in
     * three; uniform draws land there half the time. Over 20000 draws the standard error of
     * the fraction is 0.0035, so 0.48..0.52 is nearly 6 of them either way, and far from 2/3. */
    const uint64_t n = 0xaaaaaaaaaaaaaaaaULL;
    DsimRng rng;
    int low = 0;

    dsim_rng_init(&rng, 5, "test/bias");
    for (int i = 0; i < 20000; i++) {
        uint64_t x = dsim_rng_below(&rng, n);
        CU_ASSERT_FATAL(x < n);
        low += x < n / 2;
    }
    double frac = low / 20000.0;
    if (frac < 0.48 || frac > 0.52)
        g_printerr("\n  fraction below n/2: %.4f", frac);
    CU_ASSERT_TRUE(frac > 0.48 && frac < 0.52);
}

static void test_range_is_inclusive_at_both_ends(void)
{
    static const struct {
        int64_t lo, hi;
    } cases[] = {
        { -3, 3 },
        { 5, 5 },
        { 0, 1 },
        { INT64_MAX - 2, INT64_MAX },
        { INT64_MIN, INT64_MIN + 2 },
    };
    DsimRng rng;
    dsim_rng_init(&rng, 11, "test/range");
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        int64_t lo = cases[i].lo, hi = cases[i].hi;
        bool seen[7] = { false };
        for (int k = 0; k < 10000; k++) {
            int64_t x = dsim_rng_range(&rng, lo, hi);
            CU_ASSERT_FATAL(x >= lo && x <= hi);
            seen[(uint64_t) x - (uint64_t) lo] = true;
        }
        for (uint64_t k = 0; k <= (uint64_t) hi - (uint64_t) lo; k++) {
            if (!seen[k])
                g_printerr("\n  range(%" PRId64 ", %" PRId64 ") never drew %" PRId64,
                           lo, hi, lo + (int64_t) k);
            CU_ASSERT_TRUE(seen[k]);
        }
    }
}

static void test_range_covers_the_full_int64_span(void)
{
    /* INT64_MIN..INT64_MAX has 2^64 values: one raw draw each, taken as the offset from
     * INT64_MIN. */
    DsimRng rng, twin;
    int negative = 0;

    dsim_rng_init(&rng, 3, "test/full");
    twin = rng;
    for (int i = 0; i < 10000; i++) {
        int64_t x = dsim_rng_range(&rng, INT64_MIN, INT64_MAX);
        uint64_t raw = dsim_rng_next(&twin);
        CU_ASSERT_EQUAL_FATAL((uint64_t) x - (uint64_t) INT64_MIN, raw);
        negative += x < 0;
    }
    CU_ASSERT_TRUE(negative > 4700 && negative < 5300);

    /* Spans just short of the full one go through rejection and still stay inside. */
    for (int i = 0; i < 10000; i++) {
        int64_t x = dsim_rng_range(&rng, INT64_MIN + 1, INT64_MAX);
        CU_ASSERT_FATAL(x > INT64_MIN);
        int64_t y = dsim_rng_range(&rng, -1, INT64_MAX);
        CU_ASSERT_FATAL(y >= -1);
    }
}

/* ---- double, chance, shuffle --------------------------------------------------------- */

static void test_double_is_the_top_53_bits_scaled_into_0_1(void)
{
    DsimRng rng, twin;
    double sum = 0;

    dsim_rng_init(&rng, 8, "test/double");
    twin = rng;
    for (int i = 0; i < 100000; i++) {
        double d = dsim_rng_double(&rng);
        CU_ASSERT_FATAL(d >= 0.0 && d < 1.0);
        CU_ASSERT_EQUAL_FATAL(d, (double) (dsim_rng_next(&twin) >> 11) * 0x1.0p-53);
        sum += d;
    }
    /* mean of U(0,1): sd 0.2887, standard error 0.0009 over 100000 draws */
    CU_ASSERT_DOUBLE_EQUAL(sum / 100000, 0.5, 0.005);
}

static void test_chance_draws_exactly_one_number_whatever_p_is(void)
{
    const double ps[] = { -1.0, 0.0, 0.3, 1.0, 2.0, NAN, INFINITY };
    DsimRng rng, twin;

    dsim_rng_init(&rng, 21, "test/chance");
    twin = rng;
    for (size_t i = 0; i < G_N_ELEMENTS(ps); i++) {
        for (int k = 0; k < 100; k++) {
            bool c = dsim_rng_chance(&rng, ps[i]);
            dsim_rng_next(&twin);
            CU_ASSERT_EQUAL_FATAL(memcmp(&rng, &twin, sizeof rng), 0);
            if (ps[i] <= 0 || isnan(ps[i]))
                CU_ASSERT_FALSE(c);
            if (ps[i] >= 1)
                CU_ASSERT_TRUE(c);
        }
    }

    /* frequency of chance(0.3): standard error 0.00145 over 100000 draws; 0.007 is ~5 */
    int hits = 0;
    for (int i = 0; i < 100000; i++)
        hits += dsim_rng_chance(&rng, 0.3);
    CU_ASSERT_DOUBLE_EQUAL(hits / 100000.0, 0.3, 0.007);
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return (x > y) - (x < y);
}

static void test_shuffle_is_a_permutation(void)
{
    enum { N = 100 };
    uint32_t v[N];
    DsimRng rng;
    int moved = 0;

    dsim_rng_init(&rng, 17, "test/shuffle");
    for (uint32_t i = 0; i < N; i++)
        v[i] = i * 3;
    dsim_rng_shuffle_u32(&rng, v, N);
    for (uint32_t i = 0; i < N; i++)
        moved += v[i] != i * 3;
    CU_ASSERT_TRUE(moved > N / 2); /* a shuffle that keeps half in place is no shuffle */

    qsort(v, N, sizeof v[0], compare_u32);
    for (uint32_t i = 0; i < N; i++)
        CU_ASSERT_EQUAL(v[i], i * 3);

    /* The empty and one-element arrays are left alone. */
    uint32_t one = 7;
    dsim_rng_shuffle_u32(&rng, NULL, 0);
    dsim_rng_shuffle_u32(&rng, &one, 1);
    CU_ASSERT_EQUAL(one, 7);
}

static void test_shuffle_makes_every_order_equally_likely(void)
{
    /* All 6 orders of 3 elements over 60000 shuffles; chi-square with 5 degrees of freedom,
     * 99.9% quantile 20.52. */
    unsigned count[9] = { 0 }; /* indexed by 3 * first + second, 6 cells used */
    DsimRng rng;

    dsim_rng_init(&rng, 23, "test/shuffle3");
    for (int i = 0; i < 60000; i++) {
        uint32_t v[3] = { 0, 1, 2 };
        dsim_rng_shuffle_u32(&rng, v, 3);
        count[3 * v[0] + v[1]]++;
    }
    double chi2 = 0;
    int cells = 0;
    for (int k = 0; k < 9; k++) {
        if (k / 3 == k % 3)
            continue;
        chi2 += (count[k] - 10000.0) * (count[k] - 10000.0) / 10000.0;
        cells++;
    }
    CU_ASSERT_EQUAL(cells, 6);
    if (chi2 >= 20.52)
        g_printerr("\n  chi-square %.2f", chi2);
    CU_ASSERT_TRUE(chi2 < 20.52);
}

CU_TestInfo rng_tests[] = {
    { "splitmix64 matches the reference output", test_splitmix64_matches_the_reference_output },
    { "xoshiro256starstar matches the reference output",
      test_xoshiro256starstar_matches_the_reference_output },
    { "stream seeding is pinned", test_stream_seeding_is_pinned },
    { "same seed and name give the same sequence",
      test_same_seed_and_name_give_the_same_sequence },
    { "different names and seeds give unrelated sequences",
      test_different_names_and_seeds_give_unrelated_sequences },
    { "drawing from one stream does not change another",
      test_drawing_from_one_stream_does_not_change_another },
    { "below stays in range and is roughly uniform",
      test_below_stays_in_range_and_is_roughly_uniform },
    { "below has no modulo bias for large n", test_below_has_no_modulo_bias_for_large_n },
    { "range is inclusive at both ends", test_range_is_inclusive_at_both_ends },
    { "range covers the full int64 span", test_range_covers_the_full_int64_span },
    { "double is the top 53 bits scaled into 0 1",
      test_double_is_the_top_53_bits_scaled_into_0_1 },
    { "chance draws exactly one number whatever p is",
      test_chance_draws_exactly_one_number_whatever_p_is },
    { "shuffle is a permutation", test_shuffle_is_a_permutation },
    { "shuffle makes every order equally likely",
      test_shuffle_makes_every_order_equally_likely },
    CU_TEST_INFO_NULL,
};
