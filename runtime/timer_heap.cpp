// TimerHeap: the FIFO run and the binary min-heap behind the loop's timers.
#include "coring/detail/timer_heap.hpp"

#include <algorithm>
#include <cassert>

namespace coring::detail {

void TimerHeap::push(TimerNode* node) {
  assert(!node->armed());
  node->sequence = next_sequence_++;
  if (run_live_ == 0 || node->deadline >= run_last_deadline_) {
    if (run_tail_ - run_head_ == run_.size()) grow_run();
    node->heap_index = in_run | run_tail_;
    run_slot(run_tail_++) = node;
    ++run_live_;
    run_last_deadline_ = node->deadline;
    return;
  }
  heap_.push_back(node);
  node->heap_index = heap_.size() - 1;
  sift_up(node->heap_index);
}

void TimerHeap::grow_run() {
  // Positions are absolute, so each live node keeps its place; only the
  // slot it maps to changes with the size.
  std::vector<TimerNode*> bigger(std::max<std::size_t>(64, run_.size() * 2), nullptr);
  for (std::size_t p = run_head_; p != run_tail_; ++p) bigger[p & (bigger.size() - 1)] = run_[p & (run_.size() - 1)];
  run_ = std::move(bigger);
}

TimerNode* TimerHeap::pop_due(std::chrono::steady_clock::time_point now, std::uint64_t armed_before) noexcept {
  TimerNode* node = top();
  if (node == nullptr || node->deadline > now || node->sequence >= armed_before) return nullptr;
  remove(node);
  return node;
}

void TimerHeap::remove_from_run(TimerNode* node) noexcept {
  const std::size_t position = node->heap_index & ~in_run;
  assert(position - run_head_ < run_tail_ - run_head_ && run_slot(position) == node);
  run_slot(position) = nullptr;
  node->heap_index = TimerNode::not_armed;
  if (--run_live_ == 0) {
    run_head_ = run_tail_;
    return;
  }
  while (run_slot(run_head_) == nullptr) ++run_head_;
}

void TimerHeap::remove(TimerNode* node) noexcept {
  if (node->heap_index & in_run) {
    remove_from_run(node);
    return;
  }
  assert(node->armed() && heap_[node->heap_index] == node);
  const std::size_t index = node->heap_index;
  TimerNode* last = heap_.back();
  heap_.pop_back();
  node->heap_index = TimerNode::not_armed;
  if (last == node) return;
  place(index, last);
  // The moved node may belong above or below its new place.
  if (index > 0 && earlier(last, heap_[(index - 1) / 2])) {
    sift_up(index);
  } else {
    sift_down(index);
  }
}

void TimerHeap::sift_up(std::size_t index) noexcept {
  TimerNode* node = heap_[index];
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (!earlier(node, heap_[parent])) break;
    place(index, heap_[parent]);
    index = parent;
  }
  place(index, node);
}

void TimerHeap::sift_down(std::size_t index) noexcept {
  TimerNode* node = heap_[index];
  const std::size_t size = heap_.size();
  for (;;) {
    std::size_t child = 2 * index + 1;
    if (child >= size) break;
    if (child + 1 < size && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], node)) break;
    place(index, heap_[child]);
    index = child;
  }
  place(index, node);
}

}  // namespace coring::detail
