#pragma once
// Part of the extension seam (coring/extend/README.md): a callback at a
// time, on the loop's own timer heap, for state that is not a task.
#include "coring/detail/timer_heap.hpp"
#include "coring/loop.hpp"

namespace coring::extend {

/// Derive from Timer and override `on_timer()`; set `deadline`, then
/// `EventLoop::add_timer(this)`. The loop calls `on_timer()` once the
/// deadline has passed, on its thread, outside any task (it must not throw
/// and must not await); the timer is then no longer `armed()`. Before
/// changing the deadline of an armed timer, or destroying it,
/// `EventLoop::remove_timer(this)`. Equal deadlines fire in the order they
/// were armed.
using Timer = detail::TimerNode;

}  // namespace coring::extend
