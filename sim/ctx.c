/* ctx.c - the DsimCtx calls a protocol makes: facts read from fields, effects forwarded to
 * the backend (world or harness) through ctx->ops. See sim/ctx.h. */
#include "sim/ctx.h"

#include <stdarg.h>
#include <string.h>

const void *dsim_msg_body_checked(const DsimMsg *msg, size_t size)
{
    g_assert(msg->size >= size);
    return msg->body;
}

uint64_t dsim_digest_add(uint64_t digest, const void *data, size_t len)
{
    /* Eight bytes at a time (little-endian, so every machine agrees), each word folded in
     * with a splitmix64-style multiply-xorshift: order-sensitive, and cheap enough to run
     * on every applied item of a 20-million-events/s run. */
    const unsigned char *p = data;
    uint64_t h = digest ^ (0x9e3779b97f4a7c15ULL * (len + 1));
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        h = (h ^ GUINT64_FROM_LE(v)) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    uint64_t tail = 0;
    for (unsigned k = 0; i < len; i++, k++)
        tail |= (uint64_t) p[i] << (8 * k);
    h = (h ^ tail) * 0x94d049bb133111ebULL;
    return h ^ (h >> 29);
}

DsimTime dsim_now(const DsimCtx *ctx) { return ctx->now; }
DsimNodeId dsim_self(const DsimCtx *ctx) { return ctx->self; }
unsigned dsim_self_index(const DsimCtx *ctx) { return ctx->self_index; }
unsigned dsim_group_size(const DsimCtx *ctx) { return ctx->group_size; }

DsimNodeId dsim_group_member(const DsimCtx *ctx, unsigned i)
{
    g_assert(i < ctx->group_size);
    return ctx->group_first + i;
}

const char *dsim_name(const DsimCtx *ctx, DsimNodeId id)
{
    return id == DSIM_NOBODY ? "nobody" : ctx->names[id];
}

const void *dsim_config(const DsimCtx *ctx) { return ctx->config; }
uint64_t dsim_rand(DsimCtx *ctx) { return dsim_rng_next(ctx->rng); }
uint64_t dsim_rand_below(DsimCtx *ctx, uint64_t n) { return dsim_rng_below(ctx->rng, n); }
double dsim_rand_double(DsimCtx *ctx) { return dsim_rng_double(ctx->rng); }

DsimTime dsim_rand_time(DsimCtx *ctx, DsimTime lo, DsimTime hi)
{
    return dsim_rng_range(ctx->rng, lo, hi);
}

bool dsim_load(DsimCtx *ctx, uint64_t key, void *buf, size_t len, size_t *out_len)
{
    return ctx->ops->load(ctx, key, buf, len, out_len);
}

bool dsim_logging(const DsimCtx *ctx) { return ctx->logging; }

void dsim_send(DsimCtx *ctx, DsimNodeId to, uint16_t type, const void *body, size_t size)
{
    ctx->ops->send(ctx, to, type, body, size);
}

DsimTimerId dsim_timer_set(DsimCtx *ctx, DsimTime delay, unsigned kind, uint64_t arg)
{
    g_assert(delay >= 0);
    return ctx->ops->timer_set(ctx, delay, kind, arg);
}

void dsim_timer_cancel(DsimCtx *ctx, DsimTimerId id)
{
    if (id != 0)
        ctx->ops->timer_cancel(ctx, id);
}

void dsim_persist(DsimCtx *ctx, uint64_t key, const void *val, size_t len)
{
    ctx->ops->persist(ctx, key, val, len);
}

void dsim_sync(DsimCtx *ctx) { ctx->ops->sync(ctx); }

void dsim_reply(DsimCtx *ctx, uint64_t request_id, DsimStatus status, const void *result,
                size_t len)
{
    ctx->ops->reply(ctx, request_id, status, result, len);
}

void dsim_redirect(DsimCtx *ctx, uint64_t request_id, DsimNodeId leader)
{
    ctx->ops->reply(ctx, request_id, DSIM_STATUS_REDIRECT, &leader, sizeof leader);
}

void dsim_log(DsimCtx *ctx, const char *fmt, ...)
{
    if (!ctx->logging)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    ctx->ops->log(ctx, line);
}

void dsim_metric(DsimCtx *ctx, const char *name, double value)
{
    ctx->ops->metric(ctx, name, value);
}

void dsim_count(DsimCtx *ctx, const char *name)
{
    ctx->ops->count(ctx, name);
}

DsimTime dsim_rand_dist(DsimCtx *ctx, const char *dist)
{
    return ctx->ops->rand_dist(ctx, dist);
}

bool dsim_group_find(const DsimCtx *ctx, const char *group_id, DsimNodeId *first, unsigned *n)
{
    return ctx->ops->group_find(ctx, group_id, first, n);
}

DsimCallId dsim_call(DsimCtx *ctx, DsimNodeId to, uint16_t method, const void *body, size_t size,
                     const DsimCallOpts *opts)
{
    g_assert(opts != NULL && opts->timeout > 0);
    return ctx->ops->call(ctx, to, method, body, size, opts);
}

void dsim_respond(DsimCtx *ctx, DsimCallId call, DsimCallStatus status, const void *body,
                  size_t size)
{
    g_assert(call != 0 && (status == DSIM_CALL_OK || status == DSIM_CALL_FAIL));
    ctx->ops->respond(ctx, call, status, body, size);
}

const char *dsim_call_status_name(DsimCallStatus status)
{
    switch (status) {
    case DSIM_CALL_OK: return "ok";
    case DSIM_CALL_FAIL: return "fail";
    case DSIM_CALL_TIMEOUT: return "timeout";
    }
    return "?";
}
