// http::json() and JSON request bodies, against the project's own server.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/json.hpp>
#include <coring/http/server.hpp>

#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using test_support::with_server;
using test_support::with_session;

namespace {

/// Answers with the request's body, under the Content-Type the request's
/// X-Reply-Type asks for (none if it is absent).
Task<> reflect(ServerExchange& ex) {
  Headers out;
  if (auto type = ex.request().headers.get("X-Reply-Type")) out.add("Content-Type", *type);
  co_await ex.respond(200, ex.request().body, out);
}

/// Posts `body` to the reflecting server and gets it back as `type`.
Task<ClientResponse> reply_with(ClientSession& s, const Server& server, std::string type, std::string body) {
  RequestOptions o{.body = std::move(body)};
  if (!type.empty()) o.headers.add("X-Reply-Type", type);
  co_return co_await s.post(server.base_url() + "/", std::move(o));
}

}  // namespace

TEST_CASE("a value sent as dump() comes back equal through http::json()") {
  with_server(
      [](Server& server) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          const nlohmann::json value = {{"name", "coring"},
                                        {"numbers", {1, 2.5, -3}},
                                        {"text", "caf\u00e9 \u2713 \"quoted\"\n"},
                                        {"nested", {{"ok", true}, {"nothing", nullptr}}}};
          RequestOptions o{.json = value.dump()};
          o.headers.add("X-Reply-Type", "application/json; charset=utf-8");
          auto r = co_await s.post(server.base_url() + "/", std::move(o));
          CHECK(co_await http::json(r) == value);
          CHECK(co_await r.read() == value.dump());  // the body is kept
        });
      },
      reflect);
}

TEST_CASE("json() accepts application/json and +json types, and refuses others with ContentTypeError") {
  with_server(
      [](Server& server) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          // Literals and braced values go in through locals: GCC 12 rejects
          // them inside a co_await expression ("array used as initializer").
          const std::string object = R"({"a":1})", text = "text/plain", none;
          for (std::string type : {"application/json", "Application/Problem+JSON", " application/json ;charset=utf-8"}) {
            auto r = co_await reply_with(s, server, type, object);
            CHECK_MESSAGE((co_await http::json(r))["a"] == 1, type);
          }
          for (std::string type : {"text/plain", "application/jsonp", ""}) {
            auto r = co_await reply_with(s, server, type, object);
            try {
              co_await http::json(r);
              FAIL("expected a ContentTypeError for " << type);
            } catch (const ContentTypeError& e) {
              const std::string what = e.what();
              CHECK(e.status() == 200);
              CHECK(what.find(server.base_url() + "/") != std::string::npos);
              CHECK(what.find(type.empty() ? "missing" : type) != std::string::npos);
            }
            CHECK(co_await r.read() == object);  // still there for a message
          }
          // Another expected type, or none at all.
          JsonOptions plain{.content_type = "text/plain"};
          const std::string one = "[1]", two = "[2]";
          const nlohmann::json one_array = nlohmann::json::array({1}), two_array = nlohmann::json::array({2});
          auto r = co_await reply_with(s, server, text, one);
          CHECK(co_await http::json(r, plain) == one_array);
          JsonOptions any{.content_type = ""};
          auto untyped = co_await reply_with(s, server, none, two);
          CHECK(co_await http::json(untyped, any) == two_array);
          CHECK(server.connections_accepted() == 1);  // a refused type still read the body to its end
        });
      },
      reflect);
}

TEST_CASE("a body that is not JSON is a ClientPayloadError naming the URL and the parse error") {
  with_server(
      [](Server& server) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          const std::string json_type = "application/json";
          for (std::string body : {"{oops", R"({"a":)", "[1] 2", "\xff"}) {
            auto r = co_await reply_with(s, server, json_type, body);
            try {
              co_await http::json(r);
              FAIL("expected a ClientPayloadError for " << body);
            } catch (const ClientPayloadError& e) {
              const std::string what = e.what();
              CHECK(what.find(server.base_url() + "/") != std::string::npos);
              CHECK(what.find("parse error") != std::string::npos);
            }
          }
          // An empty body is null, as aiohttp's None.
          for (std::string blank : {"", " \r\n\t"}) {
            auto r = co_await reply_with(s, server, json_type, blank);
            CHECK((co_await http::json(r)).is_null());
          }
        });
      },
      reflect);
}
