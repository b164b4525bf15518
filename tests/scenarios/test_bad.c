/* test_bad.c - every file under tests/bad/ must be refused with its exact one-line message.
 *
 * tests/bad/NAME.xml is a scenario with one mistake; tests/bad/NAME.expect holds the line
 * `dsim validate tests/bad/NAME.xml` prints, run from the top of the source tree. The test
 * loads each file by that same relative path (after moving to the source tree), so the
 * FILE:LINE prefix matches too. Inputs too large to commit (a 100 MB file, nesting 100000
 * deep) are generated here, in a temporary folder.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim/scenario.h"
#include "tests/lib/testutil.h"
#include "tests/scenarios/tests.h"

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The names of the tests/bad/ XML files without the extension, sorted so the run reads the same on
 * every machine. */
static GPtrArray *bad_names(void)
{
    g_autofree char *dir = testutil_srcpath("tests/bad");
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *entry;

    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    while ((entry = g_dir_read_name(d)) != NULL) {
        if (g_str_has_suffix(entry, ".xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    }
    g_dir_close(d);
    g_ptr_array_sort(names, by_name);
    return names;
}

/* Runs @body with the source tree as the current folder, then returns to where it was. */
static void in_srcdir(void (*body)(void))
{
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *top = testutil_srcpath(".");
    CU_ASSERT_EQUAL_FATAL(g_chdir(top), 0);
    body();
    CU_ASSERT_EQUAL(g_chdir(cwd), 0);
}

static void check_every_bad_file(void)
{
    g_autoptr(GPtrArray) names = bad_names();
    CU_ASSERT(names->len >= 18);

    for (unsigned i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *path = g_strdup_printf("tests/bad/%s.xml", name);
        g_autofree char *expect_path = g_strdup_printf("tests/bad/%s.expect", name);
        g_autofree char *expected = NULL;
        GError *error = NULL;

        if (!g_file_get_contents(expect_path, &expected, NULL, NULL)) {
            printf("\n==> %s has no %s\n", path, expect_path);
            CU_FAIL("a bad file without its .expect");
            continue;
        }
        g_strchomp(expected);
        DsimScenario *sc = dsim_scenario_load_file(path, &error);
        if (sc != NULL) {
            printf("\n==> %s loaded without an error\n", path);
            CU_FAIL("a bad file was accepted");
            dsim_scenario_free(sc);
            continue;
        }
        if (strcmp(error->message, expected) != 0)
            printf("\n==> %s\n==> expected: %s\n==> actual:   %s\n", path, expected,
                   error->message);
        CU_ASSERT_STRING_EQUAL(error->message, expected);
        CU_ASSERT_EQUAL(error->domain, DSIM_SCENARIO_ERROR);
        g_error_free(error);
    }
}

static void test_every_bad_file_gets_its_exact_message(void)
{
    in_srcdir(check_every_bad_file);
}

static void check_every_expect_has_its_file(void)
{
    g_autoptr(GDir) d = g_dir_open("tests/bad", 0, NULL);
    const char *entry;

    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    while ((entry = g_dir_read_name(d)) != NULL) {
        if (!g_str_has_suffix(entry, ".expect"))
            continue;
        g_autofree char *base = g_strndup(entry, strlen(entry) - strlen(".expect"));
        g_autofree char *xml = g_strdup_printf("tests/bad/%s.xml", base);
        if (!g_file_test(xml, G_FILE_TEST_EXISTS))
            printf("\n==> tests/bad/%s has no %s\n", entry, xml);
        CU_ASSERT_TRUE(g_file_test(xml, G_FILE_TEST_EXISTS));
    }
}

static void test_every_expect_has_its_file(void)
{
    in_srcdir(check_every_expect_has_its_file);
}

/* A file of @size bytes in a new temporary folder (sparse: nothing is written). */
static char *sparse_file(const char *dir, const char *name, off_t size)
{
    char *path = g_build_filename(dir, name, NULL);
    int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    g_assert(fd >= 0);
    g_assert(ftruncate(fd, size) == 0);
    close(fd);
    return path;
}

static void test_a_100_mb_file_is_refused_before_it_is_read(void)
{
    g_autofree char *dir = g_dir_make_tmp("dsim-bad-XXXXXX", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    g_autofree char *path = sparse_file(dir, "huge.xml", (off_t) 100 * 1024 * 1024);
    g_autofree char *expected = g_strdup_printf("%s:1: file is 104857600 bytes; the limit is "
                                                "4194304", path);
    GError *error = NULL;

    CU_ASSERT_PTR_NULL(dsim_scenario_load_file(path, &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_STRING_EQUAL(error->message, expected);
    CU_ASSERT_TRUE(g_error_matches(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_IO));
    g_error_free(error);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_deep_nesting_is_refused(void)
{
    g_autofree char *dir = g_dir_make_tmp("dsim-bad-XXXXXX", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    g_autofree char *path = g_build_filename(dir, "deep.xml", NULL);
    GString *xml = g_string_new("<?xml version=\"1.0\"?>\n"
                                "<scenario name=\"deep\" seed=\"1\" duration=\"1s\">\n"
                                "  <group id=\"r\" protocol=\"broadcast\" count=\"1\"/>\n");
    for (unsigned i = 0; i < 100000; i++)
        g_string_append(xml, "<faults>");
    g_string_append_c(xml, '\n');
    for (unsigned i = 0; i < 100000; i++)
        g_string_append(xml, "</faults>");
    g_string_append(xml, "\n</scenario>\n");
    CU_ASSERT_TRUE_FATAL(g_file_set_contents(path, xml->str, (gssize) xml->len, NULL));
    g_string_free(xml, TRUE);

    g_autofree char *expected = g_strdup_printf("%s:4: XML is not well-formed: elements are "
                                                "nested too deep (the limit is 256 levels)",
                                                path);
    GError *error = NULL;
    CU_ASSERT_PTR_NULL(dsim_scenario_load_file(path, &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_STRING_EQUAL(error->message, expected);
    g_error_free(error);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_a_missing_file_is_an_io_error(void)
{
    GError *error = NULL;
    CU_ASSERT_PTR_NULL(dsim_scenario_load_file("/nonexistent/dsim/none.xml", &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_STRING_EQUAL(error->message,
                           "/nonexistent/dsim/none.xml: cannot read: No such file or directory");
    CU_ASSERT_TRUE(g_error_matches(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_IO));
    g_error_free(error);
}

CU_TestInfo bad_tests[] = {
    { "every bad file gets its exact message", test_every_bad_file_gets_its_exact_message },
    { "every expect has its file", test_every_expect_has_its_file },
    { "a 100 MB file is refused before it is read",
      test_a_100_mb_file_is_refused_before_it_is_read },
    { "deep nesting is refused", test_deep_nesting_is_refused },
    { "a missing file is an io error", test_a_missing_file_is_an_io_error },
    CU_TEST_INFO_NULL,
};
