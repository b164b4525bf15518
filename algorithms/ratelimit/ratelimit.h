/* ratelimit.h - the classic rate limiters, one API: allow or refuse a request at time now.
 *
 * Every kind is configured by `limit` requests per `window`; the long-run rate is
 * limit / window, and only allowed requests count (a refused request changes nothing).
 *
 *  - fixed window:           at most `limit` allowed in each aligned window
 *                            [k*window, (k+1)*window)
 *  - sliding log:            at most `limit` allowed in any (now - window, now]; keeps the
 *                            times of the last `limit` allowed requests (8 bytes each)
 *  - sliding window counter: the previous aligned window's count weighted by how much of it
 *                            the sliding window still covers, plus the current window's count,
 *                            must stay below `limit` (Cloudflare's two-counter approximation
 *                            of the sliding log)
 *  - leaky bucket (as a meter, GCRA of ITU-T I.371): emission interval I = window / limit,
 *                            tolerance (limit - 1) * I, so a burst of `limit` back to back
 *  - token bucket:           `limit` tokens of capacity, refilled at limit / window, one per
 *                            request; starts full. Makes exactly the leaky bucket's decisions.
 *
 * Conformance (DESIGN.md, "limiter conformance"): the requests a limiter allows in any closed
 * interval [a, a + T] number at most  burst + floor(limit * T / window).  The burst each kind
 * guarantees (ratelimit_burst()), for every T >= 0 and every arrival pattern:
 *
 *    kind                     burst          tighter statement
 *    sliding log              limit          at most limit * (floor(T / window) + 1)
 *    leaky / token bucket     limit          exact: a saturating stream reaches the bound
 *    sliding window counter   limit + 1      at most limit + ceil(limit * T / window)
 *    fixed window             2 * limit      at most limit * (ceil(T / window) + 1)
 *    none                     no bound       (ratelimit_burst() says UINT64_MAX)
 *
 * So fixed window can let 2 * limit through in 1 ns around a window boundary, and the sliding
 * window counter up to 2 * limit in one sliding window (previous window's requests all at its
 * end), although only over an interval of nearly a window: its excess over the sliding log
 * grows with T, the fixed window's does not. algorithms/ratelimit/ratelimit.c proves each
 * line; tests/unit/test_ratelimit.c shows each one reached and the weaker burst violated.
 *
 * Pure and deterministic: integer nanoseconds, no floating point, no context, no clock.
 */
#ifndef DSIM_RATELIMIT_H
#define DSIM_RATELIMIT_H

#include "sim/dsim.h"

typedef enum {
    RL_NONE = 0,
    RL_FIXED_WINDOW,
    RL_SLIDING_LOG,
    RL_SLIDING_WINDOW,
    RL_LEAKY_BUCKET,
    RL_TOKEN_BUCKET,
} RateLimitKind;

/* The choices string for a DSIM_PARAM_CHOICE parameter, in RateLimitKind order. */
#define RATELIMIT_CHOICES "none|fixed-window|sliding-log|sliding-window|leaky-bucket|token-bucket"

typedef struct {
    RateLimitKind kind;
    uint32_t      limit;  /* requests per window, and the buckets' burst; >= 1 */
    DsimTime      window; /* ns, > 0; the rate is limit / window (no rounding: see the .c) */
} RateLimitConfig;

typedef struct RateLimiter RateLimiter;

/* A limiter in its initial state (nothing seen yet; buckets full). @cfg is copied. Asserts
 * limit >= 1 and window > 0 (bugs: the scenario loader range-checks parameters). The sliding
 * log allocates 8 * limit bytes up front; the others allocate only the RateLimiter.
 * RL_NONE gives a limiter that allows everything. Free with ratelimit_free(). */
RateLimiter *ratelimit_new(const RateLimitConfig *cfg);
void         ratelimit_free(RateLimiter *rl); /* accepts NULL */
/* Allow one request at @now? Counts it when allowed; a refusal leaves the state unchanged.
 * @now is in ns since the run began: >= 0 and non-decreasing between calls (asserted).
 * now + window must fit in a DsimTime (any window under a century, in a run under one). */
bool         ratelimit_allow(RateLimiter *rl, DsimTime now);
const char  *ratelimit_kind_name(RateLimitKind k); /* "sliding-log", as in RATELIMIT_CHOICES */

/* The burst with which @cfg's kind conforms (the table above): limit, limit + 1, 2 * limit,
 * or UINT64_MAX for RL_NONE. Pass it to ratelimit_conforms() with cfg->limit, cfg->window. */
uint64_t     ratelimit_burst(const RateLimitConfig *cfg);

/* Checks the allowed request times @t[0..n) (sorted, non-decreasing; asserted) against the
 * bound: for every i <= j, the j - i + 1 requests in [t_i, t_j] are at most
 *     burst + floor(limit * (t_j - t_i) / window),
 * evaluated exactly (128-bit products, no floating point). O(n) time, no allocation.
 * Returns true, or false with the violating pair: *j the first request at which some interval
 * ending there holds too many, *i the start of the interval that exceeds the bound the most
 * there (the earliest on ties). @i and @j may be NULL. window > 0. */
bool ratelimit_conforms(const DsimTime *t, size_t n, uint64_t burst, uint32_t limit,
                        DsimTime window, size_t *i, size_t *j);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RateLimiter, ratelimit_free)

#endif /* DSIM_RATELIMIT_H */
