/* trust.c - the pure half of zero trust: SPIFFE IDs, certificates signed with a MAC, proofs
 * of possession, the replay cache and the authorization policy. No context, no clock, no
 * randomness: callers hand in their time and their nonces (trust.h has the scheme).
 *
 * Every MAC is HMAC-SHA-256 (GLib's GHmac) over an explicit encoding: a label naming what the
 * MAC is for (so that a MAC made for one purpose never checks for another: domain separation),
 * then each field in a fixed order, integers as 8 little-endian bytes, identities as their
 * whole NUL-padded TRUST_ID_MAX bytes. Never the raw bytes of a struct, whose padding and byte
 * order would make the MAC depend on the compiler.
 */
#include "algorithms/trust/trust.h"

#include <string.h>

/* ---- identities --------------------------------------------------------------------------- */

bool trust_spiffe_id(const char *group, char out[TRUST_ID_MAX])
{
    memset(out, 0, TRUST_ID_MAX);
    size_t n = strlen(group);
    if (n == 0 || n + strlen(TRUST_ID_PREFIX) >= TRUST_ID_MAX)
        return false;
    g_snprintf(out, TRUST_ID_MAX, "%s%s", TRUST_ID_PREFIX, group);
    return true;
}

bool trust_group_of_name(const char *name, unsigned index, char out[TRUST_ID_MAX])
{
    char num[16];
    g_snprintf(num, sizeof num, "%u", index + 1);
    size_t n = strlen(name), k = strlen(num);
    memset(out, 0, TRUST_ID_MAX);
    if (n <= k || n - k >= TRUST_ID_MAX || strcmp(name + n - k, num) != 0)
        return false;
    memcpy(out, name, n - k);
    return true;
}

/* ---- MACs ------------------------------------------------------------------------------------ */

static GHmac *mac_begin(const TrustKey *key, const char *label)
{
    GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, key->b, sizeof key->b);
    g_hmac_update(h, (const guchar *) label, (gssize) strlen(label) + 1); /* with its NUL */
    return h;
}

static void mac_u64(GHmac *h, uint64_t v)
{
    guchar b[8];
    for (unsigned i = 0; i < 8; i++)
        b[i] = (guchar) (v >> (8 * i));
    g_hmac_update(h, b, sizeof b);
}

static void mac_bytes(GHmac *h, const void *data, size_t len)
{
    mac_u64(h, len); /* length first: two fields can never run into each other */
    if (len > 0)
        g_hmac_update(h, data, (gssize) len);
}

static void mac_end(GHmac *h, uint8_t out[TRUST_MAC_LEN])
{
    gsize len = TRUST_MAC_LEN;
    g_hmac_get_digest(h, out, &len);
    g_assert(len == TRUST_MAC_LEN);
    g_hmac_unref(h);
}

bool trust_mac_equal(const uint8_t a[TRUST_MAC_LEN], const uint8_t b[TRUST_MAC_LEN])
{
    uint8_t diff = 0;
    for (unsigned i = 0; i < TRUST_MAC_LEN; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

TrustKey trust_derive(const TrustKey *key, const char *label, const void *data, size_t len)
{
    TrustKey out;
    GHmac *h = mac_begin(key, label);
    mac_bytes(h, data, len);
    mac_end(h, out.b);
    return out;
}

TrustKey trust_audience_key(const TrustKey *root, const char *audience)
{
    char id[TRUST_ID_MAX] = { 0 };
    g_strlcpy(id, audience, sizeof id);
    return trust_derive(root, "dsim audience key", id, sizeof id);
}

/* ---- certificates ------------------------------------------------------------------------------ */

static void cert_mac(const TrustCert *c, const TrustKey *audience_key, uint8_t out[TRUST_MAC_LEN])
{
    GHmac *h = mac_begin(audience_key, "dsim SVID");
    mac_bytes(h, c->id, sizeof c->id);
    mac_bytes(h, c->audience, sizeof c->audience);
    mac_u64(h, c->subject);
    mac_u64(h, c->issuer);
    mac_u64(h, c->key_id);
    mac_u64(h, c->serial);
    mac_u64(h, (uint64_t) c->not_before);
    mac_u64(h, (uint64_t) c->not_after);
    mac_end(h, out);
}

void trust_cert_sign(TrustCert *cert, const TrustKey *audience_key)
{
    cert_mac(cert, audience_key, cert->sig);
}

bool trust_cert_signature_ok(const TrustCert *cert, const TrustKey *audience_key)
{
    uint8_t want[TRUST_MAC_LEN];
    cert_mac(cert, audience_key, want);
    return trust_mac_equal(want, cert->sig);
}

/* The key is a function of the signature, which covers every field: a certificate altered in
 * any way has another key, as a real certificate binds exactly one public key. */
TrustKey trust_proof_key(const TrustCert *cert, const TrustKey *audience_key)
{
    return trust_derive(audience_key, "dsim proof key", cert->sig, sizeof cert->sig);
}

/* ---- proofs ------------------------------------------------------------------------------------ */

static void proof_mac(const TrustProof *p, const TrustKey *proof_key, const TrustCert *cert,
                      const void *payload, size_t len, uint8_t out[TRUST_MAC_LEN])
{
    GHmac *h = mac_begin(proof_key, "dsim CertificateVerify");
    mac_bytes(h, cert->sig, sizeof cert->sig); /* TLS signs the transcript, Certificate included */
    mac_u64(h, p->serial);
    mac_u64(h, p->nonce);
    mac_u64(h, (uint64_t) p->at);
    mac_u64(h, p->callee);
    mac_u64(h, p->method);
    mac_bytes(h, payload, len);
    mac_end(h, out);
}

void trust_proof_make(TrustProof *proof, const TrustKey *proof_key, const TrustCert *cert,
                      uint32_t callee, uint16_t method, uint64_t nonce, DsimTime at,
                      const void *payload, size_t len)
{
    memset(proof, 0, sizeof *proof);
    proof->serial = cert->serial;
    proof->nonce = nonce;
    proof->at = at;
    proof->callee = callee;
    proof->method = method;
    proof_mac(proof, proof_key, cert, payload, len, proof->mac);
}

static const char *const verdict_names[TRUST_N_VERDICTS] = {
    "ok", "no-certificate", "wrong-audience", "bad-signature", "not-yet-valid", "expired",
    "bad-proof", "stale-proof", "replayed-proof",
};

const char *trust_verdict_name(TrustVerdict v)
{
    g_assert((unsigned) v < TRUST_N_VERDICTS);
    return verdict_names[v];
}

TrustVerdict trust_verify(const TrustKey *audience_key, const char *audience, uint32_t callee,
                          const TrustCert *cert, const TrustProof *proof, uint16_t method,
                          const void *payload, size_t len, DsimTime now, DsimTime max_skew)
{
    if (cert == NULL)
        return TRUST_NO_CERT;
    /* A certificate made for another group was signed under that group's key: checking it
     * here would only say "bad signature"; naming the audience is the clearer refusal. */
    if (strncmp(cert->audience, audience, TRUST_ID_MAX) != 0)
        return TRUST_WRONG_AUDIENCE;
    if (!trust_cert_signature_ok(cert, audience_key))
        return TRUST_BAD_SIGNATURE;
    /* [not_before, not_after) on the CA's clock, read on ours: a fresh certificate may look
     * up to max_skew early; an expired one is expired (no grace: renewal is the workload's) */
    if (now + max_skew < cert->not_before)
        return TRUST_NOT_YET_VALID;
    if (now >= cert->not_after)
        return TRUST_EXPIRED;
    /* proof of possession: made by the holder of this certificate's key, for this call */
    if (proof->serial != cert->serial || proof->callee != callee || proof->method != method)
        return TRUST_BAD_PROOF;
    TrustKey k = trust_proof_key(cert, audience_key);
    uint8_t want[TRUST_MAC_LEN];
    proof_mac(proof, &k, cert, payload, len, want);
    if (!trust_mac_equal(want, proof->mac))
        return TRUST_BAD_PROOF;
    if (proof->at > now + max_skew || proof->at < now - max_skew)
        return TRUST_STALE_PROOF;
    return TRUST_OK;
}

void trust_finished(const TrustKey *proof_key, const char *server_id, uint32_t server,
                    uint64_t nonce, uint64_t seq, uint8_t out[TRUST_MAC_LEN])
{
    char id[TRUST_ID_MAX] = { 0 };
    g_strlcpy(id, server_id, sizeof id);
    GHmac *h = mac_begin(proof_key, "dsim server Finished");
    mac_bytes(h, id, sizeof id);
    mac_u64(h, server);
    mac_u64(h, nonce);
    mac_u64(h, seq);
    mac_end(h, out);
}

/* ---- the replay cache ---------------------------------------------------------------------------- */

typedef struct {
    uint64_t serial, nonce;
    DsimTime forget_at;
} ReplayEntry;

struct TrustReplay {
    DsimTime    keep;    /* 2 * max_skew */
    GQueue      fifo;    /* ReplayEntry *, oldest first: forget_at never decreases */
    GHashTable *seen;    /* the same entries (not owned), for lookup only */
};

static guint replay_hash(gconstpointer p)
{
    const ReplayEntry *e = p;
    uint64_t x = e->serial * 0x9E3779B97F4A7C15ULL ^ e->nonce;
    return (guint) (x ^ (x >> 32));
}

static gboolean replay_equal(gconstpointer a, gconstpointer b)
{
    const ReplayEntry *x = a, *y = b;
    return x->serial == y->serial && x->nonce == y->nonce;
}

TrustReplay *trust_replay_new(DsimTime max_skew)
{
    TrustReplay *r = g_new0(TrustReplay, 1);
    r->keep = 2 * max_skew;
    g_queue_init(&r->fifo);
    r->seen = g_hash_table_new(replay_hash, replay_equal);
    return r;
}

void trust_replay_free(TrustReplay *r)
{
    if (r == NULL)
        return;
    g_hash_table_destroy(r->seen);
    g_queue_clear_full(&r->fifo, g_free);
    g_free(r);
}

bool trust_replay_admit(TrustReplay *r, uint64_t serial, uint64_t nonce, DsimTime now)
{
    ReplayEntry *old;
    while ((old = g_queue_peek_head(&r->fifo)) != NULL && old->forget_at <= now) {
        g_hash_table_remove(r->seen, old);
        g_free(g_queue_pop_head(&r->fifo));
    }
    ReplayEntry key = { .serial = serial, .nonce = nonce };
    if (g_hash_table_contains(r->seen, &key))
        return false;
    ReplayEntry *e = g_new0(ReplayEntry, 1);
    *e = key;
    e->forget_at = now + r->keep;
    g_queue_push_tail(&r->fifo, e);
    g_hash_table_add(r->seen, e);
    return true;
}

unsigned trust_replay_size(const TrustReplay *r)
{
    return r->fifo.length;
}

/* ---- the policy ------------------------------------------------------------------------------ */

static bool is_group_char(char c)
{
    return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/* "c" or "spiffe://dsim/c" (trimmed) -> "spiffe://dsim/c". */
static bool parse_identity(const char *text, char out[TRUST_ID_MAX], GString *why)
{
    const char *g = g_str_has_prefix(text, TRUST_ID_PREFIX) ? text + strlen(TRUST_ID_PREFIX) : text;
    bool ok = g_ascii_isalpha(*g);
    for (const char *p = g; ok && *p != '\0'; p++)
        ok = is_group_char(*p);
    if (!ok || !trust_spiffe_id(g, out)) {
        g_string_printf(why, "\"%s\" is not an identity (write a group id such as c, or "
                        TRUST_ID_PREFIX "c)", text);
        return false;
    }
    return true;
}

static bool parse_rule(char *text, TrustRule *rule, GString *why)
{
    char *arrow = strstr(text, "->");
    if (arrow == NULL) {
        g_string_printf(why, "rule \"%s\" has no \"->\" (write caller->callee, e.g. c->s or "
                        "c->s:read)", text);
        return false;
    }
    *arrow = '\0';
    char *caller = g_strstrip(text), *callee = g_strstrip(arrow + 2);
    /* the method follows the last ':' of the callee that is not the scheme's */
    const char *from = g_str_has_prefix(callee, "spiffe:") ? callee + 7 : callee;
    char *colon = strchr(from, ':');
    const char *method = "";
    if (colon != NULL) {
        *colon = '\0';
        method = g_strstrip(colon + 1);
        callee = g_strstrip(callee);
        if (*method == '\0' || strlen(method) >= TRUST_METHOD_MAX) {
            g_string_printf(why, "rule %s->%s: a method name of 1 to %d characters follows ':'",
                            caller, callee, TRUST_METHOD_MAX - 1);
            return false;
        }
    }
    if (!parse_identity(caller, rule->caller, why) || !parse_identity(callee, rule->callee, why))
        return false;
    memset(rule->method, 0, sizeof rule->method);
    g_strlcpy(rule->method, method, sizeof rule->method);
    return true;
}

bool trust_policy_parse(const char *text, TrustPolicy *out, GString *why)
{
    memset(out, 0, sizeof *out);
    g_auto(GStrv) rules = g_strsplit(text, ",", -1);
    for (char **r = rules; *r != NULL; r++) {
        g_strstrip(*r);
        if (**r == '\0') {
            if (r == rules && r[1] == NULL)
                return true; /* "": the empty policy */
            g_string_printf(why, "policy \"%s\" has an empty rule (write rules such as "
                            "c->s, gw->s:read, separated by commas)", text);
            return false;
        }
        if (out->n == TRUST_POLICY_MAX) {
            g_string_printf(why, "policy has more than %d rules", TRUST_POLICY_MAX);
            return false;
        }
        if (!parse_rule(*r, &out->rule[out->n], why))
            return false;
        out->n++;
    }
    return true;
}

bool trust_policy_allows(const TrustPolicy *p, const char *caller, const char *callee,
                         const char *method)
{
    for (unsigned i = 0; i < p->n; i++) {
        const TrustRule *r = &p->rule[i];
        if (strncmp(r->caller, caller, TRUST_ID_MAX) == 0
            && strncmp(r->callee, callee, TRUST_ID_MAX) == 0
            && (r->method[0] == '\0' || strcmp(r->method, method) == 0))
            return true;
    }
    return false;
}
