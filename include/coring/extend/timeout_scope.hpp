#pragma once
// Part of the extension seam (coring/extend/README.md): a deadline on the
// current task, as wait_for uses.
#include "coring/wait.hpp"

namespace coring::extend {

/// Cancels the current task when its deadline passes (asyncio.timeout's
/// mechanism, without its exception): construct it on the task's frame
/// around the awaits it bounds; on catching CancelledError, ask
/// `caused_cancellation()`: true if the deadline alone caused it (then turn
/// it into the error of your choice), false if somebody else cancelled the
/// task too (then rethrow). Destroying it disarms the deadline.
using detail::TimeoutScope;

}  // namespace coring::extend
