/* gateway.c - the API gateway of gateway.h: route, limit, fan out, retry, answer.
 *
 * A request's life at the gateway:
 *  1. the rate limiter (if any) may refuse it: FAIL "rate-limited" (Envoy's local rate limit
 *     filter answers 429 the same way, before routing);
 *  2. the route table finds its route, first match in order (Envoy's route table): none, and
 *     it is answered FAIL "no-route" (HTTP 404);
 *  3. each group of the route gets one upstream call to an instance the group's balancer
 *     picks, with a timeout of min(timeout, what is left of the client's deadline); a call
 *     that fails or times out is retried on an instance of the same group not tried yet,
 *     up to `retries` times, while the deadline allows;
 *  4. when every part has answered, the gateway answers: OK when all parts are OK, else FAIL
 *     "upstream" (a BFF that cannot build the whole page says so).
 * Metrics: gateway_latency_seconds (per request, from its arrival at the gateway to the
 * answer), gateway_fanout (parts per routed request), and counters (one sample of 1 per event:
 * reports draw them as running counts): gateway_no_route, gateway_rate_limited,
 * gateway_retries, gateway_failed.
 */
#include "algorithms/gateway/gateway.h"

#include <string.h>

static const DsimParam gateway_params[] = {
    { .name = "routes", .type = DSIM_PARAM_STRING, .def = "/ -> s",
      .help = "route table: \"PREFIX -> GROUP\" or \"PREFIX [HEADER] -> GROUP + GROUP\" rules "
              "separated by ';', first match wins; several groups fan out (BFF)",
      .offset = offsetof(GatewayConfig, routes) },
    { .name = "lb", .type = DSIM_PARAM_CHOICE, .def = "round-robin", .choices = LB_CHOICES,
      .help = "load balancing over each group's instances (lb.h)",
      .offset = offsetof(GatewayConfig, lb) },
    { .name = "timeout", .type = DSIM_PARAM_TIME, .def = "200ms",
      .help = "per upstream call, at most (cut to the client's deadline)",
      .offset = offsetof(GatewayConfig, timeout) },
    { .name = "retries", .type = DSIM_PARAM_INT, .def = "1",
      .help = "retries of a failed upstream call, on other instances of its group",
      .offset = offsetof(GatewayConfig, retries), .min = 0, .max = 63 },
    { .name = "limit_kind", .type = DSIM_PARAM_CHOICE, .def = "none", .choices = RATELIMIT_CHOICES,
      .help = "rate limiter for the whole gateway (ratelimit.h)",
      .offset = offsetof(GatewayConfig, limit_kind) },
    { .name = "limit", .type = DSIM_PARAM_INT, .def = "100",
      .help = "requests per limit_window (the buckets' burst)",
      .offset = offsetof(GatewayConfig, limit), .min = 1, .max = UINT32_MAX },
    { .name = "limit_window", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "the limiter's window",
      .offset = offsetof(GatewayConfig, limit_window) },
    { NULL },
};

/* ---- the route table ------------------------------------------------------------------------ */

/* Copies the trimmed text [b, e) into @dst of @cap bytes; false when empty or too long. */
static bool take(const char *b, const char *e, char *dst, size_t cap)
{
    while (b < e && g_ascii_isspace(*b))
        b++;
    while (e > b && g_ascii_isspace(e[-1]))
        e--;
    if (e == b || (size_t) (e - b) >= cap)
        return false;
    memcpy(dst, b, (size_t) (e - b));
    dst[e - b] = '\0';
    return true;
}

static int group_index(GatewayTable *t, const char *id)
{
    for (unsigned g = 0; g < t->n_groups; g++) {
        if (strcmp(t->group[g], id) == 0)
            return (int) g;
    }
    if (t->n_groups == GATEWAY_MAX_GROUPS)
        return -1;
    g_strlcpy(t->group[t->n_groups], id, sizeof t->group[0]);
    return (int) t->n_groups++;
}

bool gateway_parse_routes(const char *text, GatewayTable *out, GString *why)
{
    memset(out, 0, sizeof *out);
    g_auto(GStrv) rules = g_strsplit(text, ";", -1);
    for (char **r = rules; *r != NULL; r++) {
        if (*g_strstrip(*r) == '\0')
            continue;
        const char *arrow = strstr(*r, "->");
        if (arrow == NULL) {
            g_string_printf(why, "route \"%s\" has no \"->\"", *r);
            return false;
        }
        if (out->n_routes == GATEWAY_MAX_ROUTES) {
            g_string_printf(why, "more than %d routes", GATEWAY_MAX_ROUTES);
            return false;
        }
        GatewayRoute *rt = &out->route[out->n_routes];
        const char *open = memchr(*r, '[', (size_t) (arrow - *r));
        const char *end_prefix = open != NULL ? open : arrow;
        if (!take(*r, end_prefix, rt->prefix, sizeof rt->prefix) || rt->prefix[0] != '/') {
            g_string_printf(why, "route \"%s\": the path prefix must start with / (at most %d bytes)",
                            *r, GATEWAY_PATH_MAX - 1);
            return false;
        }
        if (open != NULL) {
            const char *close = memchr(open, ']', (size_t) (arrow - open));
            if (close == NULL || !take(open + 1, close, rt->header, sizeof rt->header)) {
                g_string_printf(why, "route \"%s\": write the header as [VALUE] (at most %d bytes)",
                                *r, GATEWAY_HEADER_MAX - 1);
                return false;
            }
        }
        g_auto(GStrv) groups = g_strsplit(arrow + 2, "+", -1);
        for (char **g = groups; *g != NULL; g++) {
            char id[sizeof out->group[0]];
            int gi;
            if (!take(*g, *g + strlen(*g), id, sizeof id) || rt->n_targets == GATEWAY_MAX_TARGETS
                || (gi = group_index(out, id)) < 0) {
                g_string_printf(why, "route \"%s\": name 1 to %d groups joined by +, %d groups in "
                                "all", *r, GATEWAY_MAX_TARGETS, GATEWAY_MAX_GROUPS);
                return false;
            }
            rt->target[rt->n_targets++] = (unsigned) gi;
        }
        if (rt->n_targets == 0) {
            g_string_printf(why, "route \"%s\" names no group after ->", *r);
            return false;
        }
        out->n_routes++;
    }
    if (out->n_routes == 0) {
        g_string_printf(why, "the route table is empty");
        return false;
    }
    return true;
}

int gateway_match(const GatewayTable *t, const char *path, const char *header)
{
    for (unsigned i = 0; i < t->n_routes; i++) {
        const GatewayRoute *r = &t->route[i];
        if (g_str_has_prefix(path, r->prefix) && (r->header[0] == '\0' || strcmp(r->header, header) == 0))
            return (int) i;
    }
    return -1;
}

/* ---- the request's parts ----------------------------------------------------------------------- */

static double secs(DsimTime t) { return (double) t / 1e9; }

/* Tags of upstream calls: the pending slot and the part. */
static uint64_t tag_of(unsigned slot, unsigned part) { return (uint64_t) slot << 8 | part; }

static void finish(GatewayNode *gw, DsimCtx *ctx, unsigned slot)
{
    GatewayPending *p = &g_array_index(gw->pending, GatewayPending, slot);
    if (p->failed_parts > 0) {
        gw->failed++;
        dsim_metric(ctx, "gateway_failed", 1);
        dsim_respond(ctx, p->call, DSIM_CALL_FAIL, GATEWAY_FAIL_UPSTREAM, strlen(GATEWAY_FAIL_UPSTREAM));
    } else {
        dsim_respond(ctx, p->call, DSIM_CALL_OK, NULL, 0);
    }
    dsim_metric(ctx, "gateway_latency_seconds", secs(dsim_now(ctx) - p->arrived));
    p->call = 0;
}

/* Sends part @part of pending request @slot to an instance of its group not tried yet; false
 * when none is left or the client's deadline has passed. */
static bool send_part(GatewayNode *gw, DsimCtx *ctx, const GatewayConfig *cfg, unsigned slot,
                      unsigned part)
{
    GatewayPending *p = &g_array_index(gw->pending, GatewayPending, slot);
    unsigned g = gw->table.route[p->route].target[part];
    Lb *lb = &gw->lb[g];
    uint8_t excluded[LB_MAX_BACKENDS] = { 0 };
    for (uint32_t b = 0; b < lb->n; b++)
        excluded[b] = (p->tried[part] >> b & 1) != 0;
    DsimTime left = p->deadline - dsim_now(ctx);
    uint32_t b = lb_pick(lb, p->key, dsim_rand(ctx), dsim_rand(ctx), excluded);
    if (b == LB_NONE || left <= 0)
        return false;
    p->tried[part] |= UINT64_C(1) << b;
    p->attempts[part]++;
    lb_started(lb, b);
    ServiceRequest req = { .key = p->key, .attempt = p->attempts[part] };
    /* made on behalf of the client's call: one trace */
    DsimCallOpts o = { .timeout = MIN(cfg->timeout, left), .tag = tag_of(slot, part), .parent = p->call };
    dsim_call(ctx, gw->first[g] + b, SERVICE_METHOD_REQUEST, &req, sizeof req, &o);
    gw->upstream_calls++;
    return true;
}

/* ---- handlers ---------------------------------------------------------------------------------- */

static void gateway_init(void *state, DsimCtx *ctx)
{
    GatewayNode *gw = state;
    const GatewayConfig *cfg = dsim_config(ctx);
    g_autoptr(GString) why = g_string_new(NULL);
    if (!gateway_parse_routes(cfg->routes, &gw->table, why)) /* refused at load (validate) */
        g_error("%s: routes: %s", dsim_name(ctx, dsim_self(ctx)), why->str);
    for (unsigned g = 0; g < gw->table.n_groups; g++) {
        unsigned n;
        if (!dsim_group_find(ctx, gw->table.group[g], &gw->first[g], &n))
            g_error("%s: routes: no group %s", dsim_name(ctx, dsim_self(ctx)), gw->table.group[g]);
        uint64_t ids[LB_MAX_BACKENDS];
        for (unsigned b = 0; b < n; b++)
            ids[b] = gw->first[g] + b;
        lb_init(&gw->lb[g], (LbPolicy) cfg->lb, MIN(n, LB_MAX_BACKENDS), ids, NULL);
    }
    if (cfg->limit_kind != RL_NONE) {
        RateLimitConfig rl = { .kind = cfg->limit_kind, .limit = (uint32_t) cfg->limit, .window = cfg->limit_window };
        gw->limiter = ratelimit_new(&rl);
    }
    gw->pending = g_array_new(FALSE, TRUE, sizeof(GatewayPending));
    gw->up = true;
}

static void gateway_fini(void *state)
{
    GatewayNode *gw = state;
    for (unsigned g = 0; g < gw->table.n_groups; g++)
        lb_clear(&gw->lb[g]);
    ratelimit_free(gw->limiter);
    if (gw->pending != NULL)
        g_array_unref(gw->pending);
}

static void gateway_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg) {}
static void gateway_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg) {}

static void gateway_on_call(void *state, DsimCtx *ctx, const DsimCall *call)
{
    GatewayNode *gw = state;
    const GatewayConfig *cfg = dsim_config(ctx);
    GatewayRequest r = { .path = "/" };
    if (call->size >= sizeof r)
        memcpy(&r, call->body, sizeof r);
    else if (call->size >= sizeof r.req)
        memcpy(&r.req, call->body, sizeof r.req);
    r.path[GATEWAY_PATH_MAX - 1] = r.header[GATEWAY_HEADER_MAX - 1] = '\0';
    gw->requests++;
    if (gw->limiter != NULL && !ratelimit_allow(gw->limiter, dsim_now(ctx))) {
        gw->rate_limited++;
        dsim_metric(ctx, "gateway_rate_limited", 1);
        dsim_respond(ctx, call->id, DSIM_CALL_FAIL, GATEWAY_FAIL_RATE_LIMITED, strlen(GATEWAY_FAIL_RATE_LIMITED));
        return;
    }
    int route = gateway_match(&gw->table, r.path, r.header);
    if (route < 0) {
        gw->no_route++;
        dsim_metric(ctx, "gateway_no_route", 1);
        dsim_respond(ctx, call->id, DSIM_CALL_FAIL, GATEWAY_FAIL_NO_ROUTE, strlen(GATEWAY_FAIL_NO_ROUTE));
        return;
    }
    /* a free slot, or a new one */
    unsigned slot = 0;
    while (slot < gw->pending->len && g_array_index(gw->pending, GatewayPending, slot).call != 0)
        slot++;
    if (slot == gw->pending->len)
        g_array_set_size(gw->pending, slot + 1);
    GatewayPending *p = &g_array_index(gw->pending, GatewayPending, slot);
    *p = (GatewayPending) { .call = call->id, .arrived = dsim_now(ctx), .deadline = call->deadline,
                            .key = r.req.key, .route = (uint16_t) route };
    const GatewayRoute *rt = &gw->table.route[route];
    dsim_metric(ctx, "gateway_fanout", rt->n_targets);
    for (unsigned part = 0; part < rt->n_targets; part++) {
        p = &g_array_index(gw->pending, GatewayPending, slot);
        p->parts_left++;
        if (!send_part(gw, ctx, cfg, slot, part)) {
            p->parts_left--;
            p->failed_parts++;
        }
    }
    if (g_array_index(gw->pending, GatewayPending, slot).parts_left == 0)
        finish(gw, ctx, slot);
}

static void gateway_on_response(void *state, DsimCtx *ctx, const DsimResponse *resp)
{
    GatewayNode *gw = state;
    const GatewayConfig *cfg = dsim_config(ctx);
    unsigned slot = (unsigned) (resp->tag >> 8), part = (unsigned) (resp->tag & 0xff);
    GatewayPending *p = &g_array_index(gw->pending, GatewayPending, slot);
    g_assert(slot < gw->pending->len && p->call != 0);
    unsigned g = gw->table.route[p->route].target[part];
    lb_finished(&gw->lb[g], (uint32_t) (resp->to - gw->first[g]));
    if (resp->status != DSIM_CALL_OK) {
        /* retry on another instance of the part's group, while retries and deadline last */
        if (p->attempts[part] <= cfg->retries && send_part(gw, ctx, cfg, slot, part)) {
            gw->retries++;
            dsim_metric(ctx, "gateway_retries", 1);
            return;
        }
        p = &g_array_index(gw->pending, GatewayPending, slot);
        p->failed_parts++;
    }
    if (--p->parts_left == 0)
        finish(gw, ctx, slot);
}

static void gateway_describe(const void *state, DsimView *view)
{
    const GatewayNode *gw = state;
    g_snprintf(view->text, sizeof view->text, "gateway %" PRIu64 " requests", gw->requests);
}

/* At load: the table parses and names groups of the scenario that take calls. */
static const char *gateway_validate(const void *config, const DsimShape *shape, GString *why)
{
    const GatewayConfig *cfg = config;
    GatewayTable t;
    if (!gateway_parse_routes(cfg->routes, &t, why))
        return "routes";
    for (unsigned g = 0; g < t.n_groups; g++) {
        unsigned k = 0;
        while (k < shape->n_groups && strcmp(shape->ids[k], t.group[g]) != 0)
            k++;
        if (k == shape->n_groups || shape->protocols[k]->on_call == NULL
            || shape->sizes[k] > LB_MAX_BACKENDS) {
            g_string_printf(why, k == shape->n_groups ? "routes name group %s, which the scenario does not have"
                                 : shape->protocols[k]->on_call == NULL ? "routes name group %s, which takes no calls"
                                                                        : "routes name group %s, larger than 64 members",
                            t.group[g]);
            return "routes";
        }
    }
    if (cfg->limit_kind != RL_NONE && cfg->limit_window <= 0) {
        g_string_printf(why, "limit_window must be above 0 when limit_kind is set");
        return "limit_window";
    }
    return NULL;
}

const DsimProtocol gateway_protocol = {
    .name = "gateway",
    .summary = "an API gateway: routes by path and header, rate limit, retries, BFF fan-out",
    .params = gateway_params,
    .config_size = sizeof(GatewayConfig),
    .state_size = sizeof(GatewayNode),
    .init = gateway_init,
    .fini = gateway_fini,
    .on_message = gateway_on_message,
    .on_timer = gateway_on_timer,
    .on_call = gateway_on_call,
    .on_response = gateway_on_response,
    .describe = gateway_describe,
    .method_name = service_method_name,
    .validate = gateway_validate,
};
