/* protocols.c - the one table of protocols: add yours here, alphabetical within a family.
 * The scenario loader, `dsim list` and the docs all read this table. */
#include "algorithms/protocols.h"

#include <string.h>

#include "algorithms/broadcast/broadcast.h"
#include "algorithms/gateway/gateway.h"
#include "algorithms/gossip/gossip.h"
#include "algorithms/gossip/swim.h"
#include "algorithms/paxos/basic.h"
#include "algorithms/paxos/multi.h"
#include "algorithms/pingpong/pingpong.h"
#include "algorithms/raft/raft.h"
#include "algorithms/registry/discovery.h"
#include "algorithms/registry/registry.h"
#include "algorithms/service/service.h"
#include "algorithms/trust/trust.h"

const DsimProtocol *const dsim_protocols[] = {
    &pingpong_protocol,
    &broadcast_protocol,
    &gossip_protocol,
    &swim_protocol,
    &paxos_basic_protocol,
    &paxos_multi_protocol,
    &raft_protocol,
    &service_protocol,
    &client_protocol,
    &gateway_protocol,
    &limiter_protocol,
    &registry_protocol,
    &instance_protocol,
    &watcher_protocol,
    &ca_protocol,
    &zt_service_protocol,
    &zt_client_protocol,
    &attacker_protocol,
    NULL,
};

const DsimProtocol *dsim_protocol_find(const char *name)
{
    for (unsigned i = 0; dsim_protocols[i] != NULL; i++) {
        if (strcmp(dsim_protocols[i]->name, name) == 0)
            return dsim_protocols[i];
    }
    return NULL;
}
