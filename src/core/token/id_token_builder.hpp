#pragma once
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "base/clock.hpp"
#include "core/model/account.hpp"
#include "core/model/grant.hpp"
#include "crypto/signing_key.hpp"

namespace boltauth::core::token {

struct IdTokenInput {
  const model::Account& account;
  std::string_view client_id;  // canonical: the last section of the publishable key
  /// The client_id as the client spelled it at the token endpoint; empty: Bolt's shape (aud [canonical]).
  std::string_view presented_client_id;
  std::string_view nonce;
  std::string_view access_token;
  base::UnixSeconds auth_time;
  base::UnixSeconds now;
};

/// `aud` and `azp` (OIDC Core 1.0 sections 2 and 3.1.3.7 steps 3-5). Bolt's shape, for Bolt's paths: aud
/// [canonical], azp canonical. Standard shape: the canonical spelling gets aud "canonical" (a single audience
/// needs no array, and Debian 12's librhonabwy refuses one); the full publishable key gets aud [canonical, full]
/// and azp full, so an RP configured with either spelling finds itself in aud and, where there are several, in azp.
void set_audience(boost::json::object& claims, std::string_view client_id, std::string_view presented_client_id);

/// Builds the id_token of contract section 4 and signs it with `key` (the client's alg) (OIDC Core 1.0 section 2
/// and 3.1.3.6 for at_hash).
std::string build_id_token(const crypto::SigningKey& key, std::string_view issuer, std::int64_t ttl,
                           const IdTokenInput& in);

/// Left half of SHA-256 of the access token, base64url (OIDC Core 1.0 section 3.1.3.6).
std::string at_hash(std::string_view access_token);

}  // namespace boltauth::core::token
