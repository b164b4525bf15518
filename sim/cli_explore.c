/* cli_explore.c - the commands that run a scenario many times: explore, shrink, sweep, merge.
 *
 * Like cli.c, this file reads the wall clock only for the progress bar, and every input
 * problem is one line on stderr with exit status 2 before anything is written. Output folders
 * are written under a temporary name and renamed; an existing one needs --force.
 */
#include <config.h>

#include "sim/cli.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "reports/report.h"
#include "sim/explore.h"
#include "sim/jsonw.h"
#include "sim/param.h"
#include "sim/scenario.h"
#include "sim/time.h"

#define EXIT_PASS 0
#define EXIT_CHECK_FAILED 1
#define EXIT_BAD_INPUT 2

/* ---- shared helpers ------------------------------------------------------------- */

bool dsim_cli_parse_seeds(const char *text, uint64_t *lo, uint64_t *hi)
{
    g_auto(GStrv) parts = g_strsplit(text, "..", 2);
    guint64 a, b;
    if (!g_ascii_string_to_unsigned(g_strstrip(parts[0]), 10, 0, G_MAXUINT64, &a, NULL))
        return false;
    b = a;
    if (parts[1] != NULL
        && !g_ascii_string_to_unsigned(g_strstrip(parts[1]), 10, 0, G_MAXUINT64, &b, NULL))
        return false;
    if (b < a)
        return false;
    *lo = a;
    *hi = b;
    return true;
}

/* Applies "GROUP.PARAM=VALUE" settings (--param) to a loaded scenario. */
gboolean dsim_cli_apply_params(DsimScenario *sc, gchar **params, GError **error)
{
    for (unsigned i = 0; params != NULL && params[i] != NULL; i++) {
        const char *spec = params[i];
        const char *eq = strchr(spec, '=');
        const char *dot = strchr(spec, '.');
        if (eq == NULL || dot == NULL || dot > eq) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--param %s: write GROUP.PARAM=VALUE", spec);
            return FALSE;
        }
        g_autofree char *gid = g_strndup(spec, (gsize) (dot - spec));
        g_autofree char *name = g_strndup(dot + 1, (gsize) (eq - dot - 1));
        int gi = dsim_scenario_group_index(sc, gid);
        if (gi < 0) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--param %s: no group %s", spec, gid);
            return FALSE;
        }
        g_autoptr(GError) e = NULL;
        if (!dsim_scenario_set_param(sc, (unsigned) gi, name, eq + 1, &e)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--param %s: %s", spec, e->message);
            return FALSE;
        }
    }
    return TRUE;
}

/* The scenario of @file with the --param settings applied, and the checked --nemesis kinds
 * in *kinds (NULL when none; free with g_strfreev). NULL, message printed, on bad input. */
static DsimScenario *load_variant(const char *cmd, const char *file, const char *nemesis,
                                  gchar **params, gchar ***kinds)
{
    g_autoptr(GError) error = NULL;
    *kinds = dsim_cli_parse_nemesis(nemesis, &error);
    if (error != NULL) {
        fprintf(stderr, "dsim %s: %s\n", cmd, error->message);
        return NULL;
    }
    g_autoptr(DsimScenario) sc = dsim_scenario_load_file(file, &error);
    if (sc == NULL) {
        fprintf(stderr, "%s\n", error->message);
    } else if (!dsim_cli_apply_params(sc, params, &error)) {
        fprintf(stderr, "dsim %s: %s\n", cmd, error->message);
        g_clear_pointer(&sc, dsim_scenario_free);
    }
    if (sc == NULL)
        g_clear_pointer(kinds, g_strfreev);
    return g_steal_pointer(&sc);
}

/* "crash-restart,random-halves" -> a NULL-terminated vector, checked. */
gchar **dsim_cli_parse_nemesis(const char *text, GError **error)
{
    if (text == NULL)
        return NULL;
    g_auto(GStrv) kinds = g_strsplit(text, ",", -1);
    g_auto(GStrv) known = g_strsplit(dsim_nemesis_kinds, "|", -1);
    for (unsigned i = 0; kinds[i] != NULL; i++) {
        g_strstrip(kinds[i]);
        if (!g_strv_contains((const gchar *const *) known, kinds[i])) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--nemesis %s: unknown kind (known: %s)", kinds[i], dsim_nemesis_kinds);
            return NULL;
        }
    }
    return g_steal_pointer(&kinds);
}

static gboolean remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;
        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
    }
    return g_remove(path) == 0;
}

/* Creates a temporary folder beside @dir; NULL (message printed) when @dir exists without
 * @force or cannot be made. */
static char *begin_output(const char *cmd, const char *dir, gboolean force)
{
    if (g_file_test(dir, G_FILE_TEST_EXISTS) && !force) {
        fprintf(stderr, "dsim %s: %s already exists: choose another --out, or add --force to replace it\n",
                cmd, dir);
        return NULL;
    }
    g_autofree char *parent = g_path_get_dirname(dir);
    g_autofree char *base = g_path_get_basename(dir);
    if (g_mkdir_with_parents(parent, 0755) != 0) {
        fprintf(stderr, "dsim %s: cannot create %s: %s\n", cmd, parent, g_strerror(errno));
        return NULL;
    }
    char *tmpl = g_strdup_printf("%s/.%s.tmp-XXXXXX", parent, base);
    if (g_mkdtemp(tmpl) == NULL) {
        fprintf(stderr, "dsim %s: cannot create a folder in %s: %s\n", cmd, parent, g_strerror(errno));
        g_free(tmpl);
        return NULL;
    }
    return tmpl;
}

static int finish_output(const char *cmd, const char *tmp, const char *dir)
{
    if (g_file_test(dir, G_FILE_TEST_EXISTS))
        remove_tree(dir);
    if (g_rename(tmp, dir) != 0) {
        fprintf(stderr, "dsim %s: cannot rename %s to %s: %s\n", cmd, tmp, dir, g_strerror(errno));
        remove_tree(tmp);
        return EXIT_BAD_INPUT;
    }
    return EXIT_PASS;
}

typedef struct {
    gint64 started;
    bool   tty, shown;
} Bar;

static void bar_cb(unsigned done, unsigned total, void *data)
{
    Bar *b = data;
    if (!b->tty)
        return;
    double wall = (double) (g_get_monotonic_time() - b->started) / 1e6;
    int width = 30, filled = total > 0 ? (int) ((double) done / total * width) : width;
    fprintf(stderr, "\r  [%.*s%*s] %u/%u seeds  %.1f seeds/s   ", filled,
            "##############################", width - filled, "", done, total,
            wall > 0 ? done / wall : 0.0);
    fflush(stderr);
    b->shown = true;
}

static void bar_end(Bar *b)
{
    if (b->shown)
        fprintf(stderr, "\r%*s\r", 79, "");
}

/* ---- explore results: table, explore.json, explore.tsv -------------------------------- */

typedef struct {
    char    *name;
    unsigned failures;
    GArray  *seeds; /* uint64_t, first few */
} CheckCount;

static GArray *count_checks(const GArray *runs)
{
    GArray *counts = g_array_new(FALSE, TRUE, sizeof(CheckCount));
    for (unsigned i = 0; i < runs->len; i++) {
        const DsimRunSummary *r = &g_array_index(runs, DsimRunSummary, i);
        if (r->passed || r->failed == NULL)
            continue;
        g_auto(GStrv) names = g_strsplit(r->failed, ",", -1);
        for (unsigned k = 0; names[k] != NULL; k++) {
            CheckCount *c = NULL;
            for (unsigned j = 0; j < counts->len && c == NULL; j++) {
                if (strcmp(g_array_index(counts, CheckCount, j).name, names[k]) == 0)
                    c = &g_array_index(counts, CheckCount, j);
            }
            if (c == NULL) {
                CheckCount fresh = { g_strdup(names[k]), 0, g_array_new(FALSE, FALSE, sizeof(uint64_t)) };
                g_array_append_val(counts, fresh);
                c = &g_array_index(counts, CheckCount, counts->len - 1);
            }
            c->failures++;
            if (c->seeds->len < 10)
                g_array_append_val(c->seeds, r->seed);
        }
    }
    return counts;
}

static void free_counts(GArray *counts)
{
    for (unsigned i = 0; i < counts->len; i++) {
        g_free(g_array_index(counts, CheckCount, i).name);
        g_array_unref(g_array_index(counts, CheckCount, i).seeds);
    }
    g_array_unref(counts);
}

static void print_explore_table(const char *file, const GArray *runs, const char *nemesis,
                                gchar **params, FILE *out)
{
    unsigned passed = 0;
    for (unsigned i = 0; i < runs->len; i++)
        passed += g_array_index(runs, DsimRunSummary, i).passed;
    fprintf(out, "seeds run %u, passed %u, failed %u\n", runs->len, passed, runs->len - passed);
    GArray *counts = count_checks(runs);
    if (counts->len > 0) {
        fprintf(out, "\n  %-40s %8s  %s\n", "check", "failures", "first failing seeds");
        for (unsigned i = 0; i < counts->len; i++) {
            const CheckCount *c = &g_array_index(counts, CheckCount, i);
            g_autoptr(GString) seeds = g_string_new(NULL);
            for (unsigned k = 0; k < c->seeds->len; k++)
                g_string_append_printf(seeds, "%s%" PRIu64, k > 0 ? " " : "", g_array_index(c->seeds, uint64_t, k));
            fprintf(out, "  %-40s %8u  %s\n", c->name, c->failures, seeds->str);
        }
        uint64_t first = 0;
        for (unsigned i = 0; i < runs->len; i++) {
            if (!g_array_index(runs, DsimRunSummary, i).passed) {
                first = g_array_index(runs, DsimRunSummary, i).seed;
                break;
            }
        }
        g_autoptr(GString) extra = g_string_new(NULL);
        if (nemesis != NULL)
            g_string_append_printf(extra, " --nemesis %s", nemesis);
        for (unsigned k = 0; params != NULL && params[k] != NULL; k++)
            g_string_append_printf(extra, " --param %s", params[k]);
        const char *nem = extra->str;
        fprintf(out, "\nreplay: dsim replay %s --seed %" PRIu64 "%s\nshrink: dsim shrink %s --seed %" PRIu64 "%s\n",
                file, first, nem, file, first, nem);
    }
    free_counts(counts);
}

static GString *explore_json(const DsimScenario *sc, const char *file, const GArray *runs,
                             const char *nemesis, uint64_t lo, uint64_t hi, const char *shard)
{
    GString *out = g_string_new(NULL);
    DsimJson j;
    dsim_json_init(&j, out, true);
    dsim_json_begin_object(&j, NULL);
    dsim_json_string(&j, "scenario", sc->name);
    dsim_json_string(&j, "file", file);
    dsim_json_uint(&j, "seed_from", lo);
    dsim_json_uint(&j, "seed_to", hi);
    dsim_json_string(&j, "shard", shard);
    dsim_json_string(&j, "nemesis", nemesis);
    unsigned passed = 0;
    for (unsigned i = 0; i < runs->len; i++)
        passed += g_array_index(runs, DsimRunSummary, i).passed;
    dsim_json_uint(&j, "runs", runs->len);
    dsim_json_uint(&j, "passed", passed);
    dsim_json_uint(&j, "failed", runs->len - passed);
    GArray *counts = count_checks(runs);
    dsim_json_begin_array(&j, "checks");
    for (unsigned i = 0; i < counts->len; i++) {
        const CheckCount *c = &g_array_index(counts, CheckCount, i);
        dsim_json_begin_object(&j, NULL);
        dsim_json_string(&j, "name", c->name);
        dsim_json_uint(&j, "failures", c->failures);
        dsim_json_begin_array(&j, "first_seeds");
        for (unsigned k = 0; k < c->seeds->len; k++)
            dsim_json_uint(&j, NULL, g_array_index(c->seeds, uint64_t, k));
        dsim_json_end_array(&j);
        dsim_json_end_object(&j);
    }
    dsim_json_end_array(&j);
    free_counts(counts);
    dsim_json_begin_array(&j, "results");
    for (unsigned i = 0; i < runs->len; i++) {
        const DsimRunSummary *r = &g_array_index(runs, DsimRunSummary, i);
        g_autofree char *hash = g_strdup_printf("%016" PRIx64, r->hash);
        DsimJson line;
        GString *buf = g_string_new(NULL);
        dsim_json_init(&line, buf, false);
        dsim_json_begin_object(&line, NULL);
        dsim_json_uint(&line, "seed", r->seed);
        dsim_json_string(&line, "verdict", r->passed ? "PASS" : "FAIL");
        dsim_json_string(&line, "trace_hash", hash);
        dsim_json_uint(&line, "events", r->events);
        dsim_json_string(&line, "failed", r->failed);
        dsim_json_end_object(&line);
        /* one result per line keeps a 10,000-seed file readable */
        dsim_json_raw(&j, NULL, buf->str);
        g_string_free(buf, TRUE);
    }
    dsim_json_end_array(&j);
    dsim_json_end_object(&j);
    g_string_append_c(out, '\n');
    return out;
}

static GString *explore_tsv(const DsimScenario *sc, const char *file, const GArray *runs, const char *nemesis)
{
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "# dsim explore\tscenario=%s\tfile=%s\tnemesis=%s\n", sc->name, file,
                           nemesis != NULL ? nemesis : "");
    g_string_append(out, "# seed\tverdict\ttrace_hash\tevents\tfailed\n");
    for (unsigned i = 0; i < runs->len; i++) {
        const DsimRunSummary *r = &g_array_index(runs, DsimRunSummary, i);
        g_string_append_printf(out, "%" PRIu64 "\t%s\t%016" PRIx64 "\t%" PRIu64 "\t%s\n", r->seed,
                               r->passed ? "PASS" : "FAIL", r->hash, r->events, r->failed);
    }
    return out;
}

static bool write_explore(const char *tmp, const DsimScenario *sc, const char *file, const GArray *runs,
                          const char *nemesis, uint64_t lo, uint64_t hi, const char *shard)
{
    g_autoptr(GString) js = explore_json(sc, file, runs, nemesis, lo, hi, shard);
    g_autoptr(GString) tsv = explore_tsv(sc, file, runs, nemesis);
    g_autofree char *p1 = g_build_filename(tmp, "explore.json", NULL);
    g_autofree char *p2 = g_build_filename(tmp, "explore.tsv", NULL);
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents(p1, js->str, (gssize) js->len, &error)
        || !g_file_set_contents(p2, tsv->str, (gssize) tsv->len, &error)) {
        fprintf(stderr, "dsim: %s\n", error->message);
        return false;
    }
    return true;
}

/* ---- explore ------------------------------------------------------------------------ */

int dsim_cli_explore(int argc, char **argv)
{
    g_autofree char *seeds = NULL, *nemesis = NULL, *shard = NULL, *out = NULL;
    gint jobs = 0;
    gboolean force = FALSE, quiet = FALSE;
    g_auto(GStrv) params = NULL;
    GOptionEntry entries[] = {
        { "seeds", 0, 0, G_OPTION_ARG_STRING, &seeds, "Seeds to run, e.g. 1..10000 (default 1..100)", "A..B" },
        { "param", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &params, "Set a protocol parameter for every run (repeatable)", "GROUP.PARAM=VALUE" },
        { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Worker threads (default: the number of cores)", "N" },
        { "nemesis", 'n', 0, G_OPTION_ARG_STRING, &nemesis, "Add a random fault schedule of these kinds to every run", "KIND,..." },
        { "shard", 0, 0, G_OPTION_ARG_STRING, &shard, "Run only every N-th seed, starting with the I-th (1-based)", "I/N" },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Folder for explore.json and explore.tsv", "DIR" },
        { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace the folder if it exists", NULL },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing but errors", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) oc = g_option_context_new("FILE - run one scenario under many seeds");
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &error) || argc != 2) {
        fprintf(stderr, "dsim explore: %s (see 'dsim help explore')\n",
                error != NULL ? error->message : "give exactly one scenario file");
        return EXIT_BAD_INPUT;
    }
    uint64_t lo = 1, hi = 100;
    if (seeds != NULL && !dsim_cli_parse_seeds(seeds, &lo, &hi)) {
        fprintf(stderr, "dsim explore: --seeds %s: write A..B with A <= B\n", seeds);
        return EXIT_BAD_INPUT;
    }
    unsigned shard_i = 0, shard_n = 1;
    if (shard != NULL) {
        unsigned a = 0, b = 0;
        char tail;
        if (sscanf(shard, "%u/%u%c", &a, &b, &tail) != 2 || b == 0 || a == 0 || a > b) {
            fprintf(stderr, "dsim explore: --shard %s: write I/N with 1 <= I <= N\n", shard);
            return EXIT_BAD_INPUT;
        }
        shard_i = a - 1;
        shard_n = b;
    }
    if (jobs < 0) {
        fprintf(stderr, "dsim explore: --jobs must be positive\n");
        return EXIT_BAD_INPUT;
    }
    gchar **kinds_raw = NULL;
    g_autoptr(DsimScenario) sc = load_variant("explore", argv[1], nemesis, params, &kinds_raw);
    g_auto(GStrv) kinds = kinds_raw;
    if (sc == NULL)
        return EXIT_BAD_INPUT;
    g_autofree char *shard_text = shard != NULL ? g_strdup_printf("-shard-%u-of-%u", shard_i + 1, shard_n) : g_strdup("");
    g_autofree char *dir = out != NULL ? g_strdup(out)
                                       : g_strdup_printf("out/%s/explore-%" PRIu64 "-%" PRIu64 "%s", sc->name, lo, hi, shard_text);
    g_autofree char *tmp = begin_output("explore", dir, force);
    if (tmp == NULL)
        return EXIT_BAD_INPUT;

    Bar bar = { .started = g_get_monotonic_time(), .tty = !quiet && isatty(STDERR_FILENO) };
    unsigned n_jobs = jobs > 0 ? (unsigned) jobs : g_get_num_processors();
    GArray *runs = dsim_explore_seeds(sc, lo, hi, shard_i, shard_n, (const char *const *) kinds, NULL,
                                      n_jobs, bar_cb, &bar);
    double wall = (double) (g_get_monotonic_time() - bar.started) / 1e6;
    bar_end(&bar);
    g_autofree char *shard_label = shard != NULL ? g_strdup(shard) : NULL;
    if (!write_explore(tmp, sc, argv[1], runs, nemesis, lo, hi, shard_label)) {
        remove_tree(tmp);
        dsim_run_summaries_free(runs);
        return EXIT_BAD_INPUT;
    }
    int st = finish_output("explore", tmp, dir);
    if (st != EXIT_PASS) {
        dsim_run_summaries_free(runs);
        return st;
    }
    bool all = true;
    for (unsigned i = 0; i < runs->len; i++)
        all = all && g_array_index(runs, DsimRunSummary, i).passed;
    if (!quiet) {
        print_explore_table(argv[1], runs, nemesis, params, stdout);
        printf("results: %s/explore.json  (%.2f s wall, %.1f seeds/s on %u jobs)\n", dir, wall,
               wall > 0 ? runs->len / wall : 0.0, n_jobs);
    }
    dsim_run_summaries_free(runs);
    return all ? EXIT_PASS : EXIT_CHECK_FAILED;
}

/* ---- shrink ------------------------------------------------------------------------- */

int dsim_cli_shrink(int argc, char **argv)
{
    g_autofree char *seed_text = NULL, *nemesis = NULL, *out = NULL;
    gboolean force = FALSE;
    g_auto(GStrv) params = NULL;
    GOptionEntry entries[] = {
        { "seed", 's', 0, G_OPTION_ARG_STRING, &seed_text, "The failing seed", "N" },
        { "param", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &params, "A protocol parameter the failing run had (repeatable); written into the reproducer", "GROUP.PARAM=VALUE" },
        { "nemesis", 'n', 0, G_OPTION_ARG_STRING, &nemesis, "The random fault kinds the failing run had (as given to explore)", "KIND,..." },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write the reproducer here (default out/SCENARIO/seed-N-repro.xml)", "FILE" },
        { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace the reproducer if it exists", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) oc = g_option_context_new("FILE - shrink a failing run to a small reproducer");
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &error) || argc != 2 || seed_text == NULL) {
        fprintf(stderr, "dsim shrink: %s (see 'dsim help shrink')\n",
                error != NULL ? error->message : "give one scenario file and --seed");
        return EXIT_BAD_INPUT;
    }
    uint64_t seed, unused;
    if (!dsim_cli_parse_seeds(seed_text, &seed, &unused) || seed != unused) {
        fprintf(stderr, "dsim shrink: --seed %s: not an unsigned 64-bit integer\n", seed_text);
        return EXIT_BAD_INPUT;
    }
    gchar **kinds_raw = NULL;
    g_autoptr(DsimScenario) sc = load_variant("shrink", argv[1], nemesis, params, &kinds_raw);
    g_auto(GStrv) kinds = kinds_raw;
    if (sc == NULL)
        return EXIT_BAD_INPUT;
    g_autofree char *dst = out != NULL ? g_strdup(out)
                                       : g_strdup_printf("out/%s/seed-%" PRIu64 "-repro.xml", sc->name, seed);
    if (g_file_test(dst, G_FILE_TEST_EXISTS) && !force) {
        fprintf(stderr, "dsim shrink: %s already exists: choose another --out, or add --force\n", dst);
        return EXIT_BAD_INPUT;
    }
    g_autoptr(DsimFaultPlan) plan = dsim_fault_plan_new(sc, seed, (const char *const *) kinds, &error);
    DsimShrinkResult res;
    if (!dsim_explore_shrink(sc, seed, plan, &res)) {
        printf("seed %" PRIu64 " passes every check: nothing to shrink\n", seed);
        return EXIT_PASS;
    }
    g_autofree char *parent = g_path_get_dirname(dst);
    g_mkdir_with_parents(parent, 0755);
    if (!dsim_explore_write_reproducer(sc, argv[1], dst, seed, plan, res.keep, res.duration_after, params,
                                       &error)) {
        fprintf(stderr, "dsim shrink: %s\n", error->message);
        dsim_shrink_result_clear(&res);
        return EXIT_BAD_INPUT;
    }
    g_autoptr(GString) d0 = g_string_new(NULL), d1 = g_string_new(NULL);
    dsim_time_format_short(res.duration_before, d0);
    dsim_time_format_short(res.duration_after, d1);
    printf("check that fails: %s\n", res.check);
    printf("  faults     %6u -> %u\n", res.faults_before, res.faults_after);
    printf("  events     %6" PRIu64 " -> %" PRIu64 "\n", res.events_before, res.events_after);
    printf("  duration   %6s -> %s\n", d0->str, d1->str);
    printf("  client ops %6" PRIu64 " -> %" PRIu64 "\n", res.ops_before, res.ops_after);
    printf("  (%u runs)\n", res.runs);

    /* the reproducer must fail on its own, loaded like any scenario */
    g_autoptr(GError) e2 = NULL;
    g_autoptr(DsimScenario) repro = dsim_scenario_load_file(dst, &e2);
    bool fails = false;
    if (repro != NULL) {
        DsimRunSummary r;
        dsim_explore_run_one(repro, repro->seed, NULL, 0, NULL, &r);
        g_auto(GStrv) names = g_strsplit(r.failed, ",", -1);
        fails = !r.passed && g_strv_contains((const gchar *const *) names, res.check);
        dsim_run_summary_clear(&r);
    }
    printf("reproducer: %s (%s)\n", dst,
           repro == NULL ? e2->message : fails ? "fails the same check when run" : "does NOT fail: please report this");
    dsim_shrink_result_clear(&res);
    return fails ? EXIT_CHECK_FAILED : EXIT_BAD_INPUT;
}

/* ---- sweep -------------------------------------------------------------------------- */

typedef struct {
    unsigned  group;
    const DsimParam *param;
    char     *name;    /* "r.election_timeout" */
    GPtrArray *values; /* char* */
} Axis;

static void axis_clear(gpointer p)
{
    Axis *a = p;
    g_free(a->name);
    g_ptr_array_unref(a->values);
}

static bool add_axis(const DsimScenario *sc, GArray *axes, const char *spec, GError **error)
{
    /* "group.param=v1,v2" (command line); values may contain '..' but not ',' */
    const char *eq = strchr(spec, '=');
    const char *dot = strchr(spec, '.');
    if (eq == NULL || dot == NULL || dot > eq) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--vary %s: write GROUP.PARAM=V1,V2,...", spec);
        return false;
    }
    g_autofree char *gid = g_strndup(spec, (gsize) (dot - spec));
    g_autofree char *pname = g_strndup(dot + 1, (gsize) (eq - dot - 1));
    int gi = dsim_scenario_group_index(sc, gid);
    if (gi < 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--vary %s: no group %s", spec, gid);
        return false;
    }
    const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, gi);
    const DsimParam *p = dsim_param_find(g->protocol->params, pname);
    if (p == NULL) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--vary %s: %s has no parameter %s",
                    spec, g->protocol->name, pname);
        return false;
    }
    Axis a = { .group = (unsigned) gi, .param = p, .name = g_strdup_printf("%s.%s", gid, pname),
               .values = g_ptr_array_new_with_free_func(g_free) };
    g_auto(GStrv) vals = g_strsplit(eq + 1, ",", -1);
    g_autofree void *scratch = g_malloc0(g->protocol->config_size + 1);
    for (unsigned i = 0; vals[i] != NULL; i++) {
        char *v = g_strstrip(vals[i]);
        g_autofree char *why = NULL;
        if (!dsim_param_parse(p, v, scratch, &why)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--vary %s: %s", a.name, why);
            axis_clear(&a);
            return false;
        }
        g_ptr_array_add(a.values, g_strdup(v));
    }
    g_array_append_val(axes, a);
    return true;
}

static gint cmp_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static void gstring_free(gpointer p) { g_string_free(p, TRUE); }

/* Appends variant @v's sorted values of figure @name as one gnuplot data block. */
static void add_cdf_block(GPtrArray *names, GPtrArray *dats, const char *name, unsigned v,
                          const char *label, const double *d, unsigned n)
{
    GString *dat = NULL;
    for (unsigned i = 0; i < names->len && dat == NULL; i++) {
        if (strcmp(g_ptr_array_index(names, i), name) == 0)
            dat = g_ptr_array_index(dats, i);
    }
    if (dat == NULL) {
        g_ptr_array_add(names, g_strdup(name));
        dat = g_string_new(NULL);
        g_string_append_printf(dat, "# %s: one block per variant (value, fraction at or below)\n", name);
        g_ptr_array_add(dats, dat);
    }
    /* blocks are indexed by variant, so a variant without this figure leaves an empty one */
    unsigned have = 0;
    for (const char *p = dat->str; (p = strstr(p, "\n# variant ")) != NULL; p++)
        have++;
    for (; have < v; have++)
        g_string_append_printf(dat, "\n# variant %u (no samples)\nnan nan\n\n", have + 1);
    g_string_append_printf(dat, "\n# variant %u: %s\n", v + 1, label);
    for (unsigned i = 0; i < n; i++)
        g_string_append_printf(dat, "%.9g\t%.6f\n", d[i], (double) (i + 1) / n);
    g_string_append(dat, "\n");
}

/* plots/NAME-cdf.{dat,gp}: the CDFs of every variant on one chart (the Raft paper's Figure
 * 16 shape for election_time_seconds), rendered by gnuplot when it is installed. */
static void write_sweep_plots(const char *dir, const char *scenario, GPtrArray *names, GPtrArray *dats,
                              GPtrArray *labels, bool png, GString *notes)
{
    g_autofree char *plots = g_build_filename(dir, "plots", NULL);
    if (names->len == 0 || g_mkdir_with_parents(plots, 0755) != 0)
        return;
    g_autoptr(GPtrArray) scripts = g_ptr_array_new_with_free_func(g_free);
    for (unsigned i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        GString *dat = g_ptr_array_index(dats, i);
        g_autofree char *base = g_strdup_printf("%s-cdf", name);
        g_autofree char *datp = g_strdup_printf("%s/%s.dat", plots, base);
        g_autofree char *gpp = g_strdup_printf("%s/%s.gp", plots, base);
        g_autoptr(GString) gp = g_string_new(NULL);
        g_string_append_printf(gp,
            "# %s.gp - CDF of %s per variant, dsim sweep of %s; the data is %s.dat\n"
            "# Render it from this folder: gnuplot %s.gp (SVG), gnuplot -e \"fmt='png'\" %s.gp (PNG).\n"
            "reset\nif (!exists(\"fmt\")) fmt = \"svg\"\n"
            "if (fmt eq \"png\") {\n    set terminal pngcairo size 900,480 noenhanced font \"sans,10\" background rgb \"white\"\n"
            "    set output \"%s.png\"\n} else {\n"
            "    set terminal svg size 900,480 noenhanced font \"sans,11\" background rgb \"white\"\n"
            "    set output \"%s.svg\"\n}\n"
            "set title \"CDF of %s per variant (same seeds)\"\nset grid\nset border 3\nset tics nomirror\n"
            "set xlabel \"%s\"\nset ylabel \"fraction of runs at or below\"\nset yrange [0:1.02]\n"
            "set key bottom right\nplot ",
            base, name, scenario, base, base, base, base, base, name,
            g_str_has_suffix(name, "_seconds") ? "seconds" : name);
        for (unsigned v = 0; v < labels->len; v++) {
            g_autofree char *esc = g_strescape(g_ptr_array_index(labels, v), NULL);
            g_string_append_printf(gp, "%s\"%s.dat\" index %u using 1:2 with steps lw 2 title \"%s\"", v > 0 ? ", \\\n     " : "",
                                   base, v, esc);
        }
        g_string_append(gp, "\nunset output\n");
        if (!g_file_set_contents(datp, dat->str, (gssize) dat->len, NULL)
            || !g_file_set_contents(gpp, gp->str, (gssize) gp->len, NULL))
            return;
        g_ptr_array_add(scripts, g_steal_pointer(&base));
    }
    dsim_report_render_scripts(plots, scripts, png, notes);
}

/* Nearest-rank percentile of sorted @v. */
static double percentile(const double *v, unsigned n, double p)
{
    if (n == 0)
        return NAN;
    unsigned rank = (unsigned) ceil(p * n);
    return v[rank > 0 ? rank - 1 : 0];
}

int dsim_cli_sweep(int argc, char **argv)
{
    g_autofree char *seeds = NULL, *out = NULL;
    gchar **vary = NULL;
    gint jobs = 0;
    gboolean force = FALSE, quiet = FALSE, png = FALSE;
    GOptionEntry entries[] = {
        { "vary", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &vary, "A parameter and its values (repeatable)", "GROUP.PARAM=V1,V2" },
        { "seeds", 0, 0, G_OPTION_ARG_STRING, &seeds, "Seeds for every variant (default: the file's <sweep seeds>, else 1..20)", "A..B" },
        { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Worker threads (default: the number of cores)", "N" },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Folder for runs.csv and variants.csv", "DIR" },
        { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace the folder if it exists", NULL },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing but errors", NULL },
        { "png", 0, 0, G_OPTION_ARG_NONE, &png, "Also render the plots as PNG", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) oc = g_option_context_new("FILE - run every combination of parameter values over the same seeds");
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &error) || argc != 2) {
        fprintf(stderr, "dsim sweep: %s (see 'dsim help sweep')\n",
                error != NULL ? error->message : "give exactly one scenario file");
        g_strfreev(vary);
        return EXIT_BAD_INPUT;
    }
    g_autoptr(DsimScenario) sc = dsim_scenario_load_file(argv[1], &error);
    if (sc == NULL) {
        fprintf(stderr, "%s\n", error->message);
        g_strfreev(vary);
        return EXIT_BAD_INPUT;
    }
    g_autoptr(GArray) axes = g_array_new(FALSE, TRUE, sizeof(Axis));
    g_array_set_clear_func(axes, axis_clear);
    for (unsigned i = 0; vary != NULL && vary[i] != NULL; i++) {
        if (!add_axis(sc, axes, vary[i], &error)) {
            fprintf(stderr, "dsim sweep: %s\n", error->message);
            g_strfreev(vary);
            return EXIT_BAD_INPUT;
        }
    }
    g_strfreev(vary);
    if (axes->len == 0 && sc->has_sweep) {
        for (unsigned i = 0; i < sc->sweep.vary->len; i++) {
            const DsimVarySpec *vs = &g_array_index(sc->sweep.vary, DsimVarySpec, i);
            g_autoptr(GString) spec = g_string_new(vs->param);
            g_string_append_c(spec, '=');
            for (unsigned k = 0; k < vs->values->len; k++)
                g_string_append_printf(spec, "%s%s", k > 0 ? "," : "", (char *) g_ptr_array_index(vs->values, k));
            if (!add_axis(sc, axes, spec->str, &error)) {
                fprintf(stderr, "%s:%d: %s\n", sc->file, vs->line, error->message);
                return EXIT_BAD_INPUT;
            }
        }
    }
    if (axes->len == 0) {
        fprintf(stderr, "dsim sweep: nothing to vary: give --vary GROUP.PARAM=V1,V2 or a <sweep> in the file\n");
        return EXIT_BAD_INPUT;
    }
    uint64_t lo = 1, hi = 20;
    if (seeds != NULL) {
        if (!dsim_cli_parse_seeds(seeds, &lo, &hi)) {
            fprintf(stderr, "dsim sweep: --seeds %s: write A..B with A <= B\n", seeds);
            return EXIT_BAD_INPUT;
        }
    } else if (sc->has_sweep && sc->sweep.seed_hi > 0) {
        lo = sc->sweep.seed_lo;
        hi = sc->sweep.seed_hi;
    }
    g_autofree char *dir = out != NULL ? g_strdup(out) : g_strdup_printf("out/%s/sweep", sc->name);
    g_autofree char *tmp = begin_output("sweep", dir, force);
    if (tmp == NULL)
        return EXIT_BAD_INPUT;

    /* variants: the cartesian product, the last axis fastest */
    unsigned n_variants = 1;
    for (unsigned a = 0; a < axes->len; a++)
        n_variants *= g_array_index(axes, Axis, a).values->len;
    unsigned n_seeds = (unsigned) (hi - lo + 1);
    unsigned n_jobs = jobs > 0 ? (unsigned) jobs : g_get_num_processors();
    g_autoptr(GString) runs_csv = g_string_new("variant");
    for (unsigned a = 0; a < axes->len; a++)
        g_string_append_printf(runs_csv, ",%s", g_array_index(axes, Axis, a).name);
    g_string_append(runs_csv, ",seed,verdict,failed,figure,value\n");
    g_autoptr(GString) table = g_string_new(NULL);
    g_autoptr(GString) var_csv = g_string_new("variant");
    for (unsigned a = 0; a < axes->len; a++)
        g_string_append_printf(var_csv, ",%s", g_array_index(axes, Axis, a).name);
    g_string_append(var_csv, ",runs,failed,figure,n,median,p90,p99,max\n");
    Bar bar = { .started = g_get_monotonic_time(), .tty = !quiet && isatty(STDERR_FILENO) };
    unsigned total_failed = 0;
    /* per figure, the CDF of each variant side by side: one data block per variant
     * (gnuplot's "index"), in variant order; figure names in first-seen order */
    g_autoptr(GPtrArray) fig_names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) fig_dats = g_ptr_array_new_with_free_func(gstring_free);
    g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);

    for (unsigned v = 0; v < n_variants; v++) {
        /* this variant's configs: a copy of each varied group's config with the values set */
        unsigned ng = sc->groups->len;
        g_autofree void **configs = g_new0(void *, ng);
        g_autoptr(GString) label = g_string_new(NULL);
        g_autoptr(GString) values_csv = g_string_new(NULL);
        unsigned rest = v;
        g_autofree unsigned *pick = g_new0(unsigned, axes->len);
        for (int a = (int) axes->len - 1; a >= 0; a--) {
            const Axis *ax = &g_array_index(axes, Axis, a);
            pick[a] = rest % ax->values->len;
            rest /= ax->values->len;
        }
        for (unsigned a = 0; a < axes->len; a++) {
            const Axis *ax = &g_array_index(axes, Axis, a);
            const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, ax->group);
            if (configs[ax->group] == NULL)
                configs[ax->group] = g_memdup2(g->config, g->protocol->config_size > 0 ? g->protocol->config_size : 1);
            const char *val = g_ptr_array_index(ax->values, pick[a]);
            g_autofree char *why = NULL;
            g_assert(dsim_param_parse(ax->param, val, configs[ax->group], &why));
            g_string_append_printf(label, "%s%s=%s", a > 0 ? " " : "", ax->name, val);
            g_string_append_printf(values_csv, ",%s", val);
        }
        /* the runs of this variant, seeds in order; results do not depend on --jobs; every
         * variant runs the same seeds, so the network and fault draws are the same
         * (common random numbers) and differences come from the parameters */
        GArray *runs = dsim_explore_seeds(sc, lo, hi, 0, 1, NULL, (const void *const *) configs,
                                          n_jobs, NULL, NULL);
        bar_cb((v + 1) * n_seeds, n_variants * n_seeds, &bar);
        /* per-run figures and the variant's summary */
        unsigned failed = 0;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        for (unsigned i = 0; i < n_seeds; i++) {
            const DsimRunSummary *r = &g_array_index(runs, DsimRunSummary, i);
            failed += !r->passed;
            for (unsigned f = 0; f < r->figures->len; f++) {
                const DsimFigure *fig = &g_array_index(r->figures, DsimFigure, f);
                g_string_append_printf(runs_csv, "%u%s,%" PRIu64 ",%s,\"%s\",%s,%.9g\n", v + 1, values_csv->str,
                                       r->seed, r->passed ? "PASS" : "FAIL", r->failed, fig->name, fig->value);
                bool seen = false;
                for (unsigned k = 0; k < names->len && !seen; k++)
                    seen = strcmp(g_ptr_array_index(names, k), fig->name) == 0;
                if (!seen)
                    g_ptr_array_add(names, g_strdup(fig->name));
            }
            if (r->figures->len == 0)
                g_string_append_printf(runs_csv, "%u%s,%" PRIu64 ",%s,\"%s\",,\n", v + 1, values_csv->str,
                                       r->seed, r->passed ? "PASS" : "FAIL", r->failed);
        }
        g_ptr_array_sort(names, cmp_name);
        total_failed += failed;
        g_string_append_printf(table, "\nvariant %u: %s  (%u runs, %u failed)\n", v + 1, label->str, n_seeds, failed);
        g_string_append_printf(table, "  %-28s %6s %12s %12s %12s %12s\n", "figure", "n", "median", "p90", "p99", "max");
        for (unsigned k = 0; k < names->len; k++) {
            const char *name = g_ptr_array_index(names, k);
            g_autoptr(GArray) vals = g_array_new(FALSE, FALSE, sizeof(double));
            for (unsigned i = 0; i < n_seeds; i++) {
                const DsimRunSummary *r = &g_array_index(runs, DsimRunSummary, i);
                for (unsigned f = 0; f < r->figures->len; f++) {
                    const DsimFigure *fig = &g_array_index(r->figures, DsimFigure, f);
                    if (strcmp(fig->name, name) == 0)
                        g_array_append_val(vals, fig->value);
                }
            }
            qsort(vals->data, vals->len, sizeof(double), cmp_double);
            const double *d = (const double *) (void *) vals->data;
            add_cdf_block(fig_names, fig_dats, name, v, label->str, d, vals->len);
            double med = percentile(d, vals->len, 0.5), p90 = percentile(d, vals->len, 0.9);
            double p99 = percentile(d, vals->len, 0.99), mx = vals->len > 0 ? d[vals->len - 1] : NAN;
            g_string_append_printf(table, "  %-28s %6u %12.6g %12.6g %12.6g %12.6g\n", name, vals->len, med, p90, p99, mx);
            g_string_append_printf(var_csv, "%u%s,%u,%u,%s,%u,%.9g,%.9g,%.9g,%.9g\n", v + 1, values_csv->str,
                                   n_seeds, failed, name, vals->len, med, p90, p99, mx);
        }
        dsim_run_summaries_free(runs);
        for (unsigned g = 0; g < ng; g++)
            g_free(configs[g]);
        g_ptr_array_add(labels, g_strdup(label->str));
    }
    bar_end(&bar);
    g_autoptr(GString) notes = g_string_new(NULL);
    write_sweep_plots(tmp, sc->name, fig_names, fig_dats, labels, png, notes);
    g_autofree char *p1 = g_build_filename(tmp, "runs.csv", NULL);
    g_autofree char *p2 = g_build_filename(tmp, "variants.csv", NULL);
    if (!g_file_set_contents(p1, runs_csv->str, (gssize) runs_csv->len, &error)
        || !g_file_set_contents(p2, var_csv->str, (gssize) var_csv->len, &error)) {
        fprintf(stderr, "dsim sweep: %s\n", error->message);
        remove_tree(tmp);
        return EXIT_BAD_INPUT;
    }
    int st = finish_output("sweep", tmp, dir);
    if (st != EXIT_PASS)
        return st;
    if (!quiet) {
        printf("sweep of %s: %u variants x seeds %" PRIu64 "..%" PRIu64 "%s", sc->name, n_variants, lo, hi, table->str);
        printf("\nresults: %s/runs.csv, %s/variants.csv, %s/plots/ (a CDF per figure, the variants side by side)\n",
               dir, dir, dir);
        if (notes->len > 0)
            printf("%s", notes->str);
    }
    return total_failed == 0 ? EXIT_PASS : EXIT_CHECK_FAILED;
}

/* ---- merge ------------------------------------------------------------------------- */

static gint cmp_run_seed(gconstpointer a, gconstpointer b)
{
    uint64_t x = ((const DsimRunSummary *) a)->seed, y = ((const DsimRunSummary *) b)->seed;
    return x < y ? -1 : x > y;
}

int dsim_cli_merge(int argc, char **argv)
{
    g_autofree char *out = NULL;
    gboolean force = FALSE, quiet = FALSE;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Folder for the merged explore.json and explore.tsv", "DIR" },
        { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace the folder if it exists", NULL },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing but errors", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) oc = g_option_context_new("DIR... - merge the outputs of explore shards");
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &error) || argc < 2 || out == NULL) {
        fprintf(stderr, "dsim merge: %s (see 'dsim help merge')\n",
                error != NULL ? error->message : "give shard folders and --out DIR");
        return EXIT_BAD_INPUT;
    }
    GArray *runs = g_array_new(FALSE, TRUE, sizeof(DsimRunSummary));
    g_autofree char *scenario = NULL, *file = NULL, *nemesis = NULL;
    for (int i = 1; i < argc; i++) {
        g_autofree char *path = g_build_filename(argv[i], "explore.tsv", NULL);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, &error)) {
            fprintf(stderr, "dsim merge: %s\n", error->message);
            dsim_run_summaries_free(runs);
            return EXIT_BAD_INPUT;
        }
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (unsigned l = 0; lines[l] != NULL; l++) {
            char *line = lines[l];
            if (*line == '\0')
                continue;
            if (g_str_has_prefix(line, "# dsim explore\t")) {
                g_auto(GStrv) f = g_strsplit(line, "\t", -1);
                for (unsigned k = 1; f[k] != NULL; k++) {
                    char **dst = g_str_has_prefix(f[k], "scenario=") ? &scenario
                               : g_str_has_prefix(f[k], "file=") ? &file
                               : g_str_has_prefix(f[k], "nemesis=") ? &nemesis : NULL;
                    const char *val = strchr(f[k], '=') + 1;
                    if (dst != NULL && *dst == NULL)
                        *dst = g_strdup(val);
                    else if (dst != NULL && strcmp(*dst, val) != 0) {
                        fprintf(stderr, "%s:%u: this shard ran %s, the others %s: not the same exploration\n",
                                path, l + 1, f[k], *dst);
                        dsim_run_summaries_free(runs);
                        return EXIT_BAD_INPUT;
                    }
                }
                continue;
            }
            if (*line == '#')
                continue;
            g_auto(GStrv) f = g_strsplit(line, "\t", -1);
            DsimRunSummary r = { 0 };
            guint64 v;
            if (g_strv_length(f) != 5 || !g_ascii_string_to_unsigned(f[0], 10, 0, G_MAXUINT64, &v, NULL)) {
                fprintf(stderr, "%s:%u: not an explore.tsv line\n", path, l + 1);
                dsim_run_summaries_free(runs);
                return EXIT_BAD_INPUT;
            }
            r.seed = v;
            r.passed = strcmp(f[1], "PASS") == 0;
            r.hash = g_ascii_strtoull(f[2], NULL, 16);
            r.events = g_ascii_strtoull(f[3], NULL, 10);
            r.failed = g_strdup(f[4]);
            r.figures = g_array_new(FALSE, TRUE, sizeof(DsimFigure));
            g_array_append_val(runs, r);
        }
    }
    g_array_sort(runs, cmp_run_seed);
    for (unsigned i = 1; i < runs->len; i++) {
        if (g_array_index(runs, DsimRunSummary, i).seed == g_array_index(runs, DsimRunSummary, i - 1).seed) {
            fprintf(stderr, "dsim merge: seed %" PRIu64 " appears in two shards\n",
                    g_array_index(runs, DsimRunSummary, i).seed);
            dsim_run_summaries_free(runs);
            return EXIT_BAD_INPUT;
        }
    }
    g_autofree char *tmp = begin_output("merge", out, force);
    if (tmp == NULL) {
        dsim_run_summaries_free(runs);
        return EXIT_BAD_INPUT;
    }
    DsimScenario fake = { .name = scenario != NULL ? scenario : (char *) "?" };
    const char *nem = nemesis != NULL && *nemesis != '\0' ? nemesis : NULL;
    uint64_t lo = runs->len > 0 ? g_array_index(runs, DsimRunSummary, 0).seed : 0;
    uint64_t hi = runs->len > 0 ? g_array_index(runs, DsimRunSummary, runs->len - 1).seed : 0;
    if (!write_explore(tmp, &fake, file != NULL ? file : "?", runs, nem, lo, hi, NULL)
        || finish_output("merge", tmp, out) != EXIT_PASS) {
        remove_tree(tmp);
        dsim_run_summaries_free(runs);
        return EXIT_BAD_INPUT;
    }
    bool all = true;
    for (unsigned i = 0; i < runs->len; i++)
        all = all && g_array_index(runs, DsimRunSummary, i).passed;
    if (!quiet) {
        print_explore_table(file != NULL ? file : "?", runs, nem, NULL, stdout);
        printf("merged %d shards: %s/explore.json\n", argc - 1, out);
    }
    dsim_run_summaries_free(runs);
    return all ? EXIT_PASS : EXIT_CHECK_FAILED;
}
