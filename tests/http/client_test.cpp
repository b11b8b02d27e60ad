// ClientSession against the project's own server on 127.0.0.1.
#include <doctest/doctest.h>
#include <unistd.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../../http/resolver.hpp"
#include "../support/fake_dns.hpp"
#include "../support/one_answer_server.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::with_server;
using test_support::with_session;

TEST_CASE("GET returns status, headers and the body byte for byte") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/small");
      CHECK(r.status() == 200);
      CHECK(r.reason() == "OK");
      CHECK(r.headers().get("content-length") == "13");
      CHECK(co_await r.text() == "Hello, world!");
      CHECK(co_await r.read() == "Hello, world!");  // kept

      for (std::size_t size : {0u, 1u, 16384u, 16385u, 1u << 20}) {
        auto big = co_await s.get(server.base_url() + "/bytes/" + std::to_string(size));
        CHECK(co_await big.read() == pattern_bytes(size));
      }
    });
  });
}

TEST_CASE("the server refuses an over-long head with 431 or 414, naming the limit") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      RequestOptions big_header;
      big_header.headers.add("X-Big", std::string(9000, 'x'));
      auto r = co_await s.get(server.base_url() + "/small", std::move(big_header));
      CHECK(r.status() == 431);
      CHECK(r.reason() == "Request Header Fields Too Large");
      CHECK(co_await r.text() == "bad request: header line longer than 8190 bytes\n");

      auto long_target = co_await s.get(server.base_url() + "/" + std::string(9000, 'p'));
      CHECK(long_target.status() == 414);
      CHECK(co_await long_target.text() == "bad request: request target longer than 8190 bytes\n");

      auto fine = co_await s.get(server.base_url() + "/small");  // on a new connection: the server closed those
      CHECK(co_await fine.text() == "Hello, world!");
    });
  });
}

TEST_CASE("chunked bodies of many shapes arrive intact") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      for (auto [size, chunk] : {std::pair{0, 1}, {1, 1}, {1000, 7}, {100000, 4096}, {300000, 65536}}) {
        auto r = co_await s.get(server.base_url() + "/chunked/" + std::to_string(size) + "?chunk=" + std::to_string(chunk));
        CHECK(co_await r.read() == pattern_bytes(static_cast<std::size_t>(size)));
      }
    });
  });
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

TEST_CASE("the body can be read in pieces") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/chunked/100000?chunk=1000");
      std::string all;
      for (;;) {
        std::string piece = co_await r.content.read(777);
        if (piece.empty()) break;
        CHECK(piece.size() <= 777);
        all += piece;
      }
      CHECK(r.content.at_eof());
      CHECK(all == pattern_bytes(100000));
    });
  });
}

TEST_CASE("read_view gives the body in place, kept, with or without recycled buffers") {
  with_server([](Server& server) -> Task<> {
    for (std::size_t recycled : {std::size_t{16 * 1024}, std::size_t{0}}) {
      SessionOptions options;
      options.connector.recycled_body_size = recycled;
      co_await with_session(options, [&](ClientSession& s) -> Task<> {
        // Each body after the first lands in a buffer an earlier one left
        // (if recycling): it must hold this body only.
        for (std::size_t size : {4000u, 3000u, 0u, 20u, 100000u, 5000u}) {
          auto r = co_await s.get(server.base_url() + "/bytes/" + std::to_string(size));
          const std::string_view body = co_await r.read_view();
          CHECK(body == pattern_bytes(size));
          CHECK((co_await r.read_view()).data() == body.data());  // kept, not read again
          CHECK(co_await r.read() == pattern_bytes(size));
        }
      });
    }
  });
}

TEST_CASE("methods, bodies, form fields, JSON and query parameters reach the server") {
  // Options are built before the co_await: GCC 12 rejects string literals in
  // braced initializers inside a co_await expression (a compiler bug).
  with_server([](Server& server) -> Task<> {
    SessionOptions options;
    options.headers.add("X-Session", "s");
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      RequestOptions raw{.params = {{"q", "a b"}}, .body = "raw body"};
      auto r = co_await s.post(server.base_url() + "/echo", std::move(raw));
      std::string echo = co_await r.read();
      CHECK(echo.starts_with("POST /echo?q=a+b\n"));
      CHECK(echo.find("X-Session: s\n") != std::string::npos);
      CHECK(echo.find("Content-Length: 8\n") != std::string::npos);
      CHECK(echo.ends_with("\nraw body"));

      RequestOptions form{.form = QueryParams{{"a", "1"}, {"b", "x&y"}}};
      auto f = co_await s.put(server.base_url() + "/echo", std::move(form));
      echo = co_await f.read();
      CHECK(echo.find("Content-Type: application/x-www-form-urlencoded") != std::string::npos);
      CHECK(echo.ends_with("\na=1&b=x%26y"));

      RequestOptions json{.json = R"({"k":1})"};
      auto j = co_await s.patch(server.base_url() + "/echo", std::move(json));
      echo = co_await j.read();
      CHECK(echo.find("Content-Type: application/json") != std::string::npos);

      RequestOptions override_header;
      override_header.headers.add("X-Session", "override");
      auto d = co_await s.delete_(server.base_url() + "/echo", std::move(override_header));
      echo = co_await d.read();
      CHECK(echo.starts_with("DELETE /echo"));
      CHECK(echo.find("X-Session: override\n") != std::string::npos);
      CHECK(echo.find("X-Session: s\n") == std::string::npos);

      auto h = co_await s.head(server.base_url() + "/bytes/100");
      CHECK(h.headers().get("Content-Length") == "100");
      CHECK((co_await h.read()).empty());
      auto o = co_await s.options(server.base_url() + "/small");
      CHECK(o.status() == 200);
    });
  });
}

TEST_CASE("one URL requested again and again, as text or parsed, with others, params and a bad URL between, goes where it says") {
  // The session keeps the last URL it parsed: what it hands out must be
  // the URL asked for each time, never the one before.
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string echo = server.base_url() + "/echo";
      auto first_line = [](std::string text) { return text.substr(0, text.find('\n')); };
      RequestOptions with_q{.params = {{"q", "1"}}};
      CHECK(first_line(co_await (co_await s.get(echo, std::move(with_q))).read()) == "GET /echo?q=1");
      CHECK(first_line(co_await (co_await s.get(echo)).read()) == "GET /echo");
      CHECK(co_await (co_await s.get(server.base_url() + "/small")).read() == "Hello, world!");
      CHECK(first_line(co_await (co_await s.get(echo)).read()) == "GET /echo");
      CHECK_THROWS_AS(co_await s.get(echo + "\x7f"), InvalidURL);
      CHECK(first_line(co_await (co_await s.get(echo + "?r=2")).read()) == "GET /echo?r=2");
      CHECK(first_line(co_await (co_await s.get(echo)).read()) == "GET /echo");
      // A URL parsed already is used as is, params added as to text.
      const URL parsed = URL::parse(server.base_url() + "/echo?u=1");
      RequestOptions with_v{.params = {{"v", "2"}}};
      CHECK(first_line(co_await (co_await s.get(parsed, std::move(with_v))).read()) == "GET /echo?u=1&v=2");
      CHECK(first_line(co_await (co_await s.get(parsed)).read()) == "GET /echo?u=1");
    });
  });
}

TEST_CASE("base_url resolves relative URLs") {
  with_server([](Server& server) -> Task<> {
    SessionOptions options{.base_url = server.base_url() + "/"};
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get("small");
      CHECK(co_await r.read() == "Hello, world!");
    });
  });
}

TEST_CASE("raise_for_status names the status and URL") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/status/503");
      CHECK(r.status() == 503);
      try {
        r.raise_for_status();
        FAIL("expected ClientResponseError");
      } catch (const ClientResponseError& e) {
        CHECK(e.status() == 503);
        CHECK(std::string(e.what()).find("/status/503") != std::string::npos);
      }
      auto ok = co_await s.get(server.base_url() + "/status/204");
      ok.raise_for_status();
      CHECK((co_await ok.read()).empty());
    });
  });
}

TEST_CASE("broken responses are typed errors, never crashes") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string base = server.base_url();
      auto truncated = co_await s.get(base + "/close-mid-body");
      CHECK_THROWS_AS(co_await truncated.read(), ClientPayloadError);
      CHECK_THROWS_AS(co_await s.get(base + "/bad-status"), InvalidResponseError);
      CHECK_THROWS_WITH_AS(co_await s.get(base + "/long-header"), doctest::Contains("8190"), InvalidResponseError);
      CHECK_THROWS_WITH_AS(co_await s.get(base + "/many-headers"), doctest::Contains("128"), InvalidResponseError);
      auto bad_chunk = co_await s.get(base + "/bad-chunk");
      CHECK_THROWS_AS(co_await bad_chunk.read(), ClientPayloadError);
      auto until_close = co_await s.get(base + "/no-length");
      CHECK(co_await until_close.read() == "body until close");
      auto interim = co_await s.get(base + "/interim");
      CHECK(interim.status() == 200);
      CHECK(co_await interim.read() == "final");
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

TEST_CASE("a body over max_body_size is a ClientPayloadError") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.max_body_size = 1000}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/bytes/5000");
      CHECK_THROWS_WITH_AS(co_await r.read(), doctest::Contains("limit"), ClientPayloadError);
      auto fine = co_await s.get(server.base_url() + "/bytes/1000");
      CHECK((co_await fine.read()).size() == 1000);
    });
  });
}

TEST_CASE("max_body_size limits a compressed body as decoded too: a gzip bomb is a ClientPayloadError") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.max_body_size = 1 << 20}, [&](ClientSession& s) -> Task<> {
      // 4 MB of a 26-byte pattern: about 12 KB on the wire.
      for (const std::string encoding : {"gzip", "br"}) {
        CAPTURE(encoding);
        auto bomb = co_await s.get(server.base_url() + "/" + encoding + "/4000000");
        CHECK_THROWS_WITH_AS(co_await bomb.read(), doctest::Contains(("decoded " + encoding + " body larger than the limit").c_str()),
                             ClientPayloadError);
        auto fine = co_await s.get(server.base_url() + "/" + encoding + "/1000000");
        CHECK(co_await fine.read() == pattern_bytes(1000000));
      }
    });
  });
}

TEST_CASE("a header with CR or LF is refused before anything is sent") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession&) -> Task<> {
      RequestOptions evil;
      CHECK_THROWS_AS(evil.headers.add("X-A", "1\r\nX-Injected: 2"), InvalidRequestError);
      CHECK(server.requests_served() == 0);
      co_return;
    });
  });
}

TEST_CASE("bad URLs and refused connections are typed errors naming the URL") {
  auto body = []() -> Task<> {
    co_await with_session({}, [](ClientSession& s) -> Task<> {
      CHECK_THROWS_AS(co_await s.get("not a url"), InvalidURL);
      CHECK_THROWS_AS(co_await s.get("gopher://127.0.0.1/"), InvalidURL);
      Listener probe = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
      const auto port = probe.local_address().port();
      co_await probe.close();
      const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/x";
      try {
        co_await s.get(url);
        FAIL("expected ClientConnectorError");
      } catch (const ClientConnectorError& e) {
        CHECK(e.os_error() == ECONNREFUSED);
        CHECK(std::string(e.what()).find(url) != std::string::npos);
      }
    });
  };
  run(body());
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

TEST_CASE("a session destroyed without close is reported; requests after close are refused") {
  auto body = []() -> Task<> {
    const auto before = coring::detail::unreleased_reports();
    { ClientSession forgotten; }
    CHECK(coring::detail::unreleased_reports() == before + 1);
    ClientSession s;
    co_await s.close();
    CHECK_THROWS_AS(co_await s.get("http://127.0.0.1:1/"), ClientError);
  };
  run(body());
}

TEST_CASE("a redirect chain on the server is followed over the pooled connection") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/redirect/3");
      CHECK(r.status() == 200);
      CHECK(co_await r.read() == "redirected\n");
      CHECK(r.history().size() == 3);
      CHECK(r.url().path() == "/redirect/0");
      CHECK(server.connections_accepted() == 1);  // redirect bodies were read, the connection reused
      CHECK_THROWS_AS(co_await s.get(server.base_url() + "/redirect/11"), TooManyRedirects);
    });
  });
}

TEST_CASE("gzip, deflate and brotli bodies are decoded, and Accept-Encoding says so") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string base = server.base_url();
      auto echo = co_await s.get(base + "/echo");
      CHECK((co_await echo.read()).find("Accept-Encoding: gzip, deflate, br\n") != std::string::npos);
      for (const std::string encoding : {"gzip", "deflate", "br"}) {
        CAPTURE(encoding);
        for (std::size_t size : {0u, 100u, 1u << 20}) {
          auto r = co_await s.get(base + "/" + encoding + "/" + std::to_string(size));
          CHECK(r.headers().get("Content-Encoding") == encoding);
          CHECK(co_await r.read() == pattern_bytes(size));
        }
        // Read in small pieces: decoded as it streams in, not at the end.
        auto streamed = co_await s.get(base + "/" + encoding + "/300000");
        std::string pieces;
        for (std::string p; !(p = co_await streamed.content.read(1000)).empty();) pieces += p;
        CHECK(pieces == pattern_bytes(300000));
        // A few bytes on the wire that decode to 4 MB come out a bounded piece at a time.
        auto bomb = co_await s.get(base + "/" + encoding + "/4000000");
        std::size_t total = 0, largest = 0;
        for (std::string p; !(p = co_await bomb.content.read_chunk()).empty();) {
          total += p.size();
          largest = std::max(largest, p.size());
        }
        CHECK(total == 4000000);
        CHECK(largest <= 80 * 1024);
        // No body at all, as HEAD's, is empty, not a cut stream.
        auto head = co_await s.head(base + "/" + encoding + "/100");
        CHECK(head.headers().get("Content-Encoding") == encoding);
        CHECK(co_await head.read() == "");
      }
    });
  });
}

TEST_CASE("a gzip body of several members and stacked codings are decoded whole") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string base = server.base_url();
      for (std::size_t size : {2u, 100u, 300000u}) {
        CAPTURE(size);
        auto members = co_await s.get(base + "/gzip/" + std::to_string(size) + "?members=2");
        CHECK(co_await members.read() == pattern_bytes(size));
        for (const std::string as : {"gzip,br", "br,gzip", "deflate,gzip,br", "identity,gzip"}) {
          CAPTURE(as);
          auto stacked = co_await s.get(base + "/encoded/" + std::to_string(size) + "?as=" + as);
          CHECK(co_await stacked.read() == pattern_bytes(size));
        }
      }
      auto unknown = co_await s.get(base + "/encoded/100?as=gzip,zstd");  // zstd is not ours: as sent
      CHECK((co_await unknown.read()).size() < 100);
      CHECK_THROWS_WITH_AS(co_await s.get(base + "/encoded/10?as=gzip,gzip,gzip,gzip,gzip,gzip"),
                           doctest::Contains("more than 5 content codings"), ClientPayloadError);
    });
  });
}

TEST_CASE("a corrupt or truncated compressed body is a ClientPayloadError that names the encoding") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      for (const std::string encoding : {"gzip", "deflate", "br"}) {
        CAPTURE(encoding);
        auto corrupt = co_await s.get(server.base_url() + "/" + encoding + "/100000?corrupt=1");
        CHECK_THROWS_WITH_AS(co_await corrupt.read(), doctest::Contains(("bad " + encoding + " data (").c_str()),
                             ClientPayloadError);
        auto truncated = co_await s.get(server.base_url() + "/" + encoding + "/100000?truncate=1");
        CHECK_THROWS_WITH_AS(co_await truncated.read(), doctest::Contains(("the " + encoding + " stream is cut short").c_str()),
                             ClientPayloadError);
      }
    });
  });
}

TEST_CASE("with auto_decompress off the body comes as sent") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.auto_decompress = false}, [&](ClientSession& s) -> Task<> {
      auto echo = co_await s.get(server.base_url() + "/echo");
      CHECK((co_await echo.read()).find("Accept-Encoding") == std::string::npos);
      auto g = co_await s.get(server.base_url() + "/gzip/1000");
      const std::string raw = co_await g.read();
      CHECK(raw.size() < 1000);
      CHECK(static_cast<unsigned char>(raw[0]) == 0x1f);  // gzip magic
    });
  });
}

TEST_CASE("a Unix-socket connector sends every request over that socket") {
  const std::string path = "/tmp/coring-http-unix-" + std::to_string(::getpid()) + ".sock";
  auto body = [](std::string socket_path) -> Task<> {
    Server server(SocketAddress::unix_path(socket_path), builtin_routes());
    auto serving = create_task(server.serve());
    SessionOptions options;
    options.connector.unix_socket_path = socket_path;
    co_await async_with(ClientSession(std::move(options)), [](ClientSession& s) -> Task<> {
      for (int i = 0; i < 3; ++i) {
        auto r = co_await s.get("http://unix.local/echo");
        const std::string echo = co_await r.read();
        CHECK(echo.find("Host: unix.local\n") != std::string::npos);
      }
    });
    CHECK(server.connections_accepted() == 1);
    serving.cancel();
    try {
      co_await serving;
    } catch (const CancelledError&) {
    }
    co_await server.close();
  };
  run(body(path));
}

TEST_CASE("localhost resolves through /etc/hosts, and every address is tried") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      // The server listens on 127.0.0.1 only: if ::1 comes first, it is
      // refused and the next address is tried.
      const std::string url = "http://localhost:" + std::to_string(server.address().port()) + "/small";
      auto r = co_await s.get(url);
      CHECK(co_await r.read() == "Hello, world!");
    });
  });
}

TEST_CASE("host names are resolved by DNS without blocking the loop, and cached") {
  test_support::FakeDns dns({"service.coring.test"});
  with_server([&dns](Server& server) -> Task<> {
    SessionOptions options;
    options.connector.dns_servers = {dns.server()};
    options.connector.force_close = true;  // a new connection, and so a lookup, per request
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      const std::string url = "http://service.coring.test:" + std::to_string(server.address().port()) + "/small";
      // While the lookup is in flight the loop keeps running other tasks.
      int ticks = 0;
      auto ticker = create_task([](int& t) -> Task<> {
        for (;;) {
          co_await sleep(0ns);
          ++t;
        }
      }(ticks));
      auto r = co_await s.get(url);
      ticker.cancel();
      CHECK(co_await r.read() == "Hello, world!");
      CHECK(r.url().host() == "service.coring.test");
      CHECK_FALSE(r.timings().dns_cache_hit);
      CHECK(ticks > 0);
      const int queries = dns.queries();
      auto again = co_await s.get(url);
      CHECK(again.timings().dns_cache_hit);
      CHECK(dns.queries() == queries);
      co_await again.read();

      try {
        co_await s.get("http://unknown.coring.test/");
        FAIL("expected ClientConnectorError");
      } catch (const ClientConnectorError& e) {
        CHECK(std::string(e.what()).find("unknown.coring.test") != std::string::npos);
      }
    });
  });
}

TEST_CASE("expired DNS answers are dropped as new hosts come: the cache follows the live answers") {
  std::set<std::string> names;
  for (int i = 0; i < 300; ++i) names.insert("host-" + std::to_string(i) + ".coring.test");
  test_support::FakeDns dns(names);
  auto body = [&]() -> Task<> {
    // Answers expire at once, as a crawler's do once it has moved on.
    coring::http::detail::Resolver resolver({.servers = {dns.server()}, .cache_ttl = std::chrono::seconds(0)});
    std::size_t most = 0;
    for (const auto& name : names) {
      bool hit = true;
      const auto addresses = co_await resolver.resolve(name, 80, hit);
      CHECK_FALSE(hit);
      CHECK(addresses.size() == 1);
      most = std::max(most, resolver.cached_hosts());
    }
    CHECK(most <= 64);
    resolver.close();
  };
  run(body());
}

TEST_CASE("an unreachable DNS server is a ClientConnectorError, not a hang") {
  auto body = []() -> Task<> {
    Listener probe = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const auto port = probe.local_address().port();  // nothing answers UDP there
    co_await probe.close();
    SessionOptions options;
    options.connector.dns_servers = {"127.0.0.1:" + std::to_string(port)};
    co_await async_with(ClientSession(std::move(options)), [](ClientSession& s) -> Task<> {
      CHECK_THROWS_AS(co_await s.get("http://nowhere.coring.test/"), ClientConnectorError);
    });
  };
  run(body());
}

TEST_CASE("requests built from temporary URL strings stay valid until they run") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      std::vector<Task<ClientResponse>> requests;
      for (int i = 0; i < 5; ++i) requests.push_back(s.get(server.base_url() + "/bytes/" + std::to_string(i)));
      auto responses = co_await gather(std::move(requests));
      for (int i = 0; i < 5; ++i) CHECK(co_await responses[i].read() == pattern_bytes(static_cast<std::size_t>(i)));
    });
  });
}

TEST_CASE("cookies set by the server come back on later requests, through redirects") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/cookies/set?session=abc&theme=dark");
      CHECK(co_await r.read() == "session=abc; theme=dark");  // the redirect already carried them
      auto again = co_await s.get(server.base_url() + "/cookies");
      CHECK(co_await again.read() == "session=abc; theme=dark");
      CHECK(s.cookie_jar().size() == 2);
    });
    co_await with_session({.use_cookies = false}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/cookies/set?x=1");
      CHECK((co_await r.read()).empty());
      CHECK(s.cookie_jar().size() == 0);
    });
  });
}

TEST_CASE("trace hooks see requests, redirects, queueing, new and reused connections") {
  with_server([](Server& server) -> Task<> {
    std::vector<std::string> events;
    TraceConfig trace;
    trace.on_request_start = [&](const std::string& m, const URL& u) { events.push_back("start " + m + " " + u.path()); };
    trace.on_request_end = [&](const std::string&, const URL&, const ClientResponse& r) {
      events.push_back("end " + std::to_string(r.status()));
    };
    trace.on_request_exception = [&](const std::string&, const URL&, std::exception_ptr) { events.push_back("exception"); };
    trace.on_request_redirect = [&](const URL& from, const ClientResponse&) { events.push_back("redirect " + from.path()); };
    trace.on_connection_queued_start = [&](const URL&) { events.push_back("queued"); };
    trace.on_connection_create_start = [&](const URL&) { events.push_back("create"); };
    trace.on_connection_reuseconn = [&](const URL&) { events.push_back("reuse"); };
    SessionOptions options;
    options.trace_configs.push_back(trace);
    options.connector.limit = 1;
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      co_await (co_await s.get(server.base_url() + "/redirect/1")).read();
      CHECK(events == std::vector<std::string>{"start GET /redirect/1", "create", "redirect /redirect/1", "reuse",
                                               "end 200"});
      events.clear();
      auto fetch = [](ClientSession& session, std::string url) -> Task<> { co_await (co_await session.get(url)).read(); };
      co_await gather(fetch(s, server.base_url() + "/delay/5"), fetch(s, server.base_url() + "/small"));
      CHECK(std::count(events.begin(), events.end(), "queued") == 1);
      events.clear();
      CHECK_THROWS(co_await s.get(server.base_url() + "/bad-status"));
      CHECK(events.back() == "exception");
    });
  });
}

TEST_CASE("raise_for_status on the session raises for 4xx and 5xx from the request itself; a request's own setting wins") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.raise_for_status = true}, [&](ClientSession& s) -> Task<> {
      for (const int status : {404, 500}) {
        try {
          co_await s.get(server.base_url() + "/status/" + std::to_string(status));
          FAIL("expected ClientResponseError");
        } catch (const ClientResponseError& e) {
          CHECK(e.status() == status);
          CHECK(std::string(e.what()).find("/status/" + std::to_string(status)) != std::string::npos);
        }
      }
      auto fine = co_await s.get(server.base_url() + "/status/204");
      CHECK(fine.status() == 204);
      auto redirected = co_await s.get(server.base_url() + "/redirect/2");  // a 302 is not an error
      CHECK(redirected.status() == 200);
      RequestOptions lenient{.raise_for_status = false};
      auto not_found = co_await s.get(server.base_url() + "/status/404", std::move(lenient));
      CHECK(not_found.status() == 404);
    });
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      RequestOptions strict{.raise_for_status = true};
      CHECK_THROWS_AS(co_await s.get(server.base_url() + "/status/503", std::move(strict)), ClientResponseError);
      auto r = co_await s.get(server.base_url() + "/status/503");
      CHECK(r.status() == 503);
    });
  });
}
