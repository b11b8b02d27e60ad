#pragma once
// A coroutine parked on a synchronisation primitive (Event, Semaphore,
// Queue). The node lives in the parked frame; cancelling unlinks it and
// resumes the coroutine, which then raises CancelledError.
#include <coroutine>

#include "coring/detail/intrusive_list.hpp"
#include "coring/detail/task_base.hpp"
#include "coring/loop.hpp"

namespace coring::detail {

struct SyncWaiter : ListHook, Cancellable {
  IntrusiveList<SyncWaiter>* queue = nullptr;
  EventLoop* loop = nullptr;
  TaskBase* task = nullptr;
  std::coroutine_handle<> handle;
  bool woken = false;
  bool granted = false;  // the primitive handed this waiter what it waited for

  /// Parks the current task on `q`; false (do not suspend) if a cancellation
  /// is pending, which await_resume then raises.
  bool park(IntrusiveList<SyncWaiter>& q, std::coroutine_handle<> h) noexcept {
    loop = EventLoop::current();
    task = loop->current_task();
    if (task->must_cancel) return false;
    queue = &q;
    handle = h;
    q.push_back(this);
    task->suspended_at = this;
    return true;
  }
  /// Called by the primitive after unlinking this waiter.
  void wake(bool grant) noexcept {
    woken = true;
    granted = grant;
    loop->schedule(task, handle);
  }
  void cancel() noexcept override {
    if (woken) return;
    IntrusiveList<SyncWaiter>::remove(this);
    wake(false);
  }
  /// True if this waiter was parked (and so must be told about cancellation).
  bool unpark() noexcept {
    if (task == nullptr) return false;
    task->suspended_at = nullptr;
    return true;
  }
  /// After unpark() returned true: whether the parked task is to be cancelled.
  [[nodiscard]] bool cancel_pending() const noexcept { return task->must_cancel; }
  /// After unpark() returned true: raises the pending CancelledError, if any.
  void raise_if_cancelled() { task->throw_if_cancelled(); }

 protected:
  ~SyncWaiter() = default;
};

}  // namespace coring::detail
