/* spans.c - spans.json: every call of the run as Zipkin v2 spans.
 *
 * The format is Zipkin's JSON v2 (zipkin.io, "zipkin2-api.yaml"): a list of spans, each with
 * traceId, id, parentId, name, kind, timestamp and duration in microseconds, and the local
 * and remote endpoints. A call gives a CLIENT span at its caller (from dsim_call to its
 * outcome) and, when the callee answered while the caller still waited, a SERVER span with the
 * same id ("shared": the two halves of one RPC, as Zipkin's B3 propagation has it), from the
 * request's arrival to the response. Ids are the kernel's call ids in 16 hex digits;
 * timestamps are virtual time since the run began (a Zipkin UI shows them as January 1970).
 * The Zipkin server's POST /api/v2/spans takes the file as it is; Jaeger reads it too.
 */
#include "reports/report.h"
#include "sim/jsonw.h"

#include <math.h>
#include <string.h>

static void endpoint(DsimJson *j, const char *key, const DsimWorld *w, DsimNodeId node)
{
    const DsimScenario *sc = dsim_world_scenario(w);
    const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, dsim_world_group_of(w, node));
    dsim_json_begin_object(j, key);
    dsim_json_string(j, "serviceName", g->id);
    dsim_json_end_object(j);
}

static void hex_id(DsimJson *j, const char *key, uint64_t id)
{
    char buf[17];
    g_snprintf(buf, sizeof buf, "%016" PRIx64, id);
    dsim_json_string(j, key, buf);
}

static void half(DsimJson *j, const DsimWorld *w, const DsimSpan *s, bool server)
{
    char name_buf[16];
    DsimTime from = server ? s->served : s->start, to = server ? s->answered : s->end;
    dsim_json_begin_object(j, NULL);
    hex_id(j, "traceId", s->trace);
    if (s->parent != 0)
        hex_id(j, "parentId", s->parent);
    hex_id(j, "id", s->id);
    dsim_json_string(j, "kind", server ? "SERVER" : "CLIENT");
    dsim_json_string(j, "name", dsim_world_method_name(w, s->callee, s->method, name_buf));
    dsim_json_int(j, "timestamp", from / 1000);
    dsim_json_int(j, "duration", (to - from) / 1000);
    if (server)
        dsim_json_bool(j, "shared", true);
    endpoint(j, "localEndpoint", w, server ? s->callee : s->caller);
    endpoint(j, "remoteEndpoint", w, server ? s->caller : s->callee);
    dsim_json_begin_object(j, "tags");
    dsim_json_string(j, "dsim.caller", dsim_world_node_name(w, s->caller));
    dsim_json_string(j, "dsim.callee", dsim_world_node_name(w, s->callee));
    dsim_json_string(j, "dsim.status", dsim_span_status_name(s->status));
    if (!server && s->status != DSIM_SPAN_OK)
        dsim_json_string(j, "error", dsim_span_status_name(s->status));
    dsim_json_end_object(j);
    dsim_json_end_object(j);
}

GString *dsim_report_spans_json(const DsimWorld *w)
{
    unsigned n = dsim_world_n_spans(w);
    if (n == 0)
        return NULL;
    GString *out = g_string_new(NULL);
    DsimJson j;
    dsim_json_init(&j, out, true);
    dsim_json_begin_array(&j, NULL);
    for (unsigned i = 0; i < n && i < DSIM_REPORT_MAX_SPANS; i++) {
        const DsimSpan *s = dsim_world_span(w, i);
        half(&j, w, s, false);
        if (s->served >= 0 && s->answered >= 0)
            half(&j, w, s, true);
    }
    dsim_json_end_array(&j);
    g_string_append_c(out, '\n');
    return out;
}

/* ---- calls by route ---------------------------------------------------------------------- */

typedef struct {
    DsimCallStat stat;
    GArray      *latency; /* double, seconds */
} Route;

static void route_free(gpointer p)
{
    Route *r = p;
    g_array_unref(r->latency);
    g_free(r);
}

static gint cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static gint cmp_route(gconstpointer a, gconstpointer b)
{
    const DsimCallStat *x = &(*(Route *const *) a)->stat, *y = &(*(Route *const *) b)->stat;
    int c = strcmp(x->caller, y->caller);
    if (c == 0)
        c = strcmp(x->callee, y->callee);
    return c != 0 ? c : strcmp(x->method, y->method);
}

/* The nearest-rank percentile of sorted @v. */
static double rank(const GArray *v, double q)
{
    if (v->len == 0)
        return 0;
    size_t k = (size_t) ceil(q * (double) v->len);
    return g_array_index(v, double, k > 0 ? k - 1 : 0);
}

GArray *dsim_report_call_stats(const DsimWorld *w)
{
    const DsimScenario *sc = dsim_world_scenario(w);
    /* routes are found by their key (lookup only) and listed sorted */
    g_autoptr(GHashTable) index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) routes = g_ptr_array_new_with_free_func(route_free);
    for (unsigned i = 0; i < dsim_world_n_spans(w); i++) {
        const DsimSpan *s = dsim_world_span(w, i);
        char buf[16];
        const char *caller = g_array_index(sc->groups, DsimGroupSpec, dsim_world_group_of(w, s->caller)).id;
        const char *callee = g_array_index(sc->groups, DsimGroupSpec, dsim_world_group_of(w, s->callee)).id;
        const char *method = dsim_world_method_name(w, s->callee, s->method, buf);
        g_autofree char *key = g_strdup_printf("%s\t%s\t%s", caller, callee, method);
        Route *r = g_hash_table_lookup(index, key);
        if (r == NULL) {
            r = g_new0(Route, 1);
            r->stat.caller = g_strdup(caller);
            r->stat.callee = g_strdup(callee);
            r->stat.method = g_strdup(method);
            r->latency = g_array_new(FALSE, FALSE, sizeof(double));
            g_ptr_array_add(routes, r);
            g_hash_table_insert(index, g_steal_pointer(&key), r);
        }
        r->stat.count++;
        switch (s->status) {
        case DSIM_SPAN_OK: r->stat.ok++; break;
        case DSIM_SPAN_FAIL: r->stat.failed++; break;
        case DSIM_SPAN_TIMEOUT: r->stat.timed_out++; break;
        default: r->stat.other++; break;
        }
        if (s->status == DSIM_SPAN_OK || s->status == DSIM_SPAN_FAIL || s->status == DSIM_SPAN_TIMEOUT) {
            double secs = (double) (s->end - s->start) / 1e9;
            g_array_append_val(r->latency, secs);
        }
    }
    g_ptr_array_sort(routes, cmp_route);
    GArray *out = g_array_new(FALSE, TRUE, sizeof(DsimCallStat));
    for (unsigned i = 0; i < routes->len; i++) {
        Route *r = g_ptr_array_index(routes, i);
        g_array_sort(r->latency, cmp_double);
        r->stat.p50 = rank(r->latency, 0.5);
        r->stat.p99 = rank(r->latency, 0.99);
        r->stat.max = r->latency->len > 0 ? g_array_index(r->latency, double, r->latency->len - 1) : 0;
        g_array_append_val(out, r->stat);
    }
    return out;
}

void dsim_call_stats_free(GArray *calls)
{
    if (calls == NULL)
        return;
    for (unsigned i = 0; i < calls->len; i++) {
        DsimCallStat *c = &g_array_index(calls, DsimCallStat, i);
        g_free(c->caller);
        g_free(c->callee);
        g_free(c->method);
    }
    g_array_unref(calls);
}

/* ---- the slowest traces ------------------------------------------------------------------ */

static gint cmp_root(gconstpointer a, gconstpointer b)
{
    const DsimSpan *x = *(const DsimSpan *const *) a, *y = *(const DsimSpan *const *) b;
    DsimTime dx = x->end - x->start, dy = y->end - y->start;
    if (dx != dy)
        return dx > dy ? -1 : 1; /* slowest first */
    return x->id < y->id ? -1 : x->id > y->id;
}

static gint cmp_row(gconstpointer a, gconstpointer b)
{
    const DsimTraceRow *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

GArray *dsim_report_slowest_traces(const DsimWorld *w)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(DsimTraceRow));
    unsigned n = dsim_world_n_spans(w);
    g_autoptr(GPtrArray) roots = g_ptr_array_new();
    for (unsigned i = 0; i < n; i++) {
        const DsimSpan *s = dsim_world_span(w, i);
        if (s->parent == 0 && s->trace == s->id && s->status != DSIM_SPAN_LOST && s->status != DSIM_SPAN_PENDING)
            g_ptr_array_add(roots, (gpointer) s);
    }
    g_ptr_array_sort(roots, cmp_root);
    unsigned k = MIN(roots->len, DSIM_REPORT_TRACES);
    for (unsigned r = 0; r < k; r++) {
        uint64_t trace = ((const DsimSpan *) g_ptr_array_index(roots, r))->trace;
        g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(DsimTraceRow));
        for (unsigned i = 0; i < n; i++) {
            const DsimSpan *s = dsim_world_span(w, i);
            if (s->trace != trace)
                continue;
            char buf[16];
            DsimTraceRow row = {
                .trace = s->trace, .id = s->id, .parent = s->parent, .start = s->start, .end = s->end,
                .status = s->status, .caller = g_strdup(dsim_world_node_name(w, s->caller)),
                .callee = g_strdup(dsim_world_node_name(w, s->callee)),
                .method = g_strdup(dsim_world_method_name(w, s->callee, s->method, buf)),
            };
            g_array_append_val(rows, row);
        }
        g_array_sort(rows, cmp_row);
        for (unsigned i = 0; i < rows->len; i++) {
            DsimTraceRow *row = &g_array_index(rows, DsimTraceRow, i);
            if (i < DSIM_REPORT_SPANS_PER_TRACE) {
                g_array_append_val(out, *row);
            } else {
                g_free(row->caller);
                g_free(row->callee);
                g_free(row->method);
            }
        }
    }
    return out;
}

void dsim_trace_rows_free(GArray *rows)
{
    if (rows == NULL)
        return;
    for (unsigned i = 0; i < rows->len; i++) {
        DsimTraceRow *r = &g_array_index(rows, DsimTraceRow, i);
        g_free(r->caller);
        g_free(r->callee);
        g_free(r->method);
    }
    g_array_unref(rows);
}
