#include "store/sqlite/sqlite_grant_store.hpp"

#include <sqlite3.h>

#include <string>

#include "core/ports/storage_error.hpp"
#include "store/common/column_codec.hpp"

namespace boltauth::store::sqlite {
namespace {

using common::encode_jti;
using core::model::Grant;
using core::model::GrantKind;
using core::ports::ConsumeOutcome;
using core::ports::StorageError;

const std::string grant_columns(common::grant_columns);  // after id, in read_grant's order
const std::string insert_grant_sql = "INSERT INTO grants (" + grant_columns +
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                                     "?16, ?17, ?18, ?19)";
const std::string select_grant_sql = "SELECT id, " + grant_columns + " FROM grants WHERE id = ?1";
// The same columns qualified with `g.` for the token view's join (the list itself stays in one place).
std::string qualified(const std::string& columns) {
  std::string out = "g.";
  for (char ch : columns) {
    out += ch;
    if (ch == ' ') out += "g.";
  }
  return out;
}
const std::string select_view_sql =
    "SELECT g.id, " + qualified(grant_columns) +
    ", EXISTS (SELECT 1 FROM denied_tokens d WHERE d.grant_id = g.id AND d.jti = ?2), a.sub IS NOT NULL, "
    "a.deactivate_at FROM grants g LEFT JOIN accounts a ON a.sub = g.sub WHERE g.id = ?1";
constexpr int kViewExtra = 20;  // first column after read_grant's

void bind_grant(Statement& st, const Grant& g) {
  st.bind_int(1, common::encode_grant_kind(g.kind))
      .bind_text(2, g.client_id)
      .bind_text(3, g.sub)
      .bind_text(4, g.scope)
      .bind_text(5, g.redirect_uri)
      .bind_text(6, g.code_challenge)
      .bind_text(7, g.nonce)
      .bind_text(8, g.state)
      .bind_int(9, g.auth_time)
      .bind_int(10, g.created_at)
      .bind_int(11, g.code_expires_at)
      .bind_optional_int(12, g.redeemed_at)
      .bind_int(13, g.generation)
      .bind_optional_int(14, g.rotated_at)
      .bind_bool(15, g.replayed)
      .bind_int(16, g.access_floor)
      .bind_optional_int(17, g.expires_at)
      .bind_optional_int(18, g.revoked_at)
      .bind_int(19, static_cast<std::int64_t>(g.salt));
}

Grant read_grant(const Statement& st) {
  Grant g;
  g.id = st.column_int(0);
  g.kind = common::decode_grant_kind(st.column_int(1), "sqlite");
  g.client_id = st.column_text(2);
  g.sub = st.column_text(3);
  g.scope = st.column_text(4);
  g.redirect_uri = st.column_text(5);
  g.code_challenge = st.column_text(6);
  g.nonce = st.column_text(7);
  g.state = st.column_text(8);
  g.auth_time = st.column_int(9);
  g.created_at = st.column_int(10);
  g.code_expires_at = st.column_int(11);
  g.redeemed_at = st.column_optional_int(12);
  g.generation = st.column_int(13);
  g.rotated_at = st.column_optional_int(14);
  g.replayed = st.column_bool(15);
  g.access_floor = st.column_int(16);
  g.expires_at = st.column_optional_int(17);
  g.revoked_at = st.column_optional_int(18);
  g.salt = static_cast<std::uint32_t>(st.column_int(19));
  return g;
}

ConsumeOutcome outcome(int changed) { return changed == 1 ? ConsumeOutcome::consumed : ConsumeOutcome::lost; }

/// A consuming UPDATE: one statement, and the row count decides. A loss changed nothing, so it is rolled back
/// (it then does not wait for a commit when it is alone in its batch).
template <class Bind>
ConsumeOutcome consume(SqliteDatabase& db, const char* sql, Bind&& bind) {
  return db.write([&](Connection& c) {
    auto st = c.prepare(sql);
    bind(st);
    const ConsumeOutcome result = outcome(st.run());
    return Kept<ConsumeOutcome>{result, result == ConsumeOutcome::consumed};
  });
}

}  // namespace

std::int64_t SqliteGrantStore::insert_row(Connection& c, const Grant& g) {
  auto st = c.prepare(insert_grant_sql);
  bind_grant(st, g);
  st.run();
  // On the writer, under its lock: nothing else inserted in between.
  return sqlite3_last_insert_rowid(c.handle());
}

std::optional<Grant> SqliteGrantStore::find_row(Connection& c, std::int64_t id) {
  auto st = c.prepare(select_grant_sql);
  st.bind_int(1, id);
  if (!st.step()) return std::nullopt;
  return read_grant(st);
}

std::optional<core::ports::GrantView> SqliteGrantStore::find_grant_for_token(std::int64_t id, std::uint64_t jti) {
  return db_.read_own([&](Connection& c) -> std::optional<core::ports::GrantView> {
    auto st = c.prepare(select_view_sql);
    st.bind_int(1, id).bind_int(2, encode_jti(jti));
    if (!st.step()) return std::nullopt;
    core::ports::GrantView view;
    view.grant = read_grant(st);
    view.denied = st.column_bool(kViewExtra);
    view.account_exists = st.column_bool(kViewExtra + 1);
    view.account_deactivate_at = st.column_optional_int(kViewExtra + 2);
    return view;
  });
}

std::int64_t SqliteGrantStore::insert_grant(const Grant& grant) {
  return db_.write([&](Connection& c) { return insert_row(c, grant); });
}

std::optional<Grant> SqliteGrantStore::find_grant(std::int64_t id) {
  return db_.read_own([&](Connection& c) { return find_row(c, id); });
}

ConsumeOutcome SqliteGrantStore::redeem(std::int64_t id, base::UnixSeconds now, base::UnixSeconds expires_at) {
  return consume(db_,
                 "UPDATE grants SET redeemed_at = ?2, rotated_at = ?2, generation = 1, expires_at = ?3 "
                 "WHERE id = ?1 AND redeemed_at IS NULL AND revoked_at IS NULL AND ?2 < code_expires_at",
                 [&](Statement& st) { st.bind_int(1, id).bind_int(2, now).bind_int(3, expires_at); });
}

ConsumeOutcome SqliteGrantStore::rotate(std::int64_t id, std::int64_t generation, base::UnixSeconds now,
                                        base::UnixSeconds expires_at) {
  return consume(
      db_,
      "UPDATE grants SET generation = generation + 1, rotated_at = ?3, replayed = 0, expires_at = ?4 "
      "WHERE id = ?1 AND generation = ?2 AND redeemed_at IS NOT NULL AND revoked_at IS NULL",
      [&](Statement& st) { st.bind_int(1, id).bind_int(2, generation).bind_int(3, now).bind_int(4, expires_at); });
}

ConsumeOutcome SqliteGrantStore::replay(std::int64_t id, std::int64_t generation, base::UnixSeconds rotated_since,
                                        base::UnixSeconds now, base::UnixSeconds expires_at) {
  // SET expressions read the row as it was: access_floor becomes the new generation.
  return consume(
      db_,
      "UPDATE grants SET generation = generation + 1, access_floor = generation + 1, replayed = 1, "
      "rotated_at = ?4, expires_at = ?5 "
      "WHERE id = ?1 AND generation = ?2 AND replayed = 0 AND revoked_at IS NULL AND rotated_at >= ?3",
      [&](Statement& st) {
        st.bind_int(1, id).bind_int(2, generation).bind_int(3, rotated_since).bind_int(4, now).bind_int(5, expires_at);
      });
}

void SqliteGrantStore::revoke_grant(std::int64_t id, base::UnixSeconds now) {
  db_.write([&](Connection& c) {
    c.prepare("UPDATE grants SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
        .bind_int(1, id)
        .bind_int(2, now)
        .run();
  });
}

void SqliteGrantStore::deny_token(std::int64_t grant_id, std::uint64_t jti, base::UnixSeconds expires_at) {
  db_.write([&](Connection& c) {
    c.prepare("INSERT INTO denied_tokens (grant_id, jti, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
        .bind_int(1, grant_id)
        .bind_int(2, encode_jti(jti))
        .bind_int(3, expires_at)
        .run();
  });
}

bool SqliteGrantStore::is_denied(std::int64_t grant_id, std::uint64_t jti) {
  return db_.read([&](Connection& c) {
    auto st = c.prepare("SELECT 1 FROM denied_tokens WHERE grant_id = ?1 AND jti = ?2");
    st.bind_int(1, grant_id).bind_int(2, encode_jti(jti));
    return st.step();
  });
}

Grant SqliteGrantStore::client_grant(std::string_view client_id, base::UnixSeconds now, std::uint32_t salt) {
  // `kind = 1` in each query lets SQLite use the partial unique index grants_client_credentials.
  static const std::string find_sql = "SELECT id, " + grant_columns + " FROM grants WHERE client_id = ?1 AND kind = 1";
  const auto find = [&](Connection& c) -> std::optional<Grant> {
    auto st = c.prepare(find_sql);
    st.bind_text(1, client_id);
    if (!st.step()) return std::nullopt;
    return read_grant(st);
  };
  // A read connection may see the row before the commit that made it is fsynced: read_durable makes the caller's
  // answer wait for that sync, so no token leaves naming a row a power cut could take back.
  if (auto grant = db_.read_durable(find)) return std::move(*grant);
  // First use: insert unless a concurrent first call (of this or another process) got there first, then read
  // back on the writer, inside the same write, so every caller returns the one row that exists.
  return db_.write([&](Connection& c) {
    Grant grant;
    grant.kind = core::model::GrantKind::client_credentials;
    grant.salt = salt;
    grant.client_id = std::string(client_id);
    grant.sub = grant.client_id;
    grant.auth_time = now;
    grant.created_at = now;
    grant.redeemed_at = now;
    grant.generation = 1;
    grant.rotated_at = now;
    // DO NOTHING on the partial unique index: the loser of a race inserts nothing and reads the winner's row.
    static const std::string sql = insert_grant_sql + " ON CONFLICT DO NOTHING";
    auto st = c.prepare(sql);
    bind_grant(st, grant);
    st.run();
    auto found = find(c);
    if (!found) throw StorageError("sqlite: client_credentials grant missing after insert", false);
    return std::move(*found);
  });
}

}  // namespace boltauth::store::sqlite
