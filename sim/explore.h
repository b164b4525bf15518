/* explore.h - many runs of one scenario: seed exploration with random fault schedules,
 * shrinking a failing run to a small reproducer, and parameter sweeps.
 *
 * Every run here is an ordinary world built from a loaded scenario that is never modified
 * while runs are in flight: variants (another fault list, a shorter duration, other protocol
 * parameters) go in through DsimWorldOptions. Runs share nothing mutable, so they go to worker
 * threads (GThreadPool) and land in an array indexed by seed: the results, and every file
 * written from them, are the same whatever the number of jobs.
 */
#ifndef DSIM_EXPLORE_H
#define DSIM_EXPLORE_H

#include "sim/scenario.h"
#include "sim/world.h"

/* What one run left behind. */
typedef struct {
    uint64_t  seed;
    bool      passed;
    uint64_t  hash;
    uint64_t  events;
    DsimTime  end_time;
    char     *failed;     /* names of the failed checks, comma-separated, in verdict order; "" if none */
    char     *first;      /* the check that failed first (earliest event), or NULL */
    DsimTime  first_time; /* when it failed */
    GArray   *figures;    /* DsimFigure: each metric's mean in this run (a count's number of
                             events), in name order */
    uint64_t  ops;        /* client operations invoked */
} DsimRunSummary;

typedef struct {
    char  *name;
    double value;
    uint64_t count;
} DsimFigure;

void dsim_run_summary_clear(DsimRunSummary *s);

/* A fault list for one run: the scenario's faults it keeps, plus generated ones. */
typedef struct {
    GArray *faults;  /* DsimFaultSpec (entries from the scenario are shallow copies) */
    GArray *origin;  /* int per fault: index in the scenario's <faults>, or -1 if generated */
    GArray *owned;   /* internal: what the generated specs allocated, freed with the plan */
} DsimFaultPlan;

/* The scenario's own faults, plus, for each nemesis kind in @kinds (NULL-terminated, may be
 * NULL), a random schedule of explicit faults drawn from the stream "faults/random" of
 * @seed: 1 to 4 episodes at random times in the middle 80% of the run, each doing harm and
 * undoing it (crash then restart, partition then heal...). Returns NULL and sets @error for an
 * unknown kind. Free with dsim_fault_plan_free(). */
DsimFaultPlan *dsim_fault_plan_new(const DsimScenario *sc, uint64_t seed, const char *const *kinds,
                                   GError **error);
void           dsim_fault_plan_free(DsimFaultPlan *p); /* accepts NULL */
/* A plan holding the faults of @p at the positions in @keep (guint), sharing @p's memory. */
DsimFaultPlan *dsim_fault_plan_subset(const DsimFaultPlan *p, const GArray *keep);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimFaultPlan, dsim_fault_plan_free)

/* The nemesis kinds --nemesis accepts, '|'-separated, for messages. */
extern const char dsim_nemesis_kinds[];

/* Runs @sc once. @faults (NULL: the scenario's), @duration (0: the scenario's) and @configs
 * (NULL: the scenario's) select a variant. Thread-safe for concurrent calls on the same @sc. */
void dsim_explore_run_one(const DsimScenario *sc, uint64_t seed, const GArray *faults,
                          DsimTime duration, const void *const *configs, DsimRunSummary *out);

/* Runs seeds lo..hi (every @shard_n-th from lo + shard_i) on @jobs threads, each with the
 * random faults of @kinds (may be NULL) and the protocol configs @configs (may be NULL). @progress, if
 * not NULL, is called from the calling thread about ten times a second with (done, total).
 * Returns the summaries in seed order (GArray of DsimRunSummary; free with
 * dsim_run_summaries_free). */
GArray *dsim_explore_seeds(const DsimScenario *sc, uint64_t lo, uint64_t hi, unsigned shard_i,
                           unsigned shard_n, const char *const *kinds, const void *const *configs,
                           unsigned jobs,
                           void (*progress)(unsigned done, unsigned total, void *data), void *data);
void    dsim_run_summaries_free(GArray *runs);

/* Shrinking: the result of dsim_explore_shrink. */
typedef struct {
    char     *check;       /* the failed check kept failing */
    unsigned  faults_before, faults_after;
    uint64_t  events_before, events_after;
    DsimTime  duration_before, duration_after;
    uint64_t  ops_before, ops_after;   /* client operations invoked */
    unsigned  runs;        /* runs it took */
    DsimFaultPlan *plan;   /* the minimal fault list (owns nothing; see keep) */
    GArray   *keep;        /* guint positions into the full plan */
} DsimShrinkResult;

void dsim_shrink_result_clear(DsimShrinkResult *r);

/* Minimizes the failing run (@sc, @seed, @full) while the same check still fails: delta
 * debugging (Zeller & Hildebrandt's ddmin) over the faults, then the shortest duration, then
 * fewer client operations (lower rates, fewer clients: this temporarily changes @sc's
 * workloads and leaves the smallest that still fails). Returns false when the run passes. */
bool dsim_explore_shrink(DsimScenario *sc, uint64_t seed, const DsimFaultPlan *full,
                         DsimShrinkResult *out);

/* Writes a standalone reproducer: the scenario file @src with name, seed and duration set,
 * its <faults> reduced to the kept ones and the generated faults written out explicitly, and
 * the "GROUP.PARAM=VALUE" settings of @params (NULL-terminated, may be NULL: the --param
 * the run was made with) written into the groups' <param> elements.
 * The file is written to a temporary name and renamed. */
gboolean dsim_explore_write_reproducer(const DsimScenario *sc, const char *src, const char *dst,
                                       uint64_t seed, const DsimFaultPlan *full, const GArray *keep,
                                       DsimTime duration, char **params, GError **error);

#endif /* DSIM_EXPLORE_H */
