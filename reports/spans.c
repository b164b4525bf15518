/* spans.c - spans.json: every call of the run as Zipkin v2 spans.
 *
 * The format is Zipkin's JSON v2 (zipkin.io, "zipkin2-api.yaml"): a list of spans, each with
 * traceId, id, parentId, name, kind, timestamp and duration in microseconds, and the local
 * and remote endpoints. A call gives a CLIENT span at its caller (from dsim_call to its
 * outcome) and, when the callee answered while the caller still waited, a SERVER span with the
 * same id ("shared": the two halves of one RPC, as Zipkin's B3 propagation has it), from the
 * request's arrival to the response. Ids are the kernel's call ids in 16 hex digits;
 * timestamps are virtual time since the run began (a Zipkin UI shows them as January 1970).
 * The Zipkin server's POST /api/v2/spans takes the file as it is; Jaeger reads it too.
 */
#include "reports/report.h"
#include "sim/jsonw.h"

static void endpoint(DsimJson *j, const char *key, const DsimWorld *w, DsimNodeId node)
{
    const DsimScenario *sc = dsim_world_scenario(w);
    const DsimGroupSpec *g = &g_array_index(sc->groups, DsimGroupSpec, dsim_world_group_of(w, node));
    dsim_json_begin_object(j, key);
    dsim_json_string(j, "serviceName", g->id);
    dsim_json_end_object(j);
}

static void hex_id(DsimJson *j, const char *key, uint64_t id)
{
    char buf[17];
    g_snprintf(buf, sizeof buf, "%016" PRIx64, id);
    dsim_json_string(j, key, buf);
}

static void half(DsimJson *j, const DsimWorld *w, const DsimSpan *s, bool server)
{
    char name_buf[16];
    DsimTime from = server ? s->served : s->start, to = server ? s->answered : s->end;
    dsim_json_begin_object(j, NULL);
    hex_id(j, "traceId", s->trace);
    if (s->parent != 0)
        hex_id(j, "parentId", s->parent);
    hex_id(j, "id", s->id);
    dsim_json_string(j, "kind", server ? "SERVER" : "CLIENT");
    dsim_json_string(j, "name", dsim_world_method_name(w, s->callee, s->method, name_buf));
    dsim_json_int(j, "timestamp", from / 1000);
    dsim_json_int(j, "duration", (to - from) / 1000);
    if (server)
        dsim_json_bool(j, "shared", true);
    endpoint(j, "localEndpoint", w, server ? s->callee : s->caller);
    endpoint(j, "remoteEndpoint", w, server ? s->caller : s->callee);
    dsim_json_begin_object(j, "tags");
    dsim_json_string(j, "dsim.caller", dsim_world_node_name(w, s->caller));
    dsim_json_string(j, "dsim.callee", dsim_world_node_name(w, s->callee));
    dsim_json_string(j, "dsim.status", dsim_span_status_name(s->status));
    if (!server && s->status != DSIM_SPAN_OK)
        dsim_json_string(j, "error", dsim_span_status_name(s->status));
    dsim_json_end_object(j);
    dsim_json_end_object(j);
}

GString *dsim_report_spans_json(const DsimWorld *w)
{
    unsigned n = dsim_world_n_spans(w);
    if (n == 0)
        return NULL;
    GString *out = g_string_new(NULL);
    DsimJson j;
    dsim_json_init(&j, out, true);
    dsim_json_begin_array(&j, NULL);
    for (unsigned i = 0; i < n && i < DSIM_REPORT_MAX_SPANS; i++) {
        const DsimSpan *s = dsim_world_span(w, i);
        half(&j, w, s, false);
        if (s->served >= 0 && s->answered >= 0)
            half(&j, w, s, true);
    }
    dsim_json_end_array(&j);
    g_string_append_c(out, '\n');
    return out;
}
