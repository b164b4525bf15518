/* test_pingpong.c - pingpong's handlers, one behaviour per test, through the harness.
 *
 * In a pair, member 1 (index 0) is the pinger: it sends Ping seq=1 at init and handles the
 * even seqs; member 2 handles the odd ones. Each test plays one member and hands it what
 * the other would send.
 */
#include <CUnit/CUnit.h>

#include "algorithms/pingpong/pingpong.h"
#include "tests/algorithms/tests.h"
#include "tests/lib/harness.h"

/* ---- helpers ------------------------------------------------------------- */

static uint64_t sent_seq(const Harness *h, unsigned i)
{
    const HarnessSent *s = harness_sent(h, i);
    CU_ASSERT_FATAL(s->size >= sizeof(PingpongBody));
    return ((const PingpongBody *) s->body)->seq;
}

/* Hands @h a Ping or Pong (by parity) of @seq from member @from. */
static void deliver_seq(Harness *h, unsigned from, uint64_t seq)
{
    PingpongBody body = { .seq = seq };
    harness_deliver(h, from, (seq & 1) ? PINGPONG_MSG_PING : PINGPONG_MSG_PONG, &body,
                    sizeof body);
}

static Harness *new_node(unsigned group_size, unsigned self_index)
{
    return harness_new(&pingpong_protocol, "p", group_size, self_index, 42);
}

/* ---- the game ------------------------------------------------------------ */

static void test_pinger_sends_ping_seq_1_to_its_peer_at_init(void)
{
    g_autoptr(Harness) h = new_node(2, 0);

    harness_init(h);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->to, 1);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->type, PINGPONG_MSG_PING);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->size, sizeof(PingpongBody));
    CU_ASSERT_EQUAL(sent_seq(h, 0), 1);
    CU_ASSERT_EQUAL(harness_n_timers(h), 0); /* retry is off by default */
}

static void test_second_member_waits_for_the_ping(void)
{
    g_autoptr(Harness) h = new_node(2, 1);

    harness_init(h);

    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
    CU_ASSERT_EQUAL(((const PingpongNode *) harness_state(h))->peer, 0);
}

static void test_members_pair_up_and_an_odd_last_member_idles(void)
{
    g_autoptr(Harness) third = new_node(5, 2);
    g_autoptr(Harness) last = new_node(5, 4);

    harness_init(third);
    harness_init(last);
    deliver_seq(last, 3, 1);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(third), 1);
    CU_ASSERT_EQUAL(harness_sent(third, 0)->to, 3);
    CU_ASSERT_EQUAL(harness_n_sent(last), 0);
    CU_ASSERT_EQUAL(((const PingpongNode *) harness_state(last))->peer, DSIM_NOBODY);
    CU_ASSERT_EQUAL(((const PingpongNode *) harness_state(last))->last_seq, 0);
}

static void test_ping_is_answered_with_a_pong_of_the_next_seq(void)
{
    g_autoptr(Harness) h = new_node(2, 1);
    harness_init(h);

    deliver_seq(h, 0, 1);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->to, 0);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->type, PINGPONG_MSG_PONG);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 2);
    CU_ASSERT_EQUAL(((const PingpongNode *) harness_state(h))->last_seq, 1);
}

static void test_pong_is_answered_with_a_ping_of_the_next_seq(void)
{
    g_autoptr(Harness) h = new_node(2, 0);
    harness_init(h);
    harness_clear(h);

    deliver_seq(h, 1, 2);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(harness_sent(h, 0)->type, PINGPONG_MSG_PING);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 3);
}

static void test_game_stops_when_seq_reaches_count(void)
{
    g_autoptr(Harness) h = new_node(2, 0);
    harness_set_param(h, "count", "4");
    harness_set_param(h, "retry", "100ms");
    harness_init(h);
    deliver_seq(h, 1, 2);
    harness_clear(h);

    /* Pong 2 was answered with Ping 3; Pong 4 is the last seq and gets no answer. */
    deliver_seq(h, 1, 4);

    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
    CU_ASSERT_EQUAL(harness_n_timers(h), 0);
    CU_ASSERT_EQUAL(((const PingpongNode *) harness_state(h))->last_seq, 4);
}

static void test_node_that_handles_the_final_seq_samples_pingpong_done_once(void)
{
    g_autoptr(Harness) h = new_node(2, 1);
    harness_set_param(h, "count", "3");
    harness_init(h);
    deliver_seq(h, 0, 1);
    CU_ASSERT_EQUAL(harness_n_metrics(h), 0);
    harness_set_now(h, DSIM_MS(30));

    deliver_seq(h, 0, 3);
    deliver_seq(h, 0, 3);

    CU_ASSERT_EQUAL_FATAL(harness_n_metrics(h), 1);
    CU_ASSERT_STRING_EQUAL(harness_metric(h, 0)->name, "pingpong_done");
    CU_ASSERT_DOUBLE_EQUAL(harness_metric(h, 0)->value, 0.030, 1e-12);
}

static void test_final_message_is_sent_without_a_retry(void)
{
    g_autoptr(Harness) h = new_node(2, 1);
    harness_set_param(h, "count", "2");
    harness_set_param(h, "retry", "100ms");
    harness_init(h);

    deliver_seq(h, 0, 1);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 2);
    CU_ASSERT_EQUAL(harness_n_timers(h), 0);
}

static void test_lost_final_message_is_sent_again_when_the_peer_retries(void)
{
    g_autoptr(Harness) h = new_node(2, 1);
    harness_set_param(h, "count", "2");
    harness_set_param(h, "retry", "100ms");
    harness_init(h);
    deliver_seq(h, 0, 1);
    harness_clear(h);

    deliver_seq(h, 0, 1); /* the pinger never got Pong 2 and retries Ping 1 */

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 2);
    CU_ASSERT_EQUAL(((const PingpongNode *) harness_state(h))->last_seq, 1);
}

static void test_duplicates_and_stale_seqs_are_ignored(void)
{
    g_autoptr(Harness) h = new_node(2, 1);
    harness_init(h);
    deliver_seq(h, 0, 1);
    deliver_seq(h, 0, 3);
    harness_clear(h);

    deliver_seq(h, 0, 3);
    deliver_seq(h, 0, 1);

    const PingpongNode *p = harness_state(h);
    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
    CU_ASSERT_EQUAL(p->last_seq, 3);
    CU_ASSERT_EQUAL(p->prev_seq, 1);
}

static void test_messages_from_a_node_other_than_the_peer_are_ignored(void)
{
    g_autoptr(Harness) h = new_node(4, 1);
    harness_init(h);

    deliver_seq(h, 2, 1);

    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
    CU_ASSERT_EQUAL(((const PingpongNode *) harness_state(h))->last_seq, 0);
}

/* ---- interval, retry, size ----------------------------------------------- */

static void test_interval_delays_the_answer_with_a_timer(void)
{
    g_autoptr(Harness) h = new_node(2, 1);
    harness_set_param(h, "interval", "5ms");
    harness_init(h);

    deliver_seq(h, 0, 1);

    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    const HarnessTimer *t = harness_timer(h, 0);
    CU_ASSERT_EQUAL(t->delay, DSIM_MS(5));
    CU_ASSERT_EQUAL(t->kind, PINGPONG_TIMER_ANSWER);
    CU_ASSERT_EQUAL(t->arg, 2);

    harness_fire_timer(h, t->id);

    CU_ASSERT_EQUAL(harness_now(h), DSIM_MS(5));
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 2);
}

static void test_retry_re_sends_the_last_message_until_it_is_answered(void)
{
    g_autoptr(Harness) h = new_node(2, 0);
    harness_set_param(h, "retry", "100ms");
    harness_init(h);

    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    DsimTimerId first = harness_timer(h, 0)->id;
    CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, DSIM_MS(100));
    CU_ASSERT_EQUAL(harness_timer(h, 0)->kind, PINGPONG_TIMER_RETRY);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->arg, 1);
    harness_clear(h);

    /* No Pong 2 within 100ms: Ping 1 again, and the retry re-armed. */
    harness_fire_timer(h, first);

    CU_ASSERT_EQUAL(harness_now(h), DSIM_MS(100));
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 1);
    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    DsimTimerId second = harness_timer(h, 0)->id;
    harness_clear(h);

    /* Pong 2 arrives: the retry is cancelled and Ping 3 goes out with a retry of its own. */
    deliver_seq(h, 1, 2);

    CU_ASSERT_EQUAL_FATAL(harness_n_cancelled(h), 1);
    CU_ASSERT_EQUAL(harness_cancelled(h, 0), second);
    CU_ASSERT_FALSE(harness_timer_pending(h, second));
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 3);
    CU_ASSERT_EQUAL_FATAL(harness_n_timers(h), 1);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->arg, 3);
}

static void test_stale_retry_timer_sends_nothing(void)
{
    g_autoptr(Harness) h = new_node(2, 0);
    harness_set_param(h, "retry", "100ms");
    harness_init(h);
    deliver_seq(h, 1, 2);
    harness_clear(h);

    harness_fire(h, PINGPONG_TIMER_RETRY, 1); /* for Ping 1, already answered */

    CU_ASSERT_EQUAL(harness_n_sent(h), 0);
    CU_ASSERT_EQUAL(harness_n_timers(h), 0);
}

static void test_size_pads_the_body_with_zero_bytes(void)
{
    g_autoptr(Harness) h = new_node(2, 0);
    harness_set_param(h, "size", "100");
    harness_init(h);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    const HarnessSent *s = harness_sent(h, 0);
    CU_ASSERT_EQUAL_FATAL(s->size, sizeof(PingpongBody) + 100);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 1);
    const uint8_t *pad = (const uint8_t *) s->body + sizeof(PingpongBody);
    bool zero = true;
    for (unsigned i = 0; i < 100; i++)
        zero = zero && pad[i] == 0;
    CU_ASSERT_TRUE(zero);
}

static void test_restarted_pinger_takes_up_the_seq_its_peer_retries(void)
{
    g_autoptr(Harness) h = new_node(2, 0);
    harness_set_param(h, "retry", "100ms");
    harness_init(h);
    deliver_seq(h, 1, 2);
    deliver_seq(h, 1, 4);

    harness_crash(h, true);
    harness_clear(h);
    harness_recover(h);

    /* It starts over with Ping 1, which the peer (at seq 5) ignores as stale ... */
    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 1);
    harness_clear(h);

    /* ... until the peer's retry of Pong 6 reaches it: the game goes on with Ping 7. */
    deliver_seq(h, 1, 6);

    CU_ASSERT_EQUAL_FATAL(harness_n_sent(h), 1);
    CU_ASSERT_EQUAL(sent_seq(h, 0), 7);
}

/* ---- describe, print, invariant ------------------------------------------ */

static void test_describe_reports_the_highest_seq_and_a_digest_of_the_seqs_in_order(void)
{
    g_autoptr(Harness) h = new_node(2, 1);
    harness_init(h);
    deliver_seq(h, 0, 1);
    deliver_seq(h, 0, 3);

    DsimView v;
    harness_describe(h, &v);

    uint64_t one = 1, three = 3;
    uint64_t digest = dsim_digest_add(dsim_digest_add(0, &one, sizeof one), &three, sizeof three);
    CU_ASSERT_EQUAL(v.role, DSIM_ROLE_NONE);
    CU_ASSERT_EQUAL(v.applied, 3);
    CU_ASSERT_EQUAL(v.applied_digest, digest);
    CU_ASSERT_STRING_EQUAL(v.text, "seq=3");
}

static void test_print_msg_names_the_type_and_seq(void)
{
    g_autoptr(Harness) h = new_node(2, 0);
    PingpongBody five = { .seq = 5 }, six = { .seq = 6 };

    g_autofree char *ping = harness_print_msg(h, PINGPONG_MSG_PING, &five, sizeof five);
    g_autofree char *pong = harness_print_msg(h, PINGPONG_MSG_PONG, &six, sizeof six);

    CU_ASSERT_STRING_EQUAL(ping, "Ping seq=5");
    CU_ASSERT_STRING_EQUAL(pong, "Pong seq=6");
}

static void test_logging_says_what_was_handled(void)
{
    g_autoptr(Harness) h = new_node(2, 1);
    harness_init(h);

    deliver_seq(h, 0, 1);

    CU_ASSERT_EQUAL_FATAL(harness_n_logs(h), 1);
    CU_ASSERT_STRING_EQUAL(harness_log(h, 0), "handle Ping seq=1");
    CU_ASSERT_EQUAL(harness_n_metrics(h), 0); /* none per message: the benchmark path */
}

/* Runs seq-monotonic on a group of two hand-built states, member @last just stepped. */
static bool check_monotonic(const PingpongNode *a, const PingpongNode *b, unsigned last,
                            GString *why)
{
    const char *names[] = { "p1", "p2" };
    const void *states[] = { a, b };
    DsimNodeStatus status[] = { DSIM_NODE_UP, DSIM_NODE_UP };
    DsimNodeId ids[] = { 0, 1 };
    PingpongConfig cfg = { 0 };
    void *scratch = NULL;
    DsimGroupView g = { .group = "p", .n = 2, .name = names, .state = states,
                        .status = status, .id = ids, .config = &cfg, .last = last,
                        .scratch = &scratch };
    const DsimInvariant *inv = &pingpong_protocol.invariants[0];

    CU_ASSERT_STRING_EQUAL(inv->name, "seq-monotonic");
    CU_ASSERT_EQUAL(inv->when, DSIM_CHECK_ALWAYS);
    return inv->check(&g, why);
}

static void test_seq_monotonic_passes_for_increasing_seqs_and_fails_on_a_repeat(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    PingpongNode fresh = { 0 };
    PingpongNode good = { .last_seq = 5, .prev_seq = 3 };
    PingpongNode repeat = { .last_seq = 3, .prev_seq = 3 };
    PingpongNode back = { .last_seq = 2, .prev_seq = 4 };

    CU_ASSERT_TRUE(check_monotonic(&fresh, &good, 1, why));
    CU_ASSERT_TRUE(check_monotonic(&good, &fresh, 2, why)); /* at the end: both */
    CU_ASSERT_TRUE(check_monotonic(&repeat, &good, 1, why)); /* only the stepped member */

    CU_ASSERT_FALSE(check_monotonic(&good, &repeat, 1, why));
    CU_ASSERT_STRING_EQUAL(why->str, "p2 handled seq=3 after seq=3");
    CU_ASSERT_FALSE(check_monotonic(&back, &good, 2, why));
    CU_ASSERT_STRING_EQUAL(why->str, "p1 handled seq=2 after seq=4");
}

CU_TestInfo pingpong_tests[] = {
    { "pinger sends ping seq 1 to its peer at init",
      test_pinger_sends_ping_seq_1_to_its_peer_at_init },
    { "second member waits for the ping", test_second_member_waits_for_the_ping },
    { "members pair up and an odd last member idles",
      test_members_pair_up_and_an_odd_last_member_idles },
    { "ping is answered with a pong of the next seq",
      test_ping_is_answered_with_a_pong_of_the_next_seq },
    { "pong is answered with a ping of the next seq",
      test_pong_is_answered_with_a_ping_of_the_next_seq },
    { "game stops when seq reaches count", test_game_stops_when_seq_reaches_count },
    { "node that handles the final seq samples pingpong_done once",
      test_node_that_handles_the_final_seq_samples_pingpong_done_once },
    { "final message is sent without a retry", test_final_message_is_sent_without_a_retry },
    { "lost final message is sent again when the peer retries",
      test_lost_final_message_is_sent_again_when_the_peer_retries },
    { "duplicates and stale seqs are ignored", test_duplicates_and_stale_seqs_are_ignored },
    { "messages from a node other than the peer are ignored",
      test_messages_from_a_node_other_than_the_peer_are_ignored },
    { "interval delays the answer with a timer", test_interval_delays_the_answer_with_a_timer },
    { "retry re-sends the last message until it is answered",
      test_retry_re_sends_the_last_message_until_it_is_answered },
    { "stale retry timer sends nothing", test_stale_retry_timer_sends_nothing },
    { "size pads the body with zero bytes", test_size_pads_the_body_with_zero_bytes },
    { "restarted pinger takes up the seq its peer retries",
      test_restarted_pinger_takes_up_the_seq_its_peer_retries },
    { "describe reports the highest seq and a digest of the seqs in order",
      test_describe_reports_the_highest_seq_and_a_digest_of_the_seqs_in_order },
    { "print_msg names the type and seq", test_print_msg_names_the_type_and_seq },
    { "logging says what was handled", test_logging_says_what_was_handled },
    { "seq-monotonic passes for increasing seqs and fails on a repeat",
      test_seq_monotonic_passes_for_increasing_seqs_and_fails_on_a_repeat },
    CU_TEST_INFO_NULL,
};
