#pragma once
// Where coroutine frames come from: a per-thread cache of freed frames by
// size class, so that a steady state of tasks and awaited calls (a
// request-response cycle is a dozen frames) allocates nothing. Sanitizer
// builds go straight to the heap, which keeps use-after-free visible.
#include <cstddef>

namespace coring::detail {

void* allocate_frame(std::size_t size);
void free_frame(void* frame, std::size_t size) noexcept;

}  // namespace coring::detail
