#include "store/sqlite/sqlite_idempotency_store.hpp"

namespace boltauth::store::sqlite {

std::optional<core::ports::IdempotencyStore::Record> SqliteIdempotencyStore::find(std::string_view client_id,
                                                                                  std::string_view key) {
  return db_.read([&](Connection& c) -> std::optional<Record> {
    auto st = c.prepare(
        "SELECT request_hash, completed, status, body, created_at FROM idempotency_keys WHERE client_id = ?1 AND "
        "key = ?2");
    st.bind_text(1, client_id).bind_text(2, key);
    if (!st.step()) return std::nullopt;
    Record record;
    record.request_hash = st.column_text(0);
    record.completed = st.column_bool(1);
    record.status = static_cast<int>(st.column_optional_int(2).value_or(0));
    record.body = st.column_optional_text(3).value_or("");
    record.created_at = st.column_int(4);
    return record;
  });
}

bool SqliteIdempotencyStore::claim(std::string_view client_id, std::string_view key, std::string_view request_hash,
                                   base::UnixSeconds now) {
  return db_.write([&](Connection& c) {
    const bool inserted = c.prepare(
                               "INSERT INTO idempotency_keys (client_id, key, request_hash, completed, created_at) "
                               "VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT DO NOTHING")
                              .bind_text(1, client_id)
                              .bind_text(2, key)
                              .bind_text(3, request_hash)
                              .bind_int(4, now)
                              .run() == 1;
    return inserted ? keep(true) : rollback(false);
  });
}

void SqliteIdempotencyStore::complete(std::string_view client_id, std::string_view key, int status,
                                      std::string_view body) {
  db_.write([&](Connection& c) {
    // Only a claim takes an answer: a completed record keeps its first one.
    c.prepare(
         "UPDATE idempotency_keys SET completed = 1, status = ?3, body = ?4 WHERE client_id = ?1 AND key = ?2 AND "
         "completed = 0")
        .bind_text(1, client_id)
        .bind_text(2, key)
        .bind_int(3, status)
        .bind_text(4, body)
        .run();
  });
}

void SqliteIdempotencyStore::release(std::string_view client_id, std::string_view key) {
  db_.write([&](Connection& c) {
    // Never a completed record: its answer was sent, and a retry must get it again.
    c.prepare("DELETE FROM idempotency_keys WHERE client_id = ?1 AND key = ?2 AND completed = 0")
        .bind_text(1, client_id)
        .bind_text(2, key)
        .run();
  });
}

}  // namespace boltauth::store::sqlite
