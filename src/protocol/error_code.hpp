#pragma once
#include <string>
#include <string_view>

namespace boltauth::protocol {

/// OAuth error codes, spelled as on the wire: RFC 6749 section 5.2 plus Bolt's `request_forbidden`, then the
/// authorization endpoint's (RFC 6749 section 4.1.2.1, OIDC Core section 3.1.2.6).
enum class ErrorCode {
  invalid_request,
  invalid_client,
  invalid_grant,
  invalid_scope,
  unauthorized_client,
  unsupported_grant_type,
  request_forbidden,
  slow_down,
  server_error,
  temporarily_unavailable,
  // Authorization endpoint only: these go back on the redirect, never to the token endpoint.
  access_denied,
  unsupported_response_type,
  login_required,
};

/// Which status table answers errors: Bolt's (400/401/403/422) or plain RFC 6749 (400, 401 for invalid_client).
enum class ErrorStyle { bolt, rfc6749 };

std::string_view to_string(ErrorCode code) noexcept;

/// The public sentence for a code: Bolt's own wording where its OpenAPI file gives one, RFC 6749's otherwise.
/// ASCII only, no `"` or `\` (RFC 6749 section 5.2 restricts error_description to %x20-21 / %x23-5B / %x5D-7E).
std::string_view default_description(ErrorCode code) noexcept;

/// One protocol failure. `debug` is for logs only and never reaches the wire.
struct OAuthError {
  ErrorCode code;
  std::string description;
  std::string debug;
  /// The request parameter at fault, when one is: named in `description`, and the `field` of Bolt's v3 FieldError.
  std::string field = {};

  static OAuthError make(ErrorCode code, std::string debug = {}) {
    return OAuthError{code, std::string(default_description(code)), std::move(debug)};
  }
  /// An error about one parameter, with a description that names it (`sentence`: ASCII, no `"` or `\`).
  static OAuthError about(ErrorCode code, std::string field, std::string sentence, std::string debug = {}) {
    return OAuthError{code, std::move(sentence), std::move(debug), std::move(field)};
  }
};

/// HTTP status for an error under a style. Contract section 3, "Errors".
int http_status(ErrorCode code, ErrorStyle style) noexcept;

/// The code written on the wire: under rfc6749 style Bolt's `request_forbidden` becomes `unauthorized_client`.
ErrorCode wire_code(ErrorCode code, ErrorStyle style) noexcept;

}  // namespace boltauth::protocol
