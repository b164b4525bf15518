/* test_gossip_swim.c - SWIM membership and failure detection (Das, Gupta & Motivala 2002),
 * one behaviour per test: the probe of §3.1, suspicion and refutation (§4.2), piggybacked
 * dissemination (§4.1), round-robin targets (§4.3), joins and leaves, healing after a long
 * partition (Serf's reconnect, memberlist's push/pull and its reinstatement rule), and small
 * worlds in which a crash is detected, a partition heals, and every member ends up with the
 * same view. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "algorithms/gossip/swim.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "tests/algorithms/tests.h"
#include "tests/lib/harness.h"

/* ---- helpers --------------------------------------------------------------------- */

static Harness *new_member(unsigned n, unsigned self)
{
    return harness_new(&swim_protocol, "s", n, self, 5);
}

static void deliver(Harness *h, unsigned from, uint16_t type, uint32_t seq, uint32_t target,
                    uint32_t on_behalf, const SwimUpdate *u, unsigned nu)
{
    size_t size = sizeof(SwimBody) + nu * sizeof(SwimUpdate);
    g_autofree SwimBody *b = g_malloc0(size);
    b->seq = seq;
    b->target = target;
    b->on_behalf = on_behalf;
    b->n_updates = nu;
    if (nu > 0)
        memcpy(b->updates, u, nu * sizeof(SwimUpdate));
    harness_deliver(h, from, type, b, size);
}

static const SwimBody *body(const Harness *h, unsigned i)
{
    CU_ASSERT_FATAL(i < harness_n_sent(h));
    return harness_sent(h, i)->body;
}

static const HarnessTimer *timer_of(const Harness *h, unsigned kind)
{
    for (unsigned i = harness_n_timers(h); i-- > 0;) {
        if (harness_timer(h, i)->kind == kind)
            return harness_timer(h, i);
    }
    return NULL;
}

static const SwimNode *node(Harness *h) { return harness_state(h); }

/* Fires the member's next tick and returns the target of the ping it sent. */
static uint32_t tick(Harness *h)
{
    harness_clear(h);
    harness_fire(h, SWIM_TIMER_TICK, 0);
    for (unsigned i = 0; i < harness_n_sent(h); i++) {
        if (harness_sent(h, i)->type == SWIM_MSG_PING)
            return harness_sent(h, i)->to;
    }
    return SWIM_NOBODY;
}

/* ---- the probe (§3.1) --------------------------------------------------------------- */

static void test_a_ping_is_answered_with_an_ack_of_the_same_seq(void)
{
    g_autoptr(Harness) h = new_member(5, 2);
    harness_init(h);
    deliver(h, 0, SWIM_MSG_PING, 7, 2, SWIM_NOBODY, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->to, 0);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->type, SWIM_MSG_ACK);
    CU_ASSERT_EQUAL(body(h, 0)->seq, 7);
    CU_ASSERT_EQUAL(body(h, 0)->target, 2);
    CU_ASSERT_EQUAL(body(h, 0)->on_behalf, SWIM_NOBODY);
}

static void test_round_robin_probes_every_member_once_per_pass(void)
{
    /* §4.3: n - 1 ticks probe each other member exactly once */
    g_autoptr(Harness) h = new_member(8, 3);
    harness_init(h);
    unsigned hits[8] = { 0 };
    for (unsigned i = 0; i < 7; i++) {
        uint32_t t = tick(h);
        CU_ASSERT_FATAL(t < 8);
        hits[t]++;
        deliver(h, t, SWIM_MSG_ACK, node(h)->probe_seq, t, SWIM_NOBODY, NULL, 0);
    }
    for (unsigned m = 0; m < 8; m++)
        CU_ASSERT_EQUAL(hits[m], m == 3 ? 0 : 1);
}

static void test_no_direct_ack_sends_ping_req_to_k_members(void)
{
    g_autoptr(Harness) h = new_member(10, 0);
    harness_init(h);
    uint32_t target = tick(h);
    const HarnessTimer *t = timer_of(h, SWIM_TIMER_PING_TIMEOUT);
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT_EQUAL(t->delay, DSIM_MS(200));
    harness_clear(h);
    harness_fire(h, SWIM_TIMER_PING_TIMEOUT, t->arg);
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 3);
    for (unsigned i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(harness_sent(h, i)->type, SWIM_MSG_PING_REQ);
        CU_ASSERT_EQUAL(body(h, i)->target, target);
        CU_ASSERT_NOT_EQUAL(harness_sent(h, i)->to, target);
        CU_ASSERT_NOT_EQUAL(harness_sent(h, i)->to, 0);
    }
}

static void test_an_intermediary_pings_on_behalf_and_relays_the_ack(void)
{
    g_autoptr(Harness) h = new_member(10, 4);
    harness_init(h);
    deliver(h, 1, SWIM_MSG_PING_REQ, 9, 6, SWIM_NOBODY, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->to, 6);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->type, SWIM_MSG_PING);
    CU_ASSERT_EQUAL(body(h, 0)->on_behalf, 1);
    harness_clear(h);
    deliver(h, 6, SWIM_MSG_ACK, 9, 6, 1, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->to, 1);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->type, SWIM_MSG_ACK);
    CU_ASSERT_EQUAL(body(h, 0)->seq, 9);
    CU_ASSERT_EQUAL(body(h, 0)->target, 6);
    CU_ASSERT_EQUAL(body(h, 0)->on_behalf, SWIM_NOBODY);
}

static void test_an_indirect_ack_saves_the_target(void)
{
    g_autoptr(Harness) h = new_member(10, 0);
    harness_init(h);
    uint32_t target = tick(h);
    deliver(h, 5, SWIM_MSG_ACK, node(h)->probe_seq, target, SWIM_NOBODY, NULL, 0);
    tick(h);
    CU_ASSERT_EQUAL(node(h)->view[target].status, SWIM_ALIVE);
}

/* ---- suspicion (§4.2) ------------------------------------------------------------- */

static void test_an_unanswered_probe_is_suspected_then_confirmed_after_the_timeout(void)
{
    g_autoptr(Harness) h = new_member(20, 0);
    harness_init(h);
    uint32_t target = tick(h);
    tick(h); /* the end of the period: no ack came */
    CU_ASSERT_EQUAL(node(h)->view[target].status, SWIM_SUSPECT);
    CU_ASSERT_EQUAL(harness_count_metric(h, "suspected_at_seconds"), 1);
    const HarnessTimer *t = timer_of(h, SWIM_TIMER_SUSPECT);
    CU_ASSERT_FATAL(t != NULL);
    /* the default: suspicion_mult 3 * ceil(log10(21)) = 2 periods -> 6 s */
    CU_ASSERT_EQUAL(t->delay, DSIM_S(6));
    CU_ASSERT_EQUAL((uint32_t) t->arg, target);
    harness_clear(h);
    harness_fire_timer(h, t->id);
    CU_ASSERT_EQUAL(node(h)->view[target].status, SWIM_DEAD);
    CU_ASSERT_EQUAL(harness_count_metric(h, "confirmed_at_seconds"), 1);
    CU_ASSERT_EQUAL(harness_count_metric(h, "dead_known_at_seconds"), 1);
}

static void test_a_refuted_suspicion_is_not_confirmed(void)
{
    g_autoptr(Harness) h = new_member(20, 0);
    harness_init(h);
    SwimUpdate suspect = { .member = 7, .incarnation = 0, .kind = SWIM_UPDATE_SUSPECT };
    deliver(h, 3, SWIM_MSG_PING, 1, 0, SWIM_NOBODY, &suspect, 1);
    CU_ASSERT_EQUAL(node(h)->view[7].status, SWIM_SUSPECT);
    const HarnessTimer *t = timer_of(h, SWIM_TIMER_SUSPECT);
    CU_ASSERT_FATAL(t != NULL);
    SwimUpdate alive = { .member = 7, .incarnation = 1, .kind = SWIM_UPDATE_ALIVE };
    deliver(h, 7, SWIM_MSG_PING, 2, 0, SWIM_NOBODY, &alive, 1);
    CU_ASSERT_EQUAL(node(h)->view[7].status, SWIM_ALIVE);
    CU_ASSERT_EQUAL(node(h)->view[7].incarnation, 1);
    harness_fire_timer(h, t->id);
    CU_ASSERT_EQUAL(node(h)->view[7].status, SWIM_ALIVE);
}

static void test_a_suspected_member_refutes_with_a_higher_incarnation(void)
{
    g_autoptr(Harness) h = new_member(20, 4);
    harness_init(h);
    SwimUpdate suspect = { .member = 4, .incarnation = 0, .kind = SWIM_UPDATE_SUSPECT };
    deliver(h, 3, SWIM_MSG_PING, 1, 4, SWIM_NOBODY, &suspect, 1);
    CU_ASSERT_EQUAL(node(h)->view[4].incarnation, 1);
    CU_ASSERT_EQUAL(harness_count_metric(h, "refuted"), 1);
    /* the ack it sent carries the refutation */
    const SwimBody *b = body(h, 0);
    CU_ASSERT_EQUAL_FATAL(b->n_updates, 1);
    CU_ASSERT_EQUAL(b->updates[0].member, 4);
    CU_ASSERT_EQUAL(b->updates[0].incarnation, 1);
    CU_ASSERT_EQUAL(b->updates[0].kind, SWIM_UPDATE_ALIVE);
}

/* The override rules of §4.2, as a table: (view status, view incarnation, update kind,
 * update incarnation) -> status after. */
static void test_updates_follow_the_override_rules(void)
{
    static const struct {
        uint8_t  before;
        uint32_t j;
        uint32_t kind, i;
        uint8_t  after;
    } rules[] = {
        { SWIM_ALIVE, 1, SWIM_UPDATE_ALIVE, 1, SWIM_ALIVE },       /* not newer: ignored */
        { SWIM_SUSPECT, 1, SWIM_UPDATE_ALIVE, 1, SWIM_SUSPECT },   /* Alive needs i > j */
        { SWIM_SUSPECT, 1, SWIM_UPDATE_ALIVE, 2, SWIM_ALIVE },
        { SWIM_ALIVE, 1, SWIM_UPDATE_SUSPECT, 1, SWIM_SUSPECT },   /* Suspect: i >= j */
        { SWIM_ALIVE, 2, SWIM_UPDATE_SUSPECT, 1, SWIM_ALIVE },
        { SWIM_SUSPECT, 1, SWIM_UPDATE_SUSPECT, 1, SWIM_SUSPECT },
        { SWIM_ALIVE, 1, SWIM_UPDATE_CONFIRM, 1, SWIM_DEAD },
        { SWIM_ALIVE, 2, SWIM_UPDATE_CONFIRM, 1, SWIM_ALIVE },     /* a stale Confirm */
        { SWIM_DEAD, 1, SWIM_UPDATE_ALIVE, 1, SWIM_DEAD },
        { SWIM_DEAD, 1, SWIM_UPDATE_ALIVE, 2, SWIM_ALIVE },        /* a refutation it missed */
        { SWIM_DEAD, 1, SWIM_UPDATE_JOIN, 2, SWIM_ALIVE },
        { SWIM_DEAD, 1, SWIM_UPDATE_JOIN, 1, SWIM_DEAD },
        { SWIM_ALIVE, 0, SWIM_UPDATE_LEAVE, 0, SWIM_LEFT },
    };
    for (unsigned r = 0; r < G_N_ELEMENTS(rules); r++) {
        g_autoptr(Harness) h = new_member(10, 0);
        harness_init(h);
        SwimNode *s = harness_state(h);
        s->view[5] = (SwimMember) { .incarnation = rules[r].j, .status = rules[r].before };
        SwimUpdate u = { .member = 5, .incarnation = rules[r].i, .kind = rules[r].kind };
        deliver(h, 3, SWIM_MSG_PING, 1, 0, SWIM_NOBODY, &u, 1);
        if (s->view[5].status != rules[r].after)
            printf("\nrule %u: status %u, expected %u\n", r, s->view[5].status, rules[r].after);
        CU_ASSERT_EQUAL(s->view[5].status, rules[r].after);
    }
}

/* The extension of the override rules (memberlist's aliveNode): only an Alive or Join at an
 * incarnation strictly above the confirmed one takes a member back; older or equal ones are
 * stale news from before the Confirm. */
static void test_reinstatement_is_ordered_by_incarnation(void)
{
    g_autoptr(Harness) h = new_member(10, 0);
    harness_init(h);
    SwimUpdate u[] = {
        { .member = 5, .incarnation = 2, .kind = SWIM_UPDATE_ALIVE },   /* 5 refuted twice */
        { .member = 5, .incarnation = 2, .kind = SWIM_UPDATE_CONFIRM }, /* then confirmed */
        { .member = 5, .incarnation = 1, .kind = SWIM_UPDATE_ALIVE },   /* older: stale */
        { .member = 5, .incarnation = 2, .kind = SWIM_UPDATE_ALIVE },   /* the same: stale */
        { .member = 5, .incarnation = 2, .kind = SWIM_UPDATE_JOIN },
    };
    deliver(h, 3, SWIM_MSG_PING, 1, 0, SWIM_NOBODY, u, G_N_ELEMENTS(u));
    CU_ASSERT_EQUAL(node(h)->view[5].status, SWIM_DEAD);
    CU_ASSERT_EQUAL(node(h)->view[5].incarnation, 2);
    CU_ASSERT_EQUAL(harness_count_metric(h, "reinstated_at_seconds"), 0);
    SwimUpdate newer = { .member = 5, .incarnation = 3, .kind = SWIM_UPDATE_ALIVE };
    deliver(h, 3, SWIM_MSG_PING, 2, 0, SWIM_NOBODY, &newer, 1);
    CU_ASSERT_EQUAL(node(h)->view[5].status, SWIM_ALIVE);
    CU_ASSERT_EQUAL(node(h)->view[5].incarnation, 3);
    CU_ASSERT_EQUAL(harness_count_metric(h, "reinstated_at_seconds"), 1);
    /* and the Confirm it overrode no longer applies */
    SwimUpdate old = { .member = 5, .incarnation = 2, .kind = SWIM_UPDATE_CONFIRM };
    deliver(h, 3, SWIM_MSG_PING, 3, 0, SWIM_NOBODY, &old, 1);
    CU_ASSERT_EQUAL(node(h)->view[5].status, SWIM_ALIVE);
}

/* ---- dissemination (§4.1) ----------------------------------------------------------- */

static void test_an_update_is_piggybacked_a_bounded_number_of_times(void)
{
    g_autoptr(Harness) h = new_member(15, 0);
    harness_set_param(h, "retransmit_mult", "2");
    harness_set_param(h, "piggyback_max", "2");
    harness_init(h);
    SwimUpdate u[3] = {
        { .member = 5, .incarnation = 0, .kind = SWIM_UPDATE_SUSPECT },
        { .member = 6, .incarnation = 0, .kind = SWIM_UPDATE_SUSPECT },
        { .member = 7, .incarnation = 0, .kind = SWIM_UPDATE_SUSPECT },
    };
    deliver(h, 3, SWIM_MSG_ACK, 99, 3, SWIM_NOBODY, u, 3);
    /* lambda * ceil(log2(16)) = 8 sends each, two per message: 12 messages carry them */
    unsigned carried = 0;
    for (unsigned i = 0; i < 20; i++) {
        harness_clear(h);
        deliver(h, 2, SWIM_MSG_PING, i, 0, SWIM_NOBODY, NULL, 0);
        const SwimBody *b = body(h, 0);
        CU_ASSERT_TRUE(b->n_updates <= 2);
        carried += b->n_updates;
    }
    CU_ASSERT_EQUAL(carried, 24);
}

/* ---- joining and leaving ---------------------------------------------------------- */

static void test_a_joiner_asks_the_introducer_which_answers_with_its_view(void)
{
    g_autoptr(Harness) j = new_member(6, 5);
    harness_set_param(j, "joiners", "1");
    harness_init(j);
    CU_ASSERT_FALSE(node(j)->joined);
    const HarnessTimer *t = timer_of(j, SWIM_TIMER_JOIN);
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT_EQUAL(t->delay, DSIM_S(1));
    harness_fire_timer(j, t->id);
    CU_ASSERT_EQUAL(harness_sent(j, 0)->to, 0);
    CU_ASSERT_EQUAL(harness_sent(j, 0)->type, SWIM_MSG_JOIN);

    g_autoptr(Harness) intro = new_member(6, 0);
    harness_set_param(intro, "joiners", "1");
    harness_init(intro);
    deliver(intro, 5, SWIM_MSG_JOIN, 0, 5, SWIM_NOBODY, NULL, 0);
    CU_ASSERT_EQUAL(node(intro)->view[5].status, SWIM_ALIVE);
    CU_ASSERT_EQUAL(harness_sent(intro, 0)->type, SWIM_MSG_JOIN_ACK);
    const SwimBody *b = body(intro, 0);
    CU_ASSERT_EQUAL(b->n_updates, 5); /* members 1..5 of the introducer's view */

    harness_deliver(j, 0, SWIM_MSG_JOIN_ACK, b, harness_sent(intro, 0)->size);
    CU_ASSERT_TRUE(node(j)->joined);
    DsimView v;
    harness_describe(j, &v);
    CU_ASSERT_EQUAL(v.applied, 6);
}

static void test_a_member_confirmed_while_alive_rejoins_at_a_higher_incarnation(void)
{
    g_autoptr(Harness) h = new_member(10, 2);
    harness_init(h);
    SwimUpdate confirm = { .member = 2, .incarnation = 0, .kind = SWIM_UPDATE_CONFIRM };
    deliver(h, 1, SWIM_MSG_PING, 1, 2, SWIM_NOBODY, &confirm, 1);
    CU_ASSERT_EQUAL(harness_count_metric(h, "false_positive"), 1);
    const SwimBody *b = body(h, 0);
    CU_ASSERT_EQUAL_FATAL(b->n_updates, 1);
    CU_ASSERT_EQUAL(b->updates[0].kind, SWIM_UPDATE_JOIN);
    CU_ASSERT_EQUAL(b->updates[0].incarnation, 1);
}

static void test_a_leaver_tells_k_members_and_falls_silent(void)
{
    g_autoptr(Harness) h = new_member(10, 3);
    harness_set_param(h, "leaver", "4");
    harness_set_param(h, "leave_at", "5s");
    harness_init(h);
    harness_fire_timer(h, timer_of(h, SWIM_TIMER_LEAVE)->id);
    CU_ASSERT_EQUAL(harness_n_sent(h), 4); /* indirect_k + 1 */
    CU_ASSERT_EQUAL(harness_sent(h, 0)->type, SWIM_MSG_LEAVE);
    CU_ASSERT_TRUE(node(h)->left);
    harness_clear(h);
    deliver(h, 0, SWIM_MSG_PING, 1, 3, SWIM_NOBODY, NULL, 0);
    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
}

/* ---- healing after a partition (Serf's reconnect, memberlist's push/pull) ------------- */

static const SwimBody *last_sent_of(const Harness *h, uint16_t type, DsimNodeId *to)
{
    for (unsigned i = harness_n_sent(h); i-- > 0;) {
        if (harness_sent(h, i)->type == type) {
            if (to != NULL)
                *to = harness_sent(h, i)->to;
            return harness_sent(h, i)->body;
        }
    }
    return NULL;
}

static const SwimUpdate *update_about(const SwimBody *b, uint32_t member)
{
    for (uint32_t k = 0; k < b->n_updates; k++) {
        if (b->updates[k].member == member)
            return &b->updates[k];
    }
    return NULL;
}

/* Serf's reconnect: the first death arms a timer of reconnect_interval; when it fires, the
 * member pushes its whole view to one member it holds faulty (here 2 faulty of 2 alive, so
 * Serf's throttle failed / alive is 1), and arms it again; once nobody is held faulty the
 * timer stops. */
static void test_reconnect_pushes_the_view_to_a_member_held_faulty(void)
{
    g_autoptr(Harness) h = new_member(4, 0);
    harness_init(h);
    harness_clear(h);
    SwimUpdate dead[2] = {
        { .member = 2, .incarnation = 0, .kind = SWIM_UPDATE_CONFIRM },
        { .member = 3, .incarnation = 0, .kind = SWIM_UPDATE_CONFIRM },
    };
    deliver(h, 1, SWIM_MSG_PING, 1, 0, SWIM_NOBODY, dead, 2);
    const HarnessTimer *t = timer_of(h, SWIM_TIMER_RECONNECT);
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT_EQUAL(t->delay, DSIM_S(30));
    unsigned armed = 0;
    for (unsigned i = 0; i < harness_n_timers(h); i++)
        armed += harness_timer(h, i)->kind == SWIM_TIMER_RECONNECT;
    CU_ASSERT_EQUAL(armed, 1); /* one timer for both deaths */

    harness_clear(h);
    harness_fire_timer(h, t->id);
    DsimNodeId to;
    const SwimBody *b = last_sent_of(h, SWIM_MSG_SYNC, &to);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_TRUE(to == 2 || to == 3);
    CU_ASSERT_EQUAL(b->n_updates, 4); /* the whole view, itself included */
    CU_ASSERT_EQUAL(update_about(b, to)->kind, SWIM_UPDATE_CONFIRM);
    CU_ASSERT_PTR_NOT_NULL(timer_of(h, SWIM_TIMER_RECONNECT));

    SwimUpdate back[2] = {
        { .member = 2, .incarnation = 1, .kind = SWIM_UPDATE_ALIVE },
        { .member = 3, .incarnation = 1, .kind = SWIM_UPDATE_ALIVE },
    };
    deliver(h, 1, SWIM_MSG_PING, 2, 0, SWIM_NOBODY, back, 2);
    t = timer_of(h, SWIM_TIMER_RECONNECT);
    harness_clear(h);
    harness_fire_timer(h, t->id);
    CU_ASSERT_PTR_NULL(last_sent_of(h, SWIM_MSG_SYNC, NULL));
    CU_ASSERT_PTR_NULL(timer_of(h, SWIM_TIMER_RECONNECT));
}

/* Serf's reconnect_timeout: a member held faulty longer than that is no longer tried. */
static void test_reconnect_gives_up_after_the_timeout(void)
{
    g_autoptr(Harness) h = new_member(4, 0);
    harness_set_param(h, "reconnect_timeout", "40s");
    harness_init(h);
    SwimUpdate dead[2] = {
        { .member = 2, .incarnation = 0, .kind = SWIM_UPDATE_CONFIRM },
        { .member = 3, .incarnation = 0, .kind = SWIM_UPDATE_CONFIRM },
    };
    deliver(h, 1, SWIM_MSG_PING, 1, 0, SWIM_NOBODY, dead, 2);
    const HarnessTimer *t = timer_of(h, SWIM_TIMER_RECONNECT);
    CU_ASSERT_FATAL(t != NULL);
    harness_clear(h);
    harness_fire_timer(h, t->id); /* at 30 s: faulty for 30 s, still tried */
    CU_ASSERT_PTR_NOT_NULL(last_sent_of(h, SWIM_MSG_SYNC, NULL));
    t = timer_of(h, SWIM_TIMER_RECONNECT);
    CU_ASSERT_FATAL(t != NULL);
    harness_clear(h);
    harness_fire_timer(h, t->id); /* at 60 s: forgotten */
    CU_ASSERT_EQUAL(harness_now(h), DSIM_S(60));
    CU_ASSERT_PTR_NULL(last_sent_of(h, SWIM_MSG_SYNC, NULL));
    CU_ASSERT_PTR_NULL(timer_of(h, SWIM_TIMER_RECONNECT));
}

/* memberlist's push/pull, at the receiver of the push: it merges the view, learns that it
 * was confirmed faulty and refutes, and its answer already carries the refutation. A
 * Confirm of a member it holds alive is left out (a departure from memberlist, which
 * suspects it: see merge_view). */
static void test_a_push_is_merged_and_answered_with_the_refuted_view(void)
{
    g_autoptr(Harness) h = new_member(4, 1);
    harness_init(h);
    SwimUpdate view[4] = {
        { .member = 0, .incarnation = 0, .kind = SWIM_UPDATE_CONFIRM },
        { .member = 1, .incarnation = 0, .kind = SWIM_UPDATE_CONFIRM }, /* us */
        { .member = 2, .incarnation = 0, .kind = SWIM_UPDATE_ALIVE },
        { .member = 3, .incarnation = 0, .kind = SWIM_UPDATE_ALIVE },
    };
    harness_clear(h);
    deliver(h, 3, SWIM_MSG_SYNC, 0, 3, SWIM_NOBODY, view, 4);
    CU_ASSERT_EQUAL(harness_count_metric(h, "false_positive"), 1);
    CU_ASSERT_EQUAL(node(h)->view[1].incarnation, 1);
    CU_ASSERT_EQUAL(node(h)->view[0].status, SWIM_ALIVE);
    DsimNodeId to;
    const SwimBody *b = last_sent_of(h, SWIM_MSG_SYNC_ACK, &to);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_EQUAL(to, 3);
    CU_ASSERT_EQUAL(b->n_updates, 4);
    CU_ASSERT_EQUAL(update_about(b, 1)->incarnation, 1);
    CU_ASSERT_EQUAL(update_about(b, 1)->kind, SWIM_UPDATE_ALIVE);
}

/* ... and at the pusher: the answer of a member it held faulty reinstates it (its
 * incarnation is above the confirmed one), and counts as a reconnection. */
static void test_the_answer_to_a_push_reinstates_the_member(void)
{
    g_autoptr(Harness) h = new_member(4, 3);
    harness_init(h);
    SwimUpdate dead = { .member = 1, .incarnation = 0, .kind = SWIM_UPDATE_CONFIRM };
    deliver(h, 2, SWIM_MSG_PING, 1, 3, SWIM_NOBODY, &dead, 1);
    CU_ASSERT_EQUAL(node(h)->view[1].status, SWIM_DEAD);
    SwimUpdate view[4] = {
        { .member = 0, .incarnation = 0, .kind = SWIM_UPDATE_ALIVE },
        { .member = 1, .incarnation = 1, .kind = SWIM_UPDATE_ALIVE },
        { .member = 2, .incarnation = 0, .kind = SWIM_UPDATE_ALIVE },
        { .member = 3, .incarnation = 0, .kind = SWIM_UPDATE_ALIVE },
    };
    harness_clear(h);
    deliver(h, 1, SWIM_MSG_SYNC_ACK, 0, 3, SWIM_NOBODY, view, 4);
    CU_ASSERT_EQUAL(node(h)->view[1].status, SWIM_ALIVE);
    CU_ASSERT_EQUAL(harness_count_metric(h, "reinstated_at_seconds"), 1);
    CU_ASSERT_EQUAL(harness_count_metric(h, "reconnected_at_seconds"), 1);
    CU_ASSERT_EQUAL(harness_n_sent(h), 0); /* the exchange ends here */
}

/* A member still held faulty that pings gets its Confirm in the Ack, and only it: the
 * Confirm is not queued for the group. */
static void test_a_member_held_faulty_is_told_in_the_ack(void)
{
    g_autoptr(Harness) h = new_member(5, 0);
    harness_init(h);
    SwimUpdate dead = { .member = 2, .incarnation = 0, .kind = SWIM_UPDATE_CONFIRM };
    deliver(h, 1, SWIM_MSG_PING, 1, 0, SWIM_NOBODY, &dead, 1);
    for (unsigned i = 0; i < 30; i++) /* send the queued Confirm out of the queue */
        deliver(h, 1, SWIM_MSG_PING, 2 + i, 0, SWIM_NOBODY, NULL, 0);
    harness_clear(h);
    deliver(h, 2, SWIM_MSG_PING, 40, 0, SWIM_NOBODY, NULL, 0);
    const SwimBody *b = body(h, 0);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->type, SWIM_MSG_ACK);
    CU_ASSERT_EQUAL_FATAL(b->n_updates, 1);
    CU_ASSERT_EQUAL(b->updates[0].member, 2);
    CU_ASSERT_EQUAL(b->updates[0].kind, SWIM_UPDATE_CONFIRM);
    harness_clear(h);
    deliver(h, 1, SWIM_MSG_PING, 41, 0, SWIM_NOBODY, NULL, 0);
    CU_ASSERT_EQUAL(body(h, 0)->n_updates, 0);
}

/* ---- small worlds ------------------------------------------------------------------ */

static DsimWorld *run_swim(const char *params, const char *net, const char *faults,
                           const char *duration, unsigned n, uint64_t seed, DsimScenario **out)
{
    g_autofree char *xml = g_strdup_printf(
        "<scenario name='t' seed='1' duration='%s'>"
        "  <network><latency>uniform(5ms,15ms)</latency>%s</network>"
        "  <group id='s' protocol='swim' count='%u'>%s</group>"
        "  <faults>%s</faults>"
        "</scenario>", duration, net, n, params, faults);
    g_autoptr(GError) error = NULL;
    *out = dsim_scenario_load_buffer(xml, strlen(xml), "test.xml", &error);
    if (*out == NULL)
        printf("\n%s\n", error->message);
    g_assert(*out != NULL);
    DsimWorld *w = dsim_world_new(*out, seed, NULL);
    dsim_world_run(w, NULL, NULL);
    return w;
}

static bool metric_range(const DsimWorld *w, const char *name, double *min, double *max,
                         size_t *count)
{
    const DsimTime *t;
    const double *v;
    size_t n = dsim_world_metric_samples(w, name, &t, &v);
    *count = n;
    if (n == 0)
        return false;
    *min = *max = v[0];
    for (size_t i = 1; i < n; i++) {
        *min = v[i] < *min ? v[i] : *min;
        *max = v[i] > *max ? v[i] : *max;
    }
    return true;
}

/* A crash at 5 s in a group of 20 (period 1 s, suspicion timeout 6 s). §3.1 expects the
 * first probe of the dead member within about e/(e-1) = 1.6 periods; the suspicion is
 * raised at the end of that period and confirmed 6 s later, then disseminated in a few
 * periods (§4.1). Tolerance, over seeds 1..6: first confirmation between 5 + 1 + 6 = 12 s
 * and 5 + 4 + 6 = 15 s, everyone knowing within 4 s after that, and the views agreeing. */
static void test_swim_detects_a_crashed_member_and_all_agree(void)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        DsimScenario *sc;
        g_autoptr(DsimWorld) w = run_swim("", "", "<crash at='5s' node='s7'/>", "30s", 20, seed, &sc);
        double first, last, lo, hi;
        size_t n;
        CU_ASSERT_TRUE_FATAL(metric_range(w, "confirmed_at_seconds", &first, &last, &n));
        CU_ASSERT_TRUE(first >= 12 && first <= 15);
        CU_ASSERT_TRUE_FATAL(metric_range(w, "dead_known_at_seconds", &lo, &hi, &n));
        CU_ASSERT_EQUAL(n, 19);
        CU_ASSERT_TRUE(hi - first <= 4);
        CU_ASSERT_TRUE(dsim_world_passed(w));
        CU_ASSERT_FALSE(metric_range(w, "false_positive", &lo, &hi, &n));
        dsim_world_free(g_steal_pointer(&w));
        dsim_scenario_free(sc);
    }
}

static void test_a_restarted_member_rejoins_and_all_agree(void)
{
    DsimScenario *sc;
    g_autoptr(DsimWorld) w = run_swim("", "", "<crash at='5s' node='s4'/><restart at='20s' node='s4'/>",
                                      "40s", 12, 3, &sc);
    CU_ASSERT_TRUE(dsim_world_passed(w));
    const SwimNode *s = dsim_world_node_state(w, 3);
    CU_ASSERT_TRUE(s->joined);
    CU_ASSERT_TRUE(s->view[3].incarnation >= 1);
    dsim_world_free(g_steal_pointer(&w));
    dsim_scenario_free(sc);
}

/* 10 % loss: a probe fails outright with probability about 0.19 * 0.34^3 = 0.008 (ping or
 * ack lost, then all three indirect paths of four messages), so a group of 20 raises a
 * suspicion every few periods; refutation (§4.2) must absorb them. Over seeds 1..4: no
 * false positive, and the views agree at the end. */
static void test_suspicion_absorbs_loss_without_false_positives(void)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        DsimScenario *sc;
        g_autoptr(DsimWorld) w = run_swim("", "<loss>0.1</loss>", "", "60s", 20, seed, &sc);
        double lo, hi;
        size_t refuted, fp;
        metric_range(w, "refuted", &lo, &hi, &refuted);
        metric_range(w, "false_positive", &lo, &hi, &fp);
        CU_ASSERT_TRUE(refuted > 0);
        CU_ASSERT_EQUAL(fp, 0);
        CU_ASSERT_TRUE(dsim_world_passed(w));
        dsim_world_free(g_steal_pointer(&w));
        dsim_scenario_free(sc);
    }
}

static void test_joins_and_a_leave_reach_every_member(void)
{
    DsimScenario *sc;
    g_autoptr(DsimWorld) w = run_swim(
        "<param name='joiners'>3</param><param name='leaver'>2</param><param name='leave_at'>10s</param>",
        "", "", "25s", 15, 2, &sc);
    CU_ASSERT_TRUE(dsim_world_passed(w));
    for (DsimNodeId id = 0; id < 15; id++) {
        DsimView v;
        dsim_world_describe(w, id, &v);
        CU_ASSERT_EQUAL(v.applied, id == 1 ? 0 : 14); /* s2 left; everyone else lists 14 */
    }
    dsim_world_free(g_steal_pointer(&w));
    dsim_scenario_free(sc);
}

/* A partition into halves at 5 s, healed at 60 s: far longer than the 6 s suspicion timeout,
 * so each half confirms the other faulty and, after the heal, nobody probes anybody across.
 * Without reconnect the halves never meet again and membership-agrees fails at 120 s; with
 * it (every 30 s, the default) the first reconnect after the heal exchanges views, every
 * member learns it was confirmed and refutes, and the refutations reinstate each half in
 * the other's view: 2 x 6 x 6 reinstatements, all after the heal. Over seeds 1..3. */
static void test_a_long_partition_heals_only_with_reconnect(void)
{
    const char *halves = "<partition at='5s' groups='s1,s2,s3,s4,s5,s6 | s7,s8,s9,s10,s11,s12'/>"
                         "<heal at='60s'/>";
    for (uint64_t seed = 1; seed <= 3; seed++) {
        DsimScenario *sc;
        double lo, hi;
        size_t n;
        g_autoptr(DsimWorld) off = run_swim("<param name='reconnect_interval'>0s</param>", "",
                                            halves, "120s", 12, seed, &sc);
        CU_ASSERT_FALSE(dsim_world_passed(off));
        CU_ASSERT_TRUE(metric_range(off, "dead_known_at_seconds", &lo, &hi, &n));
        CU_ASSERT_EQUAL(n, 72); /* each of 12 learned of the 6 across */
        CU_ASSERT_FALSE(metric_range(off, "reinstated_at_seconds", &lo, &hi, &n));
        dsim_world_free(g_steal_pointer(&off));
        dsim_scenario_free(sc);

        g_autoptr(DsimWorld) on = run_swim("", "", halves, "120s", 12, seed, &sc);
        CU_ASSERT_TRUE(dsim_world_passed(on));
        CU_ASSERT_TRUE_FATAL(metric_range(on, "reinstated_at_seconds", &lo, &hi, &n));
        CU_ASSERT_EQUAL(n, 72);
        CU_ASSERT_TRUE(lo >= 60 && hi <= 110);
        CU_ASSERT_TRUE(metric_range(on, "false_positive", &lo, &hi, &n));
        CU_ASSERT_EQUAL(n, 12);
        CU_ASSERT_TRUE(metric_range(on, "reconnected_at_seconds", &lo, &hi, &n));
        CU_ASSERT_TRUE(lo >= 60);
        for (unsigned m = 0; m < 12; m++) {
            const SwimNode *sm = dsim_world_node_state(on, m);
            CU_ASSERT_EQUAL(sm->view[m].incarnation, 1); /* every member refuted once */
        }
        dsim_world_free(g_steal_pointer(&on));
        dsim_scenario_free(sc);
    }
}

CU_TestInfo swim_tests[] = {
    { "a ping is answered with an ack of the same seq",
      test_a_ping_is_answered_with_an_ack_of_the_same_seq },
    { "round robin probes every member once per pass",
      test_round_robin_probes_every_member_once_per_pass },
    { "no direct ack sends ping-req to k members", test_no_direct_ack_sends_ping_req_to_k_members },
    { "an intermediary pings on behalf and relays the ack",
      test_an_intermediary_pings_on_behalf_and_relays_the_ack },
    { "an indirect ack saves the target", test_an_indirect_ack_saves_the_target },
    { "an unanswered probe is suspected, then confirmed after the timeout",
      test_an_unanswered_probe_is_suspected_then_confirmed_after_the_timeout },
    { "a refuted suspicion is not confirmed", test_a_refuted_suspicion_is_not_confirmed },
    { "a suspected member refutes with a higher incarnation",
      test_a_suspected_member_refutes_with_a_higher_incarnation },
    { "updates follow the override rules", test_updates_follow_the_override_rules },
    { "reinstatement is ordered by incarnation", test_reinstatement_is_ordered_by_incarnation },
    { "an update is piggybacked a bounded number of times",
      test_an_update_is_piggybacked_a_bounded_number_of_times },
    { "a joiner asks the introducer, which answers with its view",
      test_a_joiner_asks_the_introducer_which_answers_with_its_view },
    { "a member confirmed while alive rejoins at a higher incarnation",
      test_a_member_confirmed_while_alive_rejoins_at_a_higher_incarnation },
    { "a leaver tells k members and falls silent", test_a_leaver_tells_k_members_and_falls_silent },
    { "reconnect pushes the view to a member held faulty",
      test_reconnect_pushes_the_view_to_a_member_held_faulty },
    { "reconnect gives up after the timeout", test_reconnect_gives_up_after_the_timeout },
    { "a push is merged and answered with the refuted view",
      test_a_push_is_merged_and_answered_with_the_refuted_view },
    { "the answer to a push reinstates the member", test_the_answer_to_a_push_reinstates_the_member },
    { "a member held faulty is told in the ack", test_a_member_held_faulty_is_told_in_the_ack },
    { "SWIM detects a crashed member and all agree", test_swim_detects_a_crashed_member_and_all_agree },
    { "a restarted member rejoins and all agree", test_a_restarted_member_rejoins_and_all_agree },
    { "suspicion absorbs loss without false positives",
      test_suspicion_absorbs_loss_without_false_positives },
    { "joins and a leave reach every member", test_joins_and_a_leave_reach_every_member },
    { "a long partition heals only with reconnect", test_a_long_partition_heals_only_with_reconnect },
    CU_TEST_INFO_NULL,
};
