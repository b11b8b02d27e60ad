// MultishotReceiver: one armed receive per socket, filling the loop's
// provided buffers; against our own listeners on loopback.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <coring/coring.hpp>
#include <string>
#include <vector>

#include "../support/loopback.hpp"

using namespace coring;
using namespace std::chrono_literals;
using test_support::bytes;
using test_support::connected_pair;

namespace {

/// Text no two offsets of which look alike for long: a lost, doubled or
/// reordered chunk shows.
std::string pattern(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return text;
}

Task<std::string> receive_all(MultishotReceiver& receiver) {
  std::string text;
  for (;;) {
    const auto chunk = co_await receiver.receive();
    if (chunk.empty()) co_return text;
    text.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  }
}

Task<> send_and_close(Socket& socket, std::string text) {
  co_await socket.send_all(bytes(text));
  co_await socket.close();
}

}  // namespace

TEST_CASE("a multishot receiver delivers a large message whole, in order, then the end every time") {
  auto outer = []() -> Task<> {
    auto [client, server] = co_await connected_pair();
    const std::string sent = pattern(1'000'000);
    std::string got;
    {
      MultishotReceiver receiver(client);
      auto sender = create_task(send_and_close(server, sent));
      got = co_await receive_all(receiver);
      CHECK((co_await receiver.receive()).empty());  // the end, again
      co_await sender;
    }
    CHECK(got.size() == sent.size());
    CHECK(got == sent);
    co_await client.close();
  };
  run(outer());
}

TEST_CASE("more than the buffer pool holds, unread: the receive waits for buffers and loses nothing") {
  auto outer = []() -> Task<> {
    auto [client, server] = co_await connected_pair();
    // 6 MB against a pool of 4 MB: the kernel fills every buffer, ends the
    // receive with ENOBUFS, and it must be armed again as buffers come back.
    const std::string sent = pattern(6'000'000);
    std::string got;
    {
      MultishotReceiver receiver(client);
      auto sender = create_task(send_and_close(server, sent));
      co_await sleep(100ms);
      got = co_await receive_all(receiver);
      co_await sender;
    }
    co_await client.close();
    CHECK(got.size() == sent.size());
    CHECK(got == sent);
  };
  run(outer());
}

TEST_CASE("bytes one receiver does not read never starve another: each holds a few buffers at most") {
  auto outer = []() -> Task<> {
    auto [flooded_client, flooded_server] = co_await connected_pair();
    auto [client, server] = co_await connected_pair();
    const std::string flood = pattern(8'000'000);  // twice the pool, never read until the end
    std::string got;
    {
      MultishotReceiver flooded(flooded_client);
      MultishotReceiver receiver(client);
      auto flooding = create_task(send_and_close(flooded_server, flood));
      co_await sleep(100ms);  // the flood has filled what the kernel would give it
      co_await server.send_all(bytes("through"));
      const auto chunk = co_await wait_for(receiver.receive(), 2s);  // without the bound: no buffer, ever
      CHECK(std::string_view(reinterpret_cast<const char*>(chunk.data()), chunk.size()) == "through");
      // Paused, not lost: the flood comes whole once read.
      got = co_await receive_all(flooded);
      co_await flooding;
    }
    CHECK(got == flood);
    co_await flooded_client.close();
    co_await client.close();
    co_await server.close();
  };
  run(outer());
}

TEST_CASE("a cancelled receive loses no bytes, and the receiver goes on") {
  auto outer = []() -> Task<> {
    auto [client, server] = co_await connected_pair();
    {
      MultishotReceiver receiver(client);
      CHECK_THROWS_AS(co_await wait_for(receiver.receive(), 20ms), TimeoutError);
      co_await server.send_all(bytes("after the timeout"));
      const auto chunk = co_await wait_for(receiver.receive(), 5s);
      CHECK(std::string_view(reinterpret_cast<const char*>(chunk.data()), chunk.size()) == "after the timeout");
      co_await server.close();
      CHECK((co_await receiver.receive()).empty());
    }
    co_await client.close();
  };
  run(outer());
}

TEST_CASE("destroying an armed receiver lets its socket close: the peer sees the end") {
  auto outer = []() -> Task<> {
    auto [client, server] = co_await connected_pair();
    {
      MultishotReceiver receiver(client);
      co_await server.send_all(bytes("unread"));
      co_await sleep(10ms);  // the kernel has filled a buffer that nobody takes
    }
    co_await client.close();
    std::byte buffer[16];
    CHECK(co_await wait_for(server.recv(buffer), 5s) == 0);
    co_await server.close();
  };
  run(outer());
}

TEST_CASE("a receiver made and dropped in one pass, its socket aborted: the next socket on that number loses nothing") {
  auto outer = []() -> Task<> {
    auto [client, server] = co_await connected_pair();
    const int number = client.fd();
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    // No await from here to the sleep: the receive and its cancel are still
    // queued, not in the kernel, when the descriptor is closed.
    { MultishotReceiver receiver(client); }
    client.abort();
    REQUIRE(::dup2(pair[0], number) == number);  // a new socket on the closed number, with bytes waiting
    ::close(pair[0]);
    REQUIRE(::send(pair[1], "first", 5, MSG_NOSIGNAL) == 5);
    co_await sleep(10ms);  // the queued SQEs reach the kernel, and end
    char got[8] = {};
    CHECK(::recv(number, got, sizeof got, MSG_DONTWAIT) == 5);
    CHECK(std::string_view(got) == "first");
    ::close(number);
    ::close(pair[1]);
    co_await server.close();
  };
  run(outer());
}

TEST_CASE("many receivers at once share the pool") {
  auto outer = []() -> Task<> {
    constexpr std::size_t count = 50;
    std::vector<test_support::SocketPair> pairs;
    for (std::size_t i = 0; i < count; ++i) pairs.push_back(co_await connected_pair());
    std::vector<Task<std::string>> readers;
    std::vector<std::unique_ptr<MultishotReceiver>> receivers;
    for (auto& p : pairs) {
      receivers.push_back(std::make_unique<MultishotReceiver>(p.client));
      readers.push_back(receive_all(*receivers.back()));
    }
    auto reading = create_task(gather(std::move(readers)));
    std::vector<Task<>> senders;
    for (std::size_t i = 0; i < count; ++i) senders.push_back(send_and_close(pairs[i].server, pattern(100'000 + i)));
    co_await gather(std::move(senders));
    const std::vector<std::string> got = co_await reading;
    for (std::size_t i = 0; i < count; ++i) CHECK(got[i] == pattern(100'000 + i));
    receivers.clear();
    for (auto& p : pairs) co_await p.client.close();
  };
  run(outer());
}

TEST_CASE("receive_into copies in pieces as small as asked, and loses nothing") {
  auto outer = []() -> Task<> {
    auto [client, server] = co_await connected_pair();
    const std::string sent = pattern(300'000);
    std::string got;
    {
      MultishotReceiver receiver(client);
      auto sender = create_task(send_and_close(server, sent));
      std::byte piece[1000];  // smaller than a provided buffer: chunks are split
      for (;;) {
        const std::size_t n = co_await receiver.receive_into(piece);
        if (n == 0) break;
        CHECK(n <= sizeof piece);
        got.append(reinterpret_cast<const char*>(piece), n);
      }
      co_await sender;
    }
    co_await client.close();
    CHECK(got == sent);
  };
  run(outer());
}
