// Our own re-implementation of the OpenID Foundation's Basic OP conformance modules that apply to the code flow
// without a browser: one test per module, named after it. Codes come from the sandbox endpoint (or are bound in
// the store like the authorization endpoint binds them); everything else is real HTTP against a real server.
// Modules that need the authorization endpoint (prompt=none, max_age, redirect_uri) and key rotation live with
// those features.
#include <gtest/gtest.h>

#include <algorithm>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/jws.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class Oidcc : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  boost::json::object discovery() {
    auto res = server.http().get("/.well-known/openid-configuration");
    EXPECT_EQ(res.status, 200);
    return res.json().as_object();
  }
  // Path part of an endpoint URL from discovery (the test client speaks to 127.0.0.1 directly).
  std::string path_of(const boost::json::object& doc, const char* key) {
    const std::string url(doc.at(key).as_string());
    EXPECT_EQ(url.rfind(server.issuer(), 0), 0u) << url;
    return url.substr(server.issuer().size());
  }
  boost::json::object token_response(const std::string& code, const std::string& scope) {
    auto res = server.exchange(client, code, scope);
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("cache-control"), "no-store");
    return res.json().as_object();
  }
  // The checks every module runs on an id_token (OIDC Core 3.1.3.7), against the JWKS named by discovery.
  boost::json::object validated_id_token(const boost::json::object& tokens, const std::string& nonce = {}) {
    const auto doc = discovery();
    auto jwks = server.http().get(path_of(doc, "jwks_uri")).json().as_object();
    const std::string id_token(tokens.at("id_token").as_string());
    auto verified = crypto::verify_jws(id_token, jwks);
    EXPECT_TRUE(verified.claims) << "id_token signature does not verify with the published JWKS";
    if (!verified.claims) return {};
    const auto& c = *verified.claims;
    EXPECT_EQ(c.at("iss"), doc.at("issuer"));
    EXPECT_EQ(c.at("aud"), boost::json::value(boost::json::array{boost::json::string(client.client.id),
                                                                 boost::json::string(client.client.publishable_key)}));
    EXPECT_EQ(c.at("azp").as_string(), client.client.publishable_key);
    const auto now = server.clock().now();
    EXPECT_LE(c.at("iat").as_int64(), now);
    EXPECT_GT(c.at("exp").as_int64(), now);
    EXPECT_FALSE(std::string(c.at("sub").as_string()).empty());
    const auto digest = crypto::sha256(std::string(tokens.at("access_token").as_string()));
    EXPECT_EQ(c.at("at_hash").as_string(),
              base::base64url_encode(std::span<const std::uint8_t>(digest.data(), digest.size() / 2)));
    if (nonce.empty())
      EXPECT_FALSE(c.contains("nonce"));
    else
      EXPECT_EQ(c.at("nonce").as_string(), nonce);
    return c;
  }
  HttpResponse userinfo_get(const std::string& access_token) {
    return server.http().get(path_of(discovery(), "userinfo_endpoint"), {{"Authorization", "Bearer " + access_token}});
  }
  static std::string str(const boost::json::object& o, const char* key) { return std::string(o.at(key).as_string()); }
};

TEST_F(Oidcc, oidcc_server) {
  TestServer::CodeSpec spec;
  spec.nonce = "oidcc-server-nonce";
  spec.scope = "openid";
  auto tokens = token_response(server.insert_code(client, spec), "openid");
  EXPECT_EQ(str(tokens, "token_type"), "bearer");
  const auto claims = validated_id_token(tokens, spec.nonce);
  auto info = userinfo_get(str(tokens, "access_token"));
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.json().as_object().at("sub"), claims.at("sub"));
}

TEST_F(Oidcc, oidcc_codereuse) {
  const std::string code = server.sandbox_code(client);
  auto first = token_response(code, "openid");
  auto second = server.exchange(client, code, "openid");
  EXPECT_EQ(second.status, 422);
  EXPECT_EQ(second.json().as_object().at("error").as_string(), "invalid_grant");
  EXPECT_EQ(userinfo_get(str(first, "access_token")).status, 401) << "reuse revokes what the code issued";
}

TEST_F(Oidcc, oidcc_codereuse_30seconds) {
  const std::string code = server.sandbox_code(client);
  auto first = token_response(code, "openid");
  ASSERT_EQ(userinfo_get(str(first, "access_token")).status, 200);
  server.clock().advance(30);
  auto second = server.exchange(client, code, "openid");
  EXPECT_EQ(second.status, 422);
  EXPECT_EQ(second.json().as_object().at("error").as_string(), "invalid_grant");
  EXPECT_EQ(userinfo_get(str(first, "access_token")).status, 401);
}

TEST_F(Oidcc, oidcc_ensure_request_without_nonce_succeeds_for_code_flow) {
  TestServer::CodeSpec spec;  // no nonce
  spec.scope = "openid";
  auto tokens = token_response(server.insert_code(client, spec), "openid");
  validated_id_token(tokens);
}

TEST_F(Oidcc, oidcc_scope_email) {
  TestServer::CodeSpec spec;
  spec.scope = "openid email";
  auto tokens = token_response(server.insert_code(client, spec), "openid email");
  EXPECT_EQ(str(tokens, "scope"), "openid email");
  const auto claims = validated_id_token(tokens);
  auto info = userinfo_get(str(tokens, "access_token"));
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.json().as_object().at("email"), claims.at("email"));
  EXPECT_TRUE(info.json().as_object().at("email_verified").is_bool());
}

TEST_F(Oidcc, oidcc_userinfo_get) {
  auto tokens = token_response(server.sandbox_code(client), "openid");
  const auto claims = validated_id_token(tokens);
  auto info = userinfo_get(str(tokens, "access_token"));
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.header("content-type"), "application/json");
  EXPECT_EQ(info.json().as_object().at("sub"), claims.at("sub"));
}

TEST_F(Oidcc, oidcc_userinfo_post_header) {
  auto tokens = token_response(server.sandbox_code(client), "openid");
  const auto claims = validated_id_token(tokens);
  auto info = server.http().request("POST", path_of(discovery(), "userinfo_endpoint"),
                                    {{"Authorization", "Bearer " + str(tokens, "access_token")}});
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.json().as_object().at("sub"), claims.at("sub"));
}

TEST_F(Oidcc, oidcc_userinfo_post_body) {
  auto tokens = token_response(server.sandbox_code(client), "openid");
  const auto claims = validated_id_token(tokens);
  auto info = server.http().post_form(path_of(discovery(), "userinfo_endpoint"),
                                      form({{"access_token", str(tokens, "access_token")}}));
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.json().as_object().at("sub"), claims.at("sub"));
}

TEST_F(Oidcc, oidcc_refresh_token) {
  auto tokens = token_response(server.sandbox_code(client), "openid bolt.account.view");
  const auto claims = validated_id_token(tokens);
  ASSERT_TRUE(tokens.contains("refresh_token"));
  server.clock().advance(10);
  auto refreshed = server.refresh(client, str(tokens, "refresh_token"));
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const auto r = refreshed.json().as_object();
  EXPECT_NE(str(r, "refresh_token"), str(tokens, "refresh_token")) << "rotation";
  EXPECT_NE(str(r, "access_token"), str(tokens, "access_token"));
  EXPECT_FALSE(r.contains("id_token")) << "contract section 3: a refresh response carries no id_token";
  // The new access token belongs to the same end-user: introspection names the id_token's sub.
  auto info = server.http().post_form("/v1/oauth/introspect", form({{"client_id", client.client.id},
                                                                    {"client_secret", client.client_secret},
                                                                    {"token", str(r, "access_token")}}));
  ASSERT_EQ(info.status, 200);
  EXPECT_EQ(info.json().as_object().at("sub"), claims.at("sub"));
  EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + str(r, "access_token")}}).status, 200);
  // The old refresh token is spent.
  EXPECT_EQ(server.refresh(client, str(tokens, "refresh_token")).status, 422);
}

TEST_F(Oidcc, oidcc_ensure_request_with_unknown_parameter_succeeds) {
  auto res = server.exchange(client, server.sandbox_code(client), "openid",
                             {{"extra_param", "ignored"}, {"oidcc_unknown", "x y z"}});
  ASSERT_EQ(res.status, 200) << res.body;
  validated_id_token(res.json().as_object());
}

TEST_F(Oidcc, oidcc_discovery_endpoint_verification) {
  const auto doc = discovery();
  EXPECT_EQ(str(doc, "issuer"), server.issuer());
  for (const char* key :
       {"token_endpoint", "jwks_uri", "userinfo_endpoint", "introspection_endpoint", "revocation_endpoint"}) {
    ASSERT_TRUE(doc.contains(key)) << key;
    EXPECT_EQ(str(doc, key).rfind(server.issuer() + "/", 0), 0u) << key;
  }
  auto contains = [&](const char* key, const char* value) {
    const auto& a = doc.at(key).as_array();
    return std::find(a.begin(), a.end(), boost::json::value(value)) != a.end();
  };
  EXPECT_TRUE(contains("response_types_supported", "code"));
  EXPECT_TRUE(contains("subject_types_supported", "public"));
  EXPECT_EQ(doc.at("id_token_signing_alg_values_supported").as_array().at(0).as_string(), "RS256");
  EXPECT_FALSE(contains("id_token_signing_alg_values_supported", "none"));
  EXPECT_TRUE(contains("scopes_supported", "openid"));
  for (const char* claim : {"sub", "iss", "aud", "exp", "iat", "email", "email_verified"})
    EXPECT_TRUE(contains("claims_supported", claim)) << claim;
  for (const char* grant : {"authorization_code", "refresh_token", "client_credentials"})
    EXPECT_TRUE(contains("grant_types_supported", grant)) << grant;
  for (const char* key : {"token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported",
                          "revocation_endpoint_auth_methods_supported"}) {
    EXPECT_TRUE(contains(key, "client_secret_basic")) << key;
    EXPECT_TRUE(contains(key, "client_secret_post")) << key;
  }
  EXPECT_TRUE(contains("code_challenge_methods_supported", "S256"));
  EXPECT_FALSE(contains("code_challenge_methods_supported", "plain"));
  // Every advertised endpoint answers (not 404).
  auto jwks = server.http().get(path_of(doc, "jwks_uri"));
  EXPECT_EQ(jwks.status, 200);
  EXPECT_FALSE(jwks.json().as_object().at("keys").as_array().empty());
  EXPECT_EQ(server.http().get(path_of(doc, "userinfo_endpoint")).status, 401);
  EXPECT_EQ(server.http().post_form(path_of(doc, "introspection_endpoint"), "").status, 401);
  EXPECT_EQ(server.http().post_form(path_of(doc, "revocation_endpoint"), "").status, 401);
  EXPECT_EQ(server.http().post_form(path_of(doc, "token_endpoint"), "").status, 401);
}

}  // namespace
}  // namespace boltauth::testing
