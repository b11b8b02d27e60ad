#pragma once
// A high-dynamic-range latency histogram (HdrHistogram's layout): exact
// counts for values under 2048 ns, then 1024 buckets per power of two, so a
// recorded value is known within 0.1% from 1 ns to days, in fixed memory
// and O(1) per record. No per-request storage.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace coring::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(std::uint64_t nanoseconds) noexcept;
  /// Adds another histogram's counts (another thread's).
  void merge(const LatencyHistogram& other);

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept;
  [[nodiscard]] double stddev() const noexcept;
  /// The smallest recorded value v such that `percentile` percent of the
  /// values are <= v (reported as its bucket's highest value, as HdrHistogram
  /// does, and never above max()). 0 when empty.
  [[nodiscard]] std::uint64_t value_at_percentile(double percentile) const noexcept;

  /// Largest relative error of a reported value.
  static constexpr double relative_error = 1.0 / 1024;

 private:
  static std::size_t index_of(std::uint64_t value) noexcept;
  static std::uint64_t highest_in_bucket(std::size_t index) noexcept;

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  double sum_ = 0;
  double sum_squares_ = 0;
};

}  // namespace coring::bench
