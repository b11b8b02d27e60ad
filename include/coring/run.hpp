#pragma once
// coring::run: the asyncio.run of coring.
#include "coring/loop.hpp"
#include "coring/task_handle.hpp"

namespace coring {

template <class T>
T EventLoop::run_until_complete(Task<T> task) {
  auto frame = task.release();
  TaskHandle<T> handle(frame);
  spawn(frame.promise(), frame);
  run_until(frame.promise());
  if constexpr (std::is_void_v<T>) {
    handle.result();
  } else {
    return std::move(handle.result());
  }
}

/// Makes an event loop on this thread, runs `task` on it to completion and
/// returns its value or rethrows its exception; then cancels the tasks still
/// running, lets them finish, and closes the loop (asyncio.run). Throws
/// RuntimeError if this thread already has a loop (no nesting).
template <class T>
T run(Task<T> task, EventLoopOptions options = {}) {
  if (EventLoop::current() != nullptr)
    throw RuntimeError("coring::run() cannot be called when this thread already has an event loop");
  EventLoop loop(options);
  return loop.run_until_complete(std::move(task));
}

}  // namespace coring
