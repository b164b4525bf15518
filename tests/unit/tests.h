/* tests.h - the suites of tests/unit/run; each test file exports one CU_TestInfo table. */
#ifndef DSIM_TESTS_UNIT_H
#define DSIM_TESTS_UNIT_H

#include <CUnit/CUnit.h>

extern CU_TestInfo time_tests[];
extern CU_TestInfo rng_tests[];
extern CU_TestInfo dist_tests[];
extern CU_TestInfo resilience_tests[];
extern CU_TestInfo ratelimit_tests[];
extern CU_TestInfo queue_tests[];
extern CU_TestInfo store_tests[];
extern CU_TestInfo net_tests[];
extern CU_TestInfo param_tests[];
extern CU_TestInfo scenario_tests[];
extern CU_TestInfo lincheck_tests[];
extern CU_TestInfo kv_tests[];

#endif
