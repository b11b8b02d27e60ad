#pragma once
// asyncio's synchronisation primitives for tasks of one loop: Event and
// Semaphore. Waiters are served in FIFO order and can be cancelled while they
// wait. They are not thread-safe (see EventLoop::call_soon_threadsafe).
#include <cstddef>
#include <utility>

#include "coring/detail/sync_waiter.hpp"

namespace coring {

/// A flag tasks can wait for (asyncio.Event).
class Event {
 public:
  [[nodiscard]] bool is_set() const noexcept { return set_; }
  /// Sets the flag and wakes every waiter.
  void set() noexcept {
    set_ = true;
    while (auto* w = waiters_.pop_front()) w->wake(true);
  }
  void clear() noexcept { set_ = false; }

  /// Waits until the flag is set (at once if it is).
  auto wait() noexcept { return Waiter{*this}; }

 private:
  struct Waiter final : detail::SyncWaiter {
    Event& event;
    explicit Waiter(Event& e) noexcept : event(e) {}
    bool await_ready() const noexcept { return event.set_; }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return park(event.waiters_, h); }
    void await_resume() {
      if (unpark()) task->throw_if_cancelled();
    }
  };

  detail::IntrusiveList<detail::SyncWaiter> waiters_;
  bool set_ = false;
};

/// A counter of permits (asyncio.Semaphore), the usual way to bound
/// concurrency: at most `initial` holders at once.
///
///     auto permit = co_await semaphore.hold();   // released when it goes out of scope
class Semaphore {
 public:
  explicit Semaphore(std::size_t initial) noexcept : value_(initial) {}

  [[nodiscard]] std::size_t available() const noexcept { return value_; }
  [[nodiscard]] bool locked() const noexcept { return value_ == 0; }

  /// Takes a permit, waiting in FIFO order if there is none. If cancelled
  /// while waiting it raises CancelledError and holds nothing.
  auto acquire() noexcept { return Acquire{*this}; }
  /// Returns a permit: hands it to the first waiter, if any.
  void release() noexcept {
    if (auto* w = waiters_.pop_front()) {
      w->wake(true);
    } else {
      ++value_;
    }
  }

  /// A permit that releases itself when destroyed.
  class Permit {
   public:
    explicit Permit(Semaphore* s) noexcept : semaphore_(s) {}
    Permit(Permit&& other) noexcept : semaphore_(std::exchange(other.semaphore_, nullptr)) {}
    Permit& operator=(Permit&&) = delete;
    ~Permit() {
      if (semaphore_) semaphore_->release();
    }

   private:
    Semaphore* semaphore_;
  };
  /// acquire() that yields a Permit (the C++ form of `async with semaphore`).
  auto hold() noexcept {
    struct Hold {
      Acquire inner;
      bool await_ready() noexcept { return inner.await_ready(); }
      bool await_suspend(std::coroutine_handle<> h) noexcept { return inner.await_suspend(h); }
      Permit await_resume() {
        inner.await_resume();
        return Permit(&inner.semaphore);
      }
    };
    return Hold{Acquire{*this}};
  }

 private:
  struct Acquire final : detail::SyncWaiter {
    Semaphore& semaphore;
    explicit Acquire(Semaphore& s) noexcept : semaphore(s) {}
    Acquire(Acquire&& other) noexcept : semaphore(other.semaphore) {}
    bool await_ready() noexcept {
      if (semaphore.value_ > 0 && semaphore.waiters_.empty()) {
        --semaphore.value_;
        return true;
      }
      return false;
    }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return park(semaphore.waiters_, h); }
    void await_resume() {
      if (!unpark()) return;
      if (task->must_cancel) {
        if (granted) semaphore.release();  // pass the permit on rather than lose it
        task->throw_if_cancelled();
      }
    }
  };

  detail::IntrusiveList<detail::SyncWaiter> waiters_;
  std::size_t value_;
};

}  // namespace coring
