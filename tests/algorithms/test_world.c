/* test_world.c - the node runtime in tiny worlds: determinism, stream independence,
 * timers (cancel, crash, drift), pause, and durable storage across crashes.
 *
 * Some tests need a protocol with one specific behaviour (persisting without syncing,
 * burning random numbers). Those protocols are defined here, and put into a world by loading
 * a pingpong scenario and swapping the group's protocol table before the world is built: the
 * kernel only ever sees the ops table, so this is exactly what a real protocol would get.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "sim/scenario.h"
#include "sim/world.h"

static DsimScenario *load(const char *xml)
{
    g_autoptr(GError) error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "test.xml", &error);
    if (sc == NULL)
        printf("\n%s\n", error->message);
    g_assert(sc != NULL);
    return sc;
}

static const char *two_nodes =
    "<scenario name='t' seed='5' duration='1s'>"
    "  <network><latency>uniform(1ms,9ms)</latency></network>"
    "  <group id='n' protocol='pingpong' count='2'/>"
    "</scenario>";

/* ---- a recorder: a periodic counter kept in durable storage -------------------- */

typedef struct {
    uint64_t    counter;  /* persisted at every tick, synced only at even values */
    uint64_t    fired;    /* ticks in this incarnation */
    DsimTimerId doomed;   /* a timer set and cancelled at init */
    bool        recovered;
} Recorder;

enum { TICK = 1, DOOMED = 2 };

static void rec_init(void *state, DsimCtx *ctx)
{
    Recorder *r = state;
    dsim_timer_set(ctx, DSIM_MS(10), TICK, 0);
    r->doomed = dsim_timer_set(ctx, DSIM_MS(5), DOOMED, 0);
    dsim_timer_cancel(ctx, r->doomed);
}

static void rec_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    Recorder *r = state;
    g_assert(kind == TICK); /* the cancelled timer never fires */
    r->counter++;
    r->fired++;
    dsim_persist(ctx, 1, &r->counter, sizeof r->counter);
    if (r->counter % 2 == 0)
        dsim_sync(ctx);
    dsim_timer_set(ctx, DSIM_MS(10), TICK, 0);
}

static void rec_message(void *state, DsimCtx *ctx, const DsimMsg *msg) {}

static void rec_recover(void *state, DsimCtx *ctx)
{
    Recorder *r = state;
    size_t len = 0;
    if (!dsim_load(ctx, 1, &r->counter, sizeof r->counter, &len))
        r->counter = 0;
    r->recovered = true;
    dsim_timer_set(ctx, DSIM_MS(10), TICK, 0);
}

static const DsimProtocol recorder_protocol = {
    .name = "recorder",
    .summary = "test: a counter in durable storage",
    .state_size = sizeof(Recorder),
    .init = rec_init,
    .on_message = rec_message,
    .on_timer = rec_timer,
    .on_recover = rec_recover,
};

static DsimWorld *world_with(DsimScenario *sc, const DsimProtocol *p, uint64_t seed)
{
    g_array_index(sc->groups, DsimGroupSpec, 0).protocol = p;
    return dsim_world_new(sc, seed, NULL);
}

static void test_synced_writes_survive_a_crash_and_unsynced_ones_may_not(void)
{
    for (int lose = 0; lose <= 1; lose++) {
        g_autoptr(DsimScenario) sc = load(two_nodes);
        g_autoptr(DsimWorld) w = world_with(sc, &recorder_protocol, 1);
        dsim_world_run_until(w, DSIM_MS(35)); /* ticks at 10, 20, 30: counter 3, synced at 2 */
        const Recorder *r = dsim_world_node_state(w, 0);
        CU_ASSERT_EQUAL(r->counter, 3);
        dsim_world_crash(w, 0, lose);
        CU_ASSERT_EQUAL(dsim_world_node_status(w, 0), DSIM_NODE_CRASHED);
        CU_ASSERT_EQUAL(r->counter, 0); /* volatile state is gone */
        dsim_world_restart(w, 0);
        CU_ASSERT_TRUE(r->recovered);
        CU_ASSERT_EQUAL(r->counter, lose ? 2 : 3);
        CU_ASSERT_EQUAL(dsim_world_counters(w)->unsynced_lost, lose ? 1 : 0);
    }
}

static void test_timers_of_a_crashed_incarnation_never_fire(void)
{
    g_autoptr(DsimScenario) sc = load(two_nodes);
    g_autoptr(DsimWorld) w = world_with(sc, &recorder_protocol, 1);
    dsim_world_run_until(w, DSIM_MS(15)); /* tick at 10 ms, next pending at 20 ms */
    dsim_world_crash(w, 0, false);
    dsim_world_run_until(w, DSIM_MS(17));
    dsim_world_restart(w, 0); /* sets a new tick at 27 ms */
    dsim_world_run_until(w, DSIM_MS(26));
    const Recorder *r = dsim_world_node_state(w, 0);
    CU_ASSERT_EQUAL(r->fired, 0); /* the tick due at 20 ms died with the crash */
    dsim_world_run_until(w, DSIM_MS(28));
    CU_ASSERT_EQUAL(r->fired, 1);
    /* node 1 was never crashed: ticks at 10 and 20 */
    CU_ASSERT_EQUAL(((const Recorder *) dsim_world_node_state(w, 1))->fired, 2);
}

static void test_a_paused_node_handles_nothing_until_resumed(void)
{
    g_autoptr(DsimScenario) sc = load(two_nodes);
    g_autoptr(DsimWorld) w = world_with(sc, &recorder_protocol, 1);
    dsim_world_run_until(w, DSIM_MS(12));
    dsim_world_pause(w, 0);
    dsim_world_run_until(w, DSIM_MS(45));
    const Recorder *r = dsim_world_node_state(w, 0);
    CU_ASSERT_EQUAL(r->fired, 1); /* the 20 ms tick waits */
    CU_ASSERT_EQUAL(r->counter, 1); /* state kept while paused */
    dsim_world_resume(w, 0);
    dsim_world_run_until(w, DSIM_MS(45));
    CU_ASSERT_EQUAL(r->fired, 2); /* fired at the resume instant, re-armed for 55 ms */
    dsim_world_run_until(w, DSIM_MS(56));
    CU_ASSERT_EQUAL(r->fired, 3);
}

static void test_a_drifting_clock_fires_timers_at_its_rate(void)
{
    g_autoptr(DsimScenario) sc = load(two_nodes);
    g_autoptr(DsimWorld) w = world_with(sc, &recorder_protocol, 1);
    dsim_world_run_until(w, 0);
    dsim_world_set_drift(w, 0, 2.0); /* node 0's clock runs twice as fast */
    dsim_world_run_until(w, DSIM_MS(25));
    /* node 0: the tick set at 0 ms before the drift still fires at 10 ms; then 10 ms of
     * its clock are 5 ms of real time: 15, 20, 25 */
    CU_ASSERT_EQUAL(((const Recorder *) dsim_world_node_state(w, 0))->fired, 4);
    CU_ASSERT_EQUAL(((const Recorder *) dsim_world_node_state(w, 1))->fired, 2);
}

/* ---- chatter: sends every 10 ms; the noisy variant also burns its own randomness ---- */

typedef struct {
    uint64_t sent;
} Chatter;

static void chat_init(void *state, DsimCtx *ctx) { dsim_timer_set(ctx, DSIM_MS(10), 1, 0); }

static void chat_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    Chatter *c = state;
    uint64_t body = ++c->sent;
    dsim_send(ctx, (dsim_self(ctx) + 1) % dsim_group_size(ctx), 1, &body, sizeof body);
    dsim_timer_set(ctx, DSIM_MS(10), 1, 0);
}

static void noisy_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    for (int i = 0; i < 5; i++)
        (void) dsim_rand(ctx);
    chat_timer(state, ctx, kind, arg);
}

static const DsimProtocol quiet_chatter = {
    .name = "chatter", .summary = "test", .state_size = sizeof(Chatter),
    .init = chat_init, .on_message = rec_message, .on_timer = chat_timer,
};
static const DsimProtocol noisy_chatter = {
    .name = "chatter", .summary = "test", .state_size = sizeof(Chatter),
    .init = chat_init, .on_message = rec_message, .on_timer = noisy_timer,
};

static void collect_delays(void *self, const DsimWorld *w, const DsimRecord *rec)
{
    if (rec->kind == DSIM_REC_SEND) {
        DsimTime d = rec->time_arrive - rec->time;
        g_array_append_val((GArray *) self, d);
    }
}

static const DsimObserver delay_observer = { .on_record = collect_delays };

static GArray *delays_of(const DsimProtocol *p, uint64_t seed, uint64_t *hash)
{
    g_autoptr(DsimScenario) sc = load(two_nodes);
    g_autoptr(DsimWorld) w = world_with(sc, p, seed);
    GArray *delays = g_array_new(FALSE, FALSE, sizeof(DsimTime));
    dsim_world_add_observer(w, &delay_observer, delays);
    dsim_world_run(w, NULL, NULL);
    if (hash != NULL)
        *hash = dsim_world_trace_hash(w);
    return delays;
}

static void test_a_protocols_own_draws_leave_network_delays_unchanged(void)
{
    g_autoptr(GArray) quiet = delays_of(&quiet_chatter, 77, NULL);
    g_autoptr(GArray) noisy = delays_of(&noisy_chatter, 77, NULL);
    CU_ASSERT_TRUE_FATAL(quiet->len > 100);
    CU_ASSERT_EQUAL_FATAL(quiet->len, noisy->len);
    CU_ASSERT_EQUAL(memcmp(quiet->data, noisy->data, quiet->len * sizeof(DsimTime)), 0);
    /* and the delays really are random: another seed gives other delays */
    g_autoptr(GArray) other = delays_of(&quiet_chatter, 78, NULL);
    CU_ASSERT_NOT_EQUAL(memcmp(quiet->data, other->data, quiet->len * sizeof(DsimTime)), 0);
}

static void test_the_same_seed_gives_the_same_trace_hash(void)
{
    uint64_t a = 0, b = 0, c = 0;
    g_autoptr(GArray) d1 = delays_of(&quiet_chatter, 5, &a);
    g_autoptr(GArray) d2 = delays_of(&quiet_chatter, 5, &b);
    g_autoptr(GArray) d3 = delays_of(&quiet_chatter, 6, &c);
    CU_ASSERT_EQUAL(a, b);
    CU_ASSERT_NOT_EQUAL(a, c);
}

static void test_pingpong_bounces_once_per_link_delay(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name='t' seed='1' duration='2s'>"
        "  <network><latency>10ms</latency></network>"
        "  <group id='p' protocol='pingpong' count='2'><param name='count'>100</param></group>"
        "</scenario>");
    g_autoptr(DsimWorld) w = dsim_world_new(sc, 1, NULL);
    dsim_world_run_until(w, DSIM_MS(995));
    CU_ASSERT_EQUAL(dsim_world_counters(w)->delivered, 99); /* seqs 1..99 arrive at 10..990 ms */
    dsim_world_run(w, NULL, NULL);
    CU_ASSERT_EQUAL(dsim_world_counters(w)->delivered, 100);
    CU_ASSERT_EQUAL(dsim_world_counters(w)->sent, 100);
    CU_ASSERT_EQUAL(dsim_world_now(w), DSIM_S(2));
    CU_ASSERT_TRUE(dsim_world_passed(w));
}

/* ---- a scripted leader: member 1 leads term 1; member 2 takes over (term 2) at 1.5 s ---- */

typedef struct {
    DsimRole role;
    uint64_t term;
} Scripted;

static void script_init(void *state, DsimCtx *ctx)
{
    Scripted *s = state;
    s->role = dsim_self_index(ctx) == 0 ? DSIM_ROLE_LEADER : DSIM_ROLE_FOLLOWER;
    s->term = 1;
    if (dsim_self_index(ctx) == 1)
        dsim_timer_set(ctx, DSIM_MS(1500), 1, 0);
}

static void script_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    Scripted *s = state;
    s->role = DSIM_ROLE_LEADER;
    s->term = 2;
    for (unsigned i = 0; i < dsim_group_size(ctx); i++) {
        if (i != dsim_self_index(ctx))
            dsim_send(ctx, dsim_group_member(ctx, i), 1, &s->term, sizeof s->term);
    }
}

static void script_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    Scripted *s = state;
    s->term = *DSIM_MSG_BODY(msg, uint64_t);
    s->role = DSIM_ROLE_FOLLOWER;
}

static void script_describe(const void *state, DsimView *v)
{
    const Scripted *s = state;
    v->role = s->role;
    v->term = s->term;
}

static const DsimProtocol scripted_protocol = {
    .name = "scripted", .summary = "test", .state_size = sizeof(Scripted), .leader_based = true,
    .init = script_init, .on_message = script_message, .on_timer = script_timer,
    .describe = script_describe,
};

static double metric_sample(DsimWorld *w, const char *name, size_t i, size_t *n)
{
    const DsimTime *t;
    const double *v;
    *n = dsim_world_metric_samples(w, name, &t, &v);
    return i < *n ? v[i] : -1;
}

static void test_election_time_runs_from_losing_a_leader_to_the_next_one(void)
{
    g_autoptr(DsimScenario) sc = load(
        "<scenario name='t' seed='5' duration='3s'>"
        "  <network><latency>10ms</latency></network>"
        "  <group id='n' protocol='pingpong' count='3'/>"
        "  <faults><crash at='1s' node='n1'/></faults>"
        "</scenario>");
    g_autoptr(DsimWorld) w = world_with(sc, &scripted_protocol, 1);
    dsim_world_run(w, NULL, NULL);
    size_t n;
    /* the first leader exists from the start; n1 crashes at 1 s; n2 leads term 2 at 1.5 s
     * and a majority knows the term once n3 hears of it, 10 ms later */
    CU_ASSERT_DOUBLE_EQUAL(metric_sample(w, "first_leader_seconds", 0, &n), 0.0, 1e-9);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_DOUBLE_EQUAL(metric_sample(w, "election_time_seconds", 0, &n), 0.51, 1e-9);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_DOUBLE_EQUAL(metric_sample(w, "leaderless_seconds", 1, &n), 0.51, 1e-9);
    CU_ASSERT_EQUAL(n, 2);
    metric_sample(w, "leader_changes", 0, &n);
    CU_ASSERT_EQUAL(n, 2);
}

CU_TestInfo world_tests[] = {
    { "election time runs from losing a leader to the next one", test_election_time_runs_from_losing_a_leader_to_the_next_one },
    { "synced writes survive a crash and unsynced ones may not", test_synced_writes_survive_a_crash_and_unsynced_ones_may_not },
    { "timers of a crashed incarnation never fire", test_timers_of_a_crashed_incarnation_never_fire },
    { "a paused node handles nothing until resumed", test_a_paused_node_handles_nothing_until_resumed },
    { "a drifting clock fires timers at its rate", test_a_drifting_clock_fires_timers_at_its_rate },
    { "a protocol's own draws leave network delays unchanged", test_a_protocols_own_draws_leave_network_delays_unchanged },
    { "the same seed gives the same trace hash", test_the_same_seed_gives_the_same_trace_hash },
    { "pingpong bounces once per link delay", test_pingpong_bounces_once_per_link_delay },
    CU_TEST_INFO_NULL,
};
