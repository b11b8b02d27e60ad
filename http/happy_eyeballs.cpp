// Happy Eyeballs: the attempts are tasks in a TaskGroup, so none outlives
// the call, whatever ends it; the race is a loop over coring::wait.
#include "happy_eyeballs.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "coring/async_with.hpp"
#include "coring/errors.hpp"
#include "coring/task_group.hpp"
#include "coring/wait.hpp"

namespace coring::http::detail {

std::vector<SocketAddress> interleave_families(std::span<const SocketAddress> addresses) {
  // One list per family, in the order the families first appear.
  std::vector<std::vector<SocketAddress>> families;
  for (const SocketAddress& address : addresses) {
    auto same = [&address](const std::vector<SocketAddress>& f) { return f.front().family() == address.family(); };
    auto it = std::find_if(families.begin(), families.end(), same);
    if (it == families.end()) {
      families.push_back({address});
    } else {
      it->push_back(address);
    }
  }
  std::vector<SocketAddress> order;
  order.reserve(addresses.size());
  for (std::size_t i = 0; order.size() < addresses.size(); ++i)
    for (const auto& family : families)
      if (i < family.size()) order.push_back(family[i]);
  return order;
}

namespace {

/// What the attempts share, on happy_eyeballs_connect's frame.
struct Race {
  const ClientTimeout& timeout;
  HappyEyeballsResult result;

  [[nodiscard]] bool won() const noexcept { return result.socket.is_open(); }
};

/// One address under its own sock_connect. Ends by CancelledError only when
/// the race cancelled it; a failure goes into the race's result.
Task<> attempt(Race& race, SocketAddress address) {
  const TimeLimit limit = TimeLimit::from_now(race.timeout, TimeoutKind::sock_connect);
  PhaseTimeout phase(limit);
  int error = 0;
  bool timed_out = false;
  try {
    Socket socket = co_await Socket::connect(address);
    // No suspension from here on: the winner is decided in one step.
    if (race.won()) {
      socket.abort();  // another connected in the same loop pass
    } else {
      race.result = {std::move(socket), address, limit, 0, false};
    }
    co_return;
  } catch (const CancelledError&) {
    if (!phase.expired()) throw;  // asks once: the answer is consumed
    error = ETIMEDOUT;
    timed_out = true;
  } catch (const OSError& e) {
    error = e.code().value();
  }
  if (!race.won()) race.result = {Socket(), address, limit, error, timed_out};
}

/// Starts the attempts in `order`, the next one when `delay` has passed
/// since the last began or when one fails, until one connects or all have
/// failed; then cancels those still running (the group waits for them).
Task<> run_race(TaskGroup& group, Race& race, const std::vector<SocketAddress>& order,
                std::optional<std::chrono::nanoseconds> delay) {
  std::vector<TaskHandle<void>> running;
  std::size_t next = 0;
  while (!race.won()) {
    if (next < order.size()) {
      running.push_back(group.create_task(attempt(race, order[next++])));
    } else if (running.empty()) {
      break;  // every address failed
    }
    // Wakes when an attempt ends (connected: done; failed: the next starts
    // at once), or when the delay is up (the next starts beside the others).
    const std::optional<std::chrono::nanoseconds> until_next = next < order.size() ? delay : std::nullopt;
    WaitResult<void> ended = co_await coring::wait(std::move(running), ReturnWhen::first_completed, until_next);
    running = std::move(ended.pending);
  }
  for (TaskHandle<void>& loser : running) loser.cancel();
}

}  // namespace

Task<HappyEyeballsResult> happy_eyeballs_connect(std::span<const SocketAddress> addresses,
                                                 std::optional<Seconds> delay, const ClientTimeout& timeout) {
  std::optional<std::chrono::nanoseconds> stagger;  // none: one attempt at a time
  if (delay && *delay > Seconds(0)) stagger = std::chrono::duration_cast<std::chrono::nanoseconds>(*delay);
  const std::vector<SocketAddress> order = interleave_families(addresses);
  Race race{timeout, {}};
  try {
    TaskGroup group;  // a named variable: GCC 12 and braced temporaries in co_await
    co_await async_with(std::move(group),
                        [&](TaskGroup& g) { return run_race(g, race, order, stagger); });
  } catch (...) {
    // Cancelled (connect or total) as the winner came in: the caller never sees it.
    race.result.socket.abort();
    throw;
  }
  co_return std::move(race.result);
}

}  // namespace coring::http::detail
