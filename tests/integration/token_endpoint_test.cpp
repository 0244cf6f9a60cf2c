// Token endpoint over real HTTP: scope encodings, client authentication forms, the exact response shape.
#include <gtest/gtest.h>

#include <regex>

#include "protocol/basic_auth.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

const std::regex kTokenShape("^[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{43}$");

class TokenEndpointTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  // Sends a raw body (not re-encoded) so each wire encoding is exactly what a Bolt SDK writes.
  HttpResponse post_raw(const std::string& path, const std::string& body, Headers headers = {}) {
    return server.http().post_form(path, body, std::move(headers));
  }
  std::string creds() {
    return "client_id=" + client.client.publishable_key + "&client_secret=" + client.client_secret;
  }
};

TEST_F(TokenEndpointTest, ResponseHasExactlyBoltsFieldsAndTypes) {
  auto res = server.exchange(client, server.sandbox_code(client), "bolt.account.manage openid");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("content-type"), "application/json");
  EXPECT_EQ(res.header("cache-control"), "no-store");
  EXPECT_EQ(res.header("pragma"), "no-cache");
  const auto body = res.json().as_object();
  std::set<std::string> keys;
  for (const auto& kv : body) keys.insert(std::string(kv.key()));
  EXPECT_EQ(keys, (std::set<std::string>{"access_token", "expires_in", "id_token", "refresh_token",
                                         "refresh_token_scope", "scope", "token_type"}));
  EXPECT_TRUE(body.at("expires_in").is_int64());
  EXPECT_EQ(body.at("expires_in").as_int64(), 3600);
  EXPECT_EQ(body.at("token_type").as_string(), "bearer");
  EXPECT_EQ(body.at("refresh_token_scope").as_string(), "bolt.account.view");
  EXPECT_EQ(body.at("scope").as_string(), "bolt.account.manage openid");
  EXPECT_TRUE(std::regex_match(std::string(body.at("access_token").as_string()), kTokenShape));
  EXPECT_TRUE(std::regex_match(std::string(body.at("refresh_token").as_string()), kTokenShape));
  EXPECT_EQ(std::count(body.at("id_token").as_string().begin(), body.at("id_token").as_string().end(), '.'), 2);
}

TEST_F(TokenEndpointTest, NoIdTokenWithoutOpenid) {
  auto res = server.exchange(client, server.sandbox_code(client), "bolt.account.manage");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_FALSE(res.json().as_object().contains("id_token"));
  EXPECT_EQ(res.json().as_object().at("scope").as_string(), "bolt.account.manage");
}

struct ScopeCase {
  const char* name;
  const char* path;
  const char* encoded;  // exactly as on the wire
};

void PrintTo(const ScopeCase& c, std::ostream* os) { *os << c.name; }

class ScopeEncodingTest : public TokenEndpointTest, public ::testing::WithParamInterface<ScopeCase> {};

TEST_P(ScopeEncodingTest, EveryEncodingGrantsTheSameScope) {
  const auto& p = GetParam();
  const std::string code = server.sandbox_code(client);
  auto res = post_raw(p.path, "grant_type=authorization_code&code=" + code + "&" + creds() + "&scope=" + p.encoded);
  ASSERT_EQ(res.status, 200) << p.name << ": " << res.body;
  EXPECT_EQ(res.json().as_object().at("scope").as_string(), "bolt.account.manage openid") << p.name;
  EXPECT_TRUE(res.json().as_object().contains("id_token")) << p.name;
}

const ScopeCase kScopeCases[] = {
    {"v1_plus_space", "/v1/oauth/token", "bolt.account.manage+openid"},
    {"v1_percent20", "/v1/oauth/token", "bolt.account.manage%20openid"},
    {"v1_literal_plus", "/v1/oauth/token", "bolt.account.manage%2Bopenid"},
    {"v1_json_array_raw", "/v1/oauth/token", "[\"bolt.account.manage\",\"openid\"]"},
    {"v1_json_array_encoded", "/v1/oauth/token", "%5B%22bolt.account.manage%22%2C%22openid%22%5D"},
    {"v3_plus_space", "/v3/oauth/token", "bolt.account.manage+openid"},
    {"v3_percent20", "/v3/oauth/token", "bolt.account.manage%20openid"},
    {"v3_literal_plus", "/v3/oauth/token", "bolt.account.manage%2Bopenid"},
    {"v3_json_array_raw", "/v3/oauth/token", "[\"bolt.account.manage\",\"openid\"]"},
    {"v3_json_array_encoded", "/v3/oauth/token", "%5B%22bolt.account.manage%22%2C%22openid%22%5D"},
};
INSTANTIATE_TEST_SUITE_P(Encodings, ScopeEncodingTest, ::testing::ValuesIn(kScopeCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(TokenEndpointTest, SingleScopeValueAsPythonSdkSends) {
  const std::string code = server.sandbox_code(client);
  for (const char* path : {"/v1/oauth/token", "/v3/oauth/token"}) {
    const std::string c = path[2] == '1' ? code : server.sandbox_code(client);
    auto res = post_raw(path, "grant_type=authorization_code&code=" + c + "&" + creds() + "&scope=bolt.account.view");
    ASSERT_EQ(res.status, 200) << path << res.body;
    EXPECT_EQ(res.json().as_object().at("scope").as_string(), "bolt.account.view");
  }
}

TEST_F(TokenEndpointTest, ClientAuthWithBasic) {
  const std::string code = server.sandbox_code(client);
  auto res =
      post_raw("/v1/oauth/token", "grant_type=authorization_code&code=" + code + "&scope=openid",
               {{"Authorization", protocol::make_basic_auth(client.client.publishable_key, client.client_secret)}});
  ASSERT_EQ(res.status, 200) << res.body;
}

TEST_F(TokenEndpointTest, ClientAuthWithBasicAndLowercaseScheme) {
  auto header = protocol::make_basic_auth(client.client.id, client.client_secret);
  header.replace(0, 5, "basic");
  auto res =
      post_raw("/v1/oauth/token", "grant_type=authorization_code&code=" + server.sandbox_code(client) + "&scope=openid",
               {{"Authorization", header}});
  ASSERT_EQ(res.status, 200) << res.body;
}

TEST_F(TokenEndpointTest, ClientAuthWithBasicAndMatchingBodyClientId) {
  auto res =
      post_raw("/v1/oauth/token",
               "grant_type=authorization_code&code=" + server.sandbox_code(client) +
                   "&scope=openid&client_id=" + client.client.id,
               {{"Authorization", protocol::make_basic_auth(client.client.publishable_key, client.client_secret)}});
  ASSERT_EQ(res.status, 200) << res.body;
}

TEST_F(TokenEndpointTest, ClientIdAsFullPublishableKeyOrLastSection) {
  for (const std::string& id : {client.client.publishable_key, client.client.id}) {
    auto res = post_raw("/v1/oauth/token", "grant_type=authorization_code&code=" + server.sandbox_code(client) +
                                               "&client_id=" + id + "&client_secret=" + client.client_secret +
                                               "&scope=openid");
    ASSERT_EQ(res.status, 200) << id << " " << res.body;
  }
}

TEST_F(TokenEndpointTest, ClientIdWithWrongFirstSectionsIsUnknown) {
  const std::string forged = "AAAAAAAAAAAA.BBBBBBBBBBBB." + client.client.id;
  auto res = post_raw("/v1/oauth/token", "grant_type=authorization_code&code=" + server.sandbox_code(client) +
                                             "&client_id=" + forged + "&client_secret=" + client.client_secret +
                                             "&scope=openid");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_client");
}

TEST_F(TokenEndpointTest, BoltHeadersAreAccepted) {
  auto res =
      post_raw("/v3/oauth/token",
               "grant_type=authorization_code&code=" + server.sandbox_code(client) + "&" + creds() + "&scope=openid",
               {{"X-API-Key", client.client_secret},
                {"X-Publishable-Key", client.client.publishable_key},
                {"X-Merchant-Client-Id", ""},
                {"X-Nonce", "12345"},
                {"X-Bolt-Source-Name", "bolt-typescript-sdk"},
                {"X-Bolt-Source-Version", "3.0.0"},
                {"Idempotency-Key", "abc"}});
  ASSERT_EQ(res.status, 200) << res.body;
}

TEST_F(TokenEndpointTest, ContentTypeWithCharsetIsAccepted) {
  auto res = server.http().request(
      "POST", "/v1/oauth/token", {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}},
      "grant_type=authorization_code&code=" + server.sandbox_code(client) + "&" + creds() + "&scope=openid");
  ASSERT_EQ(res.status, 200) << res.body;
}

TEST_F(TokenEndpointTest, UnknownParametersAreIgnored) {
  auto res = post_raw("/v1/oauth/token", "grant_type=authorization_code&code=" + server.sandbox_code(client) + "&" +
                                             creds() + "&scope=openid&foo=bar&audience=x");
  ASSERT_EQ(res.status, 200) << res.body;
}

TEST_F(TokenEndpointTest, RefreshResponseShape) {
  auto first = server.exchange(client, server.sandbox_code(client));
  ASSERT_EQ(first.status, 200);
  auto res = server.refresh(client, std::string(first.json().as_object().at("refresh_token").as_string()));
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = res.json().as_object();
  std::set<std::string> keys;
  for (const auto& kv : body) keys.insert(std::string(kv.key()));
  EXPECT_EQ(keys, (std::set<std::string>{"access_token", "expires_in", "refresh_token", "refresh_token_scope", "scope",
                                         "token_type"}));
  EXPECT_EQ(body.at("scope").as_string(), "bolt.account.view");
  EXPECT_EQ(body.at("refresh_token_scope").as_string(), "bolt.account.view");
  EXPECT_NE(body.at("refresh_token"), first.json().as_object().at("refresh_token"));
}

TEST_F(TokenEndpointTest, ScopeOptionalWhenConfigured) {
  TestServer lenient([](server::AppOptions& o) { o.config.token_scope_required = false; });
  auto c = lenient.create_client();
  auto res = lenient.http().post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                               {"code", lenient.sandbox_code(c)},
                                                               {"client_id", c.client.publishable_key},
                                                               {"client_secret", c.client_secret}}));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json().as_object().at("scope").as_string(), "bolt.account.manage bolt.account.view openid");
}

TEST_F(TokenEndpointTest, LifetimesAreConfigurable) {
  TestServer custom([](server::AppOptions& o) { o.config.access_token_ttl = 120; });
  auto c = custom.create_client();
  auto res = custom.exchange(c, custom.sandbox_code(c));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.json().as_object().at("expires_in").as_int64(), 120);
}

}  // namespace
}  // namespace boltauth::testing
