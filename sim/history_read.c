/* history_read.c - client histories from files: dsim's history.jsonl, EDN (Jepsen, Knossos,
 * Porcupine's key-value logs) and Porcupine's Jepsen etcd logs, all into one DsimLinHistory.
 *
 * Each reader is small and strict about the subset it accepts: EDN maps, vectors, lists,
 * keywords, symbols, integers, strings and nil (no floats, characters, sets or tagged
 * literals, which no history needs), and flat JSON objects of strings, integers, null and
 * arrays, one per line. GLib has no JSON parser and dsim does not take json-glib for a
 * reader this size. Anything outside the subset is an input error "FILE:LINE: message",
 * never a silent skip, except the lines of a Jepsen log that are not operations (Jepsen logs
 * everything through the same file, and Porcupine skips those lines too).
 *
 * What the events mean (which completion closes which invocation, what fail and info imply)
 * is not decided here but in lincheck.c, where an operation meets a model.
 */
#include "sim/lincheck.h"

#include <glib/gstdio.h>
#include <string.h>

G_DEFINE_QUARK(dsim-lin-error-quark, dsim_lin_error)

/* ---- values ----------------------------------------------------------------------- */

/* Interns a value by its EDN text, which is unique per value. @s (n bytes) is the string
 * content or name, @items the members of a vector or map. */
static DsimLinValue intern(DsimLinHistory *h, DsimLinValueKind kind, const char *text, size_t text_len,
                           const char *s, size_t n, int64_t i, const DsimLinValue *items,
                           size_t n_items)
{
    g_autofree char *key = g_strndup(text, text_len);
    gpointer found = g_hash_table_lookup(h->intern, key);
    if (found != NULL)
        return (DsimLinValue) (GPOINTER_TO_UINT(found) - 1);
    DsimLinVal v = { .kind = kind, .i = i };
    v.text = g_string_chunk_insert_len(h->chunk, text, (gssize) text_len);
    if (s != NULL) {
        v.s = g_string_chunk_insert_len(h->chunk, s, (gssize) n);
        v.n = (uint32_t) n;
    }
    if (items != NULL) {
        v.first = h->items->len;
        v.n = (uint32_t) n_items;
        g_array_append_vals(h->items, items, (guint) n_items);
    }
    DsimLinValue id = h->values->len;
    g_array_append_val(h->values, v);
    g_hash_table_insert(h->intern, (gpointer) v.text, GUINT_TO_POINTER(id + 1));
    return id;
}

/* Appends @s (n bytes) as an EDN string literal. */
static void quote_string(GString *out, const char *s, size_t n)
{
    g_string_append_c(out, '"');
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char) s[k];
        switch (c) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\t': g_string_append(out, "\\t"); break;
        case '\r': g_string_append(out, "\\r"); break;
        default:
            if (c < 0x20)
                g_string_append_printf(out, "\\u%04x", c);
            else
                g_string_append_c(out, (char) c);
        }
    }
    g_string_append_c(out, '"');
}

static DsimLinValue intern_string(DsimLinHistory *h, const char *s, size_t n)
{
    g_autoptr(GString) text = g_string_sized_new(n + 2);
    quote_string(text, s, n);
    return intern(h, DSIM_LIN_VAL_STRING, text->str, text->len, s, n, 0, NULL, 0);
}

static DsimLinValue intern_name(DsimLinHistory *h, DsimLinValueKind kind, const char *s, size_t n)
{
    g_autofree char *text = g_strdup_printf("%s%.*s", kind == DSIM_LIN_VAL_KEYWORD ? ":" : "", (int) n, s);
    return intern(h, kind, text, strlen(text), s, n, 0, NULL, 0);
}

static DsimLinValue intern_int(DsimLinHistory *h, int64_t i)
{
    char text[24];
    int len = g_snprintf(text, sizeof text, "%" G_GINT64_FORMAT, i);
    return intern(h, DSIM_LIN_VAL_INT, text, (size_t) len, NULL, 0, i, NULL, 0);
}

static DsimLinValue intern_items(DsimLinHistory *h, DsimLinValueKind kind, const GArray *items)
{
    g_autoptr(GString) text = g_string_new(kind == DSIM_LIN_VAL_MAP ? "{" : "[");
    for (unsigned k = 0; k < items->len; k++) {
        if (k > 0)
            g_string_append(text, kind == DSIM_LIN_VAL_MAP && k % 2 == 0 ? ", " : " ");
        g_string_append(text, dsim_lin_val(h, g_array_index(items, DsimLinValue, k))->text);
    }
    g_string_append_c(text, kind == DSIM_LIN_VAL_MAP ? '}' : ']');
    return intern(h, kind, text->str, text->len, NULL, 0, 0, (const DsimLinValue *) (const void *) items->data,
                  items->len);
}

static DsimLinHistory *history_new(const char *name)
{
    DsimLinHistory *h = g_new0(DsimLinHistory, 1);
    h->name = g_strdup(name);
    h->events = g_array_new(FALSE, TRUE, sizeof(DsimLinEvent));
    h->values = g_array_new(FALSE, TRUE, sizeof(DsimLinVal));
    h->items = g_array_new(FALSE, FALSE, sizeof(DsimLinValue));
    h->intern = g_hash_table_new(g_str_hash, g_str_equal);
    h->chunk = g_string_chunk_new(4096);
    DsimLinValue nil = intern(h, DSIM_LIN_VAL_NIL, "nil", 3, NULL, 0, 0, NULL, 0);
    g_assert(nil == DSIM_LIN_NIL);
    return h;
}

void dsim_lin_history_free(DsimLinHistory *h)
{
    if (h == NULL)
        return;
    g_free(h->name);
    g_array_unref(h->events);
    g_array_unref(h->values);
    g_array_unref(h->items);
    g_hash_table_destroy(h->intern);
    g_string_chunk_free(h->chunk);
    g_free(h);
}

/* ---- the shared scanner ----------------------------------------------------------------- */

typedef struct {
    DsimLinHistory *h;
    const char     *p, *end;
    unsigned        line;
    bool            json;  /* JSON syntax: null, ':' between key and value, commas required */
    GError        **error;
} Reader;

static bool fail_at(Reader *r, unsigned line, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static bool fail_at(Reader *r, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(r->error, DSIM_LIN_ERROR, DSIM_LIN_ERROR_PARSE, "%s:%u: %s", r->h->name, line, msg);
    return false;
}

static bool at_end(const Reader *r) { return r->p >= r->end; }

/* A short quote of the input at the cursor, for messages. */
static char *near(const Reader *r)
{
    if (at_end(r))
        return g_strdup("end of input");
    const char *stop = r->p;
    while (stop < r->end && stop - r->p < 20 && *stop != '\n')
        stop++;
    return g_strdup_printf("'%.*s'", (int) (stop - r->p), r->p);
}

static bool parse_value(Reader *r, DsimLinValue *out);

/* Skips whitespace; EDN also skips commas, ; comments and #_ discarded forms. */
static bool skip_ws(Reader *r)
{
    while (!at_end(r)) {
        char c = *r->p;
        if (c == '\n') {
            r->line++;
            r->p++;
        } else if (c == ' ' || c == '\t' || c == '\r' || (c == ',' && !r->json)) {
            r->p++;
        } else if (c == ';' && !r->json) {
            while (!at_end(r) && *r->p != '\n')
                r->p++;
        } else if (c == '#' && !r->json && r->p + 1 < r->end && r->p[1] == '_') {
            r->p += 2;
            DsimLinValue ignored;
            if (!skip_ws(r) || !parse_value(r, &ignored))
                return false;
        } else {
            break;
        }
    }
    return true;
}

static bool is_name_char(char c)
{
    return g_ascii_isalnum(c) || strchr(".*+!-_?$%&=<>/:#'", c) != NULL;
}

static bool parse_string(Reader *r, DsimLinValue *out)
{
    unsigned line = r->line;
    g_autoptr(GString) s = g_string_new(NULL);
    r->p++; /* the opening quote */
    for (;;) {
        if (at_end(r))
            return fail_at(r, line, "unterminated string");
        char c = *r->p++;
        if (c == '"')
            break;
        if (c == '\n') {
            if (r->json)
                return fail_at(r, line, "unterminated string (JSON strings end on their line)");
            r->line++;
        }
        if (c != '\\') {
            g_string_append_c(s, c);
            continue;
        }
        if (at_end(r))
            return fail_at(r, line, "unterminated string");
        c = *r->p++;
        switch (c) {
        case '"': case '\\': case '/': g_string_append_c(s, c); break;
        case 'n': g_string_append_c(s, '\n'); break;
        case 't': g_string_append_c(s, '\t'); break;
        case 'r': g_string_append_c(s, '\r'); break;
        case 'b': g_string_append_c(s, '\b'); break;
        case 'f': g_string_append_c(s, '\f'); break;
        case 'u': {
            if (r->end - r->p < 4)
                return fail_at(r, r->line, "\\u needs four hex digits");
            gunichar u = 0;
            for (int k = 0; k < 4; k++) {
                int d = g_ascii_xdigit_value(r->p[k]);
                if (d < 0)
                    return fail_at(r, r->line, "\\u needs four hex digits");
                u = u * 16 + (gunichar) d;
            }
            r->p += 4;
            if (u >= 0xd800 && u <= 0xdfff)
                return fail_at(r, r->line, "\\u%04x: surrogate pairs are not supported", u);
            g_string_append_unichar(s, u);
            break;
        }
        default:
            return fail_at(r, r->line, "unknown escape '\\%c' in a string", c);
        }
    }
    *out = intern_string(r->h, s->str, s->len);
    return true;
}

static bool parse_number(Reader *r, DsimLinValue *out)
{
    const char *start = r->p;
    if (*r->p == '-' || (*r->p == '+' && !r->json))
        r->p++;
    const char *digits = r->p;
    while (!at_end(r) && g_ascii_isdigit(*r->p))
        r->p++;
    if (r->p == digits)
        return fail_at(r, r->line, "expected a value, found '%.*s'", (int) (r->p - start), start);
    if (!at_end(r) && (*r->p == '.' || *r->p == 'e' || *r->p == 'E' || *r->p == 'M'))
        return fail_at(r, r->line, "'%.*s...': only integers are supported, not floating point",
                       (int) (r->p - start), start);
    g_autofree char *text = g_strndup(start, (gsize) (r->p - start));
    if (!r->json && !at_end(r) && *r->p == 'N')
        r->p++; /* EDN bigint suffix */
    gint64 v;
    if (!g_ascii_string_to_signed(*text == '+' ? text + 1 : text, 10, G_MININT64, G_MAXINT64, &v, NULL))
        return fail_at(r, r->line, "%s: integer out of range (64-bit)", text);
    if (!at_end(r) && is_name_char(*r->p))
        return fail_at(r, r->line, "'%s%c...' is not a number", text, *r->p);
    *out = intern_int(r->h, v);
    return true;
}

/* Reads the items of a collection up to @close. */
static bool parse_items(Reader *r, char close, GArray *items)
{
    unsigned line = r->line;
    r->p++; /* the opening bracket */
    for (;;) {
        if (!skip_ws(r))
            return false;
        if (at_end(r))
            return fail_at(r, line, "'%c' is never closed", close == ']' ? '[' : close == ')' ? '(' : '{');
        if (*r->p == close) {
            r->p++;
            return true;
        }
        if (r->json && items->len > 0) {
            if (*r->p != ',')
                return fail_at(r, r->line, "expected ',' or '%c' in an array", close);
            r->p++;
            if (!skip_ws(r))
                return false;
        }
        DsimLinValue v;
        if (!parse_value(r, &v))
            return false;
        g_array_append_val(items, v);
    }
}

static bool parse_value(Reader *r, DsimLinValue *out)
{
    if (!skip_ws(r))
        return false;
    if (at_end(r))
        return fail_at(r, r->line, "expected a value, found the end of the input");
    char c = *r->p;
    if (c == '"')
        return parse_string(r, out);
    if (g_ascii_isdigit(c) || ((c == '-' || c == '+') && r->p + 1 < r->end && g_ascii_isdigit(r->p[1])))
        return parse_number(r, out);
    if (c == '[' || (c == '(' && !r->json)) {
        g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(DsimLinValue));
        if (!parse_items(r, c == '[' ? ']' : ')', items))
            return false;
        *out = intern_items(r->h, DSIM_LIN_VAL_VECTOR, items);
        return true;
    }
    if (c == '{' && !r->json) {
        g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(DsimLinValue));
        unsigned line = r->line;
        if (!parse_items(r, '}', items))
            return false;
        if (items->len % 2 != 0)
            return fail_at(r, line, "a map needs an even number of forms");
        *out = intern_items(r->h, DSIM_LIN_VAL_MAP, items);
        return true;
    }
    if (c == ':' && !r->json) {
        const char *start = ++r->p;
        while (!at_end(r) && is_name_char(*r->p))
            r->p++;
        if (r->p == start)
            return fail_at(r, r->line, "a keyword needs a name after ':'");
        *out = intern_name(r->h, DSIM_LIN_VAL_KEYWORD, start, (size_t) (r->p - start));
        return true;
    }
    if (g_ascii_isalpha(c) || (!r->json && strchr("*!_?$%&=<>.", c) != NULL)) {
        const char *start = r->p;
        while (!at_end(r) && is_name_char(*r->p) && (!r->json || g_ascii_isalpha(*r->p)))
            r->p++;
        size_t n = (size_t) (r->p - start);
        if ((r->json && n == 4 && memcmp(start, "null", 4) == 0)
            || (!r->json && n == 3 && memcmp(start, "nil", 3) == 0)) {
            *out = DSIM_LIN_NIL;
            return true;
        }
        bool boolean = (n == 4 && memcmp(start, "true", 4) == 0) || (n == 5 && memcmp(start, "false", 5) == 0);
        if (r->json && !boolean)
            return fail_at(r, r->line, "'%.*s' is not a JSON value", (int) n, start);
        *out = intern_name(r->h, DSIM_LIN_VAL_SYMBOL, start, n);
        return true;
    }
    if (c == '#')
        return fail_at(r, r->line, "EDN tagged literals and sets ('#...') are not supported in histories");
    if (c == '\\' && !r->json)
        return fail_at(r, r->line, "EDN characters ('\\c') are not supported in histories");
    g_autofree char *what = near(r);
    return fail_at(r, r->line, "expected a value, found %s", what);
}

/* ---- events ---------------------------------------------------------------------------- */

static bool type_from_name(const char *s, DsimLinType *out)
{
    static const char *const names[] = { "invoke", "ok", "fail", "info" };
    for (unsigned k = 0; k < G_N_ELEMENTS(names); k++) {
        if (strcmp(s, names[k]) == 0) {
            *out = (DsimLinType) k;
            return true;
        }
    }
    return false;
}

typedef struct {
    bool         has_process, has_type, has_f, has_time;
    DsimLinEvent ev;
} Fields;

/* Sets a field of @fs from the value @v of key @name; unknown keys are ignored. */
static bool set_field(Reader *r, unsigned line, Fields *fs, const char *name, DsimLinValue v)
{
    const DsimLinVal *val = dsim_lin_val(r->h, v);
    const char *q = r->json ? "\"" : ":";
    if (strcmp(name, "process") == 0) {
        if (val->kind == DSIM_LIN_VAL_INT)
            fs->ev.process = val->i;
        else if (val->kind == DSIM_LIN_VAL_KEYWORD || val->kind == DSIM_LIN_VAL_STRING)
            fs->ev.process = DSIM_LIN_NOT_CLIENT; /* :nemesis and the like */
        else
            return fail_at(r, line, "%sprocess%s %s: expected an integer", q, r->json ? "\"" : "", val->text);
        fs->has_process = true;
    } else if (strcmp(name, "type") == 0) {
        if ((val->kind != DSIM_LIN_VAL_KEYWORD && val->kind != DSIM_LIN_VAL_STRING)
            || !type_from_name(val->s, &fs->ev.type))
            return fail_at(r, line, "%stype%s %s: expected %s", q, r->json ? "\"" : "", val->text,
                           r->json ? "\"invoke\", \"ok\", \"fail\" or \"info\"" : ":invoke, :ok, :fail or :info");
        fs->has_type = true;
    } else if (strcmp(name, "f") == 0) {
        if (val->kind != DSIM_LIN_VAL_KEYWORD && val->kind != DSIM_LIN_VAL_STRING)
            return fail_at(r, line, "%sf%s %s: expected the operation's name", q, r->json ? "\"" : "", val->text);
        fs->ev.f = v;
        fs->has_f = true;
    } else if (strcmp(name, "key") == 0) {
        fs->ev.key = v;
    } else if (strcmp(name, "value") == 0) {
        fs->ev.value = v;
    } else if (strcmp(name, "time") == 0 && r->json) {
        /* EDN :time is informational only (Knossos orders by position; some files' times
         * are not monotonic); dsim's own times are the clock. */
        if (val->kind != DSIM_LIN_VAL_INT || val->i < 0)
            return fail_at(r, line, "\"time\": %s: expected nanoseconds (an integer >= 0)", val->text);
        fs->ev.time = val->i;
        fs->has_time = true;
    }
    return true;
}

static bool add_event(Reader *r, unsigned line, Fields *fs)
{
    const char *q = r->json ? "\"" : ":";
    const char *e = r->json ? "\"" : "";
    if (!fs->has_type)
        return fail_at(r, line, "the operation has no %stype%s", q, e);
    if (!fs->has_process)
        return fail_at(r, line, "the operation has no %sprocess%s", q, e);
    if (!fs->has_f && fs->ev.process != DSIM_LIN_NOT_CLIENT)
        return fail_at(r, line, "the operation has no %sf%s", q, e);
    fs->ev.line = line;
    if (!r->json || !fs->has_time)
        fs->ev.time = r->h->events->len;
    g_array_append_val(r->h->events, fs->ev);
    return true;
}

/* ---- EDN ------------------------------------------------------------------------------- */

/* One operation map: {:process 1, :type :invoke, :f :read, :value nil, ...}. */
static bool edn_op(Reader *r)
{
    unsigned line = r->line;
    if (at_end(r) || *r->p != '{') {
        g_autofree char *what = near(r);
        return fail_at(r, r->line, "expected an operation map '{:process ...}', found %s", what);
    }
    r->p++;
    Fields fs = { .ev.key = DSIM_LIN_NIL, .ev.value = DSIM_LIN_NIL };
    for (;;) {
        if (!skip_ws(r))
            return false;
        if (at_end(r))
            return fail_at(r, line, "'{' is never closed");
        if (*r->p == '}') {
            r->p++;
            break;
        }
        unsigned kline = r->line;
        DsimLinValue k, v;
        if (!parse_value(r, &k))
            return false;
        const DsimLinVal *kv = dsim_lin_val(r->h, k);
        if (kv->kind != DSIM_LIN_VAL_KEYWORD)
            return fail_at(r, kline, "%s: the keys of an operation map are keywords (:process, :type, ...)", kv->text);
        if (!skip_ws(r))
            return false;
        if (at_end(r) || *r->p == '}')
            return fail_at(r, kline, ":%s has no value", kv->s);
        if (!parse_value(r, &v) || !set_field(r, kline, &fs, dsim_lin_val(r->h, k)->s, v))
            return false;
    }
    return add_event(r, line, &fs);
}

static bool read_edn(Reader *r)
{
    if (!skip_ws(r))
        return false;
    if (at_end(r))
        return true;
    if (*r->p == '[' || *r->p == '(') {
        char close = *r->p == '[' ? ']' : ')';
        unsigned line = r->line;
        r->p++;
        for (;;) {
            if (!skip_ws(r))
                return false;
            if (at_end(r))
                return fail_at(r, line, "'%c' is never closed", close == ']' ? '[' : '(');
            if (*r->p == close) {
                r->p++;
                break;
            }
            if (!edn_op(r))
                return false;
        }
        if (!skip_ws(r))
            return false;
        if (!at_end(r)) {
            g_autofree char *what = near(r);
            return fail_at(r, r->line, "expected the end of the history after its closing '%c', found %s", close, what);
        }
        return true;
    }
    /* a sequence of top-level maps, one per line (Porcupine's key-value logs) */
    while (!at_end(r)) {
        if (!edn_op(r) || !skip_ws(r))
            return false;
    }
    return true;
}

/* ---- JSON lines (dsim's history.jsonl) ------------------------------------------------- */

static bool json_object(Reader *r, Fields *fs)
{
    unsigned line = r->line;
    r->p++; /* '{' */
    for (bool first = true;; first = false) {
        if (!skip_ws(r))
            return false;
        if (at_end(r))
            return fail_at(r, line, "the object is not closed on its line (write one JSON object per line)");
        if (*r->p == '}') {
            r->p++;
            return true;
        }
        if (!first) {
            if (*r->p != ',')
                return fail_at(r, line, "expected ',' or '}' after a field");
            r->p++;
            if (!skip_ws(r))
                return false;
            if (at_end(r))
                return fail_at(r, line, "the object is not closed on its line (write one JSON object per line)");
        }
        if (at_end(r) || *r->p != '"')
            return fail_at(r, line, "expected a field name in double quotes");
        DsimLinValue k, v;
        if (!parse_string(r, &k) || !skip_ws(r))
            return false;
        if (at_end(r) || *r->p != ':')
            return fail_at(r, line, "expected ':' after the field name %s", dsim_lin_val(r->h, k)->text);
        r->p++;
        if (!skip_ws(r))
            return false;
        if (!at_end(r) && *r->p == '{')
            return fail_at(r, line, "field %s: nested objects are not supported", dsim_lin_val(r->h, k)->text);
        if (!parse_value(r, &v) || !set_field(r, line, fs, dsim_lin_val(r->h, k)->s, v))
            return false;
    }
}

static bool read_jsonl(Reader *r, const char *text, const char *end)
{
    int timed = -1; /* unknown until the first event */
    unsigned line = 1;
    for (const char *p = text; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL)
            eol = end;
        r->p = p;
        r->end = eol;
        r->line = line;
        p = eol + 1;
        if (!skip_ws(r))
            return false;
        if (at_end(r))
            continue;
        if (*r->p != '{')
            return fail_at(r, line, "expected a JSON object '{...}' (one per line)");
        Fields fs = { .ev.key = DSIM_LIN_NIL, .ev.value = DSIM_LIN_NIL };
        if (!json_object(r, &fs) || !skip_ws(r))
            return false;
        if (!at_end(r))
            return fail_at(r, line, "more after the object's closing '}' (write one JSON object per line)");
        if (timed < 0)
            timed = fs.has_time;
        else if (timed != fs.has_time)
            return fail_at(r, line, "%s: give \"time\" on every line or on none",
                           fs.has_time ? "this line has a \"time\" but earlier ones have not" : "no \"time\"");
        if (!add_event(r, line, &fs))
            return false;
    }
    r->h->timed = timed == 1;
    return true;
}

/* ---- Jepsen logs (Porcupine's etcd corpus) ----------------------------------------------- */

/* "INFO  jepsen.util - 3	:invoke	:cas	[2 4]": process, type, f, value, separated by
 * whitespace. Other lines (other loggers) are skipped, as Porcupine's parser does. */
static bool read_jepsen_log(Reader *r, const char *text, const char *end)
{
    static const char logger[] = "jepsen.util";
    unsigned line = 1;
    bool any = false;
    for (const char *p = text; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL)
            eol = end;
        const char *q = p;
        p = eol + 1;
        if (eol - q < 4 || memcmp(q, "INFO", 4) != 0)
            continue;
        q += 4;
        while (q < eol && (*q == ' ' || *q == '\t'))
            q++;
        if ((size_t) (eol - q) < sizeof logger - 1 || memcmp(q, logger, sizeof logger - 1) != 0)
            continue;
        q += sizeof logger - 1;
        while (q < eol && (*q == ' ' || *q == '\t'))
            q++;
        if (q == eol || *q != '-')
            continue;
        q++;
        r->p = q;
        r->end = eol;
        r->line = line;
        DsimLinValue fields[4];
        for (int k = 0; k < 4; k++) {
            if (!skip_ws(r))
                return false;
            if (at_end(r))
                return fail_at(r, line, "expected 'PROCESS TYPE F VALUE' after 'jepsen.util -'");
            if (!parse_value(r, &fields[k]))
                return false;
        }
        if (!skip_ws(r))
            return false;
        if (!at_end(r)) {
            g_autofree char *what = near(r);
            return fail_at(r, line, "more after the value: %s", what);
        }
        Fields fs = { .ev.key = DSIM_LIN_NIL };
        if (!set_field(r, line, &fs, "process", fields[0]) || !set_field(r, line, &fs, "type", fields[1])
            || !set_field(r, line, &fs, "f", fields[2]) || !set_field(r, line, &fs, "value", fields[3])
            || !add_event(r, line, &fs))
            return false;
        any = true;
    }
    if (!any)
        return fail_at(r, 1, "no operation lines ('INFO  jepsen.util - PROCESS TYPE F VALUE') in this log");
    return true;
}

/* ---- entry points ---------------------------------------------------------------------- */

DsimLinHistory *dsim_lin_history_parse(const char *name, const char *text, size_t len, GError **error)
{
    g_autoptr(DsimLinHistory) h = history_new(name);
    const char *end = text + len;
    const char *p = text;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* a UTF-8 byte order mark */
    Reader r = { .h = h, .p = p, .end = end, .line = 1, .error = error };
    const char *first = p;
    while (first < end && g_ascii_isspace(*first))
        first++;
    if (first == end)
        return g_steal_pointer(&h); /* an empty history */
    bool ok;
    if (*first == '{') {
        const char *second = first + 1;
        while (second < end && (*second == ' ' || *second == '\t'))
            second++;
        if (second < end && (*second == '"' || *second == '}')) {
            r.json = true;
            ok = read_jsonl(&r, p, end);
        } else {
            ok = read_edn(&r);
        }
    } else if (*first == '[' || *first == '(' || *first == ';' || *first == '#') {
        ok = read_edn(&r);
    } else if (end - first >= 4 && memcmp(first, "INFO", 4) == 0) {
        ok = read_jepsen_log(&r, p, end);
    } else {
        unsigned line = 1;
        for (const char *q = p; q < first; q++)
            line += *q == '\n';
        g_set_error(error, DSIM_LIN_ERROR, DSIM_LIN_ERROR_PARSE,
                    "%s:%u: not a history: expected JSON lines ('{\"process\":...}'), EDN ('[{:process ...}') "
                    "or a Jepsen log ('INFO  jepsen.util - ...')", name, line);
        return NULL;
    }
    return ok ? g_steal_pointer(&h) : NULL;
}

DsimLinHistory *dsim_lin_history_read_file(const char *path, GError **error)
{
    GStatBuf st;
    if (g_stat(path, &st) == 0 && st.st_size > (goffset) DSIM_LIN_MAX_BYTES) {
        g_set_error(error, DSIM_LIN_ERROR, DSIM_LIN_ERROR_IO, "%s: %" G_GINT64_FORMAT " bytes, more than the %u accepted",
                    path, (gint64) st.st_size, DSIM_LIN_MAX_BYTES);
        return NULL;
    }
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(path, &text, &len, &e)) {
        g_set_error(error, DSIM_LIN_ERROR, DSIM_LIN_ERROR_IO, "%s", e->message);
        return NULL;
    }
    return dsim_lin_history_parse(path, text, len, error);
}
