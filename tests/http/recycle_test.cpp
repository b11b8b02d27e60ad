// Heap allocations of a warm keep-alive exchange, counted on the client's
// thread (bench/allocation_counter.cpp; the server runs on a thread of its
// own): a body under TCPConnector::recycled_body_size costs no more than an
// empty one.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server_thread.hpp>
#include <algorithm>

#include "../../bench/allocation_counter.hpp"

using namespace coring;
using namespace coring::http;

namespace {

/// Allocations of one GET of `url` read with read_view, after a warm-up:
/// the fewest over a few, as a sporadic extra one (a pool's bookkeeping
/// growing) must not decide the comparison.
Task<std::size_t> allocations_per_get(ClientSession& session, const RequestURL& url) {
  for (int i = 0; i < 3; ++i) {
    auto r = co_await session.get(url);
    co_await r.read_view();
  }
  std::size_t fewest = static_cast<std::size_t>(-1);
  for (int i = 0; i < 8; ++i) {
    const std::size_t before = bench::allocations_so_far().allocations;
    {
      auto r = co_await session.get(url);
      REQUIRE((co_await r.read_view()).size() > 0);
    }
    fewest = std::min(fewest, bench::allocations_so_far().allocations - before);
  }
  co_return fewest;
}

struct Counts {
  std::size_t small = 0, large = 0;
  std::size_t large_by_url = 0;  // the large one's URL given parsed
};

Counts measure(const std::string& base, std::size_t recycled_body_size) {
  Counts counts;
  auto body = [&]() -> Task<> {
    SessionOptions options;
    options.connector.recycled_body_size = recycled_body_size;
    co_await async_with(ClientSession(options), [&](ClientSession& s) -> Task<> {
      // Same URL length, so the URL copies cost the same; 15000 is near the
      // limit, where a buffer grown piece by piece would pass it.
      counts.small = co_await allocations_per_get(s, base + "/bytes/00009");
      counts.large = co_await allocations_per_get(s, base + "/bytes/15000");
      counts.large_by_url = co_await allocations_per_get(s, URL::parse(base + "/bytes/15000"));
    });
  };
  run(body());
  return counts;
}

}  // namespace

// Under ASan the frame pool is off (runtime/frame_pool.cpp): every coroutine
// frame is an allocation, and a 15000-byte body takes more receives (4 KiB
// provided buffers) than a 9-byte one, so the counts say nothing of bodies.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool frames_are_allocations = true;
#else
constexpr bool frames_are_allocations = false;
#endif

TEST_CASE("a body under recycled_body_size allocates nothing once warm; with recycling off it does" *
          doctest::skip(frames_are_allocations)) {
  ServerThread server(SocketAddress::parse("127.0.0.1:0"));
  const Counts recycled = measure(server.base_url(), 16 * 1024);
  CHECK(recycled.large == recycled.small);
  // Given as a URL, not text: nothing at all (the text is copied into
  // each request, and past 15 bytes that is an allocation).
  CHECK(recycled.large_by_url == 0);
  const Counts fresh = measure(server.base_url(), 0);
  CHECK(fresh.large > fresh.small);
}
