#include "core/checks.hpp"

#include <strings.h>

namespace boltauth::core::checks {
namespace {

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

bool is_post(const Request& request) noexcept { return request.method == "POST"; }

bool is_form_content_type(std::optional<std::string_view> value) noexcept {
  if (!value) return false;
  const std::string_view v = trim(value->substr(0, value->find(';')));
  constexpr std::string_view form = "application/x-www-form-urlencoded";
  return v.size() == form.size() && ::strncasecmp(v.data(), form.data(), form.size()) == 0;
}

bool valid_pkce_string(std::string_view s) noexcept {
  if (s.size() < 43 || s.size() > 128) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}

BearerHeader bearer_header(const Request& request) noexcept {
  using Status = BearerHeader::Status;
  const auto header = request.header("authorization");
  if (!header) return {Status::absent, {}};
  if (request.header_count("authorization") != 1) return {Status::repeated, {}};
  const std::string_view h = *header;
  constexpr std::string_view scheme = "bearer ";
  if (h.size() < scheme.size() || ::strncasecmp(h.data(), scheme.data(), scheme.size()) != 0)
    return {Status::not_bearer, {}};
  const std::string_view token = trim(h.substr(scheme.size()));
  if (token.empty()) return {Status::not_bearer, {}};
  return {Status::present, token};
}

bool account_active(const model::Account& account, base::UnixSeconds now) noexcept {
  return !account.deactivate_at || now < *account.deactivate_at;
}

std::optional<model::Account> active_account(ports::AccountStore& accounts, std::string_view sub,
                                             base::UnixSeconds now) {
  auto account = accounts.find(sub);
  if (!account || !account_active(*account, now)) return std::nullopt;
  return account;
}

std::optional<ResolvedToken> live_access_token(TokenService& tokens, std::string_view token, base::UnixSeconds now) {
  auto resolved = tokens.resolve(token, crypto::SealedKind::access_token, now);
  if (!resolved || !resolved->active) return std::nullopt;
  return resolved;
}

bool has_any_scope(protocol::ScopeSet granted, protocol::ScopeSet any_of) noexcept {
  return (granted.bits() & any_of.bits()) != 0;
}

}  // namespace boltauth::core::checks
