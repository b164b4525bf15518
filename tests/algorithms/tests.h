/* tests.h - the suites of tests/algorithms/run; each test file exports one CU_TestInfo table. */
#ifndef DSIM_TESTS_ALGORITHMS_H
#define DSIM_TESTS_ALGORITHMS_H

#include <CUnit/CUnit.h>

extern CU_TestInfo pingpong_tests[];
extern CU_TestInfo broadcast_tests[];
extern CU_TestInfo gossip_tests[];
extern CU_TestInfo swim_tests[];
extern CU_TestInfo calls_tests[];
extern CU_TestInfo service_tests[];
extern CU_TestInfo registry_tests[];
extern CU_TestInfo trust_tests[];
extern CU_TestInfo gateway_tests[];
extern CU_TestInfo world_tests[];
extern CU_TestInfo faults_tests[];
extern CU_TestInfo clients_tests[];
extern CU_TestInfo paxos_basic_tests[];
extern CU_TestInfo paxos_multi_tests[];
extern CU_TestInfo raft_election_tests[];
extern CU_TestInfo raft_replication_tests[];
extern CU_TestInfo raft_world_tests[];
extern CU_TestInfo raft_invariants_tests[];
extern CU_TestInfo raft_bugs_tests[];

#endif
