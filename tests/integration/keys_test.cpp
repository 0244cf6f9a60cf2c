// Signing keys over real HTTP: per-client id_token alg (checklist G1), discovery and JWKS (H1-H3), phased
// rotation picked up by a running server, the `keys` commands, and the OpenID conformance module
// oidcc-server-rotate-keys re-implemented.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>

#include "base/base64url.hpp"
#include "crypto/jws.hpp"
#include "integration/process_util.hpp"
#include "server/key_material.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

boost::json::object header_of(const std::string& jwt) {
  auto bytes = base::base64url_decode(jwt.substr(0, jwt.find('.')));
  return boost::json::parse(std::string(bytes->begin(), bytes->end())).as_object();
}

class KeysTest : public ::testing::Test {
 protected:
  TestServer server;

  core::CreatedClient client_with_alg(const std::string& alg) {
    core::ClientSpec spec{"Alg merchant", {}, {}, alg};
    auto created = server.app().registry().create_client(spec);
    if (auto* err = std::get_if<std::string>(&created)) throw std::runtime_error(*err);
    return std::get<core::CreatedClient>(created);
  }
  /// The JWKS as an RP gets it: jwks_uri from discovery, then the set.
  boost::json::object fetched_jwks() {
    const auto doc = server.http().get("/.well-known/openid-configuration").json().as_object();
    const std::string uri(doc.at("jwks_uri").as_string());
    auto res = server.http().get(uri.substr(server.issuer().size()));
    EXPECT_EQ(res.status, 200);
    return res.json().as_object();
  }
  std::set<std::string> kids(const boost::json::object& jwks) {
    std::set<std::string> out;
    for (const auto& k : jwks.at("keys").as_array()) out.emplace(k.as_object().at("kid").as_string());
    return out;
  }
  std::string id_token(const core::CreatedClient& c, const std::string& nonce = "n-1") {
    TestServer::CodeSpec spec;
    spec.nonce = nonce;
    auto res = server.exchange(c, server.insert_code(c, spec), "bolt.account.manage openid");
    EXPECT_EQ(res.status, 200) << res.body;
    return std::string(res.json().as_object().at("id_token").as_string());
  }
  core::ScheduledKey rotate(const std::string& alg, std::int64_t delay) {
    return server.app().services().key_material().rotate(alg, 2048, server.clock().now(), delay);
  }

  void expect_signed_with(const std::string& alg, const std::string& kty) {
    const auto c = client_with_alg(alg);
    const std::string token = id_token(c);
    const auto header = header_of(token);
    EXPECT_EQ(header.at("alg").as_string(), alg);
    const auto jwks = fetched_jwks();
    const std::string kid(header.at("kid").as_string());
    bool found = false;
    for (const auto& k : jwks.at("keys").as_array()) {
      const auto& o = k.as_object();
      if (o.at("kid").as_string() != kid) continue;
      found = true;
      EXPECT_EQ(o.at("kty").as_string(), kty);
      EXPECT_EQ(o.at("alg").as_string(), alg);
    }
    EXPECT_TRUE(found) << "kid " << kid << " not in the JWKS";
    const auto verified = crypto::verify_jws(token, jwks);
    ASSERT_TRUE(verified.claims) << alg << " id_token does not verify";
    const auto& claims = *verified.claims;
    EXPECT_EQ(claims.at("iss").as_string(), server.issuer());
    // The client authenticated with its full publishable key: both spellings in aud, azp as it spelled it.
    EXPECT_EQ(claims.at("aud"), boost::json::value(boost::json::array{boost::json::string(c.client.id),
                                                                      boost::json::string(c.client.publishable_key)}));
    EXPECT_EQ(claims.at("azp").as_string(), c.client.publishable_key);
    EXPECT_EQ(claims.at("nonce").as_string(), "n-1");
    EXPECT_EQ(claims.at("exp").as_int64(), server.clock().now() + 3600);
    EXPECT_TRUE(claims.contains("at_hash") && claims.contains("sub") && claims.contains("iat"));
  }
};

TEST_F(KeysTest, ChecklistG1IdTokenSignedWithRs256ByDefault) { expect_signed_with("RS256", "RSA"); }
TEST_F(KeysTest, ChecklistG1IdTokenSignedWithEs256ForAnEs256Client) { expect_signed_with("ES256", "EC"); }
TEST_F(KeysTest, ChecklistG1IdTokenSignedWithEdDsaForAnEdDsaClient) { expect_signed_with("EdDSA", "OKP"); }

TEST_F(KeysTest, ClientWithUnknownAlgIsRefused) {
  for (const char* alg : {"none", "HS256", "PS256", "rs256"}) {
    auto created = server.app().registry().create_client(core::ClientSpec{"x", {}, {}, alg});
    EXPECT_TRUE(std::holds_alternative<std::string>(created)) << alg;
  }
}

TEST_F(KeysTest, ChecklistH1DiscoveryListsEveryAlgWithAKey) {
  const auto doc = server.http().get("/.well-known/openid-configuration").json().as_object();
  EXPECT_EQ(doc.at("id_token_signing_alg_values_supported"),
            boost::json::value(boost::json::array{"RS256", "ES256", "EdDSA"}));
  EXPECT_EQ(doc.at("issuer").as_string(), server.issuer());
}

TEST_F(KeysTest, ChecklistH2JwksHasNoPrivateMaterialAndUniqueKidsAfterRotations) {
  rotate("ES256", 0);
  rotate("EdDSA", 600);
  const auto jwks = fetched_jwks();
  const auto& keys = jwks.at("keys").as_array();
  EXPECT_EQ(keys.size(), 5u);
  std::set<std::string> seen;
  for (const auto& k : keys) {
    const auto& o = k.as_object();
    for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}) EXPECT_FALSE(o.contains(priv)) << priv;
    EXPECT_TRUE(seen.emplace(o.at("kid").as_string()).second) << "duplicate kid";
    EXPECT_EQ(o.at("use").as_string(), "sig");
    if (o.at("kty").as_string() == "RSA") {
      EXPECT_GE(base::base64url_decode(o.at("n").as_string())->size(), 256u) << "RSA >= 2048";
    }
  }
}

TEST_F(KeysTest, ChecklistH3RotatedKeysAreIdenticalOnAnotherNodeAndAfterRestart) {
  rotate("RS256", 60);
  const auto before = fetched_jwks();
  server::AppOptions options = server.same_store_options();
  server::App second(options);
  HttpClient http(second.start());
  EXPECT_EQ(http.get("/v1/oauth/jwks.json").json().as_object(), before);
}

TEST_F(KeysTest, NewKeyIsPublishedFirstAndSignsOnlyAfterTheDelay) {
  const auto c = client_with_alg("ES256");
  const std::string old_kid(header_of(id_token(c)).at("kid").as_string());
  const auto added = rotate("ES256", 300);
  EXPECT_TRUE(kids(fetched_jwks()).count(added.key->kid())) << "published at once, by the running server";
  EXPECT_EQ(header_of(id_token(c)).at("kid").as_string(), old_kid) << "not signing before the delay";
  server.clock().advance(299);
  EXPECT_EQ(header_of(id_token(c)).at("kid").as_string(), old_kid);
  server.clock().advance(1);
  EXPECT_EQ(header_of(id_token(c)).at("kid").as_string(), added.key->kid());
  const auto doc = server.http().get("/.well-known/openid-configuration").json().as_object();
  EXPECT_EQ(doc.at("id_token_signing_alg_values_supported").as_array().size(), 3u);
}

TEST_F(KeysTest, RetiredKeyDisappearsOnceItsLastIdTokenExpired) {
  const auto c = client_with_alg("EdDSA");
  const std::string old_kid(header_of(id_token(c)).at("kid").as_string());
  rotate("EdDSA", 0);
  server.clock().advance(3599);
  EXPECT_TRUE(kids(fetched_jwks()).count(old_kid)) << "an id_token signed just before rotation is still valid";
  server.clock().advance(1);
  EXPECT_FALSE(kids(fetched_jwks()).count(old_kid));
}

TEST_F(KeysTest, ChecklistG2IdTokenIsNeverAcceptedAsAnAccessToken) {
  for (const char* alg : {"RS256", "ES256", "EdDSA"}) {
    const auto c = client_with_alg(alg);
    auto res = server.http().get("/v1/account", {{"Authorization", "Bearer " + id_token(c)}});
    EXPECT_EQ(res.status, 401) << alg;
  }
}

// OpenID Foundation conformance module oidcc-server-rotate-keys: after the OP rotates its keys, id_tokens
// verify with the new key from a freshly fetched JWKS, and tokens signed before still verify while published.
TEST_F(KeysTest, oidcc_server_rotate_keys) {
  const auto c = server.create_client();
  const std::string before = id_token(c, "before");
  const auto jwks_before = fetched_jwks();
  ASSERT_TRUE(crypto::verify_jws(before, jwks_before).claims);

  const auto added = rotate("RS256", 120);
  server.clock().advance(120);
  const std::string after = id_token(c, "after");
  EXPECT_EQ(header_of(after).at("kid").as_string(), added.key->kid());
  EXPECT_NE(header_of(after).at("kid"), header_of(before).at("kid"));
  const auto jwks_after = fetched_jwks();
  auto verified = crypto::verify_jws(after, jwks_after);
  ASSERT_TRUE(verified.claims) << "new id_token does not verify with the fetched JWKS";
  EXPECT_EQ(verified.claims->at("nonce").as_string(), "after");
  EXPECT_EQ(crypto::verify_jws(after, jwks_before).error, crypto::JwsError::unknown_kid)
      << "a stale JWKS cannot know the new kid: RPs refetch on an unknown kid";
  auto old_one = crypto::verify_jws(before, jwks_after);
  ASSERT_TRUE(old_one.claims) << "an id_token signed before the rotation must still verify";
  EXPECT_EQ(old_one.claims->at("nonce").as_string(), "before");

  server.clock().advance(3600);  // every id_token of the old key has expired
  EXPECT_EQ(crypto::verify_jws(before, fetched_jwks()).error, crypto::JwsError::unknown_kid);
  EXPECT_TRUE(crypto::verify_jws(after, fetched_jwks()).claims);
}

TEST(KeysCliTest, RotateAndListThroughTheBinary) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const std::string data = dir.path().string();
  auto rotated = run_command(
      {BOLTAUTH_BINARY, "keys", "rotate", "--data-dir", data, "--alg", "ES256", "--activation-delay", "100", "--json"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  auto listed = run_command({BOLTAUTH_BINARY, "keys", "list", "--data-dir", data, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  boost::json::array keys;  // signing keys; sealing keys follow them with "use": "sealing"
  const auto all = boost::json::parse(listed.out);
  for (const auto& k : all.as_array())
    if (k.as_object().at("use").as_string() == "sig") keys.push_back(k);
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[3].as_object().at("alg").as_string(), "ES256");
  EXPECT_EQ(keys[3].as_object().at("phase").as_string(), "pending");
  EXPECT_EQ(keys[3].as_object().at("activates_at").as_int64() - keys[3].as_object().at("created_at").as_int64(), 100);
  EXPECT_EQ(keys[1].as_object().at("phase").as_string(), "active");
  auto bad = run_command({BOLTAUTH_BINARY, "keys", "rotate", "--data-dir", data, "--alg", "HS256"});
  EXPECT_NE(bad.exit_code, 0);
  auto client = run_command(
      {BOLTAUTH_BINARY, "client", "create", "--data-dir", data, "--name", "m", "--id-token-alg", "EdDSA", "--json"});
  ASSERT_EQ(client.exit_code, 0) << client.err;
  EXPECT_EQ(boost::json::parse(client.out).as_object().at("id_token_signed_response_alg").as_string(), "EdDSA");
}

}  // namespace
}  // namespace boltauth::testing
