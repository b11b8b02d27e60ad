#pragma once
// Heap allocations counted per thread: a program that links
// allocation_counter.cpp has operator new replaced by a malloc that counts
// (the benchmarks' allocs_per_task and allocs_per_request, the allocation
// tests). Per thread, so that a server on a thread of its own is not counted.
#include <cstddef>

namespace coring::bench {

struct AllocationCount {
  std::size_t allocations = 0;
  std::size_t bytes = 0;
};

/// This thread's allocations so far.
AllocationCount allocations_so_far() noexcept;

}  // namespace coring::bench
