#pragma once
// The loop's timers: a binary min-heap of nodes that live in the waiting
// frames. Each node knows its index, so a cancelled sleep leaves the heap at
// once (O(log n)) instead of lingering until its deadline.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace coring::detail {

/// now + d, saturated: a huge d (nanoseconds::max() as "forever") must not
/// overflow into the past and fire at once.
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::nanoseconds d) noexcept {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  if (d > clock::time_point::max() - now) return clock::time_point::max();
  return now + d;
}

struct TimerNode {
  static constexpr std::size_t not_armed = static_cast<std::size_t>(-1);
  std::chrono::steady_clock::time_point deadline{};
  std::uint64_t sequence = 0;  // equal deadlines fire in the order they were armed
  std::size_t heap_index = not_armed;

  [[nodiscard]] bool armed() const noexcept { return heap_index != not_armed; }
  /// Called by the loop when the deadline has passed; the node is no longer armed.
  virtual void on_timer() noexcept = 0;

 protected:
  ~TimerNode() = default;
};

class TimerHeap {
 public:
  void push(TimerNode* node);
  void remove(TimerNode* node) noexcept;
  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  [[nodiscard]] TimerNode* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
  TimerNode* pop() noexcept;

 private:
  static bool earlier(const TimerNode* a, const TimerNode* b) noexcept {
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->sequence < b->sequence);
  }
  void place(std::size_t index, TimerNode* node) noexcept {
    heap_[index] = node;
    node->heap_index = index;
  }
  void sift_up(std::size_t index) noexcept;
  void sift_down(std::size_t index) noexcept;

  std::vector<TimerNode*> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace coring::detail
