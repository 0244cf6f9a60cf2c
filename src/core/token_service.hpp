#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/model/grant.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/grant_store.hpp"
#include "core/ports/key_source.hpp"
#include "core/ports/legacy_token_store.hpp"
#include "crypto/token_minter.hpp"
#include "crypto/token_sealer.hpp"
#include "protocol/scope.hpp"

namespace boltauth::core {

/// A bearer or refresh token resolved against its grant: everything an endpoint needs to accept it, answer an
/// introspection or revoke it, whether it was sealed (storage v2) or issued before the upgrade (legacy).
struct ResolvedToken {
  bool legacy = false;
  crypto::SealedKind kind = crypto::SealedKind::access_token;  // access_token or refresh_token
  std::string client_id;
  std::string sub;
  protocol::ScopeSet scope;
  base::UnixSeconds issued_at = 0;
  base::UnixSeconds expires_at = 0;
  bool client_credentials = false;  // names the client itself, no shopper
  /// Usable at the instant it was resolved: not expired, grant live, not replaced or deny-listed, and its
  /// shopper's account active. A token that is ours but not active still resolves (revocation needs it).
  bool active = false;
  // Sealed tokens
  std::int64_t grant_id = 0;
  std::uint64_t jti = 0;
  // Legacy tokens
  std::string legacy_hash;
  std::string legacy_grant_id;
};

/// Issues sealed tokens and resolves presented ones (docs/design.md "Sealed tokens"): the one place that knows
/// how a token maps to its grant row, the deny list, the refresh generations and the legacy tables.
class TokenService {
 public:
  TokenService(ports::SealerSource& sealers, const crypto::TokenMinter& minter, base::Random& random,
               ports::GrantStore& grants, ports::LegacyTokenStore& legacy, ports::AccountStore& accounts)
      : sealers_(sealers), minter_(minter), random_(random), grants_(grants), legacy_(legacy), accounts_(accounts) {}

  /// Seals `payload` with the current sealing key. Its jti is the grant's salt (high half) and 32 fresh random
  /// bits (low half).
  std::string seal(crypto::SealedPayload payload, std::uint32_t grant_salt, base::UnixSeconds now);
  /// A random grant salt (model::Grant::salt).
  std::uint32_t new_salt();
  /// True when `payload` was sealed for this very row (not another that got the same id).
  static bool belongs_to(const crypto::SealedPayload& payload, const model::Grant& grant) {
    return static_cast<std::uint32_t>(payload.jti >> 32) == grant.salt;
  }
  /// The payload of a sealed token of `kind`; nothing when malformed, forged, of another kind or sealed with a
  /// key no longer kept. Expiry is the caller's to check.
  std::optional<crypto::SealedPayload> open(std::string_view token, crypto::SealedKind kind, base::UnixSeconds now);

  /// Writes the pending grant and returns its authorization code (sealed: kind code, generation 0).
  std::string issue_code(model::Grant grant, base::UnixSeconds now);

  /// Resolves an access or refresh token (`kind`) of any client; nothing when it is not one of ours. Costs
  /// MAC + decrypt, one read of the grant, one of the deny list (access tokens) and one of the account.
  std::optional<ResolvedToken> resolve(std::string_view token, crypto::SealedKind kind, base::UnixSeconds now);

  /// True when the account exists and is not deactivated at `now`.
  bool account_active(std::string_view sub, base::UnixSeconds now);

  ports::GrantStore& grants() { return grants_; }
  ports::LegacyTokenStore& legacy() { return legacy_; }
  const crypto::TokenMinter& minter() const { return minter_; }

 private:
  std::optional<ResolvedToken> resolve_legacy(std::string_view token, crypto::SealedKind kind, base::UnixSeconds now);

  ports::SealerSource& sealers_;
  const crypto::TokenMinter& minter_;
  base::Random& random_;
  ports::GrantStore& grants_;
  ports::LegacyTokenStore& legacy_;
  ports::AccountStore& accounts_;
};

}  // namespace boltauth::core
