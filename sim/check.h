/* check.h - the checker framework: invariants, timed expectations, end-of-run verdicts.
 *
 * Invariants are named functions a protocol registers (DsimInvariant). ALWAYS invariants run
 * after every event a member of their group handled; AT_END ones once, at the end. Timed
 * expectations (<expect at=.. leader/agree>, <converge>) are evaluated over a window of
 * virtual time, generically through each protocol's describe op. A failure records the
 * event index, time and a message; the first failure of a check is kept and the check is
 * not evaluated again.
 */
#ifndef DSIM_CHECK_H
#define DSIM_CHECK_H

#include "sim/world.h"

typedef struct DsimChecks DsimChecks;

DsimChecks *dsim_checks_new(DsimWorld *w, const DsimScenario *sc);
void        dsim_checks_free(DsimChecks *c); /* accepts NULL */
/* After each processed event; @node handled it (DSIM_NOBODY for world events). */
void        dsim_checks_after_event(DsimChecks *c, DsimWorld *w, DsimNodeId node);
/* A CHECK event fired (window start/poll/deadline of timed check @index). */
void        dsim_checks_on_timer(DsimChecks *c, DsimWorld *w, uint32_t index, uint32_t what);
void        dsim_checks_finish(DsimChecks *c, DsimWorld *w);
unsigned           dsim_checks_n_verdicts(const DsimChecks *c);
const DsimVerdict *dsim_checks_verdict(const DsimChecks *c, unsigned i);

/* The nodes of group @g that count as "connected" for expectations: live, unpaused members
 * in a component (two-way reachability among the group's members) that holds a majority of
 * the group. Fills @connected (n entries); returns how many are connected. */
unsigned dsim_checks_connected(const DsimWorld *w, unsigned g, bool *connected);
/* Component labels over the whole world for AT_END invariants (see DsimGroupView). */
void     dsim_checks_components(const DsimWorld *w, uint32_t *label);

#endif /* DSIM_CHECK_H */
