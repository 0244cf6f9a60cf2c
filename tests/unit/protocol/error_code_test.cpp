#include "protocol/error_code.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <string>
#include <string_view>

namespace boltauth::protocol {
namespace {

constexpr ErrorCode kAllCodes[] = {
    ErrorCode::invalid_request,         ErrorCode::invalid_client,      ErrorCode::invalid_grant,
    ErrorCode::invalid_scope,           ErrorCode::unauthorized_client, ErrorCode::unsupported_grant_type,
    ErrorCode::request_forbidden,       ErrorCode::slow_down,           ErrorCode::server_error,
    ErrorCode::temporarily_unavailable, ErrorCode::access_denied,       ErrorCode::unsupported_response_type,
    ErrorCode::login_required,
};

TEST(ErrorCode, BoltStatusTable) {
  // Contract section 3, "Errors".
  EXPECT_EQ(http_status(ErrorCode::invalid_request, ErrorStyle::bolt), 400);
  EXPECT_EQ(http_status(ErrorCode::invalid_scope, ErrorStyle::bolt), 400);
  EXPECT_EQ(http_status(ErrorCode::invalid_client, ErrorStyle::bolt), 401);
  EXPECT_EQ(http_status(ErrorCode::request_forbidden, ErrorStyle::bolt), 403);
  EXPECT_EQ(http_status(ErrorCode::unsupported_grant_type, ErrorStyle::bolt), 403);
  EXPECT_EQ(http_status(ErrorCode::invalid_grant, ErrorStyle::bolt), 422);
  EXPECT_EQ(http_status(ErrorCode::slow_down, ErrorStyle::bolt), 429);
  EXPECT_EQ(http_status(ErrorCode::server_error, ErrorStyle::bolt), 500);
  EXPECT_EQ(http_status(ErrorCode::temporarily_unavailable, ErrorStyle::bolt), 503);
  // The authorization endpoint's codes travel on a redirect; 400 in both styles.
  EXPECT_EQ(http_status(ErrorCode::access_denied, ErrorStyle::bolt), 400);
  EXPECT_EQ(http_status(ErrorCode::unsupported_response_type, ErrorStyle::bolt), 400);
  EXPECT_EQ(http_status(ErrorCode::login_required, ErrorStyle::bolt), 400);
}

TEST(ErrorCode, Rfc6749StatusTable) {
  EXPECT_EQ(http_status(ErrorCode::invalid_request, ErrorStyle::rfc6749), 400);
  EXPECT_EQ(http_status(ErrorCode::invalid_scope, ErrorStyle::rfc6749), 400);
  EXPECT_EQ(http_status(ErrorCode::invalid_grant, ErrorStyle::rfc6749), 400);
  EXPECT_EQ(http_status(ErrorCode::unauthorized_client, ErrorStyle::rfc6749), 400);
  EXPECT_EQ(http_status(ErrorCode::unsupported_grant_type, ErrorStyle::rfc6749), 400);
  EXPECT_EQ(http_status(ErrorCode::request_forbidden, ErrorStyle::rfc6749), 400);
  EXPECT_EQ(http_status(ErrorCode::invalid_client, ErrorStyle::rfc6749), 401);
  EXPECT_EQ(http_status(ErrorCode::slow_down, ErrorStyle::rfc6749), 429);
  EXPECT_EQ(http_status(ErrorCode::server_error, ErrorStyle::rfc6749), 500);
  EXPECT_EQ(http_status(ErrorCode::temporarily_unavailable, ErrorStyle::rfc6749), 503);
  EXPECT_EQ(http_status(ErrorCode::access_denied, ErrorStyle::rfc6749), 400);
  EXPECT_EQ(http_status(ErrorCode::unsupported_response_type, ErrorStyle::rfc6749), 400);
  EXPECT_EQ(http_status(ErrorCode::login_required, ErrorStyle::rfc6749), 400);
}

TEST(ErrorCode, WireCode) {
  EXPECT_EQ(wire_code(ErrorCode::request_forbidden, ErrorStyle::bolt), ErrorCode::request_forbidden);
  EXPECT_EQ(wire_code(ErrorCode::request_forbidden, ErrorStyle::rfc6749), ErrorCode::unauthorized_client);
  for (ErrorCode code : kAllCodes) {
    EXPECT_EQ(wire_code(code, ErrorStyle::bolt), code) << to_string(code);
    if (code != ErrorCode::request_forbidden) {
      EXPECT_EQ(wire_code(code, ErrorStyle::rfc6749), code) << to_string(code);
    }
  }
}

TEST(ErrorCode, RfcStyleNeverPutsBoltOnlyCodeOnTheWire) {
  for (ErrorCode code : kAllCodes) {
    EXPECT_NE(wire_code(code, ErrorStyle::rfc6749), ErrorCode::request_forbidden) << to_string(code);
    // The status of what goes on the wire is the rfc table's.
    const int status = http_status(code, ErrorStyle::rfc6749);
    EXPECT_TRUE(status == 400 || status == 401 || status == 429 || status == 500 || status == 503)
        << to_string(code) << " " << status;
  }
}

TEST(ErrorCode, ToStringSpellsEachCode) {
  EXPECT_EQ(to_string(ErrorCode::invalid_request), "invalid_request");
  EXPECT_EQ(to_string(ErrorCode::invalid_client), "invalid_client");
  EXPECT_EQ(to_string(ErrorCode::invalid_grant), "invalid_grant");
  EXPECT_EQ(to_string(ErrorCode::invalid_scope), "invalid_scope");
  EXPECT_EQ(to_string(ErrorCode::unauthorized_client), "unauthorized_client");
  EXPECT_EQ(to_string(ErrorCode::unsupported_grant_type), "unsupported_grant_type");
  EXPECT_EQ(to_string(ErrorCode::request_forbidden), "request_forbidden");
  EXPECT_EQ(to_string(ErrorCode::slow_down), "slow_down");
  EXPECT_EQ(to_string(ErrorCode::server_error), "server_error");
  EXPECT_EQ(to_string(ErrorCode::temporarily_unavailable), "temporarily_unavailable");
  // RFC 6749 section 4.1.2.1 and OIDC Core section 3.1.2.6.
  EXPECT_EQ(to_string(ErrorCode::access_denied), "access_denied");
  EXPECT_EQ(to_string(ErrorCode::unsupported_response_type), "unsupported_response_type");
  EXPECT_EQ(to_string(ErrorCode::login_required), "login_required");
  std::set<std::string_view> distinct;
  for (ErrorCode code : kAllCodes) distinct.insert(to_string(code));
  EXPECT_EQ(distinct.size(), std::size(kAllCodes));
}

TEST(ErrorCode, DefaultDescriptionsAreNonEmptyAndRfc6749Safe) {
  // error-description = 1*( %x20-21 / %x23-5B / %x5D-7E ) (RFC 6749 section 5.2)
  for (ErrorCode code : kAllCodes) {
    const std::string_view d = default_description(code);
    EXPECT_FALSE(d.empty()) << to_string(code);
    for (std::size_t i = 0; i < d.size(); ++i) {
      const auto c = static_cast<unsigned char>(d[i]);
      const bool ok = (c >= 0x20 && c <= 0x21) || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
      EXPECT_TRUE(ok) << to_string(code) << ": byte 0x" << std::hex << static_cast<int>(c) << std::dec << " at " << i;
    }
  }
}

TEST(ErrorCode, DescriptionsAreBoltSentencesWhereTheSpecGivesOne) {
  // The oauth_400 / oauth_403 / oauth_422 examples of bolt-api-v1.openapi.yaml.
  EXPECT_EQ(default_description(ErrorCode::invalid_request),
            "The request is missing a required parameter, includes an invalid parameter value, includes a parameter "
            "more than once, or is otherwise malformed.");
  EXPECT_EQ(default_description(ErrorCode::invalid_scope), "The request scope is invalid, unknown, or malformed.");
  EXPECT_EQ(default_description(ErrorCode::request_forbidden),
            "The request is forbidden. You are not allowed to perform this action.");
  EXPECT_EQ(default_description(ErrorCode::invalid_grant),
            "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh "
            "token is invalid, expired, revoked, does not match the redirection URI used in the authorization "
            "request, or was issued to another client.");
  // Bolt's sentence has a typographic apostrophe (U+2019), which RFC 6749 forbids; ASCII ' stands in.
  EXPECT_EQ(default_description(ErrorCode::unsupported_grant_type),
            "The grant type is not supported by Bolt's authorization server.");
}

TEST(ErrorCode, AuthorizationEndpointDescriptionsAreTheSpecsSentences) {
  // RFC 6749 section 4.1.2.1 and OIDC Core section 3.1.2.6 (its first sentence, in lower case).
  EXPECT_EQ(default_description(ErrorCode::access_denied),
            "The resource owner or authorization server denied the request.");
  EXPECT_EQ(default_description(ErrorCode::unsupported_response_type),
            "The authorization server does not support obtaining an authorization code using this method.");
  EXPECT_EQ(default_description(ErrorCode::login_required),
            "The authorization server requires end-user authentication.");
}

TEST(ErrorCode, MakeUsesDefaultDescriptionAndKeepsDebugSeparate) {
  const auto e = OAuthError::make(ErrorCode::invalid_grant, "code abc expired at t=5");
  EXPECT_EQ(e.code, ErrorCode::invalid_grant);
  EXPECT_EQ(e.description, default_description(ErrorCode::invalid_grant));
  EXPECT_EQ(e.debug, "code abc expired at t=5");
  EXPECT_EQ(e.description.find("abc"), std::string::npos);
}

}  // namespace
}  // namespace boltauth::protocol
