/* multi.c - Multi-Paxos: a leader runs phase 1 once for all slots, then phase 2 per command.
 *
 * Lamport, "Paxos Made Simple" (2001), §3. Read this file with that section open; the steps,
 * in the paper's words and where they live:
 *
 *   "a single server is elected to be the leader, which acts as the distinguished proposer"
 *       -> start_election(): a follower that hears no leader for a random election timeout
 *          runs phase 1 with a new ballot, for every slot at once: "the leader [...] can send
 *          a prepare request for all instances" with one message (MultiPrepare.from_slot).
 *   "the new leader [...] executes phase 1 for instances 135-137 and for all instances
 *   greater than 139 [...] the leader can then execute phase 2 for instance 138 [...] and
 *   for 135-137 proposes [...] the values it was told about; for 138, a special no-op"
 *       -> on_promise(), become_leader(): every open slot gets the value of the highest
 *          ballot among the promises, and every gap a KV_OP_NOOP.
 *   "Phase 1 [...] is unnecessary for a stable leader: it executes only phase 2 [...]. The
 *   leader can propose command 142 before it learns that 141 is chosen"
 *       -> on_request(), drain_queue(): a new command goes into the next slot at once, up to
 *          `window` slots in flight (pipelining), `max_batch` slots per accept (batching).
 *   "[The server] executes command i only when it has learned commands 1 through i"
 *       -> advance_commit(), apply_chosen(): commit is the highest slot with every slot up to
 *          it chosen; slots are applied to the KvStore in order, and the leader answers the
 *          client of each slot once it is applied.
 *
 * The rest is what the paper leaves to the implementer, done as most implementations do:
 *  - Chosen slots reach followers with the leader's commit index, carried by every accept and
 *    heartbeat (a follower knows slot s is chosen when it accepted s in the leader's ballot
 *    and s <= commit), and, for a replica that missed the accept, by a decide message that
 *    carries the chosen commands (on_status() -> send_decide()).
 *  - A node's own acceptor and learner are reached without the network: a candidate
 *    promises itself, a leader accepts its own proposal (both written and synced first), so
 *    a stable leader commits after one round trip to a majority: accept, accepted.
 *  - Heartbeats (param heartbeat) keep followers from standing for election, and re-send
 *    accepts that went unanswered (lossy links). With `lease`, a follower that heard the
 *    leader less than `lease` ago ignores other candidates' prepares, so a node that merely
 *    lost touch for a moment cannot depose a working leader.
 *  - Durable: the promise, every accepted slot (synced before any answer) and the highest
 *    round used. A chosen mark is written without a sync: if a crash loses it, the slot is
 *    learned again. Volatile: the KvStore, rebuilt at restart from the chosen slots.
 */
#include "algorithms/paxos/multi.h"

#include <string.h>

/* ---- parameters ------------------------------------------------------------ */

static const DsimParam paxos_multi_params[] = {
    { .name = "heartbeat", .type = DSIM_PARAM_TIME, .def = "50ms",
      .help = "leader's heartbeat period; unanswered accepts are re-sent at this pace",
      .offset = offsetof(MultiPaxosConfig, heartbeat) },
    { .name = "election_timeout", .type = DSIM_PARAM_TIME_RANGE, .def = "150ms..300ms",
      .help = "a follower that hears no leader for this long (random) stands for election",
      .offset = offsetof(MultiPaxosConfig, election_timeout) },
    { .name = "lease", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "followers ignore rival candidates this long after hearing the leader; 0 = off",
      .offset = offsetof(MultiPaxosConfig, lease) },
    { .name = "max_batch", .type = DSIM_PARAM_INT, .def = "8",
      .help = "most slots in one accept message (batching)",
      .offset = offsetof(MultiPaxosConfig, max_batch), .min = 1, .max = 64 },
    { .name = "window", .type = DSIM_PARAM_INT, .def = "16",
      .help = "most slots proposed and not yet chosen (pipelining); more requests wait",
      .offset = offsetof(MultiPaxosConfig, window), .min = 1, .max = 4096 },
    { .name = "bug", .type = DSIM_PARAM_CHOICE, .def = "none",
      .help = "inject a known bug",
      .offset = offsetof(MultiPaxosConfig, bug), .choices = "none|apply-before-chosen" },
    { NULL },
};

/* Durable layout: three facts, then one key per slot holding its MultiSlot. */
#define ROUND_KEY    UINT64_C(1) /* uint32_t: highest round this node used */
#define PROMISED_KEY UINT64_C(2) /* PaxosBallot */
#define LOG_LEN_KEY  UINT64_C(3) /* uint64_t: highest slot written */
#define SLOT_KEY(s)  ((UINT64_C(1) << 32) | (uint64_t) (s))

/* Chosen slots sent in one decide: 32 x 136 bytes. */
#define DECIDE_CHUNK 32

/* ---- helpers: log, ballots, members ------------------------------------------ */

static unsigned index_of(const DsimCtx *ctx, DsimNodeId id)
{
    unsigned i = id - dsim_group_member(ctx, 0);

    g_assert(i < dsim_group_size(ctx));
    return i;
}

static MultiSlot *slot_at(MultiPaxosNode *x, uint64_t s)
{
    g_assert(s >= 1 && s <= x->log->len);
    return &g_array_index(x->log, MultiSlot, s - 1);
}

/* The slot, the log grown with gaps (zeroed: ballot none) up to it when needed. */
static MultiSlot *slot_grow(MultiPaxosNode *x, uint64_t s)
{
    if (s > x->log->len)
        g_array_set_size(x->log, (guint) s);
    return slot_at(x, s);
}

static bool is_chosen(const MultiPaxosNode *x, uint64_t s)
{
    return s >= 1 && s <= x->log->len
           && g_array_index(x->log, MultiSlot, s - 1).ballot == MULTI_BALLOT_CHOSEN;
}

static void noop_value(MultiValue *v)
{
    KvCommand noop;

    kv_command_init(&noop, KV_OP_NOOP, 0, 0, NULL, NULL, NULL);
    memset(v, 0, sizeof *v);
    v->len = sizeof noop;
    memcpy(v->cmd, &noop, sizeof noop);
}

static void note_round(MultiPaxosNode *x, PaxosBallot b)
{
    if (b != MULTI_BALLOT_CHOSEN && paxos_ballot_round(b) > x->max_round)
        x->max_round = paxos_ballot_round(b);
}

static DsimNodeId member_id(const DsimCtx *ctx, PaxosBallot b)
{
    return dsim_group_member(ctx, paxos_ballot_member(b) - 1);
}

/* The best guess at who leads, for redirects. */
static DsimNodeId leader_hint(const MultiPaxosNode *x, const DsimCtx *ctx)
{
    if (x->role == MULTI_LEADER)
        return dsim_self(ctx);
    if (x->role == MULTI_CANDIDATE || x->leader_ballot == PAXOS_BALLOT_NONE
        || paxos_ballot_member(x->leader_ballot) == x->self)
        return DSIM_NOBODY;
    return member_id(ctx, x->leader_ballot);
}

static void send_all_others(const MultiPaxosNode *x, DsimCtx *ctx, uint16_t type,
                            const void *body, size_t size)
{
    for (unsigned i = 0; i < x->n; i++) {
        if (i + 1 != x->self)
            dsim_send(ctx, dsim_group_member(ctx, i), type, body, size);
    }
}

static void format_ballot(GString *out, PaxosBallot b)
{
    if (b == MULTI_BALLOT_CHOSEN)
        g_string_append(out, "chosen");
    else
        paxos_ballot_format(b, out);
}

/* ---- durability ---------------------------------------------------------------- */

static void persist_slot(MultiPaxosNode *x, DsimCtx *ctx, uint64_t s)
{
    uint64_t len = x->log->len;

    dsim_persist(ctx, SLOT_KEY(s), slot_at(x, s), sizeof(MultiSlot));
    if (s == len)
        dsim_persist(ctx, LOG_LEN_KEY, &len, sizeof len);
}

static void persist_promise(MultiPaxosNode *x, DsimCtx *ctx)
{
    dsim_persist(ctx, PROMISED_KEY, &x->promised, sizeof x->promised);
}

/* Slot @s was accepted in this handler: slot-agreement reads [accepted_lo, accepted_hi]. */
static void record_accept(MultiPaxosNode *x, uint64_t s)
{
    if (x->accepted_lo == 0 || s < x->accepted_lo)
        x->accepted_lo = s;
    if (s > x->accepted_hi)
        x->accepted_hi = s;
}

/* ---- timers ---------------------------------------------------------------------- */

static void reset_election_timer(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg)
{
    dsim_timer_cancel(ctx, x->election_timer);
    x->election_timer = dsim_timer_set(ctx, dsim_rand_time(ctx, cfg->election_timeout.lo,
                                                           cfg->election_timeout.hi),
                                       MULTI_TIMER_ELECTION, 0);
}

/* ---- applying chosen slots (§3: "executes command i only when it has learned commands
 * 1 through i") ---------------------------------------------------------------------- */

static MultiPending *pending_at(MultiPaxosNode *x, uint64_t s)
{
    if (x->role != MULTI_LEADER || s > x->pending->len)
        return NULL;
    return &g_array_index(x->pending, MultiPending, s - 1);
}

/* Applies slot @s (the next one) to the KvStore; the leader answers its client. */
static void apply_slot(MultiPaxosNode *x, DsimCtx *ctx, uint64_t s)
{
    const MultiSlot *e = slot_at(x, s);
    uint64_t hash = dsim_digest_add(0, e->value.cmd, e->value.len);

    g_assert(s == x->applied + 1 && e->value.len > 0);
    DsimStatus st = kv_store_apply(x->kv, e->value.cmd, e->value.len, x->result);
    g_array_append_val(x->applied_hash, hash);
    x->applied = s;
    MultiPending *p = pending_at(x, s);
    if (p != NULL && p->has_request && !p->replied) {
        dsim_reply(ctx, p->request_id, st, x->result->str, x->result->len);
        p->replied = true;
    }
}

/* Slot @s is chosen with @value: kept with MULTI_BALLOT_CHOSEN (durable, unsynced). */
static void mark_chosen(MultiPaxosNode *x, DsimCtx *ctx, uint64_t s, const MultiValue *value)
{
    MultiSlot *e = slot_grow(x, s);

    if (e->ballot == MULTI_BALLOT_CHOSEN)
        return;
    e->ballot = MULTI_BALLOT_CHOSEN;
    if (&e->value != value)
        e->value = *value;
    persist_slot(x, ctx, s);
    MultiPending *p = pending_at(x, s);
    if (p != NULL && p->has_request)
        dsim_metric(ctx, "commit_latency_seconds",
                    (double) (dsim_now(ctx) - p->request_at) / 1e9);
}

/* Moves commit over the chosen slots that follow it, and applies them in order. */
static void advance_commit(MultiPaxosNode *x, DsimCtx *ctx)
{
    while (is_chosen(x, x->commit + 1))
        x->commit++;
    while (x->applied < x->commit)
        apply_slot(x, ctx, x->applied + 1);
}

/* The leader of @ballot says every slot up to @commit is chosen. A slot this node accepted
 * in that same ballot holds the leader's value for it, which is therefore the chosen one;
 * any other slot must come by a decide. */
static void learn_commit(MultiPaxosNode *x, DsimCtx *ctx, PaxosBallot ballot, uint64_t commit)
{
    uint64_t last = MIN(commit, (uint64_t) x->log->len);

    for (uint64_t s = x->commit + 1; s <= last; s++) {
        MultiSlot *e = slot_at(x, s);
        if (e->ballot == ballot)
            mark_chosen(x, ctx, s, &e->value);
    }
    advance_commit(x, ctx);
}

/* ---- leader: proposing (phase 2a) ------------------------------------------------- */

static uint64_t *votes_of(MultiPaxosNode *x, uint64_t s)
{
    return &g_array_index(x->votes, uint64_t, (s - 1) * x->words);
}

/* Acceptor @member accepted slot @s in the leader's ballot; a majority chooses it. */
static void count_vote(MultiPaxosNode *x, DsimCtx *ctx, uint64_t s, unsigned member)
{
    uint64_t *bits = votes_of(x, s);
    unsigned count = 0;

    if ((bits[member / 64] >> (member % 64)) & 1)
        return;
    bits[member / 64] |= UINT64_C(1) << (member % 64);
    for (unsigned w = 0; w < x->words; w++)
        count += (unsigned) __builtin_popcountll(bits[w]);
    if (count == x->majority)
        mark_chosen(x, ctx, s, &slot_at(x, s)->value);
}

/* The leader puts @value in slot @s: its own acceptor accepts it at once (durable before any
 * accept leaves: the caller syncs), and counts as the first vote. */
static void propose_slot(MultiPaxosNode *x, DsimCtx *ctx, uint64_t s, const MultiValue *value)
{
    MultiSlot *e = slot_grow(x, s);

    if (e->ballot != MULTI_BALLOT_CHOSEN) {
        e->ballot = x->ballot;
        e->value = *value;
        persist_slot(x, ctx, s);
        record_accept(x, s);
    }
    if (x->votes->len < s * x->words)
        g_array_set_size(x->votes, (guint) (s * x->words));
    if (x->pending->len < s)
        g_array_set_size(x->pending, (guint) s);
    memset(votes_of(x, s), 0, x->words * sizeof(uint64_t));
    MultiPending *p = &g_array_index(x->pending, MultiPending, s - 1);
    *p = (MultiPending) { .proposed_at = dsim_now(ctx) };
    count_vote(x, ctx, s, x->self - 1);
}

/* Sends phase 2a for slots @first..@last from the leader's log, @max_batch slots per
 * message, to member @to or (DSIM_NOBODY) to every other member. */
static void send_accepts(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                         uint64_t first, uint64_t last, DsimNodeId to)
{
    for (uint64_t s = first; s <= last; s += (uint64_t) cfg->max_batch) {
        uint64_t k = MIN((uint64_t) cfg->max_batch, last - s + 1);
        size_t size = sizeof(MultiAccept) + k * sizeof(MultiValue);
        g_byte_array_set_size(x->out, (guint) size);
        MultiAccept *m = (MultiAccept *) x->out->data;
        *m = (MultiAccept) { .ballot = x->ballot, .commit = x->commit, .first_slot = s, .n = k };
        for (uint64_t i = 0; i < k; i++)
            m->values[i] = slot_at(x, s + i)->value;
        if (to == DSIM_NOBODY)
            send_all_others(x, ctx, MULTI_MSG_ACCEPT, m, size);
        else
            dsim_send(ctx, to, MULTI_MSG_ACCEPT, m, size);
    }
}

/* After proposing @first..@last: sync, then the accepts leave. The bug apply-before-chosen
 * applies them now, as if proposing were choosing. */
static void proposed(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                     uint64_t first, uint64_t last)
{
    dsim_sync(ctx);
    send_accepts(x, ctx, cfg, first, last, DSIM_NOBODY);
    if (cfg->bug == MULTI_BUG_APPLY_BEFORE_CHOSEN) {
        while (x->applied < last) /* bug apply-before-chosen */
            apply_slot(x, ctx, x->applied + 1);
    }
    advance_commit(x, ctx); /* a group of one chooses alone */
}

/* §3: "The leader can propose command 142 before it learns that 141 is chosen": the
 * queued requests go into the next free slots, max_batch per accept, as long as fewer than
 * `window` slots are in flight. */
static void drain_queue(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg)
{
    while (x->role == MULTI_LEADER && x->queue->len > 0) {
        uint64_t in_flight = x->next_slot - 1 - x->commit;
        if (in_flight >= (uint64_t) cfg->window)
            return;
        uint64_t k = MIN(MIN((uint64_t) cfg->max_batch, (uint64_t) cfg->window - in_flight),
                         (uint64_t) x->queue->len);
        uint64_t first = x->next_slot;
        for (uint64_t i = 0; i < k; i++) {
            const MultiQueued *q = &g_array_index(x->queue, MultiQueued, i);
            uint64_t s = x->next_slot++;
            propose_slot(x, ctx, s, &q->value);
            MultiPending *p = &g_array_index(x->pending, MultiPending, s - 1);
            p->has_request = true;
            p->request_id = q->request_id;
            p->request_at = q->at;
        }
        g_array_remove_range(x->queue, 0, (guint) k);
        proposed(x, ctx, cfg, first, first + k - 1);
    }
}

/* ---- roles ---------------------------------------------------------------------------- */

/* A higher ballot @higher exists: a leader or candidate gives up. Clients of proposed
 * slots get UNKNOWN (the slot may yet be chosen, by the next leader); queued requests were
 * never proposed, so they are redirected. */
static void step_down(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                      PaxosBallot higher)
{
    if (x->role == MULTI_LEADER) {
        for (guint i = 0; i < x->pending->len; i++) {
            MultiPending *p = &g_array_index(x->pending, MultiPending, i);
            if (p->has_request && !p->replied)
                dsim_reply(ctx, p->request_id, DSIM_STATUS_UNKNOWN, NULL, 0);
        }
        for (guint i = 0; i < x->queue->len; i++)
            dsim_redirect(ctx, g_array_index(x->queue, MultiQueued, i).request_id,
                          higher != PAXOS_BALLOT_NONE ? member_id(ctx, higher) : DSIM_NOBODY);
        g_array_set_size(x->pending, 0);
        g_array_set_size(x->votes, 0);
        g_array_set_size(x->queue, 0);
        dsim_timer_cancel(ctx, x->heartbeat_timer);
        x->heartbeat_timer = 0;
    }
    if (dsim_logging(ctx)) {
        g_autoptr(GString) b = g_string_new(NULL);
        format_ballot(b, higher);
        dsim_log(ctx, "step down: ballot %s is higher", b->str);
    }
    x->role = MULTI_FOLLOWER;
    if (higher != PAXOS_BALLOT_NONE)
        x->leader_ballot = higher;
    reset_election_timer(x, ctx, cfg);
}

/* A message of the leader of @ballot (>= promised) arrived: follow it. */
static void follow(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                   PaxosBallot ballot)
{
    if (x->role != MULTI_FOLLOWER && ballot > x->ballot)
        step_down(x, ctx, cfg, ballot);
    x->leader_ballot = ballot;
    x->last_heard = dsim_now(ctx);
    reset_election_timer(x, ctx, cfg);
}

static void send_heartbeats(MultiPaxosNode *x, DsimCtx *ctx)
{
    MultiCommit hb = { .ballot = x->ballot, .commit = x->commit };

    send_all_others(x, ctx, MULTI_MSG_HEARTBEAT, &hb, sizeof hb);
}

/* Keeps the highest-ballot entry reported for slot @s (P2c, per slot). */
static void plan_merge(MultiPaxosNode *x, uint64_t s, PaxosBallot ballot, const MultiValue *v)
{
    if (s < x->plan_base || ballot == PAXOS_BALLOT_NONE)
        return;
    uint64_t i = s - x->plan_base;
    if (i >= x->plan->len)
        g_array_set_size(x->plan, (guint) (i + 1));
    MultiSlot *p = &g_array_index(x->plan, MultiSlot, i);
    if (ballot > p->ballot) {
        p->ballot = ballot;
        p->value = *v;
    }
}

/* §3: with a majority of promises the candidate leads. "For 135-137 [it] proposes the
 * values it was told about" -- the highest-ballot value of each slot among the promises --
 * "for 138, a special no-op command that leaves the state unchanged". Then it runs phase 2
 * for all of them at once. */
static void become_leader(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg)
{
    uint64_t first = x->plan_base, last = x->plan_base + x->plan->len - 1, noops = 0;

    x->role = MULTI_LEADER;
    x->leader_ballot = x->ballot;
    x->last_heard = dsim_now(ctx);
    dsim_timer_cancel(ctx, x->election_timer);
    x->election_timer = 0;
    memset(x->peer_commit, 0, x->n * sizeof(uint64_t));
    memset(x->decide_sent, 0, x->n * sizeof(uint64_t));
    memset(x->decide_at, 0, x->n * sizeof(DsimTime));
    g_array_set_size(x->votes, 0);
    g_array_set_size(x->pending, 0);
    for (uint64_t s = first; s <= last; s++) {
        MultiSlot *p = &g_array_index(x->plan, MultiSlot, s - first);
        MultiValue v;
        if (p->ballot == PAXOS_BALLOT_NONE) {
            noop_value(&v);
            noops++;
        } else {
            v = p->value;
        }
        propose_slot(x, ctx, s, &v);
    }
    x->next_slot = last + 1;
    if (dsim_logging(ctx)) {
        g_autoptr(GString) b = g_string_new(NULL);
        paxos_ballot_format(x->ballot, b);
        if (last >= first)
            dsim_log(ctx, "leader with ballot %s: %" PRIu32 " promises; re-propose slots %" PRIu64
                     "..%" PRIu64 " (%" PRIu64 " no-ops)", b->str, x->promises, first, last, noops);
        else
            dsim_log(ctx, "leader with ballot %s: %" PRIu32 " promises; no open slot", b->str,
                     x->promises);
    }
    if (last >= first)
        proposed(x, ctx, cfg, first, last);
    send_heartbeats(x, ctx);
    x->heartbeat_timer = dsim_timer_set(ctx, cfg->heartbeat, MULTI_TIMER_HEARTBEAT, 0);
    drain_queue(x, ctx, cfg);
}

/* Phase 1a for all slots above the candidate's commit (§3: "it can send a prepare request
 * for all instances" in one message). The round is durable before it is used, and the
 * candidate's own acceptor promises at once. */
static void start_election(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg)
{
    x->max_round++;
    dsim_persist(ctx, ROUND_KEY, &x->max_round, sizeof x->max_round);
    x->ballot = paxos_ballot_make(x->max_round, x->self);
    g_assert(x->ballot > x->promised);
    x->promised = x->ballot;
    persist_promise(x, ctx);
    dsim_sync(ctx);

    x->role = MULTI_CANDIDATE;
    x->plan_base = x->commit + 1;
    g_array_set_size(x->plan, 0);
    memset(x->promise_bits, 0, x->words * sizeof(uint64_t));
    x->promise_bits[(x->self - 1) / 64] |= UINT64_C(1) << ((x->self - 1) % 64);
    x->promises = 1;
    for (uint64_t s = x->plan_base; s <= x->log->len; s++)
        plan_merge(x, s, slot_at(x, s)->ballot, &slot_at(x, s)->value);
    if (dsim_logging(ctx))
        dsim_log(ctx, "election: prepare ballot %" PRIu32 ".%" PRIu32 " from slot %" PRIu64,
                 x->max_round, x->self, x->plan_base);

    MultiPrepare m = { .ballot = x->ballot, .from_slot = x->plan_base };
    send_all_others(x, ctx, MULTI_MSG_PREPARE, &m, sizeof m);
    reset_election_timer(x, ctx, cfg);
    if (x->promises >= x->majority)
        become_leader(x, ctx, cfg);
}

/* ---- acceptor: phase 1b, phase 2b ---------------------------------------------------- */

static void send_nack(DsimCtx *ctx, DsimNodeId to, PaxosBallot ballot, PaxosBallot promised)
{
    MultiNack nack = { .ballot = ballot, .promised = promised };

    dsim_send(ctx, to, MULTI_MSG_NACK, &nack, sizeof nack);
}

/* The lease: a node that heard the leader less than `lease` ago (or leads, under a lease)
 * does not help a rival of that leader. */
static bool lease_holds(const MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                        PaxosBallot rival)
{
    if (cfg->lease == 0 || x->leader_ballot == PAXOS_BALLOT_NONE)
        return false;
    if (paxos_ballot_member(rival) == paxos_ballot_member(x->leader_ballot))
        return false;
    return x->role == MULTI_LEADER || dsim_now(ctx) - x->last_heard < cfg->lease;
}

/* Phase 1 (b), for all slots >= from_slot at once: promise, and report every slot there in
 * which something was accepted (or is known chosen), with its ballot. */
static void on_prepare(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                       const DsimMsg *msg, const MultiPrepare *m)
{
    if (m->ballot < x->promised) {
        send_nack(ctx, msg->from, m->ballot, x->promised);
        return;
    }
    if (m->ballot == x->promised)
        return; /* a duplicate of a prepare answered already */
    if (lease_holds(x, ctx, cfg, m->ballot)) {
        dsim_log(ctx, "ignore a prepare: the leader's lease holds");
        return;
    }
    if (x->role != MULTI_FOLLOWER)
        step_down(x, ctx, cfg, m->ballot);
    x->promised = m->ballot;
    persist_promise(x, ctx);
    dsim_sync(ctx);

    uint64_t n = 0;
    for (uint64_t s = MAX(m->from_slot, 1); s <= x->log->len; s++)
        n += slot_at(x, s)->ballot != PAXOS_BALLOT_NONE;
    size_t size = sizeof(MultiPromise) + n * sizeof(MultiPromiseEntry);
    g_byte_array_set_size(x->out, (guint) size);
    MultiPromise *p = (MultiPromise *) x->out->data;
    *p = (MultiPromise) { .ballot = m->ballot, .n = n };
    uint64_t k = 0;
    for (uint64_t s = MAX(m->from_slot, 1); s <= x->log->len; s++) {
        const MultiSlot *e = slot_at(x, s);
        if (e->ballot != PAXOS_BALLOT_NONE)
            p->entries[k++] = (MultiPromiseEntry) { .slot = s, .ballot = e->ballot,
                                                    .value = e->value };
    }
    dsim_send(ctx, msg->from, MULTI_MSG_PROMISE, p, size);
    reset_election_timer(x, ctx, cfg);
}

/* Phase 2 (b): accept unless a higher ballot was promised; accepting promises the ballot.
 * A slot already known chosen keeps its chosen command (the same one, if all is well). */
static void on_accept(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                      const DsimMsg *msg, const MultiAccept *m)
{
    if (m->ballot < x->promised) {
        send_nack(ctx, msg->from, m->ballot, x->promised);
        return;
    }
    follow(x, ctx, cfg, m->ballot);
    if (m->ballot > x->promised) {
        x->promised = m->ballot;
        persist_promise(x, ctx);
    }
    for (uint64_t i = 0; i < m->n; i++) {
        uint64_t s = m->first_slot + i;
        MultiSlot *e = slot_grow(x, s);
        if (e->ballot == MULTI_BALLOT_CHOSEN)
            continue;
        e->ballot = m->ballot;
        e->value = m->values[i];
        persist_slot(x, ctx, s);
        record_accept(x, s);
    }
    dsim_sync(ctx);
    learn_commit(x, ctx, m->ballot, m->commit);
    MultiAccepted r = { .ballot = m->ballot, .first_slot = m->first_slot, .n = m->n,
                        .commit = x->commit };
    dsim_send(ctx, msg->from, MULTI_MSG_ACCEPTED, &r, sizeof r);
}

/* ---- leader: answers ------------------------------------------------------------------ */

static void on_promise(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                       unsigned from, const MultiPromise *m)
{
    if (x->role != MULTI_CANDIDATE || m->ballot != x->ballot
        || ((x->promise_bits[from / 64] >> (from % 64)) & 1))
        return;
    x->promise_bits[from / 64] |= UINT64_C(1) << (from % 64);
    x->promises++;
    for (uint64_t i = 0; i < m->n; i++)
        plan_merge(x, m->entries[i].slot, m->entries[i].ballot, &m->entries[i].value);
    if (x->promises == x->majority)
        become_leader(x, ctx, cfg);
}

static void on_accepted(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                        unsigned from, const MultiAccepted *m)
{
    if (x->role != MULTI_LEADER || m->ballot != x->ballot)
        return;
    for (uint64_t s = m->first_slot; s < m->first_slot + m->n && s < x->next_slot; s++)
        count_vote(x, ctx, s, from);
    x->peer_commit[from] = MAX(x->peer_commit[from], m->commit);
    advance_commit(x, ctx);
    drain_queue(x, ctx, cfg);
}

/* A replica behind the leader's commit that did not accept the missing slots in this
 * ballot gets them as chosen commands, DECIDE_CHUNK at a time: the next chunk goes when its
 * status shows the last one arrived, or one heartbeat later if it seems lost. */
static void send_decide(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                        unsigned to)
{
    uint64_t have = x->peer_commit[to];

    if (have >= x->commit)
        return;
    if (have < x->decide_sent[to] && dsim_now(ctx) - x->decide_at[to] < cfg->heartbeat)
        return;
    uint64_t k = MIN((uint64_t) DECIDE_CHUNK, x->commit - have);
    size_t size = sizeof(MultiDecide) + k * sizeof(MultiValue);
    g_byte_array_set_size(x->out, (guint) size);
    MultiDecide *d = (MultiDecide *) x->out->data;
    *d = (MultiDecide) { .ballot = x->ballot, .first_slot = have + 1, .n = k };
    for (uint64_t i = 0; i < k; i++)
        d->values[i] = slot_at(x, have + 1 + i)->value;
    dsim_send(ctx, dsim_group_member(ctx, to), MULTI_MSG_DECIDE, d, size);
    x->decide_sent[to] = have + k;
    x->decide_at[to] = dsim_now(ctx);
}

static void on_status(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                      unsigned from, const MultiCommit *m)
{
    if (x->role != MULTI_LEADER || m->ballot != x->ballot)
        return;
    x->peer_commit[from] = m->commit;
    send_decide(x, ctx, cfg, from);
}

static void on_nack(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                    const MultiNack *m)
{
    if (x->role != MULTI_FOLLOWER && m->ballot == x->ballot && m->promised > x->ballot)
        step_down(x, ctx, cfg, m->promised);
}

/* ---- follower: heartbeats and decides ---------------------------------------------------- */

static void send_status(MultiPaxosNode *x, DsimCtx *ctx, DsimNodeId to, PaxosBallot ballot)
{
    MultiCommit st = { .ballot = ballot, .commit = x->commit };

    dsim_send(ctx, to, MULTI_MSG_STATUS, &st, sizeof st);
}

static void on_heartbeat(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                         const DsimMsg *msg, const MultiCommit *m)
{
    if (m->ballot < x->promised) {
        send_nack(ctx, msg->from, m->ballot, x->promised);
        return;
    }
    follow(x, ctx, cfg, m->ballot);
    learn_commit(x, ctx, m->ballot, m->commit);
    send_status(x, ctx, msg->from, m->ballot);
}

/* Chosen commands are facts whoever sends them, so a decide needs no ballot check. */
static void on_decide(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg,
                      const DsimMsg *msg, const MultiDecide *m)
{
    if (x->role != MULTI_FOLLOWER && m->ballot > x->ballot)
        step_down(x, ctx, cfg, m->ballot);
    for (uint64_t i = 0; i < m->n; i++)
        mark_chosen(x, ctx, m->first_slot + i, &m->values[i]);
    advance_commit(x, ctx);
    send_status(x, ctx, msg->from, m->ballot);
}

/* ---- handlers -------------------------------------------------------------------------- */

static void setup(MultiPaxosNode *x, DsimCtx *ctx)
{
    x->n = dsim_group_size(ctx);
    x->self = dsim_self_index(ctx) + 1;
    x->majority = x->n / 2 + 1;
    x->words = (x->n + 63) / 64;
    x->log = g_array_new(FALSE, TRUE, sizeof(MultiSlot));
    x->kv = kv_store_new();
    x->applied_hash = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    x->result = g_string_new(NULL);
    x->promise_bits = g_new0(uint64_t, x->words);
    x->plan = g_array_new(FALSE, TRUE, sizeof(MultiSlot));
    x->votes = g_array_new(FALSE, TRUE, sizeof(uint64_t));
    x->pending = g_array_new(FALSE, TRUE, sizeof(MultiPending));
    x->queue = g_array_new(FALSE, FALSE, sizeof(MultiQueued));
    x->peer_commit = g_new0(uint64_t, x->n);
    x->decide_sent = g_new0(uint64_t, x->n);
    x->decide_at = g_new0(DsimTime, x->n);
    x->out = g_byte_array_new();
}

static void paxos_multi_init(void *state, DsimCtx *ctx)
{
    MultiPaxosNode *x = state;

    setup(x, ctx);
    reset_election_timer(x, ctx, dsim_config(ctx));
}

static void paxos_multi_fini(void *state)
{
    MultiPaxosNode *x = state;

    if (x->log != NULL)
        g_array_unref(x->log);
    kv_store_free(x->kv);
    if (x->applied_hash != NULL)
        g_array_unref(x->applied_hash);
    if (x->result != NULL)
        g_string_free(x->result, TRUE);
    g_free(x->promise_bits);
    if (x->plan != NULL)
        g_array_unref(x->plan);
    if (x->votes != NULL)
        g_array_unref(x->votes);
    if (x->pending != NULL)
        g_array_unref(x->pending);
    if (x->queue != NULL)
        g_array_unref(x->queue);
    g_free(x->peer_commit);
    g_free(x->decide_sent);
    g_free(x->decide_at);
    if (x->out != NULL)
        g_byte_array_unref(x->out);
    memset(x, 0, sizeof *x);
}

/* After a restart: the promise, the round and the log come back; the chosen prefix is
 * applied again to a fresh KvStore. The node starts as a follower. */
static void paxos_multi_on_recover(void *state, DsimCtx *ctx)
{
    MultiPaxosNode *x = state;
    uint64_t len = 0;

    setup(x, ctx);
    dsim_load(ctx, ROUND_KEY, &x->max_round, sizeof x->max_round, NULL);
    dsim_load(ctx, PROMISED_KEY, &x->promised, sizeof x->promised, NULL);
    note_round(x, x->promised);
    dsim_load(ctx, LOG_LEN_KEY, &len, sizeof len, NULL);
    g_array_set_size(x->log, (guint) len);
    for (uint64_t s = 1; s <= len; s++) {
        MultiSlot *e = slot_at(x, s);
        if (dsim_load(ctx, SLOT_KEY(s), e, sizeof *e, NULL))
            note_round(x, e->ballot);
    }
    advance_commit(x, ctx);
    if (dsim_logging(ctx))
        dsim_log(ctx, "recovered %" PRIu64 " slots, %" PRIu64 " chosen and applied", len,
                 x->commit);
    reset_election_timer(x, ctx, dsim_config(ctx));
}

static void paxos_multi_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    MultiPaxosNode *x = state;
    const MultiPaxosConfig *cfg = dsim_config(ctx);
    unsigned from = index_of(ctx, msg->from);

    x->accepted_lo = x->accepted_hi = 0;
    switch (msg->type) {
    case MULTI_MSG_PREPARE: {
        const MultiPrepare *m = DSIM_MSG_BODY(msg, MultiPrepare);
        note_round(x, m->ballot);
        on_prepare(x, ctx, cfg, msg, m);
        return;
    }
    case MULTI_MSG_PROMISE: {
        const MultiPromise *m = DSIM_MSG_BODY(msg, MultiPromise);
        g_assert(msg->size == sizeof *m + m->n * sizeof(MultiPromiseEntry));
        on_promise(x, ctx, cfg, from, m);
        return;
    }
    case MULTI_MSG_ACCEPT: {
        const MultiAccept *m = DSIM_MSG_BODY(msg, MultiAccept);
        g_assert(msg->size == sizeof *m + m->n * sizeof(MultiValue) && m->first_slot >= 1);
        note_round(x, m->ballot);
        on_accept(x, ctx, cfg, msg, m);
        return;
    }
    case MULTI_MSG_ACCEPTED:
        on_accepted(x, ctx, cfg, from, DSIM_MSG_BODY(msg, MultiAccepted));
        return;
    case MULTI_MSG_NACK: {
        const MultiNack *m = DSIM_MSG_BODY(msg, MultiNack);
        note_round(x, m->promised);
        on_nack(x, ctx, cfg, m);
        return;
    }
    case MULTI_MSG_HEARTBEAT: {
        const MultiCommit *m = DSIM_MSG_BODY(msg, MultiCommit);
        note_round(x, m->ballot);
        on_heartbeat(x, ctx, cfg, msg, m);
        return;
    }
    case MULTI_MSG_STATUS:
        on_status(x, ctx, cfg, from, DSIM_MSG_BODY(msg, MultiCommit));
        return;
    case MULTI_MSG_DECIDE: {
        const MultiDecide *m = DSIM_MSG_BODY(msg, MultiDecide);
        g_assert(msg->size == sizeof *m + m->n * sizeof(MultiValue) && m->first_slot >= 1);
        on_decide(x, ctx, cfg, msg, m);
        return;
    }
    default:
        g_assert_not_reached();
    }
}

/* The heartbeat also re-sends, to each member, the accepts it has not answered for slots
 * proposed at least one period ago (in runs of consecutive slots). */
static void on_heartbeat_timer(MultiPaxosNode *x, DsimCtx *ctx, const MultiPaxosConfig *cfg)
{
    DsimTime now = dsim_now(ctx);

    send_heartbeats(x, ctx);
    for (unsigned p = 0; p < x->n; p++) {
        uint64_t run = 0;
        for (uint64_t s = x->commit + 1; s <= x->next_slot; s++) {
            bool resend = false;
            if (s < x->next_slot && !is_chosen(x, s)) {
                const MultiPending *pd = &g_array_index(x->pending, MultiPending, s - 1);
                resend = p + 1 != x->self && !((votes_of(x, s)[p / 64] >> (p % 64)) & 1)
                         && now - pd->proposed_at >= cfg->heartbeat;
            }
            if (resend && run == 0)
                run = s;
            if (!resend && run != 0) {
                send_accepts(x, ctx, cfg, run, s - 1, dsim_group_member(ctx, p));
                run = 0;
            }
        }
    }
    x->heartbeat_timer = dsim_timer_set(ctx, cfg->heartbeat, MULTI_TIMER_HEARTBEAT, 0);
}

static void paxos_multi_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    MultiPaxosNode *x = state;
    const MultiPaxosConfig *cfg = dsim_config(ctx);

    x->accepted_lo = x->accepted_hi = 0;
    switch (kind) {
    case MULTI_TIMER_ELECTION:
        x->election_timer = 0;
        if (x->role != MULTI_LEADER)
            start_election(x, ctx, cfg);
        return;
    case MULTI_TIMER_HEARTBEAT:
        x->heartbeat_timer = 0;
        if (x->role == MULTI_LEADER)
            on_heartbeat_timer(x, ctx, cfg);
        return;
    default:
        g_assert_not_reached();
    }
}

/* A client command: only the leader takes it; it goes into the queue and, window allowing,
 * into the next slot at once. Anyone else redirects to the leader it knows of. */
static void paxos_multi_on_request(void *state, DsimCtx *ctx, const DsimRequest *req)
{
    MultiPaxosNode *x = state;

    x->accepted_lo = x->accepted_hi = 0;
    if (x->role != MULTI_LEADER) {
        dsim_redirect(ctx, req->id, leader_hint(x, ctx));
        return;
    }
    g_assert(req->size > 0 && req->size <= DSIM_CMD_MAX);
    MultiQueued q = { .request_id = req->id, .at = dsim_now(ctx), .value.len = req->size };
    memcpy(q.value.cmd, req->cmd, req->size);
    g_array_append_val(x->queue, q);
    drain_queue(x, ctx, dsim_config(ctx));
}

/* ---- describe, print ------------------------------------------------------------------- */

static void paxos_multi_describe(const void *state, DsimView *view)
{
    const MultiPaxosNode *x = state;
    PaxosBallot term = x->role == MULTI_FOLLOWER ? MAX(x->promised, x->leader_ballot) : x->ballot;

    view->role = x->role == MULTI_LEADER ? DSIM_ROLE_LEADER
                 : x->role == MULTI_CANDIDATE ? DSIM_ROLE_CANDIDATE : DSIM_ROLE_FOLLOWER;
    view->term = paxos_ballot_round(term);
    view->commit_index = x->commit;
    if (x->kv != NULL) {
        view->applied = kv_store_applied(x->kv);
        view->applied_digest = kv_store_digest(x->kv);
    }
    g_snprintf(view->text, sizeof view->text, "%s round %" PRIu32 " commit %" PRIu64,
               x->role == MULTI_LEADER ? "leader" : x->role == MULTI_CANDIDATE ? "candidate"
                                                                                : "follower",
               paxos_ballot_round(term), x->commit);
}

static void print_slots(GString *out, uint64_t first, uint64_t n, const MultiValue *v)
{
    if (n == 1) {
        g_string_append_printf(out, " slot=%" PRIu64 " ", first);
        kv_command_format(v->cmd, v->len, out);
    } else {
        g_string_append_printf(out, " slots=%" PRIu64 "..%" PRIu64, first, first + n - 1);
    }
}

static void paxos_multi_print_msg(const DsimMsg *msg, GString *out)
{
    switch (msg->type) {
    case MULTI_MSG_PREPARE: {
        const MultiPrepare *m = DSIM_MSG_BODY(msg, MultiPrepare);
        g_string_append(out, "Prepare b=");
        paxos_ballot_format(m->ballot, out);
        g_string_append_printf(out, " from=%" PRIu64, m->from_slot);
        return;
    }
    case MULTI_MSG_PROMISE: {
        const MultiPromise *m = DSIM_MSG_BODY(msg, MultiPromise);
        g_string_append(out, "Promise b=");
        paxos_ballot_format(m->ballot, out);
        g_string_append_printf(out, " entries=%" PRIu64, m->n);
        return;
    }
    case MULTI_MSG_ACCEPT: {
        const MultiAccept *m = DSIM_MSG_BODY(msg, MultiAccept);
        g_string_append(out, "Accept b=");
        paxos_ballot_format(m->ballot, out);
        g_string_append_printf(out, " commit=%" PRIu64, m->commit);
        print_slots(out, m->first_slot, m->n, m->values);
        return;
    }
    case MULTI_MSG_ACCEPTED: {
        const MultiAccepted *m = DSIM_MSG_BODY(msg, MultiAccepted);
        g_string_append(out, "Accepted b=");
        paxos_ballot_format(m->ballot, out);
        g_string_append_printf(out, " slots=%" PRIu64 "..%" PRIu64 " commit=%" PRIu64,
                               m->first_slot, m->first_slot + m->n - 1, m->commit);
        return;
    }
    case MULTI_MSG_NACK: {
        const MultiNack *m = DSIM_MSG_BODY(msg, MultiNack);
        g_string_append(out, "Nack b=");
        paxos_ballot_format(m->ballot, out);
        g_string_append(out, " promised=");
        paxos_ballot_format(m->promised, out);
        return;
    }
    case MULTI_MSG_HEARTBEAT:
    case MULTI_MSG_STATUS: {
        const MultiCommit *m = DSIM_MSG_BODY(msg, MultiCommit);
        g_string_append(out, msg->type == MULTI_MSG_HEARTBEAT ? "Heartbeat b=" : "Status b=");
        paxos_ballot_format(m->ballot, out);
        g_string_append_printf(out, " commit=%" PRIu64, m->commit);
        return;
    }
    case MULTI_MSG_DECIDE: {
        const MultiDecide *m = DSIM_MSG_BODY(msg, MultiDecide);
        g_string_append(out, "Decide");
        print_slots(out, m->first_slot, m->n, m->values);
        return;
    }
    default:
        g_string_append_printf(out, "multi-paxos type=%u?", (unsigned) msg->type);
        return;
    }
}

/* ---- invariants -------------------------------------------------------------------------- */

static bool bit_test(const uint64_t *bits, unsigned i)
{
    return (bits[i / 64] >> (i % 64)) & 1;
}

/* History for slot-agreement: per slot, every ballot some acceptor accepted there, with the
 * digest of its command and who accepted it (at any time, across crashes), and the command
 * chosen first. As in basic.c, "chosen" is the paper's: accepted by a majority in one
 * ballot. */
typedef struct {
    PaxosBallot ballot;
    uint64_t    hash;
    uint64_t   *who;
    unsigned    count;
} SlotTally;

typedef struct {
    GArray     *tallies;     /* SlotTally */
    bool        chosen;
    PaxosBallot chosen_ballot;
    uint64_t    chosen_hash;
    MultiValue  chosen_value;
} SlotHistory;

typedef struct {
    unsigned   n, words, majority;
    GPtrArray *slots; /* SlotHistory *, index slot - 1 */
} AgreementHistory;

static void slot_history_free(gpointer p)
{
    SlotHistory *s = p;

    for (guint k = 0; k < s->tallies->len; k++)
        g_free(g_array_index(s->tallies, SlotTally, k).who);
    g_array_unref(s->tallies);
    g_free(s);
}

static void agreement_free(void *scratch)
{
    AgreementHistory *h = scratch;

    if (h != NULL) {
        g_ptr_array_unref(h->slots);
        g_free(h);
    }
}

static SlotHistory *slot_history(AgreementHistory *h, uint64_t s)
{
    while (h->slots->len < s) {
        SlotHistory *sh = g_new0(SlotHistory, 1);
        sh->tallies = g_array_new(FALSE, TRUE, sizeof(SlotTally));
        g_ptr_array_add(h->slots, sh);
    }
    return g_ptr_array_index(h->slots, s - 1);
}

static void append_who(const DsimGroupView *g, const uint64_t *who, GString *out)
{
    bool first = true;

    for (unsigned i = 0; i < g->n; i++) {
        if (bit_test(who, i)) {
            g_string_append_printf(out, "%s%s", first ? "" : ",", g->name[i]);
            first = false;
        }
    }
}

/* Per-slot agreement (§3 runs one Paxos instance per slot, so §2's "only a single value is
 * chosen" holds per slot). Reads only the slots the stepping member accepted in this event
 * (accepted_lo..hi): O(slots accepted + ballots of the slot) per event. */
static bool check_slot_agreement(const DsimGroupView *g, GString *why)
{
    AgreementHistory *h = *g->scratch;

    if (h == NULL) {
        h = g_new0(AgreementHistory, 1);
        h->n = g->n;
        h->words = (g->n + 63) / 64;
        h->majority = g->n / 2 + 1;
        h->slots = g_ptr_array_new_with_free_func(slot_history_free);
        *g->scratch = h;
    }
    if (g->last >= g->n || g->status[g->last] == DSIM_NODE_CRASHED)
        return true; /* faults accept nothing */
    unsigned m = g->last;
    const MultiPaxosNode *x = g->state[m];
    for (uint64_t s = x->accepted_lo; s != 0 && s <= x->accepted_hi; s++) {
        const MultiSlot *e = &g_array_index(x->log, MultiSlot, s - 1);
        if (e->ballot == PAXOS_BALLOT_NONE || e->ballot == MULTI_BALLOT_CHOSEN)
            continue;
        uint64_t hash = dsim_digest_add(0, e->value.cmd, e->value.len);
        SlotHistory *sh = slot_history(h, s);
        SlotTally *t = NULL;
        for (guint k = 0; k < sh->tallies->len && t == NULL; k++) {
            if (g_array_index(sh->tallies, SlotTally, k).ballot == e->ballot)
                t = &g_array_index(sh->tallies, SlotTally, k);
        }
        if (t == NULL) {
            SlotTally nt = { .ballot = e->ballot, .hash = hash, .who = g_new0(uint64_t, h->words) };
            g_array_append_val(sh->tallies, nt);
            t = &g_array_index(sh->tallies, SlotTally, sh->tallies->len - 1);
        }
        if (t->hash != hash) {
            g_string_printf(why, "slot %" PRIu64 ": ballot ", s);
            paxos_ballot_format(e->ballot, why);
            g_string_append_printf(why, " carries two commands (%s accepted the second, ",
                                   g->name[m]);
            kv_command_format(e->value.cmd, e->value.len, why);
            g_string_append(why, ")");
            return false;
        }
        if (bit_test(t->who, m))
            continue;
        t->who[m / 64] |= UINT64_C(1) << (m % 64);
        if (++t->count != h->majority)
            continue;
        if (!sh->chosen) {
            sh->chosen = true;
            sh->chosen_ballot = e->ballot;
            sh->chosen_hash = hash;
            sh->chosen_value = e->value;
        } else if (sh->chosen_hash != hash) {
            g_string_printf(why, "slot %" PRIu64 ": ", s);
            kv_command_format(e->value.cmd, e->value.len, why);
            g_string_append(why, " chosen at ballot ");
            paxos_ballot_format(e->ballot, why);
            g_string_append(why, " (");
            append_who(g, t->who, why);
            g_string_append(why, " accepted it), but ");
            kv_command_format(sh->chosen_value.cmd, sh->chosen_value.len, why);
            g_string_append(why, " was chosen before at ballot ");
            paxos_ballot_format(sh->chosen_ballot, why);
            return false;
        }
    }
    return true;
}

/* History for state-machine-safety: the command applied first at each slot, by whom, and
 * how far each member's applied sequence was checked in its current life. */
typedef struct {
    unsigned    n;
    uint64_t   *checked; /* [n] */
    GArray     *hash;    /* uint64_t per slot */
    GArray     *first;   /* unsigned per slot: the member that applied it first */
    GArray     *value;   /* MultiValue per slot, for the message */
} ApplyHistory;

static void apply_history_free(void *scratch)
{
    ApplyHistory *h = scratch;

    if (h != NULL) {
        g_free(h->checked);
        g_array_unref(h->hash);
        g_array_unref(h->first);
        g_array_unref(h->value);
        g_free(h);
    }
}

/* State Machine Safety in Raft's words, which §3 implies: "if a server has applied a log
 * entry at a given index to its state machine, no other server will ever apply a different
 * log entry for the same index". The first command applied at each slot is remembered (a
 * crash wipes the node, not this), and every later application at that slot must be the
 * same. O(new applications) per event. */
static bool check_state_machine_safety(const DsimGroupView *g, GString *why)
{
    ApplyHistory *h = *g->scratch;
    unsigned lo = g->last < g->n ? g->last : 0, hi = g->last < g->n ? g->last + 1 : g->n;

    if (h == NULL) {
        h = g_new0(ApplyHistory, 1);
        h->n = g->n;
        h->checked = g_new0(uint64_t, g->n);
        h->hash = g_array_new(FALSE, TRUE, sizeof(uint64_t));
        h->first = g_array_new(FALSE, TRUE, sizeof(unsigned));
        h->value = g_array_new(FALSE, TRUE, sizeof(MultiValue));
        *g->scratch = h;
    }
    for (unsigned m = lo; m < hi; m++) {
        const MultiPaxosNode *x = g->state[m];
        if (g->status[m] == DSIM_NODE_CRASHED || x->applied_hash == NULL) {
            h->checked[m] = 0; /* a restart applies again from slot 1 */
            continue;
        }
        if (x->applied < h->checked[m])
            h->checked[m] = 0;
        for (uint64_t s = h->checked[m] + 1; s <= x->applied; s++) {
            uint64_t hash = g_array_index(x->applied_hash, uint64_t, s - 1);
            if (s > h->hash->len) {
                const MultiSlot *e = &g_array_index(x->log, MultiSlot, s - 1);
                g_array_append_val(h->hash, hash);
                g_array_append_val(h->first, m);
                g_array_append_val(h->value, e->value);
                continue;
            }
            if (g_array_index(h->hash, uint64_t, s - 1) == hash)
                continue;
            const MultiValue *v = &g_array_index(h->value, MultiValue, s - 1);
            g_string_printf(why, "slot %" PRIu64 ": %s applied a command other than ", s,
                            g->name[m]);
            kv_command_format(v->cmd, v->len, why);
            g_string_append_printf(why, ", which %s applied there",
                                   g->name[g_array_index(h->first, unsigned, s - 1)]);
            const MultiSlot *e = &g_array_index(x->log, MultiSlot, s - 1);
            if (dsim_digest_add(0, e->value.cmd, e->value.len) == hash) {
                g_string_append(why, " (it applied ");
                kv_command_format(e->value.cmd, e->value.len, why);
                g_string_append(why, ")");
            }
            return false;
        }
        h->checked[m] = x->applied;
    }
    return true;
}

static const DsimInvariant paxos_multi_invariants[] = {
    { "slot-agreement", "at most one command is chosen (accepted by a majority in one ballot) "
      "per slot", DSIM_CHECK_ALWAYS, check_slot_agreement, agreement_free },
    { "state-machine-safety", "no two replicas apply different commands at the same slot, "
      "across crashes too", DSIM_CHECK_ALWAYS, check_state_machine_safety, apply_history_free },
    { NULL },
};

/* ---- the ops table -------------------------------------------------------------------------- */

const DsimProtocol paxos_multi_protocol = {
    .name = "multi-paxos",
    .summary = "Multi-Paxos: a leader, a replicated log of slots, the KV state machine",
    .params = paxos_multi_params,
    .invariants = paxos_multi_invariants,
    .config_size = sizeof(MultiPaxosConfig),
    .state_size = sizeof(MultiPaxosNode),
    .leader_based = true,
    .init = paxos_multi_init,
    .fini = paxos_multi_fini,
    .on_message = paxos_multi_on_message,
    .on_timer = paxos_multi_on_timer,
    .on_request = paxos_multi_on_request,
    .on_recover = paxos_multi_on_recover,
    .describe = paxos_multi_describe,
    .print_msg = paxos_multi_print_msg,
};
