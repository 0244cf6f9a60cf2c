#include "core/token_service.hpp"

#include <array>

namespace boltauth::core {
namespace {

bool expired(base::UnixSeconds now, base::UnixSeconds expires_at) { return now >= expires_at; }

}  // namespace

std::string TokenService::seal(crypto::SealedPayload payload, base::UnixSeconds now) {
  std::array<std::uint8_t, 8> jti{};
  random_.fill(jti);
  payload.jti = 0;
  for (auto b : jti) payload.jti = (payload.jti << 8) | b;
  return sealers_.sealer(now)->seal(payload);
}

std::optional<crypto::SealedPayload> TokenService::open(std::string_view token, crypto::SealedKind kind,
                                                         base::UnixSeconds now) {
  auto sealer = sealers_.sealer(now);
  auto payload = sealer->open(token);
  if (!payload) {
    // Another process may have rotated the sealing key since this one last looked (KeySource reloads alike).
    auto reloaded = sealers_.reload(now);
    if (reloaded != sealer) payload = reloaded->open(token);
  }
  if (!payload || payload->kind != kind) return std::nullopt;
  return payload;
}

std::string TokenService::issue_code(model::Grant grant, base::UnixSeconds now) {
  const auto scope = protocol::parse_scope(grant.scope).scope.value_or(protocol::ScopeSet{});
  grant.kind = model::GrantKind::authorization_code;
  grant.created_at = now;
  grant.redeemed_at.reset();
  grant.generation = 0;
  grant.expires_at = grant.code_expires_at;
  const std::int64_t id = grants_.insert_grant(grant);
  crypto::SealedPayload p;
  p.kind = crypto::SealedKind::authorization_code;
  p.grant_id = id;
  p.generation = 0;
  p.issued_at = now;
  p.expires_at = grant.code_expires_at;
  p.scope_bits = scope.bits();
  return seal(p, now);
}

bool TokenService::account_active(std::string_view sub, base::UnixSeconds now) {
  auto account = accounts_.find(sub);
  return account && !(account->deactivate_at && now >= *account->deactivate_at);
}

std::optional<ResolvedToken> TokenService::resolve(std::string_view token, crypto::SealedKind kind,
                                                   base::UnixSeconds now) {
  const auto payload = open(token, kind, now);
  if (!payload) return resolve_legacy(token, kind, now);
  const auto view = grants_.find_grant_for_token(payload->grant_id, payload->jti);
  if (!view) return std::nullopt;  // purged: ids are never reused, so the token is dead for good
  const model::Grant& grant = view->grant;
  ResolvedToken r;
  r.kind = kind;
  r.client_id = grant.client_id;
  r.sub = grant.sub;
  r.scope = protocol::ScopeSet(payload->scope_bits);
  r.issued_at = payload->issued_at;
  r.expires_at = payload->expires_at;
  r.client_credentials = grant.kind == model::GrantKind::client_credentials;
  r.grant_id = grant.id;
  r.jti = payload->jti;
  bool live = !expired(now, payload->expires_at) && !grant.revoked_at && grant.redeemed_at.has_value();
  if (live && kind == crypto::SealedKind::refresh_token) {
    // Only the current generation refreshes; an older one was replaced (RFC 9700 section 4.14.2).
    live = payload->generation == grant.generation;
  }
  if (live && kind == crypto::SealedKind::access_token) live = payload->generation >= grant.access_floor && !view->denied;
  if (live && !r.client_credentials)
    live = view->account_exists && !(view->account_deactivate_at && now >= *view->account_deactivate_at);
  r.active = live;
  return r;
}

std::optional<ResolvedToken> TokenService::resolve_legacy(std::string_view token, crypto::SealedKind kind,
                                                          base::UnixSeconds now) {
  const auto legacy_kind =
      kind == crypto::SealedKind::refresh_token ? crypto::TokenKind::refresh_token : crypto::TokenKind::access_token;
  if (!minter_.verify(legacy_kind, token)) return std::nullopt;
  const std::string hash = minter_.storage_hash(token);
  auto record = legacy_.find_legacy_token(hash);
  const auto type =
      kind == crypto::SealedKind::refresh_token ? model::TokenType::refresh_token : model::TokenType::access_token;
  if (!record || record->type != type) return std::nullopt;
  ResolvedToken r;
  r.legacy = true;
  r.kind = kind;
  r.client_id = record->client_id;
  r.sub = record->sub;
  r.scope = protocol::parse_scope(record->scope).scope.value_or(protocol::ScopeSet{});
  r.issued_at = record->issued_at;
  r.expires_at = record->expires_at;
  r.client_credentials = record->sub == record->client_id;
  r.legacy_hash = hash;
  r.legacy_grant_id = record->grant_id;
  bool live = !expired(now, record->expires_at) && !record->revoked_at && !record->grant_revoked;
  if (live && kind == crypto::SealedKind::refresh_token) live = !record->used_at;
  if (live && !r.client_credentials) live = account_active(record->sub, now);
  r.active = live;
  return r;
}

}  // namespace boltauth::core
