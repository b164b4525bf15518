/* topology.h - who a gossiping member may talk to: the neighbours of a member in a graph.
 *
 * Gossip analyses assume a complete graph: any member may call any other (Demers et al. 1987,
 * §1; Das, Gupta & Motivala 2002, §3). Demers §3 shows what a spatial distribution of
 * partners does, and a student's notes speak of "connected neighbours", so a group can also
 * gossip over a sparse graph. Every graph here is computed, not stored: a member finds its
 * own neighbours from (its index, the group size, the parameters) in O(degree) time with no
 * memory, so a million-node group costs nothing per node, and every member computes the
 * same graph without talking to anyone.
 *
 *  - complete:        every other member (slot s is member s, skipping self).
 *  - random-regular:  the union of degree/2 random Hamiltonian cycles, plus one random
 *                     perfect matching when the degree is odd. Each cycle visits the members
 *                     in the order of a pseudorandom permutation (a keyed Feistel network
 *                     with cycle walking, so pi(i) and its inverse are computed in O(1)
 *                     without a table); a member's neighbours on cycle c are the members
 *                     just before and after it in that order. A union of random Hamiltonian
 *                     cycles is a standard model of random regular graphs, contiguous to the
 *                     uniform model for degree >= 4 (Wormald, "Models of random regular
 *                     graphs", 1999, §4); it is always connected, because one cycle is.
 *                     Rare repeated neighbours (multi-edges) are kept: a slot is a slot.
 *  - ring-chords:     a ring with Chord-like fingers: member i's neighbours are i +- 2^j
 *                     (mod n) for j = 0 .. degree/2 - 1 (fingers past n/2 are dropped), and
 *                     the member opposite, i + n/2, when the degree is odd. degree 2 is a
 *                     plain ring (diameter n/2); degree 2*log2(n) gives Chord's finger table
 *                     in both directions (diameter about log2 n).
 *  - explicit:        an adjacency written in the scenario, "1:2,3;2:4;5:1" (member numbers,
 *                     1-based; "a:b,c" makes a and b, and a and c, neighbours both ways).
 *
 * The functions are pure and allocate nothing; @adjacency is borrowed.
 */
#ifndef DSIM_GOSSIP_TOPOLOGY_H
#define DSIM_GOSSIP_TOPOLOGY_H

#include "sim/dsim.h"

typedef enum {
    GOSSIP_TOPOLOGY_COMPLETE = 0,
    GOSSIP_TOPOLOGY_RANDOM_REGULAR,
    GOSSIP_TOPOLOGY_RING_CHORDS,
    GOSSIP_TOPOLOGY_EXPLICIT,
} GossipTopologyKind;

/* The most neighbours an explicit adjacency can give one member (a 255-byte string cannot
 * name more), and the largest degree of the computed graphs. */
#define GOSSIP_TOPOLOGY_MAX_DEGREE 128

typedef struct {
    int         kind;      /* GossipTopologyKind */
    unsigned    n;         /* group size */
    unsigned    degree;    /* random-regular and ring-chords */
    uint64_t    seed;      /* random-regular: which graph */
    const char *adjacency; /* explicit: the scenario's string (borrowed) */
} GossipTopology;

/* The number of neighbour slots of member @self (0-based). For complete, n - 1. */
unsigned gossip_topology_degree(const GossipTopology *t, unsigned self);

/* The member in slot @slot of @self's neighbours, 0 <= slot < degree. Never @self. */
unsigned gossip_topology_neighbour(const GossipTopology *t, unsigned self, unsigned slot);

/* Writes @self's distinct neighbours into @out (GOSSIP_TOPOLOGY_MAX_DEGREE entries) and
 * returns how many, for every kind but complete (whose list is everyone else). */
unsigned gossip_topology_list(const GossipTopology *t, unsigned self, uint32_t *out);

/* Checks an explicit adjacency against a group of @n members: returns false and writes a
 * sentence into @why when it does not parse or names a member outside 1..n. The other
 * kinds always pass. */
bool gossip_topology_valid(const GossipTopology *t, GString *why);

/* The pseudorandom permutation of 0..n-1 keyed by @key (exposed for tests): */
uint32_t gossip_permute(uint64_t key, uint32_t n, uint32_t x);
uint32_t gossip_unpermute(uint64_t key, uint32_t n, uint32_t y);

#endif /* DSIM_GOSSIP_TOPOLOGY_H */
