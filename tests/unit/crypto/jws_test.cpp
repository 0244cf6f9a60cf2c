#include "crypto/jws.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/signing_key.hpp"

namespace boltauth::crypto {
namespace {

namespace json = boost::json;

// ---- helpers ---------------------------------------------------------------------------------------

// RSA keygen is slow: one 2048-bit key for the whole binary.
const SigningKey& rsa_key() {
  static const SigningKey key = SigningKey::generate_rsa(2048);
  return key;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string pem_of(EVP_PKEY* pkey, const EVP_CIPHER* cipher = nullptr, const char* pass = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  const int ok =
      PEM_write_bio_PKCS8PrivateKey(bio, pkey, cipher, const_cast<char*>(pass),
                                    pass != nullptr ? static_cast<int>(std::strlen(pass)) : 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out = ok == 1 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
  BIO_free(bio);
  if (out.empty()) throw std::runtime_error("PEM_write_bio_PKCS8PrivateKey failed");
  return out;
}

Pkey keygen(const char* type) { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, type)); }

json::object jwks_of(std::initializer_list<json::object> keys) {
  json::array array;
  for (const auto& k : keys) array.push_back(k);
  return json::object{{"keys", std::move(array)}};
}

json::object jwks_of(const SigningKey& key) { return jwks_of({key.public_jwk()}); }

std::string b64(std::string_view s) { return base::base64url_encode(s); }

std::string segment(const std::string& compact, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = compact.find('.', start) + 1;
  const std::size_t end = compact.find('.', start);
  return compact.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// header.payload signed by `key` over exactly these JSON texts (which sign_jwt could never produce).
std::string craft(std::string_view header_json, std::string_view payload_json, const SigningKey& key) {
  std::string input = b64(header_json) + "." + b64(payload_json);
  const auto sig = key.sign(input);
  return input + "." + base::base64url_encode(sig);
}

std::string header_for(const SigningKey& key, std::string_view extra = "") {
  return R"({"alg":")" + key.alg() + R"(","kid":")" + key.kid() + R"(","typ":"JWT")" + std::string(extra) + "}";
}

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
char next_char(char c) { return kAlphabet[(kAlphabet.find(c) + 1) % kAlphabet.size()]; }

::testing::AssertionResult Rejected(const JwsVerifyResult& r, JwsError expected) {
  if (r.claims) return ::testing::AssertionFailure() << "accepted: " << json::serialize(*r.claims);
  if (r.error != expected) {
    return ::testing::AssertionFailure() << "error " << static_cast<int>(r.error) << ", expected "
                                         << static_cast<int>(expected);
  }
  return ::testing::AssertionSuccess();
}

const json::object kClaims{{"iss", "https://issuer.example"},
                           {"sub", "alice"},
                           {"aud", "client-1"},
                           {"exp", 1800000600},
                           {"nested", json::object{{"a", 1}, {"b", json::array{1, 2}}}}};

// ---- SigningKey ------------------------------------------------------------------------------------

TEST(SigningKey, RejectsSmallRsa) {
  EXPECT_THROW(SigningKey::generate_rsa(1024), std::runtime_error);
  EXPECT_THROW(SigningKey::generate_rsa(2047), std::runtime_error);
  EXPECT_THROW(SigningKey::generate_rsa(0), std::runtime_error);
  EXPECT_THROW(SigningKey::generate_rsa(-1), std::runtime_error);
}

TEST(SigningKey, RsaPublicJwkHasNoPrivateMembers) {
  const SigningKey& key = rsa_key();
  EXPECT_EQ(key.alg(), "RS256");
  const json::object jwk = key.public_jwk();
  for (const char* name : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) EXPECT_FALSE(jwk.contains(name)) << name;
  EXPECT_EQ(jwk.size(), 6u) << json::serialize(jwk);
  EXPECT_EQ(jwk.at("kty"), "RSA");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("alg"), "RS256");
  EXPECT_EQ(jwk.at("kid").as_string(), key.kid());
  EXPECT_EQ(jwk.at("e"), "AQAB");
  const auto n = base::base64url_decode(jwk.at("n").as_string());
  ASSERT_TRUE(n);
  EXPECT_EQ(n->size(), 256u);
  EXPECT_NE((*n)[0], 0) << "n must be minimal big-endian";
  EXPECT_GE((*n)[0], 0x80) << "2048-bit modulus has its top bit set";
}

TEST(SigningKey, KidIsRfc7638Thumbprint) {
  const SigningKey& key = rsa_key();
  const json::object jwk = key.public_jwk();
  const std::string canonical = R"({"e":")" + std::string(jwk.at("e").as_string()) + R"(","kty":"RSA","n":")" +
                                std::string(jwk.at("n").as_string()) + R"("})";
  EXPECT_EQ(key.kid(), base::base64url_encode(sha256(canonical)));
  EXPECT_EQ(key.kid().size(), 43u);
}

TEST(SigningKey, PemRoundTripKeepsKid) {
  const SigningKey& key = rsa_key();
  const std::string pem = key.private_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << pem.substr(0, 40);
  const SigningKey again = SigningKey::from_pem(pem);
  EXPECT_EQ(again.kid(), key.kid());
  EXPECT_EQ(again.alg(), "RS256");
  EXPECT_EQ(again.public_jwk(), key.public_jwk());
  EXPECT_EQ(again.private_pem(), pem);
  // A token from the reloaded key verifies against the original key's JWKS.
  EXPECT_TRUE(verify_jws(sign_jwt(again, kClaims), jwks_of(key)).claims);
}

TEST(SigningKey, MoveKeepsKey) {
  SigningKey moved = SigningKey::from_pem(rsa_key().private_pem());
  SigningKey target = std::move(moved);
  EXPECT_EQ(target.kid(), rsa_key().kid());
  EXPECT_TRUE(verify_jws(sign_jwt(target, kClaims), jwks_of(rsa_key())).claims);
}

TEST(SigningKey, FromPemRejectsGarbageSmallAndEncrypted) {
  EXPECT_THROW(SigningKey::from_pem(""), std::runtime_error);
  EXPECT_THROW(SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
               std::runtime_error);
  const Pkey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  ASSERT_TRUE(small);
  EXPECT_THROW(SigningKey::from_pem(pem_of(small.get())), std::runtime_error);
  // Encrypted: must fail, never prompt for a pass phrase.
  const std::string encrypted = pem_of(keygen("ED25519").get(), EVP_aes_256_cbc(), "secret");
  EXPECT_NE(encrypted.find("ENCRYPTED"), std::string::npos);
  EXPECT_THROW(SigningKey::from_pem(encrypted), std::runtime_error);
  // Unsupported curve.
  const Pkey p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  ASSERT_TRUE(p384);
  EXPECT_THROW(SigningKey::from_pem(pem_of(p384.get())), std::runtime_error);
}

TEST(SigningKey, Rs256SignatureIsPkcs1v15Sha256) {
  // Independent of EVP_DigestVerify: recover the signed block with the public key and compare it with
  // the DER DigestInfo for SHA-256 (RFC 8017 section 9.2, note 1).
  const SigningKey& key = rsa_key();
  const std::string input = "header.payload";
  const auto sig = key.sign(input);
  ASSERT_EQ(sig.size(), 256u);
  const std::string pem = key.private_pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  const Pkey pkey(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  ASSERT_TRUE(pkey);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(pkey.get(), nullptr);
  ASSERT_EQ(EVP_PKEY_verify_recover_init(ctx), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
  std::vector<unsigned char> recovered(256);
  std::size_t len = recovered.size();
  ASSERT_EQ(EVP_PKEY_verify_recover(ctx, recovered.data(), &len, sig.data(), sig.size()), 1);
  EVP_PKEY_CTX_free(ctx);
  recovered.resize(len);
  std::vector<unsigned char> expected = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                         0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  const Digest h = sha256(input);
  expected.insert(expected.end(), h.begin(), h.end());
  EXPECT_EQ(recovered, expected);
  // PKCS#1 v1.5 is deterministic.
  EXPECT_EQ(key.sign(input), sig);
}

TEST(SigningKey, ConcurrentSignIsSafe) {
  const SigningKey& key = rsa_key();
  const json::object jwks = jwks_of(key);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        json::object claims{{"sub", "user" + std::to_string(t)}, {"i", i}};
        const auto result = verify_jws(sign_jwt(key, claims), jwks);
        if (result.claims && *result.claims == claims) ++ok[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int n : ok) EXPECT_EQ(n, 8);
}

// ---- sign_jwt / verify_jws round trip --------------------------------------------------------------

TEST(Jws, RoundTrip) {
  const SigningKey& key = rsa_key();
  const std::string jwt = sign_jwt(key, kClaims);
  EXPECT_EQ(std::count(jwt.begin(), jwt.end(), '.'), 2);
  EXPECT_EQ(segment(jwt, 0), b64(R"({"alg":"RS256","kid":")" + key.kid() + R"(","typ":"JWT"})"));
  EXPECT_EQ(segment(jwt, 1), b64(json::serialize(kClaims)));
  const auto sig = base::base64url_decode(segment(jwt, 2));
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 256u);

  const JwsVerifyResult result = verify_jws(jwt, jwks_of(key));
  ASSERT_TRUE(result.claims);
  EXPECT_EQ(*result.claims, kClaims);
  EXPECT_EQ(result.header, (json::object{{"alg", "RS256"}, {"kid", key.kid()}, {"typ", "JWT"}}));
}

TEST(Jws, PicksKeyByKid) {
  const SigningKey& key = rsa_key();
  json::object decoy = key.public_jwk();
  decoy["kid"] = "other";
  decoy["n"] = std::string(344, 'A');  // never used: wrong kid
  EXPECT_TRUE(verify_jws(sign_jwt(key, kClaims), jwks_of({decoy, key.public_jwk()})).claims);
}

TEST(Jws, AcceptsCraftedTokenWithoutTyp) {
  // Sanity check for craft(): the rejections below are not artefacts of the helper.
  const SigningKey& key = rsa_key();
  const auto r =
      verify_jws(craft(R"({"alg":"RS256","kid":")" + key.kid() + R"("})", R"({"sub":"a"})", key), jwks_of(key));
  ASSERT_TRUE(r.claims);
  EXPECT_EQ(r.claims->at("sub"), "a");
}

TEST(Jws, RejectsTamperedPayload) {
  const SigningKey& key = rsa_key();
  const std::string jwt = sign_jwt(key, kClaims);
  json::object other = kClaims;
  other["sub"] = "mallory";
  const std::string tampered = segment(jwt, 0) + "." + b64(json::serialize(other)) + "." + segment(jwt, 2);
  const auto r = verify_jws(tampered, jwks_of(key));
  EXPECT_TRUE(Rejected(r, JwsError::bad_signature));
  EXPECT_EQ(r.header.at("alg"), "RS256");  // the header is still reported
}

TEST(Jws, RejectsTamperedHeader) {
  const SigningKey& key = rsa_key();
  const std::string jwt = sign_jwt(key, kClaims);
  const std::string header = b64(R"({"alg":"RS256","kid":")" + key.kid() + R"(","typ":"at+jwt"})");
  EXPECT_TRUE(Rejected(verify_jws(header + jwt.substr(jwt.find('.')), jwks_of(key)), JwsError::bad_signature));
}

TEST(Jws, RejectsTamperedSignature) {
  const SigningKey& key = rsa_key();
  const std::string jwt = sign_jwt(key, kClaims);
  const std::size_t sig_start = jwt.rfind('.') + 1;
  for (std::size_t pos : {sig_start, sig_start + 100, jwt.size() - 2}) {
    std::string bad = jwt;
    bad[pos] = next_char(bad[pos]);
    EXPECT_TRUE(Rejected(verify_jws(bad, jwks_of(key)), JwsError::bad_signature)) << pos;
  }
  // Empty, truncated and over-long signatures.
  const std::string unsigned_part = jwt.substr(0, sig_start);
  EXPECT_TRUE(Rejected(verify_jws(unsigned_part, jwks_of(key)), JwsError::bad_signature));
  const auto sig = *base::base64url_decode(segment(jwt, 2));
  std::vector<std::uint8_t> shorter(sig.begin() + 1, sig.end());
  EXPECT_TRUE(
      Rejected(verify_jws(unsigned_part + base::base64url_encode(shorter), jwks_of(key)), JwsError::bad_signature));
  std::vector<std::uint8_t> longer{0};
  longer.insert(longer.end(), sig.begin(), sig.end());
  EXPECT_TRUE(
      Rejected(verify_jws(unsigned_part + base::base64url_encode(longer), jwks_of(key)), JwsError::bad_signature));
}

TEST(Jws, RejectsAlgNone) {
  const SigningKey& key = rsa_key();
  const std::string payload = b64(json::serialize(kClaims));
  for (std::string alg : {"none", "nOnE", "NONE", "None"}) {
    for (std::string header :
         {R"({"alg":")" + alg + R"("})", R"({"alg":")" + alg + R"(","kid":")" + key.kid() + R"(","typ":"JWT"})"}) {
      EXPECT_TRUE(Rejected(verify_jws(b64(header) + "." + payload + ".", jwks_of(key)), JwsError::unsupported_alg))
          << header;
      // Even with a valid RSA signature over it.
      EXPECT_TRUE(
          Rejected(verify_jws(craft(header, json::serialize(kClaims), key), jwks_of(key)), JwsError::unsupported_alg))
          << header;
    }
  }
}

TEST(Jws, RejectsHs256KeyConfusion) {
  // The classic attack: sign with HMAC using the RSA public key material as the secret.
  const SigningKey& key = rsa_key();
  const json::object jwk = key.public_jwk();
  const auto n = *base::base64url_decode(jwk.at("n").as_string());
  const std::string pem = key.private_pem();  // stand-in for any public key encoding an attacker may guess
  const std::string jwk_text = json::serialize(jwk);
  for (std::string alg : {"HS256", "hs256", "HS384", "HS512"}) {
    const std::string input =
        b64(R"({"alg":")" + alg + R"(","kid":")" + key.kid() + R"(","typ":"JWT"})") + "." + b64(R"({"sub":"admin"})");
    for (const std::vector<std::uint8_t>& secret :
         {n, std::vector<std::uint8_t>(jwk_text.begin(), jwk_text.end()), std::vector<std::uint8_t>{}}) {
      const std::string forged = input + "." + base::base64url_encode(hmac_sha256(secret, input));
      EXPECT_TRUE(Rejected(verify_jws(forged, jwks_of(key)), JwsError::unsupported_alg)) << alg;
      // Also when the JWKS itself offers an "oct" key under that kid.
      const json::object oct{{"kty", "oct"}, {"kid", key.kid()}, {"k", base::base64url_encode(secret)}};
      EXPECT_TRUE(Rejected(verify_jws(forged, jwks_of({oct})), JwsError::unsupported_alg)) << alg;
    }
  }
}

TEST(Jws, RejectsOtherAlgs) {
  const SigningKey& key = rsa_key();
  for (std::string header :
       {std::string(R"({"kid":")") + key.kid() + R"("})", R"({"alg":null,"kid":")" + key.kid() + R"("})",
        R"({"alg":["RS256"],"kid":")" + key.kid() + R"("})", R"({"alg":"rs256","kid":")" + key.kid() + R"("})",
        R"({"alg":"RS384","kid":")" + key.kid() + R"("})", R"({"alg":"PS256","kid":")" + key.kid() + R"("})",
        R"({"alg":"RS256 ","kid":")" + key.kid() + R"("})", R"({"alg":"","kid":")" + key.kid() + R"("})"}) {
    EXPECT_TRUE(Rejected(verify_jws(craft(header, "{}", key), jwks_of(key)), JwsError::unsupported_alg)) << header;
  }
}

TEST(Jws, RejectsAlgNotMatchingKey) {
  const SigningKey& key = rsa_key();
  // Header says ES256 / EdDSA but the kid names an RSA key.
  for (std::string alg : {"ES256", "EdDSA"}) {
    const std::string header = R"({"alg":")" + alg + R"(","kid":")" + key.kid() + R"("})";
    EXPECT_TRUE(Rejected(verify_jws(craft(header, "{}", key), jwks_of(key)), JwsError::unsupported_alg)) << alg;
  }
  // The key's own "alg" and "use" restrict it.
  json::object rs384 = key.public_jwk();
  rs384["alg"] = "RS384";
  EXPECT_TRUE(Rejected(verify_jws(sign_jwt(key, kClaims), jwks_of({rs384})), JwsError::unsupported_alg));
  json::object enc = key.public_jwk();
  enc["use"] = "enc";
  EXPECT_TRUE(Rejected(verify_jws(sign_jwt(key, kClaims), jwks_of({enc})), JwsError::unsupported_alg));
  json::object ec_kty = key.public_jwk();
  ec_kty["kty"] = "EC";
  EXPECT_TRUE(Rejected(verify_jws(sign_jwt(key, kClaims), jwks_of({ec_kty})), JwsError::unsupported_alg));
}

TEST(Jws, RejectsUnknownOrMissingKid) {
  const SigningKey& key = rsa_key();
  EXPECT_TRUE(
      Rejected(verify_jws(craft(R"({"alg":"RS256","kid":"nope"})", "{}", key), jwks_of(key)), JwsError::unknown_kid));
  EXPECT_TRUE(Rejected(verify_jws(craft(R"({"alg":"RS256"})", "{}", key), jwks_of(key)), JwsError::unknown_kid));
  EXPECT_TRUE(
      Rejected(verify_jws(craft(R"({"alg":"RS256","kid":7})", "{}", key), jwks_of(key)), JwsError::unknown_kid));
  // Valid token, but the JWKS does not hold the key.
  EXPECT_TRUE(
      Rejected(verify_jws(sign_jwt(key, kClaims), json::object{{"keys", json::array{}}}), JwsError::unknown_kid));
  EXPECT_TRUE(Rejected(verify_jws(sign_jwt(key, kClaims), json::object{}), JwsError::unknown_kid));
}

TEST(Jws, RejectsKeyCarryingHeaders) {
  const SigningKey& key = rsa_key();
  const std::string jwk = json::serialize(key.public_jwk());
  for (std::string extra :
       {R"(,"jwk":)" + jwk, std::string(R"(,"jku":"https://attacker.example/jwks")"),
        std::string(R"(,"x5u":"https://attacker.example/cert.pem")"), std::string(R"(,"x5c":["MIIB"])")}) {
    // Validly signed by the trusted key, and still refused.
    EXPECT_TRUE(
        Rejected(verify_jws(craft(header_for(key, extra), "{}", key), jwks_of(key)), JwsError::forbidden_header))
        << extra;
  }
}

TEST(Jws, RejectsCrit) {
  const SigningKey& key = rsa_key();
  for (std::string extra : {R"(,"crit":["exp"],"exp":1)", R"(,"crit":["b64"],"b64":false)", R"(,"crit":[])"}) {
    EXPECT_TRUE(
        Rejected(verify_jws(craft(header_for(key, extra), "{}", key), jwks_of(key)), JwsError::forbidden_header))
        << extra;
  }
}

TEST(Jws, RejectsDuplicateKeys) {
  const SigningKey& key = rsa_key();
  for (std::string payload : {R"({"sub":"a","sub":"b"})", R"({"sub":"a","s\u0075b":"b"})", R"({"x":{"a":1,"a":2}})",
                              R"({"x":[{"a":1,"b":2,"a":3}]})"}) {
    EXPECT_TRUE(Rejected(verify_jws(craft(header_for(key), payload, key), jwks_of(key)), JwsError::malformed))
        << payload;
  }
  // Duplicates in the header, including an alg smuggled past a last-wins parser.
  for (std::string header : {R"({"alg":"none","alg":"RS256","kid":")" + key.kid() + R"("})",
                             R"({"alg":"RS256","kid":")" + key.kid() + R"(","kid":")" + key.kid() + R"("})"}) {
    EXPECT_TRUE(Rejected(verify_jws(craft(header, "{}", key), jwks_of(key)), JwsError::malformed)) << header;
  }
  // The same name in different objects is fine.
  const auto ok =
      verify_jws(craft(header_for(key), R"({"a":{"x":1},"b":{"x":2},"x":[{"x":3},{"x":4}]})", key), jwks_of(key));
  ASSERT_TRUE(ok.claims);
  EXPECT_EQ(ok.claims->at("b").at("x"), 2);
}

TEST(Jws, RejectsNonObjectOrInvalidJson) {
  const SigningKey& key = rsa_key();
  for (std::string payload : {"[]", "1", "\"s\"", "null", "", "{", R"({"a":1}x)", R"({"a":1} {})", "{\"a\":1,}",
                              "{/*c*/\"a\":1}", "{\"a\":\"\xff\"}"}) {
    EXPECT_TRUE(Rejected(verify_jws(craft(header_for(key), payload, key), jwks_of(key)), JwsError::malformed))
        << payload;
  }
  for (std::string header : {"[]", "", "{", "null"}) {
    EXPECT_TRUE(Rejected(verify_jws(craft(header, "{}", key), jwks_of(key)), JwsError::malformed)) << header;
  }
}

TEST(Jws, RejectsNonCanonicalBase64url) {
  const SigningKey& key = rsa_key();
  const std::string jwt = sign_jwt(key, kClaims);
  const json::object jwks = jwks_of(key);
  ASSERT_TRUE(verify_jws(jwt, jwks).claims);

  // 256 signature bytes = 342 characters; the last carries 4 unused bits that must be zero.
  const std::string sig = segment(jwt, 2);
  ASSERT_EQ(sig.size() % 4, 2u);
  std::string bad = jwt;
  const std::size_t index = kAlphabet.find(bad.back());
  ASSERT_EQ(index % 16, 0u);
  bad.back() = kAlphabet[index + 1];  // same bytes for a lenient decoder
  EXPECT_TRUE(Rejected(verify_jws(bad, jwks), JwsError::malformed));

  EXPECT_TRUE(Rejected(verify_jws(jwt + "==", jwks), JwsError::malformed));  // padding
  EXPECT_TRUE(Rejected(verify_jws(jwt + " ", jwks), JwsError::malformed));
  EXPECT_TRUE(Rejected(verify_jws(" " + jwt, jwks), JwsError::malformed));

  // Standard alphabet in any segment.
  std::string std_alpha = jwt;
  std_alpha[std_alpha.rfind('.') + 1] = '+';
  EXPECT_TRUE(Rejected(verify_jws(std_alpha, jwks), JwsError::malformed));
  std::string header_plus = jwt;
  header_plus[1] = '/';
  EXPECT_TRUE(Rejected(verify_jws(header_plus, jwks), JwsError::malformed));

  // A header segment whose length leaves unused bits: non-canonical spelling of the same header.
  const std::string header = segment(jwt, 0);
  if (header.size() % 4 != 0) {
    std::string h2 = header;
    const std::size_t hi = kAlphabet.find(h2.back());
    h2.back() = kAlphabet[hi + 1];
    EXPECT_TRUE(Rejected(verify_jws(h2 + jwt.substr(header.size()), jwks), JwsError::malformed));
  }
  // Invalid length (1 mod 4) in the payload.
  EXPECT_TRUE(Rejected(verify_jws(segment(jwt, 0) + ".A." + sig, jwks), JwsError::malformed));
}

TEST(Jws, RejectsWrongSegmentCount) {
  const SigningKey& key = rsa_key();
  const std::string jwt = sign_jwt(key, kClaims);
  const json::object jwks = jwks_of(key);
  const std::string two = jwt.substr(0, jwt.rfind('.'));
  EXPECT_TRUE(Rejected(verify_jws(two, jwks), JwsError::malformed));
  EXPECT_TRUE(Rejected(verify_jws(jwt + ".", jwks), JwsError::malformed));
  EXPECT_TRUE(Rejected(verify_jws(jwt + "." + segment(jwt, 2), jwks), JwsError::malformed));
  EXPECT_TRUE(Rejected(verify_jws(jwt + ".AAAA.AAAA", jwks), JwsError::malformed));  // JWE-shaped
  EXPECT_TRUE(Rejected(verify_jws(segment(jwt, 0), jwks), JwsError::malformed));
  EXPECT_TRUE(Rejected(verify_jws("", jwks), JwsError::malformed));
  EXPECT_TRUE(Rejected(verify_jws("..", jwks), JwsError::malformed));
  EXPECT_TRUE(Rejected(verify_jws("...", jwks), JwsError::malformed));
}

TEST(Jws, RejectsWeakRsaKeyInJwks) {
  const Pkey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  ASSERT_TRUE(small);
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  ASSERT_EQ(EVP_PKEY_get_bn_param(small.get(), OSSL_PKEY_PARAM_RSA_N, &n), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(small.get(), OSSL_PKEY_PARAM_RSA_E, &e), 1);
  std::vector<std::uint8_t> nb(static_cast<std::size_t>(BN_num_bytes(n)));
  std::vector<std::uint8_t> eb(static_cast<std::size_t>(BN_num_bytes(e)));
  BN_bn2bin(n, nb.data());
  BN_bn2bin(e, eb.data());
  BN_free(n);
  BN_free(e);
  const json::object jwk{
      {"kty", "RSA"}, {"kid", "small"}, {"n", base::base64url_encode(nb)}, {"e", base::base64url_encode(eb)}};

  const std::string input = b64(R"({"alg":"RS256","kid":"small"})") + "." + b64(R"({"sub":"a"})");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, small.get(), nullptr), 1);
  std::vector<std::uint8_t> sig(128);
  std::size_t len = sig.size();
  ASSERT_EQ(EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  EXPECT_TRUE(
      Rejected(verify_jws(input + "." + base::base64url_encode(sig), jwks_of({jwk})), JwsError::unsupported_alg));
}

TEST(Jws, RejectsBadRsaExponent) {
  const SigningKey& key = rsa_key();
  for (const char* e : {"AQ", "Ag", "AA", ""}) {  // 1, 2, 0, empty
    json::object jwk = key.public_jwk();
    jwk["e"] = e;
    EXPECT_FALSE(verify_jws(sign_jwt(key, kClaims), jwks_of({jwk})).claims) << e;
  }
}

TEST(Jws, RejectsExponentOneForgery) {
  // With e = 1 the "signature" s verifies iff s == EM, so anyone can forge: EM is public.
  const SigningKey& key = rsa_key();
  json::object jwk = key.public_jwk();
  jwk["e"] = "AQ";
  const std::string input = b64(header_for(key)) + "." + b64(R"({"sub":"admin"})");
  std::vector<std::uint8_t> em{0x00, 0x01};
  em.insert(em.end(), 256 - 3 - 51, 0xff);
  em.push_back(0x00);
  const std::vector<std::uint8_t> digest_info = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  em.insert(em.end(), digest_info.begin(), digest_info.end());
  const Digest h = sha256(input);
  em.insert(em.end(), h.begin(), h.end());
  ASSERT_EQ(em.size(), 256u);
  EXPECT_TRUE(
      Rejected(verify_jws(input + "." + base::base64url_encode(em), jwks_of({jwk})), JwsError::unsupported_alg));
}

// ---- ES256 and EdDSA -------------------------------------------------------------------------------

TEST(Jws, Es256RoundTrip) {
  const Pkey ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  ASSERT_TRUE(ec);
  const SigningKey key = SigningKey::from_pem(pem_of(ec.get()));
  EXPECT_EQ(key.alg(), "ES256");
  const json::object jwk = key.public_jwk();
  EXPECT_EQ(jwk.at("kty"), "EC");
  EXPECT_EQ(jwk.at("crv"), "P-256");
  EXPECT_FALSE(jwk.contains("d"));
  EXPECT_EQ(key.kid(),
            base::base64url_encode(sha256(R"({"crv":"P-256","kty":"EC","x":")" + std::string(jwk.at("x").as_string()) +
                                          R"(","y":")" + std::string(jwk.at("y").as_string()) + R"("})")));
  EXPECT_EQ(SigningKey::from_pem(key.private_pem()).kid(), key.kid());

  const std::string jwt = sign_jwt(key, kClaims);
  const auto sig = base::base64url_decode(segment(jwt, 2));
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 64u) << "raw R||S, not DER";
  const auto result = verify_jws(jwt, jwks_of(key));
  ASSERT_TRUE(result.claims);
  EXPECT_EQ(*result.claims, kClaims);

  // Tampering, the all-zero "psychic signature" (CVE-2022-21449), zero r or s, and DER.
  const std::string input = jwt.substr(0, jwt.rfind('.') + 1);
  std::string tampered = jwt;
  tampered[tampered.size() - 5] = next_char(tampered[tampered.size() - 5]);
  EXPECT_TRUE(Rejected(verify_jws(tampered, jwks_of(key)), JwsError::bad_signature));
  EXPECT_TRUE(Rejected(verify_jws(input + base::base64url_encode(std::vector<std::uint8_t>(64, 0)), jwks_of(key)),
                       JwsError::bad_signature));
  std::vector<std::uint8_t> zero_r = *sig;
  std::fill(zero_r.begin(), zero_r.begin() + 32, 0);
  EXPECT_TRUE(Rejected(verify_jws(input + base::base64url_encode(zero_r), jwks_of(key)), JwsError::bad_signature));
  std::vector<std::uint8_t> zero_s = *sig;
  std::fill(zero_s.begin() + 32, zero_s.end(), 0);
  EXPECT_TRUE(Rejected(verify_jws(input + base::base64url_encode(zero_s), jwks_of(key)), JwsError::bad_signature));
  std::vector<std::uint8_t> oversized(64, 0xff);  // r, s >= n
  EXPECT_TRUE(Rejected(verify_jws(input + base::base64url_encode(oversized), jwks_of(key)), JwsError::bad_signature));

  // The ES256 kid with an RS256 header is refused (alg must match the key family).
  EXPECT_TRUE(
      Rejected(verify_jws(craft(R"({"alg":"RS256","kid":")" + key.kid() + R"("})", "{}", rsa_key()), jwks_of(key)),
               JwsError::unsupported_alg));
}

TEST(Jws, Es256RejectsPointNotOnCurve) {
  const Pkey ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  const SigningKey key = SigningKey::from_pem(pem_of(ec.get()));
  json::object jwk = key.public_jwk();
  auto y = *base::base64url_decode(jwk.at("y").as_string());
  y[31] ^= 1;
  jwk["y"] = base::base64url_encode(y);
  EXPECT_TRUE(Rejected(verify_jws(sign_jwt(key, kClaims), jwks_of({jwk})), JwsError::unsupported_alg));
}

TEST(Jws, EdDsaRoundTrip) {
  const Pkey ed = keygen("ED25519");
  ASSERT_TRUE(ed);
  const SigningKey key = SigningKey::from_pem(pem_of(ed.get()));
  EXPECT_EQ(key.alg(), "EdDSA");
  const json::object jwk = key.public_jwk();
  EXPECT_EQ(jwk.at("kty"), "OKP");
  EXPECT_EQ(jwk.at("crv"), "Ed25519");
  EXPECT_FALSE(jwk.contains("d"));
  EXPECT_EQ(key.kid(), base::base64url_encode(sha256(R"({"crv":"Ed25519","kty":"OKP","x":")" +
                                                     std::string(jwk.at("x").as_string()) + R"("})")));
  const std::string jwt = sign_jwt(key, kClaims);
  EXPECT_EQ(base::base64url_decode(segment(jwt, 2))->size(), 64u);
  const auto result = verify_jws(jwt, jwks_of(key));
  ASSERT_TRUE(result.claims);
  EXPECT_EQ(*result.claims, kClaims);
  std::string tampered = jwt;
  tampered[tampered.size() - 5] = next_char(tampered[tampered.size() - 5]);
  EXPECT_TRUE(Rejected(verify_jws(tampered, jwks_of(key)), JwsError::bad_signature));
}

}  // namespace
}  // namespace boltauth::crypto
