/* html.c - index.html: one self-contained page per run, with the space-time diagram.
 *
 * The page needs no network and no script: inline CSS, the diagram as inline SVG, the plots
 * as <img> of the SVG files beside it (relative links, so the folder can be moved, zipped or
 * served as it is). It holds nothing from the wall clock, so the same run gives the same
 * bytes.
 *
 * The space-time diagram (a message sequence chart, Lamport's "space-time diagram" of
 * "Time, Clocks, and the Ordering of Events", 1978): one horizontal lane per node, time
 * flowing to the right over the window; each message an arrow from (sender, send time) to
 * (receiver, arrival); a dropped message an arrow ending in a cross, at the receiver when it
 * was dropped on arrival, half-way when it was dropped as it was sent; crashed, paused and
 * cut-off stretches shaded on the lane; the leader's lane tinted while it leads, with its
 * term; faults and failed checks as vertical lines. Every element has a <title>, which a
 * browser shows on hover, and a stable class (lane, msg, msg dropped, fault, failure) that the
 * tests count.
 */
#include <config.h>

#include "reports/report.h"

#include <math.h>
#include <string.h>

#include "sim/time.h"

/* geometry of the diagram, in SVG user units */
#define ST_LEFT   90    /* lane labels */
#define ST_WIDTH  1000  /* the time axis */
#define ST_RIGHT  30
#define ST_TOP    46    /* tick labels and fault marks */
#define ST_BOTTOM 16
#define DROP_DX   14    /* how far right a message dropped at send is drawn */

static void put_escaped(GString *o, const char *s)
{
    g_autofree char *e = g_markup_escape_text(s != NULL ? s : "", -1);
    g_string_append(o, e);
}

static void put_time(GString *o, DsimTime t)
{
    g_autoptr(GString) s = g_string_new(NULL);
    dsim_time_format_short(t, s);
    g_string_append(o, s->str);
}

typedef struct {
    GString            *o;
    const DsimRunData  *d;
    DsimTime            from, to;
    double              scale; /* user units per ns */
    double              gap;   /* between lanes */
    double              height;
} Chart;

static double x_of(const Chart *c, DsimTime t)
{
    return ST_LEFT + (double) (t - c->from) * c->scale;
}

static double y_of(const Chart *c, uint32_t node)
{
    return ST_TOP + c->gap * (node + 0.5);
}

/* A tick step of 1, 2 or 5 times a power of ten nanoseconds: the smallest of those at least
 * a tenth of the span, so the axis gets five to ten ticks. */
static DsimTime tick_step(DsimTime span)
{
    DsimTime target = MAX(span / 10, 1);
    DsimTime mag = 1;
    while (mag <= target / 10)
        mag *= 10;
    if (mag >= target)
        return mag;
    if (2 * mag >= target)
        return 2 * mag;
    if (5 * mag >= target)
        return 5 * mag;
    return 10 * mag;
}

static void axis(Chart *c)
{
    GString *o = c->o;
    DsimTime span = c->to - c->from;
    DsimTime step = tick_step(span);
    g_string_append(o, "<g class=\"axis\">\n");
    g_string_append_printf(o, "<line class=\"axis-line\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
                           ST_LEFT, ST_TOP - 8, ST_LEFT + ST_WIDTH, ST_TOP - 8);
    for (DsimTime t = (c->from + step - 1) / step * step; t <= c->to; t += step) {
        double x = x_of(c, t);
        g_string_append_printf(o, "<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>"
                                  "<text class=\"tick-label\" x=\"%.1f\" y=\"%d\">",
                               x, ST_TOP - 12, x, c->height - ST_BOTTOM, x, ST_TOP - 16);
        put_time(o, t);
        g_string_append(o, "</text>\n");
    }
    g_string_append(o, "</g>\n");
}

static void band(Chart *c, const char *cls, uint32_t node, DsimTime a, DsimTime b, const char *title)
{
    a = MAX(a, c->from);
    b = MIN(b, c->to);
    if (b <= a)
        return;
    double y = y_of(c, node) - c->gap / 2 + 2;
    g_string_append_printf(c->o, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>",
                           cls, x_of(c, a), y, MAX(x_of(c, b) - x_of(c, a), 0.5), c->gap - 4);
    put_escaped(c->o, title);
    g_string_append(c->o, "</title></rect>\n");
}

static char *span_text(const char *who, const char *what, DsimTime a, DsimTime b)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_string_append_printf(s, "%s %s from ", who, what);
    put_time(s, a);
    g_string_append(s, " to ");
    put_time(s, b);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static void lane(Chart *c, uint32_t node, DsimTime end)
{
    const DsimRunData *d = c->d;
    const char *name = d->node_names[node];
    GString *o = c->o;
    g_string_append(o, "<g class=\"lane\" data-node=\"");
    put_escaped(o, name);
    g_string_append(o, "\">\n");
    g_autoptr(GArray) st = dsim_run_data_intervals(d, node, end, DSIM_IV_STATUS);
    for (unsigned k = 0; k < st->len; k++) {
        const DsimInterval *x = &g_array_index(st, DsimInterval, k);
        if (x->row->status == DSIM_NODE_UP)
            continue;
        bool crashed = x->row->status == DSIM_NODE_CRASHED;
        g_autofree char *t = span_text(name, crashed ? "crashed" : "paused", x->start, x->end);
        band(c, crashed ? "crashed" : "paused", node, x->start, x->end, t);
    }
    g_autoptr(GArray) cut = dsim_run_data_intervals(d, node, end, DSIM_IV_CUT);
    for (unsigned k = 0; k < cut->len; k++) {
        const DsimInterval *x = &g_array_index(cut, DsimInterval, k);
        if (x->row->cut == 0)
            continue;
        g_autofree char *what = g_strdup_printf("cut off from %u of %u nodes", x->row->cut, d->n_nodes - 1);
        g_autofree char *t = span_text(name, what, x->start, x->end);
        band(c, "cut", node, x->start, x->end, t);
    }
    g_autoptr(GArray) roles = dsim_run_data_intervals(d, node, end, DSIM_IV_STATUS | DSIM_IV_ROLE);
    for (unsigned k = 0; k < roles->len; k++) {
        const DsimInterval *x = &g_array_index(roles, DsimInterval, k);
        if (x->row->status == DSIM_NODE_CRASHED || x->end < c->from || x->start > c->to)
            continue;
        if (x->row->role == DSIM_ROLE_CANDIDATE) {
            g_autofree char *what = g_strdup_printf("candidate in term %" PRIu64, x->row->term);
            g_autofree char *t = span_text(name, what, x->start, x->end);
            band(c, "candidate", node, x->start, x->end, t);
        }
        if (x->row->role != DSIM_ROLE_LEADER)
            continue;
        g_autofree char *what = g_strdup_printf("leader in term %" PRIu64, x->row->term);
        g_autofree char *t = span_text(name, what, x->start, x->end);
        band(c, "leader", node, x->start, x->end, t);
        g_string_append_printf(o, "<text class=\"term\" x=\"%.1f\" y=\"%.1f\">t%" PRIu64 "</text>\n",
                               x_of(c, MAX(x->start, c->from)) + 2, y_of(c, node) - c->gap / 2 + 13,
                               x->row->term);
    }
    double y = y_of(c, node);
    g_string_append_printf(o, "<line class=\"lane-line\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n",
                           ST_LEFT, y, ST_LEFT + ST_WIDTH, y);
    g_string_append_printf(o, "<text class=\"lane-label\" x=\"%d\" y=\"%.1f\">", ST_LEFT - 8, y);
    put_escaped(o, name);
    g_string_append(o, "<title>");
    put_escaped(o, name);
    g_string_append(o, " (group ");
    put_escaped(o, d->node_groups[node]);
    g_string_append(o, ", ");
    put_escaped(o, d->node_protocols[node]);
    g_string_append(o, ")</title></text>\n</g>\n");
}

static void vertical(Chart *c, const char *cls, DsimTime t, const char *label, const char *title)
{
    double x = x_of(c, t);
    g_string_append_printf(c->o, "<g class=\"%s\"><title>", cls);
    put_escaped(c->o, title);
    g_string_append_printf(c->o, "</title><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>"
                                 "<text x=\"%.1f\" y=\"%d\">%s</text></g>\n",
                           x, ST_TOP - 6, x, c->height - ST_BOTTOM, x, ST_TOP - 2, label);
}

static void message(Chart *c, const DsimMessageRow *m)
{
    const DsimRunData *d = c->d;
    double x1 = x_of(c, m->sent), y1 = y_of(c, m->from);
    double x2, y2 = y_of(c, m->to);
    const char *cls = "msg", *marker = "st-arrow";
    g_autoptr(GString) t = g_string_new(m->summary);
    g_string_append_printf(t, "\n%s \u2192 %s, sent ", d->node_names[m->from], d->node_names[m->to]);
    put_time(t, m->sent);
    switch (m->fate) {
    case DSIM_FATE_DELIVERED:
        g_string_append(t, ", delivered ");
        put_time(t, m->end);
        x2 = x_of(c, m->end);
        break;
    case DSIM_FATE_DROPPED_ON_ARRIVAL:
        g_string_append_printf(t, ", dropped on arrival (%s) ", dsim_drop_reason_name(m->reason));
        put_time(t, m->end);
        x2 = x_of(c, m->end);
        cls = "msg dropped";
        marker = "st-cross";
        break;
    case DSIM_FATE_DROPPED_AT_SEND:
        g_string_append_printf(t, ", dropped as it was sent (%s)", m->reason == DSIM_DROP_LOSS ? "lost" : "link cut");
        x2 = x1 + DROP_DX;
        y2 = (y1 + y2) / 2;
        cls = "msg dropped";
        marker = "st-cross";
        break;
    case DSIM_FATE_IN_FLIGHT:
    default:
        g_string_append(t, ", still in flight when the run ended (due ");
        put_time(t, m->end);
        g_string_append(t, ")");
        x2 = x_of(c, m->end);
        cls = "msg in-flight";
        marker = "st-open";
        break;
    }
    g_string_append_printf(c->o, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                 "marker-end=\"url(#%s)\"><title>",
                           cls, x1, y1, x2, y2, marker);
    put_escaped(c->o, t->str);
    g_string_append(c->o, "</title></line>\n");
}

GString *dsim_report_spacetime_svg(const DsimRunResult *r, DsimTime from, DsimTime to)
{
    const DsimRunData *d = r->data;
    GString *o = g_string_new(NULL);
    Chart c = { .o = o, .d = d, .from = from, .to = MAX(to, from + 1) };
    c.scale = (double) ST_WIDTH / (double) (c.to - c.from);
    c.gap = d->n_nodes > 24 ? 20 : d->n_nodes > 12 ? 28 : 40;
    c.height = ST_TOP + c.gap * d->n_nodes + ST_BOTTOM;
    int width = ST_LEFT + ST_WIDTH + ST_RIGHT;

    g_string_append_printf(o, "<svg class=\"spacetime\" xmlns=\"http://www.w3.org/2000/svg\" "
                              "viewBox=\"0 0 %d %.0f\" width=\"%d\" height=\"%.0f\" role=\"img\" "
                              "aria-label=\"space-time diagram\">\n", width, c.height, width, c.height);
    g_string_append_printf(o, "<defs>\n"
        "<marker id=\"st-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path class=\"head\" d=\"M0,1 L10,5 L0,9 z\"/></marker>\n"
        "<marker id=\"st-open\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path class=\"open-head\" d=\"M0,1 L10,5 L0,9\"/></marker>\n"
        "<marker id=\"st-cross\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto\"><path class=\"cross\" d=\"M1,1 L9,9 M9,1 L1,9\"/></marker>\n"
        "<pattern id=\"st-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><line class=\"hatch\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\"/></pattern>\n"
        "<clipPath id=\"st-clip\"><rect x=\"%d\" y=\"0\" width=\"%d\" height=\"%.0f\"/></clipPath>\n"
        "</defs>\n", ST_LEFT, ST_WIDTH + 1, c.height);
    axis(&c);

    DsimTime end = MAX(r->end_time, to);
    g_string_append(o, "<g class=\"lanes\">\n");
    for (uint32_t i = 0; i < d->n_nodes; i++)
        lane(&c, i, end);
    g_string_append(o, "</g>\n<g class=\"events\">\n");

    unsigned k = 0;
    for (unsigned i = 0; i < d->faults->len; i++) {
        const DsimFaultRow *f = &g_array_index(d->faults, DsimFaultRow, i);
        if (f->time < from || f->time > to)
            continue;
        g_autoptr(GString) t = g_string_new(NULL);
        put_time(t, f->time);
        g_string_append_printf(t, " (event %" PRIu64 "): %s", f->event, f->text);
        g_autofree char *label = g_strdup_printf("F%u", ++k);
        vertical(&c, "fault", f->time, label, t->str);
    }
    k = 0;
    for (unsigned i = 0; i < r->verdicts->len; i++) {
        const DsimVerdict *v = &g_array_index(r->verdicts, DsimVerdict, i);
        if (!v->evaluated || v->passed || v->time < from || v->time > to)
            continue;
        g_autoptr(GString) t = g_string_new(NULL);
        g_string_append_printf(t, "%s failed at event %" PRIu64 ", ", v->name, v->event_index);
        put_time(t, v->time);
        g_string_append_printf(t, ": %s", v->message != NULL ? v->message : "");
        g_autofree char *label = g_strdup_printf("C%u", ++k);
        vertical(&c, "failure", v->time, label, t->str);
    }
    g_string_append(o, "</g>\n<g class=\"messages\" clip-path=\"url(#st-clip)\">\n");
    for (unsigned i = 0; i < d->messages->len; i++) {
        const DsimMessageRow *m = &g_array_index(d->messages, DsimMessageRow, i);
        if (m->sent >= from && m->sent <= to)
            message(&c, m);
    }
    g_string_append(o, "</g>\n</svg>\n");
    return o;
}

/* ---- the page ----------------------------------------------------------------------------- */

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;margin:0 auto;max-width:1180px;padding:0 18px 40px}\n"
    "h1{font-size:1.6em;margin:.8em 0 .2em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}\n"
    "table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}\n"
    "th{background:#f6f6f6}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".verdict{display:inline-block;padding:1px 8px;border-radius:4px;font-weight:bold;color:#fff}\n"
    ".PASS{background:#2e7d32}.FAIL{background:#c62828}.NOT-RUN{background:#888}\n"
    "tr.failed td{background:#fdecea}code{font-size:.92em}\n"
    ".description{max-width:60em}.note{color:#555;font-size:.92em}\n"
    ".scroll{overflow-x:auto;border:1px solid #ddd;background:#fff}\n"
    "figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.9em;color:#555}\n"
    "nav a{margin-right:1em}\n"
    "div.trace{margin:.4em 0 1.2em}div.span{display:flex;align-items:center;font-size:.88em;height:1.45em}\n"
    "div.span .who{flex:0 0 20em;box-sizing:border-box;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\n"
    "div.span .lane{flex:1;position:relative;height:1.05em;background:#fafafa}\n"
    "div.span .bar{position:absolute;top:0;bottom:0;min-width:2px;background:#1f78b4;border-radius:2px}\n"
    "div.span .bar.fail{background:#c62828}div.span .bar.timeout{background:#ef6c00}div.span .bar.lost,div.span .bar.pending{background:#888}\n"
    "svg.spacetime{font:12px system-ui,sans-serif;display:block}\n"
    "svg .axis-line,svg .tick{stroke:#ccc;stroke-width:1}svg .tick-label{text-anchor:middle;fill:#555}\n"
    "svg .lane-line{stroke:#999;stroke-width:1}svg .lane-label{text-anchor:end;dominant-baseline:middle;font-weight:bold}\n"
    "svg rect.leader{fill:#e31a1c;fill-opacity:.13}svg rect.candidate{fill:#fdbf6f;fill-opacity:.45}svg rect.crashed{fill:#404040;fill-opacity:.35}\n"
    "svg rect.paused{fill:#b15928;fill-opacity:.3}svg rect.cut{fill:url(#st-hatch)}svg .hatch{stroke:#6a3d9a;stroke-width:1.5;stroke-opacity:.45}\n"
    "svg .term{fill:#b71c1c;font-size:10px}\n"
    "svg line.msg{stroke:#1f78b4;stroke-width:1.3}svg line.msg.dropped{stroke:#e31a1c;stroke-dasharray:4 2}\n"
    "svg line.msg.in-flight{stroke:#888;stroke-dasharray:2 3}svg line.msg:hover{stroke-width:3.5}\n"
    "svg .head{fill:#1f78b4}svg .open-head{fill:none;stroke:#888;stroke-width:1.5}svg .cross{stroke:#e31a1c;stroke-width:2.2;fill:none}\n"
    "svg .fault line{stroke:#6a3d9a;stroke-width:1.5;stroke-dasharray:6 3}svg .fault text{fill:#6a3d9a;text-anchor:middle;font-size:11px}\n"
    "svg .failure line{stroke:#c62828;stroke-width:2}svg .failure text{fill:#c62828;text-anchor:middle;font-size:11px;font-weight:bold}\n"
    ".legend span{display:inline-block;margin-right:1.2em}.key{display:inline-block;width:22px;height:10px;vertical-align:middle;margin-right:4px}\n";

static const char *verdict_word(const DsimVerdict *v)
{
    return !v->evaluated ? "NOT-RUN" : v->passed ? "PASS" : "FAIL";
}

static void facts(GString *o, const DsimRunResult *r)
{
    g_autofree char *hash = dsim_hash_hex(r->trace_hash);
    g_string_append(o, "<table class=\"facts\">\n<tr><th>file</th><td><code>");
    put_escaped(o, r->file);
    g_string_append_printf(o, "</code></td></tr>\n<tr><th>seed</th><td>%" PRIu64 "</td></tr>\n"
                              "<tr><th>trace hash</th><td><code>%s</code></td></tr>\n"
                              "<tr><th>virtual time</th><td>", r->seed, hash);
    put_time(o, r->end_time);
    if (r->stopped_early) {
        g_string_append(o, " (stopped early at --max-events; the scenario runs ");
        put_time(o, r->duration);
        g_string_append(o, ")");
    }
    g_string_append_printf(o, "</td></tr>\n<tr><th>events</th><td>%" PRIu64 "</td></tr>\n<tr><th>nodes</th><td>%u: ",
                           r->events, r->n_nodes);
    for (unsigned i = 0; i < r->groups->len; i++) {
        const DsimResultGroup *g = &g_array_index(r->groups, DsimResultGroup, i);
        g_string_append(o, i > 0 ? "; " : "");
        g_string_append_printf(o, "group <code>");
        put_escaped(o, g->name);
        g_string_append_printf(o, "</code> of %u running <code>", g->count);
        put_escaped(o, g->protocol);
        g_string_append(o, "</code>");
    }
    g_string_append(o, "</td></tr>\n</table>\n");
}

static void checks(GString *o, const DsimRunResult *r)
{
    g_string_append(o, "<section id=\"checks\">\n<h2>Checks</h2>\n");
    if (r->verdicts->len == 0) {
        g_string_append(o, "<p>This scenario has no checks.</p>\n</section>\n");
        return;
    }
    g_string_append(o, "<table class=\"verdicts\">\n<tr><th>check</th><th>group</th><th>verdict</th>"
                       "<th>event</th><th>time</th><th>detail</th></tr>\n");
    for (unsigned i = 0; i < r->verdicts->len; i++) {
        const DsimVerdict *v = &g_array_index(r->verdicts, DsimVerdict, i);
        bool failed = v->evaluated && !v->passed;
        g_string_append_printf(o, "<tr%s><td>", failed ? " class=\"failed\"" : "");
        put_escaped(o, v->name);
        g_string_append(o, "</td><td>");
        put_escaped(o, v->group != NULL ? v->group : "-");
        g_string_append_printf(o, "</td><td><span class=\"verdict %s\">%s</span></td><td class=\"num\">",
                               verdict_word(v), verdict_word(v));
        if (failed) {
            g_string_append_printf(o, "%" PRIu64 "</td><td class=\"num\">", v->event_index);
            put_time(o, v->time);
        } else {
            g_string_append(o, "</td><td class=\"num\">");
        }
        g_string_append(o, "</td><td>");
        if (v->message != NULL)
            put_escaped(o, v->message);
        else if (v->has_figure)
            g_string_append_printf(o, "%.6f", v->figure);
        g_string_append(o, "</td></tr>\n");
    }
    g_string_append(o, "</table>\n</section>\n");
}

/* The slowest traces as bars on a common time line per trace (a Gantt chart of the spans,
 * as Zipkin and Jaeger draw a trace): indented by depth, offset and length in percent of the
 * root span. */
static void traces(GString *o, const DsimRunResult *r)
{
    const GArray *t = r->data != NULL ? r->data->traces : NULL;
    if (t == NULL || t->len == 0)
        return;
    g_string_append(o, "<section id=\"traces\">\n<h2>Slowest traces</h2>\n<p class=\"note\">The requests "
                       "whose root call took longest, each as its spans on one time line (times at the "
                       "callers). Every call of the run is in <a href=\"spans.json\">spans.json</a> "
                       "(Zipkin v2).</p>\n");
    for (unsigned i = 0; i < t->len;) {
        const DsimTraceRow *root = &g_array_index(t, DsimTraceRow, i);
        unsigned end = i;
        while (end < t->len && g_array_index(t, DsimTraceRow, end).trace == root->trace)
            end++;
        /* the root is the trace's earliest span; the time line spans all of them */
        DsimTime from = root->start, to = root->end;
        for (unsigned k = i; k < end; k++)
            to = MAX(to, g_array_index(t, DsimTraceRow, k).end);
        double total = (double) MAX(to - from, 1);
        g_string_append_printf(o, "<div class=\"trace\"><p><b>trace %016" PRIx64 "</b>: %.3f ms, %u spans</p>\n",
                               root->trace, (double) (to - from) / 1e6, end - i);
        for (unsigned k = i; k < end; k++) {
            const DsimTraceRow *s = &g_array_index(t, DsimTraceRow, k);
            unsigned depth = 0; /* parents come before their children (they start first) */
            for (uint64_t p = s->parent; p != 0 && depth < 8; depth++) {
                uint64_t up = 0;
                for (unsigned q = i; q < end; q++) {
                    if (g_array_index(t, DsimTraceRow, q).id == p)
                        up = g_array_index(t, DsimTraceRow, q).parent;
                }
                p = up;
            }
            g_string_append_printf(o, "<div class=\"span\"><span class=\"who\" style=\"padding-left:%ue"
                                      "m\">", depth);
            put_escaped(o, s->caller);
            g_string_append(o, " &rarr; ");
            put_escaped(o, s->callee);
            g_string_append(o, " <code>");
            put_escaped(o, s->method);
            g_string_append_printf(o, "</code></span><span class=\"lane\"><span class=\"bar %s\" "
                                      "style=\"left:%.2f%%;width:%.2f%%\" title=\"",
                                   dsim_span_status_name(s->status), 100.0 * (double) (s->start - from) / total,
                                   100.0 * (double) (s->end - s->start) / total);
            put_time(o, s->start);
            g_string_append(o, " + ");
            g_string_append_printf(o, "%.3f ms, %s\"></span></span></div>\n", (double) (s->end - s->start) / 1e6,
                                   dsim_span_status_name(s->status));
        }
        g_string_append(o, "</div>\n");
        i = end;
    }
    g_string_append(o, "</section>\n");
}

static void figures(GString *o, const DsimRunResult *r)
{
    const DsimCounters *c = &r->counters;
    g_string_append(o, "<section id=\"figures\">\n<h2>Figures</h2>\n<table class=\"counters\">\n");
    struct {
        const char *what;
        uint64_t    n;
    } rows[] = {
        { "events", c->events },
        { "messages sent", c->sent },
        { "messages delivered", c->delivered },
        { "duplicated by the network", c->duplicated },
        { "lost (loss probability)", c->dropped[DSIM_DROP_LOSS] },
        { "cut (partition, block, disconnect)", c->dropped[DSIM_DROP_PARTITION] },
        { "arrived at a crashed node", c->dropped[DSIM_DROP_CRASHED] },
        { "late responses (the call had timed out)", c->dropped[DSIM_DROP_LATE] },
        { "bytes sent", c->bytes_sent },
        { "timers fired", c->timers_fired },
        { "faults applied", c->faults },
        { "crashes / restarts", c->crashes },
        { "durable writes / syncs", c->persists },
        { "unsynced writes lost", c->unsynced_lost },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_string_append_printf(o, "<tr><th>%s</th><td class=\"num\">%" PRIu64, rows[i].what, rows[i].n);
        if (strcmp(rows[i].what, "crashes / restarts") == 0)
            g_string_append_printf(o, " / %" PRIu64, c->restarts);
        if (strcmp(rows[i].what, "durable writes / syncs") == 0)
            g_string_append_printf(o, " / %" PRIu64, c->syncs);
        g_string_append(o, "</td></tr>\n");
    }
    g_string_append(o, "</table>\n");
    if (c->calls > 0)
        g_string_append_printf(o, "<p>Calls: %" PRIu64 " made; %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
                                  " timed out (the rest were open at the end or lost in a crash); "
                                  "every call is a span in <a href=\"spans.json\">spans.json</a>.</p>\n",
                               c->calls, c->calls_ok, c->calls_failed, c->calls_timed_out);
    if (r->data != NULL && r->data->calls != NULL && r->data->calls->len > 0) {
        g_string_append(o, "<table class=\"metrics\">\n<tr><th>caller</th><th>callee</th><th>method</th>"
                           "<th>calls</th><th>ok</th><th>failed</th><th>timed out</th><th>other</th>"
                           "<th>p50 (s)</th><th>p99 (s)</th><th>max (s)</th></tr>\n");
        for (unsigned i = 0; i < r->data->calls->len; i++) {
            const DsimCallStat *k = &g_array_index(r->data->calls, DsimCallStat, i);
            g_string_append(o, "<tr><td>");
            put_escaped(o, k->caller);
            g_string_append(o, "</td><td>");
            put_escaped(o, k->callee);
            g_string_append(o, "</td><td><code>");
            put_escaped(o, k->method);
            g_string_append_printf(o, "</code></td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%" PRIu64
                                      "</td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%" PRIu64
                                      "</td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%.6g</td>"
                                      "<td class=\"num\">%.6g</td><td class=\"num\">%.6g</td></tr>\n",
                                   k->count, k->ok, k->failed, k->timed_out, k->other, k->p50, k->p99, k->max);
        }
        g_string_append(o, "</table>\n");
    }
    if (r->has_clients)
        g_string_append_printf(o, "<p>Client operations: %" PRIu64 " invoked, %" PRIu64 " ok, %" PRIu64
                                  " failed, %" PRIu64 " of unknown outcome (info); %.1f ok per second.</p>\n",
                               r->ops_invoked, r->ops_ok, r->ops_fail, r->ops_info, r->throughput);
    if (r->metrics->len > 0) {
        g_string_append(o, "<table class=\"metrics\">\n<tr><th>figure</th><th>count</th><th>min</th>"
                           "<th>mean</th><th>max</th><th>last</th></tr>\n");
        for (unsigned i = 0; i < r->metrics->len; i++) {
            const DsimMetricStat *m = &g_array_index(r->metrics, DsimMetricStat, i);
            g_string_append(o, "<tr><td><code>");
            put_escaped(o, m->name);
            g_string_append_printf(o, "</code></td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%.6g</td>"
                                      "<td class=\"num\">%.6g</td><td class=\"num\">%.6g</td><td class=\"num\">%.6g</td></tr>\n",
                                   m->count, m->min, m->count > 0 ? m->sum / (double) m->count : 0.0,
                                   m->max, m->last);
        }
        g_string_append(o, "</table>\n");
    }
    g_string_append(o, "</section>\n");
}

static unsigned count_in(const DsimRunData *d, DsimTime from, DsimTime to)
{
    unsigned n = 0;
    for (unsigned i = 0; i < d->messages->len; i++) {
        const DsimMessageRow *m = &g_array_index(d->messages, DsimMessageRow, i);
        n += m->sent >= from && m->sent <= to;
    }
    return n;
}

static void spacetime(GString *o, const DsimRunResult *r, DsimTime from, DsimTime to)
{
    const DsimRunData *d = r->data;
    g_string_append(o, "<section id=\"spacetime\">\n<h2>Space-time diagram</h2>\n<p class=\"note\">From ");
    put_time(o, from);
    g_string_append(o, " to ");
    put_time(o, to);
    unsigned drawn = count_in(d, from, to);
    g_string_append_printf(o, ": %u message%s", drawn, drawn == 1 ? "" : "s");
    if (d->n_nodes < r->n_nodes)
        g_string_append_printf(o, " among the first %u of the %u nodes", d->n_nodes, r->n_nodes);
    g_string_append(o, ". Time flows to the right; hover over an arrow to see the message.");
    if (d->window_closed != DSIM_TIME_NEVER) {
        g_string_append_printf(o, " <strong>Capped:</strong> the run kept the first %u messages of "
                                  "the window (at most %u arrows and %u ShiViz events), up to ",
                               d->messages->len, DSIM_REPORT_MAX_ARROWS, DSIM_SHIVIZ_MAX_EVENTS);
        put_time(o, d->window_closed);
        g_string_append(o, "; choose a narrower window with <code>--spacetime</code>.");
    }
    g_string_append(o, "</p>\n<div class=\"scroll\">\n");
    g_autoptr(GString) svg = dsim_report_spacetime_svg(r, from, to);
    g_string_append_len(o, svg->str, (gssize) svg->len);
    g_string_append(o, "</div>\n<p class=\"legend note\">"
                       "<span><svg width=\"26\" height=\"10\"><line x1=\"0\" y1=\"5\" x2=\"26\" y2=\"5\" style=\"stroke:#1f78b4;stroke-width:2\"/></svg> delivered</span>"
                       "<span><svg width=\"26\" height=\"10\"><line x1=\"0\" y1=\"5\" x2=\"26\" y2=\"5\" style=\"stroke:#e31a1c;stroke-width:2;stroke-dasharray:4 2\"/></svg> dropped (ends in a cross)</span>"
                       "<span><svg width=\"26\" height=\"10\"><line x1=\"0\" y1=\"5\" x2=\"26\" y2=\"5\" style=\"stroke:#888;stroke-width:2;stroke-dasharray:2 3\"/></svg> in flight at the end</span>"
                       "<span><i class=\"key\" style=\"background:rgba(227,26,28,.25)\"></i>leader (tN: its term)</span>"
                       "<span><i class=\"key\" style=\"background:rgba(253,191,111,.6)\"></i>candidate</span>"
                       "<span><i class=\"key\" style=\"background:rgba(64,64,64,.45)\"></i>crashed</span>"
                       "<span><i class=\"key\" style=\"background:rgba(177,89,40,.4)\"></i>paused</span>"
                       "<span><i class=\"key\" style=\"background:repeating-linear-gradient(45deg,rgba(106,61,154,.5) 0 2px,transparent 2px 6px)\"></i>cut off by a partition</span>"
                       "<span style=\"color:#6a3d9a\">F<i>n</i>: fault</span><span style=\"color:#c62828\">C<i>n</i>: failed check</span></p>\n");
    bool any = false;
    for (unsigned i = 0; i < d->faults->len; i++) {
        const DsimFaultRow *f = &g_array_index(d->faults, DsimFaultRow, i);
        if (f->time < from || f->time > to)
            continue;
        g_string_append(o, any ? "" : "<ol class=\"faults\">\n");
        any = true;
        g_string_append(o, "<li>");
        put_time(o, f->time);
        g_string_append(o, ": ");
        put_escaped(o, f->text);
        g_string_append(o, "</li>\n");
    }
    g_string_append(o, any ? "</ol>\n</section>\n" : "</section>\n");
}

static bool exists_in(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

static void plots(GString *o, const DsimRunResult *r, const char *dir)
{
    g_autoptr(GPtrArray) names = dsim_report_plot_names(r);
    g_string_append(o, "<section id=\"plots\">\n<h2>Plots</h2>\n");
    if (names->len == 0)
        g_string_append(o, "<p>No plots were selected (<code>&lt;report plots&gt;</code>).</p>\n");
    for (unsigned i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *svg = g_strdup_printf("plots/%s.svg", name);
        g_autofree char *png = g_strdup_printf("plots/%s.png", name);
        g_autofree char *esc = g_markup_escape_text(name, -1);
        g_string_append(o, "<figure>\n");
        if (exists_in(dir, svg))
            g_string_append_printf(o, "<img src=\"plots/%s.svg\" alt=\"plot %s\">\n", esc, esc);
        else
            g_string_append(o, "<p class=\"note\">(not rendered: gnuplot was not found or failed; "
                               "run <code>gnuplot *.gp</code> in <code>plots/</code>)</p>\n");
        g_string_append_printf(o, "<figcaption><code>%s</code>: <a href=\"plots/%s.gp\">script</a>, "
                                  "<a href=\"plots/%s.dat\">data</a>", esc, esc, esc);
        if (exists_in(dir, png))
            g_string_append_printf(o, ", <a href=\"plots/%s.png\">PNG</a>", esc);
        g_string_append(o, "</figcaption>\n</figure>\n");
    }
    g_string_append(o, "</section>\n");
}

static void files(GString *o, const char *dir)
{
    static const struct {
        const char *name;
        const char *what;
    } list[] = {
        { "summary.json", "verdicts, counters, figures, the trace hash" },
        { "events.jsonl", "every event, one JSON object per line (--events)" },
        { "history.jsonl", "client operations, for linearizability checkers" },
        { "timeseries.csv", "each node's term, role and commit index as they changed" },
        { "metrics.prom", "counters and figures in Prometheus text format" },
        { "shiviz.log", "the space-time window with vector clocks, for ShiViz" },
        { "summary.tsv", "what dsim report reads back" },
        { "data/", "the timeline, messages, message counts, metric samples and faults (TSV)" },
        { "plots/", "each plot's .gp script, .dat data and picture" },
    };
    g_string_append(o, "<section id=\"files\">\n<h2>Files</h2>\n<ul>\n");
    for (size_t i = 0; i < G_N_ELEMENTS(list); i++) {
        if (!exists_in(dir, list[i].name))
            continue;
        g_string_append_printf(o, "<li><a href=\"%s\">%s</a>: %s</li>\n", list[i].name, list[i].name,
                               list[i].what);
    }
    g_string_append(o, "</ul>\n<p class=\"note\">Redraw the plots and this page with "
                       "<code>dsim report FOLDER</code>. To explore <code>shiviz.log</code> in ShiViz, "
                       "paste it with the parser regex "
                       "<code>(?&lt;host&gt;\\S*) (?&lt;clock&gt;{.*})\\n(?&lt;event&gt;.*)</code> "
                       "(docs/reports.md).</p>\n</section>\n");
}

gboolean dsim_report_write_html(const DsimRunResult *r, const char *dir, DsimTime from, DsimTime to,
                                GError **error)
{
    GString *o = g_string_sized_new(1 << 16);
    const char *verdict = r->passed ? "PASS" : "FAIL";
    g_string_append(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    put_escaped(o, r->scenario);
    g_string_append_printf(o, " (seed %" PRIu64 "): %s</title>\n<style>\n%s</style>\n</head>\n<body>\n",
                           r->seed, verdict, css);
    g_string_append(o, "<header>\n<h1>");
    put_escaped(o, r->scenario);
    g_string_append_printf(o, " <span class=\"verdict %s\">%s</span></h1>\n", verdict, verdict);
    if (r->description != NULL) {
        g_autofree char *desc = g_strdup(r->description);
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(desc), " \t\n\r", -1);
        g_autoptr(GString) flat = g_string_new(NULL);
        for (char **w = words; *w != NULL; w++) {
            if (**w != '\0')
                g_string_append_printf(flat, "%s%s", flat->len > 0 ? " " : "", *w);
        }
        g_string_append(o, "<p class=\"description\">");
        put_escaped(o, flat->str);
        g_string_append(o, "</p>\n");
    }
    facts(o, r);
    g_string_append(o, "</header>\n<nav><a href=\"#checks\">Checks</a><a href=\"#spacetime\">Space-time diagram</a>"
                       "<a href=\"#plots\">Plots</a><a href=\"#figures\">Figures</a>"
                       "<a href=\"#files\">Files</a></nav>\n");
    checks(o, r);
    spacetime(o, r, from, to);
    plots(o, r, dir);
    figures(o, r);
    traces(o, r);
    files(o, dir);
    g_string_append(o, "<footer class=\"note\"><p>Written by dsim " PACKAGE_VERSION
                       ". The same scenario and seed give the same page.</p></footer>\n</body>\n</html>\n");
    g_autofree char *path = g_build_filename(dir, "index.html", NULL);
    gboolean ok = g_file_set_contents(path, o->str, (gssize) o->len, error);
    g_string_free(o, TRUE);
    return ok;
}
