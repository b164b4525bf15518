/* param.c - protocol parameters: text -> typed value in a protocol's config struct.
 *
 * A DsimParam row says where a value goes (config + offset) and what type it has; this file
 * is the only place that turns the user's text into that value, so the loader, sweeps,
 * --param and the defaults in every protocol table all accept and reject exactly the same
 * inputs. Values are written with memcpy, since a config struct is the protocol's own and we
 * only know the offset. A value is stored only when it parses: on failure the config is left
 * as it was, and *why says what is wrong and how to write it instead.
 */
#include "sim/param.h"

#include <errno.h>
#include <string.h>

#include "sim/dist.h"
#include "sim/time.h"

/* Longest piece of user text repeated in a message; longer text is cut with "...". */
#define QUOTE_MAX 64

char *dsim_quote(const char *text)
{
    GString *out = g_string_new("\"");
    size_t len = strlen(text);
    size_t cut = len;

    if (len > QUOTE_MAX) {
        cut = QUOTE_MAX;
        while (cut > 0 && ((unsigned char) text[cut] & 0xC0) == 0x80)
            cut--;
    }
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char) text[i];
        if (c == '"' || c == '\\')
            g_string_append_printf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char) c);
    }
    if (cut < len)
        g_string_append(out, "...");
    g_string_append_c(out, '"');
    return g_string_free(out, FALSE);
}

static bool fail(char **why, const char *text, const char *what)
{
    g_autofree char *q = dsim_quote(text);
    *why = g_strdup_printf("%s %s", q, what);
    return false;
}

static bool parse_int(const DsimParam *p, const char *text, int64_t *out, char **why)
{
    const char *digits = (text[0] == '-' || text[0] == '+') ? text + 1 : text;
    char *end = NULL;

    if (!g_ascii_isdigit(digits[0]))
        return fail(why, text, "is not an integer");
    errno = 0;
    gint64 v = g_ascii_strtoll(text, &end, 10);
    if (*end != '\0')
        return fail(why, text, "is not an integer");
    if (errno == ERANGE)
        return fail(why, text, "is too large for an integer");
    if (p->min < p->max && (v < p->min || v > p->max)) {
        g_autofree char *what = g_strdup_printf("is not between %" PRId64 " and %" PRId64,
                                                p->min, p->max);
        return fail(why, text, what);
    }
    *out = v;
    return true;
}

static bool parse_bool(const char *text, bool *out, char **why)
{
    static const char *const yes[] = { "true", "on", "yes", "1" };
    static const char *const no[] = { "false", "off", "no", "0" };

    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (g_ascii_strcasecmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return fail(why, text, "is not a boolean (write true or false)");
}

/* The index of @text among the '|'-separated @choices, or -1. */
static int choice_index(const char *choices, const char *text)
{
    size_t len = strlen(text);
    int index = 0;

    for (const char *c = choices;; index++) {
        const char *bar = strchr(c, '|');
        size_t n = bar != NULL ? (size_t) (bar - c) : strlen(c);
        if (n == len && strncmp(c, text, n) == 0)
            return index;
        if (bar == NULL)
            return -1;
        c = bar + 1;
    }
}

bool dsim_param_parse(const DsimParam *p, const char *text, void *config, char **why)
{
    g_autofree char *t = g_strstrip(g_strdup(text));
    char *dst = (char *) config + p->offset;

    switch (p->type) {
    case DSIM_PARAM_INT: {
        int64_t v = 0;
        if (!parse_int(p, t, &v, why))
            return false;
        memcpy(dst, &v, sizeof v);
        return true;
    }
    case DSIM_PARAM_BOOL: {
        bool v = false;
        if (!parse_bool(t, &v, why))
            return false;
        memcpy(dst, &v, sizeof v);
        return true;
    }
    case DSIM_PARAM_TIME: {
        DsimTime v;
        if (!dsim_time_parse(t, &v))
            return fail(why, t, "is not a duration (write e.g. 250ms, 1.5s)");
        memcpy(dst, &v, sizeof v);
        return true;
    }
    case DSIM_PARAM_TIME_RANGE: {
        DsimTimeRange v;
        if (!dsim_time_range_parse(t, &v))
            return fail(why, t, "is not a duration range (write e.g. 150ms..300ms, or 50ms)");
        memcpy(dst, &v, sizeof v);
        return true;
    }
    case DSIM_PARAM_PROB: {
        double v;
        if (!dsim_prob_parse(t, &v))
            return fail(why, t, "is not a probability (write a number from 0 to 1, e.g. 0.01)");
        memcpy(dst, &v, sizeof v);
        return true;
    }
    case DSIM_PARAM_RATE: {
        double v;
        if (!dsim_rate_parse(t, &v))
            return fail(why, t, "is not a rate (write e.g. 100/s, 5/ms)");
        memcpy(dst, &v, sizeof v);
        return true;
    }
    case DSIM_PARAM_CHOICE: {
        g_assert(p->choices != NULL);
        int v = choice_index(p->choices, t);
        if (v < 0) {
            g_autofree char *what = g_strdup_printf("is not one of %s", p->choices);
            return fail(why, t, what);
        }
        memcpy(dst, &v, sizeof v);
        return true;
    }
    case DSIM_PARAM_DIST:
    case DSIM_PARAM_STRING: {
        if (p->type == DSIM_PARAM_DIST) { /* kept as its text, once it parses */
            g_autoptr(DsimDist) d = dsim_dist_parse(t, why);
            if (d == NULL)
                return false;
        }
        size_t len = strlen(t);
        if (len >= DSIM_PARAM_STRING_MAX) {
            g_autofree char *what = g_strdup_printf("is longer than %d bytes",
                                                    DSIM_PARAM_STRING_MAX - 1);
            return fail(why, t, what);
        }
        memset(dst, 0, DSIM_PARAM_STRING_MAX);
        memcpy(dst, t, len);
        return true;
    }
    }
    g_assert_not_reached();
}

const DsimParam *dsim_param_find(const DsimParam *params, const char *name)
{
    for (const DsimParam *p = params; p != NULL && p->name != NULL; p++) {
        if (strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

void dsim_param_defaults(const DsimProtocol *proto, void *config)
{
    for (const DsimParam *p = proto->params; p != NULL && p->name != NULL; p++) {
        g_autofree char *why = NULL;
        if (p->def == NULL)
            continue; /* the zeroed config is the default */
        if (!dsim_param_parse(p, p->def, config, &why))
            g_error("protocol %s: the default of parameter %s does not parse: %s", proto->name,
                    p->name, why);
    }
}

const char *dsim_param_type_name(DsimParamType type)
{
    switch (type) {
    case DSIM_PARAM_INT: return "int";
    case DSIM_PARAM_BOOL: return "bool";
    case DSIM_PARAM_TIME: return "time";
    case DSIM_PARAM_TIME_RANGE: return "time range";
    case DSIM_PARAM_PROB: return "probability";
    case DSIM_PARAM_RATE: return "rate";
    case DSIM_PARAM_CHOICE: return "choice";
    case DSIM_PARAM_STRING: return "string";
    case DSIM_PARAM_DIST: return "distribution";
    }
    g_assert_not_reached();
}
