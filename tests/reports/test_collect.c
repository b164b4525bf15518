/* test_collect.c - the collector and the files it leads to: the exact lines of a tiny run
 * (tiny_xml in util.c: a pingpong game through a crash and a restart), the space-time window
 * and its cap, vector clocks, and reading a folder back. */
#include <CUnit/CUnit.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sim/run.h"
#include "tests/reports/tests.h"

static char *tiny_dir(void)
{
    return reports_run_into(tiny_xml, false, 0, 0, "/nonexistent/gnuplot");
}

static void test_the_timeline_has_a_row_per_node_at_start_and_one_per_change(void)
{
    char *dir = tiny_dir();
    g_autofree char *t = reports_read(dir, "data/timeline.tsv");
    CU_ASSERT_TRUE(reports_same_text("data/timeline.tsv",
        "# time_ns\tnode\tstatus\trole\tterm\tcommit_index\tcut\n"
        "0\tp1\tup\tnone\t0\t0\t0\n"
        "0\tp2\tup\tnone\t0\t0\t0\n"
        "15000000\tp2\tcrashed\tnone\t0\t0\t0\n"
        "40000000\tp2\tup\tnone\t0\t0\t0\n", t));
    g_autofree char *csv = reports_read(dir, "timeseries.csv");
    CU_ASSERT_TRUE(reports_same_text("timeseries.csv",
        "time,node,term,role,commit_index,status\n"
        "0.000000000,p1,0,none,0,up\n"
        "0.000000000,p2,0,none,0,up\n"
        "0.015000000,p2,0,none,0,crashed\n"
        "0.040000000,p2,0,none,0,up\n", csv));
    g_autofree char *nodes = reports_read(dir, "data/nodes.tsv");
    CU_ASSERT_TRUE(reports_same_text("data/nodes.tsv",
        "# node\tgroup\tprotocol\np1\tp\tpingpong\np2\tp\tpingpong\n", nodes));
    reports_cleanup(dir);
}

/* Ping seq=3 reaches p2 while it is down; p1's retry re-sends it after the restart. */
static void test_messages_of_the_window_are_kept_with_their_fate(void)
{
    char *dir = tiny_dir();
    g_autofree char *m = reports_read(dir, "data/messages.tsv");
    CU_ASSERT_TRUE(reports_same_text("data/messages.tsv",
        "# id\tfrom\tto\tsent_ns\tend_ns\tfate\treason\tsummary\n"
        "1\tp1\tp2\t0\t10000000\tdelivered\t-\tPing seq=1\n"
        "2\tp2\tp1\t10000000\t20000000\tdelivered\t-\tPong seq=2\n"
        "3\tp1\tp2\t20000000\t30000000\tdropped-on-arrival\tcrashed\tPing seq=3\n"
        "4\tp1\tp2\t45000000\t55000000\tdelivered\t-\tPing seq=3\n"
        "5\tp2\tp1\t55000000\t65000000\tdelivered\t-\tPong seq=4\n", m));
    g_autofree char *f = reports_read(dir, "data/faults.tsv");
    CU_ASSERT_TRUE(reports_same_text("data/faults.tsv",
        "# time_ns\tevent\ttext\n"
        "15000000\t2\tcrash p2 (p2) [line 9]\n"
        "40000000\t5\trestart p2 (p2) [line 10]\n", f));
    reports_cleanup(dir);
}

static void test_message_counts_per_bin_add_up_to_the_counters(void)
{
    g_autoptr(DsimRunResult) r = reports_run(tiny_xml, false, 0, 0);
    const GArray *bins = r->data->traffic;
    CU_ASSERT_EQUAL(bins->len, DSIM_REPORT_BINS);
    uint64_t sent = 0, delivered = 0, dropped = 0;
    for (unsigned i = 0; i < bins->len; i++) {
        const DsimTrafficBin *b = &g_array_index(bins, DsimTrafficBin, i);
        CU_ASSERT_EQUAL(b->start, (DsimTime) i * DSIM_MS(1)); /* 100 ms in 100 bins */
        CU_ASSERT_EQUAL(b->end, (DsimTime) (i + 1) * DSIM_MS(1));
        sent += b->sent;
        delivered += b->delivered;
        dropped += b->dropped;
    }
    CU_ASSERT_EQUAL(sent, r->counters.sent);
    CU_ASSERT_EQUAL(delivered, r->counters.delivered);
    CU_ASSERT_EQUAL(dropped, 1);
    /* each message counts in the bin of its send, delivery or drop */
    const DsimTrafficBin *b0 = &g_array_index(bins, DsimTrafficBin, 0);
    const DsimTrafficBin *b10 = &g_array_index(bins, DsimTrafficBin, 10);
    const DsimTrafficBin *b30 = &g_array_index(bins, DsimTrafficBin, 30);
    CU_ASSERT_EQUAL(b0->sent, 1);
    CU_ASSERT_EQUAL(b10->sent, 1);
    CU_ASSERT_EQUAL(b10->delivered, 1);
    CU_ASSERT_EQUAL(b30->dropped, 1);
}

/* ShiViz checks that a node's own entry goes up by one per logged event, and that a receipt
 * knows of the send it follows. */
static void test_shiviz_log_ticks_each_nodes_own_clock_by_one(void)
{
    char *dir = tiny_dir();
    g_autofree char *log = reports_read(dir, "shiviz.log");
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_TRUE(g_str_has_prefix(log,
        "p1 {\"p1\":1}\nsend Ping seq=1 to p2\n"
        "p2 {\"p1\":1,\"p2\":1}\nrecv Ping seq=1 from p1\n"
        "p2 {\"p1\":1,\"p2\":2}\nsend Pong seq=2 to p1\n"
        "p2 {\"p1\":1,\"p2\":3}\ncrash\n"
        "p1 {\"p1\":2,\"p2\":2}\nrecv Pong seq=2 from p2\n"));
    g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
    unsigned own[2] = { 0, 0 };
    unsigned events = 0;
    g_autoptr(GRegex) re = g_regex_new("^(\\S*) (\\{.*\\})$", 0, 0, NULL);
    for (unsigned i = 0; lines[i] != NULL && lines[i][0] != '\0'; i += 2) {
        g_autoptr(GMatchInfo) mi = NULL;
        CU_ASSERT_TRUE_FATAL(g_regex_match(re, lines[i], 0, &mi));
        CU_ASSERT_PTR_NOT_NULL_FATAL(lines[i + 1]);
        g_autofree char *host = g_match_info_fetch(mi, 1);
        unsigned h = strcmp(host, "p1") == 0 ? 0 : 1;
        g_autofree char *key = g_strdup_printf("\"%s\":%u", host, own[h] + 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(lines[i], key));
        own[h]++;
        events++;
    }
    CU_ASSERT_EQUAL(events, 12);
    CU_ASSERT_EQUAL(own[0], 6); /* 3 sends, 2 receipts, the retry timer */
    CU_ASSERT_EQUAL(own[1], 6); /* 2 receipts, 2 sends, the crash, the restart */
    reports_cleanup(dir);
}

static void test_collecting_does_not_change_the_run(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_buffer(tiny_xml, strlen(tiny_xml), "t.xml", &error);
    DsimRunOptions plain = { 0 };
    g_autoptr(DsimRunResult) a = dsim_run(sc, &plain, &error);
    g_autoptr(DsimRunResult) b = reports_run(tiny_xml, false, 0, 0);
    CU_ASSERT_PTR_NULL(a->data);
    CU_ASSERT_EQUAL(a->trace_hash, b->trace_hash);
    CU_ASSERT_EQUAL(a->events, b->events);
}

static void test_the_window_keeps_the_messages_sent_in_it(void)
{
    g_autoptr(DsimRunResult) r = reports_run(tiny_xml, true, DSIM_MS(15), DSIM_MS(45));
    const GArray *m = r->data->messages;
    CU_ASSERT_EQUAL_FATAL(m->len, 2);
    CU_ASSERT_EQUAL(g_array_index(m, DsimMessageRow, 0).id, 3);
    CU_ASSERT_EQUAL(g_array_index(m, DsimMessageRow, 1).id, 4); /* sent at 45 ms: inclusive */
    CU_ASSERT_EQUAL(r->data->window_from, DSIM_MS(15));
    CU_ASSERT_EQUAL(r->data->window_to, DSIM_MS(45));
    CU_ASSERT_EQUAL(r->data->window_closed, DSIM_TIME_NEVER);
    /* a receipt of a message sent before the window knows nothing of its send */
    CU_ASSERT_TRUE(g_str_has_prefix(r->data->shiviz->str, "p2 {\"p2\":1}\ncrash\n"));
}

static void test_the_window_closes_at_the_arrow_cap(void)
{
    const char *xml =
        "<scenario name=\"many\" duration=\"10s\">\n"
        "  <network><latency>1ms</latency></network>\n"
        "  <group id=\"p\" protocol=\"pingpong\" count=\"2\"><param name=\"count\">6000</param></group>\n"
        "</scenario>\n";
    g_autoptr(DsimRunResult) r = reports_run(xml, true, 0, DSIM_S(10));
    CU_ASSERT_EQUAL(r->data->messages->len, DSIM_REPORT_MAX_ARROWS);
    /* the 5000th message is sent at 4.999 s */
    CU_ASSERT_EQUAL(r->data->window_closed, DSIM_MS(4999));
    const DsimMessageRow *last = &g_array_index(r->data->messages, DsimMessageRow,
                                                DSIM_REPORT_MAX_ARROWS - 1);
    CU_ASSERT_EQUAL(last->fate, DSIM_FATE_DELIVERED); /* in flight at the cap, resolved later */
    CU_ASSERT_EQUAL(last->end, DSIM_MS(5000));
}

static void test_metric_samples_carry_the_node_that_recorded_them(void)
{
    char *dir = reports_run_into("scenarios/pingpong/basic.xml", false, 0, 0, "/nonexistent/gnuplot");
    g_autofree char *m = reports_read(dir, "data/metrics.tsv");
    CU_ASSERT_TRUE(reports_same_text("data/metrics.tsv",
        "# time_ns\tnode\tmetric\tvalue\n1000000000\tp1\tpingpong_done\t1\n", m));
    reports_cleanup(dir);
}

/* `dsim report` reads the folder back: what it reads must write the same files again. */
static void test_a_folder_read_back_writes_the_same_files(void)
{
    char *dir = reports_run_into("scenarios/broadcast/partition-heal.xml", false, 0, 0,
                                 "/nonexistent/gnuplot");
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimRunResult) r = dsim_run_result_load(dir, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    char *again = g_dir_make_tmp("dsim-reports-XXXXXX", NULL);
    CU_ASSERT_TRUE_FATAL(dsim_report_write_data(r, again, &error));
    const char *files[] = { "summary.tsv", "data/nodes.tsv", "data/timeline.tsv",
                            "data/messages.tsv", "data/traffic.tsv", "data/metrics.tsv",
                            "data/faults.tsv", "timeseries.csv", "metrics.prom" };
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *a = reports_read(dir, files[i]);
        g_autofree char *b = reports_read(again, files[i]);
        CU_ASSERT_PTR_NOT_NULL(a);
        CU_ASSERT_TRUE(reports_same_text(files[i], a, b));
    }
    CU_ASSERT_EQUAL(r->verdicts->len, 3);
    CU_ASSERT_STRING_EQUAL(r->scenario, "broadcast-partition-heal");
    CU_ASSERT_TRUE(r->data->timeline->len > 10);
    reports_cleanup(again);
    reports_cleanup(dir);
}

static void test_a_folder_without_summary_is_refused(void)
{
    char *dir = g_dir_make_tmp("dsim-reports-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimRunResult) r = dsim_run_result_load(dir, &error);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_PTR_NOT_NULL(error != NULL ? strstr(error->message, "no summary.tsv") : NULL);
    g_autofree char *path = g_build_filename(dir, "summary.tsv", NULL);
    g_file_set_contents(path, "scenario\tx\n", -1, NULL); /* no data/ */
    g_clear_error(&error);
    g_autoptr(DsimRunResult) r2 = dsim_run_result_load(dir, &error);
    CU_ASSERT_PTR_NULL(r2);
    CU_ASSERT_PTR_NOT_NULL(error != NULL ? strstr(error->message, "nodes.tsv") : NULL);
    reports_cleanup(dir);
}

static void test_prometheus_text_has_counters_verdicts_and_summaries(void)
{
    g_autoptr(DsimRunResult) r = reports_run("scenarios/broadcast/partition-heal.xml", false, 0, 0);
    g_autoptr(GString) p = dsim_report_prometheus(r);
    const char *want[] = {
        "# TYPE dsim_events_total counter\n",
        "dsim_events_total{scenario=\"broadcast-partition-heal\",seed=\"42\"} 666\n",
        "dsim_messages_cut_total{scenario=\"broadcast-partition-heal\",seed=\"42\"} 850\n",
        "dsim_run_passed{scenario=\"broadcast-partition-heal\",seed=\"42\"} 1\n",
        "dsim_check_passed{scenario=\"broadcast-partition-heal\",seed=\"42\",check=\"converge (line 27)\",group=\"\"} 1\n",
        "# TYPE dsim_broadcast_latency_seconds summary\n",
        "dsim_broadcast_latency_seconds_count{scenario=\"broadcast-partition-heal\",seed=\"42\"} 27\n",
        "dsim_broadcast_latency_seconds{scenario=\"broadcast-partition-heal\",seed=\"42\",quantile=\"0.5\"} ",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        if (strstr(p->str, want[i]) == NULL) {
            printf("\nmissing from metrics.prom: %s", want[i]);
            CU_FAIL("metrics.prom line");
        }
    }
}

CU_TestInfo collect_tests[] = {
    { "the timeline has a row per node at start and one per change", test_the_timeline_has_a_row_per_node_at_start_and_one_per_change },
    { "messages of the window are kept with their fate", test_messages_of_the_window_are_kept_with_their_fate },
    { "message counts per bin add up to the counters", test_message_counts_per_bin_add_up_to_the_counters },
    { "shiviz log ticks each node's own clock by one", test_shiviz_log_ticks_each_nodes_own_clock_by_one },
    { "collecting does not change the run", test_collecting_does_not_change_the_run },
    { "the window keeps the messages sent in it", test_the_window_keeps_the_messages_sent_in_it },
    { "the window closes at the arrow cap", test_the_window_closes_at_the_arrow_cap },
    { "metric samples carry the node that recorded them", test_metric_samples_carry_the_node_that_recorded_them },
    { "a folder read back writes the same files", test_a_folder_read_back_writes_the_same_files },
    { "a folder without summary.tsv is refused", test_a_folder_without_summary_is_refused },
    { "prometheus text has counters, verdicts and summaries", test_prometheus_text_has_counters_verdicts_and_summaries },
    CU_TEST_INFO_NULL,
};
