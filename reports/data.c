/* data.c - the run folder's line-oriented files: written after a run, read back by
 * `dsim report DIR`, so pictures can be redrawn without re-running and without a JSON parser.
 *
 * Every file is tab-separated text, one record per line, with a '#' header line naming the
 * columns. Times are integer nanoseconds, as everywhere in dsim, so nothing is lost on the
 * way back; fields escape backslash, tab and line breaks as \\, \t, \n, \r. summary.tsv holds
 * the facts of summary.json that the pages show, one keyword per line. docs/reports.md
 * describes each file; dsim_run_result_load() is the one reader, and `dsim run` itself draws
 * its pictures from what it read back, so both commands draw the same bytes.
 */
#include <config.h>

#include "reports/report.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

/* ---- names -------------------------------------------------------------------------- */

const char *dsim_node_status_name(DsimNodeStatus s)
{
    switch (s) {
    case DSIM_NODE_UP: return "up";
    case DSIM_NODE_CRASHED: return "crashed";
    case DSIM_NODE_PAUSED: return "paused";
    }
    g_assert_not_reached();
}

const char *dsim_role_name(DsimRole r)
{
    switch (r) {
    case DSIM_ROLE_NONE: return "none";
    case DSIM_ROLE_FOLLOWER: return "follower";
    case DSIM_ROLE_CANDIDATE: return "candidate";
    case DSIM_ROLE_LEADER: return "leader";
    }
    g_assert_not_reached();
}

const char *dsim_msg_fate_name(DsimMsgFate f)
{
    switch (f) {
    case DSIM_FATE_DELIVERED: return "delivered";
    case DSIM_FATE_DROPPED_AT_SEND: return "dropped-at-send";
    case DSIM_FATE_DROPPED_ON_ARRIVAL: return "dropped-on-arrival";
    case DSIM_FATE_IN_FLIGHT: return "in-flight";
    }
    g_assert_not_reached();
}

static bool parse_status(const char *s, DsimNodeStatus *out)
{
    for (int i = DSIM_NODE_UP; i <= DSIM_NODE_PAUSED; i++) {
        if (strcmp(s, dsim_node_status_name((DsimNodeStatus) i)) == 0) {
            *out = (DsimNodeStatus) i;
            return true;
        }
    }
    return false;
}

static bool parse_role(const char *s, DsimRole *out)
{
    for (int i = DSIM_ROLE_NONE; i <= DSIM_ROLE_LEADER; i++) {
        if (strcmp(s, dsim_role_name((DsimRole) i)) == 0) {
            *out = (DsimRole) i;
            return true;
        }
    }
    return false;
}

static bool parse_fate(const char *s, DsimMsgFate *out)
{
    for (int i = DSIM_FATE_DELIVERED; i <= DSIM_FATE_IN_FLIGHT; i++) {
        if (strcmp(s, dsim_msg_fate_name((DsimMsgFate) i)) == 0) {
            *out = (DsimMsgFate) i;
            return true;
        }
    }
    return false;
}

static bool parse_reason(const char *s, DsimDropReason *out)
{
    if (strcmp(s, "-") == 0) {
        *out = DSIM_DROP_NONE;
        return true;
    }
    for (int i = DSIM_DROP_LOSS; i < DSIM_DROP_REASONS; i++) {
        if (strcmp(s, dsim_drop_reason_name((DsimDropReason) i)) == 0) {
            *out = (DsimDropReason) i;
            return true;
        }
    }
    return false;
}

/* ---- freeing ------------------------------------------------------------------------ */

static void series_free(gpointer p)
{
    DsimSeries *s = p;
    g_free(s->name);
    g_array_unref(s->samples);
    g_free(s);
}

void dsim_run_data_free(DsimRunData *d)
{
    if (d == NULL)
        return;
    g_strfreev(d->node_names);
    g_strfreev(d->node_groups);
    g_strfreev(d->node_protocols);
    g_array_unref(d->timeline);
    for (unsigned i = 0; i < d->messages->len; i++)
        g_free(g_array_index(d->messages, DsimMessageRow, i).summary);
    g_array_unref(d->messages);
    g_array_unref(d->traffic);
    g_ptr_array_set_free_func(d->series, series_free);
    g_ptr_array_unref(d->series);
    for (unsigned i = 0; i < d->faults->len; i++)
        g_free(g_array_index(d->faults, DsimFaultRow, i).text);
    g_array_unref(d->faults);
    if (d->plots != NULL)
        g_ptr_array_unref(d->plots);
    if (d->shiviz != NULL)
        g_string_free(d->shiviz, TRUE);
    if (d->spans != NULL)
        g_string_free(d->spans, TRUE);
    dsim_call_stats_free(d->calls);
    dsim_trace_rows_free(d->traces);
    g_string_chunk_free(d->strings);
    g_free(d);
}

/* ---- writing -------------------------------------------------------------------------- */

static void put_field(GString *out, const char *s)
{
    for (const char *p = s != NULL ? s : ""; *p != '\0'; p++) {
        switch (*p) {
        case '\\': g_string_append(out, "\\\\"); break;
        case '\t': g_string_append(out, "\\t"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        default: g_string_append_c(out, *p);
        }
    }
}

/* "1.250000000": exact, from the integer nanoseconds */
static void put_seconds(GString *out, DsimTime t)
{
    const char *sign = t < 0 ? "-" : "";
    uint64_t a = t < 0 ? (uint64_t) -(t + 1) + 1 : (uint64_t) t;
    g_string_append_printf(out, "%s%" PRIu64 ".%09" PRIu64, sign, a / 1000000000u, a % 1000000000u);
}

static gboolean write_file(const char *dir, const char *name, const GString *text, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    return g_file_set_contents(path, text->str, (gssize) text->len, error);
}

/* The counters, named as in summary.json. */
const DsimCounterField dsim_counter_fields[] = {
    { "events", offsetof(DsimCounters, events) },
    { "messages_sent", offsetof(DsimCounters, sent) },
    { "messages_delivered", offsetof(DsimCounters, delivered) },
    { "messages_duplicated", offsetof(DsimCounters, duplicated) },
    { "dropped_loss", offsetof(DsimCounters, dropped) + DSIM_DROP_LOSS * sizeof(uint64_t) },
    { "dropped_partition", offsetof(DsimCounters, dropped) + DSIM_DROP_PARTITION * sizeof(uint64_t) },
    { "dropped_crashed", offsetof(DsimCounters, dropped) + DSIM_DROP_CRASHED * sizeof(uint64_t) },
    { "dropped_late", offsetof(DsimCounters, dropped) + DSIM_DROP_LATE * sizeof(uint64_t) },
    { "bytes_sent", offsetof(DsimCounters, bytes_sent) },
    { "timers_fired", offsetof(DsimCounters, timers_fired) },
    { "timers_cancelled", offsetof(DsimCounters, timers_cancelled) },
    { "faults", offsetof(DsimCounters, faults) },
    { "crashes", offsetof(DsimCounters, crashes) },
    { "restarts", offsetof(DsimCounters, restarts) },
    { "persists", offsetof(DsimCounters, persists) },
    { "syncs", offsetof(DsimCounters, syncs) },
    { "unsynced_writes_lost", offsetof(DsimCounters, unsynced_lost) },
    { "max_pending_events", offsetof(DsimCounters, max_pending) },
    { "calls", offsetof(DsimCounters, calls) },
    { "calls_ok", offsetof(DsimCounters, calls_ok) },
    { "calls_failed", offsetof(DsimCounters, calls_failed) },
    { "calls_timed_out", offsetof(DsimCounters, calls_timed_out) },
    { NULL, 0 },
};

uint64_t *dsim_counter_at(DsimCounters *c, const DsimCounterField *f)
{
    return (uint64_t *) (void *) ((char *) c + f->offset);
}

static GString *summary_tsv(const DsimRunResult *r)
{
    const DsimRunData *d = r->data;
    GString *o = g_string_new("# summary.tsv - what `dsim report` reads back (summary.json has the same facts)\n");
    g_autofree char *hash = dsim_hash_hex(r->trace_hash);
    g_string_append(o, "scenario\t");
    put_field(o, r->scenario);
    g_string_append(o, "\nfile\t");
    put_field(o, r->file);
    if (r->description != NULL) {
        g_string_append(o, "\ndescription\t");
        put_field(o, r->description);
    }
    g_string_append_printf(o, "\nseed\t%" PRIu64 "\nverdict\t%s\ntrace_hash\t%s\n", r->seed,
                           r->passed ? "PASS" : "FAIL", hash);
    g_string_append_printf(o, "duration_ns\t%" PRId64 "\nend_time_ns\t%" PRId64 "\nstopped_early\t%d\n",
                           r->duration, r->end_time, r->stopped_early ? 1 : 0);
    g_string_append_printf(o, "events\t%" PRIu64 "\nnodes\t%u\n", r->events, r->n_nodes);
    for (unsigned i = 0; i < r->groups->len; i++) {
        const DsimResultGroup *g = &g_array_index(r->groups, DsimResultGroup, i);
        g_string_append(o, "group\t");
        put_field(o, g->name);
        g_string_append_c(o, '\t');
        put_field(o, g->protocol);
        g_string_append_printf(o, "\t%u\n", g->count);
    }
    DsimCounters c = r->counters;
    for (const DsimCounterField *f = dsim_counter_fields; f->name != NULL; f++)
        g_string_append_printf(o, "counter\t%s\t%" PRIu64 "\n", f->name, *dsim_counter_at(&c, f));
    if (r->has_clients)
        g_string_append_printf(o, "clients\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%.9g\n",
                               r->ops_invoked, r->ops_ok, r->ops_fail, r->ops_info, r->throughput);
    for (unsigned i = 0; i < r->verdicts->len; i++) {
        const DsimVerdict *v = &g_array_index(r->verdicts, DsimVerdict, i);
        g_string_append(o, "check\t");
        put_field(o, v->name);
        g_string_append_c(o, '\t');
        put_field(o, v->group != NULL ? v->group : "-");
        g_string_append_printf(o, "\t%d\t%s\t%" PRIu64 "\t%" PRId64 "\t", v->line,
                               !v->evaluated ? "NOT-RUN" : v->passed ? "PASS" : "FAIL",
                               v->event_index, v->time);
        if (v->has_figure)
            g_string_append_printf(o, "%.9g\t", v->figure);
        else
            g_string_append(o, "-\t");
        put_field(o, v->message);
        g_string_append_c(o, '\n');
    }
    for (unsigned i = 0; i < r->metrics->len; i++) {
        const DsimMetricStat *m = &g_array_index(r->metrics, DsimMetricStat, i);
        g_string_append(o, "metric\t");
        put_field(o, m->name);
        g_string_append_printf(o, "\t%" PRIu64 "\t%.17g\t%.17g\t%.17g\t%.17g\n", m->count, m->sum,
                               m->min, m->max, m->last);
    }
    g_string_append_printf(o, "window_ns\t%" PRId64 "\t%" PRId64 "\n", d->window_from, d->window_to);
    if (d->window_closed != DSIM_TIME_NEVER)
        g_string_append_printf(o, "window_closed_ns\t%" PRId64 "\n", d->window_closed);
    if (d->plots != NULL) {
        g_string_append(o, "plots\t");
        for (unsigned i = 0; i < d->plots->len; i++) {
            if (i > 0)
                g_string_append_c(o, ',');
            put_field(o, g_ptr_array_index(d->plots, i));
        }
        g_string_append_c(o, '\n');
    }
    return o;
}

static GString *nodes_tsv(const DsimRunData *d)
{
    GString *o = g_string_new("# node\tgroup\tprotocol\n");
    for (unsigned i = 0; i < d->n_nodes; i++) {
        put_field(o, d->node_names[i]);
        g_string_append_c(o, '\t');
        put_field(o, d->node_groups[i]);
        g_string_append_c(o, '\t');
        put_field(o, d->node_protocols[i]);
        g_string_append_c(o, '\n');
    }
    return o;
}

static GString *timeline_tsv(const DsimRunData *d)
{
    GString *o = g_string_new("# time_ns\tnode\tstatus\trole\tterm\tcommit_index\tcut\n");
    for (unsigned i = 0; i < d->timeline->len; i++) {
        const DsimTimelineRow *t = &g_array_index(d->timeline, DsimTimelineRow, i);
        g_string_append_printf(o, "%" PRId64 "\t%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu32 "\n",
                               t->time, d->node_names[t->node], dsim_node_status_name(t->status),
                               dsim_role_name(t->role), t->term, t->commit_index, t->cut);
    }
    return o;
}

static GString *timeseries_csv(const DsimRunData *d)
{
    GString *o = g_string_new("time,node,term,role,commit_index,status\n");
    for (unsigned i = 0; i < d->timeline->len; i++) {
        const DsimTimelineRow *t = &g_array_index(d->timeline, DsimTimelineRow, i);
        put_seconds(o, t->time);
        g_string_append_printf(o, ",%s,%" PRIu64 ",%s,%" PRIu64 ",%s\n", d->node_names[t->node],
                               t->term, dsim_role_name(t->role), t->commit_index,
                               dsim_node_status_name(t->status));
    }
    return o;
}

static GString *messages_tsv(const DsimRunData *d)
{
    GString *o = g_string_new("# id\tfrom\tto\tsent_ns\tend_ns\tfate\treason\tsummary\n");
    for (unsigned i = 0; i < d->messages->len; i++) {
        const DsimMessageRow *m = &g_array_index(d->messages, DsimMessageRow, i);
        g_string_append_printf(o, "%" PRIu64 "\t%s\t%s\t%" PRId64 "\t%" PRId64 "\t%s\t%s\t", m->id,
                               d->node_names[m->from], d->node_names[m->to], m->sent, m->end,
                               dsim_msg_fate_name(m->fate),
                               m->reason == DSIM_DROP_NONE ? "-" : dsim_drop_reason_name(m->reason));
        put_field(o, m->summary);
        g_string_append_c(o, '\n');
    }
    return o;
}

static GString *traffic_tsv(const DsimRunData *d)
{
    GString *o = g_string_new("# start_ns\tend_ns\tsent\tdelivered\tdropped\tops_ok\tops_fail\tops_info\n");
    for (unsigned i = 0; i < d->traffic->len; i++) {
        const DsimTrafficBin *b = &g_array_index(d->traffic, DsimTrafficBin, i);
        g_string_append_printf(o, "%" PRId64 "\t%" PRId64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
                               "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", b->start, b->end,
                               b->sent, b->delivered, b->dropped, b->ops_ok, b->ops_fail, b->ops_info);
    }
    return o;
}

static GString *metrics_tsv(const DsimRunData *d)
{
    GString *o = g_string_new("# time_ns\tnode\tmetric\tvalue\n");
    for (unsigned k = 0; k < d->series->len; k++) {
        const DsimSeries *s = g_ptr_array_index(d->series, k);
        if (s->samples->len < s->count)
            g_string_append_printf(o, "# %s: %u of %" PRIu64 " samples, evenly spaced\n", s->name,
                                   s->samples->len, s->count);
        for (unsigned i = 0; i < s->samples->len; i++) {
            const DsimSample *x = &g_array_index(s->samples, DsimSample, i);
            g_string_append_printf(o, "%" PRId64 "\t", x->time);
            put_field(o, x->node);
            g_string_append_c(o, '\t');
            put_field(o, s->name);
            g_string_append_printf(o, "\t%.9g\n", x->value);
        }
    }
    return o;
}

static GString *faults_tsv(const DsimRunData *d)
{
    GString *o = g_string_new("# time_ns\tevent\ttext\n");
    for (unsigned i = 0; i < d->faults->len; i++) {
        const DsimFaultRow *f = &g_array_index(d->faults, DsimFaultRow, i);
        g_string_append_printf(o, "%" PRId64 "\t%" PRIu64 "\t", f->time, f->event);
        put_field(o, f->text);
        g_string_append_c(o, '\n');
    }
    return o;
}

static GString *calls_tsv(const DsimRunData *d)
{
    if (d->calls == NULL || d->calls->len == 0)
        return NULL;
    GString *o = g_string_new("# caller\tcallee\tmethod\tcount\tok\tfailed\ttimed_out\tother\tp50_s\tp99_s\tmax_s\n");
    for (unsigned i = 0; i < d->calls->len; i++) {
        const DsimCallStat *c = &g_array_index(d->calls, DsimCallStat, i);
        put_field(o, c->caller);
        g_string_append_c(o, '\t');
        put_field(o, c->callee);
        g_string_append_c(o, '\t');
        put_field(o, c->method);
        g_string_append_printf(o, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
                                  "\t%.9g\t%.9g\t%.9g\n", c->count, c->ok, c->failed, c->timed_out,
                               c->other, c->p50, c->p99, c->max);
    }
    return o;
}

static GString *traces_tsv(const DsimRunData *d)
{
    if (d->traces == NULL || d->traces->len == 0)
        return NULL;
    GString *o = g_string_new("# trace\tspan\tparent\tcaller\tcallee\tmethod\tstart_ns\tend_ns\tstatus\n");
    for (unsigned i = 0; i < d->traces->len; i++) {
        const DsimTraceRow *t = &g_array_index(d->traces, DsimTraceRow, i);
        g_string_append_printf(o, "%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", t->trace, t->id, t->parent);
        put_field(o, t->caller);
        g_string_append_c(o, '\t');
        put_field(o, t->callee);
        g_string_append_c(o, '\t');
        put_field(o, t->method);
        g_string_append_printf(o, "\t%" PRId64 "\t%" PRId64 "\t%s\n", t->start, t->end,
                               dsim_span_status_name(t->status));
    }
    return o;
}

gboolean dsim_report_write_data(const DsimRunResult *r, const char *dir, GError **error)
{
    g_assert(r->data != NULL);
    const DsimRunData *d = r->data;
    g_autofree char *data_dir = g_build_filename(dir, "data", NULL);
    if (g_mkdir_with_parents(data_dir, 0755) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s",
                    data_dir, g_strerror(e));
        return FALSE;
    }
    struct {
        const char *name;
        GString    *text;
    } files[] = {
        { "summary.tsv", summary_tsv(r) },
        { "data/nodes.tsv", nodes_tsv(d) },
        { "data/timeline.tsv", timeline_tsv(d) },
        { "data/messages.tsv", messages_tsv(d) },
        { "data/traffic.tsv", traffic_tsv(d) },
        { "data/metrics.tsv", metrics_tsv(d) },
        { "data/faults.tsv", faults_tsv(d) },
        { "data/calls.tsv", calls_tsv(d) },
        { "data/traces.tsv", traces_tsv(d) },
        { "timeseries.csv", timeseries_csv(d) },
        { "metrics.prom", dsim_report_prometheus(r) },
        { "shiviz.log", d->shiviz != NULL && d->shiviz->len > 0 ? g_string_new_len(d->shiviz->str, (gssize) d->shiviz->len) : NULL },
        { "spans.json", d->spans != NULL ? g_string_new_len(d->spans->str, (gssize) d->spans->len) : NULL },
    };
    gboolean ok = TRUE;
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        if (files[i].text == NULL)
            continue;
        if (ok && !write_file(dir, files[i].name, files[i].text, error))
            ok = FALSE;
        g_string_free(files[i].text, TRUE);
    }
    return ok;
}

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct {
    const char *path;
    unsigned    line;
    GError    **error;
    bool        failed;
} Reader;

static void bad(Reader *rd, const char *what)
{
    if (!rd->failed)
        g_set_error(rd->error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s:%u: %s (was the folder written by this version of dsim?)", rd->path,
                    rd->line, what);
    rd->failed = true;
}

/* Splits a line into unescaped fields (in place): returns how many, at most @max. */
static unsigned split(char *line, char **fields, unsigned max)
{
    unsigned n = 0;
    char *out = line;
    fields[n++] = out;
    for (char *p = line; *p != '\0'; p++) {
        if (*p == '\t') {
            *out++ = '\0';
            if (n == max)
                return n + 1; /* too many */
            fields[n++] = out;
        } else if (*p == '\\' && p[1] != '\0') {
            p++;
            *out++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
    return n;
}

static int64_t get_int(Reader *rd, const char *s)
{
    gint64 v = 0;
    if (!g_ascii_string_to_signed(s, 10, G_MININT64, G_MAXINT64, &v, NULL))
        bad(rd, "not an integer");
    return v;
}

static uint64_t get_uint(Reader *rd, const char *s)
{
    guint64 v = 0;
    if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL))
        bad(rd, "not an unsigned integer");
    return v;
}

static double get_double(Reader *rd, const char *s)
{
    char *end = NULL;
    double v = g_ascii_strtod(s, &end);
    if (end == s || *end != '\0')
        bad(rd, "not a number");
    return v;
}

/* Calls @row for every data line of @name (fields split and unescaped). */
static bool read_lines(const char *dir, const char *name, unsigned want,
                       void (*row)(Reader *rd, char **f, unsigned n, void *data), void *data,
                       GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return false;
    Reader rd = { .path = path, .error = error };
    char *save = NULL;
    char *f[16];
    for (char *line = text; line != NULL && !rd.failed; line = save) {
        char *nl = strchr(line, '\n');
        save = nl != NULL ? nl + 1 : NULL;
        if (nl != NULL)
            *nl = '\0';
        rd.line++;
        if (*line == '#' || *line == '\0')
            continue;
        unsigned n = split(line, f, G_N_ELEMENTS(f));
        if (want > 0 && n != want) {
            g_autofree char *msg = g_strdup_printf("expected %u fields, found %u", want, n);
            bad(&rd, msg);
            break;
        }
        row(&rd, f, n, data);
    }
    return !rd.failed;
}

typedef struct {
    DsimRunResult *r;
    GHashTable    *node_index; /* name -> index + 1 (lookup only) */
    GPtrArray     *names, *groups, *protocols;
    GHashTable    *series;     /* name -> DsimSeries* (lookup only) */
} Loading;

static uint32_t node_of(Reader *rd, Loading *ld, const char *name)
{
    gpointer v = g_hash_table_lookup(ld->node_index, name);
    if (v == NULL) {
        bad(rd, "unknown node (not in data/nodes.tsv)");
        return 0;
    }
    return GPOINTER_TO_UINT(v) - 1;
}

static void summary_row(Reader *rd, char **f, unsigned n, void *data)
{
    Loading *ld = data;
    DsimRunResult *r = ld->r;
    DsimRunData *d = r->data;
    const char *k = f[0];
    if (n == 2 && strcmp(k, "scenario") == 0) {
        r->scenario = g_strdup(f[1]);
    } else if (n == 2 && strcmp(k, "file") == 0) {
        r->file = g_strdup(f[1]);
    } else if (n == 2 && strcmp(k, "description") == 0) {
        r->description = g_strdup(f[1]);
    } else if (n == 2 && strcmp(k, "seed") == 0) {
        r->seed = get_uint(rd, f[1]);
    } else if (n == 2 && strcmp(k, "verdict") == 0) {
        r->passed = strcmp(f[1], "PASS") == 0;
    } else if (n == 2 && strcmp(k, "trace_hash") == 0) {
        guint64 h = 0;
        if (!g_ascii_string_to_unsigned(f[1], 16, 0, G_MAXUINT64, &h, NULL))
            bad(rd, "not a trace hash");
        r->trace_hash = h;
    } else if (n == 2 && strcmp(k, "duration_ns") == 0) {
        r->duration = get_int(rd, f[1]);
    } else if (n == 2 && strcmp(k, "end_time_ns") == 0) {
        r->end_time = get_int(rd, f[1]);
    } else if (n == 2 && strcmp(k, "stopped_early") == 0) {
        r->stopped_early = get_uint(rd, f[1]) != 0;
    } else if (n == 2 && strcmp(k, "events") == 0) {
        r->events = get_uint(rd, f[1]);
    } else if (n == 2 && strcmp(k, "nodes") == 0) {
        r->n_nodes = (unsigned) get_uint(rd, f[1]);
    } else if (n == 4 && strcmp(k, "group") == 0) {
        DsimResultGroup g = { g_strdup(f[1]), g_strdup(f[2]), (unsigned) get_uint(rd, f[3]) };
        g_array_append_val(r->groups, g);
    } else if (n == 3 && strcmp(k, "counter") == 0) {
        for (const DsimCounterField *c = dsim_counter_fields; c->name != NULL; c++) {
            if (strcmp(c->name, f[1]) == 0)
                *dsim_counter_at(&r->counters, c) = get_uint(rd, f[2]);
        }
    } else if (n == 6 && strcmp(k, "clients") == 0) {
        r->has_clients = true;
        r->ops_invoked = get_uint(rd, f[1]);
        r->ops_ok = get_uint(rd, f[2]);
        r->ops_fail = get_uint(rd, f[3]);
        r->ops_info = get_uint(rd, f[4]);
        r->throughput = get_double(rd, f[5]);
    } else if (n == 9 && strcmp(k, "check") == 0) {
        DsimVerdict v = {
            .name = g_strdup(f[1]),
            .group = strcmp(f[2], "-") == 0 ? NULL : g_strdup(f[2]),
            .line = (int) get_int(rd, f[3]),
            .evaluated = strcmp(f[4], "NOT-RUN") != 0,
            .passed = strcmp(f[4], "FAIL") != 0,
            .event_index = get_uint(rd, f[5]),
            .time = get_int(rd, f[6]),
            .has_figure = strcmp(f[7], "-") != 0,
            .message = *f[8] != '\0' ? g_strdup(f[8]) : NULL,
        };
        if (v.has_figure)
            v.figure = get_double(rd, f[7]);
        g_array_append_val(r->verdicts, v);
    } else if (n == 7 && strcmp(k, "metric") == 0) {
        DsimMetricStat m = {
            .name = g_strdup(f[1]), .count = get_uint(rd, f[2]), .sum = get_double(rd, f[3]),
            .min = get_double(rd, f[4]), .max = get_double(rd, f[5]), .last = get_double(rd, f[6]),
        };
        g_array_append_val(r->metrics, m);
    } else if (n == 3 && strcmp(k, "window_ns") == 0) {
        d->window_from = get_int(rd, f[1]);
        d->window_to = get_int(rd, f[2]);
    } else if (n == 2 && strcmp(k, "window_closed_ns") == 0) {
        d->window_closed = get_int(rd, f[1]);
    } else if (n == 2 && strcmp(k, "plots") == 0) {
        d->plots = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) names = g_strsplit(f[1], ",", -1);
        for (char **p = names; *p != NULL; p++)
            g_ptr_array_add(d->plots, g_strdup(*p));
    }
    /* other keywords: written by a later dsim; ignored */
}

static void nodes_row(Reader *rd, char **f, unsigned n, void *data)
{
    Loading *ld = data;
    if (g_hash_table_contains(ld->node_index, f[0])) {
        bad(rd, "node listed twice");
        return;
    }
    g_ptr_array_add(ld->names, g_strdup(f[0]));
    g_ptr_array_add(ld->groups, g_strdup(f[1]));
    g_ptr_array_add(ld->protocols, g_strdup(f[2]));
    g_hash_table_insert(ld->node_index, g_ptr_array_index(ld->names, ld->names->len - 1),
                        GUINT_TO_POINTER(ld->names->len));
}

static void timeline_row(Reader *rd, char **f, unsigned n, void *data)
{
    Loading *ld = data;
    DsimTimelineRow t = {
        .time = get_int(rd, f[0]), .node = node_of(rd, ld, f[1]),
        .term = get_uint(rd, f[4]), .commit_index = get_uint(rd, f[5]),
        .cut = (uint32_t) get_uint(rd, f[6]),
    };
    if (!parse_status(f[2], &t.status))
        bad(rd, "unknown status");
    if (!parse_role(f[3], &t.role))
        bad(rd, "unknown role");
    g_array_append_val(ld->r->data->timeline, t);
}

static void messages_row(Reader *rd, char **f, unsigned n, void *data)
{
    Loading *ld = data;
    DsimMessageRow m = {
        .id = get_uint(rd, f[0]), .from = node_of(rd, ld, f[1]), .to = node_of(rd, ld, f[2]),
        .sent = get_int(rd, f[3]), .end = get_int(rd, f[4]),
    };
    if (!parse_fate(f[5], &m.fate))
        bad(rd, "unknown fate");
    if (!parse_reason(f[6], &m.reason))
        bad(rd, "unknown drop reason");
    m.summary = g_strdup(f[7]);
    g_array_append_val(ld->r->data->messages, m);
}

static void traffic_row(Reader *rd, char **f, unsigned n, void *data)
{
    Loading *ld = data;
    DsimTrafficBin b = {
        .start = get_int(rd, f[0]), .end = get_int(rd, f[1]), .sent = get_uint(rd, f[2]),
        .delivered = get_uint(rd, f[3]), .dropped = get_uint(rd, f[4]),
        .ops_ok = get_uint(rd, f[5]), .ops_fail = get_uint(rd, f[6]), .ops_info = get_uint(rd, f[7]),
    };
    g_array_append_val(ld->r->data->traffic, b);
}

static void metrics_row(Reader *rd, char **f, unsigned n, void *data)
{
    Loading *ld = data;
    DsimRunData *d = ld->r->data;
    DsimSeries *s = g_hash_table_lookup(ld->series, f[2]);
    if (s == NULL) {
        s = g_new0(DsimSeries, 1);
        s->name = g_strdup(f[2]);
        s->samples = g_array_new(FALSE, FALSE, sizeof(DsimSample));
        g_ptr_array_add(d->series, s);
        g_hash_table_insert(ld->series, s->name, s);
    }
    DsimSample x = {
        .time = get_int(rd, f[0]), .node = g_string_chunk_insert_const(d->strings, f[1]),
        .value = get_double(rd, f[3]),
    };
    g_array_append_val(s->samples, x);
}

static void faults_row(Reader *rd, char **f, unsigned n, void *data)
{
    Loading *ld = data;
    DsimFaultRow x = { .time = get_int(rd, f[0]), .event = get_uint(rd, f[1]), .text = g_strdup(f[2]) };
    g_array_append_val(ld->r->data->faults, x);
}

static void calls_row(Reader *rd, char **f, unsigned n, void *data)
{
    Loading *ld = data;
    DsimCallStat c = {
        .caller = g_strdup(f[0]), .callee = g_strdup(f[1]), .method = g_strdup(f[2]),
        .count = get_uint(rd, f[3]), .ok = get_uint(rd, f[4]), .failed = get_uint(rd, f[5]),
        .timed_out = get_uint(rd, f[6]), .other = get_uint(rd, f[7]),
        .p50 = get_double(rd, f[8]), .p99 = get_double(rd, f[9]), .max = get_double(rd, f[10]),
    };
    g_array_append_val(ld->r->data->calls, c);
}

static void traces_row(Reader *rd, char **f, unsigned n, void *data)
{
    Loading *ld = data;
    DsimTraceRow t = {
        .trace = get_uint(rd, f[0]), .id = get_uint(rd, f[1]), .parent = get_uint(rd, f[2]),
        .caller = g_strdup(f[3]), .callee = g_strdup(f[4]), .method = g_strdup(f[5]),
        .start = get_int(rd, f[6]), .end = get_int(rd, f[7]), .status = DSIM_SPAN_PENDING,
    };
    for (int s = DSIM_SPAN_OK; s <= DSIM_SPAN_PENDING; s++) {
        if (strcmp(f[8], dsim_span_status_name((DsimSpanStatus) s)) == 0)
            t.status = (DsimSpanStatus) s;
    }
    g_array_append_val(ld->r->data->traces, t);
}

static char **steal_strv(GPtrArray *a)
{
    g_ptr_array_add(a, NULL);
    return (char **) g_ptr_array_free(a, FALSE);
}

DsimRunResult *dsim_run_result_load(const char *dir, GError **error)
{
    g_autofree char *summary = g_build_filename(dir, "summary.tsv", NULL);
    if (!g_file_test(summary, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "%s: no summary.tsv here; give the folder a `dsim run` wrote", dir);
        return NULL;
    }
    g_autoptr(DsimRunResult) r = g_new0(DsimRunResult, 1);
    r->groups = g_array_new(FALSE, TRUE, sizeof(DsimResultGroup));
    r->verdicts = g_array_new(FALSE, TRUE, sizeof(DsimVerdict));
    r->metrics = g_array_new(FALSE, TRUE, sizeof(DsimMetricStat));
    DsimRunData *d = r->data = g_new0(DsimRunData, 1);
    d->timeline = g_array_new(FALSE, TRUE, sizeof(DsimTimelineRow));
    d->messages = g_array_new(FALSE, TRUE, sizeof(DsimMessageRow));
    d->traffic = g_array_new(FALSE, TRUE, sizeof(DsimTrafficBin));
    d->faults = g_array_new(FALSE, TRUE, sizeof(DsimFaultRow));
    d->calls = g_array_new(FALSE, TRUE, sizeof(DsimCallStat));
    d->traces = g_array_new(FALSE, TRUE, sizeof(DsimTraceRow));
    d->series = g_ptr_array_new();
    d->strings = g_string_chunk_new(256);
    d->window_closed = DSIM_TIME_NEVER;

    Loading ld = {
        .r = r,
        .node_index = g_hash_table_new(g_str_hash, g_str_equal),
        .names = g_ptr_array_new(),
        .groups = g_ptr_array_new(),
        .protocols = g_ptr_array_new(),
        .series = g_hash_table_new(g_str_hash, g_str_equal),
    };
    bool ok = read_lines(dir, "summary.tsv", 0, summary_row, &ld, error)
              && read_lines(dir, "data/nodes.tsv", 3, nodes_row, &ld, error);
    d->n_nodes = ld.names->len;
    d->node_names = steal_strv(ld.names);
    d->node_groups = steal_strv(ld.groups);
    d->node_protocols = steal_strv(ld.protocols);
    ok = ok && read_lines(dir, "data/timeline.tsv", 7, timeline_row, &ld, error)
         && read_lines(dir, "data/messages.tsv", 8, messages_row, &ld, error)
         && read_lines(dir, "data/traffic.tsv", 8, traffic_row, &ld, error)
         && read_lines(dir, "data/metrics.tsv", 4, metrics_row, &ld, error)
         && read_lines(dir, "data/faults.tsv", 3, faults_row, &ld, error);
    /* data/calls.tsv exists only for runs that made calls */
    g_autofree char *calls = g_build_filename(dir, "data", "calls.tsv", NULL);
    if (ok && g_file_test(calls, G_FILE_TEST_EXISTS))
        ok = read_lines(dir, "data/calls.tsv", 11, calls_row, &ld, error);
    g_autofree char *traces = g_build_filename(dir, "data", "traces.tsv", NULL);
    if (ok && g_file_test(traces, G_FILE_TEST_EXISTS))
        ok = read_lines(dir, "data/traces.tsv", 9, traces_row, &ld, error);
    g_hash_table_destroy(ld.node_index);
    g_hash_table_destroy(ld.series);
    if (!ok)
        return NULL;
    if (r->scenario == NULL) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no scenario line", summary);
        return NULL;
    }
    for (unsigned i = 0; i < d->series->len; i++) {
        DsimSeries *s = g_ptr_array_index(d->series, i);
        for (unsigned k = 0; k < r->metrics->len; k++) {
            const DsimMetricStat *m = &g_array_index(r->metrics, DsimMetricStat, k);
            if (strcmp(m->name, s->name) == 0)
                s->count = m->count;
        }
        s->count = MAX(s->count, s->samples->len);
    }
    return g_steal_pointer(&r);
}

static bool same(const DsimTimelineRow *a, const DsimTimelineRow *b, unsigned mask)
{
    return (!(mask & DSIM_IV_STATUS) || a->status == b->status)
           && (!(mask & DSIM_IV_ROLE) || (a->role == b->role && a->term == b->term))
           && (!(mask & DSIM_IV_COMMIT) || a->commit_index == b->commit_index)
           && (!(mask & DSIM_IV_CUT) || a->cut == b->cut);
}

GArray *dsim_run_data_intervals(const DsimRunData *d, uint32_t node, DsimTime end, unsigned mask)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(DsimInterval));
    const DsimTimelineRow *open = NULL; /* the row that began the current stretch */
    for (unsigned i = 0; i < d->timeline->len; i++) {
        const DsimTimelineRow *t = &g_array_index(d->timeline, DsimTimelineRow, i);
        if (t->node != node)
            continue;
        if (open == NULL) {
            open = t;
        } else if (!same(open, t, mask)) {
            /* of several rows at one instant, the last one holds */
            if (t->time > open->time && open->time < end) {
                DsimInterval iv = { open->time, MIN(t->time, end), open };
                g_array_append_val(out, iv);
            }
            open = t;
        }
    }
    if (open != NULL && open->time < end) {
        DsimInterval iv = { open->time, end, open };
        g_array_append_val(out, iv);
    }
    return out;
}
