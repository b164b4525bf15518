/* pingpong.c - two nodes passing a counter back and forth: the kernel's test bed.
 *
 * A pair is a stop-and-wait protocol with an unbounded sequence number: the alternating bit
 * protocol of Bartlett, Scantlebury & Wilkinson ("A note on reliable full-duplex
 * transmission over half-duplex links", CACM 12(5), 1969) with a counter in place of the
 * bit. Each node has at most one message outstanding (seq = last_sent) and
 * handles only seqs above the highest it has handled, so duplicates, stale retries and
 * reordered copies are ignored by one comparison. With "retry" both nodes re-send their
 * outstanding message until the answer arrives, which covers a lost message in either
 * direction without answering duplicates (answering them would let a duplicated message
 * start a second, endless chain of copies).
 *
 * This protocol is the events/s benchmark: the message path does one comparison, one digest
 * step and one send, allocates nothing and formats nothing unless logging is on. The only
 * metric, "pingpong_done" (when the final seq was handled, in seconds), is sampled once.
 */
#include "algorithms/pingpong/pingpong.h"

#include <string.h>

/* ---- parameters ---------------------------------------------------------- */

static const DsimParam pingpong_params[] = {
    { .name = "count", .type = DSIM_PARAM_INT, .def = "0",
      .help = "last seq of the game; 0 plays forever",
      .offset = offsetof(PingpongConfig, count), .min = 0, .max = INT64_MAX },
    { .name = "interval", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "wait this long before answering",
      .offset = offsetof(PingpongConfig, interval) },
    { .name = "retry", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "re-send the last message when no answer came within this; 0 = off",
      .offset = offsetof(PingpongConfig, retry) },
    { .name = "size", .type = DSIM_PARAM_INT, .def = "0",
      .help = "zero bytes appended to every body (bandwidth model)",
      .offset = offsetof(PingpongConfig, size), .min = 0, .max = 1048576 },
    { NULL },
};

/* ---- helpers ------------------------------------------------------------- */

static bool is_last(const PingpongConfig *cfg, uint64_t seq)
{
    return cfg->count != 0 && seq >= (uint64_t) cfg->count;
}

/* Sends @seq to the peer as a Ping (odd) or Pong (even) and, unless it ends the game, arms
 * the retry. The final message expects no answer, so it is never retried; see on_message
 * for how it is re-sent when lost. */
static void send_seq(PingpongNode *p, DsimCtx *ctx, const PingpongConfig *cfg, uint64_t seq)
{
    uint16_t type = (seq & 1) ? PINGPONG_MSG_PING : PINGPONG_MSG_PONG;
    PingpongBody body = { .seq = seq };

    p->last_sent = seq;
    if (p->padded == NULL) {
        dsim_send(ctx, p->peer, type, &body, sizeof body);
    } else {
        memcpy(p->padded, &body, sizeof body);
        dsim_send(ctx, p->peer, type, p->padded, sizeof body + (size_t) cfg->size);
    }
    if (cfg->retry > 0 && !is_last(cfg, seq))
        p->retry_timer = dsim_timer_set(ctx, cfg->retry, PINGPONG_TIMER_RETRY, seq);
}

/* ---- handlers ------------------------------------------------------------ */

/* Pairs (0,1), (2,3), ... by member index; the even member is the pinger. Also used at
 * restart (no on_recover): the restarted node has forgotten the game, and a restarted
 * pinger's Ping seq=1 is ignored as stale by a peer that played on; the peer's retry then
 * hands it the current seq. */
static void pingpong_init(void *state, DsimCtx *ctx)
{
    PingpongNode *p = state;
    const PingpongConfig *cfg = dsim_config(ctx);
    unsigned i = dsim_self_index(ctx), n = dsim_group_size(ctx);
    unsigned peer = (i & 1) ? i - 1 : i + 1;

    p->peer = peer < n ? dsim_group_member(ctx, peer) : DSIM_NOBODY;
    if (cfg->size > 0)
        p->padded = g_malloc0(sizeof(PingpongBody) + (size_t) cfg->size);
    if (p->peer != DSIM_NOBODY && (i & 1) == 0)
        send_seq(p, ctx, cfg, 1);
}

static void pingpong_fini(void *state)
{
    PingpongNode *p = state;

    g_clear_pointer(&p->padded, g_free);
}

static void pingpong_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    PingpongNode *p = state;
    const PingpongConfig *cfg = dsim_config(ctx);
    uint64_t seq = DSIM_MSG_BODY(msg, PingpongBody)->seq;

    if (msg->from != p->peer)
        return;
    if (seq <= p->last_seq) {
        /* A duplicate or a stale retry: not handled. One exception keeps a finished game
         * from hanging when its final message was lost: the peer is still retrying the seq
         * we answered with the final one, so we send the final one again. The peer never
         * answers the final seq, so this cannot start a chain of copies. */
        if (cfg->retry > 0 && is_last(cfg, p->last_sent) && seq == p->last_seq)
            send_seq(p, ctx, cfg, p->last_sent);
        return;
    }

    p->prev_seq = p->last_seq;
    p->last_seq = seq;
    p->digest = dsim_digest_add(p->digest, &seq, sizeof seq);
    if (p->retry_timer != 0) { /* the peer answered, or played on without us */
        dsim_timer_cancel(ctx, p->retry_timer);
        p->retry_timer = 0;
    }
    if (dsim_logging(ctx))
        dsim_log(ctx, "handle %s seq=%" PRIu64,
                 msg->type == PINGPONG_MSG_PING ? "Ping" : "Pong", seq);

    if (is_last(cfg, seq)) {
        /* The game is over: one sample per game (not per message), in virtual seconds. */
        dsim_metric(ctx, "pingpong_done", (double) dsim_now(ctx) / 1e9);
        return;
    }
    if (cfg->interval > 0)
        dsim_timer_set(ctx, cfg->interval, PINGPONG_TIMER_ANSWER, seq + 1);
    else
        send_seq(p, ctx, cfg, seq + 1);
}

static void pingpong_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    PingpongNode *p = state;
    const PingpongConfig *cfg = dsim_config(ctx);

    switch (kind) {
    case PINGPONG_TIMER_ANSWER:
        /* Cannot be stale (a node handles nothing while its answer is pending), but the
         * check costs nothing and keeps the rule local. */
        if (arg == p->last_seq + 1)
            send_seq(p, ctx, cfg, arg);
        return;
    case PINGPONG_TIMER_RETRY:
        if (arg != p->last_sent || p->last_seq > arg)
            return; /* answered meanwhile (a retry is cancelled then, so only by hand) */
        p->retry_timer = 0;
        if (dsim_logging(ctx))
            dsim_log(ctx, "no answer to seq=%" PRIu64 ", re-send", arg);
        send_seq(p, ctx, cfg, arg);
        return;
    default:
        g_assert_not_reached();
    }
}

/* ---- describe, print ----------------------------------------------------- */

static void pingpong_describe(const void *state, DsimView *view)
{
    const PingpongNode *p = state;

    view->role = DSIM_ROLE_NONE;
    view->applied = p->last_seq;
    view->applied_digest = p->digest;
    g_snprintf(view->text, sizeof view->text, "seq=%" PRIu64, p->last_seq);
}

static void pingpong_print_msg(const DsimMsg *msg, GString *out)
{
    const PingpongBody *b = DSIM_MSG_BODY(msg, PingpongBody);

    g_string_append_printf(out, "%s seq=%" PRIu64,
                           msg->type == PINGPONG_MSG_PING ? "Ping" : "Pong", b->seq);
}

/* ---- invariants ---------------------------------------------------------- */

/* Each node's highest handled seq never decreases, and no seq is handled twice: every
 * handled seq must exceed the one handled before it in the same life. The check reads only
 * the member that just stepped (O(1) per event); at the end of a run it reads all. */
static bool check_seq_monotonic(const DsimGroupView *g, GString *why)
{
    unsigned lo = g->last < g->n ? g->last : 0;
    unsigned hi = g->last < g->n ? g->last + 1 : g->n;

    for (unsigned i = lo; i < hi; i++) {
        const PingpongNode *p = g->state[i];
        if (p->last_seq != 0 && p->last_seq <= p->prev_seq) {
            g_string_printf(why, "%s handled seq=%" PRIu64 " after seq=%" PRIu64, g->name[i],
                            p->last_seq, p->prev_seq);
            return false;
        }
    }
    return true;
}

static const DsimInvariant pingpong_invariants[] = {
    { "seq-monotonic", "a node handles ever higher seqs, never one twice", DSIM_CHECK_ALWAYS,
      check_seq_monotonic, NULL },
    { NULL },
};

/* ---- the ops table ------------------------------------------------------- */

const DsimProtocol pingpong_protocol = {
    .name = "pingpong",
    .summary = "pairs of nodes pass a counter back and forth (kernel test bed, benchmark)",
    .params = pingpong_params,
    .invariants = pingpong_invariants,
    .config_size = sizeof(PingpongConfig),
    .state_size = sizeof(PingpongNode),
    .init = pingpong_init,
    .fini = pingpong_fini,
    .on_message = pingpong_on_message,
    .on_timer = pingpong_on_timer,
    .on_request = NULL,
    .on_recover = NULL,
    .describe = pingpong_describe,
    .print_msg = pingpong_print_msg,
};
