// Event, Semaphore and Queue.
#include <doctest/doctest.h>

#include <coring/coring.hpp>
#include <string>
#include <vector>

using namespace coring;
using namespace std::chrono_literals;

TEST_CASE("Event wakes every waiter when set") {
  auto outer = []() -> Task<> {
    Event event;
    int woke = 0;
    auto waiter = [](Event& e, int& n) -> Task<> {
      co_await e.wait();
      ++n;
    };
    auto a = create_task(waiter(event, woke));
    auto b = create_task(waiter(event, woke));
    co_await sleep(1ms);
    CHECK(woke == 0);
    event.set();
    co_await a;
    co_await b;
    CHECK(woke == 2);
    co_await event.wait();  // already set: no wait
    event.clear();
    CHECK_FALSE(event.is_set());
  };
  run(outer());
}

TEST_CASE("a cancelled Event waiter leaves the queue") {
  auto outer = []() -> Task<> {
    Event event;
    auto waiter = [](Event& e) -> Task<> { co_await e.wait(); };
    auto a = create_task(waiter(event));
    co_await sleep(1ms);
    a.cancel();
    CHECK_THROWS_AS(co_await a, CancelledError);
    event.set();  // must not touch the gone waiter
  };
  run(outer());
}

TEST_CASE("Semaphore bounds concurrency") {
  auto outer = []() -> Task<> {
    Semaphore semaphore(3);
    int running = 0, peak = 0;
    auto worker = [](Semaphore& s, int& r, int& p) -> Task<> {
      auto permit = co_await s.hold();
      p = std::max(p, ++r);
      co_await sleep(2ms);
      --r;
    };
    std::vector<Task<>> tasks;
    for (int i = 0; i < 20; ++i) tasks.push_back(worker(semaphore, running, peak));
    co_await gather(std::move(tasks));
    CHECK(peak == 3);
    CHECK(semaphore.available() == 3);
  };
  run(outer());
}

TEST_CASE("Semaphore serves waiters in FIFO order") {
  auto outer = []() -> Task<> {
    Semaphore semaphore(0);
    std::vector<int> order;
    auto waiter = [](Semaphore& s, std::vector<int>& o, int id) -> Task<> {
      co_await s.acquire();
      o.push_back(id);
    };
    std::vector<TaskHandle<void>> handles;
    for (int i = 0; i < 5; ++i) handles.push_back(create_task(waiter(semaphore, order, i)));
    co_await sleep(1ms);
    for (int i = 0; i < 5; ++i) semaphore.release();
    for (auto& h : handles) co_await h;
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  };
  run(outer());
}

TEST_CASE("a permit granted to a task cancelled before it ran is passed on") {
  auto outer = []() -> Task<> {
    Semaphore semaphore(0);
    auto waiter = [](Semaphore& s) -> Task<> { co_await s.acquire(); };
    auto a = create_task(waiter(semaphore));
    auto b = create_task(waiter(semaphore));
    co_await sleep(1ms);
    semaphore.release();  // granted to a
    a.cancel();           // before a runs
    CHECK_THROWS_AS(co_await a, CancelledError);
    co_await b;  // b got the permit a could not use
    CHECK(semaphore.available() == 0);
  };
  run(outer());
}

TEST_CASE("Queue passes items in FIFO order between tasks") {
  auto outer = []() -> Task<> {
    Queue<std::string> queue;
    auto producer = [](Queue<std::string>& q) -> Task<> {
      for (int i = 0; i < 5; ++i) {
        co_await q.put(std::to_string(i));
        co_await sleep(0ns);
      }
    };
    auto p = create_task(producer(queue));
    std::string got;
    for (int i = 0; i < 5; ++i) got += co_await queue.get();
    co_await p;
    CHECK(got == "01234");
  };
  run(outer());
}

TEST_CASE("a bounded Queue makes put wait until there is room") {
  auto outer = []() -> Task<> {
    Queue<int> queue(2);
    co_await queue.put(1);
    co_await queue.put(2);
    CHECK(queue.full());
    CHECK_THROWS_AS(queue.put_nowait(3), QueueFull);
    bool third_in = false;
    auto putter = [](Queue<int>& q, bool& done) -> Task<> {
      co_await q.put(3);
      done = true;
    };
    auto h = create_task(putter(queue, third_in));
    co_await sleep(1ms);
    CHECK_FALSE(third_in);
    CHECK(queue.get_nowait() == 1);
    co_await h;
    CHECK(third_in);
    CHECK(co_await queue.get() == 2);
    CHECK(co_await queue.get() == 3);
    CHECK_THROWS_AS(queue.get_nowait(), QueueEmpty);
  };
  run(outer());
}

TEST_CASE("an item handed to a getter cancelled before it ran stays in the queue") {
  auto outer = []() -> Task<> {
    Queue<int> queue;
    auto getter = [](Queue<int>& q) -> Task<int> { co_return co_await q.get(); };
    auto a = create_task(getter(queue));
    co_await sleep(1ms);
    queue.put_nowait(42);  // handed to a
    a.cancel();            // before a runs
    CHECK_THROWS_AS(co_await a, CancelledError);
    CHECK(queue.size() == 1);
    CHECK(queue.get_nowait() == 42);
  };
  run(outer());
}
