/* lb.h - load balancing: which of n backends takes the next request.
 *
 * A pure module, as resilience.h and ratelimit.h are: no DsimCtx, no clock. The caller (the
 * client protocol, later the gateway) draws its random numbers from its own stream and hands
 * them in, tells the balancer when an attempt starts and finishes (least-request and power of
 * two choices count requests in flight), and names the backends to skip on each pick (ejected
 * by a breaker, already tried by this request). Backends are numbered 0 .. n-1; each has a
 * stable 64-bit id (the caller's choice, e.g. its node id) from which the hash policies place
 * it, so that a backend keeps its place when another one joins or leaves.
 *
 * The policies, with their sources:
 *  round-robin          each backend in turn (the oldest trick: DNS round robin, nginx's default)
 *  weighted-round-robin nginx's "smooth weighted round-robin" (ngx_http_upstream_round_robin.c,
 *                       2012): a 5:1:1 weighting gives a a b a c a a, not a a a a a b c
 *  random               uniform among the backends
 *  least-request        fewest requests in flight from this caller; ties broken at random
 *                       (Envoy's LEAST_REQUEST with a full scan instead of its sampled choices)
 *  p2c                  "the power of two choices": two random backends, the one with fewer in
 *                       flight (Mitzenmacher, "The Power of Two Choices in Randomized Load
 *                       Balancing", IEEE TPDS 2001): the maximum load drops from
 *                       log n / log log n to log log n / log 2 for n balls in n bins
 *  ring-hash            consistent hashing (Karger, Lehman, Leighton, Panigrahy, Levine & Lewin,
 *                       STOC 1997) with ketama's virtual nodes (last.fm's libketama, 2007: 160
 *                       points per backend, 4 from each MD5 digest): a key goes to the first
 *                       point clockwise of its hash; removing a backend moves only its keys
 *  maglev               Google's Maglev lookup table (Eisenbud et al., "Maglev: A Fast and
 *                       Reliable Software Network Load Balancer", NSDI 2016, §3.4): each backend
 *                       fills a prime-sized table along its own permutation, in turns, so every
 *                       backend gets within one entry of M/n entries, and a removal moves few
 *                       others' keys
 *
 * Changing backends (service discovery, client.c): lb_update takes a new backend set and matches
 * it to the old one by id. A backend that stays keeps its requests in flight and its smooth
 * weight; the ring and the maglev table are rebuilt from the ids, so a backend that stays keeps
 * its points and the keys it had (ring hash moves only the keys of a backend that left or the
 * share a newcomer takes; maglev moves a few more). Round robin keeps its cursor, taken modulo
 * the new count, as Ribbon's RoundRobinRule does (incrementAndGetModulo(serverCount)).
 *
 * Exclusions: round-robin, weighted and the load-aware policies choose among the backends not
 * excluded. Ring hash walks clockwise past excluded backends' points (the key goes to the next
 * backend on the ring, which is what consistent hashing does when a server is down). Maglev
 * looks at the next entries of its table (linear probing) until one names a backend not
 * excluded: the table interleaves the backends, so an excluded backend's keys spread over the
 * others roughly evenly. Envoy rebuilds the table without unhealthy hosts instead; probing keeps
 * a pick free of allocation at the cost of a little more movement.
 */
#ifndef DSIM_LB_H
#define DSIM_LB_H

#include "sim/dsim.h"

typedef enum {
    LB_ROUND_ROBIN = 0,
    LB_WEIGHTED_ROUND_ROBIN,
    LB_RANDOM,
    LB_LEAST_REQUEST,
    LB_P2C,
    LB_RING_HASH,
    LB_MAGLEV,
} LbPolicy;

/* The choices string for a DSIM_PARAM_CHOICE parameter, in LbPolicy order. */
#define LB_CHOICES "round-robin|weighted-round-robin|random|least-request|p2c|ring-hash|maglev"

#define LB_MAX_BACKENDS   64      /* backends one balancer knows */
#define LB_NONE           UINT32_MAX /* lb_pick: every backend is excluded */
#define LB_RING_POINTS    160     /* ring-hash: points per backend (ketama's 160) */
#define LB_MAGLEV_SIZE    65537   /* maglev: table size M, a prime (the paper's example) */

/* One point of the hash ring: the ring is sorted by hash, ties by backend. */
typedef struct {
    uint32_t hash;
    uint32_t backend;
} LbRingPoint;

/* A balancer over n backends (0 .. LB_MAX_BACKENDS; with none, every pick is LB_NONE). Fixed
 * size except the ring (ring-hash) and the table (maglev), which lb_init and lb_update allocate
 * and lb_clear frees. in_flight[b] counts lb_started minus lb_finished for backend b. */
typedef struct {
    LbPolicy     policy;
    uint32_t     n;
    uint64_t     id[LB_MAX_BACKENDS];           /* the backends' ids, distinct */
    uint32_t     next;                          /* round-robin: where the scan starts */
    uint32_t     in_flight[LB_MAX_BACKENDS];
    int64_t      weight[LB_MAX_BACKENDS];       /* weighted-round-robin: >= 1 */
    int64_t      current[LB_MAX_BACKENDS];      /* weighted-round-robin: nginx's current_weight */
    LbRingPoint *ring;                          /* ring-hash: n * LB_RING_POINTS points */
    uint32_t     ring_len;
    uint8_t     *table;                         /* maglev: LB_MAGLEV_SIZE backend numbers */
} Lb;

/* Sets up @lb for @n backends (0..LB_MAX_BACKENDS) with ids @ids[0..n) (distinct; they place
 * the backends on the ring and in the maglev table) and @weights[0..n) (weighted-round-robin;
 * NULL: all 1; each >= 1). @ids and @weights are read, not kept. Free with lb_clear(). */
void     lb_init(Lb *lb, LbPolicy policy, unsigned n, const uint64_t *ids, const uint32_t *weights);
void     lb_clear(Lb *lb); /* frees the ring or table; the Lb may be zeroed or cleared already */

/* Replaces the backends of an initialised @lb by @n backends with ids @ids (as lb_init; same
 * policy). A backend whose id was there before keeps its in-flight count and smooth weight; a
 * new one starts at 0. Backend numbers change: lb_find tells the new number of an id. */
void     lb_update(Lb *lb, unsigned n, const uint64_t *ids, const uint32_t *weights);

/* The number of the backend with id @id, or LB_NONE. O(n). */
uint32_t lb_find(const Lb *lb, uint64_t id);

/* The backend for a request with hash key @key (used by ring-hash and maglev only), given two
 * uniform 64-bit draws (@rand1, @rand2: used by random, least-request and p2c) and @excluded:
 * NULL, or n bytes where a non-zero byte means "do not pick this backend". Returns LB_NONE
 * when every backend is excluded. Moves round-robin's cursor and the smooth weights. */
uint32_t lb_pick(Lb *lb, uint64_t key, uint64_t rand1, uint64_t rand2, const uint8_t *excluded);

/* An attempt to backend @b starts / ends: the counts least-request and p2c compare. */
void     lb_started(Lb *lb, uint32_t b);
void     lb_finished(Lb *lb, uint32_t b);

const char *lb_policy_name(LbPolicy p); /* "round-robin", ... */

/* A 64-bit mixer (the splitmix64 finalizer, Steele, Lea & Flood, OOPSLA 2014): the hash of a
 * request key, exported for tests and callers that hash their own keys. */
uint64_t lb_hash64(uint64_t x);

#endif /* DSIM_LB_H */
