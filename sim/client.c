/* client.c - client workloads and the history they record (see client.h for the rules).
 *
 * A client is a small state machine driven by DSIM_EV_CLIENT events:
 *   ISSUE    start the next operation (or stop, once the workload's stop time has come)
 *   REQUEST  the request of one attempt arrives at a node, which gets on_request
 *   REPLY    a node's answer arrives back at the client
 *   TIMEOUT  an attempt's deadline (ignored when the attempt is no longer current)
 *   RETRY    send the current operation again (after a redirect without a hint)
 * Every draw (gaps, operations, keys, delays) comes from the run's "workload" stream, so the
 * network's and the faults' draws do not move when the workload changes.
 *
 * Commands are algorithms/kv/kv.h commands: the only state machine dsim has today. A protocol
 * that wants another command format would come with its own workload type here.
 */
#include "sim/client.h"

#include <math.h>
#include <string.h>

#include "algorithms/kv/kv.h"
#include "sim/jsonw.h"
#include "sim/queue.h"
#include "sim/rng.h"

enum { ISSUE = 0, REQUEST, REPLY, TIMEOUT, RETRY };

#define MAX_ATTEMPTS 20 /* per operation, before it is recorded as info */

typedef struct {
    DsimStatus status;
    uint64_t   request_id;
    DsimNodeId node;
    GBytes    *result;
} Reply;

typedef struct {
    const DsimWorkloadSpec *spec;
    uint32_t   index;      /* global client index (history process base) */
    uint32_t   local;      /* index within its workload */
    uint32_t   process;
    uint64_t   seq;
    bool       busy, done;
    KvCommand  cmd;
    DsimTime   invoked_at;
    uint64_t   attempt;    /* request id of the current attempt, 0 = none */
    unsigned   attempts;
    unsigned   target;     /* member index the client sends to */
    GPtrArray *seen;       /* per key index: last value this client observed (char*) */
    GArray    *acked_seqs; /* uint64_t: every seq acknowledged ok, ascending */
} Client;

struct DsimClients {
    const DsimScenario *sc;
    DsimRng             rng;
    Client             *clients;
    unsigned            n;
    uint32_t            total_clients;
    uint64_t            next_request;
    GHashTable         *inflight; /* request id -> client index + 1 (lookup only) */
    GArray             *history;  /* DsimHistOp */
    GString            *scratch;
};

static void hist_clear(gpointer p)
{
    DsimHistOp *op = p;
    g_free(op->key);
    g_free(op->value);
    g_free(op->expected);
}

static DsimTime gap(DsimClients *c, const Client *cl)
{
    /* exponential gaps: clients together issue about `rate` operations per second */
    double mean_s = (double) cl->spec->clients / cl->spec->rate;
    double u = dsim_rng_double(&c->rng);
    return (DsimTime) llround(-log1p(-u) * mean_s * 1e9);
}

static DsimTime one_way(DsimClients *c)
{
    return dsim_dist_sample(c->sc->net.latency, &c->rng);
}

DsimClients *dsim_clients_new(DsimWorld *w, const DsimScenario *sc, uint64_t seed)
{
    if (sc->workloads == NULL || sc->workloads->len == 0)
        return NULL;
    DsimClients *c = g_new0(DsimClients, 1);
    c->sc = sc;
    dsim_rng_init(&c->rng, seed, "workload");
    c->inflight = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    c->history = g_array_new(FALSE, TRUE, sizeof(DsimHistOp));
    g_array_set_clear_func(c->history, hist_clear);
    c->scratch = g_string_new(NULL);
    for (unsigned i = 0; i < sc->workloads->len; i++)
        c->n += g_array_index(sc->workloads, DsimWorkloadSpec, i).clients;
    c->clients = g_new0(Client, c->n);
    c->total_clients = c->n;
    unsigned k = 0;
    for (unsigned i = 0; i < sc->workloads->len; i++) {
        const DsimWorkloadSpec *ws = &g_array_index(sc->workloads, DsimWorkloadSpec, i);
        const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, ws->target);
        for (unsigned j = 0; j < ws->clients; j++, k++) {
            Client *cl = &c->clients[k];
            cl->spec = ws;
            cl->index = k;
            cl->local = j;
            cl->process = k;
            cl->target = j % g->count;
            cl->seen = g_ptr_array_new_full(ws->keys, g_free);
            cl->acked_seqs = g_array_new(FALSE, FALSE, sizeof(uint64_t));
            g_ptr_array_set_size(cl->seen, (gint) ws->keys);
            dsim_world_schedule_client(w, ws->start + gap(c, cl), DSIM_NOBODY, k, ISSUE, 0);
        }
    }
    return c;
}

void dsim_clients_free(DsimClients *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->n; i++) {
        g_ptr_array_unref(c->clients[i].seen);
        g_array_unref(c->clients[i].acked_seqs);
    }
    g_free(c->clients);
    g_hash_table_destroy(c->inflight);
    g_array_unref(c->history);
    g_string_free(c->scratch, TRUE);
    g_free(c);
}

/* ---- history -------------------------------------------------------------------- */

static const char *f_name(const Client *cl, uint8_t op)
{
    bool reg = strcmp(cl->spec->type, "register") == 0;
    switch ((KvOp) op) {
    case KV_OP_GET: return reg ? "read" : "get";
    case KV_OP_PUT: return reg ? "write" : "put";
    case KV_OP_APPEND: return "append";
    case KV_OP_CAS: return "cas";
    default: return "?";
    }
}

static void record(DsimClients *c, DsimWorld *w, Client *cl, DsimHistType type, const char *read,
                   DsimNodeId node)
{
    const KvCommand *cmd = &cl->cmd;
    DsimHistOp op = { .process = cl->process, .type = type, .time = dsim_world_now(w), .node = node };
    g_strlcpy(op.f, f_name(cl, cmd->op), sizeof op.f);
    op.key = g_strndup(cmd->key, cmd->key_len);
    if (cmd->op == KV_OP_GET)
        op.value = type == DSIM_HIST_OK ? g_strdup(read != NULL ? read : "") : NULL;
    else
        op.value = g_strndup(cmd->value, cmd->value_len);
    if (cmd->op == KV_OP_CAS)
        op.expected = g_strndup(cmd->expected, cmd->expected_len);
    g_array_append_val(c->history, op);
}

void dsim_hist_op_format(const DsimHistOp *op, GString *out)
{
    static const char *const types[] = { "invoke", "ok", "fail", "info" };
    DsimJson j;
    dsim_json_init(&j, out, false);
    dsim_json_begin_object(&j, NULL);
    dsim_json_uint(&j, "process", op->process);
    dsim_json_string(&j, "type", types[op->type]);
    dsim_json_string(&j, "f", op->f);
    dsim_json_string(&j, "key", op->key);
    if (op->expected != NULL) {
        dsim_json_begin_array(&j, "value");
        dsim_json_string(&j, NULL, op->expected);
        dsim_json_string(&j, NULL, op->value);
        dsim_json_end_array(&j);
    } else {
        dsim_json_string(&j, "value", op->value);
    }
    dsim_json_int(&j, "time", op->time);
    dsim_json_end_object(&j);
}

const GArray *dsim_clients_history(const DsimClients *c) { return c->history; }
unsigned dsim_clients_count(const DsimClients *c) { return c->n; }

const GArray *dsim_clients_acked(const DsimClients *c, unsigned i) { return c->clients[i].acked_seqs; }

const char *dsim_clients_model(const DsimClients *c)
{
    return strcmp(g_array_index(c->sc->workloads, DsimWorkloadSpec, 0).type, "register") == 0
               ? "register" : "kv";
}

/* ---- operations ------------------------------------------------------------------- */

static const DsimGroupSpec *target_group(const DsimClients *c, const Client *cl)
{
    return &g_array_index(c->sc->groups, DsimGroupSpec, cl->spec->target);
}

static KvOp choose_op(DsimClients *c, const Client *cl)
{
    double u = dsim_rng_double(&c->rng), acc = 0;
    const GArray *mix = cl->spec->mix;
    for (unsigned i = 0; i < mix->len; i++) {
        const DsimMixItem *it = &g_array_index(mix, DsimMixItem, i);
        acc += it->weight;
        if (u < acc || i + 1 == mix->len) {
            if (strcmp(it->op, "get") == 0)
                return KV_OP_GET;
            if (strcmp(it->op, "put") == 0)
                return KV_OP_PUT;
            if (strcmp(it->op, "append") == 0)
                return KV_OP_APPEND;
            return KV_OP_CAS;
        }
    }
    g_assert_not_reached();
}

static void send_attempt(DsimClients *c, DsimWorld *w, Client *cl)
{
    const DsimGroupSpec *g = target_group(c, cl);
    uint64_t id = ++c->next_request;
    cl->attempt = id;
    cl->attempts++;
    DsimNodeId node = g->first + cl->target;
    DsimTime now = dsim_world_now(w);
    dsim_world_schedule_client(w, now + one_way(c), node, cl->index, REQUEST, id);
    dsim_world_schedule_client(w, now + cl->spec->timeout, DSIM_NOBODY, cl->index, TIMEOUT, id);
}

static void issue(DsimClients *c, DsimWorld *w, Client *cl)
{
    if (dsim_world_now(w) >= cl->spec->stop) {
        cl->done = true;
        return;
    }
    KvOp op = choose_op(c, cl);
    unsigned key_index = (unsigned) dsim_rng_below(&c->rng, cl->spec->keys);
    char key[KV_KEY_MAX + 1], value[KV_VALUE_MAX + 1];
    g_snprintf(key, sizeof key, "%s%u", strcmp(cl->spec->type, "register") == 0 ? "r" : "k",
               key_index + 1);
    cl->seq++;
    /* values name their writer: unique, so a read tells which write it saw */
    if (op == KV_OP_APPEND)
        g_snprintf(value, sizeof value, "%u.%" PRIu64 ";", cl->index, cl->seq);
    else
        g_snprintf(value, sizeof value, "%u.%" PRIu64, cl->index, cl->seq);
    const char *expected = g_ptr_array_index(cl->seen, key_index);
    if (expected != NULL && strlen(expected) > KV_VALUE_MAX)
        expected = NULL; /* grown by appends beyond what a command carries: expect "" */
    kv_command_init(&cl->cmd, op, cl->index, cl->seq, key,
                    op == KV_OP_GET ? NULL : value, op == KV_OP_CAS ? (expected ? expected : "") : NULL);
    cl->busy = true;
    cl->attempts = 0;
    cl->invoked_at = dsim_world_now(w);
    record(c, w, cl, DSIM_HIST_INVOKE, NULL, DSIM_NOBODY);
    send_attempt(c, w, cl);
}

static unsigned key_index_of(const Client *cl)
{
    /* keys are "k<i+1>" / "r<i+1>" */
    return (unsigned) g_ascii_strtoull(cl->cmd.key + 1, NULL, 10) - 1u;
}

static void complete(DsimClients *c, DsimWorld *w, Client *cl, DsimHistType type, const char *read,
                     DsimNodeId node)
{
    record(c, w, cl, type, read, node);
    cl->busy = false;
    cl->attempt = 0;
    if (type == DSIM_HIST_OK) {
        g_array_append_val(cl->acked_seqs, cl->seq);
        unsigned ki = key_index_of(cl);
        char *seen = NULL;
        if (cl->cmd.op == KV_OP_GET)
            seen = g_strdup(read);
        else if (cl->cmd.op == KV_OP_PUT || cl->cmd.op == KV_OP_CAS)
            seen = g_strndup(cl->cmd.value, cl->cmd.value_len);
        if (seen != NULL) {
            g_free(g_ptr_array_index(cl->seen, ki));
            g_ptr_array_index(cl->seen, ki) = seen;
        }
        dsim_world_note_metric(w, "client_latency_seconds",
                               (double) (dsim_world_now(w) - cl->invoked_at) / 1e9);
    }
    if (type == DSIM_HIST_INFO)
        cl->process += c->total_clients; /* see client.h */
    dsim_world_schedule_client(w, dsim_world_now(w) + gap(c, cl), DSIM_NOBODY, cl->index, ISSUE, 0);
}

/* Moves to the next member and tries again, or gives up as info. */
static void retry(DsimClients *c, DsimWorld *w, Client *cl, bool next_member)
{
    const DsimGroupSpec *g = target_group(c, cl);
    if (next_member)
        cl->target = (cl->target + 1) % g->count;
    if (cl->attempts >= MAX_ATTEMPTS || dsim_world_now(w) >= cl->spec->stop) {
        complete(c, w, cl, DSIM_HIST_INFO, NULL, DSIM_NOBODY);
        return;
    }
    send_attempt(c, w, cl);
}

DsimNodeId dsim_clients_on_event(DsimClients *c, DsimWorld *w, uint32_t client, uint32_t what,
                                 DsimNodeId node, uint64_t arg)
{
    Client *cl = &c->clients[client];
    switch (what) {
    case ISSUE:
        if (!cl->busy && !cl->done)
            issue(c, w, cl);
        return DSIM_NOBODY;
    case REQUEST: {
        /* the request reaches the node even if the client has moved on: a slow request may
         * still be applied, which is why commands carry (client, seq) */
        if (dsim_world_node_status(w, node) != DSIM_NODE_UP
            || dsim_net_is_disconnected(dsim_world_net(w), node))
            return DSIM_NOBODY;
        uint64_t *key = g_new(uint64_t, 1);
        *key = arg;
        g_hash_table_insert(c->inflight, key, GUINT_TO_POINTER(client + 1u));
        dsim_world_request(w, node, arg, cl->index, &cl->cmd, sizeof cl->cmd);
        return node;
    }
    case REPLY: {
        Reply *r = (Reply *) (uintptr_t) arg;
        if (cl->busy && cl->attempt == r->request_id) {
            gsize len = 0;
            const char *data = g_bytes_get_data(r->result, &len);
            switch (r->status) {
            case DSIM_STATUS_OK: {
                g_autofree char *read = g_strndup(data != NULL ? data : "", len);
                complete(c, w, cl, DSIM_HIST_OK, read, r->node);
                break;
            }
            case DSIM_STATUS_FAIL:
                complete(c, w, cl, DSIM_HIST_FAIL, NULL, r->node);
                break;
            case DSIM_STATUS_REDIRECT: {
                DsimNodeId hint = DSIM_NOBODY;
                if (len == sizeof hint)
                    memcpy(&hint, data, sizeof hint);
                const DsimGroupSpec *g = target_group(c, cl);
                if (hint != DSIM_NOBODY && hint >= g->first && hint < g->first + g->count
                    && hint - g->first != cl->target) {
                    cl->target = hint - g->first;
                    retry(c, w, cl, false);
                } else {
                    /* no leader known: wait a little (a tenth of the timeout), then the next node */
                    cl->target = (cl->target + 1) % g->count;
                    cl->attempt = 0;
                    dsim_world_schedule_client(w, dsim_world_now(w) + cl->spec->timeout / 10,
                                               DSIM_NOBODY, cl->index, RETRY, 0);
                }
                break;
            }
            case DSIM_STATUS_UNKNOWN:
                retry(c, w, cl, true);
                break;
            }
        }
        g_bytes_unref(r->result);
        g_free(r);
        return DSIM_NOBODY;
    }
    case TIMEOUT:
        if (cl->busy && cl->attempt == arg)
            retry(c, w, cl, true);
        return DSIM_NOBODY;
    case RETRY:
        if (cl->busy && cl->attempt == 0)
            retry(c, w, cl, false);
        return DSIM_NOBODY;
    }
    g_assert_not_reached();
}

void dsim_clients_on_reply(DsimClients *c, DsimWorld *w, DsimNodeId node, uint64_t request_id,
                           DsimStatus status, const void *result, size_t len)
{
    gpointer v = g_hash_table_lookup(c->inflight, &request_id);
    g_assert(v != NULL); /* a node answered a request it never got: a protocol bug */
    g_hash_table_remove(c->inflight, &request_id);
    uint32_t client = GPOINTER_TO_UINT(v) - 1u;
    if (dsim_net_is_disconnected(dsim_world_net(w), node))
        return; /* the answer cannot leave */
    Reply *r = g_new0(Reply, 1);
    r->status = status;
    r->request_id = request_id;
    r->node = node;
    r->result = g_bytes_new(result, len);
    dsim_world_schedule_client(w, dsim_world_now(w) + one_way(c), DSIM_NOBODY, client, REPLY,
                               (uint64_t) (uintptr_t) r);
}

void dsim_clients_free_event(uint32_t what, uint64_t arg)
{
    if (what == REPLY) {
        Reply *r = (Reply *) (uintptr_t) arg;
        g_bytes_unref(r->result);
        g_free(r);
    }
}

void dsim_clients_finish(DsimClients *c, DsimWorld *w)
{
    for (unsigned i = 0; i < c->n; i++) {
        Client *cl = &c->clients[i];
        if (cl->busy) {
            record(c, w, cl, DSIM_HIST_INFO, NULL, DSIM_NOBODY);
            cl->busy = false;
        }
    }
}
