// Trailer fields (after a chunked body): the parser keeps them apart from the
// head, under the head's limits; ClientResponse::trailers() gives them once
// the body has been read to its end, however it was read, decoded or not.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/mock.hpp>
#include <coring/http/server.hpp>

#include "../../http/parser.hpp"
#include "../support/mock_fixture.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using namespace std::string_view_literals;
using test_support::with_server;
using test_support::with_session;

namespace {

/// `count` fields "X-T<i>: v" (5 + digits bytes of name and value each).
std::string trailer_fields(std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += "X-T" + std::to_string(i) + ": v\r\n";
  return out;
}

/// A chunked response whose trailer section is `fields` (CRLF-ended lines).
std::string chunked_with(std::string_view fields) {
  return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n" + std::string(fields) + "\r\n";
}

/// Feeds `wire` in pieces of `piece` bytes.
void feed_in_pieces(http::detail::ResponseParser& p, std::string_view wire, std::size_t piece) {
  for (std::size_t at = 0; at < wire.size() && !p.failed() && !p.message_complete(); at += piece)
    p.feed(wire.substr(at, piece));
}

Task<std::string> read_in_chunks(ClientResponse& r) {
  std::string all;
  for (;;) {
    std::string piece = co_await r.content.read_chunk();
    if (piece.empty()) break;
    all += piece;
  }
  co_return all;
}

}  // namespace

TEST_CASE("the parser keeps trailer fields, in order, apart from the head, whole or cut at any byte") {
  const std::string wire = chunked_with("X-Checksum: abc\r\nGrpc-Status: 0\r\nX-Checksum: def\r\n");
  for (const std::size_t piece : {wire.size(), std::size_t{1}, std::size_t{3}}) {
    CAPTURE(piece);
    http::detail::ResponseParser p;
    feed_in_pieces(p, wire, piece);
    REQUIRE(p.message_complete());
    CHECK(p.body() == "hello");
    const Headers& t = p.trailers();
    REQUIRE(t.size() == 3);
    CHECK(*t.begin() == Headers::Field{"X-Checksum", "abc"});
    CHECK(t.get_all("x-checksum") == std::vector<std::string_view>{"abc", "def"});
    CHECK(t.get("grpc-status") == "0");
    CHECK(p.head().headers.size() == 1);  // Transfer-Encoding alone
    CHECK_FALSE(p.head().headers.contains("x-checksum"));
  }
}

TEST_CASE("the parser's trailers are empty without a trailer section, and start() forgets the last ones") {
  http::detail::ResponseParser p;
  p.feed(chunked_with("X-Checksum: abc\r\n"));
  REQUIRE(p.message_complete());
  REQUIRE(p.trailers().size() == 1);
  p.start(false);
  CHECK(p.trailers().empty());
  p.feed(chunked_with(""));
  REQUIRE(p.message_complete());
  CHECK(p.trailers().empty());
  p.start(false);
  p.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  REQUIRE(p.message_complete());
  CHECK(p.trailers().empty());
}

// llhttp reads Connection and Transfer-Encoding in trailers too: either may
// end the connection after the response, none may keep one the head closes.
// Closing is the safe side (a connection not reused costs a connect).
TEST_CASE("a trailer may make the parser close the connection after the response, never keep it") {
  struct Case {
    const char* head;
    const char* trailer;
    bool keep_alive;
  };
  for (const Case c : {Case{"", "X-Checksum: abc\r\n", true}, Case{"", "Connection: close\r\n", false},
                       Case{"", "Transfer-Encoding: gzip\r\n", false}, Case{"", "Content-Length: 3\r\n", true},
                       Case{"Connection: close\r\n", "Connection: keep-alive\r\n", false}}) {
    CAPTURE(c.head);
    CAPTURE(c.trailer);
    http::detail::ResponseParser p;
    p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + std::string(c.head) + "\r\n5\r\nhello\r\n0\r\n" +
           c.trailer + "\r\n");
    REQUIRE(p.message_complete());
    CHECK(p.body() == "hello");
    CHECK(p.trailers().size() == 1);
    CHECK(p.keep_alive() == c.keep_alive);
  }
}

TEST_CASE("the parser bounds trailers as a head: max_headers fields, max_line_size bytes in all, refused in the body") {
  SUBCASE("count, default limits: 128 fields pass, 129 are refused") {
    for (const std::size_t piece : {std::size_t{100000}, std::size_t{1}, std::size_t{7}}) {
      CAPTURE(piece);
      http::detail::ResponseParser at_limit;
      feed_in_pieces(at_limit, chunked_with(trailer_fields(128)), piece);
      REQUIRE(at_limit.message_complete());
      CHECK(at_limit.trailers().size() == 128);
      http::detail::ResponseParser over;
      feed_in_pieces(over, chunked_with(trailer_fields(129)), piece);
      REQUIRE(over.failed());
      CHECK(over.error_in_body());
      CHECK(over.error() == "more than 128 trailer fields");
      CHECK(over.trailers().size() <= 128);
    }
  }
  SUBCASE("size, default limits: 8190 bytes of names and values pass, 8191 are refused") {
    // "X" and its value: 1 + 8189 bytes.
    http::detail::ResponseParser at_limit;
    at_limit.feed(chunked_with("X: " + std::string(8189, 'v') + "\r\n"));
    REQUIRE(at_limit.message_complete());
    CHECK(at_limit.trailers().get("x")->size() == 8189);
    http::detail::ResponseParser over;
    over.feed(chunked_with("X: " + std::string(8190, 'v') + "\r\n"));
    REQUIRE(over.failed());
    CHECK(over.error_in_body());
    CHECK(over.error() == "trailer section longer than 8190 bytes");
  }
  SUBCASE("the limits are the parser's own") {
    const http::detail::ParserLimits limits{.max_line_size = 64, .max_headers = 4};
    http::detail::ResponseParser four(limits);
    four.feed(chunked_with(trailer_fields(4)));
    CHECK(four.message_complete());
    http::detail::ResponseParser five(limits);
    five.feed(chunked_with(trailer_fields(5)));
    CHECK(five.error() == "more than 4 trailer fields");
    http::detail::ResponseParser long_one(limits);
    long_one.feed(chunked_with("X-Long: " + std::string(60, 'v') + "\r\n"));
    CHECK(long_one.error() == "trailer section longer than 64 bytes");
  }
}

TEST_CASE("trailers after a chunked body: one, several, none; none for a body with a length") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto one = co_await s.get(server.base_url() + "/trailers/100");
      CHECK(co_await one.read() == pattern_bytes(100));
      REQUIRE(one.trailers().size() == 1);
      CHECK(one.trailers().get("x-trailer-0") == "t0");
      CHECK_FALSE(one.headers().contains("x-trailer-0"));
      CHECK(one.headers().get("trailer") == "X-Trailer-0");  // the announcement is a header, as sent

      auto several = co_await s.get(server.base_url() + "/trailers/3000?count=3");
      CHECK(co_await several.read() == pattern_bytes(3000));
      REQUIRE(several.trailers().size() == 3);
      const std::vector<Headers::Field> in_order(several.trailers().begin(), several.trailers().end());
      CHECK(in_order == std::vector<Headers::Field>{{"X-Trailer-0", "t0"}, {"X-Trailer-1", "t1"}, {"X-Trailer-2", "t2"}});

      auto none = co_await s.get(server.base_url() + "/trailers/100?count=0");
      CHECK(co_await none.read() == pattern_bytes(100));
      CHECK(none.trailers().empty());

      auto sized = co_await s.get(server.base_url() + "/bytes/100");
      CHECK(co_await sized.read() == pattern_bytes(100));
      CHECK(sized.trailers().empty());
    });
  });
}

TEST_CASE("trailers are empty until the body has been read to its end, by every way of reading it") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string url = server.base_url() + "/trailers/5000?count=2";
      {
        // The whole small response has most likely arrived with its head:
        // the parser holds the trailers already, the response must not show them.
        auto r = co_await s.get(url);
        CHECK(r.trailers().empty());
        CHECK((co_await r.content.read(10)).size() == 10);
        CHECK(r.trailers().empty());
        std::string rest;
        for (;;) {
          std::string piece = co_await r.content.read(777);
          if (piece.empty()) break;
          rest += piece;
        }
        CHECK(rest == pattern_bytes(5000).substr(10));
        CHECK(r.content.at_eof());
        CHECK(r.trailers().size() == 2);
      }
      {
        auto r = co_await s.get(url);
        CHECK(co_await r.text() == pattern_bytes(5000));
        CHECK(r.trailers().get("x-trailer-1") == "t1");
        CHECK(co_await r.text() == pattern_bytes(5000));  // read again: still there
        CHECK(r.trailers().size() == 2);
      }
      {
        auto r = co_await s.get(url);
        CHECK(co_await r.read_view() == pattern_bytes(5000));
        CHECK(r.trailers().size() == 2);
      }
      {
        auto r = co_await s.get(url);
        CHECK(co_await read_in_chunks(r) == pattern_bytes(5000));
        CHECK(r.trailers().size() == 2);
      }
      {
        // Released before its end: never read, never shown.
        auto r = co_await s.get(url);
        r.release();
        CHECK(r.trailers().empty());
      }
    });
  });
}

TEST_CASE("trailers are read off a body that arrives over many reads") {
  // /drip sends a byte per write; a trailer section split over reads is put
  // together by the parser (its unit test cuts at every byte).
  auto handler = [](ServerExchange& ex) -> Task<> {
    co_await ex.write_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nGrpc-"sv);
    co_await sleep(5ms);
    co_await ex.write_raw("Status: 0\r\nGrpc-Mess"sv);
    co_await sleep(5ms);
    co_await ex.write_raw("age: fine\r\n\r\n"sv);
  };
  with_server(
      [](Server& server) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          auto r = co_await s.get(server.base_url() + "/");
          CHECK(co_await r.text() == "hello");
          CHECK(r.trailers().get("grpc-status") == "0");
          CHECK(r.trailers().get("grpc-message") == "fine");
        });
      },
      handler);
}

TEST_CASE("trailers after a gzip body are given once the decoded body has been read to its end") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string url = server.base_url() + "/trailers/200000?count=2&as=gzip";
      auto whole = co_await s.get(url);
      CHECK(whole.headers().get("content-encoding") == "gzip");
      CHECK(co_await whole.read() == pattern_bytes(200000));
      REQUIRE(whole.trailers().size() == 2);
      CHECK(whole.trailers().get("x-trailer-0") == "t0");

      // The encoded body (and its trailers) is all in long before the last
      // decoded bytes are out: the trailers wait for those.
      auto pieces = co_await s.get(url);
      CHECK((co_await pieces.content.read(100)).size() == 100);
      CHECK(pieces.trailers().empty());
      std::string rest;
      for (;;) {
        std::string piece = co_await pieces.content.read(65536);
        if (piece.empty()) break;
        rest += piece;
      }
      CHECK(rest.size() == 200000 - 100);
      CHECK(pieces.trailers().size() == 2);
    });
  });
}

TEST_CASE("trailers over the head's limits are a ClientPayloadError from the read; the session goes on") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto at_limit = co_await s.get(server.base_url() + "/trailers/10?count=128");
      CHECK(co_await at_limit.read() == pattern_bytes(10));
      CHECK(at_limit.trailers().size() == 128);

      for (const std::string query : {"count=129", "size=9000"}) {
        CAPTURE(query);
        auto r = co_await s.get(server.base_url() + "/trailers/10?" + query);
        CHECK(r.status() == 200);
        std::string error;
        try {
          co_await r.read();
        } catch (const ClientPayloadError& e) {
          error = e.what();
        }
        CHECK(error.find("/trailers/10?" + query) != std::string::npos);  // names the URL
        CHECK(error.find(query == "size=9000" ? "trailer section longer than 8190 bytes"
                                              : "more than 128 trailer fields") != std::string::npos);
        CHECK(r.trailers().empty());
      }
      auto after = co_await s.get(server.base_url() + "/trailers/10");
      CHECK(co_await after.read() == pattern_bytes(10));
      CHECK(after.trailers().size() == 1);
    });
  });
}

TEST_CASE("a connection is reused after a response with trailers, and the next response has its own (none)") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto first = co_await s.get(server.base_url() + "/trailers/100?count=3");
      co_await first.read();
      CHECK(first.trailers().size() == 3);
      auto second = co_await s.get(server.base_url() + "/chunked/100");
      co_await second.read();
      CHECK(second.timings().reused_connection);
      CHECK(second.trailers().empty());
      CHECK(first.trailers().size() == 3);  // each response keeps its own
      CHECK(server.connections_accepted() == 1);
    });
  });
}

// RFC 9110 6.5.1: a field that frames, routes, authenticates or sets state
// may not be a trailer, and a recipient must not merge trailers into the
// header section. As curl (CURLH_TRAILER) and aiohttp, coring keeps them apart,
// as sent, and acts on none of them.
TEST_CASE("fields forbidden in trailers are listed as sent and act on nothing: framing, headers, cookies") {
  auto handler = [](ServerExchange& ex) -> Task<> {
    co_await ex.write_raw(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nhello\r\n0\r\n"
        "Content-Length: 3\r\nTransfer-Encoding: gzip\r\nHost: evil.test\r\nContent-Encoding: gzip\r\n"
        "Authorization: Basic ZXZpbDpldmls\r\nSet-Cookie: planted=1; Path=/\r\nContent-Type: text/html\r\n\r\n"sv);
  };
  with_server(
      [](Server& server) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          for (int round = 0; round < 2; ++round) {
            CAPTURE(round);
            auto r = co_await s.get(server.base_url() + "/");
            CHECK(co_await r.text() == "hello");  // not cut to 3 bytes, not gunzipped
            const Headers& h = r.headers();
            CHECK(h.size() == 2);
            CHECK(h.get("content-type") == "text/plain");
            CHECK_FALSE(h.contains("set-cookie"));
            CHECK_FALSE(h.contains("content-length"));
            const Headers& t = r.trailers();
            CHECK(t.size() == 7);
            CHECK(t.get("content-length") == "3");
            CHECK(t.get("transfer-encoding") == "gzip");
            CHECK(t.get("host") == "evil.test");
            CHECK(t.get("content-encoding") == "gzip");
            CHECK(t.get("authorization") == "Basic ZXZpbDpldmls");
            CHECK(t.get("set-cookie") == "planted=1; Path=/");
            CHECK(t.get("content-type") == "text/html");
            CHECK(s.cookie_jar().size() == 0);
          }
        });
      },
      handler);
}

TEST_CASE("MockBackend replies carry trailers, given after the body (none after HEAD)") {
  auto mock = std::make_shared<MockBackend>();
  Headers trailers;
  trailers.add("grpc-status", "0");
  mock->add("GET", "http://api.test/call", {.body = "payload", .trailers = trailers});
  mock->add("HEAD", "http://api.test/call", {.body = "payload", .trailers = trailers});
  test_support::with_mock(mock, [](ClientSession& s) -> Task<> {
    auto r = co_await s.get("http://api.test/call");
    CHECK(r.trailers().empty());
    CHECK(co_await r.text() == "payload");
    CHECK(r.trailers().get("grpc-status") == "0");
    auto again = co_await s.get("http://api.test/call");  // the reply repeats, trailers and all
    co_await again.read();
    CHECK(again.trailers().size() == 1);
    auto head = co_await s.head("http://api.test/call");
    co_await head.read();
    CHECK(head.trailers().empty());
  });
}
