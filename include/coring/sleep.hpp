#pragma once
// coring::sleep: asyncio.sleep on the loop's timers.
#include <chrono>
#include <coroutine>

#include "coring/detail/timer_heap.hpp"
#include "coring/loop.hpp"

namespace coring {

/// The awaitable behind `sleep`. It lives in the sleeping frame: a sleep
/// costs no allocation and no kernel timer (the loop's wait uses the nearest
/// deadline).
class [[nodiscard]] SleepOperation final : detail::TimerNode, detail::Cancellable {
 public:
  explicit SleepOperation(std::chrono::nanoseconds duration) noexcept : duration_(duration) {}
  /// Movable until awaited (wait_for takes it by value).
  SleepOperation(SleepOperation&& other) noexcept : duration_(other.duration_) {}
  SleepOperation& operator=(const SleepOperation&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h);
  void await_resume();

 private:
  void on_timer() noexcept override;
  void cancel() noexcept override;

  std::chrono::nanoseconds duration_;
  EventLoop* loop_ = nullptr;
  detail::TaskBase* task_ = nullptr;
  std::coroutine_handle<> handle_;
};

/// Suspends the caller for at least `duration`; resumes on the loop's thread.
/// A zero or negative duration yields once to the other ready tasks, like
/// `asyncio.sleep(0)`. If the task is cancelled first, the sleep ends at once
/// and throws CancelledError.
inline SleepOperation sleep(std::chrono::nanoseconds duration) noexcept { return SleepOperation(duration); }

}  // namespace coring
