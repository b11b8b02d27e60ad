// Streamed request bodies (RequestOptions::body_stream) through the native
// backend, against the project's own server and a raw socket server.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <stdexcept>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include "../support/body_stream.hpp"
#include "../support/one_answer_server.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::Chunks;
using test_support::stream_of;
using test_support::with_server;
using test_support::with_session;

namespace {

/// The request's head as /echo shows it: the lines before the blank one.
std::string echoed_head(const std::string& echo) { return echo.substr(0, echo.find("\n\n") + 1); }

}  // namespace

TEST_CASE("a streamed body goes out chunked, reaches /echo whole, and leaves the connection reusable") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto chunks = std::make_shared<Chunks>();
      chunks->pieces = {"a", std::string(16384, 'x'), pattern_bytes(100000), "end"};
      chunks->pause = 1ms;
      RequestOptions o{.body_stream = stream_of(chunks)};
      auto r = co_await s.post(server.base_url() + "/echo", std::move(o));
      const std::string echo = co_await r.read();
      const std::string head = echoed_head(echo);
      CHECK(head.starts_with("POST /echo\n"));
      CHECK(head.find("Transfer-Encoding: chunked\n") != std::string::npos);
      CHECK(head.find("Content-Length") == std::string::npos);
      CHECK(echo.ends_with("\n\na" + std::string(16384, 'x') + pattern_bytes(100000) + "end"));
      CHECK(chunks->next == 4);

      auto again = co_await s.get(server.base_url() + "/small");
      CHECK(co_await again.read() == "Hello, world!");
      CHECK(again.timings().reused_connection);
      CHECK(server.connections_accepted() == 1);
    });
  });
}

namespace {

/// Takes one connection and records every byte it receives in `seen` until
/// the chunked body's last chunk, then answers "ok".
Task<> record_one_request(Listener& listener, std::string& seen) {
  Socket socket = co_await listener.accept();
  std::exception_ptr failure;
  try {
    char buffer[4096];
    // Bounded: the test's request is well under 1000 reads.
    for (int reads = 0; reads < 1000 && !seen.ends_with("\r\n0\r\n\r\n"); ++reads) {
      const std::size_t n = co_await socket.recv(std::as_writable_bytes(std::span(buffer)));
      if (n == 0) break;
      seen.append(buffer, n);
    }
    const std::string_view ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    co_await socket.send_all(std::as_bytes(std::span(ok.data(), ok.size())));
  } catch (...) {
    failure = std::current_exception();
  }
  co_await socket.close();
  if (failure) std::rethrow_exception(failure);
}

struct Lockstep {
  const std::string* seen;
  int next = 0;
};

/// Yields "piece0".."piece2", but asks for piece k only once the server has
/// received piece k-1: a client that gathered the body first would stall here.
Task<std::string> next_in_lockstep(std::shared_ptr<Lockstep> l) {
  if (l->next == 3) co_return std::string();
  if (l->next > 0) {
    const std::string previous = "piece" + std::to_string(l->next - 1);
    for (int polls = 0; l->seen->find(previous) == std::string::npos; ++polls) {
      if (polls == 2000) throw std::runtime_error(previous + " was not sent before the next piece was asked for");
      co_await sleep(1ms);
    }
  }
  co_return "piece" + std::to_string(l->next++);
}

Task<> lockstep_upload(std::string& seen, std::string& answer) {
  Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
  const std::string url = "http://" + listener.local_address().to_string() + "/upload";
  auto serving = create_task(record_one_request(listener, seen));
  std::exception_ptr failure;
  try {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto lockstep = std::make_shared<Lockstep>(Lockstep{&seen});
      RequestOptions o{.body_stream = [lockstep] { return next_in_lockstep(lockstep); }};
      auto r = co_await s.put(url, std::move(o));
      answer = co_await r.read();
    });
  } catch (...) {
    failure = std::current_exception();
  }
  serving.cancel();  // no-op once it has answered
  try {
    co_await serving;
  } catch (const CancelledError&) {
  }
  co_await listener.close();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

TEST_CASE("each chunk is on the wire before the next one is asked for, framed as chunked encoding") {
  std::string seen, answer;
  run(lockstep_upload(seen, answer));
  CHECK(answer == "ok");
  CHECK(seen.starts_with("PUT /upload HTTP/1.1\r\n"));
  CHECK(seen.find("\r\nTransfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(seen.find("Content-Length") == std::string::npos);
  CHECK(seen.ends_with("\r\n\r\n6\r\npiece0\r\n6\r\npiece1\r\n6\r\npiece2\r\n0\r\n\r\n"));
}

TEST_CASE("a streamed body is not retried on a stale pooled connection") {
  using test_support::OneAnswerServer;
  run(test_support::with_one_answer_server(
      OneAnswerServer::Then::close_on_next_request, [](OneAnswerServer& server) -> Task<> {
        co_await with_session({}, [&](ClientSession& s) -> Task<> {
          CHECK(co_await (co_await s.get(server.base_url() + "/")).read() == "fine");
          auto chunks = std::make_shared<Chunks>();
          chunks->pieces = {"one", "two"};
          // PUT is idempotent: only the streamed body stops the retry.
          RequestOptions o{.body_stream = stream_of(chunks)};
          CHECK_THROWS_WITH_AS(co_await s.put(server.base_url() + "/", std::move(o)),
                               doctest::Contains("a streamed body is not sent twice"), ServerDisconnectedError);
          CHECK(server.connections_accepted() == 1);
        });
      }));
}

TEST_CASE("a producer's exception fails the request as is, and its connection is not reused") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      CHECK(co_await (co_await s.get(server.base_url() + "/small")).read() == "Hello, world!");
      auto chunks = std::make_shared<Chunks>();
      chunks->pieces = {"half", "never"};
      chunks->fail_at = 1;
      RequestOptions o{.body_stream = stream_of(chunks)};
      CHECK_THROWS_WITH_AS(co_await s.post(server.base_url() + "/echo", std::move(o)), "the producer broke",
                           std::runtime_error);
      // Half a chunked body went out on that connection: reusing it would
      // have the server read this request as body bytes.
      auto r = co_await s.get(server.base_url() + "/small");
      CHECK(co_await r.read() == "Hello, world!");
      CHECK_FALSE(r.timings().reused_connection);
      CHECK(server.connections_accepted() == 2);
    });
  });
}

TEST_CASE("total covers a slow producer; sock_read still covers the answer") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto slow = std::make_shared<Chunks>();
      slow->pieces = {"late"};
      slow->pause = 5s;
      RequestOptions total{.body_stream = stream_of(slow), .timeout = ClientTimeout{.total = Seconds(0.05)}};
      try {
        co_await s.post(server.base_url() + "/echo", std::move(total));
        FAIL("expected a timeout");
      } catch (const http::TimeoutError& e) {
        CHECK(e.kind() == TimeoutKind::total);
        CHECK(std::string(e.what()).find(server.base_url() + "/echo") != std::string::npos);
      }

      auto quick = std::make_shared<Chunks>();
      quick->pieces = {"x"};
      RequestOptions read{.body_stream = stream_of(quick), .timeout = ClientTimeout{.sock_read = Seconds(0.05)}};
      try {
        co_await s.post(server.base_url() + "/delay/2000", std::move(read));
        FAIL("expected a timeout");
      } catch (const http::TimeoutError& e) {
        CHECK(e.kind() == TimeoutKind::sock_read);
      }
      CHECK(quick->next == 1);  // the body was sent before the wait for the answer
    });
  });
}

TEST_CASE("a 302 after a streamed POST is followed as a GET without body") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto chunks = std::make_shared<Chunks>();
      chunks->pieces = {"form", "data"};
      RequestOptions o{.body_stream = stream_of(chunks)};
      auto r = co_await s.post(server.base_url() + "/redirect/1", std::move(o));
      CHECK(r.status() == 200);
      CHECK(r.method() == "GET");
      CHECK(co_await r.read() == "redirected\n");
      CHECK(r.history().size() == 1);
      CHECK(chunks->next == 2);
    });
  });
}

TEST_CASE("FormData encodes parts and files as multipart/form-data, names quoted as browsers quote them") {
  FormData form;
  form.add_field("title", "A report")
      .add_field("say \"hi\"\r\n", "x")
      .add_field("file", std::string("\0\x01 binary", 9), "re\"port.bin")
      .add_field("meta", "{\"a\":1}", std::nullopt, "application/json");
  CHECK(form.encode("BOUND") ==
        "--BOUND\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nA report\r\n"
        "--BOUND\r\nContent-Disposition: form-data; name=\"say %22hi%22%0D%0A\"\r\n\r\nx\r\n"
        "--BOUND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"re%22port.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n" +
            std::string("\0\x01 binary", 9) +
            "\r\n"
            "--BOUND\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n"
            "{\"a\":1}\r\n"
            "--BOUND--\r\n");
  CHECK(FormData().encode("B") == "--B--\r\n");
  CHECK_THROWS_AS(FormData().add_field("f", "v", "f.txt", "text/plain\r\nX-Injected: 1"), InvalidRequestError);
  const std::string a = FormData::random_boundary(), b = FormData::random_boundary();
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}

TEST_CASE("a multipart body reaches the server whole, under its own boundary; a second Content-Type is refused") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      FormData form;
      form.add_field("name", "coring").add_field("upload", pattern_bytes(100000), "data.bin");
      RequestOptions options{.multipart = form};
      auto r = co_await s.post(server.base_url() + "/echo", std::move(options));
      const std::string echoed = co_await r.text();
      const std::string marker = "Content-Type: multipart/form-data; boundary=";
      const std::size_t at = echoed.find(marker);
      REQUIRE(at != std::string::npos);
      const std::string boundary = echoed.substr(at + marker.size(), 32);
      CHECK(echoed.ends_with("\n\n" + form.encode(boundary)));
      CHECK(echoed.find("Content-Length: " + std::to_string(form.encode(boundary).size()) + "\n") != std::string::npos);

      RequestOptions typed{.headers = {{"Content-Type", "text/plain"}}, .multipart = form};
      CHECK_THROWS_AS(co_await s.post(server.base_url() + "/echo", std::move(typed)), InvalidRequestError);
      RequestOptions both{.json = "{}", .multipart = form};
      CHECK_THROWS_AS(co_await s.post(server.base_url() + "/echo", std::move(both)), InvalidRequestError);
    });
  });
}

TEST_CASE("a session's default Content-Type gives way to a multipart body's own") {
  with_server([](Server& server) -> Task<> {
    SessionOptions json_by_default;
    json_by_default.headers.add("Content-Type", "application/json");
    co_await with_session(std::move(json_by_default), [&](ClientSession& s) -> Task<> {
      FormData form;
      form.add_field("a", "1");
      RequestOptions options{.multipart = form};
      auto r = co_await s.post(server.base_url() + "/echo", std::move(options));
      const std::string echoed = co_await r.text();
      CHECK(echoed.find("Content-Type: multipart/form-data; boundary=") != std::string::npos);
      CHECK(echoed.find("application/json") == std::string::npos);
    });
  });
}

namespace {

/// Reads a request's head from `socket`, and nothing of its body; then
/// answers 413 at once and either keeps the connection open unread (as a
/// server that stops reading does) until the client closes it, or closes at
/// once (unread bytes make that a reset).
Task<> answer_early(Listener& listener, bool close_at_once) {
  Socket socket = co_await listener.accept();
  std::string head;
  std::byte buffer[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    const std::size_t n = co_await socket.recv(buffer);
    if (n == 0) co_return;
    head.append(reinterpret_cast<const char*>(buffer), n);
  }
  const std::string_view answer = "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo big\n";
  co_await socket.send_all(std::as_bytes(std::span(answer.data(), answer.size())));
  if (!close_at_once) {
    co_await sleep(300ms);  // the client has the answer; it must not wait for the send to end
    for (int i = 0; i < 1000; ++i) {  // then drain until it closes (bounded: 4 MB at most)
      if (co_await wait_for(socket.recv(buffer), 10s) == 0) break;
    }
  }
  co_await socket.close();
}

Task<> upload_against_early_answer(bool close_at_once) {
  Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
  auto serving = create_task(answer_early(listener, close_at_once));
  const std::string url = "http://127.0.0.1:" + std::to_string(listener.local_address().port()) + "/upload";
  co_await with_session({.timeout = {.total = Seconds(20)}}, [&](ClientSession& s) -> Task<> {
    const auto started = std::chrono::steady_clock::now();
    RequestOptions o{.body = std::string(32 << 20, 'x')};  // far more than the socket buffers hold
    auto r = co_await s.post(url, std::move(o));
    CHECK(r.status() == 413);
    CHECK(co_await r.text() == "too big\n");
    CHECK(std::chrono::steady_clock::now() - started < 10s);
  });
  co_await serving;
  co_await listener.close();
}

}  // namespace

TEST_CASE("an upload the server answers early (413) and stops reading returns that answer at once") {
  run(upload_against_early_answer(false));
}

TEST_CASE("an upload the server answers early and then closes on returns that answer, not a broken pipe") {
  run(upload_against_early_answer(true));
}

TEST_CASE("an upload whose answer is a 2xx sent early still goes out whole") {
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      for (int i = 0; i < 3; ++i) {
        RequestOptions o{.body = pattern_bytes(300000)};
        auto r = co_await s.post(server.base_url() + "/echo", std::move(o));
        const std::string echo = co_await r.read();
        CHECK(echo.ends_with(pattern_bytes(300000)));
        CHECK(r.timings().reused_connection == (i > 0));  // sent whole: the connection goes on
      }
    });
  });
}
