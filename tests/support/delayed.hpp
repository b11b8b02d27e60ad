#pragma once
// Tasks that finish after a sleep, for the tests of gather, wait and TaskGroup.
#include <chrono>
#include <stdexcept>
#include <string>

#include <coring/coring.hpp>

namespace test_support {

/// Returns `value` after sleeping `delay`.
inline coring::Task<int> after(std::chrono::milliseconds delay, int value) {
  co_await coring::sleep(delay);
  co_return value;
}

/// Throws std::runtime_error(`message`) after sleeping `delay`.
inline coring::Task<> fail_after(std::chrono::milliseconds delay, std::string message) {
  co_await coring::sleep(delay);
  throw std::runtime_error(message);
}

}  // namespace test_support
