#pragma once
// The HTTP client's exceptions, named as aiohttp's. Every message names the
// URL and the cause.
#include <stdexcept>
#include <string>

#include "coring/errors.hpp"

namespace coring::http {

/// Base of every client error (aiohttp.ClientError).
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The connection failed or broke (aiohttp.ClientConnectionError).
class ClientConnectionError : public ClientError {
 public:
  using ClientError::ClientError;
};

/// No connection could be made: refused, unreachable, name not resolved.
class ClientConnectorError : public ClientConnectionError {
 public:
  ClientConnectorError(const std::string& what, int os_error) : ClientConnectionError(what), os_error_(os_error) {}
  /// The errno of the last attempt, or 0 (e.g. DNS failure).
  [[nodiscard]] int os_error() const noexcept { return os_error_; }

 private:
  int os_error_;
};

/// TLS could not be set up (aiohttp.ClientSSLError): bad local files
/// (CA, certificate, key), or one of the two errors below.
class ClientSSLError : public ClientConnectorError {
 public:
  explicit ClientSSLError(const std::string& what) : ClientConnectorError(what, 0) {}
};

/// The server's certificate failed verification: untrusted, expired,
/// self-signed, or not for this host. The message names the host and
/// OpenSSL's reason. Nothing was sent.
class ClientConnectorCertificateError : public ClientSSLError {
 public:
  using ClientSSLError::ClientSSLError;
};

/// The TLS handshake failed otherwise: no protocol or cipher in common, a
/// server that does not speak TLS, an alert from the server.
class ClientConnectorSSLError : public ClientSSLError {
 public:
  using ClientSSLError::ClientSSLError;
};

/// The HTTP proxy could not be reached, or closed the connection before
/// answering CONNECT (aiohttp's ClientProxyConnectionError).
class ClientProxyConnectionError : public ClientConnectorError {
 public:
  using ClientConnectorError::ClientConnectorError;
};

/// The server closed the connection before the response was complete.
class ServerDisconnectedError : public ClientConnectionError {
 public:
  using ClientConnectionError::ClientConnectionError;
};

/// The body could not be read: truncated, bad chunk, bad encoding, too large,
/// or not the JSON that json() (coring/http/json.hpp) was asked to parse.
/// Or a streamed request body did not match its declared length
/// (RequestOptions::body_length).
class ClientPayloadError : public ClientError {
 public:
  using ClientError::ClientError;
};

/// The URL cannot be requested: bad syntax, unsupported scheme, no host.
class InvalidURL : public ClientError {
 public:
  using ClientError::ClientError;
};

/// An error tied to a response status (aiohttp.ClientResponseError):
/// raise_for_status(), and TooManyRedirects. `status()` is the HTTP status.
class ClientResponseError : public ClientError {
 public:
  ClientResponseError(const std::string& what, int status) : ClientError(what), status_(status) {}
  [[nodiscard]] int status() const noexcept { return status_; }

 private:
  int status_;
};

class TooManyRedirects : public ClientResponseError {
 public:
  using ClientResponseError::ClientResponseError;
};

/// json() found a Content-Type other than the one expected (aiohttp.ContentTypeError).
class ContentTypeError : public ClientResponseError {
 public:
  using ClientResponseError::ClientResponseError;
};

/// The HTTP proxy answered CONNECT with other than 2xx: status() is its
/// answer, 407 when it wants (other) credentials (aiohttp's ClientHttpProxyError).
class ClientHttpProxyError : public ClientResponseError {
 public:
  using ClientResponseError::ClientResponseError;
};

/// The server's response broke HTTP/1.1: malformed status line or header, a
/// line over 8190 bytes, more than 128 headers.
class InvalidResponseError : public ClientError {
 public:
  using ClientError::ClientError;
};

/// A request refused before anything was sent (e.g. CR or LF in a header).
class InvalidRequestError : public ClientError {
 public:
  using ClientError::ClientError;
};

/// Which ClientTimeout field fired.
enum class TimeoutKind { total, connect, sock_connect, sock_read, pool };
const char* to_string(TimeoutKind kind) noexcept;

/// A ClientTimeout fired. Derives from coring::TimeoutError, as aiohttp's
/// timeouts derive from asyncio.TimeoutError. The connection involved is
/// closed, never reused.
class TimeoutError : public coring::TimeoutError {
 public:
  TimeoutError(const std::string& what, TimeoutKind kind) : coring::TimeoutError(what), kind_(kind) {}
  [[nodiscard]] TimeoutKind kind() const noexcept { return kind_; }

 private:
  TimeoutKind kind_;
};

}  // namespace coring::http
