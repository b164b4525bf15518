/* param.h - protocol parameters: text -> typed value in a protocol's config struct.
 *
 * The loader, sweeps and `dsim list` all read the same DsimParam rows a protocol declares, so
 * there is one source of truth. A protocol never parses strings, so it cannot raise an input
 * error; this file does it for them.
 */
#ifndef DSIM_PARAM_H
#define DSIM_PARAM_H

#include "sim/dsim.h"

/* Finds the row named @name in a { NULL }-terminated table; NULL when absent. */
const DsimParam *dsim_param_find(const DsimParam *params, const char *name);

/* Parses @text for @p and stores it at @config + p->offset. On failure returns false and
 * sets *why to a new sentence (caller frees) like
 * "\"5x\" is not a duration (write e.g. 250ms, 1.5s)". */
bool dsim_param_parse(const DsimParam *p, const char *text, void *config, char **why);

/* Fills @config (protocol->config_size bytes, zeroed by the caller) with every default.
 * A default that does not parse is a bug in the protocol table: it asserts. */
void dsim_param_defaults(const DsimProtocol *proto, void *config);

/* Returns "text" (a new string) with quotes, backslashes and control bytes escaped, cut at
 * 64 bytes on a UTF-8 boundary (with "..."), so that an input error message stays one short
 * line whatever the input holds. Shared by the loader and the parameter parser. */
char *dsim_quote(const char *text);

/* "int", "bool", "time", "time range", "probability", "rate", "choice", "string". */
const char *dsim_param_type_name(DsimParamType type);

#endif /* DSIM_PARAM_H */
