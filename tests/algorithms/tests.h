/* tests.h - the suites of tests/algorithms/run; each test file exports one CU_TestInfo table. */
#ifndef DSIM_TESTS_ALGORITHMS_H
#define DSIM_TESTS_ALGORITHMS_H

#include <CUnit/CUnit.h>

extern CU_TestInfo pingpong_tests[];
extern CU_TestInfo broadcast_tests[];
extern CU_TestInfo world_tests[];
extern CU_TestInfo faults_tests[];
extern CU_TestInfo clients_tests[];

#endif
