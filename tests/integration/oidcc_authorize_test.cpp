// OpenID conformance-style tests for the authorization endpoint, one per OpenID Foundation Basic OP module of
// the same name (what the module checks, run against a real server over HTTP).
#include <gtest/gtest.h>

#include "support/browser.hpp"

namespace boltauth::testing {
namespace {

const std::string kCb = "https://rp.example/callback";

Params request(const core::CreatedClient& c, const Pkce& pkce, const std::string& state) {
  return {{"response_type", "code"},
          {"client_id", c.client.publishable_key},
          {"redirect_uri", kCb},
          {"scope", "openid email"},
          {"state", state},
          {"nonce", "nonce-" + state},
          {"code_challenge", pkce.challenge},
          {"code_challenge_method", "S256"}};
}

boost::json::object id_token_claims(const HttpResponse& tokens) {
  const std::string jwt(tokens.json().as_object().at("id_token").as_string());
  const auto a = jwt.find('.'), b = jwt.rfind('.');
  const auto payload = base::base64url_decode(jwt.substr(a + 1, b - a - 1));
  return boost::json::parse(crypto::as_view(*payload)).as_object();
}

HttpResponse redeem(TestServer& s, const core::CreatedClient& c, const Pkce& pkce, const std::string& location) {
  return s.http().post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                     {"code", param(query_params(location), "code")},
                                                     {"client_id", c.client.publishable_key},
                                                     {"client_secret", c.client_secret},
                                                     {"scope", "openid email"},
                                                     {"redirect_uri", kCb},
                                                     {"code_verifier", pkce.verifier}}));
}

// oidcc-prompt-none-not-logged-in: prompt=none without a session must return error=login_required to the
// redirect_uri (not show a page), with the state, and here with iss (RFC 9207).
TEST(OidcConformance, oidcc_prompt_none_not_logged_in) {
  TestServer server;
  auto client = server.create_client({kCb});
  const auto pkce = make_pkce();
  auto p = request(client, pkce, "pn-state");
  p.emplace_back("prompt", "none");
  Browser b(server);
  auto r = b.get(authorize_target(p));
  ASSERT_EQ(r.status, 303) << r.body;
  const auto location = *r.header("location");
  ASSERT_EQ(location.rfind(kCb + "?", 0), 0u) << location;
  const auto q = query_params(location);
  EXPECT_EQ(param(q, "error"), "login_required");
  EXPECT_EQ(param(q, "state"), "pn-state");
  EXPECT_EQ(param(q, "iss"), server.issuer());
  EXPECT_TRUE(param(q, "code").empty());
}

// oidcc-max-age-1: log in, wait more than a second, authorize again with max_age=1: the OP must make the user
// log in again, and the new id_token's auth_time must be later than the first one's.
TEST(OidcConformance, oidcc_max_age_1) {
  TestServer server;
  auto client = server.create_client({kCb});
  const auto pkce = make_pkce();
  Browser b(server);
  auto first_page = b.get(authorize_target(request(client, pkce, "s1")));
  auto first = log_in(server, b, first_page, "rp.user@example.com");
  ASSERT_EQ(first.status, 303);
  auto first_tokens = redeem(server, client, pkce, *first.header("location"));
  ASSERT_EQ(first_tokens.status, 200) << first_tokens.body;
  const auto first_auth_time = id_token_claims(first_tokens).at("auth_time").as_int64();

  server.clock().advance(2);
  auto p = request(client, pkce, "s2");
  p.emplace_back("max_age", "1");
  auto second_page = b.get(authorize_target(p));
  ASSERT_EQ(second_page.status, 200) << "max_age=1 after 2 s must show the login again";
  ASSERT_FALSE(login_handle(second_page).empty());
  auto second = log_in(server, b, second_page, "rp.user@example.com");
  ASSERT_EQ(second.status, 303);
  auto second_tokens = redeem(server, client, pkce, *second.header("location"));
  ASSERT_EQ(second_tokens.status, 200) << second_tokens.body;
  const auto claims = id_token_claims(second_tokens);
  EXPECT_GT(claims.at("auth_time").as_int64(), first_auth_time);
  EXPECT_EQ(claims.at("nonce").as_string(), "nonce-s2");
  EXPECT_EQ(claims.at("sub"), id_token_claims(first_tokens).at("sub"));
}

// oidcc-ensure-redirect-uri-in-authorization-request: an OpenID request without redirect_uri (the client has
// exactly one registered) must be refused with an error shown to the user, never a redirect.
TEST(OidcConformance, oidcc_ensure_redirect_uri_in_authorization_request) {
  TestServer server;
  auto client = server.create_client({kCb});
  auto p = request(client, make_pkce(), "s");
  std::erase_if(p, [](const auto& kv) { return kv.first == "redirect_uri"; });
  auto r = server.http().get(authorize_target(p));
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(r.header("location"));
  EXPECT_EQ(r.header("content-type")->rfind("text/html", 0), 0u);
  EXPECT_NE(r.body.find("redirect_uri"), std::string::npos);
}

}  // namespace
}  // namespace boltauth::testing
