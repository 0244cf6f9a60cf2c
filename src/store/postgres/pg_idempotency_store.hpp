#pragma once
#include "core/ports/idempotency_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// IdempotencyStore on PgDatabase. A claim is one INSERT ... ON CONFLICT DO NOTHING: of any number of requests
/// (connections or nodes) claiming one key, exactly one inserts the row.
class PgIdempotencyStore final : public core::ports::IdempotencyStore {
 public:
  explicit PgIdempotencyStore(PgDatabase& db) : db_(db) {}
  std::optional<Record> find(std::string_view client_id, std::string_view key) override;
  bool claim(std::string_view client_id, std::string_view key, std::string_view request_hash,
             base::UnixSeconds now) override;
  void complete(std::string_view client_id, std::string_view key, int status, std::string_view body) override;
  void release(std::string_view client_id, std::string_view key) override;

 private:
  PgDatabase& db_;
};

}  // namespace boltauth::store::postgres
