/* client.c - an open-loop load generator that calls a group of service instances through a
 * load balancer, with the fault-tolerance patterns of resilience.h around each request.
 *
 * Open loop: requests arrive as a Poisson stream of `rate` per second whatever happens to
 * the earlier ones (Schroeder, Wierman & Harchol-Balter, "Open Versus Closed: A Cautionary
 * Tale", NSDI 2006: real front ends face users who do not wait for each other, so an
 * overloaded service sees its load go on, not ease off). Each request then lives as follows:
 *
 *   arrival -> bulkhead (refused: shed_by_bulkhead) -> pick an instance among those whose
 *   breaker lets a call through (none: shed_by_breaker) -> attempt: a call with `timeout`
 *   -> outcome, by `mode` (Dubbo's cluster fault-tolerance strategies):
 *     failover   on FAIL or TIMEOUT, retry on another instance after a backoff (Brooker's
 *                exponential backoff with jitter), at most `retries` times, each retry paid
 *                from the retry budget when there is one (refused: budget_exhausted)
 *     failfast   one attempt; its failure is the request's
 *     failsafe   one attempt; a failure is swallowed (counted degraded: the caller goes on
 *                with an empty answer, as Dubbo's FailsafeCluster logs and returns null)
 *     forking    `forks` attempts at once on distinct instances; the first OK wins, the
 *                request fails when all of them failed
 *
 * Breakers are per backend, in the manner of Envoy's outlier detection and Hystrix's
 * per-dependency breakers: each instance has its own Breaker, the balancer is told to skip
 * the instances whose breaker would refuse a call (lb_pick's `excluded`), and so an instance
 * that fails is ejected while the others take its share. When every breaker is open, a
 * request is shed at once. Failover retries skip the instances this request already tried,
 * unless no other is left (Dubbo's reselect).
 *
 * Randomness: arrivals and keys come from a small generator of the client's own (splitmix64),
 * seeded at init from the node's stream; the balancer's and the backoff's draws come from the
 * node's stream itself. Two variants of a scenario on one seed (say lb=round-robin and
 * lb=p2c, or retries on and off) therefore see exactly the same arrivals and keys, which
 * makes their comparison fair (common random numbers, DESIGN.md).
 *
 * Metrics (dsim_metric): per finished request request_latency_seconds (arrival to outcome,
 * retries and backoffs included; not for shed requests, which made no attempt) and attempts;
 * one sample of 1 per request for its outcome: client_ok, client_failed, client_timed_out,
 * client_degraded, client_shed_by_breaker, client_shed_by_bulkhead, client_budget_exhausted.
 * Each breaker transition: breaker_state_<instance> (0 closed, 1 open, 2 half-open) and
 * breakers_open (how many of this client's breakers are not closed). Every report_every:
 * error_ratio (requests finished in the window that failed, timed out, were shed or ran out
 * of budget, over those finished), amplification (attempts sent over requests arrived) and
 * calls_to_<instance> (attempts sent to it), for each instance of the target.
 */
#include "algorithms/service/service.h"

#include <math.h>
#include <string.h>

/* ---- parameters ----------------------------------------------------------------------------- */

static const DsimParam client_params[] = {
    { .name = "target", .type = DSIM_PARAM_STRING, .def = "s",
      .help = "the group of service instances to call (a <group id>)",
      .offset = offsetof(ClientConfig, target) },
    { .name = "rate", .type = DSIM_PARAM_RATE, .def = "100/s",
      .help = "requests per second, Poisson arrivals (open loop)",
      .offset = offsetof(ClientConfig, rate) },
    { .name = "start", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when requests start arriving",
      .offset = offsetof(ClientConfig, start) },
    { .name = "stop", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when they stop; 0 = at the end of the run",
      .offset = offsetof(ClientConfig, stop) },
    { .name = "keys", .type = DSIM_PARAM_INT, .def = "1000",
      .help = "request keys are uniform in 0..keys-1 (what ring-hash and maglev hash)",
      .offset = offsetof(ClientConfig, keys), .min = 1, .max = INT64_MAX },
    { .name = "lb", .type = DSIM_PARAM_CHOICE, .def = "round-robin",
      .help = "load-balancing policy (lb.h)",
      .offset = offsetof(ClientConfig, lb), .choices = LB_CHOICES },
    { .name = "weights", .type = DSIM_PARAM_STRING, .def = "",
      .help = "weighted-round-robin: one weight per instance, \"3,1,1\"; missing ones are 1",
      .offset = offsetof(ClientConfig, weights) },
    { .name = "timeout", .type = DSIM_PARAM_TIME, .def = "200ms",
      .help = "deadline of each attempt",
      .offset = offsetof(ClientConfig, timeout) },
    { .name = "mode", .type = DSIM_PARAM_CHOICE, .def = "failover",
      .help = "what a failed attempt leads to (Dubbo's cluster strategies): failover (retry "
              "another instance), failfast (no retry), failsafe (swallow the failure), "
              "forking (`forks` instances at once, first OK wins)",
      .offset = offsetof(ClientConfig, mode), .choices = "failover|failfast|failsafe|forking" },
    { .name = "retries", .type = DSIM_PARAM_INT, .def = "2",
      .help = "failover: retries after the first attempt, at most (Dubbo's default 2)",
      .offset = offsetof(ClientConfig, retries), .min = 0, .max = 100 },
    { .name = "forks", .type = DSIM_PARAM_INT, .def = "2",
      .help = "forking: attempts made at once, on distinct instances",
      .offset = offsetof(ClientConfig, forks), .min = 1, .max = LB_MAX_BACKENDS },
    { .name = "backoff_base", .type = DSIM_PARAM_TIME, .def = "10ms",
      .help = "wait before the first retry (doubling for each further retry)",
      .offset = offsetof(ClientConfig, backoff_base) },
    { .name = "backoff_cap", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "longest wait between retries",
      .offset = offsetof(ClientConfig, backoff_cap) },
    { .name = "jitter", .type = DSIM_PARAM_CHOICE, .def = "full",
      .help = "randomization of the waits (Brooker 2015): none, full, equal, decorrelated",
      .offset = offsetof(ClientConfig, jitter), .choices = JITTER_CHOICES },
    { .name = "retry_budget", .type = DSIM_PARAM_PROB, .def = "0",
      .help = "retries allowed per request over retry_budget_window (e.g. 0.2); 0 = no budget",
      .offset = offsetof(ClientConfig, retry_budget) },
    { .name = "retry_budget_min", .type = DSIM_PARAM_INT, .def = "3",
      .help = "retries allowed per window whatever the traffic",
      .offset = offsetof(ClientConfig, retry_budget_min), .min = 0, .max = 1000000 },
    { .name = "retry_budget_window", .type = DSIM_PARAM_TIME, .def = "10s",
      .help = "the window the budget counts requests and retries over (Finagle's ttl)",
      .offset = offsetof(ClientConfig, retry_budget_window) },
    { .name = "breaker", .type = DSIM_PARAM_BOOL, .def = "false",
      .help = "a circuit breaker per instance; instances whose breaker is open are skipped",
      .offset = offsetof(ClientConfig, breaker) },
    { .name = "breaker_window", .type = DSIM_PARAM_INT, .def = "20",
      .help = "outcomes each breaker remembers (count-based sliding window)",
      .offset = offsetof(ClientConfig, breaker_window), .min = 1, .max = BREAKER_WINDOW_MAX },
    { .name = "breaker_min_calls", .type = DSIM_PARAM_INT, .def = "10",
      .help = "outcomes needed before a breaker may open",
      .offset = offsetof(ClientConfig, breaker_min_calls), .min = 1, .max = BREAKER_WINDOW_MAX },
    { .name = "breaker_threshold", .type = DSIM_PARAM_PROB, .def = "0.5",
      .help = "failure ratio over the window that opens a breaker",
      .offset = offsetof(ClientConfig, breaker_threshold) },
    { .name = "breaker_open_for", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "time a breaker stays open before letting probes through (half-open)",
      .offset = offsetof(ClientConfig, breaker_open_for) },
    { .name = "breaker_probes", .type = DSIM_PARAM_INT, .def = "3",
      .help = "calls a half-open breaker lets through; all OK closes it, one failure reopens it",
      .offset = offsetof(ClientConfig, breaker_probes), .min = 1, .max = 1000 },
    { .name = "bulkhead", .type = DSIM_PARAM_INT, .def = "0",
      .help = "requests in flight at most, the others refused at once; 0 = no bulkhead",
      .offset = offsetof(ClientConfig, bulkhead), .min = 0, .max = 1000000 },
    { .name = "report_every", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "window of the periodic figures (error_ratio, amplification, calls_to_*); 0 = none",
      .offset = offsetof(ClientConfig, report_every) },
    { .name = "bug", .type = DSIM_PARAM_CHOICE, .def = "none",
      .help = "known-bug variant: ignore-breaker (the balancer is not told which breakers are "
              "open; breaker-respected catches it)",
      .offset = offsetof(ClientConfig, bug), .choices = "none|ignore-breaker" },
    { NULL },
};

/* ---- small helpers -------------------------------------------------------------------------- */

static const char *const outcome_names[CLIENT_N_OUTCOMES] = {
    "ok", "failed", "timed_out", "degraded", "shed_by_breaker", "shed_by_bulkhead",
    "budget_exhausted",
};

static const char *const outcome_metrics[CLIENT_N_OUTCOMES] = {
    "client_ok", "client_failed", "client_timed_out", "client_degraded",
    "client_shed_by_breaker", "client_shed_by_bulkhead", "client_budget_exhausted",
};

const char *client_outcome_name(ClientOutcome o)
{
    g_assert(o < CLIENT_N_OUTCOMES);
    return outcome_names[o];
}

bool client_parse_weights(const char *text, unsigned n, uint32_t *weights)
{
    for (unsigned b = 0; b < n; b++)
        weights[b] = 1;
    const char *p = text;
    for (unsigned b = 0; *p != '\0'; b++) {
        char *end;
        guint64 w = g_ascii_strtoull(p, &end, 10);
        if (end == p || w < 1 || w > 1000000 || b >= n)
            return false;
        weights[b] = (uint32_t) w;
        p = end;
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return false;
    }
    return true;
}

static double seconds(DsimTime t)
{
    return (double) t / 1e9;
}

/* splitmix64 (Steele, Lea & Flood 2014): the workload's own generator, seeded from the node's
 * stream (see the file comment). */
static uint64_t workload_next(ClientNode *c)
{
    return lb_hash64(c->workload_rng++ * 0x9e3779b97f4a7c15ULL);
}

/* Exponential inter-arrival time of a Poisson stream of @rate per second: -ln(1 - U) / rate,
 * with U uniform in [0, 1); converted to integer nanoseconds at once, at least 1 ns. */
static DsimTime next_arrival(ClientNode *c, double rate)
{
    double u = (double) (workload_next(c) >> 11) * 0x1.0p-53;
    double ns = -log1p(-u) * 1e9 / rate;
    return ns < 1.0 ? 1 : ns > 1e18 ? DSIM_TIME_NEVER / 2 : (DsimTime) ns;
}

static BreakerConfig breaker_config(const ClientConfig *cfg)
{
    BreakerConfig b = {
        .window = (unsigned) cfg->breaker_window,
        .min_calls = (unsigned) MIN(cfg->breaker_min_calls, cfg->breaker_window),
        .threshold = cfg->breaker_threshold,
        .open_for = cfg->breaker_open_for,
        .probes = (unsigned) cfg->breaker_probes,
    };
    return b;
}

static ClientRequest *slot_at(ClientNode *c, uint32_t i)
{
    return &g_array_index(c->slots, ClientRequest, i);
}

/* An attempt's tag: the slot (low 32 bits), the slot's generation (31 bits), and whether its
 * breaker let it through (bit 63), so that only those outcomes are recorded. */
static uint64_t make_tag(uint32_t slot, uint32_t gen, bool counted)
{
    return (uint64_t) slot | (uint64_t) (gen & 0x7fffffffu) << 32 | (uint64_t) counted << 63;
}

/* ---- breakers ------------------------------------------------------------------------------- */

/* Would backend @b's breaker let a call through now? breaker_allow on a copy: the answer
 * without the side effects (turning half-open, counting a probe). */
static bool breaker_would_allow(const ClientNode *c, const BreakerConfig *bc, uint32_t b,
                                DsimTime now)
{
    Breaker copy = c->breaker[b];
    return breaker_allow(&copy, bc, now);
}

static void note_breaker(ClientNode *c, DsimCtx *ctx, uint32_t b, BreakerState before)
{
    BreakerState after = c->breaker[b].state;
    if (after == before)
        return;
    const char *name = dsim_name(ctx, c->first + b);
    char metric[64];
    g_snprintf(metric, sizeof metric, "breaker_state_%s", name);
    dsim_metric(ctx, metric, (double) after);
    unsigned not_closed = 0;
    for (uint32_t i = 0; i < c->n; i++)
        not_closed += c->breaker[i].state != BREAKER_CLOSED;
    dsim_metric(ctx, "breakers_open", not_closed);
    dsim_log(ctx, "breaker for %s: %s -> %s", name, breaker_state_name(before),
             breaker_state_name(after));
}

/* ---- requests ------------------------------------------------------------------------------- */

static uint32_t take_slot(ClientNode *c)
{
    if (c->free_slots->len > 0) {
        uint32_t i = g_array_index(c->free_slots, uint32_t, c->free_slots->len - 1);
        g_array_set_size(c->free_slots, c->free_slots->len - 1);
        return i;
    }
    ClientRequest fresh = { 0 };
    g_array_append_val(c->slots, fresh);
    return c->slots->len - 1;
}

/* A slot is given back once nothing more can arrive for it. */
static void maybe_free(ClientNode *c, uint32_t slot)
{
    ClientRequest *r = slot_at(c, slot);
    if (!r->done || r->outstanding > 0 || r->retry_due)
        return;
    uint32_t gen = r->gen + 1;
    memset(r, 0, sizeof *r);
    r->gen = gen;
    g_array_append_val(c->free_slots, slot);
}

static void count_outcome(ClientNode *c, DsimCtx *ctx, ClientOutcome o)
{
    c->outcomes[o]++;
    dsim_metric(ctx, outcome_metrics[o], 1);
    c->win_finished++;
    if (o != CLIENT_OK && o != CLIENT_DEGRADED)
        c->win_errors++;
}

static void finish(ClientNode *c, DsimCtx *ctx, const ClientConfig *cfg, ClientRequest *r,
                   ClientOutcome o)
{
    g_assert(!r->done);
    r->done = 1;
    count_outcome(c, ctx, o);
    if (r->attempts > 0) {
        dsim_metric(ctx, "request_latency_seconds", seconds(dsim_now(ctx) - r->arrived));
        dsim_metric(ctx, "attempts", r->attempts);
    }
    if (cfg->bulkhead > 0)
        bulkhead_leave(&c->bulkhead);
}

static ClientOutcome failure_of(uint8_t status)
{
    return status == DSIM_CALL_TIMEOUT ? CLIENT_TIMED_OUT : CLIENT_FAILED;
}

/* Sends one attempt of the request in @slot; false when no instance can take it. */
static bool send_attempt(ClientNode *c, DsimCtx *ctx, const ClientConfig *cfg, uint32_t slot)
{
    ClientRequest *r = slot_at(c, slot);
    DsimTime now = dsim_now(ctx);
    BreakerConfig bc = breaker_config(cfg);
    uint8_t excluded[LB_MAX_BACKENDS] = { 0 };
    unsigned untried = 0;

    for (uint32_t b = 0; b < c->n; b++) {
        /* Outlier ejection: the balancer skips the instances whose breaker would refuse.
         * bug=ignore-breaker forgets to tell it. */
        if (cfg->breaker && cfg->bug != CLIENT_BUG_IGNORE_BREAKER
            && !breaker_would_allow(c, &bc, b, now)) {
            excluded[b] = 1;
        } else if (!((r->tried >> b) & 1)) {
            untried++;
        }
    }
    if (untried > 0) { /* another instance than those already tried, when there is one */
        for (uint32_t b = 0; b < c->n; b++) {
            if ((r->tried >> b) & 1)
                excluded[b] = 1;
        }
    } else if (cfg->mode == CLIENT_MODE_FORKING && r->attempts > 0) {
        return false; /* forks go to distinct instances */
    }
    /* two draws whatever the policy, in a fixed order (C leaves the order in which function
     * arguments are evaluated unspecified, so never draw inside the call) */
    uint64_t rand1 = dsim_rand(ctx);
    uint64_t rand2 = dsim_rand(ctx);
    uint32_t b = lb_pick(&c->lb, r->key, rand1, rand2, excluded);
    if (b == LB_NONE)
        return false;

    bool counted = false;
    if (cfg->breaker) {
        BreakerState before = c->breaker[b].state;
        if (breaker_allow(&c->breaker[b], &bc, now)) {
            counted = true;
        } else {
            /* only reachable with bug=ignore-breaker: breaker-respected reports it */
            if (c->breaker_violations++ == 0)
                c->first_violation = now;
        }
        note_breaker(c, ctx, b, before);
    }
    lb_started(&c->lb, b);
    r->tried |= 1ULL << b;
    r->attempts++;
    r->outstanding++;
    c->attempts++;
    c->win_attempts++;
    c->win_calls[b]++;
    ServiceRequest body = { .key = r->key, .attempt = r->attempts };
    DsimCallOpts opts = { .timeout = cfg->timeout, .tag = make_tag(slot, r->gen, counted) };
    dsim_call(ctx, c->first + b, SERVICE_METHOD_REQUEST, &body, sizeof body, &opts);
    return true;
}

static void new_request(ClientNode *c, DsimCtx *ctx, const ClientConfig *cfg)
{
    c->win_requests++;
    /* Bulkhead (Nygard): at most `bulkhead` requests in flight; the rest fail at once. */
    if (cfg->bulkhead > 0 && !bulkhead_enter(&c->bulkhead, (unsigned) cfg->bulkhead)) {
        count_outcome(c, ctx, CLIENT_SHED_BULKHEAD);
        return;
    }
    uint32_t slot = take_slot(c);
    ClientRequest *r = slot_at(c, slot);
    r->seq = ++c->next_seq;
    r->key = (uint64_t) (((unsigned __int128) workload_next(c) * (uint64_t) cfg->keys) >> 64);
    r->arrived = dsim_now(ctx);
    if (cfg->retry_budget > 0) {
        RetryBudgetConfig rb = { cfg->retry_budget, (unsigned) cfg->retry_budget_min,
                                 cfg->retry_budget_window };
        retry_budget_on_request(&c->budget, &rb, r->arrived);
    }
    unsigned first = cfg->mode == CLIENT_MODE_FORKING ? (unsigned) cfg->forks : 1;
    for (unsigned i = 0; i < first; i++) {
        if (!send_attempt(c, ctx, cfg, slot))
            break;
    }
    r = slot_at(c, slot);
    if (r->attempts == 0) {
        finish(c, ctx, cfg, r, CLIENT_SHED_BREAKER);
        maybe_free(c, slot);
    }
}

/* ---- outcomes ------------------------------------------------------------------------------- */

static void client_on_response(void *state, DsimCtx *ctx, const DsimResponse *resp)
{
    ClientNode *c = state;
    const ClientConfig *cfg = dsim_config(ctx);
    uint32_t slot = (uint32_t) resp->tag;
    bool counted = resp->tag >> 63;
    g_assert(slot < c->slots->len);
    ClientRequest *r = slot_at(c, slot);
    g_assert(r->seq != 0 && (r->gen & 0x7fffffffu) == ((resp->tag >> 32) & 0x7fffffffu));
    g_assert(resp->to >= c->first && resp->to - c->first < c->n);
    uint32_t b = resp->to - c->first;
    bool ok = resp->status == DSIM_CALL_OK;

    lb_finished(&c->lb, b);
    r->outstanding--;
    r->last = (uint8_t) resp->status;
    if (counted) {
        BreakerConfig bc = breaker_config(cfg);
        BreakerState before = c->breaker[b].state;
        breaker_record(&c->breaker[b], &bc, dsim_now(ctx), ok);
        note_breaker(c, ctx, b, before);
    }
    if (r->done) { /* a losing fork */
        maybe_free(c, slot);
        return;
    }
    if (ok) {
        finish(c, ctx, cfg, r, CLIENT_OK);
    } else {
        switch ((ClientMode) cfg->mode) {
        case CLIENT_MODE_FAILFAST:
            finish(c, ctx, cfg, r, failure_of(r->last));
            break;
        case CLIENT_MODE_FAILSAFE:
            finish(c, ctx, cfg, r, CLIENT_DEGRADED);
            break;
        case CLIENT_MODE_FORKING:
            if (r->outstanding == 0)
                finish(c, ctx, cfg, r, failure_of(r->last));
            break;
        case CLIENT_MODE_FAILOVER: {
            if (r->attempts > cfg->retries) {
                finish(c, ctx, cfg, r, failure_of(r->last));
                break;
            }
            /* Finagle's RetryBudget: a retry goes out only if the budget has room for it. */
            if (cfg->retry_budget > 0) {
                RetryBudgetConfig rb = { cfg->retry_budget, (unsigned) cfg->retry_budget_min,
                                         cfg->retry_budget_window };
                if (!retry_budget_try(&c->budget, &rb, dsim_now(ctx))) {
                    finish(c, ctx, cfg, r, CLIENT_BUDGET_EXHAUSTED);
                    break;
                }
            }
            /* Brooker: retry r waits about base * 2^(r-1), capped, with jitter. */
            BackoffConfig bo = { .base = MAX(cfg->backoff_base, 1),
                                 .cap = MAX(cfg->backoff_cap, MAX(cfg->backoff_base, 1)),
                                 .jitter = (JitterKind) cfg->jitter };
            DsimTime wait = backoff_delay(&bo, r->attempts, r->last_wait, dsim_rand(ctx));
            r->last_wait = wait;
            r->retry_due = 1;
            c->retries++;
            dsim_timer_set(ctx, wait, CLIENT_TIMER_RETRY, make_tag(slot, r->gen, false));
            break;
        }
        }
    }
    maybe_free(c, slot);
}

/* ---- timers --------------------------------------------------------------------------------- */

static void on_retry(ClientNode *c, DsimCtx *ctx, const ClientConfig *cfg, uint64_t tag)
{
    uint32_t slot = (uint32_t) tag;
    g_assert(slot < c->slots->len);
    ClientRequest *r = slot_at(c, slot);
    g_assert(r->seq != 0 && r->retry_due && !r->done);
    r->retry_due = 0;
    if (!send_attempt(c, ctx, cfg, slot)) {
        r = slot_at(c, slot);
        finish(c, ctx, cfg, r, failure_of(r->last));
    }
    maybe_free(c, slot);
}

static void report(ClientNode *c, DsimCtx *ctx, const ClientConfig *cfg)
{
    if (c->win_finished > 0)
        dsim_metric(ctx, "error_ratio", (double) c->win_errors / c->win_finished);
    if (c->win_requests > 0)
        dsim_metric(ctx, "amplification", (double) c->win_attempts / c->win_requests);
    if (c->win_attempts > 0) {
        for (uint32_t b = 0; b < c->n; b++) {
            char metric[64];
            g_snprintf(metric, sizeof metric, "calls_to_%s", dsim_name(ctx, c->first + b));
            dsim_metric(ctx, metric, c->win_calls[b]);
        }
    }
    bool quiet = c->win_requests == 0 && c->win_finished == 0 && c->win_attempts == 0;
    c->win_requests = c->win_finished = c->win_errors = c->win_attempts = 0;
    memset(c->win_calls, 0, sizeof c->win_calls);
    if (!(c->stopped && quiet))
        dsim_timer_set(ctx, cfg->report_every, CLIENT_TIMER_REPORT, 0);
}

static void client_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    ClientNode *c = state;
    const ClientConfig *cfg = dsim_config(ctx);
    switch ((ClientTimerKind) kind) {
    case CLIENT_TIMER_ARRIVAL:
        if (cfg->stop > 0 && dsim_now(ctx) >= cfg->stop) {
            c->stopped = true;
            return;
        }
        dsim_timer_set(ctx, next_arrival(c, cfg->rate), CLIENT_TIMER_ARRIVAL, 0);
        new_request(c, ctx, cfg);
        return;
    case CLIENT_TIMER_RETRY:
        on_retry(c, ctx, cfg, arg);
        return;
    case CLIENT_TIMER_REPORT:
        report(c, ctx, cfg);
        return;
    }
    g_assert_not_reached();
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* At load: the target is a group of the scenario that takes calls, small enough to balance
 * over, and the weights fit it. */
static const char *client_validate(const void *config, const DsimShape *shape, GString *why)
{
    const ClientConfig *cfg = config;
    unsigned g = 0;
    while (g < shape->n_groups && strcmp(shape->ids[g], cfg->target) != 0)
        g++;
    if (g == shape->n_groups) {
        g_string_printf(why, "target \"%s\" names no group of the scenario (give the id of the "
                        "<group> of service instances to call)", cfg->target);
        return "target";
    }
    if (shape->protocols[g]->on_call == NULL) {
        g_string_printf(why, "target group %s runs %s, which takes no calls", cfg->target,
                        shape->protocols[g]->name);
        return "target";
    }
    if (shape->sizes[g] > LB_MAX_BACKENDS) {
        g_string_printf(why, "target group %s has %u members; a client balances over %d at most",
                        cfg->target, shape->sizes[g], LB_MAX_BACKENDS);
        return "target";
    }
    uint32_t weights[LB_MAX_BACKENDS];
    if (!client_parse_weights(cfg->weights, shape->sizes[g], weights)) {
        g_string_printf(why, "weights \"%s\" is not a list of at most %u weights from 1 "
                        "(write e.g. 3,1,1)", cfg->weights, shape->sizes[g]);
        return "weights";
    }
    return NULL;
}

static void client_init(void *state, DsimCtx *ctx)
{
    ClientNode *c = state;
    const ClientConfig *cfg = dsim_config(ctx);
    const char *self = dsim_name(ctx, dsim_self(ctx));
    unsigned n;
    /* client_validate refused these at load; a node driven by hand (the harness) may not be */
    if (!dsim_group_find(ctx, cfg->target, &c->first, &n))
        g_error("%s: target=\"%s\" names no group of the scenario (give the id of the "
                "<group> of service instances to call)", self, cfg->target);
    if (n > LB_MAX_BACKENDS)
        g_error("%s: target group \"%s\" has %u members; a client balances over %d at most",
                self, cfg->target, n, LB_MAX_BACKENDS);
    c->n = n;
    uint32_t weights[LB_MAX_BACKENDS];
    if (!client_parse_weights(cfg->weights, n, weights))
        g_error("%s: weights=\"%s\" is not a list of at most %u weights from 1 (write e.g. "
                "3,1,1)", self, cfg->weights, n);
    uint64_t ids[LB_MAX_BACKENDS];
    for (uint32_t b = 0; b < n; b++)
        ids[b] = c->first + b;
    lb_init(&c->lb, (LbPolicy) cfg->lb, n, ids, weights);
    c->workload_rng = dsim_rand(ctx);
    c->slots = g_array_new(FALSE, TRUE, sizeof(ClientRequest));
    c->free_slots = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    c->up = true;

    DsimTime now = dsim_now(ctx);
    if (cfg->rate > 0) {
        DsimTime from = MAX(cfg->start, now);
        dsim_timer_set(ctx, from - now + next_arrival(c, cfg->rate), CLIENT_TIMER_ARRIVAL, 0);
    } else {
        c->stopped = true;
    }
    if (cfg->report_every > 0) { /* windows aligned on multiples of report_every */
        DsimTime at = (now / cfg->report_every + 1) * cfg->report_every;
        dsim_timer_set(ctx, at - now, CLIENT_TIMER_REPORT, 0);
    }
}

static void client_fini(void *state)
{
    ClientNode *c = state;
    lb_clear(&c->lb);
    if (c->slots != NULL)
        g_array_unref(c->slots);
    if (c->free_slots != NULL)
        g_array_unref(c->free_slots);
}

static void client_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    /* a client speaks in calls only */
}

static void client_describe(const void *state, DsimView *view)
{
    const ClientNode *c = state;
    view->applied = c->outcomes[CLIENT_OK];
    g_snprintf(view->text, sizeof view->text, "ok=%" PRIu64 " failed=%" PRIu64 " attempts=%" PRIu64,
               c->outcomes[CLIENT_OK],
               c->outcomes[CLIENT_FAILED] + c->outcomes[CLIENT_TIMED_OUT], c->attempts);
}

/* ---- invariants ----------------------------------------------------------------------------- */

/* DESIGN.md, Checkers: "breaker (no call passes an open breaker)". Each attempt is checked
 * against its instance's breaker when it is sent (send_attempt), whatever decided to send it;
 * this reads the count of attempts that went out although the breaker refused them. */
static bool check_breaker_respected(const DsimGroupView *g, GString *why)
{
    for (unsigned i = 0; i < g->n; i++) {
        const ClientNode *c = g->state[i];
        if (c->breaker_violations > 0) {
            g_string_printf(why, "%s sent %" PRIu64 " attempt(s) to instances whose breaker "
                            "was open, the first at %.6fs", g->name[i], c->breaker_violations,
                            seconds(c->first_violation));
            return false;
        }
    }
    return true;
}

/* Nygard's bulkhead: never more than `bulkhead` requests in flight. */
static bool check_bulkhead_respected(const DsimGroupView *g, GString *why)
{
    const ClientConfig *cfg = g->config;
    if (cfg->bulkhead == 0)
        return true;
    for (unsigned i = 0; i < g->n; i++) {
        const ClientNode *c = g->state[i];
        if (c->bulkhead.max_seen > (uint64_t) cfg->bulkhead) {
            g_string_printf(why, "%s had %u requests in flight, its bulkhead allows %" PRId64,
                            g->name[i], c->bulkhead.max_seen, cfg->bulkhead);
            return false;
        }
    }
    return true;
}

static const DsimInvariant client_invariants[] = {
    { "breaker-respected", "no attempt is sent to an instance while the client's breaker for "
      "it is open", DSIM_CHECK_ALWAYS, check_breaker_respected, NULL },
    { "bulkhead-respected", "a client never has more requests in flight than its bulkhead "
      "allows", DSIM_CHECK_AT_END, check_bulkhead_respected, NULL },
    { NULL },
};

/* ---- the ops table -------------------------------------------------------------------------- */

const DsimProtocol client_protocol = {
    .name = "client",
    .summary = "open-loop load generator calling a service group: load balancing, timeouts, "
               "retries with backoff, breakers, bulkhead, retry budget",
    .params = client_params,
    .invariants = client_invariants,
    .config_size = sizeof(ClientConfig),
    .state_size = sizeof(ClientNode),
    .init = client_init,
    .fini = client_fini,
    .on_message = client_on_message,
    .on_timer = client_on_timer,
    .describe = client_describe,
    .on_response = client_on_response,
    .method_name = service_method_name,
    .validate = client_validate,
};
