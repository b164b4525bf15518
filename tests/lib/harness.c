/* harness.c - one node of a protocol, driven by hand; see harness.h.
 *
 * The harness is a DsimCtxOps backend (sim/ctx.h) that records effects instead of applying
 * them, except durable writes, which go to a real DsimStore so that crash and recovery
 * behave as in a world. Timers are remembered from the moment they are set until they fire,
 * are cancelled or die in a crash, independently of harness_clear(), so a test can ask
 * whether one is still pending.
 */
#include "tests/lib/harness.h"

#include <string.h>

#include "sim/ctx.h"
#include "sim/dist.h"
#include "sim/param.h"

typedef enum {
    ARMED_PENDING,
    ARMED_FIRED,
    ARMED_CANCELLED,
    ARMED_LOST, /* in a crash */
} ArmedState;

typedef struct {
    HarnessTimer t;
    ArmedState   state;
} Armed;

struct Harness {
    const DsimProtocol *proto;
    DsimCtx             ctx;
    DsimRng             rng;
    DsimStore          *store;
    void               *config;
    void               *state;
    char              **names;    /* NULL-terminated, indexed by member index = node id */
    unsigned            n;
    bool                up;       /* initialised and not crashed */
    bool                crashed;
    DsimTimerId         next_timer;
    uint64_t            next_msg;
    GArray             *armed;    /* Armed: every timer ever set */
    GPtrArray          *groups;   /* char *: the id of each group, own group first */
    GArray             *firsts;   /* DsimNodeId: each group's first node id */
    DsimCallId          next_call;
    GArray             *open_calls;   /* HarnessCall (body not owned): made, no outcome yet */
    GArray             *serving;      /* DsimCallId: incoming calls not yet answered */

    /* recorded since the last harness_clear() */
    GArray    *sent;      /* HarnessSent, bodies owned */
    GArray    *timers;    /* HarnessTimer */
    GArray    *cancelled; /* DsimTimerId */
    GArray    *replies;   /* HarnessReply */
    GArray    *calls;     /* HarnessCall, bodies owned */
    GArray    *responses; /* HarnessResponse, bodies owned */
    GArray    *persisted; /* uint64_t keys */
    unsigned   n_syncs;
    GPtrArray *logs;      /* char *, owned */
    GArray    *metrics;   /* HarnessMetric, names owned */
};

/* ---- the backend --------------------------------------------------------- */

static Harness *harness_of(DsimCtx *ctx)
{
    return ctx->impl;
}

static Armed *find_armed(const Harness *h, DsimTimerId id)
{
    for (unsigned i = 0; i < h->armed->len; i++) {
        Armed *a = &g_array_index(h->armed, Armed, i);
        if (a->t.id == id)
            return a;
    }
    return NULL;
}

static void op_send(DsimCtx *ctx, DsimNodeId to, uint16_t type, const void *body, size_t size)
{
    Harness *h = harness_of(ctx);
    g_assert(to < h->n);
    g_assert(size <= UINT32_MAX);
    HarnessSent s = { .to = to, .type = type, .size = (uint32_t) size,
                      .body = g_memdup2(body, size) };
    g_array_append_val(h->sent, s);
}

static DsimTimerId op_timer_set(DsimCtx *ctx, DsimTime delay, unsigned kind, uint64_t arg)
{
    Harness *h = harness_of(ctx);
    HarnessTimer t = { .id = ++h->next_timer, .delay = delay, .kind = kind, .arg = arg,
                       .due = h->ctx.now + delay };
    Armed a = { .t = t, .state = ARMED_PENDING };
    g_array_append_val(h->timers, t);
    g_array_append_val(h->armed, a);
    return t.id;
}

static void op_timer_cancel(DsimCtx *ctx, DsimTimerId id)
{
    Harness *h = harness_of(ctx);
    Armed *a = find_armed(h, id);
    g_assert(a != NULL); /* an id this node never got: a protocol bug */
    if (a->state == ARMED_PENDING)
        a->state = ARMED_CANCELLED;
    g_array_append_val(h->cancelled, id);
}

static void op_persist(DsimCtx *ctx, uint64_t key, const void *val, size_t len)
{
    Harness *h = harness_of(ctx);
    dsim_store_put(h->store, key, val, len);
    g_array_append_val(h->persisted, key);
}

static void op_sync(DsimCtx *ctx)
{
    Harness *h = harness_of(ctx);
    dsim_store_sync(h->store);
    h->n_syncs++;
}

static bool op_load(DsimCtx *ctx, uint64_t key, void *buf, size_t len, size_t *out_len)
{
    return dsim_store_get(harness_of(ctx)->store, key, buf, len, out_len);
}

static void clear_reply(gpointer p)
{
    g_bytes_unref(((HarnessReply *) p)->result);
}

static void op_reply(DsimCtx *ctx, uint64_t request_id, DsimStatus status, const void *result,
                     size_t len)
{
    Harness *h = harness_of(ctx);
    HarnessReply r = { .request_id = request_id, .status = status,
                       .result = g_bytes_new(result, len) };
    g_array_append_val(h->replies, r);
}

static void op_log(DsimCtx *ctx, const char *line)
{
    g_ptr_array_add(harness_of(ctx)->logs, g_strdup(line));
}

static void op_metric(DsimCtx *ctx, const char *name, double value)
{
    Harness *h = harness_of(ctx);
    HarnessMetric m = { .name = g_strdup(name), .value = value };
    g_array_append_val(h->metrics, m);
}

static DsimCallId op_call(DsimCtx *ctx, DsimNodeId to, uint16_t method, const void *body,
                          size_t size, const DsimCallOpts *opts)
{
    Harness *h = harness_of(ctx);
    g_assert(to < g_strv_length(h->names));
    HarnessCall c = { .id = ++h->next_call, .to = to, .method = method,
                      .body = g_bytes_new(body, size), .at = h->ctx.now, .opts = *opts };
    g_array_append_val(h->calls, c);
    c.body = NULL;
    g_array_append_val(h->open_calls, c);
    return c.id;
}

static void op_respond(DsimCtx *ctx, DsimCallId call, DsimCallStatus status, const void *body,
                       size_t size)
{
    Harness *h = harness_of(ctx);
    unsigned i = 0;
    while (i < h->serving->len && g_array_index(h->serving, DsimCallId, i) != call)
        i++;
    g_assert(i < h->serving->len); /* not a call this node serves, or answered twice */
    g_array_remove_index(h->serving, i);
    HarnessResponse r = { .call = call, .status = status, .body = g_bytes_new(body, size) };
    g_array_append_val(h->responses, r);
}

static bool op_group_find(const DsimCtx *ctx, const char *group_id, DsimNodeId *first, unsigned *n)
{
    const Harness *h = ctx->impl;
    for (unsigned gi = 0; gi < h->groups->len; gi++) {
        if (strcmp(g_ptr_array_index(h->groups, gi), group_id) == 0) {
            *first = g_array_index(h->firsts, DsimNodeId, gi);
            DsimNodeId end = gi + 1 < h->firsts->len ? g_array_index(h->firsts, DsimNodeId, gi + 1)
                                                     : g_strv_length(h->names);
            *n = end - *first;
            return true;
        }
    }
    return false;
}

static DsimTime op_rand_dist(DsimCtx *ctx, const char *text)
{
    g_autoptr(DsimDist) d = dsim_dist_parse(text, NULL);
    g_assert(d != NULL);
    return dsim_dist_sample(d, ctx->rng);
}

static void clear_call(gpointer p)
{
    g_bytes_unref(((HarnessCall *) p)->body);
}

static void clear_response(gpointer p)
{
    g_bytes_unref(((HarnessResponse *) p)->body);
}

static void op_count(DsimCtx *ctx, const char *name)
{
    op_metric(ctx, name, 1); /* recorded as a sample of 1, as the world keeps it */
}

static const DsimCtxOps harness_ops = {
    .send = op_send,
    .timer_set = op_timer_set,
    .timer_cancel = op_timer_cancel,
    .persist = op_persist,
    .sync = op_sync,
    .load = op_load,
    .reply = op_reply,
    .call = op_call,
    .respond = op_respond,
    .group_find = op_group_find,
    .rand_dist = op_rand_dist,
    .log = op_log,
    .metric = op_metric,
    .count = op_count,
};

/* ---- lifecycle ----------------------------------------------------------- */

Harness *harness_new(const DsimProtocol *proto, const char *group_id, unsigned group_size,
                     unsigned self_index, uint64_t seed)
{
    g_assert(proto != NULL && group_id != NULL);
    g_assert(self_index < group_size);

    Harness *h = g_new0(Harness, 1);
    h->proto = proto;
    h->n = group_size;
    h->names = g_new0(char *, group_size + 1);
    for (unsigned i = 0; i < group_size; i++)
        h->names[i] = g_strdup_printf("%s%u", group_id, i + 1);
    h->config = g_malloc0(MAX(proto->config_size, 1));
    dsim_param_defaults(proto, h->config);
    h->state = g_malloc0(MAX(proto->state_size, 1));
    h->store = dsim_store_new();
    g_autofree char *stream = g_strdup_printf("node/%s", h->names[self_index]);
    dsim_rng_init(&h->rng, seed, stream);

    h->ctx = (DsimCtx) {
        .ops = &harness_ops,
        .impl = h,
        .now = 0,
        .self = self_index,
        .self_index = self_index,
        .group_size = group_size,
        .group_first = 0,
        .names = (const char *const *) h->names,
        .config = h->config,
        .rng = &h->rng,
        .logging = true,
    };

    h->armed = g_array_new(FALSE, FALSE, sizeof(Armed));
    h->groups = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(h->groups, g_strdup(group_id));
    h->firsts = g_array_new(FALSE, TRUE, sizeof(DsimNodeId));
    g_array_set_size(h->firsts, 1);
    h->open_calls = g_array_new(FALSE, FALSE, sizeof(HarnessCall));
    h->serving = g_array_new(FALSE, FALSE, sizeof(DsimCallId));
    h->calls = g_array_new(FALSE, FALSE, sizeof(HarnessCall));
    g_array_set_clear_func(h->calls, clear_call);
    h->responses = g_array_new(FALSE, FALSE, sizeof(HarnessResponse));
    g_array_set_clear_func(h->responses, clear_response);
    h->sent = g_array_new(FALSE, FALSE, sizeof(HarnessSent));
    h->timers = g_array_new(FALSE, FALSE, sizeof(HarnessTimer));
    h->cancelled = g_array_new(FALSE, FALSE, sizeof(DsimTimerId));
    h->replies = g_array_new(FALSE, FALSE, sizeof(HarnessReply));
    g_array_set_clear_func(h->replies, clear_reply);
    h->persisted = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    h->logs = g_ptr_array_new_with_free_func(g_free);
    h->metrics = g_array_new(FALSE, FALSE, sizeof(HarnessMetric));
    return h;
}

void harness_clear(Harness *h)
{
    for (unsigned i = 0; i < h->sent->len; i++)
        g_free((void *) g_array_index(h->sent, HarnessSent, i).body);
    for (unsigned i = 0; i < h->metrics->len; i++)
        g_free((char *) g_array_index(h->metrics, HarnessMetric, i).name);
    g_array_set_size(h->sent, 0);
    g_array_set_size(h->timers, 0);
    g_array_set_size(h->cancelled, 0);
    g_array_set_size(h->replies, 0);
    g_array_set_size(h->calls, 0);
    g_array_set_size(h->responses, 0);
    g_array_set_size(h->persisted, 0);
    h->n_syncs = 0;
    g_ptr_array_set_size(h->logs, 0);
    g_array_set_size(h->metrics, 0);
}

void harness_free(Harness *h)
{
    if (h == NULL)
        return;
    if (h->up && h->proto->fini != NULL)
        h->proto->fini(h->state);
    harness_clear(h);
    g_array_unref(h->armed);
    g_array_unref(h->sent);
    g_array_unref(h->timers);
    g_array_unref(h->cancelled);
    g_array_unref(h->replies);
    g_array_unref(h->calls);
    g_array_unref(h->responses);
    g_array_unref(h->open_calls);
    g_array_unref(h->serving);
    g_ptr_array_unref(h->groups);
    g_array_unref(h->firsts);
    g_array_unref(h->persisted);
    g_ptr_array_unref(h->logs);
    g_array_unref(h->metrics);
    dsim_store_free(h->store);
    g_free(h->state);
    g_free(h->config);
    g_strfreev(h->names);
    g_free(h);
}

void harness_set_param(Harness *h, const char *name, const char *text)
{
    const DsimParam *p = dsim_param_find(h->proto->params, name);
    g_autofree char *why = NULL;

    if (p == NULL)
        g_error("harness_set_param: %s has no param \"%s\"", h->proto->name, name);
    if (!dsim_param_parse(p, text, h->config, &why))
        g_error("harness_set_param: %s=%s: %s", name, text, why);
}

void harness_init(Harness *h)
{
    g_assert(!h->up && !h->crashed);
    h->up = true;
    if (h->proto->init != NULL)
        h->proto->init(h->state, &h->ctx);
}

/* ---- inputs -------------------------------------------------------------- */

uint64_t harness_deliver(Harness *h, unsigned from_index, uint16_t type, const void *body,
                         size_t size)
{
    g_assert(h->up);
    g_assert(from_index < h->n);
    g_assert(size <= UINT32_MAX);
    g_autofree void *copy = g_memdup2(body, size);
    DsimMsg msg = {
        .from = from_index,
        .to = h->ctx.self,
        .type = type,
        .size = (uint32_t) size,
        .id = ++h->next_msg,
        .sent_at = h->ctx.now,
        .body = copy,
    };
    h->proto->on_message(h->state, &h->ctx, &msg);
    return msg.id;
}

DsimNodeId harness_add_group(Harness *h, const char *group_id, unsigned n)
{
    guint old = g_strv_length(h->names);
    h->names = g_renew(char *, h->names, old + n + 1);
    for (unsigned i = 0; i < n; i++)
        h->names[old + i] = g_strdup_printf("%s%u", group_id, i + 1);
    h->names[old + n] = NULL;
    h->ctx.names = (const char *const *) h->names;
    g_ptr_array_add(h->groups, g_strdup(group_id));
    DsimNodeId first = old;
    g_array_append_val(h->firsts, first);
    return first;
}

DsimCallId harness_serve(Harness *h, DsimNodeId from, uint16_t method, const void *body,
                         size_t size, DsimTime deadline, uint64_t trace)
{
    g_assert(h->up && h->proto->on_call != NULL);
    g_assert(from < g_strv_length(h->names));
    g_autofree void *copy = g_memdup2(body, size);
    DsimCall call = { .id = ++h->next_call, .from = from, .method = method, .size = (uint32_t) size,
                      .body = copy, .deadline = deadline };
    call.trace = trace != 0 ? trace : call.id;
    g_array_append_val(h->serving, call.id);
    h->proto->on_call(h->state, &h->ctx, &call);
    return call.id;
}

void harness_outcome(Harness *h, DsimCallId id, DsimCallStatus status, const void *body,
                     size_t size)
{
    g_assert(h->up && h->proto->on_response != NULL);
    unsigned i = 0;
    while (i < h->open_calls->len && g_array_index(h->open_calls, HarnessCall, i).id != id)
        i++;
    g_assert(i < h->open_calls->len); /* not a call the node made, or already answered */
    HarnessCall c = g_array_index(h->open_calls, HarnessCall, i);
    g_array_remove_index(h->open_calls, i);
    g_autofree void *copy = g_memdup2(body, size);
    DsimResponse r = { .id = id, .tag = c.opts.tag, .to = c.to, .method = c.method, .status = status,
                       .size = status == DSIM_CALL_TIMEOUT ? 0 : (uint32_t) size,
                       .body = status == DSIM_CALL_TIMEOUT ? NULL : copy,
                       .latency = h->ctx.now - c.at };
    h->proto->on_response(h->state, &h->ctx, &r);
}

void harness_fire(Harness *h, unsigned kind, uint64_t arg)
{
    g_assert(h->up);
    for (unsigned i = 0; i < h->armed->len; i++) {
        Armed *a = &g_array_index(h->armed, Armed, i);
        if (a->state == ARMED_PENDING && a->t.kind == kind && a->t.arg == arg) {
            a->state = ARMED_FIRED;
            break;
        }
    }
    h->proto->on_timer(h->state, &h->ctx, kind, arg);
}

void harness_fire_timer(Harness *h, DsimTimerId id)
{
    Armed *a = find_armed(h, id);

    g_assert(h->up);
    g_assert(a != NULL && a->state == ARMED_PENDING);
    a->state = ARMED_FIRED;
    if (a->t.due > h->ctx.now)
        h->ctx.now = a->t.due;
    unsigned kind = a->t.kind; /* the handler may grow h->armed and move a */
    uint64_t arg = a->t.arg;
    h->proto->on_timer(h->state, &h->ctx, kind, arg);
}

bool harness_timer_pending(const Harness *h, DsimTimerId id)
{
    const Armed *a = find_armed(h, id);
    return a != NULL && a->state == ARMED_PENDING;
}

void harness_request(Harness *h, uint64_t id, uint32_t client, const void *cmd, size_t size)
{
    g_assert(h->up);
    g_assert(h->proto->on_request != NULL);
    g_assert(size <= UINT32_MAX);
    g_autofree void *copy = g_memdup2(cmd, size);
    DsimRequest req = { .id = id, .client = client, .size = (uint32_t) size, .cmd = copy };
    h->proto->on_request(h->state, &h->ctx, &req);
}

void harness_crash(Harness *h, bool lose_unsynced)
{
    g_assert(h->up);
    if (h->proto->fini != NULL)
        h->proto->fini(h->state);
    memset(h->state, 0, h->proto->state_size);
    dsim_store_crash(h->store, lose_unsynced);
    for (unsigned i = 0; i < h->armed->len; i++) {
        Armed *a = &g_array_index(h->armed, Armed, i);
        if (a->state == ARMED_PENDING)
            a->state = ARMED_LOST;
    }
    g_array_set_size(h->open_calls, 0); /* a crash forgets calls, both ways */
    g_array_set_size(h->serving, 0);
    h->up = false;
    h->crashed = true;
}

void harness_recover(Harness *h)
{
    g_assert(h->crashed);
    h->crashed = false;
    h->up = true;
    if (h->proto->on_recover != NULL)
        h->proto->on_recover(h->state, &h->ctx);
    else if (h->proto->init != NULL)
        h->proto->init(h->state, &h->ctx);
}

/* ---- facts --------------------------------------------------------------- */

void harness_set_now(Harness *h, DsimTime t)
{
    g_assert(t >= h->ctx.now);
    h->ctx.now = t;
}

DsimTime harness_now(const Harness *h) { return h->ctx.now; }
void *harness_state(Harness *h) { return h->state; }
void *harness_config(Harness *h) { return h->config; }
DsimStore *harness_store(Harness *h) { return h->store; }
DsimCtx *harness_ctx(Harness *h) { return &h->ctx; }

const char *harness_name(const Harness *h, unsigned index)
{
    g_assert(index < h->n);
    return h->names[index];
}

void harness_describe(Harness *h, DsimView *view)
{
    memset(view, 0, sizeof *view);
    if (h->proto->describe != NULL)
        h->proto->describe(h->state, view);
}

char *harness_print_msg(const Harness *h, uint16_t type, const void *body, size_t size)
{
    GString *out = g_string_new(NULL);
    DsimMsg msg = { .from = 0, .to = h->ctx.self, .type = type, .size = (uint32_t) size,
                    .body = body };

    h->proto->print_msg(&msg, out);
    return g_string_free(out, FALSE);
}

/* ---- recordings ---------------------------------------------------------- */

unsigned harness_n_sent(const Harness *h) { return h->sent->len; }
unsigned harness_n_timers(const Harness *h) { return h->timers->len; }
unsigned harness_n_cancelled(const Harness *h) { return h->cancelled->len; }
unsigned harness_n_replies(const Harness *h) { return h->replies->len; }
unsigned harness_n_calls(const Harness *h) { return h->calls->len; }
const HarnessCall *harness_call(const Harness *h, unsigned i)
{
    g_assert(i < h->calls->len);
    return &g_array_index(h->calls, HarnessCall, i);
}
unsigned harness_n_responses(const Harness *h) { return h->responses->len; }
const HarnessResponse *harness_response(const Harness *h, unsigned i)
{
    g_assert(i < h->responses->len);
    return &g_array_index(h->responses, HarnessResponse, i);
}
unsigned harness_n_persisted(const Harness *h) { return h->persisted->len; }
unsigned harness_n_syncs(const Harness *h) { return h->n_syncs; }
unsigned harness_n_logs(const Harness *h) { return h->logs->len; }
unsigned harness_n_metrics(const Harness *h) { return h->metrics->len; }

const HarnessSent *harness_sent(const Harness *h, unsigned i)
{
    g_assert(i < h->sent->len);
    return &g_array_index(h->sent, HarnessSent, i);
}

const HarnessTimer *harness_timer(const Harness *h, unsigned i)
{
    g_assert(i < h->timers->len);
    return &g_array_index(h->timers, HarnessTimer, i);
}

DsimTimerId harness_cancelled(const Harness *h, unsigned i)
{
    g_assert(i < h->cancelled->len);
    return g_array_index(h->cancelled, DsimTimerId, i);
}

const HarnessReply *harness_reply(const Harness *h, unsigned i)
{
    g_assert(i < h->replies->len);
    return &g_array_index(h->replies, HarnessReply, i);
}

uint64_t harness_persisted(const Harness *h, unsigned i)
{
    g_assert(i < h->persisted->len);
    return g_array_index(h->persisted, uint64_t, i);
}

const char *harness_log(const Harness *h, unsigned i)
{
    g_assert(i < h->logs->len);
    return g_ptr_array_index(h->logs, i);
}

const HarnessMetric *harness_metric(const Harness *h, unsigned i)
{
    g_assert(i < h->metrics->len);
    return &g_array_index(h->metrics, HarnessMetric, i);
}

unsigned harness_count_metric(const Harness *h, const char *name)
{
    unsigned n = 0;
    for (unsigned i = 0; i < harness_n_metrics(h); i++)
        n += strcmp(harness_metric(h, i)->name, name) == 0;
    return n;
}

double harness_last_metric(const Harness *h, const char *name)
{
    for (unsigned i = harness_n_metrics(h); i-- > 0;) {
        if (strcmp(harness_metric(h, i)->name, name) == 0)
            return harness_metric(h, i)->value;
    }
    return -1;
}
