// TaskGroup: starting children, a failure cancelling siblings and body, and
// aexit's wait for every child.
#include "coring/task_group.hpp"

#include "coring/async_with.hpp"
#include "coring/errors.hpp"

namespace coring {

namespace {
bool is_cancellation(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const CancelledError&) {
    return true;
  } catch (...) {
    return false;
  }
}
}  // namespace

/// aexit's wait for the last child. Cancelling the task that waits cancels
/// the children and goes on waiting: the group never ends before they do.
struct TaskGroup::Join final : detail::Cancellable {
  TaskGroup& group;
  EventLoop* loop = nullptr;
  detail::TaskBase* task = nullptr;
  std::coroutine_handle<> handle;
  bool cancelled = false;

  explicit Join(TaskGroup& g) : group(g) {}
  bool await_ready() const noexcept { return group.running_ == 0; }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    loop = &EventLoop::get();
    task = loop->current_task();
    handle = h;
    group.join_ = this;
    task->suspended_at = this;
    if (task->must_cancel) cancel();
  }
  void cancel() noexcept override {
    cancelled = true;
    group.abort();
  }
  void await_resume() noexcept {
    if (task) task->suspended_at = nullptr;
    group.join_ = nullptr;
  }
};

TaskGroup::TaskGroup(TaskGroup&& other) noexcept {
  // Children point back to their group: a group that has any cannot move.
  if (other.running_ != 0 || !other.children_.empty()) std::terminate();
  parent_ = other.parent_;
}

TaskGroup::~TaskGroup() {
  if (running_ == 0) return;
  detail::report_unreleased("TaskGroup (children still running; use async_with)");
  for (Child& child : children_) {
    if (child.linked()) {
      detail::IntrusiveList<detail::DoneWaiter>::remove(&child);
      child.task->cancel();
    }
  }
}

void TaskGroup::check_open() const {
  if (closed_) throw RuntimeError("TaskGroup is finished: no new tasks can start in it");
  if (exiting_ && first_error_) throw RuntimeError("TaskGroup is shutting down after a failure");
}

void TaskGroup::aenter() { parent_ = EventLoop::get().current_task(); }

void TaskGroup::adopt(detail::TaskBase& task) {
  Child* child;
  if (!free_.empty()) {
    child = free_.front();
    free_.pop_front();
  } else {
    child = &children_.emplace_back();
  }
  child->group = this;
  child->task = &task;
  ++running_;
  task.done_waiters.push_back(child);
  if (first_error_) task.cancel();  // the group is already failing
}

void TaskGroup::child_done(Child& child, detail::TaskBase& task) noexcept {
  child.task = nullptr;
  free_.push_back(&child);
  --running_;
  if (task.exception && !is_cancellation(task.exception)) {
    task.exception_observed = true;
    if (!first_error_) {
      first_error_ = task.exception;
      abort();
      // asyncio: a failing child also interrupts the body, if it still runs.
      if (!exiting_ && parent_ != nullptr && !parent_->done && parent_->cancel()) parent_cancel_requested_ = true;
    }
  }
  if (running_ == 0 && join_ != nullptr) join_->loop->schedule(join_->task, join_->handle);
}

void TaskGroup::abort() noexcept {
  for (Child& child : children_)
    if (child.task != nullptr) child.task->cancel();
}

Task<> TaskGroup::aexit(std::exception_ptr body_error) {
  exiting_ = true;
  if (parent_ == nullptr) parent_ = EventLoop::get().current_task();  // entered without aenter()
  if (body_error) abort();
  bool cancelled_while_joining = false;
  {
    Join join(*this);
    co_await join;
    cancelled_while_joining = join.cancelled;
  }
  closed_ = true;
  bool cancelled_from_outside = cancelled_while_joining;
  if (parent_cancel_requested_) {
    // Our own request to interrupt the body is withdrawn; another remains.
    if (parent_->uncancel() > 0) cancelled_from_outside = true;
  } else if (cancelled_while_joining) {
    parent_->must_cancel = false;  // delivered below, as CancelledError
  }
  if (first_error_) std::rethrow_exception(first_error_);
  if (body_error && !(parent_cancel_requested_ && is_cancellation(body_error))) std::rethrow_exception(body_error);
  if (cancelled_from_outside) throw CancelledError();
}

}  // namespace coring
