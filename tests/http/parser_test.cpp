// The response and request parsers (http/parser.hpp): bytes in, heads and
// bodies out, under their limits; no sockets.
#include <doctest/doctest.h>

#include <string>

#include <coring/http/headers.hpp>

#include "../../http/parser.hpp"

using namespace coring::http;

TEST_CASE("the parser reads a response split at every byte") {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
  detail::ResponseParser p;
  for (char c : wire) p.feed(std::string_view(&c, 1));
  REQUIRE(p.message_complete());
  CHECK(p.head().status == 200);
  CHECK(p.head().reason == "OK");
  CHECK(p.head().headers.get("content-type") == "text/plain");
  CHECK(p.body() == "hello world");
  CHECK(p.keep_alive());
}

TEST_CASE("the parser keeps empty header values, and leaves trailers out of the head") {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Spaces:   \r\nTransfer-Encoding: chunked\r\nX-Last: 1\r\n\r\n"
      "5\r\nhello\r\n0\r\nX-Trailer: t\r\nX-Trailer-2: u\r\n\r\n";
  for (const std::size_t piece : {wire.size(), std::size_t{1}, std::size_t{3}}) {
    CAPTURE(piece);
    detail::ResponseParser p;
    for (std::size_t at = 0; at < wire.size(); at += piece) p.feed(std::string_view(wire).substr(at, piece));
    REQUIRE(p.message_complete());
    const Headers& h = p.head().headers;
    CHECK(h.size() == 4);
    CHECK(h.get("x-empty") == "");
    CHECK(h.get("x-spaces") == "");
    CHECK(h.get("transfer-encoding") == "chunked");
    CHECK(h.get("x-last") == "1");
    CHECK_FALSE(h.contains("x-trailer"));
    CHECK_FALSE(h.contains("x-trailer-2"));
    CHECK(p.body() == "hello");
  }
}

TEST_CASE("whether the connection stays open is known from the head, before the body") {
  // A pipelining client decides from the head; a body still on its way must
  // not make a keep-alive connection look like a closing one.
  detail::ResponseParser p;
  p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
  REQUIRE(p.head_complete());
  CHECK_FALSE(p.message_complete());
  CHECK(p.keep_alive());
  p.feed("0123456789");
  CHECK(p.message_complete());
  CHECK(p.keep_alive());
  p.start(false);
  p.feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\n");
  REQUIRE(p.head_complete());
  CHECK_FALSE(p.keep_alive());
  p.start(false);
  p.feed("HTTP/1.1 200 OK\r\n\r\nuntil the end");  // delimited by the close
  REQUIRE(p.head_complete());
  CHECK_FALSE(p.keep_alive());
}

TEST_CASE("the request parser reads a chunked body split at every byte, then the next request") {
  // What a streamed upload (RequestOptions::body_stream) looks like to the server.
  const std::string wire =
      "PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n10\r\n, sixteen bytes!\r\n0\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  detail::RequestParser p;
  std::size_t used = 0;
  while (used < wire.size() && !p.message_complete()) used += p.feed(std::string_view(&wire[used], 1));
  REQUIRE(p.message_complete());
  CHECK(p.head().method == "PUT");
  CHECK(p.body() == "hello, sixteen bytes!");
  CHECK(p.keep_alive());
  p.start();
  p.feed(std::string_view(wire).substr(used));
  REQUIRE(p.message_complete());
  CHECK(p.head().target == "/next");
  CHECK(p.body().empty());
}

TEST_CASE("the parser skips 1xx interim responses") {
  detail::ResponseParser p;
  p.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  REQUIRE(p.message_complete());
  CHECK(p.head().status == 201);
  CHECK(p.body() == "ok");
}

TEST_CASE("the parser stops at the end of a response and reports what is left") {
  detail::ResponseParser p;
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
  CHECK(p.feed(wire) == wire.size() - 5);
  CHECK(p.message_complete());
}

TEST_CASE("a HEAD response has no body whatever its Content-Length says") {
  detail::ResponseParser p;
  p.start(true);
  p.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
  CHECK(p.message_complete());
  CHECK(p.body().empty());
}

TEST_CASE("1xx, 204 and 304 responses have no body whatever their headers say") {
  detail::ResponseParser p;
  p.feed("HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  REQUIRE(p.message_complete());
  CHECK(p.body() == "ok");
  for (const char* status : {"204 No Content", "304 Not Modified"}) {
    p.start(false);
    const std::string wire = std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 5\r\n\r\n";
    CHECK(p.feed(wire) == wire.size());
    CHECK(p.message_complete());
    CHECK(p.keep_alive());
    CHECK(p.body().empty());
  }
}

TEST_CASE("a body delimited by close ends at EOF; a truncated one fails") {
  detail::ResponseParser p;
  p.feed("HTTP/1.1 200 OK\r\n\r\nuntil close");
  CHECK_FALSE(p.message_complete());
  p.finish();
  CHECK(p.message_complete());
  CHECK(p.body() == "until close");
  CHECK_FALSE(p.keep_alive());

  detail::ResponseParser q;
  q.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  q.finish();
  CHECK(q.failed());
  CHECK(q.error_in_body());
}

TEST_CASE("limits: a long header line, too many headers, a body over the limit") {
  detail::ResponseParser a;
  a.feed("HTTP/1.1 200 OK\r\nX: " + std::string(9000, 'x') + "\r\n\r\n");
  CHECK(a.failed());
  CHECK(a.error().find("8190") != std::string::npos);

  detail::ResponseParser b;
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 129; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  b.feed(many + "\r\n");
  CHECK(b.failed());
  CHECK(b.error().find("128") != std::string::npos);

  detail::ResponseParser c({.max_body_size = 4});
  c.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
  CHECK(c.failed());
  CHECK(c.error_in_body());
}

TEST_CASE("limits on a request's head: a long header line, too many headers, each refused as it comes") {
  // The server's parser reads its fields as the client's does, under the same limits.
  detail::RequestParser a;
  const std::string line = "GET / HTTP/1.1\r\nX: " + std::string(9000, 'x') + "\r\n";
  CHECK(a.feed(line) == 0);  // refused in the line, before its end
  CHECK(a.failed());
  CHECK(a.error() == "header line longer than 8190 bytes");
  CHECK(a.error_status() == 431);
  CHECK(a.head().headers.byte_capacity() < 9000);

  detail::RequestParser b;
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 129; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  b.feed(many);
  CHECK(b.failed());  // at the 129th, without waiting for the head's end
  CHECK(b.error() == "more than 128 headers");
  CHECK(b.error_status() == 431);
  CHECK(b.head().headers.size() == 128);

  detail::RequestParser c;
  c.feed("GET / HTTP/1.1\r\nX: " + std::string(8000, 'x') + "\r\nHost: h\r\n\r\n");
  CHECK(c.message_complete());
  CHECK(c.head().headers.get("x")->size() == 8000);

  detail::RequestParser d;  // a target over the line limit, refused before its end
  CHECK(d.feed("GET /" + std::string(9000, 'p')) == 0);
  CHECK(d.error() == "request target longer than 8190 bytes");
  CHECK(d.error_status() == 414);

  detail::RequestParser e;  // llhttp's own refusals keep its name for the cause
  e.feed("GE T / HTTP/1.1\r\n\r\n");
  CHECK(e.error().starts_with("HPE_"));
  CHECK(e.error_status() == 400);
  d.start();  // the next request on the connection starts clean
  CHECK_FALSE(d.failed());
  CHECK(d.error_status() == 400);
}

TEST_CASE("malformed status lines and chunk sizes fail without crashing") {
  for (std::string wire : {"HTTP/1.1 two hundred OK\r\n\r\n", "NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    detail::ResponseParser p;
    p.feed(wire);
    CHECK_MESSAGE(p.failed(), wire);
  }
}
