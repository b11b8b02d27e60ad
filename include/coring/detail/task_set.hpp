#pragma once
// Waiting on several tasks at once from one coroutine (gather, wait). The
// watcher lives in the waiting frame, with one node per task linked into that
// task's done-waiters; it wakes the waiter once its condition holds.
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "coring/detail/task_base.hpp"
#include "coring/detail/timer_heap.hpp"
#include "coring/loop.hpp"
#include "coring/return_when.hpp"

namespace coring::detail {

class TaskSetWatch final : Cancellable {
 public:
  struct Options {
    ReturnWhen until = ReturnWhen::all_completed;
    /// gather: a failure cancels the others (still waited for).
    bool cancel_others_on_failure = false;
    /// gather: cancelling the waiter cancels the tasks, and waits for them.
    /// Otherwise (wait) the waiter alone is woken and the tasks run on.
    bool cancel_tasks_with_waiter = false;
    std::optional<std::chrono::nanoseconds> timeout;
  };
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  TaskSetWatch(std::span<TaskBase* const> tasks, Options options);
  ~TaskSetWatch();
  TaskSetWatch(const TaskSetWatch&) = delete;
  TaskSetWatch& operator=(const TaskSetWatch&) = delete;

  bool await_ready() const noexcept { return satisfied(); }
  bool await_suspend(std::coroutine_handle<> h) noexcept;
  /// Throws CancelledError if the waiter was cancelled.
  void await_resume();

  /// Index of the first task to fail, in completion order, or `none`.
  [[nodiscard]] std::size_t first_failure() const noexcept { return first_failure_; }

 private:
  struct Node final : DoneWaiter {
    TaskSetWatch* owner = nullptr;
    std::size_t index = 0;
    void on_done(TaskBase& task) noexcept override { owner->task_done(index, task); }
  };
  struct TimeLimit final : TimerNode {
    TaskSetWatch* owner = nullptr;
    void on_timer() noexcept override { owner->wake(); }
  };

  [[nodiscard]] bool satisfied() const noexcept;
  void task_done(std::size_t index, TaskBase& task) noexcept;
  void cancel() noexcept override;
  void cancel_pending_tasks() noexcept;
  void wake() noexcept;

  std::span<TaskBase* const> tasks_;
  Options options_;
  std::vector<Node> nodes_;
  TimeLimit deadline_;
  std::size_t done_count_ = 0;
  std::size_t first_failure_ = none;
  bool woken_ = false;
  EventLoop* loop_ = nullptr;
  TaskBase* waiter_task_ = nullptr;
  std::coroutine_handle<> waiter_;
};

}  // namespace coring::detail
