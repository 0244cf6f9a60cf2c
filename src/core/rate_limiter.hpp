#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.hpp"

namespace boltauth::core {

/// Fixed one-second windows per key. Coarse but cheap, and driven by the injected clock.
class RateLimiter {
 public:
  explicit RateLimiter(std::uint32_t per_second) : per_second_(per_second) {}

  /// True when the request may go on; false when `key` used up this second's allowance.
  bool allow(std::string_view key, base::UnixSeconds now) {
    if (per_second_ == 0) return true;
    std::lock_guard lock(mutex_);
    if (now != window_) {
      window_ = now;
      counts_.clear();  // also keeps the map bounded by one second's distinct keys
    }
    auto& n = counts_[std::string(key)];
    return ++n <= per_second_;
  }

 private:
  std::uint32_t per_second_;
  std::mutex mutex_;
  base::UnixSeconds window_ = 0;
  std::unordered_map<std::string, std::uint32_t> counts_;
};

}  // namespace boltauth::core
