// gather: argument order, first failure, return_exceptions, cancellation.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <string>
#include <vector>

#include "../support/delayed.hpp"

using namespace coring;
using namespace std::chrono_literals;
using test_support::after;
using test_support::fail_after;

namespace {

Task<std::string> text(std::string s) { co_return s; }
Task<> sleep_then_nothing() { co_await sleep(1ms); }

// Records how a child ended, through a reference into the awaiter's frame:
// the case where asyncio's "let the others run on" would dangle in C++.
Task<int> slow_child(int& state) {
  state = 1;
  try {
    co_await sleep(1h);
  } catch (const CancelledError&) {
    state = 2;
    throw;
  }
  co_return 0;
}

}  // namespace

TEST_CASE("gather yields results in argument order, not completion order") {
  auto outer = []() -> Task<> {
    auto [a, b, c] = co_await gather(after(30ms, 1), after(10ms, 2), text("three"));
    CHECK(a == 1);
    CHECK(b == 2);
    CHECK(c == "three");
  };
  run(outer());
}

TEST_CASE("gather runs its children concurrently") {
  auto outer = []() -> Task<> {
    const auto start = EventLoop::clock::now();
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 50; ++i) tasks.push_back(after(20ms, i));
    auto values = co_await gather(std::move(tasks));
    CHECK(EventLoop::clock::now() - start < 500ms);  // not 50 x 20 ms
    REQUIRE(values.size() == 50);
    for (int i = 0; i < 50; ++i) CHECK(values[i] == i);
  };
  run(outer());
}

TEST_CASE("gather of void tasks gives monostate in tuples and nothing for ranges") {
  auto outer = []() -> Task<> {
    auto [x, y] = co_await gather(sleep_then_nothing(), after(1ms, 5));
    (void)x;
    CHECK(y == 5);
    std::vector<Task<>> tasks;
    tasks.push_back(sleep_then_nothing());
    tasks.push_back(sleep_then_nothing());
    co_await gather(std::move(tasks));
  };
  run(outer());
}

TEST_CASE("gather of nothing completes at once") {
  auto outer = []() -> Task<> {
    auto empty_tuple = co_await gather();
    static_assert(std::tuple_size_v<decltype(empty_tuple)> == 0);
    auto empty = co_await gather(std::vector<Task<int>>{});
    CHECK(empty.empty());
  };
  run(outer());
}

TEST_CASE("the first exception propagates after the other children are cancelled and finished") {
  auto outer = []() -> Task<> {
    int state = 0;
    try {
      co_await gather(slow_child(state), fail_after(5ms, "first"), fail_after(50ms, "second"));
      FAIL("gather should have thrown");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "first");
    }
    // By the time gather threw, the slow child had already unwound: nothing
    // still refers to `state`.
    CHECK(state == 2);
    CHECK(EventLoop::get().live_tasks() == 1);  // only this task
  };
  run(outer());
}

TEST_CASE("return_exceptions gives every result as a value or an exception") {
  auto outer = []() -> Task<> {
    auto [a, b, c] = co_await gather(return_exceptions, after(5ms, 1), fail_after(1ms, "bad"), text("ok"));
    CHECK(a.has_value());
    CHECK(a.value() == 1);
    CHECK_FALSE(b.has_value());
    CHECK_THROWS_WITH(b.value(), "bad");
    CHECK(c.value() == "ok");

    std::vector<Task<int>> tasks;
    tasks.push_back(after(2ms, 7));
    tasks.push_back([]() -> Task<int> {
      co_await sleep(1ms);
      throw std::logic_error("nope");
    }());
    auto results = co_await gather(return_exceptions, std::move(tasks));
    REQUIRE(results.size() == 2);
    CHECK(results[0].value() == 7);
    CHECK(results[1].error() != nullptr);
  };
  run(outer());
}

TEST_CASE("with return_exceptions a failure does not cancel the others") {
  auto outer = []() -> Task<> {
    int state = 0;
    auto [slow, failed] = co_await gather(return_exceptions, after(30ms, 9), fail_after(1ms, "x"));
    CHECK(slow.value() == 9);
    CHECK_FALSE(failed.has_value());
    (void)state;
  };
  run(outer());
}

TEST_CASE("cancelling the task awaiting gather cancels every child and waits for them") {
  auto outer = []() -> Task<> {
    int s1 = 0, s2 = 0;
    auto gathering = [](int& a, int& b) -> Task<> { co_await gather(slow_child(a), slow_child(b)); };
    auto handle = create_task(gathering(s1, s2));
    co_await sleep(5ms);
    handle.cancel();
    CHECK_THROWS_AS(co_await handle, CancelledError);
    CHECK(s1 == 2);
    CHECK(s2 == 2);
  };
  run(outer());
}
