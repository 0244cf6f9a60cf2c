#pragma once
#include "core/ports/secret_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// SecretStore on PgDatabase: table `secrets`, primary key (kind, number), the sealed bytes in a BYTEA column.
/// Records are only ever inserted.
class PgSecretStore final : public core::ports::SecretStore {
 public:
  explicit PgSecretStore(PgDatabase& db) : db_(db) {}
  /// One INSERT ... ON CONFLICT DO NOTHING: of concurrent inserts of one (kind, number), exactly one returns true.
  bool insert_secret(const core::ports::SecretRecord& record) override;
  std::vector<core::ports::SecretRecord> secrets(std::string_view kind) override;
  /// The number of records. Records are never deleted, so every committed insert raises it. (Not the largest
  /// value of a serial column: serials are handed out at insert, not at commit, so a later commit of a smaller
  /// value would go unnoticed.)
  std::int64_t secrets_version() override;

 private:
  PgDatabase& db_;
};

}  // namespace boltauth::store::postgres
