/* registry.h - a service registry in AP mode, as Netflix Eureka builds one.
 *
 * A group of `registry` nodes holds the catalog: for each service name, the instances that
 * registered under it (a node id, a status, a lease). Instances and clients reach it only
 * through calls (sim/dsim.h, "calls"), in the four methods of Eureka's REST API:
 *
 *   REGISTER  POST /eureka/apps/{app}         an instance announces itself; starts a lease
 *   RENEW     PUT  /eureka/apps/{app}/{id}    the heartbeat that keeps the lease alive;
 *                                             FAIL "unknown" (Eureka's 404) when the registry
 *                                             does not know the instance, which then
 *                                             registers again
 *   CANCEL    DELETE /eureka/apps/{app}/{id}  a graceful shutdown ends the lease at once
 *   FETCH     GET  /eureka/apps/{app}         the instances of one service ("" = all of them)
 *
 * Eureka chooses availability over consistency (the "AP" of CAP) at every turn:
 *  - leases (Lease.java): an instance that stops renewing for lease_duration (90 s) is
 *    expired, and removed at the next eviction tick (every 60 s), so a crashed instance stays
 *    listed for up to lease + tick + the caches below;
 *  - self-preservation (PeerAwareInstanceRegistryImpl.isLeaseExpirationEnabled): when the
 *    renewals received in the last window (a minute) are not above renewal_threshold (85 %)
 *    of those expected, the node suspects its own network rather than the instances and
 *    stops expiring leases, so a partition between registry and instances cannot wipe the
 *    catalog; the price is that instances that really died linger;
 *  - peer replication (replicateToPeers): a node forwards every REGISTER, RENEW and CANCEL
 *    it serves to its peers, best effort, marked as a replication so that a peer does not
 *    forward it again (isReplication); there is no consensus, so nodes diverge under a
 *    partition and converge after it, through renewals: a peer that answers a replicated
 *    RENEW with "unknown" gets the instance registered again (PeerEurekaNode.heartbeat);
 *  - caches: a node answers FETCH from a read-only response cache refreshed every
 *    response_cache (30 s), and clients keep their own copy, refreshed every 30 s
 *    (discovery.h). Every layer adds staleness.
 *
 * The client side (the instance's registrant, the client's discovery cache) and two small
 * demo protocols, `instance` and `watcher`, are in discovery.h. docs/registry.md is the
 * guide. The CP registry is the same client modules in registry_mode cp, writing to a `raft`
 * group used as a KV store (discovery.h, "the registry's mode"); Consul's gossip health
 * checks are not built.
 */
#ifndef DSIM_REGISTRY_H
#define DSIM_REGISTRY_H

#include "sim/dsim.h"

extern const DsimProtocol registry_protocol;

/* ---- the wire --------------------------------------------------------------------------- */

#define REGISTRY_NAME_MAX 32 /* a service name, NUL-padded; at most 31 characters */

typedef enum {
    REGISTRY_REGISTER = 1,
    REGISTRY_RENEW    = 2,
    REGISTRY_CANCEL   = 3,
    REGISTRY_FETCH    = 4,
} RegistryMethod;

typedef enum {
    REGISTRY_STATUS_UP = 1, /* Eureka's InstanceStatus.UP: the only status modelled so far */
} RegistryStatus;

/* The body of REGISTER, RENEW and CANCEL: 48 bytes. An OK answer carries nothing. */
typedef struct {
    char     service[REGISTRY_NAME_MAX];
    uint32_t instance;    /* the instance's DsimNodeId */
    uint8_t  replication; /* 1: a peer forwards what it served (Eureka's isReplication header):
                             applied, never forwarded again */
    uint8_t  status;      /* REGISTER: RegistryStatus */
    uint16_t pad;
    DsimTime lease;       /* REGISTER: the lease duration asked for; 0 = lease_duration */
} RegistryInstanceReq;
G_STATIC_ASSERT(sizeof(RegistryInstanceReq) == 48);

/* The body of FETCH. */
typedef struct {
    char service[REGISTRY_NAME_MAX]; /* "" = the whole catalog */
} RegistryFetchReq;

/* One instance in a FETCH answer. */
typedef struct {
    char     service[REGISTRY_NAME_MAX];
    uint32_t instance;
    uint32_t status;
} RegistryEntry;
G_STATIC_ASSERT(sizeof(RegistryEntry) == 40);

/* The OK answer to FETCH: a header, then n entries sorted by (service, instance). */
typedef struct {
    uint64_t      version; /* the answering node's catalog version when the answer was taken:
                              it grows with every change there (versions of different
                              nodes are not comparable) */
    DsimTime      as_of;   /* when it was taken, on that node's clock (the response cache) */
    uint32_t      n;
    uint32_t      pad;
    RegistryEntry entries[];
} RegistryFetchResp;
G_STATIC_ASSERT(sizeof(RegistryFetchResp) == 24);

/* The FAIL answer to REGISTER, RENEW and CANCEL: why, and the request refused, so that a
 * peer whose replicated RENEW was refused knows which instance to register there. */
typedef struct {
    char                reason[16]; /* REGISTRY_FAIL_*, NUL-padded */
    RegistryInstanceReq req;
} RegistryFail;
G_STATIC_ASSERT(sizeof(RegistryFail) == 64);

#define REGISTRY_FAIL_UNKNOWN "unknown"     /* no lease for that instance: Eureka's 404 */
#define REGISTRY_FAIL_BAD     "bad-request" /* a malformed body */

/* "register", "renew", "cancel", "fetch"; NULL for anything else. */
const char *registry_method_name(uint16_t method);

/* Copies @name into a NUL-padded wire name; names longer than 31 bytes are cut. */
void registry_name_copy(char dst[REGISTRY_NAME_MAX], const char *name);

/* ---- the registry node ------------------------------------------------------------------ */

typedef enum {
    REGISTRY_BUG_NONE = 0,
    /* Eureka's Lease.renew() sets lastUpdateTimestamp = now + duration, and isExpired() adds
     * the duration again, so a renewed lease lasts twice as long as asked (Lease.java: "This
     * is a minor bug ... this will not be fixed"). */
    REGISTRY_BUG_RENEW_ADDS_DURATION,
} RegistryBug;

typedef enum {
    REGISTRY_TIMER_EVICT = 1, /* the eviction tick (Eureka's EvictionTask) */
    REGISTRY_TIMER_CACHE = 2, /* the response cache refresh */
} RegistryTimerKind;

typedef struct {
    DsimTime lease_duration;          /* a lease not renewed for this long expires */
    DsimTime eviction_interval;       /* period of the eviction tick */
    DsimTime expected_renew_interval; /* how often the registry expects each instance to renew */
    double   renewal_threshold;       /* self-preservation below this fraction of renewals */
    DsimTime window;                  /* renewals are counted over this window (a minute) */
    bool     self_preservation;
    bool     eviction_limit;          /* at most size - floor(size * threshold) per tick */
    bool     replicate;               /* forward REGISTER/RENEW/CANCEL to the peers */
    DsimTime response_cache;          /* FETCH reads a snapshot this old at most; 0 = live */
    DsimTime peer_timeout;            /* deadline of a replication call */
    int      bug;                     /* RegistryBug */
} RegistryConfig;

/* One lease: 64 bytes. Expired once now > last_renewal + duration (Lease.isExpired), plus
 * another duration when the last renewal was recorded by the bug. */
typedef struct {
    char       service[REGISTRY_NAME_MAX];
    DsimNodeId instance;
    uint16_t   status;        /* RegistryStatus */
    uint8_t    inflated;      /* bug renew-adds-duration: the last renewal counts double */
    uint8_t    pad;
    DsimTime   registered_at; /* the first registration this node saw (kept on re-register) */
    DsimTime   last_renewal;  /* the last REGISTER or RENEW served (Eureka's lastUpdateTimestamp) */
    DsimTime   duration;
} RegistryLease;
G_STATIC_ASSERT(sizeof(RegistryLease) == 64);

/* Per registry node. Invariants: leases is sorted by (service, instance) without duplicates,
 * and every "for each" walks it in that order; cache is NULL until the first FETCH when the
 * response cache is on, and always NULL when it is off. Renewals are counted in buckets of
 * `window` from the node's start (Eureka's MeasuredRate): bucket_count in the current one,
 * last_count in the previous one, the "renewals in the last minute". */
typedef struct {
    GArray  *leases;       /* RegistryLease */
    GArray  *cache;        /* RegistryLease: the response cache's snapshot */
    uint64_t version;      /* bumped by every change to leases */
    uint64_t cache_version;
    DsimTime cache_at;
    DsimTime started;      /* when this life began */
    DsimTime bucket_start;
    uint64_t bucket_count, last_count;
    uint8_t  preserving;   /* self-preservation holds (judged at the last eviction tick) */
    uint8_t  judged;       /* a judgement has been sampled into the self_preservation metric */
    uint8_t  up;
    uint8_t  pad;
    /* counters of this life, for tests and describe */
    uint64_t registers, renews, renews_unknown, cancels, evictions, fetches;
    uint64_t replicated_in;   /* calls received with replication = 1 */
    uint64_t replicated_out;  /* replication calls made */
    uint64_t peer_reregisters; /* REGISTERs sent to a peer that answered a RENEW "unknown" */
} RegistryNode;

/* True when @l is expired at @now by @cfg's rule (including its bug). */
bool registry_lease_expired(const RegistryLease *l, const RegistryConfig *cfg, DsimTime now);

/* The lease of (@service, @instance) in @r, or NULL. Borrowed until the next change. */
const RegistryLease *registry_find(const RegistryNode *r, const char *service, DsimNodeId instance);

/* Renewals per window the node expects (leases * window / expected_renew_interval) and the
 * threshold (floor of that times renewal_threshold): Eureka's numberOfRenewsPerMinThreshold. */
uint64_t registry_renewal_threshold(const RegistryNode *r, const RegistryConfig *cfg);

#endif /* DSIM_REGISTRY_H */
