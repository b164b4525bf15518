/* service.c - a service instance: `workers` servers behind a bounded queue, answering calls.
 *
 * The classic model of a server (Kendall's M/G/c/K when requests arrive as a Poisson stream):
 * a request that finds a free worker is served at once, for a time drawn from service_time;
 * one that finds every worker busy waits in a FIFO queue of at most `queue` requests; one that
 * finds the queue full is refused at once with FAIL "overloaded" (load shedding, as a server
 * with a bounded accept queue or Envoy's overload manager does: fail fast rather than let
 * every request wait). A worker that frees takes the oldest waiting request whose caller still
 * waits: one whose deadline has passed is dropped without work ("expired"), since its answer
 * could only arrive late and be thrown away (deadline propagation, as gRPC's and Google's
 * "The Tail at Scale" recommend). In front of it all sits an optional rate limiter
 * (ratelimit.h) refusing with FAIL "rate-limited".
 *
 * Failure modes, to give the client's patterns something to do: error_rate makes a served
 * request fail after its work; a degradation window [degrade_at, degrade_until) on chosen
 * members makes them slow (service times times slow_factor), failing (every request answered
 * FAIL "error" at once, as an instance whose database is down answers 500), or hung
 * (requests accepted and never answered: the caller can only time out).
 *
 * Registering (Eureka's DiscoveryClient on the instance's side): with `registry` set, the
 * instance embeds a Registrant (algorithms/registry/discovery.h) that registers it under
 * `service_name` at start (or at register_at), renews every renew_interval, registers again
 * when the registry has forgotten it, and cancels at leave_at (a graceful shutdown: the
 * registration goes, and the instance keeps serving whatever still comes, as a draining
 * server does). The heartbeat says the process is alive, not that it serves well: a hung or
 * failing instance renews like a healthy one (Eureka's default; its HealthCheckHandler is
 * the cure, not modelled). A crash stops the renewals; a restart registers again.
 *
 * Metrics (dsim_metric): per request served, service_latency_seconds (queue wait + service,
 * as the server sees it) and service_queue_wait_seconds; counts (dsim_count) of
 * service_served, service_errors, service_rejected_overload, service_rejected_rate_limit,
 * service_expired (their count in summary.json is the total over the instances).
 */
#include "algorithms/service/service.h"

#include <string.h>

/* ---- parameters ----------------------------------------------------------------------------- */

static const DsimParam service_params[] = {
    { .name = "service_time", .type = DSIM_PARAM_DIST, .def = "exp(10ms)",
      .help = "time a worker spends on one request (a distribution: 10ms, exp(10ms), "
              "lognormal(10ms,0.5), ...)",
      .offset = offsetof(ServiceConfig, service_time) },
    { .name = "workers", .type = DSIM_PARAM_INT, .def = "4",
      .help = "requests served at once (capacity: workers / mean service time per second)",
      .offset = offsetof(ServiceConfig, workers), .min = 1, .max = SERVICE_MAX_WORKERS },
    { .name = "queue", .type = DSIM_PARAM_INT, .def = "100",
      .help = "requests waiting for a worker, at most; beyond, FAIL \"overloaded\" at once",
      .offset = offsetof(ServiceConfig, queue), .min = 0, .max = SERVICE_MAX_QUEUE },
    { .name = "error_rate", .type = DSIM_PARAM_PROB, .def = "0",
      .help = "probability that a served request fails (FAIL \"error\" after its work)",
      .offset = offsetof(ServiceConfig, error_rate) },
    { .name = "degrade", .type = DSIM_PARAM_CHOICE, .def = "none",
      .help = "what degrade_members do from degrade_at to degrade_until: slow (times "
              "slow_factor), error (FAIL every request at once), hang (never answer)",
      .offset = offsetof(ServiceConfig, degrade), .choices = "none|slow|error|hang" },
    { .name = "degrade_at", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when the degradation starts",
      .offset = offsetof(ServiceConfig, degrade_at) },
    { .name = "degrade_until", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when it ends (exclusive); 0 = never",
      .offset = offsetof(ServiceConfig, degrade_until) },
    { .name = "degrade_members", .type = DSIM_PARAM_STRING, .def = "1",
      .help = "which members degrade: member numbers from 1, as in \"1\", \"1,3\", \"2-4\", "
              "or \"all\"",
      .offset = offsetof(ServiceConfig, degrade_members) },
    { .name = "slow_factor", .type = DSIM_PARAM_INT, .def = "10",
      .help = "degrade=slow: service times are multiplied by this",
      .offset = offsetof(ServiceConfig, slow_factor), .min = 1, .max = 1000000 },
    { .name = "limit_kind", .type = DSIM_PARAM_CHOICE, .def = "none",
      .help = "server-side rate limiter in front of the queue (ratelimit.h); refused "
              "requests get FAIL \"rate-limited\"",
      .offset = offsetof(ServiceConfig, limit_kind), .choices = RATELIMIT_CHOICES },
    { .name = "limit", .type = DSIM_PARAM_INT, .def = "100",
      .help = "requests allowed per limit_window (the buckets' burst)",
      .offset = offsetof(ServiceConfig, limit), .min = 1, .max = 1000000000 },
    { .name = "limit_window", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "the limiter's window (the buckets' rate is limit / limit_window)",
      .offset = offsetof(ServiceConfig, limit_window) },
    { .name = "registry", .type = DSIM_PARAM_STRING, .def = "",
      .help = "the registry group to register with (Eureka); empty = none",
      .offset = offsetof(ServiceConfig, registry) },
    { .name = "service_name", .type = DSIM_PARAM_STRING, .def = "",
      .help = "the service name to register under; empty = this group's id",
      .offset = offsetof(ServiceConfig, service_name) },
    { .name = "renew_interval", .type = DSIM_PARAM_TIME, .def = "30s",
      .help = "time between renewals of the lease (leaseRenewalIntervalInSeconds, 30 s)",
      .offset = offsetof(ServiceConfig, renew_interval) },
    { .name = "lease", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "lease duration to ask for (leaseExpirationDurationInSeconds); 0 = the "
              "registry's lease_duration",
      .offset = offsetof(ServiceConfig, lease) },
    { .name = "registry_timeout", .type = DSIM_PARAM_TIME, .def = "5s",
      .help = "deadline of each call to the registry",
      .offset = offsetof(ServiceConfig, registry_timeout) },
    { .name = "register_at", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when the instance registers (a scale-out: it serves before, unknown to "
              "clients); 0 = at start",
      .offset = offsetof(ServiceConfig, register_at) },
    { .name = "leave_at", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "graceful shutdown: cancel the registration at this time and keep serving what "
              "still comes; 0 = never",
      .offset = offsetof(ServiceConfig, leave_at) },
    { .name = "home", .type = DSIM_PARAM_INT, .def = "0",
      .help = "registry member (from 1) to register with first; 0 = own member index mod n, "
              "plus 1",
      .offset = offsetof(ServiceConfig, home), .min = 0, .max = 1000000 },
    { .name = "registry_mode", .type = DSIM_PARAM_CHOICE, .def = "ap",
      .help = "ap: the registry group runs registry (Eureka); cp: it runs raft, written as a "
              "KV store (Consul-like catalog, discovery.h)",
      .offset = offsetof(ServiceConfig, registry_mode), .choices = REGISTRY_MODE_CHOICES },
    { NULL },
};

/* ---- helpers -------------------------------------------------------------------------------- */

const char *service_method_name(uint16_t method)
{
    return method == SERVICE_METHOD_REQUEST ? "request" : NULL;
}

bool service_parse_members(const char *text, uint64_t *set)
{
    *set = 0;
    if (strcmp(text, "all") == 0) {
        *set = UINT64_MAX;
        return true;
    }
    const char *p = text;
    while (*p != '\0') {
        char *end;
        guint64 lo = g_ascii_strtoull(p, &end, 10), hi = lo;
        if (end == p || lo < 1 || lo > 64)
            return false;
        p = end;
        if (*p == '-') {
            hi = g_ascii_strtoull(p + 1, &end, 10);
            if (end == p + 1 || hi < lo || hi > 64)
                return false;
            p = end;
        }
        for (guint64 m = lo; m <= hi; m++)
            *set |= 1ULL << (m - 1);
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return false;
    }
    return *set != 0;
}

static bool degraded_now(const ServiceNode *s, const ServiceConfig *cfg, DsimCtx *ctx)
{
    if (cfg->degrade == SERVICE_DEGRADE_NONE)
        return false;
    DsimTime now = dsim_now(ctx);
    if (now < cfg->degrade_at || (cfg->degrade_until > 0 && now >= cfg->degrade_until))
        return false;
    unsigned m = dsim_self_index(ctx);
    return m < 64 ? (s->degraded >> m) & 1 : s->degraded == UINT64_MAX;
}

static double seconds(DsimTime t)
{
    return (double) t / 1e9;
}

static RateLimitConfig limiter_config(const ServiceConfig *cfg)
{
    RateLimitConfig rl = { .kind = cfg->limit_kind, .limit = (uint32_t) cfg->limit,
                           .window = cfg->limit_window };
    return rl;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* At load: the degraded members are a member list, and a limiter has a window. */
static const char *service_validate(const void *config, const DsimShape *shape, GString *why)
{
    const ServiceConfig *cfg = config;
    uint64_t set;
    if (!service_parse_members(cfg->degrade_members, &set)) {
        g_string_printf(why, "degrade_members \"%s\" is not a list of member numbers from 1 to 64 "
                        "(write e.g. 1, 1,3, 2-4 or all)", cfg->degrade_members);
        return "degrade_members";
    }
    if (cfg->limit_kind != RL_NONE && cfg->limit_window <= 0) {
        g_string_printf(why, "limit_window must be above 0 when limit_kind is set");
        return "limit_window";
    }
    if (cfg->registry[0] == '\0')
        return NULL;
    if (cfg->renew_interval <= 0 || cfg->registry_timeout <= 0) {
        g_string_printf(why, "must be above 0 when registry is set");
        return cfg->renew_interval <= 0 ? "renew_interval" : "registry_timeout";
    }
    const char *name = cfg->service_name[0] != '\0' ? cfg->service_name : shape->ids[shape->self];
    return discovery_validate(cfg->registry, cfg->registry_mode, cfg->home, name,
                              "service_name", shape, why);
}

/* Eureka's DiscoveryClient.register(), then a renewal every renew_interval (discovery.h). */
static void register_now(ServiceNode *s, DsimCtx *ctx, const ServiceConfig *cfg)
{
    RegistrantConfig rc = {
        .registry = cfg->registry, .service = cfg->service_name,
        .renew_interval = cfg->renew_interval, .timeout = cfg->registry_timeout,
        .lease = cfg->lease, .home = (unsigned) cfg->home, .mode = cfg->registry_mode,
    };
    registrant_start(&s->reg, ctx, &rc);
}

static void service_init(void *state, DsimCtx *ctx)
{
    ServiceNode *s = state;
    const ServiceConfig *cfg = dsim_config(ctx);
    if (!service_parse_members(cfg->degrade_members, &s->degraded))
        g_error("%s: degrade_members=\"%s\" is not a list of member numbers from 1 to 64 "
                "(write e.g. 1, 1,3, 2-4 or all)", dsim_name(ctx, dsim_self(ctx)),
                cfg->degrade_members);
    s->workers = g_new0(ServiceWorker, cfg->workers);
    s->queue_cap = (uint32_t) MAX(cfg->queue, 1);
    s->queue = g_new0(ServiceQueued, s->queue_cap);
    if (cfg->limit_kind != RL_NONE) {
        if (cfg->limit_window <= 0)
            g_error("%s: limit_window must be above 0", dsim_name(ctx, dsim_self(ctx)));
        RateLimitConfig rl = limiter_config(cfg);
        s->limiter = ratelimit_new(&rl);
        s->allowed = g_array_new(FALSE, FALSE, sizeof(DsimTime));
    }
    s->up = true;

    if (cfg->registry[0] == '\0')
        return;
    DsimTime now = dsim_now(ctx);
    if (cfg->leave_at > 0 && now >= cfg->leave_at) {
        s->left = true; /* restarted after its shutdown: it stays unlisted */
        return;
    }
    if (cfg->register_at > now)
        dsim_timer_set(ctx, cfg->register_at - now, SERVICE_TIMER_REGISTER, 0);
    else
        register_now(s, ctx, cfg);
    if (cfg->leave_at > 0)
        dsim_timer_set(ctx, cfg->leave_at - now, SERVICE_TIMER_LEAVE, 0);
}

static void service_fini(void *state)
{
    ServiceNode *s = state;
    g_free(s->workers);
    g_free(s->queue);
    ratelimit_free(s->limiter);
    if (s->allowed != NULL)
        g_array_unref(s->allowed);
}

/* ---- serving -------------------------------------------------------------------------------- */

static void refuse(DsimCtx *ctx, DsimCallId call, const char *why, const char *metric)
{
    dsim_respond(ctx, call, DSIM_CALL_FAIL, why, strlen(why));
    dsim_count(ctx, metric);
}

/* Worker @w takes @call: draws its service time and whether it will fail. */
static void start_work(ServiceNode *s, DsimCtx *ctx, const ServiceConfig *cfg, uint32_t w,
                       DsimCallId call, DsimTime arrived)
{
    ServiceWorker *wk = &s->workers[w];
    g_assert(wk->call == 0);
    DsimTime t = dsim_rand_dist(ctx, cfg->service_time);
    if (cfg->degrade == SERVICE_DEGRADE_SLOW && degraded_now(s, cfg, ctx))
        t *= cfg->slow_factor;
    wk->call = call;
    wk->arrived = arrived;
    wk->started = dsim_now(ctx);
    wk->fail = cfg->error_rate > 0 && dsim_rand_double(ctx) < cfg->error_rate;
    s->busy++;
    dsim_timer_set(ctx, t, SERVICE_TIMER_DONE, w);
}

static void service_on_call(void *state, DsimCtx *ctx, const DsimCall *call)
{
    ServiceNode *s = state;
    const ServiceConfig *cfg = dsim_config(ctx);
    DsimTime now = dsim_now(ctx);

    if (call->method != SERVICE_METHOD_REQUEST) {
        refuse(ctx, call->id, SERVICE_FAIL_ERROR, "service_errors");
        s->errors++;
        return;
    }
    /* Arrived after its deadline (a slow network): nobody waits for the answer. */
    if (call->deadline <= now) {
        s->expired++;
        dsim_count(ctx, "service_expired");
        return;
    }
    /* The limiter first: it stands in front of the instance (a sidecar or a filter), so a
     * refused request costs no worker and no queue slot. */
    if (s->limiter != NULL) {
        if (!ratelimit_allow(s->limiter, now)) {
            s->rejected_rate_limit++;
            refuse(ctx, call->id, SERVICE_FAIL_RATE_LIMITED, "service_rejected_rate_limit");
            return;
        }
        g_array_append_val(s->allowed, now);
    }
    if (degraded_now(s, cfg, ctx)) {
        if (cfg->degrade == SERVICE_DEGRADE_ERROR) {
            s->errors++;
            refuse(ctx, call->id, SERVICE_FAIL_ERROR, "service_errors");
            return;
        }
        if (cfg->degrade == SERVICE_DEGRADE_HANG) {
            s->hung++; /* accepted and forgotten: the caller times out */
            return;
        }
    }
    if (s->busy < cfg->workers) {
        /* a linear scan for the idle worker: fine for the tens of workers a scenario has */
        uint32_t w = 0;
        while (s->workers[w].call != 0)
            w++;
        start_work(s, ctx, cfg, w, call->id, now);
        return;
    }
    if (s->queue_len < cfg->queue) {
        ServiceQueued *q = &s->queue[(s->queue_head + s->queue_len) % s->queue_cap];
        q->call = call->id;
        q->arrived = now;
        q->deadline = call->deadline;
        s->queue_len++;
        return;
    }
    s->rejected_overload++;
    refuse(ctx, call->id, SERVICE_FAIL_OVERLOADED, "service_rejected_overload");
}

/* A worker is done with its request: answer it, then take the next one waiting. */
static void on_done(ServiceNode *s, DsimCtx *ctx, const ServiceConfig *cfg, uint64_t arg)
{
    g_assert(arg < (uint64_t) cfg->workers);
    ServiceWorker *wk = &s->workers[arg];
    g_assert(wk->call != 0);
    DsimTime now = dsim_now(ctx);

    if (wk->fail) {
        s->errors++;
        refuse(ctx, wk->call, SERVICE_FAIL_ERROR, "service_errors");
    } else {
        s->served++;
        dsim_respond(ctx, wk->call, DSIM_CALL_OK, NULL, 0);
        dsim_count(ctx, "service_served");
    }
    dsim_metric(ctx, "service_latency_seconds", seconds(now - wk->arrived));
    dsim_metric(ctx, "service_queue_wait_seconds", seconds(wk->started - wk->arrived));
    wk->call = 0;
    s->busy--;

    /* The worker takes the oldest request whose caller still waits. */
    while (s->queue_len > 0) {
        ServiceQueued q = s->queue[s->queue_head];
        s->queue_head = (s->queue_head + 1) % s->queue_cap;
        s->queue_len--;
        if (q.deadline <= now) {
            s->expired++;
            dsim_count(ctx, "service_expired");
            continue;
        }
        start_work(s, ctx, cfg, (uint32_t) arg, q.call, q.arrived);
        break;
    }
}

static void service_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    ServiceNode *s = state;
    const ServiceConfig *cfg = dsim_config(ctx);
    if (registrant_on_timer(&s->reg, ctx, kind, arg))
        return;
    switch ((ServiceTimerKind) kind) {
    case SERVICE_TIMER_DONE:
        on_done(s, ctx, cfg, arg);
        return;
    case SERVICE_TIMER_REGISTER:
        if (!s->left) /* left before it registered: stays unlisted */
            register_now(s, ctx, cfg);
        return;
    case SERVICE_TIMER_LEAVE:
        /* DiscoveryClient.shutdown() -> unregister(): one CANCEL, then silence */
        if (dsim_logging(ctx))
            dsim_log(ctx, "graceful shutdown: cancel the registration, keep serving");
        registrant_cancel(&s->reg, ctx);
        s->left = true;
        return;
    }
    g_assert_not_reached();
}

static void service_on_response(void *state, DsimCtx *ctx, const DsimResponse *resp)
{
    ServiceNode *s = state;
    bool mine = registrant_on_response(&s->reg, ctx, resp);
    g_assert(mine); /* an instance calls nobody but the registry */
}

static void service_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    /* an instance speaks in calls only */
}

/* ---- describe ------------------------------------------------------------------------------- */

static void service_describe(const void *state, DsimView *view)
{
    const ServiceNode *s = state;
    view->applied = s->served;
    g_snprintf(view->text, sizeof view->text, "busy=%u queue=%u served=%" PRIu64 " shed=%" PRIu64,
               s->busy, s->queue_len, s->served, s->rejected_overload + s->rejected_rate_limit);
}

/* ---- invariants ----------------------------------------------------------------------------- */

/* DESIGN.md, "limiter conformance": in any interval of length T, an instance's limiter
 * allowed at most burst + limit * T / window requests, with the burst its kind promises
 * (ratelimit.h: limit for the sliding log and the buckets, limit + 1 for the sliding window
 * counter, 2 * limit for the fixed window, the price of its aligned windows). Checked on each
 * live member's log of this life (a restart starts a new limiter and a new log). */
static bool check_limiter_conforms(const DsimGroupView *g, GString *why)
{
    const ServiceConfig *cfg = g->config;
    if (cfg->limit_kind == RL_NONE)
        return true;
    RateLimitConfig rl = limiter_config(cfg);
    uint64_t burst = ratelimit_burst(&rl);
    for (unsigned i = 0; i < g->n; i++) {
        const ServiceNode *s = g->state[i];
        if (!s->up || s->allowed == NULL || s->allowed->len == 0)
            continue;
        const DsimTime *t = (const DsimTime *) (const void *) s->allowed->data;
        size_t a, b;
        if (!ratelimit_conforms(t, s->allowed->len, burst, rl.limit, rl.window, &a, &b)) {
            g_string_printf(why, "%s's %s limiter allowed %zu requests from %.6fs to %.6fs, "
                            "more than %" PRIu64 " + %" PRIu32 " per %.6fs allows",
                            g->name[i], ratelimit_kind_name(rl.kind), b - a + 1,
                            seconds(t[a]), seconds(t[b]), burst, rl.limit, seconds(rl.window));
            return false;
        }
    }
    return true;
}

static const DsimInvariant service_invariants[] = {
    { "limiter-conforms", "the requests an instance's rate limiter allowed stay within "
      "burst + rate * T in every interval of length T (ratelimit.h)",
      DSIM_CHECK_AT_END, check_limiter_conforms, NULL },
    { NULL },
};

/* ---- the ops table -------------------------------------------------------------------------- */

const DsimProtocol service_protocol = {
    .name = "service",
    .summary = "a service instance: workers behind a bounded queue, service-time distribution, "
               "errors, degradation, rate limiting",
    .params = service_params,
    .invariants = service_invariants,
    .config_size = sizeof(ServiceConfig),
    .state_size = sizeof(ServiceNode),
    .init = service_init,
    .fini = service_fini,
    .on_message = service_on_message,
    .on_timer = service_on_timer,
    .describe = service_describe,
    .on_call = service_on_call,
    .on_response = service_on_response,
    .method_name = service_method_name,
    .validate = service_validate,
};
