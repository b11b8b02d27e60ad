#pragma once
// Happy Eyeballs (RFC 8305): connecting to the first of a host's addresses
// to answer, attempts started `delay` apart, as aiohttp's
// happy_eyeballs_delay/interleave, curl's and undici's.
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "coring/net.hpp"
#include "coring/task.hpp"
#include "time_limit.hpp"

namespace coring::http::detail {

/// `addresses` reordered so that address families alternate, starting with
/// the first one's family (RFC 8305 section 4; aiohttp's `interleave=1`);
/// each family keeps the resolver's order. [v6a, v6b, v4a, v4b, v4c] gives
/// [v6a, v4a, v6b, v4b, v4c].
std::vector<SocketAddress> interleave_families(std::span<const SocketAddress> addresses);

/// What happy_eyeballs_connect ends with.
struct HappyEyeballsResult {
  /// Open when an address connected; the caller owns it from then on.
  Socket socket;
  /// The address connected to, or else the last one to fail (in time).
  SocketAddress address;
  /// The sock_connect limit of the attempt that connected (the TLS
  /// handshake and a proxy tunnel go on under it), or of the last to fail.
  TimeLimit limit;
  /// When none connected: the last failure's errno (ETIMEDOUT when its
  /// sock_connect expired, then `timed_out`); 0 when there was no address.
  int error = 0;
  bool timed_out = false;
};

/// Connects to `addresses` (in the resolver's order) interleaved by family:
/// starts the first attempt, and the next one `delay` after the last began,
/// or at once when an attempt fails; the first to connect wins and the
/// others are cancelled in the kernel. No `delay` (or 0 or less): one
/// attempt at a time, each after the last failed. Each attempt is bounded by
/// `timeout.sock_connect` on its own; an attempt whose limit expires has
/// failed, and the next is tried. Failing to connect is a result, not an
/// exception. Cancelling the caller (a connect or total limit) cancels every
/// attempt and raises CancelledError. Every attempt task has finished and
/// every losing socket is closed when this returns or throws; `addresses`
/// and `timeout` must live until then.
Task<HappyEyeballsResult> happy_eyeballs_connect(std::span<const SocketAddress> addresses,
                                                 std::optional<Seconds> delay, const ClientTimeout& timeout);

}  // namespace coring::http::detail
