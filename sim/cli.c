/* cli.c - the dsim command line: run, validate, list, help, --version.
 *
 * Each command parses its own options with a GOptionContext. Input problems (a bad scenario,
 * a bad option, an existing output folder) print one line on stderr and exit 2 before anything
 * is written. This is the only code that reads the wall clock, for the progress line and the
 * events/s figure, and it stays outside the run: nothing it reads reaches the world.
 *
 * Output folders are written under a temporary name and renamed into place when complete, so
 * an interrupted run never leaves a folder that looks finished, and an existing folder is
 * replaced only with --force.
 */
#include <config.h>

#include "sim/cli.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "algorithms/protocols.h"
#include "reports/report.h"
#include "sim/lincheck.h"
#include "sim/param.h"
#include "sim/explore.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/time.h"

#define EXIT_PASS 0
#define EXIT_CHECK_FAILED 1
#define EXIT_BAD_INPUT 2

typedef struct {
    const char *name;
    const char *args;
    const char *summary;
    int (*main)(int argc, char **argv);
} Command;

static int cmd_run(int argc, char **argv);
static int cmd_replay(int argc, char **argv);
static int cmd_report(int argc, char **argv);
static int cmd_validate(int argc, char **argv);
static int cmd_list(int argc, char **argv);
static int cmd_check_history(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const Command commands[] = {
    { "run", "FILE", "run a scenario, check it and write its report folder", cmd_run },
    { "report", "DIR", "redraw the plots and index.html of a report folder", cmd_report },
    { "replay", "FILE --seed N", "the exact run of one seed (of run or explore), with its event log", cmd_replay },
    { "explore", "FILE", "run many seeds, with random faults if asked; table of failures", dsim_cli_explore },
    { "shrink", "FILE --seed N", "shrink a failing run to a small reproducer scenario", dsim_cli_shrink },
    { "sweep", "FILE", "every combination of parameter values over the same seeds", dsim_cli_sweep },
    { "merge", "DIR...", "combine the folders of explore shards", dsim_cli_merge },
    { "validate", "FILE...", "check scenario files without running them", cmd_validate },
    { "list", "[PROTOCOL]", "list protocols with their parameters and invariants", cmd_list },
    { "check-history", "FILE --model M", "check a client history for linearizability (exit 3: unknown)",
      cmd_check_history },
    { "help", "[COMMAND]", "show help for a command", cmd_help },
    { NULL, NULL, NULL, NULL },
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: dsim COMMAND [OPTIONS] [ARGS]\n\n"
                 "A deterministic discrete-event simulator for distributed algorithms.\n\n"
                 "Commands:\n");
    for (const Command *c = commands; c->name != NULL; c++)
        fprintf(out, "  %-14s %-15s %s\n", c->name, c->args, c->summary);
    fprintf(out, "\nRun 'dsim help COMMAND' for a command's options. 'dsim --version' prints the version.\n"
                 "Exit status: 0 all checks passed, 1 a check failed, 2 bad input or usage\n"
                 "(check-history: 3 when its time limit stopped the search).\n");
}

/* ---- run ------------------------------------------------------------------ */

static char   *opt_seed_text = NULL;
static char   *opt_out = NULL;
static gboolean opt_events = FALSE;
static gboolean opt_quiet = FALSE;
static gboolean opt_force = FALSE;
static gboolean opt_log = FALSE;
static gint64  opt_max_events = 0;
static char   *opt_nemesis = NULL;
static gchar **opt_params = NULL;
static gboolean replay_mode = FALSE;
static gboolean opt_png = FALSE;
static char   *opt_spacetime = NULL;

static GOptionEntry run_entries[] = {
    { "seed", 's', 0, G_OPTION_ARG_STRING, &opt_seed_text, "Run with this seed instead of the scenario's", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out, "Write the report folder here (default out/SCENARIO/seed-N)", "DIR" },
    { "events", 'e', 0, G_OPTION_ARG_NONE, &opt_events, "Also write events.jsonl, one line per event", NULL },
    { "log", 0, 0, G_OPTION_ARG_NONE, &opt_log, "Keep protocol log lines in events.jsonl (implies --events)", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "Print nothing but errors; the exit status tells the verdict", NULL },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &opt_force, "Replace the report folder if it exists", NULL },
    { "max-events", 0, 0, G_OPTION_ARG_INT64, &opt_max_events, "Stop after N events", "N" },
    { "nemesis", 'n', 0, G_OPTION_ARG_STRING, &opt_nemesis, "Add the random fault schedule explore --nemesis gives this seed", "KIND,..." },
    { "param", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &opt_params, "Set a protocol parameter (repeatable), as explore --param does", "GROUP.PARAM=VALUE" },
    { "png", 0, 0, G_OPTION_ARG_NONE, &opt_png, "Also render the plots as PNG", NULL },
    { "spacetime", 0, 0, G_OPTION_ARG_STRING, &opt_spacetime, "The space-time diagram's window (default: the scenario's <report spacetime>, else the first 2s)", "FROM..TO" },
    G_OPTION_ENTRY_NULL,
};

typedef struct {
    gint64 started;  /* monotonic us */
    bool   shown;
    bool   tty;
} Progress;

static void progress_cb(const DsimWorld *w, void *data)
{
    Progress *p = data;
    if (!p->tty)
        return;
    gint64 now = g_get_monotonic_time();
    double wall = (double) (now - p->started) / 1e6;
    if (wall < 1.0)
        return;
    double vt = (double) dsim_world_now(w) / 1e9;
    double total = (double) dsim_world_duration(w) / 1e9;
    fprintf(stderr, "\r  virtual %.3fs / %.3fs  %" PRIu64 " events  %.2fM events/s   ", vt, total,
            dsim_world_events(w), (double) dsim_world_events(w) / wall / 1e6);
    fflush(stderr);
    p->shown = true;
}

static gboolean remove_tree(const char *path, GError **error)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, error);
        if (dir == NULL)
            return FALSE;
        const char *name;
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (!remove_tree(child, error))
                return FALSE;
        }
    }
    if (g_remove(path) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot remove %s: %s", path,
                    g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

static bool parse_u64(const char *text, uint64_t *out)
{
    guint64 v;
    if (text == NULL || !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &v, NULL))
        return false;
    *out = v;
    return true;
}

/* "FROM..TO" with TO above FROM */
static bool parse_window(const char *text, DsimTimeRange *out)
{
    DsimTimeRange w;
    if (strstr(text, "..") == NULL || !dsim_time_range_parse(text, &w) || w.hi <= w.lo)
        return false;
    *out = w;
    return true;
}

static int run_failed(const char *tmp, GError *error)
{
    fprintf(stderr, "dsim: %s\n", error->message);
    if (tmp != NULL)
        remove_tree(tmp, NULL);
    return EXIT_BAD_INPUT;
}

static int cmd_run(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = g_option_context_new("FILE - run a scenario");
    g_option_context_add_main_entries(oc, run_entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &error)) {
        fprintf(stderr, "dsim run: %s (see 'dsim help run')\n", error->message);
        return EXIT_BAD_INPUT;
    }
    const char *cmd = replay_mode ? "replay" : "run";
    if (argc != 2) {
        fprintf(stderr, "dsim %s: give exactly one scenario file (see 'dsim help %s')\n", cmd, cmd);
        return EXIT_BAD_INPUT;
    }
    if (replay_mode && opt_seed_text == NULL) {
        fprintf(stderr, "dsim replay: give the seed to replay with --seed N\n");
        return EXIT_BAD_INPUT;
    }
    g_auto(GStrv) kinds = dsim_cli_parse_nemesis(opt_nemesis, &error);
    if (error != NULL) {
        fprintf(stderr, "dsim %s: %s\n", cmd, error->message);
        return EXIT_BAD_INPUT;
    }
    uint64_t seed = 0;
    if (opt_seed_text != NULL && !parse_u64(opt_seed_text, &seed)) {
        fprintf(stderr, "dsim run: --seed %s: not an unsigned 64-bit integer\n", opt_seed_text);
        return EXIT_BAD_INPUT;
    }
    if (opt_max_events < 0) {
        fprintf(stderr, "dsim run: --max-events must be >= 0\n");
        return EXIT_BAD_INPUT;
    }
    DsimTimeRange window = { 0, 0 };
    if (opt_spacetime != NULL && !parse_window(opt_spacetime, &window)) {
        fprintf(stderr, "dsim run: --spacetime %s: not a time window (write FROM..TO, e.g. 0s..2s, with TO above FROM)\n",
                opt_spacetime);
        return EXIT_BAD_INPUT;
    }

    g_autoptr(DsimScenario) sc = dsim_scenario_load_file(argv[1], &error);
    if (sc == NULL) {
        fprintf(stderr, "%s\n", error->message);
        return EXIT_BAD_INPUT;
    }
    if (!dsim_cli_apply_params(sc, opt_params, &error)) {
        fprintf(stderr, "dsim %s: %s\n", cmd, error->message);
        return EXIT_BAD_INPUT;
    }
    if (opt_seed_text == NULL)
        seed = sc->seed;
    g_autoptr(DsimFaultPlan) plan = kinds != NULL ? dsim_fault_plan_new(sc, seed, (const char *const *) kinds, NULL)
                                                  : NULL;

    /* The output folder: refuse to overwrite before anything runs. */
    g_autofree char *dir = opt_out != NULL
                               ? g_strdup(opt_out)
                               : g_strdup_printf("out/%s/seed-%" PRIu64, sc->name, seed);
    if (g_file_test(dir, G_FILE_TEST_EXISTS) && !opt_force) {
        fprintf(stderr, "dsim run: %s already exists: choose another --out, or add --force to replace it\n", dir);
        return EXIT_BAD_INPUT;
    }
    g_autofree char *parent = g_path_get_dirname(dir);
    if (g_mkdir_with_parents(parent, 0755) != 0) {
        fprintf(stderr, "dsim run: cannot create %s: %s\n", parent, g_strerror(errno));
        return EXIT_BAD_INPUT;
    }
    g_autofree char *base = g_path_get_basename(dir);
    g_autofree char *tmpl = g_strdup_printf("%s/.%s.tmp-XXXXXX", parent, base);
    char *tmp = g_mkdtemp(tmpl);
    if (tmp == NULL) {
        fprintf(stderr, "dsim run: cannot create a folder in %s: %s\n", parent, g_strerror(errno));
        return EXIT_BAD_INPUT;
    }

    Progress prog = { .started = g_get_monotonic_time(), .tty = !opt_quiet && isatty(STDERR_FILENO) };
    g_autofree char *events_path = (opt_events || opt_log) ? g_build_filename(tmp, "events.jsonl", NULL) : NULL;
    g_autofree char *history_path = g_build_filename(tmp, "history.jsonl", NULL);
    DsimRunOptions ro = {
        .seed = seed,
        .seed_set = true,
        .events_path = events_path,
        .history_path = history_path,
        .faults = plan != NULL ? plan->faults : NULL,
        .max_events = (uint64_t) opt_max_events,
        .collect = true,
        .spacetime_set = opt_spacetime != NULL,
        .spacetime_from = window.lo,
        .spacetime_to = window.hi,
        .logging = opt_log,
        .progress = progress_cb,
        .progress_data = &prog,
    };
    g_autoptr(DsimRunResult) r = dsim_run(sc, &ro, &error);
    double wall = (double) (g_get_monotonic_time() - prog.started) / 1e6;
    if (prog.shown)
        fprintf(stderr, "\r%*s\r", 79, "");
    if (r == NULL)
        return run_failed(tmp, error);
    if (!dsim_report_write_summary(r, tmp, &error))
        return run_failed(tmp, error);
    /* the pictures: data files, then plots and index.html drawn from them (reports/) */
    g_autoptr(GString) notes = g_string_new(NULL);
    DsimRenderOptions rdo = { .png = opt_png, .shown_dir = dir };
    if (!dsim_report_write_data(r, tmp, &error) || !dsim_report_render(tmp, &rdo, notes, &error))
        return run_failed(tmp, error);

    if (g_file_test(dir, G_FILE_TEST_EXISTS)) {
        /* --force: move the old folder aside first, so a failure leaves one of the two whole */
        g_autofree char *old_tmpl = g_strdup_printf("%s/.%s.old-XXXXXX", parent, base);
        char *old = g_mkdtemp(old_tmpl);
        if (old == NULL || g_rename(dir, old) != 0 || !remove_tree(old, &error)) {
            if (error == NULL)
                g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot replace %s: %s", dir, g_strerror(errno));
            return run_failed(tmp, error);
        }
    }
    if (g_rename(tmp, dir) != 0) {
        g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot rename %s to %s: %s",
                    tmp, dir, g_strerror(errno));
        return run_failed(tmp, error);
    }

    if (!opt_quiet) {
        dsim_report_print_table(r, stdout);
        fputs(notes->str, stdout);
        printf("report: %s/  (%.2f s wall, %.2fM events/s)\n", dir, wall,
               wall > 0 ? (double) r->events / wall / 1e6 : 0.0);
    }
    return r->passed ? EXIT_PASS : EXIT_CHECK_FAILED;
}

/* ---- report --------------------------------------------------------------- */

static GOptionEntry report_entries[] = {
    { "png", 0, 0, G_OPTION_ARG_NONE, &opt_png, "Also render the plots as PNG", NULL },
    { "spacetime", 0, 0, G_OPTION_ARG_STRING, &opt_spacetime, "The space-time diagram's window, within the one the run kept", "FROM..TO" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "Print nothing but errors", NULL },
    G_OPTION_ENTRY_NULL,
};

static int cmd_report(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = g_option_context_new("DIR - redraw the plots and index.html of a report folder");
    g_option_context_add_main_entries(oc, report_entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &error)) {
        fprintf(stderr, "dsim report: %s (see 'dsim help report')\n", error->message);
        return EXIT_BAD_INPUT;
    }
    if (argc != 2) {
        fprintf(stderr, "dsim report: give exactly one report folder (see 'dsim help report')\n");
        return EXIT_BAD_INPUT;
    }
    DsimTimeRange window = { 0, 0 };
    if (opt_spacetime != NULL && !parse_window(opt_spacetime, &window)) {
        fprintf(stderr, "dsim report: --spacetime %s: not a time window (write FROM..TO, e.g. 0s..2s, with TO above FROM)\n",
                opt_spacetime);
        return EXIT_BAD_INPUT;
    }
    g_autoptr(GString) notes = g_string_new(NULL);
    DsimRenderOptions rdo = {
        .png = opt_png, .window_set = opt_spacetime != NULL, .from = window.lo, .to = window.hi,
    };
    if (!dsim_report_render(argv[1], &rdo, notes, &error)) {
        fprintf(stderr, "dsim report: %s\n", error->message);
        return EXIT_BAD_INPUT;
    }
    if (!opt_quiet)
        printf("%sreport: %s/index.html\n", notes->str, argv[1]);
    return EXIT_PASS;
}

/* replay: run with a required --seed and the event log on; with --nemesis, the same random
 * fault schedule explore gave that seed, so every failing seed of explore can be replayed. */
static int cmd_replay(int argc, char **argv)
{
    replay_mode = TRUE;
    opt_events = TRUE;
    return cmd_run(argc, argv);
}

/* ---- validate ------------------------------------------------------------- */

static int cmd_validate(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = g_option_context_new("FILE... - check scenario files without running them");
    gboolean quiet = FALSE;
    GOptionEntry entries[] = {
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only errors", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &error)) {
        fprintf(stderr, "dsim validate: %s\n", error->message);
        return EXIT_BAD_INPUT;
    }
    if (argc < 2) {
        fprintf(stderr, "dsim validate: give at least one scenario file\n");
        return EXIT_BAD_INPUT;
    }
    int status = EXIT_PASS;
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) e = NULL;
        g_autoptr(DsimScenario) sc = dsim_scenario_load_file(argv[i], &e);
        if (sc == NULL) {
            fprintf(stderr, "%s\n", e->message);
            status = EXIT_BAD_INPUT;
        } else if (!quiet) {
            printf("%s: ok (%s: %u nodes in %u groups, %u faults, %s)\n", argv[i], sc->name,
                   sc->n_nodes, sc->groups->len, sc->faults != NULL ? sc->faults->len : 0,
                   sc->has_checks ? "explicit checks" : "every invariant");
        }
    }
    return status;
}

/* ---- list ----------------------------------------------------------------- */

static void list_protocol(const DsimProtocol *p, bool details)
{
    printf("%s\n    %s\n", p->name, p->summary);
    if (!details)
        return;
    printf("  parameters:\n");
    for (const DsimParam *q = p->params; q != NULL && q->name != NULL; q++) {
        g_autofree char *type = q->type == DSIM_PARAM_CHOICE
                                    ? g_strdup_printf("choice(%s)", q->choices)
                                    : g_strdup(dsim_param_type_name(q->type));
        printf("    %-18s %-14s default %-12s %s\n", q->name, type, q->def, q->help);
    }
    if (p->params == NULL || p->params[0].name == NULL)
        printf("    (none)\n");
    printf("  invariants:\n");
    bool any = false;
    for (const DsimInvariant *inv = p->invariants; inv != NULL && inv->name != NULL; inv++) {
        printf("    %-24s %-7s %s\n", inv->name, inv->when == DSIM_CHECK_ALWAYS ? "always" : "at end",
               inv->help);
        any = true;
    }
    if (!any)
        printf("    (none)\n");
    printf("  client requests: %s\n", p->on_request != NULL ? "yes" : "no");
    printf("  takes calls: %s\n", p->on_call != NULL ? "yes" : "no");
    printf("  leader-based: %s\n", p->leader_based ? "yes (leadership figures are recorded)" : "no");
}

static int cmd_list(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = g_option_context_new("[PROTOCOL] - list protocols, parameters and invariants");
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &error)) {
        fprintf(stderr, "dsim list: %s\n", error->message);
        return EXIT_BAD_INPUT;
    }
    if (argc > 2) {
        fprintf(stderr, "dsim list: give at most one protocol name\n");
        return EXIT_BAD_INPUT;
    }
    if (argc == 2) {
        const DsimProtocol *p = dsim_protocol_find(argv[1]);
        if (p == NULL) {
            fprintf(stderr, "dsim list: no protocol named '%s' (run 'dsim list' for all)\n", argv[1]);
            return EXIT_BAD_INPUT;
        }
        list_protocol(p, true);
        return EXIT_PASS;
    }
    for (unsigned i = 0; dsim_protocols[i] != NULL; i++) {
        if (i > 0)
            printf("\n");
        list_protocol(dsim_protocols[i], true);
    }
    printf("\nInvariants marked 'always' are checked after every event; 'at end' when the run ends.\n"
           "Every scenario may also use <expect> (leader, agree, metric) and <converge> checks.\n");
    return EXIT_PASS;
}

/* ---- check-history -------------------------------------------------------- */

#define EXIT_UNKNOWN 3

/* CPU time of this process in us: steadier than the wall clock on a shared machine. */
static gint64 cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (gint64) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* The checker reads no clock itself (sim/lincheck.h); the command line lends it this one. */
static int64_t monotonic_ns(void *data)
{
    (void) data;
    return g_get_monotonic_time() * 1000;
}

static int cmd_check_history(int argc, char **argv)
{
    g_autofree char *model_name = NULL;
    g_autofree char *limit_text = NULL;
    gint prefix = 10;
    gboolean quiet = FALSE;
    gboolean no_partition = FALSE;
    gboolean stats = FALSE;
    GOptionEntry entries[] = {
        { "model", 'm', 0, G_OPTION_ARG_STRING, &model_name, "The model to check against (one of those listed above)", "M" },
        { "time-limit", 't', 0, G_OPTION_ARG_STRING, &limit_text,
          "Give up after this long and answer 'unknown' (exit 3), e.g. 10s; default: no limit", "T" },
        { "prefix", 0, 0, G_OPTION_ARG_INT, &prefix,
          "Show at most N operations of the longest linearizable prefix (0: all; default 10)", "N" },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing; the exit status tells the verdict", NULL },
        { "no-partition", 0, 0, G_OPTION_ARG_NONE, &no_partition,
          "Check keyed models as one map, not key by key (same verdict, far slower; for comparisons)", NULL },
        { "stats", 0, 0, G_OPTION_ARG_NONE, &stats, "Also print times and search figures on stderr", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) oc = g_option_context_new("FILE --model M - check a client history for linearizability");
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GString) models = g_string_new("Models:\n");
    for (const DsimLinModel *m = dsim_lin_models; m->name != NULL; m++)
        g_string_append_printf(models, "  %-24s %s\n", m->name, m->help);
    g_option_context_set_summary(oc, models->str);
    g_option_context_set_description(oc,
        "FILE is dsim's history.jsonl, an EDN history (Jepsen, Knossos) or a Jepsen log\n"
        "(Porcupine's etcd corpus); docs/lincheck.md describes the formats and the models.\n\n"
        "Exit status: 0 linearizable, 1 not linearizable (the smallest failing key and the\n"
        "operations that cannot be ordered are printed), 2 bad input or usage, 3 unknown\n"
        "(the time limit was reached first).");
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &error)) {
        fprintf(stderr, "dsim check-history: %s (see 'dsim check-history --help')\n", error->message);
        return EXIT_BAD_INPUT;
    }
    if (argc != 2) {
        fprintf(stderr, "dsim check-history: give exactly one history file (see 'dsim check-history --help')\n");
        return EXIT_BAD_INPUT;
    }
    const DsimLinModel *model = model_name != NULL ? dsim_lin_model_find(model_name) : NULL;
    if (model == NULL) {
        g_autoptr(GString) names = g_string_new(NULL);
        for (const DsimLinModel *m = dsim_lin_models; m->name != NULL; m++)
            g_string_append_printf(names, "%s%s", names->len > 0 ? ", " : "", m->name);
        if (model_name == NULL)
            fprintf(stderr, "dsim check-history: give --model, one of: %s\n", names->str);
        else
            fprintf(stderr, "dsim check-history: --model %s: no such model (choose one of: %s)\n", model_name,
                    names->str);
        return EXIT_BAD_INPUT;
    }
    DsimLinOptions lo = { .now = monotonic_ns, .no_partition = no_partition };
    if (limit_text != NULL && (!dsim_time_parse(limit_text, &lo.time_limit) || lo.time_limit <= 0)) {
        fprintf(stderr, "dsim check-history: --time-limit %s: not a duration above 0 (write e.g. 10s, 500ms, 2m)\n",
                limit_text);
        return EXIT_BAD_INPUT;
    }
    if (prefix < 0) {
        fprintf(stderr, "dsim check-history: --prefix must be >= 0\n");
        return EXIT_BAD_INPUT;
    }

    gint64 t0 = g_get_monotonic_time();
    g_autoptr(DsimLinHistory) h = dsim_lin_history_read_file(argv[1], &error);
    if (h == NULL) {
        fprintf(stderr, "%s\n", error->message);
        return EXIT_BAD_INPUT;
    }
    gint64 t1 = g_get_monotonic_time(), c1 = cpu_us();
    g_autoptr(DsimLinResult) r = dsim_lin_check(h, model, &lo, &error);
    if (r == NULL) {
        fprintf(stderr, "%s\n", error->message);
        return EXIT_BAD_INPUT;
    }
    gint64 t2 = g_get_monotonic_time(), c2 = cpu_us();
    if (stats)
        fprintf(stderr, "stats: read %.3f ms, check %.3f ms (cpu %.3f ms), %u operations, %u partitions, %" PRIu64
                " steps, %" PRIu64 " memo entries\n", (double) (t1 - t0) / 1e3, (double) (t2 - t1) / 1e3,
                (double) (c2 - c1) / 1e3, r->n_ops, r->n_partitions, r->steps, r->memo_entries);
    if (!quiet) {
        g_autoptr(GString) out = g_string_new(NULL);
        switch (r->verdict) {
        case DSIM_LIN_LINEARIZABLE:
            g_string_append_printf(out, "%s: linearizable under %s (%u operations", argv[1], model->name, r->n_ops);
            if (model->by_key && !no_partition)
                g_string_append_printf(out, " over %u key%s", r->n_partitions, r->n_partitions == 1 ? "" : "s");
            g_string_append_printf(out, ", %" PRIu64 " search steps)\n", r->steps);
            break;
        case DSIM_LIN_NOT_LINEARIZABLE:
            g_string_append_printf(out, "%s: NOT linearizable under %s\n", argv[1], model->name);
            break;
        case DSIM_LIN_UNKNOWN:
            g_string_append_printf(out, "%s: unknown under %s: the time limit %s was reached after %" PRIu64
                                   " search steps\n", argv[1], model->name, limit_text, r->steps);
            break;
        }
        dsim_lin_result_explain(r, h, (unsigned) prefix, out);
        fputs(out->str, stdout);
    }
    switch (r->verdict) {
    case DSIM_LIN_LINEARIZABLE: return EXIT_PASS;
    case DSIM_LIN_NOT_LINEARIZABLE: return EXIT_CHECK_FAILED;
    case DSIM_LIN_UNKNOWN: return EXIT_UNKNOWN;
    }
    g_assert_not_reached();
}

/* ---- help ----------------------------------------------------------------- */

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return EXIT_PASS;
    }
    if (strcmp(argv[1], "report") == 0) {
        g_autoptr(GOptionContext) oc = g_option_context_new("DIR - redraw the plots and index.html of a report folder");
        g_option_context_add_main_entries(oc, report_entries, NULL);
        g_option_context_set_summary(oc, "Reads the data a run wrote into DIR (summary.tsv, data/) and writes its plots\n"
                                         "(plots/*.gp, *.dat, *.svg) and index.html again, without re-running.");
        g_option_context_set_description(oc, "Exit status: 0 done, 2 not a report folder or bad usage.");
        g_set_prgname("dsim report");
        g_autofree char *help = g_option_context_get_help(oc, FALSE, NULL);
        printf("%s", help);
        return EXIT_PASS;
    }
    if (strcmp(argv[1], "run") == 0) {
        g_autoptr(GOptionContext) oc = g_option_context_new("FILE - run a scenario");
        g_option_context_add_main_entries(oc, run_entries, NULL);
        g_option_context_set_summary(oc, "Runs the scenario deterministically, checks it, prints the verdict table\n"
                                         "and writes the report folder: summary.json, index.html with the space-time diagram,\n"
                                         "plots/ (gnuplot), data/, timeseries.csv, metrics.prom, shiviz.log (and events.jsonl\n"
                                         "with --events). docs/reports.md describes the pictures.");
        g_option_context_set_description(oc, "Exit status: 0 all checks passed, 1 a check failed, 2 bad input or usage.");
        g_set_prgname("dsim run");
        g_autofree char *help = g_option_context_get_help(oc, FALSE, NULL);
        printf("%s", help);
        return EXIT_PASS;
    }
    for (const Command *c = commands; c->name != NULL; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            if (c->main == cmd_help) {
                printf("Usage: dsim help [COMMAND]\n  %s\n", c->summary);
                return EXIT_PASS;
            }
            /* every other command's own GOptionContext prints its options for --help
             * (and exits 0 there) */
            printf("dsim %s: %s\n\n", c->name, c->summary);
            fflush(stdout);
            g_autofree char *prg = g_strdup_printf("dsim %s", c->name);
            g_set_prgname(prg);
            char *args[] = { (char *) c->name, (char *) "--help", NULL };
            return c->main(2, args);
        }
    }
    fprintf(stderr, "dsim help: no command named '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_BAD_INPUT;
}

/* ---- entry ---------------------------------------------------------------- */

int dsim_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_BAD_INPUT;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("dsim %s\n", PACKAGE_VERSION);
        return EXIT_PASS;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return EXIT_PASS;
    }
    for (const Command *c = commands; c->name != NULL; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            /* the command sees itself as argv[0], so GOptionContext prints "dsim run" */
            g_autofree char *prg = g_strdup_printf("dsim %s", c->name);
            g_set_prgname(prg);
            return c->main(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "dsim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_BAD_INPUT;
}
