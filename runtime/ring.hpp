#pragma once
// The loop's io_uring, behind an interface without liburing types: ring.cpp
// is the one file that includes <liburing.h>.
#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "coring/detail/io_completion.hpp"

namespace coring {
class EventLoop;
struct EventLoopOptions;
}

namespace coring::detail {

class Ring {
 public:
  /// Sets up the ring with the best setup flags the kernel accepts, from
  /// options.ring_setup down. Throws RuntimeError saying why and what to do
  /// when io_uring is unavailable.
  Ring(EventLoop& loop, const EventLoopOptions& options);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Each prep_* queues one SQE whose CQE is delivered to `op`; nothing
  // reaches the kernel until the next submit_and_reap.
  void prep_recv(int fd, void* buffer, std::size_t length, int flags, IoCompletion* op);
  void prep_send(int fd, const void* buffer, std::size_t length, int flags, IoCompletion* op);
  void prep_connect(int fd, const sockaddr* address, socklen_t length, IoCompletion* op);
  void prep_accept(int fd, sockaddr* address, socklen_t* length, int flags, IoCompletion* op);
  void prep_close(int fd, IoCompletion* op);
  void prep_read(int fd, void* buffer, std::size_t length, IoCompletion* op);
  void prep_poll(int fd, unsigned events, IoCompletion* op);
  /// Asks the kernel to cancel `target`; its CQE still arrives (with -ECANCELED).
  void prep_cancel(IoCompletion* target);
  /// Asks the kernel to cancel every operation in flight (the loop's close:
  /// a multishot receive never ends by itself).
  void prep_cancel_everything();
  /// A receive that stays armed: a CQE for every fill of a provided buffer,
  /// each with IORING_CQE_F_MORE while it stays armed (`op` is in flight
  /// until the last). Makes the provided-buffer pool on first use.
  void prep_recv_multishot(int fd, IoCompletion* op);

  /// The pool of provided buffers multishot receives fill.
  static constexpr unsigned provided_buffer_count = 1024;  // a power of two, as the kernel needs
  static constexpr unsigned provided_buffer_size = 4096;
  /// The buffer a CQE with IORING_CQE_F_BUFFER names, and its id.
  [[nodiscard]] static bool names_buffer(unsigned cqe_flags) noexcept;
  [[nodiscard]] static unsigned buffer_id(unsigned cqe_flags) noexcept;
  [[nodiscard]] static bool more_to_come(unsigned cqe_flags) noexcept;
  [[nodiscard]] std::byte* provided_buffer(unsigned id) noexcept;
  /// Hands buffer `id` back to the kernel for the next fill.
  void release_buffer(unsigned id) noexcept;

  /// At most one io_uring_enter: submits what is queued and, if `wait` is
  /// set, waits up to that long (nullopt: no limit) for one completion. Then
  /// delivers every completion present. Returns how many were delivered.
  /// With `batch` > 1 (and a kernel that supports_batch_wait), the wait is
  /// for `batch` completions while `batch_wait` lasts, then for the first.
  unsigned submit_and_reap(bool wait, std::optional<std::chrono::nanoseconds> timeout, unsigned batch = 1,
                           std::chrono::microseconds batch_wait = {});
  [[nodiscard]] bool supports_batch_wait() const noexcept;
  /// Hands what is queued to the kernel now, without waiting or reaping:
  /// for a descriptor about to be closed at once that a queued SQE names.
  void submit_queued() noexcept;

  [[nodiscard]] unsigned in_flight() const noexcept { return in_flight_; }
  [[nodiscard]] std::uint64_t enter_count() const noexcept { return enters_; }
  [[nodiscard]] const std::string& features() const noexcept { return features_; }

 private:
  struct State;
  struct ProvidedBuffers;
  void* next_sqe(IoCompletion* op);
  ProvidedBuffers& provided_buffers();
  unsigned deliver_completions();

  EventLoop& loop_;
  std::unique_ptr<State> state_;
  std::unique_ptr<ProvidedBuffers> provided_;
  unsigned in_flight_ = 0;
  std::uint64_t enters_ = 0;
  std::string features_;
};

}  // namespace coring::detail
