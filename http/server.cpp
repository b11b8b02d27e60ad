#include "coring/http/server.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "coring/async_with.hpp"
#include "coring/errors.hpp"
#include "coring/sleep.hpp"
#include "coring/task_group.hpp"
#include "parser.hpp"
#include "tls.hpp"

namespace coring::http {

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::span<const std::byte> as_bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

}  // namespace

Task<> ServerExchange::respond(int status, std::string_view body, const Headers& headers) {
  responded_ = true;
  out_.clear();
  out_ += "HTTP/1.1 ";
  out_ += std::to_string(status);
  out_ += ' ';
  out_ += reason_phrase(status);
  out_ += "\r\n";
  for (const auto& [name, value] : headers) {
    out_ += name;
    out_ += ": ";
    out_ += value;
    out_ += "\r\n";
  }
  const bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
  if (!no_body) {
    out_ += "Content-Length: ";
    out_ += std::to_string(body.size());
    out_ += "\r\n";
  }
  if (close_) out_ += "Connection: close\r\n";
  out_ += "\r\n";
  if (request_.method != "HEAD" && !no_body) out_ += body;
  co_await write(out_);
}

Task<> ServerExchange::write_raw(std::string_view bytes) {
  responded_ = true;
  co_await write(bytes);
}

Task<> ServerExchange::write(std::string_view bytes) {
  if (tls_) {
    co_await tls_->write(as_bytes(bytes));
  } else {
    co_await socket_.send_all(as_bytes(bytes));
  }
}

struct Server::State {
  Listener listener;
  Handler handler;
  std::shared_ptr<detail::TlsContext> tls;
  std::size_t requests = 0;
  std::size_t connections = 0;
};

Server::Server(const SocketAddress& address, Handler handler, std::optional<ServerTLS> tls)
    : Server(Listener::bind(address), std::move(handler), std::move(tls)) {}

Server::Server(Listener listener, Handler handler, std::optional<ServerTLS> tls) : state_(std::make_unique<State>()) {
  try {
    if (tls) state_->tls = detail::TlsContext::server(tls->cert_file, tls->key_file, tls->client_ca_file);
  } catch (...) {
    listener.abort();
    throw;
  }
  state_->listener = std::move(listener);
  state_->handler = std::move(handler);
}

Server::Server(Server&&) noexcept = default;
Server::~Server() = default;

SocketAddress Server::address() const { return state_->listener.local_address(); }
std::string Server::base_url() const { return (state_->tls ? "https://" : "http://") + address().to_string(); }
std::size_t Server::requests_served() const noexcept { return state_->requests; }
std::size_t Server::connections_accepted() const noexcept { return state_->connections; }

namespace {

/// Serves one connection until the client closes it, asks to, or breaks it.
/// Never throws but CancelledError: one bad client must not stop the server.
Task<> serve_connection(Socket socket, Server::Handler& handler, std::size_t& requests,
                        std::shared_ptr<detail::TlsContext> tls_context) {
  detail::RequestParser parser;
  std::string pending;
  auto buffer = std::make_unique<char[]>(16384);
  std::unique_ptr<detail::TlsStream> tls;
  std::exception_ptr cancelled;
  bool graceful = true;  // a TLS connection ends with close_notify
  try {
    if (tls_context) {
      tls = std::make_unique<detail::TlsStream>(std::move(tls_context), socket);
      co_await tls->accept();
    }
    for (bool open = true; open;) {
      parser.start();
      while (!parser.message_complete() && !parser.failed()) {
        if (!pending.empty()) {
          const std::size_t used = parser.feed(pending);
          pending.erase(0, used);
          continue;
        }
        const auto space = std::span(reinterpret_cast<std::byte*>(buffer.get()), 16384);
        std::size_t n = 0;
        if (tls) {
          n = co_await tls->read(space);
        } else {
          n = co_await socket.recv(space);
        }
        if (n == 0) {
          open = false;
          break;
        }
        const std::string_view data(buffer.get(), n);
        const std::size_t used = parser.feed(data);
        if (used < n && !parser.failed()) pending.assign(data.substr(used));
      }
      if (!open) break;
      if (parser.failed()) {
        ServerExchange bad(socket, tls.get(), {});
        bad.close_connection();
        co_await bad.respond(parser.error_status(), "bad request: " + parser.error() + "\n");
        break;
      }
      auto& head = parser.head();
      ServerRequest request;
      request.method = head.method;
      request.target = head.target;
      const auto question = head.target.find('?');
      request.path = head.target.substr(0, question);
      if (question != std::string::npos) request.query = head.target.substr(question + 1);
      request.headers = std::move(head.headers);
      request.body = std::move(parser.body());
      ++requests;
      ServerExchange exchange(socket, tls.get(), std::move(request));
      if (!parser.keep_alive()) exchange.close_connection();
      co_await handler(exchange);
      if (exchange.resetting()) {
        graceful = false;
        // A zero linger time makes close() send RST and drop unsent data.
        const linger abort_on_close{.l_onoff = 1, .l_linger = 0};
        ::setsockopt(socket.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
        break;
      }
      if (!exchange.responded()) co_await exchange.respond(500, "the handler did not respond\n");
      if (exchange.closing()) break;
    }
  } catch (const CancelledError&) {
    cancelled = std::current_exception();
    graceful = false;
  } catch (const std::exception& e) {
    // A client that went away mid-exchange (EPIPE, ECONNRESET) or failed
    // its TLS handshake: its problem.
    graceful = false;
  }
  if (tls && graceful) {
    try {
      co_await tls->shutdown();  // a body ended by the close must end with close_notify
    } catch (const std::exception&) {
    }
  }
  tls.reset();
  co_await socket.close();
  if (cancelled) std::rethrow_exception(cancelled);
}

}  // namespace

Task<> Server::serve() {
  State& s = *state_;
  co_await async_with(TaskGroup{}, [&s](TaskGroup& group) -> Task<> {
    for (;;) {
      Socket socket;
      bool out_of_resources = false;
      try {
        socket = co_await s.listener.accept();
      } catch (const OSError& e) {
        // Out of descriptors or memory, or a client gone before accept:
        // the server waits a little and goes on, as asyncio's does.
        const int code = e.code().value();
        if (code != EMFILE && code != ENFILE && code != ENOBUFS && code != ENOMEM && code != ECONNABORTED) throw;
        out_of_resources = true;
      }
      if (out_of_resources) {
        co_await sleep(std::chrono::milliseconds(10));
        continue;
      }
      ++s.connections;
      group.create_task(serve_connection(std::move(socket), s.handler, s.requests, s.tls));
    }
  });
}

Task<> Server::close() { co_await state_->listener.close(); }

}  // namespace coring::http
