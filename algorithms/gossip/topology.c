/* topology.c - neighbours of a member in the graphs of topology.h, computed on demand.
 *
 * The random-regular graph needs a random permutation of the members that every member can
 * evaluate alone, in both directions, without a table: a 4-round Feistel network over the
 * smallest even number of bits that holds n - 1, keyed by the topology seed and the cycle
 * number, restricted to 0..n-1 by cycle walking (apply it again until the value falls inside;
 * the inverse walks back the same way). The domain is less than 4n, so a walk takes fewer
 * than four steps on average. The round function is splitmix64's finalizer.
 */
#include "algorithms/gossip/topology.h"

#include <string.h>

/* ---- the keyed permutation ------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t key;
    unsigned half;  /* bits per half */
    uint32_t mask;  /* (1 << half) - 1 */
} Feistel;

static Feistel feistel_for(uint64_t key, uint32_t n)
{
    unsigned bits = 2;
    while (bits < 32 && (UINT64_C(1) << bits) < n)
        bits += 2;
    Feistel f = { .key = key, .half = bits / 2, .mask = (uint32_t) ((UINT64_C(1) << (bits / 2)) - 1) };
    return f;
}

static uint32_t round_fn(const Feistel *f, unsigned r, uint32_t x)
{
    return (uint32_t) mix64(f->key ^ ((uint64_t) r << 56) ^ x) & f->mask;
}

static uint32_t encrypt(const Feistel *f, uint32_t x)
{
    uint32_t l = x >> f->half, r = x & f->mask;
    for (unsigned k = 0; k < 4; k++) {
        uint32_t t = l ^ round_fn(f, k, r);
        l = r;
        r = t;
    }
    return (l << f->half) | r;
}

static uint32_t decrypt(const Feistel *f, uint32_t y)
{
    uint32_t l = y >> f->half, r = y & f->mask;
    for (unsigned k = 4; k-- > 0;) {
        uint32_t t = r ^ round_fn(f, k, l);
        r = l;
        l = t;
    }
    return (l << f->half) | r;
}

uint32_t gossip_permute(uint64_t key, uint32_t n, uint32_t x)
{
    g_assert(x < n);
    Feistel f = feistel_for(key, n);
    do
        x = encrypt(&f, x);
    while (x >= n);
    return x;
}

uint32_t gossip_unpermute(uint64_t key, uint32_t n, uint32_t y)
{
    g_assert(y < n);
    Feistel f = feistel_for(key, n);
    do
        y = decrypt(&f, y);
    while (y >= n);
    return y;
}

/* Cycle @c's permutation key, and the matching's (c = cycles). */
static uint64_t cycle_key(uint64_t seed, unsigned c)
{
    return mix64(seed * 0x9e3779b97f4a7c15ULL + c + 1);
}

/* ---- explicit adjacency ------------------------------------------------------ */

typedef struct {
    const char *p;
    unsigned    n;
    bool        ok;
} Parser;

static void skip_space(Parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

/* A member number 1..n, returned 0-based; sets ok = false on anything else. */
static unsigned parse_member(Parser *ps)
{
    skip_space(ps);
    uint64_t v = 0;
    const char *start = ps->p;
    while (*ps->p >= '0' && *ps->p <= '9' && v <= ps->n) {
        v = v * 10 + (uint64_t) (*ps->p - '0');
        ps->p++;
    }
    if (ps->p == start || v < 1 || v > ps->n) {
        ps->ok = false;
        return 0;
    }
    skip_space(ps);
    return (unsigned) (v - 1);
}

static void add_unique(uint32_t *out, unsigned *count, uint32_t m)
{
    for (unsigned i = 0; i < *count; i++) {
        if (out[i] == m)
            return;
    }
    if (*count < GOSSIP_TOPOLOGY_MAX_DEGREE)
        out[(*count)++] = m;
}

/* Walks "a:b,c;d:e": calls back once per edge. Returns false on a syntax error or a member
 * out of range, leaving the parser where it stopped. */
static bool walk_edges(Parser *ps, void (*edge)(unsigned a, unsigned b, void *data), void *data)
{
    skip_space(ps);
    while (*ps->p != '\0') {
        unsigned a = parse_member(ps);
        if (!ps->ok || *ps->p != ':')
            return false;
        ps->p++;
        for (bool after_comma = false;; after_comma = true) {
            skip_space(ps);
            if (!after_comma && (*ps->p == ';' || *ps->p == '\0'))
                break; /* "a:" alone: a member with no listed neighbours */
            unsigned b = parse_member(ps);
            if (!ps->ok || a == b)
                return ps->ok = false;
            edge(a, b, data);
            if (*ps->p != ',')
                break;
            ps->p++;
        }
        if (*ps->p == ';')
            ps->p++;
        else if (*ps->p != '\0')
            return ps->ok = false;
        skip_space(ps);
    }
    return true;
}

typedef struct {
    unsigned  self;
    uint32_t *out;
    unsigned  count;
} Collect;

static void collect_edge(unsigned a, unsigned b, void *data)
{
    Collect *c = data;
    if (a == c->self)
        add_unique(c->out, &c->count, b);
    else if (b == c->self)
        add_unique(c->out, &c->count, a);
}

static void ignore_edge(unsigned a, unsigned b, void *data) { }

/* @self's neighbours, deduplicated, in the order the string first names them. An adjacency
 * that does not parse gives every member the neighbours read before the error (the
 * "converged" invariant reports the error; see gossip_topology_valid). */
static unsigned explicit_neighbours(const GossipTopology *t, unsigned self, uint32_t *out)
{
    Parser ps = { .p = t->adjacency != NULL ? t->adjacency : "", .n = t->n, .ok = true };
    Collect c = { .self = self, .out = out, .count = 0 };
    walk_edges(&ps, collect_edge, &c);
    return c.count;
}

bool gossip_topology_valid(const GossipTopology *t, GString *why)
{
    if (t->kind != GOSSIP_TOPOLOGY_EXPLICIT)
        return true;
    Parser ps = { .p = t->adjacency != NULL ? t->adjacency : "", .n = t->n, .ok = true };
    if (walk_edges(&ps, ignore_edge, NULL) && ps.ok)
        return true;
    g_string_printf(why, "the adjacency \"%s\" does not parse at offset %ld (write member "
                    "numbers 1..%u as \"1:2,3;2:4\", no member its own neighbour)",
                    t->adjacency, (long) (ps.p - t->adjacency), t->n);
    return false;
}

/* ---- ring with fingers -------------------------------------------------------- */

/* Fingers j = 0 .. J-1 with 2^j <= n/2 and j < degree/2. */
static unsigned finger_levels(const GossipTopology *t)
{
    unsigned j = 0;
    while (j < t->degree / 2 && j < 31 && (UINT64_C(1) << j) <= t->n / 2)
        j++;
    return j;
}

/* ---- the interface -------------------------------------------------------------- */

unsigned gossip_topology_degree(const GossipTopology *t, unsigned self)
{
    if (t->n <= 1)
        return 0;
    switch ((GossipTopologyKind) t->kind) {
    case GOSSIP_TOPOLOGY_COMPLETE:
        return t->n - 1;
    case GOSSIP_TOPOLOGY_RANDOM_REGULAR: {
        unsigned d = (t->degree / 2) * 2;
        if (t->degree % 2 == 1) {
            /* the matching pairs positions (2m, 2m+1); an odd group leaves one member out */
            uint32_t pos = gossip_permute(cycle_key(t->seed, t->degree / 2), t->n, self);
            if ((pos ^ 1u) < t->n)
                d++;
        }
        return d;
    }
    case GOSSIP_TOPOLOGY_RING_CHORDS:
        return 2 * finger_levels(t) + (t->degree % 2 == 1 && t->n >= 2 ? 1 : 0);
    case GOSSIP_TOPOLOGY_EXPLICIT: {
        uint32_t buf[GOSSIP_TOPOLOGY_MAX_DEGREE];
        return explicit_neighbours(t, self, buf);
    }
    }
    g_assert_not_reached();
}

unsigned gossip_topology_list(const GossipTopology *t, unsigned self, uint32_t *out)
{
    g_assert(t->kind != GOSSIP_TOPOLOGY_COMPLETE);
    if (t->kind == GOSSIP_TOPOLOGY_EXPLICIT)
        return t->n > 1 ? explicit_neighbours(t, self, out) : 0;
    unsigned deg = gossip_topology_degree(t, self), count = 0;
    for (unsigned slot = 0; slot < deg; slot++)
        add_unique(out, &count, gossip_topology_neighbour(t, self, slot));
    return count;
}

unsigned gossip_topology_neighbour(const GossipTopology *t, unsigned self, unsigned slot)
{
    g_assert(slot < gossip_topology_degree(t, self));
    switch ((GossipTopologyKind) t->kind) {
    case GOSSIP_TOPOLOGY_COMPLETE:
        return slot < self ? slot : slot + 1;
    case GOSSIP_TOPOLOGY_RANDOM_REGULAR: {
        unsigned cycles = t->degree / 2;
        if (slot < 2 * cycles) {
            uint64_t key = cycle_key(t->seed, slot / 2);
            uint32_t pos = gossip_permute(key, t->n, self);
            uint32_t next = slot % 2 == 0 ? (pos + 1) % t->n : (pos + t->n - 1) % t->n;
            return gossip_unpermute(key, t->n, next);
        }
        uint64_t key = cycle_key(t->seed, cycles);
        return gossip_unpermute(key, t->n, gossip_permute(key, t->n, self) ^ 1u);
    }
    case GOSSIP_TOPOLOGY_RING_CHORDS: {
        unsigned levels = finger_levels(t);
        if (slot < 2 * levels) {
            uint32_t dist = (uint32_t) (UINT64_C(1) << (slot / 2));
            return slot % 2 == 0 ? (self + dist) % t->n : (self + t->n - dist) % t->n;
        }
        unsigned opposite = (self + t->n / 2) % t->n;
        return opposite != self ? opposite : (self + 1) % t->n;
    }
    case GOSSIP_TOPOLOGY_EXPLICIT: {
        uint32_t buf[GOSSIP_TOPOLOGY_MAX_DEGREE];
        explicit_neighbours(t, self, buf);
        return buf[slot];
    }
    }
    g_assert_not_reached();
}
