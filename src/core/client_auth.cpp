#include "core/client_auth.hpp"

#include "protocol/basic_auth.hpp"

namespace boltauth::core {
namespace {

using protocol::ErrorCode;
using protocol::OAuthError;

ClientAuthResult refused(ErrorCode code, std::string debug, bool basic) {
  ClientAuthResult r;
  r.error = OAuthError::make(code, std::move(debug));
  r.basic_attempted = basic;
  return r;
}

}  // namespace

namespace {

/// The credentials a request presents, as sent and not yet judged: Basic when the Authorization header uses that
/// scheme (RFC 6749 section 2.3.1), else the body's client_id and client_secret.
struct Presented {
  bool basic = false;
  bool malformed = false;  // Basic, but not decodable
  std::optional<std::string> id;
  std::optional<std::string> secret;
};

Presented presented_credentials(const Request& request, const protocol::FormParams& params) {
  Presented p;
  const auto authorization = request.header("authorization");
  p.basic = authorization && protocol::is_basic_scheme(*authorization);
  if (p.basic) {
    auto creds = protocol::parse_basic_auth(*authorization);
    p.malformed = !creds;
    if (creds) {
      p.id = std::move(creds->client_id);
      p.secret = std::move(creds->client_secret);
    }
    return p;
  }
  if (const auto id = params.get("client_id")) p.id = std::string(*id);
  if (const auto secret = params.get("client_secret")) p.secret = std::string(*secret);
  return p;
}

ports::ReadAheadKeys keys_for(std::string_view presented_id, const Request& request, const AuthThrottle* throttle,
                              const ReadAheadRequest& ahead) {
  ports::ReadAheadKeys keys;
  keys.client_id = std::string(ClientRegistry::id_of(presented_id));
  if (throttle && throttle->reads_store() && !keys.client_id.empty())
    keys.throttle_key = keys.client_id + ' ' + request.remote_address;
  keys.grant_id = ahead.grant_id;
  keys.jti = ahead.jti;
  keys.client_grant = ahead.client_grant;
  return keys;
}

}  // namespace

std::optional<ports::ReadAheadKeys> read_ahead_keys(const Request& request, const protocol::FormParams& params,
                                                    const AuthThrottle* throttle, const ReadAheadRequest& ahead) {
  const Presented presented = presented_credentials(request, params);
  auto keys = keys_for(presented.id.value_or(std::string()), request, throttle, ahead);
  if (keys.client_id.empty() && !keys.grant_id) return std::nullopt;
  return keys;
}

ClientAuthResult authenticate_client(ClientRegistry& registry, const Request& request,
                                     const protocol::FormParams& params, AuthThrottle* throttle, base::UnixSeconds now,
                                     const ReadAheadRequest& ahead) {
  Presented presented = presented_credentials(request, params);
  const bool basic = presented.basic;
  if (basic) {
    if (request.header_count("authorization") != 1)
      return refused(ErrorCode::invalid_request, "two Authorization headers", basic);
    // RFC 6749 section 2.3.1: the client MUST NOT use more than one authentication method.
    if (params.has("client_secret"))
      return refused(ErrorCode::invalid_request, "Basic and client_secret together", basic);
    if (presented.malformed) return refused(ErrorCode::invalid_client, "malformed Basic credentials", basic);
  } else if (!presented.id || !presented.secret) {
    return refused(ErrorCode::invalid_client, "no client authentication", basic);
  }
  std::string id = std::move(*presented.id);
  const std::string secret = std::move(*presented.secret);
  if (ahead.scope) {
    // Everything this request reads next, in one go where the store can (the client, its failure count, the grant).
    auto keys = keys_for(id, request, throttle, ahead);
    if (!keys.client_id.empty() || keys.grant_id) ahead.scope->prefetch(keys);
  }
  auto client = registry.resolve(id);
  if (!client) return refused(ErrorCode::invalid_client, "unknown client", basic);
  // Checklist B5: a client id that keeps failing from one address is held off (429) before its secret is
  // even compared, so guesses from there stop; other clients and other addresses are unaffected.
  const std::string throttle_key = client->id + ' ' + request.remote_address;
  if (throttle) {
    if (const auto wait = throttle->retry_after(throttle_key, now); wait > 0) {
      auto r = refused(ErrorCode::slow_down, "client authentication throttled", basic);
      r.retry_after = wait;
      return r;
    }
  }
  if (!registry.secret_matches(*client, secret)) {
    if (throttle) throttle->record_failure(throttle_key, now);
    return refused(ErrorCode::invalid_client, "wrong secret", basic);
  }
  if (throttle) throttle->record_success(throttle_key);
  if (basic) {
    // A body client_id beside Basic must name the same client (RFC 6749 section 3.2.1).
    if (auto body_id = params.get("client_id")) {
      auto other = registry.resolve(*body_id);
      if (!other || other->id != client->id)
        return refused(ErrorCode::invalid_request, "client_id differs from Basic", basic);
    }
  }
  ClientAuthResult ok;
  ok.client = std::move(*client);
  ok.basic_attempted = basic;
  ok.presented_id = std::move(id);
  return ok;
}

}  // namespace boltauth::core
