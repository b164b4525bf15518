/* test_registry.c - the AP service registry (algorithms/registry/): leases and eviction,
 * renewals of unknown instances, self-preservation, the eviction limit, the response cache,
 * peer replication (and that a replication is never replicated again), then the client-side
 * modules (the registrant's renewals, re-registration and failover; the discovery cache's
 * refresh, failover and staleness), and small worlds for what needs a whole run: a crash seen
 * by watchers, registry nodes diverging under a partition and converging after it, and a test
 * protocol that embeds the modules beside its own timers, as the service stack will.
 *
 * Harness tests run one registry node (group "reg") with the instances as another group "i"
 * added to the harness, whose node ids follow the registry's.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "algorithms/kv/kv.h"
#include "algorithms/raft/raft.h"
#include "algorithms/registry/discovery.h"
#include "algorithms/registry/registry.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "tests/lib/harness.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static RegistryInstanceReq req_of(const char *service, DsimNodeId instance, bool replication)
{
    RegistryInstanceReq r;
    memset(&r, 0, sizeof r);
    registry_name_copy(r.service, service);
    r.instance = instance;
    r.replication = replication;
    r.status = REGISTRY_STATUS_UP;
    return r;
}

static DsimCallId serve(Harness *h, DsimNodeId from, uint16_t method, const char *service,
                        DsimNodeId instance, bool replication)
{
    RegistryInstanceReq r = req_of(service, instance, replication);
    return harness_serve(h, from, method, &r, sizeof r, harness_now(h) + DSIM_S(5), 0);
}

/* An instance @instance registers (or renews...) itself. */
static DsimCallId direct(Harness *h, uint16_t method, DsimNodeId instance)
{
    return serve(h, instance, method, "i", instance, false);
}

static const HarnessResponse *response_to(const Harness *h, DsimCallId call)
{
    for (unsigned i = 0; i < harness_n_responses(h); i++) {
        if (harness_response(h, i)->call == call)
            return harness_response(h, i);
    }
    return NULL;
}

static DsimCallStatus status_of(const Harness *h, DsimCallId call)
{
    const HarnessResponse *r = response_to(h, call);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    return r->status;
}

static unsigned n_leases(Harness *h)
{
    return ((const RegistryNode *) harness_state(h))->leases->len;
}

/* Fires the eviction tick at @t. */
static void tick(Harness *h, DsimTime t)
{
    harness_set_now(h, t);
    harness_fire(h, REGISTRY_TIMER_EVICT, 0);
}

/* A FETCH answered by the node: its instances, as node ids, into @out. */
static unsigned fetch(Harness *h, DsimNodeId from, const char *service, DsimNodeId *out,
                      RegistryFetchResp *hdr)
{
    RegistryFetchReq q;
    registry_name_copy(q.service, service);
    DsimCallId c = harness_serve(h, from, REGISTRY_FETCH, &q, sizeof q,
                                 harness_now(h) + DSIM_S(5), 0);
    const HarnessResponse *r = response_to(h, c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(r->status, DSIM_CALL_OK);
    gsize len;
    const uint8_t *data = g_bytes_get_data(r->body, &len);
    memcpy(hdr, data, sizeof *hdr);
    CU_ASSERT_EQUAL_FATAL(len, sizeof *hdr + hdr->n * sizeof(RegistryEntry));
    for (unsigned i = 0; i < hdr->n; i++) {
        RegistryEntry e;
        memcpy(&e, data + sizeof *hdr + i * sizeof e, sizeof e);
        out[i] = e.instance;
    }
    return hdr->n;
}

/* A registry node, member @self of @n, with 10 instances "i" (node ids n .. n+9). */
static Harness *new_registry(unsigned n, unsigned self, DsimNodeId *first_instance)
{
    Harness *h = harness_new(&registry_protocol, "reg", n, self, 42);
    *first_instance = harness_add_group(h, "i", 10);
    return h;
}

/* ---- leases and eviction ------------------------------------------------------------------ */

/* Lease.isExpired: "currentTimeMillis() > lastUpdateTimestamp + duration"; the eviction tick
 * (every 60 s) removes what has expired. */
static void test_a_lease_not_renewed_expires_and_goes_at_the_next_eviction_tick(void)
{
    DsimNodeId i1;
    g_autoptr(Harness) h = new_registry(1, 0, &i1);
    harness_set_param(h, "self_preservation", "false");
    harness_init(h);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->kind, REGISTRY_TIMER_EVICT);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, DSIM_S(60));

    harness_set_now(h, DSIM_S(1));
    CU_ASSERT_EQUAL(status_of(h, direct(h, REGISTRY_REGISTER, i1)), DSIM_CALL_OK);
    CU_ASSERT_EQUAL(status_of(h, direct(h, REGISTRY_REGISTER, i1 + 1)), DSIM_CALL_OK);
    CU_ASSERT_EQUAL(n_leases(h), 2);
    harness_set_now(h, DSIM_S(31));
    CU_ASSERT_EQUAL(status_of(h, direct(h, REGISTRY_RENEW, i1 + 1)), DSIM_CALL_OK);

    tick(h, DSIM_S(60));
    CU_ASSERT_EQUAL(n_leases(h), 2);
    /* i1's lease (1 s + 90 s) is not expired at 91 s exactly, and is at the tick of 120 s */
    const RegistryLease *l = registry_find(harness_state(h), "i", i1);
    CU_ASSERT_FALSE(registry_lease_expired(l, harness_config(h), DSIM_S(91)));
    CU_ASSERT_TRUE(registry_lease_expired(l, harness_config(h), DSIM_S(91) + 1));
    harness_clear(h);
    tick(h, DSIM_S(120));
    CU_ASSERT_EQUAL(n_leases(h), 1);
    CU_ASSERT_PTR_NULL(registry_find(harness_state(h), "i", i1));
    CU_ASSERT_EQUAL(harness_count_metric(h, "evicted"), 1);
    CU_ASSERT_DOUBLE_EQUAL(harness_last_metric(h, "evicted"), 119.0, 1e-9); /* silent since 1 s */
    CU_ASSERT_EQUAL(harness_last_metric(h, "registry_size"), 1);
    tick(h, DSIM_S(180));
    CU_ASSERT_EQUAL(n_leases(h), 0); /* i2, renewed at 31 s, expired at 121 s */
}

/* Eureka's renew() answers 404 for an instance it does not hold; the instance registers
 * again. A CANCEL of an unknown instance fails the same way. */
static void test_renewing_an_unknown_instance_fails_with_unknown(void)
{
    DsimNodeId i1;
    g_autoptr(Harness) h = new_registry(1, 0, &i1);
    harness_init(h);
    DsimCallId c = direct(h, REGISTRY_RENEW, i1 + 4);
    const HarnessResponse *r = response_to(h, c);
    CU_ASSERT_EQUAL_FATAL(r->status, DSIM_CALL_FAIL);
    gsize len;
    const void *data = g_bytes_get_data(r->body, &len);
    CU_ASSERT_EQUAL_FATAL(len, sizeof(RegistryFail));
    RegistryFail f;
    memcpy(&f, data, sizeof f);
    CU_ASSERT_STRING_EQUAL(f.reason, REGISTRY_FAIL_UNKNOWN);
    CU_ASSERT_EQUAL(f.req.instance, i1 + 4);
    CU_ASSERT_EQUAL(((const RegistryNode *) harness_state(h))->renews_unknown, 1);
    CU_ASSERT_EQUAL(status_of(h, direct(h, REGISTRY_CANCEL, i1 + 4)), DSIM_CALL_FAIL);

    CU_ASSERT_EQUAL(status_of(h, direct(h, REGISTRY_REGISTER, i1 + 4)), DSIM_CALL_OK);
    CU_ASSERT_EQUAL(status_of(h, direct(h, REGISTRY_RENEW, i1 + 4)), DSIM_CALL_OK);
    CU_ASSERT_EQUAL(status_of(h, direct(h, REGISTRY_CANCEL, i1 + 4)), DSIM_CALL_OK);
    CU_ASSERT_EQUAL(n_leases(h), 0);

    /* a body of the wrong size is refused, not trusted */
    CU_ASSERT_EQUAL(status_of(h, harness_serve(h, i1, REGISTRY_RENEW, "x", 1, DSIM_S(5), 0)),
                    DSIM_CALL_FAIL);
}

/* Lease.java: "due to renew() doing the 'wrong' thing and setting lastUpdateTimestamp to
 * +duration more than what it should be, the expiry will actually be 2 * duration". */
static void test_the_renew_adds_duration_bug_doubles_a_renewed_lease(void)
{
    DsimNodeId i1;
    g_autoptr(Harness) h = new_registry(1, 0, &i1);
    harness_set_param(h, "bug", "renew-adds-duration");
    harness_init(h);
    direct(h, REGISTRY_REGISTER, i1);
    const RegistryConfig *cfg = harness_config(h);
    CU_ASSERT_TRUE(registry_lease_expired(registry_find(harness_state(h), "i", i1), cfg,
                                          DSIM_S(90) + 1)); /* not renewed: 90 s */
    harness_set_now(h, DSIM_S(30));
    direct(h, REGISTRY_RENEW, i1);
    const RegistryLease *l = registry_find(harness_state(h), "i", i1);
    CU_ASSERT_FALSE(registry_lease_expired(l, cfg, DSIM_S(210)));
    CU_ASSERT_TRUE(registry_lease_expired(l, cfg, DSIM_S(210) + 1)); /* 30 + 2 * 90 */
}

/* ---- self-preservation ---------------------------------------------------------------------- */

static void renew_all(Harness *h, DsimNodeId first, unsigned n, DsimTime at)
{
    harness_set_now(h, at);
    for (unsigned k = 0; k < n; k++)
        CU_ASSERT_EQUAL(status_of(h, direct(h, REGISTRY_RENEW, first + k)), DSIM_CALL_OK);
}

/* isLeaseExpirationEnabled: leases expire only while the renewals of the last minute are above
 * floor(10 leases * 60 / 30 * 0.85) = 17. 13 renewals engage self-preservation: the leases of
 * the silent instances expire but stay (lingering_expired); 18 end it, and the one instance
 * that really died is evicted then. */
static void test_self_preservation_stops_eviction_below_the_threshold_and_resumes_above(void)
{
    DsimNodeId i1;
    g_autoptr(Harness) h = new_registry(1, 0, &i1);
    harness_set_param(h, "eviction_limit", "false");
    harness_init(h);
    for (unsigned k = 0; k < 10; k++)
        direct(h, REGISTRY_REGISTER, i1 + k);
    CU_ASSERT_EQUAL(registry_renewal_threshold(harness_state(h), harness_config(h)), 17);
    renew_all(h, i1, 10, DSIM_S(30));
    tick(h, DSIM_S(60)); /* the first window started with the node: not judged */
    CU_ASSERT_EQUAL(harness_count_metric(h, "self_preservation"), 0);
    renew_all(h, i1, 10, DSIM_S(90));
    renew_all(h, i1 + 7, 3, DSIM_S(119)); /* then 7 instances fall silent: a partition */
    tick(h, DSIM_S(120));
    CU_ASSERT_EQUAL(harness_last_metric(h, "renewals_last_window"), 13);
    CU_ASSERT_EQUAL(harness_last_metric(h, "self_preservation"), 1);
    CU_ASSERT_TRUE(((const RegistryNode *) harness_state(h))->preserving);
    renew_all(h, i1 + 7, 3, DSIM_S(150));
    renew_all(h, i1 + 7, 3, DSIM_S(179));
    tick(h, DSIM_S(180));
    renew_all(h, i1 + 7, 3, DSIM_S(210));
    renew_all(h, i1 + 7, 3, DSIM_S(239));
    harness_clear(h);
    tick(h, DSIM_S(240));
    CU_ASSERT_EQUAL(n_leases(h), 10);                /* expired at 180 s, kept */
    CU_ASSERT_EQUAL(harness_last_metric(h, "lingering_expired"), 7);
    CU_ASSERT_EQUAL(harness_count_metric(h, "self_preservation"), 0); /* sampled at changes only */
    CU_ASSERT_EQUAL(harness_count_metric(h, "evicted"), 0);

    /* the partition heals: 9 renew, one of the 7 had died meanwhile */
    renew_all(h, i1 + 1, 9, DSIM_S(250));
    renew_all(h, i1 + 1, 9, DSIM_S(280));
    harness_clear(h);
    tick(h, DSIM_S(300));
    CU_ASSERT_EQUAL(harness_last_metric(h, "renewals_last_window"), 18);
    CU_ASSERT_EQUAL(harness_last_metric(h, "self_preservation"), 0);
    CU_ASSERT_EQUAL(n_leases(h), 9);
    CU_ASSERT_PTR_NULL(registry_find(harness_state(h), "i", i1));
    CU_ASSERT_DOUBLE_EQUAL(harness_last_metric(h, "evicted"), 210.0, 1e-9); /* silent since 90 s */

    /* and without self-preservation the 7 would have gone at 180 s */
    g_autoptr(Harness) off = new_registry(1, 0, &i1);
    harness_set_param(off, "eviction_limit", "false");
    harness_set_param(off, "self_preservation", "false");
    harness_init(off);
    for (unsigned k = 0; k < 10; k++)
        direct(off, REGISTRY_REGISTER, i1 + k);
    renew_all(off, i1, 10, DSIM_S(30));
    renew_all(off, i1, 10, DSIM_S(89));
    renew_all(off, i1, 3, DSIM_S(119));
    renew_all(off, i1, 3, DSIM_S(179));
    tick(off, DSIM_S(180));
    CU_ASSERT_EQUAL(n_leases(off), 3);
    CU_ASSERT_EQUAL(harness_count_metric(off, "self_preservation"), 0);
}

/* AbstractInstanceRegistry.evict(): "evictionLimit = registrySize - registrySizeThreshold",
 * the expired leases to evict picked at random: 10 expired leases go 2 per tick. */
static void test_the_eviction_limit_keeps_a_burst_from_wiping_the_catalog(void)
{
    DsimNodeId i1;
    g_autoptr(Harness) h = new_registry(1, 0, &i1);
    harness_set_param(h, "self_preservation", "false");
    harness_init(h);
    for (unsigned k = 0; k < 10; k++)
        direct(h, REGISTRY_REGISTER, i1 + k);
    tick(h, DSIM_S(120));
    CU_ASSERT_EQUAL(n_leases(h), 8);
    CU_ASSERT_EQUAL(harness_count_metric(h, "evicted"), 2);
    CU_ASSERT_EQUAL(harness_last_metric(h, "lingering_expired"), 8);
    tick(h, DSIM_S(180)); /* 8 - floor(8 * 0.85) = 2 */
    CU_ASSERT_EQUAL(n_leases(h), 6);
    tick(h, DSIM_S(240)); /* 6 - floor(5.1) = 1 */
    CU_ASSERT_EQUAL(n_leases(h), 5);
    /* the catalog stays sorted whatever was picked */
    const GArray *leases = ((const RegistryNode *) harness_state(h))->leases;
    for (unsigned k = 1; k < leases->len; k++)
        CU_ASSERT_TRUE(g_array_index(leases, RegistryLease, k - 1).instance
                       < g_array_index(leases, RegistryLease, k).instance);
}

/* ---- fetching -------------------------------------------------------------------------------- */

static void test_a_fetch_lists_one_service_or_the_whole_catalog(void)
{
    DsimNodeId i1;
    g_autoptr(Harness) h = new_registry(1, 0, &i1);
    harness_set_param(h, "response_cache", "0s");
    harness_init(h);
    serve(h, i1 + 2, REGISTRY_REGISTER, "b", i1 + 2, false);
    serve(h, i1, REGISTRY_REGISTER, "a", i1, false);
    serve(h, i1 + 1, REGISTRY_REGISTER, "a", i1 + 1, false);
    DsimNodeId got[16];
    RegistryFetchResp hdr;
    CU_ASSERT_EQUAL(fetch(h, i1 + 5, "a", got, &hdr), 2);
    CU_ASSERT_EQUAL(got[0], i1);
    CU_ASSERT_EQUAL(got[1], i1 + 1);
    CU_ASSERT_EQUAL(hdr.version, 3);
    CU_ASSERT_EQUAL(fetch(h, i1 + 5, "", got, &hdr), 3);
    CU_ASSERT_EQUAL(got[2], i1 + 2); /* sorted by (service, instance) */
    CU_ASSERT_EQUAL(fetch(h, i1 + 5, "nobody", got, &hdr), 0);
}

/* ResponseCacheImpl: answers come from a read-only snapshot, filled on first use and
 * refreshed by its timer (30 s), so a client can read a catalog up to 30 s old. */
static void test_the_response_cache_answers_from_a_snapshot_until_its_refresh(void)
{
    DsimNodeId i1;
    g_autoptr(Harness) h = new_registry(1, 0, &i1);
    harness_init(h);
    CU_ASSERT_EQUAL(harness_timer(h, 1)->kind, REGISTRY_TIMER_CACHE);
    direct(h, REGISTRY_REGISTER, i1);
    DsimNodeId got[16];
    RegistryFetchResp hdr;
    harness_set_now(h, DSIM_S(5));
    CU_ASSERT_EQUAL(fetch(h, i1 + 9, "i", got, &hdr), 1);
    CU_ASSERT_EQUAL(hdr.as_of, DSIM_S(5));
    harness_set_now(h, DSIM_S(10));
    direct(h, REGISTRY_REGISTER, i1 + 1);
    CU_ASSERT_EQUAL(fetch(h, i1 + 9, "i", got, &hdr), 1); /* stale */
    CU_ASSERT_EQUAL(hdr.as_of, DSIM_S(5));
    harness_set_now(h, DSIM_S(30));
    harness_fire(h, REGISTRY_TIMER_CACHE, 0);
    CU_ASSERT_EQUAL(fetch(h, i1 + 9, "i", got, &hdr), 2);
    CU_ASSERT_EQUAL(hdr.as_of, DSIM_S(30));
    CU_ASSERT_EQUAL(hdr.version, 2);
}

/* ---- replication ----------------------------------------------------------------------------- */

static unsigned calls_with(const Harness *h, uint16_t method, DsimNodeId to)
{
    unsigned n = 0;
    for (unsigned i = 0; i < harness_n_calls(h); i++) {
        const HarnessCall *c = harness_call(h, i);
        n += c->method == method && c->to == to;
    }
    return n;
}

/* PeerAwareInstanceRegistryImpl.replicateToPeers: what an instance asked goes to every peer,
 * marked isReplication; "If it is a replication already, do not replicate again as this will
 * create a poison replication". */
static void test_replication_reaches_every_peer_and_is_not_replicated_again(void)
{
    DsimNodeId i1;
    g_autoptr(Harness) h = new_registry(3, 0, &i1); /* reg1 of reg1..reg3: node ids 0..2 */
    harness_init(h);
    direct(h, REGISTRY_REGISTER, i1);
    CU_ASSERT_EQUAL(harness_n_calls(h), 2);
    for (unsigned k = 0; k < harness_n_calls(h); k++) {
        const HarnessCall *c = harness_call(h, k);
        CU_ASSERT_EQUAL(c->to, k + 1); /* reg2, reg3 */
        CU_ASSERT_EQUAL(c->method, REGISTRY_REGISTER);
        CU_ASSERT_EQUAL(c->opts.timeout, DSIM_MS(200));
        RegistryInstanceReq r;
        memcpy(&r, g_bytes_get_data(c->body, NULL), sizeof r);
        CU_ASSERT_EQUAL(r.replication, 1);
        CU_ASSERT_EQUAL(r.instance, i1);
        CU_ASSERT_EQUAL(r.lease, DSIM_S(90)); /* peers hold the same lease */
    }
    direct(h, REGISTRY_RENEW, i1);
    direct(h, REGISTRY_CANCEL, i1);
    CU_ASSERT_EQUAL(calls_with(h, REGISTRY_RENEW, 1), 1);
    CU_ASSERT_EQUAL(calls_with(h, REGISTRY_CANCEL, 2), 1);
    CU_ASSERT_EQUAL(((const RegistryNode *) harness_state(h))->replicated_out, 6);

    /* what a peer forwards is applied and goes no further */
    harness_clear(h);
    CU_ASSERT_EQUAL(status_of(h, serve(h, 1, REGISTRY_REGISTER, "i", i1 + 3, true)), DSIM_CALL_OK);
    CU_ASSERT_EQUAL(status_of(h, serve(h, 1, REGISTRY_RENEW, "i", i1 + 3, true)), DSIM_CALL_OK);
    CU_ASSERT_EQUAL(n_leases(h), 1);
    CU_ASSERT_EQUAL(harness_n_calls(h), 0);
    CU_ASSERT_EQUAL(((const RegistryNode *) harness_state(h))->replicated_in, 2);
    /* replicated renewals count for self-preservation like direct ones */
    CU_ASSERT_EQUAL(((const RegistryNode *) harness_state(h))->bucket_count, 2);

    /* and with replicate=false nothing is forwarded */
    g_autoptr(Harness) solo = new_registry(3, 1, &i1);
    harness_set_param(solo, "replicate", "false");
    harness_init(solo);
    direct(solo, REGISTRY_REGISTER, i1);
    CU_ASSERT_EQUAL(harness_n_calls(solo), 0);
}

/* PeerEurekaNode.sendHeartBeat: "if (response.getStatus() == 404) ... register(info)": a
 * peer that lost the instance gets it registered again, from this node's lease. */
static void test_a_peer_that_lost_an_instance_gets_it_registered_again(void)
{
    DsimNodeId i1;
    g_autoptr(Harness) h = new_registry(3, 0, &i1);
    harness_init(h);
    RegistryInstanceReq reg = req_of("i", i1, false);
    reg.lease = DSIM_S(40);
    harness_serve(h, i1, REGISTRY_REGISTER, &reg, sizeof reg, DSIM_S(5), 0);
    harness_clear(h);
    harness_set_now(h, DSIM_S(30));
    direct(h, REGISTRY_RENEW, i1);
    CU_ASSERT_EQUAL_FATAL(harness_n_calls(h), 2);
    const HarnessCall *to_reg2 = harness_call(h, 0), *to_reg3 = harness_call(h, 1);
    harness_outcome(h, to_reg3->id, DSIM_CALL_OK, NULL, 0);
    RegistryFail f;
    memset(&f, 0, sizeof f);
    strcpy(f.reason, REGISTRY_FAIL_UNKNOWN);
    memcpy(&f.req, g_bytes_get_data(to_reg2->body, NULL), sizeof f.req);
    harness_outcome(h, to_reg2->id, DSIM_CALL_FAIL, &f, sizeof f);
    CU_ASSERT_EQUAL_FATAL(harness_n_calls(h), 3);
    const HarnessCall *again = harness_call(h, 2);
    CU_ASSERT_EQUAL(again->to, 1);
    CU_ASSERT_EQUAL(again->method, REGISTRY_REGISTER);
    RegistryInstanceReq r;
    memcpy(&r, g_bytes_get_data(again->body, NULL), sizeof r);
    CU_ASSERT_EQUAL(r.replication, 1);
    CU_ASSERT_EQUAL(r.instance, i1);
    CU_ASSERT_EQUAL(r.lease, DSIM_S(40));
    CU_ASSERT_EQUAL(((const RegistryNode *) harness_state(h))->peer_reregisters, 1);
    /* a timed-out replication is dropped: best effort */
    direct(h, REGISTRY_RENEW, i1);
    harness_outcome(h, harness_call(h, 3)->id, DSIM_CALL_TIMEOUT, NULL, 0);
    CU_ASSERT_EQUAL(harness_n_calls(h), 5);
}

/* ---- the registrant -------------------------------------------------------------------------- */

/* Instance i1 (member 0 of "i", node id 0) with registry group "reg" of 3 (node ids 3..5). */
static Harness *new_instance(void)
{
    Harness *h = harness_new(&instance_protocol, "i", 3, 0, 7);
    DsimNodeId reg1 = harness_add_group(h, "reg", 3);
    g_assert(reg1 == 3);
    return h;
}

static const HarnessCall *last_call(const Harness *h)
{
    g_assert(harness_n_calls(h) > 0);
    return harness_call(h, harness_n_calls(h) - 1);
}

static DsimTimerId tick_timer(const Harness *h)
{
    for (unsigned i = harness_n_timers(h); i-- > 0;) {
        const HarnessTimer *t = harness_timer(h, i);
        if (t->kind == DISCOVERY_TIMER_REGISTRANT && harness_timer_pending(h, t->id))
            return t->id;
    }
    return 0;
}

static void answer_unknown(Harness *h, const HarnessCall *c)
{
    RegistryFail f;
    memset(&f, 0, sizeof f);
    strcpy(f.reason, REGISTRY_FAIL_UNKNOWN);
    memcpy(&f.req, g_bytes_get_data(c->body, NULL), sizeof f.req);
    harness_outcome(h, c->id, DSIM_CALL_FAIL, &f, sizeof f);
}

/* DiscoveryClient: register() at start, renew() every 30 s, and on a 404 "REREGISTER": a
 * new register() with the same server. */
static void test_an_instance_registers_renews_and_registers_again_after_unknown(void)
{
    g_autoptr(Harness) h = new_instance();
    harness_init(h);
    const InstanceNode *s = harness_state(h);
    CU_ASSERT_EQUAL_FATAL(harness_n_calls(h), 1);
    const HarnessCall *c = last_call(h);
    CU_ASSERT_EQUAL(c->to, 3); /* home: own index 0 mod 3 -> reg1 */
    CU_ASSERT_EQUAL(c->method, REGISTRY_REGISTER);
    CU_ASSERT_TRUE(discovery_is_tag(c->opts.tag));
    RegistryInstanceReq r;
    memcpy(&r, g_bytes_get_data(c->body, NULL), sizeof r);
    CU_ASSERT_STRING_EQUAL(r.service, "i"); /* its own group's id */
    CU_ASSERT_EQUAL(r.instance, 0);
    CU_ASSERT_EQUAL(r.replication, 0);
    harness_set_now(h, DSIM_MS(10));
    harness_outcome(h, c->id, DSIM_CALL_OK, NULL, 0);
    CU_ASSERT_EQUAL(s->reg.phase, REGISTRANT_REGISTERED);
    CU_ASSERT_EQUAL(s->reg.last_ok, DSIM_MS(10));

    harness_fire_timer(h, tick_timer(h));
    CU_ASSERT_EQUAL(harness_now(h), DSIM_S(30));
    c = last_call(h);
    CU_ASSERT_EQUAL(c->method, REGISTRY_RENEW);
    CU_ASSERT_EQUAL(c->to, 3);
    harness_outcome(h, c->id, DSIM_CALL_OK, NULL, 0);
    CU_ASSERT_EQUAL(s->reg.renewals, 1);

    harness_fire_timer(h, tick_timer(h));
    answer_unknown(h, last_call(h)); /* reg1 evicted us meanwhile */
    c = last_call(h);
    CU_ASSERT_EQUAL(c->method, REGISTRY_REGISTER);
    CU_ASSERT_EQUAL(c->to, 3);
    CU_ASSERT_EQUAL(s->reg.reregistrations, 1);
    harness_outcome(h, c->id, DSIM_CALL_OK, NULL, 0);
    CU_ASSERT_EQUAL(s->reg.phase, REGISTRANT_REGISTERED);
    CU_ASSERT_EQUAL(s->reg.registrations, 2);
}

/* RetryableEurekaHttpClient: on a failure, the next server of the list, and stay there. */
static void test_the_registrant_fails_over_to_another_registry_node_and_stays(void)
{
    g_autoptr(Harness) h = new_instance();
    harness_init(h);
    const InstanceNode *s = harness_state(h);
    harness_set_now(h, DSIM_S(5));
    harness_outcome(h, last_call(h)->id, DSIM_CALL_TIMEOUT, NULL, 0);
    const HarnessCall *c = last_call(h);
    CU_ASSERT_EQUAL(c->to, 4); /* reg2, at once */
    CU_ASSERT_EQUAL(c->method, REGISTRY_REGISTER);
    harness_outcome(h, c->id, DSIM_CALL_OK, NULL, 0);
    CU_ASSERT_EQUAL(s->reg.failovers, 1);
    harness_fire_timer(h, tick_timer(h));
    CU_ASSERT_EQUAL(last_call(h)->to, 4);
    CU_ASSERT_EQUAL(last_call(h)->method, REGISTRY_RENEW);

    /* a renewal that fails over to a node without our lease registers there */
    harness_outcome(h, last_call(h)->id, DSIM_CALL_TIMEOUT, NULL, 0);
    CU_ASSERT_EQUAL(last_call(h)->to, 5);
    CU_ASSERT_EQUAL(last_call(h)->method, REGISTRY_RENEW);
    answer_unknown(h, last_call(h));
    CU_ASSERT_EQUAL(last_call(h)->to, 5);
    CU_ASSERT_EQUAL(last_call(h)->method, REGISTRY_REGISTER);
    harness_outcome(h, last_call(h)->id, DSIM_CALL_TIMEOUT, NULL, 0);
    CU_ASSERT_EQUAL(last_call(h)->to, 3);
    /* every node tried once in this round: wait for the next tick */
    unsigned calls = harness_n_calls(h);
    harness_outcome(h, last_call(h)->id, DSIM_CALL_TIMEOUT, NULL, 0);
    CU_ASSERT_EQUAL(harness_n_calls(h), calls);
    harness_fire_timer(h, tick_timer(h));
    CU_ASSERT_EQUAL(harness_n_calls(h), calls + 1);
    CU_ASSERT_EQUAL(last_call(h)->method, REGISTRY_REGISTER);
}

/* DiscoveryClient.shutdown() -> unregister(): one CANCEL, then silence. */
static void test_a_graceful_shutdown_cancels_and_goes_silent(void)
{
    g_autoptr(Harness) h = new_instance();
    harness_set_param(h, "leave_at", "100s");
    harness_init(h);
    harness_outcome(h, last_call(h)->id, DSIM_CALL_OK, NULL, 0);
    DsimTimerId renew = tick_timer(h);
    harness_set_now(h, DSIM_S(100));
    harness_fire(h, INSTANCE_TIMER_LEAVE, 0);
    CU_ASSERT_EQUAL(last_call(h)->method, REGISTRY_CANCEL);
    CU_ASSERT_EQUAL(last_call(h)->to, 3);
    CU_ASSERT_FALSE(harness_timer_pending(h, renew));
    CU_ASSERT_EQUAL(((const InstanceNode *) harness_state(h))->reg.phase, REGISTRANT_CANCELLED);
    unsigned calls = harness_n_calls(h);
    harness_outcome(h, last_call(h)->id, DSIM_CALL_OK, NULL, 0);
    harness_fire(h, DISCOVERY_TIMER_REGISTRANT, 0);
    CU_ASSERT_EQUAL(harness_n_calls(h), calls);
}

/* ---- the discovery cache --------------------------------------------------------------------- */

static Harness *new_watcher(void)
{
    Harness *h = harness_new(&watcher_protocol, "w", 2, 1, 7); /* w2: home reg2 */
    DsimNodeId reg1 = harness_add_group(h, "reg", 3);
    g_assert(reg1 == 2);
    harness_add_group(h, "i", 10); /* node ids 5 .. 14 */
    harness_set_param(h, "service", "i");
    return h;
}

static void answer_fetch(Harness *h, const HarnessCall *c, DsimTime as_of, const DsimNodeId *ids,
                         unsigned n)
{
    size_t size = sizeof(RegistryFetchResp) + n * sizeof(RegistryEntry);
    RegistryFetchResp *a = g_malloc0(size);
    a->as_of = as_of;
    a->version = 7;
    a->n = n;
    for (unsigned i = 0; i < n; i++) {
        registry_name_copy(a->entries[i].service, "i");
        a->entries[i].instance = ids[i];
        a->entries[i].status = REGISTRY_STATUS_UP;
    }
    harness_outcome(h, c->id, DSIM_CALL_OK, a, size);
    g_free(a);
}

/* The CacheRefreshThread: a fetch at start and every 30 s; a failed fetch fails over and
 * leaves the last list in place, growing older. */
static void test_the_discovery_cache_refreshes_fails_over_and_keeps_the_last_list(void)
{
    g_autoptr(Harness) h = new_watcher();
    harness_init(h);
    const WatcherNode *w = harness_state(h);
    unsigned n;
    discovery_instances(&w->cache, &n);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(discovery_age(&w->cache, 0), -1);
    const HarnessCall *c = last_call(h);
    CU_ASSERT_EQUAL(c->to, 3); /* reg2 */
    CU_ASSERT_EQUAL(c->method, REGISTRY_FETCH);
    RegistryFetchReq q;
    memcpy(&q, g_bytes_get_data(c->body, NULL), sizeof q);
    CU_ASSERT_STRING_EQUAL(q.service, "i");

    harness_set_now(h, DSIM_MS(20));
    const DsimNodeId first[] = { 9, 5, 7 };
    answer_fetch(h, c, DSIM_MS(10) - DSIM_S(25), first, 3);
    const DsimNodeId *list = discovery_instances(&w->cache, &n);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_EQUAL(list[0], 5); /* sorted */
    CU_ASSERT_EQUAL(list[2], 9);
    CU_ASSERT_EQUAL(w->cache.source, 3);
    CU_ASSERT_EQUAL(w->cache.version, 7);
    CU_ASSERT_EQUAL(harness_last_metric(h, "listed_instances"), 3);
    CU_ASSERT_DOUBLE_EQUAL(harness_last_metric(h, "response_age_seconds"), 25.01, 1e-9);

    /* the next tick's fetch times out at reg2, then fails at reg3: the list stays */
    DsimTimerId t = 0;
    for (unsigned i = harness_n_timers(h); i-- > 0 && t == 0;) {
        if (harness_timer(h, i)->kind == DISCOVERY_TIMER_CACHE)
            t = harness_timer(h, i)->id;
    }
    harness_fire_timer(h, t);
    CU_ASSERT_EQUAL(harness_now(h), DSIM_S(30));
    harness_set_now(h, DSIM_S(35));
    harness_outcome(h, last_call(h)->id, DSIM_CALL_TIMEOUT, NULL, 0);
    CU_ASSERT_EQUAL(last_call(h)->to, 4); /* reg3 */
    harness_outcome(h, last_call(h)->id, DSIM_CALL_FAIL, NULL, 0);
    CU_ASSERT_EQUAL(last_call(h)->to, 2); /* reg1 */
    discovery_instances(&w->cache, &n);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(discovery_age(&w->cache, DSIM_S(35)), DSIM_S(35) - DSIM_MS(20));
    CU_ASSERT_EQUAL(w->cache.failovers, 2);

    /* reg1 answers: i1 (node 5) is gone, i6 (node 10) is new */
    const DsimNodeId second[] = { 7, 9, 10 };
    answer_fetch(h, last_call(h), DSIM_S(30), second, 3);
    CU_ASSERT_EQUAL(w->cache.source, 2);
    CU_ASSERT_EQUAL(harness_count_metric(h, "disappeared_at_seconds"), 1);
    CU_ASSERT_EQUAL(harness_last_metric(h, "disappeared_at_seconds"), 35);
    CU_ASSERT_EQUAL(harness_count_metric(h, "appeared_at_seconds"), 1);
    CU_ASSERT_EQUAL(discovery_age(&w->cache, DSIM_S(40)), DSIM_S(5));
}

/* ---- small worlds ---------------------------------------------------------------------------- */

static DsimWorld *world(const char *groups, const char *faults, DsimScenario **out, DsimTime until)
{
    g_autofree char *xml = g_strdup_printf(
        "<scenario name='t' seed='1' duration='900s'>"
        "  <network><latency>uniform(5ms,15ms)</latency></network>"
        "  %s <faults>%s</faults>"
        "</scenario>", groups, faults);
    g_autoptr(GError) error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "registry.xml", &error);
    if (sc == NULL)
        g_error("%s", error->message);
    *out = sc;
    DsimWorld *w = dsim_world_new(sc, 1, NULL);
    dsim_world_run_until(w, until);
    return w;
}

static const void *state_of(const DsimWorld *w, const char *name)
{
    for (DsimNodeId id = 0; id < dsim_world_n_nodes(w); id++) {
        if (strcmp(dsim_world_node_name(w, id), name) == 0)
            return dsim_world_node_state(w, id);
    }
    g_assert_not_reached();
}

/* i5 crashes at 100 s, after renewing at 90 s: its lease expires at 180 s and a little, the
 * tick of 180 s just misses it, the tick of 240 s evicts it, the response cache refreshes
 * right after, and the watchers (fetching at 10 s + k * 30 s) drop it at 250 s. */
static void test_a_crashed_instance_is_evicted_and_watchers_learn_at_their_next_fetch(void)
{
    DsimScenario *sc;
    DsimWorld *w = world("<group id='reg' protocol='registry' count='1'/>"
                         "<group id='i' protocol='instance' count='10'/>"
                         "<group id='w' protocol='watcher' count='2'>"
                         "  <param name='service'>i</param><param name='start'>10s</param>"
                         "</group>",
                         "<crash at='100s' node='i5'/>", &sc, DSIM_S(245));
    const RegistryNode *r = state_of(w, "reg1");
    CU_ASSERT_EQUAL(r->leases->len, 9);
    CU_ASSERT_EQUAL(r->evictions, 1);
    unsigned n;
    discovery_instances(&((const WatcherNode *) state_of(w, "w1"))->cache, &n);
    CU_ASSERT_EQUAL(n, 10); /* not yet */
    dsim_world_run_until(w, DSIM_S(251));
    discovery_instances(&((const WatcherNode *) state_of(w, "w1"))->cache, &n);
    CU_ASSERT_EQUAL(n, 9);
    const DsimTime *times = NULL;
    const double *values = NULL;
    CU_ASSERT_EQUAL(dsim_world_metric_samples(w, "disappeared_at_seconds", &times, &values), 2);
    CU_ASSERT_TRUE(times[0] > DSIM_S(250) && times[1] < DSIM_S(251));
    CU_ASSERT_EQUAL(dsim_world_metric_samples(w, "evicted", &times, &values), 1);
    CU_ASSERT_EQUAL(times[0], DSIM_S(240));
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static bool same_catalog(const RegistryNode *a, const RegistryNode *b)
{
    if (a->leases->len != b->leases->len)
        return false;
    for (unsigned i = 0; i < a->leases->len; i++) {
        const RegistryLease *x = &g_array_index(a->leases, RegistryLease, i);
        const RegistryLease *y = &g_array_index(b->leases, RegistryLease, i);
        if (x->instance != y->instance || strcmp(x->service, y->service) != 0)
            return false;
    }
    return true;
}

/* Three peers replicate to each other; a partition keeps a late registration on one side and
 * a graceful cancel on the other; after the heal, the replicated renewals (answered 404, then
 * registered) and the eviction of the cancelled lease bring the three to the same catalog. */
static void test_registry_nodes_diverge_under_a_partition_and_converge_after(void)
{
    const char *groups =
        "<group id='reg' protocol='registry' count='3'/>"
        "<group id='i' protocol='instance' count='6'/>"
        "<group id='late' protocol='instance' count='1'>"
        "  <param name='service'>i</param><param name='start'>180s</param>"
        "  <param name='home'>1</param></group>"
        "<group id='gone' protocol='instance' count='1'>"
        "  <param name='service'>i</param><param name='leave_at'>240s</param>"
        "  <param name='home'>2</param></group>";
    const char *faults =
        "<partition at='120s' groups='reg1,i1,i4,late1 | reg2,reg3,i2,i3,i5,i6,gone1'/>"
        "<heal at='600s'/>";
    DsimScenario *sc;
    DsimWorld *w = world(groups, faults, &sc, DSIM_S(100));
    const RegistryNode *r1 = state_of(w, "reg1"), *r2 = state_of(w, "reg2"),
                       *r3 = state_of(w, "reg3");
    CU_ASSERT_EQUAL(r1->leases->len, 7); /* 6 + gone1, through replication */
    CU_ASSERT_TRUE(same_catalog(r1, r2) && same_catalog(r2, r3));

    dsim_world_run_until(w, DSIM_S(590));
    CU_ASSERT_PTR_NOT_NULL(registry_find(r1, "i", 9)); /* late1 at reg1 only */
    CU_ASSERT_PTR_NULL(registry_find(r2, "i", 9));
    CU_ASSERT_PTR_NOT_NULL(registry_find(r1, "i", 10)); /* gone1 lingers at reg1 */
    CU_ASSERT_PTR_NULL(registry_find(r3, "i", 10));
    CU_ASSERT_TRUE(r1->preserving && r2->preserving && r3->preserving);
    CU_ASSERT_TRUE(same_catalog(r2, r3));
    CU_ASSERT_FALSE(same_catalog(r1, r2));

    dsim_world_run_until(w, DSIM_S(700));
    CU_ASSERT_TRUE(same_catalog(r1, r2) && same_catalog(r2, r3));
    CU_ASSERT_EQUAL(r1->leases->len, 7); /* 6 + late1 */
    CU_ASSERT_TRUE(r1->peer_reregisters >= 2);
    CU_ASSERT_FALSE(r1->preserving);
    dsim_world_finish(w);
    CU_ASSERT_TRUE(dsim_world_passed(w));
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

/* ---- CP mode: the catalog in a Raft KV (discovery.h, "the registry's mode") ----------------- */

static KvCommand kv_of(const HarnessCall *c)
{
    KvCommand k;
    gsize size = 0;
    const void *body = g_bytes_get_data(c->body, &size);
    CU_ASSERT_EQUAL_FATAL(size, sizeof k);
    memcpy(&k, body, sizeof k);
    return k;
}

static void answer_not_leader(Harness *h, const HarnessCall *c, DsimNodeId leader)
{
    RaftCallFail f = { .leader = leader, .reason = RAFT_CALL_NOT_LEADER };
    harness_outcome(h, c->id, DSIM_CALL_FAIL, &f, sizeof f);
}

/* A CP registrant appends " <node>:<expiry ms>" to the service's key (expiry = its clock +
 * lease, 3 x renew_interval by default), follows a follower's leader hint at once, renews
 * with another append at the tick, and gives a round up after 2n calls. */
static void test_a_cp_registrant_appends_its_lease_and_follows_the_leader_hint(void)
{
    g_autoptr(Harness) h = new_instance();
    harness_set_param(h, "registry_mode", "cp");
    harness_init(h);
    InstanceNode *s = harness_state(h);
    const HarnessCall *c = last_call(h);
    CU_ASSERT_EQUAL(c->to, 3);
    CU_ASSERT_EQUAL(c->method, RAFT_METHOD_KV);
    KvCommand k = kv_of(c);
    CU_ASSERT_EQUAL(k.op, KV_OP_APPEND);
    CU_ASSERT_EQUAL(k.client, DISCOVERY_KV_CLIENT(false, 0, 0));
    CU_ASSERT_NSTRING_EQUAL(k.key, "i", 2);
    CU_ASSERT_NSTRING_EQUAL(k.value, " 0:90000", 9);

    answer_not_leader(h, c, 5);
    CU_ASSERT_EQUAL(last_call(h)->to, 5); /* the hint, not the next member */
    CU_ASSERT_EQUAL(s->reg.redirects, 1);
    CU_ASSERT_TRUE(kv_of(last_call(h)).seq > k.seq);
    harness_outcome(h, last_call(h)->id, DSIM_CALL_OK, NULL, 0);
    CU_ASSERT_EQUAL(s->reg.phase, REGISTRANT_REGISTERED);

    harness_fire_timer(h, tick_timer(h));
    CU_ASSERT_EQUAL(harness_now(h), DSIM_S(30));
    CU_ASSERT_EQUAL(last_call(h)->to, 5); /* stays with the leader */
    k = kv_of(last_call(h));
    CU_ASSERT_NSTRING_EQUAL(k.value, " 0:120000", 10);
    CU_ASSERT_EQUAL(k.seq, (uint64_t) DSIM_S(30)); /* seqs follow the clock */

    /* a minority: every call times out or is refused without a hint; 6 calls, then wait */
    unsigned calls = harness_n_calls(h);
    for (unsigned i = 0; i < 6; i++) {
        if (i % 2 == 0)
            harness_outcome(h, last_call(h)->id, DSIM_CALL_TIMEOUT, NULL, 0);
        else
            answer_not_leader(h, last_call(h), DSIM_NOBODY);
    }
    CU_ASSERT_EQUAL(harness_n_calls(h), calls + 5);
    CU_ASSERT_EQUAL(s->reg.phase, REGISTRANT_REGISTERED); /* it does not know it lapsed */

    /* a cancel appends expiry 0 */
    registrant_cancel(&s->reg, harness_ctx(h));
    CU_ASSERT_NSTRING_EQUAL(kv_of(last_call(h)).value, " 0:0", 5);
}

/* A CP cache reads the key with one GET and keeps, per node, the last entry, listing it while
 * its expiry is ahead of the reader's clock; a failed read keeps the last list. */
static void test_a_cp_cache_lists_the_last_unexpired_entry_of_each_node(void)
{
    g_autoptr(Harness) h = new_watcher();
    harness_set_param(h, "registry_mode", "cp");
    harness_init(h);
    const WatcherNode *w = harness_state(h);
    const HarnessCall *c = last_call(h);
    CU_ASSERT_EQUAL(c->to, 3);
    KvCommand k = kv_of(c);
    CU_ASSERT_EQUAL(k.op, KV_OP_GET);
    CU_ASSERT_EQUAL(k.client, DISCOVERY_KV_CLIENT(true, 0, 1));

    harness_set_now(h, DSIM_S(60));
    const char *value = " 5:100000 7:50000 9:100000 5:0 7:200000 11:59999";
    harness_outcome(h, c->id, DSIM_CALL_OK, value, strlen(value));
    unsigned n;
    const DsimNodeId *list = discovery_instances(&w->cache, &n);
    CU_ASSERT_EQUAL_FATAL(n, 2); /* 5 cancelled, 11 expired */
    CU_ASSERT_EQUAL(list[0], 7);
    CU_ASSERT_EQUAL(list[1], 9);
    CU_ASSERT_EQUAL(w->cache.version, 6);
    CU_ASSERT_EQUAL(w->cache.as_of, DSIM_S(0)); /* the call's start: it took 60 s here */

    /* no leader anywhere: the round gives up and the list stays */
    harness_fire(h, DISCOVERY_TIMER_CACHE, 0);
    for (unsigned i = 0; i < 6; i++)
        harness_outcome(h, last_call(h)->id, DSIM_CALL_TIMEOUT, NULL, 0);
    discovery_instances(&w->cache, &n);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(w->cache.failures, 6);
    /* an empty key lists nobody */
    harness_fire(h, DISCOVERY_TIMER_CACHE, 0);
    harness_outcome(h, last_call(h)->id, DSIM_CALL_OK, NULL, 0);
    discovery_instances(&w->cache, &n);
    CU_ASSERT_EQUAL(n, 0);
}

/* The partition of cp-vs-ap-raft.xml: a Raft registry refuses the writes of the instances cut
 * off with reg1 (late1 cannot register at all), so the majority's watcher drops i1 and i4 once
 * their leases run out, while the minority's watcher cannot read and keeps its old list; after
 * the heal every write goes through and both watchers list the same seven. */
static void test_a_cp_registry_refuses_the_minority_and_stays_consistent(void)
{
    const char *groups =
        "<group id='reg' protocol='raft' count='3'>"
        "  <param name='check_quorum'>true</param><param name='prevote'>true</param></group>"
        "<group id='i' protocol='instance' count='6'>"
        "  <param name='start'>1s</param><param name='registry_mode'>cp</param></group>"
        "<group id='late' protocol='instance' count='1'>"
        "  <param name='service'>i</param><param name='start'>180s</param>"
        "  <param name='home'>1</param><param name='registry_mode'>cp</param></group>"
        "<group id='w' protocol='watcher' count='2'>"
        "  <param name='service'>i</param><param name='start'>10s</param>"
        "  <param name='registry_mode'>cp</param></group>";
    const char *faults =
        "<partition at='120s' groups='reg1,i1,i4,late1,w1 | reg2,reg3,i2,i3,i5,i6,w2'/>"
        "<heal at='420s'/>";
    DsimScenario *sc;
    DsimWorld *w = world(groups, faults, &sc, DSIM_S(100));
    const WatcherNode *w1 = state_of(w, "w1"), *w2 = state_of(w, "w2");
    const InstanceNode *late = state_of(w, "late1");
    unsigned n;
    discovery_instances(&w2->cache, &n);
    CU_ASSERT_EQUAL(n, 6);

    dsim_world_run_until(w, DSIM_S(400));
    const DsimNodeId *list = discovery_instances(&w2->cache, &n);
    CU_ASSERT_EQUAL_FATAL(n, 4); /* i2, i3, i5, i6: node ids 4, 5, 7, 8 */
    CU_ASSERT_EQUAL(list[0], 4);
    CU_ASSERT_EQUAL(list[3], 8);
    CU_ASSERT_TRUE(w2->cache.fetched_at > DSIM_S(360)); /* reads go on at the majority */
    discovery_instances(&w1->cache, &n);
    CU_ASSERT_EQUAL(n, 6);                              /* w1's last list, */
    CU_ASSERT_TRUE(w1->cache.fetched_at < DSIM_S(121)); /* read before the partition */
    CU_ASSERT_EQUAL(late->reg.phase, REGISTRANT_REGISTERING);
    CU_ASSERT_EQUAL(late->reg.registrations, 0);
    CU_ASSERT_TRUE(late->reg.failures >= 6);

    dsim_world_run_until(w, DSIM_S(470));
    const DsimNodeId *l1 = discovery_instances(&w1->cache, &n);
    CU_ASSERT_EQUAL(n, 7);
    unsigned n2;
    const DsimNodeId *l2 = discovery_instances(&w2->cache, &n2);
    CU_ASSERT_TRUE(n2 == n && memcmp(l1, l2, n * sizeof l1[0]) == 0);
    CU_ASSERT_EQUAL(late->reg.phase, REGISTRANT_REGISTERED);
    dsim_world_finish(w);
    CU_ASSERT_TRUE(dsim_world_passed(w));
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

/* At load: registry_mode names which protocol the registry group must run. */
static void test_registry_mode_is_checked_against_the_group_protocol(void)
{
    const char *cases[][2] = {
        { "<group id='reg' protocol='registry' count='1'/>", "cp" },
        { "<group id='reg' protocol='raft' count='1'/>", "ap" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf(
            "<scenario name='t' seed='1' duration='10s'>%s"
            "<group id='i' protocol='instance' count='1'>"
            "<param name='registry_mode'>%s</param></group></scenario>", cases[i][0], cases[i][1]);
        g_autoptr(GError) error = NULL;
        DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "mode.xml", &error);
        CU_ASSERT_PTR_NULL(sc);
        CU_ASSERT_PTR_NOT_NULL_FATAL(error);
        CU_ASSERT_PTR_NOT_NULL(strstr(error->message, "registry_mode"));
        if (sc != NULL)
            dsim_scenario_free(sc);
    }
}

/* ---- embedding the modules ------------------------------------------------------------------- */

/* A test protocol that embeds a Registrant and two DiscoveryCaches (slots 0 and 1) beside a
 * timer of its own, as the service stack's protocols will: it registers as "combo", lists
 * "combo" every 10 s and the whole catalog every 20 s. */
typedef struct {
    Registrant     reg;
    DiscoveryCache mine, all;
    unsigned       own_timers, foreign;
} Combo;

static void combo_init(void *state, DsimCtx *ctx)
{
    Combo *c = state;
    RegistrantConfig rc = { .registry = "reg", .service = "combo", .renew_interval = DSIM_S(30),
                            .timeout = DSIM_S(5) };
    registrant_start(&c->reg, ctx, &rc);
    DiscoveryConfig dc = { .registry = "reg", .service = "combo", .fetch_interval = DSIM_S(10),
                           .timeout = DSIM_S(5), .slot = 0 };
    discovery_start(&c->mine, ctx, &dc);
    dc.service = "";
    dc.fetch_interval = DSIM_S(20);
    dc.slot = 1;
    discovery_start(&c->all, ctx, &dc);
    dsim_timer_set(ctx, DSIM_S(7), 1, 0);
}

static void combo_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    Combo *c = state;
    if (registrant_on_timer(&c->reg, ctx, kind, arg) || discovery_on_timer(&c->mine, ctx, kind, arg)
        || discovery_on_timer(&c->all, ctx, kind, arg))
        return;
    CU_ASSERT_EQUAL(kind, 1);
    c->own_timers++;
    dsim_timer_set(ctx, DSIM_S(7), 1, 0);
}

static void combo_response(void *state, DsimCtx *ctx, const DsimResponse *resp)
{
    Combo *c = state;
    if (!registrant_on_response(&c->reg, ctx, resp) && !discovery_on_response(&c->mine, ctx, resp)
        && !discovery_on_response(&c->all, ctx, resp))
        c->foreign++;
}

static void combo_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    (void) state, (void) ctx, (void) msg;
}

static const DsimProtocol combo_protocol = {
    .name = "combo", .summary = "test: embeds the discovery modules", .state_size = sizeof(Combo),
    .init = combo_init, .on_message = combo_message, .on_timer = combo_timer,
    .on_response = combo_response,
};

static void test_a_protocol_embeds_a_registrant_and_two_caches_beside_its_own_timers(void)
{
    const char *xml =
        "<scenario name='t' seed='1' duration='100s'>"
        "  <network><latency>5ms</latency></network>"
        "  <group id='reg' protocol='registry' count='2'><param name='response_cache'>0s</param>"
        "  </group>"
        "  <group id='combo' protocol='instance' count='2'/>"
        "  <group id='other' protocol='instance' count='1'/>"
        "</scenario>";
    g_autoptr(GError) error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "combo.xml", &error);
    g_assert(sc != NULL);
    g_array_index(sc->groups, DsimGroupSpec, 1).protocol = &combo_protocol;
    DsimWorld *w = dsim_world_new(sc, 1, NULL);
    dsim_world_run(w, NULL, NULL);
    for (unsigned k = 0; k < 2; k++) {
        const Combo *c = dsim_world_node_state(w, 2 + k);
        unsigned n;
        const DsimNodeId *list = discovery_instances(&c->mine, &n);
        CU_ASSERT_EQUAL(n, 2);
        CU_ASSERT_TRUE(n == 2 && list[0] == 2 && list[1] == 3);
        discovery_instances(&c->all, &n);
        CU_ASSERT_EQUAL(n, 3); /* the combos and other1 */
        CU_ASSERT_EQUAL(c->mine.fetches, 10);  /* at 0, 10, ... 90 s */
        CU_ASSERT_EQUAL(c->all.fetches, 5);
        CU_ASSERT_EQUAL(c->reg.renewals, 3);   /* at 30, 60, 90 s */
        CU_ASSERT_EQUAL(c->reg.current, k);    /* home: own index mod 2 */
        CU_ASSERT_EQUAL(c->own_timers, 14);
        CU_ASSERT_EQUAL(c->foreign, 0);
    }
    /* both registry nodes hold all three, one directly and one by replication */
    for (unsigned k = 0; k < 2; k++)
        CU_ASSERT_EQUAL(((const RegistryNode *) dsim_world_node_state(w, k))->leases->len, 3);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

CU_TestInfo registry_tests[] = {
    { "a lease not renewed expires and goes at the next eviction tick",
      test_a_lease_not_renewed_expires_and_goes_at_the_next_eviction_tick },
    { "renewing an unknown instance fails with unknown",
      test_renewing_an_unknown_instance_fails_with_unknown },
    { "the renew-adds-duration bug doubles a renewed lease",
      test_the_renew_adds_duration_bug_doubles_a_renewed_lease },
    { "self-preservation stops eviction below the threshold and resumes above",
      test_self_preservation_stops_eviction_below_the_threshold_and_resumes_above },
    { "the eviction limit keeps a burst from wiping the catalog",
      test_the_eviction_limit_keeps_a_burst_from_wiping_the_catalog },
    { "a fetch lists one service or the whole catalog",
      test_a_fetch_lists_one_service_or_the_whole_catalog },
    { "the response cache answers from a snapshot until its refresh",
      test_the_response_cache_answers_from_a_snapshot_until_its_refresh },
    { "replication reaches every peer and is not replicated again",
      test_replication_reaches_every_peer_and_is_not_replicated_again },
    { "a peer that lost an instance gets it registered again",
      test_a_peer_that_lost_an_instance_gets_it_registered_again },
    { "an instance registers, renews and registers again after unknown",
      test_an_instance_registers_renews_and_registers_again_after_unknown },
    { "the registrant fails over to another registry node and stays",
      test_the_registrant_fails_over_to_another_registry_node_and_stays },
    { "a graceful shutdown cancels and goes silent",
      test_a_graceful_shutdown_cancels_and_goes_silent },
    { "the discovery cache refreshes, fails over and keeps the last list",
      test_the_discovery_cache_refreshes_fails_over_and_keeps_the_last_list },
    { "a crashed instance is evicted and watchers learn at their next fetch",
      test_a_crashed_instance_is_evicted_and_watchers_learn_at_their_next_fetch },
    { "registry nodes diverge under a partition and converge after",
      test_registry_nodes_diverge_under_a_partition_and_converge_after },
    { "a protocol embeds a registrant and two caches beside its own timers",
      test_a_protocol_embeds_a_registrant_and_two_caches_beside_its_own_timers },
    { "a cp registrant appends its lease and follows the leader hint",
      test_a_cp_registrant_appends_its_lease_and_follows_the_leader_hint },
    { "a cp cache lists the last unexpired entry of each node",
      test_a_cp_cache_lists_the_last_unexpired_entry_of_each_node },
    { "a cp registry refuses the minority and stays consistent",
      test_a_cp_registry_refuses_the_minority_and_stays_consistent },
    { "registry_mode is checked against the group protocol",
      test_registry_mode_is_checked_against_the_group_protocol },
    CU_TEST_INFO_NULL,
};
