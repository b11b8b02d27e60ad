#pragma once
// Waiting with deadlines and on several tasks: wait_for, wait, as_completed.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "coring/detail/awaitable_traits.hpp"
#include "coring/detail/task_set.hpp"
#include "coring/errors.hpp"
#include "coring/return_when.hpp"
#include "coring/task.hpp"
#include "coring/task_handle.hpp"

namespace coring {

namespace detail {

/// A deadline on the current task (asyncio.timeout): when it passes, the task
/// is cancelled; the CancelledError that unwinds to the scope is then turned
/// into TimeoutError, unless somebody else asked for the cancellation too.
class TimeoutScope final : TimerNode {
 public:
  explicit TimeoutScope(std::chrono::nanoseconds timeout);
  /// At a given time (asyncio.timeout_at): no clock read, where the caller
  /// holds the deadline already (a request's phases under one total).
  explicit TimeoutScope(std::chrono::steady_clock::time_point deadline);
  ~TimeoutScope();
  TimeoutScope(const TimeoutScope&) = delete;
  TimeoutScope& operator=(const TimeoutScope&) = delete;

  /// Called on CancelledError: true if it was this deadline's doing alone.
  bool caused_cancellation() noexcept;

 private:
  void on_timer() noexcept override;

  EventLoop& loop_;
  TaskBase* task_;
  std::uint32_t requests_at_entry_;  // cancellations already asked of the task
  bool expired_ = false;
  bool settled_ = false;
};

[[noreturn]] void throw_timeout(std::chrono::nanoseconds timeout);

template <class A>
Task<std::remove_cvref_t<await_result_t<A>>> wait_for_impl(A awaitable, std::chrono::nanoseconds timeout) {
  TimeoutScope scope(timeout);
  try {
    co_return co_await std::forward<A>(awaitable);
  } catch (const CancelledError&) {
    if (!scope.caused_cancellation()) throw;
  }
  throw_timeout(timeout);
}

}  // namespace detail

/// Awaits `awaitable` (a Task, a TaskHandle, a sleep, a socket operation...)
/// for at most `timeout`. When the time is up, the inner work is cancelled and
/// waited for (an in-flight kernel operation is cancelled in the kernel), then
/// TimeoutError is raised. If the caller is cancelled meanwhile, it gets
/// CancelledError, not TimeoutError. A lvalue is awaited by reference; a
/// temporary is moved into the returned task.
template <class A>
auto wait_for(A&& awaitable, std::chrono::nanoseconds timeout) {
  return detail::wait_for_impl<A>(std::forward<A>(awaitable), timeout);
}

template <class T>
struct WaitResult {
  std::vector<TaskHandle<T>> done;
  std::vector<TaskHandle<T>> pending;
};

/// asyncio.wait: waits until the condition holds or `timeout` passes, then
/// splits the handles into done and pending (order kept). It raises nothing
/// of the tasks' and cancels none of them: pending ones run on. Cancelling the
/// caller raises CancelledError in it and leaves the tasks alone.
template <class T>
Task<WaitResult<T>> wait(std::vector<TaskHandle<T>> tasks, ReturnWhen when = ReturnWhen::all_completed,
                         std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
  std::vector<detail::TaskBase*> bases;
  bases.reserve(tasks.size());
  for (auto& t : tasks) bases.push_back(&t.base());
  if (!tasks.empty()) {
    detail::TaskSetWatch watch(bases, {.until = when, .timeout = timeout});
    co_await watch;
  }
  WaitResult<T> result;
  for (auto& t : tasks) (t.done() ? result.done : result.pending).push_back(std::move(t));
  co_return result;
}

/// asyncio.as_completed: yields the tasks' results in the order they finish.
///
///     auto results = as_completed(std::move(handles));
///     while (!results.empty()) use(co_await results.next());
///
/// `next()` returns the value of the next task to finish, or rethrows its
/// exception. Tasks keep running while nobody calls next(). If the object is
/// dropped with tasks unfinished, those tasks are cancelled (they finish on
/// their own, owned by the loop, as a dropped TaskHandle's do).
template <class T>
class AsCompleted {
 public:
  explicit AsCompleted(std::vector<TaskHandle<T>> tasks) : tasks_(std::move(tasks)), nodes_(tasks_.size()) {
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      nodes_[i].owner = this;
      nodes_[i].index = i;
      if (tasks_[i].done()) {
        finished_.push_back(i);
      } else {
        tasks_[i].base().done_waiters.push_back(&nodes_[i]);
      }
    }
  }
  AsCompleted(AsCompleted&&) = delete;  // nodes point back here
  ~AsCompleted() {
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (nodes_[i].linked()) {
        detail::IntrusiveList<detail::DoneWaiter>::remove(&nodes_[i]);
        tasks_[i].cancel();
      }
    }
  }

  /// Tasks whose results have not been taken yet.
  [[nodiscard]] std::size_t size() const noexcept { return tasks_.size() - taken_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }

  /// The next result in completion order. InvalidStateError when none is left.
  Task<T> next() {
    if (empty()) throw InvalidStateError("as_completed: every result was already taken");
    if (finished_.empty()) co_await Arrival{this};
    const std::size_t index = finished_.front();
    finished_.pop_front();
    ++taken_;
    co_return co_await std::move(tasks_[index]);
  }

 private:
  struct Node final : detail::DoneWaiter {
    AsCompleted* owner = nullptr;
    std::size_t index = 0;
    void on_done(detail::TaskBase&) noexcept override {
      owner->finished_.push_back(index);
      if (owner->waiter_) owner->waiter_->wake();
    }
  };
  struct Arrival final : detail::Cancellable {
    AsCompleted* owner;
    EventLoop* loop = nullptr;
    detail::TaskBase* task = nullptr;
    std::coroutine_handle<> handle;
    bool woken = false;
    explicit Arrival(AsCompleted* o) : owner(o) {}
    bool await_ready() const noexcept { return !owner->finished_.empty(); }
    bool await_suspend(std::coroutine_handle<> h) {
      loop = &EventLoop::get();
      task = loop->current_task();
      if (task->must_cancel) return false;
      handle = h;
      owner->waiter_ = this;
      task->suspended_at = this;
      return true;
    }
    void wake() noexcept {
      if (woken) return;
      woken = true;
      owner->waiter_ = nullptr;
      loop->schedule(task, handle);
    }
    void cancel() noexcept override { wake(); }
    void await_resume() {
      if (task == nullptr) return;
      owner->waiter_ = nullptr;
      task->suspended_at = nullptr;
      task->throw_if_cancelled();
    }
  };

  std::vector<TaskHandle<T>> tasks_;
  std::vector<Node> nodes_;
  std::deque<std::size_t> finished_;
  std::size_t taken_ = 0;
  Arrival* waiter_ = nullptr;
};

template <class T>
AsCompleted(std::vector<TaskHandle<T>>) -> AsCompleted<T>;

/// Starts each task and returns an AsCompleted over them.
template <class T>
AsCompleted<T> as_completed(std::vector<Task<T>> tasks) {
  std::vector<TaskHandle<T>> handles;
  handles.reserve(tasks.size());
  for (auto& t : tasks) handles.push_back(create_task(std::move(t)));
  return AsCompleted<T>(std::move(handles));
}

}  // namespace coring
