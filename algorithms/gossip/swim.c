/* swim.c - SWIM membership and failure detection (Das, Gupta & Motivala, DSN 2002).
 *
 * Read with §3 (the basic protocol) and §4 (the refinements) of the paper open:
 *
 *  - §3.1, failure detector: every protocol period T' a member pings one other member; when
 *    no ack comes within ping_timeout it sends ping-req to k others, who ping the target and
 *    relay its ack. No ack by the end of the period and the target is suspected.
 *  - §4.2, suspicion: a suspected member is not declared faulty at once. Every member that
 *    hears "Suspect M, incarnation i" starts a timer; M, hearing it, refutes with "Alive M,
 *    i+1"; a member whose timer expires first confirms "M faulty". Updates about M are
 *    ordered by incarnation as in the paper's override rules (apply_update below).
 *  - §4.1, infection-style dissemination: updates ride on pings, ping-reqs and acks, at most
 *    piggyback_max per message, those sent fewest times first, each dropped after lambda log n
 *    sends. No multicast: a membership change costs no extra message.
 *  - §4.3, round-robin probe selection: targets are taken in a random order, reshuffled after
 *    each pass, so a faulty member is probed by every member within one pass (time-bounded
 *    completeness) and, from all members together, within about e/(e-1) periods on average.
 *
 * And one mechanism the paper does not have, for partitions that outlast the suspicion timeout
 * (each side then confirms the other faulty and stops probing it, so nothing would ever cross
 * again after the heal). It is HashiCorp's: Serf's reconnect and memberlist's push/pull.
 *
 *  - reconnect (Serf, serf.go reconnect): a member remembers the members it holds faulty for
 *    reconnect_timeout; every reconnect_interval, with probability faulty / alive (so that the
 *    group as a whole tries each faulty member about once per interval), it picks one of them
 *    at random and sends it its whole view.
 *  - push/pull (memberlist's pushPullNode and mergeState): a member that receives a view
 *    merges it update by update with the usual override rules, and answers a push with its
 *    own view. A member learns from the other's view that it was confirmed faulty, and
 *    refutes (about_self); the other learns the refutation from the answer or the next
 *    piggyback. One rule differs from memberlist's: see merge_view.
 *  - the override-rule extension (memberlist, aliveNode): Alive or Join at an incarnation
 *    above the one at which a member was confirmed faulty reinstates it (apply_update). With
 *    it, the refutations that follow the exchange bring each side back for the other.
 *  - a member still held faulty that pings gets its Confirm in the Ack, so that a member
 *    confirmed by mistake learns it from any member it talks to (swim_on_message).
 *
 * What is measured (metrics, in seconds of virtual time):
 *  suspected_at_seconds   at the member whose probe failed, when it first suspects a member
 *  confirmed_at_seconds   at a member whose suspicion timer expires (it declares the death
 *                         itself); the smallest sample is the first detection
 *  suspicion_seconds      at the same moment, how long that member had suspected it
 *  dead_known_at_seconds  at every member, when it learns a member is faulty, by its own timer
 *                         or by a Confirm; the largest sample is when all members knew
 *  refuted                1 at a member that refutes a suspicion of itself (a false suspicion
 *                         SWIM's suspicion step absorbed)
 *  false_positive         1 at a live member that learns it was confirmed faulty (once per
 *                         confirmed incarnation)
 *  joined_at_seconds      at a member whose join the introducer accepted
 *  reconnected_at_seconds at a member whose reconnect push a member it held faulty answered
 *                         (the first contact across a healed partition)
 *  reinstated_at_seconds  at a member that takes back a member it held faulty (an Alive or
 *                         Join above the confirmed incarnation); after a partition, the largest
 *                         sample is when the membership had re-merged
 * The protocol cannot know when a member crashed; the scenario does: subtract the crash time
 * (docs/gossip.md). Log lines name the members concerned.
 */
#include "algorithms/gossip/swim.h"

#include <string.h>

/* ---- parameters -------------------------------------------------------------- */

static const DsimParam swim_params[] = {
    { .name = "period", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "T', the protocol period: one probe per member per period (§3.1; 0 is taken as 1ms)",
      .offset = offsetof(SwimConfig, period) },
    { .name = "ping_timeout", .type = DSIM_PARAM_TIME, .def = "200ms",
      .help = "wait this long for a direct ack before asking others (§3.1)",
      .offset = offsetof(SwimConfig, ping_timeout) },
    { .name = "indirect_k", .type = DSIM_PARAM_INT, .def = "3",
      .help = "k: members asked to ping-req the target (§3.1)",
      .offset = offsetof(SwimConfig, indirect_k), .min = 0, .max = 64 },
    { .name = "suspicion_timeout", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "time a member stays suspected before it is confirmed faulty (§4.2); "
              "0 = suspicion_mult * ceil(log10(n+1)) periods",
      .offset = offsetof(SwimConfig, suspicion_timeout) },
    { .name = "suspicion_mult", .type = DSIM_PARAM_INT, .def = "3",
      .help = "scales the default suspicion timeout",
      .offset = offsetof(SwimConfig, suspicion_mult), .min = 1, .max = 1000 },
    { .name = "piggyback_max", .type = DSIM_PARAM_INT, .def = "6",
      .help = "membership updates piggybacked per message (§4.1)",
      .offset = offsetof(SwimConfig, piggyback_max), .min = 0, .max = 64 },
    { .name = "retransmit_mult", .type = DSIM_PARAM_INT, .def = "3",
      .help = "lambda: each update is piggybacked lambda * ceil(log2(n+1)) times (§4.1)",
      .offset = offsetof(SwimConfig, retransmit_mult), .min = 1, .max = 1000 },
    { .name = "joiners", .type = DSIM_PARAM_INT, .def = "0",
      .help = "the last members start outside the group and join at join_at, one per period",
      .offset = offsetof(SwimConfig, joiners), .min = 0, .max = 10000000 },
    { .name = "join_at", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "when the first joiner joins (through member 1)",
      .offset = offsetof(SwimConfig, join_at) },
    { .name = "leaver", .type = DSIM_PARAM_INT, .def = "0",
      .help = "member number that leaves the group voluntarily at leave_at; 0 = none",
      .offset = offsetof(SwimConfig, leaver), .min = 0, .max = 10000000 },
    { .name = "leave_at", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when the leaver leaves",
      .offset = offsetof(SwimConfig, leave_at) },
    { .name = "reconnect_interval", .type = DSIM_PARAM_TIME, .def = "30s",
      .help = "every this often, push the view to one member held faulty, so that sides of a "
              "healed partition meet again (Serf's reconnect_interval); 0 = never",
      .offset = offsetof(SwimConfig, reconnect_interval) },
    { .name = "reconnect_timeout", .type = DSIM_PARAM_TIME, .def = "24h",
      .help = "how long a member held faulty is still tried by reconnect (Serf's "
              "reconnect_timeout); 0 = forever",
      .offset = offsetof(SwimConfig, reconnect_timeout) },
    { .name = "push_pull_interval", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "every this often, exchange whole views with one live member at random "
              "(memberlist's push_pull_interval); 0 = never",
      .offset = offsetof(SwimConfig, push_pull_interval) },
    { NULL },
};

/* ---- derived figures ----------------------------------------------------------- */

static DsimTime period_of(const SwimConfig *cfg)
{
    return cfg->period > 0 ? cfg->period : DSIM_MS(1);
}

/* ceil(log2(n + 1)) and ceil(log10(n + 1)), in integers so that every machine agrees. */
static unsigned log2_up(uint64_t n)
{
    unsigned b = 0;
    while ((UINT64_C(1) << b) < n + 1 && b < 63)
        b++;
    return b;
}

static unsigned log10_up(uint64_t n)
{
    unsigned d = 0;
    for (uint64_t p = 1; p < n + 1 && d < 19; p *= 10)
        d++;
    return d;
}

static DsimTime suspicion_timeout_of(const SwimConfig *cfg, unsigned n)
{
    if (cfg->suspicion_timeout > 0)
        return cfg->suspicion_timeout;
    unsigned l = log10_up(n);
    return (DsimTime) cfg->suspicion_mult * (l > 0 ? l : 1) * period_of(cfg);
}

/* lambda log n (§4.1): how many times each update is piggybacked. */
static uint32_t send_limit(const SwimConfig *cfg, unsigned n)
{
    return (uint32_t) cfg->retransmit_mult * (log2_up(n) > 0 ? log2_up(n) : 1);
}

static double secs(DsimTime t) { return (double) t / 1e9; }

static const char *member_name(DsimCtx *ctx, uint32_t m)
{
    return dsim_name(ctx, dsim_group_member(ctx, m));
}

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case SWIM_UPDATE_ALIVE: return "Alive";
    case SWIM_UPDATE_SUSPECT: return "Suspect";
    case SWIM_UPDATE_CONFIRM: return "Confirm";
    case SWIM_UPDATE_JOIN: return "Join";
    case SWIM_UPDATE_LEAVE: return "Leave";
    }
    return "?";
}

/* In the group, in @s's view: alive or suspected (a suspect is still a member). */
static bool is_member(const SwimNode *s, uint32_t m)
{
    return s->view[m].status == SWIM_ALIVE || s->view[m].status == SWIM_SUSPECT;
}

/* ---- dissemination (§4.1) -------------------------------------------------------- */

/* Queues @u for piggybacking, replacing a queued update about the same member. */
static void enqueue(SwimNode *s, const SwimUpdate *u)
{
    for (uint32_t i = 0; i < s->n_queued; i++) {
        if (s->queue[i].update.member == u->member) {
            s->queue[i] = (SwimQueued) { .update = *u, .sent = 0 };
            return;
        }
    }
    g_assert(s->n_queued < s->n);
    s->queue[s->n_queued++] = (SwimQueued) { .update = *u, .sent = 0 };
}

/* Picks up to piggyback_max queued updates, those sent fewest times first (ties: the oldest
 * in the queue), into @out; each pick counts as one send, and an update sent lambda log n
 * times leaves the queue. O(piggyback_max * queued). */
static uint32_t piggyback(SwimNode *s, const SwimConfig *cfg, SwimUpdate *out)
{
    uint32_t want = (uint32_t) cfg->piggyback_max, got = 0, limit = send_limit(cfg, s->n);
    uint32_t idx[64];
    while (got < want && got < s->n_queued) {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < s->n_queued; i++) {
            bool taken = false;
            for (uint32_t j = 0; j < got && !taken; j++)
                taken = idx[j] == i;
            if (!taken && (best == UINT32_MAX || s->queue[i].sent < s->queue[best].sent))
                best = i;
        }
        idx[got] = best;
        out[got] = s->queue[best].update;
        got++;
    }
    /* count the sends, then drop what was sent often enough, last index first so that the
     * swap-removals do not move an index still to be visited */
    for (uint32_t j = 0; j < got; j++)
        s->queue[idx[j]].sent++;
    for (uint32_t i = s->n_queued; i-- > 0;) {
        if (s->queue[i].sent >= limit)
            s->queue[i] = s->queue[--s->n_queued];
    }
    return got;
}

/* Sends a message of @type to member @to, with piggybacked updates (or @explicit_updates
 * when given: JOIN_ACK's view, LEAVE's announcement). Probes and acks are built on the
 * stack; only a JOIN_ACK, which carries a whole view, takes the heap. */
static void send_msg(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, uint32_t to, uint16_t type,
                     uint32_t seq, uint32_t target, uint32_t on_behalf,
                     const SwimUpdate *explicit_updates, uint32_t n_explicit)
{
    union {
        SwimBody hdr;
        uint8_t  bytes[sizeof(SwimBody) + 64 * sizeof(SwimUpdate)];
    } small;
    uint32_t cap = explicit_updates != NULL ? n_explicit : (uint32_t) cfg->piggyback_max;
    g_autofree SwimBody *big = cap > 64 ? g_malloc0(sizeof(SwimBody) + (size_t) cap * sizeof(SwimUpdate))
                                        : NULL;
    SwimBody *b = big != NULL ? big : &small.hdr;
    memset(b, 0, sizeof *b);
    b->seq = seq;
    b->target = target;
    b->on_behalf = on_behalf;
    if (explicit_updates != NULL) {
        memcpy(b->updates, explicit_updates, n_explicit * sizeof(SwimUpdate));
        b->n_updates = n_explicit;
    } else {
        b->n_updates = piggyback(s, cfg, b->updates);
    }
    dsim_send(ctx, dsim_group_member(ctx, to), type, b,
              sizeof(SwimBody) + (size_t) b->n_updates * sizeof(SwimUpdate));
}

/* ---- the view and its override rules (§4.2) -------------------------------------- */

/* Remembers that @m is held faulty from now on, for reconnect (Serf keeps failed members
 * for reconnect_timeout), and arms the reconnect timer when none is pending. The timer runs
 * only while some member is held faulty, so a group without deaths sets none. */
static void remember_dead(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, uint32_t m)
{
    s->dead_at[m] = dsim_now(ctx);
    if (cfg->reconnect_interval > 0 && !s->reconnecting) {
        s->reconnecting = 1;
        dsim_timer_set(ctx, cfg->reconnect_interval, SWIM_TIMER_RECONNECT, 0);
    }
}

static void note_dead(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, uint32_t m)
{
    dsim_metric(ctx, "dead_known_at_seconds", secs(dsim_now(ctx)));
    remember_dead(s, ctx, cfg, m);
}

static void start_suspicion(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, uint32_t m,
                            uint32_t inc)
{
    s->suspected_at[m] = dsim_now(ctx);
    dsim_timer_set(ctx, suspicion_timeout_of(cfg, s->n), SWIM_TIMER_SUSPECT,
                   ((uint64_t) inc << 32) | m);
}

static void rejoin(SwimNode *s, DsimCtx *ctx, uint32_t inc);

/* Announces this member alive at incarnation @inc (raising its own to it). */
static void announce_alive(SwimNode *s, DsimCtx *ctx, uint32_t inc)
{
    uint32_t self = dsim_self_index(ctx);
    s->view[self].incarnation = inc;
    enqueue(s, &(SwimUpdate) { .member = self, .incarnation = inc, .kind = SWIM_UPDATE_ALIVE });
}

/* An update about this member itself. §4.2: a member that hears it is suspected "increments
 * its incarnation number and disseminates an Alive message". Told it was confirmed faulty
 * while alive, it counts the false positive and re-enters the same way, at an incarnation
 * above the confirmed one (rejoin; memberlist's refute does the same). A suspicion or
 * confirmation of an older incarnation is stale, but someone still holds it: announcing the
 * current incarnation again corrects that member, since Alive i overrides everything at
 * j < i (apply_update). */
static void about_self(SwimNode *s, DsimCtx *ctx, const SwimUpdate *u)
{
    uint32_t self = dsim_self_index(ctx);
    uint32_t mine = s->view[self].incarnation;
    if (!s->joined)
        return;
    switch ((SwimUpdateKind) u->kind) {
    case SWIM_UPDATE_SUSPECT:
        if (u->incarnation < mine) {
            announce_alive(s, ctx, mine);
            return;
        }
        announce_alive(s, ctx, u->incarnation + 1);
        dsim_count(ctx, "refuted");
        if (dsim_logging(ctx))
            dsim_log(ctx, "suspected at incarnation %" PRIu32 ": refute with Alive %" PRIu32,
                     u->incarnation, u->incarnation + 1);
        return;
    case SWIM_UPDATE_CONFIRM:
        /* a false positive: some member declared this live one faulty; counted once per
         * incarnation so declared, however many copies of the Confirm come back */
        if (u->incarnation >= s->fp_mark) {
            s->fp_mark = u->incarnation + 1;
            dsim_count(ctx, "false_positive");
            if (dsim_logging(ctx))
                dsim_log(ctx, "confirmed faulty at incarnation %" PRIu32 " while alive",
                         u->incarnation);
        }
        if (u->incarnation < mine)
            announce_alive(s, ctx, mine);
        else
            rejoin(s, ctx, u->incarnation + 1);
        return;
    case SWIM_UPDATE_ALIVE:
    case SWIM_UPDATE_JOIN:
        /* someone holds a newer incarnation of us than we do (from an earlier life):
         * announce a newer one still */
        if (u->incarnation > mine)
            announce_alive(s, ctx, u->incarnation + 1);
        return;
    case SWIM_UPDATE_LEAVE:
        return; /* an old announcement of ours */
    }
}

/* Applies update @u to the view if it overrides what the view holds, and queues it for
 * dissemination. The rules of §4.2, with i the update's and j the view's incarnation:
 *   Alive i   overrides Suspect j and Alive j when i > j;
 *   Suspect i overrides Suspect j when i > j, and Alive j when i >= j;
 *   Confirm i overrides Alive j and Suspect j.
 * Two departures, because members here come back (a restart, a false positive, a healed
 * partition) at a higher incarnation, which the paper leaves to its join mechanism: Confirm
 * applies only when i >= j, so that a Confirm of an old life still travelling does not end
 * the new one; and, the extension HashiCorp's memberlist makes (aliveNode orders alive and
 * dead messages by incarnation alone), Alive (or Join) i overrides a Confirm or Leave at
 * j < i and reinstates the member. In the paper a Confirm overrides everything and a
 * confirmed member is gone for good. With the extension a member wrongly confirmed comes
 * back for everyone, including members that confirmed it after they had missed its
 * refutation, and a stale Alive (i <= j) still cannot undo a Confirm. Leave i overrides
 * Alive and Suspect at j <= i. Returns true when applied. */
static bool apply_update(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, const SwimUpdate *u)
{
    uint32_t m = u->member;
    g_assert(m < s->n);
    if (m == dsim_self_index(ctx)) {
        about_self(s, ctx, u);
        return false;
    }
    SwimMember *v = &s->view[m];
    uint32_t i = u->incarnation, j = v->incarnation;
    uint8_t was = v->status;
    bool member = was == SWIM_ALIVE || was == SWIM_SUSPECT;
    bool apply;
    switch ((SwimUpdateKind) u->kind) {
    case SWIM_UPDATE_ALIVE:
        apply = was == SWIM_NONE || i > j;
        break;
    case SWIM_UPDATE_SUSPECT:
        apply = (was == SWIM_ALIVE && i >= j) || (was == SWIM_SUSPECT && i > j);
        break;
    case SWIM_UPDATE_CONFIRM:
        apply = (member && i >= j) || was == SWIM_NONE;
        break;
    case SWIM_UPDATE_JOIN:
        apply = was == SWIM_NONE || i > j;
        break;
    case SWIM_UPDATE_LEAVE:
        apply = (member && i >= j) || was == SWIM_NONE;
        break;
    default:
        g_assert_not_reached();
    }
    if (!apply)
        return false;
    static const uint8_t status_of[] = { SWIM_NONE, SWIM_ALIVE, SWIM_SUSPECT, SWIM_DEAD,
                                         SWIM_ALIVE, SWIM_LEFT };
    v->status = status_of[u->kind];
    v->incarnation = i > j ? i : j;
    enqueue(s, u);
    /* only an Alive or a Join applies over a Confirm: the extension above */
    bool reinstated = was == SWIM_DEAD;
    if (dsim_logging(ctx))
        dsim_log(ctx, "%s %s incarnation %" PRIu32 "%s", kind_name(u->kind), member_name(ctx, m),
                 i, reinstated ? ": reinstated" : "");
    if (reinstated)
        dsim_metric(ctx, "reinstated_at_seconds", secs(dsim_now(ctx)));
    if (u->kind == SWIM_UPDATE_SUSPECT)
        start_suspicion(s, ctx, cfg, m, i);
    if (u->kind == SWIM_UPDATE_CONFIRM)
        note_dead(s, ctx, cfg, m);
    return true;
}

static void apply_all(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, const SwimBody *b)
{
    for (uint32_t k = 0; k < b->n_updates; k++)
        apply_update(s, ctx, cfg, &b->updates[k]);
}

/* ---- probing (§3.1, §4.3) ------------------------------------------------------------ */

static void shuffle(DsimCtx *ctx, uint32_t *v, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t) dsim_rand_below(ctx, i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* §4.3: "...a member selects ping targets ... in a round-robin fashion. ... the membership
 * list is randomly rearranged after each traversal." The order holds every member index,
 * members or not, so a member that joins is in it already, at a random place, as the paper
 * asks for new members; this skips whoever is not a member now. */
static uint32_t next_target(SwimNode *s, DsimCtx *ctx)
{
    uint32_t self = dsim_self_index(ctx);
    for (uint32_t tries = 0; tries <= s->n; tries++) {
        if (s->pos >= s->n) {
            shuffle(ctx, s->order, s->n);
            s->pos = 0;
        }
        uint32_t m = s->order[s->pos++];
        if (m != self && is_member(s, m))
            return m;
    }
    return SWIM_NOBODY;
}

/* The end of a probe: "if M_i has not received an ack ... by the end of the protocol period,
 * it declares M_j as failed" (§3.1), which §4.2 turns into a suspicion. */
static void finish_probe(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg)
{
    uint32_t t = s->target;
    if (t == SWIM_NOBODY || s->acked || s->view[t].status != SWIM_ALIVE)
        return;
    SwimUpdate u = { .member = t, .incarnation = s->view[t].incarnation,
                     .kind = SWIM_UPDATE_SUSPECT };
    if (apply_update(s, ctx, cfg, &u))
        dsim_metric(ctx, "suspected_at_seconds", secs(dsim_now(ctx)));
}

static void on_tick(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg)
{
    if (s->left)
        return;
    dsim_timer_set(ctx, period_of(cfg), SWIM_TIMER_TICK, 0);
    if (!s->joined)
        return;
    finish_probe(s, ctx, cfg);
    s->target = next_target(s, ctx);
    s->acked = 0;
    if (s->target == SWIM_NOBODY)
        return;
    s->probe_seq++;
    send_msg(s, ctx, cfg, s->target, SWIM_MSG_PING, s->probe_seq, s->target, SWIM_NOBODY, NULL, 0);
    dsim_timer_set(ctx, cfg->ping_timeout, SWIM_TIMER_PING_TIMEOUT, s->probe_seq);
}

/* No direct ack in time: "M_i selects k members at random and sends each a ping-req(M_j)
 * message" (§3.1). */
static void on_ping_timeout(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, uint32_t seq)
{
    if (seq != s->probe_seq || s->acked || s->target == SWIM_NOBODY || !s->joined || s->left)
        return;
    /* k members uniformly at random among the others, by reservoir sampling over the view
     * in member order (Vitter's algorithm R), so nothing is allocated */
    uint32_t self = dsim_self_index(ctx), k = (uint32_t) cfg->indirect_k, seen = 0;
    uint32_t chosen[64];
    for (uint32_t m = 0; m < s->n; m++) {
        if (m == self || m == s->target || !is_member(s, m))
            continue;
        seen++;
        if (seen <= k) {
            chosen[seen - 1] = m;
        } else {
            uint64_t j = dsim_rand_below(ctx, seen);
            if (j < k)
                chosen[j] = m;
        }
    }
    for (uint32_t i = 0; i < k && i < seen; i++)
        send_msg(s, ctx, cfg, chosen[i], SWIM_MSG_PING_REQ, seq, s->target, SWIM_NOBODY, NULL, 0);
}

/* ---- joining and leaving ---------------------------------------------------------- */

/* Sends a Join request: to member 1 first (the introducer everyone knows), then, when no
 * answer came within a period, to a random other member. */
static void try_join(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg)
{
    uint32_t self = dsim_self_index(ctx);
    if (s->joined || s->left || s->n < 2)
        return;
    uint32_t to = 0;
    if (s->join_tries > 0 || self == 0) {
        to = (uint32_t) dsim_rand_below(ctx, s->n - 1);
        to += to >= self;
    }
    s->join_tries++;
    send_msg(s, ctx, cfg, to, SWIM_MSG_JOIN, s->view[self].incarnation, self, SWIM_NOBODY,
             NULL, 0);
    dsim_timer_set(ctx, period_of(cfg), SWIM_TIMER_JOIN, 0);
}

/* A live member confirmed faulty re-enters at incarnation @inc with a Join it disseminates
 * itself (a Join overrides the Confirm at a lower incarnation). */
static void rejoin(SwimNode *s, DsimCtx *ctx, uint32_t inc)
{
    uint32_t self = dsim_self_index(ctx);
    s->view[self].incarnation = inc;
    enqueue(s, &(SwimUpdate) { .member = self, .incarnation = inc, .kind = SWIM_UPDATE_JOIN });
}

/* Sends @type to @to with this member's whole view as its updates, one per member it knows
 * of (itself included, @skip left out): a JOIN_ACK, or either half of a push/pull. */
static void send_view(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, uint32_t to, uint16_t type,
                      uint32_t seq, uint32_t skip)
{
    static const uint32_t kind_of[] = { 0, SWIM_UPDATE_ALIVE, SWIM_UPDATE_SUSPECT,
                                        SWIM_UPDATE_CONFIRM, SWIM_UPDATE_LEAVE };
    g_autofree SwimUpdate *all = g_new(SwimUpdate, s->n);
    uint32_t n = 0;
    for (uint32_t m = 0; m < s->n; m++) {
        if (s->view[m].status != SWIM_NONE && m != skip)
            all[n++] = (SwimUpdate) { .member = m, .incarnation = s->view[m].incarnation,
                                      .kind = kind_of[s->view[m].status] };
    }
    send_msg(s, ctx, cfg, to, type, seq, to, SWIM_NOBODY, all, n);
}

/* The introducer admits a joiner at an incarnation above any it knows for it, tells the
 * group (a Join update) and answers with its view. */
static void on_join(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, uint32_t from,
                    const SwimBody *b)
{
    if (!s->joined || s->left)
        return;
    SwimMember *v = &s->view[from];
    uint32_t inc = b->seq;
    if (v->status != SWIM_NONE && v->incarnation + 1 > inc)
        inc = v->incarnation + 1;
    apply_update(s, ctx, cfg, &(SwimUpdate) { .member = from, .incarnation = inc,
                                               .kind = SWIM_UPDATE_JOIN });
    send_view(s, ctx, cfg, from, SWIM_MSG_JOIN_ACK, inc, from);
}

static void on_join_ack(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, uint32_t from,
                        const SwimBody *b)
{
    uint32_t self = dsim_self_index(ctx);
    if (s->joined || s->left)
        return;
    s->joined = 1;
    s->view[self] = (SwimMember) { .incarnation = b->seq, .status = SWIM_ALIVE };
    s->fp_mark = b->seq; /* a Confirm of an older incarnation is about an earlier life */
    for (uint32_t k = 0; k < b->n_updates; k++) {
        const SwimUpdate *u = &b->updates[k];
        if (u->member == self)
            continue;
        static const uint8_t status_of[] = { SWIM_NONE, SWIM_ALIVE, SWIM_SUSPECT, SWIM_DEAD,
                                             SWIM_ALIVE, SWIM_LEFT };
        s->view[u->member] = (SwimMember) { .incarnation = u->incarnation,
                                            .status = status_of[u->kind] };
        if (u->kind == SWIM_UPDATE_SUSPECT)
            start_suspicion(s, ctx, cfg, u->member, u->incarnation);
        if (u->kind == SWIM_UPDATE_CONFIRM)
            remember_dead(s, ctx, cfg, u->member);
    }
    dsim_metric(ctx, "joined_at_seconds", secs(dsim_now(ctx)));
    if (dsim_logging(ctx))
        dsim_log(ctx, "joined through %s at incarnation %" PRIu32, member_name(ctx, from), b->seq);
}

/* A voluntary leave: announce it to k members directly (they disseminate it), then fall
 * silent. */
static void leave(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg)
{
    uint32_t self = dsim_self_index(ctx);
    if (!s->joined || s->left)
        return;
    SwimUpdate u = { .member = self, .incarnation = s->view[self].incarnation,
                     .kind = SWIM_UPDATE_LEAVE };
    uint32_t sent = 0;
    for (uint32_t i = 0; i < s->n && sent < (uint32_t) cfg->indirect_k + 1; i++) {
        uint32_t m = s->order[(s->pos + i) % s->n];
        if (m != self && is_member(s, m)) {
            send_msg(s, ctx, cfg, m, SWIM_MSG_LEAVE, 0, self, SWIM_NOBODY, &u, 1);
            sent++;
        }
    }
    s->joined = 0;
    s->left = 1;
    s->view[self].status = SWIM_LEFT;
    if (dsim_logging(ctx))
        dsim_log(ctx, "leave the group (told %" PRIu32 " members)", sent);
}

/* ---- healing after a partition (Serf's reconnect, memberlist's push/pull) ---------------- */

/* Still tried by reconnect: held faulty (not departed: Serf does not reconnect to members that
 * left) and for less than reconnect_timeout. */
static bool remembered_dead(const SwimNode *s, const SwimConfig *cfg, DsimTime now, uint32_t m)
{
    return s->view[m].status == SWIM_DEAD
           && (cfg->reconnect_timeout == 0 || now - s->dead_at[m] < cfg->reconnect_timeout);
}

/* Serf's reconnect (serf.go): "Probability we should attempt to reconnect is given by num
 * failed / (num members - num failed - num left). This means that we probabilistically expect
 * the cluster to attempt to connect to each failed member once per reconnect interval." Then
 * a failed member at random gets our view, as Serf's memberlist.Join does with a push/pull.
 * Integers only: the draw below @alive is under @failed with that probability (1 when
 * failed >= alive, as after a partition into halves). The timer stops once nobody is
 * remembered (remember_dead arms it again). */
static void on_reconnect(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg)
{
    DsimTime now = dsim_now(ctx);
    uint32_t failed = 0, alive = 0;
    s->reconnecting = 0;
    if (!s->joined || s->left)
        return;
    for (uint32_t m = 0; m < s->n; m++) {
        failed += remembered_dead(s, cfg, now, m);
        alive += is_member(s, m); /* itself included, so alive >= 1 */
    }
    if (failed == 0)
        return;
    s->reconnecting = 1;
    dsim_timer_set(ctx, cfg->reconnect_interval, SWIM_TIMER_RECONNECT, 0);
    if (dsim_rand_below(ctx, alive) >= failed)
        return;
    uint64_t k = dsim_rand_below(ctx, failed);
    for (uint32_t m = 0; m < s->n; m++) {
        if (remembered_dead(s, cfg, now, m) && k-- == 0) {
            if (dsim_logging(ctx))
                dsim_log(ctx, "reconnect: push the view to %s, held faulty since %.3f s",
                         member_name(ctx, m), secs(s->dead_at[m]));
            send_view(s, ctx, cfg, m, SWIM_MSG_SYNC, 0, SWIM_NOBODY);
            return;
        }
    }
}

/* memberlist's periodic push/pull (state.go, pushPull): "Complete state exchanges with a
 * random node are done periodically ... This increases the likelihood that the membership
 * list converges properly since the full state is exchanged and merged" (its README). A
 * whole view moves in one exchange, where piggybacking moves piggyback_max updates per
 * message; off by default, and useful when many updates are in flight at once, as after a
 * partition of a large group heals. */
static void on_push_pull(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg)
{
    uint32_t self = dsim_self_index(ctx), others = 0;
    dsim_timer_set(ctx, cfg->push_pull_interval, SWIM_TIMER_PUSH_PULL, 0);
    if (!s->joined || s->left)
        return;
    for (uint32_t m = 0; m < s->n; m++)
        others += m != self && is_member(s, m);
    if (others == 0)
        return;
    uint64_t k = dsim_rand_below(ctx, others);
    for (uint32_t m = 0; m < s->n; m++) {
        if (m != self && is_member(s, m) && k-- == 0) {
            send_view(s, ctx, cfg, m, SWIM_MSG_SYNC, 0, SWIM_NOBODY);
            return;
        }
    }
}

/* Merges the other member's view (memberlist's mergeState): each entry is applied as an
 * update, by the usual rules. An entry about this member itself goes to about_self, so a
 * Confirm of it is a false positive that it refutes with a Join at a higher incarnation.
 *
 * One departure: a Confirm of a member this one holds alive or suspected is left out.
 * memberlist suspects such a member instead ("If the remote node believes a node is dead, we
 * prefer to suspect that node instead of declaring it dead instantly"). After a partition
 * into halves, though, every exchange carries the Confirm of every member of this side, so
 * that rule suspects them all at once; their refutations then queue behind one another for
 * the piggyback slots, and in swim-partition-heal.xml some came too late: 6 s after the heal,
 * members confirmed live members faulty again, seven times. Leaving the entry out loses
 * nothing: this member's own probes find a member that is really gone, and a live one learns
 * of its confirmation by its own exchange or from the Ack of a member that still holds it
 * faulty. */
static void merge_view(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, const SwimBody *b)
{
    uint32_t self = dsim_self_index(ctx);
    for (uint32_t k = 0; k < b->n_updates; k++) {
        SwimUpdate u = b->updates[k];
        if (u.kind == SWIM_UPDATE_CONFIRM && u.member != self && is_member(s, u.member))
            continue;
        apply_update(s, ctx, cfg, &u);
    }
}

/* Either half of a push/pull. The receiver of the push merges, then answers with its own view
 * (memberlist answers before merging; here the handler is one step, and answering after the
 * merge sends the refutation of a member told it was confirmed faulty in the same answer).
 * The pusher merges the answer; a member it held faulty answered, which is the first contact
 * across a healed partition. */
static void on_sync(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, uint32_t from, uint16_t type,
                    const SwimBody *b)
{
    if (!s->joined || s->left)
        return;
    bool was_dead = s->view[from].status == SWIM_DEAD;
    merge_view(s, ctx, cfg, b);
    if (type == SWIM_MSG_SYNC) {
        send_view(s, ctx, cfg, from, SWIM_MSG_SYNC_ACK, 0, SWIM_NOBODY);
    } else if (was_dead) {
        dsim_metric(ctx, "reconnected_at_seconds", secs(dsim_now(ctx)));
        if (dsim_logging(ctx))
            dsim_log(ctx, "reconnected to %s", member_name(ctx, from));
    }
}

/* ---- handlers ----------------------------------------------------------------------- */

static void start(SwimNode *s, DsimCtx *ctx, const SwimConfig *cfg, bool restarted)
{
    uint32_t n = dsim_group_size(ctx), self = dsim_self_index(ctx);
    s->n = n;
    s->view = g_new0(SwimMember, n);
    s->order = g_new(uint32_t, n);
    s->queue = g_new0(SwimQueued, n);
    s->suspected_at = g_new0(DsimTime, n);
    s->dead_at = g_new0(DsimTime, n);
    for (uint32_t m = 0; m < n; m++)
        s->order[m] = m;
    shuffle(ctx, s->order, n);
    s->target = SWIM_NOBODY;
    s->up = 1;
    uint32_t founders = cfg->joiners < n ? n - (uint32_t) cfg->joiners : 0;
    /* ticks start at a random phase, so members do not all probe at one instant */
    dsim_timer_set(ctx, dsim_rand_time(ctx, 0, period_of(cfg) - 1), SWIM_TIMER_TICK, 0);
    if (!restarted && self < founders) {
        for (uint32_t m = 0; m < founders; m++)
            s->view[m].status = SWIM_ALIVE;
        s->joined = 1;
    } else if (restarted) {
        try_join(s, ctx, cfg);
    } else {
        DsimTime at = cfg->join_at + (DsimTime) (self - founders) * period_of(cfg);
        dsim_timer_set(ctx, at, SWIM_TIMER_JOIN, 0);
    }
    if (!restarted && cfg->leaver > 0 && (int64_t) self + 1 == cfg->leaver)
        dsim_timer_set(ctx, cfg->leave_at, SWIM_TIMER_LEAVE, 0);
    if (cfg->push_pull_interval > 0) { /* at a random phase too */
        DsimTime phase = dsim_rand_time(ctx, 1, cfg->push_pull_interval);
        dsim_timer_set(ctx, phase, SWIM_TIMER_PUSH_PULL, 0);
    }
}

static void swim_init(void *state, DsimCtx *ctx)
{
    start(state, ctx, dsim_config(ctx), false);
}

/* A restarted member has forgotten the group and its own incarnation: it joins again,
 * and the introducer gives it an incarnation above the one the group last knew. */
static void swim_on_recover(void *state, DsimCtx *ctx)
{
    start(state, ctx, dsim_config(ctx), true);
}

static void swim_fini(void *state)
{
    SwimNode *s = state;
    g_clear_pointer(&s->view, g_free);
    g_clear_pointer(&s->order, g_free);
    g_clear_pointer(&s->queue, g_free);
    g_clear_pointer(&s->suspected_at, g_free);
    g_clear_pointer(&s->dead_at, g_free);
}

static void swim_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    SwimNode *s = state;
    const SwimConfig *cfg = dsim_config(ctx);
    uint32_t from = msg->from - dsim_group_member(ctx, 0);
    const SwimBody *b = DSIM_MSG_BODY(msg, SwimBody);
    g_assert(from < s->n);
    g_assert(msg->size == sizeof(SwimBody) + (size_t) b->n_updates * sizeof(SwimUpdate));
    if (s->left)
        return;
    switch (msg->type) {
    case SWIM_MSG_JOIN:
        on_join(s, ctx, cfg, from, b);
        return;
    case SWIM_MSG_JOIN_ACK:
        on_join_ack(s, ctx, cfg, from, b);
        return;
    case SWIM_MSG_SYNC:
    case SWIM_MSG_SYNC_ACK:
        on_sync(s, ctx, cfg, from, msg->type, b);
        return;
    default:
        break;
    }
    if (s->joined) {
        apply_all(s, ctx, cfg, b);
    }
    switch (msg->type) {
    case SWIM_MSG_PING: {
        /* alive: answer, joined or not (a member still joining is alive all the same). A
         * member this one still holds faulty gets its Confirm in the answer, instead of the
         * piggybacked updates, so that one confirmed by mistake learns it and refutes
         * (about_self). Only it is told: queued for the group, the Confirm would take a live
         * member out of the views of members that hold it alive at that incarnation. */
        SwimUpdate confirm = { .member = from, .incarnation = s->view[from].incarnation,
                               .kind = SWIM_UPDATE_CONFIRM };
        bool dead = s->joined && s->view[from].status == SWIM_DEAD;
        send_msg(s, ctx, cfg, from, SWIM_MSG_ACK, b->seq, dsim_self_index(ctx), b->on_behalf,
                 dead ? &confirm : NULL, dead ? 1 : 0);
        return;
    }
    case SWIM_MSG_PING_REQ:
        if (s->joined)
            send_msg(s, ctx, cfg, b->target, SWIM_MSG_PING, b->seq, b->target, from, NULL, 0);
        return;
    case SWIM_MSG_ACK:
        if (b->on_behalf != SWIM_NOBODY) {
            /* we probed for someone else: relay the ack to it */
            send_msg(s, ctx, cfg, b->on_behalf, SWIM_MSG_ACK, b->seq, b->target, SWIM_NOBODY,
                     NULL, 0);
        } else if (b->seq == s->probe_seq && b->target == s->target) {
            s->acked = 1;
        }
        return;
    case SWIM_MSG_LEAVE:
        return; /* the Leave was applied with the updates */
    default:
        g_assert_not_reached();
    }
}

static void swim_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    SwimNode *s = state;
    const SwimConfig *cfg = dsim_config(ctx);
    switch (kind) {
    case SWIM_TIMER_TICK:
        on_tick(s, ctx, cfg);
        return;
    case SWIM_TIMER_PING_TIMEOUT:
        on_ping_timeout(s, ctx, cfg, (uint32_t) arg);
        return;
    case SWIM_TIMER_SUSPECT: {
        /* §4.2: "If the suspected member ... is not refuted within the timeout, it is
         * declared faulty": Confirm, unless the view moved on (refuted, or already dead) */
        uint32_t m = (uint32_t) arg, inc = (uint32_t) (arg >> 32);
        if (s->left || !s->joined || m >= s->n || s->view[m].status != SWIM_SUSPECT
            || s->view[m].incarnation != inc)
            return;
        dsim_metric(ctx, "confirmed_at_seconds", secs(dsim_now(ctx)));
        dsim_metric(ctx, "suspicion_seconds", secs(dsim_now(ctx) - s->suspected_at[m]));
        apply_update(s, ctx, cfg, &(SwimUpdate) { .member = m, .incarnation = inc,
                                                   .kind = SWIM_UPDATE_CONFIRM });
        return;
    }
    case SWIM_TIMER_JOIN:
        try_join(s, ctx, cfg);
        return;
    case SWIM_TIMER_LEAVE:
        leave(s, ctx, cfg);
        return;
    case SWIM_TIMER_RECONNECT:
        on_reconnect(s, ctx, cfg);
        return;
    case SWIM_TIMER_PUSH_PULL:
        on_push_pull(s, ctx, cfg);
        return;
    default:
        g_assert_not_reached();
    }
}

/* ---- describe, print --------------------------------------------------------------- */

/* applied = the members this member believes are in the group (alive or suspected, itself
 * included), digest over their indices in order: members that agree on who is in the group
 * have equal views, which is what <converge> and <expect agree> compare. */
static void swim_describe(const void *state, DsimView *view)
{
    const SwimNode *s = state;
    uint64_t n = 0, digest = 0;
    for (uint32_t m = 0; s->view != NULL && s->joined && m < s->n; m++) {
        if (is_member(s, m)) {
            digest = dsim_digest_add(digest, &m, sizeof m);
            n++;
        }
    }
    view->role = DSIM_ROLE_NONE;
    view->applied = n;
    view->applied_digest = digest;
    g_snprintf(view->text, sizeof view->text, "%s, %" PRIu64 " members",
               s->left ? "left" : s->joined ? "member" : "joining", n);
}

static void swim_print_msg(const DsimMsg *msg, GString *out)
{
    static const char *const names[] = { "?", "Ping", "PingReq", "Ack", "Join", "JoinAck", "Leave",
                                         "Sync", "SyncAck" };
    if (msg->type < 1 || msg->type > SWIM_MSG_SYNC_ACK || msg->size < sizeof(SwimBody)) {
        g_string_append_printf(out, "swim type=%u?", (unsigned) msg->type);
        return;
    }
    const SwimBody *b = msg->body;
    g_string_append_printf(out, "%s seq=%" PRIu32, names[msg->type], b->seq);
    if (msg->type == SWIM_MSG_PING_REQ || msg->type == SWIM_MSG_ACK)
        g_string_append_printf(out, " target=%" PRIu32, b->target + 1);
    if (b->on_behalf != SWIM_NOBODY)
        g_string_append_printf(out, " for=%" PRIu32, b->on_behalf + 1);
    for (uint32_t i = 0; i < b->n_updates && msg->size >= sizeof(SwimBody) + (i + 1) * sizeof(SwimUpdate); i++)
        g_string_append_printf(out, "%s%s(%" PRIu32 ",%" PRIu32 ")", i == 0 ? " | " : " ",
                               kind_name(b->updates[i].kind), b->updates[i].member + 1,
                               b->updates[i].incarnation);
}

/* ---- invariants ---------------------------------------------------------------------- */

static uint32_t component_of(const DsimGroupView *g, unsigned i)
{
    if (g->component != NULL)
        return g->component[i];
    return g->status[i] == DSIM_NODE_UP ? 0 : DSIM_COMPONENT_NONE;
}

/* "membership-agrees" (AT_END): within each set of live members that can talk, every member
 * of the group believes that exactly the members of the group in that set are in it: no
 * crashed or departed member (completeness: SWIM detected every failure), no live member
 * missing (accuracy: no false positive left standing). Paused members are left out on both
 * sides. O(n^2). */
static bool check_membership_agrees(const DsimGroupView *g, GString *why)
{
    for (unsigned i = 0; i < g->n; i++) {
        const SwimNode *a = g->state[i];
        uint32_t ci = component_of(g, i);
        if (ci == DSIM_COMPONENT_NONE || !a->joined)
            continue;
        for (unsigned m = 0; m < g->n; m++) {
            if (g->status[m] == DSIM_NODE_PAUSED)
                continue;
            const SwimNode *b = g->state[m];
            bool truth = component_of(g, m) == ci && b->joined;
            bool believed = is_member(a, m);
            if (truth == believed)
                continue;
            const char *what = g->status[m] == DSIM_NODE_CRASHED ? "crashed"
                               : b->left                         ? "left the group"
                               : !b->joined                      ? "has not joined"
                               : component_of(g, m) != ci        ? "cannot reach it"
                                                                 : "is up and in the group";
            g_string_printf(why, "%s believes %s is %s, but %s %s", g->name[i], g->name[m],
                            believed ? "in the group" : "out of the group", g->name[m], what);
            return false;
        }
    }
    return true;
}

static const DsimInvariant swim_invariants[] = {
    { "membership-agrees", "at the end, every live member lists exactly the live members of "
      "the group it can reach: failures detected, no false positive left",
      DSIM_CHECK_AT_END, check_membership_agrees, NULL },
    { NULL },
};

/* ---- the ops table ------------------------------------------------------------------- */

const DsimProtocol swim_protocol = {
    .name = "swim",
    .summary = "SWIM membership and failure detection (Das, Gupta & Motivala 2002)",
    .params = swim_params,
    .invariants = swim_invariants,
    .config_size = sizeof(SwimConfig),
    .state_size = sizeof(SwimNode),
    .init = swim_init,
    .fini = swim_fini,
    .on_message = swim_on_message,
    .on_timer = swim_on_timer,
    .on_request = NULL,
    .on_recover = swim_on_recover,
    .describe = swim_describe,
    .print_msg = swim_print_msg,
};
