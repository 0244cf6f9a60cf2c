#include "boltauth/id_token_verifier.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>

#include "base/base64url.hpp"
#include "base/constant_time.hpp"
#include "crypto/digest.hpp"
#include "crypto/jws.hpp"

namespace boltauth {
namespace {

namespace json = boost::json;
using errors::IdTokenError;
using errors::IdTokenFailure;

[[noreturn]] void fail(IdTokenFailure failure, const std::string& message) { throw IdTokenError(failure, message); }

std::optional<std::string> opt_string(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) fail(IdTokenFailure::malformed, std::string("claim ") + std::string(key) + " is not a string");
  return std::string(v->get_string());
}

std::optional<bool> opt_bool(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_bool()) fail(IdTokenFailure::malformed, std::string("claim ") + std::string(key) + " is not a boolean");
  return v->get_bool();
}

// NumericDate (RFC 7519 section 2): a JSON number of seconds, possibly fractional; truncated to whole seconds.
std::optional<std::int64_t> opt_time(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  if (v->is_double() && std::isfinite(v->get_double()) && std::abs(v->get_double()) < 1e15) {
    return static_cast<std::int64_t>(v->get_double());
  }
  fail(IdTokenFailure::malformed, std::string("claim ") + std::string(key) + " is not a NumericDate");
}

bool is_loopback_http(std::string_view url) {
  for (std::string_view prefix : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    if (url.rfind(prefix, 0) == 0) {
      const std::string_view rest = url.substr(prefix.size());
      if (rest.empty() || rest.front() == ':' || rest.front() == '/') return true;
    }
  }
  return false;
}

json::object fetch_json(Transport& transport, const std::string& url, const IdTokenVerifierOptions& options) {
  if (url.rfind("https://", 0) != 0 && !(options.allow_http && url.rfind("http://", 0) == 0) &&
      !is_loopback_http(url)) {
    fail(IdTokenFailure::discovery_failed, "refusing a non-https URL: " + url);
  }
  HttpRequest request;
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  TransportResult r = transport.send(request);
  if (!r.response) fail(IdTokenFailure::discovery_failed, "GET " + url + " failed: " + r.error);
  if (r.response->status != 200) {
    fail(IdTokenFailure::discovery_failed, "GET " + url + " answered " + std::to_string(r.response->status));
  }
  json::error_code ec;
  json::value v = json::parse(r.response->body, ec);
  if (ec || !v.is_object()) fail(IdTokenFailure::discovery_failed, "GET " + url + " did not return a JSON object");
  return std::move(v.as_object());
}

IdTokenFailure map(crypto::JwsError e) {
  switch (e) {
    case crypto::JwsError::malformed:
      return IdTokenFailure::malformed;
    case crypto::JwsError::unsupported_alg:
      return IdTokenFailure::unsupported_alg;
    case crypto::JwsError::forbidden_header:
      return IdTokenFailure::forbidden_header;
    case crypto::JwsError::unknown_kid:
      return IdTokenFailure::unknown_kid;
    case crypto::JwsError::bad_signature:
      return IdTokenFailure::bad_signature;
  }
  return IdTokenFailure::malformed;
}

}  // namespace

namespace {
// The last section of a publishable key (exactly three non-empty dot-separated sections); any other id as it is.
std::string_view canonical_client_id(std::string_view id) {
  const auto first = id.find('.');
  const auto last = id.rfind('.');
  if (first == std::string_view::npos || first == last || id.find('.', first + 1) != last || first == 0 ||
      last == first + 1 || last + 1 == id.size())
    return id;
  return id.substr(last + 1);
}
}  // namespace

IdTokenVerifier::IdTokenVerifier(std::shared_ptr<Transport> transport, IdTokenVerifierOptions options)
    : transport_(std::move(transport)), options_(std::move(options)) {
  if (!transport_) transport_ = std::make_shared<CurlTransport>();
  if (options_.jwks_uri) jwks_uri_ = options_.jwks_uri;
}

IdTokenVerifier::~IdTokenVerifier() = default;

std::uint64_t IdTokenVerifier::jwks_fetches() const {
  std::lock_guard lock(mutex_);
  return fetches_;
}

std::string IdTokenVerifier::jwks_uri_locked() {
  if (jwks_uri_) return *jwks_uri_;
  std::string base = options_.issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const json::object discovery = fetch_json(*transport_, base + "/.well-known/openid-configuration", options_);
  const json::value* issuer = discovery.if_contains("issuer");
  // OIDC Discovery 1.0 section 4.3: the issuer in the document must be identical to the one it was fetched for.
  if (issuer == nullptr || !issuer->is_string() || issuer->get_string() != options_.issuer) {
    fail(IdTokenFailure::discovery_failed, "discovery issuer differs from the configured issuer");
  }
  const json::value* uri = discovery.if_contains("jwks_uri");
  if (uri == nullptr || !uri->is_string()) fail(IdTokenFailure::discovery_failed, "discovery has no jwks_uri");
  jwks_uri_ = std::string(uri->get_string());
  return *jwks_uri_;
}

std::shared_ptr<const json::object> IdTokenVerifier::jwks(bool force_refetch, bool& fetched_now) {
  std::lock_guard lock(mutex_);
  const auto now = options_.now();
  fetched_now = false;
  const bool stale = !jwks_ || now - fetched_at_ >= options_.jwks_ttl;
  const bool may_refetch = !jwks_ || now - fetched_at_ >= options_.min_refetch_interval;
  if (stale || (force_refetch && may_refetch)) {
    json::object fetched = fetch_json(*transport_, jwks_uri_locked(), options_);
    const json::value* keys = fetched.if_contains("keys");
    if (keys == nullptr || !keys->is_array()) fail(IdTokenFailure::discovery_failed, "JWKS has no keys array");
    jwks_ = std::make_shared<const json::object>(std::move(fetched));
    fetched_at_ = now;
    ++fetches_;
    fetched_now = true;
  }
  return jwks_;
}

IdTokenClaims IdTokenVerifier::verify(std::string_view id_token, std::optional<std::string_view> nonce,
                                      std::optional<std::string_view> access_token) {
  // verify_jws accepts only RS256/ES256/EdDSA bound to the key's type; the options may narrow that further below.
  bool fetched_now = false;
  std::shared_ptr<const json::object> keys = jwks(false, fetched_now);
  crypto::JwsVerifyResult result = crypto::verify_jws(id_token, *keys);
  if (!result.claims && result.error == crypto::JwsError::unknown_kid && !fetched_now) {
    // Keys rotate (contract section 4): a kid we have not seen may be a newly published key. One refetch.
    keys = jwks(true, fetched_now);
    if (fetched_now) result = crypto::verify_jws(id_token, *keys);
  }
  if (!result.claims) fail(map(result.error), "id_token signature verification failed");
  const json::value* alg = result.header.if_contains("alg");
  if (alg == nullptr || !alg->is_string() ||
      std::find(options_.algorithms.begin(), options_.algorithms.end(), std::string_view(alg->get_string())) ==
          options_.algorithms.end()) {
    fail(IdTokenFailure::unsupported_alg, "alg not allowed by the verifier's options");
  }
  const json::object& c = *result.claims;

  IdTokenClaims claims;
  claims.raw = c;
  // OIDC Core 3.1.3.7 step 2: iss exactly equal.
  auto iss = opt_string(c, "iss");
  if (!iss) fail(IdTokenFailure::missing_claim, "no iss");
  if (*iss != options_.issuer) fail(IdTokenFailure::wrong_issuer, "iss is " + *iss);
  claims.iss = *iss;
  auto sub = opt_string(c, "sub");
  if (!sub || sub->empty()) fail(IdTokenFailure::missing_claim, "no sub");
  claims.sub = *sub;

  // Step 3: aud, a string or an array of strings, must contain our client id.
  const json::value* aud = c.if_contains("aud");
  if (aud == nullptr) fail(IdTokenFailure::missing_claim, "no aud");
  if (aud->is_string()) {
    claims.aud.emplace_back(aud->get_string());
  } else if (aud->is_array()) {
    for (const json::value& a : aud->get_array()) {
      if (!a.is_string()) fail(IdTokenFailure::malformed, "aud holds a non-string");
      claims.aud.emplace_back(a.get_string());
    }
  } else {
    fail(IdTokenFailure::malformed, "aud is neither a string nor an array");
  }
  // The client id has two spellings: the publishable key (three dot-separated sections) and its last section, the
  // canonical id. The server names the spelling the client authenticated with in aud and azp, next to the
  // canonical id; either spelling of ours is us, whichever one this verifier was configured with.
  const std::string_view ours = canonical_client_id(options_.client_id);
  auto is_us = [&](const std::string& id) {
    return id == options_.client_id || canonical_client_id(id) == ours ||
           std::find(options_.client_id_aliases.begin(), options_.client_id_aliases.end(), id) !=
               options_.client_id_aliases.end();
  };
  if (std::none_of(claims.aud.begin(), claims.aud.end(), is_us)) fail(IdTokenFailure::wrong_audience, "aud is not us");
  // Steps 4-5: several audiences need azp; azp, when present, must be us.
  claims.azp = opt_string(c, "azp");
  if (claims.aud.size() > 1 && !claims.azp) fail(IdTokenFailure::wrong_azp, "several audiences and no azp");
  if (claims.azp && !is_us(*claims.azp)) fail(IdTokenFailure::wrong_azp, "azp is not us");

  // Steps 9-10: exp in the future, iat not in the future (both with leeway).
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(options_.now().time_since_epoch()).count();
  const std::int64_t leeway = options_.leeway.count();
  auto exp = opt_time(c, "exp");
  auto iat = opt_time(c, "iat");
  if (!exp) fail(IdTokenFailure::missing_claim, "no exp");
  if (!iat) fail(IdTokenFailure::missing_claim, "no iat");
  if (now > *exp + leeway) fail(IdTokenFailure::expired, "id_token expired");
  if (*iat > now + leeway) fail(IdTokenFailure::issued_in_future, "iat is in the future");
  claims.exp = *exp;
  claims.iat = *iat;
  claims.auth_time = opt_time(c, "auth_time");

  // Step 11: nonce equal to the one sent.
  claims.nonce = opt_string(c, "nonce");
  if (nonce) {
    if (!claims.nonce || !base::constant_time_equal(*claims.nonce, *nonce)) {
      fail(IdTokenFailure::nonce_mismatch, "nonce differs");
    }
  }
  // OIDC Core 3.1.3.8 / 3.3.2.11: at_hash = base64url(left half of SHA-256(access_token)).
  claims.at_hash = opt_string(c, "at_hash");
  if (access_token && claims.at_hash) {
    // Contract section 4: left half of SHA-256 for every alg boltauth signs with.
    const crypto::Digest digest = crypto::sha256(*access_token);
    const std::string expected =
        base::base64url_encode(std::span<const std::uint8_t>(digest.data(), digest.size() / 2));
    if (!base::constant_time_equal(expected, *claims.at_hash))
      fail(IdTokenFailure::at_hash_mismatch, "at_hash differs");
  }
  claims.email = opt_string(c, "email");
  claims.email_verified = opt_bool(c, "email_verified");
  claims.first_name = opt_string(c, "first_name");
  claims.last_name = opt_string(c, "last_name");
  claims.phone_number = opt_string(c, "phone_number");
  claims.phone_number_verified = opt_bool(c, "phone_number_verified");
  return claims;
}

}  // namespace boltauth
