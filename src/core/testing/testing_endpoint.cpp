#include "core/testing/testing_endpoint.hpp"

#include <boost/json/parse.hpp>
#include <cstdio>

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

Response TestingEndpoint::create_shopper(const Request& request) {
  if (d_.config.mode != Mode::sandbox) return bolt_error_response(404, 1004, "Not found.");
  if (request.method != "POST") return bolt_error_response(405, 1002, "Use POST.").with_header("Allow", "POST");
  // The merchant is named by its API key, as on Bolt (security scheme X-API-Key).
  const auto api_key = request.header("x-api-key");
  if (!api_key || api_key->empty() || !d_.minter.verify(crypto::TokenKind::client_secret, *api_key))
    return bolt_error_response(401, 1005, "Authentication error. Invalid merchant key.");
  auto client = d_.clients.find_by_secret_hash(d_.minter.storage_hash(*api_key));
  if (!client) return bolt_error_response(401, 1005, "Authentication error. Invalid merchant key.");
  if (auto pk = request.header("x-publishable-key"); pk && !pk->empty()) {
    auto named = d_.registry.resolve(*pk);
    if (!named || named->id != client->id)
      return bolt_error_response(401, 1005, "Authentication error. Invalid merchant key.");
  }

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

  const auto now = d_.clock.now();
  AccountSpec spec;
  spec.email = "test-" + d_.random.alnum(16) + "@sandbox.boltauth.test";
  for (auto& c : spec.email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  spec.email_verified = input.email_state.value_or("verified") == "verified";
  const std::string phone_state = input.phone_state.value_or("verified");
  if (phone_state != "missing") {
    spec.phone = "+1555" + d_.random.digits(7);  // 555 numbers are reserved for fiction
    spec.phone_verified = phone_state == "verified";
  }
  spec.first_name = "Test";
  spec.last_name = "Shopper";
  spec.otp_code = d_.random.digits(6);
  spec.deactivate_at = now + days * 86400;
  auto created = d_.registry.create_account(spec);
  if (std::holds_alternative<std::string>(created))
    return bolt_error_response(500, 1000, "Could not create the account.");
  const auto& account = std::get<model::Account>(created);

  // A code for the calling client: no PKCE, no redirect_uri binding, single use (contract section 8).
  model::Grant grant;
  grant.client_id = client->id;
  grant.sub = account.sub;
  grant.scope = protocol::ScopeSet{protocol::ScopeToken::bolt_account_manage, protocol::ScopeToken::bolt_account_view,
                                   protocol::ScopeToken::openid}
                    .to_string();
  grant.auth_time = now;
  grant.code_expires_at = now + d_.config.code_ttl;
  const std::string code = d_.tokens.issue_code(std::move(grant), now);

  models::TestingAccountDetails out;
  out.email = account.email;
  out.email_state = input.email_state.value_or("verified");
  out.phone = account.phone;
  out.phone_state = phone_state;
  out.otp_code = *spec.otp_code;  // shown once; the store keeps its keyed hash
  out.will_deactivate_at = format_rfc3339(*account.deactivate_at);
  out.oauth_code = code;
  return json_response(200, models::to_json(out));
}

}  // namespace boltauth::core::testing
