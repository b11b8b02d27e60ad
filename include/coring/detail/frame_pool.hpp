#pragma once
// Where coroutine frames come from: a per-thread cache of freed frames by
// size class, so that a steady state of tasks and awaited calls (a
// request-response cycle is a dozen frames) allocates nothing. Sanitizer
// builds go straight to the heap, which keeps use-after-free visible.
// Taking and giving back a frame is inline (two per frame, a dozen frames a
// request); the rest is in runtime/frame_pool.cpp.
#include <cstddef>
#include <cstdint>

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

/// A thread's freed frames. Trivial and constant-initialised, so that a read
/// is a load, with no call to the thread's TLS initialisation.
struct FramePool {
  static constexpr std::size_t granule = 64;           // size classes of 64 bytes...
  static constexpr std::size_t classes = 64;           // ...up to 4 KiB; larger frames use the heap
  static constexpr std::uint32_t kept_per_class = 4096;  // beyond this, freed frames go back to the heap
  struct FreeFrame {
    FreeFrame* next;
  };
  static constexpr std::size_t class_of(std::size_t size) noexcept { return (size + granule - 1) / granule - 1; }

  FreeFrame* free[classes];
  std::uint32_t count[classes];
  bool keeping;  // frames may be kept: the thread's releaser is armed and the thread is not ending
};
extern thread_local constinit FramePool frame_pool;

void* allocate_frame_slow(std::size_t size);
void free_frame_slow(void* frame, std::size_t size) noexcept;

inline void* allocate_frame(std::size_t size) {
  if constexpr (CORING_FRAME_POOL != 0) {
    const std::size_t c = FramePool::class_of(size);
    if (c < FramePool::classes) {
      if (FramePool::FreeFrame* f = frame_pool.free[c]) {
        frame_pool.free[c] = f->next;
        --frame_pool.count[c];
        return f;
      }
    }
  }
  return allocate_frame_slow(size);
}

inline void free_frame(void* frame, std::size_t size) noexcept {
  if constexpr (CORING_FRAME_POOL != 0) {
    const std::size_t c = FramePool::class_of(size);
    if (c < FramePool::classes && frame_pool.keeping && frame_pool.count[c] < FramePool::kept_per_class) {
      auto* f = static_cast<FramePool::FreeFrame*>(frame);
      f->next = frame_pool.free[c];
      frame_pool.free[c] = f;
      ++frame_pool.count[c];
      return;
    }
  }
  free_frame_slow(frame, size);
}

/// Bytes of freed frames this thread's cache holds (at most 4,096 frames of
/// each size class): the memory of the largest burst of tasks so far.
std::size_t cached_frame_bytes() noexcept;

}  // namespace coring::detail
