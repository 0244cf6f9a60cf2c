#pragma once
#include <string>
#include <string_view>

#include "core/dialect.hpp"
#include "core/exchange.hpp"
#include "protocol/error_code.hpp"

namespace boltauth::core {

/// A refusal of Bolt's account and sandbox API, written once and rendered in the route's dialect: Bolt's v1 body
/// `{"errors":[{"code","message"}],"result":{"success":false}}`, or v3's ErrorT `{".tag","message"}` /
/// FieldError `{".tag":"invalid_input_parameter","message","field"}`.
struct ApiError {
  enum class Kind {
    unauthorized,            // 401: no live access token, or a wrong merchant key
    forbidden,               // 403: the token lacks the scope
    not_found,               // 404
    invalid_field,           // 400: `field` is missing or malformed
    unprocessable,           // 422: well-formed but refused (a rule about its meaning)
    unsupported_media_type,  // 415: the body is not application/json
    conflict,                // 409: an Idempotency-Key whose first request has not finished
    too_many_requests,       // 429
  };
  Kind kind;
  std::string message;  // plain words for the merchant's developer; never debug detail
  std::string field = {};
  /// Bolt's v1 numeric code; 0: the kind's usual one.
  int v1_code = 0;

  static ApiError field_error(std::string field, std::string message) {
    return {Kind::invalid_field, std::move(message), std::move(field)};
  }
};

int http_status(ApiError::Kind kind) noexcept;

/// The body and status of `error` on a route of `dialect` (v3: ErrorT or FieldError; otherwise v1's).
Response api_error_response(const ApiError& error, Dialect dialect);

/// An OAuth error of the token endpoint under /v3 (Bolt's v3 mapping): a named parameter is a 400 FieldError,
/// invalid_client 401 `unauthorized`, grant type and client refusals 403 `forbidden`, invalid_grant 422
/// `unprocessable_request`, 429 `unprocessable_request`.
Response v3_oauth_error_response(const protocol::OAuthError& error, bool basic_attempted);

/// True for a path of Bolt's v3 API.
inline bool is_v3_path(std::string_view path) noexcept { return path.rfind("/v3/", 0) == 0; }

}  // namespace boltauth::core
