// ClientResponse: its status, headers and body, read whole, in pieces or in
// place; broken or over-long responses as typed errors; raise_for_status.
// Against the project's own server on 127.0.0.1.
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

TEST_CASE("GET returns status, headers and the body byte for byte") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/small");
      CHECK(r.status() == 200);
      CHECK(r.reason() == "OK");
      CHECK(r.headers().get("content-length") == "13");
      CHECK(co_await r.text() == "Hello, world!");
      CHECK(co_await r.read() == "Hello, world!");  // kept

      for (std::size_t size : {0u, 1u, 16384u, 16385u, 1u << 20}) {
        auto big = co_await s.get(server.base_url() + "/bytes/" + std::to_string(size));
        CHECK(co_await big.read() == pattern_bytes(size));
      }
    });
  });
}

TEST_CASE("chunked bodies of many shapes arrive intact") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      for (auto [size, chunk] : {std::pair{0, 1}, {1, 1}, {1000, 7}, {100000, 4096}, {300000, 65536}}) {
        auto r = co_await s.get(server.base_url() + "/chunked/" + std::to_string(size) + "?chunk=" + std::to_string(chunk));
        CHECK(co_await r.read() == pattern_bytes(static_cast<std::size_t>(size)));
      }
    });
  });
}

TEST_CASE("the body can be read in pieces") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/chunked/100000?chunk=1000");
      std::string all;
      for (;;) {
        std::string piece = co_await r.content.read(777);
        if (piece.empty()) break;
        CHECK(piece.size() <= 777);
        all += piece;
      }
      CHECK(r.content.at_eof());
      CHECK(all == pattern_bytes(100000));
    });
  });
}

TEST_CASE("read_view gives the body in place, kept, with or without recycled buffers") {
  with_server([](Server& server) -> Task<> {
    for (std::size_t recycled : {std::size_t{16 * 1024}, std::size_t{0}}) {
      SessionOptions options;
      options.connector.recycled_body_size = recycled;
      co_await with_session(options, [&](ClientSession& s) -> Task<> {
        // Each body after the first lands in a buffer an earlier one left
        // (if recycling): it must hold this body only.
        for (std::size_t size : {4000u, 3000u, 0u, 20u, 100000u, 5000u}) {
          auto r = co_await s.get(server.base_url() + "/bytes/" + std::to_string(size));
          const std::string_view body = co_await r.read_view();
          CHECK(body == pattern_bytes(size));
          CHECK((co_await r.read_view()).data() == body.data());  // kept, not read again
          CHECK(co_await r.read() == pattern_bytes(size));
        }
      });
    }
  });
}

TEST_CASE("raise_for_status names the status and URL") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/status/503");
      CHECK(r.status() == 503);
      try {
        r.raise_for_status();
        FAIL("expected ClientResponseError");
      } catch (const ClientResponseError& e) {
        CHECK(e.status() == 503);
        CHECK(std::string(e.what()).find("/status/503") != std::string::npos);
      }
      auto ok = co_await s.get(server.base_url() + "/status/204");
      ok.raise_for_status();
      CHECK((co_await ok.read()).empty());
    });
  });
}

TEST_CASE("broken responses are typed errors, never crashes") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      const std::string base = server.base_url();
      auto truncated = co_await s.get(base + "/close-mid-body");
      CHECK_THROWS_AS(co_await truncated.read(), ClientPayloadError);
      CHECK_THROWS_AS(co_await s.get(base + "/bad-status"), InvalidResponseError);
      CHECK_THROWS_WITH_AS(co_await s.get(base + "/long-header"), doctest::Contains("8190"), InvalidResponseError);
      CHECK_THROWS_WITH_AS(co_await s.get(base + "/many-headers"), doctest::Contains("128"), InvalidResponseError);
      auto bad_chunk = co_await s.get(base + "/bad-chunk");
      CHECK_THROWS_AS(co_await bad_chunk.read(), ClientPayloadError);
      auto until_close = co_await s.get(base + "/no-length");
      CHECK(co_await until_close.read() == "body until close");
      auto interim = co_await s.get(base + "/interim");
      CHECK(interim.status() == 200);
      CHECK(co_await interim.read() == "final");
    });
  });
}

TEST_CASE("a body over max_body_size is a ClientPayloadError") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.max_body_size = 1000}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/bytes/5000");
      CHECK_THROWS_WITH_AS(co_await r.read(), doctest::Contains("limit"), ClientPayloadError);
      auto fine = co_await s.get(server.base_url() + "/bytes/1000");
      CHECK((co_await fine.read()).size() == 1000);
    });
  });
}

TEST_CASE("raise_for_status on the session raises for 4xx and 5xx from the request itself; a request's own setting wins") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({.raise_for_status = true}, [&](ClientSession& s) -> Task<> {
      for (const int status : {404, 500}) {
        try {
          co_await s.get(server.base_url() + "/status/" + std::to_string(status));
          FAIL("expected ClientResponseError");
        } catch (const ClientResponseError& e) {
          CHECK(e.status() == status);
          CHECK(std::string(e.what()).find("/status/" + std::to_string(status)) != std::string::npos);
        }
      }
      auto fine = co_await s.get(server.base_url() + "/status/204");
      CHECK(fine.status() == 204);
      auto redirected = co_await s.get(server.base_url() + "/redirect/2");  // a 302 is not an error
      CHECK(redirected.status() == 200);
      RequestOptions lenient{.raise_for_status = false};
      auto not_found = co_await s.get(server.base_url() + "/status/404", std::move(lenient));
      CHECK(not_found.status() == 404);
    });
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      RequestOptions strict{.raise_for_status = true};
      CHECK_THROWS_AS(co_await s.get(server.base_url() + "/status/503", std::move(strict)), ClientResponseError);
      auto r = co_await s.get(server.base_url() + "/status/503");
      CHECK(r.status() == 503);
    });
  });
}
