/* registry.c - the `registry` protocol: an AP service registry node, after Netflix Eureka.
 *
 * Read with Eureka's server open (eureka-core, com.netflix.eureka): the catalog and its
 * leases are AbstractInstanceRegistry (register, renew, internalCancel, evict), the lease is
 * lease/Lease.java, self-preservation and replication are PeerAwareInstanceRegistryImpl
 * (isLeaseExpirationEnabled, replicateToPeers), the peer side of replication is
 * cluster/PeerEurekaNode.java (heartbeat: a 404 answer is followed by a register). The
 * names below are those classes' and methods'.
 *
 * One idea to read it by: nothing here is agreed with anybody. Each node serves the calls it
 * gets, forwards the writes to its peers once, and judges leases by its own clock and its own
 * renewal count; what keeps the nodes close is that instances keep renewing.
 */
#include "algorithms/registry/registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters ---------------------------------------------------------------------------- */

static const DsimParam registry_params[] = {
    { .name = "lease_duration", .type = DSIM_PARAM_TIME, .def = "90s",
      .help = "a lease not renewed for this long expires (Eureka's "
              "leaseExpirationDurationInSeconds, 90 s); a REGISTER may ask for another",
      .offset = offsetof(RegistryConfig, lease_duration) },
    { .name = "eviction_interval", .type = DSIM_PARAM_TIME, .def = "60s",
      .help = "period of the eviction tick that removes expired leases "
              "(evictionIntervalTimerInMs, 60 s)",
      .offset = offsetof(RegistryConfig, eviction_interval) },
    { .name = "expected_renew_interval", .type = DSIM_PARAM_TIME, .def = "30s",
      .help = "how often each instance is expected to renew, for self-preservation "
              "(expectedClientRenewalIntervalSeconds, 30 s)",
      .offset = offsetof(RegistryConfig, expected_renew_interval) },
    { .name = "renewal_threshold", .type = DSIM_PARAM_PROB, .def = "0.85",
      .help = "self-preservation holds while the renewals of the last window are not above "
              "this fraction of those expected (renewalPercentThreshold, 0.85)",
      .offset = offsetof(RegistryConfig, renewal_threshold) },
    { .name = "window", .type = DSIM_PARAM_TIME, .def = "60s",
      .help = "the window renewals are counted over (Eureka's renewsLastMin: a minute)",
      .offset = offsetof(RegistryConfig, window) },
    { .name = "self_preservation", .type = DSIM_PARAM_BOOL, .def = "true",
      .help = "stop expiring leases while renewals are below the threshold "
              "(enableSelfPreservation)",
      .offset = offsetof(RegistryConfig, self_preservation) },
    { .name = "eviction_limit", .type = DSIM_PARAM_BOOL, .def = "true",
      .help = "evict at most size - floor(size * renewal_threshold) leases per tick, chosen "
              "at random (Eureka's evict(), so a burst cannot wipe the catalog before "
              "self-preservation engages)",
      .offset = offsetof(RegistryConfig, eviction_limit) },
    { .name = "replicate", .type = DSIM_PARAM_BOOL, .def = "true",
      .help = "forward every REGISTER, RENEW and CANCEL served to the other members of the "
              "group, once (replicateToPeers)",
      .offset = offsetof(RegistryConfig, replicate) },
    { .name = "response_cache", .type = DSIM_PARAM_TIME, .def = "30s",
      .help = "FETCH answers from a snapshot refreshed this often (the read-only response "
              "cache, responseCacheUpdateIntervalMs, 30 s); 0 = from the live catalog",
      .offset = offsetof(RegistryConfig, response_cache) },
    { .name = "peer_timeout", .type = DSIM_PARAM_TIME, .def = "200ms",
      .help = "deadline of a replication call (peerNodeReadTimeoutMs, 200 ms)",
      .offset = offsetof(RegistryConfig, peer_timeout) },
    { .name = "bug", .type = DSIM_PARAM_CHOICE, .def = "none",
      .help = "renew-adds-duration: a renewed lease lasts twice lease_duration, as in "
              "Eureka's Lease.renew()",
      .offset = offsetof(RegistryConfig, bug), .choices = "none|renew-adds-duration" },
    { NULL },
};

/* ---- names and the catalog ------------------------------------------------------------------- */

const char *registry_method_name(uint16_t method)
{
    switch (method) {
    case REGISTRY_REGISTER: return "register";
    case REGISTRY_RENEW:    return "renew";
    case REGISTRY_CANCEL:   return "cancel";
    case REGISTRY_FETCH:    return "fetch";
    default:                return NULL;
    }
}

void registry_name_copy(char dst[REGISTRY_NAME_MAX], const char *name)
{
    memset(dst, 0, REGISTRY_NAME_MAX);
    size_t len = strlen(name);
    memcpy(dst, name, len < REGISTRY_NAME_MAX - 1 ? len : REGISTRY_NAME_MAX - 1);
}

/* A name from the wire must be NUL-terminated within its field. */
static bool name_ok(const char name[REGISTRY_NAME_MAX])
{
    return memchr(name, '\0', REGISTRY_NAME_MAX) != NULL;
}

static double seconds(DsimTime t) { return (double) t / 1e9; }

/* The parts per million of a fraction, so that no float steers control flow. */
static uint64_t ppm(double fraction) { return (uint64_t) llround(fraction * 1e6); }

/* Lease.isExpired: "System.currentTimeMillis() > (lastUpdateTimestamp + duration)". */
bool registry_lease_expired(const RegistryLease *l, const RegistryConfig *cfg, DsimTime now)
{
    (void) cfg; /* the bug acts where renewals are recorded (inflated), as in Eureka */
    return now > l->last_renewal + l->duration + (l->inflated ? l->duration : 0);
}

static int lease_cmp(const char *service, DsimNodeId instance, const RegistryLease *l)
{
    int c = strncmp(service, l->service, REGISTRY_NAME_MAX);
    if (c != 0)
        return c;
    return instance < l->instance ? -1 : instance > l->instance ? 1 : 0;
}

/* Binary search: the index of the lease, or (when absent) where it would go, in *at. */
static bool lease_index(const GArray *leases, const char *service, DsimNodeId instance,
                        unsigned *at)
{
    unsigned lo = 0, hi = leases->len;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = lease_cmp(service, instance, &g_array_index(leases, RegistryLease, mid));
        if (c == 0) {
            *at = mid;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *at = lo;
    return false;
}

const RegistryLease *registry_find(const RegistryNode *r, const char *service, DsimNodeId instance)
{
    unsigned at;
    if (r->leases == NULL || !lease_index(r->leases, service, instance, &at))
        return NULL;
    return &g_array_index(r->leases, RegistryLease, at);
}

/* PeerAwareInstanceRegistryImpl: numberOfRenewsPerMinThreshold = expected clients *
 * (60 / expectedClientRenewalIntervalSeconds) * renewalPercentThreshold. Eureka counts the
 * expected clients up at each new registration and down at each cancel or eviction; here that
 * count is the catalog's size. */
uint64_t registry_renewal_threshold(const RegistryNode *r, const RegistryConfig *cfg)
{
    unsigned __int128 num = (unsigned __int128) r->leases->len * (uint64_t) cfg->window
                            * ppm(cfg->renewal_threshold);
    return (uint64_t) (num / ((unsigned __int128) (uint64_t) cfg->expected_renew_interval
                              * 1000000u));
}

/* ---- renewals in the last window (Eureka's MeasuredRate) ------------------------------------- */

/* Moves the buckets on to @now: buckets start at started + k * window. */
static void roll(RegistryNode *r, const RegistryConfig *cfg, DsimTime now)
{
    if (now < r->bucket_start + cfg->window)
        return;
    DsimTime k = (now - r->bucket_start) / cfg->window;
    r->last_count = k == 1 ? r->bucket_count : 0; /* a whole silent bucket counts 0 */
    r->bucket_count = 0;
    r->bucket_start += k * cfg->window;
}

static void count_renewal(RegistryNode *r, DsimCtx *ctx, const RegistryConfig *cfg)
{
    roll(r, cfg, dsim_now(ctx));
    r->bucket_count++;
}

/* ---- changes to the catalog ------------------------------------------------------------------ */

static void changed(RegistryNode *r) { r->version++; }

/* AbstractInstanceRegistry.register: a new lease, or a fresh one replacing the old (which
 * keeps its first registration time, as Eureka keeps serviceUpTimestamp). */
static void put_lease(RegistryNode *r, DsimCtx *ctx, const RegistryConfig *cfg,
                      const RegistryInstanceReq *req)
{
    DsimTime now = dsim_now(ctx);
    RegistryLease l = { 0 };
    memcpy(l.service, req->service, REGISTRY_NAME_MAX);
    l.instance = req->instance;
    l.status = (uint16_t) (req->status != 0 ? req->status : REGISTRY_STATUS_UP);
    l.registered_at = now;
    l.last_renewal = now; /* new Lease(): lastUpdateTimestamp = registrationTimestamp */
    l.duration = req->lease > 0 ? req->lease : cfg->lease_duration;
    unsigned at;
    if (lease_index(r->leases, l.service, l.instance, &at)) {
        RegistryLease *old = &g_array_index(r->leases, RegistryLease, at);
        l.registered_at = old->registered_at;
        *old = l;
    } else {
        g_array_insert_val(r->leases, at, l);
    }
    changed(r);
}

static void remove_lease(RegistryNode *r, unsigned at)
{
    g_array_remove_index(r->leases, at);
    changed(r);
}

/* ---- replication (PeerAwareInstanceRegistryImpl.replicateToPeers) --------------------------- */

/* "If it is a replication already, do not replicate again as this will create a poison
 * replication": only what an instance asked directly is forwarded, to every other member of
 * the group, best effort (a lost replication is not retried; the next renewal mends it).
 * Called while the instance's call is still being served, so that the replication calls
 * join its trace as children (Eureka replicates asynchronously, after answering; the
 * timing is the same here, since nothing waits for the peers). */
static void replicate(RegistryNode *r, DsimCtx *ctx, const RegistryConfig *cfg, uint16_t method,
                      const RegistryInstanceReq *req)
{
    if (!cfg->replicate || req->replication)
        return;
    RegistryInstanceReq copy = *req;
    copy.replication = 1;
    if (method == REGISTRY_REGISTER) { /* peers hold the same lease duration */
        const RegistryLease *l = registry_find(r, req->service, req->instance);
        copy.lease = l != NULL ? l->duration : cfg->lease_duration;
    }
    DsimCallOpts o = { .timeout = cfg->peer_timeout, .tag = method };
    for (unsigned i = 0; i < dsim_group_size(ctx); i++) {
        if (i == dsim_self_index(ctx))
            continue;
        dsim_call(ctx, dsim_group_member(ctx, i), method, &copy, sizeof copy, &o);
        r->replicated_out++;
    }
}

/* PeerEurekaNode.sendHeartBeat: "if (response.getStatus() == 404) ... register(info)": the
 * peer lost the instance (it evicted it, or never heard of it during a partition), so the
 * node registers it there from its own lease. Other outcomes of replication are dropped. */
static void registry_on_response(void *state, DsimCtx *ctx, const DsimResponse *resp)
{
    RegistryNode *r = state;
    const RegistryConfig *cfg = dsim_config(ctx);
    if (!r->up || resp->method != REGISTRY_RENEW || resp->status != DSIM_CALL_FAIL
        || resp->size != sizeof(RegistryFail))
        return;
    RegistryFail f; /* bodies are copied out: the kernel does not promise their alignment */
    memcpy(&f, resp->body, sizeof f);
    if (strncmp(f.reason, REGISTRY_FAIL_UNKNOWN, sizeof f.reason) != 0 || !name_ok(f.req.service))
        return;
    const RegistryLease *l = registry_find(r, f.req.service, f.req.instance);
    if (l == NULL)
        return; /* gone here too by now */
    RegistryInstanceReq reg = f.req;
    reg.replication = 1;
    reg.status = (uint8_t) l->status;
    reg.lease = l->duration;
    DsimCallOpts o = { .timeout = cfg->peer_timeout, .tag = REGISTRY_REGISTER };
    dsim_call(ctx, resp->to, REGISTRY_REGISTER, &reg, sizeof reg, &o);
    r->peer_reregisters++;
    r->replicated_out++;
    if (dsim_logging(ctx))
        dsim_log(ctx, "%s lost %s/%s: register it there again", dsim_name(ctx, resp->to),
                 reg.service, dsim_name(ctx, reg.instance));
}

/* ---- serving calls --------------------------------------------------------------------------- */

static void fail(DsimCtx *ctx, const DsimCall *call, const char *reason,
                 const RegistryInstanceReq *req)
{
    RegistryFail f;
    memset(&f, 0, sizeof f);
    strncpy(f.reason, reason, sizeof f.reason - 1);
    if (req != NULL)
        f.req = *req;
    dsim_respond(ctx, call->id, DSIM_CALL_FAIL, &f, sizeof f);
}

static void serve_register(RegistryNode *r, DsimCtx *ctx, const RegistryConfig *cfg,
                           const DsimCall *call, const RegistryInstanceReq *req)
{
    bool known = registry_find(r, req->service, req->instance) != NULL;
    put_lease(r, ctx, cfg, req);
    r->registers++;
    if (dsim_logging(ctx))
        dsim_log(ctx, "register %s/%s%s%s", req->service, dsim_name(ctx, req->instance),
                 known ? " again" : "", req->replication ? " (replication)" : "");
    replicate(r, ctx, cfg, REGISTRY_REGISTER, req);
    dsim_respond(ctx, call->id, DSIM_CALL_OK, NULL, 0);
}

/* AbstractInstanceRegistry.renew: "lease doesn't exist, registering resource" is the 404 the
 * instance answers with a new REGISTER. Every renewal served counts, replicated or not. */
static void serve_renew(RegistryNode *r, DsimCtx *ctx, const RegistryConfig *cfg,
                        const DsimCall *call, const RegistryInstanceReq *req)
{
    unsigned at;
    if (!lease_index(r->leases, req->service, req->instance, &at)) {
        r->renews_unknown++;
        if (dsim_logging(ctx))
            dsim_log(ctx, "renew of unknown %s/%s%s: 404", req->service,
                     dsim_name(ctx, req->instance), req->replication ? " (replication)" : "");
        fail(ctx, call, REGISTRY_FAIL_UNKNOWN, req);
        return;
    }
    RegistryLease *l = &g_array_index(r->leases, RegistryLease, at);
    DsimTime now = dsim_now(ctx);
    /* Lease.renew(): "lastUpdateTimestamp = System.currentTimeMillis() + duration" under the
     * bug, now otherwise. A renewal changes no listed data, so the version stays. */
    l->last_renewal = now;
    l->inflated = cfg->bug == REGISTRY_BUG_RENEW_ADDS_DURATION;
    r->renews++;
    count_renewal(r, ctx, cfg);
    replicate(r, ctx, cfg, REGISTRY_RENEW, req);
    dsim_respond(ctx, call->id, DSIM_CALL_OK, NULL, 0);
}

static void serve_cancel(RegistryNode *r, DsimCtx *ctx, const RegistryConfig *cfg,
                         const DsimCall *call, const RegistryInstanceReq *req)
{
    unsigned at;
    if (!lease_index(r->leases, req->service, req->instance, &at)) {
        fail(ctx, call, REGISTRY_FAIL_UNKNOWN, req);
        return;
    }
    remove_lease(r, at);
    r->cancels++;
    if (dsim_logging(ctx))
        dsim_log(ctx, "cancel %s/%s%s", req->service, dsim_name(ctx, req->instance),
                 req->replication ? " (replication)" : "");
    replicate(r, ctx, cfg, REGISTRY_CANCEL, req);
    dsim_respond(ctx, call->id, DSIM_CALL_OK, NULL, 0);
}

static void take_snapshot(RegistryNode *r, DsimCtx *ctx)
{
    if (r->cache == NULL)
        r->cache = g_array_new(FALSE, TRUE, sizeof(RegistryLease));
    g_array_set_size(r->cache, 0);
    g_array_append_vals(r->cache, r->leases->data, r->leases->len);
    r->cache_version = r->version;
    r->cache_at = dsim_now(ctx);
}

/* ResponseCacheImpl: with the read-only cache on, a key missing from it is filled from the
 * live data on first use and then refreshed only by the timer, so an answer can be up to
 * response_cache old. */
static void serve_fetch(RegistryNode *r, DsimCtx *ctx, const RegistryConfig *cfg,
                        const DsimCall *call, const RegistryFetchReq *req)
{
    const GArray *src = r->leases;
    uint64_t version = r->version;
    DsimTime as_of = dsim_now(ctx);
    if (cfg->response_cache > 0) {
        if (r->cache == NULL)
            take_snapshot(r, ctx);
        src = r->cache;
        version = r->cache_version;
        as_of = r->cache_at;
    }
    unsigned n = 0;
    for (unsigned i = 0; i < src->len; i++) {
        const RegistryLease *l = &g_array_index(src, RegistryLease, i);
        n += req->service[0] == '\0' || strncmp(req->service, l->service, REGISTRY_NAME_MAX) == 0;
    }
    size_t size = sizeof(RegistryFetchResp) + n * sizeof(RegistryEntry);
    RegistryFetchResp *out = g_malloc0(size);
    out->version = version;
    out->as_of = as_of;
    out->n = n;
    unsigned k = 0;
    for (unsigned i = 0; i < src->len; i++) {
        const RegistryLease *l = &g_array_index(src, RegistryLease, i);
        if (req->service[0] != '\0' && strncmp(req->service, l->service, REGISTRY_NAME_MAX) != 0)
            continue;
        memcpy(out->entries[k].service, l->service, REGISTRY_NAME_MAX);
        out->entries[k].instance = l->instance;
        out->entries[k].status = l->status;
        k++;
    }
    r->fetches++;
    dsim_respond(ctx, call->id, DSIM_CALL_OK, out, size);
    g_free(out);
}

static void registry_on_call(void *state, DsimCtx *ctx, const DsimCall *call)
{
    RegistryNode *r = state;
    const RegistryConfig *cfg = dsim_config(ctx);
    /* bodies are copied out: the kernel does not promise their alignment */
    if (call->method == REGISTRY_FETCH) {
        RegistryFetchReq req;
        if (call->size != sizeof req) {
            fail(ctx, call, REGISTRY_FAIL_BAD, NULL);
            return;
        }
        memcpy(&req, call->body, sizeof req);
        if (!name_ok(req.service)) {
            fail(ctx, call, REGISTRY_FAIL_BAD, NULL);
            return;
        }
        serve_fetch(r, ctx, cfg, call, &req);
        return;
    }
    RegistryInstanceReq req;
    if (call->size != sizeof req) {
        fail(ctx, call, REGISTRY_FAIL_BAD, NULL);
        return;
    }
    memcpy(&req, call->body, sizeof req);
    if (!name_ok(req.service)) {
        fail(ctx, call, REGISTRY_FAIL_BAD, NULL);
        return;
    }
    if (req.replication)
        r->replicated_in++;
    switch (call->method) {
    case REGISTRY_REGISTER: serve_register(r, ctx, cfg, call, &req); return;
    case REGISTRY_RENEW:    serve_renew(r, ctx, cfg, call, &req); return;
    case REGISTRY_CANCEL:   serve_cancel(r, ctx, cfg, call, &req); return;
    default:                fail(ctx, call, REGISTRY_FAIL_BAD, &req); return;
    }
}

/* ---- the eviction tick (AbstractInstanceRegistry.evict) ------------------------------------- */

/* PeerAwareInstanceRegistryImpl.isLeaseExpirationEnabled: with self-preservation on, leases
 * expire only while "numberOfRenewsPerMinThreshold > 0 && getNumOfRenewsInLastMin() >
 * numberOfRenewsPerMinThreshold". A node judges only once it has a whole window of renewals
 * behind it that did not start with its own start (instances that registered in its first
 * window have not renewed a full window's worth yet); before that it lets leases expire, as
 * there is hardly anything to expire. */
static bool expiration_enabled(RegistryNode *r, DsimCtx *ctx, const RegistryConfig *cfg)
{
    if (!cfg->self_preservation)
        return true;
    if (r->bucket_start - r->started < 2 * cfg->window)
        return true;
    uint64_t threshold = registry_renewal_threshold(r, cfg);
    bool enabled = threshold > 0 && r->last_count > threshold;
    bool preserving = !enabled && r->leases->len > 0;
    if (!r->judged || preserving != (bool) r->preserving) {
        dsim_metric(ctx, "self_preservation", preserving ? 1 : 0);
        if (dsim_logging(ctx) && preserving)
            dsim_log(ctx, "EMERGENCY! renewals in the last window %" PRIu64 " are not above "
                     "the threshold %" PRIu64 ": instances are not being expired just to be "
                     "safe (self-preservation)", r->last_count, threshold);
        else if (dsim_logging(ctx) && r->judged)
            dsim_log(ctx, "renewals in the last window %" PRIu64 " above the threshold %"
                     PRIu64 ": self-preservation ends", r->last_count, threshold);
    }
    r->judged = 1;
    r->preserving = preserving;
    return enabled;
}

static int index_desc(const void *a, const void *b)
{
    unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void evict(RegistryNode *r, DsimCtx *ctx, const RegistryConfig *cfg)
{
    DsimTime now = dsim_now(ctx);
    roll(r, cfg, now);
    bool enabled = expiration_enabled(r, ctx, cfg);

    /* "We collect first all expired items, to evict them in random order." */
    GArray *expired = g_array_new(FALSE, FALSE, sizeof(unsigned));
    for (unsigned i = 0; i < r->leases->len; i++) {
        if (registry_lease_expired(&g_array_index(r->leases, RegistryLease, i), cfg, now))
            g_array_append_val(expired, i);
    }
    unsigned n_expired = expired->len, n_evict = 0;
    if (enabled && n_expired > 0) {
        /* "To compensate for GC pauses or drifting local time, we need to use current
         * registry size as a base for triggering self-preservation. Without that we would
         * wipe out full registry." evictionLimit = size - (int) (size * threshold). */
        unsigned size = r->leases->len;
        unsigned limit = cfg->eviction_limit
            ? size - (unsigned) ((uint64_t) size * ppm(cfg->renewal_threshold) / 1000000u)
            : size;
        n_evict = MIN(n_expired, limit);
        unsigned *idx = (unsigned *) (void *) expired->data;
        if (n_evict < n_expired) { /* "Pick a random item (Knuth shuffle algorithm)" */
            for (unsigned i = 0; i < n_evict; i++) {
                unsigned j = i + (unsigned) dsim_rand_below(ctx, n_expired - i);
                unsigned t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
        }
        /* the chosen ones, removed from the highest index down so the others stay valid */
        qsort(idx, n_evict, sizeof *idx, index_desc);
        for (unsigned i = 0; i < n_evict; i++) {
            const RegistryLease *l = &g_array_index(r->leases, RegistryLease, idx[i]);
            DsimTime silent = now - l->last_renewal;
            dsim_metric(ctx, "evicted", seconds(silent));
            if (dsim_logging(ctx))
                dsim_log(ctx, "expired lease for %s/%s, silent %.3fs: evict", l->service,
                         dsim_name(ctx, l->instance), seconds(silent));
            remove_lease(r, idx[i]);
            r->evictions++;
        }
    }
    g_array_free(expired, TRUE);
    dsim_metric(ctx, "registry_size", r->leases->len);
    dsim_metric(ctx, "lingering_expired", n_expired - n_evict);
    dsim_metric(ctx, "renewals_last_window", (double) r->last_count);
}

/* ---- life ------------------------------------------------------------------------------------ */

static void registry_init(void *state, DsimCtx *ctx)
{
    RegistryNode *r = state;
    const RegistryConfig *cfg = dsim_config(ctx);
    r->leases = g_array_new(FALSE, TRUE, sizeof(RegistryLease));
    r->started = r->bucket_start = dsim_now(ctx);
    r->up = 1;
    /* Eureka schedules the eviction task at a fixed rate from the server's start. */
    dsim_timer_set(ctx, cfg->eviction_interval, REGISTRY_TIMER_EVICT, 0);
    if (cfg->response_cache > 0)
        dsim_timer_set(ctx, cfg->response_cache, REGISTRY_TIMER_CACHE, 0);
}

static void registry_fini(void *state)
{
    RegistryNode *r = state;
    if (r->leases != NULL)
        g_array_free(r->leases, TRUE);
    if (r->cache != NULL)
        g_array_free(r->cache, TRUE);
    r->leases = r->cache = NULL;
}

static void registry_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    RegistryNode *r = state;
    const RegistryConfig *cfg = dsim_config(ctx);
    (void) arg;
    switch ((RegistryTimerKind) kind) {
    case REGISTRY_TIMER_EVICT:
        evict(r, ctx, cfg);
        dsim_timer_set(ctx, cfg->eviction_interval, REGISTRY_TIMER_EVICT, 0);
        return;
    case REGISTRY_TIMER_CACHE:
        /* the timer refreshes only keys already in the read-only cache */
        if (r->cache != NULL)
            take_snapshot(r, ctx);
        dsim_timer_set(ctx, cfg->response_cache, REGISTRY_TIMER_CACHE, 0);
        return;
    }
    g_assert_not_reached();
}

static void registry_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    (void) state, (void) ctx, (void) msg; /* a registry speaks in calls only */
}

/* applied: the catalog's size; the digest: its (service, instance) pairs in order, so that
 * <converge> compares the nodes' catalogs. */
static void registry_describe(const void *state, DsimView *view)
{
    const RegistryNode *r = state;
    if (!r->up)
        return;
    uint64_t d = 0;
    for (unsigned i = 0; i < r->leases->len; i++) {
        const RegistryLease *l = &g_array_index(r->leases, RegistryLease, i);
        d = dsim_digest_add(d, l->service, REGISTRY_NAME_MAX);
        d = dsim_digest_add(d, &l->instance, sizeof l->instance);
    }
    view->applied = r->leases->len;
    view->applied_digest = d;
    g_snprintf(view->text, sizeof view->text, "%u leases v=%" PRIu64 "%s", r->leases->len,
               r->version, r->preserving ? " self-preservation" : "");
}

/* ---- invariants ---------------------------------------------------------------------------- */

/* The leases of @r not expired at @now, as (service, instance) keys in catalog order. */
static GArray *live_keys(const RegistryNode *r, const RegistryConfig *cfg, DsimTime now)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(const RegistryLease *));
    for (unsigned i = 0; i < r->leases->len; i++) {
        const RegistryLease *l = &g_array_index(r->leases, RegistryLease, i);
        if (!registry_lease_expired(l, cfg, now))
            g_array_append_val(out, l);
    }
    return out;
}

/* The first key in one list and not the other, or NULL when they are equal. */
static const RegistryLease *first_difference(const GArray *a, const GArray *b, bool *in_a)
{
    unsigned i = 0, j = 0;
    while (i < a->len || j < b->len) {
        const RegistryLease *x = i < a->len ? g_array_index(a, const RegistryLease *, i) : NULL;
        const RegistryLease *y = j < b->len ? g_array_index(b, const RegistryLease *, j) : NULL;
        int c = x == NULL ? 1 : y == NULL ? -1 : lease_cmp(x->service, x->instance, y);
        if (c == 0) {
            i++, j++;
            continue;
        }
        *in_a = c < 0;
        return c < 0 ? x : y;
    }
    return NULL;
}

/* AP means the nodes may disagree while a partition lasts; what the design promises is that
 * they agree again once they can talk: at the end, registry nodes that are up and connected
 * list the same unexpired leases. */
static bool check_registries_converge(const DsimGroupView *g, GString *why)
{
    const RegistryConfig *cfg = g->config;
    GArray **keys = g_new0(GArray *, g->n);
    bool ok = true;
    for (unsigned i = 0; i < g->n; i++) {
        const RegistryNode *r = g->state[i];
        if (g->status[i] == DSIM_NODE_UP && r->up)
            keys[i] = live_keys(r, cfg, g->now);
    }
    for (unsigned i = 0; i < g->n && ok; i++) {
        for (unsigned j = i + 1; j < g->n && ok && keys[i] != NULL; j++) {
            if (keys[j] == NULL || g->component[i] != g->component[j])
                continue;
            bool in_a = false;
            const RegistryLease *d = first_difference(keys[i], keys[j], &in_a);
            if (d != NULL) {
                g_string_printf(why, "%s and %s disagree: %s lists %s/#%u and %s does not "
                                "(%u and %u live leases)", g->name[i], g->name[j],
                                g->name[in_a ? i : j], d->service, d->instance,
                                g->name[in_a ? j : i], keys[i]->len, keys[j]->len);
                ok = false;
            }
        }
    }
    for (unsigned i = 0; i < g->n; i++) {
        if (keys[i] != NULL)
            g_array_free(keys[i], TRUE);
    }
    g_free(keys);
    return ok;
}

static const DsimInvariant registry_invariants[] = {
    { "registries-converge", "at the end, registry nodes that are up and connected list the "
      "same unexpired leases", DSIM_CHECK_AT_END, check_registries_converge, NULL },
    { NULL },
};

/* ---- validation and the ops table ------------------------------------------------------------ */

static const char *registry_validate(const void *config, const DsimShape *shape, GString *why)
{
    const RegistryConfig *cfg = config;
    (void) shape;
    const struct { const char *name; DsimTime value; } positive[] = {
        { "lease_duration", cfg->lease_duration },
        { "eviction_interval", cfg->eviction_interval },
        { "expected_renew_interval", cfg->expected_renew_interval },
        { "window", cfg->window },
        { "peer_timeout", cfg->peer_timeout },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(positive); i++) {
        if (positive[i].value <= 0) {
            g_string_printf(why, "%s must be above 0", positive[i].name);
            return positive[i].name;
        }
    }
    if (cfg->renewal_threshold <= 0) {
        g_string_printf(why, "renewal_threshold must be above 0 (Eureka's default is 0.85)");
        return "renewal_threshold";
    }
    return NULL;
}

const DsimProtocol registry_protocol = {
    .name = "registry",
    .summary = "service registry in AP mode after Eureka: leases, eviction, self-preservation, "
               "peer replication, response cache",
    .params = registry_params,
    .invariants = registry_invariants,
    .config_size = sizeof(RegistryConfig),
    .state_size = sizeof(RegistryNode),
    .init = registry_init,
    .fini = registry_fini,
    .on_message = registry_on_message,
    .on_timer = registry_on_timer,
    .describe = registry_describe,
    .on_call = registry_on_call,
    .on_response = registry_on_response,
    .method_name = registry_method_name,
    .validate = registry_validate,
};
