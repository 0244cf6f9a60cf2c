#pragma once
#include "core/ports/grant_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace boltauth::store::sqlite {

/// GrantStore on SqliteDatabase: one `grants` row per grant (migration 5). Every consuming write is one
/// conditional UPDATE of that row by integer primary key, decided by sqlite3_changes; no index covers a column a
/// rotation changes, so a refresh rewrites one row and nothing else. A grant must name an existing client
/// (foreign key); a violation is a StorageError.
class SqliteGrantStore final : public core::ports::GrantStore {
 public:
  explicit SqliteGrantStore(SqliteDatabase& db) : db_(db) {}

  std::int64_t insert_grant(const core::model::Grant& grant) override;
  /// Reads on a read connection (committed rows), except when the calling thread's deferred scope has joined
  /// the batch still open on the writer: then it reads there, and sees the caller's own uncommitted writes.
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
  core::model::Grant client_grant(std::string_view client_id, base::UnixSeconds now, std::uint32_t salt) override;

  /// Inserts a grant row inside a write (its `id` is ignored) and returns the new id. Shared with the legacy
  /// store, which moves a legacy family into a new grant.
  static std::int64_t insert_row(Connection& c, const core::model::Grant& grant);
  /// The grant row with this id, as `c` sees it.
  static std::optional<core::model::Grant> find_row(Connection& c, std::int64_t id);

 private:
  SqliteDatabase& db_;
};

}  // namespace boltauth::store::sqlite
