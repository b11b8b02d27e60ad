#include "header_cache.hpp"

#include <vector>

namespace coring::http::detail {

namespace {
// Enough for the responses a loop has alive at once in a steady load;
// more would keep the memory of a burst that is over.
constexpr std::size_t kept = 64;
constexpr std::size_t typical_fields = 16;
thread_local std::vector<Headers> spares;
}  // namespace

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
  headers.clear();
  spares.push_back(std::move(headers));
}

}  // namespace coring::http::detail
