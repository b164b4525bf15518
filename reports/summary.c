/* summary.c - the run result snapshot, summary.json and the terminal verdict table.
 *
 * summary.json's keys come out in a fixed order with fixed number formats (jsonw.h), and it
 * holds nothing from the wall clock, so the same scenario and seed give the same bytes.
 */
#include <config.h>

#include "reports/report.h"

#include <errno.h>
#include <string.h>

#include "sim/client.h"
#include "sim/jsonw.h"
#include "sim/time.h"

char *dsim_hash_hex(uint64_t hash)
{
    return g_strdup_printf("%016" PRIx64, hash);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentiles of a metric's samples (all of them, up to the world's limit). */
static void percentiles(const DsimWorld *w, DsimMetricStat *m)
{
    const DsimTime *times;
    const double *values;
    size_t n = dsim_world_metric_samples(w, m->name, &times, &values);
    if (n == 0) {
        m->p50 = m->p90 = m->p99 = m->last;
        return;
    }
    g_autofree double *v = g_memdup2(values, n * sizeof(double));
    qsort(v, n, sizeof(double), cmp_double);
    size_t r50 = (size_t) ((n * 50 + 99) / 100), r90 = (size_t) ((n * 90 + 99) / 100);
    size_t r99 = (size_t) ((n * 99 + 99) / 100);
    m->p50 = v[r50 > 0 ? r50 - 1 : 0];
    m->p90 = v[r90 > 0 ? r90 - 1 : 0];
    m->p99 = v[r99 > 0 ? r99 - 1 : 0];
}

DsimRunResult *dsim_run_result_new(const DsimWorld *w)
{
    const DsimScenario *sc = dsim_world_scenario(w);
    DsimRunResult *r = g_new0(DsimRunResult, 1);
    r->scenario = g_strdup(sc->name);
    r->file = g_strdup(sc->file);
    r->description = g_strdup(sc->description);
    r->seed = dsim_world_seed(w);
    r->duration = dsim_world_duration(w);
    r->end_time = dsim_world_now(w);
    r->events = dsim_world_events(w);
    r->trace_hash = dsim_world_trace_hash(w);
    r->n_nodes = sc->n_nodes;
    r->counters = *dsim_world_counters(w);
    r->stopped_early = r->end_time < r->duration;
    r->groups = g_array_new(FALSE, TRUE, sizeof(DsimResultGroup));
    for (unsigned i = 0; i < sc->groups->len; i++) {
        const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, i);
        DsimResultGroup rg = { g_strdup(g->id), g_strdup(g->protocol->name), g->count };
        g_array_append_val(r->groups, rg);
    }
    r->verdicts = g_array_new(FALSE, TRUE, sizeof(DsimVerdict));
    for (unsigned i = 0; i < dsim_world_n_verdicts(w); i++) {
        DsimVerdict v = *dsim_world_verdict(w, i);
        v.name = g_strdup(v.name);
        v.group = g_strdup(v.group);
        v.message = g_strdup(v.message);
        g_array_append_val(r->verdicts, v);
    }
    r->metrics = g_array_new(FALSE, TRUE, sizeof(DsimMetricStat));
    for (unsigned i = 0; i < dsim_world_n_metrics(w); i++) {
        DsimMetricStat m = *dsim_world_metric(w, i);
        percentiles(w, &m);
        m.name = g_strdup(m.name);
        g_array_append_val(r->metrics, m);
    }
    const DsimClients *clients = dsim_world_clients(w);
    if (clients != NULL) {
        r->has_clients = true;
        const GArray *h = dsim_clients_history(clients);
        for (unsigned i = 0; i < h->len; i++) {
            switch (g_array_index(h, DsimHistOp, i).type) {
            case DSIM_HIST_INVOKE: r->ops_invoked++; break;
            case DSIM_HIST_OK: r->ops_ok++; break;
            case DSIM_HIST_FAIL: r->ops_fail++; break;
            case DSIM_HIST_INFO: r->ops_info++; break;
            }
        }
        DsimTime lo = DSIM_TIME_NEVER, hi = 0;
        for (unsigned i = 0; i < sc->workloads->len; i++) {
            const DsimWorkloadSpec *ws = &g_array_index(sc->workloads, DsimWorkloadSpec, i);
            lo = MIN(lo, ws->start);
            hi = MAX(hi, MIN(ws->stop, r->end_time));
        }
        r->throughput = hi > lo ? (double) r->ops_ok / ((double) (hi - lo) / 1e9) : 0.0;
    }
    r->passed = dsim_world_passed(w);
    return r;
}

void dsim_run_result_free(DsimRunResult *r)
{
    if (r == NULL)
        return;
    dsim_run_data_free(r->data);
    g_free(r->scenario);
    g_free(r->file);
    g_free(r->description);
    for (unsigned i = 0; i < r->groups->len; i++) {
        DsimResultGroup *g = &g_array_index(r->groups, DsimResultGroup, i);
        g_free(g->name);
        g_free(g->protocol);
    }
    g_array_unref(r->groups);
    for (unsigned i = 0; i < r->verdicts->len; i++) {
        DsimVerdict *v = &g_array_index(r->verdicts, DsimVerdict, i);
        g_free(v->name);
        g_free(v->group);
        g_free(v->message);
    }
    g_array_unref(r->verdicts);
    for (unsigned i = 0; i < r->metrics->len; i++)
        g_free((char *) g_array_index(r->metrics, DsimMetricStat, i).name);
    g_array_unref(r->metrics);
    g_free(r);
}

static double seconds(DsimTime t) { return (double) t / 1e9; }

GString *dsim_report_summary_json(const DsimRunResult *r)
{
    GString *out = g_string_new(NULL);
    DsimJson j;
    dsim_json_init(&j, out, true);
    g_autofree char *hash = dsim_hash_hex(r->trace_hash);

    dsim_json_begin_object(&j, NULL);
    dsim_json_string(&j, "dsim_version", PACKAGE_VERSION);
    dsim_json_string(&j, "scenario", r->scenario);
    dsim_json_string(&j, "file", r->file);
    dsim_json_string(&j, "description", r->description);
    dsim_json_uint(&j, "seed", r->seed);
    dsim_json_string(&j, "verdict", r->passed ? "PASS" : "FAIL");
    dsim_json_string(&j, "trace_hash", hash);
    dsim_json_double(&j, "duration_s", seconds(r->duration));
    dsim_json_double(&j, "end_time_s", seconds(r->end_time));
    dsim_json_bool(&j, "stopped_early", r->stopped_early);
    dsim_json_uint(&j, "nodes", r->n_nodes);

    dsim_json_begin_array(&j, "groups");
    for (unsigned i = 0; i < r->groups->len; i++) {
        const DsimResultGroup *g = &g_array_index(r->groups, DsimResultGroup, i);
        dsim_json_begin_object(&j, NULL);
        dsim_json_string(&j, "id", g->name);
        dsim_json_string(&j, "protocol", g->protocol);
        dsim_json_uint(&j, "count", g->count);
        dsim_json_end_object(&j);
    }
    dsim_json_end_array(&j);

    dsim_json_begin_array(&j, "checks");
    for (unsigned i = 0; i < r->verdicts->len; i++) {
        const DsimVerdict *v = &g_array_index(r->verdicts, DsimVerdict, i);
        dsim_json_begin_object(&j, NULL);
        dsim_json_string(&j, "name", v->name);
        dsim_json_string(&j, "group", v->group);
        if (v->line > 0)
            dsim_json_int(&j, "line", v->line);
        else
            dsim_json_null(&j, "line");
        dsim_json_string(&j, "verdict", !v->evaluated ? "NOT-RUN" : v->passed ? "PASS" : "FAIL");
        if (!v->passed) {
            dsim_json_uint(&j, "event_index", v->event_index);
            dsim_json_double(&j, "time_s", seconds(v->time));
        }
        dsim_json_string(&j, "message", v->message);
        if (v->has_figure)
            dsim_json_double(&j, "figure", v->figure);
        dsim_json_end_object(&j);
    }
    dsim_json_end_array(&j);

    const DsimCounters *c = &r->counters;
    DsimCounters copy = *c;
    dsim_json_begin_object(&j, "counters");
    for (const DsimCounterField *f = dsim_counter_fields; f->name != NULL; f++)
        dsim_json_uint(&j, f->name, *dsim_counter_at(&copy, f));
    dsim_json_end_object(&j);

    /* messages per unit of work: per committed command (consensus protocols record
     * commit_latency_seconds once per command), per chosen value (basic Paxos), per node */
    dsim_json_begin_object(&j, "figures");
    dsim_json_double(&j, "messages_per_node", r->n_nodes > 0 ? (double) c->sent / r->n_nodes : 0.0);
    for (unsigned i = 0; i < r->metrics->len; i++) {
        const DsimMetricStat *m = &g_array_index(r->metrics, DsimMetricStat, i);
        if (strcmp(m->name, "commit_latency_seconds") == 0 && m->count > 0)
            dsim_json_double(&j, "messages_per_command", (double) c->sent / (double) m->count);
        if (strcmp(m->name, "chosen_latency_seconds") == 0 && m->count > 0)
            dsim_json_double(&j, "messages_per_chosen_value", (double) c->sent / (double) m->count);
    }
    dsim_json_end_object(&j);

    if (r->has_clients) {
        dsim_json_begin_object(&j, "clients");
        dsim_json_uint(&j, "invoked", r->ops_invoked);
        dsim_json_uint(&j, "ok", r->ops_ok);
        dsim_json_uint(&j, "fail", r->ops_fail);
        dsim_json_uint(&j, "info", r->ops_info);
        dsim_json_double(&j, "throughput_ops_per_s", r->throughput);
        dsim_json_end_object(&j);
    }

    dsim_json_begin_object(&j, "metrics");
    for (unsigned i = 0; i < r->metrics->len; i++) {
        const DsimMetricStat *m = &g_array_index(r->metrics, DsimMetricStat, i);
        dsim_json_begin_object(&j, m->name);
        dsim_json_uint(&j, "count", m->count);
        if (m->counter) { /* dsim_count: the count is the figure */
            dsim_json_bool(&j, "counter", true);
            dsim_json_end_object(&j);
            continue;
        }
        dsim_json_double(&j, "min", m->min);
        dsim_json_double(&j, "mean", m->count > 0 ? m->sum / (double) m->count : 0.0);
        dsim_json_double(&j, "max", m->max);
        dsim_json_double(&j, "last", m->last);
        dsim_json_double(&j, "p50", m->p50);
        dsim_json_double(&j, "p90", m->p90);
        dsim_json_double(&j, "p99", m->p99);
        dsim_json_end_object(&j);
    }
    dsim_json_end_object(&j);
    dsim_json_end_object(&j);
    g_string_append_c(out, '\n');
    return out;
}

gboolean dsim_report_write_summary(const DsimRunResult *r, const char *dir, GError **error)
{
    g_autoptr(GString) json = dsim_report_summary_json(r);
    g_autofree char *path = g_build_filename(dir, "summary.json", NULL);
    return g_file_set_contents(path, json->str, (gssize) json->len, error);
}

void dsim_report_print_table(const DsimRunResult *r, FILE *out)
{
    g_autofree char *hash = dsim_hash_hex(r->trace_hash);
    size_t wname = strlen("check"), wgroup = strlen("group");
    for (unsigned i = 0; i < r->verdicts->len; i++) {
        const DsimVerdict *v = &g_array_index(r->verdicts, DsimVerdict, i);
        wname = MAX(wname, strlen(v->name));
        if (v->group != NULL)
            wgroup = MAX(wgroup, strlen(v->group));
    }
    const DsimCounters *c = &r->counters;
    g_autoptr(GString) t = g_string_new(NULL);
    dsim_time_format(r->end_time, t);
    fprintf(out, "scenario %s, seed %" PRIu64 ": %" PRIu64 " events, %" PRIu64
            " messages (%" PRIu64 " delivered, %" PRIu64 " lost, %" PRIu64 " cut, %" PRIu64
            " to crashed nodes), virtual time %s%s\n",
            r->scenario, r->seed, r->events, c->sent, c->delivered, c->dropped[DSIM_DROP_LOSS],
            c->dropped[DSIM_DROP_PARTITION], c->dropped[DSIM_DROP_CRASHED], g_strstrip(t->str),
            r->stopped_early ? " (stopped early: --max-events)" : "");
    if (r->verdicts->len == 0) {
        fprintf(out, "no checks\n");
    } else {
        fprintf(out, "\n  %-*s  %-*s  %-7s  %s\n", (int) wname, "check", (int) wgroup, "group",
                "verdict", "detail");
        for (unsigned i = 0; i < r->verdicts->len; i++) {
            const DsimVerdict *v = &g_array_index(r->verdicts, DsimVerdict, i);
            g_autoptr(GString) detail = g_string_new(NULL);
            if (!v->passed) {
                g_autoptr(GString) when = g_string_new(NULL);
                dsim_time_format(v->time, when);
                g_string_printf(detail, "event %" PRIu64 " at %s: %s", v->event_index,
                                g_strstrip(when->str), v->message);
            } else if (v->has_figure) {
                g_string_printf(detail, "%.6f", v->figure);
            } else if (v->message != NULL) {
                g_string_assign(detail, v->message);
            }
            fprintf(out, "  %-*s  %-*s  %-7s  %s\n", (int) wname, v->name, (int) wgroup,
                    v->group != NULL ? v->group : "-",
                    !v->evaluated ? "NOT-RUN" : v->passed ? "PASS" : "FAIL", detail->str);
        }
    }
    if (r->has_clients)
        fprintf(out, "\n  client operations: %" PRIu64 " invoked, %" PRIu64 " ok, %" PRIu64
                " failed, %" PRIu64 " unknown (info); %.1f ok/s\n",
                r->ops_invoked, r->ops_ok, r->ops_fail, r->ops_info, r->throughput);
    for (unsigned i = 0; i < r->metrics->len; i++) {
        const DsimMetricStat *m = &g_array_index(r->metrics, DsimMetricStat, i);
        if (i == 0)
            fprintf(out, "\n  %-24s %8s %11s %11s %11s %11s %11s\n", "figure", "count", "min", "median",
                    "mean", "p99", "max");
        if (m->counter) /* a count: the number is the figure */
            fprintf(out, "  %-24s %8" PRIu64 "\n", m->name, m->count);
        else
            fprintf(out, "  %-24s %8" PRIu64 " %11.6g %11.6g %11.6g %11.6g %11.6g\n", m->name, m->count,
                    m->min, m->p50, m->count > 0 ? m->sum / (double) m->count : 0.0, m->p99, m->max);
    }
    fprintf(out, "\n%s  trace %s\n", r->passed ? "PASS" : "FAIL", hash);
}
