#pragma once
// A forward HTTP proxy on 127.0.0.1, for the client's proxy support. It
// parses what it gets by hand (not with the code under test) and logs it:
//   CONNECT host:port    answers 200 and relays bytes both ways (https);
//   GET http://h:p/path  sends "GET /path" to h:p over one upstream
//                        connection per client connection, and relays
//                        the answers back (http, kept alive).
// With require_auth set, a request without that Proxy-Authorization gets 407.
#include <coring/coring.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace test_support {

class TestProxy {
 public:
  TestProxy() : listener_(coring::Listener::bind(coring::SocketAddress::parse("127.0.0.1:0"))) {}

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(listener_.local_address().port());
  }
  /// Each request's first line, and its Proxy-Authorization ("" if none).
  struct Seen {
    std::string line;
    std::string authorization;
  };
  [[nodiscard]] const std::vector<Seen>& seen() const noexcept { return seen_; }
  [[nodiscard]] int connections_accepted() const noexcept { return accepted_; }
  /// The Proxy-Authorization value every request must bring.
  std::optional<std::string> require_auth;

  /// Serves until cancelled; at most 20 connections (every loop bounded).
  coring::Task<> serve() {
    co_await coring::async_with(coring::TaskGroup{}, [this](coring::TaskGroup& group) -> coring::Task<> {
      while (accepted_ < 20) {
        coring::Socket socket = co_await listener_.accept();
        ++accepted_;
        group.create_task(serve_one(std::move(socket)));
      }
    });
  }

  coring::Task<> close() { co_await listener_.close(); }

 private:
  static std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

  /// What comes in on a connection, read a head (and a Content-Length body) at a time.
  struct Reader {
    coring::Socket& socket;
    std::string pending;

    /// The head, without its blank line, and its body; nullopt if the peer closed first.
    coring::Task<std::optional<std::pair<std::string, std::string>>> next() {
      for (int reads = 0; reads < 1000; ++reads) {
        const std::size_t head_end = pending.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          std::string head = pending.substr(0, head_end + 2);
          std::size_t length = 0;
          if (auto value = field(head, "Content-Length")) length = std::stoul(*value);
          if (pending.size() >= head_end + 4 + length) {
            std::string body = pending.substr(head_end + 4, length);
            pending.erase(0, head_end + 4 + length);
            co_return std::pair{std::move(head), std::move(body)};
          }
        }
        std::byte buffer[16384];
        const std::size_t n = co_await socket.recv(buffer);
        if (n == 0) co_return std::nullopt;
        pending.append(reinterpret_cast<const char*>(buffer), n);
      }
      co_return std::nullopt;
    }
  };

  /// The value of header `name` in `head` (case as the client wrote it).
  static std::optional<std::string> field(std::string_view head, std::string_view name) {
    const std::string key = "\r\n" + std::string(name) + ": ";
    const std::size_t at = head.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    const std::size_t from = at + key.size();
    return std::string(head.substr(from, head.find("\r\n", from) - from));
  }

  /// Copies `from` to `to` until `from` ends, then ends `to`'s sending side.
  static coring::Task<> relay(coring::Socket& from, coring::Socket& to) {
    try {
      std::byte buffer[16384];
      for (;;) {
        const std::size_t n = co_await from.recv(buffer);
        if (n == 0) break;
        co_await to.send_all(std::span(buffer, n));
      }
    } catch (const coring::OSError&) {  // a reset: the other side learns by the shutdown
    }
    to.shutdown_write();
  }

  coring::Task<> serve_one(coring::Socket client) {
    std::optional<coring::Socket> upstream, tunnel;
    std::optional<coring::TaskHandle<void>> answers;  // upstream -> client
    std::exception_ptr cancelled;
    try {
      Reader reader{client, {}};
      for (int requests = 0; requests < 100; ++requests) {
        auto message = co_await reader.next();
        if (!message) break;
        auto& [head, body] = *message;
        const std::string line = head.substr(0, head.find("\r\n"));
        const std::string authorization = field(head, "Proxy-Authorization").value_or("");
        seen_.push_back({line, authorization});
        if (require_auth && authorization != *require_auth) {
          co_await client.send_all(bytes(
              "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
              "Content-Length: 0\r\n\r\n"));
          continue;
        }
        const std::size_t space = line.find(' ');
        const std::string method = line.substr(0, space);
        const std::string target = line.substr(space + 1, line.rfind(' ') - space - 1);
        if (method == "CONNECT") {
          tunnel.emplace(co_await coring::Socket::connect(coring::SocketAddress::parse(target)));
          co_await client.send_all(bytes("HTTP/1.1 200 Connection established\r\n\r\n"));
          co_await coring::gather(relay(client, *tunnel), relay(*tunnel, client));
          break;
        }
        // Absolute form: http://host:port/path.
        const std::size_t authority_at = target.find("://") + 3;
        const std::size_t path_at = target.find('/', authority_at);
        if (!upstream) {
          upstream.emplace(co_await coring::Socket::connect(
              coring::SocketAddress::parse(target.substr(authority_at, path_at - authority_at))));
          answers.emplace(coring::create_task(relay(*upstream, client)));
        }
        std::string forwarded = method + " " + target.substr(path_at) + line.substr(line.rfind(' '));
        std::string_view rest = std::string_view(head).substr(line.size());
        // Proxy-Authorization is for the proxy alone.
        for (std::size_t at = 0; at < rest.size();) {
          const std::size_t end = rest.find("\r\n", at + 2);
          const std::string_view one = rest.substr(at, end - at);
          if (!one.starts_with("\r\nProxy-Authorization:")) forwarded += one;
          at = end;
        }
        forwarded += "\r\n" + body;  // `rest` ends with its last line's CRLF
        co_await upstream->send_all(bytes(forwarded));
      }
      if (upstream) {
        upstream->shutdown_write();
        co_await *answers;
      }
    } catch (const coring::OSError&) {  // a peer went first
    } catch (const coring::CancelledError&) {  // the test is over
      cancelled = std::current_exception();
    }
    if (answers && !answers->done()) {  // it uses this frame's sockets: ended before they go
      answers->cancel();
      try {
        co_await *answers;
      } catch (const coring::CancelledError&) {
      }
    }
    if (upstream) upstream->abort();
    if (tunnel) tunnel->abort();
    if (cancelled) {
      client.abort();
      std::rethrow_exception(cancelled);
    }
    co_await client.close();
  }

  coring::Listener listener_;
  std::vector<Seen> seen_;
  int accepted_ = 0;
};

}  // namespace test_support
