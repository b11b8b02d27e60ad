// The counting operator new and delete that allocation_counter.hpp describes.
#include "allocation_counter.hpp"

#include <cstdlib>
#include <new>

namespace {
thread_local coring::bench::AllocationCount counted;
}  // namespace

coring::bench::AllocationCount coring::bench::allocations_so_far() noexcept { return counted; }

void* operator new(std::size_t size) {
  ++counted.allocations;
  counted.bytes += size;
  if (void* p = std::malloc(size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
