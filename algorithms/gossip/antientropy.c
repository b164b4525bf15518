/* antientropy.c - anti-entropy: periodic pairwise reconciliation of whole databases.
 *
 * Demers et al. 1987 (introduction; analysis in §1.3): every site regularly picks another
 * site at random and the two resolve their differences by exchanging database contents.
 * Here a member sends one random neighbour its version vector (GOSSIP_MSG_AE, the
 * digest: every key it knows with its version) once per anti_entropy period, and the two
 * resolve the difference by ae_mode:
 *
 *   push       the peer takes every newer version from the vector;
 *   pull       the peer answers (AE_REPLY) with every version newer than the vector's;
 *   push-pull  both.
 *
 * §1.3 compares them with the fraction p_i of sites still missing an update after cycle i:
 * pull gives p_{i+1} = p_i^2 and push p_{i+1} = p_i e^{-1} near the end, so pull (and
 * push-pull) finish much faster once most sites know. Because a version names its update,
 * the digest is the data (gossip.h), and an exchange costs one message each way at most.
 *
 * Anti-entropy is an SI epidemic: nobody ever loses interest, so every update reaches every
 * member that stays connected, whatever rumor mongering's stop rule did. An update a member
 * learns this way becomes hot there and is mongered again, which is how §1.5 combines the
 * two: rumor mongering spreads fast and cheaply, and anti-entropy behind it, run far less
 * often, catches what the rumors left behind. A member ticks from init for as long as it
 * lives, at the same phase within its period as its rumor ticks.
 */
#include "algorithms/gossip/gossip_internal.h"

void gossip_ae_start(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg)
{
    if (cfg->anti_entropy <= 0 || g->ae_ticking)
        return;
    g->ae_ticking = 1;
    dsim_timer_set(ctx, gossip_next_tick(g, cfg->anti_entropy, dsim_now(ctx), false),
                   GOSSIP_TIMER_AE, 0);
}

void gossip_ae_on_tick(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg)
{
    uint32_t peer;
    if (gossip_pick_peers(ctx, cfg, GOSSIP_NOBODY, 1, &peer) == 1) {
        GossipOut out = { .ae_mode = (uint16_t) cfg->ae_mode };
        gossip_out_digest(&out, g);
        gossip_out_send(ctx, &out, peer, GOSSIP_MSG_AE);
    }
    dsim_timer_set(ctx, cfg->anti_entropy, GOSSIP_TIMER_AE, 0);
}

/* Takes every version in @u newer than ours. Equal ones are not duplicates: a digest lists
 * everything, and the duplicates figure is about rumors. */
static void merge(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg, unsigned from,
                  const GossipUpdate *u, unsigned n)
{
    const GossipEntry *e = gossip_entries_const(g);
    for (unsigned i = 0; i < n; i++) {
        if (u[i].version > e[u[i].key - 1].version)
            gossip_learn(g, ctx, cfg, u[i].key, u[i].version, from);
    }
}

void gossip_ae_on_message(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg,
                          unsigned from, const DsimMsg *msg)
{
    const GossipBody *b = gossip_body(msg, g->n_keys);
    const GossipUpdate *updates = b->items;
    const GossipUpdate *digest = b->items + b->n_updates + b->n_known;

    if (msg->type == GOSSIP_MSG_AE_REPLY) {
        merge(g, ctx, cfg, from, updates, b->n_updates);
        return;
    }
    g_assert(msg->type == GOSSIP_MSG_AE && b->ae_mode <= GOSSIP_MODE_PUSH_PULL);
    /* The answer is computed against the vector before we merge it, so it holds exactly
     * the versions the initiator lacks. */
    GossipOut out = { 0 };
    if (b->ae_mode != GOSSIP_MODE_PUSH) {
        uint32_t theirs[GOSSIP_MAX_KEYS] = { 0 };
        for (unsigned i = 0; i < b->n_digest; i++)
            theirs[digest[i].key - 1] = digest[i].version;
        const GossipEntry *e = gossip_entries_const(g);
        for (uint32_t k = 0; k < g->n_keys; k++) {
            if (e[k].version > theirs[k])
                out.updates[out.n_updates++] = (GossipUpdate) { .key = k + 1, .version = e[k].version };
        }
    }
    if (b->ae_mode != GOSSIP_MODE_PULL)
        merge(g, ctx, cfg, from, digest, b->n_digest);
    if (out.n_updates > 0)
        gossip_out_send(ctx, &out, from, GOSSIP_MSG_AE_REPLY);
}
