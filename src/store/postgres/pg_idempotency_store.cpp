#include "store/postgres/pg_idempotency_store.hpp"

#include "store/postgres/pg_connection.hpp"

namespace boltauth::store::postgres {
namespace {

const PgStatement find_sql(
    "SELECT request_hash, completed, status, body, created_at FROM idempotency_keys WHERE client_id = $1 AND "
    "key = $2");
const PgStatement claim_sql(
    "INSERT INTO idempotency_keys (client_id, key, request_hash, completed, created_at) "
    "VALUES ($1, $2, $3, false, $4) ON CONFLICT DO NOTHING");
// Only a claim takes an answer: a completed record keeps its first one.
const PgStatement complete_sql(
    "UPDATE idempotency_keys SET completed = true, status = $3, body = $4 WHERE client_id = $1 AND key = $2 AND "
    "NOT completed");
// Never a completed record: its answer was sent, and a retry must get it again.
const PgStatement release_sql("DELETE FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND NOT completed");

}  // namespace

std::optional<core::ports::IdempotencyStore::Record> PgIdempotencyStore::find(std::string_view client_id,
                                                                              std::string_view key) {
  return db_.run([&](PgConnection& c) -> std::optional<Record> {
    const PgResult r = c.run(find_sql, {client_id, key});
    if (r.rows() == 0) return std::nullopt;
    Record record;
    record.request_hash = r.text(0, 0);
    record.completed = r.boolean(0, 1);
    record.status = static_cast<int>(r.optional_int64(0, 2).value_or(0));
    record.body = r.optional_text(0, 3).value_or("");
    record.created_at = r.int64(0, 4);
    return record;
  });
}

bool PgIdempotencyStore::claim(std::string_view client_id, std::string_view key, std::string_view request_hash,
                               base::UnixSeconds now) {
  return db_.run([&](PgConnection& c) {
    return c.run(claim_sql, {client_id, key, request_hash, now}).affected() == 1;
  });
}

void PgIdempotencyStore::complete(std::string_view client_id, std::string_view key, int status, std::string_view body) {
  db_.run([&](PgConnection& c) { c.run(complete_sql, {client_id, key, status, body}); });
}

void PgIdempotencyStore::release(std::string_view client_id, std::string_view key) {
  db_.run([&](PgConnection& c) { c.run(release_sql, {client_id, key}); });
}

}  // namespace boltauth::store::postgres
