#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/random.hpp"
#include "crypto/digest.hpp"

namespace boltauth::crypto {

/// What a minted value is for. Each kind has its own MAC key (derived from the master key), so an
/// access token presented as a refresh token or a code fails its MAC check.
enum class TokenKind { authorization_code, access_token, refresh_token, client_secret };

/// Mints and checks Bolt-shaped tokens: base64url(32 random bytes) "." base64url(HMAC-SHA256(key, bytes)),
/// 43 + 1 + 43 characters (contract section 3). Also the keyed hash under which storage keeps tokens
/// and client secrets, so the database never holds a usable credential (checklist B4).
class TokenMinter {
 public:
  explicit TokenMinter(const std::array<std::uint8_t, 32>& master_key);

  std::string mint(TokenKind kind, base::Random& random) const;

  /// True when `token` has the exact shape and its MAC verifies. Cheap: no storage involved.
  bool verify(TokenKind kind, std::string_view token) const;

  /// Storage key of a token or secret: base64url(HMAC-SHA256(storage key, value)), 43 characters.
  std::string storage_hash(std::string_view value) const;

 private:
  std::array<Digest, 4> mac_keys_;
  Digest storage_key_;
};

}  // namespace boltauth::crypto
