/* test_service.c - the service stack's first slice: service instances (capacity, queue,
 * deadlines, failure modes, rate limiting), the load-balancing policies of lb.h, and the
 * client's patterns (retries with backoff, failfast/failsafe/forking, retry budget, breakers,
 * bulkhead), one behaviour per test; discovery through the registry (an instance registers, a
 * client balances over what its cache lists and follows changes, the balancer keeps a staying
 * instance's keys and breaker), and a request's attempts as one trace; then small worlds for
 * what needs a whole run (the breaker's effect on the error ratio, the bug variant caught, p2c
 * against round robin, instances found through a registry, retries in one trace).
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "algorithms/registry/discovery.h"
#include "algorithms/service/lb.h"
#include "algorithms/service/service.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "tests/lib/harness.h"

/* ---- helpers -------------------------------------------------------------------------------- */

/* The last timer of @kind recorded and still pending, or NULL. */
static const HarnessTimer *pending_timer(const Harness *h, unsigned kind)
{
    for (unsigned i = harness_n_timers(h); i-- > 0;) {
        const HarnessTimer *t = harness_timer(h, i);
        if (t->kind == kind && harness_timer_pending(h, t->id))
            return t;
    }
    return NULL;
}

/* The response the node gave to @call, or NULL. */
static const HarnessResponse *response_to(const Harness *h, DsimCallId call)
{
    for (unsigned i = 0; i < harness_n_responses(h); i++) {
        if (harness_response(h, i)->call == call)
            return harness_response(h, i);
    }
    return NULL;
}

static bool body_is(const HarnessResponse *r, const char *text)
{
    gsize len = 0;
    const void *data = g_bytes_get_data(r->body, &len);
    return len == strlen(text) && memcmp(data, text, len) == 0;
}

/* ---- service instances ---------------------------------------------------------------------- */

/* Member @self of a group "s" of 3, with a caller group "c" of 1 (node id 3). */
static Harness *new_instance(unsigned self)
{
    Harness *h = harness_new(&service_protocol, "s", 3, self, 42);
    harness_set_param(h, "service_time", "10ms");
    return h;
}

static DsimCallId serve(Harness *h, DsimTime deadline)
{
    ServiceRequest req = { .key = 7, .attempt = 1 };
    return harness_serve(h, 3, SERVICE_METHOD_REQUEST, &req, sizeof req, deadline, 0);
}

static void test_an_instance_serves_workers_at_once_queues_the_rest_and_sheds_beyond(void)
{
    g_autoptr(Harness) h = new_instance(0);
    harness_set_param(h, "workers", "2");
    harness_set_param(h, "queue", "2");
    harness_add_group(h, "c", 1);
    harness_init(h);

    DsimCallId id[5];
    for (unsigned i = 0; i < 5; i++)
        id[i] = serve(h, DSIM_S(1));
    /* two at work (one timer each), two waiting, the fifth refused at once */
    CU_ASSERT_EQUAL(harness_n_timers(h), 2);
    const ServiceNode *s = harness_state(h);
    CU_ASSERT_EQUAL(s->busy, 2);
    CU_ASSERT_EQUAL(s->queue_len, 2);
    CU_ASSERT_EQUAL_FATAL(harness_n_responses(h), 1);
    CU_ASSERT_EQUAL(harness_response(h, 0)->call, id[4]);
    CU_ASSERT_EQUAL(harness_response(h, 0)->status, DSIM_CALL_FAIL);
    CU_ASSERT_TRUE(body_is(harness_response(h, 0), SERVICE_FAIL_OVERLOADED));
    CU_ASSERT_EQUAL(harness_count_metric(h, "service_rejected_overload"), 1);

    /* the first finishes at 10 ms; its worker takes the oldest waiting request */
    harness_fire_timer(h, harness_timer(h, 0)->id);
    CU_ASSERT_EQUAL(harness_now(h), DSIM_MS(10));
    const HarnessResponse *r = response_to(h, id[0]);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL(r->status, DSIM_CALL_OK);
    CU_ASSERT_EQUAL(s->queue_len, 1);
    CU_ASSERT_EQUAL(s->workers[harness_timer(h, 0)->arg].call, id[2]);
    CU_ASSERT_EQUAL(harness_last_metric(h, "service_latency_seconds"), 0.010);
    CU_ASSERT_EQUAL(harness_last_metric(h, "service_queue_wait_seconds"), 0.0);

    /* id[2] waited 10 ms and was served for 10 ms */
    harness_fire_timer(h, harness_timer(h, 1)->id); /* id[1]: takes id[3] */
    harness_fire_timer(h, harness_timer(h, 2)->id); /* id[2] */
    CU_ASSERT_EQUAL(response_to(h, id[2])->status, DSIM_CALL_OK);
    CU_ASSERT_EQUAL(harness_last_metric(h, "service_latency_seconds"), 0.020);
    CU_ASSERT_EQUAL(harness_last_metric(h, "service_queue_wait_seconds"), 0.010);
    CU_ASSERT_EQUAL(s->served, 3);
}

static void test_a_queued_request_whose_caller_gave_up_is_dropped_without_work(void)
{
    g_autoptr(Harness) h = new_instance(0);
    harness_set_param(h, "workers", "1");
    harness_add_group(h, "c", 1);
    harness_init(h);

    DsimCallId a = serve(h, DSIM_S(1));
    DsimCallId b = serve(h, DSIM_MS(5));   /* its caller waits 5 ms only */
    DsimCallId c = serve(h, DSIM_MS(100));
    harness_fire_timer(h, harness_timer(h, 0)->id); /* a done at 10 ms */
    CU_ASSERT_EQUAL(response_to(h, a)->status, DSIM_CALL_OK);
    /* b expired while waiting: dropped, no answer (it could only arrive late); c is served */
    CU_ASSERT_PTR_NULL(response_to(h, b));
    const ServiceNode *s = harness_state(h);
    CU_ASSERT_EQUAL(s->expired, 1);
    CU_ASSERT_EQUAL(harness_count_metric(h, "service_expired"), 1);
    CU_ASSERT_EQUAL(s->workers[0].call, c);
    CU_ASSERT_EQUAL(s->queue_len, 0);

    /* a request that arrives after its deadline is not even queued */
    harness_set_now(h, DSIM_MS(50));
    serve(h, DSIM_MS(40));
    CU_ASSERT_EQUAL(s->expired, 2);
    CU_ASSERT_EQUAL(s->queue_len, 0);
}

static void test_error_rate_one_fails_every_request_after_its_work(void)
{
    g_autoptr(Harness) h = new_instance(0);
    harness_set_param(h, "error_rate", "1");
    harness_add_group(h, "c", 1);
    harness_init(h);

    DsimCallId a = serve(h, DSIM_S(1));
    CU_ASSERT_EQUAL(harness_n_responses(h), 0);
    harness_fire_timer(h, harness_timer(h, 0)->id);
    const HarnessResponse *r = response_to(h, a);
    CU_ASSERT_EQUAL(r->status, DSIM_CALL_FAIL);
    CU_ASSERT_TRUE(body_is(r, SERVICE_FAIL_ERROR));
    CU_ASSERT_EQUAL(harness_count_metric(h, "service_errors"), 1);
    CU_ASSERT_EQUAL(harness_count_metric(h, "service_served"), 0);
}

static void test_degradation_hits_the_chosen_members_in_its_window_only(void)
{
    /* member 2 (index 1) fails at once from 1 s to 2 s; member 1 is healthy throughout */
    const char *modes[] = { "error", "hang", "slow" };
    for (unsigned m = 0; m < G_N_ELEMENTS(modes); m++) {
        for (unsigned self = 0; self < 2; self++) {
            g_autoptr(Harness) h = new_instance(self);
            harness_set_param(h, "degrade", modes[m]);
            harness_set_param(h, "degrade_at", "1s");
            harness_set_param(h, "degrade_until", "2s");
            harness_set_param(h, "degrade_members", "2");
            harness_add_group(h, "c", 1);
            harness_init(h);

            serve(h, DSIM_S(10)); /* before the window: normal */
            CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, DSIM_MS(10));
            harness_fire_timer(h, harness_timer(h, 0)->id);
            harness_clear(h);

            harness_set_now(h, DSIM_MS(1500));
            DsimCallId a = serve(h, DSIM_S(10));
            const ServiceNode *s = harness_state(h);
            if (self == 0) { /* not a degraded member */
                CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, DSIM_MS(10));
                continue;
            }
            if (m == 0) {
                CU_ASSERT_EQUAL(harness_n_timers(h), 0);
                CU_ASSERT_EQUAL(response_to(h, a)->status, DSIM_CALL_FAIL);
                CU_ASSERT_EQUAL(s->errors, 1);
            } else if (m == 1) {
                CU_ASSERT_EQUAL(harness_n_timers(h), 0);
                CU_ASSERT_EQUAL(harness_n_responses(h), 0);
                CU_ASSERT_EQUAL(s->hung, 1);
            } else {
                CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, DSIM_MS(100)); /* slow_factor 10 */
                harness_fire_timer(h, harness_timer(h, 0)->id);
            }
            harness_clear(h);
            harness_set_now(h, DSIM_S(2)); /* the window is over */
            serve(h, DSIM_S(10));
            CU_ASSERT_EQUAL(harness_timer(h, 0)->delay, DSIM_MS(10));
        }
    }
}

static void test_member_lists_parse(void)
{
    uint64_t set;
    CU_ASSERT_TRUE(service_parse_members("1", &set) && set == 1);
    CU_ASSERT_TRUE(service_parse_members("1,3", &set) && set == 5);
    CU_ASSERT_TRUE(service_parse_members("2-4,6", &set) && set == 0x2e);
    CU_ASSERT_TRUE(service_parse_members("all", &set) && set == UINT64_MAX);
    CU_ASSERT_FALSE(service_parse_members("0", &set));
    CU_ASSERT_FALSE(service_parse_members("65", &set));
    CU_ASSERT_FALSE(service_parse_members("1,,2", &set));
    CU_ASSERT_FALSE(service_parse_members("3-1", &set));
    CU_ASSERT_FALSE(service_parse_members("", &set));
    CU_ASSERT_FALSE(service_parse_members("s1", &set));
}

/* Runs the group's invariant @name over one member's state. */
static bool check_one(const DsimProtocol *p, const char *name, Harness *h, GString *why)
{
    const char *names[] = { harness_name(h, 0) };
    const void *states[] = { harness_state(h) };
    DsimGroupView g = { .group = "x", .n = 1, .name = names, .state = states,
                        .config = harness_config(h) };
    for (const DsimInvariant *inv = p->invariants; inv->name != NULL; inv++) {
        if (strcmp(inv->name, name) == 0)
            return inv->check(&g, why);
    }
    g_assert_not_reached();
}

static void test_the_rate_limiter_refuses_beyond_its_limit_and_its_log_conforms(void)
{
    g_autoptr(Harness) h = new_instance(0);
    harness_set_param(h, "limit_kind", "token-bucket");
    harness_set_param(h, "limit", "3");
    harness_set_param(h, "limit_window", "1s");
    harness_set_param(h, "workers", "100");
    harness_add_group(h, "c", 1);
    harness_init(h);

    for (unsigned i = 0; i < 5; i++)
        serve(h, DSIM_S(10));
    const ServiceNode *s = harness_state(h);
    CU_ASSERT_EQUAL(s->busy, 3); /* a burst of 3 */
    CU_ASSERT_EQUAL(s->rejected_rate_limit, 2);
    CU_ASSERT_EQUAL(harness_n_responses(h), 2);
    CU_ASSERT_TRUE(body_is(harness_response(h, 0), SERVICE_FAIL_RATE_LIMITED));
    harness_set_now(h, DSIM_MS(334)); /* one token back (3 per second) */
    serve(h, DSIM_S(10));
    serve(h, DSIM_S(10));
    CU_ASSERT_EQUAL(s->busy, 4);
    CU_ASSERT_EQUAL(s->rejected_rate_limit, 3);

    g_autoptr(GString) why = g_string_new(NULL);
    CU_ASSERT_TRUE(check_one(&service_protocol, "limiter-conforms", h, why));
    /* a forged log with 5 requests in one instant breaks the bound of 3 */
    for (unsigned i = 0; i < 3; i++) {
        DsimTime t = DSIM_MS(400);
        g_array_append_val(s->allowed, t);
    }
    CU_ASSERT_FALSE(check_one(&service_protocol, "limiter-conforms", h, why));
    CU_ASSERT_TRUE(strstr(why->str, "token-bucket limiter allowed") != NULL);
}

/* ---- load balancing ------------------------------------------------------------------------- */

static uint64_t ids5[] = { 11, 12, 13, 14, 15 };

/* A deterministic stream of draws for the tests. */
static uint64_t draw(uint64_t *s)
{
    return lb_hash64((*s)++);
}

static void test_round_robin_cycles_exactly_and_skips_excluded(void)
{
    Lb lb;
    lb_init(&lb, LB_ROUND_ROBIN, 3, ids5, NULL);
    unsigned seq[6];
    for (unsigned i = 0; i < 6; i++)
        seq[i] = lb_pick(&lb, 0, 0, 0, NULL);
    unsigned want[6] = { 0, 1, 2, 0, 1, 2 };
    CU_ASSERT_EQUAL(memcmp(seq, want, sizeof want), 0);
    uint8_t ex[3] = { 0, 1, 0 };
    CU_ASSERT_EQUAL(lb_pick(&lb, 0, 0, 0, ex), 0);
    CU_ASSERT_EQUAL(lb_pick(&lb, 0, 0, 0, ex), 2);
    CU_ASSERT_EQUAL(lb_pick(&lb, 0, 0, 0, ex), 0);
    uint8_t all[3] = { 1, 1, 1 };
    CU_ASSERT_EQUAL(lb_pick(&lb, 0, 0, 0, all), LB_NONE);
    lb_clear(&lb);
}

static void test_smooth_weighted_round_robin_gives_nginx_sequence(void)
{
    /* nginx's commit message for smooth weighted round-robin: weights { 5, 1, 1 } give
     * { a, a, b, a, c, a, a } */
    Lb lb;
    uint32_t w[3] = { 5, 1, 1 };
    lb_init(&lb, LB_WEIGHTED_ROUND_ROBIN, 3, ids5, w);
    unsigned want[7] = { 0, 0, 1, 0, 2, 0, 0 };
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 7; i++)
            CU_ASSERT_EQUAL(lb_pick(&lb, 0, 0, 0, NULL), want[i]);
    }
    lb_clear(&lb);
}

static void test_least_request_picks_the_fewest_in_flight_and_breaks_ties_at_random(void)
{
    Lb lb;
    lb_init(&lb, LB_LEAST_REQUEST, 4, ids5, NULL);
    lb_started(&lb, 0);
    lb_started(&lb, 1);
    lb_started(&lb, 1);
    lb_started(&lb, 3);
    CU_ASSERT_EQUAL(lb_pick(&lb, 0, 0, 0, NULL), 2);
    uint8_t ex[4] = { 0, 0, 1, 0 };
    /* 0 and 3 tie with one each: both are chosen, depending on the draw */
    unsigned seen[4] = { 0 };
    uint64_t s = 1;
    for (unsigned i = 0; i < 1000; i++)
        seen[lb_pick(&lb, 0, draw(&s), 0, ex)]++;
    CU_ASSERT_EQUAL(seen[1] + seen[2], 0);
    CU_ASSERT_TRUE(seen[0] > 400 && seen[3] > 400);
    lb_finished(&lb, 1);
    lb_finished(&lb, 1);
    CU_ASSERT_EQUAL(lb_pick(&lb, 0, 0, 0, ex), 1);
    lb_clear(&lb);
}

/* Balls into bins (Mitzenmacher 2001): n balls into n bins, none leaving. */
static unsigned max_load(LbPolicy policy, unsigned n, uint64_t seed)
{
    Lb lb;
    uint64_t ids[LB_MAX_BACKENDS] = { 0 };
    for (unsigned i = 0; i < n; i++)
        ids[i] = i;
    lb_init(&lb, policy, n, ids, NULL);
    uint64_t s = seed;
    for (unsigned i = 0; i < n; i++) {
        uint64_t r1 = draw(&s), r2 = draw(&s);
        lb_started(&lb, lb_pick(&lb, 0, r1, r2, NULL));
    }
    unsigned m = 0;
    for (unsigned b = 0; b < n; b++)
        m = MAX(m, lb.in_flight[b]);
    lb_clear(&lb);
    return m;
}

static void test_two_choices_give_a_lower_max_load_than_one(void)
{
    /* 64 balls into 64 bins, 200 trials: one random choice gives a max load around
     * log n / log log n (3 to 5 here), two choices log log n / log 2 + O(1) (2 or 3) */
    unsigned sum_random = 0, sum_p2c = 0, worst_p2c = 0;
    for (uint64_t t = 0; t < 200; t++) {
        sum_random += max_load(LB_RANDOM, 64, t * 1000);
        unsigned p = max_load(LB_P2C, 64, t * 1000);
        sum_p2c += p;
        worst_p2c = MAX(worst_p2c, p);
    }
    CU_ASSERT_TRUE(sum_random / 200.0 > 3.5);
    CU_ASSERT_TRUE(sum_p2c / 200.0 < 2.8);
    CU_ASSERT_TRUE(worst_p2c <= 3);
}

/* The backend (its id) of keys 0 .. n_keys-1 under @policy over @n of ids5[]; @skip: an
 * index of ids5 left out (a backend removed), or 99. */
static void map_keys(LbPolicy policy, unsigned skip, uint64_t *out, unsigned n_keys)
{
    uint64_t ids[5];
    unsigned n = 0;
    for (unsigned i = 0; i < 5; i++) {
        if (i != skip)
            ids[n++] = ids5[i];
    }
    Lb lb;
    lb_init(&lb, policy, n, ids, NULL);
    for (unsigned k = 0; k < n_keys; k++)
        out[k] = ids[lb_pick(&lb, k, 0, 0, NULL)];
    lb_clear(&lb);
}

#define N_KEYS 20000

static void test_ring_hash_moves_only_the_removed_backends_keys(void)
{
    g_autofree uint64_t *before = g_new(uint64_t, N_KEYS);
    g_autofree uint64_t *after = g_new(uint64_t, N_KEYS);
    map_keys(LB_RING_HASH, 99, before, N_KEYS);
    map_keys(LB_RING_HASH, 2, after, N_KEYS);
    unsigned share[5] = { 0 }, moved_others = 0;
    for (unsigned k = 0; k < N_KEYS; k++) {
        share[before[k] - 11]++;
        if (before[k] != ids5[2] && after[k] != before[k])
            moved_others++;
        CU_ASSERT_NOT_EQUAL(after[k], ids5[2]);
    }
    /* Karger et al.: only the keys of the removed backend move */
    CU_ASSERT_EQUAL(moved_others, 0);
    /* 160 points per backend: each share within 20 % of the fair 1/5 */
    for (unsigned b = 0; b < 5; b++)
        CU_ASSERT_TRUE(share[b] > N_KEYS / 5 * 0.8 && share[b] < N_KEYS / 5 * 1.2);
}

static void test_maglev_table_is_balanced_and_a_removal_moves_few_other_keys(void)
{
    Lb lb;
    lb_init(&lb, LB_MAGLEV, 5, ids5, NULL);
    unsigned entries[5] = { 0 };
    for (unsigned i = 0; i < LB_MAGLEV_SIZE; i++)
        entries[lb.table[i]]++;
    /* Maglev §3.4: the backends fill the table in turns, so their shares differ by one entry
     * at most: 13107 or 13108 of 65537 */
    for (unsigned b = 0; b < 5; b++)
        CU_ASSERT_TRUE(entries[b] == LB_MAGLEV_SIZE / 5 || entries[b] == LB_MAGLEV_SIZE / 5 + 1);
    lb_clear(&lb);

    g_autofree uint64_t *before = g_new(uint64_t, N_KEYS);
    g_autofree uint64_t *after = g_new(uint64_t, N_KEYS);
    map_keys(LB_MAGLEV, 99, before, N_KEYS);
    map_keys(LB_MAGLEV, 2, after, N_KEYS);
    unsigned moved_others = 0, others = 0;
    for (unsigned k = 0; k < N_KEYS; k++) {
        if (before[k] != ids5[2]) {
            others++;
            moved_others += after[k] != before[k];
        }
    }
    /* "minimal disruption" is traded for balance: a few % of the other keys move */
    CU_ASSERT_TRUE(moved_others < others / 20);
}

static void test_hash_policies_walk_past_excluded_backends(void)
{
    uint8_t ex[5] = { 0, 0, 1, 0, 0 };
    LbPolicy policies[] = { LB_RING_HASH, LB_MAGLEV };
    for (unsigned p = 0; p < 2; p++) {
        Lb lb;
        lb_init(&lb, policies[p], 5, ids5, NULL);
        unsigned moved = 0, kept = 0;
        for (uint64_t k = 0; k < 2000; k++) {
            uint32_t a = lb_pick(&lb, k, 0, 0, NULL), b = lb_pick(&lb, k, 0, 0, ex);
            CU_ASSERT_NOT_EQUAL(b, 2);
            if (a == 2)
                moved++;
            else
                kept += a == b;
        }
        CU_ASSERT_TRUE(moved > 0);
        CU_ASSERT_EQUAL(kept + moved, 2000); /* only the excluded backend's keys move */
        uint8_t all[5] = { 1, 1, 1, 1, 1 };
        CU_ASSERT_EQUAL(lb_pick(&lb, 1, 0, 0, all), LB_NONE);
        lb_clear(&lb);
    }
}

static void test_an_update_keeps_a_staying_backends_count_keys_and_cursor(void)
{
    /* five backends, then backend 13 (number 2) leaves and 16 joins */
    uint64_t after_ids[5] = { 11, 12, 14, 15, 16 };
    LbPolicy policies[] = { LB_ROUND_ROBIN, LB_RING_HASH, LB_MAGLEV };
    for (unsigned p = 0; p < G_N_ELEMENTS(policies); p++) {
        Lb lb;
        lb_init(&lb, policies[p], 5, ids5, NULL);
        lb_started(&lb, 3); /* id 14: one request in flight */
        lb_started(&lb, 2); /* id 13: dropped with it */
        g_autofree uint64_t *before = g_new(uint64_t, N_KEYS);
        for (unsigned k = 0; k < N_KEYS; k++)
            before[k] = lb.id[lb_pick(&lb, k, 0, 0, NULL)];
        lb.next = 7; /* as if seven picks were made */
        lb_update(&lb, 5, after_ids, NULL);
        CU_ASSERT_EQUAL(lb_find(&lb, 14), 2);
        CU_ASSERT_EQUAL(lb_find(&lb, 13), LB_NONE);
        CU_ASSERT_EQUAL(lb.in_flight[2], 1);
        CU_ASSERT_EQUAL(lb.in_flight[0] + lb.in_flight[1] + lb.in_flight[3] + lb.in_flight[4], 0);
        CU_ASSERT_EQUAL(lb.next, 2); /* Ribbon: the counter modulo the new count */
        unsigned moved = 0, others = 0, to_new = 0;
        for (unsigned k = 0; k < N_KEYS; k++) {
            uint64_t now = lb.id[lb_pick(&lb, k, 0, 0, NULL)];
            if (policies[p] == LB_ROUND_ROBIN || before[k] == 13)
                continue;
            others++;
            to_new += now == 16;
            moved += now != before[k];
        }
        if (policies[p] == LB_RING_HASH) /* only the keys the newcomer takes move */
            CU_ASSERT_EQUAL(moved, to_new);
        if (policies[p] == LB_MAGLEV) /* a few more: the table is refilled in turns */
            CU_ASSERT_TRUE(moved - to_new < others / 20);
        lb_clear(&lb);
    }
    /* no backends at all: every pick is LB_NONE, until an update brings some */
    Lb lb;
    lb_init(&lb, LB_MAGLEV, 0, NULL, NULL);
    CU_ASSERT_EQUAL(lb_pick(&lb, 1, 0, 0, NULL), LB_NONE);
    lb_update(&lb, 2, ids5, NULL);
    CU_ASSERT_NOT_EQUAL(lb_pick(&lb, 1, 0, 0, NULL), LB_NONE);
    lb_update(&lb, 0, NULL, NULL);
    CU_ASSERT_EQUAL(lb_pick(&lb, 1, 0, 0, NULL), LB_NONE);
    lb_clear(&lb);
}

/* ---- the client ----------------------------------------------------------------------------- */

/* Client c1 calling a group "s" of @n instances (node ids 1 .. n). */
static Harness *new_client(unsigned n)
{
    Harness *h = harness_new(&client_protocol, "c", 1, 0, 7);
    harness_set_param(h, "rate", "1/s");
    harness_set_param(h, "report_every", "0s");
    harness_add_group(h, "s", n);
    return h;
}

/* Lets the next request arrive (fires the pending arrival timer); returns how many calls
 * the client had made before. */
static unsigned arrive(Harness *h)
{
    unsigned before = harness_n_calls(h);
    const HarnessTimer *t = pending_timer(h, CLIENT_TIMER_ARRIVAL);
    CU_ASSERT_FATAL(t != NULL);
    harness_fire_timer(h, t->id);
    return before;
}

static void test_the_client_calls_its_target_in_turn_at_its_rate(void)
{
    g_autoptr(Harness) h = new_client(3);
    harness_set_param(h, "rate", "100/s");
    harness_init(h);
    DsimTime sum = 0;
    for (unsigned i = 0; i < 300; i++) {
        const HarnessTimer *t = pending_timer(h, CLIENT_TIMER_ARRIVAL);
        sum += t->delay;
        unsigned k = arrive(h);
        const HarnessCall *c = harness_call(h, k);
        CU_ASSERT_EQUAL(c->to, 1 + i % 3); /* round robin over s1, s2, s3 */
        CU_ASSERT_EQUAL(c->method, SERVICE_METHOD_REQUEST);
        CU_ASSERT_EQUAL(c->opts.timeout, DSIM_MS(200));
        harness_outcome(h, c->id, DSIM_CALL_OK, NULL, 0);
    }
    /* exponential inter-arrival times of mean 10 ms */
    CU_ASSERT_TRUE(sum / 300 > DSIM_MS(8) && sum / 300 < DSIM_MS(12));
    const ClientNode *c = harness_state(h);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_OK], 300);
    CU_ASSERT_EQUAL(harness_count_metric(h, "request_latency_seconds"), 300);
}

static void test_failover_retries_other_instances_after_a_growing_backoff(void)
{
    g_autoptr(Harness) h = new_client(3);
    harness_set_param(h, "jitter", "none");
    harness_set_param(h, "backoff_base", "10ms");
    harness_init(h);
    unsigned k = arrive(h);
    DsimTime t0 = harness_now(h);
    bool seen[4] = { false };
    for (unsigned attempt = 0; attempt < 3; attempt++) {
        CU_ASSERT_EQUAL_FATAL(harness_n_calls(h), k + attempt + 1);
        const HarnessCall *c = harness_call(h, k + attempt);
        CU_ASSERT_FALSE(seen[c->to]); /* another instance each time */
        seen[c->to] = true;
        const ServiceRequest *body = g_bytes_get_data(c->body, NULL);
        CU_ASSERT_EQUAL(body->attempt, attempt + 1);
        harness_outcome(h, c->id, attempt == 0 ? DSIM_CALL_FAIL : DSIM_CALL_TIMEOUT, NULL, 0);
        if (attempt < 2) { /* Brooker, no jitter: 10 ms, then 20 ms */
            const HarnessTimer *t = pending_timer(h, CLIENT_TIMER_RETRY);
            CU_ASSERT_FATAL(t != NULL);
            CU_ASSERT_EQUAL(t->delay, DSIM_MS(10) << attempt);
            harness_fire_timer(h, t->id);
        }
    }
    /* retries=2: three attempts, then the request fails with the last outcome */
    CU_ASSERT_PTR_NULL(pending_timer(h, CLIENT_TIMER_RETRY));
    const ClientNode *c = harness_state(h);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_TIMED_OUT], 1);
    CU_ASSERT_EQUAL(harness_last_metric(h, "attempts"), 3);
    CU_ASSERT_EQUAL(harness_last_metric(h, "request_latency_seconds"),
                    (double) (harness_now(h) - t0) / 1e9);
    CU_ASSERT_EQUAL(c->slots->len - c->free_slots->len, 0); /* nothing left in flight */
}

static void test_failfast_and_failsafe_make_one_attempt(void)
{
    const char *modes[] = { "failfast", "failsafe" };
    for (unsigned m = 0; m < 2; m++) {
        g_autoptr(Harness) h = new_client(3);
        harness_set_param(h, "mode", modes[m]);
        harness_init(h);
        unsigned k = arrive(h);
        harness_outcome(h, harness_call(h, k)->id, DSIM_CALL_FAIL, "error", 5);
        CU_ASSERT_PTR_NULL(pending_timer(h, CLIENT_TIMER_RETRY));
        const ClientNode *c = harness_state(h);
        CU_ASSERT_EQUAL(c->attempts, 1);
        CU_ASSERT_EQUAL(c->outcomes[m == 0 ? CLIENT_FAILED : CLIENT_DEGRADED], 1);
        CU_ASSERT_EQUAL(harness_count_metric(h, m == 0 ? "client_failed" : "client_degraded"), 1);
    }
}

static void test_forking_calls_distinct_instances_and_the_first_ok_wins(void)
{
    g_autoptr(Harness) h = new_client(3);
    harness_set_param(h, "mode", "forking");
    harness_set_param(h, "forks", "3");
    harness_init(h);
    unsigned k = arrive(h);
    CU_ASSERT_EQUAL_FATAL(harness_n_calls(h), k + 3);
    CU_ASSERT_NOT_EQUAL(harness_call(h, k)->to, harness_call(h, k + 1)->to);
    CU_ASSERT_NOT_EQUAL(harness_call(h, k)->to, harness_call(h, k + 2)->to);
    CU_ASSERT_NOT_EQUAL(harness_call(h, k + 1)->to, harness_call(h, k + 2)->to);
    const ClientNode *c = harness_state(h);
    harness_outcome(h, harness_call(h, k + 1)->id, DSIM_CALL_FAIL, NULL, 0);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_OK] + c->outcomes[CLIENT_FAILED], 0);
    harness_outcome(h, harness_call(h, k + 2)->id, DSIM_CALL_OK, NULL, 0);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_OK], 1);
    CU_ASSERT_EQUAL(c->slots->len - c->free_slots->len, 1); /* the loser is still out */
    harness_outcome(h, harness_call(h, k)->id, DSIM_CALL_TIMEOUT, NULL, 0);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_OK], 1);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_TIMED_OUT], 0);
    CU_ASSERT_EQUAL(c->slots->len - c->free_slots->len, 0);
    CU_ASSERT_EQUAL(c->lb.in_flight[0] + c->lb.in_flight[1] + c->lb.in_flight[2], 0);
}

static void test_the_retry_budget_refuses_retries_beyond_its_ratio(void)
{
    g_autoptr(Harness) h = new_client(3);
    harness_set_param(h, "retry_budget", "0.1");
    harness_set_param(h, "retry_budget_min", "0");
    harness_set_param(h, "retry_budget_window", "1000s");
    harness_set_param(h, "retries", "1");
    harness_init(h);
    /* 20 requests in one window, every first attempt fails: 10 % of 20 = 2 retries (at the
     * 10th and the 20th request), the rest refused */
    unsigned retried = 0;
    for (unsigned i = 0; i < 20; i++) {
        unsigned k = arrive(h);
        harness_outcome(h, harness_call(h, k)->id, DSIM_CALL_FAIL, NULL, 0);
        const HarnessTimer *t = pending_timer(h, CLIENT_TIMER_RETRY);
        if (t != NULL) {
            retried++;
            unsigned k2 = harness_n_calls(h);
            harness_fire_timer(h, t->id);
            harness_outcome(h, harness_call(h, k2)->id, DSIM_CALL_OK, NULL, 0);
        }
    }
    const ClientNode *c = harness_state(h);
    CU_ASSERT_EQUAL(retried, 2);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_BUDGET_EXHAUSTED], 20 - retried);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_OK], retried);
}

static void test_a_breaker_ejects_a_failing_instance_and_probes_it_back(void)
{
    g_autoptr(Harness) h = new_client(2);
    harness_set_param(h, "mode", "failfast");
    harness_set_param(h, "breaker", "true");
    harness_set_param(h, "breaker_window", "4");
    harness_set_param(h, "breaker_min_calls", "4");
    harness_set_param(h, "breaker_threshold", "0.5");
    harness_set_param(h, "breaker_open_for", "5s");
    harness_set_param(h, "breaker_probes", "1");
    harness_set_param(h, "rate", "10/s");
    harness_init(h);
    const ClientNode *c = harness_state(h);

    /* round robin; s1 (node 1) fails, s2 answers: after 4 failures s1's breaker opens */
    unsigned to_s1 = 0;
    for (unsigned i = 0; i < 8; i++) {
        unsigned k = arrive(h);
        const HarnessCall *call = harness_call(h, k);
        to_s1 += call->to == 1;
        harness_outcome(h, call->id, call->to == 1 ? DSIM_CALL_FAIL : DSIM_CALL_OK, NULL, 0);
    }
    CU_ASSERT_EQUAL(to_s1, 4);
    CU_ASSERT_EQUAL(c->breaker[0].state, BREAKER_OPEN);
    CU_ASSERT_EQUAL(harness_last_metric(h, "breaker_state_s1"), BREAKER_OPEN);
    CU_ASSERT_EQUAL(harness_last_metric(h, "breakers_open"), 1);

    /* while open, every request goes to s2 */
    DsimTime opened = c->breaker[0].opened_at;
    while (harness_now(h) < opened + DSIM_S(4)) {
        unsigned k = arrive(h);
        CU_ASSERT_EQUAL(harness_call(h, k)->to, 2);
        harness_outcome(h, harness_call(h, k)->id, DSIM_CALL_OK, NULL, 0);
    }
    /* after open_for, one probe goes to s1; its success closes the breaker */
    CU_ASSERT_FATAL(harness_now(h) < opened + DSIM_S(5));
    harness_set_now(h, opened + DSIM_S(5));
    bool probed = false;
    for (unsigned i = 0; i < 4 && !probed; i++) {
        unsigned k = arrive(h);
        const HarnessCall *call = harness_call(h, k);
        probed = call->to == 1;
        if (probed)
            CU_ASSERT_EQUAL(c->breaker[0].state, BREAKER_HALF_OPEN);
        harness_outcome(h, call->id, DSIM_CALL_OK, NULL, 0);
    }
    CU_ASSERT_TRUE(probed);
    CU_ASSERT_EQUAL(c->breaker[0].state, BREAKER_CLOSED);
    CU_ASSERT_EQUAL(harness_last_metric(h, "breaker_state_s1"), BREAKER_CLOSED);
    CU_ASSERT_EQUAL(harness_last_metric(h, "breakers_open"), 0);
    CU_ASSERT_EQUAL(c->breaker_violations, 0);
}

static void test_every_breaker_open_sheds_requests_at_once(void)
{
    g_autoptr(Harness) h = new_client(1);
    harness_set_param(h, "breaker", "true");
    harness_set_param(h, "breaker_window", "2");
    harness_set_param(h, "breaker_min_calls", "2");
    harness_set_param(h, "breaker_open_for", "1h");
    harness_set_param(h, "retries", "0");
    harness_init(h);
    for (unsigned i = 0; i < 2; i++) {
        unsigned k = arrive(h);
        harness_outcome(h, harness_call(h, k)->id, DSIM_CALL_FAIL, NULL, 0);
    }
    unsigned k = arrive(h);
    CU_ASSERT_EQUAL(harness_n_calls(h), k); /* no call made */
    const ClientNode *c = harness_state(h);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_SHED_BREAKER], 1);
}

static void test_the_bulkhead_sheds_requests_beyond_its_limit(void)
{
    g_autoptr(Harness) h = new_client(3);
    harness_set_param(h, "bulkhead", "2");
    harness_init(h);
    unsigned k = arrive(h);
    arrive(h);
    arrive(h); /* the third finds two in flight */
    CU_ASSERT_EQUAL(harness_n_calls(h), k + 2);
    const ClientNode *c = harness_state(h);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_SHED_BULKHEAD], 1);
    harness_outcome(h, harness_call(h, k)->id, DSIM_CALL_OK, NULL, 0);
    arrive(h); /* room again */
    CU_ASSERT_EQUAL(harness_n_calls(h), k + 3);
    CU_ASSERT_EQUAL(c->bulkhead.max_seen, 2);
}

static void test_the_workload_is_the_same_whatever_the_policy(void)
{
    /* common random numbers: arrivals and keys do not depend on the balancer's draws */
    DsimTime delays[2][50];
    uint64_t keys[2][50];
    const char *lbs[] = { "round-robin", "p2c" };
    for (unsigned v = 0; v < 2; v++) {
        g_autoptr(Harness) h = new_client(3);
        harness_set_param(h, "lb", lbs[v]);
        harness_init(h);
        for (unsigned i = 0; i < 50; i++) {
            delays[v][i] = pending_timer(h, CLIENT_TIMER_ARRIVAL)->delay;
            unsigned k = arrive(h);
            const ServiceRequest *body = g_bytes_get_data(harness_call(h, k)->body, NULL);
            keys[v][i] = body->key;
            harness_outcome(h, harness_call(h, k)->id, DSIM_CALL_OK, NULL, 0);
        }
    }
    CU_ASSERT_EQUAL(memcmp(delays[0], delays[1], sizeof delays[0]), 0);
    CU_ASSERT_EQUAL(memcmp(keys[0], keys[1], sizeof keys[0]), 0);
}

/* ---- discovery and traces ------------------------------------------------------------------- */

/* Instance s2 of a group "s" of 3 registering with a registry "reg" of 1 (node 3). */
static Harness *new_registering_instance(void)
{
    Harness *h = new_instance(1);
    harness_set_param(h, "registry", "reg");
    harness_set_param(h, "renew_interval", "3s");
    DsimNodeId reg1 = harness_add_group(h, "reg", 1);
    g_assert(reg1 == 3);
    return h;
}

static const HarnessCall *last_call(const Harness *h)
{
    CU_ASSERT_FATAL(harness_n_calls(h) > 0);
    return harness_call(h, harness_n_calls(h) - 1);
}

static void test_an_instance_registers_under_its_service_name_and_cancels_when_it_leaves(void)
{
    g_autoptr(Harness) h = new_registering_instance();
    harness_set_param(h, "service_name", "orders");
    harness_set_param(h, "register_at", "2s");
    harness_set_param(h, "leave_at", "10s");
    harness_init(h);
    CU_ASSERT_EQUAL(harness_n_calls(h), 0); /* not before register_at */
    harness_fire_timer(h, pending_timer(h, SERVICE_TIMER_REGISTER)->id);
    const HarnessCall *c = last_call(h);
    CU_ASSERT_EQUAL(c->to, 3);
    CU_ASSERT_EQUAL(c->method, REGISTRY_REGISTER);
    RegistryInstanceReq req;
    memcpy(&req, g_bytes_get_data(c->body, NULL), sizeof req);
    CU_ASSERT_STRING_EQUAL(req.service, "orders");
    CU_ASSERT_EQUAL(req.instance, 1);
    harness_outcome(h, c->id, DSIM_CALL_OK, NULL, 0);
    const ServiceNode *s = harness_state(h);
    CU_ASSERT_EQUAL(s->reg.phase, REGISTRANT_REGISTERED);

    /* it serves as before, and its renewal tick is routed to the registrant */
    serve(h, DSIM_S(10));
    harness_fire_timer(h, pending_timer(h, SERVICE_TIMER_DONE)->id);
    harness_fire_timer(h, pending_timer(h, DISCOVERY_TIMER_REGISTRANT)->id);
    CU_ASSERT_EQUAL(harness_now(h), DSIM_S(5));
    CU_ASSERT_EQUAL(last_call(h)->method, REGISTRY_RENEW);
    harness_outcome(h, last_call(h)->id, DSIM_CALL_OK, NULL, 0);
    CU_ASSERT_EQUAL(s->reg.renewals, 1);
    CU_ASSERT_EQUAL(s->served, 1);

    /* leave_at: one CANCEL, then no more renewals; calls are still served */
    harness_fire_timer(h, pending_timer(h, SERVICE_TIMER_LEAVE)->id);
    CU_ASSERT_EQUAL(last_call(h)->method, REGISTRY_CANCEL);
    CU_ASSERT_TRUE(s->left);
    CU_ASSERT_PTR_NULL(pending_timer(h, DISCOVERY_TIMER_REGISTRANT));
    serve(h, DSIM_S(20));
    CU_ASSERT_EQUAL(s->busy, 1);
}

/* Client c1 discovering service "s" through registry reg1 (node 1); the instances s1 .. s4
 * are nodes 2 .. 5. Failfast, so that each request makes one attempt. */
static Harness *new_discovering_client(void)
{
    Harness *h = harness_new(&client_protocol, "c", 1, 0, 7);
    harness_set_param(h, "rate", "1/s");
    harness_set_param(h, "report_every", "0s");
    harness_set_param(h, "mode", "failfast");
    harness_set_param(h, "registry", "reg");
    DsimNodeId reg1 = harness_add_group(h, "reg", 1);
    DsimNodeId s1 = harness_add_group(h, "s", 4);
    g_assert(reg1 == 1 && s1 == 2);
    return h;
}

/* The client's pending FETCH, answered OK with @ids as service "s"'s instances. */
static void answer_fetch(Harness *h, const DsimNodeId *ids, unsigned n)
{
    const HarnessCall *c = last_call(h);
    CU_ASSERT_EQUAL_FATAL(c->method, REGISTRY_FETCH);
    size_t size = sizeof(RegistryFetchResp) + n * sizeof(RegistryEntry);
    RegistryFetchResp *a = g_malloc0(size);
    a->as_of = harness_now(h);
    a->n = n;
    for (unsigned i = 0; i < n; i++) {
        registry_name_copy(a->entries[i].service, "s");
        a->entries[i].instance = ids[i];
        a->entries[i].status = REGISTRY_STATUS_UP;
    }
    harness_outcome(h, c->id, DSIM_CALL_OK, a, size);
    g_free(a);
}

/* The next fetch tick: the cache calls the registry again. */
static void next_fetch(Harness *h)
{
    harness_fire_timer(h, pending_timer(h, DISCOVERY_TIMER_CACHE)->id);
}

/* Lets @n requests arrive, each answered at once: TIMEOUT when it went to @timeout_node, else
 * OK. Returns in @to how many went to each node (indexed by node id, 0 .. 5). */
static void arrivals(Harness *h, unsigned n, DsimNodeId timeout_node, unsigned to[6])
{
    memset(to, 0, 6 * sizeof to[0]);
    for (unsigned i = 0; i < n; i++) {
        unsigned k = arrive(h);
        CU_ASSERT_EQUAL_FATAL(harness_n_calls(h), k + 1);
        const HarnessCall *c = harness_call(h, k);
        CU_ASSERT_FATAL(c->to < 6);
        to[c->to]++;
        harness_outcome(h, c->id, c->to == timeout_node ? DSIM_CALL_TIMEOUT : DSIM_CALL_OK,
                        NULL, 0);
    }
}

static void test_the_client_balances_over_what_discovery_lists_and_follows_changes(void)
{
    g_autoptr(Harness) h = new_discovering_client();
    harness_set_param(h, "breaker", "true");
    harness_set_param(h, "breaker_window", "2");
    harness_set_param(h, "breaker_min_calls", "2");
    harness_set_param(h, "breaker_open_for", "1h");
    harness_init(h);
    const ClientNode *c = harness_state(h);

    /* Eureka's client fetches at start; service "s" is the target's value */
    const HarnessCall *f = last_call(h);
    CU_ASSERT_EQUAL(f->to, 1);
    CU_ASSERT_EQUAL(f->method, REGISTRY_FETCH);
    RegistryFetchReq q;
    memcpy(&q, g_bytes_get_data(f->body, NULL), sizeof q);
    CU_ASSERT_STRING_EQUAL(q.service, "s");
    /* until it answers there is no instance: Ribbon fails the request at once */
    unsigned k = arrive(h);
    CU_ASSERT_EQUAL(harness_n_calls(h), k);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_NO_INSTANCES], 1);
    CU_ASSERT_EQUAL(harness_count_metric(h, "client_no_instances"), 1);

    /* s3 and s1 listed (in any order): round robin over them alone; s3 times out twice and
     * its breaker opens */
    const DsimNodeId first[] = { 4, 2 };
    answer_fetch(h, first, 2);
    DsimTime listed_at = harness_now(h);
    CU_ASSERT_EQUAL(harness_last_metric(h, "listed_instances"), 2);
    CU_ASSERT_EQUAL(c->n, 2);
    unsigned to[6];
    arrivals(h, 4, 4, to);
    CU_ASSERT_EQUAL(to[2], 2);
    CU_ASSERT_EQUAL(to[4], 2);
    CU_ASSERT_EQUAL(c->breaker[1].state, BREAKER_OPEN);
    arrivals(h, 3, 4, to);
    CU_ASSERT_EQUAL(to[2], 3);

    /* the next fetch adds s2: it takes its share; s3 keeps its open breaker under its new
     * number */
    next_fetch(h); /* at 30 s */
    const DsimNodeId second[] = { 2, 3, 4 };
    answer_fetch(h, second, 3);
    CU_ASSERT_EQUAL(harness_count_metric(h, "appeared_at_seconds"), 1);
    CU_ASSERT_DOUBLE_EQUAL(harness_last_metric(h, "cache_age_seconds"),
                           (double) (harness_now(h) - listed_at) / 1e9, 1e-9);
    CU_ASSERT_EQUAL(c->backend[2], 4);
    CU_ASSERT_EQUAL(c->breaker[2].state, BREAKER_OPEN);
    CU_ASSERT_EQUAL(c->breaker[1].state, BREAKER_CLOSED);
    arrivals(h, 6, 99, to);
    CU_ASSERT_EQUAL(to[2], 3);
    CU_ASSERT_EQUAL(to[3], 3);
    CU_ASSERT_EQUAL(to[4], 0);

    /* s1 and s3 leave the list, s4 joins: s3's two unanswered attempts are dead calls */
    next_fetch(h);
    const DsimNodeId third[] = { 3, 5 };
    answer_fetch(h, third, 2);
    CU_ASSERT_EQUAL(harness_count_metric(h, "disappeared_at_seconds"), 2);
    CU_ASSERT_EQUAL(harness_last_metric(h, "disappeared_at_seconds"), 60);
    CU_ASSERT_EQUAL(harness_last_metric(h, "dead_calls"), 2); /* s3's, after s1's 0 */
    CU_ASSERT_EQUAL(harness_last_metric(h, "listed_instances"), 2);
    arrivals(h, 4, 99, to);
    CU_ASSERT_EQUAL(to[3], 2);
    CU_ASSERT_EQUAL(to[5], 2);
    CU_ASSERT_EQUAL(c->breaker[0].state + c->breaker[1].state, BREAKER_CLOSED);

    /* a failed fetch keeps the last list */
    next_fetch(h);
    harness_outcome(h, last_call(h)->id, DSIM_CALL_TIMEOUT, NULL, 0);
    CU_ASSERT_EQUAL(c->n, 2);
    CU_ASSERT_EQUAL(harness_count_metric(h, "listed_instances"), 3);
}

static void test_under_ring_hash_a_list_change_moves_only_the_keys_it_must(void)
{
    g_autoptr(Harness) h = new_discovering_client();
    harness_set_param(h, "lb", "ring-hash");
    harness_set_param(h, "keys", "100");
    harness_init(h);
    const DsimNodeId all[] = { 2, 3, 4, 5 }, without_s2[] = { 2, 4, 5 };
    answer_fetch(h, all, 4);
    DsimNodeId owner[100] = { 0 };
    for (unsigned i = 0; i < 400; i++) {
        unsigned k = arrive(h);
        const HarnessCall *c = harness_call(h, k);
        owner[((const ServiceRequest *) g_bytes_get_data(c->body, NULL))->key] = c->to;
        harness_outcome(h, c->id, DSIM_CALL_OK, NULL, 0);
    }
    next_fetch(h);
    answer_fetch(h, without_s2, 3); /* s2 (node 3) is evicted */
    unsigned moved = 0, kept = 0;
    for (unsigned i = 0; i < 400; i++) {
        unsigned k = arrive(h);
        const HarnessCall *c = harness_call(h, k);
        uint64_t key = ((const ServiceRequest *) g_bytes_get_data(c->body, NULL))->key;
        CU_ASSERT_NOT_EQUAL(c->to, 3);
        if (owner[key] != 0 && owner[key] != 3) {
            kept += c->to == owner[key];
            moved += c->to != owner[key];
        }
        harness_outcome(h, c->id, DSIM_CALL_OK, NULL, 0);
    }
    /* Karger et al.: the ring is keyed by node id, so only s2's keys went elsewhere */
    CU_ASSERT_EQUAL(moved, 0);
    CU_ASSERT_TRUE(kept > 200);
}

/* A request's attempts are one trace: the first starts it, the retries join it. */
static void test_a_requests_retries_join_its_first_attempts_trace(void)
{
    g_autoptr(Harness) h = new_client(3);
    harness_set_param(h, "retries", "2");
    harness_init(h);
    unsigned k = arrive(h);
    const HarnessCall *first = harness_call(h, k);
    CU_ASSERT_EQUAL(first->opts.trace, 0); /* a new trace, whose id is the call's */
    DsimCallId first_id = first->id;
    for (unsigned retry = 1; retry <= 2; retry++) {
        harness_outcome(h, last_call(h)->id, DSIM_CALL_FAIL, NULL, 0);
        harness_fire_timer(h, pending_timer(h, CLIENT_TIMER_RETRY)->id);
        CU_ASSERT_EQUAL_FATAL(harness_n_calls(h), k + 1 + retry);
        CU_ASSERT_EQUAL(last_call(h)->opts.trace, first_id);
        CU_ASSERT_EQUAL(last_call(h)->opts.parent, 0);
    }
    harness_outcome(h, last_call(h)->id, DSIM_CALL_OK, NULL, 0);
    /* the next request starts a trace of its own */
    k = arrive(h);
    CU_ASSERT_EQUAL(harness_call(h, k)->opts.trace, 0);
}

/* ---- small worlds --------------------------------------------------------------------------- */

/* The mean of a metric's samples in a finished world, and the fraction above 0. */
static double metric_mean(const DsimWorld *w, const char *name, double *positive)
{
    const DsimTime *times;
    const double *values;
    size_t n = dsim_world_metric_samples(w, name, &times, &values);
    double sum = 0;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        sum += values[i];
        pos += values[i] > 0;
    }
    if (positive != NULL)
        *positive = n > 0 ? (double) pos / n : 0;
    return n > 0 ? sum / n : 0;
}

static void test_an_instance_is_an_erlang_c_queue(void)
{
    /* Poisson arrivals at 300/s, exponential service of mean 10 ms, 4 workers, a queue long
     * enough never to refuse: M/M/4 at load 0.75. Erlang's C formula gives the probability
     * of waiting, C(4, 3) = 0.5094, and the mean wait Wq = C / (c mu - lambda) = 5.09 ms;
     * the time in the instance is Wq + 10 ms = 15.09 ms. Measured over 100 s (30000
     * requests): 0.527, 5.35 ms and 15.40 ms. */
    const char *xml =
        "<scenario name='t' seed='1' duration='100s'>"
        "  <network><latency>1ms</latency></network>"
        "  <group id='s' protocol='service' count='1'>"
        "    <param name='workers'>4</param>"
        "    <param name='queue'>100000</param>"
        "  </group>"
        "  <group id='c' protocol='client' count='1'>"
        "    <param name='rate'>300/s</param>"
        "    <param name='timeout'>10s</param>"
        "  </group>"
        "</scenario>";
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_buffer(xml, strlen(xml), "mmc.xml", &error);
    g_assert(sc != NULL);
    g_autoptr(DsimWorld) w = dsim_world_new(sc, sc->seed, NULL);
    dsim_world_run(w, NULL, NULL);
    double waited;
    double wq = metric_mean(w, "service_queue_wait_seconds", &waited);
    double sojourn = metric_mean(w, "service_latency_seconds", NULL);
    CU_ASSERT_DOUBLE_EQUAL(waited, 0.5094, 0.03);
    CU_ASSERT_DOUBLE_EQUAL(wq, 0.00509, 0.00509 * 0.15);
    CU_ASSERT_DOUBLE_EQUAL(sojourn, 0.01509, 0.01509 * 0.05);
}

/* Three instances, s2 failing from 1 s to 3 s, one failfast client at 300/s, for 4 s. */
static DsimWorld *breaker_world(const char *client_params, DsimScenario **out)
{
    g_autofree char *xml = g_strdup_printf(
        "<scenario name='t' seed='3' duration='4s'>"
        "  <network><latency>uniform(1ms,3ms)</latency></network>"
        "  <group id='s' protocol='service' count='3'>"
        "    <param name='degrade'>error</param>"
        "    <param name='degrade_at'>1s</param>"
        "    <param name='degrade_until'>3s</param>"
        "    <param name='degrade_members'>2</param>"
        "  </group>"
        "  <group id='c' protocol='client' count='1'>"
        "    <param name='rate'>300/s</param>"
        "    <param name='mode'>failfast</param>"
        "    <param name='breaker_open_for'>500ms</param>"
        "    %s"
        "  </group>"
        "</scenario>", client_params);
    g_autoptr(GError) error = NULL;
    DsimScenario *sc = dsim_scenario_load_buffer(xml, strlen(xml), "breaker.xml", &error);
    g_assert(sc != NULL);
    *out = sc;
    DsimWorld *w = dsim_world_new(sc, sc->seed, NULL);
    dsim_world_run(w, NULL, NULL);
    return w;
}

static const DsimVerdict *verdict_named(const DsimWorld *w, const char *name)
{
    for (unsigned i = 0; i < dsim_world_n_verdicts(w); i++) {
        if (strcmp(dsim_world_verdict(w, i)->name, name) == 0)
            return dsim_world_verdict(w, i);
    }
    return NULL;
}

static void test_breakers_cut_the_errors_of_a_failing_instance(void)
{
    DsimScenario *sc;
    DsimWorld *w = breaker_world("<param name='breaker'>false</param>", &sc);
    const ClientNode *off = dsim_world_node_state(w, 3);
    uint64_t failed_off = off->outcomes[CLIENT_FAILED];
    dsim_world_free(w);
    dsim_scenario_free(sc);

    w = breaker_world("<param name='breaker'>true</param>", &sc);
    const ClientNode *on = dsim_world_node_state(w, 3);
    /* a third of 2 s at 300/s fail without breakers; a few dozen with them (the failures that
     * open the breaker, and one probe per open_for) */
    CU_ASSERT_TRUE(failed_off > 150);
    CU_ASSERT_TRUE(on->outcomes[CLIENT_FAILED] < 40);
    CU_ASSERT_EQUAL(on->breaker[1].state, BREAKER_CLOSED); /* recovered after 3 s */
    CU_ASSERT_EQUAL(on->breaker_violations, 0);
    CU_ASSERT_TRUE(dsim_world_passed(w));
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

static void test_the_ignore_breaker_bug_is_caught(void)
{
    DsimScenario *sc;
    DsimWorld *w = breaker_world("<param name='breaker'>true</param>"
                                 "<param name='bug'>ignore-breaker</param>", &sc);
    const DsimVerdict *v = verdict_named(w, "breaker-respected");
    CU_ASSERT_FATAL(v != NULL);
    CU_ASSERT_FALSE(v->passed);
    CU_ASSERT_TRUE(v->time > DSIM_S(1) && v->time < DSIM_S(2)); /* soon after s2 fails */
    CU_ASSERT_TRUE(strstr(v->message, "whose breaker was open") != NULL);
    dsim_world_free(w);
    dsim_scenario_free(sc);
}

/* Four instances, s1 five times slower, 800/s: the calls_to_s1 samples of one policy. */
static double mean_calls_to_slow(const char *lb)
{
    g_autofree char *xml = g_strdup_printf(
        "<scenario name='t' seed='1' duration='3s'>"
        "  <network><latency>uniform(1ms,3ms)</latency></network>"
        "  <group id='s' protocol='service' count='4'>"
        "    <param name='degrade'>slow</param>"
        "    <param name='slow_factor'>5</param>"
        "  </group>"
        "  <group id='c' protocol='client' count='1'>"
        "    <param name='rate'>800/s</param>"
        "    <param name='lb'>%s</param>"
        "  </group>"
        "</scenario>", lb);
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_buffer(xml, strlen(xml), "lb.xml", &error);
    g_assert(sc != NULL);
    g_autoptr(DsimWorld) w = dsim_world_new(sc, sc->seed, NULL);
    dsim_world_run(w, NULL, NULL);
    return metric_mean(w, "calls_to_s1", NULL);
}

static void test_load_aware_policies_send_less_to_a_slow_instance(void)
{
    /* round robin sends s1 its quarter (200/s and its retries' share); least-request and
     * p2c see its requests pile up and send it about what it can serve (80/s) */
    double rr = mean_calls_to_slow("round-robin");
    double lr = mean_calls_to_slow("least-request");
    double p2c = mean_calls_to_slow("p2c");
    CU_ASSERT_TRUE(rr > 180);
    CU_ASSERT_TRUE(lr < 100);
    CU_ASSERT_TRUE(p2c < 100);
}

/* Loads @xml; returns the loader's error message, or NULL when it loads. */
static char *load_error(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_buffer(xml, strlen(xml), "d.xml", &error);
    return sc != NULL ? NULL : g_strdup(error->message);
}

/* A registry reg1; instances s1, s2 and o1 registering under "s" at start, o1 leaving at 8 s;
 * n1 registering under "s" at 4 s (a scale-out); a client discovering "s" every second, with
 * requests from 1.5 s on. Node ids: reg1 0, s1 1, s2 2, o1 3, n1 4, c1 5. */
static const char discovery_xml[] =
    "<scenario name='t' seed='2' duration='12s'>"
    "  <network><latency>uniform(1ms,3ms)</latency></network>"
    "  <group id='reg' protocol='registry' count='1'>"
    "    <param name='response_cache'>0s</param>"
    "  </group>"
    "  <group id='s' protocol='service' count='2'>"
    "    <param name='registry'>reg</param>"
    "  </group>"
    "  <group id='o' protocol='service' count='1'>"
    "    <param name='registry'>reg</param>"
    "    <param name='service_name'>s</param>"
    "    <param name='renew_interval'>1s</param>"
    "    <param name='leave_at'>%s</param>"
    "  </group>"
    "  <group id='n' protocol='service' count='1'>"
    "    <param name='registry'>reg</param>"
    "    <param name='service_name'>s</param>"
    "    <param name='register_at'>4s</param>"
    "  </group>"
    "  <group id='c' protocol='client' count='1'>"
    "    <param name='registry'>%s</param>"
    "    <param name='fetch_interval'>1s</param>"
    "    <param name='start'>1.5s</param>"
    "    <param name='rate'>200/s</param>"
    "  </group>"
    "</scenario>";

/* The samples of @name in [from, to). */
static double metric_sum(const DsimWorld *w, const char *name, DsimTime from, DsimTime to)
{
    const DsimTime *times;
    const double *values;
    size_t n = dsim_world_metric_samples(w, name, &times, &values);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (times[i] >= from && times[i] < to)
            sum += values[i];
    }
    return sum;
}

static void test_instances_that_register_are_found_and_those_that_leave_are_dropped(void)
{
    g_autofree char *xml = g_strdup_printf(discovery_xml, "8s", "reg");
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_buffer(xml, strlen(xml), "d.xml", &error);
    g_assert(sc != NULL);
    g_autoptr(DsimWorld) w = dsim_world_new(sc, sc->seed, NULL);
    dsim_world_run(w, NULL, NULL);
    const ClientNode *c = dsim_world_node_state(w, 5);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_NO_INSTANCES], 0); /* listed before the first request */
    CU_ASSERT_TRUE(c->outcomes[CLIENT_OK] > 2000);
    /* n1 serves nothing before it registers (the windows up to 4 s), its share after the
     * next fetch (a quarter of 200/s) */
    CU_ASSERT_EQUAL(metric_sum(w, "calls_to_n1", 0, DSIM_S(4) + 1), 0);
    CU_ASSERT_TRUE(metric_sum(w, "calls_to_n1", DSIM_S(6), DSIM_S(8) + 1) > 80);
    /* o1 cancels at 8 s: the next fetch drops it; it got calls until then, none after */
    CU_ASSERT_TRUE(metric_sum(w, "calls_to_o1", DSIM_S(8), DSIM_S(8) + 1) > 30);
    CU_ASSERT_EQUAL(metric_sum(w, "calls_to_o1", DSIM_S(10), DSIM_S(12) + 1), 0);
    CU_ASSERT_EQUAL_FATAL(c->n, 3);
    CU_ASSERT_EQUAL(c->backend[0], 1);
    CU_ASSERT_EQUAL(c->backend[1], 2);
    CU_ASSERT_EQUAL(c->backend[2], 4);
    const ServiceNode *o1 = dsim_world_node_state(w, 3);
    CU_ASSERT_TRUE(o1->left);
    CU_ASSERT_EQUAL(o1->reg.phase, REGISTRANT_CANCELLED);
    CU_ASSERT_TRUE(dsim_world_passed(w));
}

static void test_discovery_settings_are_checked_at_load(void)
{
    /* the registry must be a group running the registry protocol */
    g_autofree char *xml = g_strdup_printf(discovery_xml, "0s", "s");
    g_autofree char *e1 = load_error(xml);
    CU_ASSERT_FATAL(e1 != NULL);
    CU_ASSERT_TRUE(strstr(e1, "group s runs service, not registry") != NULL);
    g_autofree char *xml2 = g_strdup_printf(discovery_xml, "0s", "nowhere");
    g_autofree char *e2 = load_error(xml2);
    CU_ASSERT_TRUE(e2 != NULL && strstr(e2, "no group \"nowhere\"") != NULL);
    /* the service name must fit the registry's wire */
    g_autofree char *xml3 = g_strdup_printf(discovery_xml, "0s", "reg");
    char *at = strstr(xml3, "<param name='service_name'>s</param>");
    g_assert(at != NULL);
    g_autofree char *xml4 = g_strdup_printf("%.*s<param name='service_name'>%s</param>%s",
                                            (int) (at - xml3), xml3,
                                            "a-service-name-far-too-long-for-eureka",
                                            at + strlen("<param name='service_name'>s</param>"));
    g_autofree char *e4 = load_error(xml4);
    CU_ASSERT_TRUE(e4 != NULL && strstr(e4, "longer than the registry's 31 characters") != NULL);
    /* static weights do not go with discovery */
    g_autofree char *xml5 = g_strdup_printf(discovery_xml, "0s",
                                            "reg</param><param name='weights'>2,1");
    g_autofree char *e5 = load_error(xml5);
    CU_ASSERT_TRUE(e5 != NULL && strstr(e5, "weights need a static target") != NULL);
    /* and the scenario as written loads */
    CU_ASSERT_PTR_NULL(load_error(xml3));
}

/* Spans: every request of a failover client over two instances, s1 of which fails every
 * request, is one trace: the first attempt is its root, the retry a span of the same trace. */
static void test_a_request_and_its_retries_are_one_trace_in_the_spans(void)
{
    const char *xml =
        "<scenario name='t' seed='1' duration='2s'>"
        "  <network><latency>1ms</latency></network>"
        "  <group id='s' protocol='service' count='2'>"
        "    <param name='degrade'>error</param>"
        "    <param name='degrade_members'>1</param>"
        "  </group>"
        "  <group id='c' protocol='client' count='1'>"
        "    <param name='rate'>50/s</param>"
        "    <param name='stop'>1.5s</param>"
        "    <param name='retries'>1</param>"
        "  </group>"
        "</scenario>";
    g_autoptr(GError) error = NULL;
    g_autoptr(DsimScenario) sc = dsim_scenario_load_buffer(xml, strlen(xml), "t.xml", &error);
    g_assert(sc != NULL);
    g_autoptr(DsimWorld) w = dsim_world_new(sc, sc->seed, NULL);
    dsim_world_run(w, NULL, NULL);
    const ClientNode *c = dsim_world_node_state(w, 2);
    /* spans of the client's calls, by trace: roots (id == trace) and joined attempts */
    g_autoptr(GHashTable) roots = g_hash_table_new(g_int64_hash, g_int64_equal);
    unsigned n_roots = 0, joined = 0, joined_to_s2 = 0;
    for (unsigned i = 0; i < dsim_world_n_spans(w); i++) {
        const DsimSpan *sp = dsim_world_span(w, i);
        if (sp->caller != 2 || sp->id != sp->trace)
            continue;
        n_roots++;
        g_hash_table_add(roots, (gpointer) &sp->id);
    }
    for (unsigned i = 0; i < dsim_world_n_spans(w); i++) {
        const DsimSpan *sp = dsim_world_span(w, i);
        if (sp->caller != 2 || sp->id == sp->trace)
            continue;
        joined++;
        joined_to_s2 += sp->callee == 1 && sp->status == DSIM_SPAN_OK;
        CU_ASSERT_TRUE(g_hash_table_contains(roots, &sp->trace)); /* an earlier root's trace */
        CU_ASSERT_EQUAL(sp->parent, 0);
        CU_ASSERT_TRUE(sp->trace < sp->id);
    }
    /* one trace per request; round robin sends every other first attempt to s1, whose
     * failure is retried on s2 in the same trace */
    CU_ASSERT_EQUAL(n_roots, c->next_seq);
    CU_ASSERT_EQUAL(joined, c->retries);
    CU_ASSERT_TRUE(joined > 30);
    CU_ASSERT_EQUAL(joined_to_s2, joined);
    CU_ASSERT_EQUAL(c->outcomes[CLIENT_OK], c->next_seq);
}

CU_TestInfo service_tests[] = {
    { "an instance serves workers at once, queues the rest and sheds beyond",
      test_an_instance_serves_workers_at_once_queues_the_rest_and_sheds_beyond },
    { "a queued request whose caller gave up is dropped without work",
      test_a_queued_request_whose_caller_gave_up_is_dropped_without_work },
    { "error rate one fails every request after its work",
      test_error_rate_one_fails_every_request_after_its_work },
    { "degradation hits the chosen members in its window only",
      test_degradation_hits_the_chosen_members_in_its_window_only },
    { "member lists parse", test_member_lists_parse },
    { "the rate limiter refuses beyond its limit and its log conforms",
      test_the_rate_limiter_refuses_beyond_its_limit_and_its_log_conforms },
    { "round robin cycles exactly and skips excluded",
      test_round_robin_cycles_exactly_and_skips_excluded },
    { "smooth weighted round robin gives nginx's sequence",
      test_smooth_weighted_round_robin_gives_nginx_sequence },
    { "least request picks the fewest in flight and breaks ties at random",
      test_least_request_picks_the_fewest_in_flight_and_breaks_ties_at_random },
    { "two choices give a lower max load than one",
      test_two_choices_give_a_lower_max_load_than_one },
    { "ring hash moves only the removed backend's keys",
      test_ring_hash_moves_only_the_removed_backends_keys },
    { "maglev table is balanced and a removal moves few other keys",
      test_maglev_table_is_balanced_and_a_removal_moves_few_other_keys },
    { "hash policies walk past excluded backends", test_hash_policies_walk_past_excluded_backends },
    { "an update keeps a staying backend's count, keys and cursor",
      test_an_update_keeps_a_staying_backends_count_keys_and_cursor },
    { "the client calls its target in turn at its rate",
      test_the_client_calls_its_target_in_turn_at_its_rate },
    { "failover retries other instances after a growing backoff",
      test_failover_retries_other_instances_after_a_growing_backoff },
    { "failfast and failsafe make one attempt", test_failfast_and_failsafe_make_one_attempt },
    { "forking calls distinct instances and the first ok wins",
      test_forking_calls_distinct_instances_and_the_first_ok_wins },
    { "the retry budget refuses retries beyond its ratio",
      test_the_retry_budget_refuses_retries_beyond_its_ratio },
    { "a breaker ejects a failing instance and probes it back",
      test_a_breaker_ejects_a_failing_instance_and_probes_it_back },
    { "every breaker open sheds requests at once", test_every_breaker_open_sheds_requests_at_once },
    { "the bulkhead sheds requests beyond its limit",
      test_the_bulkhead_sheds_requests_beyond_its_limit },
    { "the workload is the same whatever the policy",
      test_the_workload_is_the_same_whatever_the_policy },
    { "an instance registers under its service name and cancels when it leaves",
      test_an_instance_registers_under_its_service_name_and_cancels_when_it_leaves },
    { "the client balances over what discovery lists and follows changes",
      test_the_client_balances_over_what_discovery_lists_and_follows_changes },
    { "under ring hash a list change moves only the keys it must",
      test_under_ring_hash_a_list_change_moves_only_the_keys_it_must },
    { "a request's retries join its first attempt's trace",
      test_a_requests_retries_join_its_first_attempts_trace },
    { "an instance is an erlang c queue", test_an_instance_is_an_erlang_c_queue },
    { "breakers cut the errors of a failing instance",
      test_breakers_cut_the_errors_of_a_failing_instance },
    { "the ignore-breaker bug is caught", test_the_ignore_breaker_bug_is_caught },
    { "load-aware policies send less to a slow instance",
      test_load_aware_policies_send_less_to_a_slow_instance },
    { "instances that register are found and those that leave are dropped",
      test_instances_that_register_are_found_and_those_that_leave_are_dropped },
    { "discovery settings are checked at load", test_discovery_settings_are_checked_at_load },
    { "a request and its retries are one trace in the spans",
      test_a_request_and_its_retries_are_one_trace_in_the_spans },
    CU_TEST_INFO_NULL,
};
