#pragma once
// What coring-bench prints at the end, and writes for scripts (--json) and
// for people (--plot, an SVG of the latency distribution).
#include <cstdio>
#include <string>

#include "load.hpp"

namespace coring::bench {

struct Report {
  std::string url;
  const LoadPlan& plan;
  const LoadResult& result;
  std::string aborted;  // why the run ended early; empty if it ran its course

  [[nodiscard]] double seconds() const noexcept;
  [[nodiscard]] double requests_per_second() const noexcept;
};

void print_text(std::FILE* out, const Report& report);
std::string to_json(const Report& report);
std::string to_svg(const Report& report);

/// "1,234,567".
std::string group_digits(std::uint64_t n);
/// "812 µs", "1.23 ms", "2.50 s".
std::string format_latency(std::uint64_t nanoseconds);

}  // namespace coring::bench
