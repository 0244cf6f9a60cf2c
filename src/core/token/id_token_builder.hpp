#pragma once
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "core/model/account.hpp"
#include "core/model/grant.hpp"
#include "crypto/signing_key.hpp"

namespace boltauth::core::token {

struct IdTokenInput {
  const model::Account& account;
  std::string_view client_id;
  std::string_view nonce;
  std::string_view access_token;
  base::UnixSeconds auth_time;
  base::UnixSeconds now;
};

/// Builds the id_token of contract section 4 and signs it with `key` (the client's alg) (OIDC Core 1.0 section 2
/// and 3.1.3.6 for at_hash).
std::string build_id_token(const crypto::SigningKey& key, std::string_view issuer, std::int64_t ttl,
                           const IdTokenInput& in);

/// Left half of SHA-256 of the access token, base64url (OIDC Core 1.0 section 3.1.3.6).
std::string at_hash(std::string_view access_token);

}  // namespace boltauth::core::token
