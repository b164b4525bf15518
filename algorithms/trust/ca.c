/* ca.c - the four zero-trust protocols on top of trust.h's module:
 *
 *   ca          the certificate authority (SPIRE's server): attests a caller's group by its
 *               address, once, and issues it a short-lived certificate (an SVID) with the
 *               certificate's key and its group's verifying key; keeps a public log of what it
 *               issued (Certificate Transparency).
 *   zt-service  a service that requires mutual TLS on every call: it checks the certificate
 *               and the proof of possession, applies its policy to the identity the
 *               certificate proved, serves (after service_time) or refuses with FAIL
 *               "unauthenticated: <why>" or "forbidden", and answers with its own proof.
 *   zt-client   a workload: enrolls at start, renews its certificate before it expires
 *               (rotation), and calls a zt-service group at a rate with certificate + proof.
 *   attacker    a workload of its own group that tries, in turn, every spoofing attempt of
 *               AttackKind, and counts for each how many were accepted: all must be refused.
 *
 * The one place an address is trusted is node attestation at the CA, at issue time: the
 * caller's address (call->from, which the kernel sets and no node can forge) must be a node
 * of the group it claims. SPIRE's node attestors check platform evidence (a cloud instance
 * identity document, a TPM quote, a join token) instead; the scenario's group membership is
 * our platform. After that, every decision rests on the certificate alone.
 *
 * Figures (dsim_count, one per event, unless said): ca_issued, ca_attestation_failed,
 * ca_lookups; zt_served, zt_refused_unauthenticated, zt_refused_forbidden,
 * zt_refused_unavailable, zt_unauthorized_served (the invariant's count; 0 unless bugged);
 * zt_client_ok, zt_client_refused, zt_client_timeout, zt_client_server_unverified,
 * zt_client_no_cert (a call not made for want of a valid certificate),
 * zt_client_cert_expired (a certificate expired before its renewal came),
 * zt_client_renewed (value: the old certificate's remaining lifetime in seconds),
 * zt_client_latency_seconds; attacker_attempted_<kind> (1 per attempt),
 * attacker_accepted_<kind> and attacker_accepted (per outcome: 1 accepted, 0 refused or
 * unanswered, so that <expect metric="attacker_accepted" max="0"/> holds when every attempt
 * was refused).
 */
#include "algorithms/trust/trust.h"

#include <math.h>
#include <string.h>

#define ROOT_KEY   1 /* the CA's durable store: R */
#define SERIAL_KEY 2 /*                           and the next serial */

const char *zt_method_name(uint16_t method)
{
    return method == ZT_METHOD_READ ? "read" : method == ZT_METHOD_WRITE ? "write" : NULL;
}

uint16_t zt_method_from_name(const char *name)
{
    return strcmp(name, "read") == 0 ? ZT_METHOD_READ : strcmp(name, "write") == 0 ? ZT_METHOD_WRITE : 0;
}

static const char *ca_method_name(uint16_t method)
{
    return method == CA_METHOD_ISSUE ? "issue" : method == CA_METHOD_LOOKUP ? "lookup" : NULL;
}

static double seconds(DsimTime t)
{
    return (double) t / 1e9;
}

/* Copies a NUL-padded field of a received body, NUL-terminated whatever the sender put. */
static void copy_id(char out[TRUST_ID_MAX], const char in[TRUST_ID_MAX])
{
    memcpy(out, in, TRUST_ID_MAX);
    out[TRUST_ID_MAX - 1] = '\0';
}

static void fail(DsimCtx *ctx, DsimCallId call, const char *why)
{
    dsim_respond(ctx, call, DSIM_CALL_FAIL, why, strlen(why));
}

/* Checks at load that the group named by parameter @param exists; NULL when it does. */
static const char *need_group(const DsimShape *shape, const char *group, const char *param,
                              GString *why)
{
    for (unsigned g = 0; g < shape->n_groups; g++) {
        if (strcmp(shape->ids[g], group) == 0)
            return NULL;
    }
    g_string_printf(why, "%s \"%s\" is not a group of this scenario (write the id of a <group>)",
                    param, group);
    return param;
}

static bool self_group(DsimCtx *ctx, char out[TRUST_ID_MAX])
{
    return trust_group_of_name(dsim_name(ctx, dsim_self(ctx)), dsim_self_index(ctx), out);
}

/* The CA is the first (and only) node of its group. */
static DsimNodeId ca_node(DsimCtx *ctx, const char *group)
{
    DsimNodeId first;
    unsigned n;
    if (!dsim_group_find(ctx, group, &first, &n))
        g_error("%s: no CA group \"%s\"", dsim_name(ctx, dsim_self(ctx)), group);
    return first;
}

/* Asks the CA for a certificate as a member of @group for calling @audience ("" for none). */
static DsimCallId request_issue(DsimCtx *ctx, const char *ca_group, const char *group,
                                const char *audience, DsimTime timeout, uint64_t tag)
{
    CaIssueReq req;
    memset(&req, 0, sizeof req);
    g_strlcpy(req.group, group, sizeof req.group);
    g_strlcpy(req.audience, audience, sizeof req.audience);
    DsimCallOpts o = { .timeout = timeout, .tag = tag };
    return dsim_call(ctx, ca_node(ctx, ca_group), CA_METHOD_ISSUE, &req, sizeof req, &o);
}

/* ==== ca ======================================================================================= */

static const DsimParam ca_params[] = {
    { .name = "ttl", .type = DSIM_PARAM_TIME, .def = "10s",
      .help = "certificate lifetime (SPIRE's default X509-SVID TTL is 1h; short TTLs make "
              "rotation visible and bound how long a stolen key is worth anything)",
      .offset = offsetof(CaConfig, ttl) },
    { NULL },
};

static const char *ca_validate(const void *config, const DsimShape *shape, GString *why)
{
    const CaConfig *cfg = config;
    if (shape->sizes[shape->self] != 1) {
        g_string_printf(why, "a ca group has exactly one node (count=\"1\"): each CA node would "
                        "hold its own root secret");
        return "ttl";
    }
    if (cfg->ttl <= 0) {
        g_string_printf(why, "ttl must be above 0");
        return "ttl";
    }
    return NULL;
}

static void ca_start(CaNode *ca)
{
    ca->log = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void ca_init(void *state, DsimCtx *ctx)
{
    CaNode *ca = state;
    /* R: 256 bits from the CA node's own stream; durable at once, as a CA keeps its key */
    for (unsigned i = 0; i < 4; i++) {
        uint64_t r = dsim_rand(ctx);
        memcpy(ca->root.b + 8 * i, &r, 8);
    }
    ca->next_serial = 1;
    dsim_persist(ctx, ROOT_KEY, &ca->root, sizeof ca->root);
    dsim_persist(ctx, SERIAL_KEY, &ca->next_serial, sizeof ca->next_serial);
    dsim_sync(ctx);
    ca_start(ca);
}

/* A restarted CA keeps its root and its serials (durable) and loses its log (volatile). */
static void ca_recover(void *state, DsimCtx *ctx)
{
    CaNode *ca = state;
    if (!dsim_load(ctx, ROOT_KEY, &ca->root, sizeof ca->root, NULL)
        || !dsim_load(ctx, SERIAL_KEY, &ca->next_serial, sizeof ca->next_serial, NULL)) {
        ca_init(state, ctx);
        return;
    }
    ca_start(ca);
}

static void ca_fini(void *state)
{
    CaNode *ca = state;
    if (ca->log != NULL)
        g_hash_table_destroy(ca->log);
}

static char *log_key(const char *id, const char *audience)
{
    return g_strdup_printf("%s %s", id, audience);
}

static void ca_issue(CaNode *ca, DsimCtx *ctx, const DsimCall *call)
{
    const CaConfig *cfg = dsim_config(ctx);
    CaIssueReq req;
    memcpy(&req, call->body, sizeof req);
    req.group[TRUST_ID_MAX - 1] = req.audience[TRUST_ID_MAX - 1] = '\0';

    /* node attestation: is the caller's address a node of the group it claims? */
    DsimNodeId first;
    unsigned n;
    char id[TRUST_ID_MAX], audience[TRUST_ID_MAX] = { 0 };
    if (!dsim_group_find(ctx, req.group, &first, &n) || call->from < first
        || call->from >= first + n || !trust_spiffe_id(req.group, id)) {
        ca->attestation_failed++;
        dsim_count(ctx, "ca_attestation_failed");
        dsim_log(ctx, "%s claims group \"%s\": attestation failed", dsim_name(ctx, call->from),
                 req.group);
        fail(ctx, call->id, "attestation failed");
        return;
    }
    if (req.audience[0] != '\0'
        && (!dsim_group_find(ctx, req.audience, &first, &n) || !trust_spiffe_id(req.audience, audience))) {
        fail(ctx, call->id, "unknown audience");
        return;
    }

    CaIssueResp resp;
    memset(&resp, 0, sizeof resp);
    resp.verify_key = trust_audience_key(&ca->root, id);
    resp.ttl = cfg->ttl;
    if (audience[0] != '\0') {
        TrustCert *c = &resp.cert;
        DsimTime now = dsim_now(ctx);
        memcpy(c->id, id, sizeof c->id);
        memcpy(c->audience, audience, sizeof c->audience);
        c->subject = call->from;
        c->issuer = dsim_self(ctx);
        c->key_id = dsim_rand(ctx);
        c->serial = ca->next_serial++;
        c->not_before = now;
        c->not_after = now + cfg->ttl;
        dsim_persist(ctx, SERIAL_KEY, &ca->next_serial, sizeof ca->next_serial);
        dsim_sync(ctx); /* a serial is never issued twice, crash or not */
        TrustKey a = trust_audience_key(&ca->root, audience);
        trust_cert_sign(c, &a);
        resp.proof_key = trust_proof_key(c, &a);
        g_hash_table_replace(ca->log, log_key(id, audience), g_memdup2(c, sizeof *c));
        dsim_log(ctx, "issue %s serial %" PRIu64 " for %s to %s, valid until %.3fs", id,
                 c->serial, audience, dsim_name(ctx, call->from), seconds(c->not_after));
    }
    ca->issued++;
    dsim_count(ctx, "ca_issued");
    dsim_respond(ctx, call->id, DSIM_CALL_OK, &resp, sizeof resp);
}

static void ca_lookup(CaNode *ca, DsimCtx *ctx, const DsimCall *call)
{
    CaLookupReq req;
    memcpy(&req, call->body, sizeof req);
    req.id[TRUST_ID_MAX - 1] = req.audience[TRUST_ID_MAX - 1] = '\0';
    g_autofree char *key = log_key(req.id, req.audience);
    const TrustCert *c = g_hash_table_lookup(ca->log, key);
    ca->lookups++;
    dsim_count(ctx, "ca_lookups");
    if (c == NULL)
        fail(ctx, call->id, "not found");
    else
        dsim_respond(ctx, call->id, DSIM_CALL_OK, c, sizeof *c);
}

static void ca_on_call(void *state, DsimCtx *ctx, const DsimCall *call)
{
    if (call->method == CA_METHOD_ISSUE && call->size == sizeof(CaIssueReq))
        ca_issue(state, ctx, call);
    else if (call->method == CA_METHOD_LOOKUP && call->size == sizeof(CaLookupReq))
        ca_lookup(state, ctx, call);
    else
        fail(ctx, call->id, "bad request");
}

static void no_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    /* these protocols speak in calls only */
}

static void no_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
}

static void ca_describe(const void *state, DsimView *view)
{
    const CaNode *ca = state;
    view->applied = ca->issued;
    g_snprintf(view->text, sizeof view->text, "issued=%" PRIu64 " refused=%" PRIu64, ca->issued,
               ca->attestation_failed);
}

const DsimProtocol ca_protocol = {
    .name = "ca",
    .summary = "a certificate authority (SPIRE server): attests workloads by address at issue "
               "time, issues short-lived SPIFFE certificates",
    .params = ca_params,
    .config_size = sizeof(CaConfig),
    .state_size = sizeof(CaNode),
    .init = ca_init,
    .fini = ca_fini,
    .on_message = no_message,
    .on_timer = no_timer,
    .on_recover = ca_recover,
    .describe = ca_describe,
    .on_call = ca_on_call,
    .method_name = ca_method_name,
    .validate = ca_validate,
};

/* ==== zt-service ============================================================================= */

enum { ZT_TIMER_ENROLL = 1, ZT_TIMER_DONE = 2 /* arg: the call */ };

static const DsimParam zt_service_params[] = {
    { .name = "ca", .type = DSIM_PARAM_STRING, .def = "ca",
      .help = "the group of the certificate authority",
      .offset = offsetof(ZtServiceConfig, ca) },
    { .name = "policy", .type = DSIM_PARAM_STRING, .def = "c->s",
      .help = "who may call whom: \"caller->callee[:method], ...\" on identities (group ids "
              "or spiffe://dsim/<group>); what no rule allows is forbidden",
      .offset = offsetof(ZtServiceConfig, policy) },
    { .name = "service_time", .type = DSIM_PARAM_DIST, .def = "1ms",
      .help = "time to serve an authorized call (a distribution: 1ms, exp(2ms), ...)",
      .offset = offsetof(ZtServiceConfig, service_time) },
    { .name = "max_skew", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "how far a proof's time may be from this node's clock (and a certificate's "
              "start ahead of it); proofs are remembered twice that long against replays",
      .offset = offsetof(ZtServiceConfig, max_skew) },
    { .name = "retry", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "deadline of an enrollment call to the CA, and the wait before the next one "
              "after a failure",
      .offset = offsetof(ZtServiceConfig, retry) },
    { .name = "bug", .type = DSIM_PARAM_CHOICE, .def = "none",
      .help = "authorize-by-address: apply the policy to the caller's network address (a "
              "proxy's forwarded address when the request has one), not to its certificate",
      .offset = offsetof(ZtServiceConfig, bug), .choices = "none|authorize-by-address" },
    { NULL },
};

static const char *zt_service_validate(const void *config, const DsimShape *shape, GString *why)
{
    const ZtServiceConfig *cfg = config;
    TrustPolicy p;
    if (!trust_policy_parse(cfg->policy, &p, why))
        return "policy";
    for (unsigned i = 0; i < p.n; i++) {
        if (p.rule[i].method[0] != '\0' && zt_method_from_name(p.rule[i].method) == 0) {
            g_string_printf(why, "method \"%s\" of rule %u is not one of a zt-service's "
                            "(read, write)", p.rule[i].method, i + 1);
            return "policy";
        }
    }
    if (cfg->max_skew <= 0 || cfg->retry <= 0) {
        g_string_printf(why, "%s must be above 0", cfg->max_skew <= 0 ? "max_skew" : "retry");
        return cfg->max_skew <= 0 ? "max_skew" : "retry";
    }
    return need_group(shape, cfg->ca, "ca", why);
}

static void zt_enroll(ZtServiceNode *s, DsimCtx *ctx)
{
    const ZtServiceConfig *cfg = dsim_config(ctx);
    char group[TRUST_ID_MAX];
    bool named = self_group(ctx, group);
    g_assert(named);
    /* a pure server asks for no certificate: only its group's verifying key */
    s->enroll_call = request_issue(ctx, cfg->ca, group, "", cfg->retry, 0);
}

static void zt_service_init(void *state, DsimCtx *ctx)
{
    ZtServiceNode *s = state;
    const ZtServiceConfig *cfg = dsim_config(ctx);
    char group[TRUST_ID_MAX];
    g_autoptr(GString) why = g_string_new(NULL);
    if (!self_group(ctx, group) || !trust_spiffe_id(group, s->self_id))
        g_error("%s: cannot tell its group from its name", dsim_name(ctx, dsim_self(ctx)));
    if (!trust_policy_parse(cfg->policy, &s->policy, why))
        g_error("%s: %s", dsim_name(ctx, dsim_self(ctx)), why->str);
    s->replay = trust_replay_new(cfg->max_skew);
    s->pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    zt_enroll(s, ctx);
}

static void zt_service_fini(void *state)
{
    ZtServiceNode *s = state;
    trust_replay_free(s->replay);
    if (s->pending != NULL)
        g_hash_table_destroy(s->pending);
}

typedef struct {
    DsimCallId call; /* the key of pending, first */
    ZtResponse resp;
} ZtPending;

/* The bug: the policy read as an address allow list ("the nodes of group c may call s"), as
 * a firewall or a Kubernetes NetworkPolicy would, and the address taken from a proxy's header
 * when there is one. NIST SP 800-207 §2.1: no trust "based solely on physical or network
 * location". */
static bool address_allowed(const ZtServiceNode *s, DsimCtx *ctx, DsimNodeId addr, const char *method)
{
    for (unsigned i = 0; i < s->policy.n; i++) {
        const TrustRule *r = &s->policy.rule[i];
        DsimNodeId first;
        unsigned n;
        if (strcmp(r->callee, s->self_id) == 0 && (r->method[0] == '\0' || strcmp(r->method, method) == 0)
            && dsim_group_find(ctx, r->caller + strlen(TRUST_ID_PREFIX), &first, &n)
            && addr >= first && addr < first + n)
            return true;
    }
    return false;
}

static void zt_service_on_call(void *state, DsimCtx *ctx, const DsimCall *call)
{
    ZtServiceNode *s = state;
    const ZtServiceConfig *cfg = dsim_config(ctx);
    const char *method = zt_method_name(call->method);
    if (method == NULL || call->size != sizeof(ZtRequest)) {
        fail(ctx, call->id, "bad request");
        return;
    }
    if (!s->enrolled) { /* no verifying key yet: nothing can be checked, so nothing is served */
        s->refused_unavailable++;
        dsim_count(ctx, "zt_refused_unavailable");
        fail(ctx, call->id, "unavailable");
        return;
    }
    ZtRequest req;
    memcpy(&req, call->body, sizeof req);
    DsimTime now = dsim_now(ctx);

    /* 1. authentication: the certificate and the proof that the caller holds its key */
    TrustVerdict v = trust_verify(&s->verify_key, s->self_id, dsim_self(ctx),
                                  req.has_cert ? &req.cert : NULL, &req.proof, call->method,
                                  &req.payload, sizeof req.payload, now, cfg->max_skew);
    if (v == TRUST_OK && !trust_replay_admit(s->replay, req.proof.serial, req.proof.nonce, now))
        v = TRUST_REPLAYED_PROOF;
    /* 2. authorization, on the identity the certificate proved; the body's claims
     * (claimed_id, forwarded_for) are never read */
    char caller[TRUST_ID_MAX];
    copy_id(caller, req.cert.id);
    bool allowed = v == TRUST_OK && trust_policy_allows(&s->policy, caller, s->self_id, method);

    bool serve = allowed;
    if (cfg->bug == ZT_BUG_AUTHORIZE_BY_ADDRESS) {
        DsimNodeId addr = req.payload.forwarded_for != DSIM_NOBODY ? req.payload.forwarded_for : call->from;
        serve = address_allowed(s, ctx, addr, method);
    }
    if (!serve) {
        if (v != TRUST_OK && cfg->bug == ZT_BUG_NONE) {
            char why[64];
            g_snprintf(why, sizeof why, "unauthenticated: %s", trust_verdict_name(v));
            s->refused[v]++;
            dsim_count(ctx, "zt_refused_unauthenticated");
            dsim_log(ctx, "refuse %s from %s: %s", method, dsim_name(ctx, call->from), why);
            fail(ctx, call->id, why);
        } else {
            s->refused_forbidden++;
            dsim_count(ctx, "zt_refused_forbidden");
            dsim_log(ctx, "refuse %s from %s (%s): forbidden", method, dsim_name(ctx, call->from),
                     v == TRUST_OK ? caller : trust_verdict_name(v));
            fail(ctx, call->id, "forbidden");
        }
        return;
    }

    s->served++;
    dsim_count(ctx, "zt_served");
    if (!allowed) {
        s->unauthorized_served++;
        dsim_count(ctx, "zt_unauthorized_served");
        dsim_log(ctx, "served %s from %s, whose certificate %s", method, dsim_name(ctx, call->from),
                 v == TRUST_OK ? "proves an identity the policy denies" : trust_verdict_name(v));
    }
    ZtPending *p = g_new0(ZtPending, 1);
    p->call = call->id;
    p->resp.seq = req.payload.seq;
    p->resp.serial = req.cert.serial;
    memcpy(p->resp.server_id, s->self_id, TRUST_ID_MAX);
    p->resp.server = dsim_self(ctx);
    if (v == TRUST_OK) { /* the server's Finished, under the caller's certificate key */
        TrustKey k = trust_proof_key(&req.cert, &s->verify_key);
        trust_finished(&k, s->self_id, dsim_self(ctx), req.proof.nonce, req.payload.seq,
                       p->resp.finished);
    }
    DsimTime t = dsim_rand_dist(ctx, cfg->service_time);
    g_hash_table_insert(s->pending, &p->call, p);
    dsim_timer_set(ctx, MAX(t, 0), ZT_TIMER_DONE, call->id);
}

static void zt_service_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    ZtServiceNode *s = state;
    if (kind == ZT_TIMER_ENROLL) {
        zt_enroll(s, ctx);
        return;
    }
    g_assert(kind == ZT_TIMER_DONE);
    ZtPending *p = g_hash_table_lookup(s->pending, &arg);
    g_assert(p != NULL);
    dsim_respond(ctx, p->call, DSIM_CALL_OK, &p->resp, sizeof p->resp);
    g_hash_table_remove(s->pending, &arg);
}

static void zt_service_on_response(void *state, DsimCtx *ctx, const DsimResponse *r)
{
    ZtServiceNode *s = state;
    const ZtServiceConfig *cfg = dsim_config(ctx);
    if (r->id != s->enroll_call)
        return;
    s->enroll_call = 0;
    if (r->status == DSIM_CALL_OK && r->size == sizeof(CaIssueResp)) {
        const CaIssueResp *resp = r->body;
        s->verify_key = resp->verify_key;
        s->enrolled = true;
        dsim_log(ctx, "enrolled as %s", s->self_id);
    } else {
        dsim_timer_set(ctx, cfg->retry, ZT_TIMER_ENROLL, 0);
    }
}

static void zt_service_describe(const void *state, DsimView *view)
{
    const ZtServiceNode *s = state;
    uint64_t unauth = 0;
    for (unsigned v = 0; v < TRUST_N_VERDICTS; v++)
        unauth += s->refused[v];
    view->applied = s->served;
    g_snprintf(view->text, sizeof view->text,
               "served=%" PRIu64 " unauth=%" PRIu64 " forbidden=%" PRIu64, s->served, unauth,
               s->refused_forbidden);
}

/* The zero-trust checker of DESIGN.md: no unauthorized call reaches a service. */
static bool check_no_unauthorized_served(const DsimGroupView *g, GString *why)
{
    for (unsigned i = 0; i < g->n; i++) {
        const ZtServiceNode *s = g->state[i];
        if (s->unauthorized_served > 0) {
            g_string_printf(why, "%s served %" PRIu64 " call(s) that its policy does not allow "
                            "to the identity their certificate proves", g->name[i],
                            s->unauthorized_served);
            return false;
        }
    }
    return true;
}

static const DsimInvariant zt_service_invariants[] = {
    { "no-unauthorized-served", "a zt-service never serves a call unless a valid certificate "
      "and proof show an identity its policy allows", DSIM_CHECK_ALWAYS,
      check_no_unauthorized_served, NULL },
    { NULL },
};

const DsimProtocol zt_service_protocol = {
    .name = "zt-service",
    .summary = "a service behind mutual TLS: verifies certificate and proof of possession on "
               "every call, authorizes by identity",
    .params = zt_service_params,
    .invariants = zt_service_invariants,
    .config_size = sizeof(ZtServiceConfig),
    .state_size = sizeof(ZtServiceNode),
    .init = zt_service_init,
    .fini = zt_service_fini,
    .on_message = no_message,
    .on_timer = zt_service_on_timer,
    .describe = zt_service_describe,
    .on_call = zt_service_on_call,
    .on_response = zt_service_on_response,
    .method_name = zt_method_name,
    .validate = zt_service_validate,
};

/* ==== zt-client ============================================================================== */

enum { ZC_TIMER_CALL = 1, ZC_TIMER_RENEW = 2 };

static const DsimParam zt_client_params[] = {
    { .name = "ca", .type = DSIM_PARAM_STRING, .def = "ca",
      .help = "the group of the certificate authority",
      .offset = offsetof(ZtClientConfig, ca) },
    { .name = "target", .type = DSIM_PARAM_STRING, .def = "s",
      .help = "the zt-service group to call",
      .offset = offsetof(ZtClientConfig, target) },
    { .name = "rate", .type = DSIM_PARAM_RATE, .def = "20/s",
      .help = "calls per second, Poisson arrivals",
      .offset = offsetof(ZtClientConfig, rate) },
    { .name = "method", .type = DSIM_PARAM_CHOICE, .def = "read",
      .help = "the method it calls", .offset = offsetof(ZtClientConfig, method),
      .choices = "read|write" },
    { .name = "timeout", .type = DSIM_PARAM_TIME, .def = "500ms",
      .help = "deadline of each call (to the CA and to the service)",
      .offset = offsetof(ZtClientConfig, timeout) },
    { .name = "renew", .type = DSIM_PARAM_PROB, .def = "0.5",
      .help = "renew the certificate after this fraction of its lifetime (SPIRE's agent "
              "rotates at half)",
      .offset = offsetof(ZtClientConfig, renew) },
    { .name = "retry", .type = DSIM_PARAM_TIME, .def = "1s",
      .help = "wait before asking the CA again after a failed renewal",
      .offset = offsetof(ZtClientConfig, retry) },
    { NULL },
};

static const char *zt_client_validate(const void *config, const DsimShape *shape, GString *why)
{
    const ZtClientConfig *cfg = config;
    if (cfg->renew <= 0) {
        g_string_printf(why, "renew must be above 0 (a fraction of the certificate's lifetime)");
        return "renew";
    }
    if (cfg->timeout <= 0 || cfg->retry <= 0) {
        g_string_printf(why, "%s must be above 0", cfg->timeout <= 0 ? "timeout" : "retry");
        return cfg->timeout <= 0 ? "timeout" : "retry";
    }
    const char *bad = need_group(shape, cfg->ca, "ca", why);
    return bad != NULL ? bad : need_group(shape, cfg->target, "target", why);
}

/* Exponential gap of a Poisson stream of @rate per second: -ln(1 - U) / rate. */
static DsimTime poisson_gap(DsimCtx *ctx, double rate)
{
    double ns = -log1p(-dsim_rand_double(ctx)) * 1e9 / rate;
    return ns < 1.0 ? 1 : ns > 1e18 ? DSIM_TIME_NEVER / 2 : (DsimTime) ns;
}

static void zc_issue(ZtClientNode *c, DsimCtx *ctx)
{
    const ZtClientConfig *cfg = dsim_config(ctx);
    if (c->issue_call == 0)
        c->issue_call = request_issue(ctx, cfg->ca, c->self_group, cfg->target, cfg->timeout, 0);
}

static void zt_client_init(void *state, DsimCtx *ctx)
{
    ZtClientNode *c = state;
    const ZtClientConfig *cfg = dsim_config(ctx);
    if (!self_group(ctx, c->self_group) || !trust_spiffe_id(cfg->target, c->target_id))
        g_error("%s: cannot tell its group from its name", dsim_name(ctx, dsim_self(ctx)));
    zc_issue(c, ctx);
    if (cfg->rate > 0)
        dsim_timer_set(ctx, poisson_gap(ctx, cfg->rate), ZC_TIMER_CALL, 0);
}

static void zc_call(ZtClientNode *c, DsimCtx *ctx, const ZtClientConfig *cfg)
{
    DsimTime now = dsim_now(ctx);
    if (!c->cur.valid || now >= c->cur.cert.not_after) {
        c->no_cert++;
        dsim_count(ctx, "zt_client_no_cert");
        if (c->cur.valid && !c->expired_noted) {
            c->expired++;
            c->expired_noted = true;
            dsim_count(ctx, "zt_client_cert_expired");
            dsim_log(ctx, "certificate serial %" PRIu64 " expired before its renewal",
                     c->cur.cert.serial);
        }
        return;
    }
    DsimNodeId first;
    unsigned n;
    if (!dsim_group_find(ctx, cfg->target, &first, &n))
        return;
    DsimNodeId to = first + (DsimNodeId) dsim_rand_below(ctx, n);
    uint16_t method = cfg->method == 0 ? ZT_METHOD_READ : ZT_METHOD_WRITE;
    ZtRequest req;
    memset(&req, 0, sizeof req);
    req.has_cert = 1;
    req.cert = c->cur.cert;
    req.payload.seq = ++c->seq;
    req.payload.forwarded_for = DSIM_NOBODY;
    uint64_t nonce = dsim_rand(ctx);
    trust_proof_make(&req.proof, &c->cur.key, &req.cert, to, method, nonce, now, &req.payload,
                     sizeof req.payload);
    DsimCallOpts o = { .timeout = cfg->timeout, .tag = nonce };
    dsim_call(ctx, to, method, &req, sizeof req, &o);
}

static void zt_client_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    ZtClientNode *c = state;
    const ZtClientConfig *cfg = dsim_config(ctx);
    if (kind == ZC_TIMER_RENEW) {
        zc_issue(c, ctx);
        return;
    }
    dsim_timer_set(ctx, poisson_gap(ctx, cfg->rate), ZC_TIMER_CALL, 0);
    zc_call(c, ctx, cfg);
}

static void zc_got_certificate(ZtClientNode *c, DsimCtx *ctx, const ZtClientConfig *cfg,
                               const DsimResponse *r)
{
    c->issue_call = 0;
    if (r->status != DSIM_CALL_OK || r->size != sizeof(CaIssueResp)) {
        dsim_timer_set(ctx, cfg->retry, ZC_TIMER_RENEW, 0);
        return;
    }
    const CaIssueResp *resp = r->body;
    DsimTime now = dsim_now(ctx);
    if (c->cur.valid) {
        c->renewals++;
        dsim_metric(ctx, "zt_client_renewed", seconds(c->cur.cert.not_after - now));
    }
    c->prev = c->cur;
    c->cur.valid = true;
    c->cur.cert = resp->cert;
    c->cur.key = resp->proof_key;
    c->expired_noted = false;
    /* rotation: renew after `renew` of the lifetime, well before it ends */
    DsimTime life = resp->cert.not_after - resp->cert.not_before;
    dsim_timer_set(ctx, MAX((DsimTime) ((double) life * cfg->renew), 1), ZC_TIMER_RENEW, 0);
}

static void zt_client_on_response(void *state, DsimCtx *ctx, const DsimResponse *r)
{
    ZtClientNode *c = state;
    const ZtClientConfig *cfg = dsim_config(ctx);
    if (r->id == c->issue_call) {
        zc_got_certificate(c, ctx, cfg, r);
        return;
    }
    if (r->status == DSIM_CALL_TIMEOUT) {
        c->timeouts++;
        dsim_count(ctx, "zt_client_timeout");
        return;
    }
    if (r->status == DSIM_CALL_FAIL) {
        c->refused++;
        dsim_count(ctx, "zt_client_refused");
        dsim_log(ctx, "refused by %s: %.*s", dsim_name(ctx, r->to), (int) MIN(r->size, 64u),
                 (const char *) r->body);
        return;
    }
    /* mutual authentication: the answer must prove that a member of the target group, which
     * alone can derive our certificate's key, answered this very call */
    bool verified = false;
    if (r->size == sizeof(ZtResponse)) {
        ZtResponse resp;
        memcpy(&resp, r->body, sizeof resp);
        const TrustHeld *h = resp.serial == c->cur.cert.serial ? &c->cur
                           : resp.serial == c->prev.cert.serial ? &c->prev : NULL;
        uint8_t want[TRUST_MAC_LEN];
        if (h != NULL && h->valid && strncmp(resp.server_id, c->target_id, TRUST_ID_MAX) == 0) {
            trust_finished(&h->key, c->target_id, r->to, r->tag, resp.seq, want);
            verified = trust_mac_equal(want, resp.finished);
        }
    }
    if (!verified) {
        c->server_unverified++;
        dsim_count(ctx, "zt_client_server_unverified");
        return;
    }
    c->ok++;
    dsim_count(ctx, "zt_client_ok");
    dsim_metric(ctx, "zt_client_latency_seconds", seconds(r->latency));
}

static void zt_client_describe(const void *state, DsimView *view)
{
    const ZtClientNode *c = state;
    view->applied = c->ok;
    g_snprintf(view->text, sizeof view->text, "serial=%" PRIu64 " ok=%" PRIu64 " refused=%" PRIu64,
               c->cur.cert.serial, c->ok, c->refused);
}

const DsimProtocol zt_client_protocol = {
    .name = "zt-client",
    .summary = "a workload: gets and rotates its certificate from the CA, calls a zt-service "
               "with mutual TLS",
    .params = zt_client_params,
    .config_size = sizeof(ZtClientConfig),
    .state_size = sizeof(ZtClientNode),
    .init = zt_client_init,
    .on_message = no_message,
    .on_timer = zt_client_on_timer,
    .describe = zt_client_describe,
    .on_response = zt_client_on_response,
    .validate = zt_client_validate,
};

/* ==== attacker ================================================================================ */

enum { AT_TIMER_ATTEMPT = 1, AT_TIMER_RENEW = 2 };
#define AT_TAG_NONE UINT64_MAX /* the tag of its own ISSUE and LOOKUP calls */

static const char *const attack_names[ATTACK_N] = {
    "no-cert", "forged", "stolen", "expired", "not-allowed", "claim-identity", "enroll-as-victim",
};
static const char *const attempted_metric[ATTACK_N] = {
    "attacker_attempted_no_cert", "attacker_attempted_forged", "attacker_attempted_stolen",
    "attacker_attempted_expired", "attacker_attempted_not_allowed",
    "attacker_attempted_claim_identity", "attacker_attempted_enroll_as_victim",
};
static const char *const accepted_metric[ATTACK_N] = {
    "attacker_accepted_no_cert", "attacker_accepted_forged", "attacker_accepted_stolen",
    "attacker_accepted_expired", "attacker_accepted_not_allowed",
    "attacker_accepted_claim_identity", "attacker_accepted_enroll_as_victim",
};

const char *attack_kind_name(AttackKind k)
{
    g_assert((unsigned) k < ATTACK_N);
    return attack_names[k];
}

static const DsimParam attacker_params[] = {
    { .name = "ca", .type = DSIM_PARAM_STRING, .def = "ca",
      .help = "the group of the certificate authority",
      .offset = offsetof(AttackerConfig, ca) },
    { .name = "target", .type = DSIM_PARAM_STRING, .def = "s",
      .help = "the zt-service group it attacks",
      .offset = offsetof(AttackerConfig, target) },
    { .name = "victim", .type = DSIM_PARAM_STRING, .def = "c",
      .help = "the group whose identity it tries to steal or claim",
      .offset = offsetof(AttackerConfig, victim) },
    { .name = "rate", .type = DSIM_PARAM_RATE, .def = "5/s",
      .help = "attempts per second, evenly spaced; the kinds take turns",
      .offset = offsetof(AttackerConfig, rate) },
    { .name = "timeout", .type = DSIM_PARAM_TIME, .def = "500ms",
      .help = "deadline of each call", .offset = offsetof(AttackerConfig, timeout) },
    { NULL },
};

static const char *attacker_validate(const void *config, const DsimShape *shape, GString *why)
{
    const AttackerConfig *cfg = config;
    if (cfg->rate <= 0 || cfg->timeout <= 0) {
        g_string_printf(why, "%s must be above 0", cfg->rate <= 0 ? "rate" : "timeout");
        return cfg->rate <= 0 ? "rate" : "timeout";
    }
    if (strcmp(cfg->victim, shape->ids[shape->self]) == 0) {
        g_string_printf(why, "victim is the attacker's own group (name the group whose "
                        "identity it tries to take, e.g. c)");
        return "victim";
    }
    const char *bad = need_group(shape, cfg->ca, "ca", why);
    if (bad == NULL)
        bad = need_group(shape, cfg->target, "target", why);
    return bad != NULL ? bad : need_group(shape, cfg->victim, "victim", why);
}

static DsimTime attempt_gap(const AttackerConfig *cfg)
{
    return MAX((DsimTime) (1e9 / cfg->rate), 1);
}

static void attacker_init(void *state, DsimCtx *ctx)
{
    AttackerNode *a = state;
    const AttackerConfig *cfg = dsim_config(ctx);
    if (!self_group(ctx, a->self_group))
        g_error("%s: cannot tell its group from its name", dsim_name(ctx, dsim_self(ctx)));
    /* it enrolls honestly as what it is: a workload of its own group */
    a->issue_call = request_issue(ctx, cfg->ca, a->self_group, cfg->target, cfg->timeout, AT_TAG_NONE);
    dsim_timer_set(ctx, attempt_gap(cfg), AT_TIMER_ATTEMPT, 0);
}

static bool held_valid(const TrustHeld *h, DsimTime now)
{
    return h->valid && now < h->cert.not_after;
}

static bool attack_possible(const AttackerNode *a, AttackKind k, DsimTime now)
{
    switch (k) {
    case ATTACK_STOLEN: /* an expired one would be refused as expired: not this attempt */
        return a->has_stolen && now < a->stolen.not_after;
    case ATTACK_EXPIRED:
        return a->first.valid && now >= a->first.cert.not_after;
    case ATTACK_NOT_ALLOWED:
    case ATTACK_CLAIM_IDENTITY:
        return held_valid(&a->own, now);
    default:
        return true;
    }
}

static TrustKey random_key(DsimCtx *ctx)
{
    TrustKey k;
    for (unsigned i = 0; i < 4; i++) {
        uint64_t r = dsim_rand(ctx);
        memcpy(k.b + 8 * i, &r, 8);
    }
    return k;
}

static void attack(AttackerNode *a, DsimCtx *ctx, const AttackerConfig *cfg, AttackKind k)
{
    DsimTime now = dsim_now(ctx);
    a->attempted[k]++;
    dsim_count(ctx, attempted_metric[k]);
    if (k == ATTACK_ENROLL_AS_VICTIM) { /* the CA's node attestation must see through it */
        request_issue(ctx, cfg->ca, cfg->victim, cfg->target, cfg->timeout, k);
        return;
    }
    DsimNodeId first, victim;
    unsigned n, nv;
    bool found = dsim_group_find(ctx, cfg->target, &first, &n)
                 && dsim_group_find(ctx, cfg->victim, &victim, &nv);
    g_assert(found); /* validate checked both */
    DsimNodeId to = first + (DsimNodeId) dsim_rand_below(ctx, n);
    uint16_t method = ZT_METHOD_READ;
    ZtRequest req;
    memset(&req, 0, sizeof req);
    req.payload.seq = ++a->seq;
    req.payload.forwarded_for = DSIM_NOBODY;
    TrustKey key = random_key(ctx); /* a key of its own making: worth nothing */
    switch (k) {
    case ATTACK_NO_CERT:
        break;
    case ATTACK_FORGED: { /* a certificate it wrote itself, naming the victim */
        TrustCert *c = &req.cert;
        trust_spiffe_id(cfg->victim, c->id);
        trust_spiffe_id(cfg->target, c->audience);
        c->subject = dsim_self(ctx);
        c->issuer = ca_node(ctx, cfg->ca);
        c->key_id = dsim_rand(ctx);
        c->serial = dsim_rand(ctx);
        c->not_before = now;
        c->not_after = now + DSIM_S(3600);
        trust_cert_sign(c, &key); /* signed under its own key, not the audience's */
        req.has_cert = 1;
        break;
    }
    case ATTACK_STOLEN: /* the real thing, without its key */
        req.cert = a->stolen;
        req.has_cert = 1;
        if (a->own.valid)
            key = a->own.key; /* the best key it has: its own */
        break;
    case ATTACK_EXPIRED:
        req.cert = a->first.cert;
        key = a->first.key;
        req.has_cert = 1;
        break;
    case ATTACK_NOT_ALLOWED:
    case ATTACK_CLAIM_IDENTITY:
        req.cert = a->own.cert;
        key = a->own.key;
        req.has_cert = 1;
        if (k == ATTACK_CLAIM_IDENTITY) { /* "X-Forwarded-For: c1", "X-Identity: c" */
            trust_spiffe_id(cfg->victim, req.payload.claimed_id);
            req.payload.forwarded_for = victim;
        }
        break;
    default:
        g_assert_not_reached();
    }
    if (req.has_cert)
        trust_proof_make(&req.proof, &key, &req.cert, to, method, dsim_rand(ctx), now,
                         &req.payload, sizeof req.payload);
    DsimCallOpts o = { .timeout = cfg->timeout, .tag = k };
    dsim_call(ctx, to, method, &req, sizeof req, &o);
}

static void attacker_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    AttackerNode *a = state;
    const AttackerConfig *cfg = dsim_config(ctx);
    DsimTime now = dsim_now(ctx);
    if (kind == AT_TIMER_RENEW) {
        if (a->issue_call == 0)
            a->issue_call = request_issue(ctx, cfg->ca, a->self_group, cfg->target, cfg->timeout,
                                          AT_TAG_NONE);
        return;
    }
    dsim_timer_set(ctx, attempt_gap(cfg), AT_TIMER_ATTEMPT, 0);
    /* keep a fresh copy of the victim's certificate from the public log */
    if ((!a->has_stolen || now >= a->stolen.not_after) && a->lookup_call == 0) {
        CaLookupReq req;
        memset(&req, 0, sizeof req);
        trust_spiffe_id(cfg->victim, req.id);
        trust_spiffe_id(cfg->target, req.audience);
        DsimCallOpts o = { .timeout = cfg->timeout, .tag = AT_TAG_NONE };
        a->lookup_call = dsim_call(ctx, ca_node(ctx, cfg->ca), CA_METHOD_LOOKUP, &req, sizeof req, &o);
    }
    for (unsigned i = 0; i < ATTACK_N; i++) {
        AttackKind k = (a->next + i) % ATTACK_N;
        if (attack_possible(a, k, now)) {
            attack(a, ctx, cfg, k);
            a->next = (k + 1) % ATTACK_N;
            return;
        }
    }
}

static void attacker_on_response(void *state, DsimCtx *ctx, const DsimResponse *r)
{
    AttackerNode *a = state;
    if (r->id == a->lookup_call) {
        a->lookup_call = 0;
        if (r->status == DSIM_CALL_OK && r->size == sizeof(TrustCert)) {
            memcpy(&a->stolen, r->body, sizeof a->stolen);
            a->has_stolen = true;
        }
        return;
    }
    if (r->id == a->issue_call) {
        a->issue_call = 0;
        if (r->status == DSIM_CALL_OK && r->size == sizeof(CaIssueResp)) {
            const CaIssueResp *resp = r->body;
            a->own.valid = true;
            a->own.cert = resp->cert;
            a->own.key = resp->proof_key;
            if (!a->first.valid)
                a->first = a->own;
            dsim_timer_set(ctx, MAX(resp->ttl / 2, 1), AT_TIMER_RENEW, 0);
        } else {
            dsim_timer_set(ctx, DSIM_S(1), AT_TIMER_RENEW, 0);
        }
        return;
    }
    g_assert(r->tag < ATTACK_N);
    AttackKind k = (AttackKind) r->tag;
    bool accepted = r->status == DSIM_CALL_OK;
    if (accepted) {
        a->accepted[k]++;
        dsim_log(ctx, "ATTACK ACCEPTED: %s by %s", attack_names[k], dsim_name(ctx, r->to));
    } else if (r->status == DSIM_CALL_FAIL) {
        a->refused[k]++;
        if (dsim_logging(ctx))
            dsim_log(ctx, "%s refused by %s: %.*s", attack_names[k], dsim_name(ctx, r->to),
                     (int) MIN(r->size, 64u), (const char *) r->body);
    } else {
        a->unanswered[k]++;
    }
    dsim_metric(ctx, accepted_metric[k], accepted ? 1 : 0);
    dsim_metric(ctx, "attacker_accepted", accepted ? 1 : 0);
}

static void attacker_describe(const void *state, DsimView *view)
{
    const AttackerNode *a = state;
    uint64_t tried = 0, in = 0;
    for (unsigned k = 0; k < ATTACK_N; k++) {
        tried += a->attempted[k];
        in += a->accepted[k];
    }
    view->applied = tried;
    g_snprintf(view->text, sizeof view->text, "attempted=%" PRIu64 " accepted=%" PRIu64, tried, in);
}

const DsimProtocol attacker_protocol = {
    .name = "attacker",
    .summary = "tries every spoofing attempt against a zt-service in turn: no, forged, stolen, "
               "expired or denied certificate, claimed identity, false enrollment",
    .params = attacker_params,
    .config_size = sizeof(AttackerConfig),
    .state_size = sizeof(AttackerNode),
    .init = attacker_init,
    .on_message = no_message,
    .on_timer = attacker_on_timer,
    .describe = attacker_describe,
    .on_response = attacker_on_response,
    .validate = attacker_validate,
};
