// HTTP/1.1 pipelining (TCPConnector::pipelining): requests sent before the
// responses ahead of them have come, answered in order; what happens to the
// requests queued behind one that fails; what is never pipelined.
#include <doctest/doctest.h>

#include <cstdint>
#include <deque>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>

#include <string>
#include <vector>

#include "../support/fault_routes.hpp"
#include "../support/server_fixture.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;
using test_support::open_fd_count;
using test_support::with_server;
using test_support::with_session;

namespace {

SessionOptions pipelined(std::size_t depth, std::size_t connections) {
  SessionOptions options;
  options.connector.limit = connections;
  options.connector.pipelining = depth;
  options.timeout.total = Seconds(10);  // a bug here is a hang: fail instead
  return options;
}

std::size_t count_of(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
  return n;
}

/// The target of each request head in `text` ("GET /a HTTP/1.1" -> "/a").
std::vector<std::string> targets_in(const std::string& text) {
  std::vector<std::string> targets;
  for (auto pos = text.find("HTTP/1.1\r\n"); pos != std::string::npos; pos = text.find("HTTP/1.1\r\n", pos + 1)) {
    const auto line = text.rfind("\r\n", pos);
    const auto start = line == std::string::npos ? 0 : line + 2;
    const auto space = text.find(' ', start);
    targets.push_back(text.substr(space + 1, pos - space - 2));
  }
  return targets;
}

/// A raw server for one connection that answers nothing until `wanted`
/// request heads have arrived, then answers all of them in one send, each
/// with its own target as the body. A client that does not pipeline never
/// gets an answer (its total timeout fails the test).
Task<> answer_in_one_batch(Listener& listener, std::size_t wanted, std::string& seen) {
  Socket peer = co_await listener.accept();
  char buffer[4096];
  for (int reads = 0; reads < 1000 && count_of(seen, "\r\n\r\n") < wanted; ++reads) {
    const std::size_t n = co_await peer.recv(std::as_writable_bytes(std::span(buffer)));
    if (n == 0) break;
    seen.append(buffer, n);
  }
  if (count_of(seen, "\r\n\r\n") < wanted) {  // the client gave up first
    co_await peer.close();
    co_return;
  }
  std::string answers;
  for (const std::string& target : targets_in(seen))
    answers += "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(target.size()) + "\r\n\r\n" + target;
  co_await peer.send_all(std::as_bytes(std::span(answers.data(), answers.size())));
  // Keeps the connection open until the client is done with it.
  co_await peer.recv(std::as_writable_bytes(std::span(buffer)));
  co_await peer.close();
}

Task<std::string> fetch(ClientSession& s, std::string url) {
  auto response = co_await s.get(std::move(url));
  REQUIRE(response.status() == 200);
  co_return co_await response.read();
}

/// Ends a raw server's accepting task, then its listener.
Task<> stop_serving(TaskHandle<void>& serving, Listener& listener) {
  serving.cancel();
  try {
    co_await serving;
  } catch (const CancelledError&) {
  }
  co_await listener.close();
}

/// `n` GETs of `url` at once; each must answer "ok".
Task<> fetch_ok_at_once(ClientSession& s, const std::string& url, int n) {
  std::vector<Task<std::string>> all;
  for (int i = 0; i < n; ++i) all.push_back(fetch(s, url));
  for (const auto& body : co_await gather(std::move(all))) CHECK(body == "ok");
}

/// The status of a response that is then dropped without its body read.
Task<std::string> status_then_drop(ClientSession& s, std::string method, std::string url) {
  auto response = co_await s.request(std::move(method), std::move(url));
  co_return std::to_string(response.status());
}

/// Runs `ahead` with three GETs of base/echo/i queued behind it; checks that
/// each of the three got its own answer, and returns what `ahead` gave.
Task<std::string> with_three_behind(ClientSession& s, std::string base, Task<std::string> ahead) {
  std::vector<Task<std::string>> all;
  all.push_back(std::move(ahead));
  for (int i = 0; i < 3; ++i) all.push_back(fetch(s, base + "/echo/" + std::to_string(i)));
  const auto bodies = co_await gather(std::move(all));
  for (int i = 0; i < 3; ++i) CHECK(bodies[i + 1].starts_with("GET /echo/" + std::to_string(i) + "\n"));
  co_return bodies[0];
}

}  // namespace

TEST_CASE("pipelined requests go out before their answers, and each gets its own response") {
  std::string seen;
  std::vector<std::string> bodies;
  run([&]() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const std::string base = "http://" + listener.local_address().to_string();
    auto serving = create_task(answer_in_one_batch(listener, 3, seen));
    co_await with_session(pipelined(3, 1), [&](ClientSession& s) -> Task<> {
      std::vector<Task<std::string>> fetches;
      for (const char* path : {"/a", "/b", "/c"}) fetches.push_back(fetch(s, base + path));
      bodies = co_await gather(std::move(fetches));
    });
    co_await serving;
    co_await listener.close();
  }());
  CHECK(count_of(seen, "\r\n\r\n") == 3);  // all three were in before the first answer
  CHECK(bodies == std::vector<std::string>{"/a", "/b", "/c"});
}

TEST_CASE("non-idempotent requests are never pipelined, before or behind others") {
  for (const bool post_first : {true, false}) {
    CAPTURE(post_first);
    with_server([&](Server& server) -> Task<> {
      co_await with_session(pipelined(4, 1), [&](ClientSession& s) -> Task<> {
        // The server answers one request at a time; a POST pipelined with a
        // GET would share its connection, which accepted connections show.
        const std::string url = server.base_url() + "/echo";
        auto post = [&]() -> Task<std::string> {
          auto r = co_await s.post(url);
          co_return co_await r.read();
        };
        std::vector<Task<std::string>> both;
        if (post_first) both.push_back(post());
        both.push_back(fetch(s, url));
        both.push_back(fetch(s, url));
        if (!post_first) both.push_back(post());
        auto bodies = co_await gather(std::move(both));
        CHECK(bodies[post_first ? 0 : 2].starts_with("POST /echo"));
        CHECK(bodies[post_first ? 1 : 0].starts_with("GET /echo"));
      });
    });
  }
  // Direct evidence: a server that waits for two request heads before
  // answering gets a POST alone; the client's total timeout then ends it.
  std::string seen;
  run([&]() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const std::string base = "http://" + listener.local_address().to_string();
    auto serving = create_task(answer_in_one_batch(listener, 2, seen));
    SessionOptions options = pipelined(4, 1);
    options.timeout.total = Seconds(0.3);
    co_await with_session(options, [&](ClientSession& s) -> Task<> {
      auto post = [&]() -> Task<> { co_await s.post(base + "/p"); };
      auto get = [&]() -> Task<> { co_await s.get(base + "/g"); };
      std::vector<Task<>> both;
      both.push_back(post());
      both.push_back(get());
      auto results = co_await gather(return_exceptions, std::move(both));
      CHECK(results.size() == 2);
    });
    co_await stop_serving(serving, listener);
  }());
  CHECK(count_of(seen, "\r\n\r\n") == 1);
  CHECK(targets_in(seen) == std::vector<std::string>{"/p"});
}

TEST_CASE("a burst over two pipelined connections: every response answers its own request") {
  with_server([&](Server& server) -> Task<> {
    co_await with_session(pipelined(8, 2), [&](ClientSession& s) -> Task<> {
      std::vector<Task<std::string>> fetches;
      for (int i = 0; i < 300; ++i) fetches.push_back(fetch(s, server.base_url() + "/echo/" + std::to_string(i)));
      const auto bodies = co_await gather(std::move(fetches));
      for (int i = 0; i < 300; ++i) CHECK(bodies[i].starts_with("GET /echo/" + std::to_string(i) + "\n"));
      CHECK(server.connections_accepted() == 2);
    });
  });
}

TEST_CASE("a failure in the pipeline sends the requests behind it again, elsewhere") {
  const std::size_t fds_before = open_fd_count();
  SUBCASE("a request ahead times out") {
    with_server([&](Server& server) -> Task<> {
      co_await with_session(pipelined(4, 1), [&](ClientSession& s) -> Task<> {
        auto slow = [&]() -> Task<std::string> {
          try {
            co_await wait_for(fetch(s, server.base_url() + "/delay/2000"), 100ms);
          } catch (const coring::TimeoutError&) {
            co_return "timed out";
          }
          co_return "answered";
        };
        CHECK(co_await with_three_behind(s, server.base_url(), slow()) == "timed out");
        // Each request sent again goes on a new connection of its own,
        // where no stale connection or failure ahead can meet it.
        CHECK(server.connections_accepted() == 4);
      });
    });
  }
  SUBCASE("a response ahead is dropped unread") {
    with_server([&](Server& server) -> Task<> {
      co_await with_session(pipelined(4, 1), [&](ClientSession& s) -> Task<> {
        auto ahead = status_then_drop(s, "GET", server.base_url() + "/bytes/100000");  // most of it unread
        CHECK(co_await with_three_behind(s, server.base_url(), std::move(ahead)) == "200");
      });
    });
  }
  SUBCASE("the server closes after a response ahead, or at random") {
    with_server(
        [&](Server& server) -> Task<> {
          co_await with_session(pipelined(4, 2), [&](ClientSession& s) -> Task<> {
            std::vector<Task<std::string>> all;
            for (int i = 0; i < 200; ++i) all.push_back(fetch(s, server.base_url() + "/flaky"));
            const auto bodies = co_await gather(std::move(all));
            for (const auto& body : bodies) CHECK(body == "ok");
            CHECK(server.connections_accepted() > 2);
          });
        },
        test_support::fault_routes());
  }
  CHECK(open_fd_count() == fds_before);
}

namespace {

/// What a connection of the raw server below saw.
struct Seen {
  std::size_t heads = 0;            // request heads received in all
  std::size_t most_unanswered = 0;  // the most heads unanswered at once
};

/// A raw server's connection that answers "ok" to its first `limit`
/// requests, the last of them with "Connection: close" (as nginx's
/// keepalive_requests does), each read's answers after `delay` (so that
/// pipelined requests pile up).
Task<> answer_up_to(Socket peer, std::size_t limit, std::chrono::milliseconds delay, Seen& seen) {
  std::string received;
  std::size_t answered = 0;
  char buffer[4096];
  for (int reads = 0; reads < 1000; ++reads) {
    const std::size_t n = co_await peer.recv(std::as_writable_bytes(std::span(buffer)));
    if (n == 0) break;
    received.append(buffer, n);
    if (delay.count() > 0) co_await sleep(delay);
    seen.heads = count_of(received, "\r\n\r\n");
    seen.most_unanswered = std::max(seen.most_unanswered, seen.heads - answered);
    while (answered < limit && answered < seen.heads) {
      ++answered;
      const std::string answer = answered == limit
                                     ? "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
                                     : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      co_await peer.send_all(std::as_bytes(std::span(answer.data(), answer.size())));
    }
    if (answered == limit) peer.shutdown_write();  // and read on until the client closes: no reset
  }
  co_await peer.close();
}

/// Accepts for ever: the first connection takes `first_limit` requests,
/// the later ones `later_limit`. `seen` has one entry per connection, in
/// accept order (a deque: the entries stay where they are as it grows).
Task<> accept_all(Listener& listener, std::size_t first_limit, std::size_t later_limit,
                  std::chrono::milliseconds delay, std::deque<Seen>& seen) {
  co_await async_with(TaskGroup{}, [&](TaskGroup& group) -> Task<> {
    for (;;) {
      Socket peer = co_await listener.accept();
      const std::size_t limit = seen.empty() ? first_limit : later_limit;
      seen.emplace_back();
      group.create_task(answer_up_to(std::move(peer), limit, delay, seen.back()));
    }
  });
}

}  // namespace

TEST_CASE("a host that closes after N requests gets no more than N pipelined on a connection, once seen") {
  std::deque<Seen> seen;
  run([&]() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const std::string url = "http://" + listener.local_address().to_string() + "/";
    auto serving = create_task(accept_all(listener, 2, 2, std::chrono::milliseconds(0), seen));
    co_await with_session(pipelined(4, 1), [&](ClientSession& s) -> Task<> {
      co_await fetch_ok_at_once(s, url, 30);
    });
    co_await stop_serving(serving, listener);
  }());
  REQUIRE(seen.size() >= 15);
  CHECK(seen[0].heads > 2);  // before the first close, the client could not know
  std::size_t over = 0;
  for (std::size_t i = 1; i < seen.size(); ++i) over += seen[i].heads > 2 ? 1 : 0;
  CHECK(over == 0);
}

TEST_CASE("a learned per-host limit is forgotten once a connection stays open past it") {
  std::deque<Seen> seen;
  std::size_t most_unanswered = 0;
  run([&]() -> Task<> {
    Listener listener = Listener::bind(SocketAddress::parse("127.0.0.1:0"));
    const std::string url = "http://" + listener.local_address().to_string() + "/";
    // The first connection closes after two; the later ones never.
    auto serving = create_task(accept_all(listener, 2, SIZE_MAX, std::chrono::milliseconds(2), seen));
    co_await with_session(pipelined(4, 1), [&](ClientSession& s) -> Task<> {
      co_await fetch_ok_at_once(s, url, 8);  // the first connection's close teaches "2"
      // One at a time: the connection stays open past 2, again and again.
      for (int i = 0; i < 6; ++i) CHECK(co_await fetch(s, url) == "ok");
      for (Seen& connection : seen) connection.most_unanswered = 0;
      co_await fetch_ok_at_once(s, url, 20);
      for (const Seen& connection : seen) most_unanswered = std::max(most_unanswered, connection.most_unanswered);
    });
    co_await stop_serving(serving, listener);
  }());
  CHECK(most_unanswered > 2);  // pipelined deeper than the limit once learned
}

TEST_CASE("a request that cannot be pipelined is not starved by a stream of pipelined ones") {
  with_server([&](Server& server) -> Task<> {
    co_await with_session(pipelined(4, 1), [&](ClientSession& s) -> Task<> {
      // 40 GETs keep the one connection's pipeline full; the POST, queued
      // behind the first of them, needs the connection to itself.
      const std::string url = server.base_url() + "/echo";
      int finished = 0;
      int post_finished_as = -1;
      auto post = [&]() -> Task<std::string> {
        auto r = co_await s.post(url);
        std::string body = co_await r.read();
        post_finished_as = finished++;
        co_return body;
      };
      auto get = [&]() -> Task<std::string> {
        std::string body = co_await fetch(s, url);
        ++finished;
        co_return body;
      };
      std::vector<Task<std::string>> all;
      for (int i = 0; i < 40; ++i) {
        if (i == 5) all.push_back(post());
        all.push_back(get());
      }
      const auto bodies = co_await gather(std::move(all));
      CHECK(bodies[5].starts_with("POST /echo"));
      // Its turn comes once the pipeline ahead of it drains: not after
      // all the GETs that were queued behind it.
      CHECK(post_finished_as >= 0);
      CHECK(post_finished_as < 10);
      CHECK(server.connections_accepted() == 1);
    });
  });
}

TEST_CASE("a response dropped once its whole body is in leaves the connection and its pipeline going") {
  with_server([&](Server& server) -> Task<> {
    co_await with_session(pipelined(4, 1), [&](ClientSession& s) -> Task<> {
      auto ahead = status_then_drop(s, "HEAD", server.base_url() + "/small");  // no body: complete with its head
      CHECK(co_await with_three_behind(s, server.base_url(), std::move(ahead)) == "200");
      CHECK(server.connections_accepted() == 1);
    });
  });
}
