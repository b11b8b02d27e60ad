#include <cstdio>

#include "coring/wait.hpp"

namespace coring::detail {

TimeoutScope::TimeoutScope(std::chrono::nanoseconds timeout)
    : loop_(EventLoop::get()), task_(loop_.current_task()) {
  if (task_ == nullptr) throw RuntimeError("wait_for must be awaited inside a task");
  deadline = EventLoop::clock::now() + timeout;
  loop_.add_timer(this);
}

TimeoutScope::~TimeoutScope() {
  if (armed()) {
    loop_.remove_timer(this);
  } else if (expired_ && !settled_) {
    // The deadline passed just as the work finished: withdraw our request so
    // that no stray CancelledError hits the task's next await.
    task_->uncancel();
  }
}

void TimeoutScope::on_timer() noexcept {
  expired_ = true;
  task_->cancel();
}

bool TimeoutScope::caused_cancellation() noexcept {
  if (!expired_ || settled_) return false;
  settled_ = true;
  return task_->uncancel() == 0;
}

void throw_timeout(std::chrono::nanoseconds timeout) {
  char text[64];
  std::snprintf(text, sizeof text, "timed out after %.3f s", std::chrono::duration<double>(timeout).count());
  throw TimeoutError(text);
}

}  // namespace coring::detail
