// The loop itself: timers, sleep, cancellation of sleeps, batching of
// io_uring_enter, and wake-ups from other threads.
#include <doctest/doctest.h>
#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <coring/coring.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace coring;
using namespace std::chrono_literals;

namespace {
auto elapsed_since(EventLoop::clock::time_point start) { return EventLoop::clock::now() - start; }

/// What the loop should report for its ring, asked of the kernel directly:
/// the first of the loop's sets of setup flags (best first, from `first` on)
/// that io_uring_setup accepts, and " +batch_wait" where the kernel has
/// IORING_FEAT_MIN_TIMEOUT (Linux 6.12).
struct ExpectedSetup {
  std::string flags;
  bool batch_wait = false;
};

ExpectedSetup expected_setup(std::size_t first) {
  struct Choice {
    unsigned flags;
    const char* name;
  };
  const Choice choices[] = {
      {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
       "SINGLE_ISSUER|DEFER_TASKRUN|TASKRUN_FLAG"},
      {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, "COOP_TASKRUN|TASKRUN_FLAG"},
      {0, "none"},
  };
  for (std::size_t i = first; i < std::size(choices); ++i) {
    io_uring_params params{};
    params.flags = choices[i].flags;
    const long fd = ::syscall(__NR_io_uring_setup, 8, &params);
    if (fd < 0) continue;
    ::close(static_cast<int>(fd));
    return {choices[i].name, (params.features & (1U << 15)) != 0};
  }
  return {"refused", false};
}

/// The set of setup flags a new loop reports (its first word), and whether
/// it reports batch_wait, when made with `setup`.
ExpectedSetup reported_setup(RingSetup setup) {
  const std::string features = EventLoop(EventLoopOptions{.ring_setup = setup}).ring_features();
  return {features.substr(0, features.find(' ')), features.find(" +batch_wait") != std::string::npos};
}
}  // namespace

TEST_CASE("sleep waits at least its duration") {
  auto outer = []() -> Task<> {
    const auto start = EventLoop::clock::now();
    co_await sleep(20ms);
    CHECK(elapsed_since(start) >= 20ms);
  };
  run(outer());
}

TEST_CASE("sleeps wake in deadline order whatever order they started in") {
  std::vector<int> order;
  auto sleeper = [&](int id, std::chrono::milliseconds d) -> Task<> {
    co_await sleep(d);
    order.push_back(id);
  };
  auto outer = [&]() -> Task<> {
    auto a = create_task(sleeper(3, 30ms));
    auto b = create_task(sleeper(1, 10ms));
    auto c = create_task(sleeper(2, 20ms));
    co_await a;
    co_await b;
    co_await c;
  };
  run(outer());
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("timers due together wake their tasks in deadline order, before what those tasks wake") {
  std::vector<std::string> log;
  Event first_woke;
  auto first = [&]() -> Task<> {
    co_await sleep(5ms);
    // Resumed right after its own timer, before the next one fires.
    log.push_back("first, with " + std::to_string(EventLoop::get().pending_timers()) + " timer to fire");
    first_woke.set();
  };
  auto second = [&]() -> Task<> {
    co_await sleep(5ms);
    log.push_back("second");
  };
  auto woken_by_first = [&]() -> Task<> {
    co_await first_woke.wait();
    log.push_back("woken by first");
  };
  auto hold_past_both = []() -> Task<> {
    const auto until = EventLoop::clock::now() + 20ms;
    while (EventLoop::clock::now() < until) {
    }
    co_return;
  };
  auto outer = [&]() -> Task<> {
    auto a = create_task(first());
    auto b = create_task(second());
    auto c = create_task(woken_by_first());
    auto h = create_task(hold_past_both());
    co_await a;
    co_await b;
    co_await c;
    co_await h;
  };
  run(outer());
  CHECK(log == std::vector<std::string>{"first, with 1 timer to fire", "second", "woken by first"});
}

TEST_CASE("sleep(0) yields to the other ready tasks once, in FIFO order") {
  std::vector<std::string> log;
  auto step = [&](std::string name) -> Task<> {
    log.push_back(name + "1");
    co_await sleep(0ns);
    log.push_back(name + "2");
  };
  auto outer = [&]() -> Task<> {
    auto a = create_task(step("a"));
    auto b = create_task(step("b"));
    co_await a;
    co_await b;
  };
  run(outer());
  CHECK(log == std::vector<std::string>{"a1", "b1", "a2", "b2"});
}

TEST_CASE("a negative sleep behaves as sleep(0)") {
  auto outer = []() -> Task<> {
    const auto start = EventLoop::clock::now();
    co_await sleep(-5s);
    CHECK(elapsed_since(start) < 1s);
  };
  run(outer());
}

TEST_CASE("cancelling a sleeping task ends its sleep at once with CancelledError") {
  auto outer = []() -> Task<> {
    auto sleeper = create_task([]() -> Task<> { co_await sleep(1h); }());
    co_await sleep(1ms);
    const auto start = EventLoop::clock::now();
    CHECK(sleeper.cancel());
    CHECK_THROWS_AS(co_await sleeper, CancelledError);
    CHECK(sleeper.cancelled());
    CHECK(elapsed_since(start) < 1s);  // an hour's sleep, ended at once (1 s: room for a loaded CI VM's pauses)
    CHECK(EventLoop::get().pending_timers() == 0);  // the timer left the heap
    CHECK_FALSE(sleeper.cancel());  // cancelling a finished task does nothing
  };
  run(outer());
}

TEST_CASE("a task cancelled before its first suspension gets CancelledError there") {
  static int steps = 0;
  steps = 0;
  auto outer = []() -> Task<> {
    auto t = create_task([]() -> Task<> {
      ++steps;
      co_await sleep(0ns);
      ++steps;
    }());
    t.cancel();
    CHECK_THROWS_AS(co_await t, CancelledError);
    CHECK(steps == 1);
  };
  run(outer());
}

TEST_CASE("a task may catch CancelledError, clean up with awaits, and finish") {
  auto outer = []() -> Task<int> {
    auto t = create_task([]() -> Task<int> {
      try {
        co_await sleep(1h);
      } catch (const CancelledError&) {
      }
      co_await sleep(1ms);  // cleanup that awaits still runs
      co_return 7;
    }());
    co_await sleep(0ns);
    t.cancel();
    co_return co_await t;
  };
  CHECK(run(outer()) == 7);
}

TEST_CASE("cancelling a task that awaits another cancels the awaited one too") {
  auto outer = []() -> Task<> {
    auto inner = create_task([]() -> Task<> { co_await sleep(1h); }());
    auto await_it = [](TaskHandle<void>& h) -> Task<> { co_await h; };
    auto middle = create_task(await_it(inner));
    co_await sleep(1ms);
    middle.cancel();
    CHECK_THROWS_AS(co_await middle, CancelledError);
    CHECK(inner.cancelled());
  };
  run(outer());
}

TEST_CASE("many concurrent sleeps all finish, with the loop batching its enters") {
  constexpr int n = 10'000;
  int woke = 0;
  auto sleeper = [&]() -> Task<> {
    co_await sleep(5ms);
    ++woke;
  };
  auto outer = [&]() -> Task<> {
    std::vector<TaskHandle<void>> handles;
    for (int i = 0; i < n; ++i) handles.push_back(create_task(sleeper()));
    for (auto& h : handles) co_await h;
  };
  EventLoop loop;
  const auto enters_before = loop.enter_count();
  loop.run_until_complete(outer());
  CHECK(woke == n);
  // Waits happen only when idle: a few enters, not one per task.
  CHECK(loop.enter_count() - enters_before < 100);
}

TEST_CASE("call_soon_threadsafe runs functions from another thread on the loop") {
  auto outer = []() -> Task<int> {
    EventLoop& loop = EventLoop::get();
    std::atomic<int> ran_on_loop{0};
    const auto loop_thread = std::this_thread::get_id();
    std::thread other([&] {
      for (int i = 0; i < 100; ++i)
        loop.call_soon_threadsafe([&] {
          if (std::this_thread::get_id() == loop_thread) ++ran_on_loop;
        });
    });
    for (int i = 0; i < 2000 && ran_on_loop < 100; ++i) co_await sleep(1ms);
    other.join();
    co_return ran_on_loop.load();
  };
  CHECK(run(outer()) == 100);
}

TEST_CASE("call_soon_threadsafe wakes a loop that waits in the kernel") {
  auto outer = []() -> Task<bool> {
    EventLoop& loop = EventLoop::get();
    bool woken = false;
    auto sleep_until = [](const bool& flag) -> Task<> {
      for (int i = 0; i < 5000 && !flag; ++i) co_await sleep(1h);
    };
    auto waiter = create_task(sleep_until(woken));
    std::thread other([&] {
      std::this_thread::sleep_for(20ms);
      loop.call_soon_threadsafe([&] {
        woken = true;
        waiter.cancel();
      });
    });
    try {
      co_await waiter;
    } catch (const CancelledError&) {
    }
    other.join();
    co_return woken;
  };
  CHECK(run(outer()));
}

TEST_CASE("loops on several threads run independently") {
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&total] {
      total += run([]() -> Task<int> {
        int sum = 0;
        for (int i = 0; i < 10; ++i) {
          co_await sleep(1ms);
          ++sum;
        }
        co_return sum;
      }());
    });
  }
  for (auto& t : threads) t.join();
  CHECK(total == 40);
}

TEST_CASE("the loop reports which io_uring setup flags the kernel accepted") {
  MESSAGE("io_uring setup: " << EventLoop().ring_features());
  // By default the best set the kernel takes; EventLoopOptions::ring_setup starts further down.
  const std::pair<RingSetup, std::size_t> setups[] = {{RingSetup::defer, 0}, {RingSetup::coop, 1}, {RingSetup::none, 2}};
  for (const auto& [setup, first] : setups) {
    CAPTURE(first);
    const ExpectedSetup expected = expected_setup(first);
    const ExpectedSetup reported = reported_setup(setup);
    CHECK(reported.flags == expected.flags);
    CHECK(reported.batch_wait == expected.batch_wait);
  }
}

TEST_CASE("run() ends even when a task already caught a cancellation and waits again") {
  // Without the closing loop's second cancellation run() would wait out the hour.
  int cancellations = 0;
  bool slept_out = false;
  // The lambdas capture nothing: the stubborn task outlives outer's frame.
  // What they count lives in this function, which outlasts run().
  auto outer = [](int& cancellations, bool& slept_out) -> Task<> {
    auto stubborn = [](int& cancellations, bool& slept_out) -> Task<> {
      try {
        co_await sleep(1h);
      } catch (const CancelledError&) {
        ++cancellations;
      }
      try {
        co_await sleep(1h);  // the closing loop cancels it once more
        slept_out = true;
      } catch (const CancelledError&) {
        ++cancellations;
        throw;
      }
    };
    auto h = create_task(stubborn(cancellations, slept_out));
    co_await sleep(1ms);
    h.cancel();
    co_await sleep(1ms);
    CHECK(cancellations == 1);
  };
  run(outer(cancellations, slept_out));
  CHECK(cancellations == 2);
  CHECK_FALSE(slept_out);
}

TEST_CASE("awaiting a task with a cancellation already pending cancels that task too") {
  auto outer = []() -> Task<> {
    auto child = create_task([]() -> Task<> { co_await sleep(1h); }());
    auto parent = [](TaskHandle<void>& c) -> Task<> {
      co_await sleep(0ns);
      co_await c;
    };
    auto p = create_task(parent(child));
    p.cancel();  // pending before it reaches `co_await c`... delivered at sleep(0)
    CHECK_THROWS_AS(co_await p, CancelledError);
    // Now a cancellation that is pending exactly at the handle await:
    auto q = create_task([](TaskHandle<void>& c) -> Task<> {
      EventLoop::get().current_task()->cancel();
      co_await c;
    }(child));
    CHECK_THROWS_AS(co_await q, CancelledError);
    CHECK(child.cancelled());
  };
  run(outer());
}

TEST_CASE("the loop's time is read once per pass: it never runs ahead of the clock and advances with it") {
  auto outer = []() -> Task<> {
    EventLoop& loop = EventLoop::get();
    const auto first = loop.time();
    CHECK(first <= EventLoop::clock::now());
    // Within a pass it stands still, however long the pass runs.
    const auto busy_until = EventLoop::clock::now() + 2ms;
    while (EventLoop::clock::now() < busy_until) {
    }
    CHECK(loop.time() == first);
    const auto before_sleep = EventLoop::clock::now();
    co_await sleep(5ms);
    CHECK(loop.time() >= before_sleep + 5ms);
    CHECK(loop.time() <= EventLoop::clock::now());
  };
  run(outer());
}
