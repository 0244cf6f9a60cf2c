#include "core/account/account_endpoint.hpp"

#include <boost/json/object.hpp>
#include <variant>

#include "core/account/account_input.hpp"
#include "core/api_error.hpp"
#include "core/checks.hpp"
#include "core/responses.hpp"
#include "core/routes.hpp"
#include "crypto/digest.hpp"
#include "protocol/form.hpp"
#include "protocol/scope.hpp"

namespace boltauth::core::account {
namespace {

using protocol::ScopeSet;
using protocol::ScopeToken;

constexpr ScopeSet kRead{ScopeToken::bolt_account_view, ScopeToken::bolt_account_manage};
constexpr ScopeSet kWrite{ScopeToken::bolt_account_manage};

struct Authorized {
  ResolvedToken token;
  model::Account account;
};

Response unauthorized(Dialect dialect) {
  // RFC 6750 section 3.1.
  return api_error_response({ApiError::Kind::unauthorized, "The access token is missing, invalid, expired or revoked."},
                            dialect)
      .with_header("WWW-Authenticate", "Bearer realm=\"boltauth\", error=\"invalid_token\"");
}

Response wrong_merchant_key(Dialect dialect) {
  return api_error_response({ApiError::Kind::unauthorized, "Authentication error. Invalid merchant key.", {}, 1005},
                            dialect);
}

Response insufficient_scope(ScopeSet needed, Dialect dialect) {
  const std::string scope = needed.has(ScopeToken::bolt_account_view) ? "bolt.account.view" : "bolt.account.manage";
  return api_error_response(
             {ApiError::Kind::forbidden, "The access token does not carry the scope " + scope + " this call needs."},
             dialect)
      .with_header("WWW-Authenticate",
                   "Bearer realm=\"boltauth\", error=\"insufficient_scope\", scope=\"" + scope + "\"");
}

boost::json::object profile_view(const model::Account& a, Dialect dialect) {
  boost::json::object p;
  p["first_name"] = a.first_name;
  p["last_name"] = a.last_name;
  if (dialect != Dialect::v3) {
    p["name"] = a.first_name.empty()  ? a.last_name
                : a.last_name.empty() ? a.first_name
                                      : a.first_name + " " + a.last_name;
  }
  p["email"] = a.email;
  if (a.phone) p["phone"] = *a.phone;
  return p;
}

// v1 `address_view_account` (+ `default`): email and phone are spelled email_address and phone_number there.
// v3 `AddressListing`: the input's names, `id` and `is_default`.
boost::json::object address_view(const model::Address& a, Dialect dialect) {
  boost::json::object o;
  o["id"] = a.id;
  for (const auto& [k, v] : a.fields) {
    if (dialect != Dialect::v3 && k == "email")
      o["email_address"] = v;
    else if (dialect != Dialect::v3 && k == "phone")
      o["phone_number"] = v;
    else
      o[k] = v;
  }
  o[dialect == Dialect::v3 ? "is_default" : "default"] = a.is_default;
  return o;
}

Response address_not_found(Dialect dialect) {
  return api_error_response({ApiError::Kind::not_found, "This account has no address with that id."}, dialect);
}

// Finds the live access token and its account, or the response to send instead.
std::variant<Authorized, Response> authorize(AccountEndpointDeps& d, const Request& request, ScopeSet any_of,
                                             Dialect dialect) {
  const auto bearer = checks::bearer_header(request);
  if (bearer.status != checks::BearerHeader::Status::present) return unauthorized(dialect);
  const auto now = d.clock.now();
  // A client_credentials token names no shopper, so it opens no account.
  auto resolved = checks::live_access_token(d.tokens, bearer.token, now);
  if (!resolved || resolved->client_credentials) return unauthorized(dialect);
  if (auto api_key = request.header("x-api-key"); api_key && !api_key->empty()) {
    auto client = d.registry.resolve(resolved->client_id);
    if (!client || !d.registry.secret_matches(*client, *api_key)) return wrong_merchant_key(dialect);
  }
  // A token of a deactivated account is invalid whatever its scope, so this comes before the scope check.
  auto account = checks::active_account(d.accounts, resolved->sub, now);
  if (!account) return unauthorized(dialect);
  if (!checks::has_any_scope(resolved->scope, any_of)) return insufficient_scope(any_of, dialect);
  return Authorized{std::move(*resolved), std::move(*account)};
}

// The request's address body, checked, as a new address of `sub` under a fresh id; or the answer to send instead.
std::variant<model::Address, Response> new_address(const Request& request, Dialect dialect, const std::string& sub,
                                                   base::Random& random, base::UnixSeconds now) {
  auto body = json_object_body(request);
  if (auto* err = std::get_if<ApiError>(&body)) return api_error_response(*err, dialect);
  auto input = parse_address(std::get<boost::json::object>(body), dialect);
  if (auto* err = std::get_if<ApiError>(&input)) return api_error_response(*err, dialect);
  auto& in = std::get<AddressInput>(input);
  model::Address address;
  address.id = "addr_" + random.alnum(24);
  address.sub = sub;
  address.fields = std::move(in.fields);
  address.is_default = in.make_default.value_or(false);
  address.created_at = now;
  address.updated_at = now;
  return address;
}

}  // namespace

Response AccountEndpoint::get_account(const Request& request, Dialect dialect) {
  auto auth = authorize(d_, request, kRead, dialect);
  if (auto* r = std::get_if<Response>(&auth)) return std::move(*r);
  const auto& account = std::get<Authorized>(auth).account;
  boost::json::array addresses;
  for (const auto& a : d_.addresses.list(account.sub)) addresses.emplace_back(address_view(a, dialect));
  // v1 `account_details`, v3 `Account`. boltauth keeps no payment methods: Bolt's payment business.
  boost::json::object body;
  if (dialect != Dialect::v3) body["has_bolt_account"] = true;
  body["profile"] = profile_view(account, dialect);
  body["addresses"] = std::move(addresses);
  body["payment_methods"] = boost::json::array{};
  return json_response(200, body);
}

Response AccountEndpoint::patch_profile(const Request& request) {
  auto auth = authorize(d_, request, kWrite, Dialect::v1);
  if (auto* r = std::get_if<Response>(&auth)) return std::move(*r);
  const auto& authorized = std::get<Authorized>(auth);
  return idempotency_.run(request, authorized.token.client_id, Dialect::v1, [&]() -> Response {
    auto body = json_object_body(request);
    if (auto* err = std::get_if<ApiError>(&body)) return api_error_response(*err, Dialect::v1);
    const auto& object = std::get<boost::json::object>(body);
    std::optional<std::string> first;
    std::optional<std::string> last;
    for (auto [key, out] : {std::pair{"first_name", &first}, std::pair{"last_name", &last}}) {
      if (auto err = check_text(object, key, 200, false)) return api_error_response(*err, Dialect::v1);
      if (const auto* v = object.if_contains(key); v && v->is_string()) *out = std::string(v->as_string());
    }
    // `metadata` (update_profile) is accepted and not kept; anything else is named.
    for (const auto& [key, value] : object) {
      if (key != "first_name" && key != "last_name" && key != "metadata")
        return api_error_response(ApiError::field_error("body", "Only first_name and last_name can be updated."),
                                  Dialect::v1);
    }
    const auto& account = authorized.account;
    if (!d_.accounts.update_profile(account.sub, first, last, d_.clock.now())) return unauthorized(Dialect::v1);
    auto updated = d_.accounts.find(account.sub);
    if (!updated) return unauthorized(Dialect::v1);
    return json_response(200, profile_view(*updated, Dialect::v1));
  });
}

Response AccountEndpoint::add_address(const Request& request, Dialect dialect) {
  auto auth = authorize(d_, request, kWrite, dialect);
  if (auto* r = std::get_if<Response>(&auth)) return std::move(*r);
  const auto& authorized = std::get<Authorized>(auth);
  return idempotency_.run(request, authorized.token.client_id, dialect, [&]() -> Response {
    auto made = new_address(request, dialect, authorized.account.sub, d_.random, d_.clock.now());
    if (auto* r = std::get_if<Response>(&made)) return std::move(*r);
    auto& address = std::get<model::Address>(made);
    if (d_.addresses.add(address, kMaxAddressesPerAccount) == ports::AddressStore::AddResult::full)
      return api_error_response(
          {ApiError::Kind::unprocessable,
           "This account already has " + std::to_string(kMaxAddressesPerAccount) + " addresses; delete one first."},
          dialect);
    return json_response(200, address_view(address, dialect));
  });
}

Response AccountEndpoint::edit_address(const Request& request, Dialect dialect) {
  auto auth = authorize(d_, request, kWrite, dialect);
  if (auto* r = std::get_if<Response>(&auth)) return std::move(*r);
  const auto& authorized = std::get<Authorized>(auth);
  auto body = json_object_body(request);
  if (auto* err = std::get_if<ApiError>(&body)) return api_error_response(*err, dialect);
  auto input = parse_address(std::get<boost::json::object>(body), dialect);
  if (auto* err = std::get_if<ApiError>(&input)) return api_error_response(*err, dialect);
  auto& in = std::get<AddressInput>(input);
  const auto id = RouteTable::path_id(request.path);
  auto edited = d_.addresses.edit(authorized.account.sub, id, in.fields, in.make_default, d_.clock.now());
  if (!edited) return address_not_found(dialect);
  return json_response(200, address_view(*edited, dialect));
}

Response AccountEndpoint::replace_address(const Request& request) {
  constexpr Dialect dialect = Dialect::v1;
  auto auth = authorize(d_, request, kWrite, dialect);
  if (auto* r = std::get_if<Response>(&auth)) return std::move(*r);
  const auto& authorized = std::get<Authorized>(auth);
  return idempotency_.run(request, authorized.token.client_id, dialect, [&]() -> Response {
    auto made = new_address(request, dialect, authorized.account.sub, d_.random, d_.clock.now());
    if (auto* r = std::get_if<Response>(&made)) return std::move(*r);
    auto& replacement = std::get<model::Address>(made);
    if (!d_.addresses.replace(authorized.account.sub, RouteTable::path_id(request.path), replacement))
      return address_not_found(dialect);
    return json_response(200, address_view(replacement, dialect));
  });
}

Response AccountEndpoint::delete_address(const Request& request, Dialect dialect) {
  auto auth = authorize(d_, request, kWrite, dialect);
  if (auto* r = std::get_if<Response>(&auth)) return std::move(*r);
  const auto& authorized = std::get<Authorized>(auth);
  if (!d_.addresses.remove(authorized.account.sub, RouteTable::path_id(request.path), d_.clock.now()))
    return address_not_found(dialect);
  // Bolt answers an empty 200.
  Response r;
  r.content_type.clear();
  r.with_header("Cache-Control", "no-store");
  return r;
}

Response AccountEndpoint::detect_account(const Request& request) {
  constexpr Dialect dialect = Dialect::v1;
  // Only a registered merchant may ask, and only so often: the answer says whether an email or phone has an
  // account, which must not become a way to enumerate shoppers.
  const auto key = request.header("x-publishable-key");
  std::optional<model::Client> client;
  if (key && !key->empty()) client = d_.registry.resolve(*key);
  if (!client)
    return api_error_response({ApiError::Kind::unauthorized, "A registered X-Publishable-Key is required.", {}, 1005},
                              dialect);
  const auto now = d_.clock.now();
  if (!detect_per_address_.allow(request.remote_address, now) || !detect_per_key_.allow(client->id, now))
    return api_error_response({ApiError::Kind::too_many_requests, "Too many account lookups; retry later."}, dialect)
        .with_header("Retry-After", std::to_string(60 - now % 60));
  auto parsed = protocol::parse_form(request.query, 8);
  if (!parsed.params)
    return api_error_response(ApiError::field_error("query", "The query string is malformed or repeats a parameter."),
                              dialect);
  const auto& q = *parsed.params;
  const int given = q.has("email") + q.has("phone") + q.has("sha256_email");
  if (given == 0)
    return api_error_response({ApiError::Kind::unprocessable, "Give one of email, phone or sha256_email."}, dialect);
  if (given > 1)
    return api_error_response({ApiError::Kind::unprocessable, "Give only one of email, phone or sha256_email."},
                              dialect);
  std::optional<model::Account> found;
  if (const auto email = q.get("email")) {
    if (email->size() > 254) return api_error_response(ApiError::field_error("email", "email is too long."), dialect);
    found = d_.accounts.find_by_email(*email);
  } else if (const auto phone = q.get("phone")) {
    if (!e164(*phone))
      return api_error_response(ApiError::field_error("phone", "phone must be in E.164 form, such as +14155550100."),
                                dialect);
    found = d_.accounts.find_by_phone(*phone);
  } else {
    const auto digest = *q.get("sha256_email");
    const bool hex64 = digest.size() == 64 && std::all_of(digest.begin(), digest.end(), [](char c) {
                         return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
                       });
    if (!hex64)
      return api_error_response(
          ApiError::field_error("sha256_email", "sha256_email must be the 64 hex digits of SHA-256 of the email."),
          dialect);
    std::string lower(digest);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    found = d_.accounts.find_by_email_sha256(lower);
  }
  // A deactivated sandbox account counts as none.
  const bool exists = found && checks::account_active(*found, now);
  boost::json::object body;
  body["has_bolt_account"] = exists;
  return json_response(200, body);
}

}  // namespace boltauth::core::account
