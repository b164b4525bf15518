/* tests.h - the suites of tests/reports/run and the helpers they share (util.c). */
#ifndef DSIM_TESTS_REPORTS_H
#define DSIM_TESTS_REPORTS_H

#include <CUnit/CUnit.h>
#include <stdbool.h>

#include "reports/report.h"

extern CU_TestInfo collect_tests[];
extern CU_TestInfo plots_tests[];
extern CU_TestInfo html_tests[];

/* A scenario used by several tests: two pingpong nodes over a 10 ms link, p2 crashes at
 * 15 ms (Ping seq=3 dies with it) and restarts at 40 ms, when p1's retry re-sends it. */
extern const char tiny_xml[];

/* Runs @xml (a scenario text, or a path under the source tree when it ends in .xml), with
 * the collector; @window_set selects [@from, @to] as the space-time window. */
DsimRunResult *reports_run(const char *xml, bool window_set, DsimTime from, DsimTime to);
/* reports_run, then writes summary.json, the data and the pictures into a new temporary
 * folder (returned; free it with reports_cleanup). @gnuplot: NULL for the real one. */
char          *reports_run_into(const char *xml, bool window_set, DsimTime from, DsimTime to,
                                const char *gnuplot);
/* The contents of @dir/@name, or NULL. */
char          *reports_read(const char *dir, const char *name);
/* Removes a folder and everything in it; frees @dir. */
void           reports_cleanup(char *dir);
/* Compares two texts; on a difference prints both (with @what) and returns false. */
bool           reports_same_text(const char *what, const char *expected, const char *actual);
/* Occurrences of @needle in @hay. */
unsigned       reports_count(const char *hay, const char *needle);

#endif
