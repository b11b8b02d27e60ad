#pragma once
// coring::Queue<T>: asyncio.Queue for tasks of one loop.
#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "coring/detail/sync_waiter.hpp"
#include "coring/errors.hpp"

namespace coring {

/// A FIFO queue between tasks. With `maxsize` 0 it is unbounded; otherwise
/// put() waits while it is full. Getters and putters are served in FIFO order.
/// A get or put cancelled while waiting raises CancelledError and leaves the
/// queue as it was: no item is lost or added.
template <class T>
class Queue {
 public:
  explicit Queue(std::size_t maxsize = 0) : maxsize_(maxsize) {}

  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
  [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
  [[nodiscard]] bool full() const noexcept { return maxsize_ != 0 && items_.size() + reserved_ >= maxsize_; }
  [[nodiscard]] std::size_t maxsize() const noexcept { return maxsize_; }

  /// Adds an item now; QueueFull if there is no room.
  void put_nowait(T item) {
    if (full()) throw QueueFull();
    push(std::move(item));
  }
  /// Takes the first item now; QueueEmpty if there is none.
  T get_nowait() {
    if (items_.empty()) throw QueueEmpty();
    return pop();
  }

  /// Adds an item, waiting for room if the queue is full.
  auto put(T item) { return Put{*this, std::move(item)}; }
  /// Takes the first item, waiting for one if the queue is empty.
  auto get() { return Get{*this}; }

 private:
  // A waiting getter gets the item handed to it directly, so that nobody
  // can take it between the wake-up and the getter's turn to run.
  // `at_front`: an item given back by a cancelled getter keeps its place.
  void push(T item, bool at_front = false) {
    if (auto* getter = getters_.pop_front()) {
      static_cast<Get*>(getter)->slot.emplace(std::move(item));
      getter->wake(true);
    } else if (at_front) {
      items_.push_front(std::move(item));
    } else {
      items_.push_back(std::move(item));
    }
  }
  T pop() {
    T item = std::move(items_.front());
    items_.pop_front();
    // Room for the first waiting putter: reserve it, so that nobody else takes it.
    if (maxsize_ != 0 && items_.size() + reserved_ < maxsize_) {
      if (auto* putter = putters_.pop_front()) {
        ++reserved_;
        putter->wake(true);
      }
    }
    return item;
  }

  struct Put final : detail::SyncWaiter {
    Queue& queue;
    T item;
    Put(Queue& q, T i) : queue(q), item(std::move(i)) {}
    bool await_ready() const noexcept { return !queue.full() && queue.putters_.empty(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return park(queue.putters_, h); }
    void await_resume() {
      if (unpark()) {
        if (granted) --queue.reserved_;
        if (task->must_cancel) {
          if (granted && !queue.full()) {
            // Pass the reserved room on to the next putter.
            if (auto* next = queue.putters_.pop_front()) {
              ++queue.reserved_;
              next->wake(true);
            }
          }
          task->throw_if_cancelled();
        }
      }
      queue.push(std::move(item));
    }
  };

  struct Get final : detail::SyncWaiter {
    Queue& queue;
    std::optional<T> slot;  // filled by push() when it wakes this getter
    explicit Get(Queue& q) noexcept : queue(q) {}
    bool await_ready() const noexcept { return !queue.items_.empty(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return park(queue.getters_, h); }
    T await_resume() {
      if (!unpark()) return queue.pop();
      if (task->must_cancel) {
        // The item handed to this getter goes back to the head of the queue.
        if (slot) queue.push(std::move(*slot), true);
        task->throw_if_cancelled();
      }
      return std::move(*slot);
    }
  };

  std::deque<T> items_;
  std::size_t maxsize_;
  std::size_t reserved_ = 0;  // room promised to woken putters
  detail::IntrusiveList<detail::SyncWaiter> getters_;
  detail::IntrusiveList<detail::SyncWaiter> putters_;
};

}  // namespace coring
