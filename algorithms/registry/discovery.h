/* discovery.h - the client side of the registry (registry.h): modules a protocol embeds.
 *
 * Two helpers, after Eureka's DiscoveryClient, that live inside another protocol's state and
 * act through that protocol's DsimCtx (its dsim_call and dsim_timer_set):
 *
 *  - Registrant: what an instance does to stay listed. It registers with a registry node when
 *    started, renews every renew_interval (Eureka's HeartbeatThread, 30 s), registers again
 *    when a RENEW is answered "unknown" (Eureka's 404 -> register()), fails over to the next
 *    registry node when a call fails or times out (RetryableEurekaHttpClient: it sticks to the
 *    node that answers), and cancels on a graceful shutdown (DiscoveryClient.shutdown).
 *  - DiscoveryCache: what a client does to know the instances of a service. It fetches the
 *    list from a registry node when started and every fetch_interval (CacheRefreshThread,
 *    registryFetchIntervalSeconds, 30 s), fails over to the next node on failure or timeout,
 *    and between fetches keeps the last list it got: its age is the client's staleness. A
 *    fetch that fails leaves the list as it was (Eureka keeps the last good registry).
 *
 * Routing. The embedding protocol forwards its on_timer and on_response to the modules and
 * handles the event itself when they return false:
 *
 *     if (registrant_on_timer(&s->reg, ctx, kind, arg)) return;      (in on_timer)
 *     if (discovery_on_response(&s->cache, ctx, resp)) return;       (in on_response)
 *
 * The modules use timer kinds DISCOVERY_TIMER_FIRST .. DISCOVERY_TIMER_LAST (the embedding
 * protocol must not use them) with the module's slot as the arg, and call tags whose top 16
 * bits are DISCOVERY_TAG (the embedding protocol's own tags must not have them). The slot
 * (0 .. 255, from the config) tells apart several modules of one kind in one node.
 *
 * Registry nodes are tried in member order from a home member: by default member
 * (own member index mod n), which spreads instances and clients over the registry nodes as
 * Eureka's shuffled server list does; the module stays on the node that answers.
 *
 * State: both structs are plain data without pointers (no fini needed), zeroed means "not
 * started", and a crash of the embedding node forgets them with its state.
 *
 * Calls: the modules call with DsimCallOpts.parent = 0. From on_timer, on_response or init
 * that starts a new trace; from on_call it joins the call being served, which must not have
 * been answered yet (the kernel refuses a child of an answered call). Start and cancel them
 * outside on_call, or before answering.
 *
 * Modes: both modules talk to an AP registry (Eureka's, registry.h) or, in CP mode, to a Raft
 * group used as a KV store (below, "the registry's mode"). The rounds, failovers and timers
 * are the same; CP adds following the leader hint of a FAIL.
 *
 * Demo protocols, so that scenarios can show the registry alone: `instance` (a Registrant and
 * nothing else) and `watcher` (a DiscoveryCache that reports what it sees: metrics below).
 */
#ifndef DSIM_DISCOVERY_H
#define DSIM_DISCOVERY_H

#include "sim/dsim.h"

#include "algorithms/registry/registry.h"

extern const DsimProtocol instance_protocol;
extern const DsimProtocol watcher_protocol;

/* ---- routing ------------------------------------------------------------------------------ */

#define DISCOVERY_TIMER_FIRST      0xD150u
#define DISCOVERY_TIMER_REGISTRANT 0xD150u /* arg: slot. The renewal tick. */
#define DISCOVERY_TIMER_CACHE      0xD151u /* arg: slot. The fetch tick. */
#define DISCOVERY_TIMER_LAST       0xD15Fu

#define DISCOVERY_TAG      UINT64_C(0xD15C000000000000)
#define DISCOVERY_TAG_MASK UINT64_C(0xFFFF000000000000)

/* True when @tag belongs to one of these modules. */
static inline bool discovery_is_tag(uint64_t tag)
{
    return (tag & DISCOVERY_TAG_MASK) == DISCOVERY_TAG;
}

#define DISCOVERY_MAX_INSTANCES 64 /* instances a cache keeps (LB_MAX_BACKENDS of lb.h) */

/* ---- the registry's mode ------------------------------------------------------------------
 *
 * AP: the registry group runs `registry` (Eureka, registry.h): the methods REGISTER, RENEW,
 * CANCEL, FETCH, answered by any node from its own catalog.
 * CP: the registry group runs `raft` (raft.h), used as a KV service by call (RAFT_METHOD_KV),
 * as Consul keeps its catalog in Raft. The catalog of service S is one key, S itself (cut to
 * KV_KEY_MAX = 15 bytes), whose value is a log of registrations " <node id>:<expiry ms>", one
 * appended (KV_OP_APPEND) at each register and renew, " <node id>:0" at a cancel. A reader
 * (one linearizable GET through the leader's log) keeps, per node, the last entry, and lists
 * the nodes whose expiry is still ahead of its own clock. The expiry is the instance's clock
 * plus its lease: with clock skew between instance and reader, a lease looks longer or
 * shorter than it is. Consul avoids that with sessions whose TTL runs on the servers; dsim's
 * KV has no server-side time, so this is the caveat of the model (docs/registry.md, "CP
 * mode"). The value only grows (about 10 bytes per renewal): nothing compacts it. */
typedef enum {
    REGISTRY_MODE_AP = 0,
    REGISTRY_MODE_CP = 1,
} RegistryMode;

#define REGISTRY_MODE_CHOICES "ap|cp"

/* The KV client number of a module's commands (kv.h: de-duplication by (client, seq)): the
 * top bit keeps clear of the workload's client indexes; then the module, the slot and the
 * node id (below 2^22). */
#define DISCOVERY_KV_CLIENT(cache, slot, node) \
    (UINT32_C(0x80000000) | ((cache) ? UINT32_C(0x40000000) : 0) | (uint32_t) (slot) << 22 \
     | (uint32_t) (node))

/* ---- the registrant ------------------------------------------------------------------------- */

/* How to register. Strings are borrowed during registrant_start() only. */
typedef struct {
    const char *registry;       /* the registry group's id, e.g. "reg" */
    const char *service;        /* the service name to register under ("" = own group id) */
    DsimTime    renew_interval; /* > 0; Eureka: 30 s */
    DsimTime    timeout;        /* deadline of each call, > 0 */
    DsimTime    lease;          /* lease duration asked for; 0 = the registry's */
    unsigned    home;           /* registry member to try first, from 1; 0 = own index mod n + 1 */
    uint8_t     slot;
    int         mode;           /* RegistryMode; CP: a lease of 0 means 3 x renew_interval */
} RegistrantConfig;

typedef enum {
    REGISTRANT_IDLE = 0,    /* not started */
    REGISTRANT_REGISTERING, /* no registry node has acknowledged a REGISTER yet (or lost it) */
    REGISTRANT_REGISTERED,  /* renewing */
    REGISTRANT_CANCELLED,   /* shut down gracefully: silent from now on */
} RegistrantPhase;

/* Invariant: pending != 0 iff a call of this module is in flight (its method in
 * pending_method); at most one is. timer is the pending tick, 0 once cancelled. */
typedef struct {
    char        service[REGISTRY_NAME_MAX];
    DsimTime    renew_interval, timeout, lease;
    DsimNodeId  first;         /* the registry group: first .. first + n - 1 */
    uint32_t    n;
    uint32_t    current;       /* member index in use */
    uint32_t    tries;         /* failovers in this round; a round gives up after n */
    DsimCallId  pending;
    DsimTimerId timer;
    uint32_t    seq;           /* of calls made: the low bits of their tags */
    uint16_t    pending_method;
    uint8_t     phase;         /* RegistrantPhase */
    uint8_t     slot;
    DsimTime    last_ok;       /* when a registry node last acknowledged us; -1: never */
    uint64_t    registrations, renewals, reregistrations, failovers, failures;
    /* CP mode */
    uint8_t     mode;          /* RegistryMode */
    uint64_t    kv_seq;        /* the seq of the last KV command sent */
    uint64_t    redirects;     /* FAILs that named the leader, followed */
} Registrant;

/* Starts @r (zeroed or idle): registers now with the home registry node and renews every
 * renew_interval. Asserts that cfg->registry names a group (the embedding protocol's validate
 * should check it with discovery_validate). */
void registrant_start(Registrant *r, DsimCtx *ctx, const RegistrantConfig *cfg);

/* A graceful shutdown: sends CANCEL (once, best effort) and stops renewing. */
void registrant_cancel(Registrant *r, DsimCtx *ctx);

/* Routing: each returns true when the timer or response was the module's (and handled). */
bool registrant_on_timer(Registrant *r, DsimCtx *ctx, unsigned kind, uint64_t arg);
bool registrant_on_response(Registrant *r, DsimCtx *ctx, const DsimResponse *resp);

/* ---- the discovery cache --------------------------------------------------------------------- */

/* What to watch. Strings are borrowed during discovery_start() only. */
typedef struct {
    const char *registry;       /* the registry group's id */
    const char *service;        /* the service whose instances to list; "" = every instance */
    DsimTime    fetch_interval; /* > 0; Eureka: 30 s */
    DsimTime    timeout;        /* deadline of each FETCH, > 0 */
    unsigned    home;           /* as in RegistrantConfig */
    uint8_t     slot;
    int         mode;           /* RegistryMode; CP needs a service name */
} DiscoveryConfig;

/* Invariants: instances[0 .. n) is sorted ascending without duplicates; fetched_at < 0 until
 * the first successful fetch. pending as in Registrant. */
typedef struct {
    char        service[REGISTRY_NAME_MAX];
    DsimTime    fetch_interval, timeout;
    DsimNodeId  first;
    uint32_t    n_registry;
    uint32_t    current, tries;
    DsimCallId  pending;
    uint32_t    seq;
    uint8_t     started, slot;
    uint16_t    pad;
    DsimNodeId  instances[DISCOVERY_MAX_INSTANCES];
    uint32_t    n;
    uint32_t    truncated;     /* instances left out of the last answer (more than the max) */
    DsimTime    fetched_at;    /* when the list was last refreshed, on this node's clock */
    DsimTime    as_of;         /* when the registry node took the answer (its clock) */
    uint64_t    version;       /* the answer's catalog version */
    DsimNodeId  source;        /* the registry node that gave the list */
    uint64_t    fetches, failures, failovers;
    /* CP mode (as in Registrant); version is then the number of entries in the value */
    uint8_t     mode;
    uint64_t    kv_seq;
    uint64_t    redirects;
} DiscoveryCache;

/* Starts @c (zeroed): fetches now from the home registry node, then every fetch_interval. */
void discovery_start(DiscoveryCache *c, DsimCtx *ctx, const DiscoveryConfig *cfg);

bool discovery_on_timer(DiscoveryCache *c, DsimCtx *ctx, unsigned kind, uint64_t arg);
bool discovery_on_response(DiscoveryCache *c, DsimCtx *ctx, const DsimResponse *resp);

/* The last list (borrowed, valid until the next handler), sorted; *n = 0 before the first
 * successful fetch. */
const DsimNodeId *discovery_instances(const DiscoveryCache *c, unsigned *n);

/* How old the list is at @now: now - fetched_at, or -1 when there is none yet (or the cache
 * was never started). */
DsimTime discovery_age(const DiscoveryCache *c, DsimTime now);

/* ---- helpers for embedding protocols --------------------------------------------------------- */

/* Writes the id of the group the ctx's node belongs to (its member 1's name without the
 * trailing "1") into @buf. */
void discovery_own_group(const DsimCtx *ctx, char buf[REGISTRY_NAME_MAX]);

/* For the validate op of any protocol that embeds these modules: NULL when @registry names
 * a group of the scenario running the protocol of @mode (RegistryMode: AP `registry`, CP
 * `raft`), @home (0, or a member number from 1) is one of its members, and @name (the
 * service name, from parameter @name_param) fits the wire's REGISTRY_NAME_MAX (CP: a KV key).
 * Else the parameter at fault ("registry", "registry_mode", "home" or @name_param) with one
 * sentence in @why. */
const char *discovery_validate(const char *registry, int mode, int64_t home, const char *name,
                               const char *name_param, const DsimShape *shape, GString *why);

/* Its parts: the group (see above; @param is the parameter naming it) and, in CP mode, the
 * name as a KV key. */
const char *discovery_validate_registry(const char *group, int mode, const char *param,
                                        const DsimShape *shape, GString *why);

const char *discovery_validate_cp_name(const char *name, const char *param, GString *why);

/* ---- the demo protocols' configs and states -------------------------------------------------- */

typedef enum {
    INSTANCE_TIMER_START = 1, /* register now */
    INSTANCE_TIMER_LEAVE = 2, /* shut down gracefully now */
} InstanceTimerKind;

typedef struct {
    char     registry[DSIM_PARAM_STRING_MAX];
    char     service[DSIM_PARAM_STRING_MAX];
    DsimTime renew_interval, timeout, lease, start, leave_at;
    int64_t  home;
    int      registry_mode; /* RegistryMode */
} InstanceConfig;

typedef struct {
    Registrant reg;
    bool       up, left;
} InstanceNode;

typedef enum {
    WATCHER_TIMER_START = 1,
} WatcherTimerKind;

typedef struct {
    char     registry[DSIM_PARAM_STRING_MAX];
    char     service[DSIM_PARAM_STRING_MAX];
    DsimTime fetch_interval, timeout, start;
    int64_t  home;
    int      registry_mode; /* RegistryMode */
} WatcherConfig;

/* prev: the list at the last successful fetch (has_prev once there was one), diffed with
 * each new list to report appearances and disappearances. */
typedef struct {
    DiscoveryCache cache;
    DsimNodeId     prev[DISCOVERY_MAX_INSTANCES];
    uint32_t       n_prev;
    uint64_t       seen_fetches;
    bool           has_prev, up;
} WatcherNode;

#endif /* DSIM_DISCOVERY_H */
