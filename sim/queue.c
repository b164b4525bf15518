/* queue.c - the event queue as a 4-ary min-heap laid out in one array.
 *
 * A 4-ary heap does half the levels of a binary heap, and the four children of a node share
 * a cache line or two, which matters once millions of events are pending. Ordering is the
 * (time, seq) rule written once, in event_before(). When the scale work of the gossip issue
 * needs it, a calendar queue can replace this file behind the same interface.
 */
#include "sim/queue.h"

struct DsimQueue {
    DsimEvent *heap;
    size_t     n, cap, max;
    uint64_t   next_seq;
};

/* Events leave in (time, seq) order. seq is assigned at scheduling time, so two events at
 * the same instant run in the order they were scheduled. */
static inline bool event_before(const DsimEvent *a, const DsimEvent *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

DsimQueue *dsim_queue_new(void)
{
    DsimQueue *q = g_new0(DsimQueue, 1);
    q->cap = 64;
    q->heap = g_new(DsimEvent, q->cap);
    q->next_seq = 1;
    return q;
}

void dsim_queue_free(DsimQueue *q)
{
    if (q == NULL)
        return;
    g_free(q->heap);
    g_free(q);
}

uint64_t dsim_queue_push(DsimQueue *q, DsimEvent *ev)
{
    if (q->n == q->cap) {
        q->cap *= 2;
        q->heap = g_renew(DsimEvent, q->heap, q->cap);
    }
    ev->seq = q->next_seq++;
    /* sift up: move parents down until ev's place is found */
    size_t i = q->n++;
    if (q->n > q->max)
        q->max = q->n;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!event_before(ev, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = *ev;
    return ev->seq;
}

bool dsim_queue_pop(DsimQueue *q, DsimEvent *out)
{
    if (q->n == 0)
        return false;
    *out = q->heap[0];
    DsimEvent last = q->heap[--q->n];
    size_t n = q->n, i = 0;
    if (n == 0)
        return true;
    /* sift down: move the smallest child up until last's place is found */
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= n)
            break;
        size_t best = c;
        size_t end = c + 4 < n ? c + 4 : n;
        for (size_t k = c + 1; k < end; k++) {
            if (event_before(&q->heap[k], &q->heap[best]))
                best = k;
        }
        if (!event_before(&q->heap[best], &last))
            break;
        q->heap[i] = q->heap[best];
        i = best;
    }
    q->heap[i] = last;
    return true;
}

const DsimEvent *dsim_queue_peek(const DsimQueue *q)
{
    return q->n > 0 ? &q->heap[0] : NULL;
}

size_t dsim_queue_size(const DsimQueue *q) { return q->n; }
uint64_t dsim_queue_pushed(const DsimQueue *q) { return q->next_seq - 1; }
size_t dsim_queue_max_size(const DsimQueue *q) { return q->max; }

void dsim_queue_foreach(DsimQueue *q, void (*fn)(DsimEvent *ev, void *data), void *data)
{
    for (size_t i = 0; i < q->n; i++)
        fn(&q->heap[i], data);
}
