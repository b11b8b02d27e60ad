// Lesson 5: as_completed, results as soon as each one is ready.
//
// gather hands back every result at once, in argument order, when the last
// awaitable has finished: one slow request holds up the results of all the
// fast ones. as_completed hands back each result as soon as its task
// finishes, in finishing order, so the program can use the fast answers while
// the slow ones are still on the way (the book's next step after gather):
//
// 1. The same three fetches, 3 s, 1 s and 2 s, through gather and through
//    as_completed. gather prints all three at t=3 in argument order;
//    as_completed prints one at t=1, one at t=2, one at t=3.
// 2. A deadline on the whole: asyncio.as_completed(timeout=2) raises
//    TimeoutError at each result still missing at 2 s. coring's AsCompleted
//    has no timeout of its own: wait_for on each next(), with what is left of
//    the deadline, gives the same TimeoutError. The difference is what
//    happens to the late fetches: asyncio leaves them running in the
//    background, where nobody will ever read their results; dropping a coring
//    AsCompleted cancels the tasks it still holds.
//
// The asyncio it mirrors:
//
//   for finished in asyncio.as_completed([fetch(3), fetch(1), fetch(2)]):
//       print(await finished)
//
//   for finished in asyncio.as_completed([fetch(1), fetch(1), fetch(10)], timeout=2):
//       try:
//           print(await finished)
//       except asyncio.TimeoutError:
//           print('timed out')
//
// The fetches are simulated with sleeps; times are read from the loop's clock
// and printed in unscaled seconds (t=1.00 s is 1 s at --scale 1).
//
//   build/examples/as_completed_demo [--scale 0.1]
#include <CLI/CLI.hpp>
#include <chrono>
#include <coring/coring.hpp>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono;
using coring::Task;

namespace {

double scale = 1.0;
nanoseconds scaled(double seconds) { return duration_cast<nanoseconds>(duration<double>(seconds * scale)); }

coring::EventLoop::clock::time_point start;
/// Seconds since the lesson began, by the loop's clock, unscaled.
double t() { return duration<double>(coring::EventLoop::get().time() - start).count() / scale; }

/// A simulated request that takes `seconds` to answer.
Task<std::string> fetch(std::string name, double seconds) {
  try {
    co_await coring::sleep(scaled(seconds));
  } catch (const coring::CancelledError&) {
    std::printf("  t=%.2f s  %s was cancelled\n", t(), name.c_str());
    throw;
  }
  co_return name;
}

std::vector<Task<std::string>> three_fetches() {
  std::vector<Task<std::string>> fetches;
  fetches.push_back(fetch("slow (3 s)", 3));
  fetches.push_back(fetch("fast (1 s)", 1));
  fetches.push_back(fetch("medium (2 s)", 2));
  return fetches;
}

Task<> lesson() {
  start = coring::EventLoop::get().time();
  std::printf("1a. gather: every result at once, in argument order\n");
  auto [a, b, c] = co_await coring::gather(fetch("slow (3 s)", 3), fetch("fast (1 s)", 1), fetch("medium (2 s)", 2));
  for (const std::string* result : {&a, &b, &c}) std::printf("  t=%.2f s  gather gave %s\n", t(), result->c_str());

  std::printf("1b. as_completed: each result as it finishes\n");
  start = coring::EventLoop::get().time();
  {
    auto results = coring::as_completed(three_fetches());
    while (!results.empty()) {
      std::string result = co_await results.next();
      std::printf("  t=%.2f s  as_completed gave %s\n", t(), result.c_str());
    }
  }

  std::printf("2. as_completed with a 2 s deadline\n");
  start = coring::EventLoop::get().time();
  {
    std::vector<Task<std::string>> fetches;
    fetches.push_back(fetch("first 1 s fetch", 1));
    fetches.push_back(fetch("second 1 s fetch", 1));
    fetches.push_back(fetch("10 s fetch", 10));
    const auto deadline = steady_clock::now() + scaled(2);
    auto results = coring::as_completed(std::move(fetches));
    while (!results.empty()) {
      try {
        const auto left = duration_cast<nanoseconds>(deadline - steady_clock::now());
        std::string result = co_await coring::wait_for(results.next(), left);
        std::printf("  t=%.2f s  as_completed gave %s\n", t(), result.c_str());
      } catch (const coring::TimeoutError&) {
        std::printf("  t=%.2f s  TimeoutError, still running: %zu\n", t(), results.size());
        break;
      }
    }
  }  // dropping `results` cancels the fetches it still holds
  co_await coring::sleep(0ns);  // one pass: the cancelled fetch runs to its end
  // live_tasks() counts this lesson's own task too.
  std::printf("  t=%.2f s  tasks still running besides this one: %zu\n", t(),
              coring::EventLoop::get().live_tasks() - 1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"as_completed: results in finishing order, and a deadline on them"};
  app.add_option("--scale", scale, "multiply every sleep by this factor")->check(CLI::Range(0.01, 10.0));
  CLI11_PARSE(app, argc, argv);
  coring::run(lesson());
}
