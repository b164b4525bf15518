/* client.h - client workloads: simulated clients that send operations to a group, follow
 * redirects, time out and retry, and record every operation in a history.
 *
 * Clients live outside the nodes: they are part of the world, not of any protocol. Each
 * client runs one operation at a time (as Jepsen's processes do), waiting a random gap drawn
 * from the run's "workload" stream between operations so that all clients together issue
 * about `rate` operations per second. An operation is recorded once as invoke, and once as its
 * completion: ok, fail (definitely not applied) or info (outcome unknown: it timed out, the
 * run ended, or the workload stopped while it was pending). A retried operation keeps its
 * (client, seq), so the state machine applies it at most once (algorithms/kv/kv.h).
 *
 * Routing: a client sends to the node it believes leads (at first member (client mod n)); a
 * REDIRECT with a hint moves it there, a REDIRECT without one, a timeout, or an UNKNOWN answer
 * move it to the next member in index order. Requests and replies each take one network
 * delay drawn from the scenario's latency distribution (workload stream), and are lost when
 * the node is crashed, paused or disconnected; partitions between nodes do not cut clients
 * off (clients sit beside every node, as Jepsen's do).
 *
 * After an info completion the client continues under a new process id (process + number of
 * clients), because a process with an operation of unknown outcome may not start another in
 * the sequential model the linearizability checker assumes.
 */
#ifndef DSIM_CLIENT_H
#define DSIM_CLIENT_H

#include "sim/world.h"

typedef struct DsimClients DsimClients;

typedef enum {
    DSIM_HIST_INVOKE,
    DSIM_HIST_OK,
    DSIM_HIST_FAIL,
    DSIM_HIST_INFO,
} DsimHistType;

/* One line of history.jsonl. */
typedef struct {
    uint32_t     process;
    DsimHistType type;
    char         f[8];        /* "get", "put", "append", "cas" (kv); "read", "write", "cas" (register) */
    char        *key;         /* owned */
    char        *value;       /* put/append/write value, get/read result (ok), cas new value; owned, may be NULL */
    char        *expected;    /* cas only; owned */
    DsimTime     time;
    DsimNodeId   node;        /* the node that answered (completions), or DSIM_NOBODY */
} DsimHistOp;

/* Schedules the workloads of @sc into @w; NULL when the scenario has none. */
DsimClients *dsim_clients_new(DsimWorld *w, const DsimScenario *sc, uint64_t seed);
void         dsim_clients_free(DsimClients *c); /* accepts NULL */

/* A DSIM_EV_CLIENT event fired. Returns the node that handled a request, or DSIM_NOBODY. */
DsimNodeId   dsim_clients_on_event(DsimClients *c, DsimWorld *w, uint32_t client, uint32_t what,
                                   DsimNodeId node, uint64_t arg);
/* A node answered request @request_id (dsim_reply); @result is copied. */
void         dsim_clients_on_reply(DsimClients *c, DsimWorld *w, DsimNodeId node,
                                   uint64_t request_id, DsimStatus status, const void *result,
                                   size_t len);
/* Frees what a pending client event owns (the world calls it for events never processed). */
void         dsim_clients_free_event(uint32_t what, uint64_t arg);
/* The run ended: pending operations complete as info. */
void         dsim_clients_finish(DsimClients *c, DsimWorld *w);

/* Number of clients. */
unsigned      dsim_clients_count(const DsimClients *c);
/* Every seq of client @i acknowledged ok, ascending (uint64_t). */
const GArray *dsim_clients_acked(const DsimClients *c, unsigned i);
/* The history so far, in order. */
const GArray *dsim_clients_history(const DsimClients *c); /* of DsimHistOp */
/* The model the history is about: "kv" or "register" (of the first workload). */
const char   *dsim_clients_model(const DsimClients *c);

/* Appends one history line (JSON, no newline) for @op. */
void          dsim_hist_op_format(const DsimHistOp *op, GString *out);

#endif /* DSIM_CLIENT_H */
