/* main.c - runs every suite of tests/unit/ (CUnit basic runner, verbose). */
#include "tests/unit/tests.h"
#include "tests/lib/testutil.h"

int main(int argc, char **argv)
{
    CU_SuiteInfo suites[] = {
        { .pName = "time", .pTests = time_tests },
        { .pName = "rng", .pTests = rng_tests },
        { .pName = "dist", .pTests = dist_tests },
        { .pName = "queue", .pTests = queue_tests },
        { .pName = "store", .pTests = store_tests },
        { .pName = "net", .pTests = net_tests },
        { .pName = "param", .pTests = param_tests },
        { .pName = "scenario", .pTests = scenario_tests },
        { .pName = "kv", .pTests = kv_tests },
        { .pName = "lincheck", .pTests = lincheck_tests },
        { .pName = "resilience", .pTests = resilience_tests },
        { .pName = "ratelimit", .pTests = ratelimit_tests },
        CU_SUITE_INFO_NULL,
    };
    return testutil_run_suites(argc, argv, suites);
}
