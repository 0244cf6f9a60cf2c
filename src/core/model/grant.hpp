#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.hpp"

namespace boltauth::core::model {

/// What a grant row was created by.
enum class GrantKind : std::int64_t {
  authorization_code = 0,  // the authorization endpoint or the sandbox: pending code, then a token family
  client_credentials = 1,  // one per client, created on its first client_credentials request
};

/// One grant for its whole life (docs/design.md "Storage"): the pending authorization code with everything the
/// token request is checked against (contract section 3, "Grant rules"), then the token family it became. Tokens
/// are sealed (crypto::TokenSealer) and never stored: they name this row by `id` and a refresh `generation`.
///
/// States: pending (`redeemed_at` empty, generation 0), active (redeemed, generation >= 1), revoked.
/// A refresh token of generation g is current when g == generation; g == generation - 1 may be replayed once
/// within the grace window (while `replayed` is false); anything older is reuse and revokes the grant
/// (RFC 9700 section 4.14.2). Access tokens of a generation below `access_floor` are dead (a grace replay
/// kills what the replaced successor's holder got).
struct Grant {
  std::int64_t id = 0;  // assigned by the store on insert, never reused (a token of a purged grant stays dead)
  /// Random, chosen when the row is written, and sealed into every token of the grant (the high half of its jti):
  /// a token whose salt differs from its row's is refused, so it can never attach to another grant that got the
  /// same id (a database restored from a backup, or a batch lost in a power cut, hands ids out again).
  std::uint32_t salt = 0;
  GrantKind kind = GrantKind::authorization_code;
  std::string client_id;
  std::string sub;             // the shopper; the client id itself for client_credentials
  std::string scope;           // canonical ScopeSet string the authorization granted (the code's scope)
  std::string redirect_uri;    // empty: not bound (sandbox codes)
  std::string code_challenge;  // empty: no PKCE; S256 only
  std::string nonce;
  std::string state;  // empty: none
  base::UnixSeconds auth_time = 0;
  base::UnixSeconds created_at = 0;
  base::UnixSeconds code_expires_at = 0;
  std::optional<base::UnixSeconds> redeemed_at;
  std::int64_t generation = 0;
  std::optional<base::UnixSeconds> rotated_at;  // when `generation` last advanced (redemption included)
  bool replayed = false;                        // the grace replay of generation - 1 was spent
  std::int64_t access_floor = 0;
  /// Nothing issued from the grant is valid at or after this instant (the janitor deletes the row then);
  /// empty: no end (client_credentials grants live as long as their client).
  std::optional<base::UnixSeconds> expires_at;
  std::optional<base::UnixSeconds> revoked_at;
  bool operator==(const Grant&) const = default;
};

}  // namespace boltauth::core::model
