/* resilience.h - the fault-tolerance building blocks a caller wraps around its calls: a
 * circuit breaker, retries with exponential backoff and jitter, a retry budget, a bulkhead.
 *
 * Pure and small: each is a fixed-size struct kept inside a protocol's state (no heap), a
 * config filled from the protocol's parameters, and functions of (state, config, now, a
 * random number the caller drew from its own stream). They never touch a DsimCtx, so they
 * are tested alone (tests/unit/test_resilience.c) and read like the papers/posts they follow.
 */
#ifndef DSIM_RESILIENCE_H
#define DSIM_RESILIENCE_H

#include "sim/dsim.h"

/* ---- circuit breaker (Nygard, "Release It!", 2007; the count-based sliding window of
 * resilience4j): CLOSED lets calls through and records outcomes; when at least min_calls of
 * the last `window` outcomes are known and the failure ratio reaches `threshold`, it OPENs:
 * every call is refused without being made, for open_for; then HALF_OPEN lets `probes` calls
 * through: all succeed -> CLOSED (window cleared), any fails -> OPEN again. */

#define BREAKER_WINDOW_MAX 64

typedef enum { BREAKER_CLOSED = 0, BREAKER_OPEN, BREAKER_HALF_OPEN } BreakerState;

typedef struct {
    unsigned window;    /* outcomes remembered, 1..BREAKER_WINDOW_MAX */
    unsigned min_calls; /* outcomes needed before it may open, 1..window */
    double   threshold; /* failure ratio that opens it, 0..1, read to 6 decimals */
    DsimTime open_for;  /* time spent OPEN before probing */
    unsigned probes;    /* calls let through HALF_OPEN, >= 1 */
} BreakerConfig;

typedef struct {
    BreakerState state;
    uint64_t     failed;    /* bit i: outcome i of the ring was a failure */
    unsigned     n, next;   /* outcomes in the ring; where the next goes */
    DsimTime     opened_at;
    unsigned     probes_out, probes_ok; /* HALF_OPEN: let through, succeeded; ok <= out */
    unsigned     transitions; /* state changes so far */
} Breaker;

/* May a call go out now? OPEN turns HALF_OPEN once open_for has passed; HALF_OPEN lets at
 * most `probes` calls through per half-open spell (so never more than that in flight). A
 * true answer must be followed by breaker_record(). A zeroed Breaker is CLOSED and empty. */
bool breaker_allow(Breaker *b, const BreakerConfig *cfg, DsimTime now);
/* Records the outcome of an allowed call (success: answered OK in time). Threshold 0 opens
 * on the first failure once min_calls are known. Answers arriving while OPEN, or in
 * HALF_OPEN with no probe outstanding (late answers to calls made while CLOSED), are
 * ignored. */
void breaker_record(Breaker *b, const BreakerConfig *cfg, DsimTime now, bool success);
const char *breaker_state_name(BreakerState s); /* "closed", "open", "half-open" */

/* ---- retries: exponential backoff with jitter (Brooker, "Exponential Backoff And Jitter",
 * AWS Architecture Blog, 2015). Retry r (1 = the first retry) waits
 *   none:         min(cap, base * 2^(r-1))
 *   full:         uniform(0, min(cap, base * 2^(r-1)))
 *   equal:        v/2 + uniform(0, v/2), v = min(cap, base * 2^(r-1))
 *   decorrelated: min(cap, uniform(base, 3 * prev)), prev the previous wait (base at first) */

typedef enum { JITTER_NONE = 0, JITTER_FULL, JITTER_EQUAL, JITTER_DECORRELATED } JitterKind;

/* The choices string for a DSIM_PARAM_CHOICE parameter, in JitterKind order. */
#define JITTER_CHOICES "none|full|equal|decorrelated"

typedef struct {
    DsimTime   base, cap; /* 0 < base <= cap */
    JitterKind jitter;
} BackoffConfig;

/* The wait before retry @retry (>= 1); @prev is the wait before the previous retry (ignored
 * unless decorrelated; 0 or base at the first retry); @rand a uniform 64-bit draw from the
 * caller's stream, used once (not at all for none). Uniform ranges are inclusive. */
DsimTime backoff_delay(const BackoffConfig *cfg, unsigned retry, DsimTime prev, uint64_t rand);

/* ---- retry budget (Finagle's RetryBudget, Envoy's retry_budget): over the last `window`,
 * retries may be at most ratio * requests + min_retries. Counted in RETRY_BUDGET_SLOTS
 * slots of window / RETRY_BUDGET_SLOTS each, so it slides. */

#define RETRY_BUDGET_SLOTS 10

typedef struct {
    double   ratio;       /* e.g. 0.2: retries up to 20 % of requests; 0..100 */
    unsigned min_retries; /* allowed whatever the traffic, per window */
    DsimTime window;
} RetryBudgetConfig;

typedef struct {
    uint32_t requests[RETRY_BUDGET_SLOTS], retries[RETRY_BUDGET_SLOTS];
    int64_t  slot;        /* absolute slot number of the newest slot */
} RetryBudget;

/* A zeroed RetryBudget is empty. Call on_request for each first attempt (not for retries),
 * and try before each retry; @now non-decreasing. */
void retry_budget_on_request(RetryBudget *b, const RetryBudgetConfig *cfg, DsimTime now);
/* True (and counts the retry) when a retry is within the budget now. */
bool retry_budget_try(RetryBudget *b, const RetryBudgetConfig *cfg, DsimTime now);

/* ---- bulkhead (Nygard): at most `max` calls in flight; the rest are refused at once. */

typedef struct {
    unsigned in_flight, max_seen;
} Bulkhead;

bool bulkhead_enter(Bulkhead *b, unsigned max); /* false: refused */
void bulkhead_leave(Bulkhead *b);

#endif /* DSIM_RESILIENCE_H */
