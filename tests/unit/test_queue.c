/* test_queue.c - the event queue: (time, seq) order, ties, and a randomized comparison with
 * a sorted reference. */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "sim/queue.h"
#include "sim/rng.h"

static void test_events_leave_in_time_order(void)
{
    g_autoptr(DsimQueue) q = dsim_queue_new();
    DsimTime times[] = { 50, 10, 40, 20, 30 };
    for (unsigned i = 0; i < G_N_ELEMENTS(times); i++) {
        DsimEvent ev = { .time = times[i], .u32a = i };
        dsim_queue_push(q, &ev);
    }
    DsimEvent out;
    DsimTime expect[] = { 10, 20, 30, 40, 50 };
    for (unsigned i = 0; i < G_N_ELEMENTS(expect); i++) {
        CU_ASSERT_TRUE_FATAL(dsim_queue_pop(q, &out));
        CU_ASSERT_EQUAL(out.time, expect[i]);
    }
    CU_ASSERT_FALSE(dsim_queue_pop(q, &out));
}

static void test_same_time_events_leave_in_scheduling_order(void)
{
    g_autoptr(DsimQueue) q = dsim_queue_new();
    for (unsigned i = 0; i < 1000; i++) {
        DsimEvent ev = { .time = (i % 3) * 100, .u32a = i };
        dsim_queue_push(q, &ev);
    }
    DsimEvent out;
    DsimTime last_time = -1;
    uint32_t last_index = 0;
    for (unsigned i = 0; i < 1000; i++) {
        CU_ASSERT_TRUE_FATAL(dsim_queue_pop(q, &out));
        if (out.time == last_time)
            CU_ASSERT_TRUE(out.u32a > last_index);
        CU_ASSERT_TRUE(out.time >= last_time);
        last_time = out.time;
        last_index = out.u32a;
    }
}

static void test_seq_numbers_count_every_push(void)
{
    g_autoptr(DsimQueue) q = dsim_queue_new();
    DsimEvent ev = { .time = 5 };
    CU_ASSERT_EQUAL(dsim_queue_push(q, &ev), 1);
    CU_ASSERT_EQUAL(dsim_queue_push(q, &ev), 2);
    CU_ASSERT_EQUAL(dsim_queue_pushed(q), 2);
    CU_ASSERT_EQUAL(dsim_queue_size(q), 2);
    CU_ASSERT_EQUAL(dsim_queue_peek(q)->seq, 1);
}

typedef struct {
    DsimTime time;
    uint64_t seq;
} Ref;

static int ref_cmp(const void *a, const void *b)
{
    const Ref *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Interleaved pushes and pops against a reference: what leaves must be exactly the smallest
 * (time, seq) of what is pending. Delays mix the cases the calendar treats differently: the
 * same instant, inside the active window, a few windows ahead, and beyond the ring (seconds),
 * with many equal times. Seed printed for replay. */
static void test_random_pushes_and_pops_match_a_sorted_reference(void)
{
    const uint64_t seed = 20261126;
    DsimRng rng;
    dsim_rng_init(&rng, seed, "test/queue");
    g_autoptr(DsimQueue) q = dsim_queue_new();
    GArray *ref = g_array_new(FALSE, FALSE, sizeof(Ref));
    unsigned mismatches = 0;
    DsimTime now = 0;
    for (unsigned step = 0; step < 300000; step++) {
        if (ref->len == 0 || dsim_rng_below(&rng, 100) < 52) {
            DsimTime delay;
            switch (dsim_rng_below(&rng, 5)) {
            case 0: delay = 0; break;
            case 1: delay = (DsimTime) dsim_rng_below(&rng, 1000); break;           /* < 1 us */
            case 2: delay = (DsimTime) dsim_rng_below(&rng, 50) * DSIM_MS(1) / 7; break; /* ms */
            case 3: delay = DSIM_S(1) * (DsimTime) (1 + dsim_rng_below(&rng, 3)); break; /* equal times */
            default: delay = DSIM_S(3) + (DsimTime) dsim_rng_below(&rng, 1u << 30) * 8; break; /* far */
            }
            DsimEvent ev = { .time = now + delay };
            uint64_t seq = dsim_queue_push(q, &ev);
            Ref r = { ev.time, seq };
            /* the reference is kept sorted, largest first, so the next to leave is last */
            unsigned lo = 0, hi = ref->len;
            while (lo < hi) {
                unsigned mid = (lo + hi) / 2;
                if (ref_cmp(&g_array_index(ref, Ref, mid), &r) > 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            g_array_insert_val(ref, lo, r);
        } else {
            Ref want = g_array_index(ref, Ref, ref->len - 1);
            g_array_set_size(ref, ref->len - 1);
            DsimEvent out;
            CU_ASSERT_TRUE_FATAL(dsim_queue_pop(q, &out));
            if (out.time != want.time || out.seq != want.seq)
                mismatches++;
            now = out.time;
        }
        if (step % 50000 == 0)
            CU_ASSERT_EQUAL(dsim_queue_size(q), ref->len);
    }
    /* drain */
    for (unsigned i = ref->len; i-- > 0;) {
        DsimEvent out;
        CU_ASSERT_TRUE_FATAL(dsim_queue_pop(q, &out));
        Ref want = g_array_index(ref, Ref, i);
        if (out.time != want.time || out.seq != want.seq)
            mismatches++;
    }
    DsimEvent none;
    CU_ASSERT_FALSE(dsim_queue_pop(q, &none));
    if (mismatches > 0)
        printf("\nqueue mismatches with seed %" PRIu64 ": %u\n", seed, mismatches);
    CU_ASSERT_EQUAL(mismatches, 0);
    g_array_unref(ref);
}

static void test_a_million_equal_times_leave_in_scheduling_order(void)
{
    g_autoptr(DsimQueue) q = dsim_queue_new();
    for (unsigned i = 0; i < 1000000; i++) {
        DsimEvent ev = { .time = DSIM_S(1), .u32a = i };
        dsim_queue_push(q, &ev);
    }
    DsimEvent far = { .time = DSIM_S(3600), .u32a = 7 };
    dsim_queue_push(q, &far);
    unsigned bad = 0;
    for (unsigned i = 0; i < 1000000; i++) {
        DsimEvent out;
        dsim_queue_pop(q, &out);
        bad += out.u32a != i || out.time != DSIM_S(1);
    }
    CU_ASSERT_EQUAL(bad, 0);
    DsimEvent out;
    CU_ASSERT_TRUE(dsim_queue_pop(q, &out));
    CU_ASSERT_EQUAL(out.time, DSIM_S(3600));
    CU_ASSERT_EQUAL(dsim_queue_max_size(q), 1000001);
}

CU_TestInfo queue_tests[] = {
    { "events leave in time order", test_events_leave_in_time_order },
    { "same-time events leave in scheduling order", test_same_time_events_leave_in_scheduling_order },
    { "seq numbers count every push", test_seq_numbers_count_every_push },
    { "random pushes and pops match a sorted reference", test_random_pushes_and_pops_match_a_sorted_reference },
    { "a million equal times leave in scheduling order", test_a_million_equal_times_leave_in_scheduling_order },
    CU_TEST_INFO_NULL,
};
