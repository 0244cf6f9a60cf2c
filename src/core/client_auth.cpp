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

ports::ReadAheadKeys read_ahead_keys(std::string_view presented_id, const Request& request,
                                     const AuthThrottle* throttle, const ReadAheadRequest& ahead) {
  ports::ReadAheadKeys keys;
  keys.client_id = std::string(ClientRegistry::id_of(presented_id));
  if (throttle && throttle->reads_store() && !keys.client_id.empty())
    keys.throttle_key = keys.client_id + ' ' + request.remote_address;
  keys.grant_id = ahead.grant_id;
  keys.jti = ahead.jti;
  keys.client_grant = ahead.client_grant;
  return keys;
}

std::string presented_client_id(const Request& request, const protocol::FormParams& params) {
  if (const auto authorization = request.header("authorization");
      authorization && protocol::is_basic_scheme(*authorization)) {
    auto creds = protocol::parse_basic_auth(*authorization);
    return creds ? std::move(creds->client_id) : std::string();
  }
  const auto body_id = params.get("client_id");
  return body_id ? std::string(*body_id) : std::string();
}

ClientAuthResult authenticate_client(ClientRegistry& registry, const Request& request,
                                     const protocol::FormParams& params, AuthThrottle* throttle, base::UnixSeconds now,
                                     const ReadAheadRequest& ahead) {
  const auto authorization = request.header("authorization");
  const bool basic = authorization && protocol::is_basic_scheme(*authorization);
  std::string id;
  std::string secret;
  if (basic) {
    if (request.header_count("authorization") != 1)
      return refused(ErrorCode::invalid_request, "two Authorization headers", basic);
    // RFC 6749 section 2.3.1: the client MUST NOT use more than one authentication method.
    if (params.has("client_secret"))
      return refused(ErrorCode::invalid_request, "Basic and client_secret together", basic);
    auto creds = protocol::parse_basic_auth(*authorization);
    if (!creds) return refused(ErrorCode::invalid_client, "malformed Basic credentials", basic);
    id = std::move(creds->client_id);
    secret = std::move(creds->client_secret);
  } else {
    const auto body_id = params.get("client_id");
    const auto body_secret = params.get("client_secret");
    if (!body_id || !body_secret) return refused(ErrorCode::invalid_client, "no client authentication", basic);
    id = std::string(*body_id);
    secret = std::string(*body_secret);
  }
  if (ahead.scope) {
    // Everything this request reads next, in one go where the store can (the client, its failure count, the grant).
    auto keys = read_ahead_keys(id, request, throttle, ahead);
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
