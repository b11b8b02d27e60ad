// Request smuggling: requests whose framing a proxy in front could read
// otherwise than the embedded server are refused with 400, the connection
// closed, the handler never called. Each case is sent whole to a server and
// fed a byte at a time to its parser (reads may cut a request anywhere).
// Which llhttp 8.1.0 refuses itself and which our parser refuses for it:
// see http/parser.cpp.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <coring/coring.hpp>
#include <coring/http/server.hpp>

#include "../../http/parser.hpp"
#include "../support/raw_client.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::read_within;
using test_support::send_text;
using test_support::with_server_options;

namespace {

/// What the server answered to `request` sent whole, and whether its
/// handler was called. Fails the test if the server did not close.
struct Outcome {
  std::string reply;
  int calls = 0;
};

Outcome send_to_server(const std::string& request) {
  Outcome out;
  with_server_options(
      {},
      [&](Server& server) -> Task<> {
        Socket socket = co_await Socket::connect(server.address());
        co_await send_text(socket, request);
        const auto reply = co_await read_within(socket, 5s);
        CHECK_MESSAGE(reply.has_value(), "the server did not close the connection");
        out.reply = reply.value_or("");
        co_await socket.close();
      },
      test_support::counting(out.calls, true));
  return out;
}

/// Whether the parser, fed `request` a byte at a time, refused it with 400
/// before completing a message.
bool refused_byte_by_byte(const std::string& request) {
  http::detail::RequestParser parser;
  for (const char c : request) {
    parser.feed(std::string_view(&c, 1));
    if (parser.failed() || parser.message_complete()) break;
  }
  return parser.failed() && parser.error_status() == 400;
}

void check_refused(const std::string& request) {
  CAPTURE(request);
  const Outcome out = send_to_server(request);
  CHECK(out.reply.starts_with("HTTP/1.1 400 Bad Request\r\n"));
  CHECK(out.calls == 0);
  CHECK(refused_byte_by_byte(request));
}

const std::string post = "POST /echo HTTP/1.1\r\nHost: t\r\n";

}  // namespace

TEST_CASE("a well-formed chunked request is served, whole and a byte at a time (the checks below can pass)") {
  const std::string request = post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n";
  const Outcome out = send_to_server(request);
  CHECK(out.reply.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(out.calls == 1);
  http::detail::RequestParser parser;
  for (const char c : request) parser.feed(std::string_view(&c, 1));
  CHECK(parser.message_complete());
  CHECK(parser.body() == "abc");
}

TEST_CASE("Content-Length with Transfer-Encoding: chunked is refused, in either order") {
  check_refused(post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  check_refused(post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n");
}

TEST_CASE("a second Content-Length is refused, equal or not, as is a list") {
  check_refused(post + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
  check_refused(post + "Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde");
  check_refused(post + "Content-Length: 3, 3\r\n\r\nabc");
}

TEST_CASE("a bare CR in a header line is refused (CVE-2023-30589's form among them)") {
  check_refused(post + "X-Abc: \rxTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n");
  check_refused(post + "X-Abc: a\rb\r\nContent-Length: 0\r\n\r\n");
  check_refused("GET / HTTP/1.1\rHost: t\r\n\r\n");
}

TEST_CASE("obs-fold in a request is refused (CVE-2024-27982's form among them)") {
  check_refused("GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n");
  check_refused("GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n\tb\r\n\r\n");
  check_refused(post + "X: a\r\n Content-Length: 5\r\n\r\nabcde");
  check_refused(post + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n");
}

TEST_CASE("a Transfer-Encoding that does not end in chunked is refused") {
  check_refused(post + "Transfer-Encoding: chunked, identity\r\n\r\nabc");
  check_refused(post + "Transfer-Encoding: identity\r\n\r\nabc");
  check_refused(post + "Transfer-Encoding: gzip\r\n\r\nabc");
  check_refused(post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\nabc");
  check_refused("POST /echo HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");  // RFC 9112 6.1
}

TEST_CASE("whitespace between a header name and its colon is refused") {
  check_refused("GET / HTTP/1.1\r\nHost: t\r\nX : b\r\n\r\n");
  check_refused(post + "Content-Length : 3\r\n\r\nabc");
  check_refused(post + "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n");
}

TEST_CASE("a request with bare LF line endings is refused: requests stay strict") {
  check_refused("GET / HTTP/1.1\nHost: t\n\n");
  check_refused("GET / HTTP/1.1\r\nHost: t\r\n\n");  // only the last line: llhttp 8.1.0 took it
  check_refused("GET / HTTP/1.1\nHost: t\r\n\r\n");  // only the request line: likewise
}

TEST_CASE("a chunk's data must be followed by CRLF, not by any two bytes") {
  check_refused(post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n");
  check_refused(post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\n");
}
