// Lesson 4: timeouts, at the session and at the request.
//
// A request with no deadline can wait forever on a server that never
// answers. aiohttp gives every session a ClientTimeout (5 minutes in all by
// default, as the book says); coring's ClientTimeout has the same fields and
// defaults, set on the session and overridden per request:
//
// 1. `total` bounds the whole request, body included; when it fires the
//    error says which timeout it was, and the connection is closed.
// 2. A request may carry its own ClientTimeout, replacing the session's.
// 3. `sock_read` bounds the gap between two reads, not the whole: a body
//    that trickles in steadily passes where a tight `total` fails.
// 4. `pool` (coring's addition) bounds the wait for a free connection alone,
//    so that a full pool is told apart from a slow server.
// 5. Outside HTTP, wait_for puts a deadline on any awaitable (asyncio.wait_for).
//
// The server is the embedded one, on its own thread: /delay/MS answers after
// MS milliseconds, /drip/N/MS sends N bytes, one every MS milliseconds.
//
//   build/examples/timeout_demo [--scale 0.1]
#include <CLI/CLI.hpp>
#include <chrono>
#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server_thread.hpp>
#include <cstdio>
#include <optional>

using namespace coring;
using namespace coring::http;
using namespace std::chrono;

namespace {

double scale = 1.0;
Seconds scaled(double seconds) { return Seconds(seconds * scale); }
std::string ms(double seconds) { return std::to_string(static_cast<long>(seconds * scale * 1000)); }

/// Fetches `path` and says what happened.
Task<> fetch(ClientSession& session, std::string label, std::string path, RequestOptions options) {
  const auto start = steady_clock::now();
  try {
    ClientResponse response = co_await session.get(path, std::move(options));
    std::string body = co_await response.text();
    std::printf("  %s: %d, %zu bytes after %.2f s\n", label.c_str(), response.status(), body.size(),
                duration<double>(steady_clock::now() - start).count() / scale);
  } catch (const http::TimeoutError& e) {
    std::printf("  %s: %s timeout after %.2f s\n", label.c_str(), to_string(e.kind()),
                duration<double>(steady_clock::now() - start).count() / scale);
  }
}

Task<int> slow_answer() {
  co_await sleep(duration_cast<nanoseconds>(scaled(2)));
  co_return 42;
}

Task<> lessons(std::string base_url) {
  SessionOptions options;
  options.base_url = base_url;
  options.timeout.total = scaled(1);  // the session's default for every request
  options.connector.limit = 1;        // one connection: lesson 4 needs a queue
  co_await async_with(ClientSession(options), [](ClientSession& session) -> Task<> {
    std::printf("1. the session's total timeout is 1 s\n");
    co_await fetch(session, "a 0.5 s answer", "/delay/" + ms(0.5), {});
    co_await fetch(session, "a 2 s answer", "/delay/" + ms(2), {});

    std::printf("2. a request's own timeout replaces the session's\n");
    RequestOptions patient;
    patient.timeout = ClientTimeout{.total = scaled(3)};
    co_await fetch(session, "a 2 s answer, total 3 s", "/delay/" + ms(2), std::move(patient));

    std::printf("3. sock_read bounds the gap between reads, total the whole\n");
    RequestOptions tight_total;
    tight_total.timeout = ClientTimeout{.total = scaled(1)};
    co_await fetch(session, "20 bytes at 0.1 s each, total 1 s", "/drip/20/" + ms(0.1), std::move(tight_total));
    RequestOptions gaps_only;
    gaps_only.timeout = ClientTimeout{.total = std::nullopt, .sock_read = scaled(0.5)};
    co_await fetch(session, "20 bytes at 0.1 s each, sock_read 0.5 s", "/drip/20/" + ms(0.1), std::move(gaps_only));
    RequestOptions stalled;
    stalled.timeout = ClientTimeout{.total = std::nullopt, .sock_read = scaled(0.5)};
    co_await fetch(session, "a 2 s silence, sock_read 0.5 s", "/delay/" + ms(2), std::move(stalled));

    std::printf("4. pool bounds the wait for a free connection (the pool has one)\n");
    RequestOptions hog;
    hog.timeout = ClientTimeout{.total = scaled(3)};
    RequestOptions queued;
    queued.timeout = ClientTimeout{.total = scaled(3), .pool = scaled(0.5)};
    co_await gather(fetch(session, "a 1.5 s answer holding the connection", "/delay/" + ms(1.5), std::move(hog)),
                    fetch(session, "a request queued behind it, pool 0.5 s", "/small", std::move(queued)));
  });

  std::printf("5. wait_for puts a deadline on any awaitable\n");
  try {
    const int answer = co_await wait_for(slow_answer(), duration_cast<nanoseconds>(scaled(0.5)));
    std::printf("  got %d\n", answer);
  } catch (const coring::TimeoutError&) {
    std::printf("  a 2 s computation, wait_for 0.5 s: TimeoutError, and the computation was cancelled\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ClientTimeout at the session and at the request, and wait_for"};
  app.add_option("--scale", scale, "multiply every delay and timeout by this")->check(CLI::Range(0.01, 10.0));
  CLI11_PARSE(app, argc, argv);
  ServerThread server(SocketAddress::parse("127.0.0.1:0"));
  try {
    run(lessons(server.base_url()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "timeout_demo: %s\n", e.what());
    return 1;
  }
  return 0;
}
