/* raft_snapshot.c - log compaction (§7): taking snapshots, and InstallSnapshot (Figure 13).
 *
 * §7: "Each server takes snapshots independently, covering just the committed entries in its
 * log. ... Once a server completes writing a snapshot, it may delete all log entries up
 * through the last included index". Here the snapshot is the KV store's bytes
 * (kv_store_snapshot: values, de-duplication table, applied count and digest) with the
 * index and term of the last entry it covers. A node takes one once snapshot_every entries
 * were applied since its last one; the log then starts after it (raft_log_compact), and the
 * snapshot is durable before the prefix is forgotten.
 *
 * "The leader uses a new RPC called InstallSnapshot to send snapshots to followers that are
 * too far behind": a follower whose next_index lies inside the leader's snapshot. The whole
 * snapshot goes in one message (Figure 13's chunks are not needed here); it is a probe like
 * any other (raft_replication.c): re-sent at each heartbeat until the follower answers.
 *
 * The snapshot is taken in an event of its own (a timer of delay 0 set by the apply that
 * crossed the threshold), as a server snapshots in the background. That also lets the
 * invariants, which look after every event, see each committed entry before it goes.
 */
#include "algorithms/raft/raft_internal.h"

#include <string.h>

void raft_snapshot_maybe_schedule(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);

    if (cfg->snapshot_every == 0 || r->snapshot_due
        || r->last_applied - r->snap_index < (uint64_t) cfg->snapshot_every)
        return;
    r->snapshot_due = true;
    dsim_timer_set(ctx, 0, RAFT_TIMER_SNAPSHOT, 0);
}

void raft_snapshot_take(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);

    r->snapshot_due = false;
    if (cfg->snapshot_every == 0
        || r->last_applied - r->snap_index < (uint64_t) cfg->snapshot_every)
        return; /* an InstallSnapshot came first */
    uint64_t index = r->last_applied;
    uint64_t term = raft_log_term_at(r, index);
    g_clear_pointer(&r->snapshot, g_bytes_unref);
    r->snapshot = kv_store_snapshot(r->kv);
    r->snap_config = raft_config_at(r, index);
    bool kept = raft_log_compact(r, index, term);
    g_assert(kept); /* last_applied is in the log */
    raft_log_save_snapshot(r, ctx);
    dsim_sync(ctx);
    dsim_log(ctx, "snapshot up to %" PRIu64 "^%" PRIu64 " (%zu bytes), %u entries left",
             index, term, g_bytes_get_size(r->snapshot), r->log->len);
    dsim_metric(ctx, "snapshot_taken", (double) index);
}

/* ---- leader -------------------------------------------------------------- */

void raft_send_snapshot(RaftNode *r, DsimCtx *ctx, unsigned i)
{
    gsize size = 0;
    const void *data = g_bytes_get_data(r->snapshot, &size);
    g_autofree RaftSnapshotReq *req = g_malloc(sizeof *req + size);

    g_assert(i != r->self && r->snapshot != NULL && size <= UINT32_MAX);
    *req = (RaftSnapshotReq) {
        .term = r->current_term,
        .last_index = r->snap_index,
        .last_term = r->snap_term,
        .size = (uint32_t) size,
        .config = r->snap_config,
    };
    if (size > 0)
        memcpy(req->data, data, size);
    dsim_send(ctx, r->first + i, RAFT_MSG_SNAPSHOT_REQ, req, sizeof *req + size);
    r->peers[i].probing = true; /* wait for the answer; the heartbeat re-sends it */
}

void raft_on_snapshot_resp(RaftNode *r, DsimCtx *ctx, DsimNodeId from,
                           const RaftSnapshotResp *resp)
{
    if (resp->term > r->current_term) {
        raft_become_follower(r, ctx, resp->term);
        return;
    }
    if (r->role != RAFT_LEADER || resp->term != r->current_term)
        return; /* an answer to an earlier leadership */

    unsigned i = raft_member_index(r, from);
    RaftPeer *p = &r->peers[i];
    p->heard = true;
    /* The follower holds everything up to the snapshot's last index: AppendEntries go on
     * from there. */
    if (resp->last_index > p->match_index)
        p->match_index = resp->last_index;
    if (p->next_index <= p->match_index)
        p->next_index = p->match_index + 1;
    p->probing = false;
    raft_advance_commit(r, ctx);
    if (r->role == RAFT_LEADER && p->next_index <= raft_log_last_index(r))
        raft_send_append(r, ctx, i);
}

/* ---- follower: InstallSnapshot receiver (Figure 13) ---------------------- */

void raft_on_snapshot_req(RaftNode *r, DsimCtx *ctx, DsimNodeId from, const RaftSnapshotReq *req)
{
    RaftSnapshotResp resp = { .last_index = req->last_index };

    if (req->term > r->current_term)
        raft_become_follower(r, ctx, req->term);
    resp.term = r->current_term;
    /* "1. Reply immediately if term < currentTerm" */
    if (req->term < r->current_term) {
        resp.last_index = 0;
        dsim_send(ctx, from, RAFT_MSG_SNAPSHOT_RESP, &resp, sizeof resp);
        return;
    }
    if (r->role == RAFT_LEADER) {
        dsim_log(ctx, "InstallSnapshot from %s, also leader of term %" PRIu64 "; ignored",
                 dsim_name(ctx, from), r->current_term);
        return; /* only a bug variant gets here, as in raft_on_append_req() */
    }
    if (r->role != RAFT_FOLLOWER)
        raft_become_follower(r, ctx, r->current_term);
    raft_heard_from_leader(r, ctx, from);

    /* A snapshot of what this node has already committed (a late or repeated message)
     * changes nothing: its committed entries are the leader's (Log Matching). */
    if (req->last_index <= r->commit_index) {
        dsim_send(ctx, from, RAFT_MSG_SNAPSHOT_RESP, &resp, sizeof resp);
        return;
    }

    /* "5. Save snapshot file ... 6. If existing log entry has same index and term as
     * snapshot's last included entry, retain log entries following it and reply. 7. Discard
     * the entire log. 8. Reset state machine using snapshot contents". The entries it
     * covers are committed, so the state machine jumps to them: commit and apply too. */
    g_autoptr(GBytes) bytes = g_bytes_new(req->data, req->size);
    bool ok = kv_store_restore(r->kv, bytes);
    g_assert(ok && kv_store_applied(r->kv) == req->last_index);
    g_clear_pointer(&r->snapshot, g_bytes_unref);
    r->snapshot = g_steal_pointer(&bytes);
    r->snap_config = req->config;
    bool kept = raft_log_compact(r, req->last_index, req->last_term);
    r->commit_index = r->last_applied = req->last_index;
    raft_log_save_snapshot(r, ctx);
    dsim_sync(ctx); /* durable before the answer leaves */
    dsim_log(ctx, "installed snapshot up to %" PRIu64 "^%" PRIu64 " from %s, %s", req->last_index,
             req->last_term, dsim_name(ctx, from),
             kept ? "kept the log after it" : "discarded the log");
    dsim_metric(ctx, "snapshot_installed", (double) req->last_index);
    dsim_send(ctx, from, RAFT_MSG_SNAPSHOT_RESP, &resp, sizeof resp);
}
