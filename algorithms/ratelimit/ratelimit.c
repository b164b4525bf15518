/* ratelimit.c - five rate limiters and the conformance check, in integer nanoseconds.
 *
 * The one idea needed to read this file: the rate limit / window is almost never a whole
 * number of nanoseconds per request, and rounding it would make a limiter drift from its
 * promise over a long run. So no rate is ever divided out. The window kinds compare counts
 * multiplied by times (exactly, with 128-bit products), and the two buckets keep their clock
 * as a mixed number ns + part / limit (FineTime below), in which the emission interval
 * window / limit is exact. The bounds in ratelimit.h then hold exactly, and the tests check
 * them with ratelimit_conforms(), itself exact.
 *
 * Sources, one per kind:
 *  - fixed window and sliding log: the two textbook ends (count per aligned window; keep
 *    every timestamp), as in Cloudflare's post below and most API gateways.
 *  - sliding window counter: Cloudflare, "How we built rate limiting capable of scaling to
 *    millions of domains" (J. Lambert, 2017): rate = prev * ((window - elapsed) / window)
 *    + curr, "assuming a constant rate of requests during the previous sampling period".
 *  - leaky bucket as a meter: the Generic Cell Rate Algorithm GCRA(I, L) of ITU-T I.371 and
 *    the ATM Forum Traffic Management Specification 4.0, in its virtual scheduling form.
 *  - token bucket: Tanenbaum, Computer Networks, "traffic shaping"; RFC 2697 (srTCM) counts
 *    tokens Tc up to the committed burst size CBS, refilled at the rate CIR.
 * The leaky bucket as a meter and the token bucket are one algorithm seen from two sides (the
 * bucket's fill versus its room): here they make identical decisions, and a test checks it.
 */
#include "algorithms/ratelimit/ratelimit.h"

/* ---- exact arithmetic ----------------------------------------------------------------- */

/* a * b as 128 bits, schoolbook on 32-bit halves (portable: no __int128). */
typedef struct {
    uint64_t hi, lo;
} U128;

static U128 mul_u64(uint64_t a, uint64_t b)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32;
    uint64_t b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu); /* < 2^34 */
    return (U128) { .hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32),
                    .lo = (mid << 32) | (p00 & 0xffffffffu) };
}

/* a * b < c * d, exactly. */
static bool product_less(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    U128 x = mul_u64(a, b), y = mul_u64(c, d);
    return x.hi != y.hi ? x.hi < y.hi : x.lo < y.lo;
}

/* A time or duration of ns + part / limit nanoseconds, 0 <= part < limit: the buckets'
 * clock. The emission interval window / limit is exactly { window / limit, window % limit }.
 * Compared lexicographically; only ever added to and subtracted from, never multiplied. */
typedef struct {
    DsimTime ns;
    uint32_t part;
} FineTime;

static bool fine_le(FineTime a, FineTime b)
{
    return a.ns != b.ns ? a.ns < b.ns : a.part <= b.part;
}

static FineTime fine_add(FineTime a, FineTime b, uint32_t limit)
{
    uint64_t part = (uint64_t) a.part + b.part; /* < 2 * limit */
    if (part >= limit)
        return (FineTime) { a.ns + b.ns + 1, (uint32_t) (part - limit) };
    return (FineTime) { a.ns + b.ns, (uint32_t) part };
}

static FineTime fine_sub(FineTime a, FineTime b, uint32_t limit)
{
    if (a.part >= b.part)
        return (FineTime) { a.ns - b.ns, a.part - b.part };
    return (FineTime) { a.ns - b.ns - 1, (uint32_t) ((uint64_t) a.part + limit - b.part) };
}

/* ---- the limiters --------------------------------------------------------------------- */

struct RateLimiter {
    RateLimitConfig cfg;
    DsimTime        last_now;      /* the latest @now seen (calls are non-decreasing) */

    /* fixed window, sliding window counter */
    int64_t         window_index;  /* floor(now / window) of the current aligned window */
    uint32_t        curr;          /* allowed in the current window; <= limit */
    uint32_t        prev;          /* allowed in window_index - 1; <= limit */

    /* sliding log: a ring of the last log_len <= limit allowed times, oldest at log_head */
    DsimTime       *log;
    uint32_t        log_len;
    uint32_t        log_head;

    /* buckets */
    FineTime        interval;      /* I = window / limit */
    FineTime        tolerance;     /* GCRA's L = window - I = (limit - 1) * I */
    FineTime        tat;           /* leaky bucket: theoretical arrival time; starts at 0 */
    FineTime        room;          /* token bucket: tokens, in ns of refill; 0 <= room <= window */
};

RateLimiter *ratelimit_new(const RateLimitConfig *cfg)
{
    g_assert(cfg->kind <= RL_TOKEN_BUCKET && cfg->limit >= 1 && cfg->window > 0);
    RateLimiter *rl = g_new0(RateLimiter, 1);
    rl->cfg = *cfg;
    rl->interval = (FineTime) { cfg->window / cfg->limit, (uint32_t) (cfg->window % cfg->limit) };
    rl->tolerance = fine_sub((FineTime) { cfg->window, 0 }, rl->interval, cfg->limit);
    rl->room = (FineTime) { cfg->window, 0 }; /* full: `limit` tokens */
    if (cfg->kind == RL_SLIDING_LOG)
        rl->log = g_new(DsimTime, cfg->limit);
    return rl;
}

void ratelimit_free(RateLimiter *rl)
{
    if (rl == NULL)
        return;
    g_free(rl->log);
    g_free(rl);
}

/* Fixed window: count per aligned window [k * window, (k + 1) * window), reset at each new k.
 * Each window holds at most limit, and a closed interval of length T meets at most
 * ceil(T / window) + 1 windows, hence limit * (ceil(T / window) + 1) <= 2 * limit +
 * floor(limit * T / window): burst 2 * limit. Reached: limit at the end of a window and limit
 * at the start of the next, 1 ns apart. */
static bool fixed_window_allow(RateLimiter *rl, DsimTime now)
{
    int64_t k = now / rl->cfg.window;
    if (k != rl->window_index) {
        rl->window_index = k;
        rl->curr = 0;
    }
    if (rl->curr >= rl->cfg.limit)
        return false;
    rl->curr++;
    return true;
}

/* Sliding log: allow when fewer than limit allowed times lie in (now - window, now]. Only
 * the last limit allowed times can matter, so the log is a ring of that size: when it is
 * full, the request is allowed iff its oldest entry has left the window (now - oldest >=
 * window), and then replaces it. So any limit + 1 consecutive allowed times span at least
 * a window, and [t_i, t_j] holds at most limit * (floor(T / window) + 1) <= limit +
 * floor(limit * T / window): burst limit, the strictest of the five. */
static bool sliding_log_allow(RateLimiter *rl, DsimTime now)
{
    uint32_t limit = rl->cfg.limit;
    if (rl->log_len < limit) {
        rl->log[(rl->log_head + rl->log_len) % limit] = now;
        rl->log_len++;
        return true;
    }
    if (now - rl->log[rl->log_head] < rl->cfg.window)
        return false;
    rl->log[rl->log_head] = now; /* the oldest goes, the newest takes its slot */
    rl->log_head = (rl->log_head + 1) % limit;
    return true;
}

/* Sliding window counter (Cloudflare 2017): with e = now - k * window the time elapsed in the
 * current window, allow when
 *     prev * (window - e) / window + curr < limit,
 * i.e., in integers, curr < limit and prev * (window - e) < (limit - curr) * window.
 * The estimate assumes the previous window's requests were spread evenly; when they were all
 * at its end, it forgets them too early. Bound: take [a, b], b an allowed time e into window
 * m, holding c requests of window m and meeting r >= 1 windows before it (so T >= e + (r - 1)
 * * window). Allowing the c-th needed p * (window - e') / window + c - 1 < limit at some
 * e' <= e, with p the count of window m - 1, so c + p < limit + 1 + p * e / window; window
 * m - 1 gives at most p to [a, b], the r - 1 earlier ones at most limit each. Adding up,
 * count < limit + 1 + limit * (e + (r - 1) * window) / window <= limit + 1 + limit * T /
 * window, i.e. count <= limit + ceil(limit * T / window): burst limit + 1, one more than the
 * sliding log (reached: the tests show it). In one sliding window that is up to 2 * limit,
 * as with the fixed window, but only over an interval of nearly a window, never in 1 ns.
 * Cloudflare found 0.003% of requests wrongly allowed or limited on their real traffic: a
 * fine trade for two counters instead of a log. */
static bool sliding_window_allow(RateLimiter *rl, DsimTime now)
{
    int64_t k = now / rl->cfg.window;
    if (k != rl->window_index) {
        rl->prev = k == rl->window_index + 1 ? rl->curr : 0;
        rl->curr = 0;
        rl->window_index = k;
    }
    uint32_t limit = rl->cfg.limit;
    uint64_t left = (uint64_t) (rl->cfg.window - (now - k * rl->cfg.window)); /* in (0, window] */
    if (rl->curr >= limit ||
        !product_less(rl->prev, left, limit - rl->curr, (uint64_t) rl->cfg.window))
        return false;
    rl->curr++;
    return true;
}

/* Leaky bucket as a meter, GCRA(I, L) by the virtual scheduling algorithm (ITU-T I.371):
 * "if TAT > t_a + L the cell is non-conforming, else TAT := max(t_a, TAT) + I", with
 * I = window / limit and L = (limit - 1) * I, so that limit requests fit back to back.
 * Each acceptance pushes TAT at least I beyond the previous TAT, and the first of [t_i, t_j]
 * leaves TAT >= t_i + I; accepting t_j needs TAT <= t_j + L, so (n - 1) * I <= T + L, i.e.
 * n <= limit + limit * T / window: burst limit, exactly (a saturating stream reaches it). */
static bool leaky_bucket_allow(RateLimiter *rl, DsimTime now)
{
    uint32_t limit = rl->cfg.limit;
    FineTime t = { now, 0 };
    if (!fine_le(rl->tat, fine_add(t, rl->tolerance, limit)))
        return false;
    rl->tat = fine_add(fine_le(rl->tat, t) ? t : rl->tat, rl->interval, limit);
    return true;
}

/* Token bucket: limit tokens of capacity refilled at limit / window, one taken per request.
 * A token is worth I = window / limit ns of refill, so the bucket holds `room` ns of refill,
 * 0 <= room <= window (window = full = limit tokens): refill adds the elapsed time, capped at
 * window, and a request needs room >= I. With room = window - max(0, TAT - now) this is the
 * leaky bucket above, decision for decision, hence the same bound: burst limit. */
static bool token_bucket_allow(RateLimiter *rl, DsimTime now)
{
    uint32_t limit = rl->cfg.limit;
    DsimTime elapsed = now - rl->last_now;
    if (elapsed >= rl->cfg.window - rl->room.ns)
        rl->room = (FineTime) { rl->cfg.window, 0 };
    else
        rl->room.ns += elapsed;
    if (!fine_le(rl->interval, rl->room))
        return false;
    rl->room = fine_sub(rl->room, rl->interval, limit);
    return true;
}

bool ratelimit_allow(RateLimiter *rl, DsimTime now)
{
    g_assert(now >= rl->last_now); /* also now >= 0: last_now starts at 0 */
    bool allowed = true;
    switch (rl->cfg.kind) {
    case RL_FIXED_WINDOW:   allowed = fixed_window_allow(rl, now); break;
    case RL_SLIDING_LOG:    allowed = sliding_log_allow(rl, now); break;
    case RL_SLIDING_WINDOW: allowed = sliding_window_allow(rl, now); break;
    case RL_LEAKY_BUCKET:   allowed = leaky_bucket_allow(rl, now); break;
    case RL_TOKEN_BUCKET:   allowed = token_bucket_allow(rl, now); break;
    case RL_NONE:           break;
    }
    rl->last_now = now;
    return allowed;
}

const char *ratelimit_kind_name(RateLimitKind k)
{
    switch (k) {
    case RL_NONE:           return "none";
    case RL_FIXED_WINDOW:   return "fixed-window";
    case RL_SLIDING_LOG:    return "sliding-log";
    case RL_SLIDING_WINDOW: return "sliding-window";
    case RL_LEAKY_BUCKET:   return "leaky-bucket";
    case RL_TOKEN_BUCKET:   return "token-bucket";
    }
    return "?";
}

uint64_t ratelimit_burst(const RateLimitConfig *cfg)
{
    switch (cfg->kind) {
    case RL_SLIDING_LOG:
    case RL_LEAKY_BUCKET:
    case RL_TOKEN_BUCKET:   return cfg->limit;
    case RL_SLIDING_WINDOW: return (uint64_t) cfg->limit + 1;
    case RL_FIXED_WINDOW:   return 2 * (uint64_t) cfg->limit;
    case RL_NONE:           break;
    }
    return UINT64_MAX;
}

/* ---- the conformance check ------------------------------------------------------------ */

/* The bound for the pair i <= j, with n = j - i + 1 and T = t_j - t_i, is
 *     n <= burst + floor(limit * T / window).
 * n is an integer, so the floor can go: n - burst <= limit * T / window, i.e.
 *     (j - i + 1 - burst) * window <= limit * (t_j - t_i).
 * Sort the terms by index: with g(k) = k * window - limit * t_k, that reads
 *     g(j) - g(i) <= (burst - 1) * window.
 * For a fixed j the worst i is the one with the smallest g(i), i <= j, and that minimum can
 * be kept in one pass: every pair is checked, in O(n), with no two-pointer window of a fixed
 * T (the bound must hold for every T at once). g itself needs ~96 bits, so the code compares
 * g(x) - g(y) through its two products, (x - y) * window against limit * (t_x - t_y), never
 * forming g; for x >= y both are non-negative, and the time difference fits a uint64_t. */
bool ratelimit_conforms(const DsimTime *t, size_t n, uint64_t burst, uint32_t limit,
                        DsimTime window, size_t *i, size_t *j)
{
    g_assert(window > 0);
    size_t m = 0; /* argmin of g over [0, k], the earliest on ties */
    for (size_t k = 0; k < n; k++) {
        g_assert(k == 0 || t[k] >= t[k - 1]);
        uint64_t span = (uint64_t) t[k] - (uint64_t) t[m]; /* exact: t[k] >= t[m] */
        /* g(k) < g(m)  <=>  (k - m) * window < limit * span: k is the new minimum */
        if (product_less(k - m, (uint64_t) window, limit, span)) {
            m = k;
            span = 0;
        }
        /* n - burst <= limit * T / window for the pair (m, k)? */
        uint64_t count = k - m + 1;
        if (count > burst &&
            product_less(limit, span, count - burst, (uint64_t) window)) {
            if (i != NULL)
                *i = m;
            if (j != NULL)
                *j = k;
            return false;
        }
    }
    return true;
}
