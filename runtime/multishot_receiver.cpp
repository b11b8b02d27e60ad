// MultishotReceiver: the state a multishot receive shares with its reader,
// pausing a full receiver, and re-arming receivers starved of buffers.
#include "coring/multishot_receiver.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "coring/errors.hpp"
#include "coring/loop.hpp"
#include "ring.hpp"

namespace coring {

/// What the kernel's receive and the reading coroutine share. Freed by the
/// receiver, or, when the receiver goes first, by the receive's last CQE.
struct MultishotReceiver::State : detail::ListHook /* the loop's starved receivers */ {
  /// Chunks (provided buffers) one receiver holds at most before its
  /// receive is stopped: 128 KiB of the pool's 4 MiB.
  static constexpr std::size_t max_queued = 32;

  /// One CQE: bytes in a provided buffer, or the end (0: the peer closed; < 0: -errno).
  struct Chunk {
    int result;
    unsigned buffer;
  };

  struct Completion : detail::IoCompletion {
    State* owner;
  };
  Completion op;
  detail::Ring& ring;
  int fd;
  std::vector<Chunk> chunks;  // CQEs not yet taken, from `head`
  std::size_t head = 0;
  std::size_t front_offset = 0;  // bytes of chunks[head] already copied out by receive_into
  int held = -1;             // the buffer the last receive() handed out
  bool ended = false;        // an end chunk is queued: no re-arming
  bool pausing = false;      // full: a cancel is on its way to stop the receive
  bool paused = false;       // stopped while full: armed again as the reader takes chunks
  bool orphaned = false;     // the receiver is gone; the kernel's last CQE frees this
  detail::IntrusiveList<detail::SyncWaiter> waiter;  // at most one

  State(EventLoop& loop, int socket_fd) : ring(loop.ring()), fd(socket_fd) {
    op.owner = this;
    op.on_complete = &State::on_cqe;
    chunks.reserve(8);
  }

  void arm() { ring.prep_recv_multishot(fd, &op); }

  static void on_cqe(detail::IoCompletion* done) noexcept {
    static_cast<Completion*>(done)->owner->take_cqe(done->result, done->flags);
  }

  [[nodiscard]] std::size_t queued() const noexcept { return chunks.size() - head; }

  void take_cqe(int result, unsigned flags) noexcept {
    const bool more = detail::Ring::more_to_come(flags);
    if (orphaned) {
      if (result > 0 && detail::Ring::names_buffer(flags)) release_buffer(detail::Ring::buffer_id(flags));
      if (!more) delete this;
      return;
    }
    if (result > 0) {
      push({result, detail::Ring::buffer_id(flags)});
      if (!more) {
        // The kernel may end a multishot receive at any time; a full one
        // stays stopped.
        if (pausing || queued() >= max_queued) {
          stop();
        } else {
          rearm();
        }
      } else if (queued() >= max_queued && !pausing) {
        pause();
      }
    } else if (result == -ENOBUFS) {
      // The pool ran dry: armed again when a buffer comes back (never spin).
      starved().push_back(this);
    } else if (result == -ECANCELED && op.cancel_sent) {
      stop();  // paused (an orphan's cancel is handled above)
    } else {
      ended = true;
      push({result, 0});
    }
  }

  /// Stops a full receiver's receive: the buffers are the loop's, every
  /// connection's, and one whose bytes nobody reads (an idle pooled
  /// connection sent data unasked, a body not read yet) must not take them
  /// all. The bytes wait in the socket meanwhile.
  void pause() noexcept {
    try {
      ring.prep_cancel(&op);
      pausing = true;
    } catch (const std::exception&) {  // a full submission queue: stays armed, the kernel's ENOBUFS still bounds it
    }
  }

  void stop() noexcept {
    pausing = false;
    paused = true;
    resume_if_room();  // the reader may have taken the queue meanwhile
  }

  /// The reader took a chunk: a paused receive goes on once half the room is free.
  void resume_if_room() noexcept {
    if (!paused || ended || queued() > max_queued / 2) return;
    paused = false;
    rearm();
  }

  void rearm() noexcept {
    try {
      arm();
    } catch (const std::exception& e) {  // a full submission queue: reported as a failed receive
      ended = true;
      push({-EAGAIN, 0});
    }
  }

  void push(Chunk chunk) noexcept {
    try {
      chunks.push_back(chunk);
    } catch (const std::bad_alloc&) {
      if (chunk.result > 0) release_buffer(chunk.buffer);
      ended = true;  // lose no bytes silently: the reader learns the stream broke
      chunks.push_back({-ENOMEM, 0});  // reserved room: fits
    }
    if (auto* w = waiter.pop_front()) w->wake(true);
  }

  void pop_front() noexcept {
    if (++head == chunks.size()) {
      chunks.clear();
      head = 0;
    }
    resume_if_room();
  }

  void release_held() noexcept {
    if (held < 0) return;
    release_buffer(static_cast<unsigned>(held));
    held = -1;
  }

  void release_buffer(unsigned buffer) noexcept {
    ring.release_buffer(buffer);
    // One buffer back: one starved receive may go on.
    if (State* hungry = starved().pop_front()) hungry->rearm();
  }

  /// Receivers whose receive ended with ENOBUFS, waiting for a buffer. One
  /// loop per thread, so one list per thread.
  static detail::IntrusiveList<State>& starved() noexcept {
    static thread_local detail::IntrusiveList<State> list;
    return list;
  }
};

MultishotReceiver::MultishotReceiver(const Socket& socket) : state_(new State(EventLoop::get(), socket.fd())) {
  try {
    state_->arm();
  } catch (...) {
    delete state_;
    throw;
  }
}

MultishotReceiver::~MultishotReceiver() {
  State& s = *state_;
  // Off the starved list first: a buffer given back below must not re-arm it.
  if (s.linked()) detail::IntrusiveList<State>::remove(&s);
  s.release_held();
  for (std::size_t i = s.head; i < s.chunks.size(); ++i)
    if (s.chunks[i].result > 0) s.release_buffer(s.chunks[i].buffer);
  if (s.op.in_flight) {
    s.orphaned = true;
    s.ring.prep_cancel(&s.op);
  } else {
    delete state_;
  }
}

bool MultishotReceiver::ready() const noexcept { return state_->head < state_->chunks.size(); }

bool MultishotReceiver::Wait::await_ready() noexcept {
  state_.release_held();
  return state_.head < state_.chunks.size();
}

bool MultishotReceiver::Wait::await_suspend(std::coroutine_handle<> h) noexcept { return park(state_.waiter, h); }

bool MultishotReceiver::Wait::resume_with_bytes() {
  if (unpark()) task->throw_if_cancelled();  // a bytes chunk that came meanwhile stays queued
  const int result = state_.chunks[state_.head].result;
  // The end stays queued: every later receive sees it too.
  if (result < 0) throw OSError(-result, "recv");
  return result > 0;
}

std::span<const std::byte> MultishotReceiver::Receive::await_resume() {
  if (!resume_with_bytes()) return {};
  State& s = state_;
  const State::Chunk chunk = s.chunks[s.head];
  const std::size_t offset = std::exchange(s.front_offset, 0);
  s.pop_front();
  s.held = static_cast<int>(chunk.buffer);
  return {s.ring.provided_buffer(chunk.buffer) + offset, static_cast<std::size_t>(chunk.result) - offset};
}

std::size_t MultishotReceiver::ReceiveInto::await_resume() {
  if (!resume_with_bytes()) return 0;
  State& s = state_;
  const State::Chunk chunk = s.chunks[s.head];
  const std::size_t left = static_cast<std::size_t>(chunk.result) - s.front_offset;
  const std::size_t n = std::min(left, destination_.size());
  std::memcpy(destination_.data(), s.ring.provided_buffer(chunk.buffer) + s.front_offset, n);
  if (n < left) {
    s.front_offset += n;
  } else {
    s.front_offset = 0;
    s.pop_front();
    s.release_buffer(chunk.buffer);
  }
  return n;
}

}  // namespace coring
