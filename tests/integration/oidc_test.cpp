// id_token (contract section 4) verified with the published JWKS, and discovery (section 5).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <cstdio>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/jws.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class OidcTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  boost::json::object jwks() {
    auto res = server.http().get("/v1/oauth/jwks.json");
    EXPECT_EQ(res.status, 200);
    return res.json().as_object();
  }
  static boost::json::object header_of(const std::string& jwt) {
    auto bytes = base::base64url_decode(jwt.substr(0, jwt.find('.')));
    return boost::json::parse(std::string(bytes->begin(), bytes->end())).as_object();
  }
};

TEST_F(OidcTest, IdTokenVerifiesWithPublishedJwksAndCarriesEveryClaim) {
  TestServer::CodeSpec spec;
  spec.nonce = "n-0S6_WzA2Mj";
  const std::string code = server.insert_code(client, spec);
  auto res = server.exchange(client, code, "bolt.account.manage openid");
  ASSERT_EQ(res.status, 200) << res.body;
  const std::string id_token(res.json().as_object().at("id_token").as_string());
  const std::string access_token(res.json().as_object().at("access_token").as_string());

  const auto header = header_of(id_token);
  EXPECT_EQ(header.at("alg").as_string(), "RS256");
  EXPECT_EQ(header.at("typ").as_string(), "JWT");
  ASSERT_TRUE(header.contains("kid"));

  auto verified = crypto::verify_jws(id_token, jwks());
  ASSERT_TRUE(verified.claims) << "id_token does not verify with the JWKS";
  const auto& c = *verified.claims;
  EXPECT_EQ(c.at("iss").as_string(), server.issuer());
  // The client authenticated with its full publishable key: both spellings in aud, azp as it spelled it.
  EXPECT_EQ(c.at("aud"), boost::json::value(boost::json::array{boost::json::string(client.client.id),
                                                               boost::json::string(client.client.publishable_key)}));
  EXPECT_EQ(c.at("azp").as_string(), client.client.publishable_key);
  const auto now = server.clock().now();
  EXPECT_EQ(c.at("iat").as_int64(), now);
  EXPECT_EQ(c.at("exp").as_int64(), now + 3600);
  EXPECT_EQ(c.at("auth_time").as_int64(), now - 5);
  EXPECT_EQ(c.at("nonce").as_string(), "n-0S6_WzA2Mj");
  const auto digest = crypto::sha256(access_token);
  EXPECT_EQ(c.at("at_hash").as_string(), base::base64url_encode(std::span<const std::uint8_t>(digest.data(), 16)));
  EXPECT_FALSE(std::string(c.at("sub").as_string()).empty());
  EXPECT_EQ(c.at("email_verified").as_bool(), true);
  EXPECT_EQ(c.at("first_name").as_string(), "Ada");
  EXPECT_EQ(c.at("last_name").as_string(), "Lovelace");
  EXPECT_TRUE(c.contains("email"));
  EXPECT_FALSE(c.contains("phone_number")) << "this account has no phone";
}

TEST_F(OidcTest, NoNonceClaimWithoutNonce) {
  auto res = server.exchange(client, server.sandbox_code(client), "openid");
  auto verified = crypto::verify_jws(std::string(res.json().as_object().at("id_token").as_string()), jwks());
  ASSERT_TRUE(verified.claims);
  EXPECT_FALSE(verified.claims->contains("nonce"));
}

TEST_F(OidcTest, PhoneClaimsWhenTheAccountHasAPhone) {
  auto shopper = server.create_shopper(client, R"({"phone_state":"verified"})");
  auto res = server.exchange(client, std::string(shopper.at("oauth_code").as_string()), "openid");
  auto verified = crypto::verify_jws(std::string(res.json().as_object().at("id_token").as_string()), jwks());
  ASSERT_TRUE(verified.claims);
  EXPECT_EQ(verified.claims->at("phone_number").as_string(), shopper.at("phone").as_string());
  EXPECT_EQ(verified.claims->at("phone_number_verified").as_bool(), true);
  EXPECT_EQ(verified.claims->at("email").as_string(), shopper.at("email").as_string());
}

TEST_F(OidcTest, TamperedIdTokenFailsVerification) {
  auto res = server.exchange(client, server.sandbox_code(client), "openid");
  std::string id_token(res.json().as_object().at("id_token").as_string());
  const auto dot = id_token.find('.');
  id_token[dot + 5] = id_token[dot + 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(crypto::verify_jws(id_token, jwks()).claims);
}

TEST_F(OidcTest, JwksHoldsNoPrivateMaterialAndUniqueKids) {
  auto res = server.http().get("/v1/oauth/jwks.json");
  EXPECT_EQ(res.header("content-type"), "application/jwk-set+json");
  const auto keys = res.json().as_object().at("keys").as_array();
  ASSERT_FALSE(keys.empty());
  std::set<std::string> kids;
  for (const auto& k : keys) {
    const auto& key = k.as_object();
    for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "k"}) EXPECT_FALSE(key.contains(priv)) << priv;
    EXPECT_EQ(key.at("use").as_string(), "sig");
    EXPECT_TRUE(kids.insert(std::string(key.at("kid").as_string())).second);
    const std::string kty(key.at("kty").as_string());
    if (kty == "RSA") {
      EXPECT_GE(base::base64url_decode(key.at("n").as_string())->size(), 256u) << "RSA >= 2048";
    } else {
      EXPECT_TRUE(kty == "EC" || kty == "OKP") << kty;
    }
  }
}

TEST_F(OidcTest, KeysSurviveRestart) {
  const auto before = jwks();
  TestServer::CodeSpec spec;
  server::AppOptions options = server.same_store_options();
  // A second server on the same store (as another node would be) publishes the same keys.
  server::App second(options);
  const auto port = second.start();
  HttpClient http(port);
  EXPECT_EQ(http.get("/v1/oauth/jwks.json").json().as_object(), before);
}

TEST_F(OidcTest, DiscoveryIsCompleteForWhatExists) {
  auto res = server.http().get("/.well-known/openid-configuration");
  ASSERT_EQ(res.status, 200);
  const auto doc = res.json().as_object();
  const std::string iss = server.issuer();
  EXPECT_EQ(doc.at("issuer").as_string(), iss);
  // The standard path (RFC 6749 section 5.2 statuses); Bolt's SDKs keep /v1/oauth/token.
  EXPECT_EQ(doc.at("token_endpoint").as_string(), iss + "/oauth2/token");
  EXPECT_EQ(doc.at("jwks_uri").as_string(), iss + "/v1/oauth/jwks.json");
  EXPECT_EQ(doc.at("id_token_signing_alg_values_supported").as_array().at(0).as_string(), "RS256");
  EXPECT_EQ(doc.at("subject_types_supported"), boost::json::value(boost::json::array{"public"}));
  EXPECT_EQ(doc.at("code_challenge_methods_supported"), boost::json::value(boost::json::array{"S256"}));
  EXPECT_EQ(doc.at("response_types_supported"), boost::json::value(boost::json::array{"code"}));
  const auto& auth = doc.at("token_endpoint_auth_methods_supported").as_array();
  EXPECT_NE(std::find(auth.begin(), auth.end(), boost::json::value("client_secret_post")), auth.end());
  EXPECT_NE(std::find(auth.begin(), auth.end(), boost::json::value("client_secret_basic")), auth.end());
  const auto& scopes = doc.at("scopes_supported").as_array();
  for (const char* s : {"openid", "email", "bolt.account.manage", "bolt.account.view"})
    EXPECT_NE(std::find(scopes.begin(), scopes.end(), boost::json::value(s)), scopes.end()) << s;
  const auto& grants = doc.at("grant_types_supported").as_array();
  EXPECT_NE(std::find(grants.begin(), grants.end(), boost::json::value("refresh_token")), grants.end());
  EXPECT_TRUE(doc.contains("claims_supported"));
  EXPECT_EQ(doc.at("authorization_endpoint").as_string(), iss + "/v1/oauth/authorize");
  EXPECT_EQ(doc.at("response_modes_supported"), boost::json::value(boost::json::array{"query", "web_message"}));
  EXPECT_EQ(doc.at("authorization_response_iss_parameter_supported"), boost::json::value(true));
  // Endpoints that do not exist yet are not advertised.
  EXPECT_EQ(doc.at("userinfo_endpoint").as_string(), iss + "/v1/oauth/userinfo");
  EXPECT_EQ(doc.at("introspection_endpoint").as_string(), iss + "/v1/oauth/introspect");
  EXPECT_EQ(doc.at("revocation_endpoint").as_string(), iss + "/v1/oauth/revoke");
}

TEST_F(OidcTest, IssuerIsByteIdenticalToIssClaim) {
  TestServer custom([](server::AppOptions& o) {
    o.config.issuer = "https://auth.shop.example";
    o.issuer_from_listen = false;
  });
  auto c = custom.create_client();
  auto doc = custom.http().get("/.well-known/openid-configuration").json().as_object();
  auto res = custom.exchange(c, custom.sandbox_code(c), "openid");
  auto jwks = custom.http().get("/v1/oauth/jwks.json").json().as_object();
  auto verified = crypto::verify_jws(std::string(res.json().as_object().at("id_token").as_string()), jwks);
  ASSERT_TRUE(verified.claims);
  EXPECT_EQ(doc.at("issuer").as_string(), "https://auth.shop.example");
  EXPECT_EQ(verified.claims->at("iss"), doc.at("issuer"));
}

std::string mode_of(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return "missing";
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03o", st.st_mode & 0777);
  return buf;
}

TEST(KeyFilesTest, GeneratedOnFirstStartPrivateAndStableAcrossRestarts) {
  TempDir dir;
  server::AppOptions options;
  options.data_dir = dir.path() / "data";
  options.server.port = 0;
  options.quiet = true;
  boost::json::object first_jwks;
  {
    server::App app(options);
    HttpClient http(app.start());
    first_jwks = http.get("/v1/oauth/jwks.json").json().as_object();
    EXPECT_TRUE(app.fresh());
  }
  EXPECT_EQ(mode_of(options.data_dir), "700");
  EXPECT_EQ(mode_of(options.data_dir / "keys"), "700");
  EXPECT_EQ(mode_of(options.data_dir / "keys" / "master.key"), "600");
  EXPECT_EQ(mode_of(options.data_dir / "keys" / "signing" / "0001.pem"), "600");
  EXPECT_EQ(mode_of(options.data_dir / "boltauth.db"), "600");
  ASSERT_EQ(first_jwks.at("keys").as_array().size(), 3u) << "one key per alg: RS256, ES256, EdDSA";
  {
    server::App again(options);
    HttpClient http(again.start());
    EXPECT_FALSE(again.fresh());
    EXPECT_EQ(http.get("/v1/oauth/jwks.json").json().as_object(), first_jwks) << "keys must survive a restart";
  }
}

TEST(KeyFilesTest, RsaKeySizeIsConfigurable) {
  TempDir dir;
  server::AppOptions options;
  options.data_dir = dir.path();
  options.server.port = 0;
  options.quiet = true;
  options.rsa_key_bits = 3072;
  server::App app(options);
  HttpClient http(app.start());
  const auto keys = http.get("/v1/oauth/jwks.json").json().as_object().at("keys").as_array();
  EXPECT_EQ(base::base64url_decode(keys.at(0).as_object().at("n").as_string())->size(), 384u);
}

}  // namespace
}  // namespace boltauth::testing
