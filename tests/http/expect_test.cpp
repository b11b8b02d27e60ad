// Expect: 100-continue (RequestOptions::expect100): the client holds the body
// until the server's 100 Continue or the timeout, and not at all past a
// final answer; retried without it after a 417. And the project's server
// answering the expectation.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../support/body_stream.hpp"
#include "../support/raw_client.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::chunks_of;
using test_support::read_until;
using test_support::read_within;
using test_support::send_text;
using test_support::stream_of;
using test_support::with_server;
using test_support::with_server_options;
using test_support::with_session;

namespace {

using Clock = std::chrono::steady_clock;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
std::string echoed_head(const std::string& echo) { return echo.substr(0, echo.find("\n\n") + 1); }
std::string echoed_body(const std::string& echo) { return echo.substr(echo.find("\n\n") + 2); }

// A hang would end in this rather than in what a test expects.
const ClientTimeout bounded{.total = Seconds(10)};

/// One connection as a raw server saw it.
struct Exchange {
  std::string head;  // with its blank line
  std::string body;  // every byte after the head
  bool client_closed = false;
  bool done = false;  // the server is through with it
  Clock::time_point head_at{}, body_at{};  // when the head was in; the first body byte
};

std::size_t declared_length(const std::string& head) {
  const auto at = head.find("Content-Length: ");
  return at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
}

Task<> read_head_into(Socket& socket, Exchange& e) {
  const std::string got = co_await read_until(socket, "\r\n\r\n");
  const auto end = got.find("\r\n\r\n");
  if (end == std::string::npos) throw std::runtime_error("no request head, only: " + got);
  e.head = got.substr(0, end + 4);
  e.body = got.substr(end + 4);
  e.head_at = Clock::now();
  if (!e.body.empty()) e.body_at = e.head_at;
}

Task<> read_body_loop(Socket& socket, Exchange& e, std::size_t size) {
  char buffer[4096];
  try {
    for (int reads = 0; reads < 10000 && e.body.size() < size; ++reads) {
      const std::size_t n = co_await socket.recv(std::as_writable_bytes(std::span(buffer)));
      if (n == 0) {
        e.client_closed = true;
        co_return;
      }
      if (e.body.empty()) e.body_at = Clock::now();
      e.body.append(buffer, n);
    }
  } catch (const OSError&) {  // reset: closed too
    e.client_closed = true;
  }
}

/// Reads body bytes until `size` are in, the client closes, or `limit` passes.
Task<> read_body_into(Socket& socket, Exchange& e, std::size_t size, std::chrono::milliseconds limit) {
  try {
    co_await wait_for(read_body_loop(socket, e, size), limit);
  } catch (const coring::TimeoutError&) {
  }
}

/// One connection: reads the head; sends `answer` at once if given; reads
/// what follows until `body_size` bytes, or the client's close when
/// `body_size` is SIZE_MAX (3 s at most); then sends `then`, if given.
Task<> serve_one(Listener& listener, Exchange& e, std::string answer, std::size_t body_size, std::string then) {
  Socket socket = co_await listener.accept();
  std::exception_ptr failure;
  try {
    co_await read_head_into(socket, e);
    if (!answer.empty()) co_await send_text(socket, answer);
    const std::size_t size = body_size == SIZE_MAX ? SIZE_MAX : declared_length(e.head);
    co_await read_body_into(socket, e, size, 3000ms);
    if (!then.empty()) co_await send_text(socket, then);
  } catch (...) {
    failure = std::current_exception();
  }
  e.done = true;
  co_await socket.close();
  if (failure) std::rethrow_exception(failure);
}

constexpr std::size_t until_close = SIZE_MAX;
constexpr std::size_t declared = 0;
const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// Runs `use(url)` against a raw server on 127.0.0.1 that runs `serve(listener)`.
template <class Serve, class Use>
Task<> against(Serve serve, Use use) {
  Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
  const std::string url = "http://" + listener.local_address().to_string() + "/upload";
  auto serving = create_task(serve(listener));
  std::exception_ptr failure;
  try {
    co_await use(url);
  } catch (...) {
    failure = std::current_exception();
  }
  // The server's side ends on its own, unless a test failed it: it waits
  // for no connection that is not coming.
  for (int polls = 0; !failure && !serving.done() && polls < 5000; ++polls) co_await sleep(1ms);
  serving.cancel();  // no-op once it is done
  try {
    co_await serving;
  } catch (const CancelledError&) {
  } catch (...) {
    if (!failure) failure = std::current_exception();
  }
  co_await listener.close();
  if (failure) std::rethrow_exception(failure);
}

/// Waits (3 s at most) until the raw server is through with `e`.
Task<> until_done(const Exchange& e) {
  for (int polls = 0; !e.done && polls < 3000; ++polls) co_await sleep(1ms);
}

}  // namespace

TEST_CASE("with expect100 the embedded server answers 100, the body follows, and the connection stays reusable") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      // A timeout longer than `total`: only the server's 100 lets the body go.
      RequestOptions fixed{.body = "fixed body", .expect100 = true, .expect100_timeout = 60s, .timeout = bounded};
      const auto started = Clock::now();
      auto r = co_await s.post(server.base_url() + "/echo", std::move(fixed));
      const std::string echo = co_await r.read();
      CHECK(r.status() == 200);
      CHECK(has(echoed_head(echo), "\nExpect: 100-continue\n"));
      CHECK(echoed_body(echo) == "fixed body");

      // The header alone asks for the same; a streamed body waits too.
      Headers expect;
      expect.add("Expect", "100-Continue");
      auto chunks = chunks_of({"streamed", " body"});
      RequestOptions streamed{.headers = expect, .body_stream = stream_of(chunks),
                              .expect100_timeout = 60s, .timeout = bounded};
      auto again = co_await s.put(server.base_url() + "/echo", std::move(streamed));
      const std::string echo2 = co_await again.read();
      CHECK(has(echoed_head(echo2), "\nExpect: 100-continue\n"));
      CHECK(echoed_body(echo2) == "streamed body");
      CHECK(again.timings().reused_connection);
      CHECK(Clock::now() - started < 5s);

      // No body, no expectation.
      RequestOptions none{.expect100 = true, .timeout = bounded};
      auto get = co_await s.get(server.base_url() + "/echo", std::move(none));
      CHECK_FALSE(has(echoed_head(co_await get.read()), "Expect"));
      CHECK(server.connections_accepted() == 1);
    });
  });
}

TEST_CASE("a final answer before 100 is the response: the body is never sent and the connection is closed") {
  for (const int status : {200, 403}) {
    for (const bool streamed : {false, true}) {
      CAPTURE(status);
      CAPTURE(streamed);
      Exchange e;
      const std::string answer = "HTTP/1.1 " + std::to_string(status) + " Whatever\r\nContent-Length: 2\r\n\r\nno";
      auto chunks = chunks_of({"the body"});
      run(against([&](Listener& l) { return serve_one(l, e, answer, until_close, ""); },
                   [&](std::string url) -> Task<> {
                     co_await with_session({}, [&](ClientSession& s) -> Task<> {
                       RequestOptions o{.expect100 = true, .expect100_timeout = 100ms, .timeout = bounded};
                       if (streamed) {
                         o.body_stream = stream_of(chunks);
                       } else {
                         o.body = "the body";
                       }
                       auto r = co_await s.put(url, std::move(o));
                       co_await sleep(300ms);  // past expect100_timeout: still nothing goes
                       CHECK(r.status() == status);
                       CHECK(co_await r.text() == "no");
                       r.release();
                       co_await until_done(e);  // the session, still open, has closed it
                     });
                   }));
      CHECK(has(e.head, "\r\nExpect: 100-continue\r\n"));
      CHECK(e.client_closed);
      CHECK(e.body.empty());
      CHECK(chunks->next == 0);
    }
  }
}

TEST_CASE("a 417 before 100 makes the request go again without Expect, the streamed body whole") {
  Exchange refused, retried;
  auto chunks = chunks_of({"all ", "of ", "it"});
  std::string answer;
  run(against(
      [&](Listener& l) -> Task<> {
        co_await serve_one(l, refused, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n", until_close, "");
        co_await serve_one(l, retried, "", declared, ok);
      },
      [&](std::string url) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          RequestOptions o{.body_stream = stream_of(chunks), .body_length = 9, .expect100 = true, .timeout = bounded};
          auto r = co_await s.put(url, std::move(o));
          CHECK(r.status() == 200);
          answer = co_await r.text();
        });
      }));
  CHECK(answer == "ok");
  CHECK(has(refused.head, "\r\nExpect: 100-continue\r\n"));
  CHECK(refused.body.empty());
  CHECK(refused.client_closed);
  CHECK_FALSE(has(retried.head, "Expect"));
  CHECK(has(retried.head, "\r\nContent-Length: 9\r\n"));
  CHECK(retried.body == "all of it");
}

TEST_CASE("a server that never answers 100 gets the body after expect100_timeout") {
  Exchange e;
  std::string answer;
  run(against([&](Listener& l) { return serve_one(l, e, "", declared, ok); },
              [&](std::string url) -> Task<> {
                co_await with_session({}, [&](ClientSession& s) -> Task<> {
                  RequestOptions o{.body = "late body", .expect100 = true,
                                   .expect100_timeout = 150ms, .timeout = bounded};
                  auto r = co_await s.post(url, std::move(o));
                  answer = co_await r.text();
                });
              }));
  CHECK(answer == "ok");
  CHECK(has(e.head, "\r\nExpect: 100-continue\r\n"));
  CHECK(e.body == "late body");
  // Held back for the timeout (less the head's trip), and not for the default 1 s.
  CHECK(e.body_at - e.head_at >= 100ms);
  CHECK(e.body_at - e.head_at < 900ms);
}

namespace {

Task<Socket> connect_to(Server& server) { co_return co_await Socket::connect(server.address()); }

}  // namespace

TEST_CASE("the embedded server answers Expect: 100-continue with 100 before it reads the body") {
  with_server([](Server& server) -> Task<> {
    Socket socket = co_await connect_to(server);
    co_await send_text(socket, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    const auto go_on = co_await read_within(socket, 2000ms, "\r\n\r\n");
    CHECK(go_on == "HTTP/1.1 100 Continue\r\n\r\n");
    co_await send_text(socket, "hello");
    const auto answer = co_await read_within(socket, 2000ms, "\n\nhello");
    REQUIRE(answer);
    CHECK(answer->starts_with("HTTP/1.1 200 OK\r\n"));
    co_await socket.close();
  });
}

TEST_CASE("the embedded server refuses a body over its limit with 413 at once, without a 100") {
  with_server_options({.client_max_size = 100}, [](Server& server) -> Task<> {
    Socket socket = co_await connect_to(server);
    co_await send_text(socket, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n");
    const auto answer = co_await read_within(socket, 2000ms, "\r\n\r\n");
    REQUIRE(answer);
    CHECK(answer->starts_with("HTTP/1.1 413 "));
    co_await socket.close();
  });
}

TEST_CASE("the embedded server ignores the expectation of an HTTP/1.0 request, as RFC 9110 requires") {
  with_server([](Server& server) -> Task<> {
    Socket socket = co_await connect_to(server);
    co_await send_text(socket, "POST /echo HTTP/1.0\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    CHECK_FALSE(co_await read_within(socket, 200ms, "\r\n\r\n"));
    co_await send_text(socket, "hi");
    const auto answer = co_await read_within(socket, 2000ms);
    REQUIRE(answer);
    CHECK(answer->starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(answer->ends_with("\n\nhi"));
    co_await socket.close();
  });
}
