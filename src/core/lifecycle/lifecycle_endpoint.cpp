#include "core/lifecycle/lifecycle_endpoint.hpp"

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "core/checks.hpp"
#include "core/client_auth.hpp"
#include "core/responses.hpp"
#include "protocol/form.hpp"

namespace boltauth::core::lifecycle {
namespace {

using protocol::ErrorCode;
using protocol::OAuthError;

OAuthError fail(ErrorCode code, std::string debug = {}) { return OAuthError::make(code, std::move(debug)); }

class LifecycleRequest {
 public:
  LifecycleRequest(LifecycleEndpointDeps& d, const Request& request, std::string_view name)
      : d_(d), request_(request), name_(name), now_(d.clock.now()) {}

  /// The checks both endpoints share, in order; nullopt when the request may go on.
  std::optional<Response> front_checks() {
    if (auto refused = parse()) return refused;
    const ReadAheadRequest ahead = read_ahead_request();
    auto auth = authenticate_client(d_.registry, request_, params_, &d_.throttle, now_, ahead);
    basic_attempted_ = auth.basic_attempted;
    if (!auth.client) {
      Response r = error(*auth.error);
      if (auth.retry_after > 0) r.with_header("Retry-After", std::to_string(auth.retry_after));
      return r;
    }
    client_ = std::move(*auth.client);
    // `token` is REQUIRED in both RFCs.
    if (!params_.has("token"))
      return error(OAuthError::about(ErrorCode::invalid_request, "token",
                                     "The request is missing the required parameter token.", "token missing"));
    return std::nullopt;
  }

  /// The rows front_checks() reads, named without reading any (the HTTP layer reads them ahead without waiting);
  /// none when it refuses before it reads.
  std::optional<ports::ReadAheadKeys> keys() {
    quiet_ = true;  // the request itself logs its refusal when it runs
    if (parse()) return std::nullopt;
    return read_ahead_keys(request_, params_, &d_.throttle, read_ahead_request());
  }

  /// Method, content type and form; the refusal, or nullopt.
  std::optional<Response> parse() {
    // Checklist A1: a GET carries its parameters in the query string, which never authenticates.
    if (!checks::is_post(request_)) return error(fail(ErrorCode::invalid_request, "method " + request_.method));
    if (!checks::is_form_content_type(request_.header("content-type")))
      return error(OAuthError::about(ErrorCode::invalid_request, {},
                                     "The body must be application/x-www-form-urlencoded.",
                                     "content type is not application/x-www-form-urlencoded"));
    auto parsed = protocol::parse_form(request_.body, d_.config.max_form_params);
    if (!parsed.params) return error(fail(ErrorCode::invalid_request, parsed.debug));
    params_ = std::move(*parsed.params);
    return std::nullopt;
  }

  ReadAheadRequest read_ahead_request() {
    // RFC 7662 section 2.1 and RFC 7009 section 2.1: the client authenticates as at the token endpoint. A sealed
    // token names its grant row (opening the seal is CPU only), read together with the client where the store
    // reads ahead; the hint's kind first, as find_own_token searches.
    ReadAheadRequest ahead;
    ahead.scope = &read_ahead_;
    if (const auto token = params_.get("token")) {
      const auto hint = params_.get("token_type_hint");
      const bool refresh_first = hint && *hint == "refresh_token";
      auto sealed = d_.tokens.open(
          *token, refresh_first ? crypto::SealedKind::refresh_token : crypto::SealedKind::access_token, now_);
      if (!sealed)
        sealed = d_.tokens.open(
            *token, refresh_first ? crypto::SealedKind::access_token : crypto::SealedKind::refresh_token, now_);
      if (sealed) {
        ahead.grant_id = sealed->grant_id;
        ahead.jti = sealed->jti;
      }
    }
    return ahead;
  }

  /// `token` resolved against its grant when it is one of our access or refresh tokens and was issued to the
  /// authenticated client. The hint only orders the search: a wrong hint still finds the token (RFC 7662
  /// section 2.1, RFC 7009 section 2.1); an unknown hint value is ignored. The kind is sealed into the token, so a
  /// value that is neither (an id_token, a code, garbage) never reaches storage.
  std::optional<ResolvedToken> find_own_token() {
    const std::string_view token = *params_.get("token");
    const auto hint = params_.get("token_type_hint");
    const bool refresh_first = hint && *hint == "refresh_token";
    const crypto::SealedKind order[2] = {
        refresh_first ? crypto::SealedKind::refresh_token : crypto::SealedKind::access_token,
        refresh_first ? crypto::SealedKind::access_token : crypto::SealedKind::refresh_token};
    for (const auto kind : order) {
      auto resolved = d_.tokens.resolve(token, kind, now_);
      if (!resolved) continue;
      if (resolved->client_id != client_.id) {
        debug("token of another client");
        return std::nullopt;
      }
      return resolved;
    }
    debug("not one of our tokens");
    return std::nullopt;
  }

  Response error(const OAuthError& err) {
    debug(err.debug);
    Response r = oauth_error_response(err, d_.config.error_style, basic_attempted_);
    if (!checks::is_post(request_)) {
      r.status = 405;
      r.with_header("Allow", "POST");
    }
    return r;
  }

  void debug(std::string_view what) {
    if (quiet_) return;
    if (d_.log_debug && *d_.log_debug) (*d_.log_debug)(std::string(name_) + ": " + std::string(what));
  }

  const model::Client& client() const { return client_; }
  base::UnixSeconds now() const { return now_; }

 private:
  LifecycleEndpointDeps& d_;
  const Request& request_;
  std::string_view name_;
  const base::UnixSeconds now_;
  protocol::FormParams params_;
  bool basic_attempted_ = false;
  bool quiet_ = false;
  model::Client client_;
  ports::ReadAheadScope read_ahead_{d_.read_ahead};
};

}  // namespace

Response LifecycleEndpoint::introspect(const Request& request) {
  LifecycleRequest req(d_, request, "introspect");
  if (auto refused = req.front_checks()) return std::move(*refused);
  const auto token = req.find_own_token();
  // RFC 7662 section 2.2: anything not active is exactly {"active":false}, with no hint why (checklist I2).
  if (!token || !token->active) return json_response(200, boost::json::object{{"active", false}});
  boost::json::object body;
  body["active"] = true;
  body["scope"] = token->scope.to_string();
  body["client_id"] = token->client_id;
  body["sub"] = token->sub;
  body["exp"] = token->expires_at;
  body["iat"] = token->issued_at;
  // Access tokens are Bearer tokens (RFC 6749 section 7.1); refresh tokens are told apart the way
  // node-oidc-provider does it.
  body["token_type"] = token->kind == crypto::SealedKind::access_token ? "bearer" : "refresh_token";
  body["iss"] = d_.config.issuer;
  body["aud"] = token->client_id;
  return json_response(200, body);
}

std::optional<ports::ReadAheadKeys> LifecycleEndpoint::read_ahead_keys(const Request& request) {
  if (!d_.read_ahead) return std::nullopt;
  return LifecycleRequest(d_, request, "introspect").keys();
}

Response LifecycleEndpoint::revoke(const Request& request) {
  LifecycleRequest req(d_, request, "revoke");
  if (auto refused = req.front_checks()) return std::move(*refused);
  if (const auto token = req.find_own_token()) {
    // A refresh token stands for its whole grant: revoking it kills the family, access tokens included
    // (RFC 7009 section 2.1 "SHOULD"). An access token goes alone.
    auto& tokens = d_.tokens;
    if (token->kind == crypto::SealedKind::refresh_token) {
      if (token->legacy)
        tokens.legacy().revoke_legacy_grant(token->legacy_grant_id, req.now());
      else
        tokens.grants().revoke_grant(token->grant_id, req.now());
    } else if (token->legacy) {
      tokens.legacy().revoke_legacy_token(token->legacy_hash, req.now());
    } else if (req.now() < token->expires_at) {
      // The deny-list entry lives exactly as long as the token could have (an expired token needs none).
      tokens.grants().deny_token(token->grant_id, token->jti, token->expires_at);
    }
  }
  // RFC 7009 section 2.2: 200 whether or not the token was found; the store committed before we answer.
  return json_response(200, boost::json::object{});
}

}  // namespace boltauth::core::lifecycle
