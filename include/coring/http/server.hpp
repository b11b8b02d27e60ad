#pragma once
// coring::http::Server: a small HTTP/1.1 server on the loop, with keep-alive.
// It is the target of the integration tests and of coring-bench's embedded
// mode; builtin_routes() is the set of routes they use.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "coring/http/headers.hpp"
#include "coring/net.hpp"
#include "coring/task.hpp"

namespace coring::http {

namespace detail {
class TLSStream;
}

/// A certificate chain and its key (PEM files), for a server on https.
struct ServerSSLOptions {
  std::string cert_file;
  std::string key_file;
  /// If set, a client must present a certificate this CA (PEM) signed, or
  /// the handshake fails (nginx's ssl_verify_client on, failing in TLS).
  std::string client_ca_file = {};
};

/// What one client may take of the server, as nginx and aiohttp's web
/// server bound it. A limit of 0 is none.
struct ServerOptions {
  /// The largest request body read, in bytes (aiohttp's client_max_size and
  /// its default). A larger declared Content-Length is answered 413 before
  /// the body is read; a chunked body, once it grows past the limit. Then
  /// the connection is closed. (So a request with `Expect: 100-continue`
  /// gets its `100 Continue`, which the server sends before it waits for a
  /// body, only when its declared length is within the limit.)
  std::size_t client_max_size = 1024 * 1024;
  /// Time for a request's whole head to arrive (nginx's client_header_timeout
  /// and its default): from accept for a connection's first request, TLS
  /// handshake included; from its first byte for the next ones. A client
  /// that sent part of a head by then gets 408 (it is waiting for an
  /// answer to it); one that sent nothing is closed without a word (there
  /// is no request to answer). Either way the connection is closed.
  std::chrono::milliseconds client_header_timeout = std::chrono::seconds(60);
  /// How long a keep-alive connection may wait for the first byte of its
  /// next request (aiohttp's keepalive_timeout and its default); then it is
  /// closed without a word.
  std::chrono::milliseconds keepalive_timeout = std::chrono::seconds(75);
  /// Connections served at once. At the cap the server stops accepting
  /// until one ends: the next clients wait in the kernel's listen backlog
  /// and are served late rather than refused. (Past the process's limit on
  /// descriptors, accepting pauses anyway: EMFILE.)
  std::size_t max_connections = 10'000;
};

struct ServerRequest {
  std::string method;
  std::string target;  // as sent: path and query
  std::string path;
  std::string query;
  Headers headers;
  std::string body;  // whole, de-chunked if it came with Transfer-Encoding: chunked
};

/// One request being answered. A handler answers with respond(), or writes
/// raw bytes (tests of broken servers) and then closes the connection.
class ServerExchange {
 public:
  ServerExchange(Socket& socket, detail::TLSStream* tls, ServerRequest request)
      : socket_(socket), tls_(tls), request_(std::move(request)) {}
  [[nodiscard]] const ServerRequest& request() const noexcept { return request_; }

  /// Sends a whole response with Content-Length (no body after HEAD).
  Task<> respond(int status, std::string_view body = {}, const Headers& headers = {});
  /// Sends bytes exactly as given.
  Task<> write_raw(std::string_view bytes);
  /// Closes the connection once the handler returns.
  void close_connection() noexcept { close_ = true; }
  /// Closes the connection with a TCP reset (RST) instead of an orderly
  /// close once the handler returns, as a crashed server would: tests of
  /// clients facing one.
  void reset_connection() noexcept { close_ = reset_ = true; }

  [[nodiscard]] bool responded() const noexcept { return responded_; }
  [[nodiscard]] bool closing() const noexcept { return close_; }
  [[nodiscard]] bool resetting() const noexcept { return reset_; }

 private:
  Task<> write(std::string_view bytes);

  Socket& socket_;
  detail::TLSStream* tls_;  // null for plain http
  ServerRequest request_;
  std::string out_;
  bool responded_ = false;
  bool close_ = false;
  bool reset_ = false;
};

class Server {
 public:
  using Handler = std::function<Task<>(ServerExchange&)>;

  /// Binds and listens at once (port 0 picks a free port); serves once
  /// serve() is awaited. With `ssl`, every connection is https (a client
  /// whose handshake fails is dropped); the files are loaded here.
  Server(const SocketAddress& address, Handler handler, std::optional<ServerSSLOptions> ssl = std::nullopt,
         ServerOptions options = {});
  /// On a listener bound already (e.g. one of several sharing a port).
  Server(Listener listener, Handler handler, std::optional<ServerSSLOptions> ssl = std::nullopt, ServerOptions options = {});
  Server(Server&&) noexcept;
  ~Server();

  [[nodiscard]] SocketAddress address() const;
  /// "http://127.0.0.1:PORT" for a TCP server ("https://" with TLS).
  [[nodiscard]] std::string base_url() const;
  /// Accepts and serves connections until cancelled; every connection is a
  /// task of a TaskGroup, so cancelling serve() ends them all before it returns.
  Task<> serve();
  /// Stops listening (after serve() has ended).
  Task<> close();

  /// Requests seen and connections accepted so far (tests check keep-alive).
  [[nodiscard]] std::size_t requests_served() const noexcept;
  [[nodiscard]] std::size_t connections_accepted() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The routes tests and benchmarks use:
///   /small                 "Hello, world!" (13 bytes)
///   /bytes/N               N bytes of a known pattern (byte i is 'a' + i % 26)
///   /chunked/N[?chunk=K]   the same N bytes, chunked encoding, K-byte chunks
///   /trailers/N[?count=K&size=S&as=gzip]   /chunked/N (gzipped with as=gzip),
///                          then K trailer fields (1 by default) X-Trailer-i: ti,
///                          or S bytes of 't' each with size=S
///   /delay/MS              answers after MS milliseconds
///   /drip/N/MS             N bytes, one every MS milliseconds (chunked)
///   /status/N              status N
///   /redirect/N            302 to /redirect/N-1; /redirect/0 answers 200
///   /echo                  the request as text: method, target, headers, body
///   /keepalive/N           sets Keep-Alive: timeout=N
///   /close                 answers with Connection: close, then closes
///   /close-mid-body        promises 1000 bytes, sends 10, closes
///   /no-length             a body delimited by closing the connection
///   /bad-status            a malformed status line
///   /long-header           a header line longer than 8190 bytes
///   /many-headers          200 headers
///   /bad-chunk             a malformed chunk size
///   /extra-bytes           a response followed by bytes nobody asked for
///   /interim               "100 Continue", then the response
///   /cookies/set?a=1&b=2   Set-Cookie a=1 and b=2, then a redirect to /cookies
///   /cookies               the Cookie header received, as the body
///   /gzip/N, /deflate/N, /br/N   the /bytes/N body compressed (?corrupt=1, ?truncate=1 break it)
Server::Handler builtin_routes();

/// The body /bytes/N and /chunked/N send.
std::string pattern_bytes(std::size_t n);

}  // namespace coring::http
