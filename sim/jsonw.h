/* jsonw.h - a small JSON writer into a GString, keys in the order the caller writes them.
 *
 * Written by hand because GLib has no JSON writer and json-glib would be a dependency for
 * some sixty lines; dsim only writes JSON (summary.json, events.jsonl), with a fixed key order
 * and fixed number formats so that outputs are byte-for-byte reproducible.
 */
#ifndef DSIM_JSONW_H
#define DSIM_JSONW_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    GString *out;
    int      depth;
    bool     need_comma[32];
    bool     pretty;
} DsimJson;

void dsim_json_init(DsimJson *j, GString *out, bool pretty);
void dsim_json_begin_object(DsimJson *j, const char *key); /* key NULL inside arrays/top */
void dsim_json_end_object(DsimJson *j);
void dsim_json_begin_array(DsimJson *j, const char *key);
void dsim_json_end_array(DsimJson *j);
void dsim_json_string(DsimJson *j, const char *key, const char *value); /* NULL -> null */
void dsim_json_int(DsimJson *j, const char *key, int64_t value);
void dsim_json_uint(DsimJson *j, const char *key, uint64_t value);
void dsim_json_double(DsimJson *j, const char *key, double value); /* %.9g; NaN/inf -> null */
void dsim_json_bool(DsimJson *j, const char *key, bool value);
void dsim_json_null(DsimJson *j, const char *key);
/* Writes @raw, already valid JSON, as the value (e.g. a compact object on one line). */
void dsim_json_raw(DsimJson *j, const char *key, const char *raw);
/* Appends @s as a quoted, escaped JSON string. */
void dsim_json_escape(GString *out, const char *s);

#endif /* DSIM_JSONW_H */
