/* raft.c - Raft's roles and elections, its timers, client requests, and the ops table.
 *
 * Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm (Extended
 * Version)", 2014: this file is Figure 2's "Rules for Servers" and "RequestVote RPC", plus
 * §5.2 (leader election), §8 (client interaction) and two refinements from Ongaro's thesis
 * ("Consensus: Bridging Theory and Practice", 2014): pre-vote (§9.6) and check-quorum
 * (§6.2). Log replication is in raft_replication.c, the durable log in raft_log.c.
 *
 * The one idea needed to read it: a node is always in exactly one role, and every role
 * change goes through raft_become_follower(), start_prevote(), start_election() or
 * become_leader(), which set up that role's timers and volatile state. There is always
 * exactly one election timer pending (election_timer); its deadline moves on each heartbeat
 * without touching the queue, and the timer re-arms itself for the rest when it fires
 * early, so a busy follower costs one timer event per election timeout, not one per
 * heartbeat.
 */
#include "algorithms/raft/raft_internal.h"

#include <stdlib.h>
#include <string.h>

#include "sim/time.h"

/* ---- parameters ---------------------------------------------------------- */

#define RAFT_BUG_CHOICES \
    "none|no-log-up-to-date-check|commit-previous-term|forget-vote|truncate-on-append|" \
    "ack-before-commit"

static const DsimParam raft_params[] = {
    { .name = "election_timeout", .type = DSIM_PARAM_TIME_RANGE, .def = "150ms..300ms",
      .help = "randomized election timeout, drawn uniformly at each role change (§5.2), "
              "and at each reset with redraw_timeout",
      .offset = offsetof(RaftConfig, election_timeout) },
    { .name = "heartbeat", .type = DSIM_PARAM_TIME, .def = "50ms",
      .help = "leader's period of AppendEntries to idle followers (§5.2)",
      .offset = offsetof(RaftConfig, heartbeat) },
    { .name = "max_batch", .type = DSIM_PARAM_INT, .def = "64",
      .help = "most log entries in one AppendEntries",
      .offset = offsetof(RaftConfig, max_batch), .min = 1, .max = 4096 },
    { .name = "snapshot_every", .type = DSIM_PARAM_INT, .def = "0",
      .help = "snapshot the state machine and discard the log up to it every this many "
              "applied entries; 0 = never (§7)",
      .offset = offsetof(RaftConfig, snapshot_every), .min = 0, .max = INT64_MAX },
    { .name = "prevote", .type = DSIM_PARAM_BOOL, .def = "false",
      .help = "ask for pre-votes before bumping the term (thesis §9.6)",
      .offset = offsetof(RaftConfig, prevote) },
    { .name = "redraw_timeout", .type = DSIM_PARAM_BOOL, .def = "false",
      .help = "draw a new election timeout at every reset (heartbeat, vote granted), as "
              "LogCabin does; otherwise once per role change, as etcd does",
      .offset = offsetof(RaftConfig, redraw_timeout) },
    { .name = "check_quorum", .type = DSIM_PARAM_BOOL, .def = "false",
      .help = "a leader steps down when a majority was silent for an election timeout "
              "(thesis §6.2)",
      .offset = offsetof(RaftConfig, check_quorum) },
    { .name = "lease_reads", .type = DSIM_PARAM_BOOL, .def = "false",
      .help = "a leader holding a lease answers GETs from its store without the log "
              "(thesis §6.4.1; assumes bounded clock drift)",
      .offset = offsetof(RaftConfig, lease_reads) },
    { .name = "lease_margin", .type = DSIM_PARAM_TIME, .def = "10ms",
      .help = "lease_reads: the lease ends this long before the election timeout minimum "
              "after a majority's acknowledgement (clock drift allowance)",
      .offset = offsetof(RaftConfig, lease_margin) },
    { .name = "members", .type = DSIM_PARAM_STRING, .def = "all",
      .help = "initial configuration: member numbers 1..n separated by commas, or \"all\"; "
              "the others stay passive until added (thesis §4.1)",
      .offset = offsetof(RaftConfig, members) },
    { .name = "reconfigure", .type = DSIM_PARAM_STRING, .def = "",
      .help = "membership changes, e.g. \"5s:+4, 10s:-2\": from 5 s the leader adds member 4, "
              "from 10 s removes member 2, one at a time (thesis §4.1)",
      .offset = offsetof(RaftConfig, reconfigure) },
    { .name = "bug", .type = DSIM_PARAM_CHOICE, .def = "none",
      .help = "inject a known bug (see docs/raft.md)",
      .offset = offsetof(RaftConfig, bug), .choices = RAFT_BUG_CHOICES },
    { NULL },
};

/* ---- helpers: members, quorum, timers ------------------------------------ */

/* ---- membership (thesis §4.1, single-server changes) ---------------------- */

bool raft_in_config(const RaftNode *r, unsigned i)
{
    return i >= 64 || (r->config.members >> i & 1) != 0;
}

static unsigned count_members(uint64_t members, unsigned n)
{
    unsigned k = 0;

    for (unsigned i = 0; i < n; i++)
        k += i >= 64 || (members >> i & 1) != 0;
    return k;
}

/* A majority of the configuration in force (§4.1: "the latest configuration in its log,
 * regardless of whether the entry is committed"). */
unsigned raft_quorum(const RaftNode *r)
{
    return count_members(r->config.members, r->n) / 2 + 1;
}

RaftConfigBody raft_config_at(const RaftNode *r, uint64_t index)
{
    RaftConfigBody c = r->snap_config;

    for (uint64_t i = index; i > r->snap_index; i--) {
        const RaftEntry *e = raft_log_entry(r, i);
        if (e->kind == RAFT_ENTRY_CONFIG) {
            memcpy(&c, e->cmd, sizeof c);
            break;
        }
    }
    return c;
}

void raft_config_refresh(RaftNode *r)
{
    r->config = r->snap_config;
    r->config_index = 0;
    for (uint64_t i = raft_log_last_index(r); i > r->snap_index; i--) {
        const RaftEntry *e = raft_log_entry(r, i);
        if (e->kind == RAFT_ENTRY_CONFIG) {
            memcpy(&r->config, e->cmd, sizeof r->config);
            r->config_index = i;
            return;
        }
    }
}

/* "all", "" or member numbers 1..n (n <= 64) separated by commas. */
static bool parse_members(const char *text, unsigned n, uint64_t *out)
{
    g_auto(GStrv) parts = NULL;

    *out = UINT64_MAX;
    if (text[0] == '\0' || strcmp(text, "all") == 0)
        return true;
    if (n > 64)
        return false;
    *out = 0;
    parts = g_strsplit(text, ",", -1);
    for (char **p = parts; *p != NULL; p++) {
        char *end = NULL;
        const char *t = g_strstrip(*p);
        long m = strtol(t, &end, 10);
        if (end == t || *end != '\0' || m < 1 || m > (long) n)
            return false;
        *out |= UINT64_C(1) << (m - 1);
    }
    return *out != 0;
}

/* "5s:+4, 10s:-2": times in increasing order, members 1..min(n, 64). */
static bool parse_schedule(const char *text, unsigned n, RaftChange **out, unsigned *count)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    GArray *a = g_array_new(FALSE, TRUE, sizeof(RaftChange));
    bool ok = true;

    for (char **p = parts; ok && *p != NULL; p++) {
        char *t = g_strstrip(*p);
        char *colon = strchr(t, ':');
        RaftChange c = { 0 };
        char *end = NULL;
        if (*t == '\0' && p[1] == NULL && p == parts)
            break; /* "" */
        if (colon == NULL || (colon[1] != '+' && colon[1] != '-')) {
            ok = false;
            break;
        }
        *colon = '\0';
        long m = strtol(colon + 2, &end, 10);
        c.add = colon[1] == '+';
        ok = dsim_time_parse(g_strstrip(t), &c.at) && end != colon + 2 && *end == '\0'
            && m >= 1 && m <= (long) MIN(n, 64)
            && (a->len == 0 || g_array_index(a, RaftChange, a->len - 1).at <= c.at);
        c.member = (unsigned) (m - 1);
        if (ok)
            g_array_append_val(a, c);
    }
    *count = ok ? a->len : 0;
    *out = (RaftChange *) (void *) g_array_free(a, !ok);
    if (!ok)
        *out = NULL;
    return ok;
}

/* Thesis §4.1: "the leader appends the new configuration to its log and replicates that
 * entry"; "a leader does not start a new configuration change until the previous one is
 * committed", and (the fix of §4.1's bug note) not before it committed an entry of its own
 * term. The due changes of the schedule are applied at heartbeat ticks, one per entry. */
static void maybe_reconfigure(RaftNode *r, DsimCtx *ctx)
{
    uint64_t step = r->config.step;

    if (step >= r->n_changes || r->changes[step].at > dsim_now(ctx)
        || r->config_index > r->commit_index
        || raft_log_term_at(r, r->commit_index) != r->current_term)
        return;
    const RaftChange *c = &r->changes[step];
    RaftConfigBody body = { .members = r->config.members, .step = step + 1 };
    uint64_t bit = UINT64_C(1) << c->member;
    if (c->add)
        body.members |= bit;
    else
        body.members &= ~bit;
    if (count_members(body.members, r->n) == 0)
        body.members = r->config.members; /* never an empty configuration: skip the step */
    RaftEntry e = { .term = r->current_term, .len = sizeof body, .kind = RAFT_ENTRY_CONFIG };
    memcpy(e.cmd, &body, sizeof body);
    raft_log_append(r, ctx, &e);
    dsim_sync(ctx);
    dsim_log(ctx, "configuration change %u: %s member %u at index %" PRIu64, (unsigned) step + 1,
             c->add ? "add" : "remove", c->member + 1, raft_log_last_index(r));
    dsim_metric(ctx, "config_change", (double) (step + 1));
}

/* Members of a group have consecutive node ids (sim/scenario.h: "groups in file order,
 * members in index order"), so member index and id differ by r->first. */
unsigned raft_member_index(const RaftNode *r, DsimNodeId id)
{
    unsigned i = id - r->first;

    g_assert(i < r->n);
    return i;
}

static const char *role_name(RaftRole role)
{
    switch (role) {
    case RAFT_FOLLOWER: return "follower";
    case RAFT_PRECANDIDATE: return "precandidate";
    case RAFT_CANDIDATE: return "candidate";
    case RAFT_LEADER: return "leader";
    }
    g_assert_not_reached();
}

static void arm_election_timer(RaftNode *r, DsimCtx *ctx, DsimTime due)
{
    if (r->election_timer != 0)
        dsim_timer_cancel(ctx, r->election_timer);
    r->election_timer = dsim_timer_set(ctx, due - dsim_now(ctx), RAFT_TIMER_ELECTION, 0);
    r->election_timer_due = due;
}

/* §5.2: "election timeouts are chosen randomly from a fixed interval (e.g., 150-300ms)".
 * Drawn at every role change; within one role each reset restarts the same duration, so the
 * deadline only moves later and the pending timer needs moving only after a new draw, when
 * it would fire too late. */
static void new_election_timeout(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);

    r->election_timeout = dsim_rand_time(ctx, cfg->election_timeout.lo, cfg->election_timeout.hi);
    r->election_deadline = dsim_now(ctx) + r->election_timeout;
    if (r->election_timer == 0 || r->election_timer_due > r->election_deadline)
        arm_election_timer(r, ctx, r->election_deadline);
}

/* Figure 2, Followers: the timeout starts over at each AppendEntries from the leader and
 * each vote granted. By default with the duration of this role's draw (etcd's way: the
 * deadline only moves later, the pending timer stays). With redraw_timeout, a new duration
 * is drawn each time (LogCabin's way, the system of the paper's Figure 16): no follower
 * keeps a long draw for a whole term, and the pending timer is moved earlier when the new
 * deadline comes before it. */
static void reset_election_deadline(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);

    if (cfg->redraw_timeout) {
        new_election_timeout(r, ctx);
        return;
    }
    r->election_deadline = dsim_now(ctx) + r->election_timeout;
}

/* ---- role changes -------------------------------------------------------- */

/* §8: a leader that loses leadership cannot know whether its uncommitted entries will be
 * committed by the next leader, so its waiting clients get "outcome unknown"; they retry,
 * and the KV store's sessions make a retried command take effect at most once. */
static void fail_pending(RaftNode *r, DsimCtx *ctx)
{
    for (unsigned k = 0; k < r->pending->len; k++) {
        const RaftPending *p = &g_array_index(r->pending, RaftPending, k);
        if (!p->replied)
            raft_answer(r, ctx, p->origin, p->id, DSIM_STATUS_UNKNOWN, NULL, 0);
    }
    g_array_set_size(r->pending, 0);
}

void raft_become_follower(RaftNode *r, DsimCtx *ctx, uint64_t term)
{
    RaftRole was = r->role;

    g_assert(term >= r->current_term);
    if (term > r->current_term) {
        r->current_term = term;
        r->voted_for = DSIM_NOBODY;
        r->leader_id = DSIM_NOBODY;
        raft_log_save_hard_state(r, ctx); /* durable before any answer in this term */
    }
    if (was == RAFT_FOLLOWER)
        return; /* a follower's election timer keeps running (Figure 2, Followers) */
    if (was == RAFT_LEADER) {
        fail_pending(r, ctx);
        r->leader_id = DSIM_NOBODY;
    }
    r->role = RAFT_FOLLOWER;
    dsim_log(ctx, "%s -> follower in term %" PRIu64, role_name(was), r->current_term);
    new_election_timeout(r, ctx);
}

void raft_heard_from_leader(RaftNode *r, DsimCtx *ctx, DsimNodeId leader)
{
    r->leader_id = leader;
    r->last_leader_contact = dsim_now(ctx);
    reset_election_deadline(r, ctx);
}

static void clear_votes(RaftNode *r)
{
    for (unsigned i = 0; i < r->n; i++)
        r->peers[i].vote_granted = false;
    r->peers[r->self].vote_granted = true;
    r->votes = raft_in_config(r, r->self) ? 1 : 0;
}

static void send_vote_requests(RaftNode *r, DsimCtx *ctx, uint16_t type, uint64_t term)
{
    RaftVoteReq req = {
        .term = term,
        .last_index = raft_log_last_index(r),
        .last_term = raft_log_last_term(r),
    };

    for (unsigned i = 0; i < r->n; i++) {
        if (i != r->self && raft_in_config(r, i))
            dsim_send(ctx, r->first + i, type, &req, sizeof req);
    }
}

/* Figure 2, Leaders: "Upon election: send initial empty AppendEntries RPCs (heartbeat) to
 * each server; repeat during idle periods to prevent election timeouts (§5.2)". And §8:
 * "Raft handles this by having each leader commit a blank no-op entry into the log at the
 * start of its term": without it, entries of earlier terms could wait for a client command
 * to be committed (§5.4.2). The no-op rides on the first AppendEntries. Every follower
 * starts out probed (nextIndex = "leader last log index + 1", Figure 2). */
static void become_leader(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);
    uint64_t last = raft_log_last_index(r);
    RaftEntry noop = { .term = r->current_term, .len = sizeof(KvCommand) };
    KvCommand cmd;

    r->role = RAFT_LEADER;
    r->leader_id = r->first + r->self;
    for (unsigned i = 0; i < r->n; i++)
        r->peers[i] = (RaftPeer) { .next_index = last + 1, .probing = true,
                                   .acked_sent_at = -1 };
    r->lease_epoch = dsim_now(ctx);
    g_assert(r->pending->len == 0);
    dsim_log(ctx, "leader for term %" PRIu64 " with %u votes", r->current_term, r->votes);
    dsim_metric(ctx, "leader_elected", (double) r->current_term);

    kv_command_init(&cmd, KV_OP_NOOP, 0, 0, NULL, NULL, NULL);
    memcpy(noop.cmd, &cmd, sizeof cmd);
    raft_log_append(r, ctx, &noop);
    dsim_sync(ctx);
    raft_broadcast_append(r, ctx, true);
    dsim_timer_set(ctx, cfg->heartbeat, RAFT_TIMER_HEARTBEAT, r->current_term);
    if (cfg->check_quorum) {
        r->election_deadline = dsim_now(ctx) + r->election_timeout;
        arm_election_timer(r, ctx, r->election_deadline);
    }
    raft_advance_commit(r, ctx); /* a group of one commits alone */
}

/* Figure 2, Candidates: "On conversion to candidate, start election: Increment currentTerm;
 * Vote for self; Reset election timer; Send RequestVote RPCs to all other servers". The new
 * term and the self-vote are durable before the requests leave. */
static void start_election(RaftNode *r, DsimCtx *ctx)
{
    r->role = RAFT_CANDIDATE;
    r->current_term++;
    r->voted_for = r->first + r->self;
    r->leader_id = DSIM_NOBODY;
    raft_log_save_hard_state(r, ctx);
    new_election_timeout(r, ctx);
    clear_votes(r);
    dsim_log(ctx, "election timeout, start election for term %" PRIu64, r->current_term);
    dsim_metric(ctx, "elections_started", (double) r->current_term);
    /* "If votes received from majority of servers: become leader" (a group of one) */
    if (r->votes >= raft_quorum(r)) {
        become_leader(r, ctx);
        return;
    }
    send_vote_requests(r, ctx, RAFT_MSG_VOTE_REQ, r->current_term);
}

/* Thesis §9.6: "In the Pre-Vote algorithm, a candidate only increments its term if it first
 * learns from a majority of the cluster that they would be willing to grant the candidate
 * their votes (if the candidate's log is sufficiently up-to-date, and the voters have not
 * received heartbeats from a valid leader for at least a baseline election timeout)". So a
 * node cut off from the others keeps its term, and cannot depose a healthy leader when it
 * comes back. */
static void start_prevote(RaftNode *r, DsimCtx *ctx)
{
    r->role = RAFT_PRECANDIDATE;
    r->leader_id = DSIM_NOBODY;
    new_election_timeout(r, ctx);
    clear_votes(r);
    dsim_log(ctx, "election timeout, ask pre-votes for term %" PRIu64, r->current_term + 1);
    if (r->votes >= raft_quorum(r)) {
        start_election(r, ctx);
        return;
    }
    send_vote_requests(r, ctx, RAFT_MSG_PREVOTE_REQ, r->current_term + 1);
}

/* ---- RequestVote (§5.2, §5.4.1) and pre-vote (thesis §9.6) --------------- */

/* The election restriction, shared by votes and pre-votes. */
static bool candidate_log_ok(const RaftNode *r, const RaftConfig *cfg, const RaftVoteReq *req)
{
    /* bug no-log-up-to-date-check: votes go to any candidate, so one that lacks committed
     * entries can win and overwrite them (§5.4.1 is what prevents it). */
    if (cfg->bug == RAFT_BUG_NO_LOG_UP_TO_DATE_CHECK)
        return true;
    return raft_log_up_to_date(r, req->last_index, req->last_term);
}

static void on_vote_req(RaftNode *r, DsimCtx *ctx, DsimNodeId from, const RaftVoteReq *req)
{
    const RaftConfig *cfg = dsim_config(ctx);
    RaftVoteResp resp = { 0 };

    /* Thesis §4.2.3: with membership changes, a server that a leader no longer contacts
     * (removed without knowing it) could depose the leader by standing for election in
     * ever higher terms. So, when changes are in use, a server that heard from a current
     * leader within the minimum election timeout neither updates its term nor votes. */
    bool leader_alive = r->role == RAFT_LEADER
        || (r->leader_id != DSIM_NOBODY
            && dsim_now(ctx) - r->last_leader_contact < cfg->election_timeout.lo);
    /* Lease reads (thesis §6.4.1) rest on the same rule: a follower that acknowledged the
     * leader does not help elect another before the election timeout minimum. */
    if ((r->n_changes > 0 || cfg->lease_reads) && leader_alive
        && req->term > r->current_term) {
        resp.term = r->current_term;
        dsim_send(ctx, from, RAFT_MSG_VOTE_RESP, &resp, sizeof resp);
        return;
    }

    /* Figure 2, All Servers: "If RPC request or response contains term T > currentTerm:
     * set currentTerm = T, convert to follower (§5.1)". */
    if (req->term > r->current_term)
        raft_become_follower(r, ctx, req->term);

    /* RequestVote receiver: "1. Reply false if term < currentTerm (§5.1)" (the term test),
     * and "2. If votedFor is null or candidateId, and candidate's log is at least as
     * up-to-date as receiver's log, grant vote (§5.2, §5.4)". The vote is durable before
     * the answer leaves; granting it restarts the election timeout (Figure 2, Followers). */
    if (req->term == r->current_term
        && (r->voted_for == DSIM_NOBODY || r->voted_for == from)
        && candidate_log_ok(r, cfg, req)) {
        if (r->voted_for != from) {
            r->voted_for = from;
            raft_log_save_hard_state(r, ctx);
        }
        reset_election_deadline(r, ctx);
        resp.granted = 1;
        dsim_log(ctx, "grant vote to %s for term %" PRIu64, dsim_name(ctx, from),
                 r->current_term);
    }
    resp.term = r->current_term;
    dsim_send(ctx, from, RAFT_MSG_VOTE_RESP, &resp, sizeof resp);
}

static void on_vote_resp(RaftNode *r, DsimCtx *ctx, DsimNodeId from, const RaftVoteResp *resp)
{
    if (resp->term > r->current_term) {
        raft_become_follower(r, ctx, resp->term);
        return;
    }
    if (r->role != RAFT_CANDIDATE || resp->term != r->current_term || !resp->granted)
        return; /* stale, or refused */
    unsigned i = raft_member_index(r, from);
    RaftPeer *p = &r->peers[i];
    if (p->vote_granted || !raft_in_config(r, i))
        return; /* a duplicate, or not a voter of this node's configuration */
    p->vote_granted = true;
    r->votes++;
    /* Figure 2, Candidates: "If votes received from majority of servers: become leader" */
    if (r->votes >= raft_quorum(r))
        become_leader(r, ctx);
}

/* A pre-vote changes nothing at the receiver: neither its term nor its vote. It is granted
 * for a term above the receiver's, to a candidate whose log passes the election
 * restriction, by a node that has not heard from a leader within the minimum election
 * timeout (and is not the leader itself). A granted answer carries the term asked for, a
 * refusal the receiver's own term, so the asker can tell answers of an older round. */
static void on_prevote_req(RaftNode *r, DsimCtx *ctx, DsimNodeId from, const RaftVoteReq *req)
{
    const RaftConfig *cfg = dsim_config(ctx);
    bool leader_alive = r->role == RAFT_LEADER
        || (r->leader_id != DSIM_NOBODY
            && dsim_now(ctx) - r->last_leader_contact < cfg->election_timeout.lo);
    RaftVoteResp resp = { .term = r->current_term };

    if (req->term > r->current_term && !leader_alive && candidate_log_ok(r, cfg, req)) {
        resp.term = req->term;
        resp.granted = 1;
    }
    dsim_send(ctx, from, RAFT_MSG_PREVOTE_RESP, &resp, sizeof resp);
}

static void on_prevote_resp(RaftNode *r, DsimCtx *ctx, DsimNodeId from, const RaftVoteResp *resp)
{
    if (!resp->granted && resp->term > r->current_term) {
        raft_become_follower(r, ctx, resp->term);
        return;
    }
    if (r->role != RAFT_PRECANDIDATE || !resp->granted || resp->term != r->current_term + 1)
        return;
    unsigned i = raft_member_index(r, from);
    RaftPeer *p = &r->peers[i];
    if (p->vote_granted || !raft_in_config(r, i))
        return;
    p->vote_granted = true;
    r->votes++;
    if (r->votes >= raft_quorum(r))
        start_election(r, ctx);
}

/* ---- timers -------------------------------------------------------------- */

/* Thesis §6.2: "a leader steps down if an election timeout elapses without a successful
 * round of heartbeats to a majority of its cluster". Any answer of the current term counts
 * as heard. */
static void check_quorum(RaftNode *r, DsimCtx *ctx)
{
    unsigned heard = 1;

    if (!raft_in_config(r, r->self))
        heard = 0;
    for (unsigned i = 0; i < r->n; i++) {
        if (i != r->self && r->peers[i].heard && raft_in_config(r, i))
            heard++;
        r->peers[i].heard = false;
    }
    if (heard < raft_quorum(r)) {
        dsim_log(ctx, "heard from %u of %u in an election timeout: step down", heard, r->n);
        raft_become_follower(r, ctx, r->current_term);
        return;
    }
    r->election_deadline = dsim_now(ctx) + r->election_timeout;
    arm_election_timer(r, ctx, r->election_deadline);
}

static void on_election_timer(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);

    r->election_timer = 0;
    if (r->role == RAFT_LEADER) {
        if (cfg->check_quorum)
            check_quorum(r, ctx);
        return; /* without check-quorum a leader needs no election timer */
    }
    if (dsim_now(ctx) < r->election_deadline) {
        arm_election_timer(r, ctx, r->election_deadline); /* the deadline moved: not yet */
        return;
    }
    /* Thesis §4.1: a server outside its latest configuration is not a voting member: it
     * does not start elections (a new server waiting to be added, or a removed one). */
    if (!raft_in_config(r, r->self)) {
        if (r->role != RAFT_FOLLOWER)
            raft_become_follower(r, ctx, r->current_term);
        else
            new_election_timeout(r, ctx);
        return;
    }
    /* Figure 2, Followers: "If election timeout elapses without receiving AppendEntries RPC
     * from current leader or granting vote to candidate: convert to candidate"; Candidates:
     * "If election timeout elapses: start new election". */
    if (cfg->prevote)
        start_prevote(r, ctx);
    else
        start_election(r, ctx);
}

static void raft_on_timer(void *state, DsimCtx *ctx, unsigned kind, uint64_t arg)
{
    RaftNode *r = state;
    const RaftConfig *cfg = dsim_config(ctx);

    switch (kind) {
    case RAFT_TIMER_ELECTION:
        on_election_timer(r, ctx);
        return;
    case RAFT_TIMER_HEARTBEAT:
        if (r->role != RAFT_LEADER || arg != r->current_term)
            return; /* set by an earlier leadership: let it die */
        maybe_reconfigure(r, ctx);
        raft_broadcast_append(r, ctx, true);
        dsim_timer_set(ctx, cfg->heartbeat, RAFT_TIMER_HEARTBEAT, arg);
        return;
    case RAFT_TIMER_SNAPSHOT:
        raft_snapshot_take(r, ctx);
        return;
    default:
        g_assert_not_reached();
    }
}

/* ---- client requests (§8) and calls ---------------------------------------------- */

static bool is_read(const void *cmd, uint32_t size)
{
    uint8_t op = KV_OP_NOOP;

    if (size == sizeof(KvCommand))
        memcpy(&op, (const uint8_t *) cmd + offsetof(KvCommand, op), 1);
    return op == KV_OP_GET;
}

/* Thesis §6.4.1: a leader holding a lease answers a read from its state machine at once,
 * provided that reflects every write the leader acknowledged: its commit index is at an
 * entry of its own term (so it covers everything committed before it led, §6.4 step 1) and
 * all of it is applied. The value is read with kv_store_get(), not kv_store_apply(): a
 * read applied outside the log would move the store's applied count and digest away from
 * last_applied, which state-machine-safety compares across members. A read needs no
 * de-duplication: answering a retry afresh is still linearizable. */
static bool lease_read(RaftNode *r, DsimCtx *ctx, uint8_t origin, uint64_t id, const void *cmd)
{
    KvCommand c;

    if (dsim_now(ctx) >= raft_lease_until(r, ctx)
        || raft_log_term_at(r, r->commit_index) != r->current_term
        || r->last_applied != r->commit_index)
        return false;
    memcpy(&c, cmd, sizeof c);
    g_autofree char *key = g_strndup(c.key, MIN((size_t) c.key_len, sizeof c.key));
    const char *value = kv_store_get(r->kv, key);
    raft_answer(r, ctx, origin, id, DSIM_STATUS_OK, value != NULL ? value : "",
                value != NULL ? strlen(value) : 0);
    dsim_count(ctx, "lease_read");
    return true;
}

/* §8: a follower "will reject the client's request and supply information about the most
 * recent leader it has heard from". Figure 2, Leaders: "If command received from client:
 * append entry to local log, respond after entry applied to state machine (§5.3)"; the
 * answer comes from raft_apply() (answer_client, raft_answer). Reads go through the log too
 * (no ReadIndex): slow, but linearizable without further argument; with lease_reads, a
 * leader holding a lease answers them at once (lease_read()). One path for both origins: a
 * client request of the workload and a call from any node (raft.h, RAFT_METHOD_KV). */
static void submit(RaftNode *r, DsimCtx *ctx, uint8_t origin, uint64_t id, const void *cmd,
                   uint32_t size)
{
    const RaftConfig *cfg = dsim_config(ctx);

    if (r->role != RAFT_LEADER) {
        raft_answer(r, ctx, origin, id, DSIM_STATUS_REDIRECT, NULL, 0);
        return;
    }
    g_assert(size <= DSIM_CMD_MAX);
    if (cfg->lease_reads && is_read(cmd, size) && lease_read(r, ctx, origin, id, cmd))
        return;
    RaftEntry e = { .term = r->current_term, .len = size };
    memcpy(e.cmd, cmd, size);
    raft_log_append(r, ctx, &e);
    dsim_sync(ctx);

    RaftPending p = {
        .id = id,
        .index = raft_log_last_index(r),
        .received_at = dsim_now(ctx),
        .origin = origin,
    };
    /* bug ack-before-commit: writes are acknowledged as soon as the leader has them, so a
     * leader that crashes before replicating loses writes its clients saw succeed. */
    if (cfg->bug == RAFT_BUG_ACK_BEFORE_COMMIT && !is_read(cmd, size)) {
        raft_answer(r, ctx, origin, id, DSIM_STATUS_OK, NULL, 0);
        p.replied = true;
    }
    g_array_append_val(r->pending, p);
    raft_broadcast_append(r, ctx, false);
    raft_advance_commit(r, ctx); /* a group of one commits alone */
}

static void raft_on_request(void *state, DsimCtx *ctx, const DsimRequest *req)
{
    submit(state, ctx, RAFT_ORIGIN_REQUEST, req->id, req->cmd, req->size);
}

/* A call's body must be a command the store takes: kv_store_apply() asserts on malformed
 * bytes (a protocol bug for the workload's commands, but a caller is any node). */
static bool valid_command(const DsimCall *call)
{
    KvCommand c;

    if (call->size != sizeof c)
        return false;
    memcpy(&c, call->body, sizeof c);
    return c.op >= KV_OP_GET && c.op <= KV_OP_CAS && c.key_len <= KV_KEY_MAX
        && c.value_len <= KV_VALUE_MAX && c.expected_len <= KV_VALUE_MAX;
}

/* The group as a KV service for any node (raft.h, "calls"): the path of a client request,
 * answered by dsim_respond. */
static void raft_on_call(void *state, DsimCtx *ctx, const DsimCall *call)
{
    RaftNode *r = state;

    if (call->method != RAFT_METHOD_KV || !valid_command(call)) {
        RaftCallFail f = { .leader = r->leader_id, .reason = RAFT_CALL_BAD };
        dsim_respond(ctx, call->id, DSIM_CALL_FAIL, &f, sizeof f);
        return;
    }
    submit(r, ctx, RAFT_ORIGIN_CALL, call->id, call->body, call->size);
}

static const char *raft_method_name(uint16_t method)
{
    return method == RAFT_METHOD_KV ? "kv" : NULL;
}

/* ---- handlers ------------------------------------------------------------ */

/* What init and on_recover share: the group's geometry, empty volatile state, buffers. */
static void setup(RaftNode *r, DsimCtx *ctx)
{
    const RaftConfig *cfg = dsim_config(ctx);

    r->n = dsim_group_size(ctx);
    r->self = dsim_self_index(ctx);
    r->first = dsim_group_member(ctx, 0);
    r->voted_for = DSIM_NOBODY;
    r->role = RAFT_FOLLOWER;
    r->leader_id = DSIM_NOBODY;
    r->last_leader_contact = -1;
    r->peers = g_new0(RaftPeer, r->n);
    r->pending = g_array_new(FALSE, TRUE, sizeof(RaftPending));
    r->kv = kv_store_new();
    r->result = g_string_new(NULL);
    r->sorted = g_new0(uint64_t, r->n);
    r->send_buf = g_malloc0(sizeof(RaftAppendReq) + (size_t) cfg->max_batch * sizeof(RaftEntry));
    /* The loader refuses bad lists (raft_validate); a node driven by hand (the test
     * harness) may still get one: logged, and the default (every member, no changes) used. */
    if (!parse_members(cfg->members, r->n, &r->snap_config.members)) {
        dsim_log(ctx, "the members param is not a member list of 1..%u; using all", r->n);
        r->snap_config.members = UINT64_MAX;
    }
    r->snap_config.step = 0;
    r->config = r->snap_config;
    r->config_index = 0;
    if (!parse_schedule(cfg->reconfigure, r->n, &r->changes, &r->n_changes))
        dsim_log(ctx, "the reconfigure param is not a schedule like \"5s:+4, 10s:-2\" of "
                 "members 1..%u; no changes", r->n);
}

/* At load: the member list and the schedule parse for the group's size. */
static const char *raft_validate(const void *config, const DsimShape *shape, GString *why)
{
    const RaftConfig *cfg = config;
    unsigned n = shape->sizes[shape->self];
    uint64_t members;
    if (!parse_members(cfg->members, n, &members)) {
        g_string_printf(why, "members must be \"all\" or member numbers 1..%u separated by "
                        "commas, e.g. \"1,2,3\"%s", n, n > 64 ? " (lists take groups of at most 64)" : "");
        return "members";
    }
    RaftChange *changes = NULL;
    unsigned count = 0;
    bool ok = parse_schedule(cfg->reconfigure, n, &changes, &count);
    g_free(changes);
    if (!ok) {
        g_string_printf(why, "reconfigure must be a schedule like \"5s:+4, 10s:-2\" (times in "
                        "increasing order, members 1..%u)", MIN(n, 64));
        return "reconfigure";
    }
    return NULL;
}

static void raft_init(void *state, DsimCtx *ctx)
{
    RaftNode *r = state;

    setup(r, ctx);
    raft_log_init(r);
    new_election_timeout(r, ctx);
}

static void raft_fini(void *state)
{
    RaftNode *r = state;

    raft_log_clear(r);
    g_clear_pointer(&r->peers, g_free);
    if (r->pending != NULL)
        g_array_free(r->pending, TRUE);
    r->pending = NULL;
    g_clear_pointer(&r->kv, kv_store_free);
    if (r->result != NULL)
        g_string_free(r->result, TRUE);
    r->result = NULL;
    g_clear_pointer(&r->sorted, g_free);
    g_clear_pointer(&r->send_buf, g_free);
    g_clear_pointer(&r->changes, g_free);
}

/* After a restart, term, vote and log come back from storage; commitIndex and lastApplied
 * are volatile (Figure 2), so the state machine starts empty (or from the node's snapshot,
 * which holds only committed entries, §7) and the node applies its log again as it
 * relearns the commit index from a leader (or, as a new leader, by committing an entry of
 * its own term). */
static void raft_on_recover(void *state, DsimCtx *ctx)
{
    RaftNode *r = state;

    setup(r, ctx);
    raft_log_recover(r, ctx);
    if (r->snap_index > 0)
        dsim_log(ctx, "recovered term %" PRIu64 ", a snapshot up to %" PRIu64 " and the log to %"
                 PRIu64, r->current_term, r->snap_index, raft_log_last_index(r));
    else
        dsim_log(ctx, "recovered term %" PRIu64 ", %" PRIu64 " log entries", r->current_term,
                 raft_log_last_index(r));
    new_election_timeout(r, ctx);
}

static void raft_on_message(void *state, DsimCtx *ctx, const DsimMsg *msg)
{
    RaftNode *r = state;

    (void) raft_member_index(r, msg->from); /* asserts it is one of ours */
    switch (msg->type) {
    case RAFT_MSG_VOTE_REQ:
        on_vote_req(r, ctx, msg->from, DSIM_MSG_BODY(msg, RaftVoteReq));
        return;
    case RAFT_MSG_VOTE_RESP:
        on_vote_resp(r, ctx, msg->from, DSIM_MSG_BODY(msg, RaftVoteResp));
        return;
    case RAFT_MSG_PREVOTE_REQ:
        on_prevote_req(r, ctx, msg->from, DSIM_MSG_BODY(msg, RaftVoteReq));
        return;
    case RAFT_MSG_PREVOTE_RESP:
        on_prevote_resp(r, ctx, msg->from, DSIM_MSG_BODY(msg, RaftVoteResp));
        return;
    case RAFT_MSG_APPEND_REQ: {
        const RaftAppendReq *req = DSIM_MSG_BODY(msg, RaftAppendReq);
        g_assert(msg->size == sizeof *req + (size_t) req->n_entries * sizeof(RaftEntry));
        raft_on_append_req(r, ctx, msg->from, req);
        return;
    }
    case RAFT_MSG_APPEND_RESP:
        raft_on_append_resp(r, ctx, msg->from, DSIM_MSG_BODY(msg, RaftAppendResp));
        return;
    case RAFT_MSG_SNAPSHOT_REQ: {
        const RaftSnapshotReq *req = DSIM_MSG_BODY(msg, RaftSnapshotReq);
        g_assert(msg->size == sizeof *req + (size_t) req->size);
        raft_on_snapshot_req(r, ctx, msg->from, req);
        return;
    }
    case RAFT_MSG_SNAPSHOT_RESP:
        raft_on_snapshot_resp(r, ctx, msg->from, DSIM_MSG_BODY(msg, RaftSnapshotResp));
        return;
    default:
        g_assert_not_reached();
    }
}

/* ---- describe, print ----------------------------------------------------- */

static void raft_describe(const void *state, DsimView *view)
{
    const RaftNode *r = state;

    if (r->kv == NULL)
        return; /* crashed: a zeroed state */
    switch (r->role) {
    case RAFT_FOLLOWER: view->role = DSIM_ROLE_FOLLOWER; break;
    case RAFT_PRECANDIDATE:
    case RAFT_CANDIDATE: view->role = DSIM_ROLE_CANDIDATE; break;
    case RAFT_LEADER: view->role = DSIM_ROLE_LEADER; break;
    }
    view->term = r->current_term;
    view->applied = kv_store_applied(r->kv);
    view->applied_digest = kv_store_digest(r->kv);
    view->commit_index = r->commit_index;
    view->kv = r->kv;
    g_snprintf(view->text, sizeof view->text, "%s t=%" PRIu64 " ci=%" PRIu64,
               role_name(r->role), r->current_term, r->commit_index);
}

/* Log positions print as index^term, as in "last=5^2". */
static void raft_print_msg(const DsimMsg *msg, GString *out)
{
    switch (msg->type) {
    case RAFT_MSG_VOTE_REQ:
    case RAFT_MSG_PREVOTE_REQ: {
        const RaftVoteReq *q = DSIM_MSG_BODY(msg, RaftVoteReq);
        g_string_append_printf(out, "%s term=%" PRIu64 " last=%" PRIu64 "^%" PRIu64,
                               msg->type == RAFT_MSG_VOTE_REQ ? "VoteReq" : "PreVoteReq",
                               q->term, q->last_index, q->last_term);
        return;
    }
    case RAFT_MSG_VOTE_RESP:
    case RAFT_MSG_PREVOTE_RESP: {
        const RaftVoteResp *p = DSIM_MSG_BODY(msg, RaftVoteResp);
        g_string_append_printf(out, "%s term=%" PRIu64 " %s",
                               msg->type == RAFT_MSG_VOTE_RESP ? "VoteResp" : "PreVoteResp",
                               p->term, p->granted ? "granted" : "refused");
        return;
    }
    case RAFT_MSG_APPEND_REQ: {
        const RaftAppendReq *q = DSIM_MSG_BODY(msg, RaftAppendReq);
        g_string_append_printf(out, "AppendReq term=%" PRIu64 " prev=%" PRIu64 "^%" PRIu64
                               " n=%" PRIu32 " commit=%" PRIu64, q->term, q->prev_index,
                               q->prev_term, q->n_entries, q->leader_commit);
        return;
    }
    case RAFT_MSG_APPEND_RESP: {
        const RaftAppendResp *p = DSIM_MSG_BODY(msg, RaftAppendResp);
        if (p->success)
            g_string_append_printf(out, "AppendResp term=%" PRIu64 " ok match=%" PRIu64,
                                   p->term, p->index);
        else
            g_string_append_printf(out, "AppendResp term=%" PRIu64 " reject prev=%" PRIu64
                                   " conflict=%" PRIu64 "^%" PRIu64, p->term, p->index,
                                   p->conflict_index, p->conflict_term);
        return;
    }
    case RAFT_MSG_SNAPSHOT_REQ: {
        const RaftSnapshotReq *q = DSIM_MSG_BODY(msg, RaftSnapshotReq);
        g_string_append_printf(out, "InstallSnapshot term=%" PRIu64 " last=%" PRIu64 "^%" PRIu64
                               " bytes=%" PRIu32, q->term, q->last_index, q->last_term, q->size);
        return;
    }
    case RAFT_MSG_SNAPSHOT_RESP: {
        const RaftSnapshotResp *p = DSIM_MSG_BODY(msg, RaftSnapshotResp);
        g_string_append_printf(out, "SnapshotResp term=%" PRIu64 " last=%" PRIu64, p->term,
                               p->last_index);
        return;
    }
    default:
        g_string_append_printf(out, "raft type=%u?", (unsigned) msg->type);
        return;
    }
}

/* ---- the ops table ------------------------------------------------------- */

const DsimProtocol raft_protocol = {
    .name = "raft",
    .summary = "Raft consensus replicating a KV store (Ongaro & Ousterhout 2014)",
    .params = raft_params,
    .invariants = raft_invariants,
    .config_size = sizeof(RaftConfig),
    .state_size = sizeof(RaftNode),
    .leader_based = true,
    .init = raft_init,
    .fini = raft_fini,
    .on_message = raft_on_message,
    .on_timer = raft_on_timer,
    .on_request = raft_on_request,
    .on_recover = raft_on_recover,
    .describe = raft_describe,
    .print_msg = raft_print_msg,
    .validate = raft_validate,
    .on_call = raft_on_call,
    .method_name = raft_method_name,
};
