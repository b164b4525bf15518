/* test_dist.c - distributions: the text form both ways, the draws, and the rejections.
 *
 * The statistical tests draw 200000 samples from a fixed seed and compare what they see
 * with what the distribution promises: the mean within a tolerance stated next to each row
 * (five or more standard errors, from the distribution's own standard deviation), bounds
 * that must hold for every sample, and fractions (median, tail, component weight) within
 * a few thousandths. Fixed seeds make them deterministic; the bounds make them meaningful.
 */
#include "tests/unit/tests.h"
#include "sim/dist.h"

#include <math.h>
#include <string.h>

#define N_DRAWS 200000

/* The clamp of sim/dist.c: 10 years of 365.25 days. */
#define TEN_YEARS DSIM_S(315576000LL)

static DsimDist *parse_ok(const char *text)
{
    char *why = NULL;
    DsimDist *d = dsim_dist_parse(text, &why);
    if (d == NULL)
        g_printerr("\n  dsim_dist_parse(\"%s\"): %s", text, why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_PTR_NULL(why);
    return d;
}

static char *format(const DsimDist *d)
{
    GString *s = g_string_new("");
    dsim_dist_format(d, s);
    return g_string_free(s, FALSE);
}

/* ---- parsing ------------------------------------------------------------------------ */

static void test_parses_every_kind_into_its_fields(void)
{
    g_autoptr(DsimDist) c = parse_ok("10ms");
    CU_ASSERT_EQUAL(c->kind, DSIM_DIST_CONST);
    CU_ASSERT_EQUAL(c->a, DSIM_MS(10));

    g_autoptr(DsimDist) u = parse_ok("uniform(5ms,15ms)");
    CU_ASSERT_EQUAL(u->kind, DSIM_DIST_UNIFORM);
    CU_ASSERT_EQUAL(u->a, DSIM_MS(5));
    CU_ASSERT_EQUAL(u->b, DSIM_MS(15));

    g_autoptr(DsimDist) n = parse_ok("normal(10ms,2ms)");
    CU_ASSERT_EQUAL(n->kind, DSIM_DIST_NORMAL);
    CU_ASSERT_EQUAL(n->a, DSIM_MS(10));
    CU_ASSERT_EQUAL(n->b, DSIM_MS(2));

    g_autoptr(DsimDist) e = parse_ok("exp(10ms)");
    CU_ASSERT_EQUAL(e->kind, DSIM_DIST_EXP);
    CU_ASSERT_EQUAL(e->a, DSIM_MS(10));

    g_autoptr(DsimDist) l = parse_ok("lognormal(10ms,0.5)");
    CU_ASSERT_EQUAL(l->kind, DSIM_DIST_LOGNORMAL);
    CU_ASSERT_EQUAL(l->a, DSIM_MS(10));
    CU_ASSERT_EQUAL(l->shape, 0.5);

    g_autoptr(DsimDist) p = parse_ok("pareto(5ms,1.5)");
    CU_ASSERT_EQUAL(p->kind, DSIM_DIST_PARETO);
    CU_ASSERT_EQUAL(p->a, DSIM_MS(5));
    CU_ASSERT_EQUAL(p->shape, 1.5);

    g_autoptr(DsimDist) m = parse_ok("mix(0.9:uniform(0ms,27ms), 0.1:uniform(200ms,2200ms))");
    CU_ASSERT_EQUAL(m->kind, DSIM_DIST_MIX);
    CU_ASSERT_EQUAL_FATAL(m->n, 2);
    CU_ASSERT_EQUAL(m->weight[0], 0.9);
    CU_ASSERT_EQUAL(m->weight[1], 0.1);
    CU_ASSERT_EQUAL(m->component[0].kind, DSIM_DIST_UNIFORM);
    CU_ASSERT_EQUAL(m->component[0].b, DSIM_MS(27));
    CU_ASSERT_EQUAL(m->component[1].a, DSIM_MS(200));
    CU_ASSERT_EQUAL(m->component[1].b, DSIM_MS(2200));
}

static void test_formats_canonically_and_round_trips(void)
{
    static const struct {
        const char *text, *canonical;
    } cases[] = {
        { "10ms", "10ms" },
        { "0", "0s" },
        { " 1.5s ", "1.5s" },
        { "uniform(5ms,15ms)", "uniform(5ms,15ms)" },
        { " uniform ( 5ms , 15ms ) ", "uniform(5ms,15ms)" },
        { "uniform(0ms,27ms)", "uniform(0s,27ms)" },
        { "normal(10ms,2ms)", "normal(10ms,2ms)" },
        { "normal( 10ms ,\t0s)", "normal(10ms,0s)" },
        { "exp(1500ms)", "exp(1.5s)" },
        { "lognormal(10ms,0.5)", "lognormal(10ms,0.5)" },
        { "lognormal(1h, 1e-05)", "lognormal(1h,1e-05)" },
        { "lognormal(1h,40)", "lognormal(1h,40)" },
        { "pareto(1h,1e20)", "pareto(1h,1e+20)" },
        { "pareto(1h,123456.75)", "pareto(1h,123456.75)" },
        { "pareto(5ms,1.5)", "pareto(5ms,1.5)" },
        { "pareto(1us,0.3333333333333333)", "pareto(1us,0.3333333333333333)" },
        { "mix(0.9:uniform(0ms,27ms), 0.1:uniform(200ms,2200ms))",
          "mix(0.9:uniform(0s,27ms), 0.1:uniform(200ms,2.2s))" },
        { " mix ( 0.9 : uniform ( 0ms , 27ms ) ,0.1:uniform(200ms, 2200ms) ) ",
          "mix(0.9:uniform(0s,27ms), 0.1:uniform(200ms,2.2s))" },
        { "mix(0.5:10ms, 0.5:mix(0.25:1s, 0.75 : exp(2ms)))",
          "mix(0.5:10ms, 0.5:mix(0.25:1s, 0.75:exp(2ms)))" },
        { "mix(1:0)", "mix(1:0s)" },
        { "mix(0.1:1ms,0.2:2ms,0.7:3ms)", "mix(0.1:1ms, 0.2:2ms, 0.7:3ms)" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(DsimDist) d = parse_ok(cases[i].text);
        g_autofree char *once = format(d);
        if (strcmp(once, cases[i].canonical) != 0)
            g_printerr("\n  \"%s\"\n  ==> expected %s\n  ==> actual   %s", cases[i].text,
                       cases[i].canonical, once);
        CU_ASSERT_STRING_EQUAL(once, cases[i].canonical);

        g_autoptr(DsimDist) again = parse_ok(once);
        g_autofree char *twice = format(again);
        CU_ASSERT_STRING_EQUAL(twice, once);
        CU_ASSERT_EQUAL(dsim_dist_mean(again), dsim_dist_mean(d));
    }
}

static void test_rejects_bad_input_with_a_message(void)
{
    /* Each message must contain the fragment: enough to tell which check fired. */
    static const struct {
        const char *text, *fragment;
    } cases[] = {
        { "", "empty distribution" },
        { "   ", "empty distribution" },
        { "uniform(5ms)", "\"uniform(5ms)\" needs two durations: uniform(LO,HI)" },
        { "uniform(5ms,15ms,20ms)", "needs two durations" },
        { "uniform(15ms,5ms)", "low end above its high end (write uniform(5ms,15ms))" },
        { "uniform(5ms,)", "\"uniform(5ms,)\" is missing its high end" },
        { "uniform(5ms,15)", "\"15\" in \"uniform(5ms,15)\" is not a duration" },
        { "uniform(5ms, 1.5ns)", "\"1.5ns\" in \"uniform(5ms, 1.5ns)\" is not a duration" },
        { "unifrom(5ms,15ms)", "\"unifrom\" is not a distribution (write 10ms, uniform(LO,HI)" },
        { "Uniform(5ms,15ms)", "\"Uniform\" is not a distribution" },
        { "uniform", "\"uniform\" is not a distribution" },
        { "uniform(5ms,15ms", "\"uniform(5ms,15ms\" is missing a closing parenthesis" },
        { "uniform(5ms,15ms))", "unexpected \")\" after \"uniform(5ms,15ms)\"" },
        { "uniform(5ms,15ms) x", "unexpected \"x\" after \"uniform(5ms,15ms)\"" },
        { "normal(10ms)", "needs a mean and a standard deviation" },
        { "normal(-1ms,2ms)", "\"-1ms\" in \"normal(-1ms,2ms)\" is not a duration" },
        { "exp()", "\"exp()\" needs one duration, the mean: exp(MEAN)" },
        { "exp(1ms,2ms)", "needs one duration, the mean" },
        { "exp(uniform(1ms,2ms))", "\"uniform(1ms,2ms)\" in \"exp(uniform(1ms,2ms))\" is not" },
        { "lognormal(10ms)", "needs a median duration and a sigma" },
        { "lognormal(0s,0.5)", "the median in \"lognormal(0s,0.5)\" must be above 0" },
        { "lognormal(10ms,x)", "\"x\" in \"lognormal(10ms,x)\" is not a number" },
        { "lognormal(10ms,-0.5)", "the sigma in \"lognormal(10ms,-0.5)\" must be above 0" },
        { "lognormal(10ms,0)", "the sigma in \"lognormal(10ms,0)\" must be above 0" },
        { "pareto(5ms,0)", "the shape in \"pareto(5ms,0)\" must be above 0" },
        { "pareto(5ms,nan)", "\"nan\" in \"pareto(5ms,nan)\" is not a number" },
        { "pareto(5ms,inf)", "is not a number" },
        { "pareto(5ms,1e999)", "is not a number" },
        { "pareto(0s,1.5)", "the scale in \"pareto(0s,1.5)\" must be above 0" },
        { "pareto(5ms)", "needs a scale duration and a shape" },
        { "mix()", "\"mix()\" has no components" },
        { "mix(0.9:10ms, 20ms)", "\"20ms\" in \"mix(0.9:10ms, 20ms)\" needs a weight" },
        { "mix(0.5:10ms, 0.3:20ms)", "mix weights sum to 0.8, not 1" },
        { "mix(0.9:10ms, 0.2:20ms)", "mix weights sum to 1.1, not 1" },
        { "mix(0:10ms, 1:20ms)", "\"0\" in \"mix(0:10ms, 1:20ms)\" is not a mix weight" },
        { "mix(1.5:10ms)", "\"1.5\" in \"mix(1.5:10ms)\" is not a mix weight" },
        { "mix(x:10ms)", "is not a mix weight" },
        { "mix(1:)", "empty distribution" },
        { "mix(1:unifrom(1ms,2ms))", "\"unifrom\" is not a distribution" },
        { "mix(1:uniform(2ms,1ms))", "low end above its high end" },
        { "5x", "\"5x\" is not a duration (write a number and a unit" },
        { "5", "\"5\" is not a duration" },
        { "-5ms", "\"-5ms\" is negative: a duration is never below 0" },
        { "mix(1:-5ms)", "\"-5ms\" is negative" },
        { "100000h", "\"100000h\" is longer than 10 years" },
        { "uniform(0s,100000h)", "\"100000h\" in \"uniform(0s,100000h)\" is longer than 10" },
        { "mix(1:mix(1:mix(1:mix(1:mix(1:mix(1:mix(1:mix(1:mix(1:mix(1:mix(1:mix(1:mix(1:"
          "mix(1:mix(1:mix(1:mix(1:1ms)))))))))))))))))", "nested more than 16 levels deep" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *why = NULL;
        DsimDist *d = dsim_dist_parse(cases[i].text, &why);
        bool ok = d == NULL && why != NULL && strstr(why, cases[i].fragment) != NULL;
        if (!ok)
            g_printerr("\n  \"%s\"\n  ==> expected ...%s...\n  ==> actual   %s", cases[i].text,
                       cases[i].fragment, why != NULL ? why : "(accepted)");
        CU_ASSERT_PTR_NULL(d);
        CU_ASSERT_TRUE(ok);
        dsim_dist_free(d);
        g_free(why);
    }

    /* A caller that does not want the reason may pass NULL. */
    CU_ASSERT_PTR_NULL(dsim_dist_parse("uniform(5ms)", NULL));
}

/* ---- means ------------------------------------------------------------------------------ */

static void test_sample_means_match_the_exact_means(void)
{
    /* The tolerance is relative to the mean; the standard error of a 200000-draw mean is
     * sd / 447, given in each comment. */
    static const struct {
        const char *text;
        double      mean;      /* what dsim_dist_mean must return, ns */
        double      tolerance; /* on the sample mean, relative */
    } cases[] = {
        { "10ms", 1e7, 0 },
        /* sd 2.89ms: se 6.5us = 0.065% */
        { "uniform(5ms,15ms)", 1e7, 0.005 },
        /* sd 2ms: se 4.5us = 0.045%; truncation at 0 is 5 sd away, invisible */
        { "normal(10ms,2ms)", 1e7, 0.005 },
        /* sd 10ms: se 22us = 0.22% */
        { "exp(10ms)", 1e7, 0.015 },
        /* mean 10ms e^(0.5^2/2) = 11.33ms; sd 6.04ms: se 13.5us = 0.12% */
        { "lognormal(10ms,0.5)", 1e7 * 1.1331484530668263, 0.01 },
        /* mean 5ms 3/2 = 7.5ms; sd 4.33ms: se 9.7us = 0.13% */
        { "pareto(5ms,3)", 7.5e6, 0.01 },
        /* mean 0.9 13.5ms + 0.1 1200ms = 132.15ms; sd 400ms: se 0.9ms = 0.68% */
        { "mix(0.9:uniform(0ms,27ms), 0.1:uniform(200ms,2200ms))", 1.3215e8, 0.04 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(DsimDist) d = parse_ok(cases[i].text);
        DsimRng rng;
        int64_t sum = 0;

        CU_ASSERT_DOUBLE_EQUAL(dsim_dist_mean(d), cases[i].mean, cases[i].mean * 1e-12);
        dsim_rng_init(&rng, 1, cases[i].text);
        for (int k = 0; k < N_DRAWS; k++)
            sum += dsim_dist_sample(d, &rng);
        double mean = (double) sum / N_DRAWS;
        double err = fabs(mean - cases[i].mean) / cases[i].mean;
        if (err > cases[i].tolerance)
            g_printerr("\n  %s: sample mean %.0f, exact %.0f (off by %.3f%%)", cases[i].text,
                       mean, cases[i].mean, 100 * err);
        CU_ASSERT_TRUE(err <= cases[i].tolerance);
    }
}

static void test_mean_is_never_for_pareto_without_a_finite_mean(void)
{
    g_autoptr(DsimDist) p1 = parse_ok("pareto(5ms,1)");
    g_autoptr(DsimDist) p05 = parse_ok("pareto(5ms,0.5)");
    g_autoptr(DsimDist) p15 = parse_ok("pareto(5ms,1.5)");
    g_autoptr(DsimDist) mix = parse_ok("mix(0.99:1ms, 0.01:pareto(5ms,0.9))");

    CU_ASSERT_EQUAL(dsim_dist_mean(p1), (double) DSIM_TIME_NEVER);
    CU_ASSERT_EQUAL(dsim_dist_mean(p05), (double) DSIM_TIME_NEVER);
    CU_ASSERT_EQUAL(dsim_dist_mean(mix), (double) DSIM_TIME_NEVER);
    CU_ASSERT_DOUBLE_EQUAL(dsim_dist_mean(p15), 15e6, 1e-6);
}

static void test_normal_mean_is_the_untruncated_mean(void)
{
    /* Documented: the mean ignores the truncation at 0, which raises the real average. */
    g_autoptr(DsimDist) d = parse_ok("normal(1ms,2ms)");
    CU_ASSERT_EQUAL(dsim_dist_mean(d), 1e6);
}

/* ---- draws ---------------------------------------------------------------------------- */

static void test_draws_a_fixed_count_of_numbers_per_kind(void)
{
    static const struct {
        const char *text;
        int         draws;
    } cases[] = {
        { "10ms", 0 },
        { "uniform(1ms,2ms)", 1 },
        { "uniform(3ms,3ms)", 1 },
        { "normal(10ms,2ms)", 2 },
        { "normal(1ms,5ms)", 2 }, /* clamped at 0 half the time, never redrawn */
        { "exp(10ms)", 1 },
        { "lognormal(10ms,0.5)", 2 },
        { "pareto(5ms,1.5)", 1 },
        { "mix(0.5:normal(1ms,5ms), 0.5:lognormal(1ms,1))", 3 },
        { "mix(0.3:mix(1:exp(1ms)), 0.7:mix(0.5:pareto(1ms,2), 0.5:uniform(1ms,2ms)))", 3 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(DsimDist) d = parse_ok(cases[i].text);
        DsimRng rng, twin, again;
        dsim_rng_init(&rng, 77, "test/draws");
        twin = rng;
        again = rng;
        for (int k = 0; k < 1000; k++) {
            DsimTime x = dsim_dist_sample(d, &rng);
            for (int j = 0; j < cases[i].draws; j++)
                dsim_rng_next(&twin);
            CU_ASSERT_EQUAL_FATAL(memcmp(&rng, &twin, sizeof rng), 0);
            /* and the same stream gives the same samples */
            CU_ASSERT_EQUAL_FATAL(dsim_dist_sample(d, &again), x);
        }
    }

    /* A mix whose components draw differently: one draw to choose, then the chosen one's
     * (none for the constant, whose value exp(1ms) all but never hits exactly). */
    g_autoptr(DsimDist) m = parse_ok("mix(0.5:10ms, 0.5:exp(1ms))");
    DsimRng rng, twin;
    int consts = 0;
    dsim_rng_init(&rng, 78, "test/draws");
    twin = rng;
    for (int k = 0; k < 1000; k++) {
        DsimTime x = dsim_dist_sample(m, &rng);
        consts += x == DSIM_MS(10);
        dsim_rng_next(&twin);
        if (x != DSIM_MS(10))
            dsim_rng_next(&twin);
        CU_ASSERT_EQUAL_FATAL(memcmp(&rng, &twin, sizeof rng), 0);
    }
    CU_ASSERT_TRUE(consts > 400 && consts < 600);
}

static void test_uniform_stays_within_its_bounds_and_reaches_both(void)
{
    g_autoptr(DsimDist) tiny = parse_ok("uniform(5ns,7ns)");
    g_autoptr(DsimDist) wide = parse_ok("uniform(5ms,15ms)");
    g_autoptr(DsimDist) point = parse_ok("uniform(3ms,3ms)");
    unsigned count[3] = { 0 };
    DsimTime lo = INT64_MAX, hi = 0;
    DsimRng rng;

    dsim_rng_init(&rng, 4, "test/uniform");
    for (int k = 0; k < 30000; k++) {
        DsimTime x = dsim_dist_sample(tiny, &rng);
        CU_ASSERT_FATAL(x >= 5 && x <= 7);
        count[x - 5]++;
    }
    /* each 10000 expected; sd 82 */
    for (int k = 0; k < 3; k++)
        CU_ASSERT_TRUE(count[k] > 9600 && count[k] < 10400);

    for (int k = 0; k < N_DRAWS; k++) {
        DsimTime x = dsim_dist_sample(wide, &rng);
        lo = MIN(lo, x);
        hi = MAX(hi, x);
        CU_ASSERT_EQUAL_FATAL(dsim_dist_sample(point, &rng), DSIM_MS(3));
    }
    CU_ASSERT_TRUE(lo >= DSIM_MS(5) && lo < DSIM_MS(5) + DSIM_US(5));
    CU_ASSERT_TRUE(hi <= DSIM_MS(15) && hi > DSIM_MS(15) - DSIM_US(5));
}

static void test_normal_is_clamped_at_zero_never_negative(void)
{
    /* normal(1ms,5ms) is below 0 with probability Phi(-0.2) = 0.4207; those draws become 0.
     * Standard error of the fraction 0.0011; 0.006 is over 5 of them. */
    g_autoptr(DsimDist) d = parse_ok("normal(1ms,5ms)");
    DsimRng rng;
    int zeros = 0;

    dsim_rng_init(&rng, 9, "test/normal");
    for (int k = 0; k < N_DRAWS; k++) {
        DsimTime x = dsim_dist_sample(d, &rng);
        CU_ASSERT_FATAL(x >= 0);
        zeros += x == 0;
    }
    CU_ASSERT_DOUBLE_EQUAL((double) zeros / N_DRAWS, 0.4207, 0.006);
}

static void test_exp_is_never_negative_and_has_the_right_tail(void)
{
    /* P(X > mean) = 1/e = 0.3679; standard error 0.0011. */
    g_autoptr(DsimDist) d = parse_ok("exp(10ms)");
    g_autoptr(DsimDist) zero = parse_ok("exp(0s)");
    DsimRng rng;
    int above = 0;

    dsim_rng_init(&rng, 10, "test/exp");
    for (int k = 0; k < N_DRAWS; k++) {
        DsimTime x = dsim_dist_sample(d, &rng);
        CU_ASSERT_FATAL(x >= 0);
        above += x > DSIM_MS(10);
        CU_ASSERT_EQUAL_FATAL(dsim_dist_sample(zero, &rng), 0);
    }
    CU_ASSERT_DOUBLE_EQUAL((double) above / N_DRAWS, 0.3679, 0.006);
}

static void test_lognormal_median_is_the_median_parameter(void)
{
    /* Half the draws at or below the median, Phi(1) = 0.8413 below median e^sigma;
     * standard errors 0.0011 and 0.0008. */
    g_autoptr(DsimDist) d = parse_ok("lognormal(10ms,0.5)");
    DsimRng rng;
    int below = 0, below_1sd = 0;
    const DsimTime one_sd = (DsimTime) llround(1e7 * exp(0.5));

    dsim_rng_init(&rng, 12, "test/lognormal");
    for (int k = 0; k < N_DRAWS; k++) {
        DsimTime x = dsim_dist_sample(d, &rng);
        CU_ASSERT_FATAL(x >= 0);
        below += x <= DSIM_MS(10);
        below_1sd += x <= one_sd;
    }
    CU_ASSERT_DOUBLE_EQUAL((double) below / N_DRAWS, 0.5, 0.005);
    CU_ASSERT_DOUBLE_EQUAL((double) below_1sd / N_DRAWS, 0.8413, 0.005);
}

static void test_pareto_never_draws_below_its_scale(void)
{
    /* P(X > 2 scale) = 2^-1.5 = 0.3536; standard error 0.0011. */
    g_autoptr(DsimDist) d = parse_ok("pareto(5ms,1.5)");
    DsimRng rng;
    DsimTime lo = INT64_MAX;
    int above = 0;

    dsim_rng_init(&rng, 13, "test/pareto");
    for (int k = 0; k < N_DRAWS; k++) {
        DsimTime x = dsim_dist_sample(d, &rng);
        lo = MIN(lo, x);
        above += x > DSIM_MS(10);
    }
    CU_ASSERT_TRUE(lo >= DSIM_MS(5));
    CU_ASSERT_TRUE(lo < DSIM_MS(5) + DSIM_US(1));
    CU_ASSERT_DOUBLE_EQUAL((double) above / N_DRAWS, 0.3536, 0.006);
}

static void test_mix_picks_each_component_by_its_weight(void)
{
    /* The 0.1 component is the only one that reaches 200ms: fraction 0.1, standard error
     * 0.00067. No draw may fall between the two components. */
    g_autoptr(DsimDist) d = parse_ok("mix(0.9:uniform(0ms,27ms), 0.1:uniform(200ms,2200ms))");
    DsimRng rng;
    int slow = 0;

    dsim_rng_init(&rng, 14, "test/mix");
    for (int k = 0; k < N_DRAWS; k++) {
        DsimTime x = dsim_dist_sample(d, &rng);
        bool fast = x >= 0 && x <= DSIM_MS(27);
        bool in_slow = x >= DSIM_MS(200) && x <= DSIM_MS(2200);
        CU_ASSERT_FATAL(fast || in_slow);
        slow += in_slow;
    }
    CU_ASSERT_DOUBLE_EQUAL((double) slow / N_DRAWS, 0.1, 0.0035);
}

static void test_nested_mix_multiplies_the_weights(void)
{
    /* 10ms half the time, 20ms and 30ms a quarter each; standard errors <= 0.0011. */
    g_autoptr(DsimDist) d = parse_ok("mix(0.5:10ms, 0.5:mix(0.5:20ms, 0.5:30ms))");
    DsimRng rng;
    int count[3] = { 0 };

    dsim_rng_init(&rng, 15, "test/nested");
    for (int k = 0; k < N_DRAWS; k++) {
        DsimTime x = dsim_dist_sample(d, &rng);
        CU_ASSERT_FATAL(x == DSIM_MS(10) || x == DSIM_MS(20) || x == DSIM_MS(30));
        count[x / DSIM_MS(10) - 1]++;
    }
    CU_ASSERT_DOUBLE_EQUAL((double) count[0] / N_DRAWS, 0.5, 0.006);
    CU_ASSERT_DOUBLE_EQUAL((double) count[1] / N_DRAWS, 0.25, 0.006);
    CU_ASSERT_DOUBLE_EQUAL((double) count[2] / N_DRAWS, 0.25, 0.006);
    CU_ASSERT_DOUBLE_EQUAL(dsim_dist_mean(d), 17.5e6, 1e-6);
}

static void test_heavy_tails_are_clamped_to_ten_years(void)
{
    /* pareto(1s,0.05) exceeds 10 years with probability (1s / 10y)^0.05 = 0.376, and
     * lognormal(1h,30) with probability P(Z > ln(87660) / 30) = 0.352: those draws are
     * clamped, not wrapped. Standard errors 0.0034 over 20000 draws. */
    g_autoptr(DsimDist) p = parse_ok("pareto(1s,0.05)");
    g_autoptr(DsimDist) l = parse_ok("lognormal(1h,30)");
    DsimRng rng;
    int clamped_p = 0, clamped_l = 0;

    dsim_rng_init(&rng, 16, "test/clamp");
    for (int k = 0; k < 20000; k++) {
        DsimTime x = dsim_dist_sample(p, &rng);
        DsimTime y = dsim_dist_sample(l, &rng);
        CU_ASSERT_FATAL(x >= DSIM_S(1) && x <= TEN_YEARS);
        CU_ASSERT_FATAL(y >= 0 && y <= TEN_YEARS);
        clamped_p += x == TEN_YEARS;
        clamped_l += y == TEN_YEARS;
    }
    CU_ASSERT_DOUBLE_EQUAL(clamped_p / 20000.0, 0.376, 0.02);
    CU_ASSERT_DOUBLE_EQUAL(clamped_l / 20000.0, 0.352, 0.02);
}

/* ---- lifecycle -------------------------------------------------------------------------- */

static void test_copy_is_deep_and_draws_the_same_samples(void)
{
    DsimDist *d = parse_ok("mix(0.5:10ms, 0.5:mix(0.25:uniform(1ms,2ms), 0.75:exp(2ms)))");
    g_autoptr(DsimDist) c = dsim_dist_copy(d);
    g_autofree char *before = format(d);
    DsimRng a, b;
    DsimTime from_original[1000];

    dsim_rng_init(&a, 3, "test/copy");
    b = a;
    for (int k = 0; k < 1000; k++)
        from_original[k] = dsim_dist_sample(d, &a);
    dsim_dist_free(d); /* the copy must not share anything with it */

    g_autofree char *after = format(c);
    CU_ASSERT_STRING_EQUAL(after, before);
    for (int k = 0; k < 1000; k++)
        CU_ASSERT_EQUAL_FATAL(dsim_dist_sample(c, &b), from_original[k]);
}

static void test_const_draws_nothing_and_formats_shortest(void)
{
    g_autoptr(DsimDist) d = dsim_dist_new_const(DSIM_MS(1500));
    g_autofree char *text = format(d);
    DsimRng rng, twin;

    dsim_rng_init(&rng, 1, "test/const");
    twin = rng;
    CU_ASSERT_EQUAL(dsim_dist_sample(d, &rng), DSIM_MS(1500));
    CU_ASSERT_EQUAL(memcmp(&rng, &twin, sizeof rng), 0);
    CU_ASSERT_EQUAL(dsim_dist_mean(d), 1.5e9);
    CU_ASSERT_STRING_EQUAL(text, "1.5s");
    dsim_dist_free(NULL);
}

CU_TestInfo dist_tests[] = {
    { "parses every kind into its fields", test_parses_every_kind_into_its_fields },
    { "formats canonically and round trips", test_formats_canonically_and_round_trips },
    { "rejects bad input with a message", test_rejects_bad_input_with_a_message },
    { "sample means match the exact means", test_sample_means_match_the_exact_means },
    { "mean is never for pareto without a finite mean",
      test_mean_is_never_for_pareto_without_a_finite_mean },
    { "normal mean is the untruncated mean", test_normal_mean_is_the_untruncated_mean },
    { "draws a fixed count of numbers per kind", test_draws_a_fixed_count_of_numbers_per_kind },
    { "uniform stays within its bounds and reaches both",
      test_uniform_stays_within_its_bounds_and_reaches_both },
    { "normal is clamped at zero never negative", test_normal_is_clamped_at_zero_never_negative },
    { "exp is never negative and has the right tail",
      test_exp_is_never_negative_and_has_the_right_tail },
    { "lognormal median is the median parameter", test_lognormal_median_is_the_median_parameter },
    { "pareto never draws below its scale", test_pareto_never_draws_below_its_scale },
    { "mix picks each component by its weight", test_mix_picks_each_component_by_its_weight },
    { "nested mix multiplies the weights", test_nested_mix_multiplies_the_weights },
    { "heavy tails are clamped to ten years", test_heavy_tails_are_clamped_to_ten_years },
    { "copy is deep and draws the same samples", test_copy_is_deep_and_draws_the_same_samples },
    { "const draws nothing and formats shortest", test_const_draws_nothing_and_formats_shortest },
    CU_TEST_INFO_NULL,
};
