/* test_faults.c - faults from scenario files: partitions in each direction, crash and
 * restart, selectors and captures, nemeses, and the broadcast invariant under all of it. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "sim/scenario.h"
#include "sim/world.h"

static DsimScenario *load(const char *xml)
{
    g_autoptr(GError) error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "test.xml", &error);
    if (sc == NULL)
        printf("\n%s\n", error->message);
    g_assert(sc != NULL);
    return sc;
}

/* Collects the text of every FAULT record, one per line. */
static void collect_faults(void *self, const DsimWorld *w, const DsimRecord *rec)
{
    if (rec->kind == DSIM_REC_FAULT)
        g_string_append_printf((GString *) self, "%s\n", rec->text);
}

static const DsimObserver fault_observer = { .on_record = collect_faults };

static const char *pingpong_xml(const char *faults)
{
    static const char *fmt =
        "<scenario name='t' seed='3' duration='1s'>"
        "  <network><latency>10ms</latency></network>"
        "  <group id='p' protocol='pingpong' count='2'><param name='retry'>25ms</param></group>"
        "  <faults>%s</faults>"
        "</scenario>";
    return g_strdup_printf(fmt, faults);
}

static void test_a_block_in_one_direction_stops_only_that_direction(void)
{
    /* p1 pings p2. With p2 -> p1 blocked, p2 still receives every retry, but its answers
     * are cut, so deliveries go only one way. */
    g_autofree char *xml = (char *) pingpong_xml("<block at='0s' from='p2' to='p1'/>");
    g_autoptr(DsimScenario) sc = load(xml);
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 3, NULL);
    dsim_world_run(w, NULL, NULL);
    const DsimCounters *c = dsim_world_counters(w);
    CU_ASSERT_TRUE(c->delivered > 10);              /* p1's retries reach p2 */
    CU_ASSERT_EQUAL(c->delivered + c->dropped[DSIM_DROP_PARTITION], c->sent);
    CU_ASSERT_TRUE(c->dropped[DSIM_DROP_PARTITION] > 10);
    CU_ASSERT_FALSE(dsim_world_can_pass(w, 1, 0));
    CU_ASSERT_TRUE(dsim_world_can_pass(w, 0, 1));
}

static void test_a_partition_then_heal_restores_the_game(void)
{
    g_autofree char *xml = (char *) pingpong_xml(
        "<partition at='100ms' groups='p1 | p2'/><heal at='500ms'/>");
    g_autoptr(DsimScenario) sc = load(xml);
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 3, NULL);
    g_autoptr(GString) faults = g_string_new(NULL);
    dsim_world_add_observer(w, &fault_observer, faults);
    dsim_world_run_until(w, DSIM_MS(450));
    uint64_t during = dsim_world_counters(w)->delivered;
    dsim_world_run_until(w, DSIM_MS(495));
    CU_ASSERT_EQUAL(dsim_world_counters(w)->delivered, during); /* nothing passes while cut */
    dsim_world_run(w, NULL, NULL);
    CU_ASSERT_TRUE(dsim_world_counters(w)->delivered > during + 20); /* it resumes after the heal */
    CU_ASSERT_STRING_EQUAL(faults->str, "partition p1 | p2 [line 1]\nheal [line 1]\n");
}

static void test_crash_restart_and_captures_hit_the_named_nodes(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name='t' seed='3' duration='1s'>\n"
        "  <group id='b' protocol='broadcast' count='5'/>\n"
        "  <faults>\n"
        "    <crash at='100ms' node='b2' as='L1'/>\n"
        "    <crash at='200ms' node='L1+1'/>\n"
        "    <crash at='250ms' node='L1+4'/>\n"
        "    <restart at='300ms' node='crashed'/>\n"
        "    <pause at='400ms' node='L1+2'/>\n"
        "  </faults>\n"
        "</scenario>\n");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 3, NULL);
    g_autoptr(GString) faults = g_string_new(NULL);
    dsim_world_add_observer(w, &fault_observer, faults);
    dsim_world_run_until(w, DSIM_MS(260));
    CU_ASSERT_EQUAL(dsim_world_node_status(w, 1), DSIM_NODE_CRASHED);
    CU_ASSERT_EQUAL(dsim_world_node_status(w, 2), DSIM_NODE_CRASHED);
    CU_ASSERT_EQUAL(dsim_world_node_status(w, 0), DSIM_NODE_CRASHED); /* L1+4 wraps to b1 */
    dsim_world_run(w, NULL, NULL);
    for (DsimNodeId i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(dsim_world_node_status(w, i), i == 3 ? DSIM_NODE_PAUSED : DSIM_NODE_UP);
    CU_ASSERT_STRING_EQUAL(faults->str,
                           "crash b2 (b2) [line 4]\n"
                           "crash b3 (L1+1) [line 5]\n"
                           "crash b1 (L1+4) [line 6]\n"
                           "restart b1,b2,b3 (crashed) [line 7]\n"
                           "pause b4 (L1+2) [line 8]\n");
}

static void test_a_selector_that_matches_nothing_does_nothing(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name='t' seed='3' duration='1s'>\n"
        "  <group id='b' protocol='broadcast' count='3'/>\n"
        "  <faults><crash at='100ms' node='leader(b)'/><restart at='200ms' node='crashed'/></faults>\n"
        "</scenario>\n");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 3, NULL);
    g_autoptr(GString) faults = g_string_new(NULL);
    dsim_world_add_observer(w, &fault_observer, faults);
    dsim_world_run(w, NULL, NULL);
    CU_ASSERT_STRING_EQUAL(faults->str,
                           "crash leader(b): no node matched; nothing done [line 3]\n"
                           "restart crashed: no node matched; nothing done [line 3]\n");
    CU_ASSERT_EQUAL(dsim_world_counters(w)->crashes, 0);
}

static void test_random_selectors_pick_from_the_fault_stream(void)
{
    /* the same seed picks the same nodes; over many seeds every member gets picked */
    const char *xml =
        "<scenario name='t' seed='3' duration='1s'>"
        "  <group id='b' protocol='broadcast' count='5'/>"
        "  <faults><crash at='100ms' node='random(b,2)'/></faults>"
        "</scenario>";
    g_autoptr(DsimScenario) sc = load(xml);
    unsigned hits[5] = { 0 };
    for (uint64_t seed = 1; seed <= 200; seed++) {
        g_autoptr(DsimWorld) w = dsim_world_new(sc, seed, NULL);
        dsim_world_run(w, NULL, NULL);
        unsigned crashed = 0;
        for (DsimNodeId i = 0; i < 5; i++) {
            if (dsim_world_node_status(w, i) == DSIM_NODE_CRASHED) {
                hits[i]++;
                crashed++;
            }
        }
        CU_ASSERT_EQUAL(crashed, 2);
    }
    for (int i = 0; i < 5; i++)
        CU_ASSERT_TRUE(hits[i] > 40 && hits[i] < 120); /* expected 80 each */
}

static void test_minority_and_majority_have_the_right_sizes(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name='t' seed='3' duration='1s'>"
        "  <group id='b' protocol='broadcast' count='7'/>"
        "  <group id='c' protocol='broadcast' count='6'/>"
        "  <faults><crash at='100ms' node='minority(b)'/><pause at='100ms' node='majority(c)'/></faults>"
        "</scenario>");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 9, NULL);
    dsim_world_run(w, NULL, NULL);
    unsigned crashed = 0, paused = 0;
    for (DsimNodeId i = 0; i < 13; i++) {
        crashed += dsim_world_node_status(w, i) == DSIM_NODE_CRASHED;
        paused += dsim_world_node_status(w, i) == DSIM_NODE_PAUSED;
    }
    CU_ASSERT_EQUAL(crashed, 3); /* floor((7-1)/2) */
    CU_ASSERT_EQUAL(paused, 4);  /* floor(6/2)+1 */
}

static void test_a_nemesis_alternates_harm_and_heal_and_heals_at_stop(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name='t' seed='3' duration='2s'>"
        "  <group id='b' protocol='broadcast' count='5'/>"
        "  <faults><nemesis kind='random-halves' target='b' start='100ms' stop='1s' every='200ms'/></faults>"
        "</scenario>");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 3, NULL);
    g_autoptr(GString) faults = g_string_new(NULL);
    dsim_world_add_observer(w, &fault_observer, faults);
    dsim_world_run_until(w, DSIM_MS(150));
    CU_ASSERT_TRUE(dsim_net_has_cuts(dsim_world_net(w)));
    dsim_world_run_until(w, DSIM_MS(350));
    CU_ASSERT_FALSE(dsim_net_has_cuts(dsim_world_net(w)));
    dsim_world_run(w, NULL, NULL);
    CU_ASSERT_FALSE(dsim_net_has_cuts(dsim_world_net(w)));
    /* ticks at 100, 300, 500, 700, 900 ms and the stop at 1 s */
    gchar **lines = g_strsplit(faults->str, "\n", -1);
    CU_ASSERT_EQUAL(g_strv_length(lines), 7);
    CU_ASSERT_TRUE(g_str_has_prefix(lines[0], "nemesis random-halves: partition "));
    CU_ASSERT_TRUE(g_str_has_prefix(lines[1], "nemesis random-halves: heal"));
    CU_ASSERT_TRUE(g_str_has_prefix(lines[5], "nemesis random-halves: heal"));
    g_strfreev(lines);
}

static void test_a_crash_restart_nemesis_brings_every_node_back(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name='t' seed='3' duration='3s'>"
        "  <group id='b' protocol='broadcast' count='5'><param name='retransmit'>50ms</param>"
        "    <param name='messages'>3</param></group>"
        "  <faults><nemesis kind='crash-restart' target='b' start='0s' stop='2s' every='100ms'/></faults>"
        "</scenario>");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 4, NULL);
    dsim_world_run(w, NULL, NULL);
    CU_ASSERT_EQUAL(dsim_world_counters(w)->crashes, 10);
    CU_ASSERT_EQUAL(dsim_world_counters(w)->restarts, 10);
    for (DsimNodeId i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(dsim_world_node_status(w, i), DSIM_NODE_UP);
    CU_ASSERT_TRUE(dsim_world_passed(w)); /* reliable broadcast survives it */
}

static void test_the_broadcast_invariant_holds_under_loss_and_partitions(void)
{
    /* over many seeds, with retransmission on, the flood is reliable; with it off and a
     * partition in the way, all-delivered catches the loss on every seed */
    const char *fmt =
        "<scenario name='t' seed='1' duration='5s'>"
        "  <network><latency>uniform(1ms,20ms)</latency><loss>0.2</loss></network>"
        "  <group id='b' protocol='broadcast' count='8'><param name='messages'>3</param>"
        "    <param name='start'>50ms</param><param name='retransmit'>%s</param></group>"
        "  <faults><partition at='40ms' groups='b1,b2,b3 | b4,b5,b6,b7,b8'/><heal at='2s'/>"
        "    <crash at='100ms' node='random(b,1)'/><restart at='1s' node='crashed'/></faults>"
        "</scenario>";
    for (int retransmit = 0; retransmit <= 1; retransmit++) {
        g_autofree char *xml = g_strdup_printf(fmt, retransmit ? "100ms" : "0s");
        g_autoptr(DsimScenario) sc = load(xml);
        unsigned passed = 0;
        for (uint64_t seed = 1; seed <= 30; seed++) {
            g_autoptr(DsimWorld) w = dsim_world_new(sc, seed, NULL);
            dsim_world_run(w, NULL, NULL);
            if (dsim_world_passed(w))
                passed++;
            else if (retransmit)
                printf("\nreplay: dsim run <scenario> --seed %" PRIu64 "\n", seed);
        }
        CU_ASSERT_EQUAL(passed, retransmit ? 30 : 0);
    }
}

CU_TestInfo faults_tests[] = {
    { "a block in one direction stops only that direction", test_a_block_in_one_direction_stops_only_that_direction },
    { "a partition then heal restores the game", test_a_partition_then_heal_restores_the_game },
    { "crash, restart and captures hit the named nodes", test_crash_restart_and_captures_hit_the_named_nodes },
    { "a selector that matches nothing does nothing", test_a_selector_that_matches_nothing_does_nothing },
    { "random selectors pick from the fault stream", test_random_selectors_pick_from_the_fault_stream },
    { "minority and majority have the right sizes", test_minority_and_majority_have_the_right_sizes },
    { "a nemesis alternates harm and heal and heals at stop", test_a_nemesis_alternates_harm_and_heal_and_heals_at_stop },
    { "a crash-restart nemesis brings every node back", test_a_crash_restart_nemesis_brings_every_node_back },
    { "the broadcast invariant holds under loss and partitions", test_the_broadcast_invariant_holds_under_loss_and_partitions },
    CU_TEST_INFO_NULL,
};
