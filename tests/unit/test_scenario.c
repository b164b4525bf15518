/* test_scenario.c - the scenario loader: XML text in, DsimScenario (or one error line) out.
 *
 * The first tests load scenarios in the manner of SCENARIO-FORMAT.md's skeleton and check the
 * data model field by field: names resolved to dense ids, values to integers with units,
 * selectors to their kinds. The rest feed one mistake each and expect the exact
 * "FILE:LINE: message" a user would see, line number included. The skeleton's raft group and
 * kv workload are played by broadcast and pingpong here, the protocols that exist today.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "algorithms/protocols.h"
#include "sim/param.h"
#include "sim/scenario.h"
#include "tests/unit/tests.h"

/* ---- helpers ---------------------------------------------------------------- */

static DsimScenario *load(const char *xml)
{
    GError *error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "t.xml", &error);
    if (sc == NULL)
        printf("\n==> unexpected error: %s\n", error->message);
    g_clear_error(&error);
    return sc;
}

/* Loads @xml and expects it to fail with exactly @message in domain DSIM_SCENARIO_ERROR. */
static void assert_error(const char *xml, const char *message)
{
    GError *error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "t.xml", &error);
    CU_ASSERT_PTR_NULL(sc);
    dsim_scenario_free(sc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    if (strcmp(error->message, message) != 0)
        printf("\n==> expected: %s\n==> actual:   %s\n", message, error->message);
    CU_ASSERT_STRING_EQUAL(error->message, message);
    CU_ASSERT_EQUAL(error->domain, DSIM_SCENARIO_ERROR);
    g_error_free(error);
}

/* A group's parameter as the loader stored it, read through the protocol's own table. */
static int64_t config_int(const DsimScenario *sc, unsigned g, const char *name)
{
    const DsimGroupSpec *gs = &g_array_index(sc->groups, DsimGroupSpec, g);
    const DsimParam *p = dsim_param_find(gs->protocol->params, name);
    int64_t v;
    g_assert(p != NULL && p->type == DSIM_PARAM_INT);
    memcpy(&v, (const char *) gs->config + p->offset, sizeof v);
    return v;
}

static DsimTime config_time(const DsimScenario *sc, unsigned g, const char *name)
{
    const DsimGroupSpec *gs = &g_array_index(sc->groups, DsimGroupSpec, g);
    const DsimParam *p = dsim_param_find(gs->protocol->params, name);
    DsimTime v;
    g_assert(p != NULL && p->type == DSIM_PARAM_TIME);
    memcpy(&v, (const char *) gs->config + p->offset, sizeof v);
    return v;
}

static const DsimFaultSpec *fault(const DsimScenario *sc, unsigned i)
{
    g_assert(i < sc->faults->len);
    return &g_array_index(sc->faults, DsimFaultSpec, i);
}

static const DsimSelector *sel(const DsimSelectorList *list, unsigned i)
{
    g_assert(list != NULL && i < list->len);
    return &g_array_index(list, DsimSelector, i);
}

static const DsimCheckSpec *check(const DsimScenario *sc, unsigned i)
{
    g_assert(i < sc->checks->len);
    return &g_array_index(sc->checks, DsimCheckSpec, i);
}

/* The skeleton of SCENARIO-FORMAT.md, with broadcast for raft; lines are numbered for the
 * line assertions below. */
static const char skeleton[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                     /* 1 */
    "<scenario name=\"bc-leader-crash\" seed=\"42\" duration=\"30s\">\n"                /* 2 */
    "  <description>Five nodes; one crashes at 5 s.</description>\n"                    /* 3 */
    "  <network>\n"                                                                      /* 4 */
    "    <latency>uniform(5ms,15ms)</latency>\n"                                         /* 5 */
    "    <loss>0.01</loss>\n"                                                            /* 6 */
    "    <duplicate>0</duplicate>\n"                                                     /* 7 */
    "    <bandwidth>100Mbit/s</bandwidth>\n"                                             /* 8 */
    "    <link from=\"r1\" to=\"r2\"><latency>50ms</latency></link>\n"                   /* 9 */
    "  </network>\n"                                                                     /* 10 */
    "  <group id=\"r\" protocol=\"broadcast\" count=\"5\">\n"                            /* 11 */
    "    <param name=\"messages\">10</param>\n"                                          /* 12 */
    "    <param name=\"retransmit\">50ms</param>\n"                                      /* 13 */
    "  </group>\n"                                                                       /* 14 */
    "  <group id=\"p\" protocol=\"pingpong\" count=\"2\"/>\n"                            /* 15 */
    "  <faults>\n"                                                                       /* 16 */
    "    <crash at=\"5s\" node=\"leader(r)\" as=\"L1\" unsynced=\"keep\"/>\n"            /* 17 */
    "    <restart at=\"15s\" node=\"crashed\"/>\n"                                       /* 18 */
    "    <partition at=\"8s\" groups=\"r1,r2 | r3,r4,r5\"/>\n"                           /* 19 */
    "    <block at=\"9s\" from=\"r1\" to=\"r3\"/>\n"                                     /* 20 */
    "    <heal at=\"12s\"/>\n"                                                           /* 21 */
    "    <nemesis kind=\"random-halves\" target=\"r\" start=\"16s\" stop=\"24s\" every=\"2s\"/>\n"
    "    <pause at=\"6s\" node=\"L1+2, follower(r,2), random(r,3), p\"/>\n"              /* 23 */
    "    <drift at=\"1s\" node=\"p2\" rate=\"1.05\"/>\n"                                 /* 24 */
    "    <disconnect at=\"2s\" node=\"minority(r)\"/>\n"                                 /* 25 */
    "    <connect at=\"3s\" node=\"majority(r)\"/>\n"                                    /* 26 */
    "  </faults>\n"                                                                      /* 27 */
    "  <checks>\n"                                                                       /* 28 */
    "    <invariant name=\"no-duplicate-delivery\"/>\n"                                  /* 29 */
    "    <invariant name=\"all-delivered\" group=\"r\"/>\n"                              /* 30 */
    "    <linearizable model=\"kv\"/>\n"                                                 /* 31 */
    "    <converge within=\"5s\" group=\"r\"/>\n"                                        /* 32 */
    "    <expect metric=\"election_time\" after=\"5s\" max=\"2s\"/>\n"                   /* 33 */
    "    <expect at=\"2s\" within=\"5s\" group=\"r\" leader=\"one\"/>\n"                 /* 34 */
    "    <expect at=\"4s\" group=\"r\" leader=\"none\"/>\n"                              /* 35 */
    "    <expect at=\"20s\" within=\"10s\" group=\"r\" agree=\"all\"/>\n"                /* 36 */
    "  </checks>\n"                                                                      /* 37 */
    "  <report plots=\"leader-timeline,commit-index,latency-cdf\" spacetime=\"0s..2s\"/>\n"
    "  <sweep seeds=\"1..1000\"><vary param=\"r.retransmit\" values=\"12ms, 25ms,50ms\"/></sweep>\n"
    "</scenario>\n";

/* SCENARIO-FORMAT.md's skeleton, verbatim: the contract. */
static const char contract_skeleton[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<scenario name=\"raft-leader-crash\" seed=\"42\" duration=\"30s\">\n"
    "  <description>Five Raft nodes; the leader crashes at 5 s and comes back at 15"
    " s.</description>\n"
    "\n"
    "  <network>\n"
    "    <latency>uniform(5ms,15ms)</latency>\n"
    "    <loss>0.01</loss>\n"
    "    <duplicate>0</duplicate>\n"
    "    <link from=\"r1\" to=\"r2\"><latency>50ms</latency></link>\n"
    "  </network>\n"
    "\n"
    "  <group id=\"r\" protocol=\"raft\" count=\"5\">          <!-- nodes r1 .. r5 -->\n"
    "    <param name=\"election_timeout\">150ms..300ms</param>\n"
    "    <param name=\"heartbeat\">50ms</param>\n"
    "  </group>\n"
    "\n"
    "  <workload type=\"kv\" target=\"r\" clients=\"3\" rate=\"100/s\" keys=\"10\"\n"
    "            mix=\"get:0.5,put:0.4,cas:0.1\" start=\"1s\" stop=\"25s\"/>\n"
    "\n"
    "  <faults>\n"
    "    <crash at=\"5s\" node=\"leader(r)\"/>\n"
    "    <restart at=\"15s\" node=\"crashed\"/>\n"
    "    <partition at=\"8s\" groups=\"r1,r2 | r3,r4,r5\"/>\n"
    "    <block at=\"9s\" from=\"r1\" to=\"r3\"/>             <!-- one direction only -->\n"
    "    <heal at=\"12s\"/>\n"
    "    <nemesis kind=\"random-halves\" target=\"r\" start=\"16s\" stop=\"24s\" every=\"2s\"/>\n"
    "  </faults>\n"
    "\n"
    "  <checks>\n"
    "    <invariant name=\"election-safety\"/>\n"
    "    <invariant name=\"state-machine-safety\"/>\n"
    "    <linearizable model=\"kv\"/>\n"
    "    <expect metric=\"election_time\" after=\"5s\" max=\"2s\"/>\n"
    "  </checks>\n"
    "\n"
    "  <report plots=\"leader-timeline,commit-index,latency-cdf\" spacetime=\"0s..2s\"/>\n"
    "</scenario>\n";

/* ---- the data model ------------------------------------------------------------ */

static void test_skeleton_scenario_attributes(void)
{
    g_autoptr(DsimScenario) sc = load(skeleton);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_STRING_EQUAL(sc->file, "t.xml");
    CU_ASSERT_STRING_EQUAL(sc->name, "bc-leader-crash");
    CU_ASSERT_STRING_EQUAL(sc->description, "Five nodes; one crashes at 5 s.");
    CU_ASSERT_EQUAL(sc->seed, 42);
    CU_ASSERT_EQUAL(sc->duration, DSIM_S(30));
    CU_ASSERT_EQUAL(sc->unsynced, DSIM_UNSYNCED_LOSE);
}

static void test_skeleton_network(void)
{
    g_autoptr(DsimScenario) sc = load(skeleton);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(sc->net.latency->kind, DSIM_DIST_UNIFORM);
    CU_ASSERT_EQUAL(sc->net.latency->a, DSIM_MS(5));
    CU_ASSERT_EQUAL(sc->net.latency->b, DSIM_MS(15));
    CU_ASSERT_DOUBLE_EQUAL(sc->net.loss, 0.01, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(sc->net.duplicate, 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(sc->net.bandwidth_bps, 100e6, 1e-3);
    CU_ASSERT_EQUAL(sc->net.header_bytes, 40);
    CU_ASSERT_EQUAL_FATAL(sc->net.links->len, 1);
    const DsimLinkSpec *link = &g_array_index(sc->net.links, DsimLinkSpec, 0);
    CU_ASSERT_EQUAL(link->from, 0);
    CU_ASSERT_EQUAL(link->to, 1);
    CU_ASSERT_EQUAL(link->line, 9);
    CU_ASSERT_EQUAL(link->latency->kind, DSIM_DIST_CONST);
    CU_ASSERT_EQUAL(link->latency->a, DSIM_MS(50));
    CU_ASSERT(link->loss < 0);      /* not overridden */
    CU_ASSERT(link->duplicate < 0); /* not overridden */
}

static void test_skeleton_groups_and_dense_node_ids(void)
{
    g_autoptr(DsimScenario) sc = load(skeleton);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL_FATAL(sc->groups->len, 2);
    const DsimGroupSpec *r = &g_array_index(sc->groups, DsimGroupSpec, 0);
    const DsimGroupSpec *p = &g_array_index(sc->groups, DsimGroupSpec, 1);
    CU_ASSERT_STRING_EQUAL(r->id, "r");
    CU_ASSERT_PTR_EQUAL(r->protocol, dsim_protocol_find("broadcast"));
    CU_ASSERT_EQUAL(r->count, 5);
    CU_ASSERT_EQUAL(r->first, 0);
    CU_ASSERT_EQUAL(r->line, 11);
    CU_ASSERT_STRING_EQUAL(p->id, "p");
    CU_ASSERT_PTR_EQUAL(p->protocol, dsim_protocol_find("pingpong"));
    CU_ASSERT_EQUAL(p->first, 5);

    CU_ASSERT_EQUAL_FATAL(sc->n_nodes, 7);
    static const char *const names[] = { "r1", "r2", "r3", "r4", "r5", "p1", "p2" };
    for (unsigned i = 0; i < 7; i++)
        CU_ASSERT_STRING_EQUAL(sc->node_names[i], names[i]);
    CU_ASSERT_PTR_NULL(sc->node_names[7]);
    CU_ASSERT_EQUAL(dsim_scenario_node_id(sc, "r3"), 2);
    CU_ASSERT_EQUAL(dsim_scenario_node_id(sc, "p1"), 5);
    CU_ASSERT_EQUAL(dsim_scenario_node_id(sc, "p3"), DSIM_NOBODY);
    CU_ASSERT_EQUAL(dsim_scenario_node_id(sc, "r0"), DSIM_NOBODY);
    CU_ASSERT_EQUAL(dsim_scenario_node_id(sc, "r01"), DSIM_NOBODY);
    CU_ASSERT_EQUAL(dsim_scenario_node_id(sc, "r"), DSIM_NOBODY);
    CU_ASSERT_EQUAL(dsim_scenario_group_index(sc, "p"), 1);
    CU_ASSERT_EQUAL(dsim_scenario_group_index(sc, "q"), -1);
    CU_ASSERT_EQUAL(dsim_scenario_group_of(sc, 0), 0);
    CU_ASSERT_EQUAL(dsim_scenario_group_of(sc, 4), 0);
    CU_ASSERT_EQUAL(dsim_scenario_group_of(sc, 5), 1);
    CU_ASSERT_EQUAL(dsim_scenario_group_of(sc, 6), 1);
}

static void test_skeleton_params_over_defaults(void)
{
    g_autoptr(DsimScenario) sc = load(skeleton);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(config_int(sc, 0, "messages"), 10);
    CU_ASSERT_EQUAL(config_time(sc, 0, "retransmit"), DSIM_MS(50));
    CU_ASSERT_EQUAL(config_int(sc, 0, "origin"), 1); /* the protocol's default */
    const DsimGroupSpec *r = &g_array_index(sc->groups, DsimGroupSpec, 0);
    CU_ASSERT_EQUAL_FATAL(r->param_names->len, 2);
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(r->param_names, 0), "messages");
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(r->param_values, 0), "10");
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(r->param_names, 1), "retransmit");
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(r->param_values, 1), "50ms");
}

static void test_skeleton_faults_and_selectors(void)
{
    g_autoptr(DsimScenario) sc = load(skeleton);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL_FATAL(sc->faults->len, 10);

    const DsimFaultSpec *f = fault(sc, 0); /* file order, not time order */
    CU_ASSERT_EQUAL(f->kind, DSIM_FAULT_CRASH);
    CU_ASSERT_EQUAL(f->at, DSIM_S(5));
    CU_ASSERT_EQUAL(f->line, 17);
    CU_ASSERT_STRING_EQUAL(f->as, "L1");
    CU_ASSERT_EQUAL(f->unsynced, DSIM_UNSYNCED_KEEP);
    CU_ASSERT_EQUAL(f->nodes->len, 1);
    CU_ASSERT_EQUAL(sel(f->nodes, 0)->kind, DSIM_SEL_LEADER);
    CU_ASSERT_EQUAL(sel(f->nodes, 0)->group, 0);

    f = fault(sc, 1);
    CU_ASSERT_EQUAL(f->kind, DSIM_FAULT_RESTART);
    CU_ASSERT_PTR_NULL(f->as);
    CU_ASSERT_EQUAL(f->unsynced, DSIM_UNSYNCED_DEFAULT);
    CU_ASSERT_EQUAL(sel(f->nodes, 0)->kind, DSIM_SEL_CRASHED);

    f = fault(sc, 2);
    CU_ASSERT_EQUAL(f->kind, DSIM_FAULT_PARTITION);
    CU_ASSERT_EQUAL_FATAL(f->sides->len, 2);
    const DsimSelectorList *left = g_ptr_array_index(f->sides, 0);
    const DsimSelectorList *right = g_ptr_array_index(f->sides, 1);
    CU_ASSERT_EQUAL(left->len, 2);
    CU_ASSERT_EQUAL(right->len, 3);
    CU_ASSERT_EQUAL(sel(left, 1)->kind, DSIM_SEL_NODE);
    CU_ASSERT_EQUAL(sel(left, 1)->node, 1);
    CU_ASSERT_EQUAL(sel(right, 2)->node, 4);

    f = fault(sc, 3);
    CU_ASSERT_EQUAL(f->kind, DSIM_FAULT_BLOCK);
    CU_ASSERT_EQUAL(sel(f->from, 0)->node, 0);
    CU_ASSERT_EQUAL(sel(f->to, 0)->node, 2);

    f = fault(sc, 4);
    CU_ASSERT_EQUAL(f->kind, DSIM_FAULT_HEAL);
    CU_ASSERT_EQUAL(f->at, DSIM_S(12));

    f = fault(sc, 5);
    CU_ASSERT_EQUAL(f->kind, DSIM_FAULT_NEMESIS);
    CU_ASSERT_EQUAL(f->nemesis, DSIM_NEMESIS_RANDOM_HALVES);
    CU_ASSERT_EQUAL(f->target, 0);
    CU_ASSERT_EQUAL(f->at, DSIM_S(16));
    CU_ASSERT_EQUAL(f->stop, DSIM_S(24));
    CU_ASSERT_EQUAL(f->every, DSIM_S(2));

    f = fault(sc, 6);
    CU_ASSERT_EQUAL(f->kind, DSIM_FAULT_PAUSE);
    CU_ASSERT_EQUAL_FATAL(f->nodes->len, 4);
    CU_ASSERT_EQUAL(sel(f->nodes, 0)->kind, DSIM_SEL_CAPTURE);
    CU_ASSERT_STRING_EQUAL(sel(f->nodes, 0)->capture, "L1");
    CU_ASSERT_EQUAL(sel(f->nodes, 0)->offset, 2);
    CU_ASSERT_EQUAL(sel(f->nodes, 1)->kind, DSIM_SEL_FOLLOWER);
    CU_ASSERT_EQUAL(sel(f->nodes, 1)->k, 2);
    CU_ASSERT_EQUAL(sel(f->nodes, 2)->kind, DSIM_SEL_RANDOM);
    CU_ASSERT_EQUAL(sel(f->nodes, 2)->k, 3);
    CU_ASSERT_EQUAL(sel(f->nodes, 3)->kind, DSIM_SEL_GROUP);
    CU_ASSERT_EQUAL(sel(f->nodes, 3)->group, 1);

    f = fault(sc, 7);
    CU_ASSERT_EQUAL(f->kind, DSIM_FAULT_DRIFT);
    CU_ASSERT_DOUBLE_EQUAL(f->rate, 1.05, 1e-12);
    CU_ASSERT_EQUAL(sel(f->nodes, 0)->node, 6);
    CU_ASSERT_EQUAL(sel(f->nodes, 0)->group, 1);

    CU_ASSERT_EQUAL(fault(sc, 8)->kind, DSIM_FAULT_DISCONNECT);
    CU_ASSERT_EQUAL(sel(fault(sc, 8)->nodes, 0)->kind, DSIM_SEL_MINORITY);
    CU_ASSERT_EQUAL(fault(sc, 9)->kind, DSIM_FAULT_CONNECT);
    CU_ASSERT_EQUAL(sel(fault(sc, 9)->nodes, 0)->kind, DSIM_SEL_MAJORITY);
}

static void test_skeleton_checks(void)
{
    g_autoptr(DsimScenario) sc = load(skeleton);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_TRUE(sc->has_checks);
    CU_ASSERT_EQUAL_FATAL(sc->checks->len, 8);

    CU_ASSERT_EQUAL(check(sc, 0)->kind, DSIM_CHECK_INVARIANT);
    CU_ASSERT_STRING_EQUAL(check(sc, 0)->name, "no-duplicate-delivery");
    CU_ASSERT_EQUAL(check(sc, 0)->group, -1);
    CU_ASSERT_EQUAL(check(sc, 0)->line, 29);
    CU_ASSERT_EQUAL(check(sc, 1)->group, 0);

    CU_ASSERT_EQUAL(check(sc, 2)->kind, DSIM_CHECK_LINEARIZABLE);
    CU_ASSERT_STRING_EQUAL(check(sc, 2)->name, "kv");

    CU_ASSERT_EQUAL(check(sc, 3)->kind, DSIM_CHECK_CONVERGE);
    CU_ASSERT_EQUAL(check(sc, 3)->within, DSIM_S(5));
    CU_ASSERT_EQUAL(check(sc, 3)->group, 0);

    const DsimCheckSpec *c = check(sc, 4);
    CU_ASSERT_EQUAL(c->kind, DSIM_CHECK_EXPECT_METRIC);
    CU_ASSERT_STRING_EQUAL(c->name, "election_time");
    CU_ASSERT_EQUAL(c->after, DSIM_S(5));
    CU_ASSERT_FALSE(c->has_min);
    CU_ASSERT_TRUE(c->has_max);
    CU_ASSERT_DOUBLE_EQUAL(c->max, 2.0, 1e-12); /* a time bound, in seconds */

    c = check(sc, 5);
    CU_ASSERT_EQUAL(c->kind, DSIM_CHECK_EXPECT_LEADER);
    CU_ASSERT_EQUAL(c->at, DSIM_S(2));
    CU_ASSERT_EQUAL(c->within, DSIM_S(5));
    CU_ASSERT_EQUAL(c->group, 0);
    CU_ASSERT_TRUE(c->leader_one);
    CU_ASSERT_EQUAL(c->line, 34);

    c = check(sc, 6);
    CU_ASSERT_EQUAL(c->kind, DSIM_CHECK_EXPECT_LEADER);
    CU_ASSERT_FALSE(c->leader_one);
    CU_ASSERT_EQUAL(c->within, 0);

    c = check(sc, 7);
    CU_ASSERT_EQUAL(c->kind, DSIM_CHECK_EXPECT_AGREE);
    CU_ASSERT_EQUAL(c->at, DSIM_S(20));
    CU_ASSERT_EQUAL(c->within, DSIM_S(10));
}

static void test_skeleton_report_and_sweep(void)
{
    g_autoptr(DsimScenario) sc = load(skeleton);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL_FATAL(sc->report.plots->len, 3);
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(sc->report.plots, 2), "latency-cdf");
    CU_ASSERT_TRUE(sc->report.has_spacetime);
    CU_ASSERT_EQUAL(sc->report.spacetime_from, 0);
    CU_ASSERT_EQUAL(sc->report.spacetime_to, DSIM_S(2));

    CU_ASSERT_TRUE(sc->has_sweep);
    CU_ASSERT_EQUAL(sc->sweep.seed_lo, 1);
    CU_ASSERT_EQUAL(sc->sweep.seed_hi, 1000);
    CU_ASSERT_EQUAL_FATAL(sc->sweep.vary->len, 1);
    const DsimVarySpec *v = &g_array_index(sc->sweep.vary, DsimVarySpec, 0);
    CU_ASSERT_STRING_EQUAL(v->param, "r.retransmit");
    CU_ASSERT_EQUAL(v->group, 0);
    CU_ASSERT_EQUAL_FATAL(v->values->len, 3);
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(v->values, 0), "12ms");
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(v->values, 1), "25ms");
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(v->values, 2), "50ms");
}

/* The skeleton names raft and a kv workload; until raft is in dsim_protocols[] the test
 * checks only that the file gets as far as the protocol name. */
static void test_the_contracts_skeleton_loads(void)
{
    if (dsim_protocol_find("raft") == NULL) {
        assert_error(contract_skeleton, "t.xml:12: <group protocol=\"raft\">: unknown protocol "
                                        "\"raft\" (known: pingpong, broadcast; see dsim list)");
        return;
    }
    g_autoptr(DsimScenario) sc = load(contract_skeleton);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_STRING_EQUAL(sc->name, "raft-leader-crash");
    CU_ASSERT_EQUAL(sc->n_nodes, 5);
    CU_ASSERT_EQUAL(sc->workloads->len, 1);
    CU_ASSERT_EQUAL(sc->faults->len, 6);
    CU_ASSERT_EQUAL(sc->checks->len, 4);
}

static void test_minimal_scenario_gets_the_defaults(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name=\"m\" seed=\"18446744073709551615\" duration=\"1.5s\">"
        "<group id=\"g\" protocol=\"pingpong\" count=\"1\"/></scenario>");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(sc->seed, UINT64_MAX);
    CU_ASSERT_EQUAL(sc->duration, DSIM_MS(1500));
    CU_ASSERT_PTR_NULL(sc->description);
    CU_ASSERT_EQUAL(sc->net.latency->kind, DSIM_DIST_CONST);
    CU_ASSERT_EQUAL(sc->net.latency->a, DSIM_MS(1));
    CU_ASSERT_DOUBLE_EQUAL(sc->net.loss, 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(sc->net.duplicate, 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(sc->net.bandwidth_bps, 0, 0);
    CU_ASSERT_EQUAL(sc->net.header_bytes, 40);
    CU_ASSERT_EQUAL(sc->net.links->len, 0);
    CU_ASSERT_EQUAL(sc->unsynced, DSIM_UNSYNCED_LOSE);
    CU_ASSERT_EQUAL(sc->workloads->len, 0);
    CU_ASSERT_EQUAL(sc->faults->len, 0);
    CU_ASSERT_FALSE(sc->has_checks);
    CU_ASSERT_EQUAL(sc->checks->len, 0);
    CU_ASSERT_EQUAL(sc->report.plots->len, 0);
    CU_ASSERT_FALSE(sc->report.has_spacetime);
    CU_ASSERT_FALSE(sc->has_sweep);
    CU_ASSERT_EQUAL(sc->n_nodes, 1);
    CU_ASSERT_STRING_EQUAL(sc->node_names[0], "g1");
}

static void test_elements_come_in_any_order(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name=\"any-order\" seed=\"1\" duration=\"10s\">\n"
        "  <checks><invariant name=\"seq-monotonic\"/></checks>\n"
        "  <faults><crash at=\"1s\" node=\"b2\"/></faults>\n"
        "  <group id=\"a\" protocol=\"pingpong\" count=\"2\"/>\n"
        "  <storage unsynced=\"keep\"/>\n"
        "  <network><link from=\"a1\" to=\"b1\"><loss>0.5</loss></link>"
        "<header_bytes>0</header_bytes><latency>exp(10ms)</latency></network>\n"
        "  <description>groups after the faults that name them</description>\n"
        "  <group id=\"b\" protocol=\"broadcast\" count=\"3\"/>\n"
        "</scenario>\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(sc->n_nodes, 5);
    CU_ASSERT_EQUAL(sel(fault(sc, 0)->nodes, 0)->node, 3); /* b2: after a1, a2, b1 */
    CU_ASSERT_EQUAL(sc->unsynced, DSIM_UNSYNCED_KEEP);
    CU_ASSERT_EQUAL(sc->net.header_bytes, 0);
    CU_ASSERT_EQUAL(sc->net.latency->kind, DSIM_DIST_EXP);
    const DsimLinkSpec *link = &g_array_index(sc->net.links, DsimLinkSpec, 0);
    CU_ASSERT_EQUAL(link->to, 2);
    CU_ASSERT_DOUBLE_EQUAL(link->loss, 0.5, 0);
    CU_ASSERT_PTR_NULL(link->latency);
}

static void test_many_members_make_multi_digit_names(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name=\"n\" seed=\"1\" duration=\"1s\">"
        "<group id=\"r\" protocol=\"broadcast\" count=\"12\"/>"
        "<group id=\"r0\" protocol=\"pingpong\" count=\"3\"/>" /* r0 is no member of r */
        "<faults><crash at=\"0s\" node=\"r12,r01\"/></faults>"
        "</scenario>");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_STRING_EQUAL(sc->node_names[11], "r12");
    CU_ASSERT_STRING_EQUAL(sc->node_names[12], "r01");
    CU_ASSERT_EQUAL(dsim_scenario_node_id(sc, "r12"), 11);
    CU_ASSERT_EQUAL(dsim_scenario_node_id(sc, "r01"), 12);
    CU_ASSERT_EQUAL(dsim_scenario_node_id(sc, "r13"), DSIM_NOBODY);
    CU_ASSERT_EQUAL(sel(fault(sc, 0)->nodes, 0)->node, 11);
    CU_ASSERT_EQUAL(sel(fault(sc, 0)->nodes, 1)->node, 12);
}

/* The loader accepts a workload only on a protocol that takes client requests. Until one
 * exists (kv, raft), this test has nothing to load and passes vacuously. */
static void test_workload_defaults(void)
{
    const DsimProtocol *server = NULL;
    for (unsigned i = 0; dsim_protocols[i] != NULL && server == NULL; i++) {
        if (dsim_protocols[i]->on_request != NULL)
            server = dsim_protocols[i];
    }
    if (server == NULL)
        return;
    g_autofree char *xml = g_strdup_printf(
        "<scenario name=\"w\" seed=\"1\" duration=\"30s\">"
        "<group id=\"s\" protocol=\"%s\" count=\"3\"/>"
        "<workload type=\"kv\" target=\"s\" rate=\"100/s\"/>"
        "<workload type=\"kv\" target=\"s\" rate=\"5/ms\" clients=\"3\" keys=\"10\""
        " mix=\"get:0.5,put:0.4,cas:0.1\" start=\"1s\" stop=\"25s\" timeout=\"250ms\"/>"
        "</scenario>",
        server->name);
    g_autoptr(DsimScenario) sc = load(xml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL_FATAL(sc->workloads->len, 2);
    const DsimWorkloadSpec *w = &g_array_index(sc->workloads, DsimWorkloadSpec, 0);
    CU_ASSERT_STRING_EQUAL(w->type, "kv");
    CU_ASSERT_EQUAL(w->target, 0);
    CU_ASSERT_EQUAL(w->clients, 1);
    CU_ASSERT_EQUAL(w->keys, 1);
    CU_ASSERT_DOUBLE_EQUAL(w->rate, 100.0, 1e-9);
    CU_ASSERT_EQUAL(w->start, 0);
    CU_ASSERT_EQUAL(w->stop, DSIM_S(30));
    CU_ASSERT_EQUAL(w->timeout, DSIM_S(1));
    CU_ASSERT_EQUAL_FATAL(w->mix->len, 2);
    CU_ASSERT_STRING_EQUAL(g_array_index(w->mix, DsimMixItem, 0).op, "get");
    CU_ASSERT_DOUBLE_EQUAL(g_array_index(w->mix, DsimMixItem, 1).weight, 0.5, 0);
    w = &g_array_index(sc->workloads, DsimWorkloadSpec, 1);
    CU_ASSERT_EQUAL(w->clients, 3);
    CU_ASSERT_EQUAL(w->keys, 10);
    CU_ASSERT_EQUAL(w->start, DSIM_S(1));
    CU_ASSERT_EQUAL(w->stop, DSIM_S(25));
    CU_ASSERT_EQUAL(w->timeout, DSIM_MS(250));
    CU_ASSERT_EQUAL(w->mix->len, 3);
}

static void test_set_param_replaces_the_value(void)
{
    g_autoptr(DsimScenario) sc = load(skeleton);
    GError *error = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    const DsimGroupSpec *r = &g_array_index(sc->groups, DsimGroupSpec, 0);

    CU_ASSERT_TRUE(dsim_scenario_set_param(sc, 0, "retransmit", " 75ms ", &error));
    CU_ASSERT_EQUAL(config_time(sc, 0, "retransmit"), DSIM_MS(75));
    CU_ASSERT_EQUAL(r->param_names->len, 2);
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(r->param_values, 1), "75ms");

    CU_ASSERT_TRUE(dsim_scenario_set_param(sc, 0, "origin", "3", &error));
    CU_ASSERT_EQUAL(config_int(sc, 0, "origin"), 3);
    CU_ASSERT_EQUAL(r->param_names->len, 3);

    CU_ASSERT_FALSE(dsim_scenario_set_param(sc, 0, "retransmit", "soon", &error));
    CU_ASSERT_STRING_EQUAL(error->message,
                           "r.retransmit: \"soon\" is not a duration (write e.g. 250ms, 1.5s)");
    CU_ASSERT_TRUE(g_error_matches(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_BAD_VALUE));
    CU_ASSERT_EQUAL(config_time(sc, 0, "retransmit"), DSIM_MS(75)); /* unchanged */
    g_clear_error(&error);

    CU_ASSERT_FALSE(dsim_scenario_set_param(sc, 1, "heartbeat", "1s", &error));
    CU_ASSERT_STRING_EQUAL(error->message, "protocol pingpong has no parameter \"heartbeat\" "
                                           "(its parameters: count, interval, retry, size)");
    CU_ASSERT_TRUE(g_error_matches(error, DSIM_SCENARIO_ERROR,
                                   DSIM_SCENARIO_ERROR_UNKNOWN_PARAM));
    g_clear_error(&error);
}

static void test_free_accepts_null(void)
{
    dsim_scenario_free(NULL);
}

/* ---- errors, each with its line ---------------------------------------------------- */

#define HEAD "<?xml version=\"1.0\"?>\n<scenario name=\"t\" seed=\"1\" duration=\"30s\">\n"
#define GROUPS                                                   \
    "  <group id=\"r\" protocol=\"broadcast\" count=\"5\"/>\n" \
    "  <group id=\"p\" protocol=\"pingpong\" count=\"2\"/>\n"
#define TAIL "</scenario>\n"
/* With HEAD and GROUPS, the first line of the body is line 5. */
#define FAULTS(x) HEAD GROUPS "  <faults>\n    " x "\n  </faults>\n" TAIL
#define CHECKS(x) HEAD GROUPS "  <checks>\n    " x "\n  </checks>\n" TAIL

static void test_input_that_is_not_xml(void)
{
    assert_error("", "t.xml:1: the file is empty (a scenario is a <scenario name=\"...\" "
                     "seed=\"...\" duration=\"...\"> element)");
    assert_error(" \n\t\n", "t.xml:1: the file is empty (a scenario is a <scenario "
                            "name=\"...\" seed=\"...\" duration=\"...\"> element)");
    assert_error(HEAD GROUPS "  <faults>\n    <crash at=\"1s\" node=\"r1\">\n  </faults>\n" TAIL,
                 "t.xml:7: XML is not well-formed: Opening and ending tag mismatch: crash "
                 "line 6 and faults");
    assert_error(HEAD GROUPS "  <faults>\n",
                 "t.xml:6: XML is not well-formed: Premature end of data in tag faults line 5");
    assert_error(HEAD "<group id=\"r\" protocol=\"broadcast\" count=\"5\"/>&nbsp;" TAIL,
                 "t.xml:3: XML is not well-formed: Entity 'nbsp' not defined");
}

static void test_doctype_is_refused(void)
{
    assert_error("<?xml version=\"1.0\"?>\n\n<!DOCTYPE scenario [\n"
                 "  <!ENTITY a \"aaaaaaaaaa\">\n  <!ENTITY b \"&a;&a;&a;&a;&a;&a;\">\n]>\n"
                 "<scenario name=\"t\" seed=\"1\" duration=\"1s\"><description>&b;</description>"
                 "<group id=\"r\" protocol=\"broadcast\" count=\"1\"/></scenario>\n",
                 "t.xml:3: DOCTYPE and entity declarations are not allowed in scenario files");
    assert_error("<!DOCTYPE scenario SYSTEM \"file:///etc/passwd\">\n"
                 "<scenario name=\"t\" seed=\"1\" duration=\"1s\">"
                 "<group id=\"r\" protocol=\"broadcast\" count=\"1\"/></scenario>\n",
                 "t.xml:1: DOCTYPE and entity declarations are not allowed in scenario files");
}

static void test_schema_violations(void)
{
    assert_error(HEAD GROUPS "  <explode/>\n" TAIL,
                 "t.xml:5: <explode> is not allowed in <scenario> (allowed there: description, "
                 "network, storage, group, workload, faults, checks, report, sweep)");
    assert_error(FAULTS("<crash at=\"1s\" nodes=\"r1\"/>"),
                 "t.xml:6: <crash nodes=\"r1\">: <crash> has no attribute nodes (its "
                 "attributes: at, node, as, unsynced)");
    assert_error(FAULTS("<heal/>"), "t.xml:6: <heal>: the at attribute is required");
    assert_error(HEAD GROUPS "  <report/>\n  <report/>\n" TAIL,
                 "t.xml:6: <report> appears twice in <scenario> (first at line 5); merge them");
    assert_error(HEAD GROUPS "  <network><loss>0</loss>\n<loss>0.1</loss></network>\n" TAIL,
                 "t.xml:6: <loss> appears twice in <network> (first at line 5); merge them");
    assert_error(HEAD "  <description/>\n" TAIL, "t.xml:2: <scenario> needs at least one <group>");
    assert_error("<scenarios/>", "t.xml:1: the outermost element is <scenarios>; a scenario "
                                 "file holds one <scenario>");
    assert_error(FAULTS("<crash at=\"1s\" node=\"r1\">now</crash>"),
                 "t.xml:6: <crash> holds the text \"now\", but takes none (values go in "
                 "attributes)");
}

static void test_expect_forms_are_told_apart(void)
{
    assert_error(CHECKS("<expect at=\"2s\" leader=\"one\"/>"),
                 "t.xml:6: <expect>: the group attribute is required");
    assert_error(CHECKS("<expect group=\"r\" agree=\"all\"/>"),
                 "t.xml:6: <expect>: the at attribute is required");
    assert_error(CHECKS("<expect at=\"2s\" group=\"r\" leader=\"one\" agree=\"all\"/>"),
                 "t.xml:6: <expect>: give metric=\"...\" (with min or max), or at=\"...\" and "
                 "group=\"...\" with one of leader=\"one|none\" and agree=\"all\"");
    assert_error(CHECKS("<expect metric=\"m\" max=\"1\" leader=\"one\"/>"),
                 "t.xml:6: <expect>: with metric=\"...\", give after, min and max, not leader "
                 "(a point-in-time expectation is a separate <expect>)");
    assert_error(CHECKS("<expect at=\"1s\" group=\"r\" leader=\"one\" max=\"1\"/>"),
                 "t.xml:6: <expect>: max belongs with metric=\"...\"");
}

static void test_scenario_attribute_values(void)
{
    assert_error("<scenario name=\"a b\" seed=\"1\" duration=\"1s\">\n"
                 "<group id=\"r\" protocol=\"broadcast\" count=\"1\"/></scenario>",
                 "t.xml:1: <scenario name=\"a b\">: \"a b\" is not a scenario name (use "
                 "letters, digits, - and _, at most 64)");
    assert_error("<scenario name=\"a\" seed=\"18446744073709551616\" duration=\"1s\">\n"
                 "<group id=\"r\" protocol=\"broadcast\" count=\"1\"/></scenario>",
                 "t.xml:1: <scenario seed=\"18446744073709551616\">: \"18446744073709551616\" "
                 "is not a seed (write a whole number from 0 to 18446744073709551615)");
    assert_error("<scenario name=\"a\" seed=\"1\" duration=\"0s\">\n"
                 "<group id=\"r\" protocol=\"broadcast\" count=\"1\"/></scenario>",
                 "t.xml:1: <scenario duration=\"0s\">: \"0s\" is not a positive duration "
                 "(write e.g. 30s)");
    assert_error("<scenario name=\"a\" seed=\"1\" duration=\"30\">\n"
                 "<group id=\"r\" protocol=\"broadcast\" count=\"1\"/></scenario>",
                 "t.xml:1: <scenario duration=\"30\">: \"30\" is not a duration (write e.g. "
                 "250ms, 1.5s)");
}

static void test_group_errors(void)
{
    assert_error(HEAD "  <group id=\"r\" protocol=\"zab\" count=\"5\"/>\n" TAIL,
                 "t.xml:3: <group protocol=\"zab\">: unknown protocol \"zab\" (known: "
                 "pingpong, broadcast, gossip, swim, basic-paxos, multi-paxos, raft, service, "
                 "client, gateway, limiter, registry, instance, watcher, ca, zt-service, zt-client, "
                 "attacker; see dsim list)");
    assert_error(HEAD "  <group id=\"r\" protocol=\"pingpong\" count=\"2\">\n"
                      "    <param name=\"heartbeat\">50ms</param>\n  </group>\n" TAIL,
                 "t.xml:4: <param name=\"heartbeat\">: protocol pingpong has no parameter "
                 "\"heartbeat\" (its parameters: count, interval, retry, size)");
    assert_error(HEAD "  <group id=\"r\" protocol=\"pingpong\" count=\"2\">\n"
                      "    <param name=\"interval\">5x</param>\n  </group>\n" TAIL,
                 "t.xml:4: <param name=\"interval\">: \"5x\" is not a duration (write e.g. "
                 "250ms, 1.5s)");
    assert_error(HEAD "  <group id=\"r\" protocol=\"pingpong\" count=\"2\">\n"
                      "    <param name=\"count\">1</param>\n"
                      "    <param name=\"count\">2</param>\n  </group>\n" TAIL,
                 "t.xml:5: <param name=\"count\">: count is set twice in group r");
    assert_error(HEAD GROUPS "  <group id=\"r\" protocol=\"pingpong\" count=\"1\"/>\n" TAIL,
                 "t.xml:5: <group id=\"r\">: group r is already defined at line 3");
    assert_error(HEAD "  <group id=\"r\" protocol=\"broadcast\" count=\"12\"/>\n"
                      "  <group id=\"r1\" protocol=\"pingpong\" count=\"2\"/>\n" TAIL,
                 "t.xml:4: <group id=\"r1\">: r1 is already the name of a node of group r "
                 "(line 3); choose another id");
    assert_error(HEAD "  <group id=\"r11\" protocol=\"pingpong\" count=\"2\"/>\n"
                      "  <group id=\"r\" protocol=\"broadcast\" count=\"12\"/>\n" TAIL,
                 "t.xml:4: <group id=\"r\">: its node r11 would have the name of group r11 "
                 "(line 3); choose another id");
    assert_error(HEAD "  <group id=\"r\" protocol=\"pingpong\" count=\"0\"/>\n" TAIL,
                 "t.xml:3: <group count=\"0\">: \"0\" is not a whole number from 1 to 10000000");
    assert_error(HEAD "  <group id=\"r\" protocol=\"pingpong\" count=\"6000000\"/>\n"
                      "  <group id=\"s\" protocol=\"pingpong\" count=\"6000000\"/>\n" TAIL,
                 "t.xml:4: <group count=\"6000000\">: the scenario would have 12000000 nodes; "
                 "the limit is 10000000");
    assert_error(HEAD "  <group id=\"1r\" protocol=\"pingpong\" count=\"1\"/>\n" TAIL,
                 "t.xml:3: <group id=\"1r\">: \"1r\" is not a group id (a letter, then "
                 "letters, digits, - and _)");
    assert_error(HEAD "  <group id=\"crashed\" protocol=\"pingpong\" count=\"1\"/>\n" TAIL,
                 "t.xml:3: <group id=\"crashed\">: \"crashed\" is reserved for the selector of "
                 "crashed nodes; choose another id");
}

static void test_network_errors(void)
{
    assert_error(HEAD GROUPS "  <network>\n    <latency>uniform(15ms)</latency>\n  </network>\n"
                 TAIL,
                 "t.xml:6: <latency>: \"uniform(15ms)\" needs two durations: uniform(LO,HI)");
    assert_error(HEAD GROUPS "  <network>\n    <duplicate>2</duplicate>\n  </network>\n" TAIL,
                 "t.xml:6: <duplicate>: \"2\" is not a probability (write a number from 0 to "
                 "1, e.g. 0.01)");
    assert_error(HEAD GROUPS "  <network>\n    <bandwidth>100Mb</bandwidth>\n  </network>\n"
                 TAIL,
                 "t.xml:6: <bandwidth>: \"100Mb\" is not a bandwidth (write e.g. 100Mbit/s, "
                 "1Gbit/s, 10MB/s)");
    assert_error(HEAD GROUPS "  <network>\n    <link from=\"r1\" to=\"r9\"/>\n  </network>\n"
                 TAIL,
                 "t.xml:6: <link to=\"r9\">: no node is named \"r9\" (nodes: r1..r5, p1..p2)");
    assert_error(HEAD GROUPS "  <network>\n    <link from=\"r1\" to=\"r1\"/>\n  </network>\n"
                 TAIL, "t.xml:6: <link to=\"r1\">: a link joins two different nodes");
    assert_error(HEAD GROUPS "  <network>\n    <link from=\"r1\" to=\"r2\">\n"
                 "      <loss>x</loss>\n    </link>\n  </network>\n" TAIL,
                 "t.xml:7: <loss>: \"x\" is not a probability (write a number from 0 to 1, e.g. "
                 "0.01)");
    assert_error(HEAD GROUPS "  <storage unsynced=\"maybe\"/>\n" TAIL,
                 "t.xml:5: <storage unsynced=\"maybe\">: \"maybe\" is not one of keep|lose");
}

static void test_bandwidth_units(void)
{
    static const struct {
        const char *text;
        double      bps;
    } cases[] = {
        { "100Mbit/s", 100e6 }, { "1Gbit/s", 1e9 }, { "10MB/s", 80e6 },
        { "1.5kbit/s", 1500 },  { "64 kB/s", 512e3 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf(
            HEAD GROUPS "<network><bandwidth>%s</bandwidth></network>" TAIL, cases[i].text);
        g_autoptr(DsimScenario) sc = load(xml);
        CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
        CU_ASSERT_DOUBLE_EQUAL(sc->net.bandwidth_bps, cases[i].bps, 1e-6);
    }
}

static void test_fault_errors(void)
{
    assert_error(FAULTS("<crash at=\"5x\" node=\"r1\"/>"),
                 "t.xml:6: <crash at=\"5x\">: \"5x\" is not a duration (write e.g. 250ms, 1.5s)");
    assert_error(FAULTS("<crash at=\"40s\" node=\"r1\"/>"),
                 "t.xml:6: <crash at=\"40s\"> is after the end of the scenario (duration 30s)");
    assert_error(FAULTS("<crash at=\"1s\" node=\"r1\" unsynced=\"drop\"/>"),
                 "t.xml:6: <crash unsynced=\"drop\">: \"drop\" is not one of keep|lose");
    assert_error(FAULTS("<partition at=\"1s\" groups=\"r1,r2\"/>"),
                 "t.xml:6: <partition groups=\"r1,r2\">: a partition needs two or more sides "
                 "separated by | (e.g. r1,r2 | r3,r4,r5); to cut one node off, use <disconnect>");
    assert_error(FAULTS("<partition at=\"1s\" groups=\"r1,r2 | \"/>"),
                 "t.xml:6: <partition groups=\"r1,r2 |\">: an empty selector names nothing "
                 "(write a node (r1), a group (r), leader(r), follower(r), follower(r,k), "
                 "random(r,k), minority(r), majority(r), crashed, or a capture (L1, L1+1))");
    assert_error(FAULTS("<block at=\"1s\" from=\"r1\" to=\"q1\"/>"),
                 "t.xml:6: <block to=\"q1\">: no node, group or capture is named \"q1\" "
                 "(nodes: r1..r5, p1..p2; groups: r, p)");
    assert_error(FAULTS("<drift at=\"1s\" node=\"r1\" rate=\"0\"/>"),
                 "t.xml:6: <drift rate=\"0\">: \"0\" is not a clock rate (write a number above "
                 "0 and at most 100, e.g. 1.05 for a clock 5% fast)");
    assert_error(FAULTS("<nemesis kind=\"bridge\" target=\"r\" start=\"9s\" stop=\"9s\" "
                        "every=\"1s\"/>"),
                 "t.xml:6: <nemesis start=\"9s\" stop=\"9s\">: stop must come after start");
    assert_error(FAULTS("<nemesis kind=\"bridge\" target=\"r\" start=\"1s\" stop=\"9s\" "
                        "every=\"0s\"/>"),
                 "t.xml:6: <nemesis every=\"0s\">: \"0s\" is not a positive duration (write "
                 "e.g. 2s)");
    assert_error(FAULTS("<nemesis kind=\"bridge\" target=\"r1\" start=\"1s\" stop=\"9s\" "
                        "every=\"1s\"/>"),
                 "t.xml:6: <nemesis target=\"r1\">: no group is named \"r1\" (groups: r, p)");
    assert_error(FAULTS("<nemesis kind=\"bridge\" target=\"r\" start=\"0s\" stop=\"30s\" "
                        "every=\"1us\"/>"),
                 "t.xml:6: <nemesis every=\"1us\">: the nemesis would act 30000000 times between "
                 "start and stop; the limit is 10000000 (make every longer)");
    assert_error(FAULTS("<nemesis kind=\"chaos\" target=\"r\" start=\"1s\" stop=\"9s\" "
                        "every=\"1s\"/>"),
                 "t.xml:6: <nemesis kind=\"chaos\">: \"chaos\" is not one of random-halves|"
                 "majorities-ring|bridge|isolate|isolate-leader|crash-restart|pause-resume");
    assert_error(FAULTS("<nemesis kind=\"bridge\" target=\"r\" start=\"1s\" stop=\"31s\" "
                        "every=\"1s\"/>"),
                 "t.xml:6: <nemesis stop=\"31s\"> is after the end of the scenario "
                 "(duration 30s)");
}

static void test_selector_errors(void)
{
    assert_error(FAULTS("<crash at=\"1s\" node=\"r6\"/>"),
                 "t.xml:6: <crash node=\"r6\">: no node, group or capture is named \"r6\" "
                 "(nodes: r1..r5, p1..p2; groups: r, p)");
    assert_error(FAULTS("<crash at=\"1s\" node=\"leader(q)\"/>"),
                 "t.xml:6: <crash node=\"leader(q)\">: no group is named \"q\" (groups: r, p)");
    assert_error(FAULTS("<crash at=\"1s\" node=\"leader(r\"/>"),
                 "t.xml:6: <crash node=\"leader(r\">: \"leader(r\" is not a node selector "
                 "(write a node (r1), a group (r), leader(r), follower(r), follower(r,k), "
                 "random(r,k), minority(r), majority(r), crashed, or a capture (L1, L1+1))");
    assert_error(FAULTS("<crash at=\"1s\" node=\"random(r)\"/>"),
                 "t.xml:6: <crash node=\"random(r)\">: \"random(r)\" is not a node selector "
                 "(write a node (r1), a group (r), leader(r), follower(r), follower(r,k), "
                 "random(r,k), minority(r), majority(r), crashed, or a capture (L1, L1+1))");
    assert_error(FAULTS("<crash at=\"1s\" node=\"random(r,6)\"/>"),
                 "t.xml:6: <crash node=\"random(r,6)\">: \"random(r,6)\" asks for 6 nodes, but "
                 "group r has 5");
    assert_error(FAULTS("<crash at=\"1s\" node=\"follower(r,0)\"/>"),
                 "t.xml:6: <crash node=\"follower(r,0)\">: in \"follower(r,0)\", \"0\" is not a "
                 "number of nodes (write e.g. follower(r,2))");
    assert_error(FAULTS("<crash at=\"1s\" node=\"r1,,r2\"/>"),
                 "t.xml:6: <crash node=\"r1,,r2\">: an empty selector names nothing (write a "
                 "node (r1), a group (r), leader(r), follower(r), follower(r,k), random(r,k), "
                 "minority(r), majority(r), crashed, or a capture (L1, L1+1))");
    assert_error(FAULTS("<crash at=\"1s\" node=\"r1\" as=\"L1\"/>\n"
                        "    <restart at=\"2s\" node=\"L2\"/>"),
                 "t.xml:7: <restart node=\"L2\">: no node, group or capture is named \"L2\" "
                 "(nodes: r1..r5, p1..p2; groups: r, p)");
    assert_error(FAULTS("<crash at=\"1s\" node=\"r1\" as=\"L1\"/>\n"
                        "    <restart at=\"2s\" node=\"L2+1\"/>"),
                 "t.xml:7: <restart node=\"L2+1\">: \"L2+1\" names the capture \"L2\", but no "
                 "fault has as=\"L2\" (captures: L1)");
    assert_error(FAULTS("<crash at=\"1s\" node=\"r1\" as=\"p2\"/>"),
                 "t.xml:6: <crash as=\"p2\">: \"p2\" is already the name of a node or group; "
                 "choose another (e.g. L1)");
}

static void test_captures_resolve_in_any_file_order(void)
{
    /* a restart may name the capture of a crash written below it: captures resolve by time */
    g_autoptr(DsimScenario) sc = load(
        FAULTS("<restart at=\"9s\" node=\"L1+1\"/>\n    <crash at=\"1s\" node=\"leader(r)\" "
               "as=\"L1\"/>"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(sel(fault(sc, 0)->nodes, 0)->kind, DSIM_SEL_CAPTURE);
    CU_ASSERT_EQUAL(sel(fault(sc, 0)->nodes, 0)->offset, 1);
}

static void test_workload_errors(void)
{
    assert_error(HEAD GROUPS "  <workload type=\"kv\" target=\"p\" rate=\"100/s\"/>\n" TAIL,
                 "t.xml:5: <workload target=\"p\">: group p runs pingpong, which takes no "
                 "client requests");
    assert_error(HEAD GROUPS "  <workload type=\"kv\" target=\"q\" rate=\"100/s\"/>\n" TAIL,
                 "t.xml:5: <workload target=\"q\">: no group is named \"q\" (groups: r, p)");
    assert_error(HEAD GROUPS "  <workload type=\"queue\" target=\"p\" rate=\"100/s\"/>\n" TAIL,
                 "t.xml:5: <workload type=\"queue\">: unknown workload type \"queue\" (known: "
                 "kv, register)");
    assert_error(HEAD GROUPS "  <workload type=\"kv\" target=\"p\" rate=\"100\"/>\n" TAIL,
                 "t.xml:5: <workload rate=\"100\">: \"100\" is not a rate (write e.g. 100/s, "
                 "5/ms)");
    assert_error(HEAD GROUPS "  <workload type=\"kv\" target=\"p\" rate=\"2000/ms\"/>\n" TAIL,
                 "t.xml:5: <workload rate=\"2000/ms\">: \"2000/ms\" is above the limit of "
                 "1000000/s");
    assert_error(HEAD GROUPS "  <workload type=\"kv\" target=\"p\" rate=\"1/s\" "
                             "mix=\"get:0.5,put:0.4\"/>\n" TAIL,
                 "t.xml:5: <workload mix=\"get:0.5,put:0.4\">: the weights sum to 0.9, not 1");
    assert_error(HEAD GROUPS "  <workload type=\"kv\" target=\"p\" rate=\"1/s\" "
                             "mix=\"get:0.5,delete:0.5\"/>\n" TAIL,
                 "t.xml:5: <workload mix=\"get:0.5,delete:0.5\">: \"delete\" is not an "
                 "operation (known: get, put, append, cas)");
    assert_error(HEAD GROUPS "  <workload type=\"kv\" target=\"p\" rate=\"1/s\"\n"
                             "            start=\"25s\" stop=\"1s\"/>\n" TAIL,
                 "t.xml:5: <workload start=\"25s\" stop=\"1s\">: stop must come after start");
    assert_error(HEAD GROUPS "  <workload type=\"kv\" target=\"p\" rate=\"1/s\" stop=\"31s\"/>\n"
                 TAIL,
                 "t.xml:5: <workload stop=\"31s\"> is after the end of the scenario (duration "
                 "30s)");
    assert_error(HEAD GROUPS "  <workload type=\"kv\" target=\"p\" rate=\"1/s\" clients=\"0\"/>\n"
                 TAIL,
                 "t.xml:5: <workload clients=\"0\">: \"0\" is not a whole number from 1 to "
                 "1000000");
}

static void test_check_errors(void)
{
    assert_error(CHECKS("<invariant name=\"election-safety\"/>"),
                 "t.xml:6: <invariant name=\"election-safety\">: no protocol in this scenario "
                 "has an invariant \"election-safety\" (known here: no-duplicate-delivery, "
                 "all-delivered, seq-monotonic; see dsim list)");
    assert_error(CHECKS("<invariant name=\"seq-monotonic\" group=\"r\"/>"),
                 "t.xml:6: <invariant name=\"seq-monotonic\">: protocol broadcast of group r "
                 "has no invariant \"seq-monotonic\" (its invariants: no-duplicate-delivery, "
                 "all-delivered)");
    assert_error(CHECKS("<linearizable model=\"queue\"/>"),
                 "t.xml:6: <linearizable model=\"queue\">: \"queue\" is not one of kv|register");
    assert_error(CHECKS("<expect at=\"2s\" group=\"r\" leader=\"two\"/>"),
                 "t.xml:6: <expect leader=\"two\">: \"two\" is not one of one|none");
    assert_error(CHECKS("<expect at=\"2s\" group=\"q\" agree=\"all\"/>"),
                 "t.xml:6: <expect group=\"q\">: no group is named \"q\" (groups: r, p)");
    assert_error(CHECKS("<expect at=\"25s\" within=\"10s\" group=\"r\" leader=\"one\"/>"),
                 "t.xml:6: <expect at=\"25s\" within=\"10s\"> ends after the end of the "
                 "scenario (duration 30s)");
    assert_error(CHECKS("<expect metric=\"election_time\" after=\"1s\"/>"),
                 "t.xml:6: <expect metric=\"election_time\">: give min=\"...\", max=\"...\" or "
                 "both");
    assert_error(CHECKS("<expect metric=\"m\" min=\"2\" max=\"1\"/>"),
                 "t.xml:6: <expect metric=\"m\">: min is above max, so no value can pass");
    assert_error(CHECKS("<expect metric=\"m\" max=\"soon\"/>"),
                 "t.xml:6: <expect max=\"soon\">: \"soon\" is not a number or a duration (write "
                 "e.g. 0.5 or 2s)");
    assert_error(CHECKS("<converge within=\"0s\"/>"),
                 "t.xml:6: <converge within=\"0s\">: \"0s\" is not a positive duration");
}

static void test_report_and_sweep_errors(void)
{
    assert_error(HEAD GROUPS "  <report spacetime=\"2s..1s\"/>\n" TAIL,
                 "t.xml:5: <report spacetime=\"2s..1s\">: \"2s..1s\" is not a time window "
                 "(write e.g. 0s..2s)");
    assert_error(HEAD GROUPS "  <sweep seeds=\"10..1\"/>\n" TAIL,
                 "t.xml:5: <sweep seeds=\"10..1\">: \"10..1\" is not a range of seeds (write "
                 "e.g. 1..1000)");
    assert_error(HEAD GROUPS "  <sweep>\n    <vary param=\"retransmit\" values=\"1ms\"/>\n"
                             "  </sweep>\n" TAIL,
                 "t.xml:6: <vary param=\"retransmit\">: \"retransmit\" is not group.parameter "
                 "(write e.g. r.election_timeout)");
    assert_error(HEAD GROUPS "  <sweep>\n    <vary param=\"q.retransmit\" values=\"1ms\"/>\n"
                             "  </sweep>\n" TAIL,
                 "t.xml:6: <vary param=\"q.retransmit\">: no group is named \"q\" (groups: r, "
                 "p)");
    assert_error(HEAD GROUPS "  <sweep>\n    <vary param=\"r.timeout\" values=\"1ms\"/>\n"
                             "  </sweep>\n" TAIL,
                 "t.xml:6: <vary param=\"r.timeout\">: protocol broadcast has no parameter "
                 "\"timeout\" (its parameters: origin, messages, start, interval, retransmit, "
                 "persist)");
    assert_error(HEAD GROUPS "  <sweep>\n    <vary param=\"r.retransmit\" values=\"1ms, 2xs\"/>\n"
                             "  </sweep>\n" TAIL,
                 "t.xml:6: <vary values=\"1ms, 2xs\">: \"2xs\" is not a duration (write e.g. "
                 "250ms, 1.5s)");
}

static void test_line_numbers_past_65535(void)
{
    GString *xml = g_string_new(HEAD GROUPS "  <faults>\n");
    for (unsigned i = 0; i < 70000; i++)
        g_string_append(xml, "    <heal at=\"1s\"/>\n");
    g_string_append(xml, "    <heal at=\"1x\"/>\n  </faults>\n" TAIL);
    assert_error(xml->str, "t.xml:70006: <heal at=\"1x\">: \"1x\" is not a duration (write e.g. "
                           "250ms, 1.5s)");
    g_string_free(xml, TRUE);
}

static void test_size_limit_is_checked_before_parsing(void)
{
    GError *error = NULL;
    size_t len = DSIM_SCENARIO_MAX_BYTES + 1;
    char *big = g_malloc(len);
    memset(big, ' ', len);
    CU_ASSERT_PTR_NULL(dsim_scenario_load_buffer(big, len, "big.xml", &error));
    CU_ASSERT_STRING_EQUAL(error->message,
                           "big.xml:1: file is 4194305 bytes; the limit is 4194304");
    CU_ASSERT_TRUE(g_error_matches(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_IO));
    g_clear_error(&error);
    g_free(big);
}

static void test_error_codes(void)
{
    static const struct {
        const char       *xml;
        DsimScenarioError code;
    } cases[] = {
        { "<scenario", DSIM_SCENARIO_ERROR_PARSE },
        { "<!DOCTYPE x><scenario/>", DSIM_SCENARIO_ERROR_PARSE },
        { HEAD GROUPS "<x/>" TAIL, DSIM_SCENARIO_ERROR_SCHEMA },
        { HEAD "<group id=\"r\" protocol=\"x\" count=\"1\"/>" TAIL,
          DSIM_SCENARIO_ERROR_UNKNOWN_PROTOCOL },
        { HEAD "<group id=\"r\" protocol=\"pingpong\" count=\"1\"><param name=\"x\">1</param>"
               "</group>" TAIL, DSIM_SCENARIO_ERROR_UNKNOWN_PARAM },
        { FAULTS("<heal at=\"x\"/>"), DSIM_SCENARIO_ERROR_BAD_VALUE },
        { FAULTS("<crash at=\"1s\" node=\"x\"/>"), DSIM_SCENARIO_ERROR_UNKNOWN_NAME },
        { HEAD GROUPS GROUPS TAIL, DSIM_SCENARIO_ERROR_DUPLICATE },
        { FAULTS("<heal at=\"31s\"/>"), DSIM_SCENARIO_ERROR_INCONSISTENT },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *error = NULL;
        CU_ASSERT_PTR_NULL(dsim_scenario_load_buffer(cases[i].xml, strlen(cases[i].xml), "t.xml",
                                                     &error));
        CU_ASSERT_PTR_NOT_NULL_FATAL(error);
        if (!g_error_matches(error, DSIM_SCENARIO_ERROR, (gint) cases[i].code))
            printf("\n==> case %zu: code %d for %s\n", i, error->code, error->message);
        CU_ASSERT_TRUE(g_error_matches(error, DSIM_SCENARIO_ERROR, (gint) cases[i].code));
        g_error_free(error);
    }
}

/* Scenarios are loaded side by side by `--jobs N`: nothing in the loader may be global. */
static gpointer load_many(gpointer data)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < 20; i++) {
        GError *error = NULL;
        DsimScenario *sc = dsim_scenario_load_buffer(skeleton, strlen(skeleton), "t.xml", &error);
        const char *bad = FAULTS("<crash at=\"5x\" node=\"r1\"/>");
        DsimScenario *none = dsim_scenario_load_buffer(bad, strlen(bad), "t.xml", &error);
        if (sc != NULL && none == NULL && error != NULL
            && strcmp(error->message, "t.xml:6: <crash at=\"5x\">: \"5x\" is not a duration "
                                      "(write e.g. 250ms, 1.5s)") == 0)
            ok++;
        g_clear_error(&error);
        dsim_scenario_free(sc);
    }
    return GUINT_TO_POINTER(ok);
}

static void test_loads_run_in_parallel_threads(void)
{
    GThread *threads[4];
    for (unsigned i = 0; i < G_N_ELEMENTS(threads); i++)
        threads[i] = g_thread_new("load", load_many, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(threads); i++)
        CU_ASSERT_EQUAL(GPOINTER_TO_UINT(g_thread_join(threads[i])), 20);
}

CU_TestInfo scenario_tests[] = {
    { "skeleton: scenario attributes", test_skeleton_scenario_attributes },
    { "skeleton: network", test_skeleton_network },
    { "skeleton: groups and dense node ids", test_skeleton_groups_and_dense_node_ids },
    { "skeleton: params over defaults", test_skeleton_params_over_defaults },
    { "skeleton: faults and selectors", test_skeleton_faults_and_selectors },
    { "skeleton: checks", test_skeleton_checks },
    { "skeleton: report and sweep", test_skeleton_report_and_sweep },
    { "the contract's skeleton loads", test_the_contracts_skeleton_loads },
    { "minimal scenario gets the defaults", test_minimal_scenario_gets_the_defaults },
    { "elements come in any order", test_elements_come_in_any_order },
    { "many members make multi-digit names", test_many_members_make_multi_digit_names },
    { "workload defaults", test_workload_defaults },
    { "set param replaces the value", test_set_param_replaces_the_value },
    { "free accepts null", test_free_accepts_null },
    { "input that is not xml", test_input_that_is_not_xml },
    { "doctype is refused", test_doctype_is_refused },
    { "schema violations", test_schema_violations },
    { "expect forms are told apart", test_expect_forms_are_told_apart },
    { "scenario attribute values", test_scenario_attribute_values },
    { "group errors", test_group_errors },
    { "network errors", test_network_errors },
    { "bandwidth units", test_bandwidth_units },
    { "fault errors", test_fault_errors },
    { "selector errors", test_selector_errors },
    { "captures resolve in any file order", test_captures_resolve_in_any_file_order },
    { "workload errors", test_workload_errors },
    { "check errors", test_check_errors },
    { "report and sweep errors", test_report_and_sweep_errors },
    { "line numbers past 65535", test_line_numbers_past_65535 },
    { "size limit is checked before parsing", test_size_limit_is_checked_before_parsing },
    { "error codes", test_error_codes },
    { "loads run in parallel threads", test_loads_run_in_parallel_threads },
    CU_TEST_INFO_NULL,
};
