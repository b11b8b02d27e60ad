// Runs the project's HTTP server with builtin_routes() on 127.0.0.1 until
// killed; prints "listening on http://127.0.0.1:PORT" once ready. For tests
// that drive the tools from outside. `--tls CERT KEY` serves https instead.
#include <coring/coring.hpp>
#include <coring/http/server.hpp>
#include <cstdio>
#include <cstring>
#include <optional>

int main(int argc, char** argv) {
  std::optional<coring::http::ServerSSLOptions> tls;
  if (argc == 4 && std::strcmp(argv[1], "--tls") == 0) {
    tls = coring::http::ServerSSLOptions{argv[2], argv[3]};
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: %s [--tls CERT_FILE KEY_FILE]\n", argv[0]);
    return 2;
  }
  try {
    coring::run([](std::optional<coring::http::ServerSSLOptions> t) -> coring::Task<> {
      coring::http::Server server(coring::SocketAddress::parse("127.0.0.1:0"), coring::http::builtin_routes(),
                                  std::move(t));
      std::printf("listening on %s\n", server.base_url().c_str());
      std::fflush(stdout);
      co_await server.serve();
    }(std::move(tls)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "test_server: %s\n", e.what());
    return 1;
  }
}
