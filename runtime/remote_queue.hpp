#pragma once
// The one way into a loop from another thread: a locked queue of functions
// and an eventfd whose read is always pending on the ring, so a push wakes
// the loop even while it waits in the kernel.
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "coring/detail/io_completion.hpp"

namespace coring {
class EventLoop;
}

namespace coring::detail {

class RemoteQueue {
 public:
  explicit RemoteQueue(EventLoop& loop);
  ~RemoteQueue();
  RemoteQueue(const RemoteQueue&) = delete;
  RemoteQueue& operator=(const RemoteQueue&) = delete;

  void push(std::function<void()> fn);  // any thread
  /// Stops listening: cancels the pending read (its CQE must still be reaped).
  void stop();

 private:
  static void on_wakeup(IoCompletion* op);
  void arm();

  EventLoop& loop_;
  int event_fd_ = -1;
  std::uint64_t counter_ = 0;  // the read's buffer: lives as long as the loop
  struct WakeOp : IoCompletion {
    RemoteQueue* owner = nullptr;
  };
  WakeOp read_op_;
  bool stopped_ = false;
  std::mutex mutex_;  // guards the three below and the eventfd's lifetime
  bool wake_pending_ = false;
  std::vector<std::function<void()>> pending_;
  std::vector<std::function<void()>> running_;
};

}  // namespace coring::detail
