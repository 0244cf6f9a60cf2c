#include "protocol/models.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/form.hpp"

namespace boltauth::models {
namespace {
namespace json = boost::json;

std::string read_spec() {
  std::ifstream in(BOLTAUTH_SPEC_DIR "/bolt-api-v1.openapi.yaml", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string& spec() {
  static const std::string text = read_spec();
  return text;
}

json::value parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << ec.message() << " in " << text;
  return v;
}

// JSON equivalents of the OpenAPI examples (paths./v1/oauth/token and components.responses.oauth_*).
constexpr std::string_view kAuthorizationCodeResponse = R"({
  "access_token": "$ACCESS_TOKEN",
  "expires_in": 3600,
  "id_token": "$ID_TOKEN",
  "refresh_token": "$REFRESH_TOKEN",
  "refresh_token_scope": "bolt.account.view",
  "scope": "bolt.account.manage",
  "token_type": "bearer"
})";

constexpr std::string_view kRefreshTokenResponse = R"({
  "access_token": "$NEW_ACCESS_TOKEN",
  "expires_in": 3600,
  "refresh_token": "$NEW_REFRESH_TOKEN",
  "refresh_token_scope": "bolt.account.view",
  "scope": "bolt.account.view",
  "token_type": "bearer"
})";

constexpr std::string_view kInvalidRequestSentence =
    "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more "
    "than once, or is otherwise malformed.";
constexpr std::string_view kInvalidScopeSentence = "The request scope is invalid, unknown, or malformed.";
constexpr std::string_view kRequestForbiddenSentence =
    "The request is forbidden. You are not allowed to perform this action.";
constexpr std::string_view kUnsupportedGrantSentence =
    "The grant type is not supported by Bolt\u2019s authorization server.";  // typographic apostrophe, as in the file
constexpr std::string_view kInvalidGrantSentence =
    "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is "
    "invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued "
    "to another client.";

constexpr std::string_view kOauthCode =
    "7GSjMRSHs6Ak7C_zvVW6P2IhZOHxMK7HZKW1fMX85ms.-DUXvwr1Yg-bfvqXUlMaz49fPn7OdiPa3TwVBlUI-wc";

json::object error_example(std::string_view error, std::string_view description) {
  json::object o;
  o["error"] = error;
  o["error_description"] = description;
  return o;
}

json::object testing_account_details_example() {
  // Property examples of testing_account_details (email and phone from the referenced schemas).
  json::object o;
  o["email"] = "alan.watts@example.com";
  o["email_state"] = "verified";
  o["phone"] = "+12125550199";
  o["phone_state"] = "unverified";
  o["otp_code"] = "123456";
  o["migrated_merchant_owner_id"] = "addvfRR_bp_7";
  o["will_deactivate_at"] = "2023-06-01T23:16:07Z";
  o["oauth_code"] = kOauthCode;
  return o;
}

TEST(ModelsSpec, SpecFileHasTheExamples) {
  const std::string& text = spec();
  ASSERT_FALSE(text.empty()) << "could not read " BOLTAUTH_SPEC_DIR "/bolt-api-v1.openapi.yaml";
  EXPECT_NE(text.find("authorization_code_response:"), std::string::npos);
  EXPECT_NE(text.find("refresh_token_response:"), std::string::npos);
  EXPECT_NE(text.find("refresh_token_scope: bolt.account.view"), std::string::npos);
  EXPECT_NE(text.find("expires_in: 3600"), std::string::npos);
  EXPECT_NE(text.find("access_token: $NEW_ACCESS_TOKEN"), std::string::npos);
  EXPECT_NE(text.find("oauth_400:"), std::string::npos);
  EXPECT_NE(text.find("oauth_403:"), std::string::npos);
  EXPECT_NE(text.find("oauth_422:"), std::string::npos);
  EXPECT_NE(text.find("error_description: " + std::string(kInvalidRequestSentence)), std::string::npos);
  EXPECT_NE(text.find("error_description: " + std::string(kInvalidScopeSentence)), std::string::npos);
  EXPECT_NE(text.find("error_description: " + std::string(kRequestForbiddenSentence)), std::string::npos);
  EXPECT_NE(text.find("error_description: " + std::string(kUnsupportedGrantSentence)), std::string::npos);
  EXPECT_NE(text.find("error_description: " + std::string(kInvalidGrantSentence)), std::string::npos);
  EXPECT_NE(text.find("example: " + std::string(kOauthCode)), std::string::npos);
  EXPECT_NE(text.find("example: addvfRR_bp_7"), std::string::npos);
  EXPECT_NE(text.find("example: '2023-06-01T23:16:07Z'"), std::string::npos);
  EXPECT_NE(text.find("example: alan.watts@example.com"), std::string::npos);
  EXPECT_NE(text.find("example: '+12125550199'"), std::string::npos);
}

TEST(ModelsSpec, RefreshExampleInSpecHasNoIdToken) {
  const std::string& text = spec();
  const auto start = text.find("refresh_token_response:");
  ASSERT_NE(start, std::string::npos);
  const auto end = text.find("schema:", start);
  ASSERT_NE(end, std::string::npos);
  const std::string block = text.substr(start, end - start);
  EXPECT_EQ(block.find("id_token"), std::string::npos) << block;
  EXPECT_NE(block.find("refresh_token_scope: bolt.account.view"), std::string::npos) << block;
}

TEST(OAuthTokenResponse, AuthorizationCodeExampleRoundTrips) {
  const json::value original = parse_json(kAuthorizationCodeResponse);
  const auto model = oauth_token_response_from_json(original);
  ASSERT_TRUE(model.has_value());
  EXPECT_EQ(model->access_token, "$ACCESS_TOKEN");
  EXPECT_EQ(model->expires_in, 3600);
  EXPECT_EQ(model->id_token, "$ID_TOKEN");
  EXPECT_EQ(model->refresh_token, "$REFRESH_TOKEN");
  EXPECT_EQ(model->refresh_token_scope, "bolt.account.view");
  EXPECT_EQ(model->scope, "bolt.account.manage");
  EXPECT_EQ(model->token_type, "bearer");
  const json::object out = to_json(*model);
  EXPECT_EQ(json::value(out), original) << json::serialize(out);
  // And through text.
  const json::value reparsed = parse_json(models::serialize(out));
  EXPECT_EQ(reparsed, original);
  EXPECT_EQ(oauth_token_response_from_json(reparsed), model);
}

TEST(OAuthTokenResponse, RefreshExampleRoundTripsWithoutIdToken) {
  const json::value original = parse_json(kRefreshTokenResponse);
  const auto model = oauth_token_response_from_json(original);
  ASSERT_TRUE(model.has_value());
  EXPECT_FALSE(model->id_token.has_value());
  EXPECT_EQ(model->refresh_token_scope, "bolt.account.view");
  EXPECT_EQ(model->scope, "bolt.account.view");
  const json::object out = to_json(*model);
  EXPECT_FALSE(out.contains("id_token")) << json::serialize(out);
  EXPECT_EQ(out.size(), 6U);
  EXPECT_EQ(json::value(out), original) << json::serialize(out);
}

TEST(OAuthTokenResponse, ExpiresInIsAnInteger) {
  OAuthTokenResponse r;
  r.expires_in = 3600;
  r.token_type = "bearer";
  const json::object out = to_json(r);
  ASSERT_TRUE(out.contains("expires_in"));
  EXPECT_TRUE(out.at("expires_in").is_int64());
  EXPECT_EQ(out.at("expires_in").as_int64(), 3600);
  EXPECT_EQ(models::serialize(out).find("\"3600\""), std::string::npos);
  EXPECT_NE(models::serialize(out).find("\"expires_in\":3600"), std::string::npos) << models::serialize(out);
}

TEST(OAuthTokenResponse, WrongTypesAreRejected) {
  EXPECT_FALSE(oauth_token_response_from_json(parse_json(R"({"expires_in":"3600"})")).has_value());
  EXPECT_FALSE(oauth_token_response_from_json(parse_json(R"({"expires_in":true})")).has_value());
  EXPECT_FALSE(oauth_token_response_from_json(parse_json(R"({"access_token":123})")).has_value());
  EXPECT_FALSE(oauth_token_response_from_json(parse_json(R"({"token_type":["bearer"]})")).has_value());
  EXPECT_FALSE(oauth_token_response_from_json(parse_json(R"({"scope":{"a":1}})")).has_value());
  // The full example with only expires_in turned into a string.
  json::value v = parse_json(kAuthorizationCodeResponse);
  v.as_object()["expires_in"] = "3600";
  EXPECT_FALSE(oauth_token_response_from_json(v).has_value());
  // Not an object.
  EXPECT_FALSE(oauth_token_response_from_json(parse_json("[]")).has_value());
  EXPECT_FALSE(oauth_token_response_from_json(parse_json("\"x\"")).has_value());
}

TEST(OAuthTokenResponse, UnknownMembersAreIgnoredAndAbsentOmitted) {
  const auto model = oauth_token_response_from_json(parse_json(R"({"access_token":"a","extra":{"x":1}})"));
  ASSERT_TRUE(model.has_value());
  EXPECT_EQ(model->access_token, "a");
  EXPECT_FALSE(model->expires_in.has_value());
  const json::object out = to_json(*model);
  EXPECT_EQ(json::value(out), parse_json(R"({"access_token":"a"})"));
  EXPECT_TRUE(to_json(OAuthTokenResponse{}).empty());
}

TEST(ErrorsOauthServerResponse, SpecExamplesRoundTrip) {
  const json::object examples[] = {
      error_example("invalid_request", kInvalidRequestSentence),           // oauth_400
      error_example("invalid_scope", kInvalidScopeSentence),               // oauth_400
      error_example("request_forbidden", kRequestForbiddenSentence),       // oauth_403
      error_example("unsupported_grant_type", kUnsupportedGrantSentence),  // oauth_403
      error_example("invalid _grant", kInvalidGrantSentence),              // oauth_422, spelled as in the file
  };
  for (const auto& example : examples) {
    const json::value original(example);
    const auto model = errors_oauth_server_response_from_json(original);
    ASSERT_TRUE(model.has_value()) << json::serialize(original);
    EXPECT_EQ(model->error, std::string(example.at("error").as_string()));
    EXPECT_EQ(model->error_description, std::string(example.at("error_description").as_string()));
    EXPECT_EQ(json::value(to_json(*model)), original);
    EXPECT_EQ(parse_json(models::serialize(to_json(*model))), original);
  }
}

TEST(ErrorsOauthServerResponse, WrongTypesAreRejected) {
  EXPECT_FALSE(errors_oauth_server_response_from_json(parse_json(R"({"error":400})")).has_value());
  EXPECT_FALSE(
      errors_oauth_server_response_from_json(parse_json(R"({"error":"x","error_description":["a"]})")).has_value());
  EXPECT_FALSE(errors_oauth_server_response_from_json(parse_json("null")).has_value());
}

TEST(TestingAccountDetails, ExampleRoundTrips) {
  const json::value original(testing_account_details_example());
  const auto model = testing_account_details_from_json(original);
  ASSERT_TRUE(model.has_value());
  EXPECT_EQ(model->email, "alan.watts@example.com");
  EXPECT_EQ(model->email_state, "verified");
  EXPECT_EQ(model->phone, "+12125550199");
  EXPECT_EQ(model->phone_state, "unverified");
  EXPECT_EQ(model->otp_code, "123456");
  EXPECT_EQ(model->migrated_merchant_owner_id, "addvfRR_bp_7");
  EXPECT_EQ(model->will_deactivate_at, "2023-06-01T23:16:07Z");
  EXPECT_EQ(model->oauth_code, std::string(kOauthCode));
  EXPECT_EQ(json::value(to_json(*model)), original) << models::serialize(to_json(*model));
  EXPECT_EQ(parse_json(models::serialize(to_json(*model))), original);
}

TEST(TestingAccountDetails, OtpCodeIsAString) {
  // The schema says type: string (the YAML example 123456 is unquoted, but JSON must carry a string).
  json::object o = testing_account_details_example();
  o["otp_code"] = 123456;
  EXPECT_FALSE(testing_account_details_from_json(o).has_value());
  o["otp_code"] = "123456";
  o["oauth_code"] = 1;
  EXPECT_FALSE(testing_account_details_from_json(o).has_value());
}

TEST(TestingAccountRequest, SchemaExampleParses) {
  const auto r = testing_account_request_from_json(
      parse_json(R"({"deactivate_in_days":30,"email_state":"verified","phone_state":"verified"})"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->deactivate_in_days, 30);
  EXPECT_EQ(r->email_state, "verified");
  EXPECT_EQ(r->phone_state, "verified");
  EXPECT_FALSE(r->has_address.has_value());
  EXPECT_FALSE(r->migrated.has_value());

  const auto b = testing_account_request_from_json(parse_json(R"({"has_address":true,"migrated":false})"));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->has_address, true);
  EXPECT_EQ(b->migrated, false);

  EXPECT_FALSE(testing_account_request_from_json(parse_json(R"({"deactivate_in_days":"30"})")).has_value());
  EXPECT_FALSE(testing_account_request_from_json(parse_json(R"({"has_address":"true"})")).has_value());
  EXPECT_FALSE(testing_account_request_from_json(parse_json(R"({"migrated":1})")).has_value());
}

// ---- token request bodies ----

OAuthTokenInput code_input() {
  // The spec's authorization_code_request example, with a state.
  OAuthTokenInput in;
  in.client_id = "PUBLISHABLE_KEY_PLACEHOLDER";
  in.client_secret = "API_KEY_PLACEHOLDER";
  in.code = "AUTH_CODE_PLACEHOLDER";
  in.scope = "bolt.account.manage+openid";
  in.state = "xyz";
  return in;
}

OAuthTokenInputRefresh refresh_input() {
  OAuthTokenInputRefresh in;
  in.client_id = "PUBLISHABLE_KEY_PLACEHOLDER";
  in.client_secret = "API_KEY_PLACEHOLDER";
  in.refresh_token = "REFRESH_TOKEN_PLACEHOLDER";
  in.scope = "bolt.account.view";
  return in;
}

std::optional<OAuthTokenRequestBody> via_form(const OAuthTokenRequestBody& body) {
  const std::string form = to_form(body);
  const auto parsed = protocol::parse_form(form, 32);
  EXPECT_TRUE(parsed.params.has_value()) << form << " " << parsed.debug;
  if (!parsed.params) return std::nullopt;
  return token_request_from_form(*parsed.params);
}

protocol::FormParams form_of(std::string_view body) {
  const auto parsed = protocol::parse_form(body, 32);
  EXPECT_TRUE(parsed.params.has_value()) << body;
  return parsed.params.value_or(protocol::FormParams{});
}

TEST(OAuthTokenInput, FormRoundTrip) {
  const OAuthTokenInput in = code_input();
  const std::string form = to_form(OAuthTokenRequestBody{in});
  EXPECT_NE(form.find("grant_type=authorization_code"), std::string::npos) << form;
  EXPECT_NE(form.find("scope=bolt.account.manage%2Bopenid"), std::string::npos) << form;
  const auto back = via_form(in);
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(std::holds_alternative<OAuthTokenInput>(*back));
  EXPECT_EQ(std::get<OAuthTokenInput>(*back), in);

  OAuthTokenInput no_state = in;
  no_state.state.reset();
  EXPECT_EQ(to_form(OAuthTokenRequestBody{no_state}).find("state"), std::string::npos);
  const auto back2 = via_form(no_state);
  ASSERT_TRUE(back2.has_value());
  ASSERT_TRUE(std::holds_alternative<OAuthTokenInput>(*back2));
  EXPECT_EQ(std::get<OAuthTokenInput>(*back2), no_state);
}

TEST(OAuthTokenInput, FormRoundTripOfAwkwardValues) {
  OAuthTokenInput in;
  in.client_id = "id with space";
  in.client_secret = "s&e=c+r%e t\xC3\xA9";
  in.code = "7GSjMRSHs6Ak7C_zvVW6P2IhZOHxMK7HZKW1fMX85ms.-DUXvwr1Yg-bfvqXUlMaz49fPn7OdiPa3TwVBlUI-wc";
  in.scope = R"(["bolt.account.manage","openid"])";
  in.state = "a=b&c=d";
  const auto back = via_form(in);
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(std::holds_alternative<OAuthTokenInput>(*back));
  EXPECT_EQ(std::get<OAuthTokenInput>(*back), in);
}

TEST(OAuthTokenInputRefresh, FormRoundTrip) {
  OAuthTokenInputRefresh in = refresh_input();
  const std::string form = to_form(OAuthTokenRequestBody{in});
  EXPECT_NE(form.find("grant_type=refresh_token"), std::string::npos) << form;
  const auto back = via_form(in);
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(std::holds_alternative<OAuthTokenInputRefresh>(*back));
  EXPECT_EQ(std::get<OAuthTokenInputRefresh>(*back), in);

  in.state = "st 1+2";
  in.scope = "bolt.account.view openid";
  const auto back2 = via_form(in);
  ASSERT_TRUE(back2.has_value());
  ASSERT_TRUE(std::holds_alternative<OAuthTokenInputRefresh>(*back2));
  EXPECT_EQ(std::get<OAuthTokenInputRefresh>(*back2), in);
}

TEST(OAuthTokenInput, SpecFormExampleParses) {
  // The requestBody example written as a browser/SDK would: the literal '+' in the scope example becomes %2B.
  const auto body = token_request_from_form(
      form_of("client_id=PUBLISHABLE_KEY_PLACEHOLDER&client_secret=API_KEY_PLACEHOLDER&code=AUTH_CODE_PLACEHOLDER"
              "&grant_type=authorization_code&scope=bolt.account.manage%2Bopenid"));
  ASSERT_TRUE(body.has_value());
  ASSERT_TRUE(std::holds_alternative<OAuthTokenInput>(*body));
  OAuthTokenInput expected = code_input();
  expected.state.reset();
  EXPECT_EQ(std::get<OAuthTokenInput>(*body), expected);

  const auto refresh = token_request_from_form(
      form_of("client_id=PUBLISHABLE_KEY_PLACEHOLDER&client_secret=API_KEY_PLACEHOLDER&grant_type=refresh_token"
              "&refresh_token=REFRESH_TOKEN_PLACEHOLDER&scope=bolt.account.view"));
  ASSERT_TRUE(refresh.has_value());
  ASSERT_TRUE(std::holds_alternative<OAuthTokenInputRefresh>(*refresh));
  EXPECT_EQ(std::get<OAuthTokenInputRefresh>(*refresh), refresh_input());
}

TEST(OAuthTokenInput, JsonRoundTrip) {
  const OAuthTokenInput in = code_input();
  const json::object o = to_json(in);
  EXPECT_EQ(json::value(o), parse_json(R"({"client_id":"PUBLISHABLE_KEY_PLACEHOLDER",
      "client_secret":"API_KEY_PLACEHOLDER","code":"AUTH_CODE_PLACEHOLDER","grant_type":"authorization_code",
      "scope":"bolt.account.manage+openid","state":"xyz"})"));
  const auto back = oauth_token_input_from_json(o);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, in);
  EXPECT_EQ(oauth_token_input_from_json(parse_json(models::serialize(o))), in);

  OAuthTokenInput no_state = in;
  no_state.state.reset();
  EXPECT_FALSE(to_json(no_state).contains("state"));
  EXPECT_EQ(oauth_token_input_from_json(to_json(no_state)), no_state);
  // The refresh decoder does not accept an authorization_code body.
  EXPECT_FALSE(oauth_token_input_refresh_from_json(o).has_value());
}

TEST(OAuthTokenInputRefresh, JsonRoundTrip) {
  OAuthTokenInputRefresh in = refresh_input();
  in.state = "s";
  const json::object o = to_json(in);
  EXPECT_EQ(json::value(o), parse_json(R"({"client_id":"PUBLISHABLE_KEY_PLACEHOLDER",
      "client_secret":"API_KEY_PLACEHOLDER","grant_type":"refresh_token","refresh_token":"REFRESH_TOKEN_PLACEHOLDER",
      "scope":"bolt.account.view","state":"s"})"));
  const auto back = oauth_token_input_refresh_from_json(o);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, in);
  EXPECT_EQ(oauth_token_input_refresh_from_json(parse_json(models::serialize(o))), in);
  EXPECT_FALSE(oauth_token_input_from_json(o).has_value());
}

TEST(OAuthTokenInput, JsonRejectsMissingOrMistypedFields) {
  json::object o = to_json(code_input());
  for (std::string_view key : {"client_id", "client_secret", "code", "grant_type", "scope"}) {
    json::object missing = o;
    missing.erase(key);
    EXPECT_FALSE(oauth_token_input_from_json(missing).has_value()) << "without " << key;
    json::object mistyped = o;
    mistyped[key] = 1;
    EXPECT_FALSE(oauth_token_input_from_json(mistyped).has_value()) << "numeric " << key;
  }
  o["state"] = 5;
  EXPECT_FALSE(oauth_token_input_from_json(o).has_value());
  json::object r = to_json(refresh_input());
  r.erase("refresh_token");
  EXPECT_FALSE(oauth_token_input_refresh_from_json(r).has_value());
}

TEST(TokenRequestFromForm, RejectsUnknownOrMissingGrantType) {
  const std::string rest = "&code=c&refresh_token=r&client_id=i&client_secret=s&scope=openid";
  for (std::string_view grant : {"client_credentials", "password", "implicit", "AUTHORIZATION_CODE", "refresh",
                                 "authorization_code ", "urn:ietf:params:oauth:grant-type:device_code"}) {
    const auto body = token_request_from_form(form_of("grant_type=" + protocol::form_encode(grant) + rest));
    EXPECT_FALSE(body.has_value()) << "grant_type=" << grant;
  }
  EXPECT_FALSE(token_request_from_form(form_of(rest.substr(1))).has_value());
  EXPECT_FALSE(token_request_from_form(form_of("grant_type=" + rest)).has_value());
  // Sanity: the same body with a real grant type parses, so the rejections are about grant_type.
  EXPECT_TRUE(token_request_from_form(form_of("grant_type=authorization_code" + rest)).has_value());
  EXPECT_TRUE(token_request_from_form(form_of("grant_type=refresh_token" + rest)).has_value());
}

TEST(TokenRequestFromForm, RejectsMissingCodeOrRefreshToken) {
  const std::string creds = "&client_id=i&client_secret=s&scope=openid";
  auto parses = [&creds](std::string_view head) {
    return token_request_from_form(form_of(std::string(head) + creds)).has_value();
  };
  EXPECT_TRUE(parses("grant_type=authorization_code&code=c"));  // sanity
  EXPECT_TRUE(parses("grant_type=refresh_token&refresh_token=r"));
  EXPECT_FALSE(parses("grant_type=authorization_code"));
  EXPECT_FALSE(parses("grant_type=authorization_code&code="));
  // A refresh token does not stand in for a code, nor the reverse.
  EXPECT_FALSE(parses("grant_type=authorization_code&refresh_token=r"));
  EXPECT_FALSE(parses("grant_type=refresh_token"));
  EXPECT_FALSE(parses("grant_type=refresh_token&refresh_token="));
  EXPECT_FALSE(parses("grant_type=refresh_token&code=c"));
}

}  // namespace
}  // namespace boltauth::models
