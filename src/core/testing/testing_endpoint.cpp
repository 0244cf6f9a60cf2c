#include "core/testing/testing_endpoint.hpp"

#include <boost/json/parse.hpp>
#include <cstdio>
#include <stdexcept>

#include "core/account/account_input.hpp"
#include "core/api_error.hpp"
#include "core/responses.hpp"
#include "protocol/models.hpp"
#include "protocol/scope.hpp"

namespace boltauth::core::testing {

std::string format_rfc3339(base::UnixSeconds t) {
  // Days-to-civil conversion (H. Hinnant's algorithm).
  std::int64_t days = t / 86400;
  std::int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

namespace {
bool valid_state(const std::optional<std::string>& s) {
  return !s || *s == "verified" || *s == "unverified" || *s == "missing";
}
}  // namespace

struct TestingEndpoint::Shopper {
  std::string email_state = "verified";
  std::string phone_state = "verified";
  std::int64_t deactivate_in_days = 30;
  bool has_address = false;
};

struct TestingEndpoint::Created {
  model::Account account;
  std::string otp_code;
  std::string oauth_code;
};

std::optional<model::Client> TestingEndpoint::merchant(const Request& request) {
  const auto api_key = request.header("x-api-key");
  if (!api_key || api_key->empty() || !d_.minter.verify(crypto::TokenKind::client_secret, *api_key))
    return std::nullopt;
  auto client = d_.clients.find_by_secret_hash(d_.minter.storage_hash(*api_key));
  if (!client) return std::nullopt;
  if (auto pk = request.header("x-publishable-key"); pk && !pk->empty()) {
    auto named = d_.registry.resolve(*pk);
    if (!named || named->id != client->id) return std::nullopt;
  }
  return client;
}

std::string TestingEndpoint::unused_phone() {
  // 555-01XX numbers are reserved for fiction (North American Numbering Plan); 10^7 random endings make a clash
  // unlikely, and the account store is asked.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string phone = "+1555" + d_.random.digits(7);
    if (!d_.accounts.find_by_phone(phone)) return phone;
  }
  return "+1555" + d_.random.digits(7);
}

TestingEndpoint::Created TestingEndpoint::create(const model::Client& client, const Shopper& shopper) {
  const auto now = d_.clock.now();
  AccountSpec spec;
  spec.email = "test-" + d_.random.alnum(16) + "@sandbox.boltauth.test";
  for (auto& c : spec.email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  spec.email_verified = shopper.email_state == "verified";
  if (shopper.phone_state != "missing") {
    spec.phone = unused_phone();
    spec.phone_verified = shopper.phone_state == "verified";
  }
  spec.first_name = "Test";
  spec.last_name = "Shopper";
  spec.otp_code = d_.random.digits(6);
  spec.deactivate_at = now + shopper.deactivate_in_days * 86400;
  auto created = d_.registry.create_account(spec);
  if (std::holds_alternative<std::string>(created)) throw std::runtime_error(std::get<std::string>(created));
  Created out{std::get<model::Account>(created), *spec.otp_code, {}};

  if (shopper.has_address) {
    model::Address address;
    address.id = "addr_" + d_.random.alnum(24);
    address.sub = out.account.sub;
    address.fields = {{"first_name", "Test"},
                      {"last_name", "Shopper"},
                      {"street_address1", "1 Test Street"},
                      {"locality", "San Francisco"},
                      {"region", "CA"},
                      {"postal_code", "94105"},
                      {"country_code", "US"},
                      {"email", out.account.email}};
    address.is_default = true;
    address.created_at = now;
    address.updated_at = now;
    d_.addresses.add(address, 1);
  }

  // A code for the calling client: no PKCE, no redirect_uri binding, single use (contract section 8).
  model::Grant grant;
  grant.client_id = client.id;
  grant.sub = out.account.sub;
  grant.scope = protocol::ScopeSet{protocol::ScopeToken::bolt_account_manage, protocol::ScopeToken::bolt_account_view,
                                   protocol::ScopeToken::openid}
                    .to_string();
  grant.auth_time = now;
  grant.code_expires_at = now + d_.config.code_ttl;
  out.oauth_code = d_.tokens.issue_code(std::move(grant), now);
  return out;
}

Response TestingEndpoint::create_shopper(const Request& request) {
  if (d_.config.mode != Mode::sandbox) return bolt_error_response(404, 1004, "Not found.");
  auto client = merchant(request);
  if (!client) return bolt_error_response(401, 1005, "Authentication error. Invalid merchant key.");

  models::TestingAccountRequest input;
  if (!request.body.empty()) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(request.body, ec);
    auto parsed = ec ? std::nullopt : models::testing_account_request_from_json(value);
    if (!parsed) return bolt_error_response(400, 1002, "The body must be a testing_account_request JSON object.");
    input = *parsed;
  }
  const std::int64_t days = input.deactivate_in_days.value_or(30);
  if (days < 1 || days > 180) return bolt_error_response(422, 1002, "deactivate_in_days must be between 1 and 180.");
  if (!valid_state(input.email_state) || !valid_state(input.phone_state))
    return bolt_error_response(422, 1002, "email_state and phone_state are missing, verified or unverified.");
  if (input.email_state == "missing")
    return bolt_error_response(422, 1002, "boltauth accounts always have an email; email_state cannot be missing.");

  Shopper shopper;
  shopper.email_state = input.email_state.value_or("verified");
  shopper.phone_state = input.phone_state.value_or("verified");
  shopper.deactivate_in_days = days;
  shopper.has_address = input.has_address.value_or(false);
  const Created created = create(*client, shopper);

  models::TestingAccountDetails out;
  out.email = created.account.email;
  out.email_state = shopper.email_state;
  out.phone = created.account.phone;
  out.phone_state = shopper.phone_state;
  out.otp_code = created.otp_code;  // shown once; the store keeps its keyed hash
  out.will_deactivate_at = format_rfc3339(*created.account.deactivate_at);
  out.oauth_code = created.oauth_code;
  return json_response(200, models::to_json(out));
}

Response TestingEndpoint::create_account_v3(const Request& request) {
  constexpr Dialect v3 = Dialect::v3;
  if (d_.config.mode != Mode::sandbox) return api_error_response({ApiError::Kind::not_found, "Not found."}, v3);
  auto client = merchant(request);
  if (!client)
    return api_error_response({ApiError::Kind::unauthorized, "Authentication error. Invalid merchant key."}, v3);
  auto body = account::json_object_body(request);
  if (auto* err = std::get_if<ApiError>(&body)) return api_error_response(*err, v3);
  const auto& o = std::get<boost::json::object>(body);
  Shopper shopper;
  for (auto [name, out] :
       {std::pair{"email_state", &shopper.email_state}, std::pair{"phone_state", &shopper.phone_state}}) {
    const auto* v = o.if_contains(name);
    if (!v) return api_error_response(ApiError::field_error(name, std::string(name) + " is required."), v3);
    if (!v->is_string() || !valid_state(std::string(v->as_string())))
      return api_error_response(
          ApiError::field_error(name, std::string(name) + " must be missing, unverified or verified."), v3);
    *out = std::string(v->as_string());
  }
  for (const char* name : {"is_migrated", "has_address", "has_credit_card"}) {
    const auto* v = o.if_contains(name);
    if (v && !v->is_bool())
      return api_error_response(ApiError::field_error(name, std::string(name) + " must be a boolean."), v3);
  }
  for (const auto& [key, value] : o) {
    if (key != "email_state" && key != "phone_state" && key != "is_migrated" && key != "has_address" &&
        key != "has_credit_card")
      return api_error_response(ApiError::field_error("body", "The body has a member a test account does not take."),
                                v3);
  }
  if (shopper.email_state == "missing")
    return api_error_response(
        {ApiError::Kind::unprocessable, "boltauth accounts always have an email; email_state cannot be missing."}, v3);
  // Payment methods are Bolt's payment business: has_credit_card is accepted and adds nothing.
  if (const auto* v = o.if_contains("has_address")) shopper.has_address = v->as_bool();
  const Created created = create(*client, shopper);
  boost::json::object out;
  out["email"] = created.account.email;
  out["email_state"] = shopper.email_state;
  out["phone"] = created.account.phone.value_or("");
  out["phone_state"] = shopper.phone_state;
  out["otp_code"] = created.otp_code;
  out["oauth_code"] = created.oauth_code;
  return json_response(200, out);
}

Response TestingEndpoint::phone_v3(const Request& request) {
  constexpr Dialect v3 = Dialect::v3;
  if (d_.config.mode != Mode::sandbox) return api_error_response({ApiError::Kind::not_found, "Not found."}, v3);
  if (!merchant(request))
    return api_error_response({ApiError::Kind::unauthorized, "Authentication error. Invalid merchant key."}, v3);
  boost::json::object out;
  out["phone"] = unused_phone();
  return json_response(200, out);
}

}  // namespace boltauth::core::testing
