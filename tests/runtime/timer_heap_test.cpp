// TimerHeap against a plain sorted reference: every mix of in-order and
// out-of-order deadlines, removals and pops gives the same order.
#include <doctest/doctest.h>

#include <coring/detail/timer_heap.hpp>
#include <map>
#include <memory>
#include <random>
#include <vector>

using coring::detail::TimerHeap;
using coring::detail::TimerNode;
using Clock = std::chrono::steady_clock;

namespace {

struct Node final : TimerNode {
  int id = 0;
  void on_timer() noexcept override {}
};

/// The reference order: deadline, then arming order.
using Reference = std::map<std::pair<Clock::time_point, std::uint64_t>, Node*>;

void check_against_reference(unsigned seed, int in_order_percent) {
  std::mt19937 random(seed);
  TimerHeap timers;
  Reference reference;
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<Node*> armed;
  std::uint64_t armed_count = 0;
  Clock::time_point last{};
  for (int step = 0; step < 20000; ++step) {
    const unsigned action = random() % 10;
    if (action < 5 || armed.empty()) {
      auto node = std::make_unique<Node>();
      node->id = step;
      // Mostly later than the last one (the run), sometimes anywhere, sometimes equal.
      if (static_cast<int>(random() % 100) < in_order_percent) {
        last += std::chrono::nanoseconds(random() % 3);
        node->deadline = last;
      } else {
        node->deadline = Clock::time_point{} + std::chrono::nanoseconds(random() % (step + 1) * 2);
      }
      timers.push(node.get());
      reference[{node->deadline, armed_count++}] = node.get();
      armed.push_back(node.get());
      nodes.push_back(std::move(node));
    } else if (action < 7) {  // cancel one at random
      const std::size_t i = random() % armed.size();
      Node* node = armed[i];
      timers.remove(node);
      CHECK_FALSE(node->armed());
      std::erase_if(reference, [&](const auto& entry) { return entry.second == node; });
      armed.erase(armed.begin() + static_cast<std::ptrdiff_t>(i));
    } else {  // fire the earliest, by a clock that is sometimes a tick short of it
      Node* earliest = reference.begin()->second;
      REQUIRE(timers.top() == earliest);
      const Clock::time_point now = earliest->deadline - std::chrono::nanoseconds(random() % 2);
      Node* node = static_cast<Node*>(timers.pop_due(now));
      if (now < earliest->deadline) {
        REQUIRE(node == nullptr);
      } else {
        REQUIRE(node == earliest);
        reference.erase(reference.begin());
        std::erase(armed, node);
      }
    }
    REQUIRE(timers.size() == reference.size());
    if (!reference.empty()) REQUIRE(timers.top() == reference.begin()->second);
  }
  while (!reference.empty()) {
    REQUIRE(timers.pop() == reference.begin()->second);
    reference.erase(reference.begin());
  }
  CHECK(timers.empty());
  CHECK(timers.pop() == nullptr);
}

}  // namespace

TEST_CASE("timers fire in deadline order, then arming order, whatever the mix") {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    check_against_reference(seed, 100);  // all in order: the run alone
    check_against_reference(seed, 90);
    check_against_reference(seed, 50);
    check_against_reference(seed, 0);  // the heap alone, mostly
  }
}

TEST_CASE("pop_due leaves a due timer armed after the given mark") {
  TimerHeap timers;
  Node early, late_in_run, late_in_heap;
  early.deadline = Clock::time_point{} + std::chrono::nanoseconds(10);
  timers.push(&early);
  const std::uint64_t mark = timers.next_sequence();
  late_in_run.deadline = Clock::time_point{} + std::chrono::nanoseconds(20);  // after the run's last: the run
  timers.push(&late_in_run);
  late_in_heap.deadline = Clock::time_point{} + std::chrono::nanoseconds(5);  // before it: the heap
  timers.push(&late_in_heap);
  const auto now = Clock::time_point{} + std::chrono::nanoseconds(30);
  CHECK(timers.pop_due(now, mark) == nullptr);  // the heap's earliest was armed after the mark
  timers.remove(&late_in_heap);
  CHECK(timers.pop_due(now, mark) == &early);
  CHECK(timers.pop_due(now, mark) == nullptr);  // due, but armed after the mark
  CHECK(timers.pop_due(now) == &late_in_run);
  CHECK(timers.empty());
}
