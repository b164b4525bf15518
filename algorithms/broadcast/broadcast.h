/* broadcast.h - reliable broadcast by flooding (eager reliable broadcast).
 *
 * One member, the origin, broadcasts messages with ids 1..messages. Every node delivers a
 * message the first time it sees a copy and then forwards it to every other member, so
 * the message reaches everyone as long as one correct node has it (Cachin, Guerraoui &
 * Rodrigues, "Introduction to Reliable and Secure Distributed Programming", 2nd ed., 2011,
 * §3.3, Algorithm 3.3 "Eager Reliable Broadcast"). With "retransmit" set, copies are
 * re-sent until acknowledged, which turns lossy links into the perfect links the algorithm
 * assumes. With "persist" (the default) the delivered set is durable, so a node that
 * crashes and restarts does not deliver a message twice; persist=false shows that bug.
 */
#ifndef DSIM_BROADCAST_H
#define DSIM_BROADCAST_H

#include "sim/dsim.h"

extern const DsimProtocol broadcast_protocol;

typedef enum {
    BROADCAST_MSG_DATA = 1, /* a copy of message id: [DATA, s, m] in CGR Algorithm 3.3 */
    BROADCAST_MSG_ACK  = 2, /* "I have id; stop re-sending it to me" (retransmit only) */
} BroadcastMsgType;

typedef enum {
    BROADCAST_TIMER_BROADCAST  = 1, /* origin: broadcast message id arg now */
    BROADCAST_TIMER_RETRANSMIT = 2, /* re-send id arg to the members that have not acked */
} BroadcastTimerKind;

typedef struct {
    uint32_t id;     /* 1..messages */
    uint32_t origin; /* member number of the origin, 1-based as the "origin" param */
} BroadcastData;
G_STATIC_ASSERT(sizeof(BroadcastData) == 8);

typedef struct {
    uint32_t id;
} BroadcastAck;
G_STATIC_ASSERT(sizeof(BroadcastAck) == 4);

typedef struct {
    int64_t  origin;     /* member number, 1-based */
    int64_t  messages;   /* ids 1..messages */
    DsimTime start;      /* first broadcast */
    DsimTime interval;   /* between the origin's broadcasts */
    DsimTime retransmit; /* 0 = forward once, no acks */
    bool     persist;    /* delivered set durable before delivery */
} BroadcastConfig;

/* Bit (id - 1) of a bitmap of ids, 64 ids per word. */
static inline bool broadcast_bit_get(const uint64_t *bits, uint32_t id)
{
    return (bits[(id - 1) / 64] >> ((id - 1) % 64)) & 1;
}

/* Per-node state: 48 bytes plus messages/8 bytes of delivered bitmap, plus, with retransmit,
 * messages * group size / 8 bytes of acks (1.25 KB per message at 10,000 nodes; a per-message
 * bitmap freed once fully acked would bound this by the messages in flight, if ever needed).
 * n_delivered is the number of bits set in delivered. deliveries, last_delivered and
 * incarnation exist for the no-duplicate-delivery invariant, which must tell one life of
 * the node from the next even when it did not see the crash in between. */
typedef struct {
    uint64_t *delivered;      /* bitmap of delivered ids (broadcast_bit_get) */
    uint64_t *acked;          /* retransmit only: for each id, a bitmap over member indices
                                 of the members known to hold it (acked, or sent us a copy) */
    uint64_t  incarnation;    /* drawn from the node's stream at every (re)start, never 0 */
    uint32_t  n_delivered;
    uint32_t  deliveries;     /* deliveries made in this life (recovered ids not counted) */
    uint32_t  last_delivered; /* id of the latest of those, 0 before the first */
    uint32_t  ack_words;      /* words per id in acked: ceil(group size / 64) */
    uint32_t  messages;       /* the "messages" param, so describe can walk the bitmap */
} BroadcastNode;

#endif /* DSIM_BROADCAST_H */
