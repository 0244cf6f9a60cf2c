#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.hpp"
#include "core/ports/throttle_store.hpp"

namespace boltauth::core {

/// Throttling of failed client authentication (checklist B5), per key (client id and remote address: see
/// docs/design.md for what an attacker can and cannot do). Fixed windows: `max_failures` failures within
/// `window` seconds of the first one block the key until that window ends. A success clears the key.
/// Consulted before the secret check and updated after it, by the injected clock's `now`.
///
/// With a `shared` store (several nodes on one database) the counts live there, so an attacker gets the same
/// number of guesses whichever node answers; otherwise (one process) they live in memory here.
class AuthThrottle {
 public:
  AuthThrottle(std::uint32_t max_failures, std::int64_t window, ports::ThrottleStore* shared = nullptr)
      : max_failures_(max_failures), window_(window), shared_(shared) {}

  /// True when retry_after reads the shared store (so a caller may read it ahead, ports::ReadAhead).
  bool reads_store() const noexcept { return shared_ != nullptr && max_failures_ > 0; }

  /// Seconds until `key` may try again (the Retry-After value); 0 when it may try now.
  std::int64_t retry_after(std::string_view key, base::UnixSeconds now) {
    if (max_failures_ == 0) return 0;
    if (shared_) {
      const auto w = shared_->find_failures(key);
      if (!w || w->failures < static_cast<std::int64_t>(max_failures_)) return 0;
      const base::UnixSeconds until = w->window_start + window_;
      return now < until ? until - now : 0;
    }
    std::lock_guard lock(mutex_);
    auto it = entries_.find(std::string(key));
    if (it == entries_.end() || it->second.failures < max_failures_) return 0;
    const base::UnixSeconds until = it->second.window_start + window_;
    return now < until ? until - now : 0;
  }

  void record_failure(std::string_view key, base::UnixSeconds now) {
    if (max_failures_ == 0) return;
    if (shared_) {
      shared_->record_failure(key, now, window_);
      return;
    }
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) prune(now);
    auto& e = entries_[std::string(key)];
    if (e.failures == 0 || now >= e.window_start + window_ || now < e.window_start) e = Entry{now, 0};
    ++e.failures;
  }

  void record_success(std::string_view key) {
    if (max_failures_ == 0) return;
    if (shared_) {
      shared_->clear_failures(key);
      return;
    }
    std::lock_guard lock(mutex_);
    entries_.erase(std::string(key));
  }

 private:
  struct Entry {
    base::UnixSeconds window_start = 0;
    std::uint32_t failures = 0;
  };
  // Bounds memory under a spray of addresses: stale windows go first; if every window is live the table is
  // cleared (throttling fails open for one window rather than the server running out of memory).
  static constexpr std::size_t kMaxEntries = 100'000;
  void prune(base::UnixSeconds now) {
    for (auto it = entries_.begin(); it != entries_.end();)
      it = now >= it->second.window_start + window_ ? entries_.erase(it) : std::next(it);
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }

  std::uint32_t max_failures_;
  std::int64_t window_;
  ports::ThrottleStore* shared_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace boltauth::core
