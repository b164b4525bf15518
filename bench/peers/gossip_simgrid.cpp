/* bench/peers/gossip_simgrid.cpp - the push-gossip workload of bench/gossip on SimGrid, as a
 * peer for dsim's figures (bench/README.md).
 *
 * An actor per member is too heavy at 10^6 members (each S4U actor has its own execution
 * context and stack, and every tick or delivery would be a context switch through the
 * maestro). The simplest faithful approach: no member actors and no platform network;
 * every event (a member's period tick, a delivery) is a SimGrid kernel timer
 * (simgrid::kernel::timer::Timer::set, public header simgrid/kernel/Timer.hpp), the
 * mechanism S4U itself uses for timeouts. SimGrid's engine owns the clock and the event
 * set (a boost fibonacci heap of timers) and runs each callback in the maestro at its date;
 * the workload code is the same as the ns-3 peer's. Engine::run() advances while timers
 * remain (no actor is needed for that).
 *
 * Workload: N members, member 0 holds the rumor at time 0. Each member has a fixed phase in
 * [0, 1 s); once informed during round r it ticks at its phase in round r+1 and then every
 * 1 s (dsim's default rounds="sync"). On a tick it picks 3 distinct random peers other than
 * itself and the member it heard from, and schedules a delivery to each after a
 * uniform(5 ms, 15 ms) delay. The rumor never stops. At full infection a flag makes every
 * later callback return at once, so the engine drains what is pending (about one timer per
 * member) without new work; only events up to full infection are counted, and run_wall_s
 * is the wall time from Engine::run() to full infection (the process wall time from
 * /usr/bin/time also includes the drain). Randomness: std::mt19937_64 (S4U has no
 * simulation RNG beyond xbt::random, which is the same Mersenne Twister).
 *
 *   gossip_simgrid N [seed]
 */
#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace sg4 = simgrid::s4u;
using simgrid::kernel::timer::Timer;

namespace {

const uint32_t kNobody = UINT32_MAX;
const int64_t kPeriodNs = 1000000000;  // 1 s; dates kept in integer ns, given to SimGrid in s
const uint32_t kFanout = 3;

struct Member {
    uint32_t phase_ns;
    uint32_t from;
    bool informed;
};

std::vector<Member> members;
uint32_t n_members;
uint32_t n_informed;
uint64_t n_events;
std::chrono::steady_clock::time_point run_start, run_full;
bool done;
double end_s;
std::mt19937_64 rng;

void Tick(uint32_t self, int64_t at_ns);

inline double Seconds(int64_t ns) { return (double) ns * 1e-9; }

void SetTick(uint32_t self, int64_t at_ns)
{
    Timer::set(Seconds(at_ns), [self, at_ns]() { Tick(self, at_ns); });
}

void StartTicking(uint32_t self, int64_t now_ns)
{
    SetTick(self, (now_ns / kPeriodNs + 1) * kPeriodNs + members[self].phase_ns);
}

void Deliver(uint32_t to, uint32_t from, int64_t now_ns)
{
    if (done)
        return;
    n_events++;
    Member &m = members[to];
    if (m.informed)
        return;
    m.informed = true;
    m.from = from;
    if (++n_informed == n_members) {
        done = true;
        end_s = sg4::Engine::get_clock();
        run_full = std::chrono::steady_clock::now();
        return;
    }
    StartTicking(to, now_ns);
}

void Tick(uint32_t self, int64_t now_ns)
{
    if (done)
        return;
    n_events++;
    uint32_t peers[kFanout];
    uint32_t count = 0;
    uint32_t avoid = members[self].from;
    uint32_t usable = n_members - 1 - ((avoid != kNobody && n_members > 2) ? 1 : 0);
    uint32_t k = usable < kFanout ? usable : kFanout;
    std::uniform_int_distribution<uint32_t> pick(0, n_members - 2);
    std::uniform_int_distribution<int64_t> delay(5000000, 15000000);
    while (count < k) {
        uint32_t p = pick(rng);
        p += p >= self;
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
        int64_t at = now_ns + delay(rng);
        uint32_t to = peers[i];
        Timer::set(Seconds(at), [to, self, at]() { Deliver(to, self, at); });
    }
    SetTick(self, now_ns + kPeriodNs);
}

}  // namespace

int main(int argc, char **argv)
{
    sg4::Engine e(&argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s N [seed]\n", argv[0]);
        return 2;
    }
    n_members = (uint32_t) std::strtoul(argv[1], nullptr, 10);
    uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
    if (n_members < 2) {
        std::fprintf(stderr, "N must be at least 2\n");
        return 2;
    }
    // A one-host platform: the engine wants one, the workload does not use it.
    auto *zone = sg4::create_full_zone("world");
    zone->create_host("h", 1e9);
    zone->seal();

    rng.seed(seed);
    std::uniform_int_distribution<uint32_t> phase(0, kPeriodNs - 1);
    members.resize(n_members);
    for (uint32_t i = 0; i < n_members; i++)
        members[i] = Member{phase(rng), kNobody, false};
    members[0].informed = true;
    n_informed = 1;
    StartTicking(0, 0);
    run_start = std::chrono::steady_clock::now();
    e.run();
    double run_s = std::chrono::duration<double>(run_full - run_start).count();
    std::printf("simgrid N=%u informed=%u events=%llu end_s=%.6f rounds=%u run_wall_s=%.3f "
                "Mev_per_s=%.3f\n",
                n_members, n_informed, (unsigned long long) n_events, end_s,
                (unsigned) (end_s + 1e-12), run_s, run_s > 0 ? n_events / run_s / 1e6 : 0.0);
    return n_informed == n_members ? 0 : 1;
}
