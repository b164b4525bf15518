/* gossip_internal.h - what rumor.c and antientropy.c share: rounds and ticks, peer choice,
 * learning an update, and building message bodies. Not for other protocols or tests. */
#ifndef DSIM_GOSSIP_INTERNAL_H
#define DSIM_GOSSIP_INTERNAL_H

#include "algorithms/gossip/gossip.h"
#include "algorithms/gossip/topology.h"

/* The rumor period; 0 in a scenario is taken as 1 ms (a zero period would tick forever at
 * one instant, and a protocol cannot refuse a value). */
DsimTime gossip_period(const GossipConfig *cfg);

/* The round a time falls in: now / period. */
uint32_t gossip_round(const GossipConfig *cfg, DsimTime now);

/* When @g should tick next for a period @p: its slot r*p + phase strictly after @now, or,
 * with @next_round, the slot of the round after now's. Returns a delay from @now. */
DsimTime gossip_next_tick(const GossipNode *g, DsimTime p, DsimTime now, bool next_round);

/* The group's topology as this member sees it. */
GossipTopology gossip_topology_of(const DsimCtx *ctx, const GossipConfig *cfg);

/* Draws up to @k distinct peers (member indices) from this member's neighbours, never
 * @exclude unless it is the only neighbour, into @out. Returns how many (fewer than @k
 * only when the member has fewer neighbours). Draws from the member's stream. */
unsigned gossip_pick_peers(DsimCtx *ctx, const GossipConfig *cfg, uint32_t exclude, unsigned k,
                           uint32_t *out);

/* This member hears of update (@key, @version) from member @source (GOSSIP_NOBODY for its
 * own injection). A newer version is learned: it becomes hot, durable with persist, and
 * samples informed_at_seconds; returns true. An older or equal one counts as a duplicate;
 * returns false. */
bool gossip_learn(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg, uint32_t key,
                  uint32_t version, uint32_t source);

/* A message body under construction: three lists, sent as one GossipBody. */
typedef struct {
    unsigned     n_updates, n_known, n_digest;
    uint16_t     ae_mode;
    GossipUpdate updates[GOSSIP_MAX_KEYS];
    GossipUpdate known[GOSSIP_MAX_KEYS];
    GossipUpdate digest[GOSSIP_MAX_KEYS];
} GossipOut;

/* Appends every key @g knows, with its version, to out->digest. */
void gossip_out_digest(GossipOut *out, const GossipNode *g);
/* True when the out has nothing in it. */
bool gossip_out_empty(const GossipOut *out);
/* Sends @out to member @to as message @type. */
void gossip_out_send(DsimCtx *ctx, const GossipOut *out, unsigned to, uint16_t type);

/* Reads a received body: asserts that its size matches its counts (a bug otherwise) and
 * that every key is within 1..n_keys with a version >= 1. */
const GossipBody *gossip_body(const DsimMsg *msg, uint32_t n_keys);

/* ---- anti-entropy (antientropy.c) ---- */

/* Starts this member's anti-entropy ticks when the anti_entropy period is set. */
void gossip_ae_start(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg);
void gossip_ae_on_tick(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg);
void gossip_ae_on_message(GossipNode *g, DsimCtx *ctx, const GossipConfig *cfg,
                          unsigned from, const DsimMsg *msg);

#endif /* DSIM_GOSSIP_INTERNAL_H */
