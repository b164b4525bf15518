/* rumor.c - rumor mongering (Demers et al. 1987, §1.4) and the "gossip" protocol's ops table.
 *
 * Read with §1.4 ("Complex Epidemics") open. A member is susceptible, infective or removed
 * for each update: it has not heard of it, it finds it hot and spreads it, or it knows it but
 * has lost interest (GossipPhase UNKNOWN, HOT, COLD). Once per period a member with hot
 * rumors contacts `fanout` random peers. The three ways to use a contact (§1.4, variation 3,
 * "Push vs. Pull"):
 *
 *   push       the member sends its hot rumors (PUSH); the peer answers with feedback
 *              (REPLY, known = the rumors it already had) when a stop rule needs it.
 *   pull       every member asks, sending its digest (PULL); the asked member answers with
 *              the hot rumors the asker lacks (REPLY).
 *   push-pull  both in one exchange (PUSH_PULL, then REPLY with rumors and feedback).
 *
 * Stop rules (§1.4, variations 1 and 2, with feedback): a contact is useless for a rumor when
 * the peer already had it; stop=counter loses interest after `counter` useless contacts,
 * stop=coin with probability 1/counter after each, stop=never not at all. theory.h explains
 * the residue this leaves and what dsim prints beside it.
 *
 * Anti-entropy (antientropy.c) runs beside rumor mongering when its period is set, and
 * whatever it teaches a member becomes hot there, so it re-kindles rumors that died (§1.5).
 */
#include "algorithms/gossip/gossip_internal.h"

#include <math.h>
#include <string.h>

#include "algorithms/gossip/theory.h"

/* ---- parameters ---------------------------------------------------------- */

static const DsimParam gossip_params[] = {
    { .name = "fanout", .type = DSIM_PARAM_INT, .def = "3",
      .help = "k: peers each member contacts per period",
      .offset = offsetof(GossipConfig, fanout), .min = 1, .max = 64 },
    { .name = "period", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "length of a gossip round (0 is taken as 1ms)",
      .offset = offsetof(GossipConfig, period) },
    { .name = "mode", .type = DSIM_PARAM_CHOICE, .def = "push",
      .help = "what a contact does: push hot rumors, pull them, or both (Demers §1.4)",
      .offset = offsetof(GossipConfig, mode), .choices = "push|pull|push-pull" },
    { .name = "stop", .type = DSIM_PARAM_CHOICE, .def = "never",
      .help = "when a member loses interest in a rumor: never, after `counter` useless "
              "contacts, or with probability 1/counter per useless contact (Demers §1.4)",
      .offset = offsetof(GossipConfig, stop), .choices = "never|counter|coin" },
    { .name = "counter", .type = DSIM_PARAM_INT, .def = "2",
      .help = "c, the stop rule's parameter (Demers' k)",
      .offset = offsetof(GossipConfig, counter), .min = 1, .max = 255 },
    { .name = "rumors", .type = DSIM_PARAM_INT, .def = "1",
      .help = "updates injected, numbered 1..rumors",
      .offset = offsetof(GossipConfig, rumors), .min = 1, .max = 1000000 },
    { .name = "keys", .type = DSIM_PARAM_INT, .def = "0",
      .help = "distinct keys the updates write, round robin; 0 = one key per update (at most 64)",
      .offset = offsetof(GossipConfig, keys), .min = 0, .max = GOSSIP_MAX_KEYS },
    { .name = "inject_every", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "time between injections, by successive members from the origin; 0 = all at "
              "time 0 by the origin",
      .offset = offsetof(GossipConfig, inject_every) },
    { .name = "origin", .type = DSIM_PARAM_INT, .def = "1",
      .help = "member number that injects update 1",
      .offset = offsetof(GossipConfig, origin), .min = 1, .max = 10000000 },
    { .name = "topology", .type = DSIM_PARAM_CHOICE, .def = "complete",
      .help = "whom a member may contact (see degree, topology_seed, adjacency)",
      .offset = offsetof(GossipConfig, topology),
      .choices = "complete|random-regular|ring-chords|explicit" },
    { .name = "degree", .type = DSIM_PARAM_INT, .def = "4",
      .help = "neighbours per member in random-regular and ring-chords",
      .offset = offsetof(GossipConfig, degree), .min = 1, .max = 128 },
    { .name = "topology_seed", .type = DSIM_PARAM_INT, .def = "1",
      .help = "which random-regular graph (the same for every run seed)",
      .offset = offsetof(GossipConfig, topology_seed), .min = 0, .max = INT64_MAX },
    { .name = "adjacency", .type = DSIM_PARAM_STRING, .def = "",
      .help = "explicit topology: \"1:2,3;2:4\" makes 1-2, 1-3 and 2-4 neighbours",
      .offset = offsetof(GossipConfig, adjacency) },
    { .name = "anti_entropy", .type = DSIM_PARAM_TIME, .def = "0s",
      .help = "anti-entropy period: each member reconciles with one random peer (Demers §1.3); "
              "0 = off",
      .offset = offsetof(GossipConfig, anti_entropy) },
    { .name = "ae_mode", .type = DSIM_PARAM_CHOICE, .def = "push-pull",
      .help = "anti-entropy exchange: push, pull or push-pull of version vectors",
      .offset = offsetof(GossipConfig, ae_mode), .choices = "push|pull|push-pull" },
    { .name = "rounds", .type = DSIM_PARAM_CHOICE, .def = "sync",
      .help = "sync: pass on only what was known when the round began (the analyses' model); "
              "async: everything known at the tick",
      .offset = offsetof(GossipConfig, rounds), .choices = "sync|async" },
    { .name = "persist", .type = DSIM_PARAM_BOOL, .def = "false",
      .help = "keep the database durable, so a restarted member remembers what it knew",
      .offset = offsetof(GossipConfig, persist) },
    { NULL },
};

/* ---- updates: which, where, when ------------------------------------------- */

static uint32_t n_keys_of(const GossipConfig *cfg)
{
    int64_t keys = cfg->keys > 0 ? cfg->keys : cfg->rumors;
    return (uint32_t) (keys < GOSSIP_MAX_KEYS ? keys : GOSSIP_MAX_KEYS);
}

/* Update j (1-based) writes key ((j-1) mod keys) + 1 at version ((j-1) div keys) + 1. */
static GossipUpdate update_of(const GossipConfig *cfg, uint64_t j)
{
    uint32_t keys = n_keys_of(cfg);
    GossipUpdate u = { .key = (uint32_t) ((j - 1) % keys) + 1,
                       .version = (uint32_t) ((j - 1) / keys) + 1 };
    return u;
}

static DsimTime inject_time(const GossipConfig *cfg, uint64_t j)
{
    if (cfg->inject_every > 0 && (int64_t) (j - 1) > (DSIM_TIME_NEVER - 1) / cfg->inject_every)
        return DSIM_TIME_NEVER;
    return (DsimTime) (j - 1) * cfg->inject_every;
}

/* The member index that injects update j, or n when the origin names no member. */
static unsigned injector_of(const GossipConfig *cfg, unsigned n, uint64_t j)
{
    if (cfg->origin > n)
        return n;
    if (cfg->inject_every == 0)
        return (unsigned) cfg->origin - 1;
    return (unsigned) (((uint64_t) cfg->origin - 1 + (j - 1)) % n);
}

/* ---- rounds and ticks -------------------------------------------------------- */

DsimTime gossip_period(const GossipConfig *cfg)
{
    return cfg->period > 0 ? cfg->period : DSIM_MS(1);
}

uint32_t gossip_round(const GossipConfig *cfg, DsimTime now)
{
    return (uint32_t) (now / gossip_period(cfg));
}

DsimTime gossip_next_tick(const GossipNode *g, DsimTime p, DsimTime now, bool next_round)
{
    DsimTime offset = (DsimTime) (((unsigned __int128) p * g->phase_frac) >> 32);
    DsimTime at = (now / p) * p + offset;
    if (next_round || at <= now)
        at += p;
    return at - now;
}

static void start_ticking(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg)
{
    if (g->ticking)
        return;
    g->ticking = 1;
    /* In sync rounds a rumor learned now is passed on from the next round only. */
    bool next_round = cfg->rounds == GOSSIP_ROUNDS_SYNC && cfg->mode == GOSSIP_MODE_PUSH;
    dsim_timer_set(ctx, gossip_next_tick(g, gossip_period(cfg), dsim_now(ctx), next_round),
                   GOSSIP_TIMER_ROUND, 0);
}

/* ---- peers --------------------------------------------------------------------- */

GossipTopology gossip_topology_of(const DsimCtx *ctx, const GossipConfig *cfg)
{
    GossipTopology t = {
        .kind = cfg->topology, .n = dsim_group_size(ctx), .degree = (unsigned) cfg->degree,
        .seed = (uint64_t) cfg->topology_seed, .adjacency = cfg->adjacency,
    };
    return t;
}

static bool contains(const uint32_t *v, unsigned n, uint32_t x)
{
    for (unsigned i = 0; i < n; i++) {
        if (v[i] == x)
            return true;
    }
    return false;
}

/* Complete graph: k distinct draws by rejection, which is cheap while k is far below n;
 * when the candidates are no more than k, all of them. Sparse graphs: a partial
 * Fisher-Yates shuffle of the neighbour list. Either way the draws come from the member's
 * own stream, in an order fixed by the member's state alone. */
unsigned gossip_pick_peers(DsimCtx *ctx, const GossipConfig *cfg, uint32_t exclude, unsigned k,
                           uint32_t *out)
{
    GossipTopology t = gossip_topology_of(ctx, cfg);
    unsigned self = dsim_self_index(ctx);
    if (cfg->topology == GOSSIP_TOPOLOGY_COMPLETE) {
        unsigned n = t.n;
        if (n <= 1)
            return 0;
        bool skip = exclude < n && exclude != self && n > 2;
        unsigned usable = n - 1 - (skip ? 1 : 0);
        unsigned count = 0;
        if (usable <= k) {
            for (unsigned m = 0; m < n; m++) {
                if (m != self && !(skip && m == exclude))
                    out[count++] = m;
            }
            return count;
        }
        while (count < k) {
            unsigned m = (unsigned) dsim_rand_below(ctx, n - 1);
            m += m >= self; /* slot -> member, skipping self */
            if ((skip && m == exclude) || contains(out, count, m))
                continue;
            out[count++] = m;
        }
        return count;
    }
    uint32_t cand[GOSSIP_TOPOLOGY_MAX_DEGREE];
    unsigned nc = gossip_topology_list(&t, self, cand);
    if (nc > 1) {
        for (unsigned i = 0; i < nc; i++) {
            if (cand[i] == exclude) {
                memmove(cand + i, cand + i + 1, (nc - i - 1) * sizeof cand[0]);
                nc--;
                break;
            }
        }
    }
    unsigned take = nc < k ? nc : k;
    for (unsigned i = 0; i < take; i++) {
        unsigned j = i + (unsigned) dsim_rand_below(ctx, nc - i);
        uint32_t tmp = cand[i];
        cand[i] = cand[j];
        cand[j] = tmp;
        out[i] = cand[i];
    }
    return take;
}

/* The member to avoid: the source of the hot rumor learned last (with several keys, the
 * lowest such key), since it certainly knows that rumor. */
static uint32_t avoid_of(const GossipNode *g)
{
    const GossipEntry *e = gossip_entries_const(g);
    uint32_t who = GOSSIP_NOBODY, best = 0;
    bool found = false;
    for (uint32_t i = 0; i < g->n_keys; i++) {
        if (e[i].phase == GOSSIP_HOT && (!found || e[i].learned_round > best)) {
            who = e[i].source;
            best = e[i].learned_round;
            found = true;
        }
    }
    return who;
}

/* ---- learning and losing interest ------------------------------------------------- */

static void sample_informed(DsimCtx *ctx, const GossipConfig *cfg, uint32_t key,
                            uint32_t from_version, uint32_t to_version)
{
    uint32_t keys = n_keys_of(cfg);
    for (uint32_t v = from_version + 1; v <= to_version; v++) {
        uint64_t j = (uint64_t) (v - 1) * keys + key;
        if (j > (uint64_t) cfg->rumors)
            break;
        DsimTime at = inject_time(cfg, j);
        dsim_metric(ctx, "informed_at_seconds", (double) (dsim_now(ctx) - at) / 1e9);
    }
}

bool gossip_learn(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg, uint32_t key,
                  uint32_t version, uint32_t source)
{
    g_assert(key >= 1 && key <= g->n_keys && version >= 1);
    GossipEntry *e = &gossip_entries(g)[key - 1];
    if (version <= e->version) {
        if (e->duplicates < UINT16_MAX)
            e->duplicates++;
        return false;
    }
    uint32_t old = e->version;
    if (cfg->persist) {
        /* Durable before it counts as learned, so no crash falls between the two. */
        dsim_persist(ctx, key, &version, sizeof version);
        dsim_sync(ctx);
    }
    if (e->phase != GOSSIP_HOT)
        g->n_hot++;
    *e = (GossipEntry) { .version = version, .learned_round = gossip_round(cfg, dsim_now(ctx)),
                         .source = source, .phase = GOSSIP_HOT };
    if (dsim_logging(ctx))
        dsim_log(ctx, "learn key %" PRIu32 " version %" PRIu32 " from %s", key, version,
                 source == GOSSIP_NOBODY ? "itself" : dsim_name(ctx, dsim_group_member(ctx, source)));
    sample_informed(ctx, cfg, key, old, version);
    start_ticking(g, ctx, cfg);
    return true;
}

/* "lose interest" (§1.4): the rumor goes cold. The member's duplicate count for it is the
 * "duplicates" figure, one sample per member and rumor. */
static void lose_interest(GossipNode *g, DsimCtx *ctx, GossipEntry *e, uint32_t key)
{
    e->phase = GOSSIP_COLD;
    g->n_hot--;
    dsim_metric(ctx, "duplicates", e->duplicates);
    if (dsim_logging(ctx))
        dsim_log(ctx, "lose interest in key %" PRIu32 " version %" PRIu32 " after %u useless "
                 "contacts", key, e->version, (unsigned) e->useless + 1);
}

/* A contact was useless for hot rumor @e: the peer already had it. §1.4, "Counter vs.
 * Coin": "Instead of losing interest with probability 1/k we can use a counter, so that we
 * lose interest only after k unnecessary contacts." */
static void useless_contact(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg,
                            GossipEntry *e, uint32_t key)
{
    switch ((GossipStop) cfg->stop) {
    case GOSSIP_STOP_NEVER:
        return;
    case GOSSIP_STOP_COUNTER:
        if (e->useless + 1 >= cfg->counter)
            lose_interest(g, ctx, e, key);
        else
            e->useless++;
        return;
    case GOSSIP_STOP_COIN:
        if (dsim_rand_below(ctx, (uint64_t) cfg->counter) == 0)
            lose_interest(g, ctx, e, key);
        else if (e->useless < UINT8_MAX)
            e->useless++;
        return;
    }
    g_assert_not_reached();
}

/* ---- message bodies --------------------------------------------------------------- */

void gossip_out_digest(GossipOut *out, const GossipNode *g)
{
    const GossipEntry *e = gossip_entries_const(g);
    for (uint32_t i = 0; i < g->n_keys; i++) {
        if (e[i].version > 0)
            out->digest[out->n_digest++] = (GossipUpdate) { .key = i + 1, .version = e[i].version };
    }
}

bool gossip_out_empty(const GossipOut *out)
{
    return out->n_updates + out->n_known + out->n_digest == 0;
}

void gossip_out_send(DsimCtx *ctx, const GossipOut *out, unsigned to, uint16_t type)
{
    union {
        GossipBody hdr;
        uint8_t    bytes[GOSSIP_BODY_MAX];
    } buf;
    buf.hdr = (GossipBody) { .n_updates = (uint16_t) out->n_updates,
                             .n_known = (uint16_t) out->n_known,
                             .n_digest = (uint16_t) out->n_digest, .ae_mode = out->ae_mode };
    GossipUpdate *items = (GossipUpdate *) (void *) (buf.bytes + sizeof(GossipBody));
    memcpy(items, out->updates, out->n_updates * sizeof(GossipUpdate));
    items += out->n_updates;
    memcpy(items, out->known, out->n_known * sizeof(GossipUpdate));
    items += out->n_known;
    memcpy(items, out->digest, out->n_digest * sizeof(GossipUpdate));
    size_t size = sizeof(GossipBody)
                  + (out->n_updates + out->n_known + out->n_digest) * sizeof(GossipUpdate);
    dsim_send(ctx, dsim_group_member(ctx, to), type, buf.bytes, size);
}

const GossipBody *gossip_body(const DsimMsg *msg, uint32_t n_keys)
{
    const GossipBody *b = DSIM_MSG_BODY(msg, GossipBody);
    unsigned items = (unsigned) b->n_updates + b->n_known + b->n_digest;
    g_assert(msg->size == sizeof(GossipBody) + items * sizeof(GossipUpdate));
    for (unsigned i = 0; i < items; i++)
        g_assert(b->items[i].key >= 1 && b->items[i].key <= n_keys && b->items[i].version >= 1);
    return b;
}

/* The hot rumors @g may pass on now: in sync rounds, those learned before this round. */
static void add_hot(GossipOut *out, const GossipNode *g, const GossipConfig *cfg, uint32_t round)
{
    const GossipEntry *e = gossip_entries_const(g);
    for (uint32_t i = 0; i < g->n_keys; i++) {
        if (e[i].phase == GOSSIP_HOT
            && (cfg->rounds == GOSSIP_ROUNDS_ASYNC || e[i].learned_round < round))
            out->updates[out->n_updates++] = (GossipUpdate) { .key = i + 1, .version = e[i].version };
    }
}

/* ---- the round: each cycle, an infective member contacts random peers (§1.4) -------- */

static void on_round(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg)
{
    uint32_t round = gossip_round(cfg, dsim_now(ctx));
    GossipOut out = { 0 };
    uint16_t type;

    if (cfg->mode != GOSSIP_MODE_PULL)
        add_hot(&out, g, cfg, round);
    switch ((GossipMode) cfg->mode) {
    case GOSSIP_MODE_PUSH:
        type = GOSSIP_MSG_PUSH;
        break;
    case GOSSIP_MODE_PULL:
        type = GOSSIP_MSG_PULL;
        gossip_out_digest(&out, g);
        break;
    case GOSSIP_MODE_PUSH_PULL:
        type = GOSSIP_MSG_PUSH_PULL;
        gossip_out_digest(&out, g);
        break;
    default:
        g_assert_not_reached();
    }
    /* Push has nothing to say without a rumor; pull asks even with an empty digest: an
     * uninformed member is exactly the one that must ask. */
    if (out.n_updates > 0 || cfg->mode != GOSSIP_MODE_PUSH) {
        uint32_t peers[64];
        unsigned n = gossip_pick_peers(ctx, cfg, avoid_of(g), (unsigned) cfg->fanout, peers);
        for (unsigned i = 0; i < n; i++)
            gossip_out_send(ctx, &out, peers[i], type);
    }
    if (cfg->mode == GOSSIP_MODE_PUSH && g->n_hot == 0) {
        g->ticking = 0; /* a push member with nothing hot falls silent until it learns more */
        return;
    }
    dsim_timer_set(ctx, gossip_period(cfg), GOSSIP_TIMER_ROUND, 0);
}

/* ---- contacts ------------------------------------------------------------------- */

/* Learns @n updates from member @from; those it already had go to out->known (feedback). */
static void take_updates(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg, unsigned from,
                         const GossipUpdate *u, unsigned n, GossipOut *out)
{
    for (unsigned i = 0; i < n; i++) {
        if (!gossip_learn(g, ctx, cfg, u[i].key, u[i].version, from) && out != NULL)
            out->known[out->n_known++] = u[i];
    }
}

/* The asked side of pull (§1.4, "Push vs. Pull"): answer with the hot rumors the asker's
 * digest lacks; for each hot rumor the asker already had, the contact was useless. */
static void answer_pull(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg,
                        const GossipUpdate *digest, unsigned n_digest, GossipOut *out)
{
    uint32_t round = gossip_round(cfg, dsim_now(ctx));
    uint32_t theirs[GOSSIP_MAX_KEYS] = { 0 };
    for (unsigned i = 0; i < n_digest; i++)
        theirs[digest[i].key - 1] = digest[i].version;
    GossipEntry *e = gossip_entries(g);
    for (uint32_t i = 0; i < g->n_keys; i++) {
        if (e[i].phase != GOSSIP_HOT
            || (cfg->rounds == GOSSIP_ROUNDS_SYNC && e[i].learned_round >= round))
            continue;
        if (theirs[i] < e[i].version)
            out->updates[out->n_updates++] = (GossipUpdate) { .key = i + 1, .version = e[i].version };
        else
            useless_contact(g, ctx, cfg, &e[i], i + 1);
    }
}

/* Feedback on our pushes: the peer already had these. */
static void take_feedback(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg,
                          const GossipUpdate *known, unsigned n)
{
    GossipEntry *e = gossip_entries(g);
    for (unsigned i = 0; i < n; i++) {
        GossipEntry *x = &e[known[i].key - 1];
        if (x->phase == GOSSIP_HOT && x->version == known[i].version)
            useless_contact(g, ctx, cfg, x, known[i].key);
    }
}

static void gossip_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    GossipNode *g = state;
    const GossipConfig *cfg = dsim_config(ctx);
    unsigned from = msg->from - dsim_group_member(ctx, 0);
    g_assert(from < dsim_group_size(ctx));

    if (msg->type == GOSSIP_MSG_AE || msg->type == GOSSIP_MSG_AE_REPLY) {
        gossip_ae_on_message(g, ctx, cfg, from, msg);
        return;
    }
    const GossipBody *b = gossip_body(msg, g->n_keys);
    const GossipUpdate *updates = b->items;
    const GossipUpdate *known = updates + b->n_updates;
    const GossipUpdate *digest = known + b->n_known;
    bool feedback = cfg->stop != GOSSIP_STOP_NEVER;
    GossipOut out = { 0 };

    switch (msg->type) {
    case GOSSIP_MSG_PUSH:
        take_updates(g, ctx, cfg, from, updates, b->n_updates, feedback ? &out : NULL);
        break;
    case GOSSIP_MSG_PULL:
        answer_pull(g, ctx, cfg, digest, b->n_digest, &out);
        break;
    case GOSSIP_MSG_PUSH_PULL:
        /* answer against the asker's digest before learning its rumors, or we would count
         * what it just told us as useless for ourselves */
        answer_pull(g, ctx, cfg, digest, b->n_digest, &out);
        take_updates(g, ctx, cfg, from, updates, b->n_updates, feedback ? &out : NULL);
        break;
    case GOSSIP_MSG_REPLY:
        take_updates(g, ctx, cfg, from, updates, b->n_updates, NULL);
        take_feedback(g, ctx, cfg, known, b->n_known);
        return;
    default:
        g_assert_not_reached();
    }
    if (!gossip_out_empty(&out))
        gossip_out_send(ctx, &out, from, GOSSIP_MSG_REPLY);
}

/* ---- starting, injecting, restarting ---------------------------------------------- */

static void inject(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg, uint64_t j)
{
    GossipUpdate u = update_of(cfg, j);
    if (dsim_logging(ctx))
        dsim_log(ctx, "inject update %" PRIu64 ": key %" PRIu32 " version %" PRIu32, j, u.key,
                 u.version);
    gossip_learn(g, ctx, cfg, u.key, u.version, GOSSIP_NOBODY);
}

/* Injections of this member: now when due (or overdue after a restart, unless a newer
 * version already arrived), later by timer. */
static void schedule_injections(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg)
{
    unsigned n = dsim_group_size(ctx), self = dsim_self_index(ctx);
    uint64_t first, step;
    if (cfg->origin > n)
        return; /* converged reports it */
    if (cfg->inject_every == 0) {
        if (self != cfg->origin - 1)
            return;
        first = 1;
        step = 1;
    } else {
        first = (self + n - ((uint64_t) cfg->origin - 1) % n) % n + 1;
        step = n;
    }
    for (uint64_t j = first; j <= (uint64_t) cfg->rumors; j += step) {
        g_assert(injector_of(cfg, n, j) == self);
        DsimTime at = inject_time(cfg, j);
        if (at == DSIM_TIME_NEVER)
            break;
        if (at > dsim_now(ctx)) {
            dsim_timer_set(ctx, at - dsim_now(ctx), GOSSIP_TIMER_INJECT, j);
            continue;
        }
        GossipUpdate u = update_of(cfg, j);
        if (gossip_entries(g)[u.key - 1].version < u.version)
            inject(g, ctx, cfg, j);
    }
}

/* Predictions for this group, once, by the origin (theory.h), for the models the analyses
 * cover: a complete graph, and sync rounds for the stop rules. predicted_rounds compares with
 * the measured rounds floor(max informed_at_seconds / period); predicted_rounds_to_die with
 * the round of the last lose-interest, floor(max time of a duplicates sample / period). */
static void sample_predictions(DsimCtx *ctx, const GossipConfig *cfg)
{
    double n = dsim_group_size(ctx), k = (double) cfg->fanout;
    if (cfg->topology != GOSSIP_TOPOLOGY_COMPLETE)
        return;
    if (cfg->stop == GOSSIP_STOP_NEVER) {
        if (cfg->rounds == GOSSIP_ROUNDS_SYNC) {
            dsim_metric(ctx, "predicted_rounds", gossip_theory_rounds(cfg->mode, n, k));
            if (cfg->mode == GOSSIP_MODE_PUSH) /* for pull and push-pull it is the same */
                dsim_metric(ctx, "predicted_rounds_meanfield",
                            gossip_theory_recurrence_rounds(cfg->mode, n, k));
        } else if (cfg->mode == GOSSIP_MODE_PUSH) {
            dsim_metric(ctx, "predicted_rounds", gossip_theory_async_push_rounds(n, k));
        }
    } else if (cfg->rounds == GOSSIP_ROUNDS_SYNC) {
        GossipTheoryStop p = gossip_theory_stop_mode(cfg->mode, cfg->stop, n, (unsigned) k,
                                                     (unsigned) cfg->counter);
        dsim_metric(ctx, "predicted_residue", p.residue);
        dsim_metric(ctx, "predicted_traffic", p.traffic);
        dsim_metric(ctx, "predicted_rounds_to_die", p.rounds);
    }
}

static void start(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg)
{
    g->n_keys = n_keys_of(cfg);
    if (g->n_keys > 1)
        g->more = g_new0(GossipEntry, g->n_keys);
    g->phase_frac = (uint32_t) dsim_rand_below(ctx, UINT64_C(1) << 32);
    g->up = 1;
}

static void gossip_init(void *state, DsimCtx *ctx)
{
    GossipNode *g = state;
    const GossipConfig *cfg = dsim_config(ctx);

    start(g, ctx, cfg);
    if ((int64_t) dsim_self_index(ctx) + 1 == cfg->origin)
        sample_predictions(ctx, cfg);
    if (cfg->mode != GOSSIP_MODE_PUSH)
        start_ticking(g, ctx, cfg);
    gossip_ae_start(g, ctx, cfg);
    schedule_injections(g, ctx, cfg);
}

/* After a restart: with persist the database comes back from storage, and what it holds is
 * hot again (the member cannot know whether it had finished spreading it). Then ticks and
 * injections resume; an injection missed while down happens now. */
static void gossip_on_recover(void *state, DsimCtx *ctx)
{
    GossipNode *g = state;
    const GossipConfig *cfg = dsim_config(ctx);

    start(g, ctx, cfg);
    GossipEntry *e = gossip_entries(g);
    for (uint32_t key = 1; cfg->persist && key <= g->n_keys; key++) {
        uint32_t version = 0;
        if (dsim_load(ctx, key, &version, sizeof version, NULL) && version > 0) {
            e[key - 1] = (GossipEntry) { .version = version, .source = GOSSIP_NOBODY,
                                         .learned_round = gossip_round(cfg, dsim_now(ctx)),
                                         .phase = GOSSIP_HOT };
            g->n_hot++;
        }
    }
    if (g->n_hot > 0 || cfg->mode != GOSSIP_MODE_PUSH)
        start_ticking(g, ctx, cfg);
    gossip_ae_start(g, ctx, cfg);
    schedule_injections(g, ctx, cfg);
}

static void gossip_fini(void *state)
{
    GossipNode *g = state;
    g_clear_pointer(&g->more, g_free);
}

static void gossip_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    GossipNode *g = state;
    const GossipConfig *cfg = dsim_config(ctx);

    switch (kind) {
    case GOSSIP_TIMER_ROUND:
        on_round(g, ctx, cfg);
        return;
    case GOSSIP_TIMER_INJECT: {
        g_assert(arg >= 1 && arg <= (uint64_t) cfg->rumors);
        GossipUpdate u = update_of(cfg, arg);
        if (gossip_entries(g)[u.key - 1].version < u.version)
            inject(g, ctx, cfg, arg);
        return;
    }
    case GOSSIP_TIMER_AE:
        gossip_ae_on_tick(g, ctx, cfg);
        return;
    default:
        g_assert_not_reached();
    }
}

/* ---- describe, print ----------------------------------------------------------- */

/* applied = the updates known (a version v of a key stands for its versions 1..v); the digest
 * walks (key, version) in key order, so members that know the same updates agree whatever
 * order they learned them in: <converge> compares exactly what anti-entropy reconciles. */
static void gossip_describe(const void *state, DsimView *view)
{
    const GossipNode *g = state;
    const GossipEntry *e = gossip_entries_const(g);
    uint64_t applied = 0, digest = 0;
    uint32_t known = 0;

    for (uint32_t i = 0; i < g->n_keys; i++) {
        if (e[i].version == 0)
            continue;
        GossipUpdate u = { .key = i + 1, .version = e[i].version };
        applied += u.version;
        digest = dsim_digest_add(digest, &u, sizeof u);
        known++;
    }
    view->role = DSIM_ROLE_NONE;
    view->applied = applied;
    view->applied_digest = digest;
    g_snprintf(view->text, sizeof view->text, "knows %" PRIu32 "/%" PRIu32 " keys, %" PRIu32 " hot",
               known, g->n_keys, g->n_hot);
}

static void print_list(GString *out, const char *label, const GossipUpdate *u, unsigned n)
{
    if (n == 0)
        return;
    g_string_append_printf(out, " %s", label);
    for (unsigned i = 0; i < n; i++)
        g_string_append_printf(out, "%sk%" PRIu32 "v%" PRIu32, i == 0 ? "" : ",", u[i].key,
                               u[i].version);
}

static void gossip_print_msg(const DsimMsg *msg, GString *out)
{
    static const char *const names[] = { "?", "Push", "Pull", "PushPull", "Reply", "AE", "AEReply" };
    static const char *const modes[] = { "push", "pull", "push-pull" };
    if (msg->type < 1 || msg->type > GOSSIP_MSG_AE_REPLY || msg->size < sizeof(GossipBody)) {
        g_string_append_printf(out, "gossip type=%u?", (unsigned) msg->type);
        return;
    }
    const GossipBody *b = msg->body;
    g_string_append(out, names[msg->type]);
    if (msg->type == GOSSIP_MSG_AE && b->ae_mode <= GOSSIP_MODE_PUSH_PULL)
        g_string_append_printf(out, " %s", modes[b->ae_mode]);
    print_list(out, "updates=", b->items, b->n_updates);
    print_list(out, "known=", b->items + b->n_updates, b->n_known);
    print_list(out, "digest=", b->items + b->n_updates + b->n_known, b->n_digest);
}

/* ---- invariants -------------------------------------------------------------------- */

/* Highest version of each key each member ever held, for no-rollback: a crash zeroes the
 * member's state, so its history lives here. */
typedef struct {
    unsigned  n, keys;
    uint32_t *seen; /* n * keys */
} VersionHistory;

static void history_free(void *scratch)
{
    VersionHistory *h = scratch;
    if (h == NULL)
        return;
    g_free(h->seen);
    g_free(h);
}

/* "no-rollback": a member's version of a key never decreases, even across a crash. With
 * persist=false a restarted member has forgotten its database, and this fails: the replica
 * went back in time. O(keys) per event of the member, O(n * keys) after a fault. */
static bool check_no_rollback(const DsimGroupView *g, GString *why)
{
    const GossipConfig *cfg = g->config;
    VersionHistory *h = *g->scratch;
    if (h == NULL) {
        h = g_new0(VersionHistory, 1);
        h->n = g->n;
        h->keys = n_keys_of(cfg);
        h->seen = g_new0(uint32_t, (size_t) h->n * h->keys);
        *g->scratch = h;
    }
    unsigned lo = g->last < g->n ? g->last : 0, hi = g->last < g->n ? g->last + 1 : g->n;
    for (unsigned i = lo; i < hi; i++) {
        const GossipNode *s = g->state[i];
        if (g->status[i] == DSIM_NODE_CRASHED || !s->up)
            continue;
        const GossipEntry *e = gossip_entries_const(s);
        uint32_t *seen = h->seen + (size_t) i * h->keys;
        for (uint32_t k = 0; k < h->keys && k < s->n_keys; k++) {
            if (e[k].version < seen[k]) {
                g_string_printf(why, "%s went back from version %" PRIu32 " to %" PRIu32
                                " of key %" PRIu32 " (it forgot an update in a crash; "
                                "persist=true keeps the database)",
                                g->name[i], seen[k], e[k].version, k + 1);
                return false;
            }
            seen[k] = e[k].version;
        }
    }
    return true;
}

static uint32_t component_of(const DsimGroupView *g, unsigned i)
{
    if (g->component != NULL)
        return g->component[i];
    return g->status[i] == DSIM_NODE_UP ? 0 : DSIM_COMPONENT_NONE;
}

/* "converged" (AT_END): within each set of live members that can still talk (g->component),
 * every member knows, for every key, the newest version some member of that set knows.
 * When rumor mongering stopped without anti-entropy, this fails with the residue: the
 * fraction of members that never heard, Demers' s, beside what theory.h predicts. */
static bool check_converged(const DsimGroupView *g, GString *why)
{
    const GossipConfig *cfg = g->config;
    GossipTopology topo = { .kind = cfg->topology, .n = g->n, .adjacency = cfg->adjacency };
    if (!gossip_topology_valid(&topo, why))
        return false;
    if (cfg->origin > g->n) {
        g_string_printf(why, "origin=%" PRId64 " names no member of %s, which has %u",
                        cfg->origin, g->group, g->n);
        return false;
    }
    uint32_t keys = n_keys_of(cfg);

    /* newest version per (component, key): components are labelled by world node ids, so
     * a lookup table maps a label to a dense index (lookup only, never iterated) */
    g_autoptr(GHashTable) index = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autofree uint32_t *comp = g_new(uint32_t, g->n);
    unsigned n_comp = 0;
    for (unsigned i = 0; i < g->n; i++) {
        uint32_t c = component_of(g, i);
        comp[i] = UINT32_MAX;
        if (c == DSIM_COMPONENT_NONE)
            continue;
        gpointer found;
        if (g_hash_table_lookup_extended(index, GUINT_TO_POINTER(c), NULL, &found)) {
            comp[i] = GPOINTER_TO_UINT(found);
        } else {
            comp[i] = n_comp;
            g_hash_table_insert(index, GUINT_TO_POINTER(c), GUINT_TO_POINTER(n_comp));
            n_comp++;
        }
    }
    g_autofree uint32_t *newest = g_new0(uint32_t, (size_t) (n_comp > 0 ? n_comp : 1) * keys);
    for (unsigned i = 0; i < g->n; i++) {
        const GossipNode *s = g->state[i];
        if (comp[i] == UINT32_MAX || !s->up)
            continue;
        const GossipEntry *e = gossip_entries_const(s);
        for (uint32_t k = 0; k < keys && k < s->n_keys; k++) {
            uint32_t *x = &newest[(size_t) comp[i] * keys + k];
            if (e[k].version > *x)
                *x = e[k].version;
        }
    }
    unsigned live = 0, behind = 0, first = g->n;
    uint32_t first_key = 0, first_have = 0, first_want = 0;
    for (unsigned i = 0; i < g->n; i++) {
        const GossipNode *s = g->state[i];
        if (comp[i] == UINT32_MAX)
            continue;
        live++;
        const GossipEntry *e = s->up ? gossip_entries_const(s) : NULL;
        for (uint32_t k = 0; k < keys; k++) {
            uint32_t have = e != NULL && k < s->n_keys ? e[k].version : 0;
            uint32_t want = newest[(size_t) comp[i] * keys + k];
            if (have < want) {
                if (first == g->n) {
                    first = i;
                    first_key = k + 1;
                    first_have = have;
                    first_want = want;
                }
                behind++;
                break;
            }
        }
    }
    if (behind == 0)
        return true;
    g_string_printf(why, "%s has version %" PRIu32 " of key %" PRIu32 ", a member it can reach "
                    "has %" PRIu32 "; residue: %u of %u live members (%.4f) are missing an update",
                    g->name[first], first_have, first_key, first_want, behind, live,
                    (double) behind / live);
    if (cfg->stop != GOSSIP_STOP_NEVER && cfg->anti_entropy == 0) {
        g_string_append_printf(why, " (rumors died out: stop=%s, counter=%" PRId64,
                               cfg->stop == GOSSIP_STOP_COUNTER ? "counter" : "coin", cfg->counter);
        if (cfg->rounds == GOSSIP_ROUNDS_SYNC && cfg->topology == GOSSIP_TOPOLOGY_COMPLETE)
            g_string_append_printf(why, "; predicted s = %.4f",
                                   gossip_theory_stop_mode(cfg->mode, cfg->stop, g->n,
                                                           (unsigned) cfg->fanout,
                                                           (unsigned) cfg->counter).residue);
        g_string_append(why, "; anti_entropy makes convergence certain)");
    }
    return false;
}

static const DsimInvariant gossip_invariants[] = {
    { "converged", "at the end, members that can talk know the same newest version of every "
      "key (fails with the residue when rumors die out)",
      DSIM_CHECK_AT_END, check_converged, NULL },
    { "no-rollback", "a member's version of a key never decreases, even across a crash",
      DSIM_CHECK_ALWAYS, check_no_rollback, history_free },
    { NULL },
};

/* ---- the ops table --------------------------------------------------------------- */

const DsimProtocol gossip_protocol = {
    .name = "gossip",
    .summary = "rumor mongering (push, pull, push-pull) with anti-entropy (Demers et al. 1987)",
    .params = gossip_params,
    .invariants = gossip_invariants,
    .config_size = sizeof(GossipConfig),
    .state_size = sizeof(GossipNode),
    .init = gossip_init,
    .fini = gossip_fini,
    .on_message = gossip_on_message,
    .on_timer = gossip_on_timer,
    .on_request = NULL,
    .on_recover = gossip_on_recover,
    .describe = gossip_describe,
    .print_msg = gossip_print_msg,
};
