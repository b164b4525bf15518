/* test_gateway.c - the API gateway: its route table, and in small worlds routing by path and
 * header, BFF fan-out, retries on another instance, the rate limiter, and one trace per
 * request.
 *
 * The worlds: a gateway "gw1", two groups of `service` instances ("users", "orders"), and a
 * test caller "c1" (a pingpong group whose ops table is swapped, as in test_calls.c) that
 * sends the scripted requests of each test, 10 ms apart, and keeps their outcomes.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "algorithms/gateway/gateway.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "tests/lib/testutil.h"

/* ---- the route table ------------------------------------------------------------------------ */

static void test_routes_parse_and_match_first_in_order(void)
{
    GatewayTable t;
    g_autoptr(GString) why = g_string_new(NULL);
    CU_ASSERT_TRUE_FATAL(gateway_parse_routes(
        " /api [canary] -> api-v2 ; /api -> api; /home -> users + orders ;/ -> users", &t, why));
    CU_ASSERT_EQUAL(t.n_routes, 4);
    CU_ASSERT_EQUAL(t.n_groups, 4); /* api-v2, api, users, orders */
    CU_ASSERT_STRING_EQUAL(t.route[0].header, "canary");
    CU_ASSERT_EQUAL(t.route[2].n_targets, 2);
    CU_ASSERT_STRING_EQUAL(t.group[t.route[2].target[1]], "orders");
    CU_ASSERT_EQUAL(gateway_match(&t, "/api/users", "canary"), 0);
    CU_ASSERT_EQUAL(gateway_match(&t, "/api/users", ""), 1);
    CU_ASSERT_EQUAL(gateway_match(&t, "/api/users", "beta"), 1);
    CU_ASSERT_EQUAL(gateway_match(&t, "/home", ""), 2);
    CU_ASSERT_EQUAL(gateway_match(&t, "/other", ""), 3);

    CU_ASSERT_TRUE(gateway_parse_routes("/a -> x", &t, why));
    CU_ASSERT_EQUAL(gateway_match(&t, "/b", ""), -1);

    static const char *const bad[] = {
        "/a x", "a -> x", "/a [h -> x", "/a -> ", "/a -> a + b + c + d + e", "", " ; ",
        "/a->1;/b->2;/c->3;/d->4;/e->5;/f->6;/g->7;/h->8;/i->9",
        "/a -> g1 + g2 + g3 + g4; /b -> g5 + g6 + g7 + g8; /c -> g9",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_string_truncate(why, 0);
        CU_ASSERT_FALSE(gateway_parse_routes(bad[i], &t, why));
        CU_ASSERT(why->len > 0);
    }
}

/* ---- the caller -------------------------------------------------------------------------------- */

typedef struct {
    const char *path, *header;
} Ask;

#define MAX_ASKS 8
static Ask asks[MAX_ASKS];
static unsigned n_asks;
static DsimTime ask_every = DSIM_MS(10);

typedef struct {
    unsigned       made, done;
    DsimCallId     id[MAX_ASKS];
    DsimCallStatus status[MAX_ASKS];
    char           why[MAX_ASKS][16];
} Asker;

static void ask_init(void *state, DsimCtx *ctx) { dsim_timer_set(ctx, ask_every, 1, 0); }
static void ask_message(void *state, DsimCtx *ctx, const DsimMsg *msg) {}

static void ask_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    Asker *a = state;
    if (a->made == n_asks)
        return;
    DsimNodeId gw;
    unsigned n;
    g_assert(dsim_group_find(ctx, "gw", &gw, &n));
    GatewayRequest r = { .req = { .key = a->made, .attempt = 1 } };
    g_strlcpy(r.path, asks[a->made].path, sizeof r.path);
    g_strlcpy(r.header, asks[a->made].header != NULL ? asks[a->made].header : "", sizeof r.header);
    DsimCallOpts o = { .timeout = DSIM_MS(500), .tag = a->made };
    a->id[a->made] = dsim_call(ctx, gw, SERVICE_METHOD_REQUEST, &r, sizeof r, &o);
    a->made++;
    dsim_timer_set(ctx, ask_every, 1, 0);
}

static void ask_response(void *state, DsimCtx *ctx, const DsimResponse *r)
{
    Asker *a = state;
    a->status[r->tag] = r->status;
    if (r->size > 0) /* OK and TIMEOUT have no body here */
        memcpy(a->why[r->tag], r->body, MIN(r->size, 15u));
    a->done++;
}

static const DsimProtocol asker_protocol = {
    .name = "asker", .summary = "test: scripted requests to a gateway", .state_size = sizeof(Asker),
    .init = ask_init, .on_message = ask_message, .on_timer = ask_timer, .on_response = ask_response,
};

static DsimWorld *world(const char *gateway_params, const char *users_params, DsimScenario **out)
{
    g_autofree char *xml = g_strdup_printf(
        "<scenario name='t' seed='3' duration='2s'>"
        "  <network><latency>1ms</latency></network>"
        "  <group id='c' protocol='pingpong' count='1'/>"
        "  <group id='gw' protocol='gateway' count='1'>"
        "    <param name='routes'>/users -> users; /home -> users + orders; /orders [v2] -> users;"
        "      /orders -> orders</param>%s"
        "  </group>"
        "  <group id='users' protocol='service' count='2'>"
        "    <param name='service_time'>5ms</param>%s"
        "  </group>"
        "  <group id='orders' protocol='service' count='2'>"
        "    <param name='service_time'>5ms</param>"
        "  </group>"
        "</scenario>", gateway_params, users_params);
    g_autoptr(GError) error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "gw.xml", &error);
    if (sc == NULL)
        printf("\n%s\n", error->message);
    g_assert(sc != NULL);
    g_array_index(sc->groups, DsimGroupSpec, 0).protocol = &asker_protocol;
    *out = sc;
    DsimWorld *w = dsim_world_new(sc, 1, NULL);
    dsim_world_run(w, NULL, NULL);
    return w;
}

static void set_asks(const Ask *a, unsigned n, DsimTime every)
{
    memcpy(asks, a, n * sizeof *a);
    n_asks = n;
    ask_every = every;
}

/* The spans of the upstream calls made on behalf of client call @id. */
static unsigned children_of(const DsimWorld *w, DsimCallId id, unsigned *in_trace)
{
    unsigned n = 0;
    *in_trace = 0;
    for (unsigned i = 0; i < dsim_world_n_spans(w); i++) {
        const DsimSpan *s = dsim_world_span(w, i);
        n += s->parent == id;
        *in_trace += s->trace == id;
    }
    return n;
}

/* ---- worlds -------------------------------------------------------------------------------------- */

static void test_routes_by_path_and_header_and_fans_out(void)
{
    const Ask a[] = {
        { "/users/7" }, { "/home" }, { "/orders/1" }, { "/orders/1", "v2" }, { "/nowhere" },
    };
    set_asks(a, G_N_ELEMENTS(a), DSIM_MS(10));
    DsimScenario *sc;
    DsimWorld *w = world("", "", &sc);
    const Asker *k = dsim_world_node_state(w, 0);
    CU_ASSERT_EQUAL(k->done, 5);
    for (unsigned i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(k->status[i], DSIM_CALL_OK);
    CU_ASSERT_EQUAL(k->status[4], DSIM_CALL_FAIL);
    CU_ASSERT_STRING_EQUAL(k->why[4], GATEWAY_FAIL_NO_ROUTE);
    /* /home fanned out to one users and one orders instance, in the client's trace */
    unsigned in_trace;
    CU_ASSERT_EQUAL(children_of(w, k->id[1], &in_trace), 2);
    CU_ASSERT_EQUAL(in_trace, 3); /* the client's span and the two upstream calls */
    CU_ASSERT_EQUAL(children_of(w, k->id[0], &in_trace), 1);
    /* /orders with header v2 went to users (the canary route), without it to orders */
    unsigned users_first = 2, orders_first = 4, to_users = 0, to_orders = 0;
    for (unsigned i = 0; i < dsim_world_n_spans(w); i++) {
        const DsimSpan *s = dsim_world_span(w, i);
        if (s->parent == k->id[3])
            to_users += s->callee >= users_first && s->callee < orders_first;
        if (s->parent == k->id[2])
            to_orders += s->callee >= orders_first;
    }
    CU_ASSERT_EQUAL(to_users, 1);
    CU_ASSERT_EQUAL(to_orders, 1);
    const GatewayNode *gw = dsim_world_node_state(w, 1);
    CU_ASSERT_EQUAL(gw->requests, 5);
    CU_ASSERT_EQUAL(gw->no_route, 1);
    CU_ASSERT_EQUAL(gw->upstream_calls, 5);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_a_hung_instance_is_retried_on_another(void)
{
    /* users1 hangs; round robin sends every other request to it: the gateway's call times
     * out after 50 ms and the retry on users2 answers */
    const Ask a[] = { { "/users" }, { "/users" }, { "/users" }, { "/users" } };
    set_asks(a, G_N_ELEMENTS(a), DSIM_MS(10));
    DsimScenario *sc;
    DsimWorld *w = world("<param name='timeout'>50ms</param>",
                         "<param name='degrade'>hang</param><param name='degrade_members'>1</param>", &sc);
    const Asker *k = dsim_world_node_state(w, 0);
    CU_ASSERT_EQUAL(k->done, 4);
    for (unsigned i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(k->status[i], DSIM_CALL_OK);
    const GatewayNode *gw = dsim_world_node_state(w, 1);
    CU_ASSERT_EQUAL(gw->retries, 2);
    CU_ASSERT_EQUAL(gw->failed, 0);
    CU_ASSERT_EQUAL(dsim_world_counters(w)->calls_timed_out, 2);
    dsim_world_free(w);
    dsim_scenario_free(sc);

    /* without retries the same requests fail */
    w = world("<param name='timeout'>50ms</param><param name='retries'>0</param>",
              "<param name='degrade'>hang</param><param name='degrade_members'>1</param>", &sc);
    k = dsim_world_node_state(w, 0);
    unsigned failed = 0;
    for (unsigned i = 0; i < 4; i++)
        failed += k->status[i] == DSIM_CALL_FAIL && strcmp(k->why[i], GATEWAY_FAIL_UPSTREAM) == 0;
    CU_ASSERT_EQUAL(failed, 2);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_the_rate_limiter_refuses_before_routing(void)
{
    /* a token bucket of 2 per second: of five requests 1 ms apart, two pass */
    const Ask a[] = { { "/users" }, { "/users" }, { "/nowhere" }, { "/users" }, { "/users" } };
    set_asks(a, G_N_ELEMENTS(a), DSIM_MS(1));
    DsimScenario *sc;
    DsimWorld *w = world("<param name='limit_kind'>token-bucket</param><param name='limit'>2</param>", "", &sc);
    const Asker *k = dsim_world_node_state(w, 0);
    CU_ASSERT_EQUAL(k->status[0], DSIM_CALL_OK);
    CU_ASSERT_EQUAL(k->status[1], DSIM_CALL_OK);
    for (unsigned i = 2; i < 5; i++) {
        CU_ASSERT_EQUAL(k->status[i], DSIM_CALL_FAIL);
        CU_ASSERT_STRING_EQUAL(k->why[i], GATEWAY_FAIL_RATE_LIMITED); /* even the unroutable one */
    }
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_bad_route_tables_are_refused_at_load(void)
{
    const char *xml = "<scenario name='t' duration='1s'>\n"
                      "  <group id='s' protocol='service' count='2'/>\n"
                      "  <group id='gw' protocol='gateway' count='1'>\n"
                      "    <param name='routes'>/a -> s; /b -> nosuch</param>\n"
                      "  </group>\n"
                      "</scenario>";
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_buffer(xml, strlen(xml), "t.xml", &error);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_STRING_EQUAL(error->message,
                           "t.xml:4: <param name=\"routes\">: routes name group nosuch, which the "
                           "scenario does not have");
}

/* scenarios/gateway/limit.xml with limit_scope @scope: the requests admitted (client_ok) and
 * whether global-limit-conforms held. */
static uint64_t admitted_with(const char *scope, bool *conforms)
{
    g_autofree char *path = testutil_srcpath("scenarios/gateway/limit.xml");
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_file(path, &error);
    g_assert(sc != NULL);
    unsigned gi = 0;
    while (strcmp(g_array_index(sc->groups, DsimGroupSpec, gi).id, "gw") != 0)
        gi++;
    g_assert(dsim_scenario_set_param(sc, gi, "limit_scope", scope, &error));
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 1, NULL);
    dsim_world_run(w, NULL, NULL);
    *conforms = dsim_world_passed(w);
    uint64_t ok = 0;
    for (unsigned i = 0; i < dsim_world_n_metrics(w); i++) {
        if (strcmp(dsim_world_metric(w, i)->name, "client_ok") == 0)
            ok = dsim_world_metric(w, i)->count;
    }
    return ok;
}

static void test_a_group_limit_local_split_or_shared(void)
{
    /* 120 requests/s against a group limit of 100/s, 3:1 over two gateways */
    bool local_ok, split_ok, shared_ok;
    uint64_t local = admitted_with("local", &local_ok);
    uint64_t split = admitted_with("split", &split_ok);
    uint64_t shared = admitted_with("shared", &shared_ok);
    CU_ASSERT_FALSE(local_ok);         /* each gateway alone: the group admits too much */
    CU_ASSERT_TRUE(split_ok);
    CU_ASSERT_TRUE(shared_ok);
    CU_ASSERT(local > shared);         /* local admitted everything */
    CU_ASSERT(shared > split + 300);   /* split refuses at the busy gateway while the other idles */
    /* shared: the burst of 100, then 100 per second for 20 s, within a few */
    CU_ASSERT(shared >= 2080 && shared <= 2100);
}

CU_TestInfo gateway_tests[] = {
    { "a group limit: local, split or shared", test_a_group_limit_local_split_or_shared },
    { "routes parse and match first in order", test_routes_parse_and_match_first_in_order },
    { "routes by path and header and fans out", test_routes_by_path_and_header_and_fans_out },
    { "a hung instance is retried on another", test_a_hung_instance_is_retried_on_another },
    { "the rate limiter refuses before routing", test_the_rate_limiter_refuses_before_routing },
    { "bad route tables are refused at load", test_bad_route_tables_are_refused_at_load },
    CU_TEST_INFO_NULL,
};
