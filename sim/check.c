/* check.c - invariants, timed expectations and end-of-run verdicts (see check.h).
 *
 * Each check owns one verdict. A check that fails keeps its first failure (event index,
 * virtual time, message) and is not evaluated again, so one bug gives one line, not
 * thousands. Timed expectations are windows of virtual time:
 *  - leader="one" and agree="all" pass at the first instant in [at, at+within] where they
 *    hold (evaluated at `at` and after every event inside the window);
 *  - leader="none" must hold at every instant of [at, at+within];
 *  - <converge within="T"> passes when at T every live member of the group(s) has applied the
 *    same sequence (the describe op's applied count and digest); its figure is the virtual
 *    time (s) from which they agreed without a break, found by polling T/1000 apart.
 * "Connected" nodes (for leader expectations) are defined in check.h.
 */
#include "sim/check.h"

#include <math.h>
#include <string.h>

#include "algorithms/kv/kv.h"
#include "sim/client.h"
#include "sim/lincheck.h"
#include "sim/queue.h"
#include "sim/time.h"

typedef struct {
    unsigned             group;
    const DsimInvariant *inv;
    void                *scratch;
    unsigned             verdict;
    bool                 failed;
} InvEntry;

enum { WHAT_START = 0, WHAT_DEADLINE = 1, WHAT_POLL = 2 };

typedef struct {
    const DsimCheckSpec *spec;
    unsigned             verdict;
    bool                 active, done;
    bool                 agreed;      /* converge: agreed at the last poll */
    DsimTime             agreed_since;
    DsimTime             poll;
} Timed;

struct DsimChecks {
    const DsimScenario *sc;
    GArray             *verdicts; /* DsimVerdict */
    GArray             *invs;     /* InvEntry */
    GArray            **always;   /* per group: guint indices into invs of ALWAYS invariants */
    GArray             *timed;    /* Timed */
    unsigned            n_active;
    GArray             *metric_checks; /* guint indices into sc->checks */
    GArray             *metric_verdicts; /* guint */
    GString            *why;      /* reused for every invariant call: no allocation per event */
    GArray             *lin_checks;   /* guint indices into sc->checks */
    GArray             *lin_verdicts; /* guint */
    bool                finished;
};

static unsigned add_verdict(DsimChecks *c, const char *name, const char *group, int line)
{
    DsimVerdict v = { 0 };
    v.name = g_strdup(name);
    v.group = g_strdup(group);
    v.line = line;
    v.passed = true;
    g_array_append_val(c->verdicts, v);
    return c->verdicts->len - 1;
}

static DsimVerdict *verdict(DsimChecks *c, unsigned i)
{
    return &g_array_index(c->verdicts, DsimVerdict, i);
}

static void fail(DsimChecks *c, DsimWorld *w, unsigned vi, const char *message)
{
    DsimVerdict *v = verdict(c, vi);
    if (!v->passed)
        return;
    v->passed = false;
    v->evaluated = true;
    v->event_index = dsim_world_events(w);
    v->time = dsim_world_now(w);
    v->message = g_strdup(message);
    g_autofree char *text = g_strdup_printf("%s%s%s failed: %s", v->name, v->group ? " on " : "",
                                            v->group ? v->group : "", message);
    dsim_world_note_check(w, text);
}

static bool wanted_invariant(const DsimScenario *sc, unsigned gi, const char *name, int *line)
{
    if (!sc->has_checks) {
        *line = 0;
        return true;
    }
    for (unsigned i = 0; i < sc->checks->len; i++) {
        const DsimCheckSpec *cs = &g_array_index(sc->checks, DsimCheckSpec, i);
        if (cs->kind == DSIM_CHECK_INVARIANT && strcmp(cs->name, name) == 0
            && (cs->group < 0 || (unsigned) cs->group == gi)) {
            *line = cs->line;
            return true;
        }
    }
    return false;
}

static char *timed_name(const DsimCheckSpec *cs)
{
    switch (cs->kind) {
    case DSIM_CHECK_EXPECT_LEADER:
        return g_strdup_printf("expect leader=%s (line %d)", cs->leader_one ? "one" : "none", cs->line);
    case DSIM_CHECK_EXPECT_AGREE:
        return g_strdup_printf("expect agree=all (line %d)", cs->line);
    case DSIM_CHECK_CONVERGE:
        return g_strdup_printf("converge (line %d)", cs->line);
    default:
        g_assert_not_reached();
    }
}

DsimChecks *dsim_checks_new(DsimWorld *w, const DsimScenario *sc)
{
    DsimChecks *c = g_new0(DsimChecks, 1);
    c->sc = sc;
    c->verdicts = g_array_new(FALSE, TRUE, sizeof(DsimVerdict));
    c->invs = g_array_new(FALSE, TRUE, sizeof(InvEntry));
    c->timed = g_array_new(FALSE, TRUE, sizeof(Timed));
    c->metric_checks = g_array_new(FALSE, FALSE, sizeof(guint));
    c->metric_verdicts = g_array_new(FALSE, FALSE, sizeof(guint));
    c->always = g_new0(GArray *, sc->groups->len);
    c->why = g_string_sized_new(128);
    c->lin_checks = g_array_new(FALSE, FALSE, sizeof(guint));
    c->lin_verdicts = g_array_new(FALSE, FALSE, sizeof(guint));

    /* invariants, group by group in file order, each protocol's in table order */
    for (unsigned gi = 0; gi < sc->groups->len; gi++) {
        const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, gi);
        c->always[gi] = g_array_new(FALSE, FALSE, sizeof(guint));
        for (const DsimInvariant *inv = g->protocol->invariants; inv != NULL && inv->name != NULL; inv++) {
            int line = 0;
            if (!wanted_invariant(sc, gi, inv->name, &line))
                continue;
            InvEntry e = { .group = gi, .inv = inv };
            e.verdict = add_verdict(c, inv->name, g->id, line);
            g_array_append_val(c->invs, e);
            if (inv->when == DSIM_CHECK_ALWAYS) {
                guint idx = c->invs->len - 1;
                g_array_append_val(c->always[gi], idx);
            }
        }
    }

    for (unsigned i = 0; sc->has_checks && i < sc->checks->len; i++) {
        const DsimCheckSpec *cs = &g_array_index(sc->checks, DsimCheckSpec, i);
        switch (cs->kind) {
        case DSIM_CHECK_INVARIANT:
            break; /* above */
        case DSIM_CHECK_LINEARIZABLE: {
            g_autofree char *name = g_strdup_printf("linearizable model=%s", cs->name);
            guint vi = add_verdict(c, name, NULL, cs->line);
            guint ci = i;
            g_array_append_val(c->lin_checks, ci);
            g_array_append_val(c->lin_verdicts, vi);
            break;
        }
        case DSIM_CHECK_EXPECT_METRIC: {
            g_autofree char *name = g_strdup_printf("expect %s (line %d)", cs->name, cs->line);
            guint vi = add_verdict(c, name, NULL, cs->line);
            guint ci = i;
            g_array_append_val(c->metric_checks, ci);
            g_array_append_val(c->metric_verdicts, vi);
            break;
        }
        case DSIM_CHECK_EXPECT_LEADER:
        case DSIM_CHECK_EXPECT_AGREE:
        case DSIM_CHECK_CONVERGE: {
            g_autofree char *name = timed_name(cs);
            const char *gid = cs->group >= 0
                                  ? g_array_index(sc->groups, DsimGroupSpec, cs->group).id
                                  : NULL;
            Timed t = { .spec = cs };
            t.verdict = add_verdict(c, name, gid, cs->line);
            g_array_append_val(c->timed, t);
            guint ti = c->timed->len - 1;
            if (cs->kind == DSIM_CHECK_CONVERGE) {
                Timed *tp = &g_array_index(c->timed, Timed, ti);
                tp->poll = cs->within / 1000 > DSIM_US(100) ? cs->within / 1000 : DSIM_US(100);
                tp->active = true;
                c->n_active++;
                dsim_world_schedule(w, 0, DSIM_EV_CHECK, ti, WHAT_POLL);
                dsim_world_schedule(w, cs->within, DSIM_EV_CHECK, ti, WHAT_DEADLINE);
            } else {
                dsim_world_schedule(w, cs->at, DSIM_EV_CHECK, ti, WHAT_START);
                dsim_world_schedule(w, cs->at + cs->within, DSIM_EV_CHECK, ti, WHAT_DEADLINE);
            }
            break;
        }
        }
    }
    return c;
}

void dsim_checks_free(DsimChecks *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->invs->len; i++) {
        InvEntry *e = &g_array_index(c->invs, InvEntry, i);
        if (e->inv->fini != NULL)
            e->inv->fini(e->scratch);
        else
            g_free(e->scratch);
    }
    for (unsigned i = 0; i < c->verdicts->len; i++) {
        DsimVerdict *v = verdict(c, i);
        g_free(v->name);
        g_free(v->group);
        g_free(v->message);
    }
    for (unsigned gi = 0; gi < c->sc->groups->len; gi++)
        g_array_unref(c->always[gi]);
    g_free(c->always);
    g_array_unref(c->verdicts);
    g_array_unref(c->invs);
    g_array_unref(c->timed);
    g_array_unref(c->metric_checks);
    g_array_unref(c->metric_verdicts);
    g_string_free(c->why, TRUE);
    g_array_unref(c->lin_checks);
    g_array_unref(c->lin_verdicts);
    g_free(c);
}

/* ---- connectivity ---------------------------------------------------------- */

static unsigned uf_find(unsigned *parent, unsigned x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void uf_union(unsigned *parent, unsigned a, unsigned b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a != b) {
        if (a < b)
            parent[b] = a;
        else
            parent[a] = b;
    }
}

static bool two_way(const DsimWorld *w, DsimNodeId a, DsimNodeId b)
{
    return dsim_world_can_pass(w, a, b) && dsim_world_can_pass(w, b, a);
}

unsigned dsim_checks_connected(const DsimWorld *w, unsigned gi, bool *connected)
{
    const DsimScenario *sc = dsim_world_scenario(w);
    const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, gi);
    unsigned n = g->count;
    g_autofree unsigned *parent = g_new(unsigned, n);
    g_autofree unsigned *size = g_new0(unsigned, n);
    g_autofree bool *up = g_new(bool, n);
    for (unsigned i = 0; i < n; i++) {
        parent[i] = i;
        up[i] = dsim_world_node_status(w, g->first + i) == DSIM_NODE_UP;
    }
    /* O(n^2) pairs: fine for the consensus groups these expectations are written for */
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = i + 1; up[i] && j < n; j++) {
            if (up[j] && two_way(w, g->first + i, g->first + j))
                uf_union(parent, i, j);
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (up[i])
            size[uf_find(parent, i)]++;
    }
    unsigned count = 0;
    for (unsigned i = 0; i < n; i++) {
        connected[i] = up[i] && size[uf_find(parent, i)] > n / 2;
        count += connected[i];
    }
    return count;
}

void dsim_checks_components(const DsimWorld *w, uint32_t *label)
{
    unsigned n = dsim_world_n_nodes(w);
    const DsimNet *net = dsim_world_net((DsimWorld *) w);
    g_autofree unsigned *parent = g_new(unsigned, n);
    for (unsigned i = 0; i < n; i++)
        parent[i] = i;
    bool cuts = dsim_net_has_cuts(net);
    DsimNodeId first_up = DSIM_NOBODY;
    for (DsimNodeId i = 0; i < n; i++) {
        if (dsim_world_node_status(w, i) != DSIM_NODE_UP)
            continue;
        if (!cuts) {
            /* no partition, block or disconnect: every live node reaches every other */
            if (first_up == DSIM_NOBODY)
                first_up = i;
            uf_union(parent, first_up, i);
            continue;
        }
        for (DsimNodeId j = i + 1; j < n; j++) {
            if (dsim_world_node_status(w, j) == DSIM_NODE_UP && two_way(w, i, j))
                uf_union(parent, i, j);
        }
    }
    for (DsimNodeId i = 0; i < n; i++)
        label[i] = dsim_world_node_status(w, i) == DSIM_NODE_UP ? uf_find(parent, i) : DSIM_COMPONENT_NONE;
}

/* ---- timed expectations ------------------------------------------------------ */

/* leader="one": exactly one connected node leads and every connected node agrees on its
 * term. leader="none": no connected node leads. Writes the reason when false. */
static bool leader_holds(DsimWorld *w, const DsimCheckSpec *cs, GString *why)
{
    const DsimScenario *sc = dsim_world_scenario(w);
    const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, cs->group);
    g_autofree bool *conn = g_new(bool, g->count);
    unsigned n_conn = dsim_checks_connected(w, cs->group, conn);
    unsigned leaders = 0;
    DsimNodeId leader = DSIM_NOBODY;
    uint64_t term = 0;
    g_string_truncate(why, 0);
    for (unsigned i = 0; i < g->count; i++) {
        if (!conn[i])
            continue;
        DsimView v;
        dsim_world_describe(w, g->first + i, &v);
        if (v.role == DSIM_ROLE_LEADER) {
            leaders++;
            if (leader == DSIM_NOBODY) {
                leader = g->first + i;
                term = v.term;
            }
        }
    }
    if (!cs->leader_one) {
        if (leaders == 0)
            return true;
        g_string_printf(why, "%s believes it leads (term %" PRIu64 ")",
                        dsim_world_node_name(w, leader), term);
        return false;
    }
    if (n_conn == 0) {
        g_string_printf(why, "no majority of %s is connected", g->id);
        return false;
    }
    if (leaders != 1) {
        g_string_printf(why, "%u leaders among the %u connected nodes of %s", leaders, n_conn, g->id);
        return false;
    }
    for (unsigned i = 0; i < g->count; i++) {
        if (!conn[i])
            continue;
        DsimView v;
        dsim_world_describe(w, g->first + i, &v);
        if (v.term != term) {
            g_string_printf(why, "%s leads in term %" PRIu64 " but %s is in term %" PRIu64,
                            dsim_world_node_name(w, leader), term,
                            dsim_world_node_name(w, g->first + i), v.term);
            return false;
        }
    }
    return true;
}

/* Every live member of group @gi applied the same sequence. */
static bool agree_holds(DsimWorld *w, unsigned gi, GString *why)
{
    const DsimScenario *sc = dsim_world_scenario(w);
    const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, gi);
    bool have = false;
    DsimView ref = { 0 };
    DsimNodeId ref_id = DSIM_NOBODY;
    for (unsigned i = 0; i < g->count; i++) {
        DsimNodeId id = g->first + i;
        if (dsim_world_node_status(w, id) == DSIM_NODE_CRASHED)
            continue;
        DsimView v;
        dsim_world_describe(w, id, &v);
        if (!have) {
            ref = v;
            ref_id = id;
            have = true;
        } else if (v.applied != ref.applied || v.applied_digest != ref.applied_digest) {
            g_string_printf(why, "%s applied %" PRIu64 " (digest %016" PRIx64 ") but %s applied %"
                            PRIu64 " (digest %016" PRIx64 ")",
                            dsim_world_node_name(w, ref_id), ref.applied, ref.applied_digest,
                            dsim_world_node_name(w, id), v.applied, v.applied_digest);
            return false;
        }
    }
    if (!have) {
        g_string_printf(why, "no live member of %s", g->id);
        return false;
    }
    /* "every command a client saw acknowledged is among them" (SCENARIO-FORMAT.md): the live
     * members applied the same sequence (above), so one member's key-value store answers
     * for all: each acknowledged (client, seq) must be in it */
    const DsimClients *clients = dsim_world_clients(w);
    if (clients != NULL && ref.kv != NULL) {
        for (unsigned c = 0; c < dsim_clients_count(clients); c++) {
            const GArray *acked = dsim_clients_acked(clients, c);
            for (unsigned k = 0; k < acked->len; k++) {
                uint64_t seq = g_array_index(acked, uint64_t, k);
                if (!kv_store_has_applied(ref.kv, c, seq)) {
                    g_string_printf(why, "client %u's command #%" PRIu64 " was acknowledged but %s never applied it",
                                    c, seq, dsim_world_node_name(w, ref_id));
                    return false;
                }
            }
        }
    }
    return true;
}

static bool converge_holds(DsimWorld *w, const DsimCheckSpec *cs, GString *why)
{
    const DsimScenario *sc = dsim_world_scenario(w);
    for (unsigned gi = 0; gi < sc->groups->len; gi++) {
        if (cs->group >= 0 && (unsigned) cs->group != gi)
            continue;
        if (!agree_holds(w, gi, why))
            return false;
    }
    return true;
}

static void finish_timed(DsimChecks *c, Timed *t)
{
    t->done = true;
    if (t->active) {
        t->active = false;
        c->n_active--;
    }
    verdict(c, t->verdict)->evaluated = true;
}

/* Evaluates window check @t now; @deadline is true at the end of its window. */
static void evaluate_timed(DsimChecks *c, DsimWorld *w, Timed *t, bool deadline)
{
    const DsimCheckSpec *cs = t->spec;
    g_autoptr(GString) why = g_string_new(NULL);
    bool holds;
    switch (cs->kind) {
    case DSIM_CHECK_EXPECT_LEADER:
        holds = leader_holds(w, cs, why);
        if (!cs->leader_one) {
            if (!holds) {
                fail(c, w, t->verdict, why->str);
                finish_timed(c, t);
            } else if (deadline) {
                finish_timed(c, t);
            }
            return;
        }
        break;
    case DSIM_CHECK_EXPECT_AGREE:
        holds = agree_holds(w, (unsigned) cs->group, why);
        break;
    default:
        g_assert_not_reached();
    }
    if (holds) {
        finish_timed(c, t);
    } else if (deadline) {
        g_autofree char *msg = g_strdup_printf("not true by %.6fs: %s",
                                               (double) (cs->at + cs->within) / 1e9, why->str);
        fail(c, w, t->verdict, msg);
        finish_timed(c, t);
    }
}

static void poll_converge(DsimChecks *c, DsimWorld *w, Timed *t, guint ti, bool deadline)
{
    g_autoptr(GString) why = g_string_new(NULL);
    bool holds = converge_holds(w, t->spec, why);
    if (holds && !t->agreed)
        t->agreed_since = dsim_world_now(w);
    t->agreed = holds;
    if (!deadline) {
        DsimTime next = dsim_world_now(w) + t->poll;
        if (next < t->spec->within)
            dsim_world_schedule(w, next, DSIM_EV_CHECK, ti, WHAT_POLL);
        return;
    }
    DsimVerdict *v = verdict(c, t->verdict);
    if (holds) {
        v->has_figure = true;
        v->figure = (double) t->agreed_since / 1e9;
    } else {
        g_autofree char *msg = g_strdup_printf("not converged at %.6fs: %s",
                                               (double) t->spec->within / 1e9, why->str);
        fail(c, w, t->verdict, msg);
    }
    finish_timed(c, t);
}

void dsim_checks_on_timer(DsimChecks *c, DsimWorld *w, uint32_t index, uint32_t what)
{
    Timed *t = &g_array_index(c->timed, Timed, index);
    if (t->done)
        return;
    if (t->spec->kind == DSIM_CHECK_CONVERGE) {
        poll_converge(c, w, t, index, what == WHAT_DEADLINE);
        return;
    }
    if (what == WHAT_START) {
        t->active = true;
        c->n_active++;
        evaluate_timed(c, w, t, t->spec->within == 0);
    } else {
        evaluate_timed(c, w, t, true);
    }
}

/* ---- per event ---------------------------------------------------------------- */

static void run_invariant(DsimChecks *c, DsimWorld *w, InvEntry *e, unsigned last,
                          const uint32_t *component, GString *why)
{
    DsimGroupView *view = dsim_world_group_view(w, e->group, last);
    view->scratch = &e->scratch;
    view->component = component;
    why->len = 0; /* g_string_truncate(why, 0) without the call: this runs after every event */
    why->str[0] = '\0';
    if (!e->inv->check(view, why)) {
        e->failed = true;
        fail(c, w, e->verdict, why->len > 0 ? why->str : "violated");
    }
}

void dsim_checks_after_event(DsimChecks *c, DsimWorld *w, DsimNodeId node)
{
    const DsimScenario *sc = c->sc;
    if (node != DSIM_NOBODY) {
        unsigned gi = dsim_world_group_of(w, node);
        GArray *al = c->always[gi];
        unsigned last = node - g_array_index(sc->groups, DsimGroupSpec, gi).first;
        for (unsigned k = 0; k < al->len; k++) {
            InvEntry *e = &g_array_index(c->invs, InvEntry, g_array_index(al, guint, k));
            if (!e->failed)
                run_invariant(c, w, e, last, NULL, c->why);
        }
    } else {
        /* a world event (fault): statuses may have changed in any group */
        for (unsigned gi = 0; gi < sc->groups->len; gi++) {
            GArray *al = c->always[gi];
            unsigned n = g_array_index(sc->groups, DsimGroupSpec, gi).count;
            for (unsigned k = 0; k < al->len; k++) {
                InvEntry *e = &g_array_index(c->invs, InvEntry, g_array_index(al, guint, k));
                if (!e->failed)
                    run_invariant(c, w, e, n, NULL, c->why);
            }
        }
    }
    if (c->n_active > 0) {
        for (unsigned i = 0; i < c->timed->len; i++) {
            Timed *t = &g_array_index(c->timed, Timed, i);
            if (t->active && !t->done && t->spec->kind != DSIM_CHECK_CONVERGE)
                evaluate_timed(c, w, t, false);
        }
    }
}

/* ---- the end ----------------------------------------------------------------- */

static void finish_metric(DsimChecks *c, DsimWorld *w, const DsimCheckSpec *cs, unsigned vi)
{
    const DsimTime *times;
    const double *values;
    size_t n = dsim_world_metric_samples(w, cs->name, &times, &values);
    DsimVerdict *v = verdict(c, vi);
    v->evaluated = true;
    size_t used = 0;
    double worst = NAN;
    for (size_t i = 0; i < n; i++) {
        if (times[i] < cs->after)
            continue;
        used++;
        double x = values[i];
        bool bad = (cs->has_max && x > cs->max) || (cs->has_min && x < cs->min);
        if (isnan(worst) || (cs->has_max && x > worst) || (!cs->has_max && x < worst))
            worst = x;
        if (bad && v->passed) {
            g_autofree char *lo = cs->has_min ? g_strdup_printf("%g", cs->min) : g_strdup("-inf");
            g_autofree char *hi = cs->has_max ? g_strdup_printf("%g", cs->max) : g_strdup("inf");
            g_autofree char *msg = g_strdup_printf("%s = %.6f at %.6fs is outside [%s, %s]",
                                                   cs->name, x, (double) times[i] / 1e9, lo, hi);
            fail(c, w, vi, msg);
        }
    }
    if (used == 0) {
        g_autofree char *msg = g_strdup_printf("no sample of %s at or after %.6fs", cs->name,
                                               (double) cs->after / 1e9);
        fail(c, w, vi, msg);
        return;
    }
    v->has_figure = true;
    v->figure = worst;
}

/* The client history, checked at the end with the Wing & Gong / Lowe search (lincheck.c).
 * The search has a deterministic limit on steps, so a run's verdict never depends on the
 * machine; past it the check is reported as not evaluated (unknown), not as failed. */
#define LIN_MAX_STEPS 50000000u

static void finish_linearizable(DsimChecks *c, DsimWorld *w, const DsimCheckSpec *cs, unsigned vi)
{
    DsimVerdict *v = verdict(c, vi);
    const DsimClients *clients = dsim_world_clients(w);
    if (clients == NULL || dsim_clients_history(clients)->len == 0) {
        v->evaluated = true;
        v->message = g_strdup("no client operations were recorded");
        return;
    }
    const GArray *hist = dsim_clients_history(clients);
    g_autoptr(GString) text = g_string_sized_new(64 * hist->len);
    for (unsigned i = 0; i < hist->len; i++) {
        dsim_hist_op_format(&g_array_index(hist, DsimHistOp, i), text);
        g_string_append_c(text, '\n');
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimLinHistory) h = dsim_lin_history_parse("history.jsonl", text->str, text->len, &error);
    const DsimLinModel *model = dsim_lin_model_find(cs->name);
    g_assert(model != NULL); /* the loader accepts kv and register only */
    DsimLinOptions opt = { .max_steps = LIN_MAX_STEPS };
    g_autoptr(DsimLinResult) r = h != NULL ? dsim_lin_check(h, model, &opt, &error) : NULL;
    if (r == NULL) {
        g_assert(error != NULL);
        g_autofree char *msg = g_strdup_printf("the history could not be checked: %s", error->message);
        fail(c, w, vi, msg);
        return;
    }
    v->evaluated = true;
    switch (r->verdict) {
    case DSIM_LIN_LINEARIZABLE:
        v->message = g_strdup_printf("%u operations in %u partitions, %" PRIu64 " search steps",
                                     r->n_ops, r->n_partitions, r->steps);
        break;
    case DSIM_LIN_NOT_LINEARIZABLE: {
        g_autoptr(GString) why = g_string_new("not linearizable: ");
        dsim_lin_result_explain(r, h, 3, why);
        for (char *p = why->str; *p != '\0'; p++) {
            if (*p == '\n')
                *p = ' '; /* one line for the table; history.jsonl has the whole story */
        }
        fail(c, w, vi, why->str);
        break;
    }
    case DSIM_LIN_UNKNOWN:
        v->evaluated = false;
        v->message = g_strdup_printf("unknown: the search stopped after %" PRIu64 " steps (check "
                                     "history.jsonl with dsim check-history --time-limit)", r->steps);
        break;
    }
}

void dsim_checks_finish(DsimChecks *c, DsimWorld *w)
{
    if (c->finished)
        return;
    c->finished = true;
    unsigned n = dsim_world_n_nodes(w);
    g_autofree uint32_t *component = NULL;
    g_autoptr(GString) why = g_string_new(NULL);
    for (unsigned i = 0; i < c->invs->len; i++) {
        InvEntry *e = &g_array_index(c->invs, InvEntry, i);
        verdict(c, e->verdict)->evaluated = true;
        if (e->inv->when != DSIM_CHECK_AT_END || e->failed)
            continue;
        if (component == NULL) {
            component = g_new(uint32_t, n);
            dsim_checks_components(w, component);
        }
        const DsimGroupSpec *g = &g_array_index(c->sc->groups, DsimGroupSpec, e->group);
        run_invariant(c, w, e, g->count, component + g->first, why);
    }
    for (unsigned i = 0; i < c->timed->len; i++) {
        Timed *t = &g_array_index(c->timed, Timed, i);
        if (t->done)
            continue;
        /* the run ended inside the window (max-events, or the window reaches the end) */
        if (t->spec->kind == DSIM_CHECK_CONVERGE)
            poll_converge(c, w, t, i, true);
        else
            evaluate_timed(c, w, t, true);
    }
    for (unsigned i = 0; i < c->metric_checks->len; i++) {
        const DsimCheckSpec *cs = &g_array_index(c->sc->checks, DsimCheckSpec,
                                                 g_array_index(c->metric_checks, guint, i));
        finish_metric(c, w, cs, g_array_index(c->metric_verdicts, guint, i));
    }
    for (unsigned i = 0; i < c->lin_checks->len; i++) {
        const DsimCheckSpec *cs = &g_array_index(c->sc->checks, DsimCheckSpec,
                                                 g_array_index(c->lin_checks, guint, i));
        finish_linearizable(c, w, cs, g_array_index(c->lin_verdicts, guint, i));
    }
}

unsigned dsim_checks_n_verdicts(const DsimChecks *c) { return c->verdicts->len; }

const DsimVerdict *dsim_checks_verdict(const DsimChecks *c, unsigned i)
{
    g_assert(i < c->verdicts->len);
    return &g_array_index(c->verdicts, DsimVerdict, i);
}
