/* report.h - DsimRunResult, an immutable snapshot of a finished run, and the writers that
 * turn it into files. Writers never see the world; they take the snapshot and a folder.
 *
 * Every file is written to a temporary name and renamed (g_file_set_contents), and contains
 * nothing that depends on the machine or the wall clock, so two runs of the same scenario and
 * seed write identical bytes.
 */
#ifndef DSIM_REPORT_H
#define DSIM_REPORT_H

#include <stdio.h>

#include "sim/net.h"
#include "sim/world.h"

typedef struct DsimRunData DsimRunData; /* what the pictures need; see below */

typedef struct {
    char     *name;
    char     *protocol;
    unsigned  count;
} DsimResultGroup;

typedef struct {
    char          *scenario;    /* the scenario's name */
    char          *file;        /* as given */
    char          *description; /* may be NULL */
    uint64_t       seed;
    DsimTime       duration;    /* what the scenario asked for */
    DsimTime       end_time;    /* virtual time when the run stopped */
    bool           stopped_early; /* max-events reached */
    uint64_t       events;
    uint64_t       trace_hash;
    unsigned       n_nodes;
    GArray        *groups;      /* DsimResultGroup */
    DsimCounters   counters;
    GArray        *verdicts;    /* DsimVerdict (deep copies) */
    GArray        *metrics;     /* DsimMetricStat (names owned), in name order */
    bool           has_clients;
    uint64_t       ops_invoked, ops_ok, ops_fail, ops_info; /* client operations */
    double         throughput;  /* ok operations per second of the workloads' span */
    bool           passed;
    DsimRunData   *data;        /* owned; NULL unless the run was collected (run.h) */
} DsimRunResult;

/* Takes a snapshot of @w (after dsim_world_finish). Free with dsim_run_result_free(). */
DsimRunResult *dsim_run_result_new(const DsimWorld *w);
void           dsim_run_result_free(DsimRunResult *r); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimRunResult, dsim_run_result_free)

/* The run's counters by their summary.json names, { NULL }-terminated: summary.json,
 * summary.tsv and `dsim report` all go through this one table. */
typedef struct {
    const char *name;
    size_t      offset; /* of a uint64_t in DsimCounters */
} DsimCounterField;
extern const DsimCounterField dsim_counter_fields[];
uint64_t *dsim_counter_at(DsimCounters *c, const DsimCounterField *f);

/* The trace hash as 16 lowercase hex digits (static storage is avoided: caller frees). */
char    *dsim_hash_hex(uint64_t hash);

/* summary.json: scenario, seed, verdicts, counters, figures, the trace hash. */
GString  *dsim_report_summary_json(const DsimRunResult *r);
gboolean  dsim_report_write_summary(const DsimRunResult *r, const char *dir, GError **error);
/* The verdict table and key figures for the terminal. */
void      dsim_report_print_table(const DsimRunResult *r, FILE *out);

/* ---- events.jsonl: an observer streaming one JSON object per record ----------- */

typedef struct DsimEventLog DsimEventLog;
/* Opens @path for writing; the log is attached to @w as an observer. */
DsimEventLog *dsim_event_log_new(DsimWorld *w, const char *path, GError **error);
/* Flushes and closes; returns FALSE with @error if a write failed. Frees @log. */
gboolean      dsim_event_log_close(DsimEventLog *log, GError **error);

/* ---- what the pictures need: reports/collect.c gathers it, reports/data.c files it -------
 *
 * A collected run keeps, beside the figures: each node's status, role, term and commit index
 * as they change (the timeline), the messages of the space-time window, message counts per
 * time bin, the samples of every metric, and the faults. dsim_report_write_data() writes them
 * as line-oriented files into the run folder (summary.tsv, the TSV files in data/, timeseries.csv,
 * metrics.prom, shiviz.log); dsim_run_result_load() reads them back, so `dsim report DIR`
 * draws the same pictures without re-running and without a JSON parser. docs/reports.md
 * describes every file.
 *
 * Per-node data covers the first DSIM_REPORT_MAX_NODES nodes of the world, in id order: a
 * space-time diagram or a timeline with more lanes is unreadable anyway. Message counts and
 * metrics cover every node.
 */

#define DSIM_REPORT_MAX_NODES   64
#define DSIM_REPORT_MAX_ARROWS  5000   /* messages kept from the space-time window */
#define DSIM_REPORT_MAX_SAMPLES 50000  /* per metric; beyond it every k-th sample is kept */
#define DSIM_REPORT_MAX_FAULTS  10000
#define DSIM_REPORT_BINS        100    /* message counts: bins over [0, duration] */
#define DSIM_SHIVIZ_MAX_EVENTS  20000
#define DSIM_REPORT_MAX_SPANS   100000 /* calls written to spans.json (the first ones) */
/* The default space-time window: the first 2 s, or the whole run if shorter. */
#define DSIM_REPORT_WINDOW      DSIM_S(2)

typedef struct {
    DsimTime       time;
    uint32_t       node;         /* index into DsimRunData.node_names */
    DsimNodeStatus status;
    DsimRole       role;         /* as the protocol describes it; NONE while crashed */
    uint64_t       term;
    uint64_t       commit_index;
    uint32_t       cut;          /* covered nodes it cannot exchange messages with, both ways */
} DsimTimelineRow;

typedef enum {
    DSIM_FATE_DELIVERED,
    DSIM_FATE_DROPPED_AT_SEND,    /* lost, or the link was cut when it was sent */
    DSIM_FATE_DROPPED_ON_ARRIVAL, /* the link was cut, or the receiver down, when it arrived */
    DSIM_FATE_IN_FLIGHT,          /* still travelling when the run ended */
} DsimMsgFate;

/* One copy of a message sent in the window (a duplicated message gives two rows with the
 * same id), in send order. */
typedef struct {
    uint64_t       id;
    uint32_t       from, to;     /* indices into node_names */
    DsimTime       sent;
    DsimTime       end;          /* delivered or dropped; the planned arrival while in flight;
                                    equal to sent when dropped at send */
    DsimMsgFate    fate;
    DsimDropReason reason;       /* DSIM_DROP_NONE unless dropped */
    char          *summary;      /* the protocol's print_msg */
} DsimMessageRow;

typedef struct {
    DsimTime start, end;         /* [start, end) except the last bin, which includes end */
    uint64_t sent, delivered, dropped;   /* messages (a duplicate counts once as sent) */
    uint64_t ops_ok, ops_fail, ops_info; /* client operations completed in the bin */
} DsimTrafficBin;

typedef struct {
    DsimTime    time;
    const char *node;            /* the node whose event recorded it, "-" if none; in strings */
    double      value;
} DsimSample;

typedef struct {
    char     *name;
    uint64_t  count;             /* samples taken in the run */
    GArray   *samples;           /* DsimSample, time order; every k-th when count is large */
} DsimSeries;

typedef struct {
    DsimTime  time;
    uint64_t  event;             /* the event number (docs/cli.md "Event numbers") */
    char     *text;              /* what the fault did, as in events.jsonl */
} DsimFaultRow;

/* The calls of one route (caller's group, callee's group, method): how they ended and how
 * long they took (from the call to its outcome: answers and timeouts; calls lost in a crash
 * or open at the end are counted but not timed). */
typedef struct {
    char    *caller, *callee, *method;
    uint64_t count, ok, failed, timed_out, other;
    double   p50, p99, max; /* seconds */
} DsimCallStat;

/* One span of a trace shown in the report (the slowest traces): times are the caller's. */
typedef struct {
    uint64_t       trace, id, parent;
    char          *caller, *callee, *method; /* node names, the method's name */
    DsimTime       start, end;
    DsimSpanStatus status;
} DsimTraceRow;

#define DSIM_REPORT_TRACES          5  /* the slowest traces shown */
#define DSIM_REPORT_SPANS_PER_TRACE 40 /* spans shown per trace, the first ones */

struct DsimRunData {
    unsigned      n_nodes;       /* covered: min(nodes, DSIM_REPORT_MAX_NODES) */
    char        **node_names;    /* n_nodes each, owned */
    char        **node_groups;
    char        **node_protocols;
    GArray       *timeline;      /* DsimTimelineRow, time order; one row per covered node at
                                    time 0, then one per change */
    DsimTime      window_from, window_to; /* the space-time window, both ends inclusive */
    DsimTime      window_closed; /* DSIM_TIME_NEVER, or the time a cap stopped collection */
    GArray       *messages;      /* DsimMessageRow */
    GArray       *traffic;       /* DsimTrafficBin */
    GPtrArray    *series;        /* DsimSeries*, name order */
    GArray       *faults;        /* DsimFaultRow */
    GPtrArray    *plots;         /* char*: <report plots="...">; NULL: every plot offered */
    GString      *shiviz;        /* the ShiViz log; NULL when re-read from a folder */
    GString      *spans;         /* spans.json; NULL without calls or when re-read */
    GArray       *calls;         /* DsimCallStat, by caller, callee, method */
    GArray       *traces;        /* DsimTraceRow: the slowest traces' spans, trace by trace */
    GStringChunk *strings;       /* sample node names */
};

void dsim_run_data_free(DsimRunData *d); /* accepts NULL */

/* spans.json (reports/spans.c): the world's spans in Zipkin's JSON v2, or NULL without calls. */
GString *dsim_report_spans_json(const DsimWorld *w);
/* The world's calls by route (a new GArray of DsimCallStat, sorted; free with
 * dsim_call_stats_free). */
GArray  *dsim_report_call_stats(const DsimWorld *w);
void     dsim_call_stats_free(GArray *calls); /* accepts NULL */
/* The spans of the DSIM_REPORT_TRACES traces whose root call took longest (answered or
 * timed out), slowest first, each trace's spans by start (a new GArray of DsimTraceRow;
 * free with dsim_trace_rows_free). */
GArray  *dsim_report_slowest_traces(const DsimWorld *w);
void     dsim_trace_rows_free(GArray *rows); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimRunData, dsim_run_data_free)

/* One stretch of a node's timeline: @row holds from @start until @end (exclusive). */
typedef struct {
    DsimTime               start, end;
    const DsimTimelineRow *row;
} DsimInterval;
/* What makes a new stretch: a change of any field in the mask. */
#define DSIM_IV_STATUS 1u  /* status */
#define DSIM_IV_ROLE   2u  /* role or term */
#define DSIM_IV_COMMIT 4u  /* commit index */
#define DSIM_IV_CUT    8u  /* cut */
#define DSIM_IV_ALL    15u
/* The stretches of covered node @node's timeline over which the fields in @mask stay the
 * same, the last one ending at @end (a new GArray of DsimInterval; rows point into @d: the
 * first row of each stretch). */
GArray     *dsim_run_data_intervals(const DsimRunData *d, uint32_t node, DsimTime end,
                                    unsigned mask);

const char *dsim_node_status_name(DsimNodeStatus s); /* "up", "crashed", "paused" */
const char *dsim_role_name(DsimRole r);              /* "none", "follower", "candidate", "leader" */
const char *dsim_msg_fate_name(DsimMsgFate f);       /* "delivered", "dropped-at-send", ... */

/* ---- the collector: an observer attached for the whole run (collect.c) ------------------ */

typedef struct DsimCollector DsimCollector;

/* Attaches a collector to @w, which must not have started, and starts it (every node's init
 * runs, no event yet) to note the state each node starts in; attach other observers first.
 * The space-time window is [@from, @to] when @window_set, else the scenario's <report
 * spacetime>, else DSIM_REPORT_WINDOW. Free it with dsim_collector_finish(). */
DsimCollector *dsim_collector_new(DsimWorld *w, bool window_set, DsimTime from, DsimTime to);
/* Call after every dsim_world_step(): it describes the node that handled the event and
 * notes what changed. (Observers see records, which come before a handler runs; the state
 * a handler leaves is visible only once it returns.) */
void           dsim_collector_after_step(DsimCollector *c, const DsimWorld *w);
/* dsim_world_run() with dsim_collector_after_step() after each event. */
void           dsim_collector_run(DsimCollector *c, DsimWorld *w,
                                  void (*progress)(const DsimWorld *w, void *data), void *data);
/* After dsim_world_finish(): completes the data and frees @c. Returns the data (transfer
 * full). */
DsimRunData   *dsim_collector_finish(DsimCollector *c, const DsimWorld *w);

/* ---- the vector clocks of shiviz.log (shiviz.c; collect.c feeds it) ---------------------
 *
 * Each event is two lines, "NODE {"NODE":N,...}" and a description, which ShiViz reads with
 * the parser regex (?<host>\S*) (?<clock>{.*})\n(?<event>.*) (docs/reports.md). A node's own
 * entry counts its logged events, from 1. */

typedef struct DsimShiviz DsimShiviz;
DsimShiviz *dsim_shiviz_new(unsigned n_nodes, char *const *names); /* @names borrowed */
void        dsim_shiviz_free(DsimShiviz *s);                      /* accepts NULL */
/* A local event of @node (timer, status change, log line). */
void        dsim_shiviz_local(DsimShiviz *s, uint32_t node, const char *text);
/* A send: ticks @node and keeps its clock in @slot (a message row index) for the receiver. */
void        dsim_shiviz_send(DsimShiviz *s, uint32_t node, uint32_t slot, const char *text);
/* A second copy of the message whose clock is in @slot (duplication): no event. */
void        dsim_shiviz_copy(DsimShiviz *s, uint32_t slot, uint32_t copy_slot);
/* A receipt: merges the sender's clock kept in @slot (none when @slot is -1) and ticks. */
void        dsim_shiviz_receive(DsimShiviz *s, uint32_t node, int64_t slot, const char *text);
unsigned    dsim_shiviz_events(const DsimShiviz *s);
/* The log so far (borrowed; valid until the next call). */
const GString *dsim_shiviz_log(const DsimShiviz *s);

/* ---- files (data.c, prom.c) --------------------------------------------------------------- */

/* Writes summary.tsv, data/{nodes,timeline,messages,traffic,metrics,faults}.tsv,
 * timeseries.csv, metrics.prom and shiviz.log into @dir. @r must have been collected. */
gboolean       dsim_report_write_data(const DsimRunResult *r, const char *dir, GError **error);
/* Reads what dsim_report_write_data() wrote. Returns a new result with data (free with
 * dsim_run_result_free) or NULL with @error naming the file and line that is wrong. */
DsimRunResult *dsim_run_result_load(const char *dir, GError **error);
/* metrics.prom: the counters and every metric's aggregates, Prometheus text format 0.0.4. */
GString       *dsim_report_prometheus(const DsimRunResult *r);

/* ---- plots (plot.c) ------------------------------------------------------------------------
 *
 * Each plot is plots/NAME.dat and plots/NAME.gp; gnuplot turns the script into NAME.svg (and
 * NAME.png with "gnuplot -e \"fmt='png'\" NAME.gp"). The names a run offers:
 *   leader-timeline   each node's role over time (when any node ever reported a role)
 *   term              each node's term over time (when any term was above 0)
 *   commit-index      each node's commit index over time (when any was above 0)
 *   node-status       up / crashed / paused per node over time
 *   messages          messages sent, delivered and dropped per time bin
 *   throughput        client operations completed (ok, fail, info) per time bin
 *   metric-NAME       every sample of metric NAME over time
 *   cdf-NAME          the distribution of metric NAME, for names ending in _seconds with
 *                     two samples or more
 * A <report plots="..."> entry selects a plot by name, or a family: "metrics" (every
 * metric-*) and "latency-cdf" (every cdf-*). */

typedef struct {
    bool        png;         /* also NAME.png */
    const char *gnuplot;     /* the program; NULL: $DSIM_GNUPLOT, else configure's */
    const char *shown_dir;   /* the folder's name in notes; NULL: the one written to */
} DsimPlotOptions;

/* True when @name is a plot name or family a run may offer (for checking <report plots>). */
bool       dsim_report_plot_name_known(const char *name);
/* The names of the plots @r offers, after its <report plots> selection (char*, owned). */
GPtrArray *dsim_report_plot_names(const DsimRunResult *r);
/* Writes every offered plot's .dat and .gp into @dir/plots and runs gnuplot on them. When
 * gnuplot is missing or fails, the data and scripts stay, *@rendered is false and @notes
 * gets one line saying how to render them. FALSE with @error only when a file cannot be
 * written. */
/* Runs gnuplot on @names (script names without ".gp") in @plots_dir, as SVG (and PNG when
 * @png). Without gnuplot, or when it fails, appends a line to @notes and returns FALSE. */
gboolean   dsim_report_render_scripts(const char *plots_dir, GPtrArray *names, bool png, GString *notes);
gboolean   dsim_report_write_plots(const DsimRunResult *r, const char *dir,
                                   const DsimPlotOptions *opt, bool *rendered, GString *notes,
                                   GError **error);

/* ---- index.html and its space-time diagram (html.c) ---------------------------------------- */

/* The space-time diagram of [@from, @to] as an inline <svg> element. */
GString  *dsim_report_spacetime_svg(const DsimRunResult *r, DsimTime from, DsimTime to);
/* index.html: the scenario, the verdicts, the figures, the plots found in @dir/plots, and
 * the space-time diagram over [@from, @to] (clipped to the collected window). */
gboolean  dsim_report_write_html(const DsimRunResult *r, const char *dir, DsimTime from,
                                 DsimTime to, GError **error);

/* ---- the whole folder (render.c) ---------------------------------------------------------- */

typedef struct {
    bool        png;
    bool        window_set;  /* narrow the diagram to [from, to] */
    DsimTime    from, to;
    const char *gnuplot;     /* as in DsimPlotOptions */
    const char *shown_dir;   /* the folder's name in notes (the run renders into a temporary one) */
} DsimRenderOptions;

/* Reads the run folder @dir and (re)writes its plots and index.html: what `dsim run` does
 * after writing the data, and all that `dsim report DIR` does. Lines for the user (how to
 * render plots without gnuplot, a window outside the collected one) go to @notes. */
gboolean  dsim_report_render(const char *dir, const DsimRenderOptions *opt, GString *notes,
                             GError **error);

#endif /* DSIM_REPORT_H */
