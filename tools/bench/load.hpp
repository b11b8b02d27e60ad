#pragma once
// The load itself: connections spread over threads, one event loop per
// thread, each connection sending the same request over keep-alive, either
// as fast as answers come (closed loop, as wrk) or on a fixed schedule
// (--rate, as wrk2, latency counted from when each request was due).
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coring/http/ssl.hpp"
#include "coring/loop.hpp"
#include "coring/net.hpp"
#include "histogram.hpp"

namespace coring::bench {

using Clock = std::chrono::steady_clock;

struct LoadPlan {
  SocketAddress address;
  std::string request;  // one request's bytes, sent as they are
  bool head_request = false;
  std::size_t connections = 10;
  std::size_t threads = 1;
  std::optional<std::uint64_t> requests;          // -n: this many in all
  std::optional<Clock::duration> duration;        // -d: stop sending after this
  double rate = 0;                                // requests per second in all; 0: closed loop
  Clock::duration timeout = std::chrono::seconds(10);  // per request, connect included
  Clock::duration read_timeout{};  // between two reads of a response (a slow drip); zero: none
  std::chrono::microseconds batch_wait{0};              // EventLoopOptions::batch_wait of each thread's loop
  RingSetup ring_setup = RingSetup::defer;              // EventLoopOptions::ring_setup of each thread's loop
  /// For https: how to verify, and the name the certificate must carry.
  std::optional<http::SSLOptions> tls;
  std::string host;
  std::uint16_t port = 0;
};

/// Why a request got no usable answer (a failed TLS handshake is `connect`). `status` is a complete response with
/// a status of 400 or more; the others got no complete response at all.
enum class ErrorKind { connect, write, read, timeout, status };
inline constexpr std::size_t error_kinds = 5;
const char* error_kind_name(ErrorKind kind) noexcept;

struct LoadResult {
  LatencyHistogram latency;  // complete responses only
  std::uint64_t responses = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t connects = 0;
  std::uint64_t tls_resumed = 0;  // of the connects, those whose TLS session was resumed
  std::array<std::uint64_t, 600> statuses{};
  std::array<std::uint64_t, error_kinds> errors{};
  std::array<std::string, error_kinds> first_error;  // the message of the first of each kind
  Clock::duration elapsed{};
  std::string fatal;  // a thread that could not run at all (its loop failed)

  [[nodiscard]] std::uint64_t error_count(ErrorKind kind) const noexcept {
    return errors[static_cast<std::size_t>(kind)];
  }
  /// Requests that got no complete response (all kinds but status).
  [[nodiscard]] std::uint64_t failed_requests() const noexcept;
  void merge(const LoadResult& other);
};

class Worker;

/// Runs a plan: start() spins up the threads, the caller's thread may watch
/// progress() and call stop(), and finish() joins and sums the results.
class Load {
 public:
  explicit Load(LoadPlan plan);
  ~Load();
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  /// Starts every thread, and the clock once all are ready.
  void start();
  /// Live totals, read while the load runs.
  struct Progress {
    std::uint64_t responses = 0;
    std::uint64_t failed = 0;  // requests without a complete response
    std::size_t active = 0;    // connections still sending
    std::size_t failing = 0;   // of them, those whose last request failed
    bool done = false;         // every thread has finished
  };
  [[nodiscard]] Progress progress() const noexcept;
  /// Asks every thread to stop now; requests in flight are abandoned.
  void stop() noexcept;
  /// Waits for the threads and returns the summed result.
  LoadResult finish();

  [[nodiscard]] Clock::time_point started_at() const noexcept { return started_at_; }
  [[nodiscard]] const LoadPlan& plan() const noexcept { return plan_; }

 private:
  LoadPlan plan_;
  std::vector<std::unique_ptr<Worker>> workers_;
  Clock::time_point started_at_{};
};

}  // namespace coring::bench
