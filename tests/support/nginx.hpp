#pragma once
// A real nginx (/usr/sbin/nginx, Debian's nginx-light) on 127.0.0.1 for
// integration tests. It runs in the foreground as a child of the test, with
// its own prefix in a fresh temp dir under /tmp: the config is
// tests/data/nginx/nginx.conf.in with a free port filled in, the document
// root holds that directory's files plus two the fixture writes (big.bin,
// 1 MiB of coring::http::pattern_bytes; part.txt, 100000 of them).
// Every server serves the same routes (tests/data/nginx/routes.conf.in).
// Given NginxTLS, nginx also serves HTTPS on a second port (https.conf.in),
// and with a client CA, on a third port that requires a client certificate
// (https_client_cert.conf.in).
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <coring/coring.hpp>

#include "temp_dir.hpp"

namespace test_support {

/// What nginx needs for its HTTPS listeners (TestCertificates gives these).
struct NginxTLS {
  std::string cert_file;  ///< server certificate (PEM), chain after it if any
  std::string key_file;   ///< its private key (PEM)
  /// If not empty: also a listener that requires a client certificate
  /// signed by this CA (PEM); without one nginx answers 400.
  std::string client_ca_file = {};
};

class Nginx {
 public:
  /// Starts nginx and waits (at most ~5 s per try) until its port accepts
  /// connections. Throws std::runtime_error naming the cause: no nginx
  /// binary, nginx exited (with its error log), port never opened.
  Nginx();
  /// The same, plus HTTPS listeners (TLS 1.2 and 1.3, session cache and
  /// tickets on) with the same routes.
  explicit Nginx(NginxTLS tls);
  /// Stops nginx (SIGTERM, then SIGKILL after 5 s) and removes its directory.
  ~Nginx();
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:PORT" followed by `path`.
  [[nodiscard]] std::string url(std::string_view path) const;

  /// The HTTPS port; 0 when constructed without NginxTLS.
  [[nodiscard]] std::uint16_t tls_port() const noexcept { return tls_port_; }
  /// "https://127.0.0.1:TLS_PORT" followed by `path`. Throws
  /// std::logic_error without NginxTLS (as do the two below).
  [[nodiscard]] std::string tls_url(std::string_view path) const;
  /// "https://localhost:TLS_PORT" followed by `path`: for checking the
  /// certificate by host name. nginx listens on 127.0.0.1 only.
  [[nodiscard]] std::string tls_localhost_url(std::string_view path) const;
  /// The port that requires a client certificate; 0 without a client CA.
  [[nodiscard]] std::uint16_t client_cert_port() const noexcept { return client_cert_port_; }
  /// "https://127.0.0.1:CLIENT_CERT_PORT" followed by `path`. Besides the
  /// usual routes, /client_cert answers the client certificate's subject.
  [[nodiscard]] std::string client_cert_url(std::string_view path) const;
  /// The bytes of a file in nginx's document root, as it serves them.
  [[nodiscard]] std::string file(std::string_view name) const;

 private:
  /// The nginx child; stopped and reaped when destroyed.
  struct Process {
    pid_t pid = -1;
    ~Process() { stop(); }
    void stop() noexcept;
  };

  void start();
  void prepare_root() const;
  void write_config() const;
  bool try_start(std::string& why);
  [[nodiscard]] std::string logs() const;

  /// Removed when destroyed, also when the constructor throws.
  TempDir dir_{"coring-nginx-"};
  Process process_;
  std::optional<NginxTLS> tls_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  std::uint16_t client_cert_port_ = 0;
};

/// Starts nginx, runs `body(nginx)` (returning coring::Task<>) on a fresh
/// loop, and always stops nginx afterwards.
template <class Body>
void with_nginx(Body body) {
  Nginx nginx;
  coring::run(body(nginx));
}

/// The same with HTTPS listeners.
template <class Body>
void with_nginx(NginxTLS tls, Body body) {
  Nginx nginx(std::move(tls));
  coring::run(body(nginx));
}

}  // namespace test_support
