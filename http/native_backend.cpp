// NativeBackend: connecting (DNS, proxy tunnel, TLS), writing requests,
// reading responses off pooled connections, uploads, stale-connection retries.
#include "native_backend.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "coring/extend/frame_pool.hpp"
#include "coring/errors.hpp"
#include "coring/task_handle.hpp"
#include "coring/sync.hpp"
#include "coring/wait.hpp"
#include "happy_eyeballs.hpp"
#include "time_limit.hpp"
#include "response_state.hpp"

namespace coring::http::detail {

namespace {

Timings::Duration since(Clock::time_point t) {
  return std::chrono::duration_cast<Timings::Duration>(loop_now() - t);
}

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" || method == "PUT" ||
         method == "DELETE";
}

/// A reused connection that fails before any response byte was most likely
/// closed by the server while idle: safe to retry once if idempotent.
struct StaleConnection {
  std::string why;
};

/// Writes the request's head into c.out, and its body after it unless the
/// body is streamed or held back for `expect100`.
void write_request(Connection& c, const PreparedRequest& r, bool force_close, bool expect100) {
  using namespace std::string_view_literals;  // no strlen per piece
  std::string& out = c.out;
  out.clear();
  out += r.method;
  out += ' ';
  // To a proxy, not through its tunnel: the absolute form, and its credentials.
  const bool to_proxy = r.proxy && !r.url.is_https();
  if (to_proxy) out += r.url.origin();
  r.url.append_target(out);
  out += " HTTP/1.1\r\nHost: "sv;
  r.url.append_host_header(out);
  out += "\r\n"sv;
  if (to_proxy && !r.proxy_authorization.empty()) {
    out += "Proxy-Authorization: "sv;
    out += r.proxy_authorization;
    out += "\r\n"sv;
  }
  bool has_user_agent = false, has_accept = false;
  for (const auto& [field_name, value] : r.headers) {
    const std::string_view name = field_name;  // (clang 14 cannot capture a structured binding)
    // Sizes first: most names differ in them (see Headers::get).
    auto is = [name](std::string_view known) { return name.size() == known.size() && iequals(name, known); };
    if (is("Host"sv) || is("Content-Length"sv) || is("Transfer-Encoding"sv)) continue;
    // A proxy's credentials go to the proxy alone: not to a server directly,
    // nor inside a CONNECT tunnel (tunnel() takes them for the CONNECT).
    if (is("Proxy-Authorization"sv) && (!to_proxy || !r.proxy_authorization.empty())) continue;
    has_user_agent = has_user_agent || is("User-Agent"sv);
    has_accept = has_accept || is("Accept"sv);
    out += name;
    out += ": "sv;
    out += value;
    out += "\r\n"sv;
  }
  if (!has_user_agent) out += "User-Agent: coring/0.1\r\n"sv;
  if (!has_accept) out += "Accept: */*\r\n"sv;
  const auto content_length = [&out](std::uint64_t size) {
    char length[24];
    const auto end = std::to_chars(length, length + sizeof length, size).ptr;
    out += "Content-Length: "sv;
    out.append(length, end);
    out += "\r\n"sv;
  };
  if (r.body_stream && r.body_length) {
    content_length(*r.body_length);
  } else if (r.body_stream) {
    out += "Transfer-Encoding: chunked\r\n"sv;
  } else if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    content_length(r.body.size());
  }
  if (expect100) out += "Expect: 100-continue\r\n"sv;
  if (force_close) out += "Connection: close\r\n"sv;
  out += "\r\n"sv;
  if (!expect100) out += r.body;  // headers and body in one send
}

/// Appends `data` in chunked framing; empty data is the last chunk.
void append_chunk(std::string& out, std::string_view data) {
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<std::size_t>(n));
  out += data;
  out += "\r\n";
}

/// Sends `data` whole. A failure on a reused connection may be a stale one.
Task<> send_bytes(Connection& c, const PreparedRequest& r, bool reused, std::string_view data) {
  try {
    const auto bytes = std::as_bytes(std::span(data.data(), data.size()));
    if (c.tls) {
      co_await c.tls->write(bytes);
    } else {
      co_await c.socket.send_all(bytes);
    }
  } catch (const OSError& e) {
    if (reused) throw StaleConnection{std::strerror(e.code().value())};
    throw ServerDisconnectedError("connection to " + r.url.origin() + " broke while sending the request to " +
                                  r.url.to_string() + ": " + std::strerror(e.code().value()));
  }
}

/// Sends c.out whole.
Task<> send_out(Connection& c, const PreparedRequest& r, bool reused) { return send_bytes(c, r, reused, c.out); }

/// How much of an upload's body has gone out.
enum class BodySent {
  none,   ///< nothing: held back (expect100) or not reached
  part,   ///< some of it may be on the wire, not all
  whole,
};

/// Refuses a streamed body that does not match its declared length.
[[noreturn]] void wrong_length(const PreparedRequest& r, std::uint64_t produced, bool ended) {
  const std::string declared = std::to_string(*r.body_length);
  throw ClientPayloadError(
      "request body of " + r.method + " " + r.url.to_string() + " does not match its Content-Length of " + declared +
      (ended ? ": the body_stream ended after " + std::to_string(produced) + " bytes"
             : ": the body_stream yielded more (" + std::to_string(produced) + " bytes so far)"));
}

/// Sends what is in c.out (the head, unless it went already), then the
/// streamed body as it is produced: one send per chunk (the head goes with
/// the first), so only one chunk is held at a time. Chunked, or with a
/// body_length as is, counted: a chunk that would take the body past its
/// length is not sent, so the server never takes a cut body for a whole
/// one. The producer's own exceptions pass through untouched.
Task<> send_streamed(Connection& c, const PreparedRequest& r, bool reused) {
  std::uint64_t produced = 0;
  for (;;) {
    const std::string chunk = co_await r.body_stream();
    if (r.body_length) {
      produced += chunk.size();
      if (produced > *r.body_length) wrong_length(r, produced, false);
      if (chunk.empty() && produced < *r.body_length) wrong_length(r, produced, true);
      c.out += chunk;
    } else {
      append_chunk(c.out, chunk);
    }
    if (!c.out.empty()) co_await send_out(c, r, reused);
    c.out.clear();
    if (chunk.empty()) co_return;
  }
}

/// Sends the request in c.out and its body, under `total`; `sent` follows
/// the body. With `expect100` the head goes alone, then the body once
/// `answered` is set (by the reader, at a 100 Continue or a final head) or
/// r.expect100_timeout has passed; not at all if a final head came without
/// a 100 (RFC 9110 10.1.1: the server has answered without the body).
Task<> send_request(Connection& c, const PreparedRequest& r, bool reused, const TimeLimit& total, bool expect100,
                    Event& answered, BodySent& sent) {
  PhaseTimeout phase(total);
  try {
    if (expect100) {
      co_await send_out(c, r, reused);
      c.out.clear();
      // Clamped as TimeLimit's limits are: a billion seconds is forever,
      // and more would overflow the clock's nanoseconds.
      const Seconds limit = std::clamp(r.expect100_timeout, Seconds(0), Seconds(1e9));
      try {
        co_await coring::wait_for(answered.wait(), std::chrono::duration_cast<std::chrono::nanoseconds>(limit));
      } catch (const coring::TimeoutError&) {
        // No answer in time: the body goes anyway, as curl's.
      }
      if (c.parser.head_complete() && !c.parser.continued()) co_return;
    }
    sent = BodySent::part;
    if (r.body_stream) {
      co_await send_streamed(c, r, reused);
    } else if (expect100) {
      co_await send_bytes(c, r, reused, r.body);
    } else {
      co_await send_out(c, r, reused);
    }
    sent = BodySent::whole;
  } catch (const CancelledError&) {
    if (phase.expired()) phase.raise(r.url);
    throw;
  }
}

/// The server's `Keep-Alive: timeout=N, max=M`, what it sent of it.
struct KeepAliveHint {
  std::optional<long> timeout;  // seconds an idle connection is kept
  std::optional<long> max;      // requests the connection takes after this one
};

KeepAliveHint keepalive_hint(const Headers& headers) {
  KeepAliveHint hint;
  const auto text = headers.get("Keep-Alive");
  if (!text) return hint;
  const auto parameter = [&](std::string_view name) -> std::optional<long> {
    const auto pos = text->find(name);
    if (pos == std::string_view::npos) return std::nullopt;
    long value = 0;
    const char* begin = text->data() + pos + name.size();
    while (begin < text->data() + text->size() && *begin == ' ') ++begin;
    const auto [end, error] = std::from_chars(begin, text->data() + text->size(), value);
    if (error != std::errc() || value < 0) return std::nullopt;
    return value;
  };
  hint.timeout = parameter("timeout=");
  hint.max = parameter("max=");
  return hint;
}

/// The pool's key for a URL, its origin, built in place: a request to a
/// known host allocates nothing for it.
struct PoolKey {
  explicit PoolKey(const PreparedRequest& r) : view(r.url.origin_into(text)) {
    if (r.proxy) {
      long_text = r.url.origin() + " via " + r.proxy->origin() + (r.proxy_authorization.empty() ? "" : " as ") +
                  r.proxy_authorization;  // not another user's connection to the proxy
      view = long_text;
    } else if (view.empty()) {
      long_text = r.url.origin();  // a host name too long for `text`
      view = long_text;
    }
  }
  PoolKey(const PoolKey&) = delete;
  char text[320];
  std::string long_text;
  std::string_view view;
};

/// The peer cannot be reached: ClientProxyConnectionError through a proxy,
/// else ClientConnectorError, naming the peer, the address tried, the request.
[[noreturn]] void cannot_reach(const PreparedRequest& r, const std::string& address, const std::string& why,
                               int os_error) {
  const std::string tried = address.empty() ? "" : " (" + address + ")";
  if (r.proxy)
    throw ClientProxyConnectionError(
        "cannot connect to proxy " + r.proxy->origin() + tried + " for " + r.url.to_string() + ": " + why, os_error);
  throw ClientConnectorError("cannot connect to " + r.url.origin() + tried + " for " + r.url.to_string() + ": " + why,
                             os_error);
}

/// When a pooled connection must be closed: our keepalive_timeout, or one
/// second before the server's own timeout, whichever is sooner (a server
/// closing an idle connection races our reuse of it).
Clock::time_point idle_deadline(std::optional<long> server_seconds, Seconds keepalive) {
  // Compared in seconds before any clock arithmetic: the server's N, of any
  // size, must not overflow the clock's nanoseconds.
  Seconds idle = keepalive;
  if (server_seconds) idle = std::min(idle, std::max(Seconds(static_cast<double>(*server_seconds) - 1), Seconds(0)));
  return loop_now() + std::chrono::duration_cast<Clock::duration>(idle);
}

/// The body of a response read from a pooled connection.
class NativeBody final : public BodySource {
 public:
  /// `reused`: the connection was pooled, and one that breaks before any
  /// byte of an answer was most likely closed while idle (StaleConnection).
  NativeBody(Lease lease, Pipeline::Ticket ticket, const PreparedRequest& request, const TimeLimit& total,
             bool force_close, bool reused)
      : lease_(std::move(lease)), ticket_(ticket), url_(&request.url), timeout_(request.timeout), total_(total),
        force_close_(force_close), reused_(reused) {}
  NativeBody(const NativeBody&) = delete;
  NativeBody& operator=(const NativeBody&) = delete;
  /// The URL the body's errors name from now on: the response's.
  void name_in_errors(const URL& url) noexcept { url_ = &url; }
  // One per request, freed on the loop's thread: from the thread's cache
  // of small blocks, as coroutine frames are, not from the heap.
  static void* operator new(std::size_t size) { return coring::extend::allocate_frame(size); }
  static void operator delete(void* body, std::size_t size) noexcept { coring::extend::free_frame(body, size); }
  ~NativeBody() override {
    if (lease_.connection == nullptr) return;
    // Dropped with its whole body in: the connection is at a response's end.
    if (reading_ && lease_.connection->parser.message_complete() && payload_error_.empty()) {
      finish();
      return;
    }
    // Its response not in to the end: the requests behind it cannot be
    // answered on this connection (the lease then closes it).
    lease_.connection->pipeline.break_after(ticket_);
  }

  Task<bool> read_more(std::string& out) override {
    for (;;) {
      const Ready ready = read_ready(out);
      if (ready != Ready::must_wait) co_return ready == Ready::more;
      co_await receive(*lease_.connection);
    }
  }

  Ready read_ready(std::string& out) override {
    ResponseParser& p = lease_.connection->parser;
    if (!p.body().empty()) {
      out += p.body();
      p.body().clear();
      return Ready::more;
    }
    if (!payload_error_.empty()) throw ClientPayloadError(payload_error_);
    if (p.message_complete()) {
      finish();
      return Ready::ended;
    }
    return Ready::must_wait;
  }

  Headers take_trailers() override { return std::move(trailers_); }

  /// Feeds the parser what an earlier response left unread (pipelining), or
  /// else reads once from the socket, under total and (`sock_read`) the
  /// request's sock_read.
  Task<> receive(Connection& c, bool sock_read = true) {
    if (!payload_error_.empty()) throw ClientPayloadError(payload_error_);
    if (c.has_unread()) {
      const std::size_t begin = std::exchange(c.unread_begin, 0);
      const std::size_t end = std::exchange(c.unread_end, 0);
      parse(c, begin, end);
      co_return;
    }
    TimeLimit d = total_;
    if (sock_read) [[likely]]
      d = earliest({total_, TimeLimit::from_now(timeout_, TimeoutKind::sock_read)});
    std::size_t n = 0;
    {
      PhaseTimeout phase(d);
      try {
        const auto buffer = std::span(reinterpret_cast<std::byte*>(c.buffer.get()), Connection::buffer_size);
        if (c.tls) {
          n = co_await c.tls->read(buffer);
        } else if (c.receiver) {
          n = co_await c.receiver->receive_into(buffer);  // holds no pool buffer once idle
        } else {
          n = co_await c.socket.recv(buffer);
        }
      } catch (const CancelledError&) {
        if (phase.expired()) phase.raise(*url_);
        throw;
      } catch (const OSError& e) {
        // Once the head is in, a broken connection is an incomplete body,
        // the same error as a close before its end.
        if (c.parser.head_complete())
          throw ClientPayloadError("response body of " + url_->to_string() + " is incomplete: the connection broke: " +
                                   std::strerror(e.code().value()));
        disconnected("connection to " + url_->origin() + " broke while reading the response to " + url_->to_string() +
                     ": " + std::strerror(e.code().value()));
      }
    }
    if (n == 0) {
      ResponseParser& p = c.parser;
      p.finish();
      // A body that ends at the close, over TLS, ends at close_notify: a
      // bare TCP close may be anyone's, cutting the body short (curl's rule).
      if (p.message_complete() && !p.failed() && c.tls && !c.tls->closed_cleanly())
        throw ClientPayloadError("response body of " + url_->to_string() +
                                 " is incomplete: the TLS stream ended without close_notify, and only the close "
                                 "marks the body's end");
      // A head cut short by a close is a server gone away, not a malformed one.
      if (p.failed() && !p.error_in_body())
        disconnected(url_->origin() + ": " + p.error() + " to " + url_->to_string());
      check(p);
    } else {
      parse(c, 0, n);
    }
  }

  Lease& lease() noexcept { return lease_; }
  /// The connection is closed once the response is read (its request was
  /// not sent whole).
  void close_after() noexcept { force_close_ = true; }

  /// Its turn to read has come: the connection's parser is its own from now on.
  void start_reading(bool head_request) {
    lease_.connection->parser.start(head_request);
    reading_ = true;
  }

 private:
  /// Parses buffer[begin, end); what lies past the end of the response is
  /// kept for the next one.
  void parse(Connection& c, std::size_t begin, std::size_t end) {
    ResponseParser& p = c.parser;
    const std::size_t used = p.feed(std::string_view(c.buffer.get() + begin, end - begin));
    if (p.message_complete() && begin + used < end) {
      c.unread_begin = begin + used;
      c.unread_end = end;
    }
    check(p);
  }

  /// The connection broke before the head was in.
  [[noreturn]] void disconnected(std::string what) const {
    if (reused_ && !lease_.connection->parser.started()) throw StaleConnection{std::move(what)};
    throw ServerDisconnectedError(what);
  }

  void check(ResponseParser& p) {
    if (p.failed()) {
      // A bad body is the reader's error, raised once the good bytes before
      // it are taken, even if it arrived with the head.
      if (p.error_in_body()) {
        payload_error_ = "response body of " + url_->to_string() + ": " + p.error();
        return;
      }
      if (!p.started()) disconnected(url_->origin() + ": " + p.error() + " to " + url_->to_string());
      throw InvalidResponseError("malformed response from " + url_->to_string() + ": " + p.error());
    }
  }

  void finish() {
    if (lease_.connection == nullptr) return;
    Connection& c = *lease_.connection;
    // Bytes past the end of the response are the next pipelined response,
    // or, if no request follows, a response nobody asked for, which would
    // answer the next request: such a connection is not reused.
    const bool unsolicited = c.has_unread() && !c.pipeline.followed(ticket_);
    // Kept here: the parser is the next request's once the lease goes.
    if (!c.parser.trailers().empty()) trailers_ = std::move(c.parser.trailers());
    const bool reusable = !force_close_ && c.parser.keep_alive() && !unsolicited;
    if (reusable) {
      c.idle_until = idle_deadline(server_keepalive_, keepalive_);
    } else {
      c.pipeline.break_after(ticket_);
    }
    c.pipeline.done(ticket_, Pipeline::Phase::read);
    lease_.release(reusable);
  }

 public:
  Seconds keepalive_{15};
  std::optional<long> server_keepalive_;

 private:
  Lease lease_;
  Pipeline::Ticket ticket_;
  /// The request's URL until the response is made, then the response's
  /// (which owns this body): no copy of its own.
  const URL* url_;
  ClientTimeout timeout_;
  TimeLimit total_;
  bool force_close_;
  bool reused_;
  bool reading_ = false;
  std::string payload_error_;
  Headers trailers_;  // from the parser, at the body's end
};

/// Reads the response's head; sets `answered`, if given, at a 100 Continue
/// or the head's end, whichever comes first.
Task<> read_head(Connection& c, NativeBody& body, bool sock_read, Event* answered = nullptr) {
  while (!c.parser.head_complete()) {
    co_await body.receive(c, sock_read);
    if (answered != nullptr && (c.parser.continued() || c.parser.head_complete())) answered->set();
  }
}

/// Runs `task`, then sets `done`, whichever way it ends.
Task<> then_set(Task<> task, Event& done) {
  try {
    co_await std::move(task);
  } catch (...) {
    done.set();
    throw;
  }
  done.set();
}

/// Whether `failure` says the connection broke (the server may have
/// answered, then closed), rather than the producer of a streamed body
/// failing or a deadline passing.
bool connection_broke(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const StaleConnection&) {
    return true;
  } catch (const ServerDisconnectedError&) {
    return true;
  } catch (...) {
    return false;
  }
}

/// Sends a request with a body while its response's head is read, as curl
/// and Go do: a server may answer before the body is in (413, 401, a
/// redirect) and stop reading it, or answer and close. A final answer of
/// 300 or more that comes first stops the sending; a 2xx lets the body go
/// on to its end (the server is reading it). With `expect100` the body
/// waits for the server's 100 Continue (see send_request). Returns how much
/// of the body went out; unless whole, its connection is closed after the
/// response. Until the body is out the head is awaited under `total` alone:
/// the server owes no byte before the end, so sock_read counts from there.
Task<BodySent> upload(Connection& c, const PreparedRequest& r, NativeBody& body, bool reused, const TimeLimit& total,
                      bool expect100) {
  constexpr bool without_sock_read = false;
  Event one_done;
  Event answered;  // a 100 Continue, or the final head, is in
  BodySent sent = BodySent::none;
  auto sending = create_task(then_set(send_request(c, r, reused, total, expect100, answered, sent), one_done));
  auto reading = create_task(then_set(read_head(c, body, without_sock_read, &answered), one_done));
  std::exception_ptr cancelled;
  try {
    co_await one_done.wait();
  } catch (const CancelledError&) {
    cancelled = std::current_exception();
  }
  if (cancelled) {
    // Both borrow the connection, which goes with this frame: ended first.
    sending.cancel();
    reading.cancel();
    for (auto* task : {&sending, &reading}) {
      try {
        co_await *task;
      } catch (...) {
      }
    }
    std::rethrow_exception(cancelled);
  }
  std::exception_ptr send_failure;
  bool read_again = false;  // the body is out, the head not yet in: read on under sock_read
  if (sending.done()) {
    try {
      co_await sending;
      read_again = !reading.done();
    } catch (...) {
      send_failure = std::current_exception();
      // A broken connection may still hold the answer; anything else ends it.
      if (!connection_broke(send_failure)) reading.cancel();
    }
    // Stopping a read loses no byte: one that came meanwhile is parsed.
    if (read_again) reading.cancel();
  }
  std::exception_ptr read_failure;
  try {
    co_await reading;
    read_again = false;
  } catch (const CancelledError&) {
    if (!read_again) read_failure = std::current_exception();
  } catch (...) {
    read_failure = std::current_exception();
    read_again = false;
  }
  if (read_again) {
    try {
      co_await read_head(c, body, true);
    } catch (...) {
      read_failure = std::current_exception();
    }
  }
  if (!sending.done() && (read_failure || c.parser.head().status >= 300)) sending.cancel();
  if (!send_failure) {
    try {
      co_await sending;
    } catch (...) {
      send_failure = std::current_exception();
    }
  }
  if (read_failure) {
    // No answer: the send's own failure, if any, is the one to give (a
    // producer's exception as is; a stale pooled connection is retried).
    if (send_failure && (!connection_broke(send_failure) || !c.parser.started())) std::rethrow_exception(send_failure);
    std::rethrow_exception(read_failure);
  }
  // With the answer in, a failed or stopped send only means the server
  // stopped reading: the answer stands.
  co_return sent;
}

}  // namespace

NativeBackend::NativeBackend(TCPConnector options)
    : options_(options),
      pool_(options),
      resolver_({.servers = options.dns_servers,
                 .cache_ttl = std::chrono::duration_cast<std::chrono::seconds>(options.ttl_dns_cache)}) {}

Task<> NativeBackend::close() {
  pool_.close_all();
  resolver_.close();
  co_return;
}

Task<> NativeBackend::secure(Connection& c, const URL& url) {
  if (!tls_context_) tls_context_ = TLSContext::client(options_.ssl);  // loads the CAs on first use
  c.tls = std::make_unique<TLSStream>(tls_context_, c.socket);
  const std::string where = "cannot connect to " + url.origin() + " for " + url.to_string() + ": ";
  try {
    co_await c.tls->connect(url.host(), url.port());
  } catch (const ClientConnectorCertificateError& e) {
    throw ClientConnectorCertificateError(where + e.what());
  } catch (const ClientConnectorSSLError& e) {
    throw ClientConnectorSSLError(where + e.what());
  }
}

Task<Lease> NativeBackend::open_connection(const PreparedRequest& r, const TimeLimit& total, Timings& timings,
                                           ConnectionPool::Reuse reuse) {
  const auto wait_started = loop_now();
  const TimeLimit connect = TimeLimit::from_now(r.timeout, TimeoutKind::connect);
  Lease lease;
  const PoolKey key_text(r);
  const std::string_view key = key_text.view;
  const bool queued = pool_.must_wait(key);
  if (queued) emit(r.traces, &TraceConfig::on_connection_queued_start, r.url);
  {
    // Not queued, acquire() takes a free slot without waiting: no deadline
    // can pass, and none is armed (one timer fewer a request).
    const TimeLimit pool_wait = TimeLimit::from_now(r.timeout, TimeoutKind::pool);
    PhaseTimeout phase(queued ? earliest({total, connect, pool_wait}) : TimeLimit{});
    try {
      lease = co_await pool_.acquire(key, reuse);
    } catch (const CancelledError&) {
      if (phase.expired()) phase.raise(r.url);
      throw;
    }
  }
  timings.pool_wait = since(wait_started);
  if (queued) emit(r.traces, &TraceConfig::on_connection_queued_end, r.url);
  if (lease.connection) {
    emit(r.traces, &TraceConfig::on_connection_reuseconn, r.url);
    co_return lease;
  }
  emit(r.traces, &TraceConfig::on_connection_create_start, r.url);

  // The socket goes to the proxy, if any, else to the server.
  const URL& peer = r.proxy ? *r.proxy : r.url;
  std::vector<SocketAddress> addresses;
  const auto dns_started = loop_now();
  if (options_.unix_socket_path) {
    addresses.push_back(SocketAddress::unix_path(*options_.unix_socket_path));
  } else {
    PhaseTimeout phase(earliest({total, connect}));
    try {
      emit(r.traces, &TraceConfig::on_dns_resolvehost_start, peer.host());
      addresses = co_await resolver_.resolve(peer.host(), peer.port(), timings.dns_cache_hit);
      emit(r.traces, timings.dns_cache_hit ? &TraceConfig::on_dns_cache_hit : &TraceConfig::on_dns_cache_miss,
           peer.host());
      emit(r.traces, &TraceConfig::on_dns_resolvehost_end, peer.host());
    } catch (const CancelledError&) {
      if (phase.expired()) phase.raise(r.url);
      throw;
    } catch (const ClientConnectorError& e) {
      cannot_reach(r, "", e.what(), 0);
    }
  }
  timings.dns = since(dns_started);
  const auto connect_started = loop_now();
  HappyEyeballsResult connected;
  {
    PhaseTimeout phase(earliest({total, connect}));
    try {
      connected = co_await happy_eyeballs_connect(addresses, options_.happy_eyeballs_delay, r.timeout);
    } catch (const CancelledError&) {
      if (phase.expired()) phase.raise(r.url);
      throw;
    }
  }
  if (!connected.socket.is_open()) {
    if (connected.timed_out) throw_timeout(connected.limit, r.url, connected.address.to_string());
    const std::string address = addresses.empty() ? "" : connected.address.to_string();
    cannot_reach(r, address, std::strerror(connected.error), connected.error);
  }
  // The tunnel and the TLS handshake go on under the winning attempt's sock_connect, as aiohttp's.
  PhaseTimeout phase(earliest({total, connect, connected.limit}));
  try {
    lease.attach(std::make_shared<Connection>(lease.key(), ParserLimits{.max_body_size = r.max_body_size}));
    lease.connection->socket = std::move(connected.socket);
    timings.connect = since(connect_started);
    if (r.url.is_https()) {
      if (r.proxy) {
        co_await tunnel(*lease.connection, r);
        timings.connect = since(connect_started);  // the tunnel is part of connecting
      }
      const auto tls_started = loop_now();
      co_await secure(*lease.connection, r.url);
      timings.tls = since(tls_started);
      timings.tls_resumed = lease.connection->tls->resumed();
    } else {
      try {
        lease.connection->receiver.emplace(lease.connection->socket);
      } catch (const RuntimeError&) {  // no provided-buffer rings (Linux < 5.19): recv it is
      }
    }
    emit(r.traces, &TraceConfig::on_connection_create_end, r.url);
    co_return lease;
  } catch (const CancelledError&) {
    if (phase.expired()) phase.raise(r.url);
    throw;
  } catch (const OSError& e) {  // connected, then the TLS handshake broke
    throw ClientConnectorSSLError("TLS handshake with " + r.url.origin() + " for " + r.url.to_string() +
                                  " failed: the connection broke: " + std::strerror(e.code().value()));
  }
}

Task<> NativeBackend::tunnel(Connection& c, const PreparedRequest& r) {
  // host:port, the port always (RFC 9110 section 9.3.6); IPv6 bracketed.
  std::string authority;
  r.url.append_host_header(authority);
  if (r.url.is_default_port()) authority += ":" + std::to_string(r.url.port());
  std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  const auto given = r.headers.get("Proxy-Authorization");
  if (!r.proxy_authorization.empty()) {
    request += "Proxy-Authorization: " + r.proxy_authorization + "\r\n";
  } else if (given) {
    request += "Proxy-Authorization: " + std::string(*given) + "\r\n";
  }
  request += "\r\n";
  const std::string where = "proxy " + r.proxy->origin() + " for " + r.url.to_string();
  ResponseParser answer;
  answer.start(true);  // a 2xx to CONNECT has no body, and another's is not read
  std::string buffer(4096, '\0');
  try {
    co_await c.socket.send_all(std::as_bytes(std::span(request)));
    while (!answer.head_complete()) {
      const std::size_t n = co_await c.socket.recv(std::as_writable_bytes(std::span(buffer)));
      if (n == 0) throw ClientProxyConnectionError(where + ": closed the connection before answering CONNECT", 0);
      answer.feed(std::string_view(buffer.data(), n));
      if (answer.failed()) throw InvalidResponseError(where + ": a malformed answer to CONNECT: " + answer.error());
    }
  } catch (const OSError& e) {
    throw ClientProxyConnectionError(where + ": " + std::strerror(e.code().value()), e.code().value());
  }
  const ResponseHead& head = answer.head();
  if (head.status < 200 || head.status > 299)
    throw ClientHttpProxyError(where + ": CONNECT " + authority + " refused with " + std::to_string(head.status) + " " +
                                   head.reason,
                               head.status);
}

Task<ClientResponse> NativeBackend::send(const PreparedRequest& r) {
  // A streamed body has been consumed by the first attempt.
  const bool replayable = is_idempotent(r.method) && !r.body_stream;
  const bool pipelinable = replayable && options_.pipelining > 1;
  const bool uploads = r.body_stream || !r.body.empty();
  bool expect100 = r.expect100 && uploads;  // until a 417 refuses it
  const TimeLimit total = TimeLimit::after(r.started, r.timeout, TimeoutKind::total);
  for (int attempt = 0;; ++attempt) {
    Timings timings;
    // A retry takes a new connection, where it cannot meet a stale one.
    using Reuse = ConnectionPool::Reuse;
    const Reuse reuse = attempt > 0 ? Reuse::none : pipelinable ? Reuse::idle_or_join : Reuse::idle;
    Lease lease = co_await open_connection(r, total, timings, reuse);
    timings.reused_connection = lease.reused;
    Connection& c = *lease.connection;
    const Pipeline::Ticket ticket = c.pipeline.take_ticket();
    if (pipelinable) pool_.offer(lease);
    auto body = std::make_unique<NativeBody>(std::move(lease), ticket, r, total, options_.force_close,
                                             timings.reused_connection);
    body->keepalive_ = options_.keepalive_timeout;
    const bool reused = timings.reused_connection;
    try {
      {
        // `total` covers the wait for a streamed body's producer, and for
        // the requests ahead in a pipeline.
        PhaseTimeout phase(total);
        try {
          const bool may_write = co_await c.pipeline.turn(ticket, Pipeline::Phase::write);
          if (!may_write) throw StaleConnection{"a request ahead of it on the connection failed"};
          write_request(c, r, options_.force_close, expect100);
          if (!uploads) {
            co_await send_out(c, r, reused);
            c.pipeline.done(ticket, Pipeline::Phase::write);
          }
          // An upload's answer may come while its body goes out: its turn
          // to read comes first.
          const bool may_read = co_await c.pipeline.turn(ticket, Pipeline::Phase::read);
          if (!may_read) throw StaleConnection{"a request ahead of it on the connection failed"};
        } catch (const CancelledError&) {
          if (phase.expired()) phase.raise(r.url);
          throw;
        }
      }
      body->start_reading(r.method == "HEAD");
      const auto sent = loop_now();
      if (uploads) {
        const BodySent sent = co_await upload(c, r, *body, reused, total, expect100);
        if (sent != BodySent::whole) {
          body->close_after();
          c.pipeline.break_after(ticket);
        }
        c.pipeline.done(ticket, Pipeline::Phase::write);
        // A server that refuses the expectation (417) before any of the body
        // went out gets the request again without it, on a new connection,
        // as curl does: the body, streamed or not, is still whole to send.
        if (expect100 && sent == BodySent::none && c.parser.head().status == 417) {
          expect100 = false;
          continue;
        }
      } else {
        while (!c.parser.head_complete()) co_await body->receive(c);
      }
      timings.first_byte = since(sent);
    } catch (const StaleConnection& stale) {
      if (attempt == 0 && replayable) continue;  // once, on a new connection
      throw ServerDisconnectedError("server at " + r.url.origin() + " closed the pooled connection before answering " +
                                    r.url.to_string() + ": " + stale.why +
                                    (r.body_stream ? " (a streamed body is not sent twice)" : ""));
    }
    auto& head = c.parser.head();
    const KeepAliveHint hint = keepalive_hint(head.headers);
    body->server_keepalive_ = hint.timeout;
    if (hint.max) c.max_requests = std::min(c.max_requests, ticket + 1 + static_cast<std::uint64_t>(*hint.max));
    // A server that ends a connection after N requests (nginx's
    // keepalive_requests) would reset it under requests pipelined past the
    // Nth, losing the end of the response in flight: the pool stops
    // pipelining at N on that host. Error responses close early: not counted.
    // Without pipelining nothing is learned: the limit would serve nothing,
    // and would keep the host's pool entry (one per host a crawler meets).
    if (options_.pipelining > 1) {
      if (!c.parser.keep_alive() && head.status < 400 && !options_.force_close && !r.headers.contains("Connection")) {
        pool_.learn_max_requests(body->lease().key(), ticket + 1);
      } else if (c.parser.keep_alive()) {
        pool_.learn_kept_alive(body->lease().key(), ticket + 1);
      }
    }
    NativeBody& reader = *body;
    ClientResponse response(head.status, std::move(head.reason), std::move(head.headers), r.url, std::move(body),
                            r.method, options_.recycled_body_size);
    reader.name_in_errors(response.url());  // the request may be gone before its body is read
    ResponseAccess::set_timings(response, timings);
    co_return response;
  }
}

}  // namespace coring::http::detail

namespace coring::http::detail {

void throw_timeout(const TimeLimit& d, const URL& url, std::string_view address) {
  char limit[32] = "";
  if (d.limit) std::snprintf(limit, sizeof limit, " (%.3f s)", d.limit->count());
  std::string what = std::string(to_string(d.kind)) + " timeout" + limit + " expired for " + url.to_string();
  if (!address.empty()) what.append(" (connecting to ").append(address).append(")");
  throw TimeoutError(what, d.kind);
}

}  // namespace coring::http::detail
