// LatencyHistogram: exact small values, bounded relative error above, and
// percentiles that agree with a sorted list of the same values.
#include "histogram.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <random>
#include <vector>

using coring::bench::LatencyHistogram;

TEST_CASE("values under 2048 ns are exact") {
  LatencyHistogram h;
  for (std::uint64_t v = 0; v < 2048; ++v) h.record(v);
  CHECK(h.count() == 2048);
  CHECK(h.min() == 0);
  CHECK(h.max() == 2047);
  CHECK(h.value_at_percentile(50) == 1023);
  CHECK(h.value_at_percentile(100) == 2047);
  CHECK(h.mean() == doctest::Approx(1023.5));
}

TEST_CASE("percentiles match a sorted list within the relative error") {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> latency(std::log(200'000.0), 1.0);  // around 200 µs, long tail
  std::vector<std::uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<std::uint64_t>(latency(random));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(values.size()))) - 1;
    const double exact = static_cast<double>(values[rank]);
    const double reported = static_cast<double>(h.value_at_percentile(p));
    INFO("p" << p << ": exact " << exact << ", reported " << reported);
    CHECK(reported >= exact);  // a bucket reports its highest value
    CHECK(reported <= exact * (1 + 2 * LatencyHistogram::relative_error));
  }
  CHECK(h.max() == values.back());
  CHECK(h.min() == values.front());
  CHECK(h.value_at_percentile(100) == values.back());
}

TEST_CASE("huge values saturate instead of overflowing") {
  LatencyHistogram h;
  h.record(UINT64_MAX / 2);
  h.record(5);
  CHECK(h.count() == 2);
  CHECK(h.value_at_percentile(100) == UINT64_MAX / 2);  // max is kept exactly
  CHECK(h.value_at_percentile(50) == 5);
}

TEST_CASE("merge adds counts, extremes and sums") {
  LatencyHistogram a, b;
  for (int i = 0; i < 1000; ++i) a.record(1'000'000);  // 1 ms
  for (int i = 0; i < 1000; ++i) b.record(3'000'000);  // 3 ms
  a.merge(b);
  CHECK(a.count() == 2000);
  CHECK(a.min() == 1'000'000);
  CHECK(a.max() == 3'000'000);
  CHECK(a.mean() == doctest::Approx(2'000'000));
  CHECK(a.stddev() == doctest::Approx(1'000'000));
  CHECK(a.value_at_percentile(50) <= 1'001'000);
  CHECK(a.value_at_percentile(50) >= 1'000'000);
  CHECK(a.value_at_percentile(51) >= 3'000'000);
}

TEST_CASE("an empty histogram reports zeros") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.value_at_percentile(99) == 0);
  CHECK(h.mean() == 0);
}
