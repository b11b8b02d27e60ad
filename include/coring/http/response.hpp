#pragma once
// coring::http::ClientResponse: a response head, and its body to read.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coring/http/headers.hpp"
#include "coring/http/url.hpp"
#include "coring/task.hpp"

namespace coring::http {

/// Where a response's body comes from: a pooled connection (the native
/// backend), canned bytes (the mock backend). Backends implement it.
class BodySource {
 public:
  virtual ~BodySource() = default;
  /// Appends the next body bytes to `out`; false once the body has ended
  /// (then the source has let go of its connection). Throws ClientPayloadError,
  /// ServerDisconnectedError or http::TimeoutError.
  virtual Task<bool> read_more(std::string& out) = 0;

  enum class Ready { more, ended, must_wait };
  /// What read_more would give without waiting: appends bytes already in and
  /// returns `more`, returns `ended` at the end of the body (as read_more's
  /// false), or `must_wait`, appending nothing, when only read_more can go
  /// on. A body that came with its head is then read with no coroutine
  /// frame per step. The default always waits.
  virtual Ready read_ready(std::string& out) {
    (void)out;
    return Ready::must_wait;
  }

  /// The trailer fields that followed the body, moved out; called once,
  /// after read_more or read_ready has reported the end. The default: none.
  virtual Headers take_trailers() { return {}; }
};

/// How long each phase of a request took (zero for phases it skipped: a
/// reused connection has no connect time).
struct Timings {
  using Duration = std::chrono::nanoseconds;
  Duration pool_wait{};     // waiting for a free connection
  Duration dns{};           // resolving the host name
  Duration connect{};       // TCP connect
  Duration tls{};           // TLS handshake
  Duration first_byte{};    // request sent to first response byte
  Duration body{};          // reading the body
  bool reused_connection = false;
  bool dns_cache_hit = false;
  bool tls_resumed = false;  // the TLS handshake resumed a kept session
};

class ClientResponse;

namespace detail {
/// A response's state, on the heap: a response is handed on by value
/// through several layers (backend, cookies, redirects, session, caller),
/// and each move is then one pointer instead of a dozen strings. Kept for
/// the next response when freed.
struct ResponseState;
struct ResponseStateRecycler {
  void operator()(ResponseState* state) const noexcept;
};
struct ResponseAccess;
}  // namespace detail

/// The body as a stream (aiohttp's `response.content`): read it in pieces
/// without holding all of it.
class ContentStream {
 public:
  /// Up to `n` bytes; an empty string at the end of the body.
  Task<std::string> read(std::size_t n);
  /// Whatever body bytes come next (one network read's worth); empty at the end.
  Task<std::string> read_chunk();
  [[nodiscard]] bool at_eof() const noexcept;

 private:
  friend class ClientResponse;
  explicit ContentStream(ClientResponse& r) noexcept : response_(&r) {}
  ClientResponse* response_;
};

/// A response, returned once its head has arrived. Read the body with read()
/// or text() (whole) or through `content` (in pieces). The connection goes
/// back to the pool only when the whole body has arrived (read to its end,
/// or dropped once in, as a HEAD's or a 204's) and the server allows
/// keep-alive; a response dropped before that closes its connection (on
/// every path: exception, cancellation, early return).
class ClientResponse {
 public:
  /// `recycled_body_size`: see TCPConnector::recycled_body_size (0: none).
  ClientResponse(int status, std::string reason, Headers headers, URL url, std::unique_ptr<BodySource> body,
                 std::string method, std::size_t recycled_body_size = 0);
  /// A moved-from response holds nothing: destroy it or assign to it, no more.
  ClientResponse(ClientResponse&& other) noexcept;
  ClientResponse& operator=(ClientResponse&& other) noexcept;
  ~ClientResponse();

  [[nodiscard]] int status() const noexcept;
  [[nodiscard]] const std::string& reason() const noexcept;
  [[nodiscard]] const Headers& headers() const noexcept;
  /// The URL that answered (after redirects).
  [[nodiscard]] const URL& url() const noexcept;
  [[nodiscard]] const std::string& method() const noexcept;
  /// The responses that redirected here, oldest first (their bodies released).
  [[nodiscard]] const std::vector<ClientResponse>& history() const noexcept;
  [[nodiscard]] bool ok() const noexcept { return status() < 400; }
  /// The trailer fields sent after the body (a chunked one's trailer
  /// section; gRPC's grpc-status, say), as sent: empty until the body has
  /// been read to its end (by read(), text(), read_view() or `content`,
  /// decoded or not), and empty if there were none. Kept apart from
  /// headers() and never merged into it, nor used for framing, decoding or
  /// cookies (RFC 9110 6.5.1): fields not allowed in trailers (Content-Length,
  /// Transfer-Encoding, Host, Content-Encoding, Authorization, Set-Cookie...)
  /// are listed here as sent, for the caller to ignore. (Connection: close
  /// or a Transfer-Encoding among them only keeps the connection out of
  /// the pool, the safe side.) At most 128 fields and 8190 bytes of names
  /// and values in all: more is a ClientPayloadError from the read. A
  /// response released or dropped before its end has none.
  [[nodiscard]] const Headers& trailers() const noexcept;
  /// How long each phase took; `body` grows as read() reads the body.
  [[nodiscard]] const Timings& timings() const noexcept { return timings_; }

  /// The whole body (kept: a second call returns it again). A body longer
  /// than SessionOptions::max_read_size (decoded) is a ClientPayloadError:
  /// read one that large in pieces, through `content`.
  Task<std::string> read();
  /// The whole body as a view into this response, valid while it lives:
  /// no copy, and with TCPConnector::recycled_body_size no allocation.
  Task<std::string_view> read_view();
  /// The body as text. (No charset conversion: bytes as sent.)
  Task<std::string> text() { return read(); }
  /// ClientResponseError naming the URL, status and reason if status >= 400.
  void raise_for_status() const;
  /// Lets go of the connection now: back to the pool if the body was read
  /// to its end, closed otherwise.
  void release() noexcept;

  ContentStream content{*this};

 private:
  friend class ContentStream;
  friend struct detail::ResponseAccess;
  Task<bool> fill();  // reads more body into the state's pending bytes; false at the end
  BodySource::Ready take_ready();  // fill's part that needs no wait
  void end_body();

  Timings timings_;
  std::unique_ptr<detail::ResponseState, detail::ResponseStateRecycler> state_;
};

}  // namespace coring::http
