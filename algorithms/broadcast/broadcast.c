/* broadcast.c - reliable broadcast by flooding: deliver the first copy, forward it to all.
 *
 * Cachin, Guerraoui & Rodrigues, "Introduction to Reliable and Secure Distributed
 * Programming" (2nd ed., 2011), §3.3, Algorithm 3.3 "Eager Reliable Broadcast". Read with
 * that page open: the origin's broadcast is rb-Broadcast, a copy arriving is beb-Deliver,
 * and the first copy of an id is rb-Deliver followed by a beb-Broadcast of the same copy.
 * Agreement ("if a message m is delivered by some correct process, then m is eventually
 * delivered by every correct process", RB4) holds because every node that delivers forwards
 * before doing anything else, so m survives the crash of its origin.
 *
 * The book assumes perfect links. dsim's links lose messages, so "retransmit" builds them
 * the usual way (§2.4: stubborn links re-send forever; acknowledgements let them stop): a
 * node re-sends each copy to the members not yet known to hold it until they ack. The
 * algorithm's processes also never recover; here a node that restarts rebuilds its
 * delivered set from durable storage, as the book's "logged" algorithms for the
 * crash-recovery model do, and "persist=false" leaves that out to show what goes wrong: the
 * restarted node delivers again, or, having acked before the crash, is never sent the
 * message again.
 *
 * Eager flooding costs n^2 messages per broadcast (every node forwards to every other); that
 * is the algorithm, and what the 1,000-node benchmark measures.
 */
#include "algorithms/broadcast/broadcast.h"

/* ---- parameters ---------------------------------------------------------- */

static const DsimParam broadcast_params[] = {
    { .name = "origin", .type = DSIM_PARAM_INT, .def = "1",
      .help = "member number of the broadcaster, 1..group size",
      .offset = offsetof(BroadcastConfig, origin), .min = 1, .max = 10000000 },
    { .name = "messages", .type = DSIM_PARAM_INT, .def = "1",
      .help = "how many messages the origin broadcasts (ids 1..n)",
      .offset = offsetof(BroadcastConfig, messages), .min = 1, .max = 1000000 },
    { .name = "start", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when the origin broadcasts message 1",
      .offset = offsetof(BroadcastConfig, start) },
    { .name = "interval", .type = DSIM_PARAM_TIME, .def = "10ms",
      .help = "time between the origin's broadcasts",
      .offset = offsetof(BroadcastConfig, interval) },
    { .name = "retransmit", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "re-send copies not yet acknowledged this often; 0 = forward once, no acks",
      .offset = offsetof(BroadcastConfig, retransmit) },
    { .name = "persist", .type = DSIM_PARAM_BOOL, .def = "true",
      .help = "make the delivered set durable before delivering (false: duplicates after a crash)",
      .offset = offsetof(BroadcastConfig, persist) },
    { NULL },
};

/* Durable layout: key <id> exists once message id was delivered (value: one byte 1). One
 * key per id keeps each write small; a recovering node reads messages keys. */
#define DELIVERED_KEY(id) ((uint64_t) (id))

/* ---- helpers: bitmaps, members, schedule --------------------------------- */

static unsigned words_for(uint64_t bits)
{
    return (unsigned) ((bits + 63) / 64);
}

static bool bit_test(const uint64_t *bits, size_t i)
{
    return (bits[i / 64] >> (i % 64)) & 1;
}

static void bit_set(uint64_t *bits, size_t i)
{
    bits[i / 64] |= UINT64_C(1) << (i % 64);
}

/* The member index of node @id. Members of a group have consecutive ids (sim/scenario.h:
 * "groups in file order, members in index order"), so this is one subtraction. */
static unsigned index_of(const DsimCtx *ctx, DsimNodeId id)
{
    unsigned i = id - dsim_group_member(ctx, 0);

    g_assert(i < dsim_group_size(ctx));
    return i;
}

static bool is_origin(const DsimCtx *ctx, const BroadcastConfig *cfg)
{
    return (int64_t) dsim_self_index(ctx) + 1 == cfg->origin;
}

/* The row of member bits for @id in acked. */
static uint64_t *acks_of(BroadcastNode *b, uint32_t id)
{
    return b->acked + (size_t) (id - 1) * b->ack_words;
}

/* When the origin is due to broadcast @id: start + (id - 1) * interval, or DSIM_TIME_NEVER
 * when that is past the end of time. */
static DsimTime due_time(const BroadcastConfig *cfg, uint32_t id)
{
    if (cfg->interval > 0 && (int64_t) (id - 1) > (DSIM_TIME_NEVER - cfg->start) / cfg->interval)
        return DSIM_TIME_NEVER;
    return cfg->start + (DsimTime) (id - 1) * cfg->interval;
}

/* An overdue id (a restarted origin catching up) goes now; one due never is not scheduled. */
static void schedule_broadcast(DsimCtx *ctx, const BroadcastConfig *cfg, uint32_t id)
{
    DsimTime due = due_time(cfg, id), now = dsim_now(ctx);

    if (due != DSIM_TIME_NEVER)
        dsim_timer_set(ctx, due > now ? due - now : 0, BROADCAST_TIMER_BROADCAST, id);
}

static void allocate(BroadcastNode *b, DsimCtx *ctx, const BroadcastConfig *cfg)
{
    b->messages = (uint32_t) cfg->messages;
    b->delivered = g_new0(uint64_t, words_for(b->messages));
    if (cfg->retransmit > 0) {
        b->ack_words = words_for(dsim_group_size(ctx));
        b->acked = g_new0(uint64_t, (size_t) b->messages * b->ack_words);
    }
    b->incarnation = dsim_rand(ctx) | 1;
}

/* ---- delivery and flooding (Algorithm 3.3) ------------------------------- */

/* "upon event <beb, Deliver | p, [DATA, s, m]> do if m not in delivered then delivered :=
 * delivered U {m}; trigger <rb, Deliver | s, m>" (Algorithm 3.3). The id is made durable
 * before it counts as delivered, so no crash can fall between the two. */
static void deliver(BroadcastNode *b, DsimCtx *ctx, const BroadcastConfig *cfg, uint32_t id)
{
    if (cfg->persist) {
        uint8_t one = 1;
        dsim_persist(ctx, DELIVERED_KEY(id), &one, sizeof one);
        dsim_sync(ctx);
    }
    bit_set(b->delivered, id - 1);
    b->n_delivered++;
    b->deliveries++;
    b->last_delivered = id;
    dsim_log(ctx, "deliver id=%" PRIu32, id);
}

/* Sends a copy of @id to every other member or, when @only_unheld, to those not known to
 * hold it (retransmit only). Returns how many copies went out. */
static unsigned send_copies(BroadcastNode *b, DsimCtx *ctx, const BroadcastConfig *cfg,
                            uint32_t id, bool only_unheld)
{
    const uint64_t *held = only_unheld ? acks_of(b, id) : NULL;
    BroadcastData d = { .id = id, .origin = (uint32_t) cfg->origin };
    unsigned self = dsim_self_index(ctx), n = dsim_group_size(ctx), sent = 0;

    for (unsigned k = 0; k < n; k++) {
        if (k == self || (held != NULL && bit_test(held, k)))
            continue;
        dsim_send(ctx, dsim_group_member(ctx, k), BROADCAST_MSG_DATA, &d, sizeof d);
        sent++;
    }
    return sent;
}

/* "trigger <beb, Broadcast | [DATA, s, m]>" (Algorithm 3.3): a copy to every other member,
 * the one it came from included, as in the book (skipping it would save n of the n^2
 * messages). With retransmit, the copy is then re-sent every period to the members not yet
 * known to hold it (stubborn links, §2.4), so the timer is armed only if there is one. */
static void flood(BroadcastNode *b, DsimCtx *ctx, const BroadcastConfig *cfg, uint32_t id)
{
    send_copies(b, ctx, cfg, id, false);
    if (b->acked == NULL)
        return;
    uint64_t *held = acks_of(b, id);
    bit_set(held, dsim_self_index(ctx));
    for (unsigned k = 0; k < dsim_group_size(ctx); k++) {
        if (!bit_test(held, k)) {
            dsim_timer_set(ctx, cfg->retransmit, BROADCAST_TIMER_RETRANSMIT, id);
            return;
        }
    }
}

/* The origin's rb-Broadcast: "trigger <beb, Broadcast | [DATA, self, m]>"; its own copy is
 * delivered at once, as beb would hand it back. Then the next id is scheduled. */
static void broadcast(BroadcastNode *b, DsimCtx *ctx, const BroadcastConfig *cfg, uint32_t id)
{
    if (bit_test(b->delivered, id - 1))
        return;
    deliver(b, ctx, cfg, id);
    flood(b, ctx, cfg, id);
    if (id < b->messages)
        schedule_broadcast(ctx, cfg, id + 1);
}

/* ---- handlers ------------------------------------------------------------ */

static void broadcast_init(void *state, DsimCtx *ctx)
{
    BroadcastNode *b = state;
    const BroadcastConfig *cfg = dsim_config(ctx);

    allocate(b, ctx, cfg);
    if (is_origin(ctx, cfg))
        schedule_broadcast(ctx, cfg, 1);
}

static void broadcast_fini(void *state)
{
    BroadcastNode *b = state;

    g_clear_pointer(&b->delivered, g_free);
    g_clear_pointer(&b->acked, g_free);
}

/* After a restart: the delivered set comes back from storage (when persisted). Acks were
 * volatile, so with retransmit every delivered id goes again to every other member until
 * acked: otherwise a message that only this node held when it crashed could never reach
 * the others (RB4). An origin resumes with its first id not yet delivered: without
 * persist, that is id 1 again, and the re-broadcast is the duplicate-delivery bug. */
static void broadcast_on_recover(void *state, DsimCtx *ctx)
{
    BroadcastNode *b = state;
    const BroadcastConfig *cfg = dsim_config(ctx);

    allocate(b, ctx, cfg);
    for (uint32_t id = 1; cfg->persist && id <= b->messages; id++) {
        uint8_t one = 0;
        if (dsim_load(ctx, DELIVERED_KEY(id), &one, sizeof one, NULL)) {
            bit_set(b->delivered, id - 1);
            b->n_delivered++;
        }
    }
    if (b->n_delivered > 0)
        dsim_log(ctx, "recovered %" PRIu32 " delivered ids", b->n_delivered);
    for (uint32_t id = 1; cfg->retransmit > 0 && id <= b->messages; id++) {
        if (bit_test(b->delivered, id - 1))
            flood(b, ctx, cfg, id);
    }
    if (is_origin(ctx, cfg)) {
        uint32_t next = 1;
        while (next <= b->messages && bit_test(b->delivered, next - 1))
            next++;
        if (next <= b->messages)
            schedule_broadcast(ctx, cfg, next);
    }
}

static void on_data(BroadcastNode *b, DsimCtx *ctx, const BroadcastConfig *cfg,
                    unsigned from, const BroadcastData *d)
{
    bool first = !bit_test(b->delivered, d->id - 1);

    if (first) {
        deliver(b, ctx, cfg, d->id);
        /* Latency against the schedule, start + (id - 1) * interval: copies carry no send
         * time, and a restarted origin's late broadcasts count as late. */
        DsimTime due = due_time(cfg, d->id);
        dsim_metric(ctx, "broadcast_latency_seconds", (double) (dsim_now(ctx) - due) / 1e9);
    }
    if (cfg->retransmit > 0) {
        /* A copy from a member proves it holds the id; and receivers ack every copy, the
         * first and the re-sent ones, since the sender cannot know which one arrived. */
        BroadcastAck ack = { .id = d->id };
        bit_set(acks_of(b, d->id), from);
        dsim_send(ctx, dsim_group_member(ctx, from), BROADCAST_MSG_ACK, &ack, sizeof ack);
    }
    if (first)
        flood(b, ctx, cfg, d->id);
}

static void broadcast_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    BroadcastNode *b = state;
    const BroadcastConfig *cfg = dsim_config(ctx);
    unsigned from = index_of(ctx, msg->from);

    switch (msg->type) {
    case BROADCAST_MSG_DATA: {
        const BroadcastData *d = DSIM_MSG_BODY(msg, BroadcastData);
        g_assert(d->id >= 1 && d->id <= b->messages);
        on_data(b, ctx, cfg, from, d);
        return;
    }
    case BROADCAST_MSG_ACK: {
        const BroadcastAck *a = DSIM_MSG_BODY(msg, BroadcastAck);
        g_assert(a->id >= 1 && a->id <= b->messages);
        if (b->acked != NULL)
            bit_set(acks_of(b, a->id), from);
        return;
    }
    default:
        g_assert_not_reached();
    }
}

static void broadcast_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    BroadcastNode *b = state;
    const BroadcastConfig *cfg = dsim_config(ctx);
    uint32_t id = (uint32_t) arg;

    g_assert(id >= 1 && id <= b->messages);
    switch (kind) {
    case BROADCAST_TIMER_BROADCAST:
        broadcast(b, ctx, cfg, id);
        return;
    case BROADCAST_TIMER_RETRANSMIT: {
        /* The timer stops by itself: once every member holds the id, nothing is sent
         * and it is not re-armed. */
        g_assert(b->acked != NULL);
        unsigned sent = send_copies(b, ctx, cfg, id, true);
        if (sent > 0) {
            dsim_log(ctx, "retransmit id=%" PRIu32 " to %u members", id, sent);
            dsim_timer_set(ctx, cfg->retransmit, BROADCAST_TIMER_RETRANSMIT, id);
        }
        return;
    }
    default:
        g_assert_not_reached();
    }
}

/* ---- describe, print ----------------------------------------------------- */

/* applied_digest walks the ids in ascending order, not in delivery order, so that nodes
 * that delivered the same set agree whatever order the copies arrived in. */
static void broadcast_describe(const void *state, DsimView *view)
{
    const BroadcastNode *b = state;
    uint64_t digest = 0;

    for (uint32_t id = 1; b->delivered != NULL && id <= b->messages; id++) {
        if (bit_test(b->delivered, id - 1))
            digest = dsim_digest_add(digest, &id, sizeof id);
    }
    view->role = DSIM_ROLE_NONE;
    view->applied = b->n_delivered;
    view->applied_digest = digest;
    g_snprintf(view->text, sizeof view->text, "delivered %" PRIu32 "/%" PRIu32,
               b->n_delivered, b->messages);
}

/* The origin is printed as its member number: print_msg has no way to name nodes, and the
 * trace line around it already names sender and receiver. */
static void broadcast_print_msg(const DsimMsg *msg, GString *out)
{
    switch (msg->type) {
    case BROADCAST_MSG_DATA: {
        const BroadcastData *d = DSIM_MSG_BODY(msg, BroadcastData);
        g_string_append_printf(out, "Bcast id=%" PRIu32 " origin=%" PRIu32, d->id, d->origin);
        return;
    }
    case BROADCAST_MSG_ACK: {
        const BroadcastAck *a = DSIM_MSG_BODY(msg, BroadcastAck);
        g_string_append_printf(out, "Ack id=%" PRIu32, a->id);
        return;
    }
    default:
        g_string_append_printf(out, "broadcast type=%u?", (unsigned) msg->type);
        return;
    }
}

/* ---- invariants ---------------------------------------------------------- */

/* History for no-duplicate-delivery, in the group's scratch pointer. Node state is zeroed
 * by a crash, so what a node delivered in earlier lives is remembered here. */
typedef struct {
    unsigned  n, words;
    uint64_t *incarnation; /* per member: the life seen at its last check */
    uint32_t *deliveries;  /* per member: its deliveries counter at that check */
    uint64_t *ever;        /* per member, words each: ids delivered in any life */
} DeliveryHistory;

static void history_free(void *scratch)
{
    DeliveryHistory *h = scratch;

    if (h == NULL)
        return;
    g_free(h->incarnation);
    g_free(h->deliveries);
    g_free(h->ever);
    g_free(h);
}

static DeliveryHistory *history_get(const DsimGroupView *g)
{
    const BroadcastConfig *cfg = g->config;
    DeliveryHistory *h = *g->scratch;

    if (h == NULL) {
        h = g_new0(DeliveryHistory, 1);
        h->n = g->n;
        h->words = words_for((uint64_t) cfg->messages);
        h->incarnation = g_new0(uint64_t, h->n);
        h->deliveries = g_new0(uint32_t, h->n);
        h->ever = g_new0(uint64_t, (size_t) h->n * h->words);
        *g->scratch = h;
    }
    g_assert(h->n == g->n);
    return h;
}

/* RB2, No duplication: "No message is delivered more than once" (CGR §3.3). A node checks
 * its delivered set before delivering, so within one life this cannot fail; across a crash
 * it holds only if the set was durable. The check runs after every event of a member, and
 * an event delivers at most one message, so a changed counter means exactly one new
 * delivery: the latest. A new incarnation means a new life, whose counter starts at 0 --
 * this is why the node draws one: a crash and restart are not events of the member, so the
 * check may not have seen the counter drop. O(1) per event. */
static bool check_no_duplicate_delivery(const DsimGroupView *g, GString *why)
{
    DeliveryHistory *h = history_get(g);
    unsigned lo = g->last < g->n ? g->last : 0;
    unsigned hi = g->last < g->n ? g->last + 1 : g->n;

    for (unsigned i = lo; i < hi; i++) {
        const BroadcastNode *b = g->state[i];
        if (g->status[i] == DSIM_NODE_CRASHED)
            continue;
        if (b->incarnation != h->incarnation[i]) {
            h->incarnation[i] = b->incarnation;
            h->deliveries[i] = 0;
        }
        if (b->deliveries == h->deliveries[i])
            continue;
        h->deliveries[i] = b->deliveries;
        uint64_t *ever = h->ever + (size_t) i * h->words;
        uint32_t id = b->last_delivered;
        g_assert(id >= 1 && id <= (uint64_t) h->words * 64); /* a zeroed or corrupt state */
        if (bit_test(ever, id - 1)) {
            g_string_printf(why, "%s delivered message id=%" PRIu32 " a second time "
                            "(it forgot the first delivery in a crash)", g->name[i], id);
            return false;
        }
        bit_set(ever, id - 1);
    }
    return true;
}

/* Member @i's label for "connected": the kernel's component when it gives one (at the end
 * of a run), else one label for every live, unpaused member (hand-built views in tests). */
static uint32_t component_of(const DsimGroupView *g, unsigned i)
{
    if (g->component != NULL)
        return g->component[i];
    return g->status[i] == DSIM_NODE_UP ? 0 : DSIM_COMPONENT_NONE;
}

static uint64_t delivered_word(const DsimGroupView *g, unsigned i, unsigned w)
{
    const BroadcastNode *b = g->state[i];
    return b->delivered != NULL ? b->delivered[w] : 0;
}

static bool delivered_by(const DsimGroupView *g, unsigned i, uint32_t id)
{
    return (delivered_word(g, i, (id - 1) / 64) >> ((id - 1) % 64)) & 1;
}

/* RB4, Agreement, checked at the end among the members still able to talk to each other:
 * every live member in the origin's component delivered every id that some member of that
 * component delivered (an id exists only once the origin broadcast it, so this counts only
 * what was broadcast). With the origin crashed, the component of the first live member
 * that delivered anything is used instead. Whether each delivery happened exactly once is
 * no-duplicate-delivery's part: only it keeps the history across crashes. O(n * messages/64). */
static bool check_all_delivered(const DsimGroupView *g, GString *why)
{
    const BroadcastConfig *cfg = g->config;
    unsigned words = words_for((uint64_t) cfg->messages);

    if (cfg->origin > g->n) {
        g_string_printf(why, "origin=%" PRId64 " names no member of %s, which has %u",
                        cfg->origin, g->group, g->n);
        return false;
    }
    unsigned ref = (unsigned) cfg->origin - 1;
    uint32_t comp = component_of(g, ref);
    for (unsigned i = 0; comp == DSIM_COMPONENT_NONE && i < g->n; i++) {
        const BroadcastNode *b = g->state[i];
        if (component_of(g, i) != DSIM_COMPONENT_NONE && b->n_delivered > 0) {
            ref = i;
            comp = component_of(g, i);
        }
    }
    if (comp == DSIM_COMPONENT_NONE)
        return true; /* no live node delivered anything: nothing was broadcast, or it died */

    g_autofree uint64_t *expected = g_new0(uint64_t, words);
    for (unsigned i = 0; i < g->n; i++) {
        for (unsigned w = 0; component_of(g, i) == comp && w < words; w++)
            expected[w] |= delivered_word(g, i, w);
    }

    unsigned misses = 0, who = 0;
    uint32_t what = 0;
    for (unsigned i = 0; i < g->n; i++) {
        for (unsigned w = 0; component_of(g, i) == comp && w < words; w++) {
            uint64_t missing = expected[w] & ~delivered_word(g, i, w);
            if (missing != 0 && misses == 0) {
                who = i;
                what = w * 64 + (uint32_t) __builtin_ctzll(missing) + 1;
            }
            misses += (unsigned) __builtin_popcountll(missing);
        }
    }
    if (misses == 0)
        return true;

    unsigned holder = 0;
    while (component_of(g, holder) != comp || !delivered_by(g, holder, what))
        holder++;
    g_string_printf(why, "%s is missing message id=%" PRIu32 ", which %s delivered "
                    "(missing deliveries among the members connected to %s: %u)",
                    g->name[who], what, g->name[holder], g->name[ref], misses);
    return false;
}

static const DsimInvariant broadcast_invariants[] = {
    { "no-duplicate-delivery", "no node delivers a message twice, even across crashes (RB2)",
      DSIM_CHECK_ALWAYS, check_no_duplicate_delivery, history_free },
    { "all-delivered", "at the end, every connected live member delivered every message (RB4)",
      DSIM_CHECK_AT_END, check_all_delivered, NULL },
    { NULL },
};

/* ---- the ops table ------------------------------------------------------- */

/* At load: the origin is a member of the group. */
static const char *broadcast_validate(const void *config, const DsimShape *shape, GString *why)
{
    const BroadcastConfig *cfg = config;
    unsigned n = shape->sizes[shape->self];
    if (cfg->origin > (int64_t) n) {
        g_string_printf(why, "origin %" PRId64 " names no member of group %s, which has %u",
                        cfg->origin, shape->ids[shape->self], n);
        return "origin";
    }
    return NULL;
}

const DsimProtocol broadcast_protocol = {
    .name = "broadcast",
    .summary = "reliable broadcast by flooding (eager reliable broadcast, CGR §3.3)",
    .params = broadcast_params,
    .invariants = broadcast_invariants,
    .config_size = sizeof(BroadcastConfig),
    .state_size = sizeof(BroadcastNode),
    .init = broadcast_init,
    .fini = broadcast_fini,
    .on_message = broadcast_on_message,
    .on_timer = broadcast_on_timer,
    .on_request = NULL,
    .on_recover = broadcast_on_recover,
    .describe = broadcast_describe,
    .print_msg = broadcast_print_msg,
    .validate = broadcast_validate,
};
