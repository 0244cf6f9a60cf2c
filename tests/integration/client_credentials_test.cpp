// The client_credentials grant (RFC 6749 section 4.4) for clients allowed it (contract section 3).
#include <gtest/gtest.h>

#include "protocol/basic_auth.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class ClientCredentialsTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient machine = server.create_client({}, {"client_credentials"});

  HttpResponse request(const core::CreatedClient& c, std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::vector<std::pair<std::string, std::string>> p{
        {"grant_type", "client_credentials"}, {"client_id", c.client.id}, {"client_secret", c.client_secret}};
    p.insert(p.end(), extra.begin(), extra.end());
    return server.http().post_form("/v1/oauth/token", form(p));
  }
  HttpResponse introspect(const std::string& token) {
    return server.http().post_form(
        "/v1/oauth/introspect",
        form({{"client_id", machine.client.id}, {"client_secret", machine.client_secret}, {"token", token}}));
  }
  static std::string access(const HttpResponse& res) {
    return std::string(res.json().as_object().at("access_token").as_string());
  }
};

TEST_F(ClientCredentialsTest, IssuesAnAccessTokenOnly) {
  auto res = request(machine, {{"scope", "bolt.account.view"}});
  ASSERT_EQ(res.status, 200) << res.body;
  const auto o = res.json().as_object();
  EXPECT_EQ(o.at("token_type").as_string(), "bearer");
  EXPECT_EQ(o.at("expires_in").as_int64(), 3600);
  EXPECT_EQ(o.at("scope").as_string(), "bolt.account.view");
  EXPECT_FALSE(o.contains("refresh_token")) << "RFC 6749 section 4.4.3";
  EXPECT_FALSE(o.contains("refresh_token_scope"));
  EXPECT_FALSE(o.contains("id_token")) << "no end-user, no id_token";
  EXPECT_EQ(res.header("cache-control"), "no-store");
}

TEST_F(ClientCredentialsTest, ScopeIsOptionalAndDefaultsToNothing) {
  auto res = request(machine);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json().as_object().at("scope").as_string(), "");
}

TEST_F(ClientCredentialsTest, EndUserScopesAreInvalidScope) {
  for (const char* scope : {"openid", "email", "bolt.account.view openid"}) {
    auto res = request(machine, {{"scope", scope}});
    EXPECT_EQ(res.status, 400) << scope;
    EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_scope") << scope;
  }
  auto res = request(machine, {{"scope", "bolt.unknown"}});
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_scope");
}

TEST_F(ClientCredentialsTest, ClientNotAllowedTheGrantIsForbidden) {
  auto ordinary = server.create_client();
  auto res = request(ordinary);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "request_forbidden");
}

TEST_F(ClientCredentialsTest, WrongSecretIsInvalidClient) {
  auto res = server.http().post_form(
      "/v1/oauth/token",
      form({{"grant_type", "client_credentials"}, {"client_id", machine.client.id}, {"client_secret", "nope"}}));
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_client");
}

TEST_F(ClientCredentialsTest, BasicAuthWorks) {
  auto res = server.http().post_form(
      "/v1/oauth/token", form({{"grant_type", "client_credentials"}, {"scope", "bolt.account.manage"}}),
      {{"Authorization", protocol::make_basic_auth(machine.client.publishable_key, machine.client_secret)}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json().as_object().at("scope").as_string(), "bolt.account.manage");
}

TEST_F(ClientCredentialsTest, IntrospectionShowsTheClientAsSubject) {
  auto res = request(machine, {{"scope", "bolt.account.view"}});
  ASSERT_EQ(res.status, 200);
  auto info = introspect(access(res));
  ASSERT_EQ(info.status, 200);
  const auto o = info.json().as_object();
  EXPECT_TRUE(o.at("active").as_bool()) << info.body;
  EXPECT_EQ(o.at("sub").as_string(), machine.client.id);
  EXPECT_EQ(o.at("client_id").as_string(), machine.client.id);
  EXPECT_EQ(o.at("scope").as_string(), "bolt.account.view");
}

TEST_F(ClientCredentialsTest, RevocationKillsTheToken) {
  const std::string token = access(request(machine));
  auto rev = server.http().post_form(
      "/v1/oauth/revoke",
      form({{"client_id", machine.client.id}, {"client_secret", machine.client_secret}, {"token", token}}));
  ASSERT_EQ(rev.status, 200);
  EXPECT_EQ(introspect(token).body, R"({"active":false})");
}

TEST_F(ClientCredentialsTest, TokenExpires) {
  const std::string token = access(request(machine));
  server.clock().advance(3600);
  EXPECT_EQ(introspect(token).body, R"({"active":false})");
}

TEST_F(ClientCredentialsTest, TokenOpensNoAccountOrUserinfo) {
  const std::string token = access(request(machine, {{"scope", "bolt.account.view"}}));
  EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + token}}).status, 401);
  EXPECT_EQ(server.http().get("/v1/oauth/userinfo", {{"Authorization", "Bearer " + token}}).status, 403);
}

TEST_F(ClientCredentialsTest, EachRequestGetsADistinctToken) {
  EXPECT_NE(access(request(machine)), access(request(machine)));
}

}  // namespace
}  // namespace boltauth::testing
