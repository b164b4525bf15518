/* leader.c - leadership figures (see leader.h for the definitions). */
#include "sim/leader.h"

#include <string.h>

#define MAX_TRACKED 64

typedef struct {
    bool       tracked;      /* the protocol describes roles and the group is small */
    bool       ever_role;    /* some member reported a role: only then are figures kept */
    DsimNodeId leader;       /* established leader, or DSIM_NOBODY */
    uint64_t   term;
    DsimTime   lost_at;      /* when the group lost its leader (or 0 at start) */
    bool       had_leader;   /* a leader was established before */
} GroupLeader;

struct DsimLeaders {
    const DsimScenario *sc;
    GroupLeader        *g;
    unsigned            n;
    bool                any;
};

DsimLeaders *dsim_leaders_new(const DsimScenario *sc)
{
    DsimLeaders *l = g_new0(DsimLeaders, 1);
    l->sc = sc;
    l->n = sc->groups->len;
    l->g = g_new0(GroupLeader, l->n);
    for (unsigned i = 0; i < l->n; i++) {
        const DsimGroupSpec *gs = &g_array_index(sc->groups, DsimGroupSpec, i);
        l->g[i].tracked = gs->protocol->leader_based && gs->protocol->describe != NULL
                          && gs->count <= MAX_TRACKED;
        l->g[i].leader = DSIM_NOBODY;
        l->any = l->any || l->g[i].tracked;
    }
    return l;
}

void dsim_leaders_free(DsimLeaders *l)
{
    if (l == NULL)
        return;
    g_free(l->g);
    g_free(l);
}

/* The established leader of group @gi now, or DSIM_NOBODY; sets *any_role. */
static DsimNodeId established(DsimWorld *w, const DsimGroupSpec *gs, uint64_t *term, bool *any_role)
{
    DsimView v[MAX_TRACKED];
    DsimNodeId best = DSIM_NOBODY;
    uint64_t best_term = 0;
    for (unsigned i = 0; i < gs->count; i++) {
        dsim_world_describe(w, gs->first + i, &v[i]);
        if (v[i].role != DSIM_ROLE_NONE)
            *any_role = true;
        if (v[i].role == DSIM_ROLE_LEADER && dsim_world_node_status(w, gs->first + i) == DSIM_NODE_UP
            && (best == DSIM_NOBODY || v[i].term > best_term)) {
            best = gs->first + i;
            best_term = v[i].term;
        }
    }
    if (best == DSIM_NOBODY)
        return DSIM_NOBODY;
    /* a leader cut off from the majority (a partition) is not established, even while the
     * others have not yet moved to a new term: count only members it can talk to both ways */
    unsigned in_term = 0;
    for (unsigned i = 0; i < gs->count; i++) {
        DsimNodeId id = gs->first + i;
        if (dsim_world_node_status(w, id) != DSIM_NODE_CRASHED && v[i].term == best_term
            && (id == best || (dsim_world_can_pass(w, best, id) && dsim_world_can_pass(w, id, best))))
            in_term++;
    }
    if (in_term <= gs->count / 2)
        return DSIM_NOBODY;
    *term = best_term;
    return best;
}

static void metric(DsimWorld *w, const char *name, double value)
{
    dsim_world_note_metric(w, name, value);
}

static void update(DsimLeaders *l, DsimWorld *w, unsigned gi)
{
    GroupLeader *gl = &l->g[gi];
    const DsimGroupSpec *gs = &g_array_index(l->sc->groups, DsimGroupSpec, gi);
    uint64_t term = 0;
    bool any_role = false;
    DsimNodeId now_leader = established(w, gs, &term, &any_role);
    gl->ever_role = gl->ever_role || any_role;
    if (!gl->ever_role)
        return;
    DsimTime now = dsim_world_now(w);
    if (now_leader == gl->leader && (now_leader == DSIM_NOBODY || term == gl->term))
        return;
    if (gl->leader != DSIM_NOBODY && now_leader == DSIM_NOBODY) {
        gl->lost_at = now; /* the interval without a leader starts */
    } else if (now_leader != DSIM_NOBODY) {
        if (gl->leader == DSIM_NOBODY) {
            metric(w, "leaderless_seconds", (double) (now - gl->lost_at) / 1e9);
            metric(w, gl->had_leader ? "election_time_seconds" : "first_leader_seconds",
                   (double) (now - gl->lost_at) / 1e9);
        } else {
            /* handed over without a gap we could see (same event) */
            metric(w, "election_time_seconds", 0.0);
        }
        metric(w, "leader_changes", 1.0);
        gl->had_leader = true;
    }
    gl->leader = now_leader;
    gl->term = term;
}

void dsim_leaders_after_event(DsimLeaders *l, DsimWorld *w, DsimNodeId node)
{
    if (!l->any)
        return;
    if (node != DSIM_NOBODY) {
        unsigned gi = dsim_world_group_of(w, node);
        GroupLeader *gl = &l->g[gi];
        if (!gl->tracked)
            return;
        update(l, w, gi);
        return;
    }
    for (unsigned gi = 0; gi < l->n; gi++) {
        if (l->g[gi].tracked)
            update(l, w, gi);
    }
}

void dsim_leaders_finish(DsimLeaders *l, DsimWorld *w)
{
    for (unsigned gi = 0; gi < l->n; gi++) {
        GroupLeader *gl = &l->g[gi];
        if (gl->tracked && gl->ever_role && gl->leader == DSIM_NOBODY)
            metric(w, "leaderless_seconds", (double) (dsim_world_now(w) - gl->lost_at) / 1e9);
    }
}
