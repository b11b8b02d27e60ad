#pragma once
// MultishotReceiver: a socket's incoming bytes through one multishot receive
// that stays armed in the kernel (IORING_RECV_MULTISHOT), filling buffers the
// kernel takes from the loop's pool of provided buffers. A connection that
// reads again and again (a client's keep-alive connection under load) then
// costs no request and no poll arming per read: about 10% less CPU per
// request in coring-bench (bench/RESULTS.md). Socket::recv stays the way for
// everything else: it reads into the caller's buffer and holds nothing while
// idle.
#include <cstddef>
#include <span>

#include "coring/detail/sync_waiter.hpp"
#include "coring/net.hpp"

namespace coring {

class MultishotReceiver {
 public:
  /// Arms the receive on `socket`, which must outlive this receiver and be
  /// closed only after it is destroyed: while armed, the kernel holds the
  /// socket open. The loop's buffer pool (1024 buffers of 4 KiB) is made
  /// on first use; RuntimeError if the kernel has no provided-buffer rings
  /// (Linux 5.19+).
  explicit MultishotReceiver(const Socket& socket);
  /// Cancels the kernel's receive and gives its buffers back; what the
  /// kernel has not finished with is freed when it has.
  ~MultishotReceiver();
  MultishotReceiver(const MultishotReceiver&) = delete;
  MultishotReceiver& operator=(const MultishotReceiver&) = delete;

  struct State;

  class [[nodiscard]] Receive final : detail::SyncWaiter {
   public:
    explicit Receive(State& state) noexcept : state_(state) {}
    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> h) noexcept;
    /// The bytes, valid until the next receive() or the receiver's end;
    /// empty when the peer has closed its side. OSError on a failed receive.
    /// If cancelled, CancelledError, and no bytes are lost: they come with
    /// the next receive().
    std::span<const std::byte> await_resume();

   private:
    State& state_;
  };

  /// The next bytes received. One receive at a time.
  Receive receive() noexcept { return Receive(*state_); }
  /// Bytes, the end or an error have come that no receive() has taken: a
  /// receive would not wait. (A pooled connection that has something to
  /// read while idle is out of step or closed, and is not reused.)
  [[nodiscard]] bool ready() const noexcept;

 private:
  State* state_;  // on the heap: it outlives this object while the kernel holds the receive
};

}  // namespace coring
