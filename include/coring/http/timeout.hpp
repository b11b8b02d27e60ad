#pragma once
// coring::http::ClientTimeout: aiohttp's ClientTimeout, plus `pool`.
#include <chrono>
#include <optional>

namespace coring::http {

using Seconds = std::chrono::duration<double>;

/// Each field is a limit, or nullopt for none (as is 0 or less, as in
/// aiohttp, and anything over 31 years). Defaults are aiohttp's: 300 s
/// in all and 30 s to open a socket. Unlike aiohttp, setting one field keeps
/// the other defaults: `ClientTimeout{.total = 60s}` still has sock_connect 30 s.
struct ClientTimeout {
  /// The whole request: waiting for a pooled connection, connecting, sending
  /// (waiting for a streamed body's chunks included), and reading the
  /// response to its last body byte.
  std::optional<Seconds> total = Seconds(300);
  /// Waiting for a pooled connection plus connecting a new one.
  std::optional<Seconds> connect = std::nullopt;
  /// Connecting to one address of a new connection, and its proxy tunnel
  /// and TLS handshake: each address tried has its own (unlike aiohttp's,
  /// one for them all), so one that never answers costs this long before
  /// the next is tried, if TCPConnector::happy_eyeballs_delay has not
  /// started it already.
  std::optional<Seconds> sock_connect = Seconds(30);
  /// The longest wait for the next bytes from the server.
  std::optional<Seconds> sock_read = std::nullopt;
  /// Waiting for a free connection when the pool is at its limit, alone:
  /// tells queueing apart from a slow server (aiohttp has no such field).
  std::optional<Seconds> pool = std::nullopt;
  /// A limit longer than this ends at the next whole second of the steady
  /// clock, as aiohttp's: the deadlines of requests begun within one second
  /// are then equal, and queue in the loop's O(1) timer run instead of its
  /// heap. A limit at or under it ends exactly when due.
  Seconds ceil_threshold = Seconds(5);
};

}  // namespace coring::http
