#pragma once
// A raw server on 127.0.0.1 that answers the first request of each
// connection with "fine" and then misbehaves in one of two ways the project's
// own server never does, for the pool's stale-connection rules:
//   close_on_next_request: closes the connection, unanswered, when the next
//     request arrives. The client could not have known: it must retry an
//     idempotent request on a new connection, and fail any other.
//   answer_unasked: 20 ms later sends a second answer nobody asked for. A
//     client that reused the connection would take it for its next answer.
#include <coring/coring.hpp>
#include <string>
#include <vector>

#include "server_fixture.hpp"
#include <string_view>

namespace test_support {

class OneAnswerServer {
 public:
  enum class Then { close_on_next_request, answer_unasked };

  explicit OneAnswerServer(Then then)
      : then_(then), listener_(coring::Listener::bind(coring::SocketAddress::parse("127.0.0.1:0"))) {}

  [[nodiscard]] std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(listener_.local_address().port());
  }
  [[nodiscard]] int connections_accepted() const noexcept { return accepted_; }

  /// Serves until cancelled; at most 10 connections (every loop bounded).
  coring::Task<> serve() {
    std::vector<coring::TaskHandle<void>> connections;
    while (accepted_ < 10) {
      coring::Socket socket = co_await listener_.accept();
      ++accepted_;
      connections.push_back(coring::create_task(serve_one(std::move(socket))));
    }
    for (auto& c : connections) co_await c;
  }

  coring::Task<> close() { co_await listener_.close(); }

 private:
  static std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

  /// Reads until a request head and its Content-Length body are in (false: the peer closed first).
  static coring::Task<bool> read_request(coring::Socket& socket) {
    std::string text;
    std::byte buffer[4096];
    for (int reads = 0; reads < 100; ++reads) {
      const std::size_t n = co_await socket.recv(buffer);
      if (n == 0) co_return false;
      text.append(reinterpret_cast<const char*>(buffer), n);
      const std::size_t head_end = text.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      std::size_t body = 0;
      if (const std::size_t at = text.find("Content-Length: "); at != std::string::npos && at < head_end)
        body = std::stoul(text.substr(at + 16));
      if (text.size() >= head_end + 4 + body) co_return true;
    }
    co_return false;
  }

  coring::Task<> serve_one(coring::Socket socket) {
    try {
      if (co_await read_request(socket)) {
        co_await socket.send_all(bytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine"));
        if (then_ == Then::answer_unasked) {
          co_await coring::sleep(std::chrono::milliseconds(20));
          co_await socket.send_all(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"));
          (void)co_await read_request(socket);  // holds it open until the client closes it
        } else {
          std::byte buffer[4096];
          (void)co_await socket.recv(buffer);  // the next request's first bytes: closed unanswered
        }
      }
    } catch (const coring::OSError&) {  // the client went first
    } catch (const coring::CancelledError&) {  // the test is over
      socket.abort();
      throw;
    }
    co_await socket.close();
  }

  Then then_;
  coring::Listener listener_;
  int accepted_ = 0;
};

/// Runs `body(server)` with a OneAnswerServer serving beside it.
template <class Body>
coring::Task<> with_one_answer_server(OneAnswerServer::Then then, Body body) {
  OneAnswerServer server(then);
  co_await serve_beside(server, body);
}

}  // namespace test_support
