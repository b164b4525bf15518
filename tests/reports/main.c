/* main.c - runs every suite of tests/reports/ (CUnit basic runner, verbose). */
#include "tests/lib/testutil.h"
#include "tests/reports/tests.h"

int main(int argc, char **argv)
{
    CU_SuiteInfo suites[] = {
        { .pName = "collect", .pTests = collect_tests },
        { .pName = "plots", .pTests = plots_tests },
        { .pName = "html", .pTests = html_tests },
        CU_SUITE_INFO_NULL,
    };
    return testutil_run_suites(argc, argv, suites);
}
