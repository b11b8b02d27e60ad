// ClientTimeout: when each limit's deadline falls (http/deadline.hpp), and each
// limit firing against the project's own server on 127.0.0.1.
#include <doctest/doctest.h>

#include <limits>
#include <optional>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../../http/time_limit.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::with_server;
using test_support::with_session;

TEST_CASE("a limit over ceil_threshold ends at a whole second, as aiohttp's; one under it, exactly") {
  using http::detail::TimeLimit;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start(std::chrono::milliseconds(12'345'678'901));
  const auto whole = [](Clock::time_point t) { return t.time_since_epoch() % std::chrono::seconds(1) == Clock::duration(0); };

  ClientTimeout long_limits{.total = Seconds(300)};
  const TimeLimit total = TimeLimit::after(start, long_limits, TimeoutKind::total);
  REQUIRE(total.at);
  CHECK(whole(*total.at));
  CHECK(*total.at >= start + std::chrono::seconds(300));
  CHECK(*total.at < start + std::chrono::seconds(301));
  CHECK(total.limit == Seconds(300));  // the message names the limit, not the rounding
  // Requests begun within one second share their deadline: one timer run.
  CHECK(TimeLimit::after(start + std::chrono::milliseconds(98), long_limits, TimeoutKind::total).at == total.at);

  ClientTimeout short_limits{.total = Seconds(5), .sock_read = Seconds(0.25)};
  CHECK(TimeLimit::after(start, short_limits, TimeoutKind::total).at == start + std::chrono::seconds(5));
  CHECK(TimeLimit::after(start, short_limits, TimeoutKind::sock_read).at == start + std::chrono::milliseconds(250));
  short_limits.ceil_threshold = Seconds(0);
  CHECK(whole(*TimeLimit::after(start, short_limits, TimeoutKind::sock_read).at));

  // Each kind reads its own field; an unset one arms nothing.
  const ClientTimeout kinds{.total = Seconds(1), .connect = Seconds(2), .sock_connect = Seconds(3),
                            .sock_read = Seconds(4), .pool = std::nullopt};
  CHECK(TimeLimit::after(start, kinds, TimeoutKind::connect).at == start + std::chrono::seconds(2));
  CHECK(TimeLimit::after(start, kinds, TimeoutKind::sock_connect).at == start + std::chrono::seconds(3));
  CHECK(TimeLimit::after(start, kinds, TimeoutKind::sock_read).at == start + std::chrono::seconds(4));
  CHECK_FALSE(TimeLimit::after(start, kinds, TimeoutKind::pool).at);
  CHECK_FALSE(TimeLimit::from_now(kinds, TimeoutKind::pool).at);
  // As aiohttp: 0 or less is no limit; so is one too far to count in nanoseconds.
  for (const Seconds none : {Seconds(0), Seconds(-1), Seconds(1e12), Seconds(std::numeric_limits<double>::infinity()),
                             Seconds(std::numeric_limits<double>::quiet_NaN())}) {
    CHECK_FALSE(TimeLimit::after(start, ClientTimeout{.total = none}, TimeoutKind::total).at);
  }
  const TimeLimit soon = TimeLimit::from_now(kinds, TimeoutKind::total);
  CHECK(*soon.at <= Clock::now() + std::chrono::seconds(1));
  CHECK(*soon.at > Clock::now());
}

TEST_CASE("sock_read fires when the server is slow to answer, and says so") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.timeout = {.sock_read = Seconds(0.05)}}, [&](ClientSession& s) -> Task<> {
      try {
        co_await s.get(server.base_url() + "/delay/2000");
        FAIL("expected a timeout");
      } catch (const http::TimeoutError& e) {
        CHECK(e.kind() == TimeoutKind::sock_read);
        CHECK(std::string(e.what()).find("sock_read") != std::string::npos);
      }
      // A slow drip that keeps each gap short is fine under sock_read.
      auto drip = co_await s.get(server.base_url() + "/drip/5/5");
      CHECK(co_await drip.read() == pattern_bytes(5));
    });
  });
}

TEST_CASE("total covers the body too, and the timed-out connection is not reused") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.timeout = {.total = Seconds(0.1)}}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/drip/100/10");  // head at once, body over 1 s
      try {
        co_await r.read();
        FAIL("expected a timeout");
      } catch (const http::TimeoutError& e) {
        CHECK(e.kind() == TimeoutKind::total);
      }
      auto next = co_await s.get(server.base_url() + "/small");
      CHECK(co_await next.read() == "Hello, world!");
      CHECK_FALSE(next.timings().reused_connection);
    });
  });
}

TEST_CASE("the pool timeout tells queueing apart from a slow server") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.timeout = {.pool = Seconds(0.02)}, .connector = {.limit = 1}}, [&](ClientSession& s) -> Task<> {
      auto holder = [](ClientSession& session, std::string url) -> Task<> {
        auto r = co_await session.get(url);
        co_await r.read();
      };
      auto busy = create_task(holder(s, server.base_url() + "/delay/300"));
      co_await sleep(20ms);
      try {
        co_await s.get(server.base_url() + "/small");
        FAIL("expected a pool timeout");
      } catch (const http::TimeoutError& e) {
        CHECK(e.kind() == TimeoutKind::pool);
      }
      co_await busy;
      // A per-request timeout overrides the session's.
      RequestOptions defaults{.timeout = ClientTimeout{}};
      auto r = co_await s.get(server.base_url() + "/small", std::move(defaults));
      CHECK(r.status() == 200);
    });
  });
}

// The loop reads its clock once per pass (EventLoop::time); a pass that has
// run a while (a preempted VM, a slow callback) must not shorten a timeout.
TEST_CASE("a request's timeouts count from the call, however long the loop's pass has run") {
  using Clock = std::chrono::steady_clock;
  auto busy_for = [](std::chrono::milliseconds d) {
    const auto until = Clock::now() + d;
    while (Clock::now() < until) {
    }
  };
  with_server([&](Server& server) -> Task<> {
    for (const TimeoutKind kind : {TimeoutKind::total, TimeoutKind::sock_read, TimeoutKind::pool}) {
      const std::string name = to_string(kind);
      CAPTURE(name);
      ClientTimeout limits{.total = std::nullopt, .sock_connect = std::nullopt};
      if (kind == TimeoutKind::total) limits.total = Seconds(0.1);
      if (kind == TimeoutKind::sock_read) limits.sock_read = Seconds(0.1);
      if (kind == TimeoutKind::pool) limits.pool = Seconds(0.1);
      co_await with_session({.timeout = limits, .connector = {.limit = 1}}, [&](ClientSession& s) -> Task<> {
        auto holder = [](ClientSession& session, std::string url) -> Task<> {
          RequestOptions patient{.timeout = ClientTimeout{}};
          auto r = co_await session.get(url, std::move(patient));
          co_await r.read();
        };
        std::optional<TaskHandle<void>> busy;
        if (kind == TimeoutKind::pool) {
          busy.emplace(create_task(holder(s, server.base_url() + "/delay/1000")));
          co_await sleep(20ms);
        } else {
          co_await sleep(1ms);  // a fresh pass, so that what follows is the pass's own work
        }
        busy_for(60ms);
        const auto called = Clock::now();
        try {
          co_await s.get(server.base_url() + "/delay/1000");
          FAIL("expected a timeout");
        } catch (const http::TimeoutError& e) {
          CHECK(e.kind() == kind);
          CHECK(Clock::now() - called >= 100ms);
        }
        if (busy) {
          busy->cancel();
          try {
            co_await *busy;
          } catch (const CancelledError&) {
          }
        }
      });
    }
  });
}
