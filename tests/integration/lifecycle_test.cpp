// Introspection (RFC 7662) and revocation (RFC 7009) over real HTTP: checklist section I, plus the HTTP surface
// (A) and the lifecycle behaviours of E2, F2 and F5 seen through these endpoints.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "protocol/basic_auth.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class LifecycleTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  struct Tokens {
    std::string access;
    std::string refresh;
    std::string id_token;
  };
  Tokens issue(const core::CreatedClient& c,
               const std::string& scope = "bolt.account.manage bolt.account.view openid") {
    auto res = server.exchange(c, server.sandbox_code(c), scope);
    EXPECT_EQ(res.status, 200) << res.body;
    const auto o = res.json().as_object();
    Tokens t;
    t.access = std::string(o.at("access_token").as_string());
    if (o.contains("refresh_token")) t.refresh = std::string(o.at("refresh_token").as_string());
    if (o.contains("id_token")) t.id_token = std::string(o.at("id_token").as_string());
    return t;
  }
  static std::vector<std::pair<std::string, std::string>> creds(const core::CreatedClient& c) {
    return {{"client_id", c.client.publishable_key}, {"client_secret", c.client_secret}};
  }
  HttpResponse introspect(const std::string& token, const core::CreatedClient& c,
                          std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto p = creds(c);
    p.emplace_back("token", token);
    p.insert(p.end(), extra.begin(), extra.end());
    return server.http().post_form("/v1/oauth/introspect", form(p));
  }
  HttpResponse introspect(const std::string& token) { return introspect(token, client); }
  HttpResponse revoke(const std::string& token, const core::CreatedClient& c,
                      std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto p = creds(c);
    p.emplace_back("token", token);
    p.insert(p.end(), extra.begin(), extra.end());
    return server.http().post_form("/v1/oauth/revoke", form(p));
  }
  HttpResponse revoke(const std::string& token) { return revoke(token, client); }

  static void expect_inactive(const HttpResponse& res) {
    EXPECT_EQ(res.status, 200) << res.body;
    // Checklist I2: exactly {"active":false}, nothing else.
    EXPECT_EQ(res.body, R"({"active":false})");
    EXPECT_EQ(res.header("cache-control"), "no-store");
  }
  static bool active(const HttpResponse& res) {
    EXPECT_EQ(res.status, 200) << res.body;
    return res.json().is_object() && res.json().as_object().at("active").as_bool();
  }
  int account_status(const std::string& access_token) {
    return server.http().get("/v1/account", {{"Authorization", "Bearer " + access_token}}).status;
  }
  static void expect_oauth_error(const HttpResponse& res, int status, const std::string& error) {
    EXPECT_EQ(res.status, status) << res.body;
    ASSERT_TRUE(res.json().is_object()) << res.body;
    EXPECT_EQ(res.json().as_object().at("error").as_string(), error) << res.body;
    EXPECT_EQ(res.header("cache-control"), "no-store");
    EXPECT_EQ(res.header("pragma"), "no-cache");
  }
};

// --- introspection: active tokens ------------------------------------------------------------------------

TEST_F(LifecycleTest, IntrospectActiveAccessTokenHasEveryField) {
  const auto t = issue(client);
  auto res = introspect(t.access);
  ASSERT_EQ(res.status, 200) << res.body;
  const auto o = res.json().as_object();
  EXPECT_TRUE(o.at("active").as_bool());
  EXPECT_EQ(o.at("scope").as_string(), "bolt.account.manage bolt.account.view openid");
  EXPECT_EQ(o.at("client_id").as_string(), client.client.id);
  EXPECT_FALSE(std::string(o.at("sub").as_string()).empty());
  EXPECT_EQ(o.at("iat").as_int64(), server.clock().now());
  EXPECT_EQ(o.at("exp").as_int64(), server.clock().now() + 3600);
  EXPECT_EQ(o.at("token_type").as_string(), "bearer");
  EXPECT_EQ(o.at("iss").as_string(), server.issuer());
  EXPECT_EQ(o.at("aud").as_string(), client.client.id);
  EXPECT_EQ(res.header("cache-control"), "no-store");
  EXPECT_EQ(res.header("pragma"), "no-cache");
  EXPECT_EQ(res.header("content-type"), "application/json");
}

TEST_F(LifecycleTest, IntrospectActiveRefreshToken) {
  const auto t = issue(client);
  auto res = introspect(t.refresh);
  ASSERT_TRUE(active(res));
  const auto o = res.json().as_object();
  EXPECT_EQ(o.at("token_type").as_string(), "refresh_token");
  // What a refresh can give back: the grant's identity scopes, and manage read as view (RFC 6749 section 6).
  EXPECT_EQ(o.at("scope").as_string(), "bolt.account.view openid");
  EXPECT_EQ(o.at("sub"), introspect(t.access).json().as_object().at("sub"));
}

TEST_F(LifecycleTest, IntrospectWithBasicAuth) {
  const auto t = issue(client);
  auto res = server.http().post_form(
      "/v1/oauth/introspect", form({{"token", t.access}}),
      {{"Authorization", protocol::make_basic_auth(client.client.publishable_key, client.client_secret)}});
  EXPECT_TRUE(active(res)) << res.body;
}

TEST_F(LifecycleTest, IntrospectWithLastSectionOfThePublishableKey) {
  const auto t = issue(client);
  auto res = server.http().post_form(
      "/v1/oauth/introspect",
      form({{"client_id", client.client.id}, {"client_secret", client.client_secret}, {"token", t.access}}));
  EXPECT_TRUE(active(res)) << res.body;
}

// --- I1: client authentication required ------------------------------------------------------------------

TEST_F(LifecycleTest, IntrospectWithoutClientAuthIsInvalidClient) {
  const auto t = issue(client);
  expect_oauth_error(server.http().post_form("/v1/oauth/introspect", form({{"token", t.access}})), 401,
                     "invalid_client");
}

TEST_F(LifecycleTest, RevokeWithoutClientAuthIsInvalidClient) {
  const auto t = issue(client);
  expect_oauth_error(server.http().post_form("/v1/oauth/revoke", form({{"token", t.access}})), 401, "invalid_client");
  EXPECT_EQ(account_status(t.access), 200) << "an unauthenticated revocation must not touch the token";
}

TEST_F(LifecycleTest, WrongSecretIsInvalidClientOnBothEndpoints) {
  const auto t = issue(client);
  for (const char* path : {"/v1/oauth/introspect", "/v1/oauth/revoke"}) {
    expect_oauth_error(
        server.http().post_form(
            path, form({{"client_id", client.client.id}, {"client_secret", "wrong"}, {"token", t.access}})),
        401, "invalid_client");
  }
  EXPECT_EQ(account_status(t.access), 200);
}

TEST_F(LifecycleTest, FailedBasicAnswersWwwAuthenticate) {
  const auto t = issue(client);
  for (const char* path : {"/v1/oauth/introspect", "/v1/oauth/revoke"}) {
    auto res = server.http().post_form(path, form({{"token", t.access}}),
                                       {{"Authorization", protocol::make_basic_auth(client.client.id, "wrong")}});
    expect_oauth_error(res, 401, "invalid_client");
    EXPECT_EQ(res.header("www-authenticate"), "Basic realm=\"boltauth\"") << path;
  }
}

TEST_F(LifecycleTest, BasicAndBodySecretTogetherIsInvalidRequest) {
  const auto t = issue(client);
  auto res = server.http().post_form(
      "/v1/oauth/introspect", form({{"client_secret", client.client_secret}, {"token", t.access}}),
      {{"Authorization", protocol::make_basic_auth(client.client.id, client.client_secret)}});
  expect_oauth_error(res, 400, "invalid_request");
}

TEST_F(LifecycleTest, CredentialsInTheQueryStringNeverAuthenticate) {
  const auto t = issue(client);
  const std::string query = form({{"client_id", client.client.id}, {"client_secret", client.client_secret}});
  auto res = server.http().post_form("/v1/oauth/introspect?" + query, form({{"token", t.access}}));
  expect_oauth_error(res, 401, "invalid_client");
  res = server.http().post_form("/v1/oauth/revoke?" + query, form({{"token", t.access}}));
  expect_oauth_error(res, 401, "invalid_client");
  EXPECT_EQ(account_status(t.access), 200);
}

TEST_F(LifecycleTest, GetIsRefusedWith405) {
  const auto t = issue(client);
  for (const char* path : {"/v1/oauth/introspect", "/v1/oauth/revoke"}) {
    auto res = server.http().get(
        std::string(path) + "?" +
        form({{"client_id", client.client.id}, {"client_secret", client.client_secret}, {"token", t.access}}));
    EXPECT_EQ(res.status, 405) << path;
    EXPECT_EQ(res.header("allow"), "POST");
    EXPECT_EQ(res.header("cache-control"), "no-store");
  }
  EXPECT_EQ(account_status(t.access), 200);
}

TEST_F(LifecycleTest, NonFormBodyIsInvalidRequest) {
  const auto t = issue(client);
  for (const char* path : {"/v1/oauth/introspect", "/v1/oauth/revoke"}) {
    auto res = server.http().request("POST", path, {{"Content-Type", "application/json"}},
                                     R"({"client_id":")" + client.client.id + R"(","client_secret":")" +
                                         client.client_secret + R"(","token":")" + t.access + "\"}");
    expect_oauth_error(res, 400, "invalid_request");
  }
}

TEST_F(LifecycleTest, RepeatedParameterIsInvalidRequest) {
  const auto t = issue(client);
  for (const char* path : {"/v1/oauth/introspect", "/v1/oauth/revoke"}) {
    auto res = server.http().post_form(path, form({{"client_id", client.client.id},
                                                   {"client_secret", client.client_secret},
                                                   {"token", t.access},
                                                   {"token", t.refresh}}));
    expect_oauth_error(res, 400, "invalid_request");
  }
  EXPECT_EQ(account_status(t.access), 200);
}

TEST_F(LifecycleTest, MissingTokenIsInvalidRequest) {
  for (const char* path : {"/v1/oauth/introspect", "/v1/oauth/revoke"}) {
    expect_oauth_error(server.http().post_form(path, form(creds(client))), 400, "invalid_request");
    auto p = creds(client);
    p.emplace_back("token", "");  // an empty value counts as absent (checklist A3)
    expect_oauth_error(server.http().post_form(path, form(p)), 400, "invalid_request");
  }
}

TEST_F(LifecycleTest, UnknownParametersAreIgnored) {
  const auto t = issue(client);
  EXPECT_TRUE(active(introspect(t.access, client, {{"foo", "bar"}, {"resource", "https://x.example"}})));
  EXPECT_EQ(revoke(t.access, client, {{"foo", "bar"}}).status, 200);
  expect_inactive(introspect(t.access));
}

// --- I2: exactly {"active":false} ------------------------------------------------------------------------

TEST_F(LifecycleTest, IntrospectUnknownTokenIsInactive) {
  // A well-formed token shape that was never minted by this server.
  expect_inactive(introspect(std::string(43, 'A') + "." + std::string(43, 'B')));
}

TEST_F(LifecycleTest, IntrospectMalformedTokenIsInactive) {
  for (const std::string& garbage :
       std::vector<std::string>{"x", "not a token", std::string(5000, 'z'), "a.b.c", "%00"})
    expect_inactive(introspect(garbage));
}

TEST_F(LifecycleTest, IntrospectExpiredAccessTokenIsInactive) {
  const auto t = issue(client);
  server.clock().advance(3600);
  expect_inactive(introspect(t.access));
}

TEST_F(LifecycleTest, IntrospectJustBeforeExpiryIsActive) {
  const auto t = issue(client);
  server.clock().advance(3599);
  EXPECT_TRUE(active(introspect(t.access)));
}

TEST_F(LifecycleTest, IntrospectRevokedAccessTokenIsInactive) {
  const auto t = issue(client);
  ASSERT_EQ(revoke(t.access).status, 200);
  expect_inactive(introspect(t.access));
}

TEST_F(LifecycleTest, IntrospectAnotherClientsTokenIsInactive) {
  auto other = server.create_client();
  const auto t = issue(other);
  expect_inactive(introspect(t.access, client));
  expect_inactive(introspect(t.refresh, client));
  EXPECT_TRUE(active(introspect(t.access, other))) << "the owner still sees it";
}

TEST_F(LifecycleTest, IntrospectIdTokenIsInactive) {
  const auto t = issue(client);
  ASSERT_FALSE(t.id_token.empty());
  expect_inactive(introspect(t.id_token));
}

TEST_F(LifecycleTest, IntrospectRotatedRefreshTokenIsInactive) {
  const auto t = issue(client);
  auto refreshed = server.refresh(client, t.refresh);
  ASSERT_EQ(refreshed.status, 200);
  expect_inactive(introspect(t.refresh));
  EXPECT_TRUE(active(introspect(std::string(refreshed.json().as_object().at("refresh_token").as_string()))));
}

TEST_F(LifecycleTest, IntrospectTokenOfDeactivatedAccountIsInactive) {
  auto shopper = server.create_shopper(client, R"({"deactivate_in_days":1})");
  auto res = server.exchange(client, std::string(shopper.at("oauth_code").as_string()), "bolt.account.view");
  ASSERT_EQ(res.status, 200);
  const std::string refresh(res.json().as_object().at("refresh_token").as_string());
  EXPECT_TRUE(active(introspect(refresh)));
  server.clock().advance(24 * 3600);
  expect_inactive(introspect(refresh));
}

TEST_F(LifecycleTest, IntrospectCodeIsInactive) { expect_inactive(introspect(server.sandbox_code(client))); }

// --- I3: token_type_hint ---------------------------------------------------------------------------------

TEST_F(LifecycleTest, WrongTokenTypeHintStillFindsTheToken) {
  const auto t = issue(client);
  EXPECT_TRUE(active(introspect(t.access, client, {{"token_type_hint", "refresh_token"}})));
  EXPECT_TRUE(active(introspect(t.refresh, client, {{"token_type_hint", "access_token"}})));
  EXPECT_TRUE(active(introspect(t.access, client, {{"token_type_hint", "no_such_type"}})));
}

TEST_F(LifecycleTest, RevokeWithWrongHintStillRevokes) {
  const auto t = issue(client);
  ASSERT_EQ(revoke(t.refresh, client, {{"token_type_hint", "access_token"}}).status, 200);
  expect_inactive(introspect(t.refresh));
  const auto u = issue(client);
  ASSERT_EQ(revoke(u.access, client, {{"token_type_hint", "refresh_token"}}).status, 200);
  expect_inactive(introspect(u.access));
}

// --- I4: revocation --------------------------------------------------------------------------------------

TEST_F(LifecycleTest, RevokeUnknownTokenIs200) {
  auto res = revoke(std::string(43, 'A') + "." + std::string(43, 'B'));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("cache-control"), "no-store");
  EXPECT_EQ(revoke("garbage").status, 200);
}

TEST_F(LifecycleTest, RevokeTwiceIs200) {
  const auto t = issue(client);
  EXPECT_EQ(revoke(t.refresh).status, 200);
  EXPECT_EQ(revoke(t.refresh).status, 200);
}

TEST_F(LifecycleTest, RevokeAccessTokenStopsTheResourceEndpoint) {
  const auto t = issue(client);
  ASSERT_EQ(account_status(t.access), 200);
  ASSERT_EQ(revoke(t.access).status, 200);
  EXPECT_EQ(account_status(t.access), 401);
}

TEST_F(LifecycleTest, RevokeAccessTokenLeavesItsRefreshToken) {
  // RFC 7009 section 2.1 lets the server choose; boltauth revokes only the access token presented.
  const auto t = issue(client);
  ASSERT_EQ(revoke(t.access).status, 200);
  EXPECT_TRUE(active(introspect(t.refresh)));
  EXPECT_EQ(server.refresh(client, t.refresh).status, 200);
}

TEST_F(LifecycleTest, RevokeRefreshTokenKillsItsAccessTokens) {
  const auto t = issue(client);
  auto refreshed = server.refresh(client, t.refresh);
  ASSERT_EQ(refreshed.status, 200);
  const std::string access2(refreshed.json().as_object().at("access_token").as_string());
  const std::string refresh2(refreshed.json().as_object().at("refresh_token").as_string());
  ASSERT_EQ(revoke(refresh2).status, 200);
  expect_inactive(introspect(refresh2));
  expect_inactive(introspect(access2));
  expect_inactive(introspect(t.access));  // the access token from the code is of the same family
  EXPECT_EQ(account_status(access2), 401);
  EXPECT_EQ(account_status(t.access), 401);
  EXPECT_EQ(server.refresh(client, refresh2).status, 422);
}

TEST_F(LifecycleTest, RevokeCannotTouchAnotherClientsToken) {
  auto other = server.create_client();
  const auto t = issue(other);
  EXPECT_EQ(revoke(t.refresh, client).status, 200) << "RFC 7009 section 2.2: no error that reveals the token";
  EXPECT_EQ(revoke(t.access, client).status, 200);
  EXPECT_TRUE(active(introspect(t.access, other)));
  EXPECT_TRUE(active(introspect(t.refresh, other)));
  EXPECT_EQ(account_status(t.access), 200);
}

TEST_F(LifecycleTest, RevokeIdTokenTouchesNothing) {
  const auto t = issue(client);
  EXPECT_EQ(revoke(t.id_token).status, 200);
  EXPECT_TRUE(active(introspect(t.access)));
}

TEST_F(LifecycleTest, RevokeWithBasicAuth) {
  const auto t = issue(client);
  auto res = server.http().post_form(
      "/v1/oauth/revoke", form({{"token", t.refresh}, {"token_type_hint", "refresh_token"}}),
      {{"Authorization", protocol::make_basic_auth(client.client.publishable_key, client.client_secret)}});
  EXPECT_EQ(res.status, 200) << res.body;
  expect_inactive(introspect(t.access));
}

// --- E2, F2, F5 seen through introspection ---------------------------------------------------------------

TEST_F(LifecycleTest, CodeReuseMakesFirstTokensInactive) {
  const std::string code = server.sandbox_code(client);
  auto first = server.exchange(client, code);
  ASSERT_EQ(first.status, 200);
  const std::string access(first.json().as_object().at("access_token").as_string());
  EXPECT_TRUE(active(introspect(access)));
  EXPECT_EQ(server.exchange(client, code).status, 422);
  expect_inactive(introspect(access));
}

TEST_F(LifecycleTest, RefreshReuseMakesTheFamilyInactive) {
  const auto t = issue(client);
  auto refreshed = server.refresh(client, t.refresh);
  ASSERT_EQ(refreshed.status, 200);
  const std::string access2(refreshed.json().as_object().at("access_token").as_string());
  EXPECT_EQ(server.refresh(client, t.refresh).status, 422);
  expect_inactive(introspect(access2));
}

TEST_F(LifecycleTest, NothingMintedByARefreshRacingRevokeIsActive) {
  // Checklist F5: once revoke answered 200, whatever the racing refreshes minted is inactive.
  for (int round = 0; round < 5; ++round) {
    const auto t = issue(client);
    std::vector<std::string> minted;
    std::mutex m;
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        HttpClient http(server.port());
        while (!go) std::this_thread::yield();
        auto res = http.post_form("/v1/oauth/token", form({{"grant_type", "refresh_token"},
                                                           {"refresh_token", t.refresh},
                                                           {"client_id", client.client.id},
                                                           {"client_secret", client.client_secret},
                                                           {"scope", "bolt.account.view"}}));
        EXPECT_TRUE(res.status == 200 || res.status == 422) << res.status << " " << res.body;
        if (res.status == 200) {
          std::lock_guard lock(m);
          minted.emplace_back(res.json().as_object().at("access_token").as_string());
          minted.emplace_back(res.json().as_object().at("refresh_token").as_string());
        }
      });
    }
    HttpClient http(server.port());
    go = true;
    auto res = http.post_form(
        "/v1/oauth/revoke",
        form({{"client_id", client.client.id}, {"client_secret", client.client_secret}, {"token", t.refresh}}));
    for (auto& th : threads) th.join();
    ASSERT_EQ(res.status, 200);
    for (const auto& token : minted) expect_inactive(introspect(token));
    expect_inactive(introspect(t.access));
  }
}

// --- checklist L3: a revocation that cannot commit never answers 200 --------------------------------------

TEST(LifecycleStorageFailureTest, LockedDatabaseMakesRevokeFailNotSucceed) {
  TestServer server([](server::AppOptions& o) { o.busy_timeout_ms = 200; });
  auto client = server.create_client();
  auto tokens = server.exchange(client, server.sandbox_code(client), "bolt.account.view openid");
  ASSERT_EQ(tokens.status, 200);
  const std::string refresh(tokens.json().as_object().at("refresh_token").as_string());
  const std::string access(tokens.json().as_object().at("access_token").as_string());
  auto revoke = [&] {
    return server.http().post_form(
        "/v1/oauth/revoke",
        form({{"client_id", client.client.id}, {"client_secret", client.client_secret}, {"token", refresh}}));
  };
  // Another process holds the write lock, or the database went away: the revocation cannot be made durable.
  auto outage = server.store_outage();
  auto res = revoke();
  EXPECT_TRUE(res.status == 503 || res.status == 500) << res.status << " " << res.body;
  const std::string error(res.json().as_object().at("error").as_string());
  EXPECT_TRUE(error == "temporarily_unavailable" || error == "server_error") << error;
  EXPECT_EQ(res.header("cache-control"), "no-store");
  outage.reset();
  // Recovers without a restart, and the retried revocation takes effect.
  EXPECT_EQ(revoke().status, 200);
  EXPECT_EQ(server.http().get("/v1/account", {{"Authorization", "Bearer " + access}}).status, 401);
}

}  // namespace
}  // namespace boltauth::testing
