/* render.c - a run folder's pictures: read the folder's data back, write the plots, write
 * index.html. `dsim run` calls this once it has written the data, and `dsim report DIR` calls
 * nothing else, so the two commands draw from the same files and give the same bytes.
 */
#include "reports/report.h"

#include "sim/time.h"

gboolean dsim_report_render(const char *dir, const DsimRenderOptions *opt, GString *notes,
                            GError **error)
{
    g_autoptr(DsimRunResult) r = dsim_run_result_load(dir, error);
    if (r == NULL)
        return FALSE;
    const DsimRunData *d = r->data;
    const char *shown = opt->shown_dir != NULL ? opt->shown_dir : dir;

    for (unsigned i = 0; d->plots != NULL && i < d->plots->len; i++) {
        const char *name = g_ptr_array_index(d->plots, i);
        if (!dsim_report_plot_name_known(name))
            g_string_append_printf(notes, "plots: <report plots> names \"%s\", which is no plot "
                                          "(docs/reports.md lists them)\n", name);
    }
    DsimPlotOptions po = { .png = opt->png, .gnuplot = opt->gnuplot, .shown_dir = shown };
    bool rendered = false;
    if (!dsim_report_write_plots(r, dir, &po, &rendered, notes, error))
        return FALSE;

    /* The diagram shows the window the run collected, up to where a cap stopped it, unless
     * asked for another; only messages of the collected window can be drawn. */
    DsimTime from = d->window_from, to = d->window_to;
    if (d->window_closed != DSIM_TIME_NEVER)
        to = MAX(MIN(to, d->window_closed), from);
    if (opt->window_set) {
        if (opt->from < d->window_from || opt->to > d->window_to) {
            g_autoptr(GString) a = g_string_new(NULL), b = g_string_new(NULL);
            dsim_time_format_short(d->window_from, a);
            dsim_time_format_short(d->window_to, b);
            g_string_append_printf(notes, "spacetime: the run kept the messages sent from %s to %s "
                                          "only; to see others, run it again with --spacetime\n",
                                   a->str, b->str);
        }
        from = opt->from;
        to = opt->to;
    }
    return dsim_report_write_html(r, dir, from, to, error);
}
