// IdTokenVerifier against crafted tokens: checklist G3 item by item, the OIDC claim checks, and JWKS caching with
// one refetch on an unknown kid.
#include "boltauth/id_token_verifier.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json/serialize.hpp>
#include <memory>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/jws.hpp"
#include "crypto/signing_key.hpp"
#include "fake_transport.hpp"

namespace boltauth {
namespace {

namespace json = boost::json;
using crypto::SigningKey;
using errors::IdTokenFailure;
using namespace std::chrono_literals;

constexpr const char* kIssuer = "https://issuer.example";
constexpr const char* kClient = "c0ffee";
constexpr std::int64_t kNow = 1'800'000'000;

std::string pem_of(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PKCS8PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

SigningKey generated(const char* type, const char* curve = nullptr) {
  EVP_PKEY* pkey =
      curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve) : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  SigningKey key = SigningKey::from_pem(pem_of(pkey));
  EVP_PKEY_free(pkey);
  return key;
}

const SigningKey& rsa() {
  static const SigningKey key = SigningKey::generate_rsa(2048);
  return key;
}
const SigningKey& rsa2() {
  static const SigningKey key = SigningKey::generate_rsa(2048);
  return key;
}
const SigningKey& ec() {
  static const SigningKey key = generated("EC", "P-256");
  return key;
}
const SigningKey& ed() {
  static const SigningKey key = generated("ED25519");
  return key;
}

std::string b64(std::string_view s) { return base::base64url_encode(s); }

json::object claims(std::int64_t now = kNow) {
  return json::object{{"iss", kIssuer},
                      {"sub", "acct_123"},
                      {"aud", json::array{kClient}},
                      {"azp", kClient},
                      {"exp", now + 3600},
                      {"iat", now},
                      {"auth_time", now - 5},
                      {"nonce", "n-0S6_WzA2Mj"},
                      {"email", "ada@example.com"},
                      {"email_verified", true},
                      {"first_name", "Ada"},
                      {"last_name", "Lovelace"},
                      {"phone_number", "+12125550199"},
                      {"phone_number_verified", false}};
}

// header and payload texts as given, signed by `key`.
std::string craft(std::string_view header_json, std::string_view payload_json, const SigningKey& key) {
  std::string input = b64(header_json) + "." + b64(payload_json);
  return input + "." + base::base64url_encode(key.sign(input));
}

std::string header_for(const SigningKey& key, std::string_view extra = "") {
  return R"({"alg":")" + key.alg() + R"(","kid":")" + key.kid() + R"(","typ":"JWT")" + std::string(extra) + "}";
}

struct Env {
  std::shared_ptr<sdktest::FakeTransport> transport = std::make_shared<sdktest::FakeTransport>();
  std::mutex mutex;
  json::object jwks;
  std::string discovery_issuer = kIssuer;
  std::atomic<std::int64_t> now{kNow};

  explicit Env(std::initializer_list<const SigningKey*> keys = {&rsa(), &ec(), &ed()}) {
    publish(keys);
    transport->fallback = [this](const HttpRequest& r) {
      std::lock_guard lock(mutex);
      if (r.url == std::string(kIssuer) + "/.well-known/openid-configuration") {
        return sdktest::respond(200, json::serialize(json::object{{"issuer", discovery_issuer},
                                                                  {"jwks_uri", "https://keys.example/jwks"}}));
      }
      if (r.url == "https://keys.example/jwks") return sdktest::respond(200, json::serialize(jwks));
      return sdktest::respond(404, "{}");
    };
  }
  void publish(std::initializer_list<const SigningKey*> keys) {
    std::lock_guard lock(mutex);
    json::array list;
    for (const SigningKey* k : keys) list.push_back(k->public_jwk());
    jwks = json::object{{"keys", std::move(list)}};
  }
  IdTokenVerifierOptions options() {
    IdTokenVerifierOptions o;
    o.issuer = kIssuer;
    o.client_id = kClient;
    o.now = [this] { return std::chrono::system_clock::time_point(std::chrono::seconds(now.load())); };
    return o;
  }
  IdTokenVerifier verifier() { return IdTokenVerifier(transport, options()); }
};

::testing::AssertionResult Refused(IdTokenVerifier& v, const std::string& token, IdTokenFailure expected,
                                   std::optional<std::string_view> nonce = std::nullopt,
                                   std::optional<std::string_view> access_token = std::nullopt) {
  try {
    v.verify(token, nonce, access_token);
    return ::testing::AssertionFailure() << "accepted";
  } catch (const errors::IdTokenError& e) {
    if (e.failure() != expected) {
      return ::testing::AssertionFailure() << "failure " << static_cast<int>(e.failure()) << " (" << e.what()
                                           << "), expected " << static_cast<int>(expected);
    }
    return ::testing::AssertionSuccess();
  }
}

TEST(IdTokenVerifier, AcceptsEachAlgorithmAndReturnsTypedClaims) {
  Env env;
  auto v = env.verifier();
  for (const SigningKey* key : {&rsa(), &ec(), &ed()}) {
    const IdTokenClaims c = v.verify(crypto::sign_jwt(*key, claims()), "n-0S6_WzA2Mj");
    EXPECT_EQ(c.iss, kIssuer);
    EXPECT_EQ(c.sub, "acct_123");
    EXPECT_EQ(c.aud, std::vector<std::string>{kClient});
    EXPECT_EQ(c.azp, kClient);
    EXPECT_EQ(c.exp, kNow + 3600);
    EXPECT_EQ(c.iat, kNow);
    EXPECT_EQ(c.auth_time, kNow - 5);
    EXPECT_EQ(c.email, "ada@example.com");
    EXPECT_EQ(c.email_verified, true);
    EXPECT_EQ(c.first_name, "Ada");
    EXPECT_EQ(c.last_name, "Lovelace");
    EXPECT_EQ(c.phone_number, "+12125550199");
    EXPECT_EQ(c.phone_number_verified, false);
    EXPECT_EQ(c.raw.at("sub"), "acct_123");
  }
  EXPECT_EQ(v.jwks_fetches(), 1u) << "the JWKS is cached";
}

// ---- checklist G3 ------------------------------------------------------------------------------------

TEST(IdTokenVerifier, G3RejectsAlgNoneInAnyCase) {
  Env env;
  auto v = env.verifier();
  const std::string payload = json::serialize(claims());
  for (const char* alg : {"none", "NONE", "None", "nOnE"}) {
    const std::string h = std::string(R"({"alg":")") + alg + R"(","kid":")" + rsa().kid() + R"("})";
    EXPECT_TRUE(Refused(v, b64(h) + "." + b64(payload) + ".", IdTokenFailure::malformed) ||
                Refused(v, b64(h) + "." + b64(payload) + ".", IdTokenFailure::unsupported_alg))
        << alg;
    // With a non-empty signature the alg check is what refuses it.
    EXPECT_TRUE(Refused(v, b64(h) + "." + b64(payload) + "." + b64("x"), IdTokenFailure::unsupported_alg)) << alg;
  }
}

TEST(IdTokenVerifier, G3RejectsRsHsKeyConfusion) {
  Env env;
  auto v = env.verifier();
  // HS256 "signed" with the RSA public key's bytes as the HMAC secret: the classic confusion attack.
  const std::string h = R"({"alg":"HS256","kid":")" + rsa().kid() + R"("})";
  const std::string input = b64(h) + "." + b64(json::serialize(claims()));
  const std::string secret = json::serialize(rsa().public_jwk());
  const auto mac = crypto::hmac_sha256(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()), input);
  EXPECT_TRUE(Refused(v, input + "." + base::base64url_encode(mac), IdTokenFailure::unsupported_alg));
  // An RS256 header naming the EC key, signed with RSA: the alg must match the key's type.
  EXPECT_TRUE(Refused(v, craft(R"({"alg":"RS256","kid":")" + ec().kid() + R"("})", json::serialize(claims()), rsa()),
                      IdTokenFailure::unsupported_alg));
}

TEST(IdTokenVerifier, G3RejectsTheAllZeroEcdsaSignature) {
  Env env;
  auto v = env.verifier();
  const std::string good = crypto::sign_jwt(ec(), claims());
  const std::string input = good.substr(0, good.rfind('.') + 1);
  EXPECT_TRUE(
      Refused(v, input + base::base64url_encode(std::vector<std::uint8_t>(64, 0)), IdTokenFailure::bad_signature));
}

TEST(IdTokenVerifier, G3RejectsKeyCarryingHeadersAndCrit) {
  Env env;
  auto v = env.verifier();
  const std::string payload = json::serialize(claims());
  const std::string jwk = json::serialize(rsa().public_jwk());
  for (const std::string& extra : {R"(,"jwk":)" + jwk, std::string(R"(,"jku":"https://evil.example/jwks")"),
                                   std::string(R"(,"x5u":"https://evil.example/cert")"),
                                   std::string(R"(,"x5c":["MIIB"])"), std::string(R"(,"crit":["exp"],"exp":1)")}) {
    EXPECT_TRUE(Refused(v, craft(header_for(rsa(), extra), payload, rsa()), IdTokenFailure::forbidden_header)) << extra;
  }
}

TEST(IdTokenVerifier, G3RejectsNonCanonicalBase64url) {
  Env env;
  auto v = env.verifier();
  const std::string good = crypto::sign_jwt(ed(), claims());
  ASSERT_NO_THROW(v.verify(good));
  const std::size_t dot1 = good.find('.');
  const std::size_t dot2 = good.rfind('.');
  // Padding, standard-alphabet characters, whitespace, and non-zero unused trailing bits.
  EXPECT_TRUE(Refused(v, good + "=", IdTokenFailure::malformed));
  std::string plus = good;
  plus[dot1 + 1] = '+';
  EXPECT_TRUE(Refused(v, plus, IdTokenFailure::malformed));
  EXPECT_TRUE(Refused(v, good.substr(0, dot1) + " " + good.substr(dot1), IdTokenFailure::malformed));
  // The Ed25519 signature is 64 bytes = 86 chars, whose last char carries 4 unused bits: flip one of them.
  std::string trailing = good;
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::size_t last = alphabet.find(trailing.back());
  trailing.back() = alphabet[(last & ~std::size_t{15}) | ((last & 15) ^ 1)];
  ASSERT_NE(trailing, good);
  ASSERT_EQ(good.size() - dot2 - 1, 86u);
  EXPECT_TRUE(Refused(v, trailing, IdTokenFailure::malformed));
}

TEST(IdTokenVerifier, G3RejectsDuplicateJsonKeys) {
  Env env;
  auto v = env.verifier();
  std::string payload = json::serialize(claims());
  payload.insert(1, R"("sub":"attacker",)");  // a second "sub": parsers disagree on which wins
  EXPECT_TRUE(Refused(v, craft(header_for(rsa()), payload, rsa()), IdTokenFailure::malformed));
  const std::string dup_header = R"({"alg":"RS256","alg":"none","kid":")" + rsa().kid() + R"("})";
  EXPECT_TRUE(Refused(v, craft(dup_header, json::serialize(claims()), rsa()), IdTokenFailure::malformed));
}

TEST(IdTokenVerifier, G3OnlyAValidSignatureCounts) {
  Env env;
  auto v = env.verifier();
  for (const SigningKey* key : {&rsa(), &ec(), &ed()}) {
    std::string token = crypto::sign_jwt(*key, claims());
    token[token.size() - 10] = token[token.size() - 10] == 'A' ? 'B' : 'A';
    EXPECT_TRUE(Refused(v, token, IdTokenFailure::bad_signature)) << key->alg();
    // Claims changed after signing.
    const std::string good = crypto::sign_jwt(*key, claims());
    json::object forged = claims();
    forged["sub"] = "someone_else";
    const std::string swapped =
        good.substr(0, good.find('.') + 1) + b64(json::serialize(forged)) + good.substr(good.rfind('.'));
    EXPECT_TRUE(Refused(v, swapped, IdTokenFailure::bad_signature)) << key->alg();
  }
  EXPECT_TRUE(Refused(v, "a.b", IdTokenFailure::malformed));
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), claims()) + ".x.y", IdTokenFailure::malformed)) << "JWE shape";
  EXPECT_TRUE(Refused(v, "", IdTokenFailure::malformed));
}

TEST(IdTokenVerifier, AlgorithmAllowListNarrows) {
  Env env;
  auto o = env.options();
  o.algorithms = {"RS256"};
  IdTokenVerifier v(env.transport, o);
  EXPECT_NO_THROW(v.verify(crypto::sign_jwt(rsa(), claims())));
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(ed(), claims()), IdTokenFailure::unsupported_alg));
}

// ---- claims (OIDC Core 3.1.3.7) ---------------------------------------------------------------------

TEST(IdTokenVerifier, ExpiredWithLeeway) {
  Env env;
  auto v = env.verifier();
  const std::string token = crypto::sign_jwt(rsa(), claims());
  env.now = kNow + 3600 + 60;
  EXPECT_NO_THROW(v.verify(token)) << "within the 60 s leeway";
  env.now = kNow + 3600 + 61;
  EXPECT_TRUE(Refused(v, token, IdTokenFailure::expired));
}

TEST(IdTokenVerifier, IssuedInTheFuture) {
  Env env;
  auto v = env.verifier();
  EXPECT_NO_THROW(v.verify(crypto::sign_jwt(rsa(), claims(kNow + 60))));
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), claims(kNow + 61)), IdTokenFailure::issued_in_future));
}

TEST(IdTokenVerifier, WrongIssuer) {
  Env env;
  auto v = env.verifier();
  for (const char* iss : {"https://evil.example", "https://issuer.example/", "HTTPS://issuer.example"}) {
    json::object c = claims();
    c["iss"] = iss;
    EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), c), IdTokenFailure::wrong_issuer)) << iss;
  }
  json::object no_iss = claims();
  no_iss.erase("iss");
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), no_iss), IdTokenFailure::missing_claim));
}

TEST(IdTokenVerifier, AudienceAsStringOrArray) {
  Env env;
  auto v = env.verifier();
  json::object as_string = claims();
  as_string["aud"] = kClient;
  EXPECT_EQ(v.verify(crypto::sign_jwt(rsa(), as_string)).aud, std::vector<std::string>{kClient});
  for (const json::value& aud : {json::value("other"), json::value(json::array{"other"}), json::value(json::array{}),
                                 json::value(json::array{"C0FFEE"})}) {
    json::object c = claims();
    c["aud"] = aud;
    EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), c), IdTokenFailure::wrong_audience)) << json::serialize(aud);
  }
  json::object numeric = claims();
  numeric["aud"] = 5;
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), numeric), IdTokenFailure::malformed));
  // Aliases: the full publishable key is accepted when configured.
  auto o = env.options();
  o.client_id_aliases = {"k1.k2.c0ffee"};
  IdTokenVerifier aliased(env.transport, o);
  json::object full = claims();
  full["aud"] = "k1.k2.c0ffee";
  full["azp"] = "k1.k2.c0ffee";
  EXPECT_NO_THROW(aliased.verify(crypto::sign_jwt(rsa(), full)));
}

TEST(IdTokenVerifier, Azp) {
  Env env;
  auto v = env.verifier();
  json::object several = claims();
  several["aud"] = json::array{kClient, "another"};
  several.erase("azp");
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), several), IdTokenFailure::wrong_azp));
  several["azp"] = kClient;
  EXPECT_NO_THROW(v.verify(crypto::sign_jwt(rsa(), several)));
  json::object other = claims();
  other["azp"] = "another";
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), other), IdTokenFailure::wrong_azp));
}

// The server's id_token for a client that authenticated with its full publishable key: aud [canonical, full], azp
// full. Either spelling configured verifies it; a publishable key of another client (another last section) does not.
TEST(IdTokenVerifier, EitherSpellingOfTheClientIdIsUs) {
  Env env;
  json::object c = claims();
  c["aud"] = json::array{kClient, "k1.k2.c0ffee"};
  c["azp"] = "k1.k2.c0ffee";
  const std::string token = crypto::sign_jwt(rsa(), c);
  EXPECT_NO_THROW(env.verifier().verify(token)) << "configured with the canonical id";
  auto o = env.options();
  o.client_id = "k1.k2.c0ffee";
  IdTokenVerifier full(env.transport, o);
  EXPECT_NO_THROW(full.verify(token)) << "configured with the publishable key";
  json::object only_full = claims();
  only_full["aud"] = "k1.k2.c0ffee";
  only_full["azp"] = "k1.k2.c0ffee";
  EXPECT_NO_THROW(env.verifier().verify(crypto::sign_jwt(rsa(), only_full)));
  for (const char* stranger : {"k1.k2.beef", "k1.c0ffee", "k1.k2.k3.c0ffee", "..c0ffee"}) {
    json::object x = claims();
    x["azp"] = stranger;
    auto v = env.verifier();
    EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), x), IdTokenFailure::wrong_azp)) << stranger;
  }
}

TEST(IdTokenVerifier, NonceAndAtHash) {
  Env env;
  auto v = env.verifier();
  const std::string access_token = "abc.def";
  const auto digest = crypto::sha256(access_token);
  json::object c = claims();
  c["at_hash"] = base::base64url_encode(std::span<const std::uint8_t>(digest.data(), 16));
  const std::string token = crypto::sign_jwt(rsa(), c);
  EXPECT_NO_THROW(v.verify(token, "n-0S6_WzA2Mj", access_token));
  EXPECT_TRUE(Refused(v, token, IdTokenFailure::nonce_mismatch, "another nonce"));
  EXPECT_TRUE(Refused(v, token, IdTokenFailure::at_hash_mismatch, std::nullopt, "another.token"));
  json::object no_nonce = claims();
  no_nonce.erase("nonce");
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), no_nonce), IdTokenFailure::nonce_mismatch, "n-0S6_WzA2Mj"));
  EXPECT_NO_THROW(v.verify(crypto::sign_jwt(rsa(), no_nonce))) << "no nonce expected, none required";
}

TEST(IdTokenVerifier, RequiredClaimsAndTypes) {
  Env env;
  auto v = env.verifier();
  for (const char* name : {"sub", "exp", "iat", "aud"}) {
    json::object c = claims();
    c.erase(name);
    EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), c), IdTokenFailure::missing_claim)) << name;
  }
  json::object string_exp = claims();
  string_exp["exp"] = "1800003600";
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), string_exp), IdTokenFailure::malformed));
  json::object bad_email_verified = claims();
  bad_email_verified["email_verified"] = "true";
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), bad_email_verified), IdTokenFailure::malformed));
}

// ---- discovery and JWKS -----------------------------------------------------------------------------

TEST(IdTokenVerifier, UnknownKidThenRotatedJwks) {
  Env env({&rsa()});
  auto v = env.verifier();
  EXPECT_NO_THROW(v.verify(crypto::sign_jwt(rsa(), claims())));
  EXPECT_EQ(v.jwks_fetches(), 1u);

  // A token from a key not published (yet): one refetch, still unknown.
  env.now += 31;
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa2(), claims(env.now)), IdTokenFailure::unknown_kid));
  EXPECT_EQ(v.jwks_fetches(), 2u);
  // Again right away: the refetch is rate-limited, no new download.
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa2(), claims(env.now)), IdTokenFailure::unknown_kid));
  EXPECT_EQ(v.jwks_fetches(), 2u);

  // The issuer rotates: the new key is published (old one kept). After the interval the unknown kid refetches.
  env.publish({&rsa(), &rsa2()});
  env.now += 31;
  EXPECT_NO_THROW(v.verify(crypto::sign_jwt(rsa2(), claims(env.now))));
  EXPECT_EQ(v.jwks_fetches(), 3u);
  EXPECT_NO_THROW(v.verify(crypto::sign_jwt(rsa(), claims(env.now)))) << "the old key still verifies";
  EXPECT_EQ(v.jwks_fetches(), 3u);

  // Old key retired: its tokens fail once the cache expires.
  env.publish({&rsa2()});
  env.now += 3600;
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), claims(env.now)), IdTokenFailure::unknown_kid));
  EXPECT_EQ(v.jwks_fetches(), 4u) << "TTL expiry refetched; no second refetch for the same flight";
}

TEST(IdTokenVerifier, DiscoveryIssuerMustMatch) {
  Env env;
  env.discovery_issuer = "https://issuer.example/";
  auto v = env.verifier();
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), claims()), IdTokenFailure::discovery_failed));
}

TEST(IdTokenVerifier, RefusesPlainHttpExceptLoopback) {
  Env env;
  auto o = env.options();
  o.issuer = "http://issuer.example";
  IdTokenVerifier v(env.transport, o);
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), claims()), IdTokenFailure::discovery_failed));
  EXPECT_TRUE(env.transport->requests().empty()) << "nothing fetched over plain http";
}

TEST(IdTokenVerifier, DiscoveryFailures) {
  Env env;
  auto o = env.options();
  o.issuer = "https://down.example";
  IdTokenVerifier v(env.transport, o);
  EXPECT_TRUE(Refused(v, crypto::sign_jwt(rsa(), claims()), IdTokenFailure::discovery_failed));
}

}  // namespace
}  // namespace boltauth
