/* basic.h - Basic Paxos (single-decree, run for one or more independent instances).
 *
 * Lamport, "Paxos Made Simple" (2001). Members of the group hold the three roles of §2 as the
 * params say: proposers (default member 1), acceptors (default all) and learners (default
 * all; a proposer always learns too, since it must know when to stop). Each instance
 * 1..instances is a separate consensus: proposer k proposes the value k * value_base + i in
 * instance i, so different proposers' values differ and a value tells who proposed it.
 *
 * Messages are flat structs, all fields 64-bit (no padding), one per step of the paper:
 * prepare (P1a), promise (P1b), accept (P2a), accepted (P2b, sent to the learners) and nack,
 * the optional "you have been superseded" answer of §2.5 ("Progress").
 */
#ifndef DSIM_PAXOS_BASIC_H
#define DSIM_PAXOS_BASIC_H

#include "algorithms/paxos/ballot.h"
#include "sim/dsim.h"

extern const DsimProtocol paxos_basic_protocol;

typedef enum {
    PAXOS_MSG_PREPARE = 1,  /* proposer -> acceptors: phase 1a */
    PAXOS_MSG_PROMISE = 2,  /* acceptor -> proposer: phase 1b */
    PAXOS_MSG_ACCEPT = 3,   /* proposer -> acceptors: phase 2a */
    PAXOS_MSG_ACCEPTED = 4, /* acceptor -> learners: phase 2b */
    PAXOS_MSG_NACK = 5,     /* acceptor -> proposer: your ballot is below my promise */
} PaxosMsgType;

typedef enum {
    PAXOS_TIMER_START = 1,   /* the proposers' "start": begin every instance */
    PAXOS_TIMER_TIMEOUT = 2, /* arg instance: no majority answered this phase in time */
    PAXOS_TIMER_RETRY = 3,   /* arg instance: the backoff is over; try a higher ballot */
} PaxosTimerKind;

/* "prepare request with number n" (P1a). */
typedef struct {
    uint64_t ballot;
    uint64_t instance; /* 1..instances */
} PaxosPrepare;
G_STATIC_ASSERT(sizeof(PaxosPrepare) == 16);

/* "a promise not to accept any more proposals numbered less than n and [...] the proposal
 * with the highest number less than n that it has accepted, if any" (P1b). accepted is
 * PAXOS_BALLOT_NONE (and value 0) when the acceptor accepted nothing. */
typedef struct {
    uint64_t ballot;   /* the n promised: the prepare's ballot */
    uint64_t accepted; /* ballot of the accepted proposal, or none */
    uint64_t value;    /* its value */
    uint64_t instance;
} PaxosPromise;
G_STATIC_ASSERT(sizeof(PaxosPromise) == 32);

/* "an accept request for a proposal numbered n with a value v" (P2a); also the body of
 * accepted (P2b): the acceptor tells the learners which proposal it accepted. */
typedef struct {
    uint64_t ballot;
    uint64_t value;
    uint64_t instance;
} PaxosProposal;
G_STATIC_ASSERT(sizeof(PaxosProposal) == 24);

/* The acceptor refused @ballot because it promised @promised, which is higher. */
typedef struct {
    uint64_t ballot;
    uint64_t promised;
    uint64_t instance;
} PaxosNack;
G_STATIC_ASSERT(sizeof(PaxosNack) == 24);

typedef enum {
    PAXOS_BUG_NONE = 0,
    PAXOS_BUG_FORGET_PROMISE,         /* an acceptor does not make its promise durable */
    PAXOS_BUG_IGNORE_PROMISED_VALUES, /* a proposer proposes its own value regardless (P2c) */
    PAXOS_BUG_ACCEPT_LOWER_BALLOT,    /* an acceptor accepts below its promise (P1a's promise) */
} PaxosBug;

typedef struct {
    char          proposers[DSIM_PARAM_STRING_MAX]; /* member list: "1,2" or "all" */
    char          acceptors[DSIM_PARAM_STRING_MAX];
    char          learners[DSIM_PARAM_STRING_MAX];
    int64_t       value_base;  /* proposer k proposes k * value_base + instance */
    int64_t       instances;
    DsimTime      start;       /* when the proposers begin */
    DsimTime      timeout;     /* a phase without a majority of answers is abandoned */
    DsimTimeRange backoff;     /* the random wait before a retry */
    bool          backoff_enabled;
    int           bug;         /* PaxosBug */
} PaxosBasicConfig;

/* One acceptor's memory of one instance, in RAM and, as the same 24 bytes, in durable
 * storage. Invariant: accepted <= promised (the bug accept-lower-ballot breaks it). */
typedef struct {
    uint64_t promised; /* highest prepare answered: never promise <= it nor accept < it */
    uint64_t accepted; /* ballot of the accepted proposal, PAXOS_BALLOT_NONE if none */
    uint64_t value;    /* its value */
} PaxosAcceptorRecord;
G_STATIC_ASSERT(sizeof(PaxosAcceptorRecord) == 24);

typedef enum {
    PAXOS_PHASE_IDLE = 0, /* not started (before "start", or not a proposer) */
    PAXOS_PHASE_1,        /* prepare sent, collecting promises */
    PAXOS_PHASE_2,        /* accept sent, waiting to learn the outcome */
    PAXOS_PHASE_BACKOFF,  /* abandoned a ballot; a retry timer is pending */
    PAXOS_PHASE_DONE,     /* this node learned the instance's value */
} PaxosPhase;

/* A proposer's state for one instance. promises counts the distinct acceptors whose
 * promise for ballot arrived (the bits in promised_by); highest is the highest accepted
 * ballot they reported, with its value (what P2c forces the proposer to propose). */
typedef struct {
    PaxosBallot ballot;   /* the ballot being tried, or the last one tried */
    PaxosBallot highest;
    uint64_t    highest_value;
    uint64_t    value;    /* proposed in phase 2 */
    DsimTimerId timer;    /* the pending TIMEOUT or RETRY, 0 if none */
    uint32_t    promises;
    uint32_t    tries;    /* ballots tried for this instance in this life */
    PaxosPhase  phase;
} PaxosProposerSlot;

/* A learner's view of one acceptor in one instance: the highest proposal it reported. */
typedef struct {
    PaxosBallot ballot;
    uint64_t    value;
} PaxosReport;

/* Per-node state. Arrays are per instance (index instance - 1) and, for the per-member
 * ones, per instance and member: [(instance - 1) * n + member index]. A node holds the
 * arrays of the roles it has and NULL for the others. */
typedef struct {
    uint32_t             n;          /* group size */
    uint32_t             instances;
    uint32_t             self;       /* member number, 1-based */
    uint32_t             n_acceptors;
    uint32_t             majority;   /* n_acceptors / 2 + 1 */
    bool                 roles_ok;   /* false: a member list in the params does not parse */
    bool                 is_proposer, is_acceptor, is_learner;
    uint8_t             *acceptor;   /* [n]: member i is an acceptor */
    uint8_t             *learner;    /* [n]: member i learns (learners and proposers) */
    uint32_t             max_round;  /* highest round seen in any ballot; durable for proposers */
    PaxosAcceptorRecord *acc;        /* [instances], acceptors */
    PaxosProposerSlot   *prop;       /* [instances], proposers */
    uint64_t            *promised_by;/* [instances * words] bitmaps over members, proposers */
    uint32_t             words;      /* ceil(n / 64) */
    PaxosReport         *reports;    /* [instances * n], learners */
    uint8_t             *learned;    /* [instances], learners */
    uint64_t            *learned_value; /* [instances] */
    uint32_t             n_learned;
} PaxosBasicNode;

/* The value proposer @member proposes in @instance. */
static inline uint64_t paxos_basic_own_value(const PaxosBasicConfig *cfg, uint32_t member,
                                             uint64_t instance)
{
    return (uint64_t) member * (uint64_t) cfg->value_base + instance;
}

/* Parses a member list, "all" or comma-separated member numbers 1..@n ("1,3"), into
 * @is_member (@n bytes, 0 or 1). Returns the number of members, or 0 when @spec is not such a
 * list (empty, a number out of range, anything else). */
unsigned paxos_members_parse(const char *spec, unsigned n, uint8_t *is_member);

#endif /* DSIM_PAXOS_BASIC_H */
