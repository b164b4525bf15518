/* raft_replication.c - log replication (§5.3), commitment (§5.4.2) and applying committed
 * entries to the KV store: Figure 2's "AppendEntries RPC" and the leader's rules.
 *
 * Flow control, which the paper leaves open, follows etcd's raft: the leader keeps each
 * follower either *probing* (next_index is a guess; one AppendEntries at a time, resent at
 * each heartbeat, next_index moves only when an answer comes back) or *replicating*
 * (next_index is past everything sent, so new entries go out at once and several
 * AppendEntries may be in flight: pipelining). A follower starts out probed at each
 * election, turns replicating at its first success, and goes back to probing at a
 * rejection, with next_index moved back by whole terms (the §5.3 optimization). A lost
 * AppendEntries is noticed at the next heartbeat, whose prevLogIndex the follower lacks.
 */
#include "algorithms/raft/raft_internal.h"

#include <string.h>

/* ---- leader: sending ----------------------------------------------------- */

void raft_send_append(RaftNode *r, DsimCtx *ctx, unsigned i)
{
    const RaftConfig *cfg = dsim_config(ctx);
    RaftPeer *p = &r->peers[i];
    uint64_t last = raft_log_last_index(r);

    g_assert(i != r->self && p->next_index >= 1 && p->next_index <= last + 1);
    if (p->next_index <= r->snap_index) {
        /* §7: the entries it needs were compacted */
        raft_send_snapshot(r, ctx, i);
        return;
    }
    uint64_t prev = p->next_index - 1;
    uint64_t n = MIN(last - prev, (uint64_t) cfg->max_batch);
    RaftAppendReq *req = (RaftAppendReq *) (void *) r->send_buf;
    *req = (RaftAppendReq) {
        .term = r->current_term,
        .prev_index = prev,
        .prev_term = raft_log_term_at(r, prev),
        .leader_commit = r->commit_index,
        .n_entries = (uint32_t) n,
    };
    /* Lease reads: the send time, so that the answer tells which send it acknowledges.
     * Rounded down (an earlier time is the safe side); 0 without lease reads, so that runs
     * without them send the same bytes as before. */
    if (cfg->lease_reads)
        req->lease_stamp = (uint32_t) MIN((dsim_now(ctx) - r->lease_epoch) / 1000,
                                          (DsimTime) UINT32_MAX);
    if (n > 0)
        memcpy(req->entries, raft_log_entry(r, prev + 1), n * sizeof(RaftEntry));
    dsim_send(ctx, r->first + i, RAFT_MSG_APPEND_REQ, req,
              sizeof *req + n * sizeof(RaftEntry));
    if (!p->probing)
        p->next_index = prev + n + 1;
}

/* Figure 2, Leaders: "If last log index >= nextIndex for a follower: send AppendEntries RPC
 * with log entries starting at nextIndex". */
void raft_broadcast_append(RaftNode *r, DsimCtx *ctx, bool heartbeat)
{
    uint64_t last = raft_log_last_index(r);

    for (unsigned i = 0; i < r->n; i++) {
        const RaftPeer *p = &r->peers[i];
        /* Thesis §4.1: the members of the latest configuration; and a server outside it
         * until it holds that configuration's entry, so that a removed server learns it
         * was removed (and stays passive) rather than time out and stand for election. */
        if (i == r->self || (!raft_in_config(r, i) && p->match_index >= r->config_index))
            continue;
        if (heartbeat || (!p->probing && p->next_index <= last))
            raft_send_append(r, ctx, i);
    }
}

/* ---- follower: AppendEntries receiver ------------------------------------ */

static void reply(DsimCtx *ctx, DsimNodeId to, const RaftAppendResp *resp)
{
    dsim_send(ctx, to, RAFT_MSG_APPEND_RESP, resp, sizeof *resp);
}

void raft_on_append_req(RaftNode *r, DsimCtx *ctx, DsimNodeId from, const RaftAppendReq *req)
{
    const RaftConfig *cfg = dsim_config(ctx);
    RaftAppendResp resp = { .index = req->prev_index, .lease_stamp = req->lease_stamp };

    /* Figure 2, All Servers: "If RPC request or response contains term T > currentTerm:
     * set currentTerm = T, convert to follower (§5.1)". */
    if (req->term > r->current_term)
        raft_become_follower(r, ctx, req->term);
    resp.term = r->current_term;

    /* "1. Reply false if term < currentTerm (§5.1)": the old leader learns the new term. */
    if (req->term < r->current_term) {
        reply(ctx, from, &resp);
        return;
    }
    if (r->role == RAFT_LEADER) {
        /* Another leader in this term: only a bug variant gets here (election safety
         * reports it). Ignoring the other leader keeps this node's log append-only. */
        dsim_log(ctx, "AppendEntries from %s, also leader of term %" PRIu64 "; ignored",
                 dsim_name(ctx, from), r->current_term);
        return;
    }
    /* Candidates (§5.2): "If AppendEntries RPC received from new leader: convert to
     * follower". Followers: the leader is alive, so the election timeout starts over. */
    if (r->role != RAFT_FOLLOWER)
        raft_become_follower(r, ctx, r->current_term);
    raft_heard_from_leader(r, ctx, from);

    /* "2. Reply false if log doesn't contain an entry at prevLogIndex whose term matches
     * prevLogTerm (§5.3)". With the §5.3 optimization: "when rejecting an AppendEntries
     * request, the follower can include the term of the conflicting entry and the first
     * index it stores for that term"; a log too short says where it ends instead. */
    uint64_t last = raft_log_last_index(r);
    if (req->prev_index > last) {
        resp.conflict_index = last + 1;
        reply(ctx, from, &resp);
        return;
    }
    /* An entry inside this node's snapshot is committed, and so is in every later leader's
     * log (Leader Completeness): prevLogIndex below snap_index matches without a look. */
    if (req->prev_index >= r->snap_index
        && raft_log_term_at(r, req->prev_index) != req->prev_term) {
        resp.conflict_term = raft_log_term_at(r, req->prev_index);
        resp.conflict_index = raft_log_first_of_term(r, req->prev_index);
        reply(ctx, from, &resp);
        return;
    }

    bool wrote = false;
    /* bug truncate-on-append: the log is cut after prevLogIndex even where the entries
     * match, so a late, duplicated or reordered AppendEntries removes entries this node
     * already acknowledged, and that the leader may have counted to commit them. */
    if (cfg->bug == RAFT_BUG_TRUNCATE_ON_APPEND && last > MAX(req->prev_index, r->snap_index)) {
        raft_log_truncate(r, ctx, MAX(req->prev_index, r->snap_index));
        wrote = true;
    }
    for (uint32_t k = 0; k < req->n_entries; k++) {
        const RaftEntry *e = &req->entries[k];
        uint64_t index = req->prev_index + 1 + k;
        if (index <= r->snap_index)
            continue; /* in the snapshot: committed, the same entry */
        if (index <= raft_log_last_index(r)) {
            if (raft_log_term_at(r, index) == e->term)
                continue; /* already there: a repeat or a reordered copy */
            /* "3. If an existing entry conflicts with a new one (same index but different
             * terms), delete the existing entry and all that follow it (§5.3)" */
            raft_log_truncate(r, ctx, index - 1);
        }
        /* "4. Append any new entries not already in the log" */
        raft_log_append(r, ctx, e);
        wrote = true;
    }
    if (wrote)
        dsim_sync(ctx); /* durable before the acknowledgement leaves */

    /* "5. If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last
     * new entry)". The index of the last new entry, not the end of the log: entries past
     * it were not checked against the leader's log by this request. A late request can
     * carry an older leaderCommit than what this node knows: commitIndex never goes back. */
    uint64_t last_new = req->prev_index + req->n_entries;
    if (req->leader_commit > r->commit_index && last_new > r->commit_index)
        r->commit_index = MIN(req->leader_commit, last_new);
    raft_apply(r, ctx);

    resp.success = 1;
    resp.index = last_new;
    reply(ctx, from, &resp);
}

/* ---- leader: answers ----------------------------------------------------- */

void raft_on_append_resp(RaftNode *r, DsimCtx *ctx, DsimNodeId from, const RaftAppendResp *resp)
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
    /* Any answer of this term, success or not, shows the member had the request then, and
     * so (lease reads) will not vote for another for an election timeout minimum. */
    DsimTime sent = r->lease_epoch + (DsimTime) resp->lease_stamp * 1000;
    if (sent > p->acked_sent_at)
        p->acked_sent_at = sent;
    if (resp->success) {
        /* Figure 2, Leaders: "If successful: update nextIndex and matchIndex for follower
         * (§5.3)". Answers may come out of order: both only grow. */
        if (resp->index > p->match_index)
            p->match_index = resp->index;
        if (p->next_index <= p->match_index)
            p->next_index = p->match_index + 1;
        p->probing = false;
        raft_advance_commit(r, ctx);
        if (r->role == RAFT_LEADER && p->next_index <= raft_log_last_index(r))
            raft_send_append(r, ctx, i);
        return;
    }

    /* "If AppendEntries fails because of log inconsistency: decrement nextIndex and retry
     * (§5.3)", by whole terms: "the leader can decrement nextIndex to bypass all of the
     * conflicting entries in that term". If the leader has entries of the follower's
     * conflicting term, the logs may agree up to the last of them; otherwise go back to the
     * first index the follower has of that term. Only answers to the current probe (or,
     * when replicating, any fresh rejection) move next_index, so that a burst of pipelined
     * rejections does not send the same entries once per rejection. */
    if (resp->index <= p->match_index)
        return; /* the follower is known to match past this point: a stale answer */
    if (p->probing && resp->index + 1 != p->next_index)
        return;
    uint64_t next = resp->conflict_index;
    if (resp->conflict_term != 0) {
        uint64_t k = raft_log_last_of_term(r, resp->conflict_term);
        if (k != 0)
            next = k + 1;
    }
    /* prevLogIndex itself did not match, so next_index must go below it; and never at or
     * below what the follower is known to hold. */
    next = MIN(next, resp->index);
    next = MAX(next, p->match_index + 1);
    p->next_index = next;
    p->probing = true;
    raft_send_append(r, ctx, i);
}

/* ---- lease (thesis §6.4.1) ------------------------------------------------ */

/* The send times acknowledged by the members of the configuration in force (the leader's
 * own being now), in decreasing order: the quorum-th is the latest time at which a
 * majority had heard from this leader. None of them votes for another candidate until an
 * election timeout minimum after that, so no other leader exists until then (clocks
 * permitting: the margin is the allowance for drift). */
DsimTime raft_lease_until(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);
    DsimTime *m = (DsimTime *) (void *) r->sorted;
    unsigned k = 0;

    if (r->role != RAFT_LEADER || !cfg->lease_reads)
        return -1;
    for (unsigned i = 0; i < r->n; i++) {
        if (!raft_in_config(r, i))
            continue;
        DsimTime v = i == r->self ? dsim_now(ctx) : r->peers[i].acked_sent_at;
        unsigned j = k++;
        while (j > 0 && m[j - 1] < v) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = v;
    }
    if (k < raft_quorum(r) || m[raft_quorum(r) - 1] < 0)
        return -1;
    return m[raft_quorum(r) - 1] + cfg->election_timeout.lo - cfg->lease_margin;
}

/* ---- commit and apply ---------------------------------------------------- */

void raft_advance_commit(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);
    uint64_t *m = r->sorted;
    unsigned k = 0;

    if (r->role != RAFT_LEADER)
        return;
    /* The match indexes, the leader's own being its (synced) last index, sorted in
     * decreasing order: m[quorum - 1] is then the highest index stored on a majority.
     * Insertion sort: n is a handful. Only the members of the configuration in force count
     * (thesis §4.1), the leader included only if it is one: a leader being removed manages
     * the group without counting itself. */
    for (unsigned i = 0; i < r->n; i++) {
        if (!raft_in_config(r, i))
            continue;
        uint64_t v = i == r->self ? raft_log_last_index(r) : r->peers[i].match_index;
        unsigned j = k++;
        while (j > 0 && m[j - 1] < v) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = v;
    }
    uint64_t n = m[raft_quorum(r) - 1];
    if (n <= r->commit_index)
        return;

    /* Figure 2, Leaders: "If there exists an N such that N > commitIndex, a majority of
     * matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N (§5.3,
     * §5.4)". §5.4.2: "Raft never commits log entries from previous terms by counting
     * replicas. Only log entries from the leader's current term are committed by counting
     * replicas; once an entry from the current term has been committed in this way, then
     * all prior entries are committed indirectly because of the Log Matching Property."
     * Terms grow along the log, so if log[N] is of an older term, no smaller N qualifies. */
    bool current = raft_log_term_at(r, n) == r->current_term;
    /* bug commit-previous-term: an entry of an earlier term is committed as soon as a
     * majority stores it: the situation of Figure 8, where a later leader that never had
     * the entry overwrites it. */
    if (cfg->bug == RAFT_BUG_COMMIT_PREVIOUS_TERM)
        current = true;
    if (!current)
        return;
    r->commit_index = n;
    raft_apply(r, ctx);
    /* Thesis §4.2.2: a leader removed from the configuration steps down once the entry
     * that removes it is committed; it then stays passive (outside its configuration). */
    if (!raft_in_config(r, r->self) && r->commit_index >= r->config_index) {
        dsim_log(ctx, "removed from the configuration at index %" PRIu64 ", committed: step "
                 "down", r->config_index);
        raft_become_follower(r, ctx, r->current_term);
    }
}

void raft_answer(RaftNode *r, DsimCtx *ctx, uint8_t origin, uint64_t id, DsimStatus status,
                 const void *result, size_t len)
{
    if (origin == RAFT_ORIGIN_REQUEST) {
        if (status == DSIM_STATUS_REDIRECT)
            dsim_redirect(ctx, id, r->leader_id);
        else
            dsim_reply(ctx, id, status, result, len);
        return;
    }
    if (status == DSIM_STATUS_OK) {
        dsim_respond(ctx, id, DSIM_CALL_OK, result, len);
        return;
    }
    RaftCallFail f = {
        /* a leader losing its leadership does not name itself */
        .leader = r->leader_id == r->first + r->self ? DSIM_NOBODY : r->leader_id,
        .reason = status == DSIM_STATUS_FAIL ? RAFT_CALL_REJECTED
                : status == DSIM_STATUS_REDIRECT ? RAFT_CALL_NOT_LEADER : RAFT_CALL_UNKNOWN,
    };
    dsim_respond(ctx, id, DSIM_CALL_FAIL, &f, sizeof f);
}

/* The leader answers the client (or caller) whose entry @index was just applied. Pending
 * commands are in log order and all of the leader's term, so the one for @index, if any, is
 * the first not yet answered (at position *answered); raft_apply() drops the answered ones at
 * once. Commands whose entry lies below @index were never applied here: only a bug variant
 * can do that, by cutting this node's log below last_applied before it led
 * (state-machine-safety reports it); their clients are told "unknown". */
static void answer_client(RaftNode *r, DsimCtx *ctx, uint64_t index, DsimStatus status,
                          unsigned *answered)
{
    const RaftPending *p = NULL;

    for (; *answered < r->pending->len; (*answered)++) {
        p = &g_array_index(r->pending, RaftPending, *answered);
        if (p->index >= index)
            break;
        if (!p->replied)
            raft_answer(r, ctx, p->origin, p->id, DSIM_STATUS_UNKNOWN, NULL, 0);
    }
    if (*answered == r->pending->len || p->index != index)
        return; /* a no-op, or an entry of an earlier term */
    if (!p->replied)
        raft_answer(r, ctx, p->origin, p->id, status, r->result->str, r->result->len);
    dsim_metric(ctx, "commit_latency_seconds", (double) (dsim_now(ctx) - p->received_at) / 1e9);
    (*answered)++;
}

void raft_apply(RaftNode *r, DsimCtx *ctx)
{
    /* Only bug truncate-on-append can leave commit_index past the end of the log. */
    uint64_t upto = MIN(r->commit_index, raft_log_last_index(r));
    unsigned answered = 0;

    /* Figure 2, All Servers: "If commitIndex > lastApplied: increment lastApplied, apply
     * log[lastApplied] to state machine (§5.3)". */
    while (r->last_applied < upto) {
        r->last_applied++;
        const RaftEntry *e = raft_log_entry(r, r->last_applied);
        DsimStatus status;
        if (e->kind == RAFT_ENTRY_CONFIG) {
            /* The state machine sees a no-op: configurations take effect when appended. */
            KvCommand noop;
            kv_command_init(&noop, KV_OP_NOOP, 0, 0, NULL, NULL, NULL);
            status = kv_store_apply(r->kv, &noop, sizeof noop, r->result);
        } else {
            status = kv_store_apply(r->kv, e->cmd, e->len, r->result);
        }
        if (r->role == RAFT_LEADER)
            answer_client(r, ctx, r->last_applied, status, &answered);
    }
    if (answered > 0)
        g_array_remove_range(r->pending, 0, answered);
    raft_snapshot_maybe_schedule(r, ctx);
}
