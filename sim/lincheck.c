/* lincheck.c - the linearizability checker: models, operations from events, the search.
 *
 * The search is Wing & Gong's (1993) with Lowe's memoization (Lowe, "Testing for
 * linearizability", 2017), in the shape Porcupine gives it (checker.go, checkSingle):
 * the invocation and completion entries of a history, sorted by time, form a doubly linked
 * list. Walking it from the head, each invocation met before the first completion is an
 * operation that may be linearized next; if the model accepts it from the current state and
 * the pair (linearized set with it, new state) has never been seen, it is "lifted" out of the
 * list with its completion, pushed on a stack, and the walk starts over from the head.
 * Meeting a completion means nothing before it can go next: pop the last choice, put it back
 * (dancing links: lift and unlift are O(1)) and try the entry after it. The history is
 * linearizable when every operation whose outcome is known has been lifted, and is not when
 * the stack is empty at a completion. The memo is what makes this practical: without it the
 * search is exponential in the concurrency; with it each (set, state) pair is expanded once.
 *
 * Operations of unknown outcome (Jepsen :info, or never completed) have no completion entry:
 * their completion is at +infinity, so they never force a backtrack, may be lifted at any
 * point after their invocation, and need not be lifted at all ("or never"). A read whose
 * result is unknown changes nothing and constrains nothing, so it is dropped up front, as
 * are :fail operations (they did not happen) except where a model gives them meaning.
 *
 * Models whose state is a map of independent keys are checked one key at a time: a history
 * is linearizable iff each key's sub-history is (P-compositionality, Horn & Kroening 2015,
 * "Faster linearizability checking via P-compositionality"). The partitions are searched in
 * turns of SLICE_STEPS steps each, smallest first, rather than one after the other: one
 * hard key (c50-bad's keys "0" and "9" in Porcupine's corpus exhaust gigabytes either way)
 * must not hide an easy refutation of another. Porcupine runs partitions in
 * parallel goroutines for the same reason; turns keep the result independent of threads and
 * timing (except where a time limit cuts the search short).
 *
 * States are small integers: values are interned (equal values, equal ids), a key-value
 * string state is the id of its interned bytes, a multi-register state the id of its tuple.
 * The memo is an open-addressing hash set of (bitset, state), the bitset hashed
 * incrementally (Zobrist: XOR of one random word per linearized operation).
 */
#include "sim/lincheck.h"

#include <string.h>

#include "sim/rng.h"
#include "sim/time.h"

#define SLICE_STEPS (1u << 16) /* steps a partition runs before the next one's turn */
#define NEVER       INT64_MAX  /* the completion time of an operation of unknown outcome */

/* ---- the models ---------------------------------------------------------------------- */

const DsimLinModel dsim_lin_models[] = {
    { "register", "dsim's register workload: read, write, cas on one string per key, initially \"\"",
      DSIM_LIN_REGISTER, "\"\"", .by_key = true, .nil_is_empty = true },
    { "kv", "dsim's kv workload: get, put, append, cas on a string per key, initially \"\"",
      DSIM_LIN_KV, "\"\"", .by_key = true, .nil_is_empty = true },
    { "etcd-cas-register", "Porcupine's etcd model: one register, initially absent (nil); a failed cas saw another value",
      DSIM_LIN_REGISTER, "nil", .keep_failed_cas = true },
    { "kv-get-put-append", "Porcupine's kvModel: get, put, append on a string per key, initially \"\"",
      DSIM_LIN_KV, "\"\"", .by_key = true },
    { "cas-register(init=0)", "Knossos' (cas-register 0): read, write, cas; a read of nil tells nothing",
      DSIM_LIN_REGISTER, "0", .nil_read_unknown = true },
    { "cas-register(init=nil)", "Knossos' (cas-register nil): read, write, cas; a read of nil tells nothing",
      DSIM_LIN_REGISTER, "nil", .nil_read_unknown = true },
    { "multi-register(x=0,y=0)", "Knossos' (multi-register {:x 0 :y 0}): :txn of [:read k v] and [:write k v]",
      DSIM_LIN_MULTI, "x=0,y=0", .nil_read_unknown = true },
    { NULL },
};

const DsimLinModel *dsim_lin_model_find(const char *name)
{
    for (const DsimLinModel *m = dsim_lin_models; m->name != NULL; m++) {
        if (strcmp(m->name, name) == 0)
            return m;
    }
    return NULL;
}

/* ---- small tables --------------------------------------------------------------------- */

/* splitmix64's finalizer: spreads the bits of a 64-bit key over the whole word. */
static inline uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Byte strings to dense ids: equal bytes, equal id. The hash is polynomial,
 * H(s) = sum s[i] * P^(n-1-i) mod 2^64, because it composes: H(a b) = H(a) P^|b| + H(b).
 * A string made by an append is hashed in O(1) from its two parts, and compared byte by
 * byte only against a candidate of the same hash and length. (A weak hash for an adversary,
 * but a collision costs time, never a wrong answer.) */
#define POLY_P 0x100000001b3ULL /* FNV's prime: odd, with spread bits */

typedef struct {
    char    *data; /* owned, NUL-terminated */
    uint32_t len;
    uint64_t hash; /* H(data) */
    uint64_t pow;  /* P^len */
} Blob;

typedef struct {
    GArray   *blobs; /* Blob, by id */
    uint32_t *table; /* id + 1, open addressing; 0 = empty */
    size_t    mask;
} Interner;

static void blob_clear(gpointer p)
{
    g_free(((Blob *) p)->data);
}

static void interner_init(Interner *in)
{
    in->blobs = g_array_new(FALSE, FALSE, sizeof(Blob));
    g_array_set_clear_func(in->blobs, blob_clear);
    in->mask = 255;
    in->table = g_new0(uint32_t, in->mask + 1);
}

static void interner_clear(Interner *in)
{
    g_clear_pointer(&in->blobs, g_array_unref);
    g_clear_pointer(&in->table, g_free);
}

static void poly_hash(const void *data, size_t len, uint64_t *hash, uint64_t *pow)
{
    const unsigned char *p = data;
    uint64_t h = 0, q = 1;
    for (size_t k = 0; k < len; k++) {
        h = h * POLY_P + p[k] + 1;
        q *= POLY_P;
    }
    *hash = h;
    *pow = q;
}

static inline size_t slot_of(uint64_t hash, uint32_t len)
{
    return (size_t) mix64(hash ^ ((uint64_t) len << 40));
}

/* The id of the bytes a (la bytes) then b (lb bytes), with hash @hash, or UINT32_MAX. */
static uint32_t interner_find(const Interner *in, const char *a, size_t la, const char *b, size_t lb, uint64_t hash)
{
    for (size_t i = slot_of(hash, (uint32_t) (la + lb)) & in->mask; in->table[i] != 0; i = (i + 1) & in->mask) {
        const Blob *x = &g_array_index(in->blobs, Blob, in->table[i] - 1);
        if (x->hash == hash && x->len == la + lb && (la == 0 || memcmp(x->data, a, la) == 0)
            && (lb == 0 || memcmp(x->data + la, b, lb) == 0))
            return in->table[i] - 1;
    }
    return UINT32_MAX;
}

/* Adds a blob that is not there yet (@data is taken); returns its id. */
static uint32_t interner_insert(Interner *in, char *data, size_t len, uint64_t hash, uint64_t pow)
{
    g_assert(len < UINT32_MAX && in->blobs->len < UINT32_MAX - 1);
    Blob x = { data, (uint32_t) len, hash, pow };
    uint32_t id = in->blobs->len;
    g_array_append_val(in->blobs, x);
    if ((size_t) in->blobs->len * 2 > in->mask + 1) {
        g_free(in->table);
        in->mask = in->mask * 2 + 1;
        in->table = g_new0(uint32_t, in->mask + 1);
        for (uint32_t k = 0; k < in->blobs->len; k++) {
            const Blob *y = &g_array_index(in->blobs, Blob, k);
            size_t i = slot_of(y->hash, y->len) & in->mask;
            while (in->table[i] != 0)
                i = (i + 1) & in->mask;
            in->table[i] = k + 1;
        }
        return id;
    }
    size_t i = slot_of(hash, (uint32_t) len) & in->mask;
    while (in->table[i] != 0)
        i = (i + 1) & in->mask;
    in->table[i] = id + 1;
    return id;
}

static uint32_t interner_add(Interner *in, const void *data, size_t len)
{
    uint64_t hash, pow;
    poly_hash(data, len, &hash, &pow);
    uint32_t id = interner_find(in, data, len, NULL, 0, hash);
    if (id != UINT32_MAX)
        return id;
    char *copy = g_malloc(len + 1);
    if (len > 0)
        memcpy(copy, data, len);
    copy[len] = '\0';
    return interner_insert(in, copy, len, hash, pow);
}

/* The id of blob @a followed by blob @b, made if new: O(1) unless it is new or a candidate
 * of equal hash must be compared. */
static uint32_t interner_concat(Interner *in, uint32_t a, uint32_t b)
{
    const Blob *x = &g_array_index(in->blobs, Blob, a);
    const Blob *y = &g_array_index(in->blobs, Blob, b);
    uint64_t hash = x->hash * y->pow + y->hash;
    uint32_t id = interner_find(in, x->data, x->len, y->data, y->len, hash);
    if (id != UINT32_MAX)
        return id;
    size_t len = (size_t) x->len + y->len;
    char *s = g_malloc(len + 1);
    memcpy(s, x->data, x->len);
    memcpy(s + x->len, y->data, y->len);
    s[len] = '\0';
    return interner_insert(in, s, len, hash, x->pow * y->pow);
}

static const void *interner_get(const Interner *in, uint32_t id, size_t *len)
{
    const Blob *x = &g_array_index(in->blobs, Blob, id);
    *len = x->len;
    return x->data;
}


/* uint64 -> uint32, open addressing; for the memo of appends (state, argument) -> state. */
typedef struct {
    uint64_t *keys;
    uint32_t *vals; /* value + 1; 0 = empty slot */
    size_t    mask, used;
} U64Map;

static void u64map_clear(U64Map *m)
{
    g_free(m->keys);
    g_free(m->vals);
    memset(m, 0, sizeof *m);
}

static bool u64map_get(const U64Map *m, uint64_t key, uint32_t *val)
{
    if (m->vals == NULL)
        return false;
    for (size_t i = mix64(key) & m->mask;; i = (i + 1) & m->mask) {
        if (m->vals[i] == 0)
            return false;
        if (m->keys[i] == key) {
            *val = m->vals[i] - 1;
            return true;
        }
    }
}

static void u64map_put(U64Map *m, uint64_t key, uint32_t val)
{
    if ((m->used + 1) * 2 > m->mask + 1 || m->vals == NULL) {
        U64Map old = *m;
        size_t n = old.vals == NULL ? 1024 : (old.mask + 1) * 2;
        m->keys = g_new(uint64_t, n);
        m->vals = g_new0(uint32_t, n);
        m->mask = n - 1;
        m->used = 0;
        for (size_t i = 0; old.vals != NULL && i <= old.mask; i++) {
            if (old.vals[i] != 0)
                u64map_put(m, old.keys[i], old.vals[i] - 1);
        }
        u64map_clear(&old);
    }
    size_t i = mix64(key) & m->mask;
    while (m->vals[i] != 0 && m->keys[i] != key)
        i = (i + 1) & m->mask;
    if (m->vals[i] == 0)
        m->used++;
    m->keys[i] = key;
    m->vals[i] = val + 1;
}

/* ---- operations ------------------------------------------------------------------------- */

typedef enum { OP_READ, OP_WRITE, OP_CAS, OP_APPEND, OP_TXN } OpKind;
typedef enum { ST_OK, ST_FAIL, ST_INFO } OpStatus;

typedef struct {
    int64_t      call, ret;        /* ret is NEVER when the outcome is unknown */
    uint32_t     invoke, complete; /* events; complete is DSIM_LIN_NO_EVENT when none */
    DsimLinValue key;              /* the partition */
    uint8_t      kind, status;     /* OpKind, OpStatus */
    uint32_t     a, b, out;        /* model values: write/put/append argument, cas expected (a)
                                    * and new (b), read/get result (out) */
    uint32_t     txn, n_txn;       /* micro-operations in Check.micro */
    uint32_t     slot;             /* whole-map checking: the key's place in the state tuple */
} Op;

typedef struct {
    bool     write;
    bool     known; /* reads: false when the value read is unknown (nil) */
    uint32_t reg;   /* index into Check.regs */
    uint32_t value; /* model value */
} Micro;

typedef struct {
    const DsimLinHistory *h;
    const DsimLinModel   *m;
    GArray   *ops;      /* Op, in completion order (never completed: last) */
    GArray   *micro;    /* Micro */
    Interner  values;   /* REGISTER/MULTI: EDN texts; KV: string bytes */
    Interner  tuples;   /* MULTI states: arrays of value ids */
    GPtrArray *regs;    /* MULTI: register names (char *) */
    uint32_t  init;     /* the initial state */
    uint32_t  empty;    /* KV: the id of "" */
    U64Map    appends;  /* KV: (state << 32 | argument) -> state */
    /* Whole-map checking (DsimLinOptions.no_partition): the state is a tuple of one value
     * per key, in Check.tuples; a key's place in it is its slot. */
    bool        map;
    GHashTable *slots;     /* key + 1 -> slot + 1 */
    GArray     *slot_keys; /* DsimLinValue, by slot */
    uint32_t   *scratch;   /* one tuple */
    GError    **error;
} Check;

static bool op_error(Check *c, uint32_t event, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static bool op_error(Check *c, uint32_t event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    const DsimLinEvent *ev = &g_array_index(c->h->events, DsimLinEvent, event);
    g_set_error(c->error, DSIM_LIN_ERROR, DSIM_LIN_ERROR_MODEL, "%s:%u: %s", c->h->name, ev->line, msg);
    return false;
}

static const DsimLinEvent *event(const Check *c, uint32_t i)
{
    return &g_array_index(c->h->events, DsimLinEvent, i);
}

static const char *text_of(const Check *c, DsimLinValue v) { return dsim_lin_val(c->h, v)->text; }

/* A history value as a model value, or false (with the error set) when the model has no
 * such value. */
static bool model_value(Check *c, uint32_t ev, DsimLinValue v, uint32_t *out)
{
    const DsimLinVal *val = dsim_lin_val(c->h, v);
    if (c->m->family == DSIM_LIN_KV) {
        if (val->kind == DSIM_LIN_VAL_NIL && c->m->nil_is_empty) {
            *out = c->empty;
            return true;
        }
        if (val->kind != DSIM_LIN_VAL_STRING)
            return op_error(c, ev, "%s: the values of model %s are strings", val->text, c->m->name);
        *out = interner_add(&c->values, val->s, val->n);
        return true;
    }
    if (val->kind == DSIM_LIN_VAL_NIL && c->m->nil_is_empty)
        *out = interner_add(&c->values, "\"\"", 2);
    else
        *out = interner_add(&c->values, val->text, strlen(val->text));
    return true;
}

/* The operation @name names in the model's family, or false. */
static bool op_kind(const DsimLinModel *m, const char *name, OpKind *kind)
{
    static const struct {
        DsimLinFamily family;
        const char   *name;
        OpKind        kind;
    } table[] = {
        { DSIM_LIN_REGISTER, "read", OP_READ },   { DSIM_LIN_REGISTER, "write", OP_WRITE },
        { DSIM_LIN_REGISTER, "cas", OP_CAS },     { DSIM_LIN_KV, "get", OP_READ },
        { DSIM_LIN_KV, "put", OP_WRITE },         { DSIM_LIN_KV, "append", OP_APPEND },
        { DSIM_LIN_KV, "cas", OP_CAS },           { DSIM_LIN_MULTI, "txn", OP_TXN },
    };
    for (unsigned k = 0; k < G_N_ELEMENTS(table); k++) {
        if (table[k].family == m->family && strcmp(table[k].name, name) == 0) {
            *kind = table[k].kind;
            return true;
        }
    }
    return false;
}

static const char *family_ops(DsimLinFamily f)
{
    return f == DSIM_LIN_REGISTER ? "read, write, cas" : f == DSIM_LIN_KV ? "get, put, append, cas" : "txn";
}

/* Reads the micro-operations [[:read :x 1] [:write :y 2]] of a transaction into c->micro.
 * Sets *useless when none writes and no read value is known (it can be dropped). */
static bool parse_txn(Check *c, uint32_t ev, DsimLinValue v, Op *op, bool *useless)
{
    const DsimLinVal *val = dsim_lin_val(c->h, v);
    if (val->kind != DSIM_LIN_VAL_VECTOR)
        return op_error(c, ev, "txn %s: expected a vector of [:read k v] and [:write k v]", val->text);
    op->txn = c->micro->len;
    op->n_txn = val->n;
    *useless = true;
    for (uint32_t k = 0; k < val->n; k++) {
        const DsimLinVal *mv = dsim_lin_val(c->h, dsim_lin_item(c->h, val, k));
        if (mv->kind != DSIM_LIN_VAL_VECTOR || mv->n != 3)
            return op_error(c, ev, "txn: %s is not [:read k v] or [:write k v]", mv->text);
        const DsimLinVal *f = dsim_lin_val(c->h, dsim_lin_item(c->h, mv, 0));
        const DsimLinVal *reg = dsim_lin_val(c->h, dsim_lin_item(c->h, mv, 1));
        DsimLinValue x = dsim_lin_item(c->h, mv, 2);
        Micro mo = { 0 };
        if ((f->kind == DSIM_LIN_VAL_KEYWORD || f->kind == DSIM_LIN_VAL_STRING) && strcmp(f->s, "write") == 0)
            mo.write = true;
        else if (!((f->kind == DSIM_LIN_VAL_KEYWORD || f->kind == DSIM_LIN_VAL_STRING) && strcmp(f->s, "read") == 0))
            return op_error(c, ev, "txn: %s: a micro-operation is :read or :write", mv->text);
        bool found = false;
        for (uint32_t r = 0; r < c->regs->len && (reg->kind == DSIM_LIN_VAL_KEYWORD || reg->kind == DSIM_LIN_VAL_STRING); r++) {
            if (strcmp(g_ptr_array_index(c->regs, r), reg->s) == 0) {
                mo.reg = r;
                found = true;
            }
        }
        if (!found)
            return op_error(c, ev, "txn: %s: model %s has no register %s", mv->text, c->m->name, reg->text);
        mo.known = mo.write || x != DSIM_LIN_NIL;
        if (mo.known && !model_value(c, ev, x, &mo.value))
            return false;
        if (mo.known)
            *useless = false;
        g_array_append_val(c->micro, mo);
    }
    return true;
}

/* Makes the operation of invocation @inv and completion @done (DSIM_LIN_NO_EVENT: never
 * completed), or drops it when it cannot matter. */
static bool add_op(Check *c, uint32_t inv, uint32_t done)
{
    const DsimLinModel *m = c->m;
    const DsimLinEvent *iv = event(c, inv);
    const DsimLinEvent *cv = done != DSIM_LIN_NO_EVENT ? event(c, done) : NULL;
    const char *fname = dsim_lin_val(c->h, iv->f)->s;
    Op op = { .call = iv->time, .ret = NEVER, .invoke = inv, .complete = done, .key = iv->key, .status = ST_INFO };
    OpKind kind;
    if (!op_kind(m, fname, &kind))
        return op_error(c, inv, "model %s has no operation '%s' (it has %s)", m->name, fname, family_ops(m->family));
    op.kind = (uint8_t) kind;

    if (cv != NULL && cv->type == DSIM_LIN_FAIL) {
        /* It did not happen, so it is left out (Knossos: "can't influence state"); except
         * that under Porcupine's etcd model a failed cas says the compare failed. */
        if (!(m->keep_failed_cas && kind == OP_CAS))
            return true;
        op.status = ST_FAIL;
        op.ret = cv->time;
    } else if (cv != NULL && cv->type == DSIM_LIN_OK) {
        op.status = ST_OK;
        op.ret = cv->time;
    }
    if (m->by_key && m->family == DSIM_LIN_KV && iv->key == DSIM_LIN_NIL)
        return op_error(c, inv, "%s has no key (model %s is a map of keys)", fname, m->name);
    if (c->map) {
        gpointer found = g_hash_table_lookup(c->slots, GUINT_TO_POINTER(iv->key + 1));
        if (found == NULL) {
            g_array_append_val(c->slot_keys, iv->key);
            found = GUINT_TO_POINTER(c->slot_keys->len);
            g_hash_table_insert(c->slots, GUINT_TO_POINTER(iv->key + 1), found);
        }
        op.slot = GPOINTER_TO_UINT(found) - 1;
    }

    /* The arguments are the invocation's; a history may leave them to the completion. */
    DsimLinValue arg = iv->value;
    if (arg == DSIM_LIN_NIL && cv != NULL)
        arg = cv->value;
    switch (kind) {
    case OP_READ: {
        if (op.status != ST_OK)
            return true; /* result unknown: constrains nothing, changes nothing */
        DsimLinValue got = cv->value;
        if (got == DSIM_LIN_NIL && m->nil_read_unknown)
            return true; /* Knossos: a read of nil reads nothing in particular */
        if (!model_value(c, done, got, &op.out))
            return false;
        break;
    }
    case OP_WRITE:
    case OP_APPEND:
        if (!model_value(c, inv, arg, &op.a))
            return false;
        break;
    case OP_CAS: {
        const DsimLinVal *v = dsim_lin_val(c->h, arg);
        if (v->kind != DSIM_LIN_VAL_VECTOR || v->n != 2)
            return op_error(c, inv, "cas %s: expected [expected new]", v->text);
        if (!model_value(c, inv, dsim_lin_item(c->h, v, 0), &op.a)
            || !model_value(c, inv, dsim_lin_item(c->h, v, 1), &op.b))
            return false;
        break;
    }
    case OP_TXN: {
        /* the completion's value has what the reads saw (Knossos' history/complete) */
        DsimLinValue tv = cv != NULL && cv->type == DSIM_LIN_OK && cv->value != DSIM_LIN_NIL ? cv->value : iv->value;
        bool useless = false;
        if (!parse_txn(c, inv, tv, &op, &useless))
            return false;
        if (useless)
            return true;
        break;
    }
    }
    g_array_append_val(c->ops, op);
    return true;
}

static gint by_time(gconstpointer pa, gconstpointer pb, gpointer data)
{
    const GArray *events = data;
    uint32_t a = *(const uint32_t *) pa, b = *(const uint32_t *) pb;
    int64_t ta = g_array_index(events, DsimLinEvent, a).time, tb = g_array_index(events, DsimLinEvent, b).time;
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Pairs invocations with completions, process by process, and makes the operations. */
static bool make_ops(Check *c)
{
    const GArray *events = c->h->events;
    g_autofree uint32_t *order = g_new(uint32_t, events->len + 1);
    for (uint32_t i = 0; i < events->len; i++)
        order[i] = i;
    if (c->h->timed)
        g_qsort_with_data(order, (gint) events->len, sizeof *order, by_time, (gpointer) events);

    /* process -> position of its open invocation in opens[] + 1 */
    g_autoptr(GHashTable) open = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    g_autoptr(GArray) opens = g_array_new(FALSE, FALSE, sizeof(uint32_t)); /* invocations, in order */
    for (uint32_t k = 0; k < events->len; k++) {
        uint32_t i = order[k];
        const DsimLinEvent *ev = event(c, i);
        if (ev->process == DSIM_LIN_NOT_CLIENT)
            continue;
        gpointer found = g_hash_table_lookup(open, &ev->process);
        uint32_t pos = GPOINTER_TO_UINT(found) - 1;
        if (ev->type == DSIM_LIN_INVOKE) {
            if (found != NULL) {
                const DsimLinEvent *prev = event(c, g_array_index(opens, uint32_t, pos));
                return op_error(c, i, "process %" G_GINT64_FORMAT " invokes %s while its %s of line %u has not completed "
                                "(a process runs one operation at a time; after info, continue under a new process id)",
                                ev->process, text_of(c, ev->f), text_of(c, prev->f), prev->line);
            }
            g_array_append_val(opens, i);
            g_hash_table_insert(open, g_memdup2(&ev->process, sizeof ev->process), GUINT_TO_POINTER(opens->len));
            continue;
        }
        if (found == NULL) {
            if (ev->type == DSIM_LIN_INFO)
                continue; /* Knossos ignores an :info that completes nothing */
            return op_error(c, i, "process %" G_GINT64_FORMAT " completes %s, but has no operation in progress%s",
                            ev->process, text_of(c, ev->f),
                            c->h->timed ? " (or its invocation has a later time)" : "");
        }
        uint32_t inv = g_array_index(opens, uint32_t, pos);
        if (event(c, inv)->f != ev->f)
            return op_error(c, i, "process %" G_GINT64_FORMAT " completes %s, but invoked %s at line %u",
                            ev->process, text_of(c, ev->f), text_of(c, event(c, inv)->f), event(c, inv)->line);
        g_hash_table_remove(open, &ev->process);
        g_array_index(opens, uint32_t, pos) = DSIM_LIN_NO_EVENT;
        if (!add_op(c, inv, i))
            return false;
    }
    /* Invocations never completed: outcome unknown. */
    for (uint32_t j = 0; j < opens->len; j++) {
        uint32_t inv = g_array_index(opens, uint32_t, j);
        if (inv != DSIM_LIN_NO_EVENT && !add_op(c, inv, DSIM_LIN_NO_EVENT))
            return false;
    }
    return true;
}

static bool check_init(Check *c)
{
    const DsimLinModel *m = c->m;
    c->ops = g_array_new(FALSE, FALSE, sizeof(Op));
    c->micro = g_array_new(FALSE, FALSE, sizeof(Micro));
    c->regs = g_ptr_array_new_with_free_func(g_free);
    interner_init(&c->values);
    interner_init(&c->tuples);
    switch (m->family) {
    case DSIM_LIN_REGISTER:
        c->init = interner_add(&c->values, m->init, strlen(m->init));
        break;
    case DSIM_LIN_KV:
        c->empty = interner_add(&c->values, "", 0);
        g_assert(strcmp(m->init, "\"\"") == 0);
        c->init = c->empty;
        break;
    case DSIM_LIN_MULTI: {
        /* "x=0,y=0": register names and initial values */
        g_auto(GStrv) parts = g_strsplit(m->init, ",", -1);
        g_autofree uint32_t *tuple = g_new(uint32_t, g_strv_length(parts));
        for (unsigned k = 0; parts[k] != NULL; k++) {
            char *eq = strchr(parts[k], '=');
            g_assert(eq != NULL);
            g_ptr_array_add(c->regs, g_strndup(parts[k], (gsize) (eq - parts[k])));
            tuple[k] = interner_add(&c->values, eq + 1, strlen(eq + 1));
        }
        c->init = interner_add(&c->tuples, tuple, c->regs->len * sizeof *tuple);
        break;
    }
    }
    return true;
}

static void check_clear(Check *c)
{
    g_clear_pointer(&c->ops, g_array_unref);
    g_clear_pointer(&c->micro, g_array_unref);
    g_clear_pointer(&c->regs, g_ptr_array_unref);
    g_clear_pointer(&c->slots, g_hash_table_destroy);
    g_clear_pointer(&c->slot_keys, g_array_unref);
    g_clear_pointer(&c->scratch, g_free);
    interner_clear(&c->values);
    interner_clear(&c->tuples);
    u64map_clear(&c->appends);
}

/* ---- the model step --------------------------------------------------------------------- */

static uint32_t append(Check *c, uint32_t state, uint32_t arg)
{
    uint64_t key = (uint64_t) state << 32 | arg;
    uint32_t next;
    if (u64map_get(&c->appends, key, &next))
        return next;
    next = interner_concat(&c->values, state, arg);
    u64map_put(&c->appends, key, next);
    return next;
}

/* Applies a transaction; false at the first read that disagrees. */
static bool txn(Check *c, uint32_t state, const Op *op, uint32_t *next)
{
    size_t len;
    const uint32_t *regs = interner_get(&c->tuples, state, &len);
    uint32_t tuple[16];
    g_assert(len <= sizeof tuple);
    memcpy(tuple, regs, len);
    bool wrote = false;
    for (uint32_t k = 0; k < op->n_txn; k++) {
        const Micro *mo = &g_array_index(c->micro, Micro, op->txn + k);
        if (mo->write) {
            tuple[mo->reg] = mo->value;
            wrote = true;
        } else if (mo->known && tuple[mo->reg] != mo->value) {
            return false;
        }
    }
    *next = wrote ? interner_add(&c->tuples, tuple, len) : state;
    return true;
}

/* The model: may @op take effect in @state, and what state follows? Operations of unknown
 * outcome only ever take effect in full: a cas that would not match is simply not
 * linearized (it may be left out), which is the same as Porcupine's "legal, no change". */
static inline bool value_step(Check *c, uint32_t state, const Op *op, uint32_t *next)
{
    switch ((OpKind) op->kind) {
    case OP_READ:
        *next = state;
        return op->out == state;
    case OP_WRITE:
        *next = op->a;
        return true;
    case OP_CAS:
        if (op->status == ST_FAIL) {
            *next = state;
            return state != op->a;
        }
        *next = op->b;
        return state == op->a;
    case OP_APPEND:
        *next = append(c, state, op->a);
        return true;
    case OP_TXN:
        return txn(c, state, op, next);
    }
    g_assert_not_reached();
}

/* Whole-map checking: the step of the operation's key, in a tuple of all keys. */
static bool map_step(Check *c, uint32_t state, const Op *op, uint32_t *next)
{
    size_t len;
    const uint32_t *t = interner_get(&c->tuples, state, &len);
    uint32_t v = t[op->slot], nv;
    if (!value_step(c, v, op, &nv))
        return false;
    if (nv == v) {
        *next = state;
        return true;
    }
    memcpy(c->scratch, t, len);
    c->scratch[op->slot] = nv;
    *next = interner_add(&c->tuples, c->scratch, len);
    return true;
}

static inline bool step(Check *c, uint32_t state, const Op *op, uint32_t *next)
{
    if (G_UNLIKELY(c->map))
        return map_step(c, state, op, next);
    return value_step(c, state, op, next);
}

#define SHOW_MAX 48 /* longer values print as their head, "...", and their tail */

/* Appends @text, or, when longer than SHOW_MAX bytes, its start and its end (appends grow
 * values at the end, so the end is what tells two long values apart). */
static void append_short(GString *out, const char *text)
{
    size_t len = strlen(text);
    if (len <= SHOW_MAX) {
        g_string_append(out, text);
        return;
    }
    size_t head = SHOW_MAX / 2 - 8, tail = SHOW_MAX / 2 + 5;
    while (head > 0 && (text[head] & 0xc0) == 0x80)
        head--; /* do not cut a UTF-8 sequence */
    while (tail > 0 && (text[len - tail] & 0xc0) == 0x80)
        tail--;
    g_string_append_printf(out, "%.*s...%s (%zu bytes)", (int) head, text, text + len - tail, len);
}

/* A register value or a key's string, as EDN. */
static void format_value(const Check *c, uint32_t v, GString *out)
{
    size_t len;
    switch (c->m->family) {
    case DSIM_LIN_REGISTER:
    case DSIM_LIN_MULTI: {
        const char *t = interner_get(&c->values, v, &len);
        g_string_append_len(out, t, (gssize) len);
        break;
    }
    case DSIM_LIN_KV: {
        const char *s = interner_get(&c->values, v, &len);
        g_string_append_c(out, '"');
        for (size_t k = 0; k < len; k++) {
            if (s[k] == '"' || s[k] == '\\')
                g_string_append_c(out, '\\');
            g_string_append_c(out, s[k]);
        }
        g_string_append_c(out, '"');
        break;
    }
    }
}

static void format_state(const Check *c, uint32_t state, GString *out)
{
    size_t len;
    if (c->map) {
        const uint32_t *t = interner_get(&c->tuples, state, &len);
        g_string_append_c(out, '{');
        for (uint32_t k = 0; k < c->slot_keys->len; k++) {
            g_string_append_printf(out, "%s%s ", k > 0 ? ", " : "", text_of(c, g_array_index(c->slot_keys, DsimLinValue, k)));
            format_value(c, t[k], out);
        }
        g_string_append_c(out, '}');
        return;
    }
    switch (c->m->family) {
    case DSIM_LIN_REGISTER:
    case DSIM_LIN_KV:
        format_value(c, state, out);
        break;
    case DSIM_LIN_MULTI: {
        const uint32_t *t = interner_get(&c->tuples, state, &len);
        g_string_append_c(out, '{');
        for (uint32_t r = 0; r < c->regs->len; r++) {
            size_t vl;
            const char *v = interner_get(&c->values, t[r], &vl);
            g_string_append_printf(out, "%s:%s %.*s", r > 0 ? ", " : "", (const char *) g_ptr_array_index(c->regs, r),
                                   (int) vl, v);
        }
        g_string_append_c(out, '}');
        break;
    }
    }
}

/* Appends a state as format_state() does, shortened by append_short(). */
static void format_short(const Check *c, uint32_t state, GString *out)
{
    g_autoptr(GString) full = g_string_new(NULL);
    format_state(c, state, full);
    append_short(out, full->str);
}

static void value_short(const Check *c, uint32_t v, GString *out)
{
    g_autoptr(GString) full = g_string_new(NULL);
    format_value(c, v, full);
    append_short(out, full->str);
}

/* Why @op cannot take effect in @state (step() said no). */
static char *why_illegal(const Check *c, uint32_t state, const Op *op)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autoptr(GString) st = g_string_new(NULL);
    g_autoptr(GString) v = g_string_new(NULL);
    g_autofree char *what = g_strdup(c->m->family == DSIM_LIN_KV ? "the key holds" : "the register holds");
    if (c->map && op->kind != OP_TXN) {
        /* whole-map checking: speak of the operation's key only */
        size_t len;
        const uint32_t *t = interner_get(&c->tuples, state, &len);
        value_short(c, t[op->slot], st);
        g_free(what);
        what = g_strdup_printf("key %s holds", text_of(c, op->key));
    } else {
        format_short(c, state, st);
    }
    switch ((OpKind) op->kind) {
    case OP_READ:
        value_short(c, op->out, v);
        g_string_printf(s, "it read %s, but %s %s", v->str, what, st->str);
        break;
    case OP_CAS:
        value_short(c, op->a, v);
        if (op->status == ST_FAIL)
            g_string_printf(s, "it failed, but %s %s, which it expected, so it would have succeeded", what, st->str);
        else
            g_string_printf(s, "it expected %s, but %s %s", v->str, what, st->str);
        break;
    case OP_TXN: {
        /* replay it to the first read that disagrees */
        size_t len;
        uint32_t tuple[16];
        const uint32_t *regs = interner_get(&c->tuples, state, &len);
        memcpy(tuple, regs, len);
        for (uint32_t k = 0; k < op->n_txn; k++) {
            const Micro *mo = &g_array_index(c->micro, Micro, op->txn + k);
            if (mo->write) {
                tuple[mo->reg] = mo->value;
            } else if (mo->known && tuple[mo->reg] != mo->value) {
                size_t la, lb;
                const char *want = interner_get(&c->values, mo->value, &la);
                const char *have = interner_get(&c->values, tuple[mo->reg], &lb);
                const char *name = g_ptr_array_index(c->regs, mo->reg);
                g_string_printf(s, "its [:read :%s %.*s] disagrees with the registers %s, where %s is %.*s", name,
                                (int) la, want, st->str, name, (int) lb, have);
                break;
            }
        }
        break;
    }
    default:
        g_string_printf(s, "the model refuses it in state %s", st->str);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* ---- the memo: a hash set of (linearized bitset, state) ---------------------------------- */

typedef struct {
    uint64_t hash;
    uint32_t state;
    uint32_t idx; /* 0: empty; else the bitset's index in the arena + 1 */
} Slot;

typedef struct {
    Slot     *slots;
    size_t    mask, used;
    uint64_t *arena; /* used * words */
    size_t    arena_cap;
    uint32_t  words;
} Memo;

static void memo_init(Memo *k, uint32_t words)
{
    memset(k, 0, sizeof *k);
    k->words = words;
    k->mask = 1023;
    k->slots = g_new0(Slot, k->mask + 1);
}

static void memo_clear(Memo *k)
{
    g_free(k->slots);
    g_free(k->arena);
    memset(k, 0, sizeof *k);
}

static void memo_grow(Memo *k)
{
    size_t n = (k->mask + 1) * 2;
    Slot *slots = g_new0(Slot, n);
    for (size_t i = 0; i <= k->mask; i++) {
        if (k->slots[i].idx == 0)
            continue;
        size_t j = k->slots[i].hash & (n - 1);
        while (slots[j].idx != 0)
            j = (j + 1) & (n - 1);
        slots[j] = k->slots[i];
    }
    g_free(k->slots);
    k->slots = slots;
    k->mask = n - 1;
}

/* A loop, not memcmp(): the sets are a few words, and the call would cost more than them. */
static inline bool bits_equal(const uint64_t *a, const uint64_t *b, uint32_t words)
{
    for (uint32_t w = 0; w < words; w++) {
        if (a[w] != b[w])
            return false;
    }
    return true;
}

/* Adds (bits, state); false when it was there already. */
static inline bool memo_add(Memo *k, const uint64_t *bits, uint32_t state, uint64_t hash)
{
    size_t i = hash & k->mask;
    for (;; i = (i + 1) & k->mask) {
        const Slot *s = &k->slots[i];
        if (s->idx == 0)
            break;
        if (s->hash == hash && s->state == state && bits_equal(k->arena + (size_t) (s->idx - 1) * k->words, bits, k->words))
            return false;
    }
    if ((k->used + 1) * k->words > k->arena_cap) {
        k->arena_cap = MAX(k->arena_cap * 2, (size_t) 1024 * k->words);
        k->arena = g_renew(uint64_t, k->arena, k->arena_cap);
    }
    memcpy(k->arena + k->used * k->words, bits, k->words * sizeof *bits);
    g_assert(k->used < UINT32_MAX);
    k->slots[i] = (Slot) { .hash = hash, .state = state, .idx = (uint32_t) (k->used + 1) };
    k->used++;
    if (k->used * 2 > k->mask + 1)
        memo_grow(k);
    return true;
}

/* ---- the search, one partition ---------------------------------------------------------- */

#define RETURN_ENTRY (-2) /* Entry.match of a completion entry */

typedef struct {
    int32_t  prev, next; /* -1: none; entry 0 is the head */
    int32_t  match;      /* invocation: its completion entry, or -1 (unknown outcome); completion: RETURN_ENTRY */
    uint32_t op;         /* index into Search.ops */
} Entry;

typedef struct {
    int32_t  entry;
    uint32_t state;
} Frame;

typedef enum { SEARCH_RUNNING, SEARCH_OK, SEARCH_FAILED } SearchStatus;

typedef struct {
    Check       *c;
    DsimLinValue key;
    bool         keyed;
    uint32_t     n;          /* operations */
    Op          *ops;        /* a copy, for locality */
    uint32_t    *global;     /* index of each in c->ops */
    Entry       *e;          /* 1 + invocations + completions */
    uint32_t     n_entries;
    uint64_t    *zkey;       /* a random word per operation */
    uint64_t    *lin;        /* the linearized set */
    uint64_t     zob;        /* XOR of zkey over lin */
    Frame       *stack;
    uint32_t     sp;
    uint32_t     state;
    int32_t      cur;
    uint32_t     remaining;  /* operations of known outcome not linearized */
    Memo         memo;
    uint32_t    *best;       /* the longest linearized prefix seen */
    uint32_t     best_len;
    SearchStatus status;
    unsigned     order;      /* first appearance of the key */
} Search;

typedef struct {
    int64_t  time;
    int      kind; /* 0 invocation, 1 completion: at equal times invocations go first */
    uint32_t op;
} Point;

static int point_cmp(const void *pa, const void *pb)
{
    const Point *a = pa, *b = pb;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind - b->kind;
    return a->op < b->op ? -1 : a->op > b->op;
}

static Search *search_new(Check *c, const GArray *members, DsimLinValue key, bool keyed, unsigned order)
{
    Search *s = g_new0(Search, 1);
    s->c = c;
    s->key = key;
    s->keyed = keyed;
    s->order = order;
    s->n = members->len;
    s->ops = g_new(Op, s->n);
    s->global = g_new(uint32_t, s->n);
    g_autofree Point *pts = g_new(Point, 2 * (size_t) s->n);
    uint32_t np = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        s->global[i] = g_array_index(members, uint32_t, i);
        s->ops[i] = g_array_index(c->ops, Op, s->global[i]);
        pts[np++] = (Point) { s->ops[i].call, 0, i };
        if (s->ops[i].ret != NEVER)
            pts[np++] = (Point) { s->ops[i].ret, 1, i };
        else
            g_assert(s->ops[i].status == ST_INFO);
        s->remaining += s->ops[i].ret != NEVER;
    }
    qsort(pts, np, sizeof *pts, point_cmp);
    s->n_entries = np + 1;
    s->e = g_new(Entry, s->n_entries);
    g_autofree int32_t *call_entry = g_new(int32_t, s->n);
    s->e[0] = (Entry) { .prev = -1, .next = np > 0 ? 1 : -1, .match = -1 };
    for (uint32_t k = 0; k < np; k++) {
        int32_t i = (int32_t) k + 1;
        s->e[i] = (Entry) { .prev = i - 1, .next = k + 1 < np ? i + 1 : -1, .op = pts[k].op, .match = -1 };
        if (pts[k].kind == 0) {
            call_entry[pts[k].op] = i;
        } else {
            s->e[i].match = RETURN_ENTRY;
            s->e[call_entry[pts[k].op]].match = i;
        }
    }
    uint32_t words = (s->n + 63) / 64;
    s->lin = g_new0(uint64_t, MAX(words, 1));
    s->zkey = g_new(uint64_t, s->n);
    DsimRng rng;
    dsim_rng_init(&rng, 1, "lincheck");
    for (uint32_t i = 0; i < s->n; i++)
        s->zkey[i] = dsim_rng_next(&rng);
    s->stack = g_new(Frame, s->n + 1);
    s->best = g_new(uint32_t, s->n + 1);
    s->state = c->init;
    s->cur = s->e[0].next;
    memo_init(&s->memo, MAX(words, 1));
    return s;
}

static void search_free(Search *s)
{
    if (s == NULL)
        return;
    g_free(s->ops);
    g_free(s->global);
    g_free(s->e);
    g_free(s->zkey);
    g_free(s->lin);
    g_free(s->stack);
    g_free(s->best);
    memo_clear(&s->memo);
    g_free(s);
}

static inline void lift(Entry *e, int32_t i)
{
    e[e[i].prev].next = e[i].next;
    if (e[i].next >= 0)
        e[e[i].next].prev = e[i].prev;
    int32_t m = e[i].match;
    if (m >= 0) {
        e[e[m].prev].next = e[m].next;
        if (e[m].next >= 0)
            e[e[m].next].prev = e[m].prev;
    }
}

/* Undoes lift(e, i): the completion back first, then the invocation (the reverse order). */
static inline void unlift(Entry *e, int32_t i)
{
    int32_t m = e[i].match;
    if (m >= 0) {
        e[e[m].prev].next = m;
        if (e[m].next >= 0)
            e[e[m].next].prev = m;
    }
    e[e[i].prev].next = i;
    if (e[i].next >= 0)
        e[e[i].next].prev = i;
}

static inline uint64_t memo_hash(uint64_t zob, uint32_t state)
{
    return mix64(zob ^ ((uint64_t) state * 0x9e3779b97f4a7c15ULL));
}

/* Runs at most @budget steps (one step: one entry looked at). */
static void search_run(Search *s, uint64_t budget, uint64_t *steps)
{
    Entry *e = s->e;
    uint64_t done = 0;
    while (done < budget) {
        done++;
        if (s->remaining == 0) {
            s->status = SEARCH_OK;
            break;
        }
        int32_t cur = s->cur;
        if (cur >= 0 && e[cur].match != RETURN_ENTRY) {
            /* an invocation before the first completion: may it go next? */
            uint32_t k = e[cur].op;
            const Op *op = &s->ops[k];
            uint32_t next;
            if (step(s->c, s->state, op, &next)) {
                s->lin[k / 64] |= 1ULL << (k % 64);
                uint64_t zob = s->zob ^ s->zkey[k];
                if (memo_add(&s->memo, s->lin, next, memo_hash(zob, next))) {
                    s->stack[s->sp++] = (Frame) { cur, s->state };
                    s->state = next;
                    s->zob = zob;
                    lift(e, cur);
                    s->remaining -= op->ret != NEVER;
                    if (s->sp > s->best_len) {
                        /* a new longest prefix (each happens once per length: O(n^2) in all) */
                        for (uint32_t f = 0; f < s->sp; f++)
                            s->best[f] = e[s->stack[f].entry].op;
                        s->best_len = s->sp;
                    }
                    s->cur = e[0].next;
                    continue;
                }
                s->lin[k / 64] &= ~(1ULL << (k % 64));
            }
            s->cur = e[cur].next;
        } else {
            /* a completion (or the end): nothing before it can go next, so undo the last choice */
            if (s->sp == 0) {
                s->status = SEARCH_FAILED;
                break;
            }
            Frame f = s->stack[--s->sp];
            uint32_t k = e[f.entry].op;
            s->state = f.state;
            s->lin[k / 64] &= ~(1ULL << (k % 64));
            s->zob ^= s->zkey[k];
            unlift(e, f.entry);
            s->remaining += s->ops[k].ret != NEVER;
            s->cur = e[f.entry].next;
        }
    }
    *steps += done;
}

/* ---- results ---------------------------------------------------------------------------- */

static void op_ref_clear(gpointer p)
{
    DsimLinOpRef *r = p;
    g_free(r->note);
}

static GArray *op_refs_new(void)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(DsimLinOpRef));
    g_array_set_clear_func(a, op_ref_clear);
    return a;
}

void dsim_lin_result_free(DsimLinResult *r)
{
    if (r == NULL)
        return;
    g_free(r->partition);
    g_free(r->state);
    if (r->prefix != NULL)
        g_array_unref(r->prefix);
    if (r->pending != NULL)
        g_array_unref(r->pending);
    if (r->unfinished != NULL)
        g_ptr_array_unref(r->unfinished);
    g_free(r);
}

static char *partition_name(const Search *s)
{
    return s->keyed ? g_strdup_printf("key %s", text_of(s->c, s->key)) : NULL;
}

/* Fills the explanation of a failed search: the longest prefix, the state it leaves, the
 * operations that could come next and why none can. */
static void explain_failure(Search *s, DsimLinResult *r)
{
    Check *c = s->c;
    r->partition = partition_name(s);
    r->partition_ops = s->n;
    r->prefix = op_refs_new();
    r->pending = op_refs_new();
    g_autofree bool *in_prefix = g_new0(bool, s->n);
    uint32_t state = c->init;
    for (uint32_t f = 0; f < s->best_len; f++) {
        const Op *op = &s->ops[s->best[f]];
        uint32_t next;
        bool ok = step(c, state, op, &next);
        g_assert(ok);
        state = next;
        in_prefix[s->best[f]] = true;
        g_autoptr(GString) st = g_string_new(NULL);
        format_state(c, state, st);
        DsimLinOpRef ref = { op->invoke, op->complete, g_string_free(g_steal_pointer(&st), FALSE) };
        g_array_append_val(r->prefix, ref);
    }
    g_autoptr(GString) st = g_string_new(NULL);
    format_state(c, state, st);
    r->state = g_string_free(g_steal_pointer(&st), FALSE);

    /* The list is whole again: walk it, skipping the prefix, up to the first completion. */
    r->next_complete = DSIM_LIN_NO_EVENT;
    for (int32_t i = s->e[0].next; i >= 0; i = s->e[i].next) {
        const Entry *en = &s->e[i];
        if (in_prefix[en->op])
            continue;
        const Op *op = &s->ops[en->op];
        if (en->match == RETURN_ENTRY) {
            r->next_complete = op->complete;
            break;
        }
        uint32_t next;
        char *note;
        if (!step(c, state, op, &next))
            note = why_illegal(c, state, op);
        else if (op->status == ST_INFO)
            note = g_strdup("its outcome is unknown: it may take effect here, but no order of the rest follows");
        else
            note = g_strdup("it may take effect here, but no order of the rest follows");
        DsimLinOpRef ref = { op->invoke, op->complete, note };
        g_array_append_val(r->pending, ref);
    }
}

static gint search_cmp(gconstpointer pa, gconstpointer pb)
{
    const Search *a = *(Search *const *) pa, *b = *(Search *const *) pb;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Splits the operations by key (or not), in the order keys first appear. */
static GPtrArray *partition(Check *c)
{
    GPtrArray *searches = g_ptr_array_new_with_free_func((GDestroyNotify) search_free);
    g_autoptr(GHashTable) index = g_hash_table_new(NULL, NULL); /* key + 1 -> members + 1 */
    g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func((GDestroyNotify) g_array_unref);
    g_autoptr(GArray) keys = g_array_new(FALSE, FALSE, sizeof(DsimLinValue));
    for (uint32_t i = 0; i < c->ops->len; i++) {
        DsimLinValue key = c->m->by_key && !c->map ? g_array_index(c->ops, Op, i).key : DSIM_LIN_NIL;
        gpointer found = g_hash_table_lookup(index, GUINT_TO_POINTER(key + 1));
        GArray *m;
        if (found == NULL) {
            m = g_array_new(FALSE, FALSE, sizeof(uint32_t));
            g_ptr_array_add(members, m);
            g_array_append_val(keys, key);
            g_hash_table_insert(index, GUINT_TO_POINTER(key + 1), GUINT_TO_POINTER(members->len));
        } else {
            m = g_ptr_array_index(members, GPOINTER_TO_UINT(found) - 1);
        }
        g_array_append_val(m, i);
    }
    for (unsigned k = 0; k < members->len; k++) {
        DsimLinValue key = g_array_index(keys, DsimLinValue, k);
        g_ptr_array_add(searches, search_new(c, g_ptr_array_index(members, k), key,
                                             c->m->by_key && !c->map && key != DSIM_LIN_NIL, k));
    }
    g_ptr_array_sort(searches, search_cmp);
    return searches;
}

DsimLinResult *dsim_lin_check(const DsimLinHistory *h, const DsimLinModel *m, const DsimLinOptions *opt,
                              GError **error)
{
    static const DsimLinOptions none = { 0 };
    if (opt == NULL)
        opt = &none;
    g_assert(opt->time_limit == 0 || opt->now != NULL);
    Check c = { .h = h, .m = m, .error = error };
    check_init(&c);
    if (opt->no_partition && m->by_key && m->family != DSIM_LIN_MULTI) {
        c.map = true;
        c.slots = g_hash_table_new(NULL, NULL);
        c.slot_keys = g_array_new(FALSE, FALSE, sizeof(DsimLinValue));
    }
    if (!make_ops(&c)) {
        check_clear(&c);
        return NULL;
    }
    if (c.map) {
        /* every key starts at the model's initial value */
        uint32_t n = MAX(c.slot_keys->len, 1);
        c.scratch = g_new(uint32_t, n);
        for (uint32_t k = 0; k < n; k++)
            c.scratch[k] = c.init;
        c.init = interner_add(&c.tuples, c.scratch, n * sizeof *c.scratch);
    }

    DsimLinResult *r = g_new0(DsimLinResult, 1);
    r->n_ops = c.ops->len;
    g_autoptr(GPtrArray) active = partition(&c);
    r->n_partitions = active->len;
    int64_t started = opt->time_limit > 0 ? opt->now(opt->now_data) : 0;
    bool out_of_time = false;
    g_autoptr(GPtrArray) failed = g_ptr_array_new_with_free_func((GDestroyNotify) search_free);

    /* Turns: each unfinished partition runs SLICE_STEPS steps, smallest first. The round in
     * which a partition fails is completed, and the smallest failure of it is reported. */
    while (active->len > 0 && failed->len == 0 && !out_of_time) {
        for (unsigned k = 0; k < active->len && !out_of_time;) {
            Search *s = g_ptr_array_index(active, k);
            for (uint64_t slice = 0; slice < SLICE_STEPS && s->status == SEARCH_RUNNING;) {
                uint64_t chunk = DSIM_LIN_CLOCK_EVERY;
                if (opt->max_steps > 0) {
                    if (r->steps >= opt->max_steps) {
                        out_of_time = true;
                        break;
                    }
                    chunk = MIN(chunk, opt->max_steps - r->steps);
                }
                search_run(s, chunk, &r->steps);
                slice += chunk;
                if (opt->time_limit > 0 && opt->now(opt->now_data) - started >= opt->time_limit) {
                    out_of_time = true;
                    break;
                }
            }
            if (s->status != SEARCH_RUNNING)
                r->memo_entries += s->memo.used;
            if (s->status == SEARCH_OK) {
                r->n_linearizable++;
                g_ptr_array_remove_index(active, k); /* frees it */
            } else if (s->status == SEARCH_FAILED) {
                g_ptr_array_add(failed, g_ptr_array_steal_index(active, k));
            } else {
                k++;
            }
        }
    }

    if (failed->len > 0) {
        g_ptr_array_sort(failed, search_cmp);
        r->verdict = DSIM_LIN_NOT_LINEARIZABLE;
        explain_failure(g_ptr_array_index(failed, 0), r);
    } else if (active->len > 0) {
        r->verdict = DSIM_LIN_UNKNOWN;
        r->unfinished = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_sort(active, search_cmp);
        for (unsigned k = 0; k < active->len; k++) {
            Search *s = g_ptr_array_index(active, k);
            r->memo_entries += s->memo.used;
            char *name = partition_name(s);
            g_ptr_array_add(r->unfinished, name != NULL ? name : g_strdup("the whole history"));
        }
    } else {
        r->verdict = DSIM_LIN_LINEARIZABLE;
    }
    g_ptr_array_set_size(active, 0);
    g_ptr_array_set_size(failed, 0);
    check_clear(&c);
    return r;
}

/* ---- printing ----------------------------------------------------------------------------- */

void dsim_lin_op_format(const DsimLinHistory *h, const DsimLinOpRef *op, GString *out)
{
    const DsimLinEvent *iv = &g_array_index(h->events, DsimLinEvent, op->invoke);
    const DsimLinEvent *cv = op->complete != DSIM_LIN_NO_EVENT ? &g_array_index(h->events, DsimLinEvent, op->complete) : NULL;
    g_string_append_printf(out, "process %" G_GINT64_FORMAT " %s", iv->process, dsim_lin_val(h, iv->f)->s);
    if (iv->key != DSIM_LIN_NIL)
        g_string_append_printf(out, " %s", dsim_lin_val(h, iv->key)->text); /* keys are short */
    /* reads show what they read; the rest their arguments */
    DsimLinValue v = iv->value;
    if (cv != NULL && cv->type == DSIM_LIN_OK && cv->value != DSIM_LIN_NIL && cv->value != iv->value)
        v = cv->value;
    if (v != DSIM_LIN_NIL || cv == NULL || cv->type == DSIM_LIN_OK) {
        g_string_append_c(out, ' ');
        append_short(out, dsim_lin_val(h, v)->text);
    }
    if (cv == NULL || cv->type == DSIM_LIN_INFO)
        g_string_append(out, ", outcome unknown");
    else if (cv->type == DSIM_LIN_FAIL)
        g_string_append(out, ", failed");
    if (cv == NULL)
        g_string_append_printf(out, " (line %u, never completed", iv->line);
    else if (cv->type == DSIM_LIN_INFO)
        g_string_append_printf(out, " (line %u, info at line %u", iv->line, cv->line);
    else
        g_string_append_printf(out, " (lines %u-%u", iv->line, cv->line);
    if (h->timed) {
        g_string_append(out, ", ");
        dsim_time_format_short(iv->time, out);
        g_string_append(out, "..");
        if (cv != NULL && cv->type != DSIM_LIN_INFO)
            dsim_time_format_short(cv->time, out);
    }
    g_string_append_c(out, ')');
}

void dsim_lin_result_explain(const DsimLinResult *r, const DsimLinHistory *h, unsigned max_prefix, GString *out)
{
    if (r->verdict == DSIM_LIN_UNKNOWN) {
        g_string_append_printf(out, "  %u of %u partitions linearizable; not finished:", r->n_linearizable,
                               r->n_partitions);
        for (unsigned k = 0; k < r->unfinished->len; k++)
            g_string_append_printf(out, "%s %s", k > 0 ? "," : "", (const char *) g_ptr_array_index(r->unfinished, k));
        g_string_append_c(out, '\n');
        return;
    }
    if (r->verdict != DSIM_LIN_NOT_LINEARIZABLE)
        return;
    if (r->partition != NULL)
        g_string_append_printf(out, "  %s (%u of %u operations) is not linearizable", r->partition, r->partition_ops,
                               r->n_ops);
    else
        g_string_append_printf(out, "  the history (%u operations) is not linearizable", r->partition_ops);
    if (r->n_partitions > 1)
        g_string_append_printf(out, " (%u of the %u keys were found linearizable before the search stopped)",
                               r->n_linearizable, r->n_partitions);
    g_string_append(out, ".\n");
    unsigned n = r->prefix->len;
    unsigned from = max_prefix > 0 && n > max_prefix ? n - max_prefix : 0;
    g_string_append_printf(out, "  The longest linearizable prefix found has %u operation%s", n, n == 1 ? "" : "s");
    if (from > 0)
        g_string_append_printf(out, " (the last %u shown)", n - from);
    g_string_append(out, n > 0 ? ":\n" : ".\n");
    for (unsigned k = from; k < n; k++) {
        const DsimLinOpRef *ref = &g_array_index(r->prefix, DsimLinOpRef, k);
        g_autoptr(GString) line = g_string_new(NULL);
        dsim_lin_op_format(h, ref, line);
        g_string_append_printf(out, "    %-56s -> ", line->str);
        append_short(out, ref->note);
        g_string_append_c(out, '\n');
    }
    g_string_append(out, "  After it the state is ");
    append_short(out, r->state);
    g_autofree char *before = r->next_complete == DSIM_LIN_NO_EVENT ? g_strdup("")
        : g_strdup_printf(" (before the completion at line %u)", g_array_index(h->events, DsimLinEvent, r->next_complete).line);
    if (r->pending->len == 1)
        g_string_append_printf(out, ", and the only operation that could come next%s cannot:\n", before);
    else
        g_string_append_printf(out, ", and none of the %u operations that could come next%s can:\n", r->pending->len, before);
    for (unsigned k = 0; k < r->pending->len; k++) {
        const DsimLinOpRef *ref = &g_array_index(r->pending, DsimLinOpRef, k);
        g_autoptr(GString) line = g_string_new(NULL);
        dsim_lin_op_format(h, ref, line);
        g_string_append_printf(out, "    %s\n      %s\n", line->str, ref->note);
    }
}
