/* kv.c - the key-value state machine (see kv.h for the contract).
 *
 * State: key -> value (GString), and per client the last applied seq with its status and
 * result, for de-duplication. Both tables are GHashTables used for lookup only; the digest
 * folds in each applied command in order, and snapshots write keys in sorted order, so
 * nothing here depends on hash order.
 */
#include "algorithms/kv/kv.h"

#include <string.h>

typedef struct {
    uint64_t   seq;
    DsimStatus status;
    GString   *result;
    GArray    *applied; /* uint64_t: every seq of this client applied, ascending */
} KvSession;

struct KvStore {
    GHashTable *values;   /* char* key -> GString* value */
    GHashTable *sessions; /* GUINT_TO_POINTER(client + 1) -> KvSession* */
    uint64_t    applied;
    uint64_t    digest;
};

static void session_free(gpointer p)
{
    KvSession *s = p;
    g_string_free(s->result, TRUE);
    if (s->applied != NULL)
        g_array_unref(s->applied);
    g_free(s);
}

static KvSession *session_new(void)
{
    KvSession *s = g_new0(KvSession, 1);
    s->result = g_string_new(NULL);
    s->applied = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    return s;
}

static void value_free(gpointer p) { g_string_free(p, TRUE); }

static void assign_len(GString *s, const char *v, size_t n)
{
    g_string_truncate(s, 0);
    g_string_append_len(s, v, (gssize) n);
}

KvStore *kv_store_new(void)
{
    KvStore *kv = g_new0(KvStore, 1);
    kv->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, value_free);
    kv->sessions = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, session_free);
    return kv;
}

void kv_store_free(KvStore *kv)
{
    if (kv == NULL)
        return;
    g_hash_table_destroy(kv->values);
    g_hash_table_destroy(kv->sessions);
    g_free(kv);
}

static void copy_field(char *dst, size_t cap, uint8_t *len_out, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    g_assert(n < cap);
    if (n > 0)
        memcpy(dst, src, n);
    *len_out = (uint8_t) n;
}

void kv_command_init(KvCommand *cmd, KvOp op, uint32_t client, uint64_t seq, const char *key,
                     const char *value, const char *expected)
{
    memset(cmd, 0, sizeof *cmd);
    cmd->op = (uint8_t) op;
    cmd->client = client;
    cmd->seq = seq;
    copy_field(cmd->key, sizeof cmd->key, &cmd->key_len, key);
    copy_field(cmd->value, sizeof cmd->value, &cmd->value_len, value);
    copy_field(cmd->expected, sizeof cmd->expected, &cmd->expected_len, expected);
}

static const KvCommand *checked(const void *bytes, size_t len)
{
    g_assert(len == sizeof(KvCommand));
    const KvCommand *cmd = bytes;
    g_assert(cmd->op <= KV_OP_CAS);
    g_assert(cmd->key_len <= KV_KEY_MAX && cmd->value_len <= KV_VALUE_MAX
             && cmd->expected_len <= KV_VALUE_MAX);
    return cmd;
}

static const char *op_name(uint8_t op)
{
    switch ((KvOp) op) {
    case KV_OP_NOOP: return "noop";
    case KV_OP_GET: return "get";
    case KV_OP_PUT: return "put";
    case KV_OP_APPEND: return "append";
    case KV_OP_CAS: return "cas";
    }
    return "?";
}

void kv_command_format(const void *bytes, size_t len, GString *out)
{
    if (len != sizeof(KvCommand)) {
        g_string_append_printf(out, "cmd(%zu bytes)", len);
        return;
    }
    const KvCommand *c = bytes;
    switch ((KvOp) c->op) {
    case KV_OP_NOOP:
        g_string_append(out, "noop");
        return;
    case KV_OP_GET:
        g_string_append_printf(out, "get %.*s", c->key_len, c->key);
        break;
    case KV_OP_PUT:
    case KV_OP_APPEND:
        g_string_append_printf(out, "%s %.*s=%.*s", op_name(c->op), c->key_len, c->key, c->value_len,
                               c->value);
        break;
    case KV_OP_CAS:
        g_string_append_printf(out, "cas %.*s %.*s->%.*s", c->key_len, c->key, c->expected_len,
                               c->expected, c->value_len, c->value);
        break;
    default:
        g_string_append_printf(out, "op%u", c->op);
        return;
    }
    g_string_append_printf(out, " (c%u#%" PRIu64 ")", c->client, c->seq);
}

DsimStatus kv_store_apply(KvStore *kv, const void *bytes, size_t len, GString *result)
{
    const KvCommand *c = checked(bytes, len);
    g_string_truncate(result, 0);
    kv->applied++;
    kv->digest = dsim_digest_add(kv->digest, c, sizeof *c);
    if (c->op == KV_OP_NOOP)
        return DSIM_STATUS_OK;

    /* de-duplication: the same (client, seq) answers what it answered the first time */
    gpointer sk = GUINT_TO_POINTER(c->client + 1u);
    KvSession *s = g_hash_table_lookup(kv->sessions, sk);
    if (s != NULL && c->seq == s->seq) {
        g_string_assign(result, s->result->str);
        return s->status;
    }
    if (s != NULL && c->seq < s->seq)
        return DSIM_STATUS_FAIL; /* an older request arriving late: never applied twice */

    g_autofree char *key = g_strndup(c->key, c->key_len);
    GString *cur = g_hash_table_lookup(kv->values, key);
    DsimStatus status = DSIM_STATUS_OK;
    switch ((KvOp) c->op) {
    case KV_OP_GET:
        if (cur != NULL)
            g_string_assign(result, cur->str);
        break;
    case KV_OP_PUT:
        if (cur == NULL)
            g_hash_table_insert(kv->values, g_strdup(key), g_string_new_len(c->value, c->value_len));
        else
            assign_len(cur, c->value, c->value_len);
        break;
    case KV_OP_APPEND:
        if (cur == NULL)
            g_hash_table_insert(kv->values, g_strdup(key), g_string_new_len(c->value, c->value_len));
        else
            g_string_append_len(cur, c->value, c->value_len);
        break;
    case KV_OP_CAS: {
        /* an absent key equals the empty expected value */
        const char *now = cur != NULL ? cur->str : "";
        size_t now_len = cur != NULL ? cur->len : 0;
        if (now_len == c->expected_len && memcmp(now, c->expected, now_len) == 0) {
            if (cur == NULL)
                g_hash_table_insert(kv->values, g_strdup(key), g_string_new_len(c->value, c->value_len));
            else
                assign_len(cur, c->value, c->value_len);
        } else {
            status = DSIM_STATUS_FAIL;
        }
        break;
    }
    default:
        g_assert_not_reached();
    }
    if (s == NULL) {
        s = session_new();
        g_hash_table_insert(kv->sessions, sk, s);
    }
    g_array_append_val(s->applied, c->seq); /* seqs only grow here: the array stays sorted */
    s->seq = c->seq;
    s->status = status;
    g_string_assign(s->result, result->str);
    return status;
}

uint64_t kv_store_applied(const KvStore *kv) { return kv->applied; }

bool kv_store_has_applied(const KvStore *kv, uint32_t client, uint64_t seq)
{
    const KvSession *s = g_hash_table_lookup(kv->sessions, GUINT_TO_POINTER(client + 1u));
    if (s == NULL)
        return false;
    const uint64_t *v = (const uint64_t *) (void *) s->applied->data;
    size_t lo = 0, hi = s->applied->len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->applied->len && v[lo] == seq;
}

uint64_t kv_store_digest(const KvStore *kv) { return kv->digest; }

const char *kv_store_get(const KvStore *kv, const char *key)
{
    const GString *v = g_hash_table_lookup(kv->values, key);
    return v != NULL ? v->str : NULL;
}

/* ---- snapshots -------------------------------------------------------------
 * Layout (little-endian): applied u64, digest u64, n_values u32, then per value (keys in
 * sorted order) key_len u32, key, value_len u32, value; n_sessions u32, then per session
 * (clients ascending) client u32, seq u64, status u32, result_len u32, result, n u32 and
 * the n applied seqs u64. */

static void put_u32(GByteArray *b, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    g_byte_array_append(b, (const guint8 *) &v, 4);
}

static void put_u64(GByteArray *b, uint64_t v)
{
    v = GUINT64_TO_LE(v);
    g_byte_array_append(b, (const guint8 *) &v, 8);
}

static void put_str(GByteArray *b, const char *s, size_t n)
{
    put_u32(b, (uint32_t) n);
    g_byte_array_append(b, (const guint8 *) s, (guint) n);
}

static gint str_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static gint uint_cmp(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *) a, y = *(const guint *) b;
    return x < y ? -1 : x > y;
}

GBytes *kv_store_snapshot(const KvStore *kv)
{
    GByteArray *b = g_byte_array_new();
    put_u64(b, kv->applied);
    put_u64(b, kv->digest);
    g_autoptr(GPtrArray) keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, val;
    g_hash_table_iter_init(&it, kv->values);
    while (g_hash_table_iter_next(&it, &key, &val))
        g_ptr_array_add(keys, key);
    g_ptr_array_sort(keys, str_cmp); /* written in key order, not hash order */
    put_u32(b, keys->len);
    for (unsigned i = 0; i < keys->len; i++) {
        const char *k = g_ptr_array_index(keys, i);
        const GString *v = g_hash_table_lookup(kv->values, k);
        put_str(b, k, strlen(k));
        put_str(b, v->str, v->len);
    }
    g_autoptr(GArray) clients = g_array_new(FALSE, FALSE, sizeof(guint));
    g_hash_table_iter_init(&it, kv->sessions);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        guint c = GPOINTER_TO_UINT(key) - 1u;
        g_array_append_val(clients, c);
    }
    g_array_sort(clients, uint_cmp); /* written in client order, not hash order */
    put_u32(b, clients->len);
    for (unsigned i = 0; i < clients->len; i++) {
        guint c = g_array_index(clients, guint, i);
        const KvSession *s = g_hash_table_lookup(kv->sessions, GUINT_TO_POINTER(c + 1u));
        put_u32(b, c);
        put_u64(b, s->seq);
        put_u32(b, (uint32_t) s->status);
        put_str(b, s->result->str, s->result->len);
        put_u32(b, s->applied->len);
        for (unsigned k = 0; k < s->applied->len; k++)
            put_u64(b, g_array_index(s->applied, uint64_t, k));
    }
    return g_byte_array_free_to_bytes(b);
}

typedef struct {
    const guint8 *p;
    size_t        left;
} Reader;

static bool get_u32(Reader *r, uint32_t *v)
{
    if (r->left < 4)
        return false;
    memcpy(v, r->p, 4);
    *v = GUINT32_FROM_LE(*v);
    r->p += 4;
    r->left -= 4;
    return true;
}

static bool get_u64(Reader *r, uint64_t *v)
{
    if (r->left < 8)
        return false;
    memcpy(v, r->p, 8);
    *v = GUINT64_FROM_LE(*v);
    r->p += 8;
    r->left -= 8;
    return true;
}

static bool get_str(Reader *r, GString *out)
{
    uint32_t n;
    if (!get_u32(r, &n) || r->left < n)
        return false;
    g_string_truncate(out, 0);
    g_string_append_len(out, (const char *) r->p, n);
    r->p += n;
    r->left -= n;
    return true;
}

bool kv_store_restore(KvStore *kv, GBytes *snapshot)
{
    gsize size;
    Reader r = { g_bytes_get_data(snapshot, &size), 0 };
    r.left = size;
    uint64_t applied, digest;
    uint32_t n;
    if (!get_u64(&r, &applied) || !get_u64(&r, &digest) || !get_u32(&r, &n))
        return false;
    g_hash_table_remove_all(kv->values);
    g_hash_table_remove_all(kv->sessions);
    g_autoptr(GString) k = g_string_new(NULL);
    for (uint32_t i = 0; i < n; i++) {
        GString *v = g_string_new(NULL);
        if (!get_str(&r, k) || !get_str(&r, v)) {
            g_string_free(v, TRUE);
            return false;
        }
        g_hash_table_insert(kv->values, g_strdup(k->str), v);
    }
    if (!get_u32(&r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t client, status, n_applied;
        uint64_t seq;
        KvSession *s = session_new();
        if (!get_u32(&r, &client) || !get_u64(&r, &seq) || !get_u32(&r, &status)
            || !get_str(&r, s->result) || !get_u32(&r, &n_applied)) {
            session_free(s);
            return false;
        }
        for (uint32_t j = 0; j < n_applied; j++) {
            uint64_t a;
            if (!get_u64(&r, &a)) {
                session_free(s);
                return false;
            }
            g_array_append_val(s->applied, a);
        }
        s->seq = seq;
        s->status = (DsimStatus) status;
        g_hash_table_insert(kv->sessions, GUINT_TO_POINTER(client + 1u), s);
    }
    kv->applied = applied;
    kv->digest = digest;
    return r.left == 0;
}
