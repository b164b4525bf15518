/* run.c - build a world, attach the event log, run it, write the history, take the result. */
#include "sim/run.h"

#include "sim/client.h"

/* history.jsonl: one operation per line, in the order they happened (docs/cli.md). */
static gboolean write_history(const DsimClients *clients, const char *path, GError **error)
{
    const GArray *h = dsim_clients_history(clients);
    g_autoptr(GString) out = g_string_sized_new(64 * (h->len + 1));
    for (unsigned i = 0; i < h->len; i++) {
        dsim_hist_op_format(&g_array_index(h, DsimHistOp, i), out);
        g_string_append_c(out, '\n');
    }
    return g_file_set_contents(path, out->str, (gssize) out->len, error);
}

DsimRunResult *dsim_run(const DsimScenario *sc, const DsimRunOptions *opt, GError **error)
{
    DsimWorldOptions wopt = {
        .logging = opt->logging,
        .max_events = opt->max_events,
        .faults = opt->faults,
    };
    uint64_t seed = opt->seed_set ? opt->seed : sc->seed;
    g_autoptr(DsimWorld) w = dsim_world_new(sc, seed, &wopt);
    DsimEventLog *log = NULL;
    if (opt->events_path != NULL) {
        log = dsim_event_log_new(w, opt->events_path, error);
        if (log == NULL)
            return NULL;
    }
    DsimCollector *col = NULL;
    if (opt->collect)
        col = dsim_collector_new(w, opt->spacetime_set, opt->spacetime_from, opt->spacetime_to);
    if (col == NULL)
        dsim_world_run(w, opt->progress, opt->progress_data);
    else
        dsim_collector_run(col, w, opt->progress, opt->progress_data);
    g_autoptr(DsimRunData) data = col != NULL ? dsim_collector_finish(col, w) : NULL;
    if (log != NULL && !dsim_event_log_close(log, error))
        return NULL;
    const DsimClients *clients = dsim_world_clients(w);
    if (clients != NULL && opt->history_path != NULL && !write_history(clients, opt->history_path, error))
        return NULL;
    DsimRunResult *r = dsim_run_result_new(w);
    r->data = g_steal_pointer(&data);
    return r;
}
