#include "core/userinfo/userinfo_endpoint.hpp"

#include <boost/json/object.hpp>
#include <string>
#include <variant>

#include "core/checks.hpp"
#include "core/responses.hpp"
#include "protocol/form.hpp"
#include "protocol/scope.hpp"

namespace boltauth::core::userinfo {
namespace {

using protocol::ScopeSet;
using protocol::ScopeToken;

// RFC 6750 section 3.1: the error code goes in WWW-Authenticate; the JSON body repeats it for clients that read
// bodies. A request with no token at all gets the challenge without an error code (section 3.1, last paragraph).
Response bearer_error(int status, std::string_view code, std::string_view description) {
  boost::json::object body;
  std::string challenge = "Bearer realm=\"boltauth\"";
  if (!code.empty()) {
    body["error"] = code;
    body["error_description"] = description;
    challenge += ", error=\"" + std::string(code) + "\"";
    if (code == "insufficient_scope") challenge += ", scope=\"openid\"";
  } else {
    body["error"] = "invalid_token";
    body["error_description"] = description;
  }
  Response r = json_response(status, body);
  r.with_header("WWW-Authenticate", std::move(challenge));
  return r;
}

Response no_token() { return bearer_error(401, "", "No access token was presented."); }
Response invalid_token() {
  return bearer_error(401, "invalid_token", "The access token is invalid, expired or revoked.");
}
Response invalid_request(std::string_view why) { return bearer_error(400, "invalid_request", why); }

// The bearer token of the request, or the response to send instead. RFC 6750 section 2.1 (header) and 2.2
// (form body of a POST); the query string (section 2.3) is not accepted, since URLs end up in logs. Exactly one
// method may be used (section 2).
std::variant<std::string, Response> bearer_token(const Request& request, std::size_t max_params) {
  std::optional<std::string> from_header;
  const auto bearer = checks::bearer_header(request);
  switch (bearer.status) {
    case checks::BearerHeader::Status::absent:
      break;
    case checks::BearerHeader::Status::repeated:
      return invalid_request("Two Authorization headers.");
    case checks::BearerHeader::Status::not_bearer:
      return invalid_token();
    case checks::BearerHeader::Status::present:
      from_header = std::string(bearer.token);
      break;
  }
  std::optional<std::string> from_body;
  if (checks::is_post(request) && checks::is_form_content_type(request.header("content-type"))) {
    auto parsed = protocol::parse_form(request.body, max_params);
    if (!parsed.params) return invalid_request("The form body is malformed or repeats a parameter.");
    if (auto t = parsed.params->get("access_token")) from_body = std::string(*t);
  }
  if (from_header && from_body) return invalid_request("The access token was sent in more than one way.");
  if (from_header) return std::move(*from_header);
  if (from_body) return std::move(*from_body);
  return no_token();
}

std::string full_name(const model::Account& a) {
  if (a.first_name.empty()) return a.last_name;
  if (a.last_name.empty()) return a.first_name;
  return a.first_name + " " + a.last_name;
}

}  // namespace

Response UserinfoEndpoint::handle(const Request& request) {
  if (request.method != "GET" && request.method != "POST")
    return invalid_request("Use GET or POST.").with_header("Allow", "GET, POST");
  auto presented = bearer_token(request, d_.config.max_form_params);
  if (auto* r = std::get_if<Response>(&presented)) return std::move(*r);
  const std::string& token = std::get<std::string>(presented);
  const auto now = d_.clock.now();
  const auto resolved = checks::live_access_token(d_.tokens, token, now);
  if (!resolved) return invalid_token();
  const ScopeSet scope = resolved->scope;
  // OIDC Core section 5.3.1: the token must have been granted with `openid`.
  if (!scope.has(ScopeToken::openid))
    return bearer_error(403, "insufficient_scope", "The access token was not granted the openid scope.");
  const auto account = checks::active_account(d_.accounts, resolved->sub, now);
  if (!account) return invalid_token();

  // Claims by scope (OIDC Core section 5.4). Bolt has no `profile` scope: the names come with `openid`, as in
  // the id_token (contract section 4); email needs `email`; the phone comes with `openid` when the account has
  // one, as in the id_token.
  boost::json::object claims;
  claims["sub"] = account->sub;
  claims["first_name"] = account->first_name;
  claims["last_name"] = account->last_name;
  claims["name"] = full_name(*account);
  if (scope.has(ScopeToken::email)) {
    claims["email"] = account->email;
    claims["email_verified"] = account->email_verified;
  }
  if (account->phone) {
    claims["phone_number"] = *account->phone;
    claims["phone_number_verified"] = account->phone_verified;
  }
  return json_response(200, claims);
}

}  // namespace boltauth::core::userinfo
