// Every row of the contract's error table (section 3, "Errors"), over real HTTP, with Bolt's statuses, the
// RFC 6749 style switch, and the cache headers on every error.
#include <gtest/gtest.h>

#include "protocol/basic_auth.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class TokenErrorsTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  HttpResponse post(const std::string& body, Headers headers = {}) {
    return server.http().post_form("/v1/oauth/token", body, std::move(headers));
  }
  std::string good(const std::string& code, const std::string& scope = "openid") {
    return form({{"grant_type", "authorization_code"},
                 {"code", code},
                 {"client_id", client.client.publishable_key},
                 {"client_secret", client.client_secret},
                 {"scope", scope}});
  }
  static void expect_error(const HttpResponse& res, int status, const std::string& error) {
    EXPECT_EQ(res.status, status) << res.body;
    const auto json = res.json();
    ASSERT_TRUE(json.is_object()) << res.body;
    EXPECT_EQ(json.as_object().at("error").as_string(), error) << res.body;
    const std::string description(json.as_object().at("error_description").as_string());
    EXPECT_FALSE(description.empty());
    // Checklist A5 / RFC 6749 section 5.2: no '"', '\' or control characters.
    for (unsigned char c : description) EXPECT_TRUE(c >= 0x20 && c <= 0x7E && c != '"' && c != '\\') << description;
    EXPECT_EQ(json.as_object().size(), 2u) << "debug detail must not reach the wire: " << res.body;
    EXPECT_EQ(res.header("cache-control"), "no-store");
    EXPECT_EQ(res.header("pragma"), "no-cache");
    EXPECT_EQ(res.header("content-type"), "application/json");
  }
};

// --- 400 invalid_request ---------------------------------------------------------------------------------
TEST_F(TokenErrorsTest, MissingGrantTypeIsInvalidRequest) {
  expect_error(post(form({{"code", "x"}, {"client_id", client.client.id}, {"client_secret", client.client_secret}})),
               400, "invalid_request");
}

TEST_F(TokenErrorsTest, MissingRefreshTokenIsInvalidRequest) {
  expect_error(post(form({{"grant_type", "refresh_token"},
                          {"client_id", client.client.id},
                          {"client_secret", client.client_secret},
                          {"scope", "bolt.account.view"}})),
               400, "invalid_request");
}

TEST_F(TokenErrorsTest, MissingScopeIsInvalidRequestWhenRequired) {
  // Bolt's OpenAPI file lists scope as required; `token_scope_required = true` restores that (the default follows
  // RFC 6749 section 4.1.3, where an exchange carries no scope).
  TestServer strict([](server::AppOptions& o) { o.config.token_scope_required = true; });
  auto c = strict.create_client();
  auto res = strict.http().post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                              {"code", strict.sandbox_code(c)},
                                                              {"client_id", c.client.id},
                                                              {"client_secret", c.client_secret}}));
  expect_error(res, 400, "invalid_request");
}

TEST_F(TokenErrorsTest, MissingCodeIsInvalidRequest) {
  expect_error(post(form({{"grant_type", "authorization_code"},
                          {"client_id", client.client.id},
                          {"client_secret", client.client_secret},
                          {"scope", "openid"}})),
               400, "invalid_request");
}

TEST_F(TokenErrorsTest, RepeatedParameterIsInvalidRequest) {
  const std::string code = server.sandbox_code(client);
  expect_error(post(good(code) + "&scope=openid"), 400, "invalid_request");
  expect_error(post(good(code) + "&code=" + code), 400, "invalid_request");
  expect_error(post(good(code) + "&grant_type=authorization_code"), 400, "invalid_request");
  // The code was never consumed by those requests.
  EXPECT_EQ(post(good(code)).status, 200);
}

TEST_F(TokenErrorsTest, EmptyValueCountsAsAbsent) {
  expect_error(post(form({{"grant_type", "authorization_code"},
                          {"code", ""},
                          {"client_id", client.client.id},
                          {"client_secret", client.client_secret},
                          {"scope", "openid"}})),
               400, "invalid_request");
}

TEST_F(TokenErrorsTest, JsonBodyIsInvalidRequest) {
  auto res = server.http().request("POST", "/v1/oauth/token", {{"Content-Type", "application/json"}},
                                   R"({"grant_type":"authorization_code"})");
  expect_error(res, 400, "invalid_request");
}

TEST_F(TokenErrorsTest, MissingContentTypeIsInvalidRequest) {
  auto res = server.http().request("POST", "/v1/oauth/token", {}, good(server.sandbox_code(client)));
  expect_error(res, 400, "invalid_request");
}

TEST_F(TokenErrorsTest, MultipartIsInvalidRequest) {
  auto res = server.http().request("POST", "/v1/oauth/token", {{"Content-Type", "multipart/form-data; boundary=x"}},
                                   "--x\r\n\r\n--x--");
  expect_error(res, 400, "invalid_request");
}

TEST_F(TokenErrorsTest, BadPercentEncodingIsInvalidRequest) {
  expect_error(post(good(server.sandbox_code(client)) + "&state=%zz"), 400, "invalid_request");
}

TEST_F(TokenErrorsTest, BasicAndBodySecretTogetherIsInvalidRequest) {
  auto res = post(good(server.sandbox_code(client)),
                  {{"Authorization", protocol::make_basic_auth(client.client.id, client.client_secret)}});
  expect_error(res, 400, "invalid_request");
}

TEST_F(TokenErrorsTest, BasicWithOtherBodyClientIdIsInvalidRequest) {
  auto other = server.create_client();
  auto res = post(form({{"grant_type", "authorization_code"},
                        {"code", server.sandbox_code(client)},
                        {"client_id", other.client.id},
                        {"scope", "openid"}}),
                  {{"Authorization", protocol::make_basic_auth(client.client.id, client.client_secret)}});
  expect_error(res, 400, "invalid_request");
}

TEST_F(TokenErrorsTest, GetNeverIssuesTokens) {
  const std::string code = server.sandbox_code(client);
  auto res = server.http().get("/v1/oauth/token?" + good(code));
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.header("allow"), "POST");
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_request");
  EXPECT_EQ(res.header("cache-control"), "no-store");
  EXPECT_EQ(post(good(code)).status, 200) << "the GET must not have consumed the code";
}

TEST_F(TokenErrorsTest, QueryStringParametersNeverCount) {
  const std::string code = server.sandbox_code(client);
  auto res = server.http().post_form("/v1/oauth/token?" + good(code), "");
  expect_error(res, 401, "invalid_client");
  res = server.http().post_form("/v1/oauth/token?client_secret=" + client.client_secret,
                                form({{"grant_type", "authorization_code"},
                                      {"code", code},
                                      {"client_id", client.client.id},
                                      {"scope", "openid"}}));
  expect_error(res, 401, "invalid_client");
}

TEST_F(TokenErrorsTest, MalformedPkceVerifierIsInvalidRequest) {
  const std::string code = server.sandbox_code(client);
  expect_error(post(good(code) + "&code_verifier=short"), 400, "invalid_request");
  expect_error(post(good(code) + "&code_verifier=" + std::string(129, 'a')), 400, "invalid_request");
  expect_error(post(good(code) + "&code_verifier=" + std::string(42, 'a') + "%21"), 400, "invalid_request");
}

// --- 400 invalid_scope -----------------------------------------------------------------------------------
TEST_F(TokenErrorsTest, UnknownScopeIsInvalidScope) {
  expect_error(post(good(server.sandbox_code(client), "openid profile")), 400, "invalid_scope");
  expect_error(post(good(server.sandbox_code(client), "[\"openid\",\"admin\"]")), 400, "invalid_scope");
}

TEST_F(TokenErrorsTest, WiderThanGrantedIsInvalidScope) {
  TestServer::CodeSpec spec;
  spec.scope = "bolt.account.view";
  const std::string code = server.insert_code(client, spec);
  expect_error(post(good(code, "bolt.account.manage")), 400, "invalid_scope");
  expect_error(post(good(code, "bolt.account.view openid")), 400, "invalid_scope");
  EXPECT_EQ(post(good(code, "bolt.account.view")).status, 200);
}

// --- 401 invalid_client ----------------------------------------------------------------------------------
TEST_F(TokenErrorsTest, UnknownClientIsInvalidClient) {
  auto res = post(form({{"grant_type", "authorization_code"},
                        {"code", server.sandbox_code(client)},
                        {"client_id", "nosuchclient"},
                        {"client_secret", client.client_secret},
                        {"scope", "openid"}}));
  expect_error(res, 401, "invalid_client");
  EXPECT_FALSE(res.header("www-authenticate")) << "no Basic was used";
}

TEST_F(TokenErrorsTest, WrongSecretIsInvalidClient) {
  auto other = server.create_client();
  expect_error(post(form({{"grant_type", "authorization_code"},
                          {"code", server.sandbox_code(client)},
                          {"client_id", client.client.id},
                          {"client_secret", other.client_secret},
                          {"scope", "openid"}})),
               401, "invalid_client");
  expect_error(post(form({{"grant_type", "authorization_code"},
                          {"code", server.sandbox_code(client)},
                          {"client_id", client.client.id},
                          {"client_secret", "guess"},
                          {"scope", "openid"}})),
               401, "invalid_client");
}

TEST_F(TokenErrorsTest, MissingSecretIsInvalidClient) {
  expect_error(post(form({{"grant_type", "authorization_code"},
                          {"code", server.sandbox_code(client)},
                          {"client_id", client.client.id},
                          {"scope", "openid"}})),
               401, "invalid_client");
}

TEST_F(TokenErrorsTest, FailedBasicCarriesWwwAuthenticate) {
  auto res =
      post(form({{"grant_type", "authorization_code"}, {"code", server.sandbox_code(client)}, {"scope", "openid"}}),
           {{"Authorization", protocol::make_basic_auth(client.client.id, "wrong")}});
  expect_error(res, 401, "invalid_client");
  EXPECT_EQ(res.header("www-authenticate"), "Basic realm=\"boltauth\"");
  res = post(form({{"grant_type", "authorization_code"}, {"code", "x"}, {"scope", "openid"}}),
             {{"Authorization", "Basic !!!notbase64"}});
  expect_error(res, 401, "invalid_client");
  EXPECT_EQ(res.header("www-authenticate"), "Basic realm=\"boltauth\"");
}

// --- 403 request_forbidden / unsupported_grant_type --------------------------------------------------------
TEST_F(TokenErrorsTest, ApiKeyOfAnotherClientIsForbidden) {
  auto other = server.create_client();
  expect_error(post(good(server.sandbox_code(client)), {{"X-API-Key", other.client_secret}}), 403, "request_forbidden");
}

TEST_F(TokenErrorsTest, PublishableKeyOfAnotherClientIsForbidden) {
  auto other = server.create_client();
  expect_error(post(good(server.sandbox_code(client)), {{"X-Publishable-Key", other.client.publishable_key}}), 403,
               "request_forbidden");
}

TEST_F(TokenErrorsTest, GrantNotAllowedForClientIsForbidden) {
  auto code_only = server.create_client({}, {"authorization_code"});
  auto res = server.exchange(code_only, server.sandbox_code(code_only), "bolt.account.view");
  ASSERT_EQ(res.status, 200);
  EXPECT_FALSE(res.json().as_object().contains("refresh_token")) << "no refresh token for a client without the grant";
  expect_error(post(form({{"grant_type", "refresh_token"},
                          {"refresh_token", "x"},
                          {"client_id", code_only.client.id},
                          {"client_secret", code_only.client_secret},
                          {"scope", "bolt.account.view"}})),
               403, "request_forbidden");
}

TEST_F(TokenErrorsTest, ClientCredentialsNotAllowedIsForbidden) {
  expect_error(post(form({{"grant_type", "client_credentials"},
                          {"client_id", client.client.id},
                          {"client_secret", client.client_secret}})),
               403, "request_forbidden");
}

TEST_F(TokenErrorsTest, OtherGrantTypeIsUnsupported) {
  for (const char* grant :
       {"password", "urn:ietf:params:oauth:grant-type:device_code", "implicit", "AUTHORIZATION_CODE"}) {
    expect_error(post(form({{"grant_type", grant},
                            {"client_id", client.client.id},
                            {"client_secret", client.client_secret},
                            {"scope", "openid"}})),
                 403, "unsupported_grant_type");
  }
}

// --- 422 invalid_grant -------------------------------------------------------------------------------------
TEST_F(TokenErrorsTest, GarbageAndBitFlippedCodesAreInvalidGrant) {
  const std::string code = server.sandbox_code(client);
  std::string flipped = code;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {std::string("garbage"), flipped, code.substr(0, 43), code + "x", std::string(87, '.')})
    expect_error(post(good(bad)), 422, "invalid_grant");
  EXPECT_EQ(post(good(code)).status, 200);
}

TEST_F(TokenErrorsTest, WellFormedUnknownCodeIsInvalidGrant) {
  // A real code of another server instance: its MAC fails here.
  TestServer other;
  auto other_client = other.create_client();
  expect_error(post(good(other.sandbox_code(other_client))), 422, "invalid_grant");
}

TEST_F(TokenErrorsTest, UsedCodeIsInvalidGrant) {
  const std::string code = server.sandbox_code(client);
  ASSERT_EQ(post(good(code)).status, 200);
  expect_error(post(good(code)), 422, "invalid_grant");
}

TEST_F(TokenErrorsTest, ExpiredCodeIsInvalidGrant) {
  const std::string code = server.sandbox_code(client);
  server.clock().advance(300);
  expect_error(post(good(code)), 422, "invalid_grant");
}

TEST_F(TokenErrorsTest, CodeOfAnotherClientIsInvalidGrant) {
  auto other = server.create_client();
  const std::string code = server.sandbox_code(other);
  expect_error(post(good(code)), 422, "invalid_grant");
  EXPECT_EQ(server.exchange(other, code, "openid").status, 200) << "the failed attempt must not burn the code";
}

TEST_F(TokenErrorsTest, WrongRedirectUriIsInvalidGrant) {
  TestServer::CodeSpec spec;
  spec.redirect_uri = "https://shop.example/callback";
  const std::string code = server.insert_code(client, spec);
  expect_error(post(good(code)), 422, "invalid_grant");
  expect_error(post(good(code) + "&redirect_uri=https%3A%2F%2Fshop.example%2Fcallback%2F"), 422, "invalid_grant");
  expect_error(post(good(code) + "&redirect_uri=https%3A%2F%2FSHOP.example%2Fcallback"), 422, "invalid_grant");
  EXPECT_EQ(post(good(code) + "&redirect_uri=https%3A%2F%2Fshop.example%2Fcallback").status, 200);
}

TEST_F(TokenErrorsTest, StateMismatchIsInvalidGrant) {
  TestServer::CodeSpec spec;
  spec.state = "abc 123%+";
  const std::string code = server.insert_code(client, spec);
  expect_error(post(good(code) + "&state=other"), 422, "invalid_grant");
  EXPECT_EQ(post(good(code) + "&" + form({{"state", "abc 123%+"}})).status, 200);
  // A code issued without state (a sandbox oauth_code) accepts any: Bolt's v3 SDK examples always send one.
  EXPECT_EQ(post(good(server.sandbox_code(client)) + "&state=x").status, 200);
}

TEST_F(TokenErrorsTest, RefreshTokenErrorsAreInvalidGrant) {
  auto first = server.exchange(client, server.sandbox_code(client));
  ASSERT_EQ(first.status, 200);
  const std::string access(first.json().as_object().at("access_token").as_string());
  // An access token presented as a refresh token fails its MAC: never a storage lookup.
  expect_error(server.refresh(client, access), 422, "invalid_grant");
  expect_error(server.refresh(client, "not-a-token"), 422, "invalid_grant");
}

// --- 429 slow_down -------------------------------------------------------------------------------------------
TEST(TokenRateLimitTest, OverTheLimitIsSlowDownWithRetryAfter) {
  TestServer server([](server::AppOptions& o) { o.config.token_rate_limit_per_client = 3; });
  auto client = server.create_client();
  auto other = server.create_client();
  std::vector<std::string> codes;
  for (int i = 0; i < 4; ++i) codes.push_back(server.sandbox_code(client));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(server.exchange(client, codes[i], "openid").status, 200);
  auto res = server.exchange(client, codes[3], "openid");
  EXPECT_EQ(res.status, 429) << res.body;
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "slow_down");
  EXPECT_EQ(res.header("retry-after"), "1");
  EXPECT_EQ(res.header("cache-control"), "no-store");
  // Other clients are not affected, and the limited one recovers in the next second.
  EXPECT_EQ(server.exchange(other, server.sandbox_code(other), "openid").status, 200);
  server.clock().advance(1);
  EXPECT_EQ(server.exchange(client, codes[3], "openid").status, 200);
}

// --- 500 / 503: storage failures never answer 200 -------------------------------------------------------------
TEST(TokenStorageFailureTest, LockedDatabaseIsTemporarilyUnavailableAndRecovers) {
  TestServer server([](server::AppOptions& o) { o.busy_timeout_ms = 200; });
  auto client = server.create_client();
  const std::string code = server.sandbox_code(client);
  // Another process holds the write lock (checklist L3), or the database went away: the server cannot commit.
  auto outage = server.store_outage();
  auto res = server.exchange(client, code, "openid");
  EXPECT_TRUE(res.status == 503 || res.status == 500) << res.status << " " << res.body;
  EXPECT_NE(res.status, 200);
  const std::string error(res.json().as_object().at("error").as_string());
  EXPECT_TRUE(error == "temporarily_unavailable" || error == "server_error") << error;
  EXPECT_EQ(res.header("cache-control"), "no-store");
  outage.reset();
  // Nothing was consumed by the failed attempt, and the server recovers without a restart.
  auto again = server.exchange(client, code, "openid");
  EXPECT_EQ(again.status, 200) << again.body;
}

TEST(TokenStorageFailureTest, BrokenSchemaIsServerErrorNeverTwoHundred) {
  TestServer server;
  auto client = server.create_client();
  const std::string code = server.sandbox_code(client);
  server.store_exec("PRAGMA foreign_keys=OFF; ALTER TABLE grants RENAME TO grants_gone;",
                    "ALTER TABLE grants RENAME TO grants_gone");
  auto res = server.exchange(client, code, "openid");
  EXPECT_EQ(res.status, 500) << res.body;
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "server_error");
  server.store_exec("ALTER TABLE grants_gone RENAME TO grants;", "ALTER TABLE grants_gone RENAME TO grants");
  auto again = server.exchange(client, code, "openid");
  EXPECT_EQ(again.status, 200) << "the failed transaction must have rolled back: " << again.body;
}

// --- error_style = rfc6749 -----------------------------------------------------------------------------------
TEST(TokenErrorStyleTest, Rfc6749StyleUsesPlainStatuses) {
  TestServer server([](server::AppOptions& o) { o.config.error_style = protocol::ErrorStyle::rfc6749; });
  auto client = server.create_client();
  auto post = [&](const std::string& body) { return server.http().post_form("/v1/oauth/token", body); };
  auto res = post(form({{"grant_type", "authorization_code"},
                        {"code", "garbage"},
                        {"client_id", client.client.id},
                        {"client_secret", client.client_secret},
                        {"scope", "openid"}}));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_grant");
  res = post(
      form({{"grant_type", "password"}, {"client_id", client.client.id}, {"client_secret", client.client_secret}}));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "unsupported_grant_type");
  res = post(form({{"grant_type", "client_credentials"},
                   {"client_id", client.client.id},
                   {"client_secret", client.client_secret}}));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "unauthorized_client");
  res = post(form({{"grant_type", "authorization_code"},
                   {"code", "x"},
                   {"client_id", client.client.id},
                   {"client_secret", "wrong"},
                   {"scope", "openid"}}));
  EXPECT_EQ(res.status, 401);
}

}  // namespace
}  // namespace boltauth::testing
