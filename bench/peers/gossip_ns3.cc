/* bench/peers/gossip_ns3.cc - the push-gossip workload of bench/gossip on ns-3's core
 * scheduler, as a peer for dsim's figures (bench/README.md).
 *
 * ns-3 core only: Simulator::Schedule events, no nodes, devices or network stack.
 * N members, member 0 holds the rumor at time 0. Each member has a fixed phase in [0, 1 s);
 * once informed during round r (time [r s, r+1 s)) it ticks at its phase in round r+1 and
 * then every 1 s (dsim's default rounds="sync": a rumor learned now is passed on from the
 * next round only). On a tick it picks 3 distinct random peers other than itself and the member
 * it heard from (ns-3's UniformRandomVariable) and schedules a delivery to each after a
 * uniform(5 ms, 15 ms) delay. A delivery informs an uninformed member. The rumor never
 * stops; the run ends (Simulator::Stop) at full infection. Events = ticks + deliveries
 * executed; run_wall_s is the wall time of Simulator::Run() to full infection.
 *
 *   gossip_ns3 N [seed] [scheduler]     scheduler: map (ns-3's default), heap, calendar,
 *                                       list, priority-queue
 */
#include "ns3/core-module.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace ns3;

namespace {

const uint32_t kNobody = UINT32_MAX;
const int64_t kPeriodNs = 1000000000;  // 1 s
const uint32_t kFanout = 3;

struct Member {
    uint32_t phase_ns;  // offset of the member's ticks within the period
    uint32_t from;      // the member it heard from, kNobody before
    bool informed;
};

std::vector<Member> members;
uint32_t n_members;
uint32_t n_informed;
uint64_t n_events;
std::chrono::steady_clock::time_point run_start, run_full;
uint32_t last_round;
Ptr<UniformRandomVariable> rng;

void Tick(uint32_t self);

// Schedules the first tick of a member just informed: its phase in the next round.
void StartTicking(uint32_t self)
{
    int64_t now = Simulator::Now().GetNanoSeconds();
    int64_t at = (now / kPeriodNs + 1) * kPeriodNs + members[self].phase_ns;
    Simulator::Schedule(NanoSeconds(at - now), &Tick, self);
}

void Deliver(uint32_t to, uint32_t from)
{
    n_events++;
    Member &m = members[to];
    if (m.informed)
        return;
    m.informed = true;
    m.from = from;
    if (++n_informed == n_members) {
        last_round = (uint32_t) (Simulator::Now().GetNanoSeconds() / kPeriodNs);
        Simulator::Stop();
        run_full = std::chrono::steady_clock::now();
        return;
    }
    StartTicking(to);
}

void Tick(uint32_t self)
{
    n_events++;
    uint32_t peers[kFanout];
    uint32_t count = 0;
    uint32_t avoid = members[self].from;
    uint32_t usable = n_members - 1 - ((avoid != kNobody && n_members > 2) ? 1 : 0);
    uint32_t k = usable < kFanout ? usable : kFanout;
    while (count < k) {
        uint32_t p = rng->GetInteger(0, n_members - 2);
        p += p >= self;  // skip self
        if (p == avoid)
            continue;
        bool dup = false;
        for (uint32_t i = 0; i < count; i++)
            dup = dup || peers[i] == p;
        if (dup)
            continue;
        peers[count++] = p;
    }
    for (uint32_t i = 0; i < count; i++) {
        // uniform(5 ms, 15 ms) in whole nanoseconds
        int64_t delay = rng->GetInteger(5000000, 15000000);
        Simulator::Schedule(NanoSeconds(delay), &Deliver, peers[i], self);
    }
    Simulator::Schedule(NanoSeconds(kPeriodNs), &Tick, self);
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s N [seed] [map|heap|calendar|list|priority-queue]\n",
                     argv[0]);
        return 2;
    }
    n_members = (uint32_t) std::strtoul(argv[1], nullptr, 10);
    uint32_t seed = argc > 2 ? (uint32_t) std::strtoul(argv[2], nullptr, 10) : 1;
    std::string sched = argc > 3 ? argv[3] : "map";
    if (n_members < 2) {
        std::fprintf(stderr, "N must be at least 2\n");
        return 2;
    }
    std::string tid = sched == "heap"             ? "ns3::HeapScheduler"
                      : sched == "calendar"       ? "ns3::CalendarScheduler"
                      : sched == "list"           ? "ns3::ListScheduler"
                      : sched == "priority-queue" ? "ns3::PriorityQueueScheduler"
                                                  : "ns3::MapScheduler";
    ObjectFactory factory;
    factory.SetTypeId(tid);
    Simulator::SetScheduler(factory);

    RngSeedManager::SetSeed(seed);
    RngSeedManager::SetRun(1);
    rng = CreateObject<UniformRandomVariable>();

    members.resize(n_members);
    for (uint32_t i = 0; i < n_members; i++) {
        members[i].phase_ns = rng->GetInteger(0, kPeriodNs - 1);
        members[i].from = kNobody;
        members[i].informed = false;
    }
    members[0].informed = true;
    n_informed = 1;
    Simulator::ScheduleNow(&StartTicking, 0u);
    run_start = std::chrono::steady_clock::now();
    Simulator::Run();
    double end_s = Simulator::Now().GetSeconds();
    Simulator::Destroy();
    double run_s = std::chrono::duration<double>(run_full - run_start).count();
    std::printf("ns3 scheduler=%s N=%u informed=%u events=%llu end_s=%.6f rounds=%u "
                "run_wall_s=%.3f Mev_per_s=%.3f\n",
                sched.c_str(), n_members, n_informed, (unsigned long long) n_events, end_s,
                last_round, run_s, run_s > 0 ? n_events / run_s / 1e6 : 0.0);
    return n_informed == n_members ? 0 : 1;
}
