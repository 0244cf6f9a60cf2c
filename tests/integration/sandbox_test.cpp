// POST /v1/testing/shopper/create (contract section 8).
#include <gtest/gtest.h>

#include <regex>

#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

TEST(SandboxTest, CreatesAShopperWithTheTestingAccountDetailsShape) {
  TestServer server;
  auto client = server.create_client();
  auto res = server.http().request("POST", "/v1/testing/shopper/create",
                                   {{"X-API-Key", client.client_secret}, {"Content-Type", "application/json"}},
                                   R"({"deactivate_in_days":10,"email_state":"verified","phone_state":"unverified"})");
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = res.json().as_object();
  EXPECT_TRUE(std::regex_match(std::string(body.at("otp_code").as_string()), std::regex("^[0-9]{6}$")));
  EXPECT_NE(body.at("email").as_string().find('@'), std::string::npos);
  EXPECT_EQ(body.at("email_state").as_string(), "verified");
  EXPECT_EQ(body.at("phone_state").as_string(), "unverified");
  EXPECT_TRUE(std::regex_match(std::string(body.at("phone").as_string()), std::regex("^\\+[1-9][0-9]{7,14}$")));
  EXPECT_TRUE(std::regex_match(std::string(body.at("will_deactivate_at").as_string()),
                               std::regex("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$")));
  EXPECT_TRUE(std::regex_match(std::string(body.at("oauth_code").as_string()),
                               std::regex("^[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{43}$")));
  EXPECT_EQ(res.header("cache-control"), "no-store");
}

TEST(SandboxTest, OauthCodeHasFullScopeAndIsRedeemableOnce) {
  TestServer server;
  auto client = server.create_client();
  const std::string code = server.sandbox_code(client);
  auto res = server.exchange(client, code, "bolt.account.manage bolt.account.view openid");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json().as_object().at("scope").as_string(), "bolt.account.manage bolt.account.view openid");
  EXPECT_EQ(server.exchange(client, code, "openid").status, 422);
}

TEST(SandboxTest, DeactivationDateFollowsTheRequest) {
  TestServer server;
  server.clock().set(1'800'000'000);  // 2027-01-15T08:00:00Z
  auto client = server.create_client();
  auto body = server.create_shopper(client, R"({"deactivate_in_days":1})");
  EXPECT_EQ(body.at("will_deactivate_at").as_string(), "2027-01-16T08:00:00Z");
}

TEST(SandboxTest, DeactivatedAccountsCanNoLongerGetTokens) {
  TestServer server;
  auto client = server.create_client();
  auto shopper = server.create_shopper(client, R"({"deactivate_in_days":1})");
  server.clock().advance(86400);
  EXPECT_EQ(server.exchange(client, std::string(shopper.at("oauth_code").as_string()), "openid").status, 422);
}

TEST(SandboxTest, TokensOfADeactivatedAccountStopWorkingWhateverTheirScope) {
  TestServer server;
  auto client = server.create_client();
  auto shopper = server.create_shopper(client, R"({"deactivate_in_days":1})");
  auto res = server.exchange(client, std::string(shopper.at("oauth_code").as_string()), "bolt.account.view");
  ASSERT_EQ(res.status, 200);
  const Headers bearer{
      {"Authorization", "Bearer " + std::string(res.json().as_object().at("access_token").as_string())},
      {"Content-Type", "application/json"}};
  ASSERT_EQ(server.http().get("/v1/account", bearer).status, 200);
  server.clock().advance(86400);
  EXPECT_EQ(server.http().get("/v1/account", bearer).status, 401);
  // 401 invalid_token, not 403 insufficient_scope, even where the scope would not suffice either.
  EXPECT_EQ(server.http().request("PATCH", "/v1/account/profile", bearer, R"({"first_name":"X"})").status, 401);
}

TEST(SandboxTest, RequiresTheApiKey) {
  TestServer server;
  auto client = server.create_client();
  EXPECT_EQ(
      server.http().request("POST", "/v1/testing/shopper/create", {{"Content-Type", "application/json"}}, "{}").status,
      401);
  EXPECT_EQ(server.http()
                .request("POST", "/v1/testing/shopper/create",
                         {{"X-API-Key", "wrong"}, {"Content-Type", "application/json"}}, "{}")
                .status,
            401);
  auto other = server.create_client();
  EXPECT_EQ(server.http()
                .request("POST", "/v1/testing/shopper/create",
                         {{"X-API-Key", client.client_secret}, {"X-Publishable-Key", other.client.publishable_key}}, "")
                .status,
            401);
}

TEST(SandboxTest, RejectsBadInput) {
  TestServer server;
  auto client = server.create_client();
  const Headers h{{"X-API-Key", client.client_secret}, {"Content-Type", "application/json"}};
  EXPECT_EQ(server.http().request("POST", "/v1/testing/shopper/create", h, "{not json").status, 400);
  EXPECT_EQ(server.http().request("POST", "/v1/testing/shopper/create", h, R"({"deactivate_in_days":181})").status,
            422);
  EXPECT_EQ(server.http().request("POST", "/v1/testing/shopper/create", h, R"({"deactivate_in_days":"x"})").status,
            400);
  EXPECT_EQ(server.http().request("POST", "/v1/testing/shopper/create", h, R"({"email_state":"bogus"})").status, 422);
}

TEST(SandboxTest, AbsentInProductionMode) {
  TestServer server([](server::AppOptions& o) { o.config.mode = core::Mode::production; });
  auto client = server.create_client();
  auto res = server.http().request("POST", "/v1/testing/shopper/create",
                                   {{"X-API-Key", client.client_secret}, {"Content-Type", "application/json"}}, "{}");
  EXPECT_EQ(res.status, 404);
}

}  // namespace
}  // namespace boltauth::testing
