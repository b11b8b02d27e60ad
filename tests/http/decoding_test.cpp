// Content-Encoding: gzip, deflate and brotli bodies decoded as they stream in,
// bounded, and their errors. Against the project's own server on 127.0.0.1.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::with_server;
using test_support::with_session;

TEST_CASE("gzip, deflate and brotli bodies are decoded, and Accept-Encoding says so") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string base = server.base_url();
      auto echo = co_await s.get(base + "/echo");
      CHECK((co_await echo.read()).find("Accept-Encoding: gzip, deflate, br\n") != std::string::npos);
      for (const std::string encoding : {"gzip", "deflate", "br"}) {
        CAPTURE(encoding);
        for (std::size_t size : {0u, 100u, 1u << 20}) {
          auto r = co_await s.get(base + "/" + encoding + "/" + std::to_string(size));
          CHECK(r.headers().get("Content-Encoding") == encoding);
          CHECK(co_await r.read() == pattern_bytes(size));
        }
        // Read in small pieces: decoded as it streams in, not at the end.
        auto streamed = co_await s.get(base + "/" + encoding + "/300000");
        std::string pieces;
        for (std::string p; !(p = co_await streamed.content.read(1000)).empty();) pieces += p;
        CHECK(pieces == pattern_bytes(300000));
        // A few bytes on the wire that decode to 4 MB come out a bounded piece at a time.
        auto bomb = co_await s.get(base + "/" + encoding + "/4000000");
        std::size_t total = 0, largest = 0;
        for (std::string p; !(p = co_await bomb.content.read_chunk()).empty();) {
          total += p.size();
          largest = std::max(largest, p.size());
        }
        CHECK(total == 4000000);
        CHECK(largest <= 80 * 1024);
        // No body at all, as HEAD's, is empty, not a cut stream.
        auto head = co_await s.head(base + "/" + encoding + "/100");
        CHECK(head.headers().get("Content-Encoding") == encoding);
        CHECK(co_await head.read() == "");
      }
    });
  });
}

TEST_CASE("a gzip body of several members and stacked codings are decoded whole") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string base = server.base_url();
      for (std::size_t size : {2u, 100u, 300000u}) {
        CAPTURE(size);
        auto members = co_await s.get(base + "/gzip/" + std::to_string(size) + "?members=2");
        CHECK(co_await members.read() == pattern_bytes(size));
        for (const std::string as : {"gzip,br", "br,gzip", "deflate,gzip,br", "identity,gzip"}) {
          CAPTURE(as);
          auto stacked = co_await s.get(base + "/encoded/" + std::to_string(size) + "?as=" + as);
          CHECK(co_await stacked.read() == pattern_bytes(size));
        }
      }
      auto unknown = co_await s.get(base + "/encoded/100?as=gzip,zstd");  // zstd is not ours: as sent
      CHECK((co_await unknown.read()).size() < 100);
      CHECK_THROWS_WITH_AS(co_await s.get(base + "/encoded/10?as=gzip,gzip,gzip,gzip,gzip,gzip"),
                           doctest::Contains("more than 5 content codings"), ClientPayloadError);
    });
  });
}

TEST_CASE("a corrupt or truncated compressed body is a ClientPayloadError that names the encoding") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      for (const std::string encoding : {"gzip", "deflate", "br"}) {
        CAPTURE(encoding);
        auto corrupt = co_await s.get(server.base_url() + "/" + encoding + "/100000?corrupt=1");
        CHECK_THROWS_WITH_AS(co_await corrupt.read(), doctest::Contains(("bad " + encoding + " data (").c_str()),
                             ClientPayloadError);
        auto truncated = co_await s.get(server.base_url() + "/" + encoding + "/100000?truncate=1");
        CHECK_THROWS_WITH_AS(co_await truncated.read(), doctest::Contains(("the " + encoding + " stream is cut short").c_str()),
                             ClientPayloadError);
      }
    });
  });
}

TEST_CASE("with auto_decompress off the body comes as sent") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.auto_decompress = false}, [&](ClientSession& s) -> Task<> {
      auto echo = co_await s.get(server.base_url() + "/echo");
      CHECK((co_await echo.read()).find("Accept-Encoding") == std::string::npos);
      auto g = co_await s.get(server.base_url() + "/gzip/1000");
      const std::string raw = co_await g.read();
      CHECK(raw.size() < 1000);
      CHECK(static_cast<unsigned char>(raw[0]) == 0x1f);  // gzip magic
    });
  });
}

TEST_CASE("max_body_size limits a compressed body as decoded too: a gzip bomb is a ClientPayloadError") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.max_body_size = 1 << 20}, [&](ClientSession& s) -> Task<> {
      // 4 MB of a 26-byte pattern: about 12 KB on the wire.
      for (const std::string encoding : {"gzip", "br"}) {
        CAPTURE(encoding);
        auto bomb = co_await s.get(server.base_url() + "/" + encoding + "/4000000");
        CHECK_THROWS_WITH_AS(co_await bomb.read(), doctest::Contains(("decoded " + encoding + " body larger than the limit").c_str()),
                             ClientPayloadError);
        auto fine = co_await s.get(server.base_url() + "/" + encoding + "/1000000");
        CHECK(co_await fine.read() == pattern_bytes(1000000));
      }
    });
  });
}
