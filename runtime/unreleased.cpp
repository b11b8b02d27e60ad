// report_unreleased: the stderr report, and its count for tests, of a
// resource destroyed without being released.
#include <atomic>
#include <cstdio>

#include "coring/async_with.hpp"

namespace coring::detail {

namespace {
std::atomic<std::size_t> reports{0};
}

void report_unreleased(const char* what) noexcept {
  reports.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "coring: %s destroyed without being released\n", what);
}

std::size_t unreleased_reports() noexcept { return reports.load(std::memory_order_relaxed); }

}  // namespace coring::detail
