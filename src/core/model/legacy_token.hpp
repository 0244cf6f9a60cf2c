#pragma once
#include <optional>
#include <string>

#include "base/clock.hpp"

namespace boltauth::core::model {

enum class TokenType { access_token, refresh_token };

/// An access or refresh token issued before storage v2, as stored then (its keyed hash only). Read-only after
/// the upgrade: such tokens keep working until they expire, and the janitor empties the legacy tables.
struct LegacyToken {
  std::string hash;
  TokenType type = TokenType::access_token;
  std::string grant_id;  // the legacy family
  std::string client_id;
  std::string sub;
  std::string scope;
  base::UnixSeconds issued_at = 0;
  base::UnixSeconds expires_at = 0;
  std::optional<base::UnixSeconds> used_at;     // refresh: when it was rotated (before or after the upgrade)
  std::optional<base::UnixSeconds> revoked_at;  // this token alone
  bool replayed = false;
  bool grant_revoked = false;               // the legacy family is revoked
  base::UnixSeconds auth_time = 0;          // of the legacy family
  std::optional<std::int64_t> migrated_to;  // the grant the legacy family moved into, if it did
  bool operator==(const LegacyToken&) const = default;
};

}  // namespace boltauth::core::model
