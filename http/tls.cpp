// TLSContext and TLSStream over OpenSSL (the one file that includes it):
// contexts, kept sessions, and memory BIOs fed and drained through the ring.
#include "tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <ctime>
#include <unordered_map>

#include "coring/http/errors.hpp"
#include "coring/sync.hpp"

namespace coring::http::detail {

namespace {

/// OpenSSL's queued errors as one line (and the queue emptied).
std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "no reason given" : out;
}

bool is_ip_address(const std::string& host) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), address) == 1 || inet_pton(AF_INET6, host.c_str(), address) == 1;
}

constexpr unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int select_http11(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* offered,
                  unsigned int offered_size, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_size, alpn_http11, sizeof alpn_http11, offered, offered_size) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

struct TLSContext::State {
  SSL_CTX* ctx = nullptr;
  bool verify = true;
  /// host:port -> the last session the server gave us there (one reference
  /// owned); at most max_sessions.
  std::unordered_map<std::string, SSL_SESSION*> sessions;
  std::size_t max_sessions = default_max_sessions;

  /// Makes room for one more session: the expired ones go, then any one.
  void make_room() {
    if (sessions.size() < max_sessions) return;
    std::erase_if(sessions, [](const auto& kept) {
      if (!expired(kept.second)) return false;
      SSL_SESSION_free(kept.second);
      return true;
    });
    if (sessions.size() < max_sessions || sessions.empty()) return;
    SSL_SESSION_free(sessions.begin()->second);
    sessions.erase(sessions.begin());
  }

  static bool expired(const SSL_SESSION* session) {
    return SSL_SESSION_get_time(session) + SSL_SESSION_get_timeout(session) <= std::time(nullptr);
  }

  ~State() {
    for (auto& [key, session] : sessions) SSL_SESSION_free(session);
    SSL_CTX_free(ctx);
  }
};

struct TLSStream::State {
  std::shared_ptr<TLSContext> context;
  Socket& socket;
  SSL* ssl = nullptr;
  BIO* in = nullptr;   // ciphertext from the server, for OpenSSL to read
  BIO* out = nullptr;  // ciphertext OpenSSL wrote, for us to send
  std::string host;
  std::string session_key;
  bool eof = false;           // the socket has no more to give
  bool close_notify = false;  // the peer ended the TLS stream itself
  static constexpr std::size_t buffer_size = 16384;  // one TLS record
  std::unique_ptr<std::byte[]> buffer = std::make_unique<std::byte[]>(buffer_size);
  // A pipelined connection reads one response while it writes the next
  // request: one send and one receive at a time on the socket, each in turn.
  Semaphore sending{1};
  Semaphore receiving{1};
  std::string outgoing;  // the ciphertext being sent, taken out of `out`

  State(std::shared_ptr<TLSContext> c, Socket& s) : context(std::move(c)), socket(s) {}
  ~State() {
    // Freed without a close_notify exchange, OpenSSL would mark the session
    // not resumable; an HTTP connection ends that way routinely (Connection:
    // close, idle expiry), so say the shutdown happened.
    if (ssl && SSL_is_init_finished(ssl)) SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl);  // frees both BIOs
  }
};

namespace {

/// OpenSSL hands us a new session after a handshake (TLS 1.3: in a message
/// after it): keep it for the next connection to the same host.
int keep_session(SSL* ssl, SSL_SESSION* session) {
  auto* stream = static_cast<TLSStream::State*>(SSL_get_app_data(ssl));
  if (!stream || stream->session_key.empty()) return 0;
  TLSContext::State& context = stream->context->state();
  auto& sessions = context.sessions;
  if (!sessions.contains(stream->session_key)) context.make_room();
  auto [it, inserted] = sessions.try_emplace(stream->session_key, session);
  if (!inserted) {
    SSL_SESSION_free(it->second);
    it->second = session;
  }
  return 1;  // we keep the reference
}

SSL_CTX* new_context(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (!ctx) throw ClientSSLError("cannot create a TLS context: " + openssl_errors());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A peer that closes without close_notify ends the stream like a TCP
  // close (closed_cleanly() tells them apart): HTTP framing says whether a
  // body was cut short, and a body framed by the close alone needs close_notify.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Idle pooled connections give their 2 x 16 KiB record buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

}  // namespace

TLSContext::TLSContext(std::unique_ptr<State> state) : state_(std::move(state)) {}
TLSContext::~TLSContext() = default;

std::size_t TLSContext::kept_sessions() const noexcept { return state_->sessions.size(); }

std::shared_ptr<TLSContext> TLSContext::client(const SSLOptions& options, std::size_t max_sessions) {
  auto state = std::make_unique<State>();
  state->max_sessions = std::max<std::size_t>(1, max_sessions);
  state->ctx = new_context(TLS_client_method());
  SSL_CTX* ctx = state->ctx;
  state->verify = options.verify;
  if (options.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (options.ca_file || options.ca_path) {
      const char* file = options.ca_file ? options.ca_file->c_str() : nullptr;
      const char* path = options.ca_path ? options.ca_path->c_str() : nullptr;
      if (SSL_CTX_load_verify_locations(ctx, file, path) != 1)
        throw ClientSSLError("cannot load the CA certificates from " +
                             (options.ca_file ? *options.ca_file : *options.ca_path) + ": " + openssl_errors());
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      throw ClientSSLError("cannot load the system's CA certificates: " + openssl_errors());
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (options.cert_file) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file->c_str()) != 1)
      throw ClientSSLError("cannot load the client certificate " + *options.cert_file + ": " + openssl_errors());
    const std::string& key = options.key_file ? *options.key_file : *options.cert_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
      throw ClientSSLError("cannot load the client key " + key + ": " + openssl_errors());
  }
  SSL_CTX_set_alpn_protos(ctx, alpn_http11, sizeof alpn_http11);
  if (options.resume_sessions) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, keep_session);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  }
  return std::shared_ptr<TLSContext>(new TLSContext(std::move(state)));
}

std::shared_ptr<TLSContext> TLSContext::server(const std::string& cert_file, const std::string& key_file,
                                               const std::string& client_ca_file) {
  auto state = std::make_unique<State>();
  state->ctx = new_context(TLS_server_method());
  SSL_CTX* ctx = state->ctx;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    throw ClientSSLError("cannot load the server certificate " + cert_file + " and key " + key_file + ": " +
                         openssl_errors());
  SSL_CTX_set_alpn_select_cb(ctx, select_http11, nullptr);
  if (!client_ca_file.empty()) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str());
    if (names == nullptr || SSL_CTX_load_verify_locations(ctx, client_ca_file.c_str(), nullptr) != 1) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      throw ClientSSLError("cannot load the client CA " + client_ca_file + ": " + openssl_errors());
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return std::shared_ptr<TLSContext>(new TLSContext(std::move(state)));
}

TLSStream::TLSStream(std::shared_ptr<TLSContext> context, Socket& socket)
    : state_(std::make_unique<State>(std::move(context), socket)) {
  State& s = *state_;
  s.ssl = SSL_new(s.context->state().ctx);
  s.in = BIO_new(BIO_s_mem());
  s.out = BIO_new(BIO_s_mem());
  if (!s.ssl || !s.in || !s.out) {
    BIO_free(s.in);
    BIO_free(s.out);
    throw ClientSSLError("cannot create a TLS connection: " + openssl_errors());
  }
  BIO_set_mem_eof_return(s.in, -1);  // empty means "wait for more", not end of stream
  SSL_set_bio(s.ssl, s.in, s.out);
  SSL_set_app_data(s.ssl, &s);
}

TLSStream::~TLSStream() = default;

Task<> TLSStream::connect(const std::string& host, std::uint16_t port) {
  State& s = *state_;
  s.host = host;
  s.session_key = host + ":" + std::to_string(port);
  const bool ip = is_ip_address(host);
  if (!ip) SSL_set_tlsext_host_name(s.ssl, host.c_str());  // SNI is for names only
  if (s.context->state().verify) {
    // "w*.example.com" matches nothing: curl, Go and browsers refuse
    // partial wildcards, which OpenSSL allows by default.
    SSL_set_hostflags(s.ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s.ssl), host.c_str())
                      : SSL_set1_host(s.ssl, host.c_str());
    if (ok != 1) throw ClientSSLError("cannot verify a certificate for \"" + host + "\": " + openssl_errors());
  }
  auto& sessions = s.context->state().sessions;
  if (auto kept = sessions.find(s.session_key); kept != sessions.end()) {
    if (TLSContext::State::expired(kept->second)) {
      SSL_SESSION_free(kept->second);
      sessions.erase(kept);
    } else {
      SSL_set_session(s.ssl, kept->second);
    }
  }
  SSL_set_connect_state(s.ssl);
  // A close (or close_notify) before the handshake's end returns 0.
  const int done = co_await drive(Op::handshake_client, nullptr, 0);  // (not inside ||: GCC 12)
  if (done <= 0 || !SSL_is_init_finished(s.ssl))
    throw ClientConnectorSSLError("TLS handshake with " + host + " failed: the server closed the connection");
}

Task<> TLSStream::accept() {
  SSL_set_accept_state(state_->ssl);
  const int done = co_await drive(Op::handshake_server, nullptr, 0);
  if (done <= 0 || !SSL_is_init_finished(state_->ssl))
    throw ClientConnectorSSLError("TLS handshake from a client failed: the client closed the connection");
}

Task<std::size_t> TLSStream::read(std::span<std::byte> buffer) {
  const int n = co_await drive(Op::read, buffer.data(), static_cast<int>(std::min<std::size_t>(buffer.size(), INT_MAX)));
  co_return static_cast<std::size_t>(n);
}

Task<> TLSStream::write(std::span<const std::byte> data) {
  while (!data.empty()) {
    const int chunk = static_cast<int>(std::min<std::size_t>(data.size(), INT_MAX));
    const int n = co_await drive(Op::write, const_cast<std::byte*>(data.data()), chunk);
    if (n <= 0) throw ClientConnectionError("TLS connection to " + state_->host + " closed while writing");
    data = data.subspan(static_cast<std::size_t>(n));
  }
}

Task<> TLSStream::shutdown() {
  if (!state_->eof) co_await drive(Op::shutdown, nullptr, 0);
}

bool TLSStream::resumed() const noexcept { return SSL_session_reused(state_->ssl) == 1; }

bool TLSStream::has_buffered_data() const noexcept { return SSL_pending(state_->ssl) > 0; }

bool TLSStream::closed_cleanly() const noexcept { return state_->close_notify; }

bool TLSStream::sent_while_idle() {
  State& s = *state_;
  if (s.eof || s.close_notify || SSL_pending(s.ssl) > 0) return true;
  for (;;) {
    const ssize_t n = ::recv(s.socket.fd(), s.buffer.get(), State::buffer_size, MSG_DONTWAIT);
    if (n == 0) return true;  // closed
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return true;  // reset, or worse
    }
    BIO_write(s.in, s.buffer.get(), static_cast<int>(n));
  }
  if (BIO_ctrl_pending(s.in) == 0) return false;
  // OpenSSL takes the records: a byte of application data, a close or an
  // alert means the connection cannot answer the next request truthfully.
  // What it writes back (a KeyUpdate's answer) goes with the next request.
  ERR_clear_error();
  char probe = 0;
  const int result = SSL_read(s.ssl, &probe, 1);
  const int error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(s.ssl, result);
  ERR_clear_error();
  return error != SSL_ERROR_WANT_READ;
}

Task<> TLSStream::flush() {
  State& s = *state_;
  auto permit = co_await s.sending.hold();
  // Taken out of `out` before sending: OpenSSL may write more records into
  // it (another operation's) while this send is under way.
  char* data = nullptr;
  const long size = BIO_get_mem_data(s.out, &data);
  if (size <= 0) co_return;  // sent by the flush this one waited for
  s.outgoing.assign(data, static_cast<std::size_t>(size));
  (void)BIO_reset(s.out);
  co_await s.socket.send_all(std::as_bytes(std::span(s.outgoing.data(), s.outgoing.size())));
}

Task<bool> TLSStream::fill() {
  State& s = *state_;
  const bool another_receiving = s.receiving.locked();
  auto permit = co_await s.receiving.hold();
  // What the other receive brought may be all this operation wanted:
  // OpenSSL is asked again before the socket is.
  if (another_receiving) co_return !s.eof;
  const std::size_t n = co_await s.socket.recv(std::span(s.buffer.get(), State::buffer_size));
  if (n == 0) co_return false;
  BIO_write(s.in, s.buffer.get(), static_cast<int>(n));
  co_return true;
}

Task<int> TLSStream::drive(Op op, void* data, int size) {
  State& s = *state_;
  for (;;) {
    ERR_clear_error();
    int result = 0;
    switch (op) {
      case Op::handshake_client: result = SSL_connect(s.ssl); break;
      case Op::handshake_server: result = SSL_accept(s.ssl); break;
      case Op::read: result = SSL_read(s.ssl, data, size); break;
      case Op::write: result = SSL_write(s.ssl, data, size); break;
      case Op::shutdown: result = SSL_shutdown(s.ssl); break;
    }
    const int error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(s.ssl, result);
    // A failure's reason is read now: OpenSSL's error queue is the thread's,
    // and other connections of this loop use it while we flush.
    const bool fatal = error == SSL_ERROR_SSL || error == SSL_ERROR_SYSCALL;
    // TLS 1.3 ends the client's handshake before the server has checked its
    // certificate: a refusal comes as an alert at the first read.
    const bool certificate_required =
        error == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED;
    const std::string reason = fatal ? openssl_errors() : std::string();
    const long verified = fatal ? SSL_get_verify_result(s.ssl) : X509_V_OK;
    // Whatever OpenSSL wrote goes out first: handshake messages, alerts,
    // records, close_notify. A failure's alert goes out if it can.
    if (BIO_ctrl_pending(s.out) > 0) {
      if (!fatal) {
        co_await flush();
      } else {
        try {
          co_await flush();
        } catch (const OSError&) {  // the peer is gone: the TLS reason is the one to report
        }
      }
    }
    if (op == Op::shutdown && result >= 0) co_return 1;  // our close_notify is sent; no need to wait for theirs
    switch (error) {
      case SSL_ERROR_NONE: co_return result;
      case SSL_ERROR_WANT_WRITE: continue;  // flushed above
      case SSL_ERROR_WANT_READ:
        if (s.eof) co_return 0;
        if (!co_await fill()) {
          s.eof = true;
          BIO_set_mem_eof_return(s.in, 0);  // OpenSSL now reads the end of the stream
        }
        continue;
      case SSL_ERROR_ZERO_RETURN:
        // close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) the socket's end
        // taken for one: only the first is the peer's own word.
        s.close_notify = !s.eof;
        co_return 0;
      default: break;
    }
    const bool handshake = op == Op::handshake_client || op == Op::handshake_server;
    if (s.eof && !handshake) co_return 0;  // closed without close_notify: framing decides
    if (op == Op::handshake_client) {
      if (s.context->state().verify && verified != X509_V_OK)
        throw ClientConnectorCertificateError("certificate of " + s.host + " not trusted: " +
                                              X509_verify_cert_error_string(verified));
      throw ClientConnectorSSLError("TLS handshake with " + s.host + " failed: " +
                                    (s.eof ? "the server closed the connection" : reason));
    }
    if (handshake) throw ClientConnectorSSLError("TLS handshake from a client failed: " + reason);
    if (certificate_required)
      throw ClientSSLError("the server at " + s.host +
                           " requires a client certificate (TCPConnector ssl.cert_file and key_file): " + reason);
    // A TLS failure past the handshake (an alert, a bad record): the TLS
    // error it is; a plain connection failure would hide what went wrong.
    if (error == SSL_ERROR_SSL) throw ClientSSLError("TLS error on the connection to " + s.host + ": " + reason);
    throw ClientConnectionError("TLS error on the connection to " + s.host + ": " + reason);
  }
}

}  // namespace coring::http::detail
