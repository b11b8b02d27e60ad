#pragma once
// The default backend: HTTP/1.1 over the loop's sockets, with pooled
// keep-alive connections.
#include <memory>

#include "coring/http/backend.hpp"
#include "coring/http/client.hpp"
#include "connection_pool.hpp"
#include "time_limit.hpp"
#include "resolver.hpp"

namespace coring::http::detail {

class NativeBackend final : public Backend {
 public:
  explicit NativeBackend(TCPConnector options);
  Task<ClientResponse> send(const PreparedRequest& request) override;
  Task<> close() override;
  [[nodiscard]] ConnectionPool& pool() noexcept { return pool_; }

 private:
  /// `total`: the request's own deadline, the same for each of its attempts.
  Task<Lease> open_connection(const PreparedRequest& request, const TimeLimit& total, Timings& timings,
                              ConnectionPool::Reuse reuse);
  /// The TLS handshake of a new https connection.
  Task<> secure(Connection& connection, const URL& url);
  /// Asks the proxy the connection is open to for a tunnel to `request.url` (CONNECT).
  Task<> tunnel(Connection& connection, const PreparedRequest& request);
  TCPConnector options_;
  std::shared_ptr<TLSContext> tls_context_;  // made at the first https request
  ConnectionPool pool_;
  Resolver resolver_;
};

}  // namespace coring::http::detail
