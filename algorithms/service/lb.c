/* lb.c - the load-balancing policies of lb.h, one function each, and the two tables (the
 * ketama ring, the maglev lookup table) built once at lb_init.
 *
 * Random choices take a uniform 64-bit draw r and a range m and compute (r * m) >> 64
 * (Lemire's multiply-shift): bias at most m / 2^64, which no run can see, and no loop, so a
 * pick consumes exactly the draws the caller made whatever the outcome.
 */
#include "algorithms/service/lb.h"

#include <string.h>

static uint32_t below(uint64_t r, uint32_t m)
{
    return (uint32_t) (((unsigned __int128) r * m) >> 64);
}

uint64_t lb_hash64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

const char *lb_policy_name(LbPolicy p)
{
    switch (p) {
    case LB_ROUND_ROBIN: return "round-robin";
    case LB_WEIGHTED_ROUND_ROBIN: return "weighted-round-robin";
    case LB_RANDOM: return "random";
    case LB_LEAST_REQUEST: return "least-request";
    case LB_P2C: return "p2c";
    case LB_RING_HASH: return "ring-hash";
    case LB_MAGLEV: return "maglev";
    }
    g_assert_not_reached();
}

static bool skip(const uint8_t *excluded, uint32_t b)
{
    return excluded != NULL && excluded[b] != 0;
}

/* The backends not excluded, in index order; returns how many. */
static uint32_t candidates(const Lb *lb, const uint8_t *excluded, uint32_t *out)
{
    uint32_t m = 0;
    for (uint32_t b = 0; b < lb->n; b++) {
        if (!skip(excluded, b))
            out[m++] = b;
    }
    return m;
}

/* ---- the ketama ring ------------------------------------------------------------------------ */

static gint point_cmp(gconstpointer pa, gconstpointer pb, gpointer data)
{
    const LbRingPoint *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->backend < b->backend ? -1 : a->backend > b->backend;
}

/* libketama: for each server, 40 MD5 digests of "<server>-<i>", each cut into four
 * little-endian 32-bit points (ketama.c, ketama_create_continuum). The server's name here is
 * its id in decimal, so a backend's points depend on its id alone. */
static void ring_build(Lb *lb, const uint64_t *ids)
{
    lb->ring_len = lb->n * LB_RING_POINTS;
    lb->ring = g_new0(LbRingPoint, lb->ring_len);
    GChecksum *md5 = g_checksum_new(G_CHECKSUM_MD5);
    uint32_t k = 0;
    for (uint32_t b = 0; b < lb->n; b++) {
        for (unsigned i = 0; i < LB_RING_POINTS / 4; i++) {
            char name[48];
            uint8_t digest[16];
            gsize len = sizeof digest;
            int w = g_snprintf(name, sizeof name, "%" PRIu64 "-%u", ids[b], i);
            g_checksum_reset(md5);
            g_checksum_update(md5, (const guchar *) name, w);
            g_checksum_get_digest(md5, digest, &len);
            for (unsigned h = 0; h < 4; h++) {
                const uint8_t *d = digest + 4 * h;
                lb->ring[k].hash = (uint32_t) d[3] << 24 | (uint32_t) d[2] << 16
                                   | (uint32_t) d[1] << 8 | d[0];
                lb->ring[k].backend = b;
                k++;
            }
        }
    }
    g_checksum_free(md5);
    g_qsort_with_data(lb->ring, (gint) lb->ring_len, sizeof *lb->ring, point_cmp, NULL);
}

static uint32_t pick_ring(const Lb *lb, uint64_t key, const uint8_t *excluded)
{
    uint32_t h = (uint32_t) lb_hash64(key);
    /* the first point at or after h, wrapping to the first point of the ring */
    uint32_t lo = 0, hi = lb->ring_len;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (lb->ring[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t step = 0; step < lb->ring_len; step++) {
        const LbRingPoint *p = &lb->ring[(lo + step) % lb->ring_len];
        if (!skip(excluded, p->backend))
            return p->backend;
    }
    return LB_NONE;
}

/* ---- the maglev table ----------------------------------------------------------------------- */

/* Maglev §3.4, Pseudocode 1 ("Populate Maglev hashing lookup table"): backend i's preference
 * list is permutation[i][j] = (offset + j * skip) mod M, with offset = h1(name) mod M and
 * skip = h2(name) mod (M - 1) + 1; M prime makes every preference list a full permutation.
 * The backends take turns: each claims its next preferred entry not yet taken, until the
 * table is full. */
static void maglev_build(Lb *lb, const uint64_t *ids)
{
    const uint32_t M = LB_MAGLEV_SIZE;
    uint64_t offset[LB_MAX_BACKENDS], step[LB_MAX_BACKENDS], next[LB_MAX_BACKENDS];
    for (uint32_t i = 0; i < lb->n; i++) {
        offset[i] = lb_hash64(ids[i] ^ 0x6d61676c65763031ULL) % M; /* h1 */
        step[i] = lb_hash64(ids[i] ^ 0x6d61676c65763032ULL) % (M - 1) + 1; /* h2 */
        next[i] = 0;
    }
    lb->table = g_malloc(M);
    memset(lb->table, 0xff, M); /* 0xff: empty (backends are < LB_MAX_BACKENDS) */
    uint32_t filled = 0;
    for (;;) {
        for (uint32_t i = 0; i < lb->n; i++) {
            uint64_t c = (offset[i] + next[i] * step[i]) % M;
            while (lb->table[c] != 0xff) {
                next[i]++;
                c = (offset[i] + next[i] * step[i]) % M;
            }
            lb->table[c] = (uint8_t) i;
            next[i]++;
            if (++filled == M)
                return;
        }
    }
}

static uint32_t pick_maglev(const Lb *lb, uint64_t key, const uint8_t *excluded)
{
    uint32_t at = (uint32_t) (lb_hash64(key) % LB_MAGLEV_SIZE);
    for (uint32_t step = 0; step < LB_MAGLEV_SIZE; step++) {
        uint32_t b = lb->table[(at + step) % LB_MAGLEV_SIZE];
        if (!skip(excluded, b))
            return b;
    }
    return LB_NONE;
}

/* ---- setup ---------------------------------------------------------------------------------- */

/* Ids, weights and the hash tables; in_flight, current and next are the caller's business. */
static void set_backends(Lb *lb, unsigned n, const uint64_t *ids, const uint32_t *weights)
{
    g_assert(n <= LB_MAX_BACKENDS);
    lb->n = n;
    for (uint32_t b = 0; b < n; b++) {
        lb->id[b] = ids[b];
        for (uint32_t a = 0; a < b; a++)
            g_assert(ids[a] != ids[b]); /* distinct: O(n^2), n <= 64 */
        lb->weight[b] = weights != NULL ? weights[b] : 1;
        g_assert(lb->weight[b] >= 1);
    }
    if (n == 0)
        return; /* no ring, no table: every pick is LB_NONE */
    if (lb->policy == LB_RING_HASH)
        ring_build(lb, ids);
    else if (lb->policy == LB_MAGLEV)
        maglev_build(lb, ids);
}

void lb_init(Lb *lb, LbPolicy policy, unsigned n, const uint64_t *ids, const uint32_t *weights)
{
    memset(lb, 0, sizeof *lb);
    lb->policy = policy;
    set_backends(lb, n, ids, weights);
}

uint32_t lb_find(const Lb *lb, uint64_t id)
{
    for (uint32_t b = 0; b < lb->n; b++) {
        if (lb->id[b] == id)
            return b;
    }
    return LB_NONE;
}

void lb_update(Lb *lb, unsigned n, const uint64_t *ids, const uint32_t *weights)
{
    Lb old = *lb; /* its ring and table are freed below, not used */
    lb_clear(lb);
    memset(lb->in_flight, 0, sizeof lb->in_flight);
    memset(lb->current, 0, sizeof lb->current);
    set_backends(lb, n, ids, weights);
    for (uint32_t b = 0; b < n; b++) {
        uint32_t was = lb_find(&old, ids[b]);
        if (was != LB_NONE) {
            lb->in_flight[b] = old.in_flight[was];
            lb->current[b] = old.current[was];
        }
    }
    lb->next = n > 0 ? old.next % n : 0;
}

void lb_clear(Lb *lb)
{
    g_clear_pointer(&lb->ring, g_free);
    g_clear_pointer(&lb->table, g_free);
    lb->ring_len = 0;
}

void lb_started(Lb *lb, uint32_t b)
{
    g_assert(b < lb->n);
    lb->in_flight[b]++;
}

void lb_finished(Lb *lb, uint32_t b)
{
    g_assert(b < lb->n && lb->in_flight[b] > 0);
    lb->in_flight[b]--;
}

/* ---- the policies --------------------------------------------------------------------------- */

static uint32_t pick_round_robin(Lb *lb, const uint8_t *excluded)
{
    for (uint32_t i = 0; i < lb->n; i++) {
        uint32_t b = (lb->next + i) % lb->n;
        if (!skip(excluded, b)) {
            lb->next = (b + 1) % lb->n;
            return b;
        }
    }
    return LB_NONE;
}

/* nginx, ngx_http_upstream_get_peer(): every peer's current_weight grows by its weight, the
 * peer with the largest current_weight is chosen (the first such peer on a tie), and the
 * chosen one's current_weight drops by the total. Over a cycle of sum(weights) picks each
 * peer is chosen exactly weight times, spread out. Excluded peers sit the round out, as
 * nginx skips peers that are down. */
static uint32_t pick_weighted(Lb *lb, const uint8_t *excluded)
{
    int64_t total = 0;
    uint32_t best = LB_NONE;
    for (uint32_t b = 0; b < lb->n; b++) {
        if (skip(excluded, b))
            continue;
        lb->current[b] += lb->weight[b];
        total += lb->weight[b];
        if (best == LB_NONE || lb->current[b] > lb->current[best])
            best = b;
    }
    if (best != LB_NONE)
        lb->current[best] -= total;
    return best;
}

/* Fewest in flight; among equals, one at random, so that an idle system does not send all its
 * traffic to the lowest index. */
static uint32_t pick_least(const Lb *lb, uint64_t rand1, const uint8_t *excluded)
{
    uint32_t least = UINT32_MAX, ties = 0;
    for (uint32_t b = 0; b < lb->n; b++) {
        if (skip(excluded, b))
            continue;
        if (lb->in_flight[b] < least) {
            least = lb->in_flight[b];
            ties = 1;
        } else if (lb->in_flight[b] == least) {
            ties++;
        }
    }
    if (ties == 0)
        return LB_NONE;
    uint32_t k = below(rand1, ties);
    for (uint32_t b = 0; b < lb->n; b++) {
        if (!skip(excluded, b) && lb->in_flight[b] == least && k-- == 0)
            return b;
    }
    g_assert_not_reached();
}

/* Mitzenmacher 2001: "each ball chooses two bins independently and uniformly at random and is
 * placed in the less full". The two are distinct here (as in Envoy and Finagle's P2C), and on
 * a tie the first drawn wins. */
static uint32_t pick_p2c(const Lb *lb, uint64_t rand1, uint64_t rand2, const uint8_t *excluded)
{
    uint32_t c[LB_MAX_BACKENDS];
    uint32_t m = candidates(lb, excluded, c);
    if (m == 0)
        return LB_NONE;
    if (m == 1)
        return c[0];
    uint32_t a = below(rand1, m), b = below(rand2, m - 1);
    if (b >= a)
        b++;
    return lb->in_flight[c[b]] < lb->in_flight[c[a]] ? c[b] : c[a];
}

uint32_t lb_pick(Lb *lb, uint64_t key, uint64_t rand1, uint64_t rand2, const uint8_t *excluded)
{
    if (lb->n == 0)
        return LB_NONE;
    switch (lb->policy) {
    case LB_ROUND_ROBIN:
        return pick_round_robin(lb, excluded);
    case LB_WEIGHTED_ROUND_ROBIN:
        return pick_weighted(lb, excluded);
    case LB_RANDOM: {
        uint32_t c[LB_MAX_BACKENDS];
        uint32_t m = candidates(lb, excluded, c);
        return m == 0 ? LB_NONE : c[below(rand1, m)];
    }
    case LB_LEAST_REQUEST:
        return pick_least(lb, rand1, excluded);
    case LB_P2C:
        return pick_p2c(lb, rand1, rand2, excluded);
    case LB_RING_HASH:
        return pick_ring(lb, key, excluded);
    case LB_MAGLEV:
        return pick_maglev(lb, key, excluded);
    }
    g_assert_not_reached();
}
