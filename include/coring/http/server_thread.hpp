#pragma once
// coring::http::ServerThread: a Server on threads of its own, each with its
// own event loop. For programs that serve and load the same process (the
// benchmark's embedded target, the demos): the loops never share a thread.
#include <memory>
#include <optional>
#include <string>

#include "coring/http/server.hpp"

namespace coring::http {

class ServerThread {
 public:
  /// Starts `threads` threads, each serving `address` on its own loop (with
  /// SO_REUSEPORT when more than one: the kernel spreads the connections),
  /// and returns once all accept connections. Port 0 picks a free port, the
  /// same for all. Errors from binding or loading `ssl` are raised here.
  explicit ServerThread(SocketAddress address, Server::Handler handler = builtin_routes(),
                        std::optional<ServerSSLOptions> ssl = std::nullopt, std::size_t threads = 1);
  /// Stops serving (open connections are ended) and joins the threads.
  ~ServerThread();
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  /// "http://127.0.0.1:PORT" ("https://" with TLS).
  [[nodiscard]] const std::string& base_url() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace coring::http
