// Lesson 2: gather, return_exceptions and TaskGroup.
//
// 1. gather runs its arguments concurrently and gives their results back in
//    argument order, whatever order they finish in.
// 2. By default the first exception propagates out of gather. Unlike
//    asyncio, coring's gather first cancels the other children and waits for
//    them to finish: in C++ a child may hold references into the frame that
//    the exception is about to unwind, so none may be left running.
// 3. With return_exceptions, every child runs to its end and each result
//    comes back as a Result: a value or the exception it raised.
// 4. The book ends on a problem: with gather there is no easy way to cancel
//    the others when one fails. TaskGroup is the answer: the first failure
//    cancels the siblings, and the group ends only when all have finished.
//
// Each event is printed with its time (t=1.00 s), read from the loop's clock
// since the part began and given in unscaled seconds, so that the order in
// time can be seen next to the order of the results.
//
//   build/examples/gather_demo [--scale 0.1]
#include <CLI/CLI.hpp>
#include <chrono>
#include <coring/coring.hpp>
#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono;
using coring::Task;

namespace {

double scale = 1.0;
auto scaled(double seconds) { return duration_cast<nanoseconds>(duration<double>(seconds * scale)); }

coring::EventLoop::clock::time_point start;
/// Seconds since the current part began, by the loop's clock, unscaled.
double t() { return duration<double>(coring::EventLoop::get().time() - start).count() / scale; }
void restart_clock() { start = coring::EventLoop::get().time(); }

Task<std::string> job(std::string name, double seconds) {
  co_await coring::sleep(scaled(seconds));
  std::printf("  t=%.2f s  %s finished\n", t(), name.c_str());
  co_return name;
}

Task<std::string> failing_job(std::string name, double seconds) {
  co_await coring::sleep(scaled(seconds));
  std::printf("  t=%.2f s  %s raises\n", t(), name.c_str());
  throw std::runtime_error(name + " failed");
}

Task<std::string> patient_job(std::string name, double seconds) {
  try {
    co_return co_await job(name, seconds);
  } catch (const coring::CancelledError&) {
    std::printf("  t=%.2f s  %s was cancelled\n", t(), name.c_str());
    throw;
  }
}

Task<> lesson() {
  std::printf("1. gather keeps argument order\n");
  restart_clock();
  auto [a, b, c] = co_await coring::gather(job("slow", 0.3), job("fast", 0.1), job("medium", 0.2));
  std::printf("  t=%.2f s  results in argument order: %s, %s, %s\n", t(), a.c_str(), b.c_str(), c.c_str());

  std::printf("2. the first exception propagates, after the others are cancelled\n");
  restart_clock();
  try {
    co_await coring::gather(patient_job("sibling", 1.0), failing_job("culprit", 0.1));
  } catch (const std::runtime_error& e) {
    std::printf("  t=%.2f s  gather raised: %s\n", t(), e.what());
  }

  std::printf("3. return_exceptions gives every result\n");
  restart_clock();
  auto [ok, bad] = co_await coring::gather(coring::return_exceptions, job("good", 0.1), failing_job("bad", 0.05));
  std::printf("  t=%.2f s  first: %s\n", t(), ok.has_value() ? ("value " + ok.value()).c_str() : "exception");
  try {
    bad.value();
  } catch (const std::exception& e) {
    std::printf("  t=%.2f s  second: exception \"%s\"\n", t(), e.what());
  }

  std::printf("4. TaskGroup cancels the siblings when one fails\n");
  restart_clock();
  try {
    co_await coring::async_with(coring::TaskGroup{}, [](coring::TaskGroup& group) -> Task<> {
      group.create_task(patient_job("download A", 1.0));
      group.create_task(patient_job("download B", 1.0));
      group.create_task(failing_job("download C", 0.1));
      co_return;
    });
  } catch (const std::runtime_error& e) {
    std::printf("  t=%.2f s  task group raised: %s\n", t(), e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gather, return_exceptions and TaskGroup"};
  app.add_option("--scale", scale, "multiply every sleep by this factor")->check(CLI::Range(1e-4, 100.0));
  CLI11_PARSE(app, argc, argv);
  coring::run(lesson());
}
