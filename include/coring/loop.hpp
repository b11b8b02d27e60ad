#pragma once
// coring::EventLoop: one single-threaded loop per thread, on io_uring.
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "coring/detail/io_completion.hpp"
#include "coring/detail/task_base.hpp"
#include "coring/detail/timer_heap.hpp"
#include "coring/task.hpp"

namespace coring {

class EventLoop;

namespace detail {
class Ring;
class RemoteQueue;

/// The loop of this thread (EventLoop::get): constant-initialised, so that a
/// read is one load, with no call to the thread's TLS initialisation.
extern thread_local constinit EventLoop* this_thread_loop;
[[noreturn]] void throw_no_loop();

struct ReadyEntry {
  TaskBase* task;
  std::coroutine_handle<> handle;
};

/// FIFO of coroutines to resume, on a power-of-two ring buffer that only
/// grows: the steady state allocates nothing.
class ReadyQueue {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == tail_; }
  [[nodiscard]] std::size_t size() const noexcept { return tail_ - head_; }
  void push(ReadyEntry e) {
    if (size() == slots_.size()) grow();
    slots_[tail_++ & (slots_.size() - 1)] = e;
  }
  ReadyEntry pop() noexcept { return slots_[head_++ & (slots_.size() - 1)]; }

 private:
  void grow();
  std::vector<ReadyEntry> slots_;
  std::size_t head_ = 0, tail_ = 0;
};
}  // namespace detail

/// How the kernel runs the work that completes the ring's operations (its
/// "task work"), which decides when completions interrupt the loop's thread.
enum class RingSetup {
  /// SINGLE_ISSUER|DEFER_TASKRUN: completions wait until the loop asks for
  /// them, so the running task is never interrupted. The kernel refusing
  /// it, the loop falls back to `coop`, then to `none`.
  defer,
  /// COOP_TASKRUN: completions are run at the thread's next kernel entry,
  /// without an interrupt; falls back to `none`.
  coop,
  /// No task-running flag: each completion may interrupt the running task
  /// (an IPI when it completes on another CPU). For measuring what the
  /// others give, not for use.
  none,
};

struct EventLoopOptions {
  /// Submission queue size; the completion queue gets four times as many.
  unsigned ring_entries = 1024;
  /// The best setup to try first (ring_features() says which one the kernel took).
  RingSetup ring_setup = RingSetup::defer;
  /// Batched waiting: when the loop has nothing to run, it sleeps until
  /// half of its operations in flight have completed or `batch_wait` has
  /// passed, whichever is first (then it takes what has come, at least one).
  /// Under load, fewer and larger wake-ups cost less CPU per operation
  /// (bench/RESULTS.md, "Batched waiting", has the figures), at the price
  /// of up to `batch_wait` of added latency.
  /// Zero (the default) wakes for every completion. Needs Linux 6.12
  /// (IORING_FEAT_MIN_TIMEOUT); ignored on older kernels.
  std::chrono::microseconds batch_wait{0};
};

/// The event loop of this thread. Most programs never touch it: `coring::run`
/// makes one, runs a task on it and closes it. Tasks, timers and I/O of a loop
/// belong to its thread; `call_soon_threadsafe` is the one way in from others.
///
/// One pass (`run_once`): resume the coroutines that were ready when the pass
/// began; fire the timers due when it began (64 at most), in deadline order,
/// the first coroutine each timer wakes resuming at once (any other it wakes,
/// and whatever those wake, run next pass); then one io_uring_enter at most,
/// which submits every queued operation and, only when nothing is ready to
/// run, waits for a completion or the next timer; then every completion is
/// taken in one sweep.
class EventLoop {
 public:
  using clock = std::chrono::steady_clock;

  explicit EventLoop(EventLoopOptions options = {});
  ~EventLoop();  ///< cancels and finishes the tasks still running, then closes the ring
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// The loop made on this thread, or nullptr.
  static EventLoop* current() noexcept { return detail::this_thread_loop; }
  /// The loop made on this thread; throws RuntimeError if there is none.
  static EventLoop& get() {
    EventLoop* loop = detail::this_thread_loop;
    if (loop == nullptr) [[unlikely]] detail::throw_no_loop();
    return *loop;
  }

  /// Runs `task` on this loop until it finishes; returns its value or
  /// rethrows its exception. Throws RuntimeError when called from inside a task
  /// of this loop (the loop is already running). Defined in coring/run.hpp.
  template <class T>
  T run_until_complete(Task<T> task);

  /// Queues `fn` to run on this loop's thread, from any thread. Safe to call
  /// while the loop waits in the kernel: it is woken through an eventfd.
  void call_soon_threadsafe(std::function<void()> fn);

  /// Which io_uring setup flags the kernel accepted, e.g. "SINGLE_ISSUER|DEFER_TASKRUN".
  [[nodiscard]] std::string ring_features() const;
  /// Number of io_uring_enter calls so far (for benchmarks and tests).
  [[nodiscard]] std::uint64_t enter_count() const noexcept;
  [[nodiscard]] std::size_t live_tasks() const noexcept { return live_tasks_; }
  /// The loop's clock, read once per pass, before the pass resumes anything
  /// (libuv's uv_now): for deadlines and timings on hot paths, where a clock
  /// read per use adds up. Behind the true time by at most the time the pass
  /// has run so far.
  [[nodiscard]] clock::time_point time() const noexcept { return time_; }
  [[nodiscard]] std::size_t pending_timers() const noexcept { return timers_.size(); }

  // ---- used by awaitables and the runtime; not needed by applications ----
  /// The task whose coroutine chain is running now (nullptr between tasks).
  [[nodiscard]] detail::TaskBase* current_task() const noexcept { return current_; }
  void schedule(detail::TaskBase* task, std::coroutine_handle<> handle) {
    if (timer_wake_ != nullptr) [[unlikely]] {  // the first wake-up of a firing timer: run at once
      *std::exchange(timer_wake_, nullptr) = {task, handle};
      return;
    }
    ready_.push({task, handle});
  }
  void spawn(detail::TaskBase& task, std::coroutine_handle<> frame);
  void add_timer(detail::TimerNode* node) { timers_.push(node); }
  void remove_timer(detail::TimerNode* node) noexcept { timers_.remove(node); }
  [[nodiscard]] detail::Ring& ring() noexcept { return *ring_; }
  void task_finished(detail::TaskBase& task) noexcept;

 private:
  /// Runs passes until `task` is done (run_until_complete's loop).
  void run_until(const detail::TaskBase& task);
  /// One pass; it may wait in the kernel unless `until` is done (or, for
  /// nullptr, no task is left).
  void run_once(const detail::TaskBase* until);
  void fire_due_timers();
  void cancel_all_tasks();

  detail::ReadyQueue ready_;
  detail::TimerHeap timers_;
  detail::IntrusiveList<detail::TaskBase> tasks_;
  std::size_t live_tasks_ = 0;
  detail::TaskBase* current_ = nullptr;
  detail::ReadyEntry* timer_wake_ = nullptr;  // set only while a timer's on_timer runs
  bool running_ = false;
  std::chrono::microseconds batch_wait_;
  clock::time_point time_ = clock::now();
  std::unique_ptr<detail::Ring> ring_;
  std::unique_ptr<detail::RemoteQueue> remote_;
};

}  // namespace coring
