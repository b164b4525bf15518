/* main.c - runs every suite of tests/algorithms/ (CUnit basic runner, verbose). */
#include "tests/algorithms/tests.h"
#include "tests/lib/testutil.h"

int main(int argc, char **argv)
{
    CU_SuiteInfo suites[] = {
        { .pName = "pingpong", .pTests = pingpong_tests },
        { .pName = "broadcast", .pTests = broadcast_tests },
        { .pName = "gossip", .pTests = gossip_tests },
        { .pName = "swim", .pTests = swim_tests },
        { .pName = "world", .pTests = world_tests },
        { .pName = "calls", .pTests = calls_tests },
        { .pName = "service", .pTests = service_tests },
        { .pName = "registry", .pTests = registry_tests },
        { .pName = "trust", .pTests = trust_tests },
        { .pName = "gateway", .pTests = gateway_tests },
        { .pName = "faults", .pTests = faults_tests },
        { .pName = "clients", .pTests = clients_tests },
        { .pName = "paxos_basic", .pTests = paxos_basic_tests },
        { .pName = "paxos_multi", .pTests = paxos_multi_tests },
        { .pName = "raft_election", .pTests = raft_election_tests },
        { .pName = "raft_replication", .pTests = raft_replication_tests },
        { .pName = "raft_worlds", .pTests = raft_world_tests },
        { .pName = "raft_invariants", .pTests = raft_invariants_tests },
        { .pName = "raft_bugs", .pTests = raft_bugs_tests },
        CU_SUITE_INFO_NULL,
    };
    return testutil_run_suites(argc, argv, suites);
}
