/* plot.c - plots with gnuplot: for each plot a data file and a script in plots/, then one
 * gnuplot process renders them all.
 *
 * dsim draws nothing itself: it writes NAME.dat (plain columns, times in seconds) and NAME.gp
 * (a script a user can restyle) and runs the program configure found (config.h DSIM_GNUPLOT,
 * or $DSIM_GNUPLOT) with g_spawn_sync on an argv array, never through a shell, in the plots
 * folder: "gnuplot -e fmt='svg' a.gp b.gp ...", and once more with fmt='png' for --png. Each
 * script picks its terminal from the fmt variable (svg when unset), so the same script renders
 * both. Without gnuplot the data and scripts stay and the caller prints how to render them.
 *
 * Which plots a run offers depends on what its protocols report (a role timeline only when
 * some node ever had a role); the list and the names are in report.h.
 */
#include <config.h>

#include "reports/report.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/gossip/theory.h"
#include "sim/param.h"
#include "sim/scenario.h"
#include "sim/time.h"

#define WIDTH 900
#define CDF_POINTS 2000

/* colours shared with the space-time diagram (html.c) */
static const char *const role_colour[] = {
    [DSIM_ROLE_NONE] = "#b0b0b0",
    [DSIM_ROLE_FOLLOWER] = "#a6cee3",
    [DSIM_ROLE_CANDIDATE] = "#fdbf6f",
    [DSIM_ROLE_LEADER] = "#e31a1c",
};
static const char *const status_colour[] = {
    [DSIM_NODE_UP] = "#33a02c",
    [DSIM_NODE_CRASHED] = "#404040",
    [DSIM_NODE_PAUSED] = "#b15928",
};
#define CRASHED_COLOUR "#404040"

/* ---- helpers -------------------------------------------------------------------------- */

static void put_seconds(GString *o, DsimTime t)
{
    g_string_append_printf(o, "%" PRId64 ".%09" PRId64, t / 1000000000, t % 1000000000);
}

/* A gnuplot double-quoted string. */
static void put_quoted(GString *o, const char *s)
{
    g_string_append_c(o, '"');
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(o, '\\');
        g_string_append_c(o, *p == '\n' ? ' ' : *p);
    }
    g_string_append_c(o, '"');
}

static unsigned colour_value(const char *hex)
{
    return (unsigned) strtoul(hex + 1, NULL, 16);
}

static DsimTime run_end(const DsimRunResult *r)
{
    return MAX(r->end_time, 1);
}

typedef struct {
    const DsimRunResult *r;
    const char          *name;
    GString             *dat;
    GString             *gp;
} Plot;

/* The script's head: where it comes from, the terminal for fmt, the title. */
static void script_head(Plot *p, const char *title, unsigned height)
{
    GString *o = p->gp;
    g_string_append_printf(o, "# %s.gp - %s\n", p->name, title);
    g_string_append_printf(o, "# dsim run of %s, seed %" PRIu64 "; the data is %s.dat.\n",
                           p->r->scenario, p->r->seed, p->name);
    g_string_append_printf(o, "# Render it from this folder: gnuplot %s.gp (SVG), "
                              "gnuplot -e \"fmt='png'\" %s.gp (PNG).\n", p->name, p->name);
    g_string_append(o, "reset\nif (!exists(\"fmt\")) fmt = \"svg\"\n");
    g_string_append_printf(o, "if (fmt eq \"png\") {\n"
                              "    set terminal pngcairo size %u,%u noenhanced font \"sans,10\" background rgb \"white\"\n"
                              "    set output \"%s.png\"\n"
                              "} else {\n"
                              "    set terminal svg size %u,%u noenhanced font \"sans,11\" background rgb \"white\"\n"
                              "    set output \"%s.svg\"\n"
                              "}\n", WIDTH, height, p->name, WIDTH, height, p->name);
    g_string_append(o, "set title ");
    put_quoted(o, title);
    g_string_append(o, "\nset grid\nset border 3\nset tics nomirror\n");
}

static void script_time_axis(Plot *p)
{
    g_string_append(p->gp, "set xlabel \"virtual time (s)\"\nset xrange [0:");
    put_seconds(p->gp, run_end(p->r));
    g_string_append(p->gp, "]\n");
}

static void script_tail(Plot *p)
{
    g_string_append(p->gp, "unset output\n");
}

/* ---- timelines: one lane per node, coloured stretches ------------------------------------ */

typedef const char *(*StretchColour)(const DsimTimelineRow *row);

static const char *role_of(const DsimTimelineRow *row)
{
    return row->status == DSIM_NODE_CRASHED ? CRASHED_COLOUR : role_colour[row->role];
}

static const char *status_of(const DsimTimelineRow *row) { return status_colour[row->status]; }

static void lanes(Plot *p, StretchColour colour, unsigned mask, bool label_terms)
{
    const DsimRunData *d = p->r->data;
    unsigned n = d->n_nodes;
    g_string_append(p->dat, "# lane\tstart_s\tend_s\tcolour\tstatus\trole\tterm\n");
    for (uint32_t i = 0; i < n; i++) {
        g_autoptr(GArray) iv = dsim_run_data_intervals(d, i, run_end(p->r), mask);
        for (unsigned k = 0; k < iv->len; k++) {
            const DsimInterval *x = &g_array_index(iv, DsimInterval, k);
            g_string_append_printf(p->dat, "%u\t", n - 1 - i);
            put_seconds(p->dat, x->start);
            g_string_append_c(p->dat, '\t');
            put_seconds(p->dat, x->end);
            g_string_append_printf(p->dat, "\t%u\t%s\t%s\t%" PRIu64 "\n", colour_value(colour(x->row)),
                                   dsim_node_status_name(x->row->status),
                                   dsim_role_name(x->row->role), x->row->term);
        }
    }
    g_string_append_printf(p->gp, "set yrange [-0.6:%u.6]\nset ytics (", n - 1);
    for (uint32_t i = 0; i < n; i++) {
        g_string_append(p->gp, i > 0 ? ", " : "");
        put_quoted(p->gp, d->node_names[i]);
        g_string_append_printf(p->gp, " %u", n - 1 - i);
    }
    g_string_append(p->gp, ")\nset grid noytics\nset key outside right top\n");
    script_time_axis(p);
    g_string_append_printf(p->gp, "plot \"%s.dat\" using 2:1:($3-$2):(0):4 with vectors nohead lw %u lc rgb variable notitle",
                           p->name, n > 16 ? 6 : 14);
    if (label_terms)
        g_string_append_printf(p->gp, ", \\\n     \"%s.dat\" using (($2+$3)/2):1:(stringcolumn(6) eq \"leader\" ? sprintf(\"t%%d\", $7) : \"\") with labels textcolor rgb \"white\" notitle",
                               p->name);
}

static void key_entry(Plot *p, const char *colour, const char *title)
{
    g_string_append_printf(p->gp, ", \\\n     NaN with lines lw 8 lc rgb \"%s\" title \"%s\"", colour, title);
}

static void plot_leader_timeline(Plot *p)
{
    unsigned n = p->r->data->n_nodes;
    script_head(p, "Role of each node over time (leader labels show the term)", 120 + 28 * n);
    lanes(p, role_of, DSIM_IV_STATUS | DSIM_IV_ROLE, true);
    key_entry(p, role_colour[DSIM_ROLE_LEADER], "leader");
    key_entry(p, role_colour[DSIM_ROLE_CANDIDATE], "candidate");
    key_entry(p, role_colour[DSIM_ROLE_FOLLOWER], "follower");
    key_entry(p, role_colour[DSIM_ROLE_NONE], "no role");
    key_entry(p, CRASHED_COLOUR, "crashed");
    g_string_append(p->gp, "\n");
    script_tail(p);
}

static void plot_node_status(Plot *p)
{
    unsigned n = p->r->data->n_nodes;
    script_head(p, "Status of each node over time", 120 + 28 * n);
    lanes(p, status_of, DSIM_IV_STATUS, false);
    key_entry(p, status_colour[DSIM_NODE_UP], "up");
    key_entry(p, status_colour[DSIM_NODE_PAUSED], "paused");
    key_entry(p, status_colour[DSIM_NODE_CRASHED], "crashed");
    g_string_append(p->gp, "\n");
    script_tail(p);
}

/* Each node's value of one timeline column over time, as steps. */
static void plot_steps(Plot *p, const char *title, const char *ylabel, unsigned mask, bool term)
{
    const DsimRunData *d = p->r->data;
    script_head(p, title, 420);
    script_time_axis(p);
    g_string_append_printf(p->gp, "set ylabel \"%s\"\nset key outside right top\nplot ", ylabel);
    for (uint32_t i = 0; i < d->n_nodes; i++) {
        g_autoptr(GArray) iv = dsim_run_data_intervals(d, i, run_end(p->r), mask);
        g_string_append_printf(p->dat, "%s# %s: time_s\t%s\n", i > 0 ? "\n\n" : "",
                               d->node_names[i], term ? "term" : "commit_index");
        for (unsigned k = 0; k < iv->len; k++) {
            const DsimInterval *x = &g_array_index(iv, DsimInterval, k);
            uint64_t v = term ? x->row->term : x->row->commit_index;
            put_seconds(p->dat, x->start);
            g_string_append_printf(p->dat, "\t%" PRIu64 "\n", v);
            if (k + 1 == iv->len) {
                put_seconds(p->dat, x->end);
                g_string_append_printf(p->dat, "\t%" PRIu64 "\n", v);
            }
        }
        /* lines drawn first are wider, so equal values still show every node */
        double lw = 1.5 + 3.0 * (double) (d->n_nodes - 1 - i) / (double) MAX(d->n_nodes - 1, 1);
        g_string_append_printf(p->gp, "%s\"%s.dat\" index %u using 1:2 with steps lw %.1f title ",
                               i > 0 ? ", \\\n     " : "", p->name, i, lw);
        put_quoted(p->gp, d->node_names[i]);
    }
    g_string_append(p->gp, "\n");
    script_tail(p);
}

/* the term only changes with the role's stretch (DSIM_IV_ROLE covers both) */
static void plot_term(Plot *p)
{
    plot_steps(p, "Term (ballot, epoch) of each node over time", "term", DSIM_IV_ROLE, true);
}

static void plot_commit_index(Plot *p)
{
    plot_steps(p, "Commit index of each node over time", "commit index", DSIM_IV_COMMIT, false);
}

/* ---- counts per time bin ----------------------------------------------------------------- */

static void bin_width_text(const DsimRunData *d, GString *out)
{
    const DsimTrafficBin *b = &g_array_index(d->traffic, DsimTrafficBin, 0);
    dsim_time_format_short(b->end - b->start, out);
}

static void plot_bins(Plot *p, bool ops)
{
    const DsimRunData *d = p->r->data;
    g_autoptr(GString) width = g_string_new(NULL);
    bin_width_text(d, width);
    g_autofree char *title = ops ? g_strdup_printf("Client operations completed per second (bins of %s)", width->str)
                                 : g_strdup_printf("Messages per second (bins of %s)", width->str);
    script_head(p, title, 420);
    script_time_axis(p);
    g_string_append(p->dat, ops ? "# start_s\tend_s\tok_per_s\tfail_per_s\tinfo_per_s\n"
                                : "# start_s\tend_s\tsent_per_s\tdelivered_per_s\tdropped_per_s\n");
    for (unsigned i = 0; i < d->traffic->len; i++) {
        const DsimTrafficBin *b = &g_array_index(d->traffic, DsimTrafficBin, i);
        if (b->end <= b->start)
            continue;
        double s = (double) (b->end - b->start) / 1e9;
        put_seconds(p->dat, b->start);
        g_string_append_c(p->dat, '\t');
        put_seconds(p->dat, b->end);
        if (ops)
            g_string_append_printf(p->dat, "\t%.6f\t%.6f\t%.6f\n", (double) b->ops_ok / s,
                                   (double) b->ops_fail / s, (double) b->ops_info / s);
        else
            g_string_append_printf(p->dat, "\t%.6f\t%.6f\t%.6f\n", (double) b->sent / s,
                                   (double) b->delivered / s, (double) b->dropped / s);
    }
    const char *t1 = ops ? "ok" : "sent", *t2 = ops ? "fail" : "delivered", *t3 = ops ? "info (unknown)" : "dropped";
    g_string_append_printf(p->gp,
                           "set ylabel \"per second\"\nset yrange [0:*]\nset key outside right top\n"
                           "plot \"%s.dat\" using (($1+$2)/2):3 with histeps lw 2 lc rgb \"#1f78b4\" title \"%s\", \\\n"
                           "     \"%s.dat\" using (($1+$2)/2):4 with histeps lw 2 lc rgb \"#33a02c\" title \"%s\", \\\n"
                           "     \"%s.dat\" using (($1+$2)/2):5 with histeps lw 2 lc rgb \"#e31a1c\" title \"%s\"\n",
                           p->name, t1, p->name, t2, p->name, t3);
    script_tail(p);
}

static void plot_messages(Plot *p) { plot_bins(p, false); }
static void plot_throughput(Plot *p) { plot_bins(p, true); }

/* ---- metrics ----------------------------------------------------------------------------- */

static const DsimSeries *series_of(const DsimRunResult *r, const char *plot, const char *prefix)
{
    const char *name = plot + strlen(prefix);
    for (unsigned i = 0; i < r->data->series->len; i++) {
        const DsimSeries *s = g_ptr_array_index(r->data->series, i);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    g_assert_not_reached();
}

/* All samples equal: gnuplot would warn of an empty range and pick its own; give one around
 * the value instead. */
static void flat_range(Plot *p, const char *axis, const DsimSeries *s)
{
    double v = g_array_index(s->samples, DsimSample, 0).value;
    for (unsigned i = 1; i < s->samples->len; i++) {
        if (g_array_index(s->samples, DsimSample, i).value != v)
            return;
    }
    double d = v != 0 ? fabs(v) / 2 : 1;
    g_string_append_printf(p->gp, "set %srange [%.9g:%.9g]\n", axis, v - d, v + d);
}

/* True when every sample has the same value: a metric that marks events (client_ok = 1 per
 * request that succeeded) rather than measuring something. */
static bool all_equal(const DsimSeries *s)
{
    for (unsigned i = 1; i < s->samples->len; i++) {
        if (g_array_index(s->samples, DsimSample, i).value != g_array_index(s->samples, DsimSample, 0).value)
            return false;
    }
    return true;
}

/* A metric that marks events is drawn as its running count: a row of identical points says
 * nothing, the slope of the count is the rate. When only every k-th sample was kept, each
 * kept sample stands for count / kept events. */
static void plot_event_count(Plot *p, const DsimSeries *s)
{
    g_autofree char *title = g_strdup_printf("%s: running count (%" PRIu64 " events)", s->name, s->count);
    script_head(p, title, 420);
    script_time_axis(p);
    double each = s->samples->len > 0 ? (double) s->count / s->samples->len : 1;
    g_string_append(p->dat, "# time_s\tcount\tnode\n");
    for (unsigned i = 0; i < s->samples->len; i++) {
        const DsimSample *x = &g_array_index(s->samples, DsimSample, i);
        put_seconds(p->dat, x->time);
        g_string_append_printf(p->dat, "\t%.9g\t%s\n", (i + 1) * each, x->node);
    }
    g_string_append(p->gp, "set ylabel ");
    g_autofree char *label = g_strdup_printf("%s (count)", s->name);
    put_quoted(p->gp, label);
    g_string_append(p->gp, "\n");
    g_string_append_printf(p->gp, "set key off\nplot \"%s.dat\" using 1:2 with steps lw 2 lc rgb \"#1f78b4\" notitle\n",
                           p->name);
    script_tail(p);
}

static void plot_metric(Plot *p)
{
    const DsimSeries *s = series_of(p->r, p->name, "metric-");
    if (s->samples->len >= 2 && all_equal(s)) {
        plot_event_count(p, s);
        return;
    }
    g_autofree char *title = s->samples->len < s->count
        ? g_strdup_printf("%s over time (%u of %" PRIu64 " samples)", s->name, s->samples->len, s->count)
        : g_strdup_printf("%s over time (%" PRIu64 " samples)", s->name, s->count);
    script_head(p, title, 420);
    script_time_axis(p);
    g_string_append(p->dat, "# time_s\tvalue\tnode\n");
    for (unsigned i = 0; i < s->samples->len; i++) {
        const DsimSample *x = &g_array_index(s->samples, DsimSample, i);
        put_seconds(p->dat, x->time);
        g_string_append_printf(p->dat, "\t%.9g\t%s\n", x->value, x->node);
    }
    g_string_append(p->gp, "set ylabel ");
    put_quoted(p->gp, s->name);
    g_string_append(p->gp, "\n");
    flat_range(p, "y", s);
    g_string_append_printf(p->gp, "set key off\nplot \"%s.dat\" using 1:2 with points pt 7 ps 0.5 lc rgb \"#1f78b4\" notitle\n",
                           p->name);
    script_tail(p);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The empirical CDF: after sorting, the k-th smallest of n values has F = k/n. Above
 * CDF_POINTS values, CDF_POINTS evenly spaced ranks (and the largest) are written. */
static void plot_cdf(Plot *p)
{
    const DsimSeries *s = series_of(p->r, p->name, "cdf-");
    size_t n = s->samples->len;
    g_autofree double *v = g_new(double, n);
    for (size_t i = 0; i < n; i++)
        v[i] = g_array_index(s->samples, DsimSample, i).value;
    qsort(v, n, sizeof *v, cmp_double);
    double p50 = v[(size_t) ceil(0.5 * (double) n) - 1];
    double p99 = v[(size_t) ceil(0.99 * (double) n) - 1];
    g_autofree char *title = g_strdup_printf("CDF of %s (n=%zu, median %.6g, p99 %.6g, max %.6g)",
                                             s->name, n, p50, p99, v[n - 1]);
    script_head(p, title, 420);
    g_string_append(p->dat, "# value\tfraction_at_or_below\n");
    size_t step = n > CDF_POINTS ? n / CDF_POINTS : 1;
    for (size_t k = 0; k < n; k += step)
        g_string_append_printf(p->dat, "%.9g\t%.6f\n", v[k], (double) (k + 1) / (double) n);
    if ((n - 1) % step != 0)
        g_string_append_printf(p->dat, "%.9g\t%.6f\n", v[n - 1], 1.0);
    g_string_append(p->gp, "set xlabel ");
    put_quoted(p->gp, g_str_has_suffix(s->name, "_seconds") ? "seconds" : s->name);
    g_string_append(p->gp, "\n");
    flat_range(p, "x", s);
    g_string_append_printf(p->gp, "set ylabel \"fraction of samples at or below\"\nset yrange [0:1.02]\nset key off\n"
                                  "plot \"%s.dat\" using 1:2 with steps lw 2 lc rgb \"#1f78b4\" notitle\n",
                           p->name);
    script_tail(p);
}

/* ---- gossip: the fraction of members informed over time, beside the theory -------------- */

static const DsimSeries *series_named(const DsimRunData *d, const char *name)
{
    for (unsigned i = 0; i < d->series->len; i++) {
        const DsimSeries *s = g_ptr_array_index(d->series, i);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

static unsigned gossip_members(const DsimRunResult *r)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->groups->len; i++) {
        const DsimResultGroup *g = &g_array_index(r->groups, DsimResultGroup, i);
        if (g->protocol != NULL && strcmp(g->protocol, "gossip") == 0)
            n += g->count;
    }
    return n;
}

/* A group parameter as the scenario file sets it, else the protocol's default. */
static const char *group_param(const DsimGroupSpec *g, const char *name)
{
    for (unsigned i = 0; i < g->param_names->len; i++) {
        if (strcmp(g_ptr_array_index(g->param_names, i), name) == 0)
            return g_ptr_array_index(g->param_values, i);
    }
    const DsimParam *p = dsim_param_find(g->protocol->params, name);
    return p != NULL ? p->def : NULL;
}

/* The run data keeps no protocol parameters, so the fan-out and period come from the
 * scenario file, when it can still be read, has one gossip group of push with never-stopping
 * rumors in synchronous rounds on a complete graph, and agrees with the run: the closed form
 * for that k and the group's size must give the predicted_rounds the run sampled (a --param
 * that changed the fan-out or the size shows there; one that changed only the period does
 * not). FALSE when any of this fails: then the plot has no theoretical curve. */
static bool gossip_push_setting(const DsimRunResult *r, unsigned n, double predicted,
                                double *k, DsimTime *period)
{
    if (r->file == NULL || !g_file_test(r->file, G_FILE_TEST_IS_REGULAR))
        return false;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_file(r->file, NULL);
    if (sc == NULL)
        return false;
    const DsimGroupSpec *found = NULL;
    for (unsigned i = 0; i < sc->groups->len; i++) {
        const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, i);
        if (strcmp(g->protocol->name, "gossip") != 0)
            continue;
        if (found != NULL)
            return false;
        found = g;
    }
    if (found == NULL || found->count != n)
        return false;
    const char *mode = group_param(found, "mode"), *stop = group_param(found, "stop");
    const char *rounds = group_param(found, "rounds"), *topo = group_param(found, "topology");
    const char *fanout = group_param(found, "fanout"), *per = group_param(found, "period");
    if (mode == NULL || strcmp(mode, "push") != 0 || stop == NULL || strcmp(stop, "never") != 0
        || rounds == NULL || strcmp(rounds, "sync") != 0 || topo == NULL
        || strcmp(topo, "complete") != 0 || fanout == NULL || per == NULL)
        return false;
    char *end = NULL;
    long f = strtol(fanout, &end, 10);
    if (*end != '\0' || f < 1 || !dsim_time_parse(per, period) || *period <= 0)
        return false;
    *k = (double) f;
    return fabs(gossip_theory_push_rounds((double) n, *k) - predicted) < 1e-6;
}

/* The measured curve is a step from the sorted informed_at_seconds samples (time since the
 * update was injected): after the j-th smallest, j members out of the group are informed
 * (with several updates, j pairs out of members times updates). When the samples were
 * thinned (every k-th kept), each kept one stands for count/kept.
 *
 * The theoretical curve is the deterministic mean-field recurrence of push gossip per period,
 *     i_{t+1} = 1 - (1 - i_t) exp(-k i_t),   i_0 = 1/N,
 * an uninformed member being missed by all k*i*N pushes of a round with probability about
 * e^{-k i}: the classic approximation behind the push bounds of Pittel ("On spreading a
 * rumor", SIAM J. Appl. Math. 47, 1987) and Karp, Schindelhauer, Shenker & Vöcking
 * ("Randomized rumor spreading", FOCS 2000). It is run until fewer than half a member is
 * left uninformed, and drawn as steps at multiples of the period, beside a vertical line at
 * the run's predicted_rounds periods (the closed form, theory.h). */
static void plot_informed_fraction(Plot *p)
{
    const DsimRunResult *r = p->r;
    const DsimSeries *s = series_named(r->data, "informed_at_seconds");
    const DsimSeries *pr = series_named(r->data, "predicted_rounds");
    size_t len = s->samples->len;
    g_autofree double *v = g_new(double, len);
    for (size_t i = 0; i < len; i++)
        v[i] = g_array_index(s->samples, DsimSample, i).value;
    qsort(v, len, sizeof *v, cmp_double);
    unsigned n = gossip_members(r);
    if (n == 0)
        n = r->n_nodes;
    uint64_t updates = MAX((s->count + n - 1) / MAX(n, 1), 1);
    double whole = (double) n * (double) updates;
    double predicted = pr != NULL && pr->samples->len > 0 ? g_array_index(pr->samples, DsimSample, 0).value : NAN;
    double k = 0;
    DsimTime period = 0;
    bool theory = !isnan(predicted) && gossip_push_setting(r, n, predicted, &k, &period);

    g_autofree char *title = theory
        ? g_strdup_printf("Fraction of members informed (N=%u, push, fan-out %g, period %g s) and the mean-field theory",
                          n, k, (double) period / 1e9)
        : g_strdup_printf("Fraction of members informed over time (N=%u)", n);
    script_head(p, title, 420);
    g_string_append_printf(p->dat, "# measured: seconds_since_injection\tfraction_informed (of %u member%s x %" PRIu64 " update%s)\n",
                           n, n == 1 ? "" : "s", updates, updates == 1 ? "" : "s");
    g_string_append(p->dat, "0\t0.000000\n");
    double scale = (double) s->count / (double) len;
    for (size_t j = 0; j < len; j++)
        g_string_append_printf(p->dat, "%.9g\t%.6f\n", v[j], MIN((double) (j + 1) * scale / whole, 1.0));
    double x_max = v[len - 1];
    if (theory) {
        double per = (double) period / 1e9;
        g_string_append(p->dat, "\n\n# mean-field push: seconds (round x period)\tfraction_informed\n");
        double i = 1.0 / n;
        for (unsigned t = 0; t <= 1000; t++) {
            g_string_append_printf(p->dat, "%.9g\t%.6f\n", t * per, i);
            if ((1.0 - i) * n < 0.5)
                break;
            i = 1.0 - (1.0 - i) * exp(-k * i);
        }
        x_max = MAX(x_max, predicted * per);
        g_string_append_printf(p->gp, "set arrow from %.9g, graph 0 to %.9g, graph 1 nohead dt 2 lw 1.5 lc rgb \"#e31a1c\"\n",
                               predicted * per, predicted * per);
        g_string_append_printf(p->gp, "set label \"predicted_rounds = %.3g (%.3g s)\" at %.9g, graph 0.5 right offset -0.5,0 textcolor rgb \"#e31a1c\"\n",
                               predicted, predicted * per, predicted * per);
    }
    g_string_append_printf(p->gp, "set xlabel \"seconds since the update was injected\"\nset xrange [0:%.9g]\n"
                                  "set ylabel \"fraction of members informed\"\nset yrange [0:1.02]\nset key left top\n"
                                  "plot \"%s.dat\" index 0 using 1:2 with steps lw 2 lc rgb \"#1f78b4\" title \"measured\"",
                           x_max > 0 ? x_max * 1.05 : 1.0, p->name);
    if (theory)
        g_string_append_printf(p->gp, ", \\\n     \"%s.dat\" index 1 using 1:2 with steps lw 2 dt 3 lc rgb \"#33a02c\" title \"mean-field push i' = 1 - (1 - i) exp(-k i)\", \\\n"
                                      "     NaN with lines dt 2 lw 1.5 lc rgb \"#e31a1c\" title \"predicted_rounds (closed form)\"",
                               p->name);
    g_string_append(p->gp, "\n");
    script_tail(p);
}

/* ---- SWIM: when deaths were first confirmed and when every member knew -------------------- */

/* Three blocks over absolute virtual time: each confirmation (confirmed_at_seconds, by the
 * member whose suspicion timer ran out), the running count of dead_known_at_seconds samples
 * (members learning of a death), and false positives (a live member told it was confirmed
 * dead). The samples do not name the dead member, so deaths are not told apart: the first
 * confirmation and the last dead_known sample are in the title. */
static void plot_swim_detection(Plot *p)
{
    const DsimRunData *d = p->r->data;
    const DsimSeries *conf = series_named(d, "confirmed_at_seconds");
    const DsimSeries *known = series_named(d, "dead_known_at_seconds");
    const DsimSeries *fp = series_named(d, "false_positive");
    DsimTime first = g_array_index(conf->samples, DsimSample, 0).time;
    for (unsigned i = 1; i < conf->samples->len; i++)
        first = MIN(first, g_array_index(conf->samples, DsimSample, i).time);
    DsimTime last = 0;
    if (known != NULL) {
        for (unsigned i = 0; i < known->samples->len; i++)
            last = MAX(last, g_array_index(known->samples, DsimSample, i).time);
    }
    uint64_t fps = fp != NULL ? fp->count : 0;
    g_autoptr(GString) title = g_string_new(NULL);
    g_string_append_printf(title, "SWIM detection: first confirmation at %.3f s", (double) first / 1e9);
    if (known != NULL && known->samples->len > 0)
        g_string_append_printf(title, ", last member learned at %.3f s", (double) last / 1e9);
    g_string_append_printf(title, ", %" PRIu64 " false positive%s", fps, fps == 1 ? "" : "s");
    script_head(p, title->str, 420);
    script_time_axis(p);

    g_string_append(p->dat, "# confirmations: time_s\tordinal\tnode\n");
    for (unsigned i = 0; i < conf->samples->len; i++) {
        const DsimSample *x = &g_array_index(conf->samples, DsimSample, i);
        put_seconds(p->dat, x->time);
        g_string_append_printf(p->dat, "\t%u\t%s\n", i + 1, x->node);
    }
    g_string_append(p->dat, "\n\n# dead known: time_s\tmembers_informed_of_a_death (running count)\n");
    double kscale = known != NULL && known->samples->len > 0
        ? (double) known->count / (double) known->samples->len : 1;
    g_string_append(p->dat, "0.000000000\t0\n");
    for (unsigned i = 0; known != NULL && i < known->samples->len; i++) {
        const DsimSample *x = &g_array_index(known->samples, DsimSample, i);
        put_seconds(p->dat, x->time);
        g_string_append_printf(p->dat, "\t%.0f\n", (double) (i + 1) * kscale);
    }
    g_string_append(p->dat, "\n\n# false positives: time_s\tnode\n");
    bool any_fp = fp != NULL && fp->samples->len > 0;
    for (unsigned i = 0; any_fp && i < fp->samples->len; i++) {
        const DsimSample *x = &g_array_index(fp->samples, DsimSample, i);
        put_seconds(p->dat, x->time);
        g_string_append_printf(p->dat, "\t%s\n", x->node);
    }
    if (!any_fp) /* gnuplot refuses an empty block: one point no range shows */
        g_string_append(p->dat, "NaN\t-\n");
    g_string_append_printf(p->gp,
        "set ylabel \"count\"\nset yrange [0:*]\nset key left top\n"
        "plot \"%s.dat\" index 1 using 1:2 with steps lw 2 lc rgb \"#1f78b4\" title \"members that know of a death\", \\\n"
        "     \"%s.dat\" index 0 using 1:2 with points pt 7 ps 0.8 lc rgb \"#33a02c\" title \"confirmations (n-th)\", \\\n"
        "     \"%s.dat\" index 2 using 1:(0) with points pt 2 ps 1.5 lw 2 lc rgb \"#e31a1c\" title \"false positive\"\n",
        p->name, p->name, p->name);
    script_tail(p);
}

/* ---- which plots ------------------------------------------------------------------------- */

typedef struct {
    const char *name;   /* or prefix, for metric- and cdf- */
    const char *family;
    void (*draw)(Plot *p);
} PlotKind;

static const PlotKind kinds[] = {
    { "leader-timeline", "leader-timeline", plot_leader_timeline },
    { "term", "term", plot_term },
    { "commit-index", "commit-index", plot_commit_index },
    { "node-status", "node-status", plot_node_status },
    { "messages", "messages", plot_messages },
    { "throughput", "throughput", plot_throughput },
    { "informed-fraction", "informed-fraction", plot_informed_fraction },
    { "swim-detection", "swim-detection", plot_swim_detection },
    { "metric-", "metrics", plot_metric },
    { "cdf-", "latency-cdf", plot_cdf },
    { NULL, NULL, NULL },
};

static const PlotKind *kind_of(const char *plot)
{
    for (const PlotKind *k = kinds; k->name != NULL; k++) {
        if (g_str_has_suffix(k->name, "-") ? g_str_has_prefix(plot, k->name) : strcmp(plot, k->name) == 0)
            return k;
    }
    return NULL;
}

bool dsim_report_plot_name_known(const char *name)
{
    for (const PlotKind *k = kinds; k->name != NULL; k++) {
        if (strcmp(name, k->family) == 0)
            return true;
    }
    const PlotKind *k = kind_of(name);
    return k != NULL && strlen(name) > strlen(k->name);
}

static bool selected(const DsimRunData *d, const char *plot)
{
    if (d->plots == NULL)
        return true;
    const PlotKind *k = kind_of(plot);
    for (unsigned i = 0; i < d->plots->len; i++) {
        const char *want = g_ptr_array_index(d->plots, i);
        if (strcmp(want, plot) == 0 || strcmp(want, k->family) == 0)
            return true;
    }
    return false;
}

static void offer(GPtrArray *names, const DsimRunData *d, char *plot)
{
    if (selected(d, plot))
        g_ptr_array_add(names, plot);
    else
        g_free(plot);
}

GPtrArray *dsim_report_plot_names(const DsimRunResult *r)
{
    const DsimRunData *d = r->data;
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    bool roles = false, terms = false, commits = false;
    for (unsigned i = 0; i < d->timeline->len; i++) {
        const DsimTimelineRow *t = &g_array_index(d->timeline, DsimTimelineRow, i);
        roles = roles || t->role != DSIM_ROLE_NONE;
        terms = terms || t->term > 0;
        commits = commits || t->commit_index > 0;
    }
    bool ops = false;
    for (unsigned i = 0; i < d->traffic->len; i++) {
        const DsimTrafficBin *b = &g_array_index(d->traffic, DsimTrafficBin, i);
        ops = ops || b->ops_ok + b->ops_fail + b->ops_info > 0;
    }
    if (roles && d->n_nodes > 0)
        offer(names, d, g_strdup("leader-timeline"));
    if (terms && d->n_nodes > 0)
        offer(names, d, g_strdup("term"));
    if (commits && d->n_nodes > 0)
        offer(names, d, g_strdup("commit-index"));
    if (d->n_nodes > 0)
        offer(names, d, g_strdup("node-status"));
    if (d->traffic->len > 0)
        offer(names, d, g_strdup("messages"));
    if (ops)
        offer(names, d, g_strdup("throughput"));
    const DsimSeries *informed = series_named(d, "informed_at_seconds");
    if (informed != NULL && informed->samples->len > 0)
        offer(names, d, g_strdup("informed-fraction"));
    const DsimSeries *confirmed = series_named(d, "confirmed_at_seconds");
    if (confirmed != NULL && confirmed->samples->len > 0)
        offer(names, d, g_strdup("swim-detection"));
    for (unsigned i = 0; i < d->series->len; i++) {
        const DsimSeries *s = g_ptr_array_index(d->series, i);
        if (s->samples->len > 0)
            offer(names, d, g_strdup_printf("metric-%s", s->name));
    }
    for (unsigned i = 0; i < d->series->len; i++) {
        const DsimSeries *s = g_ptr_array_index(d->series, i);
        if (s->samples->len >= 2 && g_str_has_suffix(s->name, "_seconds"))
            offer(names, d, g_strdup_printf("cdf-%s", s->name));
    }
    return names;
}

/* ---- rendering --------------------------------------------------------------------------- */

static char *find_gnuplot(const DsimPlotOptions *opt)
{
    const char *prog = opt->gnuplot != NULL ? opt->gnuplot : g_getenv("DSIM_GNUPLOT");
    if (prog == NULL || *prog == '\0')
        prog = DSIM_GNUPLOT;
    if (g_path_is_absolute(prog))
        return g_file_test(prog, G_FILE_TEST_IS_EXECUTABLE) ? g_strdup(prog) : NULL;
    return g_find_program_in_path(prog);
}

/* Runs gnuplot on every script in one process; FALSE and a note when it failed. */
static bool run_gnuplot(const char *prog, const char *plots_dir, GPtrArray *names, const char *fmt,
                        GString *notes)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(prog));
    g_ptr_array_add(argv, g_strdup("-e"));
    g_ptr_array_add(argv, g_strdup_printf("fmt='%s'", fmt));
    for (unsigned i = 0; i < names->len; i++)
        g_ptr_array_add(argv, g_strdup_printf("%s.gp", (char *) g_ptr_array_index(names, i)));
    g_ptr_array_add(argv, NULL);
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    gint status = 0;
    if (!g_spawn_sync(plots_dir, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                      NULL, NULL, &err, &status, &error)) {
        g_string_append_printf(notes, "plots: cannot run %s: %s\n", prog, error->message);
        return false;
    }
    if (!g_spawn_check_wait_status(status, &error)) {
        g_strstrip(err);
        g_string_append_printf(notes, "plots: %s failed (%s)%s%s\n", prog, error->message,
                               *err != '\0' ? ": " : "", err);
        return false;
    }
    return true;
}

gboolean dsim_report_render_scripts(const char *plots_dir, GPtrArray *names, bool png, GString *notes)
{
    DsimPlotOptions opt = { .png = png };
    g_autofree char *prog = find_gnuplot(&opt);
    if (prog == NULL) {
        g_string_append_printf(notes, "plots: gnuplot not found; render them with: cd %s && gnuplot *.gp\n",
                               plots_dir);
        return FALSE;
    }
    if (!run_gnuplot(prog, plots_dir, names, "svg", notes))
        return FALSE;
    return !png || run_gnuplot(prog, plots_dir, names, "png", notes);
}

gboolean dsim_report_write_plots(const DsimRunResult *r, const char *dir, const DsimPlotOptions *opt,
                                 bool *rendered, GString *notes, GError **error)
{
    *rendered = false;
    g_autofree char *plots_dir = g_build_filename(dir, "plots", NULL);
    if (g_mkdir_with_parents(plots_dir, 0755) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s",
                    plots_dir, g_strerror(e));
        return FALSE;
    }
    g_autoptr(GPtrArray) names = dsim_report_plot_names(r);
    for (unsigned i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        Plot p = { .r = r, .name = name, .dat = g_string_new(NULL), .gp = g_string_new(NULL) };
        kind_of(name)->draw(&p);
        g_autofree char *dat = g_strdup_printf("%s/%s.dat", plots_dir, name);
        g_autofree char *gp = g_strdup_printf("%s/%s.gp", plots_dir, name);
        gboolean ok = g_file_set_contents(dat, p.dat->str, (gssize) p.dat->len, error)
                      && g_file_set_contents(gp, p.gp->str, (gssize) p.gp->len, error);
        g_string_free(p.dat, TRUE);
        g_string_free(p.gp, TRUE);
        if (!ok)
            return FALSE;
        /* an old picture must not pass for a new one if gnuplot fails below */
        for (unsigned k = 0; k < 2; k++) {
            g_autofree char *old = g_strdup_printf("%s/%s.%s", plots_dir, name, k == 0 ? "svg" : "png");
            g_remove(old);
        }
    }
    if (names->len == 0)
        return TRUE;
    g_autofree char *prog = find_gnuplot(opt);
    if (prog == NULL) {
        const char *shown = opt->shown_dir != NULL ? opt->shown_dir : dir;
        g_string_append_printf(notes, "plots: gnuplot not found (apt-get install gnuplot-nox); "
                                      "data and scripts are in %s/plots; render them with: "
                                      "cd %s/plots && gnuplot *.gp\n", shown, shown);
        return TRUE;
    }
    *rendered = run_gnuplot(prog, plots_dir, names, "svg", notes)
                && (!opt->png || run_gnuplot(prog, plots_dir, names, "png", notes));
    return TRUE;
}
