#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/model/grant.hpp"
#include "core/model/legacy_token.hpp"

namespace boltauth::core::ports {

/// Tokens issued before storage v2, kept by keyed hash in the legacy tables until they expire (docs/design.md
/// "Upgrading"). Nothing new is ever written there: a legacy refresh token is redeemed by moving its family into
/// a new grant row. Every method may throw StorageError.
class LegacyTokenStore {
 public:
  virtual ~LegacyTokenStore() = default;

  /// The legacy token with this keyed hash, with grant_revoked and auth_time of its family filled in.
  virtual std::optional<model::LegacyToken> find_legacy_token(std::string_view hash) = 0;

  /// One transaction: iff the legacy refresh token `hash` is unused, not revoked, `now < expires_at` and its
  /// family is live: mark it used, insert `grant` (an active grant, generation 1) and link the legacy family to
  /// it, so a later reuse of the legacy token revokes the new grant too. Returns the new grant's id, or nothing
  /// when it lost.
  virtual std::optional<std::int64_t> migrate_refresh(std::string_view hash, base::UnixSeconds now,
                                                      const model::Grant& grant) = 0;

  /// Revokes a legacy family and the grant it moved into, if any. Idempotent.
  virtual void revoke_legacy_grant(std::string_view legacy_grant_id, base::UnixSeconds now) = 0;
  /// Revokes one legacy access token. Idempotent.
  virtual void revoke_legacy_token(std::string_view hash, base::UnixSeconds now) = 0;
};

}  // namespace boltauth::core::ports
