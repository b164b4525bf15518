/* testutil.c - see testutil.h. */
#include "tests/lib/testutil.h"

#include <CUnit/Basic.h>
#include <string.h>

int testutil_run_suites(int argc, char **argv, CU_SuiteInfo *suites)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (argc > 1) {
        /* keep only the suite named on the command line */
        unsigned j = 0;
        for (unsigned i = 0; suites[i].pName != NULL; i++) {
            if (strcmp(suites[i].pName, argv[1]) == 0)
                suites[j++] = suites[i];
        }
        suites[j] = (CU_SuiteInfo) CU_SUITE_INFO_NULL;
    }
    if (CU_register_suites(suites) != CUE_SUCCESS) {
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failures == 0 && run > 0) ? 0 : 1;
}

char *testutil_srcpath(const char *relative)
{
    const char *top = g_getenv("DSIM_SRCDIR");
    return g_build_filename(top != NULL ? top : DSIM_SRCDIR, relative, NULL);
}
