// Task<T>, create_task, TaskHandle and run(): values, exceptions, lifetimes.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <memory>
#include <string>
#include <vector>

using namespace coring;

namespace {

Task<int> forty_two() { co_return 42; }
Task<int> add(int a, int b) { co_return a + b; }
Task<> fail(std::string message) {
  throw std::runtime_error(message);
  co_return;
}
Task<int> chain(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await chain(depth - 1);
}
Task<int> chain_with_sleep_at_the_bottom(int depth) {
  if (depth == 0) {
    co_await sleep(std::chrono::milliseconds(1));
    co_return 0;
  }
  co_return 1 + co_await chain_with_sleep_at_the_bottom(depth - 1);
}
Task<std::unique_ptr<int>> boxed(int v) { co_return std::make_unique<int>(v); }

}  // namespace

TEST_CASE("run returns the value of the task") { CHECK(run(forty_two()) == 42); }

TEST_CASE("awaiting a task runs it inline and yields its value") {
  auto outer = []() -> Task<int> { co_return co_await add(1, 2) + co_await forty_two(); };
  CHECK(run(outer()) == 45);
}

TEST_CASE("an exception propagates to the awaiter and out of run") {
  auto outer = []() -> Task<std::string> {
    try {
      co_await fail("boom");
    } catch (const std::runtime_error& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not reached";
  };
  CHECK(run(outer()) == "caught boom");
  CHECK_THROWS_WITH_AS(run(fail("out")), "out", std::runtime_error);
}

TEST_CASE("a long chain of sequential awaits runs in constant stack") {
  // A million synchronous completions in a row: without symmetric transfer
  // each would nest a resume() on the stack and overflow it.
  auto loop_of_awaits = []() -> Task<long> {
    long sum = 0;
    for (int i = 0; i < 1'000'000; ++i) sum += co_await add(i, 1) - i;
    co_return sum;
  };
  CHECK(run(loop_of_awaits()) == 1'000'000);
}

TEST_CASE("a deep recursive await chain completes") { CHECK(run(chain(10'000)) == 10'000); }

TEST_CASE("a deep chain that suspends at the bottom resumes all the way up") {
  CHECK(run(chain_with_sleep_at_the_bottom(10'000)) == 10'000);
}

TEST_CASE("move-only results pass through tasks and handles") {
  auto outer = []() -> Task<int> {
    auto p = co_await boxed(7);
    auto h = create_task(boxed(8));
    auto q = co_await std::move(h);
    co_return *p + *q;
  };
  CHECK(run(outer()) == 15);
}

TEST_CASE("create_task runs concurrently and its handle yields the result") {
  auto outer = []() -> Task<int> {
    auto h = create_task(add(20, 22));
    CHECK_FALSE(h.done());  // its first step runs on the next pass
    int v = co_await h;
    CHECK(h.done());
    CHECK(co_await h == 42);  // awaiting a finished handle again gives the same result
    CHECK(h.result() == 42);
    co_return v;
  };
  CHECK(run(outer()) == 42);
}

TEST_CASE("moving the result out twice is an InvalidStateError") {
  auto outer = []() -> Task<> {
    auto h = create_task(boxed(1));
    auto first = co_await std::move(h);
    CHECK(*first == 1);
    CHECK_THROWS_AS(co_await std::move(h), InvalidStateError);
  };
  run(outer());
}

TEST_CASE("result of an unfinished task is an InvalidStateError") {
  auto outer = []() -> Task<> {
    auto h = create_task(forty_two());
    CHECK_THROWS_AS(h.result(), InvalidStateError);
    co_await h;
  };
  run(outer());
}

TEST_CASE("a task's exception reaches whoever awaits its handle, every time") {
  auto outer = []() -> Task<> {
    auto h = create_task(fail("child failed"));
    CHECK_THROWS_WITH(co_await h, "child failed");
    CHECK_THROWS_WITH(co_await h, "child failed");
    CHECK_THROWS_WITH(h.result(), "child failed");
  };
  run(outer());
}

TEST_CASE("a dropped handle detaches the task, which still runs to its end") {
  static int finished = 0;
  finished = 0;
  auto child = []() -> Task<> {
    co_await sleep(std::chrono::milliseconds(1));
    ++finished;
  };
  auto outer = [child]() -> Task<> {
    { auto dropped = create_task(child()); }
    co_await sleep(std::chrono::milliseconds(20));
    CHECK(finished == 1);
  };
  run(outer());
  CHECK(finished == 1);
}

TEST_CASE("tasks still running when run() ends are cancelled and finished") {
  static bool saw_cancel = false;
  static bool unwound = false;
  saw_cancel = unwound = false;
  auto forever = []() -> Task<> {
    struct Mark {
      ~Mark() { unwound = true; }
    } mark;
    try {
      co_await sleep(std::chrono::hours(1));
    } catch (const CancelledError&) {
      saw_cancel = true;
      throw;
    }
  };
  auto outer = [forever]() -> Task<int> {
    create_task(forever());
    co_await sleep(std::chrono::milliseconds(0));
    co_return 1;
  };
  CHECK(run(outer()) == 1);
  CHECK(saw_cancel);
  CHECK(unwound);
}

TEST_CASE("run inside a running loop is a RuntimeError") {
  auto outer = []() -> Task<> {
    CHECK_THROWS_AS(run(forty_two()), RuntimeError);
    co_return;
  };
  run(outer());
}

TEST_CASE("run_until_complete inside a task of the same loop is a RuntimeError") {
  auto outer = []() -> Task<> {
    CHECK_THROWS_AS(EventLoop::get().run_until_complete(forty_two()), RuntimeError);
    co_return;
  };
  run(outer());
}

TEST_CASE("create_task without a loop is a RuntimeError") {
  CHECK_THROWS_AS(create_task(forty_two()), RuntimeError);
}

TEST_CASE("one loop can run several tasks in turn") {
  EventLoop loop;
  CHECK(loop.run_until_complete(forty_two()) == 42);
  CHECK(loop.run_until_complete(add(1, 1)) == 2);
  CHECK(loop.live_tasks() == 0);
}

namespace {
Task<const void*> where_am_i() {
  int local = 0;
  co_return static_cast<const void*>(&local);  // an address inside this frame
}
}  // namespace

TEST_CASE("frames are reused from the thread's cache (not under ASan, which must see every free)") {
  coring::run([]() -> Task<> {
    const auto* first = static_cast<const char*>(co_await where_am_i());
    const auto* second = static_cast<const char*>(co_await where_am_i());
#if defined(__SANITIZE_ADDRESS__)
    CHECK(first != nullptr);
#else
    CHECK(first == second);  // the same frame memory, reused
#endif
    // Frames of every size class and beyond come and go without harm.
    for (int round = 0; round < 3; ++round) {
      std::vector<Task<const void*>> many;
      for (int i = 0; i < 1000; ++i) many.push_back(where_am_i());
      const auto addresses = co_await coring::gather(std::move(many));
      CHECK(addresses.size() == 1000);
    }
  }());
}
