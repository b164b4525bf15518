/* queue-hold.c - the classic "hold" benchmark of event sets (Jones 1986): keep n events
 * pending; each step pops the first and pushes it back 5..15 ms later (a message delay).
 * Prints steps per CPU second for the queue in sim/queue.c. Built by bench/queue. */
#include <stdlib.h>
#include <stdio.h>
#include <sys/resource.h>
#include "sim/queue.h"
#include "sim/rng.h"
static double cpu(void){ struct rusage r; getrusage(RUSAGE_SELF,&r); return r.ru_utime.tv_sec + r.ru_utime.tv_usec/1e6; }
int main(int argc, char **argv)
{
    unsigned n = atoi(argv[1]); unsigned ops = 10000000;
    DsimRng rng; dsim_rng_init(&rng, 1, "x");
    DsimQueue *q = dsim_queue_new();
    for (unsigned i = 0; i < n; i++) { DsimEvent e = {.time = (DsimTime)dsim_rng_below(&rng, 10000000)}; dsim_queue_push(q,&e); }
    double t0 = cpu(); uint64_t sum = 0;
    for (unsigned i = 0; i < ops; i++) { DsimEvent e; dsim_queue_pop(q,&e); sum += e.seq; e.time += 5000000 + (DsimTime)dsim_rng_below(&rng, 10000000); dsim_queue_push(q,&e); }
    printf("n=%u: %.1f M ops/s (%llu)\n", n, ops/(cpu()-t0)/1e6, (unsigned long long)(sum&1));
    return 0;
}
