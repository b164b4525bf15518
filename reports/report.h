/* report.h - DsimRunResult, an immutable snapshot of a finished run, and the writers that
 * turn it into files. Writers never see the world; they take the snapshot and a folder.
 *
 * Every file is written to a temporary name and renamed (g_file_set_contents), and contains
 * nothing that depends on the machine or the wall clock, so two runs of the same scenario and
 * seed write identical bytes.
 */
#ifndef DSIM_REPORT_H
#define DSIM_REPORT_H

#include <stdio.h>

#include "sim/world.h"

typedef struct {
    char     *name;
    char     *protocol;
    unsigned  count;
} DsimResultGroup;

typedef struct {
    char          *scenario;    /* the scenario's name */
    char          *file;        /* as given */
    char          *description; /* may be NULL */
    uint64_t       seed;
    DsimTime       duration;    /* what the scenario asked for */
    DsimTime       end_time;    /* virtual time when the run stopped */
    bool           stopped_early; /* max-events reached */
    uint64_t       events;
    uint64_t       trace_hash;
    unsigned       n_nodes;
    GArray        *groups;      /* DsimResultGroup */
    DsimCounters   counters;
    GArray        *verdicts;    /* DsimVerdict (deep copies) */
    GArray        *metrics;     /* DsimMetricStat (names owned), in name order */
    bool           has_clients;
    uint64_t       ops_invoked, ops_ok, ops_fail, ops_info; /* client operations */
    double         throughput;  /* ok operations per second of the workloads' span */
    bool           passed;
} DsimRunResult;

/* Takes a snapshot of @w (after dsim_world_finish). Free with dsim_run_result_free(). */
DsimRunResult *dsim_run_result_new(const DsimWorld *w);
void           dsim_run_result_free(DsimRunResult *r); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimRunResult, dsim_run_result_free)

/* The trace hash as 16 lowercase hex digits (static storage is avoided: caller frees). */
char    *dsim_hash_hex(uint64_t hash);

/* summary.json: scenario, seed, verdicts, counters, figures, the trace hash. */
GString  *dsim_report_summary_json(const DsimRunResult *r);
gboolean  dsim_report_write_summary(const DsimRunResult *r, const char *dir, GError **error);
/* The verdict table and key figures for the terminal. */
void      dsim_report_print_table(const DsimRunResult *r, FILE *out);

/* ---- events.jsonl: an observer streaming one JSON object per record ----------- */

typedef struct DsimEventLog DsimEventLog;
/* Opens @path for writing; the log is attached to @w as an observer. */
DsimEventLog *dsim_event_log_new(DsimWorld *w, const char *path, GError **error);
/* Flushes and closes; returns FALSE with @error if a write failed. Frees @log. */
gboolean      dsim_event_log_close(DsimEventLog *log, GError **error);

#endif /* DSIM_REPORT_H */
