#include "store/postgres/pg_secret_store.hpp"

#include "store/postgres/pg_connection.hpp"

namespace boltauth::store::postgres {
namespace {

const PgStatement insert_sql(
    "INSERT INTO secrets (kind, number, alg, created_at, activates_at, sealed) VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (kind, number) DO NOTHING");
const PgStatement select_sql(
    "SELECT kind, number, alg, created_at, activates_at, sealed FROM secrets WHERE kind = $1 ORDER BY number");
const PgStatement version_sql("SELECT count(*) FROM secrets");

}  // namespace

bool PgSecretStore::insert_secret(const core::ports::SecretRecord& r) {
  return db_.run([&](PgConnection& c) {
    return c.run(insert_sql, {r.kind, r.number, r.alg, r.created_at, r.activates_at, PgParam::bytes(r.sealed)})
               .affected() == 1;
  });
}

std::vector<core::ports::SecretRecord> PgSecretStore::secrets(std::string_view kind) {
  return db_.run([&](PgConnection& c) {
    const PgResult r = c.run(select_sql, {kind});
    std::vector<core::ports::SecretRecord> records;
    records.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row)
      records.push_back(
          {r.text(row, 0), r.int64(row, 1), r.text(row, 2), r.int64(row, 3), r.int64(row, 4), r.bytea(row, 5)});
    return records;
  });
}

std::int64_t PgSecretStore::secrets_version() {
  return db_.run([&](PgConnection& c) { return c.run(version_sql).int64(0, 0); });
}

}  // namespace boltauth::store::postgres
