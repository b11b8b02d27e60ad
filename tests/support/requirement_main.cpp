// main() for the test programs that check a requirement first (see requirement.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "requirement.hpp"

int main(int argc, char** argv) {
  if (const auto missing = test_support::missing_requirement()) {
    std::printf("skipped: %s\n", missing->c_str());
    return 77;  // meson's exit code for a skipped test
  }
  return doctest::Context(argc, argv).run();
}
