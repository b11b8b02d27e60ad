#pragma once
// A real nginx (/usr/sbin/nginx, Debian's nginx-light) on 127.0.0.1 for
// integration tests. It runs in the foreground as a child of the test, with
// its own prefix in a fresh temp dir under /tmp: the config is
// tests/data/nginx/nginx.conf.in with a free port filled in, the document
// root holds that directory's files plus two the fixture writes (big.bin,
// 1 MiB of coring::http::pattern_bytes; part.txt, 100000 of them).
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <coring/coring.hpp>

namespace test_support {

class Nginx {
 public:
  /// Starts nginx and waits (at most ~5 s per try) until its port accepts
  /// connections. Throws std::runtime_error naming the cause: no nginx
  /// binary, nginx exited (with its error log), port never opened.
  Nginx();
  /// Stops nginx (SIGTERM, then SIGKILL after 5 s) and removes its directory.
  ~Nginx();
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:PORT" followed by `path`.
  [[nodiscard]] std::string url(std::string_view path) const;
  /// The bytes of a file in nginx's document root, as it serves them.
  [[nodiscard]] std::string file(std::string_view name) const;

 private:
  /// The temp dir; removed when destroyed, also when the constructor throws.
  struct Dir {
    std::filesystem::path path;
    Dir();
    ~Dir();
  };
  /// The nginx child; stopped and reaped when destroyed.
  struct Process {
    pid_t pid = -1;
    ~Process() { stop(); }
    void stop() noexcept;
  };

  void prepare_root() const;
  bool try_start(std::uint16_t port, std::string& why);
  [[nodiscard]] std::string logs() const;

  Dir dir_;
  Process process_;
  std::uint16_t port_ = 0;
};

/// Starts nginx, runs `body(nginx)` (returning coring::Task<>) on a fresh
/// loop, and always stops nginx afterwards.
template <class Body>
void with_nginx(Body body) {
  Nginx nginx;
  coring::run(body(nginx));
}

}  // namespace test_support
