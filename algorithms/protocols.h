/* protocols.h - the table of every protocol dsim knows (algorithms/protocols.c). */
#ifndef DSIM_PROTOCOLS_H
#define DSIM_PROTOCOLS_H

#include "sim/dsim.h"

/* NULL-terminated, in the order `dsim list` prints them. */
extern const DsimProtocol *const dsim_protocols[];

/* The protocol named @name, or NULL. */
const DsimProtocol *dsim_protocol_find(const char *name);

#endif /* DSIM_PROTOCOLS_H */
