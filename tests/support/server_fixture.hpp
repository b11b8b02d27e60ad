#pragma once
// Runs a test body on a fresh loop with the project's own HTTP server
// listening on 127.0.0.1 (ephemeral port); stops the server when done.
#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

namespace test_support {

/// Runs `body(server)` while `server.serve()` runs beside it; then stops
/// and closes the server, and rethrows what the body threw. For any server
/// with serve() and close().
template <class AnyServer, class Body>
coring::Task<> serve_beside(AnyServer& server, Body& body) {
  auto serving = coring::create_task(server.serve());
  std::exception_ptr failure;
  try {
    co_await body(server);
  } catch (...) {
    failure = std::current_exception();
  }
  serving.cancel();
  try {
    co_await serving;
  } catch (const coring::CancelledError&) {
  }
  co_await server.close();
  if (failure) std::rethrow_exception(failure);
}

template <class Body>
coring::Task<> serve_while(coring::http::Server::Handler handler, Body& body,
                           std::optional<coring::http::ServerSSLOptions> tls = std::nullopt,
                           coring::http::ServerOptions options = {}) {
  coring::http::Server server(coring::SocketAddress::parse("127.0.0.1:0"), std::move(handler), std::move(tls),
                              options);
  co_await serve_beside(server, body);
}

/// A handler that answers "fine", then closes the connection without saying
/// so (no "Connection: close"): the client pools a connection that is dead
/// by its next request.
inline coring::Task<> answer_then_drop(coring::http::ServerExchange& ex) {
  co_await ex.respond(200, std::string_view("fine"));
  ex.close_connection();
}

/// A handler that answers "served" and counts in `calls` the requests that
/// reached it; with `then_close`, it closes each connection after answering.
inline coring::http::Server::Handler counting(int& calls, bool then_close = false) {
  return [&calls, then_close](coring::http::ServerExchange& ex) -> coring::Task<> {
    ++calls;
    if (then_close) ex.close_connection();
    co_await ex.respond(200, "served");
  };
}

/// body: a callable taking (coring::http::Server&) and returning Task<>.
template <class Body>
void with_server(Body body, coring::http::Server::Handler handler = coring::http::builtin_routes()) {
  coring::run(serve_while(std::move(handler), body));
}

/// The same with `options`' limits.
template <class Body>
void with_server_options(coring::http::ServerOptions options, Body body,
                         coring::http::Server::Handler handler = coring::http::builtin_routes()) {
  coring::run(serve_while(std::move(handler), body, std::nullopt, options));
}

/// The same over https, with `tls`'s certificate.
template <class Body>
void with_tls_server(coring::http::ServerSSLOptions tls, Body body,
                     coring::http::Server::Handler handler = coring::http::builtin_routes()) {
  coring::run(serve_while(std::move(handler), body, std::move(tls)));
}

/// Opens a session, runs `use(session)`, always closes it.
template <class Use>
coring::Task<> with_session(coring::http::SessionOptions options, Use use) {
  co_await coring::async_with(coring::http::ClientSession(std::move(options)), std::move(use));
}

}  // namespace test_support
