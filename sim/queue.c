/* queue.c - the event queue: a calendar of time windows, each sorted when its turn comes.
 *
 * One big binary heap holding millions of pending events is cache-bound: every pop walks a
 * path through memory the cache has long forgotten (about 1.1 million events/s at a million
 * pending, against 2.5 million at a hundred thousand). Most events here are near-future and
 * arrive in bursts (a period timer per node, messages a few ms away), so the queue keeps them
 * in a ring of windows of 2^DSIM_QUEUE_WINDOW_BITS ns (about 1 ms), like Brown's calendar queue (1988):
 *
 *   - the active window: its events sorted once into an array, popped from the front, plus
 *     a small heap for events scheduled into it after it became active (0-delay timers,
 *     sub-window latencies);
 *   - the next RING-1 windows: unsorted arrays, appended to in O(1), sorted (by time, seq)
 *     when they become active, which is skipped when they are already in order, as the
 *     period timers of a million nodes set at one instant are;
 *   - the far future: a heap; its events move into the ring as the ring slides over them.
 *
 * The order is exactly the (time, seq) order of one heap: windows partition time, and inside
 * a window the sort and the heap both order by (time, seq). seq is assigned at push, so two
 * events at the same instant run in the order they were scheduled: the order is total,
 * independent of this structure, and the same on every machine.
 */
#include "sim/queue.h"

#include <string.h>

#define RING 4096u /* windows in the ring: 4096 x 1.05 ms covers about 4.3 s ahead */

typedef struct {
    DsimEvent *v;
    size_t     n, cap;
} Vec;

typedef struct {
    DsimEvent *v;
    size_t     n, cap;
} Heap;

struct DsimQueue {
    Vec      ring[RING];
    size_t   in_ring;    /* events in ring windows other than the active one */
    int64_t  cur;        /* the active window's number: time / DSIM_QUEUE_WINDOW */
    Vec      active;     /* the active window, sorted; consumed from `head` */
    size_t   head;
    Heap     late;       /* events pushed into the active window after it was sorted */
    Heap     far;        /* windows beyond the ring */
    size_t   n, max;
    uint64_t next_seq;
};

/* Events leave in (time, seq) order. */
static inline bool event_before(const DsimEvent *a, const DsimEvent *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static inline int64_t window_of(DsimTime t) { return t >> DSIM_QUEUE_WINDOW_BITS; }

static void vec_push(Vec *v, const DsimEvent *ev)
{
    if (v->n == v->cap) {
        v->cap = v->cap > 0 ? v->cap * 2 : 16;
        v->v = g_renew(DsimEvent, v->v, v->cap);
    }
    v->v[v->n++] = *ev;
}

/* ---- a 4-ary min-heap (four children share a cache line or two) ---------------- */

static void heap_push(Heap *h, const DsimEvent *ev)
{
    if (h->n == h->cap) {
        h->cap = h->cap > 0 ? h->cap * 2 : 64;
        h->v = g_renew(DsimEvent, h->v, h->cap);
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!event_before(ev, &h->v[parent]))
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = *ev;
}

static void heap_pop(Heap *h, DsimEvent *out)
{
    *out = h->v[0];
    DsimEvent last = h->v[--h->n];
    size_t n = h->n, i = 0;
    if (n == 0)
        return;
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= n)
            break;
        size_t best = c, end = c + 4 < n ? c + 4 : n;
        for (size_t k = c + 1; k < end; k++) {
            if (event_before(&h->v[k], &h->v[best]))
                best = k;
        }
        if (!event_before(&h->v[best], &last))
            break;
        h->v[i] = h->v[best];
        i = best;
    }
    h->v[i] = last;
}

/* ---- the queue ------------------------------------------------------------------- */

DsimQueue *dsim_queue_new(void)
{
    DsimQueue *q = g_new0(DsimQueue, 1);
    q->next_seq = 1;
    return q;
}

static void release(DsimQueue *q)
{
    for (unsigned i = 0; i < RING; i++)
        g_free(q->ring[i].v);
    g_free(q->active.v);
    g_free(q->late.v);
    g_free(q->far.v);
}

void dsim_queue_free(DsimQueue *q)
{
    if (q == NULL)
        return;
    release(q);
    g_free(q);
}

void dsim_queue_clear(DsimQueue *q)
{
    release(q);
    memset(q->ring, 0, sizeof q->ring);
    q->active = (Vec) { 0 };
    q->late = q->far = (Heap) { 0 };
    q->in_ring = q->head = q->n = 0;
}

static void place(DsimQueue *q, const DsimEvent *ev)
{
    int64_t w = window_of(ev->time);
    /* w < cur happens when a peek made a later window active and the world then schedules
     * at its own, earlier, now (a fault verb between steps): such an event is earlier than
     * everything pending, and the small heap orders it first */
    if (w <= q->cur) {
        heap_push(&q->late, ev);
    } else if (w < q->cur + (int64_t) RING) {
        vec_push(&q->ring[w & (RING - 1)], ev);
        q->in_ring++;
    } else {
        heap_push(&q->far, ev);
    }
}

uint64_t dsim_queue_push(DsimQueue *q, DsimEvent *ev)
{
    g_assert(ev->time >= 0);
    ev->seq = q->next_seq++;
    place(q, ev);
    if (++q->n > q->max)
        q->max = q->n;
    return ev->seq;
}

/* Sorting a window. Events reach a window's array in increasing seq: the ones moved in
 * from the far heap first (pushed while the window was beyond the ring), then the ones
 * pushed once it was inside. So a *stable* sort by time alone gives (time, seq) order, and
 * all times of a window share their bits above DSIM_QUEUE_WINDOW_BITS: a least-significant-
 * digit radix sort on the low bits, two passes of counting sort, does it in linear time.
 * Small windows use insertion sort. */
#define RADIX_BITS ((DSIM_QUEUE_WINDOW_BITS + 1) / 2)

static void insertion_sort(DsimEvent *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        DsimEvent x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1].time > x.time) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void radix_pass(const DsimEvent *src, DsimEvent *dst, size_t n, unsigned shift)
{
    enum { BUCKETS = 1u << RADIX_BITS };
    size_t count[BUCKETS + 1] = { 0 };
    for (size_t i = 0; i < n; i++)
        count[((uint64_t) src[i].time >> shift & (BUCKETS - 1)) + 1]++;
    for (unsigned b = 0; b < BUCKETS; b++)
        count[b + 1] += count[b];
    for (size_t i = 0; i < n; i++)
        dst[count[(uint64_t) src[i].time >> shift & (BUCKETS - 1)]++] = src[i];
}

static void sort_window(DsimEvent *v, size_t n)
{
    if (n < 64) {
        insertion_sort(v, n);
        return;
    }
    DsimEvent *tmp = g_new(DsimEvent, n);
    radix_pass(v, tmp, n, 0);
    radix_pass(tmp, v, n, RADIX_BITS);
    g_free(tmp);
}
G_STATIC_ASSERT(2 * RADIX_BITS >= DSIM_QUEUE_WINDOW_BITS);

/* Makes the next non-empty window active. Returns false when nothing is pending. */
static bool advance(DsimQueue *q)
{
    g_assert(q->head == q->active.n && q->late.n == 0);
    for (;;) {
        if (q->in_ring == 0) {
            if (q->far.n == 0)
                return false;
            /* nothing in the ring: jump to the window of the first far event */
            q->cur = window_of(q->far.v[0].time) - 1;
        }
        q->cur++;
        /* the ring now reaches window cur + RING - 1: bring in far events up to there */
        while (q->far.n > 0 && window_of(q->far.v[0].time) < q->cur + (int64_t) RING) {
            DsimEvent ev;
            heap_pop(&q->far, &ev);
            if (window_of(ev.time) == q->cur) {
                vec_push(&q->ring[q->cur & (RING - 1)], &ev); /* sorted below with the rest */
                q->in_ring++;
            } else {
                place(q, &ev);
            }
        }
        Vec *b = &q->ring[q->cur & (RING - 1)];
        if (b->n == 0)
            continue;
        /* swap the bucket in as the active window; the spent window's buffer goes back to
         * the ring only when tiny: a ring of 4096 windows each keeping the largest buffer it
         * ever had would hold several periods' bursts at once, so memory follows the events
         * pending now instead */
        Vec spent = q->active;
        q->active = *b;
        spent.n = 0;
        if (spent.cap > 64) {
            g_free(spent.v);
            spent.v = NULL;
            spent.cap = 0;
        }
        *b = spent;
        q->head = 0;
        q->in_ring -= q->active.n;
        bool sorted = true;
        for (size_t i = 1; i < q->active.n && sorted; i++)
            sorted = event_before(&q->active.v[i - 1], &q->active.v[i]);
        if (!sorted)
            sort_window(q->active.v, q->active.n);
        return true;
    }
}

/* The first pending event, making a window active if needed; NULL when empty. */
static DsimEvent *first(DsimQueue *q)
{
    if (q->head == q->active.n && q->late.n == 0 && !advance(q))
        return NULL;
    DsimEvent *a = q->head < q->active.n ? &q->active.v[q->head] : NULL;
    DsimEvent *b = q->late.n > 0 ? &q->late.v[0] : NULL;
    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    return event_before(a, b) ? a : b;
}

bool dsim_queue_pop(DsimQueue *q, DsimEvent *out)
{
    if (q->head == q->active.n && q->late.n > 0) {
        /* the common case of short delays: everything pending is in the small heap */
        heap_pop(&q->late, out);
        q->n--;
        return true;
    }
    DsimEvent *f = first(q);
    if (f == NULL)
        return false;
    if (q->head < q->active.n && f == &q->active.v[q->head]) {
        *out = *f;
        q->head++;
    } else {
        heap_pop(&q->late, out);
    }
    q->n--;
    return true;
}

const DsimEvent *dsim_queue_peek(const DsimQueue *q)
{
    /* making the next window active does not change what is pending */
    return first((DsimQueue *) q);
}

const DsimEvent *dsim_queue_ahead(const DsimQueue *q, size_t k)
{
    return q->head + k < q->active.n ? &q->active.v[q->head + k] : NULL;
}

size_t dsim_queue_size(const DsimQueue *q) { return q->n; }
uint64_t dsim_queue_pushed(const DsimQueue *q) { return q->next_seq - 1; }
size_t dsim_queue_max_size(const DsimQueue *q) { return q->max; }

void dsim_queue_foreach(DsimQueue *q, void (*fn)(DsimEvent *ev, void *data), void *data)
{
    for (unsigned i = 0; i < RING; i++) {
        for (size_t k = 0; k < q->ring[i].n; k++)
            fn(&q->ring[i].v[k], data);
    }
    for (size_t k = q->head; k < q->active.n; k++)
        fn(&q->active.v[k], data);
    for (size_t k = 0; k < q->late.n; k++)
        fn(&q->late.v[k], data);
    for (size_t k = 0; k < q->far.n; k++)
        fn(&q->far.v[k], data);
}
