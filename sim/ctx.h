/* ctx.h - the inside of DsimCtx, for the two things that drive protocols: the world
 * (sim/world.c) and the test harness (tests/lib/harness.c). Algorithms never include this.
 *
 * Facts are plain fields filled before each handler call. Effects go through a small ops
 * table, so that the world applies them to the queue/network/store while the harness only
 * records them. The world applies each effect as it is recorded; since virtual time does not
 * move inside a handler and no other handler runs meanwhile, this is indistinguishable from
 * applying the list after the handler returns, and it allocates nothing.
 */
#ifndef DSIM_CTX_H
#define DSIM_CTX_H

#include "sim/dsim.h"
#include "sim/rng.h"

typedef struct {
    void        (*send)(DsimCtx *ctx, DsimNodeId to, uint16_t type, const void *body, size_t size);
    DsimTimerId (*timer_set)(DsimCtx *ctx, DsimTime delay, unsigned kind, uint64_t arg);
    void        (*timer_cancel)(DsimCtx *ctx, DsimTimerId id);
    void        (*persist)(DsimCtx *ctx, uint64_t key, const void *val, size_t len);
    void        (*sync)(DsimCtx *ctx);
    bool        (*load)(DsimCtx *ctx, uint64_t key, void *buf, size_t len, size_t *out_len);
    void        (*reply)(DsimCtx *ctx, uint64_t request_id, DsimStatus status, const void *result,
                         size_t len);
    DsimCallId  (*call)(DsimCtx *ctx, DsimNodeId to, uint16_t method, const void *body,
                        size_t size, const DsimCallOpts *opts);
    void        (*respond)(DsimCtx *ctx, DsimCallId call, DsimCallStatus status,
                           const void *body, size_t size);
    DsimTime    (*rand_dist)(DsimCtx *ctx, const char *dist);
    bool        (*group_find)(const DsimCtx *ctx, const char *group_id, DsimNodeId *first,
                              unsigned *n);
    void        (*log)(DsimCtx *ctx, const char *line); /* called only when ctx->logging */
    void        (*metric)(DsimCtx *ctx, const char *name, double value);
    void        (*count)(DsimCtx *ctx, const char *name);
} DsimCtxOps;

struct DsimCtx {
    const DsimCtxOps  *ops;
    void              *impl;        /* the world or the harness */
    DsimTime           now;         /* this node's clock */
    DsimNodeId         self;
    unsigned           self_index;  /* within its group */
    unsigned           group_size;
    DsimNodeId         group_first; /* members are group_first .. group_first+group_size-1 */
    const char *const *names;       /* indexed by DsimNodeId */
    const void        *config;
    DsimRng           *rng;         /* this node's stream */
    bool               logging;
};

#endif /* DSIM_CTX_H */
