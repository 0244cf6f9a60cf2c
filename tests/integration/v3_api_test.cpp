// Bolt's v3 API under /v3, as Bolt's v3 SDKs speak it: every row of the v3 contract, over real HTTP. Every 4xx
// body is ErrorT {".tag","message"} or FieldError {".tag":"invalid_input_parameter","message","field"}.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

class V3Test : public ::testing::Test {
 protected:
  TestServer server;
  core::CreatedClient client = server.create_client();

  // Checks an ErrorT / FieldError answer: status, tag, a message, the field when given, no-store, nothing else.
  static void expect_v3(const HttpResponse& res, int status, const std::string& tag, const std::string& field = {}) {
    EXPECT_EQ(res.status, status) << res.body;
    const auto json = res.json();
    ASSERT_TRUE(json.is_object()) << res.body;
    const auto& o = json.as_object();
    ASSERT_TRUE(o.contains(".tag")) << res.body;
    EXPECT_EQ(o.at(".tag").as_string(), tag) << res.body;
    ASSERT_TRUE(o.contains("message") && o.at("message").is_string()) << res.body;
    EXPECT_FALSE(o.at("message").as_string().empty());
    if (field.empty()) {
      EXPECT_EQ(o.size(), 2u) << res.body;
    } else {
      EXPECT_EQ(o.size(), 3u) << res.body;
      EXPECT_EQ(o.at("field").as_string(), field) << res.body;
    }
    EXPECT_EQ(res.header("cache-control"), "no-store");
  }
  std::vector<std::pair<std::string, std::string>> creds(const core::CreatedClient& c) {
    return {{"client_id", c.client.publishable_key}, {"client_secret", c.client_secret}};
  }
  HttpResponse token(std::vector<std::pair<std::string, std::string>> params, Headers headers = {}) {
    return server.http().post_form("/v3/oauth/token", form(params), std::move(headers));
  }
  std::vector<std::pair<std::string, std::string>> code_request(const std::string& code,
                                                                const std::string& scope = "openid") {
    auto p = creds(client);
    p.insert(p.begin(), {{"grant_type", "authorization_code"}, {"code", code}});
    p.emplace_back("scope", scope);
    return p;
  }
  std::string access_token(const std::string& scope) {
    auto res = token(code_request(server.sandbox_code(client), scope));
    EXPECT_EQ(res.status, 200) << res.body;
    return std::string(res.json().as_object().at("access_token").as_string());
  }
  Headers bearer(const std::string& t) {
    return {{"Authorization", "Bearer " + t}, {"Content-Type", "application/json"}, {"X-Merchant-Client-Id", "x"}};
  }
};

// --- section 2: the token request ----------------------------------------------------------------------------
TEST_F(V3Test, TheSdksExampleExchangesASandboxCodeWithAStateAndAJsonArrayScope) {
  // The SDK sends `state` with every exchange and the scope array as raw JSON.
  auto p = code_request(server.sandbox_code(client), R"(["bolt.account.manage","openid"])");
  p.emplace_back("state", "xyzABC123");
  auto res = token(p, {{"X-Merchant-Client-Id", client.client.publishable_key}});
  ASSERT_EQ(res.status, 200) << res.body;
  const auto o = res.json().as_object();
  std::set<std::string> keys;
  for (const auto& [k, v] : o) keys.insert(std::string(k));
  EXPECT_EQ(keys, (std::set<std::string>{"access_token", "expires_in", "id_token", "refresh_token",
                                         "refresh_token_scope", "scope", "token_type"}));
  EXPECT_EQ(res.header("cache-control"), "no-store");
}

TEST_F(V3Test, ACodeIssuedWithAStateNeedsTheSameStateWhenOneIsSent) {
  TestServer::CodeSpec spec;
  spec.state = "s-123";
  auto with_state = [&](const std::string& code, const std::string& state) {
    auto p = code_request(code);
    if (!state.empty()) p.emplace_back("state", state);
    return token(p);
  };
  EXPECT_EQ(with_state(server.insert_code(client, spec), "s-123").status, 200);
  EXPECT_EQ(with_state(server.insert_code(client, spec), "").status, 200) << "state absent: not checked";
  expect_v3(with_state(server.insert_code(client, spec), "other"), 422, "unprocessable_request");
  // On v1 the same rule (Bolt's statuses, v1 body).
  auto p = code_request(server.sandbox_code(client));
  p.emplace_back("state", "anything");
  EXPECT_EQ(server.http().post_form("/v1/oauth/token", form(p)).status, 200) << "a code without state takes any";
}

// --- section 1: the error mapping, one row each -----------------------------------------------------------------
TEST_F(V3Test, MissingParametersAreFieldErrorsNamingTheField) {
  auto p = creds(client);
  p.emplace_back("code", "x");
  expect_v3(token(p), 400, "invalid_input_parameter", "grant_type");
  p = creds(client);
  p.emplace_back("grant_type", "authorization_code");
  expect_v3(token(p), 400, "invalid_input_parameter", "code");
  p = creds(client);
  p.emplace_back("grant_type", "refresh_token");
  expect_v3(token(p), 400, "invalid_input_parameter", "refresh_token");
  auto q = code_request(server.sandbox_code(client));
  q.emplace_back("code_verifier", "short");
  expect_v3(token(q), 400, "invalid_input_parameter", "code_verifier");
  // A repeated parameter is named too.
  expect_v3(server.http().post_form("/v3/oauth/token", form(code_request("x")) + "&scope=openid"), 400,
            "invalid_input_parameter", "scope");
}

TEST_F(V3Test, MissingScopeWhenRequiredIsAFieldErrorAndV1NamesItToo) {
  TestServer strict([](server::AppOptions& o) { o.config.token_scope_required = true; });
  auto c = strict.create_client();
  auto p = creds(c);
  p.insert(p.begin(), {{"grant_type", "authorization_code"}, {"code", strict.sandbox_code(c)}});
  expect_v3(strict.http().post_form("/v3/oauth/token", form(p)), 400, "invalid_input_parameter", "scope");
  auto v1 = strict.http().post_form("/v1/oauth/token", form(p));
  EXPECT_EQ(v1.status, 400);
  EXPECT_EQ(v1.json().as_object().at("error").as_string(), "invalid_request");
  EXPECT_NE(std::string(v1.json().as_object().at("error_description").as_string()).find("scope"), std::string::npos)
      << v1.body;
}

TEST_F(V3Test, InvalidScopeIsAFieldErrorOnScope) {
  expect_v3(token(code_request(server.sandbox_code(client), "openid bogus.scope")), 400, "invalid_input_parameter",
            "scope");
}

TEST_F(V3Test, InvalidClientIsUnauthorized) {
  auto p = code_request("x");
  p[3].second = "wrong-secret";
  expect_v3(token(p), 401, "unauthorized");
  auto no_creds = token({{"grant_type", "authorization_code"}, {"code", "x"}, {"scope", "openid"}});
  expect_v3(no_creds, 401, "unauthorized");
}

TEST_F(V3Test, GrantTypeRefusalsAreForbiddenAndAMalformedOneIsAFieldError) {
  auto p = code_request("x");
  p[0].second = "password";
  expect_v3(token(p), 403, "forbidden");
  p[0].second = "not a grant!";
  expect_v3(token(p), 400, "invalid_input_parameter", "grant_type");
  // A grant the client may not use (request_forbidden).
  auto cc_only = server.create_client({}, {"client_credentials"});
  auto q = creds(cc_only);
  q.insert(q.begin(), {{"grant_type", "authorization_code"}, {"code", "x"}});
  expect_v3(token(q), 403, "forbidden");
}

TEST_F(V3Test, InvalidGrantIsUnprocessable) {
  const std::string code = server.sandbox_code(client);
  EXPECT_EQ(token(code_request(code)).status, 200);
  expect_v3(token(code_request(code)), 422, "unprocessable_request");  // reused
  expect_v3(token(code_request("not-a-code")), 422, "unprocessable_request");
}

TEST_F(V3Test, RateLimitIsUnprocessableWithRetryAfter) {
  TestServer limited([](server::AppOptions& o) { o.config.token_rate_limit_per_client = 1; });
  auto c = limited.create_client();
  auto p = creds(c);
  p.insert(p.begin(), {{"grant_type", "authorization_code"}, {"code", "x"}, {"scope", "openid"}});
  limited.http().post_form("/v3/oauth/token", form(p));
  auto res = limited.http().post_form("/v3/oauth/token", form(p));
  expect_v3(res, 429, "unprocessable_request");
  EXPECT_TRUE(res.header("retry-after"));
}

TEST_F(V3Test, WrongMethodAndContentTypeAreV3Bodies) {
  auto res = server.http().get("/v3/oauth/token");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.header("allow"), "POST");
  expect_v3(res, 405, "unprocessable_request");
  res = server.http().request("POST", "/v3/oauth/token", {{"Content-Type", "application/json"}}, "{}");
  expect_v3(res, 400, "unprocessable_request");
}

// --- section 3: account and sandbox paths ------------------------------------------------------------------------
TEST_F(V3Test, AccountAndAddressBookRoundTrip) {
  const std::string t = access_token("bolt.account.manage openid");
  auto res = server.http().get("/v3/account", bearer(t));
  ASSERT_EQ(res.status, 200) << res.body;
  auto account = res.json().as_object();
  EXPECT_TRUE(account.at("addresses").as_array().empty());
  EXPECT_TRUE(account.at("payment_methods").as_array().empty());
  const auto& profile = account.at("profile").as_object();
  for (const char* k : {"first_name", "last_name", "email"}) EXPECT_TRUE(profile.at(k).is_string()) << k;

  const boost::json::object input{{"first_name", "Ada"},  {"last_name", "Lovelace"}, {"street_address1", "1 Main St"},
                                  {"locality", "London"}, {"postal_code", "N1 9GU"}, {"country_code", "GB"},
                                  {"company", "Engines"}};
  res = server.http().request("POST", "/v3/account/addresses", bearer(t), boost::json::serialize(input));
  ASSERT_EQ(res.status, 200) << res.body;
  auto listing = res.json().as_object();
  const std::string id(listing.at("id").as_string());
  EXPECT_EQ(listing.at("is_default").as_bool(), true);
  EXPECT_EQ(listing.at("company").as_string(), "Engines");
  for (const auto& [k, v] : input) EXPECT_EQ(listing.at(k), v) << k;

  auto edited_input = input;
  edited_input["locality"] = "Cambridge";
  res = server.http().request("PUT", "/v3/account/addresses/" + id, bearer(t), boost::json::serialize(edited_input));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json().as_object().at("locality").as_string(), "Cambridge");
  EXPECT_EQ(res.json().as_object().at("id").as_string(), id);

  res = server.http().get("/v3/account", bearer(t));
  ASSERT_EQ(res.json().as_object().at("addresses").as_array().size(), 1u);
  EXPECT_EQ(res.json().as_object().at("addresses").as_array()[0].as_object().at("locality").as_string(), "Cambridge");

  res = server.http().request("DELETE", "/v3/account/addresses/" + id, bearer(t));
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(res.body.empty());
  expect_v3(server.http().request("DELETE", "/v3/account/addresses/" + id, bearer(t)), 404, "not_found");
  expect_v3(server.http().request("PUT", "/v3/account/addresses/" + id, bearer(t), boost::json::serialize(input)), 404,
            "not_found");
}

TEST_F(V3Test, AccountErrorsAreV3Bodies) {
  const boost::json::object input{{"first_name", "Ada"},  {"last_name", "Lovelace"}, {"street_address1", "1 Main St"},
                                  {"locality", "London"}, {"postal_code", "N1 9GU"}, {"country_code", "GB"}};
  const std::string body = boost::json::serialize(input);
  expect_v3(server.http().get("/v3/account"), 401, "unauthorized");
  expect_v3(server.http().get("/v3/account", bearer("garbage")), 401, "unauthorized");
  // Scope: a view token reads but cannot write.
  const std::string view = access_token("bolt.account.view");
  EXPECT_EQ(server.http().get("/v3/account", bearer(view)).status, 200);
  expect_v3(server.http().request("POST", "/v3/account/addresses", bearer(view), body), 403, "forbidden");
  expect_v3(server.http().get("/v3/account", bearer(access_token("openid"))), 403, "forbidden");
  // Input: a FieldError naming the field; other media types 415.
  const std::string manage = access_token("bolt.account.manage");
  auto bad = input;
  bad["country_code"] = "ZZ";
  expect_v3(server.http().request("POST", "/v3/account/addresses", bearer(manage), boost::json::serialize(bad)), 400,
            "invalid_input_parameter", "country_code");
  bad = input;
  bad.erase("postal_code");
  expect_v3(server.http().request("POST", "/v3/account/addresses", bearer(manage), boost::json::serialize(bad)), 400,
            "invalid_input_parameter", "postal_code");
  expect_v3(server.http().request("POST", "/v3/account/addresses",
                                  {{"Authorization", "Bearer " + manage}, {"Content-Type", "text/plain"}}, body),
            415, "unprocessable_request");
  // v3 makes region and email optional (v1 requires them).
  EXPECT_EQ(server.http().request("POST", "/v3/account/addresses", bearer(manage), body).status, 200);
  // Wrong method: 405 in v3's words.
  auto res = server.http().request("PATCH", "/v3/account", bearer(manage), "{}");
  expect_v3(res, 405, "unprocessable_request");
}

TEST_F(V3Test, PaymentsOrdersAndTestCardsAreNotFound) {
  for (const char* path : {"/v3/account/payment-methods", "/v3/payments", "/v3/orders", "/v3/testing/credit-cards",
                           "/v3/account/payment-methods/abc", "/v3/nothing"})
    expect_v3(server.http().request("POST", path, {{"Content-Type", "application/json"}}, "{}"), 404, "not_found");
}

TEST_F(V3Test, SandboxTestAccountsAndPhones) {
  const Headers key{{"X-API-Key", client.client_secret},
                    {"X-Publishable-Key", client.client.publishable_key},
                    {"Content-Type", "application/json"}};
  auto res = server.http().request("POST", "/v3/testing/accounts", key,
                                   R"({"email_state":"verified","phone_state":"unverified","has_address":true,)"
                                   R"("is_migrated":true,"has_credit_card":false})");
  ASSERT_EQ(res.status, 200) << res.body;
  const auto o = res.json().as_object();
  for (const char* k : {"email", "email_state", "phone", "phone_state", "otp_code", "oauth_code"})
    EXPECT_TRUE(o.at(k).is_string()) << k;
  EXPECT_EQ(o.at("phone_state").as_string(), "unverified");
  // Its code exchanges at /v3/oauth/token, and has_address gave the account one default address.
  auto tok = token(code_request(std::string(o.at("oauth_code").as_string()), "bolt.account.view"));
  ASSERT_EQ(tok.status, 200) << tok.body;
  auto account =
      server.http().get("/v3/account", bearer(std::string(tok.json().as_object().at("access_token").as_string())));
  ASSERT_EQ(account.status, 200) << account.body;
  ASSERT_EQ(account.json().as_object().at("addresses").as_array().size(), 1u);
  EXPECT_EQ(account.json().as_object().at("addresses").as_array()[0].as_object().at("is_default").as_bool(), true);
  // phone_state missing gives an empty phone string.
  res = server.http().request("POST", "/v3/testing/accounts", key,
                              R"({"email_state":"verified","phone_state":"missing"})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json().as_object().at("phone").as_string(), "");

  res = server.http().get("/v3/testing/accounts/phones", key);
  ASSERT_EQ(res.status, 200) << res.body;
  const std::string phone(res.json().as_object().at("phone").as_string());
  EXPECT_EQ(phone.rfind("+1555", 0), 0u) << phone;
  EXPECT_EQ(phone.size(), 12u);

  // Errors.
  expect_v3(server.http().request("POST", "/v3/testing/accounts", {{"Content-Type", "application/json"}},
                                  R"({"email_state":"verified","phone_state":"verified"})"),
            401, "unauthorized");
  expect_v3(server.http().get("/v3/testing/accounts/phones", {{"X-API-Key", "nope"}}), 401, "unauthorized");
  expect_v3(server.http().request("POST", "/v3/testing/accounts", key, R"({"phone_state":"verified"})"), 400,
            "invalid_input_parameter", "email_state");
  expect_v3(server.http().request("POST", "/v3/testing/accounts", key,
                                  R"({"email_state":"sometimes","phone_state":"verified"})"),
            400, "invalid_input_parameter", "email_state");
  expect_v3(server.http().request("POST", "/v3/testing/accounts", key,
                                  R"({"email_state":"missing","phone_state":"verified"})"),
            422, "unprocessable_request");
}

TEST_F(V3Test, SandboxPathsAreNotFoundInProduction) {
  TestServer production([](server::AppOptions& o) { o.config.mode = core::Mode::production; });
  expect_v3(production.http().request("POST", "/v3/testing/accounts", {{"Content-Type", "application/json"}}, "{}"),
            404, "not_found");
  expect_v3(production.http().get("/v3/testing/accounts/phones"), 404, "not_found");
}

}  // namespace
}  // namespace boltauth::testing
