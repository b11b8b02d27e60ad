// Happy Eyeballs (http/happy_eyeballs.cpp) and the connect limits, on
// loopback: an address that never answers is a listener whose backlog is
// full (Linux then drops further SYNs, so connect hangs), beside one that
// answers. Checks the race directly on addresses, then through
// ClientSession with a fake DNS server giving a host both addresses; that
// sock_connect and connect fire and say so; that nothing is left after.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>
#include <string>
#include <vector>

#include "../../http/happy_eyeballs.hpp"
#include "../support/fake_dns.hpp"
#include "../support/fault_routes.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using coring::http::detail::happy_eyeballs_connect;
using coring::http::detail::HappyEyeballsResult;
using coring::http::detail::interleave_families;
using test_support::open_fd_count;
using test_support::with_session;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// A TCP listener nobody accepts from, its backlog filled: a connect to it
/// gets no answer to its SYN and hangs. Plain blocking sockets, no loop.
class Blackhole {
 public:
  /// On `host` ("127.0.0.1", "::1"), port `port` (0: any free one).
  explicit Blackhole(const std::string& host, std::uint16_t port = 0) {
    address_ = SocketAddress::ip(host, port);
    listener_ = ::socket(address_.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    REQUIRE(::bind(listener_, address_.native(), address_.native_size()) == 0);
    REQUIRE(::listen(listener_, 0) == 0);
    sockaddr_storage bound{};
    socklen_t size = sizeof bound;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &size);
    address_ = SocketAddress::from_native(reinterpret_cast<sockaddr*>(&bound), size);
    // Connections the queue takes until one is left waiting (one, on Linux 6).
    for (int i = 0; i < 8; ++i) {
      const int fd = ::socket(address_.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      ::connect(fd, address_.native(), address_.native_size());
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 100) == 0) {
        ::close(fd);  // no answer: the queue is full
        return;
      }
      fillers_.push_back(fd);
    }
    FAIL("the listener's queue never filled: connects to it would not hang");
  }
  ~Blackhole() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }
  Blackhole(const Blackhole&) = delete;
  Blackhole& operator=(const Blackhole&) = delete;

  [[nodiscard]] const SocketAddress& address() const { return address_; }
  [[nodiscard]] std::uint16_t port() const { return address_.port(); }

 private:
  SocketAddress address_;
  int listener_ = -1;
  std::vector<int> fillers_;
};

/// A port on 127.0.0.1 where nothing listens: connects are refused.
SocketAddress refusing_address() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SocketAddress any = SocketAddress::ip("127.0.0.1", 0);
  ::bind(fd, any.native(), any.native_size());  // bound, never listening
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &size);
  ::close(fd);
  return SocketAddress::from_native(reinterpret_cast<sockaddr*>(&bound), size);
}

ClientTimeout sock_connect_of(Seconds limit) {
  ClientTimeout timeout;
  timeout.sock_connect = limit;
  return timeout;
}

/// Runs the race on `addresses` on a fresh loop; checks that it left no
/// task, timer or descriptor behind; closes a connected socket.
HappyEyeballsResult race(std::vector<SocketAddress> addresses, std::optional<Seconds> delay, ClientTimeout timeout,
                         double* elapsed) {
  HappyEyeballsResult result;
  auto body = [](std::vector<SocketAddress> addresses, std::optional<Seconds> delay, ClientTimeout timeout,
                 HappyEyeballsResult& result, double* elapsed) -> Task<> {
    const std::size_t fds = open_fd_count();
    const auto start = Clock::now();
    result = co_await happy_eyeballs_connect(addresses, delay, timeout);
    *elapsed = seconds_since(start);
    // The losers are closed, their tasks and timers gone, before it returns.
    CHECK(open_fd_count() == fds + (result.socket.is_open() ? 1 : 0));
    CHECK(EventLoop::get().live_tasks() == 1);
    CHECK(EventLoop::get().pending_timers() == 0);
    co_await result.socket.close();
  };
  run(body(std::move(addresses), delay, timeout, result, elapsed));
  return result;
}

}  // namespace

TEST_CASE("interleave_families alternates families from the first address's, each in resolver order") {
  const auto a = [](const char* text) { return SocketAddress::parse(text); };
  const std::vector<SocketAddress> six_first{a("[::1]:1"), a("[::2]:1"), a("[::3]:1"), a("10.0.0.1:1"),
                                             a("10.0.0.2:1")};
  std::vector<std::string> got;
  for (const SocketAddress& s : interleave_families(six_first)) got.push_back(s.to_string());
  CHECK(got == std::vector<std::string>{"[::1]:1", "10.0.0.1:1", "[::2]:1", "10.0.0.2:1", "[::3]:1"});

  const std::vector<SocketAddress> four_first{a("10.0.0.1:1"), a("[::1]:1"), a("10.0.0.2:1"), a("10.0.0.3:1"),
                                              a("[::2]:1")};
  got.clear();
  for (const SocketAddress& s : interleave_families(four_first)) got.push_back(s.to_string());
  CHECK(got == std::vector<std::string>{"10.0.0.1:1", "[::1]:1", "10.0.0.2:1", "[::2]:1", "10.0.0.3:1"});

  const std::vector<SocketAddress> one_family{a("10.0.0.2:1"), a("10.0.0.1:1")};
  got.clear();
  for (const SocketAddress& s : interleave_families(one_family)) got.push_back(s.to_string());
  CHECK(got == std::vector<std::string>{"10.0.0.2:1", "10.0.0.1:1"});
  CHECK(interleave_families({}).empty());
}

TEST_CASE("a connect to a listener with a full backlog hangs (what the other tests rely on)") {
  for (const char* host : {"127.0.0.1", "::1"}) {
    Blackhole hole(host);
    auto body = [](SocketAddress address) -> Task<> {
      CHECK_THROWS_AS(co_await wait_for(Socket::connect(address), 300ms), coring::TimeoutError);
    };
    run(body(hole.address()));
  }
}

TEST_CASE("an address that never answers costs the delay, not sock_connect, beside one that answers") {
  Blackhole hole("127.0.0.1");
  run([](SocketAddress dropping) -> Task<> {
    Listener answering = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const SocketAddress good = answering.local_address();
    const std::size_t fds = open_fd_count();
    const auto start = Clock::now();
    std::vector<SocketAddress> both{dropping, good};
    const ClientTimeout timeout = sock_connect_of(Seconds(5));
    HappyEyeballsResult r = co_await happy_eyeballs_connect(both, Seconds(0.1), timeout);
    const double elapsed = seconds_since(start);
    REQUIRE(r.socket.is_open());
    CHECK(r.address.to_string() == good.to_string());
    CHECK(elapsed >= 0.09);
    CHECK(elapsed < 1.0);
    // The hanging attempt was cancelled in the kernel: its socket is gone.
    CHECK(open_fd_count() == fds + 1);
    CHECK(EventLoop::get().live_tasks() == 1);
    co_await r.socket.close();
    co_await answering.close();
    CHECK(open_fd_count() == fds - 1);
  }(hole.address()));
}

TEST_CASE("without a delay the addresses are tried one at a time, each under its own sock_connect") {
  Blackhole hole("127.0.0.1");
  run([](SocketAddress dropping) -> Task<> {
    Listener answering = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const SocketAddress good = answering.local_address();
    for (std::optional<Seconds> delay : {std::optional<Seconds>(), std::optional<Seconds>(Seconds(0))}) {
      const auto start = Clock::now();
      std::vector<SocketAddress> both{dropping, good};
      const ClientTimeout timeout = sock_connect_of(Seconds(0.4));
      HappyEyeballsResult r = co_await happy_eyeballs_connect(both, delay, timeout);
      const double elapsed = seconds_since(start);
      REQUIRE(r.socket.is_open());
      CHECK(r.address.to_string() == good.to_string());
      CHECK(elapsed >= 0.39);  // the first attempt's whole sock_connect
      CHECK(elapsed < 2.0);
      co_await r.socket.close();
    }
    co_await answering.close();
  }(hole.address()));
}

TEST_CASE("a refused attempt starts the next at once, long before the delay") {
  run([]() -> Task<> {
    Listener answering = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const SocketAddress good = answering.local_address();
    const auto start = Clock::now();
    std::vector<SocketAddress> both{refusing_address(), good};
    const ClientTimeout timeout;
    HappyEyeballsResult r = co_await happy_eyeballs_connect(both, Seconds(10), timeout);
    REQUIRE(r.socket.is_open());
    CHECK(r.address.to_string() == good.to_string());
    CHECK(seconds_since(start) < 1.0);
    co_await r.socket.close();
    co_await answering.close();
  }());
}

TEST_CASE("when no address connects, the result names the last to fail and its errno") {
  SUBCASE("two refusals") {
    const SocketAddress first = refusing_address(), second = refusing_address();
    double elapsed = 0;
    const HappyEyeballsResult r = race({first, second}, Seconds(5), {}, &elapsed);
    CHECK_FALSE(r.socket.is_open());
    CHECK(r.error == ECONNREFUSED);
    CHECK_FALSE(r.timed_out);
    CHECK(r.address.to_string() == second.to_string());
    CHECK(elapsed < 1.0);
  }
  SUBCASE("a refusal, then an address whose sock_connect runs out") {
    Blackhole hole("127.0.0.1");
    double elapsed = 0;
    const HappyEyeballsResult r = race({refusing_address(), hole.address()}, Seconds(5), sock_connect_of(0.3s), &elapsed);
    CHECK_FALSE(r.socket.is_open());
    CHECK(r.timed_out);
    CHECK(r.error == ETIMEDOUT);
    CHECK(r.address.to_string() == hole.address().to_string());
    CHECK(r.limit.kind == TimeoutKind::sock_connect);
    CHECK(elapsed >= 0.29);
    CHECK(elapsed < 2.0);
  }
  SUBCASE("no address at all") {
    double elapsed = 0;
    const HappyEyeballsResult r = race({}, Seconds(0.25), {}, &elapsed);
    CHECK_FALSE(r.socket.is_open());
    CHECK(r.error == 0);
  }
}

TEST_CASE("cancelling the race cancels every attempt in the kernel and leaves nothing behind") {
  Blackhole first("127.0.0.1"), second("127.0.0.1");
  run([](SocketAddress a, SocketAddress b) -> Task<> {
    const std::size_t fds = open_fd_count();
    const auto start = Clock::now();
    std::vector<SocketAddress> both{a, b};
    const ClientTimeout timeout;
    // Both attempts are in flight (50 ms apart) when the limit fires.
    CHECK_THROWS_AS(co_await wait_for(happy_eyeballs_connect(both, Seconds(0.05), timeout), 300ms),
                    coring::TimeoutError);
    CHECK(seconds_since(start) < 1.0);
    CHECK(open_fd_count() == fds);
    CHECK(EventLoop::get().live_tasks() == 1);
    CHECK(EventLoop::get().pending_timers() == 0);
  }(first.address(), second.address()));
}

namespace {

/// A host name whose first address ([::1]:P) never answers and whose second
/// (127.0.0.1:P) is the project's server, through a fake DNS server.
struct DualStackHost {
  Blackhole hole{"::1"};
  test_support::FakeDns dns{std::map<std::string, std::vector<std::string>>{
      {"dual.coring.test", {"::1", "127.0.0.1"}}}};
  std::string url = "http://dual.coring.test:" + std::to_string(hole.port()) + "/small";
};

/// Fetches `host.url` through a session with `connector` and `timeout`:
/// the response's connect timing in seconds, or the error rethrown. Checks
/// that the session and the server left no descriptor behind.
double fetch_connect_seconds(DualStackHost& host, TCPConnector connector, ClientTimeout timeout) {
  connector.dns_servers = {host.dns.server()};
  double connect = -1;
  auto body = [](DualStackHost& host, TCPConnector connector, ClientTimeout timeout, double& connect) -> Task<> {
    const std::size_t fds = open_fd_count();
    Server server(SocketAddress::ip("127.0.0.1", host.hole.port()), builtin_routes());
    std::exception_ptr failure;
    auto use = [&](Server&) -> Task<> {
      SessionOptions options;
      options.connector = connector;
      options.timeout = timeout;
      co_await with_session(options, [&](ClientSession& s) -> Task<> {
        try {
          ClientResponse r = co_await s.get(host.url);
          CHECK(r.status() == 200);
          CHECK(co_await r.text() == "Hello, world!");
          connect = std::chrono::duration<double>(r.timings().connect).count();
        } catch (...) {
          failure = std::current_exception();
        }
      });
    };
    co_await test_support::serve_beside(server, use);
    // The session's connections and sockets, and the server's, are closed.
    CHECK(open_fd_count() == fds);
    if (failure) std::rethrow_exception(failure);
  };
  run(body(host, std::move(connector), timeout, connect));
  return connect;
}

}  // namespace

TEST_CASE("a host whose first address never answers is reached in about happy_eyeballs_delay") {
  DualStackHost host;
  TCPConnector connector;
  connector.happy_eyeballs_delay = Seconds(0.1);
  const double connect = fetch_connect_seconds(host, connector, sock_connect_of(Seconds(5)));
  MESSAGE("connect took " << connect << " s");
  CHECK(connect >= 0.09);  // ::1 was tried first, and hung
  CHECK(connect < 1.0);
}

TEST_CASE("the default happy_eyeballs_delay is aiohttp's 250 ms") {
  CHECK(TCPConnector{}.happy_eyeballs_delay == Seconds(0.25));
}

TEST_CASE("without happy_eyeballs_delay the same host waits out the first address's sock_connect") {
  DualStackHost host;
  TCPConnector connector;
  connector.happy_eyeballs_delay = std::nullopt;
  SUBCASE("then the next address answers") {
    const double connect = fetch_connect_seconds(host, connector, sock_connect_of(Seconds(0.6)));
    MESSAGE("connect took " << connect << " s");
    CHECK(connect >= 0.59);
    CHECK(connect < 2.0);
  }
  SUBCASE("and a connect limit shorter than that fails the request") {
    ClientTimeout timeout = sock_connect_of(Seconds(5));
    timeout.connect = Seconds(0.3);
    try {
      fetch_connect_seconds(host, connector, timeout);
      FAIL("the request succeeded");
    } catch (const coring::http::TimeoutError& e) {
      CHECK(e.kind() == TimeoutKind::connect);
    }
  }
}

TEST_CASE("sock_connect fires against a server that never completes the handshake, naming itself and the address") {
  Blackhole hole("127.0.0.1");
  // Through a name, so that the address in the message is not the URL's.
  test_support::FakeDns dns({"hang.coring.test"});
  run([](std::string address, std::uint16_t port, std::string dns_server) -> Task<> {
    const std::size_t fds = open_fd_count();
    SessionOptions options;
    options.connector.dns_servers = {dns_server};
    options.timeout.sock_connect = Seconds(0.3);
    co_await with_session(options, [&](ClientSession& s) -> Task<> {
      const auto start = Clock::now();
      try {
        const std::string url = "http://hang.coring.test:" + std::to_string(port) + "/";
        co_await s.get(url);
        FAIL("the request succeeded");
      } catch (const coring::http::TimeoutError& e) {
        CHECK(e.kind() == TimeoutKind::sock_connect);
        const std::string what = e.what();
        CHECK(what.rfind("sock_connect timeout", 0) == 0);
        CHECK(what.find("(connecting to " + address + ")") != std::string::npos);
        MESSAGE(what);
      }
      CHECK(seconds_since(start) >= 0.29);
      CHECK(seconds_since(start) < 2.0);
    });
    CHECK(open_fd_count() == fds);
  }(hole.address().to_string(), hole.port(), dns.server()));
}

TEST_CASE("connect fires against a server that never completes the handshake, and says connect") {
  Blackhole first("127.0.0.1"), second("::1", first.port());
  test_support::FakeDns dns(std::map<std::string, std::vector<std::string>>{
      {"nowhere.coring.test", {"127.0.0.1", "::1"}}});
  run([](std::uint16_t port, std::string dns_server) -> Task<> {
    const std::size_t fds = open_fd_count();
    SessionOptions options;
    options.connector.dns_servers = {dns_server};
    options.connector.happy_eyeballs_delay = Seconds(0.05);
    options.timeout.connect = Seconds(0.3);  // sock_connect stays 30 s
    co_await with_session(options, [&](ClientSession& s) -> Task<> {
      const auto start = Clock::now();
      try {
        const std::string url = "http://nowhere.coring.test:" + std::to_string(port) + "/";
        co_await s.get(url);
        FAIL("the request succeeded");
      } catch (const coring::http::TimeoutError& e) {
        CHECK(e.kind() == TimeoutKind::connect);
        const std::string what = e.what();
        CHECK(what.rfind("connect timeout", 0) == 0);
        MESSAGE(what);
      }
      CHECK(seconds_since(start) >= 0.29);
      CHECK(seconds_since(start) < 2.0);
    });
    CHECK(open_fd_count() == fds);  // both attempts were in flight; both are gone
  }(first.port(), dns.server()));
}
