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

#include "algorithms/kv/kv.h"
#include "algorithms/raft/raft.h"

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

const char *discovery_validate_registry(const char *group, int mode, const char *param,
                                        const DsimShape *shape, GString *why)
{
    const DsimProtocol *want = mode == REGISTRY_MODE_CP ? &raft_protocol : &registry_protocol;
    for (unsigned i = 0; i < shape->n_groups; i++) {
        if (strcmp(shape->ids[i], group) != 0)
            continue;
        if (shape->protocols[i] != want) {
            g_string_printf(why, "group %s runs %s, not %s (registry_mode is %s)", group,
                            shape->protocols[i]->name, want->name,
                            mode == REGISTRY_MODE_CP ? "cp" : "ap");
            bool other = shape->protocols[i] == &raft_protocol
                || shape->protocols[i] == &registry_protocol;
            return other ? "registry_mode" : param;
        }
        return NULL;
    }
    g_string_printf(why, "no group \"%s\" in the scenario (the registry's group id)", group);
    return param;
}

const char *discovery_validate_cp_name(const char *name, const char *param, GString *why)
{
    if (name[0] == '\0' || strlen(name) > KV_KEY_MAX || strchr(name, ' ') != NULL) {
        g_string_printf(why, "registry_mode cp keeps a service under a KV key: its name \"%s\" "
                        "must have 1 to %d characters, without spaces", name, KV_KEY_MAX);
        return param;
    }
    return NULL;
}

const char *discovery_validate(const char *registry, int mode, int64_t home, const char *name,
                               const char *name_param, const DsimShape *shape, GString *why)
{
    const char *bad = discovery_validate_registry(registry, mode, "registry", shape, why);
    if (bad != NULL)
        return bad;
    for (unsigned g = 0; g < shape->n_groups; g++) {
        if (strcmp(shape->ids[g], registry) == 0 && home > (int64_t) shape->sizes[g]) {
            g_string_printf(why, "home %" PRId64 " names no member of group %s, which has %u",
                            home, registry, shape->sizes[g]);
            return "home";
        }
    }
    /* the name travels in a fixed field of the registry's wire (registry.h) */
    if (strlen(name) >= REGISTRY_NAME_MAX) {
        g_string_printf(why, "service name \"%s\" is longer than the registry's %d characters",
                        name, REGISTRY_NAME_MAX - 1);
        return name_param;
    }
    return mode == REGISTRY_MODE_CP ? discovery_validate_cp_name(name, name_param, why) : NULL;
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

/* ---- CP mode: the registry as a Raft KV (discovery.h, "the registry's mode") ---------------- */

/* Seqs of a module's KV commands only grow, across restarts too (the state is zeroed then,
 * but the clock has moved on): the next is the clock in ns, or the last + 1. */
static uint64_t next_kv_seq(uint64_t *last, DsimCtx *ctx)
{
    uint64_t now = (uint64_t) MAX(dsim_now(ctx), (DsimTime) 0);
    *last = MAX(*last + 1, now);
    return *last;
}

/* Calls registry member @to with one KV command on key @service (cut to KV_KEY_MAX). */
static DsimCallId kv_call(DsimCtx *ctx, DsimNodeId to, KvOp op, uint32_t client, uint64_t seq,
                          const char *service, const char *value, const DsimCallOpts *o)
{
    char key[KV_KEY_MAX + 1];
    g_strlcpy(key, service, sizeof key);
    KvCommand cmd;
    kv_command_init(&cmd, op, client, seq, key, value, NULL);
    return dsim_call(ctx, to, RAFT_METHOD_KV, &cmd, sizeof cmd, o);
}

/* A FAIL from a Raft node that names another member as the leader: its index, else -1. */
static int leader_hint(const DsimResponse *resp, DsimNodeId first, uint32_t n, uint32_t current)
{
    if (resp->status != DSIM_CALL_FAIL || resp->size != sizeof(RaftCallFail))
        return -1;
    RaftCallFail f;
    memcpy(&f, resp->body, sizeof f);
    if (f.reason != RAFT_CALL_NOT_LEADER || f.leader == DSIM_NOBODY || f.leader < first
        || f.leader - first >= n || f.leader - first == current)
        return -1;
    return (int) (f.leader - first);
}

/* Where a module goes after a failed call in CP mode: to the leader a follower named (Raft
 * §8: "supply information about the most recent leader"), else to the next member. A round
 * makes at most 2n calls (a hint and a failover per member). False: the round gives up. */
static bool cp_next(const DsimResponse *resp, DsimNodeId first, uint32_t n, uint32_t *current,
                    uint32_t *tries, uint64_t *redirects, uint64_t *failovers)
{
    if (++*tries >= 2 * n)
        return false;
    int hint = leader_hint(resp, first, n, *current);
    if (hint >= 0) {
        *current = (uint32_t) hint;
        ++*redirects;
    } else {
        *current = (*current + 1) % n;
        ++*failovers;
    }
    return true;
}

/* ---- the registrant -------------------------------------------------------------------------- */

/* CP: a registration is an entry " <node>:<expiry ms>" appended to the service's key; a
 * cancel appends expiry 0. The last entry of a node is the one readers believe. */
static void reg_send_cp(Registrant *r, DsimCtx *ctx, uint16_t method)
{
    DsimTime expiry = method == REGISTRY_CANCEL ? 0 : dsim_now(ctx) + r->lease;
    char value[KV_VALUE_MAX + 1];
    g_snprintf(value, sizeof value, " %" PRIu32 ":%" PRId64, (uint32_t) dsim_self(ctx),
               (int64_t) (expiry / DSIM_MS(1)));
    DsimCallOpts o = { .timeout = r->timeout, .tag = tag_of(MODULE_REGISTRANT, r->slot, ++r->seq) };
    uint32_t client = DISCOVERY_KV_CLIENT(false, r->slot, dsim_self(ctx));
    r->pending = kv_call(ctx, r->first + r->current, KV_OP_APPEND, client,
                         next_kv_seq(&r->kv_seq, ctx), r->service, value, &o);
    r->pending_method = method;
}

static void reg_send(Registrant *r, DsimCtx *ctx, uint16_t method)
{
    if (r->mode == REGISTRY_MODE_CP) {
        reg_send_cp(r, ctx, method);
        return;
    }
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
    r->mode = (uint8_t) cfg->mode;
    if (r->mode == REGISTRY_MODE_CP && r->lease == 0)
        r->lease = 3 * r->renew_interval; /* Eureka's ratio: 90 s for 30 s renewals */
    g_assert(r->mode != REGISTRY_MODE_CP || dsim_self(ctx) < (UINT32_C(1) << 22));
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
    if (r->mode == REGISTRY_MODE_CP) {
        /* Not committed (a minority side, no leader, a timeout): to the leader hint or the
         * next member; a REGISTER and a RENEW are the same write here. */
        if (!cp_next(resp, r->first, r->n, &r->current, &r->tries, &r->redirects, &r->failovers))
            return true;
        if (dsim_logging(ctx))
            dsim_log(ctx, "%s %s: try %s", registry_method_name(method),
                     dsim_call_status_name(resp->status), dsim_name(ctx, r->first + r->current));
        reg_send(r, ctx, method);
        return true;
    }
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
    if (c->mode == REGISTRY_MODE_CP) { /* one linearizable read of the service's key */
        DsimCallOpts o = { .timeout = c->timeout, .tag = tag_of(MODULE_CACHE, c->slot, ++c->seq) };
        uint32_t client = DISCOVERY_KV_CLIENT(true, c->slot, dsim_self(ctx));
        c->pending = kv_call(ctx, c->first + c->current, KV_OP_GET, client,
                             next_kv_seq(&c->kv_seq, ctx), c->service, NULL, &o);
        return;
    }
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
    c->mode = (uint8_t) cfg->mode;
    g_assert(c->mode != REGISTRY_MODE_CP
             || (c->service[0] != '\0' && dsim_self(ctx) < (UINT32_C(1) << 22)));
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

/* CP: the value of the service's key, " <node>:<expiry ms>" entries in the order they were
 * committed. The last entry of each node counts; the node is listed while its expiry is ahead
 * of this node's clock. Entries are few (a node appears once in `seen`), looked up linearly. */
static void take_answer_cp(DiscoveryCache *c, DsimCtx *ctx, const DsimResponse *resp)
{
    enum { SEEN_MAX = 4 * DISCOVERY_MAX_INSTANCES };
    DsimNodeId node[SEEN_MAX];
    int64_t expiry[SEEN_MAX];
    unsigned seen = 0;
    uint64_t entries = 0;
    g_autofree char *text = resp->size > 0 ? g_strndup(resp->body, resp->size) : g_strdup("");
    const char *p = text;
    while (*p != '\0') {
        char *end;
        guint64 id = g_ascii_strtoull(p, &end, 10);
        if (end == p || *end != ':')
            break; /* not an entry of ours: stop reading (and list what came before) */
        gint64 ms = g_ascii_strtoll(end + 1, &end, 10);
        p = end;
        entries++;
        unsigned k = 0;
        while (k < seen && node[k] != (DsimNodeId) id)
            k++;
        if (k == seen) {
            if (seen == SEEN_MAX)
                continue;
            node[seen++] = (DsimNodeId) id;
        }
        expiry[k] = ms;
    }
    DsimTime now = dsim_now(ctx);
    unsigned n = 0;
    c->truncated = 0;
    for (unsigned k = 0; k < seen; k++) {
        if (DSIM_MS(expiry[k]) <= now)
            continue; /* expired, or cancelled (0) */
        if (n < DISCOVERY_MAX_INSTANCES)
            c->instances[n++] = node[k];
        else
            c->truncated++;
    }
    qsort(c->instances, n, sizeof c->instances[0], node_cmp);
    c->n = n;
    c->fetched_at = now;
    c->as_of = now - resp->latency; /* linearized somewhere within the call */
    c->version = entries;
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
        if (c->mode == REGISTRY_MODE_CP)
            take_answer_cp(c, ctx, resp);
        else
            take_answer(c, ctx, resp);
        return true;
    }
    /* The last good list stays: Eureka's client keeps serving its local copy. */
    c->failures++;
    if (c->mode == REGISTRY_MODE_CP) {
        if (!cp_next(resp, c->first, c->n_registry, &c->current, &c->tries, &c->redirects,
                     &c->failovers))
            return true;
        if (dsim_logging(ctx))
            dsim_log(ctx, "fetch %s: try %s", dsim_call_status_name(resp->status),
                     dsim_name(ctx, c->first + c->current));
        fetch(c, ctx);
        return true;
    }
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
    { .name = "registry_mode", .type = DSIM_PARAM_CHOICE, .def = "ap",
      .help = "ap: the registry group runs registry (Eureka); cp: it runs raft, used as a KV "
              "store (Consul-like catalog)",
      .offset = offsetof(InstanceConfig, registry_mode), .choices = REGISTRY_MODE_CHOICES },
    { NULL },
};

static void instance_register(InstanceNode *s, DsimCtx *ctx, const InstanceConfig *cfg)
{
    RegistrantConfig rc = {
        .registry = cfg->registry, .service = cfg->service,
        .renew_interval = cfg->renew_interval, .timeout = cfg->timeout, .lease = cfg->lease,
        .home = (unsigned) cfg->home, .mode = cfg->registry_mode,
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
    uint64_t ok = s->reg.registrations + s->reg.renewals, failed = s->reg.failures;
    bool mine = registrant_on_response(&s->reg, ctx, resp);
    g_assert(mine); /* the instance makes no other calls */
    /* what the registry did with this instance's writes, call by call */
    if (s->reg.registrations + s->reg.renewals != ok)
        dsim_count(ctx, "registry_writes_ok");
    if (s->reg.failures != failed)
        dsim_count(ctx, "registry_writes_failed");
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
    return discovery_validate(cfg->registry, cfg->registry_mode, cfg->home,
                              cfg->service[0] != '\0' ? cfg->service : shape->ids[shape->self],
                              "service", shape, why);
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
    { .name = "registry_mode", .type = DSIM_PARAM_CHOICE, .def = "ap",
      .help = "ap: the registry group runs registry (Eureka); cp: it runs raft, used as a KV "
              "store (Consul-like catalog)",
      .offset = offsetof(WatcherConfig, registry_mode), .choices = REGISTRY_MODE_CHOICES },
    { NULL },
};

static void watcher_begin(WatcherNode *w, DsimCtx *ctx, const WatcherConfig *cfg)
{
    DiscoveryConfig dc = {
        .registry = cfg->registry, .service = cfg->service,
        .fetch_interval = cfg->fetch_interval, .timeout = cfg->timeout,
        .home = (unsigned) cfg->home, .mode = cfg->registry_mode,
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
    uint64_t failed = w->cache.failures;
    bool mine = discovery_on_response(&w->cache, ctx, resp);
    g_assert(mine);
    if (w->cache.failures != failed)
        dsim_count(ctx, "fetches_failed");
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
    /* a watcher's empty service means every instance: AP only (CP reads one key) */
    return discovery_validate(cfg->registry, cfg->registry_mode, cfg->home, cfg->service,
                              "service", shape, why);
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
