/* test_plots.c - plot.c: which plots a run offers, their data and scripts (compared as text:
 * gnuplot's SVG carries its version, so the pictures are only checked to be well-formed). */
#include <CUnit/CUnit.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "tests/reports/tests.h"

/* ---- a run made by hand: three nodes, r1 leads term 1 until it crashes at 1 s, r2 leads
 * term 2 from 1.5 s; commit indexes move; one latency metric with four samples ---------- */

static void row(DsimRunData *d, DsimTime t, uint32_t node, DsimNodeStatus st, DsimRole role,
                uint64_t term, uint64_t ci)
{
    DsimTimelineRow r = { .time = t, .node = node, .status = st, .role = role, .term = term,
                          .commit_index = ci };
    g_array_append_val(d->timeline, r);
}

static DsimRunResult *made_run(void)
{
    DsimRunResult *r = g_new0(DsimRunResult, 1);
    r->scenario = g_strdup("made");
    r->file = g_strdup("made.xml");
    r->seed = 7;
    r->duration = r->end_time = DSIM_S(2);
    r->n_nodes = 3;
    r->groups = g_array_new(FALSE, TRUE, sizeof(DsimResultGroup));
    r->verdicts = g_array_new(FALSE, TRUE, sizeof(DsimVerdict));
    r->metrics = g_array_new(FALSE, TRUE, sizeof(DsimMetricStat));
    DsimRunData *d = r->data = g_new0(DsimRunData, 1);
    d->n_nodes = 3;
    d->node_names = g_strsplit("r1 r2 r3", " ", -1);
    d->node_groups = g_strsplit("r r r", " ", -1);
    d->node_protocols = g_strsplit("raft raft raft", " ", -1);
    d->timeline = g_array_new(FALSE, TRUE, sizeof(DsimTimelineRow));
    d->messages = g_array_new(FALSE, TRUE, sizeof(DsimMessageRow));
    d->faults = g_array_new(FALSE, TRUE, sizeof(DsimFaultRow));
    d->series = g_ptr_array_new();
    d->strings = g_string_chunk_new(64);
    d->window_to = DSIM_S(2);
    d->window_closed = DSIM_TIME_NEVER;
    for (uint32_t i = 0; i < 3; i++)
        row(d, 0, i, DSIM_NODE_UP, DSIM_ROLE_FOLLOWER, 0, 0);
    row(d, DSIM_MS(150), 0, DSIM_NODE_UP, DSIM_ROLE_CANDIDATE, 1, 0);
    row(d, DSIM_MS(160), 0, DSIM_NODE_UP, DSIM_ROLE_LEADER, 1, 0);
    row(d, DSIM_MS(160), 1, DSIM_NODE_UP, DSIM_ROLE_FOLLOWER, 1, 0);
    row(d, DSIM_MS(500), 0, DSIM_NODE_UP, DSIM_ROLE_LEADER, 1, 3); /* same stretch of role */
    row(d, DSIM_MS(510), 1, DSIM_NODE_UP, DSIM_ROLE_FOLLOWER, 1, 3);
    row(d, DSIM_S(1), 0, DSIM_NODE_CRASHED, DSIM_ROLE_NONE, 0, 0);
    row(d, DSIM_MS(1500), 1, DSIM_NODE_UP, DSIM_ROLE_LEADER, 2, 3);
    d->traffic = g_array_new(FALSE, TRUE, sizeof(DsimTrafficBin));
    for (unsigned i = 0; i < 4; i++) {
        DsimTrafficBin b = { .start = DSIM_MS(500) * i, .end = DSIM_MS(500) * (i + 1), .sent = 10 * i,
                             .delivered = 9 * i, .dropped = i, .ops_ok = i };
        g_array_append_val(d->traffic, b);
    }
    DsimSeries *s = g_new0(DsimSeries, 1);
    s->name = g_strdup("client_latency_seconds");
    s->count = 4;
    s->samples = g_array_new(FALSE, FALSE, sizeof(DsimSample));
    const double v[] = { 0.3, 0.1, 0.4, 0.2 };
    for (unsigned i = 0; i < 4; i++) {
        DsimSample x = { .time = DSIM_MS(100) * (i + 1), .node = "r1", .value = v[i] };
        g_array_append_val(s->samples, x);
    }
    g_ptr_array_add(d->series, s);
    return r;
}

static char *names_of(const DsimRunResult *r)
{
    g_autoptr(GPtrArray) names = dsim_report_plot_names(r);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(" ", (char **) names->pdata);
}

static void test_plot_names_follow_what_the_run_reports(void)
{
    g_autoptr(DsimRunResult) made = made_run();
    g_autofree char *a = names_of(made);
    CU_ASSERT_STRING_EQUAL(a, "leader-timeline term commit-index node-status messages throughput "
                              "metric-client_latency_seconds cdf-client_latency_seconds");
    g_autoptr(DsimRunResult) tiny = reports_run(tiny_xml, false, 0, 0);
    g_autofree char *b = names_of(tiny);
    CU_ASSERT_STRING_EQUAL(b, "node-status messages metric-pingpong_done");
}

static void test_report_plots_selects_by_name_and_family(void)
{
    g_autoptr(DsimRunResult) r = made_run();
    r->data->plots = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(r->data->plots, g_strdup("leader-timeline"));
    g_ptr_array_add(r->data->plots, g_strdup("latency-cdf"));
    g_autofree char *a = names_of(r);
    CU_ASSERT_STRING_EQUAL(a, "leader-timeline cdf-client_latency_seconds");
    CU_ASSERT_TRUE(dsim_report_plot_name_known("messages"));
    CU_ASSERT_TRUE(dsim_report_plot_name_known("metrics"));
    CU_ASSERT_TRUE(dsim_report_plot_name_known("metric-anything"));
    CU_ASSERT_FALSE(dsim_report_plot_name_known("metric-"));
    CU_ASSERT_FALSE(dsim_report_plot_name_known("pie-chart"));
}

static char *write_made(bool *rendered, GString *notes)
{
    g_autoptr(DsimRunResult) r = made_run();
    char *dir = g_dir_make_tmp("dsim-plots-XXXXXX", NULL);
    DsimPlotOptions opt = { .gnuplot = "/nonexistent/gnuplot" };
    g_autoptr(GError) error = NULL;
    CU_ASSERT_TRUE(dsim_report_write_plots(r, dir, &opt, rendered, notes, &error));
    return dir;
}

static void test_leader_timeline_data_and_script(void)
{
    bool rendered = true;
    g_autoptr(GString) notes = g_string_new(NULL);
    char *dir = write_made(&rendered, notes);
    g_autofree char *dat = reports_read(dir, "plots/leader-timeline.dat");
    CU_ASSERT_TRUE(reports_same_text("leader-timeline.dat",
        "# lane\tstart_s\tend_s\tcolour\tstatus\trole\tterm\n"
        "2\t0.000000000\t0.150000000\t10931939\tup\tfollower\t0\n"
        "2\t0.150000000\t0.160000000\t16629615\tup\tcandidate\t1\n"
        "2\t0.160000000\t1.000000000\t14883356\tup\tleader\t1\n"
        "2\t1.000000000\t2.000000000\t4210752\tcrashed\tnone\t0\n"
        "1\t0.000000000\t0.160000000\t10931939\tup\tfollower\t0\n"
        "1\t0.160000000\t1.500000000\t10931939\tup\tfollower\t1\n"
        "1\t1.500000000\t2.000000000\t14883356\tup\tleader\t2\n"
        "0\t0.000000000\t2.000000000\t10931939\tup\tfollower\t0\n", dat));
    g_autofree char *gp = reports_read(dir, "plots/leader-timeline.gp");
    CU_ASSERT_TRUE(reports_same_text("leader-timeline.gp",
        "# leader-timeline.gp - Role of each node over time (leader labels show the term)\n"
        "# dsim run of made, seed 7; the data is leader-timeline.dat.\n"
        "# Render it from this folder: gnuplot leader-timeline.gp (SVG), gnuplot -e \"fmt='png'\" leader-timeline.gp (PNG).\n"
        "reset\n"
        "if (!exists(\"fmt\")) fmt = \"svg\"\n"
        "if (fmt eq \"png\") {\n"
        "    set terminal pngcairo size 900,204 noenhanced font \"sans,10\" background rgb \"white\"\n"
        "    set output \"leader-timeline.png\"\n"
        "} else {\n"
        "    set terminal svg size 900,204 noenhanced font \"sans,11\" background rgb \"white\"\n"
        "    set output \"leader-timeline.svg\"\n"
        "}\n"
        "set title \"Role of each node over time (leader labels show the term)\"\n"
        "set grid\n"
        "set border 3\n"
        "set tics nomirror\n"
        "set yrange [-0.6:2.6]\n"
        "set ytics (\"r1\" 2, \"r2\" 1, \"r3\" 0)\n"
        "set grid noytics\n"
        "set key outside right top\n"
        "set xlabel \"virtual time (s)\"\n"
        "set xrange [0:2.000000000]\n"
        "plot \"leader-timeline.dat\" using 2:1:($3-$2):(0):4 with vectors nohead lw 14 lc rgb variable notitle, \\\n"
        "     \"leader-timeline.dat\" using (($2+$3)/2):1:(stringcolumn(6) eq \"leader\" ? sprintf(\"t%d\", $7) : \"\") with labels textcolor rgb \"white\" notitle, \\\n"
        "     NaN with lines lw 8 lc rgb \"#e31a1c\" title \"leader\", \\\n"
        "     NaN with lines lw 8 lc rgb \"#fdbf6f\" title \"candidate\", \\\n"
        "     NaN with lines lw 8 lc rgb \"#a6cee3\" title \"follower\", \\\n"
        "     NaN with lines lw 8 lc rgb \"#b0b0b0\" title \"no role\", \\\n"
        "     NaN with lines lw 8 lc rgb \"#404040\" title \"crashed\"\n"
        "unset output\n", gp));
    reports_cleanup(dir);
}

static void test_commit_index_cdf_and_counts_data(void)
{
    bool rendered = true;
    g_autoptr(GString) notes = g_string_new(NULL);
    char *dir = write_made(&rendered, notes);
    g_autofree char *ci = reports_read(dir, "plots/commit-index.dat");
    CU_ASSERT_TRUE(reports_same_text("commit-index.dat",
        "# r1: time_s\tcommit_index\n"
        "0.000000000\t0\n0.500000000\t3\n1.000000000\t0\n2.000000000\t0\n"
        "\n\n# r2: time_s\tcommit_index\n"
        "0.000000000\t0\n0.510000000\t3\n2.000000000\t3\n"
        "\n\n# r3: time_s\tcommit_index\n"
        "0.000000000\t0\n2.000000000\t0\n", ci));
    g_autofree char *term = reports_read(dir, "plots/term.dat");
    CU_ASSERT_TRUE(g_str_has_prefix(term,
        "# r1: time_s\tterm\n"
        "0.000000000\t0\n0.150000000\t1\n0.160000000\t1\n1.000000000\t0\n2.000000000\t0\n"
        "\n\n# r2: time_s\tterm\n0.000000000\t0\n0.160000000\t1\n1.500000000\t2\n2.000000000\t2\n"));
    g_autofree char *cdf = reports_read(dir, "plots/cdf-client_latency_seconds.dat");
    CU_ASSERT_TRUE(reports_same_text("cdf-client_latency_seconds.dat",
        "# value\tfraction_at_or_below\n0.1\t0.250000\n0.2\t0.500000\n0.3\t0.750000\n0.4\t1.000000\n", cdf));
    g_autofree char *cdf_gp = reports_read(dir, "plots/cdf-client_latency_seconds.gp");
    CU_ASSERT_PTR_NOT_NULL(strstr(cdf_gp, "set title \"CDF of client_latency_seconds (n=4, median 0.2, p99 0.4, max 0.4)\""));
    g_autofree char *msg = reports_read(dir, "plots/messages.dat");
    CU_ASSERT_TRUE(reports_same_text("messages.dat",
        "# start_s\tend_s\tsent_per_s\tdelivered_per_s\tdropped_per_s\n"
        "0.000000000\t0.500000000\t0.000000\t0.000000\t0.000000\n"
        "0.500000000\t1.000000000\t20.000000\t18.000000\t2.000000\n"
        "1.000000000\t1.500000000\t40.000000\t36.000000\t4.000000\n"
        "1.500000000\t2.000000000\t60.000000\t54.000000\t6.000000\n", msg));
    g_autofree char *metric = reports_read(dir, "plots/metric-client_latency_seconds.dat");
    CU_ASSERT_TRUE(g_str_has_prefix(metric, "# time_s\tvalue\tnode\n0.100000000\t0.3\tr1\n"));
    reports_cleanup(dir);
}

static void test_without_gnuplot_the_data_and_scripts_stay(void)
{
    bool rendered = true;
    g_autoptr(GString) notes = g_string_new(NULL);
    char *dir = write_made(&rendered, notes);
    CU_ASSERT_FALSE(rendered);
    CU_ASSERT_PTR_NOT_NULL(strstr(notes->str, "gnuplot not found"));
    CU_ASSERT_PTR_NOT_NULL(strstr(notes->str, "/plots && gnuplot *.gp"));
    CU_ASSERT_EQUAL(reports_count(notes->str, "\n"), 1);
    const char *names[] = { "leader-timeline", "term", "commit-index", "node-status", "messages",
                            "throughput", "metric-client_latency_seconds", "cdf-client_latency_seconds" };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *gp = g_strdup_printf("%s/plots/%s.gp", dir, names[i]);
        g_autofree char *dat = g_strdup_printf("%s/plots/%s.dat", dir, names[i]);
        g_autofree char *svg = g_strdup_printf("%s/plots/%s.svg", dir, names[i]);
        CU_ASSERT_TRUE(g_file_test(gp, G_FILE_TEST_EXISTS));
        CU_ASSERT_TRUE(g_file_test(dat, G_FILE_TEST_EXISTS));
        CU_ASSERT_FALSE(g_file_test(svg, G_FILE_TEST_EXISTS));
    }
    reports_cleanup(dir);
}

/* ---- gossip and SWIM: a real run of scenarios/gossip/push.xml (1000 members, fan-out 3,
 * period 1 s) and of swim-crash.xml ------------------------------------------------------- */

static char *write_run(const DsimRunResult *r)
{
    char *dir = g_dir_make_tmp("dsim-plots-XXXXXX", NULL);
    DsimPlotOptions opt = { .gnuplot = "/nonexistent/gnuplot" };
    bool rendered = true;
    g_autoptr(GString) notes = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    CU_ASSERT_TRUE(dsim_report_write_plots(r, dir, &opt, &rendered, notes, &error));
    return dir;
}

static void test_informed_fraction_data_and_script(void)
{
    g_autoptr(DsimRunResult) r = reports_run("scenarios/gossip/push.xml", false, 0, 0);
    g_autofree char *names = names_of(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(names, " informed-fraction "));
    CU_ASSERT_PTR_NULL(strstr(names, "swim-detection"));
    char *dir = write_run(r);
    g_autofree char *dat = reports_read(dir, "plots/informed-fraction.dat");
    /* the measured steps: from 0, one row per member, the origin first, the last at 1 */
    CU_ASSERT_TRUE(g_str_has_prefix(dat, "# measured: seconds_since_injection\tfraction_informed (of 1000 members x 1 update)\n"
                                         "0\t0.000000\n0\t0.001000\n"));
    g_auto(GStrv) blocks = g_strsplit(dat, "\n\n\n", -1);
    CU_ASSERT_EQUAL(g_strv_length(blocks), 2);
    if (g_strv_length(blocks) == 2) {
        CU_ASSERT_EQUAL(reports_count(blocks[0], "\n"), 1 + 1 + 1000 - 1);
        CU_ASSERT_TRUE(g_str_has_suffix(blocks[0], "\t1.000000"));
        /* the mean-field recurrence i' = 1 - (1 - i) exp(-3 i) from 1/1000, per 1 s period,
         * until fewer than half a member is left */
        CU_ASSERT_TRUE(reports_same_text("informed-fraction.dat theory",
            "# mean-field push: seconds (round x period)\tfraction_informed\n"
            "0\t0.001000\n1\t0.003993\n2\t0.015851\n3\t0.061555\n4\t0.219794\n"
            "5\t0.596499\n6\t0.932598\n7\t0.995892\n8\t0.999793\n", blocks[1]));
    }
    g_autofree char *gp = reports_read(dir, "plots/informed-fraction.gp");
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set title \"Fraction of members informed (N=1000, push, fan-out 3, period 1 s) and the mean-field theory\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp,
        "set arrow from 7.28547724, graph 0 to 7.28547724, graph 1 nohead dt 2 lw 1.5 lc rgb \"#e31a1c\"\n"
        "set label \"predicted_rounds = 7.29 (7.29 s)\" at 7.28547724, graph 0.5 right offset -0.5,0 textcolor rgb \"#e31a1c\"\n"
        "set xlabel \"seconds since the update was injected\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp,
        "plot \"informed-fraction.dat\" index 0 using 1:2 with steps lw 2 lc rgb \"#1f78b4\" title \"measured\", \\\n"
        "     \"informed-fraction.dat\" index 1 using 1:2 with steps lw 2 dt 3 lc rgb \"#33a02c\" title \"mean-field push i' = 1 - (1 - i) exp(-k i)\", \\\n"
        "     NaN with lines dt 2 lw 1.5 lc rgb \"#e31a1c\" title \"predicted_rounds (closed form)\"\n"
        "unset output\n"));
    reports_cleanup(dir);

    /* without the scenario file the fan-out and period are unknown: no theoretical curve */
    g_free(r->file);
    r->file = g_strdup("/nonexistent/push.xml");
    dir = write_run(r);
    g_autofree char *dat2 = reports_read(dir, "plots/informed-fraction.dat");
    CU_ASSERT_PTR_NULL(strstr(dat2, "mean-field"));
    g_autofree char *gp2 = reports_read(dir, "plots/informed-fraction.gp");
    CU_ASSERT_PTR_NOT_NULL(strstr(gp2, "set title \"Fraction of members informed over time (N=1000)\"\n"));
    CU_ASSERT_PTR_NULL(strstr(gp2, "index 1"));
    reports_cleanup(dir);
}

static void test_swim_detection_data_and_script(void)
{
    g_autoptr(DsimRunResult) r = reports_run("scenarios/gossip/swim-crash.xml", false, 0, 0);
    g_autofree char *names = names_of(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(names, "swim-detection"));
    CU_ASSERT_PTR_NULL(strstr(names, "informed-fraction"));
    char *dir = write_run(r);
    g_autofree char *dat = reports_read(dir, "plots/swim-detection.dat");
    g_auto(GStrv) blocks = g_strsplit(dat, "\n\n\n", -1);
    CU_ASSERT_EQUAL(g_strv_length(blocks), 3);
    if (g_strv_length(blocks) == 3) {
        CU_ASSERT_TRUE(g_str_has_prefix(blocks[0], "# confirmations: time_s\tordinal\tnode\n"));
        CU_ASSERT_TRUE(g_str_has_prefix(blocks[1], "# dead known: time_s\tmembers_informed_of_a_death (running count)\n0.000000000\t0\n"));
        CU_ASSERT_TRUE(g_str_has_prefix(blocks[2], "# false positives: time_s\tnode\n"));
    }
    g_autofree char *gp = reports_read(dir, "plots/swim-detection.gp");
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set title \"SWIM detection: first confirmation at "));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "\"swim-detection.dat\" index 2 using 1:(0) with points pt 2 ps 1.5 lw 2 lc rgb \"#e31a1c\" title \"false positive\"\n"));
    reports_cleanup(dir);
}

/* gnuplot's SVG is checked for form only: it must parse as XML and have drawing in it. */
static void test_rendered_svg_files_are_well_formed_and_not_empty(void)
{
    g_autoptr(DsimRunResult) r = reports_run("scenarios/broadcast/partition-heal.xml", false, 0, 0);
    g_autoptr(DsimRunResult) made = made_run();
    g_autoptr(DsimRunResult) push = reports_run("scenarios/gossip/push.xml", false, 0, 0);
    g_autoptr(DsimRunResult) swim = reports_run("scenarios/gossip/swim-crash.xml", false, 0, 0);
    const DsimRunResult *runs[] = { r, made, push, swim };
    for (size_t k = 0; k < G_N_ELEMENTS(runs); k++) {
        char *dir = g_dir_make_tmp("dsim-plots-XXXXXX", NULL);
        DsimPlotOptions opt = { .png = k == 0 };
        bool rendered = false;
        g_autoptr(GString) notes = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        CU_ASSERT_TRUE(dsim_report_write_plots(runs[k], dir, &opt, &rendered, notes, &error));
        if (!rendered && strstr(notes->str, "not found") != NULL) {
            printf("\n  SKIP: %s", notes->str);
            reports_cleanup(dir);
            return;
        }
        CU_ASSERT_TRUE(rendered);
        if (!rendered)
            printf("\n%s", notes->str);
        g_autoptr(GPtrArray) names = dsim_report_plot_names(runs[k]);
        CU_ASSERT_TRUE(names->len >= 4);
        for (unsigned i = 0; i < names->len; i++) {
            g_autofree char *svg = g_strdup_printf("%s/plots/%s.svg", dir, (char *) g_ptr_array_index(names, i));
            xmlDoc *doc = xmlReadFile(svg, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
            CU_ASSERT_PTR_NOT_NULL(doc);
            if (doc == NULL) {
                printf("\n%s: not well-formed\n", svg);
                continue;
            }
            xmlNode *root = xmlDocGetRootElement(doc);
            CU_ASSERT_STRING_EQUAL((const char *) root->name, "svg");
            unsigned elements = 0;
            for (xmlNode *n = root->children; n != NULL; n = n->next)
                elements += n->type == XML_ELEMENT_NODE;
            CU_ASSERT_TRUE(elements > 2);
            xmlFreeDoc(doc);
            if (opt.png) {
                g_autofree char *png = g_strdup_printf("%s/plots/%s.png", dir, (char *) g_ptr_array_index(names, i));
                g_autofree char *bytes = NULL;
                gsize len = 0;
                CU_ASSERT_TRUE(g_file_get_contents(png, &bytes, &len, NULL));
                CU_ASSERT_TRUE(len > 8 && memcmp(bytes, "\x89PNG", 4) == 0);
            }
        }
        reports_cleanup(dir);
    }
}

CU_TestInfo plots_tests[] = {
    { "plot names follow what the run reports", test_plot_names_follow_what_the_run_reports },
    { "report plots selects by name and family", test_report_plots_selects_by_name_and_family },
    { "leader timeline data and script", test_leader_timeline_data_and_script },
    { "commit index, cdf and message count data", test_commit_index_cdf_and_counts_data },
    { "informed fraction data and script (gossip push)", test_informed_fraction_data_and_script },
    { "swim detection data and script", test_swim_detection_data_and_script },
    { "without gnuplot the data and scripts stay", test_without_gnuplot_the_data_and_scripts_stay },
    { "rendered svg files are well-formed and not empty", test_rendered_svg_files_are_well_formed_and_not_empty },
    CU_TEST_INFO_NULL,
};
