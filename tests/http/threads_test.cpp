// Thread per core: a ServerThread on two loops sharing a port, and client
// loops on threads of their own, as coring-bench -t runs them. The
// ThreadSanitizer build runs this test (with rt_loop) to find data races
// between loops.
#include <doctest/doctest.h>

#include <atomic>
#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server_thread.hpp>
#include <thread>
#include <vector>

using namespace coring;
using namespace coring::http;

namespace {

Task<std::size_t> fetch_many(std::string base, int count) {
  std::size_t good = 0;
  SessionOptions options;
  options.connector.limit = 4;
  co_await async_with(ClientSession(options), [&](ClientSession& s) -> Task<> {
    for (int i = 0; i < count; ++i) {
      // Alternate keep-alive reuse and fresh connections, so that both
      // server loops see new connections all along.
      RequestOptions o;
      if (i % 10 == 0) o.headers.add("Connection", "close");
      auto r = co_await s.get(base + "/bytes/" + std::to_string(100 + i % 50), std::move(o));
      if ((co_await r.read()) == pattern_bytes(100 + i % 50)) ++good;
    }
  });
  co_return good;
}

}  // namespace

TEST_CASE("client loops on three threads against a server on two loops: every answer right") {
  ServerThread server(SocketAddress::parse("127.0.0.1:0"), builtin_routes(), std::nullopt, 2);
  constexpr int per_thread = 300;
  std::atomic<std::size_t> good{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t)
    clients.emplace_back([&] { good += run(fetch_many(server.base_url(), per_thread)); });
  for (auto& c : clients) c.join();
  CHECK(good == 3 * per_thread);
}

TEST_CASE("a ServerThread started and stopped while another serves leaves both working") {
  ServerThread first(SocketAddress::parse("127.0.0.1:0"));
  for (int round = 0; round < 3; ++round) {
    ServerThread second(SocketAddress::parse("127.0.0.1:0"), builtin_routes(), std::nullopt, 2);
    CHECK(run(fetch_many(second.base_url(), 20)) == 20);
  }
  CHECK(run(fetch_many(first.base_url(), 20)) == 20);
}
