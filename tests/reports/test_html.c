/* test_html.c - index.html and its space-time diagram: lanes, arrows, marks, and a page that
 * needs nothing outside its folder. (tests/reports/browser.sh opens it in a real browser.) */
#include <CUnit/CUnit.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "tests/reports/tests.h"

/* pingpong/basic.xml sends one message every 10 ms from 0 to 990 ms: the window 0..500ms
 * (both ends inclusive) holds the 51 sent at 0, 10, ..., 500 ms. */
static void test_one_lane_per_node_and_an_arrow_per_message_in_the_window(void)
{
    char *dir = reports_run_into("scenarios/pingpong/basic.xml", true, 0, DSIM_MS(500), "/nonexistent/gnuplot");
    g_autofree char *html = reports_read(dir, "index.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_EQUAL(reports_count(html, "<g class=\"lane\""), 2);
    CU_ASSERT_EQUAL(reports_count(html, "<g class=\"lane\" data-node=\"p1\">"), 1);
    CU_ASSERT_EQUAL(reports_count(html, "<g class=\"lane\" data-node=\"p2\">"), 1);
    CU_ASSERT_EQUAL(reports_count(html, "<line class=\"msg"), 51);
    CU_ASSERT_EQUAL(reports_count(html, "<line class=\"msg dropped\""), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<title>Ping seq=1\np1 \u2192 p2, sent 0s, delivered 10ms</title>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "From 0s to 500ms: 51 messages."));
    reports_cleanup(dir);
}

static void test_a_drop_ends_in_a_cross_and_a_crash_is_shaded(void)
{
    char *dir = reports_run_into(tiny_xml, false, 0, 0, "/nonexistent/gnuplot");
    g_autofree char *html = reports_read(dir, "index.html");
    CU_ASSERT_EQUAL(reports_count(html, "<line class=\"msg"), 5);
    CU_ASSERT_EQUAL(reports_count(html, "<line class=\"msg dropped\""), 1);
    CU_ASSERT_EQUAL(reports_count(html, "marker-end=\"url(#st-cross)\""), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "dropped on arrival (crashed) 30ms</title>"));
    CU_ASSERT_EQUAL(reports_count(html, "<rect class=\"crashed\""), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<title>p2 crashed from 15ms to 40ms</title>"));
    CU_ASSERT_EQUAL(reports_count(html, "<g class=\"fault\">"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<title>15ms (event 2): crash p2 (p2) [line 9]</title>"));
    /* the plots are listed with their script and data even when not rendered */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<a href=\"plots/node-status.gp\">script</a>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "not rendered"));
    reports_cleanup(dir);
}

static void test_a_failed_check_is_in_the_table_and_on_the_diagram(void)
{
    /* b1 forgets a delivery in a crash and delivers again: event 68 at 0.4 s */
    char *dir = reports_run_into("scenarios/broadcast/crash-forgets.xml", false, 0, 0, "/nonexistent/gnuplot");
    g_autofree char *html = reports_read(dir, "index.html");
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<span class=\"verdict FAIL\">FAIL</span></h1>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr class=\"failed\">"));
    CU_ASSERT_EQUAL(reports_count(html, "<g class=\"failure\">"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<title>no-duplicate-delivery failed at event 68, 400ms: b1 delivered"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<td class=\"num\">68</td><td class=\"num\">400ms</td>"));
    reports_cleanup(dir);
}

static void test_the_page_needs_nothing_outside_its_folder(void)
{
    char *dir = reports_run_into("scenarios/broadcast/partition-heal.xml", false, 0, 0, NULL);
    g_autofree char *html = reports_read(dir, "index.html");
    CU_ASSERT_EQUAL(reports_count(html, "<script"), 0);
    /* the only absolute URL is the SVG namespace, which is a name, not a link */
    CU_ASSERT_EQUAL(reports_count(html, "http"), reports_count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
    CU_ASSERT_EQUAL(reports_count(html, "src=\"/"), 0);
    CU_ASSERT_EQUAL(reports_count(html, "href=\"/"), 0);
    CU_ASSERT_EQUAL(reports_count(html, "<g class=\"lane\""), 10);
    reports_cleanup(dir);
}

static void test_the_diagram_is_well_formed_svg(void)
{
    g_autoptr(DsimRunResult) r = reports_run("scenarios/broadcast/partition-heal.xml", false, 0, 0);
    g_autoptr(GString) svg = dsim_report_spacetime_svg(r, 0, DSIM_S(2));
    xmlDoc *doc = xmlReadMemory(svg->str, (int) svg->len, "spacetime.svg", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_STRING_EQUAL((const char *) xmlDocGetRootElement(doc)->name, "svg");
    xmlFreeDoc(doc);
    CU_ASSERT_TRUE(reports_count(svg->str, "<line class=\"msg dropped\"") > 0);
    CU_ASSERT_TRUE(reports_count(svg->str, "<rect class=\"cut\"") > 0);
}

static void test_dsim_report_redraws_the_same_page_and_plots(void)
{
    char *dir = reports_run_into("scenarios/broadcast/partition-heal.xml", false, 0, 0, "/nonexistent/gnuplot");
    g_autofree char *page = reports_read(dir, "index.html");
    g_autofree char *gp = reports_read(dir, "plots/messages.gp");
    g_autofree char *dat = reports_read(dir, "plots/cdf-broadcast_latency_seconds.dat");
    g_autoptr(GString) notes = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    DsimRenderOptions ro = { .gnuplot = "/nonexistent/gnuplot" };
    CU_ASSERT_TRUE_FATAL(dsim_report_render(dir, &ro, notes, &error));
    g_autofree char *page2 = reports_read(dir, "index.html");
    g_autofree char *gp2 = reports_read(dir, "plots/messages.gp");
    g_autofree char *dat2 = reports_read(dir, "plots/cdf-broadcast_latency_seconds.dat");
    CU_ASSERT_TRUE(reports_same_text("index.html", page, page2));
    CU_ASSERT_TRUE(reports_same_text("messages.gp", gp, gp2));
    CU_ASSERT_TRUE(reports_same_text("cdf data", dat, dat2));
    /* a narrower window: fewer arrows, and a note when it leaves the collected one */
    DsimRenderOptions narrow = { .gnuplot = "/nonexistent/gnuplot", .window_set = true,
                                 .from = DSIM_MS(500), .to = DSIM_MS(600) };
    CU_ASSERT_TRUE(dsim_report_render(dir, &narrow, notes, &error));
    g_autofree char *page3 = reports_read(dir, "index.html");
    CU_ASSERT_TRUE(reports_count(page3, "<line class=\"msg") < reports_count(page, "<line class=\"msg"));
    CU_ASSERT_PTR_NULL(strstr(notes->str, "spacetime:"));
    DsimRenderOptions wide = { .gnuplot = "/nonexistent/gnuplot", .window_set = true, .from = 0, .to = DSIM_S(5) };
    CU_ASSERT_TRUE(dsim_report_render(dir, &wide, notes, &error));
    CU_ASSERT_PTR_NOT_NULL(strstr(notes->str, "spacetime: the run kept the messages sent from 0s to 2s only"));
    reports_cleanup(dir);
}

static void test_a_capped_window_says_so(void)
{
    const char *xml =
        "<scenario name=\"many\" duration=\"10s\">\n"
        "  <network><latency>1ms</latency></network>\n"
        "  <group id=\"p\" protocol=\"pingpong\" count=\"2\"><param name=\"count\">6000</param></group>\n"
        "</scenario>\n";
    char *dir = reports_run_into(xml, true, 0, DSIM_S(10), "/nonexistent/gnuplot");
    g_autofree char *html = reports_read(dir, "index.html");
    CU_ASSERT_EQUAL(reports_count(html, "<line class=\"msg"), DSIM_REPORT_MAX_ARROWS);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<strong>Capped:</strong> the run kept the first 5000 messages"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "From 0s to 4.999s: 5000 messages."));
    reports_cleanup(dir);
}

static gint path_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The "done": every shipped scenario gets its page and its plots. */
static void test_every_shipped_scenario_gets_its_page_and_plots(void)
{
    g_autofree char *top = g_build_filename(g_getenv("DSIM_SRCDIR") != NULL ? g_getenv("DSIM_SRCDIR") : DSIM_SRCDIR,
                                            "scenarios", NULL);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(top, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const char *family;
    while ((family = g_dir_read_name(d)) != NULL) {
        g_autofree char *sub = g_build_filename(top, family, NULL);
        g_autoptr(GDir) d2 = g_dir_open(sub, 0, NULL);
        const char *name;
        while (d2 != NULL && (name = g_dir_read_name(d2)) != NULL) {
            if (g_str_has_suffix(name, ".xml"))
                g_ptr_array_add(files, g_strdup_printf("scenarios/%s/%s", family, name));
        }
    }
    g_ptr_array_sort(files, path_cmp);
    CU_ASSERT_TRUE(files->len >= 5);
    for (unsigned i = 0; i < files->len; i++) {
        const char *rel = g_ptr_array_index(files, i);
        char *dir = reports_run_into(rel, false, 0, 0, NULL);
        g_autofree char *html = reports_read(dir, "index.html");
        g_autofree char *summary = reports_read(dir, "summary.tsv");
        CU_ASSERT_PTR_NOT_NULL_FATAL(html);
        const char *nodes = strstr(summary, "\nnodes\t");
        unsigned n = nodes != NULL ? (unsigned) g_ascii_strtoull(nodes + 7, NULL, 10) : 0;
        if (reports_count(html, "<g class=\"lane\"") != MIN(n, DSIM_REPORT_MAX_NODES)) {
            printf("\n%s: %u lanes for %u nodes\n", rel, reports_count(html, "<g class=\"lane\""), n);
            CU_FAIL("one lane per node");
        }
        g_autofree char *gp = reports_read(dir, "plots/node-status.gp");
        CU_ASSERT_PTR_NOT_NULL(gp);
        /* with gnuplot, every plot the page lists is rendered */
        g_autofree char *gnuplot = g_find_program_in_path("gnuplot");
        if (strstr(html, "not rendered") != NULL && gnuplot != NULL) {
            printf("\n%s: a plot was not rendered\n", rel);
            CU_FAIL("plots rendered");
        }
        reports_cleanup(dir);
    }
}

CU_TestInfo html_tests[] = {
    { "one lane per node and an arrow per message in the window", test_one_lane_per_node_and_an_arrow_per_message_in_the_window },
    { "a drop ends in a cross and a crash is shaded", test_a_drop_ends_in_a_cross_and_a_crash_is_shaded },
    { "a failed check is in the table and on the diagram", test_a_failed_check_is_in_the_table_and_on_the_diagram },
    { "the page needs nothing outside its folder", test_the_page_needs_nothing_outside_its_folder },
    { "the diagram is well-formed svg", test_the_diagram_is_well_formed_svg },
    { "dsim report redraws the same page and plots", test_dsim_report_redraws_the_same_page_and_plots },
    { "a capped window says so", test_a_capped_window_says_so },
    { "every shipped scenario gets its page and plots", test_every_shipped_scenario_gets_its_page_and_plots },
    CU_TEST_INFO_NULL,
};
