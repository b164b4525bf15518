/* main.c - runs every suite of tests/scenarios/ (CUnit basic runner, verbose). */
#include "tests/scenarios/tests.h"
#include "tests/lib/testutil.h"

int main(int argc, char **argv)
{
    CU_SuiteInfo suites[] = {
        { .pName = "examples", .pTests = examples_tests },
        { .pName = "bad", .pTests = bad_tests },
        CU_SUITE_INFO_NULL,
    };
    return testutil_run_suites(argc, argv, suites);
}
