#include "core/api_error.hpp"

#include <boost/json/object.hpp>

#include "core/responses.hpp"

namespace boltauth::core {
namespace {

std::string_view v3_tag(ApiError::Kind kind) noexcept {
  switch (kind) {
    case ApiError::Kind::unauthorized:
      return "unauthorized";
    case ApiError::Kind::forbidden:
      return "forbidden";
    case ApiError::Kind::not_found:
      return "not_found";
    case ApiError::Kind::invalid_field:
      return "invalid_input_parameter";
    case ApiError::Kind::unprocessable:
    case ApiError::Kind::unsupported_media_type:
    case ApiError::Kind::conflict:
    case ApiError::Kind::too_many_requests:
      // v3 has four ErrorT tags; the other 4xx about the request are `unprocessable_request`.
      break;
  }
  return "unprocessable_request";
}

int v1_code(ApiError::Kind kind) noexcept {
  switch (kind) {
    case ApiError::Kind::unauthorized:
      return 1001;
    case ApiError::Kind::forbidden:
      return 1003;
    case ApiError::Kind::not_found:
      return 1004;
    case ApiError::Kind::too_many_requests:
      return 1006;
    default:
      return 1002;
  }
}

Response v3_body(int status, std::string_view tag, std::string_view message, std::string_view field) {
  boost::json::object body;
  body[".tag"] = tag;
  body["message"] = message;
  if (!field.empty()) body["field"] = field;
  return json_response(status, body);
}

}  // namespace

int http_status(ApiError::Kind kind) noexcept {
  switch (kind) {
    case ApiError::Kind::unauthorized:
      return 401;
    case ApiError::Kind::forbidden:
      return 403;
    case ApiError::Kind::not_found:
      return 404;
    case ApiError::Kind::invalid_field:
      return 400;
    case ApiError::Kind::unprocessable:
      return 422;
    case ApiError::Kind::unsupported_media_type:
      return 415;
    case ApiError::Kind::conflict:
      return 409;
    case ApiError::Kind::too_many_requests:
      return 429;
  }
  return 400;
}

Response api_error_response(const ApiError& error, Dialect dialect) {
  const int status = http_status(error.kind);
  if (dialect == Dialect::v3) {
    // FieldError only when a field is named; an invalid_field without one is a plain ErrorT.
    const bool named = error.kind == ApiError::Kind::invalid_field && !error.field.empty();
    return v3_body(
        status,
        named ? "invalid_input_parameter"
              : v3_tag(error.kind == ApiError::Kind::invalid_field ? ApiError::Kind::unprocessable : error.kind),
        error.message, named ? std::string_view(error.field) : std::string_view());
  }
  return bolt_error_response(status, error.v1_code ? error.v1_code : v1_code(error.kind), error.message);
}

Response v3_oauth_error_response(const protocol::OAuthError& error, bool basic_attempted) {
  using protocol::ErrorCode;
  Response r;
  switch (error.code) {
    case ErrorCode::invalid_request:
    case ErrorCode::invalid_scope:
      r = error.field.empty() ? v3_body(400, "unprocessable_request", error.description, {})
                              : v3_body(400, "invalid_input_parameter", error.description, error.field);
      break;
    case ErrorCode::invalid_client:
      r = v3_body(401, "unauthorized", error.description, {});
      if (basic_attempted) r.with_header("WWW-Authenticate", "Basic realm=\"boltauth\"");
      break;
    case ErrorCode::unsupported_grant_type:
      // A grant_type that is not even a grant name is a malformed field; a well-formed unknown one is refused.
      r = error.field.empty() ? v3_body(403, "forbidden", error.description, {})
                              : v3_body(400, "invalid_input_parameter", error.description, error.field);
      break;
    case ErrorCode::request_forbidden:
    case ErrorCode::unauthorized_client:
      r = v3_body(403, "forbidden", error.description, {});
      break;
    case ErrorCode::invalid_grant:
      r = v3_body(422, "unprocessable_request", error.description, {});
      break;
    case ErrorCode::slow_down:
      r = v3_body(429, "unprocessable_request", error.description, {});
      break;
    case ErrorCode::server_error:
      r = v3_body(500, "server_error", error.description, {});
      break;
    case ErrorCode::temporarily_unavailable:
      r = v3_body(503, "temporarily_unavailable", error.description, {});
      break;
    default:
      // Codes of the authorization endpoint never reach the token endpoint; answered as a refusal if they do.
      r = v3_body(400, "unprocessable_request", error.description, {});
      break;
  }
  return r;
}

}  // namespace boltauth::core
