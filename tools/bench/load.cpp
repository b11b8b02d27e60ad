// The load's workers: a loop per thread, its connections (plain or TLS,
// closed loop or on a --rate schedule), and the start, stop and sum of them all.
#include "load.hpp"

#include <algorithm>
#include <future>
#include <mutex>
#include <thread>

#include "coring/coring.hpp"
#include "coring/http/errors.hpp"
#include "parser.hpp"  // http/: the client's llhttp response parser
#include "tls.hpp"     // http/: TLS over the loop's sockets

namespace coring::bench {

const char* error_kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::connect: return "connect";
    case ErrorKind::write: return "write";
    case ErrorKind::read: return "read";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::status: return "status >= 400";
  }
  return "?";
}

std::uint64_t LoadResult::failed_requests() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t k = 0; k < error_kinds; ++k)
    if (static_cast<ErrorKind>(k) != ErrorKind::status) n += errors[k];
  return n;
}

void LoadResult::merge(const LoadResult& other) {
  latency.merge(other.latency);
  responses += other.responses;
  bytes_read += other.bytes_read;
  connects += other.connects;
  tls_resumed += other.tls_resumed;
  for (std::size_t i = 0; i < statuses.size(); ++i) statuses[i] += other.statuses[i];
  for (std::size_t k = 0; k < error_kinds; ++k) {
    errors[k] += other.errors[k];
    if (first_error[k].empty()) first_error[k] = other.first_error[k];
  }
  if (fatal.empty()) fatal = other.fatal;
  elapsed = std::max(elapsed, other.elapsed);
}

namespace {

std::string seconds_text(Clock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", std::chrono::duration<double>(d).count());
  return text;
}

}  // namespace

/// One thread: its loop, its share of the connections and of the requests.
class Worker {
 public:
  Worker(const LoadPlan& plan, std::size_t first_connection, std::size_t connections, std::uint64_t tickets)
      : plan_(plan), first_connection_(first_connection), connections_(connections), tickets_(tickets) {}

  void start_thread(std::promise<void>& ready) {
    thread_ = std::thread([this, &ready] {
      try {
        EventLoopOptions options;
        options.batch_wait = plan_.batch_wait;
        options.ring_setup = plan_.ring_setup;
        run(main(ready), options);
      } catch (const std::exception& e) {
        if (!ready_told_) {
          ready.set_exception(std::current_exception());
        } else {
          result_.fatal = e.what();
        }
      }
      done_.store(true, std::memory_order_release);
    });
  }
  /// From another thread: begin the load (all threads at the same moment).
  void go(Clock::time_point start) {
    post([this, start] {
      start_ = start;
      go_.set();
    });
  }
  /// From another thread: end the load now.
  void stop() noexcept {
    post([this] {
      stopping_ = true;
      go_.set();
      if (load_) load_->cancel();
    });
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] const LoadResult& result() const noexcept { return result_; }

  std::atomic<std::uint64_t> live_responses{0};
  std::atomic<std::uint64_t> live_failed{0};
  /// Connections still running, and those of them whose last request failed.
  std::atomic<std::size_t> live_active{0};
  std::atomic<std::size_t> live_failing{0};
  [[nodiscard]] bool done() const noexcept { return done_.load(std::memory_order_acquire); }

 private:
  /// Runs `fn` on this worker's loop, if it still runs (else nothing to do).
  template <class F>
  void post(F fn) {
    std::lock_guard lock(mutex_);
    if (loop_) loop_->call_soon_threadsafe(std::move(fn));
  }

  /// Unpublishes the loop however main() ends (an exception included):
  /// stop() must never post to a loop that is gone.
  struct Unpublish {
    Worker& worker;
    ~Unpublish() {
      std::lock_guard lock(worker.mutex_);
      worker.loop_ = nullptr;
      worker.load_ = nullptr;
    }
  };

  Task<> main(std::promise<void>& ready) {
    // One TLS context per thread: its session cache is the thread's own.
    if (plan_.tls) tls_context_ = http::detail::TLSContext::client(*plan_.tls);
    {
      std::lock_guard lock(mutex_);
      loop_ = &EventLoop::get();
    }
    Unpublish unpublish{*this};
    ready_told_ = true;
    ready.set_value();
    co_await go_.wait();
    if (!stopping_) {
      auto load = create_task(drive_all());
      load_ = &load;
      try {
        co_await load;
      } catch (const CancelledError&) {
      }
      load_ = nullptr;
    }
    result_.elapsed = Clock::now() - start_;
  }

  /// Keeps live_active and live_failing right for one connection.
  struct ConnectionHealth {
    Worker& worker;
    bool failing = false;
    explicit ConnectionHealth(Worker& w) : worker(w) { bump(worker.live_active, +1); }
    ~ConnectionHealth() {
      set_failing(false);
      bump(worker.live_active, -1);
    }
    void set_failing(bool now) {
      if (now != failing) bump(worker.live_failing, now ? +1 : -1);
      failing = now;
    }
    static void bump(std::atomic<std::size_t>& counter, int by) {  // one writer: this thread
      counter.store(counter.load(std::memory_order_relaxed) + static_cast<std::size_t>(by), std::memory_order_relaxed);
    }
  };

  Task<> drive_all() {
    std::vector<Task<>> connections;
    for (std::size_t i = 0; i < connections_; ++i) connections.push_back(drive(first_connection_ + i));
    if (!plan_.duration) co_return co_await gather(std::move(connections));
    try {
      co_await wait_for(gather(std::move(connections)), *plan_.duration - (Clock::now() - start_));
    } catch (const TimeoutError&) {  // the time is up: requests in flight are dropped
    }
  }

  bool take_ticket() noexcept {
    if (plan_.requests) {
      if (tickets_ == 0) return false;
      --tickets_;
    }
    return !plan_.duration || Clock::now() - start_ < *plan_.duration;
  }

  void count_error(ErrorKind kind, std::string_view why) {
    const auto k = static_cast<std::size_t>(kind);
    ++result_.errors[k];
    if (result_.first_error[k].empty()) result_.first_error[k] = why;
    if (kind != ErrorKind::status) live_failed.store(live_failed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  /// One connection: the same request again and again, reconnecting after
  /// errors and after a response that ends the connection.
  Task<> drive(std::size_t index) {
    using namespace std::chrono;
    http::detail::ResponseParser parser({.discard_body = true});  // counted, never looked at
    // Plain connections read through a multishot receive (no request per
    // read). TLS reads records into a buffer of its own, and those add up:
    // 4 MiB in all, between 4 and 64 KiB each. Large reads are best for a
    // few connections (one read per response), small ones for many
    // (bench/history/2026-11-25.md and 2026-12-02.md have the figures).
    const std::size_t buffer_size = std::clamp<std::size_t>((std::size_t{4} << 20) / plan_.connections, 4096, 65536);
    std::unique_ptr<std::byte[]> buffer;  // for TLS only
    if (plan_.tls) buffer = std::make_unique<std::byte[]>(buffer_size);
    Socket socket;
    std::optional<MultishotReceiver> receiver;     // over `socket`, for http; gone before it closes
    std::unique_ptr<http::detail::TLSStream> tls;  // over `socket`, for https
    ConnectionHealth health(*this);
    // With --rate, each connection has its own schedule, offset so that the
    // connections take turns rather than fire together.
    const auto interval = plan_.rate > 0 ? duration_cast<Clock::duration>(duration<double>(
                                               static_cast<double>(plan_.connections) / plan_.rate))
                                         : Clock::duration{};
    auto due = start_ + interval * index / plan_.connections;
    const auto request = std::as_bytes(std::span(plan_.request.data(), plan_.request.size()));
    try {
      while (take_ticket()) {
        if (plan_.rate > 0) {
          const auto now = Clock::now();
          if (now < due) co_await sleep(due - now);
          if (!has_time_left()) break;
        } else {
          due = Clock::now();
        }
        enum class Phase { connect, write, read } phase = Phase::connect;
        std::string failure;
        bool timed_out = false;
        bool read_timed_out = false;  // no byte for read_timeout
        bool complete = false;
        bool reusable = false;
        try {
          coring::detail::TimeoutScope deadline(plan_.timeout);
          try {
            if (!socket.is_open()) {
              tls.reset();
              socket = co_await Socket::connect(plan_.address);
              ++result_.connects;
              if (tls_context_) {
                tls = std::make_unique<http::detail::TLSStream>(tls_context_, socket);
                co_await tls->connect(plan_.host, plan_.port);
                if (tls->resumed()) ++result_.tls_resumed;
              } else {
                receiver.emplace(socket);
              }
            }
            phase = Phase::write;
            if (tls) {
              co_await tls->write(request);
            } else {
              co_await socket.send_all(request);
            }
            phase = Phase::read;
            parser.start(plan_.head_request);
            while (!complete) {
              std::span<const std::byte> received;
              std::optional<coring::detail::TimeoutScope> read_deadline;  // none unless asked for: no timer a read
              if (plan_.read_timeout.count() > 0) read_deadline.emplace(plan_.read_timeout);
              try {
                if (tls) {
                  const std::size_t got = co_await tls->read(std::span(buffer.get(), buffer_size));
                  received = std::span(buffer.get(), got);
                } else {
                  received = co_await receiver->receive();
                }
              } catch (const CancelledError&) {
                if (!read_deadline || !read_deadline->caused_cancellation()) throw;
                read_timed_out = true;
                break;
              }
              const std::size_t n = received.size();
              if (n == 0) {
                parser.finish();
                if (parser.message_complete()) {
                  complete = true;
                } else {
                  failure = parser.started() ? "the server closed the connection in the middle of a response"
                                             : "the server closed the connection without answering";
                }
                break;
              }
              result_.bytes_read += n;
              const std::size_t used = parser.feed({reinterpret_cast<const char*>(received.data()), n});
              if (parser.failed()) {
                failure = "malformed response: " + parser.error();
                break;
              }
              if (parser.message_complete()) {
                complete = true;
                reusable = parser.keep_alive() && used == n;  // extra bytes: the stream is out of step
              }
            }
          } catch (const CancelledError&) {
            if (!deadline.caused_cancellation()) throw;
            timed_out = true;
          }
        } catch (const OSError& e) {
          failure = e.what();
        } catch (const http::ClientError& e) {  // TLS: a failed handshake, or a broken record
          failure = e.what();
        }
        health.set_failing(!complete);
        if (complete) {
          const auto latency = duration_cast<nanoseconds>(Clock::now() - due).count();
          result_.latency.record(static_cast<std::uint64_t>(latency));
          ++result_.responses;
          live_responses.store(result_.responses, std::memory_order_relaxed);
          const int status = parser.head().status;
          if (status >= 0 && static_cast<std::size_t>(status) < result_.statuses.size())
            ++result_.statuses[static_cast<std::size_t>(status)];
          if (status >= 400) count_error(ErrorKind::status, "HTTP " + std::to_string(status));
        } else if (timed_out) {
          count_error(ErrorKind::timeout, "no complete response within " + seconds_text(plan_.timeout));
        } else if (read_timed_out) {
          count_error(ErrorKind::timeout, "no response byte for " + seconds_text(plan_.read_timeout));
        } else {
          count_error(phase == Phase::connect ? ErrorKind::connect
                      : phase == Phase::write ? ErrorKind::write
                                              : ErrorKind::read,
                      failure);
        }
        if (!reusable && socket.is_open()) {
          tls.reset();
          receiver.reset();
          co_await socket.close();
        }
        if (!complete && phase == Phase::connect) co_await sleep(milliseconds(10));  // no busy loop on a refusing server
        due += interval;
      }
    } catch (const CancelledError&) {
      tls.reset();
      receiver.reset();
      socket.abort();  // the run is over: in flight requests are dropped
      throw;
    }
    tls.reset();
    receiver.reset();
    if (socket.is_open()) co_await socket.close();
  }

  /// The -d duration has not run out (always true without -d).
  [[nodiscard]] bool has_time_left() const noexcept {
    return !plan_.duration || Clock::now() - start_ < *plan_.duration;
  }

  const LoadPlan& plan_;
  std::size_t first_connection_;
  std::size_t connections_;
  std::uint64_t tickets_;
  LoadResult result_;
  Clock::time_point start_{};
  Event go_;
  bool stopping_ = false;
  bool ready_told_ = false;
  TaskHandle<void>* load_ = nullptr;
  std::shared_ptr<http::detail::TLSContext> tls_context_;
  std::mutex mutex_;  // guards loop_, which other threads post to
  EventLoop* loop_ = nullptr;
  std::thread thread_;
  std::atomic<bool> done_{false};
};

Load::Load(LoadPlan plan) : plan_(std::move(plan)) {
  plan_.threads = std::max<std::size_t>(1, std::min(plan_.threads, plan_.connections));
  std::size_t first = 0;
  std::uint64_t tickets_given = 0;
  for (std::size_t t = 0; t < plan_.threads; ++t) {
    const std::size_t connections = plan_.connections / plan_.threads + (t < plan_.connections % plan_.threads);
    std::uint64_t tickets = 0;
    if (plan_.requests) {  // shared in proportion to connections
      const std::uint64_t upto = *plan_.requests * (first + connections) / plan_.connections;
      tickets = upto - tickets_given;
      tickets_given = upto;
    }
    workers_.push_back(std::make_unique<Worker>(plan_, first, connections, tickets));
    first += connections;
  }
}

Load::~Load() {
  stop();
  for (auto& worker : workers_) worker->join();
}

void Load::start() {
  for (auto& worker : workers_) {
    std::promise<void> ready;
    auto ready_future = ready.get_future();
    worker->start_thread(ready);
    ready_future.get();
  }
  started_at_ = Clock::now();
  for (auto& worker : workers_) worker->go(started_at_);
}

Load::Progress Load::progress() const noexcept {
  Progress p;
  p.done = true;
  for (const auto& worker : workers_) {
    p.responses += worker->live_responses.load(std::memory_order_relaxed);
    p.failed += worker->live_failed.load(std::memory_order_relaxed);
    p.active += worker->live_active.load(std::memory_order_relaxed);
    p.failing += worker->live_failing.load(std::memory_order_relaxed);
    p.done = p.done && worker->done();
  }
  return p;
}

void Load::stop() noexcept {
  for (auto& worker : workers_) worker->stop();
}

LoadResult Load::finish() {
  LoadResult total;
  for (auto& worker : workers_) {
    worker->join();
    total.merge(worker->result());
  }
  return total;
}

}  // namespace coring::bench
