/* gateway.h - an API gateway: one entry point in front of the services (DESIGN.md, "Service
 * stack": "a gateway (L7 routes by path/header, filters, retries/timeouts, BFF aggregation)").
 *
 * A client calls the gateway with a path (and optionally one header value); the gateway finds
 * the first route whose path prefix (and header, when the route names one) matches, as
 * Envoy's and Spring Cloud Gateway's route tables do, and forwards the request to an instance
 * of the route's service group, picked by a load balancer (lb.h). A route may name several
 * groups: the gateway then calls one instance of each at once and answers when all have
 * answered, the "backend for frontend" aggregation of Sam Newman's pattern (one call from
 * the client, a fan-out inside). Filters, in the order a request meets them: a rate limiter
 * for the whole gateway (ratelimit.h), the route match, then per upstream call a timeout cut
 * to what is left of the client's deadline (gRPC propagates deadlines the same way) and
 * retries on other instances of the same group.
 *
 * Every upstream call is made on behalf of the client's call, so spans.json shows the
 * client's request, the gateway's span and its upstream calls as one trace.
 */
#ifndef DSIM_GATEWAY_H
#define DSIM_GATEWAY_H

#include "sim/dsim.h"

#include "algorithms/ratelimit/ratelimit.h"
#include "algorithms/service/lb.h"
#include "algorithms/service/service.h"

extern const DsimProtocol gateway_protocol;
extern const DsimProtocol limiter_protocol;

/* ---- the wire ----------------------------------------------------------------------------- */

#define GATEWAY_PATH_MAX   32
#define GATEWAY_HEADER_MAX 16

/* What a client sends the gateway: the service request (key, attempt) plus an HTTP-like path
 * and one header value (e.g. "canary"); NUL-terminated strings. Method SERVICE_METHOD_REQUEST.
 * A body of a bare ServiceRequest is taken as path "/" without header. */
typedef struct {
    ServiceRequest req;
    char           path[GATEWAY_PATH_MAX];
    char           header[GATEWAY_HEADER_MAX];
} GatewayRequest;

/* The method a gateway calls on a shared limiter (limit_scope=shared): may one more request
 * pass now? OK with the limiter's decision time (DsimTime, 8 bytes), or FAIL. */
#define LIMITER_METHOD_ACQUIRE 2

#define GATEWAY_FAIL_NO_ROUTE     "no-route"
#define GATEWAY_FAIL_RATE_LIMITED "rate-limited"
#define GATEWAY_FAIL_UPSTREAM     "upstream"

/* ---- routes -------------------------------------------------------------------------------- */

#define GATEWAY_MAX_ROUTES  8
#define GATEWAY_MAX_TARGETS 4  /* groups one route fans out to */
#define GATEWAY_MAX_GROUPS  8  /* distinct groups over all routes */

typedef struct {
    char     prefix[GATEWAY_PATH_MAX];
    char     header[GATEWAY_HEADER_MAX]; /* "" matches any request */
    unsigned n_targets;
    unsigned target[GATEWAY_MAX_TARGETS]; /* indexes into the table's groups */
} GatewayRoute;

typedef struct {
    unsigned     n_routes, n_groups;
    GatewayRoute route[GATEWAY_MAX_ROUTES];
    char         group[GATEWAY_MAX_GROUPS][DSIM_PARAM_STRING_MAX / 8]; /* group ids */
} GatewayTable;

/* Parses a route table: rules separated by ';', each "PREFIX -> GROUP" or
 * "PREFIX [HEADER] -> GROUP + GROUP ...", e.g. "/users -> users; /home -> users + orders;
 * /api [canary] -> api-v2; /api -> api". False (with a sentence in @why) when malformed. */
bool gateway_parse_routes(const char *text, GatewayTable *out, GString *why);

/* The first route matching @path and @header, or -1. */
int  gateway_match(const GatewayTable *t, const char *path, const char *header);

/* ---- the protocol ------------------------------------------------------------------------------ */

/* Where the limit is enforced when a group has several gateways (distributed rate limiting):
 * each gateway alone with the whole limit (local: the group admits up to n times it), each
 * with limit / n (split: never over, but a busier gateway refuses while another idles), or
 * by asking a shared limiter service for every request (shared: exact, at the cost of a
 * round trip per request and of a dependency that can fail). */
typedef enum { LIMIT_LOCAL = 0, LIMIT_SPLIT, LIMIT_SHARED } GatewayLimitScope;
#define GATEWAY_LIMIT_SCOPES "local|split|shared"

typedef struct {
    char     routes[DSIM_PARAM_STRING_MAX];
    int      lb;            /* LbPolicy, for every group */
    DsimTime timeout;       /* per upstream call, at most */
    int64_t  retries;       /* per upstream part, on other instances of its group */
    int      limit_kind;    /* RateLimitKind; the group's limit */
    int64_t  limit;
    DsimTime limit_window;
    int      limit_scope;   /* GatewayLimitScope */
    char     limit_service[DSIM_PARAM_STRING_MAX]; /* shared: the limiter group */
    DsimTime limit_timeout; /* shared: how long to wait for the limiter */
    bool     limit_fail_open; /* shared: admit when the limiter does not answer */
} GatewayConfig;

typedef struct {
    int      kind;   /* RateLimitKind */
    int64_t  limit;
    DsimTime window;
} LimiterConfig;

typedef struct {
    RateLimiter *rl;
    GArray      *allowed; /* DsimTime: when it said yes (limiter-conforms) */
    bool         up;
} LimiterNode;

/* One client request in progress: its parts are the upstream groups of its route. */
typedef struct {
    DsimCallId call;          /* the client's call; 0: the slot is free */
    DsimTime   arrived, deadline;
    char       path[GATEWAY_PATH_MAX];      /* kept while a shared limiter decides */
    char       header[GATEWAY_HEADER_MAX];
    uint64_t   key;
    uint16_t   route, parts_left;
    uint8_t    failed_parts;
    uint8_t    attempts[GATEWAY_MAX_TARGETS];
    uint64_t   tried[GATEWAY_MAX_TARGETS]; /* bit b: backend b of the part's group was tried */
} GatewayPending;

typedef struct {
    GatewayTable table;
    DsimNodeId   first[GATEWAY_MAX_GROUPS];
    Lb           lb[GATEWAY_MAX_GROUPS];
    RateLimiter *limiter;     /* local and split scopes */
    DsimNodeId   limit_first; /* shared: the limiter group */
    unsigned     limit_n;
    GArray      *admitted;    /* DsimTime: when a limit admitted a request (global-limit-conforms) */
    GArray      *pending;     /* GatewayPending */
    uint64_t     requests, no_route, rate_limited, upstream_calls, retries, failed;
    uint64_t     limiter_unanswered;
    bool         up;
} GatewayNode;

#endif /* DSIM_GATEWAY_H */
