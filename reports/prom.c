/* prom.c - metrics.prom: the run's counters and figures in the Prometheus text exposition
 * format (version 0.0.4), for node_exporter's textfile collector, promtool, or a dashboard
 * comparing runs.
 *
 * Every series carries the labels scenario and seed. Counters become `dsim_<name>_total`
 * counters, the verdict and the virtual time gauges; each metric a protocol recorded becomes
 * a summary `dsim_<metric>` (count, sum, and the 0.5, 0.9 and 0.99 quantiles of the samples
 * the collector kept, exact unless the metric had more than DSIM_REPORT_MAX_SAMPLES) with
 * `_min`, `_max` and `_last` gauges beside it. No timestamps: the file is the same for the
 * same scenario and seed.
 */
#include "reports/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; anything else becomes '_'. */
static void put_name(GString *o, const char *name)
{
    for (const char *p = name; *p != '\0'; p++)
        g_string_append_c(o, g_ascii_isalnum(*p) || *p == '_' || *p == ':' ? *p : '_');
}

static void put_label_value(GString *o, const char *v)
{
    for (const char *p = v; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            g_string_append_c(o, '\\');
        if (*p == '\n')
            g_string_append(o, "\\n");
        else
            g_string_append_c(o, *p);
    }
}

static void put_value(GString *o, double v)
{
    if (isnan(v))
        g_string_append(o, "NaN");
    else if (isinf(v))
        g_string_append(o, v > 0 ? "+Inf" : "-Inf");
    else
        g_string_append_printf(o, "%.9g", v);
}

static void header(GString *o, const char *name, const char *suffix, const char *type, const char *help)
{
    g_string_append(o, "# HELP dsim_");
    put_name(o, name);
    g_string_append_printf(o, "%s %s\n# TYPE dsim_", suffix, help);
    put_name(o, name);
    g_string_append_printf(o, "%s %s\n", suffix, type);
}

/* dsim_NAME{scenario="..",seed="..",EXTRA} VALUE */
static void sample(GString *o, const DsimRunResult *r, const char *name, const char *suffix,
                   const char *extra, double v)
{
    g_string_append(o, "dsim_");
    put_name(o, name);
    g_string_append_printf(o, "%s{scenario=\"", suffix);
    put_label_value(o, r->scenario);
    g_string_append_printf(o, "\",seed=\"%" PRIu64 "\"%s%s} ", r->seed, extra != NULL ? "," : "",
                           extra != NULL ? extra : "");
    put_value(o, v);
    g_string_append_c(o, '\n');
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y ? 1 : 0;
}

static const DsimSeries *series_named(const DsimRunResult *r, const char *name)
{
    for (unsigned i = 0; r->data != NULL && i < r->data->series->len; i++) {
        const DsimSeries *s = g_ptr_array_index(r->data->series, i);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

GString *dsim_report_prometheus(const DsimRunResult *r)
{
    GString *o = g_string_new(NULL);
    const DsimCounters *c = &r->counters;
    struct {
        const char *name;
        uint64_t    value;
        const char *help;
    } counters[] = {
        { "events", c->events, "Events processed." },
        { "messages_sent", c->sent, "Messages sent." },
        { "messages_delivered", c->delivered, "Messages delivered." },
        { "messages_duplicated", c->duplicated, "Messages the network duplicated." },
        { "messages_lost", c->dropped[DSIM_DROP_LOSS], "Messages lost by the loss probability." },
        { "messages_cut", c->dropped[DSIM_DROP_PARTITION], "Messages dropped by a partition, block or disconnect." },
        { "messages_to_crashed", c->dropped[DSIM_DROP_CRASHED], "Messages that arrived at a crashed node." },
        { "bytes_sent", c->bytes_sent, "Message body bytes sent." },
        { "timers_fired", c->timers_fired, "Timers that fired." },
        { "timers_cancelled", c->timers_cancelled, "Timers cancelled." },
        { "faults", c->faults, "Fault actions applied." },
        { "crashes", c->crashes, "Node crashes." },
        { "restarts", c->restarts, "Node restarts." },
        { "persists", c->persists, "Durable writes." },
        { "syncs", c->syncs, "Syncs of durable storage." },
        { "unsynced_writes_lost", c->unsynced_lost, "Unsynced durable writes lost in crashes." },
        { "messages_late", c->dropped[DSIM_DROP_LATE], "Call responses that arrived after the call timed out." },
        { "calls", c->calls, "Calls made (request/response with a deadline)." },
        { "calls_ok", c->calls_ok, "Calls answered OK by their deadline." },
        { "calls_failed", c->calls_failed, "Calls answered FAIL by their deadline." },
        { "calls_timed_out", c->calls_timed_out, "Calls with no answer by their deadline." },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(counters); i++) {
        header(o, counters[i].name, "_total", "counter", counters[i].help);
        sample(o, r, counters[i].name, "_total", NULL, (double) counters[i].value);
    }
    header(o, "max_pending_events", "", "gauge", "Largest size the event queue reached.");
    sample(o, r, "max_pending_events", "", NULL, (double) c->max_pending);
    header(o, "virtual_time_seconds", "", "gauge", "Virtual time when the run stopped.");
    sample(o, r, "virtual_time_seconds", "", NULL, (double) r->end_time / 1e9);
    header(o, "run_passed", "", "gauge", "1 when every check passed, else 0.");
    sample(o, r, "run_passed", "", NULL, r->passed ? 1 : 0);

    if (r->verdicts->len > 0)
        header(o, "check_passed", "", "gauge", "1 when the check passed, 0 when it failed or did not run.");
    for (unsigned i = 0; i < r->verdicts->len; i++) {
        const DsimVerdict *v = &g_array_index(r->verdicts, DsimVerdict, i);
        g_autoptr(GString) labels = g_string_new("check=\"");
        put_label_value(labels, v->name);
        g_string_append(labels, "\",group=\"");
        put_label_value(labels, v->group != NULL ? v->group : "");
        g_string_append_c(labels, '"');
        sample(o, r, "check_passed", "", labels->str, v->evaluated && v->passed ? 1 : 0);
    }
    if (r->has_clients) {
        header(o, "client_operations", "_total", "counter", "Client operations by outcome.");
        const char *kinds[] = { "invoked", "ok", "fail", "info" };
        uint64_t counts[] = { r->ops_invoked, r->ops_ok, r->ops_fail, r->ops_info };
        for (unsigned i = 0; i < 4; i++) {
            g_autofree char *l = g_strdup_printf("outcome=\"%s\"", kinds[i]);
            sample(o, r, "client_operations", "_total", l, (double) counts[i]);
        }
    }

    for (unsigned i = 0; i < r->metrics->len; i++) {
        const DsimMetricStat *m = &g_array_index(r->metrics, DsimMetricStat, i);
        g_autofree char *help = g_strdup_printf("Samples of %s recorded in the run.", m->name);
        header(o, m->name, "", "summary", help);
        const DsimSeries *s = series_named(r, m->name);
        if (s != NULL && s->samples->len > 0) {
            size_t n = s->samples->len;
            g_autofree double *v = g_new(double, n);
            for (size_t k = 0; k < n; k++)
                v[k] = g_array_index(s->samples, DsimSample, k).value;
            qsort(v, n, sizeof *v, cmp_double);
            const char *q[] = { "0.5", "0.9", "0.99" };
            const double qv[] = { 0.5, 0.9, 0.99 };
            for (unsigned k = 0; k < 3; k++) {
                /* nearest rank: the smallest sample with at least q of them at or below it */
                size_t rank = (size_t) ceil(qv[k] * (double) n);
                g_autofree char *l = g_strdup_printf("quantile=\"%s\"", q[k]);
                sample(o, r, m->name, "", l, v[rank > 0 ? rank - 1 : 0]);
            }
        }
        sample(o, r, m->name, "_sum", NULL, m->sum);
        sample(o, r, m->name, "_count", NULL, (double) m->count);
        header(o, m->name, "_min", "gauge", "Smallest sample.");
        sample(o, r, m->name, "_min", NULL, m->min);
        header(o, m->name, "_max", "gauge", "Largest sample.");
        sample(o, r, m->name, "_max", NULL, m->max);
        header(o, m->name, "_last", "gauge", "Last sample.");
        sample(o, r, m->name, "_last", NULL, m->last);
    }
    return o;
}
