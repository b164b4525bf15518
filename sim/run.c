/* run.c - build a world, attach the event log, run it, take the result. */
#include "sim/run.h"

DsimRunResult *dsim_run(const DsimScenario *sc, const DsimRunOptions *opt, GError **error)
{
    DsimWorldOptions wopt = {
        .logging = opt->logging,
        .max_events = opt->max_events,
    };
    uint64_t seed = opt->seed_set ? opt->seed : sc->seed;
    g_autoptr(DsimWorld) w = dsim_world_new(sc, seed, &wopt);
    DsimEventLog *log = NULL;
    if (opt->events_path != NULL) {
        log = dsim_event_log_new(w, opt->events_path, error);
        if (log == NULL)
            return NULL;
    }
    dsim_world_run(w, opt->progress, opt->progress_data);
    if (log != NULL && !dsim_event_log_close(log, error))
        return NULL;
    return dsim_run_result_new(w);
}
