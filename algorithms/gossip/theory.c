/* theory.c - the predictions of theory.h, computed the way the papers write them. */
#include "algorithms/gossip/theory.h"

#include <math.h>
#include <string.h>

#include "algorithms/gossip/gossip.h"

double gossip_theory_push_rounds(double n, double k)
{
    if (n <= 1 || k <= 0)
        return 0;
    return log(n) / log(k + 1) + log(n) / k;
}

unsigned gossip_theory_recurrence_rounds(int mode, double n, double k)
{
    if (n <= 1 || k <= 0)
        return 0;
    double s = 1 - 1 / n;
    double miss = n > 1 + k ? log1p(-k / (n - 1)) : -INFINITY; /* ln(1 - k/(N-1)) */
    unsigned r = 0;
    while (n * s >= 0.5 && r < 100000) {
        double next = s;
        if (mode != GOSSIP_MODE_PUSH)
            next *= pow(s, k);
        if (mode != GOSSIP_MODE_PULL)
            next *= exp(miss * n * (1 - s));
        s = next;
        r++;
    }
    return r;
}

double gossip_theory_rounds(int mode, double n, double k)
{
    if (mode == GOSSIP_MODE_PUSH)
        return gossip_theory_push_rounds(n, k);
    return gossip_theory_recurrence_rounds(mode, n, k);
}

/* s = e^{-(c+1)(1-s)} has the root s = 1 and one root in (0, 1) for c >= 1 (the right side
 * is convex in s and crosses the diagonal at s = 1 with slope c + 1 > 1). Bisection on
 * f(s) = s - e^{-(c+1)(1-s)}, which is negative at 0+ and positive just left of 1. */
double gossip_theory_residue(double c)
{
    double lo = 1e-300, hi = 1 - 1e-12;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2;
        if (mid - exp(-(c + 1) * (1 - mid)) > 0)
            hi = mid;
        else
            lo = mid;
    }
    return (lo + hi) / 2;
}

double gossip_theory_async_push_rounds(double n, double k)
{
    if (n <= 1 || k <= 0)
        return 0;
    return 2 * log(n) / k;
}

/* State: s, and the infective fraction by useless contacts so far, inf[j] for j < c (the
 * coin rule needs only inf[0]). Members informed in a round push from the next one. */
GossipTheoryStop gossip_theory_stop(int stop, double n, unsigned k, unsigned c)
{
    GossipTheoryStop out = { 0 };
    if (n <= 2 || k == 0 || c == 0)
        return out;
    unsigned states = stop == GOSSIP_STOP_COUNTER ? c : 1;
    double *inf = g_new0(double, states), *next = g_new0(double, states);
    double *binom = g_new(double, k + 1);
    double s = 1 - 1 / n, miss = log1p(-1 / (n - 1));
    inf[0] = 1 / n;
    bool dead = false;
    for (unsigned r = 0; r < 100000; r++) {
        double hot = 0;
        for (unsigned j = 0; j < states; j++)
            hot += inf[j];
        if (!dead && n * hot < 0.5) {
            out.rounds = r;
            dead = true;
        }
        if (hot < 1e-15)
            break;
        double s_next = s * exp(miss * k * hot * n);
        double pushes = k * hot;                  /* per member, this round */
        double u = pushes > 0 ? 1 - (s - s_next) / pushes : 0; /* useless fraction */
        if (u < 0)
            u = 0;
        /* binom[x] = P(x useless among k) */
        double coef = 1;
        for (unsigned x = 0; x <= k; x++) {
            binom[x] = coef * pow(u, x) * pow(1 - u, k - x);
            coef = coef * (k - x) / (x + 1);
        }
        for (unsigned j = 0; j < states; j++)
            next[j] = 0;
        for (unsigned j = 0; j < states; j++) {
            for (unsigned x = 0; inf[j] > 0 && x <= k; x++) {
                if (stop == GOSSIP_STOP_COIN)
                    next[0] += inf[j] * binom[x] * pow(1 - 1.0 / c, x);
                else if (j + x < c)
                    next[j + x] += inf[j] * binom[x];
            }
        }
        next[0] += s - s_next;
        double *t = inf;
        inf = next;
        next = t;
        s = s_next;
        out.traffic += pushes;
    }
    out.residue = s;
    g_free(inf);
    g_free(next);
    g_free(binom);
    return out;
}

/* ---- pull and push-pull under the stop rules: the phase-slot recurrence ------------------ */

/* Slots per round. The predictions move by under 2% (relative) from 64 slots to 256. */
#define PHASES 64

/* pmf[x] = P(Poisson(lambda) = x) for x < len. Returns how many of them matter: beyond,
 * every term is below 1e-20 (masses here are at most 1, and the loops stop at 1e-15). */
static unsigned poisson_pmf(double lambda, unsigned len, double *pmf)
{
    double p = exp(-lambda);
    for (unsigned x = 0; x < len; x++) {
        if (x > lambda && p < 1e-20)
            return x;
        pmf[x] = p;
        p = p * lambda / (x + 1);
    }
    return len;
}

/* The fraction of members hot at a moment when each has received Poisson(lambda) useless
 * pulls this round, from the rows @row (count of useless contacts -> mass) of @states. */
static double still_hot(int stop, unsigned c, unsigned states, const double *row, double lambda,
                        double *pmf)
{
    if (stop == GOSSIP_STOP_COIN)
        return row[0] * exp(-lambda / c);
    unsigned terms = poisson_pmf(lambda, states, pmf);
    double hot = 0, cdf = 0; /* cdf = P(Poisson < c - j), built from j = c - 1 down */
    for (unsigned j = states; j-- > 0;) {
        if (states - 1 - j < terms)
            cdf += pmf[states - 1 - j];
        hot += row[j] * cdf;
    }
    return hot;
}

/* Feedback on one slot's pushes: each hot member of @row made k pushes, each useless with
 * probability @u, and stops by the rule (mass whose count reaches c leaves the row). */
static void take_feedback(int stop, unsigned c, unsigned states, unsigned k, double u,
                          double *row, double *binom)
{
    if (stop == GOSSIP_STOP_COIN) {
        row[0] *= pow(1 - u / c, k);
        return;
    }
    double coef = 1;
    for (unsigned x = 0; x <= k; x++) {
        binom[x] = coef * pow(u, x) * pow(1 - u, k - x);
        coef = coef * (k - x) / (x + 1);
    }
    for (unsigned j = states; j-- > 0;) { /* in place, high counts first */
        double m = 0;
        for (unsigned x = 0; x <= k && x <= j; x++)
            m += row[j - x] * binom[x];
        row[j] = m;
    }
}

/* @to = @from after Poisson(lambda) more useless contacts each (the pulls of a round). */
static void take_pulls(int stop, unsigned c, unsigned states, double lambda, const double *from,
                       double *to, double *pmf)
{
    if (stop == GOSSIP_STOP_COIN) {
        to[0] = from[0] * exp(-lambda / c);
        return;
    }
    unsigned terms = poisson_pmf(lambda, states, pmf);
    for (unsigned j = 0; j < states; j++) {
        double m = 0;
        for (unsigned x = 0; x <= j && x < terms; x++)
            m += from[j - x] * pmf[x];
        to[j] = m;
    }
}

/* State at a round's start: s[i], the uninformed fraction of slot i; h, the hot members as
 * rows of mass (a fraction of all members) by useless count, one row per slot with push (a
 * hot member's slot is when it pushes and hears feedback), one row with pull alone (a hot
 * member only answers, whatever its slot). Then the slots tick in order, slot i at time
 * (i + 1/2) / PHASES of the round, and lambda counts the useless pulls each hot member has
 * received so far; at the round's end they are applied, and the newly informed join the
 * hot rows with no useless contact. */
GossipTheoryStop gossip_theory_stop_phased(int mode, int stop, double n, unsigned k, unsigned c)
{
    GossipTheoryStop out = { 0 };
    if (n <= 2 || k == 0 || c == 0)
        return out;
    if (k > n - 1)
        k = (unsigned) (n - 1); /* gossip_pick_peers() finds no more */
    bool push = mode != GOSSIP_MODE_PULL, pull = mode != GOSSIP_MODE_PUSH;
    unsigned states = stop == GOSSIP_STOP_COUNTER ? c : 1, rows = push ? PHASES : 1;
    size_t cells = (size_t) rows * states;
    double q = n / (n - 1);                /* a peer is one of the N - 1 others */
    double miss = n * log1p(-1 / (n - 1)); /* ln P(a push per member misses a given one) */
    double s[PHASES], fail[PHASES];        /* fail: P(slot i's own pull found nobody hot) */
    double *h = g_new0(double, cells), *d = g_new0(double, cells); /* d: h after feedback */
    double *agg = g_new0(double, states);  /* sum of the rows of d */
    double *pmf = g_new(double, states), *binom = g_new(double, k + 1);

    for (unsigned i = 0; i < PHASES; i++)
        s[i] = 1 - 1 / n;
    for (unsigned r = 0; r < rows; r++)
        h[(size_t) r * states] = 1 / n / rows; /* the origin, at any slot */
    bool dead = false;
    for (unsigned round = 0; round < 100000; round++) {
        double hot = 0;
        for (size_t x = 0; x < cells; x++)
            hot += h[x];
        if (!dead && n * hot < 0.5) {
            out.rounds = round;
            dead = true;
        }
        if (hot < 1e-15)
            break;
        memcpy(d, h, cells * sizeof *d);
        memset(agg, 0, states * sizeof *agg);
        for (size_t x = 0; x < cells; x++)
            agg[x % states] += h[x];
        double lambda = 0, escaped = 1, uninformed = 0; /* escaped: every push so far */
        for (unsigned i = 0; i < PHASES; i++)
            uninformed += s[i] / PHASES;
        for (unsigned i = 0; i < PHASES; i++) {
            double sigma = s[i] * escaped; /* slot i's uninformed share as it ticks */
            double useless = pull ? q * k * (1 - sigma) / PHASES : 0; /* its informed ask */
            double mid = lambda + useless / 2;
            fail[i] = 1;
            if (pull) {
                double theta = fmin(1, q * still_hot(stop, c, states, agg, mid, pmf));
                fail[i] = pow(1 - theta, k);
                out.traffic += sigma / PHASES * k * theta; /* answers carrying the rumor */
                uninformed -= sigma * (1 - fail[i]) / PHASES;
            }
            if (push) {
                double *row = d + (size_t) i * states;
                double pushers = still_hot(stop, c, states, row, mid, pmf);
                double informed = uninformed * -expm1(miss * k * pushers);
                double u = pushers > 0 ? fmax(0, 1 - informed / (k * pushers)) : 0;
                for (unsigned j = 0; j < states; j++)
                    agg[j] -= row[j];
                take_feedback(stop, c, states, k, u, row, binom);
                for (unsigned j = 0; j < states; j++)
                    agg[j] += row[j];
                out.traffic += k * pushers;
                escaped *= exp(miss * k * pushers);
                uninformed -= informed;
            }
            lambda += useless;
        }
        for (unsigned r = 0; r < rows; r++)
            take_pulls(stop, c, states, lambda, d + (size_t) r * states, h + (size_t) r * states,
                       pmf);
        for (unsigned i = 0; i < PHASES; i++) {
            double left = s[i] * fail[i] * escaped;
            h[(size_t) (push ? i : 0) * states] += (s[i] - left) / PHASES;
            s[i] = left;
        }
    }
    for (unsigned i = 0; i < PHASES; i++)
        out.residue += s[i] / PHASES;
    g_free(h);
    g_free(d);
    g_free(agg);
    g_free(pmf);
    g_free(binom);
    return out;
}

GossipTheoryStop gossip_theory_stop_mode(int mode, int stop, double n, unsigned k, unsigned c)
{
    if (mode == GOSSIP_MODE_PUSH)
        return gossip_theory_stop(stop, n, k, c);
    return gossip_theory_stop_phased(mode, stop, n, k, c);
}
