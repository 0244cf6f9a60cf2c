#pragma once
/// @file
/// OpenID Connect id_token verification (OIDC Core 1.0 section 3.1.3.7) with discovery and a cached JWKS.
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boltauth/errors.hpp"
#include "boltauth/http.hpp"

namespace boltauth {

/// The claims of a verified id_token. Standard claims are typed; everything is in `raw`.
struct IdTokenClaims {
  std::string iss;
  std::string sub;
  std::vector<std::string> aud;
  std::optional<std::string> azp;
  std::int64_t exp = 0;
  std::int64_t iat = 0;
  std::optional<std::int64_t> auth_time;
  std::optional<std::string> nonce;
  std::optional<std::string> at_hash;
  std::optional<std::string> email;
  std::optional<bool> email_verified;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> phone_number;
  std::optional<bool> phone_number_verified;
  boost::json::object raw;
};

struct IdTokenVerifierOptions {
  /// Expected `iss`, byte for byte; discovery is fetched from `<issuer>/.well-known/openid-configuration` and its
  /// `issuer` must be identical (OIDC Discovery 1.0 section 4.3).
  std::string issuer;
  /// Expected audience: the client id (last section of the publishable key).
  std::string client_id;
  /// Other accepted spellings of the client id in `aud`/`azp` (e.g. the full publishable key).
  std::vector<std::string> client_id_aliases;
  /// Clock skew tolerated on exp and iat.
  std::chrono::seconds leeway{60};
  /// How long a fetched JWKS is used before it is fetched again.
  std::chrono::seconds jwks_ttl{3600};
  /// An unknown kid triggers one refetch, at most once per this interval (a flood of forged kids cannot turn
  /// into a flood of JWKS requests).
  std::chrono::seconds min_refetch_interval{30};
  /// Accepted algorithms (the verifier itself only implements these three).
  std::vector<std::string> algorithms{"RS256", "ES256", "EdDSA"};
  /// Plain http is accepted for loopback issuers (local boltauth) or when this is set.
  bool allow_http = false;
  /// Known JWKS URI: skips discovery when set.
  std::optional<std::string> jwks_uri;
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
};

/// Verifies id_tokens. Thread-safe; the JWKS is shared and refreshed under a lock.
///
/// Hardening (security checklist G3): compact JWS only; `alg` must be RS256, ES256 or EdDSA and match the key
/// (so `none` in any case and HS/RS key confusion fail); `jwk`, `jku`, `x5u`, `x5c` and `crit` headers are
/// refused; base64url must be canonical; duplicate JSON keys are refused; the all-zero ECDSA signature fails;
/// only OpenSSL's `== 1` counts as a valid signature.
class IdTokenVerifier {
 public:
  IdTokenVerifier(std::shared_ptr<Transport> transport, IdTokenVerifierOptions options);
  ~IdTokenVerifier();

  /// Verifies signature and claims. `nonce`: the value sent in the authorization request, if any (then the claim
  /// must equal it). `access_token`: when given and the token has `at_hash`, it must match (OIDC Core 3.1.3.8).
  /// @throws errors::IdTokenError
  IdTokenClaims verify(std::string_view id_token, std::optional<std::string_view> nonce = std::nullopt,
                       std::optional<std::string_view> access_token = std::nullopt);

  /// JWKS downloads so far (tests and metrics).
  std::uint64_t jwks_fetches() const;

 private:
  std::shared_ptr<const boost::json::object> jwks(bool force_refetch, bool& fetched_now);
  std::string jwks_uri_locked();

  std::shared_ptr<Transport> transport_;
  IdTokenVerifierOptions options_;
  mutable std::mutex mutex_;
  std::optional<std::string> jwks_uri_;
  std::shared_ptr<const boost::json::object> jwks_;  // replaced, never mutated: readers share it without a copy
  std::chrono::system_clock::time_point fetched_at_{};
  std::uint64_t fetches_ = 0;
};

}  // namespace boltauth
