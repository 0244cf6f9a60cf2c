#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/clock.hpp"

namespace boltauth::core::ports {

/// A key's failures within its current window.
struct FailureWindow {
  base::UnixSeconds window_start = 0;
  std::int64_t failures = 0;
};

/// Failed client-authentication counts shared by every node of one store, so an attacker gets the same number of
/// guesses whichever node answers (core::AuthThrottle). Losing them (a crash) only resets throttling, so an
/// adapter may keep them without durability. May throw StorageError.
class ThrottleStore {
 public:
  virtual ~ThrottleStore() = default;
  /// Atomically counts one failure of `key` at `now`: a key without a window, or whose window of `window`
  /// seconds ended (`now >= window_start + window`) or lies in the future (`now < window_start`), starts a new
  /// one at `now` with one failure; otherwise its count grows by one. Returns the window after the update.
  virtual FailureWindow record_failure(std::string_view key, base::UnixSeconds now, std::int64_t window) = 0;
  virtual std::optional<FailureWindow> find_failures(std::string_view key) = 0;
  virtual void clear_failures(std::string_view key) = 0;
  /// Drops windows that ended before `now` (the janitor); returns how many.
  virtual std::int64_t purge_failures(base::UnixSeconds now, std::int64_t window) = 0;
};

}  // namespace boltauth::core::ports
