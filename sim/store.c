/* store.c - a node's durable key -> bytes map with an undo journal for unsynced writes.
 *
 * The map always holds the latest write, so reads need no journal lookup. Each write since
 * the last sync appends {key, the value it replaced (or NULL when the key was absent)} to
 * the journal. A sync forgets the journal; a crash that loses unsynced writes undoes it from
 * the newest entry to the oldest, which restores each key to its value as of the last sync
 * however many times it was written since (the oldest entry for a key holds the synced value
 * and is undone last). The hash table is only ever looked up, never iterated, so its order
 * cannot leak into a run.
 */
#include "sim/store.h"

#include <string.h>

typedef struct {
    uint64_t key;
    GBytes  *previous; /* owned reference; NULL: the key was absent before this write */
} JournalEntry;

struct DsimStore {
    GHashTable *map;           /* uint64_t * (owned) -> GBytes * (owned) */
    GArray     *journal;       /* JournalEntry, oldest first; empty right after a sync */
    uint64_t    bytes_written; /* value bytes of every put, including ones later undone */
};

DsimStore *dsim_store_new(void)
{
    DsimStore *st = g_new0(DsimStore, 1);
    st->map = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                    (GDestroyNotify) g_bytes_unref);
    st->journal = g_array_new(FALSE, FALSE, sizeof(JournalEntry));
    return st;
}

static void journal_clear(DsimStore *st)
{
    for (guint i = 0; i < st->journal->len; i++) {
        JournalEntry *e = &g_array_index(st->journal, JournalEntry, i);
        if (e->previous != NULL)
            g_bytes_unref(e->previous);
    }
    g_array_set_size(st->journal, 0);
}

void dsim_store_free(DsimStore *st)
{
    if (st == NULL)
        return;
    journal_clear(st);
    g_array_free(st->journal, TRUE);
    g_hash_table_destroy(st->map);
    g_free(st);
}

/* Makes @value (a reference the caller gives away) the value of @key; NULL removes it. */
static void set_value(DsimStore *st, uint64_t key, GBytes *value)
{
    if (value == NULL) {
        g_hash_table_remove(st->map, &key);
        return;
    }
    uint64_t *k = g_new(uint64_t, 1);
    *k = key;
    g_hash_table_replace(st->map, k, value);
}

void dsim_store_put(DsimStore *st, uint64_t key, const void *val, size_t len)
{
    GBytes *old = g_hash_table_lookup(st->map, &key);
    JournalEntry e = { key, old != NULL ? g_bytes_ref(old) : NULL };

    g_array_append_val(st->journal, e);
    set_value(st, key, g_bytes_new(val, len));
    st->bytes_written += len;
}

void dsim_store_sync(DsimStore *st)
{
    journal_clear(st);
}

bool dsim_store_get(const DsimStore *st, uint64_t key, void *buf, size_t len, size_t *out_len)
{
    GBytes *v = g_hash_table_lookup(st->map, &key);
    if (v == NULL)
        return false;

    size_t size;
    const void *data = g_bytes_get_data(v, &size);
    if (len > 0 && size > 0)
        memcpy(buf, data, MIN(len, size));
    if (out_len != NULL)
        *out_len = size;
    return true;
}

size_t dsim_store_crash(DsimStore *st, bool lose)
{
    size_t n = st->journal->len;

    /* Without loss the writes reached the disk before the crash: they are durable now, and
     * a later crash must not undo them. */
    if (!lose) {
        journal_clear(st);
        return 0;
    }
    for (guint i = st->journal->len; i > 0; i--) {
        JournalEntry *e = &g_array_index(st->journal, JournalEntry, i - 1);
        set_value(st, e->key, e->previous); /* the reference moves back into the map */
        e->previous = NULL;
    }
    g_array_set_size(st->journal, 0);
    return n;
}

size_t dsim_store_n_keys(const DsimStore *st)
{
    return g_hash_table_size(st->map);
}

size_t dsim_store_n_unsynced(const DsimStore *st)
{
    return st->journal->len;
}

uint64_t dsim_store_bytes_written(const DsimStore *st)
{
    return st->bytes_written;
}
