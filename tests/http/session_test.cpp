// The session's own logic (URLs, headers, redirects, timeouts) on the mock
// backend, and the mock backend itself; a session's close.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/mock.hpp>

#include "../support/mock_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::with_mock;

namespace {

Headers location(std::string where) {
  Headers h;
  h.add("Location", where);
  return h;
}

struct Pieces {
  std::vector<std::string> left;  // in reverse order
  std::shared_ptr<std::size_t> taken;
};

Task<std::string> next_of(std::shared_ptr<Pieces> p) {
  if (p->left.empty()) co_return std::string();
  std::string next = std::move(p->left.back());
  p->left.pop_back();
  ++*p->taken;
  co_return next;
}

/// A body stream yielding `pieces`; `taken` counts the pieces given out.
BodyStream stream_of(std::vector<std::string> pieces, std::shared_ptr<std::size_t> taken) {
  auto p = std::make_shared<Pieces>(Pieces{{pieces.rbegin(), pieces.rend()}, std::move(taken)});
  return [p] { return next_of(p); };
}

}  // namespace

TEST_CASE("the mock answers registered requests and records every call") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("GET", "http://api.test/user?id=1", {.body = R"({"id":1})"});
  with_mock(mock, [](ClientSession& s) -> Task<> {
    // Request options live in locals: GCC 12 miscompiles aggregate
    // temporaries built inside a co_await expression.
    RequestOptions o{.params = {{"id", "1"}}};
    auto r = co_await s.get("http://api.test/user", std::move(o));
    CHECK(r.status() == 200);
    CHECK(co_await r.read() == R"({"id":1})");
    CHECK_THROWS_WITH_AS(co_await s.get("http://api.test/other"), doctest::Contains("no reply registered"),
                         ClientConnectionError);
  });
  REQUIRE(mock->calls().size() == 2);
  CHECK(mock->call_count("GET", "http://api.test/user?id=1") == 1);
}

TEST_CASE("a registered error is raised, and replies are used in turn") {
  auto mock = std::make_shared<MockBackend>();
  mock->add_error("GET", "http://a.test/", std::make_exception_ptr(ClientConnectorError("refused", ECONNREFUSED)));
  mock->add("POST", "http://a.test/n", {.status = 500});
  mock->add("POST", "http://a.test/n", {.status = 201});
  with_mock(mock, [](ClientSession& s) -> Task<> {
    CHECK_THROWS_AS(co_await s.get("http://a.test/"), ClientConnectorError);
    CHECK((co_await s.post("http://a.test/n")).status() == 500);
    CHECK((co_await s.post("http://a.test/n")).status() == 201);
    CHECK((co_await s.post("http://a.test/n")).status() == 201);  // the last repeats
  });
}

TEST_CASE("a delayed reply is subject to the request's timeouts") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("GET", "http://slow.test/", {.delay = 1s});
  with_mock(mock, [](ClientSession& s) -> Task<> {
    ClientTimeout quick{.total = Seconds(0.02)};
    try {
      RequestOptions o{.timeout = quick};
      co_await s.get("http://slow.test/", std::move(o));
      FAIL("expected a timeout");
    } catch (const http::TimeoutError& e) {
      CHECK(e.kind() == TimeoutKind::total);
      CHECK(std::string(e.what()).find("http://slow.test/") != std::string::npos);
    }
  });
}

TEST_CASE("session headers are sent, and a request's own header of the same name wins") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("GET", "http://h.test/", {});
  SessionOptions options;
  options.headers.add("X-App", "session");
  options.headers.add("Accept", "text/plain");
  with_mock(
      mock,
      [](ClientSession& s) -> Task<> {
        RequestOptions o;
        o.headers.add("Accept", "application/json");
        co_await s.get("http://h.test/", std::move(o));
        CHECK(s.session_options().headers.get("X-App") == "session");
      },
      std::move(options));
  const auto& headers = mock->calls().at(0).headers;
  CHECK(headers.get("X-App") == "session");
  CHECK(headers.get_all("Accept").size() == 1);
  CHECK(headers.get("Accept") == "application/json");
}

TEST_CASE("redirects are followed, with the history kept") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("GET", "http://r.test/a", {.status = 301, .headers = location("/b")});
  mock->add("GET", "http://r.test/b", {.status = 302, .headers = location("http://r.test/c")});
  mock->add("GET", "http://r.test/c", {.body = "here"});
  with_mock(mock, [](ClientSession& s) -> Task<> {
    auto r = co_await s.get("http://r.test/a");
    CHECK(r.status() == 200);
    CHECK(r.url().to_string() == "http://r.test/c");
    CHECK(co_await r.read() == "here");
    REQUIRE(r.history().size() == 2);
    CHECK(r.history()[0].status() == 301);
    CHECK(r.history()[1].url().to_string() == "http://r.test/b");

    RequestOptions no_follow{.allow_redirects = false};
    auto not_followed = co_await s.get("http://r.test/a", std::move(no_follow));
    CHECK(not_followed.status() == 301);
  });
}

TEST_CASE("303 turns a POST into a GET without body; 307 keeps both") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("POST", "http://r.test/form", {.status = 303, .headers = location("/done")});
  mock->add("GET", "http://r.test/done", {.body = "done"});
  mock->add("POST", "http://r.test/keep", {.status = 307, .headers = location("/kept")});
  mock->add("POST", "http://r.test/kept", {.body = "kept"});
  with_mock(mock, [](ClientSession& s) -> Task<> {
    RequestOptions form{.body = std::string("x=1")};
    auto r = co_await s.post("http://r.test/form", std::move(form));
    CHECK(co_await r.read() == "done");
    RequestOptions keep{.body = std::string("y=2")};
    auto k = co_await s.post("http://r.test/keep", std::move(keep));
    CHECK(co_await k.read() == "kept");
  });
  CHECK(mock->calls().at(1).method == "GET");
  CHECK(mock->calls().at(1).body.empty());
  CHECK(mock->calls().at(3).method == "POST");
  CHECK(mock->calls().at(3).body == "y=2");
}

TEST_CASE("Authorization and a given Cookie header are dropped when a redirect leaves the origin") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("GET", "http://one.test/", {.status = 302, .headers = location("http://one.test/same")});
  mock->add("GET", "http://one.test/same", {.status = 302, .headers = location("http://two.test/")});
  mock->add("GET", "http://two.test/", {});
  with_mock(mock, [](ClientSession& s) -> Task<> {
    RequestOptions o;
    o.headers.add("Authorization", "Bearer secret");
    o.headers.add("Cookie", "given=1");
    co_await s.get("http://one.test/", std::move(o));
  });
  CHECK(mock->calls().at(1).headers.get("Authorization") == "Bearer secret");
  CHECK_FALSE(mock->calls().at(2).headers.contains("Authorization"));
  CHECK(mock->calls().at(1).headers.get("Cookie") == "given=1");
  CHECK_FALSE(mock->calls().at(2).headers.contains("Cookie"));
}

TEST_CASE("more than max_redirects is TooManyRedirects") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("GET", "http://loop.test/", {.status = 302, .headers = location("/")});
  with_mock(mock, [](ClientSession& s) -> Task<> {
    CHECK_THROWS_AS(co_await s.get("http://loop.test/"), TooManyRedirects);
    RequestOptions two{.max_redirects = 2};
    CHECK_THROWS_AS(co_await s.get("http://loop.test/", std::move(two)), TooManyRedirects);
  });
  CHECK(mock->calls().size() == 11 + 3);
}

TEST_CASE("the mock drains a streamed body into its call record") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("PUT", "http://up.test/file", {.status = 201});
  auto taken = std::make_shared<std::size_t>(0);
  with_mock(mock, [taken](ClientSession& s) -> Task<> {
    RequestOptions o{.body_stream = stream_of({"ab", "c", "def"}, taken)};
    CHECK((co_await s.put("http://up.test/file", std::move(o))).status() == 201);
  });
  CHECK(*taken == 3);
  REQUIRE(mock->calls().size() == 1);
  CHECK(mock->calls()[0].body == "abcdef");
}

TEST_CASE("a redirect that would resend a streamed body is an error; 303 drops the body") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("POST", "http://r.test/307", {.status = 307, .headers = location("/elsewhere")});
  mock->add("PUT", "http://r.test/308", {.status = 308, .headers = location("/elsewhere")});
  mock->add("PUT", "http://r.test/302", {.status = 302, .headers = location("/elsewhere")});
  mock->add("POST", "http://r.test/303", {.status = 303, .headers = location("/done")});
  mock->add("GET", "http://r.test/done", {.body = "done"});
  auto taken = std::make_shared<std::size_t>(0);
  with_mock(mock, [taken](ClientSession& s) -> Task<> {
    for (const char* method : {"POST", "PUT"}) {
      const std::string url = std::string("http://r.test/") + (method == std::string("POST") ? "307" : "308");
      RequestOptions o{.body_stream = stream_of({"once"}, taken)};
      try {
        co_await s.request(method, url, std::move(o));
        FAIL("expected the redirect to be refused");
      } catch (const ClientResponseError& e) {
        const std::string what = e.what();
        CHECK(what.find(url) != std::string::npos);
        CHECK(what.find("http://r.test/elsewhere") != std::string::npos);
        CHECK(what.find("streamed") != std::string::npos);
        CHECK((e.status() == 307 || e.status() == 308));
      }
    }
    RequestOptions put302{.body_stream = stream_of({"once"}, taken)};
    CHECK_THROWS_AS(co_await s.put("http://r.test/302", std::move(put302)), ClientResponseError);

    RequestOptions no_follow{.body_stream = stream_of({"once"}, taken), .allow_redirects = false};
    CHECK((co_await s.post("http://r.test/307", std::move(no_follow))).status() == 307);

    RequestOptions see_other{.body_stream = stream_of({"once"}, taken)};
    auto r = co_await s.post("http://r.test/303", std::move(see_other));
    CHECK(co_await r.read() == "done");
  });
  CHECK(*taken == 5);  // each stream was read once, to its end
  CHECK(mock->call_count("GET", "http://r.test/elsewhere") == 0);
  CHECK(mock->call_count("POST", "http://r.test/elsewhere") == 0);
  const auto& last = mock->calls().back();
  CHECK(last.method == "GET");
  CHECK(last.body.empty());
  CHECK(mock->calls().at(mock->calls().size() - 2).body == "once");
}

TEST_CASE("a request with more than one body is an InvalidRequestError, and nothing is sent") {
  auto mock = std::make_shared<MockBackend>();
  mock->add("POST", "http://b.test/", {});
  auto taken = std::make_shared<std::size_t>(0);
  with_mock(mock, [taken](ClientSession& s) -> Task<> {
    RequestOptions both{.body = std::string("x"), .body_stream = stream_of({"y"}, taken)};
    CHECK_THROWS_WITH_AS(co_await s.post("http://b.test/", std::move(both)), doctest::Contains("more than one of"),
                         InvalidRequestError);
    RequestOptions form_and_json{.form = QueryParams{{"a", "1"}}, .json = std::string("{}")};
    CHECK_THROWS_AS(co_await s.post("http://b.test/", std::move(form_and_json)), InvalidRequestError);
  });
  CHECK(*taken == 0);
  CHECK(mock->calls().empty());
}

TEST_CASE("a session destroyed without close is reported; requests after close are refused") {
  auto body = []() -> Task<> {
    const auto before = coring::detail::unreleased_reports();
    { ClientSession forgotten; }
    CHECK(coring::detail::unreleased_reports() == before + 1);
    ClientSession s;
    co_await s.close();
    CHECK_THROWS_AS(co_await s.get("http://127.0.0.1:1/"), ClientError);
  };
  run(body());
}
