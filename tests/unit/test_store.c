/* test_store.c - durable storage: reads see the latest write; a crash that loses unsynced
 * writes leaves exactly what the last sync covered.
 *
 * Values are small strings so that a failing assertion reads like the story: "v1" was
 * synced, "v2" was not, the crash brings "v1" back.
 */
#include "tests/unit/tests.h"
#include "sim/store.h"

#include <string.h>

static void put_str(DsimStore *st, uint64_t key, const char *value)
{
    dsim_store_put(st, key, value, strlen(value));
}

/* Asserts that @key holds exactly @want, or is absent when @want is NULL. */
static void assert_value(const DsimStore *st, uint64_t key, const char *want)
{
    char buf[64] = { 0 };
    size_t len = 0;
    bool found = dsim_store_get(st, key, buf, sizeof buf - 1, &len);

    if (want == NULL) {
        if (found)
            g_printerr("\n  key %" PRIu64 ": expected absent, found \"%s\"", key, buf);
        CU_ASSERT_FALSE(found);
        return;
    }
    if (!found || len != strlen(want) || strcmp(buf, want) != 0)
        g_printerr("\n  key %" PRIu64 ": expected \"%s\", found %s\"%s\"", key, want,
                   found ? "" : "nothing, not ", buf);
    CU_ASSERT_TRUE(found);
    CU_ASSERT_EQUAL(len, strlen(want));
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_put_then_get_returns_a_copy_of_the_value(void)
{
    g_autoptr(DsimStore) st = dsim_store_new();
    char value[] = "term=3";

    CU_ASSERT_EQUAL(dsim_store_n_keys(st), 0);
    assert_value(st, 1, NULL);
    dsim_store_put(st, 1, value, strlen(value));
    value[5] = '9'; /* the store kept its own copy */
    assert_value(st, 1, "term=3");
    CU_ASSERT_EQUAL(dsim_store_n_keys(st), 1);

    /* Keys at both ends of uint64 are distinct keys. */
    put_str(st, 0, "zero");
    put_str(st, UINT64_MAX, "max");
    assert_value(st, 0, "zero");
    assert_value(st, UINT64_MAX, "max");
    assert_value(st, 1, "term=3");
    CU_ASSERT_EQUAL(dsim_store_n_keys(st), 3);
}

static void test_get_copies_at_most_the_buffer_and_reports_the_stored_length(void)
{
    g_autoptr(DsimStore) st = dsim_store_new();
    char buf[4] = { 'x', 'x', 'x', 'x' };
    size_t len = 0;

    put_str(st, 7, "abcdef");
    CU_ASSERT_TRUE(dsim_store_get(st, 7, buf, 3, &len));
    CU_ASSERT_EQUAL(len, 6);
    CU_ASSERT_EQUAL(memcmp(buf, "abcx", 4), 0);

    /* Asking only for the length, and storing an empty value. */
    CU_ASSERT_TRUE(dsim_store_get(st, 7, NULL, 0, &len));
    CU_ASSERT_EQUAL(len, 6);
    dsim_store_put(st, 8, NULL, 0);
    CU_ASSERT_TRUE(dsim_store_get(st, 8, buf, sizeof buf, &len));
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_TRUE(dsim_store_get(st, 8, NULL, 0, NULL));
}

static void test_overwrite_keeps_only_the_latest_value(void)
{
    g_autoptr(DsimStore) st = dsim_store_new();

    put_str(st, 1, "first");
    put_str(st, 1, "second, longer");
    assert_value(st, 1, "second, longer");
    put_str(st, 1, "3rd");
    assert_value(st, 1, "3rd");
    CU_ASSERT_EQUAL(dsim_store_n_keys(st), 1);
    CU_ASSERT_EQUAL(dsim_store_n_unsynced(st), 3);
}

static void test_synced_writes_survive_a_crash_that_loses_unsynced_ones(void)
{
    g_autoptr(DsimStore) st = dsim_store_new();

    put_str(st, 1, "term=1");
    put_str(st, 2, "vote=r2");
    dsim_store_sync(st);
    CU_ASSERT_EQUAL(dsim_store_n_unsynced(st), 0);

    CU_ASSERT_EQUAL(dsim_store_crash(st, true), 0);
    assert_value(st, 1, "term=1");
    assert_value(st, 2, "vote=r2");
    CU_ASSERT_EQUAL(dsim_store_n_keys(st), 2);
}

static void test_unsynced_writes_roll_back_to_the_last_synced_values(void)
{
    g_autoptr(DsimStore) st = dsim_store_new();

    put_str(st, 1, "term=1");
    put_str(st, 2, "vote=r2");
    dsim_store_sync(st);

    /* After the sync: key 1 written twice, key 2 once, key 3 and 4 created (4 twice). */
    put_str(st, 1, "term=2");
    put_str(st, 3, "log[1]");
    put_str(st, 1, "term=3");
    put_str(st, 2, "vote=r5");
    put_str(st, 4, "a");
    put_str(st, 4, "b");
    CU_ASSERT_EQUAL(dsim_store_n_unsynced(st), 6);
    CU_ASSERT_EQUAL(dsim_store_n_keys(st), 4);
    assert_value(st, 1, "term=3"); /* reads see the latest write before the crash */

    CU_ASSERT_EQUAL(dsim_store_crash(st, true), 6);
    assert_value(st, 1, "term=1");
    assert_value(st, 2, "vote=r2");
    assert_value(st, 3, NULL); /* did not exist at the sync: gone */
    assert_value(st, 4, NULL);
    CU_ASSERT_EQUAL(dsim_store_n_keys(st), 2);
    CU_ASSERT_EQUAL(dsim_store_n_unsynced(st), 0);

    /* The store works as before after the crash. */
    put_str(st, 3, "log[1]'");
    dsim_store_sync(st);
    put_str(st, 3, "lost");
    CU_ASSERT_EQUAL(dsim_store_crash(st, true), 1);
    assert_value(st, 3, "log[1]'");
}

static void test_a_crash_that_keeps_writes_keeps_everything(void)
{
    g_autoptr(DsimStore) st = dsim_store_new();

    put_str(st, 1, "term=1");
    dsim_store_sync(st);
    put_str(st, 1, "term=2");
    put_str(st, 9, "new");

    CU_ASSERT_EQUAL(dsim_store_crash(st, false), 0);
    assert_value(st, 1, "term=2");
    assert_value(st, 9, "new");
    CU_ASSERT_EQUAL(dsim_store_n_unsynced(st), 0);

    /* Those writes reached the disk: a later crash that loses writes cannot undo them. */
    CU_ASSERT_EQUAL(dsim_store_crash(st, true), 0);
    assert_value(st, 1, "term=2");
    assert_value(st, 9, "new");
}

static void test_counts_every_byte_written(void)
{
    g_autoptr(DsimStore) st = dsim_store_new();

    CU_ASSERT_EQUAL(dsim_store_bytes_written(st), 0);
    put_str(st, 1, "12345");
    dsim_store_sync(st);
    put_str(st, 1, "123");
    put_str(st, 2, "");
    CU_ASSERT_EQUAL(dsim_store_bytes_written(st), 8);
    dsim_store_crash(st, true); /* undone writes were still written */
    CU_ASSERT_EQUAL(dsim_store_bytes_written(st), 8);
    dsim_store_free(NULL);
}

CU_TestInfo store_tests[] = {
    { "put then get returns a copy of the value", test_put_then_get_returns_a_copy_of_the_value },
    { "get copies at most the buffer and reports the stored length",
      test_get_copies_at_most_the_buffer_and_reports_the_stored_length },
    { "overwrite keeps only the latest value", test_overwrite_keeps_only_the_latest_value },
    { "synced writes survive a crash that loses unsynced ones",
      test_synced_writes_survive_a_crash_that_loses_unsynced_ones },
    { "unsynced writes roll back to the last synced values",
      test_unsynced_writes_roll_back_to_the_last_synced_values },
    { "a crash that keeps writes keeps everything",
      test_a_crash_that_keeps_writes_keeps_everything },
    { "counts every byte written", test_counts_every_byte_written },
    CU_TEST_INFO_NULL,
};
