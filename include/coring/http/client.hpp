#pragma once
// coring::http::ClientSession: aiohttp's ClientSession for C++.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coring/http/auth.hpp"
#include "coring/http/backend.hpp"
#include "coring/http/cookies.hpp"
#include "coring/http/errors.hpp"
#include "coring/http/headers.hpp"
#include "coring/http/multipart.hpp"
#include "coring/http/response.hpp"
#include "coring/http/ssl.hpp"
#include "coring/http/timeout.hpp"
#include "coring/http/url.hpp"
#include "coring/task.hpp"

namespace coring::http {

/// The native connector's options (aiohttp.TCPConnector), with its defaults.
struct TCPConnector {
  /// Connections in use at once, over all hosts; 0 for no limit. A request
  /// that finds none free waits, in FIFO order; the wait counts against its
  /// `pool`, `connect` and `total` timeouts.
  std::size_t limit = 100;
  /// Connections in use at once to one host (scheme, host, port); 0: none.
  std::size_t limit_per_host = 0;
  /// Idle pooled connections are closed after this long, or before the
  /// server's own `Keep-Alive: timeout=N` runs out, whichever is sooner.
  Seconds keepalive_timeout = Seconds(15);
  /// Never reuse a connection: one per request.
  bool force_close = false;
  /// HTTP/1.1 pipelining (undici's `pipelining`): up to this many requests
  /// in flight on one connection, their responses read in order. 1 (the
  /// default) sends a request only on a connection with none in flight. It
  /// applies when every connection the limits allow is busy: an idle
  /// connection, then a new one, are still preferred. Only idempotent
  /// requests without a streamed body join a pipeline; when a request
  /// fails, times out or is cancelled, or its response closes the
  /// connection, the requests queued behind it are sent again, each on a
  /// new connection. A server that closes a connection after N requests
  /// (nginx's keepalive_requests) may reset it under a request pipelined
  /// past the Nth, and the end of the response then in flight is lost (a
  /// ClientPayloadError): the pool learns N from the first such close (and
  /// from `Keep-Alive: max=`) and pipelines no further on that host's
  /// connections. Enable it for servers known to handle pipelining (nginx
  /// does, and lingers before closing once it has seen it).
  std::size_t pipelining = 1;
  /// Bodies up to this many bytes are read into buffers kept from earlier
  /// responses on the thread (up to 64 of them), so a steady keep-alive load
  /// allocates nothing for them (read them with read_view()); larger bodies
  /// get a buffer of their own. 0: every body gets its own.
  std::size_t recycled_body_size = 16 * 1024;
  /// Happy Eyeballs (RFC 8305), as aiohttp's `happy_eyeballs_delay` (and
  /// `interleave=1`): a new connection tries the host's addresses with
  /// address families alternating (the resolver's first family first), and
  /// starts the next attempt this long after the last began, or at once when
  /// one fails; the first to connect wins and the others are cancelled. So
  /// an address that never answers (a broken IPv6 route) costs this long,
  /// not `ClientTimeout::sock_connect`. nullopt or 0: one address at a time.
  std::optional<Seconds> happy_eyeballs_delay = Seconds(0.25);
  /// Connect every request to this Unix-domain socket instead of TCP, as
  /// aiohttp's UnixConnector does (the URL's host still goes in Host:).
  std::optional<std::string> unix_socket_path;
  /// DNS servers as "ip" or "ip:port" (aiohttp's AsyncResolver(nameservers));
  /// empty: those of /etc/resolv.conf. /etc/hosts is always read first.
  std::vector<std::string> dns_servers;
  /// How long resolved addresses are reused (aiohttp's ttl_dns_cache).
  Seconds ttl_dns_cache = Seconds(10);
  /// How https:// connections are secured: verified against the system's CAs
  /// by default (aiohttp's `ssl=`). TLS sessions are kept per host and
  /// resumed when the pool reconnects.
  SSLOptions ssl;
};

struct SessionOptions {
  /// Relative URLs given to requests are resolved against it.
  std::optional<std::string> base_url;
  /// Sent with every request (a request's own headers of the same name win).
  Headers headers;
  /// Basic authentication for every request that brings none of its own
  /// (aiohttp's auth=).
  std::optional<BasicAuth> auth;
  ClientTimeout timeout;
  TCPConnector connector;
  /// Responses whose body exceeds this are a ClientPayloadError (0: no
  /// limit); a compressed body counts both as sent and as decoded.
  std::size_t max_body_size = 0;
  /// What ClientResponse::read(), text(), read_view() and json() take whole:
  /// past this many bytes (decoded) they raise ClientPayloadError, and the
  /// connection is closed. 0: no limit. A body read in pieces through
  /// `content` is bounded by max_body_size alone. The default guards against
  /// a server sending without end, or a small compressed body that decodes
  /// to gigabytes.
  std::size_t max_read_size = 64 << 20;
  /// Decode gzip, deflate and brotli bodies, by the response's Content-Encoding
  /// (and send `Accept-Encoding: gzip, deflate, br` unless a request sets its own).
  bool auto_decompress = true;
  /// Keep a cookie jar: Set-Cookie stored, Cookie sent back by domain, path,
  /// expiry and Secure (aiohttp's CookieJar; false is its DummyCookieJar).
  bool use_cookies = true;
  /// Hooks called at each event of every request (aiohttp's trace_configs).
  std::vector<TraceConfig> trace_configs;
  /// Every request goes through this HTTP proxy, "http://[user:password@]host:port"
  /// (aiohttp's proxy=): http:// targets as absolute-form requests to it,
  /// https:// ones through a CONNECT tunnel, verified end to end as ever.
  /// A request's own `proxy` wins. An unreachable proxy is a
  /// ClientProxyConnectionError, a refused CONNECT a ClientHttpProxyError.
  std::optional<std::string> proxy;
  /// The proxy's credentials, sent as Proxy-Authorization to the proxy alone
  /// (aiohttp's proxy_auth=); or give them in the proxy's URL.
  std::optional<BasicAuth> proxy_auth;
  /// Every response of status 400 or more is a ClientResponseError, raised
  /// by the request itself (aiohttp's raise_for_status=True); a request's own
  /// setting wins. Its connection is closed, its body unread.
  bool raise_for_status = false;
  /// Without `proxy`, take the environment's (aiohttp's trust_env): http_proxy
  /// for http://, https_proxy for https://, but not for the hosts of no_proxy
  /// ("*", or comma-separated hosts and domains; a domain covers its
  /// subdomains). Each also in capitals, as Python reads them, but not
  /// HTTP_PROXY in a CGI program ("httpoxy"); an https:// proxy there is
  /// ignored, as aiohttp does. Read when the session is made.
  bool trust_env = false;
};

struct RequestOptions {
  /// Appended to the URL's query, percent-encoded.
  QueryParams params;
  Headers headers;
  /// Basic authentication for this request. Giving two of this, a URL's
  /// user:password and an Authorization header is an InvalidRequestError,
  /// as in aiohttp; the session's `auth` yields to any of them.
  std::optional<BasicAuth> auth;
  // At most one of body, form, json, multipart and body_stream (InvalidRequestError otherwise).
  /// The request body, sent as is (Content-Length is set).
  std::optional<std::string> body;
  /// Form fields: sent as application/x-www-form-urlencoded.
  std::optional<QueryParams> form;
  /// JSON text: sent with Content-Type application/json. From an
  /// nlohmann::json value: `.json = value.dump()` (see coring/http/json.hpp).
  std::optional<std::string> json;
  /// Parts and files: sent as multipart/form-data, with a random boundary
  /// in the Content-Type the session sets (so a Content-Type given with the
  /// request is an InvalidRequestError; the session's default gives way).
  std::optional<FormData> multipart;
  /// A body produced as it is sent (aiohttp's async generator as data=):
  /// sent with Transfer-Encoding: chunked (or, given `body_length`, with
  /// Content-Length), one chunk at a time, never held whole. Read once, so
  /// never sent twice: no retry on a stale pooled connection, and a redirect
  /// that would resend it (307, 308; 301 and 302 but after POST) is a
  /// ClientResponseError. 303 turns it into a GET without body. An exception
  /// it throws fails the request and its connection. What it refers to must
  /// outlive the request.
  BodyStream body_stream;
  /// body_stream's length in bytes, when known (aiohttp takes it from the
  /// payload's size): the head then says `Content-Length: N` and the chunks
  /// go out as they are, not chunked, as servers that refuse chunked
  /// uploads (S3's presigned PUTs) need. A producer that yields more or
  /// fewer bytes than N fails the request with a ClientPayloadError naming
  /// both counts (the server never gets N bytes: the chunk that would go
  /// past N is not sent), and the connection is closed. A Content-Length
  /// header given with body_stream is taken as its length, as curl does;
  /// one that differs from body_length, or body_length without
  /// body_stream, is an InvalidRequestError.
  std::optional<std::uint64_t> body_length;
  /// Send a body with `Expect: 100-continue` and only once the server
  /// answers `100 Continue`, or `expect100_timeout` has passed without an
  /// answer (aiohttp's expect100=True; curl's Expect). A final answer that
  /// comes first is the response and the body is never sent (nor a
  /// body_stream's producer called); the connection is then closed. A 417
  /// Expectation Failed that comes first makes the request go once more,
  /// on a new connection, without the Expect (as curl does; aiohttp returns
  /// the 417). An `Expect: 100-continue` header among `headers` does the
  /// same as this. Off by default, as in aiohttp (curl turns it on for
  /// bodies over 1 MiB); without a body it sends nothing.
  bool expect100 = false;
  /// How long a request with expect100 waits for 100 Continue before it
  /// sends its body anyway (curl's --expect100-timeout, 1 s). Counts
  /// against `total` like the rest of the sending.
  Seconds expect100_timeout = Seconds(1);
  /// Replaces the session's timeouts for this request.
  std::optional<ClientTimeout> timeout;
  /// Follow 301, 302, 303, 307 and 308 (303, and 301/302 after POST, turn
  /// into GET without body). Authorization and a Cookie header given here are
  /// dropped when a redirect leaves the origin (the jar's cookies follow
  /// their own domain rules).
  bool allow_redirects = true;
  /// More redirects than this is TooManyRedirects.
  std::size_t max_redirects = 10;
  /// Instead of the session's raise_for_status.
  std::optional<bool> raise_for_status;
  /// This request's HTTP proxy and its credentials, instead of the session's.
  std::optional<std::string> proxy;
  std::optional<BasicAuth> proxy_auth;
};

/// Where a request goes, as aiohttp takes a str or a yarl.URL: URL text
/// (parsed, or joined to the session's base_url), or a URL parsed already,
/// used as is (no parse; a loop of requests to one URL then allocates
/// nothing for it). Held by value: requests are lazy tasks, and a view
/// could dangle before the task runs (`tasks.push_back(s.get(base + "/x"))`).
class RequestURL {
 public:
  RequestURL(std::string text) : text_(std::move(text)) {}  // NOLINT: implicit, as a str is
  RequestURL(const char* text) : text_(text) {}             // NOLINT
  RequestURL(std::string_view text) : text_(text) {}        // NOLINT
  RequestURL(URL url) : url_(std::move(url)) {}              // NOLINT: implicit, as a yarl.URL is

 private:
  friend class ClientSession;
  std::string text_;
  std::optional<URL> url_;
};

/// One per application, like a browser window: a pool of keep-alive
/// connections, default headers and timeouts. Open and close it with
/// async_with, which always awaits its close():
///
///     co_await coring::async_with(ClientSession(), [&](ClientSession& s) -> Task<> {
///       auto response = co_await s.get("http://127.0.0.1:8080/");
///       std::string body = co_await response.text();
///     });
///
/// A ClientSession lives on one loop and must be used from its thread.
/// Responses must not outlive it.
class ClientSession {
 public:
  explicit ClientSession(SessionOptions options = {});
  /// With a backend of your own (e.g. MockBackend in tests, which the
  /// test keeps a share of to register replies and inspect calls).
  ClientSession(SessionOptions options, std::shared_ptr<Backend> backend);
  ClientSession(ClientSession&&) noexcept;
  ClientSession& operator=(ClientSession&&) = delete;
  ~ClientSession();  ///< reports a session never closed

  Task<ClientResponse> request(std::string method, RequestURL url, RequestOptions options = {});
  Task<ClientResponse> get(RequestURL url, RequestOptions options = {});
  Task<ClientResponse> post(RequestURL url, RequestOptions options = {});
  Task<ClientResponse> put(RequestURL url, RequestOptions options = {});
  Task<ClientResponse> patch(RequestURL url, RequestOptions options = {});
  Task<ClientResponse> delete_(RequestURL url, RequestOptions options = {});
  Task<ClientResponse> head(RequestURL url, RequestOptions options = {});
  Task<ClientResponse> options(RequestURL url, RequestOptions options = {});

  /// Closes every pooled connection. Requests after this are refused.
  Task<> close();
  [[nodiscard]] bool closed() const noexcept;
  /// The options the session was made with.
  [[nodiscard]] const SessionOptions& session_options() const noexcept;
  /// The session's cookies (empty and unused when use_cookies is false).
  [[nodiscard]] CookieJar& cookie_jar() noexcept;

 private:
  struct Impl;  // options, backend, cookie jar: defined in http/session.cpp
  std::unique_ptr<Impl> impl_;
};

}  // namespace coring::http
