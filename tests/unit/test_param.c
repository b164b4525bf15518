/* test_param.c - protocol parameters: each type's accepted text, its value in the config, and
 * the sentence a bad value gets. A made-up config struct with one field per type stands in for
 * a protocol's. */
#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sim/param.h"
#include "tests/unit/tests.h"

typedef struct {
    int64_t       workers;
    int64_t       offset;
    DsimTime      heartbeat;
    DsimTimeRange election;
    double        loss;
    double        rate;
    bool          prevote;
    int           bug;
    char          label[DSIM_PARAM_STRING_MAX];
    char          service_time[DSIM_PARAM_STRING_MAX];
} TestConfig;

static const DsimParam test_params[] = {
    { .name = "workers", .type = DSIM_PARAM_INT, .def = "3", .help = "1..10",
      .offset = offsetof(TestConfig, workers), .min = 1, .max = 10 },
    { .name = "offset", .type = DSIM_PARAM_INT, .def = "-2", .help = "unbounded",
      .offset = offsetof(TestConfig, offset) },
    { .name = "heartbeat", .type = DSIM_PARAM_TIME, .def = "50ms", .help = "",
      .offset = offsetof(TestConfig, heartbeat) },
    { .name = "election", .type = DSIM_PARAM_TIME_RANGE, .def = "150ms..300ms", .help = "",
      .offset = offsetof(TestConfig, election) },
    { .name = "loss", .type = DSIM_PARAM_PROB, .def = "0.25", .help = "",
      .offset = offsetof(TestConfig, loss) },
    { .name = "rate", .type = DSIM_PARAM_RATE, .def = "100/s", .help = "",
      .offset = offsetof(TestConfig, rate) },
    { .name = "prevote", .type = DSIM_PARAM_BOOL, .def = "on", .help = "",
      .offset = offsetof(TestConfig, prevote) },
    { .name = "bug", .type = DSIM_PARAM_CHOICE, .def = "none", .help = "",
      .offset = offsetof(TestConfig, bug), .choices = "none|a|b" },
    { .name = "label", .type = DSIM_PARAM_STRING, .def = "hello", .help = "",
      .offset = offsetof(TestConfig, label) },
    { .name = "service_time", .type = DSIM_PARAM_DIST, .def = "exp(10ms)", .help = "",
      .offset = offsetof(TestConfig, service_time) },
    { .name = NULL },
};

static const DsimProtocol test_protocol = {
    .name = "test",
    .summary = "a config with one parameter of each type",
    .params = test_params,
    .config_size = sizeof(TestConfig),
};

static const DsimParam *param(const char *name)
{
    const DsimParam *p = dsim_param_find(test_params, name);
    g_assert(p != NULL);
    return p;
}

/* Parses @text into a zeroed config and expects it to fail with exactly @message, leaving
 * the config untouched. */
static void assert_rejects(const char *name, const char *text, const char *message)
{
    TestConfig cfg, zero;
    char *why = NULL;

    memset(&cfg, 0, sizeof cfg);
    memset(&zero, 0, sizeof zero);
    CU_ASSERT_FALSE(dsim_param_parse(param(name), text, &cfg, &why));
    CU_ASSERT_PTR_NOT_NULL_FATAL(why);
    if (strcmp(why, message) != 0)
        printf("\n==> expected: %s\n==> actual:   %s\n", message, why);
    CU_ASSERT_STRING_EQUAL(why, message);
    CU_ASSERT_EQUAL(memcmp(&cfg, &zero, sizeof cfg), 0);
    g_free(why);
}

static TestConfig parsed(const char *name, const char *text)
{
    TestConfig cfg;
    char *why = NULL;

    memset(&cfg, 0, sizeof cfg);
    if (!dsim_param_parse(param(name), text, &cfg, &why))
        printf("\n==> %s=\"%s\" rejected: %s\n", name, text, why);
    CU_ASSERT_PTR_NULL(why);
    g_free(why);
    return cfg;
}

static void test_find_returns_the_row_or_null(void)
{
    CU_ASSERT_PTR_EQUAL(dsim_param_find(test_params, "heartbeat"), &test_params[2]);
    CU_ASSERT_PTR_NULL(dsim_param_find(test_params, "Heartbeat"));
    CU_ASSERT_PTR_NULL(dsim_param_find(test_params, ""));
    CU_ASSERT_PTR_NULL(dsim_param_find(NULL, "heartbeat"));
}

static void test_defaults_fill_every_field(void)
{
    TestConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    dsim_param_defaults(&test_protocol, &cfg);
    CU_ASSERT_EQUAL(cfg.workers, 3);
    CU_ASSERT_EQUAL(cfg.offset, -2);
    CU_ASSERT_EQUAL(cfg.heartbeat, DSIM_MS(50));
    CU_ASSERT_EQUAL(cfg.election.lo, DSIM_MS(150));
    CU_ASSERT_EQUAL(cfg.election.hi, DSIM_MS(300));
    CU_ASSERT_DOUBLE_EQUAL(cfg.loss, 0.25, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(cfg.rate, 100.0, 1e-9);
    CU_ASSERT_TRUE(cfg.prevote);
    CU_ASSERT_EQUAL(cfg.bug, 0);
    CU_ASSERT_STRING_EQUAL(cfg.label, "hello");
}

static void test_int_honours_its_bounds(void)
{
    CU_ASSERT_EQUAL(parsed("workers", "7").workers, 7);
    CU_ASSERT_EQUAL(parsed("workers", " 10\n").workers, 10);
    CU_ASSERT_EQUAL(parsed("workers", "1").workers, 1);
    assert_rejects("workers", "0", "\"0\" is not between 1 and 10");
    assert_rejects("workers", "11", "\"11\" is not between 1 and 10");
    assert_rejects("workers", "5x", "\"5x\" is not an integer");
    assert_rejects("workers", "", "\"\" is not an integer");
    assert_rejects("workers", "0x5", "\"0x5\" is not an integer");
    assert_rejects("workers", "2.5", "\"2.5\" is not an integer");
}

static void test_int_without_bounds_takes_any_int64(void)
{
    CU_ASSERT_EQUAL(parsed("offset", "-9223372036854775808").offset, INT64_MIN);
    CU_ASSERT_EQUAL(parsed("offset", "9223372036854775807").offset, INT64_MAX);
    CU_ASSERT_EQUAL(parsed("offset", "+4").offset, 4);
    assert_rejects("offset", "9223372036854775808",
                   "\"9223372036854775808\" is too large for an integer");
    assert_rejects("offset", "-", "\"-\" is not an integer");
}

static void test_bool_accepts_the_usual_words(void)
{
    static const char *const yes[] = { "true", "on", "yes", "1", "TRUE", "On" };
    static const char *const no[] = { "false", "off", "no", "0", "False" };
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++)
        CU_ASSERT_TRUE(parsed("prevote", yes[i]).prevote);
    for (size_t i = 0; i < G_N_ELEMENTS(no); i++)
        CU_ASSERT_FALSE(parsed("prevote", no[i]).prevote);
    assert_rejects("prevote", "maybe", "\"maybe\" is not a boolean (write true or false)");
    assert_rejects("prevote", "2", "\"2\" is not a boolean (write true or false)");
}

static void test_time_and_time_range(void)
{
    CU_ASSERT_EQUAL(parsed("heartbeat", "250ms").heartbeat, DSIM_MS(250));
    CU_ASSERT_EQUAL(parsed("heartbeat", "1.5s").heartbeat, DSIM_MS(1500));
    assert_rejects("heartbeat", "5x", "\"5x\" is not a duration (write e.g. 250ms, 1.5s)");
    assert_rejects("heartbeat", "50", "\"50\" is not a duration (write e.g. 250ms, 1.5s)");

    TestConfig c = parsed("election", "150ms..300ms");
    CU_ASSERT_EQUAL(c.election.lo, DSIM_MS(150));
    CU_ASSERT_EQUAL(c.election.hi, DSIM_MS(300));
    c = parsed("election", "50ms");
    CU_ASSERT_EQUAL(c.election.lo, DSIM_MS(50));
    CU_ASSERT_EQUAL(c.election.hi, DSIM_MS(50));
    assert_rejects("election", "300ms..150ms",
                   "\"300ms..150ms\" is not a duration range (write e.g. 150ms..300ms, or 50ms)");
}

static void test_probability_and_rate(void)
{
    CU_ASSERT_DOUBLE_EQUAL(parsed("loss", "0.01").loss, 0.01, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(parsed("loss", "1").loss, 1.0, 0);
    assert_rejects("loss", "1.5",
                   "\"1.5\" is not a probability (write a number from 0 to 1, e.g. 0.01)");
    assert_rejects("loss", "-0.1",
                   "\"-0.1\" is not a probability (write a number from 0 to 1, e.g. 0.01)");
    CU_ASSERT_DOUBLE_EQUAL(parsed("rate", "100/s").rate, 100.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(parsed("rate", "5/ms").rate, 5000.0, 1e-9);
    assert_rejects("rate", "fast", "\"fast\" is not a rate (write e.g. 100/s, 5/ms)");
}

static void test_choice_stores_the_index(void)
{
    CU_ASSERT_EQUAL(parsed("bug", "none").bug, 0);
    CU_ASSERT_EQUAL(parsed("bug", "a").bug, 1);
    CU_ASSERT_EQUAL(parsed("bug", " b ").bug, 2);
    assert_rejects("bug", "maybe", "\"maybe\" is not one of none|a|b");
    assert_rejects("bug", "", "\"\" is not one of none|a|b");
    assert_rejects("bug", "none|a", "\"none|a\" is not one of none|a|b");
}

static void test_string_is_copied_and_bounded(void)
{
    CU_ASSERT_STRING_EQUAL(parsed("label", "  leader crash ").label, "leader crash");

    char longest[DSIM_PARAM_STRING_MAX];
    memset(longest, 'x', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    CU_ASSERT_STRING_EQUAL(parsed("label", longest).label, longest);

    g_autofree char *too_long = g_strnfill(DSIM_PARAM_STRING_MAX, 'y');
    g_autofree char *q = g_strnfill(64, 'y');
    g_autofree char *message = g_strdup_printf("\"%s...\" is longer than 255 bytes", q);
    assert_rejects("label", too_long, message);
}

static void test_distribution_is_checked_and_kept_as_text(void)
{
    CU_ASSERT_STRING_EQUAL(parsed("service_time", " lognormal(10ms,0.5) ").service_time,
                           "lognormal(10ms,0.5)");
    CU_ASSERT_STRING_EQUAL(parsed("service_time", "mix(0.9:5ms, 0.1:exp(100ms))").service_time,
                           "mix(0.9:5ms, 0.1:exp(100ms))");
    TestConfig cfg = { 0 };
    char *why = NULL;
    CU_ASSERT_FALSE(dsim_param_parse(param("service_time"), "lognormal(10ms)", &cfg, &why));
    CU_ASSERT_PTR_NOT_NULL(why); /* the distribution parser's own sentence */
    CU_ASSERT_EQUAL(cfg.service_time[0], '\0');
    g_free(why);
}

static void test_messages_escape_the_users_text(void)
{
    assert_rejects("workers", "a\"b\n", "\"a\\\"b\" is not an integer");
    assert_rejects("workers", "1\t2", "\"1\\x092\" is not an integer");
}

static void test_type_names(void)
{
    CU_ASSERT_STRING_EQUAL(dsim_param_type_name(DSIM_PARAM_INT), "int");
    CU_ASSERT_STRING_EQUAL(dsim_param_type_name(DSIM_PARAM_BOOL), "bool");
    CU_ASSERT_STRING_EQUAL(dsim_param_type_name(DSIM_PARAM_TIME), "time");
    CU_ASSERT_STRING_EQUAL(dsim_param_type_name(DSIM_PARAM_TIME_RANGE), "time range");
    CU_ASSERT_STRING_EQUAL(dsim_param_type_name(DSIM_PARAM_PROB), "probability");
    CU_ASSERT_STRING_EQUAL(dsim_param_type_name(DSIM_PARAM_RATE), "rate");
    CU_ASSERT_STRING_EQUAL(dsim_param_type_name(DSIM_PARAM_CHOICE), "choice");
    CU_ASSERT_STRING_EQUAL(dsim_param_type_name(DSIM_PARAM_STRING), "string");
    CU_ASSERT_STRING_EQUAL(dsim_param_type_name(DSIM_PARAM_DIST), "distribution");
}

CU_TestInfo param_tests[] = {
    { "find returns the row or null", test_find_returns_the_row_or_null },
    { "defaults fill every field", test_defaults_fill_every_field },
    { "int honours its bounds", test_int_honours_its_bounds },
    { "int without bounds takes any int64", test_int_without_bounds_takes_any_int64 },
    { "bool accepts the usual words", test_bool_accepts_the_usual_words },
    { "time and time range", test_time_and_time_range },
    { "probability and rate", test_probability_and_rate },
    { "choice stores the index", test_choice_stores_the_index },
    { "string is copied and bounded", test_string_is_copied_and_bounded },
    { "distribution is checked and kept as text", test_distribution_is_checked_and_kept_as_text },
    { "messages escape the user's text", test_messages_escape_the_users_text },
    { "type names", test_type_names },
    CU_TEST_INFO_NULL,
};
