/* raft_log.c - the Raft log and the durable state: Figure 2's "Persistent state on all
 * servers (Updated on stable storage before responding to RPCs)".
 *
 * In memory the log is a GArray of RaftEntry, index i at position i - 1. On disk it is one
 * key per index (RAFT_KEY_ENTRY) plus one key for the last index (RAFT_KEY_LOG_LAST), and
 * currentTerm with votedFor share RAFT_KEY_HARD_STATE. A write becomes durable only at the
 * next dsim_sync(), and a crash rolls the store back to its last sync, so writing entries
 * first and the last index after them, then syncing once, is atomic as far as a restart can
 * tell. Truncating only lowers the last index: entries above it are dead, and overwritten
 * when the log grows again.
 *
 * With log compaction (§7), a snapshot replaces the entries up to snap_index: in memory they
 * are gone (the GArray starts at snap_index + 1), on disk RAFT_KEY_SNAPSHOT holds the
 * snapshot and its lastIncludedIndex/Term, and the entry keys below it are dead (the store
 * has no delete; recovery never reads them).
 */
#include "algorithms/raft/raft_internal.h"

#include <string.h>

void raft_log_init(RaftNode *r)
{
    g_assert(r->log == NULL);
    r->log = g_array_new(FALSE, TRUE, sizeof(RaftEntry));
}

void raft_log_clear(RaftNode *r)
{
    if (r->log != NULL)
        g_array_free(r->log, TRUE);
    r->log = NULL;
    g_clear_pointer(&r->snapshot, g_bytes_unref);
}

uint64_t raft_log_last_index(const RaftNode *r)
{
    return r->log != NULL ? r->snap_index + r->log->len : 0;
}

const RaftEntry *raft_log_entry(const RaftNode *r, uint64_t index)
{
    g_assert(index > r->snap_index && index <= raft_log_last_index(r));
    return &g_array_index(r->log, RaftEntry, index - r->snap_index - 1);
}

uint64_t raft_log_term_at(const RaftNode *r, uint64_t index)
{
    if (index == r->snap_index)
        return r->snap_term; /* 0 for index 0 */
    return raft_log_entry(r, index)->term;
}

uint64_t raft_log_last_term(const RaftNode *r)
{
    return raft_log_term_at(r, raft_log_last_index(r));
}

/* §5.4.1: "Raft determines which of two logs is more up-to-date by comparing the index and
 * term of the last entries in the logs. If the logs have last entries with different terms,
 * then the log with the later term is more up-to-date. If the logs end with the same term,
 * then whichever log is longer is more up-to-date." */
bool raft_log_up_to_date(const RaftNode *r, uint64_t last_index, uint64_t last_term)
{
    uint64_t my_term = raft_log_last_term(r);

    if (last_term != my_term)
        return last_term > my_term;
    return last_index >= raft_log_last_index(r);
}

/* The number of leading entries whose term is <= @term, by binary search: terms never
 * decrease along a log (a leader appends in its own term, which is at least that of every
 * entry it has, and followers copy its log), so those entries are a prefix. Entries in the
 * snapshot are not looked at: the answer is at least snap_index. */
static uint64_t count_up_to_term(const RaftNode *r, uint64_t term)
{
    uint64_t lo = r->snap_index, hi = raft_log_last_index(r);

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        if (raft_log_term_at(r, mid) <= term)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

uint64_t raft_log_first_of_term(const RaftNode *r, uint64_t index)
{
    uint64_t term = raft_log_term_at(r, index);

    g_assert(term > 0);
    return count_up_to_term(r, term - 1) + 1;
}

uint64_t raft_log_last_of_term(const RaftNode *r, uint64_t term)
{
    uint64_t index = count_up_to_term(r, term);

    return index > 0 && raft_log_term_at(r, index) == term ? index : 0;
}

static void save_last_index(RaftNode *r, DsimCtx *ctx)
{
    uint64_t last = raft_log_last_index(r);

    dsim_persist(ctx, RAFT_KEY_LOG_LAST, &last, sizeof last);
}

void raft_log_append(RaftNode *r, DsimCtx *ctx, const RaftEntry *e)
{
    g_assert(e->len <= DSIM_CMD_MAX && e->kind <= RAFT_ENTRY_CONFIG);
    g_array_append_val(r->log, *e);
    if (e->kind == RAFT_ENTRY_CONFIG) {
        memcpy(&r->config, e->cmd, sizeof r->config);
        r->config_index = raft_log_last_index(r);
    }
    dsim_persist(ctx, RAFT_KEY_ENTRY(raft_log_last_index(r)), e, sizeof *e);
    save_last_index(r, ctx);
}

void raft_log_truncate(RaftNode *r, DsimCtx *ctx, uint64_t last)
{
    g_assert(last < raft_log_last_index(r) && last >= r->snap_index);
    g_array_set_size(r->log, (guint) (last - r->snap_index));
    r->log_epoch++;
    raft_config_refresh(r);
    save_last_index(r, ctx);
}

bool raft_log_compact(RaftNode *r, uint64_t index, uint64_t term)
{
    uint64_t last = raft_log_last_index(r);
    bool kept = index <= last && raft_log_term_at(r, index) == term;

    g_assert(index > r->snap_index);
    if (kept) {
        g_array_remove_range(r->log, 0, (guint) (index - r->snap_index));
    } else {
        g_array_set_size(r->log, 0);
        r->log_epoch++; /* entries that were not the snapshot's are gone */
    }
    r->snap_index = index;
    r->snap_term = term;
    raft_config_refresh(r);
    return kept;
}

void raft_log_save_snapshot(RaftNode *r, DsimCtx *ctx)
{
    gsize size = 0;
    const void *data = g_bytes_get_data(r->snapshot, &size);
    RaftSnapshotHeader hdr = { .last_index = r->snap_index, .last_term = r->snap_term,
                               .size = size, .config = r->snap_config };
    g_autofree uint8_t *buf = g_malloc(sizeof hdr + size);

    memcpy(buf, &hdr, sizeof hdr);
    if (size > 0)
        memcpy(buf + sizeof hdr, data, size);
    dsim_persist(ctx, RAFT_KEY_SNAPSHOT, buf, sizeof hdr + size);
    save_last_index(r, ctx);
}

void raft_log_save_hard_state(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);
    RaftHardState hs = { .current_term = r->current_term, .voted_for = r->voted_for };

    /* bug forget-vote: the vote is left out of stable storage, so a node that crashes and
     * restarts within a term may vote a second time in it (two leaders, one term). */
    if (cfg->bug == RAFT_BUG_FORGET_VOTE)
        hs.voted_for = DSIM_NOBODY;
    dsim_persist(ctx, RAFT_KEY_HARD_STATE, &hs, sizeof hs);
    dsim_sync(ctx);
}

/* The snapshot, if one was made durable: restores the state machine to it, which is also
 * as far as the node knows entries to be committed and applied. */
static void recover_snapshot(RaftNode *r, DsimCtx *ctx)
{
    RaftSnapshotHeader hdr;
    size_t len = 0;

    if (!dsim_load(ctx, RAFT_KEY_SNAPSHOT, &hdr, sizeof hdr, &len))
        return;
    g_assert(len >= sizeof hdr && len == sizeof hdr + hdr.size);
    g_autofree uint8_t *buf = g_malloc(len);
    dsim_load(ctx, RAFT_KEY_SNAPSHOT, buf, len, NULL);
    r->snapshot = g_bytes_new(buf + sizeof hdr, hdr.size);
    r->snap_index = hdr.last_index;
    r->snap_term = hdr.last_term;
    r->snap_config = hdr.config;
    bool ok = kv_store_restore(r->kv, r->snapshot);
    g_assert(ok && kv_store_applied(r->kv) == r->snap_index);
    r->commit_index = r->last_applied = r->snap_index;
}

/* Whatever was synced before the crash comes back; a store that never saw a write (a node
 * that crashed before its first sync) gives an empty log at term 0. Missing or short
 * entries between the snapshot and the last index would mean storage lost a synced write:
 * a kernel bug. */
void raft_log_recover(RaftNode *r, DsimCtx *ctx)
{
    RaftHardState hs = { .current_term = 0, .voted_for = DSIM_NOBODY };
    uint64_t last = 0;
    size_t len = 0;

    if (dsim_load(ctx, RAFT_KEY_HARD_STATE, &hs, sizeof hs, &len))
        g_assert(len == sizeof hs);
    r->current_term = hs.current_term;
    r->voted_for = hs.voted_for;
    if (dsim_load(ctx, RAFT_KEY_LOG_LAST, &last, sizeof last, &len))
        g_assert(len == sizeof last);
    raft_log_init(r);
    recover_snapshot(r, ctx);
    g_assert(last >= r->snap_index);
    g_array_set_size(r->log, (guint) (last - r->snap_index));
    for (uint64_t i = r->snap_index + 1; i <= last; i++) {
        RaftEntry *e = &g_array_index(r->log, RaftEntry, i - r->snap_index - 1);
        bool found = dsim_load(ctx, RAFT_KEY_ENTRY(i), e, sizeof *e, &len);
        g_assert(found && len == sizeof *e);
    }
    raft_config_refresh(r);
}
