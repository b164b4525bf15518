/* net.h - the network model: per-message delay, loss, duplication, bandwidth, partitions.
 *
 * Every random draw comes from the network's own stream ("net"), in a fixed order per send:
 * loss (only when the link's loss > 0), duplication (only when > 0), then one delay per copy.
 * Reordering is not a separate knob: it falls out of random delays. Reachability is directed:
 * a -> b can be blocked while b -> a works. Three mechanisms combine, and a message passes
 * only when all allow it: partitions (a label per node; two labelled nodes with different
 * labels cannot talk, unlabelled nodes talk to everyone), directed blocks, and disconnected
 * nodes (every link of the node cut, both ways). Reachability is checked when a message is
 * sent and again when it arrives, so a message in flight when a link is cut is lost.
 */
#ifndef DSIM_NET_H
#define DSIM_NET_H

#include "sim/dsim.h"
#include "sim/scenario.h"

typedef struct DsimNet DsimNet;

typedef enum {
    DSIM_DROP_NONE = 0,
    DSIM_DROP_LOSS,      /* lost by the link's loss probability */
    DSIM_DROP_PARTITION, /* the link was cut (partition, block or disconnect) */
    DSIM_DROP_CRASHED,   /* the receiver was down when it arrived */
    DSIM_DROP_LATE,      /* a call's response that nobody waits for any more (timed out) */
} DsimDropReason;
#define DSIM_DROP_REASONS 5

const char *dsim_drop_reason_name(DsimDropReason r); /* "loss", "partition", "crashed" */

typedef struct {
    DsimDropReason drop;     /* NONE: copies > 0 */
    unsigned       copies;   /* 1, or 2 when duplicated */
    DsimTime       delay[2]; /* from now until each copy arrives */
} DsimNetFate;

/* @spec is borrowed for the lifetime of the net (it belongs to the scenario). */
DsimNet *dsim_net_new(const DsimNetSpec *spec, unsigned n_nodes, uint64_t seed);
void     dsim_net_free(DsimNet *net); /* accepts NULL */

/* Decides what happens to one message of @size bytes sent now. */
void     dsim_net_fate(DsimNet *net, DsimNodeId from, DsimNodeId to, DsimTime now,
                       uint32_t size, DsimNetFate *fate);
bool     dsim_net_can_pass(const DsimNet *net, DsimNodeId from, DsimNodeId to);

/* Partitions: @label has n_nodes entries; 0 means "not in the partition". Replaces any
 * earlier partition (blocks and disconnects stay). */
void     dsim_net_partition(DsimNet *net, const uint32_t *label);
void     dsim_net_block(DsimNet *net, DsimNodeId from, DsimNodeId to, bool blocked);
void     dsim_net_disconnect(DsimNet *net, DsimNodeId node, bool disconnected);
/* Removes every partition and block (not disconnects, which `connect` undoes). */
void     dsim_net_heal(DsimNet *net);
bool     dsim_net_is_disconnected(const DsimNet *net, DsimNodeId node);
bool     dsim_net_has_cuts(const DsimNet *net); /* any partition, block or disconnect */

#endif /* DSIM_NET_H */
