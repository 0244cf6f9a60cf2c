#pragma once
#include <boost/json/object.hpp>
#include <string_view>

#include "core/exchange.hpp"
#include "protocol/error_code.hpp"

namespace boltauth::core {

/// JSON answer with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 section 5.1; checklist A4).
Response json_response(int status, const boost::json::object& body);

/// `{"error","error_description"}` with the status of `style`. When the client tried HTTP Basic and failed,
/// adds `WWW-Authenticate: Basic realm="boltauth"` (RFC 6749 section 5.2).
Response oauth_error_response(const protocol::OAuthError& error, protocol::ErrorStyle style, bool basic_attempted);

/// Bolt's generic error body `{"errors":[{"code":...,"message":...}],"result":{"success":false}}`.
Response bolt_error_response(int status, int code, std::string_view message);

}  // namespace boltauth::core
