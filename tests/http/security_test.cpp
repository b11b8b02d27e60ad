// Security defaults: injection refused before anything is sent, credentials
// kept to their origin and out of messages. (TLS verification on by default:
// http_tls; size limits: http_fault and http_units.)
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/mock.hpp>

#include "../../http/base64.hpp"
#include "../support/mock_fixture.hpp"
#include <coring/http/server.hpp>

#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using test_support::with_mock;
using test_support::with_server;
using test_support::with_session;

namespace {

Headers with(std::string name, std::string value) {
  Headers h;
  h.add(std::move(name), std::move(value));
  return h;
}

/// The host:port part of a base URL "http://127.0.0.1:PORT".
std::string authority_of(const std::string& base) { return base.substr(base.find("://") + 3); }

}  // namespace

TEST_CASE("BasicAuth encodes as RFC 7617's example") {
  CHECK(BasicAuth{"Aladdin", "open sesame"}.encode() == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK(BasicAuth{"", ""}.encode() == "Basic Og==");
}

TEST_CASE("base64 gives RFC 4648's test vectors, and the alphabet's last letters for high bytes") {
  using http::detail::base64_encode;
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string_view("\xfb\xff\xbf", 3)) == "+/+/");
  CHECK(base64_encode(std::string_view("\0\0\0\0", 4)) == "AAAAAA==");
}

TEST_CASE("a URL's user:password is parsed, decoded, and never printed") {
  const URL u = URL::parse("http://al%40ice:p%3Ass@wo:rd@h.test:81/x");
  CHECK(u.user() == "al@ice");
  CHECK(u.password() == "p:ss@wo:rd");
  CHECK(u.host() == "h.test");
  CHECK(u.to_string() == "http://h.test:81/x");
  CHECK(u.origin() == "http://h.test:81");
  CHECK_FALSE(u.without_credentials().has_credentials());
  try {
    URL::parse("http://user:hunter2@bad host/");
    FAIL("expected InvalidURL");
  } catch (const InvalidURL& e) {
    const std::string what = e.what();
    CHECK(what.find("hunter2") == std::string::npos);
    CHECK(what.find("http://***@bad host/") != std::string::npos);
  }
  CHECK(mask_credentials("https://tok3n@h/p?q=a@b") == "https://***@h/p?q=a@b");
  CHECK(mask_credentials("http://h/p@x") == "http://h/p@x");
  CHECK(mask_credentials("not a url") == "not a url");
}

TEST_CASE("a password holding '/', '?', '#' or '@' is never shown, in InvalidURL or by mask_credentials") {
  for (const std::string password : {"p/ss", "p?ss", "p#ss", "p@ss/x", "#pw", "a:b/c?d#e"}) {
    const std::string text = "http://user:" + password + "@host.test:80x/path";
    CAPTURE(text);
    CHECK(mask_credentials(text).find(password) == std::string::npos);
    try {
      (void)URL::parse(text);  // "p@ss/x": user:p at host "ss", the rest a path
    } catch (const InvalidURL& e) {
      CHECK(std::string(e.what()).find(password) == std::string::npos);
    }
    // Valid as URLs, read with the parser's own rule: still nothing of it shown.
    const std::string valid = "http://user:" + password + "@host.test/path";
    CHECK(mask_credentials(valid).find(password) == std::string::npos);
  }
  CHECK(mask_credentials("http://u:#pw@h/") == "http://u/");  // the parser reads "#pw@h/" as a fragment
  CHECK(mask_credentials("HTTP://u:pw@H.test/a b") == "http://***@h.test/a%20b");
}

TEST_CASE("a URL's credentials go out as Basic auth, not on the request line; errors never show them") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string url = "http://user:hunter2@" + authority_of(server.base_url()) + "/echo";
      auto r = co_await s.get(url);
      const std::string echo = co_await r.read();
      CHECK(echo.starts_with("GET /echo HTTP") == false);  // /echo prints "GET /echo\n"
      CHECK(echo.find("Authorization: " + BasicAuth{"user", "hunter2"}.encode()) != std::string::npos);
      CHECK(echo.find("hunter2") == std::string::npos);
      CHECK(r.url().to_string().find("hunter2") == std::string::npos);
    });
  });
  auto refused = []() -> Task<> {
    co_await with_session({}, [](ClientSession& s) -> Task<> {
      try {
        co_await s.get("http://user:hunter2@127.0.0.1:1/");
        FAIL("expected a refused connection");
      } catch (const ClientConnectorError& e) {
        CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
        CHECK(std::string(e.what()).find("127.0.0.1:1") != std::string::npos);
      }
    });
  };
  run(refused());
}

TEST_CASE("auth from the request, the URL and the session: one wins, two given is an error") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("GET", "http://a.test/", {});
  const std::string session_auth = BasicAuth{"s", "1"}.encode();
  with_mock(
      mock,
      [](ClientSession& s) -> Task<> {
        co_await s.get("http://a.test/");
        co_await s.get("http://u:2@a.test/");
        RequestOptions own{.auth = BasicAuth{"r", "3"}};
        co_await s.get("http://a.test/", std::move(own));
        RequestOptions header{.headers = with("Authorization", "Bearer t")};
        co_await s.get("http://a.test/", std::move(header));
        RequestOptions both{.auth = BasicAuth{"r", "3"}};
        CHECK_THROWS_AS(co_await s.get("http://u:2@a.test/", std::move(both)), InvalidRequestError);
        RequestOptions header_and_auth{.headers = with("Authorization", "Bearer t"), .auth = BasicAuth{"r", "3"}};
        CHECK_THROWS_AS(co_await s.get("http://a.test/", std::move(header_and_auth)), InvalidRequestError);
      },
      {.auth = BasicAuth{"s", "1"}});
  REQUIRE(mock->calls().size() == 4);
  CHECK(mock->calls()[0].headers.get("Authorization") == session_auth);
  CHECK(mock->calls()[1].headers.get("Authorization") == BasicAuth{"u", "2"}.encode());
  CHECK(mock->calls()[1].url.to_string() == "http://a.test/");
  CHECK(mock->calls()[2].headers.get("Authorization") == BasicAuth{"r", "3"}.encode());
  CHECK(mock->calls()[3].headers.get("Authorization") == "Bearer t");
}

TEST_CASE("credentials and the jar's cookies stay with their origin across redirects") {
  auto mock = std::make_shared<MockBackend>();
  Headers set_and_move = with("Set-Cookie", "sid=42");
  set_and_move.add("Location", "http://other.test/");
  mock->add("GET", "http://one.test/", {.status = 302, .headers = set_and_move});
  mock->add("GET", "http://other.test/", {.status = 302, .headers = with("Location", "http://x:y@one.test/back")});
  mock->add("GET", "http://one.test/back", {});
  with_mock(
      mock,
      [](ClientSession& s) -> Task<> { co_await s.get("http://user:pw@one.test/"); },
      {.auth = BasicAuth{"s", "1"}});
  REQUIRE(mock->calls().size() == 3);
  CHECK(mock->calls()[0].headers.get("Authorization") == BasicAuth{"user", "pw"}.encode());
  CHECK_FALSE(mock->calls()[1].headers.contains("Authorization"));
  CHECK_FALSE(mock->calls()[1].headers.contains("Cookie"));
  // Back at the first origin: its cookie again, but no credentials, neither
  // the Location's nor the ones dropped on the way.
  CHECK(mock->calls()[2].headers.get("Cookie") == "sid=42");
  CHECK_FALSE(mock->calls()[2].headers.contains("Authorization"));
  CHECK(mock->calls()[2].url.to_string() == "http://one.test/back");
}

TEST_CASE("a user-set Proxy-Authorization is dropped at a cross-origin redirect") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("GET", "http://one.test/", {.status = 302, .headers = with("Location", "http://other.test/")});
  mock->add("GET", "http://other.test/", {});
  with_mock(mock, [](ClientSession& s) -> Task<> {
    RequestOptions options{.headers = with("Proxy-Authorization", "Basic cHJveHk6cHc=")};  // named: GCC 12 frees a temporary's twice
    co_await s.get("http://one.test/", std::move(options));
  });
  REQUIRE(mock->calls().size() == 2);
  CHECK(mock->calls()[0].headers.get("Proxy-Authorization") == "Basic cHJveHk6cHc=");
  CHECK_FALSE(mock->calls()[1].headers.contains("Proxy-Authorization"));
}

TEST_CASE("a user-set Proxy-Authorization never reaches a server directly") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      RequestOptions options{.headers = with("Proxy-Authorization", "Basic cHJveHk6cHc=")};
      auto echo = co_await s.get(server.base_url() + "/echo", std::move(options));
      const std::string seen = co_await echo.text();
      CHECK(seen.find("GET /echo") != std::string::npos);
      CHECK(seen.find("cHJveHk6cHc=") == std::string::npos);
    });
  });
}

TEST_CASE("CR, LF or NUL in a method, header or URL is refused before anything is sent") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string base = server.base_url();
      const std::vector<std::string> methods = {"GET /x HTTP/1.1\r\nX:", std::string("GE\0T", 4), "", "G T"};
      for (const std::string& method : methods)
        CHECK_THROWS_AS(co_await s.request(method, base + "/small"), InvalidRequestError);
      RequestOptions o;
      CHECK_THROWS_AS(o.headers.add("X-A", "1\r\nX-Injected: 2"), InvalidRequestError);
      CHECK_THROWS_AS(o.headers.add("X-A", std::string("1\0two", 5)), InvalidRequestError);
      CHECK_THROWS_AS(o.headers.add("X-A\r\nX-B", "1"), InvalidRequestError);
      CHECK_THROWS_AS(o.headers.add(std::string("X\0A", 3), "1"), InvalidRequestError);
      const std::vector<std::string> tails = {"/a\r\nX-Injected: 1", std::string("/a\0b", 4), "/a\nb"};
      for (const std::string& tail : tails) CHECK_THROWS_AS(co_await s.get(base + tail), InvalidURL);
      CHECK(server.requests_served() == 0);
      CHECK(server.connections_accepted() == 0);
    });
  });
}

TEST_CASE("a body read whole is bounded by max_read_size, decoded; read in pieces it is not") {
  CHECK(SessionOptions{}.max_read_size > 0);  // bounded by default
  with_server([](Server& server) -> Task<> {
    co_await with_session({.max_read_size = 1000}, [&](ClientSession& s) -> Task<> {
      auto fits = co_await s.get(server.base_url() + "/bytes/1000");
      CHECK((co_await fits.read()).size() == 1000);
      for (const char* path : {"/bytes/5000", "/gzip/5000", "/br/5000"}) {
        CAPTURE(path);
        auto r = co_await s.get(server.base_url() + path);
        try {
          (void)co_await r.read();
          FAIL("expected a ClientPayloadError");
        } catch (const ClientPayloadError& e) {
          CHECK(std::string(e.what()).find("max_read_size") != std::string::npos);
          CHECK(std::string(e.what()).find(path) != std::string::npos);
        }
        auto pieces = co_await s.get(server.base_url() + path);
        std::size_t got = 0;
        for (std::string piece; !(piece = co_await pieces.content.read(700)).empty();) got += piece.size();
        CHECK(got == 5000);
      }
    });
  });
}
