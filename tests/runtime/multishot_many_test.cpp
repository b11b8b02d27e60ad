// MultishotReceiver with more receivers than the loop has provided buffers:
// 1,100 connected pairs on loopback, so 2,200 descriptors and more. Skipped
// (exit 77) where RLIMIT_NOFILE cannot be raised that far.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <algorithm>
#include <coring/coring.hpp>
#include <memory>
#include <string>
#include <vector>

#include "../support/loopback.hpp"
#include "../support/requirement.hpp"

using namespace coring;
using namespace std::chrono_literals;
using test_support::bytes;
using test_support::connected_pair;

namespace {

constexpr std::size_t count = 1100;
constexpr rlim_t files_needed = 2 * count + 100;

}  // namespace

std::optional<std::string> test_support::missing_requirement() {
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < files_needed) {
    files.rlim_cur = std::min(files.rlim_max, files_needed);
    setrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur >= files_needed) return std::nullopt;
  return "RLIMIT_NOFILE is " + std::to_string(files.rlim_cur) + " (hard limit " + std::to_string(files.rlim_max) +
         "), these tests need " + std::to_string(files_needed);
}

TEST_CASE("readers of receive_into that stop reading hold no buffer: more of them than the pool has go on") {
  // 1,100 idle readers against 1,024 buffers: had each kept its last
  // buffer, the pool would be dry and the second messages would never come.
  auto outer = []() -> Task<> {
    std::vector<test_support::SocketPair> pairs;
    for (std::size_t i = 0; i < count; ++i) pairs.push_back(co_await connected_pair());
    std::vector<std::unique_ptr<MultishotReceiver>> receivers;
    for (auto& p : pairs) receivers.push_back(std::make_unique<MultishotReceiver>(p.client));
    std::size_t got = 0;
    for (int round = 0; round < 2; ++round) {
      for (auto& p : pairs) co_await p.server.send_all(bytes("hello"));
      for (auto& r : receivers) {
        std::byte buffer[16];
        got += co_await wait_for(r->receive_into(buffer), 5s);
      }
    }
    CHECK(got == 2 * 5 * count);
    receivers.clear();
    for (auto& p : pairs) {
      co_await p.client.close();
      co_await p.server.close();
    }
  };
  run(outer());
}
