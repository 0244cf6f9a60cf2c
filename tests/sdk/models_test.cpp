// The SDK's models against the examples of Bolt's OpenAPI file, read from the file itself.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "boltauth/bolt.hpp"
#include "boltauth/models.hpp"
#include "protocol/form.hpp"

namespace boltauth::models {
namespace {

namespace json = boost::json;

const std::string& spec() {
  static const std::string text = [] {
    std::ifstream in(BOLTAUTH_SPEC_DIR "/bolt-api-v1.openapi.yaml", std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  return text;
}

std::size_t indent_of(std::string_view line) { return line.find_first_not_of(' '); }

// The flat `key: value` mapping under the first `marker` line (e.g. "value:" or "example:") that follows `anchor`
// (a YAML key such as "authorization_code_response:"). Enough YAML for the OpenAPI examples, which are flat.
std::map<std::string, std::string> example_after(std::string_view anchor, std::string_view marker) {
  const std::string& text = spec();
  std::size_t pos = text.find(std::string(anchor));
  if (pos == std::string::npos) throw std::runtime_error("no " + std::string(anchor) + " in the spec");
  pos = text.find(std::string(marker), pos);
  const std::size_t line_start = text.rfind('\n', pos) + 1;
  const std::size_t base = pos - line_start;
  std::map<std::string, std::string> out;
  std::size_t next = text.find('\n', pos) + 1;
  while (next < text.size()) {
    const std::size_t end = text.find('\n', next);
    const std::string_view line(text.data() + next, end - next);
    if (indent_of(line) <= base) break;
    const std::size_t colon = line.find(':');
    const std::size_t start = indent_of(line);
    out[std::string(line.substr(start, colon - start))] = std::string(line.substr(colon + 2));
    next = end + 1;
  }
  return out;
}

// The example as JSON: integers where the YAML scalar is an integer, strings otherwise.
json::object as_json(const std::map<std::string, std::string>& example) {
  json::object o;
  for (const auto& [k, v] : example) {
    if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos) {
      o[k] = std::stoll(v);
    } else {
      o[k] = v;
    }
  }
  return o;
}

TEST(SdkModels, ResponseExamplesRoundTrip) {
  for (const char* name : {"authorization_code_response:", "refresh_token_response:"}) {
    const json::object example = as_json(example_after(name, "value:"));
    ASSERT_GE(example.size(), 6u) << name;
    const auto model = parse_oauth_token_response(serialize(example));
    ASSERT_TRUE(model) << name;
    EXPECT_EQ(model->expires_in, 3600);
    EXPECT_EQ(model->token_type, "bearer");
    EXPECT_EQ(model->refresh_token_scope, "bolt.account.view");
    EXPECT_EQ(json::parse(to_json_string(*model)), json::value(example)) << name;
    EXPECT_EQ(parse_oauth_token_response(to_json_string(*model)), model);
  }
  const auto refresh =
      parse_oauth_token_response(serialize(as_json(example_after("refresh_token_response:", "value:"))));
  EXPECT_FALSE(refresh->id_token.has_value());
}

TEST(SdkModels, AllSevenFieldsOptional) {
  const auto empty = parse_oauth_token_response("{}");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, OAuthTokenResponse{});
  EXPECT_EQ(to_json_string(OAuthTokenResponse{}), "{}");
  EXPECT_FALSE(parse_oauth_token_response(R"({"expires_in":"3600"})")) << "expires_in is an integer";
  EXPECT_FALSE(parse_oauth_token_response("not json"));
  EXPECT_FALSE(parse_oauth_token_response("[]"));
}

TEST(SdkModels, RequestExamplesRoundTripThroughTheForm) {
  const auto code = example_after("authorization_code_request:", "value:");
  const auto refresh = example_after("refresh_token_request:", "value:");
  for (const auto* example : {&code, &refresh}) {
    protocol::FormParams params;
    for (const auto& [k, v] : *example) params.add(k, v);
    const auto body = token_request_from_form(params);
    ASSERT_TRUE(body);
    const std::string form = to_form(*body);
    const auto reparsed = protocol::parse_form(form, 32);
    ASSERT_TRUE(reparsed.params) << form;
    EXPECT_EQ(token_request_from_form(*reparsed.params), body);
    for (const auto& [k, v] : *example) EXPECT_EQ(reparsed.params->get(k), v) << k;
  }
  const auto parsed = token_request_from_form([&] {
    protocol::FormParams p;
    for (const auto& [k, v] : code) p.add(k, v);
    return p;
  }());
  const auto& input = std::get<OAuthTokenInput>(*parsed);
  EXPECT_EQ(input.grant_type, OAuthTokenInputGrantType::authorization_code);
  EXPECT_EQ(input.client_id, "PUBLISHABLE_KEY_PLACEHOLDER");
  EXPECT_EQ(input.scope, "bolt.account.manage+openid");  // the example's literal plus, kept as sent
}

TEST(SdkModels, RequestJsonCodecsRoundTrip) {
  OAuthTokenInput code{"pk",
                       "secret",
                       "the code",
                       OAuthTokenInputGrantType::authorization_code,
                       join_scopes({Scope::bolt_account_manage, Scope::openid}),
                       std::string("st")};
  EXPECT_EQ(oauth_token_input_from_json(to_json(code)), code);
  OAuthTokenInputRefresh refresh{"pk",
                                 "secret",
                                 OAuthTokenInputRefreshGrantType::refresh_token,
                                 "rt",
                                 std::string(to_string(Scope::bolt_account_view)),
                                 std::nullopt};
  EXPECT_EQ(oauth_token_input_refresh_from_json(to_json(refresh)), refresh);
  EXPECT_FALSE(oauth_token_input_from_json(to_json(refresh))) << "grant_type discriminates the variant";
  EXPECT_EQ(to_form(OAuthTokenRequestBody{code}),
            "grant_type=authorization_code&code=the%20code&client_id=pk&client_secret=secret&scope=bolt.account.manage%"
            "20openid&state=st");
}

TEST(SdkModels, ScopeAndGrantTypeSpellings) {
  EXPECT_EQ(to_string(Scope::bolt_account_manage), "bolt.account.manage");
  EXPECT_EQ(to_string(Scope::bolt_account_view), "bolt.account.view");
  EXPECT_EQ(to_string(Scope::openid), "openid");
  EXPECT_EQ(scope_from_string("openid"), Scope::openid);
  EXPECT_FALSE(scope_from_string("OpenID"));
  EXPECT_FALSE(scope_from_string("email"));
  EXPECT_EQ(to_string(OAuthTokenInputGrantType::authorization_code), "authorization_code");
  EXPECT_EQ(to_string(OAuthTokenInputRefreshGrantType::refresh_token), "refresh_token");
  // Every value of the spec's scope enum (o_auth_token_input.scope) is a Scope.
  for (const char* s : {"- bolt.account.manage", "- bolt.account.view", "- openid"}) {
    EXPECT_NE(spec().find(s), std::string::npos);
    EXPECT_TRUE(scope_from_string(std::string_view(s).substr(2)));
  }
}

TEST(SdkModels, ErrorExamplesParse) {
  struct Case {
    const char* anchor;
    const char* marker;
    const char* error;
  };
  for (const Case& c : {Case{"            invalid_request:", "value:", "invalid_request"},
                        Case{"            invalid_scope:", "value:", "invalid_scope"},
                        Case{"            request_forbidden:", "value:", "request_forbidden"},
                        Case{"            unsupported_grant_type:", "value:", "unsupported_grant_type"},
                        Case{"    oauth_422:", "example:", "invalid _grant"}}) {  // sic: the file's own typo
    const json::object example = as_json(example_after(c.anchor, c.marker));
    const auto data = parse_errors_oauth_server_response(serialize(example));
    ASSERT_TRUE(data) << c.anchor;
    EXPECT_EQ(data->error, c.error);
    EXPECT_FALSE(data->error_description.value_or("").empty());
    const ErrorsOauthServerResponseData same = *data;
    EXPECT_EQ(json::value(to_json(same)), json::value(example));
  }
  EXPECT_FALSE(parse_errors_oauth_server_response(R"({"error":42})"));
}

TEST(SdkModels, ServerListMatchesTheSpec) {
  for (std::string_view url : kServerList) EXPECT_NE(spec().find("url: " + std::string(url)), std::string::npos);
  EXPECT_EQ(kServerList[0], "https://api.bolt.com");
  EXPECT_EQ(kServerList[1], "https://api-sandbox.bolt.com");
  EXPECT_EQ(kServerList[2], "https://api-staging.bolt.com");
}

}  // namespace
}  // namespace boltauth::models
