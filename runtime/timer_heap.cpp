#include "coring/detail/timer_heap.hpp"

#include <cassert>

namespace coring::detail {

void TimerHeap::push(TimerNode* node) {
  assert(!node->armed());
  node->sequence = next_sequence_++;
  if (run_live_ == 0 || node->deadline >= run_last_deadline_) {
    if (run_live_ == 0) {  // start a fresh run; no node refers to the old slots
      run_base_ += run_.size();
      run_.clear();
      run_head_ = 0;
    }
    node->heap_index = in_run | (run_base_ + run_.size());
    run_.push_back(node);
    ++run_live_;
    run_last_deadline_ = node->deadline;
    return;
  }
  heap_.push_back(node);
  node->heap_index = heap_.size() - 1;
  sift_up(node->heap_index);
}

TimerNode* TimerHeap::pop() noexcept {
  TimerNode* node = top();
  if (node != nullptr) remove(node);
  return node;
}

void TimerHeap::remove_from_run(TimerNode* node) noexcept {
  const std::size_t index = (node->heap_index & ~in_run) - run_base_;
  assert(index < run_.size() && run_[index] == node);
  run_[index] = nullptr;
  node->heap_index = TimerNode::not_armed;
  if (--run_live_ == 0) return;  // the next push starts afresh
  while (run_[run_head_] == nullptr) ++run_head_;
  // Drop the fired slots once they are half the vector: O(1) amortised.
  if (run_head_ >= 1024 && run_head_ * 2 >= run_.size()) {
    run_.erase(run_.begin(), run_.begin() + static_cast<std::ptrdiff_t>(run_head_));
    run_base_ += run_head_;
    run_head_ = 0;
  }
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
