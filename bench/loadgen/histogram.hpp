#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace boltauth::bench {

/// Log-linear latency histogram (microseconds): exact below 128 us, then 64 sub-buckets per power of two,
/// so any reported value is within 1.6% of a recorded one. Fixed size, no allocation: one per thread, merged
/// at the end.
class Histogram {
 public:
  static constexpr int kLinear = 128;
  static constexpr int kSub = 64;
  static constexpr int kBuckets = kLinear + 57 * kSub;

  static int index_of(std::uint64_t v) noexcept {
    if (v < kLinear) return static_cast<int>(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - 6;  // v >> shift lies in [64, 127]
    return kLinear + (shift - 1) * kSub + static_cast<int>((v >> shift) - kSub);
  }
  static std::uint64_t lowest_of(int index) noexcept {
    if (index < kLinear) return static_cast<std::uint64_t>(index);
    const int k = index - kLinear;
    const int shift = k / kSub + 1;
    return static_cast<std::uint64_t>(k % kSub + kSub) << shift;
  }
  static std::uint64_t highest_of(int index) noexcept {
    if (index < kLinear) return static_cast<std::uint64_t>(index);
    return lowest_of(index + 1) - 1;
  }

  void record(std::uint64_t micros) noexcept {
    ++counts_[static_cast<std::size_t>(index_of(micros))];
    ++count_;
    sum_ += micros;
    min_ = std::min(min_, micros);
    max_ = std::max(max_, micros);
  }
  void merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }

  /// The smallest recorded value v such that at least `percent`% of the records are <= v, rounded to its
  /// bucket (the bucket's midpoint, clamped to [min, max]). 0 when empty.
  std::uint64_t percentile(double percent) const noexcept {
    if (count_ == 0) return 0;
    percent = std::clamp(percent, 0.0, 100.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[static_cast<std::size_t>(i)];
      if (seen >= rank) {
        const std::uint64_t mid = lowest_of(i) + (highest_of(i) - lowest_of(i)) / 2;
        return std::clamp(mid, min(), max_);
      }
    }
    return max_;
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

}  // namespace boltauth::bench
