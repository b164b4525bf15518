/* test_clients.c - client workloads: operations, redirects, timeouts and retries, the
 * (client, seq) de-duplication, and the history they leave.
 *
 * The protocol here is a test double, "solo": member 1 applies every command at once to its
 * KvStore and answers; the others redirect to member 1. With drop_every > 0 member 1 applies
 * every n-th request but does not answer it, so the client times out and retries the same
 * (client, seq): the store must not apply it twice. It is swapped into a loaded scenario, as
 * in test_world.c; the workload is added in C because the loader (rightly) refuses workloads
 * on pingpong.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "algorithms/kv/kv.h"
#include "sim/client.h"
#include "sim/scenario.h"
#include "sim/world.h"

typedef struct {
    KvStore *kv;
    uint64_t requests;
    uint64_t drop_every; /* set through the test's global-free way: see solo_drop */
} Solo;

static void solo_init(void *state, DsimCtx *ctx)
{
    Solo *s = state;
    s->kv = kv_store_new();
    s->drop_every = dsim_config(ctx) != NULL ? *(const int64_t *) dsim_config(ctx) : 0;
}

static void solo_fini(void *state) { kv_store_free(((Solo *) state)->kv); }

static void solo_message(void *state, DsimCtx *ctx, const DsimMsg *msg) {}
static void solo_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg) {}

static void solo_request(void *state, DsimCtx *ctx, const DsimRequest *req)
{
    Solo *s = state;
    if (dsim_self_index(ctx) != 0) {
        dsim_redirect(ctx, req->id, dsim_group_member(ctx, 0));
        return;
    }
    g_autoptr(GString) result = g_string_new(NULL);
    DsimStatus st = kv_store_apply(s->kv, req->cmd, req->size, result);
    s->requests++;
    if (s->drop_every > 0 && s->requests % s->drop_every == 0)
        return; /* applied, but the answer is never sent */
    dsim_reply(ctx, req->id, st, result->str, result->len);
}

static void solo_describe(const void *state, DsimView *v)
{
    const Solo *s = state;
    if (s->kv != NULL) {
        v->applied = kv_store_applied(s->kv);
        v->applied_digest = kv_store_digest(s->kv);
    }
}

static const DsimProtocol solo_protocol = {
    .name = "solo", .summary = "test: one node applies everything",
    .state_size = sizeof(Solo),
    .init = solo_init, .fini = solo_fini, .on_message = solo_message, .on_timer = solo_timer,
    .on_request = solo_request, .describe = solo_describe,
};

/* pingpong's config starts with its int64 `count`: reused here as drop_every */
static DsimScenario *solo_scenario(int64_t drop_every, unsigned clients, const char *mix,
                                   const char *extra)
{
    g_autofree char *xml = g_strdup_printf(
        "<scenario name='t' seed='5' duration='3s'>"
        "  <network><latency>5ms</latency></network>"
        "  <group id='s' protocol='pingpong' count='3'><param name='count'>%" PRId64 "</param></group>"
        "  %s"
        "</scenario>", drop_every, extra);
    g_autoptr(GError) error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "t.xml", &error);
    g_assert(sc != NULL);
    DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, 0);
    g->protocol = &solo_protocol;
    DsimWorkloadSpec ws = {
        .type = g_strdup("kv"), .target = 0, .clients = clients, .rate = 200.0, .keys = 3,
        .mix = g_array_new(FALSE, TRUE, sizeof(DsimMixItem)),
        .start = DSIM_MS(10), .stop = DSIM_S(2), .timeout = DSIM_MS(100), .line = 1,
    };
    gchar **items = g_strsplit(mix, ",", -1);
    for (gchar **it = items; *it != NULL; it++) {
        gchar **kv = g_strsplit(*it, ":", 2);
        DsimMixItem m = { .op = g_strdup(kv[0]), .weight = g_ascii_strtod(kv[1], NULL) };
        g_array_append_val(ws.mix, m);
        g_strfreev(kv);
    }
    g_strfreev(items);
    if (sc->workloads == NULL)
        sc->workloads = g_array_new(FALSE, TRUE, sizeof(DsimWorkloadSpec));
    g_array_append_val(sc->workloads, ws);
    return sc;
}

static void count(const GArray *h, unsigned *inv, unsigned *ok, unsigned *fail, unsigned *info)
{
    *inv = *ok = *fail = *info = 0;
    for (unsigned i = 0; i < h->len; i++) {
        switch (g_array_index(h, DsimHistOp, i).type) {
        case DSIM_HIST_INVOKE: (*inv)++; break;
        case DSIM_HIST_OK: (*ok)++; break;
        case DSIM_HIST_FAIL: (*fail)++; break;
        case DSIM_HIST_INFO: (*info)++; break;
        }
    }
}

static void test_every_operation_is_invoked_once_and_completed_once(void)
{
    g_autoptr(DsimScenario) sc = solo_scenario(0, 4, "get:0.4,put:0.3,append:0.2,cas:0.1", "");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 5, NULL);
    dsim_world_run(w, NULL, NULL);
    const GArray *h = dsim_clients_history(dsim_world_clients(w));
    unsigned inv, ok, fail, info;
    count(h, &inv, &ok, &fail, &info);
    CU_ASSERT_TRUE(inv > 200 && inv < 600); /* ~200/s for ~2 s */
    CU_ASSERT_EQUAL(inv, ok + fail + info);
    CU_ASSERT_EQUAL(info, 0);
    CU_ASSERT_TRUE(fail > 0); /* some cas find another value */
    /* per process: strictly alternating invoke, completion */
    int open[8] = { 0 };
    for (unsigned i = 0; i < h->len; i++) {
        const DsimHistOp *op = &g_array_index(h, DsimHistOp, i);
        CU_ASSERT_TRUE_FATAL(op->process < 8);
        if (op->type == DSIM_HIST_INVOKE) {
            CU_ASSERT_EQUAL(open[op->process], 0);
            open[op->process] = 1;
        } else {
            CU_ASSERT_EQUAL(open[op->process], 1);
            open[op->process] = 0;
        }
    }
    /* the store applied exactly one command per completed operation */
    DsimView v;
    dsim_world_describe(w, 0, &v);
    CU_ASSERT_EQUAL(v.applied, ok + fail);
}

static void test_clients_follow_redirects_to_the_leader(void)
{
    g_autoptr(DsimScenario) sc = solo_scenario(0, 3, "put:1", "");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 5, NULL);
    dsim_world_run(w, NULL, NULL);
    const GArray *h = dsim_clients_history(dsim_world_clients(w));
    /* clients 2 and 3 start at s2 and s3 and are redirected: every ok comes from s1 */
    for (unsigned i = 0; i < h->len; i++) {
        const DsimHistOp *op = &g_array_index(h, DsimHistOp, i);
        if (op->type == DSIM_HIST_OK)
            CU_ASSERT_EQUAL(op->node, 0);
    }
}

static void test_a_retried_operation_is_applied_at_most_once(void)
{
    /* s1 swallows every 4th answer: its client times out and sends the same (client, seq)
     * again; the store answers from its session table without applying twice */
    g_autoptr(DsimScenario) sc = solo_scenario(4, 2, "append:1", "");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 5, NULL);
    dsim_world_run(w, NULL, NULL);
    const GArray *h = dsim_clients_history(dsim_world_clients(w));
    unsigned inv, ok, fail, info;
    count(h, &inv, &ok, &fail, &info);
    CU_ASSERT_TRUE(ok > 50);
    const Solo *s = dsim_world_node_state(w, 0);
    /* every append wrote a unique token "client.seq;": no token may appear twice */
    g_autoptr(GHashTable) tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    unsigned appended = 0, twice = 0;
    for (int k = 1; k <= 3; k++) {
        char key[8];
        g_snprintf(key, sizeof key, "k%d", k);
        const char *val = kv_store_get(s->kv, key);
        if (val == NULL)
            continue;
        gchar **parts = g_strsplit(val, ";", -1);
        for (gchar **p = parts; *p != NULL; p++) {
            if (**p == '\0')
                continue;
            appended++;
            if (!g_hash_table_add(tokens, g_strdup(*p)))
                twice++;
        }
        g_strfreev(parts);
    }
    CU_ASSERT_EQUAL(twice, 0);
    CU_ASSERT_TRUE(appended >= ok && appended <= ok + info);
    CU_ASSERT_TRUE(s->requests > appended); /* retries did arrive, and were answered from the session */
}

static void test_a_crashed_leader_turns_operations_into_info_with_new_processes(void)
{
    g_autoptr(DsimScenario) sc = solo_scenario(0, 2, "put:1",
        "<faults><crash at='500ms' node='s1'/></faults>");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 5, NULL);
    dsim_world_run(w, NULL, NULL);
    const GArray *h = dsim_clients_history(dsim_world_clients(w));
    unsigned inv, ok, fail, info;
    count(h, &inv, &ok, &fail, &info);
    CU_ASSERT_TRUE(info >= 1);
    CU_ASSERT_EQUAL(inv, ok + fail + info);
    bool later_process = false;
    for (unsigned i = 0; i < h->len; i++) {
        const DsimHistOp *op = &g_array_index(h, DsimHistOp, i);
        if (op->type == DSIM_HIST_OK)
            CU_ASSERT_TRUE(op->time <= DSIM_MS(510));
        later_process = later_process || op->process >= 2;
    }
    CU_ASSERT_TRUE(later_process); /* after an info, a client continues as a new process */
}

static void test_the_history_line_format_is_stable(void)
{
    DsimHistOp op = { .process = 3, .type = DSIM_HIST_OK, .key = "k1", .value = "0.7",
                      .expected = "0.2", .time = 1500, .node = 0 };
    g_strlcpy(op.f, "cas", sizeof op.f);
    g_autoptr(GString) s = g_string_new(NULL);
    dsim_hist_op_format(&op, s);
    CU_ASSERT_STRING_EQUAL(s->str,
        "{\"process\":3,\"type\":\"ok\",\"f\":\"cas\",\"key\":\"k1\",\"value\":[\"0.2\",\"0.7\"],\"time\":1500}");
}

CU_TestInfo clients_tests[] = {
    { "every operation is invoked once and completed once", test_every_operation_is_invoked_once_and_completed_once },
    { "clients follow redirects to the leader", test_clients_follow_redirects_to_the_leader },
    { "a retried operation is applied at most once", test_a_retried_operation_is_applied_at_most_once },
    { "a crashed leader turns operations into info with new processes", test_a_crashed_leader_turns_operations_into_info_with_new_processes },
    { "the history line format is stable", test_the_history_line_format_is_stable },
    CU_TEST_INFO_NULL,
};
