#pragma once
#include "core/ports/legacy_token_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace boltauth::store::sqlite {

/// LegacyTokenStore on SqliteDatabase, over the tables migration 5 renamed (legacy_tokens, legacy_grants). The
/// only rows it ever creates are v2 grants (migrate_refresh).
class SqliteLegacyTokenStore final : public core::ports::LegacyTokenStore {
 public:
  explicit SqliteLegacyTokenStore(SqliteDatabase& db) : db_(db) {}
  /// A token whose family row is missing counts as revoked (fail closed).
  std::optional<core::model::LegacyToken> find_legacy_token(std::string_view hash) override;
  std::optional<std::int64_t> migrate_refresh(std::string_view hash, base::UnixSeconds now,
                                              const core::model::Grant& grant) override;
  void revoke_legacy_grant(std::string_view legacy_grant_id, base::UnixSeconds now) override;
  void revoke_legacy_token(std::string_view hash, base::UnixSeconds now) override;

 private:
  SqliteDatabase& db_;
};

}  // namespace boltauth::store::sqlite
