// Server: accepting under max_connections, and each connection's life:
// requests read under the timeouts, bad ones refused, answers written.
#include "coring/http/server.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <limits>
#include <optional>

#include "coring/async_with.hpp"
#include "coring/errors.hpp"
#include "coring/extend/timeout_scope.hpp"
#include "coring/sleep.hpp"
#include "coring/sync.hpp"
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
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
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
  ServerOptions options;
  std::shared_ptr<detail::TLSContext> tls;
  std::size_t requests = 0;
  std::size_t connections = 0;
};

Server::Server(const SocketAddress& address, Handler handler, std::optional<ServerSSLOptions> tls, ServerOptions options)
    : Server(Listener::bind(address), std::move(handler), std::move(tls), options) {}

Server::Server(Listener listener, Handler handler, std::optional<ServerSSLOptions> tls, ServerOptions options)
    : state_(std::make_unique<State>()) {
  try {
    if (tls) state_->tls = detail::TLSContext::server(tls->cert_file, tls->key_file, tls->client_ca_file);
  } catch (...) {
    listener.abort();
    throw;
  }
  state_->listener = std::move(listener);
  state_->handler = std::move(handler);
  state_->options = options;
}

Server::Server(Server&&) noexcept = default;
Server::~Server() = default;

SocketAddress Server::address() const { return state_->listener.local_address(); }
std::string Server::base_url() const { return (state_->tls ? "https://" : "http://") + address().to_string(); }
std::size_t Server::requests_served() const noexcept { return state_->requests; }
std::size_t Server::connections_accepted() const noexcept { return state_->connections; }

namespace {

using Clock = std::chrono::steady_clock;
using coring::extend::TimeoutScope;

constexpr std::size_t read_size = 16384;

/// After a refusal the client may still be sending (a body the server will
/// not read). Closing with its bytes unread would send a RST, which can
/// destroy the refusal before the client reads it; so the server shuts its
/// side and drops what comes for up to this long (nginx's lingering close).
/// Long enough for a write in flight on a near network; a slot is held no
/// longer.
constexpr auto lingering_time = std::chrono::seconds(2);

/// `limit` from `start`; none for a zero limit.
std::optional<Clock::time_point> deadline_after(Clock::time_point start, std::chrono::milliseconds limit) {
  if (limit <= limit.zero()) return std::nullopt;
  return start + limit;
}

/// A connection's reading side: bytes read and not parsed yet are pending.
struct Reader {
  Socket& socket;
  detail::TLSStream* tls = nullptr;  // null for plain http
  std::string pending;
  std::unique_ptr<char[]> buffer = std::make_unique<char[]>(read_size);
};

enum class ReadEnd { request, closed, idle_timeout, head_timeout };

/// Whether the client waits for a 100 Continue before it sends the body
/// (RFC 9110 10.1.1): an HTTP/1.1 request (a 1.0 one's expectation is
/// ignored, as the RFC requires) with `Expect: 100-continue`.
bool expects_continue(const detail::RequestHead& head) {
  const auto expect = head.headers.get("Expect");
  return expect && iequals(*expect, "100-continue") && head.version_minor >= 1;
}

/// Reads the next request into `parser` (started), taking pending bytes
/// first. Its first byte must come by `until`; its head must be in by
/// `until` too, or, given `head_timeout`, that long after its first byte.
/// The body is not timed. ReadEnd::request also when the parser refused it.
/// A request that expects 100-continue gets it once its head is in and
/// accepted, before the server waits for its body (aiohttp's and nginx's
/// way): a refused head (a declared body over the limit: 413) gets the
/// refusal alone, and a body that came with the head no 100.
Task<ReadEnd> read_request(Reader& r, detail::RequestParser& parser, std::optional<Clock::time_point> until,
                           std::optional<std::chrono::milliseconds> head_timeout) {
  std::optional<TimeoutScope> deadline;
  if (until) deadline.emplace(*until);
  bool started = false;
  const auto first_byte = [&] {
    started = true;
    if (!head_timeout) return;
    deadline.reset();
    if (const auto at = deadline_after(Clock::now(), *head_timeout)) deadline.emplace(*at);
  };
  bool continued = false;
  try {
    if (!r.pending.empty()) first_byte();
    while (!parser.message_complete() && !parser.failed()) {
      if (parser.head_complete() && deadline) deadline.reset();
      if (parser.head_complete() && !continued && expects_continue(parser.head())) {
        continued = true;
        constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        if (r.tls) {
          co_await r.tls->write(as_bytes(go_on));
        } else {
          co_await r.socket.send_all(as_bytes(go_on));
        }
      }
      if (!r.pending.empty()) {
        r.pending.erase(0, parser.feed(r.pending));
        continue;
      }
      const auto space = std::span(reinterpret_cast<std::byte*>(r.buffer.get()), read_size);
      const std::size_t n = r.tls ? co_await r.tls->read(space) : co_await r.socket.recv(space);
      if (n == 0) co_return ReadEnd::closed;
      if (!started) first_byte();
      const std::string_view data(r.buffer.get(), n);
      const std::size_t used = parser.feed(data);
      if (used < n && !parser.failed()) r.pending.assign(data.substr(used));
    }
  } catch (const CancelledError&) {
    if (!deadline || !deadline->caused_cancellation()) throw;
    co_return started ? ReadEnd::head_timeout : ReadEnd::idle_timeout;
  }
  co_return ReadEnd::request;
}

/// The TLS handshake, due by `until`; false if it was not done by then.
Task<bool> handshake(detail::TLSStream& tls, std::optional<Clock::time_point> until) {
  std::optional<TimeoutScope> deadline;
  if (until) deadline.emplace(*until);
  try {
    co_await tls.accept();
  } catch (const CancelledError&) {
    if (!deadline || !deadline->caused_cancellation()) throw;
    co_return false;
  }
  co_return true;
}

/// Answers a request the server will not serve, then closes its sending
/// side and drops what the client still sends, for lingering_time at most.
Task<> refuse(Reader& r, int status, std::string_view why) {
  ServerExchange refusal(r.socket, r.tls, {});
  refusal.close_connection();
  co_await refusal.respond(status, std::string(why) + "\n");
  r.socket.shutdown_write();
  TimeoutScope deadline(lingering_time);
  try {
    const auto space = std::span(reinterpret_cast<std::byte*>(r.buffer.get()), read_size);
    while (co_await r.socket.recv(space) != 0) {
    }
  } catch (const CancelledError&) {
    if (!deadline.caused_cancellation()) throw;
  }
}

std::string seconds_text(std::chrono::milliseconds limit) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g s", std::chrono::duration<double>(limit).count());
  return text;
}

/// Serves one connection until the client closes it, asks to, breaks it,
/// or overstays a limit of `options`. Holds `slot` (of max_connections)
/// until it ends. Never throws but CancelledError: one bad client must not
/// stop the server.
Task<> serve_connection(Socket socket, Server::Handler& handler, std::size_t& requests, const ServerOptions& options,
                        std::shared_ptr<detail::TLSContext> tls_context, Semaphore::Permit slot) {
  // Moved here so that the slot is freed as this body ends, not when the
  // task group drops the frame.
  const Semaphore::Permit held = std::move(slot);
  const Clock::time_point accepted = Clock::now();
  detail::RequestParser parser({.max_body_size = options.client_max_size});
  Reader reader{socket};
  std::unique_ptr<detail::TLSStream> tls;
  std::exception_ptr cancelled;
  bool graceful = true;  // a TLS connection ends with close_notify
  try {
    // The first request's head, handshake included, is due a header timeout after accept.
    const std::optional<Clock::time_point> first_head_due = deadline_after(accepted, options.client_header_timeout);
    bool open = true;
    if (tls_context) {
      tls = std::make_unique<detail::TLSStream>(std::move(tls_context), socket);
      reader.tls = tls.get();
      open = co_await handshake(*tls, first_head_due);
    }
    for (bool first = true; open; first = false) {
      parser.start();
      const ReadEnd end = first ? co_await read_request(reader, parser, first_head_due, std::nullopt)
                                : co_await read_request(reader, parser,
                                                        deadline_after(Clock::now(), options.keepalive_timeout),
                                                        options.client_header_timeout);
      if (end == ReadEnd::closed || end == ReadEnd::idle_timeout) break;
      if (end == ReadEnd::head_timeout) {
        co_await refuse(reader, 408,
                        "request timeout: the request head did not arrive within " +
                            seconds_text(options.client_header_timeout));
        break;
      }
      if (parser.failed()) {
        co_await refuse(reader, parser.error_status(), "bad request: " + parser.error());
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
  // Each connection holds a slot; at the cap, accept waits for one to end.
  const std::size_t cap = s.options.max_connections;
  Semaphore slots(cap == 0 ? std::numeric_limits<std::size_t>::max() : cap);
  co_await async_with(TaskGroup{}, [&s, &slots](TaskGroup& group) -> Task<> {
    for (;;) {
      Semaphore::Permit slot = co_await slots.hold();
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
      group.create_task(
          serve_connection(std::move(socket), s.handler, s.requests, s.options, s.tls, std::move(slot)));
    }
  });
}

Task<> Server::close() { co_await state_->listener.close(); }

}  // namespace coring::http
