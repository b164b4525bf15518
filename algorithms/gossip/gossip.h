/* gossip.h - epidemic dissemination of updates: rumor mongering with anti-entropy behind it.
 *
 * Demers, Greene, Hauser, Irish, Larson, Shenker, Sturgis, Swinehart & Terry, "Epidemic
 * algorithms for replicated database maintenance", PODC 1987 (section numbers below are that
 * paper's). Every member holds a replica of a small key/value database; an update is a new
 * version of one key, injected at one member. Two epidemics carry it to the others:
 *
 *  - rumor mongering (§1.4, "complex epidemics"; rumor.c): a member that learns an update
 *    finds it "hot" and, once per period, contacts `fanout` random peers to push it, pull it,
 *    or both. Under a stop rule it loses interest after useless contacts (the peer already
 *    knew), which keeps the traffic finite but lets a small residue of members never hear.
 *  - anti-entropy (§1.3, "simple epidemics"; antientropy.c): every period each member
 *    reconciles its whole database with one random peer by comparing version vectors, so
 *    every update eventually reaches every member that stays connected (§1.5: "backup").
 *
 * The analyses (theory.h) count synchronous rounds: what a member learns in round r it
 * passes on from round r+1. Members tick at their own phase within a period (so a million
 * of them do not all send at one instant), and with rounds=sync (the default) a member
 * passes on only what it knew when the current round began: the analyses' model with the
 * sends spread over the round. rounds=async passes on everything at each tick.
 *
 * Peers are drawn from the member's neighbours in the group's topology (topology.h), with
 * dsim_rand_below on the member's own stream, never the member it heard the rumor from when
 * another neighbour exists.
 *
 * Updates: the `rumors` param r numbers them 1..r. Update j sets key ((j-1) mod keys) + 1 to
 * version ((j-1) div keys) + 1, so with keys < rumors later updates supersede earlier ones.
 * With inject_every = 0 the origin injects them all at time 0; otherwise update j is injected
 * at (j-1) * inject_every by member ((origin-1) + (j-1)) mod n, plus one (successive members).
 * A value is implicit: (key, version) names the update, as a timestamp names an entry in
 * Demers' database, so a digest and the data it describes are the same pairs here.
 */
#ifndef DSIM_GOSSIP_H
#define DSIM_GOSSIP_H

#include "sim/dsim.h"

extern const DsimProtocol gossip_protocol;

#define GOSSIP_MAX_KEYS 64 /* keys a member can hold; bounds every message */
#define GOSSIP_NOBODY   UINT32_MAX

typedef enum {
    GOSSIP_MODE_PUSH = 0, /* the hot member sends its rumors */
    GOSSIP_MODE_PULL,     /* every member asks; the asked member answers with its rumors */
    GOSSIP_MODE_PUSH_PULL,
} GossipMode;

typedef enum {
    GOSSIP_STOP_NEVER = 0, /* a rumor stays hot forever: full infection, unbounded traffic */
    GOSSIP_STOP_COUNTER,   /* lose interest after `counter` useless contacts (§1.4) */
    GOSSIP_STOP_COIN,      /* lose interest with probability 1/counter per useless contact */
} GossipStop;

typedef enum {
    GOSSIP_ROUNDS_SYNC = 0, /* pass on only what was known when the round began */
    GOSSIP_ROUNDS_ASYNC,    /* pass on everything known at the tick */
} GossipRounds;

typedef enum {
    GOSSIP_MSG_PUSH      = 1, /* updates: the sender's hot rumors */
    GOSSIP_MSG_PULL      = 2, /* digest: the sender's version of every key it knows */
    GOSSIP_MSG_PUSH_PULL = 3, /* updates and digest */
    GOSSIP_MSG_REPLY     = 4, /* updates the asker lacked; known: feedback on its pushes */
    GOSSIP_MSG_AE        = 5, /* anti-entropy: digest = the sender's whole database */
    GOSSIP_MSG_AE_REPLY  = 6, /* anti-entropy: updates = what the initiator lacked */
} GossipMsgType;

typedef enum {
    GOSSIP_TIMER_ROUND  = 1, /* this member's tick of the rumor period */
    GOSSIP_TIMER_INJECT = 2, /* arg: the update number j to inject now */
    GOSSIP_TIMER_AE     = 3, /* this member's tick of the anti-entropy period */
} GossipTimerKind;

/* One update, or one entry of a digest: key k is at version v. */
typedef struct {
    uint32_t key;     /* 1..keys */
    uint32_t version; /* >= 1 */
} GossipUpdate;
G_STATIC_ASSERT(sizeof(GossipUpdate) == 8);

/* The body of every gossip message: a header, then n_updates updates, n_known feedback
 * entries ("I already had these, at this version or newer": the useless part of a push)
 * and n_digest digest entries, in that order, 8 bytes each. One rumor pushed is 16 bytes. */
typedef struct {
    uint16_t     n_updates;
    uint16_t     n_known;
    uint16_t     n_digest;
    uint16_t     ae_mode; /* GOSSIP_MSG_AE only: the initiator's GossipMode */
    GossipUpdate items[];
} GossipBody;
G_STATIC_ASSERT(sizeof(GossipBody) == 8);

#define GOSSIP_BODY_MAX (sizeof(GossipBody) + 3 * GOSSIP_MAX_KEYS * sizeof(GossipUpdate))

typedef struct {
    int64_t  fanout;        /* k: peers contacted per tick */
    DsimTime period;        /* rumor round */
    int      mode;          /* GossipMode */
    int      stop;          /* GossipStop */
    int64_t  counter;       /* c: the stop rule's parameter (Demers' k) */
    int64_t  rumors;        /* updates injected, numbered 1..rumors */
    int64_t  keys;          /* distinct keys; 0 = as many as rumors (each its own key) */
    DsimTime inject_every;  /* 0: all at time 0 by the origin */
    int64_t  origin;        /* member number, 1-based */
    int      topology;      /* GossipTopologyKind */
    int64_t  degree;        /* random-regular, ring-chords */
    int64_t  topology_seed; /* random-regular: which graph */
    char     adjacency[DSIM_PARAM_STRING_MAX]; /* explicit */
    DsimTime anti_entropy;  /* anti-entropy period; 0 = off */
    int      ae_mode;       /* GossipMode of anti-entropy exchanges */
    int      rounds;        /* GossipRounds */
    bool     persist;       /* the database is durable (restored after a crash) */
} GossipConfig;

typedef enum {
    GOSSIP_UNKNOWN = 0, /* susceptible: has never heard of this key */
    GOSSIP_HOT,         /* infective: spreads its version */
    GOSSIP_COLD,        /* removed: knows its version, no longer spreads it */
} GossipPhase;

/* What a member knows of one key: 16 bytes. Invariant: version == 0 iff phase == UNKNOWN.
 * learned_round, source, useless and duplicates describe the current version only; they
 * start over when a newer version arrives. */
typedef struct {
    uint32_t version;       /* 0 = never heard of the key */
    uint32_t learned_round; /* the round in which this version arrived (sync gating) */
    uint32_t source;        /* member index it came from; GOSSIP_NOBODY when injected here */
    uint16_t duplicates;    /* copies of this version received after the first (saturates) */
    uint8_t  phase;         /* GossipPhase */
    uint8_t  useless;       /* useless contacts so far (the counter rule) */
} GossipEntry;
G_STATIC_ASSERT(sizeof(GossipEntry) == 16);

/* Per-member state: 40 bytes with one key; with more, a heap array of 16 bytes per key.
 * The entries are `more` when it is set, else the single inline `one`. n_hot counts entries
 * in phase HOT. The member ticks (GOSSIP_TIMER_ROUND pending) iff ticking. */
typedef struct {
    GossipEntry *more;       /* keys > 1: n_keys entries, index key - 1 */
    GossipEntry  one;        /* keys == 1 */
    uint32_t     n_keys;
    uint32_t     n_hot;
    uint32_t     phase_frac; /* this life's tick phase within a period, in 2^-32 periods */
    uint8_t      ticking;
    uint8_t      ae_ticking;
    uint8_t      up;         /* init ran (a zeroed state is a crashed member's) */
    uint8_t      pad;
} GossipNode;

/* The entries of @g, index key - 1. */
static inline GossipEntry *gossip_entries(GossipNode *g)
{
    return g->more != NULL ? g->more : &g->one;
}
static inline const GossipEntry *gossip_entries_const(const GossipNode *g)
{
    return g->more != NULL ? g->more : &g->one;
}

#endif /* DSIM_GOSSIP_H */
