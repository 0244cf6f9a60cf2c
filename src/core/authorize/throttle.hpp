#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.hpp"

namespace boltauth::core::authorize {

/// At most `limit` events per key in each fixed window of `window` seconds, driven by the injected clock.
/// In memory: a restart forgets the counts (the per-code attempt limit is in storage and survives).
class WindowThrottle {
 public:
  WindowThrottle(std::uint32_t limit, std::int64_t window) : limit_(limit), window_(window) {}

  /// Counts one event; false when `key` already used this window's allowance (0 = unlimited).
  bool allow(std::string_view key, base::UnixSeconds now) {
    if (limit_ == 0) return true;
    std::lock_guard lock(mutex_);
    const std::int64_t w = now / window_;
    if (w != current_) {
      current_ = w;
      counts_.clear();  // keeps the map bounded by one window's distinct keys
    }
    auto& n = counts_[std::string(key)];
    if (n >= limit_) return false;
    ++n;
    return true;
  }

 private:
  std::uint32_t limit_;
  std::int64_t window_;
  std::mutex mutex_;
  std::int64_t current_ = -1;
  std::unordered_map<std::string, std::uint32_t> counts_;
};

}  // namespace boltauth::core::authorize
