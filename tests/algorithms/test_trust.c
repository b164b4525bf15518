/* test_trust.c - zero trust (algorithms/trust/): the module's certificates, proofs, replay
 * cache and policy; the CA, the zt-service and the client through the harness; and small
 * worlds in which every spoofing attempt is refused, the authorize-by-address bug is caught,
 * and certificates rotate, expire during a CA outage and are renewed after it.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "algorithms/trust/trust.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "tests/lib/harness.h"

/* ---- the module --------------------------------------------------------------------------- */

static TrustKey key_of(uint8_t fill)
{
    TrustKey k;
    memset(k.b, fill, sizeof k.b);
    return k;
}

/* A certificate for c (node 7) to present to s, valid [10 s, 20 s), signed under A_s of
 * root @root. */
static TrustCert cert_for_c(const TrustKey *root)
{
    TrustCert c;
    memset(&c, 0, sizeof c);
    trust_spiffe_id("c", c.id);
    trust_spiffe_id("s", c.audience);
    c.subject = 7;
    c.issuer = 0;
    c.key_id = 0x1234;
    c.serial = 42;
    c.not_before = DSIM_S(10);
    c.not_after = DSIM_S(20);
    TrustKey a = trust_audience_key(root, c.audience);
    trust_cert_sign(&c, &a);
    return c;
}

static const char S_ID[] = TRUST_ID_PREFIX "s";

/* trust_verify as node 3 of s would call it, for a read carrying @payload, at @now. */
static TrustVerdict verify_at(const TrustKey *a, const TrustCert *c, const TrustProof *p,
                              const char *payload, DsimTime now)
{
    return trust_verify(a, S_ID, 3, c, p, ZT_METHOD_READ, payload, strlen(payload), now, DSIM_S(1));
}

static void test_a_certificate_signed_by_the_ca_verifies(void)
{
    TrustKey root = key_of(1), a = trust_audience_key(&root, S_ID);
    TrustCert c = cert_for_c(&root);
    CU_ASSERT_STRING_EQUAL(c.id, "spiffe://dsim/c");
    CU_ASSERT_TRUE(trust_cert_signature_ok(&c, &a));
    TrustKey k = trust_proof_key(&c, &a); /* what the CA hands to c */
    TrustProof p;
    trust_proof_make(&p, &k, &c, 3, ZT_METHOD_READ, 99, DSIM_S(12), "hello", 5);
    CU_ASSERT_EQUAL(verify_at(&a, &c, &p, "hello", DSIM_S(12)), TRUST_OK);
    /* another group's key checks nothing: a certificate for s is no good at t */
    TrustKey other = trust_audience_key(&root, TRUST_ID_PREFIX "t");
    CU_ASSERT_FALSE(trust_cert_signature_ok(&c, &other));
    CU_ASSERT_EQUAL(trust_verify(&other, TRUST_ID_PREFIX "t", 3, &c, &p, ZT_METHOD_READ, "hello", 5,
                                 DSIM_S(12), DSIM_S(1)), TRUST_WRONG_AUDIENCE);
    /* nor does another CA's */
    TrustKey root2 = key_of(2), a2 = trust_audience_key(&root2, S_ID);
    CU_ASSERT_EQUAL(verify_at(&a2, &c, &p, "hello", DSIM_S(12)), TRUST_BAD_SIGNATURE);
    CU_ASSERT_EQUAL(verify_at(&a, NULL, &p, "hello", DSIM_S(12)), TRUST_NO_CERT);
    CU_ASSERT_STRING_EQUAL(trust_verdict_name(TRUST_BAD_PROOF), "bad-proof");
}

static void test_tampering_with_any_field_breaks_the_signature(void)
{
    TrustKey root = key_of(1), a = trust_audience_key(&root, S_ID);
    const TrustCert good = cert_for_c(&root);
    for (unsigned field = 0; field < 9; field++) {
        TrustCert c = good;
        switch (field) {
        case 0: c.id[14] = 'x'; break;            /* spiffe://dsim/x: another identity */
        case 1: c.id[20] = 'y'; break;            /* past the NUL: still covered */
        case 2: c.subject = 8; break;
        case 3: c.issuer = 1; break;
        case 4: c.key_id ^= 1; break;
        case 5: c.serial++; break;
        case 6: c.not_before -= DSIM_S(100); break;
        case 7: c.not_after += DSIM_S(3600); break; /* the forger's favourite */
        case 8: c.sig[31] ^= 0x80; break;
        }
        CU_ASSERT_FALSE(trust_cert_signature_ok(&c, &a));
        /* even with a proof under the altered certificate's would-be key */
        TrustKey k = trust_proof_key(&c, &a);
        TrustProof p;
        trust_proof_make(&p, &k, &c, 3, ZT_METHOD_READ, 1, DSIM_S(12), "", 0);
        CU_ASSERT_EQUAL(verify_at(&a, &c, &p, "", DSIM_S(12)), TRUST_BAD_SIGNATURE);
    }
    TrustCert c = good; /* the audience, too: caught first as another group's certificate */
    c.audience[14] = 't';
    CU_ASSERT_FALSE(trust_cert_signature_ok(&c, &a));
}

static void test_a_certificate_is_valid_only_inside_its_window(void)
{
    TrustKey root = key_of(1), a = trust_audience_key(&root, S_ID);
    TrustCert c = cert_for_c(&root);
    TrustKey k = trust_proof_key(&c, &a);
    TrustProof p;
    DsimTime at[] = { DSIM_S(8), DSIM_MS(8999), DSIM_S(9), DSIM_S(10), DSIM_S(20) - 1, DSIM_S(20), DSIM_S(25) };
    TrustVerdict want[] = { TRUST_NOT_YET_VALID, TRUST_NOT_YET_VALID, TRUST_OK, TRUST_OK, TRUST_OK,
                            TRUST_EXPIRED, TRUST_EXPIRED };
    for (unsigned i = 0; i < G_N_ELEMENTS(at); i++) {
        trust_proof_make(&p, &k, &c, 3, ZT_METHOD_READ, i, at[i], "", 0);
        CU_ASSERT_EQUAL(verify_at(&a, &c, &p, "", at[i]), want[i]);
    }
}

/* The attacker has c's certificate (certificates are public) and its own key from its own
 * certificate; whatever it does, the proof fails. */
static void test_a_stolen_certificate_replayed_from_another_node_fails(void)
{
    TrustKey root = key_of(1), a = trust_audience_key(&root, S_ID);
    TrustCert c = cert_for_c(&root);
    TrustCert mine = c;
    trust_spiffe_id("x", mine.id);
    mine.subject = 9;
    mine.serial = 43;
    trust_cert_sign(&mine, &a);
    TrustKey my_key = trust_proof_key(&mine, &a), c_key = trust_proof_key(&c, &a);
    CU_ASSERT_NOT_EQUAL(memcmp(&my_key, &c_key, sizeof my_key), 0);

    TrustProof p;
    trust_proof_make(&p, &my_key, &c, 3, ZT_METHOD_READ, 5, DSIM_S(12), "", 0);
    CU_ASSERT_EQUAL(verify_at(&a, &c, &p, "", DSIM_S(12)), TRUST_BAD_PROOF);
    /* its own certificate's proof does not go with c's certificate either */
    trust_proof_make(&p, &my_key, &mine, 3, ZT_METHOD_READ, 5, DSIM_S(12), "", 0);
    CU_ASSERT_EQUAL(verify_at(&a, &c, &p, "", DSIM_S(12)), TRUST_BAD_PROOF);
    CU_ASSERT_EQUAL(verify_at(&a, &mine, &p, "", DSIM_S(12)), TRUST_OK);

    /* a genuine proof by c, copied off the wire, is bound to its call */
    trust_proof_make(&p, &c_key, &c, 3, ZT_METHOD_READ, 5, DSIM_S(12), "read k", 6);
    CU_ASSERT_EQUAL(verify_at(&a, &c, &p, "read k", DSIM_S(12)), TRUST_OK);
    CU_ASSERT_EQUAL(verify_at(&a, &c, &p, "read K", DSIM_S(12)), TRUST_BAD_PROOF); /* payload */
    CU_ASSERT_EQUAL(trust_verify(&a, S_ID, 4, &c, &p, ZT_METHOD_READ, "read k", 6, DSIM_S(12),
                                 DSIM_S(1)), TRUST_BAD_PROOF);                  /* callee */
    CU_ASSERT_EQUAL(trust_verify(&a, S_ID, 3, &c, &p, ZT_METHOD_WRITE, "read k", 6, DSIM_S(12),
                                 DSIM_S(1)), TRUST_BAD_PROOF);                  /* method */
    CU_ASSERT_EQUAL(verify_at(&a, &c, &p, "read k", DSIM_S(14)), TRUST_STALE_PROOF); /* later */
    TrustProof q = p;
    q.at += 1; /* moving its time breaks it */
    CU_ASSERT_EQUAL(verify_at(&a, &c, &q, "read k", DSIM_S(12)), TRUST_BAD_PROOF);
}

static void test_a_proof_is_accepted_once(void)
{
    TrustReplay *r = trust_replay_new(DSIM_S(1));
    CU_ASSERT_TRUE(trust_replay_admit(r, 42, 5, DSIM_S(10)));
    CU_ASSERT_TRUE(trust_replay_admit(r, 42, 6, DSIM_S(10)));
    CU_ASSERT_TRUE(trust_replay_admit(r, 43, 5, DSIM_S(10)));
    CU_ASSERT_FALSE(trust_replay_admit(r, 42, 5, DSIM_MS(11999)));
    CU_ASSERT_EQUAL(trust_replay_size(r), 3);
    /* 2 s on, a proof made at 10 s would be stale anyway: the cache forgets it */
    CU_ASSERT_TRUE(trust_replay_admit(r, 42, 5, DSIM_S(12)));
    CU_ASSERT_EQUAL(trust_replay_size(r), 1);
    trust_replay_free(r);
}

static void test_policies_parse_and_allow_by_identity_and_method(void)
{
    g_autoptr(GString) why = g_string_new(NULL);
    TrustPolicy p;
    CU_ASSERT_TRUE_FATAL(trust_policy_parse(" c->s, gw -> s:write,spiffe://dsim/ops->spiffe://dsim/s:read", &p, why));
    CU_ASSERT_EQUAL(p.n, 3);
    CU_ASSERT_STRING_EQUAL(p.rule[1].caller, "spiffe://dsim/gw");
    CU_ASSERT_STRING_EQUAL(p.rule[1].method, "write");
    CU_ASSERT_STRING_EQUAL(p.rule[2].callee, "spiffe://dsim/s");
    CU_ASSERT_TRUE(trust_policy_allows(&p, "spiffe://dsim/c", S_ID, "read"));
    CU_ASSERT_TRUE(trust_policy_allows(&p, "spiffe://dsim/c", S_ID, "write"));
    CU_ASSERT_TRUE(trust_policy_allows(&p, "spiffe://dsim/gw", S_ID, "write"));
    CU_ASSERT_FALSE(trust_policy_allows(&p, "spiffe://dsim/gw", S_ID, "read"));
    CU_ASSERT_TRUE(trust_policy_allows(&p, "spiffe://dsim/ops", S_ID, "read"));
    CU_ASSERT_FALSE(trust_policy_allows(&p, "spiffe://dsim/x", S_ID, "read"));
    CU_ASSERT_FALSE(trust_policy_allows(&p, "spiffe://dsim/s", "spiffe://dsim/c", "read"));
    CU_ASSERT_FALSE(trust_policy_allows(&p, "c", S_ID, "read")); /* identities, not names */

    CU_ASSERT_TRUE(trust_policy_parse("", &p, why)); /* default deny */
    CU_ASSERT_EQUAL(p.n, 0);
    CU_ASSERT_FALSE(trust_policy_allows(&p, "spiffe://dsim/c", S_ID, "read"));

    const char *bad[] = { "c=>s", "c->", "->s", "c->s,", "c->s:", "1c->s", "c->s d",
                          "spiffe://other/c->s", "c->s:averyveryverylongmethodname" };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_string_truncate(why, 0);
        CU_ASSERT_FALSE(trust_policy_parse(bad[i], &p, why));
        CU_ASSERT_TRUE(why->len > 0);
    }
    trust_policy_parse("c=>s", &p, why);
    CU_ASSERT_STRING_EQUAL(why->str, "rule \"c=>s\" has no \"->\" (write caller->callee, e.g. "
                           "c->s or c->s:read)");
}

static void test_identities_come_from_group_ids(void)
{
    char id[TRUST_ID_MAX];
    CU_ASSERT_TRUE(trust_group_of_name("s12", 11, id));
    CU_ASSERT_STRING_EQUAL(id, "s");
    CU_ASSERT_TRUE(trust_group_of_name("r2d1", 0, id)); /* group "r2d" */
    CU_ASSERT_STRING_EQUAL(id, "r2d");
    CU_ASSERT_FALSE(trust_group_of_name("s12", 0, id));
    CU_ASSERT_FALSE(trust_group_of_name("1", 0, id));
    CU_ASSERT_TRUE(trust_spiffe_id("gw", id));
    CU_ASSERT_STRING_EQUAL(id, "spiffe://dsim/gw");
    CU_ASSERT_FALSE(trust_spiffe_id("", id));
    char long_group[80];
    memset(long_group, 'a', sizeof long_group - 1);
    long_group[79] = '\0';
    CU_ASSERT_FALSE(trust_spiffe_id(long_group, id));
}

static void test_the_servers_finished_needs_the_callers_key(void)
{
    TrustKey root = key_of(1), a = trust_audience_key(&root, S_ID);
    TrustCert c = cert_for_c(&root);
    TrustKey k = trust_proof_key(&c, &a), wrong = key_of(3);
    uint8_t x[TRUST_MAC_LEN], y[TRUST_MAC_LEN], z[TRUST_MAC_LEN];
    trust_finished(&k, S_ID, 3, 99, 1, x);
    trust_finished(&k, S_ID, 3, 99, 1, y);
    CU_ASSERT_TRUE(trust_mac_equal(x, y));
    trust_finished(&wrong, S_ID, 3, 99, 1, z);
    CU_ASSERT_FALSE(trust_mac_equal(x, z));
    trust_finished(&k, TRUST_ID_PREFIX "t", 3, 99, 1, z); /* claiming another identity */
    CU_ASSERT_FALSE(trust_mac_equal(x, z));
    trust_finished(&k, S_ID, 3, 98, 1, z); /* for another call */
    CU_ASSERT_FALSE(trust_mac_equal(x, z));
}

/* ---- the protocols, through the harness ----------------------------------------------------- */

static DsimCallStatus status_of(Harness *h, DsimCallId call, const void **body, size_t *size)
{
    for (unsigned i = 0; i < harness_n_responses(h); i++) {
        const HarnessResponse *r = harness_response(h, i);
        if (r->call == call) {
            gsize n = 0;
            if (body != NULL)
                *body = g_bytes_get_data(r->body, &n);
            if (size != NULL)
                *size = g_bytes_get_size(r->body);
            return r->status;
        }
    }
    CU_FAIL("the call was not answered");
    return DSIM_CALL_TIMEOUT;
}

static bool fail_says(Harness *h, DsimCallId call, const char *why)
{
    const void *body;
    size_t size;
    if (status_of(h, call, &body, &size) != DSIM_CALL_FAIL)
        return false;
    return size == strlen(why) && memcmp(body, why, size) == 0;
}

static CaIssueReq issue_req(const char *group, const char *audience)
{
    CaIssueReq q;
    memset(&q, 0, sizeof q);
    g_strlcpy(q.group, group, sizeof q.group);
    g_strlcpy(q.audience, audience, sizeof q.audience);
    return q;
}

/* SPIRE's node attestation, reduced to its core: the caller's address must be a node of the
 * group it claims, and only then does it get a certificate. */
static void test_the_ca_attests_callers_by_address_and_issues(void)
{
    g_autoptr(Harness) h = harness_new(&ca_protocol, "ca", 1, 0, 1);
    harness_set_param(h, "ttl", "10s");
    DsimNodeId c1 = harness_add_group(h, "c", 2), s1 = harness_add_group(h, "s", 3);
    harness_init(h);
    CU_ASSERT_EQUAL(harness_n_syncs(h), 1); /* R and the first serial, durable before use */
    const CaNode *ca = harness_state(h);
    TrustKey root = ca->root;

    harness_set_now(h, DSIM_S(2));
    CaIssueReq q = issue_req("c", "s");
    DsimCallId ok = harness_serve(h, c1 + 1, CA_METHOD_ISSUE, &q, sizeof q, DSIM_S(3), 0);
    const void *body;
    size_t size;
    CU_ASSERT_EQUAL_FATAL(status_of(h, ok, &body, &size), DSIM_CALL_OK);
    CU_ASSERT_EQUAL_FATAL(size, sizeof(CaIssueResp));
    CaIssueResp resp;
    memcpy(&resp, body, sizeof resp);
    CU_ASSERT_STRING_EQUAL(resp.cert.id, "spiffe://dsim/c");
    CU_ASSERT_STRING_EQUAL(resp.cert.audience, "spiffe://dsim/s");
    CU_ASSERT_EQUAL(resp.cert.subject, c1 + 1);
    CU_ASSERT_EQUAL(resp.cert.serial, 1);
    CU_ASSERT_EQUAL(resp.cert.not_before, DSIM_S(2));
    CU_ASSERT_EQUAL(resp.cert.not_after, DSIM_S(12));
    TrustKey a_s = trust_audience_key(&root, S_ID), a_c = trust_audience_key(&root, "spiffe://dsim/c");
    CU_ASSERT_TRUE(trust_cert_signature_ok(&resp.cert, &a_s));
    TrustKey k = trust_proof_key(&resp.cert, &a_s);
    CU_ASSERT_EQUAL(memcmp(&resp.proof_key, &k, sizeof k), 0);
    CU_ASSERT_EQUAL(memcmp(&resp.verify_key, &a_c, sizeof a_c), 0); /* its own group's, only */

    /* a member of s claiming to be c, and a claim of a group that does not exist */
    q = issue_req("c", "s");
    CU_ASSERT_TRUE(fail_says(h, harness_serve(h, s1, CA_METHOD_ISSUE, &q, sizeof q, DSIM_S(3), 0),
                             "attestation failed"));
    q = issue_req("nope", "s");
    CU_ASSERT_TRUE(fail_says(h, harness_serve(h, c1, CA_METHOD_ISSUE, &q, sizeof q, DSIM_S(3), 0),
                             "attestation failed"));
    q = issue_req("c", "nope");
    CU_ASSERT_TRUE(fail_says(h, harness_serve(h, c1, CA_METHOD_ISSUE, &q, sizeof q, DSIM_S(3), 0),
                             "unknown audience"));
    CU_ASSERT_EQUAL(ca->attestation_failed, 2);

    /* a server asks for its verifying key only */
    q = issue_req("s", "");
    DsimCallId srv = harness_serve(h, s1 + 2, CA_METHOD_ISSUE, &q, sizeof q, DSIM_S(3), 0);
    CU_ASSERT_EQUAL_FATAL(status_of(h, srv, &body, &size), DSIM_CALL_OK);
    memcpy(&resp, body, sizeof resp);
    CU_ASSERT_EQUAL(memcmp(&resp.verify_key, &a_s, sizeof a_s), 0);
    CU_ASSERT_EQUAL(resp.cert.serial, 0);

    /* the public log: the latest certificate of c for s */
    CaLookupReq l;
    memset(&l, 0, sizeof l);
    trust_spiffe_id("c", l.id);
    trust_spiffe_id("s", l.audience);
    DsimCallId look = harness_serve(h, s1, CA_METHOD_LOOKUP, &l, sizeof l, DSIM_S(3), 0);
    CU_ASSERT_EQUAL_FATAL(status_of(h, look, &body, &size), DSIM_CALL_OK);
    CU_ASSERT_EQUAL(((const TrustCert *) body)->serial, 1);

    /* a restart keeps R and the serials, and forgets the log */
    harness_crash(h, true);
    harness_recover(h);
    ca = harness_state(h);
    CU_ASSERT_EQUAL(memcmp(&ca->root, &root, sizeof root), 0);
    CU_ASSERT_EQUAL(ca->next_serial, 2);
    CU_ASSERT_TRUE(fail_says(h, harness_serve(h, s1, CA_METHOD_LOOKUP, &l, sizeof l, DSIM_S(3), 0),
                             "not found"));
}

/* A zt-service member s1 of 3, enrolled with a verifying key of root 1, at 12 s. */
static Harness *enrolled_service(const char *policy, const char *bug, DsimNodeId *c1, DsimNodeId *x1)
{
    Harness *h = harness_new(&zt_service_protocol, "s", 3, 0, 1);
    harness_set_param(h, "policy", policy);
    harness_set_param(h, "service_time", "0ms");
    harness_set_param(h, "bug", bug);
    harness_add_group(h, "ca", 1);
    *c1 = harness_add_group(h, "c", 2);
    *x1 = harness_add_group(h, "x", 1);
    harness_init(h);
    CU_ASSERT_EQUAL_FATAL(harness_n_calls(h), 1);
    const HarnessCall *enroll = harness_call(h, 0);
    CU_ASSERT_EQUAL(enroll->method, CA_METHOD_ISSUE);
    CaIssueResp resp;
    memset(&resp, 0, sizeof resp);
    TrustKey root = key_of(1);
    resp.verify_key = trust_audience_key(&root, S_ID);
    harness_outcome(h, enroll->id, DSIM_CALL_OK, &resp, sizeof resp);
    harness_set_now(h, DSIM_S(12));
    return h;
}

/* A request by node @from holding @c (NULL: none) with key @k, to s1 (node 0). */
static DsimCallId call_s1(Harness *h, DsimNodeId from, const TrustCert *c, const TrustKey *k,
                          uint64_t nonce, const char *claimed, DsimNodeId forwarded_for)
{
    ZtRequest req;
    memset(&req, 0, sizeof req);
    req.payload.seq = nonce;
    req.payload.forwarded_for = forwarded_for;
    if (claimed != NULL)
        trust_spiffe_id(claimed, req.payload.claimed_id);
    if (c != NULL) {
        req.has_cert = 1;
        req.cert = *c;
        trust_proof_make(&req.proof, k, c, 0, ZT_METHOD_READ, nonce, harness_now(h), &req.payload,
                         sizeof req.payload);
    }
    DsimCallId id = harness_serve(h, from, ZT_METHOD_READ, &req, sizeof req, harness_now(h) + DSIM_S(1), 0);
    for (unsigned i = 0; i < harness_n_timers(h); i++) { /* served: answered after service_time 0 */
        const HarnessTimer *t = harness_timer(h, i);
        if (t->kind == 2 /* ZT_TIMER_DONE */ && t->arg == id && harness_timer_pending(h, t->id))
            harness_fire_timer(h, t->id);
    }
    return id;
}

static TrustCert cert_of(const char *group, DsimNodeId subject, uint64_t serial, TrustKey *key)
{
    TrustKey root = key_of(1), a = trust_audience_key(&root, S_ID);
    TrustCert c = cert_for_c(&root);
    trust_spiffe_id(group, c.id);
    c.subject = subject;
    c.serial = serial;
    trust_cert_sign(&c, &a);
    *key = trust_proof_key(&c, &a);
    return c;
}

static void test_a_zt_service_serves_the_allowed_and_refuses_the_rest(void)
{
    DsimNodeId c1, x1;
    g_autoptr(Harness) h = enrolled_service("c->s", "none", &c1, &x1);
    TrustKey kc, kx;
    TrustCert cc = cert_of("c", c1, 1, &kc), cx = cert_of("x", x1, 2, &kx);

    DsimCallId ok = call_s1(h, c1, &cc, &kc, 1, NULL, DSIM_NOBODY);
    const void *body;
    size_t size;
    CU_ASSERT_EQUAL_FATAL(status_of(h, ok, &body, &size), DSIM_CALL_OK);
    CU_ASSERT_EQUAL_FATAL(size, sizeof(ZtResponse));
    ZtResponse resp;
    memcpy(&resp, body, sizeof resp);
    uint8_t want[TRUST_MAC_LEN];
    trust_finished(&kc, S_ID, 0, 1, 1, want); /* what c checks: mutual authentication */
    CU_ASSERT_TRUE(trust_mac_equal(want, resp.finished));
    CU_ASSERT_STRING_EQUAL(resp.server_id, S_ID);

    /* identity is the certificate's, wherever the call comes from and whatever it says */
    CU_ASSERT_EQUAL(status_of(h, call_s1(h, x1, &cc, &kc, 2, NULL, DSIM_NOBODY), NULL, NULL),
                    DSIM_CALL_OK); /* c's key, used from x's node: it is c, by proof */
    CU_ASSERT_TRUE(fail_says(h, call_s1(h, x1, &cx, &kx, 3, "c", c1), "forbidden"));
    CU_ASSERT_TRUE(fail_says(h, call_s1(h, c1, &cx, &kx, 4, NULL, DSIM_NOBODY), "forbidden"));
    CU_ASSERT_TRUE(fail_says(h, call_s1(h, x1, &cc, &kx, 5, NULL, DSIM_NOBODY),
                             "unauthenticated: bad-proof"));
    CU_ASSERT_TRUE(fail_says(h, call_s1(h, c1, NULL, NULL, 6, NULL, DSIM_NOBODY),
                             "unauthenticated: no-certificate"));
    CU_ASSERT_TRUE(fail_says(h, call_s1(h, c1, &cc, &kc, 1, NULL, DSIM_NOBODY),
                             "unauthenticated: replayed-proof")); /* nonce 1 again */
    harness_set_now(h, DSIM_S(20));
    CU_ASSERT_TRUE(fail_says(h, call_s1(h, c1, &cc, &kc, 7, NULL, DSIM_NOBODY),
                             "unauthenticated: expired"));
    const ZtServiceNode *s = harness_state(h);
    CU_ASSERT_EQUAL(s->served, 2);
    CU_ASSERT_EQUAL(s->refused_forbidden, 2);
    CU_ASSERT_EQUAL(s->refused[TRUST_BAD_PROOF], 1);
    CU_ASSERT_EQUAL(s->refused[TRUST_EXPIRED], 1);
    CU_ASSERT_EQUAL(s->unauthorized_served, 0);
}

static void test_a_zt_service_refuses_everything_before_it_enrolls(void)
{
    g_autoptr(Harness) h = harness_new(&zt_service_protocol, "s", 1, 0, 1);
    harness_add_group(h, "ca", 1);
    DsimNodeId c1 = harness_add_group(h, "c", 1);
    harness_init(h);
    DsimCallId enroll = harness_call(h, 0)->id;
    ZtRequest req;
    memset(&req, 0, sizeof req);
    CU_ASSERT_TRUE(fail_says(h, harness_serve(h, c1, ZT_METHOD_READ, &req, sizeof req, DSIM_S(1), 0),
                             "unavailable"));
    harness_outcome(h, enroll, DSIM_CALL_TIMEOUT, NULL, 0); /* asks again after retry */
    CU_ASSERT_EQUAL(harness_n_timers(h), 1);
    CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, DSIM_S(1));
}

static void test_authorize_by_address_serves_a_claimed_address(void)
{
    DsimNodeId c1, x1;
    g_autoptr(Harness) h = enrolled_service("c->s", "authorize-by-address", &c1, &x1);
    TrustKey kx;
    TrustCert cx = cert_of("x", x1, 2, &kx);
    CU_ASSERT_TRUE(fail_says(h, call_s1(h, x1, &cx, &kx, 1, NULL, DSIM_NOBODY), "forbidden"));
    CU_ASSERT_EQUAL(status_of(h, call_s1(h, x1, &cx, &kx, 2, "c", c1), NULL, NULL), DSIM_CALL_OK);
    CU_ASSERT_EQUAL(status_of(h, call_s1(h, x1, NULL, NULL, 3, NULL, c1 + 1), NULL, NULL), DSIM_CALL_OK);
    const ZtServiceNode *s = harness_state(h);
    CU_ASSERT_EQUAL(s->served, 2);
    CU_ASSERT_EQUAL(s->unauthorized_served, 2);
}

/* The client checks the server's Finished: an answer that cannot prove it came from a member
 * of the target group counts as unverified, not as a success. */
static void test_a_client_verifies_the_server(void)
{
    g_autoptr(Harness) h = harness_new(&zt_client_protocol, "c", 1, 0, 1);
    harness_set_param(h, "rate", "10/s");
    harness_add_group(h, "ca", 1);
    DsimNodeId s1 = harness_add_group(h, "s", 1);
    harness_init(h);
    CU_ASSERT_EQUAL_FATAL(harness_n_calls(h), 1);
    TrustKey root = key_of(1), a = trust_audience_key(&root, S_ID);
    CaIssueResp resp;
    memset(&resp, 0, sizeof resp);
    resp.cert = cert_for_c(&root);
    resp.cert.not_before = 0;
    resp.cert.subject = 0;
    trust_cert_sign(&resp.cert, &a);
    resp.proof_key = trust_proof_key(&resp.cert, &a);
    harness_outcome(h, harness_call(h, 0)->id, DSIM_CALL_OK, &resp, sizeof resp);
    /* the renewal is due at half of the lifetime, 10 s */
    const HarnessTimer *renew = harness_timer(h, harness_n_timers(h) - 1);
    CU_ASSERT_EQUAL(renew->delay, DSIM_S(10));

    for (unsigned i = 0; i < 2; i++) {
        harness_fire(h, 1 /* ZC_TIMER_CALL */, 0);
        const HarnessCall *call = harness_call(h, harness_n_calls(h) - 1);
        CU_ASSERT_EQUAL_FATAL(call->to, s1);
        ZtRequest req;
        memcpy(&req, g_bytes_get_data(call->body, NULL), sizeof req);
        CU_ASSERT_EQUAL(trust_verify(&a, S_ID, s1, &req.cert, &req.proof, call->method, &req.payload,
                                     sizeof req.payload, harness_now(h), DSIM_S(1)), TRUST_OK);
        ZtResponse out;
        memset(&out, 0, sizeof out);
        out.seq = req.payload.seq;
        out.serial = req.cert.serial;
        memcpy(out.server_id, S_ID, sizeof S_ID);
        out.server = s1;
        TrustKey k = i == 0 ? trust_proof_key(&req.cert, &a) : key_of(9); /* the second: an impostor */
        trust_finished(&k, S_ID, s1, req.proof.nonce, out.seq, out.finished);
        harness_outcome(h, call->id, DSIM_CALL_OK, &out, sizeof out);
    }
    const ZtClientNode *c = harness_state(h);
    CU_ASSERT_EQUAL(c->ok, 1);
    CU_ASSERT_EQUAL(c->server_unverified, 1);
}

/* ---- worlds --------------------------------------------------------------------------------- */

static DsimWorld *trust_world(const char *duration, const char *service_params, const char *faults,
                              uint64_t seed, DsimScenario **out)
{
    g_autofree char *xml = g_strdup_printf(
        "<scenario name='t' seed='1' duration='%s'>"
        "  <network><latency>uniform(1ms,3ms)</latency></network>"
        "  <group id='ca' protocol='ca' count='1'><param name='ttl'>10s</param></group>"
        "  <group id='s' protocol='zt-service' count='3'>%s</group>"
        "  <group id='c' protocol='zt-client' count='2'/>"
        "  <group id='x' protocol='attacker' count='1'/>"
        "  <faults>%s</faults>"
        "  <checks><invariant name='no-unauthorized-served'/>"
        "    <expect metric='attacker_accepted' max='0'/></checks>"
        "</scenario>", duration, service_params, faults);
    g_autoptr(GError) error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "trust.xml", &error);
    if (sc == NULL)
        g_error("%s", error->message);
    *out = sc;
    DsimWorld *w = dsim_world_new(sc, seed, NULL);
    dsim_world_run(w, NULL, NULL);
    return w;
}

static const DsimVerdict *verdict(const DsimWorld *w, const char *prefix)
{
    for (unsigned i = 0; i < dsim_world_n_verdicts(w); i++) {
        if (g_str_has_prefix(dsim_world_verdict(w, i)->name, prefix))
            return dsim_world_verdict(w, i);
    }
    CU_FAIL("no such verdict");
    return NULL;
}

/* node ids: ca1 0, s1..s3 1..3, c1 c2 4 5, x1 6 */
static void test_every_attack_is_refused_in_a_world(void)
{
    DsimScenario *sc;
    DsimWorld *w = trust_world("30s", "", "", 1, &sc);
    CU_ASSERT_TRUE(dsim_world_passed(w));
    const AttackerNode *a = dsim_world_node_state(w, 6);
    for (unsigned k = 0; k < ATTACK_N; k++) {
        CU_ASSERT_TRUE(a->attempted[k] >= 10);
        CU_ASSERT_EQUAL(a->accepted[k], 0);
        CU_ASSERT_TRUE(a->attempted[k] - a->refused[k] - a->unanswered[k] <= 1); /* in flight */
    }
    uint64_t by[TRUST_N_VERDICTS] = { 0 }, forbidden = 0, served = 0;
    for (DsimNodeId id = 1; id <= 3; id++) {
        const ZtServiceNode *s = dsim_world_node_state(w, id);
        for (unsigned v = 0; v < TRUST_N_VERDICTS; v++)
            by[v] += s->refused[v];
        forbidden += s->refused_forbidden;
        served += s->served;
        CU_ASSERT_EQUAL(s->unauthorized_served, 0);
    }
    /* each attempt refused for its own reason */
    CU_ASSERT_EQUAL(by[TRUST_NO_CERT], a->refused[ATTACK_NO_CERT]);
    CU_ASSERT_EQUAL(by[TRUST_BAD_SIGNATURE], a->refused[ATTACK_FORGED]);
    CU_ASSERT_EQUAL(by[TRUST_BAD_PROOF], a->refused[ATTACK_STOLEN]);
    CU_ASSERT_EQUAL(by[TRUST_EXPIRED], a->refused[ATTACK_EXPIRED]);
    CU_ASSERT_EQUAL(forbidden, a->refused[ATTACK_NOT_ALLOWED] + a->refused[ATTACK_CLAIM_IDENTITY]);
    const CaNode *ca = dsim_world_node_state(w, 0);
    CU_ASSERT_EQUAL(ca->attestation_failed, a->refused[ATTACK_ENROLL_AS_VICTIM]);
    /* and the legitimate clients were served, every answer verified */
    uint64_t ok = 0;
    for (DsimNodeId id = 4; id <= 5; id++) {
        const ZtClientNode *c = dsim_world_node_state(w, id);
        CU_ASSERT_EQUAL(c->refused, 0);
        CU_ASSERT_EQUAL(c->server_unverified, 0);
        CU_ASSERT_EQUAL(c->timeouts, 0);
        ok += c->ok;
    }
    CU_ASSERT_TRUE(ok <= served && served - ok <= 2); /* answers in flight at the end */
    CU_ASSERT_TRUE(ok > 2 * 20 * 25);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_the_authorize_by_address_bug_is_caught(void)
{
    DsimScenario *sc;
    DsimWorld *w = trust_world("10s", "<param name='bug'>authorize-by-address</param>", "", 1, &sc);
    CU_ASSERT_FALSE(dsim_world_passed(w));
    const DsimVerdict *v = verdict(w, "no-unauthorized-served");
    CU_ASSERT_FALSE(v->passed);
    CU_ASSERT_TRUE(v->time < DSIM_S(2)); /* at the first claim-identity attempt, 1.2 s */
    CU_ASSERT_FALSE(verdict(w, "expect attacker_accepted")->passed);
    const AttackerNode *a = dsim_world_node_state(w, 6);
    for (unsigned k = 0; k < ATTACK_N; k++)
        CU_ASSERT_TRUE(k == ATTACK_CLAIM_IDENTITY ? a->accepted[k] + 1 >= a->attempted[k]
                                                  : a->accepted[k] == 0);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

/* With a 10 s TTL and renewal at half, each client renews every 5 s: new serial, new key,
 * and no call is refused across a rotation (answers in flight verify with the old key). */
static void test_certificates_rotate_before_they_expire(void)
{
    DsimScenario *sc;
    DsimWorld *w = trust_world("31s", "", "", 3, &sc);
    CU_ASSERT_TRUE(dsim_world_passed(w));
    for (DsimNodeId id = 4; id <= 5; id++) {
        const ZtClientNode *c = dsim_world_node_state(w, id);
        CU_ASSERT_EQUAL(c->renewals, 6); /* at 5, 10, ..., 30 s */
        CU_ASSERT_EQUAL(c->expired, 0);
        CU_ASSERT_EQUAL(c->no_cert, 0);
        CU_ASSERT_EQUAL(c->refused + c->server_unverified + c->timeouts, 0);
        CU_ASSERT_TRUE(c->cur.cert.serial > c->prev.cert.serial);
        CU_ASSERT_TRUE(c->cur.cert.not_after > DSIM_S(31));
    }
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

/* The CA is down from 30 s to 42 s: renewals fail, the certificates issued at 25 s expire at
 * 35 s, the clients stop calling; after the restart (the same R, from the durable store) they
 * renew and the services, enrolled before the crash, accept the new certificates. */
static void test_a_ca_outage_lets_certificates_expire_and_a_restart_renews_them(void)
{
    DsimScenario *sc;
    DsimWorld *w = trust_world("60s", "",
                               "<crash at='30s' node='ca1'/><restart at='42s' node='ca1'/>", 1, &sc);
    CU_ASSERT_TRUE(dsim_world_passed(w));
    for (DsimNodeId id = 4; id <= 5; id++) {
        const ZtClientNode *c = dsim_world_node_state(w, id);
        CU_ASSERT_EQUAL(c->expired, 1);
        CU_ASSERT_TRUE(c->no_cert > 100); /* about 7 s at 20/s */
        CU_ASSERT_TRUE(c->cur.cert.not_before >= DSIM_S(42));
        CU_ASSERT_TRUE(c->cur.cert.not_after > DSIM_S(60));
        CU_ASSERT_TRUE(c->refused <= 1); /* a call sent just before expiry may arrive after */
    }
    const DsimTime *t;
    const double *v;
    size_t n = dsim_world_metric_samples(w, "zt_client_ok", &t, &v);
    CU_ASSERT_TRUE(n > 0 && t[n - 1] > DSIM_S(59));
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

/* Bad parameters are input errors, reported at load with the line of their <param>. */
static void test_bad_parameters_are_refused_at_load(void)
{
    const char *cases[][2] = {
        { "<group id='s' protocol='zt-service' count='1'>\n<param name='policy'>c=>s</param></group>",
          "trust.xml:4: <param name=\"policy\">: rule \"c=>s\" has no \"->\" (write "
          "caller->callee, e.g. c->s or c->s:read)" },
        { "<group id='s' protocol='zt-service' count='1'>\n<param name='policy'>c->s:delete</param></group>",
          "trust.xml:4: <param name=\"policy\">: method \"delete\" of rule 1 is not one of a "
          "zt-service's (read, write)" },
        { "<group id='x' protocol='attacker' count='1'>\n<param name='victim'>x</param></group>",
          "trust.xml:4: <param name=\"victim\">: victim is the attacker's own group (name the "
          "group whose identity it tries to take, e.g. c)" },
        { "<group id='c' protocol='zt-client' count='1'>\n<param name='target'>nope</param></group>",
          "trust.xml:4: <param name=\"target\">: target \"nope\" is not a group of this scenario "
          "(write the id of a <group>)" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf(
            "<scenario name='t' seed='1' duration='1s'>\n"
            "<group id='ca' protocol='ca' count='1'/>\n%s\n</scenario>", cases[i][0]);
        g_autoptr(GError) error = NULL;
        DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "trust.xml", &error);
        CU_ASSERT_PTR_NULL(sc);
        CU_ASSERT_PTR_NOT_NULL_FATAL(error);
        if (strcmp(error->message, cases[i][1]) != 0)
            printf("\n==> expected %s\n==> actual   %s\n", cases[i][1], error->message);
        CU_ASSERT_STRING_EQUAL(error->message, cases[i][1]);
        dsim_scenario_free(sc);
    }
}

CU_TestInfo trust_tests[] = {
    { "a certificate signed by the ca verifies", test_a_certificate_signed_by_the_ca_verifies },
    { "tampering with any field breaks the signature",
      test_tampering_with_any_field_breaks_the_signature },
    { "a certificate is valid only inside its window",
      test_a_certificate_is_valid_only_inside_its_window },
    { "a stolen certificate replayed from another node fails",
      test_a_stolen_certificate_replayed_from_another_node_fails },
    { "a proof is accepted once", test_a_proof_is_accepted_once },
    { "policies parse and allow by identity and method",
      test_policies_parse_and_allow_by_identity_and_method },
    { "identities come from group ids", test_identities_come_from_group_ids },
    { "the server's finished needs the caller's key", test_the_servers_finished_needs_the_callers_key },
    { "the ca attests callers by address and issues", test_the_ca_attests_callers_by_address_and_issues },
    { "a zt-service serves the allowed and refuses the rest",
      test_a_zt_service_serves_the_allowed_and_refuses_the_rest },
    { "a zt-service refuses everything before it enrolls",
      test_a_zt_service_refuses_everything_before_it_enrolls },
    { "authorize by address serves a claimed address",
      test_authorize_by_address_serves_a_claimed_address },
    { "a client verifies the server", test_a_client_verifies_the_server },
    { "every attack is refused in a world", test_every_attack_is_refused_in_a_world },
    { "the authorize-by-address bug is caught", test_the_authorize_by_address_bug_is_caught },
    { "certificates rotate before they expire", test_certificates_rotate_before_they_expire },
    { "a ca outage lets certificates expire and a restart renews them",
      test_a_ca_outage_lets_certificates_expire_and_a_restart_renews_them },
    { "bad parameters are refused at load", test_bad_parameters_are_refused_at_load },
    CU_TEST_INFO_NULL,
};
