#pragma once
// The seam between ClientSession and the transport. The session does what
// is the same for every transport (URLs, default headers, redirects,
// cookies, timeouts' bookkeeping); a backend sends one request and returns
// its response. coring ships the native backend (HTTP/1.1 over io_uring
// sockets, plain or TLS, pooled) and MockBackend for tests; another
// protocol (HTTP/2) would plug in here.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coring/http/headers.hpp"
#include "coring/http/response.hpp"
#include "coring/http/timeout.hpp"
#include "coring/http/trace.hpp"
#include "coring/http/url.hpp"
#include "coring/task.hpp"

namespace coring::http {

/// A request body produced piece by piece (aiohttp's async generator as
/// `data=`): each call returns the next chunk, an empty string the end. It
/// is called on the session's loop, each call awaited before the next.
using BodyStream = std::function<Task<std::string>()>;

/// One request, ready to go: the session has resolved the URL and merged
/// the headers (Host, Content-Length and the like are the backend's to add).
struct PreparedRequest {
  std::string method;
  URL url;
  Headers headers;
  std::string body;
  /// When set, `body` is empty and the body is what this yields. A backend
  /// calls it to its end at most once, sends each chunk as it comes (the
  /// native one chunked, or as is under `body_length`), and never retries
  /// such a request once it has called it: it cannot be replayed.
  BodyStream body_stream;
  /// body_stream's length, when known: sent with Content-Length, its
  /// chunks unframed; a producer that yields another count fails the
  /// request (ClientPayloadError). Unset: chunked.
  std::optional<std::uint64_t> body_length;
  /// Send a body (`body` or `body_stream`) after `Expect: 100-continue`,
  /// once the server answers 100 or `expect100_timeout` passes; not at all
  /// if a final answer comes first (the backend adds the Expect field).
  bool expect100 = false;
  Seconds expect100_timeout = Seconds(1);
  ClientTimeout timeout;
  /// When the request started (for `total`): deadlines count from here.
  std::chrono::steady_clock::time_point started;
  /// The HTTP proxy to go through (none: straight to the server): http://
  /// targets as absolute-form requests to it, https:// ones in a CONNECT
  /// tunnel. No credentials in it: they are in `proxy_authorization`.
  std::optional<URL> proxy;
  /// The Proxy-Authorization value ("Basic ..."), or empty: sent to the
  /// proxy only (on each http:// request, on the CONNECT of an https:// one).
  std::string proxy_authorization;
  /// Responses larger than this are a ClientPayloadError (0: no limit).
  std::size_t max_body_size = 0;
  /// The session's trace configs (connection and DNS events are the backend's to emit).
  const std::vector<TraceConfig>* traces = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;
  /// Sends `request` and returns its response once the head has arrived.
  /// Errors: ClientConnectorError, ServerDisconnectedError,
  /// InvalidResponseError, http::TimeoutError.
  virtual Task<ClientResponse> send(const PreparedRequest& request) = 0;
  /// Closes what the backend holds (pooled connections). Called once by
  /// ClientSession::close().
  virtual Task<> close() = 0;
};

}  // namespace coring::http
