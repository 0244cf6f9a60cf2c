// Grant rules of contract section 3: single-use codes, reuse revokes, PKCE, refresh rotation and family revocation.
#include <gtest/gtest.h>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

std::string s256(const std::string& verifier) { return base::base64url_encode(crypto::sha256(verifier)); }

class GrantRulesTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  int account_status(const std::string& access_token) {
    return server.http().get("/v1/account", {{"Authorization", "Bearer " + access_token}}).status;
  }
  static std::string field(const HttpResponse& res, const char* name) {
    return std::string(res.json().as_object().at(name).as_string());
  }
  HttpResponse exchange_with(const std::string& code, const std::vector<std::pair<std::string, std::string>>& extra) {
    return server.exchange(client, code, "bolt.account.manage openid", extra);
  }
};

TEST_F(GrantRulesTest, CodeReuseRevokesWhatTheFirstRedemptionIssued) {
  const std::string code = server.sandbox_code(client);
  auto first = server.exchange(client, code);
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(account_status(field(first, "access_token")), 200);
  auto second = server.exchange(client, code);
  EXPECT_EQ(second.status, 422);
  EXPECT_EQ(account_status(field(first, "access_token")), 401) << "access token of the first redemption still works";
  EXPECT_EQ(server.refresh(client, field(first, "refresh_token")).status, 422);
}

TEST_F(GrantRulesTest, ReuseByAnotherClientRevokesNothing) {
  const std::string code = server.sandbox_code(client);
  auto first = server.exchange(client, code);
  ASSERT_EQ(first.status, 200);
  auto other = server.create_client();
  EXPECT_EQ(server.exchange(other, code).status, 422);
  EXPECT_EQ(account_status(field(first, "access_token")), 200)
      << "a request that is not otherwise valid revokes nothing";
}

TEST_F(GrantRulesTest, PkceRoundTrip) {
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  TestServer::CodeSpec spec;
  spec.code_challenge = s256(verifier);
  const std::string code = server.insert_code(client, spec);
  EXPECT_EQ(exchange_with(code, {{"code_verifier", verifier}}).status, 200);
}

TEST_F(GrantRulesTest, PkceVerifierMissingIsInvalidGrant) {
  TestServer::CodeSpec spec;
  spec.code_challenge = s256(std::string(43, 'v'));
  EXPECT_EQ(exchange_with(server.insert_code(client, spec), {}).status, 422);
}

TEST_F(GrantRulesTest, PkceWrongVerifierIsInvalidGrant) {
  TestServer::CodeSpec spec;
  spec.code_challenge = s256(std::string(43, 'v'));
  const std::string code = server.insert_code(client, spec);
  EXPECT_EQ(exchange_with(code, {{"code_verifier", std::string(43, 'w')}}).status, 422);
  // Failed verification does not burn the code (the request was not otherwise valid).
  EXPECT_EQ(exchange_with(code, {{"code_verifier", std::string(43, 'v')}}).status, 200);
}

TEST_F(GrantRulesTest, PkceChallengeSentAsVerifierIsInvalidGrant) {
  TestServer::CodeSpec spec;
  spec.code_challenge = s256(std::string(43, 'v'));
  EXPECT_EQ(exchange_with(server.insert_code(client, spec), {{"code_verifier", spec.code_challenge}}).status, 422);
}

TEST_F(GrantRulesTest, PkceDowngradeIsInvalidGrant) {
  // No challenge stored, verifier sent (RFC 9700 section 2.1.1).
  EXPECT_EQ(exchange_with(server.sandbox_code(client), {{"code_verifier", std::string(43, 'v')}}).status, 422);
}

TEST_F(GrantRulesTest, RefreshRotates) {
  auto first = server.exchange(client, server.sandbox_code(client));
  ASSERT_EQ(first.status, 200);
  std::string refresh = field(first, "refresh_token");
  for (int i = 0; i < 5; ++i) {
    auto next = server.refresh(client, refresh);
    ASSERT_EQ(next.status, 200) << next.body;
    EXPECT_NE(field(next, "refresh_token"), refresh);
    EXPECT_EQ(account_status(field(next, "access_token")), 200);
    refresh = field(next, "refresh_token");
  }
}

TEST_F(GrantRulesTest, ReuseOfRotatedRefreshTokenRevokesTheFamily) {
  auto first = server.exchange(client, server.sandbox_code(client));
  ASSERT_EQ(first.status, 200);
  const std::string old_refresh = field(first, "refresh_token");
  auto second = server.refresh(client, old_refresh);
  ASSERT_EQ(second.status, 200);
  auto replay = server.refresh(client, old_refresh);
  EXPECT_EQ(replay.status, 422);
  EXPECT_EQ(replay.json().as_object().at("error").as_string(), "invalid_grant");
  // RFC 9700 section 4.14.2: every access and refresh token of the family is dead now.
  EXPECT_EQ(server.refresh(client, field(second, "refresh_token")).status, 422);
  EXPECT_EQ(account_status(field(second, "access_token")), 401);
  EXPECT_EQ(account_status(field(first, "access_token")), 401);
}

TEST_F(GrantRulesTest, OtherFamiliesSurviveARevocation) {
  auto a = server.exchange(client, server.sandbox_code(client));
  auto b = server.exchange(client, server.sandbox_code(client));
  ASSERT_EQ(server.refresh(client, field(a, "refresh_token")).status, 200);
  ASSERT_EQ(server.refresh(client, field(a, "refresh_token")).status, 422);
  EXPECT_EQ(account_status(field(b, "access_token")), 200);
  EXPECT_EQ(server.refresh(client, field(b, "refresh_token")).status, 200);
}

TEST_F(GrantRulesTest, RefreshTokenIsBoundToItsClient) {
  auto first = server.exchange(client, server.sandbox_code(client));
  auto other = server.create_client();
  EXPECT_EQ(server.refresh(other, field(first, "refresh_token")).status, 422);
  EXPECT_EQ(server.refresh(client, field(first, "refresh_token")).status, 200) << "a foreign attempt must not burn it";
}

TEST_F(GrantRulesTest, RefreshScopeCanNotWiden) {
  auto first = server.exchange(client, server.sandbox_code(client));
  auto res = server.refresh(client, field(first, "refresh_token"), "bolt.account.manage");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_scope");
  EXPECT_EQ(server.refresh(client, field(first, "refresh_token"), "bolt.account.view").status, 200);
}

TEST_F(GrantRulesTest, RefreshedAccessTokenHasViewScopeOnly) {
  auto first = server.exchange(client, server.sandbox_code(client));
  auto next = server.refresh(client, field(first, "refresh_token"));
  ASSERT_EQ(next.status, 200);
  const auto bearer =
      Headers{{"Authorization", "Bearer " + field(next, "access_token")}, {"Content-Type", "application/json"}};
  EXPECT_EQ(server.http().get("/v1/account", bearer).status, 200);
  EXPECT_EQ(server.http().request("PATCH", "/v1/account/profile", bearer, R"({"first_name":"X"})").status, 403)
      << "bolt.account.manage needs a new login";
}

TEST_F(GrantRulesTest, ExpiredRefreshTokenFails) {
  TestServer short_lived([](server::AppOptions& o) { o.config.refresh_token_ttl = 60; });
  auto c = short_lived.create_client();
  auto first = short_lived.exchange(c, short_lived.sandbox_code(c));
  short_lived.clock().advance(61);
  EXPECT_EQ(short_lived.refresh(c, field(first, "refresh_token")).status, 422);
}

TEST_F(GrantRulesTest, AccessTokenExpires) {
  auto first = server.exchange(client, server.sandbox_code(client));
  EXPECT_EQ(account_status(field(first, "access_token")), 200);
  server.clock().advance(3600);
  EXPECT_EQ(account_status(field(first, "access_token")), 401);
}

TEST_F(GrantRulesTest, NoGraceWindowByDefault) {
  auto first = server.exchange(client, server.sandbox_code(client));
  ASSERT_EQ(server.refresh(client, field(first, "refresh_token")).status, 200);
  EXPECT_EQ(server.refresh(client, field(first, "refresh_token")).status, 422);
}

TEST_F(GrantRulesTest, GraceWindowAllowsOneReplayOfThePreviousToken) {
  TestServer graceful([](server::AppOptions& o) { o.config.refresh_grace_seconds = 10; });
  auto c = graceful.create_client();
  auto first = graceful.exchange(c, graceful.sandbox_code(c));
  const std::string old_refresh = field(first, "refresh_token");
  auto second = graceful.refresh(c, old_refresh);
  ASSERT_EQ(second.status, 200);
  graceful.clock().advance(5);
  auto replay = graceful.refresh(c, old_refresh);
  ASSERT_EQ(replay.status, 200) << "within the grace window the previous token may be replayed once: " << replay.body;
  // The replay replaced the successor (lost in transit, presumably): the successor's access token is dead, and
  // the replay's own tokens work.
  auto status = [&](const std::string& access) {
    return graceful.http().get("/v1/account", {{"Authorization", "Bearer " + access}}).status;
  };
  EXPECT_EQ(status(field(second, "access_token")), 401);
  EXPECT_EQ(status(field(replay, "access_token")), 200);
  auto third = graceful.refresh(c, field(replay, "refresh_token"));
  ASSERT_EQ(third.status, 200);
  // Presenting the replaced successor later means a copy leaked: the whole family is revoked.
  EXPECT_EQ(graceful.refresh(c, field(second, "refresh_token")).status, 422);
  EXPECT_EQ(status(field(third, "access_token")), 401);
  EXPECT_EQ(graceful.refresh(c, field(third, "refresh_token")).status, 422);
}

TEST_F(GrantRulesTest, GraceWindowReplayOnlyOnceAndOnlyInTime) {
  TestServer graceful([](server::AppOptions& o) { o.config.refresh_grace_seconds = 10; });
  auto c = graceful.create_client();
  auto first = graceful.exchange(c, graceful.sandbox_code(c));
  const std::string old_refresh = field(first, "refresh_token");
  ASSERT_EQ(graceful.refresh(c, old_refresh).status, 200);
  ASSERT_EQ(graceful.refresh(c, old_refresh).status, 200);
  EXPECT_EQ(graceful.refresh(c, old_refresh).status, 422) << "second replay";

  auto other = graceful.exchange(c, graceful.sandbox_code(c));
  const std::string r = field(other, "refresh_token");
  auto next = graceful.refresh(c, r);
  ASSERT_EQ(next.status, 200);
  graceful.clock().advance(11);
  EXPECT_EQ(graceful.refresh(c, r).status, 422) << "after the window";
  EXPECT_EQ(graceful.refresh(c, field(next, "refresh_token")).status, 422) << "family revoked by the late replay";
}

}  // namespace
}  // namespace boltauth::testing
