#include "coring/detail/frame_pool.hpp"

#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define CORING_FRAME_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORING_FRAME_POOL 0
#endif
#endif
#ifndef CORING_FRAME_POOL
#define CORING_FRAME_POOL 1
#endif

namespace coring::detail {

namespace {

constexpr std::size_t granule = 64;          // size classes of 64 bytes...
constexpr std::size_t classes = 64;          // ...up to 4 KiB (a request's outer frames pass 2 KiB); larger frames use the heap
constexpr std::size_t kept_per_class = 4096;  // beyond this, freed frames go back to the heap

struct FreeFrame {
  FreeFrame* next;
};

// Trivial, so that reading it costs no call to the thread's TLS
// initialisation (a thread_local with a destructor does, at every use: two
// per frame). The frames it holds are freed by `releaser` at thread end.
struct FramePool {
  FreeFrame* free[classes];
  std::size_t count[classes];
};
thread_local constinit FramePool pool{};

// Trivial too: still readable while the thread's releaser runs, and after,
// when frames freed go to the heap.
thread_local constinit bool pool_gone = false;
thread_local constinit bool releaser_armed = false;

struct PoolReleaser {
  ~PoolReleaser() {
    pool_gone = true;
    for (FreeFrame*& head : pool.free)
      while (FreeFrame* f = head) {
        head = f->next;
        ::operator delete(f);
      }
  }
  bool armed = false;
};
thread_local PoolReleaser releaser;  // made, and its end registered, when the first frame is kept

std::size_t class_of(std::size_t size) noexcept { return (size + granule - 1) / granule - 1; }

}  // namespace

void* allocate_frame(std::size_t size) {
  const std::size_t c = class_of(size);
  if (!CORING_FRAME_POOL || c >= classes || pool_gone) return ::operator new(size);
  if (FreeFrame* f = pool.free[c]) {
    pool.free[c] = f->next;
    --pool.count[c];
    return f;
  }
  return ::operator new((c + 1) * granule);  // the class's full size: any frame of the class may reuse it
}

void free_frame(void* frame, std::size_t size) noexcept {
  const std::size_t c = class_of(size);
  if (!CORING_FRAME_POOL || c >= classes || pool_gone || pool.count[c] >= kept_per_class) {
    ::operator delete(frame);
    return;
  }
  if (!releaser_armed) [[unlikely]] {
    releaser_armed = true;
    releaser.armed = true;
  }
  auto* f = static_cast<FreeFrame*>(frame);
  f->next = pool.free[c];
  pool.free[c] = f;
  ++pool.count[c];
}

std::size_t cached_frame_bytes() noexcept {
  std::size_t bytes = 0;
  for (std::size_t c = 0; c < classes; ++c) bytes += pool.count[c] * (c + 1) * granule;
  return bytes;
}

}  // namespace coring::detail
