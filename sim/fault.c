/* fault.c - faults, nemeses and node selectors (see fault.h).
 *
 * Selector rules, written once here:
 *  - Random choices (random, follower, minority, majority, and every nemesis) draw from the
 *    run's "faults" stream, over candidates listed in member-index order, so a protocol's
 *    own randomness never changes which node a fault hits.
 *  - A selector picks among the nodes the action can apply to: crash, pause, disconnect and
 *    drift pick live nodes, restart picks crashed ones, resume paused ones, connect
 *    disconnected ones; partitions and blocks pick among all members.
 *  - leader(g) is the live member describing itself as leader with the highest term (ties:
 *    lowest index); follower(g,k) picks k live members that are not the leader.
 *  - minority(g) is floor((n-1)/2) members and majority(g) floor(n/2)+1, n the group size.
 *  - as="L1" captures what the fault's selector matched; "L1+k" is, for each captured node,
 *    the member k places after it in its group, cyclically in index order.
 */
#include "sim/fault.h"

#include <string.h>

#include "sim/queue.h"
#include "sim/rng.h"
#include "sim/time.h"

#define STOP_TICK UINT32_MAX

typedef struct {
    GArray *affected; /* DsimNodeId the nemesis crashed or paused, to undo */
} NemesisState;

struct DsimFaults {
    const DsimScenario *sc;
    const GArray       *faults;   /* DsimFaultSpec */
    DsimRng             rng;
    GHashTable         *captures; /* name -> GArray of DsimNodeId (lookup only) */
    NemesisState       *nemesis;  /* per fault index */
};

static const char *fault_name(DsimFaultKind k)
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
    case DSIM_FAULT_DRIFT: return "drift";
    case DSIM_FAULT_NEMESIS: return "nemesis";
    }
    g_assert_not_reached();
}

static const char *nemesis_name(DsimNemesisKind k)
{
    switch (k) {
    case DSIM_NEMESIS_RANDOM_HALVES: return "random-halves";
    case DSIM_NEMESIS_MAJORITIES_RING: return "majorities-ring";
    case DSIM_NEMESIS_BRIDGE: return "bridge";
    case DSIM_NEMESIS_ISOLATE: return "isolate";
    case DSIM_NEMESIS_ISOLATE_LEADER: return "isolate-leader";
    case DSIM_NEMESIS_CRASH_RESTART: return "crash-restart";
    case DSIM_NEMESIS_PAUSE_RESUME: return "pause-resume";
    }
    g_assert_not_reached();
}

DsimFaults *dsim_faults_new(DsimWorld *w, const DsimScenario *sc, const GArray *faults,
                            uint64_t seed)
{
    DsimFaults *f = g_new0(DsimFaults, 1);
    f->sc = sc;
    f->faults = faults;
    dsim_rng_init(&f->rng, seed, "faults");
    f->captures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_array_unref);
    unsigned n = faults != NULL ? faults->len : 0;
    f->nemesis = g_new0(NemesisState, n > 0 ? n : 1);
    for (unsigned i = 0; i < n; i++) {
        const DsimFaultSpec *fs = &g_array_index(faults, DsimFaultSpec, i);
        dsim_world_schedule(w, fs->at, DSIM_EV_FAULT, i, 0);
    }
    return f;
}

void dsim_faults_free(DsimFaults *f)
{
    if (f == NULL)
        return;
    unsigned n = f->faults != NULL ? f->faults->len : 0;
    for (unsigned i = 0; i < n; i++) {
        if (f->nemesis[i].affected != NULL)
            g_array_unref(f->nemesis[i].affected);
    }
    g_free(f->nemesis);
    g_hash_table_destroy(f->captures);
    g_free(f);
}

/* ---- selectors ------------------------------------------------------------ */

typedef enum {
    ELIGIBLE_ANY,
    ELIGIBLE_LIVE,
    ELIGIBLE_UP,
    ELIGIBLE_CRASHED,
    ELIGIBLE_PAUSED,
    ELIGIBLE_DISCONNECTED,
} Eligible;

static Eligible eligible_for(DsimFaultKind k)
{
    switch (k) {
    case DSIM_FAULT_CRASH:
    case DSIM_FAULT_DISCONNECT:
    case DSIM_FAULT_DRIFT: return ELIGIBLE_LIVE;
    case DSIM_FAULT_PAUSE: return ELIGIBLE_UP;
    case DSIM_FAULT_RESTART: return ELIGIBLE_CRASHED;
    case DSIM_FAULT_RESUME: return ELIGIBLE_PAUSED;
    case DSIM_FAULT_CONNECT: return ELIGIBLE_DISCONNECTED;
    default: return ELIGIBLE_ANY;
    }
}

static bool is_eligible(DsimWorld *w, DsimNodeId id, Eligible e)
{
    DsimNodeStatus st = dsim_world_node_status(w, id);
    switch (e) {
    case ELIGIBLE_ANY: return true;
    case ELIGIBLE_LIVE: return st != DSIM_NODE_CRASHED;
    case ELIGIBLE_UP: return st == DSIM_NODE_UP;
    case ELIGIBLE_CRASHED: return st == DSIM_NODE_CRASHED;
    case ELIGIBLE_PAUSED: return st == DSIM_NODE_PAUSED;
    case ELIGIBLE_DISCONNECTED: return dsim_net_is_disconnected(dsim_world_net(w), id);
    }
    g_assert_not_reached();
}

static void add_unique(GArray *out, DsimNodeId id)
{
    for (unsigned i = 0; i < out->len; i++) {
        if (g_array_index(out, DsimNodeId, i) == id)
            return;
    }
    g_array_append_val(out, id);
}

/* Appends k members drawn uniformly without replacement from @cand (member-index order). */
static void pick_random(DsimFaults *f, GArray *cand, unsigned k, GArray *out)
{
    if (k > cand->len)
        k = cand->len;
    /* a partial Fisher-Yates: the first k places end up a uniform sample */
    DsimNodeId *c = (DsimNodeId *) (void *) cand->data;
    for (unsigned i = 0; i < k; i++) {
        unsigned j = i + (unsigned) dsim_rng_below(&f->rng, cand->len - i);
        DsimNodeId t = c[i];
        c[i] = c[j];
        c[j] = t;
        add_unique(out, c[i]);
    }
}

static void resolve_one(DsimFaults *f, DsimWorld *w, const DsimSelector *s, Eligible e, GArray *out)
{
    const DsimScenario *sc = f->sc;
    const DsimGroupSpec *g = s->kind == DSIM_SEL_CRASHED || s->kind == DSIM_SEL_CAPTURE
                                 ? NULL
                                 : &g_array_index(sc->groups, DsimGroupSpec, s->group);
    g_autoptr(GArray) cand = g_array_new(FALSE, FALSE, sizeof(DsimNodeId));
    switch (s->kind) {
    case DSIM_SEL_NODE:
        add_unique(out, s->node);
        return;
    case DSIM_SEL_GROUP:
        for (unsigned i = 0; i < g->count; i++)
            add_unique(out, g->first + i);
        return;
    case DSIM_SEL_LEADER: {
        DsimNodeId l = dsim_world_leader(w, s->group);
        if (l != DSIM_NOBODY)
            add_unique(out, l);
        return;
    }
    case DSIM_SEL_FOLLOWER: {
        DsimNodeId l = dsim_world_leader(w, s->group);
        Eligible fe = e == ELIGIBLE_ANY ? ELIGIBLE_LIVE : e;
        for (unsigned i = 0; i < g->count; i++) {
            DsimNodeId id = g->first + i;
            if (id != l && dsim_world_node_status(w, id) != DSIM_NODE_CRASHED && is_eligible(w, id, fe))
                g_array_append_val(cand, id);
        }
        pick_random(f, cand, s->k > 0 ? s->k : 1, out);
        return;
    }
    case DSIM_SEL_RANDOM:
    case DSIM_SEL_MINORITY:
    case DSIM_SEL_MAJORITY: {
        for (unsigned i = 0; i < g->count; i++) {
            DsimNodeId id = g->first + i;
            if (is_eligible(w, id, e))
                g_array_append_val(cand, id);
        }
        unsigned k = s->kind == DSIM_SEL_RANDOM ? s->k
                   : s->kind == DSIM_SEL_MINORITY ? (g->count - 1) / 2
                                                  : g->count / 2 + 1;
        pick_random(f, cand, k, out);
        return;
    }
    case DSIM_SEL_CRASHED:
        for (DsimNodeId id = 0; id < sc->n_nodes; id++) {
            if (dsim_world_node_status(w, id) == DSIM_NODE_CRASHED)
                add_unique(out, id);
        }
        return;
    case DSIM_SEL_CAPTURE: {
        GArray *cap = g_hash_table_lookup(f->captures, s->capture);
        if (cap == NULL)
            return; /* not captured yet: the capturing fault has not fired */
        for (unsigned i = 0; i < cap->len; i++) {
            DsimNodeId id = g_array_index(cap, DsimNodeId, i);
            const DsimGroupSpec *cg = &g_array_index(sc->groups, DsimGroupSpec,
                                                     dsim_scenario_group_of(sc, id));
            add_unique(out, cg->first + (id - cg->first + s->offset) % cg->count);
        }
        return;
    }
    }
    g_assert_not_reached();
}

static GArray *resolve(DsimFaults *f, DsimWorld *w, const DsimSelectorList *list, Eligible e)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(DsimNodeId));
    for (unsigned i = 0; list != NULL && i < list->len; i++)
        resolve_one(f, w, &g_array_index(list, DsimSelector, i), e, out);
    return out;
}

static void append_nodes(GString *s, DsimWorld *w, const GArray *nodes)
{
    for (unsigned i = 0; i < nodes->len; i++)
        g_string_append_printf(s, "%s%s", i > 0 ? "," : "",
                               dsim_world_node_name(w, g_array_index(nodes, DsimNodeId, i)));
}

static void capture(DsimFaults *f, const char *as, const GArray *nodes)
{
    if (as == NULL)
        return;
    GArray *copy = g_array_sized_new(FALSE, FALSE, sizeof(DsimNodeId), nodes->len);
    g_array_append_vals(copy, nodes->data, nodes->len);
    g_hash_table_replace(f->captures, g_strdup(as), copy);
}

/* ---- one-shot faults -------------------------------------------------------- */

static void fire_partition(DsimFaults *f, DsimWorld *w, const DsimFaultSpec *fs, GString *text)
{
    g_autofree uint32_t *label = g_new0(uint32_t, f->sc->n_nodes);
    g_string_append(text, "partition");
    for (unsigned s = 0; s < fs->sides->len; s++) {
        g_autoptr(GArray) side = resolve(f, w, g_ptr_array_index(fs->sides, s), ELIGIBLE_ANY);
        g_string_append(text, s == 0 ? " " : " | ");
        append_nodes(text, w, side);
        for (unsigned i = 0; i < side->len; i++)
            label[g_array_index(side, DsimNodeId, i)] = s + 1;
        if (s == 0)
            capture(f, fs->as, side);
    }
    dsim_net_partition(dsim_world_net(w), label);
}

static void fire_block(DsimFaults *f, DsimWorld *w, const DsimFaultSpec *fs, GString *text)
{
    bool block = fs->kind == DSIM_FAULT_BLOCK;
    g_autoptr(GArray) from = resolve(f, w, fs->from, ELIGIBLE_ANY);
    g_autoptr(GArray) to = resolve(f, w, fs->to, ELIGIBLE_ANY);
    g_string_append_printf(text, "%s ", block ? "block" : "unblock");
    append_nodes(text, w, from);
    g_string_append(text, " -> ");
    append_nodes(text, w, to);
    for (unsigned i = 0; i < from->len; i++) {
        for (unsigned j = 0; j < to->len; j++) {
            DsimNodeId a = g_array_index(from, DsimNodeId, i), b = g_array_index(to, DsimNodeId, j);
            if (a != b)
                dsim_net_block(dsim_world_net(w), a, b, block);
        }
    }
}

static void apply_node_fault(DsimFaults *f, DsimWorld *w, const DsimFaultSpec *fs, DsimNodeId id)
{
    const DsimScenario *sc = f->sc;
    switch (fs->kind) {
    case DSIM_FAULT_CRASH: {
        DsimUnsynced u = fs->unsynced != DSIM_UNSYNCED_DEFAULT ? fs->unsynced : sc->unsynced;
        dsim_world_crash(w, id, u != DSIM_UNSYNCED_KEEP);
        break;
    }
    case DSIM_FAULT_RESTART: dsim_world_restart(w, id); break;
    case DSIM_FAULT_PAUSE: dsim_world_pause(w, id); break;
    case DSIM_FAULT_RESUME: dsim_world_resume(w, id); break;
    case DSIM_FAULT_DISCONNECT: dsim_net_disconnect(dsim_world_net(w), id, true); break;
    case DSIM_FAULT_CONNECT: dsim_net_disconnect(dsim_world_net(w), id, false); break;
    case DSIM_FAULT_DRIFT: dsim_world_set_drift(w, id, fs->rate); break;
    default: g_assert_not_reached();
    }
}

static void selectors_text(GString *s, const DsimScenario *sc, const DsimSelectorList *list)
{
    for (unsigned i = 0; list != NULL && i < list->len; i++) {
        const DsimSelector *sel = &g_array_index(list, DsimSelector, i);
        const char *gid = sel->kind == DSIM_SEL_CRASHED || sel->kind == DSIM_SEL_CAPTURE
                              || sel->kind == DSIM_SEL_NODE
                              ? NULL
                              : g_array_index(sc->groups, DsimGroupSpec, sel->group).id;
        if (i > 0)
            g_string_append_c(s, ',');
        switch (sel->kind) {
        case DSIM_SEL_NODE: g_string_append(s, sc->node_names[sel->node]); break;
        case DSIM_SEL_GROUP: g_string_append(s, gid); break;
        case DSIM_SEL_LEADER: g_string_append_printf(s, "leader(%s)", gid); break;
        case DSIM_SEL_FOLLOWER: g_string_append_printf(s, "follower(%s,%u)", gid, sel->k > 0 ? sel->k : 1); break;
        case DSIM_SEL_RANDOM: g_string_append_printf(s, "random(%s,%u)", gid, sel->k); break;
        case DSIM_SEL_MINORITY: g_string_append_printf(s, "minority(%s)", gid); break;
        case DSIM_SEL_MAJORITY: g_string_append_printf(s, "majority(%s)", gid); break;
        case DSIM_SEL_CRASHED: g_string_append(s, "crashed"); break;
        case DSIM_SEL_CAPTURE:
            g_string_append(s, sel->capture);
            if (sel->offset > 0)
                g_string_append_printf(s, "+%u", sel->offset);
            break;
        }
    }
}

/* ---- nemeses --------------------------------------------------------------- */

static GArray *members(const DsimScenario *sc, unsigned gi)
{
    const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, gi);
    GArray *m = g_array_sized_new(FALSE, FALSE, sizeof(DsimNodeId), g->count);
    for (unsigned i = 0; i < g->count; i++) {
        DsimNodeId id = g->first + i;
        g_array_append_val(m, id);
    }
    return m;
}

static void shuffle(DsimFaults *f, GArray *nodes)
{
    dsim_rng_shuffle_u32(&f->rng, (uint32_t *) (void *) nodes->data, nodes->len);
}

static void block_both(DsimNet *net, DsimNodeId a, DsimNodeId b)
{
    dsim_net_block(net, a, b, true);
    dsim_net_block(net, b, a, true);
}

/* Does harm once; writes what it did into @text. */
static void nemesis_harm(DsimFaults *f, DsimWorld *w, unsigned index, const DsimFaultSpec *fs,
                         GString *text)
{
    const DsimScenario *sc = f->sc;
    DsimNet *net = dsim_world_net(w);
    g_autoptr(GArray) m = members(sc, fs->target);
    DsimNodeId *v = (DsimNodeId *) (void *) m->data;
    unsigned n = m->len;
    NemesisState *ns = &f->nemesis[index];
    if (ns->affected == NULL)
        ns->affected = g_array_new(FALSE, FALSE, sizeof(DsimNodeId));

    switch (fs->nemesis) {
    case DSIM_NEMESIS_RANDOM_HALVES: {
        /* Jepsen's partition-random-halves: shuffle, then cut into floor(n/2) and the rest */
        shuffle(f, m);
        g_autofree uint32_t *label = g_new0(uint32_t, sc->n_nodes);
        for (unsigned i = 0; i < n; i++)
            label[v[i]] = i < n / 2 ? 1 : 2;
        dsim_net_partition(net, label);
        g_autoptr(GArray) a = g_array_new(FALSE, FALSE, sizeof(DsimNodeId));
        g_autoptr(GArray) b = g_array_new(FALSE, FALSE, sizeof(DsimNodeId));
        g_array_append_vals(a, v, n / 2);
        g_array_append_vals(b, v + n / 2, n - n / 2);
        g_string_append(text, "partition ");
        append_nodes(text, w, a);
        g_string_append(text, " | ");
        append_nodes(text, w, b);
        return;
    }
    case DSIM_NEMESIS_MAJORITIES_RING: {
        /* Jepsen's majorities-ring: on a random ring, each node sees the nodes within
         * distance d (d = ceil((majority-1)/2)), so each sees a majority, and no two nodes see
         * the same majority when n >= 5. */
        shuffle(f, m);
        unsigned maj = n / 2 + 1, d = maj / 2;
        for (unsigned i = 0; i < n; i++) {
            for (unsigned j = i + 1; j < n; j++) {
                unsigned dist = j - i < n - (j - i) ? j - i : n - (j - i);
                if (dist > d)
                    block_both(net, v[i], v[j]);
            }
        }
        g_string_append(text, "majorities ring ");
        append_nodes(text, w, m);
        return;
    }
    case DSIM_NEMESIS_BRIDGE: {
        /* Jepsen's bridge: two halves that only one node (the bridge) talks to both */
        shuffle(f, m);
        unsigned half = n / 2;
        for (unsigned i = 0; i < half; i++) {
            for (unsigned j = half + 1; j < n; j++)
                block_both(net, v[i], v[j]);
        }
        g_string_append_printf(text, "bridge %s between ", dsim_world_node_name(w, v[half]));
        g_autoptr(GArray) a = g_array_new(FALSE, FALSE, sizeof(DsimNodeId));
        g_autoptr(GArray) b = g_array_new(FALSE, FALSE, sizeof(DsimNodeId));
        g_array_append_vals(a, v, half);
        g_array_append_vals(b, v + half + 1, n - half - 1);
        append_nodes(text, w, a);
        g_string_append(text, " and ");
        append_nodes(text, w, b);
        return;
    }
    case DSIM_NEMESIS_ISOLATE:
    case DSIM_NEMESIS_ISOLATE_LEADER: {
        DsimNodeId victim = DSIM_NOBODY;
        if (fs->nemesis == DSIM_NEMESIS_ISOLATE_LEADER) {
            victim = dsim_world_leader(w, fs->target);
            if (victim == DSIM_NOBODY) {
                g_string_append(text, "isolate-leader: no leader; nothing done");
                return;
            }
        } else {
            victim = v[dsim_rng_below(&f->rng, n)];
        }
        g_autofree uint32_t *label = g_new0(uint32_t, sc->n_nodes);
        for (unsigned i = 0; i < n; i++)
            label[v[i]] = v[i] == victim ? 1 : 2;
        dsim_net_partition(net, label);
        g_string_append_printf(text, "isolate %s", dsim_world_node_name(w, victim));
        return;
    }
    case DSIM_NEMESIS_CRASH_RESTART:
    case DSIM_NEMESIS_PAUSE_RESUME: {
        bool crash = fs->nemesis == DSIM_NEMESIS_CRASH_RESTART;
        g_autoptr(GArray) cand = g_array_new(FALSE, FALSE, sizeof(DsimNodeId));
        for (unsigned i = 0; i < n; i++) {
            if (dsim_world_node_status(w, v[i]) == DSIM_NODE_UP)
                g_array_append_val(cand, v[i]);
        }
        if (cand->len == 0) {
            g_string_append_printf(text, "%s: no live node; nothing done", crash ? "crash" : "pause");
            return;
        }
        DsimNodeId victim = g_array_index(cand, DsimNodeId, dsim_rng_below(&f->rng, cand->len));
        if (crash)
            dsim_world_crash(w, victim, sc->unsynced != DSIM_UNSYNCED_KEEP);
        else
            dsim_world_pause(w, victim);
        g_array_append_val(ns->affected, victim);
        g_string_append_printf(text, "%s %s", crash ? "crash" : "pause", dsim_world_node_name(w, victim));
        return;
    }
    }
    g_assert_not_reached();
}

static void nemesis_undo(DsimFaults *f, DsimWorld *w, unsigned index, const DsimFaultSpec *fs,
                         GString *text)
{
    NemesisState *ns = &f->nemesis[index];
    switch (fs->nemesis) {
    case DSIM_NEMESIS_CRASH_RESTART:
    case DSIM_NEMESIS_PAUSE_RESUME: {
        bool crash = fs->nemesis == DSIM_NEMESIS_CRASH_RESTART;
        g_string_append(text, crash ? "restart" : "resume");
        if (ns->affected == NULL || ns->affected->len == 0) {
            g_string_append(text, ": nothing to undo");
            return;
        }
        g_string_append_c(text, ' ');
        append_nodes(text, w, ns->affected);
        for (unsigned i = 0; i < ns->affected->len; i++) {
            DsimNodeId id = g_array_index(ns->affected, DsimNodeId, i);
            if (crash)
                dsim_world_restart(w, id);
            else
                dsim_world_resume(w, id);
        }
        g_array_set_size(ns->affected, 0);
        return;
    }
    default:
        dsim_net_heal(dsim_world_net(w));
        g_string_append(text, "heal");
        return;
    }
}

static void fire_nemesis(DsimFaults *f, DsimWorld *w, unsigned index, const DsimFaultSpec *fs,
                         uint32_t tick, GString *text)
{
    g_string_append_printf(text, "nemesis %s: ", nemesis_name(fs->nemesis));
    if (tick == STOP_TICK) {
        nemesis_undo(f, w, index, fs, text);
        return;
    }
    /* even ticks do harm, odd ticks undo it: the Jepsen start/stop rhythm */
    if (tick % 2 == 0)
        nemesis_harm(f, w, index, fs, text);
    else
        nemesis_undo(f, w, index, fs, text);
    DsimTime next = fs->at + (DsimTime) (tick + 1) * fs->every;
    if (next < fs->stop)
        dsim_world_schedule(w, next, DSIM_EV_FAULT, index, tick + 1);
    else
        dsim_world_schedule(w, fs->stop, DSIM_EV_FAULT, index, STOP_TICK);
}

/* ---- dispatch ---------------------------------------------------------------- */

void dsim_faults_fire(DsimFaults *f, DsimWorld *w, uint32_t index, uint32_t tick)
{
    const DsimScenario *sc = f->sc;
    const DsimFaultSpec *fs = &g_array_index(f->faults, DsimFaultSpec, index);
    g_autoptr(GString) text = g_string_new(NULL);

    switch (fs->kind) {
    case DSIM_FAULT_NEMESIS:
        fire_nemesis(f, w, index, fs, tick, text);
        break;
    case DSIM_FAULT_PARTITION:
        fire_partition(f, w, fs, text);
        break;
    case DSIM_FAULT_BLOCK:
    case DSIM_FAULT_UNBLOCK:
        fire_block(f, w, fs, text);
        break;
    case DSIM_FAULT_HEAL:
        dsim_net_heal(dsim_world_net(w));
        g_string_append(text, "heal");
        break;
    default: {
        g_autoptr(GArray) nodes = resolve(f, w, fs->nodes, eligible_for(fs->kind));
        g_string_append_printf(text, "%s ", fault_name(fs->kind));
        if (nodes->len == 0) {
            selectors_text(text, sc, fs->nodes);
            g_string_append(text, ": no node matched; nothing done");
            break;
        }
        append_nodes(text, w, nodes);
        if (fs->kind == DSIM_FAULT_DRIFT)
            g_string_append_printf(text, " rate=%.6f", fs->rate);
        g_string_append(text, " (");
        selectors_text(text, sc, fs->nodes);
        g_string_append(text, ")");
        capture(f, fs->as, nodes);
        for (unsigned i = 0; i < nodes->len; i++)
            apply_node_fault(f, w, fs, g_array_index(nodes, DsimNodeId, i));
        break;
    }
    }
    g_string_append_printf(text, " [line %d]", fs->line);
    dsim_world_note_fault(w, text->str);
}
