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
}

uint64_t raft_log_last_index(const RaftNode *r)
{
    return r->log != NULL ? r->log->len : 0;
}

const RaftEntry *raft_log_entry(const RaftNode *r, uint64_t index)
{
    g_assert(index >= 1 && index <= raft_log_last_index(r));
    return &g_array_index(r->log, RaftEntry, index - 1);
}

uint64_t raft_log_term_at(const RaftNode *r, uint64_t index)
{
    return index == 0 ? 0 : raft_log_entry(r, index)->term;
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
 * entry it has, and followers copy its log), so those entries are a prefix. */
static uint64_t count_up_to_term(const RaftNode *r, uint64_t term)
{
    uint64_t lo = 0, hi = raft_log_last_index(r);

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
    g_assert(e->len <= DSIM_CMD_MAX && e->pad == 0);
    g_array_append_val(r->log, *e);
    dsim_persist(ctx, RAFT_KEY_ENTRY(r->log->len), e, sizeof *e);
    save_last_index(r, ctx);
}

void raft_log_truncate(RaftNode *r, DsimCtx *ctx, uint64_t last)
{
    g_assert(last < raft_log_last_index(r));
    g_array_set_size(r->log, (guint) last);
    r->log_epoch++;
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

/* Whatever was synced before the crash comes back; a store that never saw a write (a node
 * that crashed before its first sync) gives an empty log at term 0. Missing or short
 * entries below the last index would mean storage lost a synced write: a kernel bug. */
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
    g_array_set_size(r->log, (guint) last);
    for (uint64_t i = 1; i <= last; i++) {
        RaftEntry *e = &g_array_index(r->log, RaftEntry, i - 1);
        bool found = dsim_load(ctx, RAFT_KEY_ENTRY(i), e, sizeof *e, &len);
        g_assert(found && len == sizeof *e);
    }
}
