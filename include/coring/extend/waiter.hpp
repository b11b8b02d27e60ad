#pragma once
// Part of the extension seam (coring/extend/README.md): parking tasks on a
// waiting primitive of one's own, as Event, Semaphore and Queue do.
#include "coring/detail/intrusive_list.hpp"
#include "coring/detail/sync_waiter.hpp"

namespace coring::extend {

/// A task parked on an extension's primitive. Derive the awaiter from it;
/// it lives in the parked frame, so parking allocates nothing. The contract:
/// - `await_suspend(h)` returns `park(queue, h)`: false means a cancellation
///   is already pending and the task does not suspend.
/// - To wake a waiter, the primitive unlinks it (`WaiterQueue::remove`) and
///   calls `wake(grant)`; `granted` then tells the awaiter whether it was
///   handed what it waited for.
/// - `await_resume` calls `unpark()` first; if that is true, it gives back
///   whatever it was granted when `cancel_pending()`, then calls
///   `raise_if_cancelled()`. Cancelling the task unlinks the waiter and wakes
///   it with `granted` false.
using Waiter = detail::SyncWaiter;

/// The FIFO of parked waiters a primitive owns (`empty`, `for_each`,
/// `for_each_while`, and the static `remove`). It must be empty when the
/// primitive is destroyed: wake every waiter first.
using WaiterQueue = detail::IntrusiveList<Waiter>;

}  // namespace coring::extend
