// Soak: `coring_soak [REQUESTS] [CONNECTIONS]` sends REQUESTS (default
// 1,000,000) keep-alive GETs through one ClientSession, CONNECTIONS
// (default 10) at a time, to the embedded server on a thread of its own,
// and samples resident memory and open descriptors every 100,000 requests.
// Memory must not grow once warm: it prints each sample, then
//   RESULT bench=soak requests=N rss_kb_at_100k=A rss_kb_end=B growth_kb=G fds_at_100k=F fds_end=E errors=0
// and exits 1 if RSS grew by more than 1 MiB after the first 100,000, if
// descriptors grew, or if any request failed.
#include <unistd.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server_thread.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace coring;
using namespace coring::http;

namespace {

long resident_kb() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

struct Sample {
  std::size_t requests;
  long rss_kb;
  std::size_t fds;
};

struct Soak {
  std::size_t total = 0;
  std::size_t done = 0;
  std::size_t errors = 0;
  std::vector<Sample> samples;
};

constexpr std::size_t sample_every = 100'000;

Task<> worker(ClientSession& session, const std::string& url, Soak& soak, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    try {
      ClientResponse response = co_await session.get(url);
      if ((co_await response.read()).size() != 13) ++soak.errors;
    } catch (const ClientError& e) {
      if (soak.errors++ == 0) std::fprintf(stderr, "soak: %s\n", e.what());
    }
    if (++soak.done % sample_every == 0) {
      soak.samples.push_back({soak.done, resident_kb(), open_fds()});
      std::printf("requests=%zu rss_kb=%ld fds=%zu\n", soak.done, soak.samples.back().rss_kb,
                  soak.samples.back().fds);
      std::fflush(stdout);
    }
  }
}

Task<> soak_run(std::string url, Soak& soak, std::size_t connections) {
  SessionOptions options;
  options.connector.limit = connections;
  co_await async_with(ClientSession(options), [&](ClientSession& session) -> Task<> {
    std::vector<Task<>> workers;
    for (std::size_t c = 0; c < connections; ++c)
      workers.push_back(worker(session, url, soak, soak.total / connections + (c < soak.total % connections)));
    co_await gather(std::move(workers));
  });
}

}  // namespace

int main(int argc, char** argv) {
  Soak soak;
  soak.total = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1'000'000;
  const std::size_t connections = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10;
  if (argc > 3 || soak.total < 2 * sample_every || connections == 0) {
    std::fprintf(stderr, "usage: %s [REQUESTS >= %zu] [CONNECTIONS >= 1]\n", argv[0], 2 * sample_every);
    return 2;
  }
  {
    ServerThread server(SocketAddress::parse("127.0.0.1:0"));
    run(soak_run(server.base_url() + "/small", soak, connections));
  }
  const Sample& warm = soak.samples.front();
  const Sample& end = soak.samples.back();
  const long growth = end.rss_kb - warm.rss_kb;
  std::printf("RESULT bench=soak requests=%zu rss_kb_at_100k=%ld rss_kb_end=%ld growth_kb=%ld fds_at_100k=%zu "
              "fds_end=%zu errors=%zu\n",
              soak.done, warm.rss_kb, end.rss_kb, growth, warm.fds, end.fds, soak.errors);
  const bool flat = growth <= 1024 && end.fds <= warm.fds && soak.errors == 0;
  if (!flat) std::fprintf(stderr, "soak: memory or descriptors grew, or requests failed\n");
  return flat ? 0 : 1;
}
