/* test_examples.c - every example scenario: loads, runs twice with the same trace hash, gives
 * the same hash with the event log on, and matches tests/expected.tsv (file, seed, verdict,
 * hash). A changed hash is a changed behaviour: regenerate the table on purpose with
 * `make update-golden` (DSIM_UPDATE_GOLDEN=1) and review the diff like code. */
#include <CUnit/CUnit.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sim/run.h"
#include "tests/lib/testutil.h"

typedef struct {
    char    *file;
    uint64_t seed;
    char    *verdict;
    char    *hash;
} Expected;

static gint path_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static GPtrArray *example_files(void)
{
    g_autofree char *top = testutil_srcpath("scenarios");
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) dir = g_dir_open(top, 0, NULL);
    g_assert(dir != NULL);
    const char *family;
    while ((family = g_dir_read_name(dir)) != NULL) {
        g_autofree char *sub = g_build_filename(top, family, NULL);
        if (!g_file_test(sub, G_FILE_TEST_IS_DIR))
            continue;
        g_autoptr(GDir) d2 = g_dir_open(sub, 0, NULL);
        const char *name;
        while ((name = g_dir_read_name(d2)) != NULL) {
            if (g_str_has_suffix(name, ".xml"))
                g_ptr_array_add(files, g_strdup_printf("scenarios/%s/%s", family, name));
        }
    }
    g_ptr_array_sort(files, path_cmp);
    return files;
}

static DsimRunResult *run_file(const char *rel, const char *events)
{
    g_autofree char *path = testutil_srcpath(rel);
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_file(path, &error);
    if (sc == NULL) {
        printf("\n%s\n", error->message);
        return NULL;
    }
    DsimRunOptions opt = { .events_path = events, .logging = events != NULL };
    DsimRunResult *r = dsim_run(sc, &opt, &error);
    g_assert(r != NULL);
    return r;
}

static void expected_free(gpointer p)
{
    Expected *e = p;
    g_free(e->file);
    g_free(e->verdict);
    g_free(e->hash);
    g_free(e);
}

static GHashTable *read_expected(void)
{
    g_autofree char *path = testutil_srcpath("tests/expected.tsv");
    g_autofree char *text = NULL;
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, expected_free);
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return t;
    gchar **lines = g_strsplit(text, "\n", -1);
    for (gchar **l = lines; *l != NULL; l++) {
        if (**l == '#' || **l == '\0')
            continue;
        gchar **f = g_strsplit(*l, "\t", -1);
        if (g_strv_length(f) == 4) {
            Expected *e = g_new0(Expected, 1);
            e->file = g_strdup(f[0]);
            e->seed = g_ascii_strtoull(f[1], NULL, 10);
            e->verdict = g_strdup(f[2]);
            e->hash = g_strdup(f[3]);
            g_hash_table_insert(t, e->file, e);
        }
        g_strfreev(f);
    }
    g_strfreev(lines);
    return t;
}

static void test_every_example_runs_twice_with_the_same_hash_and_expected_verdict(void)
{
    g_autoptr(GPtrArray) files = example_files();
    g_autoptr(GHashTable) expected = read_expected();
    bool update = g_getenv("DSIM_UPDATE_GOLDEN") != NULL;
    g_autoptr(GString) table = g_string_new("# scenario\tseed\tverdict\ttrace hash (make update-golden rewrites this file)\n");
    CU_ASSERT_TRUE(files->len >= 5);
    g_autofree char *tmpdir = g_dir_make_tmp("dsim-examples-XXXXXX", NULL);
    for (unsigned i = 0; i < files->len; i++) {
        const char *rel = g_ptr_array_index(files, i);
        g_autoptr(DsimRunResult) a = run_file(rel, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        g_autoptr(DsimRunResult) b = run_file(rel, NULL);
        g_autofree char *events = g_build_filename(tmpdir, "events.jsonl", NULL);
        g_autoptr(DsimRunResult) c = run_file(rel, events);
        g_unlink(events);
        CU_ASSERT_EQUAL(a->trace_hash, b->trace_hash);
        CU_ASSERT_EQUAL(a->trace_hash, c->trace_hash); /* observing changes nothing */
        g_autofree char *hash = dsim_hash_hex(a->trace_hash);
        const char *verdict = a->passed ? "PASS" : "FAIL";
        g_string_append_printf(table, "%s\t%" PRIu64 "\t%s\t%s\n", rel, a->seed, verdict, hash);
        if (update)
            continue;
        const Expected *e = g_hash_table_lookup(expected, rel);
        if (e == NULL) {
            printf("\n%s is not in tests/expected.tsv (run make update-golden)\n", rel);
            CU_FAIL("example missing from tests/expected.tsv");
            continue;
        }
        if (strcmp(e->verdict, verdict) != 0 || strcmp(e->hash, hash) != 0 || e->seed != a->seed) {
            printf("\n%s: expected %s %s seed %" PRIu64 ", got %s %s seed %" PRIu64 "\n", rel,
                   e->verdict, e->hash, e->seed, verdict, hash, a->seed);
            CU_FAIL("example differs from tests/expected.tsv");
        }
    }
    g_rmdir(tmpdir);
    if (update) {
        g_autofree char *path = testutil_srcpath("tests/expected.tsv");
        CU_ASSERT_TRUE(g_file_set_contents(path, table->str, -1, NULL));
        printf("\nrewrote %s\n", path);
    }
}

static void test_summary_json_is_the_same_bytes_for_the_same_seed(void)
{
    g_autoptr(DsimRunResult) a = run_file("scenarios/broadcast/partition-heal.xml", NULL);
    g_autoptr(DsimRunResult) b = run_file("scenarios/broadcast/partition-heal.xml", NULL);
    g_autoptr(GString) ja = dsim_report_summary_json(a);
    g_autoptr(GString) jb = dsim_report_summary_json(b);
    CU_ASSERT_STRING_EQUAL(ja->str, jb->str);
    CU_ASSERT_PTR_NOT_NULL(strstr(ja->str, "\"trace_hash\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(ja->str, "\"verdict\": \"PASS\""));
}

CU_TestInfo examples_tests[] = {
    { "every example runs twice with the same hash and expected verdict", test_every_example_runs_twice_with_the_same_hash_and_expected_verdict },
    { "summary json is the same bytes for the same seed", test_summary_json_is_the_same_bytes_for_the_same_seed },
    CU_TEST_INFO_NULL,
};
