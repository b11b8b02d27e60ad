// TCPConnector::limit and limit_per_host, counted on the servers' side:
// how many requests are being handled at once (with HTTP/1.1 and no
// pipelining, one per open connection), per server and over all of them.
// Each limited case has a control without the limit that shows more.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using namespace std::string_view_literals;
using test_support::serve_beside;
using test_support::with_session;

namespace {

/// Requests in the handlers at once, and the most there ever were.
struct Gauge {
  int now = 0;
  int peak = 0;
  void enter() { peak = std::max(peak, ++now); }
  void leave() { --now; }
};

/// What the handlers of one test share: a gauge per server and one over
/// all of them, the order requests reached them, and a gate that opens
/// when `gate_at` requests are in at once over all servers.
struct Floor {
  Gauge all;
  std::vector<std::string> arrivals;  // the requests' paths, in the order they reached a handler
  int gate_at = 1 << 30;
  Event gate;
  /// How long a handler holds its connection when the gate stays shut.
  std::chrono::milliseconds hold = 30ms;
};

/// Holds the request until the gate opens or floor.hold has passed, then
/// answers with its path.
Task<> held(Floor& floor, Gauge& server, ServerExchange& ex) {
  floor.arrivals.push_back(ex.request().path);
  server.enter();
  floor.all.enter();
  if (floor.all.now >= floor.gate_at) floor.gate.set();
  try {
    co_await wait_for(floor.gate.wait(), floor.hold);
  } catch (const coring::TimeoutError&) {
  }
  server.leave();
  floor.all.leave();
  co_await ex.respond(200, ex.request().path);
}

/// A handler over `held` (the lambda is not a coroutine: nothing it
/// captures must outlive a call).
Server::Handler holding(Floor& floor, Gauge& server) {
  return [&floor, &server](ServerExchange& ex) { return held(floor, server, ex); };
}

/// Runs `body(a, b)` with two servers (two ports: two hosts to the pool) serving beside it.
template <class Body>
void with_two_servers(Server::Handler a_handler, Server::Handler b_handler, Body body) {
  auto run_both = [](Server::Handler ha, Server::Handler hb, Body& b) -> Task<> {
    Server a(SocketAddress::parse("127.0.0.1:0"), std::move(ha));
    Server b_server(SocketAddress::parse("127.0.0.1:0"), std::move(hb));
    auto outer = [&](Server&) -> Task<> {
      auto inner = [&](Server&) -> Task<> { co_await b(a, b_server); };
      co_await serve_beside(b_server, inner);
    };
    co_await serve_beside(a, outer);
  };
  coring::run(run_both(std::move(a_handler), std::move(b_handler), body));
}

Task<std::string> fetch(ClientSession& s, std::string url) {
  auto r = co_await s.get(std::move(url));
  co_return co_await r.text();
}

/// `n` GETs of base + "/i" at once; their bodies, in order.
Task<std::vector<std::string>> fetch_many(ClientSession& s, const std::string& base, int n) {
  std::vector<Task<std::string>> tasks;
  for (int i = 0; i < n; ++i) tasks.push_back(fetch(s, base + "/" + std::to_string(i)));
  co_return co_await gather(std::move(tasks));
}

/// Each request of fetch_many was answered, with its own path.
void check_bodies(const std::vector<std::string>& bodies) {
  CHECK(bodies == std::vector<std::string>{"/0", "/1", "/2", "/3", "/4", "/5"});
}

}  // namespace

TEST_CASE("limit_per_host = 2: six concurrent requests to one host use two connections, and all succeed") {
  for (const std::size_t per_host : {std::size_t{2}, std::size_t{0}}) {
    CAPTURE(per_host);
    Floor floor;
    floor.gate_at = 6;  // reached only without the limit, where all wait for it
    floor.hold = per_host == 2 ? 30ms : 2s;
    Gauge a, b;
    with_two_servers(holding(floor, a), holding(floor, b), [&](Server& server, Server&) -> Task<> {
      SessionOptions options{.connector = {.limit_per_host = per_host}};
      co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
        check_bodies(co_await fetch_many(s, server.base_url(), 6));
        if (per_host == 2) {
          CHECK(a.peak == 2);
          CHECK(server.connections_accepted() == 2);  // kept alive and reused by the waiters
        } else {  // the control: all six at once, each on its own connection
          CHECK(a.peak == 6);
          CHECK(server.connections_accepted() == 6);
        }
        CHECK(server.requests_served() == 6);
      });
    });
  }
}

TEST_CASE("limit_per_host counts each host apart: two hosts get two connections each") {
  Floor floor;
  floor.gate_at = 4;  // both hosts' two in at once
  floor.hold = 2s;    // a request held past 2 s: the gate never opened
  Gauge a, b;
  with_two_servers(holding(floor, a), holding(floor, b), [&](Server& server_a, Server& server_b) -> Task<> {
    SessionOptions options{.connector = {.limit_per_host = 2}};
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      auto [bodies_a, bodies_b] =
          co_await gather(fetch_many(s, server_a.base_url(), 6), fetch_many(s, server_b.base_url(), 6));
      check_bodies(bodies_a);
      check_bodies(bodies_b);
      CHECK(floor.gate.is_set());  // four in at once: neither host waited on the other's connections
      CHECK(a.peak == 2);
      CHECK(b.peak == 2);
      CHECK(floor.all.peak == 4);
      CHECK(server_a.connections_accepted() == 2);
      CHECK(server_b.connections_accepted() == 2);
    });
  });
}

TEST_CASE("limit bounds the connections over all hosts; with limit_per_host both hold") {
  struct Case {
    std::size_t limit, per_host;
    int all_peak, host_peak_at_most;
  };
  for (const Case c : {Case{3, 0, 3, 3}, Case{3, 2, 3, 2}, Case{0, 0, 12, 6}}) {
    CAPTURE(c.limit);
    CAPTURE(c.per_host);
    Floor floor;
    floor.gate_at = 12;  // reached only with no limit at all (the control), where all wait for it
    floor.hold = c.all_peak == 12 ? 2s : 30ms;
    Gauge a, b;
    with_two_servers(holding(floor, a), holding(floor, b), [&](Server& server_a, Server& server_b) -> Task<> {
      SessionOptions options{.connector = {.limit = c.limit, .limit_per_host = c.per_host}};
      co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
        auto [bodies_a, bodies_b] =
            co_await gather(fetch_many(s, server_a.base_url(), 6), fetch_many(s, server_b.base_url(), 6));
        check_bodies(bodies_a);
        check_bodies(bodies_b);
        CHECK(floor.all.peak == c.all_peak);
        CHECK(a.peak <= c.host_peak_at_most);
        CHECK(b.peak <= c.host_peak_at_most);
        CHECK(a.peak >= 1);
        CHECK(b.peak >= 1);
      });
    });
  }
}

TEST_CASE("a request waiting for a host's connection gets the pool timeout; another host is not held up") {
  Floor floor;
  floor.hold = 1s;
  Gauge a, b;
  with_two_servers(holding(floor, a), holding(floor, b), [&](Server& server_a, Server& server_b) -> Task<> {
    SessionOptions options{.timeout = {.pool = Seconds(0.05)}, .connector = {.limit_per_host = 1}};
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      auto busy = create_task(fetch(s, server_a.base_url() + "/busy"));
      while (a.now == 0) co_await sleep(1ms);  // its connection is taken
      const auto asked = std::chrono::steady_clock::now();
      std::string error;
      try {
        co_await s.get(server_a.base_url() + "/queued");
        FAIL("expected a pool timeout");
      } catch (const http::TimeoutError& e) {
        CHECK(e.kind() == TimeoutKind::pool);
        error = e.what();
      }
      CHECK(error.find("pool timeout") != std::string::npos);
      CHECK(error.find("/queued") != std::string::npos);
      CHECK(std::chrono::steady_clock::now() - asked < 900ms);  // the pool's 50 ms, not the held request's 1 s
      // The other host has its own connection: no wait, no timeout.
      floor.hold = 0ms;
      CHECK(co_await fetch(s, server_b.base_url() + "/other") == "/other");
      CHECK(co_await busy == "/busy");
      CHECK(server_a.requests_served() == 1);  // the timed-out request never reached it
    });
  });
}

TEST_CASE("requests waiting for a host's connection get it in the order they asked (FIFO)") {
  for (const std::size_t per_host : {std::size_t{1}, std::size_t{0}}) {
    CAPTURE(per_host);
    Floor floor;
    floor.gate_at = 8;  // reached only without the limit (the control), where all wait for it
    floor.hold = per_host == 1 ? 5ms : 2s;
    Gauge a, b;
    with_two_servers(holding(floor, a), holding(floor, b), [&](Server& server, Server&) -> Task<> {
      // With `limit` unset as well: only the per-host limit queues them.
      SessionOptions options{.connector = {.limit = 0, .limit_per_host = per_host}};
      co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
        std::vector<TaskHandle<std::string>> waiting;
        for (int i = 0; i < 8; ++i) {
          waiting.push_back(create_task(fetch(s, server.base_url() + "/" + std::to_string(i))));
          co_await sleep(0ns);  // each asks for a connection before the next is made
        }
        for (auto& w : waiting) co_await w;
        REQUIRE(floor.arrivals.size() == 8);
        std::vector<std::string> sorted = floor.arrivals;
        std::sort(sorted.begin(), sorted.end());
        CHECK(sorted == std::vector<std::string>{"/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7"});
        if (per_host == 1) {
          CHECK(floor.arrivals == sorted);  // served one at a time, in the order asked
          CHECK(a.peak == 1);
          CHECK(server.connections_accepted() == 1);
        } else {
          CHECK(a.peak == 8);  // the control: all at once, nothing queued
        }
      });
    });
  }
}
