#pragma once
// Which ClientTimeout fires first for one phase of a request, and turning
// its expiry into an http::TimeoutError that names it.
#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>

#include "coring/http/errors.hpp"
#include "coring/http/timeout.hpp"
#include "coring/http/url.hpp"
#include "coring/loop.hpp"
#include "coring/wait.hpp"

namespace coring::http::detail {

using Clock = std::chrono::steady_clock;

/// Now, as the loop read it at the start of this pass (EventLoop::time):
/// for a request's timings, which read the clock a dozen times. Never the
/// start of a deadline: the pass may have run a while (a preempted VM), and
/// a timeout must not fire before its limit has passed since the call.
inline Clock::time_point loop_now() { return EventLoop::get().time(); }

struct Deadline {
  std::optional<Clock::time_point> at;
  TimeoutKind kind = TimeoutKind::total;
  std::optional<Seconds> limit;  // for the message

  static Deadline after(Clock::time_point start, std::optional<Seconds> limit, TimeoutKind kind) {
    if (!limit) return {std::nullopt, kind, std::nullopt};
    return {start + std::chrono::duration_cast<Clock::duration>(*limit), kind, limit};
  }
  /// `limit` from now; the clock is read only when there is a limit.
  static Deadline from_now(std::optional<Seconds> limit, TimeoutKind kind) {
    if (!limit) return {std::nullopt, kind, std::nullopt};
    return after(Clock::now(), limit, kind);
  }
};

/// The earliest of several deadlines (those without one are ignored).
inline Deadline earliest(std::initializer_list<Deadline> deadlines) {
  Deadline best;
  for (const Deadline& d : deadlines)
    if (d.at && (!best.at || *d.at < *best.at)) best = d;
  return best;
}

[[noreturn]] void throw_timeout(const Deadline& d, const URL& url);

/// Arms a deadline on the current task for as long as it lives (a
/// TimeoutScope, so the operation under it is cancelled in the kernel).
/// After catching CancelledError, call expired() to learn if it was this.
class PhaseDeadline {
 public:
  explicit PhaseDeadline(const Deadline& d) : deadline_(d) {
    if (d.at) scope_.emplace(*d.at);
  }
  bool expired() noexcept { return scope_ && scope_->caused_cancellation(); }
  [[noreturn]] void raise(const URL& url) const { throw_timeout(deadline_, url); }

 private:
  Deadline deadline_;
  std::optional<coring::detail::TimeoutScope> scope_;
};

}  // namespace coring::http::detail
