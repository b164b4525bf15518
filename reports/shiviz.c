/* shiviz.c - shiviz.log: the events of the space-time window with vector clocks, for ShiViz.
 *
 * Lamport's happened-before, made visible: every node keeps a vector with one counter per
 * node. An event ticks the node's own counter; a send attaches the sender's vector to the
 * message; a receipt takes the element-wise maximum of its vector and the message's, then
 * ticks (Fidge 1988, Mattern 1989). ShiViz draws one line per node and an arrow wherever a
 * receipt's vector shows it learned of a send, and it checks that each node's own counter
 * goes up by exactly one per logged event: so every event a node takes part in within the
 * window is logged, and nothing else ticks.
 *
 * Vectors are dense (n_nodes counters, at most DSIM_REPORT_MAX_NODES) and written sparse,
 * zero counters left out, in node id order so the log is byte-for-byte reproducible.
 */
#include "reports/report.h"

#include <string.h>

struct DsimShiviz {
    unsigned     n;
    char *const *names;
    uint32_t    *clock;  /* n x n: row i is node i's vector */
    GArray      *slots;  /* uint32_t, n per message slot: the sender's vector at the send */
    GString     *log;
    unsigned     events;
};

DsimShiviz *dsim_shiviz_new(unsigned n_nodes, char *const *names)
{
    DsimShiviz *s = g_new0(DsimShiviz, 1);
    s->n = n_nodes;
    s->names = names;
    s->clock = g_new0(uint32_t, (size_t) n_nodes * n_nodes);
    s->slots = g_array_new(FALSE, TRUE, sizeof(uint32_t));
    s->log = g_string_new(NULL);
    return s;
}

void dsim_shiviz_free(DsimShiviz *s)
{
    if (s == NULL)
        return;
    g_free(s->clock);
    g_array_unref(s->slots);
    g_string_free(s->log, TRUE);
    g_free(s);
}

/* Node names are protocol group ids plus a number ("r3"): no spaces, no quotes, so they go
 * into the JSON and the host field as they are. The description is one line. */
static void log_event(DsimShiviz *s, uint32_t node, const char *text)
{
    const uint32_t *v = s->clock + (size_t) node * s->n;
    g_string_append_printf(s->log, "%s {", s->names[node]);
    bool first = true;
    for (unsigned i = 0; i < s->n; i++) {
        if (v[i] == 0)
            continue;
        g_string_append_printf(s->log, "%s\"%s\":%" PRIu32, first ? "" : ",", s->names[i], v[i]);
        first = false;
    }
    g_string_append(s->log, "}\n");
    for (const char *p = text; *p != '\0'; p++)
        g_string_append_c(s->log, (*p == '\n' || *p == '\r') ? ' ' : *p);
    g_string_append_c(s->log, '\n');
    s->events++;
}

static uint32_t *slot_clock(DsimShiviz *s, uint32_t slot)
{
    size_t need = ((size_t) slot + 1) * s->n;
    if (s->slots->len < need)
        g_array_set_size(s->slots, (guint) need);
    return &g_array_index(s->slots, uint32_t, (size_t) slot * s->n);
}

void dsim_shiviz_local(DsimShiviz *s, uint32_t node, const char *text)
{
    g_assert(node < s->n);
    s->clock[(size_t) node * s->n + node]++;
    log_event(s, node, text);
}

void dsim_shiviz_send(DsimShiviz *s, uint32_t node, uint32_t slot, const char *text)
{
    dsim_shiviz_local(s, node, text);
    memcpy(slot_clock(s, slot), s->clock + (size_t) node * s->n, s->n * sizeof(uint32_t));
}

void dsim_shiviz_copy(DsimShiviz *s, uint32_t slot, uint32_t copy_slot)
{
    uint32_t *dst = slot_clock(s, copy_slot); /* may move the array: take it first */
    memcpy(dst, slot_clock(s, slot), s->n * sizeof(uint32_t));
}

void dsim_shiviz_receive(DsimShiviz *s, uint32_t node, int64_t slot, const char *text)
{
    g_assert(node < s->n);
    uint32_t *v = s->clock + (size_t) node * s->n;
    if (slot >= 0) {
        const uint32_t *m = slot_clock(s, (uint32_t) slot);
        for (unsigned i = 0; i < s->n; i++)
            v[i] = MAX(v[i], m[i]);
    }
    dsim_shiviz_local(s, node, text);
}

unsigned dsim_shiviz_events(const DsimShiviz *s) { return s->events; }

const GString *dsim_shiviz_log(const DsimShiviz *s) { return s->log; }
