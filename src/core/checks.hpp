#pragma once
#include <optional>
#include <string_view>

#include "base/clock.hpp"
#include "core/exchange.hpp"
#include "core/model/account.hpp"
#include "core/ports/account_store.hpp"
#include "core/token_service.hpp"
#include "protocol/scope.hpp"

/// The named checks that several endpoints share, one definition each, so that a rule (what a Bearer header looks
/// like, when an account counts as active) cannot drift between endpoints. Each check answers a fact; the endpoint
/// decides which error that fact becomes in its own dialect.
namespace boltauth::core::checks {

/// Checklist A1: only POST carries a token request, an introspection or a revocation; a GET would put its
/// parameters in the query string, which never authenticates.
bool is_post(const Request& request) noexcept;

/// RFC 6749 appendix B: the media type is application/x-www-form-urlencoded; parameters on it (charset) are
/// allowed, nothing else is. Media types compare case-insensitively (RFC 9110 section 8.3.1).
bool is_form_content_type(std::optional<std::string_view> value) noexcept;

/// RFC 7636 section 4.1 (verifier) and 4.2 (challenge): 43..128 characters of ALPHA / DIGIT / "-" / "." / "_" / "~".
bool valid_pkce_string(std::string_view s) noexcept;

/// What the Authorization header says about a Bearer token (RFC 6750 section 2.1).
struct BearerHeader {
  enum class Status {
    absent,      // no Authorization header
    repeated,    // more than one Authorization header: ambiguous, never guessed
    not_bearer,  // another scheme (or a bare "Bearer" with nothing after it)
    present,     // `token` holds the credentials, surrounding spaces removed
  };
  Status status = Status::absent;
  std::string_view token;  // a view into the request; set with `present`
};
/// The scheme is case-insensitive (RFC 7235 section 2.1).
BearerHeader bearer_header(const Request& request) noexcept;

/// An account may act at `now`: it exists and its deactivation date (sandbox accounts) has not come.
bool account_active(const model::Account& account, base::UnixSeconds now) noexcept;
/// The account `sub` when it is active at `now`.
std::optional<model::Account> active_account(ports::AccountStore& accounts, std::string_view sub,
                                             base::UnixSeconds now);

/// A token is live when it is one of our access tokens and usable at the instant it was resolved (not expired,
/// grant not revoked, not deny-listed, account active). Only sealed access tokens open as such: an id_token, a
/// refresh token or a code fails here, before storage (checklist G2).
std::optional<ResolvedToken> live_access_token(TokenService& tokens, std::string_view token, base::UnixSeconds now);

/// The token carries at least one scope of `any_of`.
bool has_any_scope(protocol::ScopeSet granted, protocol::ScopeSet any_of) noexcept;

}  // namespace boltauth::core::checks
