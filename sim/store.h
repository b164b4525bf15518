/* store.h - a node's durable storage: survives crashes; unsynced writes may not.
 *
 * A key -> bytes map. dsim_persist() writes into the map and remembers the key's previous
 * durable value in an "unsynced" journal; dsim_sync() clears the journal (the writes are now
 * durable). At a crash with unsynced writes lost, the journal is rolled back in reverse order,
 * so the store is exactly as of the last sync. Reads always see the latest write.
 */
#ifndef DSIM_STORE_H
#define DSIM_STORE_H

#include "sim/dsim.h"

typedef struct DsimStore DsimStore;

DsimStore *dsim_store_new(void);
void       dsim_store_free(DsimStore *st); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DsimStore, dsim_store_free)

void   dsim_store_put(DsimStore *st, uint64_t key, const void *val, size_t len); /* copied */
void   dsim_store_sync(DsimStore *st);
/* Copies min(len, stored) bytes; returns false when absent. */
bool   dsim_store_get(const DsimStore *st, uint64_t key, void *buf, size_t len, size_t *out_len);
/* At a crash: when @lose, roll back every write since the last sync. Returns how many
 * writes were rolled back. When not @lose, the unsynced writes count as durable from now on
 * (a later crash cannot undo them) and 0 is returned. */
size_t dsim_store_crash(DsimStore *st, bool lose);
size_t dsim_store_n_keys(const DsimStore *st);
size_t dsim_store_n_unsynced(const DsimStore *st);
/* Value bytes passed to dsim_store_put so far, including writes a crash later undid. */
uint64_t dsim_store_bytes_written(const DsimStore *st);

#endif /* DSIM_STORE_H */
