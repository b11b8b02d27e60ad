// A streamed request body of known length (RequestOptions::body_length, or a
// Content-Length header beside body_stream): sent with Content-Length and
// unframed; a producer that yields another count fails the request.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../support/body_stream.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::chunks_of;
using test_support::stream_of;
using test_support::with_server;
using test_support::with_session;

namespace {

/// The request's head as /echo shows it: the lines before the blank one.
std::string echoed_head(const std::string& echo) { return echo.substr(0, echo.find("\n\n") + 1); }
/// The request's body as /echo shows it.
std::string echoed_body(const std::string& echo) { return echo.substr(echo.find("\n\n") + 2); }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A hang would end in this rather than in the error a test expects.
const ClientTimeout bounded{.total = Seconds(10)};

}  // namespace

TEST_CASE("a streamed body with a body_length goes out with Content-Length, its chunks unframed, "
          "and leaves the connection reusable") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string big = pattern_bytes(100000);
      auto chunks = chunks_of({"a", big, "end"});
      RequestOptions o{.body_stream = stream_of(chunks), .body_length = 1 + big.size() + 3, .timeout = bounded};
      auto r = co_await s.put(server.base_url() + "/echo", std::move(o));
      const std::string echo = co_await r.read();
      const std::string head = echoed_head(echo);
      CHECK(has(head, "\nContent-Length: 100004\n"));
      CHECK_FALSE(has(head, "Transfer-Encoding"));
      // Chunk framing under a Content-Length would reach the handler as body bytes.
      CHECK(echoed_body(echo) == "a" + big + "end");
      CHECK(chunks->next == 3);

      auto again = co_await s.get(server.base_url() + "/small");
      CHECK(co_await again.read() == "Hello, world!");
      CHECK(again.timings().reused_connection);
      CHECK(server.connections_accepted() == 1);
    });
  });
}

TEST_CASE("a streamed body of length 0 sends Content-Length: 0 and asks the producer once") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto chunks = chunks_of({});
      RequestOptions o{.body_stream = stream_of(chunks), .body_length = 0, .timeout = bounded};
      auto r = co_await s.post(server.base_url() + "/echo", std::move(o));
      const std::string echo = co_await r.read();
      CHECK(has(echoed_head(echo), "\nContent-Length: 0\n"));
      CHECK_FALSE(has(echoed_head(echo), "Transfer-Encoding"));
      CHECK(echoed_body(echo).empty());
    });
  });
}

TEST_CASE("a Content-Length header beside a body_stream is its length, as curl takes it") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      Headers headers;
      headers.add("Content-Length", "11");
      RequestOptions o{.headers = headers, .body_stream = stream_of(chunks_of({"hello", " world"})), .timeout = bounded};
      auto r = co_await s.put(server.base_url() + "/echo", std::move(o));
      const std::string echo = co_await r.read();
      CHECK(has(echoed_head(echo), "\nContent-Length: 11\n"));
      CHECK_FALSE(has(echoed_head(echo), "Transfer-Encoding"));
      CHECK(echoed_body(echo) == "hello world");
    });
  });
}

TEST_CASE("a length that contradicts itself or has no stream is refused before anything is sent") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string url = server.base_url() + "/echo";
      Headers eleven;
      eleven.add("Content-Length", "11");
      RequestOptions differ{.headers = eleven, .body_stream = stream_of(chunks_of({"x"})), .body_length = 12};
      CHECK_THROWS_WITH_AS(co_await s.put(url, std::move(differ)),
                           doctest::Contains("body_length of 12 and a Content-Length header of 11"),
                           InvalidRequestError);
      Headers words;
      words.add("Content-Length", "11 bytes");
      RequestOptions bad{.headers = words, .body_stream = stream_of(chunks_of({"x"}))};
      CHECK_THROWS_WITH_AS(co_await s.put(url, std::move(bad)), doctest::Contains("\"11 bytes\""),
                           InvalidRequestError);
      RequestOptions no_stream{.body = "x", .body_length = 1};
      CHECK_THROWS_WITH_AS(co_await s.put(url, std::move(no_stream)), doctest::Contains("no body_stream"),
                           InvalidRequestError);
      CHECK(server.connections_accepted() == 0);
    });
  });
}

TEST_CASE("a producer that yields more than body_length fails the request, and the server never gets a whole body") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      CHECK(co_await (co_await s.get(server.base_url() + "/small")).read() == "Hello, world!");
      // 3 + 5 > 6: sending the first 3 bytes of "defgh" would make a whole,
      // wrong, 6-byte body that the server would serve.
      auto chunks = chunks_of({"abc", "defgh", "never"});
      RequestOptions o{.body_stream = stream_of(chunks), .body_length = 6, .timeout = bounded};
      CHECK_THROWS_WITH_AS(co_await s.put(server.base_url() + "/echo", std::move(o)),
                           doctest::Contains("Content-Length of 6: the body_stream yielded more (8 bytes so far)"),
                           ClientPayloadError);
      CHECK(chunks->next == 2);
      CHECK(server.requests_served() == 1);  // the GET alone
      // Half a body went out on that connection: it is closed, not reused.
      auto r = co_await s.get(server.base_url() + "/small");
      CHECK(co_await r.read() == "Hello, world!");
      CHECK_FALSE(r.timings().reused_connection);
      CHECK(server.connections_accepted() == 2);
    });
  });
}

TEST_CASE("a producer that ends before body_length fails the request at once, not waiting for the server") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      CHECK(co_await (co_await s.get(server.base_url() + "/small")).read() == "Hello, world!");
      auto chunks = chunks_of({"abc", "de"});
      RequestOptions o{.body_stream = stream_of(chunks), .body_length = 10, .timeout = bounded};
      const auto started = std::chrono::steady_clock::now();
      CHECK_THROWS_WITH_AS(co_await s.put(server.base_url() + "/echo", std::move(o)),
                           doctest::Contains("Content-Length of 10: the body_stream ended after 5 bytes"),
                           ClientPayloadError);
      // The server waits for 5 more bytes: only the client can end this.
      CHECK(std::chrono::steady_clock::now() - started < 5s);
      CHECK(server.requests_served() == 1);
      auto r = co_await s.get(server.base_url() + "/small");
      CHECK(co_await r.read() == "Hello, world!");
      CHECK_FALSE(r.timings().reused_connection);
      CHECK(server.connections_accepted() == 2);
    });
  });
}
