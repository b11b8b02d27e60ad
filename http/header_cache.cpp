#include "header_cache.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace coring::http::detail {

namespace {
// Enough for the responses a loop has alive at once in a steady load;
// more would keep the memory of a burst that is over.
constexpr std::size_t kept = 64;
constexpr std::size_t typical_fields = 16;
constexpr std::size_t strings_kept = 256;
constexpr std::size_t inline_capacity = std::string().capacity();
thread_local std::vector<Headers> spares;
thread_local std::vector<std::string> spare_strings;

void keep_string(std::string& text) noexcept {
  if (text.capacity() <= inline_capacity || spare_strings.size() >= strings_kept) return;
  if (spare_strings.capacity() == 0) spare_strings.reserve(strings_kept);
  text.clear();
  spare_strings.push_back(std::move(text));
}
}  // namespace

void recycle_strings(Headers& headers) noexcept {
  for (auto& [name, value] : headers.fields_) {
    keep_string(name);
    keep_string(value);
  }
  headers.clear();
}

std::string take_string(std::size_t size) {
  if (!spare_strings.empty() && spare_strings.back().capacity() >= size) {
    std::string text = std::move(spare_strings.back());
    spare_strings.pop_back();
    return text;
  }
  std::string text;
  text.reserve(std::max<std::size_t>(size, 64));  // room for most values, so that it is reused
  return text;
}

Headers take_headers() {
  if (spares.empty()) {
    Headers fresh;
    fresh.reserve(typical_fields);
    return fresh;
  }
  Headers headers = std::move(spares.back());
  spares.pop_back();
  return headers;
}

void recycle_headers(Headers&& headers) noexcept {
  if (headers.capacity() == 0 || spares.size() >= kept) return;
  if (spares.capacity() == 0) spares.reserve(kept);  // once per thread; may throw only here
  recycle_strings(headers);
  spares.push_back(std::move(headers));
}

}  // namespace coring::http::detail
