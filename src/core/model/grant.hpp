#pragma once
#include <optional>
#include <string>

#include "base/clock.hpp"

namespace boltauth::core::model {

/// An authorization code as stored: only its hash, plus everything the token request is checked against
/// (contract section 3, "Grant rules").
struct CodeRecord {
  std::string hash;
  std::string client_id;
  std::string sub;
  std::string scope;           // canonical ScopeSet string
  std::string redirect_uri;    // empty: not bound (sandbox codes)
  std::string code_challenge;  // empty: no PKCE; S256 only
  std::string nonce;
  std::string state;     // empty: none
  std::string grant_id;  // the family that redemption creates; lets a reuse revoke it
  base::UnixSeconds auth_time = 0;
  base::UnixSeconds issued_at = 0;
  base::UnixSeconds expires_at = 0;
  std::optional<base::UnixSeconds> used_at;
  bool operator==(const CodeRecord&) const = default;
};

/// One family: everything issued from one code redemption, revoked as a whole (RFC 9700 section 4.14.2).
struct GrantRecord {
  std::string id;
  std::string client_id;
  std::string sub;
  base::UnixSeconds auth_time = 0;
  base::UnixSeconds created_at = 0;
  std::optional<base::UnixSeconds> revoked_at;
  bool operator==(const GrantRecord&) const = default;
};

enum class TokenType { access_token, refresh_token };

/// An access or refresh token as stored (hash only).
struct TokenRecord {
  std::string hash;
  TokenType type = TokenType::access_token;
  std::string grant_id;
  std::string client_id;
  std::string sub;
  std::string scope;
  base::UnixSeconds issued_at = 0;
  base::UnixSeconds expires_at = 0;
  std::optional<base::UnixSeconds> used_at;     // refresh: when it was rotated
  std::optional<base::UnixSeconds> revoked_at;  // this token alone
  std::string next_hash;                        // refresh: the token it was rotated into
  bool replayed = false;                        // refresh: the grace-window replay was spent
  bool grant_revoked = false;                   // filled by reads: the family is revoked
  bool operator==(const TokenRecord&) const = default;
};

/// What one successful grant issues, written in the same transaction that consumes the code or token.
struct IssuedTokens {
  TokenRecord access;
  std::optional<TokenRecord> refresh;
};

}  // namespace boltauth::core::model
