/* swim.h - SWIM: group membership and failure detection with infection-style dissemination.
 *
 * Das, Gupta & Motivala, "SWIM: Scalable Weakly-consistent Infection-style Process Group
 * Membership Protocol", DSN 2002. Section numbers are that paper's; read swim.c with §3 and
 * §4 open. Each protocol period T' a member probes one other member (§3.1): a ping, and
 * when no ack comes within ping_timeout, ping-req through indirect_k others, who ping it on
 * its behalf. A member that answers none of them by the end of the period is suspected
 * (§4.2); unless it refutes the suspicion by announcing a higher incarnation number, it is
 * confirmed faulty after the suspicion timeout. Membership updates (alive, suspect, confirm,
 * join, leave) travel piggybacked on pings, ping-reqs and acks, each a bounded number of
 * times (§4.1); probe targets follow a shuffled round-robin order (§4.3).
 *
 * Membership changes: members 1 .. n - joiners start as a group that knows itself; the last
 * `joiners` members join at join_at (one per period) through member 1, the "well-known"
 * introducer, which answers with its view. A member that restarts after a crash has
 * forgotten everything and joins again the same way; a member confirmed faulty while alive
 * (a false positive) re-enters with a Join at a higher incarnation. Member `leaver` leaves
 * voluntarily at leave_at.
 *
 * Healing after a long partition (not in the paper; modelled on HashiCorp Serf and
 * memberlist): when a partition outlasts the suspicion timeout, each side confirms the other
 * faulty, and since nobody probes a member it holds faulty, the sides would never hear from
 * each other again. So a member remembers the members it holds faulty for reconnect_timeout,
 * and every reconnect_interval it sends one of them, at random, its whole view (Serf's
 * reconnect); one that is alive merges it and answers with its own (memberlist's push/pull
 * state exchange). Each learns it was confirmed faulty and refutes at a higher incarnation,
 * and the refutations spread by the usual piggybacking.
 */
#ifndef DSIM_SWIM_H
#define DSIM_SWIM_H

#include "sim/dsim.h"

extern const DsimProtocol swim_protocol;

#define SWIM_NOBODY UINT32_MAX

typedef enum {
    SWIM_MSG_PING     = 1, /* seq; on_behalf: the member an indirect probe is for */
    SWIM_MSG_PING_REQ = 2, /* seq, target: "ping target for me" (§3.1) */
    SWIM_MSG_ACK      = 3, /* seq, target: who answered; on_behalf as in the ping */
    SWIM_MSG_JOIN     = 4, /* seq: the incarnation the joiner asks for */
    SWIM_MSG_JOIN_ACK = 5, /* seq: the joiner's incarnation; updates: the introducer's view */
    SWIM_MSG_LEAVE    = 6, /* updates: the leaver's Leave */
    SWIM_MSG_SYNC     = 7, /* updates: the sender's whole view (push/pull: the push) */
    SWIM_MSG_SYNC_ACK = 8, /* updates: the receiver's whole view, once merged (the pull) */
} SwimMsgType;

typedef enum {
    SWIM_TIMER_TICK         = 1, /* the protocol period T' */
    SWIM_TIMER_PING_TIMEOUT = 2, /* arg: probe seq; no direct ack yet -> ping-req */
    SWIM_TIMER_SUSPECT      = 3, /* arg: member | incarnation << 32; suspicion timeout */
    SWIM_TIMER_JOIN         = 4, /* (re)try to join */
    SWIM_TIMER_LEAVE        = 5, /* leave now */
    SWIM_TIMER_RECONNECT    = 6, /* push the view to a member held faulty (Serf) */
    SWIM_TIMER_PUSH_PULL    = 7, /* push the view to a live member (memberlist) */
} SwimTimerKind;

/* What a member believes of another. NONE: not a member in its view (never joined, or
 * this member has not heard of it). */
typedef enum {
    SWIM_NONE = 0,
    SWIM_ALIVE,
    SWIM_SUSPECT,
    SWIM_DEAD,
    SWIM_LEFT,
} SwimStatus;

/* Kinds of membership update (§4.2: Alive, Suspect, Confirm; plus Join and Leave). */
typedef enum {
    SWIM_UPDATE_ALIVE   = 1,
    SWIM_UPDATE_SUSPECT = 2,
    SWIM_UPDATE_CONFIRM = 3,
    SWIM_UPDATE_JOIN    = 4,
    SWIM_UPDATE_LEAVE   = 5,
} SwimUpdateKind;

typedef struct {
    uint32_t member;      /* member index */
    uint32_t incarnation;
    uint32_t kind;        /* SwimUpdateKind */
} SwimUpdate;
G_STATIC_ASSERT(sizeof(SwimUpdate) == 12);

/* The body of every SWIM message: 16 bytes, then n_updates piggybacked updates. */
typedef struct {
    uint32_t   seq;
    uint32_t   target;    /* PING_REQ: whom to probe; ACK: the member that answered */
    uint32_t   on_behalf; /* PING/ACK of an indirect probe: who asked; else SWIM_NOBODY */
    uint32_t   n_updates;
    SwimUpdate updates[];
} SwimBody;
G_STATIC_ASSERT(sizeof(SwimBody) == 16);

typedef struct {
    DsimTime period;            /* T' */
    DsimTime ping_timeout;      /* wait for a direct ack before ping-req */
    int64_t  indirect_k;        /* members asked to ping-req */
    DsimTime suspicion_timeout; /* 0: suspicion_mult * ceil(log10(n+1)) periods */
    int64_t  suspicion_mult;
    int64_t  piggyback_max;     /* updates per message */
    int64_t  retransmit_mult;   /* lambda: each update is sent lambda * ceil(log2(n+1)) times */
    int64_t  joiners;           /* the last members start outside and join */
    DsimTime join_at;
    int64_t  leaver;            /* member number that leaves; 0 = none */
    DsimTime leave_at;
    DsimTime reconnect_interval; /* 0: never reconnect */
    DsimTime reconnect_timeout;  /* how long a faulty member is tried; 0: forever */
    DsimTime push_pull_interval; /* 0: no periodic push/pull with live members */
} SwimConfig;

/* One entry of a member's view: 8 bytes. */
typedef struct {
    uint32_t incarnation;
    uint8_t  status; /* SwimStatus */
    uint8_t  pad[3];
} SwimMember;

/* An update waiting to be piggybacked, with the times it already was. */
typedef struct {
    SwimUpdate update;
    uint32_t   sent;
} SwimQueued;

/* Per-member state. view, order, queue, suspected_at and dead_at have n entries each (about
 * 44 bytes per member of the group, so O(n^2) for the group: SWIM's full membership list).
 * The queue holds at most one update per member (a newer one replaces it). Invariants: joined
 * implies view[self].status == SWIM_ALIVE; reconnecting is set while a RECONNECT timer is
 * pending. */
typedef struct {
    SwimMember *view;
    uint32_t   *order;        /* probe order (§4.3): a shuffled permutation of member indices */
    SwimQueued *queue;        /* updates to piggyback */
    DsimTime   *suspected_at; /* when this member began suspecting each member */
    DsimTime   *dead_at;      /* when this member learned each member it holds faulty was */
    uint32_t    n;
    uint32_t    n_queued;
    uint32_t    pos;          /* next position in order */
    uint32_t    probe_seq;    /* seq of the current probe; 0 before the first */
    uint32_t    target;       /* the current probe's target, or SWIM_NOBODY */
    uint32_t    join_tries;
    uint32_t    fp_mark;      /* false positives of this member counted below this incarnation */
    uint8_t     acked;        /* the current probe was answered, directly or not */
    uint8_t     joined;       /* a member of the group in its own view */
    uint8_t     left;         /* left voluntarily: silent from then on */
    uint8_t     up;           /* init ran */
    uint8_t     reconnecting; /* a RECONNECT timer is pending */
} SwimNode;

#endif /* DSIM_SWIM_H */
