/* lincheck.h - linearizability of client histories: readers, models, the checker.
 *
 * A history is what clients saw: each operation is an invocation and, later, a completion
 * that says it happened (ok), definitely did not happen (fail), or may or may not have
 * happened (info, or no completion at all). The history is linearizable under a model when
 * every operation that happened can be given one instant between its invocation and its
 * completion such that, taken in the order of those instants, the operations are a legal run
 * of the model (Herlihy & Wing 1990). Operations of unknown outcome may take effect at any
 * instant after their invocation, or never.
 *
 * Three file formats are read into the same plain data (sim/history_read.c):
 *   - dsim's history.jsonl: one JSON object per line (docs/lincheck.md);
 *   - EDN, as Jepsen and Knossos write histories: one vector or list of operation maps, or a
 *     sequence of maps (Porcupine's key-value logs);
 *   - the Jepsen log lines of Porcupine's etcd corpus ("INFO  jepsen.util - 3 :invoke ...").
 * Every input problem is reported as "FILE:LINE: message" in a GError of DSIM_LIN_ERROR,
 * both by the readers and by dsim_lin_check() (which is where an operation meets a model).
 *
 * The checker (sim/lincheck.c) is the search of Wing & Gong (1993) as improved by Lowe
 * (2017) and implemented by Porcupine: a depth-first search over a doubly linked list of
 * invocation and completion entries, memoizing every (set of linearized operations, model
 * state) pair it has been through. Models that are a map of independent keys are checked per
 * key (P-compositionality, Horn & Kroening 2015).
 */
#ifndef DSIM_LINCHECK_H
#define DSIM_LINCHECK_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define DSIM_LIN_ERROR (dsim_lin_error_quark())
typedef enum {
    DSIM_LIN_ERROR_IO,      /* cannot read the file, or it is too large */
    DSIM_LIN_ERROR_PARSE,   /* not EDN / JSON / a Jepsen log, or a malformed operation */
    DSIM_LIN_ERROR_HISTORY, /* well-formed, but not a history: completion without invocation... */
    DSIM_LIN_ERROR_MODEL,   /* an operation or value the model does not have */
} DsimLinError;
GQuark dsim_lin_error_quark(void);

/* Largest history file accepted, checked before reading. */
#define DSIM_LIN_MAX_BYTES (256u * 1024u * 1024u)

/* ---- values ---------------------------------------------------------------------- */

/* Values are interned per history: equal values have equal ids, so models compare ids.
 * Id 0 is nil (EDN nil, JSON null). */
typedef uint32_t DsimLinValue;
#define DSIM_LIN_NIL ((DsimLinValue) 0)

typedef enum {
    DSIM_LIN_VAL_NIL,
    DSIM_LIN_VAL_INT,
    DSIM_LIN_VAL_STRING,
    DSIM_LIN_VAL_KEYWORD, /* EDN :timed-out */
    DSIM_LIN_VAL_SYMBOL,  /* EDN true, false and bare words; JSON true, false */
    DSIM_LIN_VAL_VECTOR,  /* EDN [...] and (...), JSON [...] */
    DSIM_LIN_VAL_MAP,     /* a nested map: kept whole, only ever printed */
} DsimLinValueKind;

typedef struct {
    DsimLinValueKind kind;
    uint32_t         n;     /* STRING: bytes; VECTOR: items; MAP: 2 x pairs */
    int64_t          i;     /* INT */
    const char      *s;     /* STRING: the bytes (NUL-terminated); KEYWORD/SYMBOL: the name */
    uint32_t         first; /* VECTOR/MAP: index of the first item in DsimLinHistory.items */
    const char      *text;  /* how messages print it, in EDN: 3, "x 1 y", :ok, [1 2] */
} DsimLinVal;

/* ---- histories --------------------------------------------------------------------- */

typedef enum {
    DSIM_LIN_INVOKE,
    DSIM_LIN_OK,
    DSIM_LIN_FAIL,
    DSIM_LIN_INFO,
} DsimLinType;

/* :process of events that are not a client's (Jepsen's :nemesis): they are ignored. */
#define DSIM_LIN_NOT_CLIENT INT64_MIN

typedef struct {
    int64_t      time;    /* ns for a history.jsonl with "time" fields; else the event's index */
    int64_t      process; /* or DSIM_LIN_NOT_CLIENT */
    uint32_t     line;    /* where the event starts in the file, from 1 */
    DsimLinType  type;
    DsimLinValue f;       /* keyword or string: read, write, cas, get, put, append, txn... */
    DsimLinValue key;     /* nil when the event has none */
    DsimLinValue value;   /* nil when the event has none */
} DsimLinEvent;

/* A history as plain data, in file order. Built by the readers; read-only afterwards. */
typedef struct {
    char       *name;   /* the file name, for messages */
    GArray     *events; /* DsimLinEvent */
    GArray     *values; /* DsimLinVal, indexed by DsimLinValue */
    GArray     *items;  /* DsimLinValue: the items of vectors and maps */
    bool        timed;  /* events carry times in ns (history.jsonl); else time is the index */
    /* private to history_read.c */
    GHashTable *intern; /* text -> id + 1 */
    GStringChunk *chunk;
} DsimLinHistory;

/* Reads @path, recognizing the format from its first characters: '{"' is JSON lines; '{',
 * '[', '(' or ';' is EDN; "INFO" a Jepsen log. An empty file is an empty history. Returns a
 * new history (free with dsim_lin_history_free()), or NULL with @error set. */
DsimLinHistory *dsim_lin_history_read_file(const char *path, GError **error);
/* The same from memory; @name is used in messages ("name:LINE: ..."). @text need not be
 * NUL-terminated; it is not kept. */
DsimLinHistory *dsim_lin_history_parse(const char *name, const char *text, size_t len,
                                       GError **error);
void            dsim_lin_history_free(DsimLinHistory *h); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimLinHistory, dsim_lin_history_free)

static inline const DsimLinVal *dsim_lin_val(const DsimLinHistory *h, DsimLinValue v)
{
    return &g_array_index(h->values, DsimLinVal, v);
}
static inline DsimLinValue dsim_lin_item(const DsimLinHistory *h, const DsimLinVal *v, uint32_t i)
{
    return g_array_index(h->items, DsimLinValue, v->first + i);
}

/* ---- models ------------------------------------------------------------------------ */

typedef enum {
    DSIM_LIN_REGISTER, /* one value: read, write, cas */
    DSIM_LIN_KV,       /* a string per key: get, put, append, cas */
    DSIM_LIN_MULTI,    /* named registers, transactions of reads and writes */
} DsimLinFamily;

/* A model is a row of this table: the family gives the operations, the rest the conventions
 * of the history it is meant for (which differ between Jepsen, Knossos, Porcupine and dsim;
 * docs/lincheck.md explains each). */
typedef struct {
    const char   *name;             /* as given to --model */
    const char   *help;             /* one line for `dsim check-history --help` */
    DsimLinFamily family;
    const char   *init;             /* initial value, EDN text ("nil", "0", "\"\""); MULTI: "x=0,y=0" */
    bool          by_key;           /* check each key on its own (P-compositionality) */
    bool          keep_failed_cas;  /* a :fail cas stays, and needs value != expected (Porcupine etcd) */
    bool          nil_read_unknown; /* a read that returned nil tells nothing (Knossos) */
    bool          nil_is_empty;     /* nil reads and expectations mean "" (dsim: absent reads as "") */
} DsimLinModel;

extern const DsimLinModel dsim_lin_models[]; /* { NULL }-terminated */
const DsimLinModel *dsim_lin_model_find(const char *name); /* NULL when unknown */

/* ---- checking ---------------------------------------------------------------------- */

typedef enum {
    DSIM_LIN_LINEARIZABLE,
    DSIM_LIN_NOT_LINEARIZABLE,
    DSIM_LIN_UNKNOWN, /* a limit was reached first */
} DsimLinVerdict;

typedef struct {
    /* Stop with UNKNOWN after @time_limit ns as measured by @now (monotonic ns); 0 = none.
     * The clock comes from the caller (the CLI) because the checker reads none itself; it is
     * consulted once every DSIM_LIN_CLOCK_EVERY steps. */
    int64_t  time_limit;
    int64_t (*now)(void *data);
    void    *now_data;
    /* Stop with UNKNOWN after this many search steps (0 = none): a deterministic limit. */
    uint64_t max_steps;
    /* Check a keyed model's history as one map instead of key by key (Porcupine's
     * kvNoPartitionModel). Same verdicts, far slower: for comparisons and for doubting
     * P-compositionality. */
    bool     no_partition;
} DsimLinOptions;

#define DSIM_LIN_CLOCK_EVERY 1024u

#define DSIM_LIN_NO_EVENT UINT32_MAX

/* An operation of the history, named by its events (indices into history->events). */
typedef struct {
    uint32_t invoke;
    uint32_t complete; /* DSIM_LIN_NO_EVENT when it never completed */
    char    *note;     /* prefix: the model state after it; pending: why it cannot come next */
} DsimLinOpRef;

typedef struct {
    DsimLinVerdict verdict;
    uint64_t       steps;          /* search steps, over all partitions */
    unsigned       n_ops;          /* operations checked (failed ones and unknown reads drop out) */
    unsigned       n_partitions;   /* keys, or 1 */
    unsigned       n_linearizable; /* partitions found linearizable */
    uint64_t       memo_entries;   /* (linearized set, state) pairs memoized, over all partitions */
    /* NOT_LINEARIZABLE: the smallest partition found not linearizable, and why. */
    char          *partition;      /* "key \"3\"", or NULL for the whole history */
    unsigned       partition_ops;
    GArray        *prefix;         /* DsimLinOpRef: the longest linearizable prefix found */
    char          *state;          /* the model state after the prefix */
    GArray        *pending;        /* DsimLinOpRef: the operations that could come next; none can */
    uint32_t       next_complete;  /* the completion they all precede (an event), or DSIM_LIN_NO_EVENT */
    /* UNKNOWN: the partitions not finished. */
    GPtrArray     *unfinished;     /* char * */
} DsimLinResult;

/* Checks @h under @m. Returns a new result (free with dsim_lin_result_free()), or NULL with
 * @error set when an operation does not fit the model or the history is not well formed
 * (messages "FILE:LINE: ..."). @opt may be NULL (no limits). The result refers to events of
 * @h by index: print it while @h lives. */
DsimLinResult *dsim_lin_check(const DsimLinHistory *h, const DsimLinModel *m,
                              const DsimLinOptions *opt, GError **error);
void           dsim_lin_result_free(DsimLinResult *r); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimLinResult, dsim_lin_result_free)

/* Appends the explanation of a NOT_LINEARIZABLE or UNKNOWN result to @out (nothing for
 * LINEARIZABLE): the partition, the end of the longest linearizable prefix with the state it
 * leaves, then each operation that could come next and why it cannot. At most @max_prefix
 * prefix operations are shown (the last ones); 0 shows them all. */
void dsim_lin_result_explain(const DsimLinResult *r, const DsimLinHistory *h, unsigned max_prefix,
                             GString *out);
/* Appends "process 3 cas [2 4] info (line 7)" for an operation: one line, no newline. */
void dsim_lin_op_format(const DsimLinHistory *h, const DsimLinOpRef *op, GString *out);

#endif /* DSIM_LINCHECK_H */
