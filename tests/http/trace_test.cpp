// TraceConfig: the hooks a session calls as a request goes, against the
// project's own server on 127.0.0.1.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using test_support::with_server;
using test_support::with_session;

TEST_CASE("trace hooks see requests, redirects, queueing, new and reused connections") {
  with_server([](Server& server) -> Task<> {
    std::vector<std::string> events;
    TraceConfig trace;
    trace.on_request_start = [&](const std::string& m, const URL& u) { events.push_back("start " + m + " " + u.path()); };
    trace.on_request_end = [&](const std::string&, const URL&, const ClientResponse& r) {
      events.push_back("end " + std::to_string(r.status()));
    };
    trace.on_request_exception = [&](const std::string&, const URL&, std::exception_ptr) { events.push_back("exception"); };
    trace.on_request_redirect = [&](const URL& from, const ClientResponse&) { events.push_back("redirect " + from.path()); };
    trace.on_connection_queued_start = [&](const URL&) { events.push_back("queued"); };
    trace.on_connection_create_start = [&](const URL&) { events.push_back("create"); };
    trace.on_connection_reuseconn = [&](const URL&) { events.push_back("reuse"); };
    SessionOptions options;
    options.trace_configs.push_back(trace);
    options.connector.limit = 1;
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      co_await (co_await s.get(server.base_url() + "/redirect/1")).read();
      CHECK(events == std::vector<std::string>{"start GET /redirect/1", "create", "redirect /redirect/1", "reuse",
                                               "end 200"});
      events.clear();
      auto fetch = [](ClientSession& session, std::string url) -> Task<> { co_await (co_await session.get(url)).read(); };
      co_await gather(fetch(s, server.base_url() + "/delay/5"), fetch(s, server.base_url() + "/small"));
      CHECK(std::count(events.begin(), events.end(), "queued") == 1);
      events.clear();
      CHECK_THROWS(co_await s.get(server.base_url() + "/bad-status"));
      CHECK(events.back() == "exception");
    });
  });
}
