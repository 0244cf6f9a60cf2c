// Authorization endpoint over real HTTP: checklist sections C and D, one test per item (security-checklist.md),
// plus the contract section 6 details around them.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "support/browser.hpp"

namespace boltauth::testing {
namespace {

const std::string kCb = "https://merchant.example/cb";

class AuthorizeTest : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client({kCb});
  Pkce pkce = make_pkce();

  Params base(const std::string& state = "xyz") {
    return {{"response_type", "code"},
            {"client_id", client.client.publishable_key},
            {"redirect_uri", kCb},
            {"scope", "openid bolt.account.manage"},
            {"state", state},
            {"nonce", "n-0S6_WzA2Mj"},
            {"code_challenge", pkce.challenge},
            {"code_challenge_method", "S256"}};
  }
  static Params with(Params p, const std::string& k, const std::string& v) {
    for (auto& [pk, pv] : p)
      if (pk == k) {
        pv = v;
        return p;
      }
    p.emplace_back(k, v);
    return p;
  }
  static Params without(Params p, const std::string& k) {
    std::erase_if(p, [&](const auto& kv) { return kv.first == k; });
    return p;
  }
  // Full login of `email`; returns the redirect's Location.
  std::string login(Browser& b, const Params& p, const std::string& email = "shopper@example.com") {
    auto page = b.get(authorize_target(p));
    EXPECT_EQ(page.status, 200) << page.body;
    auto done = log_in(server, b, page, email);
    EXPECT_EQ(done.status, 303) << done.body;
    return done.header("location").value_or("");
  }
  // An authorization in a browser with a live session: the "Continue as" page, then its button. Returns the answer to
  // the button (the redirect to the client).
  HttpResponse reuse(Browser& b, const Params& p) {
    auto page = b.get(authorize_target(p));
    EXPECT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("Continue as "), std::string::npos) << page.body;
    return b.post("/v1/oauth/login-continue", form({{"login", login_handle(page)}}));
  }
  HttpResponse exchange(const std::string& code, const Params& extra) {
    Params body{{"grant_type", "authorization_code"},
                {"code", code},
                {"client_id", client.client.publishable_key},
                {"client_secret", client.client_secret},
                {"scope", "openid bolt.account.manage"}};
    for (const auto& kv : extra) body.push_back(kv);
    return server.http().post_form("/v1/oauth/token", form(body));
  }
  static bool is_error_page(const HttpResponse& r) {
    return r.status == 400 && !r.header("location") && r.header("content-type")->find("text/html") == 0;
  }
};

// --- C1 ---------------------------------------------------------------------------------------------------

TEST_F(AuthorizeTest, C1_UnknownClientOrMismatchedRedirectUriIsAnErrorPageNeverARedirect) {
  EXPECT_TRUE(is_error_page(server.http().get(authorize_target(with(base(), "client_id", "nope")))));
  EXPECT_TRUE(is_error_page(server.http().get(authorize_target(without(base(), "client_id")))));
  const std::vector<std::string> tricks = {
      "https://merchant.example/cb/",         "https://Merchant.example/cb",
      "https://merchant.example/CB",          "https://merchant.example/cb?x=1",
      "https://merchant.example/cb#f",        "http://merchant.example/cb",
      "https://merchant.example:443/cb",      "https://merchant.example/c%62",
      "https://merchant.example/x/../cb",     "https://merchant.example/./cb",
      "https://user@merchant.example/cb",     "https://merchant.example/cb\r\nX: y",
      "https://merchant.example.evil.com/cb", "https://evil.com/https://merchant.example/cb"};
  for (const auto& uri : tricks) {
    auto r = server.http().get(authorize_target(with(base(), "redirect_uri", uri)));
    EXPECT_TRUE(is_error_page(r)) << uri << " -> " << r.status;
    EXPECT_EQ(r.body.find("merchant.example/cb?"), std::string::npos);
  }
}

TEST_F(AuthorizeTest, C2_SeveralRegisteredUrisAndNoRedirectUriIsAnErrorPage) {
  auto two = server.create_client({kCb, "https://merchant.example/other"});
  auto p = with(without(base(), "redirect_uri"), "client_id", two.client.publishable_key);
  p = with(p, "scope", "bolt.account.manage");  // plain OAuth: OIDC always requires redirect_uri
  EXPECT_TRUE(is_error_page(server.http().get(authorize_target(p))));
  // With one registered URI a plain OAuth request may omit it.
  auto ok = server.http().get(authorize_target(with(without(base(), "redirect_uri"), "scope", "bolt.account.view")));
  EXPECT_EQ(ok.status, 200);
}

TEST_F(AuthorizeTest, C3_RegisteredUriWithAQueryKeepsItAndParametersAreNotDuplicated) {
  const std::string uri = "https://merchant.example/cb?shop=42&lang=en";
  auto c = server.create_client({uri});
  Browser b(server);
  auto p = with(with(base(), "client_id", c.client.publishable_key), "redirect_uri", uri);
  const auto location = login(b, p);
  ASSERT_EQ(location.rfind(uri + "&", 0), 0u) << location;
  const auto q = query_params(location);
  EXPECT_EQ(param(q, "shop"), "42");
  EXPECT_EQ(param(q, "lang"), "en");
  for (const char* k : {"code", "state", "iss", "scope"}) EXPECT_EQ(param_count(q, k), 1u) << k;
  // The code is bound to the exact registered string, query included.
  auto res = server.http().post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                              {"code", param(q, "code")},
                                                              {"client_id", c.client.publishable_key},
                                                              {"client_secret", c.client_secret},
                                                              {"scope", "openid"},
                                                              {"redirect_uri", uri},
                                                              {"code_verifier", pkce.verifier}}));
  EXPECT_EQ(res.status, 200) << res.body;
}

// --- C4 ---------------------------------------------------------------------------------------------------

TEST_F(AuthorizeTest, C4_StateIsEchoedByteExactLongWithPercentPlusAndSpaces) {
  std::string state = "a%20b+c d%2Bé&=?/#";
  while (state.size() < 2048) state += "x+% y";
  state.resize(2048);
  Browser b(server);
  const auto location = login(b, base(state));
  EXPECT_EQ(param(query_params(location), "state"), state);
  // Error redirects echo it too.
  auto err = server.http().get(authorize_target(with(base(state), "response_type", "token")));
  EXPECT_EQ(param(query_params(*err.header("location")), "state"), state);
}

TEST_F(AuthorizeTest, C4_IssIsOnEveryResponseErrorsIncluded) {
  Browser b(server);
  EXPECT_EQ(param(query_params(login(b, base())), "iss"), server.issuer());
  auto err = server.http().get(authorize_target(with(base(), "scope", "bogus")));
  EXPECT_EQ(param(query_params(*err.header("location")), "iss"), server.issuer());
  auto none = server.http().get(authorize_target(with(base(), "prompt", "none")));
  EXPECT_EQ(param(query_params(*none.header("location")), "iss"), server.issuer());
}

// --- C5 ---------------------------------------------------------------------------------------------------

TEST_F(AuthorizeTest, C5_CodeIsInTheQueryNeverTheFragment) {
  Browser b(server);
  const auto location = login(b, base());
  EXPECT_EQ(location.find('#'), std::string::npos);
  EXPECT_FALSE(param(query_params(location), "code").empty());
}

TEST_F(AuthorizeTest, C5_ErrorRedirectsCarryOnlyErrorDescriptionStateAndIss) {
  const std::vector<Params> bad = {with(base(), "response_type", "token"),
                                   with(base(), "scope", "nope"),
                                   with(base(), "code_challenge_method", "plain"),
                                   with(base(), "prompt", "none"),
                                   with(base(), "max_age", "-1"),
                                   with(base(), "response_mode", "fragment")};
  for (const auto& p : bad) {
    auto r = server.http().get(authorize_target(p));
    ASSERT_EQ(r.status, 303) << r.body;
    const auto q = query_params(*r.header("location"));
    for (const auto& [k, v] : q)
      EXPECT_TRUE(k == "error" || k == "error_description" || k == "state" || k == "iss") << k;
    EXPECT_FALSE(param(q, "error").empty());
  }
}

// --- C6 ---------------------------------------------------------------------------------------------------

TEST_F(AuthorizeTest, C6_UnsupportedResponseTypeAndInvalidScopeComeAfterTheRedirectUriCheck) {
  auto r = server.http().get(authorize_target(with(base(), "response_type", "token")));
  EXPECT_EQ(param(query_params(*r.header("location")), "error"), "unsupported_response_type");
  r = server.http().get(authorize_target(with(base(), "scope", "openid admin")));
  EXPECT_EQ(param(query_params(*r.header("location")), "error"), "invalid_scope");
  // The same bad scope with a bad redirect URI: the page, not a redirect.
  auto page = server.http().get(authorize_target(with(with(base(), "scope", "admin"), "redirect_uri", kCb + "x")));
  EXPECT_TRUE(is_error_page(page));
  page = server.http().get(authorize_target(with(with(base(), "response_type", "token"), "client_id", "zz")));
  EXPECT_TRUE(is_error_page(page));
}

// --- C7 ---------------------------------------------------------------------------------------------------

TEST_F(AuthorizeTest, C7_GetAndPostAreBothAccepted) {
  EXPECT_EQ(server.http().get(authorize_target(base())).status, 200);
  auto post = server.http().post_form("/v1/oauth/authorize", query_string(base()));
  EXPECT_EQ(post.status, 200) << post.body;
  EXPECT_FALSE(login_handle(post).empty());
}

TEST_F(AuthorizeTest, C7_DisplayUiLocalesLoginHintAcrValuesNeverCauseErrors) {
  auto p = base();
  p.insert(p.end(), {{"display", "popup"},
                     {"ui_locales", "fr-CA xx"},
                     {"login_hint", "ada@example.com"},
                     {"acr_values", "urn:weird"},
                     {"claims_locales", "de"},
                     {"unknown_param", "1"}});
  auto r = server.http().get(authorize_target(p));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("value=\"ada@example.com\""), std::string::npos);  // login_hint pre-fills the email
}

TEST_F(AuthorizeTest, C7_PromptNoneWithoutASessionIsLoginRequired) {
  auto r = server.http().get(authorize_target(with(base(), "prompt", "none")));
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(param(query_params(*r.header("location")), "error"), "login_required");
}

TEST_F(AuthorizeTest, C7_PromptLoginForcesANewLogin) {
  Browser b(server);
  login(b, base());
  // With the session: one click back to the client.
  EXPECT_EQ(reuse(b, base()).status, 303);
  server.clock().advance(5);
  auto page = b.get(authorize_target(with(base(), "prompt", "login")));
  ASSERT_EQ(page.status, 200);
  EXPECT_FALSE(login_handle(page).empty());
  auto done = log_in(server, b, page, "shopper@example.com");
  auto tokens = exchange(param(query_params(*done.header("location")), "code"),
                         {{"redirect_uri", kCb}, {"code_verifier", pkce.verifier}});
  ASSERT_EQ(tokens.status, 200) << tokens.body;
}

// OIDC Core 3.1.2.1: id_token_hint names the shopper the client expects.
class IdTokenHintTest : public AuthorizeTest {
 protected:
  // Logs `b` in as shopper@example.com; returns that shopper's id_token.
  std::string log_in_shopper(Browser& b) {
    const auto location = login(b, base());
    auto tokens =
        exchange(param(query_params(location), "code"), {{"redirect_uri", kCb}, {"code_verifier", pkce.verifier}});
    EXPECT_EQ(tokens.status, 200) << tokens.body;
    return std::string(tokens.json().as_object().at("id_token").as_string());
  }
  // The id_token of another shopper (a sandbox account) of the same client.
  std::string other_shoppers_id_token(TestServer& s, const core::CreatedClient& c) {
    auto tokens = s.exchange(c, s.sandbox_code(c));
    EXPECT_EQ(tokens.status, 200) << tokens.body;
    return std::string(tokens.json().as_object().at("id_token").as_string());
  }
  static std::string location_param(const HttpResponse& r, const std::string& name) {
    return param(query_params(r.header("location").value_or("")), name);
  }
};

TEST_F(IdTokenHintTest, HintNamingTheSessionsShopperGetsTheCode) {
  Browser b(server);
  const auto own = log_in_shopper(b);
  server.clock().advance(5);
  auto r = b.get(authorize_target(with(with(base(), "prompt", "none"), "id_token_hint", own)));
  ASSERT_EQ(r.status, 303);
  EXPECT_FALSE(location_param(r, "code").empty()) << *r.header("location");
}

TEST_F(IdTokenHintTest, HintNamingAnotherShopperWithPromptNoneIsLoginRequired) {
  Browser b(server);
  log_in_shopper(b);
  const auto other = other_shoppers_id_token(server, client);
  auto r = b.get(authorize_target(with(with(base(), "prompt", "none"), "id_token_hint", other)));
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(location_param(r, "error"), "login_required") << *r.header("location");
  EXPECT_TRUE(location_param(r, "code").empty());
  EXPECT_EQ(location_param(r, "state"), "xyz");
}

TEST_F(IdTokenHintTest, HintNamingAnotherShopperEndsTheSessionAndAsks) {
  Browser b(server);
  log_in_shopper(b);
  const auto other = other_shoppers_id_token(server, client);
  auto page = b.get(authorize_target(with(base(), "id_token_hint", other)));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_FALSE(page.header("location")) << "no code for the session's shopper";
  EXPECT_FALSE(login_handle(page).empty()) << "the login page asks";
  EXPECT_EQ(b.cookies().count("boltauth_session"), 0u) << "the session cookie is cleared";
  // The session is gone on the server too: no silent code afterwards, even with the old cookie.
  auto none = b.get(authorize_target(with(base(), "prompt", "none")));
  EXPECT_EQ(location_param(none, "error"), "login_required");
}

TEST_F(IdTokenHintTest, HintThatDoesNotVerifyIsInvalidRequest) {
  Browser b(server);
  auto own = log_in_shopper(b);
  auto forged = own;
  forged[forged.rfind('.') + 5] = forged[forged.rfind('.') + 5] == 'A' ? 'B' : 'A';  // bad signature
  // Same signing keys (the test servers of one process share them), another issuer: its iss does not match.
  TestServer elsewhere;
  auto elsewhere_client = elsewhere.create_client({kCb});
  const auto foreign = other_shoppers_id_token(elsewhere, elsewhere_client);
  const std::string header_none = base::base64url_encode(std::string_view(R"({"alg":"none","typ":"JWT"})"));
  const std::string unsigned_token = header_none + "." + own.substr(own.find('.') + 1, own.rfind('.') - own.find('.'));
  for (const auto& hint : {forged, foreign, unsigned_token, std::string("not-a-jwt")}) {
    for (const char* prompt : {"none", "login"}) {
      auto r = b.get(authorize_target(with(with(base(), "prompt", prompt), "id_token_hint", hint)));
      ASSERT_EQ(r.status, 303) << hint;
      EXPECT_EQ(location_param(r, "error"), "invalid_request") << hint << " -> " << *r.header("location");
      EXPECT_TRUE(location_param(r, "code").empty());
    }
  }
  // The session survives a bad hint.
  EXPECT_FALSE(location_param(b.get(authorize_target(with(base(), "prompt", "none"))), "code").empty());
}

TEST_F(AuthorizeTest, C7_MaxAgeIsHonouredWithAuthTime) {
  Browser b(server);
  const auto first_login = server.clock().now();
  login(b, base());
  server.clock().advance(100);
  // Within max_age: no login; the code carries the original auth_time.
  auto r = reuse(b, with(base(), "max_age", "3600"));
  ASSERT_EQ(r.status, 303);
  auto tokens = exchange(param(query_params(*r.header("location")), "code"),
                         {{"redirect_uri", kCb}, {"code_verifier", pkce.verifier}});
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  const std::string id_token(tokens.json().as_object().at("id_token").as_string());
  const auto payload =
      base::base64url_decode(id_token.substr(id_token.find('.') + 1, id_token.rfind('.') - id_token.find('.') - 1));
  const auto claims = boost::json::parse(crypto::as_view(*payload)).as_object();
  EXPECT_EQ(claims.at("auth_time").as_int64(), first_login);
  // Older than max_age: the login page again.
  auto again = b.get(authorize_target(with(base(), "max_age", "60")));
  EXPECT_EQ(again.status, 200);
  EXPECT_FALSE(login_handle(again).empty());
  // prompt=none with a too-old session: login_required.
  auto none = b.get(authorize_target(with(with(base(), "max_age", "60"), "prompt", "none")));
  EXPECT_EQ(param(query_params(*none.header("location")), "error"), "login_required");
}

TEST_F(AuthorizeTest, C7_MaxAgeZeroAlwaysAsksForALogin) {
  Browser b(server);
  login(b, base());
  auto r = b.get(authorize_target(with(base(), "max_age", "0")));
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(login_handle(r).empty());
}

// --- C8 ---------------------------------------------------------------------------------------------------

TEST_F(AuthorizeTest, C8_TheRedirectAfterTheLoginFormPostIs303) {
  Browser b(server);
  auto page = b.get(authorize_target(base()));
  auto done = log_in(server, b, page, "shopper@example.com");
  EXPECT_EQ(done.status, 303);
  EXPECT_NE(done.status, 307);
  // A POSTed authorization request with a session: its "Continue" answers 303 as well.
  auto post = b.post("/v1/oauth/authorize", query_string(base()));
  ASSERT_EQ(post.status, 200) << post.body;
  EXPECT_EQ(b.post("/v1/oauth/login-continue", form({{"login", login_handle(post)}})).status, 303);
}

// --- C9 ---------------------------------------------------------------------------------------------------

TEST_F(AuthorizeTest, C9_PagesSendCspFrameAncestorsXFrameOptionsReferrerPolicyAndNoCors) {
  auto page = server.http().get(authorize_target(base()), {{"Origin", "https://evil.example"}});
  ASSERT_EQ(page.status, 200);
  const auto csp = page.header("content-security-policy").value_or("");
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_EQ(page.header("x-frame-options"), "DENY");
  EXPECT_EQ(page.header("referrer-policy"), "no-referrer");
  EXPECT_EQ(page.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(page.header("cache-control"), "no-store");
  EXPECT_FALSE(page.header("access-control-allow-origin"));
  EXPECT_EQ(page.body.find("http://"), std::string::npos);  // no third-party (or any absolute) resources
  EXPECT_EQ(page.body.find("https://"), std::string::npos);
  // The embedded modal may be framed by the client's registered origins only, and has no X-Frame-Options.
  auto embedded = server.http().get(authorize_target(with(base(), "response_mode", "web_message")));
  const auto ecsp = embedded.header("content-security-policy").value_or("");
  EXPECT_NE(ecsp.find("frame-ancestors https://merchant.example;"), std::string::npos) << ecsp;
  EXPECT_FALSE(embedded.header("x-frame-options"));
  // Error pages refuse framing too.
  auto error = server.http().get(authorize_target(with(base(), "client_id", "x")));
  EXPECT_NE(error.header("content-security-policy")->find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(error.header("x-frame-options"), "DENY");
}

// --- C10 --------------------------------------------------------------------------------------------------

TEST_F(AuthorizeTest, C10_OtpIsSixDigitsAndExpiresAfterTenMinutes) {
  Browser b(server);
  auto page = b.get(authorize_target(base()));
  const auto handle = login_handle(page);
  ASSERT_EQ(b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "a@example.com"}})).status, 200);
  const auto code = last_otp(server, "a@example.com");
  EXPECT_TRUE(std::regex_match(code, std::regex("^[0-9]{6}$"))) << code;
  server.clock().advance(600);
  auto late = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", code}}));
  EXPECT_EQ(late.status, 400);
  EXPECT_NE(late.body.find("expired"), std::string::npos);
  EXPECT_FALSE(late.header("location"));
}

TEST_F(AuthorizeTest, C10_AtMostFiveAttemptsPerCode) {
  Browser b(server);
  auto page = b.get(authorize_target(base()));
  const auto handle = login_handle(page);
  b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "a@example.com"}}));
  const auto code = last_otp(server, "a@example.com");
  const std::string wrong = code == "000000" ? "111111" : "000000";
  for (int i = 0; i < 5; ++i) {
    auto r = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", wrong}}));
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("not right"), std::string::npos);
  }
  // The right code no longer works: five guesses are spent.
  auto r = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", code}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Too many wrong codes"), std::string::npos);
  // A new code (after the cool-down) restores five attempts.
  server.clock().advance(30);
  ASSERT_EQ(b.post("/v1/oauth/login-resend", form({{"login", handle}})).status, 200);
  auto ok = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", last_otp(server, "a@example.com")}}));
  EXPECT_EQ(ok.status, 303);
}

TEST_F(AuthorizeTest, C10_SendsAreThrottledPerEmail) {
  Browser b(server);
  int refused = 0;
  for (int i = 0; i < 7; ++i) {
    auto page = b.get(authorize_target(base()));
    auto r = b.post("/v1/oauth/login-email", form({{"login", login_handle(page)}, {"email", "victim@example.com"}}));
    refused += r.status == 429;
  }
  EXPECT_EQ(refused, 2);  // 5 per email per hour
  EXPECT_EQ(outbox_count(server), 5u);
  server.clock().advance(3600);
  auto page = b.get(authorize_target(base()));
  EXPECT_EQ(
      b.post("/v1/oauth/login-email", form({{"login", login_handle(page)}, {"email", "victim@example.com"}})).status,
      200);
}

TEST_F(AuthorizeTest, C10_SendsAndGuessesAreThrottledPerIp) {
  Browser b(server);
  int refused = 0;
  for (int i = 0; i < 22; ++i) {
    auto page = b.get(authorize_target(base()));
    auto r = b.post("/v1/oauth/login-email",
                    form({{"login", login_handle(page)}, {"email", "s" + std::to_string(i) + "@example.com"}}));
    refused += r.status == 429;
  }
  EXPECT_EQ(refused, 2);  // 20 sends per IP per hour
  server.clock().advance(3600);
  // Guesses: 50 per IP per hour, across logins.
  int throttled = 0;
  for (int login_no = 0; login_no < 11; ++login_no) {
    auto page = b.get(authorize_target(base()));
    const auto handle = login_handle(page);
    b.post("/v1/oauth/login-email",
           form({{"login", handle}, {"email", "g" + std::to_string(login_no) + "@example.com"}}));
    for (int i = 0; i < 5; ++i)
      throttled += b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", "999999"}})).status == 429;
  }
  EXPECT_EQ(throttled, 5);
}

TEST_F(AuthorizeTest, C10_AWrongOtpNeverRevealsWhetherTheEmailExists) {
  server.account_sub();  // ada@example.com exists
  auto strip = [](std::string body) {
    body = std::regex_replace(body, std::regex("value=\"[^\"]*\""), "value=\"\"");
    body = std::regex_replace(body, std::regex("nonce[-=]\"?[A-Za-z0-9_-]+"), "nonce");
    return std::regex_replace(body, std::regex("[a-z]+@example\\.com"), "EMAIL");
  };
  std::vector<std::string> bodies;
  for (const char* email : {"ada@example.com", "nobody@example.com"}) {
    Browser b(server);
    auto page = b.get(authorize_target(base()));
    const auto handle = login_handle(page);
    auto otp_page = b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", email}}));
    EXPECT_EQ(otp_page.status, 200);
    bodies.push_back(strip(otp_page.body));
    auto wrong = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", "000001"}}));
    EXPECT_EQ(wrong.status, 400);
    bodies.push_back(strip(wrong.body));
  }
  EXPECT_EQ(bodies[0], bodies[2]);
  EXPECT_EQ(bodies[1], bodies[3]);
  EXPECT_EQ(outbox_count(server), 2u);  // a code is sent to both
}

// --- D ----------------------------------------------------------------------------------------------------

TEST_F(AuthorizeTest, D1_S256RoundTripWorksAndIsAdvertisedPlainIsRefused) {
  auto disco = server.http().get("/.well-known/openid-configuration").json().as_object();
  EXPECT_EQ(boost::json::serialize(disco.at("code_challenge_methods_supported")), R"(["S256"])");
  EXPECT_EQ(disco.at("authorization_endpoint").as_string(), server.issuer() + "/v1/oauth/authorize");
  EXPECT_EQ(boost::json::serialize(disco.at("response_modes_supported")), R"(["query","web_message"])");
  EXPECT_TRUE(disco.at("authorization_response_iss_parameter_supported").as_bool());
  Browser b(server);
  const auto code = param(query_params(login(b, base())), "code");
  EXPECT_EQ(exchange(code, {{"redirect_uri", kCb}, {"code_verifier", pkce.verifier}}).status, 200);
  auto plain = with(with(base(), "code_challenge_method", "plain"), "code_challenge", pkce.verifier);
  auto r = server.http().get(authorize_target(plain));
  EXPECT_EQ(param(query_params(*r.header("location")), "error"), "invalid_request");
  // No method means plain (RFC 7636 section 4.3): refused as well.
  r = server.http().get(authorize_target(without(base(), "code_challenge_method")));
  EXPECT_EQ(param(query_params(*r.header("location")), "error"), "invalid_request");
}

TEST_F(AuthorizeTest, D2_ChallengeStoredAndVerifierMissingOrWrongIsInvalidGrant) {
  Browser b(server);
  auto code = param(query_params(login(b, base())), "code");
  auto missing = exchange(code, {{"redirect_uri", kCb}});
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(missing.json().as_object().at("error").as_string(), "invalid_grant");
  code = param(query_params(reuse(b, base()).header("location").value_or("")), "code");
  auto wrong = exchange(code, {{"redirect_uri", kCb}, {"code_verifier", make_pkce("b").verifier}});
  EXPECT_EQ(wrong.json().as_object().at("error").as_string(), "invalid_grant");
}

TEST_F(AuthorizeTest, D3_NoChallengeStoredButAVerifierSentIsInvalidGrant) {
  // A client created without "PKCE required" may omit the challenge...
  core::ClientSpec spec{"No PKCE", {kCb}, {}};
  spec.pkce_required = false;
  auto created = std::get<core::CreatedClient>(server.app().registry().create_client(spec));
  Browser b(server);
  auto p = with(without(without(base(), "code_challenge"), "code_challenge_method"), "client_id",
                created.client.publishable_key);
  const auto code = param(query_params(login(b, p)), "code");
  ASSERT_FALSE(code.empty());
  auto res = server.http().post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                              {"code", code},
                                                              {"client_id", created.client.publishable_key},
                                                              {"client_secret", created.client_secret},
                                                              {"scope", "openid"},
                                                              {"redirect_uri", kCb},
                                                              {"code_verifier", pkce.verifier}}));
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_grant");
  // ...but the default client may not.
  auto r = server.http().get(authorize_target(without(without(base(), "code_challenge"), "code_challenge_method")));
  EXPECT_EQ(param(query_params(*r.header("location")), "error"), "invalid_request");
}

TEST_F(AuthorizeTest, D4_TheChallengeSentAsVerifierIsInvalidGrant) {
  Browser b(server);
  const auto code = param(query_params(login(b, base())), "code");
  auto res = exchange(code, {{"redirect_uri", kCb}, {"code_verifier", pkce.challenge}});
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_grant");
}

TEST_F(AuthorizeTest, D5_ChallengeOrVerifierOutside43To128UnreservedIsInvalidRequest) {
  for (const std::string& bad :
       {std::string(42, 'a'), std::string(129, 'a'), std::string(43, 'a') + "!", std::string(42, 'a') + "+"}) {
    auto r = server.http().get(authorize_target(with(base(), "code_challenge", bad)));
    ASSERT_EQ(r.status, 303) << bad;
    EXPECT_EQ(param(query_params(*r.header("location")), "error"), "invalid_request") << bad;
  }
  Browser b(server);
  const auto code = param(query_params(login(b, base())), "code");
  auto res = exchange(code, {{"redirect_uri", kCb}, {"code_verifier", std::string(42, 'a')}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json().as_object().at("error").as_string(), "invalid_request");
}

// --- contract section 6 details ---------------------------------------------------------------------------

TEST_F(AuthorizeTest, RepeatedParametersAreRefusedUnknownOnesIgnored) {
  auto p = base();
  p.emplace_back("state", "again");
  auto r = server.http().get(authorize_target(p));
  EXPECT_TRUE(is_error_page(r));
  EXPECT_EQ(server.http().get(authorize_target(with(base(), "foo", "bar"))).status, 200);
}

TEST_F(AuthorizeTest, TheCodeCarriesClientRedirectUriScopeNonceStateAndAuthTime) {
  Browser b(server);
  const auto login_time = server.clock().now();
  const auto q = query_params(login(b, base("st-1")));
  EXPECT_EQ(param(q, "scope"), "bolt.account.manage openid");
  const auto code = param(q, "code");
  // Another redirect_uri, state or client: invalid_grant.
  EXPECT_EQ(exchange(code, {{"redirect_uri", kCb + "x"}, {"code_verifier", pkce.verifier}}).status, 422);
  EXPECT_EQ(exchange(code, {{"redirect_uri", kCb}, {"code_verifier", pkce.verifier}, {"state", "other"}}).status, 422);
  auto ok = exchange(code, {{"redirect_uri", kCb}, {"code_verifier", pkce.verifier}, {"state", "st-1"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  const std::string id_token(ok.json().as_object().at("id_token").as_string());
  const auto payload =
      base::base64url_decode(id_token.substr(id_token.find('.') + 1, id_token.rfind('.') - id_token.find('.') - 1));
  const auto claims = boost::json::parse(crypto::as_view(*payload)).as_object();
  EXPECT_EQ(claims.at("nonce").as_string(), "n-0S6_WzA2Mj");
  EXPECT_EQ(claims.at("auth_time").as_int64(), login_time);
  EXPECT_EQ(claims.at("email").as_string(), "shopper@example.com");
  EXPECT_TRUE(claims.at("email_verified").as_bool());
}

TEST_F(AuthorizeTest, ASecondAuthorizationWithinTheSessionSkipsTheLogin) {
  Browser b(server);
  login(b, base());
  ASSERT_TRUE(b.cookies().count("boltauth_session"));
  const auto n = outbox_count(server);
  auto again = reuse(b, base("second"));
  ASSERT_EQ(again.status, 303) << again.body;
  EXPECT_EQ(param(query_params(*again.header("location")), "state"), "second");
  EXPECT_EQ(outbox_count(server), n);
  // The session ends after session_ttl: the email page again, not "Continue as".
  server.clock().advance(86400);
  auto later = b.get(authorize_target(base()));
  EXPECT_EQ(later.status, 200);
  EXPECT_EQ(later.body.find("Continue as"), std::string::npos);
  EXPECT_NE(later.body.find("Email address"), std::string::npos);
}

TEST_F(AuthorizeTest, TheSessionsShopperIsNamedAndContinueWorksOnce) {
  Browser b(server);
  login(b, base(), "named@example.com");
  auto page = b.get(authorize_target(base("s2")));
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<strong id=\"who\">named@example.com</strong>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("Not you?"), std::string::npos);
  const auto handle = login_handle(page);
  auto first = b.post("/v1/oauth/login-continue", form({{"login", handle}}));
  ASSERT_EQ(first.status, 303);
  EXPECT_FALSE(param(query_params(*first.header("location")), "code").empty());
  auto second = b.post("/v1/oauth/login-continue", form({{"login", handle}}));
  EXPECT_EQ(second.status, 400);
  EXPECT_FALSE(second.header("location"));
  // Another browser cannot use the handle (it is bound to this one), nor a cross-site post.
  auto fresh = b.get(authorize_target(base("s3")));
  Browser other(server);
  EXPECT_EQ(other.post("/v1/oauth/login-continue", form({{"login", login_handle(fresh)}})).status, 400);
  EXPECT_EQ(
      b.post("/v1/oauth/login-continue", form({{"login", login_handle(fresh)}}), {{"Sec-Fetch-Site", "cross-site"}})
          .status,
      403);
}

TEST_F(AuthorizeTest, NotYouEndsTheSessionAndAsksWhoIsThere) {
  Browser b(server);
  login(b, base(), "first@example.com");
  auto page = b.get(authorize_target(base()));
  ASSERT_EQ(page.status, 200);
  auto who = b.post("/v1/oauth/login-email", form({{"login", login_handle(page)}, {"not_me", "1"}}));
  ASSERT_EQ(who.status, 200);
  EXPECT_NE(who.body.find("Email address"), std::string::npos) << who.body;
  EXPECT_EQ(who.body.find("first@example.com"), std::string::npos) << "the field starts empty";
  EXPECT_FALSE(b.cookies().count("boltauth_session"));
  // The same pending login goes on with another shopper.
  auto done = log_in(server, b, who, "second@example.com");
  ASSERT_EQ(done.status, 303) << done.body;
  auto tokens = exchange(param(query_params(*done.header("location")), "code"),
                         {{"redirect_uri", kCb}, {"code_verifier", pkce.verifier}});
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  const std::string id_token(tokens.json().as_object().at("id_token").as_string());
  const auto payload =
      base::base64url_decode(id_token.substr(id_token.find('.') + 1, id_token.rfind('.') - id_token.find('.') - 1));
  EXPECT_EQ(boost::json::parse(crypto::as_view(*payload)).as_object().at("email").as_string(), "second@example.com");
}

TEST_F(AuthorizeTest, AContinuePageWhoseSessionEndedMeanwhileAsksForTheLogin) {
  Browser b(server);
  login(b, base());
  auto page = b.get(authorize_target(base()));
  ASSERT_EQ(page.status, 200);
  b.cookies().erase("boltauth_session");
  auto r = b.post("/v1/oauth/login-continue", form({{"login", login_handle(page)}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Email address"), std::string::npos) << r.body;
}

TEST_F(AuthorizeTest, SessionCookieIsHttpOnlySameSiteLaxAndSecureOnlyOverHttps) {
  Browser b(server);
  auto page = b.get(authorize_target(base()));
  const auto handle = login_handle(page);
  b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "c@example.com"}}));
  b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", last_otp(server, "c@example.com")}}));
  bool seen = false;
  for (const auto& c : b.last_set_cookies()) {
    if (c.rfind("boltauth_session=", 0) != 0) continue;
    seen = true;
    EXPECT_NE(c.find("HttpOnly"), std::string::npos);
    EXPECT_NE(c.find("SameSite=Lax"), std::string::npos);
    EXPECT_EQ(c.find("Secure"), std::string::npos);  // plain-http issuer
  }
  EXPECT_TRUE(seen);
  TestServer tls([](server::AppOptions& o) {
    o.issuer_from_listen = false;
    o.config.issuer = "https://login.example";
  });
  auto tc = tls.create_client({kCb});
  Browser tb(tls);
  auto p = with(base(), "client_id", tc.client.publishable_key);
  auto tpage = tb.get(authorize_target(p));
  const auto th = login_handle(tpage);
  tb.post("/v1/oauth/login-email", form({{"login", th}, {"email", "c@example.com"}}));
  tb.post("/v1/oauth/login-otp", form({{"login", th}, {"otp", last_otp(tls, "c@example.com")}}));
  seen = false;
  for (const auto& c : tb.last_set_cookies())
    if (c.rfind("boltauth_session=", 0) == 0) seen = c.find("; Secure") != std::string::npos;
  EXPECT_TRUE(seen);
}

TEST_F(AuthorizeTest, AnUnknownEmailGetsAVerifiedAccountAnUnverifiedOneBecomesVerified) {
  core::AccountSpec spec;
  spec.email = "unverified@example.com";
  auto existing = std::get<core::model::Account>(server.app().registry().create_account(spec));
  ASSERT_FALSE(existing.email_verified);
  for (const auto& email : std::vector<std::string>{"new.shopper@example.com", "unverified@example.com"}) {
    Browser b(server);
    const auto code = param(query_params(login(b, base(), email)), "code");
    auto tokens = exchange(code, {{"redirect_uri", kCb}, {"code_verifier", pkce.verifier}});
    ASSERT_EQ(tokens.status, 200) << tokens.body;
    auto account = server.http().get(
        "/v1/account",
        {{"Authorization", "Bearer " + std::string(tokens.json().as_object().at("access_token").as_string())}});
    ASSERT_EQ(account.status, 200) << account.body;
    EXPECT_NE(account.body.find(email), std::string::npos);
  }
}

TEST_F(AuthorizeTest, SandboxTestAccountsLogInWithTheirFixedOtpCode) {
  auto shopper = server.create_shopper(client);
  const std::string email(shopper.at("email").as_string());
  const std::string otp(shopper.at("otp_code").as_string());
  Browser b(server);
  auto page = b.get(authorize_target(base()));
  const auto handle = login_handle(page);
  b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", email}}));
  auto done = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", otp}}));
  EXPECT_EQ(done.status, 303) << done.body;
}

TEST_F(AuthorizeTest, SandboxFixedOtpCodeIsStoredOnlyAsAKeyedHash) {
  // Checklist B4: the store holds no usable secret. The database file and its write-ahead log (or every row of a
  // PostgreSQL database), read as an attacker with a copy would, never contain the fixed code.
  auto shopper = server.create_shopper(client);
  const std::string email(shopper.at("email").as_string());
  const std::string otp(shopper.at("otp_code").as_string());
  ASSERT_EQ(otp.size(), 6u);
  const std::string bytes = server.store_dump();
  ASSERT_NE(bytes.find(email), std::string::npos) << "the dump holds the account";
  EXPECT_EQ(bytes.find(otp), std::string::npos) << "fixed one-time code stored in clear";
  // The code still logs the shopper in, and a wrong one does not.
  Browser b(server);
  const auto handle = login_handle(b.get(authorize_target(base())));
  ASSERT_EQ(b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", email}})).status, 200);
  const std::string wrong = otp == "000000" ? "000001" : "000000";
  EXPECT_EQ(b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", wrong}})).status, 400);
  auto done = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", otp}}));
  ASSERT_EQ(done.status, 303) << done.body;
  EXPECT_NE(done.header("location").value_or("").find("code="), std::string::npos);
}

TEST_F(AuthorizeTest, ResendHasACoolDown) {
  Browser b(server);
  auto page = b.get(authorize_target(base()));
  const auto handle = login_handle(page);
  b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "r@example.com"}}));
  const auto first = last_otp(server, "r@example.com");
  auto soon = b.post("/v1/oauth/login-resend", form({{"login", handle}}));
  EXPECT_EQ(soon.status, 429);
  EXPECT_EQ(outbox_count(server), 1u);
  server.clock().advance(30);
  EXPECT_EQ(b.post("/v1/oauth/login-resend", form({{"login", handle}})).status, 200);
  EXPECT_EQ(outbox_count(server), 2u);
  // Only the newest code works.
  const auto second = last_otp(server, "r@example.com");
  if (first != second) {
    EXPECT_EQ(b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", first}})).status, 400);
  }
  EXPECT_EQ(b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", second}})).status, 303);
}

TEST_F(AuthorizeTest, ALoginStartedInAnotherBrowserIsRefused) {
  Browser a(server), b(server);
  auto page = a.get(authorize_target(base()));
  auto r = b.post("/v1/oauth/login-email", form({{"login", login_handle(page)}, {"email", "x@example.com"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(outbox_count(server), 0u);
}

TEST_F(AuthorizeTest, WebMessageModePostsTheResultToTheRegisteredOriginOnly) {
  Browser b(server);
  auto p = with(base("s 1"), "response_mode", "web_message");
  auto page = b.get(authorize_target(p));
  ASSERT_EQ(page.status, 200);
  const auto handle = login_handle(page);
  b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "w@example.com"}}));
  auto done = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", last_otp(server, "w@example.com")}}));
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_FALSE(done.header("location"));
  EXPECT_NE(done.body.find("\"authorizationCode\":\""), std::string::npos);
  EXPECT_NE(done.body.find("\"state\":\"s 1\""), std::string::npos);
  EXPECT_NE(done.body.find("\"scope\":\"bolt.account.manage openid\""), std::string::npos);
  EXPECT_NE(done.body.find("postMessage(d,o)"), std::string::npos);
  EXPECT_NE(done.body.find("var o=\"https://merchant.example\""), std::string::npos);
  EXPECT_EQ(done.body.find("\"*\""), std::string::npos);
  const auto csp = done.header("content-security-policy").value_or("");
  EXPECT_NE(csp.find("script-src 'nonce-"), std::string::npos);
  // Errors go the same way.
  auto err = server.http().get(authorize_target(with(p, "prompt", "none")));
  EXPECT_EQ(err.status, 200);
  EXPECT_NE(err.body.find("\"error\":\"login_required\""), std::string::npos);
}

TEST_F(AuthorizeTest, LoginFormsRefuseCrossSitePostsLoginCsrf) {
  // RFC 6749 section 10.12: another site must not post its own login handle and code from the shopper's browser,
  // which would plant the attacker's session. The same-origin check refuses such posts before anything else.
  Browser attacker(server);
  auto p = with(base(), "response_mode", "web_message");
  const auto handle = login_handle(attacker.get(authorize_target(p)));
  attacker.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "attacker@example.com"}}));
  const std::string body = form({{"login", handle}, {"otp", last_otp(server, "attacker@example.com")}});
  Browser victim(server);
  auto cross = victim.post("/v1/oauth/login-otp", body, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(cross.status, 403);
  EXPECT_TRUE(victim.cookies().empty()) << "no session was planted";
  EXPECT_EQ(victim.post("/v1/oauth/login-otp", body, {{"Sec-Fetch-Site", "cross-site"}}).status, 403);
  EXPECT_EQ(victim
                .post("/v1/oauth/login-email", form({{"login", handle}, {"email", "v@example.com"}}),
                      {{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}})
                .status,
            403);
  // Our own page posts same-origin: accepted.
  auto ok =
      attacker.post("/v1/oauth/login-otp", body, {{"Origin", server.issuer()}, {"Sec-Fetch-Site", "same-origin"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.body.find("\"authorizationCode\":\""), std::string::npos);
}

TEST_F(AuthorizeTest, LoginFormsRefusePostsWithoutSameOriginProof) {
  // Login CSRF (RFC 6749 section 10.12): a login form post must prove it came from our own page, with
  // `Sec-Fetch-Site: same-origin` or an `Origin` naming the issuer; a post with neither (or `Origin: null`) is 403.
  Browser b(server);
  const auto handle = login_handle(b.get(authorize_target(base())));
  const auto email = form({{"login", handle}, {"email", "bare@example.com"}});
  auto bare = b.post_bare("/v1/oauth/login-email", email);
  EXPECT_EQ(bare.status, 403) << bare.body;
  EXPECT_NE(bare.body.find("can only be sent from the login page"), std::string::npos) << bare.body;
  EXPECT_EQ(outbox_count(server), 0u) << "no code was sent";
  EXPECT_EQ(b.post_bare("/v1/oauth/login-email", email, {{"Origin", "null"}}).status, 403);
  EXPECT_EQ(b.post_bare("/v1/oauth/login-email", email, {{"Sec-Fetch-Site", "same-site"}}).status, 403);
  // An Origin naming the issuer is enough (a browser without fetch metadata and with a referrer).
  ASSERT_EQ(b.post_bare("/v1/oauth/login-email", email, {{"Origin", server.issuer()}}).status, 200);
  const auto otp = form({{"login", handle}, {"otp", last_otp(server, "bare@example.com")}});
  EXPECT_EQ(b.post_bare("/v1/oauth/login-resend", form({{"login", handle}})).status, 403);
  auto refused = b.post_bare("/v1/oauth/login-otp", otp);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_FALSE(refused.header("location")) << "no code was issued";
  EXPECT_EQ(b.cookies().count("boltauth_session"), 0u) << "no session was created";
  // The same post from the page itself goes through: the refused ones spent nothing.
  auto done = b.post("/v1/oauth/login-otp", otp);
  EXPECT_EQ(done.status, 303) << done.body;
  EXPECT_NE(done.header("location").value_or("").find("code="), std::string::npos);
}

TEST_F(AuthorizeTest, WebMessageLoginIsBoundToTheBrowserThatStartedIt) {
  // A web_message login runs in a cross-site iframe, so its binding cookie is partitioned and SameSite=None
  // (Secure: the test issuer is loopback). Whoever holds the handle and the code cannot finish the login from
  // another cookie jar.
  Browser shopper(server);
  auto p = with(base(), "response_mode", "web_message");
  const auto handle = login_handle(shopper.get(authorize_target(p)));
  ASSERT_FALSE(handle.empty());
  std::string binding;
  for (const auto& c : shopper.last_set_cookies())
    if (c.rfind("boltauth_login=", 0) == 0) binding = c;
  EXPECT_NE(binding.find("; HttpOnly"), std::string::npos) << binding;
  EXPECT_NE(binding.find("; Secure"), std::string::npos) << binding;
  EXPECT_NE(binding.find("; SameSite=None"), std::string::npos) << binding;
  EXPECT_NE(binding.find("; Partitioned"), std::string::npos) << binding;
  ASSERT_EQ(shopper.cookies().count("boltauth_login"), 1u);

  Browser other(server);
  auto early = other.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "thief@example.com"}}));
  EXPECT_EQ(early.status, 400) << early.body;
  EXPECT_NE(early.body.find("started in another browser"), std::string::npos) << early.body;
  EXPECT_EQ(outbox_count(server), 0u);

  ASSERT_EQ(shopper.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "wm@example.com"}})).status, 200);
  const auto otp = form({{"login", handle}, {"otp", last_otp(server, "wm@example.com")}});
  auto stolen = other.post("/v1/oauth/login-otp", otp);
  EXPECT_EQ(stolen.status, 400) << stolen.body;
  EXPECT_EQ(stolen.body.find("authorizationCode"), std::string::npos) << stolen.body;
  EXPECT_EQ(other.cookies().count("boltauth_session"), 0u);
  // Another browser's own binding cookie does not fit either.
  other.get(authorize_target(p));
  ASSERT_EQ(other.cookies().count("boltauth_login"), 1u);
  EXPECT_EQ(other.post("/v1/oauth/login-otp", otp).status, 400);
  // The browser that started it finishes it.
  auto done = shopper.post("/v1/oauth/login-otp", otp);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("\"authorizationCode\":\""), std::string::npos) << done.body;
}

TEST_F(AuthorizeTest, WebMessageResultsNameTheIssuer) {
  // RFC 9207 section 2: every authorization response carries iss, the embedded mode's included.
  Browser b(server);
  auto p = with(base(), "response_mode", "web_message");
  const auto handle = login_handle(b.get(authorize_target(p)));
  b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "i@example.com"}}));
  auto done = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", last_otp(server, "i@example.com")}}));
  ASSERT_EQ(done.status, 200);
  EXPECT_NE(done.body.find("\"iss\":\"" + server.issuer() + "\""), std::string::npos) << done.body;
  auto err = server.http().get(authorize_target(with(p, "prompt", "none")));
  EXPECT_NE(err.body.find("\"iss\":\"" + server.issuer() + "\""), std::string::npos) << err.body;
}

TEST_F(AuthorizeTest, HeadHasNoSideEffects) {
  auto r = server.http().request("HEAD", authorize_target(base()), {}, "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow").value_or(""), "GET, POST");
}

TEST_F(AuthorizeTest, AnOverlongStateIsNeverEchoed) {
  auto r = server.http().get(authorize_target(with(base(std::string(5000, 's')), "response_type", "token")));
  ASSERT_EQ(r.status, 303);
  const auto location = r.header("location").value_or("");
  EXPECT_NE(location.find("error=invalid_request"), std::string::npos) << location;
  EXPECT_EQ(location.find("sssss"), std::string::npos);
}

}  // namespace
}  // namespace boltauth::testing

namespace boltauth::testing {
namespace {

// --- The login pages: the service's look, and a way back when a login cannot go on ------------------------------

TEST_F(AuthorizeTest, PagesCarryTheDefaultServiceNameAndNoImageSource) {
  Browser b(server);
  auto page = b.get(authorize_target(base()));
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>Log in \xC2\xB7 boltauth</title>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("<span class=\"brand\">boltauth</span>"), std::string::npos);
  EXPECT_NE(page.body.find("--accent:#3a3aff"), std::string::npos);
  EXPECT_EQ(page.body.find("<img"), std::string::npos);
  EXPECT_EQ(page.header("content-security-policy")->find("img-src"), std::string::npos);
}

TEST(BrandingTest, NameLogoAndAccentAreOnEveryPageAndTheLogoAloneIsAllowedByTheCsp) {
  TestServer server([](server::AppOptions& o) {
    o.config.brand_name = "Acme <Pay>";
    o.config.brand_logo_url = "https://cdn.acme.example/logo.png?v=2&s=64";
    o.config.brand_accent_color = "#0a7d33";
  });
  const auto client = server.create_client({kCb});
  const auto pkce = make_pkce();
  Browser b(server);
  auto page = b.get(authorize_target({{"response_type", "code"},
                                      {"client_id", client.client.id},
                                      {"redirect_uri", kCb},
                                      {"scope", "openid"},
                                      {"code_challenge", pkce.challenge},
                                      {"code_challenge_method", "S256"}}));
  ASSERT_EQ(page.status, 200) << page.body;
  // The name is text (escaped), the logo an image of that exact URL, the colour the page's accent.
  EXPECT_NE(page.body.find("<title>Log in \xC2\xB7 Acme &lt;Pay&gt;</title>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("<span class=\"brand\">Acme &lt;Pay&gt;</span>"), std::string::npos);
  EXPECT_NE(page.body.find("<img src=\"https://cdn.acme.example/logo.png?v=2&amp;s=64\""), std::string::npos);
  EXPECT_NE(page.body.find(":root{--accent:#0a7d33}"), std::string::npos);
  EXPECT_NE(page.header("content-security-policy")->find("; img-src https://cdn.acme.example/logo.png?v=2&s=64;"),
            std::string::npos)
      << *page.header("content-security-policy");
  // The code page and the dead ends carry it too.
  auto otp = b.post("/v1/oauth/login-email", form({{"login", login_handle(page)}, {"email", "a@example.com"}}));
  ASSERT_EQ(otp.status, 200) << otp.body;
  EXPECT_NE(otp.body.find("<span class=\"brand\">Acme &lt;Pay&gt;</span>"), std::string::npos);
  auto dead = b.get("/v1/oauth/authorize?client_id=nobody&response_type=code");
  EXPECT_EQ(dead.status, 400);
  EXPECT_NE(dead.body.find("<span class=\"brand\">Acme &lt;Pay&gt;</span>"), std::string::npos);
  EXPECT_NE(dead.body.find("cdn.acme.example/logo.png"), std::string::npos);
}

TEST(BrandingTest, ValuesThatCouldBreakOutOfThePageAreRefused) {
  core::Config c;
  EXPECT_EQ(c.validate(), "");
  const auto refused = [](auto change) {
    core::Config k;
    change(k);
    return !k.validate().empty();
  };
  EXPECT_TRUE(refused([](core::Config& k) { k.brand_accent_color = "red;}body{display:none"; }));
  EXPECT_TRUE(refused([](core::Config& k) { k.brand_accent_color = "#12345"; }));
  EXPECT_TRUE(refused([](core::Config& k) { k.brand_logo_url = "javascript:alert(1)"; }));
  EXPECT_TRUE(refused([](core::Config& k) { k.brand_logo_url = "http://cdn.example/logo.png"; }));
  EXPECT_TRUE(refused([](core::Config& k) { k.brand_logo_url = "https://cdn.example/a.png; script-src *"; }));
  EXPECT_TRUE(refused([](core::Config& k) { k.brand_logo_url = "https://cdn.example/\"onerror=\"x"; }));
  EXPECT_TRUE(refused([](core::Config& k) { k.brand_name = ""; }));
  EXPECT_TRUE(refused([](core::Config& k) { k.brand_name = "a\nb"; }));
  EXPECT_FALSE(refused([](core::Config& k) { k.brand_logo_url = "http://127.0.0.1:9000/logo.svg"; }));
  EXPECT_FALSE(refused([](core::Config& k) { k.brand_accent_color = "#ABC"; }));
}

TEST_F(AuthorizeTest, AnExpiredLoginLinksBackToTheMerchantWithAnError) {
  Browser b(server);
  auto page = b.get(authorize_target(base("st-42")));
  ASSERT_EQ(page.status, 200);
  server.clock().advance(server.app().config().login_request_ttl + 1);
  auto r = b.post("/v1/oauth/login-email", form({{"login", login_handle(page)}, {"email", "a@example.com"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(r.header("location")) << "the shopper chooses to go back; nothing redirects by itself";
  EXPECT_NE(r.body.find("Login expired"), std::string::npos);
  EXPECT_NE(r.body.find(">Back to " + client.client.name + "</a>"), std::string::npos) << r.body;
  const auto at = r.body.find("id=\"back\" href=\"");
  ASSERT_NE(at, std::string::npos) << r.body;
  const auto start = at + 16;
  const std::string href = r.body.substr(start, r.body.find('"', start) - start);
  // The registered redirect URI with an error, the state and the issuer: never a code or the login handle.
  EXPECT_EQ(href.rfind(kCb + "?error=access_denied&amp;error_description=", 0), 0u) << href;
  EXPECT_NE(href.find("&amp;state=st-42"), std::string::npos) << href;
  EXPECT_NE(href.find("&amp;iss="), std::string::npos) << href;
  EXPECT_EQ(href.find("code="), std::string::npos) << href;
  EXPECT_EQ(href.find(login_handle(page)), std::string::npos) << href;
  EXPECT_EQ(outbox_count(server), 0u);
}

TEST_F(AuthorizeTest, ALoginFromAnotherBrowserAlsoGetsTheWayBackButNoCode) {
  Browser a(server), b(server);
  auto page = a.get(authorize_target(base()));
  auto r = b.post("/v1/oauth/login-email", form({{"login", login_handle(page)}, {"email", "x@example.com"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("started in another browser"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("href=\"" + kCb + "?error=access_denied"), std::string::npos) << r.body;
}

TEST_F(AuthorizeTest, AnExpiredWebMessageLoginSaysToGoBackToTheMerchantsPage) {
  Browser b(server);
  auto page = b.get(authorize_target(with(base(), "response_mode", "web_message")));
  ASSERT_EQ(page.status, 200);
  server.clock().advance(server.app().config().login_request_ttl + 1);
  auto r = b.post("/v1/oauth/login-email", form({{"login", login_handle(page)}, {"email", "a@example.com"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Close this window and start again from " + client.client.name), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("href="), std::string::npos);
}

TEST_F(AuthorizeTest, AnUnknownLoginStillSaysToGoBackToTheSite) {
  Browser b(server);
  (void)b.get(authorize_target(base()));
  auto r = b.post("/v1/oauth/login-email", form({{"login", std::string(43, 'x')}, {"email", "a@example.com"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Go back to the site you came from"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace boltauth::testing

namespace boltauth::testing {
namespace {

// --- RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) -----------------------------------------------

const std::string kBye = "https://merchant.example/bye";

class LogoutTest : public IdTokenHintTest {
 protected:
  core::CreatedClient shop = [this] {
    core::ClientSpec spec{"Logout shop", {kCb}, {}};
    spec.post_logout_redirect_uris = {kBye, "https://merchant.example/bye?from=boltauth"};
    auto created = server.app().registry().create_client(spec);
    return std::get<core::CreatedClient>(created);
  }();
  Params shop_params(const std::string& state = "xyz") { return with(base(state), "client_id", shop.client.id); }
  // Logs `b` in to `shop`; returns the shopper's id_token.
  std::string log_in_to_shop(Browser& b) {
    const auto location = login(b, shop_params());
    Params body{{"grant_type", "authorization_code"},
                {"code", param(query_params(location), "code")},
                {"client_id", shop.client.id},
                {"client_secret", shop.client_secret},
                {"redirect_uri", kCb},
                {"code_verifier", pkce.verifier}};
    auto tokens = server.http().post_form("/v1/oauth/token", form(body));
    EXPECT_EQ(tokens.status, 200) << tokens.body;
    return std::string(tokens.json().as_object().at("id_token").as_string());
  }
  // Whether `b` still has a live session: prompt=none answers with a code only then.
  bool has_session(Browser& b) {
    auto r = b.get(authorize_target(with(shop_params("probe"), "prompt", "none")));
    EXPECT_EQ(r.status, 303);
    return !location_param(r, "code").empty();
  }
  static bool clears_session_cookie(const Browser& b) {
    for (const auto& c : b.last_set_cookies())
      if (c.rfind("boltauth_session=;", 0) == 0 && c.find("Max-Age=0") != std::string::npos) return true;
    return false;
  }
};

TEST_F(LogoutTest, DiscoveryAdvertisesTheEndSessionEndpoint) {
  auto doc = server.http().get("/.well-known/openid-configuration").json().as_object();
  EXPECT_EQ(doc.at("end_session_endpoint").as_string(), server.issuer() + "/v1/oauth/logout");
}

TEST_F(LogoutTest, AHintNamingTheSessionsShopperEndsTheSessionAndGoesBackWithState) {
  Browser b(server);
  const auto id_token = log_in_to_shop(b);
  ASSERT_TRUE(has_session(b));
  auto r =
      b.get("/v1/oauth/logout?" +
            query_string({{"id_token_hint", id_token}, {"post_logout_redirect_uri", kBye}, {"state", "bye state/1"}}));
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(*r.header("location"), kBye + "?state=bye%20state%2F1");
  EXPECT_TRUE(clears_session_cookie(b));
  EXPECT_FALSE(b.cookies().count("boltauth_session"));
  // Gone from the store too: the old cookie value no longer logs anyone in.
  EXPECT_FALSE(has_session(b));
}

TEST_F(LogoutTest, ARegisteredUriWithItsOwnQueryKeepsIt) {
  Browser b(server);
  const auto id_token = log_in_to_shop(b);
  auto r = b.get("/v1/oauth/logout?" +
                 query_string({{"id_token_hint", id_token},
                               {"post_logout_redirect_uri", "https://merchant.example/bye?from=boltauth"}}));
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(*r.header("location"), "https://merchant.example/bye?from=boltauth");
}

TEST_F(LogoutTest, WithoutAHintTheShopperIsAskedAndOnlyOurOwnFormEndsTheSession) {
  Browser b(server);
  log_in_to_shop(b);
  auto ask = b.get("/v1/oauth/logout?" +
                   query_string({{"client_id", shop.client.id}, {"post_logout_redirect_uri", kBye}, {"state", "s1"}}));
  ASSERT_EQ(ask.status, 200) << ask.body;
  EXPECT_NE(ask.body.find("Log out?"), std::string::npos) << ask.body;
  EXPECT_NE(ask.body.find("<form method=\"post\" action=\"logout\">"), std::string::npos);
  EXPECT_TRUE(has_session(b)) << "asking ends nothing";
  const std::string confirm =
      form({{"confirm", "1"}, {"client_id", shop.client.id}, {"post_logout_redirect_uri", kBye}, {"state", "s1"}});
  // Another site posting the same form (logout CSRF) is asked again; nothing ends.
  auto forged = b.post("/v1/oauth/logout", confirm, {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(forged.status, 200);
  EXPECT_NE(forged.body.find("Log out?"), std::string::npos);
  EXPECT_TRUE(has_session(b));
  auto done = b.post("/v1/oauth/logout", confirm);
  ASSERT_EQ(done.status, 303) << done.body;
  EXPECT_EQ(*done.header("location"), kBye + "?state=s1");
  EXPECT_TRUE(clears_session_cookie(b));
  EXPECT_FALSE(has_session(b));
}

TEST_F(LogoutTest, AHintNamingAnotherShopperIsAskedToo) {
  Browser b(server);
  log_in_to_shop(b);
  const auto other = other_shoppers_id_token(server, client);
  auto r = b.get("/v1/oauth/logout?" + query_string({{"id_token_hint", other}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Log out?"), std::string::npos);
  EXPECT_TRUE(has_session(b));
}

TEST_F(LogoutTest, WithNowhereToGoBackTheShopperSeesTheyAreLoggedOut) {
  Browser b(server);
  const auto id_token = log_in_to_shop(b);
  auto r = b.get("/v1/oauth/logout?" + query_string({{"id_token_hint", id_token}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("You are logged out"), std::string::npos) << r.body;
  EXPECT_FALSE(r.header("location"));
  EXPECT_FALSE(has_session(b));
  // Without any session it is the same page, and nothing to clear.
  Browser stranger(server);
  auto again = stranger.get("/v1/oauth/logout");
  EXPECT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("You are logged out"), std::string::npos);
  EXPECT_TRUE(stranger.last_set_cookies().empty());
}

TEST_F(LogoutTest, NeverRedirectsToAnUnregisteredUri) {
  Browser b(server);
  const auto id_token = log_in_to_shop(b);
  const auto refused = [&](const Params& p) {
    auto r = b.get("/v1/oauth/logout?" + query_string(p));
    EXPECT_EQ(r.status, 400) << query_string(p) << "\n" << r.body;
    EXPECT_FALSE(r.header("location")) << query_string(p);
  };
  refused({{"id_token_hint", id_token}, {"post_logout_redirect_uri", "https://evil.example/"}});
  refused({{"id_token_hint", id_token}, {"post_logout_redirect_uri", kBye + "/"}});  // exact match only
  refused({{"id_token_hint", id_token}, {"post_logout_redirect_uri", kCb}});         // a login redirect URI is not one
  refused({{"post_logout_redirect_uri", kBye}});                                     // no merchant named
  refused({{"client_id", "nobody"}, {"post_logout_redirect_uri", kBye}});
  refused({{"client_id", client.client.id}, {"id_token_hint", id_token}});  // they disagree
  refused({{"id_token_hint", id_token + "x"}});                             // does not verify
  refused({{"id_token_hint", id_token}, {"state", "a"}, {"state", "b"}});
  EXPECT_TRUE(has_session(b)) << "no refused request ended the session";
}

TEST_F(LogoutTest, AConfirmedLogoutWithNowhereToGoIsRedirectedToTheLoggedOutPage) {
  Browser b(server);
  log_in_to_shop(b);
  auto ask = b.get("/v1/oauth/logout");
  ASSERT_EQ(ask.status, 200);
  auto done = b.post("/v1/oauth/logout", form({{"confirm", "1"}}));
  ASSERT_EQ(done.status, 303) << done.body;
  EXPECT_EQ(*done.header("location"), "logout");
  EXPECT_FALSE(has_session(b));
  auto shown = b.get("/v1/oauth/logout");
  EXPECT_EQ(shown.status, 200);
  EXPECT_NE(shown.body.find("You are logged out"), std::string::npos) << shown.body;
}

TEST_F(LogoutTest, OtherMethodsAre405) {
  auto r = server.http().request("DELETE", "/v1/oauth/logout", {}, "");
  EXPECT_EQ(r.status, 405);
}

}  // namespace
}  // namespace boltauth::testing

namespace boltauth::testing {
namespace {

// --- POST-redirect-GET: back and reload never post a login form again --------------------------------------------

TEST_F(AuthorizeTest, EveryLoginFormAnswers303ToTheNextStepsPage) {
  Browser b(server);
  auto page = b.get(authorize_target(base()));
  const auto handle = login_handle(page);
  auto otp = b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "prg@example.com"}}));
  EXPECT_EQ(b.last_post_status(), 303);
  EXPECT_EQ(otp.status, 200);
  EXPECT_NE(otp.body.find("Enter the 6-digit code we sent to <strong>prg@example.com</strong>"), std::string::npos)
      << otp.body;
  auto bad = b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "not an address"}}));
  EXPECT_EQ(b.last_post_status(), 303);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("Enter a valid email address"), std::string::npos);
  auto wrong = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", "000000"}}));
  EXPECT_EQ(b.last_post_status(), 303);
  auto resend = b.post("/v1/oauth/login-resend", form({{"login", handle}}));
  EXPECT_EQ(b.last_post_status(), 303);
  EXPECT_EQ(resend.status, 429);
  EXPECT_TRUE(resend.header("retry-after"));
}

TEST_F(AuthorizeTest, ReloadingTheAnswerToAWrongCodeSpendsNoAttempt) {
  Browser b(server);
  auto page = b.get(authorize_target(base()));
  const auto handle = login_handle(page);
  b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "reload@example.com"}}));
  const auto code = last_otp(server, "reload@example.com");
  const std::string wrong = code == "000000" ? "111111" : "000000";
  // The raw answer: a 303 to a GET page, which is what the browser reloads.
  auto raw = server.http().request("POST", "/v1/oauth/login-otp",
                                   {{"Content-Type", "application/x-www-form-urlencoded"},
                                    {"Sec-Fetch-Site", "same-origin"},
                                    {"Cookie", "boltauth_browser=" + b.cookies().at("boltauth_browser")}},
                                   form({{"login", handle}, {"otp", wrong}}));
  ASSERT_EQ(raw.status, 303) << raw.body;
  const auto location = *raw.header("location");
  EXPECT_EQ(location.rfind("login?login=", 0), 0u) << location;
  EXPECT_EQ(location.find(wrong), std::string::npos) << "no input travels in the URL";
  for (int reload = 0; reload < 3; ++reload) {
    auto shown = b.get("/v1/oauth/" + location);
    EXPECT_EQ(shown.status, 400);
    EXPECT_NE(shown.body.find("That code is not right. 4 attempts left."), std::string::npos) << shown.body;
  }
  // Still four guesses: the right code now works.
  auto done = b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", code}}));
  EXPECT_EQ(done.status, 303);
  EXPECT_FALSE(param(query_params(done.header("location").value_or("")), "code").empty());
  // Going back to the code page after the login shows a dead end, never a resubmission.
  auto back = b.get("/v1/oauth/" + location);
  EXPECT_EQ(back.status, 400);
  EXPECT_EQ(back.body.find("<form"), std::string::npos) << back.body;
}

TEST_F(AuthorizeTest, TheStepPageIsBoundToTheBrowserAndIgnoresUnknownMessages) {
  Browser b(server), other(server);
  auto page = b.get(authorize_target(base()));
  const auto handle = login_handle(page);
  b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "bound@example.com"}}));
  EXPECT_EQ(other.get("/v1/oauth/login?login=" + handle).status, 400) << "another browser cannot see it";
  auto odd = b.get("/v1/oauth/login?login=" + handle + "&m=%3Cscript%3E");
  EXPECT_EQ(odd.status, 200);
  EXPECT_EQ(odd.body.find("<script"), std::string::npos);
  EXPECT_EQ(b.get("/v1/oauth/login").status, 400);
}

}  // namespace
}  // namespace boltauth::testing
