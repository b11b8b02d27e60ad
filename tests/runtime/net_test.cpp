// Sockets on the loop, against our own listeners on loopback.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <coring/coring.hpp>
#include <cstring>
#include <string>

#include "../support/loopback.hpp"

using namespace coring;
using namespace std::chrono_literals;
using test_support::bytes;

namespace {

/// Reads until the peer closes its side.
Task<std::string> read_all(Socket& socket) {
  std::string text;
  std::byte buffer[4096];
  for (;;) {
    const std::size_t n = co_await socket.recv(buffer);
    if (n == 0) co_return text;
    text.append(reinterpret_cast<const char*>(buffer), n);
  }
}

/// Accepts one connection and echoes it back upper-cased until EOF.
Task<> echo_once(Listener& listener) {
  Socket peer = co_await listener.accept();
  std::string text = co_await read_all(peer);
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  co_await peer.send_all(bytes(text));
  co_await peer.close();
}

Task<std::string> round_trip(SocketAddress address, std::string message) {
  Socket socket = co_await Socket::connect(address);
  co_await socket.send_all(bytes(message));
  socket.shutdown_write();
  std::string reply = co_await read_all(socket);
  co_await socket.close();
  co_return reply;
}

/// `message` sent to a listener bound on `address`, and its echo back.
Task<std::string> echo_through(SocketAddress address, std::string message) {
  Listener listener = Listener::bind(address);
  auto server = create_task(echo_once(listener));
  std::string reply = co_await round_trip(listener.local_address(), std::move(message));
  co_await server;
  co_await listener.close();
  co_return reply;
}

}  // namespace

TEST_CASE("SocketAddress parses IPv4, IPv6 and Unix forms and refuses junk") {
  CHECK(SocketAddress::parse("127.0.0.1:8080").to_string() == "127.0.0.1:8080");
  CHECK(SocketAddress::parse("[::1]:443").to_string() == "[::1]:443");
  CHECK(SocketAddress::parse("[::1]:443").port() == 443);
  CHECK(SocketAddress::parse("/tmp/x.sock").is_unix());
  CHECK(SocketAddress::parse("unix:/tmp/x.sock").to_string() == "unix:/tmp/x.sock");
  CHECK_THROWS_AS(SocketAddress::parse("localhost:80"), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::parse("127.0.0.1:99999"), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::parse("127.0.0.1"), std::invalid_argument);
  CHECK_THROWS_AS(SocketAddress::parse("[::1]443"), std::invalid_argument);
}

TEST_CASE("TCP connect, send, recv and close on loopback") {
  CHECK(run(echo_through(SocketAddress::parse("127.0.0.1:0"), "hello, loop")) == "HELLO, LOOP");
}

TEST_CASE("a large message crosses intact in many sends and receives") {
  auto outer = []() -> Task<> {
    std::string big(4 << 20, 'a');
    for (std::size_t i = 0; i < big.size(); i += 4099) big[i] = 'b';
    std::string reply = co_await echo_through(SocketAddress::parse("127.0.0.1:0"), big);
    for (char& c : big) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(reply == big);
  };
  run(outer());
}

TEST_CASE("IPv6 loopback works") {
  CHECK(run(echo_through(SocketAddress::parse("[::1]:0"), "six")) == "SIX");
}

TEST_CASE("Unix-domain sockets work and the listener removes its file") {
  const std::string path = "/tmp/coring-net-test-" + std::to_string(::getpid()) + ".sock";
  CHECK(run(echo_through(SocketAddress::unix_path(path), "unix")) == "UNIX");
  CHECK(::access(path.c_str(), F_OK) != 0);
}

TEST_CASE("a refused connection is an OSError that names the address") {
  auto outer = []() -> Task<> {
    // Bind then close, so the port is known to be free.
    Listener probe = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const auto address = probe.local_address();
    co_await probe.close();
    try {
      auto s = co_await Socket::connect(address);
      co_await s.close();
      FAIL("connect should fail");
    } catch (const OSError& e) {
      CHECK(e.code().value() == ECONNREFUSED);
      CHECK(std::string(e.what()).find(address.to_string()) != std::string::npos);
    }
  };
  run(outer());
}

TEST_CASE("wait_for on a recv cancels it in the kernel and the socket stays usable") {
  auto outer = []() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    Socket client = co_await Socket::connect(listener.local_address());
    Socket server = co_await listener.accept();
    std::byte buffer[16];
    CHECK_THROWS_AS(co_await wait_for(client.recv(buffer), 10ms), TimeoutError);
    // The cancelled recv consumed nothing: a later one gets the data.
    co_await server.send_all(bytes("late"));
    const std::size_t n = co_await wait_for(client.recv(buffer), 1s);
    CHECK(std::string(reinterpret_cast<const char*>(buffer), n) == "late");
    co_await client.close();
    co_await server.close();
    co_await listener.close();
  };
  run(outer());
}

TEST_CASE("cancelling a task blocked in accept ends it promptly") {
  auto outer = []() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    auto acceptor = [](Listener& l) -> Task<> {
      Socket s = co_await l.accept();
      co_await s.close();
    };
    auto handle = create_task(acceptor(listener));
    co_await sleep(2ms);
    handle.cancel();
    CHECK_THROWS_AS(co_await handle, CancelledError);
    co_await listener.close();
  };
  run(outer());
}

TEST_CASE("a socket destroyed without close is reported and its descriptor freed") {
  auto outer = []() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const auto before = detail::unreleased_reports();
    int fd;
    {
      Socket forgotten = co_await Socket::connect(listener.local_address());
      fd = forgotten.fd();
    }
    CHECK(detail::unreleased_reports() == before + 1);
    CHECK(::fcntl(fd, F_GETFD) == -1);  // closed
    co_await listener.close();
  };
  run(outer());
}

TEST_CASE("async_with closes a connected socket on every way out") {
  auto outer = []() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const auto before = detail::unreleased_reports();
    int fd = -1;
    CHECK_THROWS_AS(co_await async_with(Socket::connect(listener.local_address()),
                                        [&](Socket& s) -> Task<> {
                                          fd = s.fd();
                                          throw std::runtime_error("body failed");
                                          co_return;
                                        }),
                    std::runtime_error);
    CHECK(fd >= 0);
    CHECK(::fcntl(fd, F_GETFD) == -1);
    CHECK(detail::unreleased_reports() == before);
    co_await listener.close();
  };
  run(outer());
}

TEST_CASE("poll waits for readability and can be cancelled by wait_for") {
  auto outer = []() -> Task<> {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    CHECK_THROWS_AS(co_await wait_for(coring::poll(fds[0], POLLIN), 5ms), TimeoutError);
    auto writer = create_task([](int fd) -> Task<> {
      co_await sleep(2ms);
      [[maybe_unused]] auto n = ::write(fd, "x", 1);
    }(fds[1]));
    const unsigned events = co_await coring::poll(fds[0], POLLIN);
    CHECK((events & POLLIN) != 0);
    co_await writer;
    ::close(fds[0]);
    ::close(fds[1]);
  };
  run(outer());
}
