/* basic.c - Basic Paxos: proposers, acceptors and learners agree on one value per instance.
 *
 * Lamport, "Paxos Made Simple" (ACM SIGACT News 32(4), 2001). Read this file with §2 open:
 * the handlers are named after the steps of §2.2-§2.3 and quote them. In short:
 *
 *   Phase 1. (a) A proposer selects a proposal number n and sends a prepare request with
 *            number n to a majority of acceptors.          -> start_ballot()
 *            (b) If an acceptor receives a prepare request with number n greater than that of
 *            any prepare request to which it has already responded, then it responds with a
 *            promise [...] and with the highest-numbered proposal it has accepted.
 *                                                           -> on_prepare()
 *   Phase 2. (a) If the proposer receives a response to its prepare requests (numbered n)
 *            from a majority of acceptors, then it sends an accept request [...] for a
 *            proposal numbered n with a value v, where v is the value of the highest-numbered
 *            proposal among the responses, or is any value if the responses reported no
 *            proposals.                                     -> on_promise(), begin_phase2()
 *            (b) If an acceptor receives an accept request for a proposal numbered n, it
 *            accepts the proposal unless it has already responded to a prepare request having
 *            a number greater than n.                       -> on_accept()
 *   Learning (§2.3): each acceptor, whenever it accepts a proposal, tells every learner,
 *            and a learner learns v once a majority of acceptors accepted the same proposal.
 *                                                           -> on_accepted(), learn()
 *
 * Ballots (proposal numbers) are (round, member) pairs: algorithms/paxos/ballot.h.
 *
 * Durability. §2.2 ends: "An acceptor must remember this information even if it fails and
 * then restarts." So an acceptor writes its promise and its accepted proposal and syncs
 * before it answers (persist_record()); a proposer makes each round durable before using it,
 * so that it never issues one number twice; a learner keeps what it learned. The bug
 * forget-promise leaves the promise out, and the promise-monotonic invariant catches the
 * acceptor going back on it after a restart.
 *
 * Progress (§2.4) is not guaranteed: "two proposers each keep issuing a sequence of proposals
 * with increasing numbers, none of which are ever chosen". A proposer abandons its ballot when
 * it learns of a higher one (a nack, a timeout, or its own node's acceptor promising a
 * higher ballot) and retries after a random backoff; with backoff_enabled=false it retries at
 * once, and two proposers can duel for ever (scenarios/paxos/dueling-proposers.xml).
 *
 * Every message, a node's messages to itself included, goes through the network: a node that
 * is proposer and acceptor answers its own prepare one network delay later, as a separate
 * process on the same machine would. The textbook timings come out exactly (prepare, promise,
 * accept, accepted: four one-way delays), at the price of a message to self per phase.
 */
#include "algorithms/paxos/basic.h"

#include <string.h>

/* ---- parameters ------------------------------------------------------------ */

static const DsimParam paxos_basic_params[] = {
    { .name = "proposers", .type = DSIM_PARAM_STRING, .def = "1",
      .help = "members that propose: \"all\" or member numbers, e.g. \"1,2\"",
      .offset = offsetof(PaxosBasicConfig, proposers) },
    { .name = "acceptors", .type = DSIM_PARAM_STRING, .def = "all",
      .help = "members that accept (their majority chooses): \"all\" or e.g. \"1,2,3\"",
      .offset = offsetof(PaxosBasicConfig, acceptors) },
    { .name = "learners", .type = DSIM_PARAM_STRING, .def = "all",
      .help = "members that learn the outcome (proposers always do): \"all\" or e.g. \"4,5\"",
      .offset = offsetof(PaxosBasicConfig, learners) },
    { .name = "value_base", .type = DSIM_PARAM_INT, .def = "100",
      .help = "proposer k proposes k * value_base + i in instance i",
      .offset = offsetof(PaxosBasicConfig, value_base), .min = 1, .max = 1000000000 },
    { .name = "instances", .type = DSIM_PARAM_INT, .def = "1",
      .help = "independent instances (single decrees) run side by side, 1..n",
      .offset = offsetof(PaxosBasicConfig, instances), .min = 1, .max = 100000 },
    { .name = "start", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "when the proposers begin",
      .offset = offsetof(PaxosBasicConfig, start) },
    { .name = "timeout", .type = DSIM_PARAM_TIME, .def = "100ms",
      .help = "a phase without answers from a majority is abandoned after this; 0 = never",
      .offset = offsetof(PaxosBasicConfig, timeout) },
    { .name = "backoff", .type = DSIM_PARAM_TIME_RANGE, .def = "10ms..50ms",
      .help = "random wait before retrying with a higher ballot (§2.4)",
      .offset = offsetof(PaxosBasicConfig, backoff) },
    { .name = "backoff_enabled", .type = DSIM_PARAM_BOOL, .def = "true",
      .help = "false: retry at once, and dueling proposers may never decide",
      .offset = offsetof(PaxosBasicConfig, backoff_enabled) },
    { .name = "bug", .type = DSIM_PARAM_CHOICE, .def = "none",
      .help = "inject a known bug",
      .offset = offsetof(PaxosBasicConfig, bug),
      .choices = "none|forget-promise|ignore-promised-values|accept-lower-ballot" },
    { NULL },
};

/* Durable layout, one key per fact: the acceptor's record of instance i, the value a learner
 * learned in instance i, and the proposer's highest round used. */
#define ACCEPTOR_KEY(i) ((UINT64_C(1) << 32) | (uint64_t) (i))
#define LEARNED_KEY(i)  ((UINT64_C(2) << 32) | (uint64_t) (i))
#define ROUND_KEY       (UINT64_C(3) << 32)

/* ---- helpers: member lists, roles, bitmaps ---------------------------------- */

unsigned paxos_members_parse(const char *spec, unsigned n, uint8_t *is_member)
{
    const char *p = spec;
    unsigned count = 0;

    memset(is_member, 0, n);
    while (g_ascii_isspace(*p))
        p++;
    if (g_ascii_strncasecmp(p, "all", 3) == 0) {
        for (p += 3; g_ascii_isspace(*p); p++)
            ;
        if (*p != '\0')
            return 0;
        memset(is_member, 1, n);
        return n;
    }
    for (;;) {
        uint64_t v = 0;
        while (g_ascii_isspace(*p))
            p++;
        if (!g_ascii_isdigit(*p))
            return 0;
        for (; g_ascii_isdigit(*p); p++) {
            v = v * 10 + (uint64_t) (*p - '0');
            if (v > n)
                return 0;
        }
        if (v < 1)
            return 0;
        if (!is_member[v - 1]) {
            is_member[v - 1] = 1;
            count++;
        }
        while (g_ascii_isspace(*p))
            p++;
        if (*p == '\0')
            return count;
        if (*p++ != ',')
            return 0;
    }
}

/* The three member lists of @cfg for a group of @n, into @acceptor, @learner (learners and
 * proposers) and @proposer; returns NULL when they parse, else which one does not. */
static const char *parse_roles(const PaxosBasicConfig *cfg, unsigned n, uint8_t *acceptor,
                               uint8_t *learner, uint8_t *proposer)
{
    if (paxos_members_parse(cfg->proposers, n, proposer) == 0)
        return "proposers";
    if (paxos_members_parse(cfg->acceptors, n, acceptor) == 0)
        return "acceptors";
    if (paxos_members_parse(cfg->learners, n, learner) == 0)
        return "learners";
    for (unsigned i = 0; i < n; i++)
        learner[i] |= proposer[i];
    return NULL;
}

/* At load: each member list parses for the group's size. */
static const char *paxos_basic_validate(const void *config, const DsimShape *shape, GString *why)
{
    unsigned n = shape->sizes[shape->self];
    g_autofree uint8_t *a = g_new(uint8_t, n), *l = g_new(uint8_t, n), *p = g_new(uint8_t, n);
    const char *bad = parse_roles(config, n, a, l, p);
    if (bad != NULL)
        g_string_printf(why, "%s must be \"all\" or member numbers 1..%u separated by commas, "
                        "e.g. \"1,2\"", bad, n);
    return bad;
}

static unsigned index_of(const DsimCtx *ctx, DsimNodeId id)
{
    unsigned i = id - dsim_group_member(ctx, 0);

    g_assert(i < dsim_group_size(ctx));
    return i;
}

static bool bit_test(const uint64_t *bits, unsigned i)
{
    return (bits[i / 64] >> (i % 64)) & 1;
}

static void bit_set(uint64_t *bits, unsigned i)
{
    bits[i / 64] |= UINT64_C(1) << (i % 64);
}

static void note_round(PaxosBasicNode *x, PaxosBallot b)
{
    if (paxos_ballot_round(b) > x->max_round)
        x->max_round = paxos_ballot_round(b);
}

static void send_to_acceptors(const PaxosBasicNode *x, DsimCtx *ctx, uint16_t type,
                              const void *body, size_t size)
{
    for (unsigned i = 0; i < x->n; i++) {
        if (x->acceptor[i])
            dsim_send(ctx, dsim_group_member(ctx, i), type, body, size);
    }
}

/* Allocates the state of the roles this node holds; a crash frees it (paxos_basic_fini). */
static void setup(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg)
{
    unsigned n = dsim_group_size(ctx);
    g_autofree uint8_t *proposer = g_new0(uint8_t, n);

    x->n = n;
    x->instances = (uint32_t) cfg->instances;
    x->self = dsim_self_index(ctx) + 1;
    x->words = (n + 63) / 64;
    x->acceptor = g_new0(uint8_t, n);
    x->learner = g_new0(uint8_t, n);
    const char *bad = parse_roles(cfg, n, x->acceptor, x->learner, proposer);
    if (bad != NULL) {
        /* Not an input error the loader could catch (a STRING param); every invariant of
         * this protocol reports it, and the node stays inert. */
        dsim_log(ctx, "the %s param is not a member list of 1..%u; doing nothing", bad, n);
        return;
    }
    x->roles_ok = true;
    for (unsigned i = 0; i < n; i++)
        x->n_acceptors += x->acceptor[i];
    x->majority = x->n_acceptors / 2 + 1;
    x->is_proposer = proposer[x->self - 1];
    x->is_acceptor = x->acceptor[x->self - 1];
    x->is_learner = x->learner[x->self - 1];
    if (x->is_acceptor)
        x->acc = g_new0(PaxosAcceptorRecord, x->instances);
    if (x->is_proposer) {
        x->prop = g_new0(PaxosProposerSlot, x->instances);
        x->promised_by = g_new0(uint64_t, (size_t) x->instances * x->words);
    }
    if (x->is_learner) {
        x->reports = g_new0(PaxosReport, (size_t) x->instances * n);
        x->learned = g_new0(uint8_t, x->instances);
        x->learned_value = g_new0(uint64_t, x->instances);
    }
}

/* ---- proposer: phase 1a, phase 2a, retries --------------------------------- */

static void arm_timeout(PaxosProposerSlot *p, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                        uint64_t instance)
{
    dsim_timer_cancel(ctx, p->timer);
    p->timer = cfg->timeout > 0 ? dsim_timer_set(ctx, cfg->timeout, PAXOS_TIMER_TIMEOUT, instance)
                                : 0;
}

/* Phase 1 (a): "A proposer selects a proposal number n and sends a prepare request with
 * number n to a majority of acceptors" (to all of them here: any majority that answers will
 * do). The new round is above every round this node has seen, so no acceptor it heard from
 * refuses it at once, and it is made durable before it is used: after a restart the proposer
 * continues above it, and never issues one ballot with two values. */
static void start_ballot(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                         uint64_t instance)
{
    PaxosProposerSlot *p = &x->prop[instance - 1];

    x->max_round++;
    dsim_persist(ctx, ROUND_KEY, &x->max_round, sizeof x->max_round);
    dsim_sync(ctx);

    p->ballot = paxos_ballot_make(x->max_round, x->self);
    p->phase = PAXOS_PHASE_1;
    p->promises = 0;
    p->highest = PAXOS_BALLOT_NONE;
    p->highest_value = 0;
    p->tries++;
    memset(x->promised_by + (instance - 1) * x->words, 0, x->words * sizeof(uint64_t));
    dsim_metric(ctx, "ballots_tried", p->tries);
    if (dsim_logging(ctx))
        dsim_log(ctx, "instance %" PRIu64 ": prepare ballot %" PRIu32 ".%" PRIu32
                 " (try %" PRIu32 ")", instance, paxos_ballot_round(p->ballot), x->self, p->tries);

    PaxosPrepare m = { .ballot = p->ballot, .instance = instance };
    send_to_acceptors(x, ctx, PAXOS_MSG_PREPARE, &m, sizeof m);
    arm_timeout(p, ctx, cfg, instance);
}

/* §2.4: "a distinguished proposer must be selected"; without one, a proposer that lost a
 * round waits a random time before its next, so that one of two dueling proposers gets
 * through both phases first. With backoff_enabled=false it tries again at once. */
static void retry_later(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                        uint64_t instance)
{
    PaxosProposerSlot *p = &x->prop[instance - 1];

    dsim_timer_cancel(ctx, p->timer);
    p->timer = 0;
    if (!cfg->backoff_enabled) {
        start_ballot(x, ctx, cfg, instance);
        return;
    }
    p->phase = PAXOS_PHASE_BACKOFF;
    p->timer = dsim_timer_set(ctx, dsim_rand_time(ctx, cfg->backoff.lo, cfg->backoff.hi),
                              PAXOS_TIMER_RETRY, instance);
}

/* A ballot @b above the one this node's proposer is trying in @instance was seen (its own
 * acceptor promised or accepted it, or an acceptor nacked): "a proposer can abandon a
 * proposal [...] at any time" (§2.2), and this one can no longer succeed. */
static void abandon_if_superseded(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                                  uint64_t instance, PaxosBallot b)
{
    if (!x->is_proposer)
        return;
    PaxosProposerSlot *p = &x->prop[instance - 1];
    if ((p->phase == PAXOS_PHASE_1 || p->phase == PAXOS_PHASE_2) && b > p->ballot) {
        if (dsim_logging(ctx)) {
            g_autoptr(GString) s = g_string_new(NULL);
            paxos_ballot_format(b, s);
            dsim_log(ctx, "instance %" PRIu64 ": superseded by ballot %s", instance, s->str);
        }
        retry_later(x, ctx, cfg, instance);
    }
}

/* Phase 2 (a), with P2c: "if a proposal with value v is chosen, then every higher-numbered
 * proposal issued by any proposer has value v" -- so the proposer must propose the value of
 * the highest-numbered proposal among the promises, and only when there is none its own. */
static void begin_phase2(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                         uint64_t instance)
{
    PaxosProposerSlot *p = &x->prop[instance - 1];
    uint64_t own = paxos_basic_own_value(cfg, x->self, instance);

    p->phase = PAXOS_PHASE_2;
    p->value = p->highest != PAXOS_BALLOT_NONE ? p->highest_value : own;
    if (cfg->bug == PAXOS_BUG_IGNORE_PROMISED_VALUES)
        p->value = own; /* bug ignore-promised-values: breaks P2c */
    if (dsim_logging(ctx)) {
        g_autoptr(GString) why = g_string_new(NULL);
        if (cfg->bug == PAXOS_BUG_IGNORE_PROMISED_VALUES || p->highest == PAXOS_BALLOT_NONE) {
            g_string_append(why, "its own");
        } else {
            g_string_append(why, "that of the highest accepted proposal reported, ");
            paxos_ballot_format(p->highest, why);
        }
        dsim_log(ctx, "instance %" PRIu64 ": %" PRIu32 " promises; accept value %" PRIu64 " (%s)",
                 instance, p->promises, p->value, why->str);
    }

    PaxosProposal m = { .ballot = p->ballot, .value = p->value, .instance = instance };
    send_to_acceptors(x, ctx, PAXOS_MSG_ACCEPT, &m, sizeof m);
    arm_timeout(p, ctx, cfg, instance);
}

/* Phase 1 (b) arriving at the proposer: count distinct acceptors (a duplicated promise counts
 * once) and keep the highest-numbered accepted proposal they report. */
static void on_promise(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                       unsigned from, const PaxosPromise *m)
{
    PaxosProposerSlot *p = &x->prop[m->instance - 1];
    uint64_t *bits = x->promised_by + (m->instance - 1) * x->words;

    if (p->phase != PAXOS_PHASE_1 || m->ballot != p->ballot || bit_test(bits, from))
        return; /* for an earlier ballot, or a duplicate */
    bit_set(bits, from);
    p->promises++;
    if (m->accepted > p->highest) {
        p->highest = m->accepted;
        p->highest_value = m->value;
    }
    if (p->promises == x->majority)
        begin_phase2(x, ctx, cfg, m->instance);
}

static void on_nack(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                    const PaxosNack *m)
{
    PaxosProposerSlot *p = &x->prop[m->instance - 1];

    if (m->ballot == p->ballot)
        abandon_if_superseded(x, ctx, cfg, m->instance, m->promised);
}

/* ---- acceptor: phase 1b, phase 2b ------------------------------------------ */

/* "An acceptor must remember this information even if it fails and then restarts" (§2.2):
 * written and synced before the answer leaves. */
static void persist_record(PaxosBasicNode *x, DsimCtx *ctx, uint64_t instance)
{
    dsim_persist(ctx, ACCEPTOR_KEY(instance), &x->acc[instance - 1], sizeof(PaxosAcceptorRecord));
    dsim_sync(ctx);
}

static void send_nack(DsimCtx *ctx, DsimNodeId to, uint64_t ballot, uint64_t promised,
                      uint64_t instance)
{
    PaxosNack nack = { .ballot = ballot, .promised = promised, .instance = instance };
    dsim_send(ctx, to, PAXOS_MSG_NACK, &nack, sizeof nack);
}

/* Phase 1 (b): "If an acceptor receives a prepare request with number n greater than that of
 * any prepare request to which it has already responded, then it responds to the request
 * with a promise not to accept any more proposals numbered less than n and with the
 * highest-numbered proposal (if any) that it has accepted." A prepare numbered below the
 * promise gets a nack (the optimisation of §2.4: "the acceptor [...] should inform the
 * proposer, who should then abandon its proposal"); one equal to it is a duplicate of a
 * prepare already answered, and gets nothing. */
static void on_prepare(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                       const DsimMsg *msg, const PaxosPrepare *m)
{
    PaxosAcceptorRecord *a = &x->acc[m->instance - 1];

    if (m->ballot < a->promised) {
        send_nack(ctx, msg->from, m->ballot, a->promised, m->instance);
        return;
    }
    if (m->ballot == a->promised)
        return;
    a->promised = m->ballot;
    if (cfg->bug != PAXOS_BUG_FORGET_PROMISE)
        persist_record(x, ctx, m->instance); /* bug forget-promise: the promise stays in RAM */
    PaxosPromise r = { .ballot = m->ballot, .accepted = a->accepted, .value = a->value,
                       .instance = m->instance };
    dsim_send(ctx, msg->from, PAXOS_MSG_PROMISE, &r, sizeof r);
    abandon_if_superseded(x, ctx, cfg, m->instance, m->ballot);
}

/* Phase 2 (b): "If an acceptor receives an accept request for a proposal numbered n, it
 * accepts the proposal unless it has already responded to a prepare request having a number
 * greater than n." Accepting n also promises n (it is the same as answering a prepare n
 * first). Then, §2.3: "have each acceptor, whenever it accepts a proposal, respond to all
 * learners, sending them the proposal". A duplicate of an accept already taken is taken again
 * (same record), and the learners count each acceptor once. */
static void on_accept(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                      const DsimMsg *msg, const PaxosProposal *m)
{
    PaxosAcceptorRecord *a = &x->acc[m->instance - 1];

    if (m->ballot < a->promised && cfg->bug != PAXOS_BUG_ACCEPT_LOWER_BALLOT) {
        send_nack(ctx, msg->from, m->ballot, a->promised, m->instance);
        return;
    }
    /* bug accept-lower-ballot: the test above is skipped, so the promise means nothing */
    if (m->ballot > a->promised)
        a->promised = m->ballot;
    a->accepted = m->ballot;
    a->value = m->value;
    persist_record(x, ctx, m->instance);
    for (unsigned i = 0; i < x->n; i++) {
        if (x->learner[i])
            dsim_send(ctx, dsim_group_member(ctx, i), PAXOS_MSG_ACCEPTED, m, sizeof *m);
    }
    abandon_if_superseded(x, ctx, cfg, m->instance, m->ballot);
}

/* ---- learner ------------------------------------------------------------------- */

/* "A value is chosen when a single proposal with that value has been accepted by a majority
 * of the acceptors" (§2.2). The learner keeps, per acceptor, the highest proposal it reported
 * accepting, and learns once a majority reported the same ballot. (Counting only the latest
 * report per acceptor may see a majority later than it formed, never one that did not.) */
static void learn(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                  uint64_t instance, uint64_t value)
{
    x->learned[instance - 1] = 1;
    x->learned_value[instance - 1] = value;
    x->n_learned++;
    dsim_persist(ctx, LEARNED_KEY(instance), &value, sizeof value);
    dsim_sync(ctx);
    dsim_metric(ctx, "chosen_latency_seconds", (double) (dsim_now(ctx) - cfg->start) / 1e9);
    if (dsim_logging(ctx))
        dsim_log(ctx, "instance %" PRIu64 ": learned value %" PRIu64, instance, value);
    if (x->is_proposer) {
        PaxosProposerSlot *p = &x->prop[instance - 1];
        dsim_timer_cancel(ctx, p->timer);
        p->timer = 0;
        p->phase = PAXOS_PHASE_DONE;
    }
}

static void on_accepted(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg,
                        unsigned from, const PaxosProposal *m)
{
    PaxosReport *r = x->reports + (m->instance - 1) * x->n;

    if (x->learned[m->instance - 1] || !x->acceptor[from] || m->ballot <= r[from].ballot)
        return;
    r[from].ballot = m->ballot;
    r[from].value = m->value;
    unsigned same = 0;
    for (unsigned i = 0; i < x->n; i++)
        same += r[i].ballot == m->ballot;
    if (same >= x->majority)
        learn(x, ctx, cfg, m->instance, m->value);
}

/* ---- handlers ------------------------------------------------------------------ */

static void schedule_start(PaxosBasicNode *x, DsimCtx *ctx, const PaxosBasicConfig *cfg)
{
    DsimTime now = dsim_now(ctx);

    dsim_timer_set(ctx, cfg->start > now ? cfg->start - now : 0, PAXOS_TIMER_START, 0);
}

static void paxos_basic_init(void *state, DsimCtx *ctx)
{
    PaxosBasicNode *x = state;
    const PaxosBasicConfig *cfg = dsim_config(ctx);

    setup(x, ctx, cfg);
    if (x->is_proposer || !x->roles_ok)
        schedule_start(x, ctx, cfg); /* with bad roles: one event, so the invariants run */
}

static void paxos_basic_fini(void *state)
{
    PaxosBasicNode *x = state;

    g_clear_pointer(&x->acceptor, g_free);
    g_clear_pointer(&x->learner, g_free);
    g_clear_pointer(&x->acc, g_free);
    g_clear_pointer(&x->prop, g_free);
    g_clear_pointer(&x->promised_by, g_free);
    g_clear_pointer(&x->reports, g_free);
    g_clear_pointer(&x->learned, g_free);
    g_clear_pointer(&x->learned_value, g_free);
}

/* After a restart: promises and accepted proposals, learned values and the highest round
 * come back from storage. A proposer whose instances are still open starts over with a
 * fresh ballot (after a backoff): its phase-1 state was volatile, and phase 1 rebuilds it. */
static void paxos_basic_on_recover(void *state, DsimCtx *ctx)
{
    PaxosBasicNode *x = state;
    const PaxosBasicConfig *cfg = dsim_config(ctx);
    uint32_t round = 0;

    setup(x, ctx, cfg);
    if (!x->roles_ok)
        return;
    if (dsim_load(ctx, ROUND_KEY, &round, sizeof round, NULL))
        x->max_round = round;
    for (uint64_t i = 1; i <= x->instances; i++) {
        if (x->is_acceptor && dsim_load(ctx, ACCEPTOR_KEY(i), &x->acc[i - 1],
                                        sizeof(PaxosAcceptorRecord), NULL))
            note_round(x, x->acc[i - 1].promised);
        if (x->is_learner && dsim_load(ctx, LEARNED_KEY(i), &x->learned_value[i - 1],
                                       sizeof(uint64_t), NULL)) {
            x->learned[i - 1] = 1;
            x->n_learned++;
        }
    }
    if (!x->is_proposer)
        return;
    if (dsim_now(ctx) < cfg->start) {
        schedule_start(x, ctx, cfg);
        return;
    }
    for (uint64_t i = 1; i <= x->instances; i++) {
        if (x->learned[i - 1])
            x->prop[i - 1].phase = PAXOS_PHASE_DONE;
        else
            retry_later(x, ctx, cfg, i);
    }
}

/* Every body names its instance; one outside 1..instances is a bug (all members share the
 * config), as is a message for a role this node does not hold. */
static uint64_t checked_instance(const PaxosBasicNode *x, uint64_t instance)
{
    g_assert(instance >= 1 && instance <= x->instances);
    return instance;
}

static void paxos_basic_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    PaxosBasicNode *x = state;
    const PaxosBasicConfig *cfg = dsim_config(ctx);
    unsigned from = index_of(ctx, msg->from);

    if (!x->roles_ok)
        return;
    switch (msg->type) {
    case PAXOS_MSG_PREPARE: {
        const PaxosPrepare *m = DSIM_MSG_BODY(msg, PaxosPrepare);
        checked_instance(x, m->instance);
        g_assert(x->is_acceptor);
        note_round(x, m->ballot);
        on_prepare(x, ctx, cfg, msg, m);
        return;
    }
    case PAXOS_MSG_PROMISE: {
        const PaxosPromise *m = DSIM_MSG_BODY(msg, PaxosPromise);
        checked_instance(x, m->instance);
        g_assert(x->is_proposer);
        note_round(x, m->accepted);
        on_promise(x, ctx, cfg, from, m);
        return;
    }
    case PAXOS_MSG_ACCEPT: {
        const PaxosProposal *m = DSIM_MSG_BODY(msg, PaxosProposal);
        checked_instance(x, m->instance);
        g_assert(x->is_acceptor);
        note_round(x, m->ballot);
        on_accept(x, ctx, cfg, msg, m);
        return;
    }
    case PAXOS_MSG_ACCEPTED: {
        const PaxosProposal *m = DSIM_MSG_BODY(msg, PaxosProposal);
        checked_instance(x, m->instance);
        g_assert(x->is_learner);
        note_round(x, m->ballot);
        on_accepted(x, ctx, cfg, from, m);
        return;
    }
    case PAXOS_MSG_NACK: {
        const PaxosNack *m = DSIM_MSG_BODY(msg, PaxosNack);
        checked_instance(x, m->instance);
        g_assert(x->is_proposer);
        note_round(x, m->promised);
        on_nack(x, ctx, cfg, m);
        return;
    }
    default:
        g_assert_not_reached();
    }
}

static void paxos_basic_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    PaxosBasicNode *x = state;
    const PaxosBasicConfig *cfg = dsim_config(ctx);

    if (!x->roles_ok)
        return;
    g_assert(x->is_proposer);
    switch (kind) {
    case PAXOS_TIMER_START:
        for (uint64_t i = 1; i <= x->instances; i++) {
            if (x->prop[i - 1].phase == PAXOS_PHASE_IDLE && !x->learned[i - 1])
                start_ballot(x, ctx, cfg, i);
        }
        return;
    case PAXOS_TIMER_TIMEOUT: {
        PaxosProposerSlot *p = &x->prop[checked_instance(x, arg) - 1];
        p->timer = 0;
        if (p->phase == PAXOS_PHASE_1 || p->phase == PAXOS_PHASE_2) {
            dsim_log(ctx, "instance %" PRIu64 ": no majority answered in time", arg);
            retry_later(x, ctx, cfg, arg);
        }
        return;
    }
    case PAXOS_TIMER_RETRY: {
        PaxosProposerSlot *p = &x->prop[checked_instance(x, arg) - 1];
        p->timer = 0;
        if (p->phase == PAXOS_PHASE_BACKOFF)
            start_ballot(x, ctx, cfg, arg);
        return;
    }
    default:
        g_assert_not_reached();
    }
}

/* ---- describe, print ------------------------------------------------------------ */

/* A proposer in phase 2 reports CANDIDATE (it is asking to be accepted); nobody is ever
 * LEADER in Basic Paxos. The digest folds (instance, value) of learned instances in instance
 * order, so learners that learned the same values agree whatever the order of learning. */
static void paxos_basic_describe(const void *state, DsimView *view)
{
    const PaxosBasicNode *x = state;
    uint64_t digest = 0;

    view->role = DSIM_ROLE_NONE;
    for (uint32_t i = 0; x->prop != NULL && i < x->instances; i++) {
        if (x->prop[i].phase == PAXOS_PHASE_2)
            view->role = DSIM_ROLE_CANDIDATE;
    }
    for (uint64_t i = 1; x->learned != NULL && i <= x->instances; i++) {
        if (x->learned[i - 1]) {
            uint64_t item[2] = { i, x->learned_value[i - 1] };
            digest = dsim_digest_add(digest, item, sizeof item);
        }
    }
    view->term = x->max_round;
    view->applied = x->n_learned;
    view->applied_digest = digest;
    if (x->instances == 1 && x->learned != NULL && x->learned[0])
        g_snprintf(view->text, sizeof view->text, "learned %" PRIu64 ", round %" PRIu32,
                   x->learned_value[0], x->max_round);
    else
        g_snprintf(view->text, sizeof view->text, "learned %" PRIu32 "/%" PRIu32 ", round %" PRIu32,
                   x->n_learned, x->instances, x->max_round);
}

static void paxos_basic_print_msg(const DsimMsg *msg, GString *out)
{
    switch (msg->type) {
    case PAXOS_MSG_PREPARE: {
        const PaxosPrepare *m = DSIM_MSG_BODY(msg, PaxosPrepare);
        g_string_append_printf(out, "Prepare i=%" PRIu64 " b=", m->instance);
        paxos_ballot_format(m->ballot, out);
        return;
    }
    case PAXOS_MSG_PROMISE: {
        const PaxosPromise *m = DSIM_MSG_BODY(msg, PaxosPromise);
        g_string_append_printf(out, "Promise i=%" PRIu64 " b=", m->instance);
        paxos_ballot_format(m->ballot, out);
        g_string_append(out, " accepted=");
        paxos_ballot_format(m->accepted, out);
        if (m->accepted != PAXOS_BALLOT_NONE)
            g_string_append_printf(out, ":%" PRIu64, m->value);
        return;
    }
    case PAXOS_MSG_ACCEPT:
    case PAXOS_MSG_ACCEPTED: {
        const PaxosProposal *m = DSIM_MSG_BODY(msg, PaxosProposal);
        g_string_append_printf(out, "%s i=%" PRIu64 " b=",
                               msg->type == PAXOS_MSG_ACCEPT ? "Accept" : "Accepted", m->instance);
        paxos_ballot_format(m->ballot, out);
        g_string_append_printf(out, " v=%" PRIu64, m->value);
        return;
    }
    case PAXOS_MSG_NACK: {
        const PaxosNack *m = DSIM_MSG_BODY(msg, PaxosNack);
        g_string_append_printf(out, "Nack i=%" PRIu64 " b=", m->instance);
        paxos_ballot_format(m->ballot, out);
        g_string_append(out, " promised=");
        paxos_ballot_format(m->promised, out);
        return;
    }
    default:
        g_string_append_printf(out, "basic-paxos type=%u?", (unsigned) msg->type);
        return;
    }
}

/* ---- invariants ----------------------------------------------------------------- */

/* Every invariant checks once, when it creates its scratch, that the member lists parse:
 * the loader cannot (they are STRING params), and a run whose roles mean nothing must not
 * pass. A failed invariant is not run again, so its scratch then stays NULL. */
static bool roles_parse(const DsimGroupView *g, GString *why)
{
    const PaxosBasicConfig *cfg = g->config;
    g_autofree uint8_t *a = g_new0(uint8_t, g->n);
    g_autofree uint8_t *l = g_new0(uint8_t, g->n);
    g_autofree uint8_t *p = g_new0(uint8_t, g->n);
    const char *bad = parse_roles(cfg, g->n, a, l, p);

    if (bad == NULL)
        return true;
    g_string_printf(why, "the %s param of %s is not a member list (write \"all\" or member "
                    "numbers 1..%u separated by commas, e.g. \"1,2\")", bad, g->group, g->n);
    return false;
}

/* The members an ALWAYS check looks at: the one that just stepped, or all of them. */
static void members_to_check(const DsimGroupView *g, unsigned *lo, unsigned *hi)
{
    *lo = g->last < g->n ? g->last : 0;
    *hi = g->last < g->n ? g->last + 1 : g->n;
}

/* History for agreement, in the scratch pointer: for each instance, every ballot some
 * acceptor accepted, with its value and the set of acceptors that accepted it at any time.
 * "Chosen" is the paper's: a single proposal accepted by a majority of the acceptors --
 * not necessarily at the same moment, which is why the sets are kept across the run (and
 * across crashes, which wipe the acceptors' own memory). */
typedef struct {
    PaxosBallot ballot;
    uint64_t    value;
    uint64_t   *who;   /* bitmap over members */
    unsigned    count;
} BallotTally;

typedef struct {
    unsigned     n, words, instances, majority;
    PaxosBallot *seen;         /* [member * instances + i]: last accepted ballot counted */
    GArray     **tallies;      /* [instances] of BallotTally */
    PaxosBallot *chosen;       /* [instances]: the first ballot seen chosen, or none */
    uint64_t    *chosen_value; /* [instances] */
} AgreementHistory;

static void agreement_free(void *scratch)
{
    AgreementHistory *h = scratch;

    if (h == NULL)
        return;
    for (unsigned i = 0; i < h->instances; i++) {
        for (unsigned k = 0; k < h->tallies[i]->len; k++)
            g_free(g_array_index(h->tallies[i], BallotTally, k).who);
        g_array_unref(h->tallies[i]);
    }
    g_free(h->tallies);
    g_free(h->seen);
    g_free(h->chosen);
    g_free(h->chosen_value);
    g_free(h);
}

/* The history, created at the first call; NULL (with @why set) when the roles are bad. */
static AgreementHistory *agreement_get(const DsimGroupView *g, GString *why)
{
    const PaxosBasicConfig *cfg = g->config;
    AgreementHistory *h = *g->scratch;

    if (h == NULL) {
        if (!roles_parse(g, why))
            return NULL;
        g_autofree uint8_t *a = g_new0(uint8_t, g->n);
        h = g_new0(AgreementHistory, 1);
        h->n = g->n;
        h->words = (g->n + 63) / 64;
        h->instances = (unsigned) cfg->instances;
        h->majority = paxos_members_parse(cfg->acceptors, g->n, a) / 2 + 1;
        h->seen = g_new0(PaxosBallot, (size_t) h->n * h->instances);
        h->tallies = g_new0(GArray *, h->instances);
        for (unsigned i = 0; i < h->instances; i++)
            h->tallies[i] = g_array_new(FALSE, TRUE, sizeof(BallotTally));
        h->chosen = g_new0(PaxosBallot, h->instances);
        h->chosen_value = g_new0(uint64_t, h->instances);
        *g->scratch = h;
    }
    g_assert(h->n == g->n);
    return h;
}

static BallotTally *tally_for(AgreementHistory *h, unsigned instance, PaxosBallot b,
                              uint64_t value)
{
    GArray *t = h->tallies[instance];

    for (unsigned k = 0; k < t->len; k++) {
        if (g_array_index(t, BallotTally, k).ballot == b)
            return &g_array_index(t, BallotTally, k);
    }
    BallotTally nt = { .ballot = b, .value = value, .who = g_new0(uint64_t, h->words) };
    g_array_append_val(t, nt);
    return &g_array_index(t, BallotTally, t->len - 1);
}

static void append_members(const DsimGroupView *g, const uint64_t *who, GString *out)
{
    bool first = true;

    for (unsigned i = 0; i < g->n; i++) {
        if (bit_test(who, i)) {
            g_string_append_printf(out, "%s%s", first ? "" : ",", g->name[i]);
            first = false;
        }
    }
}

/* Agreement (§2, the safety requirements): "Only a single value is chosen". O(instances)
 * per event for the member that stepped, plus the ballots of an instance (a handful). Also
 * checks that every learned value is the chosen one ("a process never learns that a value
 * has been chosen unless it actually has been"). */
static bool check_agreement(const DsimGroupView *g, GString *why)
{
    AgreementHistory *h = agreement_get(g, why);
    unsigned lo, hi;

    if (h == NULL)
        return false;
    members_to_check(g, &lo, &hi);
    for (unsigned m = lo; m < hi; m++) {
        const PaxosBasicNode *x = g->state[m];
        if (g->status[m] == DSIM_NODE_CRASHED)
            continue;
        for (unsigned i = 0; x->acc != NULL && i < h->instances; i++) {
            const PaxosAcceptorRecord *a = &x->acc[i];
            PaxosBallot *seen = &h->seen[(size_t) m * h->instances + i];
            if (a->accepted == PAXOS_BALLOT_NONE || a->accepted == *seen)
                continue;
            *seen = a->accepted;
            BallotTally *t = tally_for(h, i, a->accepted, a->value);
            if (t->value != a->value) {
                g_string_printf(why, "instance %u: ballot ", i + 1);
                paxos_ballot_format(a->accepted, why);
                g_string_append_printf(why, " carries two values, %" PRIu64 " and %" PRIu64
                                       " (%s accepted the second)", t->value, a->value,
                                       g->name[m]);
                return false;
            }
            if (bit_test(t->who, m))
                continue;
            bit_set(t->who, m);
            if (++t->count != h->majority)
                continue;
            if (h->chosen[i] == PAXOS_BALLOT_NONE) {
                h->chosen[i] = t->ballot;
                h->chosen_value[i] = t->value;
            } else if (h->chosen_value[i] != t->value) {
                g_string_printf(why, "instance %u: value %" PRIu64 " chosen at ballot ", i + 1,
                                t->value);
                paxos_ballot_format(t->ballot, why);
                g_string_append(why, " (");
                append_members(g, t->who, why);
                g_string_append_printf(why, " accepted it), but %" PRIu64 " was chosen before "
                                       "at ballot ", h->chosen_value[i]);
                paxos_ballot_format(h->chosen[i], why);
                return false;
            }
        }
        for (unsigned i = 0; x->learned != NULL && i < h->instances; i++) {
            if (x->learned[i] && h->chosen[i] != PAXOS_BALLOT_NONE
                && x->learned_value[i] != h->chosen_value[i]) {
                g_string_printf(why, "instance %u: %s learned %" PRIu64 " but %" PRIu64
                                " was chosen", i + 1, g->name[m], x->learned_value[i],
                                h->chosen_value[i]);
                return false;
            }
        }
    }
    return true;
}

/* Validity (§2): "Only a value that has been proposed may be chosen". A value is chosen
 * only once acceptors accepted it, so this checks the stronger property that every value an
 * acceptor accepted, and every value a learner learned, is one that a proposer proposes in
 * that instance (k * value_base + instance for a proposer k). No history needed. */
static bool check_validity(const DsimGroupView *g, GString *why)
{
    const PaxosBasicConfig *cfg = g->config;
    uint8_t *proposer = *g->scratch; /* [n]: who proposes; g_free'd by the kernel */
    unsigned lo, hi;

    if (proposer == NULL) {
        if (!roles_parse(g, why))
            return false;
        proposer = g_new0(uint8_t, g->n);
        paxos_members_parse(cfg->proposers, g->n, proposer);
        *g->scratch = proposer;
    }
    members_to_check(g, &lo, &hi);
    for (unsigned m = lo; m < hi; m++) {
        const PaxosBasicNode *x = g->state[m];
        for (uint64_t i = 1; g->status[m] != DSIM_NODE_CRASHED && i <= x->instances; i++) {
            bool accepted = x->acc != NULL && x->acc[i - 1].accepted != PAXOS_BALLOT_NONE;
            bool learned = x->learned != NULL && x->learned[i - 1];
            uint64_t v[2] = { accepted ? x->acc[i - 1].value : 0,
                              learned ? x->learned_value[i - 1] : 0 };
            for (unsigned k = 0; k < 2; k++) {
                if (!(k == 0 ? accepted : learned))
                    continue;
                uint64_t base = (uint64_t) cfg->value_base;
                uint64_t who = v[k] >= i ? (v[k] - i) / base : 0;
                if (v[k] >= i && (v[k] - i) % base == 0 && who >= 1 && who <= g->n
                    && proposer[who - 1])
                    continue;
                g_string_printf(why, "instance %" PRIu64 ": %s %s value %" PRIu64 ", which no "
                                "proposer proposes", i, g->name[m],
                                k == 0 ? "accepted" : "learned", v[k]);
                return false;
            }
        }
    }
    return true;
}

/* History for promise-monotonic: the highest promise each acceptor ever made, per
 * instance, [member * instances + i]. */
typedef struct {
    unsigned     n, instances;
    PaxosBallot *max;
} PromiseHistory;

static void promise_history_free(void *scratch)
{
    PromiseHistory *h = scratch;

    if (h != NULL) {
        g_free(h->max);
        g_free(h);
    }
}

/* An acceptor's promise is "a promise not to accept any more proposals numbered less than
 * n" (P1b): it may rise, never fall, and a crash must not undo it (§2.2: "An acceptor must
 * remember this information even if it fails and then restarts"). Checked for the member
 * that stepped, and for all members after a fault (a restart is one). O(instances). */
static bool check_promise_monotonic(const DsimGroupView *g, GString *why)
{
    const PaxosBasicConfig *cfg = g->config;
    PromiseHistory *h = *g->scratch;
    unsigned lo, hi;

    if (h == NULL) {
        if (!roles_parse(g, why))
            return false;
        h = g_new0(PromiseHistory, 1);
        h->n = g->n;
        h->instances = (unsigned) cfg->instances;
        h->max = g_new0(PaxosBallot, (size_t) h->n * h->instances);
        *g->scratch = h;
    }
    members_to_check(g, &lo, &hi);
    for (unsigned m = lo; m < hi; m++) {
        const PaxosBasicNode *x = g->state[m];
        for (unsigned i = 0; g->status[m] != DSIM_NODE_CRASHED && x->acc != NULL
                             && i < h->instances; i++) {
            PaxosBallot *max = &h->max[(size_t) m * h->instances + i];
            if (x->acc[i].promised >= *max) {
                *max = x->acc[i].promised;
                continue;
            }
            g_string_printf(why, "instance %u: %s's promise went back from ballot ", i + 1,
                            g->name[m]);
            paxos_ballot_format(*max, why);
            g_string_append(why, " to ");
            paxos_ballot_format(x->acc[i].promised, why);
            g_string_append(why, " (a promise it forgot, e.g. across a crash)");
            return false;
        }
    }
    return true;
}

static const DsimInvariant paxos_basic_invariants[] = {
    { "agreement", "at most one value is chosen (accepted by a majority in one ballot) per "
      "instance, and learners learn only it", DSIM_CHECK_ALWAYS, check_agreement, agreement_free },
    { "validity", "every accepted or learned value was proposed by a proposer",
      DSIM_CHECK_ALWAYS, check_validity, NULL },
    { "promise-monotonic", "an acceptor's promised ballot never decreases, across crashes too",
      DSIM_CHECK_ALWAYS, check_promise_monotonic, promise_history_free },
    { NULL },
};

/* ---- the ops table ---------------------------------------------------------------- */

const DsimProtocol paxos_basic_protocol = {
    .name = "basic-paxos",
    .summary = "single-decree Paxos: proposers, acceptors, learners (Paxos Made Simple)",
    .params = paxos_basic_params,
    .invariants = paxos_basic_invariants,
    .config_size = sizeof(PaxosBasicConfig),
    .state_size = sizeof(PaxosBasicNode),
    .init = paxos_basic_init,
    .fini = paxos_basic_fini,
    .on_message = paxos_basic_on_message,
    .on_timer = paxos_basic_on_timer,
    .on_request = NULL,
    .on_recover = paxos_basic_on_recover,
    .describe = paxos_basic_describe,
    .print_msg = paxos_basic_print_msg,
    .validate = paxos_basic_validate,
};
