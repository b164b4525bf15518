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
 * answer), gateway_fanout (parts per routed request), and counts (dsim_count;
 * reports draw them as running counts): gateway_no_route, gateway_rate_limited,
 * gateway_retries, gateway_failed, gateway_limiter_unanswered.
 *
 * With several gateways in a group the rate limit is the group's (limit_scope, gateway.h):
 * local, split or shared. The `limiter` protocol at the end of this file is the shared
 * counter service. The invariant global-limit-conforms checks what the group admitted in
 * total against the configured limit: it fails for local scope with more than one gateway,
 * which is the point of showing it.
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
    { .name = "limit_scope", .type = DSIM_PARAM_CHOICE, .def = "local", .choices = GATEWAY_LIMIT_SCOPES,
      .help = "with several gateways: each has the whole limit (local), an equal share (split), "
              "or all ask a shared limiter service (shared)",
      .offset = offsetof(GatewayConfig, limit_scope) },
    { .name = "limit_service", .type = DSIM_PARAM_STRING, .def = "",
      .help = "shared: the group of `limiter` nodes to ask",
      .offset = offsetof(GatewayConfig, limit_service) },
    { .name = "limit_timeout", .type = DSIM_PARAM_TIME, .def = "50ms",
      .help = "shared: how long to wait for the limiter's answer",
      .offset = offsetof(GatewayConfig, limit_timeout) },
    { .name = "limit_fail_open", .type = DSIM_PARAM_BOOL, .def = "false",
      .help = "shared: admit a request when the limiter does not answer (else refuse it)",
      .offset = offsetof(GatewayConfig, limit_fail_open) },
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
        dsim_count(ctx, "gateway_failed");
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
        gw->admitted = g_array_new(FALSE, FALSE, sizeof(DsimTime));
        RateLimitConfig rl = { .kind = cfg->limit_kind, .limit = (uint32_t) cfg->limit, .window = cfg->limit_window };
        if (cfg->limit_scope == LIMIT_SPLIT) { /* an equal share; the first ones get the remainder */
            unsigned n = dsim_group_size(ctx), i = dsim_self_index(ctx);
            rl.limit = (uint32_t) (cfg->limit / n + ((unsigned) (cfg->limit % n) > i));
        }
        if (cfg->limit_scope == LIMIT_SHARED) {
            if (!dsim_group_find(ctx, cfg->limit_service, &gw->limit_first, &gw->limit_n))
                g_error("%s: no limiter group %s", dsim_name(ctx, dsim_self(ctx)), cfg->limit_service);
        } else {
            gw->limiter = ratelimit_new(&rl); /* split: validate made every share >= 1 */
        }
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
    if (gw->admitted != NULL)
        g_array_unref(gw->admitted);
}

static void gateway_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg) {}
static void gateway_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg) {}

#define LIMITER_PART 0xff /* the tag's part of a call to the shared limiter */

static void refuse(GatewayNode *gw, DsimCtx *ctx, unsigned slot, const char *why)
{
    GatewayPending *p = &g_array_index(gw->pending, GatewayPending, slot);
    if (strcmp(why, GATEWAY_FAIL_RATE_LIMITED) == 0) {
        gw->rate_limited++;
        dsim_count(ctx, "gateway_rate_limited");
    } else {
        gw->no_route++;
        dsim_count(ctx, "gateway_no_route");
    }
    dsim_respond(ctx, p->call, DSIM_CALL_FAIL, why, strlen(why));
    p->call = 0;
}

/* Step 2 onwards for the admitted request in @slot: match a route, call its groups. */
static void route(GatewayNode *gw, DsimCtx *ctx, const GatewayConfig *cfg, unsigned slot)
{
    GatewayPending *p = &g_array_index(gw->pending, GatewayPending, slot);
    int route = gateway_match(&gw->table, p->path, p->header);
    if (route < 0) {
        refuse(gw, ctx, slot, GATEWAY_FAIL_NO_ROUTE);
        return;
    }
    p->route = (uint16_t) route;
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

static void admitted(GatewayNode *gw, DsimTime at) { g_array_append_val(gw->admitted, at); }

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
    /* a free slot, or a new one */
    unsigned slot = 0;
    while (slot < gw->pending->len && g_array_index(gw->pending, GatewayPending, slot).call != 0)
        slot++;
    if (slot == gw->pending->len)
        g_array_set_size(gw->pending, slot + 1);
    GatewayPending *p = &g_array_index(gw->pending, GatewayPending, slot);
    *p = (GatewayPending) { .call = call->id, .arrived = dsim_now(ctx), .deadline = call->deadline,
                            .key = r.req.key };
    memcpy(p->path, r.path, sizeof p->path);
    memcpy(p->header, r.header, sizeof p->header);
    /* step 1: the rate limit, here or at the shared limiter */
    if (cfg->limit_kind != RL_NONE && cfg->limit_scope == LIMIT_SHARED) {
        DsimCallOpts o = { .timeout = MIN(cfg->limit_timeout, MAX(call->deadline - dsim_now(ctx), 1)),
                           .tag = tag_of(slot, LIMITER_PART) };
        dsim_call(ctx, gw->limit_first + dsim_self_index(ctx) % gw->limit_n, LIMITER_METHOD_ACQUIRE,
                  NULL, 0, &o);
        return;
    }
    if (gw->limiter != NULL) {
        if (!ratelimit_allow(gw->limiter, dsim_now(ctx))) {
            refuse(gw, ctx, slot, GATEWAY_FAIL_RATE_LIMITED);
            return;
        }
        admitted(gw, dsim_now(ctx));
    }
    route(gw, ctx, cfg, slot);
}

/* The shared limiter's answer for the request in @slot. */
static void limiter_answered(GatewayNode *gw, DsimCtx *ctx, const GatewayConfig *cfg, unsigned slot,
                             const DsimResponse *resp)
{
    if (resp->status == DSIM_CALL_OK) {
        DsimTime at; /* the limiter's decision: what the global limit is about */
        g_assert(resp->size == sizeof at);
        memcpy(&at, resp->body, sizeof at);
        admitted(gw, at);
        route(gw, ctx, cfg, slot);
    } else if (resp->status == DSIM_CALL_TIMEOUT && cfg->limit_fail_open) {
        gw->limiter_unanswered++;
        dsim_count(ctx, "gateway_limiter_unanswered");
        admitted(gw, dsim_now(ctx)); /* unchecked: what failing open costs */
        route(gw, ctx, cfg, slot);
    } else {
        if (resp->status == DSIM_CALL_TIMEOUT) {
            gw->limiter_unanswered++;
            dsim_count(ctx, "gateway_limiter_unanswered");
        }
        refuse(gw, ctx, slot, GATEWAY_FAIL_RATE_LIMITED);
    }
}

static void gateway_on_response(void *state, DsimCtx *ctx, const DsimResponse *resp)
{
    GatewayNode *gw = state;
    const GatewayConfig *cfg = dsim_config(ctx);
    unsigned slot = (unsigned) (resp->tag >> 8), part = (unsigned) (resp->tag & 0xff);
    GatewayPending *p = &g_array_index(gw->pending, GatewayPending, slot);
    g_assert(slot < gw->pending->len && p->call != 0);
    if (part == LIMITER_PART) {
        limiter_answered(gw, ctx, cfg, slot, resp);
        return;
    }
    unsigned g = gw->table.route[p->route].target[part];
    lb_finished(&gw->lb[g], (uint32_t) (resp->to - gw->first[g]));
    if (resp->status != DSIM_CALL_OK) {
        /* retry on another instance of the part's group, while retries and deadline last */
        if (p->attempts[part] <= cfg->retries && send_part(gw, ctx, cfg, slot, part)) {
            gw->retries++;
            dsim_count(ctx, "gateway_retries");
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
    if (cfg->limit_kind != RL_NONE && cfg->limit_scope == LIMIT_SPLIT
        && cfg->limit < (int64_t) shape->sizes[shape->self]) {
        g_string_printf(why, "limit %" PRId64 " cannot be split over %u gateways (each needs 1 at least)",
                        cfg->limit, shape->sizes[shape->self]);
        return "limit";
    }
    if (cfg->limit_kind != RL_NONE && cfg->limit_scope == LIMIT_SHARED) {
        unsigned k = 0;
        while (k < shape->n_groups && strcmp(shape->ids[k], cfg->limit_service) != 0)
            k++;
        if (k == shape->n_groups || shape->protocols[k] != &limiter_protocol) {
            g_string_printf(why, "limit_service \"%s\" must name a group of `limiter` nodes", cfg->limit_service);
            return "limit_service";
        }
    }
    return NULL;
}

/* ---- the invariant: what the group admitted against the group's limit -------------------------- */

static gint cmp_time(gconstpointer a, gconstpointer b)
{
    DsimTime x = *(const DsimTime *) a, y = *(const DsimTime *) b;
    return x < y ? -1 : x > y;
}

static bool check_global_limit(const DsimGroupView *g, GString *why)
{
    const GatewayConfig *cfg = g->config;
    if (cfg->limit_kind == RL_NONE)
        return true;
    g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(DsimTime));
    for (unsigned i = 0; i < g->n; i++) {
        const GatewayNode *gw = g->state[i];
        if (gw->up && gw->admitted != NULL)
            g_array_append_vals(all, gw->admitted->data, gw->admitted->len);
    }
    g_array_sort(all, cmp_time);
    RateLimitConfig rl = { .kind = cfg->limit_kind, .limit = (uint32_t) cfg->limit, .window = cfg->limit_window };
    uint64_t burst = ratelimit_burst(&rl);
    size_t a, b;
    const DsimTime *t = (const DsimTime *) (const void *) all->data;
    if (ratelimit_conforms(t, all->len, burst, rl.limit, rl.window, &a, &b))
        return true;
    g_string_printf(why, "the %u gateways admitted %zu requests from %.6fs to %.6fs, more than the "
                    "group's %s limit of %" PRIu64 " + %" PRId64 " per %.6fs allows (limit_scope=%s)",
                    g->n, b - a + 1, secs(t[a]), secs(t[b]), ratelimit_kind_name(rl.kind), burst,
                    cfg->limit, secs(cfg->limit_window),
                    cfg->limit_scope == LIMIT_LOCAL ? "local" : cfg->limit_scope == LIMIT_SPLIT ? "split" : "shared");
    return false;
}

static const DsimInvariant gateway_invariants[] = {
    { "global-limit-conforms", "the requests all gateways of the group admitted together stay "
      "within the group's rate limit (burst + rate * T in every interval of length T)",
      DSIM_CHECK_AT_END, check_global_limit, NULL },
    { NULL },
};

const DsimProtocol gateway_protocol = {
    .name = "gateway",
    .summary = "an API gateway: routes by path and header, rate limit, retries, BFF fan-out",
    .params = gateway_params,
    .invariants = gateway_invariants,
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

/* ---- limiter: the shared counter service of limit_scope=shared ----------------------------------- */

static const DsimParam limiter_params[] = {
    { .name = "kind", .type = DSIM_PARAM_CHOICE, .def = "token-bucket", .choices = RATELIMIT_CHOICES,
      .help = "the limiter (ratelimit.h)", .offset = offsetof(LimiterConfig, kind) },
    { .name = "limit", .type = DSIM_PARAM_INT, .def = "100",
      .help = "requests per window (the buckets' burst)",
      .offset = offsetof(LimiterConfig, limit), .min = 1, .max = UINT32_MAX },
    { .name = "window", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "the limiter's window", .offset = offsetof(LimiterConfig, window) },
    { NULL },
};

static void limiter_init(void *state, DsimCtx *ctx)
{
    LimiterNode *l = state;
    const LimiterConfig *cfg = dsim_config(ctx);
    RateLimitConfig rl = { .kind = cfg->kind, .limit = (uint32_t) cfg->limit, .window = cfg->window };
    l->rl = ratelimit_new(&rl);
    l->allowed = g_array_new(FALSE, FALSE, sizeof(DsimTime));
    l->up = true;
}

static void limiter_fini(void *state)
{
    LimiterNode *l = state;
    ratelimit_free(l->rl);
    if (l->allowed != NULL)
        g_array_unref(l->allowed);
}

/* ACQUIRE: one more request now? The answer carries the decision's time. */
static void limiter_on_call(void *state, DsimCtx *ctx, const DsimCall *call)
{
    LimiterNode *l = state;
    DsimTime now = dsim_now(ctx);
    if (call->method == LIMITER_METHOD_ACQUIRE && ratelimit_allow(l->rl, now)) {
        g_array_append_val(l->allowed, now);
        dsim_respond(ctx, call->id, DSIM_CALL_OK, &now, sizeof now);
    } else {
        dsim_respond(ctx, call->id, DSIM_CALL_FAIL, GATEWAY_FAIL_RATE_LIMITED, strlen(GATEWAY_FAIL_RATE_LIMITED));
    }
}

static const char *limiter_method_name(uint16_t method)
{
    return method == LIMITER_METHOD_ACQUIRE ? "acquire" : NULL;
}

static const char *limiter_validate(const void *config, const DsimShape *shape, GString *why)
{
    const LimiterConfig *cfg = config;
    if (cfg->kind == RL_NONE || cfg->window <= 0) {
        g_string_printf(why, "a limiter needs a kind other than none and a window above 0");
        return cfg->kind == RL_NONE ? "kind" : "window";
    }
    return NULL;
}

const DsimProtocol limiter_protocol = {
    .name = "limiter",
    .summary = "a shared rate-limit counter service (gateways with limit_scope=shared ask it)",
    .params = limiter_params,
    .config_size = sizeof(LimiterConfig),
    .state_size = sizeof(LimiterNode),
    .init = limiter_init,
    .fini = limiter_fini,
    .on_message = gateway_on_message,
    .on_timer = gateway_on_timer,
    .on_call = limiter_on_call,
    .method_name = limiter_method_name,
    .validate = limiter_validate,
};
