/* theory.c - the predictions of theory.h, computed the way the papers write them. */
#include "algorithms/gossip/theory.h"

#include <math.h>

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
    for (unsigned r = 0; r < 100000; r++) {
        double hot = 0;
        for (unsigned j = 0; j < states; j++)
            hot += inf[j];
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
        out.rounds = r + 1;
    }
    out.residue = s;
    g_free(inf);
    g_free(next);
    g_free(binom);
    return out;
}
