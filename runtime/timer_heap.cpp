#include "coring/detail/timer_heap.hpp"

#include <cassert>

namespace coring::detail {

void TimerHeap::push(TimerNode* node) {
  assert(!node->armed());
  node->sequence = next_sequence_++;
  heap_.push_back(node);
  node->heap_index = heap_.size() - 1;
  sift_up(node->heap_index);
}

TimerNode* TimerHeap::pop() noexcept {
  if (heap_.empty()) return nullptr;
  TimerNode* node = heap_.front();
  remove(node);
  return node;
}

void TimerHeap::remove(TimerNode* node) noexcept {
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
