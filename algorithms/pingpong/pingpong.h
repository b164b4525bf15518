/* pingpong.h - two nodes passing a counter back and forth: the kernel's test bed.
 *
 * Members pair up by index, (1,2), (3,4), ...; an odd last member idles. In each pair the
 * first member sends Ping seq=1 at init, and whoever handles seq s answers with seq s+1: odd
 * seqs travel as Ping, even ones as Pong. The game ends when seq reaches the "count" param
 * (0 = never); the node that handles the final seq samples the metric "pingpong_done" with
 * the virtual time in seconds. With "retry" set, a node re-sends its last message until the
 * answer comes, so a pair survives loss and restarts. The hot path allocates nothing and
 * logs only when logging is on: the events/s benchmark runs this protocol.
 */
#ifndef DSIM_PINGPONG_H
#define DSIM_PINGPONG_H

#include "sim/dsim.h"

extern const DsimProtocol pingpong_protocol;

typedef enum {
    PINGPONG_MSG_PING = 1, /* odd seqs */
    PINGPONG_MSG_PONG = 2, /* even seqs */
} PingpongMsgType;

typedef enum {
    PINGPONG_TIMER_ANSWER = 1, /* "interval" elapsed: send seq arg */
    PINGPONG_TIMER_RETRY  = 2, /* "retry" elapsed without an answer to seq arg */
} PingpongTimerKind;

/* The body of both Ping and Pong. With the "size" param, the sent body is this struct
 * followed by that many zero bytes (for the bandwidth model); receivers read only seq. */
typedef struct {
    uint64_t seq; /* 1, 2, 3, ...: the pinger's first Ping is 1 */
} PingpongBody;
G_STATIC_ASSERT(sizeof(PingpongBody) == 8);

typedef struct {
    int64_t  count;    /* last seq of the game; 0 = unlimited */
    int64_t  size;     /* zero bytes appended to every body */
    DsimTime interval; /* wait before answering; 0 = answer in the same handler */
    DsimTime retry;    /* re-send an unanswered message after this; 0 = off */
} PingpongConfig;

/* Per-node state, 56 bytes. Only seqs above last_seq are handled, so last_seq is the highest
 * seq handled and prev_seq < last_seq whenever last_seq > 0 (the "seq-monotonic" invariant,
 * which a handler that took a duplicate would break). Volatile: a restarted node starts over
 * at 0 and accepts whatever its peer sends next. */
typedef struct {
    uint64_t    last_seq;    /* seq of the message handled last; 0 before the first */
    uint64_t    prev_seq;    /* last_seq before that message was handled */
    uint64_t    last_sent;   /* seq of the last message sent; 0 before the first */
    uint64_t    digest;      /* dsim_digest_add over the handled seqs, in order */
    DsimTimerId retry_timer; /* the pending retry, 0 when none */
    uint8_t    *padded;      /* size > 0 only: a zeroed PingpongBody + size bytes, reused */
    DsimNodeId  peer;        /* the other member of the pair; DSIM_NOBODY for the odd one */
} PingpongNode;

#endif /* DSIM_PINGPONG_H */
