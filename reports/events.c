/* events.c - events.jsonl: one JSON object per record of the run, streamed as it happens.
 *
 * Each line has the index of the event it belongs to ("i"), virtual time in integer
 * nanoseconds ("t"), the kind, the node, and what the kind needs: the message and its
 * summary from the protocol's print_msg for sends, deliveries and drops, the timer kind and
 * argument, the text of faults, status changes, protocol log lines and failed checks.
 * Documented in docs/cli.md. Lines are written through a buffered stdio stream into the
 * run's temporary folder, which the CLI renames into place when the run is complete.
 */
#include "reports/report.h"

#include <errno.h>
#include <string.h>

#include "sim/jsonw.h"

struct DsimEventLog {
    FILE    *fp;
    char    *path;
    GString *line;
    GString *msg;
    bool     failed;
};

static const char *record_kind(DsimRecordKind k)
{
    switch (k) {
    case DSIM_REC_DELIVER: return "deliver";
    case DSIM_REC_SEND: return "send";
    case DSIM_REC_DROP: return "drop";
    case DSIM_REC_TIMER: return "timer";
    case DSIM_REC_FAULT: return "fault";
    case DSIM_REC_STATUS: return "status";
    case DSIM_REC_LOG: return "log";
    case DSIM_REC_CHECK: return "check";
    case DSIM_REC_REPLY: return "reply";
    case DSIM_REC_REQUEST: return "request";
    }
    g_assert_not_reached();
}

static const char *status_name(DsimNodeStatus s)
{
    switch (s) {
    case DSIM_NODE_UP: return "up";
    case DSIM_NODE_CRASHED: return "crashed";
    case DSIM_NODE_PAUSED: return "paused";
    }
    g_assert_not_reached();
}

static void on_record(void *self, const DsimWorld *w, const DsimRecord *rec)
{
    DsimEventLog *log = self;
    DsimJson j;
    g_string_truncate(log->line, 0);
    dsim_json_init(&j, log->line, false);
    dsim_json_begin_object(&j, NULL);
    dsim_json_uint(&j, "i", rec->index);
    dsim_json_int(&j, "t", rec->time);
    dsim_json_string(&j, "kind", record_kind(rec->kind));
    if (rec->node != DSIM_NOBODY)
        dsim_json_string(&j, "node", dsim_world_node_name(w, rec->node));
    if (rec->msg != NULL) {
        const DsimMsg *m = rec->msg;
        dsim_json_string(&j, "from", dsim_world_node_name(w, m->from));
        dsim_json_string(&j, "to", dsim_world_node_name(w, m->to));
        dsim_json_uint(&j, "msg", m->id);
        dsim_json_int(&j, "sent", m->sent_at);
        if (rec->kind == DSIM_REC_SEND)
            dsim_json_int(&j, "arrive", rec->time_arrive);
        if (rec->kind == DSIM_REC_DROP)
            dsim_json_string(&j, "reason", dsim_drop_reason_name(rec->drop));
        g_string_truncate(log->msg, 0);
        if (m->body != NULL)
            dsim_world_format_msg(w, m, log->msg);
        dsim_json_string(&j, "summary", log->msg->str);
    }
    if (rec->kind == DSIM_REC_TIMER) {
        dsim_json_uint(&j, "timer", rec->timer_kind);
        dsim_json_uint(&j, "arg", rec->timer_arg);
    }
    if (rec->kind == DSIM_REC_STATUS)
        dsim_json_string(&j, "status", status_name(rec->status));
    if (rec->text != NULL)
        dsim_json_string(&j, "text", rec->text);
    dsim_json_end_object(&j);
    g_string_append_c(log->line, '\n');
    if (fwrite(log->line->str, 1, log->line->len, log->fp) != log->line->len)
        log->failed = true;
}

static const DsimObserver event_log_observer = { .on_record = on_record };

DsimEventLog *dsim_event_log_new(DsimWorld *w, const char *path, GError **error)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: %s", path, g_strerror(e));
        return NULL;
    }
    DsimEventLog *log = g_new0(DsimEventLog, 1);
    log->fp = fp;
    log->path = g_strdup(path);
    log->line = g_string_sized_new(256);
    log->msg = g_string_sized_new(64);
    setvbuf(fp, NULL, _IOFBF, 1 << 20);
    dsim_world_add_observer(w, &event_log_observer, log);
    return log;
}

gboolean dsim_event_log_close(DsimEventLog *log, GError **error)
{
    gboolean ok = !log->failed;
    if (fclose(log->fp) != 0)
        ok = FALSE;
    if (!ok)
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: write failed", log->path);
    g_free(log->path);
    g_string_free(log->line, TRUE);
    g_string_free(log->msg, TRUE);
    g_free(log);
    return ok;
}
