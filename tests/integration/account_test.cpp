// Resource endpoints of contract section 7: Bearer tokens and scope enforcement.
#include <gtest/gtest.h>

#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class AccountTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  std::string access_token(const std::string& scope) {
    auto res = server.exchange(client, server.sandbox_code(client), scope);
    EXPECT_EQ(res.status, 200) << res.body;
    return std::string(res.json().as_object().at("access_token").as_string());
  }
  static void expect_bolt_error(const HttpResponse& res, int status, const std::string& www_error) {
    EXPECT_EQ(res.status, status) << res.body;
    ASSERT_TRUE(res.header("www-authenticate")) << res.body;
    EXPECT_NE(res.header("www-authenticate")->find("Bearer"), std::string::npos);
    EXPECT_NE(res.header("www-authenticate")->find("error=\"" + www_error + "\""), std::string::npos);
    const auto body = res.json().as_object();
    EXPECT_FALSE(body.at("errors").as_array().empty());
    EXPECT_EQ(body.at("result").as_object().at("success").as_bool(), false);
  }
};

TEST_F(AccountTest, ViewScopeReadsTheAccount) {
  auto res = server.http().get("/v1/account", {{"Authorization", "Bearer " + access_token("bolt.account.view")}});
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = res.json().as_object();
  EXPECT_EQ(body.at("has_bolt_account").as_bool(), true);
  EXPECT_EQ(body.at("profile").as_object().at("first_name").as_string(), "Test");
  EXPECT_TRUE(body.at("profile").as_object().contains("email"));
  EXPECT_TRUE(body.at("addresses").is_array());
}

TEST_F(AccountTest, ManageScopeReadsTooAndSchemeIsCaseInsensitive) {
  const auto token = access_token("bolt.account.manage");
  for (const char* scheme : {"Bearer ", "bearer ", "BEARER "})
    EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", scheme + token}}).status, 200) << scheme;
}

TEST_F(AccountTest, OpenidOnlyTokenHasInsufficientScope) {
  auto res = server.http().get("/v1/account", {{"Authorization", "Bearer " + access_token("openid")}});
  expect_bolt_error(res, 403, "insufficient_scope");
}

TEST_F(AccountTest, MissingOrBadTokenIsInvalidToken) {
  expect_bolt_error(server.http().get("/v1/account"), 401, "invalid_token");
  expect_bolt_error(server.http().get("/v1/account", {{"Authorization", "Bearer garbage"}}), 401, "invalid_token");
  expect_bolt_error(server.http().get("/v1/account", {{"Authorization", "Basic Zm9vOmJhcg=="}}), 401, "invalid_token");
  std::string flipped = access_token("bolt.account.view");
  flipped[50] = flipped[50] == 'A' ? 'B' : 'A';
  expect_bolt_error(server.http().get("/v1/account", {{"Authorization", "Bearer " + flipped}}), 401, "invalid_token");
}

TEST_F(AccountTest, IdTokenAndRefreshTokenAreNotAccessTokens) {
  auto res = server.exchange(client, server.sandbox_code(client), "bolt.account.manage openid");
  const auto body = res.json().as_object();
  for (const char* field : {"id_token", "refresh_token"}) {
    auto r = server.http().get("/v1/account", {{"Authorization", "Bearer " + std::string(body.at(field).as_string())}});
    expect_bolt_error(r, 401, "invalid_token");
  }
}

TEST_F(AccountTest, PatchProfileNeedsManage) {
  const Headers json{{"Content-Type", "application/json"}};
  auto view = access_token("bolt.account.view");
  Headers h = json;
  h.emplace_back("Authorization", "Bearer " + view);
  expect_bolt_error(server.http().request("PATCH", "/v1/account/profile", h, R"({"first_name":"Grace"})"), 403,
                    "insufficient_scope");

  auto manage = access_token("bolt.account.manage");
  Headers m = json;
  m.emplace_back("Authorization", "Bearer " + manage);
  auto res = server.http().request("PATCH", "/v1/account/profile", m, R"({"first_name":"Grace","last_name":"Hopper"})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json().as_object().at("first_name").as_string(), "Grace");
  EXPECT_EQ(res.json().as_object().at("name").as_string(), "Grace Hopper");
  auto read = server.http().get("/v1/account", {{"Authorization", "Bearer " + manage}});
  EXPECT_EQ(read.json().as_object().at("profile").as_object().at("last_name").as_string(), "Hopper");
}

TEST_F(AccountTest, PatchProfileRejectsBadBodiesAndChangesNothing) {
  auto manage = access_token("bolt.account.manage");
  Headers h{{"Content-Type", "application/json"}, {"Authorization", "Bearer " + manage}};
  EXPECT_EQ(server.http().request("PATCH", "/v1/account/profile", h, "not json").status, 400);
  // A field of the wrong type is a 400 that names it (the account data's input rules).
  auto typed = server.http().request("PATCH", "/v1/account/profile", h, R"({"first_name":7})");
  EXPECT_EQ(typed.status, 400);
  EXPECT_NE(typed.body.find("first_name"), std::string::npos) << typed.body;
  auto read = server.http().get("/v1/account", {{"Authorization", "Bearer " + manage}});
  EXPECT_EQ(read.json().as_object().at("profile").as_object().at("first_name").as_string(), "Test");
}

TEST_F(AccountTest, ApiKeyOfAnotherMerchantIsRefused) {
  auto other = server.create_client();
  auto token = access_token("bolt.account.view");
  EXPECT_EQ(server.http()
                .get("/v1/account", {{"Authorization", "Bearer " + token}, {"X-API-Key", other.client_secret}})
                .status,
            401);
  EXPECT_EQ(server.http()
                .get("/v1/account", {{"Authorization", "Bearer " + token}, {"X-API-Key", client.client_secret}})
                .status,
            200);
}

}  // namespace
}  // namespace boltauth::testing
