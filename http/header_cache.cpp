#include "header_cache.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace coring::http::detail {

namespace {
// Enough for the responses a loop has alive at once in a steady load;
// more would keep the memory of a burst that is over.
constexpr std::size_t lists_kept = 64;
constexpr std::size_t strings_kept = 256;
constexpr std::size_t bodies_kept = 64;  // so at most 64 x TCPConnector::recycled_body_size
constexpr std::size_t typical_fields = 16;
const std::size_t inline_capacity = std::string().capacity();  // (not constexpr for clang 14)

// Set when the thread's cache is destroyed: a response destroyed later (one
// with static storage, say) must not put anything into it. A plain bool,
// readable until the thread's very end.
thread_local bool cache_gone = false;

struct Cache {
  Cache() {
    lists.reserve(lists_kept);
    strings.reserve(strings_kept);
    bodies.reserve(bodies_kept);
  }
  ~Cache() { cache_gone = true; }
  std::vector<Headers> lists;
  std::vector<std::string> strings;
  std::vector<std::string> bodies;
};
thread_local Cache cache;

void keep_string(std::string& text) noexcept {
  if (text.capacity() <= inline_capacity || cache.strings.size() >= strings_kept) return;
  text.clear();
  cache.strings.push_back(std::move(text));  // within the reserved room: no allocation
}
}  // namespace

void recycle_strings(Headers& headers) noexcept {
  if (!cache_gone) {
    for (auto& [name, value] : headers.fields_) {
      keep_string(name);
      keep_string(value);
    }
  }
  headers.clear();
}

std::string take_string(std::size_t size) {
  if (!cache_gone && !cache.strings.empty() && cache.strings.back().capacity() >= size) {
    std::string text = std::move(cache.strings.back());
    cache.strings.pop_back();
    return text;
  }
  std::string text;
  text.reserve(std::max<std::size_t>(size, 64));  // room for most values, so that it is reused
  return text;
}

std::string take_body_buffer() {
  if (cache_gone || cache.bodies.empty()) return {};
  std::string buffer = std::move(cache.bodies.back());
  cache.bodies.pop_back();
  return buffer;
}

void recycle_body_buffer(std::string&& buffer, std::size_t limit) noexcept {
  if (cache_gone || buffer.capacity() <= inline_capacity || buffer.capacity() > limit ||
      cache.bodies.size() >= bodies_kept)
    return;
  buffer.clear();
  cache.bodies.push_back(std::move(buffer));  // within the reserved room: no allocation
}

Headers take_headers() {
  if (cache_gone || cache.lists.empty()) {
    Headers fresh;
    fresh.reserve(typical_fields);
    return fresh;
  }
  Headers headers = std::move(cache.lists.back());
  cache.lists.pop_back();
  return headers;
}

void recycle_headers(Headers&& headers) noexcept {
  if (cache_gone || headers.capacity() == 0 || cache.lists.size() >= lists_kept) return;
  recycle_strings(headers);
  cache.lists.push_back(std::move(headers));  // within the reserved room: no allocation
}

}  // namespace coring::http::detail
