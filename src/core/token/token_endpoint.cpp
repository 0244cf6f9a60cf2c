#include "core/token/token_endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>
#include <variant>

#include "base/base64url.hpp"
#include "base/constant_time.hpp"
#include "core/api_error.hpp"
#include "core/checks.hpp"
#include "core/client_auth.hpp"
#include "core/responses.hpp"
#include "core/token/id_token_builder.hpp"
#include "crypto/digest.hpp"
#include "protocol/form.hpp"
#include "protocol/models.hpp"
#include "protocol/scope.hpp"

namespace boltauth::core::token {
namespace {

using protocol::ErrorCode;
using protocol::OAuthError;
using protocol::ScopeSet;
using protocol::ScopeToken;

template <class T>
using Outcome = std::variant<T, OAuthError>;

OAuthError fail(ErrorCode code, std::string debug = {}) { return OAuthError::make(code, std::move(debug)); }

// Errors that name the parameter at fault (the v3 FieldError `field`; on v1 the description names it).
OAuthError missing(std::string field) {
  std::string sentence = "The request is missing the required parameter " + field + ".";
  return OAuthError::about(ErrorCode::invalid_request, std::move(field), std::move(sentence), "missing");
}
OAuthError malformed(std::string field, std::string debug = {}) {
  std::string sentence = "The parameter " + field + " is malformed.";
  return OAuthError::about(ErrorCode::invalid_request, std::move(field), std::move(sentence), std::move(debug));
}

// The parameters of a token request: a repeated one is named on the wire, anything else stays in the log.
bool known_parameter(std::string_view name) {
  for (std::string_view p : {"grant_type", "code", "refresh_token", "client_id", "client_secret", "scope", "state",
                             "redirect_uri", "code_verifier"})
    if (p == name) return true;
  return false;
}

// RFC 6749 appendix A.10: grant-name = 1*name-char / URI-reference; a value outside that grammar is malformed.
bool grant_name_syntax(std::string_view v) {
  if (v.empty() || v.size() > 200) return false;
  for (unsigned char c : v)
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_' && c != ':' && c != '/') return false;
  return true;
}

// Bolt's `refresh_token_scope`: the account API scope a refresh gives back (contract section 3).
constexpr ScopeSet kRefreshTokenScope{ScopeToken::bolt_account_view};

// What a refresh token of a grant of `granted` may give back: the whole grant (RFC 6749 section 6), except that
// bolt.account.manage needs a new login and refreshes as bolt.account.view (Bolt's rule, contract section 3).
ScopeSet refreshable(ScopeSet granted) {
  ScopeSet out;
  for (ScopeToken t : {ScopeToken::openid, ScopeToken::email, ScopeToken::bolt_account_view})
    if (granted.has(t)) out.add(t);
  if (granted.has(ScopeToken::bolt_account_manage)) out.add(ScopeToken::bolt_account_view);
  return out;
}

class TokenRequest {
 public:
  TokenRequest(TokenEndpointDeps& d, RateLimiter& limiter, AuthThrottle& throttle, const Request& request,
               TokenDialect dialect)
      : d_(d), limiter_(limiter), throttle_(throttle), request_(request), dialect_(dialect), now_(d.clock.now()) {}

  Response run() {
    if (auto err = check_method()) return error(*err);
    if (auto err = check_content_type()) return error(*err);
    if (auto err = parse_body()) return error(*err);
    if (auto err = authenticate_client()) {
      Response r = error(*err);
      if (retry_after_ > 0) r.with_header("Retry-After", std::to_string(retry_after_));
      return r;
    }
    if (auto err = check_bolt_headers()) return error(*err);
    if (auto err = check_rate_limit()) return error(*err).with_header("Retry-After", "1");
    if (auto err = check_grant_type()) return error(*err);
    if (auto err = parse_scope()) return error(*err);
    if (grant_type_ == "client_credentials") return issue_client_credentials();
    return grant_type_ == "authorization_code" ? redeem_code() : redeem_refresh_token();
  }

  // --- shared checks, in order -------------------------------------------------------------------
  std::optional<OAuthError> check_method() {
    // Checklist A1: GET never issues tokens.
    if (!checks::is_post(request_))
      return OAuthError::about(ErrorCode::invalid_request, {}, "The token endpoint accepts POST only.",
                               "method " + request_.method);
    return std::nullopt;
  }

  std::optional<OAuthError> check_content_type() {
    if (!checks::is_form_content_type(request_.header("content-type")))
      return OAuthError::about(ErrorCode::invalid_request, {}, "The body must be application/x-www-form-urlencoded.",
                               "content type is not application/x-www-form-urlencoded");
    return std::nullopt;
  }

  std::optional<OAuthError> parse_body() {
    auto parsed = protocol::parse_form(request_.body, d_.config.max_form_params);
    if (!parsed.params) {
      constexpr std::string_view repeated = "repeated parameter: ";
      if (parsed.error == protocol::FormError::duplicate && parsed.debug.rfind(repeated, 0) == 0) {
        std::string name = parsed.debug.substr(repeated.size());
        // RFC 6749 section 3.2: parameters must not be included more than once.
        if (known_parameter(name))
          return OAuthError::about(ErrorCode::invalid_request, name, "The parameter " + name + " is repeated.",
                                   parsed.debug);
      }
      return fail(ErrorCode::invalid_request, parsed.debug);
    }
    params_ = std::move(*parsed.params);
    return std::nullopt;
  }

  // The rows run() reads, named without reading any (the HTTP layer reads them ahead without waiting); none when
  // it refuses before it reads.
  std::optional<ports::ReadAheadKeys> keys() {
    if (check_method() || check_content_type() || parse_body()) return std::nullopt;
    return core::read_ahead_keys(request_, params_, &throttle_, read_ahead_request());
  }

 private:
  ReadAheadRequest read_ahead_request() {
    // The code or refresh token names its grant row (opening the seal is CPU only), so the grant can be read
    // together with the client where the store reads ahead. Its checks still come after the client's, in order.
    ReadAheadRequest ahead;
    ahead.scope = &read_ahead_;
    const auto grant = params_.get("grant_type");
    if (grant && *grant == "refresh_token") {
      if (const auto token = params_.get("refresh_token"))
        sealed_ = d_.tokens.open(*token, crypto::SealedKind::refresh_token, now_);
    } else if (grant && *grant == "authorization_code") {
      if (const auto code = params_.get("code"))
        sealed_ = d_.tokens.open(*code, crypto::SealedKind::authorization_code, now_);
    } else if (grant && *grant == "client_credentials") {
      ahead.client_grant = true;
    }
    if (sealed_) {
      ahead.grant_id = sealed_->grant_id;
      ahead.jti = sealed_->jti;
    }
    return ahead;
  }

  std::optional<OAuthError> authenticate_client() {
    const ReadAheadRequest ahead = read_ahead_request();
    auto auth = core::authenticate_client(d_.registry, request_, params_, &throttle_, now_, ahead);
    basic_attempted_ = auth.basic_attempted;
    retry_after_ = auth.retry_after;
    if (!auth.client) return std::move(*auth.error);
    client_ = std::move(*auth.client);
    presented_id_ = std::move(auth.presented_id);
    return std::nullopt;
  }

  std::optional<OAuthError> check_bolt_headers() {
    // Bolt's SDKs may add these; when present they must agree with the authenticated client.
    if (auto api_key = request_.header("x-api-key"); api_key && !api_key->empty()) {
      if (!d_.registry.secret_matches(client_, *api_key))
        return fail(ErrorCode::request_forbidden, "X-API-Key names another client");
    }
    if (auto key = request_.header("x-publishable-key"); key && !key->empty()) {
      auto other = d_.registry.resolve(*key);
      if (!other || other->id != client_.id)
        return fail(ErrorCode::request_forbidden, "X-Publishable-Key names another client");
    }
    return std::nullopt;
  }

  std::optional<OAuthError> check_rate_limit() {
    if (!limiter_.allow(client_.id, now_)) return fail(ErrorCode::slow_down, "token rate limit");
    return std::nullopt;
  }

  std::optional<OAuthError> check_grant_type() {
    const auto grant = params_.get("grant_type");
    if (!grant) return missing("grant_type");
    grant_type_ = std::string(*grant);
    if (grant_type_ != "authorization_code" && grant_type_ != "refresh_token" && grant_type_ != "client_credentials") {
      if (!grant_name_syntax(grant_type_))
        return OAuthError::about(ErrorCode::unsupported_grant_type, "grant_type",
                                 "The parameter grant_type is malformed.", "malformed grant_type");
      return fail(ErrorCode::unsupported_grant_type, grant_type_);
    }
    if (!client_.allows_grant(grant_type_))
      return fail(ErrorCode::request_forbidden, "grant not allowed: " + grant_type_);
    return std::nullopt;
  }

  std::optional<OAuthError> parse_scope() {
    const auto scope = params_.get("scope");
    if (!scope) {
      // RFC 6749 sections 4.1.3 and 6, OIDC Core 3.1.3.1: standard clients send no scope when they exchange a
      // code, and may omit it on a refresh; an absent scope is then the code's or the refresh token's.
      if (d_.config.token_scope_required && grant_type_ != "client_credentials") return missing("scope");
      return std::nullopt;
    }
    auto parsed = protocol::parse_scope(*scope);
    if (!parsed.scope)
      return OAuthError::about(ErrorCode::invalid_scope, "scope",
                               "The parameter scope names an unknown scope or is malformed.", "scope unknown");
    requested_scope_ = *parsed.scope;
    return std::nullopt;
  }

  // --- authorization_code ------------------------------------------------------------------------
  Response redeem_code() {
    const auto code = params_.get("code");
    if (!code) return error(missing("code"));
    const auto verifier = params_.get("code_verifier");
    if (verifier && !checks::valid_pkce_string(*verifier))
      return error(malformed("code_verifier", "bad code_verifier"));
    // A forged or mistyped code never reaches storage: the seal names the grant row (opened before the client
    // was authenticated).
    const auto& sealed = sealed_;
    if (!sealed) return error(fail(ErrorCode::invalid_grant, "code seal"));
    auto grant = d_.tokens.grants().find_grant(sealed->grant_id);
    if (!grant || grant->kind != model::GrantKind::authorization_code || !TokenService::belongs_to(*sealed, *grant))
      return error(fail(ErrorCode::invalid_grant, "unknown code"));
    if (grant->client_id != client_.id) return error(fail(ErrorCode::invalid_grant, "code of another client"));
    if (auto err = check_code_binding(*grant, verifier)) return error(*err);
    const ScopeSet code_scope = protocol::parse_scope(grant->scope).scope.value_or(ScopeSet{});
    const ScopeSet granted = requested_scope_.value_or(code_scope);
    if (!granted.subset_of(code_scope))
      return error(OAuthError::about(ErrorCode::invalid_scope, "scope",
                                     "The parameter scope asks for more than the code grants.", "wider than the code"));
    if (grant->redeemed_at) {
      // RFC 6749 section 4.1.2: a reused code SHOULD revoke what it issued; the request was otherwise valid.
      d_.tokens.grants().revoke_grant(grant->id, now_);
      return error(fail(ErrorCode::invalid_grant, "code reuse"));
    }
    if (grant->revoked_at) return error(fail(ErrorCode::invalid_grant, "grant revoked"));
    if (now_ >= grant->code_expires_at) return error(fail(ErrorCode::invalid_grant, "code expired"));
    auto account = active_account(grant->sub);
    if (!account) return error(fail(ErrorCode::invalid_grant, "account gone or deactivated"));

    const bool with_refresh = client_.allows_grant("refresh_token") && (granted.has(ScopeToken::bolt_account_view) ||
                                                                        granted.has(ScopeToken::bolt_account_manage));
    const Issued issued = mint(*grant, 1, granted, with_refresh ? std::optional(refreshable(granted)) : std::nullopt);
    std::optional<std::string> id_token;
    if (granted.has(ScopeToken::openid)) id_token = make_id_token(*account, *grant, issued.access_token);
    // Single use: one conditional UPDATE of the grant row (pending -> active).
    if (d_.tokens.grants().redeem(grant->id, now_, issued.grant_expires_at) != ports::ConsumeOutcome::consumed) {
      // Another redemption won the race (or the code expired meanwhile): this one is a reuse.
      d_.tokens.grants().revoke_grant(grant->id, now_);
      return error(fail(ErrorCode::invalid_grant, "code consumed concurrently"));
    }
    return success(issued.access_token, with_refresh ? std::optional(issued.refresh_token) : std::nullopt, granted,
                   id_token);
  }

  std::optional<OAuthError> check_code_binding(const model::Grant& grant, std::optional<std::string_view> verifier) {
    // RFC 6749 section 4.1.3: redirect_uri must be identical when the authorization request carried one.
    if (!grant.redirect_uri.empty()) {
      const auto uri = params_.get("redirect_uri");
      if (!uri || *uri != grant.redirect_uri) return fail(ErrorCode::invalid_grant, "redirect_uri mismatch");
    }
    // RFC 7636 section 4.6 (S256 only), and RFC 9700 section 2.1.1: a verifier without a stored challenge is a
    // downgrade attempt.
    if (!grant.code_challenge.empty()) {
      if (!verifier) return fail(ErrorCode::invalid_grant, "code_verifier missing");
      const auto digest = crypto::sha256(*verifier);
      if (!base::constant_time_equal(base::base64url_encode(digest), grant.code_challenge))
        return fail(ErrorCode::invalid_grant, "code_verifier mismatch");
    } else if (verifier) {
      return fail(ErrorCode::invalid_grant, "code_verifier without challenge");
    }
    // Contract section 3: a code issued with a state needs the same value when state is sent; a code issued
    // without one (a sandbox oauth_code) accepts any, since Bolt's SDK examples always send one.
    if (const auto state = params_.get("state")) {
      if (!grant.state.empty() && !base::constant_time_equal(*state, grant.state))
        return fail(ErrorCode::invalid_grant, "state mismatch");
    }
    return std::nullopt;
  }

  // --- refresh_token -----------------------------------------------------------------------------
  Response redeem_refresh_token() {
    const auto token = params_.get("refresh_token");
    if (!token) return error(missing("refresh_token"));
    const auto& sealed = sealed_;  // opened before the client was authenticated
    if (!sealed) return redeem_legacy_refresh_token(*token);
    // One read: the grant, and whether its shopper's account is active.
    const auto view = d_.tokens.grants().find_grant_for_token(sealed->grant_id, sealed->jti);
    if (!view || !view->grant.redeemed_at || !TokenService::belongs_to(*sealed, view->grant))
      return error(fail(ErrorCode::invalid_grant, "unknown refresh token"));
    const model::Grant* grant = &view->grant;
    if (grant->client_id != client_.id) return error(fail(ErrorCode::invalid_grant, "token of another client"));
    if (grant->revoked_at) return error(fail(ErrorCode::invalid_grant, "family revoked"));
    if (now_ >= sealed->expires_at) return error(fail(ErrorCode::invalid_grant, "refresh token expired"));
    // RFC 6749 section 6: any scope the refresh token carries (the original grant, manage read as view); an
    // absent scope is all of it. Tokens sealed before identity scopes were refreshable carry view only.
    const ScopeSet token_scope(sealed->scope_bits);
    const ScopeSet granted = requested_scope_.value_or(token_scope);
    if (!granted.subset_of(token_scope)) return error(wider_than_refresh_token());
    if (!view->account_exists || (view->account_deactivate_at && now_ >= *view->account_deactivate_at))
      return error(fail(ErrorCode::invalid_grant, "account gone or deactivated"));
    // OIDC Core section 12.2: a refresh with openid answers a new id_token. Only then is the account read.
    std::optional<model::Account> account;
    if (granted.has(ScopeToken::openid)) {
      account = active_account(grant->sub);
      if (!account) return error(fail(ErrorCode::invalid_grant, "account gone or deactivated"));
    }

    const std::int64_t generation = sealed->generation;
    // RFC 6749 section 6: the new refresh token has the scope of the one it replaces.
    const Issued issued = mint(*grant, grant->generation + 1, granted, token_scope);
    auto answer = [&] {
      std::optional<std::string> id_token;
      if (account) id_token = make_id_token(*account, *grant, issued.access_token);
      return success(issued.access_token, issued.refresh_token, granted, std::move(id_token));
    };
    auto& grants = d_.tokens.grants();
    if (generation == grant->generation) {
      // Rotation: one conditional UPDATE of the grant row, keyed by the generation it had when read.
      if (grants.rotate(grant->id, generation, now_, issued.grant_expires_at) == ports::ConsumeOutcome::consumed)
        return answer();
      grants.revoke_grant(grant->id, now_);
      return error(fail(ErrorCode::invalid_grant, "refresh token rotated concurrently"));
    }
    if (generation + 1 == grant->generation && d_.config.refresh_grace_seconds > 0 && !grant->replayed &&
        grant->rotated_at && now_ - *grant->rotated_at <= d_.config.refresh_grace_seconds) {
      // Contract section 3: the token just replaced may be presented once more within the grace window (a
      // response lost in transit); what its successor issued dies.
      if (grants.replay(grant->id, grant->generation, now_ - d_.config.refresh_grace_seconds, now_,
                        issued.grant_expires_at) == ports::ConsumeOutcome::consumed)
        return answer();
    }
    // RFC 9700 section 4.14.2: reuse of a rotated refresh token revokes the whole family.
    grants.revoke_grant(grant->id, now_);
    return error(fail(ErrorCode::invalid_grant, "refresh token reuse"));
  }

  // A refresh token issued before storage v2: redeeming it moves its family into a grant row, so shoppers are not
  // logged out by an upgrade (docs/design.md "Upgrading").
  Response redeem_legacy_refresh_token(std::string_view token) {
    // The seal check already failed; a legacy token passes the old MAC check and is found by its keyed hash.
    const auto& minter = d_.tokens.minter();
    if (!minter.verify(crypto::TokenKind::refresh_token, token))
      return error(fail(ErrorCode::invalid_grant, "refresh token seal"));
    const std::string hash = minter.storage_hash(token);
    auto& legacy = d_.tokens.legacy();
    const auto record = legacy.find_legacy_token(hash);
    if (!record || record->type != model::TokenType::refresh_token)
      return error(fail(ErrorCode::invalid_grant, "unknown refresh token"));
    if (record->client_id != client_.id) return error(fail(ErrorCode::invalid_grant, "token of another client"));
    if (record->grant_revoked) return error(fail(ErrorCode::invalid_grant, "family revoked"));
    if (record->revoked_at || record->used_at) {
      legacy.revoke_legacy_grant(record->grant_id, now_);
      return error(fail(ErrorCode::invalid_grant, "refresh token reuse"));
    }
    if (now_ >= record->expires_at) return error(fail(ErrorCode::invalid_grant, "refresh token expired"));
    const ScopeSet token_scope = protocol::parse_scope(record->scope).scope.value_or(ScopeSet{});
    const ScopeSet granted = requested_scope_.value_or(token_scope);
    if (!granted.subset_of(token_scope)) return error(wider_than_refresh_token());
    const auto account = active_account(record->sub);
    if (!account) return error(fail(ErrorCode::invalid_grant, "account gone or deactivated"));
    model::Grant grant;
    grant.kind = model::GrantKind::authorization_code;
    grant.client_id = client_.id;
    grant.sub = record->sub;
    grant.scope = token_scope.to_string();
    grant.auth_time = record->auth_time;
    grant.created_at = now_;
    grant.code_expires_at = now_;
    grant.redeemed_at = now_;
    grant.generation = 1;
    grant.rotated_at = now_;
    grant.expires_at = now_ + std::max(d_.config.access_token_ttl, d_.config.refresh_token_ttl);
    grant.salt = d_.tokens.new_salt();
    const auto id = legacy.migrate_refresh(hash, now_, grant);
    if (!id) {
      legacy.revoke_legacy_grant(record->grant_id, now_);
      return error(fail(ErrorCode::invalid_grant, "refresh token rotated concurrently"));
    }
    grant.id = *id;
    const Issued issued = mint(grant, 1, granted, refreshable(token_scope));
    std::optional<std::string> id_token;
    if (granted.has(ScopeToken::openid)) id_token = make_id_token(*account, grant, issued.access_token);
    return success(issued.access_token, issued.refresh_token, granted, std::move(id_token));
  }

  // --- client_credentials ------------------------------------------------------------------------
  // RFC 6749 section 4.4: the client acts for itself. No end-user, so no refresh token (section 4.4.3), no
  // id_token, and none of the scopes that name an end-user's identity (openid, email). Every such token names the
  // client's one client_credentials grant, so issuing one writes nothing (after the client's first) and
  // revocation and introspection treat it like any other.
  Response issue_client_credentials() {
    constexpr ScopeSet allowed{ScopeToken::bolt_account_view, ScopeToken::bolt_account_manage};
    const ScopeSet granted = requested_scope_.value_or(ScopeSet{});
    if (!granted.subset_of(allowed))
      return error(OAuthError::about(ErrorCode::invalid_scope, "scope",
                                     "The parameter scope names an end-user scope, which client_credentials cannot "
                                     "grant.",
                                     "end-user scope on client_credentials"));
    const model::Grant grant = d_.tokens.grants().client_grant(client_.id, now_, d_.tokens.new_salt());
    const Issued issued = mint(grant, 1, granted, std::nullopt);
    return success(issued.access_token, std::nullopt, granted, std::nullopt);
  }

  // --- helpers -----------------------------------------------------------------------------------
  static OAuthError wider_than_refresh_token() {
    return OAuthError::about(ErrorCode::invalid_scope, "scope",
                             "The parameter scope asks for more than the refresh token carries.",
                             "wider than the refresh token");
  }

  std::optional<model::Account> active_account(const std::string& sub) {
    return checks::active_account(d_.accounts, sub, now_);
  }

  struct Issued {
    std::string access_token;
    std::string refresh_token;
    base::UnixSeconds grant_expires_at = 0;  // nothing issued is valid after this
  };

  // OIDC Registration 1.0 section 2: id_token_signed_response_alg, signed with that alg's active key. A refreshed
  // id_token repeats the grant's nonce and auth_time (OIDC Core section 12.2).
  std::string make_id_token(const model::Account& account, const model::Grant& grant, const std::string& access) {
    const auto ring = d_.keys.ring(now_);
    const crypto::SigningKey* key = ring->signing_key(client_.id_token_signed_response_alg);
    if (!key) throw std::runtime_error("no signing key for " + client_.id_token_signed_response_alg);
    return build_id_token(*key, d_.config.issuer, d_.config.id_token_ttl,
                          IdTokenInput{account, client_.id, presented_id_, dialect_.standard_audience, grant.nonce,
                                       access, grant.auth_time, now_});
  }

  // Seals the access token (and, with `refresh_scope`, the refresh token) of `generation`; nothing is written.
  Issued mint(const model::Grant& grant, std::int64_t generation, ScopeSet granted,
              std::optional<ScopeSet> refresh_scope) {
    Issued out;
    crypto::SealedPayload p;
    p.kind = crypto::SealedKind::access_token;
    p.grant_id = grant.id;
    p.generation = static_cast<std::uint32_t>(generation);
    p.issued_at = now_;
    p.expires_at = now_ + d_.config.access_token_ttl;
    p.scope_bits = granted.bits();
    out.access_token = d_.tokens.seal(p, grant.salt, now_);
    out.grant_expires_at = p.expires_at;
    if (refresh_scope) {
      p.kind = crypto::SealedKind::refresh_token;
      p.expires_at = now_ + d_.config.refresh_token_ttl;
      p.scope_bits = refresh_scope->bits();
      out.refresh_token = d_.tokens.seal(p, grant.salt, now_);
      out.grant_expires_at = std::max(out.grant_expires_at, p.expires_at);
    }
    return out;
  }

  Response success(const std::string& access_token, std::optional<std::string> refresh_token, ScopeSet granted,
                   std::optional<std::string> id_token) {
    models::OAuthTokenResponse body;
    body.access_token = access_token;
    body.expires_in = d_.config.access_token_ttl;
    body.id_token = std::move(id_token);
    if (refresh_token) {
      body.refresh_token = std::move(refresh_token);
      body.refresh_token_scope = kRefreshTokenScope.to_string();
    }
    body.scope = granted.to_string();
    body.token_type = "bearer";
    return json_response(200, models::to_json(body));
  }

  Response error(const OAuthError& err) {
    if (d_.log_debug && *d_.log_debug) (*d_.log_debug)("token endpoint: " + err.debug);
    Response r = dialect_.v3 ? v3_oauth_error_response(err, basic_attempted_)
                             : oauth_error_response(err, dialect_.error_style, basic_attempted_);
    if (!checks::is_post(request_)) {
      r.status = 405;
      r.with_header("Allow", "POST");
    }
    return r;
  }

  TokenEndpointDeps& d_;
  RateLimiter& limiter_;
  AuthThrottle& throttle_;
  const Request& request_;
  const TokenDialect dialect_;
  const base::UnixSeconds now_;
  protocol::FormParams params_;
  bool basic_attempted_ = false;
  std::int64_t retry_after_ = 0;
  model::Client client_;
  std::string presented_id_;
  std::string grant_type_;
  std::optional<ScopeSet> requested_scope_;
  std::optional<crypto::SealedPayload> sealed_;  // the presented code or refresh token, opened
  ports::ReadAheadScope read_ahead_{d_.read_ahead};
};

}  // namespace

Response TokenEndpoint::handle(const Request& request, TokenDialect dialect) {
  return TokenRequest(d_, limiter_, throttle_, request, dialect).run();
}

std::optional<ports::ReadAheadKeys> TokenEndpoint::read_ahead_keys(const Request& request) {
  if (!d_.read_ahead) return std::nullopt;
  return TokenRequest(d_, limiter_, throttle_, request, {}).keys();
}

}  // namespace boltauth::core::token
