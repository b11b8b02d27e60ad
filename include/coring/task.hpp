#pragma once
// coring::Task<T>: the coroutine type. Lazy, like a Python coroutine object:
// nothing runs until it is awaited (inline, in the awaiter's task) or handed
// to create_task (as a task of its own).
#include <cassert>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "coring/detail/frame_pool.hpp"
#include "coring/detail/task_base.hpp"

namespace coring {

template <class T = void>
class Task;

namespace detail {

struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
    TaskBase& task = h.promise();
    if (task.spawned) return finish_spawned(task);
    if (task.starting_inline) {
      // Ended without suspending: return into the awaiter's await_suspend,
      // which carries on without a nested resume.
      task.starting_inline = false;
      return std::noop_coroutine();
    }
    // Ended after suspending: symmetric transfer to the awaiter.
    return task.continuation;
  }
  void await_resume() const noexcept {}
};

struct PromiseCommon : TaskBase {
  // Frames come from the thread's frame cache (frame_pool.hpp).
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { free_frame(frame, size); }

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { record_exception(std::current_exception()); }
};

template <class T>
struct Promise final : PromiseCommon {
  std::optional<T> value;

  Task<T> get_return_object() noexcept;
  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value.emplace(std::forward<U>(v));
  }
  void rethrow_if_failed() {
    if (exception) {
      exception_observed = true;
      std::rethrow_exception(exception);
    }
  }
  T take_value() {
    rethrow_if_failed();
    return std::move(*value);
  }
};

template <>
struct Promise<void> final : PromiseCommon {
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void rethrow_if_failed() {
    if (exception) {
      exception_observed = true;
      std::rethrow_exception(exception);
    }
  }
  void take_value() { rethrow_if_failed(); }
};

}  // namespace detail

/// A lazy coroutine returning T. Awaiting it (`co_await f()`) runs it inline
/// in the awaiting task and yields its value or rethrows its exception. A
/// child that ends without suspending hands back without a nested resume, and
/// one that suspended resumes its awaiter by symmetric transfer, so long
/// chains of awaits run in constant stack. A Task can be awaited once; it is move-only and frees its
/// frame when destroyed (a Task that never ran never runs).
template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using value_type = T;

  Task() noexcept = default;
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(handle_); }

  auto operator co_await() && noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> handle;
      bool await_ready() const noexcept { return false; }
      // The child starts with a plain call and, if it finishes at once, the
      // awaiter goes on without suspending: a loop of a million awaits runs in
      // constant stack even where the compiler makes no tail call (-O0,
      // sanitizers), which symmetric transfer alone relies on.
      bool await_suspend(std::coroutine_handle<> awaiter) noexcept {
        auto& promise = handle.promise();
        promise.continuation = awaiter;
        promise.starting_inline = true;
        handle.resume();
        if (!promise.starting_inline) return false;
        promise.starting_inline = false;
        return true;
      }
      T await_resume() { return handle.promise().take_value(); }
    };
    assert(handle_ && "awaiting an empty or moved-from Task");
    return Awaiter{handle_};
  }

  /// Gives up ownership of the frame (create_task uses this).
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(handle_, {}); }

 private:
  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>{std::coroutine_handle<Promise<T>>::from_promise(*this)};
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>{std::coroutine_handle<Promise<void>>::from_promise(*this)};
}
}  // namespace detail

}  // namespace coring
