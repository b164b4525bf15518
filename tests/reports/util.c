/* util.c - helpers shared by the report tests (tests.h). */
#include "tests/reports/tests.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "sim/run.h"
#include "tests/lib/testutil.h"

const char tiny_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<scenario name=\"tiny\" seed=\"3\" duration=\"100ms\">\n"
    "  <network><latency>10ms</latency></network>\n"
    "  <group id=\"p\" protocol=\"pingpong\" count=\"2\">\n"
    "    <param name=\"count\">4</param>\n"
    "    <param name=\"retry\">25ms</param>\n"
    "  </group>\n"
    "  <faults>\n"
    "    <crash at=\"15ms\" node=\"p2\"/>\n"
    "    <restart at=\"40ms\" node=\"p2\"/>\n"
    "  </faults>\n"
    "</scenario>\n";

DsimRunResult *reports_run(const char *xml, bool window_set, DsimTime from, DsimTime to)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = NULL;
    if (g_str_has_suffix(xml, ".xml")) {
        g_autofree char *path = testutil_srcpath(xml);
        sc = dsim_scenario_load_file(path, &error);
    } else {
        sc = dsim_scenario_load_buffer(xml, strlen(xml), "test.xml", &error);
    }
    if (sc == NULL) {
        printf("\n%s\n", error->message);
        return NULL;
    }
    DsimRunOptions opt = {
        .collect = true, .spacetime_set = window_set, .spacetime_from = from, .spacetime_to = to,
    };
    DsimRunResult *r = dsim_run(sc, &opt, &error);
    g_assert(r != NULL && r->data != NULL);
    return r;
}

char *reports_run_into(const char *xml, bool window_set, DsimTime from, DsimTime to,
                       const char *gnuplot)
{
    g_autoptr(DsimRunResult) r = reports_run(xml, window_set, from, to);
    if (r == NULL)
        return NULL;
    char *dir = g_dir_make_tmp("dsim-reports-XXXXXX", NULL);
    g_assert(dir != NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) notes = g_string_new(NULL);
    DsimRenderOptions ro = { .gnuplot = gnuplot };
    if (!dsim_report_write_summary(r, dir, &error) || !dsim_report_write_data(r, dir, &error)
        || !dsim_report_render(dir, &ro, notes, &error)) {
        printf("\n%s\n", error->message);
        g_assert_not_reached();
    }
    return dir;
}

char *reports_read(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return text;
}

static void remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *name;
        while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
    }
    g_remove(path);
}

void reports_cleanup(char *dir)
{
    if (dir != NULL)
        remove_tree(dir);
    g_free(dir);
}

bool reports_same_text(const char *what, const char *expected, const char *actual)
{
    if (actual != NULL && strcmp(expected, actual) == 0)
        return true;
    printf("\n%s differs\n==> expected\n%s==> actual\n%s==> end\n", what, expected,
           actual != NULL ? actual : "(missing)\n");
    return false;
}

unsigned reports_count(const char *hay, const char *needle)
{
    unsigned n = 0;
    size_t len = strlen(needle);
    for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL; p += len)
        n++;
    return n;
}
