#pragma once
// Host name resolution that never blocks the loop: c-ares, its sockets
// watched with coring::poll and its timeouts on a loop timer. resolver.cpp
// is the one file that includes c-ares. Answers are cached per session.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "coring/net.hpp"
#include "coring/task.hpp"

namespace coring::http::detail {

class Resolver {
 public:
  struct Options {
    /// "ip[:port]" name servers; empty: those of /etc/resolv.conf.
    std::vector<std::string> servers;
    std::chrono::seconds cache_ttl{10};  // aiohttp's ttl_dns_cache
  };
  explicit Resolver(Options options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  /// Every address of `host` (from /etc/hosts or DNS, IPv6 and IPv4) with
  /// `port`. Numeric hosts return at once. Throws ClientConnectorError
  /// naming the host and c-ares' reason. `cache_hit` tells if the answer came
  /// from the cache.
  Task<std::vector<SocketAddress>> resolve(const std::string& host, std::uint16_t port, bool& cache_hit);
  /// Stops: cancels the pending socket watches (queries still pending fail).
  void close() noexcept;
  [[nodiscard]] std::size_t cached_hosts() const noexcept { return cache_.size(); }

  struct State;

 private:
  struct CacheEntry {
    std::vector<SocketAddress> addresses;  // port 0
    std::chrono::steady_clock::time_point expires;
  };
  std::shared_ptr<State> state_;
  Options options_;
  std::unordered_map<std::string, CacheEntry> cache_;
  // Expired answers are dropped when the table reaches this size, which is
  // then set to twice what is left: a client that meets many hosts keeps
  // about twice the live answers, for O(1) per lookup.
  std::size_t sweep_at_ = 64;
};

}  // namespace coring::http::detail
