#pragma once
#include <memory>

#include "base/clock.hpp"
#include "core/key_ring.hpp"

namespace boltauth::core::ports {

/// The key ring in force at `now`. Implementations may reload keys rotated by another process; the ring
/// returned stays valid (and unchanged) for as long as the caller holds it. Thread-safe.
class KeySource {
 public:
  virtual ~KeySource() = default;
  virtual std::shared_ptr<const KeyRing> ring(base::UnixSeconds now) = 0;
};

/// A fixed set of keys whose phases still follow `now` (tests, single-process tools).
class StaticKeySource final : public KeySource {
 public:
  StaticKeySource(std::vector<ScheduledKey> keys, std::int64_t id_token_ttl)
      : keys_(std::move(keys)), ttl_(id_token_ttl) {}
  std::shared_ptr<const KeyRing> ring(base::UnixSeconds now) override {
    return std::make_shared<const KeyRing>(keys_, now, ttl_);
  }

 private:
  std::vector<ScheduledKey> keys_;
  std::int64_t ttl_;
};

}  // namespace boltauth::core::ports

namespace boltauth::crypto {
class TokenSealer;
}

namespace boltauth::core::ports {

/// The token sealer in force at `now`: the newest sealing key seals, every key still within its retention
/// opens. Implementations may reload keys rotated by another process; the sealer returned stays valid for as long
/// as the caller holds it. Thread-safe.
class SealerSource {
 public:
  virtual ~SealerSource() = default;
  virtual std::shared_ptr<const crypto::TokenSealer> sealer(base::UnixSeconds now) = 0;
  /// Called when a token names a key id the current sealer lacks (another node rotated): reloads at once.
  /// Returns the sealer after reloading.
  virtual std::shared_ptr<const crypto::TokenSealer> reload(base::UnixSeconds now) = 0;
};

}  // namespace boltauth::core::ports
