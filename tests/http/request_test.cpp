// What a ClientSession request sends, and where: methods, bodies, URLs,
// headers and redirects, against the project's own server on 127.0.0.1.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::with_server;
using test_support::with_session;

TEST_CASE("methods, bodies, form fields, JSON and query parameters reach the server") {
  // Options are built before the co_await: GCC 12 rejects string literals in
  // braced initializers inside a co_await expression (a compiler bug).
  with_server([](Server& server) -> Task<> {
    SessionOptions options;
    options.headers.add("X-Session", "s");
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      RequestOptions raw{.params = {{"q", "a b"}}, .body = "raw body"};
      auto r = co_await s.post(server.base_url() + "/echo", std::move(raw));
      std::string echo = co_await r.read();
      CHECK(echo.starts_with("POST /echo?q=a+b\n"));
      CHECK(echo.find("X-Session: s\n") != std::string::npos);
      CHECK(echo.find("Content-Length: 8\n") != std::string::npos);
      CHECK(echo.ends_with("\nraw body"));

      RequestOptions form{.form = QueryParams{{"a", "1"}, {"b", "x&y"}}};
      auto f = co_await s.put(server.base_url() + "/echo", std::move(form));
      echo = co_await f.read();
      CHECK(echo.find("Content-Type: application/x-www-form-urlencoded") != std::string::npos);
      CHECK(echo.ends_with("\na=1&b=x%26y"));

      RequestOptions json{.json = R"({"k":1})"};
      auto j = co_await s.patch(server.base_url() + "/echo", std::move(json));
      echo = co_await j.read();
      CHECK(echo.find("Content-Type: application/json") != std::string::npos);

      RequestOptions override_header;
      override_header.headers.add("X-Session", "override");
      auto d = co_await s.delete_(server.base_url() + "/echo", std::move(override_header));
      echo = co_await d.read();
      CHECK(echo.starts_with("DELETE /echo"));
      CHECK(echo.find("X-Session: override\n") != std::string::npos);
      CHECK(echo.find("X-Session: s\n") == std::string::npos);

      auto h = co_await s.head(server.base_url() + "/bytes/100");
      CHECK(h.headers().get("Content-Length") == "100");
      CHECK((co_await h.read()).empty());
      auto o = co_await s.options(server.base_url() + "/small");
      CHECK(o.status() == 200);
    });
  });
}

TEST_CASE("one URL requested again and again, as text or parsed, with others, params and a bad URL between, goes where it says") {
  // The session keeps the last URL it parsed: what it hands out must be
  // the URL asked for each time, never the one before.
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string echo = server.base_url() + "/echo";
      auto first_line = [](std::string text) { return text.substr(0, text.find('\n')); };
      RequestOptions with_q{.params = {{"q", "1"}}};
      CHECK(first_line(co_await (co_await s.get(echo, std::move(with_q))).read()) == "GET /echo?q=1");
      CHECK(first_line(co_await (co_await s.get(echo)).read()) == "GET /echo");
      CHECK(co_await (co_await s.get(server.base_url() + "/small")).read() == "Hello, world!");
      CHECK(first_line(co_await (co_await s.get(echo)).read()) == "GET /echo");
      CHECK_THROWS_AS(co_await s.get(echo + "\x7f"), InvalidURL);
      CHECK(first_line(co_await (co_await s.get(echo + "?r=2")).read()) == "GET /echo?r=2");
      CHECK(first_line(co_await (co_await s.get(echo)).read()) == "GET /echo");
      // A URL parsed already is used as is, params added as to text.
      const URL parsed = URL::parse(server.base_url() + "/echo?u=1");
      RequestOptions with_v{.params = {{"v", "2"}}};
      CHECK(first_line(co_await (co_await s.get(parsed, std::move(with_v))).read()) == "GET /echo?u=1&v=2");
      CHECK(first_line(co_await (co_await s.get(parsed)).read()) == "GET /echo?u=1");
    });
  });
}

TEST_CASE("base_url resolves relative URLs") {
  with_server([](Server& server) -> Task<> {
    SessionOptions options{.base_url = server.base_url() + "/"};
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get("small");
      CHECK(co_await r.read() == "Hello, world!");
    });
  });
}

TEST_CASE("a header with CR or LF is refused before anything is sent") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession&) -> Task<> {
      RequestOptions evil;
      CHECK_THROWS_AS(evil.headers.add("X-A", "1\r\nX-Injected: 2"), InvalidRequestError);
      CHECK(server.requests_served() == 0);
      co_return;
    });
  });
}

TEST_CASE("a redirect chain on the server is followed over the pooled connection") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/redirect/3");
      CHECK(r.status() == 200);
      CHECK(co_await r.read() == "redirected\n");
      CHECK(r.history().size() == 3);
      CHECK(r.url().path() == "/redirect/0");
      CHECK(server.connections_accepted() == 1);  // redirect bodies were read, the connection reused
      CHECK_THROWS_AS(co_await s.get(server.base_url() + "/redirect/11"), TooManyRedirects);
    });
  });
}

TEST_CASE("requests built from temporary URL strings stay valid until they run") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      std::vector<Task<ClientResponse>> requests;
      for (int i = 0; i < 5; ++i) requests.push_back(s.get(server.base_url() + "/bytes/" + std::to_string(i)));
      auto responses = co_await gather(std::move(requests));
      for (int i = 0; i < 5; ++i) CHECK(co_await responses[i].read() == pattern_bytes(static_cast<std::size_t>(i)));
    });
  });
}
