#include "store/sqlite/sqlite_legacy_token_store.hpp"

#include <string>

#include "core/ports/storage_error.hpp"
#include "store/sqlite/sqlite_grant_store.hpp"

namespace boltauth::store::sqlite {
namespace {

using core::model::LegacyToken;
using core::model::TokenType;
using core::ports::StorageError;

// Stored as fixed numbers since migration 1: 0 access, 1 refresh.
TokenType decode_type(std::int64_t value) {
  if (value == 0) return TokenType::access_token;
  if (value == 1) return TokenType::refresh_token;
  throw StorageError("sqlite: corrupt token type " + std::to_string(value), false);
}

}  // namespace

std::optional<LegacyToken> SqliteLegacyTokenStore::find_legacy_token(std::string_view hash) {
  return db_.read([&](Connection& c) -> std::optional<LegacyToken> {
    auto st = c.prepare(
        "SELECT t.hash, t.type, t.grant_id, t.client_id, t.sub, t.scope, t.issued_at, t.expires_at, t.used_at, "
        "t.revoked_at, t.replayed, (g.id IS NULL OR g.revoked_at IS NOT NULL), coalesce(g.auth_time, 0), g.migrated_to "
        "FROM legacy_tokens t LEFT JOIN legacy_grants g ON g.id = t.grant_id WHERE t.hash = ?1");
    st.bind_text(1, hash);
    if (!st.step()) return std::nullopt;
    LegacyToken token;
    token.hash = st.column_text(0);
    token.type = decode_type(st.column_int(1));
    token.grant_id = st.column_text(2);
    token.client_id = st.column_text(3);
    token.sub = st.column_text(4);
    token.scope = st.column_text(5);
    token.issued_at = st.column_int(6);
    token.expires_at = st.column_int(7);
    token.used_at = st.column_optional_int(8);
    token.revoked_at = st.column_optional_int(9);
    token.replayed = st.column_bool(10);
    token.grant_revoked = st.column_bool(11);
    token.auth_time = st.column_int(12);
    token.migrated_to = st.column_optional_int(13);
    return token;
  });
}

std::optional<std::int64_t> SqliteLegacyTokenStore::migrate_refresh(std::string_view hash, base::UnixSeconds now,
                                                                    const core::model::Grant& grant) {
  return db_.write([&](Connection& c) -> Kept<std::optional<std::int64_t>> {
    // Single use: the conditional UPDATE of the legacy token decides, as rotation did before the upgrade.
    // EXISTS: a primary-key probe of the family, not a scan.
    const int changed = c.prepare(
                             "UPDATE legacy_tokens SET used_at = ?2 "
                             "WHERE hash = ?1 AND type = 1 AND used_at IS NULL AND revoked_at IS NULL "
                             "AND expires_at > ?2 AND EXISTS (SELECT 1 FROM legacy_grants g "
                             "WHERE g.id = legacy_tokens.grant_id AND g.revoked_at IS NULL)")
                            .bind_text(1, hash)
                            .bind_int(2, now)
                            .run();
    if (changed != 1) return rollback(std::optional<std::int64_t>());
    const std::int64_t id = SqliteGrantStore::insert_row(c, grant);
    // The link makes a later reuse of the legacy token (revoke_legacy_grant) revoke the new grant too.
    c.prepare(
         "UPDATE legacy_grants SET migrated_to = ?2 WHERE id = (SELECT grant_id FROM legacy_tokens WHERE hash = ?1)")
        .bind_text(1, hash)
        .bind_int(2, id)
        .run();
    return keep(std::optional<std::int64_t>(id));
  });
}

void SqliteLegacyTokenStore::revoke_legacy_grant(std::string_view legacy_grant_id, base::UnixSeconds now) {
  db_.write([&](Connection& c) {
    c.prepare("UPDATE legacy_grants SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
        .bind_text(1, legacy_grant_id)
        .bind_int(2, now)
        .run();
    // Also when the family was revoked before: the grant it moved into must never outlive it.
    c.prepare(
         "UPDATE grants SET revoked_at = ?2 WHERE id = (SELECT migrated_to FROM legacy_grants WHERE id = ?1) "
         "AND revoked_at IS NULL")
        .bind_text(1, legacy_grant_id)
        .bind_int(2, now)
        .run();
  });
}

void SqliteLegacyTokenStore::revoke_legacy_token(std::string_view hash, base::UnixSeconds now) {
  db_.write([&](Connection& c) {
    c.prepare("UPDATE legacy_tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL")
        .bind_text(1, hash)
        .bind_int(2, now)
        .run();
  });
}

}  // namespace boltauth::store::sqlite
