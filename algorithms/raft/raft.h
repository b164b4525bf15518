/* raft.h - Raft consensus (Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm (Extended Version)", 2014), replicating the KV state machine of algorithms/kv/.
 *
 * Read with Figure 2 of the paper open: the names below are its names. A group of n nodes
 * elects a leader with randomized timeouts (§5.2); the leader takes client commands,
 * appends them to its log and replicates them with AppendEntries (§5.3); an entry of the
 * leader's current term is committed once a majority stores it (§5.4.2), and every node
 * applies committed entries in log order to its own KvStore. currentTerm, votedFor and the
 * log are durable and synced before a node answers or acts on them; everything else is
 * volatile and relearned after a restart.
 *
 * Variants, each a parameter: pre-vote (Ongaro's thesis, §9.6), check-quorum (thesis §6.2),
 * batching (max_batch entries per AppendEntries, with pipelining), log compaction with
 * snapshots and InstallSnapshot (§7, snapshot_every), single-server membership changes
 * (thesis §4.1: members, reconfigure; configuration entries in the log), and five known
 * bugs (RaftBug) that the invariants of Figure 3 (raft_invariants.c) are there to catch.
 *
 * The files: raft.c (roles, elections, timers, client requests, the ops table),
 * raft_log.c (the log and the durable state), raft_replication.c (AppendEntries, commit,
 * apply), raft_snapshot.c (§7: taking, sending and installing snapshots),
 * raft_invariants.c (Figure 3). raft_internal.h is what they share.
 */
#ifndef DSIM_RAFT_H
#define DSIM_RAFT_H

#include "algorithms/kv/kv.h"
#include "sim/dsim.h"

extern const DsimProtocol raft_protocol;

/* ---- calls: the group as a KV service (sim/dsim.h, "calls") ---------------------------
 *
 * Any node of any group may call a raft node with method RAFT_METHOD_KV and a KvCommand
 * (kv.h, exactly sizeof(KvCommand) bytes; get, put, append or cas) as the body. It takes the
 * path of a client request (§8): a follower refuses at once, naming the leader it knows; the
 * leader appends the command and answers once the entry is committed and applied:
 *   OK    the body is the KV result (a get's value; empty for put, append, cas);
 *   FAIL  the body is a RaftCallFail: the leader hint (as dsim_redirect gives a client) and
 *         why: not the leader, rejected by the store (cas mismatch, a stale seq), outcome
 *         unknown (leadership lost before commit: it may still commit later), or a
 *         malformed command.
 * Reads go through the log (linearizable), or under the leader's lease with lease_reads.
 * De-duplication is the KV store's (client, seq): a caller picks a client number that no
 * workload client and no other caller uses, and seqs that only grow (discovery.c uses
 * 0x80000000 | node id and its clock). */
typedef enum {
    RAFT_METHOD_KV = 1,
} RaftMethod;

typedef enum {
    RAFT_CALL_NOT_LEADER = 1, /* ask the leader named in the hint (DSIM_NOBODY: unknown) */
    RAFT_CALL_REJECTED   = 2, /* applied, and the store answered FAIL (cas mismatch...) */
    RAFT_CALL_UNKNOWN    = 3, /* the leader lost its leadership first: may or may not apply */
    RAFT_CALL_BAD        = 4, /* not a KvCommand this store takes */
} RaftCallFailReason;

typedef struct {
    uint32_t leader; /* DsimNodeId: the leader as far as the callee knows, or DSIM_NOBODY */
    uint32_t reason; /* RaftCallFailReason */
} RaftCallFail;
G_STATIC_ASSERT(sizeof(RaftCallFail) == 8);

typedef enum {
    RAFT_MSG_VOTE_REQ     = 1, /* RequestVote RPC (Figure 2) */
    RAFT_MSG_VOTE_RESP    = 2,
    RAFT_MSG_APPEND_REQ   = 3, /* AppendEntries RPC (Figure 2); also the heartbeat */
    RAFT_MSG_APPEND_RESP  = 4,
    RAFT_MSG_PREVOTE_REQ  = 5, /* pre-vote (thesis §9.6): RaftVoteReq for term + 1 */
    RAFT_MSG_PREVOTE_RESP = 6, /* RaftVoteResp */
    RAFT_MSG_SNAPSHOT_REQ = 7, /* InstallSnapshot RPC (Figure 13) */
    RAFT_MSG_SNAPSHOT_RESP = 8,
} RaftMsgType;

typedef enum {
    RAFT_TIMER_ELECTION  = 1, /* always one pending: election timeout, or check-quorum */
    RAFT_TIMER_HEARTBEAT = 2, /* leader only; arg is the term it was set in */
    RAFT_TIMER_SNAPSHOT  = 3, /* take a snapshot now: set with delay 0 by an apply */
} RaftTimerKind;

typedef enum {
    RAFT_FOLLOWER = 0,
    RAFT_PRECANDIDATE, /* pre-vote only: asking whether it could win, term not yet bumped */
    RAFT_CANDIDATE,
    RAFT_LEADER,
} RaftRole;

/* Known bugs, for showing that the checks catch them. Each is a single `if` where the
 * correct rule lives, with a comment naming it. */
typedef enum {
    RAFT_BUG_NONE = 0,
    RAFT_BUG_NO_LOG_UP_TO_DATE_CHECK, /* votes without the §5.4.1 election restriction */
    RAFT_BUG_COMMIT_PREVIOUS_TERM,    /* commits old-term entries by counting (Figure 8) */
    RAFT_BUG_FORGET_VOTE,             /* votedFor is not made durable */
    RAFT_BUG_TRUNCATE_ON_APPEND,      /* follower cuts its log after prevLogIndex always */
    RAFT_BUG_ACK_BEFORE_COMMIT,       /* leader acknowledges writes when it appends them */
} RaftBug;

/* What a log entry holds (RaftEntry.kind). */
typedef enum {
    RAFT_ENTRY_COMMAND = 0, /* a KvCommand (a client's, or the leader's no-op) */
    RAFT_ENTRY_CONFIG  = 1, /* a RaftConfigBody: the group's configuration from here on
                               (thesis §4.1, single-server changes) */
} RaftEntryKind;

/* The cmd of a configuration entry (len = sizeof(RaftConfigBody)). Member i (index from 0)
 * is in the configuration when bit i of members is set; members 64 and above of a larger
 * group are always in it (changes name members 1..64 only). step counts the entries of the
 * `reconfigure` schedule done when this configuration was made, so that any leader knows
 * which change comes next. */
typedef struct {
    uint64_t members;
    uint64_t step;
} RaftConfigBody;

/* One log entry: a client command (a KvCommand, as bytes) or the leader's no-op, with the
 * term in which a leader created it. Flat and fixed-size: the same bytes live in the log,
 * in durable storage (one key per index) and in AppendEntries messages. */
typedef struct {
    uint64_t term;
    uint32_t len;              /* bytes of cmd used, <= DSIM_CMD_MAX */
    uint32_t kind;             /* RaftEntryKind; also no implicit padding, so equal entries
                                  are equal bytes */
    uint8_t  cmd[DSIM_CMD_MAX];
} RaftEntry;
G_STATIC_ASSERT(sizeof(RaftEntry) == 16 + DSIM_CMD_MAX);

/* RequestVote arguments (Figure 2); the candidate is the sender. Pre-vote sends the same
 * body, with the term the candidate would stand in (its currentTerm + 1). */
typedef struct {
    uint64_t term;       /* candidate's term */
    uint64_t last_index; /* lastLogIndex: index of candidate's last log entry */
    uint64_t last_term;  /* lastLogTerm: term of candidate's last log entry */
} RaftVoteReq;
G_STATIC_ASSERT(sizeof(RaftVoteReq) == 24);

/* RequestVote results (Figure 2), also the pre-vote answer. */
typedef struct {
    uint64_t term;    /* currentTerm, for candidate to update itself */
    uint32_t granted; /* voteGranted: 1 means candidate received vote */
    uint32_t pad;
} RaftVoteResp;
G_STATIC_ASSERT(sizeof(RaftVoteResp) == 16);

/* AppendEntries arguments (Figure 2), followed by n_entries entries; the leader is the
 * sender (leaderId). A message is sizeof(RaftAppendReq) + n_entries * sizeof(RaftEntry)
 * bytes, n_entries <= max_batch; with none it is a heartbeat. */
typedef struct {
    uint64_t  term;          /* leader's term */
    uint64_t  prev_index;    /* prevLogIndex: index of log entry immediately preceding new ones */
    uint64_t  prev_term;     /* prevLogTerm: term of prevLogIndex entry */
    uint64_t  leader_commit; /* leaderCommit: leader's commitIndex */
    uint32_t  n_entries;
    uint32_t  lease_stamp;   /* lease_reads: when sent, in microseconds since the leader's
                                term began here (lease_epoch), rounded down; else 0 */
    RaftEntry entries[];     /* entries[k] goes at index prev_index + 1 + k */
} RaftAppendReq;
G_STATIC_ASSERT(sizeof(RaftAppendReq) == 40);

/* AppendEntries results (Figure 2), with the §5.3 optimization for rejections: "the
 * follower can include the term of the conflicting entry and the first index it stores for
 * that term". */
typedef struct {
    uint64_t term;           /* currentTerm, for leader to update itself */
    uint64_t index;          /* success: last index now known to match (prev_index +
                                n_entries); rejection: the prev_index that did not match */
    uint64_t conflict_index; /* rejection: first index of conflict_term, or, when the log is
                                too short, its last index + 1 */
    uint64_t conflict_term;  /* rejection: term of the entry at prev_index; 0 if none */
    uint32_t success;        /* 1 if follower contained entry matching prevLogIndex/Term */
    uint32_t lease_stamp;    /* the request's lease_stamp, echoed */
} RaftAppendResp;
G_STATIC_ASSERT(sizeof(RaftAppendResp) == 40);

/* InstallSnapshot arguments (Figure 13), in one message (no chunks: offset is always 0 and
 * done always true), followed by the state machine's bytes (kv_store_snapshot). The leader
 * is the sender. */
typedef struct {
    uint64_t term;       /* leader's term */
    uint64_t last_index; /* lastIncludedIndex: the snapshot replaces all entries up through
                            and including this index */
    uint64_t last_term;  /* lastIncludedTerm: term of lastIncludedIndex */
    uint32_t size;       /* bytes of data */
    uint32_t pad;
    RaftConfigBody config; /* the configuration at lastIncludedIndex (thesis §4.1: "the
                              latest configuration as of the last included index") */
    uint8_t  data[];     /* the KvStore at lastIncludedIndex */
} RaftSnapshotReq;
G_STATIC_ASSERT(sizeof(RaftSnapshotReq) == 48);

/* InstallSnapshot results (Figure 13: currentTerm), with the index the follower now holds
 * up to, so that the leader can tell which of its snapshots arrived. */
typedef struct {
    uint64_t term;       /* currentTerm, for leader to update itself */
    uint64_t last_index; /* the snapshot's lastIncludedIndex; 0 when refused (old term) */
} RaftSnapshotResp;
G_STATIC_ASSERT(sizeof(RaftSnapshotResp) == 16);

/* Parsed from the "raft" params (raft.c, raft_params). */
typedef struct {
    DsimTimeRange election_timeout; /* drawn uniformly at each role change (§5.2) */
    DsimTime      heartbeat;        /* leader's idle AppendEntries period */
    int64_t       max_batch;        /* entries per AppendEntries, >= 1 */
    int64_t       snapshot_every;   /* §7: snapshot once this many entries were applied
                                       since the last snapshot; 0 = never */
    int           bug;              /* RaftBug */
    bool          prevote;          /* thesis §9.6 */
    bool          check_quorum;     /* thesis §6.2: leader steps down without a majority */
    bool          redraw_timeout;   /* a new election timeout at every reset (LogCabin) */
    bool          lease_reads;      /* thesis §6.4.1: leader answers GETs under a lease */
    DsimTime      lease_margin;     /* the lease ends this much before the election
                                       timeout minimum (clock drift allowance) */
    char          members[DSIM_PARAM_STRING_MAX];     /* initial configuration: "1,2,3"
                                                         or "all" */
    char          reconfigure[DSIM_PARAM_STRING_MAX]; /* "5s:+4, 10s:-2"; "" = none */
} RaftConfig;

/* One change of the `reconfigure` schedule: at virtual time `at`, the leader adds (or
 * removes) member index `member`. */
typedef struct {
    DsimTime at;
    unsigned member;
    bool     add;
} RaftChange;

/* What a leader knows of one member (Figure 2, "Volatile state on leaders", plus the
 * flow-control bit and check-quorum's mark). Reset at each election. */
typedef struct {
    uint64_t next_index;   /* index of the next log entry to send to that server */
    uint64_t match_index;  /* index of highest log entry known to be replicated on server */
    bool     probing;      /* next_index is a guess being probed: one AppendEntries at a
                              time, and next_index moves only on an answer. Otherwise
                              (replicating) next_index advances as entries are sent */
    bool     heard;        /* check-quorum: answered since the last check */
    DsimTime acked_sent_at; /* lease_reads: send time of the latest AppendEntries it
                               answered in this term (leader clock); -1: none */
    bool     vote_granted; /* candidates: this member granted its (pre-)vote */
} RaftPeer;

/* Where a command came from, and so how it is answered: a client request of the workload
 * (on_request, answered with dsim_reply) or a call from any node (on_call, answered with
 * dsim_respond). Both take the same path through the log (raft.c, submit()). */
typedef enum {
    RAFT_ORIGIN_REQUEST = 0,
    RAFT_ORIGIN_CALL    = 1,
} RaftOrigin;

/* A command the leader appended and has not answered yet. */
typedef struct {
    uint64_t id;          /* the request id (dsim_reply) or the call id (dsim_respond) */
    uint64_t index;       /* log index of its entry */
    DsimTime received_at; /* for commit_latency_seconds */
    uint8_t  origin;      /* RaftOrigin */
    bool     replied;     /* already answered (bug ack-before-commit only) */
} RaftPending;

/* One node. Fields relate as follows (checked by the invariants or asserted):
 *  - The log holds entries snap_index + 1 .. snap_index + log->len (the last log index);
 *    entry i is g_array_index(log, RaftEntry, i - snap_index - 1). Entries 1 .. snap_index
 *    were compacted into the snapshot (§7); the term of entry snap_index is snap_term. With
 *    snapshot_every = 0, snap_index stays 0. Entry terms never decrease along the log, and
 *    none exceeds current_term.
 *  - snap_index <= last_applied <= commit_index <= last log index (only bug
 *    truncate-on-append can cut the log below commit_index; apply then waits until the log
 *    is long enough again). A snapshot holds only applied, hence committed, entries.
 *  - voted_for is DSIM_NOBODY or a member that asked for a vote in current_term.
 *  - kv_store_applied(kv) == last_applied: the state machine restarts with the node from its
 *    snapshot (empty without one) and applies the log after it again.
 *  - peers[], pending and their contents mean something only while role == RAFT_LEADER
 *    (votes: while a (pre)candidate).
 * The durable part (term, vote, log) is written by raft_log.c; on_recover reads it back. */
typedef struct {
    /* Persistent state on all servers (Figure 2) */
    uint64_t    current_term; /* latest term server has seen */
    DsimNodeId  voted_for;    /* candidateId that received vote in current term, or NOBODY */
    GArray     *log;          /* of RaftEntry; first index is 1 */

    /* Volatile state on all servers (Figure 2) */
    uint64_t    commit_index; /* index of highest log entry known to be committed */
    uint64_t    last_applied; /* index of highest log entry applied to state machine */

    RaftRole    role;
    DsimNodeId  leader_id;     /* the leader of current_term as far as known, or NOBODY */
    DsimTime    last_leader_contact; /* when an AppendEntries of the leader last came;
                                        -1 before any (pre-vote's "heard from a leader") */
    DsimTime    election_timeout;    /* this period's draw from the election_timeout range */
    DsimTime    election_deadline;   /* the timeout elapses at this time (node clock) */
    DsimTimerId election_timer;      /* the one pending RAFT_TIMER_ELECTION */
    DsimTime    election_timer_due;  /* when it fires */
    uint64_t    log_epoch;     /* +1 at each truncation (and each snapshot installed over
                                  a log that did not match): lets invariants compare logs
                                  incrementally as long as logs only grow */

    /* Log compaction (§7): the snapshot that replaces entries 1 .. snap_index */
    uint64_t    snap_index;    /* lastIncludedIndex; 0: no snapshot */
    uint64_t    snap_term;     /* lastIncludedTerm */
    GBytes     *snapshot;      /* the KvStore's bytes at snap_index (NULL: none), what a
                                  leader sends in InstallSnapshot */
    bool        snapshot_due;  /* a RAFT_TIMER_SNAPSHOT is pending */
    unsigned    votes;         /* (pre)votes granted, self included */

    /* Membership (thesis §4.1): the latest configuration in the log, committed or not, is
     * the one in force, for quorums, votes and heartbeats. */
    RaftConfigBody config;       /* in force: of entry config_index, else snap_config */
    uint64_t    config_index;    /* index of the latest configuration entry; 0 when it is
                                    the initial one or the snapshot's */
    RaftConfigBody snap_config;  /* the configuration at snap_index (initial without) */
    RaftChange *changes;         /* the parsed `reconfigure` schedule */
    unsigned    n_changes;

    /* Volatile state on leaders (Figure 2), reinitialized after election */
    RaftPeer   *peers;         /* by member index, n of them; peers[self] unused */
    GArray     *pending;       /* of RaftPending, by increasing index */
    DsimTime    lease_epoch;   /* when this leadership began (lease stamps count from it) */

    /* The state machine */
    KvStore    *kv;
    GString    *result;        /* the result of the latest apply, reused */

    /* Group geometry and buffers, set at (re)start */
    unsigned    n;             /* group size */
    unsigned    self;          /* own member index */
    DsimNodeId  first;         /* node id of member 0; members have consecutive ids */
    uint64_t   *sorted;        /* n words: match indexes being sorted (raft_replication.c) */
    uint8_t    *send_buf;      /* a RaftAppendReq with room for max_batch entries */
} RaftNode;

/* Durable keys (dsim_persist). The log's last index has its own key, written after the
 * entries it covers; entries above it are dead and overwritten when the log grows again. */
#define RAFT_KEY_HARD_STATE   UINT64_C(1)                /* RaftHardState */
#define RAFT_KEY_LOG_LAST     UINT64_C(2)                /* uint64_t: the last log index */
#define RAFT_KEY_SNAPSHOT     UINT64_C(3)                /* RaftSnapshotHeader + bytes */
#define RAFT_KEY_ENTRY(index) ((UINT64_C(1) << 32) + (index)) /* RaftEntry */

typedef struct {
    uint64_t   current_term;
    DsimNodeId voted_for;
    uint32_t   pad;
} RaftHardState;
G_STATIC_ASSERT(sizeof(RaftHardState) == 16);

/* The durable snapshot: this header, then `size` bytes of kv_store_snapshot(). */
typedef struct {
    uint64_t last_index;
    uint64_t last_term;
    uint64_t size;
    RaftConfigBody config; /* the configuration at last_index */
} RaftSnapshotHeader;
G_STATIC_ASSERT(sizeof(RaftSnapshotHeader) == 40);

/* The last index of @r's log and the term of entry @index (0 for index 0). Also valid on a
 * zeroed (crashed) state: an empty log. @index must be <= the last index and, when a
 * snapshot replaced the log's beginning, >= snap_index (whose term is snap_term). */
uint64_t         raft_log_last_index(const RaftNode *r);
uint64_t         raft_log_term_at(const RaftNode *r, uint64_t index);
/* Entry @index, snap_index < @index <= last index; borrowed until the log changes. */
const RaftEntry *raft_log_entry(const RaftNode *r, uint64_t index);

#endif /* DSIM_RAFT_H */
