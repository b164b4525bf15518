/* collect.c - the collector: an observer that keeps, while a run happens, what the plots, the
 * space-time diagram and shiviz.log need, and nothing else.
 *
 * It is attached to every `dsim run`, so it must stay cheap on a run of ten million events:
 * for a send, a delivery or a timer outside the space-time window it stores one number and
 * compares a time with the window. Message counts per time bin come from the world's
 * counters, read after each event, not from records. Inside the window (and only up to
 * DSIM_REPORT_MAX_ARROWS messages) it formats messages and ticks vector clocks. After each
 * event (dsim_collector_after_step) it describes the node that handled it, because a node's
 * role, term and commit index change only in its own handlers or in a crash, and writes a
 * timeline row only when one of them changed.
 *
 * Describing a node is a protocol call, and some protocols format text in it (pingpong's
 * describe costs as much as the rest of an event). A node whose group has reported no role,
 * term or commit index yet (pingpong, broadcast) is described after each of its first
 * PROBE_ALL events, then every PROBE_EVERY-th: should its group start to report one later,
 * its first row comes at most PROBE_EVERY of its events late. Once any member of a group
 * reported one, each member is described after every event it handles, so leader changes
 * are timed exactly.
 *
 * Which node recorded a metric sample is not in the sample (the world keeps only time and
 * value); the collector notes, after each event, how many samples each metric gained and
 * credits them to the node that handled the event.
 */
#include "reports/report.h"

#include <string.h>

#include "sim/client.h"

#define PROBE_ALL   4096
#define PROBE_EVERY 256
/* metric samples whose node is remembered (the world keeps at most 10M samples too) */
#define MAX_SAMPLE_NODES 10000000u


typedef struct {
    const DsimMetricStat *stat;  /* the world's, stable for its lifetime */
    uint64_t              seen;  /* samples credited so far */
    GArray               *nodes; /* DsimNodeId per sample, in order */
} MetricTrack;

struct DsimCollector {
    const DsimScenario *sc;
    DsimRunData        *d;
    unsigned            n;          /* covered nodes */
    DsimTimelineRow    *last;       /* per covered node: its latest row */
    uint32_t           *group;      /* per covered node */
    bool               *viewful;    /* per group: some member reported a role, term or commit index */
    uint8_t            *watch;      /* per covered node: its group is viewful */
    uint32_t           *left;       /* per covered node: events until it is described again */
    uint32_t           *handled;    /* per covered node: events it handled, up to PROBE_ALL */
    bool               *mark;       /* per covered node: in touched[] */
    uint32_t           *touched;    /* covered nodes whose status changed this step */
    unsigned            n_touched;
    bool                fault_in_step;
    DsimNodeId          handler;    /* the node whose handler ran in this step */

    /* message counts: the world's counters at the end of the previous event */
    unsigned            bin_index;
    DsimTime            bin_end;    /* an event at or after this belongs to a later bin */
    DsimTime            bin_width;
    uint64_t            sent, delivered, dropped; /* counted into earlier bins */
    uint64_t            now_sent, now_delivered, now_dropped; /* after the previous event */
    const DsimCounters *k;          /* the world's */

    /* the space-time window */
    DsimTime            from, to;
    DsimTime            wfrom;      /* from, or -1 once a cap was reached (see in_window) */
    uint64_t            wspan;      /* to - from, or 0 */
    uint64_t            first_id, last_id; /* of the rows (ids grow with every send) */
    unsigned            pending;    /* rows still in flight */
    DsimTime            win[2];     /* when the world builds message records for us (see
                                       sync_world_window): the window, widened while rows are
                                       in flight */
    DsimShiviz         *shiviz;
    GString            *text;

    GPtrArray          *tracks;     /* MetricTrack* */
    unsigned            n_metric_names;
    uint64_t            sample_nodes;
};

/* ---- the timeline ---------------------------------------------------------------------- */

static void push_if_changed(DsimCollector *c, const DsimTimelineRow *cur, DsimTime now)
{
    DsimTimelineRow *last = &c->last[cur->node];
    if (cur->status == last->status && cur->role == last->role && cur->term == last->term
        && cur->commit_index == last->commit_index && cur->cut == last->cut)
        return;
    *last = *cur;
    last->time = now;
    g_array_append_val(c->d->timeline, *last);
}

static void describe_into(const DsimWorld *w, DsimNodeId id, DsimTimelineRow *row)
{
    DsimView v;
    dsim_world_describe(w, id, &v);
    row->role = v.role;
    row->term = v.term;
    row->commit_index = v.commit_index;
}

/* The state every covered node was left in by its init, as rows at time 0. */
static void start_rows(DsimCollector *c, const DsimWorld *w)
{
    for (uint32_t id = 0; id < c->n; id++) {
        DsimTimelineRow *row = &c->last[id];
        *row = (DsimTimelineRow) { .time = 0, .node = id, .status = dsim_world_node_status(w, id) };
        describe_into(w, id, row);
        if (row->role != DSIM_ROLE_NONE || row->term != 0 || row->commit_index != 0)
            c->viewful[c->group[id]] = true;
        g_array_append_val(c->d->timeline, *row);
    }
    for (uint32_t id = 0; id < c->n; id++) {
        c->watch[id] = c->viewful[c->group[id]];
        c->left[id] = 1;
    }
}

static void note_node(DsimCollector *c, const DsimWorld *w, uint32_t id, bool describe)
{
    DsimTimelineRow cur = c->last[id];
    cur.status = dsim_world_node_status(w, id);
    if (describe) {
        describe_into(w, id, &cur);
        if (!c->viewful[c->group[id]]
            && (cur.role != DSIM_ROLE_NONE || cur.term != 0 || cur.commit_index != 0)) {
            c->viewful[c->group[id]] = true;
            for (uint32_t k = 0; k < c->n; k++)
                c->watch[k] = c->viewful[c->group[k]];
        }
    } else if (cur.status == DSIM_NODE_CRASHED) {
        cur.role = DSIM_ROLE_NONE; /* what describe says of a crashed node */
        cur.term = cur.commit_index = 0;
    }
    push_if_changed(c, &cur, dsim_world_now(w));
}

/* After a fault: how many covered nodes each covered node is cut off from. O(n^2) can_pass
 * calls per fault event, n <= 64. */
static void update_cuts(DsimCollector *c, const DsimWorld *w)
{
    for (uint32_t i = 0; i < c->n; i++) {
        DsimTimelineRow cur = c->last[i];
        cur.cut = 0;
        for (uint32_t j = 0; j < c->n; j++) {
            if (j != i && (!dsim_world_can_pass(w, i, j) || !dsim_world_can_pass(w, j, i)))
                cur.cut++;
        }
        push_if_changed(c, &cur, dsim_world_now(w));
    }
}

static void touch(DsimCollector *c, DsimNodeId id)
{
    if (id < c->n && !c->mark[id]) {
        c->mark[id] = true;
        c->touched[c->n_touched++] = id;
    }
}

/* ---- metric samples ------------------------------------------------------------------- */

static void resync_tracks(DsimCollector *c, const DsimWorld *w, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const DsimMetricStat *stat = dsim_world_metric(w, i);
        bool known = false;
        for (unsigned k = 0; k < c->tracks->len && !known; k++)
            known = ((MetricTrack *) g_ptr_array_index(c->tracks, k))->stat == stat;
        if (!known) {
            MetricTrack *t = g_new0(MetricTrack, 1);
            t->stat = stat;
            t->nodes = g_array_new(FALSE, FALSE, sizeof(DsimNodeId));
            g_ptr_array_add(c->tracks, t);
        }
    }
    c->n_metric_names = n;
}

static G_GNUC_NO_INLINE void credit_samples(DsimCollector *c, MetricTrack *t)
{
    for (; t->seen < t->stat->count; t->seen++) {
        if (c->sample_nodes < MAX_SAMPLE_NODES) {
            g_array_append_val(t->nodes, c->handler);
            c->sample_nodes++;
        }
    }
}

static G_ALWAYS_INLINE inline void poll_metrics(DsimCollector *c, const DsimWorld *w)
{
    unsigned n = dsim_world_n_metrics(w);
    if (G_UNLIKELY(n != c->n_metric_names))
        resync_tracks(c, w, n);
    MetricTrack **t = (MetricTrack **) c->tracks->pdata;
    for (unsigned k = 0; k < c->tracks->len; k++) {
        if (G_UNLIKELY(t[k]->seen != t[k]->stat->count))
            credit_samples(c, t[k]);
    }
}

static void track_free(gpointer p)
{
    MetricTrack *t = p;
    g_array_unref(t->nodes);
    g_free(t);
}

/* ---- message counts ----------------------------------------------------------------------- */

/* Adds what the counters gained since the last call to the current bin. */
static void bin_add(DsimCollector *c)
{
    DsimTrafficBin *b = &g_array_index(c->d->traffic, DsimTrafficBin, c->bin_index);
    b->sent += c->now_sent - c->sent;
    b->delivered += c->now_delivered - c->delivered;
    b->dropped += c->now_dropped - c->dropped;
    c->sent = c->now_sent;
    c->delivered = c->now_delivered;
    c->dropped = c->now_dropped;
}

static inline void snapshot(DsimCollector *c)
{
    const DsimCounters *k = c->k;
    c->now_sent = k->sent;
    c->now_delivered = k->delivered;
    c->now_dropped = 0;
    for (int r = DSIM_DROP_LOSS; r < DSIM_DROP_REASONS; r++)
        c->now_dropped += k->dropped[r];
}

/* After an event at @now: when it lies in a later bin than the previous one, what the
 * counters gained up to the previous event belongs to the bin being left. */
static inline void count_bins(DsimCollector *c, DsimTime now)
{
    if (G_UNLIKELY(now >= c->bin_end)) {
        bin_add(c);
        while (now >= c->bin_end && c->bin_index + 1 < DSIM_REPORT_BINS) {
            c->bin_index++;
            c->bin_end += c->bin_width;
        }
        if (c->bin_index + 1 == DSIM_REPORT_BINS)
            c->bin_end = DSIM_TIME_NEVER; /* the last bin takes everything up to the end */
    }
    snapshot(c);
}

/* ---- the space-time window -------------------------------------------------------------- */

/* wfrom <= t <= wfrom + wspan in one comparison (below wfrom wraps around to a large value);
 * a closed window has wfrom -1 and wspan 0, which no time (>= 0) meets. */
static inline bool in_window(const DsimCollector *c, DsimTime t)
{
    return (uint64_t) t - (uint64_t) c->wfrom <= c->wspan;
}

/* The world builds message-level records only while win[0] <= now <= win[1]: the window
 * itself, and then for as long as messages drawn in it are still in flight (a paused
 * receiver may handle one late, so "until its planned arrival" would not do). */
static void sync_world_window(DsimCollector *c)
{
    if (c->pending > 0) {
        c->win[1] = DSIM_TIME_NEVER;
    } else if (c->wspan == 0 && c->wfrom < 0) {
        c->win[0] = 1; /* closed: an empty interval */
        c->win[1] = 0;
    } else {
        c->win[0] = c->wfrom;
        c->win[1] = c->wfrom + (DsimTime) c->wspan;
    }
}

static void close_window(DsimCollector *c, DsimTime t)
{
    c->wfrom = -1;
    c->wspan = 0;
    c->d->window_closed = t;
    sync_world_window(c);
}

static void check_caps(DsimCollector *c, DsimTime t)
{
    if (c->d->messages->len >= DSIM_REPORT_MAX_ARROWS || dsim_shiviz_events(c->shiviz) >= DSIM_SHIVIZ_MAX_EVENTS)
        close_window(c, t);
}

static const char *msg_text(DsimCollector *c, const DsimWorld *w, const DsimMsg *m)
{
    g_string_truncate(c->text, 0);
    if (m->body != NULL)
        dsim_world_format_msg(w, m, c->text);
    return c->text->str;
}

/* A copy sent (SEND) or dropped as it was sent (DROP) in the window, between covered nodes. */
static void add_row(DsimCollector *c, const DsimWorld *w, const DsimRecord *rec)
{
    const DsimMsg *m = rec->msg;
    if (m->from >= c->n || m->to >= c->n)
        return;
    GArray *rows = c->d->messages;
    uint32_t slot = rows->len;
    bool dup = slot > 0 && g_array_index(rows, DsimMessageRow, slot - 1).id == m->id;
    DsimMessageRow row = {
        .id = m->id, .from = m->from, .to = m->to, .sent = m->sent_at,
        .end = rec->kind == DSIM_REC_SEND ? rec->time_arrive : rec->time,
        .fate = rec->kind == DSIM_REC_SEND ? DSIM_FATE_IN_FLIGHT : DSIM_FATE_DROPPED_AT_SEND,
        .reason = rec->kind == DSIM_REC_SEND ? DSIM_DROP_NONE : rec->drop,
        .summary = g_strdup(msg_text(c, w, m)),
    };
    if (slot == 0)
        c->first_id = m->id;
    c->last_id = m->id;
    if (row.fate == DSIM_FATE_IN_FLIGHT && c->pending++ == 0)
        sync_world_window(c);
    g_array_append_val(rows, row);

    if (dup) {
        dsim_shiviz_copy(c->shiviz, slot - 1, slot);
    } else {
        g_autofree char *ev = g_strdup_printf(
            "send %s to %s%s", row.summary, c->d->node_names[m->to],
            row.fate == DSIM_FATE_IN_FLIGHT ? ""
            : row.reason == DSIM_DROP_LOSS  ? " (lost)"
                                            : " (cut off)");
        dsim_shiviz_send(c->shiviz, m->from, slot, ev);
    }
    check_caps(c, rec->time);
}

/* The row of the copy of message @id that arrives now, or -1. Rows are in id order (ids
 * grow with every send), so a binary search finds the id; among the copies of a duplicated
 * message, the one planned to arrive now, else the first still in flight (a paused receiver
 * handles its messages late). */
static int64_t find_row(DsimCollector *c, uint64_t id, DsimTime now)
{
    if (c->pending == 0 || id < c->first_id || id > c->last_id)
        return -1;
    const GArray *rows = c->d->messages;
    guint lo = 0, hi = rows->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(rows, DsimMessageRow, mid).id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    int64_t any = -1;
    for (guint i = lo; i < rows->len; i++) {
        const DsimMessageRow *r = &g_array_index(rows, DsimMessageRow, i);
        if (r->id != id)
            break;
        if (r->fate != DSIM_FATE_IN_FLIGHT)
            continue;
        if (r->end == now)
            return i;
        if (any < 0)
            any = i;
    }
    return any;
}

static int64_t resolve(DsimCollector *c, const DsimRecord *rec, DsimMsgFate fate)
{
    int64_t i = find_row(c, rec->msg->id, rec->time);
    if (i >= 0) {
        DsimMessageRow *r = &g_array_index(c->d->messages, DsimMessageRow, i);
        r->fate = fate;
        r->end = rec->time;
        r->reason = fate == DSIM_FATE_DELIVERED ? DSIM_DROP_NONE : rec->drop;
        if (--c->pending == 0)
            sync_world_window(c);
    }
    return i;
}

static void local_event(DsimCollector *c, const DsimRecord *rec, const char *text)
{
    if (rec->node < c->n && in_window(c, rec->time)) {
        dsim_shiviz_local(c->shiviz, rec->node, text);
        check_caps(c, rec->time);
    }
}

/* ---- the observer ----------------------------------------------------------------------- */

/* Records that need more than the fast path of on_record below. */
static G_GNUC_NO_INLINE void slow_record(DsimCollector *c, const DsimWorld *w, const DsimRecord *rec)
{
    const DsimMsg *m = rec->msg;
    switch (rec->kind) {
    case DSIM_REC_SEND:
        if (in_window(c, rec->time))
            add_row(c, w, rec);
        return;
    case DSIM_REC_DELIVER: {
        int64_t row = resolve(c, rec, DSIM_FATE_DELIVERED);
        if (m->from < c->n && m->to < c->n && in_window(c, rec->time)) {
            g_autofree char *ev = g_strdup_printf("recv %s from %s", msg_text(c, w, m),
                                                  c->d->node_names[m->from]);
            dsim_shiviz_receive(c->shiviz, m->to, row, ev);
            check_caps(c, rec->time);
        }
        return;
    }
    case DSIM_REC_DROP:
        if (rec->at_send) {
            if (in_window(c, rec->time))
                add_row(c, w, rec);
        } else {
            resolve(c, rec, DSIM_FATE_DROPPED_ON_ARRIVAL);
        }
        return;
    case DSIM_REC_TIMER:
        if (rec->node < c->n && in_window(c, rec->time)) {
            g_autofree char *ev = g_strdup_printf("timer kind=%u arg=%" PRIu64, rec->timer_kind,
                                                  rec->timer_arg);
            local_event(c, rec, ev);
        }
        return;
    case DSIM_REC_REQUEST:
        c->handler = rec->node;
        if (rec->node < c->n && in_window(c, rec->time)) {
            g_autofree char *ev = g_strdup_printf("request %s", rec->text != NULL ? rec->text : "");
            local_event(c, rec, ev);
        }
        return;
    case DSIM_REC_STATUS:
        touch(c, rec->node);
        if (rec->status == DSIM_NODE_UP)
            c->handler = rec->node; /* a restart runs on_recover */
        local_event(c, rec, rec->text != NULL ? rec->text : dsim_node_status_name(rec->status));
        return;
    case DSIM_REC_LOG:
    case DSIM_REC_REPLY:
        if (rec->text != NULL)
            local_event(c, rec, rec->text);
        return;
    case DSIM_REC_FAULT:
        c->fault_in_step = true;
        if (c->d->faults->len < DSIM_REPORT_MAX_FAULTS) {
            DsimFaultRow f = { .time = rec->time, .event = rec->index, .text = g_strdup(rec->text) };
            g_array_append_val(c->d->faults, f);
        }
        return;
    case DSIM_REC_CHECK:
        return; /* the verdicts come with the result */
    }
    g_assert_not_reached();
}

/* The fast path: a send, a delivery or a timer outside the window, with no message of the
 * window in flight, costs a store and two comparisons. */
static void on_record(void *self, const DsimWorld *w, const DsimRecord *rec)
{
    DsimCollector *c = self;
    switch (rec->kind) {
    case DSIM_REC_SEND:
        if (G_LIKELY(!in_window(c, rec->time)))
            return;
        break;
    case DSIM_REC_DELIVER:
        c->handler = rec->node;
        if (G_LIKELY(c->pending == 0 && !in_window(c, rec->time)))
            return;
        break;
    case DSIM_REC_TIMER:
        c->handler = rec->node;
        if (G_LIKELY(!in_window(c, rec->time)))
            return;
        break;
    default:
        break;
    }
    slow_record(c, w, rec);
}

static const DsimObserver collector_observer = { .on_record = on_record };

/* ---- life cycle ----------------------------------------------------------------------- */

DsimCollector *dsim_collector_new(DsimWorld *w, bool window_set, DsimTime from, DsimTime to)
{
    const DsimScenario *sc = dsim_world_scenario(w);
    DsimCollector *c = g_new0(DsimCollector, 1);
    DsimRunData *d = g_new0(DsimRunData, 1);
    c->sc = sc;
    c->d = d;
    c->n = MIN(sc->n_nodes, DSIM_REPORT_MAX_NODES);

    d->n_nodes = c->n;
    d->node_names = g_new0(char *, c->n + 1);
    d->node_groups = g_new0(char *, c->n + 1);
    d->node_protocols = g_new0(char *, c->n + 1);
    c->group = g_new0(uint32_t, c->n);
    for (uint32_t id = 0; id < c->n; id++) {
        c->group[id] = dsim_scenario_group_of(sc, id);
        const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, c->group[id]);
        d->node_names[id] = g_strdup(sc->node_names[id]);
        d->node_groups[id] = g_strdup(g->id);
        d->node_protocols[id] = g_strdup(g->protocol->name);
    }
    c->viewful = g_new0(bool, sc->groups->len);
    c->watch = g_new0(uint8_t, c->n);
    c->left = g_new0(uint32_t, c->n);
    c->handled = g_new0(uint32_t, c->n);
    c->last = g_new0(DsimTimelineRow, c->n);
    c->mark = g_new0(bool, c->n);
    c->touched = g_new0(uint32_t, c->n);
    c->handler = DSIM_NOBODY;

    d->timeline = g_array_new(FALSE, TRUE, sizeof(DsimTimelineRow));
    d->messages = g_array_new(FALSE, TRUE, sizeof(DsimMessageRow));
    d->faults = g_array_new(FALSE, TRUE, sizeof(DsimFaultRow));
    d->series = g_ptr_array_new();
    d->strings = g_string_chunk_new(256);
    if (sc->report.plots != NULL && sc->report.plots->len > 0) {
        d->plots = g_ptr_array_new_with_free_func(g_free);
        for (unsigned i = 0; i < sc->report.plots->len; i++)
            g_ptr_array_add(d->plots, g_strdup(g_ptr_array_index(sc->report.plots, i)));
    }

    /* bins of equal width over [0, duration]; the last one also takes the end itself */
    d->traffic = g_array_sized_new(FALSE, TRUE, sizeof(DsimTrafficBin), DSIM_REPORT_BINS);
    g_array_set_size(d->traffic, DSIM_REPORT_BINS);
    c->bin_width = MAX((sc->duration + DSIM_REPORT_BINS - 1) / DSIM_REPORT_BINS, 1);
    for (unsigned i = 0; i < DSIM_REPORT_BINS; i++) {
        DsimTrafficBin *b = &g_array_index(d->traffic, DsimTrafficBin, i);
        b->start = MIN((DsimTime) i * c->bin_width, sc->duration);
        b->end = MIN((DsimTime) (i + 1) * c->bin_width, sc->duration);
    }
    c->bin_end = c->bin_width;

    if (window_set) {
        c->from = from;
        c->to = to;
    } else if (sc->report.has_spacetime) {
        c->from = sc->report.spacetime_from;
        c->to = sc->report.spacetime_to;
    } else {
        c->from = 0;
        c->to = MIN(DSIM_REPORT_WINDOW, sc->duration);
    }
    c->wfrom = c->from;
    c->wspan = (uint64_t) (c->to - c->from);
    d->window_from = c->from;
    d->window_to = c->to;
    d->window_closed = DSIM_TIME_NEVER;
    c->shiviz = dsim_shiviz_new(c->n, d->node_names);
    c->text = g_string_sized_new(64);
    c->tracks = g_ptr_array_new_with_free_func(track_free);

    sync_world_window(c);
    dsim_world_add_observer_windowed(w, &collector_observer, c, c->win);
    /* start the world (every node's init; no event runs at a time before 0) and note where
     * each node starts */
    dsim_world_run_until(w, -1);
    start_rows(c, w);
    c->k = dsim_world_counters(w);
    snapshot(c);
    return c;
}

/* Describes node @id after an event it handled: always when its group is viewful; else after
 * each of its first PROBE_ALL events, then every PROBE_EVERY-th (see the top). */
static G_GNUC_NO_INLINE void probe(DsimCollector *c, const DsimWorld *w, uint32_t id)
{
    note_node(c, w, id, true);
    if (!c->watch[id]) {
        if (c->handled[id] < PROBE_ALL)
            c->handled[id]++;
        c->left[id] = c->handled[id] < PROBE_ALL ? 1 : PROBE_EVERY;
    }
}

static G_ALWAYS_INLINE inline void after_step(DsimCollector *c, const DsimWorld *w)
{
    /* the handler: from a record when one came, else from the world (outside the window the
     * world builds no message records) */
    DsimNodeId h = c->handler != DSIM_NOBODY ? c->handler : dsim_world_last_node(w);
    c->handler = h; /* the samples this event recorded are this node's (poll_metrics) */
    if (h < c->n && (c->watch[h] || --c->left[h] == 0))
        probe(c, w, h);
    if (G_UNLIKELY(c->n_touched > 0)) {
        for (unsigned i = 0; i < c->n_touched; i++) {
            uint32_t id = c->touched[i];
            c->mark[id] = false;
            note_node(c, w, id, c->watch[id]);
        }
        c->n_touched = 0;
    }
    if (G_UNLIKELY(c->fault_in_step)) {
        c->fault_in_step = false;
        update_cuts(c, w);
    }
    count_bins(c, dsim_world_now(w));
    poll_metrics(c, w);
    c->handler = DSIM_NOBODY;
}

void dsim_collector_after_step(DsimCollector *c, const DsimWorld *w) { after_step(c, w); }

void dsim_collector_run(DsimCollector *c, DsimWorld *w,
                        void (*progress)(const DsimWorld *w, void *data), void *data)
{
    uint64_t n = 0;
    while (dsim_world_step(w)) {
        after_step(c, w);
        if (progress != NULL && (++n & 0xffff) == 0)
            progress(w, data);
    }
    dsim_world_finish(w);
}

static gint series_cmp(gconstpointer a, gconstpointer b)
{
    const DsimSeries *x = *(DsimSeries *const *) a, *y = *(DsimSeries *const *) b;
    return strcmp(x->name, y->name);
}

static void collect_series(DsimCollector *c, const DsimWorld *w)
{
    for (unsigned k = 0; k < c->tracks->len; k++) {
        const MetricTrack *t = g_ptr_array_index(c->tracks, k);
        const DsimTime *times;
        const double *values;
        size_t n = dsim_world_metric_samples(w, t->stat->name, &times, &values);
        DsimSeries *s = g_new0(DsimSeries, 1);
        s->name = g_strdup(t->stat->name);
        s->count = t->stat->count;
        s->samples = g_array_new(FALSE, FALSE, sizeof(DsimSample));
        /* keep every k-th sample when there are too many: uniform over the run */
        size_t stride = MAX((n + DSIM_REPORT_MAX_SAMPLES - 1) / DSIM_REPORT_MAX_SAMPLES, 1);
        for (size_t i = 0; i < n; i += stride) {
            DsimNodeId id = i < t->nodes->len ? g_array_index(t->nodes, DsimNodeId, i) : DSIM_NOBODY;
            DsimSample sm = {
                .time = times[i],
                .node = g_string_chunk_insert_const(c->d->strings, dsim_world_node_name(w, id)),
                .value = values[i],
            };
            g_array_append_val(s->samples, sm);
        }
        g_ptr_array_add(c->d->series, s);
    }
    g_ptr_array_sort(c->d->series, series_cmp);
}

static void collect_client_ops(DsimCollector *c, const DsimWorld *w)
{
    const DsimClients *clients = dsim_world_clients(w);
    if (clients == NULL)
        return;
    const GArray *h = dsim_clients_history(clients);
    for (unsigned i = 0; i < h->len; i++) {
        const DsimHistOp *op = &g_array_index(h, DsimHistOp, i);
        if (op->type == DSIM_HIST_INVOKE)
            continue;
        unsigned b = (unsigned) MIN(op->time / c->bin_width, DSIM_REPORT_BINS - 1);
        DsimTrafficBin *bin = &g_array_index(c->d->traffic, DsimTrafficBin, b);
        if (op->type == DSIM_HIST_OK)
            bin->ops_ok++;
        else if (op->type == DSIM_HIST_FAIL)
            bin->ops_fail++;
        else
            bin->ops_info++;
    }
}

DsimRunData *dsim_collector_finish(DsimCollector *c, const DsimWorld *w)
{
    after_step(c, w); /* the end of the run may have recorded figures */
    bin_add(c);
    collect_series(c, w);
    collect_client_ops(c, w);
    DsimRunData *d = c->d;
    const GString *log = dsim_shiviz_log(c->shiviz);
    d->shiviz = g_string_new_len(log->str, (gssize) log->len);
    d->spans = dsim_report_spans_json(w);
    d->calls = dsim_report_call_stats(w);
    d->traces = dsim_report_slowest_traces(w);

    dsim_shiviz_free(c->shiviz);
    g_string_free(c->text, TRUE);
    g_ptr_array_unref(c->tracks);
    g_free(c->last);
    g_free(c->group);
    g_free(c->viewful);
    g_free(c->watch);
    g_free(c->left);
    g_free(c->handled);
    g_free(c->mark);
    g_free(c->touched);
    g_free(c);
    return d;
}
