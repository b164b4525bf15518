/* cli.h - the dsim command line (cli.c). */
#ifndef DSIM_CLI_H
#define DSIM_CLI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/scenario.h"

/* Runs the command in argv; returns the exit status (0 pass, 1 check failed, 2 bad input). */
int dsim_cli_main(int argc, char **argv);

/* cli_explore.c: the commands that run a scenario many times. */
int dsim_cli_explore(int argc, char **argv);
int dsim_cli_shrink(int argc, char **argv);
int dsim_cli_sweep(int argc, char **argv);
int dsim_cli_merge(int argc, char **argv);
/* Applies "GROUP.PARAM=VALUE" settings (--param) to a loaded scenario. */
gboolean dsim_cli_apply_params(DsimScenario *sc, gchar **params, GError **error);
/* "5" or "1..100" (inclusive, lo <= hi). */
bool dsim_cli_parse_seeds(const char *text, uint64_t *lo, uint64_t *hi);
/* "crash-restart,random-halves": checked kinds (NULL-terminated; free with g_strfreev). */
gchar **dsim_cli_parse_nemesis(const char *text, GError **error);

#endif /* DSIM_CLI_H */
