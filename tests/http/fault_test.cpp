// The client against a server that breaks HTTP on purpose
// (support/fault_routes.hpp): each fault is its exact typed error, the
// session stays usable after it, and no descriptor is left open.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>
#include <cxxabi.h>

#include <functional>
#include <memory>

#include "../support/fault_routes.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::fault_routes;
using test_support::open_fd_count;
using test_support::with_server;
using test_support::with_session;

namespace {

/// Where the fault surfaces: awaiting the response (its head), or reading its body.
enum class Phase { head, body };

using ErrorCheck = std::function<void(const std::exception_ptr&)>;

std::string name_of(const std::type_info& type) {
  std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, nullptr),
                                                   &std::free);
  return name ? name.get() : type.name();
}

template <class Error>
ErrorCheck is() {
  return [](const std::exception_ptr& failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const Error&) {
    } catch (const std::exception& e) {
      FAIL_CHECK("expected " << name_of(typeid(Error)) << ", got " << name_of(typeid(e)) << ": " << std::string(e.what()));
    }
  };
}

ErrorCheck is_timeout(TimeoutKind kind) {
  return [kind](const std::exception_ptr& failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const http::TimeoutError& e) {
      CHECK(e.kind() == kind);
    } catch (const std::exception& e) {
      FAIL_CHECK("expected a " << std::string(to_string(kind)) << " timeout, got " << name_of(typeid(e)) << ": "
                                << std::string(e.what()));
    }
  };
}

/// Runs `use(server, session)` with a fresh session against a fresh fault
/// server; once both are closed no descriptor may be left open.
template <class Use>
void with_fault_server(SessionOptions options, Use use) {
  const std::size_t fds_before = open_fd_count();
  with_server(
      [&](Server& server) -> Task<> {
        co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> { co_await use(server, s); });
      },
      fault_routes());
  CHECK(open_fd_count() == fds_before);
}

/// Requests `path` through a fresh session to a fresh fault server and
/// checks where and how it fails; then the same session must still serve
/// /ok, and once everything is closed no descriptor may be left open.
void expect_fault(const std::string& path, Phase phase, const ErrorCheck& check, SessionOptions options = {}) {
  CAPTURE(path);
  with_fault_server(std::move(options), [&](Server& server, ClientSession& s) -> Task<> {
    std::exception_ptr failure;
    Phase failed_in = Phase::head;
    try {
      auto response = co_await s.get(server.base_url() + path);
      failed_in = Phase::body;
      co_await response.read();
    } catch (...) {
      failure = std::current_exception();
    }
    REQUIRE_MESSAGE(failure, "the fault went unnoticed");
    CHECK(failed_in == phase);
    check(failure);
    auto after = co_await s.get(server.base_url() + "/ok");
    CHECK(co_await after.read() == "ok");
  });
}

}  // namespace

TEST_CASE("a reset before, during or after the head is ServerDisconnectedError or ClientPayloadError") {
  expect_fault("/reset-before-headers", Phase::head, is<ServerDisconnectedError>());
  expect_fault("/reset-during-headers", Phase::head, is<ServerDisconnectedError>());
  expect_fault("/reset-after-headers", Phase::body, is<ClientPayloadError>());
  expect_fault("/reset-mid-body", Phase::body, is<ClientPayloadError>());
}

TEST_CASE("a close in the head is ServerDisconnectedError; mid-body, with a length or chunked, ClientPayloadError") {
  expect_fault("/close-during-headers", Phase::head, is<ServerDisconnectedError>());
  expect_fault("/close-mid-body-length", Phase::body, is<ClientPayloadError>());
  expect_fault("/close-mid-body-chunked", Phase::body, is<ClientPayloadError>());
}

TEST_CASE("a malformed status line, header or chunk size, or a 1 MiB head, is a typed error") {
  expect_fault("/bad-status-line", Phase::head, is<InvalidResponseError>());
  expect_fault("/bad-header", Phase::head, is<InvalidResponseError>());
  expect_fault("/huge-headers", Phase::head, is<InvalidResponseError>());
  expect_fault("/bad-chunk-size", Phase::body, is<ClientPayloadError>());
}

TEST_CASE("what is read and dropped is bounded: interim responses, trailer fields, chunk extensions") {
  expect_fault("/many-interim", Phase::head, is<InvalidResponseError>());
  expect_fault("/endless-trailer", Phase::body, is<ClientPayloadError>());
  expect_fault("/long-chunk-extension", Phase::body, is<ClientPayloadError>());
}

TEST_CASE("a body over the session's max_body_size is a ClientPayloadError") {
  expect_fault("/big-body/1048576", Phase::body, is<ClientPayloadError>(), {.max_body_size = 65536});
}

TEST_CASE("a server that says nothing trips sock_read; one that drips a byte a second trips total") {
  expect_fault("/silent", Phase::head, is_timeout(TimeoutKind::sock_read), {.timeout = {.sock_read = Seconds(0.2)}});
  // Each byte comes well within sock_read: only total can stop a slow drip.
  expect_fault("/drip", Phase::body, is_timeout(TimeoutKind::total),
               {.timeout = {.total = Seconds(2.5), .sock_read = Seconds(5)}});
}

TEST_CASE("idle connections closed by the server at random are retried transparently") {
  with_fault_server({}, [](Server& server, ClientSession& s) -> Task<> {
    std::size_t reused = 0;
    for (int i = 0; i < 300; ++i) {
      auto r = co_await s.get(server.base_url() + "/flaky");
      REQUIRE(co_await r.read() == "ok");
      if (r.timings().reused_connection) ++reused;
      if (i % 3 == 0) co_await sleep(std::chrono::microseconds(i * 7 % 4000));
    }
    // Some requests found their connection alive, some had to reconnect.
    CHECK(reused > 0);
    CHECK(server.connections_accepted() > 1);
    MESSAGE(server.connections_accepted() << " connections for 300 requests, " << reused << " reused");
  });
}

TEST_CASE("a request answered twice: the extra response never answers the next request") {
  with_fault_server({}, [](Server& server, ClientSession& s) -> Task<> {
    auto first = co_await s.get(server.base_url() + "/twice");
    CHECK(co_await first.read() == "once");
    auto second = co_await s.get(server.base_url() + "/ok");
    CHECK(co_await second.read() == "ok");
    CHECK_FALSE(second.timings().reused_connection);
  });
}

TEST_CASE("a redirect's endless body is read only a few KiB, then its connection dropped") {
  with_server(
      [](Server& server) -> Task<> {
        co_await with_session({.timeout = {.total = Seconds(20)}}, [&](ClientSession& s) -> Task<> {
          const long rss_before = test_support::peak_rss_kib();
          auto r = co_await s.get(server.base_url() + "/endless-redirect");
          CHECK(r.status() == 200);
          CHECK(co_await r.text() == "ok");
          REQUIRE(r.history().size() == 1);
          CHECK(r.history()[0].status() == 302);
          CHECK(test_support::peak_rss_kib() - rss_before < 32 * 1024);
        });
      },
      fault_routes());
}

