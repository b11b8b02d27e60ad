// wait_for, wait and as_completed.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <string>
#include <vector>

#include "../support/delayed.hpp"

using namespace coring;
using namespace std::chrono_literals;
using test_support::after;

namespace {
Task<int> fail_after(std::chrono::milliseconds delay) {
  co_await sleep(delay);
  throw std::runtime_error("failed");
}
Task<int> observed_sleeper(bool& cancelled, bool& finished) {
  try {
    co_await sleep(1h);
  } catch (const CancelledError&) {
    cancelled = true;
    finished = true;
    throw;
  }
  co_return 0;
}
}  // namespace

TEST_CASE("wait_for returns the value when the work finishes in time") {
  auto outer = []() -> Task<int> { co_return co_await wait_for(after(5ms, 3), 1s); };
  CHECK(run(outer()) == 3);
}

TEST_CASE("wait_for raises TimeoutError and cancels the inner work before raising") {
  auto outer = []() -> Task<> {
    bool cancelled = false, finished = false;
    const auto start = EventLoop::clock::now();
    CHECK_THROWS_AS(co_await wait_for(observed_sleeper(cancelled, finished), 20ms), TimeoutError);
    CHECK(EventLoop::clock::now() - start >= 20ms);
    CHECK(EventLoop::clock::now() - start < 1s);
    CHECK(cancelled);
    CHECK(finished);  // already unwound when TimeoutError reached us
    // No stray cancellation is left for the next await.
    co_await sleep(1ms);
  };
  run(outer());
}

TEST_CASE("wait_for on a task handle cancels that task on timeout") {
  auto outer = []() -> Task<> {
    bool cancelled = false, finished = false;
    auto handle = create_task(observed_sleeper(cancelled, finished));
    CHECK_THROWS_AS(co_await wait_for(handle, 10ms), TimeoutError);
    CHECK(handle.cancelled());
  };
  run(outer());
}

TEST_CASE("wait_for of a sleep that outlasts it times out") {
  auto outer = []() -> Task<> { CHECK_THROWS_AS(co_await wait_for(sleep(1h), 5ms), TimeoutError); };
  run(outer());
}

TEST_CASE("an outside cancellation inside wait_for stays a CancelledError") {
  auto outer = []() -> Task<> {
    auto inner = []() -> Task<> { co_await wait_for(sleep(1h), 1h); };
    auto handle = create_task(inner());
    co_await sleep(2ms);
    handle.cancel();
    CHECK_THROWS_AS(co_await handle, CancelledError);
  };
  run(outer());
}

TEST_CASE("nested wait_for: the inner deadline fires first") {
  auto outer = []() -> Task<> {
    auto inner = []() -> Task<> { co_await wait_for(sleep(1h), 5ms); };
    CHECK_THROWS_AS(co_await wait_for(inner(), 1s), TimeoutError);
    co_await sleep(1ms);  // and nothing stray is pending
  };
  run(outer());
}

TEST_CASE("a TimeoutScope at a time point fires then: at once when it has passed, not a duration later") {
  auto outer = []() -> Task<> {
    const auto start = EventLoop::clock::now();
    for (const auto at : {start - 1s, start + 20ms}) {
      detail::TimeoutScope scope(at);
      bool timed_out = false;
      try {
        co_await sleep(1h);
      } catch (const CancelledError&) {
        timed_out = scope.caused_cancellation();
      }
      CHECK(timed_out);
      CHECK(EventLoop::clock::now() >= at);
    }
    CHECK(EventLoop::clock::now() - start < 10s);
    co_await sleep(1ms);  // and nothing stray is pending
  };
  run(outer());
}

TEST_CASE("wait with AllCompleted returns every task as done") {
  auto outer = []() -> Task<> {
    std::vector<TaskHandle<int>> tasks;
    tasks.push_back(create_task(after(5ms, 1)));
    tasks.push_back(create_task(fail_after(2ms)));
    auto [done, pending] = co_await wait(std::move(tasks));
    CHECK(done.size() == 2);
    CHECK(pending.empty());
    CHECK(done[0].result() == 1);
    CHECK_THROWS(done[1].result());
  };
  run(outer());
}

TEST_CASE("wait with FirstCompleted returns as soon as one finishes, the rest still running") {
  auto outer = []() -> Task<> {
    std::vector<TaskHandle<int>> tasks;
    tasks.push_back(create_task(after(200ms, 1)));
    tasks.push_back(create_task(after(2ms, 2)));
    auto [done, pending] = co_await wait(std::move(tasks), ReturnWhen::first_completed);
    REQUIRE(done.size() == 1);
    CHECK(done[0].result() == 2);
    REQUIRE(pending.size() == 1);
    CHECK_FALSE(pending[0].done());
    pending[0].cancel();
  };
  run(outer());
}

TEST_CASE("wait with FirstException returns at the first failure") {
  auto outer = []() -> Task<> {
    std::vector<TaskHandle<int>> tasks;
    tasks.push_back(create_task(after(200ms, 1)));
    tasks.push_back(create_task(fail_after(2ms)));
    tasks.push_back(create_task(after(1ms, 3)));
    auto [done, pending] = co_await wait(std::move(tasks), ReturnWhen::first_exception);
    REQUIRE(done.size() == 2);
    CHECK_THROWS_WITH(done[0].result(), "failed");  // done keeps argument order
    CHECK(done[1].result() == 3);
    CHECK(pending.size() == 1);
    for (auto& p : pending) p.cancel();
  };
  run(outer());
}

TEST_CASE("wait with a timeout returns what is done when the time is up, without raising") {
  auto outer = []() -> Task<> {
    std::vector<TaskHandle<int>> tasks;
    tasks.push_back(create_task(after(1ms, 1)));
    tasks.push_back(create_task(after(1h, 2)));
    auto [done, pending] = co_await wait(std::move(tasks), ReturnWhen::all_completed, 20ms);
    CHECK(done.size() == 1);
    CHECK(pending.size() == 1);
    for (auto& p : pending) p.cancel();
  };
  run(outer());
}

TEST_CASE("as_completed yields results in completion order") {
  auto outer = []() -> Task<> {
    std::vector<Task<int>> tasks;
    tasks.push_back(after(30ms, 30));
    tasks.push_back(after(10ms, 10));
    tasks.push_back(after(20ms, 20));
    auto results = as_completed(std::move(tasks));
    std::vector<int> order;
    while (!results.empty()) order.push_back(co_await results.next());
    CHECK(order == std::vector<int>{10, 20, 30});
    CHECK_THROWS_AS(co_await results.next(), InvalidStateError);
  };
  run(outer());
}

TEST_CASE("as_completed rethrows a task's exception at its turn") {
  auto outer = []() -> Task<> {
    std::vector<Task<int>> tasks;
    tasks.push_back(after(20ms, 1));
    tasks.push_back(fail_after(5ms));
    auto results = as_completed(std::move(tasks));
    CHECK_THROWS_WITH(co_await results.next(), "failed");
    CHECK(co_await results.next() == 1);
  };
  run(outer());
}

TEST_CASE("dropping as_completed early cancels the unfinished tasks") {
  auto outer = []() -> Task<> {
    bool cancelled = false, finished = false;
    {
      std::vector<Task<int>> tasks;
      tasks.push_back(after(1ms, 1));
      tasks.push_back(observed_sleeper(cancelled, finished));
      auto results = as_completed(std::move(tasks));
      CHECK(co_await results.next() == 1);
    }
    co_await sleep(1ms);
    CHECK(cancelled);
  };
  run(outer());
}

TEST_CASE("wait_for in a task that caught an earlier cancellation still raises TimeoutError") {
  auto outer = []() -> Task<> {
    auto worker = []() -> Task<int> {
      try {
        co_await sleep(1h);
      } catch (const CancelledError&) {
      }
      // cleanup goes on, with its own deadline
      int outcome = 0;
      try {
        co_await wait_for(sleep(1h), 5ms);
      } catch (const TimeoutError&) {
        outcome = 1;
      } catch (const CancelledError&) {
        outcome = 2;
      }
      co_await sleep(1ms);  // no stray cancellation pending
      co_return outcome;
    };
    auto h = create_task(worker());
    co_await sleep(1ms);
    h.cancel();
    CHECK(co_await h == 1);
  };
  run(outer());
}

TEST_CASE("a huge timeout means no timeout, not one in the past") {
  auto outer = []() -> Task<> {
    CHECK(co_await wait_for(after(2ms, 5), std::chrono::nanoseconds::max()) == 5);
    auto h = create_task([]() -> Task<> { co_await sleep(std::chrono::nanoseconds::max()); }());
    co_await sleep(2ms);
    CHECK_FALSE(h.done());
    h.cancel();
  };
  run(outer());
}
