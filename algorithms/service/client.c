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
 * Discovery (Netflix Eureka's client cache feeding Ribbon's DynamicServerListLoadBalancer):
 * with `registry` set, the client does not take its instances from the scenario. It embeds a
 * DiscoveryCache (algorithms/registry/discovery.h) that fetches the instances of service
 * `service_name` at start and every fetch_interval, and balances over the list the cache holds,
 * stale or not: Ribbon's ServerListUpdater likewise refreshes its server list from Eureka's
 * local cache every 30 s, and calls whatever the list says between refreshes. When a fetch
 * brings a different list the backends are renumbered by node id (lb_update), so an instance
 * that stays keeps its breaker, its requests in flight and, under ring hash and maglev, its
 * keys. Until the first fetch answers the list is empty and requests fail at once
 * (no_instances), as Ribbon's chooseServer returns null and the call fails with "No instances
 * available" rather than wait. The client cannot see an instance die; it sees attempts to it
 * time out, and counts them (silent) until the instance answers again or leaves the list.
 *
 * Traces: the attempts of one request are spans of one trace. The first attempt starts it; the
 * retries and forks join it (DsimCallOpts.trace = the first attempt's id), so spans.json shows a
 * request with its retries, as Zipkin's and OpenTelemetry's retry instrumentation does.
 *
 * Randomness: arrivals and keys come from a small generator of the client's own (splitmix64),
 * seeded at init from the node's stream; the balancer's and the backoff's draws come from the
 * node's stream itself. Two variants of a scenario on one seed (say lb=round-robin and
 * lb=p2c, or retries on and off) therefore see exactly the same arrivals and keys, which
 * makes their comparison fair (common random numbers, DESIGN.md).
 *
 * Metrics (dsim_metric): per finished request request_latency_seconds (arrival to outcome,
 * retries and backoffs included; not for shed requests, which made no attempt) and attempts;
 * a count (dsim_count) per request for its outcome: client_ok, client_failed, client_timed_out,
 * client_degraded, client_shed_by_breaker, client_shed_by_bulkhead, client_budget_exhausted.
 * Each breaker transition: breaker_state_<instance> (0 closed, 1 open, 2 half-open) and
 * breakers_open (how many of this client's breakers are not closed). Every report_every:
 * error_ratio (requests finished in the window that failed, timed out, were shed or ran out
 * of budget, over those finished), amplification (attempts sent over requests arrived) and
 * calls_to_<instance> (attempts sent to it), for each instance of the target (or listed, or
 * called in the window). With discovery, after each successful fetch: listed_instances,
 * cache_age_seconds (how old the list it replaces was: the client's staleness, about
 * fetch_interval unless fetches failed) and response_age_seconds (how old the registry's answer
 * was: its response cache); for each change, appeared_at_seconds or disappeared_at_seconds
 * (the time of the fetch), and with each disappearance dead_calls: the attempts that had timed
 * out since the instance last answered, i.e. the calls the stale list sent to a dead instance.
 * Requests that found no instance count as client_no_instances.
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
    { .name = "registry", .type = DSIM_PARAM_STRING, .def = "",
      .help = "discover the instances from this registry group (Eureka + Ribbon); empty = call "
              "the members of the target group",
      .offset = offsetof(ClientConfig, registry) },
    { .name = "service_name", .type = DSIM_PARAM_STRING, .def = "",
      .help = "with registry: the service whose instances to call; empty = the value of target",
      .offset = offsetof(ClientConfig, service_name) },
    { .name = "fetch_interval", .type = DSIM_PARAM_TIME, .def = "30s",
      .help = "with registry: time between fetches of the instance list "
              "(registryFetchIntervalSeconds, 30 s)",
      .offset = offsetof(ClientConfig, fetch_interval) },
    { .name = "registry_timeout", .type = DSIM_PARAM_TIME, .def = "5s",
      .help = "with registry: deadline of each fetch",
      .offset = offsetof(ClientConfig, registry_timeout) },
    { .name = "home", .type = DSIM_PARAM_INT, .def = "0",
      .help = "with registry: registry member (from 1) to fetch from first; 0 = own member "
              "index mod n, plus 1",
      .offset = offsetof(ClientConfig, home), .min = 0, .max = 1000000 },
    { .name = "registry_mode", .type = DSIM_PARAM_CHOICE, .def = "ap",
      .help = "with registry: ap, the group runs registry (Eureka); cp, it runs raft, read "
              "as a KV store (Consul-like catalog, discovery.h)",
      .offset = offsetof(ClientConfig, registry_mode), .choices = REGISTRY_MODE_CHOICES },
    { NULL },
};

/* ---- small helpers -------------------------------------------------------------------------- */

static const char *const outcome_names[CLIENT_N_OUTCOMES] = {
    "ok", "failed", "timed_out", "degraded", "shed_by_breaker", "shed_by_bulkhead",
    "budget_exhausted", "no_instances",
};

static const char *const outcome_metrics[CLIENT_N_OUTCOMES] = {
    "client_ok", "client_failed", "client_timed_out", "client_degraded",
    "client_shed_by_breaker", "client_shed_by_bulkhead", "client_budget_exhausted",
    "client_no_instances",
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

/* An attempt's tag: the slot (low 32 bits), the slot's generation (30 bits), and whether its
 * breaker let it through (bit 62), so that only those outcomes are recorded. Bit 63 stays 0,
 * so no tag of ours looks like the discovery modules' (DISCOVERY_TAG, 0xD15C in the top 16). */
#define GEN_MASK 0x3fffffffu

static uint64_t make_tag(uint32_t slot, uint32_t gen, bool counted)
{
    return (uint64_t) slot | (uint64_t) (gen & GEN_MASK) << 32 | (uint64_t) counted << 62;
}

static bool tag_counted(uint64_t tag)
{
    return (tag >> 62) & 1;
}

static uint32_t tag_gen(uint64_t tag)
{
    return (uint32_t) (tag >> 32) & GEN_MASK;
}

/* The backend number of node @node, or LB_NONE when it is not a backend (any more): a binary
 * search of the ascending backend list. */
static uint32_t backend_of(const ClientNode *c, DsimNodeId node)
{
    uint32_t lo = 0, hi = c->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->backend[mid] < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n && c->backend[lo] == node ? lo : LB_NONE;
}

static uint32_t *win_calls_of(ClientNode *c, DsimNodeId node)
{
    if (node >= c->win_calls->len)
        g_array_set_size(c->win_calls, node + 1); /* zeroed: the array clears new elements */
    return &g_array_index(c->win_calls, uint32_t, node);
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
    const char *name = dsim_name(ctx, c->backend[b]);
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
    dsim_count(ctx, outcome_metrics[o]);
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
    (*win_calls_of(c, c->backend[b]))++;
    ServiceRequest body = { .key = r->key, .attempt = r->attempts };
    /* the first attempt starts the request's trace; its retries and forks join it */
    DsimCallOpts opts = { .timeout = cfg->timeout, .tag = make_tag(slot, r->gen, counted),
                          .trace = r->trace };
    DsimCallId id = dsim_call(ctx, c->backend[b], SERVICE_METHOD_REQUEST, &body, sizeof body,
                              &opts);
    if (r->trace == 0)
        r->trace = id;
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
        finish(c, ctx, cfg, r, c->n == 0 ? CLIENT_NO_INSTANCES : CLIENT_SHED_BREAKER);
        maybe_free(c, slot);
    }
}

/* ---- discovery ------------------------------------------------------------------------------ */

/* Makes @list (ascending node ids) the backends. Everything kept by backend number is
 * renumbered by node id: an instance that stays keeps its breaker, its silent count, its
 * requests in flight (lb_update) and the requests' memory of having tried it; a newcomer starts
 * afresh (a closed breaker), and what belonged to an instance that left is dropped with it, as
 * Envoy drops a removed host's outlier-detection state. */
static void set_backends(ClientNode *c, const DsimNodeId *list, unsigned n)
{
    uint32_t to_new[LB_MAX_BACKENDS];
    Breaker breaker[LB_MAX_BACKENDS];
    uint32_t silent[LB_MAX_BACKENDS] = { 0 };
    uint64_t ids[LB_MAX_BACKENDS];
    memset(breaker, 0, sizeof breaker); /* zeroed: closed */
    for (uint32_t j = 0; j < n; j++)
        ids[j] = list[j];
    for (uint32_t b = 0, j = 0; b < c->n; b++) { /* a merge: both lists ascend */
        while (j < n && list[j] < c->backend[b])
            j++;
        to_new[b] = j < n && list[j] == c->backend[b] ? j : LB_NONE;
        if (to_new[b] != LB_NONE) {
            breaker[j] = c->breaker[b];
            silent[j] = c->silent[b];
        }
    }
    for (uint32_t i = 0; i < c->slots->len; i++) {
        ClientRequest *r = slot_at(c, i);
        uint64_t tried = 0;
        for (uint32_t b = 0; b < c->n; b++) {
            if ((r->tried >> b) & 1 && to_new[b] != LB_NONE)
                tried |= 1ULL << to_new[b];
        }
        r->tried = tried;
    }
    memcpy(c->breaker, breaker, sizeof breaker);
    memcpy(c->silent, silent, sizeof silent);
    memcpy(c->backend, list, n * sizeof list[0]);
    c->n = n;
    lb_update(&c->lb, n, ids, NULL);
    if (n > 0)
        win_calls_of(c, list[n - 1]); /* room for every backend's window count */
}

/* After a response of the discovery cache: if it brought a new list (a successful fetch),
 * report it and, when it differs from the backends, balance over it from now on. */
static void take_list(ClientNode *c, DsimCtx *ctx)
{
    if (c->cache.fetches == c->fetches_seen)
        return; /* a failed fetch (the last list stays) or a failover in progress */
    c->fetches_seen = c->cache.fetches;
    DsimTime now = dsim_now(ctx);
    unsigned n;
    const DsimNodeId *list = discovery_instances(&c->cache, &n);
    dsim_metric(ctx, "listed_instances", n);
    if (c->list_at >= 0)
        dsim_metric(ctx, "cache_age_seconds", seconds(now - c->list_at));
    dsim_metric(ctx, "response_age_seconds", seconds(now - c->cache.as_of));
    bool first = c->list_at < 0;
    c->list_at = now;

    /* what changed: a merge of two ascending lists */
    bool changed = false;
    for (uint32_t b = 0, j = 0; b < c->n || j < n;) {
        if (j == n || (b < c->n && c->backend[b] < list[j])) {
            /* Eureka evicted it (or it left): the attempts that timed out since it last
             * answered went to an instance that was most likely gone */
            dsim_metric(ctx, "disappeared_at_seconds", seconds(now));
            dsim_metric(ctx, "dead_calls", c->silent[b]);
            if (dsim_logging(ctx))
                dsim_log(ctx, "%s left the list (%u listed; %u attempts to it timed out since "
                         "it last answered)", dsim_name(ctx, c->backend[b]), n, c->silent[b]);
            b++;
        } else if (b == c->n || list[j] < c->backend[b]) {
            if (!first)
                dsim_metric(ctx, "appeared_at_seconds", seconds(now));
            if (dsim_logging(ctx))
                dsim_log(ctx, "%s joins the list (%u listed)", dsim_name(ctx, list[j]), n);
            j++;
        } else {
            b++, j++;
            continue;
        }
        changed = true;
    }
    if (changed)
        set_backends(c, list, n);
}

/* ---- outcomes ------------------------------------------------------------------------------- */

static void client_on_response(void *state, DsimCtx *ctx, const DsimResponse *resp)
{
    ClientNode *c = state;
    const ClientConfig *cfg = dsim_config(ctx);
    if (discovery_is_tag(resp->tag)) {
        bool mine = discovery_on_response(&c->cache, ctx, resp);
        g_assert(mine); /* the client's only module */
        take_list(c, ctx);
        return;
    }
    uint32_t slot = (uint32_t) resp->tag;
    g_assert(slot < c->slots->len);
    ClientRequest *r = slot_at(c, slot);
    g_assert(r->seq != 0 && (r->gen & GEN_MASK) == tag_gen(resp->tag));
    bool ok = resp->status == DSIM_CALL_OK;

    r->outstanding--;
    r->last = (uint8_t) resp->status;
    /* An instance that left the list since the attempt was sent has no balancer count nor
     * breaker any more; one that left and came back starts again from zero, hence the guard. */
    uint32_t b = backend_of(c, resp->to);
    g_assert(b != LB_NONE || c->discovering);
    if (b != LB_NONE) {
        if (c->lb.in_flight[b] > 0)
            lb_finished(&c->lb, b);
        c->silent[b] = resp->status == DSIM_CALL_TIMEOUT ? c->silent[b] + 1 : 0;
        if (tag_counted(resp->tag)) {
            BreakerConfig bc = breaker_config(cfg);
            BreakerState before = c->breaker[b].state;
            breaker_record(&c->breaker[b], &bc, dsim_now(ctx), ok);
            note_breaker(c, ctx, b, before);
        }
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
    g_assert(r->seq != 0 && r->retry_due && !r->done && (r->gen & GEN_MASK) == tag_gen(tag));
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
        /* every backend, and any node called in the window that left the list since, in
         * node id order */
        const uint32_t *calls = (const uint32_t *) (const void *) c->win_calls->data;
        for (DsimNodeId id = 0; id < c->win_calls->len; id++) {
            if (calls[id] == 0 && backend_of(c, id) == LB_NONE)
                continue;
            char metric[64];
            g_snprintf(metric, sizeof metric, "calls_to_%s", dsim_name(ctx, id));
            dsim_metric(ctx, metric, calls[id]);
        }
    }
    bool quiet = c->win_requests == 0 && c->win_finished == 0 && c->win_attempts == 0;
    c->win_requests = c->win_finished = c->win_errors = c->win_attempts = 0;
    if (c->win_calls->len > 0) /* an empty GArray may have no data at all */
        memset(c->win_calls->data, 0, c->win_calls->len * sizeof(uint32_t));
    if (!(c->stopped && quiet))
        dsim_timer_set(ctx, cfg->report_every, CLIENT_TIMER_REPORT, 0);
}

static void client_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    ClientNode *c = state;
    const ClientConfig *cfg = dsim_config(ctx);
    if (c->discovering && discovery_on_timer(&c->cache, ctx, kind, arg))
        return;
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
    if (cfg->registry[0] != '\0') { /* discovery: the target is a service name, not a group */
        if (cfg->fetch_interval <= 0 || cfg->registry_timeout <= 0) {
            g_string_printf(why, "must be above 0 when registry is set");
            return cfg->fetch_interval <= 0 ? "fetch_interval" : "registry_timeout";
        }
        if (cfg->weights[0] != '\0') {
            g_string_printf(why, "weights need a static target: the instances a registry "
                            "lists weigh 1 each (leave registry empty, or drop weights)");
            return "weights";
        }
        bool own = cfg->service_name[0] == '\0';
        return discovery_validate(cfg->registry, cfg->registry_mode, cfg->home,
                                  own ? cfg->target : cfg->service_name,
                                  own ? "target" : "service_name", shape, why);
    }
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

/* The static backends: the members of the target group, with their weights. */
static void static_backends(ClientNode *c, DsimCtx *ctx, const ClientConfig *cfg)
{
    const char *self = dsim_name(ctx, dsim_self(ctx));
    DsimNodeId first;
    unsigned n;
    /* client_validate refused these at load; a node driven by hand (the harness) may not be */
    if (!dsim_group_find(ctx, cfg->target, &first, &n))
        g_error("%s: target=\"%s\" names no group of the scenario (give the id of the "
                "<group> of service instances to call)", self, cfg->target);
    if (n > LB_MAX_BACKENDS)
        g_error("%s: target group \"%s\" has %u members; a client balances over %d at most",
                self, cfg->target, n, LB_MAX_BACKENDS);
    uint32_t weights[LB_MAX_BACKENDS];
    if (!client_parse_weights(cfg->weights, n, weights))
        g_error("%s: weights=\"%s\" is not a list of at most %u weights from 1 (write e.g. "
                "3,1,1)", self, cfg->weights, n);
    uint64_t ids[LB_MAX_BACKENDS];
    for (uint32_t b = 0; b < n; b++) {
        c->backend[b] = first + b;
        ids[b] = first + b;
    }
    c->n = n;
    lb_init(&c->lb, (LbPolicy) cfg->lb, n, ids, weights);
    if (n > 0)
        win_calls_of(c, first + n - 1);
}

static void client_init(void *state, DsimCtx *ctx)
{
    ClientNode *c = state;
    const ClientConfig *cfg = dsim_config(ctx);
    c->slots = g_array_new(FALSE, TRUE, sizeof(ClientRequest));
    c->free_slots = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    c->win_calls = g_array_new(FALSE, TRUE, sizeof(uint32_t));
    c->list_at = -1;
    if (cfg->registry[0] == '\0') {
        static_backends(c, ctx, cfg);
    } else {
        /* no backends until the first fetch answers (Ribbon: "no instances available") */
        lb_init(&c->lb, (LbPolicy) cfg->lb, 0, NULL, NULL);
        c->discovering = true;
    }
    c->workload_rng = dsim_rand(ctx);
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
    if (c->discovering) { /* Eureka's client fetches at start, then every fetch_interval */
        DiscoveryConfig dc = {
            .registry = cfg->registry,
            .service = cfg->service_name[0] != '\0' ? cfg->service_name : cfg->target,
            .fetch_interval = cfg->fetch_interval, .timeout = cfg->registry_timeout,
            .home = (unsigned) cfg->home, .mode = cfg->registry_mode,
        };
        discovery_start(&c->cache, ctx, &dc);
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
    if (c->win_calls != NULL)
        g_array_unref(c->win_calls);
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
