/* dist.h - random durations: the distributions of SCENARIO-FORMAT.md.
 *
 * "10ms" (constant), "uniform(5ms,15ms)", "normal(10ms,2ms)" (truncated at 0),
 * "exp(10ms)" (mean), "lognormal(10ms,0.5)" (median, sigma), "pareto(5ms,1.5)" (scale,
 * shape), and "mix(0.9:uniform(0ms,27ms), 0.1:uniform(200ms,2200ms))" (weights sum to 1,
 * nesting allowed). A draw uses floating point once and is converted to integer nanoseconds
 * immediately (rounded to nearest); the number of PRNG draws per sample is fixed per
 * distribution kind so that streams stay aligned.
 */
#ifndef DSIM_DIST_H
#define DSIM_DIST_H

#include "sim/dsim.h"
#include "sim/rng.h"

typedef enum {
    DSIM_DIST_CONST,
    DSIM_DIST_UNIFORM,
    DSIM_DIST_NORMAL,
    DSIM_DIST_EXP,
    DSIM_DIST_LOGNORMAL,
    DSIM_DIST_PARETO,
    DSIM_DIST_MIX,
} DsimDistKind;

typedef struct DsimDist DsimDist;
struct DsimDist {
    DsimDistKind kind;
    DsimTime     a, b;  /* CONST: a. UNIFORM: [a,b]. NORMAL: mean a, sd b. EXP: mean a.
                           LOGNORMAL: median a. PARETO: scale a. */
    double       shape; /* LOGNORMAL: sigma. PARETO: shape (alpha > 0). */
    unsigned     n;     /* MIX: number of components */
    double      *weight;      /* MIX: n weights summing to 1 (owned) */
    DsimDist    *component;   /* MIX: n components (owned) */
};

/* Parses @text into a new distribution. On failure returns NULL and sets *why to a
 * newly-allocated sentence saying what is wrong and how to fix it (caller frees; @why may
 * be NULL). Durations in a distribution may not exceed 10 years. */
DsimDist *dsim_dist_parse(const char *text, char **why);
DsimDist *dsim_dist_new_const(DsimTime t); /* 0 <= t <= 10 years */
DsimDist *dsim_dist_copy(const DsimDist *d);
void      dsim_dist_free(DsimDist *d); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimDist, dsim_dist_free)

/* Draws one duration, 0 .. 10 years (longer draws are clamped). CONST draws nothing from
 * @rng; see the top of this file for the other kinds. */
DsimTime  dsim_dist_sample(const DsimDist *d, DsimRng *rng);
/* The exact mean in ns where it is finite (pareto with shape <= 1: DSIM_TIME_NEVER), of the
 * distribution as written: NORMAL gives its untruncated mean, and the 10-year clamp is
 * ignored. */
double    dsim_dist_mean(const DsimDist *d);
/* Appends the canonical text form (round-trips through dsim_dist_parse). */
void      dsim_dist_format(const DsimDist *d, GString *out);

#endif /* DSIM_DIST_H */
