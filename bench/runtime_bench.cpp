// Runtime micro-benchmarks, in two modes:
//
//   coring_runtime_bench [google-benchmark flags]   Google Benchmark suite
//   coring_runtime_bench spawn|yield|chain|timers [N] [MS]
//       the same work as ../shared/peers/asio_runtime.cpp and runtime_asyncio.py,
//       printing one "RESULT runtime=coring ..." line for run-all.sh's
//       EXTRA_RUNTIMES, so coring is measured in the same run as its peers.
//   coring_runtime_bench timers-burst [N] [MS]
//       N sleeps that all fall due while one task holds the loop: the cost of
//       firing a timer, which must stay below the cost of arming one for the
//       1M-sleeps case to keep up (its sleeps are armed as fast as the loop goes).
//
// Every heap allocation is counted (operator new is replaced in this binary):
// the counters allocs_per_task and bytes_per_task say what a task costs.
#include <benchmark/benchmark.h>

#include "allocation_counter.hpp"

#include <algorithm>
#include <chrono>
#include <coring/coring.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

// ---- allocation counting ----
namespace {
std::size_t allocations() { return coring::bench::allocations_so_far().allocations; }
std::size_t allocated_bytes() { return coring::bench::allocations_so_far().bytes; }
}  // namespace

namespace {

using clk = std::chrono::steady_clock;
using coring::Task;

double seconds_between(clk::time_point a, clk::time_point b) { return std::chrono::duration<double>(b - a).count(); }

long done_count = 0;

Task<> trivial() {
  ++done_count;
  co_return;
}
Task<> yield_once() {
  co_await coring::sleep(std::chrono::nanoseconds(0));
  ++done_count;
}
Task<int> child(int x) { co_return x + 1; }

/// Spawns n tasks, then lets the loop run them all (asio: co_spawn + run()).
struct SpawnFigures {
  double spawn_s, run_s;
  std::size_t allocs, bytes;
};
SpawnFigures spawn_and_run(long n, bool yield) {
  coring::EventLoop loop;
  SpawnFigures f{};
  auto body = [](long count, bool y, SpawnFigures& out) -> Task<> {
    const std::size_t a0 = allocations(), b0 = allocated_bytes();
    const auto t0 = clk::now();
    for (long i = 0; i < count; ++i) coring::create_task(y ? yield_once() : trivial());  // detached
    const auto t1 = clk::now();
    out.allocs = allocations() - a0;
    out.bytes = allocated_bytes() - b0;
    // Let every task run: they are ahead of us in the ready queue.
    co_await coring::sleep(std::chrono::nanoseconds(0));
    if (y) co_await coring::sleep(std::chrono::nanoseconds(0));
    out.spawn_s = seconds_between(t0, t1);
    out.run_s = seconds_between(t1, clk::now());
  };
  loop.run_until_complete(body(n, yield, f));
  return f;
}

Task<long> chain(long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await child(static_cast<int>(i & 1));
  co_return sum;
}

struct TimerFigures {
  std::vector<double> late_ms;
  double total_s = 0;
  double fire_ns_per_timer = 0;
  std::size_t bytes_per_task = 0;
};
Task<> sleeper(std::chrono::milliseconds d, double& late_ms) {
  const auto start = clk::now();
  co_await coring::sleep(d);
  late_ms = std::chrono::duration<double, std::milli>(clk::now() - start - d).count();
}
/// With `hold_loop`, one more task busies the loop until every sleep is due,
/// and fire_ns_per_timer is the time from then to the last wake-up, per sleep.
TimerFigures concurrent_sleeps(long n, long ms, bool hold_loop = false) {
  TimerFigures f;
  // Not zero: new zeroed memory may stay unmapped (malloc+fill becomes calloc),
  // and the first write of each page would then fault while the timers fire.
  f.late_ms.assign(static_cast<std::size_t>(n), -1.0);
  auto body = [](long count, long millis, bool hold, TimerFigures& out) -> Task<> {
    std::vector<coring::TaskHandle<void>> handles;
    handles.reserve(static_cast<std::size_t>(count) + 1);
    const std::size_t b0 = allocated_bytes();
    const auto t0 = clk::now();
    for (long i = 0; i < count; ++i)
      handles.push_back(coring::create_task(sleeper(std::chrono::milliseconds(millis), out.late_ms[i])));
    out.bytes_per_task = (allocated_bytes() - b0) / static_cast<std::size_t>(count);
    clk::time_point all_due;
    if (hold) {
      // Runs after every sleeper has armed its timer (tasks start in order).
      auto hold_until_due = [](clk::time_point& until, long sleep_ms) -> Task<> {
        until = clk::now() + std::chrono::milliseconds(sleep_ms + 100);
        while (clk::now() < until) {
        }
        co_return;
      };
      handles.push_back(coring::create_task(hold_until_due(all_due, millis)));
    }
    for (auto& h : handles) co_await h;
    const auto end = clk::now();
    out.total_s = seconds_between(t0, end);
    if (hold) out.fire_ns_per_timer = seconds_between(all_due, end) * 1e9 / static_cast<double>(count);
  };
  coring::run(body(n, ms, hold_loop, f));
  std::sort(f.late_ms.begin(), f.late_ms.end());
  return f;
}
double quantile(const std::vector<double>& sorted, double q) {
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(q * static_cast<double>(sorted.size())))];
}

// ---- peer mode ----
int peer_main(int argc, char** argv) {
  const std::string cmd = argv[1];
  if (cmd == "spawn" || cmd == "yield") {
    const long n = argc > 2 ? std::atol(argv[2]) : 100000;
    done_count = 0;
    const auto f = spawn_and_run(n, cmd == "yield");
    std::printf(
        "RESULT runtime=coring bench=%s tasks=%ld completed=%ld seconds=%.4f spawn_s=%.4f run_s=%.4f ns_per_task=%.1f "
        "allocs_per_task=%.2f bytes_per_task=%.0f\n",
        cmd == "yield" ? "spawn_yield" : "spawn_trivial", n, done_count, f.spawn_s + f.run_s, f.spawn_s, f.run_s,
        (f.spawn_s + f.run_s) / static_cast<double>(n) * 1e9, static_cast<double>(f.allocs) / static_cast<double>(n),
        static_cast<double>(f.bytes) / static_cast<double>(n));
  } else if (cmd == "chain") {
    const long n = argc > 2 ? std::atol(argv[2]) : 1000000;
    const auto t0 = clk::now();
    const long sum = coring::run(chain(n));
    const double s = seconds_between(t0, clk::now());
    std::printf("RESULT runtime=coring bench=await_chain awaits=%ld sum=%ld seconds=%.4f ns_per_await=%.1f\n", n, sum, s,
                s / static_cast<double>(n) * 1e9);
  } else if (cmd == "timers") {
    const long n = argc > 2 ? std::atol(argv[2]) : 10000;
    const long ms = argc > 3 ? std::atol(argv[3]) : 100;
    const auto f = concurrent_sleeps(n, ms);
    double mean = 0;
    for (double v : f.late_ms) mean += v;
    mean /= static_cast<double>(f.late_ms.size());
    std::printf(
        "RESULT runtime=coring bench=timers n=%ld sleep_ms=%ld total_s=%.4f late_ms_min=%.3f late_ms_p50=%.3f "
        "late_ms_p99=%.3f late_ms_max=%.3f late_ms_mean=%.3f bytes_per_task=%zu\n",
        n, ms, f.total_s, f.late_ms.front(), quantile(f.late_ms, 0.5), quantile(f.late_ms, 0.99), f.late_ms.back(),
        mean, f.bytes_per_task);
  } else if (cmd == "timers-burst") {
    const long n = argc > 2 ? std::atol(argv[2]) : 1000000;
    const long ms = argc > 3 ? std::atol(argv[3]) : 100;
    const auto f = concurrent_sleeps(n, ms, true);
    std::printf("RESULT runtime=coring bench=timers_burst n=%ld sleep_ms=%ld fire_ns_per_timer=%.1f late_ms_max=%.3f\n", n,
                ms, f.fire_ns_per_timer, f.late_ms.back());
  } else {
    std::fprintf(stderr, "unknown command %s (spawn, yield, chain, timers, timers-burst)\n", cmd.c_str());
    return 2;
  }
  return 0;
}

// ---- Google Benchmark suite ----

void BM_SpawnComplete(benchmark::State& state) {
  const long batch = state.range(0);
  coring::EventLoop loop;
  std::size_t allocs = 0;
  for (auto _ : state) {
    auto body = [](long n, std::size_t& a) -> Task<> {
      const std::size_t a0 = allocations();
      for (long i = 0; i < n; ++i) coring::create_task(trivial());
      a += allocations() - a0;
      co_await coring::sleep(std::chrono::nanoseconds(0));
    };
    loop.run_until_complete(body(batch, allocs));
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["ns_per_task"] = benchmark::Counter(static_cast<double>(state.iterations() * batch),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["allocs_per_task"] =
      static_cast<double>(allocs) / static_cast<double>(state.iterations() * batch);
}
BENCHMARK(BM_SpawnComplete)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_Gather(benchmark::State& state) {
  const long n = state.range(0);
  coring::EventLoop loop;
  for (auto _ : state) {
    auto body = [](long count) -> Task<> {
      std::vector<Task<int>> tasks;
      tasks.reserve(static_cast<std::size_t>(count));
      for (long i = 0; i < count; ++i) tasks.push_back(child(static_cast<int>(i)));
      auto values = co_await coring::gather(std::move(tasks));
      benchmark::DoNotOptimize(values.data());
    };
    loop.run_until_complete(body(n));
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["ns_per_task"] = benchmark::Counter(static_cast<double>(state.iterations() * n),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Gather)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_AwaitChain(benchmark::State& state) {
  coring::EventLoop loop;
  for (auto _ : state) benchmark::DoNotOptimize(loop.run_until_complete(chain(state.range(0))));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["ns_per_await"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_AwaitChain)->Arg(1000000)->Unit(benchmark::kMillisecond);

void BM_ConcurrentSleeps(benchmark::State& state) {
  TimerFigures f;
  for (auto _ : state) f = concurrent_sleeps(state.range(0), 100);
  state.counters["late_ms_p50"] = quantile(f.late_ms, 0.5);
  state.counters["late_ms_p99"] = quantile(f.late_ms, 0.99);
  state.counters["late_ms_max"] = f.late_ms.back();
  state.counters["bytes_per_task"] = static_cast<double>(f.bytes_per_task);
}
BENCHMARK(BM_ConcurrentSleeps)->Arg(100000)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && argv[1][0] != '-') return peer_main(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
