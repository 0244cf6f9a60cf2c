#pragma once
#include <string>
#include <vector>

#include "base/clock.hpp"

namespace boltauth::core::model {

/// A registered OAuth client: a Bolt merchant division (contract section 1).
struct Client {
  std::string id;               // last section of the publishable key: the canonical client_id and id_token `aud`
  std::string publishable_key;  // "<12 alnum>.<12 alnum>.<id>"
  std::string name;
  std::string secret_hash;  // TokenMinter::storage_hash of the API key; never the key itself
  std::vector<std::string> redirect_uris;
  /// OIDC RP-Initiated Logout 1.0 section 3.1: where /v1/oauth/logout may send the browser afterwards (exact match).
  std::vector<std::string> post_logout_redirect_uris;
  std::vector<std::string> grant_types;  // "authorization_code", "refresh_token", "client_credentials"
  /// The authorization endpoint refuses requests without an S256 code_challenge (RFC 9700 section 2.1.1).
  bool pkce_required = true;
  base::UnixSeconds created_at = 0;
  /// OIDC Registration 1.0 section 2: the JWS alg of this client's id_tokens ("RS256", "ES256", "EdDSA").
  std::string id_token_signed_response_alg = "RS256";

  bool allows_grant(std::string_view grant) const {
    for (const auto& g : grant_types)
      if (g == grant) return true;
    return false;
  }
  bool operator==(const Client&) const = default;
};

}  // namespace boltauth::core::model
