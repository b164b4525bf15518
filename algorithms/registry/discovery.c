/* discovery.c - the registry's client side: the Registrant and DiscoveryCache modules that
 * other protocols embed (discovery.h), and the two demo protocols built from them alone,
 * `instance` and `watcher`.
 *
 * Read with Eureka's client open (eureka-client, com.netflix.discovery.DiscoveryClient):
 * register(), renew() ("if (httpResponse.getStatusCode() == Status.NOT_FOUND.getStatusCode())
 * { REREGISTER_COUNTER.increment(); ... return register(); }"), unregister() at shutdown, and
 * the CacheRefreshThread's fetchRegistry(); RetryableEurekaHttpClient tries the next server
 * of its list when one fails and then stays with the one that answered.
 *
 * Both modules run in rounds: a tick (renew_interval, fetch_interval) starts a round with one
 * call; a failure or a timeout moves to the next registry node and calls again at once, until
 * every node was tried once; then the module waits for the next tick. A call still in flight
 * when the tick comes (a timeout longer than the interval) makes that round skip.
 */
#include "algorithms/registry/discovery.h"

#include <stdlib.h>
#include <string.h>

enum { MODULE_REGISTRANT = 1, MODULE_CACHE = 2 };

static double seconds(DsimTime t) { return (double) t / 1e9; }

static uint64_t tag_of(unsigned module, uint8_t slot, uint32_t seq)
{
    return DISCOVERY_TAG | (uint64_t) module << 40 | (uint64_t) slot << 32 | seq;
}

static bool tag_is(uint64_t tag, unsigned module, uint8_t slot)
{
    return discovery_is_tag(tag) && ((tag >> 40) & 0xFF) == module && ((tag >> 32) & 0xFF) == slot;
}

/* The registry group, and the member to start with. */
static void resolve(DsimCtx *ctx, const char *registry, unsigned home, DsimNodeId *first,
                    uint32_t *n, uint32_t *current)
{
    unsigned size = 0;
    bool found = dsim_group_find(ctx, registry, first, &size);
    g_assert(found && size > 0); /* the embedding protocol's validate checks it */
    *n = size;
    *current = home > 0 ? (home - 1) % size : dsim_self_index(ctx) % size;
}

void discovery_own_group(const DsimCtx *ctx, char buf[REGISTRY_NAME_MAX])
{
    /* Members are named <group>1 .. <group>N (sim/dsim.h, DsimGroupView). */
    const char *name = dsim_name(ctx, dsim_group_member(ctx, 0));
    size_t len = strlen(name);
    g_assert(len >= 2 && name[len - 1] == '1');
    char tmp[REGISTRY_NAME_MAX] = { 0 };
    memcpy(tmp, name, MIN(len - 1, (size_t) REGISTRY_NAME_MAX - 1));
    registry_name_copy(buf, tmp);
}

const char *discovery_validate_registry(const char *group, const char *param,
                                        const DsimShape *shape, GString *why)
{
    for (unsigned i = 0; i < shape->n_groups; i++) {
        if (strcmp(shape->ids[i], group) != 0)
            continue;
        if (shape->protocols[i] != &registry_protocol) {
            g_string_printf(why, "group %s runs %s, not registry", group,
                            shape->protocols[i]->name);
            return param;
        }
        return NULL;
    }
    g_string_printf(why, "no group \"%s\" in the scenario (the registry's group id)", group);
    return param;
}

/* For the demo protocols' validate: `home` must name a member of the registry group. */
static const char *validate_home(int64_t home, const char *group, const DsimShape *shape,
                                 GString *why)
{
    for (unsigned i = 0; i < shape->n_groups; i++) {
        if (strcmp(shape->ids[i], group) == 0 && home > (int64_t) shape->sizes[i]) {
            g_string_printf(why, "home %" PRId64 " names no member of group %s, which has %u",
                            home, group, shape->sizes[i]);
            return "home";
        }
    }
    return NULL;
}

/* A FAIL answer saying the registry does not know the instance (Eureka's 404). */
static bool is_unknown(const DsimResponse *resp)
{
    if (resp->status != DSIM_CALL_FAIL || resp->size != sizeof(RegistryFail))
        return false;
    RegistryFail f;
    memcpy(&f, resp->body, sizeof f);
    return strncmp(f.reason, REGISTRY_FAIL_UNKNOWN, sizeof f.reason) == 0;
}

/* ---- the registrant -------------------------------------------------------------------------- */

static void reg_send(Registrant *r, DsimCtx *ctx, uint16_t method)
{
    RegistryInstanceReq req;
    memset(&req, 0, sizeof req);
    memcpy(req.service, r->service, REGISTRY_NAME_MAX);
    req.instance = dsim_self(ctx);
    req.status = REGISTRY_STATUS_UP;
    req.lease = method == REGISTRY_REGISTER ? r->lease : 0;
    DsimCallOpts o = { .timeout = r->timeout, .tag = tag_of(MODULE_REGISTRANT, r->slot, ++r->seq) };
    r->pending = dsim_call(ctx, r->first + r->current, method, &req, sizeof req, &o);
    r->pending_method = method;
}

void registrant_start(Registrant *r, DsimCtx *ctx, const RegistrantConfig *cfg)
{
    g_assert(cfg->renew_interval > 0 && cfg->timeout > 0);
    memset(r, 0, sizeof *r);
    if (cfg->service == NULL || cfg->service[0] == '\0')
        discovery_own_group(ctx, r->service);
    else
        registry_name_copy(r->service, cfg->service);
    r->renew_interval = cfg->renew_interval;
    r->timeout = cfg->timeout;
    r->lease = cfg->lease;
    r->slot = cfg->slot;
    r->last_ok = -1;
    resolve(ctx, cfg->registry, cfg->home, &r->first, &r->n, &r->current);
    r->phase = REGISTRANT_REGISTERING;
    r->timer = dsim_timer_set(ctx, r->renew_interval, DISCOVERY_TIMER_REGISTRANT, r->slot);
    reg_send(r, ctx, REGISTRY_REGISTER);
}

void registrant_cancel(Registrant *r, DsimCtx *ctx)
{
    if (r->phase == REGISTRANT_IDLE || r->phase == REGISTRANT_CANCELLED)
        return;
    r->phase = REGISTRANT_CANCELLED;
    dsim_timer_cancel(ctx, r->timer);
    r->timer = 0;
    /* DiscoveryClient.unregister(): once, to the node in use; a lost CANCEL leaves the lease
     * to expire. */
    reg_send(r, ctx, REGISTRY_CANCEL);
}

bool registrant_on_timer(Registrant *r, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    if (kind != DISCOVERY_TIMER_REGISTRANT || arg != r->slot)
        return false;
    if (r->phase == REGISTRANT_IDLE || r->phase == REGISTRANT_CANCELLED)
        return true;
    r->timer = dsim_timer_set(ctx, r->renew_interval, DISCOVERY_TIMER_REGISTRANT, r->slot);
    r->tries = 0;
    if (r->pending == 0)
        reg_send(r, ctx, r->phase == REGISTRANT_REGISTERED ? REGISTRY_RENEW : REGISTRY_REGISTER);
    return true;
}

bool registrant_on_response(Registrant *r, DsimCtx *ctx, const DsimResponse *resp)
{
    if (!tag_is(resp->tag, MODULE_REGISTRANT, r->slot))
        return false;
    if (resp->id != r->pending || r->phase == REGISTRANT_CANCELLED) {
        if (resp->id == r->pending)
            r->pending = 0;
        return true; /* a superseded call, or the CANCEL's outcome */
    }
    r->pending = 0;
    uint16_t method = r->pending_method;
    if (resp->status == DSIM_CALL_OK) {
        r->last_ok = dsim_now(ctx);
        if (method == REGISTRY_REGISTER) {
            r->registrations++;
            r->phase = REGISTRANT_REGISTERED;
        } else {
            r->renewals++;
        }
        return true;
    }
    r->failures++;
    if (method == REGISTRY_RENEW && is_unknown(resp)) {
        /* DiscoveryClient.renew(): on 404, register again, with the same node. */
        r->reregistrations++;
        r->phase = REGISTRANT_REGISTERING;
        if (dsim_logging(ctx))
            dsim_log(ctx, "%s does not know %s: register again",
                     dsim_name(ctx, r->first + r->current), r->service);
        reg_send(r, ctx, REGISTRY_REGISTER);
        return true;
    }
    /* Timed out, or refused: try the next registry node, once each per round. */
    if (++r->tries >= r->n)
        return true;
    r->current = (r->current + 1) % r->n;
    r->failovers++;
    if (dsim_logging(ctx))
        dsim_log(ctx, "%s %s: fail over to %s", registry_method_name(method),
                 dsim_call_status_name(resp->status), dsim_name(ctx, r->first + r->current));
    reg_send(r, ctx, method);
    return true;
}

/* ---- the discovery cache --------------------------------------------------------------------- */

static void fetch(DiscoveryCache *c, DsimCtx *ctx)
{
    RegistryFetchReq req;
    memcpy(req.service, c->service, REGISTRY_NAME_MAX);
    DsimCallOpts o = { .timeout = c->timeout, .tag = tag_of(MODULE_CACHE, c->slot, ++c->seq) };
    c->pending = dsim_call(ctx, c->first + c->current, REGISTRY_FETCH, &req, sizeof req, &o);
}

void discovery_start(DiscoveryCache *c, DsimCtx *ctx, const DiscoveryConfig *cfg)
{
    g_assert(cfg->fetch_interval > 0 && cfg->timeout > 0);
    memset(c, 0, sizeof *c);
    registry_name_copy(c->service, cfg->service != NULL ? cfg->service : "");
    c->fetch_interval = cfg->fetch_interval;
    c->timeout = cfg->timeout;
    c->slot = cfg->slot;
    c->fetched_at = -1;
    c->as_of = -1;
    c->source = DSIM_NOBODY;
    resolve(ctx, cfg->registry, cfg->home, &c->first, &c->n_registry, &c->current);
    c->started = 1;
    dsim_timer_set(ctx, c->fetch_interval, DISCOVERY_TIMER_CACHE, c->slot);
    fetch(c, ctx);
}

bool discovery_on_timer(DiscoveryCache *c, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    if (kind != DISCOVERY_TIMER_CACHE || arg != c->slot)
        return false;
    if (!c->started)
        return true;
    dsim_timer_set(ctx, c->fetch_interval, DISCOVERY_TIMER_CACHE, c->slot);
    c->tries = 0;
    if (c->pending == 0)
        fetch(c, ctx);
    return true;
}

static int node_cmp(const void *a, const void *b)
{
    DsimNodeId x = *(const DsimNodeId *) a, y = *(const DsimNodeId *) b;
    return x < y ? -1 : x > y;
}

/* Takes the answer's instances (already filtered by service), sorted and without the
 * duplicates a whole-catalog answer can have (one instance under two names). */
static void take_answer(DiscoveryCache *c, DsimCtx *ctx, const DsimResponse *resp)
{
    /* bodies are copied out: the kernel does not promise their alignment */
    RegistryFetchResp a;
    g_assert(resp->size >= sizeof a);
    memcpy(&a, resp->body, sizeof a);
    g_assert(resp->size == sizeof a + (size_t) a.n * sizeof(RegistryEntry));
    const uint8_t *entries = (const uint8_t *) resp->body + sizeof a;
    unsigned n = 0;
    c->truncated = 0;
    for (uint32_t i = 0; i < a.n; i++) {
        RegistryEntry e;
        memcpy(&e, entries + (size_t) i * sizeof e, sizeof e);
        if (n < DISCOVERY_MAX_INSTANCES)
            c->instances[n++] = e.instance;
        else
            c->truncated++;
    }
    qsort(c->instances, n, sizeof c->instances[0], node_cmp);
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (k == 0 || c->instances[k - 1] != c->instances[i])
            c->instances[k++] = c->instances[i];
    }
    c->n = k;
    c->fetched_at = dsim_now(ctx);
    c->as_of = a.as_of;
    c->version = a.version;
    c->source = resp->to;
    c->fetches++;
}

bool discovery_on_response(DiscoveryCache *c, DsimCtx *ctx, const DsimResponse *resp)
{
    if (!tag_is(resp->tag, MODULE_CACHE, c->slot))
        return false;
    if (resp->id != c->pending)
        return true;
    c->pending = 0;
    if (resp->status == DSIM_CALL_OK) {
        take_answer(c, ctx, resp);
        return true;
    }
    /* The last good list stays: Eureka's client keeps serving its local copy. */
    c->failures++;
    if (++c->tries >= c->n_registry)
        return true;
    c->current = (c->current + 1) % c->n_registry;
    c->failovers++;
    if (dsim_logging(ctx))
        dsim_log(ctx, "fetch %s: fail over to %s", dsim_call_status_name(resp->status),
                 dsim_name(ctx, c->first + c->current));
    fetch(c, ctx);
    return true;
}

const DsimNodeId *discovery_instances(const DiscoveryCache *c, unsigned *n)
{
    *n = c->started && c->fetched_at >= 0 ? c->n : 0;
    return c->instances;
}

DsimTime discovery_age(const DiscoveryCache *c, DsimTime now)
{
    return c->started && c->fetched_at >= 0 ? now - c->fetched_at : -1;
}

/* ---- the `instance` demo protocol: a registrant without a workload --------------------------- */

static const DsimParam instance_params[] = {
    { .name = "registry", .type = DSIM_PARAM_STRING, .def = "reg",
      .help = "the id of the registry's group",
      .offset = offsetof(InstanceConfig, registry) },
    { .name = "service", .type = DSIM_PARAM_STRING, .def = "",
      .help = "the service name to register under; empty = this group's id",
      .offset = offsetof(InstanceConfig, service) },
    { .name = "renew_interval", .type = DSIM_PARAM_TIME, .def = "30s",
      .help = "time between renewals (leaseRenewalIntervalInSeconds, 30 s)",
      .offset = offsetof(InstanceConfig, renew_interval) },
    { .name = "timeout", .type = DSIM_PARAM_TIME, .def = "5s",
      .help = "deadline of each call to the registry",
      .offset = offsetof(InstanceConfig, timeout) },
    { .name = "lease", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "lease duration to ask for (leaseExpirationDurationInSeconds); 0 = the "
              "registry's lease_duration",
      .offset = offsetof(InstanceConfig, lease) },
    { .name = "start", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when the instance starts and registers",
      .offset = offsetof(InstanceConfig, start) },
    { .name = "leave_at", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when it shuts down gracefully (CANCEL, then silence); 0 = never",
      .offset = offsetof(InstanceConfig, leave_at) },
    { .name = "home", .type = DSIM_PARAM_INT, .def = "0",
      .help = "registry member (from 1) to try first; 0 = own member index mod n, plus 1",
      .offset = offsetof(InstanceConfig, home), .min = 0, .max = 1000000 },
    { NULL },
};

static void instance_register(InstanceNode *s, DsimCtx *ctx, const InstanceConfig *cfg)
{
    RegistrantConfig rc = {
        .registry = cfg->registry, .service = cfg->service,
        .renew_interval = cfg->renew_interval, .timeout = cfg->timeout, .lease = cfg->lease,
        .home = (unsigned) cfg->home,
    };
    registrant_start(&s->reg, ctx, &rc);
}

static void instance_init(void *state, DsimCtx *ctx)
{
    InstanceNode *s = state;
    const InstanceConfig *cfg = dsim_config(ctx);
    DsimTime now = dsim_now(ctx);
    s->up = true;
    if (cfg->leave_at > 0 && now >= cfg->leave_at) {
        s->left = true; /* restarted after its shutdown: it stays away */
        return;
    }
    if (cfg->start > now)
        dsim_timer_set(ctx, cfg->start - now, INSTANCE_TIMER_START, 0);
    else
        instance_register(s, ctx, cfg);
    if (cfg->leave_at > 0)
        dsim_timer_set(ctx, cfg->leave_at - now, INSTANCE_TIMER_LEAVE, 0);
}

static void instance_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    InstanceNode *s = state;
    if (registrant_on_timer(&s->reg, ctx, kind, arg))
        return;
    switch ((InstanceTimerKind) kind) {
    case INSTANCE_TIMER_START:
        if (!s->left) /* shut down before it started: stays away */
            instance_register(s, ctx, dsim_config(ctx));
        return;
    case INSTANCE_TIMER_LEAVE:
        if (dsim_logging(ctx))
            dsim_log(ctx, "graceful shutdown: cancel");
        registrant_cancel(&s->reg, ctx);
        s->left = true;
        return;
    }
    g_assert_not_reached();
}

static void instance_on_response(void *state, DsimCtx *ctx, const DsimResponse *resp)
{
    InstanceNode *s = state;
    bool mine = registrant_on_response(&s->reg, ctx, resp);
    g_assert(mine); /* the instance makes no other calls */
}

static void demo_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    (void) state, (void) ctx, (void) msg; /* these protocols speak in calls only */
}

static void instance_describe(const void *state, DsimView *view)
{
    const InstanceNode *s = state;
    static const char *const phase[] = { "idle", "registering", "registered", "cancelled" };
    view->applied = s->reg.phase == REGISTRANT_REGISTERED;
    g_snprintf(view->text, sizeof view->text, "%s renewals=%" PRIu64, phase[s->reg.phase],
               s->reg.renewals);
}

static const char *instance_validate(const void *config, const DsimShape *shape, GString *why)
{
    const InstanceConfig *cfg = config;
    if (cfg->renew_interval <= 0 || cfg->timeout <= 0) {
        g_string_printf(why, "must be above 0");
        return cfg->renew_interval <= 0 ? "renew_interval" : "timeout";
    }
    if (strlen(cfg->service) >= REGISTRY_NAME_MAX) {
        g_string_printf(why, "a service name has at most %d characters", REGISTRY_NAME_MAX - 1);
        return "service";
    }
    const char *bad = discovery_validate_registry(cfg->registry, "registry", shape, why);
    return bad != NULL ? bad : validate_home(cfg->home, cfg->registry, shape, why);
}

const DsimProtocol instance_protocol = {
    .name = "instance",
    .summary = "a service instance that only registers with the registry and renews its lease "
               "(Eureka's DiscoveryClient), for registry scenarios",
    .params = instance_params,
    .config_size = sizeof(InstanceConfig),
    .state_size = sizeof(InstanceNode),
    .init = instance_init,
    .on_message = demo_on_message,
    .on_timer = instance_on_timer,
    .describe = instance_describe,
    .on_response = instance_on_response,
    .validate = instance_validate,
};

/* ---- the `watcher` demo protocol: a discovery cache that reports what it sees ---------------- */

static const DsimParam watcher_params[] = {
    { .name = "registry", .type = DSIM_PARAM_STRING, .def = "reg",
      .help = "the id of the registry's group",
      .offset = offsetof(WatcherConfig, registry) },
    { .name = "service", .type = DSIM_PARAM_STRING, .def = "",
      .help = "the service to list; empty = every instance in the catalog",
      .offset = offsetof(WatcherConfig, service) },
    { .name = "fetch_interval", .type = DSIM_PARAM_TIME, .def = "30s",
      .help = "time between fetches (registryFetchIntervalSeconds, 30 s)",
      .offset = offsetof(WatcherConfig, fetch_interval) },
    { .name = "timeout", .type = DSIM_PARAM_TIME, .def = "5s",
      .help = "deadline of each fetch",
      .offset = offsetof(WatcherConfig, timeout) },
    { .name = "start", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when the first fetch is made",
      .offset = offsetof(WatcherConfig, start) },
    { .name = "home", .type = DSIM_PARAM_INT, .def = "0",
      .help = "registry member (from 1) to try first; 0 = own member index mod n, plus 1",
      .offset = offsetof(WatcherConfig, home), .min = 0, .max = 1000000 },
    { NULL },
};

static void watcher_begin(WatcherNode *w, DsimCtx *ctx, const WatcherConfig *cfg)
{
    DiscoveryConfig dc = {
        .registry = cfg->registry, .service = cfg->service,
        .fetch_interval = cfg->fetch_interval, .timeout = cfg->timeout,
        .home = (unsigned) cfg->home,
    };
    discovery_start(&w->cache, ctx, &dc);
}

static void watcher_init(void *state, DsimCtx *ctx)
{
    WatcherNode *w = state;
    const WatcherConfig *cfg = dsim_config(ctx);
    w->up = true;
    if (cfg->start > dsim_now(ctx))
        dsim_timer_set(ctx, cfg->start - dsim_now(ctx), WATCHER_TIMER_START, 0);
    else
        watcher_begin(w, ctx, cfg);
}

static void watcher_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    WatcherNode *w = state;
    if (discovery_on_timer(&w->cache, ctx, kind, arg))
        return;
    g_assert(kind == WATCHER_TIMER_START);
    watcher_begin(w, ctx, dsim_config(ctx));
}

/* After each successful fetch: which instances appeared and disappeared since the last list
 * (a merge of two sorted lists), and how many are listed. The watcher cannot know when an
 * instance died, only when it left the list: a scenario subtracts the crash time from
 * disappeared_at_seconds to get the client's staleness. */
static void watcher_report(WatcherNode *w, DsimCtx *ctx)
{
    unsigned n;
    const DsimNodeId *now_list = discovery_instances(&w->cache, &n);
    double t = seconds(dsim_now(ctx));
    if (w->has_prev) {
        unsigned i = 0, j = 0;
        while (i < w->n_prev || j < n) {
            if (j == n || (i < w->n_prev && w->prev[i] < now_list[j])) {
                dsim_metric(ctx, "disappeared_at_seconds", t);
                if (dsim_logging(ctx))
                    dsim_log(ctx, "%s is gone from the list (%u listed)",
                             dsim_name(ctx, w->prev[i]), n);
                i++;
            } else if (i == w->n_prev || now_list[j] < w->prev[i]) {
                dsim_metric(ctx, "appeared_at_seconds", t);
                if (dsim_logging(ctx))
                    dsim_log(ctx, "%s appears in the list (%u listed)",
                             dsim_name(ctx, now_list[j]), n);
                j++;
            } else {
                i++, j++;
            }
        }
    }
    dsim_metric(ctx, "listed_instances", n);
    dsim_metric(ctx, "response_age_seconds", seconds(dsim_now(ctx) - w->cache.as_of));
    memcpy(w->prev, now_list, n * sizeof now_list[0]);
    w->n_prev = n;
    w->has_prev = true;
}

static void watcher_on_response(void *state, DsimCtx *ctx, const DsimResponse *resp)
{
    WatcherNode *w = state;
    bool mine = discovery_on_response(&w->cache, ctx, resp);
    g_assert(mine);
    if (w->cache.fetches != w->seen_fetches) {
        w->seen_fetches = w->cache.fetches;
        watcher_report(w, ctx);
    }
}

/* applied: instances listed; the digest: the list, so that <converge group="w"> tells whether
 * the watchers see the same instances. */
static void watcher_describe(const void *state, DsimView *view)
{
    const WatcherNode *w = state;
    unsigned n;
    const DsimNodeId *list = discovery_instances(&w->cache, &n);
    uint64_t d = 0;
    for (unsigned i = 0; i < n; i++)
        d = dsim_digest_add(d, &list[i], sizeof list[i]);
    view->applied = n;
    view->applied_digest = d;
    g_snprintf(view->text, sizeof view->text, "%u listed, fetched %" PRIu64 " times", n,
               w->cache.fetches);
}

static const char *watcher_validate(const void *config, const DsimShape *shape, GString *why)
{
    const WatcherConfig *cfg = config;
    if (cfg->fetch_interval <= 0 || cfg->timeout <= 0) {
        g_string_printf(why, "must be above 0");
        return cfg->fetch_interval <= 0 ? "fetch_interval" : "timeout";
    }
    if (strlen(cfg->service) >= REGISTRY_NAME_MAX) {
        g_string_printf(why, "a service name has at most %d characters", REGISTRY_NAME_MAX - 1);
        return "service";
    }
    const char *bad = discovery_validate_registry(cfg->registry, "registry", shape, why);
    return bad != NULL ? bad : validate_home(cfg->home, cfg->registry, shape, why);
}

const DsimProtocol watcher_protocol = {
    .name = "watcher",
    .summary = "a client that only fetches a service's instances from the registry and "
               "reports what it sees and when (Eureka's client cache), for registry scenarios",
    .params = watcher_params,
    .config_size = sizeof(WatcherConfig),
    .state_size = sizeof(WatcherNode),
    .init = watcher_init,
    .on_message = demo_on_message,
    .on_timer = watcher_on_timer,
    .describe = watcher_describe,
    .on_response = watcher_on_response,
    .validate = watcher_validate,
};
