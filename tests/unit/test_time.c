/* test_time.c - durations, ranges, rates and probabilities from text, and time in traces.
 *
 * Parsing is table-driven: each row is an input and what it must become, or a rejection.
 * A failing row is printed before the assertion fails, since CUnit only shows the
 * expression. Formatting is checked against exact strings and by round-trips through the
 * parser.
 */
#include "tests/unit/tests.h"
#include "sim/time.h"
#include "sim/rng.h"

#include <math.h>

/* ---- durations ----------------------------------------------------------------- */

typedef struct {
    const char *text;
    DsimTime    want;
} TimeCase;

static const TimeCase good_times[] = {
    { "0", 0 },
    { "0s", 0 },
    { "0ns", 0 },
    { "0.0ms", 0 },
    { "250ns", 250 },
    { "10us", DSIM_US(10) },
    { "5ms", DSIM_MS(5) },
    { "1.5s", DSIM_MS(1500) },
    { "0.1s", DSIM_MS(100) },
    { "2m", DSIM_S(120) },
    { "1.5m", DSIM_S(90) },
    { "1h", DSIM_S(3600) },
    { "0.25h", DSIM_S(900) },
    { "007ms", DSIM_MS(7) },
    { "  7ms\t\n", DSIM_MS(7) },
    { "1.000000001s", DSIM_S(1) + 1 },
    { "1.500000000000000s", DSIM_MS(1500) }, /* trailing zeros cost nothing */
    { "0.001us", 1 },
    { "0.000001ms", 1 },
    { "0.0000000001h", 360 },
    { "9223372036854775807ns", INT64_MAX },
    { "9223372036.854775807s", INT64_MAX },
    { "2562047h", DSIM_S(2562047LL * 3600) },
};

static const char *const bad_times[] = {
    "", "   ", "5", "1.5", "00", "s", "ms", "-5ms", "+5ms", "- 5ms", "5 ms", "5x", "5msx",
    "5mss", "5MS", "5sec", ".5s", "5.s", "5..0s", "1,5s", "1e3ms", "0x10ms", "1.5ns",
    "0.0000000001s", "0.0000000000001h", "9223372036854775808ns", "9223372036.854775808s",
    "2562048h", "99999999999999999999999ns", "nan", "inf", "5ms 3ms",
};

static void test_parses_durations_exactly(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(good_times); i++) {
        const TimeCase *c = &good_times[i];
        DsimTime got = -1;
        bool ok = dsim_time_parse(c->text, &got);
        if (!ok || got != c->want)
            g_printerr("\n  dsim_time_parse(\"%s\"): ok=%d got=%" PRId64 " want=%" PRId64,
                       c->text, ok, got, c->want);
        CU_ASSERT_TRUE(ok);
        CU_ASSERT_EQUAL(got, c->want);
    }
}

static void test_rejects_bad_durations_and_leaves_the_output_alone(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_times); i++) {
        DsimTime got = 12345;
        bool ok = dsim_time_parse(bad_times[i], &got);
        if (ok || got != 12345)
            g_printerr("\n  dsim_time_parse(\"%s\") accepted it as %" PRId64, bad_times[i], got);
        CU_ASSERT_FALSE(ok);
        CU_ASSERT_EQUAL(got, 12345);
    }
}

/* ---- ranges --------------------------------------------------------------------- */

static void test_parses_ranges_and_single_durations(void)
{
    static const struct {
        const char *text;
        DsimTime    lo, hi;
    } cases[] = {
        { "150ms..300ms", DSIM_MS(150), DSIM_MS(300) },
        { " 1s .. 2.5s ", DSIM_S(1), DSIM_MS(2500) },
        { "1.5s..2s", DSIM_MS(1500), DSIM_S(2) },
        { "5ms..5ms", DSIM_MS(5), DSIM_MS(5) },
        { "5ms", DSIM_MS(5), DSIM_MS(5) },
        { "0..1h", 0, DSIM_S(3600) },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        DsimTimeRange r = { -1, -1 };
        bool ok = dsim_time_range_parse(cases[i].text, &r);
        if (!ok || r.lo != cases[i].lo || r.hi != cases[i].hi)
            g_printerr("\n  dsim_time_range_parse(\"%s\") failed", cases[i].text);
        CU_ASSERT_TRUE(ok);
        CU_ASSERT_EQUAL(r.lo, cases[i].lo);
        CU_ASSERT_EQUAL(r.hi, cases[i].hi);
    }
}

static void test_rejects_bad_ranges(void)
{
    static const char *const bad[] = {
        "", "300ms..150ms", "1ms..", "..1ms", "1ms..2ms..3ms", "1ms...2ms", "1..5ms",
        "1ms-2ms", "-1ms..2ms", "1ms..x",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        DsimTimeRange r = { 7, 7 };
        bool ok = dsim_time_range_parse(bad[i], &r);
        if (ok)
            g_printerr("\n  dsim_time_range_parse(\"%s\") accepted it", bad[i]);
        CU_ASSERT_FALSE(ok);
        CU_ASSERT_EQUAL(r.lo, 7);
        CU_ASSERT_EQUAL(r.hi, 7);
    }
}

/* ---- rates and probabilities ------------------------------------------------------ */

static void test_parses_rates_into_events_per_second(void)
{
    static const struct {
        const char *text;
        double      want;
    } cases[] = {
        { "100/s", 100 },   { "5/ms", 5000 }, { "2.5/s", 2.5 },  { "60/m", 1 },
        { "3600/h", 1 },    { "1/us", 1e6 },  { "1000/ns", 1e12 }, { "0.5/ms", 500 },
        { " 7/s ", 7 },     { "1/h", 1.0 / 3600 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        double got = -1;
        bool ok = dsim_rate_parse(cases[i].text, &got);
        if (!ok || got != cases[i].want)
            g_printerr("\n  dsim_rate_parse(\"%s\"): ok=%d got=%.17g", cases[i].text, ok, got);
        CU_ASSERT_TRUE(ok);
        CU_ASSERT_DOUBLE_EQUAL(got, cases[i].want, cases[i].want * 1e-15);
    }
}

static void test_rejects_bad_rates(void)
{
    static const char *const bad[] = {
        "", "100", "0/s", "0.0/s", "-1/s", "+1/s", "/s", "1/", "1/x", "1/sec", "1 /s",
        "1/ s", "nan/s", "inf/s", "1e3/s", "1/s/s", "100/S",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        double got = 42;
        bool ok = dsim_rate_parse(bad[i], &got);
        if (ok)
            g_printerr("\n  dsim_rate_parse(\"%s\") accepted it as %g", bad[i], got);
        CU_ASSERT_FALSE(ok);
        CU_ASSERT_EQUAL(got, 42);
    }
}

static void test_parses_probabilities_between_0_and_1(void)
{
    static const struct {
        const char *text;
        double      want;
    } cases[] = {
        { "0", 0 }, { "1", 1 }, { "0.01", 0.01 }, { " 0.5 ", 0.5 }, { ".25", 0.25 },
        { "1.0", 1 }, { "1e-3", 0.001 }, { "0.000", 0 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        double got = -1;
        bool ok = dsim_prob_parse(cases[i].text, &got);
        if (!ok || got != cases[i].want)
            g_printerr("\n  dsim_prob_parse(\"%s\"): ok=%d got=%.17g", cases[i].text, ok, got);
        CU_ASSERT_TRUE(ok);
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
}

static void test_rejects_bad_probabilities(void)
{
    static const char *const bad[] = {
        "", " ", "1.5", "1.0000001", "-0.1", "-0", "+0.5", "nan", "NaN", "inf", "infinity",
        "0.5x", "0x0.1", "1,5", "0.5 0.5", "1e", ".", "50%",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        double got = 42;
        bool ok = dsim_prob_parse(bad[i], &got);
        if (ok)
            g_printerr("\n  dsim_prob_parse(\"%s\") accepted it as %g", bad[i], got);
        CU_ASSERT_FALSE(ok);
        CU_ASSERT_EQUAL(got, 42);
    }
}

/* ---- formatting ------------------------------------------------------------------ */

static void test_formats_trace_times_with_nine_decimals_in_width_14(void)
{
    static const struct {
        DsimTime    t;
        const char *want;
    } cases[] = {
        { DSIM_MS(1250), "[   1.250000000s]" },
        { 0, "[   0.000000000s]" },
        { 1, "[   0.000000001s]" },
        { DSIM_S(42) + 7, "[  42.000000007s]" },
        { -DSIM_MS(1500), "[  -1.500000000s]" },
        { DSIM_S(1234), "[1234.000000000s]" },
        { DSIM_S(12345) + 678901234, "[12345.678901234s]" }, /* wider than 14: not cut */
        { INT64_MIN, "[-9223372036.854775808s]" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GString) s = g_string_new("[");
        dsim_time_format(cases[i].t, s);
        g_string_append_c(s, ']');
        if (g_strcmp0(s->str, cases[i].want) != 0)
            g_printerr("\n  ==> expected %s\n  ==> actual   %s", cases[i].want, s->str);
        CU_ASSERT_STRING_EQUAL(s->str, cases[i].want);
    }
}

static void test_formats_the_shortest_exact_form(void)
{
    static const struct {
        DsimTime    t;
        const char *want;
    } cases[] = {
        { 0, "0s" },
        { 1, "1ns" },
        { 250, "250ns" },
        { 1000, "1us" },
        { 1500, "1.5us" },
        { DSIM_US(1250), "1.25ms" },
        { DSIM_MS(150), "150ms" },
        { DSIM_MS(1500), "1.5s" },
        { DSIM_S(1) + 1, "1.000000001s" },
        { DSIM_S(90), "90s" },
        { DSIM_S(120), "2m" },
        { DSIM_S(150), "2.5m" },
        { DSIM_S(100), "100s" },
        { DSIM_S(3600), "1h" },
        { DSIM_S(5400), "90m" },
        { DSIM_S(7200), "2h" },
        { -DSIM_MS(1500), "-1.5s" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GString) s = g_string_new("");
        dsim_time_format_short(cases[i].t, s);
        if (g_strcmp0(s->str, cases[i].want) != 0)
            g_printerr("\n  ==> expected %s\n  ==> actual   %s", cases[i].want, s->str);
        CU_ASSERT_STRING_EQUAL(s->str, cases[i].want);
    }
}

/* Checks parse(format(t)) == t for both formats. */
static void assert_round_trip(DsimTime t)
{
    g_autoptr(GString) shortest = g_string_new("");
    g_autoptr(GString) trace = g_string_new("");
    DsimTime a = -1, b = -1;

    dsim_time_format_short(t, shortest);
    dsim_time_format(t, trace);
    bool ok_a = dsim_time_parse(shortest->str, &a);
    bool ok_b = dsim_time_parse(trace->str, &b);
    if (!ok_a || a != t || !ok_b || b != t)
        g_printerr("\n  %" PRId64 " -> \"%s\" / \"%s\" -> %" PRId64 " / %" PRId64,
                   t, shortest->str, trace->str, a, b);
    CU_ASSERT_TRUE(ok_a && a == t);
    CU_ASSERT_TRUE(ok_b && b == t);
}

static void test_formatted_times_parse_back_to_the_same_value(void)
{
    static const DsimTime edges[] = {
        0, 1, 999, 1000, 1001, DSIM_MS(1), DSIM_S(1), DSIM_S(60), DSIM_S(3600),
        DSIM_S(3600) + 1, DSIM_S(59), DSIM_S(61), DSIM_S(86400), INT64_MAX, INT64_MAX - 1,
        DSIM_S(2562047LL * 3600),
    };
    for (size_t i = 0; i < G_N_ELEMENTS(edges); i++)
        assert_round_trip(edges[i]);

    /* Random values at every scale: a mantissa of a few digits times a power of ten, so that
     * round numbers (which pick the larger units) come up as often as ragged ones. */
    DsimRng rng;
    dsim_rng_init(&rng, 7, "test/time");
    for (int i = 0; i < 20000; i++) {
        uint64_t mant = dsim_rng_below(&rng, 100000);
        unsigned exp10 = (unsigned) dsim_rng_below(&rng, 14);
        DsimTime t = (DsimTime) mant;
        for (unsigned k = 0; k < exp10; k++)
            t *= 10;
        assert_round_trip(t);
        assert_round_trip((DsimTime) (dsim_rng_next(&rng) >> 1));
    }
}

CU_TestInfo time_tests[] = {
    { "parses durations exactly", test_parses_durations_exactly },
    { "rejects bad durations and leaves the output alone",
      test_rejects_bad_durations_and_leaves_the_output_alone },
    { "parses ranges and single durations", test_parses_ranges_and_single_durations },
    { "rejects bad ranges", test_rejects_bad_ranges },
    { "parses rates into events per second", test_parses_rates_into_events_per_second },
    { "rejects bad rates", test_rejects_bad_rates },
    { "parses probabilities between 0 and 1", test_parses_probabilities_between_0_and_1 },
    { "rejects bad probabilities", test_rejects_bad_probabilities },
    { "formats trace times with nine decimals in width 14",
      test_formats_trace_times_with_nine_decimals_in_width_14 },
    { "formats the shortest exact form", test_formats_the_shortest_exact_form },
    { "formatted times parse back to the same value",
      test_formatted_times_parse_back_to_the_same_value },
    CU_TEST_INFO_NULL,
};
