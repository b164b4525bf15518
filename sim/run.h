/* run.h - one run of a scenario, start to end: the driver shared by the CLI and the tests. */
#ifndef DSIM_RUN_H
#define DSIM_RUN_H

#include "reports/report.h"
#include "sim/scenario.h"

typedef struct {
    uint64_t    seed;        /* used when seed_set; otherwise the scenario's */
    bool        seed_set;
    const char *events_path; /* write events.jsonl here, or NULL */
    const char *history_path; /* write history.jsonl here when there are clients, or NULL */
    uint64_t    max_events;  /* 0: no limit */
    const GArray *faults;    /* DsimFaultSpec instead of the scenario's (replay of an explore run), or NULL */
    bool        logging;     /* keep protocol log lines (in events.jsonl) */
    void      (*progress)(const DsimWorld *w, void *data); /* every 2^16 events, or NULL */
    void       *progress_data;
    bool        collect;     /* gather what the pictures need into the result's data (report.h) */
    bool        spacetime_set; /* the space-time window, instead of the scenario's <report> */
    DsimTime    spacetime_from, spacetime_to;
} DsimRunOptions;

/* Runs @sc to its end. Returns a new result (free with dsim_run_result_free) or NULL with
 * @error set when an output file could not be written. */
DsimRunResult *dsim_run(const DsimScenario *sc, const DsimRunOptions *opt, GError **error);

#endif /* DSIM_RUN_H */
