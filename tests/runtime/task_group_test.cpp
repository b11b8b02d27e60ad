// TaskGroup through async_with: joins all, first failure cancels the rest.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <string>
#include <vector>

#include "../support/delayed.hpp"

using namespace coring;
using namespace std::chrono_literals;
using test_support::fail_after;

namespace {
Task<> append_after(std::vector<int>& log, std::chrono::milliseconds delay, int value) {
  co_await sleep(delay);
  log.push_back(value);
}
Task<> sleeper(int& state) {
  try {
    co_await sleep(1h);
  } catch (const CancelledError&) {
    state = 2;
    throw;
  }
}
}  // namespace

TEST_CASE("a task group ends only when every child has finished") {
  auto outer = []() -> Task<> {
    std::vector<int> log;
    co_await async_with(TaskGroup{}, [&](TaskGroup& group) -> Task<> {
      group.create_task(append_after(log, 20ms, 2));
      group.create_task(append_after(log, 5ms, 1));
      co_return;
    });
    CHECK(log == std::vector<int>{1, 2});
  };
  run(outer());
}

TEST_CASE("the first failing child cancels its siblings and is raised") {
  auto outer = []() -> Task<> {
    int a = 0, b = 0;
    try {
      co_await async_with(TaskGroup{}, [&](TaskGroup& group) -> Task<> {
        group.create_task(sleeper(a));
        group.create_task(fail_after(5ms, "child failed"));
        group.create_task(sleeper(b));
        co_return;
      });
      FAIL("should have thrown");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "child failed");
    }
    CHECK(a == 2);
    CHECK(b == 2);
    co_await sleep(1ms);  // no cancellation is left pending on this task
  };
  run(outer());
}

TEST_CASE("a failing child interrupts the body while it still runs") {
  auto outer = []() -> Task<> {
    bool body_interrupted = false;
    try {
      co_await async_with(TaskGroup{}, [&](TaskGroup& group) -> Task<> {
        group.create_task(fail_after(2ms, "boom"));
        try {
          co_await sleep(1h);
        } catch (const CancelledError&) {
          body_interrupted = true;
          throw;
        }
      });
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "boom");
    }
    CHECK(body_interrupted);
    co_await sleep(1ms);
  };
  run(outer());
}

TEST_CASE("a failing body cancels the children and its exception is raised") {
  auto outer = []() -> Task<> {
    int state = 0;
    CHECK_THROWS_WITH(co_await async_with(TaskGroup{},
                                          [&](TaskGroup& group) -> Task<> {
                                            group.create_task(sleeper(state));
                                            co_await sleep(1ms);
                                            throw std::logic_error("body failed");
                                          }),
                      "body failed");
    CHECK(state == 2);
  };
  run(outer());
}

TEST_CASE("cancelling the task that holds a group cancels and joins the children") {
  auto outer = []() -> Task<> {
    int state = 0;
    auto holder = [](int& s) -> Task<> {
      co_await async_with(TaskGroup{}, [&s](TaskGroup& group) -> Task<> {
        group.create_task(sleeper(s));
        co_return;
      });
    };
    auto handle = create_task(holder(state));
    co_await sleep(2ms);
    handle.cancel();
    CHECK_THROWS_AS(co_await handle, CancelledError);
    CHECK(state == 2);
  };
  run(outer());
}

TEST_CASE("async_with returns the body's value and children's results are readable") {
  auto outer = []() -> Task<int> {
    co_return co_await async_with(TaskGroup{}, [](TaskGroup& group) -> Task<int> {
      auto h = group.create_task([]() -> Task<int> { co_return 20; }());
      co_return 1 + co_await h;
    });
  };
  CHECK(run(outer()) == 21);
}

namespace {
struct Resource {
  std::vector<std::string>* log;
  Task<> close() {
    co_await sleep(1ms);  // a release that awaits
    log->push_back("closed");
  }
};
Task<Resource> open_resource(std::vector<std::string>& log) {
  co_await sleep(0ns);
  log.push_back("opened");
  co_return Resource{&log};
}
}  // namespace

TEST_CASE("async_with always awaits close: on return, on exception and on cancellation") {
  auto outer = []() -> Task<> {
    std::vector<std::string> log;
    co_await async_with(open_resource(log), [&](Resource&) -> Task<> {
      log.push_back("body");
      co_return;
    });
    CHECK(log == std::vector<std::string>{"opened", "body", "closed"});

    log.clear();
    CHECK_THROWS_AS(co_await async_with(open_resource(log),
                                        [&](Resource&) -> Task<> {
                                          throw std::runtime_error("x");
                                          co_return;
                                        }),
                    std::runtime_error);
    CHECK(log == std::vector<std::string>{"opened", "closed"});

    log.clear();
    auto user = [](std::vector<std::string>& l) -> Task<> {
      co_await async_with(open_resource(l), [](Resource&) -> Task<> { co_await sleep(1h); });
    };
    auto handle = create_task(user(log));
    co_await sleep(5ms);
    handle.cancel();
    CHECK_THROWS_AS(co_await handle, CancelledError);
    CHECK(log == std::vector<std::string>{"opened", "closed"});
  };
  run(outer());
}

TEST_CASE("a task group destroyed with running children is reported, not leaked") {
  auto outer = []() -> Task<> {
    const auto before = detail::unreleased_reports();
    int state = 0;
    {
      TaskGroup group;
      group.create_task(sleeper(state));
    }
    CHECK(detail::unreleased_reports() == before + 1);
    co_await sleep(1ms);
    CHECK(state == 2);  // its child was cancelled
  };
  run(outer());
}

TEST_CASE("children started from another task still interrupt the group's body, never a freed frame") {
  // create_task is called from gather's child tasks, which end before the
  // failure: the group must interrupt the task that entered it.
  auto outer = []() -> Task<> {
    bool body_interrupted = false;
    auto starter = [](TaskGroup& g, bool fail) -> Task<> {
      if (fail) {
        g.create_task(fail_after(5ms, "late failure"));
      } else {
        g.create_task([]() -> Task<> { co_await sleep(1h); }());
      }
      co_return;
    };
    try {
      co_await async_with(TaskGroup{}, [&](TaskGroup& group) -> Task<> {
        co_await gather(starter(group, false), starter(group, true));
        try {
          co_await sleep(1h);
        } catch (const CancelledError&) {
          body_interrupted = true;
          throw;
        }
      });
      FAIL("should have thrown");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "late failure");
    }
    CHECK(body_interrupted);
  };
  run(outer());
}
