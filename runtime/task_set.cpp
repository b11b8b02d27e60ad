// TaskSetWatch: one coroutine waiting on several tasks (gather, wait) until
// its condition holds.
#include "coring/detail/task_set.hpp"

namespace coring::detail {

namespace {
bool failed(const TaskBase& task) noexcept { return static_cast<bool>(task.exception); }
}  // namespace

TaskSetWatch::TaskSetWatch(std::span<TaskBase* const> tasks, Options options)
    : tasks_(tasks), options_(options), nodes_(tasks.size()) {
  deadline_.owner = this;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    nodes_[i].owner = this;
    nodes_[i].index = i;
    if (tasks_[i]->done) {
      ++done_count_;
      // Already finished: completion order among these is argument order.
      if (failed(*tasks_[i]) && first_failure_ == none) first_failure_ = i;
    }
  }
  if (first_failure_ != none && options_.cancel_others_on_failure) cancel_pending_tasks();
}

TaskSetWatch::~TaskSetWatch() {
  for (Node& node : nodes_)
    if (node.linked()) IntrusiveList<DoneWaiter>::remove(&node);
  if (deadline_.armed()) loop_->remove_timer(&deadline_);
}

bool TaskSetWatch::satisfied() const noexcept {
  if (done_count_ == tasks_.size()) return true;
  switch (options_.until) {
    case ReturnWhen::all_completed: return false;
    case ReturnWhen::first_completed: return done_count_ > 0;
    case ReturnWhen::first_exception: return first_failure_ != none;
  }
  return false;
}

bool TaskSetWatch::await_suspend(std::coroutine_handle<> h) noexcept {
  loop_ = &EventLoop::get();
  waiter_task_ = loop_->current_task();
  waiter_ = h;
  for (std::size_t i = 0; i < tasks_.size(); ++i)
    if (!tasks_[i]->done) tasks_[i]->done_waiters.push_back(&nodes_[i]);
  if (options_.timeout) {
    deadline_.deadline = deadline_after(*options_.timeout);
    loop_->add_timer(&deadline_);
  }
  waiter_task_->suspended_at = this;
  if (waiter_task_->must_cancel) cancel();
  return true;
}

void TaskSetWatch::await_resume() {
  if (waiter_task_ == nullptr) return;  // was ready at once
  waiter_task_->suspended_at = nullptr;
  waiter_task_->throw_if_cancelled();
}

void TaskSetWatch::task_done(std::size_t index, TaskBase& task) noexcept {
  ++done_count_;
  if (failed(task) && first_failure_ == none) {
    first_failure_ = index;
    if (options_.cancel_others_on_failure) cancel_pending_tasks();
  }
  if (satisfied()) wake();
}

void TaskSetWatch::cancel() noexcept {
  if (options_.cancel_tasks_with_waiter) {
    // Woken when the last of them has finished.
    cancel_pending_tasks();
  } else {
    wake();
  }
}

void TaskSetWatch::cancel_pending_tasks() noexcept {
  for (TaskBase* task : tasks_)
    if (!task->done) task->cancel();
}

void TaskSetWatch::wake() noexcept {
  if (woken_ || waiter_task_ == nullptr) return;
  woken_ = true;
  loop_->schedule(waiter_task_, waiter_);
}

}  // namespace coring::detail
