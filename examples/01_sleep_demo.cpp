// Lesson 1: creating a task is not awaiting it.
//
// The book's first concurrency trap, in C++. Both programs below start three
// tasks that each sleep 3 seconds:
//
//   sequential:  for each delay: co_await create_task(sleep(delay));
//   concurrent:  handles = [create_task(sleep(d)) for d]; then await each
//
// The first awaits every task as soon as it is created, so the program sits
// in one sleep at a time: 3 + 3 + 3 = 9 s. The second creates all three
// first, so they sleep at the same time, and awaiting them one by one then
// takes only as long as the longest: about 3 s. A task starts running when
// the creator next suspends, not when it is awaited; awaiting only waits for
// it to finish.
//
//   build/examples/sleep_demo               # 9 s vs 3 s
//   build/examples/sleep_demo --scale 0.1   # the same at a tenth of the time
#include <CLI/CLI.hpp>
#include <chrono>
#include <coring/coring.hpp>
#include <cstdio>
#include <vector>

using namespace std::chrono;
using coring::Task;

namespace {

Task<> delay(duration<double> seconds) { co_await coring::sleep(duration_cast<nanoseconds>(seconds)); }

Task<double> sequential(std::vector<duration<double>> delays) {
  const auto start = steady_clock::now();
  for (auto d : delays) co_await coring::create_task(delay(d));  // awaited at once: one at a time
  co_return duration<double>(steady_clock::now() - start).count();
}

Task<double> concurrent(std::vector<duration<double>> delays) {
  const auto start = steady_clock::now();
  std::vector<coring::TaskHandle<void>> tasks;
  for (auto d : delays) tasks.push_back(coring::create_task(delay(d)));  // all started
  for (auto& t : tasks) co_await t;                                       // then awaited
  co_return duration<double>(steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sequential versus concurrent sleeps (the seed's two programs)"};
  double scale = 1.0;
  app.add_option("--scale", scale, "multiply every sleep by this factor")->check(CLI::Range(1e-4, 100.0));
  CLI11_PARSE(app, argc, argv);

  const std::vector<duration<double>> delays(3, duration<double>(3.0 * scale));
  const double seq = coring::run(sequential(delays));
  const double conc = coring::run(concurrent(delays));
  std::printf("three sleeps of %.3f s each\n", 3.0 * scale);
  std::printf("sequential (awaited as created): %.3f s\n", seq);
  std::printf("concurrent (created, then awaited): %.3f s\n", conc);
  std::printf("ratio: %.2fx\n", seq / conc);
}
