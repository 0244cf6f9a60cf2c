#pragma once
#include <cstdint>

#include "base/clock.hpp"

namespace boltauth::core::ports {

/// How long an Idempotency-Key answer is kept (IdempotencyStore): the janitor deletes records created this long ago
/// or earlier.
inline constexpr base::UnixSeconds idempotency_key_lifetime = 86400;

/// Rows one purge removed, by kind.
struct PurgeCounts {
  std::int64_t codes = 0;             // grants never redeemed whose code expired
  std::int64_t grants = 0;            // redeemed grants that expired or were revoked
  std::int64_t denied_tokens = 0;     // deny-list entries of expired access tokens
  std::int64_t legacy_tokens = 0;     // tokens issued before storage v2
  std::int64_t legacy_grants = 0;     // their families, and their unredeemed codes
  std::int64_t logins = 0;            // expired login requests (pending OTPs) and login sessions
  std::int64_t idempotency_keys = 0;  // Idempotency-Key records older than idempotency_key_lifetime
  /// The batch stopped at its limit: calling again at the same `now` may purge more.
  bool more = false;
  std::int64_t total() const {
    return codes + grants + denied_tokens + legacy_tokens + legacy_grants + logins + idempotency_keys;
  }
  PurgeCounts& operator+=(const PurgeCounts& o) {
    codes += o.codes;
    grants += o.grants;
    denied_tokens += o.denied_tokens;
    legacy_tokens += o.legacy_tokens;
    legacy_grants += o.legacy_grants;
    logins += o.logins;
    idempotency_keys += o.idempotency_keys;
    more = o.more;
    return *this;
  }
};

/// Deletion of rows nothing can use any more (the janitor; retention rules in docs/design.md). Every delete
/// is conditional on the row's own state at `now`, so several processes may purge the same store at once and
/// a purge never removes anything a concurrent request could still use. May throw StorageError.
class PurgeStore {
 public:
  virtual ~PurgeStore() = default;
  /// One short transaction examining at most `limit` rows of each kind (grants are visited in id order from
  /// where the previous batch stopped, so no index has to follow every rotation) and deleting:
  /// - pending grants whose code expired (`code_expires_at <= now`);
  /// - grants with `expires_at <= now` (nothing they issued is valid any more) and revoked grants (a token of
  ///   a deleted grant names an id that is never reused, so it stays dead);
  /// - deny-list entries with `expires_at <= now`;
  /// - legacy tokens with `expires_at <= now`, legacy families that are revoked or left without tokens, and
  ///   legacy codes that expired;
  /// - login requests and login sessions with `expires_at <= now`;
  /// - Idempotency-Key records with `created_at <= now - idempotency_key_lifetime`, completed or not (a claim
  ///   that old belongs to a request that died).
  virtual PurgeCounts purge_batch(base::UnixSeconds now, int limit) = 0;
};

}  // namespace boltauth::core::ports
