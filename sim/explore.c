/* explore.c - seed exploration, random fault schedules, shrinking and reproducers
 * (see explore.h).
 *
 * Random schedules are made of explicit faults (named nodes, fixed times), not of nemeses,
 * so that shrinking can drop single episodes and the reproducer states exactly what happened.
 * Shrinking is Zeller and Hildebrandt's ddmin ("Simplifying and Isolating Failure-Inducing
 * Input", 2002) over the list of faults: a subset is kept when the same check still fails.
 */
#include "sim/explore.h"

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "sim/client.h"
#include "sim/rng.h"
#include "sim/time.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

const char dsim_nemesis_kinds[] =
    "random-halves|majorities-ring|bridge|isolate|isolate-leader|crash-restart|pause-resume";

/* ---- one run --------------------------------------------------------------------- */

void dsim_run_summary_clear(DsimRunSummary *s)
{
    g_free(s->failed);
    g_free(s->first);
    if (s->figures != NULL) {
        for (unsigned i = 0; i < s->figures->len; i++)
            g_free(g_array_index(s->figures, DsimFigure, i).name);
        g_array_unref(s->figures);
    }
    memset(s, 0, sizeof *s);
}

void dsim_explore_run_one(const DsimScenario *sc, uint64_t seed, const GArray *faults,
                          DsimTime duration, const void *const *configs, DsimRunSummary *out)
{
    DsimWorldOptions opt = { .faults = faults, .duration = duration, .configs = configs };
    g_autoptr(DsimWorld) w = dsim_world_new(sc, seed, &opt);
    dsim_world_run(w, NULL, NULL);
    memset(out, 0, sizeof *out);
    out->seed = seed;
    out->passed = dsim_world_passed(w);
    out->hash = dsim_world_trace_hash(w);
    out->events = dsim_world_events(w);
    out->end_time = dsim_world_now(w);
    g_autoptr(GString) failed = g_string_new(NULL);
    uint64_t first_index = UINT64_MAX;
    for (unsigned i = 0; i < dsim_world_n_verdicts(w); i++) {
        const DsimVerdict *v = dsim_world_verdict(w, i);
        if (v->passed)
            continue;
        g_string_append_printf(failed, "%s%s", failed->len > 0 ? "," : "", v->name);
        if (v->event_index < first_index) {
            first_index = v->event_index;
            g_free(out->first);
            out->first = g_strdup(v->name);
            out->first_time = v->time;
        }
    }
    out->failed = g_string_free(g_steal_pointer(&failed), FALSE);
    out->figures = g_array_new(FALSE, TRUE, sizeof(DsimFigure));
    for (unsigned i = 0; i < dsim_world_n_metrics(w); i++) {
        const DsimMetricStat *m = dsim_world_metric(w, i);
        /* a count (dsim_count) is its number of events; any other figure, its mean */
        double value = m->counter ? (double) m->count : m->count > 0 ? m->sum / (double) m->count : 0.0;
        DsimFigure f = { g_strdup(m->name), value, m->count };
        g_array_append_val(out->figures, f);
    }
    const DsimClients *clients = dsim_world_clients(w);
    if (clients != NULL) {
        const GArray *h = dsim_clients_history(clients);
        for (unsigned i = 0; i < h->len; i++)
            out->ops += g_array_index(h, DsimHistOp, i).type == DSIM_HIST_INVOKE;
    }
}

/* ---- fault plans ----------------------------------------------------------------- */

typedef struct {
    gpointer       p;
    GDestroyNotify free;
} Owned;

static void owned_clear(gpointer p)
{
    Owned *o = p;
    o->free(o->p);
}

static gpointer own(DsimFaultPlan *plan, gpointer p, GDestroyNotify free_fn)
{
    Owned o = { p, free_fn };
    g_array_append_val(plan->owned, o);
    return p;
}

static DsimFaultPlan *plan_new(void)
{
    DsimFaultPlan *p = g_new0(DsimFaultPlan, 1);
    p->faults = g_array_new(FALSE, TRUE, sizeof(DsimFaultSpec));
    p->origin = g_array_new(FALSE, FALSE, sizeof(int));
    p->owned = g_array_new(FALSE, TRUE, sizeof(Owned));
    g_array_set_clear_func(p->owned, owned_clear);
    return p;
}

void dsim_fault_plan_free(DsimFaultPlan *p)
{
    if (p == NULL)
        return;
    g_array_unref(p->faults);
    g_array_unref(p->origin);
    g_array_unref(p->owned);
    g_free(p);
}

DsimFaultPlan *dsim_fault_plan_subset(const DsimFaultPlan *p, const GArray *keep)
{
    DsimFaultPlan *s = plan_new();
    for (unsigned i = 0; i < keep->len; i++) {
        guint k = g_array_index(keep, guint, i);
        g_array_append_val(s->faults, g_array_index(p->faults, DsimFaultSpec, k));
        g_array_append_val(s->origin, g_array_index(p->origin, int, k));
    }
    return s;
}

static DsimSelectorList *node_list(DsimFaultPlan *plan, const DsimNodeId *ids, unsigned n)
{
    DsimSelectorList *l = own(plan, g_array_new(FALSE, TRUE, sizeof(DsimSelector)),
                              (GDestroyNotify) g_array_unref);
    for (unsigned i = 0; i < n; i++) {
        DsimSelector s = { .kind = DSIM_SEL_NODE, .node = ids[i] };
        g_array_append_val(l, s);
    }
    return l;
}

static void add_fault(DsimFaultPlan *plan, const DsimFaultSpec *f)
{
    int origin = -1;
    g_array_append_val(plan->faults, *f);
    g_array_append_val(plan->origin, origin);
}

static void add_node_fault(DsimFaultPlan *plan, DsimFaultKind kind, DsimTime at, DsimNodeId id)
{
    DsimFaultSpec f = { .kind = kind, .at = at, .nodes = node_list(plan, &id, 1) };
    add_fault(plan, &f);
}

static void add_partition(DsimFaultPlan *plan, DsimTime at, const DsimNodeId *v, unsigned n, unsigned cut)
{
    GPtrArray *sides = own(plan, g_ptr_array_new(), (GDestroyNotify) g_ptr_array_unref);
    g_ptr_array_add(sides, node_list(plan, v, cut));
    g_ptr_array_add(sides, node_list(plan, v + cut, n - cut));
    DsimFaultSpec f = { .kind = DSIM_FAULT_PARTITION, .at = at, .sides = sides };
    add_fault(plan, &f);
}

static void add_block_pair(DsimFaultPlan *plan, DsimTime at, DsimNodeId a, DsimNodeId b)
{
    DsimFaultSpec f = { .kind = DSIM_FAULT_BLOCK, .at = at, .from = node_list(plan, &a, 1),
                        .to = node_list(plan, &b, 1) };
    add_fault(plan, &f);
    DsimFaultSpec g = { .kind = DSIM_FAULT_BLOCK, .at = at, .from = node_list(plan, &b, 1),
                        .to = node_list(plan, &a, 1) };
    add_fault(plan, &g);
}

static void add_heal(DsimFaultPlan *plan, DsimTime at)
{
    DsimFaultSpec f = { .kind = DSIM_FAULT_HEAL, .at = at };
    add_fault(plan, &f);
}

static unsigned target_group(const DsimScenario *sc)
{
    for (unsigned i = 0; i < sc->groups->len; i++) {
        if (g_array_index(sc->groups, DsimGroupSpec, i).protocol->leader_based)
            return i;
    }
    return 0;
}

static bool generate(DsimFaultPlan *plan, const DsimScenario *sc, DsimRng *rng, const char *kind,
                     unsigned *captures)
{
    unsigned gi = target_group(sc);
    const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, gi);
    unsigned n = g->count;
    unsigned episodes = 1 + (unsigned) dsim_rng_below(rng, 4);
    DsimTime span = sc->duration;
    g_autofree DsimNodeId *v = g_new(DsimNodeId, n);
    for (unsigned e = 0; e < episodes; e++) {
        DsimTime at = span / 10 + dsim_rng_range(rng, 0, span * 7 / 10);
        DsimTime len = dsim_rng_range(rng, span / 20, span / 5);
        DsimTime end = MIN(at + len, span * 9 / 10);
        for (unsigned i = 0; i < n; i++)
            v[i] = g->first + i;
        dsim_rng_shuffle_u32(rng, v, n);
        if (strcmp(kind, "crash-restart") == 0) {
            add_node_fault(plan, DSIM_FAULT_CRASH, at, v[0]);
            add_node_fault(plan, DSIM_FAULT_RESTART, end, v[0]);
        } else if (strcmp(kind, "pause-resume") == 0) {
            add_node_fault(plan, DSIM_FAULT_PAUSE, at, v[0]);
            add_node_fault(plan, DSIM_FAULT_RESUME, end, v[0]);
        } else if (strcmp(kind, "random-halves") == 0) {
            add_partition(plan, at, v, n, n / 2);
            add_heal(plan, end);
        } else if (strcmp(kind, "isolate") == 0) {
            add_partition(plan, at, v, n, 1);
            add_heal(plan, end);
        } else if (strcmp(kind, "majorities-ring") == 0) {
            unsigned maj = n / 2 + 1, d = maj / 2;
            for (unsigned i = 0; i < n; i++) {
                for (unsigned j = i + 1; j < n; j++) {
                    unsigned dist = MIN(j - i, n - (j - i));
                    if (dist > d)
                        add_block_pair(plan, at, v[i], v[j]);
                }
            }
            add_heal(plan, end);
        } else if (strcmp(kind, "bridge") == 0) {
            unsigned half = n / 2;
            for (unsigned i = 0; i < half; i++) {
                for (unsigned j = half + 1; j < n; j++)
                    add_block_pair(plan, at, v[i], v[j]);
            }
            add_heal(plan, end);
        } else if (strcmp(kind, "isolate-leader") == 0) {
            /* the leader is only known when the fault fires: a selector and a capture */
            char *name = own(plan, g_strdup_printf("IL%u", ++*captures), g_free);
            DsimSelectorList *l = own(plan, g_array_new(FALSE, TRUE, sizeof(DsimSelector)),
                                      (GDestroyNotify) g_array_unref);
            DsimSelector s = { .kind = DSIM_SEL_LEADER, .group = gi };
            g_array_append_val(l, s);
            DsimFaultSpec f = { .kind = DSIM_FAULT_DISCONNECT, .at = at, .nodes = l, .as = name };
            add_fault(plan, &f);
            DsimSelectorList *c = own(plan, g_array_new(FALSE, TRUE, sizeof(DsimSelector)),
                                      (GDestroyNotify) g_array_unref);
            DsimSelector cs = { .kind = DSIM_SEL_CAPTURE, .capture = name };
            g_array_append_val(c, cs);
            DsimFaultSpec r = { .kind = DSIM_FAULT_CONNECT, .at = end, .nodes = c };
            add_fault(plan, &r);
        } else {
            return false;
        }
    }
    return true;
}

DsimFaultPlan *dsim_fault_plan_new(const DsimScenario *sc, uint64_t seed, const char *const *kinds,
                                   GError **error)
{
    g_autoptr(DsimFaultPlan) plan = plan_new();
    for (unsigned i = 0; sc->faults != NULL && i < sc->faults->len; i++) {
        int origin = (int) i;
        g_array_append_val(plan->faults, g_array_index(sc->faults, DsimFaultSpec, i));
        g_array_append_val(plan->origin, origin);
    }
    DsimRng rng;
    dsim_rng_init(&rng, seed, "faults/random");
    unsigned captures = 0;
    for (unsigned k = 0; kinds != NULL && kinds[k] != NULL; k++) {
        if (!generate(plan, sc, &rng, kinds[k], &captures)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "unknown nemesis '%s' (known: %s)", kinds[k], dsim_nemesis_kinds);
            return NULL;
        }
    }
    return g_steal_pointer(&plan);
}

/* ---- many seeds ---------------------------------------------------------------------- */

typedef struct {
    const DsimScenario *sc;
    const char *const  *kinds;
    const void *const  *configs;
    GArray             *runs;  /* DsimRunSummary, preallocated */
    gint                done;
} Batch;

static void run_task(gpointer data, gpointer user)
{
    Batch *b = user;
    guint index = GPOINTER_TO_UINT(data) - 1u;
    DsimRunSummary *out = &g_array_index(b->runs, DsimRunSummary, index);
    uint64_t seed = out->seed;
    g_autoptr(DsimFaultPlan) plan = dsim_fault_plan_new(b->sc, seed, b->kinds, NULL);
    g_assert(plan != NULL); /* kinds were checked by the caller */
    dsim_explore_run_one(b->sc, seed, plan->faults, 0, b->configs, out);
    g_atomic_int_inc(&b->done);
}

void dsim_run_summaries_free(GArray *runs)
{
    if (runs == NULL)
        return;
    for (unsigned i = 0; i < runs->len; i++)
        dsim_run_summary_clear(&g_array_index(runs, DsimRunSummary, i));
    g_array_unref(runs);
}

GArray *dsim_explore_seeds(const DsimScenario *sc, uint64_t lo, uint64_t hi, unsigned shard_i,
                           unsigned shard_n, const char *const *kinds, const void *const *configs,
                           unsigned jobs,
                           void (*progress)(unsigned done, unsigned total, void *data), void *data)
{
    Batch b = { .sc = sc, .kinds = kinds, .configs = configs };
    b.runs = g_array_new(FALSE, TRUE, sizeof(DsimRunSummary));
    for (uint64_t s = lo + shard_i; s <= hi && s >= lo; s += shard_n) {
        DsimRunSummary r = { .seed = s };
        g_array_append_val(b.runs, r);
        if (hi - s < shard_n)
            break;
    }
    unsigned total = b.runs->len;
    if (jobs <= 1) {
        for (unsigned i = 0; i < total; i++) {
            run_task(GUINT_TO_POINTER(i + 1u), &b);
            if (progress != NULL)
                progress(i + 1, total, data);
        }
        return b.runs;
    }
    GThreadPool *pool = g_thread_pool_new(run_task, &b, (gint) jobs, TRUE, NULL);
    for (unsigned i = 0; i < total; i++)
        g_thread_pool_push(pool, GUINT_TO_POINTER(i + 1u), NULL);
    while ((unsigned) g_atomic_int_get(&b.done) < total) {
        if (progress != NULL)
            progress((unsigned) g_atomic_int_get(&b.done), total, data);
        g_usleep(100000);
    }
    g_thread_pool_free(pool, FALSE, TRUE);
    if (progress != NULL)
        progress(total, total, data);
    return b.runs;
}

/* ---- shrinking ------------------------------------------------------------------------- */

void dsim_shrink_result_clear(DsimShrinkResult *r)
{
    g_free(r->check);
    dsim_fault_plan_free(r->plan);
    if (r->keep != NULL)
        g_array_unref(r->keep);
    memset(r, 0, sizeof *r);
}

static bool has_check(const char *failed, const char *check)
{
    g_auto(GStrv) names = g_strsplit(failed, ",", -1);
    for (unsigned i = 0; names[i] != NULL; i++) {
        if (strcmp(names[i], check) == 0)
            return true;
    }
    return false;
}

typedef struct {
    DsimScenario        *sc;
    uint64_t             seed;
    const DsimFaultPlan *full;
    const char          *check;
    DsimTime             duration;
    unsigned             runs;
} Shrinker;

/* Does the run with the faults at @keep still fail @check? */
static bool still_fails(Shrinker *s, const GArray *keep, DsimRunSummary *out)
{
    g_autoptr(DsimFaultPlan) sub = dsim_fault_plan_subset(s->full, keep);
    DsimRunSummary tmp;
    DsimRunSummary *r = out != NULL ? out : &tmp;
    dsim_explore_run_one(s->sc, s->seed, sub->faults, s->duration, NULL, r);
    s->runs++;
    bool fails = !r->passed && has_check(r->failed, s->check);
    if (out == NULL)
        dsim_run_summary_clear(&tmp);
    return fails;
}

static GArray *without(const GArray *set, unsigned from, unsigned to)
{
    GArray *r = g_array_new(FALSE, FALSE, sizeof(guint));
    for (unsigned i = 0; i < set->len; i++) {
        if (i < from || i >= to)
            g_array_append_val(r, g_array_index(set, guint, i));
    }
    return r;
}

static GArray *slice(const GArray *set, unsigned from, unsigned to)
{
    GArray *r = g_array_new(FALSE, FALSE, sizeof(guint));
    g_array_append_vals(r, &g_array_index(set, guint, from), to - from);
    return r;
}

/* ddmin: the smallest subset (1-minimal) of @c for which the run still fails. */
static GArray *ddmin(Shrinker *s, GArray *c)
{
    GArray *empty = g_array_new(FALSE, FALSE, sizeof(guint));
    if (still_fails(s, empty, NULL)) {
        g_array_unref(c);
        return empty;
    }
    g_array_unref(empty);
    unsigned n = 2;
    while (c->len >= 2) {
        bool reduced = false;
        unsigned chunk = (c->len + n - 1) / n;
        for (unsigned i = 0; i < c->len && !reduced; i += chunk) {
            unsigned to = MIN(i + chunk, c->len);
            GArray *d = slice(c, i, to);
            if (still_fails(s, d, NULL)) {
                g_array_unref(c);
                c = d;
                n = 2;
                reduced = true;
                break;
            }
            g_array_unref(d);
        }
        for (unsigned i = 0; i < c->len && !reduced && n > 2; i += chunk) {
            unsigned to = MIN(i + chunk, c->len);
            GArray *d = without(c, i, to);
            if (still_fails(s, d, NULL)) {
                g_array_unref(c);
                c = d;
                n = MAX(n - 1, 2u);
                reduced = true;
                break;
            }
            g_array_unref(d);
        }
        if (reduced)
            continue;
        if (n >= c->len) {
            /* last resort at full granularity: drop single faults */
            bool any = false;
            for (unsigned i = 0; i < c->len; i++) {
                GArray *d = without(c, i, i + 1);
                if (still_fails(s, d, NULL)) {
                    g_array_unref(c);
                    c = d;
                    any = true;
                    break;
                }
                g_array_unref(d);
            }
            if (!any)
                break;
            continue;
        }
        n = MIN(n * 2, c->len);
    }
    return c;
}

bool dsim_explore_shrink(DsimScenario *sc, uint64_t seed, const DsimFaultPlan *full,
                         DsimShrinkResult *out)
{
    memset(out, 0, sizeof *out);
    DsimRunSummary first;
    dsim_explore_run_one(sc, seed, full->faults, 0, NULL, &first);
    if (first.passed) {
        dsim_run_summary_clear(&first);
        return false;
    }
    Shrinker s = { .sc = sc, .seed = seed, .full = full, .check = first.first };
    out->check = g_strdup(first.first);
    s.check = out->check;
    out->faults_before = full->faults->len;
    out->events_before = first.events;
    out->duration_before = sc->duration;
    out->ops_before = first.ops;
    s.runs = 1;

    /* 1. the faults */
    GArray *all = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < full->faults->len; i++)
        g_array_append_val(all, i);
    GArray *keep = ddmin(&s, all);

    /* 2. the duration: a check that failed during the run fails again in a run that ends
     * just after it; an end-of-run check needs a search */
    DsimRunSummary r;
    s.duration = 0;
    still_fails(&s, keep, &r);
    DsimTime best = sc->duration;
    if (r.first_time + 1 < best) {
        s.duration = r.first_time + 1;
        if (still_fails(&s, keep, NULL))
            best = s.duration;
    }
    if (best == sc->duration) {
        DsimTime lo = 0, hi = sc->duration;
        for (int i = 0; i < 12 && hi - lo > DSIM_MS(1); i++) {
            DsimTime mid = lo + (hi - lo) / 2;
            s.duration = mid;
            if (still_fails(&s, keep, NULL))
                hi = best = mid;
            else
                lo = mid;
        }
    }
    s.duration = best;
    dsim_run_summary_clear(&r);

    /* 3. fewer client operations: halve rates, then clients, while it still fails */
    for (unsigned i = 0; sc->workloads != NULL && i < sc->workloads->len; i++) {
        DsimWorkloadSpec *ws = &g_array_index(sc->workloads, DsimWorkloadSpec, i);
        for (int k = 0; k < 8 && ws->rate > 1.0; k++) {
            double old = ws->rate;
            ws->rate = old / 2;
            if (!still_fails(&s, keep, NULL)) {
                ws->rate = old;
                break;
            }
        }
        for (int k = 0; k < 8 && ws->clients > 1; k++) {
            unsigned old = ws->clients;
            ws->clients = old / 2;
            if (!still_fails(&s, keep, NULL)) {
                ws->clients = old;
                break;
            }
        }
    }

    DsimRunSummary last;
    bool ok = still_fails(&s, keep, &last);
    g_assert(ok); /* every step kept a failing configuration */
    out->faults_after = keep->len;
    out->events_after = last.events;
    out->duration_after = s.duration > 0 ? s.duration : sc->duration;
    out->ops_after = last.ops;
    out->runs = s.runs;
    out->keep = keep;
    out->plan = dsim_fault_plan_subset(full, keep);
    dsim_run_summary_clear(&last);
    dsim_run_summary_clear(&first);
    return true;
}

/* ---- reproducers -------------------------------------------------------------------- */

static char *time_text(DsimTime t)
{
    g_autoptr(GString) s = g_string_new(NULL);
    dsim_time_format_short(t, s);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static void selectors_text(const DsimScenario *sc, const DsimSelectorList *l, GString *out)
{
    for (unsigned i = 0; l != NULL && i < l->len; i++) {
        const DsimSelector *s = &g_array_index(l, DsimSelector, i);
        if (i > 0)
            g_string_append_c(out, ',');
        switch (s->kind) {
        case DSIM_SEL_NODE: g_string_append(out, sc->node_names[s->node]); break;
        case DSIM_SEL_LEADER:
            g_string_append_printf(out, "leader(%s)", g_array_index(sc->groups, DsimGroupSpec, s->group).id);
            break;
        case DSIM_SEL_CAPTURE: g_string_append(out, s->capture); break;
        default: g_assert_not_reached(); /* generated faults use only these */
        }
    }
}

static const char *fault_element(DsimFaultKind k)
{
    switch (k) {
    case DSIM_FAULT_CRASH: return "crash";
    case DSIM_FAULT_RESTART: return "restart";
    case DSIM_FAULT_PAUSE: return "pause";
    case DSIM_FAULT_RESUME: return "resume";
    case DSIM_FAULT_DISCONNECT: return "disconnect";
    case DSIM_FAULT_CONNECT: return "connect";
    case DSIM_FAULT_PARTITION: return "partition";
    case DSIM_FAULT_BLOCK: return "block";
    case DSIM_FAULT_UNBLOCK: return "unblock";
    case DSIM_FAULT_HEAL: return "heal";
    default: g_assert_not_reached();
    }
}

static void write_fault(const DsimScenario *sc, xmlNode *faults, const DsimFaultSpec *f)
{
    xmlNode *e = xmlNewChild(faults, NULL, BAD_CAST fault_element(f->kind), NULL);
    g_autofree char *at = time_text(f->at);
    xmlNewProp(e, BAD_CAST "at", BAD_CAST at);
    g_autoptr(GString) s = g_string_new(NULL);
    if (f->kind == DSIM_FAULT_PARTITION) {
        for (unsigned i = 0; i < f->sides->len; i++) {
            if (i > 0)
                g_string_append(s, " | ");
            selectors_text(sc, g_ptr_array_index(f->sides, i), s);
        }
        xmlNewProp(e, BAD_CAST "groups", BAD_CAST s->str);
    } else if (f->kind == DSIM_FAULT_BLOCK || f->kind == DSIM_FAULT_UNBLOCK) {
        selectors_text(sc, f->from, s);
        xmlNewProp(e, BAD_CAST "from", BAD_CAST s->str);
        g_string_truncate(s, 0);
        selectors_text(sc, f->to, s);
        xmlNewProp(e, BAD_CAST "to", BAD_CAST s->str);
    } else if (f->kind != DSIM_FAULT_HEAL) {
        selectors_text(sc, f->nodes, s);
        xmlNewProp(e, BAD_CAST "node", BAD_CAST s->str);
    }
    if (f->as != NULL)
        xmlNewProp(e, BAD_CAST "as", BAD_CAST f->as);
}

static xmlNode *child_element(xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *) c->name, name) == 0)
            return c;
    }
    return NULL;
}

static void set_group_param(xmlNode *root, const char *spec)
{
    const char *eq = strchr(spec, '=');
    const char *dot = strchr(spec, '.');
    if (eq == NULL || dot == NULL || dot > eq)
        return; /* checked by the caller when it applied them */
    g_autofree char *gid = g_strndup(spec, (gsize) (dot - spec));
    g_autofree char *name = g_strndup(dot + 1, (gsize) (eq - dot - 1));
    for (xmlNode *g = root->children; g != NULL; g = g->next) {
        if (g->type != XML_ELEMENT_NODE || strcmp((const char *) g->name, "group") != 0)
            continue;
        xmlChar *id = xmlGetProp(g, BAD_CAST "id");
        bool match = id != NULL && strcmp((const char *) id, gid) == 0;
        xmlFree(id);
        if (!match)
            continue;
        for (xmlNode *p = g->children; p != NULL; p = p->next) {
            if (p->type != XML_ELEMENT_NODE || strcmp((const char *) p->name, "param") != 0)
                continue;
            xmlChar *pn = xmlGetProp(p, BAD_CAST "name");
            bool same = pn != NULL && strcmp((const char *) pn, name) == 0;
            xmlFree(pn);
            if (same) {
                xmlNodeSetContent(p, NULL);
                xmlNodeAddContent(p, BAD_CAST (eq + 1));
                return;
            }
        }
        xmlNode *p = xmlNewChild(g, NULL, BAD_CAST "param", NULL);
        xmlNewProp(p, BAD_CAST "name", BAD_CAST name);
        xmlNodeAddContent(p, BAD_CAST (eq + 1));
        return;
    }
}

gboolean dsim_explore_write_reproducer(const DsimScenario *sc, const char *src, const char *dst,
                                       uint64_t seed, const DsimFaultPlan *full, const GArray *keep,
                                       DsimTime duration, char **params, GError **error)
{
    g_autoptr(xmlDoc) doc = xmlReadFile(src, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: cannot read it again", src);
        return FALSE;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    g_autofree char *name = g_strdup_printf("%s-seed%" PRIu64 "-repro", sc->name, seed);
    g_autofree char *seed_text = g_strdup_printf("%" PRIu64, seed);
    g_autofree char *dur = time_text(duration);
    xmlSetProp(root, BAD_CAST "name", BAD_CAST name);
    xmlSetProp(root, BAD_CAST "seed", BAD_CAST seed_text);
    xmlSetProp(root, BAD_CAST "duration", BAD_CAST dur);
    for (unsigned i = 0; params != NULL && params[i] != NULL; i++)
        set_group_param(root, params[i]);
    xmlNode *desc = child_element(root, "description");
    g_autofree char *note = g_strdup_printf("Reproducer written by dsim shrink from %s, seed %" PRIu64 ". ",
                                            src, seed);
    if (desc != NULL) {
        xmlChar *old = xmlNodeGetContent(desc);
        g_autofree char *text = g_strconcat(note, (const char *) old, NULL);
        xmlFree(old);
        xmlNodeSetContent(desc, NULL);
        xmlNodeAddContent(desc, BAD_CAST text);
    }

    /* the scenario's faults that were kept stay as written (selectors and all) */
    g_autofree bool *kept = g_new0(bool, (sc->faults != NULL ? sc->faults->len : 0) + 1);
    for (unsigned i = 0; i < keep->len; i++) {
        int origin = g_array_index(full->origin, int, g_array_index(keep, guint, i));
        if (origin >= 0)
            kept[origin] = true;
    }
    xmlNode *faults = child_element(root, "faults");
    if (faults == NULL)
        faults = xmlNewChild(root, NULL, BAD_CAST "faults", NULL);
    unsigned index = 0;
    for (xmlNode *c = faults->children; c != NULL;) {
        xmlNode *next = c->next;
        if (c->type == XML_ELEMENT_NODE) {
            /* a fault after the new end would be refused by the loader */
            const DsimFaultSpec *f = &g_array_index(sc->faults, DsimFaultSpec, index);
            if (!kept[index] || f->at > duration) {
                /* take the indentation before it along, so no blank lines are left */
                xmlNode *prev = c->prev;
                if (prev != NULL && prev->type == XML_TEXT_NODE && xmlIsBlankNode(prev)) {
                    xmlUnlinkNode(prev);
                    xmlFreeNode(prev);
                }
                xmlUnlinkNode(c);
                xmlFreeNode(c);
            } else if (f->kind == DSIM_FAULT_NEMESIS && f->stop > duration) {
                xmlSetProp(c, BAD_CAST "stop", BAD_CAST dur);
            }
            index++;
        }
        c = next;
    }
    /* drop the blank text between fault elements: with none left, libxml2's formatted
     * output indents the kept and the generated faults alike */
    for (xmlNode *c = faults->children; c != NULL;) {
        xmlNode *next = c->next;
        if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        c = next;
    }
    for (unsigned i = 0; i < keep->len; i++) {
        guint k = g_array_index(keep, guint, i);
        const DsimFaultSpec *f = &g_array_index(full->faults, DsimFaultSpec, k);
        if (g_array_index(full->origin, int, k) < 0 && f->at <= duration)
            write_fault(sc, faults, f);
    }
    /* checks whose windows reach past the new end are cut at the end */
    xmlNode *checks = child_element(root, "checks");
    for (xmlNode *c = checks != NULL ? checks->children : NULL; c != NULL;) {
        xmlNode *next = c->next;
        if (c->type == XML_ELEMENT_NODE) {
            xmlChar *at = xmlGetProp(c, BAD_CAST "at");
            xmlChar *within = xmlGetProp(c, BAD_CAST "within");
            xmlChar *after = xmlGetProp(c, BAD_CAST "after");
            DsimTime t = 0, wt = 0, ta = 0;
            bool has_at = at != NULL && dsim_time_parse((const char *) at, &t);
            bool has_within = within != NULL && dsim_time_parse((const char *) within, &wt);
            bool has_after = after != NULL && dsim_time_parse((const char *) after, &ta);
            xmlFree(after);
            if ((has_at && t > duration) || (has_after && ta > duration)) {
                /* <expect at> or <expect metric after> past the new end: nothing to check */
                xmlNode *prev = c->prev;
                if (prev != NULL && prev->type == XML_TEXT_NODE && xmlIsBlankNode(prev)) {
                    xmlUnlinkNode(prev);
                    xmlFreeNode(prev);
                }
                xmlUnlinkNode(c);
                xmlFreeNode(c);
            } else if (has_within && t + wt > duration) {
                g_autofree char *cut = time_text(duration - t);
                xmlSetProp(c, BAD_CAST "within", BAD_CAST cut);
            }
            xmlFree(at);
            xmlFree(within);
        }
        c = next;
    }
    /* workloads, in file order as the loader read them: end them at the new end, and write
     * the rates and client counts the shrinker settled on */
    unsigned wi = 0;
    for (xmlNode *c = root->children; c != NULL;) {
        xmlNode *next = c->next;
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *) c->name, "workload") == 0) {
            const DsimWorkloadSpec *ws = &g_array_index(sc->workloads, DsimWorkloadSpec, wi++);
            if (ws->start >= duration) {
                xmlUnlinkNode(c);
                xmlFreeNode(c);
            } else {
                g_autofree char *rate = g_strdup_printf("%.6g/s", ws->rate);
                g_autofree char *clients = g_strdup_printf("%u", ws->clients);
                xmlSetProp(c, BAD_CAST "stop", BAD_CAST dur);
                xmlSetProp(c, BAD_CAST "rate", BAD_CAST rate);
                xmlSetProp(c, BAD_CAST "clients", BAD_CAST clients);
            }
        }
        c = next;
    }
    xmlChar *buf = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &buf, &len, "UTF-8", 1);
    gboolean ok = g_file_set_contents(dst, (const char *) buf, len, error);
    xmlFree(buf);
    return ok;
}
