#pragma once
// create_task and TaskHandle: a task that runs concurrently with its creator.
#include <coroutine>
#include <utility>

#include "coring/errors.hpp"
#include "coring/loop.hpp"
#include "coring/task.hpp"

namespace coring {

/// A reference to a task started by `create_task`, like the Task object that
/// asyncio.create_task returns.
///
/// Lifetime rules (enforced, not advised):
/// - The loop owns every running task. Dropping the handle detaches the task:
///   it runs on to its end and its frame is then freed (an exception nobody
///   retrieved is reported on stderr, as asyncio does).
/// - A finished task's frame lives until its last handle is dropped, so its
///   result can be read at any time after.
/// - When the loop closes (the end of `coring::run`), tasks still running are
///   cancelled and run to their end before the loop goes away.
/// So whatever order handles and tasks end in, no frame leaks and none is used
/// after it is freed. What a detached task borrows from another frame is the
/// caller's to keep alive, as with a detached std::thread; TaskGroup is the
/// structured way that never outlives its scope.
template <class T>
class TaskHandle {
  using Promise = detail::Promise<T>;

 public:
  TaskHandle() noexcept = default;
  explicit TaskHandle(std::coroutine_handle<Promise> frame) noexcept : promise_(&frame.promise()) {
    ++promise_->handle_refs;
  }
  TaskHandle(TaskHandle&& other) noexcept : promise_(std::exchange(other.promise_, nullptr)) {}
  TaskHandle& operator=(TaskHandle&& other) noexcept {
    if (this != &other) {
      reset();
      promise_ = std::exchange(other.promise_, nullptr);
    }
    return *this;
  }
  TaskHandle(const TaskHandle&) = delete;
  TaskHandle& operator=(const TaskHandle&) = delete;
  ~TaskHandle() { reset(); }

  [[nodiscard]] bool valid() const noexcept { return promise_ != nullptr; }
  [[nodiscard]] bool done() const noexcept { return promise_->done; }
  /// True when the task ended by CancelledError.
  [[nodiscard]] bool cancelled() const noexcept { return promise_->done && promise_->ended_cancelled; }
  /// Requests cancellation: CancelledError is raised inside the task at its
  /// current suspension point (an in-flight kernel operation is cancelled in
  /// the kernel first). Returns false if the task is already done.
  bool cancel() noexcept { return promise_->cancel(); }

  /// The result of a finished task: its value (a reference valid while this
  /// handle lives), or its exception rethrown. InvalidStateError if not done.
  decltype(auto) result() {
    if (!promise_->done) throw InvalidStateError("task result asked before the task finished");
    return stored_result(*promise_);
  }

  /// Waits for the task to finish. `co_await handle` yields a reference to the
  /// result kept in the task (await as often as you like); `co_await
  /// std::move(handle)` moves the value out (a second such await throws
  /// InvalidStateError). If the awaiting task is cancelled meanwhile, the
  /// awaited task is cancelled too (as in asyncio), and the awaiter gets
  /// CancelledError once it has finished.
  auto operator co_await() & noexcept { return Awaiter<false>{promise_}; }
  auto operator co_await() && noexcept { return Awaiter<true>{promise_}; }

  [[nodiscard]] detail::TaskBase& base() const noexcept { return *promise_; }

 private:
  static decltype(auto) stored_result(Promise& p) {
    p.rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) {
      if (p.value_taken) throw InvalidStateError("task result was already moved out");
      return static_cast<T&>(*p.value);
    }
  }
  static T take_result(Promise& p) {
    p.rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) {
      if (p.value_taken) throw InvalidStateError("task result was already moved out");
      p.value_taken = true;
      return std::move(*p.value);
    }
  }

  template <bool Move>
  struct Awaiter final : detail::DoneWaiter, detail::Cancellable {
    Promise* promise;
    detail::TaskBase* waiter_task = nullptr;
    std::coroutine_handle<> waiter;

    explicit Awaiter(Promise* p) noexcept : promise(p) {}
    bool await_ready() const noexcept { return promise->done; }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
      waiter_task = promise->loop->current_task();
      waiter = h;
      promise->done_waiters.push_back(this);
      waiter_task->suspended_at = this;
      // A cancellation already pending reaches the awaited task too, and the
      // awaiter waits for it to finish, as if it had come during the wait.
      if (waiter_task->must_cancel) promise->cancel();
      return true;
    }
    void on_done(detail::TaskBase&) noexcept override { promise->loop->schedule(waiter_task, waiter); }
    void cancel() noexcept override { promise->cancel(); }
    decltype(auto) await_resume() {
      if (waiter_task) {
        waiter_task->suspended_at = nullptr;
        waiter_task->throw_if_cancelled();
      }
      if constexpr (Move) {
        return take_result(*promise);
      } else {
        return stored_result(*promise);
      }
    }
  };

  void reset() noexcept {
    if (promise_) detail::release_handle(*std::exchange(promise_, nullptr));
  }

  Promise* promise_ = nullptr;
};

/// Schedules `task` to run concurrently on this thread's loop (its first step
/// runs on the next pass, as in asyncio) and returns a handle to it. Spawning
/// allocates nothing beyond the task's own frame. Throws RuntimeError when
/// no loop exists on this thread.
template <class T>
TaskHandle<T> create_task(Task<T> task) {
  EventLoop& loop = EventLoop::get();
  auto frame = task.release();
  TaskHandle<T> handle(frame);
  loop.spawn(frame.promise(), frame);
  return handle;
}

}  // namespace coring
