// Lesson 3: many web requests, one session (the book's aiohttp example).
//
// A ClientSession is like a browser window: it keeps a pool of keep-alive
// connections, so a thousand requests to one server do not open a thousand
// connections. Awaiting each request before starting the next makes the
// program wait for every round trip in turn; handing all of them to gather
// lets them overlap, limited only by the pool (100 connections, aiohttp's
// default). The session is opened and closed with async_with, the C++ form
// of `async with aiohttp.ClientSession() as session`, so its connections
// are always closed.
//
// The server is coring's own, started on its own thread with its own event
// loop (one loop per thread). It answers after --delay-ms (2 ms), standing in
// for the network round trip of the book's example.com: concurrency pays off
// by overlapping waits. With --delay-ms 0 there is nothing to wait for on
// loopback, and the sequential run can even win: concurrency is not speed,
// it is not sitting idle. --url fetches another http:// URL instead.
//
//   build/examples/fetch_demo [--count 1000] [--delay-ms 2] [--url http://127.0.0.1:8080/]
#include <CLI/CLI.hpp>
#include <chrono>
#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server_thread.hpp>
#include <cstdio>
#include <optional>

using namespace coring;
using namespace coring::http;
using Clock = std::chrono::steady_clock;

namespace {

Task<int> fetch_status(ClientSession& session, const std::string& url) {
  ClientResponse response = co_await session.get(url);
  co_await response.read();
  co_return response.status();
}

Task<> compare(std::string url, int count) {
  co_await async_with(ClientSession(), [&](ClientSession& session) -> Task<> {
    std::printf("fetching %s %d times through one ClientSession\n", url.c_str(), count);

    auto start = Clock::now();
    int ok = 0;
    for (int i = 0; i < count; ++i) ok += co_await fetch_status(session, url) == 200;  // one at a time
    const double sequential = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("sequential (await each request before the next): %.3f s, %d responses with status 200\n",
                sequential, ok);

    start = Clock::now();
    std::vector<Task<int>> requests;
    for (int i = 0; i < count; ++i) requests.push_back(fetch_status(session, url));
    const auto statuses = co_await gather(std::move(requests));  // all at once
    const double concurrent = std::chrono::duration<double>(Clock::now() - start).count();
    ok = static_cast<int>(std::count(statuses.begin(), statuses.end(), 200));
    std::printf("concurrent (gather, up to 100 connections): %.3f s, %d responses with status 200\n", concurrent, ok);
    std::printf("ratio: %.1fx\n", sequential / concurrent);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fetch one URL many times, sequentially and with gather"};
  int count = 1000;
  int delay_ms = 2;
  std::string url;
  app.add_option("--count", count, "requests per run")->check(CLI::Range(1, 1000000));
  app.add_option("--delay-ms", delay_ms, "the embedded server's delay per response")->check(CLI::Range(0, 10000));
  app.add_option("--url", url, "an http:// URL to fetch instead of the embedded server");
  CLI11_PARSE(app, argc, argv);

  // The embedded server: its own thread, its own loop (one loop per thread).
  std::optional<ServerThread> server;
  if (url.empty()) {
    server.emplace(SocketAddress::parse("127.0.0.1:0"));
    url = server->base_url() + (delay_ms > 0 ? "/delay/" + std::to_string(delay_ms) : "/small");
  }

  int code = 0;
  try {
    run(compare(url, count));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fetch_demo: %s\n", e.what());
    code = 1;
  }
  return code;
}
