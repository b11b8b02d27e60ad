// The embedded server's limits (ServerOptions): a request body's size, the
// time a head may take, a keep-alive connection's idle time, and the number
// of connections at once. Raw loopback clients, small limits: each test
// would hang on a server without the limit, and its bounded reads fail it.
// Last, the head's line limits as a ClientSession sees them.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../support/raw_client.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::counting;
using test_support::read_within;
using test_support::send_text;
using test_support::with_server;
using test_support::with_server_options;
using test_support::with_session;

namespace {

const std::string small_request = "GET /small HTTP/1.1\r\nHost: t\r\n\r\n";

}  // namespace

TEST_CASE("a declared body over client_max_size is answered 413 before it is sent, and the connection closed") {
  int calls = 0;
  with_server_options(
      {.client_max_size = 1000},
      [&](Server& server) -> Task<> {
        Socket socket = co_await Socket::connect(server.address());
        // A GiB promised, not a byte of it sent: only a server that does not
        // wait for the body answers.
        co_await send_text(socket, "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 1073741824\r\n\r\n");
        const auto reply = co_await read_within(socket, 5s);
        REQUIRE(reply.has_value());  // answered, and closed
        CHECK(reply->starts_with("HTTP/1.1 413 Payload Too Large\r\n"));
        CHECK(reply->find("Connection: close\r\n") != std::string::npos);
        CHECK(reply->find("1073741824") != std::string::npos);  // the cause names the size
        co_await socket.close();

        // At the limit exactly: served.
        Socket at_limit = co_await Socket::connect(server.address());
        co_await send_text(at_limit, "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n" +
                                         std::string(1000, 'a'));
        const auto served = co_await read_within(at_limit, 5s);
        REQUIRE(served.has_value());
        CHECK(served->starts_with("HTTP/1.1 200 OK\r\n"));
        co_await at_limit.close();
      },
      counting(calls));
  CHECK(calls == 1);
}

TEST_CASE("a chunked body is answered 413 once it grows past client_max_size, not before") {
  int calls = 0;
  with_server_options(
      {.client_max_size = 1000},
      [&](Server& server) -> Task<> {
        Socket socket = co_await Socket::connect(server.address());
        const std::string chunk = "258\r\n" + std::string(600, 'a') + "\r\n";  // 0x258 = 600 bytes
        co_await send_text(socket, "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk);
        CHECK_FALSE((co_await read_within(socket, 200ms)).has_value());  // 600 bytes: still reading
        co_await send_text(socket, chunk);                                // 1200 bytes
        const auto reply = co_await read_within(socket, 5s);
        REQUIRE(reply.has_value());
        CHECK(reply->starts_with("HTTP/1.1 413 Payload Too Large\r\n"));
        co_await socket.close();
      },
      counting(calls));
  CHECK(calls == 0);
}

TEST_CASE("by default a body over aiohttp's 1 MiB is refused, and a client still sending it reads the 413") {
  const ServerOptions defaults;
  CHECK(defaults.client_max_size == 1024 * 1024);
  CHECK(defaults.client_header_timeout == 60s);
  CHECK(defaults.keepalive_timeout == 75s);
  CHECK(defaults.max_connections == 10'000);
  // The client writes the whole body before it reads, more than socket
  // buffers hold: the server must drop what it does not read rather than
  // reset the connection under the 413.
  with_server_options({}, [](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      RequestOptions big;
      big.body = std::string(16 * 1024 * 1024, 'x');
      auto r = co_await s.post(server.base_url() + "/echo", std::move(big));
      CHECK(r.status() == 413);
      RequestOptions fits;
      fits.body = std::string(1024 * 1024, 'x');
      auto ok = co_await s.post(server.base_url() + "/echo", std::move(fits));
      CHECK(ok.status() == 200);
    });
  });
}

TEST_CASE("a head not complete within client_header_timeout of accept is answered 408, however it trickles") {
  int calls = 0;
  with_server_options(
      {.client_header_timeout = 300ms},
      [&](Server& server) -> Task<> {
        Socket socket = co_await Socket::connect(server.address());
        const auto start = std::chrono::steady_clock::now();
        // A byte every 50 ms: each read comes soon, the head never does.
        const std::string head = "GET /small HTTP/1.1\r\nHost: t\r\n";
        for (std::size_t i = 0; i < 12; ++i) {
          co_await send_text(socket, head.substr(i, 1));
          co_await sleep(50ms);
        }
        const auto reply = co_await read_within(socket, 5s);
        REQUIRE(reply.has_value());
        CHECK(reply->starts_with("HTTP/1.1 408 Request Timeout\r\n"));
        CHECK(std::chrono::steady_clock::now() - start < 3s);
        co_await socket.close();
      },
      counting(calls));
  CHECK(calls == 0);
}

TEST_CASE("a connection that sends nothing is closed without a word after client_header_timeout") {
  with_server_options({.client_header_timeout = 200ms}, [](Server& server) -> Task<> {
    Socket socket = co_await Socket::connect(server.address());
    const auto reply = co_await read_within(socket, 5s);
    REQUIRE(reply.has_value());
    CHECK(reply->empty());
    co_await socket.close();
  });
}

TEST_CASE("the head timeout of a keep-alive request counts from its first byte, not from accept") {
  with_server_options({.client_header_timeout = 300ms, .keepalive_timeout = 5s}, [](Server& server) -> Task<> {
    Socket socket = co_await Socket::connect(server.address());
    co_await send_text(socket, small_request);
    CHECK((co_await read_within(socket, 5s, "Hello, world!")).value_or("").ends_with("Hello, world!"));
    co_await sleep(400ms);  // idle, under keepalive_timeout: past the head timeout since accept
    co_await send_text(socket, small_request);
    const auto second = co_await read_within(socket, 5s, "Hello, world!");
    REQUIRE(second.has_value());
    CHECK(second->starts_with("HTTP/1.1 200 OK\r\n"));
    co_await send_text(socket, "GET /small HTTP/1.1\r\n");  // and a head left unfinished
    const auto reply = co_await read_within(socket, 5s);
    REQUIRE(reply.has_value());
    CHECK(reply->starts_with("HTTP/1.1 408 Request Timeout\r\n"));
    co_await socket.close();
  });
}

TEST_CASE("an idle keep-alive connection is closed after keepalive_timeout; one used sooner stays open") {
  with_server_options({.keepalive_timeout = 300ms}, [](Server& server) -> Task<> {
    Socket socket = co_await Socket::connect(server.address());
    co_await send_text(socket, small_request);
    CHECK((co_await read_within(socket, 5s, "Hello, world!")).value_or("").ends_with("Hello, world!"));
    co_await sleep(100ms);
    co_await send_text(socket, small_request);
    CHECK((co_await read_within(socket, 5s, "Hello, world!")).value_or("").ends_with("Hello, world!"));
    const auto start = std::chrono::steady_clock::now();
    const auto reply = co_await read_within(socket, 5s);
    REQUIRE(reply.has_value());  // closed
    CHECK(reply->empty());       // without a word
    CHECK(std::chrono::steady_clock::now() - start >= 250ms);
    CHECK(server.connections_accepted() == 1);
    co_await socket.close();
  });
}

TEST_CASE("at max_connections the server stops accepting until a connection ends") {
  with_server_options({.max_connections = 2}, [](Server& server) -> Task<> {
    Socket a = co_await Socket::connect(server.address());
    Socket b = co_await Socket::connect(server.address());
    for (Socket* held : {&a, &b}) {
      co_await send_text(*held, small_request);
      CHECK((co_await read_within(*held, 5s, "Hello, world!")).value_or("").ends_with("Hello, world!"));
    }
    // The third waits in the listen backlog: connected, not served.
    Socket c = co_await Socket::connect(server.address());
    co_await send_text(c, small_request);
    CHECK_FALSE((co_await read_within(c, 300ms, "Hello, world!")).has_value());
    CHECK(server.connections_accepted() == 2);
    co_await a.close();
    const auto served = co_await read_within(c, 5s, "Hello, world!");
    REQUIRE(served.has_value());
    CHECK(served->ends_with("Hello, world!"));
    CHECK(server.connections_accepted() == 3);
    co_await b.close();
    co_await c.close();
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
