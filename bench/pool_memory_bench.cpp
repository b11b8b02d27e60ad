// Memory per idle pooled connection: `coring_pool_memory URL N` opens N
// keep-alive connections through one ClientSession (N requests at once,
// limit N), lets them all go idle in the pool, and reports the heap bytes
// in use (glibc mallinfo2, which frees do lower, unlike RSS) per idle
// connection. The kernel's socket buffers are not counted: they are not
// ours. Prints
//   RESULT bench=pool_memory connections=N heap_bytes_per_idle_connection=B idle=I
#include <malloc.h>

#include <coring/coring.hpp>
#include <coring/detail/frame_pool.hpp>
#include <coring/http/client.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace coring;
using namespace coring::http;

namespace {

std::size_t heap_in_use() { return mallinfo2().uordblks; }

Task<int> fetch(ClientSession& session, const std::string& url) {
  ClientResponse response = co_await session.get(url);
  co_await response.read();
  co_return response.status();
}

Task<> measure(std::string url, std::size_t n) {
  SessionOptions options;
  options.connector.limit = n;
  options.connector.keepalive_timeout = Seconds(600);
  co_await async_with(ClientSession(options), [&](ClientSession& session) -> Task<> {
    // One request first, so that what every session has once (DNS cache,
    // pool tables) is not charged to the connections.
    co_await fetch(session, url);
    const std::size_t before = heap_in_use();
    const std::size_t frames_before = coring::detail::cached_frame_bytes();
    // N at once opens N connections; a second round reuses them all, and
    // leaves every lasting structure at its size.
    for (int round = 0; round < 2; ++round) {
      std::vector<Task<int>> requests;
      for (std::size_t i = 0; i < n; ++i) requests.push_back(fetch(session, url));
      co_await gather(std::move(requests));
    }
    // The frames of the N requests, freed, stay in the thread's frame cache
    // for the next burst: the burst's memory, not the idle connections'.
    const std::size_t frames = coring::detail::cached_frame_bytes() - frames_before;
    const std::size_t after = heap_in_use() - frames;
    std::printf(
        "RESULT bench=pool_memory connections=%zu heap_bytes_per_idle_connection=%.0f cached_frame_bytes=%zu\n", n,
        static_cast<double>(after - before) / static_cast<double>(n - 1), frames);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s URL CONNECTIONS\n", argv[0]);
    return 2;
  }
  run(measure(argv[1], std::strtoul(argv[2], nullptr, 10)));
}
