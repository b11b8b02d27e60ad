#pragma once
// Where coroutine frames come from: a per-thread cache of freed frames by
// size class, so that a steady state of tasks and awaited calls (a
// request-response cycle is a dozen frames) allocates nothing. Sanitizer
// builds go straight to the heap, which keeps use-after-free visible.
#include <cstddef>

namespace coring::detail {

void* allocate_frame(std::size_t size);
void free_frame(void* frame, std::size_t size) noexcept;
/// Bytes of freed frames this thread's cache holds (at most 4,096 frames of
/// each size class): the memory of the largest burst of tasks so far.
std::size_t cached_frame_bytes() noexcept;

}  // namespace coring::detail
