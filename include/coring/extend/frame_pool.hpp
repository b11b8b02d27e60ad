#pragma once
// Part of the extension seam (coring/extend/README.md): the per-thread
// cache that coroutine frames come from, for objects that are made and
// dropped as often as frames.
#include "coring/detail/frame_pool.hpp"

namespace coring::extend {

/// `allocate_frame(size)` and `free_frame(p, size)`: a class's `operator
/// new` and sized `operator delete` may use them. The same size must be given
/// back on the thread that took it; sanitizer builds go to the heap.
using detail::allocate_frame;
using detail::free_frame;

}  // namespace coring::extend
