#include "core/token/id_token_builder.hpp"

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/jws.hpp"

namespace boltauth::core::token {

std::string at_hash(std::string_view access_token) {
  const auto digest = crypto::sha256(access_token);
  return base::base64url_encode(std::span<const std::uint8_t>(digest.data(), digest.size() / 2));
}

void set_audience(boost::json::object& claims, std::string_view client_id, std::string_view presented_client_id,
                  bool single_as_string) {
  if (presented_client_id.empty() || presented_client_id == client_id) {
    if (single_as_string)
      claims["aud"] = client_id;
    else
      claims["aud"] = boost::json::array{boost::json::string(client_id)};
    claims["azp"] = client_id;
  } else {
    claims["aud"] = boost::json::array{boost::json::string(client_id), boost::json::string(presented_client_id)};
    claims["azp"] = presented_client_id;
  }
}

std::string build_id_token(const crypto::SigningKey& key, std::string_view issuer, std::int64_t ttl,
                           const IdTokenInput& in) {
  boost::json::object claims;
  claims["iss"] = issuer;
  claims["sub"] = in.account.sub;
  set_audience(claims, in.client_id, in.presented_client_id, in.single_audience_as_string);
  claims["iat"] = in.now;
  claims["exp"] = in.now + ttl;
  claims["auth_time"] = in.auth_time;
  if (!in.nonce.empty()) claims["nonce"] = in.nonce;
  claims["at_hash"] = at_hash(in.access_token);
  // Bolt's plugins read these four with every openid grant (contract section 4).
  claims["email"] = in.account.email;
  claims["email_verified"] = in.account.email_verified;
  claims["first_name"] = in.account.first_name;
  claims["last_name"] = in.account.last_name;
  if (in.account.phone) {
    claims["phone_number"] = *in.account.phone;
    claims["phone_number_verified"] = in.account.phone_verified;
  }
  return crypto::sign_jwt(key, claims);
}

}  // namespace boltauth::core::token
