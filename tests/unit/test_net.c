/* test_net.c - the network model: delays, loss, duplication, overrides, directed cuts. */
#include <CUnit/CUnit.h>
#include <math.h>

#include "sim/net.h"

static DsimNetSpec spec_with(const char *latency, double loss, double dup)
{
    char *why = NULL;
    DsimNetSpec s = { 0 };
    s.latency = dsim_dist_parse(latency, &why);
    g_assert(s.latency != NULL);
    s.loss = loss;
    s.duplicate = dup;
    s.header_bytes = 40;
    return s;
}

static void spec_clear(DsimNetSpec *s)
{
    dsim_dist_free(s->latency);
    if (s->links != NULL)
        g_array_unref(s->links);
}

static void test_constant_latency_delays_every_message_exactly(void)
{
    DsimNetSpec s = spec_with("10ms", 0, 0);
    DsimNet *net = dsim_net_new(&s, 3, 1);
    for (int i = 0; i < 100; i++) {
        DsimNetFate f;
        dsim_net_fate(net, 0, 1, 0, 16, &f);
        CU_ASSERT_EQUAL(f.copies, 1);
        CU_ASSERT_EQUAL(f.delay[0], DSIM_MS(10));
    }
    dsim_net_free(net);
    spec_clear(&s);
}

static void test_loss_drops_about_the_given_fraction(void)
{
    DsimNetSpec s = spec_with("uniform(5ms,15ms)", 0.2, 0);
    DsimNet *net = dsim_net_new(&s, 2, 7);
    unsigned lost = 0, n = 100000;
    for (unsigned i = 0; i < n; i++) {
        DsimNetFate f;
        dsim_net_fate(net, 0, 1, 0, 16, &f);
        if (f.copies == 0) {
            CU_ASSERT_EQUAL(f.drop, DSIM_DROP_LOSS);
            lost++;
        } else {
            CU_ASSERT_TRUE(f.delay[0] >= DSIM_MS(5) && f.delay[0] <= DSIM_MS(15));
        }
    }
    /* binomial sd = sqrt(n p (1-p)) ~ 126; allow 5 sd */
    CU_ASSERT_TRUE(fabs((double) lost - 0.2 * n) < 5 * 126.5);
    dsim_net_free(net);
    spec_clear(&s);
}

static void test_duplication_sends_two_copies_about_the_given_fraction(void)
{
    DsimNetSpec s = spec_with("1ms", 0, 0.1);
    DsimNet *net = dsim_net_new(&s, 2, 9);
    unsigned dup = 0, n = 100000;
    for (unsigned i = 0; i < n; i++) {
        DsimNetFate f;
        dsim_net_fate(net, 0, 1, 0, 16, &f);
        CU_ASSERT_TRUE(f.copies == 1 || f.copies == 2);
        dup += f.copies == 2;
    }
    CU_ASSERT_TRUE(fabs((double) dup - 0.1 * n) < 5 * 95.0);
    dsim_net_free(net);
    spec_clear(&s);
}

static void test_a_link_override_changes_only_that_direction(void)
{
    DsimNetSpec s = spec_with("10ms", 0, 0);
    s.links = g_array_new(FALSE, TRUE, sizeof(DsimLinkSpec));
    char *why = NULL;
    DsimLinkSpec l = { .from = 0, .to = 1, .latency = dsim_dist_parse("50ms", &why), .loss = -1,
                       .duplicate = -1 };
    g_array_append_val(s.links, l);
    DsimNet *net = dsim_net_new(&s, 2, 1);
    DsimNetFate f;
    dsim_net_fate(net, 0, 1, 0, 0, &f);
    CU_ASSERT_EQUAL(f.delay[0], DSIM_MS(50));
    dsim_net_fate(net, 1, 0, 0, 0, &f);
    CU_ASSERT_EQUAL(f.delay[0], DSIM_MS(10));
    dsim_net_free(net);
    dsim_dist_free(l.latency);
    spec_clear(&s);
}

static void test_a_block_cuts_one_direction_only(void)
{
    DsimNetSpec s = spec_with("1ms", 0, 0);
    DsimNet *net = dsim_net_new(&s, 3, 1);
    dsim_net_block(net, 0, 2, true);
    CU_ASSERT_FALSE(dsim_net_can_pass(net, 0, 2));
    CU_ASSERT_TRUE(dsim_net_can_pass(net, 2, 0));
    CU_ASSERT_TRUE(dsim_net_can_pass(net, 0, 1));
    DsimNetFate f;
    dsim_net_fate(net, 0, 2, 0, 0, &f);
    CU_ASSERT_EQUAL(f.copies, 0);
    CU_ASSERT_EQUAL(f.drop, DSIM_DROP_PARTITION);
    dsim_net_block(net, 0, 2, false);
    CU_ASSERT_TRUE(dsim_net_can_pass(net, 0, 2));
    dsim_net_free(net);
    spec_clear(&s);
}

static void test_a_partition_separates_sides_and_spares_unlisted_nodes(void)
{
    DsimNetSpec s = spec_with("1ms", 0, 0);
    DsimNet *net = dsim_net_new(&s, 5, 1);
    uint32_t label[5] = { 1, 1, 2, 2, 0 }; /* node 4 is in no side */
    dsim_net_partition(net, label);
    CU_ASSERT_TRUE(dsim_net_can_pass(net, 0, 1));
    CU_ASSERT_FALSE(dsim_net_can_pass(net, 0, 2));
    CU_ASSERT_FALSE(dsim_net_can_pass(net, 3, 1));
    CU_ASSERT_TRUE(dsim_net_can_pass(net, 4, 0));
    CU_ASSERT_TRUE(dsim_net_can_pass(net, 2, 4));
    dsim_net_heal(net);
    CU_ASSERT_TRUE(dsim_net_can_pass(net, 0, 2));
    CU_ASSERT_FALSE(dsim_net_has_cuts(net));
    dsim_net_free(net);
    spec_clear(&s);
}

static void test_a_disconnected_node_is_cut_both_ways_until_connected(void)
{
    DsimNetSpec s = spec_with("1ms", 0, 0);
    DsimNet *net = dsim_net_new(&s, 3, 1);
    dsim_net_disconnect(net, 1, true);
    CU_ASSERT_FALSE(dsim_net_can_pass(net, 0, 1));
    CU_ASSERT_FALSE(dsim_net_can_pass(net, 1, 2));
    CU_ASSERT_TRUE(dsim_net_can_pass(net, 0, 2));
    dsim_net_heal(net); /* heal does not undo a disconnect */
    CU_ASSERT_FALSE(dsim_net_can_pass(net, 0, 1));
    dsim_net_disconnect(net, 1, false);
    CU_ASSERT_TRUE(dsim_net_can_pass(net, 0, 1));
    dsim_net_free(net);
    spec_clear(&s);
}

static void test_bandwidth_serializes_a_senders_messages(void)
{
    DsimNetSpec s = spec_with("0s", 0, 0);
    s.bandwidth_bps = 8e6; /* 1 byte per us */
    s.header_bytes = 0;
    DsimNet *net = dsim_net_new(&s, 2, 1);
    DsimNetFate f;
    dsim_net_fate(net, 0, 1, 0, 1000, &f);
    CU_ASSERT_EQUAL(f.delay[0], DSIM_US(1000));
    dsim_net_fate(net, 0, 1, 0, 1000, &f); /* waits for the first to leave */
    CU_ASSERT_EQUAL(f.delay[0], DSIM_US(2000));
    dsim_net_fate(net, 1, 0, 0, 1000, &f); /* another sender's uplink is free */
    CU_ASSERT_EQUAL(f.delay[0], DSIM_US(1000));
    dsim_net_free(net);
    spec_clear(&s);
}

static void test_the_same_seed_gives_the_same_delays(void)
{
    DsimNetSpec s = spec_with("exp(10ms)", 0.1, 0.05);
    DsimNet *a = dsim_net_new(&s, 2, 42), *b = dsim_net_new(&s, 2, 42), *c = dsim_net_new(&s, 2, 43);
    unsigned differ = 0;
    for (int i = 0; i < 1000; i++) {
        DsimNetFate fa, fb, fc;
        dsim_net_fate(a, 0, 1, 0, 0, &fa);
        dsim_net_fate(b, 0, 1, 0, 0, &fb);
        dsim_net_fate(c, 0, 1, 0, 0, &fc);
        CU_ASSERT_EQUAL(fa.copies, fb.copies);
        if (fa.copies > 0)
            CU_ASSERT_EQUAL(fa.delay[0], fb.delay[0]);
        differ += fa.copies != fc.copies || (fa.copies > 0 && fa.delay[0] != fc.delay[0]);
    }
    CU_ASSERT_TRUE(differ > 500);
    dsim_net_free(a);
    dsim_net_free(b);
    dsim_net_free(c);
    spec_clear(&s);
}

CU_TestInfo net_tests[] = {
    { "constant latency delays every message exactly", test_constant_latency_delays_every_message_exactly },
    { "loss drops about the given fraction", test_loss_drops_about_the_given_fraction },
    { "duplication sends two copies about the given fraction", test_duplication_sends_two_copies_about_the_given_fraction },
    { "a link override changes only that direction", test_a_link_override_changes_only_that_direction },
    { "a block cuts one direction only", test_a_block_cuts_one_direction_only },
    { "a partition separates sides and spares unlisted nodes", test_a_partition_separates_sides_and_spares_unlisted_nodes },
    { "a disconnected node is cut both ways until connected", test_a_disconnected_node_is_cut_both_ways_until_connected },
    { "bandwidth serializes a sender's messages", test_bandwidth_serializes_a_senders_messages },
    { "the same seed gives the same delays", test_the_same_seed_gives_the_same_delays },
    CU_TEST_INFO_NULL,
};
