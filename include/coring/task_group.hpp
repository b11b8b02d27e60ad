#pragma once
// coring::TaskGroup: structured concurrency (asyncio.TaskGroup).
#include <cstddef>
#include <deque>
#include <exception>

#include "coring/detail/task_base.hpp"
#include "coring/task.hpp"
#include "coring/task_handle.hpp"

namespace coring {

/// A scope that owns the tasks started in it and never ends before they do.
/// Use it through async_with:
///
///     co_await async_with(TaskGroup{}, [&](TaskGroup& group) -> Task<> {
///       group.create_task(fetch(a));
///       group.create_task(fetch(b));
///       co_return;
///     });  // here every child has finished
///
/// The first child to fail cancels its siblings and the body (if it is still
/// running), and its exception is what async_with raises once every child has
/// finished. asyncio raises an ExceptionGroup of all the failures; coring
/// raises the first, in completion order. If the body fails, the children
/// are cancelled and the body's exception is raised. This is what plain
/// gather cannot do: stop the others when one fails.
class TaskGroup {
 public:
  TaskGroup() = default;
  /// Only an empty group can move (into async_with's frame).
  TaskGroup(TaskGroup&& other) noexcept;
  TaskGroup& operator=(TaskGroup&&) = delete;
  ~TaskGroup();

  /// Starts `task` in the group. RuntimeError once the group is closing.
  template <class T>
  TaskHandle<T> create_task(Task<T> task) {
    check_open();
    TaskHandle<T> handle = coring::create_task(std::move(task));
    adopt(handle.base());
    return handle;
  }

  [[nodiscard]] std::size_t running() const noexcept { return running_; }

  /// The entry half of async_with: the task running it is the body's, which
  /// a failing child interrupts.
  void aenter();
  /// The exit half of async_with: waits for every child, then raises the
  /// first child's failure, else the body's, else nothing.
  Task<> aexit(std::exception_ptr body_error);

 private:
  struct Child final : detail::DoneWaiter {
    TaskGroup* group = nullptr;
    detail::TaskBase* task = nullptr;  // while it runs
    void on_done(detail::TaskBase& task) noexcept override { group->child_done(*this, task); }
  };
  struct Join;

  void check_open() const;
  void adopt(detail::TaskBase& task);
  void child_done(Child& child, detail::TaskBase& task) noexcept;
  void abort() noexcept;  // cancels every running child

  std::deque<Child> children_;   // stable addresses; finished ones are reused
  std::deque<Child*> free_;
  std::size_t running_ = 0;
  std::exception_ptr first_error_;
  detail::TaskBase* parent_ = nullptr;
  bool parent_cancel_requested_ = false;
  bool exiting_ = false;
  bool closed_ = false;
  Join* join_ = nullptr;
};

}  // namespace coring
