/* dsim.h - everything a protocol may touch: the only sim/ header an algorithm includes.
 *
 * A protocol is a const DsimProtocol (an ops table) whose handlers turn an input (a message,
 * a timer, a client request) into changes of its own state and effects recorded through the
 * DsimCtx: sends, timers, durable writes, replies, log lines, metrics. It never sees the event
 * queue, the network or another node's state; that is what keeps every algorithm small,
 * testable alone with the harness (tests/lib/harness.h), and safe to run under any fault.
 *
 * Rules every handler can rely on:
 *  - Virtual time does not move inside a handler; dsim_now() is constant during one call.
 *  - Effects take place in the order they were recorded. Events scheduled by one handler for
 *    the same instant run in that order.
 *  - A message body is copied by the kernel at dsim_send(); the received DsimMsg and its body
 *    are borrowed and valid only until the handler returns.
 *  - dsim_load() sees the durable store including this node's own earlier writes, synced or
 *    not (as a program sees its page cache). At a crash, writes not yet covered by a
 *    dsim_sync() may be lost, depending on the scenario's storage knob.
 *  - The kernel owns node state: it allocates config->state_size zeroed bytes, calls init,
 *    and on a crash calls fini and zeroes the state. on_recover (or init when absent) runs at
 *    restart. Volatile state is lost by construction.
 */
#ifndef DSIM_DSIM_H
#define DSIM_DSIM_H

#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- time -------------------------------------------------------------- */

typedef int64_t DsimTime; /* virtual nanoseconds since the run began */

#define DSIM_NS(x) ((DsimTime) (x))
#define DSIM_US(x) ((DsimTime) (x) * 1000LL)
#define DSIM_MS(x) ((DsimTime) (x) * 1000000LL)
#define DSIM_S(x)  ((DsimTime) (x) * 1000000000LL)
#define DSIM_TIME_NEVER INT64_MAX

/* ---- nodes and messages ------------------------------------------------ */

typedef uint32_t DsimNodeId; /* dense index over all nodes of the world, from 0 */
#define DSIM_NOBODY UINT32_MAX

typedef uint64_t DsimTimerId; /* 0 is never a valid timer */

typedef struct DsimCtx DsimCtx;

/* What a message carries: a protocol's own message, or one half of a call (below). */
typedef enum {
    DSIM_MSG_PLAIN = 0,
    DSIM_MSG_REQUEST,  /* a call's request: type is the method */
    DSIM_MSG_RESPONSE, /* a call's response: type is the method, status its DsimCallStatus */
} DsimMsgKind;

typedef struct {
    DsimNodeId  from;
    DsimNodeId  to;
    uint16_t    type;  /* the protocol's own message enum */
    uint8_t     kind;  /* DsimMsgKind */
    uint8_t     status; /* DSIM_MSG_RESPONSE: its DsimCallStatus */
    uint32_t    size;  /* bytes of body */
    uint64_t    id;    /* unique per send in the run (duplicates share it) */
    DsimTime    sent_at;
    const void *body;
} DsimMsg;

/* Returns the body if it is at least @size bytes, aborts otherwise (a kernel or protocol
 * bug: the kernel delivers exactly the bytes that were sent). */
const void *dsim_msg_body_checked(const DsimMsg *msg, size_t size);
#define DSIM_MSG_BODY(msg, T) ((const T *) dsim_msg_body_checked((msg), sizeof(T)))

/* ---- client requests ---------------------------------------------------- */

/* Largest client command, in bytes: a protocol may keep commands in fixed-size log entries. */
#define DSIM_CMD_MAX 128

typedef enum {
    DSIM_STATUS_OK = 0,   /* done; the result bytes carry what it returned */
    DSIM_STATUS_FAIL,     /* definitely not done (e.g. cas mismatch, rejected) */
    DSIM_STATUS_REDIRECT, /* not the leader (dsim_redirect); the result is the hint */
    DSIM_STATUS_UNKNOWN,  /* outcome unknown (timed out inside the service) */
} DsimStatus;

/* A client operation handed to a node. Commands are opaque bytes to the kernel; the KV
 * layer (algorithms/kv/) defines their encoding. Borrowed, valid during on_request only. */
typedef struct {
    uint64_t    id;     /* what dsim_reply() must name */
    uint32_t    client; /* client index within the workload */
    uint32_t    size;   /* <= DSIM_CMD_MAX */
    const void *cmd;
} DsimRequest;

/* ---- calls: a request that expects one response, by a deadline ------------
 *
 * Services (the service stack of DESIGN.md) talk in calls rather than bare messages. A call
 * is a message to any node of any group that the kernel pairs with its response:
 *  - the caller's dsim_call() sends the request and starts the call's deadline;
 *  - the callee's on_call receives it (DsimCall) and answers, in that handler or a later
 *    one, with dsim_respond() naming the call's id, exactly once;
 *  - the caller's on_response receives exactly one outcome per call: the response (OK or
 *    FAIL, with its body) when it arrives by the deadline, else TIMEOUT at the deadline. A
 *    response that arrives later is dropped (a "late" drop) and changes nothing.
 * Requests and responses are messages: the network delays, loses and partitions them like
 * any other, except duplication (a call rides a connection, which removes duplicates, as TCP
 * does). A lost request or response shows as a timeout. A crash forgets the caller's pending
 * calls (their outcomes never come) and the calls the callee had not answered. A call to a
 * node whose protocol takes no calls is answered FAIL by the kernel.
 *
 * Every call is a span of a trace (as in Zipkin and OpenTelemetry): a call made while its
 * node handles an incoming call (in on_call), or naming as parent an incoming call the node
 * still serves, joins that call's trace as its child; any other call starts a new trace. The
 * kernel records every span; reports write them as spans.json. Trace and span ids are call
 * ids: deterministic, unique in the run. */
typedef uint64_t DsimCallId; /* 0 is never a call */

typedef enum {
    DSIM_CALL_OK = 0, /* answered: done */
    DSIM_CALL_FAIL,   /* answered: refused or failed (the body may say why) */
    DSIM_CALL_TIMEOUT, /* no answer by the deadline */
} DsimCallStatus;

/* An incoming call, as on_call sees it. Borrowed: valid during the handler only. The kernel
 * carries the trace on the call, so a protocol that serves in steps keeps call->trace to
 * pass it on. */
typedef struct {
    DsimCallId  id;       /* what dsim_respond() names */
    DsimNodeId  from;     /* the caller */
    uint16_t    method;   /* the callee protocol's own operation enum */
    uint32_t    size;
    const void *body;
    DsimTime    deadline; /* when the caller gives up, on this node's clock */
    uint64_t    trace;    /* the trace it belongs to */
} DsimCall;

/* The outcome of a call, as on_response sees it. Borrowed: valid during the handler only. */
typedef struct {
    DsimCallId     id;
    uint64_t       tag;     /* as given in DsimCallOpts */
    DsimNodeId     to;      /* the callee */
    uint16_t       method;
    DsimCallStatus status;
    uint32_t       size;    /* the response body; 0 on TIMEOUT */
    const void    *body;
    DsimTime       latency; /* from dsim_call() to this outcome */
} DsimResponse;

typedef struct {
    DsimTime   timeout; /* > 0: the deadline is now + timeout */
    uint64_t   tag;     /* the caller's own, handed back in DsimResponse */
    /* An incoming call this node still serves, whose trace the new call joins as a child;
     * 0: the call being handled (in on_call, answered or not), else none. */
    DsimCallId parent;
    /* Without a parent: a trace to join (the id of an earlier call that started one, e.g.
     * a request's first attempt, so that its retries are spans of the same trace); 0 starts
     * a new trace. */
    uint64_t   trace;
} DsimCallOpts;

/* Prints a call status: "ok", "fail", "timeout". */
const char *dsim_call_status_name(DsimCallStatus status);

/* ---- parameters --------------------------------------------------------- */

typedef enum {
    DSIM_PARAM_INT,        /* int64_t; "5" */
    DSIM_PARAM_BOOL,       /* bool; "true"/"false"/"on"/"off"/"1"/"0" */
    DSIM_PARAM_TIME,       /* DsimTime; "50ms" */
    DSIM_PARAM_TIME_RANGE, /* DsimTimeRange; "150ms..300ms" or "150ms" (zero width) */
    DSIM_PARAM_PROB,       /* double in 0..1 */
    DSIM_PARAM_RATE,       /* double, events per second; "100/s" */
    DSIM_PARAM_CHOICE,     /* int: index into the '|'-separated choices, e.g. "none|a|b" */
    DSIM_PARAM_STRING,     /* char[DSIM_PARAM_STRING_MAX], NUL-terminated */
    DSIM_PARAM_DIST,       /* a random duration, "lognormal(10ms,0.5)", kept as its text in
                              char[DSIM_PARAM_STRING_MAX]; checked at load; dsim_rand_dist draws */
} DsimParamType;

#define DSIM_PARAM_STRING_MAX 256

typedef struct {
    DsimTime lo, hi; /* inclusive; lo <= hi */
} DsimTimeRange;

typedef struct {
    const char   *name;
    DsimParamType type;
    const char   *def;     /* default, written as a user would write it */
    const char   *help;    /* one line for `dsim list` */
    size_t        offset;  /* where the parsed value goes inside the protocol's config */
    const char   *choices; /* DSIM_PARAM_CHOICE only: "none|no-log-up-to-date-check" */
    int64_t       min, max; /* DSIM_PARAM_INT only: inclusive bounds when min < max */
} DsimParam;

/* ---- views: what checkers, selectors and reports may know of a node ------- */

typedef enum {
    DSIM_ROLE_NONE = 0, /* protocols without leaders */
    DSIM_ROLE_FOLLOWER,
    DSIM_ROLE_CANDIDATE,
    DSIM_ROLE_LEADER,
} DsimRole;

/* Filled by a protocol's describe op. The kernel zeroes it before each call. */
typedef struct {
    DsimRole role;
    uint64_t term;           /* term, ballot round, epoch; 0 when meaningless */
    uint64_t applied;        /* how many commands/values this node applied or delivered */
    uint64_t applied_digest; /* a hash of the applied sequence (dsim_digest_add) */
    uint64_t commit_index;   /* protocols with a log; else 0 */
    char     text[64];       /* short free-form status for reports: "leader t=3 ci=12" */
    /* The node's key-value state machine (algorithms/kv/kv.h), when it has one: lets
     * <expect agree="all"> check that every acknowledged client write was applied. */
    const struct KvStore *kv;
} DsimView;

/* Extends a running digest with one applied item; order matters. Start from 0. */
uint64_t dsim_digest_add(uint64_t digest, const void *data, size_t len);

typedef enum {
    DSIM_NODE_UP = 0,
    DSIM_NODE_CRASHED,
    DSIM_NODE_PAUSED,
} DsimNodeStatus;

/* A read-only view of one group for invariants. Arrays are indexed by member index
 * (0 .. n-1, node "<group>1" is index 0). state[i] points at the node's state, zeroed
 * while the node is crashed. Valid only during the check call. */
typedef struct {
    const char              *group;
    unsigned                 n;
    const char *const       *name;
    const void *const       *state;
    const DsimNodeStatus    *status;
    const DsimNodeId        *id;
    const void              *config;     /* the group's protocol config */
    unsigned                 last;       /* member just stepped, or n when checking at end */
    /* DSIM_CHECK_AT_END only (NULL otherwise): per member, a label of its connected
     * component among live, unpaused nodes, where a and b are connected when messages can
     * pass both ways between them right now (partitions, blocks and disconnects applied),
     * directly or through other nodes of the world. DSIM_COMPONENT_NONE for crashed nodes. */
    const uint32_t          *component;
    DsimTime                 now;
    uint64_t                 event_index;
    /* for invariants that keep history (leader append-only, once-chosen values): a pointer
     * the kernel keeps per (group, invariant), zero-initialised, freed with g_free at the end
     * of the run unless the invariant's fini frees it. */
    void                   **scratch;
} DsimGroupView;

#define DSIM_COMPONENT_NONE UINT32_MAX

typedef enum {
    DSIM_CHECK_ALWAYS, /* after every event handled by a member of the group */
    DSIM_CHECK_AT_END, /* once, when the run ends (eventual properties) */
} DsimCheckWhen;

typedef struct {
    const char   *name; /* as in <invariant name="..."/> */
    const char   *help;
    DsimCheckWhen when;
    /* Returns false and writes one sentence into @why on a violation. */
    bool (*check)(const DsimGroupView *g, GString *why);
    void (*fini)(void *scratch); /* optional: frees *scratch; NULL means g_free */
} DsimInvariant;

/* ---- what a protocol's validate op may know of the scenario ---------------- */

typedef struct {
    unsigned                   n_groups;
    const char *const         *ids;       /* each group's id, in file order */
    const unsigned            *sizes;     /* each group's node count */
    const struct DsimProtocol *const *protocols;
    unsigned                   self;      /* the group whose config is being checked */
} DsimShape;

/* ---- the ops table ------------------------------------------------------ */

typedef struct DsimProtocol {
    const char          *name;        /* as in <group protocol="..."> */
    const char          *summary;     /* one line for `dsim list` */
    const DsimParam     *params;      /* { NULL }-terminated */
    const DsimInvariant *invariants;  /* { NULL }-terminated, may be NULL */
    size_t               config_size; /* the kernel fills this much from params */
    size_t               state_size;  /* allocated per node, zeroed */
    bool                 leader_based; /* describe reports roles and terms: the kernel then
                                          keeps leadership figures (sim/leader.h) */

    void (*init)(void *state, DsimCtx *ctx);
    void (*fini)(void *state); /* free what init/handlers allocated; may be NULL */
    void (*on_message)(void *state, DsimCtx *ctx, const DsimMsg *msg);
    void (*on_timer)(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg);
    void (*on_request)(void *state, DsimCtx *ctx, const DsimRequest *req); /* may be NULL */
    void (*on_recover)(void *state, DsimCtx *ctx); /* may be NULL: init is used */
    void (*describe)(const void *state, DsimView *view);  /* may be NULL */
    void (*print_msg)(const DsimMsg *msg, GString *out);  /* "VoteReq term=2 last=5^2" */
    /* Calls (see above); both may be NULL. on_call serves a call made to this node;
     * on_response receives the outcome of a call this node made. */
    void (*on_call)(void *state, DsimCtx *ctx, const DsimCall *call);
    void (*on_response)(void *state, DsimCtx *ctx, const DsimResponse *response);
    /* Names a method for spans and the space-time diagram ("GET /users"); may be NULL. */
    const char *(*method_name)(uint16_t method);
    /* Checks what a parameter's type cannot: a member list against the group's size, a
     * target group that must exist. May be NULL. Returns NULL when @config is fine, else the
     * name of the parameter at fault, with one sentence in @why; the loader reports it as
     * FILE:LINE of that <param> (the group's line when it was left at its default). */
    const char *(*validate)(const void *config, const DsimShape *shape, GString *why);
} DsimProtocol;

/* ---- the context: facts ------------------------------------------------- */

DsimTime    dsim_now(const DsimCtx *ctx); /* this node's clock (drift applies) */
DsimNodeId  dsim_self(const DsimCtx *ctx);
unsigned    dsim_self_index(const DsimCtx *ctx); /* index within its group, from 0 */
unsigned    dsim_group_size(const DsimCtx *ctx);
DsimNodeId  dsim_group_member(const DsimCtx *ctx, unsigned i);
const char *dsim_name(const DsimCtx *ctx, DsimNodeId id); /* "r3", for logs */
const void *dsim_config(const DsimCtx *ctx);
/* Finds another group of the world by its id (a scenario's <group id="svc">): its first node
 * id and its size. False when the scenario has no such group. */
bool        dsim_group_find(const DsimCtx *ctx, const char *group_id, DsimNodeId *first,
                            unsigned *n);
uint64_t    dsim_rand(DsimCtx *ctx);                      /* this node's own stream */
uint64_t    dsim_rand_below(DsimCtx *ctx, uint64_t n);    /* uniform in [0, n), n > 0 */
DsimTime    dsim_rand_time(DsimCtx *ctx, DsimTime lo, DsimTime hi); /* uniform, inclusive */
double      dsim_rand_double(DsimCtx *ctx);               /* uniform in [0, 1) */
/* A draw from a duration distribution written as in scenarios ("exp(10ms)", a
 * DSIM_PARAM_DIST parameter), from this node's own stream. */
DsimTime    dsim_rand_dist(DsimCtx *ctx, const char *dist);
/* Copies up to @len bytes of the value stored under @key into @buf; returns false when
 * the key is absent. *out_len (if not NULL) receives the stored length. */
bool        dsim_load(DsimCtx *ctx, uint64_t key, void *buf, size_t len, size_t *out_len);
bool        dsim_logging(const DsimCtx *ctx); /* true when dsim_log output is kept */

/* ---- the context: effects ----------------------------------------------- */

/* The body (@size bytes) is copied; the caller keeps ownership of @body. */
void        dsim_send(DsimCtx *ctx, DsimNodeId to, uint16_t type, const void *body, size_t size);
/* Fires once after @delay on this node's clock; re-arm in the handler for periodic work. */
DsimTimerId dsim_timer_set(DsimCtx *ctx, DsimTime delay, unsigned kind, uint64_t arg);
void        dsim_timer_cancel(DsimCtx *ctx, DsimTimerId id); /* 0 and fired ids are ignored */
void        dsim_persist(DsimCtx *ctx, uint64_t key, const void *val, size_t len);
void        dsim_sync(DsimCtx *ctx); /* makes every earlier dsim_persist durable */
/* Answers client request @request_id: @result (@len bytes, copied; may be NULL/0) is what
 * the operation returned, e.g. the value a get read. Call it once per request, from the node
 * that received the request (possibly in a later handler, once the command is applied). */
void        dsim_reply(DsimCtx *ctx, uint64_t request_id, DsimStatus status, const void *result,
                       size_t len);
/* Answers REDIRECT: this node is not the leader; @leader is its best guess or DSIM_NOBODY. */
void        dsim_redirect(DsimCtx *ctx, uint64_t request_id, DsimNodeId leader);
/* Calls @to (any node of any group): sends @method with @body (@size bytes, copied) and
 * returns the call's id; the outcome comes to on_response, once (see "calls" above). */
DsimCallId  dsim_call(DsimCtx *ctx, DsimNodeId to, uint16_t method, const void *body, size_t size,
                      const DsimCallOpts *opts);
/* Answers incoming call @call with DSIM_CALL_OK or DSIM_CALL_FAIL and @body (copied). Once per
 * call, from the node that received it, in on_call or any later handler. */
void        dsim_respond(DsimCtx *ctx, DsimCallId call, DsimCallStatus status, const void *body,
                         size_t size);
void        dsim_log(DsimCtx *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Records a sample of a named figure (summary.json aggregates count/min/max/mean/last). */
void        dsim_metric(DsimCtx *ctx, const char *name, double value);
/* Counts one event of a named kind ("service_served"): a figure whose samples are all 1,
 * marked as a count, so that summaries, sweeps and plots show how many (and when), not a
 * mean of ones. Do not mix with dsim_metric under one name. */
void        dsim_count(DsimCtx *ctx, const char *name);

#endif /* DSIM_DSIM_H */
