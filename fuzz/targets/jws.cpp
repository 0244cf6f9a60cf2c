// id_token verification in the SDK (IdTokenVerifier over crypto::verify_jws): compact JWS parsing, header rules
// (alg, kid, crit, jwk/jku/x5u/x5c), signature and claim checks. The JWKS holds one key of each type. Property:
// an accepted token names our issuer and audience and is signed by one of the keys (never alg none or HS*).
#include <boost/json.hpp>

#include <algorithm>

#include "boltauth/errors.hpp"
#include "boltauth/http.hpp"
#include "boltauth/id_token_verifier.hpp"
#include "crypto/jws.hpp"
#include "crypto/signing_key.hpp"
#include "fixture_keys.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace boltauth;

constexpr const char* kIssuer = "http://127.0.0.1:8080";

struct Fixture {
  std::vector<crypto::SigningKey> keys;
  std::string jwks;
  Fixture() {
    for (const char* pem : {kFuzzRsaPem, kFuzzEcPem, kFuzzEdPem}) keys.push_back(crypto::SigningKey::from_pem(pem));
    boost::json::array list;
    for (const auto& k : keys) list.push_back(k.public_jwk());
    jwks = boost::json::serialize(boost::json::object{{"keys", list}});
  }
};

/// Serves only the JWKS, from memory.
class MemoryTransport : public Transport {
 public:
  explicit MemoryTransport(std::string body) : body_(std::move(body)) {}
  TransportResult send(const HttpRequest&) override {
    TransportResult r;
    r.response = HttpResponse{200, {{"content-type", "application/json"}}, body_};
    return r;
  }

 private:
  std::string body_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!fuzz::seed_dir()) return 0;
  const Fixture f;
  const boost::json::object claims{{"iss", kIssuer},
                                   {"sub", "shopper-1"},
                                   {"aud", "client-1"},
                                   {"azp", "client-1"},
                                   {"iat", 1'799'999'000},
                                   {"exp", 1'800'003'600},
                                   {"auth_time", 1'799'999'000},
                                   {"nonce", "n-0S6_WzA2Mj"},
                                   {"email", "shopper@example.com"},
                                   {"email_verified", true}};
  int n = 0;
  for (const auto& key : f.keys) fuzz::write_seed("signed-" + std::to_string(n++), crypto::sign_jwt(key, claims));
  auto other_aud = claims;
  other_aud["aud"] = boost::json::array{"client-1", "other"};
  fuzz::write_seed("signed-multi-aud", crypto::sign_jwt(f.keys[0], other_aud));
  fuzz::write_seed("alg-none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.");
  std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  static const Fixture f;
  static IdTokenVerifier verifier = [] {
    IdTokenVerifierOptions o;
    o.issuer = kIssuer;
    o.client_id = "client-1";
    o.jwks_uri = std::string(kIssuer) + "/.well-known/jwks.json";
    o.allow_http = true;
    o.min_refetch_interval = std::chrono::hours(1000);
    o.now = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)); };
    return IdTokenVerifier(std::make_shared<MemoryTransport>(f.jwks), o);
  }();
  const auto token = fuzz::as_view(data, size);
  try {
    const auto claims = verifier.verify(token);
    FUZZ_CHECK(claims.iss == kIssuer);
    FUZZ_CHECK(std::find(claims.aud.begin(), claims.aud.end(), "client-1") != claims.aud.end());
  } catch (const errors::IdTokenError&) {
  }
  // The server's own use (id_token_hint): the same verifier, claims unchecked.
  const auto result = crypto::verify_jws(token, boost::json::parse(f.jwks).as_object());
  if (result.claims) {
    const auto* alg = result.header.if_contains("alg");
    FUZZ_CHECK(alg && alg->is_string());
    const auto a = alg->as_string();
    FUZZ_CHECK(a == "RS256" || a == "ES256" || a == "EdDSA");
  }
  return 0;
}
