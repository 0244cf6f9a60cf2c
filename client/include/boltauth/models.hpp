#pragma once
/// @file
/// Bolt's OAuth models in `boltauth::models`, named as in Bolt's SDKs. They are the same types the boltauth server
/// uses (the shared protocol layer), installed with the SDK under `include/boltauth/detail/`:
///
/// - `OAuthTokenResponse`: the seven optional fields of OpenAPI `o_auth_token_response`.
/// - `OAuthTokenInput` / `OAuthTokenInputRefresh` and their variant `OAuthTokenRequestBody`.
/// - `OAuthTokenInputGrantType`, `OAuthTokenInputRefreshGrantType`, `Scope`.
/// - `ErrorsOauthServerResponseData`: `error` and `error_description`.
///
/// Codecs: `to_json`, `oauth_token_response_from_json`, `oauth_token_input_from_json`,
/// `oauth_token_input_refresh_from_json`, `errors_oauth_server_response_from_json`, `to_form`,
/// `token_request_from_form`, plus the text helpers below.
#include <optional>
#include <string>
#include <string_view>

#include "protocol/models.hpp"

namespace boltauth::models {

/// Parses a JSON text into an OAuthTokenResponse; nullopt when it is not JSON or a field has the wrong type.
std::optional<OAuthTokenResponse> parse_oauth_token_response(std::string_view json_text);
/// Parses Bolt's OAuth error body; nullopt when it is not a JSON object of that shape.
std::optional<ErrorsOauthServerResponseData> parse_errors_oauth_server_response(std::string_view json_text);
/// Compact JSON text of a response (absent fields omitted).
std::string to_json_string(const OAuthTokenResponse& response);

}  // namespace boltauth::models
