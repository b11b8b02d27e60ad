// RemoteQueue: call_soon_threadsafe's locked queue and the eventfd read
// that wakes the loop.
#include "remote_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "coring/errors.hpp"
#include "coring/loop.hpp"
#include "ring.hpp"

namespace coring::detail {

RemoteQueue::RemoteQueue(EventLoop& loop) : loop_(loop) {
  event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) throw OSError(errno, "eventfd for the loop's wake-ups");
  read_op_.on_complete = &RemoteQueue::on_wakeup;
  read_op_.owner = this;
  arm();
}

RemoteQueue::~RemoteQueue() {
  // A push() from another thread may still be writing to the eventfd (the
  // loop can run the pushed function and end before push returns): wait for
  // it, or its write could reach a closed, even reused, descriptor.
  std::lock_guard lock(mutex_);
  ::close(event_fd_);
}

void RemoteQueue::arm() { loop_.ring().prep_read(event_fd_, &counter_, sizeof counter_, &read_op_); }

void RemoteQueue::stop() {
  stopped_ = true;
  loop_.ring().prep_cancel(&read_op_);
}

void RemoteQueue::push(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  pending_.push_back(std::move(fn));
  // One write per batch: the loop clears the flag as it takes the batch.
  if (!wake_pending_) {
    wake_pending_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
  }
}

void RemoteQueue::on_wakeup(IoCompletion* op) {
  RemoteQueue* self = static_cast<WakeOp*>(op)->owner;
  if (self->stopped_) return;
  {
    std::lock_guard lock(self->mutex_);
    self->wake_pending_ = false;
    self->running_.swap(self->pending_);
  }
  for (auto& fn : self->running_) {
    try {
      fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "coring: exception in a call_soon_threadsafe callback: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "coring: exception in a call_soon_threadsafe callback (not a std::exception)\n");
    }
  }
  self->running_.clear();
  self->arm();
}

}  // namespace coring::detail
