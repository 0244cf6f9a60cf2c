#pragma once
#include "core/ports/legacy_token_store.hpp"
#include "store/postgres/pg_database.hpp"

namespace boltauth::store::postgres {

/// LegacyTokenStore on PgDatabase. A PostgreSQL database always starts at storage v2 (PgSchema migration 1): no
/// token was ever stored there in the pre-v2 form, so there are no legacy tables and no legacy token can exist.
/// This is the complete, correct behaviour for this backend, not a stub: find_legacy_token and migrate_refresh
/// find nothing, and the revocations have nothing to revoke. None of them touches the database.
class PgLegacyTokenStore final : public core::ports::LegacyTokenStore {
 public:
  explicit PgLegacyTokenStore(PgDatabase&) {}
  std::optional<core::model::LegacyToken> find_legacy_token(std::string_view) override { return std::nullopt; }
  std::optional<std::int64_t> migrate_refresh(std::string_view, base::UnixSeconds, const core::model::Grant&) override {
    return std::nullopt;
  }
  void revoke_legacy_grant(std::string_view, base::UnixSeconds) override {}
  void revoke_legacy_token(std::string_view, base::UnixSeconds) override {}
};

}  // namespace boltauth::store::postgres
