/* jsonw.c - see jsonw.h. */
#include "sim/jsonw.h"

#include <inttypes.h>
#include <math.h>

void dsim_json_init(DsimJson *j, GString *out, bool pretty)
{
    j->out = out;
    j->depth = 0;
    j->need_comma[0] = false;
    j->pretty = pretty;
}

static void newline(DsimJson *j)
{
    if (!j->pretty)
        return;
    g_string_append_c(j->out, '\n');
    for (int i = 0; i < j->depth; i++)
        g_string_append(j->out, "  ");
}

static void key(DsimJson *j, const char *k)
{
    if (j->need_comma[j->depth])
        g_string_append_c(j->out, ',');
    if (j->depth > 0)
        newline(j);
    j->need_comma[j->depth] = true;
    if (k != NULL) {
        dsim_json_escape(j->out, k);
        g_string_append(j->out, j->pretty ? ": " : ":");
    }
}

void dsim_json_escape(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
        switch (*p) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (*p < 0x20)
                g_string_append_printf(out, "\\u%04x", *p);
            else
                g_string_append_c(out, (char) *p);
        }
    }
    g_string_append_c(out, '"');
}

static void open_(DsimJson *j, const char *k, char c)
{
    key(j, k);
    g_string_append_c(j->out, c);
    g_assert(j->depth + 1 < (int) G_N_ELEMENTS(j->need_comma));
    j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_(DsimJson *j, char c)
{
    bool had = j->need_comma[j->depth];
    j->depth--;
    if (had)
        newline(j);
    g_string_append_c(j->out, c);
}

void dsim_json_begin_object(DsimJson *j, const char *k) { open_(j, k, '{'); }
void dsim_json_end_object(DsimJson *j) { close_(j, '}'); }
void dsim_json_begin_array(DsimJson *j, const char *k) { open_(j, k, '['); }
void dsim_json_end_array(DsimJson *j) { close_(j, ']'); }

void dsim_json_string(DsimJson *j, const char *k, const char *value)
{
    key(j, k);
    if (value == NULL)
        g_string_append(j->out, "null");
    else
        dsim_json_escape(j->out, value);
}

void dsim_json_int(DsimJson *j, const char *k, int64_t value)
{
    key(j, k);
    g_string_append_printf(j->out, "%" PRId64, value);
}

void dsim_json_uint(DsimJson *j, const char *k, uint64_t value)
{
    key(j, k);
    g_string_append_printf(j->out, "%" PRIu64, value);
}

void dsim_json_double(DsimJson *j, const char *k, double value)
{
    key(j, k);
    if (isnan(value) || isinf(value))
        g_string_append(j->out, "null");
    else
        g_string_append_printf(j->out, "%.9g", value);
}

void dsim_json_bool(DsimJson *j, const char *k, bool value)
{
    key(j, k);
    g_string_append(j->out, value ? "true" : "false");
}

void dsim_json_raw(DsimJson *j, const char *k, const char *raw)
{
    key(j, k);
    g_string_append(j->out, raw);
}

void dsim_json_null(DsimJson *j, const char *k)
{
    key(j, k);
    g_string_append(j->out, "null");
}
