/* scenario.c - the scenario loader: XML file -> DsimScenario (plain data), or one error line.
 *
 * Every input error of dsim is raised here, as one line "FILE:LINE: what is wrong (how to fix
 * it)", and the first error wins. A file goes through four gates, each of which can stop it:
 *
 *   1. size: the file is measured before a byte of it is parsed (DSIM_SCENARIO_MAX_BYTES);
 *   2. XML: libxml2 parses from memory with XML_PARSE_NONET and nothing that loads a DTD or
 *      expands an entity. A DOCTYPE stops the parser on the spot (SAX internalSubset hook),
 *      so billion-laughs and external-entity files never get as far as their declarations;
 *      libxml2's own depth limit (256, no XML_PARSE_HUGE) stops pathological nesting;
 *   3. schema: RELAX NG validation against scenarios/dsim.rng, compiled into the binary as
 *      dsim_schema_rng[]. It fixes the vocabulary (which element goes where, which attribute
 *      exists) and leaves every value as text. When it fails, the file is walked again
 *      against a summary of the same schema to find a message a user can act on ("<crash>
 *      has no attribute nodes (its attributes: at, node, as, unsynced)");
 *   4. meaning: one parse_<element>() per element reads the values with the attribute helpers
 *      (get_time_attr, get_instant_attr, get_uint_attr, get_group_attr...), which know units
 *      and ranges and write the message, and resolves every name (protocols, parameters,
 *      groups, nodes, selectors, invariants) so that nothing downstream can meet a bad input.
 *
 * Lines are those of an element's '<' (recorded while parsing, see on_start_element), so a
 * start tag written over several lines is reported where it begins.
 *
 * libxml2 errors are collected per parser and per validation context (no global handler is
 * left installed), so scenarios can be loaded from several threads at once. The one
 * exception is a per-thread handler installed around the parse, for the rare errors libxml2
 * raises without a context (character conversion); it is restored before returning.
 *
 * Groups are read before anything else, whatever their place in the file, because every
 * other element names them: node names and dense ids are fixed first (groups in file order,
 * members in index order). The other elements are then read in file order.
 */
#include "sim/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/relaxng.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "algorithms/protocols.h"
#include "sim/param.h"
#include "sim/time.h"

G_DEFINE_QUARK(dsim-scenario-error-quark, dsim_scenario_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGParserCtxt, xmlRelaxNGFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNG, xmlRelaxNGFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGValidCtxt, xmlRelaxNGFreeValidCtxt)

/* Longest piece of user text repeated in a message; longer text is cut with "...". */
/* How many groups, nodes or names a "(known: ...)" hint lists before "...". */
#define LIST_MAX 10
/* Identifiers (scenario name, group ids, captures) are at most this long. */
#define NAME_MAX_LEN 64

/* Bounds that keep a typo from asking for an endless run ("every=\"1ns\"" for an hour). */
#define MAX_WORKLOAD_RATE 1e6  /* operations per second */
#define MAX_NEMESIS_TICKS 10000000u

#define KNOWN_WORKLOADS "kv, register"
#define KNOWN_OPS "get, put, append, cas"
#define DEFAULT_MIX "get:0.5,put:0.5"

/* ---- the loader's state ------------------------------------------------- */

typedef struct {
    const char   *file;     /* as given: the FILE of "FILE:LINE:" */
    DsimScenario *sc;       /* being filled */
    GHashTable   *groups;   /* group id (borrowed from sc) -> index + 1 */
    GHashTable   *captures; /* as= name (owned) -> line of its first definition */
    /* the first libxml2 error (or DOCTYPE) met while parsing or validating */
    char             *xml_message;
    int               xml_line;
    DsimScenarioError xml_code;
} Loader;

typedef enum {
    OPTIONAL,
    REQUIRED,
} Need;

/* ---- messages ------------------------------------------------------------ */


/* "<crash at="5x">", or "<latency>" when @attr is NULL: the element a message is about. */
static char *element_text(xmlNode *node, const char *attr, const char *value)
{
    if (attr == NULL)
        return g_strdup_printf("<%s>", (const char *) node->name);
    g_autofree char *q = dsim_quote(value);
    return g_strdup_printf("<%s %s=%s>", (const char *) node->name, attr, q);
}

static char *time_text(DsimTime t)
{
    GString *s = g_string_new(NULL);
    dsim_time_format_short(t, s);
    return g_string_free(s, FALSE);
}

/* The attribute as written, or the default @t it stands for when absent. */
static char *attr_or_time(xmlNode *node, const char *name, DsimTime t)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *) name);
    char *s = v != NULL ? g_strstrip(g_strdup((const char *) v)) : time_text(t);
    xmlFree(v);
    return s;
}

/* The line where @node's start tag begins, as recorded by on_start_element (libxml2's own
 * node->line is where the tag ends, and stops at 65535). */
static int line_of(xmlNode *node)
{
    if (node != NULL && node->type == XML_ELEMENT_NODE && node->_private != NULL)
        return GPOINTER_TO_INT(node->_private);
    long line = node != NULL ? xmlGetLineNo(node) : -1;
    return line > 0 && line <= INT_MAX ? (int) line : 1;
}

/* Sets @error to "FILE:LINE: <message>". Returns FALSE, for tail calls. */
static gboolean fail_line(Loader *ld, int line, DsimScenarioError code, GError **error,
                          const char *fmt, va_list ap) G_GNUC_PRINTF(5, 0);
static gboolean fail_line(Loader *ld, int line, DsimScenarioError code, GError **error,
                          const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    g_set_error(error, DSIM_SCENARIO_ERROR, code, "%s:%d: %s", ld->file, line, msg);
    return FALSE;
}

/* The same with LINE being @node's. */
static gboolean fail(Loader *ld, xmlNode *node, DsimScenarioError code, GError **error,
                     const char *fmt, ...) G_GNUC_PRINTF(5, 6);
static gboolean fail(Loader *ld, xmlNode *node, DsimScenarioError code, GError **error,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_line(ld, line_of(node), code, error, fmt, ap);
    va_end(ap);
    return FALSE;
}

/* The same with LINE given. */
static gboolean fail_at_line(Loader *ld, int line, DsimScenarioError code, GError **error,
                             const char *fmt, ...) G_GNUC_PRINTF(5, 6);
static gboolean fail_at_line(Loader *ld, int line, DsimScenarioError code, GError **error,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_line(ld, line, code, error, fmt, ap);
    va_end(ap);
    return FALSE;
}

/* "FILE:LINE: <el attr="value">: <message>" (@attr NULL: "<el>: <message>"). */
static gboolean fail_at(Loader *ld, xmlNode *node, const char *attr, const char *value,
                        DsimScenarioError code, GError **error, const char *fmt, ...)
    G_GNUC_PRINTF(7, 8);
static gboolean fail_at(Loader *ld, xmlNode *node, const char *attr, const char *value,
                        DsimScenarioError code, GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *el = element_text(node, attr, value);
    return fail(ld, node, code, error, "%s: %s", el, msg);
}

/* "FILE:LINE: <el attr="value">: "value" <what>" */
static gboolean fail_value(Loader *ld, xmlNode *node, const char *attr, const char *value,
                           GError **error, const char *what)
{
    g_autofree char *q = dsim_quote(value);
    return fail_at(ld, node, attr, value, DSIM_SCENARIO_ERROR_BAD_VALUE, error, "%s %s", q,
                   what);
}

/* "r, c, gw" (at most LIST_MAX of them): the groups a name could have meant. */
static char *group_list(const DsimScenario *sc)
{
    GString *s = g_string_new(NULL);
    for (unsigned i = 0; i < sc->groups->len; i++) {
        if (i == LIST_MAX) {
            g_string_append(s, ", ...");
            break;
        }
        g_string_append_printf(s, "%s%s", i > 0 ? ", " : "",
                               g_array_index(sc->groups, DsimGroupSpec, i).id);
    }
    return g_string_free(s, FALSE);
}

/* "r1..r5, c1" (at most LIST_MAX groups). */
static char *node_list(const DsimScenario *sc)
{
    GString *s = g_string_new(NULL);
    for (unsigned i = 0; i < sc->groups->len; i++) {
        const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, i);
        if (i == LIST_MAX) {
            g_string_append(s, ", ...");
            break;
        }
        if (i > 0)
            g_string_append(s, ", ");
        if (g->count == 1)
            g_string_append_printf(s, "%s1", g->id);
        else
            g_string_append_printf(s, "%s1..%s%u", g->id, g->id, g->count);
    }
    return g_string_free(s, FALSE);
}

static char *param_list(const DsimProtocol *proto)
{
    GString *s = g_string_new(NULL);
    for (const DsimParam *p = proto->params; p != NULL && p->name != NULL; p++)
        g_string_append_printf(s, "%s%s", s->len > 0 ? ", " : "", p->name);
    if (s->len == 0)
        g_string_append(s, "it has none");
    return g_string_free(s, FALSE);
}

/* ---- small parsers -------------------------------------------------------- */

/* True when @s is a name: a letter, then letters, digits, '-' and '_', at most NAME_MAX_LEN. */
static bool is_identifier(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > NAME_MAX_LEN || !g_ascii_isalpha(s[0]))
        return false;
    for (size_t i = 1; i < len; i++) {
        if (!g_ascii_isalnum(s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    }
    return true;
}

/* An unsigned decimal integer, digits only, no overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (s[0] == '\0')
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        if (!g_ascii_isdigit(*p))
            return false;
        unsigned d = (unsigned) (*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* A plain decimal number ("1.05", "0.5", "1e3"): no hex, no inf/nan, no locale. */
static bool parse_number(const char *s, double *out)
{
    char *end = NULL;
    if (s[0] == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
        return false;
    double v = g_ascii_strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Splits @text at each @sep outside parentheses ("follower(r,2), r1" -> 2 items), each item
 * stripped of surrounding whitespace. Returns a NULL-terminated vector (g_strfreev). */
static char **split_outside_parens(const char *text, char sep)
{
    GPtrArray *items = g_ptr_array_new();
    int depth = 0;
    const char *start = text;

    for (const char *p = text;; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && depth > 0)
            depth--;
        if (*p == '\0' || (*p == sep && depth == 0)) {
            g_ptr_array_add(items, g_strstrip(g_strndup(start, (gsize) (p - start))));
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    g_ptr_array_add(items, NULL);
    return (char **) g_ptr_array_free(items, FALSE);
}

/* "100Mbit/s", "1Gbit/s", "10MB/s" -> bits per second (SI prefixes: k = 1000). */
static bool parse_bandwidth(const char *text, double *bps)
{
    static const struct {
        const char *unit;
        double      bits;
    } units[] = {
        { "bit/s", 1 },    { "kbit/s", 1e3 }, { "Kbit/s", 1e3 }, { "Mbit/s", 1e6 },
        { "Gbit/s", 1e9 }, { "bps", 1 },      { "kbps", 1e3 },   { "Mbps", 1e6 },
        { "Gbps", 1e9 },   { "B/s", 8 },      { "kB/s", 8e3 },   { "KB/s", 8e3 },
        { "MB/s", 8e6 },   { "GB/s", 8e9 },
    };
    size_t n = strspn(text, "0123456789.");
    if (n == 0)
        return false;
    g_autofree char *digits = g_strndup(text, n);
    const char *unit = text + n;
    double v;

    while (*unit == ' ')
        unit++;
    if (!parse_number(digits, &v) || v <= 0)
        return false;
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
        if (strcmp(unit, units[i].unit) == 0) {
            *bps = v * units[i].bits;
            return isfinite(*bps);
        }
    }
    return false;
}

/* ---- attributes and element text ------------------------------------------- */

/* The value of attribute @name with surrounding whitespace stripped (g_free), or NULL. */
static char *get_attr(xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *) name);
    if (v == NULL)
        return NULL;
    char *s = g_strstrip(g_strdup((const char *) v));
    xmlFree(v);
    return s;
}

/* The text inside @node, stripped (g_free); "" when empty. */
static char *get_text(xmlNode *node)
{
    xmlChar *v = xmlNodeGetContent(node);
    char *s = g_strstrip(g_strdup(v != NULL ? (const char *) v : ""));
    xmlFree(v);
    return s;
}

/* Fetches attribute @name into *out (g_free). An absent OPTIONAL attribute gives *out NULL
 * and TRUE; an absent REQUIRED one is an error (the schema normally catches it first). */
static gboolean want_attr(Loader *ld, xmlNode *node, const char *name, Need need, char **out,
                          GError **error)
{
    *out = get_attr(node, name);
    if (*out == NULL && need == REQUIRED)
        return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_SCHEMA, error,
                       "the %s attribute is required", name);
    return TRUE;
}

/* The helpers below leave *out alone when an OPTIONAL attribute is absent, so callers set
 * the default first. Each names the element and the attribute in its message. */

static gboolean get_time_attr(Loader *ld, xmlNode *node, const char *name, Need need,
                              DsimTime *out, GError **error)
{
    g_autofree char *v = NULL;
    if (!want_attr(ld, node, name, need, &v, error))
        return FALSE;
    if (v != NULL && !dsim_time_parse(v, out))
        return fail_value(ld, node, name, v, error,
                          "is not a duration (write e.g. 250ms, 1.5s)");
    return TRUE;
}

/* A point in the run: a duration no later than the scenario's end. */
static gboolean get_instant_attr(Loader *ld, xmlNode *node, const char *name, Need need,
                                 DsimTime *out, GError **error)
{
    DsimTime t = *out;
    if (!get_time_attr(ld, node, name, need, &t, error))
        return FALSE;
    if (t > ld->sc->duration) {
        g_autofree char *v = get_attr(node, name);
        g_autofree char *el = element_text(node, name, v);
        g_autofree char *d = time_text(ld->sc->duration);
        return fail(ld, node, DSIM_SCENARIO_ERROR_INCONSISTENT, error,
                    "%s is after the end of the scenario (duration %s)", el, d);
    }
    *out = t;
    return TRUE;
}

static gboolean get_uint_attr(Loader *ld, xmlNode *node, const char *name, Need need,
                              unsigned min, unsigned max, unsigned *out, GError **error)
{
    g_autofree char *v = NULL;
    uint64_t n;
    if (!want_attr(ld, node, name, need, &v, error))
        return FALSE;
    if (v == NULL)
        return TRUE;
    if (!parse_u64(v, &n) || n < min || n > max) {
        g_autofree char *what = g_strdup_printf("is not a whole number from %u to %u", min,
                                                max);
        return fail_value(ld, node, name, v, error, what);
    }
    *out = (unsigned) n;
    return TRUE;
}

/* One of the '|'-separated @choices, as its index. */
static gboolean get_choice_attr(Loader *ld, xmlNode *node, const char *name, Need need,
                                const char *choices, int *out, GError **error)
{
    g_autofree char *v = NULL;
    if (!want_attr(ld, node, name, need, &v, error))
        return FALSE;
    if (v == NULL)
        return TRUE;
    g_auto(GStrv) items = g_strsplit(choices, "|", -1);
    for (int i = 0; items[i] != NULL; i++) {
        if (strcmp(items[i], v) == 0) {
            *out = i;
            return TRUE;
        }
    }
    g_autofree char *what = g_strdup_printf("is not one of %s", choices);
    return fail_value(ld, node, name, v, error, what);
}

static int find_group(Loader *ld, const char *id)
{
    gpointer v = g_hash_table_lookup(ld->groups, id);
    return v != NULL ? GPOINTER_TO_INT(v) - 1 : -1;
}

static gboolean get_group_attr(Loader *ld, xmlNode *node, const char *name, Need need,
                               int *out, GError **error)
{
    g_autofree char *v = NULL;
    if (!want_attr(ld, node, name, need, &v, error))
        return FALSE;
    if (v == NULL)
        return TRUE;
    int g = find_group(ld, v);
    if (g < 0) {
        g_autofree char *q = dsim_quote(v);
        g_autofree char *known = group_list(ld->sc);
        return fail_at(ld, node, name, v, DSIM_SCENARIO_ERROR_UNKNOWN_NAME, error,
                       "no group is named %s (groups: %s)", q, known);
    }
    *out = g;
    return TRUE;
}

static DsimGroupSpec *group_at(Loader *ld, int g)
{
    return &g_array_index(ld->sc->groups, DsimGroupSpec, g);
}

/* ---- nodes by name ----------------------------------------------------------- */

/* Resolves "r12" to a node id by trying each split into a group id and a member index
 * (a digit suffix without leading zero). Group ids are checked for clashes at load, so at
 * most one split matches. @groups may be NULL (a linear search over the groups). */
static DsimNodeId lookup_node(const DsimScenario *sc, GHashTable *groups, const char *name)
{
    size_t len = strlen(name);
    size_t digits = 0;

    while (digits < len && g_ascii_isdigit(name[len - 1 - digits]))
        digits++;
    /* the split leaves at least one character of group id and one digit of index */
    for (size_t cut = len - digits; cut < len; cut++) {
        uint64_t index;
        if (cut == 0 || name[cut] == '0' || !parse_u64(name + cut, &index))
            continue;
        g_autofree char *id = g_strndup(name, cut);
        int g = -1;
        if (groups != NULL) {
            gpointer v = g_hash_table_lookup(groups, id);
            g = v != NULL ? GPOINTER_TO_INT(v) - 1 : -1;
        } else {
            g = dsim_scenario_group_index(sc, id);
        }
        if (g < 0)
            continue;
        const DsimGroupSpec *gs = &g_array_index(sc->groups, DsimGroupSpec, g);
        if (index >= 1 && index <= gs->count)
            return gs->first + (DsimNodeId) (index - 1);
    }
    return DSIM_NOBODY;
}

static gboolean get_node_attr(Loader *ld, xmlNode *node, const char *name, DsimNodeId *out,
                              GError **error)
{
    g_autofree char *v = NULL;
    if (!want_attr(ld, node, name, REQUIRED, &v, error))
        return FALSE;
    *out = lookup_node(ld->sc, ld->groups, v);
    if (*out == DSIM_NOBODY) {
        g_autofree char *q = dsim_quote(v);
        g_autofree char *known = node_list(ld->sc);
        return fail_at(ld, node, name, v, DSIM_SCENARIO_ERROR_UNKNOWN_NAME, error,
                       "no node is named %s (nodes: %s)", q, known);
    }
    return TRUE;
}

/* ---- selectors ----------------------------------------------------------------- */

#define SELECTOR_HINT                                                                       \
    "write a node (r1), a group (r), leader(r), follower(r), follower(r,k), random(r,k), " \
    "minority(r), majority(r), crashed, or a capture (L1, L1+1)"

static gint by_capture_line(gconstpointer a, gconstpointer b, gpointer captures)
{
    int la = GPOINTER_TO_INT(g_hash_table_lookup(captures, a));
    int lb = GPOINTER_TO_INT(g_hash_table_lookup(captures, b));
    return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

/* "L1, L2" in the order of their first definition, or "none". */
static char *capture_list(Loader *ld)
{
    g_autoptr(GList) names = g_hash_table_get_keys(ld->captures);
    GString *s = g_string_new(NULL);
    /* sorted by line, so the message does not depend on the hash table's order */
    names = g_list_sort_with_data(names, by_capture_line, ld->captures);
    for (GList *l = names; l != NULL; l = l->next)
        g_string_append_printf(s, "%s%s", s->len > 0 ? ", " : "", (const char *) l->data);
    if (s->len == 0)
        g_string_append(s, "none");
    return g_string_free(s, FALSE);
}

static void selector_list_free(DsimSelectorList *list)
{
    if (list == NULL)
        return;
    gsize n = 0;
    DsimSelector *v = g_array_steal(list, &n);
    for (gsize i = 0; i < n; i++)
        g_free(v[i].capture);
    g_free(v);
    g_array_unref(list);
}

/* Parses one selector; on failure returns false with *why a new sentence. */
static bool parse_selector(Loader *ld, const char *text, DsimSelector *out,
                           DsimScenarioError *code, char **why)
{
    static const struct {
        const char *name;
        DsimSelKind kind;
        unsigned    min_args, max_args; /* counting the group */
    } functions[] = {
        { "leader", DSIM_SEL_LEADER, 1, 1 },     { "follower", DSIM_SEL_FOLLOWER, 1, 2 },
        { "random", DSIM_SEL_RANDOM, 2, 2 },     { "minority", DSIM_SEL_MINORITY, 1, 1 },
        { "majority", DSIM_SEL_MAJORITY, 1, 1 },
    };
    const DsimScenario *sc = ld->sc;
    g_autofree char *q = dsim_quote(text);
    const char *paren = strchr(text, '(');

    memset(out, 0, sizeof *out);
    *code = DSIM_SCENARIO_ERROR_BAD_VALUE;
    if (text[0] == '\0') {
        *why = g_strdup_printf("an empty selector names nothing (%s)", SELECTOR_HINT);
        return false;
    }
    if (paren != NULL) {
        size_t len = strlen(text);
        g_autofree char *fname = g_strstrip(g_strndup(text, (gsize) (paren - text)));
        unsigned f;
        for (f = 0; f < G_N_ELEMENTS(functions); f++) {
            if (strcmp(fname, functions[f].name) == 0)
                break;
        }
        if (f == G_N_ELEMENTS(functions) || text[len - 1] != ')') {
            *why = g_strdup_printf("%s is not a node selector (%s)", q, SELECTOR_HINT);
            return false;
        }
        g_autofree char *inner = g_strndup(paren + 1, (gsize) (len - 2 - (size_t) (paren - text)));
        g_auto(GStrv) args = g_strsplit(inner, ",", -1);
        unsigned n = g_strv_length(args);
        for (unsigned i = 0; i < n; i++)
            g_strstrip(args[i]);
        if (n < functions[f].min_args || n > functions[f].max_args) {
            *why = g_strdup_printf("%s is not a node selector (%s)", q, SELECTOR_HINT);
            return false;
        }
        int g = find_group(ld, args[0]);
        if (g < 0) {
            g_autofree char *qg = dsim_quote(args[0]);
            g_autofree char *known = group_list(sc);
            *code = DSIM_SCENARIO_ERROR_UNKNOWN_NAME;
            *why = g_strdup_printf("no group is named %s (groups: %s)", qg, known);
            return false;
        }
        const DsimGroupSpec *gs = group_at(ld, g);
        out->kind = functions[f].kind;
        out->group = (unsigned) g;
        out->k = 1;
        if (n == 2) {
            uint64_t k;
            if (!parse_u64(args[1], &k) || k < 1) {
                g_autofree char *qk = dsim_quote(args[1]);
                *why = g_strdup_printf("in %s, %s is not a number of nodes (write e.g. %s(%s,2))",
                                       q, qk, fname, gs->id);
                return false;
            }
            if (k > gs->count) {
                *why = g_strdup_printf("%s asks for %" PRIu64 " nodes, but group %s has %u", q,
                                       k, gs->id, gs->count);
                return false;
            }
            out->k = (unsigned) k;
        }
        return true;
    }
    if (strcmp(text, "crashed") == 0) {
        out->kind = DSIM_SEL_CRASHED;
        return true;
    }
    const char *plus = strchr(text, '+');
    if (plus != NULL) {
        g_autofree char *base = g_strstrip(g_strndup(text, (gsize) (plus - text)));
        g_autofree char *off = g_strstrip(g_strdup(plus + 1));
        uint64_t offset;
        if (!g_hash_table_contains(ld->captures, base)) {
            g_autofree char *qb = dsim_quote(base);
            g_autofree char *known = capture_list(ld);
            *code = DSIM_SCENARIO_ERROR_UNKNOWN_NAME;
            *why = g_strdup_printf("%s names the capture %s, but no fault has as=%s "
                                   "(captures: %s)", q, qb, qb, known);
            return false;
        }
        if (!parse_u64(off, &offset) || offset > G_MAXINT32) {
            *why = g_strdup_printf("%s is not a node selector (%s)", q, SELECTOR_HINT);
            return false;
        }
        out->kind = DSIM_SEL_CAPTURE;
        out->capture = g_strdup(base);
        out->offset = (unsigned) offset;
        return true;
    }
    DsimNodeId id = lookup_node(sc, ld->groups, text);
    if (id != DSIM_NOBODY) {
        out->kind = DSIM_SEL_NODE;
        out->node = id;
        out->group = dsim_scenario_group_of(sc, id);
        return true;
    }
    int g = find_group(ld, text);
    if (g >= 0) {
        out->kind = DSIM_SEL_GROUP;
        out->group = (unsigned) g;
        return true;
    }
    if (g_hash_table_contains(ld->captures, text)) {
        out->kind = DSIM_SEL_CAPTURE;
        out->capture = g_strdup(text);
        return true;
    }
    g_autofree char *nodes = node_list(sc);
    g_autofree char *groups = group_list(sc);
    *code = DSIM_SCENARIO_ERROR_UNKNOWN_NAME;
    *why = g_strdup_printf("no node, group or capture is named %s (nodes: %s; groups: %s)", q,
                           nodes, groups);
    return false;
}

/* Parses @text, a comma-separated list of selectors: the value of attribute @name, or one
 * side of a partition. Messages quote the whole attribute, @value. Returns NULL with @error
 * set on failure. */
static DsimSelectorList *parse_selector_list(Loader *ld, xmlNode *node, const char *name,
                                             const char *value, const char *text,
                                             GError **error)
{
    DsimSelectorList *list = g_array_new(FALSE, TRUE, sizeof(DsimSelector));
    g_auto(GStrv) items = split_outside_parens(text, ',');

    for (unsigned i = 0; items[i] != NULL; i++) {
        DsimSelector sel;
        DsimScenarioError code;
        g_autofree char *why = NULL;
        if (!parse_selector(ld, items[i], &sel, &code, &why)) {
            selector_list_free(list);
            fail_at(ld, node, name, value, code, error, "%s", why);
            return NULL;
        }
        g_array_append_val(list, sel);
    }
    return list;
}

static gboolean get_selectors_attr(Loader *ld, xmlNode *node, const char *name,
                                   DsimSelectorList **out, GError **error)
{
    g_autofree char *v = NULL;
    if (!want_attr(ld, node, name, REQUIRED, &v, error))
        return FALSE;
    *out = parse_selector_list(ld, node, name, v, v, error);
    return *out != NULL;
}

/* ---- elements that may appear once ---------------------------------------------- */

/* The schema lets the children of <scenario>, <network> and <link> come in any order (see
 * dsim.rng for why it cannot also say "at most once"), so the loader checks that each of
 * @names (NULL-terminated, at most 16) appears at most once in @parent. */
static gboolean check_once(Loader *ld, xmlNode *parent, const char *const *names,
                           GError **error)
{
    xmlNode *first[16] = { NULL };

    for (xmlNode *c = parent->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        for (unsigned i = 0; names[i] != NULL; i++) {
            g_assert(i < G_N_ELEMENTS(first));
            if (!xmlStrEqual(c->name, (const xmlChar *) names[i]))
                continue;
            if (first[i] != NULL)
                return fail(ld, c, DSIM_SCENARIO_ERROR_SCHEMA, error,
                            "<%s> appears twice in <%s> (first at line %d); merge them",
                            names[i], (const char *) parent->name, line_of(first[i]));
            first[i] = c;
        }
    }
    return TRUE;
}

/* ---- the scenario element ------------------------------------------------------ */

static gboolean parse_scenario_attrs(Loader *ld, xmlNode *node, GError **error)
{
    DsimScenario *sc = ld->sc;
    g_autofree char *name = NULL, *seed = NULL;

    if (!want_attr(ld, node, "name", REQUIRED, &name, error))
        return FALSE;
    if (strlen(name) == 0 || strlen(name) > NAME_MAX_LEN
        || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
               != strlen(name))
        return fail_value(ld, node, "name", name, error,
                          "is not a scenario name (use letters, digits, - and _, at most 64)");
    sc->name = g_steal_pointer(&name);

    /* seed is optional: a scenario without one runs with seed 1 (and --seed overrides) */
    if (!want_attr(ld, node, "seed", OPTIONAL, &seed, error))
        return FALSE;
    sc->seed = 1;
    if (seed != NULL && !parse_u64(seed, &sc->seed))
        return fail_value(ld, node, "seed", seed, error,
                          "is not a seed (write a whole number from 0 to 18446744073709551615)");

    if (!get_time_attr(ld, node, "duration", REQUIRED, &sc->duration, error))
        return FALSE;
    if (sc->duration <= 0) {
        g_autofree char *v = get_attr(node, "duration");
        return fail_value(ld, node, "duration", v, error,
                          "is not a positive duration (write e.g. 30s)");
    }
    return TRUE;
}

static gboolean parse_description(Loader *ld, xmlNode *node, GError **error)
{
    g_free(ld->sc->description);
    ld->sc->description = get_text(node);
    return TRUE;
}

/* ---- groups and their parameters -------------------------------------------------- */

static gboolean parse_param(Loader *ld, DsimGroupSpec *g, xmlNode *node, GError **error)
{
    g_autofree char *name = NULL;
    g_autofree char *value = get_text(node);
    g_autofree char *why = NULL;

    if (!want_attr(ld, node, "name", REQUIRED, &name, error))
        return FALSE;
    const DsimParam *p = dsim_param_find(g->protocol->params, name);
    if (p == NULL) {
        g_autofree char *q = dsim_quote(name);
        g_autofree char *known = param_list(g->protocol);
        return fail_at(ld, node, "name", name, DSIM_SCENARIO_ERROR_UNKNOWN_PARAM, error,
                       "protocol %s has no parameter %s (its parameters: %s)", g->protocol->name,
                       q, known);
    }
    for (unsigned i = 0; i < g->param_names->len; i++) {
        if (strcmp(g_ptr_array_index(g->param_names, i), name) == 0)
            return fail_at(ld, node, "name", name, DSIM_SCENARIO_ERROR_DUPLICATE, error,
                           "%s is set twice in group %s", name, g->id);
    }
    if (!dsim_param_parse(p, value, g->config, &why))
        return fail_at(ld, node, "name", name, DSIM_SCENARIO_ERROR_BAD_VALUE, error, "%s", why);
    g_ptr_array_add(g->param_names, g_steal_pointer(&name));
    g_ptr_array_add(g->param_values, g_steal_pointer(&value));
    int line = line_of(node);
    g_array_append_val(g->param_lines, line);
    return TRUE;
}

/* Runs group @gi's protocol validate op (if any) on @config: NULL when fine, else the
 * parameter at fault, with the sentence in @why. */
static const char *validate_config(const DsimScenario *sc, unsigned gi, const void *config,
                                   GString *why)
{
    const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, gi);
    if (g->protocol->validate == NULL)
        return NULL;
    unsigned n = sc->groups->len;
    g_autofree const char **ids = g_new(const char *, n);
    g_autofree unsigned *sizes = g_new(unsigned, n);
    g_autofree const DsimProtocol **protocols = g_new(const DsimProtocol *, n);
    for (unsigned i = 0; i < n; i++) {
        const DsimGroupSpec *o = &g_array_index(sc->groups, DsimGroupSpec, i);
        ids[i] = o->id;
        sizes[i] = o->count;
        protocols[i] = o->protocol;
    }
    DsimShape shape = { .n_groups = n, .ids = ids, .sizes = sizes, .protocols = protocols, .self = gi };
    return g->protocol->validate(config, &shape, why);
}

/* Once every group is known: each group's parameters as a whole (validate ops). */
static gboolean validate_groups(Loader *ld, GError **error)
{
    for (unsigned gi = 0; gi < ld->sc->groups->len; gi++) {
        const DsimGroupSpec *g = group_at(ld, (int) gi);
        g_autoptr(GString) why = g_string_new(NULL);
        const char *param = validate_config(ld->sc, gi, g->config, why);
        if (param == NULL)
            continue;
        for (unsigned i = 0; i < g->param_names->len; i++) {
            if (strcmp(g_ptr_array_index(g->param_names, i), param) == 0)
                return fail_at_line(ld, g_array_index(g->param_lines, int, i),
                                    DSIM_SCENARIO_ERROR_BAD_VALUE, error, "<param name=\"%s\">: %s",
                                    param, why->str);
        }
        return fail_at_line(ld, g->line, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                            "<group id=\"%s\">: %s (the default of %s)", g->id, why->str, param);
    }
    return TRUE;
}

/* Reads one <group> into a new entry of sc->groups. Node names come later, once every group
 * is known (see name_nodes). */
static gboolean parse_group(Loader *ld, xmlNode *node, GError **error)
{
    DsimScenario *sc = ld->sc;
    g_autofree char *id = NULL, *proto = NULL;
    unsigned count = 0;

    if (!want_attr(ld, node, "id", REQUIRED, &id, error))
        return FALSE;
    if (!is_identifier(id))
        return fail_value(ld, node, "id", id, error,
                          "is not a group id (a letter, then letters, digits, - and _)");
    if (strcmp(id, "crashed") == 0)
        return fail_value(ld, node, "id", id, error,
                          "is reserved for the selector of crashed nodes; choose another id");
    int other = find_group(ld, id);
    if (other >= 0)
        return fail_at(ld, node, "id", id, DSIM_SCENARIO_ERROR_DUPLICATE, error,
                       "group %s is already defined at line %d", id, group_at(ld, other)->line);

    if (!want_attr(ld, node, "protocol", REQUIRED, &proto, error))
        return FALSE;
    const DsimProtocol *protocol = dsim_protocol_find(proto);
    if (protocol == NULL) {
        GString *known = g_string_new(NULL);
        for (unsigned i = 0; dsim_protocols[i] != NULL; i++)
            g_string_append_printf(known, "%s%s", i > 0 ? ", " : "", dsim_protocols[i]->name);
        g_autofree char *k = g_string_free(known, FALSE);
        g_autofree char *q = dsim_quote(proto);
        return fail_at(ld, node, "protocol", proto, DSIM_SCENARIO_ERROR_UNKNOWN_PROTOCOL, error,
                       "unknown protocol %s (known: %s; see dsim list)", q, k);
    }

    if (!get_uint_attr(ld, node, "count", REQUIRED, 1, DSIM_SCENARIO_MAX_NODES, &count, error))
        return FALSE;
    if ((uint64_t) sc->n_nodes + count > DSIM_SCENARIO_MAX_NODES) {
        g_autofree char *v = get_attr(node, "count");
        return fail_at(ld, node, "count", v, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                       "the scenario would have %" PRIu64 " nodes; the limit is %u",
                       (uint64_t) sc->n_nodes + count, DSIM_SCENARIO_MAX_NODES);
    }

    DsimGroupSpec g = {
        .id = g_steal_pointer(&id),
        .protocol = protocol,
        .count = count,
        .first = sc->n_nodes,
        .config = g_malloc0(protocol->config_size > 0 ? protocol->config_size : 1),
        .param_names = g_ptr_array_new(),
        .param_values = g_ptr_array_new(),
        .param_lines = g_array_new(FALSE, FALSE, sizeof(int)),
        .line = line_of(node),
    };
    dsim_param_defaults(protocol, g.config);
    g_array_append_val(sc->groups, g);
    sc->n_nodes += count;
    DsimGroupSpec *gp = group_at(ld, (int) sc->groups->len - 1);
    g_hash_table_insert(ld->groups, gp->id, GINT_TO_POINTER(sc->groups->len));

    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, (const xmlChar *) "param")
            && !parse_param(ld, gp, c, error))
            return FALSE;
    }
    return TRUE;
}

/* A node is named "<id><i>", so a group id that is another group's id plus a digit suffix
 * s (no leading zero) would be the name of that group's member s when s <= its count: group
 * "r" with 12 members makes r1..r12, and a group "r1" would then be both a group and a node.
 * This one test also covers clashes between node names: member j of "r1" is "r1j", member
 * 1j of "r", which needs 1j <= 12 and therefore 1 <= 12 too. Each pair is found from the
 * longer id by looking up its prefixes, so the check is linear in the total length of the
 * ids. The message is raised at the later of the two groups, the one a reader would change. */
static gboolean check_name_clashes(Loader *ld, GError **error)
{
    for (unsigned i = 0; i < ld->sc->groups->len; i++) {
        const DsimGroupSpec *c = group_at(ld, (int) i);
        size_t len = strlen(c->id);
        size_t digits = 0;
        while (digits < len && g_ascii_isdigit(c->id[len - 1 - digits]))
            digits++;
        for (size_t cut = len - digits; cut < len; cut++) {
            uint64_t s;
            if (cut == 0 || c->id[cut] == '0' || !parse_u64(c->id + cut, &s))
                continue;
            g_autofree char *prefix = g_strndup(c->id, cut);
            int ai = find_group(ld, prefix);
            if (ai < 0 || s > group_at(ld, ai)->count)
                continue;
            const DsimGroupSpec *a = group_at(ld, ai);
            if (c->line > a->line)
                return fail_at_line(ld, c->line, DSIM_SCENARIO_ERROR_DUPLICATE, error,
                                    "<group id=\"%s\">: %s is already the name of a node of "
                                    "group %s (line %d); choose another id",
                                    c->id, c->id, a->id, a->line);
            return fail_at_line(ld, a->line, DSIM_SCENARIO_ERROR_DUPLICATE, error,
                                "<group id=\"%s\">: its node %s would have the name of group "
                                "%s (line %d); choose another id",
                                a->id, c->id, c->id, c->line);
        }
    }
    return TRUE;
}

static void name_nodes(DsimScenario *sc)
{
    /* one block for all names, NUL-separated: no per-name allocation */
    gsize size = 0;
    for (unsigned i = 0; i < sc->groups->len; i++) {
        const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, i);
        size += (gsize) g->count * (strlen(g->id) + 11); /* id, up to 10 digits, NUL */
    }
    sc->node_name_block = g_malloc(size > 0 ? size : 1);
    sc->node_names = g_new0(char *, (gsize) sc->n_nodes + 1);
    char *p = sc->node_name_block;
    for (unsigned i = 0; i < sc->groups->len; i++) {
        const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, i);
        size_t idlen = strlen(g->id);
        for (unsigned k = 0; k < g->count; k++) {
            sc->node_names[g->first + k] = p;
            memcpy(p, g->id, idlen);
            p += idlen + (size_t) g_snprintf(p + idlen, 11, "%u", k + 1) + 1;
        }
    }
}

/* ---- network and storage --------------------------------------------------------- */

static gboolean get_latency_text(Loader *ld, xmlNode *node, DsimDist **out, GError **error)
{
    g_autofree char *v = get_text(node);
    g_autofree char *why = NULL;
    DsimDist *d = dsim_dist_parse(v, &why);
    if (d == NULL)
        return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_BAD_VALUE, error, "%s", why);
    dsim_dist_free(*out);
    *out = d;
    return TRUE;
}

static gboolean get_prob_text(Loader *ld, xmlNode *node, double *out, GError **error)
{
    g_autofree char *v = get_text(node);
    if (!dsim_prob_parse(v, out)) {
        g_autofree char *q = dsim_quote(v);
        return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                       "%s is not a probability (write a number from 0 to 1, e.g. 0.01)", q);
    }
    return TRUE;
}

static gboolean parse_link(Loader *ld, xmlNode *node, GError **error)
{
    static const char *const once[] = { "latency", "loss", "duplicate", NULL };
    DsimLinkSpec link = { .loss = -1, .duplicate = -1, .line = line_of(node) };

    if (!check_once(ld, node, once, error))
        return FALSE;

    if (!get_node_attr(ld, node, "from", &link.from, error)
        || !get_node_attr(ld, node, "to", &link.to, error))
        return FALSE;
    if (link.from == link.to) {
        g_autofree char *v = get_attr(node, "to");
        return fail_at(ld, node, "to", v, DSIM_SCENARIO_ERROR_INCONSISTENT, error,
                       "a link joins two different nodes");
    }
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        gboolean ok = TRUE;
        if (xmlStrEqual(c->name, (const xmlChar *) "latency"))
            ok = get_latency_text(ld, c, &link.latency, error);
        else if (xmlStrEqual(c->name, (const xmlChar *) "loss"))
            ok = get_prob_text(ld, c, &link.loss, error);
        else if (xmlStrEqual(c->name, (const xmlChar *) "duplicate"))
            ok = get_prob_text(ld, c, &link.duplicate, error);
        if (!ok) {
            dsim_dist_free(link.latency);
            return FALSE;
        }
    }
    g_array_append_val(ld->sc->net.links, link);
    return TRUE;
}

static gboolean parse_network(Loader *ld, xmlNode *node, GError **error)
{
    static const char *const once[] = { "latency", "loss", "duplicate", "bandwidth",
                                        "header_bytes", NULL };
    DsimNetSpec *net = &ld->sc->net;

    if (!check_once(ld, node, once, error))
        return FALSE;

    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *) c->name;
        if (strcmp(name, "latency") == 0) {
            if (!get_latency_text(ld, c, &net->latency, error))
                return FALSE;
        } else if (strcmp(name, "loss") == 0) {
            if (!get_prob_text(ld, c, &net->loss, error))
                return FALSE;
        } else if (strcmp(name, "duplicate") == 0) {
            if (!get_prob_text(ld, c, &net->duplicate, error))
                return FALSE;
        } else if (strcmp(name, "bandwidth") == 0) {
            g_autofree char *v = get_text(c);
            if (!parse_bandwidth(v, &net->bandwidth_bps)) {
                g_autofree char *q = dsim_quote(v);
                return fail_at(ld, c, NULL, NULL, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                               "%s is not a bandwidth (write e.g. 100Mbit/s, 1Gbit/s, 10MB/s)",
                               q);
            }
        } else if (strcmp(name, "header_bytes") == 0) {
            g_autofree char *v = get_text(c);
            uint64_t n;
            if (!parse_u64(v, &n) || n > 65535) {
                g_autofree char *q = dsim_quote(v);
                return fail_at(ld, c, NULL, NULL, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                               "%s is not a byte count from 0 to 65535", q);
            }
            net->header_bytes = (uint32_t) n;
        } else if (strcmp(name, "link") == 0) {
            if (!parse_link(ld, c, error))
                return FALSE;
        }
    }
    return TRUE;
}

static gboolean parse_storage(Loader *ld, xmlNode *node, GError **error)
{
    int v = -1;
    if (!get_choice_attr(ld, node, "unsynced", OPTIONAL, "keep|lose", &v, error))
        return FALSE;
    if (v >= 0)
        ld->sc->unsynced = v == 0 ? DSIM_UNSYNCED_KEEP : DSIM_UNSYNCED_LOSE;
    return TRUE;
}

/* ---- workloads ---------------------------------------------------------------------- */

static void workload_clear(DsimWorkloadSpec *w)
{
    g_free(w->type);
    if (w->mix != NULL) {
        gsize n = 0;
        DsimMixItem *items = g_array_steal(w->mix, &n);
        for (gsize i = 0; i < n; i++)
            g_free(items[i].op);
        g_free(items);
        g_array_unref(w->mix);
    }
}

/* "get:0.5,put:0.4,cas:0.1": known operations, each once, weights summing to 1. */
static bool parse_mix(const char *text, GArray *mix, char **why)
{
    static const char *const ops[] = { "get", "put", "append", "cas" };
    g_auto(GStrv) items = g_strsplit(text, ",", -1);
    double sum = 0;

    for (unsigned i = 0; items[i] != NULL; i++) {
        char *item = g_strstrip(items[i]);
        char *colon = strchr(item, ':');
        g_autofree char *q = dsim_quote(item);
        if (colon == NULL) {
            *why = g_strdup_printf("%s is not an operation and its weight (write e.g. get:0.5)",
                                   q);
            return false;
        }
        *colon = '\0';
        char *op = g_strstrip(item);
        char *weight = g_strstrip(colon + 1);
        bool known = false;
        for (size_t k = 0; k < G_N_ELEMENTS(ops); k++)
            known = known || strcmp(op, ops[k]) == 0;
        if (!known) {
            g_autofree char *qo = dsim_quote(op);
            *why = g_strdup_printf("%s is not an operation (known: " KNOWN_OPS ")", qo);
            return false;
        }
        for (unsigned k = 0; k < mix->len; k++) {
            if (strcmp(g_array_index(mix, DsimMixItem, k).op, op) == 0) {
                *why = g_strdup_printf("%s appears twice", op);
                return false;
            }
        }
        DsimMixItem it = { .op = NULL };
        if (!dsim_prob_parse(weight, &it.weight)) {
            g_autofree char *qw = dsim_quote(weight);
            *why = g_strdup_printf("the weight of %s, %s, is not a number from 0 to 1", op, qw);
            return false;
        }
        it.op = g_strdup(op);
        g_array_append_val(mix, it);
        sum += it.weight;
    }
    /* Weights are user decimals such as 0.1 + 0.2 + 0.7, which are not exact in binary. */
    if (fabs(sum - 1.0) > 1e-9) {
        *why = g_strdup_printf("the weights sum to %g, not 1", sum);
        return false;
    }
    return true;
}

static gboolean parse_workload_fields(Loader *ld, xmlNode *node, DsimWorkloadSpec *w,
                                      GError **error)
{
    g_autofree char *rate = NULL, *mix = NULL;
    int target = -1;

    if (!want_attr(ld, node, "type", REQUIRED, &w->type, error))
        return FALSE;
    if (strcmp(w->type, "kv") != 0 && strcmp(w->type, "register") != 0) {
        g_autofree char *q = dsim_quote(w->type);
        return fail_at(ld, node, "type", w->type, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                       "unknown workload type %s (known: " KNOWN_WORKLOADS ")", q);
    }
    if (!get_group_attr(ld, node, "target", REQUIRED, &target, error))
        return FALSE;
    w->target = (unsigned) target;

    if (!get_uint_attr(ld, node, "clients", OPTIONAL, 1, 1000000, &w->clients, error))
        return FALSE;
    if (!want_attr(ld, node, "rate", REQUIRED, &rate, error))
        return FALSE;
    if (!dsim_rate_parse(rate, &w->rate))
        return fail_value(ld, node, "rate", rate, error,
                          "is not a rate (write e.g. 100/s, 5/ms)");
    if (w->rate > MAX_WORKLOAD_RATE)
        return fail_value(ld, node, "rate", rate, error,
                          "is above the limit of 1000000/s");
    if (!get_uint_attr(ld, node, "keys", OPTIONAL, 1, 1000000000, &w->keys, error))
        return FALSE;

    if (!want_attr(ld, node, "mix", OPTIONAL, &mix, error))
        return FALSE;
    g_autofree char *why = NULL;
    if (!parse_mix(mix != NULL ? mix : DEFAULT_MIX, w->mix, &why))
        return fail_at(ld, node, "mix", mix, DSIM_SCENARIO_ERROR_BAD_VALUE, error, "%s", why);
    /* a register is read, written and compared-and-set; appending makes it a string */
    for (unsigned i = 0; strcmp(w->type, "register") == 0 && i < w->mix->len; i++) {
        if (strcmp(g_array_index(w->mix, DsimMixItem, i).op, "append") == 0)
            return fail_at(ld, node, "mix", mix, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                           "a register workload has no append (use get, put and cas, or type=\"kv\")");
    }

    if (!get_instant_attr(ld, node, "start", OPTIONAL, &w->start, error)
        || !get_instant_attr(ld, node, "stop", OPTIONAL, &w->stop, error))
        return FALSE;
    if (w->stop <= w->start) {
        g_autofree char *a = attr_or_time(node, "start", w->start);
        g_autofree char *b = attr_or_time(node, "stop", w->stop);
        return fail(ld, node, DSIM_SCENARIO_ERROR_INCONSISTENT, error,
                    "<workload start=\"%s\" stop=\"%s\">: stop must come after start", a, b);
    }
    if (!get_time_attr(ld, node, "timeout", OPTIONAL, &w->timeout, error))
        return FALSE;
    if (w->timeout <= 0) {
        g_autofree char *v = get_attr(node, "timeout");
        return fail_value(ld, node, "timeout", v, error, "is not a positive duration");
    }
    /* last, so that a workload is checked in full before it is found to have no taker */
    const DsimGroupSpec *g = group_at(ld, target);
    if (g->protocol->on_request == NULL)
        return fail_at(ld, node, "target", g->id, DSIM_SCENARIO_ERROR_INCONSISTENT, error,
                       "group %s runs %s, which takes no client requests", g->id,
                       g->protocol->name);
    return TRUE;
}

static gboolean parse_workload(Loader *ld, xmlNode *node, GError **error)
{
    DsimWorkloadSpec w = {
        .clients = 1,
        .keys = 1,
        .mix = g_array_new(FALSE, TRUE, sizeof(DsimMixItem)),
        .start = 0,
        .stop = ld->sc->duration,
        .timeout = DSIM_S(1),
        .line = line_of(node),
    };
    if (!parse_workload_fields(ld, node, &w, error)) {
        workload_clear(&w);
        return FALSE;
    }
    g_array_append_val(ld->sc->workloads, w);
    return TRUE;
}

/* ---- faults ---------------------------------------------------------------------------- */

static void fault_clear(DsimFaultSpec *f)
{
    selector_list_free(f->nodes);
    selector_list_free(f->from);
    selector_list_free(f->to);
    if (f->sides != NULL) {
        gsize n = 0;
        gpointer *sides = g_ptr_array_steal(f->sides, &n);
        for (gsize i = 0; i < n; i++)
            selector_list_free(sides[i]);
        g_free(sides);
        g_ptr_array_unref(f->sides);
    }
    g_free(f->as);
}

static const struct {
    const char   *name;
    DsimFaultKind kind;
} fault_kinds[] = {
    { "crash", DSIM_FAULT_CRASH },
    { "restart", DSIM_FAULT_RESTART },
    { "pause", DSIM_FAULT_PAUSE },
    { "resume", DSIM_FAULT_RESUME },
    { "disconnect", DSIM_FAULT_DISCONNECT },
    { "connect", DSIM_FAULT_CONNECT },
    { "partition", DSIM_FAULT_PARTITION },
    { "block", DSIM_FAULT_BLOCK },
    { "unblock", DSIM_FAULT_UNBLOCK },
    { "heal", DSIM_FAULT_HEAL },
    { "drift", DSIM_FAULT_DRIFT },
    { "nemesis", DSIM_FAULT_NEMESIS },
};

#define NEMESIS_KINDS                                                                \
    "random-halves|majorities-ring|bridge|isolate|isolate-leader|crash-restart|" \
    "pause-resume"

/* as="L1": names what the fault hits, for later selectors ("L1", "L1+1"). A capture name
 * must not read as a node or a group, or selectors would be ambiguous. */
static gboolean check_capture_name(Loader *ld, xmlNode *node, const char *as, GError **error)
{
    if (!is_identifier(as))
        return fail_value(ld, node, "as", as, error,
                          "is not a capture name (a letter, then letters, digits, - and _; "
                          "e.g. L1)");
    if (lookup_node(ld->sc, ld->groups, as) != DSIM_NOBODY || find_group(ld, as) >= 0
        || strcmp(as, "crashed") == 0)
        return fail_value(ld, node, "as", as, error,
                          "is already the name of a node or group; choose another (e.g. L1)");
    return TRUE;
}

static gboolean parse_partition_sides(Loader *ld, xmlNode *node, DsimFaultSpec *f,
                                      GError **error)
{
    g_autofree char *v = NULL;
    if (!want_attr(ld, node, "groups", REQUIRED, &v, error))
        return FALSE;
    g_auto(GStrv) sides = split_outside_parens(v, '|');
    if (g_strv_length(sides) < 2)
        return fail_at(ld, node, "groups", v, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                       "a partition needs two or more sides separated by | (e.g. r1,r2 | "
                       "r3,r4,r5); to cut one node off, use <disconnect>");
    f->sides = g_ptr_array_new();
    for (unsigned i = 0; sides[i] != NULL; i++) {
        DsimSelectorList *side = parse_selector_list(ld, node, "groups", v, sides[i], error);
        if (side == NULL)
            return FALSE;
        g_ptr_array_add(f->sides, side);
    }
    return TRUE;
}

static gboolean parse_nemesis(Loader *ld, xmlNode *node, DsimFaultSpec *f, GError **error)
{
    int kind = -1, target = -1;

    if (!get_choice_attr(ld, node, "kind", REQUIRED, NEMESIS_KINDS, &kind, error))
        return FALSE;
    f->nemesis = (DsimNemesisKind) kind;
    if (!get_group_attr(ld, node, "target", REQUIRED, &target, error))
        return FALSE;
    f->target = (unsigned) target;
    if (!get_instant_attr(ld, node, "start", REQUIRED, &f->at, error)
        || !get_instant_attr(ld, node, "stop", REQUIRED, &f->stop, error))
        return FALSE;
    if (f->stop <= f->at) {
        g_autofree char *a = get_attr(node, "start"), *b = get_attr(node, "stop");
        return fail(ld, node, DSIM_SCENARIO_ERROR_INCONSISTENT, error,
                    "<nemesis start=\"%s\" stop=\"%s\">: stop must come after start", a, b);
    }
    if (!get_time_attr(ld, node, "every", REQUIRED, &f->every, error))
        return FALSE;
    if (f->every <= 0) {
        g_autofree char *v = get_attr(node, "every");
        return fail_value(ld, node, "every", v, error,
                          "is not a positive duration (write e.g. 2s)");
    }
    uint64_t ticks = (uint64_t) (f->stop - f->at) / (uint64_t) f->every;
    if (ticks > MAX_NEMESIS_TICKS) {
        g_autofree char *v = get_attr(node, "every");
        return fail_at(ld, node, "every", v, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                       "the nemesis would act %" PRIu64 " times between start and stop; the "
                       "limit is %u (make every longer)",
                       ticks, MAX_NEMESIS_TICKS);
    }
    return TRUE;
}

static gboolean parse_fault_fields(Loader *ld, xmlNode *node, DsimFaultSpec *f, GError **error)
{
    switch (f->kind) {
    case DSIM_FAULT_NEMESIS:
        return parse_nemesis(ld, node, f, error);
    case DSIM_FAULT_CRASH: {
        int unsynced = -1;
        if (!get_choice_attr(ld, node, "unsynced", OPTIONAL, "keep|lose", &unsynced, error))
            return FALSE;
        if (unsynced >= 0)
            f->unsynced = unsynced == 0 ? DSIM_UNSYNCED_KEEP : DSIM_UNSYNCED_LOSE;
        break;
    }
    default:
        break;
    }

    if (!get_instant_attr(ld, node, "at", REQUIRED, &f->at, error))
        return FALSE;
    switch (f->kind) {
    case DSIM_FAULT_CRASH:
    case DSIM_FAULT_RESTART:
    case DSIM_FAULT_PAUSE:
    case DSIM_FAULT_RESUME:
    case DSIM_FAULT_DISCONNECT:
    case DSIM_FAULT_CONNECT:
        return get_selectors_attr(ld, node, "node", &f->nodes, error);
    case DSIM_FAULT_DRIFT: {
        g_autofree char *v = NULL;
        if (!get_selectors_attr(ld, node, "node", &f->nodes, error)
            || !want_attr(ld, node, "rate", REQUIRED, &v, error))
            return FALSE;
        if (!parse_number(v, &f->rate) || f->rate <= 0 || f->rate > 100)
            return fail_value(ld, node, "rate", v, error,
                              "is not a clock rate (write a number above 0 and at most 100, "
                              "e.g. 1.05 for a clock 5% fast)");
        return TRUE;
    }
    case DSIM_FAULT_PARTITION:
        return parse_partition_sides(ld, node, f, error);
    case DSIM_FAULT_BLOCK:
    case DSIM_FAULT_UNBLOCK:
        return get_selectors_attr(ld, node, "from", &f->from, error)
               && get_selectors_attr(ld, node, "to", &f->to, error);
    case DSIM_FAULT_HEAL:
        return TRUE;
    case DSIM_FAULT_NEMESIS:
        break;
    }
    g_assert_not_reached();
}

static gboolean parse_fault(Loader *ld, xmlNode *node, GError **error)
{
    DsimFaultSpec f = { .line = line_of(node), .unsynced = DSIM_UNSYNCED_DEFAULT };
    size_t k;

    for (k = 0; k < G_N_ELEMENTS(fault_kinds); k++) {
        if (xmlStrEqual(node->name, (const xmlChar *) fault_kinds[k].name))
            break;
    }
    g_assert(k < G_N_ELEMENTS(fault_kinds)); /* the schema admits no other element */
    f.kind = fault_kinds[k].kind;
    f.as = get_attr(node, "as");
    if (!parse_fault_fields(ld, node, &f, error)) {
        fault_clear(&f);
        return FALSE;
    }
    g_array_append_val(ld->sc->faults, f);
    return TRUE;
}

/* Captures are resolved at run time, in time order, so a selector may name any capture that
 * some fault defines; the names are gathered before any selector is read. */
static gboolean parse_faults(Loader *ld, xmlNode *node, GError **error)
{
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        g_autofree char *as = get_attr(c, "as");
        if (as == NULL)
            continue;
        if (!check_capture_name(ld, c, as, error))
            return FALSE;
        if (!g_hash_table_contains(ld->captures, as))
            g_hash_table_insert(ld->captures, g_steal_pointer(&as),
                                GINT_TO_POINTER(line_of(c)));
    }
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !parse_fault(ld, c, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- checks ------------------------------------------------------------------------------ */

static const DsimInvariant *find_invariant(const DsimProtocol *p, const char *name)
{
    for (const DsimInvariant *inv = p->invariants; inv != NULL && inv->name != NULL; inv++) {
        if (strcmp(inv->name, name) == 0)
            return inv;
    }
    return NULL;
}

/* The invariants of group @g's protocol, or of every protocol in the scenario (g < 0),
 * each name once: "election-safety, log-matching". */
static char *invariant_list(Loader *ld, int g)
{
    GString *s = g_string_new(NULL);
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (unsigned i = 0; i < ld->sc->groups->len; i++) {
        if (g >= 0 && (unsigned) g != i)
            continue;
        const DsimProtocol *p = group_at(ld, (int) i)->protocol;
        for (const DsimInvariant *inv = p->invariants; inv != NULL && inv->name != NULL;
             inv++) {
            if (g_hash_table_add(seen, (gpointer) inv->name))
                g_string_append_printf(s, "%s%s", s->len > 0 ? ", " : "", inv->name);
        }
    }
    g_hash_table_unref(seen);
    if (s->len == 0)
        g_string_append(s, "none");
    return g_string_free(s, FALSE);
}

static gboolean parse_invariant(Loader *ld, xmlNode *node, DsimCheckSpec *ck, GError **error)
{
    if (!want_attr(ld, node, "name", REQUIRED, &ck->name, error)
        || !get_group_attr(ld, node, "group", OPTIONAL, &ck->group, error))
        return FALSE;
    bool found = false;
    for (unsigned i = 0; i < ld->sc->groups->len && !found; i++) {
        if (ck->group < 0 || (unsigned) ck->group == i)
            found = find_invariant(group_at(ld, (int) i)->protocol, ck->name) != NULL;
    }
    if (found)
        return TRUE;
    g_autofree char *q = dsim_quote(ck->name);
    g_autofree char *known = invariant_list(ld, ck->group);
    if (ck->group >= 0) {
        const DsimGroupSpec *g = group_at(ld, ck->group);
        return fail_at(ld, node, "name", ck->name, DSIM_SCENARIO_ERROR_UNKNOWN_NAME, error,
                       "protocol %s of group %s has no invariant %s (its invariants: %s)",
                       g->protocol->name, g->id, q, known);
    }
    return fail_at(ld, node, "name", ck->name, DSIM_SCENARIO_ERROR_UNKNOWN_NAME, error,
                   "no protocol in this scenario has an invariant %s (known here: %s; see "
                   "dsim list)",
                   q, known);
}

/* A bound of <expect metric>: a plain number, or a duration (counted in seconds). */
static gboolean get_bound_attr(Loader *ld, xmlNode *node, const char *name, bool *has,
                               double *out, GError **error)
{
    g_autofree char *v = get_attr(node, name);
    DsimTime t;
    if (v == NULL)
        return TRUE;
    if (dsim_time_parse(v, &t))
        *out = (double) t / 1e9;
    else if (!parse_number(v, out))
        return fail_value(ld, node, name, v, error,
                          "is not a number or a duration (write e.g. 0.5 or 2s)");
    *has = true;
    return TRUE;
}

static gboolean parse_expect(Loader *ld, xmlNode *node, DsimCheckSpec *ck, GError **error)
{
    g_autofree char *metric = get_attr(node, "metric");

    if (metric != NULL) {
        ck->kind = DSIM_CHECK_EXPECT_METRIC;
        if (metric[0] == '\0'
            || strspn(metric, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
                   != strlen(metric))
            return fail_value(ld, node, "metric", metric, error,
                              "is not a metric name (letters, digits, _, . and -)");
        ck->name = g_steal_pointer(&metric);
        if (!get_instant_attr(ld, node, "after", OPTIONAL, &ck->after, error)
            || !get_bound_attr(ld, node, "min", &ck->has_min, &ck->min, error)
            || !get_bound_attr(ld, node, "max", &ck->has_max, &ck->max, error))
            return FALSE;
        if (!ck->has_min && !ck->has_max)
            return fail_at(ld, node, "metric", ck->name, DSIM_SCENARIO_ERROR_INCONSISTENT,
                           error, "give min=\"...\", max=\"...\" or both");
        if (ck->has_min && ck->has_max && ck->min > ck->max)
            return fail_at(ld, node, "metric", ck->name, DSIM_SCENARIO_ERROR_INCONSISTENT,
                           error, "min is above max, so no value can pass");
        return TRUE;
    }

    g_autofree char *leader = get_attr(node, "leader");
    g_autofree char *agree = get_attr(node, "agree");
    if (leader != NULL) {
        ck->kind = DSIM_CHECK_EXPECT_LEADER;
        if (strcmp(leader, "one") != 0 && strcmp(leader, "none") != 0)
            return fail_value(ld, node, "leader", leader, error, "is not one of one|none");
        ck->leader_one = strcmp(leader, "one") == 0;
    } else if (agree != NULL) {
        ck->kind = DSIM_CHECK_EXPECT_AGREE;
        if (strcmp(agree, "all") != 0)
            return fail_value(ld, node, "agree", agree, error, "is not all (write agree=\"all\")");
    } else {
        return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_SCHEMA, error,
                       "give metric=\"...\", leader=\"one|none\" or agree=\"all\"");
    }
    if (!get_group_attr(ld, node, "group", REQUIRED, &ck->group, error)
        || !get_instant_attr(ld, node, "at", REQUIRED, &ck->at, error)
        || !get_time_attr(ld, node, "within", OPTIONAL, &ck->within, error))
        return FALSE;
    if (ck->within > ld->sc->duration - ck->at) {
        g_autofree char *at = get_attr(node, "at"), *within = get_attr(node, "within");
        g_autofree char *d = time_text(ld->sc->duration);
        return fail(ld, node, DSIM_SCENARIO_ERROR_INCONSISTENT, error,
                    "<expect at=\"%s\" within=\"%s\"> ends after the end of the scenario "
                    "(duration %s)",
                    at, within, d);
    }
    return TRUE;
}

static gboolean parse_check(Loader *ld, xmlNode *node, DsimCheckSpec *ck, GError **error)
{
    const char *name = (const char *) node->name;

    if (strcmp(name, "invariant") == 0) {
        ck->kind = DSIM_CHECK_INVARIANT;
        return parse_invariant(ld, node, ck, error);
    }
    if (strcmp(name, "linearizable") == 0) {
        int model = -1;
        ck->kind = DSIM_CHECK_LINEARIZABLE;
        if (!get_choice_attr(ld, node, "model", REQUIRED, "kv|register", &model, error))
            return FALSE;
        ck->name = get_attr(node, "model");
        return TRUE;
    }
    if (strcmp(name, "converge") == 0) {
        ck->kind = DSIM_CHECK_CONVERGE;
        if (!get_group_attr(ld, node, "group", OPTIONAL, &ck->group, error)
            || !get_time_attr(ld, node, "within", REQUIRED, &ck->within, error))
            return FALSE;
        if (ck->within <= 0) {
            g_autofree char *v = get_attr(node, "within");
            return fail_value(ld, node, "within", v, error, "is not a positive duration");
        }
        return TRUE;
    }
    g_assert(strcmp(name, "expect") == 0); /* the schema admits no other element */
    return parse_expect(ld, node, ck, error);
}

static gboolean parse_checks(Loader *ld, xmlNode *node, GError **error)
{
    ld->sc->has_checks = true;
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        DsimCheckSpec ck = { .line = line_of(c), .group = -1 };
        if (!parse_check(ld, c, &ck, error)) {
            g_free(ck.name);
            return FALSE;
        }
        g_array_append_val(ld->sc->checks, ck);
    }
    return TRUE;
}

/* ---- report and sweep ---------------------------------------------------------------- */

static gboolean parse_report(Loader *ld, xmlNode *node, GError **error)
{
    DsimReportSpec *r = &ld->sc->report;
    g_autofree char *plots = get_attr(node, "plots");
    g_autofree char *spacetime = get_attr(node, "spacetime");

    if (plots != NULL) {
        g_auto(GStrv) items = g_strsplit(plots, ",", -1);
        for (unsigned i = 0; items[i] != NULL; i++) {
            char *p = g_strstrip(items[i]);
            if (!is_identifier(p)) {
                g_autofree char *q = dsim_quote(p);
                return fail_at(ld, node, "plots", plots, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                               "%s is not a plot name (write e.g. plots=\"leader-timeline,"
                               "latency-cdf\")",
                               q);
            }
            g_ptr_array_add(r->plots, g_strdup(p));
        }
    }
    if (spacetime != NULL) {
        DsimTimeRange range;
        if (!dsim_time_range_parse(spacetime, &range) || range.hi <= range.lo)
            return fail_value(ld, node, "spacetime", spacetime, error,
                              "is not a time window (write e.g. 0s..2s)");
        r->has_spacetime = true;
        r->spacetime_from = range.lo;
        r->spacetime_to = range.hi;
    }
    return TRUE;
}

static void vary_clear(DsimVarySpec *v)
{
    g_free(v->param);
    if (v->values != NULL) {
        gsize n = 0;
        gpointer *values = g_ptr_array_steal(v->values, &n);
        for (gsize i = 0; i < n; i++)
            g_free(values[i]);
        g_free(values);
        g_ptr_array_unref(v->values);
    }
}

static gboolean parse_vary_fields(Loader *ld, xmlNode *node, DsimVarySpec *v, GError **error)
{
    g_autofree char *values = NULL;

    if (!want_attr(ld, node, "param", REQUIRED, &v->param, error)
        || !want_attr(ld, node, "values", REQUIRED, &values, error))
        return FALSE;
    const char *dot = strchr(v->param, '.');
    if (dot == NULL)
        return fail_value(ld, node, "param", v->param, error,
                          "is not group.parameter (write e.g. r.election_timeout)");
    g_autofree char *gid = g_strndup(v->param, (gsize) (dot - v->param));
    int g = find_group(ld, gid);
    if (g < 0) {
        g_autofree char *q = dsim_quote(gid);
        g_autofree char *known = group_list(ld->sc);
        return fail_at(ld, node, "param", v->param, DSIM_SCENARIO_ERROR_UNKNOWN_NAME, error,
                       "no group is named %s (groups: %s)", q, known);
    }
    const DsimGroupSpec *gs = group_at(ld, g);
    const DsimParam *p = dsim_param_find(gs->protocol->params, dot + 1);
    if (p == NULL) {
        g_autofree char *q = dsim_quote(dot + 1);
        g_autofree char *known = param_list(gs->protocol);
        return fail_at(ld, node, "param", v->param, DSIM_SCENARIO_ERROR_UNKNOWN_PARAM, error,
                       "protocol %s has no parameter %s (its parameters: %s)",
                       gs->protocol->name, q, known);
    }
    for (unsigned i = 0; i < ld->sc->sweep.vary->len; i++) {
        if (strcmp(g_array_index(ld->sc->sweep.vary, DsimVarySpec, i).param, v->param) == 0)
            return fail_at(ld, node, "param", v->param, DSIM_SCENARIO_ERROR_DUPLICATE, error,
                           "%s is varied twice", v->param);
    }
    v->group = (unsigned) g;

    /* Each value is parsed into a scratch copy of the group's config, and the result
     * validated, so a bad one is caught now, not mid-sweep. */
    g_autofree void *scratch = g_memdup2(gs->config, gs->protocol->config_size > 0
                                                         ? gs->protocol->config_size : 1);
    g_auto(GStrv) items = g_strsplit(values, ",", -1);
    for (unsigned i = 0; items[i] != NULL; i++) {
        g_autofree char *why = NULL;
        char *item = g_strstrip(items[i]);
        if (!dsim_param_parse(p, item, scratch, &why))
            return fail_at(ld, node, "values", values, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                           "%s", why);
        g_autoptr(GString) bad = g_string_new(NULL);
        if (validate_config(ld->sc, (unsigned) g, scratch, bad) != NULL)
            return fail_at(ld, node, "values", values, DSIM_SCENARIO_ERROR_BAD_VALUE, error,
                           "%s=%s: %s", v->param, item, bad->str);
        g_ptr_array_add(v->values, g_strdup(item));
    }
    return TRUE;
}

static gboolean parse_sweep(Loader *ld, xmlNode *node, GError **error)
{
    DsimSweepSpec *sw = &ld->sc->sweep;
    g_autofree char *seeds = get_attr(node, "seeds");

    ld->sc->has_sweep = true;
    sw->line = line_of(node);
    if (seeds != NULL) {
        const char *dots = strstr(seeds, "..");
        g_autofree char *lo = g_strstrip(g_strndup(seeds, dots != NULL
                                                              ? (gsize) (dots - seeds)
                                                              : strlen(seeds)));
        g_autofree char *hi = g_strstrip(g_strdup(dots != NULL ? dots + 2 : lo));
        if (!parse_u64(lo, &sw->seed_lo) || !parse_u64(hi, &sw->seed_hi)
            || sw->seed_hi < sw->seed_lo)
            return fail_value(ld, node, "seeds", seeds, error,
                              "is not a range of seeds (write e.g. 1..1000)");
    }
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        DsimVarySpec v = { .values = g_ptr_array_new(), .line = line_of(c) };
        if (!parse_vary_fields(ld, c, &v, error)) {
            vary_clear(&v);
            return FALSE;
        }
        g_array_append_val(sw->vary, v);
    }
    return TRUE;
}

/* ---- the whole document ------------------------------------------------------------------ */

static gboolean parse_scenario(Loader *ld, xmlNode *root, GError **error)
{
    static const char *const once[] = { "description", "network", "storage", "faults",
                                        "checks",      "report",  "sweep",   NULL };
    if (!check_once(ld, root, once, error) || !parse_scenario_attrs(ld, root, error))
        return FALSE;

    for (xmlNode *c = root->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, (const xmlChar *) "group")
            && !parse_group(ld, c, error))
            return FALSE;
    }
    if (ld->sc->groups->len == 0)
        return fail(ld, root, DSIM_SCENARIO_ERROR_SCHEMA, error,
                    "<scenario> needs at least one <group>");
    if (!check_name_clashes(ld, error))
        return FALSE;
    name_nodes(ld->sc);
    if (!validate_groups(ld, error))
        return FALSE;

    for (xmlNode *c = root->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *) c->name;
        gboolean ok = TRUE;
        if (strcmp(name, "description") == 0)
            ok = parse_description(ld, c, error);
        else if (strcmp(name, "network") == 0)
            ok = parse_network(ld, c, error);
        else if (strcmp(name, "storage") == 0)
            ok = parse_storage(ld, c, error);
        else if (strcmp(name, "workload") == 0)
            ok = parse_workload(ld, c, error);
        else if (strcmp(name, "faults") == 0)
            ok = parse_faults(ld, c, error);
        else if (strcmp(name, "checks") == 0)
            ok = parse_checks(ld, c, error);
        else if (strcmp(name, "report") == 0)
            ok = parse_report(ld, c, error);
        else if (strcmp(name, "sweep") == 0)
            ok = parse_sweep(ld, c, error);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* ---- libxml2: parsing and validation -------------------------------------------------------- */

static void keep_first_error(Loader *ld, DsimScenarioError code, int line, const char *prefix,
                             const char *message)
{
    if (ld->xml_message != NULL)
        return;
    g_autofree char *m = g_strstrip(g_strdup(message != NULL ? message : "unknown error"));
    /* libxml2's advice for its depth limit is addressed to programmers */
    if (g_str_has_prefix(m, "Excessive depth in document")) {
        g_free(m);
        m = g_strdup("elements are nested too deep (the limit is 256 levels)");
    }
    for (char *p = m; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    }
    ld->xml_code = code;
    ld->xml_line = line > 0 ? line : 1;
    ld->xml_message = g_strconcat(prefix, m, NULL);
}

/* The parser context's structured error handler: @data is the parser context. */
static void on_parse_error(void *data, xmlError *err)
{
    xmlParserCtxt *ctxt = data;
    if (err->level >= XML_ERR_ERROR)
        keep_first_error(ctxt->_private, DSIM_SCENARIO_ERROR_PARSE, err->line,
                         "XML is not well-formed: ", err->message);
}

/* Errors libxml2 raises without a context (character conversion); @data is the Loader. */
static void on_stray_error(void *data, xmlError *err)
{
    if (err->level >= XML_ERR_ERROR)
        keep_first_error(data, DSIM_SCENARIO_ERROR_PARSE, err->line, "XML is not well-formed: ",
                         err->message);
}

/* SAX internalSubset: a DOCTYPE. Nothing in a scenario needs one, and everything dangerous in
 * XML (entity expansion, external entities, DTD loading) starts with one, so the parser stops
 * here, before reading a single declaration. */
static void on_doctype(void *data, const xmlChar *name, const xmlChar *external_id,
                       const xmlChar *system_id)
{
    xmlParserCtxt *ctxt = data;
    Loader *ld = ctxt->_private;
    int line = ctxt->input != NULL ? ctxt->input->line : 1;

    keep_first_error(ld, DSIM_SCENARIO_ERROR_PARSE, line, "",
                     "DOCTYPE and entity declarations are not allowed in scenario files");
    xmlStopParser(ctxt);
}

/* SAX entityDecl: unreachable once on_doctype stops the parser; kept as a second lock. */
static void on_entity_decl(void *data, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    on_doctype(data, name, public_id, system_id);
}

/* SAX startElementNs: builds the node as libxml2 does, then records in node->_private (the
 * application's field) the line of the tag's '<', which a reader looks for, rather than the
 * line of its '>', which is all libxml2 keeps. The parser calls this with the input just
 * past the attributes; no '<' can occur inside a start tag, so the nearest one before the
 * cursor opens it. Newlines in between are counted back from the parser's current line. */
static void on_start_element(void *data, const xmlChar *localname, const xmlChar *prefix,
                             const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                             int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxt *ctxt = data;
    xmlParserInput *in = ctxt->input;
    int line = in->line;
    const xmlChar *p = in->cur;

    while (p > in->base && *--p != '<') {
        if (*p == '\n')
            line--;
    }
    if (p < in->base || *p != '<')
        line = in->line; /* the tag's start is gone from the buffer: keep libxml2's line */
    xmlSAX2StartElementNs(ctxt, localname, prefix, uri, nb_namespaces, namespaces,
                          nb_attributes, nb_defaulted, attributes);
    if (ctxt->node != NULL && xmlStrEqual(ctxt->node->name, localname) && line > 0)
        ctxt->node->_private = GINT_TO_POINTER(line);
}

static xmlDoc *parse_xml(Loader *ld, const char *data, size_t len, GError **error)
{
    g_autoptr(xmlParserCtxt) ctxt = xmlCreateMemoryParserCtxt(data, (int) len);
    if (ctxt == NULL) {
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_PARSE,
                    "%s:1: XML is not well-formed: the parser could not start", ld->file);
        return NULL;
    }
    /* No XML_PARSE_NOENT, DTDLOAD, DTDATTR or HUGE: entities stay unexpanded, no DTD is
     * read, and libxml2 keeps its limits on depth and text size. BIG_LINES only keeps line
     * numbers right beyond 65535. */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING
                                | XML_PARSE_BIG_LINES);
    ctxt->_private = ld;
    ctxt->sax->serror = on_parse_error;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->startElementNs = on_start_element;

    xmlStructuredErrorFunc old = xmlStructuredError;
    void *old_data = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(ld, on_stray_error);
    xmlParseDocument(ctxt);
    xmlSetStructuredErrorFunc(old_data, old);

    g_autoptr(xmlDoc) doc = g_steal_pointer(&ctxt->myDoc);
    if (ld->xml_message == NULL && (!ctxt->wellFormed || doc == NULL))
        keep_first_error(ld, DSIM_SCENARIO_ERROR_PARSE, ctxt->input != NULL
                                                            ? ctxt->input->line : 1,
                         "XML is not well-formed: ", "the document is incomplete");
    if (ld->xml_message != NULL) {
        g_set_error(error, DSIM_SCENARIO_ERROR, ld->xml_code, "%s:%d: %s", ld->file,
                    ld->xml_line, ld->xml_message);
        return NULL;
    }
    return g_steal_pointer(&doc);
}

/* ---- schema diagnosis: a better first message for an invalid file ------------------------ */

/* libxml2's RELAX NG messages describe its automaton more than the file ("Expecting element
 * heal, got crash" for a misspelt attribute of <crash>), so when validation fails, the
 * document is walked once more against a summary of the schema, read from dsim.rng itself so
 * that the vocabulary is written in one place only: for each element name, the attributes it
 * takes (and which are required) and the child elements it takes (and which must appear,
 * which at most once). The first misspelt, missing, misplaced or repeated name in document
 * order gets a message that says how to fix it. The summary is an approximation (a <choice>
 * makes everything in it optional), so when it finds nothing, libxml2's first message is
 * reported instead. The RELAX NG validation remains the authority on what is valid. */

typedef struct {
    char *name;
    bool  required; /* must appear (not under optional, zeroOrMore or choice) */
    bool  once;     /* child elements: not under zeroOrMore or oneOrMore */
} RuleItem;

typedef struct {
    GArray *attrs;    /* RuleItem, schema order */
    GArray *children; /* RuleItem, schema order */
    bool    text;     /* the element holds text (<text/>) */
} Rule;

typedef struct {
    GHashTable *rules;   /* element name (owned) -> Rule* */
    GHashTable *defines; /* define name (owned) -> its xmlNode in the schema document */
} Summary;

static void rule_items_free(GArray *items)
{
    for (unsigned i = 0; i < items->len; i++)
        g_free(g_array_index(items, RuleItem, i).name);
    g_array_unref(items);
}

static void rule_free(gpointer p)
{
    Rule *r = p;
    rule_items_free(r->attrs);
    rule_items_free(r->children);
    g_free(r);
}

static bool rng_is(xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *) name);
}

/* Adds @name to @items, merging with an earlier mention: required only if required
 * everywhere, once only if once everywhere. */
static void rule_add(GArray *items, const char *name, bool required, bool once)
{
    for (unsigned i = 0; i < items->len; i++) {
        RuleItem *it = &g_array_index(items, RuleItem, i);
        if (strcmp(it->name, name) == 0) {
            it->required = it->required && required;
            it->once = it->once && once;
            return;
        }
    }
    RuleItem it = { .name = g_strdup(name), .required = required, .once = once };
    g_array_append_val(items, it);
}

/* The names a name class allows: <name>x</name>, or a <choice> of them. */
static void rng_name_class(xmlNode *nc, GPtrArray *out)
{
    if (rng_is(nc, "name")) {
        xmlChar *t = xmlNodeGetContent(nc);
        g_ptr_array_add(out, g_strstrip(g_strdup(t != NULL ? (const char *) t : "")));
        xmlFree(t);
    } else if (rng_is(nc, "choice")) {
        for (xmlNode *c = nc->children; c != NULL; c = c->next)
            rng_name_class(c, out);
    }
}

/* The names an <element> or <attribute> pattern allows: its name="x", or else its first
 * child, the name class. */
static void rng_names(xmlNode *pattern, GPtrArray *out)
{
    xmlChar *name = xmlGetNoNsProp(pattern, (const xmlChar *) "name");
    if (name != NULL) {
        g_ptr_array_add(out, g_strdup((const char *) name));
        xmlFree(name);
        return;
    }
    for (xmlNode *c = pattern->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            rng_name_class(c, out);
            return;
        }
    }
}

static void rng_walk(Summary *sum, xmlNode *pattern, Rule *rule, bool optional, bool many,
                     unsigned depth)
{
    if (depth > 64)
        return; /* a recursive define; dsim.rng has none */
    for (xmlNode *n = pattern; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (rng_is(n, "attribute") || rng_is(n, "element")) {
            g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
            rng_names(n, names);
            for (unsigned i = 0; i < names->len; i++)
                rule_add(rng_is(n, "attribute") ? rule->attrs : rule->children,
                         names->pdata[i], !optional, !many);
        } else if (rng_is(n, "optional") || rng_is(n, "choice")) {
            rng_walk(sum, n->children, rule, true, many, depth + 1);
        } else if (rng_is(n, "zeroOrMore")) {
            rng_walk(sum, n->children, rule, true, true, depth + 1);
        } else if (rng_is(n, "oneOrMore")) {
            rng_walk(sum, n->children, rule, optional, true, depth + 1);
        } else if (rng_is(n, "group") || rng_is(n, "interleave")) {
            rng_walk(sum, n->children, rule, optional, many, depth + 1);
        } else if (rng_is(n, "text") || rng_is(n, "data") || rng_is(n, "value")) {
            rule->text = true;
        } else if (rng_is(n, "ref")) {
            xmlChar *name = xmlGetNoNsProp(n, (const xmlChar *) "name");
            xmlNode *def = name != NULL ? g_hash_table_lookup(sum->defines, (const char *) name)
                                        : NULL;
            xmlFree(name);
            if (def != NULL)
                rng_walk(sum, def->children, rule, optional, many, depth + 1);
        }
    }
}

/* Every <element> of the schema, wherever it is defined, gets the union of its rules. */
static void rng_collect(Summary *sum, xmlNode *n)
{
    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (rng_is(n, "element")) {
            g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
            rng_names(n, names);
            for (unsigned i = 0; i < names->len; i++) {
                Rule *rule = g_hash_table_lookup(sum->rules, names->pdata[i]);
                if (rule == NULL) {
                    rule = g_new0(Rule, 1);
                    rule->attrs = g_array_new(FALSE, TRUE, sizeof(RuleItem));
                    rule->children = g_array_new(FALSE, TRUE, sizeof(RuleItem));
                    g_hash_table_insert(sum->rules, g_strdup(names->pdata[i]), rule);
                }
                rng_walk(sum, n->children, rule, false, false, 0);
            }
        }
        rng_collect(sum, n->children);
    }
}

static void rng_defines(Summary *sum, xmlNode *n)
{
    for (; n != NULL; n = n->next) {
        xmlChar *name = rng_is(n, "define") ? xmlGetNoNsProp(n, (const xmlChar *) "name") : NULL;
        if (name != NULL)
            g_hash_table_insert(sum->defines, g_strdup((const char *) name), n);
        xmlFree(name);
    }
}

static const RuleItem *rule_find(GArray *items, const char *name)
{
    for (unsigned i = 0; i < items->len; i++) {
        if (strcmp(g_array_index(items, RuleItem, i).name, name) == 0)
            return &g_array_index(items, RuleItem, i);
    }
    return NULL;
}

static char *rule_names(GArray *items)
{
    GString *s = g_string_new(NULL);
    for (unsigned i = 0; i < items->len; i++)
        g_string_append_printf(s, "%s%s", i > 0 ? ", " : "",
                               g_array_index(items, RuleItem, i).name);
    if (s->len == 0)
        g_string_append(s, "none");
    return g_string_free(s, FALSE);
}

/* <expect> comes in three forms (a <choice> of attribute groups), which the summary cannot
 * tell apart; they are told apart here. */
static gboolean diagnose_expect(Loader *ld, xmlNode *node, GError **error)
{
    static const char *const timed[] = { "at", "within", "group", "leader", "agree", NULL };
    static const char *const metric[] = { "after", "min", "max", NULL };

    if (xmlHasProp(node, (const xmlChar *) "metric") != NULL) {
        for (unsigned i = 0; timed[i] != NULL; i++) {
            if (xmlHasProp(node, (const xmlChar *) timed[i]) != NULL)
                return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_SCHEMA, error,
                               "with metric=\"...\", give after, min and max, not %s "
                               "(a point-in-time expectation is a separate <expect>)",
                               timed[i]);
        }
        return TRUE;
    }
    for (unsigned i = 0; metric[i] != NULL; i++) {
        if (xmlHasProp(node, (const xmlChar *) metric[i]) != NULL)
            return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_SCHEMA, error,
                           "%s belongs with metric=\"...\"", metric[i]);
    }
    bool leader = xmlHasProp(node, (const xmlChar *) "leader") != NULL;
    bool agree = xmlHasProp(node, (const xmlChar *) "agree") != NULL;
    if (leader == agree)
        return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_SCHEMA, error,
                       "give metric=\"...\" (with min or max), or at=\"...\" and group=\"...\" "
                       "with one of leader=\"one|none\" and agree=\"all\"");
    if (xmlHasProp(node, (const xmlChar *) "at") == NULL)
        return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_SCHEMA, error,
                       "the at attribute is required");
    if (xmlHasProp(node, (const xmlChar *) "group") == NULL)
        return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_SCHEMA, error,
                       "the group attribute is required");
    return TRUE;
}

/* Checks @node and its subtree in document order; FALSE with @error at the first finding. */
static gboolean diagnose_node(Loader *ld, Summary *sum, xmlNode *node, GError **error)
{
    const Rule *rule = g_hash_table_lookup(sum->rules, node->name);
    if (rule == NULL)
        return TRUE; /* reported by the parent */

    if (node->ns != NULL)
        return fail(ld, node, DSIM_SCENARIO_ERROR_SCHEMA, error,
                    "<%s> is in the XML namespace %s, but scenario elements have none (remove "
                    "the xmlns)",
                    (const char *) node->name,
                    node->ns->href != NULL ? (const char *) node->ns->href : "");
    for (xmlAttr *a = node->properties; a != NULL; a = a->next) {
        if (a->ns == NULL && rule_find(rule->attrs, (const char *) a->name) != NULL)
            continue;
        xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);
        g_autofree char *name = a->ns != NULL && a->ns->prefix != NULL
                                    ? g_strdup_printf("%s:%s", a->ns->prefix, a->name)
                                    : g_strdup((const char *) a->name);
        g_autofree char *known = rule_names(rule->attrs);
        fail_at(ld, node, name, v != NULL ? (const char *) v : "", DSIM_SCENARIO_ERROR_SCHEMA,
                error, "<%s> has no attribute %s (its attributes: %s)",
                (const char *) node->name, name, known);
        xmlFree(v);
        return FALSE;
    }
    for (unsigned i = 0; i < rule->attrs->len; i++) {
        const RuleItem *it = &g_array_index(rule->attrs, RuleItem, i);
        if (it->required && xmlHasProp(node, (const xmlChar *) it->name) == NULL)
            return fail_at(ld, node, NULL, NULL, DSIM_SCENARIO_ERROR_SCHEMA, error,
                           "the %s attribute is required", it->name);
    }
    if (xmlStrEqual(node->name, (const xmlChar *) "expect") && !diagnose_expect(ld, node, error))
        return FALSE;
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && !rule->text) {
            g_autofree char *t = g_strstrip(g_strdup((const char *) c->content));
            g_autofree char *q = dsim_quote(t);
            if (t[0] != '\0')
                return fail(ld, node, DSIM_SCENARIO_ERROR_SCHEMA, error,
                            "<%s> holds the text %s, but takes none (values go in "
                            "attributes)", (const char *) node->name, q);
        }
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const RuleItem *it = rule_find(rule->children, (const char *) c->name);
        if (it == NULL) {
            g_autofree char *known = rule_names(rule->children);
            return fail(ld, c, DSIM_SCENARIO_ERROR_SCHEMA, error,
                        "<%s> is not allowed in <%s> (allowed there: %s)",
                        (const char *) c->name, (const char *) node->name, known);
        }
        if (it->once) {
            for (xmlNode *e = node->children; e != c; e = e->next) {
                if (e->type == XML_ELEMENT_NODE && xmlStrEqual(e->name, c->name))
                    return fail(ld, c, DSIM_SCENARIO_ERROR_SCHEMA, error,
                                "<%s> appears twice in <%s> (first at line %d); merge them",
                                (const char *) c->name, (const char *) node->name,
                                line_of(e));
            }
        }
        if (!diagnose_node(ld, sum, c, error))
            return FALSE;
    }
    for (unsigned i = 0; i < rule->children->len; i++) {
        const RuleItem *it = &g_array_index(rule->children, RuleItem, i);
        bool found = false;
        for (xmlNode *c = node->children; c != NULL && !found; c = c->next)
            found = c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name,
                                                              (const xmlChar *) it->name);
        if (it->required && !found)
            return fail(ld, node, DSIM_SCENARIO_ERROR_SCHEMA, error,
                        "<%s> needs at least one <%s>", (const char *) node->name, it->name);
    }
    return TRUE;
}

/* Sets @error from the walk above and returns FALSE, or returns TRUE when it finds nothing. */
static gboolean diagnose(Loader *ld, xmlDoc *doc, GError **error)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root == NULL || !xmlStrEqual(root->name, (const xmlChar *) "scenario"))
        return fail(ld, root, DSIM_SCENARIO_ERROR_SCHEMA, error,
                    "the outermost element is <%s>; a scenario file holds one <scenario>",
                    root != NULL ? (const char *) root->name : "");

    g_autoptr(xmlDoc) rng = xmlReadMemory(dsim_schema_rng, (int) strlen(dsim_schema_rng),
                                          "dsim.rng", NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    if (rng == NULL)
        return TRUE;
    Summary sum = {
        .rules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, rule_free),
        .defines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
    };
    rng_defines(&sum, xmlDocGetRootElement(rng)->children);
    rng_collect(&sum, xmlDocGetRootElement(rng)->children);
    gboolean ok = diagnose_node(ld, &sum, root, error);
    g_hash_table_unref(sum.rules);
    g_hash_table_unref(sum.defines);
    return ok;
}

/* Errors while compiling our own schema are a build bug; they are gathered for g_error. */
static void on_schema_bug(void *data, xmlError *err)
{
    g_string_append_printf(data, "line %d: %s", err->line,
                           err->message != NULL ? err->message : "?");
}

static void on_invalid(void *data, xmlError *err)
{
    Loader *ld = data;
    int line = err->line;
    if (err->node != NULL && ((xmlNode *) err->node)->type == XML_ELEMENT_NODE)
        line = line_of(err->node);
    if (err->level >= XML_ERR_ERROR)
        keep_first_error(ld, DSIM_SCENARIO_ERROR_SCHEMA, line, "", err->message);
}

static gboolean validate(Loader *ld, xmlDoc *doc, GError **error)
{
    g_autoptr(GString) bug = g_string_new(NULL);
    g_autoptr(xmlRelaxNGParserCtxt) pctxt =
        xmlRelaxNGNewMemParserCtxt(dsim_schema_rng, (int) strlen(dsim_schema_rng));
    xmlRelaxNGSetParserStructuredErrors(pctxt, on_schema_bug, bug);
    g_autoptr(xmlRelaxNG) schema = xmlRelaxNGParse(pctxt);
    if (schema == NULL)
        g_error("the schema compiled into dsim (scenarios/dsim.rng) is broken: %s", bug->str);

    g_autoptr(xmlRelaxNGValidCtxt) vctxt = xmlRelaxNGNewValidCtxt(schema);
    xmlRelaxNGSetValidStructuredErrors(vctxt, on_invalid, ld);
    int rc = xmlRelaxNGValidateDoc(vctxt, doc);
    if (rc == 0)
        return TRUE;
    if (!diagnose(ld, doc, error))
        return FALSE;
    if (ld->xml_message == NULL)
        keep_first_error(ld, DSIM_SCENARIO_ERROR_SCHEMA, 1, "",
                         "the file does not follow scenarios/dsim.rng");
    g_set_error(error, DSIM_SCENARIO_ERROR, ld->xml_code, "%s:%d: %s (see scenarios/dsim.rng)",
                ld->file, ld->xml_line, ld->xml_message);
    return FALSE;
}

/* ---- public API ---------------------------------------------------------------------------- */

static DsimScenario *scenario_new(const char *file)
{
    DsimScenario *sc = g_new0(DsimScenario, 1);
    sc->file = g_strdup(file);
    sc->net.latency = dsim_dist_new_const(DSIM_MS(1));
    sc->net.header_bytes = 40;
    sc->net.links = g_array_new(FALSE, TRUE, sizeof(DsimLinkSpec));
    sc->groups = g_array_new(FALSE, TRUE, sizeof(DsimGroupSpec));
    sc->workloads = g_array_new(FALSE, TRUE, sizeof(DsimWorkloadSpec));
    sc->faults = g_array_new(FALSE, TRUE, sizeof(DsimFaultSpec));
    sc->checks = g_array_new(FALSE, TRUE, sizeof(DsimCheckSpec));
    sc->unsynced = DSIM_UNSYNCED_LOSE;
    sc->report.plots = g_ptr_array_new();
    sc->sweep.vary = g_array_new(FALSE, TRUE, sizeof(DsimVarySpec));
    return sc;
}

/* libxml2 keeps process-wide tables (the RELAX NG type library) that it fills on first use,
 * without a lock in 2.9; filling them once here makes concurrent loads safe. */
static void init_libxml(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        xmlInitParser();
        xmlRelaxNGInitTypes();
        g_once_init_leave(&done, 1);
    }
}

DsimScenario *dsim_scenario_load_buffer(const char *data, size_t len, const char *file,
                                        GError **error)
{
    g_return_val_if_fail(data != NULL || len == 0, NULL);
    g_return_val_if_fail(file != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (len > DSIM_SCENARIO_MAX_BYTES) {
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_IO,
                    "%s:1: file is %zu bytes; the limit is %u", file, len,
                    DSIM_SCENARIO_MAX_BYTES);
        return NULL;
    }
    size_t blank = 0;
    while (blank < len && g_ascii_isspace(data[blank]))
        blank++;
    if (blank == len) {
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_PARSE,
                    "%s:1: the file is empty (a scenario is a <scenario name=\"...\" "
                    "seed=\"...\" duration=\"...\"> element)",
                    file);
        return NULL;
    }

    init_libxml();
    Loader ld = { .file = file };
    g_autoptr(xmlDoc) doc = parse_xml(&ld, data, len, error);
    if (doc == NULL || !validate(&ld, doc, error)) {
        g_free(ld.xml_message);
        return NULL;
    }

    g_autoptr(DsimScenario) sc = scenario_new(file);
    ld.sc = sc;
    ld.groups = g_hash_table_new(g_str_hash, g_str_equal);
    ld.captures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gboolean ok = parse_scenario(&ld, xmlDocGetRootElement(doc), error);
    g_hash_table_unref(ld.groups);
    g_hash_table_unref(ld.captures);
    return ok ? g_steal_pointer(&sc) : NULL;
}

DsimScenario *dsim_scenario_load_file(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_IO, "%s: cannot read: %s",
                    path, g_strerror(e));
        return NULL;
    }
    struct stat st;
    int stat_rc = fstat(fd, &st);
    if (stat_rc != 0 || S_ISDIR(st.st_mode)) {
        int e = stat_rc != 0 ? errno : EISDIR;
        close(fd);
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_IO, "%s: cannot read: %s",
                    path, g_strerror(e));
        return NULL;
    }
    /* The size is checked before anything is read: a 100 MB file costs a stat, not 100 MB. */
    if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > DSIM_SCENARIO_MAX_BYTES) {
        close(fd);
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_IO,
                    "%s:1: file is %" PRIu64 " bytes; the limit is %u", path,
                    (uint64_t) st.st_size, DSIM_SCENARIO_MAX_BYTES);
        return NULL;
    }
    /* Read at most one byte over the limit, in case the file grew or is not a regular file
     * (a pipe, /dev/zero): the buffer starts at the size stat gave and grows up to the cap. */
    size_t cap = DSIM_SCENARIO_MAX_BYTES + 1, len = 0;
    size_t size = S_ISREG(st.st_mode) ? (size_t) st.st_size + 1 : cap;
    g_autofree char *buf = g_malloc(size);
    for (;;) {
        ssize_t n = read(fd, buf + len, size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_IO,
                        "%s: cannot read: %s", path, g_strerror(e));
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t) n;
        if (len == size) {
            if (size == cap)
                break;
            size = MIN(size * 2, cap);
            buf = g_realloc(buf, size);
        }
    }
    close(fd);
    if (len > DSIM_SCENARIO_MAX_BYTES) {
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_IO,
                    "%s:1: file is more than %u bytes; the limit is %u", path,
                    DSIM_SCENARIO_MAX_BYTES, DSIM_SCENARIO_MAX_BYTES);
        return NULL;
    }
    return dsim_scenario_load_buffer(buf, len, path, error);
}

static void free_strings(GPtrArray *a)
{
    if (a == NULL)
        return;
    gsize n = 0;
    gpointer *v = g_ptr_array_steal(a, &n);
    for (gsize i = 0; i < n; i++)
        g_free(v[i]);
    g_free(v);
    g_ptr_array_unref(a);
}

/* Frees elements by hand after stealing the arrays' contents, so a scenario built in C works
 * whether or not its arrays were given free/clear functions. */
void dsim_scenario_free(DsimScenario *sc)
{
    if (sc == NULL)
        return;
    g_free(sc->file);
    g_free(sc->name);
    g_free(sc->description);

    dsim_dist_free(sc->net.latency);
    if (sc->net.links != NULL) {
        for (unsigned i = 0; i < sc->net.links->len; i++)
            dsim_dist_free(g_array_index(sc->net.links, DsimLinkSpec, i).latency);
        g_array_unref(sc->net.links);
    }

    if (sc->groups != NULL) {
        gsize n = 0;
        DsimGroupSpec *groups = g_array_steal(sc->groups, &n);
        for (gsize i = 0; i < n; i++) {
            g_free(groups[i].id);
            g_free(groups[i].config);
            free_strings(groups[i].param_names);
            free_strings(groups[i].param_values);
            if (groups[i].param_lines != NULL)
                g_array_unref(groups[i].param_lines);
        }
        g_free(groups);
        g_array_unref(sc->groups);
    }
    if (sc->node_names != NULL) {
        if (sc->node_name_block == NULL) {
            for (unsigned i = 0; i < sc->n_nodes; i++)
                g_free(sc->node_names[i]);
        }
        g_free(sc->node_names);
        g_free(sc->node_name_block);
    }

    if (sc->workloads != NULL) {
        gsize n = 0;
        DsimWorkloadSpec *w = g_array_steal(sc->workloads, &n);
        for (gsize i = 0; i < n; i++)
            workload_clear(&w[i]);
        g_free(w);
        g_array_unref(sc->workloads);
    }
    if (sc->faults != NULL) {
        gsize n = 0;
        DsimFaultSpec *f = g_array_steal(sc->faults, &n);
        for (gsize i = 0; i < n; i++)
            fault_clear(&f[i]);
        g_free(f);
        g_array_unref(sc->faults);
    }
    if (sc->checks != NULL) {
        gsize n = 0;
        DsimCheckSpec *c = g_array_steal(sc->checks, &n);
        for (gsize i = 0; i < n; i++)
            g_free(c[i].name);
        g_free(c);
        g_array_unref(sc->checks);
    }
    free_strings(sc->report.plots);
    if (sc->sweep.vary != NULL) {
        gsize n = 0;
        DsimVarySpec *v = g_array_steal(sc->sweep.vary, &n);
        for (gsize i = 0; i < n; i++)
            vary_clear(&v[i]);
        g_free(v);
        g_array_unref(sc->sweep.vary);
    }
    g_free(sc);
}

int dsim_scenario_group_index(const DsimScenario *sc, const char *id)
{
    for (unsigned i = 0; i < sc->groups->len; i++) {
        if (strcmp(g_array_index(sc->groups, DsimGroupSpec, i).id, id) == 0)
            return (int) i;
    }
    return -1;
}

DsimNodeId dsim_scenario_node_id(const DsimScenario *sc, const char *name)
{
    return lookup_node(sc, NULL, name);
}

unsigned dsim_scenario_group_of(const DsimScenario *sc, DsimNodeId node)
{
    /* groups hold consecutive id ranges in file order: binary search on first */
    unsigned lo = 0, hi = sc->groups->len;
    g_assert(node < sc->n_nodes);
    while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        if (g_array_index(sc->groups, DsimGroupSpec, mid).first <= node)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

gboolean dsim_scenario_set_param(DsimScenario *sc, unsigned group, const char *name,
                                 const char *value, GError **error)
{
    g_return_val_if_fail(group < sc->groups->len, FALSE);
    DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, group);
    const DsimParam *p = dsim_param_find(g->protocol->params, name);
    g_autofree char *why = NULL;

    if (p == NULL) {
        g_autofree char *q = dsim_quote(name);
        g_autofree char *known = param_list(g->protocol);
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_UNKNOWN_PARAM,
                    "protocol %s has no parameter %s (its parameters: %s)", g->protocol->name, q,
                    known);
        return FALSE;
    }
    size_t size = g->protocol->config_size > 0 ? g->protocol->config_size : 1;
    g_autofree void *copy = g_memdup2(g->config, size);
    if (!dsim_param_parse(p, value, copy, &why)) {
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_BAD_VALUE, "%s.%s: %s",
                    g->id, name, why);
        return FALSE;
    }
    g_autoptr(GString) bad = g_string_new(NULL);
    const char *fault = validate_config(sc, group, copy, bad);
    if (fault != NULL) {
        g_set_error(error, DSIM_SCENARIO_ERROR, DSIM_SCENARIO_ERROR_BAD_VALUE, "%s.%s: %s",
                    g->id, fault, bad->str);
        return FALSE;
    }
    memcpy(g->config, copy, size);
    char *text = g_strstrip(g_strdup(value));
    for (unsigned i = 0; i < g->param_names->len; i++) {
        if (strcmp(g_ptr_array_index(g->param_names, i), name) == 0) {
            g_free(g_ptr_array_index(g->param_values, i));
            g_ptr_array_index(g->param_values, i) = text;
            return TRUE;
        }
    }
    g_ptr_array_add(g->param_names, g_strdup(name));
    g_ptr_array_add(g->param_values, text);
    int line = 0;
    g_array_append_val(g->param_lines, line);
    return TRUE;
}
