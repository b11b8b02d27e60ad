#pragma once
// coring::http::ServerThread: a Server on a thread of its own, with its own
// event loop. For programs that serve and load the same process (the
// benchmark's embedded target, the demos): the loops never share a thread.
#include <memory>
#include <string>

#include "coring/http/server.hpp"

namespace coring::http {

class ServerThread {
 public:
  /// Starts the thread, binds `address` (port 0 picks a free port) and
  /// returns once the server accepts connections. Errors from binding are
  /// raised here.
  explicit ServerThread(SocketAddress address, Server::Handler handler = builtin_routes(),
                        std::optional<ServerTLS> tls = std::nullopt);
  /// Stops serving (open connections are ended) and joins the thread.
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
