#include "core/token_service.hpp"

#include <array>

namespace boltauth::core {
namespace {

bool expired(base::UnixSeconds now, base::UnixSeconds expires_at) { return now >= expires_at; }

}  // namespace

std::uint32_t TokenService::new_salt() {
  std::array<std::uint8_t, 4> bytes{};
  random_.fill(bytes);
  std::uint32_t salt = 0;
  for (auto b : bytes) salt = (salt << 8) | b;
  return salt;
}

std::string TokenService::seal(crypto::SealedPayload payload, std::uint32_t grant_salt, base::UnixSeconds now) {
  payload.jti = (static_cast<std::uint64_t>(grant_salt) << 32) | new_salt();
  return sealers_.sealer(now)->seal(payload);
}

std::optional<crypto::SealedPayload> TokenService::open(std::string_view token, crypto::SealedKind kind,
                                                        base::UnixSeconds now) {
  auto sealer = sealers_.sealer(now);
  auto payload = sealer->open(token);
  if (!payload) {
    // A key id this process has not loaded: another process may have rotated the sealing key since this one last
    // looked. Only then reload (forced reloads are rationed, and garbage or legacy tokens must not spend them).
    const auto id = crypto::TokenSealer::key_id_of(token);
    if (id && !sealer->has_key(*id)) {
      auto reloaded = sealers_.reload(now);
      if (reloaded != sealer) payload = reloaded->open(token);
    }
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
  grant.salt = new_salt();
  const std::int64_t id = grants_.insert_grant(grant);
  crypto::SealedPayload p;
  p.kind = crypto::SealedKind::authorization_code;
  p.grant_id = id;
  p.generation = 0;
  p.issued_at = now;
  p.expires_at = grant.code_expires_at;
  p.scope_bits = scope.bits();
  return seal(p, grant.salt, now);
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
  // Purged (ids are never handed out again), or the id names another row than the one the token was sealed for.
  if (!view || !belongs_to(*payload, view->grant)) return std::nullopt;
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
  if (live && kind == crypto::SealedKind::access_token)
    live = payload->generation >= grant.access_floor && !view->denied;
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
  if (live && record->migrated_to) {
    // The family moved into a grant row: what ends that grant (revocation, reuse, a grace replay) ends the
    // family's legacy tokens too.
    const auto moved = grants_.find_grant(*record->migrated_to);
    live = moved && !moved->revoked_at && moved->access_floor == 0;
  }
  if (live && !r.client_credentials) live = account_active(record->sub, now);
  r.active = live;
  return r;
}

}  // namespace boltauth::core
