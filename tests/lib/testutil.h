/* testutil.h - small helpers shared by the CUnit runners: running suites, loading a scenario
 * from a string, building and running a world to its end. */
#ifndef DSIM_TESTUTIL_H
#define DSIM_TESTUTIL_H

#include <CUnit/CUnit.h>
#include <glib.h>

/* Registers @suites, runs them verbosely (argv[1], when given, runs only the suite of that
 * name) and returns 0 when nothing failed. */
int testutil_run_suites(int argc, char **argv, CU_SuiteInfo *suites);

/* The path of a file in the source tree ("scenarios/pingpong/basic.xml"); caller frees. */
char *testutil_srcpath(const char *relative);

#endif
