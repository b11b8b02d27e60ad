// https through ClientSession, against the project's own server with TLS and
// against nginx with ssl, using certificates the test makes with the openssl
// command (tests/support/tls_certs.hpp): verification on by default, each
// way a certificate can be wrong, CApath, -k, client certificates, pooled
// reuse, session resumption, and a server that does not speak TLS.
#include <doctest/doctest.h>

#include <string>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>

#include "../../http/tls.hpp"
#include "../support/fake_dns.hpp"
#include "../support/fault_routes.hpp"
#include "../support/nginx.hpp"
#include "../support/server_fixture.hpp"
#include "../support/tls_certs.hpp"

using namespace coring;
using namespace coring::http;
using test_support::TestCertificates;
using test_support::with_session;

namespace {

const TestCertificates& certificates() {
  static const TestCertificates made;  // one PKI for the whole run
  return made;
}

ServerSSLOptions server_tls(std::string_view name) {
  return ServerSSLOptions{certificates().cert(name), certificates().key(name)};
}

SessionOptions trusting_test_ca() {
  SessionOptions options;
  options.connector.ssl.ca_file = certificates().ca_file();
  return options;
}

/// Counts the requests that reach the handler: a failed verification must
/// leave it at zero.
struct Counting {
  int requests = 0;
  Server::Handler handler() {
    return [this, routes = builtin_routes()](ServerExchange& ex) {
      ++requests;
      return routes(ex);
    };
  }
};

/// The error a GET of `url` raises with `options`, as text; "" if none.
template <class Error>
Task<std::string> failure_of(SessionOptions options, std::string url) {
  std::string what;
  co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
    try {
      auto r = co_await s.get(url);
      co_await r.read();
    } catch (const Error& e) {
      what = e.what();
    }
  });
  co_return what;
}

}  // namespace

TEST_CASE("a certificate from a trusted CA is accepted, for an IP address and for a host name (SNI)") {
  test_support::with_tls_server(server_tls("valid"), [](Server& server) -> Task<> {
    const std::string by_ip = server.base_url() + "/bytes/100000";
    const std::string by_name = "https://localhost:" + std::to_string(server.address().port()) + "/small";
    co_await with_session(trusting_test_ca(), [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(by_ip);
      CHECK(r.status() == 200);
      CHECK(co_await r.read() == pattern_bytes(100000));
      CHECK(r.timings().tls.count() > 0);
      auto named = co_await s.get(by_name);
      CHECK(co_await named.text() == "Hello, world!");
    });
  });
}

TEST_CASE("a CA directory (CApath) works as well as a CA file") {
  test_support::with_tls_server(server_tls("valid"), [](Server& server) -> Task<> {
    SessionOptions options;
    options.connector.ssl.ca_path = certificates().ca_dir();
    const std::string url = server.base_url() + "/small";
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(url);
      CHECK(co_await r.text() == "Hello, world!");
    });
  });
}

TEST_CASE("each bad certificate is a ClientConnectorCertificateError naming the host and reason; nothing is sent") {
  struct Case {
    const char* cert;
    const char* reason;
    bool use_test_ca;
  };
  const Case cases[] = {
      {"valid", "unable to get local issuer certificate", false},  // the system store does not know our CA
      {"expired", "certificate has expired", true},
      {"wrong_host", "mismatch", true},
      {"self_signed", "self-signed certificate", true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.cert);
    Counting counting;
    test_support::with_tls_server(
        server_tls(c.cert),
        [&](Server& server) -> Task<> {
          SessionOptions options = c.use_test_ca ? trusting_test_ca() : SessionOptions{};
          const std::string url = server.base_url() + "/small";
          const std::string what = co_await failure_of<ClientConnectorCertificateError>(std::move(options), url);
          CAPTURE(what);
          CHECK(what.find(c.reason) != std::string::npos);
          CHECK(what.find("127.0.0.1") != std::string::npos);
        },
        counting.handler());
    CHECK(counting.requests == 0);
  }
}

TEST_CASE("a partial wildcard (w*.coring.test) matches no host name") {
  test_support::FakeDns dns({"www.coring.test"});
  Counting counting;
  test_support::with_tls_server(
      server_tls("partial_wildcard"),
      [&](Server& server) -> Task<> {
        SessionOptions options = trusting_test_ca();
        options.connector.dns_servers = {dns.server()};
        const std::string url = "https://www.coring.test:" + std::to_string(server.address().port()) + "/small";
        const std::string what = co_await failure_of<ClientConnectorCertificateError>(std::move(options), url);
        CAPTURE(what);
        CHECK(what.find("mismatch") != std::string::npos);
      },
      counting.handler());
  CHECK(counting.requests == 0);
}

TEST_CASE("the error types: certificate errors are ClientSSLError and ClientConnectorError") {
  test_support::with_tls_server(server_tls("expired"), [](Server& server) -> Task<> {
    const std::string url = server.base_url() + "/small";
    CHECK_FALSE((co_await failure_of<ClientSSLError>(trusting_test_ca(), url)).empty());
    CHECK_FALSE((co_await failure_of<ClientConnectorError>(trusting_test_ca(), url)).empty());
  });
}

TEST_CASE("verification turned off explicitly accepts an expired, self-signed or wrong-host certificate") {
  for (const char* name : {"expired", "self_signed", "wrong_host"}) {
    CAPTURE(name);
    test_support::with_tls_server(server_tls(name), [](Server& server) -> Task<> {
      SessionOptions options;
      options.connector.ssl.verify = false;
      const std::string url = server.base_url() + "/small";
      co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
        auto r = co_await s.get(url);
        CHECK(co_await r.text() == "Hello, world!");
      });
    });
  }
}

TEST_CASE("a server that does not speak TLS is a ClientConnectorSSLError") {
  test_support::with_server([](Server& plain) -> Task<> {
    const std::string url = "https://127.0.0.1:" + std::to_string(plain.address().port()) + "/small";
    const std::string what = co_await failure_of<ClientConnectorSSLError>(trusting_test_ca(), url);
    CAPTURE(what);
    CHECK(what.find("TLS handshake with 127.0.0.1 failed") != std::string::npos);
  });
}

/// A "server" that reads the ClientHello and answers with the fatal alert
/// protocol_version, as a server that only speaks an older TLS does.
Task<> refuse_protocol_version(Listener& listener) {
  Socket peer = co_await listener.accept();
  std::byte hello[4096];
  co_await peer.recv(hello);
  static constexpr unsigned char alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46};  // fatal, protocol_version
  co_await peer.send_all(std::as_bytes(std::span(alert)));
  co_await peer.close();
}

TEST_CASE("a protocol mismatch is a ClientConnectorSSLError with OpenSSL's reason") {
  coring::run([]() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const std::string url = "https://127.0.0.1:" + std::to_string(listener.local_address().port()) + "/";
    auto server = create_task(refuse_protocol_version(listener));
    const std::string what = co_await failure_of<ClientConnectorSSLError>(trusting_test_ca(), url);
    co_await server;
    co_await listener.close();
    CAPTURE(what);
    CHECK(what.find("TLS handshake with 127.0.0.1 failed") != std::string::npos);
    CHECK(what.find("protocol version") != std::string::npos);
  }());
}

TEST_CASE("unreadable CA or client key files are a ClientSSLError naming the file") {
  test_support::with_tls_server(server_tls("valid"), [](Server& server) -> Task<> {
    const std::string url = server.base_url() + "/small";
    SessionOptions no_ca;
    no_ca.connector.ssl.ca_file = "/nonexistent/ca.pem";
    CHECK((co_await failure_of<ClientSSLError>(std::move(no_ca), url)).find("/nonexistent/ca.pem") != std::string::npos);
    SessionOptions bad_key = trusting_test_ca();
    bad_key.connector.ssl.cert_file = certificates().cert("client");
    bad_key.connector.ssl.key_file = certificates().key("valid");  // not the client certificate's key
    CHECK_FALSE((co_await failure_of<ClientSSLError>(std::move(bad_key), url)).empty());
  });
}

TEST_CASE("a server that requires a client certificate: without one a ClientSSLError that says so, with one the answer") {
  ServerSSLOptions requiring = server_tls("valid");
  requiring.client_ca_file = certificates().ca_file();
  test_support::with_tls_server(requiring, [](Server& server) -> Task<> {
    const std::string url = server.base_url() + "/small";
    // TLS 1.3: the refusal comes as an alert after the client's handshake,
    // at its first read (before, a plain ClientConnectionError).
    const std::string refused = co_await failure_of<ClientSSLError>(trusting_test_ca(), url);
    CHECK(refused.find("requires a client certificate") != std::string::npos);
    SessionOptions with_cert = trusting_test_ca();
    with_cert.connector.ssl.cert_file = certificates().cert("client");
    with_cert.connector.ssl.key_file = certificates().key("client");
    co_await with_session(std::move(with_cert), [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(url);
      CHECK(co_await r.text() == "Hello, world!");
    });
  });
}

TEST_CASE("TLS connections are pooled and reused like plain ones") {
  test_support::with_tls_server(server_tls("valid"), [](Server& server) -> Task<> {
    const std::string url = server.base_url() + "/small";
    co_await with_session(trusting_test_ca(), [&](ClientSession& s) -> Task<> {
      for (int i = 0; i < 5; ++i) {
        auto r = co_await s.get(url);
        CHECK(co_await r.text() == "Hello, world!");
        CHECK(r.timings().reused_connection == (i > 0));
      }
    });
    CHECK(server.connections_accepted() == 1);
  });
}

TEST_CASE("a pooled TLS connection the server dropped is retried transparently") {
  // The server closes without close_notify after each answer: the client
  // pools the connection and finds it dead at the next request.
  test_support::with_tls_server(
      server_tls("valid"),
      [](Server& server) -> Task<> {
        const std::string url = server.base_url() + "/";
        co_await with_session(trusting_test_ca(), [&](ClientSession& s) -> Task<> {
          auto first = co_await s.get(url);
          CHECK(co_await first.text() == "fine");
          auto second = co_await s.get(url);
          CHECK(co_await second.text() == "fine");
          CHECK_FALSE(second.timings().reused_connection);  // the retry's fresh connection
          CHECK(second.timings().tls_resumed);
        });
        CHECK(server.connections_accepted() == 2);
      },
      test_support::answer_then_drop);
}

TEST_CASE("a new connection to the same host resumes the TLS session") {
  test_support::with_tls_server(server_tls("valid"), [](Server& server) -> Task<> {
    const std::string url = server.base_url() + "/small";
    SessionOptions options = trusting_test_ca();
    options.connector.force_close = true;  // a new connection, and handshake, per request
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      for (int i = 0; i < 3; ++i) {
        auto r = co_await s.get(url);
        CHECK(co_await r.text() == "Hello, world!");
        CHECK(r.timings().tls_resumed == (i > 0));
      }
    });
    CHECK(server.connections_accepted() == 3);
  });
}

TEST_CASE("nginx with ssl: bodies byte for byte, keep-alive reconnects, resumption, client certificates") {
  const TestCertificates& pki = certificates();
  test_support::with_nginx(
      test_support::NginxTLS{pki.cert("valid"), pki.key("valid"), pki.ca_file()},
      [&pki](test_support::Nginx& nginx) -> Task<> {
        const std::string big = nginx.tls_url("/big");
        const std::string small = nginx.tls_localhost_url("/small");
        const std::string expected_big = nginx.file("big.bin");
        co_await with_session(trusting_test_ca(), [&](ClientSession& s) -> Task<> {
          auto r = co_await s.get(big);
          CHECK(co_await r.read() == expected_big);
          // keepalive_requests 3: the pool reconnects, resuming the session.
          int resumed = 0;
          for (int i = 0; i < 7; ++i) {
            auto small_response = co_await s.get(small);
            CHECK(small_response.status() == 200);
            co_await small_response.read();
            if (small_response.timings().tls_resumed) ++resumed;
          }
          CHECK(resumed >= 2);
        });
        const std::string needs_cert = nginx.client_cert_url("/small");
        co_await with_session(trusting_test_ca(), [&](ClientSession& s) -> Task<> {
          auto r = co_await s.get(needs_cert);
          CHECK(r.status() == 400);  // nginx: "No required SSL certificate was sent"
          co_await r.read();
        });
        SessionOptions with_cert = trusting_test_ca();
        with_cert.connector.ssl.cert_file = pki.cert("client");
        with_cert.connector.ssl.key_file = pki.key("client");
        co_await with_session(std::move(with_cert), [&](ClientSession& s) -> Task<> {
          auto r = co_await s.get(needs_cert);
          CHECK(r.status() == 200);
          CHECK(co_await r.text() == nginx.file("small.txt"));
        });
      });
}

TEST_CASE("pipelined requests over TLS: a response read while the next request is written") {
  test_support::with_tls_server(server_tls("valid"), [](Server& server) -> Task<> {
    SessionOptions options = trusting_test_ca();
    options.connector.limit = 2;
    options.connector.pipelining = 4;
    options.timeout.total = Seconds(20);
    co_await with_session(std::move(options), [&](ClientSession& s) -> Task<> {
      auto fetch = [&](int i) -> Task<std::string> {
        // Requests and answers (/echo repeats the headers) of 7 KB: a
        // request is still being written while the response ahead is read.
        RequestOptions o;
        o.headers.add("X-Pad", std::string(7000, 'x'));
        auto r = co_await s.get(server.base_url() + "/echo/" + std::to_string(i), std::move(o));
        co_return co_await r.text();
      };
      std::vector<Task<std::string>> all;
      for (int i = 0; i < 100; ++i) all.push_back(fetch(i));
      const auto bodies = co_await gather(std::move(all));
      for (int i = 0; i < 100; ++i) {
        CHECK(bodies[i].starts_with("GET /echo/" + std::to_string(i) + "\n"));
        CHECK(bodies[i].find(std::string(7000, 'x')) != std::string::npos);
      }
    });
    CHECK(server.connections_accepted() == 2);
  });
}

TEST_CASE("over https, bytes sent on an idle pooled connection never answer the next request") {
  test_support::with_tls_server(
      server_tls("valid"),
      [](Server& server) -> Task<> {
        co_await with_session(trusting_test_ca(), [&](ClientSession& s) -> Task<> {
          auto first = co_await s.get(server.base_url() + "/late-extra");
          CHECK(co_await first.text() == "ok");
          co_await sleep(std::chrono::milliseconds(300));  // the unasked 299 arrives while it idles
          auto second = co_await s.get(server.base_url() + "/ok");
          CHECK(second.status() == 200);
          CHECK(co_await second.text() == "ok");
          CHECK_FALSE(second.timings().reused_connection);
        });
      },
      test_support::fault_routes());
}

TEST_CASE("an idle pooled https connection survives the session tickets a TLS 1.3 server sends") {
  // Reuse is kept: what the idle check reads of the socket is not an answer.
  test_support::with_tls_server(server_tls("valid"), [](Server& server) -> Task<> {
    co_await with_session(trusting_test_ca(), [&](ClientSession& s) -> Task<> {
      for (int i = 0; i < 3; ++i) {
        auto r = co_await s.get(server.base_url() + "/small");
        CHECK(co_await r.text() == "Hello, world!");
        co_await sleep(std::chrono::milliseconds(20));
        CHECK(r.timings().reused_connection == (i > 0));
      }
    });
  });
}

namespace {

/// Serves one connection over TLS: reads a request, answers with a body
/// that only the close ends, then closes, with close_notify or without.
Task<> answer_then_close(Listener& listener, std::shared_ptr<http::detail::TLSContext> context, bool close_notify) {
  Socket socket = co_await listener.accept();
  http::detail::TLSStream tls(std::move(context), socket);
  co_await tls.accept();
  std::array<std::byte, 4096> request{};
  (void)co_await tls.read(request);
  const std::string answer = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nthe body, then the close";
  co_await tls.write(std::as_bytes(std::span(answer)));
  if (close_notify) co_await tls.shutdown();
  co_await socket.close();
}

Task<> fetch_close_framed(bool close_notify) {
  Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
  auto context = http::detail::TLSContext::server(certificates().cert("valid"), certificates().key("valid"));
  auto serving = create_task(answer_then_close(listener, context, close_notify));
  const std::string url = "https://127.0.0.1:" + std::to_string(listener.local_address().port()) + "/";
  co_await with_session(trusting_test_ca(), [&](ClientSession& s) -> Task<> {
    auto r = co_await s.get(url);
    if (close_notify) {
      CHECK(co_await r.text() == "the body, then the close");
    } else {
      CHECK_THROWS_WITH_AS(co_await r.text(), doctest::Contains("without close_notify"), ClientPayloadError);
    }
  });
  co_await serving;
  co_await listener.close();
}

}  // namespace

TEST_CASE("over https, a body framed by the close is whole only if close_notify ends it") {
  coring::run(fetch_close_framed(true));
  coring::run(fetch_close_framed(false));
}

TEST_CASE("a client TLS context keeps at most max_sessions sessions, one per host and port") {
  test_support::with_tls_server(server_tls("valid"), [](Server& server) -> Task<> {
    auto context = http::detail::TLSContext::client({.ca_file = certificates().ca_file()}, 1);
    const std::uint16_t port = server.address().port();
    for (const std::string host : {"localhost", "127.0.0.1", "localhost"}) {  // two keys, room for one
      CAPTURE(host);
      Socket socket = co_await Socket::connect(server.address());
      http::detail::TLSStream tls(context, socket);
      co_await tls.connect(host, port);
      const std::string request = "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      co_await tls.write(std::as_bytes(std::span(request)));
      std::array<std::byte, 4096> buffer{};
      while (co_await tls.read(buffer) > 0) {  // to the end: TLS 1.3 tickets come after the handshake
      }
      co_await socket.close();
      CHECK(context->kept_sessions() == 1);
    }
  });
}
