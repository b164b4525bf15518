/* multi.h - Multi-Paxos: a replicated log of slots, a stable leader, the KV state machine.
 *
 * Lamport, "Paxos Made Simple" (2001), §3 "Implementing a State Machine": one instance of
 * Paxos per log slot, a distinguished proposer (the leader) that runs phase 1 once for all
 * slots and then phase 2 alone for each new command, and gaps filled with no-ops. Every
 * member is proposer, acceptor and learner. Commands are the clients' bytes (at most
 * DSIM_CMD_MAX, algorithms/kv/kv.h), applied to a KvStore in slot order once chosen.
 *
 * Messages are a fixed header of 64-bit fields, sometimes followed by a flexible array of
 * entries (MultiValue: a command and its length, 136 bytes). All counts and slots are
 * uint64_t so that no struct has padding.
 */
#ifndef DSIM_PAXOS_MULTI_H
#define DSIM_PAXOS_MULTI_H

#include "algorithms/kv/kv.h"
#include "algorithms/paxos/ballot.h"
#include "sim/dsim.h"

extern const DsimProtocol paxos_multi_protocol;

/* The ballot an acceptor reports for a slot it knows to be chosen: above every real ballot,
 * so a new leader always re-proposes a chosen value (its entry is kept in place of the
 * accepted one once the slot is chosen). */
#define MULTI_BALLOT_CHOSEN UINT64_MAX

typedef enum {
    MULTI_MSG_PREPARE = 1,   /* candidate -> all: phase 1a for every slot >= from_slot */
    MULTI_MSG_PROMISE = 2,   /* -> candidate: phase 1b, with the accepted entries */
    MULTI_MSG_ACCEPT = 3,    /* leader -> all: phase 2a for consecutive slots */
    MULTI_MSG_ACCEPTED = 4,  /* -> leader: phase 2b */
    MULTI_MSG_NACK = 5,      /* -> candidate or leader: a higher ballot was promised */
    MULTI_MSG_HEARTBEAT = 6, /* leader -> all: still here; commit index */
    MULTI_MSG_STATUS = 7,    /* -> leader: my commit index (answers heartbeat, decide) */
    MULTI_MSG_DECIDE = 8,    /* leader -> one: these slots are chosen with these commands */
} MultiMsgType;

typedef enum {
    MULTI_TIMER_ELECTION = 1,  /* no word from a leader: stand for election */
    MULTI_TIMER_HEARTBEAT = 2, /* leader: heartbeat and re-send unanswered accepts */
} MultiTimerKind;

typedef struct {
    uint64_t len; /* bytes of cmd used */
    uint8_t  cmd[DSIM_CMD_MAX];
} MultiValue;
G_STATIC_ASSERT(sizeof(MultiValue) == 8 + DSIM_CMD_MAX);

typedef struct {
    uint64_t ballot;
    uint64_t from_slot; /* the candidate knows every slot below it is chosen */
} MultiPrepare;
G_STATIC_ASSERT(sizeof(MultiPrepare) == 16);

typedef struct {
    uint64_t   slot;
    uint64_t   ballot; /* accepted at, or MULTI_BALLOT_CHOSEN */
    MultiValue value;
} MultiPromiseEntry;

/* Phase 1b for all slots at once: the promise, and every slot >= from_slot the acceptor
 * accepted something in (n entries, in slot order). */
typedef struct {
    uint64_t          ballot;
    uint64_t          n;
    MultiPromiseEntry entries[];
} MultiPromise;
G_STATIC_ASSERT(sizeof(MultiPromise) == 16);

/* Phase 2a for the consecutive slots first_slot .. first_slot + n - 1, and the leader's
 * commit index (every slot up to it is chosen). */
typedef struct {
    uint64_t   ballot;
    uint64_t   commit;
    uint64_t   first_slot;
    uint64_t   n;
    MultiValue values[];
} MultiAccept;
G_STATIC_ASSERT(sizeof(MultiAccept) == 32);

/* Phase 2b for the slots of one accept, and the acceptor's own commit index. */
typedef struct {
    uint64_t ballot;
    uint64_t first_slot;
    uint64_t n;
    uint64_t commit;
} MultiAccepted;
G_STATIC_ASSERT(sizeof(MultiAccepted) == 32);

typedef struct {
    uint64_t ballot;   /* the ballot refused */
    uint64_t promised; /* the higher one promised */
} MultiNack;
G_STATIC_ASSERT(sizeof(MultiNack) == 16);

/* Heartbeat (ballot, leader's commit index) and status (ballot, sender's commit index). */
typedef struct {
    uint64_t ballot;
    uint64_t commit;
} MultiCommit;
G_STATIC_ASSERT(sizeof(MultiCommit) == 16);

/* Chosen commands for first_slot .. first_slot + n - 1, to a replica that lacks them. */
typedef struct {
    uint64_t   ballot;
    uint64_t   first_slot;
    uint64_t   n;
    MultiValue values[];
} MultiDecide;
G_STATIC_ASSERT(sizeof(MultiDecide) == 24);

typedef enum {
    MULTI_BUG_NONE = 0,
    MULTI_BUG_APPLY_BEFORE_CHOSEN, /* the leader applies a slot when it proposes it */
} MultiBug;

typedef struct {
    DsimTime      heartbeat;        /* leader's heartbeat period */
    DsimTimeRange election_timeout; /* randomized, per wait */
    DsimTime      lease;            /* 0 = off */
    int64_t       max_batch;        /* slots per accept message */
    int64_t       window;           /* slots proposed and not yet chosen, at most */
    int           bug;              /* MultiBug */
} MultiPaxosConfig;

/* One slot of the log, in RAM and, as the same bytes, in durable storage. ballot is
 * PAXOS_BALLOT_NONE for a gap (nothing accepted), MULTI_BALLOT_CHOSEN once the replica knows
 * the slot is chosen (value is then the chosen command, whatever it had accepted). */
typedef struct {
    uint64_t   ballot;
    MultiValue value;
} MultiSlot;
G_STATIC_ASSERT(sizeof(MultiSlot) == 16 + DSIM_CMD_MAX);

/* The leader's per-slot bookkeeping for the slots it proposed in its current term. */
typedef struct {
    uint64_t request_id;  /* the client request the slot carries, if has_request */
    DsimTime request_at;  /* when on_request took it */
    DsimTime proposed_at; /* when the last accept for it left */
    bool     has_request; /* a client is waiting for this slot */
    bool     replied;
} MultiPending;

/* A client request waiting for room in the window. */
typedef struct {
    uint64_t   request_id;
    DsimTime   at;
    MultiValue value;
} MultiQueued;

typedef enum {
    MULTI_FOLLOWER = 0,
    MULTI_CANDIDATE,
    MULTI_LEADER,
} MultiRole;

/* Per-node state. Invariants: applied <= commit (except under apply-before-chosen, on the
 * leader); every slot 1..commit is chosen; promised >= every ballot in the log except
 * MULTI_BALLOT_CHOSEN; while LEADER, promised == ballot and the node's own log holds its
 * proposal for every slot it proposed in this term. Arrays indexed by slot use slot - 1. */
typedef struct {
    uint32_t    n, self, majority, words; /* group size, member number, n/2+1, ceil(n/64) */
    MultiRole   role;
    uint32_t    max_round;     /* highest round seen in any ballot; durable */
    PaxosBallot promised;      /* durable */
    PaxosBallot ballot;        /* own ballot, while CANDIDATE or LEADER */
    PaxosBallot leader_ballot; /* ballot of the leader last heard, or none */
    DsimTime    last_heard;    /* when (for the lease) */
    GArray     *log;           /* MultiSlot; len is the highest slot with anything */
    uint64_t    commit;        /* commit_index: 1..commit all chosen */
    uint64_t    applied;       /* slots applied to kv */
    KvStore    *kv;
    GArray     *applied_hash;  /* uint64_t per applied slot: digest of its command */
    GString    *result;        /* scratch for kv_store_apply */
    DsimTimerId election_timer, heartbeat_timer;
    /* candidate */
    uint64_t   *promise_bits;  /* [words] */
    uint32_t    promises;
    uint64_t    plan_base;     /* first slot the election is about */
    GArray     *plan;          /* MultiSlot per slot from plan_base: highest-ballot promise */
    /* leader */
    uint64_t    next_slot;
    GArray     *votes;         /* uint64_t, words per slot: who accepted at ballot */
    GArray     *pending;       /* MultiPending per slot */
    GArray     *queue;         /* MultiQueued, oldest first */
    uint64_t   *peer_commit;   /* [n]: last commit index each member reported */
    uint64_t   *decide_sent;   /* [n]: highest slot sent in a decide */
    DsimTime   *decide_at;     /* [n]: when */
    GByteArray *out;           /* reused buffer for variable-size messages */
    /* for slot-agreement: the slots this node accepted in the handler just run */
    uint64_t    accepted_lo, accepted_hi;
} MultiPaxosNode;

#endif /* DSIM_PAXOS_MULTI_H */
