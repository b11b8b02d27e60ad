#pragma once
// coring::http::SSLOptions: how https:// connections are secured (aiohttp's
// `ssl=` argument, curl's --cacert/--cert/--key/-k). Verified by default.
#include <optional>
#include <string>

namespace coring::http {

struct SSLOptions {
  /// Check the server's certificate chain and that it names the host (or
  /// the IP address) of the URL. Turning it off (curl's -k) is never the
  /// default; the connection is then encrypted but not authenticated.
  bool verify = true;
  /// Trust these CAs (a PEM file, and/or a directory hashed with
  /// `openssl rehash`) instead of the system's store in /etc/ssl/certs.
  std::optional<std::string> ca_file;
  std::optional<std::string> ca_path;
  /// A client certificate (PEM, chain allowed) and its private key, for
  /// servers that ask for one.
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  /// Keep each host's TLS session and resume it on the next connection
  /// there (an abbreviated handshake). False is curl's --no-sessionid.
  bool resume_sessions = true;
};

}  // namespace coring::http
