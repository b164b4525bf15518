/* raft_internal.h - what the files of algorithms/raft/ share; nothing outside that folder
 * (except its tests) includes this.
 *
 * Every function takes the node and the handler's ctx; none keeps either. Functions that
 * write durable state say whether they sync: the rule of Figure 2 ("Updated on stable
 * storage before responding to RPCs") is kept by syncing before any send that depends on
 * the write.
 */
#ifndef DSIM_RAFT_INTERNAL_H
#define DSIM_RAFT_INTERNAL_H

#include "algorithms/raft/raft.h"

/* ---- raft_log.c: the log and the durable state -------------------------- */

/* Allocates an empty log, or frees it (accepts a zeroed node). */
void     raft_log_init(RaftNode *r);
void     raft_log_clear(RaftNode *r);
uint64_t raft_log_last_term(const RaftNode *r);
/* §5.4.1: is a log ending at (@last_index, @last_term) at least as up-to-date as @r's? */
bool     raft_log_up_to_date(const RaftNode *r, uint64_t last_index, uint64_t last_term);
/* The first index of the run of entries that have the term of entry @index (which must
 * exist): where a follower tells the leader to go back to (§5.3 optimization). */
uint64_t raft_log_first_of_term(const RaftNode *r, uint64_t index);
/* The last index holding an entry of @term, or 0 when there is none (leader side). */
uint64_t raft_log_last_of_term(const RaftNode *r, uint64_t term);
/* Appends @e at the end, and writes it and the new last index to storage, unsynced: the
 * caller syncs once after a batch. */
void     raft_log_append(RaftNode *r, DsimCtx *ctx, const RaftEntry *e);
/* Deletes entries @last + 1 .. end (§5.3 "delete the existing entry and all that follow
 * it"): writes the new last index, unsynced. */
void     raft_log_truncate(RaftNode *r, DsimCtx *ctx, uint64_t last);
/* §7: the snapshot now covers entries 1 .. @index, the last of them of @term. If the log
 * holds that entry (same index and term), the entries after it are kept ("retain log
 * entries following it"); otherwise the whole log is discarded (log_epoch moves). In
 * memory only; returns whether entries were kept. */
bool     raft_log_compact(RaftNode *r, uint64_t index, uint64_t term);
/* Writes r->snapshot with snap_index/snap_term, and the last index, unsynced. */
void     raft_log_save_snapshot(RaftNode *r, DsimCtx *ctx);
/* Writes currentTerm and votedFor, and syncs (with bug forget-vote, the vote is not
 * written: it is lost by a crash). */
void     raft_log_save_hard_state(RaftNode *r, DsimCtx *ctx);
/* After a restart: term, vote and log as they were last made durable. */
void     raft_log_recover(RaftNode *r, DsimCtx *ctx);

/* ---- raft.c: roles ------------------------------------------------------ */

/* Figure 2, All Servers: "If RPC request or response contains term T > currentTerm: set
 * currentTerm = T, convert to follower". Also the way out of candidacy and leadership in
 * the same term (@term == current_term). Saves the hard state when the term changes. */
void     raft_become_follower(RaftNode *r, DsimCtx *ctx, uint64_t term);
/* An AppendEntries of the current term came from @leader: remember it, and put off the
 * election timeout (Figure 2, Followers). */
void     raft_heard_from_leader(RaftNode *r, DsimCtx *ctx, DsimNodeId leader);
unsigned raft_quorum(const RaftNode *r);
/* Is member @i in the configuration in force (thesis §4.1)? */
bool     raft_in_config(const RaftNode *r, unsigned i);
/* The configuration in force after the log changed: the latest configuration entry in the
 * log, else the snapshot's (raft_log.c calls it after every append, cut or compaction). */
void     raft_config_refresh(RaftNode *r);
/* The configuration in force at @index (snap_index <= @index <= last index). */
RaftConfigBody raft_config_at(const RaftNode *r, uint64_t index);
unsigned raft_member_index(const RaftNode *r, DsimNodeId id);

/* ---- raft_replication.c: AppendEntries, commit, apply ------------------- */

/* Leader: sends member @i an AppendEntries from its next_index (at most max_batch
 * entries). While replicating (not probing), next_index moves past what was sent. */
void     raft_send_append(RaftNode *r, DsimCtx *ctx, unsigned i);
/* Leader: @heartbeat sends to every member; otherwise (new entries) to those replicating
 * and not yet sent everything. */
void     raft_broadcast_append(RaftNode *r, DsimCtx *ctx, bool heartbeat);
void     raft_on_append_req(RaftNode *r, DsimCtx *ctx, DsimNodeId from, const RaftAppendReq *req);
void     raft_on_append_resp(RaftNode *r, DsimCtx *ctx, DsimNodeId from,
                             const RaftAppendResp *resp);
/* Leader with lease_reads: the time its lease ends (its clock), or -1 when it holds none
 * (thesis §6.4.1). */
DsimTime raft_lease_until(RaftNode *r, DsimCtx *ctx);
/* Leader: Figure 2's commit rule over match indexes, then apply. */
void     raft_advance_commit(RaftNode *r, DsimCtx *ctx);
/* Answers a command of @origin (RaftOrigin) named @id: a client with dsim_reply, a caller
 * with dsim_respond (OK with @result, else FAIL with a RaftCallFail whose reason follows
 * @status: FAIL rejected, UNKNOWN unknown, REDIRECT not the leader). */
void     raft_answer(RaftNode *r, DsimCtx *ctx, uint8_t origin, uint64_t id, DsimStatus status,
                     const void *result, size_t len);
/* Applies entries last_applied + 1 .. commit_index; the leader answers its clients. */
void     raft_apply(RaftNode *r, DsimCtx *ctx);

/* ---- raft_snapshot.c: log compaction (§7) -------------------------------- */

/* After applying: with snapshot_every, once that many entries were applied since the last
 * snapshot, sets a RAFT_TIMER_SNAPSHOT of delay 0 (the snapshot is taken in its own event,
 * as a server would in the background). */
void     raft_snapshot_maybe_schedule(RaftNode *r, DsimCtx *ctx);
/* The timer: snapshots the KV store at last_applied, discards the log up to it, and makes
 * the snapshot durable (synced). */
void     raft_snapshot_take(RaftNode *r, DsimCtx *ctx);
/* Leader: sends member @i an InstallSnapshot with its latest snapshot (the follower needs
 * entries that were compacted). The follower is probed until it answers. */
void     raft_send_snapshot(RaftNode *r, DsimCtx *ctx, unsigned i);
void     raft_on_snapshot_req(RaftNode *r, DsimCtx *ctx, DsimNodeId from,
                              const RaftSnapshotReq *req);
void     raft_on_snapshot_resp(RaftNode *r, DsimCtx *ctx, DsimNodeId from,
                               const RaftSnapshotResp *resp);

/* ---- raft_invariants.c -------------------------------------------------- */

extern const DsimInvariant raft_invariants[];

#endif /* DSIM_RAFT_INTERNAL_H */
