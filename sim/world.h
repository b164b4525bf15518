/* world.h - the world: nodes, network, queue, faults and checks of one run.
 *
 * dsim_world_new() builds a world from a loaded scenario; dsim_world_step() processes one
 * event; dsim_world_run() runs to the scenario's end. Everything that happens is reported to
 * observers as DsimRecords, in order; the trace hash covers every processed event (its
 * index, time, kind, node, and for a delivery the sender, type and body bytes), so the same
 * scenario and seed give the same hash on every machine.
 */
#ifndef DSIM_WORLD_H
#define DSIM_WORLD_H

#include "sim/dsim.h"
#include "sim/net.h"
#include "sim/scenario.h"

typedef struct DsimWorld DsimWorld;

typedef enum {
    DSIM_REC_DELIVER,  /* msg delivered to node (from msg->from) */
    DSIM_REC_SEND,     /* msg sent by node; time_arrive says when the copy arrives */
    DSIM_REC_DROP,     /* msg dropped; drop says why; at send or at arrival */
    DSIM_REC_TIMER,    /* node's timer fired: timer_kind, timer_arg */
    DSIM_REC_FAULT,    /* text describes what the fault did */
    DSIM_REC_STATUS,   /* node changed status: crashed, restarted, paused, resumed */
    DSIM_REC_LOG,      /* text: a protocol's dsim_log line */
    DSIM_REC_CHECK,    /* text: a check failed */
    DSIM_REC_REPLY,    /* node replied to a client request */
    DSIM_REC_REQUEST,  /* a client request reached node (text describes it) */
} DsimRecordKind;

typedef struct {
    DsimRecordKind  kind;
    uint64_t        index;       /* of the processed event this record belongs to */
    DsimTime        time;
    DsimNodeId      node;        /* DSIM_NOBODY for world-level records */
    const DsimMsg  *msg;         /* DELIVER, SEND, DROP */
    DsimTime        time_arrive; /* SEND */
    DsimDropReason  drop;        /* DROP */
    bool            at_send;     /* DROP: dropped as it was sent (loss, cut link), not on arrival */
    unsigned        timer_kind;  /* TIMER */
    uint64_t        timer_arg;   /* TIMER */
    DsimNodeStatus  status;      /* STATUS: the new status */
    const char     *text;        /* FAULT, LOG, CHECK, STATUS (may be NULL) */
} DsimRecord;

typedef struct {
    void (*on_record)(void *self, const DsimWorld *w, const DsimRecord *rec);
} DsimObserver;

typedef struct {
    bool     logging;    /* keep protocol dsim_log lines (they go to observers as LOG) */
    uint64_t max_events; /* stop after this many events; 0 = no limit */
    /* Exploration and shrinking run variants of a scenario without copying it: */
    const GArray *faults;   /* DsimFaultSpec to use instead of the scenario's, or NULL */
    DsimTime      duration; /* > 0: end the run here instead of the scenario's duration */
    const void *const *configs; /* per group: a protocol config to use instead (sweeps), or
                                   NULL entries / NULL array for the scenario's */
} DsimWorldOptions;

/* Builds the world of @sc run with @seed. @sc is borrowed and must outlive the world.
 * Returns a new world; free it with dsim_world_free(). */
DsimWorld *dsim_world_new(const DsimScenario *sc, uint64_t seed, const DsimWorldOptions *opt);
void       dsim_world_free(DsimWorld *w); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimWorld, dsim_world_free)

/* Observers are called in the order added; @obs and @self are borrowed. */
void       dsim_world_add_observer(DsimWorld *w, const DsimObserver *obs, void *self);
/* The same, but the observer gets message-level records (send, deliver, drop, timer) only
 * while window[0] <= now <= window[1]: the world does not even build them otherwise, which
 * is what keeps a report collector cheap on long runs. @window is read at every event, so
 * the observer may move it (e.g. extend it while messages it drew are in flight). */
void       dsim_world_add_observer_windowed(DsimWorld *w, const DsimObserver *obs, void *self,
                                            const DsimTime *window);
/* The node that handled the last processed event (DSIM_NOBODY for faults, checks...). */
DsimNodeId dsim_world_last_node(const DsimWorld *w);

/* Processes one event. Returns false when the run is over (queue empty, the scenario's end
 * reached, or max_events hit). */
bool       dsim_world_step(DsimWorld *w);
/* Runs until the end; @progress (may be NULL) is called every 2^16 events. */
void       dsim_world_run(DsimWorld *w, void (*progress)(const DsimWorld *w, void *data),
                          void *data);
/* Runs every event with time <= @t (and stops there). */
void       dsim_world_run_until(DsimWorld *w, DsimTime t);
/* Runs the end-of-run checks (once). dsim_world_run() calls it. */
void       dsim_world_finish(DsimWorld *w);

/* ---- facts ---------------------------------------------------------------- */

const DsimScenario *dsim_world_scenario(const DsimWorld *w);
DsimTime        dsim_world_now(const DsimWorld *w);
DsimTime        dsim_world_duration(const DsimWorld *w); /* when this run ends */
uint64_t        dsim_world_seed(const DsimWorld *w);
uint64_t        dsim_world_events(const DsimWorld *w);     /* processed so far */
uint64_t        dsim_world_trace_hash(const DsimWorld *w);
unsigned        dsim_world_n_nodes(const DsimWorld *w);
const char     *dsim_world_node_name(const DsimWorld *w, DsimNodeId id);
unsigned        dsim_world_group_of(const DsimWorld *w, DsimNodeId id); /* group index */
DsimNodeStatus  dsim_world_node_status(const DsimWorld *w, DsimNodeId id);
const void     *dsim_world_node_state(const DsimWorld *w, DsimNodeId id);
/* Fills @view through the node's protocol describe op (zeroed first; crashed -> zero). */
void            dsim_world_describe(const DsimWorld *w, DsimNodeId id, DsimView *view);
/* Formats a message with its protocol's print_msg into @out (appends). */
void            dsim_world_format_msg(const DsimWorld *w, const DsimMsg *msg, GString *out);
bool            dsim_world_can_pass(const DsimWorld *w, DsimNodeId from, DsimNodeId to);
/* The group's current leader (see fault.c for the rule), or DSIM_NOBODY. */
DsimNodeId      dsim_world_leader(const DsimWorld *w, unsigned group);

typedef struct {
    uint64_t events;
    uint64_t sent, delivered, duplicated;
    uint64_t dropped[DSIM_DROP_REASONS]; /* by DsimDropReason */
    uint64_t timers_fired, timers_cancelled;
    uint64_t faults;     /* fault actions applied */
    uint64_t crashes, restarts;
    uint64_t bytes_sent;
    uint64_t persists, syncs, unsynced_lost;
    uint64_t max_pending;
    uint64_t calls, calls_ok, calls_failed, calls_timed_out; /* outcomes at the callers */
} DsimCounters;
const DsimCounters *dsim_world_counters(const DsimWorld *w);

/* ---- spans: every call, as a trace's span (see "calls" in dsim.h) ---------- */

typedef enum {
    DSIM_SPAN_OK = DSIM_CALL_OK,
    DSIM_SPAN_FAIL = DSIM_CALL_FAIL,
    DSIM_SPAN_TIMEOUT = DSIM_CALL_TIMEOUT,
    DSIM_SPAN_LOST,    /* the caller crashed before the outcome */
    DSIM_SPAN_PENDING, /* the run ended first */
} DsimSpanStatus;

const char *dsim_span_status_name(DsimSpanStatus status); /* "ok", ..., "lost", "pending" */

typedef struct {
    uint64_t       trace;
    DsimCallId     id;
    DsimCallId     parent;  /* 0 for a trace's root */
    DsimNodeId     caller, callee;
    uint16_t       method;
    DsimSpanStatus status;
    DsimTime       start, end;        /* at the caller: dsim_call() and the outcome */
    DsimTime       served, answered;  /* at the callee: arrival and dsim_respond(); -1: never */
} DsimSpan;

/* The spans of the calls that ended, in the order they ended; at dsim_world_finish() the
 * calls still waiting are added as PENDING, in id order. */
unsigned        dsim_world_n_spans(const DsimWorld *w);
const DsimSpan *dsim_world_span(const DsimWorld *w, unsigned i);
/* The method's name from the callee's protocol ("GET /users"), else "m<method>". */
const char     *dsim_world_method_name(const DsimWorld *w, DsimNodeId callee, uint16_t method,
                                       char buf[16]);

/* ---- metrics (dsim_metric samples, aggregated) ---------------------------- */

typedef struct {
    const char *name;
    uint64_t    count;
    double      sum, min, max, last;
    double      p50, p90, p99; /* filled by the run result (reports/summary.c) from the samples */
    bool        counter;       /* recorded with dsim_count: every sample is 1, count is the figure */
} DsimMetricStat;
/* Number of distinct metric names, and the i-th in name order. */
unsigned              dsim_world_n_metrics(const DsimWorld *w);
const DsimMetricStat *dsim_world_metric(const DsimWorld *w, unsigned i);

/* ---- verdicts ------------------------------------------------------------- */

typedef struct {
    char     *name;     /* "election-safety", "expect leader=one (line 31)" */
    char     *group;    /* group id or NULL */
    int       line;     /* scenario line of the check, 0 for implicit invariants */
    bool      passed;
    bool      evaluated; /* false: never ran (e.g. the run stopped early) */
    uint64_t  event_index; /* of the failure */
    DsimTime  time;        /* of the failure */
    char     *message;     /* why it failed, or NULL */
    double    figure;      /* converge: time it took (s); expect metric: the worst value */
    bool      has_figure;
} DsimVerdict;
unsigned           dsim_world_n_verdicts(const DsimWorld *w);
const DsimVerdict *dsim_world_verdict(const DsimWorld *w, unsigned i);
bool               dsim_world_passed(const DsimWorld *w);

/* ---- fault verbs (tests and fault.c) ------------------------------------- */

void dsim_world_crash(DsimWorld *w, DsimNodeId id, bool lose_unsynced);
void dsim_world_restart(DsimWorld *w, DsimNodeId id);
void dsim_world_pause(DsimWorld *w, DsimNodeId id);
void dsim_world_resume(DsimWorld *w, DsimNodeId id);
void dsim_world_set_drift(DsimWorld *w, DsimNodeId id, double rate);
DsimNet *dsim_world_net(DsimWorld *w);
/* Emits a FAULT record with @text (fault.c describes what it did). */
void dsim_world_note_fault(DsimWorld *w, const char *text);
/* Emits a CHECK record (check.c, when a check fails). */
void dsim_world_note_check(DsimWorld *w, const char *text);

/* ---- kernel-internal: for fault.c and check.c ------------------------------ */

/* Schedules a FAULT or CHECK event at @at carrying (@a, @b). */
void dsim_world_schedule(DsimWorld *w, DsimTime at, unsigned kind, uint32_t a, uint32_t b);
/* The view of group @g for an invariant call, with @last the member just stepped (or n).
 * The world keeps one view per group and refreshes last, now and event_index at each call;
 * the caller sets scratch and component. Valid until the next call for the same group. */
DsimGroupView *dsim_world_group_view(DsimWorld *w, unsigned g, unsigned last);
/* Schedules a client event (sim/client.c) at @at. */
void dsim_world_schedule_client(DsimWorld *w, DsimTime at, DsimNodeId node, uint32_t client,
                                uint32_t what, uint64_t arg);
/* Hands a client request to @node's protocol (on_request). @cmd is borrowed. */
void dsim_world_request(DsimWorld *w, DsimNodeId node, uint64_t id, uint32_t client,
                        const void *cmd, size_t size);
/* Records a sample of a world-level figure (as dsim_metric does for protocols). */
void dsim_world_note_metric(DsimWorld *w, const char *name, double value);
/* The client history (NULL without workloads). */
const struct DsimClients *dsim_world_clients(const DsimWorld *w);
/* Samples of a metric, in time order: times[i], values[i]; returns how many (0 if none). */
size_t dsim_world_metric_samples(const DsimWorld *w, const char *name, const DsimTime **times,
                                 const double **values);

#endif /* DSIM_WORLD_H */
