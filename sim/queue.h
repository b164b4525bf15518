/* queue.h - the event queue: a set of pending events that leave in (time, seq) order.
 * The structure behind it (a calendar of sorted windows) is described in queue.c.
 *
 * Events leave in (time, seq) order. seq is assigned by dsim_queue_push() from a 64-bit
 * counter, so two events at the same instant leave in the order they were scheduled: the
 * order is total, independent of the heap's internals, and the same on every machine.
 * Cancellation is lazy (as in ns-3): the owner marks an event dead elsewhere (timer
 * generations, node incarnations) and skips it when it is popped.
 */
#ifndef DSIM_QUEUE_H
#define DSIM_QUEUE_H

#include "sim/dsim.h"

typedef enum {
    DSIM_EV_DELIVER = 1, /* ptr: the DsimPacket; node: receiver */
    DSIM_EV_TIMER,       /* u32a: timer slot, u32b: generation; node: owner */
    DSIM_EV_FAULT,       /* u32a: index of the fault action */
    DSIM_EV_CHECK,       /* u32a: index of the timed check */
    DSIM_EV_CLIENT,      /* u32a: workload client index (client issue/timeouts) */
    DSIM_EV_STOP,        /* end of the run */
    DSIM_EV_CALL,        /* u64: a call's id, at its deadline; node: the caller */
} DsimEventKind;

typedef struct {
    DsimTime time;
    uint64_t seq;
    union {
        void    *ptr;
        uint64_t u64;
    };
    uint32_t node;
    uint32_t u32a;
    uint32_t u32b;
    uint16_t kind;
    uint16_t u16;
} DsimEvent;
G_STATIC_ASSERT(sizeof(DsimEvent) == 40);

typedef struct DsimQueue DsimQueue;

/* Width of one window of the calendar (queue.c), as a power of two so that finding an event's
 * window is a shift: 2^20 ns, about 1.05 ms. */
#define DSIM_QUEUE_WINDOW_BITS 20

DsimQueue *dsim_queue_new(void);
void       dsim_queue_free(DsimQueue *q); /* accepts NULL; does not free what events point to */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimQueue, dsim_queue_free)

/* Copies @ev in, assigning ev->seq; returns the seq. */
uint64_t   dsim_queue_push(DsimQueue *q, DsimEvent *ev);
/* Removes the first event into @out; false when empty. */
bool       dsim_queue_pop(DsimQueue *q, DsimEvent *out);
/* The first event without removing it, or NULL. */
const DsimEvent *dsim_queue_peek(const DsimQueue *q);
/* The event @k places after the next one in the active window's sorted array, or NULL. A hint
 * for prefetching only: events pushed into the window after it was sorted are not counted, so
 * it need not be the (k+1)-th event to leave. */
const DsimEvent *dsim_queue_ahead(const DsimQueue *q, size_t k);
size_t     dsim_queue_size(const DsimQueue *q);
uint64_t   dsim_queue_pushed(const DsimQueue *q); /* total pushes so far */
size_t     dsim_queue_max_size(const DsimQueue *q); /* most events ever pending at once */
/* Drops every pending event and frees the memory that held them (call dsim_queue_foreach
 * first to free what they own); the counters (pushed, max size) stay. */
void       dsim_queue_clear(DsimQueue *q);
/* Calls @fn on every pending event in unspecified order (for freeing what they own). */
void       dsim_queue_foreach(DsimQueue *q, void (*fn)(DsimEvent *ev, void *data), void *data);

#endif /* DSIM_QUEUE_H */
