// EventLoopOptions::batch_wait: the kernel holds a wait back for more
// completions, never past a timer or a lone completion's bound. Needs
// IORING_FEAT_MIN_TIMEOUT (Linux 6.12); without it batch_wait is ignored and
// these tests are skipped (exit 77), not passed.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <string>
#include <utility>
#include <vector>

#include "../support/loopback.hpp"
#include "../support/requirement.hpp"

using namespace coring;
using namespace std::chrono_literals;
using test_support::bytes;

std::optional<std::string> test_support::missing_requirement() {
  if (EventLoop().ring_features().find(" +batch_wait") != std::string::npos) return std::nullopt;
  return "the kernel lacks IORING_FEAT_MIN_TIMEOUT (Linux 6.12), which batch_wait needs";
}

namespace {

/// `count` connected pairs on loopback: the client ends, then the accepted ones.
Task<std::pair<std::vector<Socket>, std::vector<Socket>>> connected_pairs(std::size_t count) {
  Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
  std::vector<Socket> clients, servers;
  for (std::size_t i = 0; i < count; ++i) {
    clients.push_back(co_await Socket::connect(listener.local_address()));
    servers.push_back(co_await listener.accept());
  }
  co_await listener.close();
  co_return std::pair{std::move(clients), std::move(servers)};
}

Task<> close_all(std::vector<Socket>& sockets) {
  for (auto& s : sockets) co_await s.close();
}

EventLoopOptions batching(std::chrono::microseconds wait) {
  EventLoopOptions options;
  options.batch_wait = wait;
  return options;
}

}  // namespace

TEST_CASE("batched waiting delivers every completion, and a lone one within batch_wait") {
  auto outer = []() -> Task<> {
    auto [clients, servers] = co_await connected_pairs(20);
    std::size_t received = 0;
    auto reader = [&](Socket& s) -> Task<> {
      std::byte buffer[16];
      received += co_await s.recv(buffer);
    };
    // One answer while 20 receives wait: it must not wait for the others
    // (no other timer than wait_for's 5 s bounds this wait).
    auto first = create_task(reader(clients[0]));
    std::vector<Task<>> readers;
    for (std::size_t i = 1; i < clients.size(); ++i) readers.push_back(reader(clients[i]));
    auto rest = create_task(gather(std::move(readers)));
    co_await sleep(0ms);
    const auto start = EventLoop::clock::now();
    co_await servers[0].send_all(bytes("x"));
    co_await wait_for(std::move(first), 5s);
    CHECK(received == 1);
    CHECK(EventLoop::clock::now() - start < 2s);
    for (std::size_t i = 1; i < servers.size(); ++i) co_await servers[i].send_all(bytes("yy"));
    co_await rest;
    CHECK(received == 1 + 2 * 19);
    co_await close_all(clients);
    co_await close_all(servers);
  };
  run(outer(), batching(50ms));
}

TEST_CASE("batched waiting never holds a timer back") {
  auto outer = []() -> Task<> {
    auto [clients, servers] = co_await connected_pairs(20);
    // 20 receives that nothing answers: without the timer's bound the
    // kernel would wait out the whole batch_wait of 2 s before a wake-up.
    std::vector<Task<>> readers;
    for (auto& s : clients) {
      readers.push_back([](Socket& socket) -> Task<> {
        std::byte buffer[16];
        (void)co_await socket.recv(buffer);
      }(s));
    }
    auto all = create_task(gather(std::move(readers)));
    co_await sleep(0ms);
    const auto start = EventLoop::clock::now();
    co_await sleep(10ms);
    CHECK(EventLoop::clock::now() - start < 1s);
    all.cancel();
    try {
      co_await all;
    } catch (const CancelledError&) {
    }
    co_await close_all(clients);
    co_await close_all(servers);
  };
  run(outer(), batching(2s));
}
