// OIDC userinfo (Core 1.0 section 5.3) over real HTTP: Bearer in the header or the form body (RFC 6750 2.1, 2.2),
// claims by scope, RFC 6750 section 3.1 errors.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "base/base64url.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

boost::json::object base64url_json(const std::string& part) {
  auto bytes = base::base64url_decode(part);
  return boost::json::parse(std::string(bytes->begin(), bytes->end())).as_object();
}

class UserinfoTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  boost::json::object tokens(const std::string& scope, const std::string& shopper_body = "{}") {
    auto shopper = server.create_shopper(client, shopper_body);
    auto res = server.exchange(client, std::string(shopper.at("oauth_code").as_string()), scope);
    EXPECT_EQ(res.status, 200) << res.body;
    auto o = res.json().as_object();
    o["shopper_email"] = shopper.at("email");
    if (shopper.contains("phone")) o["shopper_phone"] = shopper.at("phone");
    return o;
  }
  std::string access(const std::string& scope) { return std::string(tokens(scope).at("access_token").as_string()); }
  HttpResponse get(const std::string& token) {
    return server.http().get("/v1/oauth/userinfo", {{"Authorization", "Bearer " + token}});
  }
  static void expect_bearer_error(const HttpResponse& res, int status, const std::string& error) {
    EXPECT_EQ(res.status, status) << res.body;
    const auto challenge = res.header("www-authenticate");
    ASSERT_TRUE(challenge) << res.body;
    EXPECT_EQ(challenge->rfind("Bearer realm=\"boltauth\"", 0), 0u) << *challenge;
    EXPECT_NE(challenge->find("error=\"" + error + "\""), std::string::npos) << *challenge;
    EXPECT_EQ(res.header("cache-control"), "no-store");
  }
};

TEST_F(UserinfoTest, GetWithBearerHeaderReturnsClaims) {
  // Sandbox codes carry no `email` scope: bind one in the store, as the authorization endpoint does.
  TestServer::CodeSpec spec;
  spec.scope = "openid email";
  auto tok = server.exchange(client, server.insert_code(client, spec), "openid email");
  ASSERT_EQ(tok.status, 200) << tok.body;
  auto res = get(std::string(tok.json().as_object().at("access_token").as_string()));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("content-type"), "application/json");
  EXPECT_EQ(res.header("cache-control"), "no-store");
  const auto c = res.json().as_object();
  EXPECT_FALSE(std::string(c.at("sub").as_string()).empty());
  const std::string email(c.at("email").as_string());
  EXPECT_NE(email.find("@example.com"), std::string::npos) << email;
  EXPECT_EQ(c.at("email_verified").as_bool(), true);
  EXPECT_EQ(c.at("first_name").as_string(), "Ada");
  EXPECT_EQ(c.at("last_name").as_string(), "Lovelace");
  EXPECT_EQ(c.at("name").as_string(), "Ada Lovelace");
  EXPECT_FALSE(c.contains("phone_number"));
}

TEST_F(UserinfoTest, SubMatchesTheIdToken) {
  auto t = tokens("openid");
  const std::string id_token(t.at("id_token").as_string());
  auto dot1 = id_token.find('.');
  auto dot2 = id_token.find('.', dot1 + 1);
  auto payload = base64url_json(id_token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto res = get(std::string(t.at("access_token").as_string()));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.json().as_object().at("sub"), payload.at("sub")) << "OIDC Core 5.3.2: sub must match";
}

TEST_F(UserinfoTest, PostWithBearerHeader) {
  auto res = server.http().request("POST", "/v1/oauth/userinfo", {{"Authorization", "Bearer " + access("openid")}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(res.json().as_object().contains("sub"));
}

TEST_F(UserinfoTest, PostWithAccessTokenInFormBody) {
  auto res = server.http().post_form("/v1/oauth/userinfo", form({{"access_token", access("openid")}}));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(res.json().as_object().contains("sub"));
}

TEST_F(UserinfoTest, BearerSchemeIsCaseInsensitive) {
  auto res = server.http().get("/v1/oauth/userinfo", {{"Authorization", "bEaReR " + access("openid")}});
  EXPECT_EQ(res.status, 200) << res.body;
}

TEST_F(UserinfoTest, EmailClaimsOnlyWithEmailScope) {
  auto res = get(access("openid"));
  ASSERT_EQ(res.status, 200);
  EXPECT_FALSE(res.json().as_object().contains("email"));
  EXPECT_FALSE(res.json().as_object().contains("email_verified"));
}

TEST_F(UserinfoTest, PhoneClaimsWhenTheAccountHasAPhone) {
  auto t = tokens("openid", R"({"phone_state":"verified"})");
  auto res = get(std::string(t.at("access_token").as_string()));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.json().as_object().at("phone_number"), t.at("shopper_phone"));
  EXPECT_EQ(res.json().as_object().at("phone_number_verified").as_bool(), true);
  auto none = get(std::string(tokens("openid", R"({"phone_state":"missing"})").at("access_token").as_string()));
  EXPECT_FALSE(none.json().as_object().contains("phone_number"));
}

TEST_F(UserinfoTest, NoTokenIs401WithBareChallenge) {
  auto res = server.http().get("/v1/oauth/userinfo");
  EXPECT_EQ(res.status, 401);
  // RFC 6750 section 3.1: no error code when the request carried no authentication at all.
  EXPECT_EQ(res.header("www-authenticate"), "Bearer realm=\"boltauth\"");
}

TEST_F(UserinfoTest, GarbageTokenIsInvalidToken) {
  expect_bearer_error(get("garbage"), 401, "invalid_token");
  expect_bearer_error(get(std::string(43, 'A') + "." + std::string(43, 'B')), 401, "invalid_token");
}

TEST_F(UserinfoTest, IdTokenIsNeverAccepted) {
  auto t = tokens("openid");
  expect_bearer_error(get(std::string(t.at("id_token").as_string())), 401, "invalid_token");
}

TEST_F(UserinfoTest, RefreshTokenIsNeverAccepted) {
  auto t = tokens("openid bolt.account.view");
  expect_bearer_error(get(std::string(t.at("refresh_token").as_string())), 401, "invalid_token");
}

TEST_F(UserinfoTest, ExpiredTokenIsInvalidToken) {
  const auto token = access("openid");
  server.clock().advance(3600);
  expect_bearer_error(get(token), 401, "invalid_token");
}

TEST_F(UserinfoTest, RevokedTokenIsInvalidToken) {
  const auto token = access("openid");
  auto rev = server.http().post_form(
      "/v1/oauth/revoke",
      form({{"client_id", client.client.id}, {"client_secret", client.client_secret}, {"token", token}}));
  ASSERT_EQ(rev.status, 200);
  expect_bearer_error(get(token), 401, "invalid_token");
}

TEST_F(UserinfoTest, TokenWithoutOpenidIsInsufficientScope) {
  auto res = get(access("bolt.account.view"));
  expect_bearer_error(res, 403, "insufficient_scope");
  EXPECT_NE(res.header("www-authenticate")->find("scope=\"openid\""), std::string::npos);
}

TEST_F(UserinfoTest, TokenOfDeactivatedAccountIsInvalidToken) {
  auto t = tokens("openid", R"({"deactivate_in_days":1})");
  server.clock().advance(24 * 3600);
  expect_bearer_error(get(std::string(t.at("access_token").as_string())), 401, "invalid_token");
}

TEST_F(UserinfoTest, TokenInHeaderAndBodyIsInvalidRequest) {
  const auto token = access("openid");
  auto res = server.http().post_form("/v1/oauth/userinfo", form({{"access_token", token}}),
                                     {{"Authorization", "Bearer " + token}});
  expect_bearer_error(res, 400, "invalid_request");
}

TEST_F(UserinfoTest, TokenInQueryStringIsNotAccepted) {
  auto res = server.http().get("/v1/oauth/userinfo?" + form({{"access_token", access("openid")}}));
  EXPECT_EQ(res.status, 401) << "RFC 6750 section 2.3 is not supported: URLs end up in logs";
}

TEST_F(UserinfoTest, OtherMethodsAreRefused) {
  auto res = server.http().request("DELETE", "/v1/oauth/userinfo", {{"Authorization", "Bearer " + access("openid")}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.header("allow"), "GET, POST");
}

}  // namespace
}  // namespace boltauth::testing
