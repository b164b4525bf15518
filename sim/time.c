/* time.c - durations, ranges, rates and probabilities from scenario text; time in traces.
 *
 * The one idea: a duration becomes integer nanoseconds exactly, or not at all. The digits of
 * "1.5s" are read as the integer 15 with one decimal, and the value is 15 * 10^9 / 10^1 ns,
 * computed in 64-bit integers without ever passing through a double. A value that does not
 * land on a whole nanosecond ("1.5ns", "0.0000000001s") or does not fit in an int64 is
 * rejected rather than rounded, so what a scenario says is what the run does. Rates and
 * probabilities are doubles by nature (they feed draws, never the clock), and are read with
 * g_ascii_strtod so that the user's locale cannot change them.
 */
#include "sim/time.h"

#include <math.h>
#include <string.h>

/* ---- units ---------------------------------------------------------------- */

typedef struct {
    const char *name;
    DsimTime    ns;
} TimeUnit;

/* From the largest to the smallest: dsim_time_format_short() relies on this order. */
static const TimeUnit time_units[] = {
    { "h", DSIM_S(3600) },
    { "m", DSIM_S(60) },
    { "s", DSIM_S(1) },
    { "ms", DSIM_MS(1) },
    { "us", DSIM_US(1) },
    { "ns", DSIM_NS(1) },
};

static const TimeUnit *find_unit(const char *s, size_t len)
{
    for (size_t i = 0; i < G_N_ELEMENTS(time_units); i++) {
        if (strlen(time_units[i].name) == len && memcmp(time_units[i].name, s, len) == 0)
            return &time_units[i];
    }
    return NULL;
}

/* ---- scanning helpers ----------------------------------------------------- */

/* Trims ASCII whitespace from both ends of @text; returns the start, *len the length. */
static const char *trim(const char *text, size_t *len)
{
    const char *s = text, *e = text + strlen(text);
    while (s < e && g_ascii_isspace(*s))
        s++;
    while (e > s && g_ascii_isspace(e[-1]))
        e--;
    *len = (size_t) (e - s);
    return s;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* An unsigned decimal "DIGITS[.DIGITS]" as the integer part and the fraction
 * frac / 10^frac_digits, with trailing zeros of the fraction dropped ("1.500" has
 * frac 5, frac_digits 1). */
typedef struct {
    uint64_t whole;
    uint64_t frac;
    unsigned frac_digits;
} Decimal;

/* At most 18 significant fraction digits: 10^18 still fits in a uint64, and no unit here
 * can make a longer fraction a whole number of nanoseconds anyway (the largest unit, 1h, is
 * 2^13 * 3^2 * 5^11 ns, so at most 13 decimals can cancel). */
#define MAX_FRAC_DIGITS 18

/* Scans a decimal at @s (no sign, at least one digit before the point, and at least one
 * after it if there is a point). Returns how many characters it used, 0 when there is no
 * valid decimal there or it overflows. */
static size_t scan_decimal(const char *s, size_t len, Decimal *out)
{
    size_t i = 0;
    Decimal d = { 0, 0, 0 };

    if (i >= len || !g_ascii_isdigit(s[i]))
        return 0;
    while (i < len && g_ascii_isdigit(s[i])) {
        unsigned digit = (unsigned) (s[i] - '0');
        if (d.whole > (UINT64_MAX - digit) / 10)
            return 0;
        d.whole = d.whole * 10 + digit;
        i++;
    }
    if (i < len && s[i] == '.') {
        size_t start = ++i, last_nonzero = 0;
        while (i < len && g_ascii_isdigit(s[i])) {
            if (s[i] != '0')
                last_nonzero = i - start + 1;
            i++;
        }
        if (i == start)
            return 0; /* "5." */
        if (last_nonzero > MAX_FRAC_DIGITS)
            return 0;
        for (size_t k = 0; k < last_nonzero; k++)
            d.frac = d.frac * 10 + (unsigned) (s[start + k] - '0');
        d.frac_digits = (unsigned) last_nonzero;
    }
    *out = d;
    return i;
}

static uint64_t pow10_u64(unsigned n)
{
    uint64_t p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* d * unit nanoseconds, exactly; false when it is not a whole number of ns or exceeds
 * INT64_MAX. The fraction is frac / 10^k; with g = gcd(unit, 10^k) the fractional ns are
 * (frac / (10^k / g)) * (unit / g), which is exact when 10^k / g divides frac and never
 * overflows because the result is below unit. */
static bool decimal_to_ns(const Decimal *d, DsimTime unit, DsimTime *out)
{
    uint64_t u = (uint64_t) unit;
    uint64_t frac_ns = 0;

    if (d->frac_digits > 0) {
        uint64_t den = pow10_u64(d->frac_digits);
        uint64_t g = gcd_u64(u, den);
        if (d->frac % (den / g) != 0)
            return false;
        frac_ns = (d->frac / (den / g)) * (u / g);
    }
    if (d->whole > ((uint64_t) INT64_MAX - frac_ns) / u)
        return false;
    *out = (DsimTime) (d->whole * u + frac_ns);
    return true;
}

/* ---- parsing ------------------------------------------------------------------ */

static bool parse_duration(const char *s, size_t len, DsimTime *out)
{
    Decimal d;
    size_t n = scan_decimal(s, len, &d);

    if (n == 0)
        return false;
    if (n == len) {
        /* No unit: only a bare "0" is unambiguous. */
        if (len == 1 && s[0] == '0') {
            *out = 0;
            return true;
        }
        return false;
    }
    const TimeUnit *unit = find_unit(s + n, len - n);
    return unit != NULL && decimal_to_ns(&d, unit->ns, out);
}

bool dsim_time_parse(const char *text, DsimTime *out)
{
    size_t len;
    const char *s = trim(text, &len);
    DsimTime t;

    if (!parse_duration(s, len, &t))
        return false;
    *out = t;
    return true;
}

bool dsim_time_range_parse(const char *text, DsimTimeRange *out)
{
    const char *dots = strstr(text, "..");
    DsimTimeRange r;

    if (dots == NULL) {
        if (!dsim_time_parse(text, &r.lo))
            return false;
        r.hi = r.lo;
    } else {
        g_autofree char *lo = g_strndup(text, (size_t) (dots - text));
        if (!dsim_time_parse(lo, &r.lo) || !dsim_time_parse(dots + 2, &r.hi))
            return false;
        if (r.lo > r.hi)
            return false;
    }
    *out = r;
    return true;
}

bool dsim_rate_parse(const char *text, double *per_second)
{
    size_t len;
    const char *s = trim(text, &len);
    const char *slash = memchr(s, '/', len);
    Decimal d;

    if (slash == NULL)
        return false;
    size_t count_len = (size_t) (slash - s);
    if (scan_decimal(s, count_len, &d) != count_len)
        return false;
    const TimeUnit *unit = find_unit(slash + 1, len - count_len - 1);
    if (unit == NULL)
        return false;

    /* count / unit in events per second: (whole + frac / 10^k) * 10^9 / unit_ns. The sum is
     * rounded once to a double; the rest are exact for every unit here ("60/m" is 1). */
    double count = (double) d.whole + (double) d.frac / (double) pow10_u64(d.frac_digits);
    double rate = count * 1e9 / (double) unit->ns;
    if (!(rate > 0) || !isfinite(rate))
        return false;
    *per_second = rate;
    return true;
}

bool dsim_prob_parse(const char *text, double *out)
{
    size_t len;
    const char *s = trim(text, &len);

    /* Plain decimal notation only: g_ascii_strtod would also take "nan", "inf", "0x1p-3"
     * and a sign, none of which a user means by a probability. */
    if (len == 0 || !(g_ascii_isdigit(s[0]) || s[0] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isdigit(s[i]) && strchr(".eE+-", s[i]) == NULL)
            return false;
    }
    g_autofree char *copy = g_strndup(s, len);
    char *end = NULL;
    double p = g_ascii_strtod(copy, &end);
    if (end != copy + len || !isfinite(p) || p < 0 || p > 1)
        return false;
    *out = p;
    return true;
}

/* ---- formatting ------------------------------------------------------------- */

/* |t| without overflow for INT64_MIN. */
static uint64_t magnitude(DsimTime t)
{
    return t < 0 ? (uint64_t) -(t + 1) + 1 : (uint64_t) t;
}

void dsim_time_format(DsimTime t, GString *out)
{
    uint64_t m = magnitude(t);
    char body[32];

    /* Integer arithmetic only: a double would lose nanoseconds after ~104 days. */
    int n = g_snprintf(body, sizeof body, "%s%" PRIu64 ".%09" PRIu64, t < 0 ? "-" : "",
                       m / 1000000000u, m % 1000000000u);
    for (int pad = 14 - n; pad > 0; pad--)
        g_string_append_c(out, ' ');
    g_string_append(out, body);
    g_string_append_c(out, 's');
}

/* Writes m / unit as an exact decimal into @buf, or returns false when the quotient has no
 * finite decimal form ("100s" in minutes is 1.666...). */
static bool exact_decimal(uint64_t m, uint64_t unit, char *buf, size_t size)
{
    uint64_t r = m % unit;
    int n = g_snprintf(buf, size, "%" PRIu64, m / unit);

    if (r == 0)
        return true;
    buf[n++] = '.';
    /* At most 13 decimals can terminate (see MAX_FRAC_DIGITS); r * 10 < 10 * 1h fits. */
    for (int k = 0; k < 13 && r != 0; k++) {
        r *= 10;
        buf[n++] = (char) ('0' + r / unit);
        r %= unit;
    }
    buf[n] = '\0';
    return r == 0;
}

void dsim_time_format_short(DsimTime t, GString *out)
{
    uint64_t m = magnitude(t);
    char best[48] = "", cand[48];
    const char *best_unit = "s";

    if (m == 0) {
        g_string_append(out, "0s");
        return;
    }
    /* The shortest text over every unit in which the value is at least 1 and exact; ties go
     * to the larger unit (units are listed largest first). So 150000000 is "150ms" rather
     * than "0.15s", 1500000000 is "1.5s" rather than "1500ms", 90 s is "90s" rather than
     * "1.5m". Every result parses back to @t (for t >= 0, as negatives are not input). */
    for (size_t i = 0; i < G_N_ELEMENTS(time_units); i++) {
        uint64_t unit = (uint64_t) time_units[i].ns;
        if (m < unit || !exact_decimal(m, unit, cand, sizeof cand))
            continue;
        size_t len = strlen(cand) + strlen(time_units[i].name);
        if (best[0] == '\0' || len < strlen(best) + strlen(best_unit)) {
            strcpy(best, cand);
            best_unit = time_units[i].name;
        }
    }
    if (t < 0)
        g_string_append_c(out, '-');
    g_string_append(out, best);
    g_string_append(out, best_unit);
}
