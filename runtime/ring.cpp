// Ring: io_uring setup (flags probed best first), the provided-buffer pool,
// SQE preparation, and the one enter per pass that submits and reaps.
#include "ring.hpp"

#include <liburing.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <span>

#include "coring/errors.hpp"
#include "coring/loop.hpp"

namespace coring::detail {

struct Ring::State {
  io_uring ring{};
  unsigned setup_flags = 0;
  bool registered_ring_fd = false;
  bool min_timeout = false;  // the kernel waits for batches (min_wait_usec)
};

namespace {

// Linux 6.12's feature bit for min_wait_usec; liburing 2.3's header predates it.
constexpr unsigned feature_min_timeout = 1U << 15;

std::string read_sysctl(const char* path) {
  std::ifstream in(path);
  std::string value;
  if (in >> value) return value;
  return {};
}

[[noreturn]] void throw_setup_error(int error) {
  std::string message = "io_uring is unavailable (io_uring_setup: " + std::string(std::strerror(error)) + "): ";
  const std::string disabled = read_sysctl("/proc/sys/kernel/io_uring_disabled");
  if ((error == EPERM || error == EACCES) && !disabled.empty() && disabled != "0") {
    message += "the kernel disables it (kernel.io_uring_disabled = " + disabled +
               "); run `sysctl kernel.io_uring_disabled=0` as root, or join the group in kernel.io_uring_group";
  } else if (error == ENOSYS || error == EPERM || error == EACCES) {
    message +=
        "the kernel lacks it or a seccomp filter blocks it (containers often do); "
        "allow io_uring_setup, io_uring_enter and io_uring_register in the seccomp profile";
  } else if (error == ENOMEM) {
    rlimit limit{};
    getrlimit(RLIMIT_MEMLOCK, &limit);
    message += "not enough locked memory for the rings (RLIMIT_MEMLOCK is " +
               std::to_string(limit.rlim_cur / 1024) +
               " KiB); raise it (ulimit -l) or ask for fewer ring_entries";
  } else {
    message += "the kernel refused every set of setup flags tried";
  }
  throw RuntimeError(message);
}

}  // namespace

Ring::Ring(EventLoop& loop, const EventLoopOptions& options) : loop_(loop), state_(std::make_unique<State>()) {
  // Best first: one thread owns the ring, so completions can wait until we
  // ask for them (no interrupts of the running task); then cooperative task
  // running; then nothing special. Kernels refuse flags they do not know.
  struct Choice {
    unsigned flags;
    const char* name;
  };
  static constexpr Choice choices[] = {
      {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
       "SINGLE_ISSUER|DEFER_TASKRUN|TASKRUN_FLAG"},
      {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, "COOP_TASKRUN|TASKRUN_FLAG"},
      {0, "none"},
  };
  // RingSetup's order is the list's: coop or none starts further down.
  const std::size_t first = std::min(static_cast<std::size_t>(options.ring_setup), std::size(choices) - 1);
  const unsigned entries = options.ring_entries;
  int error = 0;
  for (const Choice& choice : std::span(choices).subspan(first)) {
    io_uring_params params{};
    params.flags = choice.flags | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    params.cq_entries = entries * 4;
    int rc = io_uring_queue_init_params(entries, &state_->ring, &params);
    if (rc == -EINVAL) {  // older kernels do not know SUBMIT_ALL
      params = io_uring_params{};
      params.flags = choice.flags | IORING_SETUP_CQSIZE;
      params.cq_entries = entries * 4;
      rc = io_uring_queue_init_params(entries, &state_->ring, &params);
    }
    if (rc == 0) {
      state_->setup_flags = params.flags;
      features_ = choice.name;
      // Saves the fd lookup on every io_uring_enter; optional.
      if (io_uring_register_ring_fd(&state_->ring) == 1) {
        state_->registered_ring_fd = true;
        features_ += " +registered_ring_fd";
      }
      state_->min_timeout = (params.features & feature_min_timeout) != 0;
      if (state_->min_timeout) features_ += " +batch_wait";
      return;
    }
    error = -rc;
    if (error != EINVAL) break;  // EPERM, ENOMEM, ENOSYS: other flags will not help
  }
  throw_setup_error(error);
}

/// The kernel's ring of buffer addresses (group 0) and the buffers.
struct Ring::ProvidedBuffers {
  static constexpr unsigned group = 0;
  io_uring_buf_ring* ring = nullptr;  // page-aligned, shared with the kernel
  std::unique_ptr<std::byte[]> memory;

  ~ProvidedBuffers() { std::free(ring); }
};

Ring::~Ring() {
  io_uring_queue_exit(&state_->ring);  // before the buffers the kernel may still fill go
}

Ring::ProvidedBuffers& Ring::provided_buffers() {
  if (provided_) return *provided_;
  auto pool = std::make_unique<ProvidedBuffers>();
  void* entries = nullptr;
  if (posix_memalign(&entries, 4096, provided_buffer_count * sizeof(io_uring_buf)) != 0) throw std::bad_alloc();
  pool->ring = static_cast<io_uring_buf_ring*>(entries);
  io_uring_buf_ring_init(pool->ring);
  // By hand: liburing 2.3 (Debian 12's) has no io_uring_setup_buf_ring.
  io_uring_buf_reg registration{};
  registration.ring_addr = reinterpret_cast<std::uint64_t>(entries);
  registration.ring_entries = provided_buffer_count;
  registration.bgid = ProvidedBuffers::group;
  if (const int rc = io_uring_register_buf_ring(&state_->ring, &registration, 0); rc < 0)
    throw RuntimeError("multishot receive needs provided-buffer rings (Linux 5.19+): io_uring_register_buf_ring: " +
                       std::string(std::strerror(-rc)));
  pool->memory = std::make_unique<std::byte[]>(std::size_t{provided_buffer_count} * provided_buffer_size);
  provided_ = std::move(pool);
  for (unsigned id = 0; id < provided_buffer_count; ++id) release_buffer(id);
  return *provided_;
}

bool Ring::names_buffer(unsigned cqe_flags) noexcept { return (cqe_flags & IORING_CQE_F_BUFFER) != 0; }
unsigned Ring::buffer_id(unsigned cqe_flags) noexcept { return cqe_flags >> IORING_CQE_BUFFER_SHIFT; }
bool Ring::more_to_come(unsigned cqe_flags) noexcept { return (cqe_flags & IORING_CQE_F_MORE) != 0; }

std::byte* Ring::provided_buffer(unsigned id) noexcept {
  return provided_->memory.get() + std::size_t{id} * provided_buffer_size;
}

void Ring::release_buffer(unsigned id) noexcept {
  io_uring_buf_ring_add(provided_->ring, provided_buffer(id), provided_buffer_size, static_cast<unsigned short>(id),
                        io_uring_buf_ring_mask(provided_buffer_count), 0);
  io_uring_buf_ring_advance(provided_->ring, 1);
}

void* Ring::next_sqe(IoCompletion* op) {
  io_uring_sqe* sqe = io_uring_get_sqe(&state_->ring);
  if (sqe == nullptr) {
    // The submission queue is full this pass: hand it to the kernel now.
    io_uring_submit(&state_->ring);
    ++enters_;
    sqe = io_uring_get_sqe(&state_->ring);
    if (sqe == nullptr) throw RuntimeError("io_uring submission queue is full");
  }
  if (op != nullptr) {
    op->in_flight = true;
    op->cancel_sent = false;
    ++in_flight_;
  }
  return sqe;
}

namespace {
// The SQE's length is 32 bits: a larger buffer is used in INT_MAX pieces.
unsigned clamp_length(std::size_t length) noexcept {
  return static_cast<unsigned>(std::min<std::size_t>(length, INT_MAX));
}
}  // namespace

void Ring::prep_recv(int fd, void* buffer, std::size_t length, int flags, IoCompletion* op) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(op));
  io_uring_prep_recv(sqe, fd, buffer, clamp_length(length), flags);
  io_uring_sqe_set_data(sqe, op);
}

void Ring::prep_send(int fd, const void* buffer, std::size_t length, int flags, IoCompletion* op) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(op));
  io_uring_prep_send(sqe, fd, buffer, clamp_length(length), flags);
  io_uring_sqe_set_data(sqe, op);
}

void Ring::prep_connect(int fd, const sockaddr* address, socklen_t length, IoCompletion* op) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(op));
  io_uring_prep_connect(sqe, fd, address, length);
  io_uring_sqe_set_data(sqe, op);
}

void Ring::prep_accept(int fd, sockaddr* address, socklen_t* length, int flags, IoCompletion* op) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(op));
  io_uring_prep_accept(sqe, fd, address, length, flags);
  io_uring_sqe_set_data(sqe, op);
}

void Ring::prep_close(int fd, IoCompletion* op) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(op));
  io_uring_prep_close(sqe, fd);
  io_uring_sqe_set_data(sqe, op);
}

void Ring::prep_read(int fd, void* buffer, std::size_t length, IoCompletion* op) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(op));
  io_uring_prep_read(sqe, fd, buffer, clamp_length(length), 0);
  io_uring_sqe_set_data(sqe, op);
}

void Ring::prep_poll(int fd, unsigned events, IoCompletion* op) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(op));
  io_uring_prep_poll_add(sqe, fd, events);
  io_uring_sqe_set_data(sqe, op);
}

void Ring::prep_cancel_everything() {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(nullptr));
  io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
  io_uring_sqe_set_data(sqe, nullptr);
}

void Ring::prep_recv_multishot(int fd, IoCompletion* op) {
  provided_buffers();
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(op));
  io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = ProvidedBuffers::group;
  io_uring_sqe_set_data(sqe, op);
}

void Ring::prep_cancel(IoCompletion* target) {
  if (!target->in_flight || target->cancel_sent) return;
  target->cancel_sent = true;
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(nullptr));
  io_uring_prep_cancel(sqe, target, 0);
  io_uring_sqe_set_data(sqe, nullptr);  // its own CQE is of no interest
}

bool Ring::supports_batch_wait() const noexcept { return state_->min_timeout; }

namespace {

/// Publishes the queued SQEs to the kernel (what io_uring_submit does before
/// entering) and returns how many it has yet to take. Needed to submit and
/// batch-wait in one enter: liburing 2.3 has no
/// io_uring_submit_and_wait_min_timeout (2.8 has). Not for SQPOLL rings.
unsigned publish_submissions(io_uring* ring) noexcept {
  io_uring_sq& sq = ring->sq;
  if (sq.sqe_head != sq.sqe_tail) {
    sq.sqe_head = sq.sqe_tail;
    io_uring_smp_store_release(sq.ktail, sq.sqe_tail);
  }
  return sq.sqe_tail - IO_URING_READ_ONCE(*sq.khead);
}

}  // namespace

unsigned Ring::submit_and_reap(bool wait, std::optional<std::chrono::nanoseconds> timeout, unsigned batch,
                               std::chrono::microseconds batch_wait) {
  io_uring* ring = &state_->ring;
  if (wait && batch > 1 && batch_wait.count() > 0 && state_->min_timeout) {
    __kernel_timespec ts{};
    io_uring_getevents_arg arg{};
    arg.pad = static_cast<std::uint32_t>(batch_wait.count());  // min_wait_usec, still "pad" in liburing 2.3
    if (timeout) {
      ts.tv_sec = timeout->count() / 1'000'000'000;
      ts.tv_nsec = timeout->count() % 1'000'000'000;
      arg.ts = reinterpret_cast<std::uint64_t>(&ts);
    }
    unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
    int fd = ring->ring_fd;
    if (state_->registered_ring_fd) {
      flags |= IORING_ENTER_REGISTERED_RING;
      fd = ring->enter_ring_fd;
    }
    const unsigned to_submit = publish_submissions(ring);
    const int rc = io_uring_enter2(static_cast<unsigned>(fd), to_submit, batch, flags, reinterpret_cast<sigset_t*>(&arg),
                                   sizeof arg);
    ++enters_;
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) throw OSError(-rc, "io_uring_enter");
  } else if (wait) {
    __kernel_timespec ts{};
    __kernel_timespec* tsp = nullptr;
    if (timeout) {
      ts.tv_sec = timeout->count() / 1'000'000'000;
      ts.tv_nsec = timeout->count() % 1'000'000'000;
      tsp = &ts;
    }
    io_uring_cqe* cqe = nullptr;
    // One enter: submits and waits, the timeout riding in the extended argument.
    int rc = io_uring_submit_and_wait_timeout(ring, &cqe, 1, tsp, nullptr);
    ++enters_;
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY)
      throw OSError(-rc, "io_uring_enter");
  } else {
    // Enter only when there is something to submit or the kernel says it has
    // completions waiting for us to collect (TASKRUN flag); otherwise the
    // completion queue is read without a system call.
    const unsigned sq_flags = IO_URING_READ_ONCE(*ring->sq.kflags);
    if (io_uring_sq_ready(ring) > 0 || (sq_flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))) {
      int rc = io_uring_submit_and_get_events(ring);
      ++enters_;
      if (rc < 0 && rc != -EINTR && rc != -EBUSY) throw OSError(-rc, "io_uring_enter");
    }
  }
  return deliver_completions();
}

void Ring::submit_queued() noexcept {
  if (io_uring_sq_ready(&state_->ring) == 0) return;
  // A failure here (EBUSY, EINTR) leaves the SQEs queued: the next
  // submit_and_reap hands them over, as it would have anyway.
  (void)io_uring_submit(&state_->ring);
  ++enters_;
}

unsigned Ring::deliver_completions() {
  io_uring* ring = &state_->ring;
  // Copy a batch out and mark it seen before running any handler: a handler
  // that throws must not leave completions to be delivered twice.
  struct Completion {
    IoCompletion* op;
    int res;
    unsigned flags;
  };
  Completion batch[256];
  unsigned total = 0;
  for (;;) {
    io_uring_cqe* cqes[256];
    const unsigned count = io_uring_peek_batch_cqe(ring, cqes, 256);
    if (count == 0) break;
    unsigned kept = 0;
    for (unsigned i = 0; i < count; ++i) {
      const auto data = io_uring_cqe_get_data64(cqes[i]);
      // 0: a cancel request's own CQE. LIBURING_UDATA_TIMEOUT: the timeout
      // liburing queues itself on kernels without IORING_FEAT_EXT_ARG.
      if (data == 0 || data == LIBURING_UDATA_TIMEOUT) continue;
      batch[kept++] = {reinterpret_cast<IoCompletion*>(data), cqes[i]->res, cqes[i]->flags};
    }
    io_uring_cq_advance(ring, count);
    total += count;
    for (unsigned i = 0; i < kept; ++i) {
      IoCompletion* op = batch[i].op;
      op->result = batch[i].res;
      op->flags = batch[i].flags;
      if (!(batch[i].flags & IORING_CQE_F_MORE)) {  // a multishot request's last, or a single one's
        op->in_flight = false;
        --in_flight_;
      }
      if (op->on_complete) {
        op->on_complete(op);
      } else {
        loop_.schedule(op->task, op->handle);
      }
    }
    if (count < 256) break;
  }
  return total;
}

}  // namespace coring::detail
