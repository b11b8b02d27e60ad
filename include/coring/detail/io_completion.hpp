#pragma once
// One io_uring operation in flight: its SQE's user_data points here and the
// CQE's result lands here. It lives in the frame of the task that waits, which
// stays suspended until the CQE arrives, even when cancelled: the kernel never
// writes into freed memory.
#include <coroutine>

namespace coring::detail {

struct TaskBase;

struct IoCompletion {
  TaskBase* task = nullptr;
  std::coroutine_handle<> handle;
  /// When set, called instead of resuming `handle` (the loop's own operations).
  void (*on_complete)(IoCompletion*) = nullptr;
  int result = 0;       // the CQE's res: a count or -errno
  unsigned flags = 0;   // the CQE's flags
  bool in_flight = false;
  bool cancel_sent = false;
};

}  // namespace coring::detail
