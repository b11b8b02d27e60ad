// Cancellation and timeouts under load: 10,000 requests against a server
// with random delays, some cancelled at random moments, some under random
// wait_for or ClientTimeout limits. Each must end in its body or a typed
// error, and afterwards no task, timer or descriptor may be left. (Leaks:
// the ASan build of this test runs with LeakSanitizer.)
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/server.hpp>
#include <random>

#include "../support/fault_routes.hpp"

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;

namespace {

/// /r/DELAY_US/SIZE: SIZE bytes after DELAY_US microseconds.
Task<> delayed_answer(ServerExchange& ex) {
  const std::string& path = ex.request().path;
  const auto second_slash = path.find('/', 3);
  const auto delay = std::chrono::microseconds(std::stoul(path.substr(3, second_slash - 3)));
  const std::size_t size = std::stoul(path.substr(second_slash + 1));
  co_await sleep(delay);
  co_await ex.respond(200, std::string(size, 'r'));
}

enum class Ending { body, timeout, cancelled, client_error, other };

struct Tally {
  std::size_t counts[5] = {};
  std::size_t wrong_bodies = 0;
  void add(Ending e) { ++counts[static_cast<int>(e)]; }
  std::size_t operator[](Ending e) const { return counts[static_cast<int>(e)]; }
};

enum class Mode { plain, wait_for, client_timeout, cancelled };

Task<Ending> fetch(ClientSession& s, std::string url, std::size_t size, Mode mode, std::chrono::microseconds limit,
                   Tally& tally) {
  auto get_and_read = [](ClientSession& session, std::string u, RequestOptions o) -> Task<std::string> {
    auto response = co_await session.get(std::move(u), std::move(o));
    co_return co_await response.read();
  };
  RequestOptions options;
  if (mode == Mode::client_timeout) options.timeout = ClientTimeout{.total = limit};
  std::string body;
  if (mode == Mode::wait_for) {
    body = co_await wait_for(get_and_read(s, std::move(url), std::move(options)), limit);
  } else {
    body = co_await get_and_read(s, std::move(url), std::move(options));
  }
  if (body.size() != size) ++tally.wrong_bodies;
  co_return Ending::body;
}

/// Awaits a request's task and names how it ended.
Task<Ending> ending_of(TaskHandle<Ending>& handle) {
  try {
    co_return co_await handle;
  } catch (const CancelledError&) {
    co_return Ending::cancelled;
  } catch (const coring::TimeoutError&) {  // wait_for's, and http::TimeoutError
    co_return Ending::timeout;
  } catch (const ClientError& e) {
    MESSAGE("client error: " << std::string(e.what()));
    co_return Ending::client_error;
  } catch (const std::exception& e) {
    FAIL_CHECK("untyped error: " << std::string(e.what()));
    co_return Ending::other;
  }
}

Task<> cancel_after(TaskHandle<Ending>& handle, std::chrono::microseconds delay) {
  co_await sleep(delay);
  handle.cancel();
}

Task<> load(Tally& tally, TCPConnector connector) {
  Server server(SocketAddress::parse("127.0.0.1:0"), delayed_answer);
  auto serving = create_task(server.serve());
  constexpr int requests = 10'000;
  std::mt19937 random(2026);
  auto uniform = [&](unsigned lo, unsigned hi) { return std::uniform_int_distribution<unsigned>(lo, hi)(random); };
  SessionOptions options;  // not a temporary in the co_await: GCC 12 destroys those twice
  options.connector = std::move(connector);
  co_await async_with(ClientSession(std::move(options)), [&](ClientSession& s) -> Task<> {
    std::vector<TaskHandle<Ending>> handles;
    std::vector<TaskHandle<void>> cancellers;
    handles.reserve(requests);
    for (int i = 0; i < requests; ++i) {
      const auto delay = std::chrono::microseconds(uniform(0, 5000));
      const std::size_t size = uniform(0, 3) == 0 ? uniform(0, 200'000) : uniform(0, 2000);
      const auto mode = static_cast<Mode>(uniform(0, 3));
      // Before or after the answer, queueing included. Up to 0.6 s: answers
      // take up to ~0.3 s here, so many of each kind whatever the machine speed.
      const auto limit = std::chrono::microseconds(uniform(100, 600'000));
      const std::string url = server.base_url() + "/r/" + std::to_string(delay.count()) + "/" + std::to_string(size);
      handles.push_back(create_task(fetch(s, url, size, mode, limit, tally)));
      if (mode == Mode::cancelled) cancellers.push_back(create_task(cancel_after(handles.back(), limit)));
    }
    for (auto& handle : handles) tally.add(co_await ending_of(handle));
    for (auto& canceller : cancellers) co_await canceller;
  });
  serving.cancel();
  try {
    co_await serving;
  } catch (const CancelledError&) {
  }
  co_await server.close();
  // Only this task is left: no request, connection or server task, no timer.
  CHECK(EventLoop::get().live_tasks() == 1);
  CHECK(EventLoop::get().pending_timers() == 0);
}

}  // namespace

/// The requests' mix and what must hold after it: every request ends in
/// its own body (checked byte for byte) or a typed error, and nothing is left.
void check_load(TCPConnector connector) {
  const std::size_t fds_before = test_support::open_fd_count();
  Tally tally;
  run(load(tally, std::move(connector)));
  MESSAGE("bodies " << tally[Ending::body] << ", timeouts " << tally[Ending::timeout] << ", cancelled "
                    << tally[Ending::cancelled] << ", client errors " << tally[Ending::client_error]);
  CHECK(tally[Ending::body] + tally[Ending::timeout] + tally[Ending::cancelled] + tally[Ending::client_error] ==
        10'000);
  CHECK(tally[Ending::other] == 0);
  CHECK(tally.wrong_bodies == 0);
  // The mix really happened: each way of ending, many times.
  CHECK(tally[Ending::body] > 1000);
  CHECK(tally[Ending::timeout] > 500);
  CHECK(tally[Ending::cancelled] > 500);
  CHECK(tally[Ending::client_error] == 0);
  CHECK(test_support::open_fd_count() == fds_before);
}

TEST_CASE("10,000 requests with random delays, cancellations and timeouts each end cleanly, leaving nothing") {
  check_load({.limit = 100});
}

TEST_CASE("the same, pipelined 4 deep on 25 connections: a failure ahead never hands a request another's body") {
  check_load({.limit = 25, .pipelining = 4});
}
