#pragma once
#include <string>
#include <string_view>

#include "core/exchange.hpp"
#include "http/http_server.hpp"

namespace boltauth::server {

/// The client a request names, for the access log: the user name of HTTP Basic credentials, else the
/// `client_id` form parameter of the body, else that of the query. Never a secret, a token or a code. Empty when
/// the request names none, or names one that is not 1 to 128 printable ASCII characters.
std::string client_named(const core::Request& request);

/// Why an answer refused its request, as the answer itself says it: the OAuth `error` and `error_description`
/// (JSON body, WWW-Authenticate, or the query or fragment of an error redirect), the code and message of a Bolt
/// error body, or the alert of an HTML error page. Nothing else of the request or answer is taken.
struct RefusalReason {
  bool refused = false;  // status >= 400, or a redirect carrying an `error`
  std::string error;     // empty when the answer carries no code
  std::string description;
};
RefusalReason refusal_reason(const http::Exchange& exchange);

/// Writes the access line of `exchange` (info) and, when it refused the request, the reason (debug). The access
/// line names the method, the path without its query (so no code or token in a URL is ever logged), status,
/// duration, body bytes, client id when known, request id and the client's address.
void log_exchange(const http::Exchange& exchange);

}  // namespace boltauth::server
