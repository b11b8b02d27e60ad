// How the connector reaches a host: Unix sockets, /etc/hosts, DNS (and its
// cache), and the errors when it cannot. Against the project's own server on
// 127.0.0.1 and a fake DNS server.
#include <doctest/doctest.h>
#include <unistd.h>

#include <set>
#include <string>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../../http/resolver.hpp"
#include "../support/fake_dns.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::with_server;
using test_support::with_session;

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
