#pragma once
#include <atomic>
#include <cstdint>

namespace boltauth::base {

/// Seconds since the Unix epoch. Every protocol timestamp (exp, iat, expires_at) uses it.
using UnixSeconds = std::int64_t;

/// Time is injected so that core never reads the system clock and tests are deterministic.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixSeconds now() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixSeconds now() const override;
};

/// A clock that tests move by hand. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixSeconds start = 1'800'000'000) : now_(start) {}
  UnixSeconds now() const override { return now_.load(); }
  void set(UnixSeconds t) { now_.store(t); }
  void advance(UnixSeconds by) { now_.fetch_add(by); }

 private:
  std::atomic<UnixSeconds> now_;
};

}  // namespace boltauth::base
