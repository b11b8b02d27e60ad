#pragma once
// The loop's timers: nodes that live in the waiting frames, in deadline
// order. Timers armed in deadline order (the common case: many sleeps or
// timeouts of one length) queue in a FIFO run, O(1) to arm and to fire;
// the others go to a binary min-heap. Each node knows its place, so a
// cancelled sleep leaves at once instead of lingering until its deadline.
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
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size() + run_live_; }
  [[nodiscard]] TimerNode* top() const noexcept {
    TimerNode* first_in_run = run_live_ != 0 ? run_[run_head_ & (run_.size() - 1)] : nullptr;
    if (heap_.empty()) return first_in_run;
    if (first_in_run == nullptr || earlier(heap_.front(), first_in_run)) return heap_.front();
    return first_in_run;
  }
  /// The earliest node if its deadline is at or before `now` and it was
  /// armed before `armed_before` (a next_sequence() seen earlier), taken out.
  TimerNode* pop_due(std::chrono::steady_clock::time_point now,
                     std::uint64_t armed_before = UINT64_MAX) noexcept;
  /// The sequence number the next node armed will get.
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return next_sequence_; }
  TimerNode* pop() noexcept { return pop_due(std::chrono::steady_clock::time_point::max()); }

  static constexpr std::size_t in_run = std::size_t{1} << 63;

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
  void remove_from_run(TimerNode* node) noexcept;
  void grow_run();
  TimerNode*& run_slot(std::size_t position) noexcept {
    return run_[position & (run_.size() - 1)];
  }

  std::vector<TimerNode*> heap_;
  // The run: a ring of nodes in deadline order, at absolute positions
  // run_head_ .. run_tail_ (nullptr where one was removed; never at
  // run_head_ while run_live_ != 0). A node's place is its absolute
  // position, so firing from the front moves nothing: no pause while a
  // million timers fire, only the pushes grow it.
  std::vector<TimerNode*> run_;  // a power of two in size, or empty
  std::size_t run_head_ = 0;
  std::size_t run_tail_ = 0;
  std::size_t run_live_ = 0;
  std::chrono::steady_clock::time_point run_last_deadline_{};
  std::uint64_t next_sequence_ = 0;
};

}  // namespace coring::detail
