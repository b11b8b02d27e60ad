#pragma once
// TLS over the loop's sockets: OpenSSL never touches the socket. It reads
// and writes memory BIOs, and the coroutines here move the ciphertext with
// io_uring, so a handshake or a read never blocks the loop. tls.cpp is the
// one file that includes OpenSSL.
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "coring/http/ssl.hpp"
#include "coring/net.hpp"
#include "coring/task.hpp"

namespace coring::http::detail {

/// Settings shared by the connections of one session (OpenSSL's SSL_CTX),
/// and the TLS sessions kept per host for resumption.
class TLSContext {
 public:
  /// The TLS sessions a client keeps for resumption, one per host:port at
  /// most: past it, expired ones go first, then any.
  static constexpr std::size_t default_max_sessions = 1000;
  /// For a client; throws ClientSSLError for unreadable CA or key files.
  static std::shared_ptr<TLSContext> client(const SSLOptions& options,
                                            std::size_t max_sessions = default_max_sessions);
  /// For a server, with its certificate chain and key (PEM files).
  static std::shared_ptr<TLSContext> server(const std::string& cert_file, const std::string& key_file,
                                            const std::string& client_ca_file = {});
  ~TLSContext();
  TLSContext(const TLSContext&) = delete;
  TLSContext& operator=(const TLSContext&) = delete;

  struct State;
  [[nodiscard]] State& state() noexcept { return *state_; }
  /// The sessions kept for resumption now.
  [[nodiscard]] std::size_t kept_sessions() const noexcept;

 private:
  explicit TLSContext(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// One TLS connection over a connected socket (which it does not own).
class TLSStream {
 public:
  TLSStream(std::shared_ptr<TLSContext> context, Socket& socket);
  ~TLSStream();
  TLSStream(const TLSStream&) = delete;
  TLSStream& operator=(const TLSStream&) = delete;

  /// The client's handshake: SNI and ALPN (http/1.1) sent, the certificate
  /// verified for `host` (a name or an IP address) unless verification is
  /// off, a session for `host` resumed if one is kept. Throws
  /// ClientConnectorCertificateError or ClientConnectorSSLError naming the
  /// host and OpenSSL's reason; nothing of the request is sent before.
  Task<> connect(const std::string& host, std::uint16_t port);
  /// The server's handshake.
  Task<> accept();

  /// Decrypted bytes into `buffer`; 0 when the peer has closed the TLS
  /// session (close_notify) or the connection. ServerDisconnectedError-style
  /// failures are raised as OSError from the socket, or ClientSSLError.
  Task<std::size_t> read(std::span<std::byte> buffer);
  /// Encrypts and sends all of `data`.
  Task<> write(std::span<const std::byte> data);
  /// Sends close_notify (best effort: the socket is closed next anyway).
  Task<> shutdown();

  /// Whether the handshake resumed a kept session (no full handshake).
  [[nodiscard]] bool resumed() const noexcept;
  /// Decrypted bytes OpenSSL holds that read() will return without I/O.
  [[nodiscard]] bool has_buffered_data() const noexcept;
  /// After read() returned 0: whether the peer said so with close_notify.
  /// A bare TCP close is not clean: it may be an attacker cutting a body
  /// whose end only the close marks.
  [[nodiscard]] bool closed_cleanly() const noexcept;
  /// For an idle connection, without waiting: whether the peer has sent
  /// application data (an answer nobody asked for), an alert or a close
  /// since the last read. What the socket holds is handed to OpenSSL, so
  /// post-handshake messages (TLS 1.3 session tickets) do not count.
  [[nodiscard]] bool sent_while_idle();

 private:
  enum class Op { handshake_client, handshake_server, read, write, shutdown };
  /// Runs one OpenSSL call until it completes, moving ciphertext both ways
  /// as it asks. Returns the call's positive result, or 0 at a clean close.
  Task<int> drive(Op op, void* data, int size);
  Task<> flush();
  Task<bool> fill();  // false at end of stream

 public:
  struct State;  // opaque; public for OpenSSL's callbacks in tls.cpp

 private:
  std::unique_ptr<State> state_;
};

}  // namespace coring::http::detail
