/* kv.h - the replicated key-value state machine shared by Multi-Paxos and Raft, and the
 * command format its clients send.
 *
 * A consensus protocol treats commands as opaque bytes (at most DSIM_CMD_MAX): it puts the
 * bytes of a DsimRequest into its log, and when an entry is applied (in log order, on every
 * replica) it calls kv_store_apply() with those bytes. The node that received the request
 * then answers the client with dsim_reply(ctx, request_id, status, result->str, result->len).
 *
 * De-duplication (Raft §8, "Client interaction"; the same idea for Paxos): every command
 * carries (client, seq). The store remembers, per client, the highest seq applied and its
 * result; applying a command with that seq again returns the remembered result without
 * changing the state, and an older seq is ignored (result FAIL). So a client that retries
 * after a timeout never has its write applied twice, whatever the protocol does.
 *
 * The store is a GHashTable for lookups only: the digest is computed over the applied
 * command sequence, never by iterating the table, so it is the same on every machine.
 */
#ifndef DSIM_KV_H
#define DSIM_KV_H

#include "sim/dsim.h"

#define KV_KEY_MAX   15 /* bytes of a key, without NUL */
#define KV_VALUE_MAX 31 /* bytes of a put/append/cas value, without NUL */

typedef enum {
    KV_OP_NOOP = 0, /* fills a log gap (Multi-Paxos) or opens a term (Raft §8); no client */
    KV_OP_GET,
    KV_OP_PUT,
    KV_OP_APPEND,
    KV_OP_CAS,      /* if value(key) == expected then value(key) = value */
} KvOp;

/* A command as it travels: flat, fixed-size, NUL-padded strings. */
typedef struct {
    uint64_t seq;                        /* the client's sequence number, from 1 */
    uint32_t client;                     /* the client's index in the workload */
    uint8_t  op;                         /* KvOp */
    uint8_t  key_len, value_len, expected_len;
    char     key[KV_KEY_MAX + 1];
    char     value[KV_VALUE_MAX + 1];
    char     expected[KV_VALUE_MAX + 1];
} KvCommand;
G_STATIC_ASSERT(sizeof(KvCommand) == 96);
G_STATIC_ASSERT(sizeof(KvCommand) <= DSIM_CMD_MAX);

/* Fills @cmd (zeroed first). Strings longer than the limits are an assertion failure. */
void kv_command_init(KvCommand *cmd, KvOp op, uint32_t client, uint64_t seq, const char *key,
                     const char *value, const char *expected);
/* Appends "put k3=v12 (c2#7)" to @out. @len is the byte length of @cmd. */
void kv_command_format(const void *cmd, size_t len, GString *out);

typedef struct KvStore KvStore;

KvStore *kv_store_new(void);
void     kv_store_free(KvStore *kv); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KvStore, kv_store_free)

/* Applies one command (the bytes a client sent, or a no-op). Returns the status to send the
 * client: OK (get: @result holds the value, empty when absent; put/append: empty;
 * cas: empty), FAIL (cas whose expected value did not match; a stale seq). @result is
 * overwritten. Malformed bytes (a protocol bug) assert. */
DsimStatus kv_store_apply(KvStore *kv, const void *cmd, size_t len, GString *result);

uint64_t kv_store_applied(const KvStore *kv); /* commands applied, no-ops included */
/* Whether @client's command @seq was applied (each applied seq is remembered). */
bool     kv_store_has_applied(const KvStore *kv, uint32_t client, uint64_t seq);
uint64_t kv_store_digest(const KvStore *kv);  /* over the applied sequence */
/* The current value of @key, or NULL. Borrowed, valid until the next apply. */
const char *kv_store_get(const KvStore *kv, const char *key);

/* Snapshots (Raft §7): the whole state (values, de-duplication table, applied count and
 * digest) as bytes, and back. A restored store is equal to the one snapshotted. */
GBytes  *kv_store_snapshot(const KvStore *kv);
bool     kv_store_restore(KvStore *kv, GBytes *snapshot);

#endif /* DSIM_KV_H */
