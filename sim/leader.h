/* leader.h - leadership figures for every group whose protocol is leader_based: when a leader
 * is established, how long the group goes without one, and how long elections take.
 *
 * A group "has a leader" when a live member describes itself as leader and a majority of
 * the group's members are live, connected to it both ways, and in its term (they know of
 * it: Raft followers adopt the
 * term of the leader that contacts them; a Paxos acceptor the ballot round). The figures are
 * recorded as metrics of the run: "election_time_seconds" (from the
 * moment a group lost its leader, e.g. the leader's crash, to the next leader being
 * established), "leaderless_seconds" (each interval without a leader, the initial one
 * included), "first_leader_seconds" (when the first leader was established), and
 * "leader_changes" (a sample of 1 per new leader). Only groups of at most 64 members are
 * tracked; members are described after every event of the group, which costs O(n).
 */
#ifndef DSIM_LEADER_H
#define DSIM_LEADER_H

#include "sim/world.h"

typedef struct DsimLeaders DsimLeaders;

DsimLeaders *dsim_leaders_new(const DsimScenario *sc);
void         dsim_leaders_free(DsimLeaders *l); /* accepts NULL */
/* After each processed event; @node handled it (DSIM_NOBODY: a world event). */
void         dsim_leaders_after_event(DsimLeaders *l, DsimWorld *w, DsimNodeId node);
/* The run ended: a group still without a leader records its open interval. */
void         dsim_leaders_finish(DsimLeaders *l, DsimWorld *w);

#endif /* DSIM_LEADER_H */
