/* tests.h - the suites of tests/scenarios/run; each test file exports one CU_TestInfo table. */
#ifndef DSIM_TESTS_SCENARIOS_H
#define DSIM_TESTS_SCENARIOS_H

#include <CUnit/CUnit.h>

extern CU_TestInfo examples_tests[];
extern CU_TestInfo bad_tests[];

#endif
