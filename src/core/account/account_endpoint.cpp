#include "core/account/account_endpoint.hpp"

#include <boost/json/parse.hpp>
#include <variant>

#include "core/checks.hpp"
#include "core/responses.hpp"
#include "protocol/scope.hpp"

namespace boltauth::core::account {
namespace {

using protocol::ScopeSet;
using protocol::ScopeToken;

struct Authorized {
  ResolvedToken token;
  model::Account account;
};

Response unauthorized() {
  // RFC 6750 section 3.1.
  Response r = bolt_error_response(401, 1001, "The access token is missing, invalid, expired or revoked.");
  r.with_header("WWW-Authenticate", "Bearer realm=\"boltauth\", error=\"invalid_token\"");
  return r;
}

Response insufficient_scope(std::string_view needed) {
  Response r = bolt_error_response(403, 1003, "The access token does not carry the scope this endpoint needs.");
  r.with_header("WWW-Authenticate",
                "Bearer realm=\"boltauth\", error=\"insufficient_scope\", scope=\"" + std::string(needed) + "\"");
  return r;
}

boost::json::object profile_view(const model::Account& a) {
  boost::json::object p;
  p["first_name"] = a.first_name;
  p["last_name"] = a.last_name;
  p["name"] = a.first_name.empty()  ? a.last_name
              : a.last_name.empty() ? a.first_name
                                    : a.first_name + " " + a.last_name;
  p["email"] = a.email;
  if (a.phone) p["phone"] = *a.phone;
  return p;
}

// Finds the live access token and its account, or the response to send instead.
std::variant<Authorized, Response> authorize(AccountEndpointDeps& d, const Request& request, ScopeSet any_of,
                                             std::string_view needed) {
  const auto bearer = checks::bearer_header(request);
  if (bearer.status != checks::BearerHeader::Status::present) return unauthorized();
  const auto now = d.clock.now();
  // A client_credentials token names no shopper, so it opens no account.
  auto resolved = checks::live_access_token(d.tokens, bearer.token, now);
  if (!resolved || resolved->client_credentials) return unauthorized();
  if (auto api_key = request.header("x-api-key"); api_key && !api_key->empty()) {
    auto client = d.registry.resolve(resolved->client_id);
    if (!client || !d.registry.secret_matches(*client, *api_key))
      return bolt_error_response(401, 1005, "Authentication error. Invalid merchant key.");
  }
  // A token of a deactivated account is invalid whatever its scope, so this comes before the scope check.
  auto account = checks::active_account(d.accounts, resolved->sub, now);
  if (!account) return unauthorized();
  if (!checks::has_any_scope(resolved->scope, any_of)) return insufficient_scope(needed);
  return Authorized{std::move(*resolved), std::move(*account)};
}

}  // namespace

Response AccountEndpoint::get_account(const Request& request) {
  auto auth = authorize(d_, request, ScopeSet{ScopeToken::bolt_account_view, ScopeToken::bolt_account_manage},
                        "bolt.account.view");
  if (auto* r = std::get_if<Response>(&auth)) return std::move(*r);
  const auto& account = std::get<Authorized>(auth).account;
  // OpenAPI `account_details`. boltauth keeps no addresses or wallets: both lists are empty.
  boost::json::object body;
  body["has_bolt_account"] = true;
  body["profile"] = profile_view(account);
  body["addresses"] = boost::json::array{};
  body["payment_methods"] = boost::json::array{};
  return json_response(200, body);
}

Response AccountEndpoint::patch_profile(const Request& request) {
  auto auth = authorize(d_, request, ScopeSet{ScopeToken::bolt_account_manage}, "bolt.account.manage");
  if (auto* r = std::get_if<Response>(&auth)) return std::move(*r);
  const auto& account = std::get<Authorized>(auth).account;
  boost::system::error_code ec;
  const auto value = boost::json::parse(request.body, ec);
  if (ec || !value.is_object()) return bolt_error_response(400, 1002, "The body must be a JSON object.");
  std::optional<std::string> first;
  std::optional<std::string> last;
  for (auto [key, out] : {std::pair{"first_name", &first}, std::pair{"last_name", &last}}) {
    const auto* v = value.as_object().if_contains(key);
    if (!v) continue;
    if (!v->is_string() || v->as_string().size() > 200)
      return bolt_error_response(422, 1002, std::string(key) + " must be a string of at most 200 characters.");
    *out = std::string(v->as_string());
  }
  if (!d_.accounts.update_profile(account.sub, first, last, d_.clock.now())) return unauthorized();
  auto updated = d_.accounts.find(account.sub);
  if (!updated) return unauthorized();
  return json_response(200, profile_view(*updated));
}

}  // namespace boltauth::core::account
