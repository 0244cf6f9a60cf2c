// JWKS documents as the SDK downloads them (IdTokenVerifier) and as crypto::verify_jws reads them: any body at the
// JWKS URI, checked against one genuine RS256 id_token. Property: the token verifies only when the document
// carries the genuine key (its modulus), whatever else it holds.
#include <boost/json.hpp>

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
  crypto::SigningKey key = crypto::SigningKey::from_pem(kFuzzRsaPem);
  std::string modulus = std::string(key.public_jwk().at("n").as_string());
  std::string token = crypto::sign_jwt(
      key,
      boost::json::object{
          {"iss", kIssuer}, {"sub", "shopper"}, {"aud", "client-1"}, {"iat", 1'799'999'000}, {"exp", 1'800'003'600}});
};

class MemoryTransport : public Transport {
 public:
  explicit MemoryTransport(std::string_view body) : body_(body) {}
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
  const auto genuine = f.key.public_jwk();
  fuzz::write_seed("genuine", boost::json::serialize(boost::json::object{{"keys", boost::json::array{genuine}}}));
  auto wrong_kid = genuine;
  wrong_kid["kid"] = "other";
  auto ec = crypto::SigningKey::from_pem(kFuzzEcPem).public_jwk();
  fuzz::write_seed("two-keys",
                   boost::json::serialize(boost::json::object{{"keys", boost::json::array{ec, wrong_kid, genuine}}}));
  fuzz::write_seed("empty", R"({"keys":[]})");
  std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  static const Fixture f;
  const auto body = fuzz::as_view(data, size);
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  // Present as text, or under JSON escapes in the parsed document.
  bool genuine_present = body.find(f.modulus) != std::string_view::npos;
  if (!ec && parsed.is_object())
    if (const auto* keys = parsed.as_object().if_contains("keys"); keys && keys->is_array())
      for (const auto& k : keys->as_array())
        if (const auto* n = k.is_object() ? k.as_object().if_contains("n") : nullptr; n && n->is_string())
          genuine_present = genuine_present || n->as_string() == f.modulus;

  IdTokenVerifierOptions o;
  o.issuer = kIssuer;
  o.client_id = "client-1";
  o.jwks_uri = std::string(kIssuer) + "/.well-known/jwks.json";
  o.allow_http = true;
  o.now = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)); };
  IdTokenVerifier verifier(std::make_shared<MemoryTransport>(body), o);
  try {
    const auto claims = verifier.verify(f.token);
    FUZZ_CHECK(genuine_present);
    FUZZ_CHECK(claims.sub == "shopper");
  } catch (const errors::IdTokenError&) {
  } catch (const errors::BoltError&) {
  }

  if (!ec && parsed.is_object()) {
    const auto result = crypto::verify_jws(f.token, parsed.as_object());
    if (result.claims) FUZZ_CHECK(genuine_present);
  }
  return 0;
}
