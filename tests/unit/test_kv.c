/* test_kv.c - the key-value state machine: operations, de-duplication, snapshots. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "algorithms/kv/kv.h"

static DsimStatus apply(KvStore *kv, KvOp op, uint32_t client, uint64_t seq, const char *key,
                        const char *value, const char *expected, GString *out)
{
    KvCommand c;
    kv_command_init(&c, op, client, seq, key, value, expected);
    return kv_store_apply(kv, &c, sizeof c, out);
}

static void test_put_append_get_and_cas_behave_as_a_map(void)
{
    g_autoptr(KvStore) kv = kv_store_new();
    g_autoptr(GString) r = g_string_new(NULL);
    CU_ASSERT_EQUAL(apply(kv, KV_OP_GET, 0, 1, "a", NULL, NULL, r), DSIM_STATUS_OK);
    CU_ASSERT_STRING_EQUAL(r->str, "");
    apply(kv, KV_OP_PUT, 0, 2, "a", "x", NULL, r);
    apply(kv, KV_OP_APPEND, 0, 3, "a", "y", NULL, r);
    CU_ASSERT_EQUAL(apply(kv, KV_OP_GET, 0, 4, "a", NULL, NULL, r), DSIM_STATUS_OK);
    CU_ASSERT_STRING_EQUAL(r->str, "xy");
    CU_ASSERT_EQUAL(apply(kv, KV_OP_CAS, 0, 5, "a", "z", "nope", r), DSIM_STATUS_FAIL);
    CU_ASSERT_EQUAL(apply(kv, KV_OP_CAS, 0, 6, "a", "z", "xy", r), DSIM_STATUS_OK);
    CU_ASSERT_STRING_EQUAL(kv_store_get(kv, "a"), "z");
    CU_ASSERT_EQUAL(apply(kv, KV_OP_CAS, 0, 7, "b", "1", "", r), DSIM_STATUS_OK); /* absent == "" */
    CU_ASSERT_STRING_EQUAL(kv_store_get(kv, "b"), "1");
    CU_ASSERT_EQUAL(kv_store_applied(kv), 7);
}

static void test_a_repeated_client_seq_is_answered_but_not_applied_again(void)
{
    g_autoptr(KvStore) kv = kv_store_new();
    g_autoptr(GString) r = g_string_new(NULL);
    apply(kv, KV_OP_APPEND, 3, 1, "k", "1;", NULL, r);
    apply(kv, KV_OP_APPEND, 3, 1, "k", "1;", NULL, r); /* the retry */
    CU_ASSERT_STRING_EQUAL(kv_store_get(kv, "k"), "1;");
    apply(kv, KV_OP_GET, 3, 2, "k", NULL, NULL, r);
    CU_ASSERT_STRING_EQUAL(r->str, "1;");
    apply(kv, KV_OP_GET, 3, 2, "k", NULL, NULL, r); /* a retried read returns the first answer */
    CU_ASSERT_STRING_EQUAL(r->str, "1;");
    CU_ASSERT_EQUAL(apply(kv, KV_OP_APPEND, 3, 1, "k", "1;", NULL, r), DSIM_STATUS_FAIL); /* stale */
    CU_ASSERT_STRING_EQUAL(kv_store_get(kv, "k"), "1;");
    apply(kv, KV_OP_APPEND, 4, 1, "k", "2;", NULL, r); /* another client's seq 1 is its own */
    CU_ASSERT_STRING_EQUAL(kv_store_get(kv, "k"), "1;2;");
}

static void test_the_digest_depends_on_the_order_applied(void)
{
    g_autoptr(KvStore) a = kv_store_new();
    g_autoptr(KvStore) b = kv_store_new();
    g_autoptr(GString) r = g_string_new(NULL);
    apply(a, KV_OP_PUT, 0, 1, "x", "1", NULL, r);
    apply(a, KV_OP_PUT, 1, 1, "x", "2", NULL, r);
    apply(b, KV_OP_PUT, 1, 1, "x", "2", NULL, r);
    apply(b, KV_OP_PUT, 0, 1, "x", "1", NULL, r);
    CU_ASSERT_NOT_EQUAL(kv_store_digest(a), kv_store_digest(b));
    g_autoptr(KvStore) c = kv_store_new();
    apply(c, KV_OP_PUT, 0, 1, "x", "1", NULL, r);
    apply(c, KV_OP_PUT, 1, 1, "x", "2", NULL, r);
    CU_ASSERT_EQUAL(kv_store_digest(a), kv_store_digest(c));
}

static void test_a_restored_snapshot_equals_the_store(void)
{
    g_autoptr(KvStore) kv = kv_store_new();
    g_autoptr(GString) r = g_string_new(NULL);
    for (uint64_t i = 1; i <= 50; i++) {
        char key[8], val[8];
        g_snprintf(key, sizeof key, "k%u", (unsigned) (i % 7));
        g_snprintf(val, sizeof val, "%u;", (unsigned) i);
        apply(kv, KV_OP_APPEND, (uint32_t) (i % 3), i, key, val, NULL, r);
    }
    g_autoptr(GBytes) snap = kv_store_snapshot(kv);
    g_autoptr(KvStore) copy = kv_store_new();
    CU_ASSERT_TRUE(kv_store_restore(copy, snap));
    CU_ASSERT_EQUAL(kv_store_digest(copy), kv_store_digest(kv));
    CU_ASSERT_EQUAL(kv_store_applied(copy), 50);
    CU_ASSERT_STRING_EQUAL(kv_store_get(copy, "k3"), kv_store_get(kv, "k3"));
    g_autoptr(GBytes) again = kv_store_snapshot(copy);
    CU_ASSERT_TRUE(g_bytes_equal(snap, again)); /* same bytes: no hash order inside */
    /* the session table came along: a retry of client 2's last seq is not applied again */
    apply(copy, KV_OP_APPEND, 2, 50, "k1", "50;", NULL, r);
    CU_ASSERT_STRING_EQUAL(kv_store_get(copy, "k1"), kv_store_get(kv, "k1"));
    g_autoptr(GBytes) cut = g_bytes_new_from_bytes(snap, 0, g_bytes_get_size(snap) - 3);
    g_autoptr(KvStore) bad = kv_store_new();
    CU_ASSERT_FALSE(kv_store_restore(bad, cut));
}

static void test_commands_print_for_traces(void)
{
    KvCommand c;
    kv_command_init(&c, KV_OP_CAS, 2, 7, "k3", "0.9", "0.4");
    g_autoptr(GString) s = g_string_new(NULL);
    kv_command_format(&c, sizeof c, s);
    CU_ASSERT_STRING_EQUAL(s->str, "cas k3 0.4->0.9 (c2#7)");
}

CU_TestInfo kv_tests[] = {
    { "put, append, get and cas behave as a map", test_put_append_get_and_cas_behave_as_a_map },
    { "a repeated client seq is answered but not applied again", test_a_repeated_client_seq_is_answered_but_not_applied_again },
    { "the digest depends on the order applied", test_the_digest_depends_on_the_order_applied },
    { "a restored snapshot equals the store", test_a_restored_snapshot_equals_the_store },
    { "commands print for traces", test_commands_print_for_traces },
    CU_TEST_INFO_NULL,
};
