#pragma once
// Async RAII: the C++ form of Python's `async with`.
//
// C++ has no async destructor, so a resource whose release must await (a
// socket's close, a session's pool, a task group's join) is used through
// async_with, which awaits its release on every way out of the body: normal
// return, exception and cancellation, before the caller goes on.
//
//     co_await async_with(TaskGroup{}, [&](TaskGroup& group) -> Task<> { ... });
//     co_await async_with(Socket::connect(address), [&](Socket& s) -> Task<> { ... });
//
// The entry, as Python's __aenter__: `void aenter()` is called, if the
// resource has it, in the task that runs the body, before the body.
// The release protocol, as Python's __aexit__: if the resource has
// `Task<> aexit(std::exception_ptr body_error)` that is awaited (it may
// replace the error: TaskGroup does), else `close()`, which returns an awaitable. An error from
// the body wins over one from close(). Resources that need this report it on
// stderr when destroyed unreleased (see detail::report_unreleased).
#include <concepts>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "coring/task.hpp"

namespace coring {

namespace detail {

template <class R>
concept HasAexit = requires(R& r, std::exception_ptr e) {
  { r.aexit(e) } -> std::same_as<Task<>>;
};
template <class R>
concept HasClose = requires(R& r) { r.close(); };

template <class R>
concept HasAenter = requires(R& r) { r.aenter(); };

template <class R>
Task<> release(R& resource, std::exception_ptr& error) {
  if constexpr (HasAexit<R>) {
    co_await resource.aexit(error);
    error = nullptr;  // aexit rethrows what it wants raised
  } else {
    static_assert(HasClose<R>, "async_with needs a resource with an awaitable close() or Task<> aexit(std::exception_ptr)");
    try {
      co_await resource.close();
    } catch (...) {
      if (!error) throw;
    }
  }
}

/// Says on stderr that a resource needing async_with (or an awaited close)
/// was destroyed without it; counts such reports for tests.
void report_unreleased(const char* what) noexcept;
std::size_t unreleased_reports() noexcept;

template <class T>
struct TaskValue;
template <class T>
struct TaskValue<Task<T>> {
  using type = T;
};

template <class R, class Body>
using BodyResult = typename TaskValue<std::invoke_result_t<Body&, R&>>::type;

template <class R, class Body>
Task<BodyResult<R, Body>> run_with(R& resource, Body& body) {
  using T = BodyResult<R, Body>;
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<T>, int, T>> value;
  if constexpr (HasAenter<R>) resource.aenter();
  try {
    if constexpr (std::is_void_v<T>) {
      co_await body(resource);
      value.emplace(0);
    } else {
      value.emplace(co_await body(resource));
    }
  } catch (...) {
    error = std::current_exception();
  }
  co_await release(resource, error);
  if (error) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

}  // namespace detail

/// Runs `body(resource)` and then always awaits the resource's release.
/// Returns what the body returns. The resource lives in the returned task's
/// frame; the body is moved there too, so a lambda's captures live as long.
template <class R, class Body>
  requires(!std::is_reference_v<R>)
Task<detail::BodyResult<R, Body>> async_with(R resource, Body body) {
  co_return co_await detail::run_with(resource, body);
}

/// As above, for a resource that is opened by a task (e.g. Socket::connect):
/// if opening fails there is nothing to release.
template <class R, class Body>
Task<detail::BodyResult<R, Body>> async_with(Task<R> opening, Body body) {
  R resource = co_await std::move(opening);
  co_return co_await detail::run_with(resource, body);
}

}  // namespace coring
