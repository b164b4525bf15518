/* service.h - the core of the service stack (DESIGN.md, "Service stack"): service
 * instances that serve calls (service.c), and an open-loop client that calls them through a
 * load balancer (lb.h) with the fault-tolerance patterns of resilience.h (client.c).
 *
 * A scenario puts a group of `service` instances (id "s", say: s1 .. sN) and a group of
 * `client`s whose `target` param names it. Every request is a call (sim/dsim.h, "calls"):
 * the client's dsim_call with a deadline, the instance's dsim_respond OK or FAIL, or nothing
 * and the caller's TIMEOUT. The instance models a server with `workers` threads and a bounded
 * queue in front of them (an M/G/c/K queue when arrivals are Poisson), a service-time
 * distribution, random errors, a window of degradation (slow, failing or hung), and a rate
 * limiter. The client models what a service mesh's sidecar or an RPC framework's cluster
 * layer does (Envoy, Finagle, Dubbo, resilience4j): pick an instance, time the attempt out,
 * retry elsewhere with backoff, stop calling instances whose breaker is open, cap the
 * requests in flight and the retries.
 *
 * Discovery (Eureka and Ribbon, docs/services.md): with `registry` set, an instance embeds a
 * Registrant (algorithms/registry/discovery.h) and registers itself under its service name,
 * and a client embeds a DiscoveryCache and balances over the instances it lists, rebuilding
 * its balancer when the list changes. Without it (the default), the client calls the members
 * of its `target` group, as the scenario fixes them.
 *
 * The gateway (algorithms/gateway/) calls the same instances through the same balancers.
 */
#ifndef DSIM_SERVICE_H
#define DSIM_SERVICE_H

#include "sim/dsim.h"

#include "algorithms/ratelimit/ratelimit.h"
#include "algorithms/registry/discovery.h"
#include "algorithms/resilience/resilience.h"
#include "algorithms/service/lb.h"

extern const DsimProtocol service_protocol;
extern const DsimProtocol client_protocol;

/* ---- the wire ------------------------------------------------------------------------ */

typedef enum {
    SERVICE_METHOD_REQUEST = 1, /* "request": do one unit of work */
} ServiceMethod;

/* The body of a request: 16 bytes. A response carries nothing when OK, and the reason when
 * FAIL: "overloaded", "rate-limited", "error" (SERVICE_FAIL_*), without a NUL. */
typedef struct {
    uint64_t key;     /* the request's key (what ring-hash and maglev balance on) */
    uint32_t attempt; /* 1 for the first attempt of a request, 2 for its first retry, ... */
    uint32_t pad;
} ServiceRequest;
G_STATIC_ASSERT(sizeof(ServiceRequest) == 16);

#define SERVICE_FAIL_OVERLOADED   "overloaded"
#define SERVICE_FAIL_RATE_LIMITED "rate-limited"
#define SERVICE_FAIL_ERROR        "error"

/* Prints a method: "request". */
const char *service_method_name(uint16_t method);

/* ---- the service instance (service.c) --------------------------------------------------- */

typedef enum {
    SERVICE_DEGRADE_NONE = 0,
    SERVICE_DEGRADE_SLOW,  /* service times are slow_factor times longer */
    SERVICE_DEGRADE_ERROR, /* every request fails at once ("error") */
    SERVICE_DEGRADE_HANG,  /* requests are accepted and never answered */
} ServiceDegrade;

/* (The Registrant's timers use DISCOVERY_TIMER_FIRST .. LAST, discovery.h.) */
typedef enum {
    SERVICE_TIMER_DONE     = 1, /* arg: the worker whose request is done */
    SERVICE_TIMER_REGISTER = 2, /* register_at: register with the registry now */
    SERVICE_TIMER_LEAVE    = 3, /* leave_at: cancel the registration now */
} ServiceTimerKind;

#define SERVICE_MAX_WORKERS 4096
#define SERVICE_MAX_QUEUE   100000

typedef struct {
    char     service_time[DSIM_PARAM_STRING_MAX]; /* a distribution: "exp(10ms)" */
    int64_t  workers;         /* requests served at once */
    int64_t  queue;           /* requests waiting for a worker, at most */
    double   error_rate;      /* probability that a served request fails */
    int      degrade;         /* ServiceDegrade */
    DsimTime degrade_at, degrade_until; /* [at, until): when the degradation holds */
    char     degrade_members[DSIM_PARAM_STRING_MAX]; /* "1,3": member numbers, 1-based */
    int64_t  slow_factor;
    int      limit_kind;      /* RateLimitKind */
    int64_t  limit;
    DsimTime limit_window;
    /* registering with a registry (discovery.h); registry "" = none */
    char     registry[DSIM_PARAM_STRING_MAX];     /* the registry group's id */
    char     service_name[DSIM_PARAM_STRING_MAX]; /* "" = own group's id */
    DsimTime renew_interval, registry_timeout, lease;
    DsimTime register_at, leave_at;               /* 0: at start; 0: never */
    int64_t  home;
    int      registry_mode;                       /* RegistryMode (discovery.h) */
} ServiceConfig;

/* A request that waits for a worker. */
typedef struct {
    DsimCallId call;
    DsimTime   arrived;
    DsimTime   deadline; /* the caller's, on this node's clock */
} ServiceQueued;

/* A worker. Invariant: call != 0 iff the worker is busy and a SERVICE_TIMER_DONE for it is
 * pending. */
typedef struct {
    DsimCallId call;
    DsimTime   arrived, started;
    bool       fail; /* drawn when the work started: the answer will be FAIL "error" */
} ServiceWorker;

typedef struct {
    ServiceWorker *workers;  /* cfg->workers of them */
    ServiceQueued *queue;    /* a ring of queue_cap; queue_len waiting from queue_head */
    uint32_t       queue_cap, queue_head, queue_len;
    uint32_t       busy;     /* workers with a request; < workers implies queue_len == 0 */
    uint64_t       degraded; /* bit m: member m (from 0) degrades; bit 63 covers 64 and up */
    RateLimiter   *limiter;  /* NULL when limit_kind is none */
    GArray        *allowed;  /* DsimTime: when the limiter allowed a request (limiter-conforms) */
    uint64_t       served, errors, rejected_overload, rejected_rate_limit, expired, hung;
    Registrant     reg;      /* idle unless cfg->registry is set */
    bool           up, left; /* left: cancelled its registration (leave_at) */
} ServiceNode;

/* Parses "1", "1,3", "2-4" or "all" (member numbers from 1) into a bit set of member indexes
 * (bit 0 = member 1; members past 64 share bit 63). False on a malformed list. */
bool service_parse_members(const char *text, uint64_t *set);


/* ---- the client (client.c) ---------------------------------------------------------------- */

typedef enum {
    CLIENT_MODE_FAILOVER = 0, /* Dubbo's FailoverCluster: retry on another instance */
    CLIENT_MODE_FAILFAST,     /* FailfastCluster: one attempt, its failure is the request's */
    CLIENT_MODE_FAILSAFE,     /* FailsafeCluster: one attempt, a failure is swallowed */
    CLIENT_MODE_FORKING,      /* ForkingCluster: `forks` instances at once, the first OK wins */
} ClientMode;

typedef enum {
    CLIENT_BUG_NONE = 0,
    CLIENT_BUG_IGNORE_BREAKER, /* the balancer is not told which breakers are open */
} ClientBug;

/* (The DiscoveryCache's timers use DISCOVERY_TIMER_FIRST .. LAST, discovery.h.) */
typedef enum {
    CLIENT_TIMER_ARRIVAL = 1, /* the next request arrives */
    CLIENT_TIMER_RETRY   = 2, /* arg: the request's tag; its backoff is over */
    CLIENT_TIMER_REPORT  = 3, /* the window figures */
} ClientTimerKind;

typedef struct {
    char     target[DSIM_PARAM_STRING_MAX]; /* the group to call */
    double   rate;            /* requests per second (Poisson) */
    DsimTime start, stop;     /* stop 0: until the end of the run */
    int64_t  keys;            /* request keys are uniform in 0 .. keys-1 */
    int      lb;              /* LbPolicy */
    char     weights[DSIM_PARAM_STRING_MAX]; /* weighted-round-robin: "3,1,1" */
    DsimTime timeout;         /* per attempt */
    int      mode;            /* ClientMode */
    int64_t  retries;         /* failover: retries after the first attempt, at most */
    int64_t  forks;           /* forking: attempts at once */
    DsimTime backoff_base, backoff_cap;
    int      jitter;          /* JitterKind */
    double   retry_budget;    /* ratio of retries to requests; 0: no budget */
    int64_t  retry_budget_min;
    DsimTime retry_budget_window;
    bool     breaker;
    int64_t  breaker_window, breaker_min_calls;
    double   breaker_threshold;
    DsimTime breaker_open_for;
    int64_t  breaker_probes;
    int64_t  bulkhead;        /* requests in flight at most; 0: no bulkhead */
    DsimTime report_every;    /* window of the periodic figures; 0: none */
    int      bug;             /* ClientBug */
    /* discovering the instances from a registry (discovery.h); registry "" = the static
     * target group */
    char     registry[DSIM_PARAM_STRING_MAX];     /* the registry group's id */
    char     service_name[DSIM_PARAM_STRING_MAX]; /* the service to list; "" = target */
    DsimTime fetch_interval, registry_timeout;
    int64_t  home;
    int      registry_mode;   /* RegistryMode (discovery.h) */
} ClientConfig;

typedef enum {
    CLIENT_OK = 0,
    CLIENT_FAILED,       /* the last attempt was answered FAIL */
    CLIENT_TIMED_OUT,    /* the last attempt timed out */
    CLIENT_DEGRADED,     /* failsafe: failed, and the failure swallowed */
    CLIENT_SHED_BREAKER, /* no backend's breaker let a first attempt through */
    CLIENT_SHED_BULKHEAD,
    CLIENT_BUDGET_EXHAUSTED, /* a retry was due and the budget refused it */
    CLIENT_NO_INSTANCES, /* discovery listed no instance (yet): Ribbon's "no instances available" */
    CLIENT_N_OUTCOMES,
} ClientOutcome;

/* One request, from its arrival to its last attempt's outcome. A slot is free when seq == 0;
 * it stays taken until the request is done, no attempt is in flight and no retry is due
 * (forking's losing attempts still report to the breakers after the winner). */
typedef struct {
    uint64_t seq;         /* 1, 2, ...; 0: free */
    uint64_t key;
    uint64_t tried;       /* bit b: an attempt went to backend b (renumbered with the backends) */
    uint64_t trace;       /* the id of its first attempt: the trace its other attempts join */
    DsimTime arrived;
    DsimTime last_wait;   /* the previous backoff (decorrelated jitter) */
    uint32_t gen;         /* bumped when the slot is freed: stale tags are caught */
    uint16_t attempts;    /* sent so far */
    uint16_t outstanding; /* in flight */
    uint8_t  done;
    uint8_t  retry_due;
    uint8_t  last;        /* DsimCallStatus of the last attempt that ended */
    uint8_t  pad;
} ClientRequest;

/* Backends are numbered 0 .. n-1 in ascending node id, the numbers of the Lb; every array
 * indexed by backend number (breaker, silent, the requests' tried bits) is renumbered with the
 * backends when the discovered list changes, keyed by node id. */
typedef struct {
    DsimNodeId backend[LB_MAX_BACKENDS]; /* the backends' node ids, ascending */
    uint32_t   n;         /* static: the target group's size; discovery: what the cache lists */
    Lb         lb;
    Breaker    breaker[LB_MAX_BACKENDS];
    uint32_t   silent[LB_MAX_BACKENDS]; /* attempts timed out since the backend last answered */
    DiscoveryCache cache; /* started when cfg->registry is set */
    uint64_t   fetches_seen; /* cache.fetches already acted on */
    DsimTime   list_at;      /* when the current list was fetched; -1: none yet */
    RetryBudget budget;
    Bulkhead   bulkhead;
    uint64_t   workload_rng; /* arrivals and keys: see client.c */
    GArray    *slots;        /* ClientRequest */
    GArray    *free_slots;   /* uint32_t: indexes of free slots, used last-in first-out */
    uint64_t   next_seq;
    uint64_t   outcomes[CLIENT_N_OUTCOMES];
    uint64_t   attempts, retries;
    /* breaker-respected: attempts sent to a backend whose breaker refused them; stays 0
     * unless bug=ignore-breaker */
    uint64_t   breaker_violations;
    DsimTime   first_violation;
    /* the current report window */
    uint32_t   win_requests, win_finished, win_errors, win_attempts;
    GArray    *win_calls;    /* uint32_t by DsimNodeId: attempts sent to that node */
    bool       up, stopped, discovering;
} ClientNode;

/* Parses "3,1,1" into @n weights (missing ones are 1); false on a malformed list. */
bool client_parse_weights(const char *text, unsigned n, uint32_t *weights);

const char *client_outcome_name(ClientOutcome o); /* "ok", "failed", ... */

#endif /* DSIM_SERVICE_H */
