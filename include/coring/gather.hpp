#pragma once
// coring::gather: run awaitables concurrently, results in argument order.
//
// How it differs from asyncio.gather, and why: in asyncio, when one child
// raises, gather raises at once and the other children keep running on their
// own. In C++ a child may borrow from the awaiter's frame (a reference
// argument, a buffer), and that frame may be gone once the exception has
// unwound it. So coring's gather cancels the other children and waits until
// every one of them has finished before it rethrows the first exception (as
// Asio's `&&` and cppcoro's when_all do). When gather returns or throws,
// nothing it started is still running.
//
// Cancelling the task that awaits gather cancels all the children and, once
// they have finished, raises CancelledError in it.
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "coring/detail/task_set.hpp"
#include "coring/result.hpp"
#include "coring/task.hpp"
#include "coring/task_handle.hpp"

namespace coring {

/// Tag for `gather(return_exceptions, ...)`: every child runs to its end and
/// each result comes back as a Result (value or exception); gather itself
/// throws nothing of the children's.
struct ReturnExceptions {
  explicit ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

namespace detail {

/// What a Task<T> contributes to a tuple: void becomes std::monostate.
template <class T>
using GatherValue = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
GatherValue<T> take_gathered(TaskHandle<T>& handle) {
  if constexpr (std::is_void_v<T>) {
    handle.result();
    return {};
  } else {
    return std::move(handle.result());
  }
}

template <class T>
Result<T> take_settled(TaskHandle<T>& handle) {
  if (handle.base().exception) {
    handle.base().exception_observed = true;
    return Result<T>(handle.base().exception);
  }
  if constexpr (std::is_void_v<T>) {
    return Result<void>();
  } else {
    return Result<T>(std::move(handle.result()));
  }
}

template <class Handles>
void rethrow_first_failure(Handles& handles, std::size_t index) {
  if (index == TaskSetWatch::none) return;
  TaskBase* task = handles[index];
  task->exception_observed = true;
  std::rethrow_exception(task->exception);
}

inline TaskSetWatch::Options gather_options(bool return_exceptions) {
  return {.until = ReturnWhen::all_completed,
          .cancel_others_on_failure = !return_exceptions,
          .cancel_tasks_with_waiter = true};
}

template <class... Ts, std::size_t... I>
Task<std::tuple<GatherValue<Ts>...>> gather_tuple(std::index_sequence<I...>, Task<Ts>... tasks) {
  std::tuple<TaskHandle<Ts>...> handles{create_task(std::move(tasks))...};
  const std::array<TaskBase*, sizeof...(Ts)> bases{&std::get<I>(handles).base()...};
  std::size_t failure;
  {
    TaskSetWatch watch(bases, gather_options(false));
    co_await watch;
    failure = watch.first_failure();
  }
  rethrow_first_failure(bases, failure);
  co_return std::tuple<GatherValue<Ts>...>{take_gathered(std::get<I>(handles))...};
}

template <class... Ts, std::size_t... I>
Task<std::tuple<Result<Ts>...>> gather_tuple_settled(std::index_sequence<I...>, Task<Ts>... tasks) {
  std::tuple<TaskHandle<Ts>...> handles{create_task(std::move(tasks))...};
  const std::array<TaskBase*, sizeof...(Ts)> bases{&std::get<I>(handles).base()...};
  {
    TaskSetWatch watch(bases, gather_options(true));
    co_await watch;
  }
  co_return std::tuple<Result<Ts>...>{take_settled(std::get<I>(handles))...};
}

template <class T>
std::vector<TaskBase*> bases_of(std::vector<TaskHandle<T>>& handles) {
  std::vector<TaskBase*> bases;
  bases.reserve(handles.size());
  for (auto& h : handles) bases.push_back(&h.base());
  return bases;
}

template <class T>
std::vector<TaskHandle<T>> spawn_all(std::vector<Task<T>>& tasks) {
  std::vector<TaskHandle<T>> handles;
  handles.reserve(tasks.size());
  for (auto& t : tasks) handles.push_back(create_task(std::move(t)));
  return handles;
}

template <class T>
using GatherRange = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;

}  // namespace detail

/// Runs every task concurrently, each as a task of its own, and yields their
/// values as a tuple in argument order (void tasks give std::monostate).
/// The first exception, in completion order, propagates once every other
/// child has been cancelled and has finished (see the top of this header).
template <class... Ts>
Task<std::tuple<detail::GatherValue<Ts>...>> gather(Task<Ts>... tasks) {
  return detail::gather_tuple(std::index_sequence_for<Ts...>{}, std::move(tasks)...);
}

/// As above with `return_exceptions`: each child's Result, in argument order.
template <class... Ts>
Task<std::tuple<Result<Ts>...>> gather(ReturnExceptions, Task<Ts>... tasks) {
  return detail::gather_tuple_settled(std::index_sequence_for<Ts...>{}, std::move(tasks)...);
}

/// Runs a range of tasks concurrently; yields their values in order (nothing
/// for void tasks). Same failure rule as the variadic form. Gathering an
/// empty vector yields an empty vector at once.
template <class T>
Task<detail::GatherRange<T>> gather(std::vector<Task<T>> tasks) {
  auto handles = detail::spawn_all(tasks);
  const auto bases = detail::bases_of(handles);
  std::size_t failure;
  {
    detail::TaskSetWatch watch(bases, detail::gather_options(false));
    co_await watch;
    failure = watch.first_failure();
  }
  detail::rethrow_first_failure(bases, failure);
  if constexpr (!std::is_void_v<T>) {
    std::vector<T> values;
    values.reserve(handles.size());
    for (auto& h : handles) values.push_back(std::move(h.result()));
    co_return values;
  }
}

/// A range with `return_exceptions`: every child's Result, in order.
template <class T>
Task<std::vector<Result<T>>> gather(ReturnExceptions, std::vector<Task<T>> tasks) {
  auto handles = detail::spawn_all(tasks);
  const auto bases = detail::bases_of(handles);
  {
    detail::TaskSetWatch watch(bases, detail::gather_options(true));
    co_await watch;
  }
  std::vector<Result<T>> results;
  results.reserve(handles.size());
  for (auto& h : handles) results.push_back(detail::take_settled(h));
  co_return results;
}

}  // namespace coring
