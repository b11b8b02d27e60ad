// ClientSession through an HTTP proxy (tests/support/test_proxy.hpp) to the
// project's own server: http:// in absolute form, https:// in a CONNECT
// tunnel verified end to end, credentials for the proxy alone, and a typed
// error for each way the proxy can fail.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>

#include "../support/server_fixture.hpp"
#include "../support/test_proxy.hpp"
#include "../support/tls_certs.hpp"

using namespace coring;
using namespace coring::http;
using test_support::TestProxy;
using test_support::with_session;

namespace {

const test_support::TestCertificates& certificates() {
  static const test_support::TestCertificates made;
  return made;
}

/// The server's side of https: the test CA's "valid" certificate.
ServerSSLOptions valid_tls() { return {certificates().cert("valid"), certificates().key("valid")}; }

/// A session's options through `proxy`, trusting the test CA.
SessionOptions through(const TestProxy& proxy) {
  SessionOptions options;
  options.proxy = proxy.url();
  options.connector.ssl.ca_file = certificates().ca_file();
  return options;
}

/// Runs `body(proxy)` with a TestProxy serving beside it.
template <class Body>
Task<> with_proxy(TestProxy& proxy, Body body) {
  co_await test_support::serve_beside(proxy, body);
}

/// The base64 of "user:secret", as the proxy must see it.
const std::string user_secret = BasicAuth{"user", "secret"}.encode();

}  // namespace

TEST_CASE("http:// through a proxy: absolute-form requests on one kept-alive connection, credentials for it alone") {
  test_support::with_server([](Server& server) -> Task<> {
    TestProxy proxy;
    co_await with_proxy(proxy, [&](TestProxy&) -> Task<> {
      SessionOptions options;
      options.proxy = proxy.url();
      options.proxy_auth = BasicAuth{"user", "secret"};
      co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
        auto small = co_await s.get(server.base_url() + "/small");
        CHECK(co_await small.text() == "Hello, world!");
        auto echo = co_await s.get(server.base_url() + "/echo?x=1");
        const std::string seen_by_server = co_await echo.text();
        CHECK(seen_by_server.find("GET /echo?x=1") != std::string::npos);
        CHECK(seen_by_server.find("Proxy-Authorization") == std::string::npos);  // the proxy's alone
        CHECK(echo.timings().reused_connection);
      });
      REQUIRE(proxy.seen().size() == 2);
      CHECK(proxy.seen()[0].line == "GET " + server.base_url() + "/small HTTP/1.1");
      CHECK(proxy.seen()[1].line == "GET " + server.base_url() + "/echo?x=1 HTTP/1.1");
      CHECK(proxy.seen()[0].authorization == user_secret);
      CHECK(proxy.connections_accepted() == 1);
    });
  });
}

TEST_CASE("https:// through a proxy: one CONNECT, the certificate verified end to end, the tunnel reused") {
  test_support::with_tls_server(valid_tls(), [](Server& server) -> Task<> {
    TestProxy proxy;
    co_await with_proxy(proxy, [&](TestProxy&) -> Task<> {
      SessionOptions options;
      options.proxy = "http://user:secret@" + proxy.url().substr(7);  // credentials in the proxy's URL
      options.connector.ssl.ca_file = certificates().ca_file();
      co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
        auto first = co_await s.get(server.base_url() + "/small");
        CHECK(co_await first.text() == "Hello, world!");
        auto echo = co_await s.get(server.base_url() + "/echo");
        const std::string seen_by_server = co_await echo.text();
        CHECK(seen_by_server.find("GET /echo") != std::string::npos);  // origin form, inside the tunnel
        CHECK(seen_by_server.find("Proxy-Authorization") == std::string::npos);
        CHECK(echo.timings().reused_connection);
      });
      REQUIRE(proxy.seen().size() == 1);
      CHECK(proxy.seen()[0].line == "CONNECT 127.0.0.1:" + std::to_string(server.address().port()) + " HTTP/1.1");
      CHECK(proxy.seen()[0].authorization == user_secret);

      // Not trusting the test CA: the tunnel opens, verification still fails.
      SessionOptions untrusting;
      untrusting.proxy = proxy.url();
      co_await with_session(std::move(untrusting), [&](ClientSession& s) -> Task<> {
        CHECK_THROWS_AS(co_await s.get(server.base_url() + "/small"), ClientConnectorCertificateError);
      });
    });
  });
}

TEST_CASE("a proxy that wants credentials: 407 is a ClientHttpProxyError for CONNECT, the response for http://") {
  test_support::with_tls_server(valid_tls(), [](Server& server) -> Task<> {
    TestProxy proxy;
    proxy.require_auth = user_secret;
    co_await with_proxy(proxy, [&](TestProxy&) -> Task<> {
      co_await with_session(through(proxy), [&](ClientSession& s) -> Task<> {
        try {
          co_await s.get(server.base_url() + "/small");
          FAIL("expected ClientHttpProxyError");
        } catch (const ClientHttpProxyError& e) {
          CHECK(e.status() == 407);
          const std::string what = e.what();
          CHECK(what.find("proxy " + proxy.url()) != std::string::npos);
          CHECK(what.find("407 Proxy Authentication Required") != std::string::npos);
        }
        // A request's own proxy_auth goes with the session's proxy.
        RequestOptions with_auth;
        with_auth.proxy_auth = BasicAuth{"user", "secret"};
        auto r = co_await s.get(server.base_url() + "/small", std::move(with_auth));
        CHECK(co_await r.text() == "Hello, world!");
        // Plain http: the proxy's answer is the response, as aiohttp gives it.
        auto plain = co_await s.get("http://127.0.0.1:1/small");
        CHECK(plain.status() == 407);
      });
    });
  });
}

TEST_CASE("a Proxy-Authorization set by hand goes in the CONNECT, never inside the tunnel to the server") {
  test_support::with_tls_server(valid_tls(), [](Server& server) -> Task<> {
    TestProxy proxy;
    proxy.require_auth = user_secret;
    co_await with_proxy(proxy, [&](TestProxy&) -> Task<> {
      co_await with_session(through(proxy), [&](ClientSession& s) -> Task<> {
        RequestOptions by_hand;
        by_hand.headers.add("Proxy-Authorization", user_secret);
        auto echo = co_await s.get(server.base_url() + "/echo", std::move(by_hand));
        const std::string seen_by_server = co_await echo.text();
        CHECK(seen_by_server.find("GET /echo") != std::string::npos);
        CHECK(seen_by_server.find("Proxy-Authorization") == std::string::npos);
      });
      REQUIRE(proxy.seen().size() == 1);
      CHECK(proxy.seen()[0].line.starts_with("CONNECT "));
      CHECK(proxy.seen()[0].authorization == user_secret);
    });
  });
}

TEST_CASE("an unreachable proxy is a ClientProxyConnectionError naming it; an https:// proxy is an InvalidURL") {
  auto body = []() -> Task<> {
    // A port nothing listens on: bound, never listened to.
    Listener holder = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const std::string dead = "http://127.0.0.1:" + std::to_string(holder.local_address().port());
    co_await holder.close();
    SessionOptions options;
    options.proxy = "http://user:secret@" + dead.substr(7);
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      for (const std::string target : {"http://127.0.0.1:9/x", "https://127.0.0.1:9/x"}) {
        CAPTURE(target);
        try {
          co_await s.get(target);
          FAIL("expected ClientProxyConnectionError");
        } catch (const ClientProxyConnectionError& e) {
          const std::string what = e.what();
          CHECK(what.find("cannot connect to proxy " + dead) != std::string::npos);
          CHECK(what.find(target) != std::string::npos);
          CHECK(what.find("secret") == std::string::npos);
          CHECK(e.os_error() == ECONNREFUSED);
        }
      }
    });
    SessionOptions https_proxy;
    https_proxy.proxy = "https://127.0.0.1:3128";
    CHECK_THROWS_AS(ClientSession{https_proxy}, InvalidURL);
    SessionOptions twice;
    twice.proxy = "http://a:b@127.0.0.1:3128";
    twice.proxy_auth = BasicAuth{"c", "d"};
    CHECK_THROWS_AS(ClientSession{twice}, InvalidRequestError);
  };
  run(body());
}

TEST_CASE("trust_env: http_proxy from the environment, and no_proxy's hosts go direct") {
  test_support::with_server([](Server& server) -> Task<> {
    TestProxy proxy;
    co_await with_proxy(proxy, [&](TestProxy&) -> Task<> {
      ::setenv("http_proxy", proxy.url().c_str(), 1);
      ::unsetenv("no_proxy");
      ::unsetenv("NO_PROXY");
      co_await with_session({.trust_env = true}, [&](ClientSession& s) -> Task<> {
        auto r = co_await s.get(server.base_url() + "/small");
        CHECK(co_await r.text() == "Hello, world!");
      });
      CHECK(proxy.seen().size() == 1);
      co_await with_session({}, [&](ClientSession& s) -> Task<> {  // trust_env off: the environment is ignored
        auto r = co_await s.get(server.base_url() + "/small");
        CHECK(co_await r.text() == "Hello, world!");
      });
      ::setenv("no_proxy", "localhost,127.0.0.1", 1);
      co_await with_session({.trust_env = true}, [&](ClientSession& s) -> Task<> {
        auto r = co_await s.get(server.base_url() + "/small");
        CHECK(co_await r.text() == "Hello, world!");
      });
      CHECK(proxy.seen().size() == 1);
      ::unsetenv("http_proxy");
      ::unsetenv("no_proxy");
    });
  });
}
