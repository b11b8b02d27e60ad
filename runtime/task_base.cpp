// Cancellation bookkeeping and the end of a spawned task's life.
#include <cstdio>

#include "coring/errors.hpp"
#include "coring/loop.hpp"

namespace coring::detail {

bool TaskBase::cancel() noexcept {
  if (done) return false;
  ++cancel_requests;
  must_cancel = true;
  // The awaitable it waits on wakes it; CancelledError is raised as it resumes.
  if (suspended_at) suspended_at->cancel();
  return true;
}

std::uint32_t TaskBase::uncancel() noexcept {
  if (cancel_requests > 0) --cancel_requests;
  // As asyncio 3.13: once no request is left, one not yet delivered is void.
  if (cancel_requests == 0) must_cancel = false;
  return cancel_requests;
}

void TaskBase::throw_cancelled() { throw CancelledError(); }

void TaskBase::record_exception(std::exception_ptr e) noexcept {
  exception = std::move(e);
  try {
    std::rethrow_exception(exception);
  } catch (const CancelledError&) {
    ended_cancelled = true;
  } catch (...) {
  }
}

namespace {
void destroy_frame(TaskBase& task) noexcept {
  if (task.exception && !task.exception_observed && !task.ended_cancelled) {
    // asyncio's "Task exception was never retrieved": a failure nobody saw.
    try {
      std::rethrow_exception(task.exception);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "coring: task exception was never retrieved: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "coring: task exception was never retrieved (not a std::exception)\n");
    }
  }
  task.self.destroy();
}
}  // namespace

std::coroutine_handle<> finish_spawned(TaskBase& task) noexcept {
  if (task.must_cancel && !task.exception) {
    // As asyncio: a cancellation requested but never delivered, because the
    // task ended first, still ends it as cancelled.
    task.exception = std::make_exception_ptr(CancelledError());
    task.ended_cancelled = true;
  }
  task.done = true;
  task.suspended_at = nullptr;
  task.loop->task_finished(task);
  while (DoneWaiter* waiter = task.done_waiters.pop_front()) waiter->on_done(task);
  if (task.handle_refs == 0) destroy_frame(task);
  return std::noop_coroutine();
}

void release_handle(TaskBase& task) noexcept {
  if (--task.handle_refs == 0 && task.done) destroy_frame(task);
}

}  // namespace coring::detail
