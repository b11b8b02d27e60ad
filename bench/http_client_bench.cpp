// The client library under load, for ../shared/peers/run-all.sh
// (EXTRA_CLIENTS="coring_client=build/bench/coring_client_bench"): `URL C N`
// makes N GET requests through one ClientSession with C connections, as C
// workers in a gather (the shape of the aiohttp and undici peers), every
// feature left on (cookies, decompression, redirects). `URL C N D` pipelines
// D deep (TCPConnector::pipelining = D, C * D workers). The URL goes as
// text, as most aiohttp users pass it: each request copies it (the one
// allocation counted below; given as a parsed URL there is none, see
// tests/http/recycle_test.cpp, but moving a URL through the calls costs
// more instructions than the session's cached parse of the text: see
// bench/history/2026-12-05.md). It prints
//   RESULT client=coring_client requests=N rps=R errors=E allocs_per_request=A
// where A counts heap allocations (operator new is replaced in this binary)
// over the second half of the requests, when connections are open and warm.
// CORING_BATCH_WAIT_US=N in the environment runs the loop with
// EventLoopOptions::batch_wait of N microseconds (default 0, as the library's).
#include "allocation_counter.hpp"

#include <algorithm>
#include <chrono>
#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>


using namespace coring;
using namespace coring::http;

namespace {

struct Counts {
  std::size_t left = 0;
  std::size_t done = 0;
  std::size_t errors = 0;
  std::string first_error;
  std::size_t half = 0;               // done requests at which the count starts
  std::size_t allocations_at_half = 0;
};

Task<> worker(ClientSession& session, const std::string& url, Counts& counts) {
  while (counts.left > 0) {
    --counts.left;
    try {
      ClientResponse response = co_await session.get(url);
      co_await response.read_view();  // no copy: the body stays in the response's recycled buffer
      if (response.status() == 200) {
        if (++counts.done == counts.half) counts.allocations_at_half = bench::allocations_so_far().allocations;
      } else {
        ++counts.errors;
      }
    } catch (const ClientError& e) {
      if (counts.first_error.empty()) counts.first_error = e.what();
      ++counts.errors;
    }
  }
}

Task<> load(std::string url, std::size_t connections, std::size_t depth, Counts& counts) {
  SessionOptions options;
  options.connector.limit = connections;
  options.connector.pipelining = depth;
  co_await async_with(ClientSession(options), [&](ClientSession& session) -> Task<> {
    std::vector<Task<>> workers;
    for (std::size_t i = 0; i < connections * depth; ++i) workers.push_back(worker(session, url, counts));
    co_await gather(std::move(workers));
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: %s URL CONNECTIONS REQUESTS [PIPELINE_DEPTH]\n", argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  const auto connections = static_cast<std::size_t>(std::strtoul(argv[2], nullptr, 10));
  const std::size_t depth = argc == 5 ? std::max(1UL, std::strtoul(argv[4], nullptr, 10)) : 1;
  Counts counts;
  counts.left = static_cast<std::size_t>(std::strtoul(argv[3], nullptr, 10));
  counts.half = counts.left / 2;
  const auto start = std::chrono::steady_clock::now();
  EventLoopOptions options;
  if (const char* wait = std::getenv("CORING_BATCH_WAIT_US")) options.batch_wait = std::chrono::microseconds(std::atoi(wait));
  run(load(url, connections, depth, counts), options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double allocs_per_request =
      counts.done > counts.half
          ? static_cast<double>(bench::allocations_so_far().allocations - counts.allocations_at_half) / static_cast<double>(counts.done - counts.half)
          : 0.0;
  std::printf("RESULT client=coring_client requests=%zu rps=%.0f errors=%zu allocs_per_request=%.1f\n", counts.done,
              static_cast<double>(counts.done) / seconds, counts.errors, allocs_per_request);
  if (!counts.first_error.empty()) std::fprintf(stderr, "first error: %s\n", counts.first_error.c_str());
  return counts.errors == 0 ? 0 : 1;
}
