// Lesson 6: wait, and what to do with the tasks still pending.
//
// gather and as_completed give results; wait gives control. It waits on
// started tasks until a condition holds (or a timeout passes), then splits
// them into done and pending. It raises nothing of the tasks' own and cancels
// none of them: the pending ones run on, and the caller decides their fate.
//
// 1. first_completed: ask three mirrors for the same file and take the first
//    answer. The other two are of no use any more: cancel them, then await
//    them, so that they have really ended before we go on.
// 2. first_exception: wait returns as soon as one task fails, with that task
//    in `done` (next to any that succeeded first). The exception is not
//    raised by wait: it is in the failed task, read through result().
// 3. all_completed with a timeout: when the time is up, wait returns what is
//    done and leaves the rest pending and still running. Cancel and await
//    them (or wait on them again, if their results are still wanted).
//
// Awaiting a cancelled task matters: cancel() only asks; the task ends at its
// next suspension point, after its handlers have run. wait(pending) with no
// timeout returns once every one of them has ended.
//
// The asyncio it mirrors:
//
//   done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
//   done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
//   done, pending = await asyncio.wait(tasks, timeout=3)
//   for task in pending:
//       task.cancel()
//   await asyncio.wait(pending)
//
// Times are read from the loop's clock and printed in unscaled seconds.
//
//   build/examples/wait_demo [--scale 0.1]
#include <CLI/CLI.hpp>
#include <chrono>
#include <coring/coring.hpp>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono;
using coring::Task;
using coring::TaskHandle;

namespace {

double scale = 1.0;
nanoseconds scaled(double seconds) { return duration_cast<nanoseconds>(duration<double>(seconds * scale)); }

coring::EventLoop::clock::time_point start;
/// Seconds since the current part began, by the loop's clock, unscaled.
double t() { return duration<double>(coring::EventLoop::get().time() - start).count() / scale; }
void restart_clock() { start = coring::EventLoop::get().time(); }

/// A simulated request that answers after `seconds`, or fails then if `fails`.
Task<std::string> request(std::string name, double seconds, bool fails = false) {
  try {
    co_await coring::sleep(scaled(seconds));
  } catch (const coring::CancelledError&) {
    std::printf("  t=%.2f s  %s was cancelled\n", t(), name.c_str());
    throw;
  }
  if (fails) throw std::runtime_error(name + ": connection reset");
  co_return name;
}

/// Says what a finished task gave: its value or its exception.
void report(TaskHandle<std::string>& task) {
  try {
    std::printf("  t=%.2f s  done: %s\n", t(), task.result().c_str());
  } catch (const std::exception& e) {
    std::printf("  t=%.2f s  done: raised \"%s\"\n", t(), e.what());
  }
}

/// What to do with the pending ones: cancel each, then await them all.
Task<> cancel_and_await(std::vector<TaskHandle<std::string>> pending) {
  const std::size_t count = pending.size();
  for (auto& task : pending) task.cancel();
  coring::WaitResult<std::string> ended = co_await coring::wait(std::move(pending));
  std::size_t cancelled = 0;
  for (auto& task : ended.done) cancelled += task.cancelled() ? 1 : 0;
  std::printf("  t=%.2f s  pending: %zu cancelled and awaited, %zu still running\n", t(), cancelled,
              count - ended.done.size());
}

Task<> lesson() {
  std::printf("1. first_completed: three mirrors, the first answer wins\n");
  restart_clock();
  {
    std::vector<TaskHandle<std::string>> mirrors;
    mirrors.push_back(coring::create_task(request("mirror eu (3 s)", 3)));
    mirrors.push_back(coring::create_task(request("mirror us (1 s)", 1)));
    mirrors.push_back(coring::create_task(request("mirror asia (2 s)", 2)));
    auto [done, pending] = co_await coring::wait(std::move(mirrors), coring::ReturnWhen::first_completed);
    std::printf("  t=%.2f s  %zu done, %zu pending\n", t(), done.size(), pending.size());
    for (auto& task : done) report(task);
    co_await cancel_and_await(std::move(pending));
  }

  std::printf("2. first_exception: back as soon as one fails\n");
  restart_clock();
  {
    std::vector<TaskHandle<std::string>> requests;
    requests.push_back(coring::create_task(request("quick request (1 s)", 1)));
    requests.push_back(coring::create_task(request("failing request (2 s)", 2, true)));
    requests.push_back(coring::create_task(request("slow request (5 s)", 5)));
    auto [done, pending] = co_await coring::wait(std::move(requests), coring::ReturnWhen::first_exception);
    std::printf("  t=%.2f s  %zu done, %zu pending\n", t(), done.size(), pending.size());
    for (auto& task : done) report(task);
    co_await cancel_and_await(std::move(pending));
  }

  std::printf("3. all_completed with a 3 s timeout\n");
  restart_clock();
  {
    std::vector<TaskHandle<std::string>> jobs;
    jobs.push_back(coring::create_task(request("job A (1 s)", 1)));
    jobs.push_back(coring::create_task(request("job B (2 s)", 2)));
    jobs.push_back(coring::create_task(request("job C (5 s)", 5)));
    jobs.push_back(coring::create_task(request("job D (10 s)", 10)));
    const std::optional<nanoseconds> timeout = scaled(3);
    auto [done, pending] = co_await coring::wait(std::move(jobs), coring::ReturnWhen::all_completed, timeout);
    std::printf("  t=%.2f s  %zu done, %zu pending\n", t(), done.size(), pending.size());
    for (auto& task : done) report(task);
    std::size_t running = 0;
    for (auto& task : pending) running += task.done() ? 0 : 1;
    std::printf("  t=%.2f s  the %zu pending are still running: wait cancels nothing\n", t(), running);
    co_await cancel_and_await(std::move(pending));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wait: first_completed, first_exception, all_completed with a timeout"};
  app.add_option("--scale", scale, "multiply every sleep and timeout by this factor")->check(CLI::Range(0.01, 10.0));
  CLI11_PARSE(app, argc, argv);
  coring::run(lesson());
}
