// EventLoop: its passes (ready coroutines, due timers, one io_uring_enter)
// and its close, which cancels what still runs and waits out what is in flight.
#include "coring/loop.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "coring/errors.hpp"
#include "remote_queue.hpp"
#include "ring.hpp"

namespace coring {

namespace detail {
thread_local constinit EventLoop* this_thread_loop = nullptr;

void throw_no_loop() { throw RuntimeError("no event loop on this thread: start one with coring::run()"); }
}  // namespace detail

using detail::this_thread_loop;

void detail::ReadyQueue::grow() {
  const std::size_t old_capacity = slots_.size();
  std::vector<ReadyEntry> bigger(std::max<std::size_t>(64, old_capacity * 2));
  for (std::size_t i = 0; i < size(); ++i) bigger[i] = slots_[(head_ + i) & (old_capacity - 1)];
  tail_ = size();
  head_ = 0;
  slots_ = std::move(bigger);
}

EventLoop::EventLoop(EventLoopOptions options) : batch_wait_(options.batch_wait) {
  if (this_thread_loop != nullptr) throw RuntimeError("this thread already has an event loop");
  ring_ = std::make_unique<detail::Ring>(*this, options);
  remote_ = std::make_unique<detail::RemoteQueue>(*this);
  this_thread_loop = this;
}

EventLoop::~EventLoop() {
  // asyncio.run's ending: cancel what still runs and let it finish, so every
  // frame is freed and no kernel operation outlives its buffer.
  try {
    cancel_all_tasks();
    remote_->stop();
    // What is still in flight belongs to no task: an armed multishot receive
    // (its receiver outlived every task) would otherwise be waited for forever.
    if (ring_->in_flight() > 1) ring_->prep_cancel_everything();
    while (ring_->in_flight() > 0) ring_->submit_and_reap(true, std::nullopt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coring: error while closing the event loop: %s\n", e.what());
  }
  remote_.reset();
  ring_.reset();
  this_thread_loop = nullptr;
}

void EventLoop::call_soon_threadsafe(std::function<void()> fn) { remote_->push(std::move(fn)); }

std::string EventLoop::ring_features() const { return ring_->features(); }

std::uint64_t EventLoop::enter_count() const noexcept { return ring_->enter_count(); }

void EventLoop::spawn(detail::TaskBase& task, std::coroutine_handle<> frame) {
  task.spawned = true;
  task.self = frame;
  task.loop = this;
  tasks_.push_back(&task);
  ++live_tasks_;
  schedule(&task, frame);
}

void EventLoop::task_finished(detail::TaskBase& task) noexcept {
  detail::IntrusiveList<detail::TaskBase>::remove(&task);
  --live_tasks_;
}

void EventLoop::run_until(const detail::TaskBase& task) {
  if (running_) throw RuntimeError("this event loop is already running (run_until_complete inside a task)");
  running_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{running_};
  while (!task.done) run_once(&task);
}

void EventLoop::cancel_all_tasks() {
  running_ = true;
  // A task may start others while it unwinds: cancel those too, until none is left.
  while (live_tasks_ > 0) {
    tasks_.for_each([](detail::TaskBase* t) {
      if (!t->cancelled_at_shutdown) {
        t->cancelled_at_shutdown = true;
        t->cancel();
      }
    });
    run_once(nullptr);
  }
  running_ = false;
}

void EventLoop::fire_due_timers() {
  if (timers_.empty()) return;
  const auto now = time_;
  // A bounded batch per pass, so I/O completions get a look between batches.
  // The coroutine a timer wakes resumes here, right after its timer, not
  // from the ready queue after the whole batch: its frame is still in cache.
  // A timer those coroutines arm waits for the next pass, even if already due: a
  // retry loop on an expired deadline turns once per pass, not 64 times.
  constexpr std::size_t timers_per_pass = 64;
  const std::uint64_t armed_before = timers_.next_sequence();
  for (std::size_t fired = 0; fired < timers_per_pass; ++fired) {
    detail::TimerNode* next = timers_.pop_due(now, armed_before);
    if (next == nullptr) break;
    detail::ReadyEntry woken{};
    timer_wake_ = &woken;
    next->on_timer();
    timer_wake_ = nullptr;  // a timer that woke nobody
    if (woken.handle) {
      current_ = woken.task;
      woken.handle.resume();
      current_ = nullptr;  // on_timer runs outside any task
    }
  }
}

void EventLoop::run_once(const detail::TaskBase* until) {
  time_ = clock::now();

  // Run only the coroutines that were ready when this pass began, then the
  // timers that were due (and the coroutine each wakes first); what all of
  // these wake runs next pass, after another look at the ring (asyncio's
  // fairness rule).
  for (std::size_t n = ready_.size(); n != 0; --n) {
    detail::ReadyEntry entry = ready_.pop();
    current_ = entry.task;
    entry.handle.resume();
  }
  current_ = nullptr;
  fire_due_timers();

  // Wait in the kernel only when nothing can run: not while coroutines are
  // ready, and not past the nearest timer.
  const bool finished = until != nullptr ? until->done : live_tasks_ == 0;
  bool wait = !finished && ready_.empty();
  std::optional<std::chrono::nanoseconds> timeout;
  if (wait && !timers_.empty()) {
    const auto left = timers_.top()->deadline - clock::now();
    if (left <= std::chrono::nanoseconds::zero()) {
      wait = false;
    } else {
      timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(left);
    }
  }
  // Batched waiting: a wake-up for half of what is in flight, but never past
  // batch_wait_ nor the nearest timer.
  unsigned batch = 1;
  auto batch_wait = batch_wait_;
  if (wait && batch_wait.count() > 0) {
    batch = std::max(1U, ring_->in_flight() / 2);
    if (timeout && *timeout < batch_wait) batch_wait = std::chrono::duration_cast<std::chrono::microseconds>(*timeout);
  }
  ring_->submit_and_reap(wait, timeout, batch, batch_wait);
}

}  // namespace coring
