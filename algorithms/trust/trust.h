/* trust.h - zero trust (DESIGN.md, "Service stack"): workload identities issued by a CA,
 * mutual authentication on every call, authorization by identity, never by address.
 *
 * The three ideas, in the words of NIST SP 800-207 ("Zero Trust Architecture", §2.1):
 * "all communication is secured regardless of network location", "access to individual
 * enterprise resources is granted on a per-session basis", "access to resources is determined
 * by dynamic policy" on the identity of the requester. We model them the way SPIFFE/SPIRE and
 * a service mesh's mTLS do:
 *
 *  - an identity is a SPIFFE ID, "spiffe://dsim/<group>": every member of a scenario group is
 *    one workload of that name;
 *  - a CA node (the SPIRE server) issues a certificate (an SVID) to a workload after node
 *    attestation: it checks the group the caller claims against the caller's address, once,
 *    at issue time. The certificate is short-lived and the workload renews it (rotation);
 *  - every call carries the caller's certificate and a proof that the caller holds the
 *    certificate's key (TLS 1.3's CertificateVerify); the callee checks both, then its policy
 *    "caller identity -> callee identity[:method]" on the identity the certificate proved;
 *  - the answer carries the server's proof (TLS's server Finished), so the caller knows it
 *    reached a genuine member of the group it meant to call: authentication is mutual.
 *
 * What stands in for public-key cryptography. GLib has hashes and HMAC, not signatures, so a
 * MAC (HMAC-SHA-256) stands in for every signature. A MAC is checked with the key that makes
 * it, so whoever can check one can also forge one; the scheme below therefore hands every
 * verifying key only to the members of one group, for certificates meant for that group
 * (Kerberos's service keys, or a JWT-SVID's audience checked with a per-audience HMAC key):
 *
 *   R              the CA's root secret: drawn from the CA node's random stream, kept in its
 *                  state and durable store, and nowhere else
 *   A_G            = HMAC(R, "audience" | G): group G's verifying key. The CA hands it to
 *                  each attested member of G, privately, with its certificate
 *   cert.sig       = HMAC(A_G, every field of the certificate) for a certificate whose
 *                  audience is G: only the CA and the members of G can make one, and a
 *                  member of G could only fool itself and its peers
 *   K              = HMAC(A_G, "proof key" | cert.sig): the certificate's private key. The
 *                  CA gives it to the subject, privately; members of G derive it
 *   proof.mac      = HMAC(K, "CertificateVerify" | cert.sig | serial | nonce | time |
 *                  callee node | method | request payload): only the holder of K makes it
 *   finished       = HMAC(K, "server Finished" | server identity | server node | nonce |
 *                  request seq): the answer of a member of G (only they, the CA and the
 *                  subject know K, and the subject does not answer its own calls)
 *
 * What is modelled: a certificate is worthless without its key (stolen certificates fail);
 * signatures cannot be forged or altered by anyone outside the audience; certificates expire
 * and must be renewed; proofs are bound to one callee, one method and one payload, and are
 * fresh (a timestamp within max_skew and a replay cache of nonces, as TLS 1.3's 0-RTT
 * anti-replay of RFC 8446 §8 and signed-request schemes do, since a call has no round trip
 * before its request); the server proves its group membership back.
 * What is not: real asymmetric keys (here the CA derives the subject's key instead of
 * signing a CSR, and a compromised service could impersonate callers towards its own group);
 * X.509 chains, intermediate CAs and the rotation of the CA's own key (R is fixed for the
 * run); revocation; encryption of the payload (the network in dsim has no eavesdropper, so
 * the CA's private answers stay private); connection reuse (every call is its own handshake).
 *
 * This header has two halves: the pure module (trust.c: no context, no clock, no randomness;
 * callers hand in times and nonces) and the four protocols built on it (ca.c): `ca`,
 * `zt-service`, `zt-client`, `attacker`. docs/trust.md is the guide.
 */
#ifndef DSIM_TRUST_H
#define DSIM_TRUST_H

#include "sim/dsim.h"

/* ---- identities --------------------------------------------------------------------------- */

#define TRUST_ID_PREFIX "spiffe://dsim/" /* SPIFFE: spiffe://<trust domain>/<path> */
#define TRUST_ID_MAX    80               /* a SPIFFE ID, NUL-padded: the prefix + a group id of
                                            at most 64 characters + NUL */
#define TRUST_MAC_LEN   32               /* HMAC-SHA-256 */

/* Writes "spiffe://dsim/<group>" into @out, NUL-padded to TRUST_ID_MAX. False (and @out
 * empty) when the group id is empty or too long. */
bool trust_spiffe_id(const char *group, char out[TRUST_ID_MAX]);

/* The group of a node from its name and member index: node "s12" of index 11 is in group
 * "s" (the kernel names nodes "<group id><index + 1>"). False when @name does not end in
 * that number. */
bool trust_group_of_name(const char *name, unsigned index, char out[TRUST_ID_MAX]);

/* ---- keys and certificates ------------------------------------------------------------------- */

typedef struct {
    uint8_t b[TRUST_MAC_LEN];
} TrustKey;

/* An SVID: the fields of an X509-SVID that matter here, plus a JWT-SVID's audience. All of
 * it is covered by sig. No padding: it travels as raw bytes. */
typedef struct {
    char     id[TRUST_ID_MAX];       /* the subject's SPIFFE ID */
    char     audience[TRUST_ID_MAX]; /* the SPIFFE ID of the group it may be presented to */
    uint32_t subject;                /* the DsimNodeId it was issued to (node attestation) */
    uint32_t issuer;                 /* the CA node that issued it */
    uint64_t key_id;                 /* names the key it binds (the public key's place) */
    uint64_t serial;                 /* unique per CA */
    DsimTime not_before, not_after;  /* valid in [not_before, not_after), the CA's clock */
    uint8_t  sig[TRUST_MAC_LEN];     /* HMAC(A_audience, every field above) */
} TrustCert;
G_STATIC_ASSERT(sizeof(TrustCert) == 2 * TRUST_ID_MAX + 40 + TRUST_MAC_LEN);

/* The caller's proof of possession for one call (TLS 1.3 CertificateVerify, RFC 8446
 * §4.4.3, over what identifies this call rather than a handshake transcript). 64 bytes. */
typedef struct {
    uint64_t serial;  /* of the certificate it goes with */
    uint64_t nonce;   /* fresh per call, from the caller's random stream */
    DsimTime at;      /* when it was made, on the caller's clock */
    uint32_t callee;  /* the node it is meant for */
    uint16_t method;
    uint16_t pad;
    uint8_t  mac[TRUST_MAC_LEN];
} TrustProof;
G_STATIC_ASSERT(sizeof(TrustProof) == 64);

/* Why a presented certificate and proof were not accepted. */
typedef enum {
    TRUST_OK = 0,
    TRUST_NO_CERT,        /* nothing presented */
    TRUST_WRONG_AUDIENCE, /* a certificate made for another group */
    TRUST_BAD_SIGNATURE,  /* not made by the CA, or altered since */
    TRUST_NOT_YET_VALID,
    TRUST_EXPIRED,
    TRUST_BAD_PROOF,      /* the caller does not hold the certificate's key, or the proof
                             was made for another certificate, callee, method or payload */
    TRUST_STALE_PROOF,    /* made more than max_skew away from the verifier's now */
    TRUST_REPLAYED_PROOF, /* its nonce was seen before (the replay cache, not trust_verify) */
    TRUST_N_VERDICTS,
} TrustVerdict;

/* "ok", "no-certificate", "wrong-audience", "bad-signature", "not-yet-valid", "expired",
 * "bad-proof", "stale-proof", "replayed-proof". */
const char *trust_verdict_name(TrustVerdict v);

/* HMAC-SHA-256 of @label | @data under @key, as a key (the derivations above). */
TrustKey trust_derive(const TrustKey *key, const char *label, const void *data, size_t len);

/* A_G: the verifying key of the group whose SPIFFE ID is @audience. */
TrustKey trust_audience_key(const TrustKey *root, const char *audience);

/* Fills cert->sig; every other field must be set, ids NUL-padded (trust_spiffe_id). */
void trust_cert_sign(TrustCert *cert, const TrustKey *audience_key);

/* True when cert->sig is the MAC of its fields under @audience_key (constant time). */
bool trust_cert_signature_ok(const TrustCert *cert, const TrustKey *audience_key);

/* K: the certificate's private key, derived from its signature. */
TrustKey trust_proof_key(const TrustCert *cert, const TrustKey *audience_key);

/* Makes the proof of a call to node @callee, @method, carrying @payload (@len bytes) at
 * time @at with @nonce, under the holder's key @proof_key. */
void trust_proof_make(TrustProof *proof, const TrustKey *proof_key, const TrustCert *cert,
                      uint32_t callee, uint16_t method, uint64_t nonce, DsimTime at,
                      const void *payload, size_t len);

/* What a verifier of group @audience (holding @audience_key), node @callee, does with a call
 * to @method carrying @cert (NULL: none), @proof and @payload, at its time @now: audience,
 * signature, validity window (not_before may be up to @max_skew ahead: clocks differ), then
 * the proof (made for this certificate, callee, method and payload, within @max_skew of
 * @now, by the holder of the certificate's key). The first failure wins, in that order.
 * Replays are the caller's to check (TrustReplay) once this returns TRUST_OK. */
TrustVerdict trust_verify(const TrustKey *audience_key, const char *audience, uint32_t callee,
                          const TrustCert *cert, const TrustProof *proof, uint16_t method,
                          const void *payload, size_t len, DsimTime now, DsimTime max_skew);

/* The server's Finished for the call whose proof carried @nonce and whose request was @seq. */
void trust_finished(const TrustKey *proof_key, const char *server_id, uint32_t server,
                    uint64_t nonce, uint64_t seq, uint8_t out[TRUST_MAC_LEN]);

/* Compares two MACs in constant time, as real verifiers must (a timing side channel would
 * let an attacker guess a MAC byte by byte). */
bool trust_mac_equal(const uint8_t a[TRUST_MAC_LEN], const uint8_t b[TRUST_MAC_LEN]);

/* ---- the replay cache ----------------------------------------------------------------------- */

/* Remembers the (serial, nonce) of every accepted proof for 2 * max_skew: a proof older than
 * max_skew is refused as stale anyway, so forgetting it then is safe. A FIFO (entries come
 * in time order) plus a hash set for lookup. */
typedef struct TrustReplay TrustReplay;

TrustReplay *trust_replay_new(DsimTime max_skew); /* free with trust_replay_free */
void         trust_replay_free(TrustReplay *r);   /* accepts NULL */
/* True, and remembered, when (@serial, @nonce) was not seen in the last 2 * max_skew;
 * false for a replay. @now never goes back. */
bool         trust_replay_admit(TrustReplay *r, uint64_t serial, uint64_t nonce, DsimTime now);
unsigned     trust_replay_size(const TrustReplay *r);

/* ---- the policy ------------------------------------------------------------------------------ */

#define TRUST_POLICY_MAX  16 /* rules */
#define TRUST_METHOD_MAX  16 /* a method name, NUL-padded */

/* One rule: @caller may call @callee's @method ("" = any method). */
typedef struct {
    char caller[TRUST_ID_MAX];
    char callee[TRUST_ID_MAX];
    char method[TRUST_METHOD_MAX];
} TrustRule;

/* A default-deny allow list: what no rule allows is forbidden. */
typedef struct {
    unsigned  n;
    TrustRule rule[TRUST_POLICY_MAX];
} TrustPolicy;

/* Parses "c->s, gw->s:write, spiffe://dsim/ops -> spiffe://dsim/s:read": comma-separated
 * rules "<caller> -> <callee>[:<method>]", each side a group id or a SPIFFE ID; "" is the
 * empty policy (everything is forbidden). False with one sentence in @why on bad text. */
bool trust_policy_parse(const char *text, TrustPolicy *out, GString *why);

/* True when a rule lets identity @caller call identity @callee's @method. Only identities:
 * a policy never sees an address. */
bool trust_policy_allows(const TrustPolicy *p, const char *caller, const char *callee,
                         const char *method);

/* ---- the protocols (ca.c) ---------------------------------------------------------------- */

extern const DsimProtocol ca_protocol;
extern const DsimProtocol zt_service_protocol;
extern const DsimProtocol zt_client_protocol;
extern const DsimProtocol attacker_protocol;

typedef enum {
    CA_METHOD_ISSUE  = 1, /* CaIssueReq -> CaIssueResp, or FAIL "attestation failed" */
    CA_METHOD_LOOKUP = 2, /* CaLookupReq -> TrustCert, or FAIL "not found" */
} CaMethod;

/* ISSUE: "I am a member of @group; give me a certificate for calling @audience". The CA
 * attests the claim by the caller's address (is it a node of @group?), as SPIRE's node
 * attestors check platform evidence. An empty @audience asks for no certificate, only the
 * group's verifying key (what a pure server needs). */
typedef struct {
    char group[TRUST_ID_MAX];    /* a group id */
    char audience[TRUST_ID_MAX]; /* a group id, or "" */
} CaIssueReq;

/* The answer to ISSUE, private to the caller. */
typedef struct {
    TrustCert cert;       /* zero when no audience was asked */
    TrustKey  proof_key;  /* the certificate's private key K */
    TrustKey  verify_key; /* A of the caller's own group: checks calls made to it */
    DsimTime  ttl;        /* the certificate's lifetime */
} CaIssueResp;

/* LOOKUP: the latest certificate issued to identity @id for @audience. Certificates are
 * public (Certificate Transparency logs them all); their keys are not. */
typedef struct {
    char id[TRUST_ID_MAX];
    char audience[TRUST_ID_MAX];
} CaLookupReq;

typedef enum {
    ZT_METHOD_READ  = 1, /* "read" */
    ZT_METHOD_WRITE = 2, /* "write" */
} ZtMethod;

/* "read", "write", or NULL; and back (0 when unknown). */
const char *zt_method_name(uint16_t method);
uint16_t    zt_method_from_name(const char *name);

/* What a request says beyond its credentials; all of it is covered by the proof. The two
 * claims are what an attacker writes into headers: a zero-trust service ignores both. */
typedef struct {
    uint64_t seq;                      /* the caller's request number */
    uint32_t forwarded_for;            /* a proxy's claim of the original caller's address
                                          (the PROXY protocol, X-Forwarded-For), or
                                          DSIM_NOBODY */
    uint32_t pad;
    char     claimed_id[TRUST_ID_MAX]; /* an identity the body claims ("" = none) */
} ZtPayload;

/* A call to a zt-service: the credentials and the payload. */
typedef struct {
    uint8_t    has_cert;
    uint8_t    pad[7];
    TrustCert  cert;
    TrustProof proof;
    ZtPayload  payload;
} ZtRequest;

/* The answer OK: the server's Finished. A FAIL answer carries its reason as text:
 * "unauthenticated: <verdict>", "forbidden", "unavailable" (not enrolled yet), "bad request". */
typedef struct {
    uint64_t seq;                     /* echoed */
    uint64_t serial;                  /* of the caller's certificate: which key signs below */
    char     server_id[TRUST_ID_MAX];
    uint32_t server;                  /* the answering node */
    uint32_t pad;
    uint8_t  finished[TRUST_MAC_LEN];
} ZtResponse;

/* ---- configs and states -------------------------------------------------------------------- */

typedef struct {
    DsimTime ttl; /* certificate lifetime */
} CaConfig;

typedef struct {
    TrustKey    root;        /* R: this state and the durable store are its only homes */
    uint64_t    next_serial; /* durable before a certificate with it leaves */
    GHashTable *log;         /* "id audience" -> TrustCert *: the latest issued (lookup only) */
    uint64_t    issued, attestation_failed, lookups;
} CaNode;

typedef enum {
    ZT_BUG_NONE = 0,
    ZT_BUG_AUTHORIZE_BY_ADDRESS, /* the policy is applied to the caller's network address (a
                                    proxy's forwarded one when present), not the certificate */
} ZtBug;

typedef struct {
    char     ca[DSIM_PARAM_STRING_MAX];     /* the CA's group */
    char     policy[DSIM_PARAM_STRING_MAX]; /* trust_policy_parse */
    char     service_time[DSIM_PARAM_STRING_MAX];
    DsimTime max_skew;
    DsimTime retry;                         /* enrollment retry */
    int      bug;                           /* ZtBug */
} ZtServiceConfig;

typedef struct {
    char         self_id[TRUST_ID_MAX];
    TrustPolicy  policy;
    TrustKey     verify_key; /* A of this group, once enrolled */
    bool         enrolled;
    DsimCallId   enroll_call;
    TrustReplay *replay;
    GHashTable  *pending;    /* call id -> ZtResponse *: calls in service (lookup only) */
    uint64_t     served, refused_forbidden, refused_unavailable;
    uint64_t     refused[TRUST_N_VERDICTS]; /* unauthenticated, by verdict */
    /* The invariant no-unauthorized-served: calls whose handler ran although the identity
     * their certificate proved (if any) is not allowed by the policy. */
    uint64_t     unauthorized_served;
} ZtServiceNode;

typedef struct {
    char     ca[DSIM_PARAM_STRING_MAX];
    char     target[DSIM_PARAM_STRING_MAX];
    double   rate;    /* calls per second, Poisson */
    int      method;  /* 0 read, 1 write */
    DsimTime timeout;
    double   renew;   /* renew after this fraction of the certificate's lifetime */
    DsimTime retry;   /* after a failed ISSUE */
} ZtClientConfig;

/* A certificate with its key, as a workload holds it. */
typedef struct {
    bool      valid;
    TrustCert cert;
    TrustKey  key;
} TrustHeld;

typedef struct {
    char        self_group[TRUST_ID_MAX];
    char        target_id[TRUST_ID_MAX];
    TrustHeld   cur, prev;   /* prev: the certificate cur replaced, for answers in flight */
    DsimCallId  issue_call;
    bool        expired_noted; /* cur's expiry was counted */
    uint64_t    seq;
    uint64_t    ok, refused, timeouts, server_unverified, no_cert, renewals, expired;
} ZtClientNode;

typedef enum {
    ATTACK_NO_CERT = 0,    /* a call without a certificate */
    ATTACK_FORGED,         /* a self-made certificate naming the victim, with a made-up MAC */
    ATTACK_STOLEN,         /* the victim's real certificate (from the public log), replayed
                              from the attacker's node with a proof under its own key */
    ATTACK_EXPIRED,        /* its own first certificate, after it expired */
    ATTACK_NOT_ALLOWED,    /* its own valid certificate: a true identity the policy denies */
    ATTACK_CLAIM_IDENTITY, /* its own certificate, and a body claiming the victim's identity
                              and address (claimed_id, forwarded_for) */
    ATTACK_ENROLL_AS_VICTIM, /* asks the CA for a certificate as a member of the victim's
                                group: node attestation must refuse */
    ATTACK_N,
} AttackKind;

/* "no-cert", "forged", "stolen", "expired", "not-allowed", "claim-identity",
 * "enroll-as-victim". */
const char *attack_kind_name(AttackKind k);

typedef struct {
    char     ca[DSIM_PARAM_STRING_MAX];
    char     target[DSIM_PARAM_STRING_MAX];
    char     victim[DSIM_PARAM_STRING_MAX]; /* the group it impersonates */
    double   rate;                          /* attempts per second, evenly spaced */
    DsimTime timeout;
} AttackerConfig;

typedef struct {
    char       self_group[TRUST_ID_MAX];
    TrustHeld  own, first; /* its current certificate; its first one, kept past expiry */
    TrustCert  stolen;     /* the victim's, from LOOKUP */
    bool       has_stolen;
    DsimCallId issue_call, lookup_call;
    unsigned   next;       /* the kind to try next, in turn */
    uint64_t   seq;
    uint64_t   attempted[ATTACK_N], accepted[ATTACK_N], refused[ATTACK_N], unanswered[ATTACK_N];
} AttackerNode;

#endif /* DSIM_TRUST_H */
