// Runs the project's HTTP server with builtin_routes() on 127.0.0.1 until
// killed; prints "listening on http://127.0.0.1:PORT" once ready. For tests
// that drive the tools from outside.
#include <coring/coring.hpp>
#include <coring/http/server.hpp>
#include <cstdio>

int main() {
  coring::run([]() -> coring::Task<> {
    coring::http::Server server(coring::SocketAddress::parse("127.0.0.1:0"), coring::http::builtin_routes());
    std::printf("listening on %s\n", server.base_url().c_str());
    std::fflush(stdout);
    co_await server.serve();
  }());
}
