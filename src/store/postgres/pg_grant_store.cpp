#include "store/postgres/pg_grant_store.hpp"

#include <array>
#include <string>

#include "store/common/column_codec.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_read_ahead.hpp"
#include "store/postgres/pg_rows.hpp"

namespace boltauth::store::postgres {
namespace {

using common::encode_jti;
using core::model::Grant;
using core::model::GrantKind;
using core::ports::ConsumeOutcome;
using core::ports::StorageError;

const std::string insert_grant_sql = "INSERT INTO grants (" + grant_columns +
                                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
                                     "$16, $17, $18, $19)";
const PgStatement insert_sql(insert_grant_sql + " RETURNING id");
const PgStatement find_sql("SELECT id, " + grant_columns + " FROM grants WHERE id = $1");
const PgStatement find_view_sql("SELECT g.id, " + qualified(grant_columns, "g") +
                                ", EXISTS (SELECT 1 FROM denied_tokens d WHERE d.grant_id = g.id AND d.jti = $2), "
                                "a.sub IS NOT NULL, a.deactivate_at "
                                "FROM grants g LEFT JOIN accounts a ON a.sub = g.sub WHERE g.id = $1");
const PgStatement redeem_sql(
    "UPDATE grants SET redeemed_at = $2, rotated_at = $2, generation = 1, expires_at = $3 "
    "WHERE id = $1 AND redeemed_at IS NULL AND revoked_at IS NULL AND $2 < code_expires_at");
const PgStatement rotate_sql(
    "UPDATE grants SET generation = generation + 1, rotated_at = $3, replayed = false, expires_at = $4 "
    "WHERE id = $1 AND generation = $2 AND redeemed_at IS NOT NULL AND revoked_at IS NULL");
// SET expressions read the row as it was: access_floor becomes the new generation.
const PgStatement replay_sql(
    "UPDATE grants SET generation = generation + 1, access_floor = generation + 1, replayed = true, "
    "rotated_at = $4, expires_at = $5 "
    "WHERE id = $1 AND generation = $2 AND NOT replayed AND revoked_at IS NULL AND rotated_at >= $3");
const PgStatement revoke_sql("UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL");
const PgStatement deny_sql(
    "INSERT INTO denied_tokens (grant_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING");
const PgStatement is_denied_sql("SELECT 1 FROM denied_tokens WHERE grant_id = $1 AND jti = $2");
// `kind = 1` lets the planner use the partial unique index grants_client_credentials.
const PgStatement find_client_grant_sql("SELECT id, " + grant_columns +
                                        " FROM grants WHERE client_id = $1 AND kind = 1");
// DO NOTHING on the partial unique index: the loser of a race inserts nothing (after waiting for the winner's
// transaction to end) and reads the winner's row.
const PgStatement insert_client_grant_sql(insert_grant_sql + " ON CONFLICT DO NOTHING RETURNING id, " + grant_columns);

/// The parameters of insert_grant_sql; views into `g`, which must outlive them.
std::array<PgParam, 19> grant_params(const Grant& g) {
  return {common::encode_grant_kind(g.kind),
          g.client_id,
          g.sub,
          g.scope,
          g.redirect_uri,
          g.code_challenge,
          g.nonce,
          g.state,
          g.auth_time,
          g.created_at,
          g.code_expires_at,
          g.redeemed_at,
          g.generation,
          g.rotated_at,
          g.replayed,
          g.access_floor,
          g.expires_at,
          g.revoked_at,
          static_cast<std::int64_t>(g.salt)};
}

std::optional<Grant> first_grant(const PgResult& r) {
  if (r.rows() == 0) return std::nullopt;
  return read_grant(r, 0);
}

/// A consuming UPDATE of grant `id`: one statement, and the row count decides. Concurrent ones of this process share
/// a transaction, a round trip and a WAL flush (PgDatabase::batched_update).
ConsumeOutcome consume(PgDatabase& db, const PgStatement& statement, std::int64_t id,
                       std::initializer_list<PgParam> params) {
  return db.batched_update(statement, params, id) == 1 ? ConsumeOutcome::consumed : ConsumeOutcome::lost;
}

}  // namespace

std::int64_t PgGrantStore::insert_grant(const Grant& grant) {
  const auto params = grant_params(grant);
  return db_.run([&](PgConnection& c) { return c.run(insert_sql, params).int64(0, 0); });
}

std::optional<Grant> PgGrantStore::find_grant(std::int64_t id) {
  if (auto ahead = PgReadAhead::take_grant(db_, id)) return std::move(*ahead);
  return db_.run([&](PgConnection& c) { return first_grant(c.run(find_sql, {id})); });
}

std::optional<core::ports::GrantView> PgGrantStore::find_grant_for_token(std::int64_t id, std::uint64_t jti) {
  if (auto ahead = PgReadAhead::take_grant_view(db_, id, jti)) return std::move(*ahead);
  return db_.run([&](PgConnection& c) -> std::optional<core::ports::GrantView> {
    const PgResult r = c.run(find_view_sql, {id, encode_jti(jti)});
    if (r.rows() == 0) return std::nullopt;
    core::ports::GrantView view;
    view.grant = read_grant(r, 0);
    view.denied = r.boolean(0, kGrantColumns);
    view.account_exists = r.boolean(0, kGrantColumns + 1);
    view.account_deactivate_at = r.optional_int64(0, kGrantColumns + 2);
    return view;
  });
}

ConsumeOutcome PgGrantStore::redeem(std::int64_t id, base::UnixSeconds now, base::UnixSeconds expires_at) {
  return consume(db_, redeem_sql, id, {id, now, expires_at});
}

ConsumeOutcome PgGrantStore::rotate(std::int64_t id, std::int64_t generation, base::UnixSeconds now,
                                    base::UnixSeconds expires_at) {
  return consume(db_, rotate_sql, id, {id, generation, now, expires_at});
}

ConsumeOutcome PgGrantStore::replay(std::int64_t id, std::int64_t generation, base::UnixSeconds rotated_since,
                                    base::UnixSeconds now, base::UnixSeconds expires_at) {
  return consume(db_, replay_sql, id, {id, generation, rotated_since, now, expires_at});
}

void PgGrantStore::revoke_grant(std::int64_t id, base::UnixSeconds now) {
  db_.run([&](PgConnection& c) { c.run(revoke_sql, {id, now}); });
}

void PgGrantStore::deny_token(std::int64_t grant_id, std::uint64_t jti, base::UnixSeconds expires_at) {
  db_.run([&](PgConnection& c) { c.run(deny_sql, {grant_id, encode_jti(jti), expires_at}); });
}

bool PgGrantStore::is_denied(std::int64_t grant_id, std::uint64_t jti) {
  return db_.run([&](PgConnection& c) { return c.run(is_denied_sql, {grant_id, encode_jti(jti)}).rows() == 1; });
}

Grant PgGrantStore::client_grant(std::string_view client_id, base::UnixSeconds now, std::uint32_t salt) {
  Grant grant;
  grant.kind = GrantKind::client_credentials;
  grant.salt = salt;
  grant.client_id = std::string(client_id);
  grant.sub = grant.client_id;
  grant.auth_time = now;
  grant.created_at = now;
  grant.redeemed_at = now;
  grant.generation = 1;
  grant.rotated_at = now;
  const auto params = grant_params(grant);
  // Read ahead with the client (nullopt: not asked), or read now.
  const auto ahead = PgReadAhead::take_client_grant(db_, client_id);
  if (ahead && *ahead) return std::move(**ahead);
  return db_.run([&](PgConnection& c) {
    if (!ahead)
      if (auto found = first_grant(c.run(find_client_grant_sql, {client_id}))) return std::move(*found);
    // First use. Autocommit statements: the SELECT after a lost race runs with a new snapshot, so it sees the row
    // of the transaction the INSERT waited for.
    if (auto inserted = first_grant(c.run(insert_client_grant_sql, params))) return std::move(*inserted);
    if (auto found = first_grant(c.run(find_client_grant_sql, {client_id}))) return std::move(*found);
    throw StorageError("postgres: client_credentials grant of " + grant.client_id + " vanished after insert", false);
  });
}

}  // namespace boltauth::store::postgres
