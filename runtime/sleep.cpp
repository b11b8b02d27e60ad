// SleepOperation: a sleep as one of the loop's timers, and its cancellation.
#include "coring/sleep.hpp"

namespace coring {

bool SleepOperation::await_suspend(std::coroutine_handle<> h) {
  loop_ = &EventLoop::get();
  task_ = loop_->current_task();
  if (task_->must_cancel) return false;  // delivered by await_resume
  handle_ = h;
  if (duration_ <= std::chrono::nanoseconds::zero()) {
    loop_->schedule(task_, h);  // asyncio.sleep(0): one turn to the others
  } else {
    deadline = detail::deadline_after(duration_);
    loop_->add_timer(this);
  }
  task_->suspended_at = this;
  return true;
}

void SleepOperation::await_resume() {
  if (task_ == nullptr) return;
  task_->suspended_at = nullptr;
  task_->throw_if_cancelled();
}

void SleepOperation::on_timer() noexcept { loop_->schedule(task_, handle_); }

void SleepOperation::cancel() noexcept {
  if (armed()) {
    loop_->remove_timer(this);
    loop_->schedule(task_, handle_);
  }
}

}  // namespace coring
