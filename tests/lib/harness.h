/* harness.h - one node of a protocol, driven by hand: the handler test harness.
 *
 * A Harness owns one node's state, config, durable store and random stream, and a DsimCtx
 * whose effects are recorded instead of performed (sim/ctx.h). A test sets params, calls
 * harness_init(), hands the node a message, a timer or a request, and then reads what the
 * handler did: messages sent, timers set and cancelled, replies, durable writes and syncs,
 * log lines and metrics. No world, queue or network is involved; virtual time moves only
 * when the test says so.
 *
 * The node's group has @group_size members named <group_id>1 .. <group_id>N with node ids
 * 0 .. N-1, so member index and DsimNodeId coincide. Recordings accumulate until
 * harness_clear(). Logging is on. Every call asserts on misuse (a bug in the test).
 */
#ifndef DSIM_TESTS_HARNESS_H
#define DSIM_TESTS_HARNESS_H

#include "sim/dsim.h"
#include "sim/store.h"

typedef struct Harness Harness;

typedef struct {
    DsimNodeId  to;
    uint16_t    type;
    uint32_t    size;
    const void *body; /* a copy owned by the harness, valid until harness_clear/free */
} HarnessSent;

typedef struct {
    DsimTimerId id;
    DsimTime    delay;
    DsimTime    due;  /* now at set time + delay */
    unsigned    kind;
    uint64_t    arg;
} HarnessTimer;

typedef struct {
    uint64_t   request_id;
    DsimStatus status;
    GBytes    *result; /* what the node returned (owned by the harness) */
} HarnessReply;

typedef struct {
    const char *name; /* owned by the harness */
    double      value;
} HarnessMetric;

/* A call the node made (dsim_call). */
typedef struct {
    DsimCallId  id;
    DsimNodeId  to;
    uint16_t    method;
    GBytes     *body;   /* owned by the harness */
    DsimTime    at;     /* now when it was made */
    DsimCallOpts opts;
} HarnessCall;

/* An answer the node gave to an incoming call (dsim_respond). */
typedef struct {
    DsimCallId     call;
    DsimCallStatus status;
    GBytes        *body; /* owned by the harness */
} HarnessResponse;

/* Returns a new harness for member @self_index (from 0) of a group of @group_size running
 * @proto, with every param at its default and the node's stream "node/<name>" seeded from
 * @seed. The node is not initialised yet: set params, then harness_init(). @proto and
 * @group_id are borrowed / copied respectively; free with harness_free(). */
Harness *harness_new(const DsimProtocol *proto, const char *group_id, unsigned group_size,
                     unsigned self_index, uint64_t seed);
void     harness_free(Harness *h); /* calls fini when the node is up; accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Harness, harness_free)

/* Sets param @name from @text as a scenario would; asserts that it exists and parses.
 * Call before harness_init(). */
void harness_set_param(Harness *h, const char *name, const char *text);

/* Runs the protocol's init. */
void harness_init(Harness *h);

/* Hands the node a message from member @from_index; @body is copied. Returns the message
 * id given to it (1, 2, ...). */
uint64_t harness_deliver(Harness *h, unsigned from_index, uint16_t type, const void *body,
                         size_t size);

/* Fires a timer of @kind/@arg now. If a pending recorded timer matches, it counts as fired
 * (harness_timer_pending() turns false); a test may also fire one that was never set. */
void harness_fire(Harness *h, unsigned kind, uint64_t arg);

/* Fires the pending timer @id: the clock first moves to its due time if that is later. */
void harness_fire_timer(Harness *h, DsimTimerId id);

/* True when timer @id was set, and has been neither cancelled nor fired nor lost in a
 * crash. */
bool harness_timer_pending(const Harness *h, DsimTimerId id);

/* Adds another group of @n members named <group_id>1.. to the world the node sees (for
 * dsim_group_find and calls); returns the node id of its first member. */
DsimNodeId harness_add_group(Harness *h, const char *group_id, unsigned n);

/* Hands the node an incoming call from node @from (any group's id): @method, @body (copied),
 * answered by @deadline (on the node's clock), in trace @trace (0: a new one). Returns the
 * call's id (1, 2, ... shared with the calls the node makes). */
DsimCallId harness_serve(Harness *h, DsimNodeId from, uint16_t method, const void *body,
                         size_t size, DsimTime deadline, uint64_t trace);

/* Hands the node the outcome of call @id, which it made and which is still open: OK or FAIL
 * with @body (copied), or TIMEOUT. Latency is now minus when the call was made. */
void harness_outcome(Harness *h, DsimCallId id, DsimCallStatus status, const void *body,
                     size_t size);

/* Hands the node client request @id with command bytes @cmd (copied). */
void harness_request(Harness *h, uint64_t id, uint32_t client, const void *cmd, size_t size);

/* A crash: fini, state zeroed, pending timers lost, and the store rolled back to its last
 * sync when @lose_unsynced. Then harness_recover() restarts the node (on_recover, or init
 * when the protocol has none). Recordings are kept. */
void harness_crash(Harness *h, bool lose_unsynced);
void harness_recover(Harness *h);

/* The node's clock. Starts at 0; never goes back. */
void     harness_set_now(Harness *h, DsimTime t);
DsimTime harness_now(const Harness *h);

/* The node's state (borrowed; zeroed while crashed), config, store and ctx. */
void       *harness_state(Harness *h);
void       *harness_config(Harness *h);
DsimStore  *harness_store(Harness *h);
DsimCtx    *harness_ctx(Harness *h);
const char *harness_name(const Harness *h, unsigned index); /* "r2" for index 1 */

/* The protocol's describe of the node, into a zeroed view. */
void harness_describe(Harness *h, DsimView *view);

/* The protocol's print_msg for a message; caller frees. */
char *harness_print_msg(const Harness *h, uint16_t type, const void *body, size_t size);

/* ---- recorded effects since the last harness_clear() ----------------------------- */

void harness_clear(Harness *h);

unsigned             harness_n_sent(const Harness *h);
const HarnessSent   *harness_sent(const Harness *h, unsigned i);
unsigned             harness_n_timers(const Harness *h);
const HarnessTimer  *harness_timer(const Harness *h, unsigned i);
unsigned             harness_n_cancelled(const Harness *h);
DsimTimerId          harness_cancelled(const Harness *h, unsigned i);
unsigned             harness_n_replies(const Harness *h);
const HarnessReply  *harness_reply(const Harness *h, unsigned i);
unsigned               harness_n_calls(const Harness *h);
const HarnessCall     *harness_call(const Harness *h, unsigned i);
unsigned               harness_n_responses(const Harness *h);
const HarnessResponse *harness_response(const Harness *h, unsigned i);
unsigned             harness_n_persisted(const Harness *h);
uint64_t             harness_persisted(const Harness *h, unsigned i); /* the key */
unsigned             harness_n_syncs(const Harness *h);
unsigned             harness_n_logs(const Harness *h);
const char          *harness_log(const Harness *h, unsigned i);
unsigned             harness_n_metrics(const Harness *h);
const HarnessMetric *harness_metric(const Harness *h, unsigned i);
/* How many samples of metric @name were recorded, and the last one's value (-1: none). */
unsigned             harness_count_metric(const Harness *h, const char *name);
double               harness_last_metric(const Harness *h, const char *name);

#endif /* DSIM_TESTS_HARNESS_H */
