/* theory.h - what the analyses predict for rumor spreading, printed beside what dsim measures.
 *
 * Rounds to full infection (every member informed), never-stopping rumors, synchronous rounds
 * in which each informed member contacts k = fanout distinct random members:
 *
 *  - push: log_{k+1}(N) + ln(N) / k. For k = 1 this is Pittel's log2(N) + ln(N) + O(1)
 *    ("On spreading a rumor", SIAM J. Appl. Math. 47, 1987); the first term is the phase in
 *    which the informed set grows (k+1)-fold per round, the second the phase in which each
 *    uninformed member escapes all k*N pushes of a round with probability e^{-k}
 *    (Karp, Schindelhauer, Shenker & Vöcking, "Randomized rumor spreading", FOCS 2000, §1).
 *  - pull and push-pull: the mean-field recurrence of Demers et al. 1987, §1.3, for the
 *    fraction s_r of members still uninformed after round r, started at 1 - 1/N and run
 *    until N * s_r < 1/2:
 *        push       s' = s (1 - k/(N-1))^{N(1-s)}           (missed by every push)
 *        pull       s' = s * s^k                            (every member asked was uninformed)
 *        push-pull  s' = s * s^k * (1 - k/(N-1))^{N(1-s)}
 *    Demers' "p_{i+1} = p_i^2" for pull is the k = 1 case; Karp et al. give push-pull
 *    log3(N) + O(log log N) rounds for k = 1.
 *
 * Residue under the counter and coin stop rules with feedback (push). Demers §1.4 derives,
 * for "lose interest with probability 1/k after a useless contact" and one contact per
 * cycle, s = e^{-(k+1)(1-s)} (written with c for k here, since k is the fanout). A counting
 * argument shows why, and that the counter rule (lose interest after c useless contacts)
 * gives the same equation in the large-N limit: every push is one contact, so a member
 * escapes all of them with probability s = e^{-m}, m the pushes per member (§1.4 notes this
 * relation between residue and traffic); every informed member was informed by exactly one
 * useful push and makes c useless ones on average before it stops, so m = (c+1)(1-s). For
 * c = 1 this is the Maki-Thompson rumor, whose residue 0.203 Sudbury proved in 1985 ("The
 * proportion of the population never hearing a rumour", J. Appl. Prob. 22).
 *
 * With fanout k > 1 a member sends k pushes per round before any feedback comes back, so it
 * makes more than c useless contacts before it stops, and the residue is smaller than the
 * equation's. dsim therefore predicts with the same model run in synchronous rounds (a
 * mean-field recurrence): per round, N*s susceptible members are missed by all k*I*N pushes
 * with probability (1 - 1/(N-1))^{k I N}; the pushes that informed nobody new are the useless
 * ones, a fraction u of this round's; each infective makes Binomial(k, u) useless contacts
 * and, by the rule, stops (coin: each with probability 1/c; counter: once its total reaches
 * c); the newly informed push from the next round. For k = 1 it gives Demers' residue (0.2032,
 * 0.0595, 0.0198, 0.0070 for c = 1..4 at N = 10^6); tests/algorithms/test_gossip.c checks
 * both against runs.
 *
 * Pull and push-pull under the same rules (§1.4, variation 3, "Push vs. Pull"), as rumor.c
 * runs them: every member, informed or not, asks k peers once a round at its own phase,
 * fixed for life; an asked hot member sends the rumor if the asker's digest lacks it, and
 * otherwise counts a useless contact. A hot member is thus worn out by the informed members
 * that ask it, Poisson(k(1-s)) a round, in phase order: it may lose interest in mid-round and
 * fail the uninformed that ask later, and since phases never change, the same members ask
 * late every round and make up the residue. A round-level recurrence misses both (0.07 for
 * pull, c = 1, k = 1, against 0.16 in runs; the fixed phases alone add 3% to the residue at
 * c = 1 and 18% at c = 3), so dsim cuts the round into 64 phase slots with s_i the
 * uninformed fraction of slot i, and goes through the slots in order with L, the useless
 * pulls each hot member has received so far this round:
 *     L += k (1 - s_i) / 64                      slot i's informed members ask
 *     theta = sum over hot members (j useless contacts) of P(j + Poisson(L) < c),
 *             e^{-L/c} per hot member for coin   the fraction still hot
 *     s_i' = s_i (1 - theta)^k                   slot i's uninformed members ask
 * In push-pull, a slot's hot members also push as in the push model above (each push misses
 * a given uninformed member with probability 1 - 1/(N-1); Binomial(k, u) useless ones come
 * back as feedback): a push-pull member is worn out from both sides, and stops sooner than a
 * pull member at the same c. The newly informed are hot from the next round with no useless
 * contact. For push the slots change nothing (nothing a push member receives depends on its
 * phase), and the model gives gossip_theory_stop() back. N = 1000, k = 1, c = 1..3: predicted
 * 0.160, 0.027, 0.0037 for pull and 0.195, 0.048, 0.012 for push-pull; seeds 1..100 measure
 * 0.160, 0.026, 0.0036 and 0.193, 0.046, 0.011. Network delays are left out: with 5-15 ms in
 * a 1 s round, the last askers of a round reach members informed earlier in it, which lowers
 * push-pull's residue by a few percent.
 *
 * Traffic is rumor-carrying messages per member (pushes, and answers that carry the rumor),
 * as Demers counts update traffic; requests, digests and feedback are not counted. Rounds
 * until the rumor dies: the first round that starts with fewer than half a member hot,
 * which is the round (counted from the injection, round 0) in which the last member loses
 * interest.
 *
 * Pure functions of their arguments; floating point, used only for printed figures.
 */
#ifndef DSIM_GOSSIP_THEORY_H
#define DSIM_GOSSIP_THEORY_H

#include "sim/dsim.h"

/* The closed form log_{k+1}(n) + ln(n)/k (push). */
double gossip_theory_push_rounds(double n, double k);

/* Rounds of the mean-field recurrence above for @mode (GossipMode). */
unsigned gossip_theory_recurrence_rounds(int mode, double n, double k);

/* The predicted rounds dsim prints: the closed form for push, the recurrence otherwise. */
double gossip_theory_rounds(int mode, double n, double k);

/* Rounds of asynchronous push (rounds=async: every member pushes at its own phase whatever
 * it learned in the round): 2 ln(N) / k. Each member's pushes form a renewal process of rate
 * k per period, so the spread behaves as first-passage percolation on the complete graph,
 * where reaching everyone from one vertex takes 2 ln(N) / rate (Janson, "One, two and three
 * times log n/n for paths in a complete graph with random weights", 1999): ln(N)/k to reach
 * half the members and as long again for the last ones. */
double gossip_theory_async_push_rounds(double n, double k);

/* Demers' residue: the s in (0, 1) solving s = e^{-(c+1)(1-s)}; c >= 1. */
double gossip_theory_residue(double c);

/* The synchronous-round recurrence above for push with stop rule @stop (GossipStop, not
 * never), fanout @k, parameter @c: the residue, the rumor pushes per member (Demers' traffic
 * m; feedback messages not counted) and the rounds until the rumor dies (see above). */
typedef struct {
    double   residue;
    double   traffic;
    unsigned rounds;
} GossipTheoryStop;
GossipTheoryStop gossip_theory_stop(int stop, double n, unsigned k, unsigned c);

/* The phase-slot recurrence above for @mode (GossipMode) with stop rule @stop (not never):
 * the residue, the rumor-carrying messages per member (pull: answers that carry the rumor;
 * push-pull: those and the pushes; push: the pushes) and the rounds until the rumor dies.
 * For push it agrees with gossip_theory_stop() to within 0.001. */
GossipTheoryStop gossip_theory_stop_phased(int mode, int stop, double n, unsigned k, unsigned c);

/* What dsim prints for @mode: gossip_theory_stop() for push, the phase-slot recurrence for
 * pull and push-pull. */
GossipTheoryStop gossip_theory_stop_mode(int mode, int stop, double n, unsigned k, unsigned c);

#endif /* DSIM_GOSSIP_THEORY_H */
