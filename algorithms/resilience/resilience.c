/* resilience.c - circuit breaker, backoff with jitter, retry budget and bulkhead, each the
 * few lines of arithmetic its source describes.
 *
 * Everything here is a function of (state, config, now, one random draw): no context, no
 * heap, no clock, no global randomness. Decisions compare integers; the two ratios that come
 * in as doubles (the breaker's threshold, the budget's ratio) are turned into parts per
 * million once, by one IEEE multiply and add, and compared as integers after that, so every
 * platform takes the same branch.
 */
#include "algorithms/resilience/resilience.h"

#include <string.h>

/* Ratios are compared in parts per million: 0.5 -> 500000. Six decimals of a parameter are
 * kept exactly, which is more than any scenario writes. @max bounds the result (and so the
 * products it enters); NaN and negatives become 0. */
#define PPM 1000000u

static uint64_t ratio_ppm(double ratio, double max)
{
    if (!(ratio > 0))
        return 0;
    if (ratio > max)
        ratio = max;
    return (uint64_t) (ratio * PPM + 0.5);
}

/* A uniform draw in [0, n) from one 64-bit number, by multiply-shift (Lemire, "Fast Random
 * Integer Generation in an Interval", 2019, without the rejection step): the high 64 bits of
 * rand * n. The bias is below n / 2^64, far under anything a run can see, and it costs no
 * second draw, so the caller's stream advances by exactly one number per delay. */
static uint64_t below(uint64_t rand, uint64_t n)
{
    return (uint64_t) (((unsigned __int128) rand * n) >> 64);
}

/* Uniform in [lo, hi], inclusive; lo <= hi. */
static DsimTime uniform(uint64_t rand, DsimTime lo, DsimTime hi)
{
    uint64_t span = (uint64_t) hi - (uint64_t) lo; /* < 2^63, so span + 1 cannot wrap */
    return lo + (DsimTime) below(rand, span + 1);
}

/* ---- circuit breaker ---------------------------------------------------------------- */

const char *breaker_state_name(BreakerState s)
{
    switch (s) {
    case BREAKER_CLOSED:
        return "closed";
    case BREAKER_OPEN:
        return "open";
    case BREAKER_HALF_OPEN:
        return "half-open";
    }
    return "?";
}

static void check_config(const BreakerConfig *cfg)
{
    g_assert(cfg->window >= 1 && cfg->window <= BREAKER_WINDOW_MAX);
    g_assert(cfg->min_calls >= 1 && cfg->min_calls <= cfg->window);
    g_assert(cfg->probes >= 1);
}

static void set_state(Breaker *b, BreakerState s, DsimTime now)
{
    b->state = s;
    b->transitions++;
    switch (s) {
    case BREAKER_CLOSED:
        /* Release It!: a breaker that closes starts counting afresh; resilience4j resets
         * the sliding window on every transition for the same reason: failures from before
         * the open spell say nothing about the service that just answered every probe. */
        b->failed = 0;
        b->n = b->next = 0;
        break;
    case BREAKER_OPEN:
        b->opened_at = now;
        break;
    case BREAKER_HALF_OPEN:
        b->probes_out = b->probes_ok = 0;
        break;
    }
}

static unsigned ring_failures(const Breaker *b)
{
    return (unsigned) __builtin_popcountll(b->failed);
}

/* resilience4j's COUNT_BASED sliding window (slidingWindowSize = window, minimumNumberOfCalls
 * = min_calls, failureRateThreshold = threshold): a ring of the last `window` outcomes, one bit
 * each, the oldest overwritten by the newest. Bits at or beyond `window` stay zero. */
static void ring_push(Breaker *b, const BreakerConfig *cfg, bool failure)
{
    uint64_t bit = UINT64_C(1) << b->next;
    b->failed = failure ? b->failed | bit : b->failed & ~bit;
    b->next = (b->next + 1) % cfg->window;
    if (b->n < cfg->window)
        b->n++;
}

/* Opens when at least min_calls outcomes are known and failures / n >= threshold, written
 * failures * 10^6 >= threshold_ppm * n so no division or double decides it. resilience4j
 * evaluates after every recorded call, success or failure, and so do we: a success can be
 * the call that completes min_calls. At least one failure is required, so threshold 0 reads
 * "open on any failure" rather than "open on anything". */
static bool should_open(const Breaker *b, const BreakerConfig *cfg)
{
    if (b->n < cfg->min_calls)
        return false;
    uint64_t failures = ring_failures(b);
    return failures > 0 && failures * PPM >= ratio_ppm(cfg->threshold, 1.0) * b->n;
}

bool breaker_allow(Breaker *b, const BreakerConfig *cfg, DsimTime now)
{
    check_config(cfg);
    switch (b->state) {
    case BREAKER_CLOSED:
        return true;
    case BREAKER_OPEN:
        /* Release It!: after a while the breaker decides the operation has a chance of
         * succeeding again and goes half-open (resilience4j's waitDurationInOpenState). The
         * timeout is the only way out of OPEN: there is no call to learn from while it
         * refuses them all. */
        if (now - b->opened_at < cfg->open_for)
            return false;
        set_state(b, BREAKER_HALF_OPEN, now);
        break; /* to the HALF_OPEN rule, with no probe out yet */
    case BREAKER_HALF_OPEN:
        break;
    }
    /* HALF_OPEN: resilience4j's permittedNumberOfCallsInHalfOpenState; a trial run of at most
     * `probes` calls, the rest refused as if still open, so a service that just came back is
     * not flattened by the whole backlog at once. */
    if (b->probes_out >= cfg->probes)
        return false;
    b->probes_out++;
    return true;
}

void breaker_record(Breaker *b, const BreakerConfig *cfg, DsimTime now, bool success)
{
    check_config(cfg);
    switch (b->state) {
    case BREAKER_CLOSED:
        ring_push(b, cfg, !success);
        if (should_open(b, cfg))
            set_state(b, BREAKER_OPEN, now);
        return;
    case BREAKER_OPEN:
        /* An answer to a call let through before the breaker opened: it changes nothing, the
         * open spell ends by time alone. */
        return;
    case BREAKER_HALF_OPEN:
        /* Only answers to outstanding probes count. A late answer to a call made while
         * CLOSED, arriving when no probe is out, is dropped. With probes out, the breaker
         * cannot tell a late answer from a probe's (it keeps no call ids); resilience4j too
         * counts whatever answer arrives in the current state. It costs at most an early or
         * a delayed verdict. */
        if (b->probes_ok >= b->probes_out)
            return;
        if (!success) {
            /* Release It!: a failed trial call sends the breaker back to OPEN until another
             * timeout elapses. (resilience4j instead compares the probes' failure rate with
             * the threshold; one failure is the stricter, Nygard rule.) */
            set_state(b, BREAKER_OPEN, now);
            return;
        }
        b->probes_ok++;
        if (b->probes_ok >= cfg->probes)
            set_state(b, BREAKER_CLOSED, now);
        return;
    }
}

/* ---- backoff with jitter ------------------------------------------------------------- */

/* min(cap, base * 2^(retry-1)) without overflow: base << shift stays <= cap exactly when
 * base <= cap >> shift, and past 62 doublings any base >= 1 has reached every cap. */
static DsimTime exponential(const BackoffConfig *cfg, unsigned retry)
{
    unsigned shift = retry - 1;
    if (shift >= 63 || cfg->base > (cfg->cap >> shift))
        return cfg->cap;
    return cfg->base << shift;
}

DsimTime backoff_delay(const BackoffConfig *cfg, unsigned retry, DsimTime prev, uint64_t rand)
{
    g_assert(cfg->base > 0 && cfg->base <= cfg->cap);
    g_assert(retry >= 1);

    switch (cfg->jitter) {
    case JITTER_NONE:
        /* Brooker's starting point, "exponential backoff": correct, but every client that
         * failed together retries together, and the load comes back in spikes. */
        return exponential(cfg, retry);
    case JITTER_FULL: {
        /* Brooker: sleep = random_between(0, min(cap, base * 2 ** attempt)). The spikes
         * become a spread; in his simulation it did the least work of the jittered kinds. */
        DsimTime v = exponential(cfg, retry);
        return uniform(rand, 0, v);
    }
    case JITTER_EQUAL: {
        /* Brooker: temp = min(cap, base * 2 ** attempt); sleep = temp / 2 +
         * random_between(0, temp / 2). Keeps half the backoff, so no retry comes right
         * away; of the jittered kinds it came out worst in his simulation (a little more
         * work than full jitter, and much longer to finish). */
        DsimTime half = exponential(cfg, retry) / 2;
        return half + uniform(rand, 0, half);
    }
    case JITTER_DECORRELATED: {
        /* Brooker: sleep = min(cap, random_between(base, sleep * 3)). Each wait grows from
         * the previous one rather than from the retry count. A prev below base (the first
         * retry passes 0 or base) starts from base, so the range is never empty. 3 * prev
         * saturates instead of wrapping; the min with cap makes that invisible. */
        if (prev < cfg->base)
            prev = cfg->base;
        DsimTime hi = prev > INT64_MAX / 3 ? INT64_MAX : prev * 3;
        DsimTime d = uniform(rand, cfg->base, hi);
        return d < cfg->cap ? d : cfg->cap;
    }
    }
    g_assert_not_reached();
}

/* ---- retry budget -------------------------------------------------------------------- */

/* Slots of window / RETRY_BUDGET_SLOTS ns (at least 1 ns). Slot k covers
 * [k * len, (k + 1) * len); b->slot is the newest one touched, and slot k lives in array
 * cell k % RETRY_BUDGET_SLOTS. Moving to a newer slot clears the cells of the slots passed
 * over, so the sums below always cover the current slot and the RETRY_BUDGET_SLOTS - 1
 * before it: between window - len and window of history, the usual price of a sliding
 * window kept in buckets (Envoy and Finagle both bucket time the same way). A zeroed
 * RetryBudget is an empty one at slot 0. */
static void advance(RetryBudget *b, const RetryBudgetConfig *cfg, DsimTime now)
{
    DsimTime len = cfg->window / RETRY_BUDGET_SLOTS;
    if (len < 1)
        len = 1;
    int64_t slot = now / len;
    if (slot <= b->slot)
        return; /* same slot (time never runs backwards in a run) */
    if (slot - b->slot >= RETRY_BUDGET_SLOTS) {
        memset(b->requests, 0, sizeof b->requests);
        memset(b->retries, 0, sizeof b->retries);
    } else {
        for (int64_t k = b->slot + 1; k <= slot; k++) {
            b->requests[k % RETRY_BUDGET_SLOTS] = 0;
            b->retries[k % RETRY_BUDGET_SLOTS] = 0;
        }
    }
    b->slot = slot;
}

static void bump(uint32_t *count)
{
    if (*count < UINT32_MAX)
        (*count)++;
}

void retry_budget_on_request(RetryBudget *b, const RetryBudgetConfig *cfg, DsimTime now)
{
    g_assert(cfg->window > 0);
    advance(b, cfg, now);
    bump(&b->requests[b->slot % RETRY_BUDGET_SLOTS]);
}

/* Finagle's RetryBudget(ttl, minRetriesPerSec, percentCanRetry): each request deposits
 * percentCanRetry of a token that lasts ttl, each retry withdraws one, and minRetriesPerSec
 * is a reserve that lets a quiet client retry at all. Envoy's retry_budget is the same idea
 * over requests in flight rather than a window: active retries at most budget_percent of
 * active requests, and never fewer than min_retry_concurrency. Here, counted over the
 * window (the caller reports first attempts with retry_budget_on_request and asks before
 * each retry): one more retry is allowed when
 *   retries + 1 <= ratio * requests + min_retries,
 * in parts per million. ratio is capped at 100 (10000 %), which keeps
 * ratio_ppm * requests below 2^63 for the 10 * 2^32 requests the slots can hold. */
bool retry_budget_try(RetryBudget *b, const RetryBudgetConfig *cfg, DsimTime now)
{
    g_assert(cfg->window > 0);
    advance(b, cfg, now);
    uint64_t requests = 0, retries = 0;
    for (unsigned i = 0; i < RETRY_BUDGET_SLOTS; i++) {
        requests += b->requests[i];
        retries += b->retries[i];
    }
    uint64_t allowed_ppm = ratio_ppm(cfg->ratio, 100.0) * requests
                         + (uint64_t) cfg->min_retries * PPM;
    if ((retries + 1) * PPM > allowed_ppm)
        return false;
    bump(&b->retries[b->slot % RETRY_BUDGET_SLOTS]);
    return true;
}

/* ---- bulkhead ------------------------------------------------------------------------ */

/* Release It!, "Bulkheads": partition the resources so one failing dependency can tie up
 * only its own share. Here the share is a count of calls in flight; the call above it is
 * refused at once (fail fast) rather than queued. */
bool bulkhead_enter(Bulkhead *b, unsigned max)
{
    if (b->in_flight >= max)
        return false;
    b->in_flight++;
    if (b->in_flight > b->max_seen)
        b->max_seen = b->in_flight;
    return true;
}

void bulkhead_leave(Bulkhead *b)
{
    g_assert(b->in_flight > 0);
    b->in_flight--;
}
