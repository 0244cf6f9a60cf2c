#pragma once
#include <chrono>
#include <cstdint>

namespace boltauth::bench {

/// Two servers (or two sets of servers) measured in one run, in alternating slices of time (--alternate).
/// Slice k counts from the start of the measured window (negative during the warm-up); set 0 owns the even
/// slices and set 1 the odd ones. On a shared box the capacity left to the run drifts by tens of percent within
/// seconds; slices a second apart see nearly the same box, so the ratio of neighbouring slices compares the two
/// sets far more tightly than runs minutes apart.
class Alternation {
 public:
  using Clock = std::chrono::steady_clock;

  Alternation(Clock::time_point origin, Clock::duration slice) : origin_(origin), slice_(slice) {}

  /// The slice t falls in: floor((t - origin) / slice).
  std::int64_t slice_of(Clock::time_point t) const {
    const auto d = (t - origin_).count();
    const auto s = slice_.count();
    return d >= 0 ? d / s : -((-d + s - 1) / s);
  }
  /// The set (0 or 1) that owns the slice t falls in.
  int set_of(Clock::time_point t) const { return static_cast<int>(((slice_of(t) % 2) + 2) % 2); }
  /// t when the set owns it; otherwise the start of the set's next slice.
  Clock::time_point next_start(int set, Clock::time_point t) const {
    if (set_of(t) == set) return t;
    return origin_ + slice_ * (slice_of(t) + 1);
  }
  Clock::duration slice() const { return slice_; }

 private:
  Clock::time_point origin_;
  Clock::duration slice_;
};

}  // namespace boltauth::bench
