#pragma once
// The state every task frame carries, whether it is awaited inline or runs
// as a task of its own on the loop. Lives in the promise, so spawning a task
// allocates nothing beyond its coroutine frame.
#include <coroutine>
#include <cstdint>
#include <exception>

#include "coring/detail/intrusive_list.hpp"

namespace coring {
class EventLoop;
}

namespace coring::detail {

struct TaskBase;

/// Registered by an awaitable while its task is suspended on it. `cancel`
/// must arrange for the suspended coroutine to be resumed soon (it is then
/// told CancelledError by the awaitable); it may be called more than once and
/// after the operation already completed, and must then do nothing.
struct Cancellable {
  virtual void cancel() noexcept = 0;

 protected:
  ~Cancellable() = default;
};

/// Told when a task finishes, before its frame may be freed. Lives in the
/// frame of whoever waits.
struct DoneWaiter : ListHook {
  virtual void on_done(TaskBase& task) noexcept = 0;

 protected:
  ~DoneWaiter() = default;
};

struct TaskBase : ListHook /* the loop's registry of running tasks */ {
  std::coroutine_handle<> continuation;  // awaited inline: who to resume at the end
  std::exception_ptr exception;
  std::coroutine_handle<> self;          // set when spawned
  EventLoop* loop = nullptr;             // set when spawned
  Cancellable* suspended_at = nullptr;   // the awaitable this task waits on, if cancellable
  IntrusiveList<DoneWaiter> done_waiters;
  std::uint32_t handle_refs = 0;         // TaskHandles alive
  std::uint32_t cancel_requests = 0;     // cancel() minus uncancel(), as asyncio's cancelling()
  bool must_cancel = false;              // CancelledError not yet delivered
  bool spawned = false;
  bool done = false;
  bool ended_cancelled = false;          // finished by CancelledError
  bool exception_observed = false;
  bool value_taken = false;
  /// Awaited inline: set while the awaiter's await_suspend is starting it;
  /// cleared by the final suspend if it ends before suspending once.
  bool starting_inline = false;
  /// The closing loop has cancelled it (once, whatever it did with earlier cancellations).
  bool cancelled_at_shutdown = false;

  /// Requests cancellation (asyncio's Task.cancel): CancelledError is raised
  /// at the current suspension point, or at the next one. False if done.
  bool cancel() noexcept;
  /// Withdraws one cancel request; at zero, an undelivered one is dropped.
  std::uint32_t uncancel() noexcept;
  /// Delivers a pending cancellation: called by awaitables as they resume.
  void throw_if_cancelled() {
    if (must_cancel) [[unlikely]] {
      must_cancel = false;
      throw_cancelled();
    }
  }
  void record_exception(std::exception_ptr e) noexcept;
  [[noreturn]] static void throw_cancelled();
};

/// Called by a spawned task's final suspend: marks it done, wakes its
/// waiters, frees the frame when no handle refers to it. Returns what to run next.
std::coroutine_handle<> finish_spawned(TaskBase& task) noexcept;
/// Called when a TaskHandle lets go of its task.
void release_handle(TaskBase& task) noexcept;

}  // namespace coring::detail
