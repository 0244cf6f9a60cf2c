#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/model/grant.hpp"

namespace boltauth::core::ports {

/// Result of a consuming write: `consumed` when this call won, `lost` when the grant was no longer in the
/// state the call required by the time the conditional UPDATE ran.
enum class ConsumeOutcome { consumed, lost };

/// What validating a presented token needs, read at once (one statement, one snapshot).
struct GrantView {
  model::Grant grant;
  bool denied = false;                                     // (grant, jti) is on the deny list
  bool account_exists = false;                             // an account with the grant's sub exists
  std::optional<base::UnixSeconds> account_deactivate_at;  // of that account
};

/// Grants, one row each for their whole life (model::Grant). Every method may throw StorageError; a write that
/// returns has committed durably (or joined the caller's deferred batch, see CommitGate). Each consuming write
/// is one conditional UPDATE of the grant row and a row count, never a read followed by a write
/// (architecture.md), so of any number of concurrent calls on one grant exactly one wins.
class GrantStore {
 public:
  virtual ~GrantStore() = default;

  /// Inserts `grant` (its `id` is ignored) and returns the new id. Ids are never reused, even after a purge.
  virtual std::int64_t insert_grant(const model::Grant& grant) = 0;

  /// The grant with this id, as committed (or as written by the caller's own open batch on the writer).
  virtual std::optional<model::Grant> find_grant(std::int64_t id) = 0;

  /// The grant with this id together with the deny-list state of `jti` and its account's state, as committed (or
  /// as written by the caller's own open batch on the writer).
  virtual std::optional<GrantView> find_grant_for_token(std::int64_t id, std::uint64_t jti) = 0;

  /// Code redemption: pending -> active. Iff not redeemed, not revoked and `now < code_expires_at`: sets
  /// redeemed_at = rotated_at = now, generation = 1, expires_at.
  virtual ConsumeOutcome redeem(std::int64_t id, base::UnixSeconds now, base::UnixSeconds expires_at) = 0;

  /// Refresh rotation: iff active, not revoked and generation == `generation`: generation + 1,
  /// rotated_at = now, replayed = false, expires_at.
  virtual ConsumeOutcome rotate(std::int64_t id, std::int64_t generation, base::UnixSeconds now,
                                base::UnixSeconds expires_at) = 0;

  /// Grace-window replay of the token of generation `generation` - 1 (contract section 3). Iff not revoked,
  /// generation == `generation`, not replayed, and rotated_at >= `rotated_since`: generation + 1,
  /// access_floor = the new generation (every access token issued before dies), replayed = true,
  /// rotated_at = now, expires_at.
  virtual ConsumeOutcome replay(std::int64_t id, std::int64_t generation, base::UnixSeconds rotated_since,
                                base::UnixSeconds now, base::UnixSeconds expires_at) = 0;

  /// Revokes the grant (the whole family) unless already revoked (the first time is kept). Unknown ids: no-op.
  virtual void revoke_grant(std::int64_t id, base::UnixSeconds now) = 0;

  /// RFC 7009 on one access token: a deny-list entry for (grant, jti) kept until `expires_at`. Idempotent.
  virtual void deny_token(std::int64_t grant_id, std::uint64_t jti, base::UnixSeconds expires_at) = 0;
  virtual bool is_denied(std::int64_t grant_id, std::uint64_t jti) = 0;

  /// The client's client_credentials grant, created (active, generation 1, no expiry, with `salt`) on first use.
  /// Concurrent first calls agree on one grant. Found or created, the row is durable by the time the caller's
  /// answer leaves (inside a deferred scope, the ticket waits for a commit still being synced).
  virtual model::Grant client_grant(std::string_view client_id, base::UnixSeconds now, std::uint32_t salt) = 0;
};

}  // namespace boltauth::core::ports
