/* world.c - the node runtime and the event loop.
 *
 * The loop pops the first (time, seq) event and does one thing: deliver a message, fire a
 * timer, apply a fault, evaluate a timed check, or stop. Handlers reach the world only through
 * the DsimCtx, whose effects this file applies as they are recorded (see sim/ctx.h for why that
 * is the same as applying them afterwards). After each event the trace hash absorbs it,
 * observers get records, and the checkers run.
 *
 * Dead events are skipped lazily: a timer carries (slot, generation) and is dead when its
 * slot's generation moved on (cancelled) or its node restarted since (epoch); a message to a
 * crashed node is dropped when it arrives. Events for a paused node are set aside and
 * re-scheduled, in order, when it resumes.
 *
 * Memory: node state lives in one block per group; per node the kernel keeps its PRNG
 * stream, an epoch and pointers to storage and deferred events allocated on first use.
 */
#include "sim/world.h"

#include <math.h>
#include <string.h>

#include "algorithms/kv/kv.h"
#include "sim/check.h"
#include "sim/client.h"
#include "sim/ctx.h"
#include "sim/dist.h"
#include "sim/fault.h"
#include "sim/leader.h"
#include "sim/queue.h"
#include "sim/rng.h"
#include "sim/store.h"

/* A message in flight: the header the receiver sees, then the copied body. */
/* A message in flight. A call's request or response carries a CallWire before the
 * protocol's bytes: body holds both, msg.body points past the CallWire and msg.size counts
 * only the protocol's bytes (packet_bytes() counts both). */
typedef struct {
    DsimMsg msg;
    uint8_t body[];
} Packet;

/* What a call's messages carry for the kernel (see "calls" in dsim.h). */
typedef struct {
    DsimCallId call;
    uint64_t   trace;
    DsimCallId parent;   /* the parent span, 0 for a trace's root */
    DsimTime   deadline; /* run time */
} CallWire;

/* A call its caller waits on, from dsim_call() to its outcome. */
typedef struct {
    DsimCallId id;
    uint64_t   trace;
    DsimCallId parent;
    uint64_t   tag;
    DsimNodeId caller, callee;
    uint32_t   epoch;   /* the caller's: a crash forgets the call */
    uint16_t   method;
    DsimTime   start, deadline;
    DsimTime   served, answered; /* at the callee, or -1 */
} OutCall;

/* A call a node received and has not answered yet. */
typedef struct {
    DsimCallId id;
    uint64_t   trace;
    DsimNodeId callee, caller;
    uint32_t   epoch;   /* the callee's */
    uint16_t   method;
    DsimTime   deadline;
} InCall;

typedef struct {
    const DsimGroupSpec *spec;
    const DsimProtocol  *proto;
    unsigned             n;
    DsimNodeId           first;
    size_t               state_size;
    uint8_t             *states;     /* n * state_size bytes */
    const void         **state_ptr;  /* n */
    DsimNodeStatus      *status;     /* n: the canonical status of each member */
    DsimNodeId          *ids;        /* n */
    DsimGroupView        view;       /* filled once; checks update last/now/index */
    const void          *config;     /* the scenario's, or a sweep's variant */
} Group;

/* What the kernel keeps for every node, kept small (40 bytes) because at a million nodes
 * it is 40 MB; what few nodes use (durable storage, events deferred by a pause) lives in the
 * world's side arrays, allocated on first use. */
typedef struct {
    DsimRng    rng;
    uint32_t   epoch;    /* bumped at each crash: the node's older timers are dead */
} Node;

typedef struct {
    double   rate;       /* clock rate: 1.05 runs 5 % fast */
    DsimTime base_real;  /* real time of the last rate change */
    DsimTime base_local; /* local clock at base_real */
} Drift;

typedef struct {
    uint32_t gen;   /* bumped when the timer fires or is cancelled */
    uint32_t next;  /* free-list link (index + 1, 0 = end) while free */
    uint32_t epoch; /* the owner's epoch when set: a timer dies with its incarnation */
} TimerSlot;

typedef struct {
    DsimMetricStat stat;
    GArray        *times;  /* DsimTime */
    GArray        *values; /* double */
} Metric;

typedef struct {
    const DsimObserver *obs;
    void               *self;
    const DsimTime     *window; /* [from, until] for message-level records, or NULL: always */
} ObserverEntry;

struct DsimWorld {
    const DsimScenario *sc;
    uint64_t            seed;
    DsimWorldOptions    opt;
    DsimQueue          *queue;
    DsimNet            *net;
    Group              *groups;
    unsigned            n_groups;
    Node               *nodes;
    unsigned            n_nodes;
    DsimStore         **stores;   /* n_nodes, each NULL until used; NULL until a node persists */
    GArray            **deferred; /* n_nodes: DsimEvent set aside while paused; NULL until a pause */
    Drift              *drift; /* NULL until a drift fault */
    GArray             *slots; /* TimerSlot */
    uint32_t            free_slot; /* index + 1 of the first free slot, 0 = none */
    DsimFaults         *faults;
    DsimChecks         *checks;
    DsimClients        *clients;   /* NULL without workloads */
    DsimLeaders        *leaders;   /* leadership figures */
    GArray             *observers; /* ObserverEntry */
    DsimCtx             ctx;
    DsimNodeId          current;   /* node whose handler runs, or DSIM_NOBODY */
    DsimTime            now;
    uint64_t            index;     /* events processed */
    uint64_t            hash;
    uint64_t            next_msg_id;
    DsimCallId          next_call_id;
    GHashTable         *out_calls; /* DsimCallId -> OutCall*, waiting for an outcome (lookup only) */
    GHashTable         *in_calls;  /* DsimCallId -> InCall*, received and not answered (lookup only) */
    GArray             *spans;     /* DsimSpan, in the order calls ended */
    GHashTable         *dists;     /* text -> DsimDist*: dsim_rand_dist's parsed distributions */
    DsimCallId          serving;   /* the call whose on_call runs now, or 0 */
    uint64_t            serving_trace; /* its trace */
    bool                started, stopped, finished;
    bool                processing; /* inside process(): records belong to event index+1 */
    unsigned            n_unwindowed; /* observers that want every message-level record */
    unsigned            n_not_up;   /* nodes crashed or paused now */
    DsimNodeId          last_node;  /* the node that handled the last processed event */
    DsimCounters        counters;
    GHashTable         *metric_index; /* name -> Metric* (lookup only) */
    GPtrArray          *metrics;      /* Metric*, in first-use order */
    GPtrArray          *metrics_sorted; /* built on demand */
    uint64_t            metric_samples;
    Packet             *free_packets; /* recycled small packets (see alloc_packet) */
    GPtrArray          *slabs;        /* the blocks small packets are carved from */
};

#define METRIC_SAMPLE_LIMIT 10000000u

static const DsimCtxOps world_ctx_ops;

/* ---- the trace hash ---------------------------------------------------- */

/* A 64-bit multiply-xorshift absorb, word by word: cheap, order-sensitive, portable. */
static inline uint64_t absorb(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 31);
}

static uint64_t absorb_bytes(uint64_t h, const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        h = absorb(h, GUINT64_FROM_LE(v));
    }
    uint64_t tail = 0;
    for (size_t k = 0; i < n; i++, k++)
        tail |= (uint64_t) p[i] << (8 * k);
    return absorb(h, tail ^ ((uint64_t) n << 56));
}

/* ---- records to observers ---------------------------------------------- */

static inline bool observed(const DsimWorld *w) { return w->observers->len > 0; }

static inline bool in_window(const ObserverEntry *e, DsimTime now)
{
    return e->window == NULL || (now >= e->window[0] && now <= e->window[1]);
}

/* Message-level records (send, deliver, drop, timer) are the bulk of all records: they are
 * built only when some observer wants them now (an observer without a window always does). */
static inline bool msg_observed(const DsimWorld *w)
{
    if (w->n_unwindowed > 0)
        return true;
    for (unsigned i = 0; i < w->observers->len; i++) {
        if (in_window(&g_array_index(w->observers, ObserverEntry, i), w->now))
            return true;
    }
    return false;
}

static inline bool msg_kind(DsimRecordKind k)
{
    return k == DSIM_REC_SEND || k == DSIM_REC_DELIVER || k == DSIM_REC_DROP || k == DSIM_REC_TIMER;
}

/* Events are numbered from 1 in the order they are processed; a record carries the number of
 * the event being processed (0 for what nodes do at start, before any event). */
static void emit(DsimWorld *w, DsimRecord *rec)
{
    rec->index = w->processing ? w->index + 1 : w->index;
    rec->time = w->now;
    bool windowed = msg_kind(rec->kind);
    for (unsigned i = 0; i < w->observers->len; i++) {
        ObserverEntry *e = &g_array_index(w->observers, ObserverEntry, i);
        if (!windowed || in_window(e, w->now))
            e->obs->on_record(e->self, w, rec);
    }
}

static void emit_simple(DsimWorld *w, DsimRecordKind kind, DsimNodeId node, const char *text)
{
    if (!observed(w))
        return;
    DsimRecord rec = { .kind = kind, .node = node, .text = text };
    emit(w, &rec);
}

/* ---- clocks ------------------------------------------------------------- */

static DsimTime local_now(const DsimWorld *w, DsimNodeId id)
{
    if (w->drift == NULL || w->drift[id].rate == 1.0)
        return w->now + (w->drift != NULL ? w->drift[id].base_local - w->drift[id].base_real : 0);
    const Drift *d = &w->drift[id];
    return d->base_local + (DsimTime) llround((double) (w->now - d->base_real) * d->rate);
}

/* A timer of @delay on node @id's clock fires after delay / rate of real time. */
static DsimTime real_delay(const DsimWorld *w, DsimNodeId id, DsimTime delay)
{
    if (w->drift == NULL || w->drift[id].rate == 1.0)
        return delay;
    return (DsimTime) ceil((double) delay / w->drift[id].rate);
}

/* ---- handlers ------------------------------------------------------------ */

/* The group of a node, found from the groups' id ranges (a scenario has a handful of
 * groups) rather than from a per-node field: at a million nodes, reading nodes[id] is a
 * cache miss on every event, and the ranges stay in cache. */
static inline unsigned group_index(const DsimWorld *w, DsimNodeId id)
{
    unsigned gi = 0;
    while (gi + 1 < w->n_groups && id >= w->groups[gi + 1].first)
        gi++;
    return gi;
}

static inline Group *group_of(DsimWorld *w, DsimNodeId id)
{
    return &w->groups[group_index(w, id)];
}

static inline void *state_of(DsimWorld *w, DsimNodeId id)
{
    Group *g = group_of(w, id);
    return g->states + (size_t) (id - g->first) * g->state_size;
}

static DsimCtx *enter(DsimWorld *w, DsimNodeId id)
{
    Group *g = group_of(w, id);
    DsimCtx *ctx = &w->ctx;
    ctx->now = local_now(w, id);
    ctx->self = id;
    ctx->self_index = id - g->first;
    ctx->group_size = g->n;
    ctx->group_first = g->first;
    ctx->config = g->config;
    ctx->rng = &w->nodes[id].rng;
    w->current = id;
    return ctx;
}

static void leave(DsimWorld *w) { w->current = DSIM_NOBODY; }

/* Packets with small bodies come from slabs of PACKET_SLAB packets and are recycled through
 * a free list threaded through their body pointer, so a message costs no malloc/free in
 * steady state and the end of a run frees a few slabs rather than a million packets.
 * Larger bodies use the heap. */
#define PACKET_SMALL 32
#define PACKET_SLOT  (sizeof(Packet) + PACKET_SMALL)
#define PACKET_SLAB  4096

static inline bool is_call(const DsimMsg *msg) { return msg->kind != DSIM_MSG_PLAIN; }

/* Bytes the packet carries: the protocol's and, for a call, the CallWire. */
static inline size_t packet_bytes(const Packet *p)
{
    return p->msg.size + (is_call(&p->msg) ? sizeof(CallWire) : 0);
}

static inline const CallWire *call_wire(const Packet *p) { return (const CallWire *) (const void *) p->body; }

static Packet *alloc_packet(DsimWorld *w, size_t size)
{
    if (size > PACKET_SMALL)
        return g_malloc(sizeof(Packet) + size);
    Packet *p = w->free_packets;
    if (p == NULL) {
        uint8_t *slab = g_malloc(PACKET_SLOT * PACKET_SLAB);
        g_ptr_array_add(w->slabs, slab);
        /* thread the new slab onto the free list, first slot first */
        for (size_t i = PACKET_SLAB; i-- > 0;) {
            Packet *q = (Packet *) (void *) (slab + i * PACKET_SLOT);
            q->msg.body = w->free_packets;
            w->free_packets = q;
        }
        p = w->free_packets;
    }
    w->free_packets = (Packet *) p->msg.body;
    return p;
}

static void free_packet(DsimWorld *w, Packet *p)
{
    if (packet_bytes(p) <= PACKET_SMALL) {
        p->msg.body = w->free_packets;
        w->free_packets = p;
    } else {
        g_free(p);
    }
}

/* ---- effects (DsimCtxOps) ---------------------------------------------- */

static void schedule_delivery(DsimWorld *w, Packet *p, DsimTime delay)
{
    DsimEvent ev = { .time = w->now + delay, .kind = DSIM_EV_DELIVER, .node = p->msg.to, .ptr = p };
    dsim_queue_push(w->queue, &ev);
}

/* Sends @size bytes of @body from @from to @to as @hdr says (type, kind, status); a call's
 * messages carry @wire before the body and are never duplicated (see dsim.h). */
static void transmit(DsimWorld *w, DsimNodeId from, DsimNodeId to, DsimMsg hdr, const CallWire *wire,
                     const void *body, size_t size)
{
    g_assert(to < w->n_nodes);
    g_assert(size <= UINT32_MAX - sizeof(CallWire));
    size_t head = wire != NULL ? sizeof *wire : 0;
    DsimNetFate fate;
    dsim_net_fate(w->net, from, to, w->now, (uint32_t) (head + size), &fate);

    hdr.from = from;
    hdr.to = to;
    hdr.size = (uint32_t) size;
    hdr.id = ++w->next_msg_id;
    hdr.sent_at = w->now;
    hdr.body = NULL;
    w->counters.sent++;
    w->counters.bytes_sent += head + size;
    if (fate.copies == 0) {
        w->counters.dropped[fate.drop]++;
        if (msg_observed(w)) {
            hdr.body = body;
            DsimRecord rec = { .kind = DSIM_REC_DROP, .node = from, .msg = &hdr, .drop = fate.drop,
                               .at_send = true };
            emit(w, &rec);
        }
        return;
    }
    if (wire != NULL)
        fate.copies = 1; /* a connection removes duplicates */
    if (fate.copies > 1)
        w->counters.duplicated++;
    for (unsigned i = 0; i < fate.copies; i++) {
        Packet *p = alloc_packet(w, head + size);
        p->msg = hdr;
        if (head > 0)
            memcpy(p->body, wire, head);
        if (size > 0)
            memcpy(p->body + head, body, size);
        p->msg.body = p->body + head;
        schedule_delivery(w, p, fate.delay[i]);
        if (msg_observed(w)) {
            DsimRecord rec = { .kind = DSIM_REC_SEND, .node = from, .msg = &p->msg,
                               .time_arrive = w->now + fate.delay[i] };
            emit(w, &rec);
        }
    }
}

static void ctx_send(DsimCtx *ctx, DsimNodeId to, uint16_t type, const void *body, size_t size)
{
    DsimMsg hdr = { .type = type, .kind = DSIM_MSG_PLAIN };
    transmit(ctx->impl, ctx->self, to, hdr, NULL, body, size);
}

static DsimTimerId ctx_timer_set(DsimCtx *ctx, DsimTime delay, unsigned kind, uint64_t arg)
{
    DsimWorld *w = ctx->impl;
    g_assert(kind <= UINT16_MAX);
    uint32_t slot;
    if (w->free_slot != 0) {
        slot = w->free_slot - 1;
        w->free_slot = g_array_index(w->slots, TimerSlot, slot).next;
    } else {
        TimerSlot fresh = { .gen = 1, .next = 0 };
        g_array_append_val(w->slots, fresh);
        slot = w->slots->len - 1;
    }
    TimerSlot *s = &g_array_index(w->slots, TimerSlot, slot);
    s->next = 0;
    s->epoch = w->nodes[ctx->self].epoch;
    DsimEvent ev = {
        .time = w->now + real_delay(w, ctx->self, delay), .kind = DSIM_EV_TIMER,
        .node = ctx->self, .u64 = arg, .u32a = slot, .u32b = s->gen, .u16 = (uint16_t) kind,
    };
    dsim_queue_push(w->queue, &ev);
    return ((uint64_t) s->gen << 32) | (slot + 1u);
}

static void ctx_timer_cancel(DsimCtx *ctx, DsimTimerId id)
{
    DsimWorld *w = ctx->impl;
    uint32_t slot = (uint32_t) (id & 0xffffffffu) - 1u;
    uint32_t gen = (uint32_t) (id >> 32);
    if (slot >= w->slots->len)
        return;
    TimerSlot *s = &g_array_index(w->slots, TimerSlot, slot);
    if (s->gen == gen && s->next == 0) {
        s->gen++; /* the pending event no longer matches: it will be skipped */
        w->counters.timers_cancelled++;
    }
}

/* The node's durable store, or NULL when it never wrote one. */
static DsimStore *store_if_any(const DsimWorld *w, DsimNodeId id)
{
    return w->stores != NULL ? w->stores[id] : NULL;
}

static DsimStore *store_of(DsimWorld *w, DsimNodeId id)
{
    if (w->stores == NULL)
        w->stores = g_new0(DsimStore *, w->n_nodes);
    if (w->stores[id] == NULL)
        w->stores[id] = dsim_store_new();
    return w->stores[id];
}

/* The events set aside while @id is paused, or NULL when there are none. */
static GArray *deferred_if_any(const DsimWorld *w, DsimNodeId id)
{
    return w->deferred != NULL ? w->deferred[id] : NULL;
}

static void ctx_persist(DsimCtx *ctx, uint64_t key, const void *val, size_t len)
{
    DsimWorld *w = ctx->impl;
    w->counters.persists++;
    dsim_store_put(store_of(w, ctx->self), key, val, len);
}

static void ctx_sync(DsimCtx *ctx)
{
    DsimWorld *w = ctx->impl;
    w->counters.syncs++;
    dsim_store_sync(store_of(w, ctx->self));
}

static bool ctx_load(DsimCtx *ctx, uint64_t key, void *buf, size_t len, size_t *out_len)
{
    DsimWorld *w = ctx->impl;
    const DsimStore *st = store_if_any(w, ctx->self);
    if (st == NULL)
        return false;
    return dsim_store_get(st, key, buf, len, out_len);
}

static const char *status_name(DsimStatus s)
{
    switch (s) {
    case DSIM_STATUS_OK: return "ok";
    case DSIM_STATUS_FAIL: return "fail";
    case DSIM_STATUS_REDIRECT: return "redirect";
    case DSIM_STATUS_UNKNOWN: return "unknown";
    }
    return "?";
}

static void ctx_reply(DsimCtx *ctx, uint64_t request_id, DsimStatus status, const void *result,
                      size_t len)
{
    DsimWorld *w = ctx->impl;
    g_assert(w->clients != NULL); /* only requests get replies */
    w->hash = absorb(absorb(w->hash, request_id), status);
    if (observed(w)) {
        g_autofree char *text = g_strdup_printf("reply request=%" PRIu64 " status=%s (%zu bytes)",
                                                request_id, status_name(status), len);
        emit_simple(w, DSIM_REC_REPLY, ctx->self, text);
    }
    dsim_clients_on_reply(w->clients, w, ctx->self, request_id, status, result, len);
}

static void ctx_log(DsimCtx *ctx, const char *line)
{
    emit_simple(ctx->impl, DSIM_REC_LOG, ctx->self, line);
}

static Metric *metric_get(DsimWorld *w, const char *name)
{
    Metric *m = g_hash_table_lookup(w->metric_index, name);
    if (m == NULL) {
        m = g_new0(Metric, 1);
        m->stat.name = g_strdup(name);
        m->stat.min = INFINITY;
        m->stat.max = -INFINITY;
        m->times = g_array_new(FALSE, FALSE, sizeof(DsimTime));
        m->values = g_array_new(FALSE, FALSE, sizeof(double));
        g_hash_table_insert(w->metric_index, (char *) m->stat.name, m);
        g_ptr_array_add(w->metrics, m);
        g_clear_pointer(&w->metrics_sorted, g_ptr_array_unref);
    }
    return m;
}

static void ctx_metric(DsimCtx *ctx, const char *name, double value)
{
    DsimWorld *w = ctx->impl;
    Metric *m = metric_get(w, name);
    m->stat.count++;
    m->stat.sum += value;
    m->stat.last = value;
    if (value < m->stat.min)
        m->stat.min = value;
    if (value > m->stat.max)
        m->stat.max = value;
    if (w->metric_samples < METRIC_SAMPLE_LIMIT) {
        w->metric_samples++;
        g_array_append_val(m->times, w->now);
        g_array_append_val(m->values, value);
    }
}


static void ctx_count(DsimCtx *ctx, const char *name)
{
    ctx_metric(ctx, name, 1);
    metric_get(ctx->impl, name)->stat.counter = true;
}

/* ---- calls (see "calls" in dsim.h) ------------------------------------------ */

static gboolean call_id_equal(gconstpointer a, gconstpointer b)
{
    return *(const DsimCallId *) a == *(const DsimCallId *) b;
}

static guint call_id_hash(gconstpointer a)
{
    DsimCallId id = *(const DsimCallId *) a;
    return (guint) (id ^ (id >> 32));
}

/* The call @id when its caller still waits for it in the same life, else NULL. */
static OutCall *awaited(DsimWorld *w, DsimCallId id)
{
    OutCall *oc = g_hash_table_lookup(w->out_calls, &id);
    return oc != NULL && oc->epoch == w->nodes[oc->caller].epoch ? oc : NULL;
}

static void end_span(DsimWorld *w, OutCall *oc, DsimSpanStatus status)
{
    DsimSpan sp = {
        .trace = oc->trace, .id = oc->id, .parent = oc->parent, .caller = oc->caller,
        .callee = oc->callee, .method = oc->method, .status = status, .start = oc->start,
        .end = w->now, .served = oc->served, .answered = oc->answered,
    };
    g_array_append_val(w->spans, sp);
    g_hash_table_remove(w->out_calls, &oc->id); /* frees oc */
}

static DsimCallId ctx_call(DsimCtx *ctx, DsimNodeId to, uint16_t method, const void *body,
                           size_t size, const DsimCallOpts *opts)
{
    DsimWorld *w = ctx->impl;
    OutCall *oc = g_new(OutCall, 1);
    *oc = (OutCall) {
        .id = ++w->next_call_id, .tag = opts->tag, .caller = ctx->self, .callee = to,
        .epoch = w->nodes[ctx->self].epoch, .method = method, .start = w->now,
        .deadline = w->now + real_delay(w, ctx->self, opts->timeout), .served = -1, .answered = -1,
    };
    /* the trace: the parent's, when the call is made on behalf of one this node serves
     * (named, or the one being handled, answered or not); else the one the caller joins;
     * else a new one */
    oc->trace = opts->trace != 0 ? opts->trace : oc->id;
    oc->parent = 0;
    if (opts->parent != 0) {
        const InCall *in = g_hash_table_lookup(w->in_calls, &opts->parent);
        if (in == NULL || in->callee != ctx->self || in->epoch != oc->epoch)
            g_error("%s: dsim_call: parent call %" PRIu64 " is not one this node serves",
                    dsim_world_node_name(w, ctx->self), opts->parent);
        oc->parent = opts->parent;
        oc->trace = in->trace;
    } else if (w->serving != 0) {
        oc->parent = w->serving;
        oc->trace = w->serving_trace;
    }
    g_hash_table_insert(w->out_calls, &oc->id, oc);
    w->counters.calls++;
    CallWire wire = { .call = oc->id, .trace = oc->trace, .parent = oc->parent, .deadline = oc->deadline };
    DsimMsg hdr = { .type = method, .kind = DSIM_MSG_REQUEST };
    transmit(w, ctx->self, to, hdr, &wire, body, size);
    DsimEvent ev = { .time = oc->deadline, .kind = DSIM_EV_CALL, .node = ctx->self, .u64 = oc->id };
    dsim_queue_push(w->queue, &ev);
    return oc->id;
}

static void respond(DsimWorld *w, DsimNodeId self, DsimCallId call, DsimCallStatus status,
                    const void *body, size_t size)
{
    InCall *in = g_hash_table_lookup(w->in_calls, &call);
    if (in == NULL || in->callee != self || in->epoch != w->nodes[self].epoch)
        g_error("%s: dsim_respond: call %" PRIu64 " is not one this node serves (answered twice?)",
                dsim_world_node_name(w, self), call);
    OutCall *oc = g_hash_table_lookup(w->out_calls, &call);
    if (oc != NULL)
        oc->answered = w->now;
    CallWire wire = { .call = call, .trace = in->trace };
    DsimMsg hdr = { .type = in->method, .kind = DSIM_MSG_RESPONSE, .status = (uint8_t) status };
    DsimNodeId caller = in->caller;
    g_hash_table_remove(w->in_calls, &call); /* frees in */
    transmit(w, self, caller, hdr, &wire, body, size);
}

static void ctx_respond(DsimCtx *ctx, DsimCallId call, DsimCallStatus status, const void *body,
                        size_t size)
{
    respond(ctx->impl, ctx->self, call, status, body, size);
}

/* Distributions come as their text (DSIM_PARAM_DIST, checked at load); each distinct text
 * is parsed once per world. */
static DsimTime ctx_rand_dist(DsimCtx *ctx, const char *text)
{
    DsimWorld *w = ctx->impl;
    DsimDist *d = g_hash_table_lookup(w->dists, text);
    if (d == NULL) {
        g_autofree char *why = NULL;
        d = dsim_dist_parse(text, &why);
        if (d == NULL)
            g_error("%s: dsim_rand_dist: %s", dsim_world_node_name(w, ctx->self), why);
        g_hash_table_insert(w->dists, g_strdup(text), d);
    }
    return dsim_dist_sample(d, ctx->rng);
}

static bool ctx_group_find(const DsimCtx *ctx, const char *group_id, DsimNodeId *first, unsigned *n)
{
    const DsimWorld *w = ctx->impl;
    for (unsigned gi = 0; gi < w->n_groups; gi++) {
        if (strcmp(w->groups[gi].spec->id, group_id) == 0) {
            *first = w->groups[gi].first;
            *n = w->groups[gi].n;
            return true;
        }
    }
    return false;
}

static const DsimCtxOps world_ctx_ops = {
    .send = ctx_send,
    .timer_set = ctx_timer_set,
    .timer_cancel = ctx_timer_cancel,
    .persist = ctx_persist,
    .sync = ctx_sync,
    .load = ctx_load,
    .reply = ctx_reply,
    .call = ctx_call,
    .respond = ctx_respond,
    .group_find = ctx_group_find,
    .rand_dist = ctx_rand_dist,
    .log = ctx_log,
    .metric = ctx_metric,
    .count = ctx_count,
};

/* ---- building ------------------------------------------------------------ */

DsimWorld *dsim_world_new(const DsimScenario *sc, uint64_t seed, const DsimWorldOptions *opt)
{
    DsimWorld *w = g_new0(DsimWorld, 1);
    w->sc = sc;
    w->seed = seed;
    if (opt != NULL)
        w->opt = *opt;
    w->queue = dsim_queue_new();
    w->n_nodes = sc->n_nodes;
    w->net = dsim_net_new(&sc->net, sc->n_nodes, seed);
    w->observers = g_array_new(FALSE, FALSE, sizeof(ObserverEntry));
    w->slabs = g_ptr_array_new_with_free_func(g_free);
    w->slots = g_array_new(FALSE, FALSE, sizeof(TimerSlot));
    w->metric_index = g_hash_table_new(g_str_hash, g_str_equal);
    w->out_calls = g_hash_table_new_full(call_id_hash, call_id_equal, NULL, g_free);
    w->in_calls = g_hash_table_new_full(call_id_hash, call_id_equal, NULL, g_free);
    w->spans = g_array_new(FALSE, FALSE, sizeof(DsimSpan));
    w->dists = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) dsim_dist_free);
    w->metrics = g_ptr_array_new();
    w->current = DSIM_NOBODY;
    w->last_node = DSIM_NOBODY;
    w->hash = absorb(0x6473696d2d747261ULL /* "dsim-tra" */, seed);

    w->n_groups = sc->groups->len;
    w->groups = g_new0(Group, w->n_groups);
    w->nodes = g_new0(Node, w->n_nodes);
    for (unsigned gi = 0; gi < w->n_groups; gi++) {
        const DsimGroupSpec *gs = &g_array_index(sc->groups, DsimGroupSpec, gi);
        Group *g = &w->groups[gi];
        g->spec = gs;
        g->proto = gs->protocol;
        g->config = w->opt.configs != NULL && w->opt.configs[gi] != NULL ? w->opt.configs[gi]
                                                                        : gs->config;
        g->n = gs->count;
        g->first = gs->first;
        g->state_size = gs->protocol->state_size > 0 ? gs->protocol->state_size : 1;
        g->states = g_malloc0(g->state_size * g->n);
        g->state_ptr = g_new(const void *, g->n);
        g->status = g_new0(DsimNodeStatus, g->n);
        g->ids = g_new(DsimNodeId, g->n);
        for (unsigned i = 0; i < g->n; i++) {
            DsimNodeId id = g->first + i;
            g->state_ptr[i] = g->states + (size_t) i * g->state_size;
            g->ids[i] = id;
            g_autofree char *stream = g_strconcat("node/", sc->node_names[id], NULL);
            dsim_rng_init(&w->nodes[id].rng, seed, stream);
        }
    }

    w->ctx.ops = &world_ctx_ops;
    w->ctx.impl = w;
    w->ctx.names = (const char *const *) sc->node_names;
    w->ctx.logging = w->opt.logging;

    /* Order of the initial events: faults, then timed checks (file order each), then the
     * end of the run, so that a fault or check at exactly the end still happens. */
    w->faults = dsim_faults_new(w, sc, w->opt.faults != NULL ? w->opt.faults : sc->faults, seed);
    w->checks = dsim_checks_new(w, sc);
    w->clients = dsim_clients_new(w, sc, seed);
    w->leaders = dsim_leaders_new(sc);
    DsimEvent stop = { .time = dsim_world_duration(w), .kind = DSIM_EV_STOP, .node = DSIM_NOBODY };
    dsim_queue_push(w->queue, &stop);
    return w;
}

static void free_event_payload(DsimEvent *ev, void *data)
{
    Packet *p = ev->ptr;
    if (ev->kind == DSIM_EV_DELIVER && packet_bytes(p) > PACKET_SMALL)
        g_free(p); /* small ones live in slabs */
    else if (ev->kind == DSIM_EV_CLIENT)
        dsim_clients_free_event(ev->u32b, ev->u64);
}

static void metric_free(gpointer p)
{
    Metric *m = p;
    g_free((char *) m->stat.name);
    g_array_unref(m->times);
    g_array_unref(m->values);
    g_free(m);
}

void dsim_world_free(DsimWorld *w)
{
    if (w == NULL)
        return;
    dsim_queue_foreach(w->queue, free_event_payload, NULL);
    dsim_queue_free(w->queue);
    for (unsigned id = 0; id < w->n_nodes; id++) {
        GArray *d = deferred_if_any(w, id);
        if (d != NULL) {
            for (unsigned i = 0; i < d->len; i++)
                free_event_payload(&g_array_index(d, DsimEvent, i), NULL);
            g_array_unref(d);
        }
        dsim_store_free(store_if_any(w, id));
    }
    g_free(w->stores);
    g_free(w->deferred);
    for (unsigned gi = 0; gi < w->n_groups; gi++) {
        Group *g = &w->groups[gi];
        if (g->proto->fini != NULL) {
            for (unsigned i = 0; i < g->n; i++) {
                if (g->status[i] != DSIM_NODE_CRASHED)
                    g->proto->fini(g->states + (size_t) i * g->state_size);
            }
        }
        g_free(g->states);
        g_free(g->state_ptr);
        g_free(g->status);
        g_free(g->ids);
    }
    g_ptr_array_unref(w->slabs);
    g_free(w->groups);
    g_free(w->nodes);
    g_free(w->drift);
    dsim_faults_free(w->faults);
    dsim_checks_free(w->checks);
    dsim_clients_free(w->clients);
    dsim_leaders_free(w->leaders);
    dsim_net_free(w->net);
    g_array_unref(w->observers);
    g_array_unref(w->slots);
    g_hash_table_destroy(w->metric_index);
    g_hash_table_destroy(w->out_calls);
    g_hash_table_destroy(w->in_calls);
    g_array_unref(w->spans);
    g_hash_table_destroy(w->dists);
    g_ptr_array_set_free_func(w->metrics, metric_free);
    g_ptr_array_unref(w->metrics);
    if (w->metrics_sorted != NULL)
        g_ptr_array_unref(w->metrics_sorted);
    g_free(w);
}

void dsim_world_add_observer(DsimWorld *w, const DsimObserver *obs, void *self)
{
    ObserverEntry e = { obs, self, NULL };
    g_array_append_val(w->observers, e);
    w->n_unwindowed++;
}

void dsim_world_add_observer_windowed(DsimWorld *w, const DsimObserver *obs, void *self,
                                      const DsimTime *window)
{
    ObserverEntry e = { obs, self, window };
    g_array_append_val(w->observers, e);
}

DsimNodeId dsim_world_last_node(const DsimWorld *w) { return w->last_node; }

/* ---- the loop ----------------------------------------------------------- */

static void start(DsimWorld *w)
{
    w->started = true;
    /* Every node starts at time 0, in id order. */
    for (DsimNodeId id = 0; id < w->n_nodes; id++) {
        Group *g = group_of(w, id);
        if (g->proto->init != NULL) {
            DsimCtx *ctx = enter(w, id);
            g->proto->init(state_of(w, id), ctx);
            leave(w);
        }
    }
    dsim_leaders_after_event(w->leaders, w, DSIM_NOBODY); /* a leader may exist from the start */
}

G_GNUC_NO_INLINE static void defer(DsimWorld *w, const DsimEvent *ev)
{
    if (w->deferred == NULL)
        w->deferred = g_new0(GArray *, w->n_nodes);
    if (w->deferred[ev->node] == NULL)
        w->deferred[ev->node] = g_array_new(FALSE, FALSE, sizeof(DsimEvent));
    g_array_append_val(w->deferred[ev->node], *ev);
}

static void free_slot(DsimWorld *w, uint32_t slot)
{
    TimerSlot *s = &g_array_index(w->slots, TimerSlot, slot);
    s->gen++;
    s->next = w->free_slot;
    w->free_slot = slot + 1;
}

/* The call paths and defer() are kept out of line (G_GNUC_NO_INLINE) so that process() stays
 * small enough to be inlined into the loop: the plain-message path is the hot one. */

/* A call's request arrives at its callee (up, reachable): it serves it until it responds. */
G_GNUC_NO_INLINE static void serve_call(DsimWorld *w, Group *g, DsimCtx *ctx, const Packet *p)
{
    const CallWire *wire = call_wire(p);
    DsimNodeId to = p->msg.to;
    InCall *in = g_new(InCall, 1);
    *in = (InCall) {
        .id = wire->call, .trace = wire->trace, .callee = to, .caller = p->msg.from,
        .epoch = w->nodes[to].epoch, .method = p->msg.type, .deadline = wire->deadline,
    };
    g_hash_table_insert(w->in_calls, &in->id, in);
    OutCall *oc = g_hash_table_lookup(w->out_calls, &in->id);
    if (oc != NULL)
        oc->served = w->now;
    if (g->proto->on_call == NULL) {
        respond(w, to, in->id, DSIM_CALL_FAIL, NULL, 0); /* this node takes no calls */
        return;
    }
    DsimCall call = {
        .id = wire->call, .from = p->msg.from, .method = p->msg.type, .size = p->msg.size,
        .body = p->msg.body, .deadline = ctx->now + (wire->deadline - w->now), .trace = wire->trace,
    };
    w->serving = call.id;
    w->serving_trace = call.trace;
    g->proto->on_call(state_of(w, to), ctx, &call);
    w->serving = 0;
}

static void count_outcome(DsimWorld *w, DsimCallStatus status)
{
    if (status == DSIM_CALL_OK)
        w->counters.calls_ok++;
    else if (status == DSIM_CALL_FAIL)
        w->counters.calls_failed++;
    else
        w->counters.calls_timed_out++;
}

/* A call's response reaches its caller, which still waits for it (process() checked). */
G_GNUC_NO_INLINE static void complete_call(DsimWorld *w, Group *g, DsimCtx *ctx, const Packet *p)
{
    OutCall *oc = awaited(w, call_wire(p)->call);
    DsimResponse r = {
        .id = oc->id, .tag = oc->tag, .to = oc->callee, .method = oc->method,
        .status = (DsimCallStatus) p->msg.status, .size = p->msg.size, .body = p->msg.body,
        .latency = w->now - oc->start,
    };
    count_outcome(w, r.status);
    end_span(w, oc, (DsimSpanStatus) r.status);
    if (g->proto->on_response != NULL)
        g->proto->on_response(state_of(w, p->msg.to), ctx, &r);
}

/* A call's deadline: the caller gets TIMEOUT unless the response came first (then this
 * event is dead) or the caller crashed meanwhile (the call is lost with that life). */
G_GNUC_NO_INLINE static DsimNodeId call_deadline(DsimWorld *w, DsimEvent *ev, bool *live)
{
    DsimCallId id = ev->u64;
    OutCall *oc = g_hash_table_lookup(w->out_calls, &id);
    *live = false;
    if (oc == NULL)
        return DSIM_NOBODY;
    DsimNodeId caller = oc->caller;
    DsimNodeStatus st = dsim_world_node_status(w, caller);
    if (oc->epoch != w->nodes[caller].epoch || st == DSIM_NODE_CRASHED) {
        end_span(w, oc, DSIM_SPAN_LOST);
        return DSIM_NOBODY;
    }
    if (st == DSIM_NODE_PAUSED) {
        defer(w, ev); /* it times out when the node resumes */
        return DSIM_NOBODY;
    }
    *live = true;
    w->hash = absorb(absorb(absorb(w->hash, (uint64_t) ev->time), ((uint64_t) DSIM_EV_CALL << 48) | caller), id);
    DsimResponse r = {
        .id = id, .tag = oc->tag, .to = oc->callee, .method = oc->method,
        .status = DSIM_CALL_TIMEOUT, .latency = w->now - oc->start,
    };
    count_outcome(w, DSIM_CALL_TIMEOUT);
    end_span(w, oc, DSIM_SPAN_TIMEOUT);
    if (observed(w)) {
        char name[16];
        g_autofree char *text = g_strdup_printf("call %" PRIu64 " %s to %s timed out", id,
                                                dsim_world_method_name(w, r.to, r.method, name),
                                                dsim_world_node_name(w, r.to));
        DsimRecord rec = { .kind = DSIM_REC_LOG, .node = caller, .text = text };
        emit(w, &rec);
    }
    Group *g = group_of(w, caller);
    DsimCtx *ctx = enter(w, caller);
    if (g->proto->on_response != NULL)
        g->proto->on_response(state_of(w, caller), ctx, &r);
    leave(w);
    return caller;
}

/* Returns the node that handled the event, or DSIM_NOBODY. Events that turn out dead
 * (cancelled timers, timers of an earlier incarnation) return false in *live. */
static DsimNodeId process(DsimWorld *w, DsimEvent *ev, bool *live)
{
    *live = true;
    switch ((DsimEventKind) ev->kind) {
    case DSIM_EV_DELIVER: {
        Packet *p = ev->ptr;
        DsimNodeId to = ev->node;
        Group *g = group_of(w, to);
        /* while every node is up (no crash or pause so far, or all undone), skip reading the
         * status array: at a million nodes that read is a cache miss per event */
        DsimNodeStatus st = w->n_not_up == 0 ? DSIM_NODE_UP : g->status[to - g->first];
        if (st == DSIM_NODE_PAUSED) {
            defer(w, ev);
            *live = false;
            return DSIM_NOBODY;
        }
        w->hash = absorb(absorb(absorb(w->hash, (uint64_t) ev->time), ((uint64_t) p->msg.from << 32) | to),
                         ((uint64_t) DSIM_EV_DELIVER << 48) | ((uint64_t) p->msg.kind << 56) |
                             ((uint64_t) p->msg.type << 32) | p->msg.size);
        DsimDropReason drop = DSIM_DROP_NONE;
        if (st == DSIM_NODE_CRASHED)
            drop = DSIM_DROP_CRASHED;
        else if (!dsim_net_can_pass(w->net, p->msg.from, to))
            drop = DSIM_DROP_PARTITION;
        else if (p->msg.kind == DSIM_MSG_RESPONSE && awaited(w, call_wire(p)->call) == NULL)
            drop = DSIM_DROP_LATE;
        if (drop != DSIM_DROP_NONE) {
            w->counters.dropped[drop]++;
            w->hash = absorb(w->hash, drop);
            if (msg_observed(w)) {
                DsimRecord rec = { .kind = DSIM_REC_DROP, .node = to, .msg = &p->msg, .drop = drop };
                emit(w, &rec);
            }
            free_packet(w, p);
            return DSIM_NOBODY;
        }
        w->hash = absorb_bytes(w->hash, p->body, packet_bytes(p));
        w->counters.delivered++;
        if (msg_observed(w)) {
            DsimRecord rec = { .kind = DSIM_REC_DELIVER, .node = to, .msg = &p->msg };
            emit(w, &rec);
        }
        DsimCtx *ctx = enter(w, to);
        if (p->msg.kind == DSIM_MSG_REQUEST)
            serve_call(w, g, ctx, p);
        else if (p->msg.kind == DSIM_MSG_RESPONSE)
            complete_call(w, g, ctx, p);
        else
            g->proto->on_message(state_of(w, to), ctx, &p->msg);
        leave(w);
        free_packet(w, p);
        return to;
    }
    case DSIM_EV_TIMER: {
        DsimNodeId id = ev->node;
        TimerSlot *s = &g_array_index(w->slots, TimerSlot, ev->u32a);
        Group *g = group_of(w, id);
        DsimNodeStatus st = w->n_not_up == 0 ? DSIM_NODE_UP : g->status[id - g->first];
        /* a timer set before its node's last crash is dead: epochs only move at crashes, so
         * a run without crashes never needs to read the node's epoch */
        bool stale = w->counters.crashes > 0 && s->epoch != w->nodes[id].epoch;
        if (s->gen != ev->u32b || stale || st == DSIM_NODE_CRASHED) {
            free_slot(w, ev->u32a);
            *live = false;
            return DSIM_NOBODY;
        }
        if (st == DSIM_NODE_PAUSED) {
            defer(w, ev);
            *live = false;
            return DSIM_NOBODY;
        }
        free_slot(w, ev->u32a);
        w->counters.timers_fired++;
        w->hash = absorb(absorb(absorb(w->hash, (uint64_t) ev->time), ((uint64_t) DSIM_EV_TIMER << 48) | id),
                         absorb(ev->u16, ev->u64));
        if (msg_observed(w)) {
            DsimRecord rec = { .kind = DSIM_REC_TIMER, .node = id, .timer_kind = ev->u16,
                               .timer_arg = ev->u64 };
            emit(w, &rec);
        }
        DsimCtx *ctx = enter(w, id);
        g->proto->on_timer(state_of(w, id), ctx, ev->u16, ev->u64);
        leave(w);
        return id;
    }
    case DSIM_EV_CALL:
        return call_deadline(w, ev, live);
    case DSIM_EV_FAULT:
        w->hash = absorb(absorb(w->hash, (uint64_t) ev->time),
                         ((uint64_t) DSIM_EV_FAULT << 48) | ((uint64_t) ev->u32b << 24) | ev->u32a);
        dsim_faults_fire(w->faults, w, ev->u32a, ev->u32b);
        return DSIM_NOBODY;
    case DSIM_EV_CHECK:
        dsim_checks_on_timer(w->checks, w, ev->u32a, ev->u32b);
        *live = false; /* checks observe; they are not part of the trace */
        return DSIM_NOBODY;
    case DSIM_EV_CLIENT:
        w->hash = absorb(absorb(absorb(w->hash, (uint64_t) ev->time),
                                ((uint64_t) DSIM_EV_CLIENT << 48) | ((uint64_t) ev->u32b << 40) | ev->u32a),
                         ev->node);
        return dsim_clients_on_event(w->clients, w, ev->u32a, ev->u32b, ev->node, ev->u64);
    case DSIM_EV_STOP:
        w->stopped = true;
        *live = false;
        return DSIM_NOBODY;
    }
    g_assert_not_reached();
}

/* How far ahead in the sorted window the loop prefetches (see prefetch_ahead). */
#define PREFETCH_DISTANCE 8

/* At a million nodes almost every event starts with cache misses: the packet (written a few
 * ms of virtual time and tens of thousands of events ago), the receiver's protocol state, its
 * timer slot and PRNG. The active window is a sorted array, so the events a few places ahead
 * are known: asking for their memory now lets the misses overlap with the work of the events
 * in between, instead of stalling one after another. A hint only: it changes no result. */
static inline void prefetch_ahead(DsimWorld *w)
{
    const DsimEvent *ev = dsim_queue_ahead(w->queue, PREFETCH_DISTANCE);
    if (ev == NULL || ev->node >= w->n_nodes)
        return;
    if (ev->kind == DSIM_EV_DELIVER) {
        __builtin_prefetch(ev->ptr);
    } else if (ev->kind == DSIM_EV_TIMER) {
        __builtin_prefetch(&g_array_index(w->slots, TimerSlot, ev->u32a));
        __builtin_prefetch(&w->nodes[ev->node].rng);
    } else {
        return;
    }
    __builtin_prefetch(state_of(w, ev->node));
}

bool dsim_world_step(DsimWorld *w)
{
    if (!w->started)
        start(w);
    if (w->stopped)
        return false;
    if (w->opt.max_events > 0 && w->index >= w->opt.max_events) {
        w->stopped = true;
        return false;
    }
    DsimEvent ev;
    if (!dsim_queue_pop(w->queue, &ev)) {
        w->stopped = true;
        return false;
    }
    w->now = ev.time;
    prefetch_ahead(w);
    bool live;
    w->processing = true;
    DsimNodeId node = process(w, &ev, &live);
    w->processing = false;
    w->last_node = node;
    if (live) {
        w->index++;
        w->counters.events = w->index;
        dsim_leaders_after_event(w->leaders, w, node);
        dsim_checks_after_event(w->checks, w, node);
    }
    return !w->stopped;
}

void dsim_world_run(DsimWorld *w, void (*progress)(const DsimWorld *w, void *data), void *data)
{
    uint64_t n = 0;
    while (dsim_world_step(w)) {
        if (progress != NULL && (++n & 0xffff) == 0)
            progress(w, data);
    }
    dsim_world_finish(w);
}

void dsim_world_run_until(DsimWorld *w, DsimTime t)
{
    if (!w->started)
        start(w);
    for (;;) {
        const DsimEvent *next = dsim_queue_peek(w->queue);
        if (next == NULL || next->time > t || w->stopped)
            break;
        dsim_world_step(w);
    }
    if (!w->stopped && w->now < t)
        w->now = t;
}

static gint cmp_out_call(gconstpointer a, gconstpointer b)
{
    DsimCallId x = (*(OutCall *const *) a)->id, y = (*(OutCall *const *) b)->id;
    return x < y ? -1 : x > y;
}

/* Calls still waiting when the run ends become PENDING spans, in id order (the table's own
 * order depends on hashing; the report's must not). */
static void end_pending_spans(DsimWorld *w)
{
    g_autoptr(GPtrArray) open = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, w->out_calls);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(open, value);
    g_ptr_array_sort(open, cmp_out_call);
    for (unsigned i = 0; i < open->len; i++) {
        OutCall *oc = g_ptr_array_index(open, i);
        end_span(w, oc, oc->epoch == w->nodes[oc->caller].epoch ? DSIM_SPAN_PENDING : DSIM_SPAN_LOST);
    }
}

void dsim_world_finish(DsimWorld *w)
{
    if (w->finished)
        return;
    if (!w->started)
        start(w);
    w->finished = true;
    w->stopped = true;
    /* The run is over: what is still pending never happens. Free it now, before the
     * checks and the report, so that at a million nodes the report is not built beside a
     * million dead events (about 50 MB). */
    dsim_queue_foreach(w->queue, free_event_payload, NULL);
    dsim_queue_clear(w->queue);
    end_pending_spans(w);
    if (w->clients != NULL)
        dsim_clients_finish(w->clients, w);
    dsim_leaders_finish(w->leaders, w);
    dsim_checks_finish(w->checks, w);
}

/* ---- facts ---------------------------------------------------------------- */

unsigned dsim_world_n_spans(const DsimWorld *w) { return w->spans->len; }
const DsimSpan *dsim_world_span(const DsimWorld *w, unsigned i)
{
    return &g_array_index(w->spans, DsimSpan, i);
}

const char *dsim_world_method_name(const DsimWorld *w, DsimNodeId callee, uint16_t method, char buf[16])
{
    const Group *g = &w->groups[group_index(w, callee)];
    const char *name = g->proto->method_name != NULL ? g->proto->method_name(method) : NULL;
    if (name != NULL)
        return name;
    g_snprintf(buf, 16, "m%u", method);
    return buf;
}

const char *dsim_span_status_name(DsimSpanStatus status)
{
    switch (status) {
    case DSIM_SPAN_OK: return "ok";
    case DSIM_SPAN_FAIL: return "fail";
    case DSIM_SPAN_TIMEOUT: return "timeout";
    case DSIM_SPAN_LOST: return "lost";
    case DSIM_SPAN_PENDING: return "pending";
    }
    return "?";
}

const DsimScenario *dsim_world_scenario(const DsimWorld *w) { return w->sc; }
DsimTime dsim_world_duration(const DsimWorld *w)
{
    return w->opt.duration > 0 ? w->opt.duration : w->sc->duration;
}
DsimTime dsim_world_now(const DsimWorld *w) { return w->now; }
uint64_t dsim_world_seed(const DsimWorld *w) { return w->seed; }
uint64_t dsim_world_events(const DsimWorld *w) { return w->index; }
uint64_t dsim_world_trace_hash(const DsimWorld *w) { return absorb(w->hash, w->index); }
unsigned dsim_world_n_nodes(const DsimWorld *w) { return w->n_nodes; }
const DsimCounters *dsim_world_counters(const DsimWorld *w)
{
    DsimWorld *mw = (DsimWorld *) w; /* max_pending is read from the queue on demand */
    mw->counters.max_pending = dsim_queue_max_size(w->queue);
    return &w->counters;
}
DsimNet *dsim_world_net(DsimWorld *w) { return w->net; }

const char *dsim_world_node_name(const DsimWorld *w, DsimNodeId id)
{
    return id == DSIM_NOBODY ? "-" : w->sc->node_names[id];
}

unsigned dsim_world_group_of(const DsimWorld *w, DsimNodeId id) { return group_index(w, id); }

DsimNodeStatus dsim_world_node_status(const DsimWorld *w, DsimNodeId id)
{
    const Group *g = &w->groups[group_index(w, id)];
    return g->status[id - g->first];
}

const void *dsim_world_node_state(const DsimWorld *w, DsimNodeId id)
{
    const Group *g = &w->groups[group_index(w, id)];
    return g->state_ptr[id - g->first];
}

void dsim_world_describe(const DsimWorld *w, DsimNodeId id, DsimView *view)
{
    memset(view, 0, sizeof *view);
    const Group *g = &w->groups[group_index(w, id)];
    if (g->status[id - g->first] == DSIM_NODE_CRASHED || g->proto->describe == NULL)
        return;
    g->proto->describe(g->state_ptr[id - g->first], view);
}

void dsim_world_format_msg(const DsimWorld *w, const DsimMsg *msg, GString *out)
{
    char buf[16];
    if (msg->kind == DSIM_MSG_REQUEST) { /* methods are the callee's */
        g_string_append_printf(out, "call %s", dsim_world_method_name(w, msg->to, msg->type, buf));
        if (msg->size > 0)
            g_string_append_printf(out, " (%u bytes)", msg->size);
        return;
    }
    if (msg->kind == DSIM_MSG_RESPONSE) {
        g_string_append_printf(out, "%s: %s", dsim_world_method_name(w, msg->from, msg->type, buf),
                               dsim_call_status_name((DsimCallStatus) msg->status));
        if (msg->size > 0)
            g_string_append_printf(out, " (%u bytes)", msg->size);
        return;
    }
    const Group *g = &w->groups[group_index(w, msg->from)];
    if (g->proto->print_msg != NULL)
        g->proto->print_msg(msg, out);
    else
        g_string_append_printf(out, "type=%u size=%u", msg->type, msg->size);
}

bool dsim_world_can_pass(const DsimWorld *w, DsimNodeId from, DsimNodeId to)
{
    return dsim_net_can_pass(w->net, from, to);
}

/* The leader of a group: among its live members that describe themselves as leader, the
 * one with the highest term (a stale leader in an old term loses); ties go to the lowest
 * index, so the choice never depends on anything but the nodes' states. */
DsimNodeId dsim_world_leader(const DsimWorld *w, unsigned gi)
{
    const Group *g = &w->groups[gi];
    DsimNodeId best = DSIM_NOBODY;
    uint64_t best_term = 0;
    for (unsigned i = 0; i < g->n; i++) {
        if (g->status[i] == DSIM_NODE_CRASHED)
            continue;
        DsimView v;
        dsim_world_describe(w, g->first + i, &v);
        if (v.role == DSIM_ROLE_LEADER && (best == DSIM_NOBODY || v.term > best_term)) {
            best = g->first + i;
            best_term = v.term;
        }
    }
    return best;
}

/* ---- metrics -------------------------------------------------------------- */

static gint metric_cmp(gconstpointer a, gconstpointer b)
{
    const Metric *ma = *(Metric *const *) a, *mb = *(Metric *const *) b;
    return strcmp(ma->stat.name, mb->stat.name);
}

unsigned dsim_world_n_metrics(const DsimWorld *w) { return w->metrics->len; }

const DsimMetricStat *dsim_world_metric(const DsimWorld *w, unsigned i)
{
    DsimWorld *mw = (DsimWorld *) w; /* the sorted index is a cache */
    if (mw->metrics_sorted == NULL) {
        mw->metrics_sorted = g_ptr_array_copy(w->metrics, NULL, NULL);
        g_ptr_array_sort(mw->metrics_sorted, metric_cmp);
    }
    g_assert(i < mw->metrics_sorted->len);
    return &((Metric *) g_ptr_array_index(mw->metrics_sorted, i))->stat;
}

size_t dsim_world_metric_samples(const DsimWorld *w, const char *name, const DsimTime **times,
                                 const double **values)
{
    const Metric *m = g_hash_table_lookup(w->metric_index, name);
    if (m == NULL)
        return 0;
    *times = (const DsimTime *) (void *) m->times->data;
    *values = (const double *) (void *) m->values->data;
    return m->times->len;
}

/* ---- verdicts ------------------------------------------------------------- */

unsigned dsim_world_n_verdicts(const DsimWorld *w) { return dsim_checks_n_verdicts(w->checks); }

const DsimVerdict *dsim_world_verdict(const DsimWorld *w, unsigned i)
{
    return dsim_checks_verdict(w->checks, i);
}

bool dsim_world_passed(const DsimWorld *w)
{
    for (unsigned i = 0; i < dsim_world_n_verdicts(w); i++) {
        if (!dsim_world_verdict(w, i)->passed)
            return false;
    }
    return true;
}

/* ---- fault verbs ---------------------------------------------------------- */

static void set_status(DsimWorld *w, DsimNodeId id, DsimNodeStatus st, const char *text)
{
    Group *g = group_of(w, id);
    DsimNodeStatus old = g->status[id - g->first];
    if (old == DSIM_NODE_UP && st != DSIM_NODE_UP)
        w->n_not_up++;
    else if (old != DSIM_NODE_UP && st == DSIM_NODE_UP)
        w->n_not_up--;
    g->status[id - g->first] = st;
    w->hash = absorb(w->hash, ((uint64_t) st << 32) | id);
    if (observed(w)) {
        DsimRecord rec = { .kind = DSIM_REC_STATUS, .node = id, .status = st, .text = text };
        emit(w, &rec);
    }
}

static void drop_deferred(DsimWorld *w, DsimNodeId id)
{
    GArray *d = deferred_if_any(w, id);
    if (d == NULL)
        return;
    for (unsigned i = 0; i < d->len; i++) {
        DsimEvent *ev = &g_array_index(d, DsimEvent, i);
        if (ev->kind == DSIM_EV_DELIVER) {
            w->counters.dropped[DSIM_DROP_CRASHED]++;
            free_packet(w, ev->ptr);
        } else if (ev->kind == DSIM_EV_TIMER) {
            free_slot(w, ev->u32a);
        }
    }
    g_array_set_size(d, 0);
}

void dsim_world_crash(DsimWorld *w, DsimNodeId id, bool lose_unsynced)
{
    if (dsim_world_node_status(w, id) == DSIM_NODE_CRASHED)
        return;
    Group *g = group_of(w, id);
    w->nodes[id].epoch++;
    drop_deferred(w, id);
    /* Volatile state is lost: the kernel frees what the protocol allocated and zeroes the
     * rest. Pending timers die with the epoch bumped above: a timer fires only when its
     * slot's epoch is still the node's, so a restarted node starts with none. */
    if (g->proto->fini != NULL)
        g->proto->fini(state_of(w, id));
    memset(state_of(w, id), 0, g->state_size);
    DsimStore *st = store_if_any(w, id);
    size_t lost = st != NULL ? dsim_store_crash(st, lose_unsynced) : 0;
    w->counters.unsynced_lost += lost;
    w->counters.crashes++;
    g_autofree char *text = lost > 0 ? g_strdup_printf("crash (%zu unsynced writes lost)", lost)
                                     : g_strdup("crash");
    set_status(w, id, DSIM_NODE_CRASHED, text);
}

void dsim_world_restart(DsimWorld *w, DsimNodeId id)
{
    if (dsim_world_node_status(w, id) != DSIM_NODE_CRASHED)
        return;
    Group *g = group_of(w, id);
    w->counters.restarts++;
    set_status(w, id, DSIM_NODE_UP, "restart");
    DsimCtx *ctx = enter(w, id);
    if (g->proto->on_recover != NULL)
        g->proto->on_recover(state_of(w, id), ctx);
    else if (g->proto->init != NULL)
        g->proto->init(state_of(w, id), ctx);
    leave(w);
}

void dsim_world_pause(DsimWorld *w, DsimNodeId id)
{
    if (dsim_world_node_status(w, id) != DSIM_NODE_UP)
        return;
    set_status(w, id, DSIM_NODE_PAUSED, "pause");
}

void dsim_world_resume(DsimWorld *w, DsimNodeId id)
{
    if (dsim_world_node_status(w, id) != DSIM_NODE_PAUSED)
        return;
    set_status(w, id, DSIM_NODE_UP, "resume");
    GArray *d = deferred_if_any(w, id);
    if (d == NULL)
        return;
    /* What arrived or fired during the pause happens now, in the order it would have. */
    for (unsigned i = 0; i < d->len; i++) {
        DsimEvent ev = g_array_index(d, DsimEvent, i);
        ev.time = w->now;
        dsim_queue_push(w->queue, &ev);
    }
    g_array_set_size(d, 0);
}

void dsim_world_set_drift(DsimWorld *w, DsimNodeId id, double rate)
{
    g_assert(rate > 0);
    if (w->drift == NULL) {
        w->drift = g_new(Drift, w->n_nodes);
        for (unsigned i = 0; i < w->n_nodes; i++)
            w->drift[i] = (Drift) { .rate = 1.0, .base_real = 0, .base_local = 0 };
    }
    DsimTime local = local_now(w, id);
    w->drift[id] = (Drift) { .rate = rate, .base_real = w->now, .base_local = local };
}

void dsim_world_note_fault(DsimWorld *w, const char *text)
{
    w->counters.faults++;
    emit_simple(w, DSIM_REC_FAULT, DSIM_NOBODY, text);
}

void dsim_world_note_check(DsimWorld *w, const char *text)
{
    emit_simple(w, DSIM_REC_CHECK, DSIM_NOBODY, text);
}

void dsim_world_schedule_client(DsimWorld *w, DsimTime at, DsimNodeId node, uint32_t client,
                                uint32_t what, uint64_t arg)
{
    DsimEvent ev = { .time = at, .kind = DSIM_EV_CLIENT, .node = node, .u32a = client,
                     .u32b = what, .u64 = arg };
    dsim_queue_push(w->queue, &ev);
}

void dsim_world_request(DsimWorld *w, DsimNodeId node, uint64_t id, uint32_t client,
                        const void *cmd, size_t size)
{
    Group *g = group_of(w, node);
    g_assert(g->proto->on_request != NULL && size <= DSIM_CMD_MAX);
    DsimRequest req = { .id = id, .client = client, .size = (uint32_t) size, .cmd = cmd };
    if (observed(w)) {
        g_autoptr(GString) text = g_string_new(NULL);
        g_string_printf(text, "request=%" PRIu64 " from client %u: ", id, client);
        kv_command_format(cmd, size, text);
        emit_simple(w, DSIM_REC_REQUEST, node, text->str);
    }
    DsimCtx *ctx = enter(w, node);
    g->proto->on_request(state_of(w, node), ctx, &req);
    leave(w);
}

void dsim_world_note_metric(DsimWorld *w, const char *name, double value)
{
    DsimCtx tmp = { .impl = w };
    ctx_metric(&tmp, name, value);
}

const struct DsimClients *dsim_world_clients(const DsimWorld *w) { return w->clients; }

void dsim_world_schedule(DsimWorld *w, DsimTime at, unsigned kind, uint32_t a, uint32_t b)
{
    g_assert(kind == DSIM_EV_FAULT || kind == DSIM_EV_CHECK);
    DsimEvent ev = { .time = at, .kind = (uint16_t) kind, .node = DSIM_NOBODY, .u32a = a, .u32b = b };
    dsim_queue_push(w->queue, &ev);
}

DsimGroupView *dsim_world_group_view(DsimWorld *w, unsigned gi, unsigned last)
{
    Group *g = &w->groups[gi];
    DsimGroupView *view = &g->view;
    if (view->group == NULL) {
        view->group = g->spec->id;
        view->n = g->n;
        view->name = (const char *const *) w->sc->node_names + g->first;
        view->state = g->state_ptr;
        view->status = g->status;
        view->id = g->ids;
        view->config = g->config;
    }
    view->last = last;
    view->now = w->now;
    view->event_index = w->index;
    view->scratch = NULL;
    view->component = NULL;
    return view;
}
