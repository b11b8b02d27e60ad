// The frame cache's slow half: frames the cache cannot serve or keep, and
// the release of the kept ones at the thread's end.
#include "coring/detail/frame_pool.hpp"

#include <new>

namespace coring::detail {

thread_local constinit FramePool frame_pool{};

namespace {

// Trivial too: still readable while the thread's releaser runs, and after,
// when frames freed go to the heap.
thread_local constinit bool pool_gone = false;

struct PoolReleaser {
  ~PoolReleaser() {
    pool_gone = true;
    frame_pool.keeping = false;
    for (FramePool::FreeFrame*& head : frame_pool.free)
      while (FramePool::FreeFrame* f = head) {
        head = f->next;
        ::operator delete(f);
      }
  }
  bool armed = false;
};
thread_local PoolReleaser releaser;  // made, and its end registered, when the first frame is kept

}  // namespace

void* allocate_frame_slow(std::size_t size) {
  const std::size_t c = FramePool::class_of(size);
  if (!CORING_FRAME_POOL || c >= FramePool::classes || pool_gone) return ::operator new(size);
  return ::operator new((c + 1) * FramePool::granule);  // the class's full size: any frame of the class may reuse it
}

void free_frame_slow(void* frame, std::size_t size) noexcept {
  const std::size_t c = FramePool::class_of(size);
  if (!CORING_FRAME_POOL || c >= FramePool::classes || pool_gone || frame_pool.count[c] >= FramePool::kept_per_class) {
    ::operator delete(frame);
    return;
  }
  // The first frame kept on this thread: from now on the releaser gives the
  // kept frames back at the thread's end.
  releaser.armed = true;
  frame_pool.keeping = true;
  auto* f = static_cast<FramePool::FreeFrame*>(frame);
  f->next = frame_pool.free[c];
  frame_pool.free[c] = f;
  ++frame_pool.count[c];
}

std::size_t cached_frame_bytes() noexcept {
  std::size_t bytes = 0;
  for (std::size_t c = 0; c < FramePool::classes; ++c)
    bytes += frame_pool.count[c] * (c + 1) * FramePool::granule;
  return bytes;
}

}  // namespace coring::detail
