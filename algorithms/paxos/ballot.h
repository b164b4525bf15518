/* ballot.h - Paxos ballots ("proposal numbers"): (round, member) pairs packed in a uint64_t.
 *
 * Paxos Made Simple, §2.2: "Different proposers choose their numbers from disjoint sets of
 * numbers, so two different proposers never issue a proposal with the same number". A ballot
 * is the pair (round, member), where member is the proposer's member number within its group
 * (1-based, so "3.2" is round 3 of member 2, the node "p2"). Packing the round into the high
 * 32 bits and the member into the low 32 makes the pairs' lexicographic order the integers'
 * order: a higher round always wins, and in one round the higher member number does. So
 * ballots are totally ordered, and unique as long as a proposer never reuses a round (it
 * makes each round durable before it uses it).
 *
 * Rounds start at 1, so the ballot 0, PAXOS_BALLOT_NONE, is below every real one: "no
 * promise yet", "nothing accepted".
 */
#ifndef DSIM_PAXOS_BALLOT_H
#define DSIM_PAXOS_BALLOT_H

#include "sim/dsim.h"

typedef uint64_t PaxosBallot;

#define PAXOS_BALLOT_NONE ((PaxosBallot) 0)

/* The ballot of @round (>= 1, < 2^32) for member number @member (>= 1). */
static inline PaxosBallot paxos_ballot_make(uint64_t round, uint32_t member)
{
    g_assert(round >= 1 && round <= UINT32_MAX && member >= 1);
    return (round << 32) | member;
}

static inline uint32_t paxos_ballot_round(PaxosBallot b)
{
    return (uint32_t) (b >> 32);
}

/* The member number (1-based) of the proposer that owns @b; 0 for PAXOS_BALLOT_NONE. */
static inline uint32_t paxos_ballot_member(PaxosBallot b)
{
    return (uint32_t) (b & UINT32_MAX);
}

/* Appends "3.2" (round.member), or "-" for PAXOS_BALLOT_NONE, to @out. */
static inline void paxos_ballot_format(PaxosBallot b, GString *out)
{
    if (b == PAXOS_BALLOT_NONE)
        g_string_append_c(out, '-');
    else
        g_string_append_printf(out, "%" PRIu32 ".%" PRIu32, paxos_ballot_round(b),
                               paxos_ballot_member(b));
}

#endif /* DSIM_PAXOS_BALLOT_H */
