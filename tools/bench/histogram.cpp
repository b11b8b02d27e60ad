// LatencyHistogram: bucket arithmetic, recording, merging and percentiles.
#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace coring::bench {

namespace {

constexpr unsigned sub_bucket_bits = 10;                       // 1024 buckets per power of two
constexpr std::uint64_t linear_limit = 2u << sub_bucket_bits;  // values below are counted exactly
constexpr unsigned top_bit = 50;                               // 2^50 ns is 13 days: larger values saturate
constexpr std::size_t bucket_count = linear_limit + (top_bit - sub_bucket_bits) * (1u << sub_bucket_bits);

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(bucket_count) {}

std::size_t LatencyHistogram::index_of(std::uint64_t value) noexcept {
  if (value < linear_limit) return value;
  value = std::min<std::uint64_t>(value, (std::uint64_t{1} << top_bit) - 1);
  const unsigned magnitude = 63 - static_cast<unsigned>(std::countl_zero(value));  // >= sub_bucket_bits + 1
  const unsigned shift = magnitude - sub_bucket_bits;
  // (value >> shift) lies in [1024, 2048): its low ten bits pick the bucket.
  return linear_limit + (magnitude - sub_bucket_bits - 1) * (1u << sub_bucket_bits) +
         ((value >> shift) - (1u << sub_bucket_bits));
}

std::uint64_t LatencyHistogram::highest_in_bucket(std::size_t index) noexcept {
  if (index < linear_limit) return index;
  const std::size_t offset = index - linear_limit;
  const unsigned magnitude = static_cast<unsigned>(offset >> sub_bucket_bits) + sub_bucket_bits + 1;
  const unsigned shift = magnitude - sub_bucket_bits;
  const std::uint64_t top = (offset & ((1u << sub_bucket_bits) - 1)) + (1u << sub_bucket_bits);
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::record(std::uint64_t nanoseconds) noexcept {
  ++counts_[index_of(nanoseconds)];
  ++count_;
  min_ = std::min(min_, nanoseconds);
  max_ = std::max(max_, nanoseconds);
  const auto v = static_cast<double>(nanoseconds);
  sum_ += v;
  sum_squares_ += v * v;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
  sum_squares_ += other.sum_squares_;
}

double LatencyHistogram::mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

double LatencyHistogram::stddev() const noexcept {
  if (count_ < 2) return 0.0;
  const double m = mean();
  return std::sqrt(std::max(0.0, sum_squares_ / static_cast<double>(count_) - m * m));
}

std::uint64_t LatencyHistogram::value_at_percentile(double percentile) const noexcept {
  if (count_ == 0) return 0;
  const double wanted = std::clamp(percentile, 0.0, 100.0) / 100.0 * static_cast<double>(count_);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(wanted)));
  if (rank >= count_) return max_;  // exact, even past the saturation point
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_in_bucket(i), max_);
  }
  return max_;
}

}  // namespace coring::bench
