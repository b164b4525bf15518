/* time.h - virtual time: parsing durations and rates from scenario text, formatting for traces.
 *
 * Durations are written with a unit ("250ns", "10us", "5ms", "1.5s", "2m", "1h") and become
 * integer nanoseconds once, at load; nothing downstream sees floating point time. Decimal
 * values are parsed digit by digit into integers (no strtod), so "0.1s" is exactly 100000000.
 */
#ifndef DSIM_TIME_H
#define DSIM_TIME_H

#include "sim/dsim.h"

/* Parses a duration such as "1.5s" into @out. Whitespace around the text is allowed, and a
 * bare "0" needs no unit. Returns false (and leaves @out alone) for anything else: no unit,
 * unknown unit, a sign, an exponent, a value that is not a whole number of nanoseconds
 * ("1.5ns", "0.0000000001s"), or above INT64_MAX ns (~292 years). */
bool dsim_time_parse(const char *text, DsimTime *out);

/* Parses "150ms..300ms" (uniform, inclusive; lo <= hi) or a single duration (zero width).
 * Returns false and leaves @out alone otherwise. */
bool dsim_time_range_parse(const char *text, DsimTimeRange *out);

/* Parses a rate "100/s", "5/ms", "2.5/s", "60/m" into events per second (> 0). Returns
 * false and leaves @per_second alone otherwise. */
bool dsim_rate_parse(const char *text, double *per_second);

/* Parses a probability "0.01" (0..1 inclusive; plain decimal or "1e-3" notation, no sign,
 * NaN or infinity). Returns false and leaves @out alone otherwise. */
bool dsim_prob_parse(const char *text, double *out);

/* Appends "   1.250000000s" (width 14, right-aligned, 9 decimals) to @out. */
void dsim_time_format(DsimTime t, GString *out);

/* Appends the shortest exact human form: "150ms", "1.5s", "250ns", "0s", "2m". For t >= 0
 * the text parses back to exactly @t with dsim_time_parse(). */
void dsim_time_format_short(DsimTime t, GString *out);

#endif /* DSIM_TIME_H */
