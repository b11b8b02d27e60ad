// The connection pool: its bookkeeping of hosts, and which connections it
// keeps, reuses, caps and closes, against the project's own server on 127.0.0.1.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../../http/connection_pool.hpp"
#include "../support/one_answer_server.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::with_server;
using test_support::with_session;

TEST_CASE("the pool forgets a host once nothing of it is in use, pooled or learned") {
  using coring::http::detail::Connection;
  using coring::http::detail::ConnectionPool;
  using coring::http::detail::Lease;
  using namespace std::chrono_literals;
  auto body = []() -> coring::Task<> {
    ConnectionPool pool{TCPConnector{}};
    // A crawler's pattern: many hosts, each visited once, nothing kept.
    for (int i = 0; i < 1000; ++i) {
      const std::string key = "http://host-" + std::to_string(i) + ":80";
      Lease lease = co_await pool.acquire(key);
      REQUIRE(pool.host_count() == 1);
      lease.release(false);
    }
    CHECK(pool.host_count() == 0);

    // Kept while a connection to it is pooled; forgotten once that expires.
    const std::string kept = "http://kept:80";
    {
      Lease lease = co_await pool.acquire(kept);
      lease.attach(std::make_shared<Connection>(kept, coring::http::detail::ParserLimits{}));
      lease.connection->idle_until = coring::EventLoop::get().time() + 50ms;
      lease.release(true);
    }
    CHECK(pool.idle_count() == 1);
    CHECK(pool.host_count() == 1);
    {
      Lease again = co_await pool.acquire(kept);  // the pooled connection, through the remembered entry
      CHECK(again.reused);
      again.release(true);
    }
    co_await coring::sleep(100ms);
    CHECK(pool.idle_count() == 0);
    CHECK(pool.host_count() == 0);

    // Kept while it has taught the pool a request limit.
    const std::string limited = "http://limited:80";
    {
      Lease lease = co_await pool.acquire(limited);
      pool.learn_max_requests(limited, 100);
      lease.release(false);
    }
    CHECK(pool.host_count() == 1);
    pool.close_all();
  };
  coring::run(body());
}

TEST_CASE("sequential requests reuse one keep-alive connection") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      for (int i = 0; i < 20; ++i) {
        auto r = co_await s.get(server.base_url() + "/small");
        CHECK(co_await r.read() == "Hello, world!");
        CHECK(r.timings().reused_connection == (i > 0));
      }
      CHECK(server.connections_accepted() == 1);
      CHECK(server.requests_served() == 20);
    });
  });
}

TEST_CASE("force_close uses a new connection per request") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.connector = {.force_close = true}}, [&](ClientSession& s) -> Task<> {
      for (int i = 0; i < 3; ++i) co_await (co_await s.get(server.base_url() + "/small")).read();
      CHECK(server.connections_accepted() == 3);
    });
  });
}

TEST_CASE("the connection limit caps concurrent connections; the rest wait their turn") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.connector = {.limit = 2}}, [&](ClientSession& s) -> Task<> {
      auto fetch = [](ClientSession& session, std::string url) -> Task<std::string> {
        auto r = co_await session.get(url);
        co_return co_await r.read();
      };
      std::vector<Task<std::string>> tasks;
      for (int i = 0; i < 10; ++i) tasks.push_back(fetch(s, server.base_url() + "/delay/5"));
      auto bodies = co_await gather(std::move(tasks));
      for (auto& b : bodies) CHECK(b == "delayed");
      CHECK(server.connections_accepted() == 2);
    });
  });
}

TEST_CASE("a response dropped unread closes its connection instead of pooling it") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      { auto unread = co_await s.get(server.base_url() + "/bytes/100000"); }
      auto r = co_await s.get(server.base_url() + "/small");
      CHECK(co_await r.read() == "Hello, world!");
      CHECK_FALSE(r.timings().reused_connection);
      CHECK(server.connections_accepted() == 2);
    });
  });
}

TEST_CASE("bytes after a response are never taken as the next response") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto first = co_await s.get(server.base_url() + "/extra-bytes");
      CHECK(co_await first.read() == "ok");
      auto second = co_await s.get(server.base_url() + "/small");
      CHECK(co_await second.read() == "Hello, world!");
      CHECK_FALSE(second.timings().reused_connection);
    });
  });
}

TEST_CASE("cancelling a request closes its connection and leaves nothing running") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto slow = [](ClientSession& session, std::string url) -> Task<> { (void)co_await session.get(url); };
      auto h = create_task(slow(s, server.base_url() + "/delay/5000"));
      co_await sleep(20ms);
      h.cancel();
      CHECK_THROWS_AS(co_await h, CancelledError);
      auto r = co_await s.get(server.base_url() + "/small");
      CHECK(co_await r.read() == "Hello, world!");
      CHECK_FALSE(r.timings().reused_connection);
    });
  });
}

TEST_CASE("a pooled connection the server closed while idle is not reused: even a POST goes through") {
  with_server(
      [](Server& server) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          CHECK(co_await (co_await s.get(server.base_url() + "/")).read() == "fine");
          co_await sleep(10ms);  // let the close reach us: the armed receive sees it
          RequestOptions post{.body = std::string("x")};
          auto r = co_await s.post(server.base_url() + "/", std::move(post));
          CHECK(co_await r.read() == "fine");
          CHECK_FALSE(r.timings().reused_connection);
          CHECK(server.connections_accepted() == 2);
        });
      },
      test_support::answer_then_drop);
}

TEST_CASE("a pooled connection closed as the next request arrives: a GET is retried once, a POST is not") {
  using test_support::OneAnswerServer;
  run(test_support::with_one_answer_server(
      OneAnswerServer::Then::close_on_next_request, [](OneAnswerServer& server) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          CHECK(co_await (co_await s.get(server.base_url() + "/")).read() == "fine");
          auto again = co_await s.get(server.base_url() + "/");  // reused, dropped, retried
          CHECK(co_await again.read() == "fine");
          CHECK(server.connections_accepted() == 2);
          RequestOptions post{.body = std::string("x")};  // reused, dropped: not idempotent
          CHECK_THROWS_AS(co_await s.post(server.base_url() + "/", std::move(post)), ServerDisconnectedError);
          CHECK(server.connections_accepted() == 2);
        });
      }));
}

TEST_CASE("an answer nobody asked for on an idle connection is never taken for the next one") {
  using test_support::OneAnswerServer;
  run(test_support::with_one_answer_server(
      OneAnswerServer::Then::answer_unasked, [](OneAnswerServer& server) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          CHECK(co_await (co_await s.get(server.base_url() + "/")).read() == "fine");
          co_await sleep(60ms);  // the unasked "stale" answer arrives meanwhile
          auto r = co_await s.get(server.base_url() + "/");
          CHECK(co_await r.read() == "fine");
          CHECK_FALSE(r.timings().reused_connection);
          CHECK(server.connections_accepted() == 2);
        });
      }));
}

TEST_CASE("an idle connection is closed before the server's Keep-Alive timeout") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      // timeout=1: the one-second margin leaves no time to reuse it.
      co_await (co_await s.get(server.base_url() + "/keepalive/1")).read();
      auto r = co_await s.get(server.base_url() + "/small");
      co_await r.read();
      CHECK_FALSE(r.timings().reused_connection);
      // timeout=30: reused.
      co_await (co_await s.get(server.base_url() + "/keepalive/30")).read();
      auto q = co_await s.get(server.base_url() + "/small");
      co_await q.read();
      CHECK(q.timings().reused_connection);
      // timeout=2 (1 s idle), then a pass that runs past it: the loop's time,
      // read when the pass began, would still call the connection fresh.
      co_await (co_await s.get(server.base_url() + "/keepalive/2")).read();
      co_await sleep(1ms);
      const auto until = std::chrono::steady_clock::now() + 1100ms;
      while (std::chrono::steady_clock::now() < until) {
      }
      auto late = co_await s.get(server.base_url() + "/small");
      co_await late.read();
      CHECK_FALSE(late.timings().reused_connection);
    });
  });
}
