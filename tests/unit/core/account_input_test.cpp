// The input rules of account data, and the v3 error bodies, as pure functions.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/account/account_input.hpp"
#include "core/api_error.hpp"
#include "core/routes.hpp"

namespace boltauth::core {
namespace {

using account::e164;
using account::forbidden_character;
using account::is_json_content_type;
using account::iso3166_alpha2;
using account::utf8_length;

TEST(AccountInput, LengthsAreCodePointsAndMalformedUtf8IsRefused) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\u00e9t\u00e9"), 3u);     // 2-byte sequences
  EXPECT_EQ(utf8_length("\u4e2d\u6587"), 2u);      // 3-byte
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80"), 1u);  // 4-byte (an emoji)
  EXPECT_FALSE(utf8_length("\xC3"));               // truncated
  EXPECT_FALSE(utf8_length("\xC0\xAF"));           // overlong '/'
  EXPECT_FALSE(utf8_length("\xED\xA0\x80"));       // a surrogate
  EXPECT_FALSE(utf8_length("\xF4\x90\x80\x80"));   // above U+10FFFF
  EXPECT_FALSE(utf8_length("\xFF"));
}

TEST(AccountInput, ControlAndBidiCharactersAreNamed) {
  EXPECT_EQ(forbidden_character("Main St 1"), "");
  EXPECT_EQ(forbidden_character("Caf\u00e9 \u4e2d"), "");
  EXPECT_EQ(forbidden_character("a\tb"), "U+0009");
  EXPECT_EQ(forbidden_character("a\x7F"), "U+007F");
  EXPECT_EQ(forbidden_character("a\u0085"), "U+0085");  // C1 NEL
  EXPECT_EQ(forbidden_character("a\u202Eb"), "U+202E");
  EXPECT_EQ(forbidden_character("a\u202Ab"), "U+202A");
  EXPECT_EQ(forbidden_character("a\u2066b"), "U+2066");
  EXPECT_EQ(forbidden_character("a\u2069b"), "U+2069");
  EXPECT_EQ(forbidden_character(std::string("a\0b", 3)), "U+0000");
}

TEST(AccountInput, CountryCodesPhonesAndMediaTypes) {
  for (const char* ok : {"US", "GB", "DE", "AX", "ZW", "SS"}) EXPECT_TRUE(iso3166_alpha2(ok)) << ok;
  for (const char* bad : {"XX", "UK", "us", "USA", "", "U"}) EXPECT_FALSE(iso3166_alpha2(bad)) << bad;
  EXPECT_TRUE(e164("+14155550100"));
  EXPECT_TRUE(e164("+442071838750"));
  for (const char* bad : {"14155550100", "+0123456789", "+1415", "+1415555010012345", "+1 415 555 0100"})
    EXPECT_FALSE(e164(bad)) << bad;
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(is_json_content_type("application/jsonx"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type(std::nullopt));
}

TEST(AccountInput, AddressRequirementsDifferBetweenV1AndV3) {
  const auto v3_body = boost::json::parse(R"({"first_name":"A","last_name":"B","street_address1":"1","locality":"L",)"
                                          R"("postal_code":"1","country_code":"de","is_default":true})")
                           .as_object();
  auto v3 = account::parse_address(v3_body, Dialect::v3);
  ASSERT_TRUE(std::holds_alternative<account::AddressInput>(v3));
  EXPECT_EQ(std::get<account::AddressInput>(v3).fields.at("country_code"), "DE");
  EXPECT_EQ(std::get<account::AddressInput>(v3).make_default, true);
  // v1 needs region and email, and spells the flag `default`.
  auto v1 = account::parse_address(v3_body, Dialect::v1);
  ASSERT_TRUE(std::holds_alternative<ApiError>(v1));
  EXPECT_EQ(std::get<ApiError>(v1).field, "is_default");
}

TEST(ApiErrors, V3BodiesAndV1Bodies) {
  auto r = api_error_response(ApiError::field_error("country_code", "bad"), Dialect::v3);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(boost::json::parse(r.body),
            boost::json::parse(R"({".tag":"invalid_input_parameter","message":"bad","field":"country_code"})"));
  r = api_error_response({ApiError::Kind::not_found, "gone"}, Dialect::v3);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(boost::json::parse(r.body), boost::json::parse(R"({".tag":"not_found","message":"gone"})"));
  r = api_error_response({ApiError::Kind::unsupported_media_type, "json"}, Dialect::v3);
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(boost::json::parse(r.body).as_object().at(".tag").as_string(), "unprocessable_request");
  r = api_error_response({ApiError::Kind::forbidden, "scope"}, Dialect::v1);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(boost::json::parse(r.body).as_object().at("result").as_object().at("success").as_bool(), false);
  using protocol::ErrorCode;
  using protocol::OAuthError;
  EXPECT_EQ(v3_oauth_error_response(OAuthError::make(ErrorCode::invalid_client), true).status, 401);
  EXPECT_EQ(v3_oauth_error_response(OAuthError::make(ErrorCode::invalid_grant), false).status, 422);
  EXPECT_EQ(v3_oauth_error_response(OAuthError::make(ErrorCode::request_forbidden), false).status, 403);
  EXPECT_EQ(v3_oauth_error_response(OAuthError::make(ErrorCode::unsupported_grant_type), false).status, 403);
  r = v3_oauth_error_response(OAuthError::about(ErrorCode::invalid_scope, "scope", "bad scope"), false);
  EXPECT_EQ(boost::json::parse(r.body),
            boost::json::parse(R"({".tag":"invalid_input_parameter","message":"bad scope","field":"scope"})"));
}

TEST(RouteTable, IdRoutesMatchOneNonEmptySegment) {
  RouteTable t;
  auto answers = [](int status) {
    return [status](const Request&, const Route&) {
      Response r;
      r.status = status;
      return r;
    };
  };
  t.add({"/v1/things", {"POST"}, Dialect::v1, false, answers(201)});
  t.add({"/v1/things/{id}", {"PUT"}, Dialect::v1, false, answers(202)});
  EXPECT_EQ(t.find("/v1/things")->path, "/v1/things");
  EXPECT_EQ(t.find("/v1/things/abc")->path, "/v1/things/{id}");
  EXPECT_EQ(RouteTable::path_id("/v1/things/abc"), "abc");
  EXPECT_EQ(t.find("/v1/things/"), nullptr);
  EXPECT_EQ(t.find("/v1/things/a/b"), nullptr);
  EXPECT_EQ(t.find("/v1/other/abc"), nullptr);
  Request r;
  r.method = "GET";
  r.path = "/v3/unknown";
  EXPECT_EQ(boost::json::parse(t.dispatch(r, protocol::ErrorStyle::bolt).body).as_object().at(".tag").as_string(),
            "not_found");
}

}  // namespace
}  // namespace boltauth::core
