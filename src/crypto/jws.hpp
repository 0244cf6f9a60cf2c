#pragma once
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/signing_key.hpp"

namespace boltauth::crypto {

/// Compact JWS (RFC 7515) with header {"alg":key.alg(),"kid":key.kid(),"typ":"JWT"} over the serialized claims.
std::string sign_jwt(const SigningKey& key, const boost::json::object& claims);

enum class JwsError {
  malformed,         // not three base64url parts, non-canonical base64url, bad JSON, duplicate JSON keys
  unsupported_alg,   // alg missing, "none" in any case, HS*, or not the key's alg
  forbidden_header,  // jwk, jku, x5u, x5c or unknown crit present
  unknown_kid,       // no key in the set with that kid
  bad_signature,     // OpenSSL did not return exactly 1; all-zero ECDSA signatures
};

struct JwsVerifyResult {
  std::optional<boost::json::object> claims;
  boost::json::object header;
  JwsError error = JwsError::malformed;
};

/// Verifies a compact JWS against a JWKS object ({"keys":[...]}) of public keys (RSA for now), as
/// hardened as checklist G3 asks. Claims are returned unchecked (iss/aud/exp are the caller's).
JwsVerifyResult verify_jws(std::string_view compact, const boost::json::object& jwks);

}  // namespace boltauth::crypto
