/* scenario.h - a scenario as plain data: what the loader makes of an XML file.
 *
 * The loader (scenario.c) turns a file into a DsimScenario and raises every input error,
 * each as one line "FILE:LINE: message" in a GError of domain DSIM_SCENARIO_ERROR. Nothing
 * downstream (build.c, world.c) can meet a bad input: names are resolved to indices, values
 * to integers with units, protocol parameters to filled config structs. Tests may build a
 * scenario from a string with dsim_scenario_load_buffer().
 *
 * Node ids are dense: groups in file order, members in index order, so the node "r3" of the
 * first group "r" with count 5 has id 2, and the first member of the next group has id 5.
 */
#ifndef DSIM_SCENARIO_H
#define DSIM_SCENARIO_H

#include "sim/dist.h"
#include "sim/dsim.h"

#define DSIM_SCENARIO_ERROR (dsim_scenario_error_quark())
typedef enum {
    DSIM_SCENARIO_ERROR_IO,               /* cannot read, or too large */
    DSIM_SCENARIO_ERROR_PARSE,            /* not well-formed XML, DOCTYPE/entities */
    DSIM_SCENARIO_ERROR_SCHEMA,           /* fails dsim.rng */
    DSIM_SCENARIO_ERROR_BAD_VALUE,        /* "5x" is not a duration; out of range */
    DSIM_SCENARIO_ERROR_UNKNOWN_PROTOCOL,
    DSIM_SCENARIO_ERROR_UNKNOWN_PARAM,
    DSIM_SCENARIO_ERROR_UNKNOWN_NAME,     /* selector/node/group/invariant naming nothing */
    DSIM_SCENARIO_ERROR_DUPLICATE,        /* duplicate ids / names */
    DSIM_SCENARIO_ERROR_INCONSISTENT,     /* end before start, workload on a protocol without requests... */
} DsimScenarioError;
GQuark dsim_scenario_error_quark(void);

/* Largest scenario file accepted, checked before parsing. */
#define DSIM_SCENARIO_MAX_BYTES (4u * 1024u * 1024u)
/* Largest world: nodes over all groups. */
#define DSIM_SCENARIO_MAX_NODES 10000000u

/* ---- node selectors (resolved when a fault fires) ---------------------- */

typedef enum {
    DSIM_SEL_NODE,     /* "r3" */
    DSIM_SEL_GROUP,    /* "r": every member */
    DSIM_SEL_LEADER,   /* "leader(r)" */
    DSIM_SEL_FOLLOWER, /* "follower(r)" (k = 1) or "follower(r,k)" */
    DSIM_SEL_RANDOM,   /* "random(r,k)" */
    DSIM_SEL_MINORITY, /* "minority(r)": floor((n-1)/2) random members */
    DSIM_SEL_MAJORITY, /* "majority(r)": floor(n/2)+1 random members */
    DSIM_SEL_CRASHED,  /* "crashed": every crashed node of the world */
    DSIM_SEL_CAPTURE,  /* "L1", "L1+2": nodes captured by an earlier fault's as="L1" */
} DsimSelKind;

typedef struct {
    DsimSelKind kind;
    unsigned    group;   /* group index (NODE, GROUP, LEADER, FOLLOWER, RANDOM, MINORITY, MAJORITY) */
    DsimNodeId  node;    /* NODE */
    unsigned    k;       /* FOLLOWER, RANDOM */
    char       *capture; /* CAPTURE: the name given in as="..." */
    unsigned    offset;  /* CAPTURE: "+N" */
} DsimSelector;

/* A comma-separated list of selectors: GArray of DsimSelector. */
typedef GArray DsimSelectorList;

/* ---- network ------------------------------------------------------------ */

typedef struct {
    DsimNodeId from, to;  /* a directed link */
    DsimDist  *latency;   /* NULL: the network's */
    double     loss;      /* < 0: the network's */
    double     duplicate; /* < 0: the network's */
    int        line;
} DsimLinkSpec;

typedef struct {
    DsimDist *latency;        /* default: constant 1ms when <network> says nothing */
    double    loss;           /* 0..1 */
    double    duplicate;      /* 0..1 */
    double    bandwidth_bps;  /* bits/s per sending node's uplink; 0 = unlimited */
    uint32_t  header_bytes;   /* added to every message's size for bandwidth; default 40 */
    GArray   *links;          /* DsimLinkSpec, file order; a later override of the same
                                 link replaces earlier fields it sets */
} DsimNetSpec;

/* ---- groups ------------------------------------------------------------- */

typedef struct {
    char               *id;       /* "r" */
    const DsimProtocol *protocol;
    unsigned            count;
    DsimNodeId          first;    /* id of member 1 */
    void               *config;   /* protocol->config_size bytes: defaults, then <param>s */
    GPtrArray          *param_names;  /* char*, the params the file set (for reports) */
    GPtrArray          *param_values; /* char*, same order */
    GArray             *param_lines;  /* int, same order: the <param>'s line (0: --param) */
    int                 line;
} DsimGroupSpec;

/* ---- workload ----------------------------------------------------------- */

typedef struct {
    char    *op;     /* "get", "put", "append", "cas" */
    double   weight; /* the weights of a mix sum to 1 */
} DsimMixItem;

typedef struct {
    char     *type;     /* "kv", "register" */
    unsigned  target;   /* group index */
    unsigned  clients;
    double    rate;     /* operations per second over all clients */
    unsigned  keys;
    GArray   *mix;      /* DsimMixItem */
    DsimTime  start, stop;
    DsimTime  timeout;  /* a client gives up on one attempt after this; default 1s */
    int       line;
} DsimWorkloadSpec;

/* ---- faults ------------------------------------------------------------- */

typedef enum {
    DSIM_FAULT_CRASH,
    DSIM_FAULT_RESTART,
    DSIM_FAULT_PAUSE,
    DSIM_FAULT_RESUME,
    DSIM_FAULT_DISCONNECT,
    DSIM_FAULT_CONNECT,
    DSIM_FAULT_PARTITION,
    DSIM_FAULT_BLOCK,
    DSIM_FAULT_UNBLOCK,
    DSIM_FAULT_HEAL,
    DSIM_FAULT_DRIFT,
    DSIM_FAULT_NEMESIS,
} DsimFaultKind;

typedef enum {
    DSIM_NEMESIS_RANDOM_HALVES,
    DSIM_NEMESIS_MAJORITIES_RING,
    DSIM_NEMESIS_BRIDGE,
    DSIM_NEMESIS_ISOLATE,
    DSIM_NEMESIS_ISOLATE_LEADER,
    DSIM_NEMESIS_CRASH_RESTART,
    DSIM_NEMESIS_PAUSE_RESUME,
} DsimNemesisKind;

typedef enum {
    DSIM_UNSYNCED_DEFAULT = 0, /* the scenario's <storage unsynced="..."/> */
    DSIM_UNSYNCED_KEEP,
    DSIM_UNSYNCED_LOSE,
} DsimUnsynced;

typedef struct {
    DsimFaultKind     kind;
    DsimTime          at;        /* NEMESIS: start */
    int               line;
    DsimSelectorList *nodes;     /* crash, restart, pause, resume, disconnect, connect, drift */
    GPtrArray        *sides;     /* partition: DsimSelectorList* per side ('|'-separated) */
    DsimSelectorList *from, *to; /* block, unblock */
    double            rate;      /* drift: clock rate, e.g. 1.05 */
    char             *as;        /* capture name, or NULL */
    DsimUnsynced      unsynced;  /* crash */
    DsimNemesisKind   nemesis;
    unsigned          target;    /* nemesis: group index */
    DsimTime          stop;      /* nemesis */
    DsimTime          every;     /* nemesis */
} DsimFaultSpec;

/* ---- checks ------------------------------------------------------------- */

typedef enum {
    DSIM_CHECK_INVARIANT,     /* <invariant name="..."/> */
    DSIM_CHECK_LINEARIZABLE,  /* <linearizable model="kv|register"/> */
    DSIM_CHECK_CONVERGE,      /* <converge within="..."/> (group optional) */
    DSIM_CHECK_EXPECT_METRIC, /* <expect metric=".." after=".." min/max=".."/> */
    DSIM_CHECK_EXPECT_LEADER, /* <expect at=".." [within] group=".." leader="one|none"/> */
    DSIM_CHECK_EXPECT_AGREE,  /* <expect at=".." [within] group=".." agree="all"/> */
} DsimCheckKind;

typedef struct {
    DsimCheckKind kind;
    int           line;
    char         *name;      /* invariant or metric name; model for LINEARIZABLE */
    int           group;     /* group index, -1 for all groups (CONVERGE, INVARIANT) */
    DsimTime      at;        /* EXPECT_LEADER/AGREE */
    DsimTime      within;    /* EXPECT_*, CONVERGE; 0 if absent */
    DsimTime      after;     /* EXPECT_METRIC */
    bool          has_min, has_max;
    double        min, max;  /* EXPECT_METRIC: bounds; a time metric's bounds are in seconds */
    bool          leader_one; /* EXPECT_LEADER: true "one", false "none" */
} DsimCheckSpec;

/* ---- report and sweep --------------------------------------------------- */

typedef struct {
    GPtrArray *plots;        /* char*, as listed in plots="a,b" */
    bool       has_spacetime;
    DsimTime   spacetime_from, spacetime_to;
} DsimReportSpec;

typedef struct {
    char      *param;   /* "r.election_timeout" */
    unsigned   group;
    GPtrArray *values;  /* char*, each already validated against the parameter's type */
    int        line;
} DsimVarySpec;

typedef struct {
    GArray   *vary;       /* DsimVarySpec */
    uint64_t  seed_lo, seed_hi; /* inclusive; both 0 when absent */
    int       line;
} DsimSweepSpec;

/* ---- the scenario ------------------------------------------------------- */

typedef struct {
    char          *file;        /* as given on the command line */
    char          *name;
    char          *description; /* may be NULL */
    uint64_t       seed;
    DsimTime       duration;
    DsimNetSpec    net;
    GArray        *groups;      /* DsimGroupSpec */
    unsigned       n_nodes;
    char         **node_names;  /* n_nodes entries, "r1".. */
    char          *node_name_block; /* when set, every node_names[i] points into this one
                                       block (a million names cost 16 MB, not 40) */
    GArray        *workloads;   /* DsimWorkloadSpec */
    GArray        *faults;      /* DsimFaultSpec, file order (stable-sorted by time at build) */
    bool           has_checks;  /* false: every invariant of every protocol runs */
    GArray        *checks;      /* DsimCheckSpec */
    DsimUnsynced   unsynced;    /* <storage unsynced="keep|lose"/>, default LOSE */
    DsimReportSpec report;
    bool           has_sweep;
    DsimSweepSpec  sweep;
} DsimScenario;

/* Loads and validates @path. Returns a new DsimScenario (transfer full; free with
 * dsim_scenario_free) or NULL with @error set to one line "FILE:LINE: message". */
DsimScenario *dsim_scenario_load_file(const char *path, GError **error);
/* The same from memory; @file names the buffer in messages. */
DsimScenario *dsim_scenario_load_buffer(const char *data, size_t len, const char *file,
                                        GError **error);
void          dsim_scenario_free(DsimScenario *sc); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimScenario, dsim_scenario_free)

/* Lookups over a loaded scenario; -1 / DSIM_NOBODY when absent. */
int        dsim_scenario_group_index(const DsimScenario *sc, const char *id);
DsimNodeId dsim_scenario_node_id(const DsimScenario *sc, const char *name);
/* Index of the group @node belongs to. */
unsigned   dsim_scenario_group_of(const DsimScenario *sc, DsimNodeId node);

/* Sets one protocol parameter of group @group from text, as <param> would (used by sweep and
 * --param). Returns FALSE with a message in @error (no FILE:LINE prefix) when invalid. */
gboolean   dsim_scenario_set_param(DsimScenario *sc, unsigned group, const char *name,
                                   const char *value, GError **error);

/* The RELAX NG schema compiled into the binary (scenarios/dsim.rng), NUL-terminated. */
extern const char dsim_schema_rng[];

#endif /* DSIM_SCENARIO_H */
