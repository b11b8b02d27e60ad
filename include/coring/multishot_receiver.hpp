#pragma once
// MultishotReceiver: a socket's incoming bytes through one multishot receive
// that stays armed in the kernel (IORING_RECV_MULTISHOT), filling buffers the
// kernel takes from the loop's pool of provided buffers. A connection that
// reads again and again (a client's keep-alive connection under load) then
// costs no request and no poll arming per read. One receiver holds at most
// a few of the pool's buffers: past them its receive stops until its reader
// takes some, so bytes nobody reads never starve another socket.
// Socket::recv stays the way for everything else: it reads into the
// caller's buffer and holds nothing while idle.
#include <cstddef>
#include <span>

#include "coring/detail/sync_waiter.hpp"
#include "coring/net.hpp"

namespace coring {

class MultishotReceiver {
 public:
  /// Arms the receive on `socket`, which must outlive this receiver and be
  /// closed only after it is destroyed: while armed, the kernel holds the
  /// socket open. (Either close will do: `abort()` hands the queued receive
  /// and its cancel to the kernel before the descriptor's number is freed.)
  /// The loop's buffer pool (1024 buffers of 4 KiB) is made on first use;
  /// RuntimeError if the kernel has no provided-buffer rings (Linux 5.19+).
  explicit MultishotReceiver(const Socket& socket);
  /// Cancels the kernel's receive and gives its buffers back; what the
  /// kernel has not finished with is freed when it has.
  ~MultishotReceiver();
  MultishotReceiver(const MultishotReceiver&) = delete;
  MultishotReceiver& operator=(const MultishotReceiver&) = delete;

  struct State;

  /// Waits for bytes (or the end) to be queued; both receives build on it.
  class Wait : protected detail::SyncWaiter {
   public:
    explicit Wait(State& state) noexcept : state_(state) {}
    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> h) noexcept;

   protected:
    /// Raises a cancellation; then an OSError for a failed receive. False at the end.
    bool resume_with_bytes();
    State& state_;
  };

  class [[nodiscard]] Receive final : public Wait {
   public:
    using Wait::Wait;
    /// The bytes, in place in a provided buffer, valid until the next
    /// receive or the receiver's end (the buffer is held until then);
    /// empty when the peer has closed its side. OSError on a failed
    /// receive. If cancelled, CancelledError, and no bytes are lost: they
    /// come with the next receive.
    std::span<const std::byte> await_resume();
  };

  class [[nodiscard]] ReceiveInto final : public Wait {
   public:
    ReceiveInto(State& state, std::span<std::byte> destination) noexcept : Wait(state), destination_(destination) {}
    /// Bytes copied into the destination (as Socket::recv: 0 at the end);
    /// a buffer goes back to the pool as soon as it is copied out whole.
    std::size_t await_resume();

   private:
    std::span<std::byte> destination_;
  };

  /// The next bytes received, in place: for a reader that parses them at
  /// once and comes back for more. One receive at a time.
  Receive receive() noexcept { return Receive(*state_); }
  /// The next bytes received, copied into `destination`: for a reader that
  /// may stay away for long (an idle pooled connection), which then holds
  /// no buffer of the pool.
  ReceiveInto receive_into(std::span<std::byte> destination) noexcept { return {*state_, destination}; }
  /// Bytes, the end or an error have come that no receive() has taken: a
  /// receive would not wait. (A pooled connection that has something to
  /// read while idle is out of step or closed, and is not reused.)
  [[nodiscard]] bool ready() const noexcept;

 private:
  State* state_;  // on the heap: it outlives this object while the kernel holds the receive
};

}  // namespace coring
