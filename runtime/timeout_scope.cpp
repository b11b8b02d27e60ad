// TimeoutScope: a deadline that cancels the current task, and telling that
// cancellation apart from anyone else's.
#include <cstdio>

#include "coring/wait.hpp"

namespace coring::detail {

TimeoutScope::TimeoutScope(std::chrono::nanoseconds timeout) : TimeoutScope(deadline_after(timeout)) {}

TimeoutScope::TimeoutScope(std::chrono::steady_clock::time_point deadline_at)
    : loop_(EventLoop::get()), task_(loop_.current_task()), requests_at_entry_(0) {
  if (task_ == nullptr) throw RuntimeError("wait_for must be awaited inside a task");
  // Counted from here, as asyncio.timeout does: a task that caught an earlier
  // cancellation and went on still gets TimeoutError from this deadline.
  requests_at_entry_ = task_->cancel_requests;
  deadline = deadline_at;
  loop_.add_timer(this);
}

TimeoutScope::~TimeoutScope() {
  if (armed()) {
    loop_.remove_timer(this);
  } else if (expired_ && !settled_) {
    // The deadline passed just as the work finished: withdraw our request so
    // that no stray CancelledError hits the task's next await.
    if (task_->uncancel() <= requests_at_entry_) task_->must_cancel = false;
  }
}

void TimeoutScope::on_timer() noexcept {
  expired_ = true;
  task_->cancel();
}

bool TimeoutScope::caused_cancellation() noexcept {
  if (!expired_ || settled_) return false;
  settled_ = true;
  return task_->uncancel() <= requests_at_entry_;
}

void throw_timeout(std::chrono::nanoseconds timeout) {
  char text[64];
  std::snprintf(text, sizeof text, "timed out after %.3f s", std::chrono::duration<double>(timeout).count());
  throw TimeoutError(text);
}

}  // namespace coring::detail
