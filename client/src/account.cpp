// Bolt's v1 account calls (class Account in bolt.hpp).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <type_traits>

#include "boltauth/bolt.hpp"
#include "internal.hpp"
#include "protocol/form.hpp"

namespace boltauth {
namespace {

namespace json = boost::json;

struct Call {
  std::string method;
  std::string target;  ///< path and query, already percent-encoded
  std::optional<std::string> bearer;
  std::optional<std::string> json_body;
  std::optional<std::string> idempotency_key;
  std::optional<std::string> publishable_key;
};

// RFC 3986: everything but unreserved characters is escaped, so an id or a query value cannot add a path segment,
// a query parameter or a fragment.
std::string encode(std::string_view text) { return protocol::form_encode(text); }

// A path segment also escapes '.': an id "." or ".." would otherwise be a dot-segment, which URL normalization
// (libcurl's included) removes, sending the call to another resource.
std::string address_path(const std::string& id) {
  std::string segment;
  for (char c : encode(id)) {
    if (c == '.') {
      segment += "%2E";
    } else {
      segment += c;
    }
  }
  return "/v1/account/addresses/" + segment;
}

TransportResult send(const Bolt& bolt, const Call& call) {
  const BoltOptions& o = bolt.options();
  HttpRequest request;
  request.method = call.method;
  request.url = bolt.server_url() + call.target;
  request.timeout = o.timeout;
  request.headers = {{"Accept", "application/json"}, {"User-Agent", detail::sdk_user_agent()}};
  if (call.bearer) request.headers.emplace_back("Authorization", "Bearer " + *call.bearer);
  if (call.json_body) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = *call.json_body;
  }
  if (o.x_api_key) request.headers.emplace_back("X-API-Key", *o.x_api_key);
  if (call.publishable_key) request.headers.emplace_back("X-Publishable-Key", *call.publishable_key);
  if (call.idempotency_key) request.headers.emplace_back("Idempotency-Key", *call.idempotency_key);
  request.headers.insert(request.headers.end(), o.extra_headers.begin(), o.extra_headers.end());

  // A POST or PATCH repeated with its Idempotency-Key gets the first answer and writes nothing, so it may be
  // retried like a GET; without a key a lost answer may hide a write (a second address, a second replace).
  const bool idempotent =
      call.method == "GET" || call.method == "PUT" || call.method == "DELETE" || call.idempotency_key.has_value();
  return send_with_retries(*o.transport, request, o.retry_config,
                           idempotent ? Idempotency::idempotent : Idempotency::non_idempotent, o.retry_env);
}

// Maps an answer to the model (`parse` of its JSON), Bolt's v1 error, or an APIError.
template <class T, class Parse>
AccountResult<T> decode(TransportResult result, const char* model, Parse parse) {
  if (!result.response) return errors::APIError("transport failure: " + result.error, 0, {});
  HttpResponse& r = *result.response;
  const int status = r.status;
  if (status >= 200 && status < 300) {
    if constexpr (std::is_same_v<T, std::monostate>) {
      return std::monostate{};  // deleteAddress answers an empty 200: there is nothing to check
    } else {
      if (!detail::is_json(r)) {
        return errors::APIError("unknown content-type received: " + r.header("content-type").value_or(""), status,
                                std::move(r.body), std::move(r.headers));
      }
      json::error_code ec;
      const json::value value = json::parse(r.body, ec);
      std::optional<T> parsed;
      if (!ec) parsed = parse(value);
      if (!parsed) {
        return errors::APIError(std::string("invalid ") + model + " body", status, std::move(r.body),
                                std::move(r.headers));
      }
      return std::move(*parsed);
    }
  }
  if (status >= 400 && status < 500 && detail::is_json(r)) {
    json::error_code ec;
    const json::value value = json::parse(r.body, ec);
    if (!ec) {
      if (auto data = models::errors_bolt_api_response_from_json(value)) {
        return errors::ErrorsBoltApiResponse(std::move(*data), status, std::move(r.body), std::move(r.headers));
      }
    }
  }
  const bool api_status = status >= 400 && status < 600;
  return errors::APIError(api_status ? "API error occurred" : "unknown status code received", status, std::move(r.body),
                          std::move(r.headers));
}

template <class T>
T unwrap(AccountResult<T> result) {
  if (auto* e = std::get_if<errors::ErrorsBoltApiResponse>(&result)) throw std::move(*e);
  if (auto* e = std::get_if<errors::APIError>(&result)) throw std::move(*e);
  return std::get<T>(std::move(result));
}

std::string body_of(const json::object& object) { return json::serialize(object); }

}  // namespace

AccountResult<models::AccountDetails> Account::get_account_result(const std::string& access_token) const {
  Call call{"GET", "/v1/account", access_token, std::nullopt, std::nullopt, std::nullopt};
  return decode<models::AccountDetails>(send(*bolt_, call), "AccountDetails", models::account_details_from_json);
}

models::AccountDetails Account::get_account(const std::string& access_token) const {
  return unwrap(get_account_result(access_token));
}

AccountResult<models::Profile> Account::update_account_profile_result(
    const std::string& access_token, const models::UpdateProfile& body,
    const std::optional<std::string>& idempotency_key) const {
  Call call{"PATCH",         "/v1/account/profile", access_token, body_of(models::to_json(body)),
            idempotency_key, std::nullopt};
  return decode<models::Profile>(send(*bolt_, call), "Profile", models::profile_from_json);
}

models::Profile Account::update_account_profile(const std::string& access_token, const models::UpdateProfile& body,
                                                const std::optional<std::string>& idempotency_key) const {
  return unwrap(update_account_profile_result(access_token, body, idempotency_key));
}

AccountResult<models::AddressView> Account::add_address_result(
    const std::string& access_token, const models::AddressInput& body,
    const std::optional<std::string>& idempotency_key) const {
  Call call{"POST",      "/v1/account/addresses", access_token, body_of(models::to_json(body)), idempotency_key,
            std::nullopt};
  return decode<models::AddressView>(send(*bolt_, call), "AddressView", models::address_view_from_json);
}

models::AddressView Account::add_address(const std::string& access_token, const models::AddressInput& body,
                                         const std::optional<std::string>& idempotency_key) const {
  return unwrap(add_address_result(access_token, body, idempotency_key));
}

AccountResult<models::AddressView> Account::edit_address_result(const std::string& access_token, const std::string& id,
                                                                const models::AddressInput& body) const {
  Call call{"PUT", address_path(id), access_token, body_of(models::to_json(body)), std::nullopt, std::nullopt};
  return decode<models::AddressView>(send(*bolt_, call), "AddressView", models::address_view_from_json);
}

models::AddressView Account::edit_address(const std::string& access_token, const std::string& id,
                                          const models::AddressInput& body) const {
  return unwrap(edit_address_result(access_token, id, body));
}

AccountResult<models::AddressView> Account::replace_address_result(
    const std::string& access_token, const std::string& id, const models::AddressInput& body,
    const std::optional<std::string>& idempotency_key) const {
  Call call{"POST", address_path(id), access_token, body_of(models::to_json(body)), idempotency_key, std::nullopt};
  return decode<models::AddressView>(send(*bolt_, call), "AddressView", models::address_view_from_json);
}

models::AddressView Account::replace_address(const std::string& access_token, const std::string& id,
                                             const models::AddressInput& body,
                                             const std::optional<std::string>& idempotency_key) const {
  return unwrap(replace_address_result(access_token, id, body, idempotency_key));
}

AccountResult<std::monostate> Account::delete_address_result(const std::string& access_token,
                                                             const std::string& id) const {
  Call call{"DELETE", address_path(id), access_token, std::nullopt, std::nullopt, std::nullopt};
  return decode<std::monostate>(send(*bolt_, call), "", [](const json::value&) { return std::monostate{}; });
}

void Account::delete_address(const std::string& access_token, const std::string& id) const {
  unwrap(delete_address_result(access_token, id));
}

AccountResult<models::AccountsView> Account::detect_account_result(const std::string& x_publishable_key,
                                                                   const models::DetectAccountQuery& query) const {
  std::string target = "/v1/account/exists";
  char separator = '?';
  for (const auto& [name, value] : {std::pair{"email", &query.email}, std::pair{"phone", &query.phone},
                                    std::pair{"sha256_email", &query.sha256_email}}) {
    if (!*value) continue;
    target += separator;
    target += name;
    target += '=';
    target += encode(**value);
    separator = '&';
  }
  // No identifier is sent as such: the server's 422 names the rule.
  Call call{"GET", std::move(target), std::nullopt, std::nullopt, std::nullopt, x_publishable_key};
  return decode<models::AccountsView>(send(*bolt_, call), "AccountsView", models::accounts_view_from_json);
}

models::AccountsView Account::detect_account(const std::string& x_publishable_key,
                                             const models::DetectAccountQuery& query) const {
  return unwrap(detect_account_result(x_publishable_key, query));
}

}  // namespace boltauth
