/* test_lincheck.c - the linearizability checker on small histories written out in full.
 *
 * Each history is a few operations in EDN, JSON lines or a Jepsen log, short enough to check
 * by hand: two writers and a reader, an operation of unknown outcome, two keys of which one
 * is wrong. The comment above each says what a correct checker must conclude and why. The
 * real-world corpora (Porcupine's, Knossos') run in tests/lincheck/corpus.sh.
 */
#include "tests/unit/tests.h"
#include "sim/lincheck.h"
#include "sim/rng.h"

#include <string.h>

/* Parses @text (named "test") and checks it under @model; the history is left in *@hp. */
static DsimLinResult *check_opts(const char *text, const char *model, const DsimLinOptions *opt, DsimLinHistory **hp)
{
    g_autoptr(GError) error = NULL;
    const DsimLinModel *m = dsim_lin_model_find(model);
    g_assert(m != NULL);
    DsimLinHistory *h = dsim_lin_history_parse("test", text, strlen(text), &error);
    if (h == NULL)
        g_printerr("\n  parse: %s", error->message);
    g_assert(h != NULL);
    DsimLinResult *r = dsim_lin_check(h, m, opt, &error);
    if (r == NULL)
        g_printerr("\n  check: %s", error->message);
    g_assert(r != NULL);
    if (hp != NULL)
        *hp = h;
    else
        dsim_lin_history_free(h);
    return r;
}

static DsimLinVerdict verdict(const char *text, const char *model)
{
    g_autoptr(DsimLinResult) r = check_opts(text, model, NULL, NULL);
    return r->verdict;
}

/* ---- registers ------------------------------------------------------------------------ */

static void test_empty_histories_are_linearizable(void)
{
    CU_ASSERT_EQUAL(verdict("", "cas-register(init=0)"), DSIM_LIN_LINEARIZABLE);
    CU_ASSERT_EQUAL(verdict("  \n", "kv"), DSIM_LIN_LINEARIZABLE);
    CU_ASSERT_EQUAL(verdict("[]", "cas-register(init=0)"), DSIM_LIN_LINEARIZABLE);
    /* only nemesis events: nothing a client saw */
    CU_ASSERT_EQUAL(verdict("[{:process :nemesis, :type :info, :f :kill, :value nil}]", "cas-register(init=0)"),
                    DSIM_LIN_LINEARIZABLE);
}

/* Sequential: what was written is read; reading anything else is wrong. */
static void test_a_sequential_register(void)
{
    static const char good[] = "[{:process 0 :type :invoke :f :write :value 1}\n"
                               " {:process 0 :type :ok     :f :write :value 1}\n"
                               " {:process 1 :type :invoke :f :read  :value nil}\n"
                               " {:process 1 :type :ok     :f :read  :value 1}]";
    static const char bad[] = "[{:process 0 :type :invoke :f :write :value 1}\n"
                              " {:process 0 :type :ok     :f :write :value 1}\n"
                              " {:process 1 :type :invoke :f :read  :value nil}\n"
                              " {:process 1 :type :ok     :f :read  :value 2}]";
    CU_ASSERT_EQUAL(verdict(good, "cas-register(init=0)"), DSIM_LIN_LINEARIZABLE);
    DsimLinHistory *h;
    g_autoptr(DsimLinResult) r = check_opts(bad, "cas-register(init=0)", NULL, &h);
    CU_ASSERT_EQUAL(r->verdict, DSIM_LIN_NOT_LINEARIZABLE);
    /* the write fits; the read of 2 is what cannot be ordered */
    CU_ASSERT_EQUAL(r->prefix->len, 1);
    CU_ASSERT_STRING_EQUAL(r->state, "1");
    CU_ASSERT_EQUAL(r->pending->len, 1);
    const DsimLinOpRef *p = &g_array_index(r->pending, DsimLinOpRef, 0);
    CU_ASSERT_EQUAL(p->invoke, 2);
    CU_ASSERT_EQUAL(p->complete, 3);
    CU_ASSERT_STRING_EQUAL(p->note, "it read 2, but the register holds 1");
    CU_ASSERT_PTR_NULL(r->partition);
    g_autoptr(GString) out = g_string_new(NULL);
    dsim_lin_result_explain(r, h, 0, out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out->str, "process 1 read 2 (lines 3-4)"));
    dsim_lin_history_free(h);
}

/* A read concurrent with a write may see the old value or the new one, nothing else. */
static void test_a_read_concurrent_with_a_write(void)
{
    const char *fmt = "[{:process 0 :type :invoke :f :write :value 1}"
                      " {:process 0 :type :ok     :f :write :value 1}"
                      " {:process 0 :type :invoke :f :write :value 2}"
                      " {:process 1 :type :invoke :f :read  :value nil}"
                      " {:process 1 :type :ok     :f :read  :value %d}"
                      " {:process 0 :type :ok     :f :write :value 2}]";
    for (int v = 0; v <= 3; v++) {
        g_autofree char *text = g_strdup_printf(fmt, v);
        DsimLinVerdict want = v == 1 || v == 2 ? DSIM_LIN_LINEARIZABLE : DSIM_LIN_NOT_LINEARIZABLE;
        CU_ASSERT_EQUAL(verdict(text, "cas-register(init=0)"), want);
    }
}

/* Once a later read has seen the new value, an even later read may not see the old one. */
static void test_no_going_back(void)
{
    static const char text[] = "[{:process 0 :type :invoke :f :write :value 1}"
                               " {:process 1 :type :invoke :f :read :value nil}"
                               " {:process 1 :type :ok :f :read :value 1}"
                               " {:process 2 :type :invoke :f :read :value nil}"
                               " {:process 2 :type :ok :f :read :value 0}"
                               " {:process 0 :type :ok :f :write :value 1}]";
    CU_ASSERT_EQUAL(verdict(text, "cas-register(init=0)"), DSIM_LIN_NOT_LINEARIZABLE);
}

/* An operation of unknown outcome (info, or never completed) may take effect at any time
 * after its invocation, or never; but not before it was invoked. */
static void test_operations_of_unknown_outcome(void)
{
    const char *fmt = "[{:process 0 :type :invoke :f :write :value 1}"
                      " {:process 0 :type :ok :f :write :value 1}"
                      " %s"
                      " {:process 1 :type :invoke :f :write :value 2}"
                      " {:process 1 :type :info :f :write :value 2}"
                      " %s]";
    static const char r1[] = "{:process 2 :type :invoke :f :read :value nil} {:process 2 :type :ok :f :read :value 1}";
    static const char r2[] = "{:process 3 :type :invoke :f :read :value nil} {:process 3 :type :ok :f :read :value 2}";
    static const char r2r1[] = "{:process 3 :type :invoke :f :read :value nil} {:process 3 :type :ok :f :read :value 2}"
                               "{:process 2 :type :invoke :f :read :value nil} {:process 2 :type :ok :f :read :value 1}";
    static const struct {
        const char    *before, *after;
        DsimLinVerdict want;
    } cases[] = {
        { "", r2, DSIM_LIN_LINEARIZABLE },       /* it took effect */
        { "", r1, DSIM_LIN_LINEARIZABLE },       /* it never did (or not yet) */
        { "", r2r1, DSIM_LIN_NOT_LINEARIZABLE }, /* it took effect, then was undone? no */
        { r2, "", DSIM_LIN_NOT_LINEARIZABLE },   /* seen before it was invoked */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf(fmt, cases[i].before, cases[i].after);
        DsimLinVerdict got = verdict(text, "cas-register(init=0)");
        if (got != cases[i].want)
            g_printerr("\n  case %zu: verdict %d, wanted %d", i, got, cases[i].want);
        CU_ASSERT_EQUAL(got, cases[i].want);
        /* an invocation that never completes means the same as one completed by info */
        g_autofree char *open = g_strdup_printf(fmt, cases[i].before, cases[i].after);
        char *info = strstr(open, "{:process 1 :type :info :f :write :value 2}");
        g_assert(info != NULL);
        memset(info, ' ', strlen("{:process 1 :type :info :f :write :value 2}"));
        CU_ASSERT_EQUAL(verdict(open, "cas-register(init=0)"), cases[i].want);
    }
}

/* Knossos: a failed operation did not happen, and is left out. */
static void test_failed_operations_did_not_happen(void)
{
    static const char text[] = "[{:type :invoke, :process 1, :f :read, :value nil}"
                               " {:type :invoke, :process 101, :f :write, :value 3}"
                               " {:type :fail, :process 101, :f :write, :value 3}"
                               " {:type :ok, :process 1, :f :read, :value 3}]";
    CU_ASSERT_EQUAL(verdict(text, "cas-register(init=0)"), DSIM_LIN_NOT_LINEARIZABLE);
    /* and a read of nil tells nothing under Knossos' models */
    CU_ASSERT_EQUAL(verdict("[{:type :invoke, :process 1, :f :read, :value nil}"
                            " {:type :ok, :process 1, :f :read, :value nil}]", "cas-register(init=0)"),
                    DSIM_LIN_LINEARIZABLE);
}

/* Porcupine's etcd model: nil is "absent", and a failed cas says the register did not hold
 * the expected value. The log format is the Jepsen one of the etcd corpus. */
static void test_the_etcd_model(void)
{
    const char *fmt = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
                      "INFO  jepsen.util - 0\t:ok\t:write\t1\n"
                      "INFO  jepsen.core - some other logger line\n"
                      "INFO  jepsen.util - 1   :invoke :cas    [%d 2]\n"
                      "INFO  jepsen.util - 1   :fail   :cas    [%d 2]\n";
    g_autofree char *matching = g_strdup_printf(fmt, 1, 1);
    g_autofree char *other = g_strdup_printf(fmt, 3, 3);
    CU_ASSERT_EQUAL(verdict(matching, "etcd-cas-register"), DSIM_LIN_NOT_LINEARIZABLE);
    CU_ASSERT_EQUAL(verdict(other, "etcd-cas-register"), DSIM_LIN_LINEARIZABLE);
    /* Knossos would drop the failed cas */
    CU_ASSERT_EQUAL(verdict(matching, "cas-register(init=0)"), DSIM_LIN_LINEARIZABLE);

    static const char absent[] = "INFO  jepsen.util - 4\t:invoke\t:read\tnil\n"
                                 "INFO  jepsen.util - 4\t:ok\t:read\tnil\n";
    CU_ASSERT_EQUAL(verdict(absent, "etcd-cas-register"), DSIM_LIN_LINEARIZABLE);
    /* a timed-out read returns nothing (its result is unknown), and a timed-out write stays open */
    static const char timeouts[] = "INFO  jepsen.util - 1 :invoke :write 3\n"
                                   "INFO  jepsen.util - 2 :invoke :read nil\n"
                                   "INFO  jepsen.util - 2 :fail :read :timed-out\n"
                                   "INFO  jepsen.util - 1 :info :write :timed-out\n"
                                   "INFO  jepsen.util - 5 :invoke :read nil\n"
                                   "INFO  jepsen.util - 5 :ok :read 3\n";
    CU_ASSERT_EQUAL(verdict(timeouts, "etcd-cas-register"), DSIM_LIN_LINEARIZABLE);
}

static void test_cas_and_multi_register(void)
{
    static const char cas[] = "[{:process 0 :type :invoke :f :cas :value [0 5]}"
                              " {:process 0 :type :ok :f :cas :value [0 5]}"
                              " {:process 1 :type :invoke :f :cas :value [0 6]}"
                              " {:process 1 :type :ok :f :cas :value [0 6]}]";
    CU_ASSERT_EQUAL(verdict(cas, "cas-register(init=0)"), DSIM_LIN_NOT_LINEARIZABLE);
    CU_ASSERT_EQUAL(verdict(cas, "cas-register(init=nil)"), DSIM_LIN_NOT_LINEARIZABLE);

    const char *fmt = "[{:process 0 :type :invoke :f :txn :value [[:write :x 1] [:write :y 2]]}"
                      " {:process 0 :type :ok :f :txn :value [[:write :x 1] [:write :y 2]]}"
                      " {:process 1 :type :invoke :f :txn :value [[:read :x nil] [:read :y nil]]}"
                      " {:process 1 :type :ok :f :txn :value [[:read :x 1] [:read :y %d]]}]";
    g_autofree char *good = g_strdup_printf(fmt, 2);
    g_autofree char *torn = g_strdup_printf(fmt, 0); /* saw half the transaction */
    CU_ASSERT_EQUAL(verdict(good, "multi-register(x=0,y=0)"), DSIM_LIN_LINEARIZABLE);
    DsimLinHistory *h;
    g_autoptr(DsimLinResult) r = check_opts(torn, "multi-register(x=0,y=0)", NULL, &h);
    CU_ASSERT_EQUAL(r->verdict, DSIM_LIN_NOT_LINEARIZABLE);
    CU_ASSERT_STRING_EQUAL(r->state, "{:x 1, :y 2}");
    CU_ASSERT_STRING_EQUAL(g_array_index(r->pending, DsimLinOpRef, 0).note,
                           "its [:read :y 0] disagrees with the registers {:x 1, :y 2}, where y is 2");
    dsim_lin_history_free(h);
}

/* ---- key-value maps and partitions -------------------------------------------------------- */

/* Porcupine's kv format: one map per line; append concatenates. */
static void test_append_concatenates(void)
{
    const char *fmt = "{:process 0, :type :invoke, :f :append, :key \"a\", :value \"x 0 0 y\"}\n"
                      "{:process 1, :type :invoke, :f :append, :key \"a\", :value \"x 1 0 y\"}\n"
                      "{:process 0, :type :ok, :f :append, :key \"a\", :value \"x 0 0 y\"}\n"
                      "{:process 1, :type :ok, :f :append, :key \"a\", :value \"x 1 0 y\"}\n"
                      "{:process 2, :type :invoke, :f :get, :key \"a\", :value nil}\n"
                      "{:process 2, :type :ok, :f :get, :key \"a\", :value \"%s\"}\n";
    static const struct {
        const char    *read;
        DsimLinVerdict want;
    } cases[] = {
        { "x 0 0 yx 1 0 y", DSIM_LIN_LINEARIZABLE },
        { "x 1 0 yx 0 0 y", DSIM_LIN_LINEARIZABLE },
        { "x 1 0 y", DSIM_LIN_NOT_LINEARIZABLE }, /* both appends completed before the get */
        { "", DSIM_LIN_NOT_LINEARIZABLE },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf(fmt, cases[i].read);
        CU_ASSERT_EQUAL(verdict(text, "kv-get-put-append"), cases[i].want);
    }
}

/* Keys are checked one by one; the smallest failing one is reported. Key "b" has a stale
 * read in 2 operations, key "c" one in 3; key "a" is fine. */
static void test_the_smallest_failing_key_is_reported(void)
{
    static const char text[] =
        "{:process 0, :type :invoke, :f :put, :key \"a\", :value \"1\"}\n"
        "{:process 0, :type :ok, :f :put, :key \"a\", :value \"1\"}\n"
        "{:process 0, :type :invoke, :f :get, :key \"a\", :value nil}\n"
        "{:process 0, :type :ok, :f :get, :key \"a\", :value \"1\"}\n"
        "{:process 1, :type :invoke, :f :put, :key \"c\", :value \"1\"}\n"
        "{:process 1, :type :ok, :f :put, :key \"c\", :value \"1\"}\n"
        "{:process 1, :type :invoke, :f :put, :key \"c\", :value \"2\"}\n"
        "{:process 1, :type :ok, :f :put, :key \"c\", :value \"2\"}\n"
        "{:process 1, :type :invoke, :f :get, :key \"c\", :value nil}\n"
        "{:process 1, :type :ok, :f :get, :key \"c\", :value \"1\"}\n"
        "{:process 2, :type :invoke, :f :put, :key \"b\", :value \"1\"}\n"
        "{:process 2, :type :ok, :f :put, :key \"b\", :value \"1\"}\n"
        "{:process 2, :type :invoke, :f :get, :key \"b\", :value nil}\n"
        "{:process 2, :type :ok, :f :get, :key \"b\", :value \"\"}\n";
    DsimLinHistory *h;
    g_autoptr(DsimLinResult) r = check_opts(text, "kv-get-put-append", NULL, &h);
    CU_ASSERT_EQUAL(r->verdict, DSIM_LIN_NOT_LINEARIZABLE);
    CU_ASSERT_EQUAL(r->n_partitions, 3);
    CU_ASSERT_EQUAL(r->n_linearizable, 1);
    CU_ASSERT_STRING_EQUAL(r->partition, "key \"b\"");
    CU_ASSERT_EQUAL(r->partition_ops, 2);
    CU_ASSERT_EQUAL(r->n_ops, 7);
    CU_ASSERT_STRING_EQUAL(r->state, "\"1\"");
    g_autoptr(GString) out = g_string_new(NULL);
    dsim_lin_result_explain(r, h, 10, out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out->str, "key \"b\" (2 of 7 operations) is not linearizable"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out->str, "process 2 get \"b\" \"\" (lines 13-14)"));
    dsim_lin_history_free(h);
}

/* dsim's own history.jsonl: times in ns, a get of an absent key reads "" (or null). Two
 * operations that meet at the same instant count as concurrent. */
static void test_dsim_history_jsonl(void)
{
    const char *fmt =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"k1\",\"value\":\"v1\",\"time\":1000}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k1\",\"value\":null,\"time\":%d}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"put\",\"key\":\"k1\",\"value\":\"v1\",\"time\":5000}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k1\",\"value\":%s,\"time\":9000}\n"
        "{\"process\":2,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k2\",\"value\":[\"\",\"w\"],\"time\":9000}\n"
        "{\"process\":2,\"type\":\"ok\",\"f\":\"cas\",\"key\":\"k2\",\"value\":[\"\",\"w\"],\"time\":9500}\n";
    static const struct {
        int            invoked;
        const char    *read;
        DsimLinVerdict want;
    } cases[] = {
        { 2000, "\"\"", DSIM_LIN_LINEARIZABLE },       /* concurrent: may read before the put */
        { 2000, "null", DSIM_LIN_LINEARIZABLE },       /* null is the absent, empty value */
        { 5000, "\"\"", DSIM_LIN_LINEARIZABLE },       /* invoked as the put completed: concurrent */
        { 5001, "\"\"", DSIM_LIN_NOT_LINEARIZABLE },   /* invoked after: must see v1 */
        { 5001, "\"v1\"", DSIM_LIN_LINEARIZABLE },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf(fmt, cases[i].invoked, cases[i].read);
        DsimLinVerdict got = verdict(text, "kv");
        if (got != cases[i].want)
            g_printerr("\n  case %zu: verdict %d, wanted %d", i, got, cases[i].want);
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
    /* the register workload of dsim: read/write/cas, a register per key */
    static const char reg[] =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"r1\",\"value\":\"3\",\"time\":10}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":\"r1\",\"value\":\"3\",\"time\":20}\n"
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"r1\",\"value\":[\"3\",\"4\"],\"time\":30}\n"
        "{\"process\":0,\"type\":\"fail\",\"f\":\"cas\",\"key\":\"r1\",\"value\":[\"3\",\"4\"],\"time\":40}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"r2\",\"value\":null,\"time\":50}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"r2\",\"value\":\"\",\"time\":60}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"r1\",\"value\":null,\"time\":70}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"r1\",\"value\":\"3\",\"time\":80}\n";
    DsimLinHistory *h;
    g_autoptr(DsimLinResult) r = check_opts(reg, "register", NULL, &h);
    CU_ASSERT_EQUAL(r->verdict, DSIM_LIN_LINEARIZABLE);
    CU_ASSERT_EQUAL(r->n_partitions, 2);
    CU_ASSERT_EQUAL(r->n_ops, 3); /* the failed cas did not happen */
    CU_ASSERT_TRUE(h->timed);
    dsim_lin_history_free(h);
}

/* ---- limits --------------------------------------------------------------------------- */

/* @n concurrent writes of 1..n, then a read of a value nobody wrote: not linearizable, and
 * only the memo keeps the search from trying all n! orders of the writes. */
static char *many_writers(unsigned n)
{
    GString *s = g_string_new("[");
    for (unsigned i = 1; i <= n; i++)
        g_string_append_printf(s, "{:process %u :type :invoke :f :write :value %u}\n", i, i);
    for (unsigned i = 1; i <= n; i++)
        g_string_append_printf(s, "{:process %u :type :ok :f :write :value %u}\n", i, i);
    g_string_append(s, "{:process 0 :type :invoke :f :read :value nil} {:process 0 :type :ok :f :read :value 99}]");
    return g_string_free(s, FALSE);
}

static void test_memoization_keeps_it_polynomial(void)
{
    g_autofree char *text = many_writers(14);
    g_autoptr(DsimLinResult) r = check_opts(text, "cas-register(init=0)", NULL, NULL);
    CU_ASSERT_EQUAL(r->verdict, DSIM_LIN_NOT_LINEARIZABLE);
    /* 2^14 sets x 15 last values bound the memo; 14! = 87 billion orders would not finish */
    CU_ASSERT_TRUE(r->steps < 20u * 16384u * 15u);
    CU_ASSERT_EQUAL(r->prefix->len, 14);
}

static void test_a_step_limit_gives_unknown(void)
{
    g_autofree char *text = many_writers(10);
    DsimLinOptions opt = { .max_steps = 100 };
    DsimLinHistory *h;
    g_autoptr(DsimLinResult) r = check_opts(text, "cas-register(init=0)", &opt, &h);
    CU_ASSERT_EQUAL(r->verdict, DSIM_LIN_UNKNOWN);
    CU_ASSERT_EQUAL(r->steps, 100);
    CU_ASSERT_EQUAL(r->unfinished->len, 1);
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(r->unfinished, 0), "the whole history");
    g_autoptr(GString) out = g_string_new(NULL);
    dsim_lin_result_explain(r, h, 10, out);
    CU_ASSERT_STRING_EQUAL(out->str, "  0 of 1 partitions linearizable; not finished: the whole history\n");
    dsim_lin_history_free(h);
}

/* A clock that moves one second each time it is read. */
static int64_t fake_clock(void *data)
{
    int64_t *t = data;
    return *t += 1000000000;
}

static void test_a_time_limit_reads_the_given_clock(void)
{
    g_autofree char *text = many_writers(12);
    int64_t t = 0;
    DsimLinOptions opt = { .time_limit = 3000000000, .now = fake_clock, .now_data = &t };
    g_autoptr(DsimLinResult) r = check_opts(text, "cas-register(init=0)", &opt, NULL);
    CU_ASSERT_EQUAL(r->verdict, DSIM_LIN_UNKNOWN);
    /* read once at the start, then once every DSIM_LIN_CLOCK_EVERY steps */
    CU_ASSERT_EQUAL(r->steps, 3 * DSIM_LIN_CLOCK_EVERY);
    CU_ASSERT_EQUAL(t, 4000000000);
}

/* ---- against brute force ------------------------------------------------------------------ */

/* Random small histories, checked by the search and by trying every order. Up to three
 * processes have an operation in flight, on key k1 or k2, which completes ok, fail, info or
 * never; half the events happen at the same ns as the one before, so completions and
 * invocations often meet at the same instant (and so count as concurrent). */
typedef struct {
    int64_t call, ret; /* ret: INT64_MAX when the outcome is unknown */
    char    f;         /* 'g'et/read, 'p'ut/write, 'a'ppend, 'c'as */
    int     key;
    char    v[4], w[4]; /* argument or result; cas: expected v, new w */
} BruteOp;

typedef struct {
    BruteOp ops[8];
    int     n;
    bool    used[8];
    bool    in[8]; /* included (operations of unknown outcome may be left out) */
    char    state[2][16];
} Brute;

static bool brute_search(Brute *b, int placed, int want)
{
    if (placed == want)
        return true;
    for (int x = 0; x < b->n; x++) {
        if (!b->in[x] || b->used[x])
            continue;
        bool ready = true; /* nothing still to place completed before x was invoked */
        for (int y = 0; y < b->n && ready; y++)
            ready = !(b->in[y] && !b->used[y] && y != x && b->ops[y].ret < b->ops[x].call);
        if (!ready)
            continue;
        const BruteOp *op = &b->ops[x];
        char saved[16];
        char *st = b->state[op->key];
        g_strlcpy(saved, st, sizeof saved);
        bool legal = true;
        switch (op->f) {
        case 'g': legal = strcmp(st, op->v) == 0; break;
        case 'p': g_strlcpy(st, op->v, 16); break;
        case 'a': g_strlcat(st, op->v, 16); break;
        case 'c':
            legal = strcmp(st, op->v) == 0;
            if (legal)
                g_strlcpy(st, op->w, 16);
            break;
        }
        if (legal) {
            b->used[x] = true;
            bool found = brute_search(b, placed + 1, want);
            b->used[x] = false;
            g_strlcpy(st, saved, 16);
            if (found)
                return true;
        }
        g_strlcpy(st, saved, 16);
    }
    return false;
}

static bool brute_linearizable(Brute *b)
{
    int unknown[8], nu = 0, definite = 0;
    for (int x = 0; x < b->n; x++) {
        if (b->ops[x].ret == INT64_MAX)
            unknown[nu++] = x;
        else
            definite++;
    }
    for (int mask = 0; mask < (1 << nu); mask++) {
        for (int x = 0; x < b->n; x++)
            b->in[x] = b->ops[x].ret != INT64_MAX;
        int want = definite;
        for (int k = 0; k < nu; k++) {
            if (mask & (1 << k)) {
                b->in[unknown[k]] = true;
                want++;
            }
        }
        memset(b->state, 0, sizeof b->state);
        memset(b->used, 0, sizeof b->used);
        if (brute_search(b, 0, want))
            return true;
    }
    return false;
}

static const char *f_name(char f, bool kv)
{
    switch (f) {
    case 'g': return kv ? "get" : "read";
    case 'p': return kv ? "put" : "write";
    case 'a': return "append";
    default: return "cas";
    }
}

/* One line of history.jsonl; @v NULL writes null. */
static void append_event(GString *out, int64_t pid, const char *type, const BruteOp *op, bool kv, const char *v,
                         int64_t t)
{
    g_string_append_printf(out, "{\"process\":%" G_GINT64_FORMAT ",\"type\":\"%s\",\"f\":\"%s\",\"key\":\"k%d\",\"value\":",
                           pid, type, f_name(op->f, kv), op->key + 1);
    if (v == NULL)
        g_string_append(out, "null");
    else if (op->f == 'c')
        g_string_append_printf(out, "[\"%s\",\"%s\"]", op->v, op->w);
    else
        g_string_append_printf(out, "\"%s\"", v);
    g_string_append_printf(out, ",\"time\":%" G_GINT64_FORMAT "}\n", t);
}

/* Writes a random history of kv (get/put/append/cas) or register (read/write/cas)
 * operations as JSON lines into @out, and the operations that matter into @b. */
static void random_history(DsimRng *rng, bool kv, GString *out, Brute *b)
{
    static const char *const reads[] = { "", "a", "b", "ab", "ba" };
    static const char *const one[] = { "a", "b" };
    struct {
        bool    busy;
        int64_t pid;
        BruteOp op;
    } procs[3] = { { .pid = 0 }, { .pid = 1 }, { .pid = 2 } };
    int n_ops = 1 + (int) dsim_rng_below(rng, 6), started = 0;
    int64_t t = 0;
    b->n = 0;
    g_string_truncate(out, 0);
    for (;;) {
        int idle[3], n_idle = 0, busy[3], n_busy = 0;
        for (int p = 0; p < 3; p++) {
            if (procs[p].busy)
                busy[n_busy++] = p;
            else
                idle[n_idle++] = p;
        }
        if (started == n_ops && n_busy == 0)
            break;
        t += dsim_rng_chance(rng, 0.5) ? 0 : 1 + (int64_t) dsim_rng_below(rng, 2);
        if (started < n_ops && n_idle > 0 && (n_busy == 0 || dsim_rng_chance(rng, 0.5))) {
            /* invoke */
            int p = idle[dsim_rng_below(rng, (uint64_t) n_idle)];
            BruteOp *op = &procs[p].op;
            *op = (BruteOp) { .call = t, .ret = INT64_MAX, .key = (int) dsim_rng_below(rng, 2) };
            op->f = kv ? "gpac"[dsim_rng_below(rng, 4)] : "gpc"[dsim_rng_below(rng, 3)];
            g_strlcpy(op->v, op->f == 'c' ? reads[dsim_rng_below(rng, 3)] : one[dsim_rng_below(rng, 2)], sizeof op->v);
            g_strlcpy(op->w, one[dsim_rng_below(rng, 2)], sizeof op->w);
            append_event(out, procs[p].pid, "invoke", op, kv, op->f == 'g' ? NULL : op->v, t);
            procs[p].busy = true;
            started++;
            continue;
        }
        /* complete: never (10%), ok (60%), fail (10%) or info (20%) */
        int p = busy[dsim_rng_below(rng, (uint64_t) n_busy)];
        BruteOp op = procs[p].op;
        procs[p].busy = false;
        double u = dsim_rng_double(rng);
        const char *type = u < 0.1 ? NULL : u < 0.7 ? "ok" : u < 0.8 ? "fail" : "info";
        if (type != NULL) {
            bool ok = strcmp(type, "ok") == 0;
            if (ok) {
                op.ret = t;
                if (op.f == 'g')
                    g_strlcpy(op.v, reads[dsim_rng_below(rng, 5)], sizeof op.v);
            }
            append_event(out, procs[p].pid, type, &op, kv, op.f == 'g' && !ok ? NULL : op.v, t);
        }
        if (type == NULL || strcmp(type, "info") == 0)
            procs[p].pid += 3; /* after an unknown outcome, a new process id */
        /* failed operations did not happen; a read of unknown outcome tells nothing */
        if ((type != NULL && strcmp(type, "fail") == 0) || (op.f == 'g' && op.ret == INT64_MAX))
            continue;
        b->ops[b->n++] = op;
    }
}

static void test_agrees_with_brute_force(void)
{
    DsimRng rng;
    dsim_rng_init(&rng, 2026, "lincheck-brute");
    g_autoptr(GString) text = g_string_new(NULL);
    unsigned yes = 0, no = 0;
    for (int i = 0; i < 3000; i++) {
        bool kv = i % 3 != 0;
        Brute b;
        random_history(&rng, kv, text, &b);
        bool want = brute_linearizable(&b);
        for (int whole = 0; whole < 2; whole++) {
            DsimLinOptions opt = { .no_partition = whole };
            g_autoptr(DsimLinResult) r = check_opts(text->str, kv ? "kv" : "register", &opt, NULL);
            bool got = r->verdict == DSIM_LIN_LINEARIZABLE;
            if (got != want)
                g_printerr("\n  history %d (%s): brute force says %d, the checker %d:\n%s", i,
                           whole ? "one map" : "by key", want, got, text->str);
            CU_ASSERT_EQUAL(got, want);
        }
        want ? yes++ : no++;
    }
    /* the generator gives both verdicts often enough for this to mean something */
    CU_ASSERT_TRUE(yes > 500 && no > 500);
}

/* ---- readers and bad input --------------------------------------------------------------- */

static void test_edn_reader(void)
{
    static const char text[] =
        "; a comment\n"
        "({:type :invoke, :f :cas, :value [1 4], :process 101, :time 99}\n"
        " {:type :info,\n"
        "  :f :cas, :value [1 4], :process 101, #_ :ignored\n"
        "  :error {:reason \"lost \\\"contact\\\"\", :codes [1 -2 3N]}}\n"
        " {:process :nemesis, :type :info, :f :start, :value \"Cut off [:n3 #{:n4}]\"}\n"
        " {:process 7 :type :invoke :f :write :value \"\\u00e9\\n\"})\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimLinHistory) h = dsim_lin_history_parse("t.edn", text, strlen(text), &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_FALSE(h->timed);
    CU_ASSERT_EQUAL(h->events->len, 4);
    const DsimLinEvent *e0 = &g_array_index(h->events, DsimLinEvent, 0);
    const DsimLinEvent *e1 = &g_array_index(h->events, DsimLinEvent, 1);
    const DsimLinEvent *e2 = &g_array_index(h->events, DsimLinEvent, 2);
    const DsimLinEvent *e3 = &g_array_index(h->events, DsimLinEvent, 3);
    CU_ASSERT_EQUAL(e0->line, 2);
    CU_ASSERT_EQUAL(e0->time, 0); /* EDN :time is informational; position is the clock */
    CU_ASSERT_EQUAL(e0->process, 101);
    CU_ASSERT_EQUAL(e0->type, DSIM_LIN_INVOKE);
    CU_ASSERT_STRING_EQUAL(dsim_lin_val(h, e0->value)->text, "[1 4]");
    CU_ASSERT_EQUAL(e0->value, e1->value); /* interned */
    CU_ASSERT_EQUAL(e1->line, 3);
    CU_ASSERT_EQUAL(e1->type, DSIM_LIN_INFO);
    CU_ASSERT_EQUAL(e2->process, DSIM_LIN_NOT_CLIENT);
    CU_ASSERT_EQUAL(e3->line, 7);
    const DsimLinVal *v = dsim_lin_val(h, e3->value);
    CU_ASSERT_EQUAL(v->kind, DSIM_LIN_VAL_STRING);
    CU_ASSERT_STRING_EQUAL(v->s, "\xc3\xa9\n");
    CU_ASSERT_EQUAL(v->n, 3);
    CU_ASSERT_STRING_EQUAL(v->text, "\"\xc3\xa9\\n\"");
    CU_ASSERT_STRING_EQUAL(dsim_lin_val(h, e0->f)->s, "cas");
}

typedef struct {
    const char *text;
    const char *model;
    const char *message; /* the whole message */
} BadCase;

static const BadCase bad_cases[] = {
    { "hello", "kv", "test:1: not a history: expected JSON lines ('{\"process\":...}'), EDN ('[{:process ...}') "
                     "or a Jepsen log ('INFO  jepsen.util - ...')" },
    { "[{:process 1 :type :invoke :f :read :value 1.5}]", "cas-register(init=0)",
      "test:1: '1...': only integers are supported, not floating point" },
    { "[{:process 1 :type :invoke\n :f :read :value nil}\n", "cas-register(init=0)", "test:1: '[' is never closed" },
    { "[{:process 1 :type :invoke :f :read :value nil}] []", "cas-register(init=0)",
      "test:1: expected the end of the history after its closing ']', found '[]'" },
    { "[{:process 1 :type :begin :f :read}]", "cas-register(init=0)",
      "test:1: :type :begin: expected :invoke, :ok, :fail or :info" },
    { "[{:process 1 :f :read}]", "cas-register(init=0)", "test:1: the operation has no :type" },
    { "[{:process 1 :type :invoke :f :read :value \"abc}]", "cas-register(init=0)", "test:1: unterminated string" },
    { "[{:process 1 :type :invoke :f :read :value #{1 2}}]", "cas-register(init=0)",
      "test:1: EDN tagged literals and sets ('#...') are not supported in histories" },
    { "[\n{:process 1 :type :ok :f :read :value 1}]", "cas-register(init=0)",
      "test:2: process 1 completes :read, but has no operation in progress" },
    { "[{:process 1 :type :invoke :f :read :value nil}\n{:process 1 :type :invoke :f :write :value 1}]",
      "cas-register(init=0)",
      "test:2: process 1 invokes :write while its :read of line 1 has not completed (a process runs one "
      "operation at a time; after info, continue under a new process id)" },
    { "[{:process 1 :type :invoke :f :read :value nil}\n{:process 1 :type :ok :f :write :value 1}]",
      "cas-register(init=0)", "test:2: process 1 completes :write, but invoked :read at line 1" },
    { "[{:process 1 :type :invoke :f :get :key \"a\" :value nil}]", "cas-register(init=0)",
      "test:1: model cas-register(init=0) has no operation 'get' (it has read, write, cas)" },
    { "[{:process 1 :type :invoke :f :cas :value 3}]", "etcd-cas-register",
      "test:1: cas 3: expected [expected new]" },
    { "[{:process 1 :type :invoke :f :put :value \"x\"}]", "kv-get-put-append",
      "test:1: put has no key (model kv-get-put-append is a map of keys)" },
    { "[{:process 1 :type :invoke :f :put :key \"k\" :value 3}]", "kv-get-put-append",
      "test:1: 3: the values of model kv-get-put-append are strings" },
    { "[{:process 1 :type :invoke :f :txn :value [[:read :z nil]]}]", "multi-register(x=0,y=0)",
      "test:1: txn: [:read :z nil]: model multi-register(x=0,y=0) has no register :z" },
    { "{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\",\"value\":null,\"time\":1}\n"
      "{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\",\"value\":\"\"}\n",
      "kv", "test:2: no \"time\": give \"time\" on every line or on none" },
    { "{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\",\"value\":null,\"time\":1.5}\n", "kv",
      "test:1: '1...': only integers are supported, not floating point" },
    { "\n{\"process\":0,\"type\":\"done\",\"f\":\"get\"}\n", "kv",
      "test:2: \"type\" \"done\": expected \"invoke\", \"ok\", \"fail\" or \"info\"" },
    { "{\"process\":0 \"type\":\"ok\"}\n", "kv", "test:1: expected ',' or '}' after a field" },
    { "{\"process\":0,\"type\":\"ok\",\n\"f\":\"get\"}\n", "kv",
      "test:1: the object is not closed on its line (write one JSON object per line)" },
    { "{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"x\":{}}\n", "kv",
      "test:1: field \"x\": nested objects are not supported" },
    { "{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"time\":5}\n", "kv",
      "test:1: process 0 completes \"get\", but has no operation in progress (or its invocation has a later time)" },
    { "INFO  jepsen.util - 1 :invoke :read\n", "etcd-cas-register",
      "test:1: expected 'PROCESS TYPE F VALUE' after 'jepsen.util -'" },
    { "INFO  jepsen.core - nothing\n", "etcd-cas-register",
      "test:1: no operation lines ('INFO  jepsen.util - PROCESS TYPE F VALUE') in this log" },
};

static void test_bad_input_names_file_and_line(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        const BadCase *c = &bad_cases[i];
        g_autoptr(GError) error = NULL;
        g_autoptr(DsimLinHistory) h = dsim_lin_history_parse("test", c->text, strlen(c->text), &error);
        g_autoptr(DsimLinResult) r = NULL;
        if (h != NULL)
            r = dsim_lin_check(h, dsim_lin_model_find(c->model), NULL, &error);
        const char *got = error != NULL ? error->message : "(accepted)";
        if (strcmp(got, c->message) != 0)
            g_printerr("\n  case %zu: got  %s\n           want %s", i, got, c->message);
        CU_ASSERT_PTR_NULL(r);
        CU_ASSERT_STRING_EQUAL(got, c->message);
        if (error != NULL)
            CU_ASSERT_EQUAL(error->domain, DSIM_LIN_ERROR);
    }
}

static void test_models_are_the_documented_ones(void)
{
    static const char *const names[] = {
        "register", "kv", "etcd-cas-register", "kv-get-put-append",
        "cas-register(init=0)", "cas-register(init=nil)", "multi-register(x=0,y=0)",
    };
    unsigned n = 0;
    for (const DsimLinModel *m = dsim_lin_models; m->name != NULL; m++)
        n++;
    CU_ASSERT_EQUAL(n, G_N_ELEMENTS(names));
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        CU_ASSERT_PTR_NOT_NULL(dsim_lin_model_find(names[i]));
    CU_ASSERT_PTR_NULL(dsim_lin_model_find("cas-register"));
    CU_ASSERT_PTR_NULL(dsim_lin_model_find("KV"));
}

CU_TestInfo lincheck_tests[] = {
    { "empty histories are linearizable", test_empty_histories_are_linearizable },
    { "a sequential register", test_a_sequential_register },
    { "a read concurrent with a write", test_a_read_concurrent_with_a_write },
    { "no going back", test_no_going_back },
    { "operations of unknown outcome", test_operations_of_unknown_outcome },
    { "failed operations did not happen", test_failed_operations_did_not_happen },
    { "the etcd model", test_the_etcd_model },
    { "cas and multi-register", test_cas_and_multi_register },
    { "append concatenates", test_append_concatenates },
    { "the smallest failing key is reported", test_the_smallest_failing_key_is_reported },
    { "dsim's history.jsonl", test_dsim_history_jsonl },
    { "memoization keeps it polynomial", test_memoization_keeps_it_polynomial },
    { "a step limit gives unknown", test_a_step_limit_gives_unknown },
    { "a time limit reads the given clock", test_a_time_limit_reads_the_given_clock },
    { "agrees with brute force", test_agrees_with_brute_force },
    { "EDN reader", test_edn_reader },
    { "bad input names file and line", test_bad_input_names_file_and_line },
    { "models are the documented ones", test_models_are_the_documented_ones },
    CU_TEST_INFO_NULL,
};
