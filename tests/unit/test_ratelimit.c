/* test_ratelimit.c - the five rate limiters and the conformance check.
 *
 * Each limiter first tells its story on hand-written arrival times: the decisions are
 * written as a string, one letter per arrival, 'A' allowed and '-' refused, so a reader can
 * replay them with the rule from algorithms/ratelimit/ratelimit.c in hand. Then every bound
 * of ratelimit.h is shown reached and its next-weaker burst violated (the checker must be
 * able to fail), and a property test runs many pseudo-random arrival sequences (steady,
 * bursty, on/off, and clustered on window boundaries) through every kind and checks the
 * allowed times with ratelimit_conforms(), itself checked against a brute-force O(n^2)
 * reference. Seeds are fixed and printed on failure.
 */
#include "tests/unit/tests.h"
#include "algorithms/ratelimit/ratelimit.h"
#include "sim/rng.h"

#include <string.h>

/* Runs @n arrivals at @at[k] * @unit through a fresh limiter: the decision string (caller
 * frees), and the allowed times appended to @allowed when it is not NULL. */
static char *run(RateLimitKind kind, uint32_t limit, DsimTime window, DsimTime unit,
                 const int64_t *at, size_t n, GArray *allowed)
{
    RateLimitConfig cfg = { .kind = kind, .limit = limit, .window = window };
    g_autoptr(RateLimiter) rl = ratelimit_new(&cfg);
    char *out = g_malloc(n + 1);
    for (size_t k = 0; k < n; k++) {
        DsimTime now = at[k] * unit;
        bool ok = ratelimit_allow(rl, now);
        out[k] = ok ? 'A' : '-';
        if (ok && allowed != NULL)
            g_array_append_val(allowed, now);
    }
    out[n] = '\0';
    return out;
}

static void assert_story(RateLimitKind kind, uint32_t limit, DsimTime window, DsimTime unit,
                         const int64_t *at, size_t n, const char *expect)
{
    g_autofree char *got = run(kind, limit, window, unit, at, n, NULL);
    if (strcmp(got, expect) != 0)
        printf("\n%s limit=%u window=%" PRId64 "ns\n==> expected %s\n==> actual   %s\n",
               ratelimit_kind_name(kind), limit, window, expect, got);
    CU_ASSERT_STRING_EQUAL(got, expect);
}

static bool conforms(const GArray *t, uint64_t burst, uint32_t limit, DsimTime window,
                     size_t *i, size_t *j)
{
    return ratelimit_conforms((const DsimTime *) (const void *) t->data, t->len, burst, limit,
                              window, i, j);
}

/* ---- the stories ---------------------------------------------------------------------- */

/* 3 per aligned 10 ms window: the count starts again at 10 ms and at 30 ms, whatever
 * happened just before. */
static void test_fixed_window_allows_limit_per_aligned_window(void)
{
    const int64_t at[] = { 0, 1, 2, 3, 9, 10, 11, 12, 13, 35 };
    assert_story(RL_FIXED_WINDOW, 3, DSIM_MS(10), DSIM_MS(1), at, G_N_ELEMENTS(at),
                 "AAA--AAA-A");
}

/* 3 in any (now - 10 ms, now]: the request at 10 ms gets the slot of the one at 0 ms, which
 * has just left the window (10 - 0 >= 10), but a second request at 10 ms must wait for the
 * one at 1 ms to leave, at 11 ms. */
static void test_sliding_log_allows_limit_in_any_window(void)
{
    const int64_t at[] = { 0, 1, 2, 5, 10, 10, 11, 12, 13, 20 };
    assert_story(RL_SLIDING_LOG, 3, DSIM_MS(10), DSIM_MS(1), at, G_N_ELEMENTS(at),
                 "AAA-A-AA-A");
}

/* limit 2, window 10 ms. Two at 9 ms fill window 0. In window 1 the estimate is
 * 2 * (10 - e) / 10 + curr, and must stay below 2: at 10 ms it is 2 (refused), at 11 ms
 * 1.8 (allowed), at 12 ms 1.6 + 1, at 15 ms 1 + 1 (refused), at 16 ms 0.8 + 1 (allowed), at
 * 19 ms 0.2 + 2. Window 2 starts with prev = 2: 2 at 20 ms, 1 at 25 ms (allowed). Window 3
 * with prev = 1: 0.9 at 31 ms, 0.8 + 1 at 32 ms, 0.7 + 2 at 33 ms. Window 4 with prev = 2:
 * 1 at 45 ms. Window 6 follows the empty window 5: prev = 0, the whole limit again. */
static void test_sliding_window_counter_weights_the_previous_window(void)
{
    const int64_t at[] = { 9, 9, 10, 11, 12, 15, 16, 19, 20, 25, 31, 32, 33, 45, 61, 62, 63 };
    assert_story(RL_SLIDING_WINDOW, 2, DSIM_MS(10), DSIM_MS(1), at, G_N_ELEMENTS(at),
                 "AA-A--A--AAA-AAA-");
}

/* limit 3 per 30 ms: I = 10 ms, L = 20 ms. Three at 0 ms push TAT to 30 ms; a request
 * conforms when TAT <= now + 20 ms, so the next at 10 ms (TAT 40), then 20 ms (TAT 50). At
 * 50 ms TAT = now: the bucket has drained, a full burst of 3 again. */
static void test_leaky_bucket_meters_by_theoretical_arrival_time(void)
{
    const int64_t at[] = { 0, 0, 0, 0, 5, 10, 15, 20, 50, 50, 50, 50 };
    assert_story(RL_LEAKY_BUCKET, 3, DSIM_MS(30), DSIM_MS(1), at, G_N_ELEMENTS(at),
                 "AAA--A-AAAA-");
}

/* limit 3 per 10 ns: I = 3 1/3 ns and L = 6 2/3 ns are not whole nanoseconds, and the
 * decisions need the thirds: after three at 0 TAT = 10; at 3 ns 10 > 9 2/3 (refused), at
 * 4 ns 10 <= 10 2/3 (TAT 13 1/3); 6 ns refused (12 2/3), 7 ns allowed (TAT 16 2/3); 9 ns
 * refused (15 2/3), 10 ns allowed (TAT 20), and again at 10 ns refused. */
static void test_leaky_bucket_keeps_fractions_of_a_nanosecond(void)
{
    const int64_t at[] = { 0, 0, 0, 3, 4, 6, 7, 9, 10, 10 };
    assert_story(RL_LEAKY_BUCKET, 3, DSIM_NS(10), DSIM_NS(1), at, G_N_ELEMENTS(at),
                 "AAA-A-A-A-");
    assert_story(RL_TOKEN_BUCKET, 3, DSIM_NS(10), DSIM_NS(1), at, G_N_ELEMENTS(at),
                 "AAA-A-A-A-");
}

/* 2 tokens, one more every 10 ms. Both spent at 0 ms; 5 ms has half a token; 10 ms one;
 * 25 ms 1.5 (one taken, 0.5 left); 26 ms 0.6; 30 ms 1.0; at 100 ms the bucket is full again
 * but holds only 2. */
static void test_token_bucket_refills_up_to_its_capacity(void)
{
    const int64_t at[] = { 0, 0, 0, 5, 10, 25, 26, 30, 100, 100, 100 };
    assert_story(RL_TOKEN_BUCKET, 2, DSIM_MS(20), DSIM_MS(1), at, G_N_ELEMENTS(at),
                 "AA--AA-AAA-");
}

static void test_none_allows_everything(void)
{
    const int64_t at[] = { 0, 0, 0, 0, 0, 1 };
    assert_story(RL_NONE, 1, DSIM_MS(1), DSIM_MS(1), at, G_N_ELEMENTS(at), "AAAAAA");
}

/* The smallest limiter: one request per nanosecond, so no two in the same instant. The
 * counter is the exception that shows its rule: at the first instant of a window it still
 * counts the whole previous window (weight (1 - 0) / 1), so 1 ns after an allowed request
 * it refuses, and it allows again only after an empty window. */
static void test_one_per_nanosecond_refuses_same_instant_requests(void)
{
    const int64_t at[] = { 0, 0, 1, 2, 2, 5 };
    for (RateLimitKind k = RL_FIXED_WINDOW; k <= RL_TOKEN_BUCKET; k++)
        assert_story(k, 1, DSIM_NS(1), DSIM_NS(1), at, G_N_ELEMENTS(at),
                     k == RL_SLIDING_WINDOW ? "A--A-A" : "A-AA-A");
}

/* The largest limit and an hour's window: nothing overflows (the buckets' fine clock carries
 * parts up to 2^32 - 1; the counter multiplies 2^32 by 3.6e12). */
static void test_huge_limits_and_windows_do_not_overflow(void)
{
    const int64_t at[] = { 0, 0, 0, 1, 3599, 7200 };
    for (RateLimitKind k = RL_FIXED_WINDOW; k <= RL_TOKEN_BUCKET; k++) {
        if (k == RL_SLIDING_LOG) /* would allocate 32 GiB: 8 bytes per request of the limit */
            continue;
        assert_story(k, UINT32_MAX, DSIM_S(3600), DSIM_S(1), at, G_N_ELEMENTS(at), "AAAAAA");
    }
    const int64_t one[] = { 0, 1, 3599, 3600, 7199, 7200 };
    assert_story(RL_LEAKY_BUCKET, 1, DSIM_S(3600), DSIM_S(1), one, G_N_ELEMENTS(one), "A--A-A");
    assert_story(RL_TOKEN_BUCKET, 1, DSIM_S(3600), DSIM_S(1), one, G_N_ELEMENTS(one), "A--A-A");
    assert_story(RL_SLIDING_LOG, 1, DSIM_S(3600), DSIM_S(1), one, G_N_ELEMENTS(one), "A--A-A");
}

static void test_kind_names_follow_the_choices_string(void)
{
    g_auto(GStrv) names = g_strsplit(RATELIMIT_CHOICES, "|", -1);
    CU_ASSERT_EQUAL_FATAL(g_strv_length(names), RL_TOKEN_BUCKET + 1);
    for (RateLimitKind k = RL_NONE; k <= RL_TOKEN_BUCKET; k++)
        CU_ASSERT_STRING_EQUAL(ratelimit_kind_name(k), names[k]);
}

static void test_each_kind_states_its_burst(void)
{
    RateLimitConfig c = { .limit = 10, .window = DSIM_S(1) };
    const struct {
        RateLimitKind kind;
        uint64_t      burst;
    } rows[] = {
        { RL_NONE, UINT64_MAX },   { RL_FIXED_WINDOW, 20 }, { RL_SLIDING_LOG, 10 },
        { RL_SLIDING_WINDOW, 11 }, { RL_LEAKY_BUCKET, 10 }, { RL_TOKEN_BUCKET, 10 },
    };
    for (size_t r = 0; r < G_N_ELEMENTS(rows); r++) {
        c.kind = rows[r].kind;
        CU_ASSERT_EQUAL(ratelimit_burst(&c), rows[r].burst);
    }
    c.kind = RL_FIXED_WINDOW;
    c.limit = UINT32_MAX;
    CU_ASSERT_EQUAL(ratelimit_burst(&c), 2 * (uint64_t) UINT32_MAX);
}

/* ---- the bounds, reached and exceeded ------------------------------------------------- */

/* The fixed window's known weakness: 100 requests at 999 ms and 100 at 1000 ms all pass a
 * limit of 100 per second, 200 in 1 ms. The single-window bound (burst = limit) catches it at
 * the 101st, counted from the first; the fixed window's own bound (2 * limit) holds. The
 * sliding log, on the same arrivals, lets only the first 100 through. */
static void test_fixed_window_lets_twice_the_limit_through_at_a_boundary(void)
{
    int64_t at[200];
    for (size_t k = 0; k < 200; k++)
        at[k] = k < 100 ? 999 : 1000;
    g_autoptr(GArray) fixed = g_array_new(FALSE, FALSE, sizeof(DsimTime));
    g_free(run(RL_FIXED_WINDOW, 100, DSIM_S(1), DSIM_MS(1), at, 200, fixed));
    CU_ASSERT_EQUAL(fixed->len, 200);

    size_t i = 999, j = 999;
    CU_ASSERT_FALSE(conforms(fixed, 100, 100, DSIM_S(1), &i, &j));
    CU_ASSERT_EQUAL(i, 0);
    CU_ASSERT_EQUAL(j, 100);
    CU_ASSERT_TRUE(conforms(fixed, 200, 100, DSIM_S(1), NULL, NULL));
    CU_ASSERT_FALSE(conforms(fixed, 199, 100, DSIM_S(1), NULL, NULL)); /* 2 * limit is tight */

    g_autoptr(GArray) log = g_array_new(FALSE, FALSE, sizeof(DsimTime));
    g_autofree char *d = run(RL_SLIDING_LOG, 100, DSIM_S(1), DSIM_MS(1), at, 200, log);
    CU_ASSERT_EQUAL(strspn(d, "A"), 100); /* the first 100, then only refusals */
    CU_ASSERT_EQUAL(strspn(d + 100, "-"), 100);
    CU_ASSERT_EQUAL(log->len, 100);
    CU_ASSERT_TRUE(conforms(log, 100, 100, DSIM_S(1), NULL, NULL));
}

/* The counter's worst case: limit 4 per 100 ns, 4 at 99 ns (the very end of window 0), then
 * a request every nanosecond. In window 1 the estimate 4 * (100 - e) / 100 + curr falls
 * below 4 at e = 1, 26, 51, 76: 8 = 2 * limit in [99, 176], T = 77 < window, where the
 * sliding log would allow 4. Bound limit + 1 holds with equality (5 + floor(4 * 77 / 100) =
 * 8); burst = limit fails already at the fifth request, 2 ns after the first. */
static void test_sliding_window_counter_exceeds_the_sliding_log_bound_by_one(void)
{
    int64_t at[104];
    for (size_t k = 0; k < 104; k++)
        at[k] = k < 4 ? 99 : 96 + (int64_t) k; /* 99 x 4, then 100..199 */
    g_autoptr(GArray) t = g_array_new(FALSE, FALSE, sizeof(DsimTime));
    g_free(run(RL_SLIDING_WINDOW, 4, DSIM_NS(100), DSIM_NS(1), at, 104, t));
    const DsimTime expect[] = { 99, 99, 99, 99, 101, 126, 151, 176 };
    CU_ASSERT_EQUAL_FATAL(t->len, G_N_ELEMENTS(expect));
    CU_ASSERT_EQUAL(memcmp(t->data, expect, sizeof expect), 0);

    CU_ASSERT_TRUE(conforms(t, 5, 4, DSIM_NS(100), NULL, NULL));
    size_t i = 999, j = 999;
    CU_ASSERT_FALSE(conforms(t, 4, 4, DSIM_NS(100), &i, &j));
    CU_ASSERT_EQUAL(i, 0);
    CU_ASSERT_EQUAL(j, 4);
}

/* Buckets are exact: a stream saturating a leaky or token bucket of 7 per 1000 ns (I =
 * 142 6/7 ns), one arrival per ns, gets its k-th request (from 0) at the first whole ns
 * >= (k - 6) * 1000 / 7 (and >= k: the burst of 7 takes 7 ns), the earliest the bound
 * allows, for 100000 ns without drifting; so burst = limit is reached and burst = limit - 1
 * fails. */
static void test_buckets_reach_their_bound_exactly_without_drift(void)
{
    const size_t n = 100001;
    int64_t *at = g_new(int64_t, n);
    for (size_t k = 0; k < n; k++)
        at[k] = (int64_t) k;
    for (RateLimitKind kind = RL_LEAKY_BUCKET; kind <= RL_TOKEN_BUCKET; kind++) {
        g_autoptr(GArray) t = g_array_new(FALSE, FALSE, sizeof(DsimTime));
        g_free(run(kind, 7, DSIM_NS(1000), DSIM_NS(1), at, n, t));
        CU_ASSERT_EQUAL(t->len, 7 + 100000 * 7 / 1000);
        unsigned wrong = 0;
        for (size_t k = 0; k < t->len; k++) {
            int64_t num = ((int64_t) k - 6) * 1000;
            DsimTime earliest = MAX((DsimTime) k, num <= 0 ? 0 : (num + 6) / 7); /* ceil */
            if (g_array_index(t, DsimTime, k) != earliest)
                wrong++;
        }
        CU_ASSERT_EQUAL(wrong, 0);
        CU_ASSERT_TRUE(conforms(t, 7, 7, DSIM_NS(1000), NULL, NULL));
        CU_ASSERT_FALSE(conforms(t, 6, 7, DSIM_NS(1000), NULL, NULL));
    }
    g_free(at);
}

/* ---- the checker ---------------------------------------------------------------------- */

/* Limit 3 per 10 ms (burst 3), times in ms 7 8 9 10 11 12: [7, 10] holds 4 where the bound
 * is 3 + floor(3 * 3 / 10) = 3, so the first violation ends at index 3 and starts at 0; and
 * removing that pair's excess, e.g. moving the fourth request to 17 ms, makes it conform. */
static void test_checker_returns_the_violating_pair(void)
{
    DsimTime t[] = { DSIM_MS(7), DSIM_MS(8), DSIM_MS(9), DSIM_MS(10), DSIM_MS(11), DSIM_MS(12) };
    size_t i = 999, j = 999;
    CU_ASSERT_FALSE(ratelimit_conforms(t, 6, 3, 3, DSIM_MS(10), &i, &j));
    CU_ASSERT_EQUAL(i, 0);
    CU_ASSERT_EQUAL(j, 3);
    CU_ASSERT_TRUE(ratelimit_conforms(t, 3, 3, 3, DSIM_MS(10), &i, &j));

    /* the fourth at 17 ms instead: [7, 17] holds 4 <= 3 + floor(3 * 10 / 10), [8, 17]
     * holds 3 <= 3 + 2 */
    DsimTime u[] = { DSIM_MS(7), DSIM_MS(8), DSIM_MS(9), DSIM_MS(17) };
    CU_ASSERT_TRUE(ratelimit_conforms(u, 4, 3, 3, DSIM_MS(10), NULL, NULL));

    /* the worst start, not the first: limit 1 per 10, burst 1; at 0, 100, 100 the pair
     * (1, 2) exceeds by a whole request, (0, 2) not at all (3 <= 1 + 10) */
    DsimTime v[] = { 0, 100, 100 };
    CU_ASSERT_FALSE(ratelimit_conforms(v, 3, 1, 1, 10, &i, &j));
    CU_ASSERT_EQUAL(i, 1);
    CU_ASSERT_EQUAL(j, 2);
}

static void test_checker_accepts_nothing_and_one_and_refuses_a_zero_burst(void)
{
    DsimTime t[] = { 5 };
    CU_ASSERT_TRUE(ratelimit_conforms(NULL, 0, 0, 1, 10, NULL, NULL));
    CU_ASSERT_TRUE(ratelimit_conforms(t, 1, 1, 1, 10, NULL, NULL));
    size_t i = 9, j = 9;
    CU_ASSERT_FALSE(ratelimit_conforms(t, 1, 0, 1, 10, &i, &j));
    CU_ASSERT_EQUAL(i, 0);
    CU_ASSERT_EQUAL(j, 0);
}

/* limit * T reaches 2^65 here (limit = 2^32 - 1, window = 2^63 - 1), where 64-bit products
 * would wrap and invent or hide violations; each pair is worked out in the comments. */
static void test_checker_is_exact_beyond_64_bit_products(void)
{
    const DsimTime w = INT64_MAX;
    const uint32_t lim = UINT32_MAX;
    size_t i = 9, j = 9;
    /* floor(lim * 2^32 / w) = 1, floor(lim * 2^33 / w) = 3: every pair fits burst 1 */
    DsimTime a[] = { 0, (DsimTime) 1 << 32, (DsimTime) 1 << 33 };
    CU_ASSERT_TRUE(ratelimit_conforms(a, 3, 1, lim, w, &i, &j));
    /* lim * 2^31 = 2^63 - 2^31 < w: floor 0, two requests against a burst of 1 */
    DsimTime b[] = { 0, (DsimTime) 1 << 31, (DsimTime) 1 << 32 };
    CU_ASSERT_FALSE(ratelimit_conforms(b, 3, 1, lim, w, &i, &j));
    CU_ASSERT_EQUAL(i, 0);
    CU_ASSERT_EQUAL(j, 1);
    /* (1, 2) spans 2^31 (violates); (0, 2) spans 1.5 * 2^32 (floor 2: 3 <= 3, fine) */
    DsimTime c[] = { 0, (DsimTime) 1 << 32, ((DsimTime) 1 << 32) + ((DsimTime) 1 << 31) };
    CU_ASSERT_FALSE(ratelimit_conforms(c, 3, 1, lim, w, &i, &j));
    CU_ASSERT_EQUAL(i, 1);
    CU_ASSERT_EQUAL(j, 2);
    /* the widest span, from negative times: -2^62 to 2^62 - 1 is exactly w, floor 1, so
     * two fit burst 1; 1 ns less and they do not */
    DsimTime d[] = { INT64_MIN / 2, INT64_MAX / 2 };
    CU_ASSERT_TRUE(ratelimit_conforms(d, 2, 1, 1, w, NULL, NULL));
    d[0]++;
    CU_ASSERT_FALSE(ratelimit_conforms(d, 2, 1, 1, w, NULL, NULL));
}

/* The reference: every pair, in plain int64 (the test keeps the numbers small). The
 * violation ending first, and there the start with the largest excess
 * (j - i + 1 - burst) * window - limit * (t_j - t_i), the earliest on ties. */
static bool brute_conforms(const DsimTime *t, size_t n, uint64_t burst, uint32_t limit,
                           DsimTime window, size_t *bi, size_t *bj)
{
    for (size_t j = 0; j < n; j++) {
        bool found = false;
        int64_t best = 0;
        for (size_t i = 0; i <= j; i++) {
            int64_t count = (int64_t) (j - i + 1);
            if (count <= (int64_t) burst + (int64_t) limit * (t[j] - t[i]) / window)
                continue;
            int64_t excess = (count - (int64_t) burst) * window - (int64_t) limit * (t[j] - t[i]);
            if (!found || excess > best) {
                found = true;
                best = excess;
                *bi = i;
            }
        }
        if (found) {
            *bj = j;
            return false;
        }
    }
    return true;
}

static void test_checker_matches_a_brute_force_reference(void)
{
    const uint64_t seed = 20260314;
    DsimRng rng;
    dsim_rng_init(&rng, seed, "test/ratelimit/checker");
    unsigned mismatches = 0, violations = 0;
    for (unsigned round = 0; round < 4000; round++) {
        size_t n = 1 + dsim_rng_below(&rng, 60);
        uint32_t limit = 1 + (uint32_t) dsim_rng_below(&rng, 20);
        DsimTime window = 1 + (DsimTime) dsim_rng_below(&rng, 1000);
        uint64_t burst = dsim_rng_below(&rng, 25);
        DsimTime t[60];
        DsimTime now = (DsimTime) dsim_rng_below(&rng, 1000) - 500;
        for (size_t k = 0; k < n; k++) {
            if (!dsim_rng_chance(&rng, 0.3))
                now += (DsimTime) dsim_rng_below(&rng, (uint64_t) (2 * window / limit + 2));
            t[k] = now;
        }
        size_t i = 0, j = 0, bi = 0, bj = 0;
        bool got = ratelimit_conforms(t, n, burst, limit, window, &i, &j);
        bool want = brute_conforms(t, n, burst, limit, window, &bi, &bj);
        if (got != want || (!got && (i != bi || j != bj))) {
            if (mismatches++ == 0)
                printf("\nchecker mismatch, seed %" PRIu64 " round %u: got %d (%zu, %zu), "
                       "want %d (%zu, %zu)\n", seed, round, got, i, j, want, bi, bj);
        }
        violations += !want;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_TRUE(violations > 500 && violations < 3500); /* both answers well exercised */
}

/* ---- the property test ---------------------------------------------------------------- */

/* Arrival times for one round: @n times from 0, in one of four patterns, at a mean spacing
 * between 1/20 and 3 emission intervals (window / limit), so the limiters are sometimes
 * idle and sometimes saturated. */
static void arrivals(DsimRng *rng, int64_t *at, size_t n, uint32_t limit, DsimTime window)
{
    DsimTime interval = window / limit > 0 ? window / limit : 1;
    DsimTime mean = interval * (DsimTime) (1 + dsim_rng_below(rng, 60)) / 20 + 1;
    unsigned pattern = (unsigned) dsim_rng_below(rng, 4);
    DsimTime now = 0;
    for (size_t k = 0; k < n; k++) {
        switch (pattern) {
        case 0: /* steady, roughly Poisson: uniform gaps around the mean */
            now += (DsimTime) dsim_rng_below(rng, (uint64_t) (2 * mean + 1));
            break;
        case 1: /* bursty: many simultaneous arrivals, then a longer gap */
            if (!dsim_rng_chance(rng, 0.8))
                now += (DsimTime) dsim_rng_below(rng, (uint64_t) (10 * mean + 1));
            break;
        case 2: /* on/off: trains of arrivals 1 ns apart, then a silence of a few windows */
            if (dsim_rng_chance(rng, 0.02))
                now += (DsimTime) dsim_rng_below(rng, 3 * (uint64_t) window);
            else
                now += 1;
            break;
        default: /* around window boundaries, where the window kinds are weakest */
            if (dsim_rng_chance(rng, 0.1)) {
                DsimTime before = (now / window + 1) * window - 1 -
                                  (DsimTime) dsim_rng_below(rng, (uint64_t) (window / 8 + 1));
                now = MAX(now, before);
            } else {
                now += dsim_rng_chance(rng, 0.5) ? 0 : 1;
            }
            break;
        }
        at[k] = now;
    }
}

/* Sliding log, leaky and token buckets conform with burst = limit (and the log to its strict
 * window: any limit + 1 allowed span >= window); the buckets decide alike; the counter
 * conforms with limit + 1 and the fixed window with 2 * limit. Over the rounds the weaker
 * kinds must also be seen to break burst = limit, or the test would not show anything. */
static void test_random_arrivals_conform_to_each_kind_s_bound(void)
{
    const uint64_t seed = 20260315;
    DsimRng rng;
    dsim_rng_init(&rng, seed, "test/ratelimit/property");
    unsigned failures = 0, fixed_over = 0, counter_over = 0;
    int64_t at[1500];
    for (unsigned round = 0; round < 2000; round++) {
        uint32_t limit = 1 + (uint32_t) dsim_rng_below(&rng, dsim_rng_chance(&rng, 0.8) ? 12 : 300);
        DsimTime window = dsim_rng_chance(&rng, 0.5)
                              ? (DsimTime) limit * (1 + (DsimTime) dsim_rng_below(&rng, 1000))
                              : 1 + (DsimTime) dsim_rng_below(&rng, DSIM_MS(1)); /* any ratio */
        size_t n = 100 + dsim_rng_below(&rng, G_N_ELEMENTS(at) - 100);
        arrivals(&rng, at, n, limit, window);

        GArray *t[RL_TOKEN_BUCKET + 1];
        char *d[RL_TOKEN_BUCKET + 1];
        for (RateLimitKind k = RL_FIXED_WINDOW; k <= RL_TOKEN_BUCKET; k++) {
            t[k] = g_array_new(FALSE, FALSE, sizeof(DsimTime));
            d[k] = run(k, limit, window, 1, at, n, t[k]);
        }
        bool ok = true;
        for (RateLimitKind k = RL_FIXED_WINDOW; k <= RL_TOKEN_BUCKET; k++) {
            RateLimitConfig cfg = { .kind = k, .limit = limit, .window = window };
            size_t i = 0, j = 0;
            if (!conforms(t[k], ratelimit_burst(&cfg), limit, window, &i, &j)) {
                ok = false;
                printf("\n%s broke its bound: seed %" PRIu64 " round %u, limit %u window %"
                       PRId64 ": allowed %zu..%zu at %" PRId64 "..%" PRId64 "ns\n",
                       ratelimit_kind_name(k), seed, round, limit, window, i, j,
                       g_array_index(t[k], DsimTime, i), g_array_index(t[k], DsimTime, j));
            }
        }
        const DsimTime *log = (const DsimTime *) (const void *) t[RL_SLIDING_LOG]->data;
        for (size_t k = 0; k + limit < t[RL_SLIDING_LOG]->len; k++)
            ok = ok && log[k + limit] - log[k] >= window;
        ok = ok && strcmp(d[RL_LEAKY_BUCKET], d[RL_TOKEN_BUCKET]) == 0;
        if (!ok)
            failures++;
        fixed_over += !conforms(t[RL_FIXED_WINDOW], limit, limit, window, NULL, NULL);
        counter_over += !conforms(t[RL_SLIDING_WINDOW], limit, limit, window, NULL, NULL);
        for (RateLimitKind k = RL_FIXED_WINDOW; k <= RL_TOKEN_BUCKET; k++) {
            g_array_unref(t[k]);
            g_free(d[k]);
        }
    }
    if (failures > 0)
        printf("\nratelimit property: %u failing rounds with seed %" PRIu64 "\n", failures, seed);
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT_TRUE(fixed_over > 0);
    CU_ASSERT_TRUE(counter_over > 0);
}

CU_TestInfo ratelimit_tests[] = {
    { "fixed window allows limit per aligned window",
      test_fixed_window_allows_limit_per_aligned_window },
    { "sliding log allows limit in any window", test_sliding_log_allows_limit_in_any_window },
    { "sliding window counter weights the previous window",
      test_sliding_window_counter_weights_the_previous_window },
    { "leaky bucket meters by theoretical arrival time",
      test_leaky_bucket_meters_by_theoretical_arrival_time },
    { "leaky bucket keeps fractions of a nanosecond",
      test_leaky_bucket_keeps_fractions_of_a_nanosecond },
    { "token bucket refills up to its capacity", test_token_bucket_refills_up_to_its_capacity },
    { "none allows everything", test_none_allows_everything },
    { "one per nanosecond refuses same-instant requests",
      test_one_per_nanosecond_refuses_same_instant_requests },
    { "huge limits and windows do not overflow", test_huge_limits_and_windows_do_not_overflow },
    { "kind names follow the choices string", test_kind_names_follow_the_choices_string },
    { "each kind states its burst", test_each_kind_states_its_burst },
    { "fixed window lets twice the limit through at a boundary",
      test_fixed_window_lets_twice_the_limit_through_at_a_boundary },
    { "sliding window counter exceeds the sliding log bound by one",
      test_sliding_window_counter_exceeds_the_sliding_log_bound_by_one },
    { "buckets reach their bound exactly without drift",
      test_buckets_reach_their_bound_exactly_without_drift },
    { "checker returns the violating pair", test_checker_returns_the_violating_pair },
    { "checker accepts nothing and one and refuses a zero burst",
      test_checker_accepts_nothing_and_one_and_refuses_a_zero_burst },
    { "checker is exact beyond 64-bit products", test_checker_is_exact_beyond_64_bit_products },
    { "checker matches a brute-force reference", test_checker_matches_a_brute_force_reference },
    { "random arrivals conform to each kind's bound",
      test_random_arrivals_conform_to_each_kind_s_bound },
    CU_TEST_INFO_NULL,
};
