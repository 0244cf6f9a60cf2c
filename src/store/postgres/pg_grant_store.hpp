#pragma once
#include "core/ports/grant_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// GrantStore on PgDatabase: one `grants` row per grant. Every consuming write is one conditional UPDATE of that
/// row by primary key in autocommit, decided by its row count: under READ COMMITTED, concurrent UPDATEs of one row
/// queue on its row lock and each re-checks the WHERE clause against the row the previous one committed, so
/// exactly one of them matches. A refresh is one read (find_grant_for_token) and one UPDATE, each a single round
/// trip of a prepared statement. A grant must name an existing client (foreign key); a violation is a
/// StorageError.
class PgGrantStore final : public core::ports::GrantStore {
 public:
  explicit PgGrantStore(PgDatabase& db) : db_(db) {}

  std::int64_t insert_grant(const core::model::Grant& grant) override;
  std::optional<core::model::Grant> find_grant(std::int64_t id) override;
  /// One statement: the grant LEFT JOIN its account, and an EXISTS on the deny list.
  std::optional<core::ports::GrantView> find_grant_for_token(std::int64_t id, std::uint64_t jti) override;
  core::ports::ConsumeOutcome redeem(std::int64_t id, base::UnixSeconds now, base::UnixSeconds expires_at) override;
  core::ports::ConsumeOutcome rotate(std::int64_t id, std::int64_t generation, base::UnixSeconds now,
                                     base::UnixSeconds expires_at) override;
  core::ports::ConsumeOutcome replay(std::int64_t id, std::int64_t generation, base::UnixSeconds rotated_since,
                                     base::UnixSeconds now, base::UnixSeconds expires_at) override;
  void revoke_grant(std::int64_t id, base::UnixSeconds now) override;
  void deny_token(std::int64_t grant_id, std::uint64_t jti, base::UnixSeconds expires_at) override;
  bool is_denied(std::int64_t grant_id, std::uint64_t jti) override;
  /// A row found is committed, and PostgreSQL shows a commit to other sessions only after its WAL flush
  /// (synchronous_commit = on), so the row is durable either way.
  core::model::Grant client_grant(std::string_view client_id, base::UnixSeconds now, std::uint32_t salt) override;

 private:
  PgDatabase& db_;
};

}  // namespace boltauth::store::postgres
