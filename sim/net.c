/* net.c - the network model (see net.h for the rules).
 *
 * Costs are paid only by scenarios that use a feature: per-link overrides, blocks,
 * partitions, disconnects and bandwidth each live in a structure allocated on first use, so
 * a plain network costs a few branches and one or two draws per message. Hash tables here
 * are lookups by (from, to) pair, never iterated.
 */
#include "sim/net.h"

#include <string.h>

#include "sim/rng.h"

typedef struct {
    const DsimDist *latency; /* NULL: the network's */
    double          loss, duplicate;
} LinkRule;

struct DsimNet {
    const DsimNetSpec *spec;
    unsigned           n;
    DsimRng            rng;
    GHashTable        *links;        /* pair -> LinkRule*, or NULL when no overrides */
    GHashTable        *blocked;      /* set of pairs, or NULL */
    uint32_t          *label;        /* partition labels, or NULL */
    uint8_t           *disconnected; /* or NULL */
    unsigned           n_disconnected;
    DsimTime          *nic_free_at;  /* bandwidth model, or NULL */
};

static inline uint64_t pair_key(DsimNodeId from, DsimNodeId to)
{
    return ((uint64_t) from << 32) | to;
}

static guint pair_hash(gconstpointer p)
{
    uint64_t k = *(const uint64_t *) p;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (guint) k;
}

static gboolean pair_equal(gconstpointer a, gconstpointer b)
{
    return *(const uint64_t *) a == *(const uint64_t *) b;
}

const char *dsim_drop_reason_name(DsimDropReason r)
{
    switch (r) {
    case DSIM_DROP_NONE: return "none";
    case DSIM_DROP_LOSS: return "loss";
    case DSIM_DROP_PARTITION: return "partition";
    case DSIM_DROP_CRASHED: return "crashed";
    case DSIM_DROP_LATE: return "late";
    }
    g_assert_not_reached();
}

DsimNet *dsim_net_new(const DsimNetSpec *spec, unsigned n_nodes, uint64_t seed)
{
    DsimNet *net = g_new0(DsimNet, 1);
    net->spec = spec;
    net->n = n_nodes;
    dsim_rng_init(&net->rng, seed, "net");
    if (spec->links != NULL && spec->links->len > 0) {
        net->links = g_hash_table_new_full(pair_hash, pair_equal, g_free, g_free);
        /* file order: a later <link> for the same pair overrides the fields it sets */
        for (unsigned i = 0; i < spec->links->len; i++) {
            const DsimLinkSpec *ls = &g_array_index(spec->links, DsimLinkSpec, i);
            uint64_t key = pair_key(ls->from, ls->to);
            LinkRule *rule = g_hash_table_lookup(net->links, &key);
            if (rule == NULL) {
                rule = g_new0(LinkRule, 1);
                rule->loss = -1;
                rule->duplicate = -1;
                g_hash_table_insert(net->links, g_memdup2(&key, sizeof key), rule);
            }
            if (ls->latency != NULL)
                rule->latency = ls->latency;
            if (ls->loss >= 0)
                rule->loss = ls->loss;
            if (ls->duplicate >= 0)
                rule->duplicate = ls->duplicate;
        }
    }
    if (spec->bandwidth_bps > 0)
        net->nic_free_at = g_new0(DsimTime, n_nodes);
    return net;
}

void dsim_net_free(DsimNet *net)
{
    if (net == NULL)
        return;
    if (net->links != NULL)
        g_hash_table_destroy(net->links);
    if (net->blocked != NULL)
        g_hash_table_destroy(net->blocked);
    g_free(net->label);
    g_free(net->disconnected);
    g_free(net->nic_free_at);
    g_free(net);
}

bool dsim_net_can_pass(const DsimNet *net, DsimNodeId from, DsimNodeId to)
{
    if (from == to)
        return true;
    if (net->n_disconnected > 0 && (net->disconnected[from] || net->disconnected[to]))
        return false;
    if (net->label != NULL) {
        uint32_t a = net->label[from], b = net->label[to];
        if (a != 0 && b != 0 && a != b)
            return false;
    }
    if (net->blocked != NULL) {
        uint64_t key = pair_key(from, to);
        if (g_hash_table_contains(net->blocked, &key))
            return false;
    }
    return true;
}

void dsim_net_fate(DsimNet *net, DsimNodeId from, DsimNodeId to, DsimTime now, uint32_t size,
                   DsimNetFate *fate)
{
    const DsimNetSpec *spec = net->spec;
    const DsimDist *latency = spec->latency;
    double loss = spec->loss, duplicate = spec->duplicate;

    fate->copies = 0;
    fate->drop = DSIM_DROP_NONE;
    if (net->links != NULL) {
        uint64_t key = pair_key(from, to);
        const LinkRule *rule = g_hash_table_lookup(net->links, &key);
        if (rule != NULL) {
            if (rule->latency != NULL)
                latency = rule->latency;
            if (rule->loss >= 0)
                loss = rule->loss;
            if (rule->duplicate >= 0)
                duplicate = rule->duplicate;
        }
    }
    if (!dsim_net_can_pass(net, from, to)) {
        fate->drop = DSIM_DROP_PARTITION;
        return;
    }
    if (loss > 0 && dsim_rng_chance(&net->rng, loss)) {
        fate->drop = DSIM_DROP_LOSS;
        return;
    }
    fate->copies = (duplicate > 0 && dsim_rng_chance(&net->rng, duplicate)) ? 2 : 1;

    /* Bandwidth: the sender's uplink sends one message at a time; a message waits for the
     * previous one to leave, then takes size*8/bandwidth to transmit. Duplicates are a
     * network artefact and do not cost the sender twice. */
    DsimTime tx_delay = 0;
    if (net->nic_free_at != NULL) {
        double bits = 8.0 * ((double) size + spec->header_bytes);
        DsimTime tx = (DsimTime) (bits * 1e9 / spec->bandwidth_bps + 0.5);
        DsimTime start = net->nic_free_at[from] > now ? net->nic_free_at[from] : now;
        net->nic_free_at[from] = start + tx;
        tx_delay = start + tx - now;
    }
    for (unsigned i = 0; i < fate->copies; i++)
        fate->delay[i] = tx_delay + dsim_dist_sample(latency, &net->rng);
}

void dsim_net_partition(DsimNet *net, const uint32_t *label)
{
    if (net->label == NULL)
        net->label = g_new0(uint32_t, net->n);
    memcpy(net->label, label, sizeof(uint32_t) * net->n);
}

void dsim_net_block(DsimNet *net, DsimNodeId from, DsimNodeId to, bool blocked)
{
    uint64_t key = pair_key(from, to);
    if (blocked) {
        if (net->blocked == NULL)
            net->blocked = g_hash_table_new_full(pair_hash, pair_equal, g_free, NULL);
        if (!g_hash_table_contains(net->blocked, &key))
            g_hash_table_add(net->blocked, g_memdup2(&key, sizeof key));
    } else if (net->blocked != NULL) {
        g_hash_table_remove(net->blocked, &key);
    }
}

void dsim_net_disconnect(DsimNet *net, DsimNodeId node, bool disconnected)
{
    if (net->disconnected == NULL)
        net->disconnected = g_new0(uint8_t, net->n);
    if (net->disconnected[node] != disconnected) {
        net->disconnected[node] = disconnected;
        if (disconnected)
            net->n_disconnected++;
        else
            net->n_disconnected--;
    }
}

void dsim_net_heal(DsimNet *net)
{
    g_clear_pointer(&net->label, g_free);
    if (net->blocked != NULL)
        g_hash_table_remove_all(net->blocked);
}

bool dsim_net_is_disconnected(const DsimNet *net, DsimNodeId node)
{
    return net->disconnected != NULL && net->disconnected[node];
}

bool dsim_net_has_cuts(const DsimNet *net)
{
    return net->n_disconnected > 0 || net->label != NULL
        || (net->blocked != NULL && g_hash_table_size(net->blocked) > 0);
}
