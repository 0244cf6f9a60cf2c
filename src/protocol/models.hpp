#pragma once
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/error_code.hpp"
#include "protocol/form.hpp"

/// Bolt's OAuth models, named as in Bolt's SDKs (OpenAPI schemas `o_auth_token_*`,
/// `errors_oauth_server_response`, `testing_account_*`), shared by the server and the SDK.
namespace boltauth::models {

/// OpenAPI `o_auth_token_response`. Every field is optional, as in Bolt's SDK.
struct OAuthTokenResponse {
  std::optional<std::string> access_token;
  std::optional<std::int64_t> expires_in;
  std::optional<std::string> id_token;
  std::optional<std::string> refresh_token;
  std::optional<std::string> refresh_token_scope;
  std::optional<std::string> scope;
  std::optional<std::string> token_type;
  bool operator==(const OAuthTokenResponse&) const = default;
};

enum class OAuthTokenInputGrantType { authorization_code };
enum class OAuthTokenInputRefreshGrantType { refresh_token };

/// OpenAPI `o_auth_token_input` (authorization code request).
struct OAuthTokenInput {
  std::string client_id;
  std::string client_secret;
  std::string code;
  OAuthTokenInputGrantType grant_type = OAuthTokenInputGrantType::authorization_code;
  std::string scope;
  std::optional<std::string> state;
  bool operator==(const OAuthTokenInput&) const = default;
};

/// OpenAPI `o_auth_token_input_refresh`.
struct OAuthTokenInputRefresh {
  std::string client_id;
  std::string client_secret;
  OAuthTokenInputRefreshGrantType grant_type = OAuthTokenInputRefreshGrantType::refresh_token;
  std::string refresh_token;
  std::string scope;
  std::optional<std::string> state;
  bool operator==(const OAuthTokenInputRefresh&) const = default;
};

using OAuthTokenRequestBody = std::variant<OAuthTokenInput, OAuthTokenInputRefresh>;

/// OpenAPI `o_auth_token_input.scope` enum, as Bolt's SDK names it (`Scope`).
enum class Scope { bolt_account_manage, bolt_account_view, openid };

/// Wire spelling: "bolt.account.manage", "bolt.account.view", "openid".
std::string_view to_string(Scope scope) noexcept;
/// The Scope of a wire token; nullopt for anything else (case-sensitive, RFC 6749 section 3.3).
std::optional<Scope> scope_from_string(std::string_view token) noexcept;
/// Space-separated scope value (RFC 6749 section 3.3) of `scopes`, in the given order.
std::string join_scopes(std::initializer_list<Scope> scopes);

std::string_view to_string(OAuthTokenInputGrantType) noexcept;         // "authorization_code"
std::string_view to_string(OAuthTokenInputRefreshGrantType) noexcept;  // "refresh_token"

/// OpenAPI `errors_oauth_server_response`.
struct ErrorsOauthServerResponse {
  std::optional<std::string> error;
  std::optional<std::string> error_description;
  bool operator==(const ErrorsOauthServerResponse&) const = default;
};

/// The name Bolt's SDK gives the error body carried by its `ErrorsOauthServerResponse` exception.
using ErrorsOauthServerResponseData = ErrorsOauthServerResponse;

/// OpenAPI `testing_account_request`.
struct TestingAccountRequest {
  std::optional<std::int64_t> deactivate_in_days;
  std::optional<std::string> email_state;
  std::optional<std::string> phone_state;
  std::optional<bool> has_address;
  std::optional<bool> migrated;
};

/// OpenAPI `testing_account_details`.
struct TestingAccountDetails {
  std::optional<std::string> email;
  std::optional<std::string> email_state;
  std::optional<std::string> phone;
  std::optional<std::string> phone_state;
  std::optional<std::string> otp_code;
  std::optional<std::string> migrated_merchant_owner_id;
  std::optional<std::string> will_deactivate_at;
  std::optional<std::string> oauth_code;
  bool operator==(const TestingAccountDetails&) const = default;
};

// JSON codecs. Absent optionals are omitted on output. Parsing ignores unknown members and
// returns nullopt when a known member has the wrong type.
boost::json::object to_json(const OAuthTokenResponse& v);
std::optional<OAuthTokenResponse> oauth_token_response_from_json(const boost::json::value& v);
boost::json::object to_json(const ErrorsOauthServerResponse& v);
std::optional<ErrorsOauthServerResponse> errors_oauth_server_response_from_json(const boost::json::value& v);
boost::json::object to_json(const TestingAccountDetails& v);
std::optional<TestingAccountDetails> testing_account_details_from_json(const boost::json::value& v);
std::optional<TestingAccountRequest> testing_account_request_from_json(const boost::json::value& v);
boost::json::object to_json(const OAuthTokenInput& v);
boost::json::object to_json(const OAuthTokenInputRefresh& v);
std::optional<OAuthTokenInput> oauth_token_input_from_json(const boost::json::value& v);
std::optional<OAuthTokenInputRefresh> oauth_token_input_refresh_from_json(const boost::json::value& v);

// Form codecs (the token endpoint's wire format).
std::string to_form(const OAuthTokenRequestBody& body);
std::optional<OAuthTokenRequestBody> token_request_from_form(const protocol::FormParams& params);

/// Serializes a JSON object to text.
std::string serialize(const boost::json::object& object);

}  // namespace boltauth::models
