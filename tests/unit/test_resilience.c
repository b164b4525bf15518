/* test_resilience.c - circuit breaker, backoff with jitter, retry budget and bulkhead.
 *
 * The breaker's story is told call by call with the clock asserted: it opens on exactly the
 * outcome that reaches min_calls and the threshold, refuses until open_for has passed, lets
 * `probes` calls through half-open and closes or reopens on their answers. A randomized test
 * compares its sliding window with a plain array of the last outcomes. The backoff tests draw
 * many delays from splitmix64 (fixed seeds, so deterministic) and check every one against the
 * bounds of Brooker's formulas; the retry budget is walked across its slots.
 */
#include "tests/unit/tests.h"
#include "algorithms/resilience/resilience.h"

#define N_DRAWS 100000

/* splitmix64 (Steele, Lea, Flood 2014): the test's own stream, independent of sim/rng.c. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* ---- circuit breaker ------------------------------------------------------------------ */

static const BreakerConfig half_of_ten = {
    .window = 10, .min_calls = 5, .threshold = 0.5, .open_for = DSIM_MS(100), .probes = 2,
};

/* One call through the breaker at @now: it must be allowed, and its outcome is recorded. */
static void call(Breaker *b, const BreakerConfig *cfg, DsimTime now, bool success)
{
    CU_ASSERT_TRUE_FATAL(breaker_allow(b, cfg, now));
    breaker_record(b, cfg, now, success);
}

static void test_breaker_waits_for_min_calls_before_opening(void)
{
    Breaker b = { 0 };
    for (int i = 0; i < 4; i++) {
        call(&b, &half_of_ten, DSIM_MS(i), false);
        CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED); /* 4 of 4 failed, but only 4 known */
    }
    call(&b, &half_of_ten, DSIM_MS(4), false);
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);
    CU_ASSERT_EQUAL(b.opened_at, DSIM_MS(4));
    CU_ASSERT_EQUAL(b.transitions, 1);
}

static void test_breaker_opens_on_the_outcome_that_reaches_the_threshold(void)
{
    Breaker b = { 0 };
    bool outcomes[] = { true, true, true, false, false }; /* 2 of 5: 0.4 < 0.5 */
    for (unsigned i = 0; i < G_N_ELEMENTS(outcomes); i++)
        call(&b, &half_of_ten, DSIM_MS(i), outcomes[i]);
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
    call(&b, &half_of_ten, DSIM_MS(10), true); /* 2 of 6 */
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
    call(&b, &half_of_ten, DSIM_MS(11), false); /* 3 of 7 */
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
    call(&b, &half_of_ten, DSIM_MS(12), false); /* 4 of 8: exactly 0.5 opens */
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);
    CU_ASSERT_EQUAL(b.opened_at, DSIM_MS(12));
}

/* resilience4j evaluates after every call: the success that completes min_calls can find
 * the failure rate already at the threshold. */
static void test_breaker_can_open_on_the_success_that_completes_min_calls(void)
{
    Breaker b = { 0 };
    bool outcomes[] = { false, false, false, true };
    for (unsigned i = 0; i < G_N_ELEMENTS(outcomes); i++)
        call(&b, &half_of_ten, DSIM_MS(i), outcomes[i]);
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
    call(&b, &half_of_ten, DSIM_MS(4), true); /* 3 of 5 */
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);
}

/* Thresholds that are not exact in binary still mean what they say in decimal: 7 failures
 * of 25 reach 0.28 (where the double product 0.28 * 25 is 7.000000000000001, so a naive
 * failures >= threshold * n would stay closed), 6 of 10 do not reach 0.7 and 7 do. */
static void test_breaker_threshold_is_read_in_decimal(void)
{
    BreakerConfig cfg = { .window = 25, .min_calls = 25, .threshold = 0.28,
                          .open_for = DSIM_MS(1), .probes = 1 };
    Breaker b = { 0 };
    for (int i = 0; i < 19; i++)
        call(&b, &cfg, i, true);
    for (int i = 19; i < 25; i++)
        call(&b, &cfg, i, false); /* 6 of 25 */
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
    call(&b, &cfg, 25, false); /* 7 of the last 25 */
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);

    cfg.window = cfg.min_calls = 10;
    cfg.threshold = 0.7;
    Breaker c = { 0 };
    for (int i = 0; i < 10; i++)
        call(&c, &cfg, i, i < 4); /* 6 of 10 failed */
    CU_ASSERT_EQUAL(c.state, BREAKER_CLOSED);
    call(&c, &cfg, 10, false); /* 7 of the last 10 */
    CU_ASSERT_EQUAL(c.state, BREAKER_OPEN);
}

/* Threshold 0 opens on the first failure once min_calls are known, never on successes. */
static void test_breaker_threshold_zero_needs_one_failure(void)
{
    BreakerConfig cfg = { .window = 4, .min_calls = 2, .threshold = 0,
                          .open_for = DSIM_MS(1), .probes = 1 };
    Breaker b = { 0 };
    for (int i = 0; i < 20; i++)
        call(&b, &cfg, i, true);
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
    call(&b, &cfg, 20, false);
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);
}

/* Opens the breaker of half_of_ten at @at (five failures, all at @at). */
static void open_at(Breaker *b, DsimTime at)
{
    for (int i = 0; i < 5; i++)
        call(b, &half_of_ten, at, false);
    CU_ASSERT_EQUAL_FATAL(b->state, BREAKER_OPEN);
    CU_ASSERT_EQUAL_FATAL(b->opened_at, at);
}

static void test_open_breaker_refuses_until_open_for_has_passed(void)
{
    Breaker b = { 0 };
    open_at(&b, DSIM_S(1));
    CU_ASSERT_FALSE(breaker_allow(&b, &half_of_ten, DSIM_S(1)));
    CU_ASSERT_FALSE(breaker_allow(&b, &half_of_ten, DSIM_S(1) + DSIM_MS(50)));
    CU_ASSERT_FALSE(breaker_allow(&b, &half_of_ten, DSIM_S(1) + DSIM_MS(100) - 1));
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);
    CU_ASSERT_EQUAL(b.transitions, 1);
    /* Answers to calls made before it opened change nothing. */
    breaker_record(&b, &half_of_ten, DSIM_S(1) + DSIM_MS(60), true);
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);

    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, DSIM_S(1) + DSIM_MS(100)));
    CU_ASSERT_EQUAL(b.state, BREAKER_HALF_OPEN);
    CU_ASSERT_EQUAL(b.probes_out, 1);
    CU_ASSERT_EQUAL(b.transitions, 2);
}

static void test_half_open_breaker_limits_probes_in_flight(void)
{
    Breaker b = { 0 };
    open_at(&b, 0);
    DsimTime t = DSIM_MS(100);
    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, t));
    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, t));
    CU_ASSERT_FALSE(breaker_allow(&b, &half_of_ten, t));
    CU_ASSERT_FALSE(breaker_allow(&b, &half_of_ten, t + DSIM_S(10)));
    CU_ASSERT_EQUAL(b.state, BREAKER_HALF_OPEN);
    CU_ASSERT_EQUAL(b.probes_out, 2);
    /* One probe answered is not enough to let a third through: a spell has `probes` calls. */
    breaker_record(&b, &half_of_ten, t + DSIM_MS(5), true);
    CU_ASSERT_EQUAL(b.state, BREAKER_HALF_OPEN);
    CU_ASSERT_FALSE(breaker_allow(&b, &half_of_ten, t + DSIM_MS(5)));
}

static void test_breaker_closes_when_every_probe_succeeds(void)
{
    Breaker b = { 0 };
    open_at(&b, 0);
    DsimTime t = DSIM_MS(100);
    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, t));
    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, t));
    breaker_record(&b, &half_of_ten, t + 1, true);
    CU_ASSERT_EQUAL(b.state, BREAKER_HALF_OPEN);
    breaker_record(&b, &half_of_ten, t + 2, true);
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
    CU_ASSERT_EQUAL(b.transitions, 3); /* closed -> open -> half-open -> closed */
    /* The window starts empty: four failures are again too few to judge. */
    CU_ASSERT_EQUAL(b.n, 0);
    CU_ASSERT_EQUAL(b.failed, 0);
    for (int i = 0; i < 4; i++)
        call(&b, &half_of_ten, t + 10 + i, false);
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
    call(&b, &half_of_ten, t + 20, false);
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);
    CU_ASSERT_EQUAL(b.opened_at, t + 20);
}

static void test_breaker_reopens_on_a_failed_probe(void)
{
    Breaker b = { 0 };
    open_at(&b, 0);
    DsimTime t = DSIM_MS(100);
    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, t));
    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, t));
    breaker_record(&b, &half_of_ten, t + DSIM_MS(3), true);
    breaker_record(&b, &half_of_ten, t + DSIM_MS(7), false);
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);
    CU_ASSERT_EQUAL(b.opened_at, t + DSIM_MS(7)); /* a new open spell, from the failure */
    CU_ASSERT_EQUAL(b.transitions, 3);
    CU_ASSERT_FALSE(breaker_allow(&b, &half_of_ten, t + DSIM_MS(106)));
    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, t + DSIM_MS(107)));
    CU_ASSERT_EQUAL(b.state, BREAKER_HALF_OPEN);
    CU_ASSERT_EQUAL(b.probes_out, 1); /* counts afresh in the new spell */
    CU_ASSERT_EQUAL(b.probes_ok, 0);
}

/* Half-open with no probe outstanding, an answer can only be a late one to a call made
 * while closed: it must neither close nor reopen the breaker. */
static void test_half_open_breaker_ignores_answers_with_no_probe_out(void)
{
    Breaker b = { 0 };
    open_at(&b, 0);
    DsimTime t = DSIM_MS(100);
    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, t));
    breaker_record(&b, &half_of_ten, t + 1, true); /* probe 1 of 2 succeeded */
    breaker_record(&b, &half_of_ten, t + 2, true); /* late: nothing out */
    breaker_record(&b, &half_of_ten, t + 3, false); /* late: nothing out */
    CU_ASSERT_EQUAL(b.state, BREAKER_HALF_OPEN);
    CU_ASSERT_EQUAL(b.probes_ok, 1);
    CU_ASSERT_TRUE(breaker_allow(&b, &half_of_ten, t + 4));
    breaker_record(&b, &half_of_ten, t + 5, true);
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
}

/* The ring forgets: with a window of 4, failures 5 calls apart are never two in the window,
 * so a threshold of 0.5 is never reached however long it runs. (A ring that only ever set
 * bits would see 2 of 4 at the second failure.) */
static void test_breaker_window_forgets_old_outcomes(void)
{
    BreakerConfig cfg = { .window = 4, .min_calls = 4, .threshold = 0.5,
                          .open_for = DSIM_MS(1), .probes = 1 };
    Breaker b = { 0 };
    for (int i = 0; i < 100; i++) {
        call(&b, &cfg, i, i % 5 != 0);
        CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
        CU_ASSERT_TRUE(b.n <= 4);
    }
    CU_ASSERT_EQUAL(b.n, 4);
    /* And then two failures in a row are 2 of the last 4. */
    call(&b, &cfg, 100, false);
    CU_ASSERT_EQUAL(b.state, BREAKER_CLOSED);
    call(&b, &cfg, 101, false);
    CU_ASSERT_EQUAL(b.state, BREAKER_OPEN);
}

static unsigned popcount64(uint64_t x)
{
    unsigned n = 0;
    for (; x != 0; x &= x - 1)
        n++;
    return n;
}

/* Random outcomes against a reference that keeps every outcome since the last reset and
 * looks at the last `window` of them: the ring's count, its failures and the moment it
 * opens must agree at every step (threshold 1/3, so the reference compares 3 * f >= n). */
static void test_breaker_window_matches_a_reference_over_random_outcomes(void)
{
    const uint64_t seed = 20261201;
    uint64_t rng = seed;
    for (unsigned window = 1; window <= BREAKER_WINDOW_MAX; window += 7) {
        BreakerConfig cfg = { .window = window, .min_calls = (window + 1) / 2,
                              .threshold = 1.0 / 3.0, .open_for = 1, .probes = 1 };
        Breaker b = { 0 };
        bool hist[4000];
        unsigned len = 0, opened = 0;
        for (unsigned step = 0; step < 4000; step++) {
            /* failures rare enough that the breaker spends time closed */
            bool success = splitmix64(&rng) % 4 != 0;
            call(&b, &cfg, step, success);
            hist[len++] = success;
            unsigned n = len < window ? len : window, f = 0;
            for (unsigned i = len - n; i < len; i++)
                f += !hist[i];
            bool expect_open = n >= cfg.min_calls && f > 0 && 3 * f >= n;
            if ((b.state == BREAKER_OPEN) != expect_open || (!expect_open && (b.n != n ||
                popcount64(b.failed) != f))) {
                g_printerr("\n  seed %" PRIu64 " window %u step %u: n %u/%u failures %u/%u "
                           "state %s", seed, window, step, b.n, n, popcount64(b.failed), f,
                           breaker_state_name(b.state));
                CU_FAIL_FATAL("the breaker's window differs from the reference");
            }
            if (expect_open) {
                opened++;
                b = (Breaker) { 0 };
                len = 0;
            }
        }
        CU_ASSERT_TRUE(opened > 0); /* the comparison covered both verdicts */
    }
}

static void test_breaker_state_names(void)
{
    CU_ASSERT_STRING_EQUAL(breaker_state_name(BREAKER_CLOSED), "closed");
    CU_ASSERT_STRING_EQUAL(breaker_state_name(BREAKER_OPEN), "open");
    CU_ASSERT_STRING_EQUAL(breaker_state_name(BREAKER_HALF_OPEN), "half-open");
}

/* ---- backoff with jitter -------------------------------------------------------------- */

static void test_backoff_without_jitter_doubles_up_to_cap(void)
{
    BackoffConfig cfg = { .base = DSIM_MS(10), .cap = DSIM_S(1), .jitter = JITTER_NONE };
    DsimTime expect[] = { DSIM_MS(10), DSIM_MS(20), DSIM_MS(40), DSIM_MS(80), DSIM_MS(160),
                          DSIM_MS(320), DSIM_MS(640), DSIM_S(1), DSIM_S(1) };
    for (unsigned r = 1; r <= G_N_ELEMENTS(expect); r++)
        CU_ASSERT_EQUAL(backoff_delay(&cfg, r, 0, UINT64_C(0x123456789)), expect[r - 1]);
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 63, 0, 0), DSIM_S(1));
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 64, 0, 0), DSIM_S(1));
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 1000000, 0, 0), DSIM_S(1));
}

/* base * 2^(r-1) past INT64_MAX must come out as cap, not wrap to a small or negative wait. */
static void test_backoff_caps_instead_of_overflowing(void)
{
    BackoffConfig cfg = { .base = DSIM_S(1), .cap = INT64_MAX, .jitter = JITTER_NONE };
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 34, 0, 0), DSIM_S(1) << 33); /* 8.6e18 < 9.2e18 */
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 35, 0, 0), INT64_MAX);
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 200, 0, 0), INT64_MAX);
    cfg.base = 1;
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 63, 0, 0), INT64_C(1) << 62);
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 64, 0, 0), INT64_MAX);
    cfg.jitter = JITTER_FULL;
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 100, 0, UINT64_MAX), INT64_MAX);
    cfg.jitter = JITTER_DECORRELATED;
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 1, INT64_MAX, UINT64_MAX), INT64_MAX);
}

/* The draw maps onto the inclusive range: 0 gives the low end, 2^64 - 1 the high end. */
static void test_backoff_draw_reaches_both_ends(void)
{
    BackoffConfig cfg = { .base = DSIM_MS(10), .cap = DSIM_S(1), .jitter = JITTER_FULL };
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 3, 0, 0), 0);
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 3, 0, UINT64_MAX), DSIM_MS(40));
    cfg.jitter = JITTER_EQUAL;
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 3, 0, 0), DSIM_MS(20));
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 3, 0, UINT64_MAX), DSIM_MS(40));
    cfg.jitter = JITTER_DECORRELATED;
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 1, DSIM_MS(50), 0), DSIM_MS(10));
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 1, DSIM_MS(50), UINT64_MAX), DSIM_MS(150));
    CU_ASSERT_EQUAL(backoff_delay(&cfg, 1, DSIM_MS(500), UINT64_MAX), DSIM_S(1));
}

/* Draws @N_DRAWS delays for retry @r and checks each lies in [lo, hi]; also that they spread
 * over the range (something within 1 % of each end) and that the mean is near the middle. */
static void check_spread(const BackoffConfig *cfg, unsigned r, DsimTime lo, DsimTime hi,
                         uint64_t seed)
{
    uint64_t rng = seed;
    DsimTime min = INT64_MAX, max = INT64_MIN;
    double sum = 0;
    for (int i = 0; i < N_DRAWS; i++) {
        DsimTime d = backoff_delay(cfg, r, 0, splitmix64(&rng));
        if (d < lo || d > hi) {
            g_printerr("\n  seed %" PRIu64 " retry %u draw %d: %" PRId64 " outside [%" PRId64
                       ", %" PRId64 "]", seed, r, i, d, lo, hi);
            CU_FAIL_FATAL("backoff outside its bounds");
        }
        min = d < min ? d : min;
        max = d > max ? d : max;
        sum += (double) d;
    }
    DsimTime margin = (hi - lo) / 100;
    CU_ASSERT_TRUE(min <= lo + margin);
    CU_ASSERT_TRUE(max >= hi - margin);
    /* uniform: mean (lo + hi) / 2, standard error (hi - lo) / sqrt(12 * N) ~ 0.1 % of the
     * range; 1 % is ten of them */
    double mid = ((double) lo + (double) hi) / 2;
    CU_ASSERT_TRUE(sum / N_DRAWS > mid - (double) (hi - lo) / 100);
    CU_ASSERT_TRUE(sum / N_DRAWS < mid + (double) (hi - lo) / 100);
}

static void test_full_jitter_stays_within_zero_and_the_exponential(void)
{
    BackoffConfig cfg = { .base = DSIM_MS(10), .cap = DSIM_S(2), .jitter = JITTER_FULL };
    for (unsigned r = 1; r <= 12; r++) {
        DsimTime v = MIN(DSIM_S(2), DSIM_MS(10) << (r - 1));
        check_spread(&cfg, r, 0, v, 1000 + r);
    }
}

static void test_equal_jitter_keeps_half_the_exponential(void)
{
    BackoffConfig cfg = { .base = DSIM_MS(10), .cap = DSIM_S(2), .jitter = JITTER_EQUAL };
    for (unsigned r = 1; r <= 12; r++) {
        DsimTime v = MIN(DSIM_S(2), DSIM_MS(10) << (r - 1));
        check_spread(&cfg, r, v / 2, v / 2 * 2, 2000 + r);
    }
    /* an odd v: v/2 + uniform(0, v/2) tops out at v - 1, never above v */
    cfg.base = 3;
    cfg.cap = 1000;
    check_spread(&cfg, 1, 1, 2, 2999);
}

/* Decorrelated jitter chains: each wait lies in [base, min(cap, 3 * prev)], prev taken as
 * base when below it. Over many chains the waits wander the whole range up to cap. */
static void test_decorrelated_jitter_stays_within_base_and_three_times_prev(void)
{
    const uint64_t seed = 3000;
    BackoffConfig cfg = { .base = DSIM_MS(10), .cap = DSIM_S(1),
                          .jitter = JITTER_DECORRELATED };
    uint64_t rng = seed;
    unsigned at_cap = 0, at_base_band = 0;
    for (int chain = 0; chain < N_DRAWS / 20; chain++) {
        DsimTime prev = 0;
        for (unsigned r = 1; r <= 20; r++) {
            DsimTime d = backoff_delay(&cfg, r, prev, splitmix64(&rng));
            DsimTime from = MAX(prev, cfg.base);
            DsimTime hi = MIN(cfg.cap, 3 * from);
            if (d < cfg.base || d > hi) {
                g_printerr("\n  seed %" PRIu64 " chain %d retry %u: %" PRId64 " outside [%"
                           PRId64 ", %" PRId64 "]", seed, chain, r, d, cfg.base, hi);
                CU_FAIL_FATAL("decorrelated backoff outside its bounds");
            }
            at_cap += d == cfg.cap;
            at_base_band += d < cfg.base + DSIM_MS(1);
            prev = d;
        }
    }
    CU_ASSERT_TRUE(at_cap > 0);       /* min(cap, ...) is reached */
    CU_ASSERT_TRUE(at_base_band > 0); /* and the low end stays possible */
}

static void test_backoff_is_a_function_of_its_inputs(void)
{
    BackoffConfig cfg = { .base = DSIM_MS(7), .cap = DSIM_S(3), .jitter = JITTER_FULL };
    for (JitterKind k = JITTER_NONE; k <= JITTER_DECORRELATED; k++) {
        cfg.jitter = k;
        uint64_t rng = 42;
        for (int i = 0; i < 100; i++) {
            uint64_t x = splitmix64(&rng);
            CU_ASSERT_EQUAL(backoff_delay(&cfg, 1 + i % 9, DSIM_MS(i), x),
                            backoff_delay(&cfg, 1 + i % 9, DSIM_MS(i), x));
        }
    }
}

/* ---- retry budget --------------------------------------------------------------------- */

static const RetryBudgetConfig twenty_percent = {
    .ratio = 0.2, .min_retries = 3, .window = DSIM_S(10), /* slots of 1 s */
};

/* Retries allowed one after another at @now until the budget refuses; returns the count. */
static unsigned drain(RetryBudget *b, const RetryBudgetConfig *cfg, DsimTime now)
{
    unsigned n = 0;
    while (retry_budget_try(b, cfg, now)) {
        n++;
        CU_ASSERT_TRUE_FATAL(n < 1000000);
    }
    return n;
}

static void test_retry_budget_allows_min_retries_with_no_traffic(void)
{
    RetryBudget b = { 0 };
    CU_ASSERT_EQUAL(drain(&b, &twenty_percent, 0), 3);
    CU_ASSERT_FALSE(retry_budget_try(&b, &twenty_percent, DSIM_S(5)));
}

static void test_retry_budget_allows_ratio_of_requests_plus_min_retries(void)
{
    RetryBudget b = { 0 };
    for (int i = 0; i < 50; i++)
        retry_budget_on_request(&b, &twenty_percent, DSIM_MS(10 * i));
    CU_ASSERT_EQUAL(drain(&b, &twenty_percent, DSIM_MS(500)), 13); /* 0.2 * 50 + 3 */
    /* each 5 more requests buy one more retry */
    for (int i = 0; i < 4; i++)
        retry_budget_on_request(&b, &twenty_percent, DSIM_MS(600));
    CU_ASSERT_FALSE(retry_budget_try(&b, &twenty_percent, DSIM_MS(600)));
    retry_budget_on_request(&b, &twenty_percent, DSIM_MS(600));
    CU_ASSERT_EQUAL(drain(&b, &twenty_percent, DSIM_MS(600)), 1);
}

/* Fractions of a retry are not retries: 0.25 * 10 = 2.5 allows 2. Ratios that are not exact
 * in binary still count in decimal, to six places: 0.1 * 30 = 3 exactly. */
static void test_retry_budget_rounds_down_to_whole_retries(void)
{
    RetryBudgetConfig cfg = { .ratio = 0.25, .min_retries = 0, .window = DSIM_S(1) };
    RetryBudget b = { 0 };
    for (int i = 0; i < 10; i++)
        retry_budget_on_request(&b, &cfg, 0);
    CU_ASSERT_EQUAL(drain(&b, &cfg, 0), 2);

    cfg.ratio = 0.1;
    RetryBudget c = { 0 };
    for (int i = 0; i < 30; i++)
        retry_budget_on_request(&c, &cfg, 0);
    CU_ASSERT_EQUAL(drain(&c, &cfg, 0), 3);

    /* 0.00397 * 10^6 is 3969.9999999999995 in doubles; read as 3970 ppm, 4031 requests
     * buy 16.003 retries (3969 ppm would give 15.999). */
    cfg.ratio = 0.00397;
    RetryBudget d = { 0 };
    for (int i = 0; i < 4031; i++)
        retry_budget_on_request(&d, &cfg, 0);
    CU_ASSERT_EQUAL(drain(&d, &cfg, 0), 16);
}

/* Requests and retries leave the window slot by slot as time moves on. */
static void test_retry_budget_slides_as_old_slots_expire(void)
{
    RetryBudget b = { 0 };
    for (int i = 0; i < 10; i++)
        retry_budget_on_request(&b, &twenty_percent, DSIM_MS(100)); /* slot 0 */
    for (int i = 0; i < 10; i++)
        retry_budget_on_request(&b, &twenty_percent, DSIM_MS(5500)); /* slot 5 */
    CU_ASSERT_EQUAL(drain(&b, &twenty_percent, DSIM_MS(5500)), 7); /* 0.2 * 20 + 3 */
    /* At 9.999 s slot 0 still counts. */
    CU_ASSERT_FALSE(retry_budget_try(&b, &twenty_percent, DSIM_S(10) - 1));
    /* At 10 s slot 0 is gone: 11 requests left allow 0.2 * 11 + 3 = 5.2, and the 7
     * retries of slot 5 are still there. */
    retry_budget_on_request(&b, &twenty_percent, DSIM_S(10));
    CU_ASSERT_FALSE(retry_budget_try(&b, &twenty_percent, DSIM_S(10)));
    /* At 15 s slot 5 is gone too; slot 10 keeps its one request: 0.2 + 3 -> 3. */
    CU_ASSERT_EQUAL(drain(&b, &twenty_percent, DSIM_S(15)), 3);
    /* A silence longer than the window clears everything at once. */
    CU_ASSERT_EQUAL(drain(&b, &twenty_percent, DSIM_S(100)), 3);
    CU_ASSERT_EQUAL(b.slot, 100);
}

/* The window covers the current slot and the 9 before it: retries spread one per slot hit
 * the limit after min_retries, and each new slot frees the slot 10 behind. */
static void test_retry_budget_window_is_ten_slots(void)
{
    RetryBudgetConfig cfg = { .ratio = 0, .min_retries = 10, .window = DSIM_S(10) };
    RetryBudget b = { 0 };
    for (int s = 0; s < 10; s++)
        CU_ASSERT_TRUE(retry_budget_try(&b, &cfg, DSIM_S(s)));
    CU_ASSERT_FALSE(retry_budget_try(&b, &cfg, DSIM_S(10) - 1));
    for (int s = 10; s < 30; s++) {
        CU_ASSERT_TRUE(retry_budget_try(&b, &cfg, DSIM_S(s)));
        CU_ASSERT_FALSE(retry_budget_try(&b, &cfg, DSIM_S(s)));
    }
}

/* A window shorter than RETRY_BUDGET_SLOTS ns still works (slots of 1 ns). */
static void test_retry_budget_tiny_window(void)
{
    RetryBudgetConfig cfg = { .ratio = 0, .min_retries = 1, .window = 5 };
    RetryBudget b = { 0 };
    CU_ASSERT_TRUE(retry_budget_try(&b, &cfg, 0));
    CU_ASSERT_FALSE(retry_budget_try(&b, &cfg, 9));
    CU_ASSERT_TRUE(retry_budget_try(&b, &cfg, 10));
}

/* ---- bulkhead ------------------------------------------------------------------------- */

static void test_bulkhead_refuses_above_max_and_counts_max_seen(void)
{
    Bulkhead b = { 0 };
    for (int i = 0; i < 3; i++)
        CU_ASSERT_TRUE(bulkhead_enter(&b, 3));
    CU_ASSERT_FALSE(bulkhead_enter(&b, 3));
    CU_ASSERT_EQUAL(b.in_flight, 3);
    CU_ASSERT_EQUAL(b.max_seen, 3);
    bulkhead_leave(&b);
    CU_ASSERT_EQUAL(b.in_flight, 2);
    CU_ASSERT_TRUE(bulkhead_enter(&b, 3));
    CU_ASSERT_FALSE(bulkhead_enter(&b, 3));
    for (int i = 0; i < 3; i++)
        bulkhead_leave(&b);
    CU_ASSERT_EQUAL(b.in_flight, 0);
    CU_ASSERT_EQUAL(b.max_seen, 3); /* a high-water mark, it stays */
    CU_ASSERT_TRUE(bulkhead_enter(&b, 1));
    CU_ASSERT_EQUAL(b.max_seen, 3);
    Bulkhead none = { 0 };
    CU_ASSERT_FALSE(bulkhead_enter(&none, 0));
    CU_ASSERT_EQUAL(none.max_seen, 0);
}

CU_TestInfo resilience_tests[] = {
    { "breaker waits for min calls before opening",
      test_breaker_waits_for_min_calls_before_opening },
    { "breaker opens on the outcome that reaches the threshold",
      test_breaker_opens_on_the_outcome_that_reaches_the_threshold },
    { "breaker can open on the success that completes min calls",
      test_breaker_can_open_on_the_success_that_completes_min_calls },
    { "breaker threshold is read in decimal", test_breaker_threshold_is_read_in_decimal },
    { "breaker threshold zero needs one failure", test_breaker_threshold_zero_needs_one_failure },
    { "open breaker refuses until open for has passed",
      test_open_breaker_refuses_until_open_for_has_passed },
    { "half-open breaker limits probes in flight", test_half_open_breaker_limits_probes_in_flight },
    { "breaker closes when every probe succeeds", test_breaker_closes_when_every_probe_succeeds },
    { "breaker reopens on a failed probe", test_breaker_reopens_on_a_failed_probe },
    { "half-open breaker ignores answers with no probe out",
      test_half_open_breaker_ignores_answers_with_no_probe_out },
    { "breaker window forgets old outcomes", test_breaker_window_forgets_old_outcomes },
    { "breaker window matches a reference over random outcomes",
      test_breaker_window_matches_a_reference_over_random_outcomes },
    { "breaker state names", test_breaker_state_names },
    { "backoff without jitter doubles up to cap", test_backoff_without_jitter_doubles_up_to_cap },
    { "backoff caps instead of overflowing", test_backoff_caps_instead_of_overflowing },
    { "backoff draw reaches both ends", test_backoff_draw_reaches_both_ends },
    { "full jitter stays within zero and the exponential",
      test_full_jitter_stays_within_zero_and_the_exponential },
    { "equal jitter keeps half the exponential", test_equal_jitter_keeps_half_the_exponential },
    { "decorrelated jitter stays within base and three times prev",
      test_decorrelated_jitter_stays_within_base_and_three_times_prev },
    { "backoff is a function of its inputs", test_backoff_is_a_function_of_its_inputs },
    { "retry budget allows min retries with no traffic",
      test_retry_budget_allows_min_retries_with_no_traffic },
    { "retry budget allows ratio of requests plus min retries",
      test_retry_budget_allows_ratio_of_requests_plus_min_retries },
    { "retry budget rounds down to whole retries",
      test_retry_budget_rounds_down_to_whole_retries },
    { "retry budget slides as old slots expire", test_retry_budget_slides_as_old_slots_expire },
    { "retry budget window is ten slots", test_retry_budget_window_is_ten_slots },
    { "retry budget tiny window", test_retry_budget_tiny_window },
    { "bulkhead refuses above max and counts max seen",
      test_bulkhead_refuses_above_max_and_counts_max_seen },
    CU_TEST_INFO_NULL,
};
