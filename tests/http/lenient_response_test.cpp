// A response whose head lines end in bare LF is read as if they ended in
// CRLF (RFC 9112 2.2 allows it; curl's test 1417 and aiohttp do it), whole
// or cut anywhere by reads; its body is left as sent. Requests stay strict:
// see server_smuggling_test.cpp.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>

#include "../../http/parser.hpp"
#include "../support/raw_client.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::read_until;
using test_support::send_text;
using test_support::with_session;

namespace {

const std::string bare_lf_response = "HTTP/1.0 200 OK\nFoo: abc\n\nBODY";

/// Serves one connection: reads a request head, sends `response` (in
/// `piece`-byte sends a millisecond apart; 0: whole), then closes.
Task<> answer_once(Listener& listener, const std::string& response, std::size_t piece) {
  Socket peer = co_await listener.accept();
  co_await read_until(peer, "\r\n\r\n");
  if (piece == 0) {
    co_await send_text(peer, response);
  } else {
    for (std::size_t at = 0; at < response.size(); at += piece) {
      co_await send_text(peer, std::string_view(response).substr(at, piece));
      co_await sleep(1ms);
    }
  }
  co_await peer.close();
}

/// What ClientSession makes of `response`: "status|Foo|body".
std::string fetched(const std::string& response, std::size_t piece) {
  std::string out;
  run([&]() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    auto serving = create_task(answer_once(listener, response, piece));
    const std::string url = "http://" + listener.local_address().to_string() + "/";
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(url);
      out = std::to_string(r.status()) + "|" + std::string(r.headers().get("Foo").value_or("-")) + "|" +
            co_await r.text();
    });
    co_await wait_for(serving, 5s);
    co_await listener.close();
  }());
  return out;
}

/// The parser fed `wire` `piece` bytes at a time: "status|Foo|body|used",
/// `used` being the bytes it took.
std::string parsed(const std::string& wire, std::size_t piece, bool head_request = false) {
  http::detail::ResponseParser parser;
  parser.start(head_request);
  std::size_t used = 0;
  for (std::size_t at = 0; at < wire.size() && !parser.failed() && !parser.message_complete(); at += piece) {
    used += parser.feed(std::string_view(wire).substr(at, piece));
  }
  if (!parser.failed() && !parser.message_complete()) parser.finish();
  if (parser.failed()) return "failed: " + parser.error();
  const auto foo = parser.head().headers.get("Foo");
  return std::to_string(parser.head().status) + "|" + std::string(foo.value_or("-")) + "|" + parser.body() + "|" +
         std::to_string(used);
}

}  // namespace

TEST_CASE("ClientSession reads a response with bare LF line endings, whole and in pieces") {
  CHECK(fetched(bare_lf_response, 0) == "200|abc|BODY");
  CHECK(fetched(bare_lf_response, 1) == "200|abc|BODY");
  CHECK(fetched(bare_lf_response, 3) == "200|abc|BODY");
}

TEST_CASE("the response parser takes bare LF in the head, cut anywhere, and leaves the body's LFs alone") {
  for (const std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{1000}}) {
    CAPTURE(piece);
    CHECK(parsed(bare_lf_response, piece) == "200|abc|BODY|30");
    CHECK(parsed("HTTP/1.0 200 OK\nFoo: abc\n\nA\nB\r\n", piece) == "200|abc|A\nB\r\n|31");
    // Mixed: CRLF cut between reads is not taken for a bare LF.
    CHECK(parsed("HTTP/1.1 200 OK\r\nFoo: abc\nContent-Length: 4\r\n\nBODY", piece) == "200|abc|BODY|50");
    // A head ending at a bare LF, then a body starting with one.
    CHECK(parsed("HTTP/1.1 200 OK\nFoo: abc\nContent-Length: 2\n\n\n\n", piece) == "200|abc|\n\n|46");
    // A message ending with its head: the bytes taken are those of the
    // response as sent, the next one left unread.
    CHECK(parsed("HTTP/1.1 204 No Content\nFoo: abc\n\nHTTP/1.1 200 OK\n\n", piece) == "204|abc||34");
    CHECK(parsed("HTTP/1.1 200 OK\nFoo: abc\nContent-Length: 9\n\nHTTP/1.1 200", piece, true) == "200|abc||44");
  }
}

TEST_CASE("a bare CR in a response head is still refused") {
  CHECK(parsed("HTTP/1.1 200 OK\r\nFoo: a\rb\r\n\r\n", 1000).starts_with("failed: "));
  CHECK(parsed("HTTP/1.1 200 OK\r\nFoo: a\rb\r\n\r\n", 1).starts_with("failed: "));
}
