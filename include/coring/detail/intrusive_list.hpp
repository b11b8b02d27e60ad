#pragma once
// A circular doubly linked list whose nodes live inside the objects it links
// (waiters in coroutine frames, tasks in the loop's registry): linking and
// unlinking never allocate and unlinking is O(1).
#include <cassert>

namespace coring::detail {

struct ListHook {
  ListHook* prev = nullptr;
  ListHook* next = nullptr;
  [[nodiscard]] bool linked() const noexcept { return next != nullptr; }
};

template <class T>  // T derives from ListHook
class IntrusiveList {
 public:
  IntrusiveList() noexcept { head_.prev = head_.next = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  [[nodiscard]] bool empty() const noexcept { return head_.next == &head_; }

  void push_back(T* item) noexcept {
    ListHook* node = item;
    assert(!node->linked());
    node->prev = head_.prev;
    node->next = &head_;
    head_.prev->next = node;
    head_.prev = node;
  }

  static void remove(T* item) noexcept {
    ListHook* node = item;
    assert(node->linked());
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = nullptr;
  }

  [[nodiscard]] T* front() noexcept { return empty() ? nullptr : static_cast<T*>(head_.next); }

  T* pop_front() noexcept {
    T* item = front();
    if (item) remove(item);
    return item;
  }

  /// Calls f on each item; f may unlink the item it is given.
  template <class F>
  void for_each(F&& f) {
    for (ListHook* node = head_.next; node != &head_;) {
      ListHook* next = node->next;
      f(static_cast<T*>(node));
      node = next;
    }
  }

  /// Calls f on each item, from the front, until f returns false; f may
  /// unlink the item it is given.
  template <class F>
  void for_each_while(F&& f) {
    for (ListHook* node = head_.next; node != &head_;) {
      ListHook* next = node->next;
      if (!f(static_cast<T*>(node))) return;
      node = next;
    }
  }

 private:
  ListHook head_;
};

}  // namespace coring::detail
