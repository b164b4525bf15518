/* test_raft_invariants.c - the five properties of Raft's Figure 3 on hand-made group views:
 * each passes on a history that keeps it and names the term, index and nodes of the
 * violation each known bug produces. The views are built as the kernel builds them (states,
 * statuses, names, a scratch pointer kept across checks), with logs written by hand.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "algorithms/raft/raft_internal.h"
#include "tests/algorithms/tests.h"

#define MAX_MEMBERS 5

typedef struct {
    RaftNode             nodes[MAX_MEMBERS];
    DsimNodeStatus       status[MAX_MEMBERS];
    const void          *states[MAX_MEMBERS];
    const char          *names[MAX_MEMBERS];
    DsimNodeId           ids[MAX_MEMBERS];
    void                *scratch;
    const DsimInvariant *inv;
    DsimGroupView        g;
    GString             *why;
} View;

static const char *const member_names[MAX_MEMBERS] = { "r1", "r2", "r3", "r4", "r5" };

static const DsimInvariant *invariant(const char *name)
{
    for (const DsimInvariant *i = raft_protocol.invariants; i->name != NULL; i++) {
        if (strcmp(i->name, name) == 0)
            return i;
    }
    g_assert_not_reached();
}

/* A view of @n live followers with empty logs, for invariant @name. */
static View *view_new(const char *name, unsigned n)
{
    View *v = g_new0(View, 1);

    g_assert(n <= MAX_MEMBERS);
    v->inv = invariant(name);
    for (unsigned i = 0; i < n; i++) {
        v->nodes[i].log = g_array_new(FALSE, TRUE, sizeof(RaftEntry));
        v->nodes[i].voted_for = DSIM_NOBODY;
        v->states[i] = &v->nodes[i];
        v->names[i] = member_names[i];
        v->ids[i] = i;
    }
    v->g = (DsimGroupView) { .group = "r", .n = n, .name = v->names, .state = v->states,
                             .status = v->status, .id = v->ids, .last = n,
                             .scratch = &v->scratch };
    v->why = g_string_new(NULL);
    return v;
}

static void view_free(View *v)
{
    for (unsigned i = 0; i < v->g.n; i++) {
        raft_log_clear(&v->nodes[i]);
        kv_store_free(v->nodes[i].kv);
    }
    if (v->inv->fini != NULL)
        v->inv->fini(v->scratch);
    else
        g_free(v->scratch);
    g_string_free(v->why, TRUE);
    g_free(v);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(View, view_free)

/* The command of entry @index written by the leader of @term: put k=v<term>.<index>. */
static RaftEntry entry(uint64_t term, uint64_t index)
{
    RaftEntry e = { .term = term, .len = sizeof(KvCommand) };
    g_autofree char *value = g_strdup_printf("v%" PRIu64 ".%" PRIu64, term, index);
    KvCommand c;

    kv_command_init(&c, KV_OP_PUT, 1, index, "k", value, NULL);
    memcpy(e.cmd, &c, sizeof c);
    return e;
}

/* Member @i's log becomes entries of @terms; a shorter log than before counts as a
 * truncation (log_epoch moves), as raft_log_truncate() would make it. */
static void set_log(View *v, unsigned i, const uint64_t *terms, unsigned len)
{
    RaftNode *r = &v->nodes[i];

    if (len < r->log->len)
        r->log_epoch++;
    g_array_set_size(r->log, 0);
    for (unsigned k = 0; k < len; k++) {
        RaftEntry e = entry(terms[k], k + 1);
        g_array_append_val(r->log, e);
    }
}

static void set_role(View *v, unsigned i, RaftRole role, uint64_t term)
{
    v->nodes[i].role = role;
    v->nodes[i].current_term = term;
}

/* Runs the check as the kernel would after an event of member @last (or a fault: n). */
static bool check(View *v, unsigned last)
{
    v->g.last = last;
    g_string_truncate(v->why, 0);
    bool ok = v->inv->check(&v->g, v->why);
    if (!ok)
        CU_ASSERT_TRUE(v->why->len > 0);
    return ok;
}

/* ---- election safety ----------------------------------------------------- */

static void test_election_safety_catches_two_leaders_of_one_term(void)
{
    g_autoptr(View) v = view_new("election-safety", 3);

    set_role(v, 0, RAFT_LEADER, 2);
    CU_ASSERT_TRUE(check(v, 0));
    set_role(v, 0, RAFT_FOLLOWER, 3);
    set_role(v, 1, RAFT_LEADER, 3);
    CU_ASSERT_TRUE(check(v, 1)); /* a new term, a new leader */
    set_role(v, 1, RAFT_FOLLOWER, 3);
    set_role(v, 2, RAFT_LEADER, 2); /* late, and not at the same time as r1: still caught */
    CU_ASSERT_FALSE(check(v, 2));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r1 and r3 were both leader of term 2");
}

static void test_election_safety_ignores_crashed_members(void)
{
    g_autoptr(View) v = view_new("election-safety", 3);

    set_role(v, 0, RAFT_LEADER, 2);
    set_role(v, 1, RAFT_LEADER, 2);
    v->status[1] = DSIM_NODE_CRASHED; /* a stale zeroed-looking state: not looked at */
    CU_ASSERT_TRUE(check(v, 3));
    CU_ASSERT_TRUE(check(v, 0));
}

/* ---- leader append-only -------------------------------------------------- */

static void test_leader_append_only_allows_appends(void)
{
    g_autoptr(View) v = view_new("leader-append-only", 3);
    const uint64_t t[] = { 1, 2, 2, 2 };

    set_log(v, 0, t, 2);
    set_role(v, 0, RAFT_LEADER, 2);
    CU_ASSERT_TRUE(check(v, 0));
    set_log(v, 0, t, 4);
    CU_ASSERT_TRUE(check(v, 0));
    set_role(v, 0, RAFT_FOLLOWER, 3); /* no longer leader: its log may change */
    set_log(v, 0, t, 1);
    CU_ASSERT_TRUE(check(v, 0));
}

static void test_leader_append_only_catches_a_deletion(void)
{
    g_autoptr(View) v = view_new("leader-append-only", 3);
    const uint64_t t[] = { 1, 2, 2 };

    set_log(v, 1, t, 3);
    set_role(v, 1, RAFT_LEADER, 2);
    CU_ASSERT_TRUE(check(v, 1));
    set_log(v, 1, t, 2);
    CU_ASSERT_FALSE(check(v, 1));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r2, leader of term 2, deleted entries of its log "
                                        "(3 entries before, 2 now)");
}

static void test_leader_append_only_catches_a_truncation_that_grew_back(void)
{
    g_autoptr(View) v = view_new("leader-append-only", 3);
    const uint64_t t[] = { 1, 2, 2, 2 };

    set_log(v, 0, t, 3);
    set_role(v, 0, RAFT_LEADER, 2);
    CU_ASSERT_TRUE(check(v, 0));
    v->nodes[0].log_epoch++; /* truncated to 2, then 2 entries appended, in one event */
    set_log(v, 0, t, 4);
    CU_ASSERT_FALSE(check(v, 0));
}

static void test_leader_append_only_catches_an_overwrite(void)
{
    g_autoptr(View) v = view_new("leader-append-only", 3);
    const uint64_t t[] = { 1, 2, 2 };

    set_log(v, 0, t, 3);
    set_role(v, 0, RAFT_LEADER, 2);
    CU_ASSERT_TRUE(check(v, 0));
    g_array_index(v->nodes[0].log, RaftEntry, 2) = entry(2, 99);
    CU_ASSERT_FALSE(check(v, 0));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r1, leader of term 2, overwrote entry 3 of term 2");
}

/* ---- log matching -------------------------------------------------------- */

static void test_log_matching_allows_logs_that_diverge_by_term(void)
{
    g_autoptr(View) v = view_new("log-matching", 3);
    const uint64_t a[] = { 1, 1, 2, 2 }, b[] = { 1, 1, 3 };

    set_log(v, 0, a, 4);
    set_log(v, 1, b, 3);
    set_log(v, 2, a, 2);
    CU_ASSERT_TRUE(check(v, 3));
    set_log(v, 2, a, 4); /* grows: compared from where it stopped */
    CU_ASSERT_TRUE(check(v, 2));
}

/* What two leaders of one term (bug forget-vote) leave behind. */
static void test_log_matching_catches_different_entries_of_one_term(void)
{
    g_autoptr(View) v = view_new("log-matching", 3);
    const uint64_t t[] = { 1, 2, 2 };

    set_log(v, 0, t, 3);
    set_log(v, 2, t, 2);
    CU_ASSERT_TRUE(check(v, 3));
    set_log(v, 2, t, 3);
    g_array_index(v->nodes[2].log, RaftEntry, 2) = entry(2, 42);
    CU_ASSERT_FALSE(check(v, 2));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r1 and r3 hold different entries of term 2 at "
                                        "index 3");
}

static void test_log_matching_catches_a_match_after_a_difference(void)
{
    g_autoptr(View) v = view_new("log-matching", 2);
    const uint64_t a[] = { 1, 2, 3 }, b[] = { 1, 1, 3 };

    set_log(v, 0, a, 3);
    set_log(v, 1, b, 3);
    CU_ASSERT_FALSE(check(v, 2));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r1 and r2 both have an entry of term 3 at index 3 "
                                        "but their logs differ at index 2 (terms 2 and 1)");
}

static void test_log_matching_compares_again_after_a_truncation(void)
{
    g_autoptr(View) v = view_new("log-matching", 2);
    const uint64_t a[] = { 1, 1, 1 }, b[] = { 1, 2, 2 };

    set_log(v, 0, a, 3);
    set_log(v, 1, a, 3);
    CU_ASSERT_TRUE(check(v, 2));
    set_log(v, 1, a, 1);  /* truncated */
    CU_ASSERT_TRUE(check(v, 1));
    set_log(v, 1, b, 3);  /* regrown with other terms: fine */
    CU_ASSERT_TRUE(check(v, 1));
    g_array_index(v->nodes[0].log, RaftEntry, 0) = entry(1, 7);
    v->nodes[0].log_epoch++; /* r1's first entry replaced: compared from index 1 again */
    CU_ASSERT_FALSE(check(v, 0));
}

/* ---- leader completeness ------------------------------------------------- */

/* What bug no-log-up-to-date-check (or commit-previous-term) leads to: a leader of a later
 * term without an entry committed earlier. */
static void test_leader_completeness_catches_a_leader_missing_a_committed_entry(void)
{
    g_autoptr(View) v = view_new("leader-completeness", 3);
    const uint64_t t[] = { 1, 2, 3 };

    set_log(v, 0, t, 2);
    set_role(v, 0, RAFT_LEADER, 2);
    v->nodes[0].commit_index = 2;
    CU_ASSERT_TRUE(check(v, 0));
    set_role(v, 0, RAFT_FOLLOWER, 3);
    set_log(v, 1, t, 1);
    set_role(v, 1, RAFT_LEADER, 3);
    CU_ASSERT_FALSE(check(v, 1));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r2 is leader of term 3 without entry 2 (term 2), "
                                        "which r1 committed in term 2");
}

static void test_leader_completeness_passes_for_a_complete_leader(void)
{
    g_autoptr(View) v = view_new("leader-completeness", 3);
    const uint64_t t[] = { 1, 2, 3 };

    set_log(v, 0, t, 2);
    v->nodes[0].commit_index = 2;
    set_role(v, 0, RAFT_FOLLOWER, 2);
    CU_ASSERT_TRUE(check(v, 0));
    set_log(v, 2, t, 3);
    set_role(v, 2, RAFT_LEADER, 3);
    CU_ASSERT_TRUE(check(v, 2));
    v->nodes[2].commit_index = 3;
    CU_ASSERT_TRUE(check(v, 2));
}

static void test_leader_completeness_catches_two_commits_at_one_index(void)
{
    g_autoptr(View) v = view_new("leader-completeness", 3);
    const uint64_t a[] = { 1, 2 }, b[] = { 1, 3 };

    set_log(v, 0, a, 2);
    v->nodes[0].commit_index = 2;
    set_role(v, 0, RAFT_FOLLOWER, 2);
    set_log(v, 1, b, 2);
    v->nodes[1].commit_index = 2;
    set_role(v, 1, RAFT_FOLLOWER, 3);
    CU_ASSERT_FALSE(check(v, 3));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r2 committed index 2 with an entry of term 3, but "
                                        "r1 had committed an entry of term 2 there in term 2");
}

/* ---- state machine safety ------------------------------------------------ */

static void test_state_machine_safety_catches_two_commands_at_one_index(void)
{
    g_autoptr(View) v = view_new("state-machine-safety", 3);
    const uint64_t t[] = { 1, 1, 2 };

    set_log(v, 0, t, 3);
    v->nodes[0].last_applied = 3;
    CU_ASSERT_TRUE(check(v, 0));
    set_log(v, 1, t, 3);
    g_array_index(v->nodes[1].log, RaftEntry, 1) = entry(2, 5);
    v->nodes[1].last_applied = 1;
    CU_ASSERT_TRUE(check(v, 1));
    v->nodes[1].last_applied = 2;
    CU_ASSERT_FALSE(check(v, 1));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r2 applied put k=v2.5 (c1#5) (term 2) at index 2, "
                                        "but r1 applied a different entry there (term 1)");
}

/* A restarted node applies its log again from index 1; the same commands pass. */
static void test_state_machine_safety_follows_a_node_through_a_restart(void)
{
    g_autoptr(View) v = view_new("state-machine-safety", 2);
    const uint64_t t[] = { 1, 1, 2 };

    set_log(v, 0, t, 3);
    v->nodes[0].last_applied = 3;
    CU_ASSERT_TRUE(check(v, 0));
    v->status[0] = DSIM_NODE_CRASHED;
    CU_ASSERT_TRUE(check(v, 2));
    v->status[0] = DSIM_NODE_UP;
    v->nodes[0].last_applied = 0;
    CU_ASSERT_TRUE(check(v, 2));
    g_array_index(v->nodes[0].log, RaftEntry, 0) = entry(1, 8);
    v->nodes[0].last_applied = 1;
    CU_ASSERT_FALSE(check(v, 0)); /* its new first apply differs from its old one */
}

/* ---- with snapshots (§7) -------------------------------------------------- */

/* Member @i's entries 1..@index go into a snapshot, as raft_log_compact() does. */
static void compact(View *v, unsigned i, uint64_t index)
{
    RaftNode *r = &v->nodes[i];

    r->snap_term = raft_log_term_at(r, index);
    g_array_remove_range(r->log, 0, (guint) (index - r->snap_index));
    r->snap_index = index;
}

/* A leader that compacts its own prefix deletes nothing. */
static void test_leader_append_only_allows_compaction(void)
{
    g_autoptr(View) v = view_new("leader-append-only", 2);
    const uint64_t t[] = { 1, 2, 2 };

    set_log(v, 0, t, 3);
    set_role(v, 0, RAFT_LEADER, 2);
    CU_ASSERT_TRUE(check(v, 0));
    compact(v, 0, 3);
    CU_ASSERT_TRUE(check(v, 0));
    RaftEntry e = entry(2, 4);
    g_array_append_val(v->nodes[0].log, e);
    CU_ASSERT_TRUE(check(v, 0));
}

/* Logs compacted to different points are compared above the later snapshot, and a
 * difference there is still caught. */
static void test_log_matching_compares_above_the_snapshots(void)
{
    g_autoptr(View) v = view_new("log-matching", 2);
    const uint64_t t[] = { 1, 1, 2, 2, 2 };

    set_log(v, 0, t, 5);
    set_log(v, 1, t, 5);
    compact(v, 0, 4);
    compact(v, 1, 2);
    CU_ASSERT_TRUE(check(v, 2));
    RaftEntry e = entry(3, 6), f = entry(3, 7);
    g_array_append_val(v->nodes[0].log, e);
    g_array_append_val(v->nodes[1].log, f);
    CU_ASSERT_FALSE(check(v, 1));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r1 and r2 hold different entries of term 3 at index 6");
}

/* A follower that installed a snapshot never showed the entries it covers committed; the
 * snapshot's last entry must still be the committed one. */
static void test_leader_completeness_checks_an_installed_snapshot(void)
{
    g_autoptr(View) v = view_new("leader-completeness", 2);
    const uint64_t a[] = { 1, 2, 2 }, b[] = { 1, 3 };

    set_log(v, 0, a, 3);
    v->nodes[0].commit_index = 3;
    set_role(v, 0, RAFT_FOLLOWER, 2);
    CU_ASSERT_TRUE(check(v, 0));
    set_log(v, 1, b, 2);
    compact(v, 1, 2);
    v->nodes[1].commit_index = 2;
    set_role(v, 1, RAFT_FOLLOWER, 3);
    CU_ASSERT_FALSE(check(v, 1));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r2 holds a snapshot up to index 2 of term 3, but r1 "
                                        "had committed an entry of term 2 there in term 2");
}

/* Member @i applies its log up to @upto into its own KV store, as raft_apply() does. */
static void apply_to_store(View *v, unsigned i, uint64_t upto)
{
    RaftNode *r = &v->nodes[i];
    g_autoptr(GString) out = g_string_new(NULL);

    if (r->kv == NULL)
        r->kv = kv_store_new();
    while (r->last_applied < upto) {
        const RaftEntry *e = raft_log_entry(r, ++r->last_applied);
        kv_store_apply(r->kv, e->cmd, e->len, out);
    }
}

/* A node that restored a snapshot applied the entries it covers without holding them: its
 * store's digest at the snapshot's index must be that of the nodes that applied them. */
static void test_state_machine_safety_checks_a_restored_store(void)
{
    g_autoptr(View) v = view_new("state-machine-safety", 2);
    const uint64_t t[] = { 1, 1, 1 };

    set_log(v, 0, t, 3);
    apply_to_store(v, 0, 3);
    CU_ASSERT_TRUE(check(v, 0));

    /* r2 installs a snapshot of a store that applied other commands */
    g_autoptr(KvStore) other = kv_store_new();
    g_autoptr(GString) out = g_string_new(NULL);
    for (uint64_t k = 1; k <= 3; k++) {
        RaftEntry e = entry(1, k + 10);
        kv_store_apply(other, e.cmd, e.len, out);
    }
    g_autoptr(GBytes) snap = kv_store_snapshot(other);
    RaftNode *r = &v->nodes[1];
    r->kv = kv_store_new();
    CU_ASSERT_TRUE(kv_store_restore(r->kv, snap));
    r->snap_index = r->last_applied = r->commit_index = 3;
    r->snap_term = 1;
    CU_ASSERT_FALSE(check(v, 1));
    CU_ASSERT_STRING_EQUAL(v->why->str, "r2 and r1 applied different sequences up to index 3 "
                                        "(their state machines differ there)");

    /* a snapshot of r1's own store passes */
    g_autoptr(GBytes) good = kv_store_snapshot(v->nodes[0].kv);
    CU_ASSERT_TRUE(kv_store_restore(r->kv, good));
    g_autoptr(View) w = view_new("state-machine-safety", 2);
    set_log(w, 0, t, 3);
    apply_to_store(w, 0, 3);
    CU_ASSERT_TRUE(check(w, 0));
    w->nodes[1].kv = kv_store_new();
    CU_ASSERT_TRUE(kv_store_restore(w->nodes[1].kv, good));
    w->nodes[1].snap_index = w->nodes[1].last_applied = w->nodes[1].commit_index = 3;
    w->nodes[1].snap_term = 1;
    CU_ASSERT_TRUE(check(w, 1));
}

CU_TestInfo raft_invariants_tests[] = {
    { "election safety catches two leaders of one term",
      test_election_safety_catches_two_leaders_of_one_term },
    { "election safety ignores crashed members", test_election_safety_ignores_crashed_members },
    { "leader append-only allows appends", test_leader_append_only_allows_appends },
    { "leader append-only catches a deletion", test_leader_append_only_catches_a_deletion },
    { "leader append-only catches a truncation that grew back",
      test_leader_append_only_catches_a_truncation_that_grew_back },
    { "leader append-only catches an overwrite", test_leader_append_only_catches_an_overwrite },
    { "log matching allows logs that diverge by term",
      test_log_matching_allows_logs_that_diverge_by_term },
    { "log matching catches different entries of one term",
      test_log_matching_catches_different_entries_of_one_term },
    { "log matching catches a match after a difference",
      test_log_matching_catches_a_match_after_a_difference },
    { "log matching compares again after a truncation",
      test_log_matching_compares_again_after_a_truncation },
    { "leader completeness catches a leader missing a committed entry",
      test_leader_completeness_catches_a_leader_missing_a_committed_entry },
    { "leader completeness passes for a complete leader",
      test_leader_completeness_passes_for_a_complete_leader },
    { "leader completeness catches two commits at one index",
      test_leader_completeness_catches_two_commits_at_one_index },
    { "state machine safety catches two commands at one index",
      test_state_machine_safety_catches_two_commands_at_one_index },
    { "state machine safety follows a node through a restart",
      test_state_machine_safety_follows_a_node_through_a_restart },
    { "leader append-only allows compaction", test_leader_append_only_allows_compaction },
    { "log matching compares above the snapshots",
      test_log_matching_compares_above_the_snapshots },
    { "leader completeness checks an installed snapshot",
      test_leader_completeness_checks_an_installed_snapshot },
    { "state machine safety checks a restored store",
      test_state_machine_safety_checks_a_restored_store },
    CU_TEST_INFO_NULL,
};
