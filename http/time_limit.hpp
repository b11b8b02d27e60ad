#pragma once
// Which ClientTimeout fires first for one phase of a request, and turning
// its expiry into an http::TimeoutError that names it.
#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "coring/http/errors.hpp"
#include "coring/http/timeout.hpp"
#include "coring/http/url.hpp"
#include "coring/loop.hpp"
#include "coring/extend/timeout_scope.hpp"

namespace coring::http::detail {

using Clock = std::chrono::steady_clock;

/// Now, as the loop read it at the start of this pass (EventLoop::time):
/// for a request's timings, which would otherwise read it at every phase. Never the
/// start of a deadline: the pass may have run a while (a preempted VM), and
/// a timeout must not fire before its limit has passed since the call.
inline Clock::time_point loop_now() { return EventLoop::get().time(); }

/// Where one of a ClientTimeout's limits ends for a request: the time point
/// (what the runtime calls a deadline), which limit it is, and its size, for
/// the error message.
struct TimeLimit {
  std::optional<Clock::time_point> at;
  TimeoutKind kind = TimeoutKind::total;
  std::optional<Seconds> limit;  // for the message

  /// The `kind` limit of `timeout`, counted from `start`.
  static TimeLimit after(Clock::time_point start, const ClientTimeout& timeout, TimeoutKind kind) {
    const std::optional<Seconds>& limit = limit_of(timeout, kind);
    if (!applies(limit)) return {std::nullopt, kind, std::nullopt};
    return {end_of(start, *limit, timeout.ceil_threshold), kind, limit};
  }
  /// The same from now; the clock is read only when there is a limit.
  static TimeLimit from_now(const ClientTimeout& timeout, TimeoutKind kind) {
    const std::optional<Seconds>& limit = limit_of(timeout, kind);
    if (!applies(limit)) return {std::nullopt, kind, std::nullopt};
    return {end_of(Clock::now(), *limit, timeout.ceil_threshold), kind, limit};
  }

 private:
  // Inline, so that a constant `kind` picks its field at compile time.
  static const std::optional<Seconds>& limit_of(const ClientTimeout& timeout, TimeoutKind kind) noexcept {
    switch (kind) {
      case TimeoutKind::connect: return timeout.connect;
      case TimeoutKind::sock_connect: return timeout.sock_connect;
      case TimeoutKind::sock_read: return timeout.sock_read;
      case TimeoutKind::pool: return timeout.pool;
      case TimeoutKind::total: break;
    }
    return timeout.total;
  }
  /// As aiohttp: a limit of 0 or less is none. So is one past a billion
  /// seconds (31 years), which would overflow the clock's nanoseconds.
  static bool applies(const std::optional<Seconds>& limit) noexcept {
    return limit && *limit > Seconds(0) && *limit <= Seconds(1e9);
  }
  static Clock::time_point end_of(Clock::time_point start, Seconds limit, Seconds ceil_threshold) noexcept {
    const Clock::time_point at = start + std::chrono::duration_cast<Clock::duration>(limit);
    if (limit <= ceil_threshold) return at;
    return Clock::time_point(std::chrono::ceil<std::chrono::seconds>(at.time_since_epoch()));
  }
};

/// The earliest of several limits (those without a time point are ignored).
inline TimeLimit earliest(std::initializer_list<TimeLimit> limits) {
  TimeLimit best;
  for (const TimeLimit& d : limits)
    if (d.at && (!best.at || *d.at < *best.at)) best = d;
  return best;
}

/// http::TimeoutError naming the limit, the URL and, if given, the address
/// being connected to.
[[noreturn]] void throw_timeout(const TimeLimit& d, const URL& url, std::string_view address = {});

/// Arms a deadline on the current task for as long as it lives (a
/// TimeoutScope, so the operation under it is cancelled in the kernel).
/// After catching CancelledError, call expired() to learn if it was this.
class PhaseTimeout {
 public:
  explicit PhaseTimeout(const TimeLimit& d) : limit_(d) {
    if (d.at) scope_.emplace(*d.at);
  }
  bool expired() noexcept { return scope_ && scope_->caused_cancellation(); }
  [[noreturn]] void raise(const URL& url) const { throw_timeout(limit_, url); }

 private:
  TimeLimit limit_;
  std::optional<coring::extend::TimeoutScope> scope_;
};

}  // namespace coring::http::detail
