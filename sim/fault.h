/* fault.h - faults, nemeses and node selectors, applied to a world as scheduled events.
 *
 * Every scenario fault becomes a FAULT event at its time (file order breaks ties). Selectors
 * ("leader(r)", "random(r,2)", "L1+1") are resolved when the fault fires, from the world as
 * it is then; random choices draw from the run's "faults" stream. A selector that matches
 * nothing is recorded in the event log and the fault does nothing. A nemesis is a FAULT
 * event that re-schedules itself every `every` from `start` until `stop`, alternating
 * between doing harm and undoing it, and undoes whatever it did at `stop`.
 */
#ifndef DSIM_FAULT_H
#define DSIM_FAULT_H

#include "sim/world.h"

typedef struct DsimFaults DsimFaults;

/* Schedules every fault of @faults (DsimFaultSpec; the scenario's own list, or a variant
 * of it made by exploration and shrinking) into @w. @faults is borrowed for the world's
 * lifetime. */
DsimFaults *dsim_faults_new(DsimWorld *w, const DsimScenario *sc, const GArray *faults,
                            uint64_t seed);
void        dsim_faults_free(DsimFaults *f); /* accepts NULL */
/* Applies fault @index (tick @tick of a nemesis). */
void        dsim_faults_fire(DsimFaults *f, DsimWorld *w, uint32_t index, uint32_t tick);

#endif /* DSIM_FAULT_H */
