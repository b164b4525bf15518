/* test_broadcast.c - eager reliable broadcast (CGR §3.3), one behaviour per test.
 *
 * Handler tests play one member through the harness; the invariant tests run the checks on
 * hand-built group views, and one runs them over real states taken through a crash.
 */
#include <CUnit/CUnit.h>

#include "algorithms/broadcast/broadcast.h"
#include "tests/algorithms/tests.h"
#include "tests/lib/harness.h"

/* ---- helpers ------------------------------------------------------------- */

static Harness *new_node(unsigned group_size, unsigned self_index)
{
    return harness_new(&broadcast_protocol, "b", group_size, self_index, 7);
}

static void deliver_data(Harness *h, unsigned from, uint32_t id)
{
    BroadcastData d = { .id = id, .origin = 1 };
    harness_deliver(h, from, BROADCAST_MSG_DATA, &d, sizeof d);
}

static void deliver_ack(Harness *h, unsigned from, uint32_t id)
{
    BroadcastAck a = { .id = id };
    harness_deliver(h, from, BROADCAST_MSG_ACK, &a, sizeof a);
}

/* Asserts that sent message @i is a copy of @id to member @to. */
static void assert_data(const Harness *h, unsigned i, DsimNodeId to, uint32_t id)
{
    CU_ASSERT_FATAL(i < harness_n_sent(h));
    const HarnessSent *s = harness_sent(h, i);
    CU_ASSERT_EQUAL(s->to, to);
    CU_ASSERT_EQUAL_FATAL(s->type, BROADCAST_MSG_DATA);
    CU_ASSERT_EQUAL_FATAL(s->size, sizeof(BroadcastData));
    CU_ASSERT_EQUAL(((const BroadcastData *) s->body)->id, id);
    CU_ASSERT_EQUAL(((const BroadcastData *) s->body)->origin, 1);
}

static void assert_ack(const Harness *h, unsigned i, DsimNodeId to, uint32_t id)
{
    CU_ASSERT_FATAL(i < harness_n_sent(h));
    const HarnessSent *s = harness_sent(h, i);
    CU_ASSERT_EQUAL(s->to, to);
    CU_ASSERT_EQUAL_FATAL(s->type, BROADCAST_MSG_ACK);
    CU_ASSERT_EQUAL(((const BroadcastAck *) s->body)->id, id);
}

static const BroadcastNode *node_of(Harness *h)
{
    return harness_state(h);
}

/* ---- the origin ---------------------------------------------------------- */

static void test_origin_broadcasts_at_start_delivers_and_floods_to_the_others(void)
{
    g_autoptr(Harness) h = new_node(4, 0);
    harness_set_param(h, "messages", "2");
    harness_set_param(h, "start", "1s");
    harness_init(h);

    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    const HarnessTimer *t = harness_timer(h, 0);
    CU_ASSERT_EQUAL(t->delay, DSIM_S(1));
    CU_ASSERT_EQUAL(t->kind, BROADCAST_TIMER_BROADCAST);
    CU_ASSERT_EQUAL(t->arg, 1);
    DsimTimerId first = t->id;
    harness_clear(h);

    harness_fire_timer(h, first);

    /* durable first, then delivered, then one copy to each of the n-1 others */
    CU_ASSERT_EQUAL_FATAL(harness_n_persisted(h), 1);
    CU_ASSERT_EQUAL(harness_persisted(h, 0), 1);
    CU_ASSERT_EQUAL(harness_n_syncs(h), 1);
    CU_ASSERT_EQUAL(node_of(h)->n_delivered, 1);
    CU_ASSERT_TRUE(broadcast_bit_get(node_of(h)->delivered, 1));
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 3);
    assert_data(h, 0, 1, 1);
    assert_data(h, 1, 2, 1);
    assert_data(h, 2, 3, 1);
    CU_ASSERT_EQUAL(harness_n_metrics(h), 0); /* no latency for its own broadcast */

    /* and message 2 is due one interval (10ms by default) later */
    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, DSIM_MS(10));
    CU_ASSERT_EQUAL(harness_timer(h, 0)->arg, 2);
}

static void test_origin_stops_after_its_last_message(void)
{
    g_autoptr(Harness) h = new_node(3, 0);
    harness_init(h);
    harness_clear(h);

    harness_fire(h, BROADCAST_TIMER_BROADCAST, 1);

    CU_ASSERT_EQUAL(harness_n_sent(h), 2);
    CU_ASSERT_EQUAL(harness_n_timers(h), 0);
}

static void test_only_the_origin_broadcasts(void)
{
    g_autoptr(Harness) h = new_node(3, 1);
    harness_set_param(h, "origin", "3");
    harness_init(h);

    CU_ASSERT_EQUAL(harness_n_timers(h), 0);
    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
}

/* ---- receivers ----------------------------------------------------------- */

static void test_first_copy_is_delivered_and_forwarded_to_every_other_member(void)
{
    g_autoptr(Harness) h = new_node(4, 1);
    harness_init(h);
    harness_set_now(h, DSIM_MS(3));

    deliver_data(h, 0, 1);

    /* Algorithm 3.3 beb-broadcasts to all: the sender b1 gets a copy back too */
    CU_ASSERT_EQUAL(node_of(h)->n_delivered, 1);
    CU_ASSERT_EQUAL(harness_n_persisted(h), 1);
    CU_ASSERT_EQUAL(harness_n_syncs(h), 1);
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 3);
    assert_data(h, 0, 0, 1);
    assert_data(h, 1, 2, 1);
    assert_data(h, 2, 3, 1);
    CU_ASSERT_EQUAL(harness_n_timers(h), 0); /* retransmit is off */
    CU_ASSERT_EQUAL_FATAL(harness_n_metrics(h), 1);
    CU_ASSERT_STRING_EQUAL(harness_metric(h, 0)->name, "broadcast_latency_seconds");
    CU_ASSERT_DOUBLE_EQUAL(harness_metric(h, 0)->value, 0.003, 1e-12);
    CU_ASSERT_EQUAL_FATAL(harness_n_logs(h), 1);
    CU_ASSERT_STRING_EQUAL(harness_log(h, 0), "deliver id=1");
}

static void test_later_copies_are_neither_delivered_nor_forwarded(void)
{
    g_autoptr(Harness) h = new_node(4, 1);
    harness_init(h);
    deliver_data(h, 0, 1);
    harness_clear(h);

    deliver_data(h, 2, 1);
    deliver_data(h, 0, 1);

    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
    CU_ASSERT_EQUAL(harness_n_persisted(h), 0);
    CU_ASSERT_EQUAL(node_of(h)->n_delivered, 1);
    CU_ASSERT_EQUAL(node_of(h)->deliveries, 1);
}

/* ---- retransmission ------------------------------------------------------ */

static void test_retransmit_goes_only_to_members_that_have_not_acked(void)
{
    g_autoptr(Harness) h = new_node(4, 1);
    harness_set_param(h, "retransmit", "50ms");
    harness_init(h);

    deliver_data(h, 0, 1);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 4);
    assert_ack(h, 0, 0, 1);
    assert_data(h, 1, 0, 1);
    assert_data(h, 2, 2, 1);
    assert_data(h, 3, 3, 1);
    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    const HarnessTimer *t = harness_timer(h, 0);
    CU_ASSERT_EQUAL(t->delay, DSIM_MS(50));
    CU_ASSERT_EQUAL(t->kind, BROADCAST_TIMER_RETRANSMIT);
    CU_ASSERT_EQUAL(t->arg, 1);
    DsimTimerId retransmit = t->id;
    harness_clear(h);

    /* b1 sent us the copy, b3 acks, b4 stays silent: only b4 gets the copy again */
    deliver_ack(h, 2, 1);
    harness_fire_timer(h, retransmit);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    assert_data(h, 0, 3, 1);
    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    retransmit = harness_timer(h, 0)->id;
    harness_clear(h);

    /* once b4 acks too, the timer sends nothing and is not re-armed */
    deliver_ack(h, 3, 1);
    harness_fire_timer(h, retransmit);

    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
    CU_ASSERT_EQUAL(harness_n_timers(h), 0);
}

static void test_receivers_ack_every_copy_and_a_copy_counts_as_an_ack(void)
{
    g_autoptr(Harness) h = new_node(4, 1);
    harness_set_param(h, "retransmit", "50ms");
    harness_init(h);
    deliver_data(h, 0, 1);
    DsimTimerId retransmit = harness_timer(h, 0)->id;
    harness_clear(h);

    deliver_data(h, 2, 1); /* b3 forwarded its own copy: it holds id 1 */

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    assert_ack(h, 0, 2, 1);
    harness_clear(h);

    harness_fire_timer(h, retransmit);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    assert_data(h, 0, 3, 1);
}

static void test_without_retransmit_nobody_acks(void)
{
    g_autoptr(Harness) h = new_node(3, 1);
    harness_init(h);

    deliver_data(h, 0, 1);
    deliver_data(h, 2, 1);

    for (unsigned i = 0; i < harness_n_sent(h); i++)
        CU_ASSERT_EQUAL(harness_sent(h, i)->type, BROADCAST_MSG_DATA);
}

/* ---- crashes ------------------------------------------------------------- */

static void test_persisted_delivered_set_survives_a_crash_and_blocks_a_second_delivery(void)
{
    g_autoptr(Harness) h = new_node(3, 1);
    harness_init(h);
    deliver_data(h, 0, 1);

    harness_crash(h, true); /* even dropping unsynced writes: the id was synced */
    harness_recover(h);
    harness_clear(h);

    CU_ASSERT_EQUAL(node_of(h)->n_delivered, 1);
    CU_ASSERT_EQUAL(node_of(h)->deliveries, 0);
    deliver_data(h, 2, 1);
    CU_ASSERT_EQUAL(node_of(h)->n_delivered, 1);
    CU_ASSERT_EQUAL(node_of(h)->deliveries, 0);
    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
}

static void test_without_persist_a_crash_forgets_and_the_next_copy_is_delivered_again(void)
{
    g_autoptr(Harness) h = new_node(3, 1);
    harness_set_param(h, "persist", "false");
    harness_init(h);
    deliver_data(h, 0, 1);
    CU_ASSERT_EQUAL(harness_n_persisted(h), 0);
    CU_ASSERT_EQUAL(harness_n_syncs(h), 0);

    harness_crash(h, false);
    harness_recover(h);
    harness_clear(h);

    CU_ASSERT_EQUAL(node_of(h)->n_delivered, 0);
    deliver_data(h, 2, 1);
    CU_ASSERT_EQUAL(node_of(h)->n_delivered, 1);
    CU_ASSERT_EQUAL(node_of(h)->deliveries, 1);
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 2);
    assert_data(h, 0, 0, 1);
    assert_data(h, 1, 2, 1);
}

static void test_restarted_origin_resumes_with_its_first_message_not_broadcast(void)
{
    g_autoptr(Harness) h = new_node(3, 0);
    harness_set_param(h, "messages", "3");
    harness_init(h);
    harness_fire(h, BROADCAST_TIMER_BROADCAST, 1);

    harness_crash(h, true);
    harness_set_now(h, DSIM_MS(4));
    harness_clear(h);
    harness_recover(h);

    /* message 2 was due at 10ms: 6ms from now */
    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->kind, BROADCAST_TIMER_BROADCAST);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->arg, 2);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, DSIM_MS(6));
}

static void test_restarted_origin_without_persist_broadcasts_message_1_again(void)
{
    g_autoptr(Harness) h = new_node(3, 0);
    harness_set_param(h, "persist", "false");
    harness_init(h);
    harness_fire(h, BROADCAST_TIMER_BROADCAST, 1);

    harness_crash(h, false);
    harness_set_now(h, DSIM_MS(4));
    harness_clear(h);
    harness_recover(h);

    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->arg, 1);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, 0); /* overdue */
}

static void test_restarted_node_with_retransmit_resends_what_it_delivered_to_all(void)
{
    g_autoptr(Harness) h = new_node(3, 1);
    harness_set_param(h, "retransmit", "50ms");
    harness_init(h);
    deliver_data(h, 0, 1);
    deliver_ack(h, 2, 1);

    harness_crash(h, true);
    harness_clear(h);
    harness_recover(h);

    /* the acks were volatile: both others get the copy again until they ack */
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 2);
    assert_data(h, 0, 0, 1);
    assert_data(h, 1, 2, 1);
    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->kind, BROADCAST_TIMER_RETRANSMIT);
}

/* ---- describe, print ----------------------------------------------------- */

static void test_describe_digest_is_the_same_whatever_the_delivery_order(void)
{
    g_autoptr(Harness) a = new_node(3, 1);
    g_autoptr(Harness) b = new_node(3, 2);
    harness_set_param(a, "messages", "2");
    harness_set_param(b, "messages", "2");
    harness_init(a);
    harness_init(b);

    deliver_data(a, 0, 1);
    deliver_data(a, 0, 2);
    deliver_data(b, 0, 2);
    deliver_data(b, 0, 1);

    DsimView va, vb;
    harness_describe(a, &va);
    harness_describe(b, &vb);
    CU_ASSERT_EQUAL(va.role, DSIM_ROLE_NONE);
    CU_ASSERT_EQUAL(va.applied, 2);
    CU_ASSERT_EQUAL(vb.applied, 2);
    CU_ASSERT_EQUAL(va.applied_digest, vb.applied_digest);
    CU_ASSERT_NOT_EQUAL(va.applied_digest, 0);
    CU_ASSERT_STRING_EQUAL(va.text, "delivered 2/2");
}

static void test_print_msg_shows_id_and_origin(void)
{
    g_autoptr(Harness) h = new_node(3, 0);
    BroadcastData d = { .id = 3, .origin = 1 };
    BroadcastAck a = { .id = 3 };

    g_autofree char *data = harness_print_msg(h, BROADCAST_MSG_DATA, &d, sizeof d);
    g_autofree char *ack = harness_print_msg(h, BROADCAST_MSG_ACK, &a, sizeof a);

    CU_ASSERT_STRING_EQUAL(data, "Bcast id=3 origin=1");
    CU_ASSERT_STRING_EQUAL(ack, "Ack id=3");
}

/* ---- invariants on hand-built views -------------------------------------- */

#define MAX_MEMBERS 4

/* A group of up to MAX_MEMBERS hand-built states; tests fill states, status, component. */
typedef struct {
    BroadcastConfig cfg;
    const char     *names[MAX_MEMBERS];
    const void     *states[MAX_MEMBERS];
    DsimNodeStatus  status[MAX_MEMBERS];
    DsimNodeId      ids[MAX_MEMBERS];
    uint32_t        component[MAX_MEMBERS];
    void           *scratch;
    DsimGroupView   view;
} Group;

static void group_init(Group *g, unsigned n, BroadcastNode *states, int64_t messages)
{
    static const char *const names[MAX_MEMBERS] = { "b1", "b2", "b3", "b4" };

    g_assert(n <= MAX_MEMBERS);
    *g = (Group) { .cfg = { .origin = 1, .messages = messages } };
    for (unsigned i = 0; i < n; i++) {
        g->names[i] = names[i];
        g->states[i] = &states[i];
        g->status[i] = DSIM_NODE_UP;
        g->ids[i] = i;
        g->component[i] = 0;
    }
    g->view = (DsimGroupView) { .group = "b", .n = n, .name = g->names, .state = g->states,
                                .status = g->status, .id = g->ids, .config = &g->cfg,
                                .last = n, .component = g->component,
                                .scratch = &g->scratch };
}

static const DsimInvariant *invariant(const char *name)
{
    for (const DsimInvariant *inv = broadcast_protocol.invariants; inv->name != NULL; inv++) {
        if (g_str_equal(inv->name, name))
            return inv;
    }
    g_assert_not_reached();
}

/* Runs no-duplicate-delivery after an event of member @last. */
static bool check_dup(Group *g, unsigned last, GString *why)
{
    g->view.last = last;
    return invariant("no-duplicate-delivery")->check(&g->view, why);
}

static bool check_all(Group *g, GString *why)
{
    g->view.last = g->view.n;
    return invariant("all-delivered")->check(&g->view, why);
}

static void test_no_duplicate_delivery_passes_for_first_deliveries_in_every_life(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    uint64_t bits[2] = { 0 };
    BroadcastNode s[2] = { { .delivered = &bits[0], .incarnation = 11 },
                           { .delivered = &bits[1], .incarnation = 21 } };
    Group g;
    group_init(&g, 2, s, 2);
    const DsimInvariant *inv = invariant("no-duplicate-delivery");
    CU_ASSERT_EQUAL(inv->when, DSIM_CHECK_ALWAYS);

    CU_ASSERT_TRUE(check_dup(&g, 1, why));
    s[1] = (BroadcastNode) { .incarnation = 21, .deliveries = 1, .last_delivered = 1 };
    CU_ASSERT_TRUE(check_dup(&g, 1, why));
    s[1].deliveries = 2;
    s[1].last_delivered = 2;
    CU_ASSERT_TRUE(check_dup(&g, 1, why));
    CU_ASSERT_TRUE(check_dup(&g, 1, why)); /* an event that delivered nothing */

    /* crash (zeroed, not checked), then a life that recovered both ids from storage */
    s[1] = (BroadcastNode) { 0 };
    g.status[1] = DSIM_NODE_CRASHED;
    CU_ASSERT_TRUE(check_dup(&g, 2, why));
    g.status[1] = DSIM_NODE_UP;
    s[1] = (BroadcastNode) { .incarnation = 23, .n_delivered = 2 };
    CU_ASSERT_TRUE(check_dup(&g, 1, why));

    inv->fini(g.scratch);
}

static void test_no_duplicate_delivery_catches_a_delivery_repeated_after_an_unseen_crash(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    BroadcastNode s[2] = { { .incarnation = 11 },
                           { .incarnation = 21, .deliveries = 1, .last_delivered = 1 } };
    Group g;
    group_init(&g, 2, s, 1);
    CU_ASSERT_TRUE(check_dup(&g, 1, why));

    /* The check never saw the crash: same counter, but a new life delivering id 1 again. */
    s[1] = (BroadcastNode) { .incarnation = 25, .deliveries = 1, .last_delivered = 1 };
    CU_ASSERT_FALSE(check_dup(&g, 1, why));
    CU_ASSERT_STRING_EQUAL(why->str, "b2 delivered message id=1 a second time "
                                     "(it forgot the first delivery in a crash)");

    invariant("no-duplicate-delivery")->fini(g.scratch);
}

static void test_all_delivered_passes_when_every_connected_member_has_every_message(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    uint64_t all = 0x7, none = 0;
    BroadcastNode s[3] = { { .delivered = &all, .n_delivered = 3 },
                           { .delivered = &all, .n_delivered = 3 },
                           { .delivered = &all, .n_delivered = 3 } };
    Group g;
    group_init(&g, 3, s, 3);
    CU_ASSERT_EQUAL(invariant("all-delivered")->when, DSIM_CHECK_AT_END);

    CU_ASSERT_TRUE(check_all(&g, why));

    /* nothing broadcast yet at the end: nothing to miss */
    for (unsigned i = 0; i < 3; i++)
        s[i] = (BroadcastNode) { .delivered = &none };
    CU_ASSERT_TRUE(check_all(&g, why));
}

static void test_all_delivered_names_the_member_and_the_message_it_missed(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    uint64_t all = 0x7, missing_2 = 0x5;
    BroadcastNode s[3] = { { .delivered = &all, .n_delivered = 3 },
                           { .delivered = &all, .n_delivered = 3 },
                           { .delivered = &missing_2, .n_delivered = 2 } };
    Group g;
    group_init(&g, 3, s, 3);

    CU_ASSERT_FALSE(check_all(&g, why));
    CU_ASSERT_STRING_EQUAL(why->str, "b3 is missing message id=2, which b1 delivered "
                                     "(missing deliveries among the members connected to b1: 1)");
}

static void test_all_delivered_counts_only_what_was_broadcast(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    uint64_t first_two = 0x3;
    BroadcastNode s[2] = { { .delivered = &first_two, .n_delivered = 2 },
                           { .delivered = &first_two, .n_delivered = 2 } };
    Group g;
    group_init(&g, 2, s, 5); /* the run ended before ids 3..5 were due */

    CU_ASSERT_TRUE(check_all(&g, why));
}

static void test_all_delivered_ignores_crashed_members_and_other_components(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    uint64_t all = 0x1, none = 0;
    BroadcastNode s[4] = { { .delivered = &all, .n_delivered = 1 },
                           { .delivered = &all, .n_delivered = 1 },
                           { 0 },
                           { .delivered = &none } };
    Group g;
    group_init(&g, 4, s, 1);
    g.status[2] = DSIM_NODE_CRASHED;
    g.component[2] = DSIM_COMPONENT_NONE;
    g.component[3] = 1; /* partitioned away from the origin */

    CU_ASSERT_TRUE(check_all(&g, why));

    g.component[3] = 0; /* healed: now it counts */
    CU_ASSERT_FALSE(check_all(&g, why));
    CU_ASSERT_TRUE(g_str_has_prefix(why->str, "b4 is missing message id=1"));
}

static void test_all_delivered_uses_a_delivering_members_component_when_the_origin_is_down(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    uint64_t all = 0x1, none = 0;
    BroadcastNode s[4] = { { 0 },
                           { .delivered = &none },
                           { .delivered = &all, .n_delivered = 1 },
                           { .delivered = &none } };
    Group g;
    group_init(&g, 4, s, 1);
    g.status[0] = DSIM_NODE_CRASHED;
    g.component[0] = DSIM_COMPONENT_NONE;
    g.component[1] = 5; /* cut off from b3: not its business */
    g.component[2] = 2;
    g.component[3] = 2;

    CU_ASSERT_FALSE(check_all(&g, why));
    CU_ASSERT_STRING_EQUAL(why->str, "b4 is missing message id=1, which b3 delivered "
                                     "(missing deliveries among the members connected to b3: 1)");
}

static void test_all_delivered_reports_an_origin_outside_the_group(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    uint64_t none = 0;
    BroadcastNode s[2] = { { .delivered = &none }, { .delivered = &none } };
    Group g;
    group_init(&g, 2, s, 1);
    g.cfg.origin = 3;

    CU_ASSERT_FALSE(check_all(&g, why));
    CU_ASSERT_STRING_EQUAL(why->str, "origin=3 names no member of b, which has 2");
}

/* ---- invariants over real states ----------------------------------------- */

static void test_no_duplicate_delivery_catches_the_bug_of_persist_false(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    g_autoptr(Harness) origin = new_node(2, 0);
    g_autoptr(Harness) other = new_node(2, 1);
    harness_set_param(origin, "persist", "false");
    harness_set_param(other, "persist", "false");
    harness_init(origin);
    harness_init(other);

    const char *names[] = { "b1", "b2" };
    const void *states[] = { harness_state(origin), harness_state(other) };
    DsimNodeStatus status[] = { DSIM_NODE_UP, DSIM_NODE_UP };
    DsimNodeId ids[] = { 0, 1 };
    void *scratch = NULL;
    DsimGroupView g = { .group = "b", .n = 2, .name = names, .state = states,
                        .status = status, .id = ids, .config = harness_config(origin),
                        .scratch = &scratch };
    const DsimInvariant *inv = invariant("no-duplicate-delivery");

    harness_fire(origin, BROADCAST_TIMER_BROADCAST, 1);
    g.last = 0;
    CU_ASSERT_TRUE(inv->check(&g, why));

    /* crash and restart are world events: the check does not run for them */
    harness_crash(origin, false);
    harness_recover(origin);
    harness_fire(origin, BROADCAST_TIMER_BROADCAST, 1);
    CU_ASSERT_FALSE(inv->check(&g, why));
    CU_ASSERT_TRUE(g_str_has_prefix(why->str, "b1 delivered message id=1 a second time"));

    inv->fini(scratch);
}

CU_TestInfo broadcast_tests[] = {
    { "origin broadcasts at start, delivers and floods to the others",
      test_origin_broadcasts_at_start_delivers_and_floods_to_the_others },
    { "origin stops after its last message", test_origin_stops_after_its_last_message },
    { "only the origin broadcasts", test_only_the_origin_broadcasts },
    { "first copy is delivered and forwarded to every other member",
      test_first_copy_is_delivered_and_forwarded_to_every_other_member },
    { "later copies are neither delivered nor forwarded",
      test_later_copies_are_neither_delivered_nor_forwarded },
    { "retransmit goes only to members that have not acked",
      test_retransmit_goes_only_to_members_that_have_not_acked },
    { "receivers ack every copy and a copy counts as an ack",
      test_receivers_ack_every_copy_and_a_copy_counts_as_an_ack },
    { "without retransmit nobody acks", test_without_retransmit_nobody_acks },
    { "persisted delivered set survives a crash and blocks a second delivery",
      test_persisted_delivered_set_survives_a_crash_and_blocks_a_second_delivery },
    { "without persist a crash forgets and the next copy is delivered again",
      test_without_persist_a_crash_forgets_and_the_next_copy_is_delivered_again },
    { "restarted origin resumes with its first message not broadcast",
      test_restarted_origin_resumes_with_its_first_message_not_broadcast },
    { "restarted origin without persist broadcasts message 1 again",
      test_restarted_origin_without_persist_broadcasts_message_1_again },
    { "restarted node with retransmit resends what it delivered to all",
      test_restarted_node_with_retransmit_resends_what_it_delivered_to_all },
    { "describe digest is the same whatever the delivery order",
      test_describe_digest_is_the_same_whatever_the_delivery_order },
    { "print_msg shows id and origin", test_print_msg_shows_id_and_origin },
    { "no-duplicate-delivery passes for first deliveries in every life",
      test_no_duplicate_delivery_passes_for_first_deliveries_in_every_life },
    { "no-duplicate-delivery catches a delivery repeated after an unseen crash",
      test_no_duplicate_delivery_catches_a_delivery_repeated_after_an_unseen_crash },
    { "no-duplicate-delivery catches the bug of persist=false",
      test_no_duplicate_delivery_catches_the_bug_of_persist_false },
    { "all-delivered passes when every connected member has every message",
      test_all_delivered_passes_when_every_connected_member_has_every_message },
    { "all-delivered names the member and the message it missed",
      test_all_delivered_names_the_member_and_the_message_it_missed },
    { "all-delivered counts only what was broadcast",
      test_all_delivered_counts_only_what_was_broadcast },
    { "all-delivered ignores crashed members and other components",
      test_all_delivered_ignores_crashed_members_and_other_components },
    { "all-delivered uses a delivering member's component when the origin is down",
      test_all_delivered_uses_a_delivering_members_component_when_the_origin_is_down },
    { "all-delivered reports an origin outside the group",
      test_all_delivered_reports_an_origin_outside_the_group },
    CU_TEST_INFO_NULL,
};
