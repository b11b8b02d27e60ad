#pragma once
// A raw client on a loopback socket, for tests of what a server does with
// bytes no well-behaved client sends (an endless head, a smuggling attempt).
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <coring/coring.hpp>

namespace test_support {

inline coring::Task<> send_text(coring::Socket& socket, std::string_view text) {
  co_await socket.send_all(std::as_bytes(std::span(text.data(), text.size())));
}

/// Reads until `marker` is among the bytes read or the server closes the
/// connection; what was read. Bounded by the number of reads.
inline coring::Task<std::string> read_until(coring::Socket& socket, std::string marker) {
  std::string got;
  char buffer[4096];
  for (int reads = 0; reads < 10000; ++reads) {
    if (!marker.empty() && got.find(marker) != std::string::npos) break;
    const std::size_t n = co_await socket.recv(std::as_writable_bytes(std::span(buffer)));
    if (n == 0) break;
    got.append(buffer, n);
  }
  co_return got;
}

/// What the server sends until `marker` appears or it closes the
/// connection (an empty marker: until it closes); nullopt if neither
/// happened within `limit`.
inline coring::Task<std::optional<std::string>> read_within(coring::Socket& socket, std::chrono::milliseconds limit,
                                                            std::string marker = {}) {
  try {
    co_return co_await coring::wait_for(read_until(socket, std::move(marker)), limit);
  } catch (const coring::TimeoutError&) {
    co_return std::nullopt;
  }
}

}  // namespace test_support
