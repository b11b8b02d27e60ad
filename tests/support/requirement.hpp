#pragma once
// For a test program whose cases need what a machine may lack (a kernel
// feature, a resource limit): it defines missing_requirement() and links
// support/requirement_main.cpp instead of doctest's main. Where something is
// missing the program says what and exits 77, which meson counts as a skip
// (as liburing's tests do); a skip never passes silently.
#include <optional>
#include <string>

namespace test_support {

/// What this program's cases need and the machine lacks, or nullopt to run
/// them. Called once, before any case; may change the process (e.g. raise
/// a limit) to meet the need.
std::optional<std::string> missing_requirement();

}  // namespace test_support
