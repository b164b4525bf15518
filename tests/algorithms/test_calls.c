/* test_calls.c - calls in the kernel (dsim_call / on_call / dsim_respond / on_response):
 * one outcome per call, deadlines, late responses, crashes, duplicates, lost messages, and
 * the spans and traces the kernel records.
 *
 * Two test protocols, put into a world by loading a two-group pingpong scenario and swapping
 * the groups' ops tables before the world is built (as in test_world.c): a server group "s"
 * whose methods answer at once, later, through a nested call, or never; and a caller "c1"
 * that makes the calls a test scripts, at 10 ms intervals, and keeps every outcome.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "reports/report.h"
#include "sim/scenario.h"
#include "sim/world.h"

enum { ECHO = 1, SLOW, NESTED, BLACK_HOLE, ANSWER_THEN_ASK };
enum { T_CALL = 1, T_ANSWER };

/* ---- the server ------------------------------------------------------------------ */

typedef struct {
    DsimCallId held;   /* SLOW: answered 50 ms later; NESTED: answered when the inner call is */
    DsimCallId inner;
    unsigned   served;
} Server;

static void srv_message(void *state, DsimCtx *ctx, const DsimMsg *msg) {}

static void srv_call(void *state, DsimCtx *ctx, const DsimCall *call)
{
    Server *s = state;
    s->served++;
    switch (call->method) {
    case ECHO:
        dsim_respond(ctx, call->id, DSIM_CALL_OK, call->body, call->size);
        break;
    case SLOW:
        s->held = call->id;
        dsim_timer_set(ctx, DSIM_MS(50), T_ANSWER, 0);
        break;
    case NESTED: { /* asks the group's other member, inside this call's trace */
        DsimNodeId first;
        unsigned n;
        g_assert(dsim_group_find(ctx, "s", &first, &n) && n == 2);
        DsimNodeId other = first + (dsim_self(ctx) == first ? 1 : 0);
        DsimCallOpts o = { .timeout = DSIM_MS(100) };
        s->held = call->id;
        s->inner = dsim_call(ctx, other, ECHO, "in", 2, &o);
        break;
    }
    case BLACK_HOLE:
        break;
    case ANSWER_THEN_ASK: { /* answers, then calls on in the same handler: still a child */
        dsim_respond(ctx, call->id, DSIM_CALL_OK, NULL, 0);
        DsimNodeId first;
        unsigned n;
        g_assert(dsim_group_find(ctx, "s", &first, &n));
        DsimCallOpts o = { .timeout = DSIM_MS(100) };
        s->inner = dsim_call(ctx, first + 1, BLACK_HOLE, NULL, 0, &o);
        break;
    }
    }
}

static void srv_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    Server *s = state;
    dsim_respond(ctx, s->held, DSIM_CALL_OK, "slow", 4);
}

static void srv_response(void *state, DsimCtx *ctx, const DsimResponse *r)
{
    Server *s = state;
    CU_ASSERT_EQUAL(r->id, s->inner);
    if (r->method == BLACK_HOLE)
        return; /* ANSWER_THEN_ASK's call: nobody waits for it */
    dsim_respond(ctx, s->held, r->status == DSIM_CALL_OK ? DSIM_CALL_OK : DSIM_CALL_FAIL, "nested", 6);
}

static const char *srv_method(uint16_t m)
{
    return m == ECHO ? "echo" : m == SLOW ? "slow" : m == NESTED ? "nested" : NULL;
}

static const DsimProtocol server_protocol = {
    .name = "server", .summary = "test: answers calls", .state_size = sizeof(Server),
    .on_message = srv_message, .on_timer = srv_timer, .on_call = srv_call,
    .on_response = srv_response, .method_name = srv_method,
};

/* ---- the caller -------------------------------------------------------------------- */

typedef struct {
    uint16_t method;
    unsigned target;  /* member index in "s", or 99: the caller itself (takes no calls) */
    DsimTime timeout;
    bool     join_first; /* (last entry only) join the trace of the first call */
} Script;

#define MAX_CALLS 8
static Script script[MAX_CALLS]; /* set by each test before its world runs */
static unsigned n_script;

typedef struct {
    unsigned       made, outcomes;
    DsimCallId     ids[MAX_CALLS];
    bool           done[MAX_CALLS];
    DsimCallStatus status[MAX_CALLS];
    DsimTime       latency[MAX_CALLS];
    char           body[MAX_CALLS][8];
} Caller;

static void clr_init(void *state, DsimCtx *ctx)
{
    dsim_timer_set(ctx, DSIM_MS(10), T_CALL, 0);
}

static void clr_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    Caller *c = state;
    if (c->made >= n_script)
        return;
    const Script *sc = &script[c->made];
    DsimNodeId first;
    unsigned n;
    g_assert(dsim_group_find(ctx, "s", &first, &n));
    CU_ASSERT_FALSE(dsim_group_find(ctx, "nope", &first, &n));
    DsimNodeId to = sc->target == 99 ? dsim_self(ctx) : first + sc->target;
    /* the script's last call joins the first one's trace (as a retry would) */
    DsimCallOpts o = { .timeout = sc->timeout, .tag = c->made,
                       .trace = c->made > 0 && c->made + 1 == n_script && sc->join_first ? c->ids[0] : 0 };
    c->ids[c->made] = dsim_call(ctx, to, sc->method, "hello", 5, &o);
    c->made++;
    dsim_timer_set(ctx, DSIM_MS(10), T_CALL, 0);
}

static void clr_response(void *state, DsimCtx *ctx, const DsimResponse *r)
{
    Caller *c = state;
    g_assert(r->tag < MAX_CALLS);
    CU_ASSERT_EQUAL(r->id, c->ids[r->tag]);
    CU_ASSERT_FALSE(c->done[r->tag]); /* one outcome per call */
    c->done[r->tag] = true;
    c->status[r->tag] = r->status;
    c->latency[r->tag] = r->latency;
    if (r->size > 0) /* a TIMEOUT has no body */
        memcpy(c->body[r->tag], r->body, MIN(r->size, 7u));
    c->outcomes++;
}

static const DsimProtocol caller_protocol = {
    .name = "caller", .summary = "test: makes scripted calls", .state_size = sizeof(Caller),
    .init = clr_init, .on_message = srv_message, .on_timer = clr_timer,
    .on_response = clr_response,
};

/* ---- worlds --------------------------------------------------------------------------- */

static DsimWorld *world(const char *network, const char *faults, uint64_t seed, DsimScenario **out)
{
    g_autofree char *xml = g_strdup_printf(
        "<scenario name='t' seed='1' duration='1s'>"
        "  <network>%s</network>"
        "  <group id='c' protocol='pingpong' count='1'/>"
        "  <group id='s' protocol='pingpong' count='2'/>"
        "  %s"
        "</scenario>", network, faults);
    g_autoptr(GError) error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "calls.xml", &error);
    g_assert(sc != NULL);
    g_array_index(sc->groups, DsimGroupSpec, 0).protocol = &caller_protocol;
    g_array_index(sc->groups, DsimGroupSpec, 1).protocol = &server_protocol;
    *out = sc;
    DsimWorld *w = dsim_world_new(sc, seed, NULL);
    dsim_world_run(w, NULL, NULL);
    return w;
}

static const Caller *caller_of(const DsimWorld *w) { return dsim_world_node_state(w, 0); }

static void set_script(const Script *s, unsigned n)
{
    memcpy(script, s, n * sizeof *s);
    n_script = n;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_each_call_has_one_outcome_by_its_deadline(void)
{
    const Script s[] = {
        { ECHO, 0, DSIM_MS(100) },       /* 10 ms: answered in 2 x 5 ms */
        { SLOW, 0, DSIM_MS(20) },        /* 20 ms: times out at 40 ms; its answer comes late */
        { BLACK_HOLE, 1, DSIM_MS(30) },  /* 30 ms: never answered */
        { ECHO, 99, DSIM_MS(30) },       /* 40 ms: the caller takes no calls: FAIL */
    };
    set_script(s, G_N_ELEMENTS(s));
    DsimScenario *sc;
    DsimWorld *w = world("<latency>5ms</latency>", "", 1, &sc);
    const Caller *c = caller_of(w);
    CU_ASSERT_EQUAL(c->made, 4);
    CU_ASSERT_EQUAL(c->outcomes, 4);
    CU_ASSERT_EQUAL(c->status[0], DSIM_CALL_OK);
    CU_ASSERT_EQUAL(c->latency[0], DSIM_MS(10));
    CU_ASSERT_STRING_EQUAL(c->body[0], "hello");
    CU_ASSERT_EQUAL(c->status[1], DSIM_CALL_TIMEOUT);
    CU_ASSERT_EQUAL(c->latency[1], DSIM_MS(20));
    CU_ASSERT_EQUAL(c->status[2], DSIM_CALL_TIMEOUT);
    CU_ASSERT_EQUAL(c->latency[2], DSIM_MS(30));
    CU_ASSERT_EQUAL(c->status[3], DSIM_CALL_FAIL);
    const DsimCounters *k = dsim_world_counters(w);
    CU_ASSERT_EQUAL(k->calls, 4);
    CU_ASSERT_EQUAL(k->calls_ok, 1);
    CU_ASSERT_EQUAL(k->calls_failed, 1);
    CU_ASSERT_EQUAL(k->calls_timed_out, 2);
    CU_ASSERT_EQUAL(k->dropped[DSIM_DROP_LATE], 1); /* SLOW's answer, at 20+5+50+5 = 80 ms */

    /* spans, in the order the calls ended: echo (20), slow (40), fail (50), black hole (60) */
    CU_ASSERT_EQUAL(dsim_world_n_spans(w), 4);
    const DsimSpan *sp = dsim_world_span(w, 0);
    CU_ASSERT_EQUAL(sp->status, DSIM_SPAN_OK);
    CU_ASSERT_EQUAL(sp->start, DSIM_MS(10));
    CU_ASSERT_EQUAL(sp->served, DSIM_MS(15));
    CU_ASSERT_EQUAL(sp->answered, DSIM_MS(15));
    CU_ASSERT_EQUAL(sp->end, DSIM_MS(20));
    CU_ASSERT_EQUAL(sp->parent, 0);
    CU_ASSERT_EQUAL(sp->trace, sp->id);
    sp = dsim_world_span(w, 1);
    CU_ASSERT_EQUAL(sp->status, DSIM_SPAN_TIMEOUT);
    CU_ASSERT_EQUAL(sp->end, DSIM_MS(40));
    CU_ASSERT_EQUAL(sp->answered, -1); /* the server answered at 75 ms, after the span ended */
    CU_ASSERT_EQUAL(dsim_world_span(w, 2)->status, DSIM_SPAN_FAIL);
    CU_ASSERT_EQUAL(dsim_world_span(w, 3)->status, DSIM_SPAN_TIMEOUT);

    /* by route: c -> c echo (FAIL), c -> s echo, c -> s m4 (black hole), c -> s slow */
    GArray *stats = dsim_report_call_stats(w);
    CU_ASSERT_EQUAL_FATAL(stats->len, 4);
    const DsimCallStat *st = &g_array_index(stats, DsimCallStat, 0);
    CU_ASSERT_STRING_EQUAL(st->callee, "c");
    CU_ASSERT_EQUAL(st->failed, 1);
    st = &g_array_index(stats, DsimCallStat, 1);
    CU_ASSERT_STRING_EQUAL(st->callee, "s");
    CU_ASSERT_STRING_EQUAL(st->method, "echo");
    CU_ASSERT_EQUAL(st->ok, 1);
    CU_ASSERT_DOUBLE_EQUAL(st->p50, 0.010, 1e-12);
    st = &g_array_index(stats, DsimCallStat, 2);
    CU_ASSERT_STRING_EQUAL(st->method, "m4");
    CU_ASSERT_EQUAL(st->timed_out, 1);
    CU_ASSERT_DOUBLE_EQUAL(st->max, 0.030, 1e-12);
    CU_ASSERT_STRING_EQUAL(g_array_index(stats, DsimCallStat, 3).method, "slow");
    dsim_call_stats_free(stats);

    char buf[16];
    CU_ASSERT_STRING_EQUAL(dsim_world_method_name(w, 1, SLOW, buf), "slow");
    CU_ASSERT_STRING_EQUAL(dsim_world_method_name(w, 1, BLACK_HOLE, buf), "m4");
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_a_call_made_while_serving_one_joins_its_trace(void)
{
    const Script s[] = { { NESTED, 0, DSIM_MS(100) } };
    set_script(s, 1);
    DsimScenario *sc;
    DsimWorld *w = world("<latency>5ms</latency>", "", 1, &sc);
    const Caller *c = caller_of(w);
    CU_ASSERT_EQUAL(c->status[0], DSIM_CALL_OK);
    CU_ASSERT_STRING_EQUAL(c->body[0], "nested");
    CU_ASSERT_EQUAL(c->latency[0], DSIM_MS(20)); /* c1 -> s1 -> s2 -> s1 -> c1 */
    CU_ASSERT_EQUAL(dsim_world_n_spans(w), 2);
    const DsimSpan *inner = dsim_world_span(w, 0), *outer = dsim_world_span(w, 1);
    CU_ASSERT_EQUAL(outer->parent, 0);
    CU_ASSERT_EQUAL(inner->parent, outer->id);
    CU_ASSERT_EQUAL(inner->trace, outer->trace);
    CU_ASSERT_EQUAL(inner->caller, 1); /* s1 */
    CU_ASSERT_EQUAL(inner->callee, 2); /* s2 */
    CU_ASSERT_EQUAL(inner->start, DSIM_MS(15));
    CU_ASSERT_EQUAL(inner->end, DSIM_MS(25));

    /* spans.json: Zipkin v2, a CLIENT and a SERVER half per answered call, ids in hex */
    g_autoptr(GString) json = dsim_report_spans_json(w);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    g_autofree char *outer_id = g_strdup_printf("\"id\": \"%016" PRIx64 "\"", outer->id);
    g_autofree char *inner_parent = g_strdup_printf("\"parentId\": \"%016" PRIx64 "\"", outer->id);
    CU_ASSERT_PTR_NOT_NULL(strstr(json->str, outer_id));
    CU_ASSERT_PTR_NOT_NULL(strstr(json->str, inner_parent));
    unsigned clients = 0, servers = 0;
    for (const char *p = json->str; (p = strstr(p, "\"kind\": \"")) != NULL; p++) {
        clients += strncmp(p + 9, "CLIENT", 6) == 0;
        servers += strncmp(p + 9, "SERVER", 6) == 0;
    }
    CU_ASSERT_EQUAL(clients, 2);
    CU_ASSERT_EQUAL(servers, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(json->str, "\"name\": \"nested\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(json->str, "\"serviceName\": \"c\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(json->str, "\"timestamp\": 15000")); /* us */

    /* the report's slowest traces: the one trace, outer call first, then its child */
    GArray *rows = dsim_report_slowest_traces(w);
    CU_ASSERT_EQUAL_FATAL(rows->len, 2);
    CU_ASSERT_EQUAL(g_array_index(rows, DsimTraceRow, 0).id, outer->id);
    CU_ASSERT_EQUAL(g_array_index(rows, DsimTraceRow, 1).parent, outer->id);
    CU_ASSERT_STRING_EQUAL(g_array_index(rows, DsimTraceRow, 1).method, "echo");
    CU_ASSERT_STRING_EQUAL(g_array_index(rows, DsimTraceRow, 1).callee, "s2");
    dsim_trace_rows_free(rows);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_traces_survive_an_answer_and_can_be_joined(void)
{
    const Script s[] = { { ANSWER_THEN_ASK, 0, DSIM_MS(100) }, { ECHO, 1, DSIM_MS(100), true } };
    set_script(s, 2);
    DsimScenario *sc;
    DsimWorld *w = world("<latency>5ms</latency>", "", 1, &sc);
    CU_ASSERT_EQUAL(caller_of(w)->outcomes, 2);
    const DsimSpan *first = NULL, *inner = NULL, *joined = NULL;
    for (unsigned i = 0; i < dsim_world_n_spans(w); i++) {
        const DsimSpan *sp = dsim_world_span(w, i);
        if (sp->method == ANSWER_THEN_ASK)
            first = sp;
        else if (sp->method == BLACK_HOLE)
            inner = sp;
        else if (sp->method == ECHO)
            joined = sp;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    CU_ASSERT_PTR_NOT_NULL_FATAL(inner);
    CU_ASSERT_PTR_NOT_NULL_FATAL(joined);
    CU_ASSERT_EQUAL(inner->parent, first->id); /* made after the answer, in the same handler */
    CU_ASSERT_EQUAL(inner->trace, first->trace);
    CU_ASSERT_EQUAL(joined->trace, first->id); /* joined with opts.trace */
    CU_ASSERT_EQUAL(joined->parent, 0);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_a_crash_forgets_the_calls_of_that_life(void)
{
    /* the caller makes SLOW at 10 ms (answer due at 70 ms, deadline 210 ms), crashes at 15 ms,
     * restarts at 50 ms and calls again; the first call's outcome never comes */
    const Script s[] = { { SLOW, 0, DSIM_MS(200) }, { ECHO, 0, DSIM_MS(100) } };
    set_script(s, 2);
    DsimScenario *sc;
    DsimWorld *w = world("<latency>5ms</latency>",
                         "<faults><crash at='15ms' node='c1'/><restart at='50ms' node='c1'/></faults>",
                         1, &sc);
    const Caller *c = caller_of(w);
    /* the new life starts its script over at 60 ms: SLOW, answered at 120 ms, and ECHO */
    CU_ASSERT_EQUAL(c->outcomes, 2);
    CU_ASSERT_EQUAL(c->status[0], DSIM_CALL_OK);
    CU_ASSERT_STRING_EQUAL(c->body[0], "slow");
    CU_ASSERT_EQUAL(c->status[1], DSIM_CALL_OK);
    const DsimCounters *k = dsim_world_counters(w);
    CU_ASSERT_EQUAL(k->calls, 3);
    CU_ASSERT_EQUAL(k->dropped[DSIM_DROP_LATE], 1); /* the old life's answer, at 70 ms */
    unsigned lost = 0;
    for (unsigned i = 0; i < dsim_world_n_spans(w); i++)
        lost += dsim_world_span(w, i)->status == DSIM_SPAN_LOST;
    CU_ASSERT_EQUAL(lost, 1);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_calls_are_never_duplicated_and_lost_ones_time_out(void)
{
    const Script s[] = { { ECHO, 0, DSIM_MS(50) }, { ECHO, 1, DSIM_MS(50) } };
    set_script(s, 2);
    DsimScenario *sc;
    DsimWorld *w = world("<latency>5ms</latency><duplicate>1</duplicate>", "", 1, &sc);
    const Server *s1 = dsim_world_node_state(w, 1);
    CU_ASSERT_EQUAL(s1->served, 1);
    CU_ASSERT_EQUAL(caller_of(w)->outcomes, 2);
    CU_ASSERT_EQUAL(dsim_world_counters(w)->duplicated, 0);
    dsim_world_free(w);
    dsim_scenario_free(sc);

    w = world("<latency>5ms</latency><loss>1</loss>", "", 1, &sc);
    const Caller *c = caller_of(w);
    CU_ASSERT_EQUAL(c->outcomes, 2);
    CU_ASSERT_EQUAL(c->status[0], DSIM_CALL_TIMEOUT);
    CU_ASSERT_EQUAL(c->status[1], DSIM_CALL_TIMEOUT);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_calls_are_deterministic(void)
{
    const Script s[] = { { ECHO, 0, DSIM_MS(12) }, { NESTED, 1, DSIM_MS(25) }, { SLOW, 1, DSIM_MS(60) } };
    set_script(s, G_N_ELEMENTS(s));
    DsimScenario *sc1, *sc2;
    DsimWorld *a = world("<latency>uniform(1ms,9ms)</latency><loss>0.2</loss>", "", 7, &sc1);
    DsimWorld *b = world("<latency>uniform(1ms,9ms)</latency><loss>0.2</loss>", "", 7, &sc2);
    CU_ASSERT_EQUAL(dsim_world_trace_hash(a), dsim_world_trace_hash(b));
    CU_ASSERT_EQUAL(dsim_world_n_spans(a), dsim_world_n_spans(b));
    for (unsigned i = 0; i < dsim_world_n_spans(a) && i < dsim_world_n_spans(b); i++) {
        const DsimSpan *x = dsim_world_span(a, i), *y = dsim_world_span(b, i);
        CU_ASSERT(x->trace == y->trace && x->id == y->id && x->parent == y->parent
                  && x->caller == y->caller && x->callee == y->callee && x->method == y->method
                  && x->status == y->status && x->start == y->start && x->end == y->end
                  && x->served == y->served && x->answered == y->answered);
    }
    dsim_world_free(a);
    dsim_world_free(b);
    dsim_scenario_free(sc1);
    dsim_scenario_free(sc2);
}

CU_TestInfo calls_tests[] = {
    { "each call has one outcome by its deadline", test_each_call_has_one_outcome_by_its_deadline },
    { "a call made while serving one joins its trace", test_a_call_made_while_serving_one_joins_its_trace },
    { "traces survive an answer and can be joined", test_traces_survive_an_answer_and_can_be_joined },
    { "a crash forgets the calls of that life", test_a_crash_forgets_the_calls_of_that_life },
    { "calls are never duplicated and lost ones time out", test_calls_are_never_duplicated_and_lost_ones_time_out },
    { "calls are deterministic", test_calls_are_deterministic },
    CU_TEST_INFO_NULL,
};
