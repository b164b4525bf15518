/* raft_invariants.c - the five properties of Figure 3 ("Raft guarantees that each of these
 * properties is true at all times"), checked after every event of a member of the group.
 *
 * Each check reads the nodes' RaftNode through the group view and keeps what it must
 * remember in the view's scratch pointer: a crash zeroes a node's state, and terms, logs
 * and commit indexes move on, while the properties speak of all of history ("at most one
 * leader in a given term", "no other server will ever apply a different log entry"). The
 * checks are incremental, so that a run with long logs does not pay O(log) per event: each
 * remembers how far it has looked at every member (or pair of members), and looks only at
 * what is new. A member seen crashed is forgotten and looked at afresh when it is back; a
 * fault is an event too, so no crash and restart can pass unseen between two checks.
 *
 * After an event of member i (g->last == i), only i's state changed, so only i (and pairs
 * with i) are looked at; after a fault or at the end (g->last == g->n), all of them.
 *
 * Log compaction (§7) hides the entries a snapshot replaced. A node snapshots in an event
 * of its own, after the one that applied the entries (raft_snapshot.c), so every entry a
 * node commits and applies is seen here before it goes; entries a follower never held (it
 * installed a leader's snapshot) are vouched for by the snapshot's last index and term
 * (leader-completeness) and by the state machine's digest at each applied index, which a
 * restored store carries over (state-machine-safety). Log matching compares what both logs
 * still hold.
 */
#include "algorithms/raft/raft_internal.h"

#include <string.h>

/* The member's node, or NULL when it is crashed (its state is zeroed then). */
static const RaftNode *live(const DsimGroupView *g, unsigned i)
{
    const RaftNode *r = g->state[i];

    return g->status[i] == DSIM_NODE_CRASHED || r->log == NULL ? NULL : r;
}

static unsigned first_member(const DsimGroupView *g)
{
    return g->last < g->n ? g->last : 0;
}

static unsigned end_member(const DsimGroupView *g)
{
    return g->last < g->n ? g->last + 1 : g->n;
}

static bool entries_equal(const RaftEntry *a, const RaftEntry *b)
{
    return a->term == b->term && a->len == b->len && a->kind == b->kind && memcmp(a->cmd, b->cmd, a->len) == 0;
}

static uint64_t command_hash(const RaftEntry *e)
{
    uint64_t h = dsim_digest_add(dsim_digest_add(0, &e->len, sizeof e->len), e->cmd, e->len);

    return e->kind == RAFT_ENTRY_COMMAND ? h : dsim_digest_add(h, &e->kind, sizeof e->kind);
}

/* A log entry is its term and its command: two no-ops of different terms are different
 * entries (Figure 3 speaks of entries, and Figure 8's overwritten entry may be a no-op). */
static uint64_t entry_hash(const RaftEntry *e)
{
    return dsim_digest_add(command_hash(e), &e->term, sizeof e->term);
}

static void append_command(GString *out, const RaftEntry *e)
{
    if (e->kind == RAFT_ENTRY_CONFIG) {
        RaftConfigBody c;
        memcpy(&c, e->cmd, sizeof c);
        g_string_append_printf(out, "config#%" PRIu64 " members=0x%" PRIx64, c.step, c.members);
        return;
    }
    kv_command_format(e->cmd, e->len, out);
}

/* ---- Election Safety ----------------------------------------------------- */

/* Scratch: for each term, the member seen leading it (index + 1; 0 for none yet). Terms
 * grow by one per election, so an array indexed by term stays small. */
typedef struct {
    GArray *leader_of; /* of uint32_t */
} ElectionHistory;

static void election_history_free(void *scratch)
{
    ElectionHistory *h = scratch;

    if (h == NULL)
        return;
    g_array_free(h->leader_of, TRUE);
    g_free(h);
}

/* Figure 3, Election Safety: "at most one leader can be elected in a given term" (§5.2).
 * O(1) per event: the member that stepped is compared with the leader remembered for its
 * term, so two leaders of one term are caught even when they never coexist. */
static bool check_election_safety(const DsimGroupView *g, GString *why)
{
    ElectionHistory *h = *g->scratch;

    if (h == NULL) {
        h = g_new0(ElectionHistory, 1);
        h->leader_of = g_array_new(FALSE, TRUE, sizeof(uint32_t));
        *g->scratch = h;
    }
    for (unsigned i = first_member(g); i < end_member(g); i++) {
        const RaftNode *r = live(g, i);
        if (r == NULL || r->role != RAFT_LEADER)
            continue;
        if (r->current_term >= h->leader_of->len)
            g_array_set_size(h->leader_of, (guint) r->current_term + 1);
        uint32_t *seen = &g_array_index(h->leader_of, uint32_t, r->current_term);
        if (*seen == 0) {
            *seen = i + 1;
        } else if (*seen != i + 1) {
            g_string_printf(why, "%s and %s were both leader of term %" PRIu64,
                            g->name[*seen - 1], g->name[i], r->current_term);
            return false;
        }
    }
    return true;
}

/* ---- Leader Append-Only -------------------------------------------------- */

/* Scratch, per member: what its log looked like at the previous check while it led. */
typedef struct {
    uint64_t term;      /* the term it leads; 0 when not leading */
    uint64_t len;       /* its log length then */
    uint64_t epoch;     /* its log_epoch then */
    uint64_t last_hash; /* command_hash of entry len, with its term */
    uint64_t last_term;
} LeaderLog;

/* A zeroed array of @size bytes per member, kept in the scratch pointer (freed by g_free). */
static void *per_member(const DsimGroupView *g, size_t size)
{
    if (*g->scratch == NULL)
        *g->scratch = g_malloc0(size * g->n);
    return *g->scratch;
}

/* Figure 3, Leader Append-Only: "a leader never overwrites or deletes entries in its log;
 * it only appends new entries" (§5.3). Every removal goes through raft_log_truncate(),
 * which bumps log_epoch, so a leader whose epoch moved deleted something, even if it grew
 * back; a shorter log, or a different entry where the last one was, is caught directly
 * (that also catches a hand-made log). O(1) per event. */
static bool check_leader_append_only(const DsimGroupView *g, GString *why)
{
    LeaderLog *h = per_member(g, sizeof(LeaderLog));

    for (unsigned i = first_member(g); i < end_member(g); i++) {
        const RaftNode *r = live(g, i);
        LeaderLog *m = &h[i];
        if (r == NULL || r->role != RAFT_LEADER) {
            m->term = 0;
            continue;
        }
        uint64_t len = raft_log_last_index(r);
        if (m->term == r->current_term) {
            if (len < m->len || r->log_epoch != m->epoch) {
                g_string_printf(why, "%s, leader of term %" PRIu64 ", deleted entries of its "
                                "log (%" PRIu64 " entries before, %" PRIu64 " now)", g->name[i],
                                r->current_term, m->len, len);
                return false;
            }
            if (m->len > r->snap_index) { /* else compacted: committed, not deleted */
                const RaftEntry *e = raft_log_entry(r, m->len);
                if (e->term != m->last_term || command_hash(e) != m->last_hash) {
                    g_string_printf(why, "%s, leader of term %" PRIu64 ", overwrote entry %"
                                    PRIu64 " of term %" PRIu64, g->name[i], r->current_term,
                                    m->len, m->last_term);
                    return false;
                }
            }
        }
        m->term = r->current_term;
        m->len = len;
        m->epoch = r->log_epoch;
        m->last_term = raft_log_term_at(r, len);
        m->last_hash = len > r->snap_index ? command_hash(raft_log_entry(r, len)) : 0;
    }
    return true;
}

/* ---- Log Matching -------------------------------------------------------- */

/* Scratch, per ordered pair (a < b) of members: how far their logs were compared. */
typedef struct {
    uint64_t epoch_a, epoch_b; /* their log_epochs then */
    uint64_t checked;          /* indexes 1..checked were compared */
    uint64_t same;             /* entries 1..same are identical (same <= checked) */
    bool     valid;            /* false: compare from the start */
} PairLog;

/* Compares members a and b from where the last comparison stopped. In 1..checked, the logs
 * are identical up to `same` and have no entry of the same term after it: that is the
 * property, and new indexes only need to keep it. A truncation (epoch moved) or a crash
 * (the pair was invalidated) restarts the comparison from index 1, or from the later of
 * the two snapshots: entries up to it are committed, and state-machine-safety checks
 * those. */
static bool match_pair(const DsimGroupView *g, PairLog *p, unsigned a, unsigned b, GString *why)
{
    const RaftNode *ra = g->state[a], *rb = g->state[b];
    uint64_t m = MIN(raft_log_last_index(ra), raft_log_last_index(rb));
    uint64_t lo = MAX(ra->snap_index, rb->snap_index);

    if (!p->valid || p->epoch_a != ra->log_epoch || p->epoch_b != rb->log_epoch
        || m < p->checked)
        *p = (PairLog) { .epoch_a = ra->log_epoch, .epoch_b = rb->log_epoch, .valid = true };
    if (lo > p->checked)
        p->checked = p->same = lo;
    for (uint64_t k = p->checked + 1; k <= m; k++) {
        const RaftEntry *ea = raft_log_entry(ra, k), *eb = raft_log_entry(rb, k);
        if (ea->term != eb->term)
            continue;
        if (p->same == k - 1 && entries_equal(ea, eb)) {
            p->same = k;
            continue;
        }
        if (p->same == k - 1)
            g_string_printf(why, "%s and %s hold different entries of term %" PRIu64
                            " at index %" PRIu64, g->name[a], g->name[b], ea->term, k);
        else
            g_string_printf(why, "%s and %s both have an entry of term %" PRIu64 " at index %"
                            PRIu64 " but their logs differ at index %" PRIu64 " (terms %"
                            PRIu64 " and %" PRIu64 ")", g->name[a], g->name[b], ea->term, k,
                            p->same + 1, raft_log_term_at(ra, p->same + 1),
                            raft_log_term_at(rb, p->same + 1));
        return false;
    }
    p->checked = m;
    return true;
}

/* Figure 3, Log Matching: "if two logs contain an entry with the same index and term, then
 * the logs are identical in all entries up through the given index" (§5.3). Pairs of live
 * members; O(n) pairs per event, each O(new entries). */
static bool check_log_matching(const DsimGroupView *g, GString *why)
{
    PairLog *pairs = per_member(g, sizeof(PairLog) * g->n); /* [a * n + b], a < b */

    for (unsigned i = first_member(g); i < end_member(g); i++) {
        for (unsigned j = 0; j < g->n; j++) {
            if (j == i || (g->last == g->n && j < i))
                continue; /* at a fault, every unordered pair once */
            unsigned a = MIN(i, j), b = MAX(i, j);
            PairLog *p = &pairs[a * g->n + b];
            if (live(g, a) == NULL || live(g, b) == NULL) {
                p->valid = false;
                continue;
            }
            if (!match_pair(g, p, a, b, why))
                return false;
        }
    }
    return true;
}

/* ---- Leader Completeness ------------------------------------------------- */

typedef struct {
    uint64_t term;        /* the entry's term */
    uint64_t commit_term; /* the committing member's term when it was first seen committed */
    uint32_t member;      /* who was first seen with it committed */
} CommittedEntry;

typedef struct {
    uint64_t seen_commit; /* its committed entries 1..seen_commit were recorded */
    uint64_t leader_term; /* the term it leads, 0 when not leading */
    uint64_t verified;    /* as that leader: committed entries 1..verified were found */
} CompletenessMember;

typedef struct {
    unsigned            n;
    GArray             *committed; /* of CommittedEntry, index i at position i - 1 */
    CompletenessMember *members;
} CompletenessHistory;

static void completeness_free(void *scratch)
{
    CompletenessHistory *h = scratch;

    if (h == NULL)
        return;
    g_array_free(h->committed, TRUE);
    g_free(h->members);
    g_free(h);
}

/* Records member i's newly committed entries; a committed index that two members hold
 * with different terms means a committed entry was lost, which is reported here too. */
static bool record_commits(const DsimGroupView *g, CompletenessHistory *h, unsigned i,
                           GString *why)
{
    const RaftNode *r = g->state[i];
    CompletenessMember *m = &h->members[i];
    uint64_t c = MIN(r->commit_index, raft_log_last_index(r));
    uint64_t from = m->seen_commit + 1;

    /* Entries this member never showed committed before a snapshot replaced them (it
     * installed one, or restarted from one): only the last one's term is known. */
    if (from <= r->snap_index && c >= r->snap_index) {
        uint64_t k = r->snap_index;
        if (k <= h->committed->len) {
            const CommittedEntry *e = &g_array_index(h->committed, CommittedEntry, k - 1);
            if (e->term != r->snap_term) {
                g_string_printf(why, "%s holds a snapshot up to index %" PRIu64 " of term %"
                                PRIu64 ", but %s had committed an entry of term %" PRIu64
                                " there in term %" PRIu64, g->name[i], k, r->snap_term,
                                g->name[e->member], e->term, e->commit_term);
                return false;
            }
        }
        from = k + 1;
    }
    for (uint64_t k = from; k <= c; k++) {
        uint64_t term = raft_log_term_at(r, k);
        if (k > h->committed->len + 1)
            continue; /* beyond a gap left by a snapshot: nothing to compare with */
        if (k <= h->committed->len) {
            const CommittedEntry *e = &g_array_index(h->committed, CommittedEntry, k - 1);
            if (e->term != term) {
                g_string_printf(why, "%s committed index %" PRIu64 " with an entry of term %"
                                PRIu64 ", but %s had committed an entry of term %" PRIu64
                                " there in term %" PRIu64, g->name[i], k, term,
                                g->name[e->member], e->term, e->commit_term);
                return false;
            }
            continue;
        }
        CommittedEntry e = { .term = term, .commit_term = r->current_term, .member = i };
        g_array_append_val(h->committed, e);
    }
    m->seen_commit = MAX(m->seen_commit, c);
    return true;
}

/* Figure 3, Leader Completeness: "if a log entry is committed in a given term, then that
 * entry will be present in the logs of the leaders for all higher-numbered terms" (§5.4).
 * Every committed (index, term) any member ever held is kept; a leader is checked against
 * them when it takes office (O(committed), once per election) and then against each new
 * one. Present means the same index and term: Log Matching then gives the same entry. */
static bool check_leader_completeness(const DsimGroupView *g, GString *why)
{
    CompletenessHistory *h = *g->scratch;

    if (h == NULL) {
        h = g_new0(CompletenessHistory, 1);
        h->n = g->n;
        h->committed = g_array_new(FALSE, TRUE, sizeof(CommittedEntry));
        h->members = g_new0(CompletenessMember, g->n);
        *g->scratch = h;
    }
    g_assert(h->n == g->n);
    for (unsigned i = 0; i < g->n; i++) {
        if (live(g, i) == NULL)
            h->members[i] = (CompletenessMember) { 0 };
    }
    for (unsigned i = first_member(g); i < end_member(g); i++) {
        if (live(g, i) != NULL && !record_commits(g, h, i, why))
            return false;
    }
    /* every live leader, since any member's commit may be news to it */
    for (unsigned i = 0; i < g->n; i++) {
        const RaftNode *r = live(g, i);
        CompletenessMember *m = &h->members[i];
        if (r == NULL || r->role != RAFT_LEADER) {
            m->leader_term = 0;
            continue;
        }
        if (m->leader_term != r->current_term)
            *m = (CompletenessMember) { .seen_commit = m->seen_commit,
                                        .leader_term = r->current_term };
        for (uint64_t k = m->verified + 1; k <= h->committed->len; k++) {
            const CommittedEntry *e = &g_array_index(h->committed, CommittedEntry, k - 1);
            if (e->commit_term >= r->current_term)
                continue; /* committed in this term or later: not this leader's duty */
            if (k < r->snap_index)
                continue; /* in its snapshot: vouched for by the snapshot's last entry */
            if (k > raft_log_last_index(r) || raft_log_term_at(r, k) != e->term) {
                g_string_printf(why, "%s is leader of term %" PRIu64 " without entry %" PRIu64
                                " (term %" PRIu64 "), which %s committed in term %" PRIu64,
                                g->name[i], r->current_term, k, e->term, g->name[e->member],
                                e->commit_term);
                return false;
            }
        }
        m->verified = h->committed->len;
    }
    return true;
}

/* ---- State Machine Safety ------------------------------------------------ */

typedef struct {
    uint64_t hash;          /* entry_hash of the entry first applied at this index */
    uint64_t term;          /* its term */
    uint32_t member;        /* who applied it first */
    uint32_t digest_member; /* who was first seen with this index as last applied, + 1;
                               0: nobody yet */
    uint64_t kv_digest;     /* its state machine's digest then (kv_store_digest) */
} AppliedEntry;

typedef struct {
    unsigned  n;
    GArray   *applied; /* of AppliedEntry, index i at position i - 1 */
    uint64_t *seen;    /* per member: its applied entries 1..seen were compared */
} AppliedHistory;

static void applied_free(void *scratch)
{
    AppliedHistory *h = scratch;

    if (h == NULL)
        return;
    g_array_free(h->applied, TRUE);
    g_free(h->seen);
    g_free(h);
}

/* Figure 3, State Machine Safety: "if a server has applied a log entry at a given index to
 * its state machine, no other server will ever apply a different log entry for the same
 * index" (§5.4.3). The first entry applied at each index is remembered (as a hash of its
 * term and command); every later apply, by any member, in any of its lives, must be the
 * same entry. A node applies
 * entries from its log in the event that commits them, so the entry in its log at the time
 * of the check is the one it applied. O(new applies) per event.
 *
 * A node that installs a snapshot applies many entries at once without holding them; the
 * state machine's digest (over the whole applied sequence, carried by the snapshot) stands
 * for them: at each index where some node was seen with its last applied entry, every node
 * seen there later must have the same digest. */
static bool check_state_machine_safety(const DsimGroupView *g, GString *why)
{
    AppliedHistory *h = *g->scratch;

    if (h == NULL) {
        h = g_new0(AppliedHistory, 1);
        h->n = g->n;
        h->applied = g_array_new(FALSE, TRUE, sizeof(AppliedEntry));
        h->seen = g_new0(uint64_t, g->n);
        *g->scratch = h;
    }
    g_assert(h->n == g->n);
    for (unsigned i = first_member(g); i < end_member(g); i++) {
        const RaftNode *r = live(g, i);
        if (r == NULL || r->last_applied < h->seen[i]) {
            h->seen[i] = 0; /* crashed, or restarted: it applies its log again */
            if (r == NULL)
                continue;
        }
        uint64_t upto = MIN(r->last_applied, raft_log_last_index(r));
        for (uint64_t k = MAX(h->seen[i], r->snap_index) + 1; k <= upto; k++) {
            const RaftEntry *e = raft_log_entry(r, k);
            uint64_t hash = entry_hash(e);
            if (k > h->applied->len + 1)
                continue; /* beyond a gap left by a snapshot: nothing to compare with */
            if (k > h->applied->len) {
                AppliedEntry a = { .hash = hash, .term = e->term, .member = i };
                g_array_append_val(h->applied, a);
                continue;
            }
            const AppliedEntry *a = &g_array_index(h->applied, AppliedEntry, k - 1);
            if (a->hash != hash) {
                g_string_printf(why, "%s applied ", g->name[i]);
                append_command(why, e);
                g_string_append_printf(why, " (term %" PRIu64 ") at index %" PRIu64 ", but %s "
                                       "applied a different entry there (term %" PRIu64 ")",
                                       e->term, k, g->name[a->member], a->term);
                return false;
            }
        }
        h->seen[i] = MAX(h->seen[i], upto);
        uint64_t last = r->last_applied;
        if (last == 0 || last > h->applied->len || r->kv == NULL
            || kv_store_applied(r->kv) != last)
            continue;
        AppliedEntry *a = &g_array_index(h->applied, AppliedEntry, last - 1);
        uint64_t digest = kv_store_digest(r->kv);
        if (a->digest_member == 0) {
            a->digest_member = i + 1;
            a->kv_digest = digest;
        } else if (a->kv_digest != digest) {
            g_string_printf(why, "%s and %s applied different sequences up to index %" PRIu64
                            " (their state machines differ there)", g->name[i],
                            g->name[a->digest_member - 1], last);
            return false;
        }
    }
    return true;
}

/* ---- the table ----------------------------------------------------------- */

const DsimInvariant raft_invariants[] = {
    { "election-safety", "at most one leader per term (Figure 3, §5.2)", DSIM_CHECK_ALWAYS,
      check_election_safety, election_history_free },
    { "leader-append-only", "a leader never deletes or overwrites its log entries (§5.3)",
      DSIM_CHECK_ALWAYS, check_leader_append_only, NULL },
    { "log-matching", "logs with an entry of the same index and term are identical up to it "
      "(§5.3)", DSIM_CHECK_ALWAYS, check_log_matching, NULL },
    { "leader-completeness", "a committed entry is in the log of every later leader (§5.4)",
      DSIM_CHECK_ALWAYS, check_leader_completeness, completeness_free },
    { "state-machine-safety", "no two nodes apply different entries at one index (§5.4.3)",
      DSIM_CHECK_ALWAYS, check_state_machine_safety, applied_free },
    { NULL },
};
