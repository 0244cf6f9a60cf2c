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
  /// The client_id as the client spelled it at the token endpoint (empty: the canonical one).
  std::string_view presented_client_id;
  /// A single audience as a string (the standard path) rather than Bolt's one-element array.
  bool single_audience_as_string = false;
  std::string_view nonce;
  std::string_view access_token;
  base::UnixSeconds auth_time;
  base::UnixSeconds now;
};

/// `aud` and `azp` (OIDC Core 1.0 sections 2 and 3.1.3.7 steps 3-5), on every path: the full publishable key gets
/// aud [canonical, full] and azp full, so an RP configured with either spelling finds itself in aud and, where
/// there are several, in azp; Bolt-style verifiers find the canonical id in aud. The canonical spelling gets one
/// audience, azp canonical: a string when `single_as_string` (the standard path: Debian 12's librhonabwy refuses
/// an array), else Bolt's one-element array.
void set_audience(boost::json::object& claims, std::string_view client_id, std::string_view presented_client_id,
                  bool single_as_string);

/// Builds the id_token of contract section 4 and signs it with `key` (the client's alg) (OIDC Core 1.0 section 2
/// and 3.1.3.6 for at_hash).
std::string build_id_token(const crypto::SigningKey& key, std::string_view issuer, std::int64_t ttl,
                           const IdTokenInput& in);

/// Left half of SHA-256 of the access token, base64url (OIDC Core 1.0 section 3.1.3.6).
std::string at_hash(std::string_view access_token);

}  // namespace boltauth::core::token
