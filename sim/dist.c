/* dist.c - random durations: the text form, the draws, the means.
 *
 * A distribution is parsed once, at load, by a small recursive-descent parser over spans
 * of the text: a span is either a duration ("10ms") or NAME(ARG, ...), and a mix argument
 * is WEIGHT:SPAN, parsed by the same function one level down. Every input problem is
 * reported as one sentence naming the piece that is wrong and the form that would be right.
 *
 * A draw reads a fixed number of uniform doubles from the stream for each kind (const 0,
 * uniform 1, exp 1, pareto 1, normal 2, lognormal 2), so how far a sample advances its
 * stream depends on the scenario text, not on the values drawn. That is why a normal below
 * zero is clamped to 0 rather than redrawn: redrawing would make the count depend on the
 * values.
 * A mix draws 1 to choose plus the chosen component's draws; when its components differ in
 * count (uniform and normal) its count varies with the choice, which is still the same for
 * the same seed. Drawing every component each time would fix that, at the cost of wasted
 * draws and of a count that grows with the mix. The double becomes integer nanoseconds
 * right away (rounded to nearest) and is clamped to [0, DIST_MAX]; nothing after this file
 * sees floating-point time.
 *
 * A trade-off to admit: log, exp, cos and pow come from the C library, and C does not
 * require them to be correctly rounded. Every machine with the same libm gives the same
 * samples; a different libm could move one by a nanosecond in the rare case where the last
 * bit decides the rounding. Writing our own would remove that at the cost of a page of
 * numerical code nobody here needs to read.
 */
#include "sim/dist.h"
#include "sim/time.h"

#include <math.h>
#include <string.h>

/* The longest duration a draw returns, and the longest a parameter may be: 10 years of
 * 365.25 days. Long enough for any tail worth simulating, short enough that adding a few to
 * a run's clock cannot overflow an int64 (which holds ~292 years). */
#define DIST_MAX DSIM_S(10LL * 36525 * 864)

/* Mix may nest, but scenario text is untrusted: bound the recursion. */
#define MAX_DEPTH 16

/* How close the mix weights must add up to 1. */
#define WEIGHT_EPSILON 1e-9

/* The forms a user can write, for messages. */
#define DIST_FORMS \
    "10ms, uniform(LO,HI), normal(MEAN,SD), exp(MEAN), lognormal(MEDIAN,SIGMA), " \
    "pareto(SCALE,SHAPE) or mix(W:DIST, ...)"

/* ---- lifecycle ---------------------------------------------------------------- */

static void dist_clear(DsimDist *d)
{
    if (d->kind == DSIM_DIST_MIX) {
        for (unsigned i = 0; i < d->n; i++)
            dist_clear(&d->component[i]);
        g_free(d->component);
        g_free(d->weight);
    }
    memset(d, 0, sizeof *d);
}

void dsim_dist_free(DsimDist *d)
{
    if (d == NULL)
        return;
    dist_clear(d);
    g_free(d);
}

DsimDist *dsim_dist_new_const(DsimTime t)
{
    g_assert(t >= 0 && t <= DIST_MAX);
    DsimDist *d = g_new0(DsimDist, 1);
    d->kind = DSIM_DIST_CONST;
    d->a = t;
    return d;
}

static void copy_into(DsimDist *dst, const DsimDist *src)
{
    *dst = *src;
    if (src->kind == DSIM_DIST_MIX) {
        dst->weight = g_memdup2(src->weight, src->n * sizeof *src->weight);
        dst->component = g_new0(DsimDist, src->n);
        for (unsigned i = 0; i < src->n; i++)
            copy_into(&dst->component[i], &src->component[i]);
    }
}

DsimDist *dsim_dist_copy(const DsimDist *d)
{
    DsimDist *c = g_new0(DsimDist, 1);
    copy_into(c, d);
    return c;
}

/* ---- parsing -------------------------------------------------------------------- */

/* A piece of the input text; not NUL-terminated. */
typedef struct {
    const char *s;
    size_t      len;
} Span;

static Span span_trim(Span sp)
{
    while (sp.len > 0 && g_ascii_isspace(sp.s[0])) {
        sp.s++;
        sp.len--;
    }
    while (sp.len > 0 && g_ascii_isspace(sp.s[sp.len - 1]))
        sp.len--;
    return sp;
}

static char *span_dup(Span sp)
{
    return g_strndup(sp.s, sp.len);
}

/* Parses a duration argument; on failure sets *why and returns false. */
static bool parse_time_arg(Span arg, Span whole, const char *what, DsimTime *out, char **why)
{
    g_autofree char *text = span_dup(arg);
    g_autofree char *ctx = span_dup(whole);

    if (arg.len == 0) {
        *why = g_strdup_printf("\"%s\" is missing its %s", ctx, what);
        return false;
    }
    if (!dsim_time_parse(text, out)) {
        *why = g_strdup_printf("\"%s\" in \"%s\" is not a duration (%s, write e.g. 250us, "
                               "10ms, 1.5s)", text, ctx, what);
        return false;
    }
    if (*out > DIST_MAX) {
        *why = g_strdup_printf("\"%s\" in \"%s\" is longer than 10 years, the most a "
                               "distribution may draw", text, ctx);
        return false;
    }
    return true;
}

/* Parses a plain decimal number above 0 ("0.5", "1.5", "2"); on failure sets *why. */
static bool parse_positive_arg(Span arg, Span whole, const char *what, double *out, char **why)
{
    g_autofree char *text = span_dup(arg);
    g_autofree char *ctx = span_dup(whole);
    char *end = NULL;
    double v = 0;
    /* A leading '-' is let through so that "-0.5" gets the "must be above 0" message. */
    bool plain = arg.len > 0 && (g_ascii_isdigit(text[0]) || strchr(".-", text[0]) != NULL);

    for (size_t i = 0; plain && i < arg.len; i++)
        plain = g_ascii_isdigit(text[i]) || strchr(".eE+-", text[i]) != NULL;
    if (plain)
        v = g_ascii_strtod(text, &end);
    if (!plain || end != text + arg.len || !isfinite(v)) {
        *why = g_strdup_printf("\"%s\" in \"%s\" is not a number (the %s, e.g. 0.5)",
                               text, ctx, what);
        return false;
    }
    if (!(v > 0)) {
        *why = g_strdup_printf("the %s in \"%s\" must be above 0, not %s", what, ctx, text);
        return false;
    }
    *out = v;
    return true;
}

/* Splits the inside of "NAME(...)" at top-level commas. Parentheses inside are balanced
 * (the caller found the matching ')'). */
static GArray *split_args(Span inside)
{
    GArray *args = g_array_new(FALSE, FALSE, sizeof(Span));
    int depth = 0;
    size_t start = 0;

    for (size_t i = 0; i <= inside.len; i++) {
        if (i == inside.len || (inside.s[i] == ',' && depth == 0)) {
            Span a = span_trim((Span) { inside.s + start, i - start });
            g_array_append_val(args, a);
            start = i + 1;
        } else if (inside.s[i] == '(') {
            depth++;
        } else if (inside.s[i] == ')') {
            depth--;
        }
    }
    /* "f()" has no arguments rather than one empty one. */
    if (args->len == 1 && g_array_index(args, Span, 0).len == 0)
        g_array_set_size(args, 0);
    return args;
}

static DsimDist *parse_span(Span sp, unsigned depth, char **why);

static DsimDist *parse_mix(Span whole, GArray *args, unsigned depth, char **why)
{
    g_autofree char *ctx = span_dup(whole);
    g_autoptr(DsimDist) d = g_new0(DsimDist, 1);
    double sum = 0;

    if (args->len == 0) {
        *why = g_strdup_printf("\"%s\" has no components: write mix(W:DIST, ...), e.g. "
                               "mix(0.9:10ms, 0.1:200ms)", ctx);
        return NULL;
    }
    d->kind = DSIM_DIST_MIX;
    d->n = args->len;
    d->weight = g_new0(double, d->n);
    d->component = g_new0(DsimDist, d->n);
    for (unsigned i = 0; i < args->len; i++) {
        Span arg = g_array_index(args, Span, i);
        const char *colon = memchr(arg.s, ':', arg.len);
        g_autofree char *arg_text = span_dup(arg);
        if (colon == NULL) {
            *why = g_strdup_printf("\"%s\" in \"%s\" needs a weight: write W:DIST, e.g. "
                                   "0.9:%s", arg_text, ctx, arg.len > 0 ? arg_text : "10ms");
            return NULL;
        }
        Span w = span_trim((Span) { arg.s, (size_t) (colon - arg.s) });
        Span sub = { colon + 1, arg.len - (size_t) (colon - arg.s) - 1 };
        g_autofree char *w_text = span_dup(w);
        if (!dsim_prob_parse(w_text, &d->weight[i]) || !(d->weight[i] > 0)) {
            *why = g_strdup_printf("\"%s\" in \"%s\" is not a mix weight (a number above 0 "
                                   "and at most 1, e.g. 0.9)", w_text, ctx);
            return NULL;
        }
        sum += d->weight[i];
        DsimDist *c = parse_span(sub, depth + 1, why);
        if (c == NULL)
            return NULL;
        d->component[i] = *c; /* moved: the component's arrays now belong to d */
        g_free(c);
    }
    if (fabs(sum - 1.0) > WEIGHT_EPSILON) {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        *why = g_strdup_printf("mix weights sum to %s, not 1",
                               g_ascii_formatd(buf, sizeof buf, "%.10g", sum));
        return NULL;
    }
    return g_steal_pointer(&d);
}

static DsimDist *parse_call(Span whole, Span name, Span inside, unsigned depth, char **why)
{
    g_autofree char *ctx = span_dup(whole);
    g_autofree char *fname = span_dup(name);
    g_autoptr(GArray) args = split_args(inside);
    g_autoptr(DsimDist) d = g_new0(DsimDist, 1);
    const Span *arg = (const Span *) args->data;

    if (strcmp(fname, "mix") == 0)
        return parse_mix(whole, args, depth, why);

    if (strcmp(fname, "uniform") == 0) {
        d->kind = DSIM_DIST_UNIFORM;
        if (args->len != 2) {
            *why = g_strdup_printf("\"%s\" needs two durations: uniform(LO,HI)", ctx);
            return NULL;
        }
        if (!parse_time_arg(arg[0], whole, "low end", &d->a, why)
            || !parse_time_arg(arg[1], whole, "high end", &d->b, why))
            return NULL;
        if (d->a > d->b) {
            g_autofree char *lo = span_dup(arg[0]), *hi = span_dup(arg[1]);
            *why = g_strdup_printf("\"%s\" has its low end above its high end (write "
                                   "uniform(%s,%s))", ctx, hi, lo);
            return NULL;
        }
    } else if (strcmp(fname, "normal") == 0) {
        d->kind = DSIM_DIST_NORMAL;
        if (args->len != 2) {
            *why = g_strdup_printf("\"%s\" needs a mean and a standard deviation, both "
                                   "durations: normal(MEAN,SD)", ctx);
            return NULL;
        }
        if (!parse_time_arg(arg[0], whole, "mean", &d->a, why)
            || !parse_time_arg(arg[1], whole, "standard deviation", &d->b, why))
            return NULL;
    } else if (strcmp(fname, "exp") == 0) {
        d->kind = DSIM_DIST_EXP;
        if (args->len != 1) {
            *why = g_strdup_printf("\"%s\" needs one duration, the mean: exp(MEAN)", ctx);
            return NULL;
        }
        if (!parse_time_arg(arg[0], whole, "mean", &d->a, why))
            return NULL;
    } else if (strcmp(fname, "lognormal") == 0) {
        d->kind = DSIM_DIST_LOGNORMAL;
        if (args->len != 2) {
            *why = g_strdup_printf("\"%s\" needs a median duration and a sigma: "
                                   "lognormal(MEDIAN,SIGMA), e.g. lognormal(10ms,0.5)", ctx);
            return NULL;
        }
        if (!parse_time_arg(arg[0], whole, "median", &d->a, why))
            return NULL;
        if (d->a == 0) {
            *why = g_strdup_printf("the median in \"%s\" must be above 0", ctx);
            return NULL;
        }
        if (!parse_positive_arg(arg[1], whole, "sigma", &d->shape, why))
            return NULL;
    } else if (strcmp(fname, "pareto") == 0) {
        d->kind = DSIM_DIST_PARETO;
        if (args->len != 2) {
            *why = g_strdup_printf("\"%s\" needs a scale duration and a shape: "
                                   "pareto(SCALE,SHAPE), e.g. pareto(5ms,1.5)", ctx);
            return NULL;
        }
        if (!parse_time_arg(arg[0], whole, "scale", &d->a, why))
            return NULL;
        if (d->a == 0) {
            *why = g_strdup_printf("the scale in \"%s\" must be above 0", ctx);
            return NULL;
        }
        if (!parse_positive_arg(arg[1], whole, "shape", &d->shape, why))
            return NULL;
    } else {
        *why = g_strdup_printf("\"%s\" is not a distribution (write " DIST_FORMS ")", fname);
        return NULL;
    }
    return g_steal_pointer(&d);
}

/* Parses one whole span: a duration or NAME(ARGS). */
static DsimDist *parse_span(Span sp, unsigned depth, char **why)
{
    sp = span_trim(sp);
    g_autofree char *text = span_dup(sp);

    if (depth > MAX_DEPTH) {
        *why = g_strdup_printf("\"%s\" is nested more than %d levels deep", text, MAX_DEPTH);
        return NULL;
    }
    if (sp.len == 0) {
        *why = g_strdup("empty distribution (write e.g. 10ms or uniform(5ms,15ms))");
        return NULL;
    }
    if (!g_ascii_isalpha(sp.s[0])) {
        DsimTime t;
        if (sp.s[0] == '-') {
            *why = g_strdup_printf("\"%s\" is negative: a duration is never below 0", text);
            return NULL;
        }
        if (!dsim_time_parse(text, &t)) {
            *why = g_strdup_printf("\"%s\" is not a duration (write a number and a unit, "
                                   "e.g. 250us, 10ms, 1.5s)", text);
            return NULL;
        }
        if (t > DIST_MAX) {
            *why = g_strdup_printf("\"%s\" is longer than 10 years, the most a distribution "
                                   "may draw", text);
            return NULL;
        }
        return dsim_dist_new_const(t);
    }

    size_t i = 0;
    while (i < sp.len && (g_ascii_isalnum(sp.s[i]) || sp.s[i] == '_'))
        i++;
    Span name = { sp.s, i };
    while (i < sp.len && g_ascii_isspace(sp.s[i]))
        i++;
    if (i == sp.len || sp.s[i] != '(') {
        g_autofree char *fname = span_dup(name);
        *why = g_strdup_printf("\"%s\" is not a distribution (write " DIST_FORMS ")", fname);
        return NULL;
    }

    /* Find the ')' matching this '('; it must end the span. */
    size_t open = i;
    int level = 0;
    for (; i < sp.len; i++) {
        if (sp.s[i] == '(') {
            level++;
        } else if (sp.s[i] == ')' && --level == 0) {
            break;
        }
    }
    if (i == sp.len) {
        *why = g_strdup_printf("\"%s\" is missing a closing parenthesis", text);
        return NULL;
    }
    if (i + 1 != sp.len) {
        g_autofree char *rest = span_dup(span_trim((Span) { sp.s + i + 1, sp.len - i - 1 }));
        g_autofree char *head = g_strndup(sp.s, i + 1);
        *why = g_strdup_printf("unexpected \"%s\" after \"%s\"", rest, head);
        return NULL;
    }
    Span inside = { sp.s + open + 1, i - open - 1 };
    return parse_call(sp, name, inside, depth, why);
}

DsimDist *dsim_dist_parse(const char *text, char **why)
{
    char *reason = NULL;
    DsimDist *d = parse_span((Span) { text, strlen(text) }, 0, &reason);

    g_assert((d == NULL) != (reason == NULL));
    if (why != NULL)
        *why = reason;
    else
        g_free(reason);
    return d;
}

/* ---- sampling ----------------------------------------------------------------- */

/* Rounds a drawn duration to the nearest ns and clamps it to [0, DIST_MAX]. NaN (which only
 * a degenerate parameter could produce) becomes 0. */
static DsimTime to_ns(double x)
{
    if (!(x > 0))
        return 0;
    if (x >= (double) DIST_MAX)
        return DIST_MAX;
    return (DsimTime) llround(x);
}

/* A standard normal by the Box-Muller transform (Box & Muller, 1958): exactly two uniform
 * draws, z = sqrt(-2 ln u1) cos(2 pi u2), with u1 = 1 - double in (0, 1] so ln is finite.
 * The sine twin is thrown away, because keeping it would make the draw count alternate. */
static double std_normal(DsimRng *rng)
{
    double u1 = 1.0 - dsim_rng_double(rng);
    double u2 = dsim_rng_double(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
}

DsimTime dsim_dist_sample(const DsimDist *d, DsimRng *rng)
{
    switch (d->kind) {
    case DSIM_DIST_CONST:
        return d->a;
    case DSIM_DIST_UNIFORM: {
        /* Each of the b - a + 1 integers gets an equal share of [0, 1) (to 2^-53), so both
         * ends are as likely as any inner value and the mean is exactly (a + b) / 2. */
        DsimTime span = d->b - d->a;
        DsimTime off = (DsimTime) (dsim_rng_double(rng) * ((double) span + 1.0));
        return d->a + (off > span ? span : off);
    }
    case DSIM_DIST_NORMAL:
        return to_ns((double) d->a + (double) d->b * std_normal(rng));
    case DSIM_DIST_EXP:
        /* Inversion: -mean ln(1 - u), u in [0, 1). */
        return to_ns(-(double) d->a * log(1.0 - dsim_rng_double(rng)));
    case DSIM_DIST_LOGNORMAL:
        /* median * e^(sigma z): ln X is normal with mean ln(median) and sd sigma. */
        return to_ns((double) d->a * exp(d->shape * std_normal(rng)));
    case DSIM_DIST_PARETO:
        /* Inversion: scale (1 - u)^(-1/shape), always >= scale since 1 - u is in (0, 1]. */
        return to_ns((double) d->a * pow(1.0 - dsim_rng_double(rng), -1.0 / d->shape));
    case DSIM_DIST_MIX: {
        /* One draw picks the component by cumulative weight, in the written order; the last
         * one also takes the rounding slack when the weights sum to 1 - epsilon. */
        double u = dsim_rng_double(rng), acc = 0;
        unsigned i = 0;
        for (; i + 1 < d->n; i++) {
            acc += d->weight[i];
            if (u < acc)
                break;
        }
        return dsim_dist_sample(&d->component[i], rng);
    }
    }
    g_assert_not_reached();
}

/* ---- mean and text ------------------------------------------------------------ */

static double cap_mean(double m)
{
    return m >= (double) DSIM_TIME_NEVER ? (double) DSIM_TIME_NEVER : m;
}

double dsim_dist_mean(const DsimDist *d)
{
    /* The means of the distributions as written, before rounding to ns and the 10-year clamp;
     * the normal's is the untruncated mean a, which the truncation at 0 raises noticeably
     * only when sd is not small against the mean (normal(1ms,2ms) averages ~1.8ms). */
    switch (d->kind) {
    case DSIM_DIST_CONST:
    case DSIM_DIST_NORMAL:
    case DSIM_DIST_EXP:
        return (double) d->a;
    case DSIM_DIST_UNIFORM:
        return ((double) d->a + (double) d->b) / 2.0;
    case DSIM_DIST_LOGNORMAL:
        return cap_mean((double) d->a * exp(d->shape * d->shape / 2.0));
    case DSIM_DIST_PARETO:
        if (d->shape <= 1.0)
            return (double) DSIM_TIME_NEVER;
        return cap_mean((double) d->a * d->shape / (d->shape - 1.0));
    case DSIM_DIST_MIX: {
        double m = 0;
        for (unsigned i = 0; i < d->n; i++) {
            double c = dsim_dist_mean(&d->component[i]);
            if (c >= (double) DSIM_TIME_NEVER)
                return (double) DSIM_TIME_NEVER;
            m += d->weight[i] * c;
        }
        return cap_mean(m);
    }
    }
    g_assert_not_reached();
}

/* The shortest decimal that reads back as exactly @v ("0.9", not "0.90000000000000002"). */
static void append_double(GString *out, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE], fmt[8];
    /* 17 significant digits always round-trip an IEEE double, so the loop ends with one.
     * An exponent is kept only where plain digits would be long ("1e-05"), so that 40 is
     * "40" and not "4e+01". */
    bool tiny_or_huge = fabs(v) < 1e-4 || fabs(v) >= 1e15;
    for (int prec = 1; prec <= 17; prec++) {
        g_snprintf(fmt, sizeof fmt, "%%.%dg", prec);
        g_ascii_formatd(buf, sizeof buf, fmt, v);
        if (g_ascii_strtod(buf, NULL) == v && (tiny_or_huge || strchr(buf, 'e') == NULL))
            break;
    }
    g_string_append(out, buf);
}

void dsim_dist_format(const DsimDist *d, GString *out)
{
    switch (d->kind) {
    case DSIM_DIST_CONST:
        dsim_time_format_short(d->a, out);
        return;
    case DSIM_DIST_UNIFORM:
    case DSIM_DIST_NORMAL:
        g_string_append(out, d->kind == DSIM_DIST_UNIFORM ? "uniform(" : "normal(");
        dsim_time_format_short(d->a, out);
        g_string_append_c(out, ',');
        dsim_time_format_short(d->b, out);
        g_string_append_c(out, ')');
        return;
    case DSIM_DIST_EXP:
        g_string_append(out, "exp(");
        dsim_time_format_short(d->a, out);
        g_string_append_c(out, ')');
        return;
    case DSIM_DIST_LOGNORMAL:
    case DSIM_DIST_PARETO:
        g_string_append(out, d->kind == DSIM_DIST_LOGNORMAL ? "lognormal(" : "pareto(");
        dsim_time_format_short(d->a, out);
        g_string_append_c(out, ',');
        append_double(out, d->shape);
        g_string_append_c(out, ')');
        return;
    case DSIM_DIST_MIX:
        g_string_append(out, "mix(");
        for (unsigned i = 0; i < d->n; i++) {
            if (i > 0)
                g_string_append(out, ", ");
            append_double(out, d->weight[i]);
            g_string_append_c(out, ':');
            dsim_dist_format(&d->component[i], out);
        }
        g_string_append_c(out, ')');
        return;
    }
    g_assert_not_reached();
}
