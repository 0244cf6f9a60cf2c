#include "protocol/error_code.hpp"

namespace boltauth::protocol {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_request:
      return "invalid_request";
    case ErrorCode::invalid_client:
      return "invalid_client";
    case ErrorCode::invalid_grant:
      return "invalid_grant";
    case ErrorCode::invalid_scope:
      return "invalid_scope";
    case ErrorCode::unauthorized_client:
      return "unauthorized_client";
    case ErrorCode::unsupported_grant_type:
      return "unsupported_grant_type";
    case ErrorCode::request_forbidden:
      return "request_forbidden";
    case ErrorCode::slow_down:
      return "slow_down";
    case ErrorCode::server_error:
      return "server_error";
    case ErrorCode::temporarily_unavailable:
      return "temporarily_unavailable";
    case ErrorCode::access_denied:
      return "access_denied";
    case ErrorCode::unsupported_response_type:
      return "unsupported_response_type";
    case ErrorCode::login_required:
      return "login_required";
  }
  return "server_error";
}

std::string_view default_description(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_request:
      return "The request is missing a required parameter, includes an invalid parameter value, includes a "
             "parameter more than once, or is otherwise malformed.";
    case ErrorCode::invalid_client:
      return "Client authentication failed (e.g., unknown client, no client authentication included, or "
             "unsupported authentication method).";
    case ErrorCode::invalid_grant:
      return "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh "
             "token is invalid, expired, revoked, does not match the redirection URI used in the authorization "
             "request, or was issued to another client.";
    case ErrorCode::invalid_scope:
      return "The request scope is invalid, unknown, or malformed.";
    case ErrorCode::unauthorized_client:
      return "The authenticated client is not authorized to use this authorization grant type.";
    case ErrorCode::unsupported_grant_type:
      // Bolt's sentence uses a typographic apostrophe; RFC 6749 section 5.2 allows ASCII only.
      return "The grant type is not supported by Bolt's authorization server.";
    case ErrorCode::request_forbidden:
      return "The request is forbidden. You are not allowed to perform this action.";
    case ErrorCode::slow_down:
      return "Too many requests. Retry after the number of seconds in Retry-After.";
    case ErrorCode::server_error:
      return "The authorization server encountered an unexpected condition that prevented it from fulfilling the "
             "request.";
    case ErrorCode::temporarily_unavailable:
      return "The authorization server is currently unable to handle the request due to a temporary overloading or "
             "maintenance of the server.";
    case ErrorCode::access_denied:
      return "The resource owner or authorization server denied the request.";
    case ErrorCode::unsupported_response_type:
      return "The authorization server does not support obtaining an authorization code using this method.";
    case ErrorCode::login_required:
      return "The authorization server requires end-user authentication.";
  }
  return "";
}

int http_status(ErrorCode code, ErrorStyle style) noexcept {
  const bool bolt = style == ErrorStyle::bolt;
  // Every case spelled out, no default: a new code must be given its status here (-Wswitch).
  switch (code) {
    case ErrorCode::invalid_client:
      return 401;
    case ErrorCode::slow_down:
      return 429;
    case ErrorCode::server_error:
      return 500;
    case ErrorCode::temporarily_unavailable:
      return 503;
    case ErrorCode::request_forbidden:
    case ErrorCode::unsupported_grant_type:
    case ErrorCode::unauthorized_client:
      return bolt ? 403 : 400;
    case ErrorCode::invalid_grant:
      return bolt ? 422 : 400;
    case ErrorCode::invalid_request:
    case ErrorCode::invalid_scope:
      return 400;
    case ErrorCode::access_denied:
    case ErrorCode::unsupported_response_type:
    case ErrorCode::login_required:
      // Redirect errors (the status of the answer is the 303); 400 should one ever be answered directly.
      return 400;
  }
  return 400;
}

ErrorCode wire_code(ErrorCode code, ErrorStyle style) noexcept {
  switch (code) {
    case ErrorCode::request_forbidden:
      // Not an RFC 6749 code: plain clients get the nearest standard one.
      return style == ErrorStyle::rfc6749 ? ErrorCode::unauthorized_client : code;
    case ErrorCode::invalid_request:
    case ErrorCode::invalid_client:
    case ErrorCode::invalid_grant:
    case ErrorCode::invalid_scope:
    case ErrorCode::unauthorized_client:
    case ErrorCode::unsupported_grant_type:
    case ErrorCode::slow_down:
    case ErrorCode::server_error:
    case ErrorCode::temporarily_unavailable:
    case ErrorCode::access_denied:
    case ErrorCode::unsupported_response_type:
    case ErrorCode::login_required:
      return code;
  }
  return code;
}

}  // namespace boltauth::protocol
